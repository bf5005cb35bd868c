/* The tiny HTTP server of the cluster benchmark: the same app under every manager, so that the
 * managers (and the way connections reach the app), not the app, are what differs.
 *
 *   httpd fd3                     accept on fd 3 (socket activation: LISTEN_FDS >= 1, and
 *                                 LISTEN_PID, when set, equal to our pid)
 *   httpd port P|env [reuseport]  bind 127.0.0.1:P itself (env: $PORT), SO_REUSEPORT if asked,
 *                                 which is how N copies share one port without a manager
 *
 * One thread, one epoll loop, so one process uses at most one core: "one process" and "N
 * processes" are the two references. Every GET (any request, in fact) gets a 2-byte 200 with
 * Content-Length on a keep-alive HTTP/1.1 connection; pipelined requests are answered in order.
 * Once listening it sends READY=1 to $NOTIFY_SOCKET if that is set (sd_notify without libsystemd).
 *
 * SIGTERM (and SIGINT) is a graceful drain, what a zero-downtime reload needs from the app:
 * the listening fd is closed at once (in socket mode the daemon and the other instances keep
 * the socket, so queued and new connections are theirs), every request still arriving on an
 * open connection is answered with `Connection: close` and that connection closed after it, an
 * idle connection is closed after at most DRAIN_IDLE_MS, and the process exits 0 when none is
 * left (or after DRAIN_MAX_MS, whatever is still open). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 65536
#define INBUF 8192
#define DRAIN_IDLE_MS 1000
#define DRAIN_MAX_MS 3000

static const char RESP_KEEP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";
static const char RESP_CLOSE[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nok";

struct conn {
    int open;
    size_t in_len;
    char in[INBUF];
    char *out;       /* what a short write left unsent (rare: the responses are tiny) */
    size_t out_len, out_off;
    int close_after; /* close once out is flushed */
};

static struct conn *conns[MAX_FDS];
static int ep, lfd = -1, nconns;
static int draining;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One datagram to $NOTIFY_SOCKET; a leading '@' names an abstract socket (see child.c). */
static void notify_ready(void) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n < sizeof sa.sun_path) {
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@') sa.sun_path[0] = '\0';
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
        if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0) perror("httpd: notify");
    }
    close(fd);
}

static void close_conn(int fd) {
    struct conn *c = conns[fd];
    if (!c || !c->open) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    c->in_len = 0;
    c->open = 0;
    c->close_after = 0;
    nconns--;
}

