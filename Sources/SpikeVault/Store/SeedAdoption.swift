/// Adopts a database made by the seed design's SQL (docs/storage.md, "Adopting a seed
/// database"): every row is kept, in the one transaction `Schema.migrate` opens.
///
/// - Times become the stored text form; a number is read as Unix seconds (or milliseconds
///   when it is too large to be seconds).
/// - A `profilePath` naming a regular file inside the vault directory (absolute under the
///   vault's path, `file://` URL, or relative to the vault) is compressed into `artefacts/`
///   as an artefact of kind `seed[.<ext>]`; the original is left where it was.
/// - A path outside the vault is never opened: the row is `quarantined`. A path inside the
///   vault with no usable file (absent, empty, a link, not a regular file, too large) makes
///   the row `missing`. Values that had to be replaced (unknown metric, pid <= 0, unreadable
///   time, notes that are not a JSON object) keep their original under `notes.adopted`, and
///   such rows are `quarantined` too, so nothing invented is ever purged as if it were real.
///
/// Files are published before the rows commit, as every save does; `discardPublished` removes
/// them if the transaction fails.
final class SeedAdoption {
    private let vaultPath: String
    private let directoryFD: Int32
    private let artefacts: ArtefactDirectory
    private let options: VaultOptions
    private(set) var published: [String] = []
    private(set) var adoptedRows = 0

    init(vaultPath: String, directoryFD: Int32, artefacts: ArtefactDirectory, options: VaultOptions) {
        self.vaultPath = vaultPath
        self.directoryFD = directoryFD
        self.artefacts = artefacts
        self.options = options
    }

    func discardPublished() {
        for name in published { _ = artefacts.remove(name) }
        published.removeAll()
    }

    private struct SeedRow {
        var id: Int64
        var processName: String?
        var pid: Int64?
        var metric: String?
        var value: Double?
        var timeType: String
        var timeText: String?
        var timeNormalised: String?
        var timeNumber: Double
        var profilePath: String?
        var duration: Double?
        var notes: String?
    }

    /// Runs inside the migration's transaction, with foreign keys off.
    func adopt(_ db: Database) throws {
        let rows = try readSeedRows(db)
        try db.execute("DROP TABLE profile_capture")
        try Schema.createAll(db)
        let lock = try SaveLock.acquire(directory: directoryFD, exclusive: false)
        defer { Posix.close(lock) }
        let compressor = try ZstdCompressor(level: Int32(options.compressionLevel))
        let adoptedAt = Timestamp.now()
        for row in rows { try insert(db, row, compressor: compressor, adoptedAt: adoptedAt) }
        if options.durability != .off && !published.isEmpty { try artefacts.sync() }
        adoptedRows = rows.count
    }

    private func readSeedRows(_ db: Database) throws -> [SeedRow] {
        var present = Set<String>()
        let info = try db.statement("SELECT name FROM pragma_table_info('profile_capture')")
        while try info.step() { if let n = info.text(0) { present.insert(n) } }
        info.reset()
        func col(_ name: String) -> String { present.contains(name) ? name : "NULL" }
        let t = col("capturedAt")
        let st = try db.statement("""
            SELECT rowid, \(col("processName")), \(col("pid")), \(col("triggerMetric")), \(col("triggerValue")),
                typeof(\(t)), CAST(\(t) AS TEXT), CASE WHEN typeof(\(t)) = 'text' AND \(t) GLOB '[0-9][0-9][0-9][0-9]-*' THEN strftime(\(Schema.timeFormat), julianday(\(t))) END,
                CAST(\(t) AS REAL), \(col("profilePath")), \(col("durationSeconds")), \(col("notes"))
            FROM profile_capture ORDER BY rowid
            """)
        defer { st.finalize() }
        var rows: [SeedRow] = []
        while try st.step() {
            rows.append(SeedRow(
                id: st.int64(0), processName: st.text(1), pid: st.isNull(2) ? nil : st.int64(2), metric: st.text(3),
                value: st.isNull(4) ? nil : st.double(4), timeType: st.text(5) ?? "null", timeText: st.text(6),
                timeNormalised: st.text(7), timeNumber: st.double(8), profilePath: st.text(9),
                duration: st.isNull(10) ? nil : st.double(10), notes: st.text(11)))
        }
        return rows
    }

    static func metric(_ raw: String?) -> TriggerMetric? {
        guard let raw else { return nil }
        if let m = TriggerMetric(rawValue: raw) { return m }
        switch raw.lowercased() {
        case "cpu": return .cpu
        case "memory", "mem", "ram", "rss": return .memory
        case "diskio", "disk", "disk_io", "io": return .diskIO
        case "network", "net": return .network
        case "threads", "thread": return .threads
        case "fds", "fd", "files": return .fds
        default: return nil
        }
    }

