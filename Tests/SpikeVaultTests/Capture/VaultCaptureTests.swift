import Foundation
import Synchronization
import Testing
@testable import SpikeVault

/// Captures through the vault: stored rows and artefacts, the worker pool, queue, cooldown and
/// close. Serialized with the other live tests' spirit: burners distort each other.
@Suite(.serialized) struct VaultCaptureTests {
    func vault(_ dir: TempDir, configure: (inout VaultOptions) -> Void = { _ in }) throws -> Vault {
        var options = VaultOptions()
        options.durability = .off
        configure(&options)
        return try Vault(path: dir.path + "/v", options: options)
    }

    @Test func autoCaptureIsStoredWithStacksAndNotes() throws {
        let target = try CaptureTestSupport.startHot()
        defer { target.kill(); target.wait() }
        let dir = TempDir()
        let v = try vault(dir)
        defer { v.close() }
        let record = try v.capture(CaptureRequest(pid: target.pid, metric: .cpu, value: 190, durationSeconds: 1,
                                                  notes: #"{"ticket":"OPS-1"}"#))
        #expect(record.status == .complete)
        #expect(record.processName == "hot")
        #expect(record.processStartTime != nil)
        let kinds = record.artefacts.map(\.kind)
        #expect(kinds.contains("procfs.json"))
        #expect(kinds.contains("oncpu.folded"), "kinds: \(kinds)")
        let folded = String(decoding: try v.readArtefact(captureID: record.id, kind: "oncpu.folded"), as: UTF8.self)
        #expect(folded.contains("spikevault_hot_spin"))
        let notes = try JSONSerialization.jsonObject(with: Data(record.notes.utf8)) as? [String: Any]
        #expect(notes?["ticket"] as? String == "OPS-1")
        let capture = notes?["capture"] as? [String: Any]
        #expect((capture?["backendsRun"] as? [String])?.first == "procfs")
        #expect(capture?["backendsSkipped"] is [Any])
        // No scratch files remain.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/v/work")) ?? [] == [])
    }

    @Test func refusesMissingProcessAndBadRequests() throws {
        let dir = TempDir()
        let v = try vault(dir)
        defer { v.close() }
        expectError(.noSuchProcess) { _ = try v.capture(CaptureRequest(pid: 4_194_305, metric: .cpu, value: 1)) }
        expectError(.invalidArgument) { _ = try v.capture(CaptureRequest(pid: getpid(), metric: .cpu, value: .nan)) }
        expectError(.invalidArgument) { _ = try v.capture(CaptureRequest(pid: getpid(), metric: .cpu, value: 1, durationSeconds: 0)) }
        expectError(.invalidArgument) { _ = try v.capture(CaptureRequest(pid: getpid(), metric: .cpu, value: 1, notes: "[]")) }
        #expect(try v.recent(limit: 5).isEmpty)
    }

    @Test func cooldownRefusesASecondCaptureOfTheSameProcessAndMetric() throws {
        let dir = TempDir()
        let v = try vault(dir)
        defer { v.close() }
        let req = CaptureRequest(pid: getpid(), metric: .memory, value: 1, durationSeconds: 0.1, intervalSeconds: 0.05, backend: .procfs)
        _ = try v.capture(req)
        expectError(.cooldown) { _ = try v.capture(req) }
        var other = req
        other.metric = .fds
        _ = try v.capture(other)
        #expect(try v.recent(limit: 5).count == 2)
    }

    @Test func poolAndQueueBoundAsyncCaptures() throws {
        let dir = TempDir()
        let v = try vault(dir) { o in
            o.captureWorkers = 2
            o.captureQueueCapacity = 8
            o.captureCooldownSeconds = 0
        }
        defer { v.close() }
        let calls = Mutex<[ObjectIdentifier: Int]>([:])
        var accepted: [CaptureJob] = []
        var busy = 0
        for _ in 0..<20 {
            let req = CaptureRequest(pid: getpid(), metric: .cpu, value: 1, durationSeconds: 0.3, intervalSeconds: 0.1, backend: .procfs)
            do {
                accepted.append(try v.startCapture(req) { job in calls.withLock { $0[ObjectIdentifier(job), default: 0] += 1 } })
            } catch let e as SpikeVaultError {
                #expect(e.status == .busy)
                busy += 1
            }
        }
        #expect(accepted.count == 10)
        #expect(busy == 10)
        for job in accepted {
            let result = try #require(job.wait(timeoutSeconds: 60))
            #expect((try? result.get())?.status == .complete)
        }
        #expect(calls.withLock { $0.count } == 10)
        #expect(calls.withLock { $0.values.allSatisfy { $0 == 1 } })
        #expect(try v.recent(limit: 50).count == 10)
    }

    @Test func closeCancelsAndDrainsRunningCaptures() throws {
        let target = try CaptureTestSupport.startHot()
        defer { target.kill(); target.wait() }
        let dir = TempDir()
        let v = try vault(dir) { o in o.captureCooldownSeconds = 0 }
        let calls = Mutex<Int>(0)
        var jobs: [CaptureJob] = []
        for backend in [CaptureBackend.auto, .procfs, .auto, .procfs] {
            jobs.append(try v.startCapture(CaptureRequest(pid: target.pid, metric: .cpu, value: 1, durationSeconds: 30,
                                                          backend: backend)) { _ in calls.withLock { $0 += 1 } })
        }
        // Close while two jobs run (the others still queued).
        #expect(Poll.until { jobs.filter { $0.currentState == .running }.count >= 2 })
        v.close()
        #expect(calls.withLock { $0 } == 4)
        for job in jobs {
            guard case .failure(let e)? = job.result else { Issue.record("job not finished or not cancelled"); continue }
            #expect(e.status == .cancelled)
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/v/work")) ?? [] == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/v/artefacts").isEmpty)
        // No tool the library started is still alive: our only child is the target.
        #expect(childrenOfThisProcess().filter { $0 != target.pid } == [])
    }

    func childrenOfThisProcess() -> [Int32] {
        let me = getpid()
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == me && fields[0] != "Z"
        }
    }
}
