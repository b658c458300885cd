"""The package version, read from the VERSION file (the only file that spells it): a built
package carries a copy beside this module (setup.py puts it there); a source checkout reads
the repository's own."""

import os


def _read() -> str:
    here = os.path.dirname(os.path.realpath(__file__))  # os.path, not pathlib: a fast import
    for candidate in (os.path.join(here, "VERSION"), os.path.join(here, "..", "..", "..", "VERSION")):
        try:
            with open(os.path.normpath(candidate), encoding="ascii") as f:
                return f.read().strip()
        except OSError:
            continue
    return "0+unknown"


__version__ = _read()
