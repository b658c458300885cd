#!/usr/bin/env python3
"""Metric-capture benchmark (#18): for each trigger metric, the slowdown of a fixed workload
while a 5 s capture of it runs (auto: procfs + stack backend + the metric's collectors; and
the collectors alone on procfs), and the capture's artefact sizes beside a core dump of the
same process (gdb's gcore) compressed with zstd -3. Baseline and captured runs alternate in
one session; figures are medians of RUNS. Usage: run.py [RUNS] (library from SPIKEVAULT_LIBRARY)."""

from __future__ import annotations

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

METRICS = ["cpu", "memory", "diskIO", "network", "threads", "fds"]
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
            def med(mode: str, i: int) -> float:
                return statistics.median(t[i] for t in times[mode])
            base = med("none", 0)
            auto_stored = statistics.median(s for _, s in sizes["auto"])
            coll_stored = statistics.median(s for _, s in sizes["collectors"])
            rows.append((metric, base, med("auto", 0) / base, med("collectors", 0) / base,
                         med("auto", 1) / med("none", 1), med("collectors", 1) / med("none", 1),
                         statistics.median(r for r, _ in sizes["auto"]), auto_stored, coll_stored, core, kinds))
        vault.close()
        lines = [f"metric capture benchmark: {DURATION:.0f} s captures, median of {runs} runs; slowdown = the fixed work's "
                 "wall (and CPU) time with the capture running / without; auto = procfs + stack backend + the metric's "
                 "collectors, coll = procfs + collectors", ""]
        lines.append(f"{'metric':8} {'work s':>7} {'auto x':>7} {'coll x':>7} {'autoCPUx':>8} {'collCPUx':>8} {'auto raw':>10} "
                     f"{'auto zst':>10} {'coll zst':>10} {'gcore zst':>11} {'gcore/auto':>10}")
        for m, base, ax, cx, acx, ccx, araw, ast, cst, core, kinds in rows:
            ratio = f"{core / ast:10.0f}" if core and ast else f"{'n/a':>10}"
            lines.append(f"{m:8} {base:7.2f} {ax:7.3f} {cx:7.3f} {acx:8.3f} {ccx:8.3f} {araw:10,} {ast:10,} {cst:10,} {core:11,} {ratio}")
        lines.append("")
        for m, *_, kinds in rows:
            lines.append(f"  {m}: stored per artefact (auto): " + ", ".join(f"{k} {v:,} B" for k, v in sorted(kinds.items())))
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
