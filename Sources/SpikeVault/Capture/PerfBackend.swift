#if canImport(Glibc)
import Glibc
#endif

/// `perf record -N -B -k CLOCK_MONOTONIC -F RATE -g -e cpu-clock [-e sched:sched_switch] -p PID -o FILE -- sleep D`
/// (sample times on CLOCK_MONOTONIC, the clock of procfs.json),
/// then `perf script`, folded into `oncpu.folded` (cpu-clock samples) and `offcpu.folded`
/// (blocked time per stack, µs; `OffCPUFolder`); the raw script text is kept as `perf.script`.
///
/// perf runs with its build-id cache off (`-N`, `-B`, `PERF_BUILDID_DIR` in the scratch
/// directory), no user config (`PERF_CONFIG=/dev/null`) and `HOME`/`TMPDIR` pointing at the
/// capture's scratch directory, so it writes nothing outside it. perf attaches to the threads
/// that exist at start, so a process that later reuses the pid is never sampled.
public enum PerfBackend {
    public static func recordArgv(pid: Int32, frequency: Int, dataPath: String, durationSeconds: Double,
                                  offCPU: Bool = false) -> [String] {
        ["perf", "record", "-N", "-B", "-k", "CLOCK_MONOTONIC", "-F", String(frequency), "-g", "-e", "cpu-clock"]
            + (offCPU ? ["-e", "sched:sched_switch"] : [])
            + ["-p", String(pid), "-o", dataPath, "--", "sleep", CommandTemplate.formatSeconds(durationSeconds)]
    }

    public static func scriptArgv(dataPath: String) -> [String] {
        ["perf", "script", "-F", "tid,time,event,trace,ip,sym,dso", "-i", dataPath]
    }

