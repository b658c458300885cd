"""``spikevault show [CAPTURE]``: one capture's summary (or every match with ``--all``), as the library writes it (text or JSON;
redacted unless ``--no-redact``)."""

from __future__ import annotations

import argparse
import json
from typing import Any, List

from .common import Context
from .jsonout import normalise_times
from .pager import paged
from .pick import add_capture_argument, pick_all

HELP = "summarise one capture (process, trigger, times, backends, sizes, top stacks, busiest threads)"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help=HELP, description=HELP + ". The home directory, the user name and secrets "
                       "in command lines are masked unless --no-redact is given.", parents=parents,
                       epilog="examples:\n  spikevault show 12\n  spikevault show latest\n  spikevault show -2\n"
                              "  spikevault show python3            (its newest capture)\n"
                              "  spikevault show --pid 4242 --all\n  spikevault show 12 --json | jq .topStacks",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_argument(p, all_ok=True)
    p.add_argument("--json", action="store_true", help="the summary as a JSON object (with --all: an array)")
    p.add_argument("--no-redact", action="store_true",
                   help="show paths, user name and command-line secrets as stored (default: masked)")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open_vault()
    redact = not args.no_redact
    records = pick_all(ctx, vault, args.capture, args.pick_pid, every=args.pick_all)
    if args.json:
        docs = [normalise_times(vault.summary(r.id, "json", redact=redact)) for r in records]
        json.dump(docs if args.pick_all else docs[0], ctx.stdout, indent=2)
        ctx.stdout.write("\n")
        return 0
    with paged(ctx):
        for i, r in enumerate(records):
            if i:
                ctx.stdout.write("\n")
            ctx.stdout.write(vault.summary(r.id, "text", redact=redact).rstrip("\n") + "\n")
    return 0
