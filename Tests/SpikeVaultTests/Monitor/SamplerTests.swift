import Glibc
import Testing
@testable import SpikeVault

/// The /proc sampler against independent readings.
@Suite(.serialized) struct MonitorSamplerTests {
    static func ticks(_ pid: Int32) -> (UInt64, Double)? {
        guard let s = CaptureSys.readText("/proc/\(pid)/stat").flatMap(ProcStat.parse) else { return nil }
        return (s.utimeTicks + s.stimeTicks, CaptureSys.monotonicSeconds())
    }

    @Test func cpuFigureAgreesWithAProcDelta() throws {
        // One thread: ~100 % if a core is free, less on a loaded machine; either way the
        // sampler must agree with what the child got by its own /proc counters.
        let child = try MonitorTestSupport.spawn("burn", 0, life: 120)
        defer { child.kill(); child.wait() }
        #expect(Poll.until { (Poll.cpuTicks(child.pid) ?? 0) > 0 })
        let sampler = try ProcessSampler()
        for _ in 0..<3 {
            _ = sampler.tick()
            let a = try #require(Self.ticks(child.pid))
            CaptureSys.sleep(seconds: 2)  // the measuring window, not a wait for a condition
            let samples = sampler.tick()
            let b = try #require(Self.ticks(child.pid))
            let independent = Double(b.0 - a.0) / Double(CaptureSys.clockTicksPerSecond) / (b.1 - a.1) * 100
            let mine = try #require(samples.first { $0.pid == child.pid }?.cpuPercent)
            print("cpu: sampler \(mine) %, /proc delta \(independent) %")
            #expect(abs(mine - independent) <= 5, "sampler \(mine) vs /proc delta \(independent)")
            #expect(independent > 1, "the burner got no CPU at all")
        }
    }

    @Test func figuresOfKnownChildren() throws {
        let mem = try MonitorTestSupport.spawn("mem", 300, life: 120)
        let thr = try MonitorTestSupport.spawn("threads", 50, life: 120)
        let fds = try MonitorTestSupport.spawn("fds", 200, life: 120)
        defer { for c in [mem, thr, fds] { c.kill(); c.wait() } }
        // Until each child has done its setup, by its own /proc files.
        func status(_ pid: Int32, _ key: String) -> Int {
            let line = (CaptureSys.readText("/proc/\(pid)/status") ?? "").split(separator: "\n").first { $0.hasPrefix(key + ":") }
            return (line?.split { $0 == " " || $0 == "\t" }.dropFirst().first).flatMap { Int($0) } ?? 0
        }
        #expect(Poll.until(timeout: 60) {
            status(mem.pid, "VmRSS") >= 300 * 1024 && status(thr.pid, "Threads") == 51
                && (CaptureSys.listDirectory("/proc/\(fds.pid)/fd").0?.count ?? 0) >= 203
        })
        let sampler = try ProcessSampler()
        _ = sampler.tick(needs: .all)
        let samples = sampler.tick(needs: .all)
        let m = try #require(samples.first { $0.pid == mem.pid })
        let t = try #require(samples.first { $0.pid == thr.pid })
        let f = try #require(samples.first { $0.pid == fds.pid })
        #expect(m.rssMiB >= 290 && m.rssMiB < 400, "rss \(m.rssMiB)")
        #expect(t.threads == 51)
        #expect((f.fds ?? 0) >= 203, "fds \(String(describing: f.fds))")
        #expect(f.sockets != nil)  // the helper may inherit sockets of the test runner
        #expect(m.comm == "svmon-helper" && m.inspectable && m.uid == geteuid())
        #expect(m.diskIOMiBPerSecond != nil)
        // Kernel threads are skipped and counted (when this kernel shows any), never sampled.
        #expect(!samples.contains { $0.pid == 2 })
        print("sampler counters: \(sampler.counters)")
        #expect(sampler.counters.ticks == 2 && sampler.counters.processes == Int64(samples.count))
    }

    @Test func vanishedProcessesAreCountedNotErrors() throws {
        let sampler = try ProcessSampler()
        var kids: [SpawnedProcess] = []
        for _ in 0..<30 { kids.append(try MonitorTestSupport.spawn("idle", 0, life: 0.01)) }
        // Tick repeatedly while they exit (zombies until reaped, then gone).
        for _ in 0..<20 { _ = sampler.tick(needs: .all); CaptureSys.sleep(seconds: 0.005) }
        for k in kids { k.wait() }
        _ = sampler.tick(needs: .all)
        print("sampler counters after churn: \(sampler.counters)")
        #expect(sampler.counters.vanished > 0)
    }

    @Test func socketCountIsTheNetworkFigure() throws {
        var fds: [Int32] = []
        for _ in 0..<3 { fds.append(socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)) }
        defer { for f in fds { close(f) } }
        let sampler = try ProcessSampler()
        let me = try #require(sampler.tick(needs: .sockets).first { $0.pid == getpid() })
        #expect((me.sockets ?? 0) >= 3)
        #expect(me.value(.network) == me.sockets.map(Double.init))
    }
}
