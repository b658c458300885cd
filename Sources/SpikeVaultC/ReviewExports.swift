#if canImport(Glibc)
import Glibc
#endif
import SpikeVault

/// Filter criteria for sv_filter_set_int / _double / _text (`SV_FILTER_*`). Numbers are ABI.
@c public enum sv_filter_field: Int32 {
    /// int: an SV_METRIC_* value; each call adds one (several metrics match any of them).
    case metric = 1
    /// int: an SV_CAPTURE_* value; each call adds one.
    case status = 2
    /// int: the process id.
    case pid = 3
    /// int: captured at or after this time (ms since the Unix epoch, UTC).
    case since = 4
    /// int: captured strictly before this time (ms).
    case until = 5
    /// int: an SV_ORDER_* value (default SV_ORDER_TIME_DESC).
    case order = 6
    /// int: at most this many rows (>= 0; default no limit).
    case limit = 7
    /// double: trigger value >= this.
    case minValue = 8
    /// double: trigger value <= this.
    case maxValue = 9
    /// text: case-insensitive substring of the process name (ASCII letters fold).
    case process = 10
    /// text: glob over the whole process name (`*`, `?`, `[a-z]`, `[^x]`), case-sensitive.
    case processGlob = 11
    /// text: keyset pagination, the sv_cursor_key of the last row of the previous page.
    case after = 12
}

/// Result orders (`SV_ORDER_*`); ties are broken by id in the same direction. Numbers are ABI.
@c public enum sv_order: Int32 {
    case timeDesc = 1
    case timeAsc = 2
    case valueDesc = 3
    case valueAsc = 4
}

/// Output formats (`SV_FORMAT_*`). Numbers are ABI.
@c public enum sv_format: Int32 {
    /// A JSON array (records), a JSON object (summary).
    case json = 1
    /// One JSON object per line.
    case ndjson = 2
    /// RFC 4180 CSV with a header row, CRLF line ends.
    case csv = 3
    /// Plain text (summary).
    case text = 4
    /// Folded stacks `a;b;c count` (FlameGraph, inferno, speedscope).
    case folded = 5
    /// speedscope's JSON file format.
    case speedscope = 6
    /// pprof's gzip-compressed profile.proto (stacks only; binary).
    case pprof = 7
    /// Hive-partitioned Parquet, a directory tree (sv_vault_export_parquet only).
    case parquet = 8
}

/// Bits for the `flags` of the export and summary calls (`SV_EXPORT_*`). Numbers are ABI.
@c public enum sv_export_flag: Int32 {
    /// Write stored text as it is: no masking of home directory, user name and secrets.
    case noRedact = 1
    /// Replace an existing regular file at the destination (atomically). Default: refuse.
    case overwrite = 2
}

/// Built-in analytics (`SV_ANALYTICS_*`), the same SQL in SQLite and DuckDB. Numbers are ABI.
@c public enum sv_analytics: Int32 {
    /// processName, triggerMetric, peak, peakAt, captures.
    case peakByProcess = 1
    /// hourStart (ms), triggerMetric, captures.
    case capturesPerHour = 2
    /// processName, captures, peak, rankByCount (top 20).
    case topProcesses = 3
    /// processName, p95 (nearest rank), captures.
    case p95ByProcess = 4
}

/// Heap box behind an `sv_filter *` handle.
final class FilterBox: @unchecked Sendable {
    var filter = RecordFilter()
}

private func exportOptions(_ flags: Int32) throws -> ExportOptions {
    let known = sv_export_flag.noRedact.rawValue | sv_export_flag.overwrite.rawValue
    guard flags & ~known == 0 else {
        throw SpikeVaultError(.invalidArgument, "unknown flag bits 0x\(String(flags & ~known, radix: 16)); use SV_EXPORT_*")
    }
    return ExportOptions(redactor: flags & sv_export_flag.noRedact.rawValue != 0 ? .disabled : Redactor(),
                         overwrite: flags & sv_export_flag.overwrite.rawValue != 0)
}

private func template(_ raw: Int32) throws -> AnalyticsTemplate {
    switch sv_analytics(rawValue: raw) {
    case .peakByProcess: return .peakByProcess
    case .capturesPerHour: return .capturesPerHour
    case .topProcesses: return .topProcesses
    case .p95ByProcess: return .p95ByProcess
    case nil: throw SpikeVaultError(.invalidArgument, "unknown analysis \(raw); use one of SV_ANALYTICS_*")
    }
}

