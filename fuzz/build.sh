#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/targets/*.swift) into .build-fuzz/bin/fuzz-<name>.
# The core (SpikeVault) and the export layer (SpikeVaultC) are compiled straight from
# Sources/ with swiftc as static libraries with -sanitize=fuzzer,address (coverage + ASan),
# -enable-testing so a target can reach internal parsers; each target links against them.
# Rebuilds only what changed (by timestamp).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build-fuzz
mkdir -p "$OUT/bin"
VER="$OUT/CSpikeVaultVersion"
FLAGS=(-parse-as-library -O -wmo -enable-testing -sanitize=fuzzer,address -I "$OUT" -I Sources/CSQLite -I Sources/CZstd -I "$VER")

newer() { # newer TARGET FILES...: true when TARGET is missing or older than one of FILES
    local t=$1; shift
    [ -e "$t" ] || return 0
    for f in "$@"; do [ "$f" -nt "$t" ] && return 0; done
    return 1
}

# The C target that embeds VERSION (SwiftPM makes its module map; here we write one).
if newer "$OUT/libCSpikeVaultVersion.a" Sources/CSpikeVaultVersion/version.c VERSION \
        Sources/CSpikeVaultVersion/include/spikevault_build_version.h fuzz/build.sh; then
    mkdir -p "$VER"
    printf 'module CSpikeVaultVersion {\n    header "%s"\n    export *\n}\n' \
        "$PWD/Sources/CSpikeVaultVersion/include/spikevault_build_version.h" > "$VER/module.modulemap"
    clang -c -O1 -fsanitize=fuzzer-no-link,address -I Sources/CSpikeVaultVersion/include \
        Sources/CSpikeVaultVersion/version.c -o "$VER/version.o"
    ar rcs "$OUT/libCSpikeVaultVersion.a" "$VER/version.o"
fi

mapfile -t core < <(find Sources/SpikeVault -name '*.swift' | sort)
if newer "$OUT/libSpikeVault.a" "${core[@]}" fuzz/build.sh; then
    echo "fuzz: building the instrumented core (about a minute)"
    swiftc -module-name SpikeVault -emit-module -emit-library -static "${FLAGS[@]}" "${core[@]}" \
        -emit-module-path "$OUT/SpikeVault.swiftmodule" -o "$OUT/libSpikeVault.a"
fi
mapfile -t cabi < <(find Sources/SpikeVaultC -name '*.swift' | sort)
if newer "$OUT/libSpikeVaultC.a" "${cabi[@]}" "$OUT/libSpikeVault.a" "$OUT/libCSpikeVaultVersion.a"; then
    swiftc -module-name SpikeVaultC -emit-module -emit-library -static "${FLAGS[@]}" "${cabi[@]}" \
        -emit-module-path "$OUT/SpikeVaultC.swiftmodule" -o "$OUT/libSpikeVaultC.a"
fi
for src in fuzz/targets/*.swift; do
    name=$(basename "$src" .swift)
    bin="$OUT/bin/fuzz-$name"
    if newer "$bin" "$src" fuzz/Common.swift "$OUT/libSpikeVaultC.a"; then
        echo "fuzz: linking $bin"
        swiftc -module-name "fuzz_$name" "${FLAGS[@]}" "$src" fuzz/Common.swift \
            -use-ld=lld -L "$OUT" -lSpikeVaultC -lSpikeVault -lCSpikeVaultVersion -lsqlite3 -lzstd -o "$bin"
    fi
done
