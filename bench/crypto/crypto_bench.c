/* SPDX-License-Identifier: MIT */
/*
 * Crypto benchmark (partial: the engines that exist so far): Ed25519 sign
 * and verify of a 64-byte agent message, and one ICE check message built
 * (USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY,
 * FINGERPRINT) and then parsed and verified, and full DTLS 1.2 handshakes
 * (ECDHE X25519, ECDSA P-256, use_srtp, both ends on this core, in memory).
 * Then, after one more handshake per suite, application records sealed
 * and opened by our record layer and, side by side, written and read by
 * the two mbedTLS sessions (the same keys, the same sizes: 100 and 1,200
 * bytes of plaintext; mbedTLS on a 1,500-byte datagram limit so the larger
 * fits), with the ratio, and our GCM on its portable GHASH; SRTP protect +
 * unprotect of a 160-byte audio packet (libsrtp2, both profiles), and our
 * SRTP (crypto/srtp_session.h) beside libsrtp2 on 160- and 1,200-byte RTP
 * packets (AES128_CM_HMAC_SHA1_80, medians side by side); and heap
 * use by mallinfo2 deltas: mbedTLS's heap per endpoint at the end of a
 * handshake, our record layer's (none), one mbedtls_gcm_setkey's, a
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
#include "media_srtp.h"
#include "sig.h"
#include "srtp_session.h"
#include "stun.h"

/* The mbedTLS sessions' transport for the record benchmark: one datagram
 * at a time, up to 1,600 bytes (the endpoint's own queue keeps to 1,200). */
struct wire {
    uint8_t buf[1600];
    size_t len;
};

static int wire_send(void *ctx, const unsigned char *b, size_t n)
{
    struct wire *w = ctx;
    if (w->len || n > sizeof(w->buf))
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    memcpy(w->buf, b, n);
    w->len = n;
    return (int)n;
}

