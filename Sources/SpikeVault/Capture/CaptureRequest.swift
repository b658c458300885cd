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
}

/// What to capture. Validate with `validate()` (runCapture does it).
public struct CaptureRequest: Sendable, Equatable {
    public static let maxDurationSeconds = 3600.0
    public static let minIntervalSeconds = 0.01
    public static let maxIntervalSeconds = 60.0
    public static let perfFrequencyRange = 1...10_000

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
    /// perf record -F, in 1...10000.
    public var perfFrequency: Int
    /// The host's notes for the stored record: a JSON object (checked when it is saved).
    public var notes: String
    /// Metric collectors to run beside the backend (docs/metric-captures.md). nil: `auto`
    /// picks by `metric` (`MetricCollector.autoPlan`), other backends run none; `[]`: none.
    public var collectors: [MetricCollector]?

    public init(pid: Int32, metric: TriggerMetric, value: Double, durationSeconds: Double = 5,
                intervalSeconds: Double = 0.1, backend: CaptureBackend = .auto,
                commandTemplate: [String]? = nil, perfFrequency: Int = 99, notes: String = "{}",
                collectors: [MetricCollector]? = nil) {
        self.pid = pid; self.metric = metric; self.value = value
        self.durationSeconds = durationSeconds; self.intervalSeconds = intervalSeconds
        self.backend = backend; self.commandTemplate = commandTemplate; self.perfFrequency = perfFrequency
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
        guard Self.perfFrequencyRange.contains(perfFrequency) else {
            throw bad("perfFrequency must be in 1...10000 Hz, got \(perfFrequency)")
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
