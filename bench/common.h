/* common.h - shared by the C benchmarks: the content generator, a clock, XXH64. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#define _XOPEN_SOURCE 700
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARTEFACT_SIZE 4096
/* Capture times: an hour ago (inside the library's default 72-hour retention, so no save is
 * purged by age) plus one millisecond per record, so every artefact name
 * (<UTC time>-<pid>.<kind>.zst) is distinct in both programs. Fixed when first asked for. */
static inline int64_t base_ms(void) {
    static int64_t base = 0;
    if (base == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        base = ((int64_t)ts.tv_sec - 3600) * 1000;
    }
    return base;
}
#define BASE_MS base_ms()

/* Deterministic, moderately compressible folded-stack text, different for every record
 * (the same generator as save_py_*.py: frames picked by a 32-bit xorshift seeded by i). */
static inline void gen_content(unsigned char *buf, size_t n, uint32_t i) {
    static const char *frames[] = {"main;", "run_loop;", "handle_request;", "parse_json;", "sqlite3_step;",
                                   "btreeNext;", "memcpy;", "malloc;", "render;", "gc_mark;", "epoll_wait;",
                                   "write;"};
    uint32_t x = 0x9E3779B9u ^ (i * 2654435761u);
    size_t k = 0;
    if (x == 0) x = 1;
    while (k < n) {
        int depth, d;
        char line[256];
        size_t len = 0;
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        depth = 2 + (int)(x % 6);
        for (d = 0; d < depth; d++) {
            const char *f;
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            f = frames[x % 12];
            memcpy(line + len, f, strlen(f));
            len += strlen(f);
        }
        len += (size_t)snprintf(line + len, sizeof line - len, " %u\n", (unsigned)(x % 1000));
        if (len > n - k) len = n - k;
        memcpy(buf + k, line, len);
        k += len;
    }
}

static inline int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* XXH64 with seed 0 (the library stores it per artefact as "xxh64:%016x"). */
static inline uint64_t xxh_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t xxh_read64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t xxh_read32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
#define XP1 UINT64_C(11400714785074694791)
#define XP2 UINT64_C(14029467366897019727)
#define XP3 UINT64_C(1609587929392839161)
#define XP4 UINT64_C(9650029242287828579)
#define XP5 UINT64_C(2870177450012600261)
static inline uint64_t xxh_round(uint64_t acc, uint64_t in) { return xxh_rotl(acc + in * XP2, 31) * XP1; }
static inline uint64_t xxh_merge(uint64_t acc, uint64_t v) { return (acc ^ xxh_round(0, v)) * XP1 + XP4; }
static inline uint64_t xxh64(const void *data, size_t len) {
    const unsigned char *p = data, *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = XP1 + XP2, v2 = XP2, v3 = 0, v4 = 0 - XP1;
        const unsigned char *limit = end - 32;
        do {
            v1 = xxh_round(v1, xxh_read64(p)); v2 = xxh_round(v2, xxh_read64(p + 8));
            v3 = xxh_round(v3, xxh_read64(p + 16)); v4 = xxh_round(v4, xxh_read64(p + 24));
            p += 32;
        } while (p <= limit);
        h = xxh_rotl(v1, 1) + xxh_rotl(v2, 7) + xxh_rotl(v3, 12) + xxh_rotl(v4, 18);
        h = xxh_merge(h, v1); h = xxh_merge(h, v2); h = xxh_merge(h, v3); h = xxh_merge(h, v4);
    } else {
        h = XP5;
    }
    h += (uint64_t)len;
    while (p + 8 <= end) { h ^= xxh_round(0, xxh_read64(p)); h = xxh_rotl(h, 27) * XP1 + XP4; p += 8; }
    if (p + 4 <= end) { h ^= (uint64_t)xxh_read32(p) * XP1; h = xxh_rotl(h, 23) * XP2 + XP3; p += 4; }
    while (p < end) { h ^= (*p++) * XP5; h = xxh_rotl(h, 11) * XP1; }
    h ^= h >> 33; h *= XP2; h ^= h >> 29; h *= XP3; h ^= h >> 32;
    return h;
}
#endif