private func filterOf(_ filter: OpaquePointer?) throws -> RecordFilter {
    filter == nil ? RecordFilter() : try FilterBox.from(filter).filter
}

private func giveString(_ s: String, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws {
    guard let p = strdup(s) else { throw SpikeVaultError(.noMemory, "allocating \(s.utf8.count) bytes") }
    out.pointee = p
}

/// Creates an empty filter (matches every capture, newest first, no limit). The caller owns
/// *out_filter and releases it with sv_filter_free. Use one filter from one thread at a time.
@c(sv_filter_new)
public func sv_filter_new(_ out_filter: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    FilterBox.new(out_filter) { FilterBox() }
}

/// Releases a filter. NULL is a no-op (SV_OK); freeing twice gives SV_ERR_CLOSED.
@c(sv_filter_free)
public func sv_filter_free(_ filter: OpaquePointer?) -> Int32 {
    FilterBox.freeHandle(filter)
}

/// Sets an integer criterion: SV_FILTER_METRIC and SV_FILTER_STATUS add one value each call;
/// PID (> 0), SINCE, UNTIL (ms), ORDER (SV_ORDER_*), LIMIT (>= 0) replace. Unknown metrics,
/// statuses or orders, a negative limit or a non-integer field give SV_ERR_INVALID_ARGUMENT.
/// An inverted SINCE/UNTIL range is reported by the query (SV_ERR_INVALID_ARGUMENT).
@c(sv_filter_set_int)
public func sv_filter_set_int(_ filter: OpaquePointer?, _ filter_field: Int32, _ value: Int64) -> Int32 {
    guarded {
        let box = try FilterBox.from(filter)
        switch sv_filter_field(rawValue: filter_field) {
        case .metric:
            guard let raw = Int32(exactly: value) else { throw SpikeVaultError(.invalidArgument, "unknown metric \(value)") }
            let m = try sv_metric.from(raw)
            if !box.filter.metrics.contains(m) { box.filter.metrics.append(m) }
        case .status:
            guard let raw = Int32(exactly: value), let s = sv_capture_status(rawValue: raw) else {
                throw SpikeVaultError(.invalidArgument, "unknown capture status \(value); use one of SV_CAPTURE_*")
            }
            let status = CaptureStatus.allCases.first { sv_capture_status.number($0) == s.rawValue }!
            if !box.filter.statuses.contains(status) { box.filter.statuses.append(status) }
        case .pid:
            guard value > 0, let p = Int32(exactly: value) else {
                throw SpikeVaultError(.invalidArgument, "pid must be between 1 and \(Int32.max), got \(value)")
            }
            box.filter.pid = p
        case .since: box.filter.since = Timestamp(milliseconds: value)
        case .until: box.filter.until = Timestamp(milliseconds: value)
        case .order:
            guard let raw = Int32(exactly: value), let o = sv_order(rawValue: raw) else {
                throw SpikeVaultError(.invalidArgument, "unknown order \(value); use one of SV_ORDER_*")
            }
            box.filter.order = [.timeDescending, .timeAscending, .valueDescending, .valueAscending][Int(o.rawValue) - 1]
        case .limit:
            guard value >= 0, value <= Int64(Int32.max) else {
                throw SpikeVaultError(.invalidArgument, "limit must be between 0 and \(Int32.max), got \(value)")
            }
            box.filter.limit = Int(value)
        case .minValue, .maxValue, .process, .processGlob, .after, nil:
            throw SpikeVaultError(.invalidArgument, "filter field \(filter_field) does not take an integer")
        }
    }
}

/// Sets a floating-point criterion: SV_FILTER_MIN_VALUE or SV_FILTER_MAX_VALUE (finite,
/// inclusive). Other fields or NaN give SV_ERR_INVALID_ARGUMENT.
@c(sv_filter_set_double)
public func sv_filter_set_double(_ filter: OpaquePointer?, _ filter_field: Int32, _ value: Double) -> Int32 {
    guarded {
        let box = try FilterBox.from(filter)
        guard value.isFinite else { throw SpikeVaultError(.invalidArgument, "value must be finite, got \(value)") }
        switch sv_filter_field(rawValue: filter_field) {
        case .minValue: box.filter.minValue = value
        case .maxValue: box.filter.maxValue = value
        default: throw SpikeVaultError(.invalidArgument, "filter field \(filter_field) does not take a double")
        }
    }
}

/// Sets a text criterion (UTF-8, copied): SV_FILTER_PROCESS (substring), SV_FILTER_PROCESS_GLOB
/// (an unmatched '[' gives SV_ERR_INVALID_ARGUMENT) or SV_FILTER_AFTER (a key from
/// sv_cursor_key; malformed gives SV_ERR_INVALID_ARGUMENT). NULL clears the criterion.
@c(sv_filter_set_text)
public func sv_filter_set_text(_ filter: OpaquePointer?, _ filter_field: Int32, _ text: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let box = try FilterBox.from(filter)
        let value = try optionalCString(text, "text")
        switch sv_filter_field(rawValue: filter_field) {
        case .process: box.filter.process = value
        case .processGlob:
            if let value { try RecordFilter(processGlob: value).validate() }
            box.filter.processGlob = value
        case .after: box.filter.after = try value.map { try RecordKey(token: $0) }
        default: throw SpikeVaultError(.invalidArgument, "filter field \(filter_field) does not take text")
        }
    }
}

