extension Vault {
    /// The stacks of a capture's folded artefact as a gzip-compressed pprof `profile.proto`
    /// (docs/fleet.md, "pprof"). `kind` picks the artefact as for `stacks` and must name a
    /// `*.folded` artefact (anything else is `invalidArgument`). Frames, the process name and
    /// the host are redacted unless `redactor` is disabled.
    public func pprof(captureID: Int64, kind: String? = nil, redactor: Redactor = Redactor(),
                      compressed: Bool = true) throws -> [UInt8] {
        let record = try record(id: captureID)
        if let kind, !kind.hasSuffix(".folded") {
            throw SpikeVaultError(.invalidArgument, "pprof is written from a folded-stack artefact (*.folded), not '\(kind)'")
        }
        let k = try stackKind(record, kind)
        let folded = FoldedStacks.parse(String(decoding: try readArtefact(captureID: captureID, kind: k), as: UTF8.self))
        let meta = PprofProfile.Metadata(
            kind: k,
            processName: redactor.enabled ? redactor.redact(text: record.processName) : record.processName,
            pid: record.pid,
            trigger: "\(record.triggerMetric.rawValue) \(record.triggerValue)",
            host: record.host,
            captureID: record.id,
            timeNanos: record.capturedAt.milliseconds.multipliedReportingOverflow(by: 1_000_000).partialValue,
            durationNanos: record.durationSeconds.isFinite && record.durationSeconds >= 0 && record.durationSeconds < 1e9
                ? Int64((record.durationSeconds * 1e9).rounded()) : 0,
            periodNanos: try samplingPeriodNanos(record))
        let raw = PprofProfile.encode(folded, meta) { redactFrames($0, redactor) }
        return compressed ? Gzip.compress(raw) : raw
    }

    /// Nanoseconds per sample from the capture notes (docs/capture.md): `1/perfFrequency`
    /// when perf ran and its frequency is recorded, else `intervalSeconds` of the procfs and
    /// snapshot backends; nil when neither is there (e.g. a record saved by a host).
    func samplingPeriodNanos(_ record: ProfileRecord) throws -> Int64? {
        try withDatabase { db in
            let st = try db.statement("""
                SELECT EXISTS (SELECT 1 FROM json_each(?1, '$.capture.backendsRun') WHERE value = 'perf'),
                       json_extract(?1, '$.capture.perfFrequency'), json_extract(?1, '$.capture.intervalSeconds')
                WHERE json_valid(?1)
                """)
            st.bind(1, record.notes)
            defer { st.reset() }
            guard try st.step() else { return nil }
            let perf = st.int64(0) != 0
            let frequency = st.double(1), interval = st.double(2)
            if perf, frequency >= 1, frequency <= 1e6 { return Int64((1e9 / frequency).rounded()) }
            if !perf, interval > 0, interval <= 3600 { return Int64((interval * 1e9).rounded()) }
            return nil
        }
    }
}
