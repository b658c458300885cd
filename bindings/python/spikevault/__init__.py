"""SpikeVault: keep profiling artefacts of processes that spiked (ctypes bindings).

    from datetime import datetime, timezone
    import spikevault

    with spikevault.Vault("/tmp/vault") as vault:
        rid = vault.save(process_name="worker", pid=4242, metric="cpu", value=97.5,
                         artefacts={"stack.txt": b"main;work 42\\n"})
        record = vault.get(rid)
        data = vault.read_artefact(rid)

The shared library is loaded on first use: ``$SPIKEVAULT_LIBRARY``, then a copy bundled in
this package, then the system loader.
"""

from __future__ import annotations

from ._enums import (
    Analytics, Backend, CaptureStatus, ExportFlag, FilterField, Format, Metric, MonitorCounter, Option, Order,
    OPTION_SPECS, ReportField, Status,
)
from .errors import (
    AlreadyExistsError, BusyError, CancelledError, CooldownError, ClosedError, CorruptError, DatabaseError,
    EmptyError, EncodingError, ForkedError, InternalError, InvalidArgumentError, LibraryLoadError,
    NoMemoryError, NoSpaceError, NoSuchProcessError, NotFoundError, NullArgumentError,
    PermissionDeniedError, SpikeVaultError, SpikeVaultIOError, SpikeVaultTimeoutError,
    TooLargeError, UnsafePathError, UnsupportedError,
)

# The rest is imported on first use (PEP 562): `spikevault list` then loads the vault and the
# records, not the monitor, capture or maintenance modules (issue #19: a fast command).
_LAZY = {
    "option_bounds": "_options", "CaptureFuture": "capture", "MaintenanceReport": "maintenance",
    "CaptureDone": "monitor", "Firing": "monitor", "Monitor": "monitor", "Rule": "monitor",
    "default_rules": "monitor", "ProcessRow": "processes", "ProcessTable": "processes",
    "Artefact": "records", "Record": "records", "duckdb_analytics": "review", "record_key": "review",
    "Vault": "vault",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spikevault' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


from ._version import __version__


def library_version() -> str:
    """The loaded libspikevault's version, ``"MAJOR.MINOR.PATCH"`` (loads the library)."""
    from ._library import lib

    return lib().sv_version_string().decode("ascii")


def serve(vault, **options):  # type: ignore[no-untyped-def]
    """A local review web server for ``vault`` (a ``Vault`` or a directory), already running:
    ``server.url`` (with its access token), ``server.stop()`` or ``with serve(v) as server:``.
    Options: ``host``, ``port``, ``read_only``, ``token``, ``page_size``, ``log``; see
    spikevault.web.serve and docs/serve.md. Installs no signal handler."""
    from .web import serve as _serve

    return _serve(vault, **options)


__all__ = [
    "__version__", "library_version", "option_bounds", "OPTION_SPECS", "Vault", "Record", "Artefact", "CaptureFuture", "MaintenanceReport",
    "Monitor", "Rule", "Firing", "CaptureDone", "default_rules", "MonitorCounter", "ProcessTable", "ProcessRow",
    "Status", "Metric", "CaptureStatus", "Backend", "Option", "ReportField",
    "FilterField", "Order", "Format", "ExportFlag", "Analytics", "duckdb_analytics", "record_key",
    "SpikeVaultError", "LibraryLoadError", "InvalidArgumentError", "NullArgumentError",
    "EncodingError", "SpikeVaultIOError", "NoSpaceError", "PermissionDeniedError",
    "NotFoundError", "CorruptError", "TooLargeError", "DatabaseError", "ClosedError",
    "BusyError", "UnsupportedError", "NoSuchProcessError", "UnsafePathError",
    "SpikeVaultTimeoutError", "CancelledError", "EmptyError", "NoMemoryError",
    "ForkedError", "InternalError", "AlreadyExistsError", "CooldownError",
]
__all__.append("serve")  # its own line: spikevault.serve (docs/serve.md)
