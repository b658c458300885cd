/// Items made on a worker thread while the calling thread uses the ones before, at most
/// `depth` ahead: an export reads its next page from SQLite while this one is redacted,
/// formatted and written (on two cores the two halves overlap; an export is about half each).
///
/// `consume` runs on the calling thread, in order. An error from `produce` reaches the caller
/// after the items made before it; an error from `consume` (a closed pipe) stops `produce` at
/// its next item. The worker has ended when `run` returns.
public final class Prefetch<Item: Sendable>: @unchecked Sendable {  // state guarded by `cond`
    private let cond = Condition()
    private var queue: [Item] = []  // at most `depth`: removeFirst is cheap
    private var finished = false
    private var stopped = false
    private var failure: (any Error)?
    private let depth: Int

    private init(depth: Int) { self.depth = depth }

    /// `produce` calls `emit` per item; `emit` returns false once the consumer has stopped
    /// (then `produce` should return).
    public static func run(depth: Int = 2, produce: @escaping @Sendable (_ emit: (Item) -> Bool) throws -> Void,
                    consume: (Item) throws -> Void) throws {
        let p = Prefetch(depth: depth)
        let worker = try WorkerThread {
            do { try produce { p.put($0) } } catch { p.fail(error) }
            p.finish()
        }
        defer {
            p.stop()
            worker.join()
        }
        while let item = try p.take() { try consume(item) }
    }

    private func put(_ item: Item) -> Bool {
        cond.withLock {
            while queue.count >= depth && !stopped { cond.wait(until: nil) }
            guard !stopped else { return false }
            queue.append(item)
            cond.broadcast()
            return true
        }
    }

    private func take() throws -> Item? {
        try cond.withLock {
            while queue.isEmpty && !finished { cond.wait(until: nil) }
            if !queue.isEmpty {
                let item = queue.removeFirst()
                cond.broadcast()
                return item
            }
            if let failure { throw failure }
            return nil
        }
    }

    private func fail(_ error: any Error) { cond.withLock { failure = error } }

    private func finish() { cond.withLock { finished = true; cond.broadcast() } }

    private func stop() { cond.withLock { stopped = true; queue.removeAll(); cond.broadcast() } }
}

/// Thrown by a producer to end early when `emit` returned false (never reaches a caller).
struct PrefetchStopped: Error {}
