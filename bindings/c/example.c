/* example.c - store a profiling capture in a SpikeVault, read it back, then capture a live
 * CPU-burning child process, from C.
 *
 *   cc -std=c99 example.c $(pkg-config --cflags --libs spikevault) -o example
 *   ./example VAULT_DIR
 *
 * Every call returns an sv_status (SV_OK = 0, errors < 0); sv_errmsg() explains the last
 * failure of this thread. Memory the library hands over is released with sv_free(); every
 * handle has a NULL-safe close/free, so one cleanup block releases whatever was opened.
 */
#define _POSIX_C_SOURCE 200809L
#include <spikevault.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Check a status: on failure print what and why, and jump to the cleanup. */
#define CHECK(call)                                                                  \
    do {                                                                             \
        sv_status rc_ = (call);                                                      \
        if (rc_ != SV_OK) {                                                          \
            fprintf(stderr, "example: %s failed: %s (%d): %s\n", #call,              \
                    sv_status_string(rc_), (int)rc_, sv_errmsg());                   \
            goto done;                                                               \
        }                                                                            \
    } while (0)

/* The pretend spike: folded stacks as perf/eu-stack would give them. */
static const char folded[] =
    "main;run_loop;parse_request;json_decode 412\n"
    "main;run_loop;handle_request;sqlite3_step;btreeNext 977\n"
    "main;run_loop;handle_request;render;memcpy 151\n"
    "main;gc;mark_roots 58\n";

static const char summary[] = "93.5% CPU for 2.0 s; hottest frame btreeNext (61%)\n";

/* Names come from the library (sv_metric_name, sv_capture_status_name: NULL only for a value
 * it does not know), so the example carries no tables of its own. */
static const char *or_unknown(const char *name) { return name ? name : "?"; }

/* Milliseconds since the epoch (UTC) as ISO 8601, e.g. 2026-11-27T14:35:12.123Z. */
static void iso_utc(int64_t ms, char *out, size_t size) {
    time_t seconds = (time_t)(ms / 1000);
    struct tm parts;
    char date[32];
    gmtime_r(&seconds, &parts);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &parts);
    snprintf(out, size, "%s.%03dZ", date, (int)(ms % 1000));
}

/* Writes text to a new temp file; returns 0 and fills path on success. */
static int write_temp_file(char *path, const char *text) {
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (f == NULL) { perror("example: temp file"); return -1; }
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

/* The child's hot loop: a named function, so the captured stacks show where the time goes. */
static volatile unsigned long spin_counter;
__attribute__((noinline)) static void example_busy_loop(void) {
    for (;;) spin_counter++;
}

/* Prints the `top` heaviest lines of folded stacks ("frame;frame;frame COUNT" per line). */
static void print_top_stacks(const char *folded_text, size_t size, int top) {
    char *text = malloc(size + 1), *line, *save = NULL;
    const char *best[8] = {0};
    long best_count[8] = {0}, total = 0;
    int i, j, n = top < 8 ? top : 8;
    if (text == NULL) return;
    memcpy(text, folded_text, size);
    text[size] = '\0';
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *space = strrchr(line, ' ');
        long count = space ? atol(space + 1) : 0;
        if (space) *space = '\0';
        total += count;
        for (i = 0; i < n; i++) {
            if (count > best_count[i]) {
                for (j = n - 1; j > i; j--) { best[j] = best[j - 1]; best_count[j] = best_count[j - 1]; }
                best[i] = line;
                best_count[i] = count;
                break;
            }
        }
    }
    printf("top stacks (%ld samples):\n", total);
    for (i = 0; i < n && best[i]; i++) {
        const char *leaf = strrchr(best[i], ';');
        printf("  %5.1f%%  %s\n", total ? 100.0 * best_count[i] / total : 0.0, leaf ? leaf + 1 : best[i]);
        printf("          %.100s\n", best[i]);
    }
    free(text);
}

/* Starts a child that burns CPU, captures it for 2 s with the auto backend (procfs plus the
 * best stack sampler installed), prints the stored record and its top stacks. */
static int capture_child(sv_vault *vault) {
    int ok = 0;
    sv_request *request = NULL;
    sv_cursor *cursor = NULL;
    void *stacks = NULL;
    size_t size = 0;
    int64_t id = 0;
    int32_t i;
    pid_t child = fork();
    if (child < 0) { perror("example: fork"); return 0; }
    if (child == 0) example_busy_loop(); /* the child only spins until it is killed */

    CHECK(sv_request_new(&request));
    CHECK(sv_request_set_pid(request, (int64_t)child));
    CHECK(sv_request_set_trigger(request, SV_METRIC_CPU, 99.0));
    CHECK(sv_request_set_backend(request, SV_BACKEND_AUTO));
    CHECK(sv_request_set_duration(request, 2.0));
    CHECK(sv_request_set_notes(request, "{\"reason\":\"example\"}"));
    printf("\ncapturing child %ld for 2 s (backend auto) ...\n", (long)child);
    CHECK(sv_capture_run(vault, request, &id)); /* blocks; sv_capture_start is the async form */

    CHECK(sv_vault_get(vault, id, &cursor));
    if (sv_cursor_next(cursor) != SV_ROW) goto done;
    printf("stored capture %lld: process %s, pid %lld, %s, %.1f s, %d artefact(s):\n", (long long)id,
           sv_cursor_process_name(cursor), (long long)sv_cursor_pid(cursor), or_unknown(sv_capture_status_name(sv_cursor_status(cursor))),
           sv_cursor_duration(cursor), (int)sv_cursor_artefact_count(cursor));
    for (i = 0; i < sv_cursor_artefact_count(cursor); i++)
        printf("  %-14s %8lld bytes (%lld stored)\n", sv_cursor_artefact_kind(cursor, i),
               (long long)sv_cursor_artefact_raw_bytes(cursor, i), (long long)sv_cursor_artefact_stored_bytes(cursor, i));
    if (sv_vault_read_artefact(vault, id, "oncpu.folded", &stacks, &size) == SV_OK)
        print_top_stacks(stacks, size, 5);
    else
        printf("no on-CPU stacks: install eu-stack (elfutils), perf or gdb\n");
    ok = 1;
done:
    kill(child, SIGKILL);
    waitpid(child, NULL, 0); /* reap our own child: the library only reaps what it spawns */
    sv_free(stacks);
    sv_cursor_close(cursor);
    sv_request_free(request);
    return ok;
}

