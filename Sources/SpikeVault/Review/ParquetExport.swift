import Glibc

/// Hive-partitioned Parquet of a vault for fleet analytics (docs/fleet.md, "Parquet"),
/// written by the `duckdb` command-line tool (spawned as DuckDB.swift does: argv, no shell):
///
///     DIR/captures/host=H/date=YYYY-MM-DD/captures-<vault>-<first>-<last>_<i>.parquet
///     DIR/stacks/host=H/date=YYYY-MM-DD/stacks-<vault>-<first>-<last>_<i>.parquet
///
/// Incremental: the vault keeps a watermark (the last capture id exported) per target
/// directory in `export_watermark`, and the tree keeps a marker file
/// `_spikevault/<vault>.watermark` with the same id. Only captures above the watermark are
/// written; when the marker is missing (the tree was removed) the export starts again from
/// the first capture, and file names depend only on the id range, so it reproduces the tree.
public struct ParquetExportResult: Sendable, Equatable {
    /// Captures written by this call (0 when nothing was new).
    public var captures: Int
    /// Stack rows written (one per capture, artefact kind and distinct stack).
    public var stackRows: Int
    /// The last capture id now exported.
    public var watermark: Int64
}

enum Parquet {
    /// Bumped when a column changes meaning; every row carries it (`schemaVersion`).
    static let schemaVersion = 1

    static let captureColumns: [(String, String)] = [
        ("schemaVersion", "INTEGER"), ("host", "VARCHAR"), ("date", "VARCHAR"), ("machineId", "VARCHAR"),
        ("captureId", "BIGINT"), ("processName", "VARCHAR"), ("pid", "BIGINT"), ("triggerMetric", "VARCHAR"),
        ("triggerValue", "DOUBLE"), ("capturedAt", "VARCHAR"), ("durationSeconds", "DOUBLE"), ("status", "VARCHAR"),
        ("rawBytes", "BIGINT"), ("storedBytes", "BIGINT"), ("artefactKinds", "VARCHAR"),
    ]
    static let stackColumns: [(String, String)] = [
        ("schemaVersion", "INTEGER"), ("host", "VARCHAR"), ("date", "VARCHAR"), ("captureId", "BIGINT"),
        ("processName", "VARCHAR"), ("capturedAt", "VARCHAR"), ("kind", "VARCHAR"), ("stack", "VARCHAR"),
        ("count", "BIGINT"),
    ]

    /// The host directory value for a row without a recorded host.
    static let unknownHost = "unknown"

    /// The `host=` value of a row: the recorded name when valid, else made valid as a detected
    /// name is. The database is a file another tool may have written: a host of 300 bytes would
    /// fail every export (ENAMETOOLONG), and one with `/` or `..` is not a name to partition by.
    /// A valid name longer than `maxPartitionHost` (`host=` + 250 is NAME_MAX, 255) keeps its
    /// first 233 bytes, then `-` and 16 hex digits of its XXH64, so two long names stay apart.
    static func partitionHost(_ recorded: String?) -> String {
        guard let r = recorded else { return unknownHost }
        let h = HostIdentity.isValidHostName(r) ? r : HostIdentity.sanitize(Array(r.utf8)) ?? unknownHost
        guard h.utf8.count > maxPartitionHost else { return h }
        var x = XXH64()
        Array(h.utf8).withUnsafeBytes { x.update($0) }
        let hex = String(x.digest(), radix: 16)
        return String(decoding: h.utf8.prefix(maxPartitionHost - 17), as: UTF8.self) + "-"
            + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static let maxPartitionHost = 250

    /// `dir` must be a directory we own, not a symlink, not writable by group or others;
    /// created (0700) when missing and its parent exists.
    static func checkTarget(_ dir: String) throws {
        guard !dir.isEmpty else { throw SpikeVaultError(.invalidArgument, "the Parquet output directory is empty") }
        var st = stat()
        if lstat(dir, &st) != 0 {
            guard errno == ENOENT else { throw SpikeVaultError.errno(errno, "checking \(dir)") }
            // EEXIST: a concurrent export made it first; what is there is checked below all the same.
            if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw SpikeVaultError.errno(errno, "creating \(dir)") }
            guard lstat(dir, &st) == 0 else { throw SpikeVaultError.errno(errno, "checking \(dir)") }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw SpikeVaultError(.unsafePath, "\(dir) is not a directory (a symlink or file is refused)")
        }
        guard st.st_uid == geteuid() else {
            throw SpikeVaultError(.unsafePath, "\(dir) belongs to another user (uid \(st.st_uid))")
        }
        guard st.st_mode & 0o022 == 0 else {
            throw SpikeVaultError(.unsafePath, "\(dir) is writable by group or others; chmod go-w it first")
        }
    }

