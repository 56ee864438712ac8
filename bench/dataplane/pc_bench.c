/* SPDX-License-Identifier: MIT */
/*
 * Peer connections on one core, in memory (no ports): N connections, both
 * endpoints simulated, set up through ICE, our DTLS handshake (one
 * certificate per agent, handshake slots capped), SCTP and DCEP, then M
 * messages of 64 bytes each way on every DataChannel. Beside it, in the
 * same run and the same loop shape: N bare DTLS handshakes of ours, and N
 * of mbedTLS 2.28 (the engine swarmgen used before; its handshakes alone
 * bound what a set-up on it could reach). Prints set-ups per second on
 * this core, the ratio to mbedTLS, where a handshake's time goes (public-
 * key operations against everything else, timed by a wrapping provider in
 * a separate round so the timing does not slow the figures above), the
 * steady-state message rate and the bytes an established connection
 * keeps. Not a dataplane figure: no frames, no ports. Medians of REPS
 * rounds, interleaved.
 *
 * --dtls LIST (1.2, 1.3, auto, comma separated; default 1.2): the set-up
 * and our bare handshakes once per entry, both ends offering (client) or
 * accepting (server) those versions, side by side in one run. Each row
 * names the version the handshakes negotiated, counted from
 * pc_dtls_version / dtls_version, never the one asked. The figures above
 * the rows are the first entry's.
 *   build-release/bench/dataplane/pc_bench [--dtls LIST] [CONNECTIONS] [MESSAGES] [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "pc.h"
#include "mbed_dtls.h"
#include "timed_cp.h"

#define NCERT 64 /* agents: connection c joins agents 2c and 2c+1 (mod NCERT) */
#define SLOTS 64
#define QCAP (1u << 16)

struct dgram {
    uint32_t to;
    uint16_t len;
    uint8_t d[1232];
};

static struct dgram *q;
static uint32_t qh, qt;
static struct dtls_cert certs[NCERT];

#define MAX_VERSIONS 3 /* --dtls entries */

/* Handshakes that negotiated each version: [0] DTLS 1.2, [1] 1.3, [2] neither (0). */
static void count_version(uint64_t *neg, uint16_t v)
{
    neg[v == DTLS_V12 ? 0 : v == DTLS_V13 ? 1 : 2]++;
}

/* Gives endpoint i its timeout when due and queues what it sends for its
 * peer, endpoint i ^ 1. */
static void pump(struct pc *pc, uint32_t i, uint64_t now)
{
    struct pc *p = &pc[i];
    if (pc_next_timeout(p) <= now)
        pc_handle_timeout(p, now);
    size_t len;
    while ((len = pc_poll_transmit(p, q[qt % QCAP].d, sizeof(q[0].d), now)) > 0) {
        q[qt % QCAP].to = i ^ 1;
        q[qt % QCAP].len = (uint16_t)len;
        qt++;
    }
}

/* Hands the oldest queued datagram to its endpoint; returns the endpoint. */
static uint32_t deliver(struct pc *pc, uint64_t now)
{
    struct dgram *g = &q[qh++ % QCAP];
    pc_handle_input(&pc[g->to], g->d, g->len, now);
    return g->to;
}

