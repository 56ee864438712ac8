/* SPDX-License-Identifier: MIT */
/*
 * timed_cp: a crypto provider that hands every call on to another one and
 * adds up the time spent in each kind of primitive (public-key operations,
 * hashes, random bytes), so a benchmark can say where a handshake's time
 * goes. The clock read around each call costs about 20-40 ns; a handshake
 * makes a few hundred calls, so the split is accurate to about 1 %.
 * Header-only; benchmarks only.
 */
#ifndef SWARMGEN_BENCH_TIMED_CP_H
#define SWARMGEN_BENCH_TIMED_CP_H

#include "bench.h"
#include "cp.h"

enum timed_kind { TK_KEYGEN, TK_ECDH, TK_SIGN, TK_VERIFY, TK_HASH, TK_RANDOM, TK_COUNT };

static const char *const timed_kind_names[TK_COUNT] = {"ECDHE key generation", "ECDH shared secret",
                                                       "ECDSA sign", "ECDSA verify", "hashes (SHA-256/384)",
                                                       "random bytes"};

struct timed_cp {
    struct cp inner;
    double ns[TK_COUNT];
    unsigned long calls[TK_COUNT];
};

#define TIMED(kind, call)                                                                                  \
    do {                                                                                                   \
        struct timed_cp *t = self;                                                                         \
        double t0 = bench_now_ns();                                                                        \
        call;                                                                                              \
        t->ns[kind] += bench_now_ns() - t0;                                                                \
        t->calls[kind]++;                                                                                  \
    } while (0)

static int timed_random(void *self, uint8_t *out, size_t len)
{
    int rc;
    TIMED(TK_RANDOM, rc = t->inner.ops->random(t->inner.self, out, len));
    return rc;
}

static void timed_hash_init(void *self, struct cp_hash *h, enum cp_hash_alg alg)
{
    TIMED(TK_HASH, t->inner.ops->hash_init(t->inner.self, h, alg));
}

static void timed_hash_update(void *self, struct cp_hash *h, const void *p, size_t len)
{
    TIMED(TK_HASH, t->inner.ops->hash_update(t->inner.self, h, p, len));
}

static void timed_hash_final(void *self, struct cp_hash *h, uint8_t *out)
{
    TIMED(TK_HASH, t->inner.ops->hash_final(t->inner.self, h, out));
}

static int timed_keygen(void *self, enum cp_group g, uint8_t *priv, uint8_t *pub)
{
    int rc;
    TIMED(TK_KEYGEN, rc = t->inner.ops->ecdh_keygen(t->inner.self, g, priv, pub));
    return rc;
}

static int timed_shared(void *self, enum cp_group g, const uint8_t *priv, const uint8_t *peer, size_t peer_len,
                        uint8_t *shared)
{
    int rc;
    TIMED(TK_ECDH, rc = t->inner.ops->ecdh_shared(t->inner.self, g, priv, peer, peer_len, shared));
    return rc;
}

static int timed_sign(void *self, const uint8_t *priv, const uint8_t *digest, uint8_t *sig, size_t *sig_len)
{
    int rc;
    TIMED(TK_SIGN, rc = t->inner.ops->ecdsa_p256_sign(t->inner.self, priv, digest, sig, sig_len));
    return rc;
}

static int timed_verify(void *self, const uint8_t *pub, const uint8_t *digest, const uint8_t *sig, size_t sig_len)
{
    int rc;
    TIMED(TK_VERIFY, rc = t->inner.ops->ecdsa_p256_verify(t->inner.self, pub, digest, sig, sig_len));
    return rc;
}

static int timed_public(void *self, const uint8_t *priv, uint8_t *pub)
{
    int rc;
    TIMED(TK_KEYGEN, rc = t->inner.ops->p256_public(t->inner.self, priv, pub));
    return rc;
}

static void timed_destroy(void *self)
{
    (void)self;
}

static const struct cp_ops timed_cp_ops = {
    .name = "timed",
    .random = timed_random,
    .hash_init = timed_hash_init,
    .hash_update = timed_hash_update,
    .hash_final = timed_hash_final,
    .ecdh_keygen = timed_keygen,
    .ecdh_shared = timed_shared,
    .ecdsa_p256_sign = timed_sign,
    .ecdsa_p256_verify = timed_verify,
    .p256_public = timed_public,
    .destroy = timed_destroy,
};

/* A provider timing inner's calls into t (which must outlive it). */
static inline struct cp timed_cp_wrap(struct timed_cp *t, const struct cp *inner)
{
    memset(t, 0, sizeof(*t));
    t->inner = *inner;
    struct cp c = {&timed_cp_ops, t};
    return c;
}

static inline void timed_cp_reset(struct timed_cp *t)
{
    memset(t->ns, 0, sizeof(t->ns));
    memset(t->calls, 0, sizeof(t->calls));
}

#undef TIMED

#endif
