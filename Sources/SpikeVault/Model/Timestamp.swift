/// The one time representation of SpikeVault: whole milliseconds since the Unix epoch, UTC.
///
/// Stored as an INTEGER in SQLite, so `<` on the column compares instants (the seed design
/// mixed CURRENT_TIMESTAMP text with bound dates, which does not compare correctly).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    public func adding(seconds: Double) -> Timestamp {
        Timestamp(milliseconds: milliseconds &+ Int64((seconds * 1000).rounded()))
    }

    /// Compact UTC form used in artefact file names: `20261127T143512.123Z`. Any Int64 is
    /// accepted (hosts pass arbitrary bounds, e.g. to sv_vault_analytics): a time gmtime(3)
    /// cannot represent gives `<ms>ms`.
    public var compactUTC: String {
        var t = time_t(milliseconds.floorDiv(1000))
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return "\(milliseconds)ms" }
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "."
            + pad(Int32(milliseconds.floorMod(1000)), 3) + "Z"
    }

    /// ISO 8601 UTC: `2026-11-27T14:35:12.123Z`.
    public var description: String {
        let c = Array(compactUTC)
        // Years before 0 or after 9999 do not fit the fixed-width form.
        guard c.count == 20 else { return "\(milliseconds) ms since the epoch" }
        let s = { (a: Int, b: Int) in String(c[a..<b]) }
        return "\(s(0, 4))-\(s(4, 6))-\(s(6, 8))T\(s(9, 11)):\(s(11, 13)):\(s(13, 15))\(s(15, 20))"
    }
}

extension Int64 {
    // For d > 1 neither can overflow, even for Int64.min (found by fuzzing: the old floorMod,
    // self - floorDiv(d) * d, overflowed and trapped for Int64.min).
    func floorDiv(_ d: Int64) -> Int64 { let q = self / d; return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q }
    func floorMod(_ d: Int64) -> Int64 { let r = self % d; return (r != 0 && (r < 0) != (d < 0)) ? r + d : r }
}