/// Resets one criterion to "any" (METRIC and STATUS: the whole list; ORDER: SV_ORDER_TIME_DESC;
/// LIMIT: none).
@c(sv_filter_clear)
public func sv_filter_clear(_ filter: OpaquePointer?, _ filter_field: Int32) -> Int32 {
    guarded {
        let box = try FilterBox.from(filter)
        switch sv_filter_field(rawValue: filter_field) {
        case .metric: box.filter.metrics = []
        case .status: box.filter.statuses = []
        case .pid: box.filter.pid = nil
        case .since: box.filter.since = nil
        case .until: box.filter.until = nil
        case .order: box.filter.order = .timeDescending
        case .limit: box.filter.limit = nil
        case .minValue: box.filter.minValue = nil
        case .maxValue: box.filter.maxValue = nil
        case .process: box.filter.process = nil
        case .processGlob: box.filter.processGlob = nil
        case .after: box.filter.after = nil
        case nil: throw SpikeVaultError(.invalidArgument, "unknown filter field \(filter_field)")
        }
    }
}

/// Opens a cursor over the captures matching `filter` (NULL: all), in its order and limit;
/// read rows with the sv_cursor_* accessors and continue with SV_FILTER_AFTER set to the
/// last row's sv_cursor_key. Errors: SV_ERR_INVALID_ARGUMENT for an inverted time or value
/// range. The cursor streams: it reads bounded pages as it goes (memory O(page) for any
/// result) and sees the captures stored when it opened, never one saved later; captures
/// deleted before it reaches them are skipped (docs/streaming.md). The vault stays usable
/// from other threads meanwhile. The caller owns *out_cursor (sv_cursor_close). Thread-safe.
@c(sv_vault_query)
public func sv_vault_query(_ vault: OpaquePointer?, _ filter: OpaquePointer?, _ out_cursor: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_cursor, "out_cursor")
        out.pointee = nil
        let source = try Vault.from(vault).cursor(try filterOf(filter))
        out.pointee = Handles.shared.register(CursorBox(streaming: source))
    }
}

/// *out_count receives how many captures match `filter` (NULL: all), ignoring its order, limit
/// and SV_FILTER_AFTER. Thread-safe.
@c(sv_vault_count)
public func sv_vault_count(_ vault: OpaquePointer?, _ filter: OpaquePointer?, _ out_count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try requireOut(out_count, "out_count")
        let n = try Vault.from(vault).count(try filterOf(filter))
        out.pointee = n
    }
}

/// The current row's pagination key ("<ms>:<16 hex digits>:<id>"), for SV_FILTER_AFTER. Owned
/// by the cursor: valid until the next sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_key)
public func sv_cursor_key(_ cursor: OpaquePointer?) -> UnsafePointer<CChar>? {
    guardedValue(nil) {
        let c = try CursorBox.from(cursor)
        return c.keep(RecordKey(try c.current).token)
    }
}

