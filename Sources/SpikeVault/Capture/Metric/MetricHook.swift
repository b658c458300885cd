import Synchronization

extension CaptureRequest {
    /// The collectors this request runs: its explicit list, else `auto`'s plan for its metric
    /// (other backends run none unless listed).
    public var plannedCollectors: [MetricCollector] {
        collectors ?? (backend == .auto ? MetricCollector.autoPlan(for: metric) : [])
    }
}

/// The metric collectors on their own thread, joined by `runCapture` after the backends.
final class MetricRunThread: Sendable {
    private let box = Mutex<MetricResult?>(nil)
    private let thread: Mutex<WorkerThread?> = Mutex(nil)
    private let stop = CancelFlag()

    /// nil when the request plans no collector.
    static func start(_ request: CaptureRequest, identity: ProcessIdentity, workDirectory: String,
                      cancel: CancelFlag) throws -> MetricRunThread? {
        let plan = request.plannedCollectors
        guard !plan.isEmpty else { return nil }
        let run = MetricRunThread()
        let t = try WorkerThread { [run] in
            let r = MetricCapture.run(plan, identity: identity, durationSeconds: request.durationSeconds,
                                      intervalSeconds: request.intervalSeconds, workDirectory: workDirectory, cancel: cancel,
                                      stop: run.stop, perfTool: MetricCapture.perfToolOverride.withLock { $0 } ?? "perf")
            run.box.withLock { $0 = r }
        }
        run.thread.withLock { $0 = t }
        return run
    }

    /// Waits for the collectors (once; later calls return the same result).
    func join() -> MetricResult? {
        thread.withLock { t in let held = t; t = nil; return held }?.join()
        return box.withLock { $0 }
    }

    /// Stops the collectors early and joins them: for a capture whose backend threw.
    func abandon() {
        stop.cancel()
        _ = join()
    }
}

extension MetricCapture {
    /// Test hook: the perf executable the collectors spawn (nil: `perf` from PATH).
    static let perfToolOverride = Mutex<String?>(nil)
}

/// The `metric` object in a capture's notes: collectors run, the answer for the trigger
/// metric (`headline`) and every collector's answer.
enum MetricNotes {
    static func write(_ w: inout JSONWriter, _ m: MetricResult, metric: TriggerMetric) {
        w.key("metric")
        w.beginObject()
        w.field("collectors", strings: m.collectors.map(\.rawValue))
        w.field("headline", m.headline(for: metric))
        w.key("answers")
        w.beginObject()
        for (c, a) in m.answers { w.field(c.rawValue, a) }
        w.endObject()
        w.endObject()
    }
}
