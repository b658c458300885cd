/// Turns frequency-mode perf samples into estimates of events (faults) or bytes.
///
/// perf records with each sample the period the kernel had set when the sample fired, which
/// under `-F` is the period for the *next* stretch: on bursty events (64 KiB memset, 2 ms
/// sleep) the sum of periods overshot the faults the kernel counted 3× (steady events matched
/// within 1%). So each sample's weight (period, or `count` × period) is scaled so that the
/// sum over all samples equals the kernel's exact total over the window (`/proc/PID/stat`
/// faults, `/proc/PID/io` rchar + wchar), when the kernel gives one; the samples still decide
/// how that total splits between stacks.
struct SampleScaling {
    /// Sum of the raw weights of every sample (before any filter).
    let sampled: Int
    /// The kernel's count over the window, nil when unknown.
    let kernel: Int?
    let factor: Double

    init(_ samples: [PerfEventSample], kernelTotal: Int?, raw: (PerfEventSample) -> Int) {
        sampled = samples.reduce(0) { $0 &+ raw($1) }
        kernel = kernelTotal.flatMap { $0 > 0 ? $0 : nil }
        if let k = kernel, sampled > 0 { factor = Double(k) / Double(sampled) } else { factor = 1 }
    }

    /// The scaled weight of one raw weight (at least 1 for a nonzero one, so no sample vanishes).
    func weight(_ raw: Int) -> Int {
        guard raw > 0 else { return 0 }
        return max(1, Int((Double(raw) * factor).rounded()))
    }

    /// The fields recorded beside the estimate: what perf's periods summed to and the kernel's count.
    func write(_ w: inout JSONWriter, sampledKey: String, kernelKey: String) {
        w.field(sampledKey, sampled)
        w.field(kernelKey, kernel)
    }
}