/// A short report of capture `id` ("copy summary"): SV_FORMAT_TEXT or SV_FORMAT_JSON, with
/// the time in UTC and local time, backends run, sizes, top 5 stacks or busiest threads.
/// Redacted unless `flags` has SV_EXPORT_NO_REDACT. *out_text receives UTF-8 text the caller
/// frees with sv_free. Thread-safe.
@c(sv_vault_summary)
public func sv_vault_summary(_ vault: OpaquePointer?, _ id: Int64, _ format: Int32, _ flags: Int32,
                             _ out_text: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_text, "out_text")
        out.pointee = nil
        let f: SummaryFormat
        switch sv_format(rawValue: format) {
        case .text: f = .text
        case .json: f = .json
        default: throw SpikeVaultError(.invalidArgument, "a summary is SV_FORMAT_TEXT or SV_FORMAT_JSON, got \(format)")
        }
        let text = try Vault.from(vault).summary(id: id, format: f, redactor: try exportOptions(flags).redactor)
        try giveString(text, out)
    }
}

/// Writes the stacks of capture `id` to `dest_path` as SV_FORMAT_FOLDED, SV_FORMAT_SPEEDSCOPE or
/// SV_FORMAT_PPROF (gzip-compressed profile.proto with the process, pid, trigger and host as
/// labels and comments), atomically. `kind` picks the artefact (NULL: "oncpu.folded", else the
/// first "*.folded"; none gives SV_ERR_NOT_FOUND; for SV_FORMAT_PPROF a kind not ending in
/// ".folded" gives SV_ERR_INVALID_ARGUMENT). `flags`: SV_EXPORT_* bits. An existing file gives
/// SV_ERR_ALREADY_EXISTS without SV_EXPORT_OVERWRITE; a missing directory SV_ERR_NOT_FOUND.
/// Thread-safe.
@c(sv_vault_export_stacks)
public func sv_vault_export_stacks(_ vault: OpaquePointer?, _ id: Int64, _ kind: UnsafePointer<CChar>?, _ format: Int32,
                                   _ dest_path: UnsafePointer<CChar>?, _ flags: Int32) -> Int32 {
    guarded {
        let f: StackFormat
        switch sv_format(rawValue: format) {
        case .folded: f = .folded
        case .speedscope: f = .speedscope
        case .pprof: f = .pprof
        default: throw SpikeVaultError(.invalidArgument,
                                       "stacks are SV_FORMAT_FOLDED, SV_FORMAT_SPEEDSCOPE or SV_FORMAT_PPROF, got \(format)")
        }
        let dest = try cString(dest_path, "dest_path")
        try Vault.from(vault).exportStacks(captureID: id, kind: try optionalCString(kind, "kind"), format: f, to: dest,
                                        options: try exportOptions(flags))
    }
}

/// Writes the captures matching `filter` (NULL: all) to `dest_path` as SV_FORMAT_JSON (an
/// array), SV_FORMAT_NDJSON or SV_FORMAT_CSV, atomically. Redacted unless SV_EXPORT_NO_REDACT.
/// An existing file gives SV_ERR_ALREADY_EXISTS unless SV_EXPORT_OVERWRITE; a missing
/// directory gives SV_ERR_NOT_FOUND. *out_count (may be NULL) receives the rows written.
/// Thread-safe; the vault stays usable by other threads meanwhile (rows are read in pages).
@c(sv_vault_export_records)
public func sv_vault_export_records(_ vault: OpaquePointer?, _ filter: OpaquePointer?, _ format: Int32,
                                    _ dest_path: UnsafePointer<CChar>?, _ flags: Int32,
                                    _ out_count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let f = try recordFormat(format)
        let dest = try cString(dest_path, "dest_path")
        let n = try Vault.from(vault).exportRecords(try filterOf(filter), format: f, to: dest, options: try exportOptions(flags))
        out_count?.pointee = Int64(n)
    }
}

