"""Showing hostile text safely: every string that came from a process (names, command lines,
paths, notes, frames) passes through :func:`visible` before it reaches a terminal.

Control characters (C0, DEL, C1) become visible escapes, so ``ESC ] 0 ; title BEL`` cannot
retitle a window, ``ESC [ 2 J`` cannot clear the screen and an embedded newline cannot forge
a line of output. Unicode bidirectional overrides and isolates are escaped too: they reorder
what a reader sees ("Trojan Source"). A backslash is doubled so an escape can never be faked.
"""

from __future__ import annotations

__all__ = ["visible"]

_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` with every control, bidi-control and backslash character written as an escape."""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable() and "\\" not in s:
        return s  # the common case costs one C-level scan
    return "".join(_escape(ch) if (ch in _NAMED or not ch.isprintable() and ch != " " or ord(ch) in _BIDI)
                   else ch for ch in s)
