"""The one time representation of the CLI's JSON, the library's stored form: UTC with
milliseconds and a Z, date and time separated by a space (``"2026-12-03 09:41:00.123Z"``,
docs/storage.md says why not a ``T``), whatever the library hands over: a ``datetime``, integer
milliseconds since the epoch (the library's summaries and exports today) or text (ISO-8601,
or SQLite's ``YYYY-MM-DD HH:MM:SS[.fff]`` in UTC, as a seed-style column holds it). Every
verb's ``--json`` goes through ``json_time``; docs/json.md and schemas/ hold the shapes."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Optional, Union

__all__ = ["json_time", "normalise_times", "TIME_KEYS"]

# Keys whose values are points in time, in the library's documents and ours.
TIME_KEYS = frozenset({"capturedAt", "capturedAtUTC", "since", "until", "oldest", "newest", "startedAt"})
_DIGITS = re.compile(r"-?\d+")


def iso_datetime(text: str) -> datetime:
    """ISO-8601 text, with a space or a ``T`` between date and time and ``Z`` for UTC (which
    ``fromisoformat`` before Python 3.11 refuses); naive when it names no offset."""
    iso = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", text) else text
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    return datetime.fromisoformat(iso)


def json_time(value: Union[None, datetime, int, float, str]) -> Optional[str]:
    """``datetime`` (naive = UTC), epoch milliseconds, or time text → ``YYYY-MM-DD HH:MM:SS.mmmZ``.
    ``None`` stays ``None``; anything else raises ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time")
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, (int, float)):
        when = datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
    elif isinstance(value, str):
        s = value.strip()
        if _DIGITS.fullmatch(s):
            return json_time(int(s))
        try:
            when = iso_datetime(s)
        except ValueError:
            raise ValueError(f"{value!r} is not a time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)  # SQLite's CURRENT_TIMESTAMP text is UTC
    else:
        raise ValueError(f"{value!r} is not a time")
    return when.astimezone(timezone.utc).isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "Z")


def normalise_times(doc: Any) -> Any:
    """``doc`` with every value under a ``TIME_KEYS`` key passed through ``json_time``."""
    if isinstance(doc, dict):
        return {k: (json_time(v) if k in TIME_KEYS and v is not None and not isinstance(v, (dict, list))
                    else normalise_times(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [normalise_times(v) for v in doc]
    return doc
