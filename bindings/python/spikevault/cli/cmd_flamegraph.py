"""``spikevault flamegraph ID``: an interactive SVG flame graph (the CLI's own writer, fed
with the library's folded stacks), or the library's speedscope JSON. Frames are redacted by
the library (home directory, user name, secrets) unless ``--no-redact``."""

from __future__ import annotations

import argparse
import os
from typing import Any, List, Optional

from .common import CliError, Context, UsageError, check_output_path, copy_to_stdout, exported_stacks, \
    library_output, private_tempdir, write_atomically
from .flamesvg import flamegraph_svg
from .pick import add_capture_argument, pick_one
from .render import utc_time

HELP = "draw a capture's stacks as an interactive SVG flame graph (or speedscope JSON)"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("flamegraph", help=HELP, parents=parents,
                       description="Draw a capture's folded stacks as an interactive SVG flame graph (hover for "
                                   "details, click to zoom, Search or Ctrl-F for a regex), or write them as "
                                   "speedscope JSON (open at https://www.speedscope.app or with the speedscope CLI). "
                                   "Frames are redacted (home directory, user name, secrets) unless --no-redact. "
                                   "An existing FILE is replaced.",
                       epilog="examples:\n  spikevault flamegraph 12 -o hot.svg\n"
                              "  spikevault flamegraph 12 --kind offcpu.folded -o waits.svg\n"
                              "  spikevault flamegraph 12 --format speedscope -o hot.speedscope.json\n"
                              "  spikevault flamegraph 12 --format pprof -o cpu.pb.gz && go tool pprof -top cpu.pb.gz",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_argument(p)
    p.add_argument("-o", "--output", metavar="FILE", default="-", help="output file (default: stdout)")
    p.add_argument("--kind", metavar="K", help="stack artefact (default: oncpu.folded, else the first *.folded)")
    p.add_argument("--format", choices=("svg", "speedscope", "pprof"), default="svg",
                   help="svg (default), speedscope, or pprof (gzip profile.proto for go tool pprof, Pyroscope, Parca)")
    p.add_argument("--title", help="title of the SVG (default: process, pid, stack kind)")
    redaction = p.add_mutually_exclusive_group()
    redaction.add_argument("--redact", dest="no_redact", action="store_false",
                           help="mask secrets, the home directory and user name in frames (the default)")
    redaction.add_argument("--no-redact", dest="no_redact", action="store_true", help="frames as captured")
    p.set_defaults(run=run, no_redact=False)  # both flags share a dest: argparse would take the first one's default


def default_stack_kind(record: Any) -> Optional[str]:
    """The library's choice (docs/review.md): ``oncpu.folded``, else the first ``*.folded``."""
    kinds = [a.kind for a in record.artefacts]
    if "oncpu.folded" in kinds:
        return "oncpu.folded"
    return next((k for k in kinds if k.endswith(".folded")), None)


def run(ctx: Context) -> int:
    args = ctx.args
    if args.title is not None and args.format != "svg":
        raise UsageError("--title is for --format svg (speedscope and pprof files are named by the library)")
    to_stdout = args.output == "-"
    if args.format == "pprof" and to_stdout and ctx.stdout.isatty():
        raise UsageError("refusing to write binary pprof data to a terminal: use -o FILE or a pipe")
    if not to_stdout:
        check_output_path(args.output, overwrite=True)
    vault = ctx.open_vault()
    record = pick_one(ctx, vault, args.capture, args.pick_pid)
    kinds = [a.kind for a in record.artefacts]
    kind = args.kind or default_stack_kind(record)
    if kind is None:
        raise CliError(f"capture {record.id} has no stack artefact (it has: {', '.join(kinds) or 'none'}); "
                       "capture with --backend auto, eu-stack, perf or gdb to get stacks")
    if kind not in kinds:
        raise CliError(f"capture {record.id} has no {kind!r} artefact (it has: {', '.join(kinds)})")
    redact = not args.no_redact
    stacks = exported_stacks(vault, record, kind, redact)
    with private_tempdir() as scratch:
        if args.format in ("speedscope", "pprof"):
            dest = os.path.join(scratch, f"stacks.{args.format}") if to_stdout else args.output
            with library_output(dest):
                vault.export_stacks(record.id, dest, args.format, kind=kind, redact=redact, overwrite=True)
            if to_stdout:
                copy_to_stdout(ctx, dest)
            else:
                ctx.note(f"wrote {args.output} ({os.path.getsize(args.output)} bytes)")
            return 0
    name = record.process_name
    if redact:  # the title names the process as the library's redacted exports do
        name = str(vault.summary(record.id, "json").get("processName", name))
    title = args.title or f"{name} (pid {record.pid}) {kind}"
    subtitle = (f"capture {record.id}, {record.metric.stored_name} {record.value:g}, "
                f"{utc_time(record.captured_at)}, {record.duration:.1f}s")  # no "9 s ago": the file outlives the moment
    data = flamegraph_svg(stacks, title=title, subtitle=subtitle).encode()
    if to_stdout:
        ctx.stdout.flush()
        buf = getattr(ctx.stdout, "buffer", None)
        if buf is not None:
            buf.write(data)
            buf.flush()
        else:
            ctx.stdout.write(data.decode())
    else:
        write_atomically(args.output, data)
        ctx.note(f"wrote {args.output} ({len(data)} bytes)")
    return 0
