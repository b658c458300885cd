"""Test helpers for pprof files: a reader generated from the official profile.proto
(tests/data/profile.proto, google/pprof, Apache-2.0; committed because tests run offline)
with grpcio-tools, and ``go tool pprof -top`` parsed into numbers."""

from __future__ import annotations

import gzip
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

PROTO = Path(__file__).parent / "data" / "profile.proto"


def profile_module(tmp: Path) -> Any:
    """The generated ``profile_pb2`` module (skips when protobuf/grpcio-tools are missing)."""
    pytest.importorskip("google.protobuf", reason="protobuf is not installed (scripts/deps.sh installs it)")
    protoc = pytest.importorskip("grpc_tools.protoc", reason="grpcio-tools is not installed (scripts/deps.sh installs it)")
    out = tmp / "pb"
    out.mkdir(exist_ok=True)
    shutil.copy(PROTO, out / "profile.proto")
    rc = protoc.main(["protoc", f"-I{out}", f"--python_out={out}", str(out / "profile.proto")])
    assert rc == 0, "protoc failed on the official profile.proto"
    sys.path.insert(0, str(out))
    try:
        sys.modules.pop("profile_pb2", None)
        return importlib.import_module("profile_pb2")
    finally:
        sys.path.remove(str(out))


def decode(module: Any, data: bytes) -> Any:
    assert data[:2] == b"\x1f\x8b", "a pprof file is gzip-compressed"
    profile = module.Profile()
    profile.ParseFromString(gzip.decompress(data))
    return profile


def stacks(profile: Any) -> Dict[str, List[int]]:
    """``root;...;leaf`` -> values, through the location and function tables."""
    s = profile.string_table
    functions = {f.id: s[f.name] for f in profile.function}
    locations = {loc.id: functions[loc.line[0].function_id] for loc in profile.location}
    out: Dict[str, List[int]] = {}
    for sample in profile.sample:
        key = ";".join(locations[i] for i in reversed(sample.location_id))
        assert key not in out, f"stack {key!r} appears twice"
        out[key] = list(sample.value)
    return out


def go_pprof_top(path: Path, sample_index: str = "") -> Tuple[int, Dict[str, int]]:
    """(total, {function: flat > 0}) from ``go tool pprof -top`` (skips without Go)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed (scripts/deps.sh installs Debian's golang-go)")
    args = [go, "tool", "pprof", "-top", "-nodecount=100000", "-nodefraction=0", "-edgefraction=0"]
    if sample_index:
        args.append(f"-sample_index={sample_index}")
    proc = subprocess.run(args + [str(path)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PPROF_TMPDIR=str(path.parent)))
    assert proc.returncode == 0, f"go tool pprof refused {path}: {proc.stderr}"
    total_m = re.search(r"of ([0-9.]+)(\w*) total", proc.stdout)
    assert total_m, proc.stdout
    flat: Dict[str, int] = {}
    rows = False
    for line in proc.stdout.splitlines():
        if line.strip().startswith("flat"):
            rows = True
            continue
        if rows and line.strip():
            parts = line.split(None, 5)
            if _number(parts[0]):  # callers-only functions show flat 0
                flat[parts[5]] = _number(parts[0])
    return _number(total_m.group(1) + total_m.group(2)), flat


def _number(text: str) -> int:
    units = {"": 1, "ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
    m = re.fullmatch(r"([0-9.]+)([a-z]*)", text)
    assert m, text
    return round(float(m.group(1)) * units[m.group(2)])
