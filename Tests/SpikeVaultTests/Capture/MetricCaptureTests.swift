import Foundation
import Glibc
import Testing
@testable import SpikeVault

/// Metric-aware captures against real processes with one known cause each. Every child is
/// killed and reaped by `defer`; tests wait for conditions (growth visible in /proc), never
/// for fixed times.
@Suite(.serialized) struct MetricCaptureTests {
    func json(_ text: String?) throws -> [String: Any] {
        let t = try #require(text)
        return try #require(try JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String: Any])
    }

    func capture(_ pid: Int32, _ metric: TriggerMetric, seconds: Double = 1.5, backend: CaptureBackend = .procfs,
                 collectors: [MetricCollector]? = nil, work: String) throws -> CaptureOutcome {
        try runCapture(CaptureRequest(pid: pid, metric: metric, value: 1, durationSeconds: seconds, intervalSeconds: 0.1,
                                      backend: backend, collectors: collectors ?? MetricCollector.autoPlan(for: metric)),
                       workDirectory: work, cancel: CancelFlag())
    }

    @Test func namePatternsCollapseNumbers() {
        #expect(NamePattern.collapse("/tmp/leak-17.dat") == "/tmp/leak-*.dat")
        #expect(NamePattern.collapse("worker-12") == "worker-*")
        #expect(NamePattern.collapse("/tmp/cache/0123abcdef99.tmp") == "/tmp/cache/*.tmp")
        #expect(NamePattern.collapse("/usr/lib/deadbeef") == "/usr/lib/deadbeef")
        #expect(NamePattern.collapse("") == "")
    }

    @Test func collectorListsParseAndRefuseBadNames() throws {
        #expect(try MetricCollector.parseList("fds, threads") == [.fds, .threads])
        #expect(try MetricCollector.parseList("") == [])
        #expect(throws: SpikeVaultError.self) { try MetricCollector.parseList("fds,bogus") }
        #expect(throws: SpikeVaultError.self) { try MetricCollector.parseList("fds,fds") }
        #expect(throws: SpikeVaultError.self) { try MetricCollector.parseList("fds,") }
        var r = CaptureRequest(pid: 1, metric: .fds, value: 1, collectors: [.fds, .fds])
        #expect(throws: SpikeVaultError.self) { try r.validate() }
        r.collectors = nil
        #expect(r.plannedCollectors == [.fds])
        r.backend = .procfs
        #expect(r.plannedCollectors == [])
    }