static void run(const struct cp *cp, uint32_t n, uint32_t msgs, uint8_t versions, double *setup_s, double *msg_s,
                double *dg_s, size_t *bytes, uint64_t *neg)
{
    struct pc *pc = aligned_alloc(64, sizeof(struct pc) * 2 * n);
    struct pc_setup *su = aligned_alloc(64, sizeof(struct pc_setup) * 2 * n);
    /* as in the dataplane: one key area per connection, its two ends
     * sharing it; one counters block for all */
    size_t ks = dtls_record_keys_size();
    uint8_t *keys = aligned_alloc(64, ks * n);
    memset(keys, 0, ks * n);
    static struct pc_counters cnt;
    uint8_t *amem = aligned_alloc(64, sctp_assoc_size(16) * 2 * n);
    const uint32_t nbuf = 64 * n + 4096;
    void *pmem = aligned_alloc(64, (sctp_pool_size(nbuf, 1200) + 63) & ~(size_t)63);
    struct sctp_pool *pool = sctp_pool_init(pmem, nbuf, 1200);
    struct dtls_hs_pool hs;
    dtls_hs_pool_init(&hs, SLOTS);
    static char uf[2][16], pw[2][32];
    uint32_t started = 0, up = 0, failed = 0;
    uint64_t t0 = (uint64_t)bench_now_ns(), dgrams = 0;
    uint8_t *up_flag = calloc(2 * n, 1), buf[1 << 16];
    uint32_t in_setup = 0, act[SLOTS / 2];
    /* set-up: start connections while slots allow two per connection; only
     * those in set-up are visited */
    while (up + failed < n) {
        uint64_t now = (uint64_t)bench_now_ns();
        while (started < n && in_setup < SLOTS / 2) {
            uint32_t c = started++;
            act[in_setup] = c;
            for (int s = 0; s < 2; s++) {
                snprintf(uf[s], sizeof(uf[s]), "u%u%c", c, 'a' + s);
                snprintf(pw[s], sizeof(pw[s]), "password-%u-%c-0123456789", c, 'a' + s);
            }
            for (int s = 0; s < 2; s++) {
                struct pc_config cfg = {.controlling = s == 0, .local_ufrag = uf[s], .local_pwd = pw[s],
                                           .remote_ufrag = uf[1 - s], .remote_pwd = pw[1 - s],
                                           .peer = {4, (uint16_t)(5000 + (1 - s)), {198, 18, (uint8_t)(c >> 8), (uint8_t)c}},
                                           .cert = &certs[(2 * c + (uint32_t)s) % NCERT],
                                           .peer_fingerprint = certs[(2 * c + 1 - (uint32_t)s) % NCERT].fingerprint,
                                           .cp = cp, .hs = &hs, .sctp_mem = amem + sctp_assoc_size(16) * (2 * c + (uint32_t)s),
                                           .sctp_pool = pool, .seed = 2 * c + (uint32_t)s + 1,
                                           .setup = &su[2 * c + (uint32_t)s],
                                           .rec_keys = (struct dtls_record_keys *)(void *)(keys + ks * c),
                                           .counters = &cnt, .dtls_versions = versions};
                if (pc_init(&pc[2 * c + (uint32_t)s], &cfg, now) != 0)
                    exit(1);
            }
            in_setup++;
        }
        for (uint32_t k = 0; k < 2 * in_setup; k++)
            pump(pc, 2 * act[k / 2] + (k & 1), now);
        while (qh != qt) {
            uint32_t to = deliver(pc, now);
            dgrams++;
            struct pc_ev ev = {.buf = buf, .cap = sizeof(buf)};
            enum pc_event_type e;
            while ((e = pc_poll_event(&pc[to], &ev)) != PC_EV_NONE) {
                bool end = false;
                if (e == PC_EV_UP && !up_flag[to]) {
                    up_flag[to] = 1;
                    if (up_flag[to ^ 1] == 1) {
                        up++;
                        end = true;
                        count_version(neg, pc_dtls_version(&pc[to]));
                        /* established: the set-up state goes back, as in the dataplane */
                        pc_release_setup(&pc[to]);
                        pc_release_setup(&pc[to ^ 1]);
                    }
                } else if (e == PC_EV_FAILED && !up_flag[to]) {
                    up_flag[to] = 2;
                    failed++;
                    end = true;
                }
                for (uint32_t k = 0; end && k < in_setup; k++)
                    if (act[k] == to / 2) {
                        act[k] = act[--in_setup];
                        break;
                    }
            }
        }
    }
    uint64_t t1 = (uint64_t)bench_now_ns();
    *setup_s = (double)up / ((double)(t1 - t0) / 1e9);
    /* messages: every connection, both ways */
    uint8_t m[64];
    memset(m, 0x42, sizeof(m));
    uint64_t got = 0, want = (uint64_t)up * 2 * msgs, d0 = dgrams;
    uint32_t *sent = calloc(2 * n, sizeof(uint32_t));
    t0 = (uint64_t)bench_now_ns();
    while (got < want) {
        uint64_t now = (uint64_t)bench_now_ns();
        for (uint32_t i = 0; i < 2 * n; i++) {
            while (sent[i] < msgs && pc_stage(&pc[i]) == PC_UP && pc_send(&pc[i], m, sizeof(m), now) == 0)
                sent[i]++;
            pump(pc, i, now);
        }
        while (qh != qt) {
            uint32_t to = deliver(pc, now);
            dgrams++;
            struct pc_ev ev = {.buf = buf, .cap = sizeof(buf)};
            while (pc_poll_event(&pc[to], &ev) == PC_EV_MESSAGE)
                got++;
        }
    }
    t1 = (uint64_t)bench_now_ns();
    *msg_s = (double)got / ((double)(t1 - t0) / 1e9);
    *dg_s = (double)(dgrams - d0) / ((double)(t1 - t0) / 1e9);
    *bytes = sizeof(struct pc) + sctp_assoc_size(16) + ks / 2;
    if (failed)
        fprintf(stderr, "pc_bench: %u connections failed\n", failed);
    for (uint32_t i = 0; i < 2 * n; i++)
        pc_free(&pc[i]);
    dtls_hs_pool_destroy(&hs);
    free(pc);
    free(su);
    free(keys);
    free(amem);
    free(pmem);
    free(up_flag);
    free(sent);
}

