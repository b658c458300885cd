import Foundation
import Observation
import Testing
@testable import SpikeVault
import SpikeVaultAsync

/// A seeded vault with known answers: 6 captures over 3 processes, 2 metrics, 3 pids.
private func seeded(_ dir: TempDir) throws -> (Vault, [ProfileRecord]) {
    let vault = try makeVault(dir)
    let base: Int64 = 1_795_000_000_000  // 2026-11-18
    let rows: [(String, Int32, TriggerMetric, Double, Int64, CaptureStatus)] = [
        ("firefox", 100, .cpu, 95, 0, .complete),
        ("Firefox-bin", 101, .memory, 2048, 3_600_000, .complete),
        ("postgres", 200, .cpu, 80, 7_200_000, .partial),
        ("postgres", 200, .cpu, 99.5, 90_000_000, .complete),
        ("nginx", 300, .diskIO, 10, 90_000_001, .failed),
        ("fire[x]", 301, .cpu, 50, 90_000_002, .complete),
    ]
    var saved: [ProfileRecord] = []
    for (name, pid, metric, value, offset, status) in rows {
        let r = ProfileRecord(processName: name, pid: pid, triggerMetric: metric, triggerValue: value,
                              capturedAt: Timestamp(milliseconds: base + offset), durationSeconds: 1,
                              notes: #"{"capture":{"backend":"procfs","cmdline":["app","--token","tok-SEEKRIT"]}}"#, status: status)
        saved.append(try vault.save(r, artefacts: [NewArtefact(kind: "oncpu.folded", bytes: Array("main;work;hot 7\nmain;idle 3\n".utf8))]))
    }
    return (vault, saved)
}

@Suite struct ReviewQueryTests {
    @Test func everyFilterAloneAndCombined() throws {
        let dir = TempDir()
        let (vault, s) = try seeded(dir)
        defer { vault.close() }
        let base = s[0].capturedAt.milliseconds
        func ids(_ f: RecordFilter) throws -> [Int64] { try vault.query(f).map(\.id) }
        #expect(try ids(RecordFilter()) == s.reversed().map(\.id))
        #expect(try ids(RecordFilter(metrics: [.cpu])) == [s[5].id, s[3].id, s[2].id, s[0].id])
        #expect(try ids(RecordFilter(metrics: [.memory, .diskIO])) == [s[4].id, s[1].id])
        #expect(try ids(RecordFilter(process: "FIRE")) == [s[5].id, s[1].id, s[0].id])
        #expect(try ids(RecordFilter(processGlob: "fire*")) == [s[5].id, s[0].id])
        #expect(try ids(RecordFilter(processGlob: "fire[[]x]")) == [s[5].id])
        #expect(try ids(RecordFilter(processGlob: "[A-Z]*")) == [s[1].id])
        #expect(try ids(RecordFilter(pid: 200)) == [s[3].id, s[2].id])
        #expect(try ids(RecordFilter(since: Timestamp(milliseconds: base + 3_600_000), until: Timestamp(milliseconds: base + 90_000_001)))
                == [s[3].id, s[2].id, s[1].id])
        #expect(try ids(RecordFilter(minValue: 80, maxValue: 99.5)) == [s[3].id, s[2].id, s[0].id])
        #expect(try ids(RecordFilter(statuses: [.partial, .failed])) == [s[4].id, s[2].id])
        #expect(try ids(RecordFilter(order: .valueDescending, limit: 2)) == [s[1].id, s[3].id])
        #expect(try ids(RecordFilter(order: .timeAscending, limit: 1)) == [s[0].id])
        #expect(try ids(RecordFilter(order: .valueAscending)) == [s[4].id, s[5].id, s[2].id, s[0].id, s[3].id, s[1].id])
        // Combined: metric + process substring + 24 h range + value.
        let combined = RecordFilter(metrics: [.cpu], process: "fire", since: Timestamp(milliseconds: base),
                                    until: Timestamp(milliseconds: base + 86_400_000), minValue: 90)
        #expect(try ids(combined) == [s[0].id])
        #expect(try vault.count(combined) == 1)
        #expect(try vault.count(RecordFilter(metrics: [.cpu], limit: 1)) == 4)
        #expect(try ids(RecordFilter(limit: 0)).isEmpty)
    }

    @Test func keysetPaginationWalksEveryRowOnce() throws {
        let dir = TempDir()
        let (vault, s) = try seeded(dir)
        defer { vault.close() }
        for order in RecordOrder.allCases {
            var f = RecordFilter(order: order, limit: 2)
            var seen: [Int64] = []
            while true {
                let page = try vault.query(f)
                if page.isEmpty { break }
                seen += page.map(\.id)
                f.after = try RecordKey(token: RecordKey(page.last!).token)
            }
            #expect(seen == (try vault.query(RecordFilter(order: order))).map(\.id))
            #expect(Set(seen).count == s.count)
        }
    }

    @Test func badFiltersAreRefused() throws {
        let dir = TempDir()
        let (vault, _) = try seeded(dir)
        defer { vault.close() }
        let bad: [RecordFilter] = [
            RecordFilter(since: Timestamp(milliseconds: 10), until: Timestamp(milliseconds: 5)),
            RecordFilter(limit: -1),
            RecordFilter(processGlob: "fire[x"),
            RecordFilter(minValue: 5, maxValue: 1),
        ]
        for f in bad {
            #expect(throws: SpikeVaultError.self) { try vault.query(f) }
            do { _ = try vault.query(f) } catch let e as SpikeVaultError { #expect(e.status == .invalidArgument) }
        }
        #expect(throws: SpikeVaultError.self) { try RecordKey(token: "nope") }
    }

    @Test func indexesServeTimePidAndMetricQueries() throws {
        let dir = TempDir()
        let (vault, _) = try seeded(dir)
        defer { vault.close() }
        let t = Timestamp(milliseconds: 1_795_000_000_000)
        let cases: [(RecordFilter, String)] = [
            (RecordFilter(since: t, until: t.adding(seconds: 86_400)), "idx_profile_capture_time"),
            (RecordFilter(pid: 200), "idx_profile_capture_pid_time"),
            (RecordFilter(metrics: [.cpu], since: t, until: t.adding(seconds: 86_400), order: .valueDescending),
             "idx_profile_capture_metric_capturedAt"),
            (RecordFilter(order: .valueDescending, limit: 5), "idx_profile_capture_triggerValue"),
        ]
        for (f, index) in cases {
            let plan = try vault.queryPlan(f).joined(separator: " | ")
            #expect(plan.contains(index), "plan for \(f): \(plan)")
        }
    }
}

@Suite struct RedactionTests {
    struct Corpus: Decodable {
        struct Case: Decodable { var argv: [String]; var expected: [String]; var secrets: [String] }
        var home: String
        var user: String
        var cases: [Case]
    }

    static func corpus() throws -> Corpus {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../bindings/python/tests/data/redaction_corpus.json").standardized
        return try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: url))
    }

    @Test func corpusRedactsAsExpected() throws {
        let c = try Self.corpus()
        #expect(c.cases.count >= 60)
        let r = Redactor(home: c.home, user: c.user)
        for k in c.cases {
            #expect(r.redact(arguments: k.argv) == k.expected, "argv \(k.argv)")
            let line = r.redact(text: k.argv.joined(separator: " "))
            for secret in k.secrets { #expect(!line.contains(secret), "\(secret) in \(line)") }
        }
        #expect(Redactor.disabled.redact(arguments: ["--token", "x"]) == ["--token", "x"])
    }

    @Test func exportsAndSummariesCarryNoSecret() throws {
        let dir = TempDir()
        let (vault, s) = try seeded(dir)
        defer { vault.close() }
        for format in ExportFormat.allCases {
            let path = dir.path + "/out.\(format.rawValue)"
            #expect(try vault.exportRecords(RecordFilter(), format: format, to: path) == s.count)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains("tok-SEEKRIT"))
            #expect(text.contains("<redacted>"))
            let raw = dir.path + "/raw.\(format.rawValue)"
            try vault.exportRecords(RecordFilter(), format: format, to: raw, options: ExportOptions(redactor: .disabled))
            #expect(try String(contentsOfFile: raw, encoding: .utf8).contains("tok-SEEKRIT"))
        }
        for f in [SummaryFormat.text, .json] {
            let summary = try vault.summary(id: s[0].id, format: f)
            #expect(!summary.contains("tok-SEEKRIT"))
            #expect(summary.contains("main"))
        }
    }
}

