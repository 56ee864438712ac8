/* SPDX-License-Identifier: MIT */
/*
 * cp_default: the default crypto primitive provider (cp.h).
 *
 * Each primitive comes from the Debian library that measured fastest on
 * this machine among those the crypto library links (bench/crypto/pk_bench,
 * docs/crypto_primitives.md; release build, medians, ns per call):
 *
 *   P-256 keygen, ECDSA sign/verify, ECDH   OpenSSL low-level API
 *     (EC_POINT_mul, ECDSA_sign, ECDSA_do_verify)  12 k / 20 k / 67 k / 50 k
 *   X25519 keygen / derive                  libsodium      33 k / 35 k
 *   SHA-256 (SHA-NI), SHA-384               OpenSSL SHA256_*, SHA384_*
 *                                           86 (64 B), 640 / 1,550 (1 KiB)
 *   random (32 B)                           libsodium randombytes_buf  275
 *
 * The EVP layer is avoided on purpose: an EVP_PKEY made from raw bytes
 * costs 15 us (EVP_PKEY_fromdata) to 115 us (d2i_PUBKEY, through the
 * decoders), EVP's ECDH 119 us against 50 here, and OpenSSL 3 has no
 * X25519 outside EVP (73 us a derive from raw keys: making the private key
 * computes its public key too).
 *
 * The provider's self holds the P-256 group and scratch objects (two
 * EC_KEYs, two points, two scalars, a BN_CTX), made once by
 * cp_default_create and reused by every call, so a call only allocates what
 * OpenSSL allocates inside itself and frees before returning (none for a
 * keygen, 3 for an ECDH, 37 for a signature, 38 for a verify). Nothing here
 * is global; one instance per thread; nothing reads a clock.
 */
#define OPENSSL_API_COMPAT 0x10101000L

#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "cp.h"

static_assert(sizeof(SHA256_CTX) <= CP_HASH_STATE, "SHA-256 context must fit struct cp_hash");
static_assert(sizeof(SHA512_CTX) <= CP_HASH_STATE, "SHA-384 context must fit struct cp_hash");
static_assert(alignof(SHA256_CTX) <= 16 && alignof(SHA512_CTX) <= 16,
              "cp_hash state is 16-byte aligned");

/* The provider's scratch state, one per thread. */
struct cp_default {
    EC_GROUP *p256;      /* the curve, with its precomputed generator table */
    const BIGNUM *order; /* owned by p256 */
    EC_KEY *sign_key;    /* private scalar of the signature being made */
    EC_KEY *verify_key;  /* public point of the signature being checked */
    EC_POINT *peer;      /* a decoded peer point */
    EC_POINT *point;     /* a product */
    BIGNUM *scalar;      /* a private scalar, cleared after each use */
    BIGNUM *x;           /* an affine X coordinate */
    BN_CTX *bn;          /* OpenSSL's temporaries for point arithmetic */
};

/* ---- random ------------------------------------------------------------ */

/* libsodium's generator (getrandom(2) underneath): never fails once
 * sodium_init has run, which cp_default_create ensures. */
static int cpd_random(void *self, uint8_t *out, size_t len)
{
    (void)self;
    randombytes_buf(out, len);
    return 0;
}

/* ---- hashes -------------------------------------------------------------- */

static void cpd_hash_init(void *self, struct cp_hash *h, enum cp_hash_alg alg)
{
    (void)self;
    h->alg = (uint8_t)alg;
    if (alg == CP_SHA384)
        SHA384_Init((SHA512_CTX *)(void *)h->state);
    else
        SHA256_Init((SHA256_CTX *)(void *)h->state);
}

static void cpd_hash_update(void *self, struct cp_hash *h, const void *p, size_t len)
{
    (void)self;
    if (h->alg == CP_SHA384)
        SHA384_Update((SHA512_CTX *)(void *)h->state, p, len);
    else if (h->alg == CP_SHA256)
        SHA256_Update((SHA256_CTX *)(void *)h->state, p, len);
}

static void cpd_hash_final(void *self, struct cp_hash *h, uint8_t *out)
{
    (void)self;
    if (h->alg == CP_SHA384)
        SHA384_Final(out, (SHA512_CTX *)(void *)h->state);
    else if (h->alg == CP_SHA256)
        SHA256_Final(out, (SHA256_CTX *)(void *)h->state);
    h->alg = 0;
}

/* ---- P-256 ----------------------------------------------------------------- */

/* Loads a 32-byte big-endian scalar into s->scalar: 0, or -EINVAL unless
 * 1 <= priv < n. */
static int p256_load_scalar(struct cp_default *s, const uint8_t *priv)
{
    if (BN_bin2bn(priv, CP_P256_PRIV_LEN, s->scalar) == NULL)
        return -EIO;
    if (BN_is_zero(s->scalar) || BN_cmp(s->scalar, s->order) >= 0)
        return -EINVAL;
    return 0;
}

/* Decodes a 65-byte uncompressed point into pt: 0, or -EINVAL for another
 * length or form, or a point not on the curve. */
