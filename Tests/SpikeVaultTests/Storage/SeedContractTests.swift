import Foundation
import Testing
@testable import SpikeVault

/// The seed design's SQL, verbatim in its shape: table, two indices, inserts, the recent
/// query and the retention DELETE (issue #13, item 1 and 2).
enum SeedSQL {
    static let create = """
        CREATE TABLE IF NOT EXISTS profile_capture (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            processName TEXT NOT NULL,
            pid INTEGER NOT NULL,
            triggerMetric TEXT NOT NULL,
            triggerValue REAL NOT NULL,
            capturedAt DATETIME DEFAULT CURRENT_TIMESTAMP,
            profilePath TEXT NOT NULL,
            durationSeconds INTEGER,
            notes TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_profile_capture_time ON profile_capture(capturedAt);
        CREATE INDEX IF NOT EXISTS idx_profile_capture_pid_time ON profile_capture(pid, capturedAt);
        """
    static let insert = """
        INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, profilePath, durationSeconds, notes)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        """
    static let insertAt = """
        INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt, profilePath, durationSeconds, notes)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
        """
    static let recent = "SELECT * FROM profile_capture ORDER BY capturedAt DESC LIMIT ?1"
    static let retention = "DELETE FROM profile_capture WHERE capturedAt < datetime('now', '-3 days')"
}

/// A plain connection, as the seed's app (or the sqlite3 shell) would have: no foreign keys.
private func seedConnection(_ path: String) throws -> Database {
    try Database(path: path, busyTimeoutMs: 5000)
}

private func insertSeed(_ db: Database, name: String, pid: Int64, path: String, notes: String?, at: String? = nil) throws {
    let st = try db.statement(at == nil ? SeedSQL.insert : SeedSQL.insertAt)
    var i: Int32 = 1
    func next() -> Int32 { defer { i += 1 }; return i }
    st.bind(next(), name)
    st.bind(next(), pid)
    st.bind(next(), "cpu")
    st.bind(next(), 91.5)
    if let at { st.bind(next(), at) }
    st.bind(next(), path)
    st.bind(next(), Int64(5))
    st.bind(next(), notes)
    try st.run()
}

/// One value from the vault's database through a plain connection.
private func scalar(_ path: String, _ sql: String) throws -> String? {
    let db = try seedConnection(path)
    defer { db.close() }
    return try db.scalarText(sql)
}

