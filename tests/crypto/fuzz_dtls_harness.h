/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dtls_harness: what the two libFuzzer targets of our DTLS engine
 * (fuzz_dtls.c, 1.2; fuzz_dtls13.c, 1.3) share: the deterministic stand-in
 * provider (the default provider's hashes, fake ECDH and signatures, so
 * that a handshake's bytes depend on the input alone), the providers and
 * certificates made once, the two endpoints in memory, and the checked
 * calls every mode goes through (events against the state, datagrams
 * polled and handed in against the counters, no datagram over the MTU,
 * nothing due once failed). Each target defines FUZZ_NAME (its name, for
 * CHECK's messages) and includes this once; its own end_init, modes and
 * edits follow.
 */
#ifndef SWARMGEN_TESTS_FUZZ_DTLS_HARNESS_H
#define SWARMGEN_TESTS_FUZZ_DTLS_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls.h"

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_dtls_harness.h"
#endif

#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__);                                           \
            fprintf(stderr, " (%s, line %d)\n", #c, __LINE__);                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MS    1000000ull
#define DGRAM 2048

/* ---- the stand-in provider ------------------------------------------- */

/* The default provider; the stand-in's self is the default's, for the
 * default's hashes, which it keeps. */
static struct cp real_cp;
static uint64_t fake_rng; /* the stand-in's generator, seeded per input */

static int fake_random(void *self, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (fake_rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        out[i] = (uint8_t)((z ^ (z >> 31)) >> 56);
    }
    return 0;
}

/* SHA-256 of a (alen bytes) || b (blen bytes), by the default's hash. */
static void fake_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t *out)
{
    struct cp_hash h;
    real_cp.ops->hash_init(real_cp.self, &h, CP_SHA256);
    real_cp.ops->hash_update(real_cp.self, &h, a, alen);
    real_cp.ops->hash_update(real_cp.self, &h, b, blen);
    real_cp.ops->hash_final(real_cp.self, &h, out);
}

/* A P-256 "public key": 04 || scalar || scalar. */
static void fake_pub(const uint8_t *priv, uint8_t *pub)
{
    pub[0] = 4;
    memcpy(pub + 1, priv, 32);
    memcpy(pub + 33, priv, 32);
}

static int fake_ecdh_keygen(void *self, enum cp_group g, uint8_t *priv, uint8_t *pub)
{
    if (g != CP_GROUP_SECP256R1 && g != CP_GROUP_X25519)
        return -EINVAL;
    fake_random(self, priv, 32);
    priv[0] |= 1; /* never all zeros */
    if (g == CP_GROUP_SECP256R1)
        fake_pub(priv, pub);
    else
        memcpy(pub, priv, 32);
    return 0;
}

static int fake_ecdh_shared(void *self, enum cp_group g, const uint8_t *priv, const uint8_t *peer,
                            size_t peer_len, uint8_t *shared)
{
    static const uint8_t zero[32];
    const uint8_t *theirs;
    if (g == CP_GROUP_SECP256R1) {
        if (peer_len != CP_P256_PUB_LEN || peer[0] != 4 || memcmp(peer + 1, peer + 33, 32) != 0)
            return -EINVAL;
        theirs = peer + 1;
    } else if (g == CP_GROUP_X25519) {
        if (peer_len != CP_X25519_LEN)
            return -EINVAL;
        theirs = peer;
    } else {
        return -EINVAL;
    }
    if (memcmp(theirs, zero, 32) == 0)
        return -EINVAL;
    bool mine_first = memcmp(priv, theirs, 32) <= 0;
    fake_sha256(mine_first ? priv : theirs, 32, mine_first ? theirs : priv, 32, shared);
    return 0;
}

#define FAKE_SIG_LEN 36 /* 30 22 04 20 || SHA-256(pub || digest) */

static void fake_sig_of(const uint8_t *pub, const uint8_t *digest, uint8_t *sig)
{
    sig[0] = 0x30, sig[1] = 0x22, sig[2] = 0x04, sig[3] = 0x20;
    fake_sha256(pub, CP_P256_PUB_LEN, digest, 32, sig + 4);
}

static int fake_sign(void *self, const uint8_t *priv, const uint8_t *digest, uint8_t *sig,
                     size_t *sig_len)
{
    uint8_t pub[CP_P256_PUB_LEN];
    fake_pub(priv, pub);
    fake_sig_of(pub, digest, sig);
    *sig_len = FAKE_SIG_LEN;
    return 0;
}

static int fake_verify(void *self, const uint8_t *pub, const uint8_t *digest, const uint8_t *sig,
                       size_t sig_len)
{
    uint8_t want[FAKE_SIG_LEN];
    if (pub[0] != 4 || sig_len != FAKE_SIG_LEN || memcmp(sig, "\x30\x22\x04\x20", 4) != 0)
        return -EINVAL;
    fake_sig_of(pub, digest, want);
    return memcmp(sig, want, FAKE_SIG_LEN) == 0 ? 0 : -EBADMSG;
}

static int fake_p256_public(void *self, const uint8_t *priv, uint8_t *pub)
{
    fake_pub(priv, pub);
    return 0;
}

static void fake_destroy(void *self)
{
    /* the self is the default's: it is the default that frees it */
}

/* The default's operations with the stand-in's in place of those it
 * replaces; made once, from the default's table. */
static struct cp_ops fake_ops;

static void fake_ops_init(const struct cp_ops *base)
{
    fake_ops = *base;
    fake_ops.name = "fuzz stand-in (deterministic, not cryptography)";
    fake_ops.random = fake_random;
    fake_ops.ecdh_keygen = fake_ecdh_keygen;
    fake_ops.ecdh_shared = fake_ecdh_shared;
    fake_ops.ecdsa_p256_sign = fake_sign;
    fake_ops.ecdsa_p256_verify = fake_verify;
    fake_ops.p256_public = fake_p256_public;
    fake_ops.destroy = fake_destroy;
}

/* ---- made once -------------------------------------------------------- */

enum { REAL, FAKE };

static struct cp providers[2];
static struct dtls_cert certs[2][2]; /* [provider][client, server] */

static void setup_once(void)
{
    static bool ready;
    if (ready)
        return;
    CHECK(cp_default_create(&real_cp) == 0, "no default provider");
    fake_ops_init(real_cp.ops);
    fake_rng = 1;
    providers[REAL] = real_cp;
    providers[FAKE] = (struct cp){&fake_ops, real_cp.self};
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < 2; s++)
            CHECK(dtls_cert_generate(&certs[p][s], &providers[p]) == 0, "no certificate");
    ready = true;
}

/* ---- the endpoints ---------------------------------------------------- */

struct end {
    _Alignas(64) uint8_t mem[4096];
    struct dtls_endpoint *e;
    struct dtls_record rec;
    struct dtls_record_keys keys; /* the record's alone */
    struct dtls_record_counters rec_counters;
    uint16_t mtu;
    unsigned sent;     /* datagrams poll_transmit gave */
    unsigned received; /* datagrams handed to dtls_handle_input */
    unsigned events;   /* events polled */
    bool up, down;
};

static struct end ends[2]; /* 0 client, 1 server */
static uint64_t now;

/* Events so far, checked against the state. */
static void end_events(struct end *x)
{
    enum dtls_event_type ev;
    while ((ev = dtls_poll_event(x->e, &(struct dtls_ev){0})) != DTLS_EV_NONE) {
        CHECK(ev == DTLS_EV_CONNECTED || ev == DTLS_EV_FAILED, "unknown event %d", ev);
        x->events++;
        x->up |= ev == DTLS_EV_CONNECTED;
        x->down |= ev == DTLS_EV_FAILED;
    }
    bool c = dtls_connected(x->e), f = dtls_failed(x->e);
    CHECK(!(c && f), "connected and failed");
    CHECK(x->events <= 1, "%u events", x->events);
    CHECK(x->up == c && x->down == f, "events (up %d down %d) disagree with the state (%d %d)",
          x->up, x->down, c, f);
    enum dtls_failure why = dtls_failure(x->e);
    CHECK((unsigned)why < DTLS_FAIL_COUNT, "failure %d", why);
    CHECK((why != DTLS_FAIL_NONE) == f, "failure %s while failed %d", dtls_failure_name(why), f);
}

/* The next datagram of side, checked; its length or 0. */
static size_t end_poll(struct end *x, uint8_t *buf)
{
    size_t n = dtls_poll_transmit(x->e, buf, DGRAM, now);
    CHECK(n <= x->mtu, "a datagram of %zu bytes over the MTU %u", n, x->mtu);
    if (n) {
        x->sent++;
        CHECK(dtls_counters(x->e)->datagrams_out == x->sent, "datagrams_out %u, sent %u",
              dtls_counters(x->e)->datagrams_out, x->sent);
    }
    return n;
}

static void end_input(struct end *x, const uint8_t *d, size_t len)
{
    enum engine_input rc = dtls_handle_input(x->e, d, len, now);
    x->received++;
    CHECK(dtls_counters(x->e)->datagrams_in == x->received, "datagrams_in %u, handed in %u",
          dtls_counters(x->e)->datagrams_in, x->received);
    CHECK(rc == ENGINE_IN_ACCEPTED || rc == ENGINE_IN_IGNORED || rc == ENGINE_IN_FATAL,
          "handle_input %s", engine_input_name(rc));
    if (rc == ENGINE_IN_FATAL)
        CHECK(dtls_failed(x->e), "fatal without failing");
    end_events(x);
}

/* Once failed and the alert out: nothing to send, nothing to wait for. */
static void end_quiet(struct end *x)
{
    uint8_t buf[DGRAM];
    if (!dtls_failed(x->e))
        return;
    while (end_poll(x, buf))
        ;
    CHECK(dtls_next_timeout(x->e) == UINT64_MAX, "a failed endpoint with a deadline");
}

/* Lets time pass to each deadline in turn (at most `rounds`), datagrams
 * out of side (0, 1, or -1 for both) dropped. */
static void run_timers(int rounds)
{
    uint8_t buf[DGRAM];
    for (int r = 0; r < rounds; r++) {
        uint64_t t = UINT64_MAX;
        for (int s = 0; s < 2; s++) {
            if (!ends[s].e)
                continue;
            while (end_poll(&ends[s], buf))
                ;
            uint64_t d = dtls_next_timeout(ends[s].e);
            t = d < t ? d : t;
        }
        if (t == UINT64_MAX)
            return;
        if (t > now)
            now = t;
        for (int s = 0; s < 2; s++) {
            if (ends[s].e) {
                dtls_handle_timeout(ends[s].e, now);
                end_events(&ends[s]);
            }
        }
    }
}

static void ends_free(void)
{
    for (int s = 0; s < 2; s++) {
        if (ends[s].e) {
            end_quiet(&ends[s]);
            dtls_free(ends[s].e);
            dtls_record_free(&ends[s].rec);
            ends[s].e = NULL;
        }
    }
}

#endif
