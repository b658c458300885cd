#!/usr/bin/env bash
# Installs the packages of `make deb` into this machine with dpkg -i, builds the C example
# against the installed files with pkg-config and with CMake and runs both, runs the Python
# package and the spikevault command with no environment variable set, then removes the
# packages with dpkg -r and checks that none of their files is left. The machine's dpkg state
# is restored on every exit path (trap). Needs root (dpkg); skips with the reason otherwise.
#   test_deb.sh DEBDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
debdir=$(cd "$1" && pwd)
version=$(cat "$root/VERSION")
packages=(libspikevault0 libspikevault-dev python3-spikevault)
debs=("$debdir/libspikevault0_${version}-1_amd64.deb" "$debdir/libspikevault-dev_${version}-1_amd64.deb"
      "$debdir/python3-spikevault_${version}-1_all.deb")

# The symbols check of the build (dh_makeshlibs -- -c4) refuses a library that exports a
# symbol the baseline lacks: rerun dpkg-gensymbols on the built package tree with one baseline
# line removed (no root needed).
src="$debdir/spikevault-$version"
if [ -d "$src/debian/libspikevault0" ]; then
    symbols=$(mktemp)
    grep -v '^sv_vault_open ' "$root/scripts/libspikevault.symbols" | python3 "$root/scripts/debian_symbols.py" /dev/stdin > "$symbols"
    if dpkg-gensymbols -plibspikevault0 -P"$src/debian/libspikevault0" -v"$version-1" -I"$symbols" -c4 -O/dev/null >/dev/null 2>&1; then
        rm -f "$symbols"; echo "test-deb: the symbols check accepted a symbol missing from the baseline" >&2; exit 1
    fi
    rm -f "$symbols"
    echo "test-deb: the symbols check refuses an export the baseline does not list"
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "test-deb: SKIP: dpkg -i needs root (this runs as uid $(id -u))"; exit 0
fi
# One run at a time on this machine (two would install and remove the same packages). The lock
# is taken on the dpkg binary, a file every run can open, so no lock file is left behind.
exec 9</usr/bin/dpkg
flock -n 9 || { echo "test-deb: another test-deb is running on this machine" >&2; exit 1; }

for p in "${packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
        echo "test-deb: $p is already installed on this machine: not touching it" >&2; exit 1
    fi
done
for f in /usr/local/lib/libspikevault.so.0 /usr/local/lib/pkgconfig/spikevault.pc; do
    [ ! -e "$f" ] || { echo "test-deb: $f exists and would shadow the package: stopping" >&2; exit 1; }
done

work=$(mktemp -d /tmp/spikevault-test-deb.XXXXXX)
installed=0
cleanup() {
    trap '' INT TERM HUP  # a second signal must not cut the cleanup short
    if [ "$installed" = 1 ]; then dpkg -P "${packages[@]}" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
# A signal ends the script through exit, so the EXIT trap removes the packages.
trap 'exit 130' INT TERM HUP

for d in "${debs[@]}"; do dpkg-deb -c "$d"; done | awk '{print $6}' | sed 's|^\.||' | grep -v '/$' | sort -u > "$work/files.txt"
installed=1
dpkg -i "${debs[@]}"

# A clean environment: no PKG_CONFIG_PATH, SPIKEVAULT_LIBRARY, LD_LIBRARY_PATH or pyenv python.
clean_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LANG=C.UTF-8)

echo "test-deb: C example through pkg-config ($("${clean_env[@]}" pkg-config --modversion spikevault))"
cd "$work"
"${clean_env[@]}" sh -c "cc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -o example-pc '$root/bindings/c/example.c' \$(pkg-config --cflags --libs spikevault)"
# grep reads a variable, not a pipe: grep -q quitting early would SIGPIPE ldd and fail the
# pipeline under pipefail.
linked=$(ldd ./example-pc)
grep -Eq "libspikevault.so.0 => (/usr)?/lib/x86_64-linux-gnu/libspikevault.so.0 " <<<"$linked" \
    || { echo "$linked"; echo "test-deb: example-pc does not use the packaged library" >&2; exit 1; }
"${clean_env[@]}" ./example-pc "$work/vault-pc"

