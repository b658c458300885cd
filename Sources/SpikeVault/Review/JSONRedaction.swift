/// Redaction of every string value inside a JSON document (keys are kept). An array of
/// strings is redacted as an argument vector (so `["--token", "x"]` masks `x`); a value under
/// a secret-ish member name is masked; any other string is redacted as free text.
///
/// Strict JSON is read by `JSONLeaves` (no SQL per document: exports do this per row); any
/// other document SQLite accepts goes through JSON1 (`json_tree`, `json_set`), which then
/// decides. With `compact`, whitespace between tokens is dropped, so the document fits on one
/// NDJSON line whatever layout it was stored in.
enum JSONRedaction {
    /// One string value, as both readers see it.
    struct Leaf {
        var parent: Int64?
        var inArray: Bool
        var text: String
        var secretKey: Bool
    }

    static func redact(_ db: Database, _ json: String, _ r: Redactor, memo: RedactionMemo? = nil,
                       compact: Bool = false) throws -> String {
        try redact(json, r, memo: memo, compact: compact, sqlite: { try $0(db) })
    }

    /// A way to run a body on a database connection, only asked for when a document needs
    /// SQLite's reader (so an export's formatting thread holds no lock on the common path).
    typealias SQLiteAccess = (_ body: (Database) throws -> String) throws -> String

    static func redact(_ json: String, _ r: Redactor, memo: RedactionMemo? = nil, compact: Bool = false,
                       sqlite: SQLiteAccess) throws -> String {
        if !compact && (!r.enabled || json.utf8.count <= 2) { return json }
        if let out = viaJSONLeaves(json, r, memo, compact: compact) { return out }
        return try sqlite { db in
            let redacted = r.enabled ? try viaJSONTree(db, json, r, memo) : json
            return compact ? try minified(db, redacted) : redacted
        }
    }

    /// The replacement text of each leaf that redaction changes, by leaf index. Consecutive
    /// leaves of one array form one argument vector (json_tree's grouping: a string in a nested
    /// container ends the run).
    static func changes(_ leaves: [Leaf], _ r: Redactor, _ memo: RedactionMemo?) -> [Int: String] {
        var out: [Int: String] = [:]
        var i = 0
        while i < leaves.count {
            let leaf = leaves[i]
            if leaf.inArray {
                var j = i
                while j < leaves.count && leaves[j].parent == leaf.parent { j += 1 }
                let args = leaves[i..<j].map(\.text)
                let red = memo?.arguments(args, r) ?? r.redact(arguments: args)
                for k in 0..<args.count where red[k] != args[k] { out[i + k] = red[k] }
                i = j
            } else {
                let red = leaf.secretKey && !leaf.text.isEmpty ? Redactor.mask : (memo?.text(leaf.text, r) ?? r.redact(text: leaf.text))
                if red != leaf.text { out[i] = red }
                i += 1
            }
        }
        return out
    }

    /// The strict reader's answer; nil when `json` is not strict RFC 8259 (see `JSONLeaves`).
    static func viaJSONLeaves(_ json: String, _ r: Redactor, _ memo: RedactionMemo?, compact: Bool) -> String? {
        var source = json
        return source.withUTF8 { native($0, json, r, memo, compact) }
    }

    private static func native(_ bytes: UnsafeBufferPointer<UInt8>, _ json: String, _ r: Redactor, _ memo: RedactionMemo?,
                               _ compact: Bool) -> String? {
        guard let doc = JSONLeaves(bytes) else { return nil }
        var replacements: [Int: String] = [:]
        if r.enabled {
            let leaves = doc.leaves.map { l in
                // `{"password": "x"}`: a value under a secret-ish key is a secret whatever it looks like.
                Leaf(parent: Int64(l.parent), inArray: l.parent >= 0 && doc.containerIsArray[l.parent], text: l.text,
                     secretKey: l.key.map { memo?.isSecretName($0) ?? Redactor.isSecretName(Substring($0)) } ?? false)
            }
            replacements = changes(leaves, r, memo)
        }
        if replacements.isEmpty && !(compact && doc.hasWhitespace) { return json }
        return String(decoding: JSONLeaves.rewrite(bytes, doc.leaves, replacements: replacements, compact: compact), as: UTF8.self)
    }

