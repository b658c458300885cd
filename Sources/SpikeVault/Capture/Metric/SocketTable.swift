/// Sockets of the process's network namespace from `/proc/PID/net/{tcp,tcp6,udp,udp6,unix}`,
/// keyed by inode so that `/proc/PID/fd`'s `socket:[N]` links can be matched to them.
struct SocketEntry: Sendable, Equatable {
    var proto: String
    var local: String
    var remote: String
    var state: String
    var txQueue: UInt64
    var rxQueue: UInt64
    var inode: UInt64
}

enum SocketTable {
    static let tcpStates = ["01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
                            "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
                            "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING", "0C": "NEW_SYN_RECV"]

    /// inode → socket for every table readable; `errors` names the tables that were not.
    static func read(pid: Int32) -> (sockets: [UInt64: SocketEntry], errors: [String]) {
        var out: [UInt64: SocketEntry] = [:]
        var errors: [String] = []
        for proto in ["tcp", "tcp6", "udp", "udp6", "unix"] {
            guard let text = CaptureSys.readText("/proc/\(pid)/net/\(proto)") else { errors.append(proto); continue }
            for e in (proto == "unix" ? parseUnix(text) : parseInet(text, proto: proto)) where e.inode != 0 { out[e.inode] = e }
        }
        return (out, errors)
    }

    /// Pure: `sl local rem st tx:rx tr tm retr uid timeout inode …` lines after the header.
    static func parseInet(_ text: String, proto: String) -> [SocketEntry] {
        var out: [SocketEntry] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ")
            guard f.count >= 10, let inode = UInt64(f[9]) else { continue }
            let queues = f[4].split(separator: ":")
            let st = String(f[3])
            let state = proto.hasPrefix("udp") ? (st == "07" ? "UNCONN" : st == "01" ? "ESTABLISHED" : st)
                : (tcpStates[st] ?? st)
            out.append(SocketEntry(proto: proto, local: address(f[1]), remote: address(f[2]), state: state,
                                   txQueue: queues.count == 2 ? UInt64(queues[0], radix: 16) ?? 0 : 0,
                                   rxQueue: queues.count == 2 ? UInt64(queues[1], radix: 16) ?? 0 : 0,
                                   inode: inode))
        }
        return out
    }

    /// Pure: `Num RefCount Protocol Flags Type St Inode [Path]`.
    static func parseUnix(_ text: String) -> [SocketEntry] {
        var out: [SocketEntry] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", maxSplits: 7)
            guard f.count >= 7, let inode = UInt64(f[6]) else { continue }
            let path = f.count > 7 ? String(f[7]) : ""
            let st: String
            switch f[5] { case "01": st = "UNCONNECTED"; case "02": st = "CONNECTING"; case "03": st = "CONNECTED"
                          case "04": st = "DISCONNECTING"; default: st = String(f[5]) }
            let type = f[4] == "0001" ? "stream" : f[4] == "0002" ? "dgram" : f[4] == "0005" ? "seqpacket" : String(f[4])
            out.append(SocketEntry(proto: "unix", local: path.isEmpty ? "(unnamed \(type))" : path, remote: "",
                                   state: (UInt32(f[3], radix: 16) ?? 0) & 0x10000 != 0 ? "LISTEN" : st,
                                   txQueue: 0, rxQueue: 0, inode: inode))
        }
        return out
    }

    /// `0100007F:1538` → `127.0.0.1:5432`; 32-hex-digit IPv6 → `[…]:port`.
    static func address(_ field: Substring) -> String {
        let parts = field.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1], radix: 16) else { return String(field) }
        let hex = Array(parts[0].utf8)
        func byte(_ i: Int) -> UInt8 { UInt8(String(decoding: hex[i * 2..<i * 2 + 2], as: UTF8.self), radix: 16) ?? 0 }
        if hex.count == 8 {
            return "\(byte(3)).\(byte(2)).\(byte(1)).\(byte(0)):\(port)"
        }
        guard hex.count == 32 else { return String(field) }
        // Four 32-bit words, each printed in host (little-endian) order.
        var bytes: [UInt8] = []
        for w in 0..<4 { for b in (0..<4).reversed() { bytes.append(byte(w * 4 + b)) } }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return "[::ffff:\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15])]:\(port)"
        }
        var groups: [UInt16] = []
        for g in 0..<8 { groups.append(UInt16(bytes[g * 2]) << 8 | UInt16(bytes[g * 2 + 1])) }
        // Longest run of zero groups (2+) becomes "::".
        var best = (start: -1, len: 0), i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > best.len && j - i >= 2 { best = (i, j - i) }
                i = j
            } else { i += 1 }
        }
        func hexs(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
        let text = best.start < 0 ? hexs(groups[...])
            : hexs(groups[..<best.start]) + "::" + hexs(groups[(best.start + best.len)...])
        return "[\(text)]:\(port)"
    }
}

