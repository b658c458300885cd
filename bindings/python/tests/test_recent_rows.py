"""sv_vault_recent reads a result of up to one page (256) as packed rows (#19, fetchRecent): the
accessors must return exactly what the record cursors return (sv_vault_get, and the streaming
cursor above 256), for odd stored text too, and mixing sv_cursor_next with next_page works."""

from __future__ import annotations

import ctypes
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from spikevault import Vault
from spikevault._enums import Status

BASE = datetime(2026, 11, 27, 10, tzinfo=timezone.utc)


def fields(lib, c) -> tuple:
    n = lib.sv_cursor_artefact_count(c)
    arts = tuple((lib.sv_cursor_artefact_kind(c, a), lib.sv_cursor_artefact_path(c, a), lib.sv_cursor_artefact_checksum(c, a),
                  lib.sv_cursor_artefact_raw_bytes(c, a), lib.sv_cursor_artefact_stored_bytes(c, a)) for a in range(n))
    return (lib.sv_cursor_id(c), lib.sv_cursor_process_name(c), lib.sv_cursor_pid(c), lib.sv_cursor_metric(c),
            lib.sv_cursor_trigger_value(c), lib.sv_cursor_captured_at(c), lib.sv_cursor_duration(c), lib.sv_cursor_notes(c),
            lib.sv_cursor_status(c), lib.sv_cursor_process_start_time(c), lib.sv_cursor_host(c), lib.sv_cursor_machine_id(c),
            n, arts)


def recent_rows(lib, vault: Vault, limit: int) -> list:
    c = ctypes.c_void_p()
    with vault._using() as handle:
        assert lib.sv_vault_recent(handle, limit, ctypes.byref(c)) == Status.OK
    rows = []
    try:
        while (s := lib.sv_cursor_next(c)) == Status.ROW:
            rows.append(fields(lib, c))
        assert s == Status.DONE
        assert lib.sv_cursor_next(c) == Status.DONE
        assert lib.sv_cursor_id(c) == 0  # no current row after the end
    finally:
        assert lib.sv_cursor_close(c) == Status.OK
    return rows


def got(lib, vault: Vault, rid: int) -> tuple:
    c = ctypes.c_void_p()
    with vault._using() as handle:
        assert lib.sv_vault_get(handle, rid, ctypes.byref(c)) == Status.OK
    try:
        assert lib.sv_cursor_next(c) == Status.ROW
        return fields(lib, c)
    finally:
        lib.sv_cursor_close(c)


def fill(vault: Vault, n: int) -> None:
    for i in range(n):
        vault.save(process_name=["w", "café-進程", "x" * 300][i % 3], pid=100 + i, metric=["cpu", "memory", "fds"][i % 3],
                   value=i / 3, captured_at=BASE + timedelta(seconds=i), duration=i % 4, process_start_time=i if i % 2 else None,
                   notes={"i": i, "text": "ü" * (i % 5)},
                   artefacts={f"k{j}.txt": f"{i}-{j}".encode() for j in range(i % 3)})


def test_recent_rows_equal_record_cursors(lib, vault: Vault) -> None:
    fill(vault, 300)
    # Stored text the library would not write: invalid UTF-8, NULL notes and host (raw SQL).
    db = sqlite3.connect(Path(vault.path) / "vault.sqlite3")
    with db:
        db.execute("UPDATE profile_capture SET processName = CAST(X'66ff6f' AS TEXT), notes = NULL, host = NULL, machineId = NULL"
                   " WHERE id = (SELECT max(id) FROM profile_capture)")
        db.execute("UPDATE capture_artefact SET kind = CAST(X'6bc3' AS TEXT) WHERE captureId = (SELECT max(id) - 1 FROM profile_capture)")
    db.close()
    for limit in (0, 1, 7, 256):
        rows = recent_rows(lib, vault, limit)
        assert len(rows) == limit
        assert rows == [got(lib, vault, r[0]) for r in rows]
    newest = recent_rows(lib, vault, 2)
    assert newest[0][1] == "f\ufffdo".encode() and newest[0][7] == b"{}" and newest[0][10] == b""
    assert newest[1][13][0][0] == "k\ufffd".encode()
    streamed = recent_rows(lib, vault, 300)  # above one page: the streaming cursor
    assert streamed[:256] == recent_rows(lib, vault, 256)
    assert [r[0] for r in streamed] == sorted((r[0] for r in streamed), reverse=True)
    assert json.loads(recent_rows(lib, vault, 3)[2][7]) == {"i": 297, "text": "ü" * 2}


def test_next_then_next_page_and_python(lib, vault: Vault) -> None:
    fill(vault, 20)
    c = ctypes.c_void_p()
    with vault._using() as handle:
        assert lib.sv_vault_recent(handle, 10, ctypes.byref(c)) == Status.OK
    try:
        assert lib.sv_cursor_next(c) == Status.ROW
        first = lib.sv_cursor_process_name(c)
        assert lib.sv_cursor_next(c) == Status.ROW
        text, size, rows = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_int32()
        assert lib.sv_cursor_next_page(c, ctypes.byref(text), ctypes.byref(size), ctypes.byref(rows)) == Status.ROW
        assert rows.value == 8 and len(json.loads(ctypes.string_at(text.value, size.value))) == 8
        assert lib.sv_cursor_id(c) == 0  # no current row after a page
        assert lib.sv_cursor_next_page(c, ctypes.byref(text), ctypes.byref(size), ctypes.byref(rows)) == Status.DONE
        assert lib.sv_cursor_next(c) == Status.DONE
    finally:
        assert lib.sv_cursor_close(c) == Status.OK
    assert first == "café-進程".encode()  # the newest: i = 19, i % 3 == 1
    listed = vault.recent(10, as_list=True)
    assert [r.id for r in listed] == [vault.get(r.id).id for r in listed]
    assert [r.notes for r in listed] == [vault.get(r.id).notes for r in listed]
    assert [r.artefacts for r in listed] == [vault.get(r.id).artefacts for r in listed]
