/// Aggregated stacks in Brendan Gregg's "folded" format: one line per distinct stack,
/// `root;caller;leaf count`, lines sorted (byte order) so output is deterministic.
///
/// Frame escaping (chosen to stay compatible with flamegraph.pl / inferno / speedscope,
/// which split on every `;` and take the count after the last space):
/// - `;` inside a frame name becomes `:`
/// - `\n` and `\r` become a space
/// - an empty frame name becomes `[unknown]`
public struct FoldedStacks: Sendable, Equatable {
    public private(set) var counts: [String: Int] = [:]
    public private(set) var totalSamples: Int = 0

    public init() {}

    public static func escapeFrame(_ frame: String) -> String {
        if frame.isEmpty { return "[unknown]" }
        var out = ""
        out.unicodeScalars.reserveCapacity(frame.unicodeScalars.count)
        for s in frame.unicodeScalars {
            switch s {
            case ";": out.unicodeScalars.append(":")
            case "\n", "\r": out.unicodeScalars.append(" ")
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }

    /// Adds one stack, frames ordered root first. Empty stacks are counted as `[no stack]`.
    public mutating func add(_ rootFirst: [String], count: Int = 1) {
        guard count > 0 else { return }
        let key = rootFirst.isEmpty ? "[no stack]" : rootFirst.map(FoldedStacks.escapeFrame).joined(separator: ";")
        counts[key, default: 0].addSaturating(count)
        totalSamples.addSaturating(count)
    }

    public mutating func merge(_ other: FoldedStacks) {
        for (k, v) in other.counts { counts[k, default: 0].addSaturating(v) }
        totalSamples.addSaturating(other.totalSamples)
    }

    /// Sorted `stack count` lines.
    public var lines: [String] {
        counts.keys.sorted().map { "\($0) \(counts[$0]!)" }
    }

    /// The folded text, one line per stack, each ending in a newline.
    public var text: String {
        var s = ""
        for l in lines { s += l; s += "\n" }
        return s
    }

    /// Number of samples whose stack has a frame named exactly `frame` (after escaping).
    public func samples(containingFrame frame: String) -> Int {
        let f = FoldedStacks.escapeFrame(frame)
        var n = 0
        for (k, v) in counts where k.split(separator: ";").contains(where: { $0 == f }) { n.addSaturating(v) }
        return n
    }

    /// Largest count accepted on one line of folded text.
    public static let maxLineCount = Int(UInt32.max)

    /// Parses folded text back (lines `stack count`); malformed lines are ignored, and so are
    /// counts outside 1...maxLineCount. The text may come from a host's own artefact, so sums
    /// saturate instead of trapping (fuzz-parsers found `a 9223372036854775807` + `a 1`).
    public static func parse(_ text: String) -> FoldedStacks {
        var f = FoldedStacks()
        for line in text.split(separator: "\n") {
            guard let sp = line.lastIndex(of: " "), let n = Int(line[line.index(after: sp)...]),
                  n > 0, n <= maxLineCount else { continue }
            f.counts[String(line[..<sp]), default: 0].addSaturating(n)
            f.totalSamples.addSaturating(n)
        }
        return f
    }
}

/// One thread's stack from a tool's output; frames leaf first, as tools print them.
public struct ThreadStack: Sendable, Equatable {
    public var tid: Int32?
    public var framesLeafFirst: [String]

    public init(tid: Int32?, framesLeafFirst: [String]) {
        self.tid = tid
        self.framesLeafFirst = framesLeafFirst
    }

    public var rootFirst: [String] { framesLeafFirst.reversed() }
}

/// Splits snapshot stacks into on-CPU and off-CPU folded stacks by each thread's state read
/// from `/proc/PID/task/TID/stat` at snapshot time: `R` (running or runnable) is on-CPU,
/// every other state (S, D, T, t, I, ...) or an unknown thread is off-CPU.
public struct OnOffCPUFolder: Sendable {
    public var onCPU = FoldedStacks()
    public var offCPU = FoldedStacks()
    public private(set) var snapshots = 0

    public init() {}

    public static func isOnCPU(_ state: Character?) -> Bool { state == "R" }

    public mutating func add(snapshot stacks: [ThreadStack], states: [Int32: Character]) {
        snapshots += 1
        for s in stacks {
            let state = s.tid.flatMap { states[$0] }
            if OnOffCPUFolder.isOnCPU(state) { onCPU.add(s.rootFirst) } else { offCPU.add(s.rootFirst) }
        }
    }
}

extension Int {
    /// `self += n`, stopping at Int.max / Int.min instead of trapping.
    mutating func addSaturating(_ n: Int) {
        let (sum, overflow) = addingReportingOverflow(n)
        self = overflow ? (n > 0 ? .max : .min) : sum
    }
}
