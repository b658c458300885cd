import Foundation
import Testing
@testable import SpikeVault

/// `Vault.saveMany`: one transaction and one directory sync per batch, all or nothing.
@Suite struct SaveManyTests {
    private func batch(_ n: Int, at base: Int64 = 1_795_000_000_000) -> [(record: ProfileRecord, artefacts: [NewArtefact])] {
        (0..<n).map { i in
            (sampleRecord(pid: Int32(100 + i), at: base + Int64(i)),
             [NewArtefact(kind: "oncpu.folded", bytes: bytes("main;work \(i)\n")), NewArtefact(kind: "procfs.json", bytes: bytes("{\"i\":\(i)}"))])
        }
    }

    private func artefactFiles(_ vault: Vault) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: vault.artefacts.path).filter { !$0.hasPrefix(".") }
    }

    @Test func storesTheWholeBatchInOrder() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let saved = try vault.saveMany(batch(100))
        #expect(saved.count == 100)
        #expect(saved.map(\.id) == Array(saved[0].id...saved[0].id + 99))
        for (i, r) in saved.enumerated() {
            #expect(try vault.record(id: r.id) == r)
            #expect(try vault.readArtefact(captureID: r.id, kind: "procfs.json") == bytes("{\"i\":\(i)}"))
        }
        #expect(try artefactFiles(vault).count == 200)
        #expect(try vault.withDatabase { db in try RecordStore.artefactBytesTotal(db) } ==
                vault.withDatabase { db in try db.scalarInt("SELECT sum(allocatedBytes) FROM capture_artefact") })
    }

    @Test func aBadRecordStoresNothing() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let kept = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("x"))])
        // Invalid before anything is written: a bad pid in record 3.
        var bad = batch(10)
        bad[3].record.pid = 0
        let e1 = #expect(throws: SpikeVaultError.self) { try vault.saveMany(bad) }
        #expect(e1?.status == .invalidArgument && e1?.message.contains("record 3") == true)
        // Failing while storing: record 7's artefact file does not exist, after 0-6 were published.
        var late = batch(10)
        late[7].artefacts.append(NewArtefact(kind: "perf.data", filePath: dir.path + "/missing"))
        let e2 = #expect(throws: SpikeVaultError.self) { try vault.saveMany(late) }
        #expect(e2?.status == .notFound && e2?.message.contains("record 7") == true)
        // Failing in the transaction: the same artefact kind twice is refused at validation;
        // bad notes come from JSON validation, also before any write.
        var notes = batch(4)
        notes[2].record.notes = "[1]"
        let e3 = #expect(throws: SpikeVaultError.self) { try vault.saveMany(notes) }
        #expect(e3?.status == .invalidArgument && e3?.message.contains("record 2") == true)
        #expect(try vault.recent(limit: 100).map(\.id) == [kept.id])
        #expect(try artefactFiles(vault).count == 1)
    }

    @Test func emptyAndOversizedBatchesAreRefused() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let e = #expect(throws: SpikeVaultError.self) { try vault.saveMany([]) }
        #expect(e?.status == .invalidArgument)
        let huge = Array(repeating: (record: sampleRecord(), artefacts: [NewArtefact]()), count: Vault.maxSaveBatch + 1)
        let e2 = #expect(throws: SpikeVaultError.self) { try vault.saveMany(huge) }
        #expect(e2?.status == .invalidArgument)
        #expect(try vault.recent(limit: 10).isEmpty)
        #expect(try vault.saveMany(Array(huge.prefix(Vault.maxSaveBatch))).count == Vault.maxSaveBatch)
    }
}
