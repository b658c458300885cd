import Foundation
import Testing
@testable import SpikeVault

/// Real processes: SIGKILL at random moments, concurrent writers, fork, a full filesystem.
/// They run one after another (each spawns several processes on a 2-core machine).
@Suite(.serialized) struct ProcessTests {
    /// Checks every invariant of a vault after its writer died; returns the present ids.
    static func verify(_ path: String, reported: [Int64], iteration: Int) throws {
        let vault = try Vault(path: path, options: retentionOptions(maxAge: 0))
        defer { vault.close() }
        #expect(try rawSQL(vault, "PRAGMA integrity_check").first?.first == "ok", "iteration \(iteration)")
        #expect(try rawSQL(vault, "PRAGMA foreign_key_check").isEmpty, "iteration \(iteration)")
        let rows = try vault.recent(limit: 1_000_000)
        for r in rows {
            #expect(r.status == .complete, "iteration \(iteration): capture \(r.id) is \(r.status)")
            for a in r.artefacts {
                let data = try vault.readArtefact(captureID: r.id, kind: a.kind)  // checks the checksum
                #expect(Int64(data.count) == a.rawBytes)
            }
        }
        let present = Set(rows.map(\.id))
        let oldest = present.min() ?? .max
        // Size eviction is oldest first, so a reported id may be gone only if it is older
        // than every capture still present (the newest capture is never evicted, but it may be
        // one whose id the child had no time to report).
        for id in reported where id >= oldest {
            #expect(present.contains(id), "iteration \(iteration): committed id \(id) is missing")
        }
        if !reported.isEmpty { #expect(!present.isEmpty, "iteration \(iteration): every capture is gone") }
        let r = try vault.maintain(orphanGraceSeconds: 0)
        #expect(r.markedMissing == 0 && r.quarantined == 0)
        let names = try vault.artefacts.entryNames()
        #expect(!names.contains { $0.hasPrefix(".tmp-") }, "iteration \(iteration): temp file left")
        let referenced = try rawSQL(vault, "SELECT count(*) FROM capture_artefact").first?.first.flatMap { $0 }.flatMap { Int($0) }
        #expect(names.count == referenced, "iteration \(iteration): \(names.count) files for \(referenced ?? -1) artefact rows")
    }

    /// A child saves (and every 7 saves runs maintenance, under a 1 MB budget) until the
    /// parent SIGKILLs it at a random moment (counted from its start in even iterations, so
    /// opening is hit too, and from its first commit in odd ones, so a loaded machine's slow
    /// start does not leave nothing to check); SPIKEVAULT_CRASH_ITERATIONS sets the count
    /// (200 by default, more under `make soak`).
    @Test(.enabled(if: stressBinary() != nil, "spikevault-stress is not built"))
    func crashLoop() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["SPIKEVAULT_CRASH_ITERATIONS"] ?? "") ?? 200
        let dir = TempDir()
        let path = dir.path + "/v"
        var committed = 0
        for i in 0..<iterations {
            let durability = i % 4 == 0 ? "1" : "0"
            let child = try Helper(["save", path, "0", "7", "1000000", durability], outPath: dir.path + "/out")
            if i % 2 == 1 { #expect(Poll.until(timeout: 60) { !child.values("C").isEmpty || !child.errors.isEmpty }, "iteration \(i)") }
            usleep(UInt32.random(in: 2_000...90_000))  // the random kill moment
            child.kill9()
            child.wait()
            #expect(child.errors.isEmpty, "iteration \(i): \(child.errors)")
            let reported = child.values("C")
            committed += reported.count
            try Self.verify(path, reported: reported, iteration: i)
        }
        print("crash loop: \(iterations) SIGKILLs, \(committed) committed saves reported and checked")
        #expect(committed > iterations / 2)
    }

