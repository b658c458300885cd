/// The threads of a process at one moment: tid → name (`/proc/PID/task/TID/comm`).
struct ThreadSnapshot: Sendable {
    var names: [Int32: String] = [:]
    var error: String?

    static func read(pid: Int32) -> ThreadSnapshot {
        var snap = ThreadSnapshot()
        let (tids, err) = CaptureSys.listDirectory("/proc/\(pid)/task")
        guard let tids else {
            snap.error = "cannot list /proc/\(pid)/task: \(err)"
            return snap
        }
        for t in tids {
            guard let tid = Int32(t), let comm = CaptureSys.readText("/proc/\(pid)/task/\(t)/comm") else { continue }
            var name = comm
            if name.hasSuffix("\n") { name.removeLast() }
            snap.names[tid] = name
        }
        return snap
    }
}

/// Threads with one name pattern (trailing digits and hex runs collapsed).
struct ThreadGroup: Sendable, Equatable {
    var pattern: String
    var start: Int
    var end: Int
    /// Most threads of this pattern seen at once during the capture.
    var peak: Int
    /// Threads of this pattern that appeared (tids not present at start) / disappeared.
    var created: Int
    var exited: Int
    var example: String
    var growth: Int { end - start }
}

/// Tracks thread groups over a capture from repeated snapshots.
struct ThreadTracker: Sendable {
    private(set) var first: ThreadSnapshot?
    private(set) var last: ThreadSnapshot?
    private var seen: [Int32: String] = [:]
    private var peak: [String: Int] = [:]
    private(set) var samples = 0

    mutating func add(_ s: ThreadSnapshot) {
        guard s.error == nil else { return }
        if first == nil { first = s }
        last = s
        samples += 1
        var now: [String: Int] = [:]
        for (tid, name) in s.names {
            now[NamePattern.collapse(name), default: 0] += 1
            if seen[tid] == nil { seen[tid] = name }
        }
        for (p, n) in now { peak[p] = max(peak[p] ?? 0, n) }
    }

    func groups() -> [ThreadGroup] {
        guard let first, let last else { return [] }
        var byPattern: [String: ThreadGroup] = [:]
        func group(_ name: String) -> String { NamePattern.collapse(name) }
        for (_, n) in first.names { byPattern[group(n), default: .init(pattern: group(n), start: 0, end: 0, peak: 0, created: 0, exited: 0, example: n)].start += 1 }
        for (_, n) in last.names {
            byPattern[group(n), default: .init(pattern: group(n), start: 0, end: 0, peak: 0, created: 0, exited: 0, example: n)].end += 1
            byPattern[group(n)]!.example = n
        }
        for (tid, n) in seen {
            let p = group(n)
            if byPattern[p] == nil { byPattern[p] = .init(pattern: p, start: 0, end: 0, peak: 0, created: 0, exited: 0, example: n) }
            if first.names[tid] == nil { byPattern[p]!.created += 1 }
            if last.names[tid] == nil { byPattern[p]!.exited += 1 }
        }
        for (p, n) in peak { byPattern[p]?.peak = n }
        return byPattern.values.sorted {
            if $0.growth != $1.growth { return $0.growth > $1.growth }
            if $0.created != $1.created { return $0.created > $1.created }
            if $0.end != $1.end { return $0.end > $1.end }
            return $0.pattern < $1.pattern
        }
    }
}
