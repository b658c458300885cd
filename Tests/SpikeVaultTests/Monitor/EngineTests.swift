import Testing
@testable import SpikeVault

/// The pure engine, table-driven: thresholds, sustain, gaps, pid reuse, cooldown, hourly cap.
@Suite struct MonitorEngineTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var rule: MonitorRule
        var maxPerHour = 6
        /// (pid, start time, value, time ms)
        var observations: [(Int32, UInt64, Double, Int64)]
        /// times (ms) at which the rule fires
        var fires: [Int64]
        var testDescription: String { name }
    }

    static let cpu2s = MonitorRule(metric: .cpu, threshold: 50, sustainSeconds: 2)

    static let cases: [Case] = [
        Case(name: "exactly at the threshold counts", rule: cpu2s,
             observations: [(1, 7, 50, 0), (1, 7, 50, 1000), (1, 7, 50, 2000)], fires: [2000]),
        Case(name: "just under never fires", rule: cpu2s,
             observations: [(1, 7, 49.99, 0), (1, 7, 49.99, 1000), (1, 7, 49.99, 2000), (1, 7, 49.99, 3000)], fires: []),
        Case(name: "a dip restarts the window", rule: cpu2s,
             observations: [(1, 7, 90, 0), (1, 7, 90, 1000), (1, 7, 10, 2000), (1, 7, 90, 3000), (1, 7, 90, 4000), (1, 7, 90, 5000)],
             fires: [5000]),
        Case(name: "a gap of 2 intervals keeps the window", rule: cpu2s,
             observations: [(1, 7, 90, 0), (1, 7, 90, 2000)], fires: [2000]),
        Case(name: "a gap longer than 2 intervals restarts it", rule: cpu2s,
             observations: [(1, 7, 90, 0), (1, 7, 90, 2001), (1, 7, 90, 3000), (1, 7, 90, 4001)], fires: [4001]),
        Case(name: "a clock step back restarts it", rule: cpu2s,
             observations: [(1, 7, 90, 5000), (1, 7, 90, 1000), (1, 7, 90, 2000), (1, 7, 90, 3000)], fires: [3000]),
        Case(name: "pid reused by another process mid-window: fresh window", rule: cpu2s,
             observations: [(1, 7, 90, 0), (1, 7, 90, 1000), (1, 8, 90, 2000), (1, 8, 90, 3000), (1, 8, 90, 4000)],
             fires: [4000]),
        Case(name: "cooldown suppresses the same process, not a new one on its pid",
             rule: MonitorRule(metric: .cpu, threshold: 50, sustainSeconds: 0, cooldownSeconds: 10),
             observations: [(1, 7, 90, 0), (1, 7, 90, 1000), (1, 7, 90, 9999), (1, 8, 90, 10500), (1, 7, 90, 11000)],
             fires: [0, 10500, 11000]),
        Case(name: "sustain 0 fires at once", rule: MonitorRule(metric: .memory, threshold: 300),
             observations: [(1, 7, 299, 0), (1, 7, 300, 1000)], fires: [1000]),
        Case(name: "at or below", rule: MonitorRule(metric: .memory, threshold: 100, comparison: .atOrBelow, sustainSeconds: 1),
             observations: [(1, 7, 150, 0), (1, 7, 100, 1000), (1, 7, 80, 2000)], fires: [2000]),
        Case(name: "hourly cap across processes, rolling", rule: MonitorRule(metric: .cpu, threshold: 50, cooldownSeconds: 0),
             maxPerHour: 2,
             observations: [(1, 1, 90, 0), (2, 2, 90, 1000), (3, 3, 90, 2000), (3, 3, 90, 3_600_000), (4, 4, 90, 3_600_500),
                            (5, 5, 90, 3_601_000)],
             fires: [0, 1000, 3_600_000, 3_601_000]),
        Case(name: "filters: exclude glob", rule: MonitorRule(metric: .cpu, threshold: 50, filter: ProcessFilter(exclude: ["bu*"])),
             observations: [(1, 7, 90, 0)], fires: []),
    ]

    @Test(arguments: cases) func table(_ c: Case) {
        var engine = TriggerEngine(rules: [c.rule], intervalSeconds: 1, maxCapturesPerHour: c.maxPerHour)
        var fired: [Int64] = []
        for (pid, start, value, t) in c.observations {
            let events = engine.observe(MonitorObservation(pid: pid, startTimeTicks: start, comm: "burner", uid: 1000,
                                                           metric: c.rule.metric, value: value, timeMs: t))
            fired += events.filter { $0.kind == .fired }.map(\.firing.timeMs)
        }
        #expect(fired == c.fires, "\(c.name)")
    }

    @Test func filtersAndCounters() {
        let f = ProcessFilter(include: ["py*", "node"], exclude: ["python2*"], uids: [1000])
        #expect(f.admits(comm: "python3", uid: 1000))
        #expect(!f.admits(comm: "python2.7", uid: 1000))
        #expect(!f.admits(comm: "python3", uid: 0))
        #expect(!f.admits(comm: "python3", uid: nil))
        #expect(f.admits(comm: "node", uid: 1000))
        #expect(!f.admits(comm: "nodejs", uid: 1000))
        var e = TriggerEngine(rules: [Self.cpu2s], intervalSeconds: 1, maxCapturesPerHour: 1)
        for (i, t) in [0, 1000, 5000, 6000, 7000].enumerated() {
            _ = e.observe(MonitorObservation(pid: 9, startTimeTicks: i == 4 ? 2 : 1, metric: .cpu, value: 99, timeMs: Int64(t)))
        }
        #expect(e.counters.gapResets == 1)
        #expect(e.counters.pidReuseResets == 1)
        #expect(e.counters.observations == 5)
        e.prune(nowMs: 100_000)
        #expect(e.stateCount == 0)
    }

    @Test func rulesValidate() {
        #expect(throws: SpikeVaultError.self) { try MonitorRule(metric: .cpu, threshold: .nan).validate() }
        #expect(throws: SpikeVaultError.self) { try MonitorRule(metric: .cpu, threshold: 1, sustainSeconds: -1).validate() }
        #expect(throws: SpikeVaultError.self) { try MonitorRule(metric: .cpu, threshold: 1, captureDurationSeconds: 0).validate() }
        for r in MonitorRule.defaults { #expect(throws: Never.self) { try r.validate() } }
        #expect(MonitorRule.defaults.map(\.metric) == [.cpu, .memory, .diskIO, .threads, .fds])
    }
}
