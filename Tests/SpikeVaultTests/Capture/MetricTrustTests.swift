import Foundation
import Glibc
import Testing
@testable import SpikeVault

/// Names from the target are hostile: a leaked file whose name holds a terminal escape and a
/// secret reaches the summary escaped and the exported artefact redacted.
@Suite(.serialized) struct MetricTrustTests {
    @Test func hostilePathEscapedInSummaryAndRedactedInArtefact() throws {
        let bin = try MetricPrograms.build("fdleak", MetricPrograms.fdLeak)
        let base = CaptureTestSupport.makeTempDir("sv-hostile")
        defer { CaptureTestSupport.removeTree(base) }
        let dir = base + "/api_key=hunterxyz\u{1b}]0;owned\u{07}"
        #expect(mkdir(dir, 0o700) == 0)
        let target = try ToolRunner.spawn([bin, dir])
        defer { target.kill(); target.wait() }
        #expect(Poll.until(timeout: 60) { (FdSnapshot.count(pid: target.pid) ?? 0) >= 10 })
        let tmp = TempDir()
        var options = testOptions()
        options.captureCooldownSeconds = 0
        let vault = try Vault(path: tmp.path + "/vault", options: options)
        defer { vault.close() }
        let record = try vault.capture(CaptureRequest(pid: target.pid, metric: .fds, value: 10, durationSeconds: 0.5,
                                                      intervalSeconds: 0.1, backend: .procfs, collectors: [.fds]))
        let plain = try vault.summary(id: record.id, format: .text, redactor: .disabled)
        let answer = try #require(plain.split(separator: "\n").dropFirst().first)
        #expect(answer.hasPrefix("Answer:     fds: "))
        #expect(answer.contains("\\x1b]*;owned\\x07") && !plain.contains("\u{1b}") && !plain.contains("\u{07}"), "\(answer)")
        let redacted = try vault.summary(id: record.id, format: .text)
        #expect(!redacted.contains("hunterxyz"), "\(redacted)")
        let raw = String(decoding: try vault.readArtefact(captureID: record.id, kind: "fds.json"), as: UTF8.self)
        #expect(raw.contains("hunterxyz"))
        let exported = String(decoding: try vault.readArtefact(captureID: record.id, kind: "fds.json", redactor: Redactor()),
                              as: UTF8.self)
        #expect(!exported.contains("hunterxyz") && exported.contains("leak-"), "\(exported.prefix(400))")
    }
}
