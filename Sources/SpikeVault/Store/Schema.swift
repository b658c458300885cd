/// The database schema and its forward migrations, versioned by `PRAGMA user_version`.
///
/// Since version 3, `capturedAt` is TEXT in one form, `YYYY-MM-DD HH:MM:SS.SSSZ` (UTC, see
/// `Timestamp.sqlText`). Triggers normalise whatever a raw INSERT or UPDATE gives
/// (`CURRENT_TIMESTAMP`, `2026-11-27 14:25:12`, ISO 8601 with `T` or an offset, `'now'`) to
/// that form and refuse anything else: numbers (SQLite would read them as Julian days, and a
/// TEXT column turns them into text), times without a date, unparseable text. So the seed design's own statements
/// (`ORDER BY capturedAt`, `capturedAt < datetime('now','-3 days')`) compare instants.
/// Versions 1 and 2 stored INTEGER milliseconds; migration 3 converts them.
enum Schema {
    /// SQL for "now" in milliseconds (migrations 1-2 only); SQLite 3.40 has no `unixepoch('subsec')`.
    static let nowMilliseconds = "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"
    /// The stored time format, as strftime spells it.
    static let timeFormat = "'%Y-%m-%d %H:%M:%fZ'"

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
        // 3: the seed contract (#13): text times, the seed's index names, nullable notes (read
        // as {}), and artefact rows removed with their capture even on a connection without
        // foreign keys (the seed's retention DELETE from the sqlite3 shell). Rebuilds the
        // table; runs with foreign keys off (see migrate) so the rebuild cascades nothing.
        """
        CREATE TABLE profile_capture_v3 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            processName TEXT NOT NULL,
            pid INTEGER NOT NULL CHECK (pid > 0),
            triggerMetric TEXT NOT NULL
                CHECK (triggerMetric IN ('cpu','memory','diskIO','network','threads','fds')),
            triggerValue REAL NOT NULL,
            capturedAt TEXT NOT NULL DEFAULT (strftime(\(timeFormat), 'now')),
            profilePath TEXT,
            durationSeconds REAL NOT NULL DEFAULT 0 CHECK (durationSeconds >= 0),
            notes TEXT DEFAULT '{}' CHECK (notes IS NULL OR CASE WHEN json_valid(notes) THEN json_type(notes) = 'object' ELSE 0 END),
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete','partial','failed','missing','quarantined')),
            processStartTime INTEGER,
            rawBytes INTEGER NOT NULL DEFAULT 0,
            storedBytes INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO profile_capture_v3 (id, processName, pid, triggerMetric, triggerValue, capturedAt, profilePath,
            durationSeconds, notes, status, processStartTime, rawBytes, storedBytes)
        SELECT id, processName, pid, triggerMetric, triggerValue,
            strftime(\(timeFormat), capturedAt / 1000.0, 'unixepoch'), profilePath, durationSeconds, notes, status,
            processStartTime, rawBytes, storedBytes
        FROM profile_capture;
        UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'profile_capture'), 0))
        WHERE name = 'profile_capture_v3';
        DROP TABLE profile_capture;
        ALTER TABLE profile_capture_v3 RENAME TO profile_capture;
        CREATE INDEX idx_profile_capture_time ON profile_capture(capturedAt);
        CREATE INDEX idx_profile_capture_pid_time ON profile_capture(pid, capturedAt DESC);
        CREATE INDEX idx_profile_capture_metric_capturedAt ON profile_capture(triggerMetric, capturedAt);
        CREATE INDEX idx_profile_capture_triggerValue ON profile_capture(triggerValue);
        CREATE TRIGGER profile_capture_time_insert AFTER INSERT ON profile_capture
        WHEN NEW.capturedAt IS NOT strftime(\(timeFormat), julianday(NEW.capturedAt)) OR NEW.notes IS NULL
        BEGIN
            SELECT RAISE(ABORT, 'capturedAt must be a date and time as text, e.g. 2026-11-27 14:35:12.123Z')
            WHERE typeof(NEW.capturedAt) != 'text'
                OR NOT (NEW.capturedAt GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' OR NEW.capturedAt = 'now')
                OR coalesce(strftime(\(timeFormat), julianday(NEW.capturedAt)), '') NOT GLOB '[0-9][0-9][0-9][0-9]-*';
            UPDATE profile_capture SET capturedAt = strftime(\(timeFormat), julianday(NEW.capturedAt)),
                notes = coalesce(NEW.notes, '{}') WHERE id = NEW.id;
        END;
        CREATE TRIGGER profile_capture_time_update AFTER UPDATE OF capturedAt, notes ON profile_capture
        WHEN NEW.capturedAt IS NOT strftime(\(timeFormat), julianday(NEW.capturedAt)) OR NEW.notes IS NULL
        BEGIN
            SELECT RAISE(ABORT, 'capturedAt must be a date and time as text, e.g. 2026-11-27 14:35:12.123Z')
            WHERE typeof(NEW.capturedAt) != 'text'
                OR NOT (NEW.capturedAt GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' OR NEW.capturedAt = 'now')
                OR coalesce(strftime(\(timeFormat), julianday(NEW.capturedAt)), '') NOT GLOB '[0-9][0-9][0-9][0-9]-*';
            UPDATE profile_capture SET capturedAt = strftime(\(timeFormat), julianday(NEW.capturedAt)),
                notes = coalesce(NEW.notes, '{}') WHERE id = NEW.id;
        END;
        CREATE TRIGGER profile_capture_artefacts_go_along AFTER DELETE ON profile_capture
        BEGIN
            DELETE FROM capture_artefact WHERE captureId = OLD.id;
        END;
        """,
        // 4: the footprint's running total (#19). Each artefact row carries the bytes its file
        // allocates (st_blocks * 512, measured by the saver); triggers keep their sum in the
        // one-row table vault_footprint inside the same transaction as the insert or delete,
        // so after-save enforcement reads one row instead of stat'ing every file, and saves
        // of other processes are counted too. Rows from before (or from raw SQL, default 0)
        // start from an estimate; maintenance's full measure accounts for the difference.
        """
        ALTER TABLE capture_artefact ADD COLUMN allocatedBytes INTEGER NOT NULL DEFAULT 0;
        UPDATE capture_artefact SET allocatedBytes = ((storedBytes + 4095) / 4096) * 4096;
        CREATE TABLE vault_footprint (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            artefactBytes INTEGER NOT NULL
        );
        INSERT INTO vault_footprint (id, artefactBytes) SELECT 1, coalesce(sum(allocatedBytes), 0) FROM capture_artefact;
        CREATE TRIGGER capture_artefact_footprint_insert AFTER INSERT ON capture_artefact
        WHEN NEW.allocatedBytes != 0
        BEGIN
            UPDATE vault_footprint SET artefactBytes = artefactBytes + NEW.allocatedBytes WHERE id = 1;
        END;
        CREATE TRIGGER capture_artefact_footprint_delete AFTER DELETE ON capture_artefact
        WHEN OLD.allocatedBytes != 0
        BEGIN
            UPDATE vault_footprint SET artefactBytes = artefactBytes - OLD.allocatedBytes WHERE id = 1;
        END;
        CREATE TRIGGER capture_artefact_footprint_update AFTER UPDATE OF allocatedBytes ON capture_artefact
        BEGIN
            UPDATE vault_footprint SET artefactBytes = artefactBytes - OLD.allocatedBytes + NEW.allocatedBytes WHERE id = 1;
        END;
        """,
        // 5: the host a
        // capture was taken on (docs/fleet.md, "Host identity"), NULL for older rows, and the
        // watermarks of incremental exports (one row per export target).
        """
        ALTER TABLE profile_capture ADD COLUMN host TEXT;
        ALTER TABLE profile_capture ADD COLUMN machineId TEXT;
        CREATE TABLE export_watermark (
            target TEXT PRIMARY KEY,
            lastId INTEGER NOT NULL,
            exportedAt TEXT NOT NULL
        );
        """,
    ]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Applies every migration newer than the database, each in its own transaction.
    /// A database from a newer SpikeVault is refused rather than guessed at.
    /// A database made by the seed design's SQL (user_version 0 with a `profile_capture`
    /// table) is adopted by `adoptSeed` in one transaction instead. Foreign keys are off
    /// while migrating (a pragma that cannot change inside a transaction) so that rebuilding
    /// `profile_capture` does not cascade into `capture_artefact`; each transaction checks
    /// them before it commits.
    static func migrate(_ db: Database, adoptSeed: ((Database) throws -> Void)? = nil) throws {
        let version = try db.scalarInt("PRAGMA user_version")
        if version > currentVersion {
            throw SpikeVaultError(.unsupported,
                                  "database schema version \(version) is newer than this library's \(currentVersion)")
        }
        guard version < currentVersion else { return }
        try db.execute("PRAGMA foreign_keys = OFF")
        defer { try? db.execute("PRAGMA foreign_keys = ON") }
        if version == 0, let adoptSeed, try isSeedDatabase(db) {
            try db.writeTransaction {
                guard try db.scalarInt("PRAGMA user_version") == 0 else { return }
                try adoptSeed(db)
                try checkForeignKeys(db)
            }
        }
        for index in Int(version)..<migrations.count {
            try db.writeTransaction {
                // Another process may have migrated while we waited for the write lock.
                guard try db.scalarInt("PRAGMA user_version") == Int64(index) else { return }
                try db.execute(migrations[index])
                try checkForeignKeys(db)
                try db.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }

    /// True for a database at user_version 0 that already has a `profile_capture` table.
    static func isSeedDatabase(_ db: Database) throws -> Bool {
        try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'profile_capture'") > 0
            && db.scalarInt("PRAGMA user_version") == 0
    }

    private static func checkForeignKeys(_ db: Database) throws {
        if try db.scalarText("PRAGMA foreign_key_check") != nil {
            throw SpikeVaultError(.corrupt, "migration left capture_artefact rows without their capture; nothing was changed")
        }
    }

    /// Every migration's SQL up to the current version, run on an empty database.
    static func createAll(_ db: Database) throws {
        for m in migrations { try db.execute(m) }
        try db.execute("PRAGMA user_version = \(migrations.count)")
    }
}