static int wire_recv(void *ctx, unsigned char *b, size_t n)
{
    struct wire *w = ctx;
    if (!w->len)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t l = w->len < n ? w->len : n;
    memcpy(b, w->buf, l);
    w->len = 0;
    return (int)l;
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
    /* DTLS handshakes, both endpoints on this core */
    struct dtls_cert cc, sc;
    if (dtls_cert_generate(&cc, 1) || dtls_cert_generate(&sc, 2)) {
        fprintf(stderr, "certificate generation failed\n");
        return 1;
    }
    double hs[100];
    static struct dtls_endpoint c, s;
    static const uint8_t id[] = "198.18.0.1:5000";
    const int n_hs = 20;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now_ns();
        for (int k = 0; k < n_hs; k++) {
            struct dtls_config ccfg = {false, &cc, sc.fingerprint, (uint64_t)k * 2 + 1, NULL, 0, 0, 0};
            struct dtls_config scfg = {true, &sc, cc.fingerprint, (uint64_t)k * 2 + 2, id, sizeof(id) - 1, 0, 0};
            dtls_init(&c, &ccfg, 0);
            dtls_init(&s, &scfg, 0);
            dtls_start(&c, 0);
            uint8_t b[DTLS_MTU];
            bool up = false;
            for (int step = 0; step < 100 && !up; step++) {
                int n;
                while ((n = dtls_poll_transmit(&c, b, sizeof(b))) > 0)
                    dtls_handle_input(&s, b, (size_t)n, 0);
                while ((n = dtls_poll_transmit(&s, b, sizeof(b))) > 0)
                    dtls_handle_input(&c, b, (size_t)n, 0);
                up = c.connected && s.connected;
            }
            sink += !up;
            dtls_free(&c);
            dtls_free(&s);
        }
        hs[r] = (bench_now_ns() - t0) / n_hs;
    }
    /* records: ours (seal on the client's keys, open on the server's) and
     * mbedTLS's (server writes, client reads), per suite and size */
    const size_t rsizes[2] = {100, 1200};
    double rec_ours[2][2][100], rec_mbed[2][2][100], rec_portable[2][100];
    size_t hs_heap = 0, rec_heap = 0, gcm_heap = 0;
    const int n_rec = 20000;
    for (int su = 0; su < 2; su++) {
        struct dtls_config ccfg = {false, &cc, sc.fingerprint, 91, NULL, 0, 0, 0, (uint8_t)(su + 1)};
        struct dtls_config scfg = {true, &sc, cc.fingerprint, 92, id, sizeof(id) - 1, 0, 0, (uint8_t)(su + 1)};
        struct mallinfo2 h0 = mallinfo2();
        dtls_init(&c, &ccfg, 0);
        dtls_init(&s, &scfg, 0);
        dtls_start(&c, 0);
        uint8_t b[1600], out[1600], payload[1200];
        memset(payload, 0x5a, sizeof(payload));
        for (int step = 0; step < 100 && !(c.connected && s.connected); step++) {
            int n;
            while ((n = dtls_poll_transmit(&c, b, sizeof(b))) > 0)
                dtls_handle_input(&s, b, (size_t)n, 0);
            while ((n = dtls_poll_transmit(&s, b, sizeof(b))) > 0)
                dtls_handle_input(&c, b, (size_t)n, 0);
        }
        struct mallinfo2 h1 = mallinfo2();
        if (su == 0)
            hs_heap = (h1.uordblks - h0.uordblks) / 2; /* per endpoint, handshake done */
        struct dtls_record ra, rb, pa, pb;
        if (!c.connected || !s.connected || dtls_record_init_from(&ra, &c) || dtls_record_init_from(&rb, &s) ||
            dtls_record_init_from(&pa, &c) || dtls_record_init_from(&pb, &s)) {
            fprintf(stderr, "record set-up failed\n");
            return 1;
        }
        struct mallinfo2 h2 = mallinfo2();
        rec_heap += h2.uordblks - h1.uordblks;
        pa.clmul = pb.clmul = false;
        /* mbedTLS's sessions on a transport that takes 1,200-byte plaintexts */
        static struct wire ws, wc;
        ws.len = wc.len = 0;
        mbedtls_ssl_set_bio(&s.ssl, &ws, wire_send, wire_recv, NULL);
        mbedtls_ssl_set_bio(&c.ssl, &wc, wire_send, wire_recv, NULL);
        mbedtls_ssl_set_mtu(&s.ssl, 1500);
        mbedtls_ssl_set_mtu(&c.ssl, 1500);
        for (int z = 0; z < 2; z++) {
            size_t len = rsizes[z];
            if (mbedtls_ssl_write(&s.ssl, payload, len) != (int)len) {
                fprintf(stderr, "mbedTLS will not write %zu bytes\n", len);
                return 1;
            }
            ws.len = 0;
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
                    int n = dtls_record_seal(&ra, DTLS_CT_APPLICATION_DATA, payload, len, b, sizeof(b));
                    sink += dtls_record_open(&rb, b, (size_t)n, &used, &type, out, sizeof(out));
                }
                rec_ours[su][z][r] = (bench_now_ns() - t0) / n_rec;
                t0 = bench_now_ns();
                for (int k = 0; k < n_rec; k++) {
                    sink += mbedtls_ssl_write(&s.ssl, payload, len);
                    memcpy(wc.buf, ws.buf, ws.len); /* the datagram crosses */
                    wc.len = ws.len;
                    ws.len = 0;
                    sink += mbedtls_ssl_read(&c.ssl, out, sizeof(out));
                }
                rec_mbed[su][z][r] = (bench_now_ns() - t0) / n_rec;
            }
        }
        dtls_record_free(&ra);
        dtls_record_free(&rb);
        dtls_record_free(&pa);
        dtls_record_free(&pb);
        dtls_free(&c);
        dtls_free(&s);
    }
    dtls_cert_free(&cc);
    dtls_cert_free(&sc);
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
        if (oa.c.protected_rtp != ob.c.unprotected_rtp ||
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
    printf("DTLS 1.2 handshake, both ends on one core           %8.2f ms  (%.0f handshakes/s per core)\n",
           h / 1e6, 1e9 / h);
    const char *sname[2] = {"AES-128-GCM", "ChaCha20-Poly1305"};
    printf("DTLS record seal+open           ours ns   mbedTLS ns   mbedTLS/ours\n");
    for (int su = 0; su < 2; su++)
        for (int z = 0; z < 2; z++) {
            double o = bench_median(rec_ours[su][z], reps), mb = bench_median(rec_mbed[su][z], reps);
            printf("  %-17s %5zu B %9.0f %12.0f %10.2fx\n", sname[su], rsizes[z], o, mb, mb / o);
        }
    for (int z = 0; z < 2; z++)
        printf("  AES-128-GCM, portable GHASH %5zu B %9.0f\n", rsizes[z], bench_median(rec_portable[z], reps));
    printf("DTLS record layer state per connection: %zu bytes, heap %zu bytes; mbedtls_gcm_setkey's heap: %zu bytes "
           "per direction\n", sizeof(struct dtls_record), rec_heap, gcm_heap);
    printf("handshake slot: %zu bytes + mbedTLS heap %zu bytes per endpoint at the end of the handshake\n",
           sizeof(struct dtls_endpoint), hs_heap);
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
