"""Host identity, partitioned Parquet and fleet analytics (docs/fleet.md): twenty vaults with
distinct hosts, filled by real saves, export into one tree; every template gives the same
rows in DuckDB, in ClickHouse (chDB) and in SQLite over the vault databases merged by hand."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

import pytest

import spikevault
from spikevault import Option, Status
from spikevault.cli.fleet_sql import TEMPLATES, normalise, render
from test_cli import run_cli

BASE = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
PROCESSES = ["postgres", "nginx", "java", "python3"]
ALL = ("0000-01-01 00:00:00.000Z", "9999-12-31 23:59:59.999Z")


def need_duckdb() -> None:
    if shutil.which("duckdb") is None and not os.environ.get("SPIKEVAULT_DUCKDB"):
        pytest.skip("the duckdb CLI is not installed (scripts/deps.sh installs duckdb-cli)")


def fill(v: spikevault.Vault, h: int, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        name = PROCESSES[(h + i) % len(PROCESSES)]
        folded = f"main;{name}_loop;hot_{i % 3} {1 + (h * 7 + i) % 11}\nmain;idle {1 + i % 2}\n".encode()
        v.save(process_name=name, pid=100 + i, metric="cpu" if i % 3 else "memory", value=float(10 + (h * 13 + i * 7) % 90),
               captured_at=BASE + timedelta(minutes=17 * i + h), duration=1.0,
               artefacts={"oncpu.folded": folded, "procfs.json": b"{}"})


@pytest.fixture
def fleet(lib, tmp_path: Path) -> List[Path]:
    paths = []
    for h in range(20):
        p = tmp_path / f"vault{h:02d}"
        with spikevault.Vault(p, durability=0, max_age_seconds=0, host_name=f"host-{h:02d}.example",
                              machine_id=f"{h:032x}") as v:
            fill(v, h, 12)
        paths.append(p)
    return paths


def test_host_identity_recorded_and_overridable(lib, tmp_path: Path) -> None:
    with spikevault.Vault(tmp_path / "auto", durability=0) as v:
        rid = v.save(process_name="a", pid=1, metric="cpu", value=1.0, artefacts={"x.txt": b"x"})
        r = v.get(rid)
    assert r.host == spikevault_hostname()
    mid = Path("/etc/machine-id")
    if mid.is_file() and os.access(mid, os.R_OK) and len(mid.read_text().strip()) == 32:
        assert r.machine_id == mid.read_text().strip()
    with spikevault.Vault(tmp_path / "set", durability=0, host_name="node-7", machine_id="abc") as v:
        r = v.get(v.save(process_name="a", pid=1, metric="cpu", value=1.0, artefacts={"x.txt": b"x"}))
        assert (r.host, r.machine_id) == ("node-7", "abc")
        v.export_records(tmp_path / "r.json", "json")
        v.export_records(tmp_path / "raw.json", "json", redact=False)
        v.export_records(tmp_path / "r.csv", "csv", redact=False)
        rows = json.loads((tmp_path / "r.json").read_text())
        assert rows[0]["host"] == "node-7" and rows[0]["machineId"] is None  # redacted: no machine id
        assert json.loads((tmp_path / "raw.json").read_text())[0]["machineId"] == "abc"
        header, line = (tmp_path / "r.csv").read_text().splitlines()[:2]
        assert header.endswith("host,machineId") and line.endswith("node-7,abc")


def spikevault_hostname() -> str:
    import re
    import socket
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()[:252])
    return name if name[:1].isalnum() else "h" + name


def test_host_identity_bad_values(lib, tmp_path: Path) -> None:
    for bad in ("", "-lead", "a/b", "x" * 254, "ho st", "h\x1b[31m"):
        with pytest.raises(spikevault.InvalidArgumentError, match="hostName"):
            spikevault.Vault(tmp_path / "v", host_name=bad)
    with pytest.raises(spikevault.InvalidArgumentError, match="machineID"):
        spikevault.Vault(tmp_path / "v", machine_id="../../etc")
    import ctypes
    h = ctypes.c_void_p()
    assert lib.sv_options_new(ctypes.byref(h)) == 0
    try:
        assert lib.sv_options_set_int(h, int(Option.HOST_NAME), 5) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_options_set_string(h, int(Option.COMPRESSION_LEVEL), b"3") == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_options_set_string(h, 9999, b"x") == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_options_set_string(h, int(Option.HOST_NAME), b"\xff\xfe") != 0
        assert lib.sv_options_set_string(h, int(Option.HOST_NAME), b"ok-name") == 0
        assert lib.sv_options_set_string(h, int(Option.HOST_NAME), None) == 0
        assert lib.sv_option_bounds(int(Option.HOST_NAME), None, None, None) == Status.ERR_INVALID_ARGUMENT
    finally:
        lib.sv_options_free(h)


def parquet_rows(tree: Path, table: str) -> List[dict]:
    import subprocess
    out = subprocess.run([shutil.which("duckdb") or os.environ["SPIKEVAULT_DUCKDB"], "-json", ":memory:", "-c",
                          f"SELECT * FROM read_parquet('{tree}/{table}/**/*.parquet', hive_partitioning = false) "
                          "ORDER BY host, captureId" + (", kind, stack" if table == "stacks" else "")],
                         capture_output=True, text=True, check=True).stdout.strip()
    return json.loads(out) if out else []


def merged_sqlite(paths: List[Path]) -> sqlite3.Connection:
    """Every vault's rows copied by hand into one SQLite database with the Parquet columns."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE captures (host, captureId, processName, triggerMetric, triggerValue, capturedAt)")
    db.execute('CREATE TABLE stacks (host, captureId, capturedAt, kind, stack, "count")')
    for p in paths:
        src = sqlite3.connect(f"file:{p}/vault.sqlite3?mode=ro", uri=True)
        rows = src.execute("SELECT host, id, processName, triggerMetric, triggerValue, capturedAt FROM profile_capture").fetchall()
        db.executemany("INSERT INTO captures VALUES (?, ?, ?, ?, ?, ?)", rows)
        src.close()
        with spikevault.Vault(p, create=False) as v:
            for r in v.query():
                for line in v.read_artefact(r.id, "oncpu.folded").decode().splitlines():
                    stack, _, n = line.rpartition(" ")
                    db.execute("INSERT INTO stacks VALUES (?, ?, ?, ?, ?, ?)",
                               (r.host, r.id, r.captured_at.isoformat(sep=" ", timespec="milliseconds")
                                .replace("+00:00", "Z"), "oncpu.folded", stack, int(n)))
    return db


