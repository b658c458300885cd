/* Retention benchmark: libspikevault against a plain C program doing the same work with raw
 * SQL and unlinkat, on the same kind of data, measured side by side in one run.
 *
 *   bench_retention DIR [ROWS]     (ROWS default 100000; the issue asks for 1,000,000)
 *
 * Each vault gets ROWS captures spread over the last 108 hours, each with a small file
 * (64 bytes). Populating is done with raw SQL for both sides (same rows, same files), so only
 * the measured operations differ:
 *   purge   every capture at least 72 h old (the oldest third): rows and their files.
 *           library: sv_vault_maintain with SV_OPT_MAX_AGE_SECONDS = 72 h (its age purge,
 *           reconciliation pass included), and sv_vault_delete_older_than;
 *           raw: SELECT the paths, DELETE the rows, unlinkat each file.
 *   fetch   the newest 50 captures with their fields (sv_vault_recent + cursor accessors
 *           against a prepared SELECT ... ORDER BY capturedAt DESC LIMIT 50).
 * Also: database bytes per 10,000 rows for both schemas.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spikevault.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what, int rc) {
    fprintf(stderr, "%s failed (%d): %s\n", what, rc, rc < 0 ? sv_errmsg() : "");
    exit(1);
}

static void sql(sqlite3 *db, const char *q) {
    char *err = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sql %s: %s\n", q, err);
        exit(1);
    }
}

static const long long HOUR = 3600LL * 1000;

static long long captured_at(long long base, long long i, long long rows) {
    return base - 108 * HOUR + i * (108 * HOUR) / rows;
}

static void write_file(int dirfd, const char *name) {
    static const char payload[64] = "(zstd frame stand-in) 0123456789abcdef0123456789abcdef012345";
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, payload, sizeof payload) != (ssize_t)sizeof payload) { perror(name); exit(1); }
    close(fd);
}

static sv_vault *open_lib(const char *path, long long max_age_s) {
    sv_options *o;
    sv_vault *v;
    int rc;
    if ((rc = sv_options_new(&o))) die("sv_options_new", rc);
    sv_options_set_int(o, SV_OPT_DURABILITY, 0);
    sv_options_set_int(o, SV_OPT_MAX_AGE_SECONDS, max_age_s);
    sv_options_set_int(o, SV_OPT_MAX_FOOTPRINT_BYTES, 0);
    sv_options_set_int(o, SV_OPT_MIN_FREE_PERCENT, 0);
    sv_options_set_int(o, SV_OPT_MAINTENANCE_INTERVAL_SECONDS, 0);
    if ((rc = sv_vault_open(path, o, &v))) die("sv_vault_open", rc);
    sv_options_free(o);
    return v;
}

/* A library vault holding `rows` captures, filled with raw SQL in the library's schema. */
static void populate_lib(const char *path, long long rows, long long base) {
    sv_vault_close(open_lib(path, 0)); /* creates the schema */
    char p[4096];
    snprintf(p, sizeof p, "%s/vault.sqlite3", path);
    sqlite3 *db;
    if (sqlite3_open(p, &db)) exit(1);
    sql(db, "PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON; BEGIN");
    snprintf(p, sizeof p, "%s/artefacts", path);
    int dirfd = open(p, O_RDONLY | O_DIRECTORY);
    sqlite3_stmt *c, *a;
    sqlite3_prepare_v2(db, "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt,"
                           " profilePath, durationSeconds, notes, rawBytes, storedBytes)"
                           " VALUES ('burner', ?1, 'cpu', 97.5, strftime('%Y-%m-%d %H:%M:%fZ', ?2 / 1000.0, 'unixepoch'), ?3, 2,"
                           " '{\"host\":\"bench\"}', 100, 64)", -1, &c, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO capture_artefact (captureId, kind, path, rawBytes, storedBytes, checksum)"
                           " VALUES (?1, 'stacks.folded', ?2, 100, 64, 'xxh64:0123456789abcdef')", -1, &a, NULL);
    for (long long i = 0; i < rows; i++) {
        char name[64];
        snprintf(name, sizeof name, "c%09lld-%lld.stacks.folded.zst", i, 1000 + i % 50000);
        write_file(dirfd, name);
        sqlite3_bind_int64(c, 1, 1000 + i % 50000);
        sqlite3_bind_int64(c, 2, captured_at(base, i, rows));
        sqlite3_bind_text(c, 3, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(c) != SQLITE_DONE) exit(1);
        sqlite3_reset(c);
        sqlite3_bind_int64(a, 1, sqlite3_last_insert_rowid(db));
        sqlite3_bind_text(a, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(a) != SQLITE_DONE) exit(1);
        sqlite3_reset(a);
    }
    sqlite3_finalize(c);
    sqlite3_finalize(a);
    sql(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    close(dirfd);
}

/* The plain program's store: the seed's one table and two indices, files in a directory. */
static sqlite3 *populate_raw(const char *path, long long rows, long long base, int *out_dirfd) {
    char p[4096];
    mkdir(path, 0700);
    snprintf(p, sizeof p, "%s/files", path);
    mkdir(p, 0700);
    *out_dirfd = open(p, O_RDONLY | O_DIRECTORY);
    snprintf(p, sizeof p, "%s/raw.sqlite3", path);
    sqlite3 *db;
    if (sqlite3_open(p, &db)) exit(1);
    sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
            "CREATE TABLE profile_capture (id INTEGER PRIMARY KEY AUTOINCREMENT, processName TEXT NOT NULL,"
            " pid INTEGER NOT NULL, triggerMetric TEXT NOT NULL, triggerValue REAL NOT NULL,"
            " capturedAt INTEGER NOT NULL, profilePath TEXT, durationSeconds REAL NOT NULL, notes TEXT);"
            "CREATE INDEX idx_capturedAt ON profile_capture(capturedAt);"
            "CREATE INDEX idx_pid_capturedAt ON profile_capture(pid, capturedAt DESC); BEGIN");
    sqlite3_stmt *c;
    sqlite3_prepare_v2(db, "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt,"
                           " profilePath, durationSeconds, notes) VALUES ('burner', ?1, 'cpu', 97.5, ?2, ?3, 2,"
                           " '{\"host\":\"bench\"}')", -1, &c, NULL);
    for (long long i = 0; i < rows; i++) {
        char name[64];
        snprintf(name, sizeof name, "c%09lld-%lld.stacks.folded.zst", i, 1000 + i % 50000);
        write_file(*out_dirfd, name);
        sqlite3_bind_int64(c, 1, 1000 + i % 50000);
        sqlite3_bind_int64(c, 2, captured_at(base, i, rows));
        sqlite3_bind_text(c, 3, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(c) != SQLITE_DONE) exit(1);
        sqlite3_reset(c);
    }
    sqlite3_finalize(c);
    sql(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
    return db;
}

/* The purge by hand: SELECT the paths (`paths_sql`, with ?1 = cutoff), DELETE the captures
 * (with foreign keys on, the library schema's artefact rows go by ON DELETE CASCADE), then
 * unlinkat each file. */
static long long raw_purge(sqlite3 *db, int dirfd, long long cutoff, const char *paths_sql) {
    sqlite3_stmt *s;
    long long n;
    sql(db, "PRAGMA foreign_keys=ON; BEGIN IMMEDIATE");
    sqlite3_prepare_v2(db, paths_sql, -1, &s, NULL);
    sqlite3_bind_int64(s, 1, cutoff);
    size_t cap = 1024, count = 0;
    char **names = malloc(cap * sizeof *names);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (count == cap) names = realloc(names, (cap *= 2) * sizeof *names);
        names[count++] = strdup((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_prepare_v2(db, "DELETE FROM profile_capture WHERE capturedAt <= ?1", -1, &s, NULL);
    sqlite3_bind_int64(s, 1, cutoff);
    sqlite3_step(s);
    n = sqlite3_changes(db);
    sqlite3_finalize(s);
    sql(db, "COMMIT");
    for (size_t i = 0; i < count; i++) {
        unlinkat(dirfd, names[i], 0);
        free(names[i]);
    }
    free(names);
    return n;
}

static const char *seed_paths_sql = "SELECT profilePath FROM profile_capture WHERE capturedAt <= ?1";
static const char *library_paths_sql = "SELECT a.path FROM capture_artefact a JOIN profile_capture c"
                                       " ON a.captureId = c.id WHERE c.capturedAt <= ?1";

static long long db_bytes(const char *file) {
    struct stat st;
    return stat(file, &st) == 0 ? (long long)st.st_size : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s DIR [ROWS]\n", argv[0]); return 2; }
    const char *dir = argv[1];
    long long rows = argc > 2 ? atoll(argv[2]) : 100000;
    const int fetches = 2000;
    char a[4096], b[4096], r[4096], f[4096];
    snprintf(a, sizeof a, "%s/lib-maintain", dir);
    snprintf(b, sizeof b, "%s/lib-delete", dir);
    snprintf(r, sizeof r, "%s/raw", dir);
    char same[4096];
    snprintf(same, sizeof same, "%s/raw-library-schema", dir);
    mkdir(dir, 0700);
    long long base = wall_ms();
    long long cutoff = base - 72 * HOUR;

    double t = now_s();
    populate_lib(a, rows, base);
    populate_lib(b, rows, base);
    int rawdir;
    sqlite3 *raw = populate_raw(r, rows, base, &rawdir);
    populate_lib(same, rows, base);
    char p2[4200];
    snprintf(p2, sizeof p2, "%s/vault.sqlite3", same);
    sqlite3 *raws;
    if (sqlite3_open(p2, &raws)) exit(1);
    snprintf(p2, sizeof p2, "%s/artefacts", same);
    int rawsdir = open(p2, O_RDONLY | O_DIRECTORY);
    printf("populated 4 stores of %lld rows and %lld files each in %.1f s\n", rows, rows, now_s() - t);

    snprintf(f, sizeof f, "%s/vault.sqlite3", a);
    long long lib_db = db_bytes(f);
    snprintf(f, sizeof f, "%s/raw.sqlite3", r);
    long long raw_db = db_bytes(f);

    /* fetchRecent(50) */
    sv_vault *va = open_lib(a, 0);
    double t_lib = now_s();
    long long sink = 0;
    for (int k = 0; k < fetches; k++) {
        sv_cursor *cur;
        int rc = sv_vault_recent(va, 50, &cur);
        if (rc) die("sv_vault_recent", rc);
        while (sv_cursor_next(cur) == SV_ROW) {
            sink += sv_cursor_id(cur) + sv_cursor_pid(cur) + sv_cursor_captured_at(cur) + (long long)sv_cursor_trigger_value(cur);
            sink += (long long)strlen(sv_cursor_process_name(cur)) + (long long)strlen(sv_cursor_artefact_path(cur, 0));
        }
        sv_cursor_close(cur);
    }
    t_lib = now_s() - t_lib;
    sqlite3_stmt *q;
    sqlite3_prepare_v2(raw, "SELECT id, processName, pid, triggerMetric, triggerValue, capturedAt, profilePath,"
                            " durationSeconds, notes FROM profile_capture ORDER BY capturedAt DESC LIMIT 50", -1, &q, NULL);
    double t_raw = now_s();
    for (int k = 0; k < fetches; k++) {
        while (sqlite3_step(q) == SQLITE_ROW) {
            sink += sqlite3_column_int64(q, 0) + sqlite3_column_int64(q, 2) + sqlite3_column_int64(q, 5)
                  + (long long)sqlite3_column_double(q, 4);
            sink += (long long)strlen((const char *)sqlite3_column_text(q, 1)) + (long long)strlen((const char *)sqlite3_column_text(q, 6));
        }
        sqlite3_reset(q);
    }
    t_raw = now_s() - t_raw;
    sqlite3_finalize(q);
    /* The same fetch by hand on the library's schema: its join, the same columns read. */
    sqlite3_prepare_v2(raws, "SELECT c.id, c.processName, c.pid, c.capturedAt, c.triggerValue, a.path"
                             " FROM (SELECT * FROM profile_capture ORDER BY capturedAt DESC, id DESC LIMIT 50) c"
                             " LEFT JOIN capture_artefact a ON a.captureId = c.id"
                             " ORDER BY c.capturedAt DESC, c.id DESC, a.id", -1, &q, NULL);
    double t_same = now_s();
    for (int k = 0; k < fetches; k++) {
        while (sqlite3_step(q) == SQLITE_ROW) {
            sink += sqlite3_column_int64(q, 0) + sqlite3_column_int64(q, 2) + sqlite3_column_int64(q, 3)
                  + (long long)sqlite3_column_double(q, 4);
            sink += (long long)strlen((const char *)sqlite3_column_text(q, 1)) + (long long)strlen((const char *)sqlite3_column_text(q, 5));
        }
        sqlite3_reset(q);
    }
    t_same = now_s() - t_same;
    sqlite3_finalize(q);
    printf("fetchRecent(50): library %.1f us per call; by hand on the library's schema (same join) %.1f us: "
           "%.2fx; on the seed's single table %.1f us: %.2fx (target <= 1.1x)\n",
           t_lib / fetches * 1e6, t_same / fetches * 1e6, t_lib / t_same, t_raw / fetches * 1e6, t_lib / t_raw);
    sv_vault_close(va);

    /* purge the oldest third */
    t = now_s();
    long long raw_n = raw_purge(raw, rawdir, cutoff, seed_paths_sql);
    double t_rawp = now_s() - t;
    t = now_s();
    long long same_n = raw_purge(raws, rawsdir, cutoff, library_paths_sql);
    double t_samep = now_s() - t;

    sv_vault *vb = open_lib(b, 0);
    int64_t del_n = 0;
    t = now_s();
    int rc = sv_vault_delete_older_than(vb, cutoff + 1, &del_n);
    double t_del = now_s() - t;
    if (rc) die("sv_vault_delete_older_than", rc);
    sv_vault_close(vb);

    sv_vault *vm = open_lib(a, 72 * 3600);
    sv_report *rep;
    t = now_s();
    rc = sv_vault_maintain(vm, &rep);
    double t_maint = now_s() - t;
    if (rc) die("sv_vault_maintain", rc);
    int64_t by_age = 0, files = 0;
    sv_report_get_int(rep, SV_REPORT_PURGED_BY_AGE, &by_age);
    sv_report_get_int(rep, SV_REPORT_FILES_DELETED, &files);
    sv_report_free(rep);
    /* A second run with nothing to purge: the cost of the reconciliation pass alone. */
    t = now_s();
    rc = sv_vault_maintain(vm, NULL);
    double t_idle = now_s() - t;
    sv_vault_close(vm);

    printf("purge of the 72 h cutoff (raw %lld rows, delete_older_than %lld, maintain %lld rows / %lld files):\n",
           raw_n, (long long)del_n, (long long)by_age, (long long)files);
    printf("  raw SQL + unlinkat, seed's single table      %.3f s\n", t_rawp);
    printf("  raw SQL + unlinkat, library's schema         %.3f s (%lld rows)\n", t_samep, same_n);
    printf("  sv_vault_delete_older_than    %.3f s  ratio %.2fx vs the same schema by hand, %.2fx vs the seed's table"
           " (target <= 1.2x)\n", t_del, t_del / t_samep, t_del / t_rawp);
    printf("  sv_vault_maintain (age purge) %.3f s  ratio %.2fx; of which reconciliation ~%.3f s (a run with nothing to purge)\n",
           t_maint, t_maint / t_rawp, t_idle);
    printf("database bytes per 10,000 rows: library %.0f (two tables and their indices), raw %.0f (the seed table, 2 indices): %.2fx\n",
           lib_db * 10000.0 / rows, raw_db * 10000.0 / rows, (double)lib_db / raw_db);
    sqlite3_close(raw);
    close(rawdir);
    sqlite3_close(raws);
    close(rawsdir);
    return sink == 42 ? 1 : 0;
}
