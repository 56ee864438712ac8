/* SPDX-License-Identifier: MIT */
/* Our DTLS 1.2 AEAD record layer after the handshake, and the handshake
 * slot pool. */
#include "dtls_record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl_ciphersuites.h>

#define MAX_PLAINTEXT 16384u
#define SEQ_MAX ((1ull << 48) - 1)

static void put48(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 6; i++)
        p[i] = (uint8_t)(v >> (40 - 8 * i));
}

static uint64_t get48(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | p[i];
    return v;
}

static int set_keys(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                    const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv)
{
    int rc;
    r->suite = (uint8_t)suite;
    if (suite == DTLS_SUITE_AES_128_GCM) {
        mbedtls_gcm_init(&r->w.gcm);
        mbedtls_gcm_init(&r->r.gcm);
        if ((rc = mbedtls_gcm_setkey(&r->w.gcm, MBEDTLS_CIPHER_ID_AES, w_key, 128)) != 0 ||
            (rc = mbedtls_gcm_setkey(&r->r.gcm, MBEDTLS_CIPHER_ID_AES, r_key, 128)) != 0)
            return rc;
        memcpy(r->w_iv, w_iv, 4);
        memcpy(r->r_iv, r_iv, 4);
    } else if (suite == DTLS_SUITE_CHACHA20_POLY1305) {
        mbedtls_chachapoly_init(&r->w.cp);
        mbedtls_chachapoly_init(&r->r.cp);
        if ((rc = mbedtls_chachapoly_setkey(&r->w.cp, w_key)) != 0 ||
            (rc = mbedtls_chachapoly_setkey(&r->r.cp, r_key)) != 0)
            return rc;
        memcpy(r->w_iv, w_iv, 12);
        memcpy(r->r_iv, r_iv, 12);
    } else {
        return -ENOTSUP;
    }
    return 0;
}

int dtls_record_init_keys(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                          const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv,
                          uint64_t w_seq)
{
    memset(r, 0, sizeof(*r));
    r->epoch = 1;
    r->w_seq = w_seq;
    r->r_top = 0;
    r->r_window = 0;
    return set_keys(r, suite, w_key, w_iv, r_key, r_iv);
}

int dtls_record_init_from(struct dtls_record *r, const struct dtls_endpoint *e)
{
    memset(r, 0, sizeof(*r));
    if (!e->connected || !e->kb_keylen)
        return -EINVAL;
    enum dtls_suite suite;
    if (e->suite_id == MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 && e->kb_keylen == 16 &&
        e->kb_ivlen == 4)
        suite = DTLS_SUITE_AES_128_GCM;
    else if (e->suite_id == MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 &&
             e->kb_keylen == 32 && e->kb_ivlen == 12)
        suite = DTLS_SUITE_CHACHA20_POLY1305;
    else
        return -ENOTSUP;
    const uint8_t *kb = e->keyblock;
    unsigned kl = e->kb_keylen, il = e->kb_ivlen;
    const uint8_t *ck = kb, *sk = kb + kl, *civ = kb + 2 * kl, *siv = kb + 2 * kl + il;
    int rc = e->is_server ? set_keys(r, suite, sk, siv, ck, civ) : set_keys(r, suite, ck, civ, sk, siv);
    if (rc != 0)
        return rc;
    /* carry on from mbedTLS's epoch-1 counters (its Finished message) */
    r->epoch = (uint16_t)(e->ssl.cur_out_ctr[0] << 8 | e->ssl.cur_out_ctr[1]);
    r->w_seq = get48(e->ssl.cur_out_ctr + 2);
    r->r_top = e->ssl.in_window_top;
    r->r_window = e->ssl.in_window;
    if (r->epoch != 1)
        return -EINVAL;
    return 0;
}

/* nonce and additional data for one record */
static void nonce_of(const struct dtls_record *r, const uint8_t iv[12], const uint8_t es[8], uint8_t n[12])
{
    if (r->suite == DTLS_SUITE_AES_128_GCM) {
        memcpy(n, iv, 4);
        memcpy(n + 4, es, 8);
    } else {
        memcpy(n, iv, 12);
        for (int i = 0; i < 8; i++)
            n[4 + i] ^= es[i];
    }
}

