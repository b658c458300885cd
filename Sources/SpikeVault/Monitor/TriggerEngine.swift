/// One value of one metric of one process at one time: what the sampler produces each tick
/// and what a host feeds in host-fed mode.
public struct MonitorObservation: Sendable, Equatable {
    public var pid: Int32
    /// Start time (clock ticks since boot) telling processes that share a pid apart; 0 when
    /// unknown (then a reused pid is not detected).
    public var startTimeTicks: UInt64
    public var comm: String
    public var uid: UInt32?
    public var metric: TriggerMetric
    public var value: Double
    /// Milliseconds; any consistent clock (the sampler uses the Unix epoch).
    public var timeMs: Int64

    public init(pid: Int32, startTimeTicks: UInt64 = 0, comm: String = "", uid: UInt32? = nil,
                metric: TriggerMetric, value: Double, timeMs: Int64) {
        self.pid = pid; self.startTimeTicks = startTimeTicks; self.comm = comm; self.uid = uid
        self.metric = metric; self.value = value; self.timeMs = timeMs
    }
}

/// A rule that fired (or would have, but for a cooldown or the hourly cap).
public struct MonitorFiring: Sendable, Equatable {
    public var ruleIndex: Int
    public var pid: Int32
    public var startTimeTicks: UInt64
    public var comm: String
    public var metric: TriggerMetric
    /// The observation's value when the sustain window completed.
    public var value: Double
    public var timeMs: Int64
    /// Time of the first observation of the window.
    public var sustainedSinceMs: Int64
}

public struct EngineEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case fired, cooldown, hourlyCap }
    public var kind: Kind
    public var firing: MonitorFiring
}

public struct EngineCounters: Sendable, Equatable {
    public var observations: Int64 = 0
    public var fired: Int64 = 0
    public var suppressedByCooldown: Int64 = 0
    public var suppressedByHourlyCap: Int64 = 0
    /// Sustain windows restarted because observations stopped for more than 2 intervals.
    public var gapResets: Int64 = 0
    /// States dropped because a pid now belongs to another process (start time changed).
    public var pidReuseResets: Int64 = 0
    public init() {}
}

/// The decision logic, pure and with time injected: sustain windows, the gap rule, pid reuse,
/// per-process cooldowns and the hourly cap. The sampler and host-fed mode both drive it.
///
/// - Threshold: `value >= threshold` (or `<=`), the threshold itself matches.
/// - Sustain: the window opens at the first matching observation and fires at the first
///   matching observation at least `sustainSeconds` later; a non-matching one closes it.
/// - Gap: an observation more than 2 intervals after the previous one of the same process and
///   rule (or earlier than it: a clock step back) restarts the window: missing data is not
///   assumed to have matched.
/// - Identity: a different start time for a pid is another process: its state starts fresh
///   (no inherited window, no inherited cooldown).
/// - Cooldown: after firing, the rule ignores that process for `cooldownSeconds`.
/// - Hourly cap: at most `maxCapturesPerHour` capturing firings in any 3600 s (rolling);
///   notify-only rules are not capped. A suppressed firing restarts the window (so it is
///   counted once per window, and fires again only after a full window).
public struct TriggerEngine: Sendable {
    public let rules: [MonitorRule]
    public let intervalMs: Int64
    public let maxCapturesPerHour: Int
    public private(set) var counters = EngineCounters()

    private struct Key: Hashable { var rule: Int; var pid: Int32 }
    private struct State {
        var startTime: UInt64
        var sustainStart: Int64?
        var lastTime: Int64
        var cooldownUntil: Int64 = .min
    }
    private var states: [Key: State] = [:]
    private var fireTimes: [Int64] = []

    public init(rules: [MonitorRule], intervalSeconds: Double = 1, maxCapturesPerHour: Int = 6) {
        self.rules = rules
        self.intervalMs = max(1, Int64((intervalSeconds * 1000).rounded()))
        self.maxCapturesPerHour = maxCapturesPerHour
    }

    /// Applies one observation to every rule of its metric; returns what fired or was suppressed.
    public mutating func observe(_ o: MonitorObservation) -> [EngineEvent] {
        counters.observations += 1
        guard o.value.isFinite else { return [] }
        var events: [EngineEvent] = []
        for (index, rule) in rules.enumerated() where rule.metric == o.metric {
            guard rule.filter.isEmpty || rule.filter.admits(comm: o.comm, uid: o.uid) else { continue }
            let key = Key(rule: index, pid: o.pid)
            var st = states[key] ?? State(startTime: o.startTimeTicks, lastTime: o.timeMs)
            if st.startTime != o.startTimeTicks {
                st = State(startTime: o.startTimeTicks, lastTime: o.timeMs)
                counters.pidReuseResets += 1
            } else if st.sustainStart != nil && (o.timeMs - st.lastTime > 2 * intervalMs || o.timeMs < st.lastTime) {
                st.sustainStart = nil
                counters.gapResets += 1
            }
            st.lastTime = o.timeMs
            defer { states[key] = st }
            guard rule.matches(o.value) else { st.sustainStart = nil; continue }
            let since = st.sustainStart ?? o.timeMs
            st.sustainStart = since
            guard o.timeMs - since >= Int64((rule.sustainSeconds * 1000).rounded()) else { continue }
            let firing = MonitorFiring(ruleIndex: index, pid: o.pid, startTimeTicks: o.startTimeTicks, comm: o.comm,
                                       metric: o.metric, value: o.value, timeMs: o.timeMs, sustainedSinceMs: since)
            if o.timeMs < st.cooldownUntil {
                counters.suppressedByCooldown += 1
                st.sustainStart = o.timeMs
                events.append(EngineEvent(kind: .cooldown, firing: firing))
                continue
            }
            if rule.captures {
                fireTimes.removeAll { $0 <= o.timeMs - 3_600_000 || $0 > o.timeMs }
                if fireTimes.count >= maxCapturesPerHour {
                    counters.suppressedByHourlyCap += 1
                    st.sustainStart = o.timeMs
                    events.append(EngineEvent(kind: .hourlyCap, firing: firing))
                    continue
                }
                fireTimes.append(o.timeMs)
            }
            counters.fired += 1
            st.cooldownUntil = o.timeMs + Int64((rule.cooldownSeconds * 1000).rounded())
            st.sustainStart = nil
            events.append(EngineEvent(kind: .fired, firing: firing))
        }
        return events
    }

    /// Gives back the hourly-cap slot of a firing whose capture could not start (the process
    /// keeps its cooldown, so it is not retried at once).
    public mutating func refund(_ firing: MonitorFiring) {
        if let i = fireTimes.lastIndex(of: firing.timeMs) { fireTimes.remove(at: i) }
    }

    /// Drops state of processes not observed for 2 intervals whose cooldown is over.
    public mutating func prune(nowMs: Int64) {
        let horizon = nowMs - 2 * intervalMs
        states = states.filter { $0.value.lastTime >= horizon || $0.value.cooldownUntil > nowMs }
    }

    /// Number of (rule, process) states held.
    public var stateCount: Int { states.count }
}
