"""Choosing records for ``list`` and ``export``: one filter object, one selection function,
both on the library's indexed query (``Vault.query``, docs/review.md).

Order: ``-n N`` always means the newest N matches; ``list`` shows them oldest first (as
``coredumpctl list``), ``-r`` newest first. ``--until`` is exclusive, as in the library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

from .common import UsageError

__all__ = ["Filters", "_select_records", "export_criteria", "case_insensitive_glob", "SCAN_ALL"]

SCAN_ALL = 1_000_000  # vault.recent()'s maximum: "every record"
GLOB_CHARS = "*?["


def case_insensitive_glob(pattern: str) -> str:
    """A glob for SQLite's (case-sensitive) GLOB that matches ASCII letters in either case:
    ``py*`` → ``[pP][yY]*``, ``[a-c]x`` → ``[a-cA-C][xX]``. Other characters are unchanged."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "[":
            j = i + 1
            if j < n and pattern[j] in "^!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1  # a leading ] is literal
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # unmatched: left as it is for the library to refuse
                out.append(pattern[i:])
                break
            body = pattern[i + 1:j]
            neg = body[:1] if body[:1] in ("^", "!") else ""
            members = body[len(neg):]
            swapped = "".join(ch.swapcase() if ch.isascii() and ch.isalpha() else ch for ch in members)
            extra = swapped.lstrip("]") if swapped != members else ""
            out.append("[" + neg + members + extra + "]")
            i = j + 1
            continue
        if c.isascii() and c.isalpha():
            out.append(f"[{c.lower()}{c.upper()}]")
        else:
            out.append(c)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Filters:
    metric: Optional[str] = None       # stored name: cpu, memory, diskIO, network, threads, fds
    process: Optional[str] = None      # case-insensitive substring, or a glob if it has * ? [
    pid: Optional[int] = None
    since: Optional[datetime] = None   # aware; captured_at >= since
    until: Optional[datetime] = None   # aware; captured_at < until
    min_value: Optional[float] = None  # trigger value >= min_value
    limit: Optional[int] = None        # the newest `limit` matches; None = all

    @property
    def is_empty(self) -> bool:
        """No criterion other than the limit."""
        return self.query_kwargs().keys() <= {"limit"}

    def query_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments for ``Vault.query`` (None values left out; a process pattern
        with ``* ? [`` becomes a case-insensitive ``process_glob``)."""
        names = ("metric", "pid", "since", "until", "min_value", "limit")
        kwargs = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        if self.process is not None:
            if any(c in self.process for c in GLOB_CHARS):
                kwargs["process_glob"] = case_insensitive_glob(self.process)
            else:
                kwargs["process"] = self.process
        return kwargs


def _query(vault: Any, **kwargs: Any) -> List[Any]:
    from .. import InvalidArgumentError

    try:
        return list(vault.query(**kwargs))
    except InvalidArgumentError as exc:  # e.g. an unmatched [ in --process
        raise UsageError(f"bad filter: {exc}") from None


def _select_records(vault: Any, filters: Filters) -> List[Any]:
    """The records matching ``filters``, newest first, at most ``filters.limit``."""
    return _query(vault, order="time-desc", **filters.query_kwargs())


def export_criteria(vault: Any, filters: Filters, newest_first: bool) -> Dict[str, Any]:
    """Criteria for the library's exports (``export_records``, ``export_bundle``) that select
    exactly what ``list`` shows, in the same order: oldest first unless ``newest_first``, and
    with ``-n N`` the newest N either way (a keyset ``after`` the (N+1)-th newest)."""
    kwargs = filters.query_kwargs()
    if newest_first:
        return dict(kwargs, order="time-desc")
    limit = kwargs.pop("limit", None)
    criteria = dict(kwargs, order="time-asc")
    if limit is not None:
        newest = _query(vault, order="time-desc", **dict(kwargs, limit=limit + 1))
        if len(newest) > limit:
            criteria["after"] = newest[-1]  # the first one left out, oldest-first
    else:
        _query(vault, limit=0, **kwargs)  # bad criteria are a usage error, as for list
    return criteria
