"""Bad input through the raw C functions of the table: NULLs, forged handles, double close,
unknown enum values. Each returns a specific status and a message, never a crash."""

from __future__ import annotations

import ctypes
import json
import math
from pathlib import Path
from typing import Dict

import pytest

import spikevault
from spikevault import Status, Vault
from spikevault._functions import CAPTURE_CALLBACK

from conftest import assert_intact, run_python


def _errmsg(lib) -> str:
    return lib.sv_errmsg().decode()


@pytest.fixture
def record(lib):
    handle = ctypes.c_void_p()
    assert lib.sv_record_new(ctypes.byref(handle)) == Status.OK
    yield handle
    lib.sv_record_free(handle)


def test_null_out_pointers_and_strings(lib, vault: Vault, baseline: Dict[int, bytes], record) -> None:
    rid = next(iter(baseline))
    h = vault._handle
    out = ctypes.c_void_p()
    cases = [
        (lambda: lib.sv_vault_open(None, None, ctypes.byref(out)), "path"),
        (lambda: lib.sv_vault_open(b"/tmp/never-created", None, None), "out_vault"),
        (lambda: lib.sv_options_new(None), "out_options"),
        (lambda: lib.sv_options_get_int(None, 1, None), "NULL"),
        (lambda: lib.sv_record_new(None), "out_record"),
        (lambda: lib.sv_record_set_process(record, None), "name"),
        (lambda: lib.sv_record_set_notes(record, None), "json"),
        (lambda: lib.sv_record_add_artefact_file(record, b"k", None), "path"),
        (lambda: lib.sv_record_add_artefact_file(record, None, b"/etc/hostname"), "kind"),
        (lambda: lib.sv_record_add_artefact_buffer(record, b"k", None, 5), "data"),
        (lambda: lib.sv_record_add_artefact_buffer(record, None, b"abc", 3), "kind"),
        (lambda: lib.sv_record_set_pid(None, 5), "record"),
        (lambda: lib.sv_vault_save(None, record, None), "vault"),
        (lambda: lib.sv_vault_save(h, None, None), "record"),
        (lambda: lib.sv_vault_get(h, rid, None), "out_cursor"),
        (lambda: lib.sv_vault_recent(None, 5, ctypes.byref(out)), "vault"),
        (lambda: lib.sv_vault_recent(h, 5, None), "out_cursor"),
        (lambda: lib.sv_vault_read_artefact(h, rid, None, None, None), "out_data"),
        (lambda: lib.sv_vault_export_artefact(h, rid, None, None), "dest_path"),
        (lambda: lib.sv_vault_artefact_path(h, rid, None, None), "out_path"),
        (lambda: lib.sv_vault_delete_older_than(None, 0, None), "vault"),
        (lambda: lib.sv_cursor_next(None), "cursor"),
    ]
    for call, word in cases:
        assert call() == Status.ERR_NULL_ARGUMENT
        assert word in _errmsg(lib)
    assert not Path("/tmp/never-created").exists()
    assert_intact(vault, baseline)


def test_null_safe_closers(lib) -> None:
    for closer in (lib.sv_vault_close, lib.sv_options_free, lib.sv_record_free, lib.sv_cursor_close):
        assert closer(None) == Status.OK
    lib.sv_free(None)


def test_null_out_params_that_may_be_null(lib, vault: Vault, record) -> None:
    # sv_vault_save's out_id, delete's out_deleted and bounds' out-pointers may be NULL
    assert lib.sv_option_bounds(1, None, None, None) == Status.OK
    assert lib.sv_vault_delete_older_than(vault._handle, 0, None) == Status.OK
    for set_call in (lambda: lib.sv_record_set_process(record, b"p"), lambda: lib.sv_record_set_pid(record, 3),
                     lambda: lib.sv_record_set_trigger(record, 1, 2.0)):
        assert set_call() == Status.OK
    assert lib.sv_vault_save(vault._handle, record, None) == Status.OK
    assert len(vault.recent()) == 1


def test_unknown_metric_c_layer(lib, record) -> None:
    for metric in (99, 0, -1):
        assert lib.sv_record_set_trigger(record, metric, 1.0) == Status.ERR_INVALID_ARGUMENT
        assert "metric" in _errmsg(lib)


