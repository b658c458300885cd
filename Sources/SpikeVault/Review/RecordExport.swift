/// Export of capture metadata matching a filter: a JSON array, NDJSON or CSV (RFC 4180).
public enum ExportFormat: String, Sendable, CaseIterable {
    case json
    case ndjson
    case csv
}

/// How an export treats its destination and the data.
public struct ExportOptions: Sendable {
    /// Redaction rules; `.disabled` writes the stored text as it is.
    public var redactor: Redactor
    /// Replace an existing regular file at the destination (atomically). Default: refuse.
    public var overwrite: Bool

    public init(redactor: Redactor = Redactor(), overwrite: Bool = false) {
        self.redactor = redactor
        self.overwrite = overwrite
    }
}

/// One record ready to be written out: redacted strings and notes.
struct ExportRow {
    var record: ProfileRecord
    var processName: String
    var notes: String
    /// The machine ID leaves only unredacted (systemd calls it confidential); the host name
    /// always does: it is the fleet's key and the host application chose or allowed it.
    var machineID: String?
}

enum RecordRows {
    /// The CSV header; JSON objects use the same names (artefacts become an array of objects).
    static let csvColumns = ["id", "processName", "pid", "triggerMetric", "triggerValue", "capturedAt",
                             "capturedAtUTC", "durationSeconds", "status", "processStartTime", "profilePath",
                             "rawBytes", "storedBytes", "artefactKinds", "notes", "host", "machineId"]

    /// Redacts the record's text fields (`notes` through SQLite's JSON1, string values only).
    static func prepare(_ db: Database, _ records: [ProfileRecord], _ r: Redactor,
                        memo: RedactionMemo? = nil) throws -> [ExportRow] {
        try records.map { rec in
            ExportRow(record: rec, processName: r.enabled ? (memo?.text(rec.processName, r) ?? r.redact(text: rec.processName)) : rec.processName,
                      notes: try JSONRedaction.redact(db, rec.notes, r, memo: memo), machineID: r.enabled ? nil : rec.machineID)
        }
    }

    static func writeJSON(_ row: ExportRow, to w: inout JSONWriter) {
        let r = row.record
        w.beginObject()
        w.field("id", Int(r.id))
        w.field("processName", row.processName)
        w.field("pid", Int(r.pid))
        w.field("triggerMetric", r.triggerMetric.rawValue)
        w.field("triggerValue", r.triggerValue)
        w.field("capturedAt", r.capturedAt.description)
        w.field("capturedAtUTC", r.capturedAt.description)
        w.field("durationSeconds", r.durationSeconds)
        w.field("status", r.status.rawValue)
        w.field("processStartTime", r.processStartTime.map { Int($0) })
        w.field("profilePath", r.profilePath)
        w.field("rawBytes", Int(r.rawBytes))
        w.field("storedBytes", Int(r.storedBytes))
        w.field("host", r.host)
        w.field("machineId", row.machineID)
        w.key("artefacts")
        w.beginArray()
        for a in r.artefacts {
            w.beginObject()
            w.field("kind", a.kind)
            w.field("path", a.path)
            w.field("rawBytes", Int(a.rawBytes))
            w.field("storedBytes", Int(a.storedBytes))
            w.field("checksum", a.checksum)
            w.endObject()
        }
        w.endArray()
        w.key("notes")
        w.rawJSON(row.notes)
        w.endObject()
    }

    /// One CSV record (CRLF-terminated) appended as bytes: exports write 100,000s of rows, and
    /// building Swift Strings per field cost most of the export's time.
    static func appendCSVLine(_ row: ExportRow, to out: inout [UInt8]) {
        let r = row.record
        var w = JSONWriter()
        w.double(r.triggerValue)
        let value = w.takeText()
        w = JSONWriter()
        w.double(r.durationSeconds)
        let duration = w.takeText()
        let time = r.capturedAt.description
        let fields: [(String, Bool)] = [
            (String(r.id), false), (row.processName, true), (String(r.pid), false), (r.triggerMetric.rawValue, false),
            (value, false), (time, false), (time, false), (duration, false), (r.status.rawValue, false),
            (r.processStartTime.map { String($0) } ?? "", false), (r.profilePath ?? "", true), (String(r.rawBytes), false),
            (String(r.storedBytes), false), (r.artefacts.map(\.kind).joined(separator: ";"), true), (row.notes, true),
            (r.host ?? "", true), (row.machineID ?? "", true),
        ]
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(0x2C) }
            appendCSVField(f.0, formulaGuard: f.1, to: &out)
        }
        out += [13, 10]
    }

    /// `csvField(formulaGuard ? csvText(s) : s)`, appended as bytes.
    static func appendCSVField(_ text: String, formulaGuard: Bool, to out: inout [UInt8]) {
        var s = text
        s.withUTF8 { b in
            let guarded = formulaGuard && b.first.map { $0 == 0x3D || $0 == 0x2B || $0 == 0x2D || $0 == 0x40 || $0 == 9 || $0 == 13 } == true
            var needs = guarded || b.first == 0x27
            if !needs { for c in b where c == 0x2C || c == 0x22 || c == 13 || c == 10 { needs = true; break } }
            guard needs else { out.append(contentsOf: b); return }
            out.append(0x22)
            if guarded { out.append(0x27) }
            for c in b {
                if c == 0x22 { out.append(0x22) }
                out.append(c)
            }
            out.append(0x22)
        }
    }

    /// A text cell that came from a process, neutralised against spreadsheet formula injection
    /// as OWASP recommends: a cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets a
    /// leading `'` (so Excel, LibreOffice and Sheets show it as text) and is quoted.
    static func csvText(_ s: String) -> String {
        guard let first = s.utf8.first,
              [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13].contains(first) else { return s }
        return "'" + s  // csvField quotes every cell that starts with the guard
    }

    /// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
    static func csvField(_ s: String) -> String {
        var needs = s.utf8.first == UInt8(ascii: "'")
        for c in s.utf8 where c == UInt8(ascii: ",") || c == UInt8(ascii: "\"") || c == 13 || c == 10 {
            needs = true
            break
        }
        guard needs else { return s }
        var out = "\""
        for ch in s.unicodeScalars {
            if ch == "\"" { out += "\"\"" } else { out.unicodeScalars.append(ch) }
        }
        return out + "\""
    }
}

