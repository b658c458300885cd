/// The SQL that reads and writes capture rows. Callers hold the vault's lock.
enum RecordStore {
    static let columns = """
        c.id, c.processName, c.pid, c.triggerMetric, c.triggerValue, c.capturedAt, c.profilePath,
        c.durationSeconds, c.notes, c.status, c.processStartTime,
        a.kind, a.path, a.rawBytes, a.storedBytes, a.checksum, c.host, c.machineId
        """

    static func isJSONObject(_ db: Database, _ text: String) throws -> Bool {
        let st = try db.statement("SELECT CASE WHEN json_valid(?1) THEN json_type(?1) = 'object' ELSE 0 END")
        st.bind(1, text)
        defer { st.reset() }
        return try st.step() && st.int64(0) == 1
    }

    /// Inserts the capture row and its artefact rows; the caller wraps this in a transaction.
    /// `allocated[i]`: bytes the file of artefact i allocates (the footprint's running total).
    static func insert(_ db: Database, _ r: ProfileRecord, allocated: [Int64] = []) throws -> Int64 {
        let st = try db.statement("""
            INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt,
                profilePath, durationSeconds, notes, status, processStartTime, rawBytes, storedBytes, host, machineId)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
            """)
        st.bind(1, r.processName)
        st.bind(2, Int64(r.pid))
        st.bind(3, r.triggerMetric.rawValue)
        st.bind(4, r.triggerValue)
        st.bind(5, r.capturedAt)
        st.bind(6, r.profilePath)
        st.bind(7, r.durationSeconds)
        st.bind(8, r.notes)
        st.bind(9, r.status.rawValue)
        st.bind(10, r.processStartTime)
        st.bind(11, r.rawBytes)
        st.bind(12, r.storedBytes)
        st.bind(13, r.host)
        st.bind(14, r.machineID)
        try st.run()
        let id = db.lastInsertRowID
        try insertArtefacts(db, captureId: id, r.artefacts, allocated: allocated)
        return id
    }

    /// Inserts artefact rows of capture `captureId` (saves and seed adoption).
    static func insertArtefacts(_ db: Database, captureId: Int64, _ artefacts: [ArtefactInfo], allocated: [Int64] = []) throws {
        let add = try db.statement("""
            INSERT INTO capture_artefact (captureId, kind, path, rawBytes, storedBytes, checksum, allocatedBytes)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """)
        for (i, a) in artefacts.enumerated() {
            add.reset()
            add.bind(1, captureId)
            add.bind(2, a.kind)
            add.bind(3, a.path)
            add.bind(4, a.rawBytes)
            add.bind(5, a.storedBytes)
            add.bind(6, a.checksum)
            add.bind(7, i < allocated.count ? allocated[i] : Footprint.estimatedAllocation(a.storedBytes))
            try add.run()
        }
    }

    /// The running total of the bytes the artefact files of all rows allocate (schema 4).
    static func artefactBytesTotal(_ db: Database) throws -> Int64 {
        try db.scalarInt("SELECT artefactBytes FROM vault_footprint WHERE id = 1")
    }

    static func record(_ db: Database, id: Int64) throws -> ProfileRecord? {
        let st = try db.statement("""
            SELECT \(columns) FROM profile_capture c LEFT JOIN capture_artefact a ON a.captureId = c.id
            WHERE c.id = ?1 ORDER BY a.id
            """)
        st.bind(1, id)
        return try collect(st).first
    }

    /// The newest `limit` captures, newest first (the seed's `fetchRecent(limit:)`).
    static func recent(_ db: Database, limit: Int64) throws -> [ProfileRecord] {
        let st = try db.statement(recentSQL)
        st.bind(1, limit)
        return try collect(st)
    }

    static let recentSQL = """
        SELECT \(columns)
        FROM (SELECT * FROM profile_capture ORDER BY capturedAt DESC, id DESC LIMIT ?1) c
        LEFT JOIN capture_artefact a ON a.captureId = c.id
        ORDER BY c.capturedAt DESC, c.id DESC, a.id
        """

    /// `recent` read into packed rows (PackedRecords), for the C cursor.
    static func recentRows(_ db: Database, limit: Int64) throws -> PackedRecords {
        let st = try db.statement(recentSQL)
        st.bind(1, limit)
        return try PackedRecords(st)
    }

    /// Deletes captures with `capturedAt < cutoff`; returns how many and the artefact file
    /// names they referenced (for the caller to remove after the commit).
    static func deleteOlderThan(_ db: Database, _ cutoff: Timestamp) throws -> (count: Int64, files: [String]) {
        let files = try fileNames(db, olderThan: cutoff)
        let del = try db.statement("DELETE FROM profile_capture WHERE capturedAt < ?1")
        del.bind(1, cutoff)
        try del.run()
        return (db.changes, files)
    }

