"""``spikevault list``: the captures matching the filters, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from typing import Any, List, Optional

from .common import Context, add_filter_arguments, filters_from
from .pager import paged
from .records import record_dict
from .render import Column, format_value, human_size, relative_time, render_table
from .selection import _select_records

HELP = "list captures (the default verb)"
EXAMPLES = """examples:
  spikevault list --since 2h --metric cpu
  spikevault list --process 'python*' -n 20 -r
  spikevault list --json | jq '.[].id'"""

STATUS_STYLE = {"complete": "green", "partial": "yellow", "failed": "red", "missing": "red", "quarantined": "magenta"}


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help=HELP, description="List captures, oldest first (like coredumpctl list).",
                       epilog=EXAMPLES, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true", help="a JSON array of records on stdout")
    p.set_defaults(run=run)


def ordered(records: List[Any], reverse: bool) -> List[Any]:
    """Selections come newest first; shown oldest first unless -r (coredumpctl's order)."""
    return list(records) if reverse else list(reversed(records))


def table_lines(records: List[Any], ctx: Context, now: Optional[datetime] = None) -> List[str]:
    now = now or datetime.now(timezone.utc)
    columns = [Column("ID", "right"), Column("TIME"), Column("PROCESS", shrinkable=True, min_width=7),
               Column("PID", "right"), Column("METRIC"), Column("VALUE", "right"), Column("DURATION", "right"),
               Column("SIZE", "right"), Column("STATUS"), Column("ARTEFACTS", shrinkable=True, min_width=5)]
    rows, styles = [], []
    for r in records:
        status = r.status.stored_name
        rows.append([str(r.id), relative_time(r.captured_at, now), r.process_name, str(r.pid), r.metric.stored_name,
                     format_value(r.metric.stored_name, r.value), f"{r.duration:.1f}s", human_size(r.stored_bytes),
                     status, ",".join(a.kind for a in r.artefacts) or "-"])
        styles.append(["bold", None, None, None, "cyan", None, None, None, STATUS_STYLE.get(status), "dim"])
    return render_table(columns, rows, ctx.palette, styles, max_width=ctx.terminal_width)


def run(ctx: Context) -> int:
    args = ctx.args
    filters = filters_from(args)
    vault = ctx.open_vault()
    records = ordered(_select_records(vault, filters), args.reverse)
    if args.json:
        json.dump([record_dict(r) for r in records], ctx.stdout, indent=2)
        ctx.stdout.write("\n")
        return 0
    if not records:
        print("No captures." if filters.is_empty else "No captures match.", file=ctx.stderr)
        return 0
    with paged(ctx):
        for line in table_lines(records, ctx):
            print(line, file=ctx.stdout)
    return 0
