import SpikeVault

/// Heap box behind an `sv_request *` handle: a capture request being built.
final class RequestBox: @unchecked Sendable {
    var request = CaptureRequest(pid: 0, metric: .cpu, value: 0)
}

/// Heap box behind an `sv_job *` handle: one asynchronous capture, or one background write
/// (sv_vault_save_start and friends, WriteExports.swift).
final class JobBox: @unchecked Sendable {
    var job: CaptureJob?
    var write: WriteJob?
}

/// Creates a capture request with the defaults (backend SV_BACKEND_AUTO, duration 5 s,
/// interval 0.1 s, metric SV_METRIC_CPU with value 0, each backend's default rate, notes "{}"); set at
/// least the pid. The caller owns *out_request and releases it with sv_request_free; it can be
/// used for several captures. Use one request from one thread at a time.
@c(sv_request_new)
public func sv_request_new(_ out_request: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    RequestBox.new(out_request) { RequestBox() }
}

/// Releases a request handle. NULL is a no-op (SV_OK); freeing twice gives SV_ERR_CLOSED.
/// Captures already started keep their own copy of the request.
@c(sv_request_free)
public func sv_request_free(_ request: OpaquePointer?) -> Int32 {
    RequestBox.freeHandle(request)
}

/// Sets the process to capture (1 to 2^31-1).
@c(sv_request_set_pid)
public func sv_request_set_pid(_ request: OpaquePointer?, _ pid: Int64) -> Int32 {
    RequestBox.with(request) { box in
        guard pid > 0, let p = Int32(exactly: pid) else {
            throw SpikeVaultError(.invalidArgument, "pid must be between 1 and \(Int32.max), got \(pid)")
        }
        box.request.pid = p
    }
}

/// Sets what spiked (an SV_METRIC_* value) and its finite value, stored with the capture.
@c(sv_request_set_trigger)
public func sv_request_set_trigger(_ request: OpaquePointer?, _ metric: Int32, _ value: Double) -> Int32 {
    RequestBox.with(request) { box in
        let m = try sv_metric.from(metric)
        guard value.isFinite else { throw SpikeVaultError(.invalidArgument, "trigger value must be finite, got \(value)") }
        box.request.metric = m
        box.request.value = value
    }
}

/// Sets how long to capture, in seconds: more than 0, at most 3600 (checked when the capture
/// starts, with the interval).
@c(sv_request_set_duration)
public func sv_request_set_duration(_ request: OpaquePointer?, _ seconds: Double) -> Int32 {
    RequestBox.with(request) { box in
        guard seconds.isFinite && seconds > 0 && seconds <= CaptureRequest.maxDurationSeconds else {
            throw SpikeVaultError(.invalidArgument, "duration must be in (0, 3600] seconds, got \(seconds)")
        }
        box.request.durationSeconds = seconds
    }
}

/// Sets the sampling interval of the procfs, eu-stack and gdb backends, in seconds
/// (0.01 to 60, and not longer than the duration).
@c(sv_request_set_interval)
public func sv_request_set_interval(_ request: OpaquePointer?, _ seconds: Double) -> Int32 {
    RequestBox.with(request) { box in
        guard seconds.isFinite && seconds >= CaptureRequest.minIntervalSeconds && seconds <= CaptureRequest.maxIntervalSeconds else {
            throw SpikeVaultError(.invalidArgument, "interval must be in [0.01, 60] seconds, got \(seconds)")
        }
        box.request.intervalSeconds = seconds
    }
}

/// Chooses the backend (an SV_BACKEND_* value). SV_BACKEND_AUTO runs procfs and the best stack
/// sampler present: py-spy for a CPython target, then perf when the kernel allows it (checked
/// once per vault), then eu-stack, then gdb. SAMPLE and SPINDUMP exist on macOS only and
/// give SV_ERR_UNSUPPORTED elsewhere when the capture starts.
@c(sv_request_set_backend)
public func sv_request_set_backend(_ request: OpaquePointer?, _ backend: Int32) -> Int32 {
    RequestBox.with(request) { box in box.request.backend = try sv_backend.from(backend) }
}

/// Sets the argv template of SV_BACKEND_COMMAND: `argc` UTF-8 strings (copied), the first
/// naming the tool (looked up in PATH; never run through a shell). In each argument `{pid}`,
/// `{duration}` (whole seconds) and `{output}` (a file the tool must write) are replaced.
@c(sv_request_set_command)
public func sv_request_set_command(_ request: OpaquePointer?, _ argv: UnsafePointer<UnsafePointer<CChar>?>?, _ argc: UInt) -> Int32 {
    RequestBox.with(request) { box in
        guard let argv else { throw SpikeVaultError(.nullArgument, "argv is NULL") }
        guard argc > 0 && argc <= 4096 else { throw SpikeVaultError(.invalidArgument, "argc must be 1 to 4096, got \(argc)") }
        box.request.commandTemplate = try (0..<Int(argc)).map { try cString(argv[$0], "argv[\($0)]") }
    }
}