/// Sockets grouped by protocol and remote address (listening and unconnected sockets by local).
struct SocketGroup: Sendable, Equatable {
    var proto: String
    var peer: String
    var start: Int
    var end: Int
    var states: [String: Int]
    var growth: Int { end - start }
}

enum SocketAnalysis {
    /// The grouping key of a socket: its remote address; for a connection accepted by one of
    /// the process's listeners, "accepted on" that listener (their remote ports say nothing);
    /// for listening or unconnected sockets their local address.
    static func peer(_ s: SocketEntry, listeners: Set<String>) -> String {
        if s.proto == "unix" { return NamePattern.collapse(s.local) }
        let unconnected = s.remote.hasSuffix(":0") && (s.remote.hasPrefix("0.0.0.0") || s.remote.hasPrefix("[::]"))
        if unconnected { return "\(s.state == "LISTEN" ? "listening on" : "bound to") \(s.local)" }
        let port = s.local.split(separator: ":").last.map(String.init) ?? ""
        for l in [s.local, "0.0.0.0:\(port)", "[::]:\(port)"] where listeners.contains(s.proto + " " + l) {
            return "accepted on \(l)"
        }
        return s.remote
    }

    /// `proto local` of every listening socket.
    static func listeners(_ all: [(fd: Int32, socket: SocketEntry?)]) -> Set<String> {
        Set(all.compactMap { $0.socket }.filter { $0.state == "LISTEN" }.map { $0.proto + " " + $0.local })
    }

    /// The process's sockets (fd → socket entry) at one moment.
    static func matched(_ fds: FdSnapshot, _ table: [UInt64: SocketEntry]) -> [(fd: Int32, socket: SocketEntry?)] {
        fds.fds.filter { $0.kind == "socket" }.map { f in (f.fd, f.socketInode.flatMap { table[$0] }) }
    }

    static func groups(start: [(fd: Int32, socket: SocketEntry?)], end: [(fd: Int32, socket: SocketEntry?)]) -> [SocketGroup] {
        var by: [String: SocketGroup] = [:]
        let listening = listeners(start + end)
        func key(_ s: SocketEntry?) -> (String, String) {
            guard let s else { return ("other", "(not in /proc/net: netlink, packet or another namespace)") }
            return (s.proto, peer(s, listeners: listening))
        }
        for (_, s) in start { let (p, r) = key(s); by[p + " " + r, default: .init(proto: p, peer: r, start: 0, end: 0, states: [:])].start += 1 }
        for (_, s) in end {
            let (p, r) = key(s)
            by[p + " " + r, default: .init(proto: p, peer: r, start: 0, end: 0, states: [:])].end += 1
            by[p + " " + r]!.states[s?.state ?? "?", default: 0] += 1
        }
        return by.values.sorted {
            if $0.growth != $1.growth { return $0.growth > $1.growth }
            if $0.end != $1.end { return $0.end > $1.end }
            return $0.peer < $1.peer
        }
    }
}
