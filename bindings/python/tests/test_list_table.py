"""`spikevault list` to a pipe is written by the library (`sv_cursor_write_list`, issue #19
item 4): the table must be byte for byte what the CLI's Python renderer prints, hostile names
escaped the same way, and bad input must get specific statuses."""

from __future__ import annotations

import ctypes
import io
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import spikevault
from spikevault import Status
from spikevault.cli import cmd_list
from spikevault.cli.main import main as cli_main
from spikevault.cli.common import Context

from conftest import PACKAGE_ROOT

# Names a process can give itself: controls, a forged line, bidi overrides, format characters
# Python does not consider printable (ZWSP, BOM, soft hyphen), wide and combining characters,
# astral code points, backslashes, trailing blanks, NBSP, invalid-looking escapes.
HOSTILE = ["evil\x1b]0;owned\x07\x1b[2J\nExecutable: /usr/bin/legit\u202e", "tab\there", "back\\slash",
           "zw\u200bsp", "bom\ufeff", "soft\u00adhyphen", "nb\u00a0sp", "\u65e5\u672c\u8a9e\u30d7\u30ed\u30bb\u30b9",
           "cafe\u0301", "emoji\U0001f600", "tag\U000e0041", "del\x7f", "c1\x85", "trail   ", "\u3000ideo",
           "line\u2028sep", "isolate\u2066x\u2069", "plain", "x" * 40]
OFFSETS = [timedelta(seconds=-30), timedelta(seconds=-90), timedelta(seconds=3), timedelta(seconds=42),
           timedelta(minutes=5), timedelta(hours=5), timedelta(days=1), timedelta(days=3), timedelta(days=8),
           timedelta(days=400)]
METRICS = ["cpu", "memory", "disk_io", "network", "threads", "fds"]
VALUES = [97.5, 100.0, 0.04, 123456789.0, 150000000000000.0, 99999.96, -3.0, 2.5e6]


def _fill(path: Path, n: int, now: datetime) -> None:
    with spikevault.Vault(path, durability=0, max_age_seconds=0, maintenance_interval_seconds=0) as v:
        for i in range(n):
            name = HOSTILE[i % len(HOSTILE)] if i != 1500 else "a much longer name in the second block " * 2
            v.save(process_name=name, pid=1 + i, metric=METRICS[i % len(METRICS)], value=VALUES[i % len(VALUES)],
                   captured_at=now - OFFSETS[i % len(OFFSETS)] - timedelta(milliseconds=i),
                   duration=[0.05, 1.25, 30.0][i % 3],
                   artefacts={"oncpu.folded" if i % 2 else "stack.txt": b"main;x %d\n" % i * (1 + i % 5)})
    db = sqlite3.connect(path / "vault.sqlite3")
    with db:  # sizes beyond what small artefacts give, and one capture without artefacts
        db.execute("UPDATE capture_artefact SET storedBytes = CASE id % 4 WHEN 0 THEN 1023 WHEN 1 THEN 1048575"
                   " WHEN 2 THEN 123456789012 ELSE storedBytes END")
        db.execute("DELETE FROM capture_artefact WHERE captureId = 7")
        db.execute("UPDATE capture_artefact SET kind = 'kind\x1b[31m ' WHERE captureId % 7 = 3")  # as a forged row
    db.close()


def _python_table(vault: spikevault.Vault, now: datetime, **criteria) -> bytes:
    ctx = Context(args=None, stdout=io.StringIO(), stderr=io.StringIO())
    lines = cmd_list.table_lines(vault.query(**criteria), ctx, now=now)
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _library_table(vault: spikevault.Vault, tmp_path: Path, now: datetime, **criteria) -> bytes:
    out = tmp_path / "table.txt"
    with open(out, "wb") as f:
        n = vault.write_list(f.fileno(), now=now, **criteria)
    data = out.read_bytes()
    assert n == data.count(b"\n") - (1 if n else 0)
    return data


@pytest.mark.parametrize("order", ["time-asc", "time-desc"])
def test_library_table_is_the_python_renderers_byte_for_byte(lib, tmp_path: Path, order: str) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=123456)
    _fill(tmp_path / "v", 2300, now)  # three blocks of 1,000 rows: widths carry over, the header once
    with spikevault.Vault(tmp_path / "v", max_age_seconds=0) as v:
        ours = _library_table(v, tmp_path, now, order=order)
        theirs = _python_table(v, now, order=order)
    assert ours.count(b"\n") == 2301
    assert b"\x1b" not in ours and b"\\x1b]0;owned\\x07" in ours and b"\\u202e" in ours
    assert ours == theirs


