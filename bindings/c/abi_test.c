/* abi_test.c - tests of the C ABI of libspikevault: bad input gets a specific status and a
 * message (never a crash), nothing stored is lost, and the basic operations round-trip.
 *
 * Prints one line per check and ends with "N passed, N failed"; exits 1 if any check failed.
 * A check that cannot run here (e.g. the foreign-owner check when not root) prints "skip"
 * and is counted neither as passed nor as failed. Works in a fresh mkdtemp directory that it
 * removes at the end.
 */
#define _XOPEN_SOURCE 700
#include <spikevault.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;
static char tmp[64] = "/tmp/spikevault-abi-XXXXXX";
static char vault_dir[128];

/* ---- reporting ---- */

static const char *status_name(int s) {
    switch (s) {
    case SV_OK: return "SV_OK";
    case SV_ROW: return "SV_ROW";
    case SV_DONE: return "SV_DONE";
    case SV_ERR_INVALID_ARGUMENT: return "SV_ERR_INVALID_ARGUMENT";
    case SV_ERR_NULL_ARGUMENT: return "SV_ERR_NULL_ARGUMENT";
    case SV_ERR_ENCODING: return "SV_ERR_ENCODING";
    case SV_ERR_IO: return "SV_ERR_IO";
    case SV_ERR_NO_SPACE: return "SV_ERR_NO_SPACE";
    case SV_ERR_PERMISSION: return "SV_ERR_PERMISSION";
    case SV_ERR_NOT_FOUND: return "SV_ERR_NOT_FOUND";
    case SV_ERR_CORRUPT: return "SV_ERR_CORRUPT";
    case SV_ERR_TOO_LARGE: return "SV_ERR_TOO_LARGE";
    case SV_ERR_DATABASE: return "SV_ERR_DATABASE";
    case SV_ERR_CLOSED: return "SV_ERR_CLOSED";
    case SV_ERR_BUSY: return "SV_ERR_BUSY";
    case SV_ERR_UNSUPPORTED: return "SV_ERR_UNSUPPORTED";
    case SV_ERR_NO_SUCH_PROCESS: return "SV_ERR_NO_SUCH_PROCESS";
    case SV_ERR_UNSAFE_PATH: return "SV_ERR_UNSAFE_PATH";
    case SV_ERR_TIMEOUT: return "SV_ERR_TIMEOUT";
    case SV_ERR_CANCELLED: return "SV_ERR_CANCELLED";
    case SV_ERR_EMPTY: return "SV_ERR_EMPTY";
    case SV_ERR_NO_MEMORY: return "SV_ERR_NO_MEMORY";
    case SV_ERR_FORKED: return "SV_ERR_FORKED";
    case SV_ERR_INTERNAL_ERROR: return "SV_ERR_INTERNAL_ERROR";
    case SV_ERR_ALREADY_EXISTS: return "SV_ERR_ALREADY_EXISTS";
    default: return "(unknown status)";
    }
}

static void report(int ok, const char *fmt, ...) {
    va_list ap;
    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (ok) passed++; else failed++;
}

static void skip(const char *what, const char *why) { printf("skip %s: %s\n", what, why); }

/* A failure must come with a real message. */
static int has_message(void) {
    const char *m = sv_errmsg();
    return m != NULL && m[0] != '\0' && strcmp(m, "no error") != 0;
}

/* Asserts a specific status, and for errors a non-empty sv_errmsg(). */
static void expect(const char *what, sv_status got, sv_status want) {
    int ok = got == want && (want >= 0 || has_message());
    if (got < 0)
        report(ok, "%s -> %s (%s)", what, status_name(got), sv_errmsg());
    else
        report(ok, "%s -> %s%s%s", what, status_name(got), ok ? "" : ", expected ",
               ok ? "" : status_name(want));
}
#define EXPECT(call, want) expect(#call, (call), (want))

/* For accessors returning a value: the misuse fallback and a message. */
static void expect_value(const char *what, int ok) {
    /* sv_errmsg() is read only after the failing call: its string lives until the next failure. */
    ok = ok && has_message();
    report(ok, "%s gives its misuse value (%s)", what, sv_errmsg());
}
#define EXPECT_VALUE(call, cond) expect_value(#call, (cond))

/* ---- helpers ---- */

/* Deterministic, moderately compressible bytes; different per seed. */
static void fill(unsigned char *buf, size_t n, unsigned seed) {
    static const char *words[] = {"main;", "run_loop;", "parse;", "sqlite3_step;", "memcpy ", "42\n"};
    size_t i = 0;
    uint32_t x = 2463534242u ^ (seed * 2654435761u);
    while (i < n) {
        const char *w;
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        w = words[x % 6];
        while (*w && i < n) buf[i++] = (unsigned char)*w++;
    }
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) return -1;
    if (n > 0 && fwrite(data, 1, n, f) != n) { fclose(f); return -1; }
    return fclose(f);
}

/* Reads a whole file into a malloc'd buffer; returns its size or -1. */
static long read_file(const char *path, unsigned char **out) {
    FILE *f = fopen(path, "rb");
    long n;
    *out = NULL;
    if (f == NULL) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n + 1);
    if (*out == NULL || fread(*out, 1, (size_t)n, f) != (size_t)n) n = -1;
    fclose(f);
    return n;
}

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A valid record with everything but artefacts set. */
static sv_record *good_record(const char *process, int64_t captured_at) {
    sv_record *r = NULL;
    if (sv_record_new(&r) != SV_OK
        || sv_record_set_process(r, process) != SV_OK
        || sv_record_set_pid(r, (int64_t)getpid()) != SV_OK
        || sv_record_set_trigger(r, SV_METRIC_CPU, 50.0) != SV_OK
        || (captured_at > 0 && sv_record_set_captured_at(r, captured_at) != SV_OK)) {
        fprintf(stderr, "abi_test: building a valid record failed: %s\n", sv_errmsg());
        exit(1);
    }
    return r;
}

/* Counts the captures sv_vault_recent returns, or -1 on error. */
static long count_recent(sv_vault *v) {
    sv_cursor *c = NULL;
    long n = 0;
    if (sv_vault_recent(v, 1000000, &c) != SV_OK) return -1;
    while (sv_cursor_next(c) == SV_ROW) n++;
    sv_cursor_close(c);
    return n;
}

/* Writes the artefacts/ path of the first artefact of capture id into out. */
static int artefact_file(sv_vault *v, int64_t id, char *out, size_t size) {
    sv_cursor *c = NULL;
    const char *name;
    int ok = 0;
    if (sv_vault_get(v, id, &c) != SV_OK) return 0;
    if (sv_cursor_next(c) == SV_ROW && (name = sv_cursor_artefact_path(c, 0)) != NULL) {
        snprintf(out, size, "%s/artefacts/%s", vault_dir, name);
        ok = 1;
    }
    sv_cursor_close(c);
    return ok;
}