    private func insert(_ db: Database, _ r: SeedRow, compressor: ZstdCompressor, adoptedAt: Timestamp) throws {
        var originals = JSONWriter()
        originals.beginObject()
        var replaced = false
        func original(_ key: String, _ value: String?) {
            originals.field(key, value)
            replaced = true
        }
        let metric = Self.metric(r.metric) ?? { original("triggerMetric", r.metric); return .cpu }()
        var pid = r.pid ?? 0
        if pid <= 0 || pid > Int64(Int32.max) { original("pid", r.pid.map { String($0) }); pid = 1 }
        var when: Timestamp?
        switch r.timeType {
        case "text": when = r.timeNormalised.flatMap { Timestamp(sqlText: $0) }
        case "integer", "real":
            let v = r.timeNumber
            if v.isFinite && abs(v) < 1e15 {
                when = Timestamp(milliseconds: Int64((abs(v) < 1e11 ? v * 1000 : v).rounded()))
            }
        default: break
        }
        if when?.sqlText == nil { original("capturedAt", r.timeText); when = adoptedAt }
        var status = CaptureStatus.complete
        var profilePath: String?
        var artefact: ArtefactInfo?
        switch locate(r.profilePath) {
        case .none:
            status = .missing
            if r.profilePath != nil { original("profilePath", r.profilePath) }
        case .outside:
            status = .quarantined
            original("profilePath", r.profilePath)
        case .inside(let dirs, let name):
            if let a = try adoptFile(dirs, name, stem: "\(when!.compactUTC)-\(pid)", compressor: compressor) {
                artefact = a
                profilePath = a.path
            } else {
                status = .missing
            }
            originals.field("profilePath", r.profilePath)
        }
        if replaced { status = .quarantined }
        originals.field("from", "seed schema")
        originals.field("at", adoptedAt.description)
        originals.endObject()
        let notes = try db.statement("""
            SELECT json_set(CASE WHEN ?1 IS NULL THEN '{}'
                                 WHEN json_valid(?1) AND json_type(?1) = 'object' THEN json(?1)
                                 ELSE json_object('seedNotes', ?1) END, '$.adopted', json(?2))
            """)
        notes.bind(1, r.notes)
        notes.bind(2, originals.takeText())
        guard try notes.step(), let notesText = notes.text(0) else { throw SpikeVaultError(.internalError, "adopting notes") }
        notes.reset()
        let st = try db.statement("""
            INSERT INTO profile_capture (id, processName, pid, triggerMetric, triggerValue, capturedAt, profilePath,
                durationSeconds, notes, status, rawBytes, storedBytes)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            """)
        st.bind(1, r.id)
        st.bind(2, (r.processName?.isEmpty ?? true) ? "unknown" : r.processName)
        st.bind(3, pid)
        st.bind(4, metric.rawValue)
        st.bind(5, (r.value?.isFinite ?? false) ? r.value! : 0)
        st.bind(6, when!)
        st.bind(7, profilePath)
        st.bind(8, max(0, (r.duration?.isFinite ?? false) ? r.duration! : 0))
        st.bind(9, notesText)
        st.bind(10, status.rawValue)
        st.bind(11, artefact?.rawBytes ?? 0)
        st.bind(12, artefact?.storedBytes ?? 0)
        try st.run()
        if let a = artefact { try RecordStore.insertArtefacts(db, captureId: r.id, [a]) }
    }

    enum Location: Equatable { case none, outside, inside(dirs: [String], name: String) }

    /// Where a seed `profilePath` points, judged from its text alone (nothing is opened).
    func locate(_ raw: String?) -> Location {
        guard var path = raw, !path.isEmpty, !path.utf8.contains(0) else { return .none }
        if path.hasPrefix("file://") { path = Self.percentDecoded(String(path.dropFirst(7))) }
        var rel = path
        if path.hasPrefix("/") {
            var roots = [vaultPath]
            if let real = realpath(vaultPath, nil) { roots.append(String(cString: real)); free(real) }
            guard let root = roots.first(where: { path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else { return .outside }
            rel = String(path.dropFirst(root.hasSuffix("/") ? root.count : root.count + 1))
        }
        let parts = rel.split(separator: "/").map(String.init)
        guard let name = parts.last, !parts.contains(".."), !parts.contains(".") else { return .outside }
        return .inside(dirs: Array(parts.dropLast()), name: name)
    }

    private static func percentDecoded(_ s: String) -> String {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
               let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Opens `dirs/name` below the vault directory, refusing links at every step, and stores
    /// it compressed. nil when there is no usable file.
    private func adoptFile(_ dirs: [String], _ name: String, stem: String, compressor: ZstdCompressor) throws -> ArtefactInfo? {
        var dfd = dup(directoryFD)
        guard dfd >= 0 else { throw SpikeVaultError.errno(errno, "dup of the vault directory") }
        defer { Posix.close(dfd) }
        for d in dirs {
            let next = openat(dfd, d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { return nil }
            Posix.close(dfd)
            dfd = next
        }
        guard let fd = try? Posix.openRegularFile(at: dfd, name, what: "seed profile \(name)", ownedBy: geteuid()) else { return nil }
        defer { Posix.close(fd) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try Posix.read(fd, into: $0.baseAddress!, count: $0.count, "reading seed profile \(name)") }
            if n == 0 { break }
            content.append(contentsOf: buffer[0..<n])
            if Int64(content.count) > options.maxArtefactBytes { return nil }
        }
        guard !content.isEmpty else { return nil }
        var ext = ""
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            ext = String(name[name.index(after: dot)...].lowercased().filter { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") }.prefix(16))
        }
        let kind = ext.isEmpty ? "seed" : "seed.\(ext)"
        let temp = try artefacts.createTemp()
        var done = false
        defer {
            Posix.close(temp.fd)
            if !done { artefacts.discard(temp.name) }
        }
        let result = try compressor.compress(.bytes(content), to: temp.fd)
        if options.durability != .off { try Posix.fsync(temp.fd, "syncing adopted artefact") }
        let stored = try artefacts.publish(temp.name, stem: stem, suffix: "\(kind).zst")
        done = true
        published.append(stored)
        return ArtefactInfo(kind: kind, path: stored, rawBytes: result.rawBytes, storedBytes: result.storedBytes,
                            checksum: result.checksum)
    }
}
