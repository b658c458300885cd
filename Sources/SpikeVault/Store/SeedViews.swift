/// Small helpers behind the seed design's Swift API (SpikeVaultAsync/SeedAPI.swift): its
/// `notes: [String: String]?` view and the schema check of `migrateIfNeeded()`.
extension Vault {
    /// The notes object as the seed's `[String: String]`: string members as they are, every
    /// other member (number, bool, null, object, array) as its JSON text. The JSON stays the
    /// record of truth (`ProfileRecord.notes`); this is a lossy view for seed-shaped hosts.
    public func stringNotes(_ notes: String) throws -> [String: String] {
        try withScratch { db in
            let st = try db.statement("""
                SELECT key, CASE type WHEN 'text' THEN value WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
                    WHEN 'null' THEN 'null' WHEN 'object' THEN value WHEN 'array' THEN value ELSE CAST(value AS TEXT) END
                FROM json_each(CASE WHEN json_valid(?1) AND json_type(?1) = 'object' THEN ?1 ELSE '{}' END)
                """)
            st.bind(1, notes)
            defer { st.reset() }
            var out: [String: String] = [:]
            while try st.step() { if let k = st.text(0) { out[k] = st.text(1) ?? "" } }
            return out
        }
    }

    /// `PRAGMA user_version` of the open database.
    public func schemaVersion() throws -> Int64 { try withDatabase { db in try db.scalarInt("PRAGMA user_version") } }

    /// The schema version this library writes (a newer database is refused at open).
    public static var currentSchemaVersion: Int64 { Schema.currentVersion }

    /// JSON object text of string pairs (the seed's notes), keys sorted.
    public static func notesJSON(_ pairs: [String: String]) -> String {
        var w = JSONWriter()
        w.beginObject()
        for k in pairs.keys.sorted() { w.field(k, pairs[k]) }
        w.endObject()
        return w.takeText()
    }
}
