/// A trigger rule: "METRIC at or above (or at or below) THRESHOLD for SUSTAIN seconds, for
/// processes matching the filter; then capture with BACKEND for DURATION seconds, at most
/// once per COOLDOWN per process". Units: CPU % of one core, memory MiB, disk I/O MiB/s,
/// network = open sockets, threads and fds as counts.
public struct MonitorRule: Sendable, Equatable {
    public enum Comparison: String, Sendable { case atOrAbove, atOrBelow }

    public var metric: TriggerMetric
    public var threshold: Double
    public var comparison: Comparison
    /// Seconds the condition must hold (0: the first matching observation fires).
    public var sustainSeconds: Double
    /// Seconds before the same process (pid + start time) can fire this rule again.
    public var cooldownSeconds: Double
    public var filter: ProcessFilter
    /// false: notify only (the fired callback), no capture.
    public var captures: Bool
    public var backend: CaptureBackend
    public var captureDurationSeconds: Double
    /// Seconds between low-rate `eu-stack` snapshots of the processes this rule matches, kept
    /// in the monitor's history and stored with a fired capture as `history.folded` (0: none,
    /// the default; else 0.5 to 60). Needs the monitor's history on.
    public var historyStackIntervalSeconds: Double = 0

    public static let defaultCooldownSeconds = 600.0
    public static let historyStackIntervalRange = 0.5...60.0

    /// - Throws: `.invalidArgument` for a negative, non-finite or too short interval (below
    ///   0.5 s, except 0 = off), `.tooLarge` above 60 s.
    public static func validateHistoryStackInterval(_ s: Double) throws {
        guard s.isFinite, s == 0 || s >= historyStackIntervalRange.lowerBound else {
            throw SpikeVaultError(.invalidArgument, "history stack interval must be 0 (off) or 0.5 to 60 seconds, got \(s)")
        }
        guard s <= historyStackIntervalRange.upperBound else {
            throw SpikeVaultError(.tooLarge, "history stack interval must be at most 60 seconds, got \(s)")
        }
    }

    public init(metric: TriggerMetric, threshold: Double, comparison: Comparison = .atOrAbove,
                sustainSeconds: Double = 0, cooldownSeconds: Double = MonitorRule.defaultCooldownSeconds,
                filter: ProcessFilter = ProcessFilter(), captures: Bool = true,
                backend: CaptureBackend = .auto, captureDurationSeconds: Double = 5) {
        self.metric = metric; self.threshold = threshold; self.comparison = comparison
        self.sustainSeconds = sustainSeconds; self.cooldownSeconds = cooldownSeconds
        self.filter = filter; self.captures = captures; self.backend = backend
        self.captureDurationSeconds = captureDurationSeconds
    }

    /// The defaults a user can start with: CPU >= 90 % for 30 s, memory >= 2 GiB, disk I/O
    /// >= 100 MiB/s for 30 s, threads >= 1000, fds >= 5000.
    public static let defaults: [MonitorRule] = [
        MonitorRule(metric: .cpu, threshold: 90, sustainSeconds: 30),
        MonitorRule(metric: .memory, threshold: 2048),
        MonitorRule(metric: .diskIO, threshold: 100, sustainSeconds: 30),
        MonitorRule(metric: .threads, threshold: 1000),
        MonitorRule(metric: .fds, threshold: 5000),
    ]

    /// True when `value` meets the threshold (the threshold itself included).
    public func matches(_ value: Double) -> Bool {
        comparison == .atOrAbove ? value >= threshold : value <= threshold
    }

