import Testing
import Glibc
@testable import SpikeVault

// perf script -F tid,time,event,trace,ip,sym,dso output of the test program on this machine
// (perf 6.1), recorded with -e cpu-clock -e sched:sched_switch.
let perfFidelityFixture = """
11175  1489.132190:          cpu-clock: 
\t            1185 spikevault_hot_spin+0x15 (/tmp/fid/hot)
\t           891f5 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)

11176  1489.154988: sched:sched_switch: prev_comm=hot prev_pid=11176 prev_prio=120 prev_state=S ==> next_comm=hot next_pid=11174 next_prio=120
\tffffffff82267448 __schedule ([kernel.kallsyms])
\tffffffff8226ee1e do_nanosleep+0x4e ([kernel.kallsyms])
\t           cf545 clock_nanosleep@GLIBC_2.2.5+0x65 (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           891f5 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)

11175  1489.155006: sched:sched_switch: prev_comm=hot prev_pid=11175 prev_prio=120 prev_state=R ==> next_comm=x next_pid=1 next_prio=120
\tffffffff82267448 __schedule ([kernel.kallsyms])
\t            1185 spikevault_hot_spin (/tmp/fid/hot)

11175  1489.157000:          cpu-clock: 
\t            1185 spikevault_hot_spin (/tmp/fid/hot)
\t            7f00 [unknown] ([unknown])

11176  1489.174988:          cpu-clock: 
\t           cf545 __libc_start_main@@GLIBC_2.34 (/usr/lib/x86_64-linux-gnu/libc.so.6)

11176  1489.175000: sched:sched_switch: prev_comm=hot prev_pid=11176 prev_prio=120 prev_state=D ==> next_comm=hot next_pid=11174 next_prio=120
\tffffffff82267448 __schedule ([kernel.kallsyms])
\t            1200 read_disk (/tmp/fid/hot)

  175  1489.180000:          cpu-clock: 
\t            1185 spikevault_hot_spin (/tmp/fid/hot)

"""

@Suite struct FidelityParserTests {
    @Test func frameNamesAreCleaned() {
        #expect(FrameName.clean("clock_nanosleep@GLIBC_2.2.5") == "clock_nanosleep")
        #expect(FrameName.clean("__libc_start_main@@GLIBC_2.34") == "__libc_start_main")
        #expect(FrameName.clean("foo@GLIBC_2.2.5+0x65") == "foo")
        #expect(FrameName.clean("bar+0x1a") == "bar")
        #expect(FrameName.clean("bar+0xzz") == "bar+0xzz")
        #expect(FrameName.clean("std::vector<int>::push_back(int const&)") == "std::vector<int>::push_back(int const&)")
        #expect(FrameName.clean("operator@(a b)") == "operator@(a b)")  // not a version suffix
        #expect(FrameName.clean("@GLIBC_2.2.5") == "@GLIBC_2.2.5")
        #expect(FrameName.clean("??") == "[unknown]")
        #expect(FrameName.clean("") == "[unknown]")
        #expect(FrameName.clean("0x00007f12ab") == "[unknown]")
        #expect(FrameName.clean("__schedule"[...], dso: "[kernel.kallsyms]") == "__schedule_[k]")
        #expect(FrameName.clean("do_nanosleep+0x4e"[...], dso: nil, address: "ffffffff8226ee1e") == "do_nanosleep_[k]")
        #expect(FrameName.clean("[unknown]"[...], dso: "[kernel.kallsyms]") == "[unknown]")
        #expect(FrameName.clean("main"[...], dso: "/usr/bin/app", address: "1185") == "main")
    }

    @Test func perfSamplesCarryEventTimeAndCleanFrames() {
        let s = PerfScriptParser.parseSamples(perfFidelityFixture)
        #expect(s.count == 7)
        #expect(s[0].tid == 11175 && s[0].event == "cpu-clock" && s[0].time == 1489.132190)
        #expect(s[0].framesLeafFirst == ["spikevault_hot_spin", "start_thread"])
        #expect(s[1].isSchedSwitch && s[1].prevState == "S")
        #expect(s[1].framesLeafFirst == ["__schedule_[k]", "do_nanosleep_[k]", "clock_nanosleep", "start_thread"])
        #expect(s[2].prevState == "R")
        #expect(s[3].framesLeafFirst == ["spikevault_hot_spin", "[unknown]"])
        #expect(s[4].framesLeafFirst == ["__libc_start_main"])
        #expect(s[6].tid == 175 && s[6].framesLeafFirst == ["spikevault_hot_spin"])  // space-padded tid
        // The default format (comm and period before the event) still parses.
        let old = PerfScriptParser.parseSamples(perfFixture)
        #expect(old.map(\.tid) == [3077, 3076, 3078] && old.allSatisfy { $0.event == "cpu-clock:ppp" })
        #expect(old[2].framesLeafFirst == ["[unknown]", "std::vector<int>::push_back(int const&)"])
    }