/// Redaction results of one export, by input: redaction is a pure function of the text (or the
/// argument vector), and a vault repeats the same command lines and names across captures.
/// Bounded: emptied when it holds `limit` entries.
final class RedactionMemo: @unchecked Sendable {  // one export, one thread
    private var texts: [String: String] = [:]
    private var vectors: [[String]: [String]] = [:]
    let limit = 4096

    func text(_ s: String, _ r: Redactor) -> String {
        if let hit = texts[s] { return hit }
        let out = r.redact(text: s)
        if texts.count >= limit { texts.removeAll(keepingCapacity: true) }
        texts[s] = out
        return out
    }

    func arguments(_ a: [String], _ r: Redactor) -> [String] {
        if let hit = vectors[a] { return hit }
        let out = r.redact(arguments: a)
        if vectors.count >= limit { vectors.removeAll(keepingCapacity: true) }
        vectors[a] = out
        return out
    }
}

/// Redaction of every string value inside a JSON document (keys are kept). An array of
/// strings is redacted as an argument vector (so `["--token", "x"]` masks `x`); any other
/// string as free text. Parsing and rewriting use SQLite's JSON1 (`json_tree`, `json_set`).
enum JSONRedaction {
    static func redact(_ db: Database, _ json: String, _ r: Redactor, memo: RedactionMemo? = nil) throws -> String {
        guard r.enabled, json.utf8.count > 2 else { return json }
        let st = try db.statement("SELECT id, parent, type, fullkey, atom, key FROM json_tree(?1)")
        st.bind(1, json)
        var types: [Int64: String] = [:]
        var leaves: [(id: Int64, parent: Int64?, path: String, text: String, secretKey: Bool)] = []
        while try st.step() {
            let id = st.int64(0)
            let type = st.text(2) ?? ""
            types[id] = type
            if type == "text" {
                // `{"password": "x"}`: a value under a secret-ish key is a secret whatever it looks like.
                let secretKey = st.text(5).map { Redactor.isSecretName(Substring($0)) } ?? false
                leaves.append((id, st.isNull(1) ? nil : st.int64(1), st.text(3) ?? "$", st.text(4) ?? "", secretKey))
            }
        }
        st.reset()
        var changes: [(leaf: Int, path: String, text: String)] = []
        var i = 0
        while i < leaves.count {
            let leaf = leaves[i]
            if let p = leaf.parent, types[p] == "array" {
                var j = i
                while j < leaves.count && leaves[j].parent == p { j += 1 }
                let group = Array(leaves[i..<j])
                let args = group.map(\.text)
                let red = memo?.arguments(args, r) ?? r.redact(arguments: args)
                for (k, g) in group.enumerated() where red[k] != g.text { changes.append((i + k, g.path, red[k])) }
                i = j
            } else {
                let red = leaf.secretKey && !leaf.text.isEmpty ? Redactor.mask : (memo?.text(leaf.text, r) ?? r.redact(text: leaf.text))
                if red != leaf.text { changes.append((i, leaf.path, red)) }
                i += 1
            }
        }
        if changes.isEmpty { return json }
        if let text = rewrite(json, leaves: leaves.count, changes) { return text }
        return try viaJSONSet(db, json, changes)
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
            var j = i + 1
            while j < src.count && src[j] != 0x22 { j += src[j] == 0x5C ? 2 : 1 }
            let end = min(j + 1, src.count)
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

extension Vault {
    /// Writes the captures matching `filter` to `destination` as `format`, atomically (the
    /// file appears whole or not at all). Returns the number of records written.
    /// - Throws: `.alreadyExists` (destination exists and `overwrite` is off), `.notFound`
    ///   (its directory is missing), `.invalidArgument` (bad filter), I/O errors.
    @discardableResult
    public func exportRecords(_ filter: RecordFilter, format: ExportFormat, to destination: String,
                              options: ExportOptions = ExportOptions()) throws -> Int {
        try filter.validate()
        var count = 0
        var line: [UInt8] = []
        let memo = RedactionMemo()
        try AtomicFile.write(to: destination, overwrite: options.overwrite) { fd in
            var out = OutputBuffer(fd: fd, what: "writing \(destination)")
            switch format {
            case .json: out.append("[")
            case .csv: out.append(RecordRows.csvColumns.joined(separator: ",") + "\r\n")
            case .ndjson: break
            }
            try forEachPage(filter) { page in
                let rows = try withDatabase { db in try RecordRows.prepare(db, page, options.redactor, memo: memo) }
                for row in rows {
                    switch format {
                    case .json, .ndjson:
                        var w = JSONWriter()
                        if format == .json && count > 0 { out.append(",") }
                        if format == .json { out.append("\n") }
                        RecordRows.writeJSON(row, to: &w)
                        out.append(w.takeText())
                        if format == .ndjson { out.append("\n") }
                    case .csv:
                        line.removeAll(keepingCapacity: true)
                        RecordRows.appendCSVLine(row, to: &line)
                        out.append(bytes: line)
                    }
                    count += 1
                    try out.flushIfLarge()
                }
            }
            if format == .json { out.append(count > 0 ? "\n]\n" : "]\n") }
            try out.flush()
        }
        return count
    }
}
