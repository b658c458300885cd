/* Benchmark target: `target THREADS SECONDS` keeps THREADS threads mostly asleep (a 64-thread
 * server at rest); `target work ITERATIONS [DELAY_MS]` sleeps DELAY_MS (default 0: time for a
 * capture to start, so it covers the whole work), then burns a fixed amount of CPU in two
 * threads and prints the wall time of the work, so a captured run can be compared with an
 * uncaptured one. `target work ITERATIONS stdin` starts the work when a byte arrives on stdin. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

static void *sleeper(void *arg) {
    (void)arg;
    for (;;) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

__attribute__((noinline)) static uint64_t bench_hot_work(uint64_t iterations) {
    uint64_t x = 1469598103934665603ULL;
    for (uint64_t i = 0; i < iterations; i++) x = (x ^ i) * 1099511628211ULL;
    return x;
}

static void *worker(void *arg) {
    sink += bench_hot_work(*(uint64_t *)arg);
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "work") == 0) {
        uint64_t iterations = strtoull(argv[2], NULL, 10);
        if (argc == 4 && strcmp(argv[3], "stdin") == 0) {
            char c; /* start when the bench writes a byte (its capture is then sampling) */
            if (read(0, &c, 1) != 1) return 1;
        } else if (argc == 4) {
            long ms = atol(argv[3]);
            struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
            while (nanosleep(&d, &d) != 0) {}
        }
        pthread_t t[2];
        double start = now();
        for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, &iterations);
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
        printf("%.6f\n", now() - start);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: target THREADS SECONDS | target work ITERATIONS [DELAY_MS]\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    for (int i = 0; i < threads - 1; i++) {
        pthread_t t;
        pthread_create(&t, NULL, sleeper, NULL);
    }
    sleep((unsigned)atoi(argv[2]));
    return 0;
}
