"""``spikevault stats``: the library's analytics templates, in SQLite (``Vault.analytics``)
or in DuckDB (a snapshot by ``Vault.export_duckdb`` in a private scratch directory, queried
by ``spikevault.duckdb_analytics`` through the duckdb CLI, then removed)."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from typing import Any, Dict, List

from .common import Context, UsageError, private_tempdir
from .parsing import arg_metric, arg_positive_int, arg_time
from .jsonout import json_time
from .pager import paged
from .render import Column, format_value, render_table

HELP = "analytics: peak by process, captures per hour, top processes, p95 values"
TEMPLATES = {"peak": "peak-by-process", "hourly": "captures-per-hour", "top": "top-processes",
             "p95": "p95-by-process"}
TIME_COLUMNS = ("peakAt", "hourStart")  # stored time text, "YYYY-MM-DD HH:MM:SS.SSSZ" (UTC)


def json_row(row: Dict[str, Any]) -> Dict[str, Any]:
    """A row for --json: times as every verb writes them (jsonout.json_time)."""
    return {k: json_time(v) if k in TIME_COLUMNS and v is not None else v for k, v in row.items()}
VALUE_COLUMNS = ("peak", "p95")
TITLES = {"processName": "PROCESS", "triggerMetric": "METRIC", "peak": "PEAK", "peakAt": "PEAK AT",
          "captures": "CAPTURES", "hourStart": "HOUR", "rankByCount": "RANK", "p95": "P95"}


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help=HELP, parents=parents,
                       description="Run an analytics template over the captures in [--since, --until): peak (peak "
                                   "value by process and metric), hourly (captures per hour per metric), top "
                                   "(processes by capture count), p95 (95th percentile trigger value per process). "
                                   "--engine duckdb runs the same SQL in DuckDB on a snapshot of the vault "
                                   "(needs the duckdb CLI: pip install duckdb-cli, or set SPIKEVAULT_DUCKDB).",
                       epilog="examples:\n  spikevault stats --template peak --since 24h\n"
                              "  spikevault stats --template hourly --metric cpu\n"
                              "  spikevault stats --template p95 --engine duckdb --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--template", choices=tuple(TEMPLATES), default="peak", help="which analysis (default peak)")
    p.add_argument("--engine", choices=("sqlite", "duckdb"), default="sqlite",
                   help="sqlite (built in, default) or duckdb (the duckdb CLI)")
    p.add_argument("--since", type=arg_time, metavar="TIME", help="from TIME (2h, 2026-11-27T10:00, ...)")
    p.add_argument("--until", type=arg_time, metavar="TIME", help="before TIME")
    p.add_argument("--metric", type=arg_metric, metavar="NAME", help="only rows of this metric (peak and hourly)")
    p.add_argument("-n", "--limit", type=arg_positive_int, metavar="N", help="at most N rows")
    p.add_argument("--json", action="store_true", help="the rows as a JSON array (times as UTC text, docs/json.md)")
    p.set_defaults(run=run)


def _rows(ctx: Context, vault: Any, template: str) -> List[Dict[str, Any]]:
    args = ctx.args
    if args.engine == "sqlite":
        return vault.analytics(template, args.since, args.until)
    from .. import duckdb_analytics

    with private_tempdir() as scratch:
        snapshot = os.path.join(scratch, "vault.duckdb")
        # Not redacted: a private scratch file for this terminal, removed at once; both engines
        # then give the same answers (as `list`, the table shows names as stored).
        n = vault.export_duckdb(snapshot, redact=False)
        ctx.note(f"duckdb snapshot of {n} capture(s) in {snapshot}")
        return duckdb_analytics(snapshot, template, args.since, args.until)


def _cell(key: str, value: Any, row: Dict[str, Any]) -> str:
    if value is None:
        return "-"
    if key in TIME_COLUMNS and isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone()
        except ValueError:
            return value
        return when.strftime("%Y-%m-%d %H:%M" if key == "hourStart" else "%Y-%m-%d %H:%M:%S")
    if key in VALUE_COLUMNS and isinstance(value, (int, float)):
        return format_value(str(row.get("triggerMetric", "")), float(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def run(ctx: Context) -> int:
    args = ctx.args
    if args.since and args.until and args.since > args.until:
        raise UsageError("--since is later than --until (swap them)")
    if args.metric and args.template not in ("peak", "hourly"):
        raise UsageError(f"--metric works with --template peak or hourly; {args.template} is over all metrics")
    vault = ctx.open_vault()
    rows = _rows(ctx, vault, TEMPLATES[args.template])
    if args.metric:
        rows = [r for r in rows if r.get("triggerMetric") == args.metric]
    if args.limit is not None:
        rows = rows[: args.limit]
    if args.json:
        json.dump([json_row(r) for r in rows], ctx.stdout, indent=2)
        ctx.stdout.write("\n")
        return 0
    if not rows:
        print("No captures in that range.", file=ctx.stderr)
        return 0
    keys = list(rows[0].keys())
    numeric = {k for k in keys if all(isinstance(r.get(k), (int, float)) for r in rows)}
    columns = [Column(TITLES.get(k, k.upper()), "right" if k in numeric and k not in TIME_COLUMNS else "left",
                      shrinkable=k == "processName", min_width=7) for k in keys]
    table = [[_cell(k, r.get(k), r) for k in keys] for r in rows]
    with paged(ctx):
        for line in render_table(columns, table, ctx.palette, max_width=ctx.terminal_width):
            print(line, file=ctx.stdout)
    return 0
