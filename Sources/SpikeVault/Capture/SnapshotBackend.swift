#if canImport(Glibc)
import Glibc
#endif

/// Stack-snapshot backends (`eu-stack`, `gdb`): run the tool once per interval for the
/// duration, classify each thread on-/off-CPU by its state read just before the snapshot
/// (the tool ptrace-stops the threads, so the state must be read first), and aggregate into
/// `oncpu.folded` and `offcpu.folded`. A slow tool lowers the achieved rate (snapshots are
/// never queued up to catch up); `achievedRateHz` in the stats reports it.
public enum SnapshotBackend {
    public enum Tool: String, Sendable {
        case euStack = "eu-stack"
        case gdb

        public func argv(pid: Int32) -> [String] {
            switch self {
            case .euStack: return ["eu-stack", "-p", String(pid)]
            case .gdb: return ["gdb", "-batch", "-nx", "-p", String(pid), "-ex", "thread apply all bt"]
            }
        }

        public func parse(_ text: String) -> [ThreadStack] {
            switch self {
            case .euStack: return EuStackParser.parse(text)
            case .gdb: return GdbBacktraceParser.parse(text)
            }
        }

        var snapshotTimeout: Double { self == .gdb ? 30 : 10 }
    }

    /// Thread states of `pid` now: tid -> state letter.
    public static func threadStates(pid: Int32) -> [Int32: Character] {
        var out: [Int32: Character] = [:]
        for name in CaptureSys.listDirectory("/proc/\(pid)/task").0 ?? [] {
            guard let tid = Int32(name),
                  let st = CaptureSys.read("/proc/\(pid)/task/\(tid)/stat").bytes.flatMap(ProcStat.parse(bytes:)) else { continue }
            out[tid] = st.state
        }
        return out
    }

    public static func run(_ tool: Tool, identity: ProcessIdentity, intervalSeconds: Double,
                           durationSeconds: Double, workDirectory: String,
                           cancel: CancelFlag?) throws -> BackendResult {
        var result = BackendResult(backend: tool.rawValue)
        let name = tool.rawValue
        let snapPath = "\(workDirectory)/\(name).snapshot.tmp"
        let errPath = "\(workDirectory)/\(name).stderr.tmp"
        defer { unlink(snapPath); unlink(errPath) }
        var folder = OnOffCPUFolder()
        var failures = 0
        var incomplete = 0
        var stopReason: String?
        var lastError = ""
        let t0 = CaptureSys.monotonicSeconds()
        var next = t0
        while CaptureSys.monotonicSeconds() < t0 + durationSeconds {
            if !CaptureSys.sleep(until: next, cancel: cancel) { stopReason = "cancelled"; break }
            let states = threadStates(pid: identity.pid)
            if let r = IdentityCheck.check(identity).reason { stopReason = r; break }
            let res = try ToolRunner.run(tool.argv(pid: identity.pid), stdoutPath: snapPath, stderrPath: errPath,
                                         timeoutSeconds: tool.snapshotTimeout, cancel: cancel)
            // Discard a snapshot if the pid changed hands while the tool ran.
            if let r = IdentityCheck.check(identity).reason { stopReason = r; break }
            if res.cancelled { stopReason = "cancelled"; break }
            let stacks = tool.parse(CaptureSys.readText(snapPath) ?? "")
            // eu-stack exits 1 when any frame fails to unwind but still prints the stacks it
            // got: a snapshot counts when it parsed to at least one thread stack.
            if !res.succeeded && !stacks.isEmpty { incomplete += 1 }
            if stacks.isEmpty {
                failures += 1
                lastError = lastLines(CaptureSys.readText(errPath) ?? "") + " (\(name) \(res.summary))"
                if folder.snapshots == 0 && failures >= 2 {
                    throw classify(tool: name, stderr: lastError, pid: identity.pid)
                }
                if failures >= 5 { stopReason = "\(name) failed repeatedly: \(lastError)"; break }
            } else {
                folder.add(snapshot: stacks, states: states)
            }
            next += intervalSeconds
            let now = CaptureSys.monotonicSeconds()
            if next < now { next = now }  // behind schedule: do not burst to catch up
        }
        let elapsed = CaptureSys.monotonicSeconds() - t0
        let on = "\(workDirectory)/\(name).oncpu.folded"
        let off = "\(workDirectory)/\(name).offcpu.folded"
        try CaptureSys.writeFile(on, folder.onCPU.text)
        try CaptureSys.writeFile(off, folder.offCPU.text)
        result.artefacts = [CaptureArtefact(kind: "oncpu.folded", path: on),
                            CaptureArtefact(kind: "offcpu.folded", path: off)]
        result.stats = ["samples": Double(folder.snapshots), "elapsedSeconds": elapsed,
                        "achievedRateHz": elapsed > 0 ? Double(folder.snapshots) / elapsed : 0,
                        "requestedRateHz": 1 / intervalSeconds,
                        "onCPUStacks": Double(folder.onCPU.totalSamples),
                        "offCPUStacks": Double(folder.offCPU.totalSamples),
                        "failedSnapshots": Double(failures),
                        "incompleteSnapshots": Double(incomplete)]
        if let stopReason {
            result.status = folder.snapshots > 0 ? .partial : .failed
            result.reason = "\(name): \(stopReason) after \(folder.snapshots) snapshots"
        } else if folder.snapshots == 0 {
            result.status = .failed
            result.reason = "\(name): no snapshot succeeded: \(lastError)"
        }
        return result
    }

    static func lastLines(_ text: String, count: Int = 3) -> String {
        text.split(separator: "\n").suffix(count).joined(separator: " | ")
    }

    /// Maps a tool's failure text to an error: ptrace refusals become `.permission`
    /// naming /proc/sys/kernel/yama/ptrace_scope.
    public static func classify(tool: String, stderr: String, pid: Int32) -> SpikeVaultError {
        if stderr.containsText("Operation not permitted") || stderr.containsText("ptrace") || stderr.containsText("ermission denied") {
            let scope = CaptureSys.readText("/proc/sys/kernel/yama/ptrace_scope")?.trimmingASCIIWhitespace()
            return SpikeVaultError(.permission, "\(tool) cannot attach to pid \(pid) with ptrace: \(stderr)"
                + (scope.map { " (/proc/sys/kernel/yama/ptrace_scope is \($0))" } ?? ""))
        }
        return SpikeVaultError(.io, "\(tool) failed on pid \(pid): \(stderr)")
    }
}
