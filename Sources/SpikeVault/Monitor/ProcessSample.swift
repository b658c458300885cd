/// One process as one sampler tick saw it. Units are the ones rules use: CPU in percent of one
/// core (as `top` shows it), memory in MiB, disk I/O in MiB/s, the rest as counts.
public struct ProcessSample: Sendable, Equatable {
    public var pid: Int32
    /// Field 22 of `/proc/PID/stat`: with the pid, the process's identity.
    public var startTimeTicks: UInt64
    public var comm: String
    /// Owner of `/proc/PID/stat`: the process's effective uid (root for a non-dumpable one).
    public var uid: UInt32
    /// The caller may capture it (same uid, or the caller is root). io, fds and sockets are
    /// read only for inspectable processes; rules only see inspectable ones.
    public var inspectable: Bool
    /// nil on the first tick a process is seen (a rate needs two readings).
    public var cpuPercent: Double?
    public var rssMiB: Double
    /// read_bytes + write_bytes of `/proc/PID/io` per second; nil on first sight or unreadable.
    public var diskIOMiBPerSecond: Double?
    public var threads: Int
    /// Open file descriptors; nil when not gathered or unreadable.
    public var fds: Int?
    /// Open sockets (fds linking to `socket:[…]`): what `network` means; nil when not gathered.
    public var sockets: Int?

    public init(pid: Int32, startTimeTicks: UInt64, comm: String, uid: UInt32, inspectable: Bool,
                cpuPercent: Double?, rssMiB: Double, diskIOMiBPerSecond: Double?, threads: Int,
                fds: Int?, sockets: Int?) {
        self.pid = pid; self.startTimeTicks = startTimeTicks; self.comm = comm; self.uid = uid
        self.inspectable = inspectable; self.cpuPercent = cpuPercent; self.rssMiB = rssMiB
        self.diskIOMiBPerSecond = diskIOMiBPerSecond; self.threads = threads; self.fds = fds
        self.sockets = sockets
    }

    /// The value of `metric`, or nil when this tick has none for it.
    public func value(_ metric: TriggerMetric) -> Double? {
        switch metric {
        case .cpu: return cpuPercent
        case .memory: return rssMiB
        case .diskIO: return diskIOMiBPerSecond
        case .network: return sockets.map(Double.init)
        case .threads: return Double(threads)
        case .fds: return fds.map(Double.init)
        }
    }
}

/// What the sampler met, for the host (never errors): totals since the sampler was made,
/// except `processes` and `kernelThreads`, which describe the last tick.
public struct SamplerCounters: Sendable, Equatable {
    public var ticks: Int64 = 0
    /// Processes sampled in the last tick (kernel threads and zombies excluded).
    public var processes: Int64 = 0
    /// Kernel threads skipped in the last tick.
    public var kernelThreads: Int64 = 0
    /// Processes that vanished between listing `/proc` and reading them, or were zombies.
    public var vanished: Int64 = 0
    /// `/proc` files refused (EACCES/EPERM: hidepid, other users' io/fd).
    public var unreadable: Int64 = 0
    /// CPU time (user + system) the sampler's ticks took, in microseconds.
    public var cpuMicros: Int64 = 0

    public init() {}
}
