/// A support bundle: one ustar file with `metadata.json` and the selected captures' artefacts
/// under `artefacts/`, still zstd-compressed as stored (`*.zst`), written atomically.
///
/// `metadata.json` is `{"format":"spikevault-bundle","formatVersion":1,"createdAt":…,
/// "redacted":…,"records":[…export rows…],"files":[{"captureId","kind","path","rawBytes",
/// "storedBytes","checksum"}],"missing":[{"captureId","kind","reason"}]}`; it is the last entry,
/// so it lists exactly the files the archive holds. A filter matching nothing gives a valid
/// archive with `"records": []` and no artefacts (not an error).
public struct BundleProgress: Sendable {
    /// Artefact bytes copied so far, and the total expected (the stored sizes).
    public var doneBytes: Int64
    public var totalBytes: Int64
}

public struct BundleResult: Sendable, Equatable {
    public var records: Int
    public var files: Int
    public var missing: Int
}

extension Vault {
    /// Writes a bundle of the captures matching `filter` to `destination`. `progress` is
    /// called on the calling thread after each chunk (and once at the start with 0); return
    /// false from it to cancel (`.cancelled`, nothing is left behind).
    @discardableResult
    public func exportBundle(_ filter: RecordFilter, to destination: String, options: ExportOptions = ExportOptions(),
                             progress: ((BundleProgress) -> Bool)? = nil) throws -> BundleResult {
        try filter.validate()
        var records: [ProfileRecord] = []
        var rows: [ExportRow] = []
        try forEachPage(filter) { page in
            records += page
            rows += try withDatabase { db in try RecordRows.prepare(db, page, options.redactor) }
        }
        let total = records.reduce(Int64(0)) { $0 + $1.storedBytes }
        var done: Int64 = 0
        func report() throws {
            if let progress, !progress(BundleProgress(doneBytes: done, totalBytes: total)) {
                throw SpikeVaultError(.cancelled, "bundle cancelled by the progress callback")
            }
        }
        var result = BundleResult(records: records.count, files: 0, missing: 0)
        let now = Timestamp.now()
        try AtomicFile.write(to: destination, overwrite: options.overwrite) { fd in
            var tar = TarWriter(fd: fd, what: "writing \(destination)")
            var files = JSONWriter()
            var missing = JSONWriter()
            files.beginArray()
            missing.beginArray()
            try report()
            for r in records {
                for a in r.artefacts {
                    let entry = "artefacts/" + a.path
                    let afd: Int32
                    do { afd = try artefacts.openForReading(a.path) } catch let e as SpikeVaultError {
                        missing.beginObject()
                        missing.field("captureId", Int(r.id))
                        missing.field("kind", a.kind)
                        missing.field("reason", e.message)
                        missing.endObject()
                        result.missing += 1
                        continue
                    }
                    defer { Posix.close(afd) }
                    var st = stat()
                    guard fstat(afd, &st) == 0 else { throw SpikeVaultError.errno(errno, "reading \(a.path)") }
                    try tar.addFile(name: entry, from: afd, size: Int64(st.st_size), mtime: now.milliseconds / 1000) { n in
                        done += n
                        try report()
                    }
                    files.beginObject()
                    files.field("captureId", Int(r.id))
                    files.field("kind", a.kind)
                    files.field("path", entry)
                    files.field("compression", "zstd")
                    files.field("rawBytes", Int(a.rawBytes))
                    files.field("storedBytes", Int(st.st_size))
                    files.field("checksum", a.checksum)
                    files.endObject()
                    result.files += 1
                }
            }
            files.endArray()
            missing.endArray()
            var w = JSONWriter()
            w.beginObject()
            w.field("format", "spikevault-bundle")
            w.field("formatVersion", 1)
            w.field("createdAt", Int(now.milliseconds))
            w.field("createdAtUTC", now.description)
            w.field("redacted", options.redactor.enabled)
            w.key("records")
            w.beginArray()
            for row in rows { RecordRows.writeJSON(row, to: &w) }
            w.endArray()
            w.key("files")
            w.rawJSON(files.takeText())
            w.key("missing")
            w.rawJSON(missing.takeText())
            w.endObject()
            try tar.addFile(name: "metadata.json", bytes: Array((w.takeText() + "\n").utf8), mtime: now.milliseconds / 1000)
            try tar.finish()
        }
        return result
    }
}
