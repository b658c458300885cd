/// The retention rules of a vault, taken from its `VaultOptions`.
///
/// - Age: a capture is purged once `now - capturedAt >= maxAge` (millisecond precision; a
///   capture exactly `maxAge` old is purged, one a millisecond younger is kept). `missing`
///   rows follow the same rule. `quarantined` rows are never purged automatically: they
///   reference something the library refuses to touch, so they stay for a human to look at
///   (`deleteOlderThan` removes their rows without touching their paths).
/// - Footprint: database + `-wal` + `-shm` + every entry of `artefacts/`, counted in blocks
///   actually allocated (`st_blocks * 512`). Over budget, whole captures are evicted oldest
///   first until the footprint is at or under it. The newest capture is never evicted by size,
///   so a single capture larger than the budget is still kept.
/// - Free-space floor: while the filesystem has less than `minFreePercent` free, captures are
///   evicted the same way (as systemd-coredump's `KeepFree`).
struct RetentionPolicy: Sendable, Equatable {
    /// nil = no age limit.
    var maxAgeMilliseconds: Int64?
    /// nil = no budget.
    var maxFootprintBytes: Int64?
    /// 0 = no floor.
    var minFreePercent: Int64
    var orphanGraceSeconds: Int64

    init(_ o: VaultOptions) {
        maxAgeMilliseconds = o.maxAgeSeconds > 0 ? o.maxAgeSeconds * 1000 : nil
        maxFootprintBytes = o.maxFootprintBytes > 0 ? o.maxFootprintBytes : nil
        minFreePercent = o.minFreePercent
        orphanGraceSeconds = o.orphanGraceSeconds
    }

    /// Captures with `capturedAt <= cutoff` are past the age limit at `now`.
    func ageCutoff(now: Timestamp) -> Timestamp? {
        maxAgeMilliseconds.map { Timestamp(milliseconds: now.milliseconds &- $0) }
    }

    /// Bytes to give back so that `footprint` is within budget and the filesystem keeps its
    /// free share; 0 when nothing needs evicting.
    func excess(footprint: Int64, space: FreeSpace?) -> Int64 {
        var need: Int64 = 0
        if let budget = maxFootprintBytes, footprint > budget { need = footprint - budget }
        if minFreePercent > 0, let space, space.totalBytes > 0 {
            let floor = space.totalBytes / 100 * minFreePercent
            if space.availableBytes < floor { need = max(need, floor - space.availableBytes) }
        }
        return need
    }
}
