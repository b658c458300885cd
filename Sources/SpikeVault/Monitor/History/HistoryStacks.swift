#if canImport(Glibc)
import Glibc
#endif

/// One stack snapshot of a process kept in its ring: folded stacks (`root;…;leaf` → threads),
/// each thread's stack rooted at `[on-cpu]` or `[off-cpu]` by its state before the snapshot.
struct StackSnapshot {
    var timeMs: Int64
    var stacks: [String: Int]
    /// Estimated bytes: the keys' UTF-8 plus 48 per entry and 64 for the snapshot.
    var footprint: Int

    init(timeMs: Int64, stacks: [String: Int]) {
        self.timeMs = timeMs
        self.stacks = stacks
        footprint = 64 + stacks.keys.reduce(0) { $0 + 48 + $1.utf8.count }
    }
}

/// The optional low-rate stacks of the history: its own library thread takes an `eu-stack`
/// snapshot of each process whose matching capturing rule asks for history stacks, every
/// that many seconds, and hands it to the store (kept, aged and capped with the process's
/// ring; a fired capture gets them as `history.folded`). A snapshot ptrace-stops the target
/// for its duration (about 10-20 ms for a small process), which is why the interval is at least
/// 0.5 s. The tool runs with an argv array in its own process group; its output goes to a
/// scratch directory under the vault (`work/`), removed at stop.
final class HistoryStackSampler: @unchecked Sendable {
    private let store: HistoryStore
    private let workDirectory: WorkDirectory
    private let cancel = CancelFlag()
    private let cond = Condition()
    private var stopping = false
    private var thread: WorkerThread?

    init(store: HistoryStore, vaultPath: String) throws {
        self.store = store
        self.workDirectory = try WorkDirectory.create(in: vaultPath)
        do { thread = try WorkerThread { [self] in run() } } catch { workDirectory.remove(); throw error }
    }

    /// Stops the thread (killing a running snapshot) and removes the scratch directory.
    func stop() {
        cond.withLock { stopping = true; cond.broadcast() }
        cancel.cancel()
        thread?.join()
        thread = nil
        workDirectory.remove()
    }

    private func run() {
        let out = workDirectory.path + "/history-stack.txt"
        let err = workDirectory.path + "/history-stack.err"
        while true {
            let stop: Bool = cond.withLock {
                if !stopping { cond.wait(until: Posix.monotonicNanoseconds() &+ 250_000_000) }
                return stopping
            }
            if stop { return }
            for (pid, start) in store.dueForStacks(nowMs: Int64(CaptureSys.unixSeconds() * 1000)) {
                if cond.withLock({ stopping }) { return }
                snapshot(pid: pid, startTime: start, out: out, err: err)
            }
        }
    }

    private func snapshot(pid: Int32, startTime: UInt64, out: String, err: String) {
        let timeMs = Int64(CaptureSys.unixSeconds() * 1000)
        let states = SnapshotBackend.threadStates(pid: pid)
        let tool = SnapshotBackend.Tool.euStack
        guard let res = try? ToolRunner.run(tool.argv(pid: pid), stdoutPath: out, stderrPath: err,
                                            timeoutSeconds: 10, cancel: cancel) else {
            store.stackFailed(pid: pid, startTime: startTime, timeMs: timeMs, reason: "eu-stack could not be started (is elfutils installed?)")
            return
        }
        let stacks = tool.parse(CaptureSys.readText(out) ?? "")
        // A pid that changed hands while the tool ran is not the process the ring belongs to.
        guard ProcessSampler.identity(pid: pid)?.startTime == startTime, !res.cancelled else { return }
        guard !stacks.isEmpty else {
            let why = SnapshotBackend.lastLines(CaptureSys.readText(err) ?? "")
            store.stackFailed(pid: pid, startTime: startTime, timeMs: timeMs, reason: "eu-stack \(res.summary): \(why)")
            return
        }
        var folded = FoldedStacks()
        for s in stacks {
            let state = s.tid.flatMap { states[$0] }
            folded.add([OnOffCPUFolder.isOnCPU(state) ? "[on-cpu]" : "[off-cpu]"] + s.rootFirst)
        }
        store.addStacks(pid: pid, startTime: startTime, StackSnapshot(timeMs: timeMs, stacks: folded.counts))
    }
}
