// Target (d): the byte and text parsers fed by tools and /proc: folded stacks, eu-stack,
// gdb and perf-script output, /proc/PID/stat (three parsers), /proc/PID/io and status
// key-value text, the lossless byte escaper, and the speedscope writer over parsed stacks.
@testable import SpikeVault

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let which = input.pick(9)
    let bytes = input.rest()
    let text = String(decoding: bytes, as: UTF8.self)
    switch which {
    case 0:
        let f = FoldedStacks.parse(text)
        _ = Speedscope.json(f, name: "fuzz", redactor: .disabled)
    case 1: check(EuStackParser.parse(text))
    case 2: check(GdbBacktraceParser.parse(text))
    case 3: check(PerfScriptParser.parse(text))
    case 4:
        bytes.withUnsafeBufferPointer { b in
            if let s = ProcBytes.parseStat(b) {
                guard 0 <= s.commStart, s.commStart <= s.commEnd, s.commEnd <= b.count else { fatalError("comm range \(s)") }
            }
            _ = ProcBytes.integer(forKey: "VmRSS:", in: b)
            _ = ProcBytes.trimmedLines(b)
            _ = ProcBytes.trimmedText(b)
            _ = ProcStat.parse(bytes: b)
        }
    case 5:
        bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return }
            _ = ProcfsBytes.parseIO(base, b.count)
        }
    case 6:
        var z = bytes.map { CChar(bitPattern: $0) }; z.append(0)
        _ = z.withUnsafeBufferPointer { ProcfsBytes.pid($0.baseAddress!) }
        _ = ProcStat.parse(text)
    case 7:
        let kv = ProcKeyValue.parse(text)
        for v in kv.values { _ = ProcKeyValue.firstInteger(v); _ = ProcKeyValue.integers(v) }
    default:
        let e = LosslessText.escape(bytes)
        if LosslessText.unescape(e) != bytes { fatalError("escape/unescape lost bytes") }
        if !bytes.contains(where: { $0 >= 0x80 || $0 == 0x5C }) && e != text { fatalError("escape changed plain ASCII") }
    }
    return 0
}

private func check(_ threads: [ThreadStack]) {
    var folder = OnOffCPUFolder()
    folder.add(snapshot: threads, states: [:])
    var f = FoldedStacks()
    for t in threads { f.add(t.rootFirst) }
    _ = Speedscope.json(f, name: "fuzz", redactor: .disabled)
}
