import SpikeVault

/// Status codes of the C ABI (`SV_OK`, `SV_ERR_*`): zero is success, negative values are
/// errors, small positive values are cursor states. Numbers are ABI: never renumber a case.
@c public enum sv_status: Int32 {
    case ok = 0
    case row = 1
    case done = 2
    case invalidArgument = -1
    case nullArgument = -2
    case encoding = -3
    case io = -4
    case noSpace = -5
    case permission = -6
    case notFound = -7
    case corrupt = -8
    case tooLarge = -9
    case database = -10
    case closed = -11
    case busy = -12
    case unsupported = -13
    case noSuchProcess = -14
    case unsafePath = -15
    case timeout = -16
    case cancelled = -17
    case empty = -18
    case noMemory = -19
    case forked = -20
    case internalError = -21
    case alreadyExists = -22
    case cooldown = -23
}

extension sv_status: CaseIterable {
    /// The C number of a core status: the same raw value (abi/manifest.json numbers both;
    /// StatusMappingTests checks every case both ways, so the fallback is never taken).
    init(_ status: Status) {
        self = sv_status(rawValue: status.rawValue) ?? .internalError
    }
}

/// Trigger metrics as the C ABI numbers them (`SV_METRIC_*`). Numbers are ABI.
@c public enum sv_metric: Int32 {
    case cpu = 1
    case memory = 2
    case diskIo = 3
    case network = 4
    case threads = 5
    case fds = 6
}

/// Capture status as the C ABI numbers it (`SV_CAPTURE_*`). Numbers are ABI.
@c public enum sv_capture_status: Int32 {
    case complete = 1
    case partial = 2
    case failed = 3
    case missing = 4
    case quarantined = 5
}

/// Capture backends (`SV_BACKEND_*`). Numbers are ABI.
@c public enum sv_backend: Int32 {
    case auto = 1
    case procfs = 2
    case euStack = 3
    case perf = 4
    case gdb = 5
    case sample = 6
    case spindump = 7
    case command = 8
    case pySpy = 9
}

extension sv_backend {
    static func from(_ raw: Int32) throws -> CaptureBackend {
        switch sv_backend(rawValue: raw) {
        case .auto: return .auto
        case .procfs: return .procfs
        case .euStack: return .euStack
        case .perf: return .perf
        case .gdb: return .gdb
        case .sample: return .sample
        case .spindump: return .spindump
        case .command: return .command
        case .pySpy: return .pySpy
        case nil: throw SpikeVaultError(.invalidArgument, "unknown backend \(raw); use one of SV_BACKEND_AUTO...SV_BACKEND_PY_SPY")
        }
    }
}

extension sv_metric {
    var metric: TriggerMetric {
        switch self {
        case .cpu: return .cpu
        case .memory: return .memory
        case .diskIo: return .diskIO
        case .network: return .network
        case .threads: return .threads
        case .fds: return .fds
        }
    }

    /// Converts a raw C value, refusing numbers outside the enum (never a trap).
    static func from(_ raw: Int32) throws -> TriggerMetric {
        guard let m = sv_metric(rawValue: raw) else {
            throw SpikeVaultError(.invalidArgument, "unknown metric \(raw); use one of SV_METRIC_CPU...SV_METRIC_FDS")
        }
        return m.metric
    }

    static func number(_ metric: TriggerMetric) -> Int32 {
        switch metric {
        case .cpu: return sv_metric.cpu.rawValue
        case .memory: return sv_metric.memory.rawValue
        case .diskIO: return sv_metric.diskIo.rawValue
        case .network: return sv_metric.network.rawValue
        case .threads: return sv_metric.threads.rawValue
        case .fds: return sv_metric.fds.rawValue
        }
    }
}

extension sv_capture_status {
    static func number(_ status: CaptureStatus) -> Int32 {
        switch status {
        case .complete: return sv_capture_status.complete.rawValue
        case .partial: return sv_capture_status.partial.rawValue
        case .failed: return sv_capture_status.failed.rawValue
        case .missing: return sv_capture_status.missing.rawValue
        case .quarantined: return sv_capture_status.quarantined.rawValue
        }
    }
}

// sv_option and its key -> field map are generated from abi/manifest.json: OptionKeys.swift.

/// Counters of a monitor, read with `sv_monitor_get_counter` (`SV_MONITOR_*`). Numbers are ABI.
@c public enum sv_monitor_counter: Int32 {
    case ticks = 1
    case processes = 2
    case kernelThreads = 3
    case vanished = 4
    case unreadable = 5
    case samplerCpuUs = 6
    case observations = 7
    case fired = 8
    case suppressedCooldown = 9
    case suppressedHourlyCap = 10
    case gapResets = 11
    case pidReuseResets = 12
    case capturesStarted = 13
    case capturesRefused = 14
    case capturesStored = 15
    case capturesFailed = 16
    /// Bytes the monitor's history holds now (at most its memory limit; 0 when history is off).
    case historyBytes = 17
    /// Processes whose history is kept now.
    case historyProcesses = 18
    /// History samples dropped before they aged out: by the memory limit or because their process exited.
    case historySamplesEvicted = 19
    /// Processes whose history was dropped because they exited (or their pid was reused).
    case historyProcessesEvicted = 20
    /// CPU time the history's own reads and bookkeeping took, in microseconds.
    case historyCpuUs = 21
    /// Stack snapshots taken for the history (rules with sv_rule_set_history_stacks).
    case historyStackSnapshots = 22
    /// History stack snapshots that failed (eu-stack missing, no permission, the process gone).
    case historyStackFailures = 23
}