    /// The environment overrides that keep perf inside `workDirectory`.
    public static func environment(workDirectory: String) -> [String: String] {
        ["HOME": workDirectory, "TMPDIR": workDirectory, "PERF_BUILDID_DIR": workDirectory + "/buildid",
         "PERF_CONFIG": "/dev/null"]
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

    /// Whether perf's run counts as finished: exit 0, or with `outputComplete` (the data file
    /// parsed by `perf script`) an unknown end (reaped by the host: ECHILD) or SIGTERM/SIGINT
    /// (perf re-raises the SIGTERM it sends its `sleep` when the target exits first).
    static func finished(_ r: ToolResult, outputComplete: Bool) -> Bool {
        r.succeeded || (endedWithoutStatus(r) && outputComplete)
    }

    static func endedWithoutStatus(_ r: ToolResult) -> Bool {
        !r.cancelled && !r.timedOut && (r.reapedByHost || r.signal == SIGTERM || r.signal == SIGINT)
    }

    public static func run(identity: ProcessIdentity, frequency: Int, durationSeconds: Double,
                           workDirectory: String, offCPU: PerfAccess? = nil, cancel: CancelFlag?) throws -> BackendResult {
        var result = BackendResult(backend: "perf")
        let data = "\(workDirectory)/perf.data.tmp"
        let log = "\(workDirectory)/perf.log.tmp"
        defer { unlink(data); unlink(log) }
        let env = environment(workDirectory: workDirectory)
        let wantOff = offCPU?.tracepoints == true
        let rec = try ToolRunner.run(recordArgv(pid: identity.pid, frequency: frequency, dataPath: data,
                                                durationSeconds: durationSeconds, offCPU: wantOff),
                                     stdoutPath: log, stderrPath: log, environment: env,
                                     timeoutSeconds: durationSeconds + 15, cancel: cancel)
        let after = IdentityCheck.check(identity)
        let recLog = CaptureSys.readText(log) ?? ""
        if rec.cancelled { result.status = .failed; result.reason = "perf: cancelled"; return result }
        let failedRecord = !rec.succeeded && !endedWithoutStatus(rec) && after == .same
        if let gone = after.reason, !CaptureSys.fileExists(data) || (!rec.succeeded && !endedWithoutStatus(rec)) {
            // The target went away before perf could record it: an outcome, not an error.
            result.status = .failed
            result.reason = "perf: \(gone) before perf recorded a sample (perf record \(rec.summary))"
            return result
        }
        if !CaptureSys.fileExists(data) || failedRecord {
            let paranoid = CaptureSys.readText("/proc/sys/kernel/perf_event_paranoid").flatMap { Int($0.trimmingASCIIWhitespace()) }
            throw recordError(stderr: recLog, exitSummary: rec.summary, paranoid: paranoid)
        }
        let scriptPath = "\(workDirectory)/perf.script"
        let sc = try ToolRunner.run(scriptArgv(dataPath: data), stdoutPath: scriptPath, stderrPath: log,
                                    environment: env, timeoutSeconds: 120, cancel: cancel)
        let scriptOK = sc.succeeded || (sc.reapedByHost && CaptureSys.fileExists(scriptPath))
        if !finished(rec, outputComplete: scriptOK) {
            throw recordError(stderr: recLog, exitSummary: rec.summary, paranoid: nil)
        }
        let samples = PerfScriptParser.parseSamples(CaptureSys.readText(scriptPath) ?? "")
        var onCPU = FoldedStacks()
        var perThread: [Int32: Int] = [:]
        for s in samples where !s.isSchedSwitch {
            onCPU.add(s.framesLeafFirst.reversed())
            if let t = s.tid { perThread[t, default: 0] += 1 }
        }
        var off = OffCPUFolder()
        off.add(samples)
        let onPath = "\(workDirectory)/perf.oncpu.folded"
        try CaptureSys.writeFile(onPath, onCPU.text)
        result.artefacts = [CaptureArtefact(kind: "oncpu.folded", path: onPath)]
        if wantOff {
            let offPath = "\(workDirectory)/perf.offcpu.folded"
            try CaptureSys.writeFile(offPath, off.folded.text)
            result.artefacts.append(CaptureArtefact(kind: "offcpu.folded", path: offPath))
        }
        result.artefacts.append(CaptureArtefact(kind: "perf.script", path: scriptPath))
        let elapsed = max(rec.elapsedSeconds, 1e-9)
        let busiest = perThread.values.max() ?? 0
        result.stats = ["samples": Double(onCPU.totalSamples), "requestedRateHz": Double(frequency),
                        "elapsedSeconds": rec.elapsedSeconds,
                        "achievedRateHz": Double(onCPU.totalSamples) / elapsed,
                        "threadsSampled": Double(perThread.count),
                        "busiestThreadRateHz": Double(busiest) / elapsed]
        if wantOff {
            result.stats["offCPUSwitches"] = Double(off.switches)
            result.stats["offCPUMicroseconds"] = Double(off.blockedMicroseconds)
        }
        var reasons: [String] = []
        if !wantOff, let why = offCPU?.reason { result.notes.append("perf: \(why)") }
        if rec.reapedByHost { result.notes.append("perf: the host reaped perf (SIGCHLD ignored?); its output was complete") }
        if !scriptOK { reasons.append("perf script \(sc.summary)") }
        if let r = after.reason { reasons.append("perf: \(r) during recording") }
        if onCPU.totalSamples == 0 {
            reasons.append("perf: no on-CPU sample in \(CommandTemplate.formatSeconds((rec.elapsedSeconds * 10).rounded() / 10)) s (the target did not run)")
        }
        if !reasons.isEmpty {
            result.status = (onCPU.totalSamples > 0 || off.folded.totalSamples > 0) ? .partial : .failed
            // An idle target is not a failure of the capture: it is a partial one with a reason.
            if result.status == .failed && after == .same && scriptOK { result.status = .partial }
            result.reason = reasons.joined(separator: "; ")
        }
        return result
    }
}
