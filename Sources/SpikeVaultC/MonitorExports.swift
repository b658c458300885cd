import SpikeVault

/// Heap box behind an `sv_rule *` handle: a monitor rule being built.
final class RuleBox: @unchecked Sendable {
    var rule: MonitorRule
    init(_ rule: MonitorRule) { self.rule = rule }
}

/// Heap box behind an `sv_monitor *` handle.
final class MonitorBox: @unchecked Sendable {
    let monitor: Monitor
    init(_ monitor: Monitor) { self.monitor = monitor }
}

private func withMonitor(_ monitor: OpaquePointer?, _ body: (Monitor) throws -> Void) -> Int32 {
    MonitorBox.with(monitor) { try body($0.monitor) }
}

private func checkedSeconds(_ value: Double, _ what: String, max: Double) throws -> Double {
    guard value.isFinite, value >= 0, value <= max else {
        throw SpikeVaultError(.invalidArgument, "\(what) must be in [0, \(Int(max))] seconds, got \(value)")
    }
    return value
}

/// Creates a rule "metric (an SV_METRIC_* value) at or above `threshold`", firing on the first
/// matching observation (sustain 0), cooldown 600 s per process, for every process, capturing
/// with SV_BACKEND_AUTO for 5 s. Units: CPU in % of one core (as top shows it), memory MiB,
/// disk I/O MiB/s (read + write), network = open sockets, threads and fds as counts.
/// The caller owns *out_rule and frees it with sv_rule_free; sv_monitor_add_rule copies it.
/// Use one rule from one thread at a time.
@c(sv_rule_new)
public func sv_rule_new(_ metric: Int32, _ threshold: Double, _ out_rule: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_rule, "out_rule")
        out.pointee = nil
        let m = try sv_metric.from(metric)
        guard threshold.isFinite else { throw SpikeVaultError(.invalidArgument, "threshold must be finite, got \(threshold)") }
        out.pointee = Handles.shared.register(RuleBox(MonitorRule(metric: m, threshold: threshold)))
    }
}

/// Releases a rule handle. NULL is a no-op (SV_OK); freeing twice gives SV_ERR_CLOSED.
@c(sv_rule_free)
public func sv_rule_free(_ rule: OpaquePointer?) -> Int32 {
    RuleBox.freeHandle(rule)
}

/// Non-zero `below`: the rule matches values at or BELOW the threshold (e.g. free memory
/// falling); zero (the default): at or above. The threshold itself always matches.
@c(sv_rule_set_below)
public func sv_rule_set_below(_ rule: OpaquePointer?, _ below: Int32) -> Int32 {
    RuleBox.with(rule) { $0.rule.comparison = below != 0 ? .atOrBelow : .atOrAbove }
}

/// How long the condition must hold, in seconds (0 to 86400; default 0). Observations of a
/// process more than 2 monitor intervals apart restart the window.
@c(sv_rule_set_sustain)
public func sv_rule_set_sustain(_ rule: OpaquePointer?, _ seconds: Double) -> Int32 {
    RuleBox.with(rule) { $0.rule.sustainSeconds = try checkedSeconds(seconds, "sustain", max: 86_400) }
}

/// Seconds before the same process (pid and start time) can fire this rule again (0 to
/// 604800; default 600).
@c(sv_rule_set_cooldown)
public func sv_rule_set_cooldown(_ rule: OpaquePointer?, _ seconds: Double) -> Int32 {
    RuleBox.with(rule) { $0.rule.cooldownSeconds = try checkedSeconds(seconds, "cooldown", max: 604_800) }
}

/// Adds a process-name glob (fnmatch: `*`, `?`, `[a-z]`; UTF-8, copied) the process name
/// (comm, at most 15 bytes) must match; with none, every process is included.
@c(sv_rule_add_include)
public func sv_rule_add_include(_ rule: OpaquePointer?, _ glob: UnsafePointer<CChar>?) -> Int32 {
    RuleBox.with(rule) { $0.rule.filter.include.append(try cString(glob, "glob")) }
}

/// Adds a process-name glob that excludes the processes it matches.
@c(sv_rule_add_exclude)
public func sv_rule_add_exclude(_ rule: OpaquePointer?, _ glob: UnsafePointer<CChar>?) -> Int32 {
    RuleBox.with(rule) { $0.rule.filter.exclude.append(try cString(glob, "glob")) }
}

