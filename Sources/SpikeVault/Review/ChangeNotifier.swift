import Synchronization

/// Tells observers that the vault's set of captures changed: a capture was saved, or rows were
/// deleted (deleteOlderThan, retention). `generation` counts changes; observers are called
/// on the thread that made the change, after its transaction committed, with no vault lock
/// held, and must return promptly (hop to your own queue or actor).
public final class ChangeNotifier: Sendable {
    public enum Change: Sendable, Equatable { case saved(id: Int64), removed(count: Int) }

    private struct State {
        var generation: UInt64 = 0
        var nextToken = 0
        var observers: [Int: @Sendable (Change) -> Void] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Adds an observer; keep the token to remove it.
    @discardableResult
    public func addObserver(_ body: @escaping @Sendable (Change) -> Void) -> Int {
        state.withLock { s in
            s.nextToken += 1
            s.observers[s.nextToken] = body
            return s.nextToken
        }
    }

    public func removeObserver(_ token: Int) { state.withLock { _ = $0.observers.removeValue(forKey: token) } }

    func post(_ change: Change) {
        let observers = state.withLock { s in
            s.generation &+= 1
            return Array(s.observers.values)
        }
        for o in observers { o(change) }
    }
}