static int count_temp_files(void) {
    char cmd[256];
    FILE *p;
    int n = -1;
    snprintf(cmd, sizeof cmd, "ls -A '%s/artefacts' | grep -c '^\\.tmp-'", vault_dir);
    p = popen(cmd, "r");
    if (p != NULL) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* ---- the good records kept to prove nothing is lost ---- */

#define GOOD_MAX 16
#define GOOD_SIZE 20000
static struct { int64_t id; unsigned char data[GOOD_SIZE]; size_t size; } good[GOOD_MAX];
static int n_good;

static int64_t save_good(sv_vault *v, const char *process, int64_t captured_at, size_t size) {
    sv_record *r = good_record(process, captured_at);
    int64_t id = 0;
    sv_status rc;
    if (n_good >= GOOD_MAX || size > GOOD_SIZE) exit(1);
    fill(good[n_good].data, size, (unsigned)n_good + 1);
    good[n_good].size = size;
    rc = sv_record_add_artefact_buffer(r, "oncpu.folded", good[n_good].data, size);
    if (rc == SV_OK) rc = sv_vault_save(v, r, &id);
    sv_record_free(r);
    if (rc != SV_OK) {
        report(0, "saving good record %s -> %s (%s)", process, status_name(rc), sv_errmsg());
        return 0;
    }
    good[n_good++].id = id;
    return id;
}

/* ---- test groups ---- */

static void test_library(void) {
    int64_t lo = 0, hi = 0, def = 0;
    report(sv_version_number() == SV_VERSION_NUMBER, "sv_version_number() == SV_VERSION_NUMBER (%d)",
           sv_version_number());
    report(strcmp(sv_version_string(), SV_VERSION_STRING) == 0, "sv_version_string() == \"%s\"",
           SV_VERSION_STRING);
    report(sv_status_string(SV_ERR_CORRUPT) != NULL && sv_status_string(SV_ERR_CORRUPT)[0] != '\0',
           "sv_status_string(SV_ERR_CORRUPT) = \"%s\"", sv_status_string(SV_ERR_CORRUPT));
    report(sv_status_string((sv_status)-999) != NULL, "sv_status_string(-999) is not NULL (\"%s\")",
           sv_status_string((sv_status)-999));
    report(sv_errmsg() != NULL, "sv_errmsg() is never NULL");
    sv_free(NULL);
    report(1, "sv_free(NULL) is a no-op");

    EXPECT(sv_option_bounds(SV_OPT_COMPRESSION_LEVEL, &lo, &hi, &def), SV_OK);
    report(lo == 1 && hi == 19 && def == 3, "compression level bounds %lld..%lld, default %lld",
           (long long)lo, (long long)hi, (long long)def);
    EXPECT(sv_option_bounds(SV_OPT_DURABILITY, &lo, &hi, &def), SV_OK);
    report(lo == 0 && hi == 2 && def == 1, "durability bounds %lld..%lld, default %lld",
           (long long)lo, (long long)hi, (long long)def);
    EXPECT(sv_option_bounds(SV_OPT_WINDOW_LOG_MAX, NULL, NULL, NULL), SV_OK);
    EXPECT(sv_option_bounds((sv_option)99, &lo, &hi, &def), SV_ERR_INVALID_ARGUMENT);
}

static void test_options(void) {
    sv_options *o = NULL;
    int64_t value = 0;
    EXPECT(sv_options_new(NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_options_new(&o), SV_OK);
    EXPECT(sv_options_set_int(NULL, SV_OPT_COMPRESSION_LEVEL, 5), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_options_get_int(NULL, SV_OPT_COMPRESSION_LEVEL, &value), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_options_get_int(o, SV_OPT_COMPRESSION_LEVEL, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_options_set_int(o, SV_OPT_COMPRESSION_LEVEL, 0), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_options_set_int(o, SV_OPT_COMPRESSION_LEVEL, 20), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_options_set_int(o, SV_OPT_DURABILITY, -1), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_options_set_int(o, SV_OPT_DURABILITY, 3), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_options_set_int(o, (sv_option)99, 1), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_options_get_int(o, SV_OPT_COMPRESSION_LEVEL, &value), SV_OK);
    report(value == 3, "a refused set leaves the level at its default (%lld)", (long long)value);
    EXPECT(sv_options_set_int(o, SV_OPT_COMPRESSION_LEVEL, 19), SV_OK);
    EXPECT(sv_options_get_int(o, SV_OPT_COMPRESSION_LEVEL, &value), SV_OK);
    report(value == 19, "level reads back as 19 (%lld)", (long long)value);
    EXPECT(sv_options_free(o), SV_OK);
    EXPECT(sv_options_free(o), SV_ERR_CLOSED);
    EXPECT(sv_options_set_int(o, SV_OPT_COMPRESSION_LEVEL, 5), SV_ERR_CLOSED);
    EXPECT(sv_options_free(NULL), SV_OK);
}

static void test_open_paths(void) {
    sv_vault *v = (sv_vault *)(uintptr_t)0x1; /* must be reset to NULL on failure */
    sv_record *r = NULL;
    char path[256], target[256];

    EXPECT(sv_vault_open(NULL, NULL, &v), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_open(vault_dir, NULL, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_open("", NULL, &v), SV_ERR_INVALID_ARGUMENT);
    report(v == NULL, "a failed sv_vault_open sets *out_vault to NULL");
    EXPECT(sv_vault_open("/tmp/spikevault-\xff\xfe-vault", NULL, &v), SV_ERR_ENCODING);

    snprintf(path, sizeof path, "%s/plain-file", tmp);
    write_file(path, "x", 1);
    snprintf(path, sizeof path, "%s/plain-file/vault", tmp);
    EXPECT(sv_vault_open(path, NULL, &v), SV_ERR_NOT_FOUND); /* ENOTDIR: below a regular file */
    snprintf(path, sizeof path, "%s/plain-file", tmp);
    EXPECT(sv_vault_open(path, NULL, &v), SV_ERR_INVALID_ARGUMENT); /* a file, not a directory */

    snprintf(target, sizeof target, "%s/real-dir", tmp);
    mkdir(target, 0700);
    snprintf(path, sizeof path, "%s/link-to-dir", tmp);
    if (symlink(target, path) != 0) perror("symlink");
    EXPECT(sv_vault_open(path, NULL, &v), SV_ERR_UNSAFE_PATH);

    snprintf(path, sizeof path, "%s/foreign", tmp);
    mkdir(path, 0700);
    if (geteuid() != 0) {
        skip("vault directory owned by another user", "needs root to chown");
    } else if (chown(path, 65534, 65534) != 0) {
        skip("vault directory owned by another user", strerror(errno));
    } else {
        EXPECT(sv_vault_open(path, NULL, &v), SV_ERR_UNSAFE_PATH);
    }

    /* A handle of another type where options are expected. */
    EXPECT(sv_record_new(&r), SV_OK);
    EXPECT(sv_vault_open(vault_dir, (const sv_options *)r, &v), SV_ERR_INVALID_ARGUMENT);
    sv_record_free(r);
}

static void test_null_arguments(sv_vault *v, int64_t id) {
    sv_record *r = good_record("nulls", 0);
    sv_cursor *c = NULL;
    void *data = NULL;
    size_t size = 0;
    char *path = NULL;
    unsigned char byte = 1;

    EXPECT(sv_vault_save(NULL, r, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_save(v, NULL, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_get(NULL, id, &c), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_get(v, id, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_recent(NULL, 10, &c), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_recent(v, 10, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_delete_older_than(NULL, 0, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_delete(NULL, id), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_read_artefact(NULL, id, NULL, &data, &size), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_read_artefact(v, id, NULL, NULL, &size), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_read_artefact(v, id, NULL, &data, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_export_artefact(NULL, id, NULL, "/tmp/x"), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_export_artefact(v, id, NULL, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_artefact_path(NULL, id, NULL, &path), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_artefact_path(v, id, NULL, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_close(NULL), SV_OK);

    EXPECT(sv_record_new(NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_process(NULL, "x"), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_process(r, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_pid(NULL, 1), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_trigger(NULL, SV_METRIC_CPU, 1.0), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_captured_at(NULL, 1), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_duration(NULL, 1.0), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_notes(NULL, "{}"), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_notes(r, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_set_process_start_time(NULL, 1), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_add_artefact_file(NULL, "a", "/tmp/x"), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_add_artefact_file(r, NULL, "/tmp/x"), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_add_artefact_file(r, "a", NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_add_artefact_buffer(NULL, "a", &byte, 1), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_add_artefact_buffer(r, NULL, &byte, 1), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_add_artefact_buffer(r, "a", NULL, 1), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_record_free(NULL), SV_OK);

    EXPECT(sv_cursor_next(NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_cursor_close(NULL), SV_OK);
    EXPECT_VALUE(sv_cursor_id(NULL), sv_cursor_id(NULL) == 0);
    EXPECT_VALUE(sv_cursor_process_name(NULL), sv_cursor_process_name(NULL) == NULL);
    EXPECT_VALUE(sv_cursor_artefact_count(NULL), sv_cursor_artefact_count(NULL) == -1);
    EXPECT_VALUE(sv_cursor_artefact_path(NULL, 0), sv_cursor_artefact_path(NULL, 0) == NULL);
    EXPECT_VALUE(sv_cursor_process_start_time(NULL), sv_cursor_process_start_time(NULL) == -1);
    sv_record_free(r);
}

/* A record whose save must fail with want: built by good_record, then broken by the caller. */
static void expect_save(sv_vault *v, sv_record *r, const char *what, sv_status want) {
    int64_t id = -7;
    sv_status rc = sv_vault_save(v, r, &id);
    int ok = rc == want && has_message() && id == -7;
    report(ok, "save with %s -> %s (%s)", what, status_name(rc), sv_errmsg());
    sv_record_free(r);
}

/* Kind refused with want, at sv_record_add_artefact_buffer or at the latest at sv_vault_save. */
static void expect_kind(sv_vault *v, const char *kind, const char *label, sv_status want) {
    sv_record *r = good_record("kinds", 0);
    sv_status rc = sv_record_add_artefact_buffer(r, kind, "abc", 3);
    const char *when = "add";
    if (rc == SV_OK) { rc = sv_vault_save(v, r, NULL); when = "save"; }
    report(rc == want && has_message(), "artefact kind %s -> %s at %s (%s)", label, status_name(rc), when,
           sv_errmsg());
    sv_record_free(r);
}

static void test_record_validation(sv_vault *v) {
    sv_record *r = good_record("validation", 0);
    char path[256];
    static const char *bad_notes[] = {"[1,2]", "\"x\"", "not json", "", "{\"a\":", "null"};
    size_t i;

    EXPECT(sv_record_set_pid(r, 0), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_pid(r, -1), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_pid(r, (int64_t)INT32_MAX + 1), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_pid(r, INT64_MIN), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_pid(r, INT32_MAX), SV_OK);
    EXPECT(sv_record_set_trigger(r, SV_METRIC_CPU, NAN), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_trigger(r, SV_METRIC_CPU, INFINITY), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_trigger(r, SV_METRIC_CPU, -INFINITY), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_trigger(r, (sv_metric)0, 1.0), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_trigger(r, (sv_metric)99, 1.0), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_trigger(r, (sv_metric)-1, 1.0), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_duration(r, -1.0), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_duration(r, NAN), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_captured_at(r, -1), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_process_start_time(r, -1), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_process(r, ""), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_process(r, "caf\xc3"), SV_ERR_ENCODING);          /* truncated UTF-8 */
    EXPECT(sv_record_set_process(r, "bad\xff\xfename"), SV_ERR_ENCODING);  /* not UTF-8 at all */
    EXPECT(sv_record_add_artefact_buffer(r, "k\xff", "abc", 3), SV_ERR_ENCODING);
    EXPECT(sv_record_add_artefact_file(r, "k\xff", "/tmp/x"), SV_ERR_ENCODING);
    EXPECT(sv_record_add_artefact_buffer(r, "summary.txt", "abc", 0), SV_ERR_EMPTY);
    sv_record_free(r);

    /* A record missing a required field is refused at save. */
    r = NULL;
    sv_record_new(&r);
    expect_save(v, r, "no process name, pid or trigger", SV_ERR_INVALID_ARGUMENT);

    for (i = 0; i < sizeof bad_notes / sizeof bad_notes[0]; i++) {
        char what[64];
        r = good_record("notes", 0);
        sv_record_set_notes(r, bad_notes[i]);
        snprintf(what, sizeof what, "notes '%s'", bad_notes[i]);
        expect_save(v, r, what, SV_ERR_INVALID_ARGUMENT);
    }

    expect_kind(v, "../x", "'../x'", SV_ERR_INVALID_ARGUMENT);
    expect_kind(v, "A", "'A'", SV_ERR_INVALID_ARGUMENT);
    expect_kind(v, "", "''", SV_ERR_INVALID_ARGUMENT);
    expect_kind(v, ".hidden", "'.hidden'", SV_ERR_INVALID_ARGUMENT);
    expect_kind(v, "a/b", "'a/b'", SV_ERR_INVALID_ARGUMENT);
    expect_kind(v, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "of 65 characters",
                SV_ERR_INVALID_ARGUMENT);

    r = good_record("dup", 0);
    sv_record_add_artefact_buffer(r, "same", "a", 1);
    sv_record_add_artefact_buffer(r, "same", "b", 1);
    expect_save(v, r, "the same kind twice", SV_ERR_INVALID_ARGUMENT);

    r = good_record("missing", 0);
    snprintf(path, sizeof path, "%s/does-not-exist.folded", tmp);
    EXPECT(sv_record_add_artefact_file(r, "oncpu.folded", path), SV_OK);
    expect_save(v, r, "a missing artefact file", SV_ERR_NOT_FOUND);

    r = good_record("zero", 0);
    snprintf(path, sizeof path, "%s/zero-bytes.folded", tmp);
    write_file(path, "", 0);
    EXPECT(sv_record_add_artefact_file(r, "oncpu.folded", path), SV_OK);
    expect_save(v, r, "a zero-byte artefact file", SV_ERR_EMPTY);

    r = good_record("dir", 0);
    EXPECT(sv_record_add_artefact_file(r, "oncpu.folded", tmp), SV_OK);
    expect_save(v, r, "a directory as artefact file", SV_ERR_INVALID_ARGUMENT);

    /* Second artefact bad: the first one must not be left behind (all or nothing). */
    r = good_record("half", 0);
    sv_record_add_artefact_buffer(r, "first.txt", "first", 5);
    snprintf(path, sizeof path, "%s/does-not-exist.folded", tmp);
    sv_record_add_artefact_file(r, "second.txt", path);
    expect_save(v, r, "a good then a missing artefact", SV_ERR_NOT_FOUND);
    report(count_temp_files() == 0, "no temp files left in artefacts/ after the failed saves");
}

static void test_round_trip(sv_vault *v, int64_t start) {
    /* An hour ahead: records other tests save as "now" stay older than these however slow
     * the machine (the order checks below compare against them). */
    int64_t t0 = start + 3600LL * 1000;
    sv_record *r = good_record("round-trip", 0);
    sv_cursor *c = NULL;
    static unsigned char big[50000];
    const char *text = "second artefact\n";
    int64_t id = 0, ids[3];
    void *data = NULL;
    size_t size = 0;
    char *apath = NULL, dest[256];
    unsigned char *file = NULL;
    long n;
    int i, order_ok = 1;

    /* One capture with every field set and two artefacts. */
    fill(big, sizeof big, 99);
    sv_record_set_process(r, "p\xc3\xa9tanque-\xe2\x9c\x93"); /* UTF-8 is stored as is */
    sv_record_set_pid(r, 4242);
    sv_record_set_trigger(r, SV_METRIC_FDS, 1234.5);
    sv_record_set_captured_at(r, t0 + 5000);
    sv_record_set_duration(r, 2.5);
    sv_record_set_notes(r, "{\"host\":\"abi\",\"n\":[1,2]}");
    sv_record_set_process_start_time(r, 777);
    sv_record_add_artefact_buffer(r, "oncpu.folded", big, sizeof big);
    sv_record_add_artefact_buffer(r, "summary.txt", text, strlen(text));
    EXPECT(sv_vault_save(v, r, &id), SV_OK);
    sv_record_free(r);

    EXPECT(sv_vault_get(v, id, &c), SV_OK);
    EXPECT(sv_cursor_next(c), SV_ROW);
    report(sv_cursor_id(c) == id && sv_cursor_pid(c) == 4242 && sv_cursor_metric(c) == SV_METRIC_FDS
           && sv_cursor_trigger_value(c) == 1234.5 && sv_cursor_captured_at(c) == t0 + 5000
           && sv_cursor_duration(c) == 2.5 && sv_cursor_process_start_time(c) == 777
           && sv_cursor_status(c) == SV_CAPTURE_COMPLETE
           && strcmp(sv_cursor_process_name(c), "p\xc3\xa9tanque-\xe2\x9c\x93") == 0
           && strstr(sv_cursor_notes(c), "\"host\"") != NULL,
           "sv_vault_get returns every field as saved");
    report(sv_cursor_artefact_count(c) == 2 && strcmp(sv_cursor_artefact_kind(c, 0), "oncpu.folded") == 0
           && strcmp(sv_cursor_artefact_kind(c, 1), "summary.txt") == 0
           && sv_cursor_artefact_raw_bytes(c, 0) == (int64_t)sizeof big
           && sv_cursor_artefact_stored_bytes(c, 0) > 0
           && sv_cursor_artefact_stored_bytes(c, 0) < (int64_t)sizeof big
           && strncmp(sv_cursor_artefact_checksum(c, 0), "xxh64:", 6) == 0
           && strlen(sv_cursor_artefact_checksum(c, 0)) == 22
           && strchr(sv_cursor_artefact_path(c, 0), '/') == NULL,
           "artefacts listed in order with kind, sizes (%lld stored of %lld raw), checksum, basename",
           (long long)sv_cursor_artefact_stored_bytes(c, 0), (long long)sv_cursor_artefact_raw_bytes(c, 0));
    EXPECT_VALUE(sv_cursor_artefact_kind(c, 2), sv_cursor_artefact_kind(c, 2) == NULL);
    EXPECT_VALUE(sv_cursor_artefact_raw_bytes(c, -1), sv_cursor_artefact_raw_bytes(c, -1) == -1);
    EXPECT(sv_cursor_next(c), SV_DONE);
    EXPECT(sv_cursor_next(c), SV_DONE);
    EXPECT(sv_cursor_close(c), SV_OK);
    EXPECT(sv_cursor_close(c), SV_ERR_CLOSED);

    EXPECT(sv_vault_read_artefact(v, id, NULL, &data, &size), SV_OK);
    report(size == sizeof big && memcmp(data, big, size) == 0, "first artefact reads back equal (%zu bytes)", size);
    sv_free(data);
    data = NULL;
    EXPECT(sv_vault_read_artefact(v, id, "summary.txt", &data, &size), SV_OK);
    report(size == strlen(text) && memcmp(data, text, size) == 0, "artefact by kind reads back equal");
    sv_free(data);
    data = (void *)1;
    EXPECT(sv_vault_read_artefact(v, id, "nope", &data, &size), SV_ERR_NOT_FOUND);
    report(data == NULL && size == 0, "a failed read sets *out_data NULL and *out_size 0");
    EXPECT(sv_vault_read_artefact(v, 987654321, NULL, &data, &size), SV_ERR_NOT_FOUND);
    EXPECT(sv_vault_get(v, 987654321, &c), SV_ERR_NOT_FOUND);
    EXPECT(sv_vault_recent(v, -1, &c), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_vault_read_artefact(v, id, "bad\xff", &data, &size), SV_ERR_ENCODING);

    EXPECT(sv_vault_artefact_path(v, id, NULL, &apath), SV_OK);
    report(apath != NULL && apath[0] == '/' && exists(apath), "sv_vault_artefact_path gives an existing absolute path");
    sv_free(apath);

    snprintf(dest, sizeof dest, "%s/exported.folded", tmp);
    EXPECT(sv_vault_export_artefact(v, id, NULL, dest), SV_OK);
    n = read_file(dest, &file);
    report(n == (long)sizeof big && memcmp(file, big, sizeof big) == 0, "exported file equals the artefact");
    free(file);
    EXPECT(sv_vault_export_artefact(v, id, NULL, dest), SV_ERR_ALREADY_EXISTS);
    EXPECT(sv_vault_export_artefact(v, id, NULL, ""), SV_ERR_INVALID_ARGUMENT);
    snprintf(dest, sizeof dest, "%s/no-such-dir/out", tmp);
    EXPECT(sv_vault_export_artefact(v, id, NULL, dest), SV_ERR_NOT_FOUND);

    /* recent: newest capturedAt first. */
    ids[0] = save_good(v, "order-a", t0 + 1000, 3000);
    ids[1] = save_good(v, "order-b", t0 + 3000, 3000);
    ids[2] = save_good(v, "order-c", t0 + 2000, 3000);
    EXPECT(sv_vault_recent(v, 4, &c), SV_OK);
    {
        int64_t want[4];
        want[0] = id; want[1] = ids[1]; want[2] = ids[2]; want[3] = ids[0];
        for (i = 0; i < 4; i++) order_ok = order_ok && sv_cursor_next(c) == SV_ROW && sv_cursor_id(c) == want[i];
    }
    report(order_ok && sv_cursor_next(c) == SV_DONE, "sv_vault_recent(4) lists the newest first, then SV_DONE");
    sv_cursor_close(c);
    EXPECT(sv_vault_recent(v, 0, &c), SV_OK);
    EXPECT(sv_cursor_next(c), SV_DONE);
    sv_cursor_close(c);
}

static void test_delete_older_than(sv_vault *v, int64_t t0) {
    char f1[512], f2[512];
    int64_t deleted = -1, old1, old2;
    long before = count_recent(v);
    sv_record *r = good_record("old", t0 - 100LL * 86400 * 1000);
    sv_record_add_artefact_buffer(r, "a.txt", "old one", 7);
    sv_vault_save(v, r, &old1);
    sv_record_set_captured_at(r, t0 - 99LL * 86400 * 1000);
    sv_vault_save(v, r, &old2); /* a record can be saved again */
    sv_record_free(r);
    report(artefact_file(v, old1, f1, sizeof f1) && artefact_file(v, old2, f2, sizeof f2) && exists(f1)
           && exists(f2) && strcmp(f1, f2) != 0, "two old captures stored with their own files");
    EXPECT(sv_vault_delete_older_than(v, t0 - 99LL * 86400 * 1000, &deleted), SV_OK);
    report(deleted == 1 && !exists(f1) && exists(f2), "cutoff is strict: 1 deleted (%lld), its file gone, the other kept",
           (long long)deleted);
    /* out_deleted may be NULL: the delete must happen all the same. */
    EXPECT(sv_vault_delete_older_than(v, t0 - 86400 * 1000, NULL), SV_OK);
    report(!exists(f2) && count_recent(v) == before,
           "delete with out_deleted NULL removes the other old capture, keeps the rest (%ld of %ld kept, file %s)",
           count_recent(v), before, exists(f2) ? "still there" : "gone");
    if (count_recent(v) != before) { /* keep later counts meaningful if the check above failed */
        EXPECT(sv_vault_delete_older_than(v, t0 - 86400 * 1000, &deleted), SV_OK);
        report(deleted == 1 && !exists(f2) && count_recent(v) == before,
               "the same delete with out_deleted set removes it (%lld deleted)", (long long)deleted);
    }
}

static void test_delete_one(sv_vault *v, int64_t t0) {
    char f[512];
    int64_t id = 0, kept = 0;
    long before = count_recent(v);
    sv_record *r = good_record("doomed", t0);
    sv_record_add_artefact_buffer(r, "a.txt", "doomed", 6);
    sv_vault_save(v, r, &id);
    sv_vault_save(v, r, &kept);
    sv_record_free(r);
    report(artefact_file(v, id, f, sizeof f) && exists(f), "a capture to delete, with its file");
    EXPECT(sv_vault_delete(v, 0), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_vault_delete(v, -1), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_vault_delete(v, INT64_MAX), SV_ERR_NOT_FOUND);
    report(exists(f) && count_recent(v) == before + 2, "bad ids delete nothing");
    EXPECT(sv_vault_delete(v, id), SV_OK);
    report(!exists(f) && count_recent(v) == before + 1, "sv_vault_delete removes the row and its file, keeps the other");
    EXPECT(sv_vault_delete(v, id), SV_ERR_NOT_FOUND);
    EXPECT(sv_vault_delete(v, kept), SV_OK);
    report(count_recent(v) == before, "the second capture deleted too (%ld, was %ld)", count_recent(v), before);
}

static void test_corruption(sv_vault *v) {
    static const char *modes[] = {"truncated to half", "a byte flipped in the middle",
                                  "overwritten with text", "made zero bytes", "deleted"};
    int m;
    for (m = 0; m < 5; m++) {
        char file[512], what[128], dest[256];
        int64_t id = save_good(v, "victim", 0, 20000);
        void *data = NULL;
        size_t size = 0;
        struct stat st;
        if (id != 0) n_good--; /* not one of the records that must stay readable */
        if (id == 0 || !artefact_file(v, id, file, sizeof file) || stat(file, &st) != 0) {
            report(0, "locating the stored artefact of capture %lld", (long long)id);
            continue;
        }
        if (m == 0) {
            if (truncate(file, st.st_size / 2) != 0) perror("truncate");
        } else if (m == 1) {
            int fd = open(file, O_RDWR);
            unsigned char b = 0;
            if (pread(fd, &b, 1, st.st_size / 2) == 1) {
                b ^= 0x5a;
                if (pwrite(fd, &b, 1, st.st_size / 2) != 1) perror("pwrite");
            }
            close(fd);
        } else if (m == 2) {
            write_file(file, "this is not a zstd frame\n", 25);
        } else if (m == 3) {
            write_file(file, "", 0);
        } else {
            unlink(file);
        }
        snprintf(what, sizeof what, "read of an artefact file %s", modes[m]);
        expect(what, sv_vault_read_artefact(v, id, NULL, &data, &size), m == 4 ? SV_ERR_NOT_FOUND : SV_ERR_CORRUPT);
        sv_free(data);
        snprintf(dest, sizeof dest, "%s/export-corrupt-%d", tmp, m);
        snprintf(what, sizeof what, "export of an artefact file %s", modes[m]);
        expect(what, sv_vault_export_artefact(v, id, NULL, dest), m == 4 ? SV_ERR_NOT_FOUND : SV_ERR_CORRUPT);
        report(!exists(dest), "a failed export leaves no file at the destination");
    }
}

static void test_handles(int64_t id) {
    sv_vault *v = NULL, *forged = (sv_vault *)(uintptr_t)0x12345;
    sv_cursor *c = NULL, *c2 = NULL;
    sv_record *r = NULL;
    sv_status rc;

    rc = sv_vault_recent(forged, 1, &c);
    report(rc < 0 && has_message(), "forged vault handle 0x12345 -> %s (%s)", status_name(rc), sv_errmsg());
    rc = sv_vault_close(forged);
    report(rc < 0 && has_message(), "closing a forged vault handle -> %s", status_name(rc));
    rc = sv_cursor_next((sv_cursor *)(uintptr_t)0xdeadbeef0);
    report(rc < 0 && has_message(), "forged cursor handle -> %s", status_name(rc));

    EXPECT(sv_vault_open(vault_dir, NULL, &v), SV_OK);
    EXPECT(sv_vault_recent(v, 5, &c), SV_OK);
    EXPECT(sv_vault_recent((sv_vault *)c, 1, &c2), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_vault_close((sv_vault *)c), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_cursor_next((sv_cursor *)v), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_record_set_pid((sv_record *)v, 1), SV_ERR_INVALID_ARGUMENT);

    /* Accessors before the first sv_cursor_next. */
    EXPECT_VALUE(sv_cursor_id(c) before next, sv_cursor_id(c) == 0);
    EXPECT_VALUE(sv_cursor_process_name(c) before next, sv_cursor_process_name(c) == NULL);
    EXPECT_VALUE(sv_cursor_pid(c) before next, sv_cursor_pid(c) == 0);
    EXPECT_VALUE(sv_cursor_metric(c) before next, sv_cursor_metric(c) == 0);
    EXPECT_VALUE(sv_cursor_trigger_value(c) before next, sv_cursor_trigger_value(c) == 0);
    EXPECT_VALUE(sv_cursor_captured_at(c) before next, sv_cursor_captured_at(c) == 0);
    EXPECT_VALUE(sv_cursor_duration(c) before next, sv_cursor_duration(c) == 0);
    EXPECT_VALUE(sv_cursor_notes(c) before next, sv_cursor_notes(c) == NULL);
    EXPECT_VALUE(sv_cursor_status(c) before next, sv_cursor_status(c) == 0);
    EXPECT_VALUE(sv_cursor_process_start_time(c) before next, sv_cursor_process_start_time(c) == -1);
    EXPECT_VALUE(sv_cursor_artefact_count(c) before next, sv_cursor_artefact_count(c) == -1);
    EXPECT_VALUE(sv_cursor_artefact_kind(c, 0) before next, sv_cursor_artefact_kind(c, 0) == NULL);
    EXPECT_VALUE(sv_cursor_artefact_path(c, 0) before next, sv_cursor_artefact_path(c, 0) == NULL);
    EXPECT_VALUE(sv_cursor_artefact_checksum(c, 0) before next, sv_cursor_artefact_checksum(c, 0) == NULL);
    EXPECT_VALUE(sv_cursor_artefact_raw_bytes(c, 0) before next, sv_cursor_artefact_raw_bytes(c, 0) == -1);
    EXPECT_VALUE(sv_cursor_artefact_stored_bytes(c, 0) before next, sv_cursor_artefact_stored_bytes(c, 0) == -1);

    /* The vault closes under an open cursor: the cursor stays readable. */
    EXPECT(sv_vault_close(v), SV_OK);
    EXPECT(sv_cursor_next(c), SV_ROW);
    report(sv_cursor_id(c) > 0 && sv_cursor_process_name(c) != NULL, "a cursor stays readable after its vault closed");
    while ((rc = sv_cursor_next(c)) == SV_ROW) {}
    report(rc == SV_DONE, "the cursor ends with SV_DONE");
    EXPECT_VALUE(sv_cursor_id(c) after SV_DONE, sv_cursor_id(c) == 0);
    EXPECT_VALUE(sv_cursor_process_name(c) after SV_DONE, sv_cursor_process_name(c) == NULL);
    EXPECT_VALUE(sv_cursor_artefact_count(c) after SV_DONE, sv_cursor_artefact_count(c) == -1);
    EXPECT_VALUE(sv_cursor_process_start_time(c) after SV_DONE, sv_cursor_process_start_time(c) == -1);
    EXPECT(sv_cursor_close(c), SV_OK);
    EXPECT(sv_cursor_next(c), SV_ERR_CLOSED);
    EXPECT_VALUE(sv_cursor_id(c) after close, sv_cursor_id(c) == 0);

    /* Use of a closed vault, double close. */
    r = good_record("closed", 0);
    sv_record_add_artefact_buffer(r, "a.txt", "x", 1);
    EXPECT(sv_vault_save(v, r, NULL), SV_ERR_CLOSED);
    EXPECT(sv_vault_recent(v, 1, &c), SV_ERR_CLOSED);
    EXPECT(sv_vault_get(v, id, &c), SV_ERR_CLOSED);
    EXPECT(sv_vault_delete_older_than(v, 0, NULL), SV_ERR_CLOSED);
    EXPECT(sv_vault_delete(v, id), SV_ERR_CLOSED);
    EXPECT(sv_vault_close(v), SV_ERR_CLOSED);
    EXPECT(sv_record_free(r), SV_OK);
    EXPECT(sv_record_free(r), SV_ERR_CLOSED);
    EXPECT(sv_record_set_pid(r, 1), SV_ERR_CLOSED);
}

/* Maintenance through the ABI: report handle, keyed fields, NULL and stale handles. */
static void test_maintenance(sv_vault *v) {
    sv_report *rep = NULL;
    int64_t value = -1, footprint = 0;
    EXPECT(sv_vault_maintain(NULL, &rep), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_vault_maintain(v, NULL), SV_OK);
    EXPECT(sv_vault_maintain(v, &rep), SV_OK);
    EXPECT(sv_report_get_int(rep, SV_REPORT_PURGED_BY_AGE, &value), SV_OK);
    report(value == 0, "maintenance of a vault without an age limit purged nothing by age (%lld)", (long long)value);
    EXPECT(sv_report_get_int(rep, SV_REPORT_FOOTPRINT_AFTER, &value), SV_OK);
    EXPECT(sv_vault_footprint(v, &footprint), SV_OK);
    report(value > 0 && footprint > 0, "footprints are positive (report %lld, now %lld)", (long long)value,
           (long long)footprint);
    EXPECT(sv_report_get_int(rep, (sv_report_field)99, &value), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_report_get_int(rep, SV_REPORT_DURATION_MS, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_report_get_int((const sv_report *)v, SV_REPORT_DURATION_MS, &value), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_vault_footprint(v, NULL), SV_ERR_NULL_ARGUMENT);
    EXPECT(sv_report_free(rep), SV_OK);
    EXPECT(sv_report_free(rep), SV_ERR_CLOSED);
    EXPECT(sv_report_free(NULL), SV_OK);
}

/* The child of a fork must not use the parent's vault handle; it may open its own. */
static void test_fork(sv_vault *v) {
    pid_t child;
    int status = 0;
    fflush(stdout);
    child = fork();
    if (child < 0) { report(0, "fork: %s", strerror(errno)); return; }
    if (child == 0) {
        sv_cursor *c = NULL;
        sv_vault *own = NULL;
        sv_record *r = good_record("child", 0);
        int code = 0;
        sv_record_add_artefact_buffer(r, "a.txt", "x", 1);
        if (sv_vault_recent(v, 1, &c) != SV_ERR_FORKED || !has_message()) code |= 1;
        if (sv_vault_save(v, r, NULL) != SV_ERR_FORKED || !has_message()) code |= 2;
        if (sv_vault_open(vault_dir, NULL, &own) != SV_OK || sv_vault_recent(own, 1, &c) != SV_OK) code |= 4;
        if (sv_vault_close(v) != SV_ERR_FORKED || !has_message()) code |= 8; /* released, parent's db untouched */
        sv_cursor_close(c);
        sv_vault_close(own);
        sv_record_free(r);
        _exit(code);
    }
    if (waitpid(child, &status, 0) != child) { report(0, "waitpid: %s", strerror(errno)); return; }
    report(WIFEXITED(status) && (WEXITSTATUS(status) & 1) == 0, "child: sv_vault_recent on the inherited vault -> SV_ERR_FORKED");
    report(WIFEXITED(status) && (WEXITSTATUS(status) & 2) == 0, "child: sv_vault_save on the inherited vault -> SV_ERR_FORKED");
    report(WIFEXITED(status) && (WEXITSTATUS(status) & 4) == 0, "child: opening the vault again works");
    report(WIFEXITED(status) && (WEXITSTATUS(status) & 8) == 0, "child: sv_vault_close of the inherited vault -> SV_ERR_FORKED");
}

/* After all the bad input: every good record is still there and reads back equal. */
/* The trust boundary (issue #11), in a vault of its own: modes whatever the umask, reading
 * opens that create nothing, unsafe directories refused, a FIFO source refused at once,
 * redacted reads and the bundle report. */
static void test_trust(void) {
    static const char secret[] = "--password hunter2 --api-key=k3yCanary\n";
    static const unsigned char binary[] = {0, 1, 2, 3};
    char dir[160], path[256], fifo[256];
    sv_vault *v = NULL;
    sv_options *existing = NULL;
    sv_record *r = NULL;
    int64_t id = 0, none = 0;
    struct stat st;
    mode_t old_mask;
    void *data = NULL;
    size_t size = 0;
    char *json = (char *)(uintptr_t)0x1; /* must be reset to NULL on failure */

    snprintf(dir, sizeof dir, "%s/trust", tmp);
    EXPECT(sv_options_new(&existing), SV_OK);
    EXPECT(sv_options_set_int(existing, SV_OPT_OPEN_EXISTING, 1), SV_OK);
    EXPECT(sv_vault_open(dir, existing, &v), SV_ERR_NOT_FOUND);
    report(!exists(dir), "SV_OPT_OPEN_EXISTING on a missing directory creates nothing");
    mkdir(dir, 0700);
    EXPECT(sv_vault_open(dir, existing, &v), SV_ERR_NOT_FOUND);
    snprintf(path, sizeof path, "%s/vault.sqlite3", dir);
    report(!exists(path), "SV_OPT_OPEN_EXISTING on an empty directory leaves it empty");
    rmdir(dir);

    old_mask = umask(0);
    EXPECT(sv_vault_open(dir, NULL, &v), SV_OK);
    umask(old_mask);
    report(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700, "a vault made under umask 0 is 0700 (%o)",
           (unsigned)(st.st_mode & 0777));
    report(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "its database is 0600 (%o)",
           (unsigned)(st.st_mode & 0777));

    r = good_record("trust", 0);
    EXPECT(sv_record_add_artefact_buffer(r, "note.txt", secret, strlen(secret)), SV_OK);
    EXPECT(sv_record_add_artefact_buffer(r, "blob.bin", binary, sizeof binary), SV_OK);
    EXPECT(sv_vault_save(v, r, &id), SV_OK);
    sv_record_free(r);
    EXPECT(sv_vault_read_artefact_redacted(v, id, "note.txt", &data, &size), SV_OK);
    report(data != NULL && size == strlen("--password <redacted> --api-key=<redacted>\n")
           && memcmp(data, "--password <redacted> --api-key=<redacted>\n", size) == 0,
           "sv_vault_read_artefact_redacted masks the secrets");
    sv_free(data);
    data = (void *)(uintptr_t)0x1;
    EXPECT(sv_vault_read_artefact_redacted(v, id, "blob.bin", &data, &size), SV_ERR_UNSUPPORTED);
    report(data == NULL, "a refused redacted read sets *out_data to NULL");

    snprintf(fifo, sizeof fifo, "%s/source.fifo", tmp);
    if (mkfifo(fifo, 0600) != 0) perror("mkfifo");
    r = good_record("fifo", 0);
    if (sv_record_add_artefact_file(r, "a.txt", fifo) == SV_OK)
        EXPECT(sv_vault_save(v, r, &none), SV_ERR_INVALID_ARGUMENT); /* at once: a blocked open would hang here */
    else
        report(has_message(), "a FIFO source is refused when added (%s)", sv_errmsg());
    sv_record_free(r);
    unlink(fifo);

    snprintf(path, sizeof path, "%s/trust.tar", tmp);
    EXPECT(sv_vault_export_bundle_report(v, NULL, path, 0, NULL, NULL, &json), SV_OK);
    report(json != NULL && strstr(json, "\"records\":1") && strstr(json, "\"files\":1")
           && strstr(json, "\"withheld\":[{") && strstr(json, "blob.bin"),
           "the bundle report lists the withheld binary artefact (%s)", json ? json : "NULL");
    sv_free(json);
    EXPECT(sv_vault_export_bundle_report(v, NULL, path, SV_EXPORT_OVERWRITE | SV_EXPORT_NO_REDACT, NULL, NULL, NULL), SV_OK);
    snprintf(path, sizeof path, "%s/no-such-dir/trust.tar", tmp);
    json = (char *)(uintptr_t)0x1;
    EXPECT(sv_vault_export_bundle_report(v, NULL, path, 0, NULL, NULL, &json), SV_ERR_NOT_FOUND);
    report(json == NULL, "a failed bundle sets *out_report to NULL");
    EXPECT(sv_vault_close(v), SV_OK);

    chmod(dir, 0770);
    EXPECT(sv_vault_open(dir, NULL, &v), SV_ERR_UNSAFE_PATH); /* group-writable */
    chmod(dir, 0700);
    EXPECT(sv_vault_open(dir, existing, &v), SV_OK);
    data = NULL;
    EXPECT(sv_vault_read_artefact(v, id, "note.txt", &data, &size), SV_OK);
    report(data != NULL && size == strlen(secret), "the refused open lost nothing");
    sv_free(data);
    EXPECT(sv_vault_close(v), SV_OK);
    EXPECT(sv_options_free(existing), SV_OK);
}

static void test_nothing_lost(sv_vault *v, long expected) {
    int i, ok = 1;
    long n = count_recent(v);
    report(n == expected, "sv_vault_recent counts %ld captures, as expected (%ld)", n, expected);
    for (i = 0; i < n_good; i++) {
        void *data = NULL;
        size_t size = 0;
        sv_status rc = sv_vault_read_artefact(v, good[i].id, NULL, &data, &size);
        if (rc != SV_OK || size != good[i].size || memcmp(data, good[i].data, size) != 0) {
            printf("     capture %lld: %s %s\n", (long long)good[i].id, status_name(rc), sv_errmsg());
            ok = 0;
        }
        sv_free(data);
    }
    report(ok, "all %d good captures read back byte-identical", n_good);
}

/* sv_cursor_write_list: the list table written to a descriptor; bad input gets its status. */
static void test_write_list(sv_vault *v) {
    sv_cursor *c = NULL;
    int64_t rows = -1;
    int fds[2];
    char buf[4096];
    ssize_t n;
    EXPECT(sv_cursor_write_list(NULL, 1, 0, &rows), SV_ERR_NULL_ARGUMENT);
    report(rows == 0, "a failed sv_cursor_write_list sets *out_rows to 0");
    EXPECT(sv_vault_recent(v, 10, &c), SV_OK);
    EXPECT(sv_cursor_write_list(c, -1, 0, NULL), SV_ERR_INVALID_ARGUMENT);
    if (pipe(fds) != 0) { report(0, "pipe"); return; }
    close(fds[1]);
    EXPECT(sv_cursor_write_list(c, fds[1], 0, NULL), SV_ERR_INVALID_ARGUMENT); /* a closed descriptor */
    close(fds[0]);
    if (pipe(fds) != 0) { report(0, "pipe"); return; }
    EXPECT(sv_cursor_write_list(c, fds[1], now_ms() * 1000, &rows), SV_OK);
    close(fds[1]);
    n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = 0;
    report(rows >= 2 && strncmp(buf, "ID  TIME", 8) == 0, "the table has a header and %lld rows", (long long)rows);
    EXPECT(sv_cursor_write_list(c, 1, 0, &rows), SV_OK); /* the cursor is used up: nothing more */
    report(rows == 0, "a used-up cursor writes no rows");
    EXPECT(sv_cursor_close(c), SV_OK);
    EXPECT(sv_cursor_write_list(c, 1, 0, NULL), SV_ERR_CLOSED);
}

/* sv_vault_write_records: the same bytes as sv_vault_export_records, to a descriptor (a
 * file here: the pipe's buffer could be smaller than the export); bad input gets its status. */
static void test_write_records(sv_vault *v) {
    static const int32_t formats[] = {SV_FORMAT_JSON, SV_FORMAT_NDJSON, SV_FORMAT_CSV};
    char file_path[600], stream_path[600];
    int64_t rows = -1, n_file = -1;
    int fds[2];
    size_t k;
    EXPECT(sv_vault_write_records(NULL, NULL, SV_FORMAT_CSV, 1, 0, &rows), SV_ERR_NULL_ARGUMENT);
    report(rows == 0, "a failed sv_vault_write_records sets *out_count to 0");
    EXPECT(sv_vault_write_records(v, NULL, SV_FORMAT_CSV, -1, 0, NULL), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_vault_write_records(v, NULL, SV_FORMAT_PARQUET, 1, 0, NULL), SV_ERR_INVALID_ARGUMENT);
    EXPECT(sv_vault_write_records(v, NULL, 999, 1, 0, NULL), SV_ERR_INVALID_ARGUMENT);
    if (pipe(fds) != 0) { report(0, "pipe"); return; }
    close(fds[1]);
    EXPECT(sv_vault_write_records(v, NULL, SV_FORMAT_NDJSON, fds[1], 0, NULL), SV_ERR_INVALID_ARGUMENT);
    close(fds[0]);
    for (k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        unsigned char *a = NULL, *b = NULL;
        long na, nb;
        int fd;
        snprintf(file_path, sizeof file_path, "%s/records-file-%d", tmp, formats[k]);
        snprintf(stream_path, sizeof stream_path, "%s/records-stream-%d", tmp, formats[k]);
        EXPECT(sv_vault_export_records(v, NULL, formats[k], file_path, 0, &n_file), SV_OK);
        fd = open(stream_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) { report(0, "open %s", stream_path); return; }
        EXPECT(sv_vault_write_records(v, NULL, formats[k], fd, 0, &rows), SV_OK);
        close(fd);
        na = read_file(file_path, &a);
        nb = read_file(stream_path, &b);
        report(na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0 && rows == n_file && rows >= 2,
               "format %d: %lld rows streamed, byte-identical to the file export (%ld bytes)", formats[k],
               (long long)rows, nb);
        free(a);
        free(b);
    }
}

int main(void) {
    sv_vault *v = NULL;
    sv_options *history = NULL;
    int64_t t0 = now_ms(), first;
    long saved_before;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (mkdtemp(tmp) == NULL) { perror("mkdtemp"); return 1; }
    snprintf(vault_dir, sizeof vault_dir, "%s/vault", tmp);
    printf("abi_test: libspikevault %s, temp dir %s\n", sv_version_string(), tmp);

    test_library();
    test_options();
    test_open_paths();
    test_trust();

    /* No age limit on this vault: test_delete_older_than stores captures dated in the past. */
    EXPECT(sv_options_new(&history), SV_OK);
    EXPECT(sv_options_set_int(history, SV_OPT_MAX_AGE_SECONDS, 0), SV_OK);
    EXPECT(sv_vault_open(vault_dir, history, &v), SV_OK);
    first = save_good(v, "first", 0, 12000);
    save_good(v, "second", 0, 800);
    saved_before = count_recent(v);
    report(saved_before == 2, "two good captures saved (%ld)", saved_before);

    test_null_arguments(v, first);
    test_record_validation(v);
    report(count_recent(v) == saved_before, "the refused saves stored nothing (%ld captures)", count_recent(v));
    test_round_trip(v, t0);
    test_write_list(v);
    test_write_records(v);
    test_delete_older_than(v, t0);
    test_delete_one(v, t0);
    test_corruption(v);
    test_maintenance(v);
    test_fork(v);
    test_nothing_lost(v, (long)n_good + 1 + 5); /* + the round-trip capture + 5 corrupted ones */
    EXPECT(sv_vault_close(v), SV_OK);

    test_handles(first);

    /* Reopen: the data survives closing and reopening. */
    EXPECT(sv_vault_open(vault_dir, history, &v), SV_OK);
    test_nothing_lost(v, (long)n_good + 1 + 5);
    EXPECT(sv_vault_close(v), SV_OK);
    EXPECT(sv_options_free(history), SV_OK);

    nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
