/// The SQL of retention: choosing captures to purge, deleting or quarantining them, and the
/// table scans of reconciliation. Callers hold the vault's lock.
enum RetentionStore {
    /// One capture chosen for purge, with the distinct names of its files.
    struct Candidate {
        var id: Int64
        var capturedAt: Int64
        var files: [String]
    }

    /// Up to `limit` captures with `capturedAt <= cutoff`, oldest first (ties by id), never
    /// a quarantined one nor `excludingID`. Walks the `capturedAt` index.
    static func oldest(_ db: Database, cutoff: Timestamp = Timestamp(milliseconds: .max), excludingID: Int64 = 0, limit: Int) throws -> [Candidate] {
        let st = try db.statement("""
            SELECT c.id, c.capturedAt, c.profilePath, a.path
            FROM (SELECT id, capturedAt, profilePath FROM profile_capture
                  WHERE capturedAt <= ?1 AND status != 'quarantined' AND id != ?2
                  ORDER BY capturedAt, id LIMIT ?3) c
            LEFT JOIN capture_artefact a ON a.captureId = c.id
            ORDER BY c.capturedAt, c.id
            """)
        st.bind(1, cutoff)
        st.bind(2, excludingID)
        st.bind(3, Int64(limit))
        return try candidates(st)
    }

    /// The capture with `id` (quarantined or not) as a candidate, or nil if there is none.
    static func candidate(_ db: Database, id: Int64) throws -> Candidate? {
        let st = try db.statement("""
            SELECT c.id, c.capturedAt, c.profilePath, a.path
            FROM profile_capture c LEFT JOIN capture_artefact a ON a.captureId = c.id
            WHERE c.id = ?1
            """)
        st.bind(1, id)
        return try candidates(st).first
    }

    /// Groups rows of (id, capturedAt, profilePath, artefact path) into candidates.
    private static func candidates(_ st: Statement) throws -> [Candidate] {
        defer { st.reset() }
        var out: [Candidate] = []
        while try st.step() {
            let id = st.int64(0)
            if out.last?.id != id {
                out.append(Candidate(id: id, capturedAt: try st.timestamp(1).milliseconds, files: []))
                if let p = st.text(2) { out[out.count - 1].files.append(p) }
            }
            if let p = st.text(3), !out[out.count - 1].files.contains(p) { out[out.count - 1].files.append(p) }
        }
        return out
    }

    /// capturedAt of the oldest capture that automatic purge may touch, or nil.
    static func oldestPurgeable(_ db: Database) throws -> Int64? {
        let st = try db.statement("SELECT capturedAt FROM profile_capture WHERE status != 'quarantined' ORDER BY capturedAt, id LIMIT 1")
        defer { st.reset() }
        return try st.step() ? try st.timestamp(0).milliseconds : nil
    }

    /// Id of the newest capture (by capturedAt, then id), or 0.
    static func newestID(_ db: Database) throws -> Int64 {
        let st = try db.statement("SELECT id FROM profile_capture ORDER BY capturedAt DESC, id DESC LIMIT 1")
        defer { st.reset() }
        return try st.step() ? st.int64(0) : 0
    }

    /// Deletes one capture; its artefact rows go with it (ON DELETE CASCADE).
    static func delete(_ db: Database, id: Int64) throws {
        let st = try db.statement("DELETE FROM profile_capture WHERE id = ?1")
        st.bind(1, id)
        try st.run()
    }

    /// Sets the status of a capture unless it is already quarantined (quarantine is sticky).
    /// Returns whether the row changed.
    static func mark(_ db: Database, id: Int64, _ status: CaptureStatus, onlyFrom: [CaptureStatus]) throws -> Bool {
        let allowed = onlyFrom.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let st = try db.statement("UPDATE profile_capture SET status = ?2 WHERE id = ?1 AND status IN (\(allowed))")
        st.bind(1, id)
        st.bind(2, status.rawValue)
        try st.run()
        return db.changes > 0
    }

    /// Every capture with its status and file names, for reconciliation.
    static func allCaptures(_ db: Database, newest limit: Int64 = .max) throws -> [(id: Int64, status: String, files: [String])] {
        let st = try db.statement("""
            SELECT c.id, c.status, c.profilePath, a.path
            FROM (SELECT id, status, profilePath, capturedAt FROM profile_capture
                  ORDER BY capturedAt DESC, id DESC LIMIT ?1) c
            LEFT JOIN capture_artefact a ON a.captureId = c.id
            ORDER BY c.capturedAt DESC, c.id DESC
            """)
        st.bind(1, limit)
        defer { st.reset() }
        var out: [(id: Int64, status: String, files: [String])] = []
        while try st.step() {
            let id = st.int64(0)
            if out.last?.id != id {
                out.append((id, st.text(1) ?? "", []))
                if let p = st.text(2) { out[out.count - 1].files.append(p) }
            }
            if let p = st.text(3), !out[out.count - 1].files.contains(p) { out[out.count - 1].files.append(p) }
        }
        return out
    }

    /// Every file name any row references (artefact rows and `profilePath`).
    static func referencedNames(_ db: Database) throws -> Set<String> {
        let st = try db.statement("""
            SELECT path FROM capture_artefact
            UNION SELECT profilePath FROM profile_capture WHERE profilePath IS NOT NULL
            """)
        defer { st.reset() }
        var names = Set<String>()
        while try st.step() { if let p = st.text(0) { names.insert(p) } }
        return names
    }
}
