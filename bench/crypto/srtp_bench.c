/* SPDX-License-Identifier: MIT */
/*
 * SRTP benchmark: protect at one end + unprotect at the other of one RTP
 * packet (12-byte header, 160 or 1,200 bytes in all before the tag; a new
 * sequence number each, in place), for each of the four DTLS-SRTP
 * profiles (crypto/srtp_session.h): ours on each AES path this CPU has
 * (crypto/aes_gcm.h) beside libsrtp2 (Debian's, one srtp_t per direction,
 * made once). Then one RTCP packet of 80 bytes, where ours expands the
 * SRTCP key per packet. Rounds of all implementations of one profile and
 * size are interleaved, so a noisy neighbour hits them alike; each line is
 * the median of REPS rounds: ns per protect + unprotect, and at 1,200
 * bytes the RTP bit rate one core carries with both ends on it (1,200 x 8
 * bits / that time). The fastest AES path once more with a 4-byte MKI
 * on both ends ("+mki", srtps_set_mki): the cost of the MKI per packet
 * (--srtp-rekey, docs/srtp.md). Printed; not a test.
 *   build-srtp-rel/bench/crypto/srtp_bench [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "aes_gcm.h"
#include "bench.h"
#include "libsrtp_peer.h"
#include "srtp_session.h"

#define MAX_REPS 201
#define BUF      2048

static const enum srtps_profile profiles[] = {SRTPS_AES128_CM_SHA1_80, SRTPS_AES128_CM_SHA1_32,
                                              SRTPS_AEAD_AES_128_GCM, SRTPS_AEAD_AES_256_GCM};
static const char *const profile_names[] = {"AES128_CM_SHA1_80", "AES128_CM_SHA1_32",
                                            "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"};

/* One implementation of one profile, both ends keyed once. */
struct impl {
    char name[24];
    int aes; /* enum aes_impl of ours; -1 for libsrtp2 */
    struct srtps_session a, b;
    srtp_t tx, rx;
    uint32_t seq;
    double ns[MAX_REPS];
};

/* One libsrtp2 session (tests/common/libsrtp_peer.h); exits if refused. */
static srtp_t lib_session(enum srtps_profile p, const uint8_t *key, bool outbound)
{
    srtp_t s;
    if (libsrtp_session(&s, p, key, outbound) != srtp_err_status_ok) {
        fprintf(stderr, "srtp_bench: libsrtp2 refused profile %d\n", p);
        exit(1);
    }
    return s;
}

/* iters packets of `size` bytes through protect + unprotect. */
static void run_rtp(struct impl *m, uint8_t *pkt, size_t size, int iters)
{
    for (int i = 0; i < iters; i++) {
        pkt[2] = (uint8_t)(m->seq >> 8);
        pkt[3] = (uint8_t)m->seq++;
        if (m->aes >= 0) {
            size_t len = size;
            if (srtps_protect_rtp(&m->a, pkt, &len, BUF) || srtps_unprotect_rtp(&m->b, pkt, &len) != ENGINE_IN_ACCEPTED)
                abort();
        } else {
            int len = (int)size;
            if (srtp_protect(m->tx, pkt, &len) != srtp_err_status_ok ||
                srtp_unprotect(m->rx, pkt, &len) != srtp_err_status_ok)
                abort();
        }
    }
}

static void run_rtcp(struct impl *m, uint8_t *pkt, size_t size, int iters)
{
    for (int i = 0; i < iters; i++) {
        if (m->aes >= 0) {
            size_t len = size;
            if (srtps_protect_rtcp(&m->a, pkt, &len, BUF) || srtps_unprotect_rtcp(&m->b, pkt, &len) != ENGINE_IN_ACCEPTED)
                abort();
        } else {
            int len = (int)size;
            if (srtp_protect_rtcp(m->tx, pkt, &len) != srtp_err_status_ok ||
                srtp_unprotect_rtcp(m->rx, pkt, &len) != srtp_err_status_ok)
                abort();
        }
    }
}

/* Medians of reps interleaved rounds of every implementation, ns per
 * packet; iterations per round chosen for about 2 ms of the slowest. */