    @Test func socketAddressesAndTablesParse() {
        #expect(SocketTable.address("0100007F:1538") == "127.0.0.1:5432")
        #expect(SocketTable.address("00000000000000000000000001000000:0050") == "[::1]:80")
        #expect(SocketTable.address("0000000000000000FFFF00000100007F:0050") == "[::ffff:127.0.0.1]:80")
        let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:9C40 0100007F:1538 01 00000010:00000020 00:00000000 00000000     0        0 4242 1 0 20 4 30 10 -1
        """
        let e = SocketTable.parseInet(tcp, proto: "tcp")
        #expect(e == [SocketEntry(proto: "tcp", local: "127.0.0.1:40000", remote: "127.0.0.1:5432", state: "ESTABLISHED",
                                  txQueue: 16, rxQueue: 32, inode: 4242)])
    }

    @Test func perfEventRecorderSamplesByBoundedFrequency() {
        #expect(PerfEventRecorder.frequency(seconds: 5, targetSamples: 3000) == PerfEventRecorder.maxFrequencyHz)
        #expect(PerfEventRecorder.frequency(seconds: 60, targetSamples: 3000) == 50)
        #expect(PerfEventRecorder.frequency(seconds: 3600, targetSamples: 3000) == PerfEventRecorder.minFrequencyHz)
        #expect(PerfEventRecorder.frequency(seconds: 0, targetSamples: 3000) == PerfEventRecorder.maxFrequencyHz)
        let argv = PerfEventRecorder.recordArgv(tool: "perf", event: .pageFaults, pid: 7, dataPath: "/w/d", seconds: 2,
                                                frequencyHz: 123)
        #expect(argv.starts(with: ["perf", "record", "-N", "-e", "page-faults", "-F", "123", "--call-graph", "dwarf,8192"]))
        #expect(!argv.contains("-c"))
    }

    /// Frequency-mode periods overshoot on bursty events: the weights are scaled to the kernel's count.
    @Test func sampleWeightsScaleToTheKernelTotal() {
        func sample(_ period: Int) -> PerfEventSample { PerfEventSample(tid: 1, period: period, event: "page-faults", args: [:], framesLeafFirst: []) }
        let samples = [sample(30), sample(30), sample(60)]
        let s = SampleScaling(samples, kernelTotal: 40) { $0.period }
        #expect(s.sampled == 120 && s.kernel == 40)
        #expect(samples.map { s.weight($0.period) } == [10, 10, 20])
        #expect(s.weight(1) == 1 && s.weight(0) == 0)
        let unknown = SampleScaling(samples, kernelTotal: nil) { $0.period }
        #expect(unknown.weight(30) == 30 && unknown.kernel == nil)
        #expect(SampleScaling([], kernelTotal: 5) { $0.period }.weight(7) == 7)
    }

    @Test func perfEventScriptParses() {
        let text = """
        wr 16888  1703.199045:          1 syscalls:sys_enter_write: fd: 0x00000003, buf: 0x55fbd4933060, count: 0x00010000
        \t           f8350 __GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)
        \t            11ac flush_log (/tmp/wr)
        \t            11f1 main+0x32 (/tmp/wr)

        pf 12614  1527.283097:          4 page-faults:
        \t           95f4b sysmalloc_mmap (inlined)
        \t            1180 grow_cache (/tmp/pf)

