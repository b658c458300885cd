/// The history of one process: its samples, oldest first, bounded by age and trimmed by the
/// store's memory cap; plus what per-thread CPU rates need (the previous reading of each
/// thread) and the latest name of each thread.
struct ProcessRing {
    let pid: Int32
    let startTimeTicks: UInt64
    var comm: String
    private(set) var samples: [HistorySample] = []
    /// Index of the oldest live sample in `samples` (dropped ones are compacted lazily).
    private var head = 0
    private(set) var bytes = 0
    /// Samples dropped from this ring by the memory cap (not by age).
    private(set) var trimmedByMemory: Int64 = 0
    var threadNames: [Int32: String] = [:]
    /// Previous tick's CPU ticks per thread, and when it was read.
    var lastThreadTicks: [Int32: UInt64] = [:]
    var lastThreadNs: UInt64 = 0
    /// The tick number of the store's last pass that saw this process.
    var seenTick: UInt64 = 0
    /// Stack snapshots, oldest first (only when a matching rule asks for history stacks).
    private(set) var stacks: [StackSnapshot] = []
    /// Milliseconds between stack snapshots (0: none), and when the last one was due.
    var stackIntervalMs: Int64 = 0
    var lastStackMs: Int64 = .min
    var stackFailures = 0
    var lastStackError: String?

    init(pid: Int32, startTimeTicks: UInt64, comm: String) {
        self.pid = pid; self.startTimeTicks = startTimeTicks; self.comm = comm
    }

    var count: Int { samples.count - head }
    var live: ArraySlice<HistorySample> { samples[head...] }
    var oldestMs: Int64? { count > 0 ? samples[head].timeMs : nil }

    /// Bytes of a ring besides its samples: the ring itself and its dictionaries, estimated at
    /// 32 bytes per previous-tick entry and 64 per thread name (a name is at most 15 bytes, so
    /// it is stored inline in its String).
    var overhead: Int { 192 + lastThreadTicks.count * 32 + threadNames.count * 64 }

    mutating func append(_ s: HistorySample) {
        samples.append(s)
        bytes += s.footprint
    }

    mutating func append(_ s: StackSnapshot) {
        stacks.append(s)
        bytes += s.footprint
    }

    /// Drops samples older than `horizonMs`; returns how many.
    mutating func dropOlder(than horizonMs: Int64) -> Int {
        var n = 0
        while head < samples.count && samples[head].timeMs < horizonMs { dropHead(); n += 1 }
        var k = 0
        while k < stacks.count && stacks[k].timeMs < horizonMs { bytes -= stacks[k].footprint; k += 1 }
        if k > 0 { stacks.removeFirst(k) }
        compact()
        return n
    }

    /// Drops the oldest samples and stack snapshots until `bytes <= budget` (one sample always
    /// stays); returns how many samples went.
    mutating func trim(toBytes budget: Int) -> Int {
        var n = 0
        var k = 0
        while bytes > budget {
            if k < stacks.count && (count <= 1 || stacks[k].timeMs <= samples[head].timeMs) {
                bytes -= stacks[k].footprint
                k += 1
            } else if count > 1 {
                dropHead()
                n += 1
            } else {
                break
            }
        }
        if k > 0 { stacks.removeFirst(k) }
        trimmedByMemory += Int64(n)
        compact()
        return n
    }

    private mutating func dropHead() {
        bytes -= samples[head].footprint
        samples[head] = HistorySample(timeMs: 0, cpuPercent: 0, rssBytes: 0, readBytes: 0, writeBytes: 0,
                                      fds: 0, threadCount: 0, threads: [])
        head += 1
    }

    private mutating func compact() {
        if head > 0 && head * 2 >= samples.count {
            samples.removeFirst(head)
            head = 0
        }
    }
}
