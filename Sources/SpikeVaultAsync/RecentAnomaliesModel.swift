import Observation
import SpikeVault

/// The seed design's `RecentProfilesViewModel`: the last `limit` captures matching `filter`,
/// kept current as captures land or retention removes them, for SwiftUI (or any
/// Observation-based) hosts.
///
/// Lives in its own target so libspikevault.so does not link Observation. Queries run on a
/// detached task, never on the main actor; results are applied on the main actor, newest
/// query wins (a slower, older query never overwrites a newer result).
@MainActor
@Observable
public final class RecentAnomaliesModel {
    public private(set) var records: [ProfileRecord] = []
    public private(set) var lastError: SpikeVaultError?
    /// Refreshes applied so far (for hosts and tests that want to wait for one).
    public private(set) var refreshes = 0
    public var filter: RecordFilter { didSet { requestRefresh() } }
    public let limit: Int

    @ObservationIgnored private let vault: Vault
    @ObservationIgnored private let observerToken: Int
    @ObservationIgnored private var issued = 0
    @ObservationIgnored private var applied = 0

    public init(vault: Vault, filter: RecordFilter = RecordFilter(), limit: Int = 50) {
        self.vault = vault
        self.filter = filter
        self.limit = max(0, limit)
        // Posted on the thread that saved or deleted: hop to the main actor, do nothing there
        // but start a background query.
        let box = WeakBox()
        observerToken = vault.changes.addObserver { _ in
            Task { @MainActor in box.model?.requestRefresh() }
        }
        box.model = self
        requestRefresh()
    }

    deinit { vault.changes.removeObserver(observerToken) }

    /// Starts a refresh and returns at once.
    public func requestRefresh() {
        Task { await self.refresh() }
    }

    /// Queries in the background and applies the result; returns when it has been applied.
    public func refresh() async {
        issued += 1
        let ticket = issued
        var f = filter
        f.limit = limit
        let vault = self.vault
        let result: Result<[ProfileRecord], SpikeVaultError> = await Task.detached {
            do { return .success(try vault.query(f)) }
            catch let e as SpikeVaultError { return .failure(e) }
            catch { return .failure(SpikeVaultError(.internalError, "\(error)")) }
        }.value
        guard ticket > applied else { return }
        applied = ticket
        switch result {
        case .success(let r):
            if r != records { records = r }
            lastError = nil
        case .failure(let e):
            lastError = e
        }
        refreshes += 1
    }
}

@MainActor
private final class WeakBox {
    weak var model: RecentAnomaliesModel?
}
