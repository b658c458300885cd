/// Which captures a review query selects: every field is optional and they combine with AND
/// (several metrics or statuses combine with OR among themselves).
///
/// - `process`: case-insensitive substring of the process name (ASCII letters fold).
/// - `processGlob`: shell-style glob over the whole name (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`/
///   `[^x]`), case-sensitive like SQLite's GLOB. An unmatched `[` is refused.
/// - `since` is inclusive, `until` exclusive (milliseconds since the Unix epoch, UTC).
/// - `minValue`/`maxValue` bound the trigger value, both inclusive.
/// - `order` and `limit` shape the result; `after` continues a previous page (keyset
///   pagination: pass the `RecordKey` of the last row seen, with the same order).
public struct RecordFilter: Sendable, Equatable {
    public var metrics: [TriggerMetric] = []
    public var process: String?
    public var processGlob: String?
    public var pid: Int32?
    public var since: Timestamp?
    public var until: Timestamp?
    public var minValue: Double?
    public var maxValue: Double?
    public var statuses: [CaptureStatus] = []
    public var order: RecordOrder = .timeDescending
    /// nil: no limit. 0 gives no rows.
    public var limit: Int?
    public var after: RecordKey?

    public init(metrics: [TriggerMetric] = [], process: String? = nil, processGlob: String? = nil,
                pid: Int32? = nil, since: Timestamp? = nil, until: Timestamp? = nil,
                minValue: Double? = nil, maxValue: Double? = nil, statuses: [CaptureStatus] = [],
                order: RecordOrder = .timeDescending, limit: Int? = nil, after: RecordKey? = nil) {
        self.metrics = metrics; self.process = process; self.processGlob = processGlob
        self.pid = pid; self.since = since; self.until = until
        self.minValue = minValue; self.maxValue = maxValue; self.statuses = statuses
        self.order = order; self.limit = limit; self.after = after
    }

    /// Throws `.invalidArgument` naming the first inconsistent field.
    public func validate() throws {
        func bad(_ m: String) -> SpikeVaultError { SpikeVaultError(.invalidArgument, m) }
        if let since, let until, until < since {
            throw bad("inverted time range: until (\(until)) is before since (\(since))")
        }
        if let minValue, !minValue.isFinite { throw bad("minValue must be finite") }
        if let maxValue, !maxValue.isFinite { throw bad("maxValue must be finite") }
        if let minValue, let maxValue, maxValue < minValue {
            throw bad("inverted value range: maxValue \(maxValue) is below minValue \(minValue)")
        }
        if let limit, limit < 0 { throw bad("limit must be >= 0, got \(limit)") }
        if let pid, pid <= 0 { throw bad("pid must be positive, got \(pid)") }
        if let process, process.utf8.contains(0) { throw bad("process pattern contains a NUL byte") }
        if let processGlob { try Glob.validate(processGlob) }
    }
}

/// Result order. Ties are broken by id in the same direction, so pages are stable.
public enum RecordOrder: String, Sendable, CaseIterable {
    case timeDescending = "time-desc"
    case timeAscending = "time-asc"
    case valueDescending = "value-desc"
    case valueAscending = "value-asc"

    var descending: Bool { self == .timeDescending || self == .valueDescending }
    var byValue: Bool { self == .valueDescending || self == .valueAscending }
}

/// The position of a row for keyset pagination. Its text form (`token`) is
/// `<capturedAt ms>:<16 hex digits of the trigger value's IEEE-754 bits>:<id>`, valid with
/// any order, so a host can build it from a row it already has.
public struct RecordKey: Sendable, Equatable {
    public var capturedAt: Int64
    public var triggerValue: Double
    public var id: Int64

    public init(capturedAt: Int64, triggerValue: Double, id: Int64) {
        self.capturedAt = capturedAt; self.triggerValue = triggerValue; self.id = id
    }

    public init(_ r: ProfileRecord) {
        self.init(capturedAt: r.capturedAt.milliseconds, triggerValue: r.triggerValue, id: r.id)
    }

    public var token: String {
        let hex = String(triggerValue.bitPattern, radix: 16)
        return "\(capturedAt):\(String(repeating: "0", count: 16 - hex.utf8.count) + hex):\(id)"
    }

    public init(token: String) throws {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let t = Int64(parts[0]), parts[1].utf8.count == 16,
              let bits = UInt64(parts[1], radix: 16), let id = Int64(parts[2]) else {
            throw SpikeVaultError(.invalidArgument,
                                  "'\(token.prefix(80))' is not a row key (expected <ms>:<16 hex digits>:<id>, from sv_cursor_key)")
        }
        self.init(capturedAt: t, triggerValue: Double(bitPattern: bits), id: id)
    }
}

/// SQL for a filter: a WHERE clause over `profile_capture` (no alias) and its bindings.
struct FilterSQL {
    enum Value { case int(Int64), double(Double), text(String) }
    var clauses: [String] = []
    var values: [Value] = []

    private mutating func add(_ clause: String, _ vs: Value...) {
        var c = clause
        for v in vs {
            values.append(v)
            // "?" placeholders become numbered ones in order.
            guard let r = c.range(ofText: "?#") else { break }
            c.replaceSubrange(r, with: "?\(values.count)")
        }
        clauses.append(c)
    }

