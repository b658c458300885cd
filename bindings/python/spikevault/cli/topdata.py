"""What ``spikevault top`` shows, without the terminal: one snapshot of the sampler's rows
(sorted, filtered, marked where a rule's threshold is met or a recent capture matches),
the recent captures beside them, as table lines or JSON."""

from __future__ import annotations

import fnmatch
import pwd
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..textsafe import visible
from .colour import Palette
from .jsonout import json_time
from .render import Column, format_value, human_size, relative_time, render_table
from .rules import DEFAULT_RULES, Rule

__all__ = ["SORT_KEYS", "Snapshot", "take_snapshot", "snapshot_dict", "table_lines", "captures_lines", "name_matcher"]

MIB = 1024 * 1024
RECENT_WINDOW = timedelta(hours=1)  # a process captured within this is marked
RECENT_SHOWN = 8

# Sort key -> (the row's value, a short column title). Missing readings sort last.
SORT_KEYS: Dict[str, Callable[[Any], Optional[float]]] = {
    "cpu": lambda r: r.cpu,
    "rss": lambda r: r.rss_mib,
    "io": lambda r: r.disk_io,
    "fds": lambda r: r.fds,
    "threads": lambda r: r.threads,
    "pid": lambda r: -r.pid,  # ascending pids (reverse sort below)
}

# A rule's metric -> the row's value in the rule's units (memory and disk I/O rules are in bytes).
_RULE_VALUE: Dict[str, Callable[[Any], Optional[float]]] = {
    "cpu": lambda r: r.cpu,
    "memory": lambda r: None if r.rss_mib is None else r.rss_mib * MIB,
    "diskIO": lambda r: None if r.disk_io is None else r.disk_io * MIB,
    "network": lambda r: r.sockets,
    "threads": lambda r: r.threads,
    "fds": lambda r: r.fds,
}


def name_matcher(pattern: Optional[str]) -> Callable[[str], bool]:
    """``--process`` as ``list`` reads it: a case-insensitive substring, or a glob with ``* ? [ ]``
    matched against the whole name, any case."""
    if not pattern:
        return lambda name: True
    p = pattern.lower()
    if any(c in p for c in "*?["):
        return lambda name: fnmatch.fnmatchcase(name.lower(), p)
    return lambda name: p in name.lower()


def rules_met(row: Any, rules: Sequence[Rule]) -> List[str]:
    """The metrics whose rule threshold this row's reading meets now (the sustain window is
    the monitor's business: ``top`` shows the instant)."""
    out = []
    for rule in rules:
        value = _RULE_VALUE[rule.metric](row)
        if value is None:
            continue
        if (value <= rule.threshold) if rule.below else (value >= rule.threshold):
            if rule.metric not in out:
                out.append(rule.metric)
    return out


@dataclass
class Snapshot:
    taken_at: datetime
    rows: List[Any]  # ProcessRow, sorted and filtered
    total: int  # processes sampled, before the filter
    sort: str
    marks: Dict[int, List[str]] = field(default_factory=dict)  # pid -> rule metrics met
    captured: Dict[int, Any] = field(default_factory=dict)  # pid -> its newest recent capture
    recent: List[Any] = field(default_factory=list)  # recent captures, newest first


def _user(uid: int, cache: Dict[int, str] = {}) -> str:  # noqa: B006 - a process-wide cache
    if uid not in cache:
        try:
            cache[uid] = pwd.getpwuid(uid).pw_name
        except KeyError:
            cache[uid] = str(uid)
    return cache[uid]


def sort_rows(rows: Sequence[Any], key: str) -> List[Any]:
    get = SORT_KEYS[key]
    present = [r for r in rows if get(r) is not None]
    missing = [r for r in rows if get(r) is None]
    present.sort(key=lambda r: (get(r), -r.pid), reverse=True)
    missing.sort(key=lambda r: r.pid)
    return present + missing


def take_snapshot(rows: Sequence[Any], sort: str, matcher: Callable[[str], bool], recent: Sequence[Any],
                  rules: Sequence[Rule] = DEFAULT_RULES, now: Optional[datetime] = None) -> Snapshot:
    now = now or datetime.now(timezone.utc)
    recent = list(recent)  # may be a one-pass iterator (Vault.recent streams)
    shown = sort_rows([r for r in rows if matcher(r.name)], sort)
    snap = Snapshot(taken_at=now, rows=shown, total=len(rows), sort=sort)
    for r in shown:
        met = rules_met(r, rules)
        if met:
            snap.marks[r.pid] = met
    fresh = [c for c in recent if now - c.captured_at <= RECENT_WINDOW]
    snap.recent = list(recent)[:RECENT_SHOWN]
    by_pid = {r.pid: r for r in shown}
    for c in fresh:  # newest first: the first match per pid wins
        row = by_pid.get(c.pid)
        if row is None or c.pid in snap.captured or c.process_name != row.name:
            continue
        if c.process_start_time and row.start_time and c.process_start_time != row.start_time:
            continue  # the pid was reused since
        snap.captured[c.pid] = c
    return snap


