/// Reconciling rows and files, both ways.
///
/// - Row without file: the capture is marked `missing` (it stays visible, like coredumpctl's
///   `missing`, and is purged by the age rule). Only rows that are `complete` or `partial`
///   change; `quarantined` is sticky.
/// - Row with an unsafe name (absolute, `..`, a symlink, a directory…): `quarantined`.
/// - File without row: deleted when older than the orphan grace period (a save in another
///   process publishes its file before it commits its row, so a young orphan may be in flight).
///   Temp files are left to `sweepTemps`, which knows whether their writer still runs.
extension Vault {
    struct RowCheck { var missing: Int64 = 0; var quarantined: Int64 = 0 }

    /// Checks the files of the newest `limit` captures (all when nil) and marks rows.
    func reconcileRows(newest limit: Int64? = nil) throws -> RowCheck {
        let rows = try withDatabase { db in try RetentionStore.allCaptures(db, newest: limit ?? .max) }
        var toMark: [(Int64, CaptureStatus)] = []
        for row in rows where row.status == CaptureStatus.complete.rawValue || row.status == CaptureStatus.partial.rawValue {
            var verdicts = row.files.map { artefacts.verdict($0) }
            if verdicts.contains(where: { if case .unsafe = $0 { return true }; return false }) {
                toMark.append((row.id, .quarantined))
            } else if verdicts.contains(.absent) {
                verdicts.removeAll()
                toMark.append((row.id, .missing))
            }
        }
        guard !toMark.isEmpty else { return RowCheck() }
        return try withDatabase { db in
            try db.writeTransaction {
                var check = RowCheck()
                for (id, status) in toMark {
                    // Re-check under the write lock: a purge in another process may have
                    // deleted the row and then its file since the scan.
                    guard try RetentionStore.mark(db, id: id, status, onlyFrom: [.complete, .partial]) else { continue }
                    if status == .missing { check.missing += 1 } else { check.quarantined += 1 }
                }
                return check
            }
        }
    }

    /// Deletes files in artefacts/ that no row references and whose mtime is at least
    /// `graceSeconds` old. Returns (files, bytes).
    func removeOrphans(graceSeconds: Int64, now: Timestamp) throws -> (count: Int64, bytes: Int64) {
        // Under the exclusive save lock no save is between publishing and committing, so a
        // file no row references is a true orphan; the grace is only a courtesy to hosts that
        // drop files into artefacts/ by hand.
        let lock = try SaveLock.acquire(directory: directoryFD, exclusive: true)
        defer { Posix.close(lock) }
        let names = try artefacts.entryNames().filter { !$0.hasPrefix(ArtefactDirectory.tempPrefix) }
        guard !names.isEmpty else { return (0, 0) }
        let referenced = try withDatabase { db in try RetentionStore.referencedNames(db) }
        var count: Int64 = 0, bytes: Int64 = 0
        let nowSeconds = now.milliseconds.floorDiv(1000)
        for name in names where !referenced.contains(name) {
            var st = stat()
            guard fstatat(artefacts.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            guard nowSeconds - Int64(st.st_mtim.tv_sec) >= graceSeconds else { continue }
            if case .removed(let b) = artefacts.remove(name) {
                count += 1
                bytes += b
            }
        }
        retention.noteUntrackedRemoved(bytes: bytes)
        return (count, bytes)
    }
}
