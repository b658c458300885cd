import Foundation
import Synchronization
import Testing
@testable import SpikeVault

/// Streaming cursors (RecordCursor): pages, the snapshot bound, deletions and a concurrent writer.
@Suite struct RecordCursorTests {
    private func filled(_ dir: TempDir, _ n: Int) throws -> (Vault, [ProfileRecord]) {
        let vault = try makeVault(dir)
        var saved: [ProfileRecord] = []
        for i in 0..<n {
            // Pairs share a time so that the id tie-break is exercised across page edges.
            saved.append(try vault.save(sampleRecord(pid: Int32(100 + i), at: 1_795_000_000_000 + Int64(i / 2) * 1000),
                                        artefacts: i % 3 == 0 ? [] : [NewArtefact(kind: "oncpu.folded", bytes: bytes("a;b \(i)\n"))]))
        }
        return (vault, saved)
    }

    private func drain(_ c: RecordCursor) throws -> [ProfileRecord] {
        var out: [ProfileRecord] = []
        while let r = try c.next() { out.append(r) }
        return out
    }

    @Test func pagesGiveTheSameRowsAsTheMaterialisedQuery() throws {
        let dir = TempDir()
        let (vault, _) = try filled(dir, 23)
        defer { vault.close() }
        for order in RecordOrder.allCases {
            for limit in [nil, 0, 1, 5, 22, 23, 40] as [Int?] {
                let f = RecordFilter(order: order, limit: limit)
                for pageSize in [1, 2, 7, 256] {
                    #expect(try drain(vault.cursor(f, pageSize: pageSize)) == vault.query(f), "\(order) \(String(describing: limit)) \(pageSize)")
                }
            }
        }
        let f = RecordFilter(minValue: 0, statuses: [.complete], order: .timeAscending)
        #expect(try drain(vault.cursor(f, pageSize: 3)).map(\.id) == vault.query(f).map(\.id))
        #expect(try drain(vault.recentCursor(limit: 10, pageSize: 3)) == vault.recent(limit: 10))
        // Pages come at most pageSize long; next() and nextPage() mix without losing rows.
        let c = try vault.cursor(RecordFilter(order: .timeAscending), pageSize: 4)
        let first = try #require(try c.next())
        let rest = try c.nextPage()
        #expect(rest.count == 3)
        var all = [first] + rest
        while case let page = try c.nextPage(), !page.isEmpty {
            #expect(page.count <= 4)
            all += page
        }
        #expect(all == (try vault.query(RecordFilter(order: .timeAscending))))
        #expect(try c.nextPage().isEmpty && c.next() == nil)
    }

    @Test func badPageSizeAndFilterAreRefused() throws {
        let dir = TempDir()
        let (vault, _) = try filled(dir, 1)
        defer { vault.close() }
        for size in [0, -1, 100_001] {
            #expect(throws: SpikeVaultError.self) { try vault.cursor(pageSize: size) }
        }
        #expect(throws: SpikeVaultError.self) { try vault.cursor(RecordFilter(limit: -1)) }
        #expect(throws: SpikeVaultError.self) { try vault.recentCursor(limit: -1) }
        #expect(try drain(try makeVault(dir, "empty").cursor()).isEmpty)
    }

    @Test func savesAfterOpenAreNotSeenAndDeletionsAreSafe() throws {
        let dir = TempDir()
        let (vault, saved) = try filled(dir, 20)
        defer { vault.close() }
        let c = try vault.cursor(RecordFilter(order: .timeAscending), pageSize: 3)
        #expect(c.throughID == saved.last!.id)
        var seen = [try #require(try c.next())]
        // A capture saved now, dated before and after everything: neither is in the snapshot.
        _ = try vault.save(sampleRecord(pid: 1, at: 1_700_000_000_000), artefacts: [])
        _ = try vault.save(sampleRecord(pid: 2, at: 1_900_000_000_000), artefacts: [])
        // Delete the first ten (some seen, some already in the page buffer, some ahead).
        try vault.deleteOlderThan(saved[10].capturedAt)
        while let r = try c.next() { seen.append(r) }
        let ids = seen.map(\.id)
        #expect(Set(ids).count == ids.count, "no row twice")
        #expect(!ids.contains { $0 > saved.last!.id }, "no capture saved after the cursor opened")
        // Everything from the first capture kept to the end is there, in order.
        let kept = saved.filter { $0.capturedAt >= saved[10].capturedAt }.map(\.id)
        #expect(Array(ids.suffix(kept.count)) == kept)
    }

    @Test func concurrentWriterNeitherBlocksNorLeaksIntoTheSnapshot() throws {
        let dir = TempDir()
        let (vault, saved) = try filled(dir, 60)
        defer { vault.close() }
        let c = try vault.cursor(RecordFilter(order: .timeDescending), pageSize: 5)
        let stop = Atomic<Bool>(false)
        let writes = Atomic<Int>(0)
        let writer = Thread {
            var i: Int32 = 0
            while !stop.load(ordering: .relaxed) {
                i += 1
                _ = try? vault.save(sampleRecord(pid: 10_000 + i, at: 1_795_000_000_000 + 500), artefacts: [])
                writes.add(1, ordering: .relaxed)
            }
        }
        writer.start()
        // Read a page, then wait (with a deadline) for the writer to have saved, so writes do
        // land between pages; then read the rest.
        var ids = try c.nextPage().map(\.id)
        let deadline = Date().addingTimeInterval(30)
        while writes.load(ordering: .relaxed) < 20 && Date() < deadline { usleep(1000) }
        while case let page = try c.nextPage(), !page.isEmpty { ids += page.map(\.id) }
        stop.store(true, ordering: .relaxed)
        while !writer.isFinished { usleep(1000) }
        #expect(writes.load(ordering: .relaxed) >= 20)
        #expect(ids == (saved.sorted { ($0.capturedAt, $0.id) > ($1.capturedAt, $1.id) }.map(\.id)))
    }
}
