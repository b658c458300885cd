#if canImport(Glibc)
import Glibc
#endif

/// What the metric collectors produced: a backend result named `metric` (artefacts
/// `fds.json`, `threads.json`, `mappings.json`, `growth.folded`, `io.json`, `io.folded`,
/// `sockets.json`), the parts skipped with why, and the one-line answer per collector.
public struct MetricResult: Sendable {
    public var backend: BackendResult
    public var collectors: [MetricCollector]
    /// Parts not run (e.g. `memory.stacks` when perf is refused), with the reason.
    public var skipped: [SkippedBackend] = []
    /// collector → one-line answer (escaped only when shown; raw here).
    public var answers: [(MetricCollector, String)] = []

    /// The answer for `metric` (its own collector's, else the first one's).
    public func headline(for metric: TriggerMetric) -> String? {
        let own = MetricCollector.autoPlan(for: metric).first
        return answers.first { $0.0 == own }?.1 ?? answers.first?.1
    }
}

/// Runs the metric collectors over one capture window: snapshots at start and end, counts at
/// each interval, and perf where a collector's stacks need it (skipped with the reason when
/// perf is missing or refused; the procfs parts answer regardless).
enum MetricCapture {
    /// Samples per event for the perf-based stacks: about this many over the window bound the
    /// cost and the temporary perf.data (8 KiB of stack per sample); sets the frequency.
    static let targetStackSamples = 3000.0

