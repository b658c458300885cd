import Foundation
import Synchronization
import Testing
@testable import SpikeVault
import SpikeVaultAsync

private func identifiers<T: Identifiable>(_ items: [T]) -> [T.ID] { items.map(\.id) }

/// The seed design's Swift API with the seed's types (#13, item 4), and the core's
/// background writes behind it (item 3).
@Suite struct SeedAPITests {
    @Test func seedProtocolMethodsWithSeedTypes() async throws {
        let dir = TempDir()
        let store: any SeedProfileStore = try SQLiteSeedProfileStore(path: dir.path + "/v", options: testOptions())
        let concrete = store as! SQLiteSeedProfileStore
        defer { concrete.vault.close() }
        try await store.migrateIfNeeded()
        let profile = URL(fileURLWithPath: dir.file("app.folded", bytes("main;spin 7\n")))
        let old = Date(timeIntervalSince1970: 1_795_000_000.250)
        let saved = try await store.save(record: SeedProfileRecord(
            processName: "Safari", pid: 77, triggerMetric: .cpu, triggerValue: 97.5, capturedAt: old,
            profilePath: profile, durationSeconds: 5, notes: ["reason": "spike", "user": "alice"]))
        #expect(saved.id > 0 && saved.capturedAt == old)
        #expect(saved.notes == ["reason": "spike", "user": "alice"])
        let url = try #require(saved.profilePath)
        #expect(url.isFileURL && url.path.hasPrefix(concrete.vault.path + "/artefacts/"))
        #expect(try concrete.vault.readArtefact(captureID: saved.id) == bytes("main;spin 7\n"))
        let fresh = try await store.save(record: SeedProfileRecord(processName: "Mail", pid: 78, triggerMetric: .memory,
                                                                    triggerValue: 2048))
        #expect(fresh.profilePath == nil && fresh.notes == nil)
        let recent: [SeedProfileRecord] = try await store.fetchRecent(limit: 10)
        #expect(identifiers(recent) == [fresh.id, saved.id])
        // ProfileRecord itself is Identifiable too, with capturedAt as a Date on demand.
        let core = try concrete.vault.recent(limit: 10)
        #expect(identifiers(core) == [fresh.id, saved.id] && core[1].capturedAtDate == old)
        // deleteOlderThan(date:) is strict: a cutoff at the capture's own instant keeps it.
        #expect(try await store.deleteOlderThan(date: old) == 0)
        #expect(try await store.deleteOlderThan(date: old.addingTimeInterval(0.0005)) == 1)
        #expect(identifiers(try await store.fetchRecent(limit: 10)) == [fresh.id])
        // Notes that are not all strings keep the JSON as the truth and give text views.
        let mixed = try concrete.vault.save(ProfileRecord(processName: "x", pid: 1, triggerMetric: .cpu, triggerValue: 1,
                                                          notes: #"{"n":3,"ok":true,"o":{"a":[1]},"s":"t"}"#), artefacts: [])
        #expect(try concrete.seedRecord(mixed).notes == ["n": "3", "ok": "true", "o": #"{"a":[1]}"#, "s": "t"])
        // A missing profile file is the save's error, through the async call.
        await #expect(throws: SpikeVaultError.self) {
            try await store.save(record: SeedProfileRecord(processName: "y", pid: 2, triggerMetric: .cpu, triggerValue: 1,
                                                           profilePath: URL(fileURLWithPath: dir.path + "/none.json")))
        }
        let legacy = SQLiteProfileStore(vault: concrete.vault)
        #expect(try await legacy.deleteOlderThan(date: Date()) >= 1)
    }

    @Test func backgroundSavesRunOnceEachAndCloseDrains() throws {
        let dir = TempDir()
        var options = testOptions()
        options.writeQueueCapacity = 500
        let vault = try Vault(path: dir.path + "/v", options: options)
        let calls = Mutex<[Int64: Int]>([:])
        var jobs: [WriteJob] = []
        for i in 0..<300 {
            jobs.append(try vault.saveInBackground(sampleRecord(pid: Int32(i + 1)), artefacts: [NewArtefact(kind: "a", bytes: bytes("\(i)"))]) { job in
                if case .success(let id)? = job.result { calls.withLock { $0[id, default: 0] += 1 } }
            })
        }
        vault.close()  // drains: every job done when this returns
        #expect(jobs.allSatisfy { if case .success? = $0.result { return true }; return false })
        let counted = calls.withLock { $0 }
        #expect(counted.count == 300 && counted.values.allSatisfy { $0 == 1 })
        expectError(.closed) { _ = try vault.saveInBackground(sampleRecord(), artefacts: []) }
        // Bad input is refused before queueing.
        let v2 = try makeVault(dir, "v2")
        defer { v2.close() }
        expectError(.invalidArgument) { _ = try v2.saveInBackground(sampleRecord(pid: 0), artefacts: []) }
        expectError(.invalidArgument) {
            var r = sampleRecord(); r.notes = "[]"; _ = try v2.saveInBackground(r, artefacts: [])
        }
        let purge = try v2.deleteOlderThanInBackground(Timestamp(milliseconds: 0))
        #expect(purge.wait(timeoutSeconds: 120).map { (try? $0.get()) == 0 } == true)
        #expect(try v2.maintainInBackground().wait(timeoutSeconds: 120) != nil)
    }
}