@Suite struct ObservationModelTests {
    @MainActor
    static func waitUntil(_ what: String, _ condition: @MainActor () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            if ContinuousClock.now > deadline { Issue.record("timed out waiting for \(what)"); return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @MainActor @Test func refreshesWhenCapturesLandOrGo() async throws {
        let dir = TempDir()
        let vault = try makeVault(dir)
        defer { vault.close() }
        let model = RecentAnomaliesModel(vault: vault, filter: RecordFilter(metrics: [.cpu]), limit: 2)
        try await Self.waitUntil("first refresh") { model.refreshes >= 1 }
        #expect(model.records.isEmpty)

        let observed = ObservedFlag()
        withObservationTracking { _ = model.records } onChange: { observed.set() }
        let old = try vault.save(sampleRecord(pid: 1, at: 1_000), artefacts: [])
        try await Self.waitUntil("records after save") { model.records.map(\.id) == [old.id] }
        #expect(observed.value)

        _ = try vault.save(ProfileRecord(processName: "m", pid: 2, triggerMetric: .memory, triggerValue: 1), artefacts: [])
        let new = try vault.save(sampleRecord(pid: 3), artefacts: [])
        try await Self.waitUntil("newest first, memory filtered out") { model.records.map(\.id) == [new.id, old.id] }

        let gone = ObservedFlag()
        withObservationTracking { _ = model.records } onChange: { gone.set() }
        #expect(try vault.deleteOlderThan(Timestamp(milliseconds: 2_000)) == 1)
        try await Self.waitUntil("records after delete") { model.records.map(\.id) == [new.id] }
        #expect(gone.value)
    }
}

final class ObservedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.lock(); flag = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}
