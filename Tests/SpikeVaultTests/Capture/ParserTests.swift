import Testing
import Synchronization
@testable import SpikeVault

// Fixtures are excerpts of real output captured on this machine (Debian 12, elfutils 0.188,
// gdb 13, perf 6.x) from the C test program in TestTarget.swift.

let euStackFixture = """
PID 3075 - process
TID 3075:
#0  0x00007efe6a407545 clock_nanosleep@GLIBC_2.2.5
#1  0x00007efe6a40be53 __nanosleep
#2  0x00007efe6a40bd8a sleep
#3  0x0000559827ab6258 main
#4  0x00007efe6a35f24a __libc_start_call_main
#5  0x00007efe6a35f305 __libc_start_main@@GLIBC_2.34
#6  0x0000559827ab6091 _start
TID 3076:
#0  0x0000559827ab6189 spikevault_hot_spin
#1  0x0000559827ab619e burner
#2  0x00007efe6a3c11f5 start_thread
#3  0x00007efe6a4418ec __clone3
TID 3077:
#0  0x0000559827ab6189 spikevault_hot_spin
#1  0x0000559827ab619e - 1 burner
#2  0x00007efe6a3c11f5 start_thread
#3  0x00007efe6a4418ec
TID 3079:
#0  0x00007efe6a407545 clock_nanosleep@GLIBC_2.2.5
#1  0x00007efe6a40be53 __nanosleep
#2  0x00007efe6a40bd8a sleep
#3  0x0000559827ab61bb idler
#4  0x00007efe6a3c11f5 start_thread
#5  0x00007efe6a4418ec __clone3

"""

let gdbFixture = """
[New LWP 3076]
[New LWP 3077]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
0x00007efe6a407545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffe70de0310, rem=rem@entry=0x7ffe70de0310) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48

Thread 3 (Thread 0x7efe69b336c0 (LWP 3077) "hot"):
#0  0x0000559827ab616e in spikevault_hot_spin () at hot.c:6
#1  0x0000559827ab619e in burner (a=0x0) at hot.c:8
#2  0x00007efe6a3c11f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#3  0x00007efe6a4418ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7efe6a3346c0 (LWP 3076) "a (b) c"):
#0  spikevault_hot_spin () at hot.c:6
#1  0x0000559827ab619e in burner (a=0x0) at hot.c:8
#2  0x00007efe6a3c11f5 in ?? () from /lib/x86_64-linux-gnu/libc.so.6

Thread 1 (Thread 0x7efe6a335740 (LWP 3075) "hot"):
#0  0x00007efe6a407545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffe70de0310, rem=rem@entry=0x7ffe70de0310) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48
#1  0x00007efe6a40be53 in __GI___nanosleep (req=req@entry=0x7ffe70de0310, rem=rem@entry=0x7ffe70de0310) at ../sysdeps/unix/sysv/linux/nanosleep.c:25
#2  0x00007efe6a40bd8a in __sleep (seconds=0) at ../sysdeps/posix/sleep.c:55
#3  0x0000559827ab6258 in main (argc=2, argv=0x7ffe70de0498) at hot.c:16
[Inferior 1 (process 3075) detached]
"""

let perfFixture = """
hot  3077   182.081958:   10101010 cpu-clock:ppp: 
\t            116e spikevault_hot_spin+0x15 (/tmp/cap/hot)
\t            119e burner+0x11 (/tmp/cap/hot)
\t           891f5 start_thread+0x305 (/usr/lib/x86_64-linux-gnu/libc.so.6)

hot  3076   182.083133:   10101010 cpu-clock:ppp: 
\t            1189 spikevault_hot_spin+0x30 (/tmp/cap/hot)
\t            119e burner+0x11 (/tmp/cap/hot)
\t           891f5 start_thread+0x305 (/usr/lib/x86_64-linux-gnu/libc.so.6)

my proc 42  3078   182.090000:   10101010 cpu-clock:ppp: 
\t            7f00 [unknown] ([unknown])
\t            1234 std::vector<int>::push_back(int const&)+0x1a (/usr/bin/app)

"""

