import Foundation
import Testing
@testable import SpikeVault

@Suite struct AgeTests {
    static let maxAge: Int64 = 72 * 3600 * 1000

    /// Captures saved around the cutoff are purged exactly when `now - capturedAt >= 72 h`.
    @Test func purgedExactlyAtSeventyTwoHours() throws {
        let dir = TempDir()
        let vault = try Vault(path: dir.path + "/v", options: retentionOptions())
        defer { vault.close() }
        // `now` one hour ahead of the real clock: the enforcement after each save (real clock)
        // leaves these captures alone, maintain(now:) then decides on them.
        let now = Timestamp.now().milliseconds + 3_600_000
        let cutoff = now - Self.maxAge
        var ids: [Int64: Int64] = [:]
        for offset: Int64 in [-1000, -1, 0, 1, 1000] {
            ids[offset] = try vault.save(sampleRecord(at: cutoff + offset), artefacts: [NewArtefact(kind: "a", bytes: noise(300, seed: UInt64(offset + 5000)))]).id
        }
        #expect(try vault.recent(limit: 10).count == 5)
        let r1 = try vault.maintain(now: Timestamp(milliseconds: now))
        #expect(r1.purgedByAge == 3)  // -1000, -1 and exactly 72 h
        #expect(r1.filesDeleted == 3)
        #expect(Set(try vault.recent(limit: 10).map(\.id)) == [ids[1]!, ids[1000]!])
        // One millisecond later the next one goes, not the one after.
        #expect(try vault.maintain(now: Timestamp(milliseconds: now + 1)).purgedByAge == 1)
        #expect(try vault.recent(limit: 10).map(\.id) == [ids[1000]!])
        #expect(try vault.maintain(now: Timestamp(milliseconds: now + 999)).purgedByAge == 0)
        #expect(try vault.maintain(now: Timestamp(milliseconds: now + 1000)).purgedByAge == 1)
        #expect(try vault.artefacts.entryNames().isEmpty)
    }

    /// Rows made the seed's way: `CURRENT_TIMESTAMP` and `YYYY-MM-DD HH:MM:SS` text are
    /// normalised to the stored form, so the same exact rule applies to them.
    @Test func seedTextTimestampsFollowTheSameRule() throws {
        let dir = TempDir()
        let vault = try Vault(path: dir.path + "/v", options: retentionOptions())
        defer { vault.close() }
        _ = try rawSQL(vault, """
            INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt)
            VALUES ('seed', 1, 'cpu', 1, CURRENT_TIMESTAMP)
            """)
        _ = try rawSQL(vault, """
            INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt)
            VALUES ('seed', 2, 'cpu', 1, '2026-11-20 10:00:00')
            """)
        let rows = try rawSQL(vault, "SELECT pid, capturedAt, typeof(capturedAt) FROM profile_capture ORDER BY pid")
        #expect(rows.map { $0[2] } == ["text", "text"])
        let current = Timestamp(sqlText: rows[0][1]!)!.milliseconds
        let fixed = Timestamp(sqlText: rows[1][1]!)!.milliseconds
        #expect(fixed == 1_795_168_800_000)  // 2026-11-20T10:00:00Z
        #expect(abs(current - Timestamp.now().milliseconds) < 5_000)
        #expect(current % 1000 == 0)  // CURRENT_TIMESTAMP has whole seconds

        #expect(try vault.maintain(now: Timestamp(milliseconds: fixed + Self.maxAge - 1)).purgedByAge == 0)
        #expect(try vault.maintain(now: Timestamp(milliseconds: fixed + Self.maxAge)).purgedByAge == 1)
        #expect(try vault.maintain(now: Timestamp(milliseconds: current + Self.maxAge - 1)).purgedByAge == 0)
        #expect(try vault.maintain(now: Timestamp(milliseconds: current + Self.maxAge)).purgedByAge == 1)
        #expect(try count(vault, "SELECT count(*) FROM profile_capture") == 0)
    }

    /// Enforcement after save: a capture saved already past the age limit and older ones go at
    /// once; `missing` rows are purged by the same rule.
    @Test func enforcedAfterSaveAndMissingRowsAge() throws {
        let dir = TempDir()
        let vault = try Vault(path: dir.path + "/v", options: retentionOptions(maxAge: 3600))
        defer { vault.close() }
        let now = Timestamp.now().milliseconds
        let old = try vault.save(sampleRecord(at: now - 1_800_000), artefacts: [NewArtefact(kind: "a", bytes: bytes("half an hour"))])
        _ = try rawSQL(vault, "UPDATE profile_capture SET capturedAt = '\(Timestamp(milliseconds: now - 3_700_000))' WHERE id = \(old.id)")
        #expect(unlink(vault.artefacts.path + "/" + old.artefacts[0].path) == 0)
        #expect(try vault.maintain(now: Timestamp(milliseconds: now - 200_000)).markedMissing == 1)
        #expect(try vault.record(id: old.id).status == .missing)
        let fresh = try vault.save(sampleRecord(at: now), artefacts: [NewArtefact(kind: "a", bytes: bytes("fresh"))])
        expectError(.notFound) { _ = try vault.record(id: old.id) }
        #expect(try vault.recent(limit: 5).map(\.id) == [fresh.id])
        #expect(vault.retentionTotals.purgedByAge == 1)
    }
}
