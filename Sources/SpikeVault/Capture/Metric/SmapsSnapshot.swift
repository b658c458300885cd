/// Memory mappings of a process from `/proc/PID/smaps`, grouped by what they map.
struct MappingSizes: Sendable, Equatable {
    var count = 0
    var sizeKiB: UInt64 = 0
    var rssKiB: UInt64 = 0
    var pssKiB: UInt64 = 0
    var anonymousKiB: UInt64 = 0
    var swapKiB: UInt64 = 0

    mutating func add(_ o: MappingSizes) {
        count += o.count; sizeKiB += o.sizeKiB; rssKiB += o.rssKiB; pssKiB += o.pssKiB
        anonymousKiB += o.anonymousKiB; swapKiB += o.swapKiB
    }
}

struct SmapsSnapshot: Sendable {
    /// label → sizes; labels are `[heap]`, `[stack]`, `[anon]` (no name), `[vdso]`…, or the
    /// mapped file's path (hostile text).
    var groups: [String: MappingSizes] = [:]
    var error: String?

    /// The kind of a label: heap, stack, anon, file, special.
    static func kind(of label: String) -> String {
        switch label {
        case "[heap]": return "heap"
        case "[anon]": return "anon"
        default:
            if label.hasPrefix("[stack") { return "stack" }
            if label.hasPrefix("[anon:") { return "anon" }
            if label.hasPrefix("/") { return "file" }
            return "special"
        }
    }

    static func read(pid: Int32) -> SmapsSnapshot {
        switch CaptureSys.read("/proc/\(pid)/smaps", limit: 64 << 20) {
        case .failed(let e): return SmapsSnapshot(groups: [:], error: "cannot read /proc/\(pid)/smaps: errno \(e)")
        case .ok(let bytes): return parse(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Pure parser of smaps text.
    static func parse(_ text: String) -> SmapsSnapshot {
        var snap = SmapsSnapshot()
        var label: String?
        var cur = MappingSizes()
        func flush() {
            if let l = label { snap.groups[l, default: MappingSizes()].add(cur) }
        }
        for line in text.split(separator: "\n") {
            guard let firstSpace = line.firstIndex(of: " ") else { continue }
            let first = line[..<firstSpace]
            if first.hasSuffix(":") {
                guard label != nil else { continue }
                let key = first.dropLast()
                let value = UInt64(line[firstSpace...].trimmingASCIIWhitespaceSub().split(separator: " ").first ?? "") ?? 0
                switch key {
                case "Size": cur.sizeKiB = value
                case "Rss": cur.rssKiB = value
                case "Pss": cur.pssKiB = value
                case "Anonymous": cur.anonymousKiB = value
                case "Swap": cur.swapKiB = value
                default: break
                }
            } else if first.contains("-") {
                flush()
                // start-end perms offset dev inode [path…] (the path may hold spaces).
                var rest = line[firstSpace...]
                for _ in 0..<4 {
                    rest = rest.drop { $0 == " " }
                    rest = rest.drop { $0 != " " }
                }
                let path = String(rest.trimmingASCIIWhitespaceSub())
                label = path.isEmpty ? "[anon]" : path
                cur = MappingSizes(count: 1)
            }
        }
        flush()
        return snap
    }
}

struct MappingGrowth: Sendable, Equatable {
    var label: String
    var kind: String
    var start: MappingSizes
    var end: MappingSizes
    var rssGrowthKiB: Int64 { Int64(end.rssKiB) - Int64(start.rssKiB) }
}

enum MappingAnalysis {
    /// Every label seen at start or end, sorted by Rss growth (largest first), then end Rss.
    static func growth(start: SmapsSnapshot, end: SmapsSnapshot) -> [MappingGrowth] {
        var labels = Set(start.groups.keys)
        labels.formUnion(end.groups.keys)
        return labels.map { l in
            MappingGrowth(label: l, kind: SmapsSnapshot.kind(of: l),
                          start: start.groups[l] ?? MappingSizes(), end: end.groups[l] ?? MappingSizes())
        }.sorted {
            if $0.rssGrowthKiB != $1.rssGrowthKiB { return $0.rssGrowthKiB > $1.rssGrowthKiB }
            if $0.end.rssKiB != $1.end.rssKiB { return $0.end.rssKiB > $1.end.rssKiB }
            return $0.label < $1.label
        }
    }
}