@Suite struct ProcStatParsing {
    @Test func plainStat() throws {
        let text = "3076 (hot) R 3075 3075 1000 34816 3075 4194368 34 0 0 0 4506 12 0 0 20 0 4 0 18154 2764800 226 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 -1 1 0 0 0 0 0\n"
        let s = try #require(ProcStat.parse(text))
        #expect(s.pid == 3076 && s.comm == "hot" && s.state == "R" && s.ppid == 3075)
        #expect(s.utimeTicks == 4506 && s.stimeTicks == 12 && s.numThreads == 4 && s.startTimeTicks == 18154)
    }

    @Test func commWithParenthesesSpacesAndNewline() throws {
        let text = "77 (a) S 1 (x\n)y) Z 5 6 7 8 9 10 11 12 13 14 100 200 0 0 20 0 1 0 999 0 0\n"
        let s = try #require(ProcStat.parse(text))
        #expect(s.comm == "a) S 1 (x\n)y")
        #expect(s.state == "Z" && s.ppid == 5 && s.utimeTicks == 100 && s.stimeTicks == 200 && s.startTimeTicks == 999)
        #expect(s.hasExited)
    }

    @Test func commWithInvalidUTF8IsKeptLosslessly() throws {
        // A process may write any bytes to /proc/self/comm: kept as \xNN, like exe and cmdline.
        let bytes = Array("78 (".utf8) + [0xFF, 0x1B] + Array("a\\) R 1 2 3 4 5 6 7 8 9 10 1 2 0 0 20 0 1 0 5 0 0\n".utf8)
        let s = try #require(ProcStat.parse(bytes: bytes))
        #expect(s.comm == "\\xff\u{1B}a\\\\")
        #expect(LosslessText.unescape(s.comm) == [0xFF, 0x1B] + Array("a\\".utf8))
    }

    @Test func garbageIsNil() {
        #expect(ProcStat.parse("") == nil)
        #expect(ProcStat.parse("12 (x) R 1 2") == nil)
        #expect(ProcStat.parse("no parens here") == nil)
    }

    @Test func keyValues() {
        let kv = ProcKeyValue.parse("Name:\thot\nUid:\t1000\t1001\t1002\t1003\nVmRSS:\t  1234 kB\n")
        #expect(kv["Name"] == "hot")
        #expect(ProcKeyValue.integers(kv["Uid"]) == [1000, 1001, 1002, 1003])
        #expect(ProcKeyValue.firstInteger(kv["VmRSS"]) == 1234)
    }
}

@Suite struct IdentityTests {
    let original = ProcessIdentity(pid: 4242, comm: "hot", state: "S", ppid: 1, startTimeTicks: 1000,
                                   uid: 0, uids: [0, 0, 0, 0], exeBytes: nil, cmdlineBytes: [])

    func stat(pid: Int32 = 4242, start: UInt64, state: Character = "S", comm: String = "hot") -> ProcStat {
        ProcStat(pid: pid, comm: comm, state: state, ppid: 1, utimeTicks: 0, stimeTicks: 0, numThreads: 1, startTimeTicks: start)
    }

    @Test func samePidSameStart() {
        #expect(IdentityCheck.evaluate(original: original, current: stat(start: 1000)) == .same)
    }

    @Test func pidReuseDetectedByFakedStartTime() {
        let r = IdentityCheck.evaluate(original: original, current: stat(start: 5555, comm: "intruder"))
        guard case .reused(let why) = r else { Issue.record("expected reuse, got \(r)"); return }
        #expect(why.contains("reused") && why.contains("5555"))
        var other = original
        other.startTimeTicks = 5555
        #expect(!original.sameProcess(as: other))
        #expect(original.sameProcess(as: original))
    }

