/// One sample of `perf script -F tid,time,event,trace,ip,sym,dso` (or of its default
/// output): header `TID TIME: EVENT: [TRACE]`, then the indented callchain.
public struct PerfSample: Sendable, Equatable {
    public var tid: Int32?
    /// Seconds (perf's clock).
    public var time: Double?
    /// `cpu-clock`, `sched:sched_switch`, … (modifiers such as `:ppp` kept).
    public var event: String
    /// The tracepoint's formatted fields (`prev_comm=… prev_state=S ==> …`), or "".
    public var trace: String
    public var framesLeafFirst: [String]

    public var isSchedSwitch: Bool { event.hasPrefix("sched:sched_switch") }

    /// `prev_state` of a sched_switch (`S`, `D`, `R`, `R+`, …).
    public var prevState: Substring? {
        guard let r = trace.range(ofText: "prev_state=") else { return nil }
        return trace[r.upperBound...].prefix { $0 != " " }
    }
}

extension PerfScriptParser {
    public static func parseSamples(_ text: String) -> [PerfSample] {
        var out: [PerfSample] = []
        var current: PerfSample?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if raw.isEmpty || raw.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if let c = current { out.append(c); current = nil }
                continue
            }
            // Frames are tab-indented; a header starts with the tid, space-padded when short.
            let h = raw.first == "\t" ? nil : header(raw)
            if let h, h.time != nil || raw.first != " " {
                if let c = current { out.append(c) }
                current = h
            } else if current != nil {
                current!.framesLeafFirst.append(frameName(raw.trimmingASCIIWhitespaceSub()))
            }
        }
        if let c = current { out.append(c) }
        return out
    }

    /// The tid is the token before the timestamp (`123.456:`); the event is the first token
    /// after it that ends in `:` and is not a number (the default format has a period first).
    static func header(_ line: Substring) -> PerfSample {
        var sample = PerfSample(tid: nil, time: nil, event: "", trace: "", framesLeafFirst: [])
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let ti = tokens.indices.dropFirst().first(where: { tokens[$0].hasSuffix(":") && Double(tokens[$0].dropLast()) != nil })
        else { return sample }
        let prev = tokens[ti - 1]
        sample.tid = Int32(prev.split(separator: "/").last ?? prev)
        sample.time = Double(tokens[ti].dropLast())
        if let ei = tokens.indices.dropFirst(ti + 1).first(where: { tokens[$0].hasSuffix(":") && Double(tokens[$0].dropLast()) == nil }) {
            sample.event = String(tokens[ei].dropLast())
            let traceStart = tokens[ei].endIndex
            sample.trace = String(line[traceStart...].trimmingASCIIWhitespaceSub())
        }
        return sample
    }
}
