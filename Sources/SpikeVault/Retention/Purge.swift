/// Purging captures: rows first (one short write transaction per batch, so savers in other
/// threads and processes interleave), then their files through the artefacts directory fd.
/// A capture whose file name is unsafe is quarantined instead of deleted. A crash between
/// the commit and the unlinks leaves orphan files, which maintenance removes.
extension Vault {
    static let purgeBatch = 1000

    /// Purges every capture with `capturedAt <= cutoff` (quarantined ones excepted).
    func purgeByAge(cutoff: Timestamp) throws -> PurgeOutcome {
        var total = PurgeOutcome()
        var early = PurgeOutcome()  // files unlinked before their rows: the disk was full
        defer { if early.filesDeleted > 0 { giveBackWAL(force: true) } }
        while !retention.stopping.load(ordering: .relaxed) {
            let before = early
            let plan = { (db: Database) in
                self.plannedFiles(try RetentionStore.oldest(db, cutoff: cutoff, limit: Self.purgeBatch))
            }
            let (outcome, files, more) = try deleteFreeingSpace(into: &early, plan: plan) { db in
                try db.writeTransaction { () throws -> (PurgeOutcome, [String], Bool) in
                    let batch = try RetentionStore.oldest(db, cutoff: cutoff, limit: Self.purgeBatch)
                    var o = PurgeOutcome()
                    var files: [String] = []
                    for c in batch { try purgeOne(db, c, into: &o, files: &files) }
                    return (o, files, batch.count == Self.purgeBatch)
                }
            }
            total.add(outcome, early: early, since: before)
            removeFiles(files, into: &total)
            if outcome.purged > 0 || outcome.quarantined > 0 { changes.post(.removed(count: Int(outcome.purged))) }
            if !more { break }
        }
        return total
    }

    /// Evicts whole captures, oldest first, until at least `bytes` of files are freed (or only
    /// the newest capture remains). Returns what went.
    func purgeBySize(bytes: Int64) throws -> PurgeOutcome {
        var total = PurgeOutcome()
        var early = PurgeOutcome()  // files unlinked before their rows: the disk was full
        defer { if early.filesDeleted > 0 { giveBackWAL(force: true) } }
        var freed: Int64 = 0
        while freed < bytes && !retention.stopping.load(ordering: .relaxed) {
            let want = bytes - freed
            let before = early
            let plan = { (db: Database) in
                self.plannedFiles(try RetentionStore.oldest(db, excludingID: try RetentionStore.newestID(db), limit: 64), want: want)
            }
            let (outcome, files, more, expected) = try deleteFreeingSpace(into: &early, plan: plan) { db in
                try db.writeTransaction { () throws -> (PurgeOutcome, [String], Bool, Int64) in
                    let newest = try RetentionStore.newestID(db)
                    let batch = try RetentionStore.oldest(db, excludingID: newest, limit: 64)
                    var o = PurgeOutcome()
                    var files: [String] = []
                    var expected: Int64 = 0
                    for c in batch where expected < want {
                        // A capture with no bytes on disk still costs its row: count it as 1.
                        if let bytes = try purgeOne(db, c, into: &o, files: &files) { expected += max(bytes, 1) }
                    }
                    return (o, files, !batch.isEmpty, expected)
                }
            }
            total.add(outcome, early: early, since: before)
            removeFiles(files, into: &total)
            if outcome.purged > 0 || outcome.quarantined > 0 { changes.post(.removed(count: Int(outcome.purged))) }
            // Files unlinked early were absent when the retry weighed its captures.
            freed += expected + early.bytesReclaimed - before.bytesReclaimed
            if !more || outcome.purged == 0 && outcome.quarantined == 0 { break }
        }
        return total
    }

    /// Deletes one capture as a purge does (its rows in one transaction, then its files, the
    /// footprint tally following), whatever its age or status. `.notFound` if there is none;
    /// a capture naming an unsafe file is quarantined instead and `.unsafePath` is thrown.
    public func delete(captureID id: Int64) throws {
        guard id >= 1 else { throw SpikeVaultError(.invalidArgument, "capture id must be >= 1, got \(id)") }
        var early = PurgeOutcome()  // files unlinked before their rows: the disk was full
        let plan = { (db: Database) in self.plannedFiles(try RetentionStore.candidate(db, id: id).map { [$0] } ?? []) }
        let (outcome, files) = try deleteFreeingSpace(into: &early, plan: plan) { db in
            try db.writeTransaction { () throws -> (PurgeOutcome, [String]) in
                guard let c = try RetentionStore.candidate(db, id: id) else {
                    throw SpikeVaultError(.notFound, "no capture with id \(id)")
                }
                var o = PurgeOutcome()
                var files: [String] = []
                try purgeOne(db, c, into: &o, files: &files)
                return (o, files)
            }
        }
        var total = PurgeOutcome()
        removeFiles(files, into: &total)
        if outcome.purged > 0 || outcome.quarantined > 0 { changes.post(.removed(count: Int(outcome.purged))) }
        giveBackWAL(force: early.filesDeleted > 0)
        guard outcome.purged > 0 else {
            throw SpikeVaultError(.unsafePath, "capture \(id) names a file that is not a plain file inside artefacts/; it is quarantined, not deleted")
        }
    }

    /// Deletes the capture's row and returns the allocated bytes of its files, or quarantines
    /// it (returning nil) if any of its names is unsafe.
    @discardableResult
    private func purgeOne(_ db: Database, _ c: RetentionStore.Candidate, into o: inout PurgeOutcome,
                          files: inout [String]) throws -> Int64? {
        var bytes: Int64 = 0
        for name in c.files {
            switch artefacts.verdict(name) {
            case .regular(let b): bytes += b
            case .absent: break
            case .unsafe:
                if try RetentionStore.mark(db, id: c.id, .quarantined, onlyFrom: [.complete, .partial, .failed, .missing]) {
                    o.quarantined += 1
                }
                return nil
            }
        }
        try RetentionStore.delete(db, id: c.id)
        o.purged += 1
        files += c.files
        return bytes
    }

    func removeFiles(_ names: [String], into o: inout PurgeOutcome) {
        var freed: Int64 = 0
        for name in names {
            if case .removed(let bytes) = artefacts.remove(name) {
                o.filesDeleted += 1
                freed += bytes
            }
        }
        o.bytesReclaimed += freed  // the rows' running total fell with their delete (schema 4)
    }
}