/// Limits the rule to processes of this uid (0 to 2^32-2); call again to allow several.
@c(sv_rule_add_uid)
public func sv_rule_add_uid(_ rule: OpaquePointer?, _ uid: Int64) -> Int32 {
    RuleBox.with(rule) { box in
        guard uid >= 0, uid < Int64(UInt32.max) else { throw SpikeVaultError(.invalidArgument, "uid must be 0 to 4294967294, got \(uid)") }
        box.rule.filter.uids.append(UInt32(uid))
    }
}

/// What a firing captures: an SV_BACKEND_* value (not SV_BACKEND_COMMAND) for `duration`
/// seconds (more than 0, at most 3600). Default: SV_BACKEND_AUTO for 5 s.
@c(sv_rule_set_capture)
public func sv_rule_set_capture(_ rule: OpaquePointer?, _ backend: Int32, _ duration: Double) -> Int32 {
    RuleBox.with(rule) { box in
        var r = box.rule
        r.backend = try sv_backend.from(backend)
        r.captureDurationSeconds = duration
        try r.validate()
        box.rule = r
    }
}

/// Every `interval_seconds` (0.5 to 60; 0, the default, turns it off) an eu-stack snapshot is
/// taken of each process this rule matches and kept in the monitor's history (aged and capped
/// with it); a capture fired for that process stores them as the artefact `history.folded`
/// (folded stacks rooted at `[on-cpu]` or `[off-cpu]`). Each snapshot ptrace-stops the target
/// for its duration (about 10-20 ms for a small process). Needs the monitor's history on
/// (sv_monitor_set_history) and a capturing rule. Errors: SV_ERR_INVALID_ARGUMENT for a
/// negative, non-finite or sub-0.5 s value, SV_ERR_TOO_LARGE above 60.
@c(sv_rule_set_history_stacks)
public func sv_rule_set_history_stacks(_ rule: OpaquePointer?, _ interval_seconds: Double) -> Int32 {
    RuleBox.with(rule) { box in
        try MonitorRule.validateHistoryStackInterval(interval_seconds)
        box.rule.historyStackIntervalSeconds = interval_seconds
    }
}

/// Non-zero: the rule only notifies (the fired callback), it starts no capture and is not
/// counted against the hourly cap.
@c(sv_rule_set_notify_only)
public func sv_rule_set_notify_only(_ rule: OpaquePointer?, _ notify_only: Int32) -> Int32 {
    RuleBox.with(rule) { $0.rule.captures = notify_only == 0 }
}

/// Creates a stopped monitor over an open vault: interval 1 s, at most 6 captures per
/// rolling hour, sampling /proc on. Nothing runs until sv_monitor_start. The caller owns
/// *out_monitor and frees it with sv_monitor_free; the vault must stay open while it runs
/// (captures of a closed vault fail with SV_ERR_CLOSED). Thread-safe.
@c(sv_monitor_new)
public func sv_monitor_new(_ vault: OpaquePointer?, _ out_monitor: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_monitor, "out_monitor")
        out.pointee = nil
        let v = try Vault.from(vault)
        out.pointee = Handles.shared.register(MonitorBox(try Monitor(vault: v)))
    }
}

/// Stops the monitor (as sv_monitor_stop) and releases the handle. NULL is a no-op (SV_OK);
/// freeing twice gives SV_ERR_CLOSED; from one of its own callbacks: SV_ERR_BUSY.
@c(sv_monitor_free)
public func sv_monitor_free(_ monitor: OpaquePointer?) -> Int32 {
    guarded {
        guard monitor != nil else { return }
        try MonitorBox.from(monitor).monitor.stop()
        _ = try MonitorBox.remove(monitor)
    }
}

/// Sampling period in seconds (0.05 to 3600; default 1). It is also the unit of the gap
/// rule. Only while stopped (else SV_ERR_BUSY).
@c(sv_monitor_set_interval)
public func sv_monitor_set_interval(_ monitor: OpaquePointer?, _ seconds: Double) -> Int32 {
    withMonitor(monitor) { m in
        var c = m.currentConfiguration
        c.intervalSeconds = seconds
        try m.setConfiguration(c)
    }
}

/// Captures allowed per rolling hour across all rules (0 to 3600; default 6). Firings over
/// the cap are counted (SV_MONITOR_SUPPRESSED_HOURLY_CAP), not captured. Only while stopped.
@c(sv_monitor_set_max_per_hour)
public func sv_monitor_set_max_per_hour(_ monitor: OpaquePointer?, _ captures: Int64) -> Int32 {
    withMonitor(monitor) { m in
        guard captures >= 0 && captures <= 3600 else { throw SpikeVaultError(.invalidArgument, "captures per hour must be 0 to 3600, got \(captures)") }
        var c = m.currentConfiguration
        c.maxCapturesPerHour = Int(captures)
        try m.setConfiguration(c)
    }
}

