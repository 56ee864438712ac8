/* SPDX-License-Identifier: MIT */
/* Our DTLS 1.2 record layer: epoch 0 in the clear, epoch 1 sealed (our
 * AES-GCM, libsodium's ChaCha20-Poly1305). */
#include "dtls_record.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "dtls_record_internal.h"
#include "wire.h"

#define SEQ_MAX ((1ull << 48) - 1)

static void wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

/* ---- keys ---- */

static bool is_gcm(uint8_t suite)
{
    return suite == DTLS_SUITE_AES_128_GCM || suite == DTLS_SUITE_AES_256_GCM;
}

static int key_setup(struct dtls_record_key *k, enum dtls_suite suite, const uint8_t *key, const uint8_t *iv,
                     int impl)
{
    if (is_gcm(suite)) {
        int rc = aes_gcm_init(&k->u.gcm, key, suite == DTLS_SUITE_AES_256_GCM ? 32 : 16, impl);
        if (rc != 0)
            return rc == -ENOTSUP ? -ENOTSUP : -EIO;
        memcpy(k->iv, iv, 4);
        return 0;
    }
    if (suite == DTLS_SUITE_CHACHA20_POLY1305) {
        if (sodium_init() < 0) /* libsodium picks its fastest ChaCha20 (once; then a no-op) */
            return -EIO;
        memcpy(k->u.chacha, key, 32);
        memcpy(k->iv, iv, 12);
        return 0;
    }
    return -ENOTSUP;
}

void dtls_record_reset(struct dtls_record *r)
{
    wipe(r, sizeof(*r));
}

static int set_keys(struct dtls_record_impl *r, enum dtls_suite suite, const uint8_t *w_key, const uint8_t *w_iv,
                    const uint8_t *r_key, const uint8_t *r_iv, int impl)
{
    uint64_t seq0 = r->w_seq0;
    wipe(r, sizeof(*r));
    r->w_seq0 = seq0;
    int rc = key_setup(&r->w, suite, w_key, w_iv, impl);
    if (rc == 0)
        rc = key_setup(&r->r, suite, r_key, r_iv, impl);
    if (rc != 0) {
        wipe(r, sizeof(*r));
        r->w_seq0 = seq0;
        return rc;
    }
    r->suite = (uint8_t)suite;
    r->epoch = 1;
    return 0;
}

int dtls_record_set_keys(struct dtls_record *rec, enum dtls_suite suite, const uint8_t *w_key, const uint8_t *w_iv,
                         const uint8_t *r_key, const uint8_t *r_iv)
{
    return set_keys(dtls_rec(rec), suite, w_key, w_iv, r_key, r_iv, -1);
}

int dtls_record_init_keys_impl(struct dtls_record *rec, enum dtls_suite suite, const uint8_t *w_key,
                               const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv, uint64_t w_seq,
                               int impl)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    memset(r, 0, sizeof(*r));
    int rc = set_keys(r, suite, w_key, w_iv, r_key, r_iv, impl);
    if (rc == 0)
        r->w_seq = w_seq;
    return rc;
}

int dtls_record_init_keys(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                          const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv,
                          uint64_t w_seq)
{
    return dtls_record_init_keys_impl(r, suite, w_key, w_iv, r_key, r_iv, w_seq, -1);
}

int dtls_record_plain(struct dtls_record *rec, uint8_t type, uint16_t version, const uint8_t *body, size_t len,
                      uint8_t *out, size_t cap)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    if (len > DTLS_RECORD_MAX_PLAINTEXT)
        return -EMSGSIZE;
    if (DTLS_RECORD_HEADER + len > cap)
        return -ENOSPC;
    if (r->w_seq0 > SEQ_MAX)
        return -EOVERFLOW;
    out[0] = type;
    wire_put16(out + 1, version);
    out[3] = out[4] = 0;
    wire_put48(out + 5, r->w_seq0++);
    wire_put16(out + 11, (uint16_t)len);
    memmove(out + DTLS_RECORD_HEADER, body, len);
    return (int)(DTLS_RECORD_HEADER + len);
}

/* ---- records ---- */

static void aad_of(const uint8_t es[8], uint8_t type, size_t len, uint8_t aad[13])
{
    memcpy(aad, es, 8);
    aad[8] = type;
    aad[9] = 0xfe;
    aad[10] = 0xfd;
    wire_put16(aad + 11, (uint16_t)len);
}