/// sv_vault_export_records, streamed to the open descriptor `fd` (a pipe, a socket, stdout)
/// page by page as rows are read: same bytes, no file, no atomicity. `fd` stays the caller's
/// (not closed, not synced). SV_EXPORT_OVERWRITE is ignored. *out_count (may be NULL)
/// receives the rows written, also when a write fails part way. SV_ERR_INVALID_ARGUMENT for a
/// negative or closed fd; SV_ERR_IO (or the errno's status) when a write fails (EPIPE: the
/// reader left). Thread-safe; the vault stays usable by other threads meanwhile.
@c(sv_vault_write_records)
public func sv_vault_write_records(_ vault: OpaquePointer?, _ filter: OpaquePointer?, _ format: Int32, _ fd: Int32,
                                   _ flags: Int32, _ out_count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        out_count?.pointee = 0
        let f = try recordFormat(format)
        let v = try Vault.from(vault)
        let criteria = try filterOf(filter)
        let options = try exportOptions(flags)
        guard fd >= 0, fcntl(fd, F_GETFL) >= 0 else {
            throw SpikeVaultError(.invalidArgument, "fd \(fd) is not an open file descriptor")
        }
        out_count?.pointee = Int64(try v.writeRecords(criteria, format: f, fd: fd, options: options))
    }
}

private func recordFormat(_ format: Int32) throws -> ExportFormat {
    switch sv_format(rawValue: format) {
    case .json: return .json
    case .ndjson: return .ndjson
    case .csv: return .csv
    case .parquet: throw SpikeVaultError(.invalidArgument, "Parquet is a directory tree: use sv_vault_export_parquet")
    default: throw SpikeVaultError(.invalidArgument, "records export as SV_FORMAT_JSON, _NDJSON or _CSV, got \(format)")
    }
}

/// Writes a support bundle: one ustar file at `dest_path` holding metadata.json (the records
/// as in SV_FORMAT_JSON plus the list of files) and the artefacts of the captures matching
/// `filter` as zstd frames under artefacts/. Each artefact is verified first (checksum,
/// bounds); a corrupt or missing one is left out and listed in metadata.json. Redacted
/// (unless SV_EXPORT_NO_REDACT), artefact contents are redacted and re-compressed, and a
/// binary artefact is withheld (listed). Atomic. A filter matching nothing gives
/// a valid archive whose metadata has "records": [] (SV_OK, *out_count 0). `progress` (may be
/// NULL) is called ON THE CALLING THREAD, before the first byte and after each chunk, with the
/// artefact bytes done and the total; return nonzero from it to cancel (SV_ERR_CANCELLED,
/// nothing is written). *out_count (may be NULL) receives the number of captures. Thread-safe.
@c(sv_vault_export_bundle)
public func sv_vault_export_bundle(_ vault: OpaquePointer?, _ filter: OpaquePointer?, _ dest_path: UnsafePointer<CChar>?,
                                   _ flags: Int32,
                                   _ progress: (@convention(c) (Int64, Int64, UnsafeMutableRawPointer?) -> Int32)?,
                                   _ user_data: UnsafeMutableRawPointer?, _ out_count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let result = try writeBundle(vault, filter, dest_path, flags, progress, user_data)
        out_count?.pointee = Int64(result.records)  // not folded into one line: `?.` would skip the call
    }
}

/// sv_vault_export_bundle, and *out_report (may be NULL) receives what was left out, as the
/// UTF-8 JSON object `{"records":N,"files":N,"missing":[…],"corrupt":[…],"withheld":[…]}`
/// (each entry `{"captureId","kind","reason"}`: file gone, failed its checksum or bounds, or
/// binary and so not redactable), which the caller frees with sv_free. The same lists are in
/// the bundle's metadata.json. On an error *out_report is NULL. Thread-safe.
@c(sv_vault_export_bundle_report)
public func sv_vault_export_bundle_report(_ vault: OpaquePointer?, _ filter: OpaquePointer?, _ dest_path: UnsafePointer<CChar>?,
                                          _ flags: Int32,
                                          _ progress: (@convention(c) (Int64, Int64, UnsafeMutableRawPointer?) -> Int32)?,
                                          _ user_data: UnsafeMutableRawPointer?,
                                          _ out_report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded {
        out_report?.pointee = nil
        let result = try writeBundle(vault, filter, dest_path, flags, progress, user_data)
        if let out_report { try giveString(result.reportJSON, out_report) }
    }
}

