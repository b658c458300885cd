/// Maintenance runs, enforcement after saves, open-time recovery and the scheduler hooks.
extension Vault {
    /// Runs one maintenance pass and reports what it did:
    /// 1. sweeps temp files of dead writers;
    /// 2. reconciles rows and files (missing, quarantined, orphans older than the grace period);
    /// 3. purges captures past the maximum age;
    /// 4. measures the footprint in full and evicts oldest captures while over the budget or
    ///    under the free-space floor;
    /// 5. gives space back with `PRAGMA incremental_vacuum` in steps of 256 pages (each its own
    ///    short transaction, never a full VACUUM holding the lock), then
    ///    `PRAGMA wal_checkpoint(TRUNCATE)` (skipped quietly when readers are active).
    /// One run at a time per vault; safe to run while other threads and processes save.
    /// `now` is for tests; `orphanGraceSeconds` overrides the vault's option.
    public func maintain(now: Timestamp = .now(), orphanGraceSeconds: Int64? = nil) throws -> MaintenanceReport {
        try retention.runLock.withLock { _ in
            let started = Posix.monotonicNanoseconds()
            var report = MaintenanceReport()
            defer { retention.record(report) }
            report.footprintBefore = try footprint().totalBytes
            func interrupted() -> Bool {
                if retention.stopping.load(ordering: .relaxed) { report.interrupted = true }
                return report.interrupted
            }
            let swept = try withDatabase { _ in try artefacts.sweepTemps() }
            report.tempFilesSwept = Int64(swept)
            if !interrupted() {
                // On a full disk the marks cannot be written; they wait for the next run, and
                // the purges below, which free space, go ahead.
                let rows = try Self.unlessDiskFull(RowCheck()) { try reconcileRows() }
                report.markedMissing += rows.missing
                report.quarantined += rows.quarantined
                let orphans = try removeOrphans(graceSeconds: orphanGraceSeconds ?? retention.policy.orphanGraceSeconds, now: now)
                report.orphansDeleted = orphans.count
                report.bytesReclaimed += orphans.bytes
            }
            if !interrupted(), let cutoff = retention.policy.ageCutoff(now: now) {
                report.add(try purgeByAge(cutoff: cutoff), bySize: false)
            }
            if !interrupted() { report.add(try enforceSize(fullMeasure: true), bySize: true) }
            if !interrupted() { report.pagesVacuumed = try vacuumInSteps() }
            if !interrupted() { try runCompanions(&report) }  // Store/Companions.swift, off by default
            report.footprintAfter = try footprint().totalBytes
            report.durationMilliseconds = Int64((Posix.monotonicNanoseconds() - started) / 1_000_000)
            return report
        }
    }

    /// The footprint measured now, in full (one `fstatat` per artefact file).
    public func footprint() throws -> Footprint {
        try FootprintMeter.measure(vaultFD: directoryFD, artefacts: artefacts)
    }

    /// What retention has done in this process since open: every maintenance run plus the
    /// enforcement after saves, summed.
    public var retentionTotals: MaintenanceReport { retention.totals.withLock { $0 } }

    /// The last failure of background retention work (after-save enforcement, scheduled runs),
    /// which never fails the save that triggered it.
    public var lastRetentionError: SpikeVaultError? { retention.lastError.withLock { $0 } }

    /// Rows found without their artefact files when the vault opened, marked `missing`.
    public var recoveredMissingAtOpen: Int { retention.recoveredAtOpen.load(ordering: .relaxed) }

    // MARK: Hooks called by Vault

    /// After a successful save: purge by age when the oldest capture (`oldestCapturedAt`, read
    /// in the save's own transaction) is past it, then evict by size when the running estimate
    /// is over budget (O(1) system calls). Failures are recorded (`lastRetentionError`), never
    /// thrown: the save has committed.
    func enforceAfterSave(oldestCapturedAt: Int64?, artefactBytesTotal: Int64) {
        do {
            var report = MaintenanceReport()
            if let cutoff = retention.policy.ageCutoff(now: .now()), let oldest = oldestCapturedAt,
               oldest <= cutoff.milliseconds {
                report.add(try purgeByAge(cutoff: cutoff), bySize: false)
            }
            report.add(try enforceSize(fullMeasure: false, artefactBytesTotal: artefactBytesTotal), bySize: true)
            if report.purgedByAge + report.purgedBySize + report.quarantined > 0 { retention.record(report) }
        } catch {
            retention.fail(error)
        }
    }

