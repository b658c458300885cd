/* A C host that saves in the background while its own thread keeps ticking (issue #13):
 *   save_async_host VAULT_DIR [COUNT]
 * Checks that every sv_vault_save_start returns at once even while another connection holds
 * the database's write lock (so the host never waits for the disk), that every callback runs
 * exactly once, that sv_vault_close drains the queue, SV_ERR_BUSY on a full queue, and the
 * bad-input statuses. Prints one JSON line with the longest gap between the host's ticks.
 * Built and run by bindings/python/tests/test_background.py and bench/save_async/. */
#define _POSIX_C_SOURCE 200809L
#include <spikevault.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int calls_total;
static atomic_int failures;
static atomic_int slots[100000];

static void on_done(sv_job *job, sv_status status, int64_t id, void *user_data) {
    (void)job;
    atomic_int *slot = user_data;
    atomic_fetch_add(slot, 1);
    atomic_fetch_add(&calls_total, 1);
    if (status != SV_OK || id <= 0) {
        if (atomic_fetch_add(&failures, 1) == 0) fprintf(stderr, "first failed save: status %d: %s\n", (int)status, sv_errmsg());
    }
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t last_tick, max_gap;
static void tick(void) {
    int64_t t = now_ns();
    if (last_tick && t - last_tick > max_gap) max_gap = t - last_tick;
    last_tick = t;
}

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

static sv_vault *open_vault(const char *path, int64_t capacity) {
    sv_options *o = NULL;
    sv_vault *v = NULL;
    if (sv_options_new(&o) != SV_OK) FAIL("options: %s", sv_errmsg());
    sv_options_set_int(o, SV_OPT_WRITE_QUEUE_CAPACITY, capacity);
    sv_options_set_int(o, SV_OPT_BUSY_TIMEOUT_MS, 120000);
    sv_options_set_int(o, SV_OPT_MAINTENANCE_INTERVAL_SECONDS, 0);
    if (sv_vault_open(path, o, &v) != SV_OK) FAIL("open: %s", sv_errmsg());
    sv_options_free(o);
    return v;
}

static sv_record *make_record(int i) {
    sv_record *r = NULL;
    char body[64];
    int n = snprintf(body, sizeof body, "main;work;step%d 1\n", i);
    if (sv_record_new(&r) != SV_OK || sv_record_set_process(r, "c-host") != SV_OK || sv_record_set_pid(r, 1000 + i % 5000) != SV_OK
        || sv_record_set_trigger(r, SV_METRIC_CPU, 90.0) != SV_OK
        || sv_record_add_artefact_buffer(r, "stacks.folded", body, (size_t)n) != SV_OK)
        FAIL("record: %s", sv_errmsg());
    return r;
}

static sqlite3 *lock_database(const char *dir) {
    char p[4096];
    sqlite3 *db = NULL;
    snprintf(p, sizeof p, "%s/vault.sqlite3", dir);
    if (sqlite3_open(p, &db) != SQLITE_OK || sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0) != SQLITE_OK)
        FAIL("locking the database: %s", sqlite3_errmsg(db));
    return db;
}

static void unlock_database(sqlite3 *db) {
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    sqlite3_close(db);
}

