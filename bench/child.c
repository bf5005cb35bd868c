/* The one child program every manager runs in the benchmarks, so that the managers, not the
 * children, are what differs. Modes:
 *   child sleep            record a start, then pause() until killed (the "sleep-like" child)
 *   child crash            record a start, then exit(1) at once (the crash loop)
 *   child spew N line|block  record a start, write N lines of 100 bytes to stdout, one write(2)
 *                          per line or in 1000-line blocks, record the end, exit 0
 *   child notify [DELAY_MS [PING_MS]]  record a start, after DELAY_MS (default 0) send READY=1 to
 *                          $NOTIFY_SOCKET and record "ready pid ns", then WATCHDOG=1 every PING_MS
 *                          (default 0: never) until killed: sd_notify(3) without libsystemd
 *   child tick MS          record a start, then write "tick N" (N from 1) to stdout every MS ms
 *                          until killed: a gap in the numbers is a line the manager lost
 * A record is one line "pid monotonic_ns" appended (O_APPEND, one write) to $BENCH_MARK, so the
 * bench sees a start the moment the program runs, on the same clock Python's time.monotonic_ns()
 * reads, without asking the manager. spew appends "end pid ns" after its last write returned. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE 100
#define BLOCK_LINES 1000

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void mark(const char *what) {
    const char *path = getenv("BENCH_MARK");
    if (!path || !*path) return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char buf[96];
    int n = snprintf(buf, sizeof buf, "%s%d %lld\n", what, (int)getpid(), now_ns());
    if (write(fd, buf, (size_t)n) < 0) { /* nothing useful to do */ }
    close(fd);
}

static int write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w; n -= (size_t)w;
    }
    return 0;
}

/* Line i: 10-digit sequence number, a space, filler, newline: exactly LINE bytes. The filler is
 * written once per buffer slot; only the digits change, so the writer costs little CPU. */
static void fill_line(char *dst, long i, int digits_only) {
    for (int k = 9; k >= 0; k--) { dst[k] = (char)('0' + i % 10); i /= 10; }
    if (digits_only) return;
    dst[10] = ' ';
    for (int k = 11; k < LINE - 1; k++) dst[k] = (char)('a' + (k % 26));
    dst[LINE - 1] = '\n';
}

static void sleep_ms(long ms) {
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) { }
}

/* One datagram to $NOTIFY_SOCKET, as sd_notify(3) sends it. A leading '@' names a socket in the
 * abstract namespace: a NUL first byte, and the address length counts only the name's bytes. */
static int notify(int fd, const char *msg) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) return -1;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof sa.sun_path) return -1;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@') sa.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
    return sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "sleep";
    mark("");
    if (strcmp(mode, "crash") == 0) return 1;
    if (strcmp(mode, "sleep") == 0) { for (;;) pause(); }
    if (strcmp(mode, "notify") == 0) {
        long delay = argc > 2 ? atol(argv[2]) : 0, ping = argc > 3 ? atol(argv[3]) : 0;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return 3;
        if (delay > 0) sleep_ms(delay);
        if (notify(fd, "READY=1") < 0) return 4;
        mark("ready ");
        if (ping <= 0) { for (;;) pause(); }
        for (;;) { sleep_ms(ping); notify(fd, "WATCHDOG=1"); }
    }
    if (strcmp(mode, "tick") == 0 && argc > 2) {
        long every = atol(argv[2]);
        char line[32];
        for (long i = 1;; i++) {
            int k = snprintf(line, sizeof line, "tick %ld\n", i);
            if (write_all(line, (size_t)k) < 0) return 2;
            sleep_ms(every);
        }
    }
    if (strcmp(mode, "spew") == 0 && argc > 3) {
        long n = atol(argv[2]);
        int block = strcmp(argv[3], "block") == 0;
        static char buf[LINE * BLOCK_LINES];
        if (block) {
            for (long i = 0; i < n; i += BLOCK_LINES) {
                long k = n - i < BLOCK_LINES ? n - i : BLOCK_LINES;
                for (long j = 0; j < k; j++) fill_line(buf + j * LINE, i + j, i > 0);
                if (write_all(buf, (size_t)(k * LINE)) < 0) return 2;
            }
        } else {
            for (long i = 0; i < n; i++) {
                fill_line(buf, i, i > 0);
                if (write_all(buf, LINE) < 0) return 2;
            }
        }
        mark("end ");
        return 0;
    }
    fprintf(stderr, "usage: child sleep | crash | spew N line|block | notify [DELAY_MS [PING_MS]] | tick MS\n");
    return 64;
}
