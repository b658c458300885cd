"""The C simple tier: enum names from the library (equal to abi/manifest.json) and sv_capture_pid."""

from __future__ import annotations

import ctypes
import json
import math
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

import spikevault
from spikevault import Status

MANIFEST = Path(__file__).resolve().parents[3] / "abi" / "manifest.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _enum(manifest: dict, name: str) -> dict:
    return next(e for e in manifest["enums"] if e["name"] == name)


@pytest.mark.parametrize("enum, function", [("sv_metric", "sv_metric_name"),
                                            ("sv_capture_status", "sv_capture_status_name"),
                                            ("sv_backend", "sv_backend_name")])
def test_names_are_the_manifests(lib, manifest: dict, enum: str, function: str) -> None:
    values = _enum(manifest, enum)["values"]
    for v in values:
        assert getattr(lib, function)(v["value"]).decode() == v["text"], v["c"]
    for bad in (0, -1, max(v["value"] for v in values) + 1, 2**31 - 1):
        assert getattr(lib, function)(bad) is None
        assert str(bad) in lib.sv_errmsg().decode()


def test_status_names_are_the_constants(lib, manifest: dict) -> None:
    for v in _enum(manifest, "sv_status")["values"]:
        assert lib.sv_status_name(v["value"]).decode() == v["c"]
    assert lib.sv_status_name(-999) is None and "-999" in lib.sv_errmsg().decode()


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_capture_pid_in_one_call(lib, tmp_path: Path, sleeper: subprocess.Popen) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, capture_cooldown_seconds=0) as v:
        new_id = ctypes.c_int64(0)
        status = lib.sv_capture_pid(v._handle, sleeper.pid, spikevault.Metric.MEMORY, 42.5, 0.3,
                                    ctypes.byref(new_id))
        assert status == Status.OK, lib.sv_errmsg()
        record = v.get(new_id.value)
        assert (record.pid, record.metric, record.value) == (sleeper.pid, spikevault.Metric.MEMORY, 42.5)
        assert lib.sv_capture_pid(v._handle, sleeper.pid, spikevault.Metric.CPU, 1.0, 0.05, None) == Status.OK


@pytest.mark.parametrize("pid, metric, value, duration, status, words", [
    (0, 1, 1.0, 0.2, Status.ERR_INVALID_ARGUMENT, "pid"),
    (-5, 1, 1.0, 0.2, Status.ERR_INVALID_ARGUMENT, "pid"),
    (2**40, 1, 1.0, 0.2, Status.ERR_INVALID_ARGUMENT, "pid"),
    ("self", 99, 1.0, 0.2, Status.ERR_INVALID_ARGUMENT, "metric"),
    ("self", 1, math.nan, 0.2, Status.ERR_INVALID_ARGUMENT, "value"),
    ("self", 1, 1.0, 0.0, Status.ERR_INVALID_ARGUMENT, "duration"),
    ("self", 1, 1.0, 3601.0, Status.ERR_INVALID_ARGUMENT, "duration"),
    ("self", 1, 1.0, math.inf, Status.ERR_INVALID_ARGUMENT, "duration"),
])
def test_capture_pid_bad_input(lib, tmp_path: Path, sleeper: subprocess.Popen, pid, metric, value, duration,
                               status, words: str) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0) as v:
        target = sleeper.pid if pid == "self" else pid
        assert lib.sv_capture_pid(v._handle, target, metric, value, duration, None) == status
        assert words in lib.sv_errmsg().decode()
        assert v.recent(10) == []


def test_capture_pid_null_and_closed_vault(lib, tmp_path: Path, sleeper: subprocess.Popen) -> None:
    assert lib.sv_capture_pid(None, sleeper.pid, 1, 1.0, 0.2, None) == Status.ERR_NULL_ARGUMENT
    v = spikevault.Vault(tmp_path / "v", durability=0)
    handle = v._handle
    v.close()
    assert lib.sv_capture_pid(handle, sleeper.pid, 1, 1.0, 0.2, None) == Status.ERR_CLOSED
