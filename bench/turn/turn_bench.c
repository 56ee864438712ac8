/* SPDX-License-Identifier: MIT */
/*
 * turn_bench: the TURN client engine (crypto/turn.h) against a running
 * TURN server, from one thread (one core), over kernel UDP sockets (or
 * kernel TCP connections: alloc-tcp).
 *
 *   turn_bench alloc SERVER_PORT USER PASS CLIENTS
 *     CLIENTS allocations (each through the 401 challenge) all started at
 *     once, then released; prints allocations/s (first Allocate sent to
 *     success, over the whole batch) and the set-up time's median.
 *   turn_bench alloc-tcp SERVER_PORT USER PASS CLIENTS
 *     the same over TCP (RFC 8656 §3.1): CLIENTS connections opened at
 *     once (non-blocking connect), each client's Allocate once its
 *     connection is up, the engine in stream mode; the set-up time counts
 *     from the connect.
 *   turn_bench relay SERVER_PORT USER PASS PAIRS LEN SECONDS [WINDOW]
 *     PAIRS pairs of clients, each with a channel to its partner's relayed
 *     address (client to client through the server, as turnutils_uclient -y);
 *     every client keeps WINDOW (default 8) ChannelData messages of LEN
 *     bytes in flight for SECONDS; prints relayed packets/s and Mbit/s
 *     (payload delivered to the other client).
 *
 * The server is on 127.0.0.1. One line of figures on stdout, key=value.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "turn.h"

struct cl {
    int fd;
    bool tcp, connected;
    uint32_t rx_len;
    uint8_t rx[4096]; /* over TCP: the server's bytes until a message is whole */
    struct turn_client *t;
    int partner, peer;
    bool allocated, ready, failed, closed;
    uint64_t started, took;
    uint32_t inflight;
    uint64_t recv_pkts;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int die(const char *what)
{
    fprintf(stderr, "turn_bench: %s\n", what);
    return 2;
}

static int open_clients(struct cl *c, int n, uint16_t port, const char *user, const char *pass, uint16_t peers,
                        bool tcp)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < n; i++) {
        memset(&c[i], 0, sizeof(c[i]));
        c[i].tcp = tcp;
        c[i].fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
        int big = 1 << 20;
        setsockopt(c[i].fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        if (c[i].fd < 0 || (connect(c[i].fd, (struct sockaddr *)&to, sizeof(to)) != 0 && errno != EINPROGRESS))
            return -errno;
        c[i].connected = !tcp;
        struct turn_config cfg = {.user = user, .pass = pass, .lifetime_s = 600, .max_peers = peers,
                                  .seed = now_ns() ^ (uint64_t)i << 40, .stream = tcp};
        c[i].t = turn_init(aligned_alloc(64, (turn_size(peers) + 63) & ~(size_t)63), &cfg);
        if (!c[i].t)
            return -EINVAL;
        c[i].peer = -1;
    }
    return 0;
}

