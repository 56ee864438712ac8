/* SPDX-License-Identifier: MIT */
/*
 * Crypto benchmark (partial: the engines that exist so far): Ed25519 sign
 * and verify of a 64-byte agent message, and one ICE check message built
 * (USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY,
 * FINGERPRINT) and then parsed and verified, and full DTLS 1.2 handshakes
 * of ours (ECDHE X25519, ECDSA P-256, use_srtp, both ends on this core, in
 * memory). Then, per suite, application records sealed and opened by our
 * record layer after a handshake of ours and, side by side, written and
 * read by two mbedTLS endpoints after theirs (the same sizes: 100 and
 * 1,200 bytes of plaintext; mbedTLS on a 1,500-byte datagram limit so the
 * larger fits), with the ratio, ours in the DTLS 1.3 form beside them (the
 * same suites and sizes, dtls_record_set_keys13), and our GCM on its
 * portable GHASH; SRTP protect +
 * unprotect of a 160-byte audio packet (libsrtp2, both profiles), and our
 * SRTP (crypto/srtp_session.h) beside libsrtp2 on 160- and 1,200-byte RTP
 * packets (AES128_CM_HMAC_SHA1_80, medians side by side); and heap
 * use by mallinfo2 deltas: heap held after our handshakes (none), our
 * record layer's (none), one mbedtls_gcm_setkey's, a
 * libsrtp2 session pair's and our SRTP session's (none).
 * Medians of REPS rounds, printed; not a test.
 *   build-release/bench/crypto/crypto_bench [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include <mbedtls/gcm.h>

#include "bench.h"
#include "dtls.h"
#include "dtls_record.h"
#include "mbed_dtls.h"
#include "media_srtp.h"
#include "sig.h"
#include "srtp_session.h"
#include "stun.h"

/* Two of our endpoints joined directly: datagrams handed over until
 * both are connected. Returns true when they are. */
static bool ours_pair(const struct cp *cp, const struct dtls_cert *cc, const struct dtls_cert *sc, uint8_t suites,
                      struct dtls_endpoint *c, struct dtls_endpoint *s, struct dtls_record *rc, struct dtls_record *rs)
{
    struct dtls_config ccfg = {.cp = cp, .cert = cc, .peer_fingerprint = sc->fingerprint, .rec = rc,
                               .suites = suites, .srtp = DTLS_SRTP_AES128_CM_SHA1_80};
    struct dtls_config scfg = ccfg;
    scfg.is_server = true;
    scfg.cert = sc;
    scfg.peer_fingerprint = cc->fingerprint;
    scfg.rec = rs;
    if (dtls_init(s, &scfg, 0) != 0 || dtls_init(c, &ccfg, 0) != 0)
        return false;
    uint8_t b[DTLS_MTU];
    for (int step = 0; step < 20 && !(dtls_connected(c) && dtls_connected(s)); step++) {
        size_t n;
        while ((n = dtls_poll_transmit(c, b, sizeof(b), 0)) > 0)
            dtls_handle_input(s, b, n, 0);
        while ((n = dtls_poll_transmit(s, b, sizeof(b), 0)) > 0)
            dtls_handle_input(c, b, n, 0);
    }
    return dtls_connected(c) && dtls_connected(s);
}

/* Two mbedTLS endpoints joined directly, on 1,500-byte datagrams so that
 * a 1,200-byte plaintext fits one record. */
static bool mbed_pair(const struct mbed_dtls_cert *cc, const struct mbed_dtls_cert *sc, uint8_t suites,
                      struct mbed_dtls *c, struct mbed_dtls *s)
{
    struct mbed_dtls_config ccfg = {.cert = cc, .peer_fingerprint = sc->fingerprint, .seed = 91, .suites = suites,
                                    .mtu = MBED_DTLS_DGRAM};
    struct mbed_dtls_config scfg = ccfg;
    scfg.is_server = true;
    scfg.cert = sc;
    scfg.peer_fingerprint = cc->fingerprint;
    scfg.seed = 92;
    if (mbed_dtls_init(s, &scfg, 0) != 0 || mbed_dtls_init(c, &ccfg, 0) != 0)
        return false;
    uint8_t b[MBED_DTLS_DGRAM];
    for (int step = 0; step < 20 && !(mbed_dtls_state(c) == 1 && mbed_dtls_state(s) == 1); step++) {
        size_t n;
        while ((n = mbed_dtls_poll_transmit(c, b, sizeof(b), 0)) > 0)
            mbed_dtls_handle_input(s, b, n, 0);
        while ((n = mbed_dtls_poll_transmit(s, b, sizeof(b), 0)) > 0)
            mbed_dtls_handle_input(c, b, n, 0);
    }
    return mbed_dtls_state(c) == 1 && mbed_dtls_state(s) == 1;
}

