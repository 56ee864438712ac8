/* SPDX-License-Identifier: MIT */
/*
 * SCTP benchmark: one association, both ends in this process on one core,
 * packets handed straight from one end to the other (no loss, no delay),
 * messages sent one way as fast as the windows let them, counted when the
 * receiving application has them. The same loop drives our engine (two
 * sctp_assocs) and usrsctp (two AF_CONN sockets in its thread-less mode, its
 * timers advanced by the elapsed milliseconds). Prints messages per second
 * and ns per message for 100 B and 1 KiB messages, the medians of REPS
 * rounds side by side, and the ratio. Not a test.
 *   build-release/bench/sctp/sctp_bench [REPS] [MESSAGES]
 * SCTP_BENCH_CLOCK=cpu times (and drives both engines' clocks) with this
 * thread's CPU time instead of the wall clock: on a busy shared machine
 * the time other processes take the core is then not counted.
 * SCTP_BENCH_OURS=1 skips usrsctp (its columns print 0).
 * SCTP_BENCH_TWOWAY=1 sends MESSAGES each way at once (our engine only:
 * usrsctp is skipped) and times per message delivered (both directions):
 * the receiver's delayed SACKs then have DATA to ride on.
 * The last two columns are our engine's packets per message (both ends)
 * and, of them, the packets that carry a SACK and nothing else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <usrsctp.h>

#include "bench.h"
#include "sctp.h"

static bool cpu_clock, two_way;
static uint64_t pkts_out, sack_only_out; /* our engine, last round */

/* the wall clock (bench_now_ns) or, with SCTP_BENCH_CLOCK=cpu, this
 * thread's CPU time, in ns */
static double now_ns(void)
{
    if (!cpu_clock)
        return bench_now_ns();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- a FIFO of packets in flight ---- */

#define QCAP 4096
struct pkt {
    uint16_t len, to;
    uint8_t data[1500];
};
static struct pkt *q;
static unsigned q_head, q_tail;

static void q_push(const void *d, size_t len, uint16_t to)
{
    if (q_tail - q_head == QCAP || len > 1500) {
        fprintf(stderr, "sctp_bench: packet queue overflow\n");
        exit(1);
    }
    struct pkt *p = &q[q_tail++ % QCAP];
    p->len = (uint16_t)len;
    p->to = to;
    memcpy(p->data, d, len);
}

/* ---- our engine ---- */

/* a packet whose one chunk is a SACK */
static bool sack_only(const uint8_t *p, size_t n)
{
    if (n < 16 || p[12] != 3)
        return false;
    size_t clen = (size_t)p[14] << 8 | p[15];
    return 12 + ((clen + 3) & ~(size_t)3) == n;
}

static double run_ours(size_t size, uint32_t count)
{
    struct sctp_config c;
    sctp_config_default(&c);
    c.dcep = false;
    c.sndbuf = c.rwnd = 4u << 20;
    const uint32_t nbuf = 8192;
    void *am[2], *pm[2];
    struct sctp_assoc *a[2];
    for (int i = 0; i < 2; i++) {
        pm[i] = aligned_alloc(64, (sctp_pool_size(nbuf, 1200) + 63) & ~(size_t)63);
        am[i] = aligned_alloc(64, sctp_assoc_size(c.n_streams));
        c.seed = (uint64_t)i + 1;
        a[i] = sctp_assoc_init(am[i], &c, sctp_pool_init(pm[i], nbuf, 1200), (uint64_t)now_ns());
    }
    uint8_t *msg = calloc(1, size), buf[1500], *rbuf = malloc(1u << 20);
    struct sctp_ev ev = {.buf = rbuf, .cap = 1u << 20};
    uint32_t sent[2] = {0, 0}, got = 0, want = two_way ? 2 * count : count;
    bool up = false;
    pkts_out = sack_only_out = 0;
    sctp_connect(a[0], (uint64_t)now_ns());
    double t0 = 0;
    while (got < want) {
        uint64_t now = (uint64_t)now_ns();
        if (up && !t0)
            t0 = (double)now;
        for (int i = 0; i < (two_way ? 2 : 1); i++)
            while (up && sent[i] < count && sctp_send(a[i], (uint16_t)(1 + i), 53, msg, size, NULL, now) == 0)
                sent[i]++;
        for (int i = 0; i < 2; i++) {
            if (sctp_next_timeout(a[i]) <= now)
                sctp_handle_timeout(a[i], now);
            size_t n;
            while ((n = sctp_poll_transmit(a[i], buf, sizeof(buf), now)) > 0) {
                q_push(buf, n, (uint16_t)(1 - i));
                pkts_out++;
                sack_only_out += sack_only(buf, n);
            }
        }
        while (q_head != q_tail) {
            struct pkt *p = &q[q_head++ % QCAP];
            sctp_handle_input(a[p->to], p->data, p->len, now);
        }
        for (int i = 0; i < 2; i++)
            while (sctp_poll_event(a[i], &ev) != SCTP_EV_NONE) {
                if (ev.type == SCTP_EV_UP && i == 0)
                    up = true;
                if (ev.type == SCTP_EV_MESSAGE)
                    got++;
            }
    }
    double dt = now_ns() - t0;
    for (int i = 0; i < 2; i++) {
        free(am[i]);
        free(pm[i]);
    }
    free(msg);
    free(rbuf);
    return dt / want;
}

/* ---- usrsctp ---- */

static uint8_t usr_addr;

static int usr_out(void *addr, void *buf, size_t len, uint8_t tos, uint8_t df)
{
    (void)addr;
    (void)tos;
    (void)df;
    q_push(buf, len, 0); /* one address: usrsctp demultiplexes by port */
    return 0;
}

static struct socket *usr_sock(uint16_t port)
{
    struct socket *s = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!s)
        return NULL;
    usrsctp_set_non_blocking(s, 1);
    const int on = 1, big = 8 << 20;
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on));
    usrsctp_setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    usrsctp_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct sockaddr_conn sc = {.sconn_family = AF_CONN, .sconn_port = htons(port), .sconn_addr = &usr_addr};
    if (usrsctp_bind(s, (struct sockaddr *)&sc, sizeof(sc)) < 0)
        return NULL;
    return s;
}

