/* SPDX-License-Identifier: MIT */
/* Our DTLS record layer: epoch 0 in the clear, epoch 1 sealed (our
 * AES-GCM, libsodium's ChaCha20-Poly1305) in 1.2; epoch 3 in the 1.3 form
 * (dtls13_record.c does the protection) after dtls_record_set_keys13. */
#include "dtls_record.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "dtls_record_internal.h"
#include "wire.h"

#define SEQ_MAX ((1ull << 48) - 1)

static void wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

/* ---- key areas ---- */

_Static_assert(sizeof(struct dtls_record_keys_hdr) <= DTLS_KEYS_HDR,
               "a key area's header fits its room");

static bool is_gcm(uint8_t suite)
{
    return suite == DTLS_SUITE_AES_128_GCM || suite == DTLS_SUITE_AES_256_GCM;
}

/* Bytes of one direction's slot: the largest key this CPU expands
 * (AES-256-GCM on its best path), at least ChaCha20's 32, 64-rounded. */
static size_t slot_size(void)
{
    size_t n = aes_gcm_key_size_max(32);
    return n < 64 ? 64 : n;
}

size_t dtls_record_keys_size(void)
{
    return DTLS_KEYS_HDR + 2 * slot_size();
}

_Static_assert(DTLS_RECORD_KEYS_MAX == DTLS_KEYS_HDR + 2 * sizeof(struct aes_gcm_key),
               "a key area by value holds the largest key of any path");

static struct dtls_record_keys_hdr *hdr_of(struct dtls_record_keys *k)
{
    return (struct dtls_record_keys_hdr *)k;
}

static uint8_t *slot_of(struct dtls_record_keys *k, int dir)
{
    return (uint8_t *)k + DTLS_KEYS_HDR + (size_t)dir * slot_size();
}

void dtls_record_keys_clear(struct dtls_record_keys *k)
{
    wipe(k, dtls_record_keys_size());
}

/* One direction's key and IV as the area keeps them, built in `key`
 * (a whole struct aes_gcm_key: room for any path) and iv[12] (a 1.2 GCM
 * salt is 4 bytes, every other IV 12: v13). Returns the bytes of `key`
 * that count (the used prefix; 32 for ChaCha20), or a negative errno. */
static int key_build(enum dtls_suite suite, bool v13, const uint8_t *key, const uint8_t *iv,
                     int impl, struct aes_gcm_key *out, uint8_t out_iv[12])
{
    memset(out_iv, 0, 12);
    if (is_gcm(suite)) {
        int rc = aes_gcm_init(out, key, suite == DTLS_SUITE_AES_256_GCM ? 32 : 16, impl);
        if (rc != 0)
            return rc == -ENOTSUP ? -ENOTSUP : -EIO;
        memcpy(out_iv, iv, v13 ? 12 : 4);
        return (int)aes_gcm_key_size(out);
    }
    if (suite == DTLS_SUITE_CHACHA20_POLY1305) {
        if (sodium_init() < 0) /* libsodium picks its fastest ChaCha20 (once; then a no-op) */
            return -EIO;
        memset(out, 0, sizeof(*out));
        memcpy(out, key, 32);
        memcpy(out_iv, iv, 12);
        return 32;
    }
    return -ENOTSUP;
}

/* ---- set-up ---- */

void dtls_record_reset(struct dtls_record *rec, struct dtls_record_keys *keys,
                       struct dtls_record_counters *counters, bool is_client)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    wipe(r, sizeof(*r));
    r->keys = keys;
    r->c = counters;
    r->is_client = is_client;
    int w = is_client ? DTLS_DIR_CLIENT : DTLS_DIR_SERVER, rd = 1 - w;
    r->w_key = (uint16_t)(DTLS_KEYS_HDR + (size_t)w * slot_size());
    r->r_key = (uint16_t)(DTLS_KEYS_HDR + (size_t)rd * slot_size());
    r->w_iv = (uint8_t)(offsetof(struct dtls_record_keys_hdr, iv) + 12 * (size_t)w);
    r->r_iv = (uint8_t)(offsetof(struct dtls_record_keys_hdr, iv) + 12 * (size_t)rd);
}

