"""The package version, read from the VERSION file (the only file that spells it): a built
package carries a copy beside this module (setup.py puts it there); a source checkout reads
the repository's own."""

from pathlib import Path


def _read() -> str:
    here = Path(__file__).resolve().parent
    for candidate in (here / "VERSION", here.parent.parent.parent / "VERSION"):
        try:
            return candidate.read_text(encoding="ascii").strip()
        except OSError:
            continue
    return "0+unknown"


__version__ = _read()
