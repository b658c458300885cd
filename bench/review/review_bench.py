"""Review benchmark: SpikeVault (SQLite, through the C ABI) vs DuckDB over the exported
snapshot, and record export vs the sqlite3 shell, measured side by side in one run.

ROWS (default 1,000,000) captures are seeded straight into the vault's database in one
transaction (same schema; no artefacts). Times are medians of REPEAT runs. DuckDB is timed
two ways: in-engine (`.timer on`, what the engine spends) and end to end (CLI spawn + open
+ query, what a caller of sv_duckdb_analytics pays). The analytics SQL below is a copy of
Sources/SpikeVault/Review/Analytics.swift; the bench checks both engines agree.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))
import spikevault  # noqa: E402

ROWS = int(os.environ.get("ROWS", "1000000"))
EXPORT_ROWS = int(os.environ.get("EXPORT_ROWS", "100000"))
REPEAT = int(os.environ.get("REPEAT", "5"))
DUCKDB = os.environ.get("SPIKEVAULT_DUCKDB") or shutil.which("duckdb")
T0 = 1_795_000_000_000


def stored(ms: int) -> str:
    """The library's stored time form for `ms` since the epoch: 2026-11-17 09:46:40.000Z."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"
SPAN = 30 * 86_400_000
NAMES = ["firefox", "chrome", "postgres", "nginx", "java", "python3", "node", "redis-server", "Xorg", "gnome-shell",
         "dockerd", "containerd", "systemd", "sshd", "cargo", "rustc", "swift-frontend", "clang", "ld.lld", "make"]
METRICS = ["cpu", "memory", "diskIO", "network", "threads", "fds"]


def median_time(fn, repeat=REPEAT):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def seed(path: Path) -> None:
    spikevault.Vault(path, durability=0, max_age_seconds=0, maintenance_interval_seconds=0).close()
    db = sqlite3.connect(path / "vault.sqlite3")
    rnd = random.Random(42)
    rows = []
    for i in range(ROWS):
        name = rnd.choice(NAMES) + ("" if rnd.random() < 0.7 else f"-{rnd.randint(1, 50)}")
        rows.append((name, rnd.randint(100, 60000), rnd.choice(METRICS), round(rnd.uniform(0, 100), 3),
                     T0 + rnd.randint(0, SPAN), rnd.random() * 5,
                     '{"capture":{"backend":"procfs","cmdline":["/home/user/bin/app","--token","s3cret"]}}'))
    db.execute("BEGIN")
    db.executemany("INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt, "
                   "durationSeconds, notes) VALUES (?,?,?,?,strftime('%Y-%m-%d %H:%M:%fZ', ? / 1000.0, 'unixepoch'),?,?)", rows)
    db.commit()
    db.execute("ANALYZE")
    db.close()