static void pump(struct cl *c, uint64_t now)
{
    uint8_t buf[TURN_REQ_MAX];
    size_t n;
    turn_handle_timeout(c->t, now);
    while (c->connected && (n = turn_poll_transmit(c->t, buf, sizeof(buf), now)) > 0)
        if (send(c->fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n && c->tcp)
            fprintf(stderr, "turn_bench: a request did not fit the socket (never seen with these sizes)\n");
    struct turn_ev ev;
    while (turn_poll_event(c->t, &ev) != TURN_EV_NONE) {
        if (ev.type == TURN_EV_ALLOCATED) {
            c->allocated = true;
            c->took = now - c->started;
        } else if (ev.type == TURN_EV_CHANNEL) {
            c->ready = true;
        } else if (ev.type == TURN_EV_FAILED) {
            c->failed = true;
            fprintf(stderr, "turn_bench: a client failed at %s (%u)\n", turn_stage_name(ev.stage), ev.code);
        } else if (ev.type == TURN_EV_CLOSED) {
            c->closed = true;
        }
    }
}

/* One message from the server into client i's engine; data counts as relayed. */
static void feed(struct cl *c, int i, const uint8_t *buf, size_t len, uint64_t now)
{
    struct turn_rx rx;
    turn_handle_input(c[i].t, buf, len, now, &rx);
    if (rx.peer >= 0) {
        c[i].recv_pkts++;
        struct cl *from = &c[c[i].partner];
        if (from->inflight)
            from->inflight--;
    }
}

/* One pass: waits up to 1 ms for datagrams (over TCP: for connections to
 * come up, and for bytes), feeds them in; the data callback counts
 * relayed messages. */
static void step(struct cl *c, int n, struct pollfd *pf)
{
    for (int i = 0; i < n; i++)
        pf[i] = (struct pollfd){.fd = c[i].fd, .events = (short)(c[i].connected ? POLLIN : POLLOUT)};
    if (poll(pf, (nfds_t)n, 1) <= 0)
        return;
    uint64_t now = now_ns();
    uint8_t buf[2048];
    for (int i = 0; i < n; i++) {
        if (!c[i].connected && (pf[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
            int err = 0;
            socklen_t el = sizeof(err);
            getsockopt(c[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
            if (err) {
                c[i].failed = true;
                fprintf(stderr, "turn_bench: a TCP connection failed: %s\n", strerror(err));
                continue;
            }
            c[i].connected = true;
            turn_allocate(c[i].t, now); /* the Allocate goes once the connection is up */
            continue;
        }
        if (!(pf[i].revents & POLLIN))
            continue;
        ssize_t r;
        while ((r = recv(c[i].fd, buf, sizeof(buf), 0)) > 0) {
            if (!c[i].tcp) {
                feed(c, i, buf, (size_t)r, now);
                continue;
            }
            /* the stream: whole messages one at a time, the rest kept */
            if (c[i].rx_len + (size_t)r > sizeof(c[i].rx)) {
                c[i].failed = true;
                fprintf(stderr, "turn_bench: a message longer than %zu bytes on the stream\n", sizeof(c[i].rx));
                break;
            }
            memcpy(c[i].rx + c[i].rx_len, buf, (size_t)r);
            c[i].rx_len += (uint32_t)r;
            uint32_t off = 0;
            int m;
            while ((m = turn_stream_frame(c[i].rx + off, c[i].rx_len - off)) > 0) {
                feed(c, i, c[i].rx + off, (size_t)m, now);
                off += (uint32_t)m;
            }
            if (m < 0) {
                c[i].failed = true;
                fprintf(stderr, "turn_bench: the server's stream does not frame\n");
                break;
            }
            memmove(c[i].rx, c[i].rx + off, c[i].rx_len - off);
            c[i].rx_len -= off;
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int bench_alloc(uint16_t port, const char *user, const char *pass, int n, bool tcp)
{
    struct cl *c = calloc((size_t)n, sizeof(*c));
    struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
    uint64_t t0 = now_ns();
    if (open_clients(c, n, port, user, pass, 1, tcp) < 0)
        return die("cannot open the clients' sockets (ulimit -n?)");
    for (int i = 0; i < n; i++) {
        c[i].started = t0;
        if (!tcp)
            turn_allocate(c[i].t, t0);
    }
    int done = 0;
    uint64_t last = t0;
    while (done < n && now_ns() - t0 < 60000000000ull) {
        uint64_t now = now_ns();
        done = 0;
        for (int i = 0; i < n; i++) {
            pump(&c[i], now);
            done += c[i].allocated || c[i].failed;
            if (c[i].allocated && c[i].took + t0 > last)
                last = c[i].took + t0;
        }
        step(c, n, pf);
    }
    int ok = 0, failed = 0;
    uint64_t *took = calloc((size_t)n, sizeof(*took));
    for (int i = 0; i < n; i++) {
        if (c[i].allocated)
            took[ok++] = c[i].took;
        failed += c[i].failed;
    }
    qsort(took, (size_t)ok, sizeof(*took), cmp_u64);
    double secs = (double)(last - t0) / 1e9;
    /* release them all (not timed) */
    uint64_t now = now_ns();
    for (int i = 0; i < n; i++)
        turn_close(c[i].t, now);
    for (int k = 0; k < 5000; k++) {
        int closed = 0;
        now = now_ns();
        for (int i = 0; i < n; i++) {
            pump(&c[i], now);
            closed += c[i].closed || c[i].failed;
        }
        if (closed == n)
            break;
        step(c, n, pf);
    }
    int released = 0;
    for (int i = 0; i < n; i++)
        released += c[i].closed && turn_counters(c[i].t)->errors == 0;
    printf("mode=%s clients=%d allocated=%d failed=%d released=%d seconds=%.3f allocs_per_s=%.0f "
           "setup_p50_ms=%.2f\n",
           tcp ? "alloc-tcp" : "alloc", n, ok, failed, released, secs, secs > 0 ? ok / secs : 0.0, ok ? (double)took[ok / 2] / 1e6 : 0.0);
    return ok == n && released == n ? 0 : 1;
}

static int bench_relay(uint16_t port, const char *user, const char *pass, int pairs, int len, int secs, int window)
{
    int n = 2 * pairs;
    struct cl *c = calloc((size_t)n, sizeof(*c));
    struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
    if (len < 1 || len > 1400 || window < 1 || open_clients(c, n, port, user, pass, 1, false) < 0)
        return die("bad arguments or sockets");
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        c[i].partner = i ^ 1;
        turn_allocate(c[i].t, t0);
    }
    /* allocate all, then give each a channel to its partner's relayed address */
    for (int added = 0; added < n && now_ns() - t0 < 30000000000ull;) {
        uint64_t now = now_ns();
        for (int i = 0; i < n; i++) {
            pump(&c[i], now);
            struct cl *p = &c[c[i].partner];
            if (c[i].peer < 0 && c[i].allocated && p->allocated) {
                c[i].peer = turn_add_peer(c[i].t, turn_relayed(p->t), true, now);
                added++;
            }
        }
        step(c, n, pf);
    }
    int ready = 0;
    while (ready < n && now_ns() - t0 < 30000000000ull) {
        uint64_t now = now_ns();
        ready = 0;
        for (int i = 0; i < n; i++) {
            pump(&c[i], now);
            ready += c[i].ready;
        }
        step(c, n, pf);
    }
    if (ready < n)
        return die("not every client got its channel");
    uint8_t msg[1400], out[1500];
    memset(msg, 0x5a, sizeof(msg));
    uint64_t start = now_ns(), end = start + (uint64_t)secs * 1000000000ull, sent = 0;
    for (int i = 0; i < n; i++)
        c[i].recv_pkts = 0;
    while (now_ns() < end) {
        for (int i = 0; i < n; i++) {
            while (c[i].inflight < (uint32_t)window) {
                int l = turn_wrap(c[i].t, c[i].peer, msg, (size_t)len, out, sizeof(out));
                if (l <= 0 || send(c[i].fd, out, (size_t)l, 0) != l)
                    break;
                c[i].inflight++;
                sent++;
            }
        }
        step(c, n, pf);
        /* a message lost in the server or a socket would hold a window
         * slot for good: reopen the window every 100 ms */
        static uint64_t reopen;
        uint64_t now = now_ns();
        if (now - reopen > 100000000ull) {
            reopen = now;
            for (int i = 0; i < n; i++)
                c[i].inflight = 0;
        }
    }
    double el = (double)(now_ns() - start) / 1e9;
    uint64_t got = 0;
    for (int i = 0; i < n; i++)
        got += c[i].recv_pkts;
    printf("mode=relay pairs=%d len=%d seconds=%.2f sent=%llu relayed=%llu relayed_pps=%.0f relayed_mbit_s=%.1f "
           "lost_pct=%.2f\n",
           pairs, len, el, (unsigned long long)sent, (unsigned long long)got, got / el, got * (double)len * 8 / el / 1e6,
           sent ? 100.0 * (double)(sent - got) / (double)sent : 0.0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "alloc"))
        return bench_alloc((uint16_t)atoi(argv[2]), argv[3], argv[4], atoi(argv[5]), false);
    if (argc >= 6 && !strcmp(argv[1], "alloc-tcp"))
        return bench_alloc((uint16_t)atoi(argv[2]), argv[3], argv[4], atoi(argv[5]), true);
    if (argc >= 8 && !strcmp(argv[1], "relay"))
        return bench_relay((uint16_t)atoi(argv[2]), argv[3], argv[4], atoi(argv[5]), atoi(argv[6]), atoi(argv[7]),
                           argc > 8 ? atoi(argv[8]) : 8);
    fprintf(stderr, "usage: turn_bench alloc|alloc-tcp PORT USER PASS CLIENTS | relay PORT USER PASS PAIRS LEN SECONDS [WINDOW]\n");
    return 2;
}
