"""``spikevault flamegraph ID``: an interactive SVG flame graph, or speedscope JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any, List

from .. import __version__
from .common import CliError, Context, write_atomically
from .flamesvg import flamegraph_svg
from .parsing import arg_id
from .render import relative_time, utc_time
from .stacks import parse_folded, to_speedscope
from .summary import _stack_kind

HELP = "draw a capture's stacks as an interactive SVG flame graph (or speedscope JSON)"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("flamegraph", help=HELP, parents=parents,
                       description="Draw a capture's folded stacks as an interactive SVG flame graph (hover for "
                                   "details, click to zoom, Search or Ctrl-F for a regex), or write them as "
                                   "speedscope JSON (open at https://www.speedscope.app or with the speedscope CLI).",
                       epilog="examples:\n  spikevault flamegraph 12 -o hot.svg\n"
                              "  spikevault flamegraph 12 --kind offcpu.folded -o waits.svg\n"
                              "  spikevault flamegraph 12 --format speedscope -o hot.speedscope.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id", type=arg_id, metavar="ID", help="capture id")
    p.add_argument("-o", "--output", metavar="FILE", default="-", help="output file (default: stdout)")
    p.add_argument("--kind", metavar="K", help="stack artefact (default: oncpu.folded, else offcpu.folded)")
    p.add_argument("--format", choices=("svg", "speedscope"), default="svg", help="svg (default) or speedscope")
    p.add_argument("--title", help="title of the graph (default: process, pid, metric, time)")
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open_vault()
    record = vault.get(args.id)
    kinds = [a.kind for a in record.artefacts]
    kind = args.kind or _stack_kind(record)
    if kind is None:
        raise CliError(f"capture {record.id} has no stack artefact (it has: {', '.join(kinds) or 'none'}); "
                       "capture with --backend auto, eu-stack, perf or gdb to get stacks")
    if kind not in kinds:
        raise CliError(f"capture {record.id} has no {kind!r} artefact (it has: {', '.join(kinds)})")
    stacks = parse_folded(vault.read_artefact(record.id, kind))
    if not stacks:
        raise CliError(f"the {kind} artefact of capture {record.id} holds no stacks in folded format "
                       "('frame;frame;... COUNT' lines)")
    title = args.title or f"{record.process_name} (pid {record.pid}) {kind}"
    if args.format == "speedscope":
        doc = to_speedscope(stacks, title, f"spikevault {__version__}")
        data = (json.dumps(doc, separators=(",", ":")) + "\n").encode()
    else:
        subtitle = (f"capture {record.id}, {record.metric.stored_name} {record.value:g}, "
                    f"{utc_time(record.captured_at)} ({relative_time(record.captured_at)}), {record.duration:.1f}s")
        data = flamegraph_svg(stacks, title=title, subtitle=subtitle).encode()
    if args.output == "-":
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
