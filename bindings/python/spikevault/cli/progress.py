"""Terminal feedback on stderr: a countdown for captures and a progress bar (bundle exports:
the library's progress callback, on the calling thread). Both draw only when the stream is a terminal
and erase their line when done; on a pipe they stay silent, so output stays parseable."""

from __future__ import annotations

import shutil
import time
from typing import IO, Callable, Optional

from .render import human_size

__all__ = ["Countdown", "ProgressBar"]


MAX_REDRAWS_PER_SECOND = 10


class _Line:
    """One status line, redrawn at most ``MAX_REDRAWS_PER_SECOND`` times a second (a callback
    may fire thousands of times; the terminal sees a few lines, never a flood)."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        try:
            self.enabled = stream.isatty()
        except (AttributeError, ValueError):
            self.enabled = False
        self._last = ""
        self._clock = clock
        self._drawn_at: Optional[float] = None
        self.redraws = 0

    def columns(self) -> int:
        return shutil.get_terminal_size((80, 24)).columns

    def due(self) -> bool:
        now = self._clock()
        return self._drawn_at is None or now - self._drawn_at >= 1.0 / MAX_REDRAWS_PER_SECOND

    def draw(self, text: str, force: bool = False) -> None:
        if not self.enabled or text == self._last or not (force or self.due()):
            return
        width = self.columns()
        self.stream.write("\r\x1b[2K" + text[: max(1, width - 1)])
        self.stream.flush()
        self._last = text
        self._drawn_at = self._clock()
        self.redraws += 1

    def clear(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._last = ""


class Countdown(_Line):
    """``with Countdown(sys.stderr, 5.0, "Capturing pid 42") as c: while busy: c.tick()``."""

    def __init__(self, stream: IO[str], seconds: float, label: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream, clock)
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
    """``bar.update(done, total)`` draws ``label [#####-----]  42%  1.2 MiB / 3.0 MiB``, fitted
    to the terminal: the bar narrows first, then the label is cut with "…"; figures and
    their units are never cut (any width from 40 columns)."""

    def __init__(self, stream: IO[str], label: str, width: int = 30, in_bytes: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream, clock)
        self.label, self.width, self.in_bytes = label, width, in_bytes

    def render(self, done: int, total: Optional[int], columns: int = 10_000) -> str:
        fmt = human_size if self.in_bytes else (lambda n: f"{n:,}")
        room = max(1, columns - 1)  # the last column stays empty: no wrap on any terminal
        if not total or total <= 0:
            figures = fmt(done)
            return _fit_label(self.label, room - len(figures) - 1) + " " + figures
        frac = min(1.0, max(0.0, done / total))
        figures = f"{frac * 100:3.0f}%  {fmt(done)} / {fmt(total)}"
        label = self.label
        bar_width = min(self.width, room - len(label) - len(figures) - 4)
        if bar_width < 10:
            bar_width = max(0, min(self.width, 10, room - len(figures) - 4 - 8))
            label = _fit_label(label, room - len(figures) - (bar_width + 4 if bar_width else 1))
        if bar_width <= 0:
            return f"{label} {figures}"
        filled = int(frac * bar_width)
        return f"{label} [{'#' * filled}{'-' * (bar_width - filled)}] {figures}"

    def update(self, done: int, total: Optional[int]) -> None:
        final = bool(total) and done >= (total or 0)
        if self.enabled and (final or self.due()):
            self.draw(self.render(done, total, self.columns()), force=final)

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.clear()


def _fit_label(label: str, room: int) -> str:
    if len(label) <= room:
        return label
    return label[: max(0, room - 1)] + "…" if room > 1 else ""
