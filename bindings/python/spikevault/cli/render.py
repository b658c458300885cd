"""Text rendering: relative times, human sizes, metric values, aligned tables."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import List, Optional, Sequence

from ..textsafe import visible
from .colour import Palette

__all__ = ["relative_time", "human_size", "format_value", "Column", "render_table", "display_width",
           "local_time", "utc_time"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def relative_time(when: datetime, now: Optional[datetime] = None) -> str:
    """``"just now"``, ``"42 s ago"``, ``"3 min ago"``, ``"5 h ago"``, ``"2 days ago"``, then
    the local date for anything older than a week (or in the future by more than a minute)."""
    now = now or datetime.now(timezone.utc)
    seconds = (now - when).total_seconds()
    if seconds < -60 or seconds >= 7 * 86400:
        return when.astimezone().strftime("%Y-%m-%d %H:%M")
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


def human_size(n: int) -> str:
    """IEC units, as the library's summaries write sizes (one unit system in every verb):
    ``999`` → ``"999 B"``, ``1234567`` → ``"1.2 MiB"``."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024.0
        if value < 1023.95 or unit == "PiB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{n} B"  # pragma: no cover


def format_value(metric: str, value: float) -> str:
    """A trigger value with the metric's unit where the unit is fixed (CPU: % of one core)."""
    if metric == "cpu":
        return (f"{value:.1f}" if abs(value - round(value)) > 1e-9 else f"{value:.0f}") + "%"
    if abs(value) >= 100_000:  # 150000000 -> 150M: big counts and rates stay readable in a column
        for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
            if abs(value) >= size:
                scaled = value / size
                return (f"{scaled:.1f}" if abs(scaled) < 100 else f"{scaled:.0f}") + unit
    return f"{value:.1f}" if abs(value - round(value)) > 1e-9 else f"{value:.0f}"


def local_time(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def utc_time(when: datetime) -> str:
    """The library's one time form, as stored in the database: ``2026-11-27 14:35:12.123Z``."""
    from .jsonout import json_time

    return str(json_time(when))


def display_width(text: str) -> int:
    """Columns a string takes on a terminal (ANSI codes excluded, wide characters count 2)."""
    if text.isascii() and "\x1b" not in text:  # the common case: one column per character
        return len(text)
    plain = _ANSI.sub("", text)
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 0 if unicodedata.combining(c) else 1
               for c in plain)


def _truncate(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = display_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


class Column:
    def __init__(self, title: str, align: str = "left", shrinkable: bool = False, min_width: int = 6) -> None:
        self.title, self.align, self.shrinkable, self.min_width = title, align, shrinkable, min_width


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], palette: Palette,
                 styles: Optional[Sequence[Sequence[Optional[str]]]] = None, max_width: Optional[int] = None,
                 widths_so_far: Optional[List[int]] = None, header: bool = True) -> List[str]:
    """Aligned lines, header first. ``styles[r][c]`` names a colour for a cell; colour codes
    never count towards widths. With ``max_width`` (a terminal's width), shrinkable columns
    are truncated with "…" so lines fit. Every cell is passed through ``visible()``: a
    process name cannot move the cursor, retitle the terminal or forge a row. A streamed
    table renders block by block: ``widths_so_far`` (a list, updated) keeps the columns of
    the blocks before at least as wide, ``header=False`` leaves the title line out."""
    rows = [[visible(cell) for cell in row] for row in rows]
    widths = [max([display_width(c.title)] + [display_width(r[i]) for r in rows]) for i, c in enumerate(columns)]
    if widths_so_far:  # a later block of a streamed table: columns never narrow
        widths = [max(w, prev) for w, prev in zip(widths, widths_so_far)]
    gap = 2
    if max_width:
        excess = sum(widths) + gap * (len(widths) - 1) - max_width
        for i, c in reversed(list(enumerate(columns))):  # the rightmost shrinks first
            if excess <= 0:
                break
            if c.shrinkable and widths[i] > c.min_width:
                cut = min(excess, widths[i] - c.min_width)
                widths[i] -= cut
                excess -= cut

    def cell(text: str, i: int, style: Optional[str]) -> str:
        text = _truncate(text, widths[i])
        pad = " " * (widths[i] - display_width(text))
        shown = palette.paint(text, *style.split()) if style else text
        return pad + shown if columns[i].align == "right" else shown + pad

    if widths_so_far is not None:
        widths_so_far[:] = widths
    lines = [(" " * gap).join(cell(c.title, i, "bold") for i, c in enumerate(columns)).rstrip()] if header else []
    for r, row in enumerate(rows):
        row_styles = styles[r] if styles else [None] * len(row)
        lines.append((" " * gap).join(cell(v, i, row_styles[i]) for i, v in enumerate(row)).rstrip())
    return lines