/* r stops using its key area's keys; the last user wipes them. */
static void release(struct dtls_record_impl *r)
{
    struct dtls_record_keys_hdr *h = hdr_of(r->keys);
    h->users &= (uint8_t)~(1u << (r->is_client ? DTLS_DIR_CLIENT : DTLS_DIR_SERVER));
    if (h->users == 0)
        dtls_record_keys_clear(r->keys);
}

void dtls_record_rewind(struct dtls_record *rec)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    if (r->suite != DTLS_SUITE_NONE)
        release(r);
    dtls_record_reset(rec, r->keys, r->c, r->is_client);
}

/* Constant time: whether n bytes at a and b are equal. */
static bool same(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

/* Into the area (r's side alone uses it) or checked against it (the other
 * end's record installed first), both directions by r's role; the 1.3
 * record-number keys (w_sn, r_sn: NULL in 1.2) with them. */
static int install(struct dtls_record_impl *r, enum dtls_suite suite, bool v13,
                   const uint8_t *w_key, const uint8_t *w_iv, const uint8_t *w_sn,
                   const uint8_t *r_key, const uint8_t *r_iv, const uint8_t *r_sn, int impl)
{
    struct dtls_record_keys_hdr *h = hdr_of(r->keys);
    int w = r->is_client ? DTLS_DIR_CLIENT : DTLS_DIR_SERVER;
    uint8_t others = (uint8_t)(h->users & ~(1u << w));
    struct aes_gcm_key k[2]; /* by direction */
    uint8_t iv[2][12], sn[2][32];
    memset(sn, 0, sizeof(sn));
    int n = key_build(suite, v13, w_key, w_iv, impl, &k[w], iv[w]);
    int m = n < 0 ? n : key_build(suite, v13, r_key, r_iv, impl, &k[1 - w], iv[1 - w]);
    int rc = m < 0 ? m : 0;
    if (rc == 0 && v13) {
        size_t sn_len = suite == DTLS_SUITE_AES_128_GCM ? 16 : 32;
        memcpy(sn[w], w_sn, sn_len);
        memcpy(sn[1 - w], r_sn, sn_len);
    }
    if (rc == 0 && others == 0) {
        /* first (or alone): write both directions */
        dtls_record_keys_clear(r->keys);
        for (int d = 0; d < 2; d++)
            memcpy(slot_of(r->keys, d), &k[d], (size_t)n);
        memcpy(h->iv, iv, sizeof(iv));
        memcpy(h->sn, sn, sizeof(sn));
        h->v13 = v13;
        h->suite = (uint8_t)suite;
        h->users = (uint8_t)(1u << w);
    } else if (rc == 0) {
        /* the other end installed first: the same keys, or refused */
        bool eq = h->suite == suite && h->v13 == v13 && (size_t)n <= slot_size() &&
                  same(h->iv, iv, sizeof(iv)) && same(h->sn, sn, sizeof(sn));
        for (int d = 0; d < 2 && eq; d++)
            eq = same(slot_of(r->keys, d), &k[d], (size_t)n);
        if (eq)
            h->users |= (uint8_t)(1u << w);
        else
            rc = -EKEYREJECTED;
    }
    wipe(k, sizeof(k));
    wipe(iv, sizeof(iv));
    wipe(sn, sizeof(sn));
    return rc;
}

static int set_keys(struct dtls_record *rec, enum dtls_suite suite, const uint8_t *w_key, const uint8_t *w_iv,
                    const uint8_t *r_key, const uint8_t *r_iv, int impl)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    uint64_t seq0 = r->w_seq0;
    dtls_record_rewind(rec); /* our earlier keys, if any, let go of */
    r->w_seq0 = seq0;
    int rc = install(r, suite, false, w_key, w_iv, NULL, r_key, r_iv, NULL, impl);
    if (rc != 0)
        return rc;
    r->suite = (uint8_t)suite;
    r->epoch = 1;
    return 0;
}

int dtls_record_set_keys13(struct dtls_record *rec, enum dtls_suite suite, const uint8_t *w_key,
                           const uint8_t *w_iv, const uint8_t *w_sn, const uint8_t *r_key,
                           const uint8_t *r_iv, const uint8_t *r_sn)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    uint64_t seq0 = r->w_seq0;
    dtls_record_rewind(rec);
    r->w_seq0 = seq0;
    int rc = install(r, suite, true, w_key, w_iv, w_sn, r_key, r_iv, r_sn, -1);
    if (rc != 0)
        return rc;
    r->suite = (uint8_t)suite;
    r->epoch = 3 | 3 << 8; /* application traffic keys (RFC 9147 §6.1), both ways */
    r->v13 = true;
    return 0;
}

