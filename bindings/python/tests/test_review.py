"""Review and export through the real library: filters with known answers, exports parsed
back by independent readers (json, csv, tarfile, the DuckDB CLI), speedscope against its
schema, redaction, analytics in SQLite vs DuckDB, bad input (raw C calls and the Python API)."""

from __future__ import annotations

import csv
import ctypes
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

import pytest

import spikevault
from spikevault import FilterField, Format, Status
from conftest import PACKAGE_ROOT

REPO = PACKAGE_ROOT.parent.parent
SCHEMA = REPO / ".." / "shared" / "data" / "speedscope-file-format-schema.json"
CORPUS = json.loads((Path(__file__).parent / "data" / "redaction_corpus.json").read_text())
BASE = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def stored_time(when: datetime) -> str:
    """The library's one time form (database, JSON, CSV, analytics): 2026-11-20 08:00:00.000Z."""
    return when.astimezone(timezone.utc).isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "Z")
FOLDED = b"main;work;hot 7\nmain;idle 3\nmain;work;cold 2\n"
ROWS = [  # name, pid, metric, value, minutes after BASE, status-free
    ("firefox", 100, "cpu", 95.0, 0),
    ("Firefox-bin", 101, "memory", 2048.0, 60),
    ("postgres", 200, "cpu", 80.0, 120),
    ("postgres", 200, "cpu", 99.5, 1500),
    ("nginx", 300, "diskIO", 10.0, 1501),
    ("fire[x]", 301, "cpu", 50.0, 1502),
]


@pytest.fixture
def seeded(vault: spikevault.Vault) -> List[int]:
    ids = []
    for name, pid, metric, value, minutes in ROWS:
        ids.append(vault.save(process_name=name, pid=pid, metric=metric, value=value,
                              captured_at=BASE + timedelta(minutes=minutes), duration=1.5,
                              notes={"capture": {"backend": "procfs", "cmdline": ["app", "--token", "tok-SEEKRIT"]}},
                              artefacts={"oncpu.folded": FOLDED, "procfs.json": json.dumps(
                                  {"summary": {"threads": [{"tid": pid, "name": "hot", "cpuPercent": 99.0, "cpuSeconds": 1.2},
                                                           {"tid": pid + 1, "name": "cold", "cpuPercent": 1.0, "cpuSeconds": 0.1}]}}
                              ).encode()}))
    return ids


def ids(records) -> List[int]:
    return [r.id for r in records]


def test_filters_alone_and_combined(vault, seeded) -> None:
    s = seeded
    assert ids(vault.query()) == s[::-1]
    assert ids(vault.query(metric="cpu")) == [s[5], s[3], s[2], s[0]]
    assert ids(vault.query(metric=["memory", "disk_io"])) == [s[4], s[1]]
    assert ids(vault.query(process="FIRE")) == [s[5], s[1], s[0]]
    assert ids(vault.query(process_glob="fire*")) == [s[5], s[0]]
    assert ids(vault.query(pid=200)) == [s[3], s[2]]
    assert ids(vault.query(since=BASE + timedelta(minutes=60), until=BASE + timedelta(minutes=1501))) == [s[3], s[2], s[1]]
    assert ids(vault.query(min_value=80, max_value=99.5)) == [s[3], s[2], s[0]]
    assert ids(vault.query(status="complete", limit=2)) == [s[5], s[4]]
    assert ids(vault.query(order="value", limit=2)) == [s[1], s[3]]
    assert ids(vault.query(order="time-asc", limit=1)) == [s[0]]
    assert ids(vault.query(metric="cpu", process="fire", since=BASE, until=BASE + timedelta(hours=24), min_value=90)) == [s[0]]
    assert vault.count(metric="cpu") == 4
    assert vault.count(metric="cpu", process="post", limit=1) == 2