/* RFC 7905 §2: the IV XOR the epoch and sequence, left-padded to 12 bytes */
static void chacha_nonce(const uint8_t iv[12], const uint8_t es[8], uint8_t n[12])
{
    memcpy(n, iv, 12);
    for (int i = 0; i < 8; i++)
        n[4 + i] ^= es[i];
}

int dtls_record_seal(struct dtls_record *rec, uint8_t type, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    if (r->closed || r->failed)
        return -EPIPE;
    if (len > DTLS_RECORD_MAX_PLAINTEXT)
        return -EMSGSIZE;
    if (r->suite == DTLS_SUITE_NONE)
        return -ENOKEY;
    if (r->w_seq > SEQ_MAX)
        return -EOVERFLOW;
    bool gcm = is_gcm(r->suite);
    size_t explicit = gcm ? 8 : 0, frag = explicit + len + 16;
    if (DTLS_RECORD_HEADER + frag > cap)
        return -ENOSPC;
    uint8_t *es = out + 3; /* epoch || sequence, in the header */
    out[0] = type;
    out[1] = 0xfe;
    out[2] = 0xfd;
    wire_put16(es, r->epoch);
    wire_put48(es + 2, r->w_seq);
    wire_put16(out + 11, (uint16_t)frag);
    uint8_t n[12], aad[13];
    aad_of(es, type, len, aad);
    uint8_t *ct = out + DTLS_RECORD_HEADER + explicit;
    if (gcm) {
        memcpy(out + DTLS_RECORD_HEADER, es, 8); /* the explicit nonce */
        memcpy(n, r->w.iv, 4);
        memcpy(n + 4, es, 8);
        aes_gcm_seal(&r->w.u.gcm, n, aad, 13, in, len, ct, ct + len);
    } else {
        chacha_nonce(r->w.iv, es, n);
        unsigned long long tl;
        if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, ct + len, &tl, in, len, aad, 13, NULL, n,
                                                               r->w.u.chacha) != 0)
            return -EIO;
    }
    r->w_seq++;
    r->c.sealed++;
    return (int)(DTLS_RECORD_HEADER + frag);
}

size_t dtls_record_prefix(const struct dtls_record *rec)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    return DTLS_RECORD_HEADER + (is_gcm(r->suite) ? 8 : 0);
}

/* RFC 6347 §4.1.2.6: 0 when seq may be new, else the refusal */
static int window_check(const struct dtls_record_impl *r, uint64_t seq)
{
    if (seq > r->r_top)
        return 0;
    uint64_t d = r->r_top - seq;
    if (d >= DTLS_RECORD_WINDOW)
        return DTLS_REC_TOO_OLD;
    return r->r_window >> d & 1 ? DTLS_REC_REPLAY : 0;
}

static void window_accept(struct dtls_record_impl *r, uint64_t seq)
{
    if (seq > r->r_top) {
        uint64_t d = seq - r->r_top;
        r->r_window = d >= DTLS_RECORD_WINDOW ? 1 : r->r_window << d | 1;
        r->r_top = seq;
    } else {
        r->r_window |= 1ull << (r->r_top - seq);
    }
}

static int refuse(struct dtls_record_impl *r, int why)
{
    switch (why) {
    case DTLS_REC_TRUNCATED: r->c.truncated++; break;
    case DTLS_REC_BAD_VERSION: r->c.bad_version++; break;
    case DTLS_REC_WRONG_EPOCH: r->c.wrong_epoch++; break;
    case DTLS_REC_REPLAY: r->c.replayed++; break;
    case DTLS_REC_TOO_OLD: r->c.too_old++; break;
    case DTLS_REC_BAD_AUTH: r->c.bad_auth++; break;
    case DTLS_REC_CLOSED: r->c.after_close++; break;
    case DTLS_REC_TOO_BIG: r->c.too_big++; break;
    case DTLS_REC_BAD_TYPE: r->c.bad_type++; break;
    default: r->c.malformed++; break;
    }
    return why;
}

