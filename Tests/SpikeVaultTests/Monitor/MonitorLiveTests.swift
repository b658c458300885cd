import Glibc
import Testing
@testable import SpikeVault

/// End to end with real processes: the monitor thread samples /proc, rules fire, ordinary
/// captures are stored. CPU thresholds follow what the burners actually get (a loaded 2-core
/// machine gives them less than a core); waits are for counters, never for fixed times.
@Suite(.serialized) struct MonitorLiveTests {
    func monitor(_ v: Vault, _ rules: [MonitorRule], interval: Double = 1, perHour: Int = 6) throws -> (Monitor, MonitorLog) {
        let m = try Monitor(vault: v, configuration: MonitorConfiguration(intervalSeconds: interval, maxCapturesPerHour: perHour))
        for r in rules { try m.addRule(r) }
        let log = MonitorLog()
        try log.attach(m)
        return (m, log)
    }

    /// Waits until the sampler has ticked `n` more times: the window in which a wrong
    /// firing would show up.
    func waitForTicks(_ m: Monitor, _ n: Int64) -> Bool {
        let target = m.currentCounters.sampler.ticks + n
        return Poll.until(timeout: 60, every: 0.05) { m.currentCounters.sampler.ticks >= target }
    }

    @Test func sustainedBurnerIsCapturedIdleAndShortBurnerAreNot() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let burner = try MonitorTestSupport.spawn("burn", 0, life: 120)
        let idle = try MonitorTestSupport.spawn("idle", 0, life: 120)
        defer { for c in [burner, idle] { c.kill(); c.wait() } }
        let threshold = Poll.cpuThreshold(for: burner.pid, cap: 50)
        let short = try MonitorTestSupport.spawn("burn", 0, life: 1)  // dies before its sustain ends
        defer { short.kill(); short.wait() }
        let (m, log) = try monitor(v, [MonitorTestSupport.rule(.cpu, threshold, sustain: 2)])
        try m.start()
        #expect(log.waitForDone(1, timeout: 60))
        #expect(waitForTicks(m, 3))  // a second capture (idle or short) would fire here
        try m.stop()
        let done = log.done
        #expect(done.count == 1, "\(done.map(\.firing))")
        #expect(m.currentCounters.engine.fired == 1)
        let first = try #require(done.first)
        #expect(first.firing.pid == burner.pid)
        let record = try first.result.get()
        #expect(record.triggerMetric == .cpu)
        #expect(record.triggerValue >= threshold)
        #expect(record.pid == burner.pid)
        #expect(record.notes.containsText("\"monitor\""))
        let sustainEnd = first.firing.sustainedSinceMs + 2000
        #expect(first.firing.timeMs >= sustainEnd)
        // Only bounds a hang (a 0.3 s capture); promptness is measured in bench/, not here.
        #expect(first.atMs - sustainEnd <= 30_000, "captured \(first.atMs - sustainEnd) ms after the sustain completed")
        #expect(try v.recent(limit: 10).count == 1)
        #expect(!m.isRunning)
    }

    @Test func cooldownStopsASecondCapture() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let burner = try MonitorTestSupport.spawn("burn", 0, life: 120)
        defer { burner.kill(); burner.wait() }
        let threshold = Poll.cpuThreshold(for: burner.pid, cap: 40)
        let (m, log) = try monitor(v, [MonitorTestSupport.rule(.cpu, threshold, sustain: 0.5)], interval: 0.5)
        try m.start()
        #expect(log.waitForDone(1, timeout: 60))
        #expect(Poll.until(timeout: 60, every: 0.05) { m.currentCounters.engine.suppressedByCooldown >= 1 })
        try m.stop()
        #expect(log.done.count == 1)
        #expect(m.currentCounters.engine.suppressedByCooldown >= 1)
    }

    @Test func hourlyCapHoldsAcrossBurners() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let burners = try (0..<4).map { _ in try MonitorTestSupport.spawn("burn", 0, life: 120) }
        defer { for b in burners { b.kill(); b.wait() } }
        let threshold = burners.map { Poll.cpuThreshold(for: $0.pid, cap: 15) }.min() ?? 15
        let (m, log) = try monitor(v, [MonitorTestSupport.rule(.cpu, threshold, sustain: 0.5)], interval: 0.5, perHour: 2)
        try m.start()
        #expect(log.waitForDone(2, timeout: 60))
        #expect(Poll.until(timeout: 60, every: 0.05) { m.currentCounters.engine.suppressedByHourlyCap >= 1 })
        try m.stop()
        #expect(log.done.count == 2)
        #expect(m.currentCounters.engine.suppressedByHourlyCap >= 1)
        #expect(try v.recent(limit: 10).count == 2)
    }

    @Test(arguments: [("mem", 300, TriggerMetric.memory, 250.0), ("threads", 60, .threads, 50), ("fds", 300, .fds, 250)])
    func otherMetricsFire(_ mode: String, _ n: Int, _ metric: TriggerMetric, _ threshold: Double) throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let (m, log) = try monitor(v, [MonitorTestSupport.rule(metric, threshold, sustain: 1)], interval: 0.5)
        let child = try MonitorTestSupport.spawn(mode, n, life: 120)
        let idle = try MonitorTestSupport.spawn("idle", 0, life: 120)
        defer { for c in [child, idle] { c.kill(); c.wait() } }
        try m.start()
        #expect(log.waitForDone(1, timeout: 60))
        #expect(waitForTicks(m, 3))  // the idle helper would fire here
        try m.stop()
        #expect(log.done.count == 1)
        let record = try #require(try log.done.first?.result.get())
        #expect(record.pid == child.pid && record.triggerMetric == metric && record.triggerValue >= threshold)
    }

    /// The sampler's observations, recorded, replayed through host-fed mode give the same firings.
    @Test func hostFedModeReproducesTheSamplersDecisions() throws {
        let burner = try MonitorTestSupport.spawn("burn", 0, life: 120)
        defer { burner.kill(); burner.wait() }
        let threshold = Poll.cpuThreshold(for: burner.pid, cap: 50)
        let short = try MonitorTestSupport.spawn("burn", 0, life: 1)  // dies before its sustain ends
        defer { short.kill(); short.wait() }
        let rule = MonitorTestSupport.rule(.cpu, threshold, sustain: 1.5, cooldown: 2, captures: false)
        var engine = TriggerEngine(rules: [rule], intervalSeconds: 0.5)
        let sampler = try ProcessSampler()
        var recorded: [MonitorObservation] = []
        var live: [MonitorFiring] = []
        // At least 10 ticks (5 s, past the short burner's life), more until the burner fired.
        for tick in 0..<120 where tick < 10 || !live.contains(where: { $0.pid == burner.pid }) {
            let t = Int64(CaptureSys.unixSeconds() * 1000)
            for s in sampler.tick() where s.inspectable {
                guard let cpu = s.cpuPercent else { continue }
                let o = MonitorObservation(pid: s.pid, startTimeTicks: s.startTimeTicks, comm: s.comm, uid: s.uid,
                                           metric: .cpu, value: cpu, timeMs: t)
                recorded.append(o)
                live += engine.observe(o).filter { $0.kind == .fired }.map(\.firing)
            }
            CaptureSys.sleep(seconds: 0.5)
        }
        #expect(live.contains { $0.pid == burner.pid })
        #expect(!live.contains { $0.pid == short.pid })
        // Replay through a host-fed Monitor (no sampler), observations in the same order.
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let m = try Monitor(vault: v, configuration: MonitorConfiguration(intervalSeconds: 0.5, sampling: false))
        try m.addRule(rule)
        let log = MonitorLog()
        try log.attach(m)
        try m.start()
        try m.observe(recorded)
        #expect(Poll.until(timeout: 60) { m.currentCounters.engine.observations == Int64(recorded.count) && log.fired.count >= live.count })
        try m.stop()
        #expect(log.fired == live)
        #expect(m.currentCounters.sampler.ticks == 0)
    }

    @Test func lifecycleErrors() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let m = try Monitor(vault: v)
        #expect(throws: SpikeVaultError.self) { try m.start() }  // no rules
        #expect(throws: SpikeVaultError.self) { try m.observe([]) }  // not running
        for r in MonitorRule.defaults { try m.addRule(r) }
        try m.start()
        #expect(throws: SpikeVaultError.self) { try m.start() }
        #expect(throws: SpikeVaultError.self) { try m.addRule(MonitorRule.defaults[0]) }
        #expect(Poll.until(timeout: 60, every: 0.05) { m.currentCounters.sampler.ticks >= 1 })
        try m.stop()
        try m.stop()
        #expect(m.currentCounters.sampler.ticks >= 1)
    }
}
