/// Host-given argv templates and the macOS presets.
///
/// Placeholders `{pid}`, `{duration}`, `{output}` are replaced inside each argument in a single
/// left-to-right pass (substituted text is never rescanned), the argument count never
/// changes (no re-splitting), and no shell is involved: arguments are data.
public enum CommandTemplate {
    public static func substitute(_ template: [String], pid: Int32, durationSeconds: Double, output: String) -> [String] {
        let values = ["{pid}": String(pid), "{duration}": formatSeconds(durationSeconds), "{output}": output]
        return template.map { arg in
            var out = ""
            var rest = arg[...]
            outer: while !rest.isEmpty {
                if rest.first == "{" {
                    for (k, v) in values where rest.hasPrefix(k) {
                        out += v
                        rest = rest.dropFirst(k.count)
                        continue outer
                    }
                }
                out.append(rest.removeFirst())
            }
            return out
        }
    }

    /// "5" for whole seconds, else the shortest decimal ("0.5").
    public static func formatSeconds(_ s: Double) -> String {
        if s == s.rounded(), abs(s) < 1e9 { return String(Int(s)) }
        return String(s)
    }

    /// macOS `sample PID DURATION INTERVAL_MS -mayDie -file OUT` (sample(1): duration in whole
    /// seconds, sampling interval in milliseconds).
    public static func sampleArgv(pid: Int32, durationSeconds: Double, intervalSeconds: Double, output: String) -> [String] {
        ["sample", String(pid), String(wholeSeconds(durationSeconds)), String(milliseconds(intervalSeconds)),
         "-mayDie", "-file", output]
    }

    /// macOS `spindump PID DURATION INTERVAL_MS -file OUT` (spindump(8); needs root).
    public static func spindumpArgv(pid: Int32, durationSeconds: Double, intervalSeconds: Double, output: String) -> [String] {
        ["spindump", String(pid), String(wholeSeconds(durationSeconds)), String(milliseconds(intervalSeconds)),
         "-file", output]
    }

    static func wholeSeconds(_ s: Double) -> Int { max(1, Int(s.rounded(.up))) }
    static func milliseconds(_ s: Double) -> Int { max(1, Int((s * 1000).rounded())) }
}
