"""Deleting one capture: ``Vault.delete`` (sv_vault_delete) and ``spikevault delete``. Real
vaults, real artefact files: the capture's rows and files go, the others stay byte for byte,
and the footprint tally falls by what was freed; bad ids and closed vaults give their errors."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import spikevault
from spikevault import ClosedError, InvalidArgumentError, NotFoundError

from test_cli import run_cli


def _save(vault: spikevault.Vault, name: str, size: int = 200_000) -> int:
    # Incompressible bytes, so the file's size shows in the footprint.
    return vault.save(process_name=name, pid=4000, metric="cpu", value=90.0,
                      artefacts={"oncpu.folded": b"main;" + os.urandom(size).hex().encode() + b" 1\n",
                                 "procfs.json": b"{}"})


def test_delete_removes_rows_and_files_and_keeps_the_others(vault: spikevault.Vault) -> None:
    keep, doomed = _save(vault, "keep"), _save(vault, "doomed")
    kept_bytes = vault.read_artefact(keep)
    files = [Path(vault.artefact_path(doomed, k)) for k in ("oncpu.folded", "procfs.json")]
    assert all(f.is_file() for f in files)
    before = vault.footprint()
    vault.delete(doomed)
    with pytest.raises(NotFoundError):
        vault.get(doomed)
    assert not any(f.exists() for f in files)
    assert vault.count() == 1 and vault.read_artefact(keep) == kept_bytes
    assert vault.footprint() <= before - 200_000  # the hex artefact was at least that compressed
    with pytest.raises(NotFoundError, match=str(doomed)):
        vault.delete(doomed)  # twice: gone


def test_delete_bad_ids_and_closed_vault(vault: spikevault.Vault, tmp_path: Path) -> None:
    r = _save(vault, "p", 10)
    for bad in (0, -1, -(2**63)):
        with pytest.raises(InvalidArgumentError, match=">= 1"):
            vault.delete(bad)
    for bad in ("1", 1.0, True, None, 2**63):
        with pytest.raises(InvalidArgumentError):
            vault.delete(bad)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        vault.delete(r + 1000)
    assert vault.count() == 1
    other = spikevault.Vault(tmp_path / "other", durability=0)
    other.close()
    with pytest.raises(ClosedError):
        other.delete(1)


def test_c_abi_delete_statuses(lib, vault: spikevault.Vault) -> None:
    from spikevault._library import lib as api
    from spikevault import Status

    L = api()
    r = _save(vault, "p", 10)
    assert L.sv_vault_delete(None, r) == Status.ERR_NULL_ARGUMENT
    assert L.sv_vault_delete(vault._handle, 0) == Status.ERR_INVALID_ARGUMENT
    assert L.sv_vault_delete(vault._handle, r + 1) == Status.ERR_NOT_FOUND
    assert L.sv_vault_delete(vault._handle, r) == Status.OK
    assert vault.count() == 0


def test_cli_delete_needs_yes_without_a_terminal(vault: spikevault.Vault, tmp_path: Path) -> None:
    a, b = _save(vault, "alpha", 10), _save(vault, "beta", 10)
    path = tmp_path / "vault"
    r = run_cli(["delete", str(a)], path, stdin=b"y\n")
    assert r.returncode == 2 and b"--yes" in r.stderr and vault.count() == 2
    r = run_cli(["delete", str(a), "--yes"], path)
    assert r.returncode == 0, r.stderr
    assert f"Deleted capture {a}".encode() in r.stdout and vault.count() == 1
    r = run_cli(["delete", str(a), "--yes"], path)
    assert r.returncode != 0 and str(a).encode() in r.stderr
    r = run_cli(["delete", "--all", "--yes"], path)
    assert r.returncode == 2 and vault.count() == 1  # --all alone would empty the vault: refused
    r = run_cli(["delete", "0", "--yes"], path)
    assert r.returncode == 2 and vault.get(b).id == b


def test_cli_delete_all_of_a_match_as_json(vault: spikevault.Vault, tmp_path: Path) -> None:
    import json

    from test_cli_json import check

    w1, w2, other = _save(vault, "worker", 10), _save(vault, "worker", 10), _save(vault, "other", 10)
    r = run_cli(["delete", "work*", "--all", "--yes", "--json"], tmp_path / "vault")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    check("delete", doc)
    assert [d["id"] for d in doc["deleted"]] == [w2, w1]
    assert [x.id for x in vault.recent()] == [other]


def test_cli_delete_asks_on_a_terminal(vault: spikevault.Vault, tmp_path: Path) -> None:
    from ptysession import PtySession
    from test_cli import cli_env

    hostile = _save(vault, "evil\x1b]0;owned\x07", 10)
    env = cli_env(tmp_path / "vault")
    for answer, gone in ((b"n\r", False), (b"y\r", True)):
        s = PtySession(["delete", str(hostile)], env)
        try:
            s.expect(r"\[y/N\]")
            assert "\x1b]0;owned" not in s.text  # the name is shown escaped, never as a control sequence
            s.send(answer)
            code = s.wait()
        finally:
            s.close()
        assert code == (0 if gone else 1)
        assert (vault.count() == 0) == gone
