#if canImport(Glibc)
import Glibc
#endif

/// What the history holds now and what it dropped (read while the monitor runs).
public struct HistoryCounters: Sendable, Equatable {
    /// Bytes the rings hold now (samples, thread arrays and per-process tables; an estimate
    /// from the types' strides, documented in docs/monitor.md). Never above the memory cap.
    public var bytes: Int64 = 0
    /// Processes with a ring now.
    public var processes: Int64 = 0
    /// Samples dropped before they aged out: by the memory cap or because their process exited.
    public var samplesEvicted: Int64 = 0
    /// Rings dropped because their process exited (or its pid was reused).
    public var processesEvicted: Int64 = 0
    /// CPU time (user + system) the history's own reads and bookkeeping took, in microseconds
    /// (the monitor thread's; stack snapshots run in their own tool processes).
    public var cpuMicros: Int64 = 0
    /// Stack snapshots taken for the history / that failed (tool missing, no permission, …).
    public var stackSnapshots: Int64 = 0
    public var stackFailures: Int64 = 0
    public init() {}
}

/// The monitor's memory of the last `seconds` of every process its capturing rules match:
/// one `ProcessRing` per process (pid + start time), fed once per sampler tick on the monitor
/// thread, bounded by age and by `memoryBytes` across all rings; a process that is gone at a
/// tick (or whose pid now names another process) is dropped at once. When a rule fires, the
/// ring of its process becomes the capture's `history.json` (`HistoryJSON`).
///
/// Thread-safe: the monitor thread records and snapshots, any thread reads the counters.
final class HistoryStore: @unchecked Sendable {
    let seconds: Double
    let memoryBytes: Int
    let intervalSeconds: Double
    private let lock = Condition()
    // Guarded by `lock`:
    private var rings: [Int32: ProcessRing] = [:]
    private var tick: UInt64 = 0
    private var counters = HistoryCounters()
    private let reader: HistoryReader
    private let ticksPerSecond = Double(CaptureSys.clockTicksPerSecond)

    init(seconds: Double, memoryBytes: Int, intervalSeconds: Double, procRoot: String = "/proc") throws {
        self.seconds = seconds
        self.memoryBytes = memoryBytes
        self.intervalSeconds = intervalSeconds
        self.reader = try HistoryReader(procRoot: procRoot)
    }

    var currentCounters: HistoryCounters { lock.withLock { counters } }

    /// Records one tick: `samples` is the sampler's pass, `matched` says which of them the
    /// history keeps (the capturing rules' filters), `nowMs` the tick's epoch time.
    /// `stackIntervalSeconds` gives, for a matched process, the history-stack interval of its
    /// rules (0: no stacks).
    func record(_ samples: [ProcessSample], nowMs: Int64, monotonicNs: UInt64,
                stackIntervalSeconds: (ProcessSample) -> Double = { _ in 0 },
                matched: (ProcessSample) -> Bool) {
        let cpuBefore = ProcessSampler.threadCPUMicros()
        lock.withLock {
            tick &+= 1
            let horizon = nowMs - Int64((seconds * 1000).rounded())
            for s in samples where s.inspectable && matched(s) {
                var ring: ProcessRing
                if let r = rings[s.pid], r.startTimeTicks == s.startTimeTicks {
                    ring = r
                } else {
                    if let old = rings[s.pid] { evict(old) }  // pid reused by another process
                    ring = ProcessRing(pid: s.pid, startTimeTicks: s.startTimeTicks, comm: s.comm)
                }
                rings[s.pid] = nil  // keep the ring uniquely referenced while it is mutated
                ring.comm = s.comm
                ring.seenTick = tick
                ring.stackIntervalMs = Int64((stackIntervalSeconds(s) * 1000).rounded())
                ring.append(sample(s, &ring, nowMs: nowMs, monotonicNs: monotonicNs))
                _ = ring.dropOlder(than: horizon)
                rings[s.pid] = ring
            }
            // Processes not seen at this tick have exited (or stopped matching): drop them.
            if rings.count > 0 {
                for (pid, r) in rings where r.seenTick != tick {
                    evict(r)
                    rings[pid] = nil
                }
            }
            enforceCap()
            counters.processes = Int64(rings.count)
            counters.bytes = Int64(totalBytes())
        }
        let spent = ProcessSampler.threadCPUMicros() - cpuBefore
        lock.withLock { counters.cpuMicros += spent }
    }

