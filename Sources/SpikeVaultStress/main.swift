// spikevault-stress: a helper process for the retention tests (crash loop, concurrency,
// fork, RLIMIT_FSIZE disk-full). It prints one line per event straight to fd 1 with write(2),
// so a line is out before the next step starts and nothing sits in a buffer when killed:
//   C <id>        a save committed (printed after the commit returned)
//   P <n>         a maintenance run purged n captures
//   A <n>         captures purged by this process's enforcement after saves
//   E <status> <message>   a call failed (the helper then exits 1)
//   OK / FAIL <why>
import SpikeVault

func say(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + off, $0.count - off) }
        if n <= 0 { if errno == EINTR { continue }; _exit(3) }
        off += n
    }
}

func fail(_ e: Error) -> Never {
    if let e = e as? SpikeVaultError { say("E \(e.status) \(e.message)") } else { say("E internal \(e)") }
    _exit(1)
}

func intArg(_ i: Int, _ d: Int64) -> Int64 { CommandLine.arguments.count > i ? Int64(CommandLine.arguments[i]) ?? d : d }

func randomBytes(_ n: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    var out = [UInt8](repeating: 0, count: n)
    var i = 0
    while i < n {
        let r = rng.next() as UInt64
        // Half random, half text: compresses to about 60%.
        out[i] = i % 2 == 0 ? UInt8(truncatingIfNeeded: r) : UInt8(ascii: "a") + UInt8(r % 4)
        i += 1
    }
    return out
}

