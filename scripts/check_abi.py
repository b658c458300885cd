#!/usr/bin/env python3
"""ABI baseline check: the library's exported symbols against scripts/libspikevault.symbols.

Fails when a listed symbol is gone (a removal breaks every program linked against it), when
an exported symbol is not listed (additions must be recorded with the version that adds
them), or when a symbol is listed with a version newer than the library's MAJOR.MINOR.
Usage: check_abi.py LIBRARY SYMBOLS_FILE VERSION_FILE (the repository's VERSION: MAJOR.MINOR.PATCH)
"""
import re
import subprocess
import sys


def main(library: str, symbols_file: str, version_file: str) -> int:
    text = open(version_file, encoding="utf-8").read()
    major, minor = (int(x) for x in re.fullmatch(r"(\d+)\.(\d+)\.\d+", text.strip()).groups())
    listed = {}
    for line in open(symbols_file, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            name, since = line.split()
            listed[name] = tuple(int(x) for x in since.split("."))
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True).stdout
    exported = {fields[2] for fields in (l.split() for l in out.splitlines()) if len(fields) == 3}
    problems = [f"removed from the library (an ABI break): {n}" for n in sorted(set(listed) - exported)]
    problems += [f"exported but not in {symbols_file}: {n} (add it with version {major}.{minor}, "
                 f"raising MINOR if {major}.{minor} was released)" for n in sorted(exported - set(listed))]
    problems += [f"{n} is listed as added in {'.'.join(map(str, v))}, newer than the library's {major}.{minor}"
                 for n, v in sorted(listed.items()) if v > (major, minor)]
    for p in problems:
        print(f"abi: {p}")
    if problems:
        return 1
    print(f"abi: the {len(exported)} exported symbols match the baseline ({major}.{minor})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