def test_bad_values_c_layer(lib, record) -> None:
    expectations = [
        (lambda: lib.sv_record_set_pid(record, 0), "pid"),
        (lambda: lib.sv_record_set_pid(record, -4), "pid"),
        (lambda: lib.sv_record_set_pid(record, 2**31), "pid"),
        (lambda: lib.sv_record_set_trigger(record, 1, math.nan), "finite"),
        (lambda: lib.sv_record_set_trigger(record, 1, -math.inf), "finite"),
        (lambda: lib.sv_record_set_duration(record, math.inf), "duration"),
        (lambda: lib.sv_record_set_process_start_time(record, -1), "start time"),
        (lambda: lib.sv_options_set_int(None, 99, 1), ""),
        (lambda: lib.sv_option_bounds(99, None, None, None), "99"),
    ]
    for call, word in expectations:
        assert call() in (Status.ERR_INVALID_ARGUMENT, Status.ERR_NULL_ARGUMENT)
        assert word in _errmsg(lib)
    assert lib.sv_record_set_process(record, b"\xff\xfe") == Status.ERR_ENCODING
    assert "UTF-8" in _errmsg(lib)
    assert lib.sv_record_add_artefact_buffer(record, b"k", b"abc", 0) == Status.ERR_EMPTY


def test_unknown_option_key_and_bad_value(lib) -> None:
    options = ctypes.c_void_p()
    assert lib.sv_options_new(ctypes.byref(options)) == Status.OK
    try:
        value = ctypes.c_int64()
        assert lib.sv_options_set_int(options, 99, 1) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_options_set_int(options, 1, 0) == Status.ERR_INVALID_ARGUMENT  # level 0 < 1
        assert lib.sv_options_get_int(options, 1, ctypes.byref(value)) == Status.OK
        assert value.value == 3  # unchanged after the refused sets
    finally:
        assert lib.sv_options_free(options) == Status.OK
    assert lib.sv_options_free(options) == Status.ERR_CLOSED


def test_save_incomplete_record(lib, vault: Vault, record) -> None:
    assert lib.sv_vault_save(vault._handle, record, None) == Status.ERR_INVALID_ARGUMENT
    assert "process name" in _errmsg(lib)


def test_double_close_raw(lib, tmp_path: Path) -> None:
    handle = ctypes.c_void_p()
    assert lib.sv_vault_open(str(tmp_path / "v").encode(), None, ctypes.byref(handle)) == Status.OK
    assert lib.sv_vault_close(handle) == Status.OK
    assert lib.sv_vault_close(handle) == Status.ERR_CLOSED
    assert "not an open handle" in _errmsg(lib)
    # the stale handle is refused by every call, not dereferenced
    cursor = ctypes.c_void_p()
    assert lib.sv_vault_recent(handle, 5, ctypes.byref(cursor)) == Status.ERR_CLOSED
    record = ctypes.c_void_p()
    assert lib.sv_record_new(ctypes.byref(record)) == Status.OK
    assert lib.sv_record_free(record) == Status.OK
    assert lib.sv_record_free(record) == Status.ERR_CLOSED


def test_cursor_misuse(lib, vault: Vault, baseline: Dict[int, bytes]) -> None:
    rid = next(iter(baseline))
    cursor = ctypes.c_void_p()
    assert lib.sv_vault_get(vault._handle, rid, ctypes.byref(cursor)) == Status.OK
    assert lib.sv_cursor_id(cursor) == 0 and lib.sv_cursor_process_name(cursor) is None  # before next
    assert "sv_cursor_next" in _errmsg(lib)
    assert lib.sv_cursor_next(cursor) == Status.ROW
    assert lib.sv_cursor_id(cursor) == rid
    assert lib.sv_cursor_artefact_kind(cursor, 5) is None
    assert lib.sv_cursor_artefact_kind(cursor, -1) is None
    assert lib.sv_cursor_artefact_raw_bytes(cursor, 7) == -1
    assert lib.sv_cursor_next(cursor) == Status.DONE
    assert lib.sv_cursor_next(cursor) == Status.DONE
    assert lib.sv_cursor_close(cursor) == Status.OK
    assert lib.sv_cursor_close(cursor) == Status.ERR_CLOSED
    assert lib.sv_cursor_next(cursor) == Status.ERR_CLOSED


def test_cursor_stays_readable_after_vault_close(lib, tmp_path: Path) -> None:
    v = Vault(tmp_path / "v", durability=0)
    rid = v.save(process_name="p", pid=1, metric="cpu", value=1)
    cursor = ctypes.c_void_p()
    assert lib.sv_vault_recent(v._handle, 10, ctypes.byref(cursor)) == Status.OK
    v.close()
    try:
        assert lib.sv_cursor_next(cursor) == Status.ROW
        assert lib.sv_cursor_id(cursor) == rid
    finally:
        lib.sv_cursor_close(cursor)