int dtls_record_rekey13(struct dtls_record *rec, bool write, const uint8_t *key, const uint8_t *iv,
                        const uint8_t *sn)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    if (!r->v13 || r->suite == DTLS_SUITE_NONE)
        return -ENOKEY;
    struct dtls_record_keys_hdr *h = hdr_of(r->keys);
    int w = r->is_client ? DTLS_DIR_CLIENT : DTLS_DIR_SERVER;
    int dir = write ? w : 1 - w;
    bool shared = (h->users & ~(1u << w)) != 0;
    if (write || !shared) {
        /* the slot is ours to write: our write direction always (in a
         * shared area the other end reads it, and has moved its read epoch
         * on before it acknowledged the update that lets us switch), the
         * read direction when no other record uses the area */
        struct aes_gcm_key k;
        uint8_t v[12];
        int n = key_build((enum dtls_suite)r->suite, true, key, iv, -1, &k, v);
        if (n < 0) {
            wipe(&k, sizeof(k));
            return n;
        }
        memcpy(slot_of(r->keys, dir), &k, (size_t)n);
        memcpy(h->iv[dir], v, 12);
        memset(h->sn[dir], 0, sizeof(h->sn[dir]));
        memcpy(h->sn[dir], sn, r->suite == DTLS_SUITE_AES_128_GCM ? 16 : 32);
        wipe(&k, sizeof(k));
        wipe(v, sizeof(v));
    }
    if (write) {
        r->epoch = (uint16_t)((r->epoch & 0xff00u) | ((EPOCH13_W(r) + 1) & 0xffu));
        r->w_seq = 0;
    } else {
        r->epoch = (uint16_t)((r->epoch & 0xffu) | ((EPOCH13_R(r) + 1) & 0xffu) << 8);
        r->r_top = 0;
        r->r_window = 0;
    }
    return 0;
}

uint64_t dtls_record_write_seq(const struct dtls_record *rec)
{
    return dtls_crec(rec)->w_seq;
}

unsigned dtls_record_epoch_bits(const struct dtls_record *rec, bool write)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    return (write ? EPOCH13_W(r) : EPOCH13_R(r)) & 3u;
}

uint16_t dtls_record_version(const struct dtls_record *rec)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    if (r->suite == DTLS_SUITE_NONE)
        return 0;
    return r->v13 ? DTLS_V13 : DTLS_V12;
}

int dtls_record_set_keys(struct dtls_record *rec, enum dtls_suite suite, const uint8_t *w_key, const uint8_t *w_iv,
                         const uint8_t *r_key, const uint8_t *r_iv)
{
    return set_keys(rec, suite, w_key, w_iv, r_key, r_iv, -1);
}

int dtls_record_init_keys_impl(struct dtls_record *rec, enum dtls_suite suite, const uint8_t *w_key,
                               const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv, uint64_t w_seq,
                               int impl)
{
    dtls_record_rewind(rec);
    int rc = set_keys(rec, suite, w_key, w_iv, r_key, r_iv, impl);
    if (rc == 0)
        dtls_rec(rec)->w_seq = w_seq;
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

/* r's 1.3 keys for one direction (open: the read side) where the key area
 * keeps them. */
static void dir13(const struct dtls_record_impl *r, bool open, struct dtls13_dir *d)
{
    const uint8_t *base = (const uint8_t *)r->keys;
    const struct dtls_record_keys_hdr *h = (const struct dtls_record_keys_hdr *)base;
    int dir = r->is_client == open ? DTLS_DIR_SERVER : DTLS_DIR_CLIENT;
    d->suite = r->suite;
    d->key = base + (open ? r->r_key : r->w_key);
    d->iv = base + (open ? r->r_iv : r->w_iv);
    d->sn = h->sn[dir];
}

/* dtls_record_seal in the 1.3 form (the checks common to both done). */
static int seal13(struct dtls_record_impl *r, uint8_t type, const uint8_t *in, size_t len,
                  uint8_t *out, size_t cap)
{
    struct dtls13_dir d;
    dir13(r, false, &d);
    int n = dtls13_seal_dir(&d, (uint16_t)EPOCH13_W(r), r->w_seq, type, in, len, out, cap);
    if (n < 0)
        return n;
    r->w_seq++;
    r->c->sealed++;
    return n;
}

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
    if (__builtin_expect(r->v13, 0))
        return seal13(r, type, in, len, out, cap);
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
    const uint8_t *base = (const uint8_t *)r->keys;
    if (gcm) {
        memcpy(out + DTLS_RECORD_HEADER, es, 8); /* the explicit nonce */
        memcpy(n, base + r->w_iv, 4);
        memcpy(n + 4, es, 8);
        aes_gcm_seal((const struct aes_gcm_key *)(base + r->w_key), n, aad, 13, in, len, ct, ct + len);
    } else {
        chacha_nonce(base + r->w_iv, es, n);
        unsigned long long tl;
        if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, ct + len, &tl, in, len, aad, 13, NULL, n,
                                                               base + r->w_key) != 0)
            return -EIO;
    }
    r->w_seq++;
    r->c->sealed++;
    return (int)(DTLS_RECORD_HEADER + frag);
}