/// Non-zero (the default): the monitor samples /proc itself. Zero: host-fed mode, only
/// sv_monitor_observe drives the rules. Only while stopped.
@c(sv_monitor_set_sampling)
public func sv_monitor_set_sampling(_ monitor: OpaquePointer?, _ on: Int32) -> Int32 {
    withMonitor(monitor) { m in
        var c = m.currentConfiguration
        c.sampling = on != 0
        try m.setConfiguration(c)
    }
}

/// Seconds of history the monitor keeps for every process its capturing rules match (per
/// tick: process and per-thread CPU with thread states, RSS, cumulative read/write bytes, fd
/// count), stored with each capture a rule fires as the artefact `history.json` (schema in
/// docs/monitor.md). 0 turns history off; default 60; at most 3600. Needs sampling on.
/// Errors: SV_ERR_INVALID_ARGUMENT for a negative or non-finite value, SV_ERR_TOO_LARGE above
/// 3600, SV_ERR_BUSY while running (only while stopped). Thread-safe.
@c(sv_monitor_set_history)
public func sv_monitor_set_history(_ monitor: OpaquePointer?, _ seconds: Double) -> Int32 {
    withMonitor(monitor) { m in
        try MonitorConfiguration.validateHistorySeconds(seconds)
        var c = m.currentConfiguration
        c.historySeconds = seconds
        try m.setConfiguration(c)
    }
}

/// Memory limit of the whole history in bytes (65536 to 1073741824; default 16 MiB): past it,
/// each process keeps a fair share and loses its oldest samples first
/// (SV_MONITOR_HISTORY_SAMPLES_EVICTED counts them; SV_MONITOR_HISTORY_BYTES never exceeds
/// the limit). Errors: SV_ERR_INVALID_ARGUMENT below 65536, SV_ERR_TOO_LARGE above 1 GiB,
/// SV_ERR_BUSY while running. Thread-safe.
@c(sv_monitor_set_history_memory)
public func sv_monitor_set_history_memory(_ monitor: OpaquePointer?, _ bytes: Int64) -> Int32 {
    withMonitor(monitor) { m in
        try MonitorConfiguration.validateHistoryMemory(bytes)
        var c = m.currentConfiguration
        c.historyMemoryBytes = Int(bytes)
        try m.setConfiguration(c)
    }
}

/// Adds a copy of `rule`; *out_index (may be NULL) receives its index, reported to the
/// callbacks. Only while stopped (else SV_ERR_BUSY).
@c(sv_monitor_add_rule)
public func sv_monitor_add_rule(_ monitor: OpaquePointer?, _ rule: OpaquePointer?, _ out_index: UnsafeMutablePointer<Int32>?) -> Int32 {
    withMonitor(monitor) { m in
        let r = try RuleBox.from(rule).rule
        let index = try m.addRule(r)
        out_index?.pointee = Int32(index)
    }
}

/// Adds the default rules (indices in this order): CPU >= 90 % for 30 s, memory >= 2048 MiB,
/// disk I/O >= 100 MiB/s for 30 s, threads >= 1000, fds >= 5000; each with a 600 s cooldown
/// and an SV_BACKEND_AUTO capture of 5 s. Only while stopped.
@c(sv_monitor_add_default_rules)
public func sv_monitor_add_default_rules(_ monitor: OpaquePointer?) -> Int32 {
    withMonitor(monitor) { m in for r in MonitorRule.defaults { try m.addRule(r) } }
}

