/// A support bundle: one ustar file with `metadata.json` and the selected captures' artefacts
/// under `artefacts/` as zstd frames (`*.zst`), written atomically.
///
/// Every artefact is read back and verified first (frame, size bound, stored checksum); a
/// corrupt one is left out and listed under `"corrupt"`. Redacted (the default), each
/// artefact's *contents* are redacted (ContentRedaction) and re-compressed, and one that cannot
/// be redacted (binary) is left out and listed under `"withheld"`; unredacted, the stored
/// frames are copied as they are.
///
/// `metadata.json` is `{"format":"spikevault-bundle","formatVersion":2,"createdAt":…,
/// "redacted":…,"records":[…export rows…],"files":[{"captureId","kind","path","rawBytes",
/// "storedBytes","checksum"}],"missing":[…],"corrupt":[…],"withheld":[…]}` (each left-out
/// entry `{"captureId","kind","reason"}`); it is the last entry, so it lists exactly the files
/// the archive holds. `rawBytes` and `checksum` describe the bytes in the archive's frame. A
/// filter matching nothing gives a valid archive with `"records": []` (not an error).
public struct BundleProgress: Sendable {
    /// Artefact bytes copied so far, and the total expected (the stored sizes).
    public var doneBytes: Int64
    public var totalBytes: Int64
}

public struct BundleResult: Sendable, Equatable {
    public var records: Int
    public var files: Int
    /// Artefacts left out: file gone, failed verification, or not redactable.
    public var missing: Int
    public var corrupt: Int = 0
    public var withheld: Int = 0
    /// `{"records":n,"files":n,"missing":[…],"corrupt":[…],"withheld":[…]}`: the same
    /// left-out lists as the bundle's metadata, for callers that do not open the archive.
    public var reportJSON: String = ""
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
            var missing = JSONWriter(), corrupt = JSONWriter(), withheld = JSONWriter()
            func leftOut(_ list: inout JSONWriter, _ r: ProfileRecord, _ a: ArtefactInfo, _ reason: String) {
                list.beginObject()
                list.field("captureId", Int(r.id))
                list.field("kind", a.kind)
                list.field("reason", reason)
                list.endObject()
            }
            files.beginArray(); missing.beginArray(); corrupt.beginArray(); withheld.beginArray()
            try report()
            for r in records {
                for a in r.artefacts {
                    let entry = "artefacts/" + a.path
                    let read: [UInt8]  // redacting: the raw contents; otherwise the stored frame
                    do {
                        read = options.redactor.enabled ? try readVerified(a) : try verifiedFrame(a)
                    } catch let e as SpikeVaultError {
                        if e.status == .notFound {
                            leftOut(&missing, r, a, e.message); result.missing += 1
                        } else {
                            leftOut(&corrupt, r, a, e.message); result.corrupt += 1
                        }
                        done += a.storedBytes
                        try report()
                        continue
                    }
                    var frame: [UInt8]
                    var info = a
                    if options.redactor.enabled {
                        let outcome = try withScratch { db in
                            try ContentRedaction.redact(read, kind: a.kind, redactor: options.redactor, scratch: db)
                        }
                        guard case .redacted(let text) = outcome else {
                            if case .withheld(let reason) = outcome { leftOut(&withheld, r, a, reason) }
                            result.withheld += 1
                            done += a.storedBytes
                            try report()
                            continue
                        }
                        frame = try compressCopy(text)
                        var hash = XXH64()
                        text.withUnsafeBytes { hash.update($0) }
                        info.rawBytes = Int64(text.count)
                        info.checksum = hash.hexDigest()
                    } else {
                        frame = read
                    }
                    try tar.addFile(name: entry, bytes: frame, mtime: now.milliseconds / 1000)
                    let frameBytes = frame.count
                    frame = []
                    done += a.storedBytes
                    try report()
                    files.beginObject()
                    files.field("captureId", Int(r.id))
                    files.field("kind", a.kind)
                    files.field("path", entry)
                    files.field("compression", "zstd")
                    files.field("rawBytes", Int(info.rawBytes))
                    files.field("storedBytes", frameBytes)
                    files.field("checksum", info.checksum)
                    files.endObject()
                    result.files += 1
                }
            }
            files.endArray(); missing.endArray(); corrupt.endArray(); withheld.endArray()
            let leftOut = [("missing", missing.takeText()), ("corrupt", corrupt.takeText()), ("withheld", withheld.takeText())]
            var report = JSONWriter()
            report.beginObject()
            report.field("records", result.records)
            report.field("files", result.files)
            for (key, list) in leftOut { report.key(key); report.rawJSON(list) }
            report.endObject()
            result.reportJSON = report.takeText()
            var w = JSONWriter()
            w.beginObject()
            w.field("format", "spikevault-bundle")
            w.field("formatVersion", 2)
            w.field("createdAt", Int(now.milliseconds))
            w.field("createdAtUTC", now.description)
            w.field("redacted", options.redactor.enabled)
            w.key("records")
            w.beginArray()
            for row in rows { RecordRows.writeJSON(row, to: &w) }
            w.endArray()
            w.key("files")
            w.rawJSON(files.takeText())
            for (key, list) in leftOut { w.key(key); w.rawJSON(list) }
            w.endObject()
            try tar.addFile(name: "metadata.json", bytes: Array((w.takeText() + "\n").utf8), mtime: now.milliseconds / 1000)
            try tar.finish()
        }
        result.missing += result.corrupt + result.withheld
        return result
    }
}