#define MAX_REPS 100

/* One figure per round for each measurement, and the sizes and heap deltas
 * printed beside them. */
struct results {
    int reps;
    double sign[MAX_REPS], verify[MAX_REPS], stun[MAX_REPS];
    double hs[MAX_REPS];
    size_t hs_heap;
    double rec_ours[3][2][MAX_REPS], rec_mbed[3][2][MAX_REPS], rec_portable[2][MAX_REPS];
    double rec13[3][2][MAX_REPS]; /* ours in the DTLS 1.3 form (dtls_record_set_keys13) */
    size_t rec_heap, gcm_heap;
    double srtp_ns[2][MAX_REPS];
    size_t srtp_heap[2];
    double ss_ours[2][MAX_REPS], ss_lib[2][MAX_REPS];
    size_t ss_heap;
};

/* The certificates (ours and mbedTLS's) and the two endpoints with their
 * record layers that the DTLS benchmarks reuse. */
struct dtls_fixture {
    struct cp cp;
    struct dtls_cert cc, sc;
    struct mbed_dtls_cert mcc, msc;
    struct dtls_endpoint *c, *s;
    struct dtls_record crec, srec;
    struct dtls_record_keys keys;         /* one connection's: both ends share it */
    struct dtls_record_counters counters; /* both ends' */
};

static volatile int sink; /* keeps every result alive */

static const int n_sig = 2000, n_stun = 100000, n_hs = 200, n_rec = 20000, n_srtp = 100000;
static const size_t rsizes[2] = {100, 1200};
static const size_t ssz[2] = {160, 1200};
static const int n_ss[2] = {100000, 25000};

/* One ICE check message built, then parsed and verified (both MI and
 * FINGERPRINT). */
static void ice_check_round(uint8_t *tid, const uint8_t *key, size_t key_len)
{
    uint8_t buf[256];
    struct stun_writer w;
    stun_begin(&w, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
    stun_put_bytes(&w, STUN_ATTR_USERNAME, "bbbb:aaaa", 9);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 2130706431u);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, 42);
    stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
    stun_put_integrity(&w, key, key_len);
    stun_put_fingerprint(&w);
    int len = stun_end(&w);
    struct stun_msg m;
    sink += stun_parse(buf, (size_t)len, &m);
    sink += stun_check_integrity(buf, (size_t)len, &m, key, key_len);
    sink += stun_check_fingerprint(buf, (size_t)len, &m);
}

/* Ed25519 sign and verify of a 64-byte agent message and the ICE check
 * round, each timed per round. */
static void bench_sig_and_ice(struct results *R)
{
    uint8_t seed[32], msg[64], sg[64];
    memset(msg, 0xa5, sizeof(msg));
    sig_agent_seed(1, 1, seed);
    struct sig_keypair kp;
    sig_keypair_from_seed(&kp, seed);
    const uint8_t key[] = "bpassword-bpassword-bp";
    for (int r = 0; r < R->reps; r++) {
        double t0 = bench_now_ns();
        for (int i = 0; i < n_sig; i++) {
            msg[0] = (uint8_t)i;
            sig_sign(&kp, msg, sizeof(msg), sg);
        }
        R->sign[r] = (bench_now_ns() - t0) / n_sig;
        t0 = bench_now_ns();
        for (int i = 0; i < n_sig; i++)
            sink += sig_verify(kp.pk, msg, sizeof(msg), sg);
        R->verify[r] = (bench_now_ns() - t0) / n_sig;
        uint8_t tid[12] = {1};
        t0 = bench_now_ns();
        for (int i = 0; i < n_stun; i++) {
            tid[0] = (uint8_t)i;
            ice_check_round(tid, key, sizeof(key) - 1);
        }
        R->stun[r] = (bench_now_ns() - t0) / n_stun;
    }
}

