/* SPDX-License-Identifier: MIT */
/*
 * Crypto benchmark (partial: the engines that exist so far): Ed25519 sign
 * and verify of a 64-byte agent message, and one ICE check message built
 * (USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY,
 * FINGERPRINT) and then parsed and verified, and full DTLS 1.2 handshakes
 * (ECDHE X25519, ECDSA P-256, use_srtp, both ends on this core, in memory).
 * Medians of REPS rounds, printed; not a test.
 *   build-release/bench/crypto/crypto_bench [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "dtls.h"
#include "sig.h"
#include "stun.h"

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
    dtls_cert_free(&cc);
    dtls_cert_free(&sc);
    printf("median of %d rounds\n", reps);
    printf("ed25519 sign   (64 B)          %8.2f us\n", bench_median(sign, reps) / 1e3);
    printf("ed25519 verify (64 B)          %8.2f us\n", bench_median(verify, reps) / 1e3);
    printf("ICE check: build + parse + verify MI and FINGERPRINT  %8.0f ns\n", bench_median(stun, reps));
    double h = bench_median(hs, reps);
    printf("DTLS 1.2 handshake, both ends on one core           %8.2f ms  (%.0f handshakes/s per core)\n",
           h / 1e6, 1e9 / h);
    return sink == 12345 ? 1 : 0;
}
