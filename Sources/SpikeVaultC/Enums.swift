import SpikeVault

/// Trigger metrics as the C ABI numbers them (`SV_METRIC_*`). Numbers are ABI.
@c public enum sv_metric: Int32 {
    case cpu = 1
    case memory = 2
    case diskIo = 3
    case network = 4
    case threads = 5
    case fds = 6
}

/// Capture status as the C ABI numbers it (`SV_CAPTURE_*`). Numbers are ABI.
@c public enum sv_capture_status: Int32 {
    case complete = 1
    case partial = 2
    case failed = 3
    case missing = 4
    case quarantined = 5
}

/// Keys for `sv_options_set_int` (`SV_OPT_*`). Numbers are ABI.
@c public enum sv_option: Int32 {
    case compressionLevel = 1
    case durability = 2
    case busyTimeoutMs = 3
    case maxArtefactBytes = 4
    case windowLogMax = 5
}

extension sv_metric {
    var metric: TriggerMetric {
        switch self {
        case .cpu: return .cpu
        case .memory: return .memory
        case .diskIo: return .diskIO
        case .network: return .network
        case .threads: return .threads
        case .fds: return .fds
        }
    }

    /// Converts a raw C value, refusing numbers outside the enum (never a trap).
    static func from(_ raw: Int32) throws -> TriggerMetric {
        guard let m = sv_metric(rawValue: raw) else {
            throw SpikeVaultError(.invalidArgument, "unknown metric \(raw); use one of SV_METRIC_CPU...SV_METRIC_FDS")
        }
        return m.metric
    }

    static func number(_ metric: TriggerMetric) -> Int32 {
        switch metric {
        case .cpu: return sv_metric.cpu.rawValue
        case .memory: return sv_metric.memory.rawValue
        case .diskIO: return sv_metric.diskIo.rawValue
        case .network: return sv_metric.network.rawValue
        case .threads: return sv_metric.threads.rawValue
        case .fds: return sv_metric.fds.rawValue
        }
    }
}

extension sv_capture_status {
    static func number(_ status: CaptureStatus) -> Int32 {
        switch status {
        case .complete: return sv_capture_status.complete.rawValue
        case .partial: return sv_capture_status.partial.rawValue
        case .failed: return sv_capture_status.failed.rawValue
        case .missing: return sv_capture_status.missing.rawValue
        case .quarantined: return sv_capture_status.quarantined.rawValue
        }
    }
}

extension sv_option {
    /// The `VaultOptions` field behind a raw key.
    static func name(_ raw: Int32) throws -> String {
        switch sv_option(rawValue: raw) {
        case .compressionLevel: return "compressionLevel"
        case .durability: return "durability"
        case .busyTimeoutMs: return "busyTimeoutMilliseconds"
        case .maxArtefactBytes: return "maxArtefactBytes"
        case .windowLogMax: return "windowLogMax"
        case nil: throw SpikeVaultError(.invalidArgument, "unknown option key \(raw)")
        }
    }
}
