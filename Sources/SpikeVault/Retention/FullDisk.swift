/// Deleting on a full disk (docs/retention.md, "Full disk"). Recording a delete needs a few
/// WAL pages, which a full filesystem may not have; the files of the captures being deleted
/// are the space to take them from. No reserve file is kept: it would cost space on every
/// vault and no fixed size covers a delete of unknown size, where the doomed files do.
extension Vault {
    /// Runs the deleting transaction `body` under the vault lock. On `.noSpace`, unlinks the
    /// files `plan` names (a read, which needs no space: the files of exactly the captures
    /// `body` deletes), checkpoints and truncates the WAL if it can, and runs `body` once more.
    /// If that fails too the rows stay, without their files, and maintenance marks them
    /// `missing`: the caller asked for them to go, so no kept capture loses anything.
    /// Files unlinked early are counted in `early` (and in the footprint tally).
    func deleteFreeingSpace<T: Sendable>(into early: inout PurgeOutcome, plan: (Database) throws -> [String],
                                         _ body: (Database) throws -> T) throws -> T {
        do {
            return try withDatabase(body)
        } catch let e as SpikeVaultError where e.status == .noSpace {
            removeFiles(try withDatabase(plan), into: &early)
            _ = try? withDatabase { db in try db.checkpointTruncating() }
            return try withDatabase(body)
        }
    }

    /// The files a purge of `batch` would unlink (captures with an unsafe name are quarantined
    /// instead, so theirs are left), stopping once `want` bytes are covered, as the purge does.
    func plannedFiles(_ batch: [RetentionStore.Candidate], want: Int64? = nil) -> [String] {
        var files: [String] = []
        var expected: Int64 = 0
        for c in batch {
            if let want, expected >= want { break }
            var bytes: Int64 = 0
            var safe = true
            for name in c.files {
                switch artefacts.verdict(name) {
                case .regular(let b): bytes += b
                case .absent: break
                case .unsafe: safe = false
                }
            }
            guard safe else { continue }
            files += c.files
            expected += max(bytes, 1)
        }
        return files
    }

    /// After deletes: checkpoint and truncate the WAL so its blocks go back to the filesystem,
    /// when it holds `RetentionState.walGiveBackBytes` or more, or always when `force` (a
    /// delete had to unlink files first: the disk is full). Failures are recorded, not thrown:
    /// the delete itself has committed.
    func giveBackWAL(force: Bool) {
        let wal = FootprintMeter.allocatedBytes(directoryFD, FootprintMeter.databaseFiles[1])
        guard force || wal >= RetentionState.walGiveBackBytes else { return }
        do { _ = try withDatabase { db in try db.checkpointTruncating() } } catch { retention.fail(error) }
    }
}