    static func run(_ collectors: [MetricCollector], identity: ProcessIdentity, durationSeconds: Double,
                    intervalSeconds: Double, workDirectory: String, cancel outer: CancelFlag,
                    stop: CancelFlag = CancelFlag(), perfTool: String = "perf") -> MetricResult {
        // `stop` is ours (set when runCapture abandons the capture); the caller's cancel is
        // relayed into it at every tick, so one flag drives the sleeps and perf's waits.
        let cancel = stop
        if outer.isCancelled { stop.cancel() }
        let pid = identity.pid
        var out = MetricResult(backend: BackendResult(backend: "metric"), collectors: collectors)
        let has = Set(collectors)
        let t0 = CaptureSys.monotonicSeconds()
        let deadline = t0 + durationSeconds

        let fdsStart = FdSnapshot.read(pid: pid, withPositions: has.contains(.diskIO))
        var tracker = ThreadTracker()
        if has.contains(.threads) { tracker.add(ThreadSnapshot.read(pid: pid)) }
        let smapsStart = has.contains(.memory) ? SmapsSnapshot.read(pid: pid) : SmapsSnapshot()
        let socketsStart = has.contains(.network) ? SocketTable.read(pid: pid) : ([:], [])
        let ioStart = ProcessIO.read(pid: pid)
        let faultsStart = has.contains(.memory) ? ProcessIO.faults(pid: pid) : nil

        // perf by frequency: the kernel adapts each event's period, so no rate probe is needed and
        // a burst that starts mid-window is still sampled at the same bounded rate.
        var recorders: [(MetricCollector, PerfEventRecorder)] = []
        var perfNotes: [MetricCollector: String] = [:]
        if !collectors.isEmpty {
            let remaining = max(0.2, deadline - CaptureSys.monotonicSeconds())
            let hz = PerfEventRecorder.frequency(seconds: remaining, targetSamples: targetStackSamples)
            let sampling = "sampled at up to \(hz) Hz per event (perf -F), weights scaled to the kernel's count over the window"
            func start(_ c: MetricCollector, _ e: PerfEventRecorder.Event, what: String) {
                do {
                    recorders.append((c, try PerfEventRecorder.start(tool: perfTool, event: e, pid: pid, seconds: remaining,
                                                                     frequencyHz: hz, workDirectory: workDirectory,
                                                                     tag: c.rawValue)))
                    perfNotes[c] = "\(what) \(sampling)"
                } catch {
                    out.skipped.append(SkippedBackend(backend: "\(c.rawValue).stacks", reason: "perf not started: \(error)"))
                }
            }
            for c in collectors {
                switch c {
                case .memory: start(.memory, .pageFaults, what: "page-faults")
                case .diskIO: start(.diskIO, .io, what: "read/write syscalls")
                case .fds: start(.fds, .opens, what: "open/openat/socket/accept calls")
                case .threads:
                    // No clone stacks: glibc's clone3 wrapper ends the unwind (its CFI marks the
                    // return address undefined) and frame pointers give garbage there.
                    break
                case .network: start(.network, .sends, what: "connect/sendto/sendmsg calls")
                }
            }
        }

        // Counts over the window (cheap: directory listings).
        var timeline: [(t: Double, fds: Int?, threads: Int?)] = []
        let step = max(intervalSeconds, 0.2)
        var next = CaptureSys.monotonicSeconds()
        while true {
            let now = CaptureSys.monotonicSeconds()
            let fdCount = FdSnapshot.count(pid: pid)
            var threadCount: Int?
            if has.contains(.threads) {
                let s = ThreadSnapshot.read(pid: pid)
                tracker.add(s)
                threadCount = s.error == nil ? s.names.count : nil
            } else {
                threadCount = CaptureSys.listDirectory("/proc/\(pid)/task").0?.count
            }
            timeline.append((now - t0, fdCount, threadCount))
            if outer.isCancelled { stop.cancel() }
            next += step
            if next >= deadline { break }
            if !CaptureSys.sleep(until: next, cancel: cancel) { break }
        }
        _ = CaptureSys.sleep(until: deadline, cancel: cancel)

        let fdsEnd = FdSnapshot.read(pid: pid, withPositions: has.contains(.diskIO))
        if has.contains(.threads) { tracker.add(ThreadSnapshot.read(pid: pid)) }
        let smapsEnd = has.contains(.memory) ? SmapsSnapshot.read(pid: pid) : SmapsSnapshot()
        let socketsEnd = has.contains(.network) ? SocketTable.read(pid: pid) : ([:], [])
        let ioEnd = ProcessIO.read(pid: pid)
        let faultsEnd = has.contains(.memory) ? ProcessIO.faults(pid: pid) : nil
        let elapsed = CaptureSys.monotonicSeconds() - t0
        let after = IdentityCheck.check(identity)

        var samplesByCollector: [MetricCollector: [PerfEventSample]] = [:]
        for (c, r) in recorders {
            do { samplesByCollector[c] = try r.finish(tool: perfTool, cancel: cancel) } catch {
                out.skipped.append(SkippedBackend(backend: "\(c.rawValue).stacks", reason: "perf: \(error)"))
            }
        }

        var w = MetricArtefacts(workDirectory: workDirectory, pid: pid, elapsedSeconds: elapsed)
        for c in collectors {
            do {
                switch c {
                case .fds:
                    let a = try w.fds(start: fdsStart, end: fdsEnd, timeline: timeline)
                    out.answers.append((c, a + (try w.callStacks("opens.folded", samplesByCollector[.fds], verb: "opens") ?? "")))
                case .threads:
                    out.answers.append((c, try w.threads(tracker, timeline: timeline)))
                case .memory:
                    out.answers.append((c, try w.memory(start: smapsStart, end: smapsEnd, samples: samplesByCollector[.memory],
                                                       perfNote: perfNotes[.memory],
                                                       kernelFaults: faultsStart.flatMap { s in faultsEnd.map { Int(clamping: $0 &- s) } })))
                case .diskIO:
                    out.answers.append((c, try w.io(start: fdsStart, end: fdsEnd, ioStart: ioStart, ioEnd: ioEnd,
                                                   samples: samplesByCollector[.diskIO], perfNote: perfNotes[.diskIO])))
                case .network:
                    let a = try w.sockets(start: SocketAnalysis.matched(fdsStart, socketsStart.0),
                                          end: SocketAnalysis.matched(fdsEnd, socketsEnd.0),
                                          errors: socketsStart.1 + socketsEnd.1)
                    out.answers.append((c, a + (try w.callStacks("sends.folded", samplesByCollector[.network], verb: "connect/send calls") ?? "")))
                }
            } catch {
                out.skipped.append(SkippedBackend(backend: c.rawValue, reason: "failed: \(error)"))
            }
        }
        out.backend.artefacts = w.artefacts
        out.backend.stats = ["collectors": Double(collectors.count), "countSamples": Double(timeline.count),
                             "elapsedSeconds": elapsed]
        for (c, s) in samplesByCollector { out.backend.stats["\(c.rawValue)StackSamples"] = Double(s.count) }
        if let r = after.reason {
            out.backend.status = w.artefacts.isEmpty ? .failed : .partial
            out.backend.reason = "metric: \(r) during the capture; end snapshots are what was left"
        } else if cancel.isCancelled {
            out.backend.status = .partial
            out.backend.reason = "metric: cancelled"
        } else if w.artefacts.isEmpty {
            out.backend.status = .failed
            out.backend.reason = "metric: no collector produced data"
        }
        return out
    }
}