def duck_engine_time(snapshot: Path, sql: str) -> float:
    """Median in-engine time from `.timer on` over REPEAT runs in one CLI session."""
    script = ".timer on\n" + "\n".join([sql.strip().rstrip(";") + ";"] * REPEAT) + "\n"
    out = subprocess.run([DUCKDB, "-no-init", "-readonly", str(snapshot)], input=script, capture_output=True,
                         text=True, check=True).stdout
    times = [float(t) for t in re.findall(r"Run Time \(s\): real ([0-9.]+)", out)]
    return statistics.median(times)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sv-review-bench-"))
    try:
        vault_dir = work / "vault"
        start = time.perf_counter()
        seed(vault_dir)
        print(f"seeded {ROWS:,} rows in {time.perf_counter() - start:.1f} s; median of {REPEAT} runs each\n")
        vault = spikevault.Vault(vault_dir, durability=0, max_age_seconds=0, maintenance_interval_seconds=0)
        since, until = T0 + 10 * 86_400_000, T0 + 11 * 86_400_000
        results = []

        snap = work / "snap.duckdb"
        if DUCKDB:
            t = median_time(lambda: (snap.unlink(missing_ok=True), vault.export_duckdb(snap, redact=False)), 1)
            print(f"snapshot export to DuckDB ({ROWS:,} rows, via CSV + duckdb CLI): {t:.2f} s\n")
        else:
            print("DuckDB CLI not found: DuckDB columns skipped (pip install duckdb-cli)\n")

        q = dict(metric="cpu", process="fire", since=since, until=until, limit=50)
        sv = median_time(lambda: list(vault.query(**q)))
        qsql = (f"SELECT * FROM profile_capture WHERE triggerMetric = 'cpu' AND instr(lower(processName), 'fire') > 0 "
                f"AND capturedAt >= '{stored(since)}' AND capturedAt < '{stored(until)}' ORDER BY capturedAt DESC, id DESC LIMIT 50")
        duck = duck_engine_time(snap, qsql) if DUCKDB else None
        results.append(("filtered query (cpu + 'fire' + 24 h, limit 50)", sv, duck, None))

        for name in spikevault.review.ANALYTICS_NAMES:
            sv = median_time(lambda: vault.analytics(name, T0, T0 + SPAN + 1))
            duck = e2e = None
            if DUCKDB:
                a = vault.analytics(name, T0, T0 + SPAN + 1)
                b = spikevault.duckdb_analytics(snap, name, T0, T0 + SPAN + 1)
                assert a == b, f"{name}: SQLite and DuckDB disagree"
                e2e = median_time(lambda: spikevault.duckdb_analytics(snap, name, T0, T0 + SPAN + 1))
                duck = duck_engine_time(snap, ANALYTICS_SQL[name].format(s=stored(T0), u=stored(T0 + SPAN + 1)))
            results.append((f"analytics {name} (30 days)", sv, duck, e2e))

        print(f"{'query':50} {'SpikeVault':>11} {'DuckDB eng':>11} {'ratio':>7} {'DuckDB e2e':>11} {'ratio':>7}")
        for label, sv, duck, e2e in results:
            r1 = f"{sv / duck:7.2f}" if duck else "    n/a"
            r2 = f"{sv / e2e:7.2f}" if e2e else "    n/a"
            d1 = f"{duck * 1000:9.2f}ms" if duck else "        n/a"
            d2 = f"{e2e * 1000:9.2f}ms" if e2e else "        n/a"
            print(f"{label:50} {sv * 1000:9.2f}ms {d1} {r1} {d2} {r2}")
        print("(ratio = SpikeVault time / DuckDB time; < 1 means SpikeVault is faster)\n")

        db = vault_dir / "vault.sqlite3"
        sel = f"SELECT * FROM profile_capture ORDER BY capturedAt DESC, id DESC LIMIT {EXPORT_ROWS}"
        print(f"{'export of ' + format(EXPORT_ROWS, ',') + ' rows':50} {'SpikeVault':>11} {'sqlite3':>11} {'ratio':>7}")
        for fmt, flag in (("ndjson", "-json"), ("csv", "-csv")):
            for redact in (True, False):
                out = work / f"x.{fmt}"
                sv = median_time(lambda: vault.export_records(out, fmt, redact=redact, overwrite=True, limit=EXPORT_ROWS))
                ref = work / f"ref.{fmt}"

                def shell():
                    with open(ref, "w") as fh:
                        subprocess.run(["sqlite3", "-readonly", flag, "-header", str(db), sel], stdout=fh, check=True)
                sq = median_time(shell)
                label = f"{fmt} ({'redacted' if redact else 'no redaction'}) vs sqlite3 {flag}"
                print(f"{label:50} {sv * 1000:9.1f}ms {sq * 1000:9.1f}ms {sv / sq:7.2f}")
        print("(sqlite3 writes SELECT * as is: no artefact list, notes as text, no redaction)")
        vault.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


ANALYTICS_SQL = {
    "peak-by-process": """SELECT processName, triggerMetric, triggerValue AS peak, capturedAt AS peakAt, captures FROM (
        SELECT processName, triggerMetric, triggerValue, capturedAt,
          row_number() OVER (PARTITION BY processName, triggerMetric ORDER BY triggerValue DESC, capturedAt ASC, id ASC) AS rn,
          count(*) OVER (PARTITION BY processName, triggerMetric) AS captures
        FROM profile_capture WHERE capturedAt >= '{s}' AND capturedAt < '{u}') t
      WHERE rn = 1 ORDER BY peak DESC, processName, triggerMetric""",
    "captures-per-hour": """SELECT substr(capturedAt, 1, 13) || ':00:00.000Z' AS hourStart, triggerMetric, count(*) AS captures
      FROM profile_capture WHERE capturedAt >= '{s}' AND capturedAt < '{u}' GROUP BY 1, 2 ORDER BY 1, 2""",
    "top-processes": """SELECT processName, count(*) AS captures, max(triggerValue) AS peak,
        rank() OVER (ORDER BY count(*) DESC) AS rankByCount
      FROM profile_capture WHERE capturedAt >= '{s}' AND capturedAt < '{u}'
      GROUP BY processName ORDER BY captures DESC, processName LIMIT 20""",
    "p95-by-process": """SELECT processName, triggerValue AS p95, n AS captures FROM (
        SELECT processName, triggerValue, row_number() OVER (PARTITION BY processName ORDER BY triggerValue, id) AS rn,
          count(*) OVER (PARTITION BY processName) AS n
        FROM profile_capture WHERE capturedAt >= '{s}' AND capturedAt < '{u}') t
      WHERE rn * 100 >= 95 * n AND (rn - 1) * 100 < 95 * n ORDER BY processName""",
}

if __name__ == "__main__":
    main()
