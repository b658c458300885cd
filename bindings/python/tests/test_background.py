"""Background writes (#13, item 3): a C host and a Python host save 1,000 records while their
own thread keeps going; the host never waits for the disk (every start returns while another
connection holds the database's write lock), every callback runs exactly once, close drains,
a full queue is BusyError, bad input is refused at once. The stall itself is measured in
bench/save_async (never a timed assertion here)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from concurrent.futures import Future, wait
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List

import pytest

import spikevault
from spikevault import BusyError, ClosedError, InvalidArgumentError, NotFoundError
from spikevault import background as _background

REPO = Path(__file__).resolve().parents[3]


def _lock(path: Path) -> sqlite3.Connection:
    """Another connection holding the vault database's write lock: no save can commit."""
    conn = sqlite3.connect(str(path / "vault.sqlite3"), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _poll(condition, seconds: float = 120.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_c_host_saves_in_background(lib, tmp_path: Path) -> None:
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None or not Path("/usr/include/sqlite3.h").exists():
        pytest.skip("C host: no C compiler or sqlite3.h (apt-get install gcc libsqlite3-dev)")
    exe = tmp_path / "save_async_host"
    library_dir = Path(os.environ["SPIKEVAULT_LIBRARY"]).parent
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-O2", f"-I{REPO / 'include'}",
                    "-o", str(exe), str(REPO / "bindings" / "c" / "save_async_host.c"), f"-L{library_dir}",
                    "-lspikevault", "-lsqlite3"], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=str(library_dir))
    out = subprocess.run([str(exe), str(tmp_path / "vault"), "1000"], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["saves"] == 1201 and report["finished_while_locked"] == 0
    with spikevault.Vault(tmp_path / "vault") as v:
        # plus the 2-3 accepted before the queue was full and the two saves of the NULL-callback checks
        assert 1201 + 4 <= len(v.recent(5000)) <= 1201 + 5


def _save(v: spikevault.Vault, i: int) -> "Future[int]":
    return v.save_async(process_name="py-host", pid=1000 + i, metric="cpu", value=90.0,
                        artefacts={"stacks.folded": f"main;step{i} 1\n".encode()}, notes={"i": str(i)})


def test_python_host_saves_1000_without_waiting(lib, tmp_path: Path) -> None:
    path = tmp_path / "vault"
    v = spikevault.Vault(path, busy_timeout_ms=120_000, write_queue_capacity=2000, maintenance_interval_seconds=0)
    done_calls: List[int] = []
    lock = _lock(path)
    try:
        futures = []
        for i in range(1000):
            f = _save(v, i)
            f.add_done_callback(lambda fut: done_calls.append(1))
            futures.append(f)
        # Every call returned although no save could commit: the host thread never waited.
        assert not any(f.done() for f in futures)
    finally:
        lock.rollback()
        lock.close()
    finished, _ = wait(futures, timeout=300)
    assert len(finished) == 1000
    ids = [f.result() for f in futures]
    assert len(set(ids)) == 1000 and ids == sorted(ids)  # in order, one id each
    assert _poll(lambda: len(done_calls) == 1000) and len(done_calls) == 1000
    stored = {r.id: r for r in v.recent(2000)}
    assert set(stored) == set(ids) and stored[ids[7]].pid == 1007
    assert v.read_artefact(ids[7]) == b"main;step7 1\n"
    # Close drains: writes queued right before close() are all done when it returns.
    late = [_save(v, i) for i in range(1000, 1200)]
    v.close()
    assert all(f.done() and f.exception() is None for f in late)
    assert not _background._pending
    with pytest.raises(ClosedError):
        _save(v, 0)
    with spikevault.Vault(path) as again:
        assert len(again.recent(5000)) == 1200


def test_full_queue_is_busy_and_accepted_ones_still_run(lib, tmp_path: Path) -> None:
    path = tmp_path / "vault"
    with spikevault.Vault(path, busy_timeout_ms=120_000, write_queue_capacity=2) as v:
        lock = _lock(path)
        accepted = []
        try:
            with pytest.raises(BusyError, match="queue is full"):
                for i in range(10):
                    accepted.append(_save(v, i))
        finally:
            lock.rollback()
            lock.close()
        assert 2 <= len(accepted) <= 3  # the writer may already hold the first
        assert [f.result(timeout=300) > 0 for f in accepted] == [True] * len(accepted)


def test_bad_input_is_refused_at_once(vault: spikevault.Vault, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        vault.save_async(process_name="x", pid=0, metric="cpu", value=1.0)
    with pytest.raises(InvalidArgumentError, match="JSON object"):
        vault.save_async(process_name="x", pid=1, metric="cpu", value=1.0, notes="[1]")
    with pytest.raises(InvalidArgumentError):
        vault.save_async(process_name="x", pid=1, metric="cpu", value=float("nan"))
    with pytest.raises(InvalidArgumentError):
        vault.save_async(process_name="x", pid=1, metric="cpu", value=1.0, captured_at=datetime(2026, 1, 1))
    with pytest.raises(InvalidArgumentError):
        vault.purge_async(datetime(2026, 1, 1))
    assert not _background._pending
    # A failure while saving arrives in the future, with the library's message.
    missing = vault.save_async(process_name="x", pid=1, metric="cpu", value=1.0,
                               artefacts={"a": tmp_path / "no-such-file"})
    with pytest.raises(NotFoundError, match="no-such-file"):
        missing.result(timeout=120)


def test_purge_and_maintain_in_background(vault: spikevault.Vault) -> None:
    old = datetime.now(timezone.utc) - timedelta(days=10)
    ids = [vault.save(process_name="p", pid=5, metric="cpu", value=1.0, captured_at=old) for _ in range(3)]
    keep = vault.save(process_name="p", pid=5, metric="cpu", value=1.0)
    assert vault.purge_async(old + timedelta(seconds=1)).result(timeout=120) == 3
    assert [r.id for r in vault.recent(10)] == [keep] and ids
    assert vault.maintain_async().result(timeout=120) == 0
