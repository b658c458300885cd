"""Streaming cursors (#19, docs/streaming.md): a million captures listed through C and through
Python in bounded memory, packed pages agree with the single-row accessors, snapshot semantics
with a concurrent writer, and bad inputs to the page accessor."""

from __future__ import annotations

import ctypes
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import spikevault
from spikevault import Vault
from spikevault._enums import Status
from spikevault.records import RecordIterator, read_cursor_by_row

from conftest import HEADER, PACKAGE_ROOT

MILLION = 1_000_000
RSS_LIMIT_BYTES = 64_000_000  # "64 MB" (MB means 10^6 in this project); VmHWM is in KiB
# The peak is VmHWM of the lister's own image: ru_maxrss would carry over the peak of the
# forking pytest process (which may hold chDB or a million-row fill) across fork and exec.


def fill(path: Path, n: int) -> None:
    """A vault of `n` captures (one artefact row each), written by direct SQL: the schema is
    the library's own (made by opening the vault), the rows go in with one INSERT ... SELECT."""
    Vault(path, durability=0, max_age_seconds=0, maintenance_interval_seconds=0).close()
    db = sqlite3.connect(path / "vault.sqlite3")
    with db:
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
            INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt,
                durationSeconds, notes, status, profilePath)
            SELECT 'proc-' || (i % 97), 1000 + i % 5000, 'cpu', i % 100,
                strftime('%Y-%m-%d %H:%M:%fZ', 1700000000 + i / 3, 'unixepoch'), 1.5,
                '{{"capture":{{"backend":"procfs"}},"i":' || i || '}}', 'complete', 'c-' || i || '.oncpu.folded.zst'
            FROM n""")
        db.execute("""
            INSERT INTO capture_artefact (captureId, kind, path, rawBytes, storedBytes, checksum)
            SELECT id, 'oncpu.folded', 'c-' || id || '.oncpu.folded.zst', 4096, 1024, 'xxh64:0123456789abcdef'
            FROM profile_capture""")
    db.close()


@pytest.fixture(scope="module")
def million(lib, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("million") / "vault"
    fill(path, MILLION)
    return path


C_LISTER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "spikevault.h"

int main(int argc, char **argv) {
    sv_options *options = NULL;
    sv_vault *vault = NULL;
    if (sv_options_new(&options) != SV_OK) return 2;
    sv_options_set_int(options, SV_OPT_MAX_AGE_SECONDS, 0);
    sv_options_set_int(options, SV_OPT_MAINTENANCE_INTERVAL_SECONDS, 0);
    sv_options_set_int(options, SV_OPT_OPEN_EXISTING, 1);
    if (sv_vault_open(argv[1], options, &vault) != SV_OK) { fprintf(stderr, "open: %s\n", sv_errmsg()); return 3; }
    sv_options_free(options);
    sv_filter *filter = NULL;
    if (sv_filter_new(&filter) != SV_OK) return 4;
    sv_filter_set_int(filter, SV_FILTER_ORDER, SV_ORDER_TIME_ASC);
    sv_cursor *cursor = NULL;
    if (sv_vault_query(vault, filter, &cursor) != SV_OK) { fprintf(stderr, "query: %s\n", sv_errmsg()); return 5; }
    long long rows = 0, last = 0, bytes = 0;
    int rc;
    while ((rc = sv_cursor_next(cursor)) == SV_ROW) {
        long long id = sv_cursor_id(cursor);
        if (id <= last) { fprintf(stderr, "out of order at %lld\n", id); return 6; }
        last = id;
        const char *name = sv_cursor_process_name(cursor);
        const char *notes = sv_cursor_notes(cursor);
        const char *kind = sv_cursor_artefact_kind(cursor, 0);
        if (!name || !notes || !kind) { fprintf(stderr, "accessor: %s\n", sv_errmsg()); return 7; }
        bytes += (long long)strlen(name) + (long long)strlen(notes) + (long long)strlen(kind);
        rows++;
    }
    if (rc != SV_DONE) { fprintf(stderr, "next: %d %s\n", rc, sv_errmsg()); return 8; }
    sv_cursor_close(cursor);
    sv_filter_free(filter);
    sv_vault_close(vault);
    long hwm = -1;
    char line[256];
    FILE *status = fopen("/proc/self/status", "r");
    while (status && fgets(line, sizeof line, status))
        if (strncmp(line, "VmHWM:", 6) == 0) hwm = strtol(line + 6, NULL, 10);
    if (status) fclose(status);
    printf("%lld %lld %ld\n", rows, bytes, hwm);
    return 0;
}
"""