static void measure(struct impl *m, int n, bool rtcp, size_t size, int reps, double *median)
{
    static uint8_t pkt[BUF];
    memset(pkt, 0x5a, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[1] = rtcp ? 200 : 96;
    /* RTP: timestamp and SSRC; RTCP: the same SSRC as the sender's */
    memcpy(pkt + 4, rtcp ? "\xca\xfe\xba\xbe" : "\x12\x34\x56\x78\xca\xfe\xba\xbe", rtcp ? 4 : 8);
    double worst = 0;
    for (int i = 0; i < n; i++) { /* warm up, and find the slowest */
        double t0 = bench_now_ns();
        rtcp ? run_rtcp(&m[i], pkt, size, 64) : run_rtp(&m[i], pkt, size, 64);
        double t = (bench_now_ns() - t0) / 64;
        worst = t > worst ? t : worst;
    }
    int iters = (int)(2e6 / worst);
    iters = iters < 8 ? 8 : iters > 20000 ? 20000 : iters;
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) {
            double t0 = bench_now_ns();
            rtcp ? run_rtcp(&m[i], pkt, size, iters) : run_rtp(&m[i], pkt, size, iters);
            m[i].ns[r] = (bench_now_ns() - t0) / iters;
        }
    for (int i = 0; i < n; i++)
        median[i] = bench_median(m[i].ns, reps);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 31;
    if (reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "usage: srtp_bench [REPS 1..%d]\n", MAX_REPS);
        return 2;
    }
    if (srtp_init() != srtp_err_status_ok)
        return 1;
    uint8_t ka[SRTPS_MASTER_MAX], kb[SRTPS_MASTER_MAX];
    for (int i = 0; i < SRTPS_MASTER_MAX; i++)
        ka[i] = (uint8_t)(i + 7), kb[i] = (uint8_t)(i + 77);
    printf("srtp_bench: protect + unprotect in place, one end each, median of %d rounds; "
           "sizeof(struct srtps_session) = %zu bytes\n",
           reps, sizeof(struct srtps_session));
    printf("%-18s %-6s %6s  %-20s %10s %9s %12s\n", "profile", "kind", "bytes", "impl", "ns/pkt",
           "vs lib", "Gbit/s/core");
    static struct impl m[AES_IMPL_COUNT + 2];
    for (size_t p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++) {
        int n = 0;
        for (int aes = AES_IMPL_COUNT - 1; aes >= 0; aes--) {
            if (!aes_impl_supported(aes))
                continue;
            struct impl *x = &m[n++];
            memset(x, 0, sizeof(*x));
            x->aes = aes;
            snprintf(x->name, sizeof(x->name), "ours %s", aes_impl_name(aes));
            if (srtps_init_impl(&x->a, profiles[p], ka, kb, aes) ||
                srtps_init_impl(&x->b, profiles[p], kb, ka, aes))
                return 1;
        }
        if (n) { /* the fastest path again, with a 4-byte MKI */
            struct impl *x = &m[n++];
            memset(x, 0, sizeof(*x));
            x->aes = m[0].aes;
            snprintf(x->name, sizeof(x->name), "ours %s +mki", aes_impl_name(x->aes));
            if (srtps_init_impl(&x->a, profiles[p], ka, kb, x->aes) ||
                srtps_init_impl(&x->b, profiles[p], kb, ka, x->aes) || srtps_set_mki(&x->a, 4, 7, 9) ||
                srtps_set_mki(&x->b, 4, 9, 7))
                return 1;
        }
        struct impl *l = &m[n++];
        memset(l, 0, sizeof(*l));
        l->aes = -1;
        snprintf(l->name, sizeof(l->name), "libsrtp2");
        l->tx = lib_session(profiles[p], ka, true);
        l->rx = lib_session(profiles[p], ka, false);
        const struct {
            bool rtcp;
            size_t size;
        } runs[] = {{false, 160}, {false, 1200}, {true, 80}};
        for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
            double med[AES_IMPL_COUNT + 2];
            measure(m, n, runs[k].rtcp, runs[k].size, reps, med);
            for (int i = 0; i < n; i++) {
                printf("%-18s %-6s %6zu  %-20s %10.1f %8.2fx", profile_names[p],
                       runs[k].rtcp ? "RTCP" : "RTP", runs[k].size, m[i].name, med[i],
                       med[i] / med[n - 1]);
                if (!runs[k].rtcp && runs[k].size == 1200)
                    printf(" %12.2f", 1200.0 * 8 / med[i]);
                printf("\n");
            }
        }
        srtp_dealloc(l->tx);
        srtp_dealloc(l->rx);
    }
    return 0;
}