/* Our provider and the four certificates. 0, or -1 if one failed. */
static int fixture_init(struct dtls_fixture *f)
{
    static _Alignas(64) uint8_t cmem[4096], smem[4096];
    f->c = (struct dtls_endpoint *)cmem;
    f->s = (struct dtls_endpoint *)smem;
    /* the two ends of a connection in one process, as in the dataplane */
    dtls_record_keys_clear(&f->keys);
    dtls_record_reset(&f->crec, &f->keys, &f->counters, true);
    dtls_record_reset(&f->srec, &f->keys, &f->counters, false);
    if (cp_default_create(&f->cp) || dtls_cert_generate(&f->cc, &f->cp) || dtls_cert_generate(&f->sc, &f->cp) ||
        mbed_dtls_cert_generate(&f->mcc, 1) || mbed_dtls_cert_generate(&f->msc, 2))
        return -1;
    return 0;
}

/* Frees the certificates and the provider. */
static void fixture_free(struct dtls_fixture *f)
{
    dtls_cert_free(&f->cc);
    dtls_cert_free(&f->sc);
    mbed_dtls_cert_free(&f->mcc);
    mbed_dtls_cert_free(&f->msc);
    cp_destroy(&f->cp);
}

/* DTLS handshakes of ours, both endpoints on this core, and the heap they
 * leave held (none). */
static void bench_handshakes(struct results *R, struct dtls_fixture *f)
{
    for (int r = 0; r < R->reps; r++) {
        struct mallinfo2 h0 = mallinfo2();
        double t0 = bench_now_ns();
        for (int k = 0; k < n_hs; k++) {
            sink += !ours_pair(&f->cp, &f->cc, &f->sc, 0, f->c, f->s, &f->crec, &f->srec);
            dtls_free(f->c);
            dtls_free(f->s);
        }
        R->hs[r] = (bench_now_ns() - t0) / n_hs;
        struct mallinfo2 h1 = mallinfo2();
        R->hs_heap = h1.uordblks - h0.uordblks; /* held after the handshakes: none */
    }
}

/* Application records sealed and opened by a record layer pair, n_rec of
 * them. Returns ns per record. */
static double time_records(struct dtls_record *w, struct dtls_record *rd, const uint8_t *payload, size_t len)
{
    uint8_t b[1600], out[1600];
    double t0 = bench_now_ns();
    for (int k = 0; k < n_rec; k++) {
        size_t used;
        uint8_t type;
        int n = dtls_record_seal(w, DTLS_CT_APPLICATION_DATA, payload, len, b, sizeof(b));
        sink += dtls_record_open(rd, b, (size_t)n, &used, &type, out, sizeof(out));
    }
    return (bench_now_ns() - t0) / n_rec;
}

/* The same through two mbedTLS endpoints: the server writes, the datagram
 * crosses, the client reads. Returns ns per record. */
static double time_mbed_records(struct mbed_dtls *msv, struct mbed_dtls *mc, const uint8_t *payload, size_t len)
{
    uint8_t b[1600], out[1600];
    double t0 = bench_now_ns();
    for (int k = 0; k < n_rec; k++) {
        sink += mbed_dtls_write(msv, payload, len, 0);
        size_t n = mbed_dtls_poll_transmit(msv, b, sizeof(b), 0); /* the datagram crosses */
        mbed_dtls_handle_input(mc, b, n, 0);
        sink += mbed_dtls_read(mc, out, sizeof(out));
    }
    return (bench_now_ns() - t0) / n_rec;
}

/* Records of one suite: ours (seal on the client's keys, open on the
 * server's) beside mbedTLS's, per size, and for the first suite our GCM on
 * its portable path too. The heap our pair holds once connected goes to
 * rec_heap. 0, or -1 if a pair did not connect. */