def sqlite_rows(db: sqlite3.Connection, name: str) -> List[dict]:
    cur = db.execute(render(name, "captures", "stacks", *ALL))
    cols = [c[0] for c in cur.description]
    return normalise(name, [dict(zip(cols, row)) for row in cur.fetchall()])


def test_twenty_hosts_one_tree_three_engines(fleet: List[Path], tmp_path: Path) -> None:
    need_duckdb()
    from spikevault.cli.cmd_fleet import fleet_rows
    tree = tmp_path / "tree"
    for p in fleet:
        with spikevault.Vault(p, create=False) as v:
            assert v.export_parquet(tree) == 12
    hosts = sorted(d.name for d in (tree / "captures").iterdir())
    assert hosts == [f"host=host-{h:02d}.example" for h in range(20)]
    captures = parquet_rows(tree, "captures")
    assert len(captures) == 240 and {r["schemaVersion"] for r in captures} == {1}
    assert all(r["machineId"] is None for r in captures)  # redacted by default
    assert len(parquet_rows(tree, "stacks")) == 240 * 2
    db = merged_sqlite(fleet)
    chdb_ok = True
    try:
        import chdb  # noqa: F401
    except ImportError:
        chdb_ok = False
    for name in TEMPLATES:
        expected = sqlite_rows(db, name)
        assert expected, f"{name} has no rows: the fixture should exercise it"
        assert fleet_rows("duckdb", [str(tree)], name, *ALL) == expected, name
        if chdb_ok:
            assert fleet_rows("clickhouse", [str(tree)], name, *ALL) == expected, name
    if not chdb_ok:
        pytest.skip("chdb is not installed (scripts/deps.sh installs it): ClickHouse answers not compared")


