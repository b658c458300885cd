#!/usr/bin/env bash
# Runs the benchmarks (see README.md) and prints one table, also written to $2.
# Usage: run.sh BIN_DIR RESULTS_FILE   (sizes from SAVE_N, FETCH_ROWS, FETCH_ITERS, RUNS)
set -euo pipefail
BIN=$(cd "$1" && pwd)
RESULTS=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
SAVE_N=${SAVE_N:-10000}
FETCH_ROWS=${FETCH_ROWS:-100000}
FETCH_ITERS=${FETCH_ITERS:-2000}
RUNS=${RUNS:-3}
WORK=$(mktemp -d "$BIN/work.XXXXXX")
SAVES=$WORK   # where the save benchmarks write
FS_NOTE="on the repository's filesystem"
cleanup() { mountpoint -q "$WORK/fs" 2>/dev/null && umount "$WORK/fs"; rm -rf "$WORK"; }
trap cleanup EXIT
# The save benchmarks are dominated by file creation and fsync. On a shared filesystem the
# cost of creating an inode depends on what else was deleted there lately (ext4 skips
# recently freed inodes), which can favour whichever side lands in a quieter block group.
# As root, both sides therefore run on a fresh ext4 filesystem of their own (a loop device).
if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null && truncate -s 3G "$WORK/fs.img" 2>/dev/null \
    && mkfs.ext4 -q -F "$WORK/fs.img" && mkdir -p "$WORK/fs" && mount -o loop "$WORK/fs.img" "$WORK/fs" 2>/dev/null; then
    SAVES=$WORK/fs
    FS_NOTE="on a fresh 3 GB ext4 loop filesystem"
fi

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print v[(NR+1)/2]} else {print (v[NR/2]+v[NR/2+1])/2}}'; }
field() { awk -v k="$1" '$1==k {print $2}'; }

echo "== (a) C: save $SAVE_N records x 4 KiB, default durability, $RUNS runs (library and raw interleaved), $FS_NOTE" >&2
a_lib=(); a_raw=()
for r in $(seq "$RUNS"); do
    out=$("$BIN/save_c_pair" "$SAVES/pair-$r" "$SAVE_N")
    a_lib+=("$(echo "$out" | field library_records_per_s)"); a_raw+=("$(echo "$out" | field raw_records_per_s)")
    echo "   run $r: library ${a_lib[-1]} rec/s, raw ${a_raw[-1]} rec/s" >&2
done
A_LIB=$(printf '%s\n' "${a_lib[@]}" | median); A_RAW=$(printf '%s\n' "${a_raw[@]}" | median)

echo "== (b) Python: save $SAVE_N records x 4 KiB, default durability, $RUNS runs alternating" >&2
B_NOTE=""
if ! "$PYTHON" -c "import zstandard" 2>/dev/null; then
    B_LIB=nan; B_RAW=nan; B_NOTE="skipped: the zstandard package is missing (pip install zstandard)"
else
    b_lib=(); b_raw=()
    for r in $(seq "$RUNS"); do
        out=$("$PYTHON" "$HERE/save_py_pair.py" "$SAVES/py-$r" "$SAVE_N" || true)
        if [[ $out == skipped:* ]] || [[ -z $(echo "$out" | field library_records_per_s) ]]; then
            B_NOTE="library side ${out:-failed}"; break
        fi
        b_lib+=("$(echo "$out" | field library_records_per_s)")
        b_raw+=("$(echo "$out" | field raw_records_per_s)")
        B_NOTE="raw checksum: $(echo "$out" | sed -n 's/^checksum //p')"
        echo "   run $r: library ${b_lib[-1]} rec/s, raw ${b_raw[-1]} rec/s" >&2
    done
    B_LIB=$( ((${#b_lib[@]})) && printf '%s\n' "${b_lib[@]}" | median || echo nan)
    B_RAW=$( ((${#b_raw[@]})) && printf '%s\n' "${b_raw[@]}" | median || echo nan)
fi

echo "== (c) fetchRecent(50) on $FETCH_ROWS rows: filling (durability off)" >&2
FILL_START=$(date +%s)
"$BIN/fetch_c_library" fill "$WORK/fetch" "$FETCH_ROWS" >&2
echo "   filled in $(( $(date +%s) - FILL_START )) s; timing $FETCH_ITERS calls x $RUNS runs each" >&2
C_LIB=$("$BIN/fetch_c_library" bench "$WORK/fetch" "$FETCH_ITERS" "$RUNS" | tee /dev/stderr | field us_per_call)
C_RAW=$("$BIN/fetch_c_raw" "$WORK/fetch" "$FETCH_ITERS" "$RUNS" | tee /dev/stderr | field us_per_call)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a=="nan" || b=="nan" || b==0) print "n/a"; else printf "%.2fx", a/b }'; }
verdict() { awk -v r="${1%x}" -v t="$2" 'BEGIN { if (r=="n/a") print "n/a"; else print (r+0 >= t ? "meets" : "below") " target >= " t "x" }'; }
RA=$(ratio "$A_LIB" "$A_RAW"); RB=$(ratio "$B_LIB" "$B_RAW"); RC=$(ratio "$C_RAW" "$C_LIB")

{
    echo "SpikeVault benchmarks - $(date -u +%Y-%m-%dT%H:%M:%SZ) - $(uname -m), $(nproc) CPUs, libspikevault at $SPIKEVAULT_LIBRARY"
    echo "Medians of $RUNS runs, library and raw alternating in one session. Ratio = library speed / raw speed (higher is better)."
    echo
    printf '%-58s %14s %14s %8s  %s\n' "benchmark" "library" "raw" "ratio" "target"
    printf '%-58s %14s %14s %8s  %s\n' "(a) C save, $SAVE_N x 4 KiB, durability normal (rec/s)" "$A_LIB" "$A_RAW" "$RA" "$(verdict "$RA" 0.9)"
    printf '%-58s %14s %14s %8s  %s\n' "(b) Python save, $SAVE_N x 4 KiB, durability normal (rec/s)" "$B_LIB" "$B_RAW" "$RB" "$(verdict "$RB" 1.0)"
    printf '%-58s %14s %14s %8s  %s\n' "(c) fetchRecent(50) on $FETCH_ROWS rows, C (us/call)" "$C_LIB" "$C_RAW" "$RC" "(raw us / library us; target >= 0.91x, i.e. library <= 1.1x raw)"
    [[ -n $B_NOTE ]] && echo "(b) $B_NOTE"
    echo "(a) and (b) ran $FS_NOTE."
    echo "raw (a): libzstd + libsqlite3 by hand; raw (b): sqlite3 module + zstandard; raw (c): the same SELECT on the same file."
} | tee "$RESULTS"