/// Sets the stack sampling rate in Hz of the request's stack backend: perf `-F` (default 999),
/// py-spy `-r` (default 100), eu-stack/gdb snapshots per second (default: one per interval).
/// Any finite value in (0, 10000] is accepted here; the capture's start refuses with
/// SV_ERR_INVALID_ARGUMENT a rate above the chosen backend's maximum (py-spy 1000, eu-stack 100,
/// gdb 10; `auto` lowers it to the maximum of a fallback and says so in the notes). Out of
/// range or not finite: SV_ERR_INVALID_ARGUMENT, the request unchanged.
@c(sv_request_set_rate)
public func sv_request_set_rate(_ request: OpaquePointer?, _ hertz: Double) -> Int32 {
    RequestBox.with(request) { box in
        guard hertz.isFinite && hertz > 0 && hertz <= CaptureRequest.maxRateHz else {
            throw SpikeVaultError(.invalidArgument, "rate must be more than 0 and at most 10000 Hz, got \(hertz)")
        }
        box.request.rateHz = hertz
    }
}

/// Older name of sv_request_set_rate taking whole Hz (1 to 10000); same effect.
@c(sv_request_set_perf_frequency)
public func sv_request_set_perf_frequency(_ request: OpaquePointer?, _ hertz: Int64) -> Int32 {
    RequestBox.with(request) { box in
        guard hertz >= 1 && hertz <= 10_000 else { throw SpikeVaultError(.invalidArgument, "perf frequency must be 1 to 10000 Hz, got \(hertz)") }
        box.request.rateHz = Double(hertz)
    }
}

/// Sets the host's notes for the stored capture: a JSON object as UTF-8 (copied; checked when
/// the capture starts). The library adds its own facts under the key "capture".
@c(sv_request_set_notes)
public func sv_request_set_notes(_ request: OpaquePointer?, _ json: UnsafePointer<CChar>?) -> Int32 {
    RequestBox.with(request) { box in box.request.notes = try cString(json, "json") }
}

/// Chooses the metric collectors run beside the backend: `names` is a comma-separated list of
/// "fds", "threads", "memory", "diskIO", "network" (copied), "" for none, NULL for the default
/// (backend SV_BACKEND_AUTO picks by the trigger metric; other backends run none). Unknown or
/// repeated names give SV_ERR_INVALID_ARGUMENT and leave the request unchanged.
/// Use one request from one thread at a time.
@c(sv_request_set_collectors)
public func sv_request_set_collectors(_ request: OpaquePointer?, _ names: UnsafePointer<CChar>?) -> Int32 {
    RequestBox.with(request) { box in
        guard let names else { box.request.collectors = nil; return }
        box.request.collectors = try MetricCollector.parseList(try cString(names, "names"))
    }
}

/// Captures synchronously on the calling thread: blocks for about the request's duration, then
/// stores the artefacts and the row together. *out_id (may be NULL) receives the capture id.
/// A target that exits or is replaced mid-capture still gives SV_OK with the row's status
/// SV_CAPTURE_PARTIAL or SV_CAPTURE_FAILED and the reason in its notes. Errors:
/// SV_ERR_NO_SUCH_PROCESS, SV_ERR_PERMISSION (naming the setting that refused),
/// SV_ERR_NOT_FOUND (tool missing), SV_ERR_UNSUPPORTED, SV_ERR_COOLDOWN. Thread-safe; do not
/// call it from a capture callback of a vault with one worker.
@c(sv_capture_run)
public func sv_capture_run(_ vault: OpaquePointer?, _ request: OpaquePointer?, _ out_id: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let v = try Vault.from(vault)
        let r = try RequestBox.from(request).request
        let record = try v.capture(r)  // not inline: `out_id?.pointee = try …` skips the call on NULL
        out_id?.pointee = record.id
    }
}

