import Glibc
import Testing
@testable import SpikeVault

/// C programs with one known cause per metric, compiled once per test process with frame
/// pointers and debug info. Each runs until killed (bounded so a leaked child cannot eat the
/// machine) and grows steadily, so a capture of any length sees growth.
enum MetricPrograms {
    static let fdLeak = """
    #include <stdio.h>
    #include <unistd.h>
    #include <fcntl.h>
    #include <sys/resource.h>
    #include <stdlib.h>
    __attribute__((noinline)) void leak_files(const char *dir) {
      char path[4096];
      for (int i = 0; i < 5000; i++) {
        snprintf(path, sizeof path, "%s/leak-%d.dat", dir, i);
        if (open(path, O_RDWR | O_CREAT, 0600) < 0) exit(2);
        usleep(3000);
      }
    }
    int main(int argc, char **argv) {
      struct rlimit r; getrlimit(RLIMIT_NOFILE, &r); r.rlim_cur = r.rlim_max; setrlimit(RLIMIT_NOFILE, &r);
      int p[2]; for (int i = 0; i < 3; i++) if (pipe(p) < 0) return 1;
      leak_files(argv[1]);
      pause();
      return 0;
    }
    """

    static let threads = """
    #define _GNU_SOURCE
    #include <pthread.h>
    #include <stdio.h>
    #include <unistd.h>
    static void *sleeper(void *a) { (void)a; for (;;) pause(); return 0; }
    __attribute__((noinline)) void spawn_workers(void) {
      char name[16]; pthread_t t;
      for (int i = 0; i < 1500; i++) {
        pthread_create(&t, 0, sleeper, 0);
        snprintf(name, sizeof name, "worker-%d", i);
        pthread_setname_np(t, name);
        usleep(10000);
      }
    }
    int main(void) {
      pthread_t t; pthread_create(&t, 0, sleeper, 0); pthread_setname_np(t, "housekeeper");
      spawn_workers();
      pause();
      return 0;
    }
    """

    static let heap = """
    #include <stdlib.h>
    #include <string.h>
    #include <unistd.h>
    __attribute__((noinline)) char *grow_cache(size_t n) { char *p = malloc(n); if (p) memset(p, 7, n); return p; }
    __attribute__((noinline)) void load_index(void) {
      for (int i = 0; i < 8000; i++) { grow_cache(64 * 1024); usleep(2000); }
    }
    int main(void) { load_index(); pause(); return 0; }
    """

    static let writer = """
    #include <stdio.h>
    #include <unistd.h>
    #include <fcntl.h>
    static char buf[65536];
    __attribute__((noinline)) void flush_log(int fd) { if (write(fd, buf, sizeof buf) < 0) _exit(3); }
    __attribute__((noinline)) void note_status(int fd) { if (write(fd, "ok\\n", 3) < 0) _exit(3); }
    int main(int argc, char **argv) {
      char path[4096];
      snprintf(path, sizeof path, "%s/debug.log", argv[1]);
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      snprintf(path, sizeof path, "%s/status.txt", argv[1]);
      int other = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0 || other < 0) return 2;
      for (long i = 0;; i++) {
        flush_log(fd);
        if (i % 50 == 0) note_status(other);
        if (lseek(fd, 0, SEEK_CUR) > (32L << 20)) { if (ftruncate(fd, 0) < 0) return 4; lseek(fd, 0, SEEK_SET); }
        usleep(1000);
      }
    }
    """

    static let sockets = """
    #include <stdio.h>
    #include <unistd.h>
    #include <string.h>
    #include <arpa/inet.h>
    #include <sys/socket.h>
    __attribute__((noinline)) void connect_db(int l, struct sockaddr_in *a) {
      for (int i = 0; i < 3000; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)a, sizeof *a) < 0) _exit(3);
        if (accept(l, 0, 0) < 0) _exit(4);
        usleep(5000);
      }
    }
    int main(void) {
      int l = socket(AF_INET, SOCK_STREAM, 0);
      struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 64) < 0) return 2;
      socklen_t n = sizeof a; getsockname(l, (struct sockaddr *)&a, &n);
      printf("%d\\n", ntohs(a.sin_port)); fflush(stdout);
      connect_db(l, &a);
      pause();
      return 0;
    }
    """

    /// Compiles `source` into a fresh directory; the binary's path or the compiler's complaint.
    static func build(_ name: String, _ source: String) throws -> String {
        guard ToolRunner.resolve("gcc") != nil else { try Test.cancel("gcc is not installed") }
        let dir = CaptureTestSupport.makeTempDir("sv-metric-\(name)")
        try CaptureSys.writeFile("\(dir)/\(name).c", source)
        let res = try ToolRunner.run(["gcc", "-O0", "-g", "-fno-omit-frame-pointer", "-pthread", "\(dir)/\(name).c", "-o", "\(dir)/\(name)"],
                                     stdoutPath: "\(dir)/cc.log", stderrPath: "\(dir)/cc.log", timeoutSeconds: 120)
        guard res.succeeded else { throw SpikeVaultError(.io, "gcc \(res.summary): \(CaptureSys.readText("\(dir)/cc.log") ?? "")") }
        return "\(dir)/\(name)"
    }

    /// Whether perf can record this process's own children here (tests of stacks skip otherwise).
    static let perfUsable: String? = {
        guard ToolRunner.resolve("perf") != nil else { return "perf is not installed" }
        let dir = CaptureTestSupport.makeTempDir("sv-perfprobe")
        defer { CaptureTestSupport.removeTree(dir) }
        guard let r = try? ToolRunner.run(["perf", "record", "-e", "page-faults", "-o", "\(dir)/p.data", "--", "true"],
                                          stdoutPath: "\(dir)/log", stderrPath: "\(dir)/log", timeoutSeconds: 60), r.succeeded else {
            return "perf record is refused here: \(CaptureSys.readText("\(dir)/log") ?? "")"
        }
        return nil
    }()

    static func artefact(_ out: CaptureOutcome, _ kind: String) -> String? {
        out.artefacts.first { $0.kind == kind }.flatMap { CaptureSys.readText($0.path) }
    }
}
