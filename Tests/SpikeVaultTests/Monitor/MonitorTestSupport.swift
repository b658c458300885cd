import Glibc
import Synchronization
import Testing
@testable import SpikeVault

/// `svmon-helper MODE N LIFE`: burn (N burner threads for LIFE s, then exit), mem (touch N MiB),
/// threads (N sleeping threads), fds (N open fds), idle. Then sleeps until LIFE s have passed.
let monitorHelperSource = """
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
volatile unsigned long sink;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double end_at;
static void *burn(void *a) { (void)a; while (now() < end_at) for (int i = 0; i < 100000; i++) sink += i; return 0; }
static void *nap(void *a) { (void)a; for (;;) sleep(1000); return 0; }
int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "idle";
  long n = argc > 2 ? atol(argv[2]) : 0;
  double life = argc > 3 ? atof(argv[3]) : 30;
  end_at = now() + life;
  pthread_t t;
  if (!strcmp(mode, "burn")) { for (long i = 0; i < n; i++) pthread_create(&t, 0, burn, 0); burn(0); return 0; }
  if (!strcmp(mode, "mem")) { char *p = malloc((size_t)n << 20); for (size_t i = 0; i < ((size_t)n << 20); i += 4096) p[i] = 1; }
  if (!strcmp(mode, "threads")) for (long i = 0; i < n; i++) pthread_create(&t, 0, nap, 0);
  if (!strcmp(mode, "fds")) for (long i = 0; i < n; i++) open("/dev/null", O_RDONLY);
  while (now() < end_at) usleep(20000);
  return 0;
}
"""

enum MonitorTestSupport {
    static let helper: Result<String, SpikeVaultError> = {
        let dir = CaptureTestSupport.makeTempDir("sv-mon")
        let src = dir + "/helper.c"
        do {
            try CaptureSys.writeFile(src, monitorHelperSource)
            let res = try ToolRunner.run(["cc", "-O1", "-pthread", src, "-o", dir + "/svmon-helper"],
                                         stdoutPath: dir + "/cc.log", stderrPath: dir + "/cc.log", timeoutSeconds: 60)
            guard res.succeeded else { return .failure(SpikeVaultError(.io, "cc: \(CaptureSys.readText(dir + "/cc.log") ?? "")")) }
            return .success(dir + "/svmon-helper")
        } catch let e as SpikeVaultError { return .failure(e) } catch { return .failure(SpikeVaultError(.internalError, "\(error)")) }
    }()

    static func spawn(_ mode: String, _ n: Int = 0, life: Double = 30) throws -> SpawnedProcess {
        try ToolRunner.spawn([try helper.get(), mode, String(n), String(life)])
    }

    /// A rule limited to the helper (other processes on the machine may spike too).
    static func rule(_ metric: TriggerMetric, _ threshold: Double, sustain: Double = 0, cooldown: Double = 600,
                     captures: Bool = true) -> MonitorRule {
        MonitorRule(metric: metric, threshold: threshold, sustainSeconds: sustain, cooldownSeconds: cooldown,
                    filter: ProcessFilter(include: ["svmon-helper"]), captures: captures, backend: .procfs,
                    captureDurationSeconds: 0.3)
    }

    static func vault(_ dir: TempDir) throws -> Vault {
        var o = VaultOptions()
        o.durability = .off
        o.captureCooldownSeconds = 0
        return try Vault(path: dir.path + "/v", options: o)
    }
}

/// Collects what a monitor reports, thread-safely.
final class MonitorLog: Sendable {
    struct Done: Sendable { var firing: MonitorFiring; var result: Result<ProfileRecord, SpikeVaultError>; var atMs: Int64 }
    private let state = Mutex<([MonitorFiring], [Done])>(([], []))

    var fired: [MonitorFiring] { state.withLock { $0.0 } }
    var done: [Done] { state.withLock { $0.1 } }

    func attach(_ m: Monitor) throws {
        try m.setHandlers(onFired: { f in self.state.withLock { $0.0.append(f) } },
                          onCaptureDone: { f, r in
                              let at = Int64(CaptureSys.unixSeconds() * 1000)
                              self.state.withLock { $0.1.append(Done(firing: f, result: r, atMs: at)) } })
    }

    func waitForDone(_ count: Int, timeout: Double) -> Bool {
        let end = CaptureSys.monotonicSeconds() + timeout
        while CaptureSys.monotonicSeconds() < end {
            if done.count >= count { return true }
            CaptureSys.sleep(seconds: 0.05)
        }
        return done.count >= count
    }
}