static int p256_load_point(struct cp_default *s, EC_POINT *pt, const uint8_t *pub, size_t len)
{
    if (len != CP_P256_PUB_LEN || pub[0] != POINT_CONVERSION_UNCOMPRESSED)
        return -EINVAL;
    /* oct2point checks the curve equation; the explicit check keeps that
     * promise independent of the OpenSSL version (it costs well under 1 %
     * of a verify) */
    if (EC_POINT_oct2point(s->p256, pt, pub, len, s->bn) != 1 ||
        EC_POINT_is_on_curve(s->p256, pt, s->bn) != 1)
        return -EINVAL;
    return 0;
}

/* s->point = scalar * (base, or the generator when base is NULL), written
 * as 65 bytes into pub when pub is not NULL and its X into x32 when x32 is
 * not NULL. 0, -EINVAL (the product is the point at infinity) or -EIO. */
static int p256_mul(struct cp_default *s, const EC_POINT *base, uint8_t *pub, uint8_t *x32)
{
    int ok = base ? EC_POINT_mul(s->p256, s->point, NULL, base, s->scalar, s->bn)
                  : EC_POINT_mul(s->p256, s->point, s->scalar, NULL, NULL, s->bn);
    if (ok != 1)
        return -EIO;
    if (EC_POINT_is_at_infinity(s->p256, s->point))
        return -EINVAL;
    if (pub && EC_POINT_point2oct(s->p256, s->point, POINT_CONVERSION_UNCOMPRESSED, pub,
                                  CP_P256_PUB_LEN, s->bn) != CP_P256_PUB_LEN)
        return -EIO;
    if (x32 && (EC_POINT_get_affine_coordinates(s->p256, s->point, s->x, NULL, s->bn) != 1 ||
                BN_bn2binpad(s->x, x32, CP_ECDH_SHARED_LEN) != CP_ECDH_SHARED_LEN))
        return -EIO;
    return 0;
}

static int cpd_p256_public(void *self, const uint8_t *priv, uint8_t *pub)
{
    struct cp_default *s = self;
    int rc = p256_load_scalar(s, priv);
    if (rc == 0)
        rc = p256_mul(s, NULL, pub, NULL);
    BN_clear(s->scalar);
    return rc;
}

/* A uniform scalar in [1, n-1] by rejection (n is within 2^-32 of 2^256,
 * so a retry is rare), and its public point. */
static int p256_keygen(struct cp_default *s, uint8_t *priv, uint8_t *pub)
{
    for (int tries = 0; tries < 64; tries++) {
        randombytes_buf(priv, CP_P256_PRIV_LEN);
        int rc = cpd_p256_public(s, priv, pub);
        if (rc != -EINVAL)
            return rc;
    }
    return -EIO;
}

static int p256_shared(struct cp_default *s, const uint8_t *priv, const uint8_t *peer,
                       size_t peer_len, uint8_t *shared)
{
    int rc = p256_load_point(s, s->peer, peer, peer_len);
    if (rc == 0)
        rc = p256_load_scalar(s, priv);
    if (rc == 0)
        rc = p256_mul(s, s->peer, NULL, shared);
    BN_clear(s->scalar);
    return rc;
}

static int cpd_ecdsa_p256_sign(void *self, const uint8_t *priv, const uint8_t *digest, uint8_t *sig,
                               size_t *sig_len)
{
    struct cp_default *s = self;
    int rc = p256_load_scalar(s, priv);
    BN_clear(s->scalar);
    if (rc != 0)
        return rc;
    if (EC_KEY_oct2priv(s->sign_key, priv, CP_P256_PRIV_LEN) != 1)
        return -EIO;
    unsigned int len = CP_ECDSA_SIG_MAX;
    int ok = ECDSA_sign(0, digest, CP_SHA256_LEN, sig, &len, s->sign_key);
    /* the key's scalar is cleared in place (its BIGNUM is reused next time) */
    BN_clear((BIGNUM *)EC_KEY_get0_private_key(s->sign_key));
    if (ok != 1)
        return -EIO;
    *sig_len = len;
    return 0;
}

/* Parses a DER Ecdsa-Sig-Value of exactly len bytes: the ECDSA_SIG (the
 * caller frees it) or NULL for anything but strict DER. */
static ECDSA_SIG *ecdsa_sig_parse(const uint8_t *der, size_t len)
{
    if (len == 0 || len > CP_ECDSA_SIG_MAX)
        return NULL;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (sig == NULL)
        return NULL;
    /* BER that d2i accepts (long-form lengths, padded integers) or trailing
     * bytes: re-encode and require the same bytes */
    uint8_t again[CP_ECDSA_SIG_MAX + 8];
    unsigned char *q = again;
    if ((size_t)(p - der) != len || i2d_ECDSA_SIG(sig, NULL) != (int)len ||
        i2d_ECDSA_SIG(sig, &q) != (int)len || memcmp(again, der, len) != 0) {
        ECDSA_SIG_free(sig);
        return NULL;
    }
    return sig;
}