func record(pid: Int32, at: Timestamp) -> ProfileRecord {
    ProfileRecord(processName: "stress", pid: pid, triggerMetric: .cpu, triggerValue: 99, capturedAt: at,
                  durationSeconds: 1, notes: #"{"by":"spikevault-stress"}"#)
}

func options(durability: Int64, budget: Int64, maxAge: Int64) -> VaultOptions {
    var o = VaultOptions()
    o.durability = VaultOptions.Durability(rawValue: durability) ?? .off
    o.maxFootprintBytes = budget
    o.maxAgeSeconds = maxAge
    o.minFreePercent = 0
    o.maintenanceIntervalSeconds = 0
    return o
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    say("FAIL usage: spikevault-stress save|threads|maintain|fork|fsize DIR ...")
    _exit(2)
}
let mode = args[1], dir = args[2]

switch mode {
case "save":
    // save DIR COUNT(0=forever) MAINTAIN_EVERY BUDGET DURABILITY
    let count = intArg(3, 0), every = intArg(4, 0), budget = intArg(5, 0), durability = intArg(6, 0)
    do {
        let vault = try Vault(path: dir, options: options(durability: durability, budget: budget, maxAge: 0))
        var i: Int64 = 0
        while count == 0 || i < count {
            i += 1
            let size = 512 + Int(UInt64.random(in: 0..<8192))
            var arts = [NewArtefact(kind: "stacks.folded", bytes: randomBytes(size))]
            if i % 3 == 0 { arts.append(NewArtefact(kind: "procfs.json", bytes: randomBytes(700))) }
            let saved = try vault.save(record(pid: getpid(), at: .now()), artefacts: arts)
            say("C \(saved.id)")
            if every > 0 && i % every == 0 {
                let r = try vault.maintain(orphanGraceSeconds: 0)
                say("P \(r.purgedByAge + r.purgedBySize)")
            }
        }
        vault.close()
        say("OK")
    } catch { fail(error) }

case "threads":
    // threads DIR THREADS PER_THREAD MAX_AGE: every third capture is dated 100 h ago.
    let threads = Int(intArg(3, 4)), per = Int(intArg(4, 50)), maxAge = intArg(5, 72 * 3600)
    do {
        let vault = try Vault(path: dir, options: options(durability: 1, budget: 0, maxAge: maxAge))
        var tids: [pthread_t] = []
        final class Job: @unchecked Sendable { let vault: Vault; let per: Int; init(_ v: Vault, _ p: Int) { vault = v; per = p } }
        for _ in 0..<threads {
            var t = pthread_t()
            let job = Unmanaged.passRetained(Job(vault, per)).toOpaque()
            pthread_create(&t, nil, { arg in
                let job = Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue()
                for i in 0..<job.per {
                    let at = i % 3 == 0 ? Timestamp.now().adding(seconds: -100 * 3600) : Timestamp.now()
                    do {
                        let saved = try job.vault.save(record(pid: getpid(), at: at),
                                                       artefacts: [NewArtefact(kind: "stacks.folded", bytes: randomBytes(2048))])
                        say("C \(saved.id)")
                    } catch { fail(error) }
                }
                return nil
            }, job)
            tids.append(t)
        }
        for t in tids { pthread_join(t, nil) }
        if let e = vault.lastRetentionError { say("E \(e.status) enforcement: \(e.message)"); _exit(1) }
        let totals = vault.retentionTotals
        say("A \(totals.purgedByAge + totals.purgedBySize)")
        vault.close()
        say("OK")
    } catch { fail(error) }

case "maintain":
    // maintain DIR STOPFILE MAX_AGE: runs maintenance in a loop until STOPFILE exists.
    let stopFile = args.count > 3 ? args[3] : dir + ".stop"
    do {
        let vault = try Vault(path: dir, options: options(durability: 1, budget: 0, maxAge: intArg(4, 72 * 3600)))
        var runs = 0
        while access(stopFile, F_OK) != 0 {
            let r = try vault.maintain()
            say("P \(r.purgedByAge + r.purgedBySize)")
            runs += 1
            usleep(2000)
        }
        vault.close()
        say("OK \(runs)")
    } catch { fail(error) }

case "fork":
    // fork DIR: a child using the inherited vault must get .forked; the parent keeps working.
    do {
        let vault = try Vault(path: dir, options: options(durability: 1, budget: 0, maxAge: 0))
        _ = try vault.save(record(pid: getpid(), at: .now()), artefacts: [NewArtefact(kind: "a", bytes: randomBytes(100))])
        let child = fork()
        if child == 0 {
            do {
                _ = try vault.save(record(pid: getpid(), at: .now()), artefacts: [NewArtefact(kind: "a", bytes: randomBytes(100))])
                _exit(10)
            } catch let e as SpikeVaultError {
                _exit(e.status == .forked && !e.message.isEmpty ? 0 : 11)
            } catch { _exit(12) }
        }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        let code = (status >> 8) & 0xff
        guard status & 0x7f == 0 && code == 0 else { say("FAIL child exit status \(status)"); _exit(1) }
        _ = try vault.save(record(pid: getpid(), at: .now()), artefacts: [NewArtefact(kind: "a", bytes: randomBytes(100))])
        say("OK \(try vault.recent(limit: 10).count)")
    } catch { fail(error) }

case "fsize":
    // fsize DIR LIMIT: saves under RLIMIT_FSIZE until one fails, then lifts the limit.
    let limit = intArg(3, 1 << 20)
    do {
        let vault = try Vault(path: dir, options: options(durability: 1, budget: 0, maxAge: 0))
        signal(SIGXFSZ, SIG_IGN)
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &rl)
        let saved = rl
        rl.rlim_cur = rlim_t(limit)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &rl)
        var ok = 0
        do {
            for _ in 0..<10_000 {
                _ = try vault.save(record(pid: getpid(), at: .now()), artefacts: [NewArtefact(kind: "a", bytes: randomBytes(Int(limit) + 4096))])
                ok += 1
            }
            say("FAIL no error under RLIMIT_FSIZE")
            _exit(1)
        } catch let e as SpikeVaultError {
            say("E \(e.status) \(e.message)")
        }
        var restored = saved
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &restored)
        _ = try vault.save(record(pid: getpid(), at: .now()), artefacts: [NewArtefact(kind: "a", bytes: randomBytes(1000))])
        say("OK \(ok)")
    } catch { fail(error) }

default:
    say("FAIL unknown mode \(mode)")
    _exit(2)
}
_exit(0)
