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
 * larger fits), with the ratio, and our GCM on its portable GHASH; SRTP protect +
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

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1 || reps > 100 || sig_init() < 0) {
        fprintf(stderr, "usage: crypto_bench [REPS 1..100]\n");
        return 2;
    }
    double sign[100], verify[100], stun[100];
    uint8_t seed[32], msg[64], sg[64];
    memset(msg, 0xa5, sizeof(msg));
    sig_agent_seed(1, 1, seed);
    struct sig_keypair kp;
    sig_keypair_from_seed(&kp, seed);
    volatile int sink = 0;
    const int n_sig = 2000, n_stun = 100000;
    const uint8_t key[] = "bpassword-bpassword-bp";
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now_ns();
        for (int i = 0; i < n_sig; i++) {
            msg[0] = (uint8_t)i;
            sig_sign(&kp, msg, sizeof(msg), sg);
        }
        sign[r] = (bench_now_ns() - t0) / n_sig;
        t0 = bench_now_ns();
        for (int i = 0; i < n_sig; i++)
            sink += sig_verify(kp.pk, msg, sizeof(msg), sg);
        verify[r] = (bench_now_ns() - t0) / n_sig;
        uint8_t buf[256], tid[12] = {1};
        t0 = bench_now_ns();
        for (int i = 0; i < n_stun; i++) {
            tid[0] = (uint8_t)i;
            struct stun_writer w;
            stun_begin(&w, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
            stun_put_bytes(&w, STUN_ATTR_USERNAME, "bbbb:aaaa", 9);
            stun_put_u32(&w, STUN_ATTR_PRIORITY, 2130706431u);
            stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, 42);
            stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
            stun_put_integrity(&w, key, sizeof(key) - 1);
            stun_put_fingerprint(&w);
            int len = stun_end(&w);
            struct stun_msg m;
            sink += stun_parse(buf, (size_t)len, &m);
            sink += stun_check_integrity(buf, (size_t)len, &m, key, sizeof(key) - 1);
            sink += stun_check_fingerprint(buf, (size_t)len, &m);
        }
        stun[r] = (bench_now_ns() - t0) / n_stun;
    }
    /* DTLS handshakes (ours), both endpoints on this core */
    struct cp cp;
    struct dtls_cert cc, sc;
    static struct mbed_dtls_cert mcc, msc;
    if (cp_default_create(&cp) || dtls_cert_generate(&cc, &cp) || dtls_cert_generate(&sc, &cp) ||
        mbed_dtls_cert_generate(&mcc, 1) || mbed_dtls_cert_generate(&msc, 2)) {
        fprintf(stderr, "certificate generation failed\n");
        return 1;
    }
    double hs[100];
    static _Alignas(64) uint8_t cmem[4096], smem[4096];
    struct dtls_endpoint *c = (struct dtls_endpoint *)cmem, *s = (struct dtls_endpoint *)smem;
    static struct dtls_record crec, srec;
    const int n_hs = 200;
    size_t hs_heap = 0;
    for (int r = 0; r < reps; r++) {
        struct mallinfo2 h0 = mallinfo2();
        double t0 = bench_now_ns();
        for (int k = 0; k < n_hs; k++) {
            sink += !ours_pair(&cp, &cc, &sc, 0, c, s, &crec, &srec);
            dtls_free(c);
            dtls_free(s);
        }
        hs[r] = (bench_now_ns() - t0) / n_hs;
        struct mallinfo2 h1 = mallinfo2();
        hs_heap = h1.uordblks - h0.uordblks; /* held after the handshakes: none */
    }
    /* records: ours (seal on the client's keys, open on the server's) and
     * mbedTLS's (server writes, client reads), per suite and size */
    const size_t rsizes[2] = {100, 1200};
    const uint8_t ours_suites[3] = {DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM, DTLS_OFFER_CHACHA20};
    const uint8_t mbed_suites[3] = {MBED_DTLS_AES_128_GCM, MBED_DTLS_AES_256_GCM, MBED_DTLS_CHACHA20};
    double rec_ours[3][2][100], rec_mbed[3][2][100], rec_portable[2][100];
    size_t rec_heap = 0, gcm_heap = 0;
    const int n_rec = 20000;
    for (int su = 0; su < 3; su++) {
        static struct mbed_dtls mc, msv;
        if (!ours_pair(&cp, &cc, &sc, ours_suites[su], c, s, &crec, &srec) ||
            !mbed_pair(&mcc, &msc, mbed_suites[su], &mc, &msv)) {
            fprintf(stderr, "record set-up failed\n");
            return 1;
        }
        /* a pair on the portable path, keys of its own */
        static const uint8_t pk[32] = {7}, piv[12] = {9};
        struct dtls_record pa, pb;
        dtls_record_init_keys_impl(&pa, DTLS_SUITE_AES_128_GCM, pk, piv, pk, piv, 0, AES_IMPL_PORTABLE);
        dtls_record_init_keys_impl(&pb, DTLS_SUITE_AES_128_GCM, pk, piv, pk, piv, 0, AES_IMPL_PORTABLE);
        uint8_t b[1600], out[1600], payload[1200];
        memset(payload, 0x5a, sizeof(payload));
        for (int z = 0; z < 2; z++) {
            size_t len = rsizes[z];
            for (int r = 0; r < reps; r++) {
                if (su == 0) {
                    double t0 = bench_now_ns();
                    for (int k = 0; k < n_rec; k++) {
                        size_t used;
                        uint8_t type;
                        int n = dtls_record_seal(&pa, DTLS_CT_APPLICATION_DATA, payload, len, b, sizeof(b));
                        sink += dtls_record_open(&pb, b, (size_t)n, &used, &type, out, sizeof(out));
                    }
                    rec_portable[z][r] = (bench_now_ns() - t0) / n_rec;
                }
                double t0 = bench_now_ns();
                for (int k = 0; k < n_rec; k++) {
                    size_t used;
                    uint8_t type;
                    int n = dtls_record_seal(&crec, DTLS_CT_APPLICATION_DATA, payload, len, b, sizeof(b));
                    sink += dtls_record_open(&srec, b, (size_t)n, &used, &type, out, sizeof(out));
                }
                rec_ours[su][z][r] = (bench_now_ns() - t0) / n_rec;
                t0 = bench_now_ns();
                for (int k = 0; k < n_rec; k++) {
                    sink += mbed_dtls_write(&msv, payload, len, 0);
                    size_t n = mbed_dtls_poll_transmit(&msv, b, sizeof(b), 0); /* the datagram crosses */
                    mbed_dtls_handle_input(&mc, b, n, 0);
                    sink += mbed_dtls_read(&mc, out, sizeof(out));
                }
                rec_mbed[su][z][r] = (bench_now_ns() - t0) / n_rec;
            }
        }
        dtls_free(c);
        dtls_free(s);
        dtls_record_free(&crec);
        dtls_record_free(&srec);
        mbed_dtls_free(&mc);
        mbed_dtls_free(&msv);
    }
    dtls_cert_free(&cc);
    dtls_cert_free(&sc);
    mbed_dtls_cert_free(&mcc);
    mbed_dtls_cert_free(&msc);
    cp_destroy(&cp);
    { /* what mbedTLS's own GCM context would have cost per direction */
        static const uint8_t k16[16];
        mbedtls_gcm_context g;
        mbedtls_gcm_init(&g);
        struct mallinfo2 g0 = mallinfo2();
        mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, k16, 128);
        struct mallinfo2 g1 = mallinfo2();
        gcm_heap = g1.uordblks - g0.uordblks;
        mbedtls_gcm_free(&g);
    }
    /* SRTP: a 160-byte audio packet (12-byte header, 148 bytes of payload) */
    media_srtp_global_init();
    double srtp_ns[2][100];
    size_t srtp_heap[2] = {0, 0};
    const enum media_suite ms[2] = {MEDIA_AES128_CM_SHA1_80, MEDIA_AEAD_AES_128_GCM};
    const int n_srtp = 100000;
    for (int su = 0; su < 2; su++) {
        uint8_t ka[32], kb2[32];
        for (int i = 0; i < 32; i++)
            ka[i] = (uint8_t)i, kb2[i] = (uint8_t)(i + 100);
        struct media_srtp a, bb;
        media_srtp_init(&a, ms[su], ka, kb2); /* the first also warms libsrtp2 up */
        struct mallinfo2 m0 = mallinfo2();
        media_srtp_init(&bb, ms[su], kb2, ka);
        struct mallinfo2 m1 = mallinfo2();
        srtp_heap[su] = m1.uordblks - m0.uordblks; /* one connection's two sessions */
        uint32_t seq = 1;
        for (int r = 0; r < reps; r++) {
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
            srtp_ns[su][r] = (bench_now_ns() - t0) / n_srtp;
        }
        media_srtp_free(&a);
        media_srtp_free(&bb);
    }
    /* ours beside libsrtp2: protect (one end) + unprotect (the other) of one
     * RTP packet, 12-byte header, AES128_CM_HMAC_SHA1_80 */
    const size_t ssz[2] = {160, 1200};
    const int n_ss[2] = {100000, 25000};
    double ss_ours[2][100], ss_lib[2][100];
    size_t ss_heap;
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
        ss_heap = (o1.uordblks - o0.uordblks) / 2;
        uint32_t oseq = 1, lseq = 1;
        for (int z = 0; z < 2; z++)
            for (int r = 0; r < reps; r++) {
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
                ss_ours[z][r] = (bench_now_ns() - t0) / n_ss[z];
                t0 = bench_now_ns();
                for (int k = 0; k < n_ss[z]; k++) {
                    pkt[2] = (uint8_t)(lseq >> 8);
                    pkt[3] = (uint8_t)lseq++;
                    int len = (int)ssz[z];
                    sink += media_protect_rtp(&la, pkt, &len, (int)sizeof(pkt));
                    sink += media_unprotect_rtp(&lb, pkt, &len);
                }
                ss_lib[z][r] = (bench_now_ns() - t0) / n_ss[z];
            }
        if (srtps_counters(&oa)->protected_rtp != srtps_counters(&ob)->unprotected_rtp ||
            la.c.protected_rtp != lb.c.unprotected_rtp) {
            fprintf(stderr, "SRTP comparison: packets refused\n");
            return 1;
        }
        media_srtp_free(&la);
        media_srtp_free(&lb);
    }
    printf("median of %d rounds\n", reps);
    printf("ed25519 sign   (64 B)          %8.2f us\n", bench_median(sign, reps) / 1e3);
    printf("ed25519 verify (64 B)          %8.2f us\n", bench_median(verify, reps) / 1e3);
    printf("ICE check: build + parse + verify MI and FINGERPRINT  %8.0f ns\n", bench_median(stun, reps));
    double h = bench_median(hs, reps);
    printf("DTLS 1.2 handshake (ours), both ends on one core    %8.3f ms  (%.0f handshakes/s per core; "
           "pc_bench sets them beside mbedTLS)\n",
           h / 1e6, 1e9 / h);
    const char *sname[3] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
    printf("DTLS record seal+open           ours ns   mbedTLS ns   mbedTLS/ours\n");
    for (int su = 0; su < 3; su++)
        for (int z = 0; z < 2; z++) {
            double o = bench_median(rec_ours[su][z], reps), mb = bench_median(rec_mbed[su][z], reps);
            printf("  %-17s %5zu B %9.0f %12.0f %10.2fx\n", sname[su], rsizes[z], o, mb, mb / o);
        }
    for (int z = 0; z < 2; z++)
        printf("  AES-128-GCM, portable path  %5zu B %9.0f\n", rsizes[z], bench_median(rec_portable[z], reps));
    printf("DTLS record layer state per connection: %zu bytes, heap %zu bytes; mbedtls_gcm_setkey's heap: %zu bytes "
           "per direction\n", sizeof(struct dtls_record), rec_heap, gcm_heap);
    printf("handshake slot: %zu bytes; heap held after %d handshakes: %zu bytes\n", dtls_endpoint_size(), n_hs,
           hs_heap);
    for (int su = 0; su < 2; su++)
        printf("SRTP protect+unprotect 160 B, %-22s %6.0f ns  (libsrtp2 heap per session pair: %zu bytes)\n",
               su ? "AEAD_AES_128_GCM" : "AES128_CM_HMAC_SHA1_80", bench_median(srtp_ns[su], reps), srtp_heap[su]);
    printf("SRTP protect+unprotect, AES128_CM_HMAC_SHA1_80   ours ns   libsrtp2 ns"
           "   libsrtp2/ours\n");
    for (int z = 0; z < 2; z++) {
        double o = bench_median(ss_ours[z], reps), l = bench_median(ss_lib[z], reps);
        printf("  %5zu B %33.0f %13.0f %13.2fx\n", ssz[z], o, l, l / o);
    }
    printf("SRTP state per connection, both directions: ours %zu bytes (heap %zu), "
           "libsrtp2 %zu bytes + heap %zu\n",
           sizeof(struct srtps_session), ss_heap, sizeof(struct media_srtp), srtp_heap[0]);
    return sink == 12345 ? 1 : 0;
}