@Suite struct SeedContractTests {
    /// A database made by the seed's SQL, with rows inserted its way, opens as a vault with
    /// every row; files inside the vault become artefacts, outside ones are never opened.
    @Test func seedDatabaseIsAdoptedWithEveryRow() throws {
        let dir = TempDir()
        let vaultPath = dir.path + "/vault"
        #expect(mkdir(vaultPath, 0o700) == 0)
        #expect(mkdir(vaultPath + "/profiles", 0o700) == 0)
        let inside = vaultPath + "/profiles/app.folded"
        FileManager.default.createFile(atPath: inside, contents: Data("main;work 42\n".utf8))
        let outside = dir.file("outside.json", bytes(#"{"secret":"x"}"#))
        let dbPath = vaultPath + "/vault.sqlite3"
        do {
            let db = try seedConnection(dbPath)
            defer { db.close() }
            try db.execute(SeedSQL.create)
            try insertSeed(db, name: "adopted", pid: 10, path: inside, notes: #"{"reason":"cpu"}"#)
            try insertSeed(db, name: "url", pid: 11, path: "file://" + vaultPath.replacingOccurrences(of: " ", with: "%20") + "/profiles/app.folded", notes: nil)
            try insertSeed(db, name: "outside", pid: 12, path: outside, notes: nil, at: "2026-11-27 14:25:12")
            try insertSeed(db, name: "gone", pid: 13, path: vaultPath + "/profiles/gone.json", notes: "plain text", at: "2026-11-27T14:25:13Z")
            try insertSeed(db, name: "escape", pid: 14, path: "profiles/../../outside.json", notes: nil)
            try db.execute("INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt, profilePath) VALUES ('odd', 0, 'GPU', 1, 'not a time', 'x')")
        }
        let vault = try Vault(path: vaultPath, options: testOptions())
        defer { vault.close() }
        let all = try vault.query(RecordFilter(order: .timeAscending))
        #expect(all.count == 6)
        let by = Dictionary(uniqueKeysWithValues: all.map { ($0.processName, $0) })
        #expect(Set(all.map(\.id)) == Set(1...6))
        let adopted = try #require(by["adopted"])
        #expect(adopted.status == .complete && adopted.artefacts.map(\.kind) == ["seed.folded"])
        #expect(try vault.readArtefact(captureID: adopted.id) == bytes("main;work 42\n"))
        #expect(adopted.notes.contains(#""reason":"cpu""#) && adopted.notes.contains(#""adopted""#))
        #expect(by["url"]?.status == .complete)
        #expect(by["outside"]?.status == .quarantined && by["outside"]?.profilePath == nil)
        #expect(by["outside"]?.capturedAt.description == "2026-11-27 14:25:12.000Z")
        #expect(FileManager.default.contents(atPath: outside) == Data(#"{"secret":"x"}"#.utf8))
        #expect(by["gone"]?.status == .missing)
        #expect(by["gone"]?.notes.contains(#""seedNotes":"plain text""#) == true)
        #expect(by["gone"]?.capturedAt.description == "2026-11-27 14:25:13.000Z")
        #expect(by["escape"]?.status == .quarantined)
        let odd = try #require(by["odd"])
        #expect(odd.status == .quarantined && odd.pid == 1 && odd.notes.contains(#""triggerMetric":"GPU""#))
        #expect(odd.notes.contains(#""capturedAt":"not a time""#))
        #expect(try scalar(dbPath, "PRAGMA user_version") == String(Schema.currentVersion))
        // The original file inside the vault is left where it was (nothing outside artefacts/ is deleted).
        #expect(FileManager.default.fileExists(atPath: inside))
    }

    /// The seed's statements against a vault's database do what their author meant.
    @Test func seedStatementsBehaveOnAVault() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let dbPath = vault.path + "/vault.sqlite3"
        let saved = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("kept"))])
        let db = try seedConnection(dbPath)
        defer { db.close() }
        try db.execute(SeedSQL.create)  // IF NOT EXISTS: no-ops on a vault
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('idx_profile_capture_time', 'idx_profile_capture_pid_time')") == 2)
        try insertSeed(db, name: "now-notes", pid: 20, path: "p", notes: #"{"k":"v"}"#)
        try insertSeed(db, name: "now-null", pid: 21, path: "p", notes: nil)
        let texts = try (db.statement("SELECT datetime('now', '-3 days', '-1 hours'), datetime('now', '-3 days', '+1 hours'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-3 days', '-1 minutes'), datetime('now', '-10 days')"))
        #expect(try texts.step())
        let (older, younger, isoOlder, muchOlder) = (texts.text(0)!, texts.text(1)!, texts.text(2)!, texts.text(3)!)
        texts.reset()
        try insertSeed(db, name: "older", pid: 22, path: "p", notes: nil, at: older)
        try insertSeed(db, name: "younger", pid: 23, path: "p", notes: nil, at: younger)
        try insertSeed(db, name: "iso-older", pid: 24, path: "p", notes: nil, at: isoOlder)
        try insertSeed(db, name: "much-older", pid: 25, path: "p", notes: nil, at: muchOlder)
        // Every row has one time form and notes; the seed's recent query is newest first.
        #expect(try db.scalarInt("SELECT count(*) FROM profile_capture WHERE typeof(capturedAt) != 'text' OR length(capturedAt) != 24 OR notes IS NULL") == 0)
        let recent = try db.statement(SeedSQL.recent)
        recent.bind(1, Int64(3))
        var names: [String] = []
        while try recent.step() { names.append(recent.text(1) ?? "") }
        recent.reset()
        #expect(Set(names.prefix(3)) == ["burner", "now-notes", "now-null"])
        #expect(try vault.recent(limit: 10).count == 7)
        // The retention statement removes exactly the rows older than three days.
        try db.execute(SeedSQL.retention)
        #expect(db.changes == 3)
        #expect(Set(try vault.recent(limit: 10).map(\.processName)) == ["burner", "now-notes", "now-null", "younger"])
        #expect(try vault.readArtefact(captureID: saved.id) == bytes("kept"))
        #expect(try db.scalarInt("SELECT count(*) FROM capture_artefact WHERE captureId NOT IN (SELECT id FROM profile_capture)") == 0)
    }