    @Test func goneOrZombieIsExited() {
        if case .exited = IdentityCheck.evaluate(original: original, current: nil) {} else { Issue.record("nil stat must be exited") }
        if case .exited = IdentityCheck.evaluate(original: original, current: stat(start: 1000, state: "Z")) {} else { Issue.record("zombie must be exited") }
    }

    @Test func accessDecision() {
        #expect(ProcessIdentity.accessRefusal(callerEUID: 0, targetUIDs: [5, 5, 5, 5], procOwner: 0) == nil)
        #expect(ProcessIdentity.accessRefusal(callerEUID: 1000, targetUIDs: [1000, 1000, 1000, 1000], procOwner: 1000) == nil)
        let setuid = ProcessIdentity.accessRefusal(callerEUID: 1000, targetUIDs: [1000, 0, 0, 0], procOwner: 0)
        #expect(setuid?.contains("uid 0") == true)
        let notDumpable = ProcessIdentity.accessRefusal(callerEUID: 1000, targetUIDs: [1000, 1000, 1000, 1000], procOwner: 0)
        #expect(notDumpable?.contains("not dumpable") == true)
    }

    @Test func cmdlineSplitAndLosslessEscape() {
        let raw: [UInt8] = Array("a b".utf8) + [0] + [0x66, 0xff, 0x5c, 0x6f] + [0] + [] + [0] + Array("é;$(x)\n".utf8) + [0]
        let parts = ProcessIdentity.splitCmdline(raw)
        #expect(parts.count == 4)
        #expect(parts[2] == [])
        let escaped = parts.map(LosslessText.escape)
        #expect(escaped == ["a b", "f\\xff\\\\o", "", "é;$(x)\n"])
        for (p, e) in zip(parts, escaped) { #expect(LosslessText.unescape(e) == p) }
        #expect(LosslessText.escape([0xed, 0xa0, 0x80]) == "\\xed\\xa0\\x80") // surrogate: invalid
        #expect(LosslessText.escape([0xc3]) == "\\xc3")                         // truncated
    }
}

@Suite struct JSONWriterTests {
    @Test func documentShapeAndEscaping() {
        var w = JSONWriter()
        w.beginObject()
        w.field("s", "q\"b\\n\n\t\u{01}\u{1f}é")
        w.field("i", -3)
        w.field("d", 2.5)
        w.field("whole", 3.0)
        w.field("nan", Double.nan)
        w.field("inf", -Double.infinity)
        w.field("t", true)
        w.field("n", nil as String?)
        w.key("a"); w.beginArray(); w.int(1); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.null(); w.endArray()
        w.endObject()
        #expect(w.text == #"{"s":"q\"b\\n\n\t\u0001\u001fé","i":-3,"d":2.5,"whole":3,"nan":null,"inf":null,"t":true,"n":null,"a":[1,{},[],null]}"#)
    }

    @Test func streamingChunksConcatenate() {
        var w = JSONWriter()
        w.beginArray(); w.int(1)
        let a = w.takeText()
        w.int(2); w.endArray()
        #expect(a + w.text == "[1,2]")
    }
}

@Suite struct FoldingTests {
    @Test func escapingAndSorting() {
        var f = FoldedStacks()
        f.add(["main", "a;b", "line\nbreak"])
        f.add(["main", "z"], count: 2)
        f.add(["main", "a;b", "line\nbreak"])
        f.add([])
        #expect(f.lines == ["[no stack] 1", "main;a:b;line break 2", "main;z 2"])
        #expect(f.totalSamples == 5)
        #expect(f.samples(containingFrame: "z") == 2)
        #expect(FoldedStacks.parse(f.text) == f)
    }