size_t dtls_record_prefix(const struct dtls_record *rec)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    if (__builtin_expect(r->v13, 0))
        return DTLS13_HEADER;
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
    case DTLS_REC_TRUNCATED: r->c->truncated++; break;
    case DTLS_REC_BAD_VERSION: r->c->bad_version++; break;
    case DTLS_REC_WRONG_EPOCH: r->c->wrong_epoch++; break;
    case DTLS_REC_REPLAY: r->c->replayed++; break;
    case DTLS_REC_TOO_OLD: r->c->too_old++; break;
    case DTLS_REC_BAD_AUTH: r->c->bad_auth++; break;
    case DTLS_REC_CLOSED: r->c->after_close++; break;
    case DTLS_REC_TOO_BIG: r->c->too_big++; break;
    case DTLS_REC_BAD_TYPE: r->c->bad_type++; break;
    default: r->c->malformed++; break;
    }
    return why;
}

/* An authenticated alert (plen bytes in out) acted upon: 0, or
 * DTLS_REC_BAD_ALERT (not counted here). */
static int take_alert(struct dtls_record_impl *r, const uint8_t *out, size_t plen)
{
    if (plen != 2 || (out[0] != DTLS_ALERT_WARNING && out[0] != DTLS_ALERT_FATAL))
        return DTLS_REC_BAD_ALERT;
    r->c->alerts_in++;
    r->last_alert_level = out[0];
    r->last_alert_desc = out[1];
    if (out[1] == DTLS_ALERT_CLOSE_NOTIFY)
        r->peer_closed = true;
    else if (out[0] == DTLS_ALERT_FATAL)
        r->failed = true;
    return 0;
}

/* dtls_record_open in the 1.3 form: the read epoch in the unified header. */
static int open13(struct dtls_record_impl *r, const uint8_t *in, size_t len, size_t *used,
                  uint8_t *type, uint8_t *out, size_t cap, uint64_t *seq)
{
    *used = len;
    if (len == 0)
        return refuse(r, DTLS_REC_TRUNCATED);
    if ((in[0] & 0xe0) != 0x20) {
        /* DTLSPlaintext (epoch 0, a late handshake flight) steps over whole */
        if (in[0] < DTLS_CT_CHANGE_CIPHER_SPEC || in[0] > DTLS_CT_ACK)
            return refuse(r, DTLS_REC_BAD_TYPE);
        if (len < DTLS_RECORD_HEADER || wire_get16(in + 11) > len - DTLS_RECORD_HEADER)
            return refuse(r, DTLS_REC_TRUNCATED);
        *used = DTLS_RECORD_HEADER + wire_get16(in + 11);
        return refuse(r, DTLS_REC_WRONG_EPOCH);
    }
    struct dtls13_hdr h;
    int why = dtls13_parse_header(in, len, &h);
    *used = h.rec_len;
    if (why != 0)
        return refuse(r, why);
    if (r->failed || r->peer_closed)
        return refuse(r, DTLS_REC_CLOSED);
    if (h.epoch_bits != (EPOCH13_R(r) & 3))
        return refuse(r, DTLS_REC_WRONG_EPOCH);
    struct dtls13_dir d;
    dir13(r, true, &d);
    struct dtls13_rec rec;
    why = dtls13_unmask(&d, in, &h, r->r_window ? r->r_top + 1 : 0, &rec);
    if (why == 0)
        why = window_check(r, rec.seq); /* before the tag (cheap), window moved after */
    if (why != 0)
        return refuse(r, why);
    uint8_t t;
    int n = dtls13_decrypt(&d, &rec, &t, out, cap);
    if (n < 0)
        return refuse(r, n);
    window_accept(r, rec.seq);
    *seq = rec.seq;
    if (t == DTLS_CT_ALERT) {
        if ((why = take_alert(r, out, (size_t)n)) != 0)
            return refuse(r, why);
    } else if (t != DTLS_CT_APPLICATION_DATA && t != DTLS_CT_HANDSHAKE && t != DTLS_CT_ACK) {
        sodium_memzero(out, (size_t)n);
        return refuse(r, DTLS_REC_BAD_TYPE);
    }
    *type = t;
    r->c->opened++;
    return n;
}

