"""A full disk is survivable, through the real library on a small tmpfs (needs root to mount)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator

import pytest

import spikevault

EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted afterwards whatever happens."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "fs"
    mnt.mkdir(mode=0o700)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def free_bytes(path: Path) -> int:
    s = os.statvfs(path)
    return s.f_bavail * s.f_frsize


def fill(path: Path) -> None:
    """Writes zeros until the filesystem refuses a single byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in (1 << 16, 4096, 512, 1):
            zeros = bytes(chunk)
            while True:
                try:
                    os.write(fd, zeros)
                except OSError:
                    break
    finally:
        os.close(fd)


def open_vault(path: Path, **extra: int) -> spikevault.Vault:
    options = dict(durability=1, max_age_seconds=0, max_footprint_bytes=0, min_free_percent=0,
                   maintenance_interval_seconds=0)
    options.update(extra)
    return spikevault.Vault(path, **options)


def save(v: spikevault.Vault, i: int, payload: bytes) -> int:
    return v.save(process_name="p", pid=1000 + i, metric="cpu", value=1.0, artefacts={"a": payload},
                  captured_at=EPOCH + timedelta(seconds=i))


def assert_intact(v: spikevault.Vault, kept: Dict[int, bytes]) -> None:
    db = sqlite3.connect(os.path.join(v.path, "vault.sqlite3"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    assert {r.id for r in v.recent(100_000)} == set(kept)
    for rid, payload in kept.items():
        assert v.read_artefact(rid) == payload


def test_filled_by_the_vault_itself(lib, small_fs: Path) -> None:
    path = small_fs / "v"
    kept: Dict[int, bytes] = {}
    i = 0
    with open_vault(path) as filler:
        for size in (60_000, 3_000, 200):  # files first, then rows until the WAL is out of room
            with pytest.raises(spikevault.NoSpaceError):
                while True:
                    payload = os.urandom(size)
                    kept[save(filler, i, payload)] = payload
                    i += 1
        assert free_bytes(small_fs) < 64 << 10
        # Opened again while the filling handle still holds its full WAL (as another process would).
        with open_vault(path) as v:
            assert_intact(v, kept)
            before = free_bytes(small_fs)
            cutoff = EPOCH + timedelta(seconds=i // 3)
            doomed = [rid for rid in kept if v.get(rid).captured_at < cutoff]
            assert v.delete_older_than(cutoff) == len(doomed) > 5
            for rid in doomed:
                del kept[rid]
            assert free_bytes(small_fs) > before + 5 * 55_000
            assert_intact(v, kept)
            payload = os.urandom(60_000)
            kept[save(v, i, payload)] = payload
            assert_intact(v, kept)
        assert_intact(filler, kept)


def test_filled_by_another_file(lib, small_fs: Path) -> None:
    path = small_fs / "v"
    kept: Dict[int, bytes] = {}
    with open_vault(path) as v:
        for i in range(6):
            payload = os.urandom(50_000)
            kept[save(v, i, payload)] = payload
    filler = small_fs / "filler"
    fill(filler)
    assert free_bytes(small_fs) == 0
    with open_vault(path, max_age_seconds=3600) as v:  # every capture is past the age limit
        assert_intact(v, kept)  # open and reads work
        with pytest.raises(spikevault.NoSpaceError) as caught:
            save(v, 10, os.urandom(50_000))
        assert caught.value.status == spikevault.Status.ERR_NO_SPACE
        assert "No space left on device" in str(caught.value)
        assert len(os.listdir(path / "artefacts")) == len(kept)  # the failed save left nothing
        assert_intact(v, kept)
        report = v.maintain()  # the age rule frees the disk although the WAL has no room
        assert report.purged_by_age == 6
        assert report.files_deleted == 6
        assert free_bytes(small_fs) >= 6 * 50_000
        assert v.recent(10) == []
        filler.unlink()
        payload = os.urandom(50_000)
        rid = v.save(process_name="p", pid=1, metric="cpu", value=1.0, artefacts={"a": payload})
        assert_intact(v, {rid: payload})
