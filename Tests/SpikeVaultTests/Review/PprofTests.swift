import Foundation
import Testing
@testable import SpikeVault

/// Decompresses with the system's gzip (an independent reader of our deflate stream).
private func gunzip(_ bytes: [UInt8], _ dir: TempDir) throws -> [UInt8] {
    let path = dir.path + "/in.gz"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-dc", path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    return Array(out)
}

@Suite struct PprofEncodingTests {
    @Test func varintsAndFields() {
        var w = ProtobufWriter()
        w.varint(1); w.varint(127); w.varint(128); w.varint(300); w.varint(UInt64.max)
        #expect(w.bytes == [1, 0x7f, 0x80, 1, 0xac, 2] + [UInt8](repeating: 0xff, count: 9) + [1])
        var f = ProtobufWriter()
        f.int(1, 150); f.int(2, 0); f.string(6, ""); f.string(6, "ab"); f.packed(1, [3, 270])
        #expect(f.bytes == [0x08, 0x96, 0x01, 0x32, 0, 0x32, 2, 0x61, 0x62, 0x0a, 3, 3, 0x8e, 2])
    }

    @Test func crc32KnownAnswer() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test(arguments: [0, 1, 2, 3, 100, 40_000, 200_000])
    func gzipRoundTripsThroughSystemGzip(size: Int) throws {
        let dir = TempDir()
        var rng = SystemRandomNumberGenerator()
        // Half repetitive text, half random bytes: both literal and match paths, far distances.
        let words = ["main", "work", "hot", ";", "function_", "\n", "leaf"]
        var input: [UInt8] = []
        while input.count < size {
            if Bool.random(using: &rng) { input += Array(words.randomElement(using: &rng)!.utf8) }
            else { input.append(UInt8.random(in: 0...255, using: &rng)) }
        }
        input = Array(input.prefix(size))
        let gz = Gzip.compress(input)
        #expect(gz.prefix(3) == [0x1f, 0x8b, 8])
        #expect(try gunzip(gz, dir) == input)
    }

    @Test func profileFromAVaultRecord() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let r = try vault.save(ProfileRecord(processName: "w", pid: 7, triggerMetric: .cpu, triggerValue: 90,
                                             notes: #"{"capture":{"intervalSeconds":0.01}}"#),
                               artefacts: [NewArtefact(kind: "oncpu.folded", bytes: Array("a;b 2\na;c 3\n".utf8)),
                                           NewArtefact(kind: "procfs.json", bytes: Array("{}".utf8))])
        let raw = try vault.pprof(captureID: r.id, compressed: false)
        #expect(try gunzip(try vault.pprof(captureID: r.id), dir) == raw)
        #expect(raw.first == 0x0a)  // field 1 (sample_type), length-delimited
        #expect(try vault.samplingPeriodNanos(r) == 10_000_000)
        #expect(throws: SpikeVaultError.self) { try vault.pprof(captureID: r.id, kind: "procfs.json") }
        #expect(throws: SpikeVaultError.self) { try vault.stacks(captureID: r.id, format: .pprof) }
    }
}
