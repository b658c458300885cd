import Foundation
import Testing
@testable import SpikeVault
import SpikeVaultAsync

@Suite struct ProfileStoreTests {
    @Test func seedAPIFromAnAsyncContext() async throws {
        let dir = TempDir()
        let store = try SQLiteProfileStore(path: dir.path + "/v", options: testOptions())
        defer { store.vault.close() }
        try await store.migrateIfNeeded()
        let old = try await store.save(record: sampleRecord(at: 1_000), artefacts: [NewArtefact(kind: "a", bytes: bytes("x"))])
        let new = try await store.save(record: sampleRecord(), artefacts: [])
        #expect(try await store.fetchRecent(limit: 10).map(\.id) == [new.id, old.id])
        #expect(try await store.deleteOlderThan(date: Timestamp(milliseconds: 2_000)) == 1)
        #expect(try await store.fetchRecent(limit: 10).map(\.id) == [new.id])
    }

    /// While the vault's lock is held elsewhere, a fetch started on the main actor must leave
    /// the main actor free to run other work: it waits off the actor.
    @MainActor @Test func doesNotBlockTheMainActor() async throws {
        let dir = TempDir()
        let store = try SQLiteProfileStore(path: dir.path + "/v")
        defer { store.vault.close() }
        let release = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? store.vault.withDatabase { _ in
                holding.signal()
                release.wait()
                return 0
            }
        }
        holding.wait()
        let fetch = Task { @MainActor in try await store.fetchRecent(limit: 5) }
        var mainActorTurns = 0
        for _ in 0..<50 {
            await Task.yield()
            mainActorTurns += 1
        }
        release.signal()
        _ = try await fetch.value
        #expect(mainActorTurns == 50)
    }
}
