#if canImport(Glibc)
import Glibc
#endif

/// Counters a host can read while the monitor runs.
public struct MonitorCounters: Sendable, Equatable {
    public var sampler = SamplerCounters()
    public var engine = EngineCounters()
    /// Captures accepted by the vault.
    public var capturesStarted: Int64 = 0
    /// Firings whose capture the vault refused at once (busy, cooldown, no such process,
    /// permission, closed vault); their hourly-cap slot is given back.
    public var capturesRefused: Int64 = 0
    /// Accepted captures that finished stored / with an error.
    public var capturesStored: Int64 = 0
    public var capturesFailed: Int64 = 0
    /// The history of matched processes (all zero when history is off).
    public var history = HistoryCounters()
    public init() {}
}

/// Watches processes and captures automatically on sustained spikes.
///
/// Opt-in: nothing runs until `start()`. Then one library thread samples `/proc` every
/// interval (unless `sampling` is off: host-fed mode), feeds the `TriggerEngine`, and for each
/// firing calls `onFired` and starts an ordinary vault capture (`Vault.startCapture`: same
/// rows, same retention, the vault's own capture cooldown applies too); `onCaptureDone` runs
/// when it is stored or failed. `onFired` runs on the monitor thread, `onCaptureDone` on a
/// vault worker thread (or the monitor thread when the capture could not start). Callbacks
/// must not call `stop()`.
///
/// `stop()` wakes and joins the thread, then waits for the captures it started (each bounded
/// by its duration), so no callback runs after it returns.
public final class Monitor: @unchecked Sendable {
    public let vault: Vault
    public typealias FiredHandler = @Sendable (MonitorFiring) -> Void
    public typealias CaptureHandler = @Sendable (MonitorFiring, Result<ProfileRecord, SpikeVaultError>) -> Void

    private let cond = Condition()
    // Guarded by `cond`:
    private var configuration: MonitorConfiguration
    private var rules: [MonitorRule] = []
    private var engine: TriggerEngine?
    private var pending: [EngineEvent] = []
    private var thread: WorkerThread?
    private var stopping = false
    private var inflight = 0
    private var callbackThreads: [pthread_t] = []
    private var counters = MonitorCounters()
    private var firedHandler: FiredHandler?
    private var captureHandler: CaptureHandler?

    private let samplerLock = Condition()
    private var sampler: ProcessSampler?
    /// The history of this run (kept after stop so its counters stay readable); nil when off.
    private var history: HistoryStore?
    private var stackSampler: HistoryStackSampler?

    public init(vault: Vault, configuration: MonitorConfiguration = MonitorConfiguration()) throws {
        try configuration.validate()
        self.vault = vault
        self.configuration = configuration
    }

    public var isRunning: Bool { cond.withLock { thread != nil } }

    // MARK: configuration (while stopped)

    private func whileStopped(_ what: String, _ body: () throws -> Void) throws {
        try cond.withLock {
            guard thread == nil else { throw SpikeVaultError(.busy, "cannot \(what) while the monitor runs: stop it first") }
            try body()
        }
    }

    public func setConfiguration(_ c: MonitorConfiguration) throws {
        try c.validate()
        try whileStopped("change the configuration") { configuration = c }
    }

    public var currentConfiguration: MonitorConfiguration { cond.withLock { configuration } }

    /// Adds a rule (validated, copied); returns its index, reported with its firings.
    @discardableResult
    public func addRule(_ rule: MonitorRule) throws -> Int {
        try rule.validate()
        var index = 0
        try whileStopped("add a rule") {
            guard rules.count < 1024 else { throw SpikeVaultError(.tooLarge, "a monitor holds at most 1024 rules") }
            rules.append(rule)
            index = rules.count - 1
        }
        return index
    }

    public var currentRules: [MonitorRule] { cond.withLock { rules } }

    public func setHandlers(onFired: FiredHandler?, onCaptureDone: CaptureHandler?) throws {
        try whileStopped("change the callbacks") { firedHandler = onFired; captureHandler = onCaptureDone }
    }

    public var currentCounters: MonitorCounters {
        var c = cond.withLock { counters }
        c.engine = cond.withLock { engine?.counters ?? counters.engine }
        c.sampler = samplerLock.withLock { sampler?.counters ?? SamplerCounters() }
        c.history = cond.withLock { history }?.currentCounters ?? HistoryCounters()
        return c
    }

    // MARK: lifecycle

