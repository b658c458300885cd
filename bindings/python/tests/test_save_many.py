"""save_many / sv_vault_save_many (#19): one transaction and one directory sync per batch,
all or nothing; bad inputs through C and Python."""

from __future__ import annotations

import ctypes
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import spikevault
from spikevault import Vault
from spikevault._enums import Status

BASE = datetime(2026, 11, 27, 10, tzinfo=timezone.utc)


def items(n: int) -> list:
    return [dict(process_name=f"p{i}", pid=100 + i, metric="cpu", value=float(i), captured_at=BASE + timedelta(seconds=i),
                 artefacts={"stack.txt": f"main;work {i}\n".encode()}, notes={"i": i}) for i in range(n)]


def stored_files(vault: Vault) -> list:
    return sorted(p.name for p in (Path(vault.path) / "artefacts").iterdir() if not p.name.startswith("."))


def test_batch_is_stored_in_order(vault: Vault) -> None:
    ids = vault.save_many(items(100))
    assert ids == list(range(ids[0], ids[0] + 100))
    for i, rid in enumerate(ids):
        r = vault.get(rid)
        assert (r.process_name, r.notes) == (f"p{i}", {"i": i})
        assert vault.read_artefact(rid) == f"main;work {i}\n".encode()
    assert len(stored_files(vault)) == 100
    assert vault.save_many([]) == []


def test_bad_record_stores_nothing(vault: Vault, tmp_path: Path) -> None:
    kept = vault.save(process_name="kept", pid=1, metric="cpu", value=1.0, artefacts={"a": b"x"})
    bad = items(10)
    bad[4]["pid"] = 0
    with pytest.raises(spikevault.InvalidArgumentError, match=r"records\[4\]|record 4"):
        vault.save_many(bad)
    late = items(10)
    late[7]["artefacts"] = {"perf.data": tmp_path / "missing"}  # fails while storing, after 0-6 were published
    with pytest.raises(spikevault.NotFoundError, match="record 7"):
        vault.save_many(late)
    notes = items(5)
    notes[2]["notes"] = "[1]"
    with pytest.raises(spikevault.InvalidArgumentError, match="record 2"):
        vault.save_many(notes)
    unknown = items(3)
    unknown[1]["colour"] = "red"
    with pytest.raises(spikevault.InvalidArgumentError, match=r"records\[1\]: unknown argument"):
        vault.save_many(unknown)
    missing = items(3)
    del missing[2]["pid"]
    with pytest.raises(spikevault.InvalidArgumentError, match=r"records\[2\]: missing pid"):
        vault.save_many(missing)
    for not_a_batch in ("abc", {"pid": 1}, 5, None):
        with pytest.raises(spikevault.InvalidArgumentError):
            vault.save_many(not_a_batch)  # type: ignore[arg-type]
    with pytest.raises(spikevault.InvalidArgumentError, match="1-10000"):
        vault.save_many([items(1)[0]] * 10_001)
    assert [r.id for r in vault.recent(100)] == [kept]
    assert len(stored_files(vault)) == 1


def test_failure_in_any_group_leaves_no_file(vault: Vault, tmp_path: Path) -> None:
    # A batch's files are written a group of 64 at a time, then synced and published: a failure
    # while writing (temps of the group not yet published) or in a later group (earlier groups
    # published) removes every file of the batch, temp files included, and stores no row.
    for bad in (7, 63, 64, 70, 99):
        batch = items(100)
        batch[bad]["artefacts"] = {"stack.txt": b"ok", "perf.data": tmp_path / "missing"}
        with pytest.raises(spikevault.NotFoundError, match=f"record {bad}"):
            vault.save_many(batch)
        assert list((Path(vault.path) / "artefacts").iterdir()) == []
        assert vault.recent(10) == []
    two = items(40)
    for it in two:
        it["artefacts"] = dict(it["artefacts"], **{"more.txt": b"second"})
    ids = vault.save_many(two)  # 80 files: two groups
    assert [vault.read_artefact(rid, "more.txt") for rid in ids] == [b"second"] * 40
    assert len(stored_files(vault)) == 80


def test_c_bad_inputs(lib, vault: Vault) -> None:
    kept = vault.save(process_name="kept", pid=1, metric="cpu", value=1.0)
    records = []
    for i in range(3):
        r = ctypes.c_void_p()
        assert lib.sv_record_new(ctypes.byref(r)) == Status.OK
        assert lib.sv_record_set_process(r, f"c{i}".encode()) == Status.OK
        assert lib.sv_record_set_pid(r, 10 + i) == Status.OK
        assert lib.sv_record_set_trigger(r, 1, 5.0) == Status.OK
        records.append(r.value)
    incomplete = ctypes.c_void_p()
    assert lib.sv_record_new(ctypes.byref(incomplete)) == Status.OK
    try:
        with vault._using() as handle:
            array = (ctypes.c_void_p * 3)(*records)
            ids = (ctypes.c_int64 * 3)()
            assert lib.sv_vault_save_many(handle, None, 3, ids) == Status.ERR_NULL_ARGUMENT
            assert lib.sv_vault_save_many(handle, array, 0, ids) == Status.ERR_INVALID_ARGUMENT
            assert lib.sv_vault_save_many(handle, array, 10_001, ids) == Status.ERR_INVALID_ARGUMENT
            assert lib.sv_vault_save_many(handle, array, 2**63, ids) == Status.ERR_INVALID_ARGUMENT
            assert lib.sv_vault_save_many(None, array, 3, ids) == Status.ERR_NULL_ARGUMENT
            with_null = (ctypes.c_void_p * 3)(records[0], None, records[2])
            assert lib.sv_vault_save_many(handle, with_null, 3, ids) == Status.ERR_NULL_ARGUMENT
            assert b"records[1]" in lib.sv_errmsg()
            with_bad = (ctypes.c_void_p * 3)(records[0], records[1], incomplete.value)
            assert lib.sv_vault_save_many(handle, with_bad, 3, ids) == Status.ERR_INVALID_ARGUMENT
            assert b"records[2]" in lib.sv_errmsg()
            wrong_type = (ctypes.c_void_p * 2)(records[0], handle)
            assert lib.sv_vault_save_many(handle, wrong_type, 2, ids) == Status.ERR_INVALID_ARGUMENT
            assert [r.id for r in vault.recent(10)] == [kept]  # nothing of a refused batch
            assert lib.sv_vault_save_many(handle, array, 3, None) == Status.OK  # out_ids may be NULL
            assert lib.sv_vault_save_many(handle, array, 3, ids) == Status.OK
        assert list(ids) == list(range(ids[0], ids[0] + 3)) and ids[0] > kept
        assert len(vault.recent(100)) == 7
    finally:
        for r in records:
            lib.sv_record_free(r)
        lib.sv_record_free(incomplete)
