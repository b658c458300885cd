/// Capture backends; raw values are the names used by the C ABI and Python.
public enum CaptureBackend: String, Sendable, CaseIterable {
    case auto
    case procfs
    case euStack = "eu-stack"
    case perf
    case gdb
    case sample
    case spindump
    case command
    /// py-spy (PyPI `py-spy`): Python frames of a CPython target.
    case pySpy = "py-spy"
}

/// What to capture. Validate with `validate()` (runCapture does it).
public struct CaptureRequest: Sendable, Equatable {
    public static let maxDurationSeconds = 3600.0
    public static let minIntervalSeconds = 0.01
    public static let maxIntervalSeconds = 60.0
    /// Longest capture taken at perf's full default rate (longer ones get a lower default).
    public static let fullRateSeconds = 60.0
    /// The highest `rateHz` any backend accepts (perf's bound).
    public static let maxRateHz = 10_000.0

    /// Default stack sampling rate of a backend when `rateHz` is nil; snapshot backends
    /// (eu-stack, gdb) then take one snapshot per `intervalSeconds`.
    public static func defaultRateHz(_ b: CaptureBackend) -> Double? {
        switch b {
        case .perf: return 999
        case .pySpy: return 100
        default: return nil
        }
    }

    /// The highest rate a backend accepts (see docs/capture.md for the practical maxima of the
    /// snapshot backends, each snapshot being a ptrace stop of every thread).
    public static func maxRateHz(_ b: CaptureBackend) -> Double {
        switch b {
        case .perf, .auto: return maxRateHz
        case .pySpy: return 1000
        case .euStack: return 100
        case .gdb: return 10
        default: return maxRateHz
        }
    }

    public var pid: Int32
    public var metric: TriggerMetric
    public var value: Double
    /// In (0, 3600].
    public var durationSeconds: Double
    /// Sampling interval of procfs and the snapshot backends, in [0.01, 60] and <= duration.
    public var intervalSeconds: Double
    public var backend: CaptureBackend
    /// Required for `.command`, forbidden otherwise. Placeholders: `{pid}` `{duration}` `{output}`.
    public var commandTemplate: [String]?
    /// Stack sampling rate in Hz of the stack backend (perf `-F`, py-spy `-r`, eu-stack/gdb
    /// snapshots per second); nil = the backend's default (perf 999, py-spy 100, eu-stack/gdb
    /// one snapshot per `intervalSeconds`). In (0, maxRateHz(backend)]; `auto` clamps it to the
    /// maximum of the backend it falls back to (and says so in the notes).
    public var rateHz: Double?
    /// The host's notes for the stored record: a JSON object (checked when it is saved).
    public var notes: String
    /// Metric collectors to run beside the backend (docs/metric-captures.md). nil: `auto`
    /// picks by `metric` (`MetricCollector.autoPlan`), other backends run none; `[]`: none.
    public var collectors: [MetricCollector]?

    public init(pid: Int32, metric: TriggerMetric, value: Double, durationSeconds: Double = 5,
                intervalSeconds: Double = 0.1, backend: CaptureBackend = .auto,
                commandTemplate: [String]? = nil, rateHz: Double? = nil, notes: String = "{}",
                collectors: [MetricCollector]? = nil) {
        self.pid = pid; self.metric = metric; self.value = value
        self.durationSeconds = durationSeconds; self.intervalSeconds = intervalSeconds
        self.backend = backend; self.commandTemplate = commandTemplate; self.rateHz = rateHz
        self.notes = notes
        self.collectors = collectors
    }

    /// - Throws: `.invalidArgument` naming the offending field and its bounds.
    public func validate() throws {
        func bad(_ m: String) -> SpikeVaultError { SpikeVaultError(.invalidArgument, m) }
        guard pid > 0 else { throw bad("pid must be a positive process id, got \(pid)") }
        guard value.isFinite else { throw bad("trigger value must be a finite number") }
        guard durationSeconds.isFinite, durationSeconds > 0, durationSeconds <= Self.maxDurationSeconds else {
            throw bad("durationSeconds must be in (0, 3600], got \(durationSeconds)")
        }
        guard intervalSeconds.isFinite, intervalSeconds >= Self.minIntervalSeconds,
              intervalSeconds <= Self.maxIntervalSeconds else {
            throw bad("intervalSeconds must be in [0.01, 60], got \(intervalSeconds)")
        }
        guard intervalSeconds <= durationSeconds else {
            throw bad("intervalSeconds (\(intervalSeconds)) must not exceed durationSeconds (\(durationSeconds))")
        }
        if let r = rateHz {
            let maxRate = Self.maxRateHz(backend)
            guard r.isFinite, r > 0, r <= maxRate else {
                throw bad("rateHz must be more than 0 and at most \(CommandTemplate.formatSeconds(maxRate)) Hz for backend '\(backend.rawValue)', got \(r)")
            }
        }
        if let c = collectors, Set(c).count != c.count { throw bad("collectors must not repeat a collector") }
        if backend == .command {
            guard let t = commandTemplate, let first = t.first, !first.isEmpty else {
                throw bad("backend 'command' needs a non-empty commandTemplate whose first element names the tool")
            }
            if t.contains(where: { $0.utf8.contains(0) }) { throw bad("commandTemplate arguments must not contain NUL bytes") }
        } else if commandTemplate != nil {
            throw bad("commandTemplate is only valid with backend 'command'")
        }
    }
}
