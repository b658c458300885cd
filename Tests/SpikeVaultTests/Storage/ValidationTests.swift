import Foundation
import Testing
@testable import SpikeVault

@Suite struct ValidationTests {
    @Test func refusesBadRecordsAndKeepsWhatWasStored() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let kept = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "blob", bytes: bytes("keep me"))])
        let art = [NewArtefact(kind: "blob", bytes: bytes("x"))]

        var r = sampleRecord(pid: 0)
        expectError(.invalidArgument) { _ = try vault.save(r, artefacts: art) }
        r = sampleRecord(pid: -5)
        expectError(.invalidArgument) { _ = try vault.save(r, artefacts: art) }
        for bad in [Double.nan, .infinity, -.infinity] {
            r = sampleRecord()
            r.triggerValue = bad
            expectError(.invalidArgument) { _ = try vault.save(r, artefacts: art) }
        }
        r = sampleRecord()
        r.durationSeconds = -1
        expectError(.invalidArgument) { _ = try vault.save(r, artefacts: art) }
        for notes in ["[1,2]", "\"text\"", "not json", "", "{\"a\":"] {
            r = sampleRecord()
            r.notes = notes
            expectError(.invalidArgument) { _ = try vault.save(r, artefacts: art) }
        }
        r = sampleRecord(name: "")
        expectError(.invalidArgument) { _ = try vault.save(r, artefacts: art) }
        for kind in ["", "../etc", "UPPER", ".hidden", "a/b", String(repeating: "k", count: 65)] {
            expectError(.invalidArgument) { _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: kind, bytes: bytes("x"))]) }
        }
        expectError(.invalidArgument) {
            _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("1")), NewArtefact(kind: "a", bytes: bytes("2"))])
        }
        expectError(.empty) { _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: [])]) }
        let emptyFile = dir.file("empty", [])
        expectError(.empty) { _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", filePath: emptyFile)]) }
        expectError(.notFound) { _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", filePath: dir.path + "/nope")]) }
        expectError(.invalidArgument) { _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", filePath: dir.path)]) }

        // Nothing of the refused saves is visible, and the first record is intact.
        #expect(try vault.recent(limit: 10).map(\.id) == [kept.id])
        #expect(try vault.readArtefact(captureID: kept.id) == bytes("keep me"))
        #expect(try vault.artefacts.entryNames() == [kept.artefacts[0].path])
        #expect(try rawSQL(vault, "PRAGMA integrity_check").first?.first == "ok")
    }

    @Test func failedInsertRemovesPublishedFiles() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        // A trigger that makes every insert fail after the files were published.
        _ = try rawSQL(vault, "CREATE TRIGGER refuse BEFORE INSERT ON capture_artefact BEGIN SELECT RAISE(ABORT, 'refused'); END")
        expectError(.database) { _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("x"))]) }
        #expect(try vault.artefacts.entryNames().isEmpty)
        #expect(try vault.recent(limit: 5).isEmpty)
    }
}