static int cpd_ecdsa_p256_verify(void *self, const uint8_t *pub, const uint8_t *digest,
                                 const uint8_t *sig, size_t sig_len)
{
    struct cp_default *s = self;
    /* decoded straight into the key's own point, which oct2key reuses */
    if (pub[0] != POINT_CONVERSION_UNCOMPRESSED ||
        EC_KEY_oct2key(s->verify_key, pub, CP_P256_PUB_LEN, s->bn) != 1 ||
        EC_POINT_is_on_curve(s->p256, EC_KEY_get0_public_key(s->verify_key), s->bn) != 1)
        return -EINVAL;
    ECDSA_SIG *es = ecdsa_sig_parse(sig, sig_len);
    if (es == NULL)
        return -EINVAL;
    int ok = ECDSA_do_verify(digest, CP_SHA256_LEN, es, s->verify_key);
    ECDSA_SIG_free(es);
    return ok == 1 ? 0 : ok == 0 ? -EBADMSG : -EIO;
}

/* ---- X25519 --------------------------------------------------------------- */

static int x25519_keygen(uint8_t *priv, uint8_t *pub)
{
    randombytes_buf(priv, CP_X25519_LEN);
    return crypto_scalarmult_curve25519_base(pub, priv) == 0 ? 0 : -EIO;
}

/* libsodium refuses the known small-order points and an all-zero result. */
static int x25519_shared(const uint8_t *priv, const uint8_t *peer, size_t peer_len, uint8_t *shared)
{
    if (peer_len != CP_X25519_LEN)
        return -EINVAL;
    return crypto_scalarmult_curve25519(shared, priv, peer) == 0 ? 0 : -EINVAL;
}

/* ---- ECDH dispatch ----------------------------------------------------- */

static int cpd_ecdh_keygen(void *self, enum cp_group g, uint8_t *priv, uint8_t *pub)
{
    if (g == CP_GROUP_X25519)
        return x25519_keygen(priv, pub);
    if (g == CP_GROUP_SECP256R1)
        return p256_keygen(self, priv, pub);
    return -EINVAL;
}

static int cpd_ecdh_shared(void *self, enum cp_group g, const uint8_t *priv, const uint8_t *peer,
                           size_t peer_len, uint8_t *shared)
{
    if (g == CP_GROUP_X25519)
        return x25519_shared(priv, peer, peer_len, shared);
    if (g == CP_GROUP_SECP256R1)
        return p256_shared(self, priv, peer, peer_len, shared);
    return -EINVAL;
}

/* ---- life cycle ------------------------------------------------------------ */

static void cpd_destroy(void *self)
{
    struct cp_default *s = self;
    if (s == NULL)
        return;
    BN_CTX_free(s->bn);
    BN_clear_free(s->x);
    BN_clear_free(s->scalar);
    EC_POINT_free(s->point);
    EC_POINT_free(s->peer);
    EC_KEY_free(s->verify_key);
    EC_KEY_free(s->sign_key);
    EC_GROUP_free(s->p256);
    free(s);
}

static const struct cp_ops cpd_ops = {
    .name = "default (OpenSSL low-level P-256 and SHA-2, libsodium X25519 and random)",
    .random = cpd_random,
    .hash_init = cpd_hash_init,
    .hash_update = cpd_hash_update,
    .hash_final = cpd_hash_final,
    .ecdh_keygen = cpd_ecdh_keygen,
    .ecdh_shared = cpd_ecdh_shared,
    .ecdsa_p256_sign = cpd_ecdsa_p256_sign,
    .ecdsa_p256_verify = cpd_ecdsa_p256_verify,
    .p256_public = cpd_p256_public,
    .destroy = cpd_destroy,
};

int cp_default_create(struct cp *cp)
{
    memset(cp, 0, sizeof(*cp));
    if (sodium_init() < 0) /* thread-safe, once per process */
        return -EIO;
    struct cp_default *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (s->p256 != NULL) {
        s->order = EC_GROUP_get0_order(s->p256);
        s->sign_key = EC_KEY_new();
        s->verify_key = EC_KEY_new();
        s->point = EC_POINT_new(s->p256);
        s->peer = EC_POINT_new(s->p256);
    }
    s->scalar = BN_new();
    s->x = BN_new();
    s->bn = BN_CTX_new();
    if (s->p256 == NULL || s->sign_key == NULL || s->verify_key == NULL || s->point == NULL ||
        s->peer == NULL || s->scalar == NULL || s->x == NULL || s->bn == NULL ||
        EC_KEY_set_group(s->sign_key, s->p256) != 1 ||
        EC_KEY_set_group(s->verify_key, s->p256) != 1) {
        cpd_destroy(s);
        return -ENOMEM;
    }
    cp->ops = &cpd_ops;
    cp->self = s;
    return 0;
}

void cp_destroy(struct cp *cp)
{
    if (cp->ops != NULL && cp->ops->destroy != NULL)
        cp->ops->destroy(cp->self);
    memset(cp, 0, sizeof(*cp));
}

void cp_hash_once(const struct cp *cp, enum cp_hash_alg alg, const void *p, size_t len,
                  uint8_t *out)
{
    struct cp_hash h;
    cp->ops->hash_init(cp->self, &h, alg);
    cp->ops->hash_update(cp->self, &h, p, len);
    cp->ops->hash_final(cp->self, &h, out);
}
