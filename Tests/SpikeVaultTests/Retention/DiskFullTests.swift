import Foundation
import Testing
@testable import SpikeVault

/// A small tmpfs mounted for one test (needs root); unmounted by `unmount()` or on deinit.
final class SmallTmpfs {
    let dir = TempDir()
    let path: String
    private var mounted = false

    /// Mounts `size` (e.g. "4m") or cancels the test with the reason it cannot.
    init(size: String) throws {
        path = dir.path + "/fs"
        guard mkdir(path, 0o700) == 0 else { throw SpikeVaultError.errno(errno, "mkdir \(path)") }
        guard getuid() == 0 else { try Test.cancel("mounting a tmpfs needs root") }
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(size),mode=0700") == 0 else {
            try Test.cancel("cannot mount a tmpfs: \(String(cString: strerror(errno)))")
        }
        mounted = true
    }

    func unmount() {
        if mounted { umount2(path, Int32(MNT_DETACH)) }
        mounted = false
    }

    deinit { unmount() }

    /// Bytes an unprivileged writer could still use.
    var freeBytes: Int64 {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return -1 }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Writes zeros to `name` until the filesystem refuses a single byte. Returns its size.
    @discardableResult
    func fill(_ name: String) -> Int64 {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer { close(fd) }
        var total: Int64 = 0
        for chunk in [1 << 16, 4096, 512, 1] {
            let zeros = [UInt8](repeating: 0, count: chunk)
            while true {
                let n = write(fd, zeros, chunk)
                if n <= 0 { break }
                total += Int64(n)
            }
        }
        return total
    }
}

/// A full disk is survivable: opening writes nothing, deleting frees space even when the WAL
/// cannot grow, and saves resume afterwards (docs/retention.md, "Full disk").
@Suite(.serialized) struct DiskFullTests {
    static func options() -> VaultOptions {
        var o = retentionOptions(maxAge: 0, budget: 0)
        o.durability = .normal
        return o
    }

    /// Saves captures of `size` bytes dated `from`, `from+1`… until the disk is full.
    /// Returns the ids with their payloads, and the error that stopped it.
    static func saveUntilFull(_ vault: Vault, size: Int, from: Int64, seed: UInt64)
        -> (saved: [(id: Int64, payload: [UInt8])], error: SpikeVaultError?) {
        var saved: [(id: Int64, payload: [UInt8])] = []
        for i in 0..<2_000 {
            let payload = noise(size, seed: seed + UInt64(i))
            do {
                saved.append((try vault.save(sampleRecord(at: from + Int64(i)), artefacts: [NewArtefact(kind: "a", bytes: payload)]).id, payload))
            } catch let e as SpikeVaultError {
                return (saved, e)
            } catch {
                return (saved, SpikeVaultError(.internalError, "\(error)"))
            }
        }
        return (saved, nil)
    }

    /// Every capture listed is whole, and exactly `expected` are listed.
    static func expectIntact(_ vault: Vault, _ expected: [Int64: [UInt8]], _ stage: String) throws {
        #expect(try rawSQL(vault, "PRAGMA integrity_check").first?.first == "ok", "\(stage)")
        let listed = try vault.recent(limit: 100_000).map(\.id)
        #expect(Set(listed) == Set(expected.keys), "\(stage): listed \(listed.count), expected \(expected.count)")
        for (id, payload) in expected {
            #expect(try vault.readArtefact(captureID: id) == payload, "\(stage): capture \(id)")
        }
    }

    /// Opening an up-to-date vault and reading from it writes no page: the WAL stays empty and
    /// the database file unchanged. The WAL and shm files outlive the close, so the next open
    /// needs no new space; deletes run with secure_delete=FAST.
    @Test func openingWritesNothing() throws {
        let dir = TempDir()
        let path = dir.path + "/v"
        do {
            let vault = try Vault(path: path, options: Self.options())
            defer { vault.close() }
            _ = try vault.save(sampleRecord(at: 1_000), artefacts: [NewArtefact(kind: "a", bytes: noise(5_000, seed: 1))])
        }
        let db = path + "/" + VaultDirectory.databaseName
        func size(_ p: String) -> Int64? {
            var st = stat()
            return stat(p, &st) == 0 ? Int64(st.st_size) : nil
        }
        #expect(size(db + "-wal") == 0)
        #expect(size(db + "-shm") == 32_768)
        let before = try #require(FileManager.default.contents(atPath: db))
        let vault = try Vault(path: path, options: Self.options())
        defer { vault.close() }
        #expect(try vault.recent(limit: 10).count == 1)
        #expect(size(db + "-wal") == 0, "opening wrote to the WAL")
        #expect(FileManager.default.contents(atPath: db) == before, "opening changed the database file")
        #expect(try vault.withDatabase { db in try db.scalarInt("PRAGMA secure_delete") } == 2)  // FAST
    }

