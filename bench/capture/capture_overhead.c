/* Capture overhead, measured side by side in one run (issue 3's benchmark):
 *  1. procfs: CPU time this process (the library) spends per second of a procfs capture of a
 *     64-thread target at 10 Hz, from getrusage before and after sv_capture_run (target <= 1%
 *     of one core); median of 3 captures of 5 s, plus the achieved sample rate. With
 *     SV_BENCH_BASELINE_LIB=DIR, the same measurement runs alternately against the library in
 *     DIR (e.g. the previous build) in a re-executed copy of this program, for a before/after.
 *  2. eu-stack: the same fixed CPU work (two threads, sized to ~1 s on this machine) run
 *     uncaptured and captured at the default 10 Hz, alternating, 5 + 5 runs; the target starts
 *     its work after a delay and the capture lasts longer than the work, so the capture covers
 *     all of it. Reports the median (and min) slowdown of the work's wall time and of the target's own
 *     CPU time (wait4 rusage), and the achieved sample rate.
 * Usage: capture_overhead TARGET_BINARY VAULT_DIR
 *        capture_overhead --procfs-once TARGET_BINARY VAULT_DIR   (one procfs measurement, one line) */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spikevault.h"

extern char **environ;

#define CHECK(call)                                                                      \
    do {                                                                                 \
        sv_status rc_ = (call);                                                          \
        if (rc_ != SV_OK) {                                                              \
            fprintf(stderr, "%s failed: %s: %s\n", #call, sv_status_string(rc_), sv_errmsg()); \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

enum { PROCFS_RUNS = 3, WORK_RUNS = 5 };
static const double PROCFS_SECONDS = 5.0;
static const double WORK_SECONDS = 1.0; /* uncaptured work time the iterations are sized to */
static const int WORK_DELAY_MS = 300;   /* target sleeps this long before working */

static double tv(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t spawn(char *const argv[], int out_fd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    if (e != 0) {
        fprintf(stderr, "posix_spawn %s: %s\n", argv[0], strerror(e));
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof(double), cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The number after `"key":` in the capture's notes, or -1. */
static double note_number(sv_vault *vault, int64_t id, const char *key) {
    double v = -1;
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    sv_cursor *c;
    CHECK(sv_vault_get(vault, id, &c));
    if (sv_cursor_next(c) == SV_ROW) {
        const char *notes = sv_cursor_notes(c);
        const char *r = notes ? strstr(notes, pat) : NULL;
        if (r) v = atof(r + strlen(pat));
    }
    sv_cursor_close(c);
    return v;
}

static sv_vault *open_vault(const char *dir) {
    sv_options *opts;
    CHECK(sv_options_new(&opts));
    CHECK(sv_options_set_int(opts, SV_OPT_CAPTURE_COOLDOWN_SECONDS, 0));
    sv_vault *vault;
    CHECK(sv_vault_open(dir, opts, &vault));
    sv_options_free(opts);
    return vault;
}

/* One procfs capture of a fresh 64-thread target; returns library CPU seconds per capture
 * second (a fraction of one core) and the achieved sample rate. */
static double procfs_once(const char *target, sv_vault *vault, double *rate) {
    char *targv[] = {(char *)target, "64", "20", NULL};
    pid_t pid = spawn(targv, -1);
    usleep(300 * 1000); /* let it start its threads */
    sv_request *req;
    CHECK(sv_request_new(&req));
    CHECK(sv_request_set_pid(req, pid));
    CHECK(sv_request_set_backend(req, SV_BACKEND_PROCFS));
    CHECK(sv_request_set_duration(req, PROCFS_SECONDS));
    CHECK(sv_request_set_interval(req, 0.1));
    double c0 = cpu_seconds(), w0 = wall();
    int64_t id;
    CHECK(sv_capture_run(vault, req, &id));
    double cpu = cpu_seconds() - c0, elapsed = wall() - w0;
    sv_request_free(req);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    double samples = note_number(vault, id, "samples"), secs = note_number(vault, id, "elapsedSeconds");
    *rate = secs > 0 ? samples / secs : 0;
    return cpu / elapsed;
}

/* Runs `self --procfs-once` with LD_LIBRARY_PATH=libdir; parses "<fraction> <rate>". */
static int procfs_in_child(const char *self, const char *libdir, const char *target, const char *vault_dir,
                           double *fraction, double *rate) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    char *argv[] = {(char *)self, "--procfs-once", (char *)target, (char *)vault_dir, NULL};
    char *old = getenv("LD_LIBRARY_PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("LD_LIBRARY_PATH", libdir, 1);
    pid_t pid = spawn(argv, fds[1]);
    if (saved) { setenv("LD_LIBRARY_PATH", saved, 1); free(saved); } else unsetenv("LD_LIBRARY_PATH");
    close(fds[1]);
    char buf[128] = {0};
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)n;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    return sscanf(buf, "%lf %lf", fraction, rate) == 2 ? 0 : -1;
}

/* Runs the fixed work, optionally captured with eu-stack. Returns the work's wall time (as the
 * target measured it); *cpu gets the target's user+system CPU time, *rate the achieved rate. */
static double run_work(const char *target, sv_vault *vault, unsigned long long iterations, int delay_ms,
                       double capture_seconds, double *cpu, double *rate) {
    char its[32], delay[16];
    snprintf(its, sizeof its, "%llu", iterations);
    snprintf(delay, sizeof delay, "%d", delay_ms);
    char *argv[] = {(char *)target, "work", its, delay, NULL};
    int fds[2];
    if (pipe(fds) != 0) exit(1);
    pid_t pid = spawn(argv, fds[1]);
    close(fds[1]);
    if (vault) {
        sv_request *req;
        CHECK(sv_request_new(&req));
        CHECK(sv_request_set_pid(req, pid));
        CHECK(sv_request_set_backend(req, SV_BACKEND_EU_STACK));
        CHECK(sv_request_set_duration(req, capture_seconds));
        int64_t id = 0;
        CHECK(sv_capture_run(vault, req, &id));
        sv_request_free(req);
        *rate = note_number(vault, id, "achievedRateHz");
    }
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
    *cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
    return n > 0 ? atof(buf) : -1;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--procfs-once") == 0) {
        sv_vault *vault = open_vault(argv[3]);
        double rate, f = procfs_once(argv[2], vault, &rate);
        CHECK(sv_vault_close(vault));
        printf("%.6f %.3f\n", f, rate);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: capture_overhead TARGET VAULT_DIR\n");
        return 2;
    }
    const char *target = argv[1];
    const char *baseline = getenv("SV_BENCH_BASELINE_LIB");
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) { perror("readlink /proc/self/exe"); return 1; }
    self[sl] = 0;

    /* 1. procfs on a 64-thread target at 10 Hz (alternating with the baseline library). */
    double now_f[PROCFS_RUNS], now_r[PROCFS_RUNS], base_f[PROCFS_RUNS], base_r[PROCFS_RUNS];
    int base_ok = baseline != NULL;
    for (int i = 0; i < PROCFS_RUNS; i++) {
        if (base_ok) {
            char dir[4200];
            snprintf(dir, sizeof dir, "%s.baseline", argv[2]);
            if (procfs_in_child(self, baseline, target, dir, &base_f[i], &base_r[i]) != 0) {
                fprintf(stderr, "capture/procfs: the baseline library in %s failed; skipping it\n", baseline);
                base_ok = 0;
            }
        }
        sv_vault *vault = open_vault(argv[2]);
        now_f[i] = procfs_once(target, vault, &now_r[i]);
        CHECK(sv_vault_close(vault));
    }
    double nf = median(now_f, PROCFS_RUNS), nr = median(now_r, PROCFS_RUNS);
    printf("capture/procfs: 64-thread target, 10 Hz, %.0f s captures, median of %d: library CPU "
           "%.4f s per capture-second = %.2f%% of one core (target <= 1%%), %.1f samples/s\n",
           PROCFS_SECONDS, PROCFS_RUNS, nf, 100 * nf, nr);
    if (base_ok) {
        double bf = median(base_f, PROCFS_RUNS), br = median(base_r, PROCFS_RUNS);
        printf("capture/procfs: baseline library (%s), same runs interleaved: %.4f s per "
               "capture-second = %.2f%% of one core, %.1f samples/s; this build uses %.1fx less\n",
               baseline, bf, 100 * bf, br, nf > 0 ? bf / nf : 0);
    }
    fflush(stdout);

    /* 2. eu-stack slowdown. Size the work to ~WORK_SECONDS uncaptured on this machine. */
    sv_vault *vault = open_vault(argv[2]);
    double cpu, rate = 0;
    const unsigned long long probe = 300000000ULL;
    double t = run_work(target, NULL, probe, 0, 0, &cpu, &rate);
    unsigned long long iterations = t > 0 ? (unsigned long long)(probe * (WORK_SECONDS / t)) : probe;
    /* The capture starts right after the spawn, WORK_DELAY_MS before the work, and may last
     * up to 3x the work: it covers the whole work (it ends when the target exits). */
    double capture_seconds = WORK_DELAY_MS / 1000.0 + 3 * WORK_SECONDS;
    double plain[WORK_RUNS], plain_cpu[WORK_RUNS], captured[WORK_RUNS], captured_cpu[WORK_RUNS], rates[WORK_RUNS];
    for (int i = 0; i < WORK_RUNS; i++) {
        plain[i] = run_work(target, NULL, iterations, WORK_DELAY_MS, 0, &plain_cpu[i], &rate);
        captured[i] = run_work(target, vault, iterations, WORK_DELAY_MS, capture_seconds, &captured_cpu[i], &rates[i]);
        if (captured[i] > capture_seconds - WORK_DELAY_MS / 1000.0)
            fprintf(stderr, "capture/eu-stack: run %d: the work (%.2f s) outlasted the capture\n", i, captured[i]);
    }
    double pw = median(plain, WORK_RUNS), cw = median(captured, WORK_RUNS); /* sorts: [0] is the min */
    double pc = median(plain_cpu, WORK_RUNS), cc = median(captured_cpu, WORK_RUNS);
    double rr = median(rates, WORK_RUNS);
    printf("capture/eu-stack: fixed work (%llu iterations x 2 threads), %d uncaptured and %d captured runs "
           "alternating: wall median %.3f s -> %.3f s, slowdown %+.1f%% (target <= 5%%) [min %.3f -> %.3f s, "
           "%+.1f%%]; target CPU median %.3f s -> %.3f s, %+.1f%%; achieved %.1f samples/s at the default 10 Hz\n",
           iterations, WORK_RUNS, WORK_RUNS, pw, cw, 100.0 * (cw / pw - 1.0), plain[0], captured[0],
           100.0 * (captured[0] / plain[0] - 1.0), pc, cc, 100.0 * (cc / pc - 1.0), rr);
    if (pc < 1.5 * pw) /* two busy threads should use ~2 s of CPU per s of wall */
        printf("capture/eu-stack: note: the two work threads did not get two cores (target CPU %.2f s in %.2f s "
               "of wall): the machine is busy, wall-time slowdown is noise; compare target CPU time\n", pc, pw);
    CHECK(sv_vault_close(vault));
    return 0;
}