    /// Evicts captures while the footprint is over budget or free space under the floor.
    /// `fullMeasure` (maintenance) measures artefacts/ entry by entry first; otherwise the
    /// estimate is the rows' running total (`artefactBytesTotal` when the caller read it in its
    /// own transaction, else one query) plus the untracked bytes of the last full measurement.
    func enforceSize(fullMeasure: Bool, artefactBytesTotal known: Int64? = nil) throws -> PurgeOutcome {
        let policy = retention.policy
        guard policy.maxFootprintBytes != nil || policy.minFreePercent > 0 else { return PurgeOutcome() }
        return try retention.tally.withLock { t in
            var total = PurgeOutcome()
            var checkpointed = false
            var tracked = known
            var measure = fullMeasure
            for _ in 0..<8 {
                if measure {
                    // The rows' total and the directory are read one after the other: a save
                    // of another process in between is off by one file until the next run.
                    let rows = try withDatabase { db in try RecordStore.artefactBytesTotal(db) }
                    retention.delta.store(0, ordering: .relaxed)
                    t.untrackedBytes = try footprint().artefactBytes - rows
                    t.measured = true
                    tracked = rows
                    measure = false
                }
                let rows = try tracked ?? withDatabase { db in try RecordStore.artefactBytesTotal(db) }
                let artefactBytes = max(0, rows + t.untrackedBytes + retention.delta.load(ordering: .relaxed))
                let estimate = artefactBytes + FootprintMeter.databaseBytes(vaultFD: directoryFD)
                let excess = policy.excess(footprint: estimate, space: FootprintMeter.freeSpace(directoryFD))
                guard excess > 0 else { break }
                // Over budget with a big WAL: give the WAL back before evicting captures.
                if !checkpointed && FootprintMeter.allocatedBytes(directoryFD, FootprintMeter.databaseFiles[1]) >= RetentionState.walGiveBackBytes {
                    checkpointed = true
                    // On a full disk the copy into the database may not fit: evict instead.
                    if try withDatabase({ db in try db.checkpointTruncating() }) { continue }
                }
                let o = try purgeBySize(bytes: excess)
                tracked = nil  // the purge's deletes lowered the running total: read it again
                total.purged += o.purged
                total.quarantined += o.quarantined
                total.filesDeleted += o.filesDeleted
                total.bytesReclaimed += o.bytesReclaimed
                if o.purged == 0 { break }
            }
            return total
        }
    }

    /// `incremental_vacuum` in steps of 256 pages, each its own transaction, then a WAL
    /// checkpoint with truncation. Returns the pages given back.
    func vacuumInSteps() throws -> Int64 {
        var pages: Int64 = 0
        for _ in 0..<4096 {
            if retention.stopping.load(ordering: .relaxed) { break }
            // Moving pages needs WAL room: on a full disk the step is left for a later run.
            let step = try Self.unlessDiskFull(0) {
                try withDatabase { db -> Int64 in
                    let free = try db.scalarInt("PRAGMA freelist_count")
                    guard free > 0 else { return 0 }
                    try db.execute("PRAGMA incremental_vacuum(256)")
                    return free - (try db.scalarInt("PRAGMA freelist_count"))
                }
            }
            if step <= 0 { break }
            pages += step
        }
        // Returns (busy, log, checkpointed) and does not fail when readers hold the WAL.
        _ = try withDatabase { db in try db.checkpointTruncating() }
        return pages
    }

    /// `body`'s result, or `fallback` when it fails for want of space.
    static func unlessDiskFull<T>(_ fallback: T, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as SpikeVaultError where e.status == .noSpace { return fallback }
    }

    /// Open-time recovery beyond the temp sweep: the newest captures are the ones a power cut
    /// could have left without their files (the rows committed, the file data not yet on disk
    /// with durability off), so their files are checked and the rows marked `missing`. The
    /// full two-way reconciliation is maintenance's job.
    func recoverAtOpen() {
        do {
            let check = try reconcileRows(newest: 64)
            retention.recoveredAtOpen.store(Int(check.missing), ordering: .relaxed)
        } catch {
            retention.fail(error)
        }
    }

    /// Starts the scheduler thread when the options ask for one. It holds the vault weakly.
    func startScheduler() {
        guard options.maintenanceIntervalSeconds > 0 else { return }
        let s = MaintenanceScheduler(firstDelaySeconds: options.maintenanceFirstDelaySeconds,
                                     intervalSeconds: options.maintenanceIntervalSeconds) { [weak self] in
            guard let vault = self, !vault.isClosed else { return }
            do { _ = try vault.maintain() } catch { vault.retention.fail(error) }
        }
        do {
            try s.start()
            retention.scheduler.withLock { $0 = s }
        } catch {
            retention.fail(error)
        }
    }

    /// Stops and joins the scheduler; background work in progress stops at its next batch.
    func stopRetention() {
        retention.stopping.store(true, ordering: .relaxed)
        let s = retention.scheduler.withLock { s -> MaintenanceScheduler? in defer { s = nil }; return s }
        s?.stop()
    }
}
