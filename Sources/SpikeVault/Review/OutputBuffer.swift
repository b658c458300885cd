/// Buffered writes to a file descriptor (exports stream rows through it).
struct OutputBuffer {
    let fd: Int32
    let what: String
    private var bytes: [UInt8] = []
    private(set) var written: Int64 = 0

    init(fd: Int32, what: String) {
        self.fd = fd
        self.what = what
        bytes.reserveCapacity(1 << 17)
    }

    mutating func append(_ s: String) {
        bytes.append(contentsOf: s.utf8)
    }

    mutating func append(bytes b: some Collection<UInt8>) { bytes.append(contentsOf: b) }

    mutating func flushIfLarge() throws { if bytes.count >= 1 << 16 { try flush() } }

    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { try Posix.writeAll(fd, $0, what) }
        written += Int64(bytes.count)
        bytes.removeAll(keepingCapacity: true)
    }
}
