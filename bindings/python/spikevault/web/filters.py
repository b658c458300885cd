"""The list page's filters, from a URL query to ``Vault.query`` criteria. Bad values are
reported to the page (never an exception out of the handler); paging is keyset (``after`` is
the key of the last row shown), so a page costs the same on the millionth row as on the first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

from .._enums import CaptureStatus, Metric

__all__ = ["Filters", "parse_filters", "ORDERS", "FIELDS"]

ORDERS = ("time-desc", "time-asc", "value-desc", "value-asc")
FIELDS = ("metric", "process", "pid", "since", "until", "min", "max", "status", "order")


@dataclass
class Filters:
    values: Dict[str, str]  # as given (shown back in the form), only known fields
    criteria: Dict[str, Any]
    errors: List[str] = field(default_factory=list)
    after: Optional[str] = None


def _time(text: str) -> datetime:
    """``2026-12-03T10:00`` (a datetime-local input; UTC), with seconds or a zone, or ms."""
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, timezone.utc)
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_filters(params: Mapping[str, str]) -> Filters:
    values = {k: params[k].strip() for k in FIELDS if params.get(k, "").strip()}
    criteria: Dict[str, Any] = {}
    errors: List[str] = []

    def take(name: str, convert, key: str) -> None:
        if name not in values:
            return
        try:
            criteria[key] = convert(values[name])
        except (ValueError, OverflowError) as exc:
            errors.append(f"{name}: {exc}")

    take("metric", lambda t: Metric.parse(t), "metric")
    take("status", lambda t: CaptureStatus.parse(t), "status")
    if "process" in values:
        criteria["process"] = values["process"]
    take("pid", int, "pid")
    take("since", _time, "since")
    take("until", _time, "until")
    take("min", float, "min_value")
    take("max", float, "max_value")
    order = values.get("order", "time-desc")
    if order not in ORDERS:
        errors.append(f"order: use one of {', '.join(ORDERS)}")
        order = "time-desc"
    criteria["order"] = order
    after = params.get("after") or None
    return Filters(values, criteria, errors, after)
