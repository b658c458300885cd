"""``spikevault capture PID``: capture a live process now, with a countdown on a terminal."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, List

from .common import Context, UsageError
from .parsing import arg_duration, arg_float, arg_metric, arg_pid, arg_positive_int, arg_rate, format_duration
from .progress import Countdown
from .records import record_dict

HELP = "capture what a process is doing now (stacks and /proc samples)"
BACKENDS = ("auto", "procfs", "eu-stack", "perf", "gdb", "py-spy", "command", "sample", "spindump")
# Every verb's --backend choices (record, top, watch, rules files): all but `command`, whose argv
# only `capture ... -- TOOL {pid}` can give.
TOOL_BACKENDS = tuple(b for b in BACKENDS if b != "command")


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("capture", help=HELP, parents=parents,
                       usage="spikevault capture [options] PID [-- ARGV...]",
                       description="Capture process PID for --duration and store it in the vault, then print the "
                                   "new record. A countdown is shown on a terminal; Ctrl-C cancels. With --backend command, "
                                   "the tool's argv follows --; {pid}, {duration} and {output} are replaced in it "
                                   "(no shell).",
                       epilog="examples:\n  spikevault capture 4242\n"
                              "  spikevault capture 4242 --metric cpu --value 93 --duration 10s --backend perf\n"
                              "  spikevault capture 4242 --backend command -- pstack {pid}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pid", type=arg_pid, metavar="PID", help="process to capture")
    p.add_argument("--metric", type=arg_metric, default="cpu", metavar="NAME",
                   help="the trigger metric to record (default cpu)")
    p.add_argument("--value", type=arg_float, default=0.0, metavar="X", help="the trigger value to record (default 0)")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help="capture backend (default auto)")
    p.add_argument("--duration", type=arg_duration, default=5.0, metavar="DUR", help="how long, e.g. 5s (default 5s)")
    p.add_argument("--interval", type=arg_duration, metavar="DUR", help="sampling period (default 100ms)")
    p.add_argument("--rate", type=arg_rate, metavar="HZ",
                   help="stack sampling rate (default: perf 999, py-spy 100, eu-stack/gdb one per --interval; "
                        "at most 10000, py-spy 1000, eu-stack 100, gdb 10)")
    p.add_argument("--perf-frequency", type=arg_positive_int, metavar="HZ", help="older name of --rate (whole Hz)")
    p.add_argument("--collectors", metavar="LIST",
                   help="metric collectors, comma-separated: fds, threads, memory, diskIO, network ('' for none; "
                        "default: auto picks by --metric)")
    p.add_argument("--notes", metavar="JSON", help='a JSON object stored with the capture, e.g. \'{"ticket": "OPS-1"}\'')
    p.add_argument("--json", action="store_true", help="print the new record as JSON")
    # The argv after `--` is split off by main before parsing (argparse cannot mix an
    # optional-heavy verb with a trailing nargs="*" positional reliably).
    p.set_defaults(run=run, command=[], accepts_trailing_argv=True)


def run(ctx: Context) -> int:
    args = ctx.args
    if args.command and args.backend != "command":
        raise UsageError(f"a command was given but --backend is {args.backend}: pass --backend command")
    if args.backend == "command" and not args.command:
        raise UsageError("--backend command needs the tool's argv after --, e.g. -- pstack {pid}")
    if args.duration <= 0:
        raise UsageError("--duration must be more than 0s")
    if args.duration < (args.interval or 0.1):  # checked here, before the library (default interval 100ms)
        raise UsageError(f"--duration {format_duration(args.duration)} is shorter than the sampling interval "
                         f"{format_duration(args.interval or 0.1)} (pass a longer --duration or a shorter --interval)")
    if args.rate is not None and args.perf_frequency is not None:
        raise UsageError("--perf-frequency is the older name of --rate: pass only --rate")
    rate = args.rate if args.rate is not None else args.perf_frequency
    notes = None
    if args.notes is not None:
        try:
            notes = json.loads(args.notes)
        except ValueError as exc:
            raise UsageError(f"--notes is not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(notes, dict):
            raise UsageError("--notes must be a JSON object, e.g. '{\"ticket\": \"OPS-1\"}'")
    vault = ctx.open_vault(create=True)
    future = vault.capture_async(args.pid, metric=args.metric, value=args.value, duration=args.duration,
                                 interval=args.interval, backend=args.backend, notes=notes,
                                 command=args.command or None, rate=rate,
                                 collectors=None if args.collectors is None
                                 else [c.strip() for c in args.collectors.split(",") if c.strip()])
    label = f"Capturing pid {args.pid} with {args.backend} for {format_duration(args.duration)}"
    try:
        with Countdown(ctx.stderr, args.duration, label) as countdown:
            while not future.done():
                countdown.tick()
                time.sleep(0.1)
        record = future.result()
    except KeyboardInterrupt:
        future.cancel()
        print("spikevault: capture: cancelled; nothing stored", file=ctx.stderr)
        return 130
    if args.json:
        json.dump(record_dict(record), ctx.stdout, indent=2)
        ctx.stdout.write("\n")
    else:
        ctx.stdout.write(vault.summary(record.id, "text").rstrip("\n") + "\n")
    return 0
