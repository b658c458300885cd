// Opens a vault, saves one capture with an artefact, reads it back and lists the vault.
//   SpikeVaultConsumer VAULT_DIR
import SpikeVault

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
    // write(2) rather than fputs(stderr): Swift 6 refuses the global `stderr` variable.
    let line = Array("swift-consumer: \(message)\n".utf8)
    _ = line.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

guard CommandLine.arguments.count == 2 else { fail("usage: SpikeVaultConsumer VAULT_DIR") }
let folded = Array("main;consume 3\n".utf8)
do {
    let vault = try Vault(path: CommandLine.arguments[1])
    defer { vault.close() }
    let saved = try vault.save(
        ProfileRecord(processName: "consumer", pid: getpid(), triggerMetric: .cpu, triggerValue: 88.5),
        artefacts: [NewArtefact(kind: "folded.txt", bytes: folded)])
    guard try vault.readArtefact(captureID: saved.id) == folded else { fail("the artefact read back differs") }
    let recent = try vault.recent(limit: 10)
    guard recent.map(\.id) == [saved.id], recent.first?.processName == "consumer" else {
        fail("recent(limit:) gave \(recent.map(\.id)), expected [\(saved.id)]")
    }
    print("swift-consumer: saved capture \(saved.id) (\(saved.rawBytes) bytes, \(saved.storedBytes) stored), read it back and listed it")
} catch {
    fail("\(error)")
}
