#if canImport(Glibc)
import Glibc
#endif

/// `perf record -e EVENT -F HZ --call-graph dwarf -p PID` for the metric collectors: page faults
/// (memory growth) and syscall tracepoints (I/O, opens, sends). DWARF unwinding, because the
/// frame-pointer chain loses the caller of a libc leaf (`write`, `memset`), which is exactly
/// the function the answer must name. Sampled by frequency, not every event: the kernel adapts
/// each event's period so that it fires about `HZ` times a second, and every sample carries
/// the period it stands for, so weighting by it still estimates faults and bytes. Sampling every
/// event cost the target 12-14% of its CPU on a fault- or write-bound workload (the per-sample
/// interrupt and stack copy, not the stack's size: 1 KiB stacks cost as much; bench-metric).
/// Spawned through `ToolRunner` (argv, own process group).
struct PerfEventRecorder {
    enum Event {
        /// The `page-faults` software event.
        case pageFaults
        /// `syscalls:sys_enter_NAME` tracepoints.
        case syscalls([String])

        static let io = Event.syscalls(["write", "pwrite64", "read", "pread64"])
        static let opens = Event.syscalls(["open", "openat", "socket", "accept", "accept4"])
        static let sends = Event.syscalls(["connect", "sendto", "sendmsg"])
    }

    static let stackBytes = 8192
    static let maxDataSize = "48M"
    /// Samples per second and event at most; odd so it does not beat with periodic work.
    static let maxFrequencyHz = 499
    static let minFrequencyHz = 10

    /// The frequency that keeps a window near `targetSamples` per event (a 5 s capture gets
    /// the maximum, a 10 min one 10 Hz), bounding perf.data at about 8 KiB per sample.
    static func frequency(seconds: Double, targetSamples: Double) -> Int {
        guard seconds > 0, seconds.isFinite else { return maxFrequencyHz }
        return min(maxFrequencyHz, max(minFrequencyHz, Int(targetSamples / seconds)))
    }

    let event: Event
    let frequencyHz: Int
    let child: SpawnedProcess
    let dataPath: String
    let logPath: String
    let windowSeconds: Double
    let workDirectory: String

    static func recordArgv(tool: String, event: Event, pid: Int32, dataPath: String, seconds: Double, frequencyHz: Int) -> [String] {
        // -N: no build-id cache (perf writes nothing outside the work directory, see PerfBackend).
        var argv = [tool, "record", "-N"]
        switch event {
        case .pageFaults: argv += ["-e", "page-faults"]
        case .syscalls(let names):
            for e in names { argv += ["-e", "syscalls:sys_enter_\(e)"] }
        }
        argv += ["-F", String(frequencyHz), "--call-graph", "dwarf,\(stackBytes)", "--max-size=\(maxDataSize)", "-p", String(pid), "-o", dataPath,
                 "--", "sleep", CommandTemplate.formatSeconds(seconds)]
        return argv
    }

    /// Starts recording for `seconds`. Throws `.notFound` when perf is missing.
    static func start(tool: String, event: Event, pid: Int32, seconds: Double, frequencyHz: Int, workDirectory: String,
                      tag: String) throws -> PerfEventRecorder {
        let data = "\(workDirectory)/\(tag).perf.data.tmp"
        let log = "\(workDirectory)/\(tag).perf.log.tmp"
        let child = try ToolRunner.spawn(recordArgv(tool: tool, event: event, pid: pid, dataPath: data, seconds: seconds,
                                                    frequencyHz: frequencyHz),
                                         stdoutPath: log, stderrPath: log,
                                         environment: PerfBackend.environment(workDirectory: workDirectory))
        return PerfEventRecorder(event: event, frequencyHz: frequencyHz, child: child, dataPath: data, logPath: log, windowSeconds: seconds,
                                 workDirectory: workDirectory)
    }

    /// Waits for perf record, runs perf script and returns the parsed samples, or throws with
    /// the reason (permission refusal named with the paranoid setting).
    func finish(tool: String, cancel: CancelFlag?) throws -> [PerfEventSample] {
        defer { unlink(dataPath); unlink(logPath) }
        let rec = child.wait(timeoutSeconds: windowSeconds + 20, cancel: cancel)
        let log = CaptureSys.readText(logPath) ?? ""
        guard CaptureSys.fileExists(dataPath), rec.succeeded || rec.signal != nil || rec.exitStatus == 0 || rec.reapedByHost else {
            if rec.cancelled { throw SpikeVaultError(.cancelled, "cancelled") }
            let paranoid = CaptureSys.readText("/proc/sys/kernel/perf_event_paranoid").flatMap { Int($0.trimmingASCIIWhitespace()) }
            throw PerfBackend.recordError(stderr: log, exitSummary: rec.summary, paranoid: paranoid)
        }
        let scriptOut = dataPath + ".script"
        defer { unlink(scriptOut) }
        let fields: String
        switch event {
        case .pageFaults: fields = "comm,tid,time,period,event,ip,sym,dso"
        case .syscalls: fields = "comm,tid,time,period,event,trace,ip,sym,dso"
        }
        let sc = try ToolRunner.run([tool, "script", "-F", fields, "-i", dataPath], stdoutPath: scriptOut,
                                    stderrPath: "/dev/null", environment: PerfBackend.environment(workDirectory: workDirectory),
                                    timeoutSeconds: 120, cancel: cancel)
        // A host that reaps children (SIGCHLD ignored) leaves no exit status: the output decides.
        guard PerfBackend.finished(sc, outputComplete: CaptureSys.fileExists(scriptOut)) else { throw SpikeVaultError(.io, "perf script \(sc.summary)") }
        return PerfEventSample.parse(CaptureSys.readText(scriptOut) ?? "")
    }
}