        """
        let s = PerfEventSample.parse(text)
        #expect(s.count == 2)
        #expect(s[0].event == "syscalls:sys_enter_write" && s[0].args["count"] == 65536 && s[0].args["fd"] == 3 && s[0].tid == 16888)
        #expect(s[0].framesLeafFirst == ["__GI___libc_write", "flush_log", "main"])
        #expect(s[0].attributed?.function == "flush_log" && s[0].attributed?.caller == "main")
        #expect(s[1].period == 4 && s[1].event == "page-faults" && s[1].attributed?.function == "grow_cache")
    }

    /// A backend that throws stops the collectors at once (a 600 s window would hang here).
    @Test func throwingBackendStopsCollectors() throws {
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let req = CaptureRequest(pid: getpid(), metric: .fds, value: 1, durationSeconds: 600, intervalSeconds: 0.1,
                                 backend: .command, commandTemplate: ["spikevault-no-such-tool-\(getpid())"],
                                 collectors: [.fds, .threads])
        #expect(throws: SpikeVaultError.self) { try runCapture(req, workDirectory: work, cancel: CancelFlag()) }
    }

    /// A cancelled capture ends the collectors' window at once (600 s would hang here).
    @Test func cancelEndsCollectorWindow() throws {
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let cancel = CancelFlag()
        cancel.cancel()
        let out = try runCapture(CaptureRequest(pid: getpid(), metric: .fds, value: 1, durationSeconds: 600, intervalSeconds: 0.1,
                                                backend: .procfs, collectors: [.fds, .threads, .network]),
                                 workDirectory: work, cancel: cancel)
        #expect(out.status != .complete)
        #expect(out.reason?.contains("cancelled") == true, "\(out.reason ?? "")")
    }

    @Test func fdLeakPatternComesFirst() throws {
        let bin = try MetricPrograms.build("fdleak", MetricPrograms.fdLeak)
        let dir = CaptureTestSupport.makeTempDir("sv-leakdir")
        defer { CaptureTestSupport.removeTree(dir) }
        let target = try ToolRunner.spawn([bin, dir])
        defer { target.kill(); target.wait() }
        #expect(Poll.until(timeout: 60) { (FdSnapshot.count(pid: target.pid) ?? 0) >= 20 })
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let out = try capture(target.pid, .fds, work: work)
        #expect(out.status == .complete, "\(out.reason ?? "")")
        let doc = try json(MetricPrograms.artefact(out, "fds.json"))
        let groups = try #require(doc["groups"] as? [[String: Any]])
        let first = try #require(groups.first)
        let pattern = NamePattern.collapse("\(dir)/leak-0.dat")
        #expect(first["pattern"] as? String == pattern && pattern.hasSuffix("/leak-*.dat"))
        #expect(first["kind"] as? String == "file")
        #expect((first["growth"] as? Int ?? 0) > 0)
        // Six pipe ends at start and end (plus whatever the test runner's own fds the child inherited).
        #expect(groups.contains { $0["kind"] as? String == "pipe" && ($0["end"] as? Int ?? 0) >= 6 && $0["growth"] as? Int == 0 })
        let headline = try #require(out.metric?.headline(for: .fds))
        #expect(headline.contains("file \(pattern)") && headline.hasPrefix("fds: "), "\(headline)")
        if let why = MetricPrograms.perfUsable { try Test.cancel("open stacks not checked: \(why)") }
        #expect(out.artefacts.contains { $0.kind == "opens.folded" })
        #expect(headline.contains("of opens from leak_files ← main"), "\(headline)")
    }

    @Test func threadGroupAndGrowth() throws {
        let bin = try MetricPrograms.build("threads", MetricPrograms.threads)
        let target = try ToolRunner.spawn([bin])
        defer { target.kill(); target.wait() }
        #expect(Poll.until(timeout: 60) { (CaptureSys.listDirectory("/proc/\(target.pid)/task").0?.count ?? 0) >= 5 })
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let out = try capture(target.pid, .threads, work: work)
        #expect(out.status == .complete, "\(out.reason ?? "")")
        let doc = try json(MetricPrograms.artefact(out, "threads.json"))
        let groups = try #require(doc["groups"] as? [[String: Any]])
        let first = try #require(groups.first)
        #expect(first["pattern"] as? String == "worker-*")
        #expect((first["growth"] as? Int ?? 0) > 0 && (first["created"] as? Int ?? 0) > 0)
        #expect(groups.contains { $0["pattern"] as? String == "housekeeper" && $0["growth"] as? Int == 0 })
        let headline = try #require(out.metric?.headline(for: .threads))
        #expect(headline.contains("named worker-*"), "\(headline)")
    }

    @Test func heapGrowthNamesHeapAndFunction() throws {
        let bin = try MetricPrograms.build("heap", MetricPrograms.heap)
        let target = try ToolRunner.spawn([bin])
        defer { target.kill(); target.wait() }
        #expect(Poll.until(timeout: 60) { (SmapsSnapshot.read(pid: target.pid).groups["[heap]"]?.rssKiB ?? 0) >= 2048 })
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let faultsBefore = ProcessIO.faults(pid: target.pid) ?? 0
        let t0 = CaptureSys.monotonicSeconds()
        let out = try capture(target.pid, .memory, seconds: 2, work: work)
        let faultsDuring = Int((ProcessIO.faults(pid: target.pid) ?? 0) &- faultsBefore)
        let seconds = CaptureSys.monotonicSeconds() - t0
        let doc = try json(MetricPrograms.artefact(out, "mappings.json"))
        let maps = try #require(doc["mappings"] as? [[String: Any]])
        #expect(maps.first?["label"] as? String == "[heap]")
        #expect((maps.first?["rssGrowthKiB"] as? Int ?? 0) > 0)
        let headline = try #require(out.metric?.headline(for: .memory))
        #expect(headline.hasPrefix("memory grew") && headline.contains("[heap]"), "\(headline)")
        if let why = MetricPrograms.perfUsable {
            #expect(out.backendsSkipped.contains { $0.backend == "memory.stacks" })
            try Test.cancel("growth stacks not checked: \(why)")
        }
        #expect(out.status == .complete, "\(out.reason ?? "") \(out.backendsSkipped)")
        let growth = CaptureTestSupport.stacks(out, kind: "growth.folded")
        let under = growth.counts.filter { $0.key.split(separator: ";").contains("grow_cache") }.values.reduce(0, +)
        #expect(growth.totalSamples > 0)
        #expect(Double(under) >= 0.8 * Double(growth.totalSamples), "\(under) of \(growth.totalSamples) faults under grow_cache")
        #expect(headline.contains("under grow_cache ← load_index"), "\(headline)")
        // Sampled by frequency, weighted by period: fewer samples than faults once the target
        // faults faster than perf samples, and the weights still add up to the faults counted by
        // the kernel while perf was attached (a subset of the capture window).
        let stacks = try #require(doc["growthStacks"] as? [String: Any])
        let samples = try #require(stacks["samples"] as? Int), weighted = try #require(stacks["faults"] as? Int)
        #expect((stacks["perf"] as? String ?? "").contains("Hz"), "\(stacks)")
        if Double(faultsDuring) / seconds > 4 * Double(PerfEventRecorder.maxFrequencyHz) {
            #expect(samples < faultsDuring / 2, "\(samples) samples for \(faultsDuring) faults")
        }
        #expect(weighted <= faultsDuring && Double(weighted) >= 0.4 * Double(faultsDuring),
                "weighted \(weighted) vs \(faultsDuring) faults counted by the kernel")
    }

    @Test func perfRefusedSkipsStacksAndTheRestAnswers() throws {
        let bin = try MetricPrograms.build("heap", MetricPrograms.heap)
        let fake = CaptureTestSupport.makeTempDir("sv-fakeperf")
        defer { CaptureTestSupport.removeTree(fake) }
        try CaptureSys.writeFile("\(fake)/perf", "#!/bin/sh\necho 'Error: Access to performance monitoring and observability operations is limited. perf_event_paranoid setting is 4' >&2\nexit 255\n")
        chmod("\(fake)/perf", 0o700)
        MetricCapture.perfToolOverride.withLock { $0 = "\(fake)/perf" }
        defer { MetricCapture.perfToolOverride.withLock { $0 = nil } }
        let target = try ToolRunner.spawn([bin])
        defer { target.kill(); target.wait() }
        #expect(Poll.until(timeout: 60) { (SmapsSnapshot.read(pid: target.pid).groups["[heap]"]?.rssKiB ?? 0) >= 1024 })
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let out = try capture(target.pid, .memory, seconds: 1, collectors: [.memory, .diskIO], work: work)
        let skipped = out.backendsSkipped.filter { $0.backend.hasSuffix(".stacks") }
        #expect(skipped.count == 2, "\(out.backendsSkipped)")
        #expect(skipped.allSatisfy { $0.reason.contains("perf_event_paranoid") }, "\(skipped)")
        #expect(out.status == .complete, "\(out.reason ?? "")")
        #expect(out.artefacts.contains { $0.kind == "mappings.json" } && out.artefacts.contains { $0.kind == "io.json" })
        #expect(!out.artefacts.contains { $0.kind == "growth.folded" })
        #expect(out.metric?.headline(for: .memory)?.contains("[heap]") == true)
    }

    @Test func writerFileFirstAndFunctionOnStacks() throws {
        let bin = try MetricPrograms.build("writer", MetricPrograms.writer)
        let dir = CaptureTestSupport.makeTempDir("sv-writedir")
        defer { CaptureTestSupport.removeTree(dir) }
        let target = try ToolRunner.spawn([bin, dir])
        defer { target.kill(); target.wait() }
        #expect(Poll.until(timeout: 60) { (ProcessIO.read(pid: target.pid)?.values["wchar"] ?? 0) >= 1 << 20 })
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let wcharBefore = ProcessIO.read(pid: target.pid)?.values["wchar"] ?? 0
        let out = try capture(target.pid, .diskIO, work: work)
        let written = Int((ProcessIO.read(pid: target.pid)?.values["wchar"] ?? 0) &- wcharBefore)
        let doc = try json(MetricPrograms.artefact(out, "io.json"))
        let files = try #require(doc["files"] as? [[String: Any]])
        #expect(files.first?["path"] as? String == "\(dir)/debug.log")
        #expect((files.first?["bytesMoved"] as? Int ?? 0) > 0)
        let headline = try #require(out.metric?.headline(for: .diskIO))
        #expect(headline.contains("\(dir)/debug.log"), "\(headline)")
        if let why = MetricPrograms.perfUsable { try Test.cancel("I/O stacks not checked: \(why)") }
        #expect(out.status == .complete, "\(out.reason ?? "") \(out.backendsSkipped)")
        let io = CaptureTestSupport.stacks(out, kind: "io.folded")
        let fromFlush = io.counts.filter { $0.key.split(separator: ";").contains("flush_log") }.values.reduce(0, +)
        #expect(Double(fromFlush) >= 0.8 * Double(io.totalSamples), "\(fromFlush) of \(io.totalSamples) bytes from flush_log")
        #expect(headline.contains("from flush_log"), "\(headline)")
        // Weighted by count × period, the sampled calls estimate the bytes written while perf was
        // attached (a subset of the window; 1.2: one sample's period may end past the window).
        let stacks = try #require(doc["ioStacks"] as? [String: Any])
        let bytes = try #require(stacks["bytes"] as? Int)
        #expect(Double(bytes) <= 1.2 * Double(written) && Double(bytes) >= 0.4 * Double(written),
                "weighted \(bytes) B vs \(written) B written (wchar)")
    }

    @Test func socketsToListenerGrouped() throws {
        let bin = try MetricPrograms.build("sockets", MetricPrograms.sockets)
        let dir = CaptureTestSupport.makeTempDir("sv-sockdir")
        defer { CaptureTestSupport.removeTree(dir) }
        let target = try ToolRunner.spawn([bin], stdoutPath: "\(dir)/port")
        defer { target.kill(); target.wait() }
        var port = ""
        #expect(Poll.until(timeout: 60) {
            port = (CaptureSys.readText("\(dir)/port") ?? "").trimmingASCIIWhitespace()
            return !port.isEmpty && (FdSnapshot.count(pid: target.pid) ?? 0) >= 12
        })
        let work = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(work) }
        let out = try capture(target.pid, .network, work: work)
        #expect(out.status == .complete, "\(out.reason ?? "")")
        let doc = try json(MetricPrograms.artefact(out, "sockets.json"))
        let groups = try #require(doc["groups"] as? [[String: Any]])
        #expect(groups.first?["peer"] as? String == "127.0.0.1:\(port)")
        #expect(groups.first?["protocol"] as? String == "tcp")
        #expect((groups.first?["growth"] as? Int ?? 0) > 0)
        #expect(groups.contains { $0["peer"] as? String == "listening on 127.0.0.1:\(port)" && $0["end"] as? Int == 1 })
        // The server side of each connection groups under its listener, not by client port.
        #expect(groups.dropFirst().first?["peer"] as? String == "accepted on 127.0.0.1:\(port)")
        #expect(groups.filter { ($0["growth"] as? Int ?? 0) > 0 }.count == 2, "\(groups)")
        let headline = try #require(out.metric?.headline(for: .network))
        #expect(headline.contains("tcp to 127.0.0.1:\(port)"), "\(headline)")
        #expect(out.artefacts.contains { $0.kind == "fds.json" })
        if let why = MetricPrograms.perfUsable { try Test.cancel("connect stacks not checked: \(why)") }
        let sends = CaptureTestSupport.stacks(out, kind: "sends.folded")
        let fromConnect = sends.counts.filter { $0.key.split(separator: ";").contains("connect_db") }.values.reduce(0, +)
        #expect(sends.totalSamples > 0 && Double(fromConnect) >= 0.8 * Double(sends.totalSamples), "\(sends.counts)")
        #expect(headline.contains("of connect/send calls from connect_db ← main"), "\(headline)")
    }
}
