import Synchronization

/// An open vault directory: the thread-safe façade over storage.
///
/// Share one `Vault` across threads freely. Compression runs on the calling thread outside
/// the lock; only the SQLite transaction is serialised. A vault opened before `fork()` refuses
/// to work in the child (`.forked`): the child must open its own.
public final class Vault: Sendable {
    public let path: String
    public let options: VaultOptions
    /// Recorded with every capture this vault saves (options first, else detected at open).
    public let hostIdentity: HostIdentity
    private let database: Mutex<Database?>
    let artefacts: ArtefactDirectory
    let directoryFD: Int32
    let retention: RetentionState
    private let ownerPID: pid_t
    private let compressors = Mutex<[ZstdCompressor]>([])
    /// An in-memory SQLite connection for pure JSON work (validating and merging notes): it
    /// takes no file locks, so checks before a save cost no read transaction on the vault.
    private let scratch: Mutex<Database>
    /// The writer thread and queue of background writes, made on first use.
    let writeQueue = Mutex<WriteQueue?>(nil)
    let writesClosed = Atomic<Bool>(false)
    /// Idle tracking of the periodic companions (Store/Companions.swift).
    let companions = CompanionState()
    /// Worker pool of asynchronous captures, made on first use.
    private let captureScheduler = Mutex<CaptureScheduler?>(nil)
    /// What captures of this vault probe once (perf access).
    let captureContext = CaptureContext()
    /// Temp files swept when this vault opened.
    public let sweptTempFiles: Int
    /// Change notifications (saves and deletions), for views of recent captures.
    public let changes = ChangeNotifier()

    /// Opens (creating if needed) the vault at `path`.
    public init(path: String, options: VaultOptions = VaultOptions()) throws {
        let fds = try VaultDirectory.open(path, create: options.openExisting == 0)
        let artefactDir = ArtefactDirectory(fd: fds.artefacts, path: path + "/" + VaultDirectory.artefactsName)
        do {
            let db = try Database(path: path + "/" + VaultDirectory.databaseName,
                                  busyTimeoutMs: Int32(clamping: options.busyTimeoutMilliseconds))
            try db.configureForVault(durability: options.durability)  // writes nothing when set up
            let adoption = SeedAdoption(vaultPath: path, directoryFD: fds.directory, artefacts: artefactDir, options: options)
            do { try Schema.migrate(db, adoptSeed: adoption.adopt) } catch { adoption.discardPublished(); throw error }
            sweptTempFiles = try artefactDir.sweepTemps() + WorkDirectory.sweep(vaultPath: path)
            self.database = Mutex(db)
            self.scratch = Mutex(try Database(path: ":memory:", busyTimeoutMs: 0))
        } catch {
            Posix.close(fds.directory)
            throw error
        }
        self.path = path
        self.options = options
        let detected = HostIdentity.detect()
        self.hostIdentity = HostIdentity(hostName: options.hostName ?? detected.hostName,
                                         machineID: options.machineID ?? detected.machineID)
        self.artefacts = artefactDir
        self.directoryFD = fds.directory
        self.ownerPID = getpid()
        self.retention = RetentionState(options)
        recoverAtOpen()
        let companions = self.companions
        _ = changes.addObserver { _ in companions.noteChange() }
        startScheduler()
    }

    deinit {
        drainBackgroundWrites(wait: false)
        stopRetention()
        Posix.close(directoryFD)
    }

    /// Runs every queued background write, cancels and drains captures (every completion
    /// handler has run when this returns), then closes the database. Idempotent; later calls fail with `.closed`.
    ///
    /// In a child process that inherited the vault through `fork()` (see
    /// `isInheritedThroughFork`), the connection is abandoned rather than closed: closing it
    /// could checkpoint or unlink the parent's WAL.
    public func close() {
        guard !isInheritedThroughFork else {
            database.withLock { db in
                db?.abandon()
                db = nil
            }
            return
        }
        drainBackgroundWrites()  // every queued save, purge and maintain runs first
        captureScheduler.withLock { $0 }?.shutdown()
        stopRetention()
        database.withLock { db in
            db?.close()
            db = nil
        }
    }

