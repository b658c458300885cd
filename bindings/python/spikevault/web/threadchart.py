"""The capture page's threads chart: the busiest threads of the procfs timeline
(procfs.json, docs/procfs-artefact.md), one row per thread, one column per sample bucket:
a state cell (R/S/D/other) with the thread's CPU over that bucket as a bar on it. Drawn
server-side as SVG elements with classes (the CSP forbids inline style and script); every
thread name goes through escaping.text. The artefact is hostile data like any other: every
member is checked, anything malformed is skipped, and a document with nothing usable gives
a note instead of a chart (never an exception to the router)."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..errors import SpikeVaultError
from .escaping import text

__all__ = ["ThreadRow", "ThreadTimeline", "parse", "load", "render", "MAX_THREADS", "MAX_COLUMNS"]

KIND = "procfs.json"
MAX_THREADS = 8  # rows drawn: the busiest threads by CPU over the capture
MAX_COLUMNS = 120  # sample buckets drawn: longer captures are averaged into this many
MAX_ARTEFACT_BYTES = 32 * 1024 * 1024  # a bigger timeline is not parsed for a page view
MAX_NAME = 64  # characters of a name shown (the kernel's comm is 15 bytes; a saved one may be anything)
_STATES = {"R": "run", "S": "sleep", "D": "disk", "I": "idle"}


@dataclass
class ThreadRow:
    tid: int
    name: str
    cpu_seconds: float
    cells: List[Optional[Tuple[float, str]]]  # per column: (mean CPU %, state) or None (thread absent)


@dataclass
class ThreadTimeline:
    rows: List[ThreadRow]
    columns: int
    sample_count: int
    thread_count: int  # distinct threads seen, drawn or not
    duration: float = 0.0
    skipped: int = field(default=0)  # malformed samples or thread entries ignored


def _number(v: Any) -> Optional[float]:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) and f >= 0 else None


def parse(doc: Any) -> Tuple[Optional[ThreadTimeline], Optional[str]]:
    """(timeline, None), or (None, a short note saying why there is no chart)."""
    if not isinstance(doc, dict) or doc.get("schema") != "spikevault.procfs":
        return None, "procfs.json is not a spikevault.procfs document"
    samples = doc.get("samples")
    if not isinstance(samples, list):
        return None, "procfs.json has no samples list"
    readings: List[Tuple[float, Dict[int, Tuple[Optional[float], str]]]] = []
    totals: Dict[int, float] = {}
    names: Dict[int, str] = {}
    skipped = 0
    for s in samples:
        threads = s.get("threads") if isinstance(s, dict) else None
        if not isinstance(threads, list):
            skipped += 1
            continue
        interval = _number(s.get("intervalSeconds")) or 0.0
        seen: Dict[int, Tuple[Optional[float], str]] = {}
        for th in threads:
            tid = th.get("tid") if isinstance(th, dict) else None
            if isinstance(tid, bool) or not isinstance(tid, int):
                skipped += 1
                continue
            cpu = _number(th.get("cpuPercent"))
            state = th.get("state") if isinstance(th.get("state"), str) else "?"
            seen[tid] = (cpu, state[:1] or "?")
            if isinstance(th.get("name"), str):
                names[tid] = th["name"][:MAX_NAME]
            totals[tid] = totals.get(tid, 0.0) + (cpu or 0.0) / 100.0 * interval
        readings.append((_number(s.get("t")) or 0.0, seen))
    if not readings or not totals:
        return None, "the procfs timeline holds no thread readings"
    busiest = sorted(totals, key=lambda t: (-totals[t], t))[:MAX_THREADS]
    per = math.ceil(len(readings) / MAX_COLUMNS)
    buckets = [readings[i:i + per] for i in range(0, len(readings), per)]
    rows = []
    for tid in busiest:
        cells: List[Optional[Tuple[float, str]]] = []
        for bucket in buckets:
            present = [seen[tid] for _, seen in bucket if tid in seen]
            if not present:
                cells.append(None)
                continue
            cpus = [c for c, _ in present if c is not None]
            states = [st for _, st in present]  # the commonest state (first seen on a tie)
            cells.append((sum(cpus) / len(cpus) if cpus else 0.0, Counter(states).most_common(1)[0][0]))
        rows.append(ThreadRow(tid, names.get(tid, "?"), totals[tid], cells))
    return ThreadTimeline(rows, len(buckets), len(readings), len(totals), readings[-1][0], skipped), None


def load(vault: Any, record: Any) -> Tuple[Optional[ThreadTimeline], Optional[str]]:
    """The timeline of ``record``'s procfs.json, or a note; reads at most MAX_ARTEFACT_BYTES."""
    art = next((a for a in record.artefacts if a.kind == KIND), None)
    if art is None:
        return None, "This capture holds no procfs timeline."
    if art.raw_bytes > MAX_ARTEFACT_BYTES:
        return None, f"The procfs timeline is {art.raw_bytes} bytes; the page charts at most {MAX_ARTEFACT_BYTES}."
    try:
        doc = json.loads(vault.read_artefact(record.id, KIND))
    except (SpikeVaultError, ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return None, f"procfs.json could not be read: {exc}"
    return parse(doc)


def render(tl: Optional[ThreadTimeline], note: Optional[str]) -> str:
    """The chart section (a note in place of the chart when there is none)."""
    if tl is None:
        return f'<section id="threads"><h2>Threads</h2><p class="note" id="threads-note">{text(note or "")}</p></section>'
    label, w, rh = 170, 900, 18
    cw = (w - label) / tl.columns
    parts = []
    for i, row in enumerate(tl.rows):
        y = i * rh
        parts.append(f'<g class="row" data-tid="{row.tid}"><text class="name" x="2" y="{y + 13}">{text(row.name)}'
                     f"</text><title>{text(row.name)} (tid {row.tid}): {row.cpu_seconds:.2f} CPU s</title></g>")
        for j, cell in enumerate(row.cells):
            if cell is None:
                continue
            cpu, state = cell
            h = (rh - 2) * min(cpu, 100.0) / 100.0
            x = label + j * cw
            parts.append(f'<g><title>{text(row.name)} (tid {row.tid}) {text(state)} {cpu:.0f}% CPU</title>'
                         f'<rect class="st-{_STATES.get(state, "other")}" x="{x:.1f}" y="{y}" width="{max(cw - 0.5, 0.5):.1f}" '
                         f'height="{rh - 2}"/><rect class="cpu" x="{x:.1f}" y="{y + rh - 2 - h:.1f}" '
                         f'width="{max(cw - 0.5, 0.5):.1f}" height="{h:.1f}"/></g>')
    shown = (f"the {len(tl.rows)} busiest of {tl.thread_count} threads"
             if tl.thread_count > len(tl.rows) else f"{tl.thread_count} threads")
    bucket = "" if tl.columns == tl.sample_count else f", {tl.sample_count} samples averaged into {tl.columns} columns"
    skipped = f"; {tl.skipped} malformed entries skipped" if tl.skipped else ""
    return (f'<section id="threads"><h2>Threads (procfs timeline)</h2><p class="info">CPU % of one core per sample '
            f"(bar) and state (R run, S sleep, D disk, other) over {tl.duration:.1f} s: {text(shown)}{text(bucket)}"
            f'{text(skipped)}.</p><svg class="threads" id="threads-chart" viewBox="0 0 {w} {len(tl.rows) * rh}" '
            f'role="img" aria-label="threads over the capture">{"".join(parts)}</svg></section>')