/// Sets the callbacks (each may be NULL) and the user_data passed to both. `on_fired` runs ON
/// THE MONITOR'S LIBRARY THREAD when a rule fires, before its capture starts; `on_capture`
/// runs ON A LIBRARY WORKER THREAD when that capture is stored (SV_OK and the capture id) or
/// failed (an error; sv_errmsg() on that thread says why), or on the monitor thread when the
/// vault refused to start it (e.g. SV_ERR_BUSY, SV_ERR_PERMISSION, SV_ERR_COOLDOWN). They must
/// return promptly and must not call sv_monitor_stop or sv_monitor_free on this monitor.
/// user_data must stay valid until sv_monitor_stop returns. Only while stopped.
@c(sv_monitor_set_callbacks)
public func sv_monitor_set_callbacks(
    _ monitor: OpaquePointer?,
    _ on_fired: (@convention(c) (Int64, UnsafePointer<CChar>?, Int32, Double, Int32, Int64, UnsafeMutableRawPointer?) -> Void)?,
    _ on_capture: (@convention(c) (Int64, Int32, Int32, Int32, Int64, UnsafeMutableRawPointer?) -> Void)?,
    _ user_data: UnsafeMutableRawPointer?) -> Int32 {
    withMonitor(monitor) { m in
        let bits = UInt(bitPattern: user_data)
        try m.setHandlers(onFired: on_fired.map { firedHandler($0, bits) },
                          onCaptureDone: on_capture.map { captureHandler($0, bits) })
    }
}

typealias FiredCallback = @convention(c) (Int64, UnsafePointer<CChar>?, Int32, Double, Int32, Int64, UnsafeMutableRawPointer?) -> Void
typealias MonitorCaptureCallback = @convention(c) (Int64, Int32, Int32, Int32, Int64, UnsafeMutableRawPointer?) -> Void

private func firedHandler(_ cb: FiredCallback, _ bits: UInt) -> Monitor.FiredHandler {
    return { (f: MonitorFiring) -> Void in
        f.comm.withCString { (name: UnsafePointer<CChar>) -> Void in
            cb(Int64(f.pid), name, sv_metric.number(f.metric), f.value, Int32(f.ruleIndex), f.timeMs,
               UnsafeMutableRawPointer(bitPattern: bits))
        }
    }
}

private func captureHandler(_ cb: MonitorCaptureCallback, _ bits: UInt) -> Monitor.CaptureHandler {
    return { (f: MonitorFiring, result: Result<ProfileRecord, SpikeVaultError>) -> Void in
        var status = sv_status.ok.rawValue
        var id: Int64 = 0
        switch result {
        case .success(let record): id = record.id
        case .failure(let e):
            ErrorState.set(e.message)
            status = sv_status(e.status).rawValue
        }
        cb(Int64(f.pid), sv_metric.number(f.metric), Int32(f.ruleIndex), status, id, UnsafeMutableRawPointer(bitPattern: bits))
    }
}

/// Starts the monitor's library thread. Errors: SV_ERR_INVALID_ARGUMENT without rules,
/// SV_ERR_BUSY when already running, SV_ERR_UNSUPPORTED when sampling without /proc.
/// Rules apply to processes the caller may capture (its own uid; every process for root).
@c(sv_monitor_start)
public func sv_monitor_start(_ monitor: OpaquePointer?) -> Int32 {
    withMonitor(monitor) { try $0.start() }
}

/// Stops sampling, joins the monitor thread and waits for the captures it started (each
/// bounded by its duration): no callback runs after it returns. A no-op when stopped.
/// From one of the monitor's callbacks: SV_ERR_BUSY. Thread-safe.
@c(sv_monitor_stop)
public func sv_monitor_stop(_ monitor: OpaquePointer?) -> Int32 {
    withMonitor(monitor) { try $0.stop() }
}

private func observation(_ pid: Int64, _ metric: Int32, _ value: Double, _ time_ms: Int64) throws -> MonitorObservation {
    guard pid > 0, let p = Int32(exactly: pid) else { throw SpikeVaultError(.invalidArgument, "pid must be 1 to \(Int32.max), got \(pid)") }
    let m = try sv_metric.from(metric)
    guard value.isFinite else { throw SpikeVaultError(.invalidArgument, "value must be finite, got \(value)") }
    let id = ProcessSampler.identity(pid: p)
    return MonitorObservation(pid: p, startTimeTicks: id?.startTime ?? 0, comm: id?.comm ?? "", uid: id?.uid,
                              metric: m, value: value, timeMs: time_ms)
}

/// Host-fed mode: one observation of `metric` (SV_METRIC_*, units as in sv_rule_new) for
/// `pid` at `time_ms` (milliseconds of any clock the host keeps consistent; the sampler uses
/// the Unix epoch). It drives the same sustain, gap, cooldown and cap logic as the sampler;
/// firings are dispatched on the monitor thread. When `pid` is a live local process its start
/// time, name and uid are read (a reused pid is then detected and name/uid filters apply);
/// otherwise name and uid are unknown and rules with filters do not match it. The monitor
/// must be running (SV_ERR_INVALID_ARGUMENT otherwise). Thread-safe.
@c(sv_monitor_observe)
public func sv_monitor_observe(_ monitor: OpaquePointer?, _ pid: Int64, _ metric: Int32, _ value: Double, _ time_ms: Int64) -> Int32 {
    withMonitor(monitor) { m in try m.observe([try observation(pid, metric, value, time_ms)]) }
}

