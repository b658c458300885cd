/// One asynchronous capture: queued, then running on a library worker, then finished with a
/// record or an error. Its completion handler runs exactly once, on a library worker thread
/// (or on the closing thread for jobs cancelled while still queued), and `wait` returns only
/// after it has returned, so a host may free what the handler uses as soon as `wait` does.
public final class CaptureJob: @unchecked Sendable {
    public enum State: Sendable { case queued, running, finished }

    public let request: CaptureRequest
    /// Stored with the capture's own artefacts (a monitor firing's `history.json`).
    let extraArtefacts: [NewArtefact]
    let cancelFlag = CancelFlag()
    private let condition = Condition()
    private var state = State.queued
    private var outcome: Result<ProfileRecord, SpikeVaultError>?
    private let completion: (@Sendable (CaptureJob) -> Void)?

    init(request: CaptureRequest, extraArtefacts: [NewArtefact] = [], completion: (@Sendable (CaptureJob) -> Void)?) {
        self.request = request
        self.extraArtefacts = extraArtefacts
        self.completion = completion
    }

    public var currentState: State { condition.withLock { state } }

    /// The result once finished, else nil.
    public var result: Result<ProfileRecord, SpikeVaultError>? { condition.withLock { outcome } }

    /// Asks the capture to stop; a queued job never starts, a running one stops its tools.
    /// It then finishes with `.cancelled`. Idempotent; no effect once finished.
    public func cancel() { cancelFlag.cancel() }

    /// Blocks until the job finishes (its completion handler included) or `timeoutSeconds`
    /// passes (nil: no limit). Returns the result, or nil on timeout. Do not call from the job's
    /// own completion handler.
    public func wait(timeoutSeconds: Double? = nil) -> Result<ProfileRecord, SpikeVaultError>? {
        let deadline = timeoutSeconds.map { Posix.monotonicNanoseconds() &+ UInt64(max(0, $0) * 1e9) }
        return condition.withLock {
            while state != .finished {
                if !condition.wait(until: deadline) && Posix.monotonicNanoseconds() >= (deadline ?? .max) { break }
            }
            return state == .finished ? outcome : nil
        }
    }

    func markRunning() -> Bool {
        condition.withLock {
            guard state == .queued else { return false }
            state = .running
            return true
        }
    }

    /// Records the result, calls the completion handler (outside the lock), then marks the
    /// job finished and wakes waiters. Only the first call has any effect.
    func finish(_ result: Result<ProfileRecord, SpikeVaultError>) {
        let first = condition.withLock { () -> Bool in
            guard outcome == nil else { return false }
            outcome = result
            return true
        }
        guard first else { return }
        completion?(self)
        condition.withLock {
            state = .finished
            condition.broadcast()
        }
    }
}
