/* Capture overhead, measured side by side in one run (issue 3's benchmark):
 *  1. procfs: CPU time this process (the library) spends per second of a procfs capture of a
 *     64-thread target at 10 Hz, from getrusage before and after (target <= 1% of one core).
 *  2. eu-stack: the same fixed CPU work run uncaptured and captured at the default 10 Hz,
 *     alternating, median of 3 each; reports the slowdown and the achieved sample rate.
 * Usage: capture_overhead TARGET_BINARY VAULT_DIR */
#define _GNU_SOURCE
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

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
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
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs the fixed work, optionally captured with eu-stack; returns its wall time. */
static double run_work(const char *target, sv_vault *vault, int captured, double *rate) {
    char iterations[] = "1500000000";
    char *argv[] = {(char *)target, "work", iterations, NULL};
    int fds[2];
    if (pipe(fds) != 0) exit(1);
    pid_t pid = spawn(argv, fds[1]);
    close(fds[1]);
    if (captured) {
        sv_request *req;
        CHECK(sv_request_new(&req));
        CHECK(sv_request_set_pid(req, pid));
        CHECK(sv_request_set_backend(req, SV_BACKEND_EU_STACK));
        CHECK(sv_request_set_duration(req, 2.0));
        int64_t id = 0;
        CHECK(sv_capture_run(vault, req, &id));
        sv_request_free(req);
        sv_cursor *c;
        CHECK(sv_vault_get(vault, id, &c));
        if (sv_cursor_next(c) == SV_ROW) {
            const char *notes = sv_cursor_notes(c);
            const char *r = notes ? strstr(notes, "\"achievedRateHz\":") : NULL;
            if (r) *rate = atof(r + strlen("\"achievedRateHz\":"));
        }
        sv_cursor_close(c);
    }
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return n > 0 ? atof(buf) : -1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: capture_overhead TARGET VAULT_DIR\n");
        return 2;
    }
    const char *target = argv[1];
    sv_options *opts;
    CHECK(sv_options_new(&opts));
    CHECK(sv_options_set_int(opts, SV_OPT_CAPTURE_COOLDOWN_SECONDS, 0));
    sv_vault *vault;
    CHECK(sv_vault_open(argv[2], opts, &vault));
    sv_options_free(opts);

    /* 1. procfs on a 64-thread target at 10 Hz. */
    char *targv[] = {(char *)target, "64", "30", NULL};
    pid_t pid = spawn(targv, -1);
    usleep(300 * 1000);
    const double seconds = 5.0;
    sv_request *req;
    CHECK(sv_request_new(&req));
    CHECK(sv_request_set_pid(req, pid));
    CHECK(sv_request_set_backend(req, SV_BACKEND_PROCFS));
    CHECK(sv_request_set_duration(req, seconds));
    CHECK(sv_request_set_interval(req, 0.1));
    double c0 = cpu_seconds(), w0 = wall();
    int64_t id;
    CHECK(sv_capture_run(vault, req, &id));
    double cpu = cpu_seconds() - c0, elapsed = wall() - w0;
    sv_request_free(req);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    printf("capture/procfs: 64-thread target, 10 Hz, %.1f s: library CPU %.3f s = %.2f%% of one core "
           "(target <= 1%%)\n", elapsed, cpu, 100.0 * cpu / elapsed);

    /* 2. eu-stack slowdown: alternate uncaptured and captured runs of the same work. */
    double plain[3], captured[3], rate = 0;
    for (int i = 0; i < 3; i++) {
        plain[i] = run_work(target, vault, 0, &rate);
        captured[i] = run_work(target, vault, 1, &rate);
    }
    qsort(plain, 3, sizeof(double), cmp);
    qsort(captured, 3, sizeof(double), cmp);
    printf("capture/eu-stack: fixed work %.3f s uncaptured, %.3f s captured (median of 3): "
           "slowdown %.1f%% (target <= 5%%), achieved %.1f samples/s at the default 10 Hz\n",
           plain[1], captured[1], 100.0 * (captured[1] / plain[1] - 1.0), rate);
    CHECK(sv_vault_close(vault));
    return 0;
}
