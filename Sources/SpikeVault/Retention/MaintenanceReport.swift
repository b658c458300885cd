/// What a maintenance run (or, cumulated, the enforcement after saves) did.
public struct MaintenanceReport: Sendable, Equatable {
    /// Captures purged because `now - capturedAt >= maxAge`.
    public var purgedByAge: Int64 = 0
    /// Captures evicted, oldest first, to get under the footprint budget or the free-space floor.
    public var purgedBySize: Int64 = 0
    /// Artefact files deleted along with purged captures.
    public var filesDeleted: Int64 = 0
    /// Allocated bytes of every file deleted (purged captures, orphans, temp files).
    public var bytesReclaimed: Int64 = 0
    /// Files in artefacts/ that no row referenced, older than the grace period, deleted.
    public var orphansDeleted: Int64 = 0
    /// Rows whose artefact file had vanished, now `missing`.
    public var markedMissing: Int64 = 0
    /// Rows referencing a path that is not a regular file inside artefacts/, now `quarantined`.
    public var quarantined: Int64 = 0
    /// Leftover temp files of dead writers removed.
    public var tempFilesSwept: Int64 = 0
    /// Database pages given back to the filesystem by `incremental_vacuum`.
    public var pagesVacuumed: Int64 = 0
    /// Footprint (database + artefacts, allocated bytes) measured before and after the run.
    public var footprintBefore: Int64 = 0
    public var footprintAfter: Int64 = 0
    /// Wall time of the run in milliseconds.
    public var durationMilliseconds: Int64 = 0
    /// The run stopped early because the vault is closing.
    public var interrupted: Bool = false
    /// DuckDB snapshots refreshed (`duckdbSnapshotIntervalSeconds`, Store/Companions.swift).
    public var duckdbSnapshots: Int64 = 0
    /// Full VACUUMs run because the vault was idle (`idleVacuumSeconds`).
    public var fullVacuums: Int64 = 0

    public init() {}

    mutating func add(_ o: PurgeOutcome, bySize: Bool) {
        if bySize { purgedBySize += o.purged } else { purgedByAge += o.purged }
        filesDeleted += o.filesDeleted
        bytesReclaimed += o.bytesReclaimed
        quarantined += o.quarantined
    }
}

/// The result of one purge pass.
struct PurgeOutcome {
    var purged: Int64 = 0
    var quarantined: Int64 = 0
    var filesDeleted: Int64 = 0
    var bytesReclaimed: Int64 = 0
}

extension PurgeOutcome {
    /// Adds a batch's outcome and the files unlinked early for it (`early` minus `before`).
    mutating func add(_ batch: PurgeOutcome, early: PurgeOutcome, since before: PurgeOutcome) {
        purged += batch.purged
        quarantined += batch.quarantined
        filesDeleted += early.filesDeleted - before.filesDeleted
        bytesReclaimed += early.bytesReclaimed - before.bytesReclaimed
    }
}
