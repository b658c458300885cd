/// Quick actions on a stored capture: "reveal" is `artefactPath(captureID:kind:)`; "re-run"
/// captures the same process again with the same request.
extension Vault {
    /// The capture request that produced capture `id`, rebuilt from its row and
    /// `notes.capture` (backend, requested duration, interval, rate); the host's own notes are kept
    /// and `"rerunOf": id` is added. Throws `.unsupported` for a capture that was not made by
    /// `capture` (no `notes.capture`) or used the command backend (its argv is not stored).
    public func rerunRequest(id: Int64) throws -> CaptureRequest {
        let r = try record(id: id)
        let notes = r.notes
        let fields = try withDatabase { db -> (String?, Double?, Double?, String?, Double?) in
            let st = try db.statement("""
                SELECT json_extract(?1, '$.capture.backend'), json_extract(?1, '$.capture.requestedDurationSeconds'),
                       json_extract(?1, '$.capture.intervalSeconds'), json_set(json_remove(?1, '$.capture'), '$.rerunOf', ?2),
                       json_extract(?1, '$.capture.rateHz')
                """)
            st.bind(1, notes)
            st.bind(2, id)
            defer { st.reset() }
            guard try st.step() else { return (nil, nil, nil, nil, nil) }
            return (st.text(0), st.isNull(1) ? nil : st.double(1), st.isNull(2) ? nil : st.double(2), st.text(3),
                    st.isNull(4) ? nil : st.double(4))
        }
        guard let backendName = fields.0, let backend = CaptureBackend(rawValue: backendName),
              let duration = fields.1, let interval = fields.2 else {
            throw SpikeVaultError(.unsupported, "capture \(id) was not made by SpikeVault's capture (its notes have no 'capture' object); it cannot be re-run")
        }
        if backend == .command {
            throw SpikeVaultError(.unsupported, "capture \(id) used the command backend, whose argv is not stored; start a new capture with the command")
        }
        return CaptureRequest(pid: r.pid, metric: r.triggerMetric, value: r.triggerValue, durationSeconds: duration,
                              intervalSeconds: interval, backend: backend, rateHz: fields.4, notes: fields.3 ?? "{}")
    }

    /// Captures the process of capture `id` again with the same request, if it is still the
    /// same process (same pid and start time). Synchronous, like `capture`.
    /// - Throws: `.noSuchProcess` when the pid is gone or now belongs to another process
    ///   (start time differs), `.unsupported` (see `rerunRequest`), and `capture`'s errors.
    public func rerun(id: Int64) throws -> ProfileRecord {
        let r = try record(id: id)
        let request = try rerunRequest(id: id)
        guard let start = r.processStartTime else {
            throw SpikeVaultError(.unsupported, "capture \(id) has no process start time, so the process cannot be identified again")
        }
        let now: ProcessIdentity
        do { now = try ProcessIdentity.read(pid: r.pid) } catch let e as SpikeVaultError where e.status == .noSuchProcess {
            throw SpikeVaultError(.noSuchProcess, "process \(r.pid) (\(r.processName)) of capture \(id) is no longer running")
        }
        guard Int64(exactly: now.startTimeTicks) == start else {
            throw SpikeVaultError(.noSuchProcess,
                                  "pid \(r.pid) now belongs to another process (\(now.comm), started at tick \(now.startTimeTicks), not \(start)): the process of capture \(id) has exited")
        }
        return try capture(request)
    }
}