/* ---- bare handshakes: ours and mbedTLS's through one loop ---- */

/* A handshake implementation as the loop drives it. */
struct hs_impl {
    const char *name;
    size_t size; /* bytes of one endpoint */
    /* sets endpoint ep of connection c up (server when s == 1) */
    int (*init)(void *ep, int s, uint32_t c, uint64_t now);
    const struct dtls_peer_ops *ops; /* input, transmit, state and free of an endpoint */
    uint16_t (*version)(void *ep);   /* the negotiated version; NULL: DTLS 1.2 only */
};

/* ours: the endpoint and its record layer side by side, with the record's
 * own key area and counters */
struct ours_ep {
    _Alignas(64) uint8_t e[4096];
    struct dtls_record rec;
    struct dtls_record_keys keys;
    struct dtls_record_counters counters;
};
static const struct cp *ours_cp;
static uint8_t ours_versions; /* dtls_config.versions of the bare handshakes */

static int ours_init(void *p, int s, uint32_t c, uint64_t now)
{
    struct ours_ep *o = p;
    dtls_record_keys_clear(&o->keys);
    memset(&o->counters, 0, sizeof(o->counters));
    dtls_record_reset(&o->rec, &o->keys, &o->counters, s == 0);
    struct dtls_config cfg = {.is_server = s == 1,
                              .cp = ours_cp,
                              .cert = &certs[(2 * c + (uint32_t)s) % NCERT],
                              .peer_fingerprint = certs[(2 * c + 1 - (uint32_t)s) % NCERT].fingerprint,
                              .rec = &o->rec,
                              .srtp = DTLS_SRTP_AES128_CM_SHA1_80,
                              .versions = ours_versions};
    return dtls_init((struct dtls_endpoint *)o->e, &cfg, now);
}

static struct dtls_endpoint *ours_endpoint(void *p)
{
    return (struct dtls_endpoint *)((struct ours_ep *)p)->e;
}

static void ours_input(void *p, const uint8_t *d, size_t len, uint64_t now)
{
    dtls_handle_input(ours_endpoint(p), d, len, now);
}

static size_t ours_transmit(void *p, uint8_t *buf, size_t cap, uint64_t now)
{
    return dtls_poll_transmit(ours_endpoint(p), buf, cap, now);
}

static uint64_t ours_next_timeout(void *p)
{
    return dtls_next_timeout(ours_endpoint(p));
}

static void ours_timeout(void *p, uint64_t now)
{
    dtls_handle_timeout(ours_endpoint(p), now);
}

static int ours_state(void *p)
{
    const struct dtls_endpoint *e = ours_endpoint(p);
    return dtls_connected(e) ? 1 : dtls_failed(e) ? -1 : 0;
}

