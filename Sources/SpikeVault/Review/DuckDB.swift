/// The DuckDB companion: a snapshot of the vault's tables in a `.duckdb` file, built and
/// queried through the `duckdb` command-line tool (spawned with ToolRunner: argv, no shell).
///
/// The tool is the `duckdbPath` argument when given, else `$SPIKEVAULT_DUCKDB`, else `duckdb`
/// in PATH; when none is found the call fails with `.unsupported` saying how to install it.
public enum DuckDB {
    public static let installHint = "install the DuckDB command-line tool (`pip install duckdb-cli`, or a release from duckdb.org) or set SPIKEVAULT_DUCKDB to its path"

    static func tool(_ explicit: String?) throws -> String {
        let wanted = explicit ?? getenv("SPIKEVAULT_DUCKDB").map { String(cString: $0) } ?? "duckdb"
        guard let path = ToolRunner.resolve(wanted) else {
            throw SpikeVaultError(.unsupported, "DuckDB CLI '\(wanted)' not found: \(installHint)")
        }
        return path
    }

    /// A fresh private directory for scratch files (removed by `removeTree`).
    static func scratch(near path: String) throws -> String {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        var template = Array(((dir.isEmpty ? "" : dir) + "/.spikevault-duckdb-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else { throw SpikeVaultError.errno(errno, "creating a scratch directory in \(dir)") }
        return String(cString: made)
    }

    static func removeTree(_ dir: String) {
        if let d = opendir(dir) {
            while let e = readdir(d) {
                let name = Posix.direntString(e)
                if name != "." && name != ".." { unlink(dir + "/" + name) }
            }
            closedir(d)
        }
        rmdir(dir)
    }

    static func readFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { Posix.close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Runs `sql` against `database` and returns the tool's stdout.
    static func run(tool: String, database: String, sql: String, readOnly: Bool, json: Bool, scratchDir: String) throws -> String {
        let outPath = scratchDir + "/stdout"
        let errPath = scratchDir + "/stderr"
        var argv = [tool, "-no-init", "-batch"]
        if readOnly { argv.append("-readonly") }
        if json { argv.append("-json") }
        argv += [database, "-c", sql]
        let result = try ToolRunner.run(argv, stdoutPath: outPath, stderrPath: errPath, timeoutSeconds: 600)
        let out = readFile(outPath)
        guard result.succeeded else {
            let err = readFile(errPath)
            throw SpikeVaultError(.database, "duckdb \(result.summary): \(String(err.prefix(600)))")
        }
        return out
    }

    /// Runs an analytics template over a snapshot made by `Vault.exportDuckDB`: JSON text,
    /// an array of row objects with the same keys and order as `Vault.analytics`.
    public static func analytics(snapshot: String, template: AnalyticsTemplate, since: Timestamp, until: Timestamp,
                                 duckdbPath: String? = nil) throws -> String {
        guard since <= until else {
            throw SpikeVaultError(.invalidArgument, "inverted time range: until (\(until)) is before since (\(since))")
        }
        let tool = try tool(duckdbPath)
        var st = stat()
        guard stat(snapshot, &st) == 0 else { throw SpikeVaultError.errno(errno, "opening snapshot \(snapshot)") }
        let scratchDir = try scratch(near: "/tmp/x")
        defer { removeTree(scratchDir) }
        let out = try run(tool: tool, database: snapshot, sql: template.sql(since: since, until: until),
                          readOnly: true, json: true, scratchDir: scratchDir)
        // The CLI prints nothing for an empty result and "[{...},\n{...}]" otherwise.
        var trimmed = Substring(out)
        while let c = trimmed.last, c == "\n" || c == " " || c == "\r" { trimmed = trimmed.dropLast() }
        return trimmed.isEmpty ? "[]" : String(trimmed)
    }

    static let profileColumns: [(String, String)] = [
        ("id", "BIGINT"), ("processName", "VARCHAR"), ("pid", "BIGINT"), ("triggerMetric", "VARCHAR"),
        ("triggerValue", "DOUBLE"), ("capturedAt", "VARCHAR"), ("profilePath", "VARCHAR"),
        ("durationSeconds", "DOUBLE"), ("notes", "VARCHAR"), ("status", "VARCHAR"),
        ("processStartTime", "BIGINT"), ("rawBytes", "BIGINT"), ("storedBytes", "BIGINT"),
        ("host", "VARCHAR"), ("machineId", "VARCHAR"),
    ]
    static let artefactColumns: [(String, String)] = [
        ("id", "BIGINT"), ("captureId", "BIGINT"), ("kind", "VARCHAR"), ("path", "VARCHAR"),
        ("rawBytes", "BIGINT"), ("storedBytes", "BIGINT"), ("checksum", "VARCHAR"),
    ]

    static func loadSQL(table: String, columns: [(String, String)], csv: String) -> String {
        let defs = columns.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        let spec = columns.map { "'\($0.0)': '\($0.1)'" }.joined(separator: ", ")
        let quotedPath = "'" + csv.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
        return """
            CREATE TABLE \(table) (\(defs));
            INSERT INTO \(table) SELECT * FROM read_csv(\(quotedPath), header = true, delim = ',', quote = '"',
              escape = '"', nullstr = '\\N', columns = {\(spec)});
            """
    }
}

extension Vault {
    /// Exports a snapshot of `profile_capture` and `capture_artefact` (same column names;
    /// notes and process names redacted unless disabled) into a new DuckDB file at
    /// `destination`, atomically. Returns the number of captures.
    /// - Throws: `.unsupported` when the DuckDB CLI is missing, `.alreadyExists`, `.notFound`.
    @discardableResult
    public func exportDuckDB(to destination: String, options: ExportOptions = ExportOptions(),
                             duckdbPath: String? = nil) throws -> Int {
        let tool = try DuckDB.tool(duckdbPath)
        var st = stat()
        if lstat(destination, &st) == 0 && (!options.overwrite || (st.st_mode & S_IFMT) != S_IFREG) {
            throw SpikeVaultError(.alreadyExists, "\(destination) already exists; remove it or choose another path")
        }
        let scratchDir = try DuckDB.scratch(near: destination)
        defer { DuckDB.removeTree(scratchDir) }
        let capturesCSV = scratchDir + "/profile_capture.csv"
        let artefactsCSV = scratchDir + "/capture_artefact.csv"
        let count = try writeSnapshotCSV(capturesCSV, artefactsCSV, options.redactor)
        let temp = scratchDir + "/snapshot.duckdb"
        let sql = DuckDB.loadSQL(table: "profile_capture", columns: DuckDB.profileColumns, csv: capturesCSV)
            + DuckDB.loadSQL(table: "capture_artefact", columns: DuckDB.artefactColumns, csv: artefactsCSV)
            + "CHECKPOINT;"
        _ = try DuckDB.run(tool: tool, database: temp, sql: sql, readOnly: false, json: false, scratchDir: scratchDir)
        if options.overwrite {
            if rename(temp, destination) != 0 { throw SpikeVaultError.errno(errno, "replacing \(destination)") }
        } else if link(temp, destination) != 0 {
            throw SpikeVaultError.errno(errno, "creating \(destination)")
        }
        return count
    }

    /// Writes both tables as CSV (`\N` for NULL), paging by id so saves interleave.
    private func writeSnapshotCSV(_ capturesPath: String, _ artefactsPath: String, _ redactor: Redactor) throws -> Int {
        func field(_ s: String?) -> String { s.map(RecordRows.csvField) ?? "\\N" }
        var count = 0
        try AtomicFile.write(to: capturesPath) { fd in
            var out = OutputBuffer(fd: fd, what: "writing \(capturesPath)")
            out.append(DuckDB.profileColumns.map(\.0).joined(separator: ",") + "\n")
            var last: Int64 = -1
            while true {
                let lines = try withDatabase { db -> [String] in
                    let q = try db.statement("""
                        SELECT id, processName, pid, triggerMetric, triggerValue, capturedAt, profilePath, durationSeconds,
                               notes, status, processStartTime, rawBytes, storedBytes, host, machineId
                        FROM profile_capture WHERE id > ?1 ORDER BY id LIMIT 5000
                        """)
                    q.bind(1, last)
                    var rows: [(Int64, String?, Int64, String, Double, String, String?, Double, String, String, Int64?, Int64, Int64,
                                String?, String?)] = []
                    while try q.step() {
                        rows.append((q.int64(0), q.text(1), q.int64(2), q.text(3) ?? "", q.double(4), q.text(5) ?? "", q.text(6),
                                     q.double(7), q.text(8) ?? "{}", q.text(9) ?? "", q.isNull(10) ? nil : q.int64(10),
                                     q.int64(11), q.int64(12), q.text(13), redactor.enabled ? nil : q.text(14)))
                    }
                    q.reset()
                    return try rows.map { r in
                        let name = r.1.map { redactor.redact(text: $0) }
                        let notes = try JSONRedaction.redact(db, r.8, redactor)
                        return [String(r.0), field(name), String(r.2), field(r.3), String(r.4), field(r.5), field(r.6),
                                String(r.7), field(notes), field(r.9), r.10.map { String($0) } ?? "\\N", String(r.11),
                                String(r.12), field(r.13), field(r.14)].joined(separator: ",") + "\n"
                    }
                }
                if lines.isEmpty { break }
                for l in lines { out.append(l) }
                try out.flushIfLarge()
                count += lines.count
                // The id is the first field of the last line.
                last = Int64(lines[lines.count - 1].split(separator: ",", maxSplits: 1)[0]) ?? last
            }
            try out.flush()
        }
        try AtomicFile.write(to: artefactsPath) { fd in
            var out = OutputBuffer(fd: fd, what: "writing \(artefactsPath)")
            out.append(DuckDB.artefactColumns.map(\.0).joined(separator: ",") + "\n")
            let lines = try withDatabase { db -> [String] in
                let q = try db.statement("SELECT id, captureId, kind, path, rawBytes, storedBytes, checksum FROM capture_artefact ORDER BY id")
                defer { q.reset() }
                var lines: [String] = []
                while try q.step() {
                    lines.append([String(q.int64(0)), String(q.int64(1)), field(q.text(2)), field(q.text(3)),
                                  String(q.int64(4)), String(q.int64(5)), field(q.text(6))].joined(separator: ",") + "\n")
                }
                return lines
            }
            for l in lines { out.append(l); try out.flushIfLarge() }
            try out.flush()
        }
        return count
    }
}
