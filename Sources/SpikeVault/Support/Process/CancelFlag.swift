import Synchronization

/// A cancellation flag shared between the thread that runs a capture and its controller.
/// Setting it is idempotent; capture loops and `ToolRunner` check it while they wait.
public final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func cancel() { flag.store(true, ordering: .releasing) }

    public var isCancelled: Bool { flag.load(ordering: .acquiring) }
}
