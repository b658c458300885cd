"""Choosing records for ``list`` and ``export``: one filter object, one selection function.

``_select_records`` is the only place that reads records for a filter. Until the review API
(issue 5, ``Vault.query``) is merged it scans ``vault.recent()`` and filters in Python; the
switch is the one marked line below (``Filters.query_kwargs()`` already has ``query``'s
keyword names)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

__all__ = ["Filters", "_select_records", "SCAN_ALL"]

SCAN_ALL = 1_000_000  # vault.recent()'s maximum: "every record"


@dataclass(frozen=True)
class Filters:
    metric: Optional[str] = None       # stored name: cpu, memory, diskIO, network, threads, fds
    process: Optional[str] = None      # case-insensitive substring, or a glob if it has * ? [
    pid: Optional[int] = None
    since: Optional[datetime] = None   # aware; captured_at >= since
    until: Optional[datetime] = None   # aware; captured_at <= until
    min_value: Optional[float] = None  # trigger value >= min_value
    limit: Optional[int] = None        # the newest `limit` matches; None = all

    def query_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments for ``vault.query`` (issue 5), None values left out."""
        names = ("metric", "process", "pid", "since", "until", "min_value", "limit")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def matches(self, record: Any) -> bool:
        if self.metric is not None and record.metric.stored_name != self.metric:
            return False
        if self.pid is not None and record.pid != self.pid:
            return False
        if self.since is not None and record.captured_at < self.since:
            return False
        if self.until is not None and record.captured_at > self.until:
            return False
        if self.min_value is not None and record.value < self.min_value:
            return False
        if self.process is not None:
            name, pattern = record.process_name.lower(), self.process.lower()
            if any(c in pattern for c in "*?["):
                if not fnmatch.fnmatchcase(name, pattern):
                    return False
            elif pattern not in name:
                return False
        return True


def _select_records(vault: Any, filters: Filters) -> List[Any]:
    """The records matching ``filters``, newest first, at most ``filters.limit``.

    To use the library's indexed query once issue 5 is merged, replace the body with:
        return list(vault.query(**filters.query_kwargs()))
    """
    return _scan_recent(vault, filters)  # SWITCH: return list(vault.query(**filters.query_kwargs()))


def _scan_recent(vault: Any, filters: Filters) -> List[Any]:
    """Stop-gap: O(records) scan of ``vault.recent`` in Python (newest first)."""
    unfiltered = filters.query_kwargs().keys() <= {"limit"}
    if unfiltered:
        return list(vault.recent(filters.limit if filters.limit is not None else SCAN_ALL))
    out = []
    for record in vault.recent(SCAN_ALL):
        if filters.matches(record):
            out.append(record)
            if filters.limit is not None and len(out) >= filters.limit:
                break
    return out
