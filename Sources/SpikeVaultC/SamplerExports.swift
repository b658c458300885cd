#if canImport(Glibc)
import Glibc
#endif
import SpikeVault

/// Heap box behind an `sv_sampler *` handle: a ProcessTable and the names it handed out.
/// Every call on it runs under its own lock: the header asks for one thread at a time, but a
/// host breaking that rule gets serialised calls, not a corrupted heap (the table and the name
/// list are plain Swift arrays).
final class SamplerBox: @unchecked Sendable {
    let table: ProcessTable
    /// One C copy per row name asked for, until the next refresh: asking again is free.
    private var names: [Int64: UnsafeMutablePointer<CChar>] = [:]
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ table: ProcessTable) {
        self.table = table
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        release()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func serialised<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Called under the lock (or from deinit).
    func release() {
        for p in names.values { free(p) }
        names.removeAll()
    }

    /// A C copy of row `row`'s name owned by the sampler until its next refresh. Under the lock.
    func name(_ row: Int64) throws -> UnsafePointer<CChar> {
        if let p = names[row] { return UnsafePointer(p) }
        let p = strdup(try table.row(row).comm)!
        names[row] = p
        return UnsafePointer(p)
    }
}

private func withSampler(_ sampler: OpaquePointer?, _ body: (SamplerBox) throws -> Void) -> Int32 {
    guarded {
        let box = try Handles.shared.lookup(sampler, as: SamplerBox.self, "sampler")
        try box.serialised { try body(box) }
    }
}

/// Creates a process sampler: the monitor's /proc sampler, on its own, for hosts that show
/// the machine's processes (a live view such as `spikevault top`). It holds no rows until
/// sv_sampler_refresh. Errors: SV_ERR_UNSUPPORTED without Linux procfs. The caller owns
/// *out_sampler and frees it with sv_sampler_free. Use one sampler from one thread at a time.
@c(sv_sampler_new)
public func sv_sampler_new(_ out_sampler: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_sampler, "out_sampler")
        out.pointee = nil
        out.pointee = Handles.shared.register(SamplerBox(try ProcessTable()))
    }
}

/// Releases a sampler and the names it handed out. NULL is a no-op (SV_OK); freeing twice
/// gives SV_ERR_CLOSED.
@c(sv_sampler_free)
public func sv_sampler_free(_ sampler: OpaquePointer?) -> Int32 {
    guarded { _ = try Handles.shared.remove(sampler, as: SamplerBox.self, "sampler") }
}

/// One pass over /proc with every reading (CPU, RSS, disk I/O, threads, fds, sockets),
/// replacing the previous rows; *out_rows (may be NULL) receives their number. Rows are in
/// /proc order; kernel threads and zombies are left out. Names returned for the previous
/// rows become invalid. CPU and I/O need two passes: a process on its first pass has none.
@c(sv_sampler_refresh)
public func sv_sampler_refresh(_ sampler: OpaquePointer?, _ out_rows: UnsafeMutablePointer<Int64>?) -> Int32 {
    withSampler(sampler) { box in
        box.release()
        out_rows?.pointee = Int64(box.table.refresh().count)
    }
}

/// Who the process in a row of the last refresh (0 to rows - 1) is: its pid, owner uid, start time
/// (field 22 of /proc/PID/stat, clock ticks since boot: with the pid, the process's identity)
/// and whether the caller may inspect and capture it (1: same uid, or the caller is root).
/// Each out-parameter may be NULL. SV_ERR_INVALID_ARGUMENT for a row outside the table.
@c(sv_sampler_row_process)
public func sv_sampler_row_process(_ sampler: OpaquePointer?, _ row: Int64, _ out_pid: UnsafeMutablePointer<Int64>?,
                                   _ out_uid: UnsafeMutablePointer<Int64>?, _ out_start_time: UnsafeMutablePointer<Int64>?,
                                   _ out_inspectable: UnsafeMutablePointer<Int32>?) -> Int32 {
    withSampler(sampler) { box in
        let s = try box.table.row(row)
        out_pid?.pointee = Int64(s.pid)
        out_uid?.pointee = Int64(s.uid)
        out_start_time?.pointee = Int64(clamping: s.startTimeTicks)
        out_inspectable?.pointee = s.inspectable ? 1 : 0
    }
}

/// A row's reading of a metric (an SV_METRIC_* value; units as in sv_rule_new: CPU in % of
/// one core, memory = RSS in MiB, disk I/O MiB/s, network = open sockets, threads, fds) into
/// *out_value; NaN when this pass has none (CPU and I/O on a process's first pass; io, fds and
/// sockets of a process the caller may not inspect). SV_ERR_INVALID_ARGUMENT for a row outside
/// the table or an unknown metric.
@c(sv_sampler_row_value)
public func sv_sampler_row_value(_ sampler: OpaquePointer?, _ row: Int64, _ metric: Int32,
                                 _ out_value: UnsafeMutablePointer<Double>?) -> Int32 {
    withSampler(sampler) { box in
        let out = try requireOut(out_value, "out_value")
        let m = try sv_metric.from(metric)
        out.pointee = try box.table.row(row).value(m) ?? .nan
    }
}

/// A row's process name (comm, at most 15 bytes, as the kernel keeps it; UTF-8 with
/// invalid bytes replaced). It came from the process: escape it before showing it. Owned by
/// the sampler: valid until the next sv_sampler_refresh or sv_sampler_free. NULL on misuse.
@c(sv_sampler_row_name)
public func sv_sampler_row_name(_ sampler: OpaquePointer?, _ row: Int64) -> UnsafePointer<CChar>? {
    guardedValue(nil) {
        let box = try Handles.shared.lookup(sampler, as: SamplerBox.self, "sampler")
        return try box.serialised { try box.name(row) }
    }
}
