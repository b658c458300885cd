import Foundation
import Testing
@testable import SpikeVault

@Suite struct DeletionTests {
    @Test func deletesOlderRowsAndTheirFilesOnly() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let cutoff: Int64 = 1_790_000_000_000
        let old = try vault.save(sampleRecord(at: cutoff - 1), artefacts: [
            NewArtefact(kind: "a", bytes: bytes("old a")), NewArtefact(kind: "b", bytes: bytes("old b")),
        ])
        let edge = try vault.save(sampleRecord(at: cutoff), artefacts: [NewArtefact(kind: "a", bytes: bytes("edge"))])
        let new = try vault.save(sampleRecord(at: cutoff + 1), artefacts: [NewArtefact(kind: "a", bytes: bytes("new"))])

        #expect(try vault.deleteOlderThan(Timestamp(milliseconds: cutoff)) == 1)
        #expect(try vault.recent(limit: 10).map(\.id) == [new.id, edge.id])
        expectError(.notFound) { _ = try vault.record(id: old.id) }
        #expect(try vault.artefacts.entryNames().sorted() == (edge.artefacts + new.artefacts).map(\.path).sorted())
        #expect(try rawSQL(vault, "SELECT count(*) FROM capture_artefact").first?.first == "2")
    }

    @Test func neverDeletesOutsideArtefactsThroughTamperedRows() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let canary = dir.file("canary", bytes("alive"))
        #expect(symlink(canary, dir.path + "/vault/artefacts/link-to-canary") == 0)
        let saved = try vault.save(sampleRecord(at: 1000), artefacts: [NewArtefact(kind: "a", bytes: bytes("x"))])
        for (i, path) in [canary, "../../canary", "link-to-canary", "..", "."].enumerated() {
            _ = try rawSQL(vault, """
                INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt, profilePath)
                VALUES ('evil', \(i + 1), 'cpu', 1, '\(Timestamp(milliseconds: 1000))', '\(path)')
                """)
        }
        _ = try rawSQL(vault, "UPDATE capture_artefact SET path = '../../canary' WHERE captureId = \(saved.id)")
        #expect(try vault.deleteOlderThan(Timestamp(milliseconds: 2000)) == 6)
        #expect(FileManager.default.contents(atPath: canary) == Data("alive".utf8))
        var st = stat()
        #expect(lstat(dir.path + "/vault/artefacts/link-to-canary", &st) == 0)
        expectError(.notFound) { _ = try vault.record(id: saved.id) }
    }

    /// `delete(captureID:)` takes one capture, rows and files, through the purge's path: the
    /// running footprint total falls with it, the others stay, bad ids are refused.
    @Test func deletesOneCaptureAndItsFilesAndKeepsTheTotalRight() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        func total() throws -> Int64 { try vault.withDatabase { db in try RecordStore.artefactBytesTotal(db) } }
        func rowSum() throws -> Int64 { try vault.withDatabase { db in try db.scalarInt("SELECT coalesce(sum(allocatedBytes), 0) FROM capture_artefact") } }
        let keep = try vault.save(sampleRecord(at: 1000), artefacts: [NewArtefact(kind: "a", bytes: bytes("keep"))])
        let doomed = try vault.save(sampleRecord(at: 2000), artefacts: [
            NewArtefact(kind: "a", bytes: bytes("doomed a")), NewArtefact(kind: "b", bytes: bytes("doomed b")),
        ])
        let before = try total()
        try vault.delete(captureID: doomed.id)
        expectError(.notFound) { _ = try vault.record(id: doomed.id) }
        #expect(try vault.artefacts.entryNames().sorted() == keep.artefacts.map(\.path).sorted())
        #expect(try total() == rowSum())
        #expect(try total() < before)
        expectError(.notFound) { try vault.delete(captureID: doomed.id) }
        expectError(.invalidArgument) { try vault.delete(captureID: 0) }
        expectError(.invalidArgument) { try vault.delete(captureID: -5) }
        #expect(try vault.recent(limit: 10).map(\.id) == [keep.id])
    }

    /// A row naming a file outside artefacts/ is quarantined, not deleted, and nothing outside goes.
    @Test func deleteOfATamperedRowQuarantinesIt() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let canary = dir.file("canary", bytes("alive"))
        let saved = try vault.save(sampleRecord(at: 1000), artefacts: [NewArtefact(kind: "a", bytes: bytes("x"))])
        _ = try rawSQL(vault, "UPDATE capture_artefact SET path = '../../canary' WHERE captureId = \(saved.id)")
        expectError(.unsafePath) { try vault.delete(captureID: saved.id) }
        #expect(FileManager.default.contents(atPath: canary) == Data("alive".utf8))
        #expect(try rawSQL(vault, "SELECT status FROM profile_capture WHERE id = \(saved.id)").first?.first == "quarantined")
    }
}