    @Test func euStackParsing() {
        let stacks = EuStackParser.parse(euStackFixture)
        #expect(stacks.map { $0.tid } == [3075, 3076, 3077, 3079])
        #expect(stacks[1].rootFirst == ["__clone3", "start_thread", "burner", "spikevault_hot_spin"])
        #expect(stacks[2].rootFirst == ["[unknown]", "start_thread", "burner", "spikevault_hot_spin"])
        #expect(stacks[0].framesLeafFirst.first == "clock_nanosleep")
        #expect(stacks[0].framesLeafFirst.contains("__libc_start_main"))
        var folder = OnOffCPUFolder()
        folder.add(snapshot: stacks, states: [3075: "S", 3076: "R", 3077: "R", 3079: "S"])
        #expect(folder.onCPU.totalSamples == 2 && folder.offCPU.totalSamples == 2)
        #expect(folder.onCPU.samples(containingFrame: "spikevault_hot_spin") == 2)
        #expect(folder.offCPU.samples(containingFrame: "idler") == 1)
    }

    @Test func gdbParsing() {
        let stacks = GdbBacktraceParser.parse(gdbFixture)
        #expect(stacks.map { $0.tid } == [3077, 3076, 3075])
        #expect(stacks[0].rootFirst == ["clone3", "start_thread", "burner", "spikevault_hot_spin"])
        #expect(stacks[1].rootFirst == ["[unknown]", "burner", "spikevault_hot_spin"])
        #expect(stacks[2].framesLeafFirst == ["__GI___clock_nanosleep", "__GI___nanosleep", "__sleep", "main"])
    }

    @Test func perfParsing() {
        let stacks = PerfScriptParser.parse(perfFixture)
        #expect(stacks.count == 3)
        #expect(stacks.map { $0.tid } == [3077, 3076, 3078])
        #expect(stacks[0].rootFirst == ["start_thread", "burner", "spikevault_hot_spin"])
        #expect(stacks[2].framesLeafFirst == ["[unknown]", "std::vector<int>::push_back(int const&)"])
    }

    @Test func perfPermissionNamesParanoidSetting() {
        let stderr = """
        Error:
        Access to performance monitoring and observability operations is limited.
        Consider adjusting /proc/sys/kernel/perf_event_paranoid setting to open
        """
        let e = PerfBackend.recordError(stderr: stderr, exitSummary: "exited with status 255", paranoid: 3)
        #expect(e.status == .permission)
        #expect(e.message.contains("/proc/sys/kernel/perf_event_paranoid") && e.message.contains("3"))
        #expect(PerfBackend.recordError(stderr: "boom", exitSummary: "x", paranoid: nil).status == .io)
    }
}

@Suite struct ArgvTests {
    @Test func templateSubstitutionIsPerArgumentAndNeverResplit() {
        let argv = CommandTemplate.substitute(
            ["tool", "--pid={pid}", "{duration}", "-o", "{output}", "{pid}{pid}", "a b;$(x) {nope}", "{output"],
            pid: 42, durationSeconds: 1.5, output: "/w/out {pid}")
        #expect(argv == ["tool", "--pid=42", "1.5", "-o", "/w/out {pid}", "4242", "a b;$(x) {nope}", "{output"])
        #expect(CommandTemplate.substitute(["{duration}"], pid: 1, durationSeconds: 5, output: "")[0] == "5")
    }

