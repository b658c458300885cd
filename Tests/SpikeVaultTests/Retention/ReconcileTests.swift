import Foundation
import Testing
@testable import SpikeVault

@Suite struct ReconcileTests {
    /// File without row: deleted once older than the grace period. Row without file: marked
    /// `missing`, still listed. Temp files of dead writers: swept.
    @Test func orphansBothWays() throws {
        let dir = TempDir()
        let vault = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 0))
        defer { vault.close() }
        let a = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("kept"))])
        let b = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("will vanish")),
                                                            NewArtefact(kind: "b", bytes: bytes("stays"))])
        let art = vault.artefacts.path
        #expect(unlink(art + "/" + b.artefacts[0].path) == 0)
        FileManager.default.createFile(atPath: art + "/old-orphan.perf.zst", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: art + "/young-orphan.perf.zst", contents: Data("y".utf8))
        FileManager.default.createFile(atPath: art + "/.tmp-999999999-1-1", contents: Data("t".utf8))
        var times = [timespec(tv_sec: time(nil) - 7200, tv_nsec: 0), timespec(tv_sec: time(nil) - 7200, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, art + "/old-orphan.perf.zst", &times, 0) == 0)

        let r = try vault.maintain()
        #expect(r.orphansDeleted == 1)
        #expect(r.markedMissing == 1)
        #expect(r.tempFilesSwept == 1)
        #expect(r.purgedByAge == 0)
        #expect(try vault.record(id: b.id).status == .missing)
        #expect(try vault.record(id: a.id).status == .complete)
        #expect(try vault.recent(limit: 10).count == 2)  // missing rows stay visible
        #expect(Set(try vault.artefacts.entryNames()) == [a.artefacts[0].path, b.artefacts[1].path, "young-orphan.perf.zst"])
        // With no grace the young one goes too; a second run finds nothing more to do.
        #expect(try vault.maintain(orphanGraceSeconds: 0).orphansDeleted == 1)
        let again = try vault.maintain(orphanGraceSeconds: 0)
        #expect(again.orphansDeleted + again.markedMissing + again.tempFilesSwept + again.quarantined == 0)
    }

    /// Tampered rows (absolute path, `..`, a symlink to a canary outside the vault, a
    /// directory) never delete anything outside artefacts/: each row is quarantined, reported,
    /// and kept out of automatic purges; the canary and the symlink survive.
    @Test func tamperedRowsAreQuarantinedAndTheCanarySurvives() throws {
        let dir = TempDir()
        let vault = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 3600, budget: 0))
        defer { vault.close() }
        let canary = dir.file("canary", bytes("alive"))
        let art = vault.artefacts.path
        #expect(symlink(canary, art + "/link-to-canary") == 0)
        #expect(mkdir(art + "/subdir", 0o700) == 0)
        let now = Timestamp.now().milliseconds
        let old = now - 7_200_000
        let paths = [canary, "../../canary", "..", "link-to-canary", "subdir"]
        for (i, path) in paths.enumerated() {
            _ = try rawSQL(vault, """
                INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt, profilePath)
                VALUES ('evil', \(i + 1), 'cpu', 1, '\(Timestamp(milliseconds: old))', '\(path)')
                """)
        }
        // An artefact row tampered after a real save, and a fresh tampered row that only
        // reconciliation (not purge) sees.
        let saved = try vault.save(sampleRecord(at: now - 60_000), artefacts: [NewArtefact(kind: "a", bytes: bytes("x"))])
        _ = try rawSQL(vault, "UPDATE capture_artefact SET path = '../../canary' WHERE captureId = \(saved.id)")
        // The save's own enforcement already met the five old rows (past the hour), quarantined
        // them and did not purge them; the maintenance run finds the tampered artefact row.
        #expect(vault.retentionTotals.quarantined == 5)
        let r = try vault.maintain(now: Timestamp(milliseconds: now))
        #expect(r.quarantined == 1)
        #expect(r.purgedByAge == 0)
        #expect(vault.retentionTotals.quarantined == 6)
        #expect(try count(vault, "SELECT count(*) FROM profile_capture WHERE status = 'quarantined'") == 6)
        // Later runs, and size pressure, leave quarantined rows alone.
        let r2 = try vault.maintain(now: Timestamp(milliseconds: now + 86_400_000))
        #expect(r2.purgedByAge == 0 && r2.quarantined == 0)
        #expect(FileManager.default.contents(atPath: canary) == Data("alive".utf8))
        var st = stat()
        #expect(lstat(art + "/link-to-canary", &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
        #expect(lstat(art + "/subdir", &st) == 0)
        #expect(try vault.maintain(orphanGraceSeconds: 0).orphansDeleted == 0)
        #expect(FileManager.default.contents(atPath: canary) == Data("alive".utf8))
    }

    /// Open-time recovery: a row whose file never landed (power cut with durability off) is
    /// marked missing when the vault opens; leftover temp files are swept.
    @Test func openTimeRecovery() throws {
        let dir = TempDir()
        var vault: Vault? = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 0))
        let saved = try vault!.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("lost"))])
        let art = vault!.artefacts.path
        vault!.close()
        vault = nil
        #expect(unlink(art + "/" + saved.artefacts[0].path) == 0)
        FileManager.default.createFile(atPath: art + "/.tmp-999999999-7-7", contents: Data("t".utf8))
        let reopened = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 0))
        defer { reopened.close() }
        #expect(reopened.sweptTempFiles == 1)
        #expect(reopened.recoveredMissingAtOpen == 1)
        #expect(try reopened.record(id: saved.id).status == .missing)
    }
}

@Suite struct SchedulerTests {
    /// The scheduler runs maintenance on its own thread after the first delay.
    @Test func runsInTheBackground() throws {
        let dir = TempDir()
        var o = retentionOptions(maxAge: 3600)
        o.maintenanceIntervalSeconds = 1
        o.maintenanceFirstDelaySeconds = 0
        let vault = try Vault(path: dir.path + "/v", options: o)
        defer { vault.close() }
        FileManager.default.createFile(atPath: vault.artefacts.path + "/.tmp-999999999-1-1", contents: Data())
        #expect(Poll.until(timeout: 60) { vault.retentionTotals.tempFilesSwept >= 1 })
        #expect(vault.retentionTotals.tempFilesSwept == 1)
    }

    /// close() does not wait for the hourly interval: it wakes the thread and joins it.
    @Test func closeIsPrompt() throws {
        let dir = TempDir()
        var o = retentionOptions()
        o.maintenanceIntervalSeconds = 3600
        o.maintenanceFirstDelaySeconds = 600
        let vault = try Vault(path: dir.path + "/v", options: o)
        usleep(20_000)
        let t0 = DispatchTime.now().uptimeNanoseconds
        vault.close()
        let ms = (DispatchTime.now().uptimeNanoseconds - t0) / 1_000_000
        #expect(ms < 30_000, "close took \(ms) ms")  // not the 600 s first delay (only bounds a hang)
        expectError(.closed) { _ = try vault.maintain() }
    }
}
