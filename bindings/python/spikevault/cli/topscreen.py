"""The terminal side of ``spikevault top``: the alternate screen in cbreak mode (keys read one
at a time, no echo, the cursor hidden), one frame drawn over the last, and the terminal put
back as it was on every way out (q, Ctrl-C, SIGTERM, an exception)."""

from __future__ import annotations

import os
import re
import select
import signal
import termios
import tty
from typing import IO, List, Optional

__all__ = ["Screen", "KEYS"]

ENTER_ALT, LEAVE_ALT = "\x1b[?1049h", "\x1b[?1049l"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"

# Escape sequences of the keys top understands, by name.
KEYS = {"\x1b[A": "up", "\x1bOA": "up", "\x1b[B": "down", "\x1bOB": "down", "\x1b[5~": "pgup", "\x1b[6~": "pgdn",
        "\x1b[H": "home", "\x1b[F": "end", "\r": "enter", "\n": "enter"}


_SEQUENCE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)?")


class _Terminated(Exception):
    """SIGTERM while the screen is up: unwind so the terminal is restored."""


class Screen:
    def __init__(self, out: IO[str], fd_in: int) -> None:
        self.out, self.fd = out, fd_in
        self._saved: Optional[list] = None
        self._previous_term = None

    def __enter__(self) -> "Screen":
        self._saved = termios.tcgetattr(self.fd)
        self._previous_term = signal.signal(signal.SIGTERM, self._on_term)
        tty.setcbreak(self.fd)  # ISIG stays on: Ctrl-C is still SIGINT
        self.out.write(ENTER_ALT + HIDE_CURSOR)
        self.out.flush()
        return self

    @staticmethod
    def _on_term(signum: int, frame: object) -> None:
        raise _Terminated()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        try:
            self.out.write(SHOW_CURSOR + LEAVE_ALT)
            self.out.flush()
        finally:
            if self._saved is not None:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            if self._previous_term is not None:
                signal.signal(signal.SIGTERM, self._previous_term)
        return exc_type is _Terminated  # SIGTERM: a clean quit

    def draw(self, lines: List[str]) -> None:
        """One frame: every line overwritten, the rest of the screen cleared (no flicker)."""
        self.out.write("\x1b[H" + "".join(line + "\x1b[K\r\n" for line in lines[:-1]) + (lines[-1] + "\x1b[K" if lines else "")
                       + "\x1b[J")
        self.out.flush()

    def keys(self, timeout: float) -> List[str]:
        """The keys typed within ``timeout`` seconds (names from KEYS, or characters), in order;
        several may arrive in one read (a fast typist, a paste, a test)."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return []
        data = os.read(self.fd, 256).decode("utf-8", "replace")
        if not data:
            return ["q"]  # end of input: the terminal went away
        out: List[str] = []
        i = 0
        while i < len(data):
            for seq in sorted(KEYS, key=len, reverse=True):
                if data.startswith(seq, i):
                    out.append(KEYS[seq])
                    i += len(seq)
                    break
            else:
                if data[i] == "\x1b":  # an escape sequence top does not use: skip it
                    m = _SEQUENCE.match(data, i)
                    i = m.end() if m else i + 1
                    continue
                out.append(data[i])
                i += 1
        return out
