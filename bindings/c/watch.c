/* watch.c - the monitor from C: watch processes and capture on sustained spikes.
 *
 *   cc -std=c99 watch.c $(pkg-config --cflags --libs spikevault) -o watch
 *   ./watch VAULT_DIR              demo: start a CPU-burning child, capture it when it has held
 *                                  >= 5 % CPU for 2 s, print what happened, exit 0 on success
 *   ./watch VAULT_DIR SECONDS      watch this user's processes with the default rules
 *
 * The callbacks run on library threads: they only record and print, under a mutex.
 */
#define _POSIX_C_SOURCE 200809L
#include <spikevault.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(call)                                                                  \
    do {                                                                             \
        sv_status rc_ = (call);                                                      \
        if (rc_ != SV_OK) {                                                          \
            fprintf(stderr, "watch: %s failed: %s (%d): %s\n", #call,                \
                    sv_status_string(rc_), (int)rc_, sv_errmsg());                   \
            goto done;                                                               \
        }                                                                            \
    } while (0)

struct state {
    pthread_mutex_t lock;
    int fired;
    int captured;
    int64_t capture_id;
};

static const char *metric_name(sv_metric m) {
    static const char *names[] = {"?", "cpu", "memory", "diskIO", "network", "threads", "fds"};
    return (m >= SV_METRIC_CPU && m <= SV_METRIC_FDS) ? names[m] : "?";
}

/* On the monitor thread. process_name is valid during the call only. */
static void on_fired(int64_t pid, const char *process_name, sv_metric metric, double value,
                     int32_t rule_index, int64_t time_ms, void *user_data) {
    struct state *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->fired++;
    printf("fired: rule %d, pid %lld (%s), %s = %.1f at %lld ms\n", (int)rule_index, (long long)pid,
           process_name, metric_name(metric), value, (long long)time_ms);
    fflush(stdout);
    pthread_mutex_unlock(&s->lock);
}

/* On a library worker thread: the capture the firing started is stored (or failed). */
static void on_capture(int64_t pid, sv_metric metric, int32_t rule_index, sv_status status,
                       int64_t capture_id, void *user_data) {
    struct state *s = user_data;
    pthread_mutex_lock(&s->lock);
    if (status == SV_OK) {
        s->captured++;
        s->capture_id = capture_id;
        printf("captured: pid %lld (%s, rule %d) as capture %lld\n", (long long)pid, metric_name(metric),
               (int)rule_index, (long long)capture_id);
    } else {
        printf("capture of pid %lld failed: %s: %s\n", (long long)pid, sv_status_string(status), sv_errmsg());
    }
    fflush(stdout);
    pthread_mutex_unlock(&s->lock);
}

static pid_t start_burner(double seconds) {
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec now, end;
        volatile unsigned long sink = 0;
        prctl(PR_SET_NAME, "svwatch-burn", 0, 0, 0);
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += (time_t)seconds;
        do {
            for (unsigned long i = 0; i < 1000000; i++) sink += i;
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while (now.tv_sec < end.tv_sec);
        _exit(0);
    }
    return pid;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    sv_vault *vault = NULL;
    sv_monitor *monitor = NULL;
    sv_rule *rule = NULL;
    struct state s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    pid_t child = -1;
    int ok = 0;
    int64_t ticks = 0, processes = 0, vanished = 0, cpu_us = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s VAULT_DIR [SECONDS]\n", argv[0]);
        return 2;
    }
    CHECK(sv_vault_open(argv[1], NULL, &vault));
    CHECK(sv_monitor_new(vault, &monitor));
    CHECK(sv_monitor_set_callbacks(monitor, on_fired, on_capture, &s));
    if (argc > 2) {
        int seconds = atoi(argv[2]);
        CHECK(sv_monitor_add_default_rules(monitor));
        CHECK(sv_monitor_start(monitor));
        printf("watching with the default rules for %d s\n", seconds);
        sleep_ms(1000L * seconds);
        ok = 1;
    } else {
        /* A low threshold: on a loaded machine the burner gets a small share of a core, and
         * the example must still show a capture (a real host would pick e.g. 90 %). */
        CHECK(sv_rule_new(SV_METRIC_CPU, 5, &rule));
        CHECK(sv_rule_set_sustain(rule, 2));
        CHECK(sv_rule_add_include(rule, "svwatch-burn"));
        CHECK(sv_rule_set_capture(rule, SV_BACKEND_PROCFS, 0.5));
        CHECK(sv_monitor_add_rule(monitor, rule, NULL));
        child = start_burner(40);
        CHECK(sv_monitor_start(monitor));
        printf("watching pid %d: CPU >= 5 %% for 2 s captures it\n", (int)child);
        for (int i = 0; i < 350; i++) {
            pthread_mutex_lock(&s.lock);
            ok = s.captured > 0;
            pthread_mutex_unlock(&s.lock);
            if (ok) break;
            sleep_ms(100);
        }
    }
    CHECK(sv_monitor_stop(monitor)); /* joins; no callback runs after this */
    CHECK(sv_monitor_get_counter(monitor, SV_MONITOR_TICKS, &ticks));
    CHECK(sv_monitor_get_counter(monitor, SV_MONITOR_PROCESSES, &processes));
    CHECK(sv_monitor_get_counter(monitor, SV_MONITOR_VANISHED, &vanished));
    CHECK(sv_monitor_get_counter(monitor, SV_MONITOR_SAMPLER_CPU_US, &cpu_us));
    printf("sampler: %lld ticks, %lld processes in the last, %lld vanished mid-read, %.2f ms CPU per tick\n",
           (long long)ticks, (long long)processes, (long long)vanished,
           ticks ? (double)cpu_us / 1000.0 / (double)ticks : 0.0);
    if (!ok) fprintf(stderr, "watch: the burner was not captured\n");
done:
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    sv_rule_free(rule);
    sv_monitor_free(monitor);
    sv_vault_close(vault);
    return ok ? 0 : 1;
}
