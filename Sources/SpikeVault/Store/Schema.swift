/// The database schema and its forward migrations, versioned by `PRAGMA user_version`.
///
/// Times are INTEGER milliseconds since the Unix epoch (UTC). A row inserted without a time
/// gets the current time in that form; one inserted with the seed's text form
/// (`CURRENT_TIMESTAMP`, `YYYY-MM-DD HH:MM:SS`) is converted by a trigger, so comparisons
/// on `capturedAt` are always between integers.
enum Schema {
    /// SQL for "now" in milliseconds; SQLite 3.40 has no `unixepoch('subsec')`.
    static let nowMilliseconds = "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"

    /// Migration n (1-based) brings user_version from n-1 to n. Append only.
    static let migrations: [String] = [
        """
        CREATE TABLE profile_capture (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            processName TEXT NOT NULL,
            pid INTEGER NOT NULL CHECK (pid > 0),
            triggerMetric TEXT NOT NULL
                CHECK (triggerMetric IN ('cpu','memory','diskIO','network','threads','fds')),
            triggerValue REAL NOT NULL,
            capturedAt INTEGER NOT NULL DEFAULT (\(nowMilliseconds)),
            profilePath TEXT,
            durationSeconds REAL NOT NULL DEFAULT 0 CHECK (durationSeconds >= 0),
            notes TEXT NOT NULL DEFAULT '{}' CHECK (CASE WHEN json_valid(notes) THEN json_type(notes) = 'object' ELSE 0 END),
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete','partial','failed','missing','quarantined')),
            processStartTime INTEGER,
            rawBytes INTEGER NOT NULL DEFAULT 0,
            storedBytes INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX idx_profile_capture_capturedAt ON profile_capture(capturedAt);
        CREATE INDEX idx_profile_capture_pid_capturedAt ON profile_capture(pid, capturedAt DESC);
        CREATE TABLE capture_artefact (
            id INTEGER PRIMARY KEY,
            captureId INTEGER NOT NULL REFERENCES profile_capture(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE,
            rawBytes INTEGER NOT NULL,
            storedBytes INTEGER NOT NULL,
            checksum TEXT NOT NULL
        );
        CREATE INDEX idx_capture_artefact_captureId ON capture_artefact(captureId);
        CREATE TRIGGER profile_capture_text_time AFTER INSERT ON profile_capture
        WHEN typeof(NEW.capturedAt) = 'text'
        BEGIN
            SELECT RAISE(ABORT, 'capturedAt is not a recognisable time')
            WHERE julianday(NEW.capturedAt) IS NULL;
            UPDATE profile_capture
            SET capturedAt = CAST(round((julianday(NEW.capturedAt) - 2440587.5) * 86400000.0) AS INTEGER)
            WHERE id = NEW.id;
        END;
        """,
        // 2: review queries (docs/review.md): metric + time range, and ordering by value.
        """
        CREATE INDEX idx_profile_capture_metric_capturedAt ON profile_capture(triggerMetric, capturedAt);
        CREATE INDEX idx_profile_capture_triggerValue ON profile_capture(triggerValue);
        """,
    ]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Applies every migration newer than the database, each in its own transaction.
    /// A database from a newer SpikeVault is refused rather than guessed at.
    static func migrate(_ db: Database) throws {
        let version = try db.scalarInt("PRAGMA user_version")
        if version > currentVersion {
            throw SpikeVaultError(.unsupported,
                                  "database schema version \(version) is newer than this library's \(currentVersion)")
        }
        for index in Int(version)..<migrations.count {
            try db.writeTransaction {
                // Another process may have migrated while we waited for the write lock.
                guard try db.scalarInt("PRAGMA user_version") == Int64(index) else { return }
                try db.execute(migrations[index])
                try db.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }
}
