import Synchronization

/// Per-vault retention state: the policy, the footprint tally that keeps enforcement after a
/// save cheap, cumulative totals, the scheduler and the stop flag that makes close() prompt.
///
/// Enforcement after a save costs O(1) system calls: the artefact bytes are a running tally
/// (exact for this process's own saves and deletions, from `st_blocks`), re-measured in full
/// (one `fstatat` per file) every 10 s, and every 256 saves once the estimate nears the budget,
/// so that other processes' writes are seen;
/// the database files are stat'ed each time (3 calls) and free space is one `fstatvfs`.
final class RetentionState: Sendable {
    struct Tally {
        /// Allocated bytes in artefacts/ at the last full measurement (nil: measure first).
        /// The current estimate is this plus `delta`.
        var measuredArtefactBytes: Int64?
        var measuredAtNanoseconds: UInt64 = 0
        var savesSinceMeasure = 0
    }

    static let remeasureEverySaves = 256
    static let remeasureEveryNanoseconds: UInt64 = 10_000_000_000
    /// A WAL this big is checkpointed and truncated before evicting and after big deletes.
    static let walGiveBackBytes: Int64 = 256 << 10

    let policy: RetentionPolicy
    let stopping = Atomic<Bool>(false)
    /// Held for the whole of a size enforcement (after a save or in maintenance): evictions
    /// never race each other within a process. Lock order: this, then the database lock.
    let tally = Mutex<Tally>(Tally())
    /// Bytes this process added to (saves) or removed from (purges) artefacts/ since the last
    /// full measurement.
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

    func noteRemoved(bytes: Int64) {
        delta.subtract(bytes, ordering: .relaxed)
    }

    func noteAdded(bytes: Int64) {
        delta.add(bytes, ordering: .relaxed)
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
