"""Folded stacks (FlameGraph's format), as the library's ``export_stacks(..., "folded")``
writes them: parsing and a merged call tree for the SVG writer. (Top stacks and speedscope
JSON are the library's.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

__all__ = ["parse_folded", "Node", "build_tree"]


#: The largest count one line may carry, as the library's FoldedStacks.maxLineCount.
MAX_LINE_COUNT = 2**32 - 1


def parse_folded(data: bytes) -> List[Tuple[List[str], int]]:
    """``b"main;work 42\\n"`` → ``[(["main", "work"], 42)]``, by the library's rules
    (FoldedStacks.parse): lines end at ``\\n`` only (a frame may hold U+0085 or U+2028,
    which ``str.splitlines`` would split at), and a count is a whole number in
    1…MAX_LINE_COUNT; other lines are skipped. Repeated stacks are kept as separate entries."""
    out: List[Tuple[List[str], int]] = []
    for raw in data.decode("utf-8", "replace").split("\n"):
        line = raw.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        stack, _, count = line.rpartition(" ")
        if not (count.isascii() and count.isdigit()) or not stack:
            continue
        n = int(count)
        if not 1 <= n <= MAX_LINE_COUNT:
            continue
        out.append(([f for f in stack.split(";") if f != ""] or ["[unknown]"], n))
    return out


@dataclass
class Node:
    name: str
    count: int = 0
    delta: float = 0.0  # differential graphs: AFTER - BEFORE of the samples ending here
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
