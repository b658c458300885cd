import Glibc
@testable import SpikeVault

/// Tests wait for conditions, never for fixed times: on a loaded machine anything may take
/// longer, so deadlines are generous and only bound a hang.
enum Poll {
    /// Polls `condition` until it holds or `timeout` seconds pass; returns whether it held.
    @discardableResult
    static func until(timeout: Double = 30, every slice: Double = 0.01, _ condition: () throws -> Bool) rethrows -> Bool {
        let end = CaptureSys.monotonicSeconds() + timeout
        while CaptureSys.monotonicSeconds() < end {
            if try condition() { return true }
            CaptureSys.sleep(seconds: slice)
        }
        return try condition()
    }

    /// utime + stime of `pid` in clock ticks (nil once it is gone).
    static func cpuTicks(_ pid: Int32) -> UInt64? {
        guard let s = CaptureSys.readText("/proc/\(pid)/stat").flatMap(ProcStat.parse), !s.hasExited else { return nil }
        return s.utimeTicks + s.stimeTicks
    }

    /// The CPU `pid` actually got, in % of one core, over at least `seconds` of wall time,
    /// from its own /proc counters: what a busy child is measured against (not wall time,
    /// which a loaded machine does not give it).
    static func cpuPercent(_ pid: Int32, over seconds: Double = 1) -> Double? {
        guard let a = cpuTicks(pid) else { return nil }
        let t0 = CaptureSys.monotonicSeconds()
        CaptureSys.sleep(seconds: seconds)
        guard let b = cpuTicks(pid) else { return nil }
        return Double(b - a) / Double(CaptureSys.clockTicksPerSecond) / (CaptureSys.monotonicSeconds() - t0) * 100
    }

    /// A CPU threshold a burner of `pid` reliably exceeds on this machine now: `cap` (the figure
    /// for an idle machine) when it got nearly a core over a second, else half of what it got.
    static func cpuThreshold(for pid: Int32, cap: Double) -> Double {
        let got = cpuPercent(pid) ?? 0
        let threshold = got >= 90 ? cap : min(cap, max(got / 2, 5))
        if threshold < cap { print("note: loaded machine: the burner got \(Int(got))% of a core; CPU threshold \(Int(threshold))% instead of \(Int(cap))%") }
        return threshold
    }
}
