#!/usr/bin/env bash
# Runs every libFuzzer target for FUZZ_SECONDS (default 600), FUZZ_JOBS at a time (default 1),
# each from its committed seed corpus (fuzz/corpus/<target>) plus the inputs earlier runs found
# (.build-fuzz/corpus/<target>, not committed). Crashes go to .build-fuzz/crashes/<target>/
# and fail the run; logs to .build-fuzz/logs/. Usage: fuzz/run.sh [target ...]
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-1}
OUT=.build-fuzz
mkdir -p "$OUT"
fuzz/build.sh >"$OUT/build.log" 2>&1 || { grep -E "error" -A3 "$OUT/build.log"; echo "fuzz: build failed"; exit 1; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(artefact cabi filters parsers)
declare -A maxlen=([artefact]=65536 [cabi]=4096 [filters]=4096 [parsers]=16384)
# Swift's own backtracer would stop the process before libFuzzer saves the input.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}

run_one() {
    local t=$1 work="$OUT/corpus/$1" crashes="$OUT/crashes/$1" log="$OUT/logs/$1.log"
    mkdir -p "$work" "$crashes" "$OUT/logs"
    # Scratch vaults of the targets (fuzz/Common.swift), emptied before each run.
    export TMPDIR="$PWD/$OUT/tmp/$t"
    rm -rf "$TMPDIR"; mkdir -p "$TMPDIR"
    # First replay the committed corpus (seeds + regression inputs of fixed crashes) once.
    if ! "$OUT/bin/fuzz-$t" -runs=0 -artifact_prefix="$crashes/" fuzz/corpus/$t >"$log.replay" 2>&1; then
        echo "fuzz-$t: a committed corpus input fails:"; tail -40 "$log.replay"; return 1
    fi
    (cd "$crashes" && exec "../../bin/fuzz-$t" -max_total_time="$SECONDS_PER" -max_len="${maxlen[$t]}" \
        -timeout=30 -rss_limit_mb=3072 -print_final_stats=1 "../../corpus/$t" "../../../fuzz/corpus/$t") >"$log" 2>&1
    local rc=$?
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+" "$log" | tail -1)
    echo "fuzz-$t: ${SECONDS_PER}s, ${runs:-?} executions, $cov, exit $rc$( [ $rc -ne 0 ] && echo ' (CRASH: see '"$log"', input in '"$crashes"')')"
    return $rc
}

fail=0
pids=()
for t in "${targets[@]}"; do
    run_one "$t" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}" || fail=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