private func writeBundle(_ vault: OpaquePointer?, _ filter: OpaquePointer?, _ dest_path: UnsafePointer<CChar>?, _ flags: Int32,
                         _ progress: (@convention(c) (Int64, Int64, UnsafeMutableRawPointer?) -> Int32)?,
                         _ user_data: UnsafeMutableRawPointer?) throws -> BundleResult {
    let dest = try cString(dest_path, "dest_path")
    return try Vault.from(vault).exportBundle(try filterOf(filter), to: dest, options: try exportOptions(flags)) { p in
        guard let progress else { return true }
        return progress(p.doneBytes, p.totalBytes, user_data) == 0
    }
}

/// Runs a built-in analysis (SV_ANALYTICS_*) in SQLite over captures in [since_ms, until_ms).
/// *out_json receives a JSON array of row objects (keys listed with each SV_ANALYTICS_* value)
/// that the caller frees with sv_free. An inverted range gives SV_ERR_INVALID_ARGUMENT.
/// Thread-safe.
@c(sv_vault_analytics)
public func sv_vault_analytics(_ vault: OpaquePointer?, _ analysis: Int32, _ since_ms: Int64, _ until_ms: Int64,
                               _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_json, "out_json")
        out.pointee = nil
        let text = try Vault.from(vault).analytics(try template(analysis), since: Timestamp(milliseconds: since_ms),
                                                until: Timestamp(milliseconds: until_ms))
        try giveString(text, out)
    }
}

/// Exports a snapshot of the vault's tables (profile_capture, capture_artefact; same columns;
/// redacted unless SV_EXPORT_NO_REDACT) into a new DuckDB database at `dest_path`, through
/// the duckdb command-line tool: `duckdb_path` (may be NULL), else $SPIKEVAULT_DUCKDB, else
/// duckdb in PATH. No tool gives SV_ERR_UNSUPPORTED (sv_errmsg says how to install it:
/// `pip install duckdb-cli`). The tool runs as a child process (posix_spawn, no shell) on the
/// calling thread. *out_count (may be NULL) receives the number of captures. Thread-safe.
@c(sv_vault_export_duckdb)
public func sv_vault_export_duckdb(_ vault: OpaquePointer?, _ dest_path: UnsafePointer<CChar>?,
                                   _ duckdb_path: UnsafePointer<CChar>?, _ flags: Int32,
                                   _ out_count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let dest = try cString(dest_path, "dest_path")
        let n = try Vault.from(vault).exportDuckDB(to: dest, options: try exportOptions(flags),
                                                duckdbPath: try optionalCString(duckdb_path, "duckdb_path"))
        out_count?.pointee = Int64(n)
    }
}

/// Runs a built-in analysis over a snapshot made by sv_vault_export_duckdb, in DuckDB (the
/// same SQL as sv_vault_analytics, so the answers match). *out_json receives a JSON array the
/// caller frees with sv_free. Errors: SV_ERR_UNSUPPORTED without the duckdb tool,
/// SV_ERR_NOT_FOUND for a missing snapshot. Thread-safe.
@c(sv_duckdb_analytics)
public func sv_duckdb_analytics(_ snapshot_path: UnsafePointer<CChar>?, _ analysis: Int32, _ since_ms: Int64,
                                _ until_ms: Int64, _ duckdb_path: UnsafePointer<CChar>?,
                                _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_json, "out_json")
        out.pointee = nil
        let snapshot = try cString(snapshot_path, "snapshot_path")
        let text = try DuckDB.analytics(snapshot: snapshot, template: try template(analysis),
                                        since: Timestamp(milliseconds: since_ms), until: Timestamp(milliseconds: until_ms),
                                        duckdbPath: try optionalCString(duckdb_path, "duckdb_path"))
        try giveString(text, out)
    }
}

/// Re-runs capture `id`: captures the same process again with the same request (backend,
/// duration, interval, trigger; notes plus "rerunOf"), synchronously on the calling thread,
/// if the pid still belongs to the same process (same start time). A process that exited or
/// whose pid was reused gives SV_ERR_NO_SUCH_PROCESS; a capture not made by sv_capture_*
/// or made with SV_BACKEND_COMMAND gives SV_ERR_UNSUPPORTED. *out_id (may be NULL) receives
/// the new capture's id. Thread-safe.
@c(sv_vault_rerun)
public func sv_vault_rerun(_ vault: OpaquePointer?, _ id: Int64, _ out_id: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let record = try Vault.from(vault).rerun(id: id)
        out_id?.pointee = record.id
    }
}