static void aad_of(const uint8_t es[8], uint8_t type, uint16_t len, uint8_t aad[13])
{
    memcpy(aad, es, 8);
    aad[8] = type;
    aad[9] = 0xfe;
    aad[10] = 0xfd;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

int dtls_record_seal(struct dtls_record *r, uint8_t type, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap)
{
    if (r->closed || r->failed)
        return -EPIPE;
    if (len > MAX_PLAINTEXT)
        return -EMSGSIZE;
    if (r->w_seq > SEQ_MAX)
        return -EOVERFLOW;
    size_t explicit = r->suite == DTLS_SUITE_AES_128_GCM ? 8 : 0;
    size_t total = DTLS_RECORD_HEADER + explicit + len + 16;
    if (total > cap)
        return -ENOSPC;
    uint8_t es[8], n[12], aad[13];
    es[0] = (uint8_t)(r->epoch >> 8);
    es[1] = (uint8_t)r->epoch;
    put48(es + 2, r->w_seq);
    out[0] = type;
    out[1] = 0xfe;
    out[2] = 0xfd;
    memcpy(out + 3, es, 8);
    size_t frag = explicit + len + 16;
    out[11] = (uint8_t)(frag >> 8);
    out[12] = (uint8_t)frag;
    uint8_t *ct = out + DTLS_RECORD_HEADER + explicit;
    if (explicit)
        memcpy(out + DTLS_RECORD_HEADER, es, 8);
    nonce_of(r, r->w_iv, es, n);
    aad_of(es, type, (uint16_t)len, aad);
    int rc;
    if (r->suite == DTLS_SUITE_AES_128_GCM)
        rc = mbedtls_gcm_crypt_and_tag(&r->w.gcm, MBEDTLS_GCM_ENCRYPT, len, n, 12, aad, 13, in, ct, 16,
                                       ct + len);
    else
        rc = mbedtls_chachapoly_encrypt_and_tag(&r->w.cp, len, n, aad, 13, in, ct, ct + len);
    if (rc != 0)
        return -EIO;
    r->w_seq++;
    r->c.sealed++;
    return (int)total;
}

int dtls_record_open(struct dtls_record *r, const uint8_t *in, size_t len, size_t *used,
                     uint8_t *type, uint8_t *out, size_t cap)
{
    *used = len;
    if (len < DTLS_RECORD_HEADER) {
        r->c.truncated++;
        return DTLS_REC_TRUNCATED;
    }
    size_t frag = (size_t)in[11] << 8 | in[12];
    if (DTLS_RECORD_HEADER + frag > len) {
        r->c.truncated++;
        return DTLS_REC_TRUNCATED;
    }
    *used = DTLS_RECORD_HEADER + frag;
    if (in[1] != 0xfe || in[2] != 0xfd) {
        r->c.bad_version++;
        return DTLS_REC_BAD_VERSION;
    }
    uint8_t t = in[0];
    if (t < DTLS_CT_CHANGE_CIPHER_SPEC || t > DTLS_CT_APPLICATION_DATA) {
        r->c.bad_type++;
        return DTLS_REC_BAD_TYPE;
    }
    if (r->failed || r->peer_closed)
        return DTLS_REC_CLOSED;
    uint16_t epoch = (uint16_t)(in[3] << 8 | in[4]);
    if (epoch != r->epoch) {
        r->c.wrong_epoch++;
        return DTLS_REC_WRONG_EPOCH;
    }
    uint64_t seq = get48(in + 5);
    /* replay check first (RFC 6347 §4.1.2.6), window updated after auth */
    if (seq <= r->r_top) {
        uint64_t d = r->r_top - seq;
        if (d >= 64) {
            r->c.too_old++;
            return DTLS_REC_TOO_OLD;
        }
        if (r->r_window >> d & 1) {
            r->c.replayed++;
            return DTLS_REC_REPLAY;
        }
    }
    size_t explicit = r->suite == DTLS_SUITE_AES_128_GCM ? 8 : 0;
    if (frag < explicit + 16) {
        r->c.truncated++;
        return DTLS_REC_TRUNCATED;
    }
    size_t plen = frag - explicit - 16;
    if (plen > MAX_PLAINTEXT || plen > cap) {
        r->c.too_big++;
        return DTLS_REC_TOO_BIG;
    }
    uint8_t n[12], aad[13];
    const uint8_t *ct = in + DTLS_RECORD_HEADER + explicit;
    if (explicit) {
        memcpy(n, r->r_iv, 4);
        memcpy(n + 4, in + DTLS_RECORD_HEADER, 8); /* the sender's explicit nonce */
    } else {
        nonce_of(r, r->r_iv, in + 3, n);
    }
    aad_of(in + 3, t, (uint16_t)plen, aad);
    int rc;
    if (r->suite == DTLS_SUITE_AES_128_GCM)
        rc = mbedtls_gcm_auth_decrypt(&r->r.gcm, plen, n, 12, aad, 13, ct + plen, 16, ct, out);
    else
        rc = mbedtls_chachapoly_auth_decrypt(&r->r.cp, plen, n, aad, 13, ct + plen, ct, out);
    if (rc != 0) {
        r->c.bad_auth++;
        return DTLS_REC_BAD_AUTH;
    }
    if (seq > r->r_top) {
        uint64_t d = seq - r->r_top;
        r->r_window = d >= 64 ? 1 : (r->r_window << d) | 1;
        r->r_top = seq;
    } else {
        r->r_window |= 1ull << (r->r_top - seq);
    }
    r->c.opened++;
    *type = t;
    if (t == DTLS_CT_ALERT && plen >= 2) {
        r->c.alerts_in++;
        r->last_alert_level = out[0];
        r->last_alert_desc = out[1];
        if (out[1] == 0)
            r->peer_closed = true;
        else if (out[0] == 2)
            r->failed = true;
    }
    return (int)plen;
}

int dtls_record_alert(struct dtls_record *r, uint8_t level, uint8_t desc, uint8_t *out, size_t cap)
{
    uint8_t a[2] = {level, desc};
    int rc = dtls_record_seal(r, DTLS_CT_ALERT, a, 2, out, cap);
    if (rc > 0) {
        r->c.alerts_out++;
        if (desc == 0)
            r->closed = true;
        else if (level == 2)
            r->failed = true;
    }
    return rc;
}

void dtls_record_free(struct dtls_record *r)
{
    if (r->suite == DTLS_SUITE_AES_128_GCM) {
        mbedtls_gcm_free(&r->w.gcm);
        mbedtls_gcm_free(&r->r.gcm);
    } else if (r->suite == DTLS_SUITE_CHACHA20_POLY1305) {
        mbedtls_chachapoly_free(&r->w.cp);
        mbedtls_chachapoly_free(&r->r.cp);
    }
    memset(r, 0, sizeof(*r));
}

/* ---- handshake slots ---- */

int dtls_hs_pool_init(struct dtls_hs_pool *p, uint32_t n)
{
    memset(p, 0, sizeof(*p));
    if (n == 0 || n > (1u << 24))
        return -EINVAL;
    p->slots = calloc(n, sizeof(*p->slots));
    p->free_list = calloc(n, sizeof(*p->free_list));
    if (!p->slots || !p->free_list) {
        dtls_hs_pool_destroy(p);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        p->free_list[i] = n - 1 - i;
    p->n = p->n_free = n;
    return 0;
}

int64_t dtls_hs_pool_acquire(struct dtls_hs_pool *p)
{
    if (p->n_free == 0) {
        p->refused++;
        return -EAGAIN;
    }
    uint32_t i = p->free_list[--p->n_free];
    if (p->n - p->n_free > p->high_water)
        p->high_water = p->n - p->n_free;
    return i;
}

struct dtls_endpoint *dtls_hs_pool_slot(struct dtls_hs_pool *p, uint32_t i)
{
    return i < p->n ? &p->slots[i] : NULL;
}

void dtls_hs_pool_release(struct dtls_hs_pool *p, uint32_t i)
{
    if (i < p->n && p->n_free < p->n)
        p->free_list[p->n_free++] = i;
}

void dtls_hs_pool_destroy(struct dtls_hs_pool *p)
{
    free(p->slots);
    free(p->free_list);
    memset(p, 0, sizeof(*p));
}
