/* faultinject: an LD_PRELOAD shim that makes the Nth file-system call fail with an errno.
 *
 * Intercepted: write, pwrite, pwrite64, writev, fsync, fdatasync, rename, renameat,
 * renameat2, link, linkat, unlink, unlinkat, open, open64, openat, openat64, ftruncate.
 * Only calls made while ARMED are counted, so a driver's setup I/O is not. Arm either
 * with the environment at load time (FAULTINJECT_N=<n> FAULTINJECT_ERRNO=EIO|ENOSPC
 * FAULTINJECT_MODE=once|always) or, from a driver, through the functions below (look them
 * up with dlsym(RTLD_DEFAULT, "faultinject_arm") or ctypes.CDLL(None)):
 *
 *   void faultinject_arm(long n, int err, int mode);  n >= 1: fail the nth counted call;
 *                                                     n <= 0: count only. mode 0 = fail once,
 *                                                     1 = fail that call and every later one.
 *   void faultinject_disarm(void);                     stop counting and failing.
 *   long faultinject_calls(void);                      calls counted since the last arm.
 *   long faultinject_failed(void);                     calls failed since the last arm.
 *
 * Calls from every thread count (the library does I/O on worker threads). Thread-safe
 * (atomics). Test-only: never shipped, never linked into libspikevault.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static volatile int armed;
static long target, counted, failed;
static int fail_errno = EIO, fail_mode;

void faultinject_arm(long n, int err, int mode) {
    __atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&counted, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&failed, 0, __ATOMIC_SEQ_CST);
    target = n;
    fail_errno = err ? err : EIO;
    fail_mode = mode;
    __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
}
void faultinject_disarm(void) { __atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST); }
long faultinject_calls(void) { return __atomic_load_n(&counted, __ATOMIC_SEQ_CST); }
long faultinject_failed(void) { return __atomic_load_n(&failed, __ATOMIC_SEQ_CST); }

__attribute__((constructor)) static void faultinject_init(void) {
    const char *n = getenv("FAULTINJECT_N");
    if (!n) return;
    const char *e = getenv("FAULTINJECT_ERRNO"), *m = getenv("FAULTINJECT_MODE");
    int err = (e && strcmp(e, "ENOSPC") == 0) ? ENOSPC : EIO;
    faultinject_arm(atol(n), err, (m && strcmp(m, "always") == 0) ? 1 : 0);
}

/* True when this call must fail (errno is then set). */
static int should_fail(void) {
    if (!__atomic_load_n(&armed, __ATOMIC_SEQ_CST)) return 0;
    long k = __atomic_add_fetch(&counted, 1, __ATOMIC_SEQ_CST);
    if (target <= 0) return 0;
    if (k == target || (fail_mode == 1 && k > target)) {
        __atomic_add_fetch(&failed, 1, __ATOMIC_SEQ_CST);
        errno = fail_errno;
        return 1;
    }
    return 0;
}

#define REAL(name) static __typeof__(name) *real; if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n) { REAL(write); return should_fail() ? -1 : real(fd, buf, n); }
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { REAL(pwrite); return should_fail() ? -1 : real(fd, buf, n, off); }
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) { REAL(pwrite64); return should_fail() ? -1 : real(fd, buf, n, off); }
ssize_t writev(int fd, const struct iovec *iov, int cnt) { REAL(writev); return should_fail() ? -1 : real(fd, iov, cnt); }
int fsync(int fd) { REAL(fsync); return should_fail() ? -1 : real(fd); }
int fdatasync(int fd) { REAL(fdatasync); return should_fail() ? -1 : real(fd); }
int ftruncate(int fd, off_t len) { REAL(ftruncate); return should_fail() ? -1 : real(fd, len); }
int rename(const char *a, const char *b) { REAL(rename); return should_fail() ? -1 : real(a, b); }
int renameat(int da, const char *a, int db, const char *b) { REAL(renameat); return should_fail() ? -1 : real(da, a, db, b); }
int renameat2(int da, const char *a, int db, const char *b, unsigned f) { REAL(renameat2); return should_fail() ? -1 : real(da, a, db, b, f); }
int link(const char *a, const char *b) { REAL(link); return should_fail() ? -1 : real(a, b); }
int linkat(int da, const char *a, int db, const char *b, int f) { REAL(linkat); return should_fail() ? -1 : real(da, a, db, b, f); }
int unlink(const char *a) { REAL(unlink); return should_fail() ? -1 : real(a); }
int unlinkat(int d, const char *a, int f) { REAL(unlinkat); return should_fail() ? -1 : real(d, a, f); }

/* The open family takes a mode only with O_CREAT / O_TMPFILE. */
#define MODE_ARG(flags) mode_t mode = 0; \
    if ((flags) & (O_CREAT | __O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
int open(const char *p, int flags, ...) { MODE_ARG(flags); REAL(open); return should_fail() ? -1 : real(p, flags, mode); }
int open64(const char *p, int flags, ...) { MODE_ARG(flags); REAL(open64); return should_fail() ? -1 : real(p, flags, mode); }
int openat(int d, const char *p, int flags, ...) { MODE_ARG(flags); REAL(openat); return should_fail() ? -1 : real(d, p, flags, mode); }
int openat64(int d, const char *p, int flags, ...) { MODE_ARG(flags); REAL(openat64); return should_fail() ? -1 : real(d, p, flags, mode); }
