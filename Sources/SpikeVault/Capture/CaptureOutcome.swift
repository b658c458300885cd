// Final state: `CaptureStatus` (Model/TriggerMetric.swift); a capture ends complete, partial or failed.

/// A raw (uncompressed) file written into the work directory.
public struct CaptureArtefact: Sendable, Equatable {
    /// `procfs.json`, `oncpu.folded`, `offcpu.folded`, `perf.script`, `gdb.txt`,
    /// `command.output`, `command.log`, `sample.txt`, `spindump.txt`.
    public var kind: String
    /// Absolute or work-directory-relative path as given by the caller, plus the file name.
    public var path: String

    public init(kind: String, path: String) { self.kind = kind; self.path = path }
}

/// A backend that did not run (or failed), with the reason.
public struct SkippedBackend: Sendable, Equatable {
    public var backend: String
    public var reason: String

    public init(backend: String, reason: String) { self.backend = backend; self.reason = reason }
}

/// What one backend produced.
public struct BackendResult: Sendable {
    public var backend: String
    public var artefacts: [CaptureArtefact] = []
    public var status: CaptureStatus = .complete
    public var reason: String?
    /// Numbers worth recording (e.g. `samples`, `achievedRateHz`).
    public var stats: [String: Double] = [:]
    /// Facts worth telling that do not make the capture partial (e.g. why no off-CPU stacks).
    public var notes: [String] = []

    public init(backend: String) { self.backend = backend }
}

/// The result of `runCapture`.
public struct CaptureOutcome: Sendable {
    /// The process as identified at trigger time.
    public var identity: ProcessIdentity
    /// Raw files written into the work directory, in the order backends produced them.
    public var artefacts: [CaptureArtefact]
    public var status: CaptureStatus
    /// Why the capture is partial or failed (backends' reasons joined by "; "); nil if complete.
    public var reason: String?
    /// Backends that ran (even if they ended partial).
    public var backendsRun: [String]
    /// Backends not run or failed, with why.
    public var backendsSkipped: [SkippedBackend]
    /// Per-backend statistics, e.g. `["eu-stack": ["samples": 10, "achievedRateHz": 9.8]]`.
    public var stats: [String: [String: Double]]
    public var startedAtUnixSeconds: Double
    public var elapsedSeconds: Double
    /// Informational notes of the backends and of `auto`'s choice.
    public var notes: [String] = []
    /// What the metric collectors found (nil when none ran).
    public var metric: MetricResult? = nil
}