def test_handle_of_another_type(lib, vault: Vault) -> None:
    options = ctypes.c_void_p()
    assert lib.sv_options_new(ctypes.byref(options)) == Status.OK
    try:
        out = ctypes.c_void_p()
        assert lib.sv_vault_recent(options, 1, ctypes.byref(out)) == Status.ERR_INVALID_ARGUMENT
        assert "another type" in _errmsg(lib)
        assert lib.sv_record_free(vault._handle) == Status.ERR_INVALID_ARGUMENT
    finally:
        lib.sv_options_free(options)
    assert len(vault.recent()) == 0  # the vault handle survived being passed as a record


FORGED = """
import ctypes, json, sys
import spikevault
from spikevault._library import lib
L = lib()
forged = [0x1, 0x5, 0x15, 0xdeadbeef, 0x12345675, 0x7ffffffffffffff5, 0xfffffffffffffff5, 2**64 - 1]
out = ctypes.c_void_p()
results = []
for h in forged:
    results.append([
        L.sv_vault_close(h), L.sv_options_free(h), L.sv_record_free(h), L.sv_cursor_close(h),
        L.sv_vault_recent(h, 1, ctypes.byref(out)), L.sv_vault_get(h, 1, ctypes.byref(out)),
        L.sv_vault_save(h, h, None), L.sv_vault_delete_older_than(h, 0, None),
        L.sv_vault_read_artefact(h, 1, None, ctypes.byref(out), ctypes.byref(ctypes.c_size_t())),
        L.sv_vault_export_artefact(h, 1, None, b"/tmp/x"), L.sv_vault_artefact_path(h, 1, None, ctypes.byref(out)),
        L.sv_options_set_int(h, 1, 3), L.sv_record_set_pid(h, 3), L.sv_record_set_process(h, b"p"),
        L.sv_record_add_artefact_buffer(h, b"k", b"abc", 3), L.sv_cursor_next(h),
        L.sv_cursor_id(h), L.sv_cursor_pid(h), L.sv_cursor_metric(h), L.sv_cursor_status(h),
        L.sv_cursor_artefact_count(h), L.sv_cursor_process_start_time(h), L.sv_cursor_artefact_raw_bytes(h, 0),
        L.sv_cursor_process_name(h), L.sv_cursor_notes(h), L.sv_cursor_artefact_kind(h, 0),
    ])
print(json.dumps([[r.decode() if isinstance(r, bytes) else r for r in row] for row in results]))
print(L.sv_errmsg().decode())
"""


def test_forged_handles_get_an_error_not_a_crash(lib) -> None:
    result = run_python(FORGED)  # in a child: a crash there fails this test, not the suite
    assert result.returncode == 0, f"crashed (rc {result.returncode}):\n{result.stderr[-3000:]}"
    lines = result.stdout.splitlines()
    rows = json.loads(lines[0])
    for row in rows:
        statuses = row[:16]
        assert all(s in (Status.ERR_CLOSED, Status.ERR_NULL_ARGUMENT) for s in statuses), row
        accessors = row[16:]
        assert accessors == [0, 0, 0, 0, -1, -1, -1, None, None, None], row
    assert "handle" in lines[1]


def test_capture_request_declarations_are_callable(lib) -> None:
    """The capture API is declared in the table (no Python wrapper yet): its types must work."""
    request = ctypes.c_void_p()
    assert lib.sv_request_new(ctypes.byref(request)) == Status.OK
    try:
        argv = (ctypes.c_char_p * 3)(b"true", b"{pid}", b"{output}")
        assert lib.sv_request_set_command(request, argv, 3) == Status.OK
        assert lib.sv_request_set_backend(request, spikevault.Backend.COMMAND) == Status.OK
        assert lib.sv_request_set_backend(request, 99) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_request_set_pid(request, 0) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_capture_run(None, request, None) == Status.ERR_NULL_ARGUMENT
        job = ctypes.c_void_p()
        no_callback = CAPTURE_CALLBACK()  # a NULL function pointer (ctypes refuses None here)
        assert lib.sv_capture_start(None, request, no_callback, None, ctypes.byref(job)) == Status.ERR_NULL_ARGUMENT
        assert lib.sv_job_wait(None, 0, None) == Status.ERR_NULL_ARGUMENT
        assert lib.sv_job_free(None) == Status.OK
    finally:
        assert lib.sv_request_free(request) == Status.OK
    assert lib.sv_request_free(request) == Status.ERR_CLOSED
