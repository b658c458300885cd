"""Folded stacks (FlameGraph's format): parsing, a merged call tree, top stacks, and the
speedscope file format (https://www.speedscope.app/file-format-schema.json)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

__all__ = ["parse_folded", "Node", "build_tree", "top_stacks", "to_speedscope"]


def parse_folded(data: bytes) -> List[Tuple[List[str], int]]:
    """``b"main;work 42\\n"`` → ``[(["main", "work"], 42)]``. Lines without a trailing count
    or with a count below 1 are skipped; repeated stacks are kept as separate entries."""
    out: List[Tuple[List[str], int]] = []
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(float(count))
        except ValueError:
            continue
        if n < 1 or not stack:
            continue
        out.append(([f for f in stack.split(";") if f != ""] or ["[unknown]"], n))
    return out


@dataclass
class Node:
    name: str
    count: int = 0
    children: Dict[str, "Node"] = field(default_factory=dict)

    def child(self, name: str) -> "Node":
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = Node(name)
        return node

    @property
    def depth(self) -> int:
        return 1 + max((c.depth for c in self.children.values()), default=0)


def build_tree(stacks: List[Tuple[List[str], int]], root_name: str = "all") -> Node:
    """Stacks merged by common prefix; each node's count includes its descendants'."""
    root = Node(root_name)
    for frames, n in stacks:
        root.count += n
        node = root
        for f in frames:
            node = node.child(f)
            node.count += n
    return root


def top_stacks(stacks: List[Tuple[List[str], int]], n: int = 5) -> List[Tuple[str, int]]:
    merged: Dict[str, int] = {}
    for frames, count in stacks:
        key = ";".join(frames)
        merged[key] = merged.get(key, 0) + count
    return sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def to_speedscope(stacks: List[Tuple[List[str], int]], name: str, exporter: str) -> Dict[str, Any]:
    """A speedscope file with one "sampled" profile: frames shared, one sample per folded
    line (frame indices root first), its count as the weight."""
    index: Dict[str, int] = {}
    frames: List[Dict[str, str]] = []
    samples: List[List[int]] = []
    weights: List[int] = []
    for stack, count in stacks:
        ids = []
        for f in stack:
            i = index.get(f)
            if i is None:
                i = index[f] = len(frames)
                frames.append({"name": f})
            ids.append(i)
        samples.append(ids)
        weights.append(count)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [{
            "type": "sampled", "name": name, "unit": "none",
            "startValue": 0, "endValue": sum(weights), "samples": samples, "weights": weights,
        }],
        "name": name,
        "activeProfileIndex": 0,
        "exporter": exporter,
    }
