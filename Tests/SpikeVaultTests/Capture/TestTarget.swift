import Glibc
import Testing
@testable import SpikeVault

/// The C test program: `spikevault_hot_spin` burns CPU in two threads, one thread sleeps,
/// main sleeps for argv[1] seconds (default 30) and exits. Built with frame pointers and debug info.
let hotProgramSource = """
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
volatile unsigned long sink;
__attribute__((noinline)) void spikevault_hot_spin(void) {
  for (;;) { for (unsigned long i = 0; i < 1000000; i++) sink += i; }
}
static void *burner(void *a) { (void)a; spikevault_hot_spin(); return 0; }
static void *idler(void *a) { (void)a; for (;;) sleep(1000); return 0; }
int main(int argc, char **argv) {
  int life = argc > 1 ? atoi(argv[1]) : 30;
  pthread_t t[3];
  pthread_create(&t[0], 0, burner, 0);
  pthread_create(&t[1], 0, burner, 0);
  pthread_create(&t[2], 0, idler, 0);
  sleep(life);
  return 0;
}
"""

enum CaptureTestSupport {
    /// A fresh private temp directory.
    static func makeTempDir(_ tag: String = "sv") -> String {
        var template = Array("/tmp/\(tag)-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(p != nil, "mkdtemp failed")
        return String(cString: p!)
    }

    static func removeTree(_ path: String) {
        _ = try? ToolRunner.run(["rm", "-rf", "--", path], timeoutSeconds: 30)
    }

    /// Compiles the hot program once per test process; nil (with the reason) if `cc` fails.
    static let hotBinary: Result<String, SpikeVaultError> = {
        let dir = makeTempDir("sv-hot")
        let src = dir + "/hot.c"
        do {
            try CaptureSys.writeFile(src, hotProgramSource)
            let res = try ToolRunner.run(["cc", "-O0", "-g", "-fno-omit-frame-pointer", "-pthread", src, "-o", dir + "/hot"],
                                         stdoutPath: dir + "/cc.log", stderrPath: dir + "/cc.log", timeoutSeconds: 60)
            guard res.succeeded else {
                return .failure(SpikeVaultError(.io, "cc \(res.summary): \(CaptureSys.readText(dir + "/cc.log") ?? "")"))
            }
            return .success(dir + "/hot")
        } catch let e as SpikeVaultError { return .failure(e) } catch { return .failure(SpikeVaultError(.internalError, "\(error)")) }
    }()

    /// Starts the hot program (`lifeSeconds`), waits until its 4 threads exist and it has
    /// burnt some CPU.
    static func startHot(lifeSeconds: Int = 30, binary: String? = nil, extraArgs: [String] = []) throws -> SpawnedProcess {
        let path = try binary ?? hotBinary.get()
        let child = try ToolRunner.spawn([path, String(lifeSeconds)] + extraArgs)
        let ready = Poll.until(timeout: 30) {
            (CaptureSys.listDirectory("/proc/\(child.pid)/task").0?.count ?? 0) >= 4 && (Poll.cpuTicks(child.pid) ?? 0) > 0
        }
        if !ready { Issue.record("the hot program did not start its threads") }
        return child
    }

    /// Whether `tool` is in PATH (tests needing it are disabled with the reason, never passed).
    static func toolAvailable(_ tool: String) -> Bool { ToolRunner.resolve(tool) != nil }

    static func stacks(_ outcome: CaptureOutcome, kind: String) -> FoldedStacks {
        let paths = outcome.artefacts.filter { $0.kind == kind }.map(\.path)
        var f = FoldedStacks()
        for p in paths { f.merge(FoldedStacks.parse(CaptureSys.readText(p) ?? "")) }
        return f
    }
}
