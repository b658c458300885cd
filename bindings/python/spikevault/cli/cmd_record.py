"""``spikevault record [options] -- COMMAND ARGS...``: run a command, capture it for its
lifetime (or ``--duration``), store the capture, print its summary on stderr, and exit with
the command's own status (128+N if a signal N ended it), as ``time`` and ``py-spy record`` do.

The command runs without a shell, on the same terminal, and Ctrl-C reaches it (this process
ignores SIGINT while it runs). It is captured from the moment it has exec'd (Popen returns
then), so its name and command line are its own; a command that ends before the capture
attaches is reported as such, and its exit status is still passed through.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from typing import Any, List

from .cmd_capture import TOOL_BACKENDS
from .common import CliError, Context, UsageError
from .parsing import arg_duration, arg_metric, format_duration
from .records import record_dict

HELP = "run a command and capture it for its lifetime (exit status passed through)"
LIFETIME = 3600.0  # "for its lifetime": the capture ends when the process does (the library's longest is 1 h)
DEFAULT_INTERVAL = 0.1  # the library's sampling period when none is given
EXIT_NOT_FOUND, EXIT_NOT_RUN = 127, 126


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("record", help=HELP, parents=parents, usage="spikevault record [options] -- COMMAND [ARGS...]",
                       description="Run COMMAND (no shell), capture it from its start for its lifetime or --duration, "
                                   "store the capture, print its summary on stderr (--json: the record on stdout), and "
                                   "exit with COMMAND's exit status.",
                       epilog="examples:\n  spikevault record -- python3 app.py --port 8080\n"
                              "  spikevault record --backend perf --duration 30s -- ./server\n"
                              "  spikevault record --json -- make -j2 > record.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=TOOL_BACKENDS, default="auto", help="capture backend (default auto)")
    p.add_argument("--duration", type=arg_duration, metavar="DUR",
                   help="capture only the first DUR (default: the command's whole lifetime)")
    p.add_argument("--interval", type=arg_duration, metavar="DUR", help="sampling period (default the library's)")
    p.add_argument("--metric", type=arg_metric, default="cpu", metavar="NAME", help="metric to record (default cpu)")
    p.add_argument("--json", action="store_true", help="print the new record as JSON on stdout")
    p.set_defaults(run=run, command=[], accepts_trailing_argv=True)


def exit_status(returncode: int) -> int:
    """A shell's convention: a signal N is 128+N."""
    return 128 - returncode if returncode < 0 else returncode


def run(ctx: Context) -> int:
    from .. import NoSuchProcessError

    args = ctx.args
    if not args.command:
        raise UsageError("record needs a command after --, e.g. spikevault record -- python3 app.py")
    if args.duration is not None and args.duration <= 0:
        raise UsageError("--duration must be more than 0s")
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be more than 0s")
    if args.duration is not None and args.duration > LIFETIME:
        raise UsageError(f"--duration {format_duration(args.duration)} is longer than the longest capture, 1h")
    if args.duration is not None and args.duration < (args.interval or DEFAULT_INTERVAL):
        raise UsageError(f"--duration {format_duration(args.duration)} is shorter than the sampling interval "
                         f"{format_duration(args.interval or DEFAULT_INTERVAL)} (pass a longer --duration)")
    program = args.command[0]
    if shutil.which(program) is None:
        error = CliError(f"{program}: command not found (give a path or a program on $PATH)")
        error.exit_code = EXIT_NOT_FOUND  # as a shell says it
        raise error
    vault = ctx.open_vault(create=True)
    child = subprocess.Popen(args.command)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle
    try:
        try:
            future = vault.capture_async(child.pid, metric=args.metric, value=0.0,
                                         duration=args.duration or LIFETIME, interval=args.interval,
                                         backend=args.backend, notes={"recordedCommand": args.command})
        except NoSuchProcessError:
            future = None
        returncode = child.wait()
        try:
            record = future.result() if future is not None else None
        except NoSuchProcessError:
            record = None
    except BaseException:
        if child.poll() is None:
            child.wait()
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    status = exit_status(returncode)
    if record is None:
        ctx.stderr.write(f"spikevault record: {program} exited with status {status} before it could be captured; "
                         "nothing stored\n")
        return status
    if args.json:
        json.dump(dict(record_dict(record), exitStatus=status), ctx.stdout, indent=2)
        ctx.stdout.write("\n")
        ctx.stdout.flush()
    else:
        ctx.stderr.write(vault.summary(record.id, "text").rstrip("\n") + "\n")
        ctx.stderr.write(f"spikevault record: {program} exited with status {status}; capture {record.id} "
                         f"(see '{ctx.suggest('show', record.id)}')\n")
    return status
