/* SPDX-License-Identifier: MIT */
/*
 * mbed_glue: what every mbedTLS 2.28 DTLS endpoint in the tree needs around
 * mbedTLS's ssl context, written once for the usrsctp baseline's endpoint
 * (baseline/us_dtls.c) and the tests' independent peer
 * (tests/common/mbed_dtls.c): a CTR-DRBG seeded reproducibly from a 64-bit
 * seed, mbedTLS's DTLS retransmission timer on the caller's clock, and the
 * check of a peer certificate against its SDP fingerprint.
 *
 * Time model: the timer never reads a clock; its owner passes `now` (ns,
 * monotonic) to every call. Memory: the caller's. Thread-safety: a DRBG,
 * its state and a timer belong to one thread. Header-only.
 */
#ifndef SWARMGEN_MBED_GLUE_H
#define SWARMGEN_MBED_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

/* mbedtls_ctr_drbg_seed's entropy source: splitmix64 bytes from the state
 * behind `state` (a uint64_t). */
static inline int mbed_glue_entropy(void *state, unsigned char *out, size_t len)
{
    uint64_t *s = state;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        out[i] = (unsigned char)(z ^ (z >> 31));
    }
    return 0;
}

/* Seeds drbg from *state (set it to the seed first) with personalisation
 * `pers`: the same seed, the same bytes. *state must live as long as the
 * DRBG (it reseeds from it). Returns 0 or a negative mbedTLS error. */
static inline int mbed_glue_drbg_seed(mbedtls_ctr_drbg_context *drbg, uint64_t *state, const char *pers)
{
    return mbedtls_ctr_drbg_seed(drbg, mbed_glue_entropy, state, (const unsigned char *)pers, strlen(pers));
}

/* mbedTLS's DTLS retransmission timer (mbedtls_ssl_set_timer_cb): armed
 * with an intermediate and a final delay; mbedTLS acts on the final one. */
struct mbed_glue_timer {
    uint64_t set;    /* ns when armed */
    uint64_t int_ns; /* the intermediate delay */
    uint64_t fin_ns; /* the final delay; 0: cancelled */
};

/* The f_set_timer callback's work: arms t at `now` with int_ms and fin_ms
 * (fin_ms 0 cancels). */
static inline void mbed_glue_timer_arm(struct mbed_glue_timer *t, uint64_t now, uint32_t int_ms, uint32_t fin_ms)
{
    t->set = now;
    t->int_ns = (uint64_t)int_ms * 1000000u;
    t->fin_ns = (uint64_t)fin_ms * 1000000u;
}

/* The f_get_timer callback's answer at `now`: -1 cancelled, 0 no delay
 * passed, 1 the intermediate one passed, 2 the final one passed. */
static inline int mbed_glue_timer_state(const struct mbed_glue_timer *t, uint64_t now)
{
    if (t->fin_ns == 0)
        return -1;
    uint64_t el = now - t->set;
    return el >= t->fin_ns ? 2 : el >= t->int_ns ? 1 : 0;
}

/* True when the certificate's SHA-256 over its DER is `fp` (the peer's SDP
 * fingerprint): self-signed certificates, no CA. */
static inline bool mbed_glue_fingerprint_is(const mbedtls_x509_crt *crt, const uint8_t fp[32])
{
    uint8_t got[32];
    return mbedtls_sha256_ret(crt->raw.p, crt->raw.len, got, 0) == 0 && memcmp(got, fp, 32) == 0;
}

#endif
