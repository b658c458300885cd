/* save_c_pair.c - benchmark (a): saving N records, each with a 4 KiB artefact, through the C
 * ABI at the library's default durability, against the same protocol done by hand
 * (raw_store.h). Both run in this one process, interleaved in batches of 50 records and in
 * alternating order, into two vaults side by side on the same filesystem, so disk and
 * machine noise fall on both alike. Usage: save_c_pair DIR N.
 * Prints "library_records_per_s X" and "raw_records_per_s Y". */
#include "common.h"
#include "raw_store.h"
#include <spikevault.h>

#define BATCH 50
#define CHECK(call) do { sv_status rc_ = (call); if (rc_ != SV_OK) { \
    fprintf(stderr, "%s: %s: %s\n", #call, sv_status_string(rc_), sv_errmsg()); exit(1); } } while (0)

static sv_vault *vault;

static void library_save(long i) {
    static unsigned char buf[ARTEFACT_SIZE];
    sv_record *r = NULL;
    int64_t id = 0;
    gen_content(buf, sizeof buf, (uint32_t)i);
    CHECK(sv_record_new(&r));
    CHECK(sv_record_set_process(r, "bench-worker"));
    CHECK(sv_record_set_pid(r, 4242));
    CHECK(sv_record_set_trigger(r, SV_METRIC_CPU, 90.0 + (double)(i % 10)));
    CHECK(sv_record_set_captured_at(r, BASE_MS + i));
    CHECK(sv_record_set_duration(r, 1.5));
    CHECK(sv_record_add_artefact_buffer(r, "oncpu.folded", buf, sizeof buf));
    CHECK(sv_vault_save(vault, r, &id));
    CHECK(sv_record_free(r));
}

int main(int argc, char **argv) {
    char lib_dir[4096], raw_dir[4096];
    int64_t lib_ns = 0, raw_ns = 0;
    long n, start;
    if (argc != 3) { fprintf(stderr, "usage: %s DIR N\n", argv[0]); return 2; }
    n = atol(argv[2]);
    if (mkdir(argv[1], 0700) != 0 && errno != EEXIST) die("mkdir");
    snprintf(lib_dir, sizeof lib_dir, "%s/library", argv[1]);
    snprintf(raw_dir, sizeof raw_dir, "%s/raw", argv[1]);
    CHECK(sv_vault_open(lib_dir, NULL, &vault)); /* default options: durability normal, level 3 */
    raw_open(raw_dir);
    for (start = 0; start < n; start += BATCH) {
        long end = start + BATCH < n ? start + BATCH : n, i;
        int library_first = (start / BATCH) % 2 == 0;
        for (int side = 0; side < 2; side++) {
            int64_t t0 = mono_ns();
            if ((side == 0) == library_first) {
                for (i = start; i < end; i++) library_save(i);
                lib_ns += mono_ns() - t0;
            } else {
                for (i = start; i < end; i++) raw_save(i);
                raw_ns += mono_ns() - t0;
            }
        }
    }
    CHECK(sv_vault_close(vault));
    raw_close();
    printf("library_records_per_s %.1f\n", (double)n * 1e9 / (double)lib_ns);
    printf("raw_records_per_s %.1f\n", (double)n * 1e9 / (double)raw_ns);
    return 0;
}
