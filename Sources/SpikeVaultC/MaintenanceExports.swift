import SpikeVault

/// Fields of a maintenance report, for sv_report_get_int (`SV_REPORT_*`). Numbers are ABI;
/// new fields are only ever appended.
@c public enum sv_report_field: Int32 {
    /// Captures purged because now - capturedAt >= SV_OPT_MAX_AGE_SECONDS.
    case purgedByAge = 1
    /// Captures evicted, oldest first, for SV_OPT_MAX_FOOTPRINT_BYTES or SV_OPT_MIN_FREE_PERCENT.
    case purgedBySize = 2
    case filesDeleted = 3
    case bytesReclaimed = 4
    /// Files in artefacts/ with no row, older than SV_OPT_ORPHAN_GRACE_SECONDS, deleted.
    case orphansDeleted = 5
    /// Rows whose file vanished, now SV_CAPTURE_MISSING.
    case markedMissing = 6
    /// Rows referencing an unsafe path, now SV_CAPTURE_QUARANTINED (never deleted through).
    case quarantined = 7
    case tempFilesSwept = 8
    case pagesVacuumed = 9
    case footprintBefore = 10
    case footprintAfter = 11
    case durationMs = 12
    /// 1 when the run stopped early because the vault was closing.
    case interrupted = 13
    // 41-42: the seed contract (#13), numbered apart so branches appending fields do not collide.
    /// 1 when the run refreshed snapshot.duckdb (SV_OPT_DUCKDB_SNAPSHOT_INTERVAL_SECONDS).
    case duckdbSnapshots = 41
    /// 1 when the run made a full VACUUM of an idle vault (SV_OPT_IDLE_VACUUM_SECONDS).
    case fullVacuums = 42
}

/// Heap box behind an `sv_report *` handle: an immutable copy of one report.
final class ReportBox: Sendable {
    let report: MaintenanceReport
    init(_ report: MaintenanceReport) { self.report = report }

    func value(_ raw: Int32) throws -> Int64 {
        guard let field = sv_report_field(rawValue: raw) else {
            throw SpikeVaultError(.invalidArgument, "unknown report field \(raw); use one of SV_REPORT_*")
        }
        let r = report
        switch field {
        case .purgedByAge: return r.purgedByAge
        case .purgedBySize: return r.purgedBySize
        case .filesDeleted: return r.filesDeleted
        case .bytesReclaimed: return r.bytesReclaimed
        case .orphansDeleted: return r.orphansDeleted
        case .markedMissing: return r.markedMissing
        case .quarantined: return r.quarantined
        case .tempFilesSwept: return r.tempFilesSwept
        case .pagesVacuumed: return r.pagesVacuumed
        case .footprintBefore: return r.footprintBefore
        case .footprintAfter: return r.footprintAfter
        case .durationMs: return r.durationMilliseconds
        case .interrupted: return r.interrupted ? 1 : 0
        case .duckdbSnapshots: return r.duckdbSnapshots
        case .fullVacuums: return r.fullVacuums
        }
    }
}

/// Runs one maintenance pass now, on the calling thread: sweeps temp files of dead writers;
/// marks rows whose file vanished as missing and rows with unsafe paths as quarantined;
/// deletes orphan files older than SV_OPT_ORPHAN_GRACE_SECONDS; purges captures past
/// SV_OPT_MAX_AGE_SECONDS; evicts oldest captures while over SV_OPT_MAX_FOOTPRINT_BYTES or
/// under SV_OPT_MIN_FREE_PERCENT; returns free pages in small incremental_vacuum steps and
/// truncates the WAL. Nothing outside artefacts/ is ever deleted. Safe while other threads
/// and processes save; one run at a time per vault (a second caller waits).
/// `out_report` may be NULL; otherwise *out_report receives a report the caller owns and frees
/// with sv_report_free. Thread-safe.
@c(sv_vault_maintain)
public func sv_vault_maintain(_ vault: OpaquePointer?, _ out_report: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        out_report?.pointee = nil
        let v = try Vault.from(vault)
        let report = try v.maintain()
        out_report?.pointee = Handles.shared.register(ReportBox(report))
    }
}

/// Measures the vault's footprint now: database + WAL + shm + every file in artefacts/, in
/// bytes of allocated blocks (st_blocks * 512), the quantity SV_OPT_MAX_FOOTPRINT_BYTES bounds.
/// One stat call per file. Thread-safe.
@c(sv_vault_footprint)
public func sv_vault_footprint(_ vault: OpaquePointer?, _ out_bytes: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try requireOut(out_bytes, "out_bytes")
        out.pointee = 0
        out.pointee = try Vault.from(vault).footprint().totalBytes
    }
}

/// Reads one field (SV_REPORT_*) of a maintenance report into *out_value. An unknown field
/// gives SV_ERR_INVALID_ARGUMENT. A report is immutable: thread-safe.
@c(sv_report_get_int)
public func sv_report_get_int(_ report: OpaquePointer?, _ field: Int32, _ out_value: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try requireOut(out_value, "out_value")
        out.pointee = try ReportBox.from(report).value(field)
    }
}

/// Releases a report. NULL is a no-op (SV_OK); freeing twice gives SV_ERR_CLOSED. Thread-safe.
@c(sv_report_free)
public func sv_report_free(_ report: OpaquePointer?) -> Int32 {
    ReportBox.freeHandle(report)
}
