/// Pure parsers of stack-tool output into `ThreadStack`s.

/// `eu-stack -p PID` output:
/// ```
/// PID 3075 - process
/// TID 3076:
/// #0  0x0000559827ab6189 spikevault_hot_spin
/// #1  0x0000559827ab619e - 1 burner
/// ```
/// Frames without a symbol (only an address) become `[unknown]`; the ` - 1` return-address
/// marker and module columns are dropped.
public enum EuStackParser {
    public static func parse(_ text: String) -> [ThreadStack] {
        var out: [ThreadStack] = []
        var current: ThreadStack?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingASCIIWhitespaceSub()
            if line.hasPrefix("TID ") {
                if let c = current { out.append(c) }
                let num = line.dropFirst(4).prefix { $0.isASCII && $0.isNumber }
                current = ThreadStack(tid: Int32(num), framesLeafFirst: [])
            } else if line.hasPrefix("#"), current != nil {
                current!.framesLeafFirst.append(frameName(line))
            }
        }
        if let c = current { out.append(c) }
        return out
    }

    static func frameName(_ line: Substring) -> String {
        var tokens = line.split(separator: " ", omittingEmptySubsequences: true)[...]
        guard tokens.count >= 2 else { return "[unknown]" }
        tokens = tokens.dropFirst()                      // "#N"
        if tokens.first?.hasPrefix("0x") == true { tokens = tokens.dropFirst() }
        if tokens.count >= 2, tokens.first == "-", tokens.dropFirst().first == "1" { tokens = tokens.dropFirst(2) }
        let name = tokens.joined(separator: " ")
        return name.isEmpty ? FrameName.unknown : FrameName.clean(name)
    }
}

/// `gdb -batch -ex 'thread apply all bt'` output:
/// ```
/// Thread 2 (Thread 0x7efe6a3346c0 (LWP 3076) "hot"):
/// #0  0x0000559827ab6181 in spikevault_hot_spin () at hot.c:6
/// #1  0x0000559827ab619e in burner (a=0x0) at hot.c:8
/// ```
/// Frame 0 may lack the `0x... in` part; `??` becomes `[unknown]`.
public enum GdbBacktraceParser {
    public static func parse(_ text: String) -> [ThreadStack] {
        var out: [ThreadStack] = []
        var current: ThreadStack?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingASCIIWhitespaceSub()
            if line.hasPrefix("Thread ") && line.hasSuffix(":") {
                if let c = current { out.append(c) }
                current = ThreadStack(tid: threadID(line), framesLeafFirst: [])
            } else if line.hasPrefix("#"), current != nil,
                      line.dropFirst().first?.isNumber == true {
                current!.framesLeafFirst.append(frameName(line))
            }
        }
        if let c = current { out.append(c) }
        return out
    }

    static func threadID(_ line: Substring) -> Int32? {
        for marker in ["(LWP ", "(process "] {
            if let r = line.range(ofText: marker) {
                return Int32(line[r.upperBound...].prefix { $0.isASCII && $0.isNumber })
            }
        }
        return nil
    }

    static func frameName(_ line: Substring) -> String {
        var rest = line.drop { $0 != " " }.drop { $0 == " " }  // after "#N"
        if rest.hasPrefix("0x"), let r = rest.range(ofText: " in ") {
            rest = rest[r.upperBound...]
        }
        let name: Substring
        if let r = rest.range(ofText: " (") { name = rest[..<r.lowerBound] } else { name = rest }
        return FrameName.clean(name)
    }
}

/// `perf script` default output: a header line per sample, then indented frames
/// (`addr symbol+0xoff (dso)`), then a blank line.
/// ```
/// hot  3077   182.081958:   10101010 cpu-clock:ppp:
///         116e spikevault_hot_spin+0x15 (/tmp/cap/hot)
///         119e burner+0x11 (/tmp/cap/hot)
/// ```
public enum PerfScriptParser {
    public static func parse(_ text: String) -> [ThreadStack] {
        parseSamples(text).map { ThreadStack(tid: $0.tid, framesLeafFirst: $0.framesLeafFirst) }
    }

    /// `ADDR SYMBOL[+0xOFF] (DSO)`, cleaned by `FrameName` (kernel frames marked `_[k]`).
    static func frameName(_ line: Substring) -> String {
        let address = line.prefix { $0 != " " }
        var rest = line.drop { $0 != " " }.drop { $0 == " " }  // drop the address
        var dso: Substring?
        if rest.hasSuffix(")"), let r = rest.lastRange(of: "(") {
            dso = rest[rest.index(after: r.lowerBound)..<rest.index(before: rest.endIndex)]
            rest = rest[..<r.lowerBound].trimmingASCIIWhitespaceSub()
        }
        return FrameName.clean(rest, dso: dso, address: address)
    }
}

extension Substring {
    func trimmingASCIIWhitespaceSub() -> Substring {
        let isWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isWS($0) }) else { return self[endIndex...] }
        let end = lastIndex(where: { !isWS($0) })!
        return self[start...end]
    }

    func lastRange(of s: String) -> Range<Index>? {
        var found: Range<Index>?
        var rest = self[...]
        while let r = rest.range(ofText: s) { found = r; rest = rest[r.upperBound...] }
        return found
    }
}
