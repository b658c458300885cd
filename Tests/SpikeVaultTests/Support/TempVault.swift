import Foundation
@testable import SpikeVault

/// A fresh directory under /tmp for one test, removed when the test ends.
final class TempDir {
    let path: String

    init() {
        var template = Array("/tmp/spikevault-test-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String, _ contents: [UInt8]) -> String {
        let p = path + "/" + name
        FileManager.default.createFile(atPath: p, contents: Data(contents))
        return p
    }
}

/// Options for storage tests: fsync off (they do not test power loss) and no age limit (they
/// save captures dated in the past; retention has its own tests).
func testOptions() -> VaultOptions {
    var options = VaultOptions()
    options.durability = .off
    options.maxAgeSeconds = 0
    return options
}

/// Opens a vault in a temp dir with `testOptions()`.
func makeVault(_ dir: TempDir, _ name: String = "vault") throws -> Vault {
    let options = testOptions()
    return try Vault(path: dir.path + "/" + name, options: options)
}

func sampleRecord(pid: Int32 = 4242, at ms: Int64? = nil, name: String = "burner") -> ProfileRecord {
    ProfileRecord(processName: name, pid: pid, triggerMetric: .cpu, triggerValue: 93.5,
                  capturedAt: ms.map { Timestamp(milliseconds: $0) } ?? .now(), durationSeconds: 2,
                  notes: #"{"host":"test"}"#)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Deterministic, moderately compressible content.
func content(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var x = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { i in
        x = x &* 6364136223846793005 &+ 1442695040888963407
        return i % 3 == 0 ? UInt8(truncatingIfNeeded: x >> 59) : UInt8(ascii: "a") + UInt8(i % 7)
    }
}

/// Runs a raw SQL statement on the vault's database file with its own connection.
func rawSQL(_ vault: Vault, _ sql: String) throws -> [[String?]] {
    let db = try Database(path: vault.path + "/vault.sqlite3", busyTimeoutMs: 5000)
    defer { db.close() }
    let st = try db.statement(sql)
    var rows: [[String?]] = []
    while try st.step() { rows.append((0..<8).map { st.text(Int32($0)) }) }
    st.finalize()
    return rows
}

func expectError(_ status: Status, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected \(status), got success", sourceLocation: sourceLocation)
    } catch let e as SpikeVaultError {
        if e.status != status { Issue.record("expected \(status), got \(e)", sourceLocation: sourceLocation) }
        if e.message.isEmpty { Issue.record("empty error message", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

import Testing