def row_dict(row: Any, snap: Snapshot) -> Dict[str, Any]:
    captured = snap.captured.get(row.pid)
    return {
        "pid": row.pid, "processName": row.name, "uid": row.uid, "user": _user(row.uid),
        "processStartTime": row.start_time, "inspectable": row.inspectable,
        "cpuPercent": None if row.cpu is None else round(row.cpu, 2),
        "rssBytes": None if row.rss_mib is None else int(round(row.rss_mib * MIB)),
        "diskIOBytesPerSecond": None if row.disk_io is None else int(round(row.disk_io * MIB)),
        "threads": row.threads, "fds": row.fds, "sockets": row.sockets,
        "rulesMet": snap.marks.get(row.pid, []),
        "recentCaptureId": captured.id if captured is not None else None,
    }


def snapshot_dict(snap: Snapshot, limit: Optional[int]) -> Dict[str, Any]:
    from .records import record_dict

    rows = snap.rows if limit is None else snap.rows[:limit]
    return {"time": json_time(snap.taken_at), "sort": snap.sort, "processes": snap.total, "shown": len(rows),
            "rows": [row_dict(r, snap) for r in rows], "recentCaptures": [record_dict(c) for c in snap.recent]}


def _cpu(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.1f}"


def _size(mib: Optional[float], suffix: str = "") -> str:
    return "-" if mib is None else human_size(int(round(mib * MIB))) + suffix


def _count(v: Optional[int]) -> str:
    return "-" if v is None else str(v)


def table_lines(snap: Snapshot, palette: Palette, limit: Optional[int], width: Optional[int] = None,
                selected: Optional[int] = None) -> List[str]:
    """The process table, header first; the sort column's title is marked with ``▼``. A
    ``!`` marks a process meeting a rule now, ``●`` one captured within the last hour."""
    titles = {"cpu": "CPU%", "rss": "RSS", "io": "IO/s", "threads": "THR", "fds": "FDS", "pid": "PID"}
    def title(key: str) -> str:
        return titles[key] + ("▼" if key == snap.sort else "")
    columns = [Column(title("pid"), "right"), Column("USER", shrinkable=True, min_width=4), Column(title("cpu"), "right"),
               Column(title("rss"), "right"), Column(title("io"), "right"), Column(title("threads"), "right"),
               Column(title("fds"), "right"), Column("!", min_width=1), Column("COMMAND", shrinkable=True, min_width=7)]
    rows, styles = [], []
    for i, r in enumerate(snap.rows if limit is None else snap.rows[:limit]):
        met = snap.marks.get(r.pid)
        cap = snap.captured.get(r.pid)
        flag = ("!" if met else "") + ("●" if cap is not None else "")
        name = r.name + (f"  [{','.join(met)}]" if met else "") + (f"  (capture {cap.id})" if cap is not None else "")
        rows.append([str(r.pid), _user(r.uid), _cpu(r.cpu), _size(r.rss_mib), _size(r.disk_io), _count(r.threads),
                     _count(r.fds), flag or " ", name])
        base = "bold" if i == selected else None
        styles.append([base, "dim", "red" if met and "cpu" in met else base, None, None, None, None,
                       "red" if met else ("green" if cap is not None else None), "yellow" if met else base])
    lines = render_table(columns, rows, palette, styles, max_width=width)
    if selected is not None and palette.enabled and 0 <= selected < len(lines) - 1:
        lines[selected + 1] = "\x1b[7m" + lines[selected + 1].replace("\x1b[0m", "\x1b[0m\x1b[7m") + "\x1b[0m"
    elif selected is not None and 0 <= selected < len(lines) - 1:
        lines[selected + 1] = ">" + lines[selected + 1][1:]
    return lines


def captures_lines(snap: Snapshot, palette: Palette, width: Optional[int] = None) -> List[str]:
    """The recent captures, newest first (one line each)."""
    if not snap.recent:
        return [palette.paint("no captures in the vault", "dim")]
    columns = [Column("ID", "right"), Column("WHEN"), Column("PID", "right"), Column("METRIC"),
               Column("VALUE", "right"), Column("PROCESS", shrinkable=True, min_width=7)]
    rows = [[str(c.id), relative_time(c.captured_at, snap.taken_at), str(c.pid), c.metric.stored_name,
             format_value(c.metric.stored_name, c.value), c.process_name] for c in snap.recent]
    return render_table(columns, rows, palette, max_width=width)


def header_line(snap: Snapshot, interval: float, shown: int) -> str:
    marked = len(snap.marks)
    local = snap.taken_at.astimezone().strftime("%H:%M:%S")
    return (f"spikevault top - {local}  {snap.total} processes, {shown} shown, {marked} meeting a rule, "
            f"{len(snap.captured)} captured in the last hour; sorted by {snap.sort}, every {interval:g}s")


def escape(text: str) -> str:
    return visible(text)