    /// Times that are not times are refused; other spellings are normalised.
    @Test func badAndOtherTimeSpellings() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let base = "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt) VALUES ('t', 1, 'cpu', 1, "
        for bad in ["'yesterday'", "1795789512000", "17.5", "5", "NULL", "''", "'12:00'", "'2026-13-01 00:00:00'", "'0000-01-01 00:00:00+01:00'"] {
            expectError(.database) { _ = try rawSQL(vault, base + bad + ")") }
        }
        _ = try rawSQL(vault, base + "'2026-11-27T16:25:12.5+02:00')")
        #expect(try rawSQL(vault, "SELECT capturedAt FROM profile_capture").first?.first == "2026-11-27 14:25:12.500Z")
        expectError(.database) { _ = try rawSQL(vault, "UPDATE profile_capture SET capturedAt = 5") }
        _ = try rawSQL(vault, "UPDATE profile_capture SET capturedAt = '2026-11-28 00:00:00', notes = NULL")
        #expect(try rawSQL(vault, "SELECT capturedAt, notes FROM profile_capture").first == ["2026-11-28 00:00:00.000Z", "{}", nil, nil, nil, nil, nil, nil])
        expectError(.invalidArgument) { _ = try vault.save(sampleRecord(at: 253_402_300_800_000), artefacts: []) }
        expectError(.invalidArgument) { _ = try vault.save(sampleRecord(at: -62_167_219_200_001), artefacts: []) }
        #expect(Timestamp(sqlText: "2026-02-30 00:00:00.000Z") == nil)
        #expect(Timestamp(sqlText: "2026-11-27T14:25:12.123Z") == nil)
        for ms: Int64 in [0, -1, 1_795_789_512_123, Timestamp.minStorable.milliseconds, Timestamp.maxStorable.milliseconds, 951_782_400_000] {
            #expect(Timestamp(sqlText: Timestamp(milliseconds: ms).sqlText!)?.milliseconds == ms)
        }
        // Filters with bounds beyond what text can hold keep their meaning.
        #expect(try vault.count(RecordFilter(since: Timestamp(milliseconds: .min), until: Timestamp(milliseconds: .max))) == 1)
    }

    /// A version-2 vault (INTEGER milliseconds) migrates in place: every row, its exact time,
    /// its artefact rows (the rebuild cascades nothing) and the id sequence.
    @Test func olderVaultMigratesKeepingRowsAndArtefacts() throws {
        let dir = TempDir()
        let vaultPath = dir.path + "/vault"
        var made = try makeVault(dir)
        let kept = try made.save(sampleRecord(at: 1_795_789_512_123), artefacts: [NewArtefact(kind: "a", bytes: bytes("v2"))])
        made.close()
        // Rebuild the file as version 2 would have written it.
        try FileManager.default.removeItem(atPath: vaultPath + "/vault.sqlite3")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: vaultPath + "/vault.sqlite3" + suffix) }
        do {
            let db = try seedConnection(vaultPath + "/vault.sqlite3")
            defer { db.close() }
            for m in Schema.migrations.prefix(2) { try db.execute(m) }
            try db.execute("PRAGMA user_version = 2")
            try db.execute("""
                INSERT INTO profile_capture (id, processName, pid, triggerMetric, triggerValue, capturedAt, profilePath, notes)
                VALUES (\(kept.id), 'burner', 4242, 'cpu', 93.5, 1795789512123, '\(kept.artefacts[0].path)', '{}'),
                       (9, 'deleted-later', 1, 'cpu', 1, 1000, NULL, '{}');
                DELETE FROM profile_capture WHERE id = 9;
                INSERT INTO capture_artefact (captureId, kind, path, rawBytes, storedBytes, checksum)
                VALUES (\(kept.id), 'a', '\(kept.artefacts[0].path)', \(kept.artefacts[0].rawBytes), \(kept.artefacts[0].storedBytes), '\(kept.artefacts[0].checksum)');
                """)
        }
        made = try makeVault(dir)
        defer { made.close() }
        let r = try made.record(id: kept.id)
        #expect(r.capturedAt.milliseconds == 1_795_789_512_123 && r.artefacts.count == 1)
        #expect(try made.readArtefact(captureID: kept.id) == bytes("v2"))
        let next = try made.save(sampleRecord(), artefacts: [])
        #expect(next.id == 10)  // AUTOINCREMENT never reuses 9
        #expect(try rawSQL(made, "SELECT typeof(capturedAt) FROM profile_capture WHERE id = \(kept.id)").first?.first == "text")
    }
}
