"""Files are what they claim and vaults stay private (issue #11): modes whatever the umask,
unsafe directories and foreign files refused, FIFOs never block, stored names validated,
corrupt artefacts left out of bundles, and reading verbs never create a vault."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict

import pytest

import spikevault
from conftest import run_python
from test_cli import run_cli

NOW = datetime.now(timezone.utc)


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def _modes(vault: Path) -> Dict[str, int]:
    found = {p.name: _mode(p) for p in vault.iterdir()}
    found.update({"artefacts/" + p.name: _mode(p) for p in (vault / "artefacts").iterdir()})
    return found


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o002])
def test_new_vault_is_private_whatever_the_umask(lib, tmp_path: Path, umask: int) -> None:
    path = tmp_path / "v"
    r = run_python(f"""
        import json, os, stat, spikevault
        os.umask({umask})
        import subprocess
        with spikevault.Vault({str(path)!r}) as v:
            v.save(process_name="p", pid=1, metric="cpu", value=1, artefacts={{"a.txt": b"x" * 100}})
            child = subprocess.Popen(["sleep", "30"])
            try:  # a real capture writes through its scratch directory
                v.capture(child.pid, duration=0.3, backend="procfs")
            finally:
                child.kill(); child.wait()
            # While open: the WAL and SHM exist too.
            names = os.listdir({str(path)!r}) + ["artefacts/" + n for n in os.listdir({str(path / "artefacts")!r})]
            print(json.dumps({{n: stat.S_IMODE(os.lstat(os.path.join({str(path)!r}, n)).st_mode) for n in names}}))
    """)
    assert r.returncode == 0, r.stderr
    modes = json.loads(r.stdout)
    assert {"vault.sqlite3", "vault.sqlite3-wal", "vault.sqlite3-shm", "artefacts"} <= set(modes), modes
    assert any(n.startswith("artefacts/") for n in modes)
    assert _mode(path) == 0o700
    for name, mode in modes.items():
        assert mode == (0o700 if name in ("artefacts", "work") else 0o600), (name, oct(mode))


@pytest.fixture
def stored(lib, tmp_path: Path):
    path = tmp_path / "v"
    with spikevault.Vault(path, max_age_seconds=0) as v:
        old = v.save(process_name="old", pid=1, metric="cpu", value=1, captured_at=NOW - timedelta(hours=2),
                     artefacts={"a.txt": b"old capture"})
        new = v.save(process_name="new", pid=2, metric="cpu", value=2, artefacts={"a.txt": b"new capture"})
        names = {old: os.path.basename(v.artefact_path(old)), new: os.path.basename(v.artefact_path(new))}
    return path, old, new, names


@pytest.mark.parametrize("target", ["", "artefacts"])
@pytest.mark.parametrize("mode", [0o770, 0o777, 0o702])
def test_group_or_other_writable_directory_is_refused(stored, target: str, mode: int) -> None:
    path, old, new, _ = stored
    os.chmod(path / target, mode)
    with pytest.raises(spikevault.UnsafePathError, match="writable"):
        spikevault.Vault(path)
    r = run_cli(["list"], path)
    assert r.returncode != 0 and b"writable" in r.stderr
    os.chmod(path / target, 0o700)
    with spikevault.Vault(path) as v:  # nothing was lost
        assert v.read_artefact(old) == b"old capture" and v.read_artefact(new) == b"new capture"


def test_readable_directories_and_files_of_ours_are_tightened(stored) -> None:
    path, old, _, names = stored
    os.chmod(path, 0o755)
    os.chmod(path / "artefacts", 0o755)
    os.chmod(path / "vault.sqlite3", 0o644)
    with spikevault.Vault(path) as v:
        assert v.read_artefact(old) == b"old capture"
    assert _mode(path) == 0o700 and _mode(path / "artefacts") == 0o700 and _mode(path / "vault.sqlite3") == 0o600


def test_files_owned_by_another_user_are_refused(stored) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    path, old, new, names = stored
    nobody = 65534
    db = path / "vault.sqlite3"
    os.chown(db, nobody, nobody)
    with pytest.raises(spikevault.UnsafePathError, match="owned by"):
        spikevault.Vault(path)
    os.chown(db, 0, 0)
    artefact = path / "artefacts" / names[old]
    os.chown(artefact, nobody, nobody)
    with spikevault.Vault(path) as v:
        with pytest.raises(spikevault.UnsafePathError, match="owned by"):
            v.read_artefact(old)
        assert v.read_artefact(new) == b"new capture"
    os.chown(artefact, 0, 0)


def test_a_fifo_never_blocks(stored, tmp_path: Path) -> None:
    path, old, new, names = stored
    artefact = path / "artefacts" / names[old]
    artefact.unlink()
    os.mkfifo(artefact, 0o600)
    source = tmp_path / "source.fifo"
    os.mkfifo(source, 0o600)
    # In a child with a timeout: a blocked open would hang there, and fail here.
    r = run_python(f"""
        import pathlib, spikevault
        with spikevault.Vault({str(path)!r}) as v:
            for call in (lambda: v.read_artefact({old}), lambda: v.export_artefact({old}, {str(tmp_path / "out")!r})):
                try:
                    call()
                except spikevault.UnsafePathError as e:
                    assert "FIFO" in str(e), e
                else:
                    raise SystemExit("a FIFO artefact was read")
            try:
                v.save(process_name="p", pid=3, metric="cpu", value=1, artefacts={{"a.txt": pathlib.Path({str(source)!r})}})
            except spikevault.InvalidArgumentError as e:
                assert "FIFO" in str(e), e
            else:
                raise SystemExit("a FIFO source was saved")
            assert v.read_artefact({new}) == b"new capture"
            assert [r.id for r in v.recent(10)] == [{new}, {old}]
        print("ok")
    """)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr + r.stdout


@pytest.mark.parametrize("bad", ["{other}\x00tail", "../vault.sqlite3", "/etc/passwd", "..", "sub/{other}", ""])
def test_a_stored_name_that_is_not_ours_is_refused_and_quarantined(stored, bad: str) -> None:
    path, old, new, names = stored
    with sqlite3.connect(path / "vault.sqlite3") as db:  # the vault is closed: an attacker edits the row
        db.execute("UPDATE capture_artefact SET path = ? WHERE captureId = ?", (bad.format(other=names[new]), old))
    with spikevault.Vault(path, max_age_seconds=0) as v:
        with pytest.raises(spikevault.UnsafePathError):
            v.read_artefact(old)
        with pytest.raises(spikevault.UnsafePathError):
            v.artefact_path(old)
        # The row is quarantined (by the check at open or by maintenance) and never purged by age...
        v.maintain()
        assert v.get(old).status == spikevault.CaptureStatus.QUARANTINED
        # ...an explicit delete removes the row but touches no file through the bad name.
        assert v.delete_older_than(NOW - timedelta(hours=1)) == 1
        assert v.read_artefact(new) == b"new capture"
        assert os.path.dirname(v.artefact_path(new)) == str(path / "artefacts")
    assert names[new] in os.listdir(path / "artefacts")
    assert (path / "vault.sqlite3").exists()


def test_bundle_leaves_out_corrupt_artefacts_and_lists_them(stored, tmp_path: Path) -> None:
    path, old, new, names = stored
    corrupt = path / "artefacts" / names[old]
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the frame
    corrupt.write_bytes(bytes(data))
    with spikevault.Vault(path) as v:
        for redact in (True, False):
            out = tmp_path / f"b{redact}.tar"
            report = v.export_bundle(out, redact=redact)
            assert report == 2 and report.files == 1
            assert [(c["captureId"], c["kind"]) for c in report.corrupt] == [(old, "a.txt")]
            with tarfile.open(out) as tar:
                members = tar.getnames()
                meta = json.load(tar.extractfile("metadata.json"))
            assert len(members) == 2 and members[-1] == "metadata.json" and names[new] in members[0]
            assert not any(names[old] in m for m in members)
            assert [(c["captureId"], c["kind"]) for c in meta["corrupt"]] == [(old, "a.txt")]
            assert meta["corrupt"][0]["reason"]
    r = run_cli(["export", "--format", "bundle", "-o", str(tmp_path / "cli.tar")], path)
    assert r.returncode == 0 and b"left out capture" in r.stderr and b"corrupt" in r.stderr


@pytest.mark.parametrize("verb", [["list"], ["show", "1"], ["stats"], ["export", "--format", "json"], ["path", "1"]])
def test_reading_verbs_never_create_a_vault(lib, tmp_path: Path, verb) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = tmp_path / "missing"
    for where in (empty, missing):
        r = run_cli(verb, where)
        assert r.returncode == 1, r.stderr
        assert b"no vault" in r.stderr, r.stderr
    assert list(empty.iterdir()) == [] and not missing.exists()
    with pytest.raises(spikevault.NotFoundError):
        spikevault.Vault(empty, create=False)
    assert list(empty.iterdir()) == []
