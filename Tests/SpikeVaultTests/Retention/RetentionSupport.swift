import Foundation
import Testing
@testable import SpikeVault

/// Options for retention tests: fsync off, no scheduler, no free-space floor (the machine's
/// disk is not under test), retention values as given.
func retentionOptions(maxAge: Int64 = 72 * 3600, budget: Int64 = 0) -> VaultOptions {
    var o = VaultOptions()
    o.durability = .off
    o.maxAgeSeconds = maxAge
    o.maxFootprintBytes = budget
    o.minFreePercent = 0
    o.maintenanceIntervalSeconds = 0
    return o
}

/// Random-ish bytes (zstd cannot shrink them much), fast.
func noise(_ count: Int, seed: UInt64) -> [UInt8] {
    var x = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        out[i] = UInt8(truncatingIfNeeded: x)
    }
    return out
}

func count(_ vault: Vault, _ sql: String) throws -> Int {
    Int(try rawSQL(vault, sql).first?.first.flatMap { $0 }.flatMap { Int($0) } ?? -1)
}

/// The helper executable built next to the test bundle (SPIKEVAULT_STRESS overrides).
func stressBinary() -> String? {
    if let p = ProcessInfo.processInfo.environment["SPIKEVAULT_STRESS"] { return p }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var dir = (exe as NSString).deletingLastPathComponent
    for _ in 0..<4 {
        let candidate = dir + "/spikevault-stress"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = (dir as NSString).deletingLastPathComponent
    }
    return nil
}

/// A running helper whose stdout goes to a file (lines survive a SIGKILL).
final class Helper {
    let process = Process()
    let outPath: String

    init(_ args: [String], outPath: String) throws {
        guard let bin = stressBinary() else { throw SpikeVaultError(.notFound, "spikevault-stress not built") }
        self.outPath = outPath
        FileManager.default.createFile(atPath: outPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = args
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle.standardError
        try process.run()
    }

    func kill9() { kill(process.processIdentifier, SIGKILL) }

    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    var lines: [String] {
        ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func values(_ tag: String) -> [Int64] {
        lines.filter { $0.hasPrefix(tag + " ") }.compactMap { Int64($0.dropFirst(tag.count + 1)) }
    }

    var errors: [String] { lines.filter { $0.hasPrefix("E ") || $0.hasPrefix("FAIL") } }
}
