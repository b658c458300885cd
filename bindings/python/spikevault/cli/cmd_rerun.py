"""``spikevault rerun [CAPTURE]``: capture the same process again with the same request (the
library's quick action; refused when the pid now belongs to another process)."""

from __future__ import annotations

import argparse
import json
from typing import Any, List

from .common import Context
from .pick import add_capture_argument, pick_one
from .records import record_dict

HELP = "capture a captured process again, with the same backend and duration"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rerun", help=HELP, parents=parents,
                       description=HELP + " (the library's quick action). Refused if the process has exited or its "
                                          "pid now belongs to another process (start times differ).",
                       epilog="examples:\n  spikevault rerun 12\n  spikevault rerun latest --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_argument(p)
    p.add_argument("--json", action="store_true", help="print the new record as JSON")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open_vault()
    old = pick_one(ctx, vault, args.capture, args.pick_pid)
    ctx.note(f"capturing pid {old.pid} again (as capture {old.id})")
    record = vault.rerun(old.id)
    if args.json:
        json.dump(record_dict(record), ctx.stdout, indent=2)
        ctx.stdout.write("\n")
    else:
        ctx.stdout.write(vault.summary(record.id, "text").rstrip("\n") + "\n")
    return 0