int main(int argc, char **argv) {
    if (argc < 2) FAIL("usage: save_async_host VAULT_DIR [COUNT]");
    const char *dir = argv[1];
    int count = argc > 2 ? atoi(argv[2]) : 1000;
    if (count < 1 || count > 50000) FAIL("COUNT must be 1..50000");
    sv_vault *v = open_vault(dir, 2 * count);

    /* 1. count saves queued while another connection holds the write lock: none can finish,
     * yet every start returns SV_OK at once. */
    sqlite3 *lock = lock_database(dir);
    last_tick = 0;
    for (int i = 0; i < count; i++) {
        tick();
        sv_record *r = make_record(i);
        if (sv_vault_save_start(v, r, on_done, &slots[i], NULL) != SV_OK) FAIL("save_start %d: %s", i, sv_errmsg());
        sv_record_free(r);
    }
    int finished_while_locked = atomic_load(&calls_total);
    int64_t stall_while_locked = max_gap;
    unlock_database(lock);
    int64_t deadline = now_ns() + (int64_t)300 * 1000000000;
    while (atomic_load(&calls_total) < count && now_ns() < deadline) tick();
    if (atomic_load(&calls_total) != count) FAIL("only %d of %d callbacks ran", atomic_load(&calls_total), count);

    /* 2. close drains: jobs queued just before close all run, each callback once. */
    int extra = count / 5 + 1;
    for (int i = count; i < count + extra; i++) {
        tick();
        sv_record *r = make_record(i);
        if (sv_vault_save_start(v, r, on_done, &slots[i], NULL) != SV_OK) FAIL("save_start %d: %s", i, sv_errmsg());
        sv_record_free(r);
    }
    if (sv_vault_close(v) != SV_OK) FAIL("close: %s", sv_errmsg());
    last_tick = 0; /* close waits for the queue on purpose: not a stall */
    int total = count + extra;
    if (atomic_load(&calls_total) != total) FAIL("close returned with %d of %d callbacks", atomic_load(&calls_total), total);
    for (int i = 0; i < total; i++)
        if (atomic_load(&slots[i]) != 1) FAIL("callback %d ran %d times", i, atomic_load(&slots[i]));
    if (atomic_load(&failures)) FAIL("%d saves failed", atomic_load(&failures));

    /* 3. A full queue is SV_ERR_BUSY at once; what was accepted still runs. */
    v = open_vault(dir, 2);
    lock = lock_database(dir);
    last_tick = 0;
    int accepted = 0, status = SV_OK;
    sv_record *r = make_record(0);
    while (accepted < 10 && (status = sv_vault_save_start(v, r, on_done, &slots[total + accepted], NULL)) == SV_OK) accepted++;
    if (status != SV_ERR_BUSY || accepted < 2 || accepted > 3) FAIL("full queue: status %d after %d accepted", status, accepted);
    unlock_database(lock);
    deadline = now_ns() + (int64_t)300 * 1000000000;
    while (atomic_load(&calls_total) < total + accepted && now_ns() < deadline) tick();

    /* 4. NULL callback, a job handle, bad input. */
    sv_job *job = NULL;
    int64_t id = 0;
    if (sv_vault_save_start(v, r, NULL, NULL, NULL) != SV_OK) FAIL("NULL callback: %s", sv_errmsg());
    if (sv_vault_save_start(v, r, NULL, NULL, &job) != SV_OK || sv_job_wait(job, -1, &id) != SV_OK || id <= 0)
        FAIL("job wait: %s", sv_errmsg());
    sv_job_free(job);
    if (sv_vault_purge_start(v, 0, NULL, NULL, &job) != SV_OK || sv_job_wait(job, -1, &id) != SV_OK || id != 0)
        FAIL("purge_start: %s", sv_errmsg());
    sv_job_free(job);
    if (sv_vault_maintain_start(v, NULL, NULL, &job) != SV_OK || sv_job_wait(job, -1, &id) != SV_OK) FAIL("maintain_start: %s", sv_errmsg());
    sv_job_free(job);
    sv_record *empty = NULL;
    sv_record_new(&empty);
    if (sv_vault_save_start(v, empty, on_done, NULL, NULL) != SV_ERR_INVALID_ARGUMENT) FAIL("incomplete record accepted");
    if (sv_vault_save_start(NULL, r, on_done, NULL, NULL) >= 0) FAIL("NULL vault accepted");
    if (sv_vault_save_start(v, NULL, on_done, NULL, NULL) >= 0) FAIL("NULL record accepted");
    sv_record_free(empty);
    sv_record_free(r);
    if (sv_vault_close(v) != SV_OK) FAIL("close: %s", sv_errmsg());
    if (sv_vault_save_start(v, r, on_done, NULL, NULL) != SV_ERR_CLOSED) FAIL("closed vault accepted");
    for (int i = total; i < total + accepted; i++)
        if (atomic_load(&slots[i]) != 1) FAIL("queued-before-busy callback %d ran %d times", i, atomic_load(&slots[i]));

    printf("{\"saves\": %d, \"finished_while_locked\": %d, \"max_stall_us_while_locked\": %lld, \"max_stall_us\": %lld}\n",
           total, finished_while_locked, (long long)(stall_while_locked / 1000), (long long)(max_gap / 1000));
    return finished_while_locked == 0 ? 0 : 2;
}