static int bench_records_suite(struct results *R, struct dtls_fixture *f, int su)
{
    static const uint8_t ours_suites[3] = {DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM, DTLS_OFFER_CHACHA20};
    static const uint8_t mbed_suites[3] = {MBED_DTLS_AES_128_GCM, MBED_DTLS_AES_256_GCM, MBED_DTLS_CHACHA20};
    static struct mbed_dtls mc, msv;
    struct mallinfo2 h0 = mallinfo2();
    if (!ours_pair(&f->cp, &f->cc, &f->sc, ours_suites[su], f->c, f->s, &f->crec, &f->srec))
        return -1;
    struct mallinfo2 h1 = mallinfo2();
    R->rec_heap = h1.uordblks - h0.uordblks;
    if (!mbed_pair(&f->mcc, &f->msc, mbed_suites[su], &mc, &msv))
        return -1;
    /* a pair on the portable path, keys of its own */
    static const uint8_t pk[32] = {7}, piv[12] = {9};
    static struct dtls_record_keys pka, pkb;
    static struct dtls_record_counters pcnt;
    struct dtls_record pa, pb;
    dtls_record_keys_clear(&pka);
    dtls_record_keys_clear(&pkb);
    dtls_record_reset(&pa, &pka, &pcnt, true);
    dtls_record_reset(&pb, &pkb, &pcnt, false);
    dtls_record_init_keys_impl(&pa, DTLS_SUITE_AES_128_GCM, pk, piv, pk, piv, 0, AES_IMPL_PORTABLE);
    dtls_record_init_keys_impl(&pb, DTLS_SUITE_AES_128_GCM, pk, piv, pk, piv, 0, AES_IMPL_PORTABLE);
    /* the same suite in the DTLS 1.3 form, the two ends sharing a key area */
    static const enum dtls_suite rsuites[3] = {DTLS_SUITE_AES_128_GCM, DTLS_SUITE_AES_256_GCM,
                                               DTLS_SUITE_CHACHA20_POLY1305};
    static const uint8_t ck[32] = {3}, civ[12] = {4}, csn[32] = {5}, sk[32] = {6}, siv[12] = {7},
                         ssn[32] = {8};
    static struct dtls_record_keys k13;
    struct dtls_record c13, s13;
    dtls_record_keys_clear(&k13);
    dtls_record_reset(&c13, &k13, &pcnt, true);
    dtls_record_reset(&s13, &k13, &pcnt, false);
    if (dtls_record_set_keys13(&c13, rsuites[su], ck, civ, csn, sk, siv, ssn) != 0 ||
        dtls_record_set_keys13(&s13, rsuites[su], sk, siv, ssn, ck, civ, csn) != 0)
        return -1;
    uint8_t payload[1200];
    memset(payload, 0x5a, sizeof(payload));
    for (int z = 0; z < 2; z++)
        for (int r = 0; r < R->reps; r++) {
            if (su == 0)
                R->rec_portable[z][r] = time_records(&pa, &pb, payload, rsizes[z]);
            R->rec_ours[su][z][r] = time_records(&f->crec, &f->srec, payload, rsizes[z]);
            uint64_t opened = pcnt.opened;
            R->rec13[su][z][r] = time_records(&c13, &s13, payload, rsizes[z]);
            if (pcnt.opened - opened != (uint64_t)n_rec)
                return -1; /* a 1.3 record refused */
            R->rec_mbed[su][z][r] = time_mbed_records(&msv, &mc, payload, rsizes[z]);
        }
    dtls_record_free(&c13);
    dtls_record_free(&s13);
    dtls_free(f->c);
    dtls_free(f->s);
    dtls_record_free(&f->crec);
    dtls_record_free(&f->srec);
    mbed_dtls_free(&mc);
    mbed_dtls_free(&msv);
    return 0;
}

/* What mbedTLS's own GCM context would have cost per direction: the heap
 * one mbedtls_gcm_setkey takes. */
static size_t gcm_setkey_heap(void)
{
    static const uint8_t k16[16];
    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    struct mallinfo2 g0 = mallinfo2();
    mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, k16, 128);
    struct mallinfo2 g1 = mallinfo2();
    mbedtls_gcm_free(&g);
    return g1.uordblks - g0.uordblks;
}

/* libsrtp2 protect + unprotect of a 160-byte audio packet (12-byte header,
 * 148 bytes of payload), both profiles, and the heap of a session pair. */
