"""``spikevault show ID``: one capture's summary (text or JSON)."""

from __future__ import annotations

import argparse
import json
from typing import Any, List

from .common import Context
from .parsing import arg_id
from .records import Redactor
from .summary import summary_dict, summary_text

HELP = "summarise one capture (process, trigger, times, backends, sizes, top stacks)"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help=HELP, description=HELP + ".", parents=parents,
                       epilog="examples:\n  spikevault show 12\n  spikevault show 12 --json | jq .topStacks",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id", type=arg_id, metavar="ID", help="capture id (the ID column of 'spikevault list')")
    p.add_argument("--json", action="store_true", help="the summary as a JSON object")
    p.add_argument("--top", type=int, default=5, metavar="N", help="how many stacks and threads (default 5)")
    p.add_argument("--no-redact", action="store_true",
                   help="show the home directory and user name as stored (default: ~ and <user>)")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open_vault()
    record = vault.get(args.id)
    d = summary_dict(vault, record, None if args.no_redact else Redactor(), top=max(1, args.top))
    if args.json:
        json.dump(d, ctx.stdout, indent=2)
        ctx.stdout.write("\n")
    else:
        print(summary_text(d), file=ctx.stdout)
    return 0