/// `count` observations at once from four arrays of that length (copied; applied in order,
/// as sv_monitor_observe would). An invalid element refuses the whole batch. Thread-safe.
@c(sv_monitor_observe_batch)
public func sv_monitor_observe_batch(_ monitor: OpaquePointer?, _ pids: UnsafePointer<Int64>?, _ metrics: UnsafePointer<Int32>?,
                                     _ values: UnsafePointer<Double>?, _ times_ms: UnsafePointer<Int64>?, _ count: UInt) -> Int32 {
    withMonitor(monitor) { m in
        guard count <= 1_000_000 else { throw SpikeVaultError(.invalidArgument, "count must be 0 to 1000000, got \(count)") }
        if count == 0 { return }
        guard let pids, let metrics, let values, let times_ms else { throw SpikeVaultError(.nullArgument, "an array is NULL") }
        var batch: [MonitorObservation] = []
        batch.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            do { batch.append(try observation(pids[i], metrics[i], values[i], times_ms[i])) }
            catch let e as SpikeVaultError { throw SpikeVaultError(e.status, "observation \(i): \(e.message)") }
        }
        try m.observe(batch)
    }
}

/// Reads a counter (an SV_MONITOR_* value) into *out_value. Sampler counters
/// (SV_MONITOR_TICKS … SV_MONITOR_SAMPLER_CPU_US) say how many processes vanished mid-read,
/// were unreadable or were kernel threads: these are never errors. Thread-safe.
@c(sv_monitor_get_counter)
public func sv_monitor_get_counter(_ monitor: OpaquePointer?, _ counter: Int32, _ out_value: UnsafeMutablePointer<Int64>?) -> Int32 {
    withMonitor(monitor) { m in
        let out = try requireOut(out_value, "out_value")
        guard let key = sv_monitor_counter(rawValue: counter) else {
            throw SpikeVaultError(.invalidArgument, "unknown monitor counter \(counter)")
        }
        let c = m.currentCounters
        let value: Int64
        switch key {
        case .ticks: value = c.sampler.ticks
        case .processes: value = c.sampler.processes
        case .kernelThreads: value = c.sampler.kernelThreads
        case .vanished: value = c.sampler.vanished
        case .unreadable: value = c.sampler.unreadable
        case .samplerCpuUs: value = c.sampler.cpuMicros
        case .observations: value = c.engine.observations
        case .fired: value = c.engine.fired
        case .suppressedCooldown: value = c.engine.suppressedByCooldown
        case .suppressedHourlyCap: value = c.engine.suppressedByHourlyCap
        case .gapResets: value = c.engine.gapResets
        case .pidReuseResets: value = c.engine.pidReuseResets
        case .capturesStarted: value = c.capturesStarted
        case .capturesRefused: value = c.capturesRefused
        case .capturesStored: value = c.capturesStored
        case .capturesFailed: value = c.capturesFailed
        case .historyBytes: value = c.history.bytes
        case .historyProcesses: value = c.history.processes
        case .historySamplesEvicted: value = c.history.samplesEvicted
        case .historyProcessesEvicted: value = c.history.processesEvicted
        case .historyCpuUs: value = c.history.cpuMicros
        case .historyStackSnapshots: value = c.history.stackSnapshots
        case .historyStackFailures: value = c.history.stackFailures
        }
        out.pointee = value
    }
}

/// One sampler pass over /proc on the calling thread, reading what the monitor's rules need
/// (every metric when it has none; io, fds and sockets are the costly ones), without
/// evaluating rules: *out_processes (may be NULL) receives the
/// number of processes sampled. For hosts that want the sampler's cost or figures (the
/// benchmark uses it). Serialised with the monitor thread's own ticks. Thread-safe.
@c(sv_monitor_sample)
public func sv_monitor_sample(_ monitor: OpaquePointer?, _ out_processes: UnsafeMutablePointer<Int64>?) -> Int32 {
    withMonitor(monitor) { m in
        let samples = try m.sampleNow()
        out_processes?.pointee = Int64(samples.count)
    }
}