def test_incremental_and_reproducible(lib, tmp_path: Path) -> None:
    need_duckdb()
    tree = tmp_path / "tree"
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0, host_name="h1") as v:
        fill(v, 1, 5)
        assert v.export_parquet(tree) == 5
        first = sorted(str(p.relative_to(tree)) for p in tree.rglob("*.parquet"))
        assert v.export_parquet(tree) == 0  # nothing new
        fill(v, 1, 3, start=5)
        assert v.export_parquet(tree) == 3  # only the new ones
        files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*.parquet"))
        assert set(first) < set(files)
        rows = parquet_rows(tree, "captures")
        assert [r["captureId"] for r in rows] == list(range(1, 9))
        stacks = parquet_rows(tree, "stacks")
        shutil.rmtree(tree)
        assert v.export_parquet(tree) == 8  # the tree is gone: everything again
        assert parquet_rows(tree, "captures") == rows and parquet_rows(tree, "stacks") == stacks
    # A separate directory has its own watermark.
    with spikevault.Vault(tmp_path / "v", create=False) as v:
        assert v.export_parquet(tmp_path / "other") == 8


def test_parquet_bad_outputs(lib, tmp_path: Path) -> None:
    need_duckdb()
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0, host_name="h1") as v:
        fill(v, 1, 2)
        (tmp_path / "file").write_text("x")
        with pytest.raises(spikevault.UnsafePathError):
            v.export_parquet(tmp_path / "file")
        (tmp_path / "real").mkdir()
        (tmp_path / "link").symlink_to(tmp_path / "real")
        with pytest.raises(spikevault.UnsafePathError):
            v.export_parquet(tmp_path / "link")
        (tmp_path / "open").mkdir()
        os.chmod(tmp_path / "open", 0o777)
        with pytest.raises(spikevault.UnsafePathError, match="writable by group or others"):
            v.export_parquet(tmp_path / "open")
        with pytest.raises(spikevault.NotFoundError):
            v.export_parquet(tmp_path / "missing" / "deeper")
        assert not any((tmp_path / "real").iterdir()) and not any((tmp_path / "open").iterdir())
        path = v.path
    r = run_cli(["export", "--format", "parquet"], vault=Path(path))
    assert r.returncode == 2 and b"-o DIR" in r.stderr
    r = run_cli(["export", "--format", "parquet", "--since", "1h", "-o", str(tmp_path / "t")], vault=Path(path))
    assert r.returncode == 2
    r = run_cli(["export", "--format", "parquet", "-o", str(tmp_path / "t")], vault=Path(path))
    assert r.returncode == 0, r.stderr
    r = run_cli(["fleet", str(tmp_path / "t"), "--template", "top-processes"], vault=Path(path))
    assert r.returncode == 0, r.stderr
    assert sum(row["captures"] for row in json.loads(r.stdout)) == 2
    r = run_cli(["fleet", str(tmp_path / "real")], vault=Path(path))
    assert r.returncode == 1 and b"no Parquet captures" in r.stderr
    r = run_cli(["fleet", "/tmp/it's"], vault=Path(path))
    assert r.returncode == 2
    r = run_cli(["fleet", str(tmp_path / "t"), "--engine", "oracle"], vault=Path(path))
    assert r.returncode == 2


def test_show_names_the_host(lib, tmp_path: Path) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, host_name="node-7", machine_id="abc123") as v:
        rid = v.save(process_name="a", pid=1, metric="cpu", value=1.0, artefacts={"x.txt": b"x"})
        path = Path(v.path)
    r = run_cli(["show", str(rid)], vault=path)
    assert r.returncode == 0, r.stderr
    assert b"Host:       node-7\n" in r.stdout and b"abc123" not in r.stdout  # redacted: no machine id
    r = run_cli(["show", str(rid), "--json"], vault=path)
    doc = json.loads(r.stdout)
    assert doc["host"] == "node-7" and doc["machineId"] is None
