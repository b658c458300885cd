#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Order in which `auto` considers stack backends: py-spy (CPython targets only), perf (when
/// `PerfAccess` allows it), eu-stack, gdb; the first whose tool is in PATH runs. A backend
/// refused at start (permission, tool missing) hands over to the next one.
public let autoStackBackends: [CaptureBackend] = [.pySpy, .perf, .euStack, .gdb]

/// Captures what `request.pid` is doing, synchronously, writing raw artefacts into
/// `workDirectory` (which must exist; file names are fixed by the library, never derived from
/// process names). Blocks for about `durationSeconds` (+ tool start-up and post-processing).
///
/// `auto` runs procfs and the first available stack backend (eu-stack, perf, gdb)
/// CONCURRENTLY: procfs on a Dispatch worker, the stack backend on the calling thread, so
/// both cover the same time window. If the stack backend fails, the capture is `partial`
/// and the failure is in `backendsSkipped`.
///
/// - Throws: `.invalidArgument` (request), `.noSuchProcess`, `.permission` (target not
///   inspectable, ptrace or perf_event_paranoid refusal for an explicitly chosen backend),
///   `.notFound` (explicitly chosen tool missing from PATH), `.unsupported` (`sample`,
///   `spindump` off macOS), `.notFound` for a missing work directory.
///   The target exiting or its pid being reused is not an error: the outcome is
///   `partial`/`failed` with the reason. Cancellation gives `partial`/`failed` with reason "cancelled".
public func runCapture(_ request: CaptureRequest, workDirectory: String, cancel: CancelFlag,
                       context: CaptureContext = CaptureContext()) throws -> CaptureOutcome {
    try request.validate()
    guard CaptureSys.isDirectory(workDirectory) else {
        throw SpikeVaultError(.notFound, "work directory \(workDirectory) does not exist")
    }
    #if !os(macOS)
    if request.backend == .sample || request.backend == .spindump {
        throw SpikeVaultError(.unsupported, "backend '\(request.backend.rawValue)' is macOS-only; use procfs, eu-stack, perf or gdb on Linux")
    }
    #endif
    let identity = try ProcessIdentity.read(pid: request.pid)
    let startedAt = CaptureSys.unixSeconds()
    let t0 = CaptureSys.monotonicSeconds()

    var results: [BackendResult] = []
    var skipped: [SkippedBackend] = []

    var notes: [String] = []
    /// The backend's rate: the request's (clamped for a fallback of `auto`) or its default.
    func rate(_ b: CaptureBackend) -> Double? {
        guard let r = request.rateHz else {
            // A long perf capture at 999 Hz would hold ~1000 stacks per busy thread-second:
            // beyond 60 s the default keeps the total of a 60 s capture (at least 10 Hz).
            if b == .perf, request.durationSeconds > CaptureRequest.fullRateSeconds, let d = CaptureRequest.defaultRateHz(b) {
                let lowered = max(10, (d * CaptureRequest.fullRateSeconds / request.durationSeconds).rounded())
                notes.append("perf: default rate lowered to \(CommandTemplate.formatSeconds(lowered)) Hz for a \(CommandTemplate.formatSeconds(request.durationSeconds)) s capture")
                return lowered
            }
            return CaptureRequest.defaultRateHz(b)
        }
        let m = CaptureRequest.maxRateHz(b)
        if r > m {
            notes.append("\(b.rawValue): rate \(CommandTemplate.formatSeconds(r)) Hz lowered to its maximum \(CommandTemplate.formatSeconds(m)) Hz")
            return m
        }
        return r
    }
    func snapshotInterval(_ b: CaptureBackend) -> Double {
        guard let r = rate(b) else { return request.intervalSeconds }
        return min(1 / r, request.durationSeconds)
    }

    func runStack(_ backend: CaptureBackend) throws -> BackendResult {
        switch backend {
        case .euStack:
            return try SnapshotBackend.run(.euStack, identity: identity, intervalSeconds: snapshotInterval(.euStack),
                                           durationSeconds: request.durationSeconds, workDirectory: workDirectory, cancel: cancel)
        case .gdb:
            return try SnapshotBackend.run(.gdb, identity: identity, intervalSeconds: snapshotInterval(.gdb),
                                           durationSeconds: request.durationSeconds, workDirectory: workDirectory, cancel: cancel)
        case .perf:
            let hz = Int((rate(.perf) ?? 999).rounded())
            return try PerfBackend.run(identity: identity, frequency: max(1, hz),
                                       durationSeconds: request.durationSeconds, workDirectory: workDirectory,
                                       offCPU: context.perfAccess(), cancel: cancel)
        case .pySpy:
            let hz = Int((rate(.pySpy) ?? 100).rounded())
            return try PySpyBackend.run(identity: identity, rateHz: max(1, hz), durationSeconds: request.durationSeconds,
                                        workDirectory: workDirectory, cancel: cancel)
        case .command:
            return try CommandBackend.run(request, identity: identity, workDirectory: workDirectory, cancel: cancel)
        case .sample, .spindump:
            return try CommandBackend.runPreset(request, identity: identity, workDirectory: workDirectory, cancel: cancel)
        case .procfs, .auto:
            preconditionFailure("not a stack backend")
        }
    }

    @Sendable func runProcfs() throws -> BackendResult {
        try ProcfsSampler.run(identity: identity, intervalSeconds: request.intervalSeconds,
                              durationSeconds: request.durationSeconds,
                              outputPath: "\(workDirectory)/procfs.json", cancel: cancel)
    }

    // Metric collectors (fds, threads, memory, diskIO, network) on their own thread, same window.
    let metricRun = try MetricRunThread.start(request, identity: identity, workDirectory: workDirectory, cancel: cancel)
    defer { metricRun?.abandon() }  // a no-op once joined below; stops and joins them if a backend threw

    switch request.backend {
    case .procfs:
        results.append(try runProcfs())
    case .auto:
        var candidates: [CaptureBackend] = []
        let python = PySpyBackend.isCPython(pid: identity.pid, exe: identity.exe)
        for b in autoStackBackends {
            let tool = b.rawValue
            if b == .pySpy && !python {
                skipped.append(SkippedBackend(backend: tool, reason: "not a CPython target"))
            } else if ToolRunner.resolve(tool) == nil {
                skipped.append(SkippedBackend(backend: tool, reason: "tool '\(tool)' not found in PATH"))
            } else if b == .perf, case let access = context.perfAccess(), !access.allowed {
                skipped.append(SkippedBackend(backend: tool, reason: access.reason ?? "perf refused"))
            } else {
                candidates.append(b)
            }
        }
        // procfs on its own thread, joined below, so both backends cover the same window.
        let procfsBox = Mutex<Result<BackendResult, any Error>?>(nil)
        let procfsThread = try WorkerThread {
            let r = Result { try runProcfs() }
            procfsBox.withLock { $0 = r }
        }
        var stackResult: BackendResult?
        var ran: CaptureBackend?
        for b in candidates {
            if let ran {
                skipped.append(SkippedBackend(backend: b.rawValue, reason: "auto ran \(ran.rawValue) instead"))
                continue
            }
            do {
                stackResult = try runStack(b)
                ran = b
            } catch let e as SpikeVaultError where (e.status == .permission || e.status == .notFound) && !cancel.isCancelled {
                // Refused at start: the next backend covers (most of) the window instead.
                skipped.append(SkippedBackend(backend: b.rawValue, reason: "refused, fell back: \(e.message)"))
            } catch {
                skipped.append(SkippedBackend(backend: b.rawValue, reason: "failed: \(error)"))
                ran = b
            }
        }
        procfsThread.join()
        switch procfsBox.withLock({ $0 })! {
        case .success(let r): results.append(r)
        case .failure(let e): skipped.append(SkippedBackend(backend: "procfs", reason: "failed: \(e)"))
        }
        if let stackResult { results.append(stackResult) }
    default:
        results.append(try runStack(request.backend))
    }

    let metricResult = metricRun?.join()
    if let m = metricResult { results.append(m.backend); skipped += m.skipped }

    var reasons = results.compactMap { $0.reason }
    reasons += skipped.filter { $0.reason.hasPrefix("failed") }.map { "\($0.backend) \($0.reason)" }
    let withData = results.filter { $0.status != .failed && !$0.artefacts.isEmpty }
    let status: CaptureStatus
    if withData.isEmpty { status = .failed }
    else if reasons.isEmpty && results.allSatisfy({ $0.status == .complete }) { status = .complete }
    else { status = .partial }
    var stats: [String: [String: Double]] = [:]
    for r in results { stats[r.backend] = r.stats; notes += r.notes }
    var outcome = CaptureOutcome(identity: identity,
                          artefacts: results.flatMap { $0.artefacts },
                          status: status,
                          reason: reasons.isEmpty ? (status == .complete ? nil : "no backend produced data") : reasons.joined(separator: "; "),
                          backendsRun: results.map { $0.backend },
                          backendsSkipped: skipped,
                          stats: stats,
                          startedAtUnixSeconds: startedAt,
                          elapsedSeconds: CaptureSys.monotonicSeconds() - t0,
                          notes: notes)
    outcome.metric = metricResult
    return outcome
}