    /// The vault fills a 4 MB tmpfs by itself (big artefacts, then small ones, then rows whose
    /// WAL pages no longer fit). Reopened, it lists and reads everything; deleteOlderThan frees
    /// space although recording the delete needs WAL pages the disk has not got; saves resume;
    /// a second fill, topped up by a file so that not a byte is free, is emptied by
    /// maintenance (age rule).
    @Test func filledByTheVaultItself() throws {
        let fs = try SmallTmpfs(size: "4m")
        defer { fs.unmount() }
        let path = fs.path + "/v"
        var kept: [Int64: [UInt8]] = [:]
        var cutoffMs: Int64 = 0
        do {
            let vault = try Vault(path: path, options: Self.options())
            defer { vault.close() }
            var next: Int64 = 1_000
            for (size, seed) in [(64_000, UInt64(1)), (4_000, 5_000), (200, 9_000)] {
                let run = Self.saveUntilFull(vault, size: size, from: next, seed: seed)
                #expect(run.error?.status == .noSpace, "\(size)-byte saves stopped by \(String(describing: run.error))")
                for s in run.saved { kept[s.id] = s.payload }
                next += Int64(run.saved.count)
                if size == 64_000 { #expect(run.saved.count > 20); cutoffMs = next - Int64(run.saved.count / 2) }
            }
            #expect(fs.freeBytes < 64 << 10, "the tmpfs is not full: \(fs.freeBytes) bytes free")
            try Self.expectIntact(vault, kept, "full, before closing")
        }
        // Reopen on the full disk: reads work, nothing is lost.
        let vault = try Vault(path: path, options: Self.options())
        defer { vault.close() }
        try Self.expectIntact(vault, kept, "reopened full")
        let before = fs.freeBytes
        let doomed = try vault.recent(limit: 100_000).filter { $0.capturedAt.milliseconds < cutoffMs }.map(\.id)
        #expect(try vault.deleteOlderThan(Timestamp(milliseconds: cutoffMs)) == doomed.count)
        for id in doomed { kept[id] = nil }
        #expect(fs.freeBytes > before + Int64(doomed.count) * 60_000, "free \(before) -> \(fs.freeBytes) after deleting \(doomed.count)")
        try Self.expectIntact(vault, kept, "after deleteOlderThan")
        #expect(try vault.artefacts.entryNames().count == kept.count)

        let again = noise(64_000, seed: 77)
        let resumed = try vault.save(sampleRecord(at: 900_000), artefacts: [NewArtefact(kind: "a", bytes: again)])
        kept[resumed.id] = again
        try Self.expectIntact(vault, kept, "after the resumed save")

        // Fill it again, then let maintenance's age rule empty it: every capture so far is
        // dated 1970, so all but the ones saved now go.
        let refill = Self.saveUntilFull(vault, size: 64_000, from: 1_000_000, seed: 20_000)
        #expect(refill.error?.status == .noSpace)
        _ = fs.fill("topup")  // the last temp file's pages too
        unlink(fs.path + "/topup")
        _ = Self.saveUntilFull(vault, size: 200, from: 2_000_000, seed: 30_000)
        vault.close()
        var aged = Self.options()
        aged.maxAgeSeconds = 3600
        let maintained = try Vault(path: path, options: aged)
        defer { maintained.close() }
        fs.fill("topup")  // closing gave the WAL back: take that space too
        let full = fs.freeBytes
        #expect(full == 0)
        let fresh = noise(3_000, seed: 99)
        let report = try maintained.maintain()
        #expect(report.purgedByAge >= Int64(kept.count + refill.saved.count), "\(report)")
        #expect(fs.freeBytes > full + 2_000_000, "free \(full) -> \(fs.freeBytes) after maintenance")
        let now = try maintained.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: fresh)])
        try Self.expectIntact(maintained, [now.id: fresh], "after maintenance")
        #expect(FootprintMeter.allocatedBytes(maintained.directoryFD, VaultDirectory.databaseName + "-wal") < 256 << 10)
    }

    /// Another file fills the disk: the vault opens and reads, a save fails with `.noSpace`
    /// and leaves nothing behind, a delete still frees space; once the filler goes, saves resume.
    @Test func filledByAnotherFile() throws {
        let fs = try SmallTmpfs(size: "4m")
        defer { fs.unmount() }
        let path = fs.path + "/v"
        var kept: [Int64: [UInt8]] = [:]
        do {
            let vault = try Vault(path: path, options: Self.options())
            defer { vault.close() }
            for i in 0..<6 {
                let payload = noise(50_000, seed: UInt64(i + 1))
                kept[try vault.save(sampleRecord(at: 1_000 + Int64(i)), artefacts: [NewArtefact(kind: "a", bytes: payload)]).id] = payload
            }
        }
        fs.fill("filler")
        #expect(fs.freeBytes == 0)

        let vault = try Vault(path: path, options: Self.options())  // no write at open
        defer { vault.close() }
        try Self.expectIntact(vault, kept, "opened on a full disk")
        let failed = #expect(throws: SpikeVaultError.self) {
            try vault.save(sampleRecord(at: 5_000), artefacts: [NewArtefact(kind: "a", bytes: noise(50_000, seed: 50))])
        }
        #expect(failed?.status == .noSpace, "\(String(describing: failed))")
        #expect(failed?.message.contains("No space left on device") == true, "\(String(describing: failed))")
        #expect(try vault.artefacts.entryNames().count == kept.count, "a failed save left a file behind")
        try Self.expectIntact(vault, kept, "after failed saves")

        // The oldest two go, although the WAL has no room: their files make the room.
        let before = fs.freeBytes
        #expect(try vault.deleteOlderThan(Timestamp(milliseconds: 1_002)) == 2)
        for id in kept.keys.sorted().prefix(2) { kept[id] = nil }
        #expect(fs.freeBytes > before + 50_000, "free \(before) -> \(fs.freeBytes)")
        try Self.expectIntact(vault, kept, "after deleting on a full disk")

        unlink(fs.path + "/filler")
        let payload = noise(50_000, seed: 60)
        kept[try vault.save(sampleRecord(at: 6_000), artefacts: [NewArtefact(kind: "a", bytes: payload)]).id] = payload
        try Self.expectIntact(vault, kept, "after the filler went")
    }
}
