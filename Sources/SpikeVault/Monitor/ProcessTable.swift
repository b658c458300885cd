/// The machine's processes as the monitor's sampler sees them, every reading gathered (CPU,
/// RSS, disk I/O, threads, fds, sockets): what a live view such as `spikevault top` shows.
///
/// `refresh()` is one sampler pass; the rows stay as they are until the next one. CPU and
/// I/O rates need two passes, so a process on its first refresh has nil for them. Processes
/// the caller may not inspect (another uid, unless root) have no io, fds or sockets.
/// Not thread-safe: one thread refreshes and reads a table.
public final class ProcessTable: @unchecked Sendable {
    private let sampler: ProcessSampler
    /// The last refresh's rows, in /proc order (the host sorts them).
    public private(set) var rows: [ProcessSample] = []
    /// Refreshes so far.
    public private(set) var refreshes: Int64 = 0

    /// - Throws: `.unsupported` without Linux procfs.
    public init(procRoot: String = "/proc") throws {
        sampler = try ProcessSampler(procRoot: procRoot)
    }

    /// One pass over /proc with every reading; returns the new rows.
    @discardableResult
    public func refresh() -> [ProcessSample] {
        rows = sampler.tick(needs: .all)
        refreshes += 1
        return rows
    }

    /// Row `index` of the last refresh. Throws `.invalidArgument` outside 0..<rows.count.
    public func row(_ index: Int64) throws -> ProcessSample {
        guard index >= 0, index < Int64(rows.count) else {
            throw SpikeVaultError(.invalidArgument, "row must be 0 to \(rows.count - 1) (the last refresh's rows), got \(index)")
        }
        return rows[Int(index)]
    }

    /// The sampler's counters (ticks, processes, vanished, unreadable, its CPU cost).
    public var counters: SamplerCounters { sampler.counters }
}
