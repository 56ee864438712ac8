/* SPDX-License-Identifier: MIT */
/* The TLS 1.3 / DTLS 1.3 key schedule on HKDF over the provider's HMAC. */
#include "tls13_keys.h"

#include <errno.h>
#include <string.h>

#include "dtls_prf.h"
#include "tls13_keys_internal.h"

#define LABEL_MAX 255 /* opaque label<7..255>: prefix + label */
#define CTX_MAX   255 /* opaque context<0..255> */
/* HkdfLabel: uint16 length, label<..255>, context<..255> */
#define INFO_MAX (2 + 1 + LABEL_MAX + 1 + CTX_MAX)

/* HkdfLabel (RFC 8446 §7.1) into info. Returns its length, or 0 when the
 * prefix + label or the context is too long. */
static size_t hkdf_label(const char *prefix, const char *label, const uint8_t *ctx, size_t ctx_len,
                         size_t out_len, uint8_t info[INFO_MAX])
{
    size_t pl = strlen(prefix), ll = strlen(label);
    if (pl + ll > LABEL_MAX || ctx_len > CTX_MAX)
        return 0;
    uint8_t *p = info;
    *p++ = (uint8_t)(out_len >> 8);
    *p++ = (uint8_t)out_len;
    *p++ = (uint8_t)(pl + ll);
    memcpy(p, prefix, pl);
    p += pl;
    memcpy(p, label, ll);
    p += ll;
    *p++ = (uint8_t)ctx_len;
    if (ctx_len)
        memcpy(p, ctx, ctx_len);
    return (size_t)(p - info) + ctx_len;
}

/* HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(prk, T(i-1) || info || i),
 * out = the first out_len bytes of T(1) || T(2) ... The caller checked
 * out_len <= 255 * hl. prk is copied first, so out may alias it. */
static void hkdf_expand(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *prk,
                        const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    size_t hl = cp_hash_len(alg);
    /* msg = T(i-1) || info || i, with T(i-1) in the first hl bytes; T(0)
     * is empty, so the first block starts at msg + hl */
    uint8_t key[TLS13_HASH_MAX], msg[TLS13_HASH_MAX + INFO_MAX + 1], blk[TLS13_HASH_MAX];
    memcpy(key, prk, hl);
    memcpy(msg + hl, info, info_len);
    size_t off = 0;
    for (unsigned i = 1; off < out_len; i++) {
        msg[hl + info_len] = (uint8_t)i;
        if (i == 1)
            dtls_hmac(cp, alg, key, hl, msg + hl, info_len + 1, blk);
        else
            dtls_hmac(cp, alg, key, hl, msg, hl + info_len + 1, blk);
        size_t n = out_len - off < hl ? out_len - off : hl;
        memcpy(out + off, blk, n);
        off += n;
        if (off < out_len)
            memcpy(msg, blk, hl);
    }
    explicit_bzero(key, sizeof(key));
    explicit_bzero(msg, hl); /* T(i-1); the info holds only public context */
    explicit_bzero(blk, sizeof(blk));
}

void tls13_hkdf_extract(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *salt,
                        size_t salt_len, const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
    size_t hl = cp_hash_len(alg);
    if (hl == 0)
        return;
    uint8_t zeros[TLS13_HASH_MAX] = {0};
    if (!salt) {
        salt = zeros;
        salt_len = hl;
    }
    if (!ikm) {
        ikm = zeros;
        ikm_len = hl;
    }
    dtls_hmac(cp, alg, salt, salt_len, ikm, ikm_len, out);
}

int tls13_expand_label_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                              const uint8_t *secret, const char *label, const uint8_t *ctx,
                              size_t ctx_len, uint8_t *out, size_t out_len)
{
    size_t hl = cp_hash_len(alg);
    if (hl == 0 || out_len > 255 * hl)
        return -EINVAL;
    uint8_t info[INFO_MAX];
    size_t il = hkdf_label(prefix, label, ctx, ctx_len, out_len, info);
    if (il == 0)
        return -EINVAL;
    hkdf_expand(cp, alg, secret, info, il, out, out_len);
    return 0;
}

int tls13_expand_label(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                       const char *label, const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                       size_t out_len)
{
    return tls13_expand_label_prefix(cp, alg, TLS13_PREFIX_DTLS, secret, label, ctx, ctx_len, out,
                                     out_len);
}

void tls13_empty_hash(const struct cp *cp, enum cp_hash_alg alg, uint8_t *out)
{
    if (cp_hash_len(alg) == 0)
        return;
    cp_hash_once(cp, alg, "", 0, out);
}

int tls13_derive_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                               const uint8_t *secret, const char *label, const uint8_t *thash,
                               uint8_t *out)
{
    size_t hl = cp_hash_len(alg);
    /* the info copies thash before out is written, so out may alias it */
    return tls13_expand_label_prefix(cp, alg, prefix, secret, label, thash, hl, out, hl);
}

int tls13_derive_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                        const char *label, const uint8_t *thash, uint8_t *out)
{
    return tls13_derive_secret_prefix(cp, alg, TLS13_PREFIX_DTLS, secret, label, thash, out);
}

