/* Fixed work per metric for bench/metric/run.py: waits for one byte on stdin, does the work,
 * prints its wall and CPU time (all its threads) in seconds on stdout, then stays alive (for gcore) until stdin closes.
 * usage: workloads METRIC DIR   (METRIC: cpu memory diskIO network threads fds) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
volatile unsigned long sink;

__attribute__((noinline)) static void cpu_work(void) { for (unsigned long i = 0; i < 1200000000UL; i++) sink += i ^ (i >> 3); }

/* memset (a libc leaf, as real code fills buffers), then one pseudo-random word per 64 bytes so
 * the heap compresses like real data rather than to nothing (which would flatter gcore). */
static unsigned long rng = 88172645463325252UL;
__attribute__((noinline)) static char *grow_cache(size_t n) {
    char *p = malloc(n);
    if (!p) return p;
    memset(p, 7, n);
    for (size_t i = 0; i + 8 <= n; i += 64) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; memcpy(p + i, &rng, 8); }
    return p;
}
static char *volatile kept_chunks[2560];
static void memory_work(void) {
    /* 160 MiB in 64 KiB chunks, kept (the growth), plus a CPU share so the run is not all faults. */
    for (int i = 0; i < 2560; i++) { kept_chunks[i] = grow_cache(64 * 1024); for (int k = 0; k < 300000; k++) sink += k; }
}

__attribute__((noinline)) static void flush_log(int fd, const char *buf, size_t n) { if (write(fd, buf, n) < 0) exit(3); }
static void diskio_work(const char *dir) {
    char path[4096]; snprintf(path, sizeof path, "%s/bench-debug.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    static char buf[65536];
    for (int i = 0; i < 24000; i++) {  /* 1.5 GiB through a 32 MiB file */
        flush_log(fd, buf, sizeof buf);
        if ((i + 1) % 512 == 0) { if (ftruncate(fd, 0) < 0) exit(4); lseek(fd, 0, SEEK_SET); }
    }
    close(fd);
}

static void network_work(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 128) < 0) exit(2);
    socklen_t n = sizeof a; getsockname(l, (struct sockaddr *)&a, &n);
    char msg[256] = {0};
    for (int i = 0; i < 10000; i++) {   /* 10,000 connections, the first 400 kept open */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) exit(3);
        int s = accept(l, 0, 0);
        if (s < 0 || write(c, msg, sizeof msg) < 0 || read(s, msg, sizeof msg) < 0) exit(4);
        if (i >= 400) { close(c); close(s); }
    }
}

static void *short_task(void *a) { (void)a; for (int k = 0; k < 20000; k++) sink += k; return 0; }
static void *kept(void *a) { (void)a; for (;;) pause(); return 0; }
static void threads_work(void) {
    char name[16]; pthread_t t;
    for (int i = 0; i < 3000; i++) {   /* 3,000 short threads, every 20th kept */
        pthread_create(&t, 0, i % 20 == 0 ? kept : short_task, 0);
        snprintf(name, sizeof name, "worker-%d", i); pthread_setname_np(t, name);
        if (i % 20) pthread_join(t, 0);
    }
}

static void fds_work(const char *dir) {
    char path[4096];
    for (int i = 0; i < 20000; i++) {   /* 20,000 opens, every 20th leaked */
        snprintf(path, sizeof path, "%s/leak-%d.dat", dir, i % 2000);
        int fd = open(path, O_RDWR | O_CREAT, 0600);
        if (fd < 0) exit(2);
        if (i % 20) close(fd);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) return 1;
    char go;
    if (read(0, &go, 1) != 1) return 1;
    double t0 = now(), c0 = cpu();
    if (!strcmp(argv[1], "cpu")) cpu_work();
    else if (!strcmp(argv[1], "memory")) memory_work();
    else if (!strcmp(argv[1], "diskIO")) diskio_work(argv[2]);
    else if (!strcmp(argv[1], "network")) network_work();
    else if (!strcmp(argv[1], "threads")) threads_work();
    else if (!strcmp(argv[1], "fds")) fds_work(argv[2]);
    else return 1;
    printf("%.6f %.6f\n", now() - t0, cpu() - c0);
    fflush(stdout);
    while (read(0, &go, 1) > 0) {}
    return 0;
}
