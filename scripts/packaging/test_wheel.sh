#!/usr/bin/env bash
# The wheel of `make wheel`: auditwheel accepts it as manylinux, its library needs neither
# libsqlite3 nor libzstd, and installed into a fresh venv it imports, opens a vault, saves and
# lists with the system's libsqlite3.so.0 and libzstd.so.1 hidden from the loader (a private
# mount namespace, `unshare -m`, with /dev/null bound over both; the host's mounts are not
# touched). Skips the hidden-library run, with the reason, where unshare is not permitted.
#   test_wheel.sh WHEELDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
wheels=("$1"/spikevault-*.whl)
[ ${#wheels[@]} = 1 ] && [ -f "${wheels[0]}" ] || { echo "test-wheel: expected one wheel in $1" >&2; exit 1; }
wheel=$(cd "$(dirname "${wheels[0]}")" && pwd)/$(basename "${wheels[0]}")
python=${PYTHON:-python3}

case "$(basename "$wheel")" in
    *-py3-none-manylinux_2_*) ;;
    *) echo "test-wheel: $(basename "$wheel") is not tagged manylinux" >&2; exit 1 ;;
esac
work=$(mktemp -d /tmp/spikevault-test-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
# auditwheel wraps its text: join the lines before matching. (No `tee /dev/stderr`: reopening
# stderr through /dev would truncate a log file it is redirected to.)
"$python" -m auditwheel show "$wheel" > "$work/show.txt"
cat "$work/show.txt"
tr -s '\n ' '  ' < "$work/show.txt" | grep -q 'consistent with the following platform tag: "manylinux_2_' \
    || { echo "test-wheel: auditwheel does not accept the wheel as manylinux" >&2; exit 1; }
"$python" -m zipfile -e "$wheel" "$work/unpacked"
so=$(ls "$work"/unpacked/spikevault/libspikevault.so*)
if readelf -d "$so" | grep NEEDED | grep -Ei 'sqlite|zstd'; then
    echo "test-wheel: the bundled library still needs the system's SQLite or zstd" >&2; exit 1
fi

"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --no-index --no-deps "$wheel"
clean_env=(env -i PATH="$work/venv/bin:/usr/bin:/bin" HOME="$work" LANG=C.UTF-8)
# Away from the source tree, so `import spikevault` can only find the installed copy.
cd "$work"
"${clean_env[@]}" "$work/venv/bin/python" "$root/scripts/packaging/smoke.py" "$work/vault-visible" site-packages/spikevault/

# The man page and the completions (#14) are in the wheel: as package data for the command, and
# the page as <venv>/share/man/man1, where man finds it from the venv's bin in PATH.
for data in spikevault/cli/data/spikevault.1 spikevault/cli/data/spikevault.bash spikevault/cli/data/_spikevault; do
    cmp -s "$work/unpacked/$data" "$root/bindings/python/$data" || { echo "test-wheel: $data missing or stale in the wheel" >&2; exit 1; }
done
cmp -s "$work/venv/share/man/man1/spikevault.1" "$root/bindings/python/spikevault/cli/data/spikevault.1" \
    || { echo "test-wheel: the venv has no share/man/man1/spikevault.1" >&2; exit 1; }
if command -v man >/dev/null 2>&1; then
    found=$("${clean_env[@]}" man -w spikevault)
    [ "$found" = "$work/venv/share/man/man1/spikevault.1" ] || { echo "test-wheel: man -w spikevault gave '$found'" >&2; exit 1; }
    # Into a file, not a pipe into grep -q: with pipefail, man dying of SIGPIPE would fail it.
    "${clean_env[@]}" MANWIDTH=200 man -P cat spikevault 2>/dev/null | tr -s ' ' > "$work/man.txt"
    grep -q "spikevault - review, export and capture profiles of processes that spiked" "$work/man.txt" \
        || { echo "test-wheel: man spikevault did not render the venv's page" >&2; exit 1; }
else
    echo "test-wheel: SKIP man spikevault in the venv: man (man-db) is not installed"
fi

libdir=/usr/lib/$(gcc -print-multiarch)
hide=()
for lib in libsqlite3.so.0 libzstd.so.1; do
    if [ -e "$libdir/$lib" ]; then hide+=("$libdir/$lib"); fi
done
if ! unshare -m true 2>/dev/null; then
    echo "test-wheel: SKIP the hidden-library run: unshare -m is not permitted here ($(id -un))"; exit 0
fi
# In the namespace: hide the libraries, prove they are hidden, then run the installed wheel.
"${clean_env[@]}" SMOKE="$root/scripts/packaging/smoke.py" VAULT="$work/vault-hidden" \
    unshare -m --propagation private sh -euc '
    python=$1; shift
    for f in "$@"; do mount --bind /dev/null "$f"; done
    if "$python" -c "import ctypes, sys; [ctypes.CDLL(n) for n in (\"libsqlite3.so.0\", \"libzstd.so.1\")]" 2>/dev/null; then
        echo "test-wheel: libsqlite3/libzstd are still loadable in the namespace" >&2; exit 1
    fi
    "$python" "$SMOKE" "$VAULT" site-packages/spikevault/
    spikevault --vault "$VAULT" list >/dev/null
    spikevault --version
' hide "$work/venv/bin/python" "${hide[@]}"

# The Python tests that need neither SQLite nor zstd themselves (no sqlite3 module, no sqlite3
# or zstd tool), against the wheel's library, with the system's copies hidden. Two loading tests
# are left out: they compile a fake library with cc, and binutils' ld needs libzstd.
if ! "$python" -c "import pytest" 2>/dev/null; then
    echo "test-wheel: SKIP the Python tests without SQLite/zstd: pytest is not installed for $python"
else
    bundled=$(ls "$work"/venv/lib/python3*/site-packages/spikevault/libspikevault.so.0)
    (cd "$root/bindings/python" && env SPIKEVAULT_LIBRARY="$bundled" PAGER=cat unshare -m --propagation private sh -euc '
        python=$1; shift
        for f in "$@"; do mount --bind /dev/null "$f"; done
        "$python" -m pytest -q -p no:cacheprovider tests/test_roundtrip.py tests/test_enums_errors.py \
            tests/test_loading.py tests/test_maintenance.py tests/test_threads_gc.py \
            tests/test_abi_consistency.py tests/test_cli_json.py \
            --deselect tests/test_loading.py::test_version_probe_refuses_another_major \
            --deselect tests/test_loading.py::test_version_probe_reports_missing_functions
    ' pytest "$python" "${hide[@]}")
fi
echo "test-wheel: $(basename "$wheel") works in a fresh venv without the system's libsqlite3 and libzstd"