int main(int argc, char **argv) {
    int exit_code = 1;
    char input[] = "/tmp/spikevault-example-XXXXXX";
    char export_path[sizeof input + 16] = "";
    sv_vault *vault = NULL;
    sv_record *record = NULL;
    sv_cursor *cursor = NULL;
    void *data = NULL;
    size_t size = 0;
    int64_t id = 0, deleted = 0;
    sv_status step;
    struct timespec now;

    if (argc != 2) {
        fprintf(stderr, "usage: %s VAULT_DIR\n", argv[0]);
        return 2;
    }
    printf("libspikevault %s (header %s)\n", sv_version_string(), SV_VERSION_STRING);
    if (write_temp_file(input, folded) != 0) return 1;

    /* 1. Open (or create) the vault; NULL options means the defaults. */
    CHECK(sv_vault_open(argv[1], NULL, &vault));

    /* 2. Describe the capture and attach two artefacts: a file and a memory buffer. */
    CHECK(sv_record_new(&record));
    CHECK(sv_record_set_process(record, "example-worker"));
    CHECK(sv_record_set_pid(record, (int64_t)getpid()));
    CHECK(sv_record_set_trigger(record, SV_METRIC_CPU, 93.5));
    CHECK(sv_record_set_duration(record, 2.0));
    CHECK(sv_record_set_notes(record, "{\"host\":\"demo\"}"));
    CHECK(sv_record_add_artefact_file(record, "oncpu.folded", input));
    CHECK(sv_record_add_artefact_buffer(record, "summary.txt", summary, strlen(summary)));

    /* 3. Save: artefacts are compressed and made durable, then the rows go in one transaction. */
    CHECK(sv_vault_save(vault, record, &id));
    printf("stored capture %lld: oncpu.folded (%zu bytes from %s), summary.txt (%zu bytes)\n",
           (long long)id, strlen(folded), input, strlen(summary));

    /* 4. List the 10 newest captures. Strings from a cursor live until its next step. */
    CHECK(sv_vault_recent(vault, 10, &cursor));
    printf("\n%6s  %-24s  %-16s  %7s  %-7s  %6s  %5s  %s\n",
           "id", "captured (UTC)", "process", "pid", "metric", "value", "files", "stored/raw bytes");
    while ((step = sv_cursor_next(cursor)) == SV_ROW) {
        char when[40];
        int64_t stored = 0, raw = 0;
        int32_t i, count = sv_cursor_artefact_count(cursor);
        for (i = 0; i < count; i++) {
            stored += sv_cursor_artefact_stored_bytes(cursor, i);
            raw += sv_cursor_artefact_raw_bytes(cursor, i);
        }
        iso_utc(sv_cursor_captured_at(cursor), when, sizeof when);
        printf("%6lld  %-24s  %-16.16s  %7lld  %-7s  %6.1f  %5d  %lld/%lld\n",
               (long long)sv_cursor_id(cursor), when, sv_cursor_process_name(cursor),
               (long long)sv_cursor_pid(cursor), or_unknown(sv_metric_name(sv_cursor_metric(cursor))),
               sv_cursor_trigger_value(cursor), (int)count, (long long)stored, (long long)raw);
    }
    if (step != SV_DONE) CHECK(step); /* SV_DONE ends the rows; anything else is an error */
    CHECK(sv_cursor_close(cursor));
    cursor = NULL;

    /* 5. Read the first artefact back (kind NULL): decompressed and checksum-verified. */
    CHECK(sv_vault_read_artefact(vault, id, NULL, &data, &size));
    if (size != strlen(folded) || memcmp(data, folded, size) != 0) {
        fprintf(stderr, "example: artefact read back differs from what was stored\n");
        goto done;
    }
    printf("\nread back capture %lld oncpu.folded: verified %zu bytes\n", (long long)id, size);

    /* 6. Export it to a file, which must not exist yet (it appears whole or not at all). */
    snprintf(export_path, sizeof export_path, "%s.exported", input);
    CHECK(sv_vault_export_artefact(vault, id, "oncpu.folded", export_path));
    printf("exported oncpu.folded to %s\n", export_path);

    /* 7. Retention: delete captures taken more than 72 hours ago (rows and files). */
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(sv_vault_delete_older_than(vault, (int64_t)now.tv_sec * 1000 - 72LL * 3600 * 1000, &deleted));
    printf("deleted %lld capture(s) older than 72 h\n", (long long)deleted);

    /* 8. Capture a live process: a child of ours that burns CPU. */
    if (!capture_child(vault)) goto done;

    CHECK(sv_vault_close(vault)); /* reports errors too, so check it */
    vault = NULL;
    exit_code = 0;

done:
    sv_free(data);               /* NULL-safe, like every closer below */
    sv_cursor_close(cursor);
    sv_record_free(record);
    sv_vault_close(vault);
    unlink(input);
    if (export_path[0] != '\0') unlink(export_path);
    return exit_code;
}
