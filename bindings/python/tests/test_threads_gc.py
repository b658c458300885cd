"""Sharing one Vault across threads; closing and collecting leaves no garbage."""

from __future__ import annotations

import ctypes
import gc
import threading
from pathlib import Path
from typing import List

import pytest

import spikevault
from spikevault import Status, Vault

from conftest import wait_until


def test_four_threads_fifty_saves_each(lib, tmp_path: Path) -> None:
    errors: List[BaseException] = []
    ids: List[int] = []
    lock = threading.Lock()
    with Vault(tmp_path / "v", durability=0) as vault:
        start = threading.Barrier(4)

        def work(n: int) -> None:
            try:
                start.wait()
                for i in range(50):
                    rid = vault.save(process_name=f"t{n}", pid=1000 + n, metric="cpu", value=i,
                                     artefacts={"stack.txt": b"thread %d save %d\n" % (n, i) * 20})
                    with lock:
                        ids.append(rid)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(ids) == 200 and len(set(ids)) == 200
        records = vault.recent(1000)
        assert len(records) == 200
        assert len({a.path for r in records for a in r.artefacts}) == 200
        for rid in ids[::37]:
            record = vault.get(rid)
            assert vault.read_artefact(rid) == b"thread %d save %d\n" % (record.pid - 1000, int(record.value)) * 20


def test_errors_are_per_thread(lib, vault: Vault) -> None:
    """sv_errmsg is thread-local: a failure on one thread never shows in another's message."""
    seen = {}

    def fail(pid: int) -> None:
        try:
            vault.save(process_name="x", pid=pid, metric="cpu", value=1)
        except spikevault.InvalidArgumentError as exc:
            seen[pid] = str(exc)

    threads = [threading.Thread(target=fail, args=(p,)) for p in (-11, -22, -33, -44)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(str(pid) in message for pid, message in seen.items()) and len(seen) == 4


def test_close_waits_for_calls_in_progress(lib, tmp_path: Path) -> None:
    vault = Vault(tmp_path / "v", durability=0)
    stop = threading.Event()
    outcomes: List[str] = []
    saved: List[int] = []

    def hammer() -> None:
        while not stop.is_set():
            try:
                saved.append(vault.save(process_name="h", pid=1, metric="cpu", value=1, artefacts={"a": b"x" * 64}))
            except spikevault.ClosedError:
                outcomes.append("closed")
                return
            except BaseException as exc:
                outcomes.append(repr(exc))
                return

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    for w in workers:
        w.start()
    assert wait_until(lambda: len(saved) >= 3)  # calls are in progress
    vault.close()
    stop.set()
    for w in workers:
        w.join(60)
    assert outcomes == ["closed"] * 3, outcomes


def test_no_gc_garbage_and_forgotten_vaults_are_closed(lib, tmp_path: Path) -> None:
    gc.collect()
    before = list(gc.garbage)
    handles = []
    for i in range(5):
        v = Vault(tmp_path / f"v{i}", durability=0)
        v.save(process_name="g", pid=1, metric="cpu", value=1, artefacts={"a": b"x"})
        handles.append(v._handle)
        if i % 2 == 0:
            v.close()
        del v  # odd ones are left open: __del__ must close them quietly
    with Vault(tmp_path / "ctx") as v:
        v.recent()
    del v
    gc.collect()
    assert gc.garbage == before == []
    for handle in handles:  # every handle is closed: the library refuses to close it again
        assert lib.sv_vault_close(handle) == Status.ERR_CLOSED


def test_reference_cycle_with_a_vault_is_collected(lib, tmp_path: Path) -> None:
    class Holder:
        pass

    holder = Holder()
    holder.vault = Vault(tmp_path / "cycle", durability=0)
    holder.self = holder
    handle = holder.vault._handle
    del holder
    gc.collect()
    assert gc.garbage == []
    assert lib.sv_vault_close(handle) == Status.ERR_CLOSED
