/* SPDX-License-Identifier: MIT */
/* HMAC and the TLS 1.2 PRF on the provider's hash. */
#include "dtls_prf.h"

#include <errno.h>
#include <string.h>

#define BLOCK_MAX 128 /* SHA-384's block; SHA-256's is 64 */

static size_t block_len(enum cp_hash_alg alg)
{
    return alg == CP_SHA384 ? 128 : 64;
}

/* The inner and outer states of HMAC with key. */
static void hmac_key(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *key, size_t key_len,
                     struct cp_hash *inner, struct cp_hash *outer)
{
    size_t bl = block_len(alg);
    uint8_t k[BLOCK_MAX] = {0}, pad[BLOCK_MAX];
    if (key_len > bl) {
        cp_hash_once(cp, alg, key, key_len, k);
    } else {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < bl; i++)
        pad[i] = k[i] ^ 0x36;
    cp->ops->hash_init(cp->self, inner, alg);
    cp->ops->hash_update(cp->self, inner, pad, bl);
    for (size_t i = 0; i < bl; i++)
        pad[i] = k[i] ^ 0x5c;
    cp->ops->hash_init(cp->self, outer, alg);
    cp->ops->hash_update(cp->self, outer, pad, bl);
    /* the key and its pads are the key: gone before the frame is */
    explicit_bzero(k, sizeof(k));
    explicit_bzero(pad, sizeof(pad));
}

/* HMAC of up to three parts with the key's states (copied, not consumed). */
static void hmac_parts(const struct cp *cp, const struct cp_hash *inner, const struct cp_hash *outer,
                       const uint8_t *a, size_t al, const uint8_t *b, size_t bl, const uint8_t *c, size_t cl,
                       uint8_t *out)
{
    struct cp_hash h = *inner;
    uint8_t d[CP_HASH_MAX];
    size_t dl = cp_hash_len((enum cp_hash_alg)h.alg);
    cp->ops->hash_update(cp->self, &h, a, al);
    if (bl)
        cp->ops->hash_update(cp->self, &h, b, bl);
    if (cl)
        cp->ops->hash_update(cp->self, &h, c, cl);
    cp->ops->hash_final(cp->self, &h, d);
    h = *outer;
    cp->ops->hash_update(cp->self, &h, d, dl);
    cp->ops->hash_final(cp->self, &h, out);
    explicit_bzero(d, sizeof(d));
    explicit_bzero(&h, sizeof(h));
}

void dtls_hmac(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *key, size_t key_len, const uint8_t *msg,
               size_t msg_len, uint8_t *out)
{
    struct cp_hash inner, outer;
    hmac_key(cp, alg, key, key_len, &inner, &outer);
    hmac_parts(cp, &inner, &outer, msg, msg_len, NULL, 0, NULL, 0, out);
    explicit_bzero(&inner, sizeof(inner));
    explicit_bzero(&outer, sizeof(outer));
}

int dtls_prf(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret, size_t secret_len, const char *label,
             const uint8_t *seed, size_t seed_len, const uint8_t *seed2, size_t seed2_len, uint8_t *out,
             size_t out_len)
{
    size_t hl = cp_hash_len(alg), ll = strlen(label);
    if (hl == 0 || ll > 64)
        return -EINVAL;
    /* the PRF's seed is label || seed: A(1) = HMAC(label || seed), then
     * out = HMAC(A(1) || label || seed) || HMAC(A(2) || label || seed) ... */
    uint8_t ls[64 + 2 * 64 + 32];
    if (ll + seed_len + seed2_len > sizeof(ls))
        return -EINVAL;
    memcpy(ls, label, ll);
    memcpy(ls + ll, seed, seed_len);
    if (seed2_len)
        memcpy(ls + ll + seed_len, seed2, seed2_len);
    size_t lsl = ll + seed_len + seed2_len;
    struct cp_hash inner, outer;
    hmac_key(cp, alg, secret, secret_len, &inner, &outer);
    uint8_t a[CP_HASH_MAX], blk[CP_HASH_MAX];
    hmac_parts(cp, &inner, &outer, ls, lsl, NULL, 0, NULL, 0, a);
    for (size_t off = 0; off < out_len; off += hl) {
        hmac_parts(cp, &inner, &outer, a, hl, ls, lsl, NULL, 0, blk);
        size_t n = out_len - off < hl ? out_len - off : hl;
        memcpy(out + off, blk, n);
        if (off + hl < out_len)
            hmac_parts(cp, &inner, &outer, a, hl, NULL, 0, NULL, 0, a);
    }
    explicit_bzero(a, sizeof(a));
    explicit_bzero(blk, sizeof(blk));
    explicit_bzero(&inner, sizeof(inner));
    explicit_bzero(&outer, sizeof(outer));
    return 0;
}