    /// True in a child process that inherited this vault through `fork()`: every operation
    /// then fails with `.forked`; open the vault again in the child.
    public var isInheritedThroughFork: Bool { getpid() != ownerPID }

    public var isClosed: Bool { database.withLock { $0 == nil } }

    /// Throws `.forked` or `.closed` when the vault may not be used.
    func checkUsable() throws { _ = try withDatabase { _ in 0 } }

    /// Runs `body` with the connection under the lock, after the closed and fork checks.
    func withDatabase<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        guard getpid() == ownerPID else {
            throw SpikeVaultError(.forked, "this vault was opened by process \(ownerPID); open it again in process \(getpid())")
        }
        return try database.withLock { db throws -> T in
            guard let db else { throw SpikeVaultError(.closed, "the vault at \(path) is closed") }
            return try body(db)
        }
    }

    /// The capture worker pool, created on first use with this vault's options.
    func scheduler() throws -> CaptureScheduler {
        try checkUsable()
        return captureScheduler.withLock { existing in
            if let existing { return existing }
            let made = CaptureScheduler(
                workers: Int(options.captureWorkers), queueCapacity: Int(options.captureQueueCapacity),
                cooldownSeconds: Double(options.captureCooldownSeconds)) { [weak self] job in
                    guard let self else { return .failure(SpikeVaultError(.closed, "the vault was released")) }
                    do { return .success(try self.performCapture(job.request, cancel: job.cancelFlag, extra: job.extraArtefacts)) }
                    catch let e as SpikeVaultError { return .failure(e) }
                    catch { return .failure(SpikeVaultError(.internalError, "\(error)")) }
                }
            existing = made
            return made
        }
    }

    // MARK: Records

    /// Validates `record`, stores each artefact (compress to a temp file, fsync, publish,
    /// fsync the directory), then inserts the rows in one transaction. Either everything is
    /// stored or nothing is visible. Returns the record with its id and artefacts filled in.
    public func save(_ record: ProfileRecord, artefacts newArtefacts: [NewArtefact]) throws -> ProfileRecord {
        try saveBatch([(record, newArtefacts)], batch: false)[0]
    }

    /// The most records one `saveMany` takes.
    public static let maxSaveBatch = 10_000

    /// Saves a burst of records all or nothing: every record is validated before anything is
    /// written (an error names the record's index), then every artefact is stored, the
    /// directory is synced once, and all rows go in one transaction; on any failure the
    /// files already published are removed and no row is visible. Retention runs once, after
    /// the commit. Returns the saved records in order. Throws `.invalidArgument` for an empty
    /// batch or one over `maxSaveBatch`.
    public func saveMany(_ batch: [(record: ProfileRecord, artefacts: [NewArtefact])]) throws -> [ProfileRecord] {
        guard !batch.isEmpty && batch.count <= Vault.maxSaveBatch else {
            throw SpikeVaultError(.invalidArgument, "a batch holds 1-\(Vault.maxSaveBatch) records, got \(batch.count)")
        }
        return try saveBatch(batch.map { ($0.record, $0.artefacts) }, batch: true)
    }

    private func saveBatch(_ batch: [(ProfileRecord, [NewArtefact])], batch named: Bool) throws -> [ProfileRecord] {
        func located<T>(_ i: Int, _ body: () throws -> T) throws -> T {
            guard named else { return try body() }
            do { return try body() } catch let e as SpikeVaultError {
                throw SpikeVaultError(e.status, "record \(i) of the batch: \(e.message)")
            }
        }
        for (i, (record, newArtefacts)) in batch.enumerated() { try located(i) { try validate(record, newArtefacts) } }
        var saved: [ProfileRecord] = []
        saved.reserveCapacity(batch.count)
        var allocated: [[Int64]] = []
        var published: [String] = []
        // The shared save lock spans publishing and committing (see SaveLock), and no longer:
        // retention after the save may sweep orphans, which takes the lock exclusively.
        let lock = try SaveLock.acquire(directory: directoryFD, exclusive: false)
        let oldest: Int64?
        let artefactTotal: Int64
        do {
            defer { Posix.close(lock) }
            for (record, _) in batch {
                var r = record
                r.artefacts = []
                if r.host == nil { r.host = hostIdentity.hostName }
                if r.machineID == nil { r.machineID = hostIdentity.machineID }
                saved.append(r)
                allocated.append([])
            }
            // Every artefact of the batch, in order. They are stored a group at a time: each
            // file of the group is written (its writeback started), then each is fsynced and
            // published in turn. So a batch's files reach the disk together and the first
            // fsync commits their block allocations at once (ext4: one journal commit instead
            // of one per file), the group's fsyncs run several at once (Posix.fsyncAll), and
            // no file gets its final name before it is durable.
            var jobs: [(record: Int, artefact: NewArtefact)] = []
            for (i, (_, newArtefacts)) in batch.enumerated() { for a in newArtefacts { jobs.append((i, a)) } }
            let together = jobs.count > 1 && options.durability != .off
            for group in stride(from: 0, to: jobs.count, by: Vault.syncGroupSize) {
                let range = group..<min(group + Vault.syncGroupSize, jobs.count)
                var written: [WrittenTemp] = []
                written.reserveCapacity(range.count)
                var handed = 0  // temps of `written` given to `publish` (which cleans up after itself)
                do {
                    for j in range {
                        written.append(try located(jobs[j].record) { try writeTemp(jobs[j].artefact, startWriteback: together) })
                    }
                    // Every file of the group durable before any gets its final name.
                    if together { try Posix.fsyncAll(written.map(\.fd), "syncing artefacts") }
                    for (k, temp) in written.enumerated() {
                        handed = k + 1
                        let i = jobs[range.lowerBound + k].record
                        let record = batch[i].0
                        let (info, bytes) = try located(i) {
                            try publish(temp, stem: "\(record.capturedAt.compactUTC)-\(record.pid)", synced: together)
                        }
                        published.append(info.path)
                        saved[i].artefacts.append(info)
                        allocated[i].append(bytes)
                    }
                } catch {
                    for temp in written[handed...] { temp.discard(from: artefacts) }
                    throw error
                }
            }
            for i in saved.indices { saved[i].profilePath = saved[i].artefacts.first?.path }
            if options.durability != .off && !published.isEmpty { try self.artefacts.sync() }
            let toInsert = saved
            let sizes = allocated
            // The age check rides on the insert's transaction: no extra read transaction.
            // So does the footprint's running total (kept by triggers): one row, no file scan.
            let ageLimited = retention.policy.ageCutoff(now: .now()) != nil
            let (ids, oldestRow, total) = try withDatabase { db in
                try db.writeTransaction {
                    var ids: [Int64] = []
                    ids.reserveCapacity(toInsert.count)
                    for (i, r) in toInsert.enumerated() { ids.append(try located(i) { try RecordStore.insert(db, r, allocated: sizes[i]) }) }
                    return (ids, ageLimited ? try RetentionStore.oldestPurgeable(db) : nil,
                            try RecordStore.artefactBytesTotal(db))
                }
            }
            for i in saved.indices { saved[i].id = ids[i] }
            oldest = oldestRow
            artefactTotal = total
        } catch {
            for name in published { _ = self.artefacts.remove(name) }
            throw error
        }
        for r in saved { changes.post(.saved(id: r.id)) }
        enforceAfterSave(oldestCapturedAt: oldest, artefactBytesTotal: artefactTotal)
        return saved
    }

    /// `validate` without touching the database lock (for queueing background saves).
    func validateWithoutDatabase(_ r: ProfileRecord, _ newArtefacts: [NewArtefact]) throws {
        try validate(r, newArtefacts, checkOpen: false)
    }

    private func validate(_ r: ProfileRecord, _ newArtefacts: [NewArtefact], checkOpen: Bool = true) throws {
        guard !r.processName.isEmpty, r.processName.utf8.count <= 4096, !r.processName.utf8.contains(0) else {
            throw SpikeVaultError(.invalidArgument, "process name must be 1-4096 bytes without NUL")
        }
        guard r.pid > 0 else { throw SpikeVaultError(.invalidArgument, "pid must be positive, got \(r.pid)") }
        guard r.triggerValue.isFinite else {
            throw SpikeVaultError(.invalidArgument, "trigger value must be a finite number, got \(r.triggerValue)")
        }
        guard r.durationSeconds.isFinite && r.durationSeconds >= 0 else {
            throw SpikeVaultError(.invalidArgument, "duration must be a finite number of seconds >= 0, got \(r.durationSeconds)")
        }
        guard r.capturedAt.sqlText != nil else {
            throw SpikeVaultError(.invalidArgument, "capture time must be within years 0000-9999, got \(r.capturedAt.milliseconds) ms since the epoch")
        }
        if let start = r.processStartTime, start < 0 {
            throw SpikeVaultError(.invalidArgument, "process start time must be >= 0, got \(start)")
        }
        var kinds = Set<String>()
        for a in newArtefacts {
            try NewArtefact.validateKind(a.kind)
            guard kinds.insert(a.kind).inserted else {
                throw SpikeVaultError(.invalidArgument, "artefact kind '\(a.kind)' appears twice in one capture")
            }
            if case .bytes(let b) = a.source, b.isEmpty {
                throw SpikeVaultError(.empty, "artefact '\(a.kind)' is empty (0 bytes)")
            }
        }
        let notes = r.notes
        if checkOpen { try checkUsable() }
        try requireJSONObjectShape(notes)
    }

    /// How many artefact files a save writes before it syncs and publishes them (and so how
    /// many temp files it holds open at most).
    static let syncGroupSize = 64

    /// An artefact compressed into its temp file (open), neither synced nor published yet.
    private struct WrittenTemp {
        let fd: Int32
        let name: String
        let kind: String
        let result: ZstdCompressor.Result

        /// Closes and removes the temp file (a save that fails before publishing it).
        func discard(from directory: ArtefactDirectory) {
            Posix.close(fd)
            directory.discard(name)
        }
    }

    /// Compresses one artefact into a new temp file, left open for `publish`. With
    /// `startWriteback` the file's writeback starts at once (see `Posix.startWriteback`).
    private func writeTemp(_ artefact: NewArtefact, startWriteback: Bool) throws -> WrittenTemp {
        if case .file(let source) = artefact.source { try Self.requireNonEmptyFile(source, kind: artefact.kind) }
        let temp = try artefacts.createTemp()
        do {
            let compressor = try takeCompressor()
            defer { returnCompressor(compressor) }
            let result = try compressor.compress(artefact.source, to: temp.fd)
            if result.rawBytes == 0 { throw SpikeVaultError(.empty, "artefact '\(artefact.kind)' is empty (0 bytes)") }
            if startWriteback { Posix.startWriteback(temp.fd) }
            return WrittenTemp(fd: temp.fd, name: temp.name, kind: artefact.kind, result: result)
        } catch {
            Posix.close(temp.fd)
            artefacts.discard(temp.name)
            throw error
        }
    }

    /// Makes a written temp file durable (fsync, unless durability is off or the caller
    /// `synced` it already) and publishes it under its final name; the temp is closed, and
    /// removed if it was not published. Returns its row and the bytes the file allocates (for
    /// the footprint's running total).
    private func publish(_ temp: WrittenTemp, stem: String, synced: Bool) throws -> (ArtefactInfo, Int64) {
        var published = false
        defer {
            Posix.close(temp.fd)
            if !published { artefacts.discard(temp.name) }
        }
        if options.durability != .off && !synced { try Posix.fsync(temp.fd, "syncing artefact") }
        let result = temp.result
        let allocated = max(FootprintMeter.allocatedBytes(fd: temp.fd), Footprint.estimatedAllocation(result.storedBytes))
        let name = try artefacts.publish(temp.name, stem: stem, suffix: "\(temp.kind).zst")
        published = true
        return (ArtefactInfo(kind: temp.kind, path: name, rawBytes: result.rawBytes,
                             storedBytes: result.storedBytes, checksum: result.checksum), allocated)
    }

    private static func requireNonEmptyFile(_ path: String, kind: String) throws {
        let fd = try Posix.openRegularFile(at: AT_FDCWD, path, what: "artefact '\(kind)' source \(path)", refusal: .invalidArgument)
        defer { Posix.close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_size == 0 {
            throw SpikeVaultError(.empty, "artefact '\(kind)' source \(path) is empty (0 bytes)")
        }
    }

    /// Throws `.invalidArgument` unless `notes` is a JSON object (checked by SQLite's JSON1).
    func requireJSONObject(_ notes: String) throws {
        try checkUsable()
        try requireJSONObjectShape(notes)
    }

    private func requireJSONObjectShape(_ notes: String) throws {
        if notes == "{}" { return }  // the default notes: no query needed
        guard try scratch.withLock({ db in try RecordStore.isJSONObject(db, notes) }) else {
            throw SpikeVaultError(.invalidArgument, "notes must be a JSON object, got: \(notes.prefix(60))")
        }
    }

    /// Runs `body` on the in-memory scratch connection (JSON functions only).
    func withScratch<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        try scratch.withLock { db in try body(db) }
    }

    private func takeCompressor() throws -> ZstdCompressor {
        if let c = compressors.withLock({ $0.popLast() }) { return c }
        return try ZstdCompressor(level: Int32(options.compressionLevel))
    }

    private func returnCompressor(_ c: ZstdCompressor) {
        compressors.withLock { pool in if pool.count < 4 { pool.append(c) } }
    }

    /// The capture with `id`, or `.notFound`.
    public func record(id: Int64) throws -> ProfileRecord {
        guard let r = try withDatabase({ db in try RecordStore.record(db, id: id) }) else {
            throw SpikeVaultError(.notFound, "no capture with id \(id)")
        }
        return r
    }

    /// The newest `limit` captures, newest first.
    public func recent(limit: Int) throws -> [ProfileRecord] {
        guard limit >= 0 else { throw SpikeVaultError(.invalidArgument, "limit must be >= 0, got \(limit)") }
        return try withDatabase { db in try RecordStore.recent(db, limit: Int64(limit)) }
    }

    /// `recent(limit:)` as packed rows: the same captures in the same order, their texts as C
    /// strings in one block (see PackedRecords), for hosts that read them through pointers.
    public func recentRows(limit: Int) throws -> PackedRecords {
        guard limit >= 0 else { throw SpikeVaultError(.invalidArgument, "limit must be >= 0, got \(limit)") }
        return try withDatabase { db in try RecordStore.recentRows(db, limit: Int64(limit)) }
    }

    /// Deletes captures older than `cutoff` (strictly), rows first in one transaction, then
    /// their files (only plain files inside `artefacts/`). Returns how many captures went.
    /// Works on a full disk: see `deleteFreeingSpace` and docs/retention.md ("Full disk").
    @discardableResult
    public func deleteOlderThan(_ cutoff: Timestamp) throws -> Int {
        var early = PurgeOutcome()
        let (count, files) = try deleteFreeingSpace(into: &early, plan: { db in try RecordStore.fileNames(db, olderThan: cutoff) }) { db in
            try db.writeTransaction { try RecordStore.deleteOlderThan(db, cutoff) }
        }
        for name in files { _ = artefacts.remove(name) }
        if count > 0 { changes.post(.removed(count: Int(count))) }
        if count > 0 || early.filesDeleted > 0 { giveBackWAL(force: early.filesDeleted > 0) }
        return Int(count)
    }

    // MARK: Artefacts

    /// Looks up the artefact row: the first of the capture, or the one of `kind`.
    public func artefact(captureID: Int64, kind: String? = nil) throws -> ArtefactInfo {
        let found = try withDatabase { db -> ArtefactInfo? in
            if let a = try RecordStore.artefact(db, captureID: captureID, kind: kind) { return a }
            guard try RecordStore.exists(db, id: captureID) else {
                throw SpikeVaultError(.notFound, "no capture with id \(captureID)")
            }
            return nil
        }
        guard let found else {
            throw SpikeVaultError(.notFound, "capture \(captureID) has no artefact" + (kind.map { " of kind '\($0)'" } ?? ""))
        }
        return found
    }

    /// The absolute path of an artefact file (for "reveal in file manager").
    /// Refused (`.unsafePath`) for a stored name that is not one of the library's own plain
    /// file names, so no row can make this point outside `artefacts/`.
    public func artefactPath(captureID: Int64, kind: String? = nil) throws -> String {
        let name = try artefact(captureID: captureID, kind: kind).path
        guard Posix.isPlainBasename(name) else {
            throw SpikeVaultError(.unsafePath, "capture \(captureID)'s artefact name is not a plain file name inside artefacts/; the row is quarantined by maintenance")
        }
        return artefacts.path + "/" + name
    }

    private var decompressor: ZstdDecompressor {
        ZstdDecompressor(windowLogMax: Int32(options.windowLogMax), maxOutputBytes: options.maxArtefactBytes)
    }

    /// Reads an artefact back into memory, verifying the zstd frame and the stored checksum.
    public func readArtefact(captureID: Int64, kind: String? = nil) throws -> [UInt8] {
        try readVerified(try artefact(captureID: captureID, kind: kind))
    }

    /// An artefact's contents redacted by `redactor` (see ContentRedaction), as written into
    /// redacted bundles. Binary content that cannot be inspected throws `.unsupported`.
    public func readArtefact(captureID: Int64, kind: String? = nil, redactor: Redactor) throws -> [UInt8] {
        let info = try artefact(captureID: captureID, kind: kind)
        let raw = try readVerified(info)
        let outcome = try withScratch { db in try ContentRedaction.redact(raw, kind: info.kind, redactor: redactor, scratch: db) }
        switch outcome {
        case .redacted(let bytes): return bytes
        case .withheld(let reason): throw SpikeVaultError(.unsupported, "artefact '\(info.kind)' of capture \(captureID): \(reason)")
        }
    }

    /// The stored frame of an artefact, byte for byte, verified (frame, size bound, checksum)
    /// in the same single read: the copy is exactly the bytes that were checked.
    func verifiedFrame(_ info: ArtefactInfo) throws -> [UInt8] {
        let fd = try artefacts.openForReading(info.path)
        defer { Posix.close(fd) }
        var frame: [UInt8] = []
        if info.storedBytes > 0 && info.storedBytes <= options.maxArtefactBytes { frame.reserveCapacity(Int(info.storedBytes)) }
        _ = try decompressor.decompress(from: fd, name: info.path, expectedChecksum: info.checksum,
                                        input: { frame.append(contentsOf: $0) }) { _ in }
        return frame
    }

    /// A zstd frame of `bytes` made with the vault's compression settings.
    func compressCopy(_ bytes: [UInt8]) throws -> [UInt8] {
        let compressor = try takeCompressor()
        defer { returnCompressor(compressor) }
        return try compressor.compress(bytes: bytes)
    }

    /// Reads an artefact into memory, verifying the zstd frame, the size bound and the stored checksum.
    func readVerified(_ info: ArtefactInfo) throws -> [UInt8] {
        let fd = try artefacts.openForReading(info.path)
        defer { Posix.close(fd) }
        var out: [UInt8] = []
        if info.rawBytes > 0 && info.rawBytes <= options.maxArtefactBytes { out.reserveCapacity(Int(info.rawBytes)) }
        _ = try decompressor.decompress(from: fd, name: info.path, expectedChecksum: info.checksum) { chunk in
            out.append(contentsOf: chunk)
        }
        return out
    }

    /// Writes an artefact, decompressed, to `destination` (which must not exist). The file
    /// appears whole or not at all: it is written to a temp name beside it and then linked.
    public func exportArtefact(captureID: Int64, kind: String? = nil, to destination: String) throws {
        let info = try artefact(captureID: captureID, kind: kind)
        try AtomicFile.write(to: destination) { out in
            let fd = try artefacts.openForReading(info.path)
            defer { Posix.close(fd) }
            _ = try decompressor.decompress(from: fd, name: info.path, expectedChecksum: info.checksum) { chunk in
                try Posix.writeAll(out, chunk, "writing \(destination)")
            }
        }
    }
}
