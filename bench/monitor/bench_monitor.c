/* bench_monitor.c - CPU time of one monitor sampler tick over every process, side by side with
 * `ps -eo pid,pcpu,rss,nlwp` and `top -b -n 1`, on the same machine state, with EXTRA (default
 * 1000) sleeping processes started (and killed) by the benchmark.
 *
 *   bench_monitor VAULT_DIR [EXTRA] [TICKS]
 *
 * The sampler runs in this process (getrusage(RUSAGE_SELF) around the ticks); ps and top run
 * as children (RUSAGE_CHILDREN around each run, output to /dev/null). Both sides are
 * interleaved so machine noise hits them alike. Prints ms of CPU per tick and the ratios.
 */
#define _POSIX_C_SOURCE 200809L
#include <spikevault.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static double cpu_ms(int who) {
    struct rusage ru;
    getrusage(who, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double run_tool(char *const argv[]) {
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;
    double before = cpu_ms(RUSAGE_CHILDREN);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    waitpid(pid, &status, 0);
    return cpu_ms(RUSAGE_CHILDREN) - before;
}

static sv_status add_rules(sv_monitor *monitor, const char *which) {
    sv_metric m = SV_METRIC_CPU;
    sv_rule *rule = NULL;
    sv_status rc;
    if (!strcmp(which, "defaults")) return sv_monitor_add_default_rules(monitor);
    if (!strcmp(which, "diskio")) m = SV_METRIC_DISK_IO;
    if (!strcmp(which, "fds")) m = SV_METRIC_FDS;
    if (!strcmp(which, "network")) m = SV_METRIC_NETWORK;
    if ((rc = sv_rule_new(m, 1e9, &rule)) != SV_OK) return rc;
    rc = sv_monitor_add_rule(monitor, rule, NULL);
    sv_rule_free(rule);
    return rc;
}

int main(int argc, char **argv) {
    int extra = argc > 2 ? atoi(argv[2]) : 1000;
    int ticks = argc > 3 ? atoi(argv[3]) : 20;
    pid_t *kids = calloc((size_t)extra, sizeof *kids);
    sv_vault *vault = NULL;
    sv_monitor *monitor = NULL;
    int started = 0, rc = 1;
    double sv = 0, ps = 0, top = 0;
    int ps_runs = 0, top_runs = 0;
    int64_t processes = 0;
    char *ps_argv[] = {"ps", "-eo", "pid,pcpu,rss,nlwp", NULL};
    char *top_argv[] = {"top", "-b", "-n", "1", NULL};

    if (argc < 2 || !kids) {
        fprintf(stderr, "usage: %s VAULT_DIR [EXTRA] [TICKS]\n", argv[0]);
        return 2;
    }
    for (; started < extra; started++) {
        pid_t p = fork();
        if (p == 0) { for (;;) pause(); }
        if (p < 0) break;
        kids[started] = p;
    }
    const char *rules = getenv("BENCH_RULES"); /* "defaults" (default), or one metric: cpu, diskio, fds, network */
    if (sv_vault_open(argv[1], NULL, &vault) != SV_OK || sv_monitor_new(vault, &monitor) != SV_OK ||
        add_rules(monitor, rules ? rules : "defaults") != SV_OK) {
        fprintf(stderr, "bench_monitor: %s\n", sv_errmsg());
        goto done;
    }
    sv_monitor_sample(monitor, &processes); /* warm-up: first sight of every process */
    for (int i = 0; i < ticks; i++) {
        double before = cpu_ms(RUSAGE_SELF);
        if (sv_monitor_sample(monitor, &processes) != SV_OK) { fprintf(stderr, "%s\n", sv_errmsg()); goto done; }
        sv += cpu_ms(RUSAGE_SELF) - before;
        if (i % 2 == 0) { double t = run_tool(ps_argv); if (t >= 0) { ps += t; ps_runs++; } }
        if (i % 4 == 0) { double t = run_tool(top_argv); if (t >= 0) { top += t; top_runs++; } }
    }
    sv /= ticks;
    printf("processes: %lld sampled (%d extra sleeping started), rules: %s\n", (long long)processes, started,
           rules ? rules : "defaults (cpu, memory, disk I/O, threads, fds)");
    printf("%-34s %8.3f ms CPU per tick  (%.3f %% of a core at 1 Hz)\n", "spikevault sampler tick", sv, sv / 10.0);
    if (ps_runs) {
        ps /= ps_runs;
        printf("%-34s %8.3f ms CPU per run   ratio sampler/ps  = %.2f (target <= 0.5)\n", "ps -eo pid,pcpu,rss,nlwp", ps, sv / ps);
    } else printf("ps: not runnable here\n");
    if (top_runs) {
        top /= top_runs;
        printf("%-34s %8.3f ms CPU per run   ratio sampler/top = %.2f\n", "top -b -n 1", top, sv / top);
    } else printf("top: not runnable here\n");
    rc = 0;
done:
    sv_monitor_free(monitor);
    sv_vault_close(vault);
    for (int i = 0; i < started; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < started; i++) waitpid(kids[i], NULL, 0);
    free(kids);
    return rc;
}