def test_keyset_pagination_python_and_c_keys(vault, seeded, lib) -> None:
    for order in ("time-desc", "time-asc", "value-desc", "value-asc"):
        seen, after = [], None
        while True:
            page = list(vault.query(order=order, limit=4, after=after))
            if not page:
                break
            seen += ids(page)
            after = page[-1]
        assert seen == ids(vault.query(order=order))
    # The C key equals the one the binding computes.
    f, cur = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.sv_filter_new(ctypes.byref(f)) == 0
    with vault._using() as handle:
        assert lib.sv_vault_query(handle, f, ctypes.byref(cur)) == 0
    assert lib.sv_cursor_next(cur) == Status.ROW
    key = lib.sv_cursor_key(cur).decode()
    assert key == spikevault.record_key(vault.query(limit=1).__next__())
    lib.sv_cursor_close(cur)
    lib.sv_filter_free(f)


def test_exports_parse_back_and_match(vault, seeded, tmp_path) -> None:
    records = {r.id: r for r in vault.query()}
    n = vault.export_records(tmp_path / "a.json", "json")
    rows = json.loads((tmp_path / "a.json").read_text())
    assert n == len(rows) == len(ROWS)
    nd = [json.loads(line) for line in (tmp_path / "a.ndjson").read_text().splitlines()] if vault.export_records(
        tmp_path / "a.ndjson", "ndjson") else []
    assert nd == rows
    vault.export_records(tmp_path / "a.csv", "csv", metric="cpu")
    raw = (tmp_path / "a.csv").read_bytes()
    assert raw.endswith(b"\r\n")
    table = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    assert [int(r["id"]) for r in table] == [r.id for r in vault.query(metric="cpu")]
    for row in rows:
        rec = records[row["id"]]
        assert row["processName"] == rec.process_name and row["pid"] == rec.pid
        assert row["triggerMetric"] == rec.metric.stored_name and row["triggerValue"] == rec.value
        assert row["capturedAt"] == stored_time(rec.captured_at)
        assert [a["kind"] for a in row["artefacts"]] == [a.kind for a in rec.artefacts]
        assert row["notes"]["capture"]["cmdline"] == ["app", "--token", "<redacted>"]
    for row in table:
        rec = records[int(row["id"])]
        assert row["processName"] == rec.process_name and float(row["triggerValue"]) == rec.value
        assert json.loads(row["notes"])["capture"]["cmdline"][2] == "<redacted>"
    # Unredacted on request.
    vault.export_records(tmp_path / "raw.ndjson", "ndjson", redact=False)
    assert "tok-SEEKRIT" in (tmp_path / "raw.ndjson").read_text()


def test_bundle_tar_with_metadata_and_zstd_artefacts(vault, seeded, tmp_path) -> None:
    calls = []
    n = vault.export_bundle(tmp_path / "b.tar", metric="cpu", progress=lambda d, t: calls.append((d, t)))
    assert n == 4
    with tarfile.open(tmp_path / "b.tar") as tar:
        names = tar.getnames()
        meta = json.load(tar.extractfile("metadata.json"))
        assert [r["id"] for r in meta["records"]] == ids(vault.query(metric="cpu"))
        assert len(meta["files"]) == 8 and meta["missing"] == []
        for f in meta["files"]:
            data = tar.extractfile(f["path"]).read()
            assert data[:4] == b"\x28\xb5\x2f\xfd" and len(data) == f["storedBytes"]
        assert set(names) == {"metadata.json"} | {f["path"] for f in meta["files"]}
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0
    # Cancelling leaves nothing behind.
    with pytest.raises(spikevault.CancelledError):
        vault.export_bundle(tmp_path / "c.tar", progress=lambda d, t: False)
    assert not (tmp_path / "c.tar").exists()
    # Zero records: a valid tar whose metadata lists no records (documented, not an error).
    assert vault.export_bundle(tmp_path / "empty.tar", process="no-such-process") == 0
    with tarfile.open(tmp_path / "empty.tar") as tar:
        assert tar.getnames() == ["metadata.json"]
        assert json.load(tar.extractfile("metadata.json"))["records"] == []


