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

    /// Redacts the record's text fields (string values only in `notes`) and writes `notes`
    /// compact, so a record is one line whatever layout its notes were saved in.
    static func prepare(_ db: Database, _ records: [ProfileRecord], _ r: Redactor,
                        memo: RedactionMemo? = nil) throws -> [ExportRow] {
        try records.map { try prepare($0, r, memo: memo, sqlite: { try $0(db) }) }
    }

    /// One record; `processName` when the caller redacted the name already.
    static func prepare(_ rec: ProfileRecord, _ r: Redactor, memo: RedactionMemo?, processName: String? = nil,
                        sqlite: JSONRedaction.SQLiteAccess) throws -> ExportRow {
        ExportRow(record: rec, processName: processName ?? (r.enabled ? (memo?.text(rec.processName, r) ?? r.redact(text: rec.processName)) : rec.processName),
                  notes: try JSONRedaction.redact(rec.notes, r, memo: memo, compact: true, sqlite: sqlite),
                  machineID: r.enabled ? nil : rec.machineID)
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
        func comma() { out.append(0x2C) }
        JSONWriter.appendInteger(r.id, to: &out); comma()
        appendCSVField(row.processName, formulaGuard: true, to: &out); comma()
        JSONWriter.appendInteger(Int64(r.pid), to: &out); comma()
        out.append(contentsOf: r.triggerMetric.rawValue.utf8); comma()
        JSONWriter.appendDouble(r.triggerValue, to: &out); comma()
        let time = r.capturedAt.description
        out.append(contentsOf: time.utf8); comma()
        out.append(contentsOf: time.utf8); comma()
        JSONWriter.appendDouble(r.durationSeconds, to: &out); comma()
        out.append(contentsOf: r.status.rawValue.utf8); comma()
        if let start = r.processStartTime { JSONWriter.appendInteger(start, to: &out) }
        comma()
        appendCSVField(r.profilePath ?? "", formulaGuard: true, to: &out); comma()
        JSONWriter.appendInteger(r.rawBytes, to: &out); comma()
        JSONWriter.appendInteger(r.storedBytes, to: &out); comma()
        appendCSVField(r.artefacts.count == 1 ? r.artefacts[0].kind : r.artefacts.map(\.kind).joined(separator: ";"),
                       formulaGuard: true, to: &out); comma()
        appendCSVField(row.notes, formulaGuard: true, to: &out); comma()
        appendCSVField(r.host ?? "", formulaGuard: true, to: &out); comma()
        appendCSVField(row.machineID ?? "", formulaGuard: true, to: &out)
        out += [13, 10]
    }

    /// A field, quoted per RFC 4180 when it needs it, appended as bytes. With `formulaGuard` (a
    /// text cell that came from a process), neutralised against spreadsheet formula injection
    /// as OWASP recommends: a cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets a
    /// leading `'` (so Excel, LibreOffice and Sheets show it as text) and is quoted.
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
    private var names: [String: Bool] = [:]
    let limit = 4096

    func text(_ s: String, _ r: Redactor) -> String {
        if let hit = texts[s] { return hit }
        let out = r.redact(text: s)
        if texts.count >= limit { texts.removeAll(keepingCapacity: true) }
        texts[s] = out
        return out
    }

    /// `Redactor.isSecretName` of a member name (notes repeat the same few names on every row).
    func isSecretName(_ name: String) -> Bool {
        if let hit = names[name] { return hit }
        let out = Redactor.isSecretName(Substring(name))
        if names.count >= limit { names.removeAll(keepingCapacity: true) }
        names[name] = out
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
        try AtomicFile.write(to: destination, overwrite: options.overwrite) { fd in
            count = try writeRecords(filter, format: format, fd: fd, what: "writing \(destination)", options: options)
        }
        return count
    }

    /// Writes the captures matching `filter` as `format` to the open descriptor `fd` as they are
    /// read, page by page (a pipe sees the first rows at once; memory stays O(page)). `fd` stays
    /// the caller's: not closed, not synced. Returns the number of records written.
    /// - Throws: `.invalidArgument` (bad filter), the write's errno status (`.io` for EPIPE:
    ///   the reader left; what was written stays written).
    @discardableResult
    public func writeRecords(_ filter: RecordFilter, format: ExportFormat, fd: Int32, what: String = "writing records",
                             options: ExportOptions = ExportOptions()) throws -> Int {
        try filter.validate()
        var count = 0
        var line: [UInt8] = []
        let memo = RedactionMemo()
        var out = OutputBuffer(fd: fd, what: what)
        switch format {
        case .json: out.append("[")
        case .csv: out.append(RecordRows.csvColumns.joined(separator: ",") + "\r\n")
        case .ndjson: break
        }
        // Pages are read (and process names redacted) on a worker thread while this one redacts
        // the notes, formats and writes the page before: two cores overlap the halves, which
        // are about even. Each thread has its own memo.
        let redactor = options.redactor
        try Prefetch<[(ProfileRecord, String)]>.run(produce: { emit in
            let names = RedactionMemo()
            try self.forEachPage(filter) { page in
                let named = page.map { rec in (rec, redactor.enabled ? names.text(rec.processName, redactor) : rec.processName) }
                if !emit(named) { throw PrefetchStopped() }
            }
        }, consume: { page in
            for (rec, name) in page {
                let row = try RecordRows.prepare(rec, redactor, memo: memo, processName: name,
                                                 sqlite: { body in try withDatabase(body) })
                switch format {
                case .json, .ndjson:
                    var w = JSONWriter()
                    if format == .json && count > 0 { out.append(",") }
                    if format == .json { out.append("\n") }
                    RecordRows.writeJSON(row, to: &w)
                    w.takeBytes { out.append(bytes: $0) }
                    if format == .ndjson { out.append("\n") }
                case .csv:
                    line.removeAll(keepingCapacity: true)
                    RecordRows.appendCSVLine(row, to: &line)
                    out.append(bytes: line)
                }
                count += 1
                try out.flushIfLarge()
            }
        })
        if format == .json { out.append(count > 0 ? "\n]\n" : "]\n") }
        try out.flush()
        return count
    }
}