static void ours_free(void *p)
{
    dtls_free(ours_endpoint(p));
    dtls_record_free(&((struct ours_ep *)p)->rec);
}

static const struct dtls_peer_ops ours_ops = {ours_input, ours_transmit, ours_next_timeout, ours_timeout,
                                              ours_state, ours_free};
static uint16_t ours_version(void *p)
{
    return dtls_version(ours_endpoint(p));
}

static const struct hs_impl ours = {"ours", sizeof(struct ours_ep), ours_init, &ours_ops, ours_version};

/* mbedTLS 2.28: the same configuration (mutual authentication by
 * fingerprint, the suites, X25519 first, use_srtp), no cookies (as ours) */
static struct mbed_dtls_cert mcerts[NCERT];

static int mbed_init(void *p, int s, uint32_t c, uint64_t now)
{
    struct mbed_dtls_config cfg = {.is_server = s == 1,
                                   .cert = &mcerts[(2 * c + (uint32_t)s) % NCERT],
                                   .peer_fingerprint = mcerts[(2 * c + 1 - (uint32_t)s) % NCERT].fingerprint,
                                   .seed = 2ull * c + (uint64_t)s + 1,
                                   .srtp = MBED_DTLS_SRTP_80};
    return mbed_dtls_init(p, &cfg, now);
}

static const struct hs_impl mbed = {"mbedTLS", (sizeof(struct mbed_dtls) + 63) & ~(size_t)63, mbed_init,
                                    &mbed_dtls_peer_ops, NULL};

/* n handshakes, SLOTS / 2 at once, both ends on this core: handshakes/s;
 * with `neg`, the versions they negotiated counted there. */
static double run_hs(const struct hs_impl *im, uint32_t n, uint64_t *neg)
{
    const uint32_t par = SLOTS / 2;
    uint8_t *mem = aligned_alloc(64, im->size * 2 * par);
    uint32_t *conn = calloc(par, sizeof(uint32_t));
    bool *busy = calloc(par, sizeof(bool));
    uint32_t started = 0, done = 0, failed = 0;
    uint8_t buf[2048];
    double t0 = bench_now_ns();
    while (done + failed < n) {
        uint64_t now = (uint64_t)bench_now_ns();
        for (uint32_t k = 0; k < par; k++) {
            void *ep[2] = {mem + im->size * 2 * k, mem + im->size * (2 * k + 1)};
            if (!busy[k]) {
                if (started == n)
                    continue;
                conn[k] = started++;
                if (im->init(ep[1], 1, conn[k], now) != 0 || im->init(ep[0], 0, conn[k], now) != 0)
                    exit(1);
                busy[k] = true;
            }
            for (int moved = 1; moved;) {
                moved = 0;
                for (int s = 0; s < 2; s++) {
                    size_t len;
                    while ((len = im->ops->transmit(ep[s], buf, sizeof(buf), now)) > 0) {
                        im->ops->input(ep[1 - s], buf, len, now);
                        moved = 1;
                    }
                }
            }
            int a = im->ops->state(ep[0]), b = im->ops->state(ep[1]);
            if ((a == 1 && b == 1) || a < 0 || b < 0) {
                if (a == 1 && b == 1) {
                    done++;
                    if (neg)
                        count_version(neg, im->version ? im->version(ep[0]) : DTLS_V12);
                } else
                    failed++;
                im->ops->free(ep[0]);
                im->ops->free(ep[1]);
                busy[k] = false;
            }
        }
    }
    double rate = (double)done / ((bench_now_ns() - t0) / 1e9);
    if (failed)
        fprintf(stderr, "pc_bench: %u %s handshakes failed\n", failed, im->name);
    free(mem);
    free(conn);
    free(busy);
    return rate;
}

/* --dtls LIST: 1.2, 1.3, auto, comma separated, into dtls_config.versions
 * bits. Returns the entries (1..MAX_VERSIONS), 0 when LIST is bad. */
