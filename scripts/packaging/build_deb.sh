#!/usr/bin/env bash
# `make deb`: builds the Debian binary packages (libspikevault0, libspikevault-dev,
# python3-spikevault) with dpkg-buildpackage -b -us -uc in a copy of the source tree, so the
# tree itself never holds debhelper's files, then runs lintian on the result.
#   build_deb.sh OUTDIR     .deb, .changes, .buildinfo and lintian.txt land in OUTDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
version=$(cat "$root/VERSION")
src="$out/spikevault-$version"

rm -rf "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
# A fresh copy, except SwiftPM's .build/ of the last run (its own dependency tracking keeps an
# incremental build correct, and a Swift build from scratch takes minutes).
mkdir -p "$src"
find "$src" -mindepth 1 -maxdepth 1 ! -name .build -exec rm -rf {} +
# The files git knows (committed or not yet), not the builder's .build/ or build/ directories.
(cd "$root" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf -) | tar -xf - -C "$src"
python3 "$src/scripts/version.py" changelog "$src/debian/changelog.in" "$src/debian/changelog"

# The Swift toolchain found on this machine (debian/rules falls back to /opt/swift/usr/bin).
if [ -z "${SWIFT_BIN:-}" ] && command -v swift >/dev/null 2>&1; then
    SWIFT_BIN=$(dirname "$(readlink -f "$(command -v swift)")")
fi
# The system's tools only (a pyenv or venv python3 first in PATH would build the Python package
# for the wrong interpreter); debian/rules adds the Swift toolchain (SWIFT_BIN).
(cd "$src" && env PATH=/usr/sbin:/usr/bin:/sbin:/bin ${SWIFT_BIN:+SWIFT_BIN="$SWIFT_BIN"} \
    dpkg-buildpackage -b -us -uc)
changes=$(ls "$out"/spikevault_"$version"-*_*.changes)
# lintian exits non-zero on errors; warnings left are listed (and justified) in
# debian/source/lintian-overrides or docs/packaging.md.
set +e
lintian --fail-on error --display-level '>=warning' "$changes" | tee "$out/lintian.txt"
status=${PIPESTATUS[0]}
set -e
ls -l "$out"/*.deb
exit "$status"
