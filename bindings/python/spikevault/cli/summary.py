"""A capture's summary ("copy summary"), rendered in Python from the Record and its
artefacts until the library's summary (issue 5) is merged: process, trigger, times in UTC and
local, duration, backends that ran, sizes, the top stacks and the busiest threads."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from .records import Redactor, record_dict
from .render import format_value, human_size, local_time, relative_time, utc_time
from .stacks import parse_folded, top_stacks

__all__ = ["summary_dict", "summary_text", "STACK_KINDS"]

STACK_KINDS = ("oncpu.folded", "offcpu.folded")


def _stack_kind(record: Any) -> Optional[str]:
    kinds = [a.kind for a in record.artefacts]
    for k in STACK_KINDS:
        if k in kinds:
            return k
    return next((k for k in kinds if k.endswith(".folded")), None)


def _busiest_threads(procfs: Dict[str, Any], n: int = 5) -> List[Dict[str, Any]]:
    acc: Dict[int, Dict[str, Any]] = {}
    for sample in procfs.get("samples") or []:
        for t in sample.get("threads") or []:
            cpu = t.get("cpuPercent")
            if cpu is None or "tid" not in t:
                continue
            e = acc.setdefault(t["tid"], {"tid": t["tid"], "name": t.get("name") or "?", "sum": 0.0, "n": 0, "states": {}})
            e["sum"] += float(cpu)
            e["n"] += 1
            e["states"][t.get("state", "?")] = e["states"].get(t.get("state", "?"), 0) + 1
    out = [{"tid": e["tid"], "name": e["name"], "cpuPercent": round(e["sum"] / e["n"], 1),
            "state": max(e["states"], key=e["states"].get)} for e in acc.values() if e["n"]]
    return sorted(out, key=lambda t: (-t["cpuPercent"], t["tid"]))[:n]


def summary_dict(vault: Any, record: Any, redact: Optional[Redactor] = None, top: int = 5) -> Dict[str, Any]:
    r = redact or (lambda x: x)
    d = record_dict(record, redact)
    capture = record.notes.get("capture") if isinstance(record.notes.get("capture"), dict) else {}
    d["capturedAtLocal"] = local_time(record.captured_at)
    d["backendsRun"] = capture.get("backendsRun") or []
    d["backendsSkipped"] = r(capture.get("backendsSkipped") or [])
    d["reason"] = r(capture.get("reason"))
    d["exe"] = r(capture.get("exe"))
    d["cmdline"] = r(capture.get("cmdline"))
    d["unreadable"] = {}
    kind = _stack_kind(record)
    d["topStacks"], d["stackKind"], d["stackSamples"] = [], kind, 0
    if kind:
        try:
            stacks = parse_folded(vault.read_artefact(record.id, kind))
            total = sum(c for _, c in stacks)
            d["stackSamples"] = total
            d["topStacks"] = [{"stack": r(s), "samples": c, "percent": round(100.0 * c / total, 1)}
                              for s, c in top_stacks(stacks, top)]
        except Exception as exc:  # a damaged artefact must not hide the rest of the summary
            d["unreadable"][kind] = str(exc)
    d["busiestThreads"] = []
    if any(a.kind == "procfs.json" for a in record.artefacts):
        try:
            d["busiestThreads"] = r(_busiest_threads(json.loads(vault.read_artefact(record.id, "procfs.json")), top))
        except Exception as exc:
            d["unreadable"]["procfs.json"] = str(exc)
    return d


def _short_stack(stack: str, keep: int = 4) -> str:
    frames = stack.split(";")
    return stack if len(frames) <= keep else "…;" + ";".join(frames[-keep:])


def summary_text(d: Dict[str, Any], now: Optional[datetime] = None) -> str:
    when = datetime.fromisoformat(d["capturedAt"].replace("Z", "+00:00"))
    lines = [
        f"Capture {d['id']}: {d['processName']} (pid {d['pid']}), {d['triggerMetric']} "
        f"{format_value(d['triggerMetric'], d['triggerValue'])}",
        f"  Captured:  {d['capturedAt']} UTC ({d['capturedAtLocal']}), {relative_time(when, now or datetime.now(timezone.utc))}",
        f"  Duration:  {d['durationSeconds']:.1f}s    Status: {d['status']}" + (f" ({d['reason']})" if d.get("reason") else ""),
    ]
    if d["backendsRun"]:
        skipped = "; ".join(f"{s.get('backend')}: {s.get('reason')}" for s in d["backendsSkipped"] if isinstance(s, dict))
        lines.append(f"  Backends:  {', '.join(d['backendsRun'])}" + (f" (skipped {skipped})" if skipped else ""))
    if d.get("cmdline"):
        lines.append(f"  Command:   {' '.join(d['cmdline'])}")
    elif d.get("exe"):
        lines.append(f"  Exe:       {d['exe']}")
    lines.append(f"  Size:      {human_size(d['storedBytes'])} stored, {human_size(d['rawBytes'])} raw, "
                 f"{len(d['artefacts'])} artefact{'s' if len(d['artefacts']) != 1 else ''}")
    for a in d["artefacts"]:
        lines.append(f"    {a['kind']:<16} {human_size(a['rawBytes']):>9} raw {human_size(a['storedBytes']):>9} stored")
    if d["topStacks"]:
        lines.append(f"  Top stacks ({d['stackKind']}, {d['stackSamples']:,} samples):")
        for s in d["topStacks"]:
            lines.append(f"    {s['percent']:5.1f}% {s['samples']:>7,}  {_short_stack(s['stack'])}")
    if d["busiestThreads"]:
        lines.append("  Busiest threads (procfs.json, mean CPU % of one core):")
        for t in d["busiestThreads"]:
            lines.append(f"    {t['cpuPercent']:5.1f}%  {t['name']} (tid {t['tid']}, mostly {t['state']})")
    for kind, why in d["unreadable"].items():
        lines.append(f"  Unreadable: {kind}: {why}")
    host_notes = {k: v for k, v in d["notes"].items() if k != "capture"} if isinstance(d["notes"], dict) else {}
    if host_notes:
        lines.append(f"  Notes:     {json.dumps(host_notes, sort_keys=True)}")
    return "\n".join(lines)
