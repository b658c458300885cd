/// What spiked. The raw values are the strings stored in `profile_capture.triggerMetric`.
public enum TriggerMetric: String, Sendable, CaseIterable, Codable {
    case cpu
    case memory
    case diskIO
    case network
    case threads
    case fds
}

/// Lifecycle of a stored capture, stored in `profile_capture.status`.
public enum CaptureStatus: String, Sendable, CaseIterable, Codable {
    /// Every artefact was written and verified at save time.
    case complete
    /// The capture ended early (the process exited or was replaced); what was caught is kept.
    case partial
    /// The capture produced no usable artefact; the row records why in `notes`.
    case failed
    /// The artefact file vanished after it was stored (found by maintenance).
    case missing
    /// The row references a path that is not a plain file inside `artefacts/`; never deleted through.
    case quarantined
}