    /// A DuckDB string literal.
    static func literal(_ s: String) -> String { "'" + s.replacingAll("'", "''") + "'" }

    static func copySQL(table: String, columns: [(String, String)], csv: String, to dir: String, pattern: String) -> String {
        let spec = columns.map { "'\($0.0)': '\($0.1)'" }.joined(separator: ", ")
        return """
            COPY (SELECT * FROM read_csv(\(literal(csv)), header = true, delim = ',', quote = '"', escape = '"',
                  nullstr = '\\N', columns = {\(spec)}))
            TO \(literal(dir + "/" + table)) (FORMAT parquet, PARTITION_BY (host, date), OVERWRITE_OR_IGNORE, WRITE_PARTITION_COLUMNS true,
                  FILENAME_PATTERN \(literal(pattern + "_{i}")));
            """
    }
}

private extension String {
    func replacingAll(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}

extension Vault {
    /// A stable name for this vault in file names: 16 hex digits of XXH64 of its real path.
    var exportKey: String {
        var h = XXH64()
        let real = realpath(path, nil).map { p -> String in defer { free(p) }; return String(cString: p) } ?? path
        Array(real.utf8).withUnsafeBytes { h.update($0) }
        let d = h.digest()
        let hex = String(d, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Writes the captures above this directory's watermark as Hive-partitioned Parquet under
    /// `directory` (see `ParquetExportResult`); redacted unless `options.redactor` is disabled
    /// (process names and frames; the machine ID only leaves unredacted).
    /// - Throws: `.unsupported` without the DuckDB CLI, `.unsafePath` for a directory that is
    ///   a symlink, a file, another user's or group/other-writable, `.notFound` for a missing parent.
    public func exportParquet(to directory: String, options: ExportOptions = ExportOptions(),
                              duckdbPath: String? = nil) throws -> ParquetExportResult {
        let tool = try DuckDB.tool(duckdbPath)
        try Parquet.checkTarget(directory)
        let real = realpath(directory, nil).map { p -> String in defer { free(p) }; return String(cString: p) } ?? directory
        let key = exportKey
        let markerDir = try ParquetTree.markerDirectory(real)
        let marker = markerDir + "/" + key + ".watermark"
        let lock = try ParquetTree.lock(markerDir)
        defer { Posix.close(lock) }
        let stored: Int64 = try withDatabase { db in
            let q = try db.statement("SELECT lastId FROM export_watermark WHERE target = ?1")
            q.bind(1, "parquet:" + real)
            defer { q.reset() }
            return try q.step() ? q.int64(0) : 0
        }
        // The tree's own marker must agree, else the tree was removed or replaced: start over.
        // A watermark past the last capture is as untrustworthy as a disagreeing one.
        let onDisk = Int64(DuckDB.readFile(marker).split(separator: "\n").first.map(String.init) ?? "") ?? -1
        let last: Int64 = try withDatabase { db in try db.scalarInt("SELECT coalesce(max(id), 0) FROM profile_capture") }
        let from = onDisk == stored && stored <= last ? stored : 0
        if from == 0 { try ParquetTree.removeFiles(of: key, in: real) }
        guard last > from else {
            return ParquetExportResult(captures: 0, stackRows: 0, watermark: from)
        }
        let scratchDir = try DuckDB.scratch(near: real + "/x")
        defer { DuckDB.removeTree(scratchDir) }
        let (captures, stackRows) = try writeParquetCSV(scratchDir, from: from, through: last, redactor: options.redactor)
        let pattern = "\(key)-\(from + 1)-\(last)"
        var sql = Parquet.copySQL(table: "captures", columns: Parquet.captureColumns, csv: scratchDir + "/captures.csv",
                                  to: real, pattern: "captures-" + pattern)
        if stackRows > 0 {
            sql += Parquet.copySQL(table: "stacks", columns: Parquet.stackColumns, csv: scratchDir + "/stacks.csv",
                                   to: real, pattern: "stacks-" + pattern)
        }
        _ = try DuckDB.run(tool: tool, database: ":memory:", sql: sql, readOnly: false, json: false, scratchDir: scratchDir)
        try AtomicFile.write(to: marker, overwrite: true) { fd in
            var out = OutputBuffer(fd: fd, what: "writing \(marker)")
            out.append("\(last)\n")
            try out.flush()
        }
        try withDatabase { db in
            try db.writeTransaction {
                let u = try db.statement("""
                    INSERT INTO export_watermark (target, lastId, exportedAt) VALUES (?1, ?2, ?3)
                    ON CONFLICT (target) DO UPDATE SET lastId = excluded.lastId, exportedAt = excluded.exportedAt
                    """)
                u.bind(1, "parquet:" + real)
                u.bind(2, last)
                u.bind(3, Timestamp.now())
                try u.run()
            }
        }
        return ParquetExportResult(captures: captures, stackRows: stackRows, watermark: last)
    }

    /// captures.csv and stacks.csv of the captures with `from < id <= through`.
    private func writeParquetCSV(_ dir: String, from: Int64, through: Int64, redactor: Redactor) throws -> (Int, Int) {
        func field(_ s: String?) -> String { s.map(RecordRows.csvField) ?? "\\N" }
        var captures = 0, stackRows = 0
        let capturesPath = dir + "/captures.csv", stacksPath = dir + "/stacks.csv"
        let stacksFD = open(stacksPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard stacksFD >= 0 else { throw SpikeVaultError.errno(errno, "creating \(stacksPath)") }
        defer { Posix.close(stacksFD) }
        var stacksOut = OutputBuffer(fd: stacksFD, what: "writing \(stacksPath)")
        stacksOut.append(Parquet.stackColumns.map(\.0).joined(separator: ",") + "\n")
        try AtomicFile.write(to: capturesPath) { fd in
            var out = OutputBuffer(fd: fd, what: "writing \(capturesPath)")
            out.append(Parquet.captureColumns.map(\.0).joined(separator: ",") + "\n")
            var after = from
            while true {
                let page = try withDatabase { db -> [ProfileRecord] in
                    let st = try db.statement("""
                        SELECT \(RecordStore.columns)
                        FROM (SELECT * FROM profile_capture WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT 2000) c
                        LEFT JOIN capture_artefact a ON a.captureId = c.id ORDER BY c.id, a.id
                        """)
                    st.bind(1, after)
                    st.bind(2, through)
                    return try RecordStore.collect(st)
                }
                guard let lastRecord = page.last else { break }
                for r in page {
                    let host = Parquet.partitionHost(r.host)
                    let date = String(r.capturedAt.description.prefix(10))
                    let name = redactor.enabled ? redactor.redact(text: r.processName) : r.processName
                    var w = JSONWriter(); w.double(r.triggerValue); let value = w.takeText()
                    w = JSONWriter(); w.double(r.durationSeconds); let duration = w.takeText()
                    out.append([String(Parquet.schemaVersion), field(host), field(date),
                                field(redactor.enabled ? nil : r.machineID), String(r.id), field(name), String(r.pid),
                                field(r.triggerMetric.rawValue), value, field(r.capturedAt.description), duration,
                                field(r.status.rawValue), String(r.rawBytes), String(r.storedBytes),
                                field(r.artefacts.map(\.kind).joined(separator: ";"))].joined(separator: ",") + "\n")
                    captures += 1
                    for a in r.artefacts where a.kind.hasSuffix(".folded") {
                        guard let bytes = try? readArtefact(captureID: r.id, kind: a.kind) else { continue }
                        let folded = FoldedStacks.parse(String(decoding: bytes, as: UTF8.self))
                        for (stack, n) in folded.counts.sorted(by: { $0.key < $1.key }) {
                            let frames = redactFrames(stack, redactor).joined(separator: ";")
                            stacksOut.append([String(Parquet.schemaVersion), field(host), field(date), String(r.id),
                                              field(name), field(r.capturedAt.description), field(a.kind),
                                              field(frames), String(n)].joined(separator: ",") + "\n")
                            stackRows += 1
                        }
                        try stacksOut.flushIfLarge()
                    }
                }
                try out.flushIfLarge()
                after = lastRecord.id
            }
            try out.flush()
        }
        try stacksOut.flush()
        return (captures, stackRows)
    }
}