    /// `withPaging`: include `after` (queries and exports); counts leave it out.
    /// `throughID`: only captures with `id <= throughID` (a cursor's snapshot bound).
    init(_ f: RecordFilter, withPaging: Bool, throughID: Int64? = nil) {
        if !f.metrics.isEmpty {
            var parts: [String] = []
            for m in f.metrics { values.append(.text(m.rawValue)); parts.append("?\(values.count)") }
            clauses.append("triggerMetric IN (\(parts.joined(separator: ",")))")
        }
        if !f.statuses.isEmpty {
            var parts: [String] = []
            for s in f.statuses { values.append(.text(s.rawValue)); parts.append("?\(values.count)") }
            clauses.append("status IN (\(parts.joined(separator: ",")))")
        }
        if let p = f.process, !p.isEmpty { add("instr(lower(processName), lower(?#)) > 0", .text(p)) }
        if let g = f.processGlob { add("processName GLOB ?#", .text(g)) }
        if let pid = f.pid { add("pid = ?#", .int(Int64(pid))) }
        if let s = f.since { add("capturedAt >= ?#", .text(s.sqlBound)) }
        if let u = f.until { add("capturedAt < ?#", .text(u.sqlBound)) }
        if let v = f.minValue { add("triggerValue >= ?#", .double(v)) }
        if let v = f.maxValue { add("triggerValue <= ?#", .double(v)) }
        if let throughID { add("id <= ?#", .int(throughID)) }
        if withPaging, let k = f.after {
            let op = f.order.descending ? "<" : ">"
            if f.order.byValue {
                add("(triggerValue, id) \(op) (?#, ?#)", .double(k.triggerValue), .int(k.id))
            } else {
                add("(capturedAt, id) \(op) (?#, ?#)", .text(Timestamp(milliseconds: k.capturedAt).sqlBound), .int(k.id))
            }
        }
    }

    var whereClause: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }

    static func orderBy(_ o: RecordOrder) -> String {
        let dir = o.descending ? "DESC" : "ASC"
        let col = o.byValue ? "triggerValue" : "capturedAt"
        return "\(col) \(dir), id \(dir)"
    }

    func bind(_ st: Statement) {
        for (i, v) in values.enumerated() {
            switch v {
            case .int(let x): st.bind(Int32(i + 1), x)
            case .double(let x): st.bind(Int32(i + 1), x)
            case .text(let x): st.bind(Int32(i + 1), x)
            }
        }
    }
}

/// Review queries against the store. Callers hold the vault's lock.
enum ReviewStore {
    static func query(_ db: Database, _ f: RecordFilter, throughID: Int64? = nil) throws -> [ProfileRecord] {
        let w = FilterSQL(f, withPaging: true, throughID: throughID)
        let limit = f.limit.map { " LIMIT \($0)" } ?? ""
        let st = try db.statement("""
            SELECT \(RecordStore.captureColumns) FROM profile_capture\(w.whereClause) ORDER BY \(FilterSQL.orderBy(f.order))\(limit)
            """)
        w.bind(st)
        return try db.readTransaction { try RecordStore.captures(db, st) }
    }

    static func count(_ db: Database, _ f: RecordFilter) throws -> Int64 {
        let w = FilterSQL(f, withPaging: false)
        let st = try db.statement("SELECT count(*) FROM profile_capture\(w.whereClause)")
        w.bind(st)
        defer { st.reset() }
        guard try st.step() else { return 0 }
        return st.int64(0)
    }

    /// `EXPLAIN QUERY PLAN` detail lines of the inner query of `f` (for tests).
    static func plan(_ db: Database, _ f: RecordFilter) throws -> [String] {
        let w = FilterSQL(f, withPaging: true)
        let limit = f.limit.map { " LIMIT \($0)" } ?? ""
        let st = try db.statement("EXPLAIN QUERY PLAN SELECT * FROM profile_capture\(w.whereClause) ORDER BY \(FilterSQL.orderBy(f.order))\(limit)")
        w.bind(st)
        defer { st.reset() }
        var out: [String] = []
        while try st.step() { out.append(st.text(3) ?? "") }
        return out
    }
}

extension Vault {
    /// The captures matching `filter`, in its order, at most `filter.limit`.
    public func query(_ filter: RecordFilter) throws -> [ProfileRecord] {
        try filter.validate()
        return try withDatabase { db in try ReviewStore.query(db, filter) }
    }

    /// How many captures match `filter` (ignoring its order, limit and `after`).
    public func count(_ filter: RecordFilter) throws -> Int64 {
        try filter.validate()
        return try withDatabase { db in try ReviewStore.count(db, filter) }
    }

    /// The query plan SQLite chose for `filter` (EXPLAIN QUERY PLAN detail column).
    public func queryPlan(_ filter: RecordFilter) throws -> [String] {
        try filter.validate()
        return try withDatabase { db in try ReviewStore.plan(db, filter) }
    }

    /// Calls `body` with successive pages of matching records (keyset pagination; the vault's
    /// lock is released between pages, so saves interleave). `filter.limit` caps the total.
    func forEachPage(_ filter: RecordFilter, pageSize: Int = 2000,
                     _ body: ([ProfileRecord]) throws -> Void) throws {
        try filter.validate()
        var f = filter
        var left = filter.limit
        while left.map({ $0 > 0 }) ?? true {
            f.limit = min(pageSize, left ?? pageSize)
            let page = try withDatabase { db in try ReviewStore.query(db, f) }
            if page.isEmpty { break }
            try body(page)
            left = left.map { $0 - page.count }
            if page.count < f.limit! { break }
            f.after = RecordKey(page[page.count - 1])
        }
    }
}
