"""Records streamed to a descriptor (``Vault.write_records``, ``sv_vault_write_records``) and
the CLI's exports through it (issue #19): the same bytes as the file export, one record per
NDJSON line whatever layout notes were saved in, redaction identical on the library's own JSON
reader and SQLite's, and bad descriptors refused without touching the vault."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List

import pytest

import spikevault
from test_cli import run_cli

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

# Notes as text, stored as given: pretty-printed with newlines, escapes of every kind, secrets
# in argument vectors and under secret-ish names, nesting, numbers and literals.
NOTES = [
    '{\n  "capture": {\n    "cmdline": ["/usr/bin/app", "--password", "hunter2", "-v"]\n  },\n  "n": 1\n}',
    '{"token": "s3cr3tvalue", "api_key": "", "plain": "=SUM(A1)", "list": [1, "--token", "abc", null, true]}',
    '{"esc": "tab\\there \\"quoted\\" \\\\ back \\/ slash \\u00e9 \\ud83d\\ude00 \\u2028 end",'
    ' "argv": ["--api-key=k3y", {"inner": ["--secret", "zzz"]}, "--password", "pw9"]}',
    '{"deep": [[[["--token", "t0k"]]]], "e": 1.5e-7, "big": 12345678901234567890, "neg": -0.0, "f": false}',
    '{"dup": "a", "dup": "--password=x"}',
    '{}',
]


def fill(vault: spikevault.Vault) -> List[int]:
    ids = []
    names = ["worker", "=cmd|' /C calc'!A0", "line\nbreak\x1b[31m", 'quote"comma,', "ünï\u2028cödé"]
    for i, notes in enumerate(NOTES * 3):
        ids.append(vault.save(process_name=names[i % len(names)], pid=100 + i, metric="cpu", value=50.5 + i,
                              captured_at=BASE + timedelta(seconds=i), notes=notes,
                              artefacts={"oncpu.folded": b"main;work %d\n" % i}))
    return ids


def streamed(vault: spikevault.Vault, fmt: str, nonblocking: bool = False, **kw) -> bytes:
    """What write_records puts into a pipe (its write end non-blocking if asked), read by a
    second thread as it comes."""
    r, w = os.pipe()
    os.set_blocking(w, not nonblocking)
    chunks: List[bytes] = []

    def drain() -> None:
        while True:
            b = os.read(r, 65536)
            if not b:
                return
            chunks.append(b)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        vault.write_records(w, fmt, **kw)
    finally:
        os.close(w)
        reader.join(timeout=60)
        os.close(r)
    assert not reader.is_alive()
    return b"".join(chunks)


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
@pytest.mark.parametrize("redact", [True, False])
def test_stream_equals_file_export(vault: spikevault.Vault, tmp_path: Path, fmt: str, redact: bool) -> None:
    fill(vault)
    dest = tmp_path / f"out.{fmt}"
    n = vault.export_records(dest, fmt, redact=redact)
    assert n == len(NOTES) * 3
    assert streamed(vault, fmt, redact=redact) == dest.read_bytes()
    # criteria apply as they do to the file export
    sub = tmp_path / f"sub.{fmt}"
    vault.export_records(sub, fmt, redact=redact, process="worker", order="time-desc")
    assert streamed(vault, fmt, redact=redact, process="worker", order="time-desc") == sub.read_bytes()


def test_ndjson_is_one_record_per_line_with_notes_as_saved(vault: spikevault.Vault) -> None:
    ids = fill(vault)
    lines = streamed(vault, "ndjson", redact=False).decode("utf-8").split("\n")
    assert lines[-1] == ""
    rows = [json.loads(line) for line in lines[:-1]]
    assert [r["id"] for r in rows] == sorted(ids, reverse=True)  # newest first, as query
    for r in rows:
        saved = NOTES[(r["id"] - ids[0]) % len(NOTES)]
        assert r["notes"] == json.loads(saved)  # same document, whatever its layout
        assert "\n" not in json.dumps(r["notes"])


def test_redacted_notes_mask_the_secrets(vault: spikevault.Vault) -> None:
    fill(vault)
    text = streamed(vault, "ndjson", order="time-asc").decode("utf-8")
    for secret in ("hunter2", "s3cr3tvalue", "k3y", "zzz", "pw9", "t0k", "abc"):
        assert secret not in text, secret
    rows = [json.loads(line) for line in text.split("\n") if line]  # not splitlines: U+2028
    first = rows[0]["notes"]["capture"]["cmdline"]
    assert first == ["/usr/bin/app", "--password", "<redacted>", "-v"]
    assert rows[1]["notes"]["token"] == "<redacted>" and rows[1]["notes"]["api_key"] == ""
    assert rows[2]["notes"]["esc"].startswith('tab\there "quoted" \\ back / slash é \U0001F600 \u2028')
    # the CSV is parsed by the csv module into the same records
    table = list(csv.DictReader(io.StringIO(streamed(vault, "csv", order="time-asc").decode("utf-8"), newline="")))
    assert len(table) == len(rows)
    assert [json.loads(t["notes"]) for t in table] == [r["notes"] for r in rows]
    assert table[1]["processName"].startswith("'=")  # the formula guard


def test_bad_descriptors_and_formats_are_refused(vault: spikevault.Vault) -> None:
    fill(vault)
    before = vault.count()
    with pytest.raises(spikevault.InvalidArgumentError, match="not an open file descriptor"):
        vault.write_records(-1, "ndjson")
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(spikevault.InvalidArgumentError, match="not an open file descriptor"):
        vault.write_records(w, "csv")
    with pytest.raises(spikevault.InvalidArgumentError, match="export format"):
        vault.write_records(1, "parquet")
    with pytest.raises(spikevault.InvalidArgumentError):
        vault.write_records(1, "ndjson", metric="no-such-metric")
    for bad in (2 ** 32, 2 ** 40, -2 ** 40):  # ctypes would have truncated 2**32 to 0 (stdin)
        with pytest.raises(spikevault.InvalidArgumentError, match="not an open file descriptor"):
            vault.write_records(bad, "ndjson")
    with pytest.raises(spikevault.InvalidArgumentError, match="fd must be an int"):
        vault.write_records("1", "ndjson")
    assert vault.count() == before


def test_a_reader_that_leaves_gives_broken_pipe_and_keeps_the_vault(vault: spikevault.Vault) -> None:
    for i in range(3000):  # more than a pipe buffer and more than a page
        vault.save(process_name="p", pid=1, metric="cpu", value=1.0, captured_at=BASE + timedelta(milliseconds=i),
                   notes={"i": i}, artefacts={"a": b"x"})
    r, w = os.pipe()
    os.close(r)
    with pytest.raises(BrokenPipeError):
        vault.write_records(w, "ndjson")
    os.close(w)
    assert vault.count() == 3000
    assert len(streamed(vault, "ndjson").splitlines()) == 3000


def test_a_non_blocking_pipe_gets_every_byte(vault: spikevault.Vault, tmp_path: Path) -> None:
    """A host's stdout may be a non-blocking pipe: a full pipe is waited on, not an error."""
    for i in range(2000):
        vault.save(process_name="p", pid=1, metric="cpu", value=1.0, captured_at=BASE + timedelta(milliseconds=i),
                   notes={"i": i, "pad": "x" * 200}, artefacts={"a": b"x"})
    dest = tmp_path / "file.ndjson"
    assert vault.export_records(dest, "ndjson") == 2000
    assert streamed(vault, "ndjson", nonblocking=True) == dest.read_bytes()


def test_cli_export_streams_the_librarys_bytes(vault: spikevault.Vault, tmp_path: Path) -> None:
    fill(vault)
    vault.close()
    v = spikevault.Vault(tmp_path / "vault", max_age_seconds=0)
    for fmt in ("json", "ndjson", "csv"):
        dest = tmp_path / f"lib.{fmt}"
        v.export_records(dest, fmt, order="time-asc")  # the order `list` shows
        r = run_cli(["--vault", str(tmp_path / "vault"), "export", "--format", fmt])
        assert r.returncode == 0, r.stderr
        assert r.stdout == dest.read_bytes(), fmt
        out = tmp_path / f"cli.{fmt}"
        r = run_cli(["--vault", str(tmp_path / "vault"), "export", "--format", fmt, "-o", str(out)])
        assert r.returncode == 0, r.stderr
        assert out.read_bytes() == dest.read_bytes(), fmt
    # a reader that stops early: the command ends quietly, as with `| head -1`
    r = run_cli(["--vault", str(tmp_path / "vault"), "export", "--format", "ndjson", "--process", "nothing-matches"])
    assert r.returncode == 0 and r.stdout == b""
    v.close()
