import CSQLite

/// A single SQLite connection with a statement cache. Not thread-safe by itself: the vault
/// serialises access with its lock.
final class Database: @unchecked Sendable {  // only used under the vault lock
    private(set) var handle: OpaquePointer?
    private var cache: [String: Statement] = [:]
    let path: String

    /// SQLite's destructor constant that makes it copy bound text before the call returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String, busyTimeoutMs: Int32) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw Database.error(rc, "opening database \(path): \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMs)
    }

    deinit { close() }

    /// Forgets the connection without closing it: for a child after fork(), where SQLite's
    /// close could act on the parent's files. The memory is leaked on purpose.
    func abandon() {
        cache.removeAll()
        handle = nil
    }

    func close() {
        for statement in cache.values { statement.finalize() }
        cache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Maps an SQLite result code to a status; `SQLITE_FULL` and friends become `.noSpace`.
    static func error(_ rc: Int32, _ message: String) -> SpikeVaultError {
        switch rc & 0xff {
        case SQLITE_FULL: return SpikeVaultError(.noSpace, message)
        case SQLITE_BUSY, SQLITE_LOCKED: return SpikeVaultError(.busy, message)
        case SQLITE_CORRUPT, SQLITE_NOTADB: return SpikeVaultError(.corrupt, message)
        case SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH: return SpikeVaultError(.permission, message)
        case SQLITE_CANTOPEN: return SpikeVaultError(.permission, message)
        case SQLITE_NOMEM: return SpikeVaultError(.noMemory, message)
        case SQLITE_IOERR: return SpikeVaultError(.io, message)
        default: return SpikeVaultError(.database, message)
        }
    }

    func lastError(_ rc: Int32, _ what: String) -> SpikeVaultError {
        let detail = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed"
        return classified(rc, "\(what): \(detail)")
    }

    /// Like `Database.error`, but an I/O error that the OS reported as ENOSPC (the shm file or
    /// WAL could not grow; SQLite says only "disk I/O error") is `.noSpace` too.
    private func classified(_ rc: Int32, _ message: String) -> SpikeVaultError {
        let code = rc & 0xff
        if (code == SQLITE_IOERR || code == SQLITE_FULL), let handle, sqlite3_system_errno(handle) == ENOSPC {
            return SpikeVaultError(.noSpace, "\(message) (No space left on device)")
        }
        return Database.error(rc, message)
    }

    func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let detail = err.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(err)
            throw classified(rc, "\(detail) (in: \(sql.prefix(80)))")
        }
    }

    /// A cached prepared statement, reset and with its bindings cleared.
    func statement(_ sql: String) throws -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw lastError(rc, "preparing statement") }
        let statement = Statement(stmt, database: self)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    /// The transaction statements are prepared once (cached), not parsed on every save.
    func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try statement("BEGIN IMMEDIATE").run()
        do {
            let result = try body()
            try statement("COMMIT").run()
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? statement("ROLLBACK").run() }
            throw error
        }
    }

    /// Runs `body` inside one read transaction (`BEGIN … COMMIT`), so its statements see one
    /// snapshot; inside a transaction already, just runs it.
    func readTransaction<T>(_ body: () throws -> T) throws -> T {
        guard sqlite3_get_autocommit(handle) != 0 else { return try body() }
        try statement("BEGIN").run()
        defer { if sqlite3_get_autocommit(handle) == 0 { try? statement("COMMIT").run() } }
        return try body()
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    var changes: Int64 { Int64(sqlite3_changes(handle)) }

    /// Runs a query returning one integer (e.g. a PRAGMA).
    func scalarInt(_ sql: String) throws -> Int64 {
        let st = try statement(sql)
        defer { st.reset() }
        guard try st.step() else { return 0 }
        return st.int64(0)
    }

    /// Runs a query returning one text value (e.g. `PRAGMA journal_mode`).
    func scalarText(_ sql: String) throws -> String? {
        let st = try statement(sql)
        defer { st.reset() }
        guard try st.step() else { return nil }
        return st.text(0)
    }
}

/// A prepared statement with typed bind and column helpers (indices as SQLite counts them).
final class Statement {
    private var stmt: OpaquePointer?
    private unowned let database: Database

    init(_ stmt: OpaquePointer, database: Database) {
        self.stmt = stmt
        self.database = database
    }

    func finalize() { sqlite3_finalize(stmt); stmt = nil }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(stmt, index, value) } else { sqlite3_bind_null(stmt, index) }
    }

    func bind(_ index: Int32, _ value: Double) { sqlite3_bind_double(stmt, index, value) }

    func bind(_ index: Int32, _ value: String?) {
        guard let value else { sqlite3_bind_null(stmt, index); return }
        sqlite3_bind_text(stmt, index, value, -1, Database.transient)
    }

    /// Binds a time in the stored text form, clamped (see `Timestamp.sqlBound`).
    func bind(_ index: Int32, _ value: Timestamp) { bind(index, value.sqlBound) }

    /// The column as a stored time; `.corrupt` if it is not in the stored form.
    func timestamp(_ column: Int32) throws -> Timestamp {
        let t = text(column) ?? ""
        guard let ts = Timestamp(sqlText: t) else {
            throw SpikeVaultError(.corrupt, "capturedAt '\(t.prefix(40))' is not a stored time (YYYY-MM-DD HH:MM:SS.SSSZ)")
        }
        return ts
    }

    /// Steps once: true when a row is available, false when done.
    func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let error = database.lastError(rc, "executing statement")
        sqlite3_reset(stmt)
        throw error
    }

    /// Steps to completion, for statements that return no rows.
    func run() throws { while try step() {} ; sqlite3_reset(stmt) }

    /// The column's text bytes in place (valid until the next step or reset), nil for NULL.
    func textBytes(_ column: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard let p = sqlite3_column_text(stmt, column) else { return nil }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, column)))
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(stmt, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_NULL }
    /// The column's text, read by its byte length: an embedded NUL is kept (and so caught by
    /// validation) instead of silently cutting the string short.
    func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(stmt, column) else { return nil }
        let n = Int(sqlite3_column_bytes(stmt, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
}
