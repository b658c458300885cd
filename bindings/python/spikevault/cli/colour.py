"""Colour policy: ANSI colour only when the stream is a terminal, never with ``NO_COLOR``
set to a non-empty value (https://no-color.org), never with ``TERM=dumb``."""

from __future__ import annotations

import os
from typing import IO, Optional

__all__ = ["use_colour", "Palette"]

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34",
          "magenta": "35", "cyan": "36"}


def use_colour(stream: Optional[IO] = None, environ: Optional[dict] = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    if env.get("TERM", "") == "dumb":
        return False
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


class Palette:
    """``palette.paint("text", "red", "bold")``: the text, in colour only when enabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"
