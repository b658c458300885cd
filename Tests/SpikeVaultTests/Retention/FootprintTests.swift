import Foundation
import Testing
@testable import SpikeVault

@Suite struct FootprintTests {
    /// An alert storm of 5,000 captures of about 50 KB: after every save the measured
    /// footprint (database + WAL + shm + artefacts, allocated blocks) is at most the budget
    /// plus one capture, and the captures kept are the newest ones.
    @Test func alertStormStaysWithinBudget() throws {
        let dir = TempDir()
        let budget: Int64 = 50_000_000
        let vault = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 0, budget: budget))
        defer { vault.close() }
        let base = Timestamp.now().milliseconds - 3_600_000
        var worst: Int64 = 0
        var biggestCapture: Int64 = 0
        var lastID: Int64 = 0
        var atBudgetNs: UInt64 = 0
        for i in 0..<5000 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let saved = try vault.save(sampleRecord(pid: Int32(1 + i % 30000), at: base + Int64(i)),
                                       artefacts: [NewArtefact(kind: "perf.script", bytes: noise(50_000, seed: UInt64(i + 1)))])
            let saveNs = DispatchTime.now().uptimeNanoseconds - t0
            lastID = saved.id
            var st = stat()
            #expect(stat(vault.artefacts.path + "/" + saved.artefacts[0].path, &st) == 0)
            biggestCapture = max(biggestCapture, Int64(st.st_blocks) * 512)
            let measured = try vault.footprint().totalBytes
            worst = max(worst, measured)
            if measured > budget + biggestCapture {
                Issue.record("after save \(i) the footprint is \(measured) > \(budget) + \(biggestCapture)")
                break
            }
            if i >= 4000 && i < 4200 { atBudgetNs += saveNs }
        }
        #expect(vault.lastRetentionError == nil)
        let kept = try vault.recent(limit: 100_000).map(\.id)
        #expect(kept.first == lastID)
        // The newest ones are kept: ids form one run ending at the last one.
        #expect(kept == Array(stride(from: lastID, to: lastID - Int64(kept.count), by: -1)))
        #expect(kept.count > 800 && kept.count < 1000)
        // The same 200 saves into a vault without a budget, for the cost of enforcement.
        let free = try Vault(path: dir.path + "/nobudget", options: retentionOptions(maxAge: 0, budget: 0))
        defer { free.close() }
        let t1 = DispatchTime.now().uptimeNanoseconds
        for i in 4000..<4200 {
            _ = try free.save(sampleRecord(pid: 1, at: base + Int64(i)),
                              artefacts: [NewArtefact(kind: "perf.script", bytes: noise(50_000, seed: UInt64(i + 1)))])
        }
        let unbudgetedNs = DispatchTime.now().uptimeNanoseconds - t1
        print("footprint storm: save at the budget \(atBudgetNs / 200_000) µs vs \(unbudgetedNs / 200_000) µs without a budget (includes one eviction per save)")
        print("footprint storm: kept \(kept.count) of 5000, worst observed \(worst) bytes (budget \(budget) + one capture \(biggestCapture)); purged by size \(vault.retentionTotals.purgedBySize)")
    }

    /// The running total (schema 4): kept by triggers in each save's and delete's own
    /// transaction, it equals the rows' allocated bytes, counts a second opener's saves, falls
    /// with deletions, and the files it counts are the files measured.
    @Test func runningTotalFollowsSavesAndDeletesOfEveryOpener() throws {
        let dir = TempDir()
        let vault = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 0, budget: 0))
        defer { vault.close() }
        let other = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 0, budget: 0))
        defer { other.close() }
        func total() throws -> Int64 { try vault.withDatabase { db in try RecordStore.artefactBytesTotal(db) } }
        func rowSum() throws -> Int64 { try vault.withDatabase { db in try db.scalarInt("SELECT coalesce(sum(allocatedBytes), 0) FROM capture_artefact") } }
        #expect(try total() == 0)
        let base = Timestamp.now().milliseconds - 3_600_000
        var saved: [ProfileRecord] = []
        for i in 0..<12 {
            let into = i % 2 == 0 ? vault : other
            saved.append(try into.save(sampleRecord(pid: Int32(1 + i), at: base + Int64(i)),
                                       artefacts: [NewArtefact(kind: "perf.script", bytes: noise(10_000 + 3_000 * i, seed: UInt64(i + 1))),
                                                   NewArtefact(kind: "oncpu.folded", bytes: bytes("a;b \(i)\n"))]))
        }
        #expect(try total() == rowSum())
        #expect(try total() >= vault.footprint().artefactBytes)  // no temps or orphans here
        #expect(try total() > 0)
        try other.deleteOlderThan(saved[6].capturedAt)
        #expect(try total() == rowSum())
        #expect(try rawSQL(vault, "SELECT count(*) FROM capture_artefact").first?.first == "12")
        _ = try vault.maintain()
        #expect(try total() == rowSum())
    }

    static func tmpFreeFraction() -> Double {
        var s = statvfs()
        return statvfs("/tmp", &s) == 0 && s.f_blocks > 0 ? Double(s.f_bavail) / Double(s.f_blocks) : 1
    }

    /// The free-space floor evicts like the budget does (here the floor is set above what the
    /// filesystem has free, so everything but the newest capture goes).
    @Test(.enabled(if: tmpFreeFraction() < 0.9, "the filesystem of /tmp is more than 90% free"))
    func freeSpaceFloorEvictsOldestButKeepsNewest() throws {
        let dir = TempDir()
        var o = retentionOptions(maxAge: 0, budget: 0)
        o.minFreePercent = 90
        let vault = try Vault(path: dir.path + "/v", options: o)
        defer { vault.close() }
        var last: Int64 = 0
        for i in 0..<5 {
            last = try vault.save(sampleRecord(at: Timestamp.now().milliseconds + Int64(i)), artefacts: [NewArtefact(kind: "a", bytes: noise(5000, seed: 9))]).id
        }
        #expect(try vault.recent(limit: 10).map(\.id) == [last])
        #expect(vault.retentionTotals.purgedBySize == 4)
    }
}
