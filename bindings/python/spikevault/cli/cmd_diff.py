"""``spikevault diff A [B]``: what changed between two captures' stacks (or, given one capture,
between its pre-trigger history and the capture): a table of the frames whose share of
samples grew and shrank, a differential flame graph (``-o FILE.svg``: widths from B, red
where B's own samples grew, blue where they shrank, as difffolded.pl + flamegraph.pl draw
it), or JSON. Counts of A are scaled to B's total unless ``--no-normalise``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, List, Optional, Tuple

from ..textsafe import visible
from .common import CliError, Context, check_output_path, write_atomically
from .diffstacks import FrameDelta, build_diff_tree, frame_shares, pair_stacks
from .flamesvg import diff_colour, diff_info, flamegraph_svg
from .jsonout import json_time
from .pager import paged
from .parsing import arg_positive_int
from .pick import add_capture_argument, pick_one
from .render import Column, render_table, utc_time
from .stacks import parse_folded

HELP = "compare two captures' stacks: frames that grew and shrank, a differential flame graph, JSON"
HISTORY_KINDS = ("history.folded", "pretrigger.folded", "pre-trigger.folded", "history.oncpu.folded")


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("diff", help=HELP, parents=parents,
                       description="Compare the stacks of capture A (before) with capture B (after). With only A, "
                                   "compare A's pre-trigger history with A itself. The table lists the frames whose "
                                   "share of samples grew most and shrank most; -o writes a differential flame graph "
                                   "(red: grew, blue: shrank; widths from B). Frames are redacted unless --no-redact.",
                       epilog="examples:\n  spikevault diff 11 12\n  spikevault diff -2 -1 -o diff.svg\n"
                              "  spikevault diff 'python*' latest --json | jq '.frames[:5]'\n"
                              "  spikevault diff 12                  (its history before the trigger vs the capture)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_argument(p, dest="before", pid_ok=False, required=True, metavar="A")
    add_capture_argument(p, dest="after", pid_ok=False, metavar="B")
    p.add_argument("-o", "--output", metavar="FILE", help="also write the differential flame graph SVG to FILE")
    p.add_argument("--kind", metavar="K", help="stack artefact to compare (default: oncpu.folded, else the first *.folded)")
    p.add_argument("-n", "--top", type=arg_positive_int, default=10, metavar="N",
                   help="rows of grown and of shrunk frames in the table (default 10)")
    p.add_argument("--no-normalise", "--no-normalize", dest="normalise", action="store_false",
                   help="compare raw sample counts (default: A scaled to B's total, as difffolded.pl -n)")
    p.add_argument("--json", action="store_true", help="the comparison as JSON on stdout")
    p.add_argument("--no-redact", action="store_true", help="frames as captured (default: masked)")
    p.set_defaults(run=run)


def _stack_kind(record: Any, wanted: Optional[str]) -> str:
    kinds = [a.kind for a in record.artefacts]
    if wanted:
        if wanted not in kinds:
            raise CliError(f"capture {record.id} has no {wanted!r} artefact (it has: {', '.join(kinds) or 'none'})")
        return wanted
    for k in ["oncpu.folded"] + [k for k in kinds if k.endswith(".folded") and k not in HISTORY_KINDS]:
        if k in kinds:
            return k
    raise CliError(f"capture {record.id} has no stack artefact (it has: {', '.join(kinds) or 'none'}); "
                   "capture with --backend auto, eu-stack, perf or gdb to get stacks")


def _stacks(vault: Any, record: Any, kind: str, redact: bool, scratch: str) -> List[Tuple[List[str], int]]:
    from .common import private_tempdir

    with private_tempdir() as d:
        dest = os.path.join(d, "stacks.folded")
        vault.export_stacks(record.id, dest, "folded", kind=kind, redact=redact)
        with open(dest, "rb") as f:
            stacks = parse_folded(f.read())
    if not stacks:
        raise CliError(f"the {kind} artefact of capture {record.id} holds no stacks")
    return stacks


STATE_ROOTS = ("[on-cpu]", "[off-cpu]")


def _by_state(stacks: List[Tuple[List[str], int]], other_kind: str) -> List[Tuple[List[str], int]]:
    """The monitor's history.folded roots each stack at [on-cpu] or [off-cpu]: keep the state
    the other side's artefact holds (offcpu.folded: off-CPU, else on-CPU), root removed, so the
    two sides compare like with like."""
    if not stacks or not all(frames and frames[0] in STATE_ROOTS for frames, _ in stacks):
        return stacks
    want = "[off-cpu]" if other_kind.startswith("offcpu") else "[on-cpu]"
    return [(frames[1:], n) for frames, n in stacks if frames[0] == want and len(frames) > 1]


def _side(record: Any, kind: str, samples: int) -> dict:
    return {"id": record.id, "processName": record.process_name, "pid": record.pid, "kind": kind,
            "capturedAt": json_time(record.captured_at), "samples": samples}


def _table(ctx: Context, rows: List[FrameDelta], top: int) -> List[str]:
    grew = [r for r in rows if r.delta_percent > 0.005][:top]
    shrank = [r for r in reversed(rows) if r.delta_percent < -0.005][:top]
    columns = [Column("CHANGE", "right"), Column("BEFORE", "right"), Column("AFTER", "right"),
               Column("FRAME", shrinkable=True, min_width=10)]
    lines: List[str] = []
    for title, part, style in (("grew", grew, "red"), ("shrank", shrank, "blue")):
        if not part:
            lines.append(f"No frame {title}.")
            continue
        body = [[f"{r.delta_percent:+.1f}%", f"{r.before_percent:.1f}%", f"{r.after_percent:.1f}%", r.frame]
                for r in part]
        styles = [[style, None, None, None] for _ in part]
        lines.append(ctx.palette.paint(f"Frames that {title} (share of samples, A → B):", "bold"))
        lines += render_table(columns, body, ctx.palette, styles, max_width=ctx.terminal_width)
    return lines


def run(ctx: Context) -> int:
    args = ctx.args
    if args.output:
        check_output_path(args.output, overwrite=True)
    redact = not args.no_redact
    vault = ctx.open_vault()
    a = pick_one(ctx, vault, args.before)
    if args.after is None:
        history = next((k for k in HISTORY_KINDS if k in [x.kind for x in a.artefacts]), None)
        if history is None:
            raise CliError(f"capture {a.id} has no pre-trigger history to compare with; name a second capture "
                           f"('{ctx.suggest('diff', a.id, 'B')}')")
        b, kind_a, kind_b = a, history, _stack_kind(a, args.kind)
    else:
        b = pick_one(ctx, vault, args.after)
        kind_a, kind_b = _stack_kind(a, args.kind), _stack_kind(b, args.kind)
    before = _by_state(_stacks(vault, a, kind_a, redact, ""), kind_b)
    after = _by_state(_stacks(vault, b, kind_b, redact, ""), kind_a)
    if not before or not after:
        raise CliError(f"no {'off' if kind_b.startswith('offcpu') else 'on'}-CPU stacks in capture {a.id}'s {kind_a} "
                       f"to compare with {kind_b}")
    pairs, scale = pair_stacks(before, after, normalise=args.normalise)
    rows = frame_shares(pairs)
    label_a = f"capture {a.id}" + (f" {kind_a}" if a.id == b.id else "")
    if args.output:
        root = build_diff_tree(pairs)
        maxdelta = max((abs(n) for n in _deltas(root)), default=0.0)
        title = f"Differential: {label_a} → capture {b.id} ({b.process_name}, pid {b.pid})"
        subtitle = (f"widths: capture {b.id} ({utc_time(b.captured_at)}); red grew, blue shrank"
                    + (f"; A scaled ×{scale:.3g} to B's total" if scale != 1.0 else ""))
        data = flamegraph_svg([], title=title, subtitle=subtitle, root=root, colour=diff_colour(maxdelta),
                              info=diff_info(root.count)).encode()
        write_atomically(args.output, data)
        ctx.note(f"wrote {args.output} ({len(data)} bytes)", level=0 if not args.json else 1)
    if args.json:
        doc = {"before": _side(a, kind_a, sum(n for _, n in before)), "after": _side(b, kind_b, sum(n for _, n in after)),
               "normalised": args.normalise, "scale": scale,
               "frames": [{"frame": r.frame, "beforeSamples": round(r.before_samples, 3), "afterSamples": r.after_samples,
                           "beforePercent": round(r.before_percent, 3), "afterPercent": round(r.after_percent, 3),
                           "deltaPercent": round(r.delta_percent, 3)} for r in rows],
               "stacks": [{"frames": list(p.frames), "before": round(p.before, 3), "after": p.after} for p in pairs]}
        json.dump(doc, ctx.stdout, indent=2)
        ctx.stdout.write("\n")
        return 0
    with paged(ctx):
        ctx.stdout.write(f"A: {label_a} ({visible(a.process_name)}, pid {a.pid}), {sum(n for _, n in before)} samples\n"
                         f"B: capture {b.id} ({visible(b.process_name)}, pid {b.pid}), {sum(n for _, n in after)} samples"
                         + (f"; A scaled ×{scale:.3g} to B's total" if scale != 1.0 else "") + "\n")
        for line in _table(ctx, rows, args.top):
            ctx.stdout.write(line + "\n")
    return 0


def _deltas(node: Any) -> List[float]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n.delta)
        stack.extend(n.children.values())
    return out