echo "test-deb: C example through CMake find_package(SpikeVault $version)"
"${clean_env[@]}" cmake -S "$root/bindings/c/cmake-example" -B "$work/cmake" -DSPIKEVAULT_MIN_VERSION="$version" >/dev/null
"${clean_env[@]}" cmake --build "$work/cmake" >/dev/null
grep -q "SpikeVault_DIR:PATH=/usr/lib/x86_64-linux-gnu/cmake/SpikeVault" "$work/cmake/CMakeCache.txt" \
    || { echo "test-deb: CMake did not find the packaged config" >&2; exit 1; }
"${clean_env[@]}" "$work/cmake/example" "$work/vault-cmake"

echo "test-deb: Python package and the spikevault command"
"${clean_env[@]}" /usr/bin/python3 -c 'import spikevault; print(spikevault.__version__)' | grep -qx "$version"
"${clean_env[@]}" /usr/bin/python3 "$root/scripts/packaging/smoke.py" "$work/vault-py" libspikevault.so.0
"${clean_env[@]}" spikevault --version | tee "$work/version.txt"
grep -q "$version" "$work/version.txt"
"${clean_env[@]}" spikevault --vault "$work/vault-py" list >/dev/null

echo "test-deb: the man page and the shell completions of python3-spikevault"
man_page=/usr/share/man/man1/spikevault.1.gz
# man finds it from PATH alone (man-db maps /usr/bin to /usr/share/man), and it renders.
found=$("${clean_env[@]}" man -w spikevault)
[ "$found" = "$man_page" ] || { echo "test-deb: man -w spikevault gave '$found', not $man_page" >&2; exit 1; }
for how in "-l $man_page" "spikevault"; do
    # shellcheck disable=SC2086  # $how is the option and the page, split on purpose
    # Wide and squeezed: at 80 columns man wraps and justifies the NAME line.
    "${clean_env[@]}" MANWIDTH=200 man -P cat $how 2>/dev/null | tr -s ' ' > "$work/man.txt"
    grep -q "spikevault - review, export and capture profiles of processes that spiked" "$work/man.txt" \
        || { echo "test-deb: man $how did not render the page" >&2; exit 1; }
done
bash_completion=/usr/share/bash-completion/completions/spikevault
zsh_completion=/usr/share/zsh/vendor-completions/_spikevault
[ -f "$bash_completion" ] || { echo "test-deb: no $bash_completion" >&2; exit 1; }
[ -f "$zsh_completion" ] || { echo "test-deb: no $zsh_completion" >&2; exit 1; }
[ "$(head -n 1 "$zsh_completion")" = "#compdef spikevault" ] \
    || { echo "test-deb: $zsh_completion has no #compdef line: compinit would not load it" >&2; exit 1; }
# The bash completion, loaded as bash-completion loads it, completes a verb.
words=$("${clean_env[@]}" bash -c '. "$1"; COMP_WORDS=(spikevault exp); COMP_CWORD=1; _spikevault; echo "${COMPREPLY[*]}"' _ "$bash_completion")
[ "$words" = "export" ] || { echo "test-deb: the bash completion gave '$words' for 'spikevault exp'" >&2; exit 1; }

echo "test-deb: dpkg -r"
dpkg -r "${packages[@]}"
installed=0
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in ""|*not-installed) ;; *) echo "test-deb: $p is still '$status'" >&2; exit 1 ;; esac
done
left=0
while IFS= read -r f; do
    if [ -e "$f" ] || [ -L "$f" ]; then echo "test-deb: left behind: $f" >&2; left=1; fi
done < "$work/files.txt"
[ -d /usr/lib/x86_64-linux-gnu/cmake/SpikeVault ] && { echo "test-deb: left behind: the CMake directory" >&2; left=1; }
[ -d /usr/lib/python3/dist-packages/spikevault ] && { echo "test-deb: left behind: the Python package" >&2; left=1; }
ldconfig -p | grep -q libspikevault && { echo "test-deb: libspikevault still in the loader cache" >&2; left=1; }
[ "$left" = 0 ]
echo "test-deb: installed, built against, ran and removed $(wc -l < "$work/files.txt") files cleanly"
