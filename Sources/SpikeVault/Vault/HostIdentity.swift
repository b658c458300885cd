import Glibc

/// The host a capture was taken on (docs/fleet.md, "Host identity"): its name and the
/// systemd machine ID. Recorded with every saved capture; the host application may set
/// either through `VaultOptions.hostName` / `.machineID` (e.g. a container naming its node).
///
/// A host name is 1-253 characters of `A-Z a-z 0-9 . _ -` starting with a letter or digit:
/// the characters of RFC 1123 names plus `_`. It becomes a directory name in partitioned
/// exports (`host=NAME`), so nothing else is accepted from the host application, and a
/// detected name with other bytes has each of them replaced by `-`.
public struct HostIdentity: Sendable, Equatable {
    public var hostName: String?
    public var machineID: String?

    public init(hostName: String? = nil, machineID: String? = nil) {
        self.hostName = hostName
        self.machineID = machineID
    }

    public static func isValidHostName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 253, isAlnum(u[0]) else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A machine ID: 1-64 characters of `0-9 a-z A-Z - _` (systemd's is 32 lowercase hex).
    public static func isValidMachineID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return !u.isEmpty && u.count <= 64
            && u.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    /// `gethostname(2)` made valid, and `/etc/machine-id` when it is a readable regular file
    /// holding 32 hex digits; nil for what cannot be read.
    public static func detect(machineIDPath: String = "/etc/machine-id") -> HostIdentity {
        HostIdentity(hostName: detectHostName(), machineID: readMachineID(machineIDPath))
    }

    static func detectHostName() -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return nil }
        let raw = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return sanitize(raw)
    }

    /// Bytes outside the host-name set become `-`; a leading non-alphanumeric gets an `h`.
    static func sanitize(_ raw: [UInt8]) -> String? {
        guard !raw.isEmpty else { return nil }
        var u = raw.prefix(252).map { c -> UInt8 in
            isAlnum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") ? c : UInt8(ascii: "-")
        }
        if !isAlnum(u[0]) { u.insert(UInt8(ascii: "h"), at: 0) }
        return String(decoding: u, as: UTF8.self)
    }

    static func readMachineID(_ path: String) -> String? {
        // /etc/machine-id may be a symlink (to /var/lib/dbus/machine-id on some systems):
        // followed, but only a regular file is read, non-blocking, at most 64 bytes.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buf, buf.count)
        guard n >= 32 else { return nil }
        let id = buf.prefix(32)
        let hex = id.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
        guard hex, n == 32 || buf[32] == UInt8(ascii: "\n") else { return nil }
        return String(decoding: id, as: UTF8.self)
    }
}
