/// One thread of a process at one history tick.
public struct HistoryThread: Sendable, Equatable {
    public var tid: Int32
    /// % of one core since the previous tick; negative when unknown (first sight of the thread).
    public var cpuPercent: Float
    /// The state letter of `/proc/PID/task/TID/stat` (`R`, `S`, `D`, …) as an ASCII byte.
    public var state: UInt8

    public init(tid: Int32, cpuPercent: Float, state: UInt8) {
        self.tid = tid; self.cpuPercent = cpuPercent; self.state = state
    }
}

/// One process at one monitor tick, as the history keeps it: compact (no optionals, sentinels
/// for "unknown") because a ring holds up to an hour of these per process.
public struct HistorySample: Sendable, Equatable {
    public static let unknown = UInt64.max

    /// Unix epoch milliseconds of the tick.
    public var timeMs: Int64
    /// Process CPU in % of one core since the previous tick; negative when unknown.
    public var cpuPercent: Float
    public var rssBytes: UInt64
    /// Cumulative `read_bytes` / `write_bytes` of `/proc/PID/io`; `unknown` when unreadable.
    public var readBytes: UInt64
    public var writeBytes: UInt64
    /// Open fds; -1 when unreadable.
    public var fds: Int32
    /// Threads of the process (all of them, even when `threads` holds fewer).
    public var threadCount: Int32
    /// Per-thread CPU and state, busiest first, at most `HistoryLimits.maxThreadsPerSample`.
    public var threads: [HistoryThread]

    public init(timeMs: Int64, cpuPercent: Float, rssBytes: UInt64, readBytes: UInt64, writeBytes: UInt64,
                fds: Int32, threadCount: Int32, threads: [HistoryThread]) {
        self.timeMs = timeMs; self.cpuPercent = cpuPercent; self.rssBytes = rssBytes
        self.readBytes = readBytes; self.writeBytes = writeBytes; self.fds = fds
        self.threadCount = threadCount; self.threads = threads
    }

    /// Bytes this sample holds on the heap and in its ring slot (the figure the memory cap and
    /// the `historyBytes` counter use): the struct's stride plus the thread array's storage
    /// (a Swift array's 32-byte header and its capacity).
    var footprint: Int {
        MemoryLayout<HistorySample>.stride
            + (threads.capacity == 0 ? 0 : 32 + threads.capacity * MemoryLayout<HistoryThread>.stride)
    }
}

/// Bounds of the history settings (documented in docs/monitor.md).
public enum HistoryLimits {
    /// Default seconds of history per process (0 = off).
    public static let defaultSeconds = 60.0
    /// The most seconds a monitor keeps: one hour.
    public static let maxSeconds = 3600.0
    /// Default memory cap of all rings together: 16 MiB.
    public static let defaultMemoryBytes = 16 << 20
    /// Bounds of the memory cap: 64 KiB to 1 GiB.
    public static let minMemoryBytes = 64 << 10
    public static let maxMemoryBytes = 1 << 30
    /// Threads kept per sample (the busiest); the rest are counted in `threadCount` only.
    public static let maxThreadsPerSample = 256
    /// Thread names kept per process (the latest name of each tid seen).
    public static let maxThreadNames = 1024
}