def test_speedscope_validates_against_the_schema(vault, seeded, tmp_path) -> None:
    vault.export_stacks(seeded[0], tmp_path / "s.speedscope.json", "speedscope")
    doc = json.loads((tmp_path / "s.speedscope.json").read_text())
    profile = doc["profiles"][0]
    assert profile["type"] == "sampled" and len(profile["samples"]) == len(profile["weights"]) == 3
    assert sum(profile["weights"]) == 12 and profile["endValue"] == 12
    frames = [f["name"] for f in doc["shared"]["frames"]]
    assert sorted(" ".join(frames[i] for i in s) for s in profile["samples"]) == ["main idle", "main work cold", "main work hot"]
    vault.export_stacks(seeded[0], tmp_path / "s.folded", "folded")
    assert (tmp_path / "s.folded").read_bytes() == b"main;idle 3\nmain;work;cold 2\nmain;work;hot 7\n"
    if not SCHEMA.is_file():
        print(f"SKIP schema validation: {SCHEMA} is absent (the shared folder is not beside the repository)")
        pytest.skip(f"speedscope schema not found at {SCHEMA}")
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (scripts/deps.sh installs it)")
    jsonschema.Draft6Validator(json.loads(SCHEMA.read_text())).validate(doc)


def test_summary_text_and_json(vault, seeded) -> None:
    text = vault.summary(seeded[0])
    assert "firefox (pid 100)" in text and "UTC" in text and "local" in text
    assert "Top stacks (oncpu.folded, 12 samples)" in text and "Busiest threads" in text
    assert "tok-SEEKRIT" not in text and "<redacted>" in text
    doc = vault.summary(seeded[0], "json")
    assert doc["topStacks"][0] == {"frames": ["main", "work", "hot"], "samples": 7, "percent": pytest.approx(58.333333)}
    assert doc["busiestThreads"][0]["tid"] == 100 and doc["capturedAtUTC"] == doc["capturedAt"] == "2026-11-20 08:00:00.000Z"
    assert doc["cmdline"] == ["app", "--token", "<redacted>"] and doc["redacted"] is True
    assert "tok-SEEKRIT" in json.dumps(vault.summary(seeded[0], "json", redact=False))


