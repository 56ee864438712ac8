/* SPDX-License-Identifier: MIT */
/*
 * cp: the crypto primitive provider. The DTLS handshake (dtls.h), the
 * certificates (dtls_cert.h) and the TLS PRF (dtls_prf.h) reach every
 * public-key operation, hash and random byte through one `const struct
 * cp_ops` and its `self`, so a primitive can be swapped (another library,
 * a test double) without touching a state machine.
 *
 * The default provider (cp_default_create) takes each primitive from the
 * Debian library that measured fastest on this machine (docs/crypto.md,
 * bench/crypto/pk_bench): OpenSSL's libcrypto for P-256 and the hashes,
 * and whichever of libcrypto and libsodium wins for X25519.
 *
 * Keys are raw bytes the caller owns: a private key is a 32-byte scalar
 * (big-endian for P-256, RFC 7748 little-endian for X25519), a P-256
 * public key the 65-byte uncompressed point 04||X||Y, an X25519 public key
 * 32 bytes. ECDSA signatures are DER (RFC 5480 Ecdsa-Sig-Value, as TLS
 * carries them), at most CP_ECDSA_SIG_MAX bytes.
 *
 * Time model: none; nothing here reads a clock. Memory: hash contexts live
 * in caller memory (struct cp_hash, plain bytes: copy one to snapshot a
 * transcript); a provider's own state (scratch objects of the library
 * underneath) is made once by its create function. The library underneath
 * may allocate inside a call and frees before returning; nothing it
 * allocates outlives a call. Thread-safety: one provider instance per
 * thread (a per-lcore instance); instances are independent.
 *
 * Return values: 0 on success; -EINVAL for a malformed key, point or
 * signature encoding (a point not on the curve, an X25519 result of all
 * zeros); -EBADMSG when a well-formed signature does not verify; -EIO when
 * the library underneath failed.
 */
#ifndef SWARMGEN_CRYPTO_CP_H
#define SWARMGEN_CRYPTO_CP_H

#include <stddef.h>
#include <stdint.h>

/* TLS NamedGroup code points (RFC 8422, RFC 7748). */
enum cp_group { CP_GROUP_SECP256R1 = 23, CP_GROUP_X25519 = 29 };

enum cp_hash_alg { CP_SHA256 = 1, CP_SHA384 = 2 };

#define CP_P256_PRIV_LEN 32
#define CP_P256_PUB_LEN 65
#define CP_X25519_LEN 32
#define CP_ECDH_SHARED_LEN 32 /* both groups: the X coordinate, or the X25519 output */
#define CP_PUB_MAX 65
#define CP_ECDSA_SIG_MAX 72
#define CP_SHA256_LEN 32
#define CP_SHA384_LEN 48
#define CP_HASH_MAX 48
#define CP_HASH_STATE 224 /* room for the library's SHA-384 context */

/* A running hash in caller memory; copying it forks the hash. */
struct cp_hash {
    _Alignas(16) uint8_t state[CP_HASH_STATE];
    uint8_t alg; /* enum cp_hash_alg, 0 before init */
};

/* The length of a digest of alg (32 or 48), 0 for anything else. */
static inline size_t cp_hash_len(enum cp_hash_alg alg)
{
    return alg == CP_SHA256 ? CP_SHA256_LEN : alg == CP_SHA384 ? CP_SHA384_LEN : 0;
}

/* The length of a public key of group g (65 or 32), 0 for another group. */
static inline size_t cp_pub_len(enum cp_group g)
{
    return g == CP_GROUP_SECP256R1 ? CP_P256_PUB_LEN : g == CP_GROUP_X25519 ? CP_X25519_LEN : 0;
}

struct cp_ops {
    const char *name;

    /* len bytes from a cryptographically secure generator, seeded by the
     * operating system (never by a run seed). 0 or -EIO. */
    int (*random)(void *self, uint8_t *out, size_t len);

    /* Hashes. init never fails for CP_SHA256/CP_SHA384; final writes
     * cp_hash_len(h->alg) bytes and leaves h to be initialised again. */
    void (*hash_init)(void *self, struct cp_hash *h, enum cp_hash_alg alg);
    void (*hash_update)(void *self, struct cp_hash *h, const void *p, size_t len);
    void (*hash_final)(void *self, struct cp_hash *h, uint8_t *out);

    /* A fresh ECDH key pair of group g: priv (32 bytes), pub
     * (cp_pub_len(g) bytes). 0, -EINVAL (another group) or -EIO. */
    int (*ecdh_keygen)(void *self, enum cp_group g, uint8_t *priv, uint8_t *pub);

    /* The ECDH shared secret of priv and the peer's public key (peer_len
     * bytes, checked: on the curve, the right length, not a low-order
     * X25519 point) into shared (32 bytes). 0, -EINVAL or -EIO. */
    int (*ecdh_shared)(void *self, enum cp_group g, const uint8_t *priv, const uint8_t *peer,
                       size_t peer_len, uint8_t *shared);

    /* ECDSA P-256 over a 32-byte digest with private key priv (32 bytes):
     * the DER signature into sig (CP_ECDSA_SIG_MAX bytes), its length in
     * *sig_len. 0, -EINVAL or -EIO. */
    int (*ecdsa_p256_sign)(void *self, const uint8_t *priv, const uint8_t *digest, uint8_t *sig,
                           size_t *sig_len);

    /* Checks a DER ECDSA P-256 signature of a 32-byte digest against pub
     * (65 bytes). 0 when it verifies, -EBADMSG when not, -EINVAL for a
     * malformed point or DER, -EIO. */
    int (*ecdsa_p256_verify)(void *self, const uint8_t *pub, const uint8_t *digest, const uint8_t *sig,
                             size_t sig_len);

    /* The P-256 public key (65 bytes) of priv. 0, -EINVAL or -EIO. */
    int (*p256_public)(void *self, const uint8_t *priv, uint8_t *pub);

    /* Frees self. */
    void (*destroy)(void *self);
};

/* A provider: its operations and their self. Passed by pointer; the
 * engines keep the pointer, so it must outlive them. */
struct cp {
    const struct cp_ops *ops;
    void *self;
};

/* Makes the default provider for the calling thread (allocates its scratch
 * state once). Returns 0, -ENOMEM or -EIO. */
int cp_default_create(struct cp *cp);

/* Frees a provider made by a create function; cp is zeroed. */
void cp_destroy(struct cp *cp);

/* Convenience wrappers: one-shot SHA-256 / SHA-384 of a buffer. */
void cp_hash_once(const struct cp *cp, enum cp_hash_alg alg, const void *p, size_t len, uint8_t *out);

#endif