static void bench_libsrtp(struct results *R)
{
    media_srtp_global_init();
    const enum media_suite ms[2] = {MEDIA_AES128_CM_SHA1_80, MEDIA_AEAD_AES_128_GCM};
    for (int su = 0; su < 2; su++) {
        uint8_t ka[32], kb2[32];
        for (int i = 0; i < 32; i++)
            ka[i] = (uint8_t)i, kb2[i] = (uint8_t)(i + 100);
        struct media_srtp a, bb;
        media_srtp_init(&a, ms[su], ka, kb2); /* the first also warms libsrtp2 up */
        struct mallinfo2 m0 = mallinfo2();
        media_srtp_init(&bb, ms[su], kb2, ka);
        struct mallinfo2 m1 = mallinfo2();
        R->srtp_heap[su] = m1.uordblks - m0.uordblks; /* one connection's two sessions */
        uint32_t seq = 1;
        for (int r = 0; r < R->reps; r++) {
            double t0 = bench_now_ns();
            for (int k = 0; k < n_srtp; k++) {
                uint8_t pkt[160 + MEDIA_MAX_TRAILER] = {0x80, 0x6f};
                pkt[2] = (uint8_t)(seq >> 8);
                pkt[3] = (uint8_t)seq++;
                pkt[8] = 0x11;
                int len = 160;
                sink += media_protect_rtp(&a, pkt, &len, (int)sizeof(pkt));
                sink += media_unprotect_rtp(&bb, pkt, &len);
            }
            R->srtp_ns[su][r] = (bench_now_ns() - t0) / n_srtp;
        }
        media_srtp_free(&a);
        media_srtp_free(&bb);
    }
}

/* Our SRTP beside libsrtp2: protect (one end) + unprotect (the other) of
 * one RTP packet, 12-byte header, AES128_CM_HMAC_SHA1_80, per size, and our
 * session's heap. 0, or -1 if a packet was refused. */
static int bench_srtp_ours_vs_libsrtp(struct results *R)
{
    uint8_t ka[30], kb2[30];
    for (int i = 0; i < 30; i++)
        ka[i] = (uint8_t)(i + 7), kb2[i] = (uint8_t)(i + 77);
    static struct srtps_session oa, ob;
    struct media_srtp la, lb;
    media_srtp_init(&la, MEDIA_AES128_CM_SHA1_80, ka, kb2);
    media_srtp_init(&lb, MEDIA_AES128_CM_SHA1_80, kb2, ka);
    struct mallinfo2 o0 = mallinfo2();
    srtps_init(&oa, SRTPS_AES128_CM_SHA1_80, ka, kb2);
    srtps_init(&ob, SRTPS_AES128_CM_SHA1_80, kb2, ka);
    struct mallinfo2 o1 = mallinfo2();
    R->ss_heap = (o1.uordblks - o0.uordblks) / 2;
    uint32_t oseq = 1, lseq = 1;
    for (int z = 0; z < 2; z++)
        for (int r = 0; r < R->reps; r++) {
            uint8_t pkt[1200 + MEDIA_MAX_TRAILER] = {0x80, 0x6f};
            pkt[8] = 0x11;
            double t0 = bench_now_ns();
            for (int k = 0; k < n_ss[z]; k++) {
                pkt[2] = (uint8_t)(oseq >> 8);
                pkt[3] = (uint8_t)oseq++;
                size_t len = ssz[z];
                sink += srtps_protect_rtp(&oa, pkt, &len, sizeof(pkt));
                sink += srtps_unprotect_rtp(&ob, pkt, &len);
            }
            R->ss_ours[z][r] = (bench_now_ns() - t0) / n_ss[z];
            t0 = bench_now_ns();
            for (int k = 0; k < n_ss[z]; k++) {
                pkt[2] = (uint8_t)(lseq >> 8);
                pkt[3] = (uint8_t)lseq++;
                int len = (int)ssz[z];
                sink += media_protect_rtp(&la, pkt, &len, (int)sizeof(pkt));
                sink += media_unprotect_rtp(&lb, pkt, &len);
            }
            R->ss_lib[z][r] = (bench_now_ns() - t0) / n_ss[z];
        }
    if (srtps_counters(&oa)->protected_rtp != srtps_counters(&ob)->unprotected_rtp ||
        la.c.protected_rtp != lb.c.unprotected_rtp) {
        fprintf(stderr, "SRTP comparison: packets refused\n");
        return -1;
    }
    media_srtp_free(&la);
    media_srtp_free(&lb);
    return 0;
}