    @Test func macOSPresets() {
        #expect(CommandTemplate.sampleArgv(pid: 7, durationSeconds: 2.5, intervalSeconds: 0.01, output: "/w/s.txt")
                == ["sample", "7", "3", "10", "-mayDie", "-file", "/w/s.txt"])
        #expect(CommandTemplate.spindumpArgv(pid: 7, durationSeconds: 5, intervalSeconds: 0.1, output: "/w/d.txt")
                == ["spindump", "7", "5", "100", "-file", "/w/d.txt"])
    }

    @Test func perfArgv() {
        #expect(PerfBackend.recordArgv(pid: 9, frequency: 999, dataPath: "/w/p", durationSeconds: 1)
                == ["perf", "record", "-N", "-B", "-k", "CLOCK_MONOTONIC", "-F", "999", "-g", "-e", "cpu-clock", "-p", "9", "-o", "/w/p", "--", "sleep", "1"])
        #expect(PerfBackend.recordArgv(pid: 9, frequency: 99, dataPath: "/w/p", durationSeconds: 1.5, offCPU: true)
                == ["perf", "record", "-N", "-B", "-k", "CLOCK_MONOTONIC", "-F", "99", "-g", "-e", "cpu-clock", "-e", "sched:sched_switch",
                    "-p", "9", "-o", "/w/p", "--", "sleep", "1.5"])
        let env = PerfBackend.environment(workDirectory: "/v/work/1")
        #expect(env["HOME"] == "/v/work/1" && env["TMPDIR"] == "/v/work/1" && env["PERF_CONFIG"] == "/dev/null"
                && env["PERF_BUILDID_DIR"] == "/v/work/1/buildid")
        #expect(PySpyBackend.argv(pid: 7, rateHz: 100, durationSeconds: 2.2, output: "/w/o")
                == ["py-spy", "record", "--format", "raw", "--native", "--nolineno", "-r", "100", "-d", "3", "-p", "7", "-o", "/w/o"])
    }

    @Test func requestValidation() throws {
        try CaptureRequest(pid: 1, metric: .cpu, value: 93.5).validate()
        let bad: [(CaptureRequest, String)] = [
            (CaptureRequest(pid: 0, metric: .cpu, value: 1), "pid"),
            (CaptureRequest(pid: 1, metric: .cpu, value: .nan), "value"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, durationSeconds: 0), "durationSeconds"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, durationSeconds: 3601), "durationSeconds"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, intervalSeconds: 0.001), "intervalSeconds"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, durationSeconds: 1, intervalSeconds: 2), "intervalSeconds"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, rateHz: 0), "rateHz"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, rateHz: -5), "rateHz"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, rateHz: .nan), "rateHz"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, backend: .perf, rateHz: 10_001), "10000 Hz"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, backend: .euStack, rateHz: 101), "100 Hz"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, backend: .gdb, rateHz: 11), "10 Hz"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, backend: .pySpy, rateHz: 1001), "1000 Hz"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, backend: .command), "commandTemplate"),
            (CaptureRequest(pid: 1, metric: .cpu, value: 1, commandTemplate: ["x"]), "commandTemplate"),
        ]
        for (r, word) in bad {
            let e = #expect(throws: SpikeVaultError.self) { try r.validate() }
            #expect(e?.status == .invalidArgument)
            #expect(e?.message.contains(word) == true, "\(e?.message ?? "") should name \(word)")
        }
        #expect(CaptureBackend.allCases.map(\.rawValue) == ["auto", "procfs", "eu-stack", "perf", "gdb", "sample", "spindump", "command", "py-spy"])
        try CaptureRequest(pid: 1, metric: .cpu, value: 1, backend: .perf, rateHz: 10_000).validate()
        try CaptureRequest(pid: 1, metric: .cpu, value: 1, backend: .euStack, rateHz: 0.5).validate()
    }
}