def test_redaction_corpus_leaks_no_secret(vault, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", CORPUS["home"])
    rid = []
    for i, case in enumerate(CORPUS["cases"]):
        rid.append(vault.save(process_name=f"proc{i}", pid=1000 + i, metric="cpu", value=1.0,
                              notes={"capture": {"cmdline": case["argv"], "exe": case["argv"][0]},
                                     "commandLine": " ".join(case["argv"])},
                              artefacts={"oncpu.folded": (";".join(case["argv"]) + " 1\n").encode()}))
    out: Dict[str, str] = {}
    for fmt in ("json", "ndjson", "csv"):
        vault.export_records(tmp_path / f"x.{fmt}", fmt)
        out[fmt] = (tmp_path / f"x.{fmt}").read_text()
    vault.export_bundle(tmp_path / "x.tar")
    with tarfile.open(tmp_path / "x.tar") as tar:
        out["bundle"] = tar.extractfile("metadata.json").read().decode()
    for i, r in enumerate(rid):
        out[f"summary{i}"] = vault.summary(r) + json.dumps(vault.summary(r, "json"))
    rows = {r["id"]: r for r in json.loads(out["json"])}
    for i, case in enumerate(CORPUS["cases"]):
        assert rows[rid[i]]["notes"]["capture"]["cmdline"] == [
            a.replace("<user>", "alice") if "alice" in " ".join(case["argv"]) and os.environ.get("USER") != "alice" else a
            for a in case["expected"]]
        for secret in case["secrets"]:
            for name, text in out.items():
                assert secret not in text, f"secret {secret!r} leaked into {name}"
    assert "/home/alice/" not in out["json"]


def test_analytics_sqlite_matches_duckdb(vault, seeded, tmp_path) -> None:
    sqlite = {t: vault.analytics(t, BASE, BASE + timedelta(days=2)) for t in spikevault.review.ANALYTICS_NAMES}
    assert sqlite["peak-by-process"][0] == {"processName": "Firefox-bin", "triggerMetric": "memory", "peak": 2048.0,
                                            "peakAt": stored_time(BASE + timedelta(minutes=60)), "captures": 1}
    assert {r["processName"]: r["p95"] for r in sqlite["p95-by-process"]}["postgres"] == 99.5
    assert sqlite["top-processes"][0] == {"processName": "postgres", "captures": 2, "peak": 99.5, "rankByCount": 1}
    assert sum(r["captures"] for r in sqlite["captures-per-hour"]) == len(ROWS)
    if shutil.which("duckdb") is None and not os.environ.get("SPIKEVAULT_DUCKDB"):
        pytest.skip("DuckDB comparison: the duckdb CLI is not installed (pip install duckdb-cli; scripts/deps.sh does)")
    snap = tmp_path / "snap.duckdb"
    assert vault.export_duckdb(snap) == len(ROWS)
    for t, expected in sqlite.items():
        assert spikevault.duckdb_analytics(snap, t, BASE, BASE + timedelta(days=2)) == expected, t
    assert spikevault.duckdb_analytics(snap, "top-processes", 0, 1) == []
    # An independent read of the snapshot: same rows and columns as the vault.
    out = subprocess.run(["duckdb", "-readonly", "-json", str(snap), "-c",
                          "SELECT id, processName, pid, triggerMetric, triggerValue, capturedAt FROM profile_capture ORDER BY id"],
                         capture_output=True, text=True, check=True).stdout
    got = json.loads(out)
    want = sorted(vault.query(), key=lambda r: r.id)
    assert [(g["id"], g["processName"], g["pid"], g["triggerMetric"], g["triggerValue"]) for g in got] == [
        (r.id, r.process_name, r.pid, r.metric.stored_name, r.value) for r in want]
    with pytest.raises(spikevault.AlreadyExistsError):
        vault.export_duckdb(snap)
    assert vault.export_duckdb(snap, overwrite=True) == len(ROWS)


def test_duckdb_absent_is_unsupported_with_install_hint(vault, seeded, tmp_path) -> None:
    with pytest.raises(spikevault.UnsupportedError, match="pip install duckdb-cli"):
        vault.export_duckdb(tmp_path / "x.duckdb", duckdb="/nonexistent/duckdb")
    with pytest.raises(spikevault.UnsupportedError, match="pip install duckdb-cli"):
        spikevault.duckdb_analytics(tmp_path / "x.duckdb", "top-processes", duckdb="/nonexistent/duckdb")


def test_quick_actions_reveal_and_rerun(lib, tmp_path) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, capture_cooldown_seconds=0) as vault:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            first = vault.capture(child.pid, backend="procfs", duration=0.3, interval=0.1, notes={"host": "x"})
            assert os.path.isfile(vault.artefact_path(first.id))
            again = vault.rerun(first.id)
            assert again.id != first.id and again.pid == child.pid
            assert again.notes["rerunOf"] == first.id and again.notes["host"] == "x"
            assert again.notes["capture"]["backend"] == "procfs"
        finally:
            child.kill()
            child.wait()
        with pytest.raises(spikevault.NoSuchProcessError):
            vault.rerun(first.id)


# -- bad input: raw C calls ---------------------------------------------------------------

def _err(lib) -> str:
    return lib.sv_errmsg().decode()