def test_library_table_of_a_filtered_and_empty_selection(lib, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    _fill(tmp_path / "v", 40, now)
    with spikevault.Vault(tmp_path / "v", max_age_seconds=0) as v:
        assert _library_table(v, tmp_path, now, metric="cpu", limit=3) == _python_table(v, now, metric="cpu", limit=3)
        assert _library_table(v, tmp_path, now, process="no such process") == b""


def test_cli_list_through_a_pipe_equals_the_in_process_renderer(lib, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    vault_dir = tmp_path / "v"
    with spikevault.Vault(vault_dir, durability=0, max_age_seconds=0) as v:  # older than a week: no relative times
        for i, name in enumerate(HOSTILE):
            v.save(process_name=name, pid=10 + i, metric="cpu", value=50 + i, captured_at=now - timedelta(days=30, minutes=i),
                   artefacts={"stack.txt": b"main 1\n"})
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), NO_COLOR="1", PAGER="cat")
    piped = subprocess.run([sys.executable, "-m", "spikevault", "--vault", str(vault_dir), "list"],
                           env=env, capture_output=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    buf = io.StringIO()
    assert cli_main(["--vault", str(vault_dir), "list"], stdout=buf, stderr=io.StringIO()) == 0
    assert piped.stdout == buf.getvalue().encode("utf-8")
    spikevault.Vault(tmp_path / "empty").close()
    empty = subprocess.run([sys.executable, "-m", "spikevault", "--vault", str(tmp_path / "empty"), "list"],
                           env=env, capture_output=True, timeout=120)
    assert (empty.returncode, empty.stdout, empty.stderr.strip()) == (0, b"", b"No captures.")


def _cursor(lib, vault: spikevault.Vault) -> ctypes.c_void_p:
    from spikevault.review import FilterHandle

    cursor = ctypes.c_void_p()
    with vault._using() as handle, FilterHandle() as f:
        assert lib.sv_vault_query(handle, f.handle, ctypes.byref(cursor)) == Status.OK
    return cursor


def test_write_list_bad_input_gets_specific_statuses(lib, tmp_path: Path) -> None:
    now_us = 1_800_000_000_000_000
    rows = ctypes.c_int64(-1)
    assert lib.sv_cursor_write_list(None, 1, now_us, ctypes.byref(rows)) == Status.ERR_NULL_ARGUMENT
    assert rows.value == 0
    v = spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0)
    v.save(process_name="p", pid=1, metric="cpu", value=1, artefacts={"a": b"x"})
    cursor = _cursor(lib, v)
    assert lib.sv_cursor_write_list(cursor, -1, now_us, None) == Status.ERR_INVALID_ARGUMENT
    r, w = os.pipe()
    os.close(w)
    assert lib.sv_cursor_write_list(cursor, w, now_us, None) == Status.ERR_INVALID_ARGUMENT  # closed descriptor
    assert b"not an open file descriptor" in lib.sv_errmsg()
    os.close(r)
    r, w = os.pipe()
    os.close(r)  # the reader left: EPIPE (Python ignores SIGPIPE), an I/O status, no crash
    assert lib.sv_cursor_write_list(cursor, w, now_us, ctypes.byref(rows)) == Status.ERR_IO
    assert b"Broken pipe" in lib.sv_errmsg()
    os.close(w)
    assert lib.sv_cursor_close(cursor) == Status.OK
    assert lib.sv_cursor_write_list(cursor, 1, now_us, None) == Status.ERR_CLOSED  # closed cursor
    cursor = _cursor(lib, v)
    v.close()
    r, w = os.pipe()
    status = lib.sv_cursor_write_list(cursor, w, now_us, ctypes.byref(rows))
    os.close(w)
    written = os.read(r, 1 << 16)
    os.close(r)
    # Closing the vault closes its cursors, or the cursor finishes from its snapshot: either is
    # a defined outcome, never a crash or a partial line.
    assert status in (Status.OK, Status.ERR_CLOSED)
    assert written == b"" or written.endswith(b"\n")
    lib.sv_cursor_close(cursor)


def test_python_write_list_errors(lib, tmp_path: Path) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0) as v:
        v.save(process_name="p", pid=1, metric="cpu", value=1, artefacts={"a": b"x"})
        with pytest.raises(spikevault.InvalidArgumentError):
            v.write_list(-1)
        with pytest.raises(spikevault.InvalidArgumentError):
            v.write_list(1, now=datetime(2026, 1, 1))  # naive
        r, w = os.pipe()
        os.close(r)
        try:
            with pytest.raises(BrokenPipeError):
                v.write_list(w)
        finally:
            os.close(w)
    with pytest.raises(spikevault.ClosedError):
        v.write_list(1)
