/// Off-CPU stacks from perf's `sched:sched_switch` samples: each switch-out of a target
/// thread that blocks (prev_state not `R`, i.e. not a preemption) opens an interval that ends
/// at the thread's next recorded event (its next cpu-clock sample or switch-out), which is
/// when it ran again, at most one sample period late for a thread that then runs. The stack
/// at the switch-out is weighted by that blocked time in MICROSECONDS. A blocked interval
/// still open when the recording ends is closed at the last timestamp of the recording.
/// Kernel frames below the user stack are kept (marked `_[k]`): they say what it waits on.
public struct OffCPUFolder {
    public private(set) var folded = FoldedStacks()
    public private(set) var switches = 0
    public private(set) var blockedMicroseconds = 0

    public init() {}

    public mutating func add(_ samples: [PerfSample]) {
        var open: [Int32: (time: Double, stack: [String])] = [:]
        var lastTime = 0.0
        for s in samples {
            guard let tid = s.tid, let t = s.time else { continue }
            lastTime = max(lastTime, t)
            if let o = open.removeValue(forKey: tid) { close(o.stack, from: o.time, to: t) }
            if s.isSchedSwitch {
                let state = s.prevState ?? ""
                if !state.hasPrefix("R") { open[tid] = (t, s.framesLeafFirst.reversed()) }
            }
        }
        for (_, o) in open.sorted(by: { $0.key < $1.key }) { close(o.stack, from: o.time, to: lastTime) }
    }

    private mutating func close(_ stack: [String], from: Double, to: Double) {
        switches += 1
        let us = Int(((to - from) * 1_000_000).rounded())
        guard us > 0 else { return }
        folded.add(stack, count: us)
        blockedMicroseconds.addSaturating(us)
    }
}
