import Synchronization

/// The seed design's periodic companions (docs/storage.md, "Periodic companions"), both off by
/// default and run by `maintain()` (so by the maintenance scheduler too):
/// - `duckdbSnapshotIntervalSeconds`: refresh `snapshot.duckdb` in the vault (redacted, as
///   `exportDuckDB` writes it) when it is missing or older than the interval and the `duckdb`
///   tool is present; a missing tool skips quietly, a failing one is `lastRetentionError`.
/// - `idleVacuumSeconds`: a full `VACUUM` once nothing was saved or deleted through this vault
///   for that long, and not again until something changes. (Routine space return stays the
///   incremental vacuum of every run: a full VACUUM rewrites the file and holds the lock.)
final class CompanionState: Sendable {
    private struct State { var lastChange: UInt64; var vacuumedSinceChange = false }
    private let state = Mutex(State(lastChange: Posix.monotonicNanoseconds()))

    func noteChange() { state.withLock { $0.lastChange = Posix.monotonicNanoseconds(); $0.vacuumedSinceChange = false } }

    /// For tests: the last change happened `seconds` earlier than recorded.
    func backdate(seconds: Double) { state.withLock { $0.lastChange &-= UInt64(seconds * 1e9) } }

    fileprivate func claimIdleVacuum(idleSeconds: Int64) -> Bool {
        state.withLock { s in
            let idle = Posix.monotonicNanoseconds() &- s.lastChange
            guard !s.vacuumedSinceChange, idle >= UInt64(idleSeconds) * 1_000_000_000 else { return false }
            s.vacuumedSinceChange = true
            return true
        }
    }
}

extension Vault {
    static let snapshotName = "snapshot.duckdb"

    /// Runs the companions that are due; called by `maintain` before it measures the footprint.
    func runCompanions(_ report: inout MaintenanceReport) throws {
        if options.idleVacuumSeconds > 0 && companions.claimIdleVacuum(idleSeconds: options.idleVacuumSeconds) {
            try withDatabase { db in try db.execute("VACUUM") }
            try withDatabase { db in _ = try db.checkpointTruncating() }
            report.fullVacuums += 1
        }
        if options.duckdbSnapshotIntervalSeconds > 0, (try? DuckDB.tool(nil)) != nil, snapshotDue() {
            do {
                try exportDuckDB(to: path + "/" + Self.snapshotName, options: ExportOptions(overwrite: true))
                _ = fchmodat(directoryFD, Self.snapshotName, 0o600, 0)
                report.duckdbSnapshots += 1
            } catch let e as SpikeVaultError {
                retention.lastError.withLock { $0 = e }
            }
        }
    }

    private func snapshotDue() -> Bool {
        var st = stat()
        guard fstatat(directoryFD, Self.snapshotName, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return true }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) - Int64(st.st_mtim.tv_sec) >= options.duckdbSnapshotIntervalSeconds
    }
}
