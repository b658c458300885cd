import Testing
import Glibc
@testable import SpikeVault

/// Regressions for what fuzzing and the sanitizers found (docs/hardening.md).
struct FuzzRegressionTests {
    /// fuzz-cabi: sv_vault_analytics(since = INT64_MIN) trapped in Timestamp.floorMod.
    @Test func timestampsAtTheInt64BoundsFormat() {
        for ms in [Int64.min, Int64.min + 1, -1, 0, 999, Int64.max - 1, Int64.max, 253_402_300_799_999, -62_167_219_200_001] {
            let t = Timestamp(milliseconds: ms)
            #expect(!t.compactUTC.isEmpty)
            #expect(!t.description.isEmpty)
        }
        #expect(Timestamp(milliseconds: 0).description == "1970-01-01 00:00:00.000Z")
        #expect(Timestamp(milliseconds: -1).description == "1969-12-31 23:59:59.999Z")
        #expect(Int64.min.floorMod(1000) == 192)
        #expect((-1 as Int64).floorMod(1000) == 999)
    }

    @Test func analyticsAcceptsAnyTimeBounds() throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        for template in AnalyticsTemplate.allCases {
            _ = try vault.analytics(template, since: Timestamp(milliseconds: .min), until: Timestamp(milliseconds: .max))
        }
        #expect(throws: SpikeVaultError.self) {
            try vault.analytics(.topProcesses, since: Timestamp(milliseconds: .max), until: Timestamp(milliseconds: .min))
        }
    }

    /// ASan (check-asan): reading a directory copied all 256 bytes of dirent.d_name, past the end
    /// of a short last entry in glibc's buffer. Names of every length must list correctly.
    @Test func directoryListingReadsNamesInPlace() throws {
        let dir = TempDir()
        var expected: Set<String> = []
        for n in [1, 2, 3, 7, 8, 9, 200, 255] {
            let name = String(repeating: "n", count: n)
            _ = dir.file(name, [1])
            expected.insert(name)
        }
        let fd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(fd >= 0)
        let names = try ArtefactDirectory(fd: fd, path: dir.path).entryNames()
        #expect(Set(names) == expected)
    }

    /// fuzz-parsers: folded counts that sum past Int.max trapped in FoldedStacks.parse. A host
    /// can store any `*.folded` artefact, so this was reachable through sv_vault_summary.
    @Test func foldedCountsNeverOverflow() throws {
        let text = "a;b 9223372036854775807\na;b 1\nc -5\nd 0\ne 4294967295\ne 4294967295\n"
        let f = FoldedStacks.parse(text)
        #expect(f.counts["a;b"] == 1)            // the out-of-range line is ignored as malformed
        #expect(f.counts["c"] == nil && f.counts["d"] == nil)
        #expect(f.counts["e"] == 2 * 4_294_967_295)
        var big = FoldedStacks()
        big.add(["x"], count: .max)
        big.add(["x"], count: .max)
        big.merge(big)
        #expect(big.totalSamples == .max)
        _ = Speedscope.json(big, name: "x", redactor: .disabled)

        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        var lines = ""
        for _ in 0..<3 { lines += "main;spin 4294967295\n" }
        let saved = try vault.save(ProfileRecord(processName: "p", pid: 1, triggerMetric: .cpu, triggerValue: 1),
                                   artefacts: [NewArtefact(kind: "oncpu.folded", bytes: Array(lines.utf8))])
        let summary = try vault.summary(id: saved.id, format: .text, redactor: .disabled)
        #expect(summary.contains("main;spin") || summary.contains("spin"))
    }
}