    @Test func offCPUIsBlockedTimeInMicrosecondsPerStack() {
        var f = OffCPUFolder()
        f.add(PerfScriptParser.parseSamples(perfFidelityFixture))
        // S at .154988 until the tid's next event at .174988: 20000 µs. The R (preempted)
        // switch is not blocked time. D at .175000 stays open to the end (.180000): 5000 µs.
        #expect(f.folded.lines == [
            "read_disk;__schedule_[k] 5000",
            "start_thread;clock_nanosleep;do_nanosleep_[k];__schedule_[k] 20000",
        ])
        #expect(f.blockedMicroseconds == 25000 && f.switches == 2)
    }

    @Test func pySpyFramesBecomeFileColonFunction() {
        #expect(PySpyBackend.frame("spikevault_py_hot (busy.py:4)") == "busy.py:spikevault_py_hot")
        #expect(PySpyBackend.frame("<module> (busy.py)") == "busy.py:<module>")
        #expect(PySpyBackend.frame("run (threading.py:1045)") == "threading.py:run")
        #expect(PySpyBackend.frame("0x7f525a44524a (libc.so.6)") == "[unknown]")
        #expect(PySpyBackend.frame("_PyEval_EvalFrameDefault (libpython3.11.so.1.0)") == "_PyEval_EvalFrameDefault")
        #expect(PySpyBackend.frame("clock_nanosleep@GLIBC_2.2.5 (libc.so.6)") == "clock_nanosleep")
        let f = PySpyBackend.fold("0x7f525a44524a (libc.so.6);<module> (busy.py:9);spikevault_py_hot (busy.py:4) 27\n<module> (busy.py:9);spikevault_py_hot (busy.py:5) 72\nbad line\n")
        #expect(f.totalSamples == 99)
        #expect(f.samples(containingFrame: "busy.py:spikevault_py_hot") == 99)
        #expect(PySpyBackend.isPythonName("python3.11") && PySpyBackend.isPythonName("python3") && !PySpyBackend.isPythonName("pythonista"))
    }

    @Test func perfAccessDecision() {
        let root = PerfAccess.decide(euid: 0, capEff: 0, paranoid: 3, schedTracepointExists: true)
        #expect(root.allowed && root.tracepoints && root.reason == nil)
        let refused = PerfAccess.decide(euid: 1000, capEff: 0, paranoid: 3, schedTracepointExists: true)
        #expect(!refused.allowed && refused.reason?.contains("perf_event_paranoid is 3") == true)
        let user = PerfAccess.decide(euid: 1000, capEff: 0, paranoid: 2, schedTracepointExists: true)
        #expect(user.allowed && !user.tracepoints && user.reason?.contains("off-CPU") == true)
        let perfmon = PerfAccess.decide(euid: 1000, capEff: 1 << 38, paranoid: 3, schedTracepointExists: true)
        #expect(perfmon.allowed && perfmon.tracepoints)
        #expect(!PerfAccess.decide(euid: 0, capEff: nil, paranoid: nil, schedTracepointExists: false).allowed)
        // Probed once per context.
        let calls = Mutex2()
        let ctx = CaptureContext { calls.bump(); return root }
        _ = ctx.perfAccess(); _ = ctx.perfAccess()
        #expect(calls.count == 1)
    }

    @Test func perfEndsThatAreNotFailures() {
        func r(_ exit: Int32?, _ sig: Int32?, host: Bool = false, timedOut: Bool = false) -> ToolResult {
            ToolResult(exitStatus: exit, signal: sig, timedOut: timedOut, cancelled: false, elapsedSeconds: 1, reapedByHost: host)
        }
        #expect(PerfBackend.finished(r(0, nil), outputComplete: false))
        #expect(PerfBackend.finished(r(nil, nil, host: true), outputComplete: true))   // ECHILD, output complete
        #expect(!PerfBackend.finished(r(nil, nil, host: true), outputComplete: false))
        #expect(PerfBackend.finished(r(nil, SIGTERM), outputComplete: true))          // target exited first
        #expect(!PerfBackend.finished(r(nil, SIGKILL), outputComplete: true))
        #expect(!PerfBackend.finished(r(255, nil), outputComplete: true))
        #expect(!PerfBackend.finished(r(nil, SIGTERM, timedOut: true), outputComplete: true))
        #expect(r(nil, nil, host: true).summary.contains("reaped by the host"))
    }

    @Test func childEnvironmentOverridesOnlyTheChild() {
        let env = ToolRunner.childEnvironment(overrides: ["HOME": "/x", "SV_NEW_VAR": "1"])
        #expect(env.filter { $0.hasPrefix("HOME=") } == ["HOME=/x"])
        #expect(env.contains("SV_NEW_VAR=1"))
        #expect(getenv("SV_NEW_VAR") == nil)
    }
}

final class Mutex2: @unchecked Sendable {
    private let lock = NSLockish()
    private var n = 0
    func bump() { lock.run { n += 1 } }
    var count: Int { lock.run { n } }
}

import Synchronization
final class NSLockish: Sendable {
    private let m = Mutex<Void>(())
    func run<R>(_ body: () -> R) -> R { m.withLock { _ in body() } }
}
