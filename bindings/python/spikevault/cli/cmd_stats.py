"""``spikevault stats``: the analytics templates (waits for issue 5's analytics API)."""

from __future__ import annotations

import argparse
from typing import Any, List

from .common import Context, WaitingForLibrary
from .parsing import arg_metric, arg_positive_int, arg_time

HELP = "analytics: peak by process, captures per hour, top processes, p95 values"
TEMPLATES = ("peak", "hourly", "top", "p95")


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help=HELP, parents=parents,
                       description="Run an analytics template over the captures in a time range: peak (peak value "
                                   "by process and metric), hourly (captures per hour per metric), top (processes "
                                   "by capture count), p95 (95th percentile trigger value per process).",
                       epilog="examples:\n  spikevault stats --template peak --since 24h\n"
                              "  spikevault stats --template p95 --engine duckdb --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--template", choices=TEMPLATES, default="peak", help="which analysis (default peak)")
    p.add_argument("--engine", choices=("sqlite", "duckdb"), default="sqlite",
                   help="sqlite (built in, default) or duckdb (the duckdb CLI on PATH)")
    p.add_argument("--since", type=arg_time, metavar="TIME", help="from TIME (2h, 2026-11-27T10:00, ...)")
    p.add_argument("--until", type=arg_time, metavar="TIME", help="up to TIME")
    p.add_argument("--metric", type=arg_metric, metavar="NAME", help="only this metric")
    p.add_argument("-n", "--limit", type=arg_positive_int, metavar="N", help="at most N rows")
    p.add_argument("--json", action="store_true", help="rows as JSON")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    from .common import UsageError

    args = ctx.args
    if args.since and args.until and args.since > args.until:
        raise UsageError("--since is later than --until (swap them)")
    raise WaitingForLibrary(f"stats --template {args.template} --engine {args.engine}", "analytics (issue 5)")