static double run_usrsctp(size_t size, uint32_t count)
{
    struct socket *l = usr_sock(5000), *c = usr_sock(5001), *s = NULL;
    if (!l || !c || usrsctp_listen(l, 1) < 0) {
        fprintf(stderr, "sctp_bench: usrsctp sockets: %s\n", strerror(errno));
        exit(1);
    }
    struct sockaddr_conn to = {.sconn_family = AF_CONN, .sconn_port = htons(5000), .sconn_addr = &usr_addr};
    usrsctp_connect(c, (struct sockaddr *)&to, sizeof(to));
    struct sctp_sndinfo si = {.snd_sid = 1, .snd_ppid = htonl(53), .snd_flags = SCTP_EOR};
    uint8_t *msg = calloc(1, size), *rbuf = malloc(1u << 20);
    uint32_t sent = 0, got = 0;
    double t0 = 0, last_tick = now_ns();
    while (got < count) {
        double now = now_ns();
        if (now - last_tick >= 1e6) {
            usrsctp_handle_timers((uint32_t)((now - last_tick) / 1e6));
            last_tick = now;
        }
        if (!s && (s = usrsctp_accept(l, NULL, NULL)) != NULL)
            usrsctp_set_non_blocking(s, 1);
        if (s && !t0)
            t0 = now;
        while (s && sent < count &&
               usrsctp_sendv(c, msg, size, NULL, 0, &si, sizeof(si), SCTP_SENDV_SNDINFO, 0) >= 0)
            sent++;
        while (q_head != q_tail) {
            struct pkt *p = &q[q_head++ % QCAP];
            usrsctp_conninput(&usr_addr, p->data, p->len, 0);
        }
        for (; s;) {
            struct sctp_rcvinfo ri;
            socklen_t il = sizeof(ri), fl = 0;
            unsigned int it = 0;
            int flags = 0;
            ssize_t n = usrsctp_recvv(s, rbuf, 1u << 20, NULL, &fl, &ri, &il, &it, &flags);
            if (n <= 0)
                break;
            if (flags & MSG_EOR)
                got++;
        }
    }
    double dt = now_ns() - t0;
    usrsctp_close(c);
    usrsctp_close(s);
    usrsctp_close(l);
    /* let the closes finish */
    for (int i = 0; i < 100 && q_head != q_tail; i++)
        while (q_head != q_tail) {
            struct pkt *p = &q[q_head++ % QCAP];
            usrsctp_conninput(&usr_addr, p->data, p->len, 0);
        }
    free(msg);
    free(rbuf);
    return dt / count;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    long count = argc > 2 ? atol(argv[2]) : 200000;
    if (reps < 1 || reps > 50 || count < 1000 || count > 10000000) {
        fprintf(stderr, "usage: sctp_bench [REPS 1..50] [MESSAGES 1000..10000000]\n");
        return 2;
    }
    const char *clk = getenv("SCTP_BENCH_CLOCK"), *ours_only = getenv("SCTP_BENCH_OURS");
    const char *tw = getenv("SCTP_BENCH_TWOWAY");
    cpu_clock = clk && strcmp(clk, "cpu") == 0;
    two_way = tw && strcmp(tw, "1") == 0;
    bool with_usrsctp = !(ours_only && strcmp(ours_only, "1") == 0) && !two_way;
    q = calloc(QCAP, sizeof(*q));
    usrsctp_init_nothreads(0, usr_out, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_register_address(&usr_addr);
    const size_t sizes[] = {100, 1024};
    printf("SCTP, one association, both ends on one core, %ld messages %s, median of %d (%s time)\n",
           count, two_way ? "each way" : "one way", reps, cpu_clock ? "CPU" : "wall");
    printf("%-8s %14s %12s %14s %12s %8s %9s %9s\n", "size", "ours msg/s", "ours ns", "usrsctp msg/s",
           "usrsctp ns", "ratio", "pkts/msg", "sack-only");
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        double o[50], u[50], pk[50], so[50];
        for (int r = 0; r < reps; r++) { /* interleaved, so both see the same machine */
            o[r] = run_ours(sizes[k], (uint32_t)count);
            double msgs = (double)count * (two_way ? 2 : 1);
            pk[r] = (double)pkts_out / msgs;
            so[r] = (double)sack_only_out / msgs;
            u[r] = with_usrsctp ? run_usrsctp(sizes[k], (uint32_t)count) : 1e300;
        }
        double mo = bench_median(o, reps), mu = bench_median(u, reps);
        if (!with_usrsctp)
            mu = 0;
        printf("%-8zu %14.0f %12.1f %14.0f %12.1f %7.2fx %9.3f %9.3f\n", sizes[k], 1e9 / mo, mo,
               mu ? 1e9 / mu : 0, mu, mu / mo, bench_median(pk, reps), bench_median(so, reps));
    }
    return 0;
}
