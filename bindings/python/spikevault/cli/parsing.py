"""Parsing of command-line values: durations, sizes, points in time, metrics.

Every parser raises ``ValueError`` with a message that names the accepted forms; argparse
``type=`` wrappers (``arg_*``) turn it into a usage error (exit 2)."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional, TypeVar

from .jsonout import iso_datetime

__all__ = [
    "parse_duration", "parse_size", "parse_time", "parse_metric", "format_duration",
    "arg_duration", "arg_size", "arg_time", "arg_metric", "arg_positive_int", "arg_rate", "arg_nonneg_float",
    "arg_percent", "arg_pid", "arg_id",
]

_DURATION_UNITS = {
    "ms": 0.001, "msec": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)")
DURATION_FORMS = "a number with a unit: 500ms, 30s, 5m, 2h, 3d, 1w or 1h30m"


def parse_duration(text: str) -> float:
    """``"30s"`` → 30.0, ``"1h30m"`` → 5400.0, ``"2"`` → 2.0 (seconds). Rejects ``"5x"``, negatives."""
    s = text.strip().lower()
    if not s:
        raise ValueError(f"empty duration (use {DURATION_FORMS})")
    if s.startswith("-"):
        raise ValueError(f"{text!r}: a duration cannot be negative (use {DURATION_FORMS})")
    pos, total, parts = 0, 0.0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m or m.end() == pos:
            raise ValueError(f"{text!r} is not a duration (use {DURATION_FORMS})")
        number, unit = m.group(1), m.group(2)
        if unit == "" and (parts or m.end() < len(s)):
            raise ValueError(f"{text!r} is not a duration (use {DURATION_FORMS})")
        if unit not in _DURATION_UNITS and unit != "":
            raise ValueError(f"{text!r} is not a duration: unknown unit {unit!r} (use {DURATION_FORMS})")
        total += float(number) * _DURATION_UNITS.get(unit, 1.0)
        parts += 1
        pos = m.end()
    return total


def format_duration(seconds: float) -> str:
    """``5.0`` → ``"5s"``, ``0.25`` → ``"250ms"``, ``5400`` → ``"1h30m"``."""
    if seconds < 1 and seconds > 0:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    total = int(round(seconds))
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
    return "".join(out)


_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3, "t": 1000**4, "tb": 1000**4,
    "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2, "gi": 1024**3, "gib": 1024**3, "ti": 1024**4, "tib": 1024**4,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*")
SIZE_FORMS = "bytes or a number with a unit: 500k, 50M, 2G (SI, powers of 1000) or 64MiB, 2GiB"


def parse_size(text: str) -> int:
    """``"50M"`` → 50_000_000 (SI, as the library's 50 MB budget), ``"2GiB"`` → 2·1024³."""
    m = _SIZE.fullmatch(text.lower())
    if not m or m.group(2) not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size (use {SIZE_FORMS})")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])


TIME_FORMS = ("a time like 2026-11-27T10:00, 2026-11-27 10:00:05, 2026-11-27 (local time unless it ends "
              "with Z or +HH:MM), a duration ago like 2h or 3d, or now/today/yesterday")


def parse_time(text: str, now: Optional[datetime] = None) -> datetime:
    """A point in time, returned timezone-aware (UTC).

    ``"2h"`` means two hours before ``now``; ISO dates and times without an offset are local
    time (as ``journalctl --since``); ``now``, ``today``, ``yesterday`` are understood."""
    now = now or datetime.now(timezone.utc)
    s = text.strip()
    low = s.lower()
    if low == "now":
        return now
    if low in ("today", "yesterday", "tomorrow"):
        local = now.astimezone()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[low]
        return (midnight + timedelta(days=shift)).astimezone(timezone.utc)
    if low.endswith(" ago"):
        low = low[:-4]
    if low.startswith("-"):
        low = low[1:]
    try:
        return now - timedelta(seconds=parse_duration(low))
    except ValueError:
        pass
    try:
        parsed = iso_datetime(s)
    except ValueError:
        raise ValueError(f"{text!r} is not a time (use {TIME_FORMS})") from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # naive means local time
    return parsed.astimezone(timezone.utc)


def parse_metric(text: str) -> str:
    """A metric's stored name (``cpu``, ``memory``, ``diskIO``, ``network``, ``threads``, ``fds``)."""
    from .._enums import Metric

    return Metric.parse(text).stored_name


T = TypeVar("T")


def _argtype(parser: Callable[[str], T], name: str) -> Callable[[str], T]:
    def convert(text: str) -> T:
        try:
            return parser(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = name  # argparse names the type in its messages
    return convert


arg_duration = _argtype(parse_duration, "duration")
arg_size = _argtype(parse_size, "size")
arg_time = _argtype(parse_time, "time")
arg_metric = _argtype(parse_metric, "metric")


def _whole(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise ValueError(f"{text!r} must be {minimum} or more")
    return value


def _positive_int(text: str) -> int:
    return _whole(text, 1)


def _nonneg_int(text: str) -> int:
    return _whole(text, 0)


def _real(text: str, nonnegative: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")) or (nonnegative and value < 0):
        raise ValueError(f"{text!r} must be a finite number" + (", 0 or more" if nonnegative else ""))
    return value


def _nonneg_float(text: str) -> float:
    return _real(text, nonnegative=True)


def _finite_float(text: str) -> float:
    return _real(text, nonnegative=False)


def _percent(text: str) -> float:
    value = _nonneg_float(text.rstrip("%"))
    if value > 100 * 4096:
        raise ValueError(f"{text!r} is not a CPU percentage (100 = one core)")
    return value


MAX_RATE_HZ = 10000.0


def _rate(text: str) -> float:
    """A sampling rate in Hz: a number, optionally followed by ``Hz`` (``999``, ``250hz``)."""
    body = text.strip()
    if body.lower().endswith("hz"):
        body = body[:-2].strip()
    value = _real(body, nonnegative=False) if body else float("nan")
    if value != value:
        raise ValueError(f"{text!r} is not a rate in Hz (e.g. 999 or 250Hz)")
    if value <= 0:
        raise ValueError(f"{text!r}: the rate must be more than 0 Hz")
    if value > MAX_RATE_HZ:
        raise ValueError(f"{text!r}: the rate must be at most {MAX_RATE_HZ:g} Hz")
    return value


def _pid(text: str) -> int:
    value = _positive_int(text)
    if value > 2**31 - 1:
        raise ValueError(f"{text!r} is not a process id")
    return value


def _id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a capture id (a number from the ID column of 'spikevault list')") from None
    if value < 1 or value > 2**63 - 1:
        raise ValueError(f"{text!r} is not a capture id (ids start at 1)")
    return value


arg_positive_int = _argtype(_positive_int, "positive integer")
arg_nonneg_int = _argtype(_nonneg_int, "count")
arg_nonneg_float = _argtype(_nonneg_float, "number")
arg_float = _argtype(_finite_float, "number")
arg_percent = _argtype(_percent, "percentage")
arg_pid = _argtype(_pid, "pid")
arg_rate = _argtype(_rate, "rate")
arg_id = _argtype(_id, "id")
