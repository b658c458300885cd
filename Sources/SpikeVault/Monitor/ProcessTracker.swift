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
    }

    private(set) var entries: [Int32: Entry] = [:]
    let ticksPerSecond: Double

    init(ticksPerSecond: Double) { self.ticksPerSecond = ticksPerSecond }

    /// Records a reading; returns (CPU %, I/O bytes per second), each nil without a previous
    /// reading of the same process.
    mutating func update(pid: Int32, startTime: UInt64, cpuTicks: UInt64, ioBytes: UInt64?,
                         monotonicNs: UInt64, tick: UInt64) -> (cpu: Double?, ioPerSecond: Double?) {
        var cpu: Double?
        var io: Double?
        if let prev = entries[pid], prev.startTime == startTime, monotonicNs > prev.monotonicNs {
            let seconds = Double(monotonicNs - prev.monotonicNs) / 1e9
            let ticks = cpuTicks >= prev.cpuTicks ? cpuTicks - prev.cpuTicks : 0
            cpu = Double(ticks) / ticksPerSecond / seconds * 100
            if let now = ioBytes, let before = prev.ioBytes {
                io = Double(now >= before ? now - before : 0) / seconds
            }
        }
        entries[pid] = Entry(startTime: startTime, cpuTicks: cpuTicks, ioBytes: ioBytes,
                             monotonicNs: monotonicNs, seenTick: tick)
        return (cpu, io)
    }

    /// Forgets processes not seen in `tick`.
    mutating func prune(keeping tick: UInt64, seen: Int) {
        guard entries.count > seen else { return }
        entries = entries.filter { $0.value.seenTick == tick }
    }
}