static int parse_versions(const char *list, uint8_t *v, const char **name)
{
    static const struct {
        const char *name;
        uint8_t bits;
    } known[] = {{"1.2", DTLS_OFFER_V12}, {"1.3", DTLS_OFFER_V13}, {"auto", DTLS_OFFER_ALL_VERSIONS}};
    int n = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (strlen(known[i].name) == len && strncmp(p, known[i].name, len) == 0)
                k = i;
        if (k < 0 || n == MAX_VERSIONS)
            return 0;
        v[n] = known[k].bits;
        name[n++] = known[k].name;
        p += len + (p[len] == ',');
    }
    return n;
}

/* The versions a round's handshakes negotiated: "1.2 x 2000, 1.3 x 0". */
static const char *negotiated(const uint64_t *neg, char *buf, size_t cap)
{
    int w = snprintf(buf, cap, "1.2 x %llu, 1.3 x %llu", (unsigned long long)neg[0], (unsigned long long)neg[1]);
    if (neg[2] && w > 0 && (size_t)w < cap)
        snprintf(buf + w, cap - (size_t)w, ", none x %llu", (unsigned long long)neg[2]);
    return buf;
}

int main(int argc, char **argv)
{
    uint8_t ver[MAX_VERSIONS] = {DTLS_OFFER_V12};
    const char *ver_name[MAX_VERSIONS] = {"1.2"};
    int n_ver = 1;
    if (argc > 2 && strcmp(argv[1], "--dtls") == 0) {
        n_ver = parse_versions(argv[2], ver, ver_name);
        if (!n_ver) {
            fprintf(stderr, "pc_bench: --dtls: '%s' is not a list of 1.2, 1.3, auto (at most %d)\n", argv[2],
                    MAX_VERSIONS);
            return 2;
        }
        argc -= 2;
        argv += 2;
    }
    long n = argc > 1 ? atol(argv[1]) : 2000, msgs = argc > 2 ? atol(argv[2]) : 200;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (n < 1 || n > 20000 || msgs < 1 || msgs > 100000 || reps < 1 || reps > 20) {
        fprintf(stderr, "usage: pc_bench [--dtls 1.2|1.3|auto[,...]] [CONNECTIONS 1..20000] [MESSAGES 1..100000] "
                        "[REPS 1..20]\n");
        return 2;
    }
    q = calloc(QCAP, sizeof(*q));
    struct cp cp;
    if (cp_default_create(&cp) != 0)
        return 1;
    ours_cp = &cp;
    double g0 = bench_now_ns();
    for (int i = 0; i < NCERT; i++)
        if (dtls_cert_generate(&certs[i], &cp) != 0)
            return 1;
    double cert_us = (bench_now_ns() - g0) / 1e3 / NCERT;
    for (int i = 0; i < NCERT; i++)
        if (mbed_dtls_cert_generate(&mcerts[i], (uint64_t)i + 1) != 0)
            return 1;
    /* the mbedTLS path is two orders slower: a tenth of the connections */
    uint32_t n_mbed = (uint32_t)(n / 10 > 20 ? n / 10 : 20);
    double su[MAX_VERSIONS][20], ms[MAX_VERSIONS][20], dg[MAX_VERSIONS][20], hs[MAX_VERSIONS][20], mb[20];
    uint64_t neg_pc[MAX_VERSIONS][3] = {{0}}, neg_hs[MAX_VERSIONS][3] = {{0}};
    size_t bytes = 0;
    for (int r = 0; r < reps; r++) {
        for (int v = 0; v < n_ver; v++) {
            run(&cp, (uint32_t)n, (uint32_t)msgs, ver[v], &su[v][r], &ms[v][r], &dg[v][r], &bytes, neg_pc[v]);
            ours_versions = ver[v];
            hs[v][r] = run_hs(&ours, (uint32_t)n, neg_hs[v]);
        }
        mb[r] = run_hs(&mbed, n_mbed, NULL);
    }
    ours_versions = ver[0];
    /* where the time goes: one more round of each through a timing provider */
    struct timed_cp t;
    struct cp tcp = timed_cp_wrap(&t, &cp);
    ours_cp = &tcp;
    double h0 = bench_now_ns();
    double rate = run_hs(&ours, (uint32_t)n, NULL);
    double hs_ns = bench_now_ns() - h0;
    double pk_ns = t.ns[TK_KEYGEN] + t.ns[TK_ECDH] + t.ns[TK_SIGN] + t.ns[TK_VERIFY];
    struct timed_cp tp = t;
    timed_cp_reset(&t);
    double s0, m0, d0;
    size_t b0;
    double p0 = bench_now_ns();
    uint64_t neg_timed[3] = {0};
    run(&tcp, (uint32_t)n, 1, ver[0], &s0, &m0, &d0, &b0, neg_timed);
    double pc_ns = bench_now_ns() - p0;
    double pc_pk = t.ns[TK_KEYGEN] + t.ns[TK_ECDH] + t.ns[TK_SIGN] + t.ns[TK_VERIFY];

    double mhs = bench_median(hs[0], reps), mmb = bench_median(mb, reps), msu = bench_median(su[0], reps);
    char nb[96];
    printf("peer connections on one core, in memory: %ld connections (both ends), %ld x 64 B each way, median of %d\n",
           n, msgs, reps);
    printf("DTLS asked --dtls %s, negotiated %s (set-ups of all rounds)\n", ver_name[0],
           negotiated(neg_pc[0], nb, sizeof(nb)));
    printf("set-up (ICE + DTLS + SCTP + DCEP)   %10.0f connections/s  (%.1fx mbedTLS handshakes alone)\n", msu,
           msu / mmb);
    printf("DTLS handshakes, ours               %10.0f /s\n", mhs);
    printf("DTLS handshakes, mbedTLS 2.28       %10.0f /s  (%u of them a round; ours %.1fx)\n", mmb, n_mbed,
           mhs / mmb);
    printf("DataChannel messages                %10.0f msg/s\n", bench_median(ms[0], reps));
    printf("datagrams (DTLS records)            %10.0f /s\n", bench_median(dg[0], reps));
    printf("state per established endpoint      %10zu bytes (struct pc + SCTP association with 16 streams and own counters + half a key area)\n", bytes);
    printf("handshake slot                      %10zu bytes (no heap)\n", dtls_endpoint_size());
    printf("certificate generation              %10.1f us each (ECDSA P-256, self-signed)\n", cert_us);
    printf("\nwhere a handshake's time goes (one timed round, %ld handshakes at %.0f/s, both ends):\n", n, rate);
    for (int k = 0; k < TK_COUNT; k++)
        printf("  %-24s %8.1f us per handshake  %5.1f%%  (%.1f calls)\n", timed_kind_names[k], tp.ns[k] / 1e3 / n,
               100 * tp.ns[k] / hs_ns, (double)tp.calls[k] / n);
    printf("  %-24s %8.1f us per handshake  %5.1f%%\n", "public-key operations", pk_ns / 1e3 / n, 100 * pk_ns / hs_ns);
    printf("  %-24s %8.1f us per handshake  %5.1f%%\n", "everything else", (hs_ns - pk_ns) / 1e3 / n,
           100 * (hs_ns - pk_ns) / hs_ns);
    printf("  whole set-up (ICE, SCTP, DCEP too): public-key %.1f%%, everything else %.1f%%\n", 100 * pc_pk / pc_ns,
           100 * (pc_ns - pc_pk) / pc_ns);
    if (n_ver > 1) {
        printf("\nby DTLS version, side by side (--dtls as asked; negotiated: what the handshakes of all rounds chose):\n");
        printf("  %-6s %14s %14s  %-28s %s\n", "--dtls", "set-ups/s", "handshakes/s", "negotiated (set-ups)",
               "negotiated (handshakes)");
        for (int v = 0; v < n_ver; v++) {
            char a[96], b[96];
            printf("  %-6s %14.0f %14.0f  %-28s %s\n", ver_name[v], bench_median(su[v], reps),
                   bench_median(hs[v], reps), negotiated(neg_pc[v], a, sizeof(a)), negotiated(neg_hs[v], b, sizeof(b)));
        }
    }
    cp_destroy(&cp);
    return 0;
}