/* Signatures, the ICE check and the handshake rate. */
static void print_sig_ice_handshake(struct results *R)
{
    int reps = R->reps;
    printf("median of %d rounds\n", reps);
    printf("ed25519 sign   (64 B)          %8.2f us\n", bench_median(R->sign, reps) / 1e3);
    printf("ed25519 verify (64 B)          %8.2f us\n", bench_median(R->verify, reps) / 1e3);
    printf("ICE check: build + parse + verify MI and FINGERPRINT  %8.0f ns\n", bench_median(R->stun, reps));
    double h = bench_median(R->hs, reps);
    printf("DTLS 1.2 handshake (ours), both ends on one core    %8.3f ms  (%.0f handshakes/s per core; "
           "pc_bench sets them beside mbedTLS)\n",
           h / 1e6, 1e9 / h);
}

/* The record table, the portable path, and the DTLS state and heap. */
static void print_records(struct results *R)
{
    int reps = R->reps;
    const char *sname[3] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
    printf("DTLS record seal+open           ours ns   mbedTLS ns   mbedTLS/ours   ours 1.3 ns\n");
    for (int su = 0; su < 3; su++)
        for (int z = 0; z < 2; z++) {
            double o = bench_median(R->rec_ours[su][z], reps), mb = bench_median(R->rec_mbed[su][z], reps);
            printf("  %-17s %5zu B %9.0f %12.0f %10.2fx %13.0f\n", sname[su], rsizes[z], o, mb,
                   mb / o, bench_median(R->rec13[su][z], reps));
        }
    for (int z = 0; z < 2; z++)
        printf("  AES-128-GCM, portable path  %5zu B %9.0f\n", rsizes[z], bench_median(R->rec_portable[z], reps));
    printf("DTLS record layer state per connection: %zu bytes per end and a %zu-byte key area both ends share, "
           "heap %zu bytes; mbedtls_gcm_setkey's heap: %zu bytes per direction\n",
           sizeof(struct dtls_record), dtls_record_keys_size(), R->rec_heap, R->gcm_heap);
    printf("handshake slot: %zu bytes; heap held after %d handshakes: %zu bytes\n", dtls_endpoint_size(), n_hs,
           R->hs_heap);
}

/* libsrtp2's two profiles, then ours beside it, and the SRTP state. */
static void print_srtp(struct results *R)
{
    int reps = R->reps;
    for (int su = 0; su < 2; su++)
        printf("SRTP protect+unprotect 160 B, %-22s %6.0f ns  (libsrtp2 heap per session pair: %zu bytes)\n",
               su ? "AEAD_AES_128_GCM" : "AES128_CM_HMAC_SHA1_80", bench_median(R->srtp_ns[su], reps),
               R->srtp_heap[su]);
    printf("SRTP protect+unprotect, AES128_CM_HMAC_SHA1_80   ours ns   libsrtp2 ns"
           "   libsrtp2/ours\n");
    for (int z = 0; z < 2; z++) {
        double o = bench_median(R->ss_ours[z], reps), l = bench_median(R->ss_lib[z], reps);
        printf("  %5zu B %33.0f %13.0f %13.2fx\n", ssz[z], o, l, l / o);
    }
    printf("SRTP state per connection, both directions: ours %zu bytes (heap %zu), "
           "libsrtp2 %zu bytes + heap %zu\n",
           sizeof(struct srtps_session), R->ss_heap, sizeof(struct media_srtp), R->srtp_heap[0]);
}

int main(int argc, char **argv)
{
    static struct results R;
    static struct dtls_fixture f;
    R.reps = argc > 1 ? atoi(argv[1]) : 7;
    if (R.reps < 1 || R.reps > MAX_REPS || sig_init() < 0) {
        fprintf(stderr, "usage: crypto_bench [REPS 1..100]\n");
        return 2;
    }
    bench_sig_and_ice(&R);
    if (fixture_init(&f) != 0) {
        fprintf(stderr, "certificate generation failed\n");
        return 1;
    }
    bench_handshakes(&R, &f);
    for (int su = 0; su < 3; su++)
        if (bench_records_suite(&R, &f, su) != 0) {
            fprintf(stderr, "record set-up failed\n");
            return 1;
        }
    fixture_free(&f);
    R.gcm_heap = gcm_setkey_heap();
    bench_libsrtp(&R);
    if (bench_srtp_ours_vs_libsrtp(&R) != 0)
        return 1;
    print_sig_ice_handshake(&R);
    print_records(&R);
    print_srtp(&R);
    return sink == 12345 ? 1 : 0;
}
