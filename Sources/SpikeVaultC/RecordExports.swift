import SpikeVault

/// Heap box behind an `sv_record *` handle: a record being built for sv_vault_save.
final class RecordBox: @unchecked Sendable {
    var record = ProfileRecord(processName: "", pid: 0, triggerMetric: .cpu, triggerValue: 0)
    var triggerSet = false
    var artefacts: [NewArtefact] = []

    /// The fields every save needs, set through their sv_record_set_* calls.
    func requireComplete() throws {
        guard !record.processName.isEmpty else {
            throw SpikeVaultError(.invalidArgument, "record has no process name (sv_record_set_process)")
        }
        guard record.pid > 0 else { throw SpikeVaultError(.invalidArgument, "record has no pid (sv_record_set_pid)") }
        guard triggerSet else { throw SpikeVaultError(.invalidArgument, "record has no trigger (sv_record_set_trigger)") }
    }
}

/// Creates an empty record to fill with the sv_record_set_* and sv_record_add_* calls and save
/// with sv_vault_save. The caller owns *out_record and releases it with sv_record_free; it can
/// be saved several times. capturedAt defaults to the time of sv_record_new. Use one record
/// from one thread at a time.
@c(sv_record_new)
public func sv_record_new(_ out_record: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    RecordBox.new(out_record) { RecordBox() }
}

/// Releases a record handle and the artefact buffers it copied. NULL is a no-op (SV_OK); a
/// record already freed gives SV_ERR_CLOSED.
@c(sv_record_free)
public func sv_record_free(_ record: OpaquePointer?) -> Int32 {
    RecordBox.freeHandle(record)
}

/// Sets the process name (UTF-8, 1-4096 bytes, copied). Non-UTF-8 gives SV_ERR_ENCODING:
/// names are stored as text, so a host holding raw bytes must escape them first.
@c(sv_record_set_process)
public func sv_record_set_process(_ record: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> Int32 {
    RecordBox.with(record) { box in
        let s = try cString(name, "name")
        guard !s.isEmpty && s.utf8.count <= 4096 else {
            throw SpikeVaultError(.invalidArgument, "process name must be 1-4096 bytes, got \(s.utf8.count)")
        }
        box.record.processName = s
    }
}

/// Sets the process id (1 to 2^31-1; anything else gives SV_ERR_INVALID_ARGUMENT).
@c(sv_record_set_pid)
public func sv_record_set_pid(_ record: OpaquePointer?, _ pid: Int64) -> Int32 {
    RecordBox.with(record) { box in
        guard pid > 0, let p = Int32(exactly: pid) else {
            throw SpikeVaultError(.invalidArgument, "pid must be between 1 and \(Int32.max), got \(pid)")
        }
        box.record.pid = p
    }
}

/// Sets what spiked (an SV_METRIC_* value) and its value (finite; NaN and infinities give
/// SV_ERR_INVALID_ARGUMENT).
@c(sv_record_set_trigger)
public func sv_record_set_trigger(_ record: OpaquePointer?, _ metric: Int32, _ value: Double) -> Int32 {
    RecordBox.with(record) { box in
        let m = try sv_metric.from(metric)
        guard value.isFinite else { throw SpikeVaultError(.invalidArgument, "trigger value must be finite, got \(value)") }
        box.record.triggerMetric = m
        box.record.triggerValue = value
        box.triggerSet = true
    }
}

/// Sets the capture time in milliseconds since the Unix epoch, UTC (default: when the record
/// was created).
@c(sv_record_set_captured_at)
public func sv_record_set_captured_at(_ record: OpaquePointer?, _ unix_ms: Int64) -> Int32 {
    RecordBox.with(record) { box in
        guard unix_ms >= 0 && unix_ms <= 253_402_300_799_999 else {
            throw SpikeVaultError(.invalidArgument, "capture time must be between 1970 and 9999, got \(unix_ms) ms")
        }
        box.record.capturedAt = Timestamp(milliseconds: unix_ms)
    }
}

/// Sets how long the capture ran, in seconds (finite, >= 0).
@c(sv_record_set_duration)
public func sv_record_set_duration(_ record: OpaquePointer?, _ seconds: Double) -> Int32 {
    RecordBox.with(record) { box in
        guard seconds.isFinite && seconds >= 0 else {
            throw SpikeVaultError(.invalidArgument, "duration must be finite and >= 0, got \(seconds)")
        }
        box.record.durationSeconds = seconds
    }
}

/// Sets the notes, a JSON object as UTF-8 text (copied). Whether it is a JSON object is checked
/// by sv_vault_save, which gives SV_ERR_INVALID_ARGUMENT otherwise.
@c(sv_record_set_notes)
public func sv_record_set_notes(_ record: OpaquePointer?, _ json: UnsafePointer<CChar>?) -> Int32 {
    RecordBox.with(record) { box in box.record.notes = try cString(json, "json") }
}

/// Sets the process start time in clock ticks since boot (/proc/PID/stat field 22), used to
/// tell a process from a later one with the same pid. Must be >= 0.
@c(sv_record_set_process_start_time)
public func sv_record_set_process_start_time(_ record: OpaquePointer?, _ ticks: Int64) -> Int32 {
    RecordBox.with(record) { box in
        guard ticks >= 0 else { throw SpikeVaultError(.invalidArgument, "process start time must be >= 0, got \(ticks)") }
        box.record.processStartTime = ticks
    }
}

/// Adds an artefact read from the file at `path` when the record is saved (the file must then
/// exist, be a regular file and be non-empty; it is opened non-blocking without following a
/// symlink, so a FIFO, device, directory or link gives SV_ERR_INVALID_ARGUMENT at once). `kind` names the content (`[a-z0-9._-]`,
/// 1-64 characters, unique within the record, e.g. "procfs.json"). Both strings are copied.
@c(sv_record_add_artefact_file)
public func sv_record_add_artefact_file(_ record: OpaquePointer?, _ kind: UnsafePointer<CChar>?,
                                        _ path: UnsafePointer<CChar>?) -> Int32 {
    RecordBox.with(record) { box in
        let k = try cString(kind, "kind")
        let p = try cString(path, "path")
        guard !p.isEmpty else { throw SpikeVaultError(.invalidArgument, "artefact path is empty") }
        box.artefacts.append(NewArtefact(kind: k, filePath: p))
    }
}

/// Adds an artefact from memory: `size` bytes at `data` are copied now, so the caller may free
/// them after the call. A zero size gives SV_ERR_EMPTY; NULL data gives SV_ERR_NULL_ARGUMENT.
@c(sv_record_add_artefact_buffer)
public func sv_record_add_artefact_buffer(_ record: OpaquePointer?, _ kind: UnsafePointer<CChar>?,
                                          _ data: UnsafeRawPointer?, _ size: UInt) -> Int32 {
    RecordBox.with(record) { box in
        let k = try cString(kind, "kind")
        guard let data else { throw SpikeVaultError(.nullArgument, "data is NULL") }
        guard size > 0 else { throw SpikeVaultError(.empty, "artefact '\(k)' is empty (0 bytes)") }
        guard size <= 1 << 40 else { throw SpikeVaultError(.tooLarge, "artefact '\(k)' of \(size) bytes is too large") }
        box.artefacts.append(NewArtefact(kind: k, bytes: Array(UnsafeRawBufferPointer(start: data, count: Int(size)))))
    }
}
