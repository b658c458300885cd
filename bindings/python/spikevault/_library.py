"""Locate and load libspikevault once, lazily, and check its version.

Lookup order:

1. the ``SPIKEVAULT_LIBRARY`` environment variable (a file path). When it is set it is the
   only place tried: an explicit choice that fails is reported rather than silently replaced
   by another copy of the library;
2. a copy bundled inside this package (``libspikevault.so*``, as a wheel would ship it);
3. the system loader (``ctypes.util.find_library("spikevault")``, then ``libspikevault.so.0``).
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import List, Optional, Tuple

from . import _functions
from ._enums import Status
from .errors import LibraryLoadError

__all__ = ["ENV_VAR", "SUPPORTED_MAJOR", "lib", "api", "library_path", "find_candidates"]

ENV_VAR = "SPIKEVAULT_LIBRARY"
SUPPORTED_MAJOR = 0
_SYSTEM_NAME = "libspikevault.so.0"

_lock = threading.Lock()
_loaded: Optional[ctypes.CDLL] = None
_loaded_path: Optional[str] = None
_checked: Optional[ctypes.CDLL] = None


def _bundled() -> List[str]:
    """Files named libspikevault.so* inside the package directory, best first."""
    try:
        from importlib.resources import files

        root = files(__package__ or "spikevault")
        names = [entry.name for entry in root.iterdir() if entry.name.startswith("libspikevault.so")]
        # Prefer the soname copy, then the unversioned one, then any full version.
        order = {_SYSTEM_NAME: 0, "libspikevault.so": 1}
        return [str(root / name) for name in sorted(names, key=lambda n: (order.get(n, 2), n))]
    except (ImportError, OSError, TypeError, AttributeError):
        return []


def _try_load(path: str) -> Tuple[Optional[ctypes.CDLL], str]:
    try:
        return ctypes.CDLL(path), ""
    except OSError as exc:
        return None, str(exc)


def find_candidates() -> Tuple[Optional[ctypes.CDLL], Optional[str], List[str]]:
    """Try the three places in order; return (library, path, notes on what was tried)."""
    tried: List[str] = []
    env = os.environ.get(ENV_VAR)
    if env:
        if not os.path.exists(env):
            tried.append(f"1. ${ENV_VAR}={env!r}: no such file")
        else:
            library, error = _try_load(env)
            if library is not None:
                return library, env, tried
            tried.append(f"1. ${ENV_VAR}={env!r}: cannot be loaded ({error})")
        tried.append(f"2. a copy bundled in the package: not tried, ${ENV_VAR} takes precedence")
        tried.append(f"3. the system loader: not tried, ${ENV_VAR} takes precedence")
        return None, None, tried
    tried.append(f"1. ${ENV_VAR}: not set")

    bundled = _bundled()
    if not bundled:
        here = os.path.dirname(os.path.abspath(__file__))
        tried.append(f"2. a copy bundled in the package: no libspikevault.so* in {here}")
    for path in bundled:
        library, error = _try_load(path)
        if library is not None:
            return library, path, tried
        tried.append(f"2. bundled copy {path}: cannot be loaded ({error})")

    import ctypes.util  # runs ldconfig through subprocess: only when nothing else was found

    names = [n for n in (ctypes.util.find_library("spikevault"), _SYSTEM_NAME) if n]
    for name in dict.fromkeys(names):
        library, error = _try_load(name)
        if library is not None:
            return library, name, tried
        tried.append(f"3. system loader {name!r}: {error}")
    return None, None, tried


def _probe(library: ctypes.CDLL, path: str) -> None:
    """Check the runtime version, then declare the whole function table."""
    try:
        version_number = library.sv_version_number
    except AttributeError:
        raise LibraryLoadError(f"{path} is not libspikevault (no sv_version_number)", Status.ERR_UNSUPPORTED) from None
    version_number.argtypes = []
    version_number.restype = ctypes.c_int
    number = int(version_number())
    major = number // 10000
    if major != SUPPORTED_MAJOR:
        raise LibraryLoadError(
            f"{path} is libspikevault {major}.{number // 100 % 100}.{number % 100}; this binding "
            f"supports major version {SUPPORTED_MAJOR} only",
            Status.ERR_UNSUPPORTED,
        )
    missing = _functions.apply(library)
    if missing:
        raise LibraryLoadError(f"{path} lacks functions this binding needs: {', '.join(missing)}", Status.ERR_UNSUPPORTED)


def lib() -> ctypes.CDLL:
    """The loaded, version-checked library with the raw table: ``sv_status`` comes back as an int
    (loaded on first call; thread-safe)."""
    global _loaded, _loaded_path, _checked
    library = _loaded
    if library is not None:
        return library
    with _lock:
        if _loaded is None:
            library, path, tried = find_candidates()
            if library is None or path is None:
                raise LibraryLoadError(
                    "libspikevault was not found. Tried, in order:\n  " + "\n  ".join(tried)
                    + f"\nSet {ENV_VAR} to the path of libspikevault.so, or install the library.",
                    Status.ERR_NOT_FOUND,
                )
            _probe(library, path)
            # The same library again (dlopen returns the same handle) for function objects of
            # their own, which carry the table's errcheck: a call through api() raises on an error.
            checked = ctypes.CDLL(path)
            _functions.apply(checked, checked=True)
            _loaded, _loaded_path, _checked = library, path, checked
        return _loaded


def api() -> ctypes.CDLL:
    """The library with the checked table: every ``sv_status`` function raises its
    ``SpikeVaultError`` subclass (with ``sv_errmsg()``) on a negative status and returns the
    status otherwise. Package code calls the C API through this; ``lib()`` is the raw form."""
    checked = _checked
    if checked is None:
        lib()
        checked = _checked
    assert checked is not None
    return checked


def library_path() -> str:
    """The path or name the library was loaded from (loads it if needed)."""
    lib()
    assert _loaded_path is not None
    return _loaded_path
