import SpikeVault

/// The simple tier (like zstd's simple API beside its advanced one): one call to capture a
/// process, and the names of enum values, so a C host needs no tables of its own.

/// Static C strings for the names, made once from the core's own names.
private enum NameText {
    nonisolated(unsafe) static let metrics: [Int32: UnsafePointer<CChar>] = Dictionary(
        uniqueKeysWithValues: TriggerMetric.allCases.map { (sv_metric.number($0), UnsafePointer(strdup($0.rawValue)!)) })
    nonisolated(unsafe) static let captureStatuses: [Int32: UnsafePointer<CChar>] = Dictionary(
        uniqueKeysWithValues: CaptureStatus.allCases.map {
            (sv_capture_status.number($0), UnsafePointer(strdup($0.rawValue)!))
        })
    nonisolated(unsafe) static let backends: [Int32: UnsafePointer<CChar>] = Dictionary(
        uniqueKeysWithValues: (1...Int32(CaptureBackend.allCases.count)).compactMap { raw in
            (try? sv_backend.from(raw)).map { (raw, UnsafePointer(strdup($0.rawValue)!)) }
        })
    nonisolated(unsafe) static let statuses: [Int32: UnsafePointer<CChar>] = Dictionary(
        uniqueKeysWithValues: Status.allCases.map { ($0.rawValue, UnsafePointer(strdup(constantName($0))!)) })

    /// `invalidArgument` (-1) -> "SV_ERR_INVALID_ARGUMENT", `row` -> "SV_ROW".
    static func constantName(_ status: Status) -> String {
        var name = ""
        for ch in String(describing: status) {
            if ch.isUppercase { name += "_" }
            name += ch.uppercased()
        }
        return (status.rawValue < 0 ? "SV_ERR_" : "SV_") + name
    }
}

private func name(_ table: [Int32: UnsafePointer<CChar>], _ raw: Int32, _ what: String) -> UnsafePointer<CChar>? {
    guardedValue(nil) {
        guard let text = table[raw] else { throw SpikeVaultError(.invalidArgument, "unknown \(what) \(raw)") }
        return text
    }
}

/// Returns the name a vault stores for a metric ("cpu", "memory", "diskIO", "network",
/// "threads", "fds"). The string is static: do not free it. An unknown value gives NULL and
/// sets sv_errmsg(). Thread-safe.
@c(sv_metric_name)
public func sv_metric_name(_ metric: Int32) -> UnsafePointer<CChar>? { name(NameText.metrics, metric, "metric") }

/// Returns the name of a capture status ("complete", "partial", "failed", "missing",
/// "quarantined"). Static: do not free it. An unknown value gives NULL and sets sv_errmsg().
/// Thread-safe.
@c(sv_capture_status_name)
public func sv_capture_status_name(_ status: Int32) -> UnsafePointer<CChar>? {
    name(NameText.captureStatuses, status, "capture status")
}

/// Returns the name of a capture backend ("auto", "procfs", "eu-stack", "perf", "gdb",
/// "sample", "spindump", "command"), as stored in a capture's notes. Static: do not free it.
/// An unknown value gives NULL and sets sv_errmsg(). Thread-safe.
@c(sv_backend_name)
public func sv_backend_name(_ backend: Int32) -> UnsafePointer<CChar>? { name(NameText.backends, backend, "backend") }

/// Returns the constant's name of a status code ("SV_OK", "SV_ERR_NOT_FOUND"), for logs;
/// sv_status_string gives its description. Static: do not free it. An unknown code gives NULL
/// and sets sv_errmsg(). Thread-safe.
@c(sv_status_name)
public func sv_status_name(_ status: Int32) -> UnsafePointer<CChar>? { name(NameText.statuses, status, "status") }

/// Simple tier: captures process pid synchronously, on the calling thread, with SV_BACKEND_AUTO
/// for duration_seconds (more than 0, at most 3600; sampling every 0.1 s, or once for a shorter
/// capture) and stores it with metric (SV_METRIC_*) and value as its trigger: what
/// sv_request_new, its setters, sv_capture_run and sv_request_free do together. *out_id (may be
/// NULL) receives the new capture's id. Errors as sv_capture_run; bad arguments give
/// SV_ERR_INVALID_ARGUMENT naming the argument. Thread-safe.
@c(sv_capture_pid)
public func sv_capture_pid(_ vault: OpaquePointer?, _ pid: Int64, _ metric: Int32, _ value: Double,
                           _ duration_seconds: Double, _ out_id: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let v = try Vault.from(vault)
        guard let p = Int32(exactly: pid) else {
            throw SpikeVaultError(.invalidArgument, "pid must be between 1 and \(Int32.max), got \(pid)")
        }
        let interval = duration_seconds.isFinite && duration_seconds > 0 ? max(0.01, min(0.1, duration_seconds)) : 0.1
        let request = CaptureRequest(pid: p, metric: try sv_metric.from(metric), value: value,
                                     durationSeconds: duration_seconds, intervalSeconds: interval)
        let record = try v.capture(request)  // validates the request (CaptureRequest.validate)
        out_id?.pointee = record.id
    }
}
