"""Terminal feedback on stderr: a countdown for captures and a progress bar (bundle exports:
the library's progress callback, on the calling thread). Both draw only when the stream is a terminal
and erase their line when done; on a pipe they stay silent, so output stays parseable."""

from __future__ import annotations

import shutil
import time
from typing import IO, Callable, Optional

from .render import human_size

__all__ = ["Countdown", "ProgressBar"]


class _Line:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        try:
            self.enabled = stream.isatty()
        except (AttributeError, ValueError):
            self.enabled = False
        self._last = ""

    def draw(self, text: str) -> None:
        if not self.enabled or text == self._last:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r\x1b[2K" + text[: max(1, width - 1)])
        self.stream.flush()
        self._last = text

    def clear(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._last = ""


class Countdown(_Line):
    """``with Countdown(sys.stderr, 5.0, "Capturing pid 42") as c: while busy: c.tick()``."""

    def __init__(self, stream: IO[str], seconds: float, label: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream)
        self.seconds, self.label, self.clock = seconds, label, clock
        self.start = clock()

    def text(self) -> str:
        left = self.seconds - (self.clock() - self.start)
        if left > 0:
            return f"{self.label}: {int(left + 0.999)} s left"
        return f"{self.label}: storing…"

    def tick(self) -> None:
        self.draw(self.text())

    def __enter__(self) -> "Countdown":
        self.tick()
        return self

    def __exit__(self, *exc: object) -> None:
        self.clear()


class ProgressBar(_Line):
    """``bar.update(done, total)`` draws ``label [#####-----]  42%  1.2 MB / 3.0 MB``."""

    def __init__(self, stream: IO[str], label: str, width: int = 30, in_bytes: bool = True) -> None:
        super().__init__(stream)
        self.label, self.width, self.in_bytes = label, width, in_bytes

    def render(self, done: int, total: Optional[int]) -> str:
        fmt = human_size if self.in_bytes else (lambda n: f"{n:,}")
        if not total or total <= 0:
            return f"{self.label} {fmt(done)}"
        frac = min(1.0, max(0.0, done / total))
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        return f"{self.label} [{bar}] {frac * 100:3.0f}%  {fmt(done)} / {fmt(total)}"

    def update(self, done: int, total: Optional[int]) -> None:
        self.draw(self.render(done, total))

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.clear()
