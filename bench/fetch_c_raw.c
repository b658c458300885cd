/* fetch_c_raw.c - the SQL behind fetchRecent(50), run with plain libsqlite3 on the vault's
 * database file: one prepared statement, every column read (text as C strings).
 *   fetch_c_raw VAULT_DIR ITERS RUNS    prints "us_per_call MEDIAN" (and each run). */
#include "common.h"
#include <sqlite3.h>

static const char *sql =
    "SELECT c.id, c.processName, c.pid, c.triggerMetric, c.triggerValue, c.capturedAt, c.profilePath,"
    " c.durationSeconds, c.notes, c.status, c.processStartTime,"
    " a.kind, a.path, a.rawBytes, a.storedBytes, a.checksum"
    " FROM (SELECT * FROM profile_capture ORDER BY capturedAt DESC, id DESC LIMIT ?1) c"
    " LEFT JOIN capture_artefact a ON a.captureId = c.id"
    " ORDER BY c.capturedAt DESC, c.id DESC, a.id";

static long text_len(sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (long)strlen((const char *)t) : 0;
}

int main(int argc, char **argv) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char path[4096];
    double runs_us[16];
    long iters, k, sink = 0;
    int runs, run;
    if (argc != 4) { fprintf(stderr, "usage: %s VAULT_DIR ITERS RUNS\n", argv[0]); return 2; }
    iters = atol(argv[2]);
    runs = atoi(argv[3]);
    if (runs < 1 || runs > 16) runs = 3;
    snprintf(path, sizeof path, "%s/vault.sqlite3", argv[1]);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
        || sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "fetch_c_raw: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    for (run = 0; run < runs; run++) {
        int64_t start = mono_ns();
        for (k = 0; k < iters; k++) {
            int rc;
            sqlite3_bind_int64(st, 1, 50);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                sink += sqlite3_column_int64(st, 0) + text_len(st, 1) + sqlite3_column_int64(st, 2);
                sink += text_len(st, 3) + (long)sqlite3_column_double(st, 4) + sqlite3_column_int64(st, 5);
                sink += text_len(st, 6) + (long)sqlite3_column_double(st, 7) + text_len(st, 8) + text_len(st, 9);
                sink += sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 10);
                sink += text_len(st, 11) + text_len(st, 12) + sqlite3_column_int64(st, 13);
                sink += sqlite3_column_int64(st, 14) + text_len(st, 15);
            }
            if (rc != SQLITE_DONE) { fprintf(stderr, "fetch_c_raw: %s\n", sqlite3_errmsg(db)); return 1; }
            sqlite3_reset(st);
        }
        runs_us[run] = (double)(mono_ns() - start) / 1e3 / (double)iters;
        printf("run %d: %.1f us/call\n", run + 1, runs_us[run]);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("sink %ld\n", sink); /* keeps the reads from being optimised away */
    printf("us_per_call %.2f\n", median(runs_us, runs));
    return 0;
}
