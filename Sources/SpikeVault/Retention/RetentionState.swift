import Synchronization

/// Per-vault retention state: the policy, the footprint tally that keeps enforcement after a
/// save cheap, cumulative totals, the scheduler and the stop flag that makes close() prompt.
///
/// Enforcement after a save costs O(1) work whatever the vault's size: the bytes the artefact
/// files of all rows allocate are a running total in the database (`vault_footprint`, kept by
/// triggers in each insert's and delete's own transaction, so other processes' saves count
/// too; the save reads it in its transaction). What no row accounts for (temp files, orphans,
/// files whose size was estimated) is `untrackedBytes`, set by maintenance's full measurement
/// (one `fstatat` per file; the only full scan) and lowered as orphans are removed. The
/// database files are stat'ed each time (3 calls) and free space is one `fstatvfs`.
final class RetentionState: Sendable {
    struct Tally {
        /// Measured artefacts/ minus the rows' running total, at the last full measurement
        /// (0 until maintenance first measures).
        var untrackedBytes: Int64 = 0
        var measured = false
    }

    /// A WAL this big is checkpointed and truncated before evicting and after big deletes.
    static let walGiveBackBytes: Int64 = 256 << 10

    let policy: RetentionPolicy
    let stopping = Atomic<Bool>(false)
    /// Held for the whole of a size enforcement (after a save or in maintenance): evictions
    /// never race each other within a process. Lock order: this, then the database lock.
    let tally = Mutex<Tally>(Tally())
    /// Untracked bytes this process removed (orphans) since the last full measurement.
    let delta = Atomic<Int64>(0)
    /// One maintenance run at a time per vault.
    let runLock = Mutex<Void>(())
    let totals = Mutex<MaintenanceReport>(MaintenanceReport())
    let scheduler = Mutex<MaintenanceScheduler?>(nil)
    /// Detail of the last failure of background work (enforcement after save, scheduled runs).
    let lastError = Mutex<SpikeVaultError?>(nil)
    /// Rows found without their files when the vault opened (marked `missing`).
    let recoveredAtOpen = Atomic<Int>(0)

    init(_ options: VaultOptions) { policy = RetentionPolicy(options) }

    /// Files no row referenced (orphans) were removed.
    func noteUntrackedRemoved(bytes: Int64) {
        delta.subtract(bytes, ordering: .relaxed)
    }

    func record(_ report: MaintenanceReport) {
        totals.withLock { t in
            t.purgedByAge += report.purgedByAge
            t.purgedBySize += report.purgedBySize
            t.filesDeleted += report.filesDeleted
            t.bytesReclaimed += report.bytesReclaimed
            t.orphansDeleted += report.orphansDeleted
            t.markedMissing += report.markedMissing
            t.quarantined += report.quarantined
            t.tempFilesSwept += report.tempFilesSwept
            t.pagesVacuumed += report.pagesVacuumed
        }
    }

    func fail(_ error: Error) {
        let e = (error as? SpikeVaultError) ?? SpikeVaultError(.internalError, "\(error)")
        lastError.withLock { $0 = e }
    }
}