    /// 4 processes x 4 threads save (a third of the captures dated past the age limit) while
    /// another process runs maintenance in a loop: no error (no SQLITE_BUSY) reaches a caller,
    /// and rows and files equal what was committed minus what was purged.
    @Test(.enabled(if: stressBinary() != nil, "spikevault-stress is not built"))
    func concurrentWritersAndMaintenance() throws {
        let dir = TempDir()
        let path = dir.path + "/v"
        _ = try Vault(path: path, options: retentionOptions()).close()
        let stop = dir.path + "/stop"
        let maintainer = try Helper(["maintain", path, stop], outPath: dir.path + "/m.out")
        let writers = try (0..<4).map { try Helper(["threads", path, "4", "60"], outPath: dir.path + "/w\($0).out") }
        for w in writers { #expect(w.wait() == 0) }
        FileManager.default.createFile(atPath: stop, contents: nil)
        #expect(maintainer.wait() == 0)
        var committed: [Int64] = []
        var purged: Int64 = 0
        for h in writers + [maintainer] {
            #expect(h.errors.isEmpty, "\(h.errors)")
            committed += h.values("C")
            purged += h.values("A").reduce(0, +) + h.values("P").reduce(0, +)
        }
        #expect(committed.count == 4 * 4 * 60)
        #expect(Set(committed).count == committed.count)
        let vault = try Vault(path: path, options: retentionOptions())
        defer { vault.close() }
        purged += try vault.maintain(orphanGraceSeconds: 0).purgedByAge
        let rows = try count(vault, "SELECT count(*) FROM profile_capture")
        #expect(Int64(rows) == Int64(committed.count) - purged)
        #expect(purged == Int64(4 * 4 * 20))  // every capture dated 100 h ago, none else
        #expect(try vault.artefacts.entryNames().count == rows)
        #expect(try rawSQL(vault, "PRAGMA integrity_check").first?.first == "ok")
        print("concurrency: \(committed.count) saves by 16 threads in 4 processes, \(purged) purged, maintenance runs \(maintainer.values("P").count)")
    }

    /// fork(): the child using the inherited vault gets `.forked`; the parent keeps working.
    @Test(.enabled(if: stressBinary() != nil, "spikevault-stress is not built"))
    func forkedChildGetsAClearError() throws {
        let dir = TempDir()
        let h = try Helper(["fork", dir.path + "/v"], outPath: dir.path + "/out")
        #expect(h.wait() == 0)
        #expect(h.lines.last == "OK 2", "\(h.lines)")
    }

    /// Disk full on a 2 MB tmpfs (as root), else under RLIMIT_FSIZE in a helper process:
    /// saves fail with `.noSpace` and a clear message, the database stays intact, and after
    /// space is freed saving works again with no intervention.
    @Test func diskFull() throws {
        let dir = TempDir()
        let mnt = dir.path + "/small"
        #expect(mkdir(mnt, 0o700) == 0)
        guard getuid() == 0, mount("tmpfs", mnt, "tmpfs", 0, "size=2m,mode=0700") == 0 else {
            let why = getuid() == 0 ? String(cString: strerror(errno)) : "not root"
            guard stressBinary() != nil else { try Test.cancel("no tmpfs (\(why)) and spikevault-stress is not built") }
            print("disk-full test: no tmpfs (\(why)); using RLIMIT_FSIZE in a helper process")
            let h = try Helper(["fsize", dir.path + "/v", "65536"], outPath: dir.path + "/out")
            #expect(h.wait() == 0)
            #expect(h.lines.contains { $0.hasPrefix("E noSpace") }, "\(h.lines)")
            #expect(h.lines.last?.hasPrefix("OK") == true, "\(h.lines)")
            return
        }
        defer { umount2(mnt, Int32(MNT_DETACH)) }
        var o = retentionOptions(maxAge: 0, budget: 0)
        o.durability = .normal
        let vault = try Vault(path: mnt + "/v", options: o)
        defer { vault.close() }
        var saved: [Int64] = []
        var failure: SpikeVaultError?
        for i in 0..<200 {
            do {
                saved.append(try vault.save(sampleRecord(at: 1_000 + Int64(i)), artefacts: [NewArtefact(kind: "a", bytes: noise(64_000, seed: UInt64(i + 1)))]).id)
            } catch let e as SpikeVaultError {
                failure = e
                break
            }
        }
        #expect(failure?.status == .noSpace)
        // Which write meets the full disk first (an artefact's ENOSPC or SQLite's SQLITE_FULL)
        // depends on page layout; both are reported as noSpace with the cause.
        #expect(failure.map { $0.message.contains("No space left on device") || $0.message.contains("database or disk is full") } == true,
                "\(String(describing: failure))")
        #expect(saved.count > 5)
        #expect(try rawSQL(vault, "PRAGMA integrity_check").first?.first == "ok")
        #expect(try vault.recent(limit: 1000).map(\.id).sorted() == saved)
        #expect(!(try vault.artefacts.entryNames()).contains { $0.hasPrefix(".tmp-") })
        // Free space the way retention would: delete the oldest half.
        try vault.deleteOlderThan(Timestamp(milliseconds: 1_000 + Int64(saved.count / 2)))
        let more = try vault.save(sampleRecord(at: 5_000), artefacts: [NewArtefact(kind: "a", bytes: noise(64_000, seed: 77))])
        #expect(try vault.readArtefact(captureID: more.id) == noise(64_000, seed: 77))
        print("disk full: \(saved.count) saves fit on a 2 MB tmpfs, then: \(failure.map { "\($0)" } ?? "none")")
    }
}