/// One sample of `perf script -F comm,tid,time,period,event[,trace],ip,sym,dso`.
struct PerfEventSample: Sendable, Equatable {
    var tid: Int32?
    var period: Int
    /// The event name without the trailing colon, e.g. `page-faults`, `syscalls:sys_enter_write`.
    var event: String
    /// Tracepoint arguments by name (`fd`, `count`), parsed from hex or decimal.
    var args: [String: UInt64]
    var framesLeafFirst: [String]
    /// The object of each frame (`/usr/lib/…/libc.so.6`, `[kernel.kallsyms]`, `inlined`).
    var dsosLeafFirst: [String] = []

    var rootFirst: [String] { framesLeafFirst.reversed() }

    /// Pure parser. Header: `comm tid time: period event: args…`; frames indented.
    static func parse(_ text: String) -> [PerfEventSample] {
        var out: [PerfEventSample] = []
        var cur: PerfEventSample?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if raw.isEmpty || raw.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if let c = cur { out.append(c); cur = nil }
                continue
            }
            if raw.first == " " || raw.first == "\t" {
                let (sym, dso) = frame(raw.trimmingASCIIWhitespaceSub())
                cur?.framesLeafFirst.append(sym)
                cur?.dsosLeafFirst.append(dso)
                continue
            }
            if let c = cur { out.append(c) }
            cur = header(raw)
        }
        if let c = cur { out.append(c) }
        return out
    }

    static func header(_ line: Substring) -> PerfEventSample {
        var s = PerfEventSample(tid: nil, period: 1, event: "", args: [:], framesLeafFirst: [])
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        // The time token ends in ':' and parses as a number; the tid precedes it, the period
        // and the event (ending in ':') follow, then the tracepoint's `name: value,` pairs.
        guard let ti = tokens.indices.dropFirst().first(where: { tokens[$0].hasSuffix(":") && Double(tokens[$0].dropLast()) != nil }) else {
            return s
        }
        s.tid = Int32(tokens[ti - 1].split(separator: "/").last ?? "")
        var i = ti + 1
        if i < tokens.count, let p = Int(tokens[i]) { s.period = max(1, p); i += 1 }
        if i < tokens.count { s.event = String(tokens[i].hasSuffix(":") ? tokens[i].dropLast() : tokens[i]); i += 1 }
        while i + 1 < tokens.count {
            let k = tokens[i]
            if k.hasSuffix(":") {
                var v = tokens[i + 1]
                if v.hasSuffix(",") { v = v.dropLast() }
                let n = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v)
                if let n { s.args[String(k.dropLast())] = n }
                i += 2
            } else { i += 1 }
        }
        return s
    }

    /// `addr symbol (dso)` → symbol (without `+0x…`); `[unknown]` when perf had none.
    static func frame(_ line: Substring) -> (String, String) {
        var rest = line.drop { $0 != " " }.drop { $0 == " " }
        var dso = ""
        if rest.hasSuffix(")"), let r = rest.lastRange(of: " (") {
            dso = String(rest[r.upperBound...].dropLast())
            rest = rest[..<r.lowerBound]
        }
        if let r = rest.lastRange(of: "+0x"), rest[r.upperBound...].allSatisfy({ $0.isHexDigit }) { rest = rest[..<r.lowerBound] }
        return (rest.isEmpty ? "[unknown]" : String(rest), dso)
    }

    /// Whether a frame's object is the system's (libc, the loader, the kernel, vdso) rather
    /// than the program's: answers name the program's function that called into them.
    static func isSystem(_ dso: String) -> Bool {
        dso.isEmpty || dso == "inlined" || dso.hasPrefix("/usr/lib") || dso.hasPrefix("/lib") || dso.hasPrefix("[kernel")
            || dso.hasPrefix("[vdso") || dso == "[unknown]"
    }

    /// The leaf-most program frame and the program frame that called it (nil when none).
    var attributed: (function: String, caller: String?)? {
        var found: [String] = []
        for (i, f) in framesLeafFirst.enumerated() where i < dsosLeafFirst.count && !Self.isSystem(dsosLeafFirst[i]) && f != "[unknown]" {
            found.append(f)
            if found.count == 2 { break }
        }
        guard let first = found.first else { return nil }
        return (first, found.count > 1 ? found[1] : nil)
    }
}
