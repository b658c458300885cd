#!/usr/bin/env python3
"""Metric-capture benchmark (#18): for each trigger metric, the slowdown of a fixed workload
while a 5 s capture of it runs (auto: procfs + stack backend + the metric's collectors; and
the collectors alone on procfs), and the capture's artefact sizes beside a core dump of the
same process (gdb's gcore) compressed with zstd -3. Baseline and captured runs alternate in
one session (order reversed every round); the slowdown that counts is CPU time of the target
per fixed work (robust to other load on a shared machine, unlike wall time), as the median of
the per-round ratios captured/baseline with their min-max spread. Usage: run.py [RUNS]
(library from SPIKEVAULT_LIBRARY; METRICS=memory,diskIO runs a subset)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "bindings" / "python"))
import spikevault  # noqa: E402

METRICS = [m for m in os.environ.get("METRICS", "cpu,memory,diskIO,network,threads,fds").split(",") if m]
DURATION = 5.0


def build(out: Path) -> Path:
    exe = out / "workloads"
    subprocess.run(["gcc", "-O2", "-g", "-fno-omit-frame-pointer", "-pthread", str(HERE / "workloads.c"), "-o", str(exe)],
                   check=True)
    return exe


def one_run(exe: Path, metric: str, vault, mode: str, scratch: Path, want_core: bool):
    """mode: 'none' (baseline), 'auto', 'collectors'. Returns (work seconds, capture record or None, core.zst bytes)."""
    work = Path(tempfile.mkdtemp(dir=scratch))
    proc = subprocess.Popen([str(exe), metric, str(work)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        fut = None
        if mode != "none":
            kw = dict(backend="auto") if mode == "auto" else dict(backend="procfs",
                                                               collectors=[] if metric == "cpu" else None)
            if mode == "collectors" and metric != "cpu":
                kw["collectors"] = {"network": ["network", "fds"]}.get(metric, [metric])
            fut = vault.capture_async(proc.pid, metric=metric, value=1, duration=DURATION, **kw)
            time.sleep(0.3)  # let the capture's snapshots and perf start before the work does
        proc.stdin.write(b"g")
        proc.stdin.flush()
        wall, cpu_s = (float(x) for x in proc.stdout.readline().split())
        seconds = (wall, cpu_s)
        record = fut.result(timeout=DURATION + 120) if fut else None
        core = 0
        if want_core and shutil.which("gcore") and shutil.which("zstd"):
            prefix = scratch / f"core-{metric}"
            subprocess.run(["gcore", "-o", str(prefix), str(proc.pid)], check=True, capture_output=True)
            dump = Path(f"{prefix}.{proc.pid}")
            subprocess.run(["zstd", "-3", "-q", "-f", "--rm", str(dump), "-o", str(dump) + ".zst"], check=True)
            core = os.path.getsize(str(dump) + ".zst")
            os.unlink(str(dump) + ".zst")
        return seconds, record, core
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def _perf_note(vault, rec) -> str:
    """The sampling the metric's perf recorder used, from the artefact's own note."""
    for a in rec.artefacts:
        if a.kind in ("mappings.json", "io.json"):
            doc = json.loads(vault.read_artefact(rec.id, a.kind))
            return (doc.get("growthStacks") or doc.get("ioStacks") or {}).get("perf") or ""
    return ""


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    scratch = Path(tempfile.mkdtemp(prefix="sv-bench-metric-"))
    try:
        exe = build(scratch)
        vault = spikevault.Vault(scratch / "vault", durability=0, capture_cooldown_seconds=0)
        rows = []
        for metric in METRICS:
            times = {"none": [], "auto": [], "collectors": []}
            sizes = {"auto": [], "collectors": []}
            kinds = {}
            perf_notes = set()
            core = 0
            for r in range(runs):
                order = ["none", "auto", "collectors"] if r % 2 == 0 else ["collectors", "auto", "none"]
                for mode in order:
                    s, rec, c = one_run(exe, metric, vault, mode, scratch, want_core=(mode == "auto" and core == 0))
                    times[mode].append(s)
                    if c:
                        core = c
                    if rec is not None:
                        sizes[mode].append((sum(a.raw_bytes for a in rec.artefacts), sum(a.stored_bytes for a in rec.artefacts)))
                        if mode == "auto":
                            kinds = {a.kind: a.stored_bytes for a in rec.artefacts}
                            perf_notes.add(_perf_note(vault, rec))
            def med(mode: str, i: int) -> float:
                return statistics.median(t[i] for t in times[mode])

            def paired(mode: str) -> tuple:
                """Median and spread of the per-round CPU ratios (same round, adjacent runs)."""
                r = sorted(c[1] / b[1] for c, b in zip(times[mode], times["none"]))
                return statistics.median(r), r[0], r[-1]
            base = med("none", 0)
            auto_stored = statistics.median(s for _, s in sizes["auto"])
            coll_stored = statistics.median(s for _, s in sizes["collectors"])
            rows.append((metric, base, med("auto", 0) / base, med("collectors", 0) / base,
                         paired("auto"), paired("collectors"),
                         statistics.median(r for r, _ in sizes["auto"]), auto_stored, coll_stored, core, kinds,
                         sorted(n for n in perf_notes if n)))
        vault.close()
        lines = [f"metric capture benchmark: {DURATION:.0f} s captures, {runs} interleaved rounds; wall x = median wall time "
                 "of the fixed work captured / uncaptured (load-sensitive); CPU x = median of the per-round ratios of the "
                 "target's CPU time for the same work, captured / uncaptured [min-max over rounds] (the figure that counts, "
                 "goal <= 1.05); auto = procfs + stack backend + the metric's collectors, coll = procfs + collectors", ""]
        lines.append(f"{'metric':8} {'work s':>7} {'auto x':>7} {'coll x':>7} {'auto CPU x [spread]':>22} {'coll CPU x [spread]':>22} "
                     f"{'auto raw':>10} {'auto zst':>10} {'coll zst':>10} {'gcore zst':>11} {'gcore/auto':>10}")
        def cell(t: tuple) -> str:
            return f"{t[0]:.3f} [{t[1]:.2f}-{t[2]:.2f}]"
        for m, base, ax, cx, acx, ccx, araw, ast, cst, core, kinds, _ in rows:
            ratio = f"{core / ast:10.0f}" if core and ast else f"{'n/a':>10}"
            lines.append(f"{m:8} {base:7.2f} {ax:7.3f} {cx:7.3f} {cell(acx):>22} {cell(ccx):>22} {araw:10,} {ast:10,} {cst:10,} "
                         f"{core:11,} {ratio}")
        lines.append("")
        for m, *_, kinds, notes in rows:
            lines.append(f"  {m}: stored per artefact (auto): " + ", ".join(f"{k} {v:,} B" for k, v in sorted(kinds.items())))
            for n in notes:
                lines.append(f"  {m}: perf: {n}")
        text = "\n".join(lines) + "\n"
        print(text, end="")
        out = HERE.parent.parent / "build" / "bench-metric.txt"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