/// Starts an asynchronous capture on the vault's worker pool and returns at once.
/// `callback` (may be NULL) is called exactly once, ON A LIBRARY WORKER THREAD (or on the thread
/// closing the vault, for captures it cancels), with the job, its final status (SV_OK, an
/// error, or SV_ERR_CANCELLED), the new capture id (0 unless SV_OK) and `user_data`; it must not
/// close the vault. *out_job receives a handle the caller owns and frees with sv_job_free
/// (freeing it does not cancel the capture). Errors at start: SV_ERR_BUSY when the workers and
/// the queue are full (SV_OPT_CAPTURE_WORKERS, SV_OPT_CAPTURE_QUEUE_CAPACITY), SV_ERR_COOLDOWN,
/// and the request errors of sv_capture_run; then no callback is made. Thread-safe.
@c(sv_capture_start)
public func sv_capture_start(_ vault: OpaquePointer?, _ request: OpaquePointer?,
                             _ callback: (@convention(c) (OpaquePointer?, Int32, Int64, UnsafeMutableRawPointer?) -> Void)?,
                             _ user_data: UnsafeMutableRawPointer?, _ out_job: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_job, "out_job")
        out.pointee = nil
        let v = try Vault.from(vault)
        let r = try RequestBox.from(request).request
        let box = JobBox()
        let handle = Handles.shared.register(box)
        let handleBits = UInt(bitPattern: Int(bitPattern: handle))
        let userBits = UInt(bitPattern: user_data)
        do {
            box.job = try v.startCapture(r) { job in
                guard let callback else { return }
                let (status, id) = jobStatus(job.result)
                callback(OpaquePointer(bitPattern: handleBits), status, id, UnsafeMutableRawPointer(bitPattern: userBits))
            }
        } catch {
            _ = try? JobBox.remove(handle)
            throw error
        }
        out.pointee = handle
    }
}

private func jobStatus(_ result: Result<ProfileRecord, SpikeVaultError>?) -> (Int32, Int64) {
    switch result {
    case .success(let record)?: return (sv_status.ok.rawValue, record.id)
    case .failure(let e)?:
        ErrorState.set(e.message)
        return (sv_status(e.status).rawValue, 0)
    case nil: return (sv_status.timeout.rawValue, 0)
    }
}

/// Waits for an asynchronous capture to finish, at most `timeout_ms` milliseconds (negative:
/// no limit); "finished" includes its callback having returned, so user_data may be freed
/// after this. Returns SV_ERR_TIMEOUT if it is still running, else its final status (SV_OK with
/// *out_id, which may be NULL, set to the capture id; or the capture's error, with sv_errmsg).
/// For a background write (sv_vault_save_start, _purge_start, _maintain_start) *out_id gets
/// the write's value (capture id, captures deleted, captures purged).
/// Thread-safe; do not call from the job's own callback.
@c(sv_job_wait)
public func sv_job_wait(_ job: OpaquePointer?, _ timeout_ms: Int64, _ out_id: UnsafeMutablePointer<Int64>?) -> Int32 {
    var status = sv_status.ok.rawValue
    let lookup = guarded {
        let box = try JobBox.from(job)
        if let w = box.write {
            guard let result = w.wait(timeoutSeconds: timeout_ms < 0 ? nil : Double(timeout_ms) / 1000) else {
                throw SpikeVaultError(.timeout, "background write still queued or running after \(timeout_ms) ms")
            }
            let (s, value) = writeStatus(result)
            status = s
            out_id?.pointee = value
            return
        }
        guard let j = box.job else {
            throw SpikeVaultError(.internalError, "job has no capture")
        }
        let result = j.wait(timeoutSeconds: timeout_ms < 0 ? nil : Double(timeout_ms) / 1000)
        if result == nil { throw SpikeVaultError(.timeout, "capture still running after \(timeout_ms) ms") }
        let (s, id) = jobStatus(result)
        status = s
        out_id?.pointee = id
    }
    return lookup == sv_status.ok.rawValue ? status : lookup
}

/// Asks an asynchronous capture to stop: a queued one never starts, a running one stops its
/// tools and stores nothing; it finishes with SV_ERR_CANCELLED (its callback still runs once).
/// A background write still queued never runs and finishes with SV_ERR_CANCELLED; a running
/// one completes. No effect on a finished job. Thread-safe.
@c(sv_job_cancel)
public func sv_job_cancel(_ job: OpaquePointer?) -> Int32 {
    guarded {
        let box = try JobBox.from(job)
        box.job?.cancel()
        box.write?.cancel()
    }
}

/// Releases a job handle. The capture itself goes on and its callback still runs (with this
/// handle value, which is then no longer valid to pass to the library). NULL is a no-op
/// (SV_OK); freeing twice gives SV_ERR_CLOSED.
@c(sv_job_free)
public func sv_job_free(_ job: OpaquePointer?) -> Int32 {
    JobBox.freeHandle(job)
}
