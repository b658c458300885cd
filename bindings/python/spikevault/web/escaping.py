"""Escaping for the review pages: every string from a process (names, command lines, frames,
notes, paths) is hostile. ``text`` and ``attr`` make it inert in HTML element content and in
quoted attributes; ``json_block`` makes JSON safe inside ``<script type="application/json">``
(which the browser never runs: the CSP allows scripts from files only). Control and bidi
characters are first made visible, as on a terminal (textsafe.visible)."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlencode

from ..textsafe import visible

__all__ = ["text", "lines", "attr", "json_block", "query"]

_JSON_UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                0x2028: "\\u2028", 0x2029: "\\u2029"}


def text(value: object) -> str:
    """Safe as element content: ``<``, ``>``, ``&`` and quotes become entities."""
    return html.escape(visible(value), quote=True)


def lines(value: object) -> str:
    """Like ``text`` for multi-line text (a summary in <pre>): newlines kept, each line escaped."""
    return "\n".join(text(line) for line in str(value).split("\n"))


def attr(value: object) -> str:
    """Safe inside a double- or single-quoted attribute value (always quote it)."""
    return html.escape(visible(value), quote=True)


def json_block(doc: Any) -> str:
    """JSON for a data block: no ``</script>``, ``<!--`` or line separators can end or bend it."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")).translate(_JSON_UNSAFE)


def query(params: dict) -> str:
    """A URL query string from the non-empty ``params`` (percent-encoded; put it in attr())."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})
