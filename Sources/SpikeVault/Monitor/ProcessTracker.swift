/// Per-process memory of the previous reading, turning cumulative counters (CPU ticks, I/O
/// bytes) into rates over the interval between two ticks. A pid whose start time changed is
/// another process (pid reuse): its history is dropped, not subtracted.
struct ProcessTracker {
    struct Entry {
        var startTime: UInt64
        var cpuTicks: UInt64
        var ioBytes: UInt64?
        var monotonicNs: UInt64
        var seenTick: UInt64
        /// When `ioBytes` was read (it is not re-read for idle processes).
        var ioNs: UInt64 = 0
        var uid: UInt32 = 0
        var fds: Int?
    }

    func previous(_ pid: Int32) -> Entry? { entries[pid] }

    private(set) var entries: [Int32: Entry] = [:]
    let ticksPerSecond: Double

    init(ticksPerSecond: Double) { self.ticksPerSecond = ticksPerSecond }

    /// Records a reading; returns (CPU %, I/O bytes per second), each nil without a previous
    /// reading of the same process.
    /// `ioSkipped`: the process was idle and /proc/PID/io not re-read: its I/O rate is 0 and
    /// the next real reading spans the whole time since the last one.
    mutating func update(pid: Int32, startTime: UInt64, cpuTicks: UInt64, ioBytes: UInt64?, ioSkipped: Bool,
                         monotonicNs: UInt64, tick: UInt64, uid: UInt32, fds: Int?) -> (cpu: Double?, ioPerSecond: Double?) {
        var cpu: Double?
        var io: Double?
        var entry = Entry(startTime: startTime, cpuTicks: cpuTicks, ioBytes: ioBytes, monotonicNs: monotonicNs,
                          seenTick: tick, ioNs: monotonicNs, uid: uid, fds: fds)
        if let prev = entries[pid], prev.startTime == startTime, monotonicNs > prev.monotonicNs {
            let seconds = Double(monotonicNs - prev.monotonicNs) / 1e9
            let ticks = cpuTicks >= prev.cpuTicks ? cpuTicks - prev.cpuTicks : 0
            cpu = Double(ticks) / ticksPerSecond / seconds * 100
            if ioSkipped {
                entry.ioBytes = prev.ioBytes
                entry.ioNs = prev.ioNs
                io = prev.ioBytes == nil ? nil : 0
            } else if let now = ioBytes, let before = prev.ioBytes, monotonicNs > prev.ioNs {
                io = Double(now >= before ? now - before : 0) / (Double(monotonicNs - prev.ioNs) / 1e9)
            }
        }
        entries[pid] = entry
        return (cpu, io)
    }

    /// Forgets processes not seen in `tick`.
    mutating func prune(keeping tick: UInt64, seen: Int) {
        guard entries.count > seen else { return }
        entries = entries.filter { $0.value.seenTick == tick }
    }
}