def compile_c(tmp_path: Path, source: str, name: str) -> Path:
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler to build the C lister")
    library = Path(os.environ.get("SPIKEVAULT_LIBRARY", PACKAGE_ROOT / ".." / ".." / "build" / "lib" / "libspikevault.so"))
    if not library.exists():
        pytest.skip(f"no library at {library}")
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    subprocess.run([cc, "-O2", "-o", str(exe), str(src), f"-I{HEADER.resolve().parent}",
                    str(library.resolve()), f"-Wl,-rpath,{library.resolve().parent}"], check=True)
    return exe


def test_million_rows_through_c_in_bounded_memory(million: Path, tmp_path: Path) -> None:
    exe = compile_c(tmp_path, C_LISTER, "lister")
    done = subprocess.run([str(exe), str(million)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    rows, _, max_rss_kb = (int(x) for x in done.stdout.split())
    assert rows == MILLION
    assert max_rss_kb * 1024 < RSS_LIMIT_BYTES, f"C lister peaked at {max_rss_kb} KiB"


PY_LISTER = """
    import resource, sys
    import spikevault
    v = spikevault.Vault(sys.argv[1], create=False, max_age_seconds=0, maintenance_interval_seconds=0)
    rows = last = 0
    for r in v.query(order="time-asc"):
        assert r.id > last and r.artefacts[0].kind == "oncpu.folded" and r.notes["i"] == r.id
        last = r.id
        rows += 1
    v.close()
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(rows, hwm)
"""


def test_million_rows_through_python_in_bounded_memory(million: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(PY_LISTER), str(million)],
                          capture_output=True, text=True, timeout=1800, env=env)
    assert done.returncode == 0, done.stderr
    rows, max_rss_kb = (int(x) for x in done.stdout.split())
    assert rows == MILLION
    assert max_rss_kb * 1024 < RSS_LIMIT_BYTES, f"Python lister peaked at {max_rss_kb} KiB"


PY_WRITER = """
import os, sys, spikevault
v = spikevault.Vault(sys.argv[1], create=False, max_age_seconds=0, maintenance_interval_seconds=0)
r, w = os.pipe()
counted = [0]
def drain():
    while True:
        b = os.read(r, 1 << 16)
        if not b:
            return
        counted[0] += b.count(b"\\n")
import threading
t = threading.Thread(target=drain)
t.start()
listed = v.write_list(w, order="time-asc")
exported = v.write_records(w, "ndjson", order="time-asc")
os.close(w)
t.join()
v.close()
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(listed, exported, counted[0], hwm)
"""


def test_million_rows_streamed_to_a_pipe_in_bounded_memory(million: Path) -> None:
    """`spikevault list` and the exports write through the library to a descriptor: the
    table and the NDJSON of a million captures into a pipe, within the same bound."""
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    done = subprocess.run([sys.executable, "-c", PY_WRITER, str(million)],
                          capture_output=True, text=True, timeout=1800, env=env)
    assert done.returncode == 0, done.stderr
    listed, exported, lines, max_rss_kb = (int(x) for x in done.stdout.split())
    assert listed == MILLION and exported == MILLION
    assert lines == 2 * MILLION + 1  # the table's header, its rows, one NDJSON line per capture
    assert max_rss_kb * 1024 < RSS_LIMIT_BYTES, f"the writer peaked at {max_rss_kb} KiB"


def _saved(vault: Vault, n: int, base: datetime) -> list:
    return [vault.save(process_name=f"p{i}", pid=100 + i, metric="cpu", value=float(i % 7),
                       captured_at=base + timedelta(seconds=i // 2),
                       artefacts={} if i % 3 == 0 else {"stack.txt": f"a;b {i}\n".encode()},
                       notes={"i": i, "name": "é\u0001\"x"}) for i in range(n)]


def test_packed_pages_agree_with_single_row_accessors(lib, vault: Vault) -> None:
    base = datetime(2026, 11, 27, 10, tzinfo=timezone.utc)
    ids = _saved(vault, 600, base)  # more than two pages of 256
    for order in ("time-desc", "time-asc", "value-desc", "value-asc"):
        cursor = ctypes.c_void_p()
        with vault._using() as handle:
            assert lib.sv_vault_recent(handle, 1000, ctypes.byref(cursor)) == Status.OK
        by_row = read_cursor_by_row(lib, cursor.value)
        paged = list(vault.query(order=order))
        assert sorted(r.id for r in paged) == sorted(ids)
        assert {r.id: r for r in paged} == {r.id: r for r in by_row}
    assert vault.recent(1000, as_list=True) == by_row
    assert vault.query(as_list=True, limit=3) == by_row[:3]


def test_iterator_is_lazy_and_a_list_on_request(vault: Vault) -> None:
    ids = _saved(vault, 300, datetime(2026, 11, 27, 10, tzinfo=timezone.utc))
    it = vault.query(order="time-asc")
    assert isinstance(it, RecordIterator)
    first = next(it)
    assert first.id == ids[0]
    assert it.__length_hint__() == 255  # the rest of the first page only: nothing more was read
    assert len(it) == 299 and it[0].id == ids[1] and it[-1].id == ids[-1]
    assert [r.id for r in it] == ids[1:]
    assert list(it) == [] and len(it) == 0 and not it
    recent = vault.recent(5)
    assert recent == vault.recent(5, as_list=True) and len(recent) == 5
    with vault.query() as closing:
        next(closing)
    assert list(closing) == []  # closed: the rows read ahead are dropped


def test_snapshot_with_concurrent_writer(vault: Vault) -> None:
    base = datetime(2026, 11, 27, 10, tzinfo=timezone.utc)
    ids = _saved(vault, 700, base)
    it = vault.query(order="time-desc")
    seen = [next(it).id]
    stop = threading.Event()
    written = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            written.append(vault.save(process_name="late", pid=9000 + i, metric="cpu", value=1.0,
                                      captured_at=base + timedelta(seconds=100)))

    t = threading.Thread(target=writer)
    t.start()
    try:
        deadline = time.monotonic() + 60
        while len(written) < 20 and time.monotonic() < deadline:
            time.sleep(0.001)
        seen += [r.id for r in it]
    finally:
        stop.set()
        t.join()
    assert len(written) >= 20
    newest_first = sorted(ids, key=lambda i: (ids.index(i) // 2, i), reverse=True)
    assert seen == newest_first
    assert not set(written) & set(seen)


def test_deleting_while_iterating_is_safe(vault: Vault) -> None:
    base = datetime(2026, 11, 27, 10, tzinfo=timezone.utc)
    ids = _saved(vault, 600, base)
    it = vault.query(order="time-asc")
    seen = [next(it).id]
    vault.delete_older_than(base + timedelta(seconds=200))  # captures 0..399 go
    seen += [r.id for r in it]
    assert seen[:256] == ids[:256]  # the first page was read already
    assert seen[256:] == ids[400:]


def test_next_page_bad_inputs(lib, vault: Vault) -> None:
    _saved(vault, 3, datetime(2026, 11, 27, 10, tzinfo=timezone.utc))
    data, size, rows = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_int32()
    assert lib.sv_cursor_next_page(None, ctypes.byref(data), ctypes.byref(size), None) == Status.ERR_NULL_ARGUMENT
    assert lib.sv_cursor_next_page(12345, ctypes.byref(data), ctypes.byref(size), None) in (Status.ERR_INVALID_ARGUMENT, Status.ERR_CLOSED)
    cursor = ctypes.c_void_p()
    with vault._using() as handle:
        assert lib.sv_vault_recent(handle, 10, ctypes.byref(cursor)) == Status.OK
    try:
        assert lib.sv_cursor_next_page(cursor, None, ctypes.byref(size), None) == Status.ERR_NULL_ARGUMENT
        assert lib.sv_cursor_next_page(cursor, ctypes.byref(data), None, None) == Status.ERR_NULL_ARGUMENT
        assert lib.sv_cursor_next(cursor) == Status.ROW
        assert lib.sv_cursor_next_page(cursor, ctypes.byref(data), ctypes.byref(size), ctypes.byref(rows)) == Status.ROW
        assert rows.value == 2 and ctypes.string_at(data.value, size.value).startswith(b"[[")
        assert lib.sv_cursor_id(cursor) == 0  # no current row after a page
        assert lib.sv_cursor_next_page(cursor, ctypes.byref(data), ctypes.byref(size), ctypes.byref(rows)) == Status.DONE
        assert data.value is None and size.value == 0 and rows.value == 0
        assert lib.sv_cursor_next(cursor) == Status.DONE
    finally:
        assert lib.sv_cursor_close(cursor) == Status.OK
    assert lib.sv_cursor_next_page(cursor, ctypes.byref(data), ctypes.byref(size), None) == Status.ERR_CLOSED


def test_iterator_after_vault_close_raises_closed(tmp_path: Path) -> None:
    v = Vault(tmp_path / "v", durability=0, max_age_seconds=0)
    _saved(v, 300, datetime(2026, 11, 27, 10, tzinfo=timezone.utc))
    it = v.query()
    v.close()
    assert len([next(it) for _ in range(256)]) == 256  # the first page was read at open
    with pytest.raises(spikevault.ClosedError):
        next(it)
