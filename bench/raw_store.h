/* raw_store.h - the library's save protocol done by hand with libzstd and libsqlite3: the
 * baseline the save benchmark compares the library with. Same settings as the library's defaults: zstd level 3 with
 * the content checksum; temp file O_CREAT|O_EXCL|O_NOFOLLOW 0600 in VAULT/artefacts, fsync,
 * link() to the final name, unlink the temp, fsync the directory; then BEGIN IMMEDIATE, two
 * INSERTs (prepared), COMMIT, on a WAL database with synchronous=NORMAL and foreign_keys=ON.
 * raw_open(dir), then raw_save(i) per record, then raw_close(). */
#ifndef BENCH_RAW_STORE_H
#define BENCH_RAW_STORE_H
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* The library's schema (all migrations), generated from Schema.swift by schema_sql.py, so both
 * sides maintain the same tables, indices and triggers on every insert. */
#include "schema.h"

static sqlite3 *db;
static ZSTD_CCtx *cctx;
static unsigned char *zbuf;
static size_t zcap;
static int afd;
static sqlite3_stmt *begin, *commit, *ins_capture, *ins_artefact;

static int die(const char *what) {
    fprintf(stderr, "save_c_raw: %s: %s\n", what, db ? sqlite3_errmsg(db) : strerror(errno));
    exit(1);
}

static void exec(const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) { fprintf(stderr, "%s: %s\n", sql, err); exit(1); }
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) die(sql);
    return st;
}

static void run(sqlite3_stmt *st) {
    if (sqlite3_step(st) != SQLITE_DONE) die("step");
    sqlite3_reset(st);
}

/* 20261127T143512.123Z, as the library names artefacts. */
static void compact_utc(int64_t ms, char *out, size_t size) {
    time_t s = (time_t)(ms / 1000);
    struct tm t;
    gmtime_r(&s, &t);
    snprintf(out, size, "%04d%02d%02dT%02d%02d%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
             t.tm_hour, t.tm_min, t.tm_sec, (int)(ms % 1000));
}


static void raw_open(const char *vault) {
    char path[4200];
    int dirfd;
    zcap = ZSTD_compressBound(ARTEFACT_SIZE);
    zbuf = malloc(zcap);
    cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);

    if (mkdir(vault, 0700) != 0 && errno != EEXIST) die("mkdir vault");
    dirfd = open(vault, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0 || (mkdirat(dirfd, "artefacts", 0700) != 0 && errno != EEXIST)) die("vault dir");
    afd = openat(dirfd, "artefacts", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (afd < 0) die("artefacts dir");
    close(dirfd);

    snprintf(path, sizeof path, "%s/vault.sqlite3", vault);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
                        | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) die("open db");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 10000);
    exec("PRAGMA auto_vacuum = INCREMENTAL");
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA synchronous = NORMAL");
    exec("BEGIN IMMEDIATE");
    for (int part = 0; schema_parts[part]; part++) exec(schema_parts[part]);
    {
        char version[64];
        snprintf(version, sizeof version, "PRAGMA user_version = %d", RAW_SCHEMA_VERSION);
        exec(version);
    }
    exec("COMMIT");

    begin = prepare("BEGIN IMMEDIATE");
    commit = prepare("COMMIT");
    ins_capture = prepare(
        "INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt,"
        " profilePath, durationSeconds, notes, status, processStartTime, rawBytes, storedBytes)"
        " VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%d %H:%M:%fZ', ?5 / 1000.0, 'unixepoch'), ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    ins_artefact = prepare(
        "INSERT INTO capture_artefact (captureId, kind, path, rawBytes, storedBytes, checksum)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
}

/* Saves record i (content from gen_content) exactly as the library's save does. */
static void raw_save(long i) {
    static unsigned char buf[ARTEFACT_SIZE];
    char temp[64], name[160], stamp[80], checksum[32];
    size_t zsize, off = 0;
    int fd;
    int64_t captured = BASE_MS + i, id;

    /* 1. Compress (level 3, content checksum) and hash the raw bytes. */
    gen_content(buf, sizeof buf, (uint32_t)i);
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
    zsize = ZSTD_compress2(cctx, zbuf, zcap, buf, sizeof buf);
    if (ZSTD_isError(zsize)) { fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(zsize)); exit(1); }
    snprintf(checksum, sizeof checksum, "xxh64:%016llx", (unsigned long long)xxh64(buf, sizeof buf));

    /* 2. Temp file, fsync, link to the final name, unlink the temp, fsync the directory. */
    snprintf(temp, sizeof temp, ".tmp-%ld-%ld", (long)getpid(), i);
    fd = openat(afd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) die("create temp");
    while (off < zsize) {
        ssize_t w = write(fd, zbuf + off, zsize - off);
        if (w < 0) { if (errno == EINTR) continue; die("write"); }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) die("fsync");
    close(fd);
    compact_utc(captured, stamp, sizeof stamp);
    snprintf(name, sizeof name, "%s-%d.oncpu.folded.zst", stamp, 4242);
    if (linkat(afd, temp, afd, name, 0) != 0) die("link");
    unlinkat(afd, temp, 0);
    if (fsync(afd) != 0) die("fsync dir");

    /* 3. The rows, in one transaction. */
    run(begin);
    sqlite3_bind_text(ins_capture, 1, "bench-worker", -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins_capture, 2, 4242);
    sqlite3_bind_text(ins_capture, 3, "cpu", -1, SQLITE_STATIC);
    sqlite3_bind_double(ins_capture, 4, 90.0 + (double)(i % 10));
    sqlite3_bind_int64(ins_capture, 5, captured);
    sqlite3_bind_text(ins_capture, 6, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(ins_capture, 7, 1.5);
    sqlite3_bind_text(ins_capture, 8, "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_capture, 9, "complete", -1, SQLITE_STATIC);
    sqlite3_bind_null(ins_capture, 10);
    sqlite3_bind_int64(ins_capture, 11, ARTEFACT_SIZE);
    sqlite3_bind_int64(ins_capture, 12, (sqlite3_int64)zsize);
    run(ins_capture);
    id = sqlite3_last_insert_rowid(db);
    sqlite3_bind_int64(ins_artefact, 1, id);
    sqlite3_bind_text(ins_artefact, 2, "oncpu.folded", -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_artefact, 3, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins_artefact, 4, ARTEFACT_SIZE);
    sqlite3_bind_int64(ins_artefact, 5, (sqlite3_int64)zsize);
    sqlite3_bind_text(ins_artefact, 6, checksum, -1, SQLITE_TRANSIENT);
    run(ins_artefact);
    run(commit);
}

static void raw_close(void) {
    sqlite3_finalize(begin); sqlite3_finalize(commit);
    sqlite3_finalize(ins_capture); sqlite3_finalize(ins_artefact);
    sqlite3_close(db);
    ZSTD_freeCCtx(cctx);
    free(zbuf);
    close(afd);
}

#endif
