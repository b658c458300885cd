import Foundation
import Testing
@testable import SpikeVault

@Suite struct SaveReadTests {
    @Test func roundTripsBufferAndFileArtefacts() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let folded = content(100_000, seed: 7)
        let source = dir.file("stacks.folded", folded)
        let summary = bytes("burner at 93.5% cpu\n")
        let saved = try vault.save(sampleRecord(), artefacts: [
            NewArtefact(kind: "oncpu.folded", filePath: source),
            NewArtefact(kind: "summary.txt", bytes: summary),
        ])
        #expect(saved.id > 0)
        #expect(saved.artefacts.map(\.kind) == ["oncpu.folded", "summary.txt"])
        #expect(saved.profilePath == saved.artefacts[0].path)
        #expect(saved.artefacts[0].rawBytes == 100_000)
        #expect(saved.artefacts[0].storedBytes < 100_000)

        #expect(try vault.readArtefact(captureID: saved.id) == folded)
        #expect(try vault.readArtefact(captureID: saved.id, kind: "summary.txt") == summary)
        let fetched = try vault.record(id: saved.id)
        #expect(fetched == saved)

        let out = dir.path + "/exported"
        try vault.exportArtefact(captureID: saved.id, to: out)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: out))) == folded)
        expectError(.alreadyExists) { try vault.exportArtefact(captureID: saved.id, to: out) }
        expectError(.notFound) { _ = try vault.readArtefact(captureID: saved.id, kind: "offcpu.folded") }
        expectError(.notFound) { _ = try vault.readArtefact(captureID: 999_999) }
    }

    @Test func namesFilesByTimePidAndKindWithPrivateMode() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let at: Int64 = 1_795_789_512_123  // 2026-11-27T14:25:12.123Z
        let a = try vault.save(sampleRecord(pid: 77, at: at), artefacts: [NewArtefact(kind: "procfs.json", bytes: bytes("{}"))])
        let b = try vault.save(sampleRecord(pid: 77, at: at), artefacts: [NewArtefact(kind: "procfs.json", bytes: bytes("{}"))])
        #expect(a.artefacts[0].path == "20261127T142512.123Z-77.procfs.json.zst")
        #expect(b.artefacts[0].path == "20261127T142512.123Z-77-2.procfs.json.zst")
        var st = stat()
        #expect(stat(try vault.artefactPath(captureID: a.id), &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        // Nothing but the two artefacts is left in the directory (no temp files).
        #expect(try vault.artefacts.entryNames().sorted() == [a.artefacts[0].path, b.artefacts[0].path].sorted())
    }

    @Test func checksumAgreesWithZstdFrameChecksum() throws {
        // zstd ends a frame with the low 32 bits of XXH64 of the content: an independent check
        // of both our XXH64 and that the frame checksum flag is on.
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        for size in [1, 31, 32, 33, 4096, 200_001] {
            let saved = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "blob", bytes: content(size, seed: UInt64(size)))])
            let file = Array(try Data(contentsOf: URL(fileURLWithPath: try vault.artefactPath(captureID: saved.id))))
            let frameChecksum = file.suffix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            let ours = UInt64(saved.artefacts[0].checksum.dropFirst(6), radix: 16)!
            #expect(UInt32(truncatingIfNeeded: ours) == frameChecksum, "size \(size)")
        }
    }

    @Test func recentIsNewestFirstAndLimited() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let base: Int64 = 1_790_000_000_000
        for i in [3, 1, 4, 0, 2] {
            _ = try vault.save(sampleRecord(pid: Int32(100 + i), at: base + Int64(i) * 1000), artefacts: [])
        }
        #expect(try vault.recent(limit: 3).map(\.pid) == [104, 103, 102])
        #expect(try vault.recent(limit: 50).count == 5)
        #expect(try vault.recent(limit: 0).isEmpty)
        expectError(.invalidArgument) { _ = try vault.recent(limit: -1) }
    }

    @Test func concurrentSavesFromManyThreads() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<25 {
                _ = try? vault.save(sampleRecord(pid: Int32(t * 100 + i + 1)),
                                    artefacts: [NewArtefact(kind: "blob", bytes: content(512, seed: UInt64(i)))])
            }
        }
        let all = try vault.recent(limit: 1000)
        #expect(all.count == 200)
        #expect(Set(all.map(\.pid)).count == 200)
        #expect(try vault.artefacts.entryNames().count == 200)
    }

    @Test func timestampFormats() {
        #expect(Timestamp(milliseconds: 0).description == "1970-01-01 00:00:00.000Z")
        #expect(Timestamp(milliseconds: 1_795_789_512_123).description == "2026-11-27 14:25:12.123Z")
        #expect(Timestamp(milliseconds: -1).compactUTC == "19691231T235959.999Z")
    }
}