    private func sample(_ s: ProcessSample, _ ring: inout ProcessRing, nowMs: Int64, monotonicNs: UInt64) -> HistorySample {
        let r = reader.read(pid: s.pid)
        let elapsed = ring.lastThreadNs == 0 || monotonicNs <= ring.lastThreadNs ? 0
            : Double(monotonicNs - ring.lastThreadNs) / 1e9
        var threads: [HistoryThread] = []
        threads.reserveCapacity(min(r.threads.count, HistoryLimits.maxThreadsPerSample))
        var ticks: [Int32: UInt64] = [:]
        ticks.reserveCapacity(r.threads.count)
        var all: [HistoryThread] = []
        all.reserveCapacity(r.threads.count)
        for t in r.threads {
            var cpu: Float = -1
            if elapsed > 0, let before = ring.lastThreadTicks[t.tid] {
                cpu = Float(Double(t.ticks >= before ? t.ticks - before : 0) / ticksPerSecond / elapsed * 100)
            }
            ticks[t.tid] = t.ticks
            all.append(HistoryThread(tid: t.tid, cpuPercent: cpu, state: t.state))
            if ring.threadNames[t.tid] != t.name,
               ring.threadNames[t.tid] != nil || ring.threadNames.count < HistoryLimits.maxThreadNames {
                ring.threadNames[t.tid] = t.name
            }
        }
        if all.count > HistoryLimits.maxThreadsPerSample {
            all.sort { $0.cpuPercent > $1.cpuPercent }
            threads.append(contentsOf: all.prefix(HistoryLimits.maxThreadsPerSample))
        } else {
            threads.append(contentsOf: all)
        }
        // Names of threads that are gone are forgotten unless a kept sample may still show them.
        if ring.threadNames.count > ticks.count * 2 + 16 {
            let live = Set(ring.live.flatMap { $0.threads.map(\.tid) }).union(ticks.keys)
            ring.threadNames = ring.threadNames.filter { live.contains($0.key) }
        }
        ring.lastThreadTicks = ticks
        ring.lastThreadNs = monotonicNs
        return HistorySample(
            timeMs: nowMs, cpuPercent: s.cpuPercent.map { Float($0) } ?? -1,
            rssBytes: UInt64(max(0, s.rssMiB * 1_048_576)), readBytes: r.readBytes, writeBytes: r.writeBytes,
            fds: r.fds, threadCount: Int32(clamping: s.threads), threads: threads)
    }

    private func evict(_ r: ProcessRing) {
        counters.samplesEvicted += Int64(r.count)
        counters.processesEvicted += 1
    }

    private func totalBytes() -> Int { rings.values.reduce(0) { $0 + $1.bytes + $1.overhead } }

    /// Keeps the rings within `memoryBytes`: each gets a fair share (the cap divided by the
    /// number of rings) and gives up its oldest samples beyond it; if the rings' fixed parts
    /// alone exceed the cap, the most recently added processes are dropped.
    private func enforceCap() {
        var total = totalBytes()
        guard total > memoryBytes else { return }
        let share = memoryBytes / max(1, rings.count)
        for pid in Array(rings.keys) {
            guard var r = rings[pid], r.bytes + r.overhead > share else { continue }
            rings[pid] = nil
            let before = r.bytes
            counters.samplesEvicted += Int64(r.trim(toBytes: max(0, share - r.overhead)))
            total -= before - r.bytes
            rings[pid] = r
        }
        guard total > memoryBytes else { return }
        // Still over: drop whole rings, largest pid first (the newest processes, usually).
        for pid in rings.keys.sorted(by: >) {
            guard total > memoryBytes, let r = rings[pid] else { break }
            total -= r.bytes + r.overhead
            counters.samplesEvicted += Int64(r.count)
            rings[pid] = nil
        }
    }

    /// The `history.json` of a firing's process up to `triggerMs` and, when stack snapshots
    /// were kept, its `history.folded`; nil when the history holds nothing for it (not
    /// matched, or a different process now has that pid).
    func snapshot(pid: Int32, startTimeTicks: UInt64, triggerMs: Int64) -> (json: [UInt8], folded: [UInt8]?)? {
        lock.withLock {
            guard let r = rings[pid], r.startTimeTicks == startTimeTicks || startTimeTicks == 0, r.count > 0 else { return nil }
            let json = HistoryJSON.encode(r, triggerMs: triggerMs, intervalSeconds: intervalSeconds, historySeconds: seconds)
            var folded = FoldedStacks()
            for snap in r.stacks where snap.timeMs <= triggerMs {
                for (stack, n) in snap.stacks { folded.add(stack.split(separator: ";").map(String.init), count: n) }
            }
            return (json, folded.totalSamples > 0 ? Array(folded.text.utf8) : nil)
        }
    }

    /// Processes whose next stack snapshot is due at `nowMs` (marked as taken).
    func dueForStacks(nowMs: Int64) -> [(Int32, UInt64)] {
        lock.withLock {
            var due: [(Int32, UInt64)] = []
            for (pid, r) in rings where r.stackIntervalMs > 0 && (r.lastStackMs == .min || nowMs - r.lastStackMs >= r.stackIntervalMs) {
                due.append((pid, r.startTimeTicks))
            }
            for (pid, _) in due { rings[pid]!.lastStackMs = nowMs }
            return due.sorted { $0.0 < $1.0 }
        }
    }

    func addStacks(pid: Int32, startTime: UInt64, _ snap: StackSnapshot) {
        lock.withLock {
            counters.stackSnapshots += 1
            guard var r = rings[pid], r.startTimeTicks == startTime else { return }
            rings[pid] = nil
            r.append(snap)
            rings[pid] = r
            enforceCap()
            counters.bytes = Int64(totalBytes())
        }
    }

    func stackFailed(pid: Int32, startTime: UInt64, timeMs: Int64, reason: String) {
        lock.withLock {
            counters.stackFailures += 1
            guard rings[pid]?.startTimeTicks == startTime else { return }
            rings[pid]!.stackFailures += 1
            rings[pid]!.lastStackError = reason
        }
    }
}
