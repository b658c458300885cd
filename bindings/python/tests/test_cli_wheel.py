"""``make wheel-local``: the platform wheel of build/lib's library installs into a fresh virtual
environment and its ``spikevault`` command works with the bundled library alone (no
SPIKEVAULT_LIBRARY, no source tree on the path). Slow (a venv and a pip install) but run by
default. The manylinux wheel (``make wheel``, a static build) is tested by
scripts/packaging/test_wheel.sh in ``make check-packaging``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent.parent


@pytest.mark.slow
def test_wheel_installs_and_runs_with_the_bundled_library(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed: the wheel cannot be built")
    # Package the library the other tests use; a Python test never recompiles the Swift library
    # (`-o lib`: make's `lib` rule is skipped when build/lib already holds one; `make check` builds it first).
    skip_lib = ["-o", "lib"] if (REPO / "build" / "lib" / "libspikevault.so.0").exists() else []
    build = subprocess.run(["make", "-s", *skip_lib, "wheel-local", f"PYTHON={sys.executable}"], cwd=REPO,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = sorted((REPO / "build" / "wheel-local").glob("spikevault-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]
    assert "-py3-none-linux_" in wheel.name  # a platform wheel, any Python 3 (the library is loaded by ctypes)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert any(n.endswith("spikevault/libspikevault.so.0") for n in names)
        assert any(n.endswith("spikevault/cli/main.py") for n in names)
        for data in ("spikevault/cli/data/spikevault.1", "spikevault/cli/data/spikevault.bash",
                     "spikevault/cli/data/_spikevault", "share/man/man1/spikevault.1"):
            assert any(n.endswith(data) for n in names), f"{data} missing from the wheel"
        entry = next(n for n in names if n.endswith("entry_points.txt"))
        assert "spikevault = spikevault.cli.main:entry_point" in z.read(entry).decode()
    assert not list((REPO / "bindings" / "python" / "spikevault").glob("libspikevault.so*")), \
        "make wheel-local must not leave a library copy in the source tree"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "--no-deps", "-q",
                          str(wheel)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("SPIKEVAULT_LIBRARY", "PYTHONPATH", "SPIKEVAULT_DIR")}
    exe = str(venv / "bin" / "spikevault")
    version = subprocess.run([exe, "--version"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert str(venv) in version.stdout and "libspikevault.so.0" in version.stdout, version.stdout
    assert (venv / "share" / "man" / "man1" / "spikevault.1").is_file()  # `man spikevault` in the venv

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        vault = tmp_path / "state" / "vault"
        cap = subprocess.run([exe, "--vault", str(vault), "capture", str(child.pid), "--duration", "1s",
                              "--backend", "procfs", "--json"], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
        assert cap.returncode == 0, cap.stderr
        record = json.loads(cap.stdout)
        assert record["pid"] == child.pid and record["artefacts"][0]["kind"] == "procfs.json"
        listed = subprocess.run([str(venv / "bin" / "python"), "-m", "spikevault", "--vault", str(vault), "--json"],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert [r["id"] for r in json.loads(listed.stdout)] == [record["id"]]
    finally:
        child.kill()
        child.wait()
