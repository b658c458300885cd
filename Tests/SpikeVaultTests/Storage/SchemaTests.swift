import Foundation
import Testing
@testable import SpikeVault

@Suite struct SchemaTests {
    @Test func keepsTheSeedColumnsAndIndices() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let columns = try rawSQL(vault, "SELECT name FROM pragma_table_info('profile_capture')").compactMap(\.first)
        for seed in ["id", "processName", "pid", "triggerMetric", "triggerValue", "capturedAt", "profilePath",
                     "durationSeconds", "notes"] {
            #expect(columns.contains(seed), "missing seed column \(seed)")
        }
        let indices = try rawSQL(vault, """
            SELECT il.name, group_concat(ii.name || ':' || ii.desc, ',') FROM pragma_index_list('profile_capture') il,
                pragma_index_xinfo(il.name) ii WHERE ii.key = 1 GROUP BY il.name ORDER BY il.name
            """).map { [$0[0], $0[1]] }
        #expect(indices == [// review queries (docs/review.md)
                            ["idx_profile_capture_metric_capturedAt", "triggerMetric:0,capturedAt:0"],
                            // the seed design's two, by its names
                            ["idx_profile_capture_pid_time", "pid:0,capturedAt:1"],
                            ["idx_profile_capture_time", "capturedAt:0"],
                            ["idx_profile_capture_triggerValue", "triggerValue:0"]])
        #expect(try rawSQL(vault, "PRAGMA user_version").first?.first == String(Schema.currentVersion))
        #expect(try rawSQL(vault, "PRAGMA auto_vacuum").first?.first == "2")
    }

    @Test func rowsWithoutOrWithSeedTextTimesGetTheStoredTextForm() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let before = Timestamp.now().milliseconds
        _ = try rawSQL(vault, "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue) VALUES ('seed', 1, 'cpu', 90)")
        _ = try rawSQL(vault, "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt) VALUES ('seed', 2, 'cpu', 90, CURRENT_TIMESTAMP)")
        _ = try rawSQL(vault, "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt) VALUES ('seed', 3, 'cpu', 90, '2026-11-27 14:25:12')")
        let after = Timestamp.now().milliseconds
        let rows = try rawSQL(vault, "SELECT pid, typeof(capturedAt), capturedAt FROM profile_capture ORDER BY pid")
        #expect(rows.map { $0[1] } == ["text", "text", "text"])
        let t1 = Timestamp(sqlText: rows[0][2]!)!.milliseconds, t2 = Timestamp(sqlText: rows[1][2]!)!.milliseconds
        #expect(t1 >= before - 1 && t1 <= after + 1)
        #expect(t2 >= before / 1000 * 1000 - 1000 && t2 <= after + 1)  // CURRENT_TIMESTAMP has whole seconds
        #expect(rows[2][2] == "2026-11-27 14:25:12.000Z")
        // And they read back as records.
        #expect(try vault.recent(limit: 10).count == 3)
        expectError(.database) {
            _ = try rawSQL(vault, "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt) VALUES ('seed', 4, 'cpu', 90, 'yesterday')")
        }
    }

    @Test func refusesADatabaseFromTheFuture() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        _ = try rawSQL(vault, "PRAGMA user_version = 99")
        vault.close()
        expectError(.unsupported) { _ = try makeVault(dir) }
    }

    @Test func reopeningKeepsData() throws {
        let dir = TempDir()
        var vault = try makeVault(dir)
        let saved = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: bytes("persist"))])
        vault.close()
        vault = try makeVault(dir)
        defer { vault.close() }
        #expect(try vault.readArtefact(captureID: saved.id) == bytes("persist"))
    }
}