    /// Starts the monitor thread. Throws `.invalidArgument` without rules, `.busy` if running,
    /// `.unsupported` when sampling and `/proc` is missing.
    public func start() throws {
        if cond.withLock({ configuration.sampling }) {
            try samplerLock.withLock { if sampler == nil { sampler = try ProcessSampler() } }
        }
        try cond.withLock {
            guard thread == nil else { throw SpikeVaultError(.busy, "the monitor is already running") }
            guard !rules.isEmpty else { throw SpikeVaultError(.invalidArgument, "the monitor has no rules: add one (or the defaults) first") }
            engine = TriggerEngine(rules: rules, intervalSeconds: configuration.intervalSeconds,
                                   maxCapturesPerHour: configuration.maxCapturesPerHour)
            history = configuration.sampling && configuration.historySeconds > 0
                ? try HistoryStore(seconds: configuration.historySeconds, memoryBytes: configuration.historyMemoryBytes,
                                   intervalSeconds: configuration.intervalSeconds)
                : nil
            if let h = history, rules.contains(where: { $0.captures && $0.historyStackIntervalSeconds > 0 }) {
                stackSampler = try HistoryStackSampler(store: h, vaultPath: vault.path)
            }
            pending = []
            stopping = false
            do { thread = try WorkerThread { [self] in run() } } catch {
                stackSampler?.stop()
                stackSampler = nil
                throw error
            }
        }
    }

    /// Stops sampling, joins the thread and waits for the captures it started. Idempotent.
    /// Throws `.busy` when called from one of the monitor's callbacks (it would wait for itself).
    public func stop() throws {
        let t: WorkerThread? = try cond.withLock {
            if callbackThreads.contains(Self.tid()) {
                throw SpikeVaultError(.busy, "cannot stop the monitor from its own callback")
            }
            stopping = true
            cond.broadcast()
            return thread
        }
        guard let t else { return }
        t.join()
        let stacks = cond.withLock { () -> HistoryStackSampler? in defer { stackSampler = nil }; return stackSampler }
        stacks?.stop()
        cond.withLock {
            while inflight > 0 { cond.wait(until: nil) }
            if let e = engine { counters.engine = e.counters }
            thread = nil
            stopping = false
        }
    }

    // MARK: host-fed mode

    /// Feeds observations (host-fed mode, or alongside the sampler) into the same rules.
    /// Firings are dispatched on the monitor thread. Throws `.invalidArgument` when the
    /// monitor is not running (start it first, with `sampling` off for host-fed only).
    public func observe(_ observations: [MonitorObservation]) throws {
        try cond.withLock {
            guard thread != nil, !stopping, engine != nil else {
                throw SpikeVaultError(.invalidArgument, "the monitor is not running: start it before feeding observations")
            }
            var any = false
            for o in observations {
                let events = engine!.observe(o)
                if !events.isEmpty { pending += events; any = true }
            }
            if any { cond.broadcast() }
        }
    }

    /// One sampler pass on the calling thread, outside the monitor's schedule (no rules are
    /// evaluated): for hosts that only want the figures, and for the benchmark. Reads what the
    /// rules need (everything when there are none).
    public func sampleNow(needs: ProcessSampler.Needs? = nil) throws -> [ProcessSample] {
        let needs = needs ?? cond.withLock { rules.isEmpty ? .all : ProcessSampler.Needs.forMetrics(rules.map(\.metric)) }
        return try samplerLock.withLock {
            if sampler == nil { sampler = try ProcessSampler() }
            return sampler!.tick(needs: needs)
        }
    }

    // MARK: the monitor thread