/* Sends buf (and whatever is queued before it); 0 ok, -1 the connection is gone. */
static int send_out(int fd, struct conn *c, const char *buf, size_t n) {
    if (c->out_len > c->out_off) { /* keep the order: queue behind what is pending */
        char *p = realloc(c->out, c->out_len + n);
        if (!p) return -1;
        memcpy(p + c->out_len, buf, n);
        c->out = p;
        c->out_len += n;
        return 0;
    }
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    if (n > 0) {
        free(c->out);
        c->out = malloc(n);
        if (!c->out) return -1;
        memcpy(c->out, buf, n);
        c->out_len = n;
        c->out_off = 0;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = fd };
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

static void flush_out(int fd, struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t w = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            close_conn(fd);
            return;
        }
        c->out_off += (size_t)w;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    if (c->close_after) { close_conn(fd); return; }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void on_readable(int fd) {
    struct conn *c = conns[fd];
    for (;;) {
        if (c->in_len == INBUF) { close_conn(fd); return; } /* a header larger than we serve */
        ssize_t r = recv(fd, c->in + c->in_len, INBUF - c->in_len, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            close_conn(fd);
            return;
        }
        if (r == 0) { close_conn(fd); return; }
        c->in_len += (size_t)r;
        /* Answer every complete request in the buffer (no request bodies: GETs). */
        size_t off = 0;
        for (;;) {
            char *end = memmem(c->in + off, c->in_len - off, "\r\n\r\n", 4);
            if (!end) break;
            off = (size_t)(end - c->in) + 4;
            if (draining) {
                c->close_after = 1;
                if (send_out(fd, c, RESP_CLOSE, sizeof RESP_CLOSE - 1) < 0) { close_conn(fd); return; }
                if (c->out_len == 0) { close_conn(fd); return; }
                return; /* flush_out closes it; requests pipelined behind this one are not answered */
            }
            if (send_out(fd, c, RESP_KEEP, sizeof RESP_KEEP - 1) < 0) { close_conn(fd); return; }
        }
        if (off > 0) {
            memmove(c->in, c->in + off, c->in_len - off);
            c->in_len -= off;
        }
        if ((size_t)r < INBUF) break;
    }
}

/* One connection per wake-up, as nginx's default (multi_accept off): a process that took every
 * queued connection in one loop would end up with all of wrk's 64 keep-alive connections while the
 * other instance on the shared socket idles; SO_REUSEPORT spreads them by hash instead. The
 * listening fd stays readable (level-triggered) while more are queued, so nothing waits long. */
static void on_accept(void) {
    for (int taken = 0; taken < 1;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return; /* EAGAIN: another process took it, or the queue is empty */
        }
        if (fd >= MAX_FDS) { close(fd); continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!conns[fd]) conns[fd] = calloc(1, sizeof(struct conn));
        if (!conns[fd]) { close(fd); continue; }
        conns[fd]->open = 1;
        nconns++;
        taken++;
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

static int open_port(const char *p, int reuseport) {
    if (strcmp(p, "env") == 0) p = getenv("PORT");
    int port = p ? atoi(p) : 0;
    if (port <= 0 || port > 65535) { fprintf(stderr, "httpd: no port (PORT=%s)\n", p ? p : ""); exit(64); }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0) {
        perror("httpd: bind/listen");
        exit(2);
    }
    return fd;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "fd3") == 0) {
        const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
        if (!fds || atoi(fds) < 1 || (pid && atoi(pid) != getpid())) {
            fprintf(stderr, "httpd: fd3 needs socket activation (LISTEN_FDS=%s LISTEN_PID=%s, pid %d)\n",
                    fds ? fds : "", pid ? pid : "", (int)getpid());
            return 64;
        }
        lfd = 3;
        fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
        fcntl(lfd, F_SETFD, FD_CLOEXEC);
    } else if (strcmp(mode, "port") == 0 && argc > 2) {
        lfd = open_port(argv[2], argc > 3 && strcmp(argv[3], "reuseport") == 0);
    } else {
        fprintf(stderr, "usage: httpd fd3 | port P|env [reuseport]\n");
        return 64;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    ep = epoll_create1(EPOLL_CLOEXEC);
    /* EPOLLEXCLUSIVE: with several processes on one shared socket (socket mode), one wake-up per
     * connection instead of all of them. */
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = sfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    notify_ready();

    struct epoll_event evs[256];
    long long drain_start = 0, idle_closed = 0;
    for (;;) {
        int timeout = -1;
        if (draining) {
            long long t = now_ms() - drain_start;
            if (nconns == 0 || t >= DRAIN_MAX_MS) return 0;
            if (!idle_closed && t >= DRAIN_IDLE_MS) {
                /* Whatever has no request in progress and nothing to send: idle keep-alive. */
                for (int fd = 0; fd < MAX_FDS; fd++)
                    if (conns[fd] && conns[fd]->open && conns[fd]->in_len == 0 && conns[fd]->out_len == 0)
                        close_conn(fd);
                idle_closed = 1;
                if (nconns == 0) return 0;
            }
            timeout = idle_closed ? (int)(DRAIN_MAX_MS - t) : (int)(DRAIN_IDLE_MS - t);
            if (timeout < 1) timeout = 1;
        }
        int n = epoll_wait(ep, evs, 256, timeout);
        if (n < 0 && errno != EINTR) { perror("httpd: epoll_wait"); return 1; }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == sfd) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == sizeof si) { }
                if (!draining) {
                    draining = 1;
                    drain_start = now_ms();
                    epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
                    close(lfd);
                    lfd = -1;
                }
            } else if (fd == lfd) {
                on_accept();
            } else if (conns[fd] && conns[fd]->open) {
                if (evs[i].events & (EPOLLERR | EPOLLHUP)) { close_conn(fd); continue; }
                if (evs[i].events & EPOLLOUT) flush_out(fd, conns[fd]);
                if (conns[fd]->open && (evs[i].events & EPOLLIN)) on_readable(fd);
            }
        }
    }
}