int dtls_record_open(struct dtls_record *rec, const uint8_t *in, size_t len, size_t *used,
                     uint8_t *type, uint8_t *out, size_t cap)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    if (__builtin_expect(r->v13, 0)) {
        uint64_t seq;
        return open13(r, in, len, used, type, out, cap, &seq);
    }
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
    const uint8_t *base = (const uint8_t *)r->keys;
    if (gcm) {
        memcpy(n, base + r->r_iv, 4);
        memcpy(n + 4, in + DTLS_RECORD_HEADER, 8); /* the sender's explicit nonce */
        if (aes_gcm_open((const struct aes_gcm_key *)(base + r->r_key), n, aad, 13, ct, plen, out, tag) != 0)
            return refuse(r, DTLS_REC_BAD_AUTH);
    } else {
        chacha_nonce(base + r->r_iv, es, n);
        if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, ct, plen, tag, aad, 13, n,
                                                               base + r->r_key) != 0) {
            wipe(out, plen);
            return refuse(r, DTLS_REC_BAD_AUTH);
        }
    }
    window_accept(r, seq);
    *type = t;
    if (t == DTLS_CT_ALERT && (why = take_alert(r, out, plen)) != 0)
        return refuse(r, why);
    r->c->opened++;
    return (int)plen;
}

int dtls_record_open_seq(struct dtls_record *rec, const uint8_t *in, size_t len, size_t *used, uint8_t *type,
                         uint8_t *out, size_t cap, uint64_t *seq)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    if (!r->v13) {
        *seq = 0;
        return dtls_record_open(rec, in, len, used, type, out, cap);
    }
    return open13(r, in, len, used, type, out, cap, seq);
}

int dtls_record_alert(struct dtls_record *rec, uint8_t level, uint8_t desc, uint8_t *out, size_t cap)
{
    struct dtls_record_impl *r = dtls_rec(rec);
    uint8_t a[2] = {level, desc};
    int rc = dtls_record_seal(rec, DTLS_CT_ALERT, a, 2, out, cap);
    if (rc > 0) {
        r->c->alerts_out++;
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
    dtls_record_rewind(r);
}

bool dtls_record_can_seal(const struct dtls_record *rec)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    return r->suite != DTLS_SUITE_NONE && !r->closed && !r->failed;
}

void dtls_record_prefetch(const struct dtls_record *rec, bool open)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    const char *k = (const char *)r->keys;
    if (!k)
        return;
    __builtin_prefetch(k);
    if (r->v13)
        __builtin_prefetch(k + 64); /* the header's second line: the 1.3 sn keys */
    /* the two slots lie side by side: a slot is the distance between them */
    size_t slot = r->r_key > r->w_key ? (size_t)(r->r_key - r->w_key) : (size_t)(r->w_key - r->r_key);
    size_t key = open ? r->r_key : r->w_key, end = key + slot;
    for (size_t off = key; off < end; off += 64)
        __builtin_prefetch(k + off);
}

bool dtls_record_can_open(const struct dtls_record *rec)
{
    const struct dtls_record_impl *r = dtls_crec(rec);
    return !r->peer_closed && !r->failed;
}

const struct dtls_record_counters *dtls_record_counters(const struct dtls_record *r)
{
    return dtls_crec(r)->c;
}
