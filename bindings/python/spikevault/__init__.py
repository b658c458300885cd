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
from ._options import option_bounds
from .errors import (
    AlreadyExistsError, BusyError, CancelledError, CooldownError, ClosedError, CorruptError, DatabaseError,
    EmptyError, EncodingError, ForkedError, InternalError, InvalidArgumentError, LibraryLoadError,
    NoMemoryError, NoSpaceError, NoSuchProcessError, NotFoundError, NullArgumentError,
    PermissionDeniedError, SpikeVaultError, SpikeVaultIOError, SpikeVaultTimeoutError,
    TooLargeError, UnsafePathError, UnsupportedError,
)
from .capture import CaptureFuture
from .maintenance import MaintenanceReport
from .monitor import CaptureDone, Firing, Monitor, Rule, default_rules
from .processes import ProcessRow, ProcessTable
from .records import Artefact, Record
from .review import duckdb_analytics, record_key
from .vault import Vault

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
