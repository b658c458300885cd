/// One background write (a save, a purge or a maintenance pass) queued on the vault's writer
/// thread. Its completion handler runs exactly once, on the writer thread (or on the thread
/// that cancels it while queued), and `wait` returns only after the handler has returned.
/// The result is the new capture id (save), the captures deleted (purge) or the captures
/// purged in all (maintain).
public final class WriteJob: @unchecked Sendable {
    public enum Kind: Sendable { case save, purge, maintain }

    public let kind: Kind
    private let condition = Condition()
    private var outcome: Result<Int64, SpikeVaultError>?
    private var finished = false
    private var cancelled = false
    private let work: @Sendable () -> Result<Int64, SpikeVaultError>
    private let completion: (@Sendable (WriteJob) -> Void)?

    init(kind: Kind, work: @escaping @Sendable () -> Result<Int64, SpikeVaultError>,
         completion: (@Sendable (WriteJob) -> Void)?) {
        self.kind = kind
        self.work = work
        self.completion = completion
    }

    /// The result once finished, else nil.
    /// (Set before the completion handler runs, so the handler can read it.)
    public var result: Result<Int64, SpikeVaultError>? { condition.withLock { outcome } }

    /// A job still queued never runs and finishes with `.cancelled`; a running one completes.
    public func cancel() { condition.withLock { cancelled = true } }

    /// Blocks until the job (its completion handler included) finishes or `timeoutSeconds`
    /// passes (nil: no limit); nil on timeout. Not from the job's own completion handler.
    public func wait(timeoutSeconds: Double? = nil) -> Result<Int64, SpikeVaultError>? {
        let deadline = timeoutSeconds.map { Posix.monotonicNanoseconds() &+ UInt64(max(0, $0) * 1e9) }
        return condition.withLock {
            while !finished {
                if !condition.wait(until: deadline) && Posix.monotonicNanoseconds() >= (deadline ?? .max) { break }
            }
            return finished ? outcome : nil
        }
    }

    /// Runs the work unless cancelled, then the completion handler.
    func run() {
        let skip = condition.withLock { cancelled }
        finish(skip ? .failure(SpikeVaultError(.cancelled, "background write cancelled before it started")) : work())
    }

    func finish(_ result: Result<Int64, SpikeVaultError>) {
        let first = condition.withLock { () -> Bool in
            guard outcome == nil else { return false }
            outcome = result
            return true
        }
        guard first else { return }
        completion?(self)
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }
}

/// The vault's writer: one library thread (started on first use) and a bounded FIFO. A full
/// queue is refused at once with `.busy`, so a host thread never waits for the disk; `drain`
/// runs every accepted job before it returns (close drains, it does not cancel).
final class WriteQueue: @unchecked Sendable {
    private let condition = Condition()
    private var queue: [WriteJob] = []
    private var head = 0
    private var thread: WorkerThread?
    private var stopping = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Jobs accepted and not yet started.
    var pending: Int { condition.withLock { queue.count - head } }

    func submit(_ job: WriteJob) throws {
        try condition.withLock {
            guard !stopping else { throw SpikeVaultError(.closed, "the vault is closing; no new background writes") }
            guard queue.count - head < capacity else {
                throw SpikeVaultError(.busy, "background write queue is full (\(capacity) waiting, SV_OPT_WRITE_QUEUE_CAPACITY); try again later")
            }
            // The thread keeps the queue alive: a vault released on the writer thread itself
            // (its last reference held by a job) must not free the queue under the loop.
            if thread == nil { thread = try WorkerThread { [self] in self.workLoop() } }
            queue.append(job)
            condition.broadcast()
        }
    }

    private var writer: pthread_t?

    private func workLoop() {
        condition.withLock { writer = pthread_self() }
        while true {
            let next: WriteJob? = condition.withLock {
                while head == queue.count && !stopping { condition.wait(until: nil) }
                guard head < queue.count else { return nil }
                let job = queue[head]
                head += 1
                // Compact now and then so the array does not grow without bound.
                if head > 1024 && head * 2 > queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                return job
            }
            guard let job = next else { return }
            job.run()
        }
    }

    /// Refuses new jobs, lets the writer finish every accepted one, and joins it (`wait`
    /// false, or called on the writer itself, e.g. from a completion handler: the writer is
    /// detached, finishes the queue and exits on its own). The thread is taken out here, once:
    /// that breaks the queue -> thread -> loop -> queue cycle, and a second drain finds nothing
    /// to join or detach.
    func drain(wait: Bool = true) {
        let (worker, onWriter) = condition.withLock { () -> (WorkerThread?, Bool) in
            stopping = true
            condition.broadcast()
            defer { thread = nil }
            return (thread, writer.map { pthread_equal($0, pthread_self()) != 0 } ?? false)
        }
        guard let worker else { return }
        if wait && !onWriter { worker.join() } else { worker.detach() }
    }
}
