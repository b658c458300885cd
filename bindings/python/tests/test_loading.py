"""Library lookup order, error text and the version probe, each in a fresh interpreter so the
library already loaded by this process is not disturbed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import spikevault
from spikevault import _library

from conftest import PACKAGE_ROOT, run_python

REPORT = """
import spikevault
from spikevault import _library
try:
    print("LOADED", _library.library_path(), spikevault.library_version())
except spikevault.LibraryLoadError as exc:
    assert isinstance(exc, ImportError) and isinstance(exc, spikevault.SpikeVaultError)
    print("ERROR", exc.status.name)
    print(exc)
"""


@pytest.fixture(scope="module")
def real_library(lib) -> Path:
    return Path(_library.library_path()).resolve()


def _package_copy(tmp_path: Path) -> Path:
    """A copy of the package (without any bundled library) to import in the child."""
    root = tmp_path / "site"
    shutil.copytree(PACKAGE_ROOT / "spikevault", root / "spikevault",
                    ignore=shutil.ignore_patterns("__pycache__", "libspikevault.so*"))
    (root / "spikevault" / "VERSION").write_text(spikevault.__version__ + "\n")  # as setup.py packages it
    return root


def _run(code: str, root: Path, **extra: str):
    """Run in the package copy's directory, so the child imports the copy and not the source."""
    return run_python(code, env=_clean_env(root, **extra), cwd=root)


def _clean_env(root: Path, **extra: str) -> dict:
    env = {"PYTHONPATH": str(root), _library.ENV_VAR: None, "LD_LIBRARY_PATH": None}
    env.update(extra)
    return env


def test_import_does_not_load_the_library(tmp_path: Path) -> None:
    root = _package_copy(tmp_path)
    result = _run("import spikevault, spikevault._library as l; print(l._loaded is None, spikevault.__version__)",
                  root, SPIKEVAULT_LIBRARY=str(tmp_path / "missing.so"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", spikevault.__version__]


def test_env_var_to_missing_file_lists_what_was_tried(tmp_path: Path) -> None:
    root = _package_copy(tmp_path)
    missing = tmp_path / "nowhere" / "libspikevault.so"
    result = _run(REPORT, root, SPIKEVAULT_LIBRARY=str(missing))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ERROR ERR_NOT_FOUND")
    text = result.stdout
    assert str(missing) in text and "no such file" in text
    assert "SPIKEVAULT_LIBRARY" in text and "bundled" in text and "system loader" in text


def test_env_var_to_a_file_that_is_not_a_library(tmp_path: Path) -> None:
    root = _package_copy(tmp_path)
    bogus = tmp_path / "libspikevault.so"
    bogus.write_text("not an ELF file")
    result = _run(REPORT, root, SPIKEVAULT_LIBRARY=str(bogus))
    assert result.stdout.startswith("ERROR"), result.stdout + result.stderr
    assert "cannot be loaded" in result.stdout and str(bogus) in result.stdout


def test_env_var_is_used_first(tmp_path: Path, real_library: Path) -> None:
    root = _package_copy(tmp_path)
    (root / "spikevault" / "libspikevault.so.0").write_text("a broken bundled copy that must not be tried")
    result = _run(REPORT, root, SPIKEVAULT_LIBRARY=str(real_library))
    assert result.stdout.split()[:2] == ["LOADED", str(real_library)], result.stdout + result.stderr


def test_bundled_copy_is_used_without_env_var(tmp_path: Path, real_library: Path) -> None:
    root = _package_copy(tmp_path)
    bundled = root / "spikevault" / "libspikevault.so.0"
    bundled.symlink_to(real_library)
    result = _run(REPORT, root)
    assert result.stdout.split()[:2] == ["LOADED", str(bundled)], result.stdout + result.stderr


def test_system_loader_is_used_last(tmp_path: Path, real_library: Path) -> None:
    root = _package_copy(tmp_path)
    libdir = tmp_path / "libdir"
    libdir.mkdir()
    (libdir / "libspikevault.so.0").symlink_to(real_library)
    result = _run(REPORT, root, LD_LIBRARY_PATH=str(libdir))
    assert result.stdout.startswith("LOADED"), result.stdout + result.stderr
    assert "libspikevault.so" in result.stdout.split()[1]


def test_nothing_found_names_all_three_places(tmp_path: Path) -> None:
    root = _package_copy(tmp_path)
    result = _run(REPORT, root)
    if result.stdout.startswith("LOADED"):
        pytest.skip(f"libspikevault is installed system-wide here ({result.stdout.split()[1]}), "
                    "so 'not found' cannot be produced")
    text = result.stdout
    assert text.startswith("ERROR ERR_NOT_FOUND"), text + result.stderr
    assert "1. $SPIKEVAULT_LIBRARY: not set" in text
    assert "2. a copy bundled in the package" in text and str(root / "spikevault") in text
    assert "3. system loader" in text


def _fake_library(tmp_path: Path, version_number: int) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler to build a fake library with another version")
    source = tmp_path / "fake.c"
    source.write_text(f"int sv_version_number(void) {{ return {version_number}; }}\n")
    out = tmp_path / f"libfake{version_number}.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(out), str(source)], check=True, capture_output=True)
    return out


def test_version_probe_refuses_another_major(tmp_path: Path) -> None:
    root = _package_copy(tmp_path)
    fake = _fake_library(tmp_path, 10203)  # 1.2.3
    result = _run(REPORT, root, SPIKEVAULT_LIBRARY=str(fake))
    assert result.stdout.startswith("ERROR ERR_UNSUPPORTED"), result.stdout + result.stderr
    assert "1.2.3" in result.stdout and "major version 0" in result.stdout


def test_version_probe_reports_missing_functions(tmp_path: Path) -> None:
    root = _package_copy(tmp_path)
    fake = _fake_library(tmp_path, 100)  # version 0.1.0 (as a number) but nothing else exported
    result = _run(REPORT, root, SPIKEVAULT_LIBRARY=str(fake))
    assert result.stdout.startswith("ERROR ERR_UNSUPPORTED"), result.stdout + result.stderr
    assert "sv_vault_open" in result.stdout


def test_version_probe_accepts_the_real_library(lib) -> None:
    assert lib.sv_version_number() // 10000 == _library.SUPPORTED_MAJOR