    /// - Throws: `.invalidArgument` naming the field and its bounds.
    public func validate() throws {
        func bad(_ m: String) -> SpikeVaultError { SpikeVaultError(.invalidArgument, m) }
        guard threshold.isFinite else { throw bad("rule threshold must be finite") }
        guard sustainSeconds.isFinite, sustainSeconds >= 0, sustainSeconds <= 86_400 else {
            throw bad("sustain must be in [0, 86400] seconds, got \(sustainSeconds)")
        }
        guard cooldownSeconds.isFinite, cooldownSeconds >= 0, cooldownSeconds <= 7 * 86_400 else {
            throw bad("cooldown must be in [0, 604800] seconds, got \(cooldownSeconds)")
        }
        guard captureDurationSeconds.isFinite, captureDurationSeconds > 0,
              captureDurationSeconds <= CaptureRequest.maxDurationSeconds else {
            throw bad("capture duration must be in (0, 3600] seconds, got \(captureDurationSeconds)")
        }
        try Self.validateHistoryStackInterval(historyStackIntervalSeconds)
        guard backend != .command else { throw bad("a monitor rule cannot use the command backend (it needs an argv template)") }
    }
}

/// Settings of a `Monitor` (rules are added separately).
public struct MonitorConfiguration: Sendable, Equatable {
    /// Sampler period, and the unit of the gap rule (a gap > 2 intervals resets a sustain).
    public var intervalSeconds: Double = 1
    /// Captures allowed per rolling hour across all rules (0: none, notify only).
    public var maxCapturesPerHour: Int = 6
    /// false: host-fed only (no sampler; `observe` drives the rules).
    public var sampling: Bool = true
    /// Seconds of per-process history kept for processes the capturing rules match, stored
    /// with each monitor-fired capture as `history.json` (0: off; at most 3600). Needs sampling.
    public var historySeconds: Double = HistoryLimits.defaultSeconds
    /// Memory cap of the whole history, in bytes (64 KiB to 1 GiB; default 16 MiB).
    public var historyMemoryBytes: Int = HistoryLimits.defaultMemoryBytes

    public init(intervalSeconds: Double = 1, maxCapturesPerHour: Int = 6, sampling: Bool = true,
                historySeconds: Double = HistoryLimits.defaultSeconds,
                historyMemoryBytes: Int = HistoryLimits.defaultMemoryBytes) {
        self.intervalSeconds = intervalSeconds; self.maxCapturesPerHour = maxCapturesPerHour
        self.sampling = sampling; self.historySeconds = historySeconds
        self.historyMemoryBytes = historyMemoryBytes
    }

    /// - Throws: `.invalidArgument` for a negative or non-finite value, `.tooLarge` above 3600.
    public static func validateHistorySeconds(_ s: Double) throws {
        guard s.isFinite, s >= 0 else {
            throw SpikeVaultError(.invalidArgument, "history seconds must be a finite number in [0, 3600] (0 = off), got \(s)")
        }
        guard s <= HistoryLimits.maxSeconds else {
            throw SpikeVaultError(.tooLarge, "history seconds must be at most 3600 (one hour), got \(s)")
        }
    }

    /// - Throws: `.invalidArgument` below 64 KiB, `.tooLarge` above 1 GiB.
    public static func validateHistoryMemory(_ bytes: Int64) throws {
        guard bytes >= Int64(HistoryLimits.minMemoryBytes) else {
            throw SpikeVaultError(.invalidArgument, "history memory limit must be at least 65536 bytes, got \(bytes)")
        }
        guard bytes <= Int64(HistoryLimits.maxMemoryBytes) else {
            throw SpikeVaultError(.tooLarge, "history memory limit must be at most 1073741824 bytes (1 GiB), got \(bytes)")
        }
    }

    public func validate() throws {
        guard intervalSeconds.isFinite, intervalSeconds >= 0.05, intervalSeconds <= 3600 else {
            throw SpikeVaultError(.invalidArgument, "monitor interval must be in [0.05, 3600] seconds, got \(intervalSeconds)")
        }
        guard maxCapturesPerHour >= 0, maxCapturesPerHour <= 3600 else {
            throw SpikeVaultError(.invalidArgument, "captures per hour must be in [0, 3600], got \(maxCapturesPerHour)")
        }
        try Self.validateHistorySeconds(historySeconds)
        try Self.validateHistoryMemory(Int64(historyMemoryBytes))
    }
}
