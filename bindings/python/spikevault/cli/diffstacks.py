"""Two profiles' folded stacks compared, as Brendan Gregg's ``difffolded.pl`` pairs them
(``stack BEFORE AFTER`` per stack; with normalising, BEFORE is scaled so both totals match,
as its ``-n``), and per-frame shares for the text table (a frame counts once per stack that
contains it: the "inclusive" share of samples)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from .stacks import Node

__all__ = ["DiffStack", "pair_stacks", "frame_shares", "FrameDelta", "build_diff_tree"]


@dataclass(frozen=True)
class DiffStack:
    frames: Tuple[str, ...]
    before: float  # scaled when normalised
    after: int


@dataclass(frozen=True)
class FrameDelta:
    frame: str
    before_samples: float
    after_samples: int
    before_percent: float
    after_percent: float

    @property
    def delta_percent(self) -> float:
        return self.after_percent - self.before_percent


def _totals(stacks: List[Tuple[List[str], int]]) -> Dict[Tuple[str, ...], int]:
    out: Dict[Tuple[str, ...], int] = {}
    for frames, n in stacks:
        key = tuple(frames)
        out[key] = out.get(key, 0) + n
    return out


def pair_stacks(before: List[Tuple[List[str], int]], after: List[Tuple[List[str], int]],
                normalise: bool = True) -> Tuple[List[DiffStack], float]:
    """Every stack of either profile with both counts, sorted by stack; and the scale applied to
    BEFORE (1.0 unless normalising two totals that differ)."""
    a, b = _totals(before), _totals(after)
    total_a, total_b = sum(a.values()), sum(b.values())
    scale = (total_b / total_a) if normalise and total_a and total_b else 1.0
    keys = sorted(set(a) | set(b))
    return [DiffStack(k, a.get(k, 0) * scale, b.get(k, 0)) for k in keys], scale


def frame_shares(pairs: List[DiffStack]) -> List[FrameDelta]:
    """Per frame name: samples of the stacks containing it, before and after, as counts and as
    percentages of each side's total. Sorted by change, biggest growth first."""
    before: Dict[str, float] = {}
    after: Dict[str, int] = {}
    for p in pairs:
        for f in set(p.frames):
            before[f] = before.get(f, 0.0) + p.before
            after[f] = after.get(f, 0) + p.after
    total_a = sum(p.before for p in pairs) or 1.0
    total_b = sum(p.after for p in pairs) or 1
    rows = [FrameDelta(f, before.get(f, 0.0), after.get(f, 0), 100.0 * before.get(f, 0.0) / total_a,
                       100.0 * after.get(f, 0) / total_b) for f in set(before) | set(after)]
    return sorted(rows, key=lambda r: (-r.delta_percent, r.frame))


def build_diff_tree(pairs: List[DiffStack]) -> Node:
    """The AFTER profile's call tree (widths), each node carrying ``delta``: AFTER minus BEFORE
    of the samples whose stack ends at that node, as flamegraph.pl colours a differential."""
    root = Node("all")
    for p in pairs:
        root.count += p.after
        node = root
        for i, f in enumerate(p.frames):
            node = node.child(f)
            node.count += p.after
            if i == len(p.frames) - 1:
                node.delta += p.after - p.before
    return root
