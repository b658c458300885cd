"""A capture's stacks for the browser: the folded artefact (on-CPU, off-CPU, the monitor's
history before the trigger) merged into a call tree as JSON for static/flame.js, and the
differential against another capture as cmd_diff computes it (diffstacks)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..cli.cmd_diff import HISTORY_KINDS, _by_state
from ..cli.diffstacks import frame_shares, pair_stacks
from ..cli.stacks import Node, build_tree, parse_folded

__all__ = ["stack_kinds", "default_kind", "read_stacks", "tree_json", "diff_rows", "flame", "MAX_NODES"]

MAX_NODES = 20_000  # a page stays small: narrower frames are folded into their parent


def stack_kinds(record: Any) -> List[str]:
    return [a.kind for a in record.artefacts if a.kind.endswith(".folded")]


def default_kind(record: Any) -> Optional[str]:
    kinds = stack_kinds(record)
    if "oncpu.folded" in kinds:
        return "oncpu.folded"
    return next((k for k in kinds if k not in HISTORY_KINDS), kinds[0] if kinds else None)


def read_stacks(vault: Any, record: Any, kind: str) -> List[Tuple[List[str], int]]:
    """The folded stacks of one artefact, redacted as exports are (the page may be shared)."""
    if kind not in stack_kinds(record):
        raise LookupError(f"capture {record.id} has no {kind} artefact")
    return parse_folded(vault.read_artefact(record.id, kind, redact=True))


def tree_json(root: Node, max_nodes: int = MAX_NODES) -> Dict[str, Any]:
    """``{"n": name, "v": samples, "c": [children]}``, widest children first, breadth-limited
    to ``max_nodes`` (the widest frames are kept)."""
    budget = [max_nodes]
    min_count = max(1, root.count // 5000)  # frames below 0.02% cannot be seen anyway

    def walk(node: Node) -> Dict[str, Any]:
        budget[0] -= 1
        out: Dict[str, Any] = {"n": node.name, "v": node.count}
        kids = sorted((c for c in node.children.values() if c.count >= min_count), key=lambda c: (-c.count, c.name))
        if kids:
            out["c"] = [walk(c) for c in kids if budget[0] > 0]
        return out

    return walk(root)


def flame(vault: Any, record: Any, kind: str) -> Dict[str, Any]:
    stacks = read_stacks(vault, record, kind)
    return tree_json(build_tree(stacks, root_name="all"))


def diff_rows(vault: Any, before: Any, after: Any, top: int = 15) -> Dict[str, Any]:
    """Frames whose share of samples grew and shrank from ``before`` to ``after``."""
    kind_a, kind_b = default_kind(before), default_kind(after)
    if kind_a is None or kind_b is None:
        raise LookupError("both captures need a stack artefact to compare")
    a = _by_state(read_stacks(vault, before, kind_a), kind_b)
    b = _by_state(read_stacks(vault, after, kind_b), kind_a)
    pairs, scale = pair_stacks(a, b, normalise=True)
    rows = frame_shares(pairs)
    grew = [r for r in rows if r.delta_percent > 0.005][:top]
    shrank = [r for r in reversed(rows) if r.delta_percent < -0.005][:top]
    return {"kindA": kind_a, "kindB": kind_b, "grew": grew, "shrank": shrank, "scale": scale}

