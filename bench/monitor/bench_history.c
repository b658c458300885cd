/* bench_history.c - what keeping the monitor's history costs: the same monitor (1 Hz, one
 * capturing rule matching MATCHED sleeping processes named svbench-hist, which never fires)
 * run side by side in two child processes, one with history on (60 s) and one with it off,
 * for SECONDS of wall time. Each child reports getrusage(RUSAGE_SELF) (the monitoring process:
 * its monitor thread does all the work) and the history counters; the parent prints CPU as
 * % of one core for both, their difference, and the history's memory per process.
 *
 *   bench_history VAULT_DIR [MATCHED] [SECONDS]     (defaults 50, 65)
 */
#define _POSIX_C_SOURCE 200809L
#include <spikevault.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct result { double cpu_ms, wall_ms; int64_t bytes, processes, evicted, history_us, sampler_us, ticks; int ok; };

static double cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int64_t counter(sv_monitor *m, sv_monitor_counter c) {
    int64_t v = -1;
    sv_monitor_get_counter(m, c, &v);
    return v;
}

/* One side: a monitor with `history` seconds, for `seconds`; writes its result to `fd`. */
static void side(const char *dir, double history, double seconds, int fd) {
    struct result r;
    sv_vault *vault = NULL;
    sv_monitor *monitor = NULL;
    sv_rule *rule = NULL;
    memset(&r, 0, sizeof r);
    if (sv_vault_open(dir, NULL, &vault) != SV_OK || sv_monitor_new(vault, &monitor) != SV_OK ||
        sv_monitor_set_history(monitor, history) != SV_OK || sv_rule_new(SV_METRIC_CPU, 1e9, &rule) != SV_OK ||
        sv_rule_add_include(rule, "svbench-hist") != SV_OK || sv_monitor_add_rule(monitor, rule, NULL) != SV_OK) {
        fprintf(stderr, "bench_history: %s\n", sv_errmsg());
    } else {
        double c0 = cpu_ms(), w0 = now_ms();
        if (sv_monitor_start(monitor) == SV_OK) {
            struct timespec t = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
            while (nanosleep(&t, &t) != 0) {}
            r.bytes = counter(monitor, SV_MONITOR_HISTORY_BYTES);
            r.processes = counter(monitor, SV_MONITOR_HISTORY_PROCESSES);
            sv_monitor_stop(monitor);
            r.cpu_ms = cpu_ms() - c0;
            r.wall_ms = now_ms() - w0;
            r.evicted = counter(monitor, SV_MONITOR_HISTORY_SAMPLES_EVICTED);
            r.history_us = counter(monitor, SV_MONITOR_HISTORY_CPU_US);
            r.sampler_us = counter(monitor, SV_MONITOR_SAMPLER_CPU_US);
            r.ticks = counter(monitor, SV_MONITOR_TICKS);
            r.ok = 1;
        } else {
            fprintf(stderr, "bench_history: %s\n", sv_errmsg());
        }
    }
    sv_rule_free(rule);
    sv_monitor_free(monitor);
    sv_vault_close(vault);
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
    _exit(0);
}

int main(int argc, char **argv) {
    int matched = argc > 2 ? atoi(argv[2]) : 50;
    double seconds = argc > 3 ? atof(argv[3]) : 65;
    pid_t *kids = calloc((size_t)(matched > 0 ? matched : 1), sizeof *kids);
    int started = 0, rc = 1, fds[2][2];
    pid_t sides[2];
    struct result res[2];
    char dirs[2][4096];

    if (argc < 2 || !kids || matched < 1 || seconds <= 0) {
        fprintf(stderr, "usage: %s VAULT_DIR [MATCHED] [SECONDS]\n", argv[0]);
        return 2;
    }
    mkdir(argv[1], 0700);
    for (; started < matched; started++) {
        pid_t p = fork();
        if (p == 0) { prctl(PR_SET_NAME, "svbench-hist", 0, 0, 0); for (;;) pause(); }
        if (p < 0) break;
        kids[started] = p;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/%s", argv[1], i == 0 ? "on" : "off");
        if (pipe(fds[i]) != 0) goto done;
        sides[i] = fork();
        if (sides[i] == 0) { close(fds[i][0]); side(dirs[i], i == 0 ? 60 : 0, seconds, fds[i][1]); }
        close(fds[i][1]);
    }
    for (int i = 0; i < 2; i++) {
        memset(&res[i], 0, sizeof res[i]);
        if (read(fds[i][0], &res[i], sizeof res[i]) != (ssize_t)sizeof res[i]) res[i].ok = 0;
        waitpid(sides[i], NULL, 0);
    }
    if (!res[0].ok || !res[1].ok) { fprintf(stderr, "bench_history: a side failed\n"); goto done; }
    {
        double on = res[0].cpu_ms / res[0].wall_ms * 100, off = res[1].cpu_ms / res[1].wall_ms * 100;
        printf("history: %d matched sleeping processes, 1 Hz, %.0f s, both sides at once (getrusage of each monitoring process)\n",
               started, seconds);
        printf("%-28s %7.3f %% of a core  (%lld ticks; sampler %.1f ms, history %.1f ms CPU)\n", "monitor, history 60 s", on,
               (long long)res[0].ticks, res[0].sampler_us / 1e3, res[0].history_us / 1e3);
        printf("%-28s %7.3f %% of a core  (%lld ticks; sampler %.1f ms CPU)\n", "monitor, history off", off,
               (long long)res[1].ticks, res[1].sampler_us / 1e3);
        printf("%-28s %7.3f %% of a core  (ratio on/off = %.2f; target <= 1 %%)\n", "cost of the history", on - off,
               off > 0 ? on / off : 0);
        printf("%-28s %7.3f %% of a core  (the history's own thread CPU counter)\n", "history CPU counter",
               res[0].history_us / 1e3 / res[0].wall_ms * 100);
        printf("%-28s %lld bytes for %lld processes = %.0f bytes per process (%lld samples evicted)\n", "history memory",
               (long long)res[0].bytes, (long long)res[0].processes,
               res[0].processes ? (double)res[0].bytes / res[0].processes : 0, (long long)res[0].evicted);
    }
    rc = 0;
done:
    for (int i = 0; i < started; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < started; i++) waitpid(kids[i], NULL, 0);
    free(kids);
    return rc;
}
