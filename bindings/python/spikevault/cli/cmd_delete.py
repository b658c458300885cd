"""``spikevault delete CAPTURE``: delete one capture (or, with ``--all``, every capture of a
process MATCH or ``--pid``), rows and files, through ``Vault.delete``. Nothing is deleted
without ``--yes`` or a "y" typed at a terminal: a script that forgot ``--yes`` fails safe."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, List

from ..textsafe import visible
from .common import Context, UsageError
from .pick import add_capture_argument, pick_all
from .records import record_dict

HELP = "delete a capture (its rows and artefact files); asks first unless --yes"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("delete", help=HELP, parents=parents,
                       description=HELP + ". With --all, every capture of a process MATCH or --pid PID "
                                          "(never the whole vault: use purge for that). Without --yes the "
                                          "captures are listed and a confirmation is read from the terminal; "
                                          "when stdin is not a terminal, nothing is deleted.",
                       epilog="examples:\n  spikevault delete 12\n  spikevault delete latest --yes\n"
                              "  spikevault delete 'python*' --all --yes --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_argument(p, all_ok=True)
    p.add_argument("-y", "--yes", action="store_true", help="delete without asking")
    p.add_argument("--json", action="store_true", help="print the deleted records as JSON")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    if args.pick_all and (args.capture is None or args.capture.match is None) and args.pick_pid is None:
        raise UsageError("--all needs a process MATCH or --pid PID (to empty a vault use 'spikevault purge')")
    vault = ctx.open_vault()
    doomed = pick_all(ctx, vault, args.capture, args.pick_pid, every=args.pick_all)
    if not args.yes and not _confirmed(ctx, doomed):
        return 1
    for record in doomed:
        ctx.args.id = record.id  # a NotFoundError (deleted meanwhile) names the capture
        vault.delete(record.id)
    if args.json:
        json.dump({"deleted": [record_dict(r) for r in doomed]}, ctx.stdout, indent=2)
        ctx.stdout.write("\n")
    else:
        for r in doomed:
            print(f"Deleted capture {r.id} ({visible(r.process_name)}, pid {r.pid})", file=ctx.stdout)
    return 0


def _confirmed(ctx: Context, doomed: List[Any]) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("refusing to delete without --yes: stdin is not a terminal to confirm on")
    for r in doomed:
        print(f"  capture {r.id}: {visible(r.process_name)}, pid {r.pid}", file=ctx.stderr)
    ctx.stderr.write(f"Delete {len(doomed)} capture(s) and their files? [y/N] ")
    ctx.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        print("Nothing deleted.", file=ctx.stderr)
        return False
    return True
