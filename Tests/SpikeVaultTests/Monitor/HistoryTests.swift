import Foundation
import Glibc
import Testing
@testable import SpikeVault

/// The monitor's history ("the minute before the trigger"): rings per matched process,
/// bounded by age and memory, evicted on exit, stored as `history.json` with a firing's capture.
/// Its processes run under a name of this test process's own (`svh<pid>`: the monitor helper
/// copied), so suites watching `svmon-helper` in parallel, and the same tests run by another
/// checkout on the same machine, neither see nor disturb them.
@Suite(.serialized) struct HistoryTests {
    static let name = "svh\(getpid())"
    static let helper: Result<String, SpikeVaultError> = {
        do {
            let source = try MonitorTestSupport.helper.get()
            let copy = CaptureTestSupport.makeTempDir("sv-hist") + "/" + name
            let r = try ToolRunner.run(["cp", source, copy], timeoutSeconds: 30)
            return r.succeeded ? .success(copy) : .failure(SpikeVaultError(.io, "cp: \(r.summary)"))
        } catch let e as SpikeVaultError { return .failure(e) } catch { return .failure(SpikeVaultError(.internalError, "\(error)")) }
    }()

    func spawn(_ mode: String, _ n: Int = 0, life: Double = 120) throws -> SpawnedProcess {
        try ToolRunner.spawn([try Self.helper.get(), mode, String(n), String(life)])
    }

    func rule(_ threshold: Double, sustain: Double = 0) -> MonitorRule {
        MonitorRule(metric: .cpu, threshold: threshold, sustainSeconds: sustain,
                    filter: ProcessFilter(include: [Self.name]), backend: .procfs, captureDurationSeconds: 0.3)
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func monitor(_ v: Vault, _ rules: [MonitorRule], _ c: MonitorConfiguration) throws -> (Monitor, MonitorLog) {
        let m = try Monitor(vault: v, configuration: c)
        for r in rules { try m.addRule(r) }
        let log = MonitorLog()
        try log.attach(m)
        return (m, log)
    }

    /// A capturing rule that never fires (for history only).
    func neverFires() -> MonitorRule { rule(1e9) }

    /// The done-when scenario: the burner runs from the start, the rule needs 10 s of it, and
    /// the stored capture's history starts at least 10 s before the trigger.
    @Test func firedCaptureCarriesTheTenSecondsBeforeTheTrigger() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let burner = try spawn("burn", 0, life: 120)
        defer { burner.kill(); burner.wait() }
        // Any CPU at all counts: the burner gets some on a loaded machine, idle tasks get none.
        let (m, log) = try monitor(v, [rule(1, sustain: 10)],
                                   MonitorConfiguration(intervalSeconds: 1, historySeconds: 60))
        try m.start()
        #expect(log.waitForDone(1, timeout: 120))
        try m.stop()
        let done = try #require(log.done.first)
        #expect(done.firing.pid == burner.pid)
        let record = try done.result.get()
        let h = try json(try v.readArtefact(captureID: record.id, kind: "history.json"))
        #expect(h["version"] as? Int == 1)
        #expect(h["pid"] as? Int == Int(burner.pid))
        #expect(h["processName"] as? String == Self.name)
        #expect(h["triggerTime"] as? String == Timestamp(milliseconds: done.firing.timeMs).description)
        let samples = try #require(h["samples"] as? [[String: Any]])
        let ts = samples.compactMap { $0["t"] as? Double }
        #expect(ts.count == samples.count)
        let earliest = try #require(ts.min())
        #expect(earliest <= -10, "earliest history sample at \(earliest) s")
        #expect(ts.max() ?? 1 <= 0)
        #expect(ts == ts.sorted())
        // Absolute times agree with the relative ones.
        let first = try #require(samples.first)
        let firstText = try #require(first["time"] as? String)
        let firstTime = try #require(Timestamp(sqlText: firstText))
        #expect(firstTime.milliseconds - done.firing.timeMs == Int64((earliest * 1000).rounded()))
        // Per-tick figures: RSS, fds, threads with their CPU and state; the burner burnt.
        #expect((first["rssBytes"] as? Int ?? 0) > 0)
        #expect((first["fds"] as? Int ?? -1) >= 0)
        let last = try #require(samples.last)
        let threads = try #require(last["threads"] as? [[String: Any]])
        #expect(threads.count == 1)
        #expect(threads.first?["tid"] as? Int == Int(burner.pid))
        #expect(["R", "S", "D"].contains(threads.first?["state"] as? String ?? ""))
        #expect(samples.contains { ($0["cpuPercent"] as? Double ?? 0) > 0 })
        #expect(m.currentCounters.history.bytes > 0)
        #expect(m.currentCounters.history.processes >= 1)
    }

