#if canImport(Glibc)
import Glibc
#endif

/// `py-spy record --format raw --native --nolineno -r RATE -d SECONDS -p PID -o FILE`: the Python
/// stacks of a CPython target, interleaved with native frames, into `oncpu.folded` (py-spy
/// samples threads that run Python code or hold the GIL; idle threads are left out).
///
/// py-spy's frames `func (file.py)` become `file.py:func` (file as py-spy shortens it: the
/// path below its package root); native frames keep their symbol (cleaned by `FrameName`),
/// address-only native frames become `[unknown]`.
public enum PySpyBackend {
    public static func argv(pid: Int32, rateHz: Int, durationSeconds: Double, output: String) -> [String] {
        ["py-spy", "record", "--format", "raw", "--native", "--nolineno",
         "-r", String(rateHz), "-d", String(Int(durationSeconds.rounded(.up))), "-p", String(pid), "-o", output]
    }

    /// Whether `pid` runs CPython: its executable is `python3*` (or `python`), or it maps a
    /// `libpython3*.so` (an embedded interpreter).
    public static func isCPython(pid: Int32, exe: String?) -> Bool {
        if let exe, let base = exe.split(separator: "/").last, isPythonName(base) { return true }
        guard let maps = CaptureSys.readText("/proc/\(pid)/maps") else { return false }
        return maps.range(ofText: "/libpython3") != nil
    }

    static func isPythonName(_ base: Substring) -> Bool {
        guard base.hasPrefix("python") else { return false }
        return base.dropFirst(6).allSatisfy { $0.isNumber || $0 == "." }
    }

    /// One py-spy frame to `file:function` (see the type's doc).
    public static func frame(_ raw: Substring) -> String {
        let f = raw.trimmingASCIIWhitespaceSub()
        guard f.hasSuffix(")"), let open = f.lastRange(of: " (") else { return FrameName.clean(f) }
        let name = f[..<open.lowerBound]
        var location = f[open.upperBound..<f.index(before: f.endIndex)]
        if let colon = location.lastIndex(of: ":"), location[location.index(after: colon)...].allSatisfy({ $0.isNumber }) {
            location = location[..<colon]  // a line number, when py-spy gives one
        }
        if location.hasSuffix(".py") || location.hasSuffix(".pyx") || location.hasPrefix("<") {
            return "\(location):\(name)"
        }
        return FrameName.clean(name, dso: location)
    }

    /// py-spy raw output (`frame;frame count`, root first) to folded stacks of cleaned frames.
    public static func fold(_ text: String) -> FoldedStacks {
        var out = FoldedStacks()
        for line in text.split(separator: "\n") {
            guard let sp = line.lastIndex(of: " "), let n = Int(line[line.index(after: sp)...]), n > 0 else { continue }
            out.add(line[..<sp].split(separator: ";").map(frame), count: n)
        }
        return out
    }

    public static func run(identity: ProcessIdentity, rateHz: Int, durationSeconds: Double,
                           workDirectory: String, cancel: CancelFlag?) throws -> BackendResult {
        var result = BackendResult(backend: "py-spy")
        let raw = "\(workDirectory)/py-spy.raw.tmp"
        let log = "\(workDirectory)/py-spy.log.tmp"
        defer { unlink(raw); unlink(log) }
        let res = try ToolRunner.run(argv(pid: identity.pid, rateHz: rateHz, durationSeconds: durationSeconds, output: raw),
                                     stdoutPath: log, stderrPath: log,
                                     environment: ["HOME": workDirectory, "TMPDIR": workDirectory],
                                     timeoutSeconds: durationSeconds + 20, cancel: cancel)
        let after = IdentityCheck.check(identity)
        if res.cancelled { result.status = .failed; result.reason = "py-spy: cancelled"; return result }
        let text = CaptureSys.readText(raw)
        let logText = CaptureSys.readText(log) ?? ""
        if text == nil && after == .same {
            let tail = SnapshotBackend.lastLines(logText, count: 3)
            if logText.containsText("ermission") || logText.containsText("not permitted") {
                throw SnapshotBackend.classify(tool: "py-spy", stderr: tail, pid: identity.pid)
            }
            throw SpikeVaultError(.io, "py-spy \(res.summary) without output: \(tail)")
        }
        let folded = fold(text ?? "")
        let path = "\(workDirectory)/py-spy.oncpu.folded"
        try CaptureSys.writeFile(path, folded.text)
        result.artefacts = [CaptureArtefact(kind: "oncpu.folded", path: path)]
        let elapsed = max(res.elapsedSeconds, 1e-9)
        result.stats = ["samples": Double(folded.totalSamples), "requestedRateHz": Double(rateHz),
                        "elapsedSeconds": res.elapsedSeconds, "achievedRateHz": Double(folded.totalSamples) / elapsed]
        var reasons: [String] = []
        if let r = after.reason { reasons.append("py-spy: \(r) during recording") }
        if !res.succeeded && !res.reapedByHost { reasons.append("py-spy \(res.summary): \(SnapshotBackend.lastLines(logText, count: 2))") }
        if folded.totalSamples == 0 { reasons.append("py-spy: no sample (no thread ran Python code)") }
        if !reasons.isEmpty {
            result.status = .partial
            result.reason = reasons.joined(separator: "; ")
        }
        return result
    }
}
