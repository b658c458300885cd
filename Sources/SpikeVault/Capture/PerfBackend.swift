#if canImport(Glibc)
import Glibc
#endif

/// `perf record -F FREQ -g -p PID -o FILE -- sleep DURATION`, then `perf script -i FILE`,
/// folded into `oncpu.folded`; the raw script text is kept as `perf.script`.
/// perf attaches to the threads that exist at start, so a process that later reuses the
/// pid is never sampled.
public enum PerfBackend {
    public static func recordArgv(pid: Int32, frequency: Int, dataPath: String, durationSeconds: Double) -> [String] {
        ["perf", "record", "-F", String(frequency), "-g", "-p", String(pid), "-o", dataPath,
         "--", "sleep", CommandTemplate.formatSeconds(durationSeconds)]
    }

    public static func scriptArgv(dataPath: String) -> [String] {
        ["perf", "script", "-i", dataPath]
    }

    /// Pure: the error for a failed `perf record`, given its stderr and the paranoid level.
    public static func recordError(stderr: String, exitSummary: String, paranoid: Int?) -> SpikeVaultError {
        let tail = SnapshotBackend.lastLines(stderr, count: 4)
        if stderr.containsText("perf_event_paranoid") || stderr.containsText("ermission") || stderr.containsText("not permitted") {
            let level = paranoid.map { " (currently \($0))" } ?? ""
            return SpikeVaultError(.permission,
                "perf record was refused: /proc/sys/kernel/perf_event_paranoid\(level) forbids it for this user; "
                + "lower it (e.g. sysctl kernel.perf_event_paranoid=1) or grant CAP_PERFMON: \(tail)")
        }
        if stderr.containsText("No such process") || stderr.containsText("Couldn't find") {
            return SpikeVaultError(.noSuchProcess, "perf record: target not found: \(tail)")
        }
        return SpikeVaultError(.io, "perf record \(exitSummary): \(tail)")
    }

    public static func run(identity: ProcessIdentity, frequency: Int, durationSeconds: Double,
                           workDirectory: String, cancel: CancelFlag?) throws -> BackendResult {
        var result = BackendResult(backend: "perf")
        let data = "\(workDirectory)/perf.data.tmp"
        let log = "\(workDirectory)/perf.log.tmp"
        defer { unlink(data); unlink(log) }
        let rec = try ToolRunner.run(recordArgv(pid: identity.pid, frequency: frequency, dataPath: data,
                                                durationSeconds: durationSeconds),
                                     stdoutPath: log, stderrPath: log,
                                     timeoutSeconds: durationSeconds + 15, cancel: cancel)
        let after = IdentityCheck.check(identity)
        let recLog = CaptureSys.readText(log) ?? ""
        if !CaptureSys.fileExists(data) || (!rec.succeeded && !rec.cancelled && after == .same) {
            if rec.cancelled {
                result.status = .failed; result.reason = "perf: cancelled"; return result
            }
            let paranoid = CaptureSys.readText("/proc/sys/kernel/perf_event_paranoid").flatMap { Int($0.trimmingASCIIWhitespace()) }
            throw recordError(stderr: recLog, exitSummary: rec.summary, paranoid: paranoid)
        }
        let scriptPath = "\(workDirectory)/perf.script"
        let sc = try ToolRunner.run(scriptArgv(dataPath: data), stdoutPath: scriptPath, stderrPath: log,
                                    timeoutSeconds: 120, cancel: cancel)
        let text = CaptureSys.readText(scriptPath) ?? ""
        var folded = FoldedStacks()
        for s in PerfScriptParser.parse(text) { folded.add(s.rootFirst) }
        let foldedPath = "\(workDirectory)/perf.oncpu.folded"
        try CaptureSys.writeFile(foldedPath, folded.text)
        result.artefacts = [CaptureArtefact(kind: "oncpu.folded", path: foldedPath),
                            CaptureArtefact(kind: "perf.script", path: scriptPath)]
        result.stats = ["samples": Double(folded.totalSamples), "requestedRateHz": Double(frequency),
                        "elapsedSeconds": rec.elapsedSeconds]
        if !sc.succeeded {
            result.status = .partial
            result.reason = "perf script \(sc.summary)"
        }
        if let r = after.reason {
            result.status = folded.totalSamples > 0 ? .partial : .failed
            result.reason = "perf: \(r) during recording"
        } else if rec.cancelled {
            result.status = .partial; result.reason = "perf: cancelled"
        }
        return result
    }
}
