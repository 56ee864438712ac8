/* SPDX-License-Identifier: MIT */
/*
 * Peer connections on one core, in memory (no ports): N connections, both
 * endpoints simulated, set up through ICE, DTLS (certificates from a pool
 * of 16, handshake slots capped), SCTP and DCEP, then M messages of 64
 * bytes each way on every DataChannel. Prints the set-up rate
 * (connections/s on this core), the steady-state message rate, datagrams
 * per second and the bytes an established connection keeps. This is the
 * per-core cost the dataplane integration (issue 5) will pay; it is not a
 * dataplane figure. Medians of REPS rounds.
 *   build-release/bench/dataplane/pc_bench [CONNECTIONS] [MESSAGES] [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "dp_pc.h"

#define NCERT 16
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

static void run(uint32_t n, uint32_t msgs, double *setup_s, double *msg_s, double *dg_s, size_t *bytes)
{
    struct dp_pc *pc = aligned_alloc(64, sizeof(struct dp_pc) * 2 * n);
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
    uint32_t in_setup = 0;
    /* set-up: start connections while slots allow two per connection */
    while (up + failed < n) {
        uint64_t now = (uint64_t)bench_now_ns();
        while (started < n && in_setup < SLOTS / 2) {
            uint32_t c = started++;
            for (int s = 0; s < 2; s++) {
                snprintf(uf[s], sizeof(uf[s]), "u%u%c", c, 'a' + s);
                snprintf(pw[s], sizeof(pw[s]), "password-%u-%c-0123456789", c, 'a' + s);
            }
            for (int s = 0; s < 2; s++) {
                struct dp_pc_config cfg = {.controlling = s == 0, .local_ufrag = uf[s], .local_pwd = pw[s],
                                           .remote_ufrag = uf[1 - s], .remote_pwd = pw[1 - s],
                                           .peer = {4, (uint16_t)(5000 + (1 - s)), {198, 18, (uint8_t)(c >> 8), (uint8_t)c}},
                                           .cert = &certs[(2 * c + (uint32_t)s) % NCERT],
                                           .peer_fingerprint = certs[(2 * c + 1 - (uint32_t)s) % NCERT].fingerprint,
                                           .hs = &hs, .sctp_mem = amem + sctp_assoc_size(16) * (2 * c + (uint32_t)s),
                                           .sctp_pool = pool, .seed = 2 * c + (uint32_t)s + 1};
                if (dp_pc_init(&pc[2 * c + (uint32_t)s], &cfg, now) != 0)
                    exit(1);
            }
            in_setup++;
        }
        for (uint32_t i = 0; i < 2 * started; i++) {
            struct dp_pc *p = &pc[i];
            if (dp_pc_next_timeout(p, NULL) <= now)
                dp_pc_handle_timeout(p, now);
            size_t len;
            while ((len = dp_pc_poll_transmit(p, q[qt % QCAP].d, sizeof(q[0].d), now)) > 0) {
                q[qt % QCAP].to = i ^ 1;
                q[qt % QCAP].len = (uint16_t)len;
                qt++;
            }
        }
        while (qh != qt) {
            struct dgram *g = &q[qh++ % QCAP];
            dgrams++;
            dp_pc_handle_input(&pc[g->to], g->d, g->len, now);
            uint32_t l;
            enum dp_pc_event e;
            while ((e = dp_pc_poll_event(&pc[g->to], buf, sizeof(buf), &l)) != DP_PC_EV_NONE) {
                if (e == DP_PC_EV_UP && !up_flag[g->to]) {
                    up_flag[g->to] = 1;
                    if (up_flag[g->to ^ 1]) {
                        up++;
                        in_setup--;
                    }
                } else if (e == DP_PC_EV_FAILED && !up_flag[g->to]) {
                    up_flag[g->to] = 2;
                    failed++;
                    in_setup--;
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
            struct dp_pc *p = &pc[i];
            while (sent[i] < msgs && p->stage == DP_PC_UP && dp_pc_send(p, m, sizeof(m), now) == 0)
                sent[i]++;
            if (dp_pc_next_timeout(p, NULL) <= now)
                dp_pc_handle_timeout(p, now);
            size_t len;
            while ((len = dp_pc_poll_transmit(p, q[qt % QCAP].d, sizeof(q[0].d), now)) > 0) {
                q[qt % QCAP].to = i ^ 1;
                q[qt % QCAP].len = (uint16_t)len;
                qt++;
            }
        }
        while (qh != qt) {
            struct dgram *g = &q[qh++ % QCAP];
            dgrams++;
            dp_pc_handle_input(&pc[g->to], g->d, g->len, now);
            uint32_t l;
            while (dp_pc_poll_event(&pc[g->to], buf, sizeof(buf), &l) == DP_PC_EV_MESSAGE)
                got++;
        }
    }
    t1 = (uint64_t)bench_now_ns();
    *msg_s = (double)got / ((double)(t1 - t0) / 1e9);
    *dg_s = (double)(dgrams - d0) / ((double)(t1 - t0) / 1e9);
    *bytes = sizeof(struct dp_pc) + sctp_assoc_size(16);
    if (failed)
        fprintf(stderr, "pc_bench: %u connections failed\n", failed);
    for (uint32_t i = 0; i < 2 * n; i++)
        dp_pc_free(&pc[i]);
    dtls_hs_pool_destroy(&hs);
    free(pc);
    free(amem);
    free(pmem);
    free(up_flag);
    free(sent);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 500, msgs = argc > 2 ? atol(argv[2]) : 200;
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    if (n < 1 || n > 20000 || msgs < 1 || msgs > 100000 || reps < 1 || reps > 20) {
        fprintf(stderr, "usage: pc_bench [CONNECTIONS 1..20000] [MESSAGES 1..100000] [REPS 1..20]\n");
        return 2;
    }
    q = calloc(QCAP, sizeof(*q));
    for (int i = 0; i < NCERT; i++)
        if (dtls_cert_generate(&certs[i], (uint64_t)i + 100) != 0)
            return 1;
    double su[20], ms[20], dg[20];
    size_t bytes = 0;
    for (int r = 0; r < reps; r++)
        run((uint32_t)n, (uint32_t)msgs, &su[r], &ms[r], &dg[r], &bytes);
    printf("peer connections on one core, in memory: %ld connections (both ends), %ld x 64 B each way, median of %d\n",
           n, msgs, reps);
    printf("set-up (ICE + DTLS + SCTP + DCEP)   %10.0f connections/s\n", bench_median(su, reps));
    printf("DataChannel messages                %10.0f msg/s\n", bench_median(ms, reps));
    printf("datagrams (DTLS records)            %10.0f /s\n", bench_median(dg, reps));
    printf("state per established endpoint      %10zu bytes (dp_pc + SCTP association)\n", bytes);
    return 0;
}