def test_bad_filters_raw_c(lib, vault, seeded) -> None:
    f = ctypes.c_void_p()
    assert lib.sv_filter_new(ctypes.byref(f)) == 0
    try:
        assert lib.sv_filter_set_int(f, FilterField.METRIC, 99) == Status.ERR_INVALID_ARGUMENT
        assert "unknown metric" in _err(lib)
        assert lib.sv_filter_set_int(f, FilterField.LIMIT, -1) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_filter_set_text(f, FilterField.PROCESS_GLOB, b"fire[x") == Status.ERR_INVALID_ARGUMENT
        assert "unmatched" in _err(lib)
        assert lib.sv_filter_set_text(f, FilterField.AFTER, b"garbage") == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_filter_set_double(f, FilterField.MIN_VALUE, float("nan")) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_filter_set_int(f, 999, 1) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_filter_set_int(f, FilterField.SINCE, 2000) == 0
        assert lib.sv_filter_set_int(f, FilterField.UNTIL, 1000) == 0
        cur, n = ctypes.c_void_p(), ctypes.c_int64()
        with vault._using() as handle:
            assert lib.sv_vault_query(handle, f, ctypes.byref(cur)) == Status.ERR_INVALID_ARGUMENT
            assert "inverted" in _err(lib)
            assert lib.sv_vault_count(handle, f, ctypes.byref(n)) == Status.ERR_INVALID_ARGUMENT
            assert lib.sv_filter_clear(f, FilterField.UNTIL) == 0
            assert lib.sv_vault_count(handle, f, ctypes.byref(n)) == 0 and n.value == len(ROWS)
            assert lib.sv_vault_query(handle, f, None) == Status.ERR_NULL_ARGUMENT
            assert lib.sv_vault_export_records(handle, None, Format.TEXT, b"/tmp/x", 0, None) == Status.ERR_INVALID_ARGUMENT
            assert lib.sv_vault_export_records(handle, None, Format.CSV, b"/tmp/x", 64, None) == Status.ERR_INVALID_ARGUMENT
    finally:
        assert lib.sv_filter_free(f) == 0
    assert lib.sv_filter_free(f) == Status.ERR_CLOSED
    assert lib.sv_filter_free(None) == 0


def test_bad_export_paths_raw_c(lib, vault, seeded, tmp_path) -> None:
    n = ctypes.c_int64()
    with vault._using() as handle:
        missing = str(tmp_path / "no-such-dir" / "x.csv").encode()
        assert lib.sv_vault_export_records(handle, None, Format.CSV, missing, 0, ctypes.byref(n)) == Status.ERR_NOT_FOUND
        existing = tmp_path / "exists.csv"
        existing.write_text("keep me")
        assert lib.sv_vault_export_records(handle, None, Format.CSV, str(existing).encode(), 0, None) == Status.ERR_ALREADY_EXISTS
        assert existing.read_text() == "keep me"
        assert lib.sv_vault_export_records(handle, None, Format.CSV, str(existing).encode(), 2, ctypes.byref(n)) == 0
        assert n.value == len(ROWS) and existing.read_text().startswith("id,processName")
        assert lib.sv_vault_export_bundle(handle, None, missing, 0, spikevault._functions.PROGRESS_CALLBACK(), None,
                                          None) == Status.ERR_NOT_FOUND
        assert lib.sv_vault_summary(handle, 10**9, Format.TEXT, 0, ctypes.byref(ctypes.c_void_p())) == Status.ERR_NOT_FOUND
        assert lib.sv_vault_analytics(handle, 42, 0, 1, ctypes.byref(ctypes.c_void_p())) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_vault_analytics(handle, 1, 5, 1, ctypes.byref(ctypes.c_void_p())) == Status.ERR_INVALID_ARGUMENT


def test_bad_input_python_api(vault, seeded, tmp_path) -> None:
    with pytest.raises(spikevault.InvalidArgumentError):
        vault.query(metric="bogus")
    with pytest.raises(spikevault.InvalidArgumentError, match="inverted"):
        vault.query(since=BASE, until=BASE - timedelta(hours=1))
    with pytest.raises(spikevault.InvalidArgumentError):
        vault.query(limit=-1)
    with pytest.raises(spikevault.InvalidArgumentError, match="unmatched"):
        vault.query(process_glob="[abc")
    with pytest.raises(spikevault.NotFoundError):
        vault.export_records(tmp_path / "missing" / "x.json")
    (tmp_path / "there.json").write_text("[]")
    with pytest.raises(spikevault.AlreadyExistsError):
        vault.export_records(tmp_path / "there.json")
    with pytest.raises(spikevault.AlreadyExistsError):
        vault.export_bundle(tmp_path / "there.json")
    assert vault.export_records(tmp_path / "there.json", overwrite=True) == len(ROWS)
    assert vault.export_records(tmp_path / "none.json", process="zzz") == 0
    assert json.loads((tmp_path / "none.json").read_text()) == []
    with pytest.raises(spikevault.InvalidArgumentError):
        vault.analytics("no-such-template")
