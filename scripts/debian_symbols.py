#!/usr/bin/env python3
"""Writes a dpkg-gensymbols symbols file for libspikevault0 from the ABI baseline
(scripts/libspikevault.symbols: `name version-that-added-it` per line), so the baseline stays
the one list and every package build checks the library against it (dh_makeshlibs -- -c4).
Usage: debian_symbols.py BASELINE > debian/libspikevault0.symbols
"""
import re
import sys


def main(baseline: str) -> int:
    rows = []
    for line in open(baseline, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, since = line.split()
        if not re.fullmatch(r"sv_\w+", name) or not re.fullmatch(r"\d+(\.\d+)*", since):
            sys.exit(f"debian_symbols: bad baseline line {line!r}")
        rows.append((name, since))
    out = ["libspikevault.so.0 libspikevault0 #MINVER#", "* Build-Depends-Package: libspikevault-dev"]
    # The version script gives the exports no version node: dpkg names them @Base.
    out += [f" {name}@Base {since}" for name, since in sorted(rows)]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