    /// Low-rate eu-stack snapshots kept in the ring become the capture's `history.folded`.
    @Test(.enabled(if: access("/usr/bin/eu-stack", X_OK) == 0, "eu-stack (elfutils) is not installed"))
    func historyStacksBecomeHistoryFolded() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let burner = try spawn("burn", 0, life: 120)
        defer { burner.kill(); burner.wait() }
        var r = rule(1, sustain: 3)
        r.historyStackIntervalSeconds = 0.5
        let (m, log) = try monitor(v, [r], MonitorConfiguration(intervalSeconds: 0.5, historySeconds: 60))
        try m.start()
        #expect(log.waitForDone(1, timeout: 120))
        try m.stop()
        let record = try #require(log.done.first).result.get()
        let folded = String(decoding: try v.readArtefact(captureID: record.id, kind: "history.folded"), as: UTF8.self)
        let stacks = FoldedStacks.parse(folded)
        #expect(stacks.totalSamples >= 2, "\(folded)")
        #expect(stacks.samples(containingFrame: "burn") >= 1, "\(folded)")
        #expect(stacks.counts.keys.allSatisfy { $0.hasPrefix("[on-cpu]") || $0.hasPrefix("[off-cpu]") })
        let h = try json(try v.readArtefact(captureID: record.id, kind: "history.json"))
        #expect((h["stackSnapshots"] as? Int ?? 0) >= 2)
        #expect(h["stackIntervalSeconds"] as? Double == 0.5)
        #expect(m.currentCounters.history.stackSnapshots >= 2)
        // The scratch directory of the snapshots is gone after stop.
        #expect((CaptureSys.listDirectory(v.path + "/work").0 ?? []).isEmpty)
    }

    @Test func badHistoryStackIntervalsAreRefused() throws {
        func status(_ s: Double) -> Status? {
            var r = rule(1)
            r.historyStackIntervalSeconds = s
            do { try r.validate(); return nil } catch let e as SpikeVaultError { return e.status } catch { return .internalError }
        }
        #expect(status(-1) == .invalidArgument)
        #expect(status(.nan) == .invalidArgument)
        #expect(status(0.1) == .invalidArgument)
        #expect(status(61) == .tooLarge)
        #expect(status(0) == nil)
        #expect(status(0.5) == nil)
        #expect(status(60) == nil)
    }

    @Test func historyOffStoresNoArtefactAndHoldsNothing() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let burner = try spawn("burn", 0, life: 120)
        defer { burner.kill(); burner.wait() }
        let (m, log) = try monitor(v, [rule(1, sustain: 0)],
                                   MonitorConfiguration(intervalSeconds: 0.2, historySeconds: 0))
        try m.start()
        #expect(log.waitForDone(1, timeout: 60))
        try m.stop()
        let record = try #require(log.done.first).result.get()
        #expect(throws: SpikeVaultError.self) { try v.readArtefact(captureID: record.id, kind: "history.json") }
        _ = try v.readArtefact(captureID: record.id)  // the capture itself is there
        #expect(m.currentCounters.history == HistoryCounters())
    }

    /// Many matched processes with many threads against the smallest cap: bytes stay within it.
    @Test func memoryCapHoldsWithManyProcesses() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let kids = try (0..<12).map { _ in try spawn("threads", 40, life: 120) }
        defer { for k in kids { k.kill(); k.wait() } }
        let cap = HistoryLimits.minMemoryBytes
        let (m, _) = try monitor(v, [neverFires()],
                                 MonitorConfiguration(intervalSeconds: 0.1, historySeconds: 3600, historyMemoryBytes: cap))
        try m.start()
        defer { try? m.stop() }
        #expect(Poll.until(timeout: 60, every: 0.05) { m.currentCounters.history.samplesEvicted > 0 })
        #expect(Poll.until(timeout: 60, every: 0.05) { m.currentCounters.history.processes >= 12 })
        for _ in 0..<20 {
            let c = m.currentCounters.history
            #expect(c.bytes <= Int64(cap), "\(c)")
            #expect(c.bytes > 0)
            CaptureSys.sleep(seconds: 0.05)
        }
        try m.stop()
        #expect(m.currentCounters.history.bytes <= Int64(cap))
    }

    @Test func exitedProcessIsEvicted() throws {
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        let kid = try spawn("idle", 0, life: 120)
        defer { kid.kill(); kid.wait() }
        let (m, _) = try monitor(v, [neverFires()], MonitorConfiguration(intervalSeconds: 0.1))
        try m.start()
        defer { try? m.stop() }
        #expect(Poll.until(timeout: 60, every: 0.05) { m.currentCounters.history.processes == 1 })
        kid.kill()
        kid.wait()
        #expect(Poll.until(timeout: 60, every: 0.05) { m.currentCounters.history.processesEvicted >= 1 })
        let c = m.currentCounters.history
        #expect(c.processes == 0)
        #expect(c.samplesEvicted >= 1)
        #expect(c.bytes == 0)
    }

    /// The store alone, driven with hand-made ticks of this test process: age bound and JSON.
    @Test func storeKeepsOnlyItsSecondsAndReportsRelativeTimes() throws {
        let store = try HistoryStore(seconds: 2, memoryBytes: HistoryLimits.defaultMemoryBytes, intervalSeconds: 0.5)
        let me = getpid()
        let id = try #require(ProcessSampler.identity(pid: me))
        let t0: Int64 = 1_800_000_000_000
        for i in 0..<11 {
            let s = ProcessSample(pid: me, startTimeTicks: id.startTime, comm: id.comm, uid: id.uid, inspectable: true,
                                  cpuPercent: i == 0 ? nil : Double(i), rssMiB: 1, diskIOMiBPerSecond: nil, threads: 1,
                                  fds: nil, sockets: nil)
            store.record([s], nowMs: t0 + Int64(i) * 500, monotonicNs: UInt64(i + 1) * 500_000_000) { _ in true }
        }
        let snap = try #require(store.snapshot(pid: me, startTimeTicks: id.startTime, triggerMs: t0 + 5000))
        #expect(snap.folded == nil)  // no stack snapshots were kept
        let bytes = snap.json
        let h = try json(bytes)
        let samples = try #require(h["samples"] as? [[String: Any]])
        #expect(samples.compactMap { $0["t"] as? Double } == [-2, -1.5, -1, -0.5, 0])
        #expect(samples.last?["cpuPercent"] as? Double == 10)
        #expect(samples.last?["time"] as? String == Timestamp(milliseconds: t0 + 5000).description)
        #expect(h["intervalSeconds"] as? Double == 0.5)
        #expect(store.snapshot(pid: me, startTimeTicks: id.startTime &+ 1, triggerMs: t0) == nil)  // another process
        #expect(store.currentCounters.processes == 1)
        store.record([], nowMs: t0 + 5500, monotonicNs: 6_000_000_000) { _ in true }
        #expect(store.currentCounters.processes == 0)
        #expect(store.currentCounters.processesEvicted == 1)
        #expect(store.currentCounters.samplesEvicted == 5)
    }

    @Test func badHistorySettingsAreRefused() throws {
        func status(_ c: MonitorConfiguration) -> Status? {
            do { try c.validate(); return nil } catch let e as SpikeVaultError { return e.status } catch { return .internalError }
        }
        #expect(status(MonitorConfiguration(historySeconds: -1)) == .invalidArgument)
        #expect(status(MonitorConfiguration(historySeconds: .nan)) == .invalidArgument)
        #expect(status(MonitorConfiguration(historySeconds: .infinity)) == .invalidArgument)
        #expect(status(MonitorConfiguration(historySeconds: 3601)) == .tooLarge)
        #expect(status(MonitorConfiguration(historyMemoryBytes: 1000)) == .invalidArgument)
        #expect(status(MonitorConfiguration(historyMemoryBytes: 2 << 30)) == .tooLarge)
        #expect(status(MonitorConfiguration(historySeconds: 0)) == nil)
        #expect(status(MonitorConfiguration(historySeconds: 3600, historyMemoryBytes: 1 << 30)) == nil)
        let dir = TempDir()
        let v = try MonitorTestSupport.vault(dir)
        defer { v.close() }
        #expect(throws: SpikeVaultError.self) { try Monitor(vault: v, configuration: MonitorConfiguration(historySeconds: -5)) }
    }
}
