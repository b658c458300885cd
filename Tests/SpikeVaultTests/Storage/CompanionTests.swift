import Foundation
import Testing
@testable import SpikeVault

private let duckdbPresent = ToolRunner.resolve(ProcessInfo.processInfo.environment["SPIKEVAULT_DUCKDB"] ?? "duckdb") != nil

/// The periodic companions (#13, item 5): off by default, reported by maintain.
@Suite struct CompanionTests {
    @Test func offByDefault() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        vault.companions.backdate(seconds: 10 * 86_400)
        let r = try vault.maintain()
        #expect(r.fullVacuums == 0 && r.duckdbSnapshots == 0)
        #expect(!FileManager.default.fileExists(atPath: vault.path + "/snapshot.duckdb"))
    }

    @Test func idleVacuumOnceUntilSomethingChanges() throws {
        let dir = TempDir()
        var options = testOptions()
        options.idleVacuumSeconds = 3600
        let vault = try Vault(path: dir.path + "/v", options: options)
        defer { vault.close() }
        _ = try vault.save(sampleRecord(), artefacts: [NewArtefact(kind: "a", bytes: content(100_000))])
        #expect(try vault.maintain().fullVacuums == 0)  // just saved: not idle
        vault.companions.backdate(seconds: 3601)
        #expect(try vault.maintain().fullVacuums == 1)
        #expect(try vault.maintain().fullVacuums == 0)  // nothing changed since
        _ = try vault.save(sampleRecord(), artefacts: [])
        vault.companions.backdate(seconds: 3601)
        #expect(try vault.maintain().fullVacuums == 1)
        #expect(try vault.recent(limit: 10).count == 2)
    }

    @Test(.enabled(if: duckdbPresent, "the duckdb CLI is not installed (pip install duckdb-cli)"))
    func duckdbSnapshotOnSchedule() throws {
        let dir = TempDir()
        var options = testOptions()
        options.duckdbSnapshotIntervalSeconds = 3600
        let vault = try Vault(path: dir.path + "/v", options: options)
        defer { vault.close() }
        _ = try vault.save(sampleRecord(), artefacts: [])
        #expect(try vault.maintain().duckdbSnapshots == 1)
        var st = stat()
        #expect(stat(vault.path + "/snapshot.duckdb", &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(try vault.maintain().duckdbSnapshots == 0)  // fresh: not due yet
        #expect(try DuckDB.analytics(snapshot: vault.path + "/snapshot.duckdb", template: .topProcesses,
                                     since: Timestamp(milliseconds: 0), until: .now().adding(seconds: 60)).contains("burner"))
    }
}