/// The allocation-free procfs parsers and the kept-open readers of the procfs sampler.
@Suite(.serialized) struct ProcBytesTests {
    func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var t = text
        return t.withUTF8 { body($0) }
    }

    @Test func statFromBytesMatchesTextParser() throws {
        let text = "77 (a) S 1 (x\n)y) Z 5 6 7 8 9 10 11 12 13 14 100 200 0 0 20 0 3 0 999 0 0\n"
        let r = try #require(withBytes(text) { ProcBytes.parseStat($0) })
        #expect(r.pid == 77 && r.state == UInt8(ascii: "Z") && r.ppid == 5)
        #expect(r.utime == 100 && r.stime == 200 && r.numThreads == 3 && r.startTime == 999)
        let comm = withBytes(text) { String(decoding: UnsafeBufferPointer(rebasing: $0[r.commStart..<r.commEnd]), as: UTF8.self) }
        #expect(comm == "a) S 1 (x\n)y")
        #expect(ProcStat.parse(text)?.comm == comm)
    }

    /// The monitor's sampler reads the same parser (one /proc/PID/stat parser in the library):
    /// the kernel-thread flag (field 9) and the resident pages (field 24).
    @Test func statGivesTheMonitorsFields() throws {
        let text = "5 (kworker/0:1) I 2 0 0 0 -1 2129984 0 0 0 0 7 8 0 0 20 0 1 0 55 4096 321 18446744073709551615\n"
        let r = try #require(withBytes(text) { ProcBytes.parseStat($0) })
        #expect(r.flags & ProcBytes.pfKthread != 0 && r.rssPages == 321 && r.numThreads == 1 && r.startTime == 55)
        #expect(r.utime == 7 && r.stime == 8 && r.state == UInt8(ascii: "I"))
        let short = "9 (a) S 1 1 1 1 1 0 1 1 1 1 1 1 1 1 1 1 1 1 77\n"  // ends at field 22
        let s = try #require(withBytes(short) { ProcBytes.parseStat($0) })
        #expect(s.rssPages == 0 && s.flags == 0 && s.startTime == 77)
    }

    @Test func statRejectsGarbage() {
        for bad in ["", "12 (x) R 1 2", "no parens", "x (a) R 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
                    "1 (a) RR 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
                    "1 (a) R 1 1 1 1 1 1 1 1 1 1 x 1 1 1 1 1 1 1 1 1",     // utime (field 14) not a number
                    "1 (a) R 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 99999999999999999999999"] { // start time overflows
            #expect(withBytes(bad) { ProcBytes.parseStat($0) } == nil, "\(bad)")
        }
    }

    @Test func keyedIntegers() {
        let status = "Name:\thot\nVmRSS:\t  1234 kB\nRssAnon:\t 9 kB\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t345"
        withBytes(status) { b in
            #expect(ProcBytes.integer(forKey: "VmRSS", in: b) == 1234)
            #expect(ProcBytes.integer(forKey: "voluntary_ctxt_switches", in: b) == 12)
            #expect(ProcBytes.integer(forKey: "nonvoluntary_ctxt_switches", in: b) == 345) // last line, no newline
            #expect(ProcBytes.integer(forKey: "Rss", in: b) == nil)    // "RssAnon" is another key
            #expect(ProcBytes.integer(forKey: "Name", in: b) == nil)   // not a number
            #expect(ProcBytes.integer(forKey: "VmSwap", in: b) == nil) // absent
        }
        withBytes("") { #expect(ProcBytes.integer(forKey: "Rss", in: $0) == nil) }
        withBytes("rchar: 4096\nread_bytes: 0\n") { b in
            #expect(ProcBytes.integer(forKey: "rchar", in: b) == 4096)
            #expect(ProcBytes.integer(forKey: "read_bytes", in: b) == 0)
        }
    }

    @Test func linesAndText() {
        withBytes("[<0>] do_nanosleep+0x6c/0x1a0\n  [<0>] x+0x1  \n\n") {
            #expect(ProcBytes.trimmedLines($0) == ["[<0>] do_nanosleep+0x6c/0x1a0", "[<0>] x+0x1"])
        }
        withBytes(" 230 0x0 0x1\n") { #expect(ProcBytes.trimmedText($0) == "230 0x0 0x1") }
        withBytes("hrtimer_nanosleep") { b in
            #expect(ProcBytes.equals(b, 0, b.count, "hrtimer_nanosleep"))
            #expect(!ProcBytes.equals(b, 0, b.count, "hrtimer"))
        }
    }

    @Test func preadRereadsAndGrows() throws {
        let dir = CaptureTestSupport.makeTempDir()
        defer { CaptureTestSupport.removeTree(dir) }
        let big = String(repeating: "x", count: 10_000) + "\n"
        try CaptureSys.writeFile(dir + "/f", big)
        let fd = open(dir + "/f", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let r = ProcReader(capacity: 16)
        #expect(r.pread(fd) == big.utf8.count)   // grew from 16 bytes, not truncated
        #expect(r.pread(fd) == big.utf8.count)   // offset 0 again
        // A procfs file re-read through one fd gives fresh content each time.
        let sfd = ProcReader.open(at: AT_FDCWD, "/proc/self/stat")
        #expect(sfd >= 0)
        defer { close(sfd) }
        let n = r.pread(sfd)
        #expect(n > 0 && ProcBytes.parseStat(r.bytes(n))?.pid == getpid())
        #expect(ProcReader.open(at: AT_FDCWD, "/proc/self/no-such-file") == -ENOENT)
    }

    @Test func refreshSchedule() {
        #expect(ProcfsSampler.refreshEvery(intervalSeconds: 0.1) == 10)
        #expect(ProcfsSampler.refreshEvery(intervalSeconds: 0.3) == 3)
        #expect(ProcfsSampler.refreshEvery(intervalSeconds: 2) == 1)
        #expect(ProcfsSampler.plannedSamples(intervalSeconds: 0.1, durationSeconds: 1) == 10)
        #expect(ProcfsSampler.plannedSamples(intervalSeconds: 0.1, durationSeconds: 5) == 50)
        let refreshed = (1...25).filter { ProcfsSampler.isRefresh(sample: $0, planned: 25, every: 10) }
        #expect(refreshed == [1, 10, 20, 25])
    }

    /// Where each fd of this process points (other tests run in parallel, so tests look
    /// only at the paths of their own thread, or at the fds the session reported).
    static func fdLinks() -> [Int32: String] {
        var out: [Int32: String] = [:]
        for name in CaptureSys.listDirectory("/proc/self/fd").0 ?? [] {
            if let fd = Int32(name), let l = CaptureSys.readLink("/proc/self/fd/" + name) {
                out[fd] = String(decoding: l, as: UTF8.self)
            }
        }
        return out
    }

    @Test func sessionClosesFilesOfVanishedThreadsAndAtTheEnd() throws {
        let id = try ProcessIdentity.read(pid: getpid())
        let s = ProcfsSampler.Session(pid: getpid())
        #expect(s.read(identity: id, at: 0, baseline: true, slow: false) == nil)
        let tidsBefore = Set(s.threads.map(\.tid))
        var t = pthread_t()
        Self.release.store(false, ordering: .sequentiallyConsistent)
        #expect(pthread_create(&t, nil, { _ in ProcBytesTests.parkUntilReleased(); return nil }, nil) == 0)
        #expect(s.read(identity: id, at: 1, baseline: false, slow: true) == nil)
        // Threads new since the baseline (ours, maybe others' too) and the fds this session
        // holds for them. Other tests may hold the same paths open, so check fd numbers: once
        // a thread is gone nobody can open its files again, so a closed number cannot come
        // back pointing at the same path.
        let born = s.threads.filter { !tidsBefore.contains($0.tid) }
        func fds(_ t: ProcfsSampler.ThreadSlot) -> [Int32] {
            [t.statFD, t.wchanFD, t.statusFD, t.stackFD, t.syscallFD].filter { $0 >= 0 }
        }
        let bornFDs: [Int32] = born.flatMap(fds)
        #expect(bornFDs.count >= 2 * born.count)   // at least stat and wchan each
        let linksBefore = Self.fdLinks()
        let me = try #require(s.threads.first { $0.tid == getpid() })
        #expect(me.wchan != nil && me.voluntary != nil && me.previousTicks != nil)
        Self.release.store(true, ordering: .sequentiallyConsistent)
        pthread_join(t, nil)
        #expect(s.read(identity: id, at: 2, baseline: false, slow: true) == nil)
        let gone = Set(born.map(\.tid).filter { b in !s.threads.contains { $0.tid == b } })
        #expect(!gone.isEmpty)
        let goneFDs: [Int32] = born.filter { gone.contains($0.tid) }.flatMap(fds)
        let linksAfter = Self.fdLinks()
        let stillOpen = goneFDs.filter { linksAfter[$0] != nil && linksAfter[$0] == linksBefore[$0] }
        #expect(stillOpen.isEmpty, "files of vanished threads still open: \(stillOpen.map { linksAfter[$0] ?? "" })")
        // Closing releases every fd the session held.
        let held = s.openFiles
        let before = Self.fdLinks()
        #expect(held.allSatisfy { before[$0]?.hasPrefixBytes("/proc/") == true })
        s.close()
        #expect(s.openFiles.isEmpty)
        let after = Self.fdLinks()
        #expect(held.allSatisfy { after[$0] == nil || after[$0] != before[$0] }, "fds left open after close")
    }

    @Test func sessionStaysWithinItsFdBudget() throws {
        let id = try ProcessIdentity.read(pid: getpid())
        let s = ProcfsSampler.Session(pid: getpid())
        defer { s.close() }
        s.fdBudget = 3   // already holds /proc/PID, task and stat: the rest is read one-shot
        #expect(s.read(identity: id, at: 0, baseline: true, slow: false) == nil)
        #expect(s.read(identity: id, at: 1, baseline: false, slow: true) == nil)
        #expect(s.held <= 3 && !s.threads.isEmpty)
        let me = try #require(s.threads.first { $0.tid == getpid() })
        #expect(me.wchan != nil && me.voluntary != nil && me.previousTicks != nil)
    }

    /// Atomic: written by the new thread, read by the test (TSan saw a race).
    static let bornTid = Atomic<Int32>(0)
    /// Set by a test to let its extra thread exit: the thread lives until the test has read it.
    static let release = Atomic<Bool>(false)
    static func parkUntilReleased() {
        while !release.load(ordering: .sequentiallyConsistent) { usleep(1000) }
    }

    @Test func threadBornBetweenFastReadingsIsFoundAtTheNextOne() throws {
        let id = try ProcessIdentity.read(pid: getpid())
        let s = ProcfsSampler.Session(pid: getpid())
        defer { s.close() }
        #expect(s.read(identity: id, at: 0, baseline: true, slow: false) == nil)
        #expect(s.read(identity: id, at: 1, baseline: false, slow: false) == nil)
        var t = pthread_t()
        Self.bornTid.store(0, ordering: .sequentiallyConsistent)
        Self.release.store(false, ordering: .sequentiallyConsistent)
        #expect(pthread_create(&t, nil, { _ in
            // readlink /proc/thread-self = "PID/task/TID"
            let link = String(decoding: CaptureSys.readLink("/proc/thread-self") ?? [], as: UTF8.self)
            ProcBytesTests.bornTid.store(Int32(link.split(separator: "/").last ?? "") ?? -1, ordering: .sequentiallyConsistent)
            ProcBytesTests.parkUntilReleased(); return nil
        }, nil) == 0)
        defer { Self.release.store(true, ordering: .sequentiallyConsistent); pthread_join(t, nil) }
        #expect(Poll.until { Self.bornTid.load(ordering: .sequentiallyConsistent) != 0 })
        let tid = Self.bornTid.load(ordering: .sequentiallyConsistent)
        #expect(tid > 0)
        // This reading's stat shows one more thread than held; the next one lists the tasks.
        #expect(s.read(identity: id, at: 2, baseline: false, slow: false) == nil)
        #expect(s.read(identity: id, at: 3, baseline: false, slow: false) == nil)
        let slot = s.threads.first { $0.tid == tid }
        #expect(slot != nil && slot?.baseTicks == 0)   // born during the capture: counts from 0
    }

    @Test func sessionRefusesAnotherStartTime() throws {
        var id = try ProcessIdentity.read(pid: getpid())
        id.startTimeTicks &+= 1   // as if the pid had been reused by a later process
        let s = ProcfsSampler.Session(pid: getpid())
        defer { s.close() }
        let why = s.read(identity: id, at: 0, baseline: true, slow: false)
        #expect(why?.contains("reused") == true, "\(why ?? "nil")")
    }
}
