"""``MaintenanceReport``: what one retention pass did, read from an ``sv_report`` handle."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, fields

from ._enums import ReportField
from ._library import api, lib


__all__ = ["MaintenanceReport"]


@dataclass(frozen=True)
class MaintenanceReport:
    """Counts of one ``Vault.maintain()`` pass (footprints in bytes of allocated blocks)."""

    purged_by_age: int
    purged_by_size: int
    files_deleted: int
    bytes_reclaimed: int
    orphans_deleted: int
    marked_missing: int
    quarantined: int
    temp_files_swept: int
    pages_vacuumed: int
    footprint_before: int
    footprint_after: int
    duration_ms: int
    interrupted: bool
    duckdb_snapshots: int = 0
    full_vacuums: int = 0

    @classmethod
    def from_handle(cls, report: int) -> "MaintenanceReport":
        """Reads every field (named like ``ReportField`` members, lower-cased) from the handle."""
        library = lib()
        values = {}
        out = ctypes.c_int64()
        for f in fields(cls):
            api().sv_report_get_int(report, int(ReportField[f.name.upper()]), ctypes.byref(out))
            values[f.name] = bool(out.value) if f.name == "interrupted" else out.value
        return cls(**values)
