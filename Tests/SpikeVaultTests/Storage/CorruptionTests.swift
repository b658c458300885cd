import Foundation
import Testing
@testable import SpikeVault

@Suite struct CorruptionTests {
    /// Saves one artefact, lets `damage` change its file, and returns the read error status.
    func readAfter(_ damage: (String) throws -> Void, options: VaultOptions? = nil) throws -> Status? {
        let dir = TempDir()
        var opts = options ?? VaultOptions()
        opts.durability = .off
        let vault = try Vault(path: dir.path + "/v", options: opts)
        defer { vault.close() }
        let saved = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "blob", bytes: content(300_000))])
        try damage(try vault.artefactPath(captureID: saved.id))
        do {
            _ = try vault.readArtefact(captureID: saved.id)
            return nil
        } catch let e as SpikeVaultError {
            // The vault itself stays usable.
            #expect(try vault.recent(limit: 5).count == 1)
            return e.status
        }
    }

    func rewrite(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var data = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        change(&data)
        try Data(data).write(to: URL(fileURLWithPath: path))
    }

    @Test func truncatedFrame() throws {
        #expect(try readAfter { p in try rewrite(p) { $0.removeLast($0.count / 2) } } == .corrupt)
    }

    @Test func flippedByte() throws {
        #expect(try readAfter { p in try rewrite(p) { $0[$0.count / 2] ^= 0x5A } } == .corrupt)
    }

    @Test func notZstdAtAll() throws {
        #expect(try readAfter { p in try rewrite(p) { $0 = Array("just some text, no frame".utf8) } } == .corrupt)
    }

    @Test func zeroBytes() throws {
        #expect(try readAfter { p in try rewrite(p) { $0 = [] } } == .corrupt)
    }

    @Test func missingFile() throws {
        #expect(try readAfter { p in unlink(p) } == .notFound)
    }

    @Test func replacedBySymlink() throws {
        #expect(try readAfter { p in unlink(p); symlink("/etc/hostname", p) } == .unsafePath)
    }

    @Test func validFrameWithOtherContent() throws {
        // A well-formed zstd frame of different bytes: only the stored xxh64 can catch it.
        #expect(try readAfter({ p in
            let dir = TempDir()
            let other = try makeVault(dir)
            defer { other.close() }
            let s = try other.save(sampleRecord(), artefacts: [NewArtefact(kind: "blob", bytes: content(300_000, seed: 99))])
            unlink(p)
            try FileManager.default.copyItem(atPath: try other.artefactPath(captureID: s.id), toPath: p)
        }) == .corrupt)
    }

    @Test func outputLimit() throws {
        var options = VaultOptions()
        options.maxArtefactBytes = 100_000
        #expect(try readAfter({ _ in }, options: options) == .tooLarge)
    }

    @Test func windowLimit() throws {
        var options = VaultOptions()
        options.windowLogMax = 10  // 1 KiB: the 300 KB frame needs more
        #expect(try readAfter({ _ in }, options: options) == .tooLarge)
    }
}