    private func run() {
        let (sampling, intervalNs, needs, metrics): (Bool, UInt64, ProcessSampler.Needs, [TriggerMetric]) = cond.withLock {
            let metrics = Array(Set(rules.map(\.metric))).sorted { $0.rawValue < $1.rawValue }
            return (configuration.sampling, UInt64(configuration.intervalSeconds * 1e9),
                    ProcessSampler.Needs.forMetrics(metrics), metrics)
        }
        let (store, historyFilters, stackRules): (HistoryStore?, [ProcessFilter], [MonitorRule]) = cond.withLock {
            (history, rules.filter(\.captures).map(\.filter),
             rules.filter { $0.captures && $0.historyStackIntervalSeconds > 0 })
        }
        let stackInterval: (ProcessSample) -> Double = { s in
            stackRules.filter { $0.filter.isEmpty || $0.filter.admits(comm: s.comm, uid: s.uid) }
                .map(\.historyStackIntervalSeconds).min() ?? 0
        }
        let historyAll = historyFilters.contains(where: \.isEmpty)
        var nextTick = ProcessSampler.monotonicNs()
        var lastPrune = nextTick
        while true {
            var events: [EngineEvent] = []
            let stop: Bool = cond.withLock {
                while !stopping && pending.isEmpty && (!sampling || ProcessSampler.monotonicNs() < nextTick) {
                    cond.wait(until: sampling ? nextTick : nil)
                }
                events = pending
                pending = []
                return stopping
            }
            if stop { break }
            if sampling && ProcessSampler.monotonicNs() >= nextTick {
                let samples = samplerLock.withLock { sampler?.tick(needs: needs) ?? [] }
                let nowMs = Int64(CaptureSys.unixSeconds() * 1000)
                store?.record(samples, nowMs: nowMs, monotonicNs: ProcessSampler.monotonicNs(),
                              stackIntervalSeconds: stackInterval) { s in
                    historyAll || historyFilters.contains { $0.admits(comm: s.comm, uid: s.uid) }
                }
                cond.withLock {
                    for s in samples where s.inspectable {
                        for m in metrics {
                            guard let v = s.value(m) else { continue }
                            events += engine!.observe(MonitorObservation(
                                pid: s.pid, startTimeTicks: s.startTimeTicks, comm: s.comm, uid: s.uid,
                                metric: m, value: v, timeMs: nowMs))
                        }
                    }
                    let mono = ProcessSampler.monotonicNs()
                    if mono - lastPrune > 60_000_000_000 { engine!.prune(nowMs: nowMs); lastPrune = mono }
                }
                nextTick += intervalNs
                let now = ProcessSampler.monotonicNs()
                if nextTick <= now { nextTick = now + intervalNs }  // fell behind: do not burst
            }
            for e in events { dispatch(e) }
        }
    }

    private static func tid() -> pthread_t { pthread_self() }

    private func inCallback<T>(_ body: () -> T) -> T {
        let me = Self.tid()
        cond.withLock { callbackThreads.append(me) }
        defer {
            cond.withLock {
                if let i = callbackThreads.lastIndex(of: me) { callbackThreads.remove(at: i) }
            }
        }
        return body()
    }

    private func dispatch(_ event: EngineEvent) {
        guard event.kind == .fired else { return }
        let firing = event.firing
        let (rule, fired, done, store) = cond.withLock { (rules[firing.ruleIndex], firedHandler, captureHandler, history) }
        if let fired { inCallback { fired(firing) } }
        guard rule.captures else { return }
        var extra: [NewArtefact] = []
        if let h = store?.snapshot(pid: firing.pid, startTimeTicks: firing.startTimeTicks, triggerMs: firing.timeMs) {
            extra.append(NewArtefact(kind: "history.json", bytes: h.json))
            if let folded = h.folded { extra.append(NewArtefact(kind: "history.folded", bytes: folded)) }
        }
        let request = CaptureRequest(
            pid: firing.pid, metric: firing.metric, value: firing.value,
            durationSeconds: rule.captureDurationSeconds,
            intervalSeconds: min(0.1, rule.captureDurationSeconds), backend: rule.backend,
            notes: Self.notes(firing, rule))
        cond.withLock { inflight += 1 }
        do {
            _ = try vault.startCapture(request, extraArtefacts: extra) { [self] job in
                let result = job.result ?? .failure(SpikeVaultError(.internalError, "capture finished without a result"))
                if let done { inCallback { done(firing, result) } }
                cond.withLock {
                    if case .success = result { counters.capturesStored += 1 } else { counters.capturesFailed += 1 }
                    inflight -= 1
                    cond.broadcast()
                }
            }
            cond.withLock { counters.capturesStarted += 1 }
        } catch {
            let e = error as? SpikeVaultError ?? SpikeVaultError(.internalError, "\(error)")
            cond.withLock {
                engine?.refund(firing)
                counters.capturesRefused += 1
            }
            if let done { inCallback { done(firing, .failure(e)) } }
            cond.withLock { inflight -= 1; cond.broadcast() }
        }
    }

    /// Host notes of a monitor capture: why it fired (the library adds `capture`).
    static func notes(_ f: MonitorFiring, _ rule: MonitorRule) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("monitor")
        w.beginObject()
        w.field("rule", f.ruleIndex)
        w.field("metric", f.metric.rawValue)
        w.field("comparison", rule.comparison.rawValue)
        w.field("threshold", rule.threshold)
        w.field("sustainSeconds", rule.sustainSeconds)
        w.field("value", f.value)
        w.field("sustainedSinceMs", Int(f.sustainedSinceMs))
        w.field("firedAtMs", Int(f.timeMs))
        w.endObject()
        w.endObject()
        return w.takeText()
    }
}
