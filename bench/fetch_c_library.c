/* fetch_c_library.c - fetchRecent(50) through the C ABI.
 *   fetch_c_library fill VAULT_DIR N      saves N small records, durability off (SV_OPT_DURABILITY=0),
 *                                         no age or size limit
 *   fetch_c_library bench VAULT_DIR ITERS RUNS
 *       times ITERS calls of sv_vault_recent(vault, 50) + walking the cursor with every
 *       accessor, RUNS times; prints "us_per_call MEDIAN" (and each run). */
#include "common.h"
#include <spikevault.h>

#define CHECK(call) do { sv_status rc_ = (call); if (rc_ != SV_OK) { \
    fprintf(stderr, "%s: %s: %s\n", #call, sv_status_string(rc_), sv_errmsg()); return 1; } } while (0)

static int fill(const char *dir, long n) {
    sv_options *o = NULL;
    sv_vault *v = NULL;
    sv_record *r = NULL;
    unsigned char buf[160];
    long i;
    CHECK(sv_options_new(&o));
    CHECK(sv_options_set_int(o, SV_OPT_DURABILITY, 0));
    /* The records are dated in the past and their files take 400 MB of blocks: no retention. */
    CHECK(sv_options_set_int(o, SV_OPT_MAX_AGE_SECONDS, 0));
    CHECK(sv_options_set_int(o, SV_OPT_MAX_FOOTPRINT_BYTES, 0));
    CHECK(sv_vault_open(dir, o, &v));
    CHECK(sv_options_free(o));
    for (i = 0; i < n; i++) {
        gen_content(buf, sizeof buf, (uint32_t)i);
        CHECK(sv_record_new(&r));
        CHECK(sv_record_set_process(r, i % 3 ? "bench-worker" : "bench-db"));
        CHECK(sv_record_set_pid(r, 1000 + i % 500));
        CHECK(sv_record_set_trigger(r, (sv_metric)(1 + i % 6), (double)(i % 100)));
        CHECK(sv_record_set_captured_at(r, BASE_MS + i * 1000));
        CHECK(sv_record_set_duration(r, 2.0));
        CHECK(sv_record_set_notes(r, "{\"host\":\"bench\"}"));
        CHECK(sv_record_add_artefact_buffer(r, "oncpu.folded", buf, sizeof buf));
        CHECK(sv_vault_save(v, r, NULL));
        CHECK(sv_record_free(r));
    }
    CHECK(sv_vault_close(v));
    printf("filled %ld records\n", n);
    return 0;
}

int main(int argc, char **argv) {
    sv_vault *v = NULL;
    double runs_us[16];
    long iters, k, sink = 0;
    int runs, run;
    if (argc == 4 && strcmp(argv[1], "fill") == 0) return fill(argv[2], atol(argv[3]));
    if (argc != 5 || strcmp(argv[1], "bench") != 0) {
        fprintf(stderr, "usage: %s fill VAULT_DIR N | bench VAULT_DIR ITERS RUNS\n", argv[0]);
        return 2;
    }
    iters = atol(argv[3]);
    runs = atoi(argv[4]);
    if (runs < 1 || runs > 16) runs = 3;
    CHECK(sv_vault_open(argv[2], NULL, &v));
    for (run = 0; run < runs; run++) {
        int64_t start = mono_ns();
        for (k = 0; k < iters; k++) {
            sv_cursor *c = NULL;
            sv_status s;
            CHECK(sv_vault_recent(v, 50, &c));
            while ((s = sv_cursor_next(c)) == SV_ROW) {
                int32_t a, n = sv_cursor_artefact_count(c);
                sink += sv_cursor_id(c) + sv_cursor_pid(c) + (long)sv_cursor_metric(c) + (long)sv_cursor_status(c);
                sink += (long)sv_cursor_trigger_value(c) + (long)sv_cursor_duration(c);
                sink += sv_cursor_captured_at(c) + sv_cursor_process_start_time(c);
                sink += (long)strlen(sv_cursor_process_name(c)) + (long)strlen(sv_cursor_notes(c));
                for (a = 0; a < n; a++) {
                    sink += (long)strlen(sv_cursor_artefact_kind(c, a)) + (long)strlen(sv_cursor_artefact_path(c, a));
                    sink += (long)strlen(sv_cursor_artefact_checksum(c, a));
                    sink += sv_cursor_artefact_raw_bytes(c, a) + sv_cursor_artefact_stored_bytes(c, a);
                }
            }
            if (s != SV_DONE) CHECK(s);
            CHECK(sv_cursor_close(c));
        }
        runs_us[run] = (double)(mono_ns() - start) / 1e3 / (double)iters;
        printf("run %d: %.1f us/call\n", run + 1, runs_us[run]);
    }
    CHECK(sv_vault_close(v));
    printf("sink %ld\n", sink); /* keeps the reads from being optimised away */
    printf("us_per_call %.2f\n", median(runs_us, runs));
    return 0;
}
