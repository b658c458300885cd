"""Shared fixtures: the real library, vaults in tmp_path, subprocess runner. No mocks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # bindings/python
HEADER = Path(__file__).resolve().parent / ".." / ".." / ".." / "include" / "spikevault.h"
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import spikevault  # noqa: E402
from spikevault import _library  # noqa: E402


@pytest.fixture(scope="session")
def lib():
    """The loaded library with the table applied (raw C functions)."""
    try:
        return _library.lib()
    except spikevault.LibraryLoadError as exc:
        if os.environ.get(_library.ENV_VAR):
            raise  # an explicit library that fails to load is a failure, not a skip
        pytest.skip(f"libspikevault not available ({exc}); set {_library.ENV_VAR} to run these tests")


@pytest.fixture
def vault(lib, tmp_path: Path) -> Iterator[spikevault.Vault]:
    # No age limit: these tests store captures dated years back on purpose.
    v = spikevault.Vault(tmp_path / "vault", durability=0, max_age_seconds=0)
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def capvault(lib, tmp_path: Path) -> Iterator[spikevault.Vault]:
    """A vault for live captures: no cooldown between captures of one process."""
    v = spikevault.Vault(tmp_path / "vault", durability=0, capture_cooldown_seconds=0)
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def baseline(vault: spikevault.Vault) -> Dict[int, bytes]:
    """Two records saved before a bad input, to check the vault stays intact afterwards."""
    saved = {}
    for i, payload in enumerate((b"first artefact " * 50, b"second artefact " * 70)):
        rid = vault.save(
            process_name=f"baseline-{i}", pid=100 + i, metric="cpu", value=50.0 + i,
            artefacts={"stack.txt": payload},
            captured_at=datetime(2026, 11, 27, 10, i, tzinfo=timezone.utc),
        )
        saved[rid] = payload
    return saved


def assert_intact(vault: spikevault.Vault, saved: Dict[int, bytes]) -> None:
    """Every earlier record is still listed and its artefact reads back unchanged."""
    listed = {r.id for r in vault.recent(1000)}
    for rid, payload in saved.items():
        assert rid in listed
        assert vault.get(rid).id == rid
        assert vault.read_artefact(rid) == payload


def run_python(code: str, env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter (its own library load; a crash cannot kill the suite)."""
    full_env = dict(os.environ)
    full_env.setdefault("PYTHONPATH", str(PACKAGE_ROOT))
    if env is not None:
        full_env.update(env)
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
        env=full_env, cwd=str(cwd) if cwd else None, capture_output=True, text=True, timeout=60,
    )


def wait_until(predicate, timeout: float = 60, every: float = 0.02) -> bool:
    """Polls `predicate` until it holds or `timeout` s pass. Deadlines only bound a hang: on a
    loaded machine anything may take longer, so tests wait for conditions, not for times."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def cpu_ticks(pid: int) -> Optional[int]:
    """utime + stime of `pid` in clock ticks, from /proc (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else int(fields[11]) + int(fields[12])


def cpu_percent(pid: int, seconds: float = 1.0) -> float:
    """The CPU `pid` actually got over `seconds`, in % of one core: what a busy child is
    measured against, since a loaded machine gives it less than wall time."""
    import time

    a, t0 = cpu_ticks(pid), time.monotonic()
    time.sleep(seconds)  # the measuring window
    b, t1 = cpu_ticks(pid), time.monotonic()
    if a is None or b is None:
        return 0.0
    return (b - a) / os.sysconf("SC_CLK_TCK") / (t1 - t0) * 100
