"""``spikevault show ID``: one capture's summary, as the library writes it (text or JSON;
redacted unless ``--no-redact``)."""

from __future__ import annotations

import argparse
import json
from typing import Any, List

from .common import Context
from .parsing import arg_id

HELP = "summarise one capture (process, trigger, times, backends, sizes, top stacks, busiest threads)"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help=HELP, description=HELP + ". The home directory, the user name and secrets "
                       "in command lines are masked unless --no-redact is given.", parents=parents,
                       epilog="examples:\n  spikevault show 12\n  spikevault show 12 --json | jq .topStacks",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id", type=arg_id, metavar="ID", help="capture id (the ID column of 'spikevault list')")
    p.add_argument("--json", action="store_true", help="the summary as a JSON object")
    p.add_argument("--no-redact", action="store_true",
                   help="show paths, user name and command-line secrets as stored (default: masked)")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open_vault()
    redact = not args.no_redact
    if args.json:
        json.dump(vault.summary(args.id, "json", redact=redact), ctx.stdout, indent=2)
        ctx.stdout.write("\n")
    else:
        ctx.stdout.write(vault.summary(args.id, "text", redact=redact).rstrip("\n") + "\n")
    return 0