    static func minified(_ db: Database, _ json: String) throws -> String {
        let st = try db.statement("SELECT json(?1)")
        defer { st.reset() }
        st.bind(1, json)
        guard try st.step(), let text = st.text(0) else { return json }
        return text
    }

    /// The JSON1 path, for documents outside strict RFC 8259 (SQLite reads more leniently).
    static func viaJSONTree(_ db: Database, _ json: String, _ r: Redactor, _ memo: RedactionMemo?) throws -> String {
        let st = try db.statement("SELECT id, parent, type, fullkey, atom, key FROM json_tree(?1)")
        st.bind(1, json)
        var types: [Int64: String] = [:]
        var rows: [(parent: Int64?, path: String, text: String, key: String?)] = []
        while try st.step() {
            let id = st.int64(0)
            let type = st.text(2) ?? ""
            types[id] = type
            if type == "text" {
                rows.append((st.isNull(1) ? nil : st.int64(1), st.text(3) ?? "$", st.text(4) ?? "", st.text(5)))
            }
        }
        st.reset()
        let leaves = rows.map { row in
            let inArray = row.parent.map { types[$0] == "array" } ?? false
            return Leaf(parent: row.parent, inArray: inArray, text: row.text,
                        secretKey: !inArray && (row.key.map { Redactor.isSecretName(Substring($0)) } ?? false))
        }
        let found = changes(leaves, r, memo)
        if found.isEmpty { return json }
        let list = found.keys.sorted().map { (leaf: $0, path: rows[$0].path, text: found[$0]!) }
        if let text = rewrite(json, leaves: leaves.count, list) { return text }
        return try viaJSONSet(db, json, list)
    }

    /// One linear pass over the text: json_tree lists string values in document order, so the
    /// n-th string literal that is not an object key is leaf n. nil if the count disagrees
    /// (input SQLite parsed more leniently than this scan); the caller then uses json_set.
    private static func rewrite(_ json: String, leaves: Int, _ changes: [(leaf: Int, path: String, text: String)]) -> String? {
        var replacement: [Int: String] = [:]
        for c in changes { replacement[c.leaf] = c.text }
        let src = Array(json.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(src.count)
        var i = 0, leaf = 0
        while i < src.count {
            guard src[i] == 0x22 else { out.append(src[i]); i += 1; continue }
            let end = src.withUnsafeBufferPointer { JSONLeaves.literalEnd($0, from: i) }
            var k = end
            while k < src.count && (src[k] == 0x20 || src[k] == 0x09 || src[k] == 0x0A || src[k] == 0x0D) { k += 1 }
            let isKey = k < src.count && src[k] == 0x3A
            if !isKey, let text = replacement[leaf] { JSONWriter.appendQuoted(text, to: &out) } else { out += src[i..<end] }
            if !isKey { leaf += 1 }
            i = end
        }
        return leaf == leaves ? String(decoding: out, as: UTF8.self) : nil
    }

    /// json_set in batches: re-parses the document per batch (quadratic on huge documents).
    private static func viaJSONSet(_ db: Database, _ json: String, _ changes: [(leaf: Int, path: String, text: String)]) throws -> String {
        var out = json
        // json_set takes at most SQLITE_MAX_FUNCTION_ARG (127 by default) arguments: batches.
        var start = 0
        while start < changes.count {
            let batch = changes[start..<min(changes.count, start + 60)]
            var args = ""
            for k in 0..<batch.count { args += ", ?\(2 * k + 2), ?\(2 * k + 3)" }
            let set = try db.statement("SELECT json_set(?1\(args))")
            set.bind(1, out)
            for (k, c) in batch.enumerated() {
                set.bind(Int32(2 * k + 2), c.path)
                set.bind(Int32(2 * k + 3), c.text)
            }
            guard try set.step(), let t = set.text(0) else {
                set.reset()
                throw SpikeVaultError(.internalError, "could not rewrite JSON while redacting")
            }
            set.reset()
            out = t
            start += batch.count
        }
        return out
    }
}
