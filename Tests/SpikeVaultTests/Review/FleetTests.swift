import Foundation
import Testing
@testable import SpikeVault

@Suite struct HostIdentityTests {
    @Test func hostNameRules() {
        #expect(HostIdentity.isValidHostName("node-7.example_1"))
        for bad in ["", "-x", ".x", "a/b", "a b", "a\u{1b}", String(repeating: "x", count: 254), "ü"] {
            #expect(!HostIdentity.isValidHostName(bad), "\(bad)")
        }
        #expect(HostIdentity.sanitize(Array("my host/../x".utf8)) == "my-host-..-x")
        #expect(HostIdentity.sanitize(Array("_x".utf8)) == "h_x")
        #expect(HostIdentity.sanitize([]) == nil)
        #expect(HostIdentity.isValidMachineID("0123abcd") && !HostIdentity.isValidMachineID("../etc"))
    }

    @Test func machineIDFileMustHold32HexDigits() throws {
        let dir = TempDir()
        let good = dir.path + "/good", bad = dir.path + "/bad"
        try "0123456789abcdef0123456789abcdef\n".write(toFile: good, atomically: true, encoding: .utf8)
        try "not-an-id\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(HostIdentity.readMachineID(good) == "0123456789abcdef0123456789abcdef")
        #expect(HostIdentity.readMachineID(bad) == nil)
        #expect(HostIdentity.readMachineID(dir.path) == nil)  // a directory is not read
        #expect(HostIdentity.readMachineID(dir.path + "/missing") == nil)
    }

    @Test func savesRecordTheVaultsHostAndOptionsOverride() throws {
        let dir = TempDir()
        var options = VaultOptions()
        options.durability = .off
        try options.set("hostName", string: "node-7")
        try options.set("machineID", string: "abc")
        #expect(throws: SpikeVaultError.self) { try options.set("hostName", string: "bad/name") }
        #expect(throws: SpikeVaultError.self) { try options.set("compressionLevel", string: "3") }
        #expect(throws: SpikeVaultError.self) { try options.set("hostName", 3) }
        let vault = try Vault(path: dir.path + "/v", options: options)
        defer { vault.close() }
        let r = try vault.save(ProfileRecord(processName: "p", pid: 1, triggerMetric: .cpu, triggerValue: 1),
                               artefacts: [NewArtefact(kind: "oncpu.folded", bytes: Array("a;b 1\n".utf8))])
        let back = try vault.record(id: r.id)
        #expect(back.host == "node-7" && back.machineID == "abc")
    }
}

@Suite(.enabled(if: ToolRunner.resolve(getenv("SPIKEVAULT_DUCKDB").map { String(cString: $0) } ?? "duckdb") != nil,
                "the duckdb CLI is not installed"))
struct ParquetExportTests {
    @Test func incrementalExportAndWatermark() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        for i in 0..<3 {
            _ = try vault.save(ProfileRecord(processName: "p\(i)", pid: 10, triggerMetric: .cpu, triggerValue: Double(i)),
                               artefacts: [NewArtefact(kind: "oncpu.folded", bytes: Array("a;b 2\na;c 1\n".utf8))])
        }
        let tree = dir.path + "/tree"
        let first = try vault.exportParquet(to: tree)
        #expect(first == ParquetExportResult(captures: 3, stackRows: 6, watermark: 3))
        #expect(try vault.exportParquet(to: tree).captures == 0)
        _ = try vault.save(ProfileRecord(processName: "p", pid: 10, triggerMetric: .cpu, triggerValue: 9),
                           artefacts: [NewArtefact(kind: "procfs.json", bytes: Array("{}".utf8))])
        #expect(try vault.exportParquet(to: tree) == ParquetExportResult(captures: 1, stackRows: 0, watermark: 4))
        #expect(throws: SpikeVaultError.self) { try vault.exportParquet(to: dir.path + "/missing/deeper") }
        try "x".write(toFile: dir.path + "/file", atomically: true, encoding: .utf8)
        do {
            _ = try vault.exportParquet(to: dir.path + "/file")
            Issue.record("a file was accepted as the output directory")
        } catch let e as SpikeVaultError {
            #expect(e.status == .unsafePath)
        }
    }
}
