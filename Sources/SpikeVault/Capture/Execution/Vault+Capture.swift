/// Capturing a live process into the vault: run the backends into a scratch directory, then
/// store their output as one capture (same save protocol, same retention as any record).
extension Vault {
    /// Captures synchronously on the calling thread (blocks for about the request's duration)
    /// and returns the stored record. Subject to the per-process cooldown.
    ///
    /// - Throws: `.noSuchProcess`, `.permission`, `.unsupported`, `.notFound` (tool missing),
    ///   `.invalidArgument`, `.cooldown`, `.cancelled`, or a storage error. A target that exits
    ///   or is replaced mid-capture is not an error: the record's status is `partial`/`failed`.
    public func capture(_ request: CaptureRequest, cancel: CancelFlag = CancelFlag()) throws -> ProfileRecord {
        let identity = try prepare(request)
        try scheduler().claimCooldown(Self.cooldownKey(request, identity))
        return try performCapture(request, cancel: cancel)
    }

    /// Queues a capture on the vault's worker pool and returns at once. `completion` runs
    /// exactly once on a library thread when it finishes (or is cancelled). Throws `.busy`
    /// when the pool and queue are full, `.cooldown` within the cooldown window.
    /// `extraArtefacts` are stored with the capture's own (the monitor's `history.json`).
    public func startCapture(_ request: CaptureRequest, extraArtefacts: [NewArtefact] = [],
                             completion: (@Sendable (CaptureJob) -> Void)? = nil) throws -> CaptureJob {
        let identity = try prepare(request)
        for a in extraArtefacts { try NewArtefact.validateKind(a.kind) }
        let job = CaptureJob(request: request, extraArtefacts: extraArtefacts, completion: completion)
        try scheduler().submit(job, cooldownKey: Self.cooldownKey(request, identity))
        return job
    }

    private static func cooldownKey(_ r: CaptureRequest, _ id: ProcessIdentity) -> CaptureScheduler.CooldownKey {
        CaptureScheduler.CooldownKey(pid: r.pid, startTime: id.startTimeTicks, metric: r.metric)
    }

    /// Validates what can be checked before queueing: the request, the vault, the notes and
    /// that the process exists and may be inspected.
    private func prepare(_ request: CaptureRequest) throws -> ProcessIdentity {
        try request.validate()
        try requireJSONObject(request.notes)
        return try ProcessIdentity.read(pid: request.pid)
    }

    func performCapture(_ request: CaptureRequest, cancel: CancelFlag, extra: [NewArtefact] = []) throws -> ProfileRecord {
        let work = try WorkDirectory.create(in: path)
        defer { work.remove() }
        let outcome = try runCapture(request, workDirectory: work.path, cancel: cancel, context: captureContext)
        if cancel.isCancelled { throw SpikeVaultError(.cancelled, "capture of pid \(request.pid) was cancelled") }
        let artefacts = outcome.artefacts.filter { Self.fileSize($0.path) > 0 }
            .map { NewArtefact(kind: $0.kind, filePath: $0.path) } + extra
        let record = ProfileRecord(
            processName: outcome.identity.comm.isEmpty ? "pid \(request.pid)" : outcome.identity.comm,
            pid: request.pid, triggerMetric: request.metric, triggerValue: request.value,
            capturedAt: Timestamp(milliseconds: Int64((outcome.startedAtUnixSeconds * 1000).rounded(.down))),
            durationSeconds: max(0, outcome.elapsedSeconds),
            notes: try mergedNotes(request.notes, CaptureNotes.json(outcome, request)),
            status: outcome.status, processStartTime: Int64(exactly: outcome.identity.startTimeTicks))
        return try save(record, artefacts: artefacts)
    }

    /// The host's notes with the capture's own facts added under the key `capture`.
    private func mergedNotes(_ hostNotes: String, _ captureJSON: String) throws -> String {
        try withScratch { db in
            let st = try db.statement("SELECT json_set(?1, '$.capture', json(?2))")
            st.bind(1, hostNotes)
            st.bind(2, captureJSON)
            defer { st.reset() }
            guard try st.step(), let merged = st.text(0) else {
                throw SpikeVaultError(.internalError, "could not merge capture notes")
            }
            return merged
        }
    }

    private static func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }
}

/// The `capture` object stored in a captured record's notes (documented in docs/capture.md).
enum CaptureNotes {
    static func json(_ o: CaptureOutcome, _ r: CaptureRequest) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("backend", r.backend.rawValue)
        w.field("requestedDurationSeconds", r.durationSeconds)
        w.field("intervalSeconds", r.intervalSeconds)
        w.field("rateHz", r.rateHz)
        w.field("backendsRun", strings: o.backendsRun)
        w.key("backendsSkipped")
        w.beginArray()
        for s in o.backendsSkipped {
            w.beginObject()
            w.field("backend", s.backend)
            w.field("reason", s.reason)
            w.endObject()
        }
        w.endArray()
        w.field("reason", o.reason)
        w.field("notes", strings: o.notes)
        w.field("exe", o.identity.exe)
        w.field("cmdline", strings: o.identity.cmdline)
        w.field("uid", o.identity.uid.map { Int($0) })
        w.field("startTimeTicks", o.identity.startTimeTicks)
        w.key("stats")
        w.beginObject()
        for (backend, numbers) in o.stats.sorted(by: { $0.key < $1.key }) {
            w.key(backend)
            w.beginObject()
            for (k, v) in numbers.sorted(by: { $0.key < $1.key }) { w.field(k, v) }
            w.endObject()
        }
        w.endObject()
        if let m = o.metric { MetricNotes.write(&w, m, metric: r.metric) }
        w.endObject()
        return w.takeText()
    }
}