void tls13_early_secret(const struct cp *cp, enum cp_hash_alg alg, uint8_t *out)
{
    tls13_hkdf_extract(cp, alg, NULL, 0, NULL, 0, out);
}

/* Extract(Derive-Secret(prev, "derived", Hash("")), ikm): the step from
 * one stage of the schedule to the next (ikm NULL: hl zeros). */
static int next_stage(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                      const uint8_t *prev, const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
    if (cp_hash_len(alg) == 0)
        return -EINVAL;
    uint8_t eh[TLS13_HASH_MAX], derived[TLS13_HASH_MAX];
    tls13_empty_hash(cp, alg, eh);
    int rc = tls13_derive_secret_prefix(cp, alg, prefix, prev, "derived", eh, derived);
    if (rc == 0)
        tls13_hkdf_extract(cp, alg, derived, cp_hash_len(alg), ikm, ikm_len, out);
    explicit_bzero(derived, sizeof(derived));
    return rc;
}

int tls13_handshake_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                                  const uint8_t *early, const uint8_t *ecdhe, size_t ecdhe_len,
                                  uint8_t *out)
{
    return next_stage(cp, alg, prefix, early, ecdhe, ecdhe_len, out);
}

int tls13_handshake_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *early,
                           const uint8_t *ecdhe, size_t ecdhe_len, uint8_t *out)
{
    return next_stage(cp, alg, TLS13_PREFIX_DTLS, early, ecdhe, ecdhe_len, out);
}

int tls13_master_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                               const uint8_t *handshake, uint8_t *out)
{
    return next_stage(cp, alg, prefix, handshake, NULL, 0, out);
}

int tls13_master_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *handshake,
                        uint8_t *out)
{
    return next_stage(cp, alg, TLS13_PREFIX_DTLS, handshake, NULL, 0, out);
}

int tls13_traffic_keys_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                              const uint8_t *secret, size_t key_len, uint8_t *key, uint8_t *iv,
                              uint8_t *sn)
{
    if (cp_hash_len(alg) == 0 || key_len == 0 || key_len > TLS13_HASH_MAX)
        return -EINVAL;
    /* the labels are short and fixed: none of these can fail now */
    if (key)
        (void)tls13_expand_label_prefix(cp, alg, prefix, secret, "key", NULL, 0, key, key_len);
    if (iv)
        (void)tls13_expand_label_prefix(cp, alg, prefix, secret, "iv", NULL, 0, iv, TLS13_IV_LEN);
    if (sn)
        (void)tls13_expand_label_prefix(cp, alg, prefix, secret, "sn", NULL, 0, sn, key_len);
    return 0;
}

int tls13_traffic_keys(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                       size_t key_len, uint8_t *key, uint8_t *iv, uint8_t *sn)
{
    return tls13_traffic_keys_prefix(cp, alg, TLS13_PREFIX_DTLS, secret, key_len, key, iv, sn);
}

int tls13_finished_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                          const uint8_t *base, const uint8_t *thash, uint8_t *out)
{
    size_t hl = cp_hash_len(alg);
    uint8_t fk[TLS13_HASH_MAX];
    int rc = tls13_expand_label_prefix(cp, alg, prefix, base, "finished", NULL, 0, fk, hl);
    if (rc == 0)
        dtls_hmac(cp, alg, fk, hl, thash, hl, out);
    explicit_bzero(fk, sizeof(fk));
    return rc;
}

int tls13_finished(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *base,
                   const uint8_t *thash, uint8_t *out)
{
    return tls13_finished_prefix(cp, alg, TLS13_PREFIX_DTLS, base, thash, out);
}

int tls13_next_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                             const uint8_t *secret, uint8_t *out)
{
    return tls13_expand_label_prefix(cp, alg, prefix, secret, "traffic upd", NULL, 0, out,
                                     cp_hash_len(alg));
}

int tls13_next_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                      uint8_t *out)
{
    return tls13_next_secret_prefix(cp, alg, TLS13_PREFIX_DTLS, secret, out);
}

int tls13_export_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                        const uint8_t *exporter_master, const char *label, const uint8_t *context,
                        size_t context_len, uint8_t *out, size_t len)
{
    if (cp_hash_len(alg) == 0 || len > 255)
        return -EINVAL;
    uint8_t eh[TLS13_HASH_MAX], ch[TLS13_HASH_MAX], sec[TLS13_HASH_MAX];
    tls13_empty_hash(cp, alg, eh);
    if (context && context_len)
        cp_hash_once(cp, alg, context, context_len, ch);
    else
        memcpy(ch, eh, cp_hash_len(alg));
    int rc = tls13_derive_secret_prefix(cp, alg, prefix, exporter_master, label, eh, sec);
    if (rc == 0)
        rc = tls13_expand_label_prefix(cp, alg, prefix, sec, "exporter", ch, cp_hash_len(alg), out,
                                       len);
    explicit_bzero(sec, sizeof(sec));
    return rc;
}

int tls13_export(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *exporter_master,
                 const char *label, const uint8_t *context, size_t context_len, uint8_t *out,
                 size_t len)
{
    return tls13_export_prefix(cp, alg, TLS13_PREFIX_DTLS, exporter_master, label, context,
                               context_len, out, len);
}