int dtls_record_open(struct dtls_record *rec, const uint8_t *in, size_t len, size_t *used,
                     uint8_t *type, uint8_t *out, size_t cap)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    *used = len;
    if (len < DTLS_RECORD_HEADER)
        return refuse(r, DTLS_REC_TRUNCATED);
    size_t frag = wire_get16(in + 11);
    if (frag > len - DTLS_RECORD_HEADER)
        return refuse(r, DTLS_REC_TRUNCATED);
    *used = DTLS_RECORD_HEADER + frag;
    if (in[1] != 0xfe || in[2] != 0xfd)
        return refuse(r, DTLS_REC_BAD_VERSION);
    uint8_t t = in[0];
    if (t < DTLS_CT_CHANGE_CIPHER_SPEC || t > DTLS_CT_APPLICATION_DATA)
        return refuse(r, DTLS_REC_BAD_TYPE);
    if (r->failed || r->peer_closed)
        return refuse(r, DTLS_REC_CLOSED);
    const uint8_t *es = in + 3;
    if (wire_get16(es) != r->epoch || r->suite == DTLS_SUITE_NONE)
        return refuse(r, DTLS_REC_WRONG_EPOCH);
    uint64_t seq = wire_get48(es + 2);
    int why = window_check(r, seq); /* before the tag (cheap), window moved after */
    if (why != 0)
        return refuse(r, why);
    bool gcm = is_gcm(r->suite);
    size_t explicit = gcm ? 8 : 0;
    if (frag < explicit + 16)
        return refuse(r, DTLS_REC_TRUNCATED);
    size_t plen = frag - explicit - 16;
    if (plen > DTLS_RECORD_MAX_PLAINTEXT || plen > cap)
        return refuse(r, DTLS_REC_TOO_BIG);
    uint8_t n[12], aad[13];
    aad_of(es, t, plen, aad);
    const uint8_t *ct = in + DTLS_RECORD_HEADER + explicit, *tag = ct + plen;
    if (gcm) {
        memcpy(n, r->r.iv, 4);
        memcpy(n + 4, in + DTLS_RECORD_HEADER, 8); /* the sender's explicit nonce */
        if (aes_gcm_open(&r->r.u.gcm, n, aad, 13, ct, plen, out, tag) != 0)
            return refuse(r, DTLS_REC_BAD_AUTH);
    } else {
        chacha_nonce(r->r.iv, es, n);
        if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, ct, plen, tag, aad, 13, n,
                                                               r->r.u.chacha) != 0) {
            wipe(out, plen);
            return refuse(r, DTLS_REC_BAD_AUTH);
        }
    }
    window_accept(r, seq);
    *type = t;
    if (t == DTLS_CT_ALERT) {
        if (plen != 2 || (out[0] != DTLS_ALERT_WARNING && out[0] != DTLS_ALERT_FATAL))
            return refuse(r, DTLS_REC_BAD_ALERT);
        r->c.alerts_in++;
        r->last_alert_level = out[0];
        r->last_alert_desc = out[1];
        if (out[1] == DTLS_ALERT_CLOSE_NOTIFY)
            r->peer_closed = true;
        else if (out[0] == DTLS_ALERT_FATAL)
            r->failed = true;
    }
    r->c.opened++;
    return (int)plen;
}

int dtls_record_alert(struct dtls_record *rec, uint8_t level, uint8_t desc, uint8_t *out, size_t cap)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    uint8_t a[2] = {level, desc};
    int rc = dtls_record_seal(rec, DTLS_CT_ALERT, a, 2, out, cap);
    if (rc > 0) {
        r->c.alerts_out++;
        if (desc == DTLS_ALERT_CLOSE_NOTIFY)
            r->closed = true;
        else if (level == DTLS_ALERT_FATAL)
            r->failed = true;
    }
    return rc;
}

int dtls_record_close(struct dtls_record *r, uint8_t *out, size_t cap)
{
    return dtls_record_alert(r, DTLS_ALERT_WARNING, DTLS_ALERT_CLOSE_NOTIFY, out, cap);
}

void dtls_record_free(struct dtls_record *r)
{
    dtls_record_reset(r);
}

bool dtls_record_can_seal(const struct dtls_record *rec)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    return r->suite != DTLS_SUITE_NONE && !r->closed && !r->failed;
}

bool dtls_record_can_open(const struct dtls_record *rec)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    return !r->peer_closed && !r->failed;
}

const struct dtls_record_counters *dtls_record_counters(const struct dtls_record *r)
{
    return &dtls_crec(r)->c;
}