    /// The file names of the captures older than `cutoff` (strictly): what `deleteOlderThan` unlinks.
    static func fileNames(_ db: Database, olderThan cutoff: Timestamp) throws -> [String] {
        let names = try db.statement("""
            SELECT a.path FROM capture_artefact a JOIN profile_capture c ON a.captureId = c.id
            WHERE c.capturedAt < ?1
            UNION SELECT profilePath FROM profile_capture WHERE capturedAt < ?1 AND profilePath IS NOT NULL
            """)
        names.bind(1, cutoff)
        defer { names.reset() }
        var files: [String] = []
        while try names.step() { if let p = names.text(0) { files.append(p) } }
        return files
    }

    /// The artefact row of a capture: the first one, or the one of `kind`.
    static func artefact(_ db: Database, captureID: Int64, kind: String?) throws -> ArtefactInfo? {
        let st = try db.statement("""
            SELECT kind, path, rawBytes, storedBytes, checksum FROM capture_artefact
            WHERE captureId = ?1 AND (?2 IS NULL OR kind = ?2) ORDER BY id LIMIT 1
            """)
        st.bind(1, captureID)
        st.bind(2, kind)
        defer { st.reset() }
        guard try st.step() else { return nil }
        return ArtefactInfo(kind: st.text(0) ?? "", path: st.text(1) ?? "", rawBytes: st.int64(2),
                            storedBytes: st.int64(3), checksum: st.text(4) ?? "")
    }

    static func exists(_ db: Database, id: Int64) throws -> Bool {
        let st = try db.statement("SELECT 1 FROM profile_capture WHERE id = ?1")
        st.bind(1, id)
        defer { st.reset() }
        return try st.step()
    }

    /// Folds joined rows (one per artefact, `columns`) into records, keeping the query's order.
    static func collect(_ st: Statement) throws -> [ProfileRecord] {
        defer { st.reset() }
        var records: [ProfileRecord] = []
        while try st.step() {
            if records.last?.id != st.int64(0) { records.append(try capture(st, hostColumn: 16)) }
            if !st.isNull(11) { records[records.count - 1].artefacts.append(artefact(st, from: 11)) }
        }
        return records
    }

    /// The capture columns alone, for a query without the artefact join (`captures`).
    static let captureColumns = """
        id, processName, pid, triggerMetric, triggerValue, capturedAt, profilePath,
        durationSeconds, notes, status, processStartTime, host, machineId
        """

    /// Records from rows of `captureColumns`, then their artefacts by a second query (a page
    /// read this way needs no sort of the joined rows). Run both in one read transaction.
    static func captures(_ db: Database, _ st: Statement) throws -> [ProfileRecord] {
        var records: [ProfileRecord] = []
        do {
            defer { st.reset() }
            while try st.step() { records.append(try capture(st, hostColumn: 11)) }
        }
        guard !records.isEmpty else { return records }
        var index: [Int64: Int] = [:]
        index.reserveCapacity(records.count)
        var ids = "["
        for (i, r) in records.enumerated() {
            index[r.id] = i
            if i > 0 { ids += "," }
            ids += String(r.id)
        }
        ids += "]"
        let a = try db.statement("""
            SELECT captureId, kind, path, rawBytes, storedBytes, checksum FROM capture_artefact
            WHERE captureId IN (SELECT value FROM json_each(?1)) ORDER BY captureId, id
            """)
        a.bind(1, ids)
        defer { a.reset() }
        while try a.step() {
            if let i = index[a.int64(0)] { records[i].artefacts.append(artefact(a, from: 1)) }
        }
        return records
    }

    private static func capture(_ st: Statement, hostColumn h: Int32) throws -> ProfileRecord {
        let id = st.int64(0)
        guard let metric = TriggerMetric(rawValue: st.text(3) ?? ""),
              let status = CaptureStatus(rawValue: st.text(9) ?? "")
        else { throw SpikeVaultError(.corrupt, "capture \(id) has an unknown metric or status") }
        return ProfileRecord(
            id: id, processName: st.text(1) ?? "", pid: Int32(truncatingIfNeeded: st.int64(2)),
            triggerMetric: metric, triggerValue: st.double(4),
            capturedAt: try st.timestamp(5), profilePath: st.text(6),
            durationSeconds: st.double(7), notes: st.text(8) ?? "{}", status: status,
            processStartTime: st.isNull(10) ? nil : st.int64(10),
            host: st.text(h), machineID: st.text(h + 1))
    }

    private static func artefact(_ st: Statement, from c: Int32) -> ArtefactInfo {
        ArtefactInfo(kind: st.text(c) ?? "", path: st.text(c + 1) ?? "", rawBytes: st.int64(c + 2),
                     storedBytes: st.int64(c + 3), checksum: st.text(c + 4) ?? "")
    }
}
