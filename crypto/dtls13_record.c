/* SPDX-License-Identifier: MIT */
/* DTLS 1.3 record protection (RFC 9147 §4): the unified header, the inner
 * plaintext, the per-record nonce and record-number encryption; the
 * stateless entry points of dtls_record.h and the core dtls_record.c's
 * 1.3 form uses (dtls_record_internal.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "dtls_record.h"
#include "dtls_record_internal.h"
#include "wire.h"

#define SEQ_MAX ((1ull << 48) - 1)
#define TAG     16
#define SAMPLE  16

static bool is_gcm(uint8_t suite)
{
    return suite == DTLS_SUITE_AES_128_GCM || suite == DTLS_SUITE_AES_256_GCM;
}

static size_t key_len(uint8_t suite)
{
    return suite == DTLS_SUITE_AES_128_GCM ? 16 : 32;
}

/* ---- record-number encryption (§4.2.3) ---- */

int dtls13_mask(uint8_t suite, const uint8_t *sn, const uint8_t sample[16], uint8_t mask[2])
{
    if (is_gcm(suite)) {
        /* AES-ECB of the sample under sn, its round keys expanded for this
         * block: the key area keeps sn raw (64 bytes of its header rather
         * than two more expanded keys per connection) */
        uint8_t b[16];
        if (aes_encrypt_block_raw(sn, key_len(suite), sample, b) != 0)
            return -ENOTSUP;
        mask[0] = b[0];
        mask[1] = b[1];
        sodium_memzero(b, sizeof(b));
        return 0;
    }
    if (suite == DTLS_SUITE_CHACHA20_POLY1305) {
        /* the ChaCha20 block function: counter sample[0..3] little endian,
         * nonce sample[4..15], its keystream over zero bytes */
        static const uint8_t zero[2];
        uint32_t ctr = (uint32_t)sample[0] | (uint32_t)sample[1] << 8 | (uint32_t)sample[2] << 16 |
                       (uint32_t)sample[3] << 24;
        if (crypto_stream_chacha20_ietf_xor_ic(mask, zero, 2, sample + 4, ctr, sn) != 0)
            return -EIO;
        return 0;
    }
    return -ENOTSUP;
}

/* The nonce: the 12-byte IV XOR the 64-bit sequence number, left-padded
 * (§4: not epoch||seq as in 1.2). */
static void nonce_of(const uint8_t iv[12], uint64_t seq, uint8_t n[12])
{
    uint8_t s[8];
    memcpy(n, iv, 12);
    wire_put64(s, seq);
    for (int i = 0; i < 8; i++)
        n[4 + i] ^= s[i];
}

/* §4.2.2: the sequence number whose low `bits` bits are wire and that is
 * closest to next (ties to the larger, as BoringSSL), within 0..2^48-1. */
static uint64_t reconstruct(uint64_t wire, unsigned bits, uint64_t next)
{
    uint64_t step = 1ull << bits, m = step - 1;
    if (next > SEQ_MAX + 1)
        next = SEQ_MAX + 1;
    uint64_t cand = (next & ~m) | wire;
    if (cand > next) {
        if (cand - next > step / 2 && cand >= step)
            cand -= step;
    } else if (next - cand >= step / 2 && cand + step <= SEQ_MAX) {
        cand += step;
    }
    if (cand > SEQ_MAX)
        cand -= step;
    return cand;
}

/* ---- the core, keys where they live ---- */

int dtls13_seal_dir(const struct dtls13_dir *d, uint16_t epoch, uint64_t seq, uint8_t type,
                    const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    if (len > DTLS_RECORD_MAX_PLAINTEXT)
        return -EMSGSIZE;
    if (seq > SEQ_MAX)
        return -EOVERFLOW;
    if (len + DTLS13_OVERHEAD > cap)
        return -ENOSPC;
    if (!is_gcm(d->suite) && d->suite != DTLS_SUITE_CHACHA20_POLY1305)
        return -ENOTSUP;
    uint8_t *pt = out + DTLS13_HEADER;
    size_t inner = len + 1;
    if (len && in != pt)
        memmove(pt, in, len);
    pt[len] = type; /* DTLSInnerPlaintext: content || type, no padding */
    out[0] = (uint8_t)(0x2c | (epoch & 3));
    wire_put16(out + 1, (uint16_t)seq);
    wire_put16(out + 3, (uint16_t)(inner + TAG));
    uint8_t n[12];
    nonce_of(d->iv, seq, n);
    if (is_gcm(d->suite)) {
        aes_gcm_seal(d->key, n, out, DTLS13_HEADER, pt, inner, pt, pt + inner);
    } else if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                   pt, pt + inner, NULL, pt, inner, out, DTLS13_HEADER, NULL, n, d->key) != 0) {
        return -EIO;
    }
    uint8_t mask[2];
    int rc = dtls13_mask(d->suite, d->sn, pt, mask); /* inner + TAG >= 17: a whole sample */
    if (rc != 0)
        return rc;
    out[1] ^= mask[0];
    out[2] ^= mask[1];
    return (int)(DTLS13_HEADER + inner + TAG);
}

int dtls13_parse_header(const uint8_t *in, size_t len, struct dtls13_hdr *h)
{
    memset(h, 0, sizeof(*h));
    h->rec_len = len;
    if (len == 0 || (in[0] & 0xe0) != 0x20)
        return DTLS_REC_BAD_VERSION;
    uint8_t b = in[0];
    h->epoch_bits = b & 3;
    h->cid = (b & 0x10) != 0;
    if (h->cid)
        return DTLS_REC_CID;
    h->seq_len = (b & 0x08) ? 2 : 1;
    bool has_len = (b & 0x04) != 0;
    h->hdr_len = (uint8_t)(1 + h->seq_len + (has_len ? 2 : 0));
    if (len < h->hdr_len)
        return DTLS_REC_TRUNCATED;
    if (has_len) {
        size_t body = wire_get16(in + 1 + h->seq_len);
        if (body > len - h->hdr_len)
            return DTLS_REC_TRUNCATED;
        h->rec_len = h->hdr_len + body;
    }
    return 0;
}

int dtls13_unmask(const struct dtls13_dir *d, const uint8_t *in, const struct dtls13_hdr *h,
                  uint64_t next_seq, struct dtls13_rec *rec)
{
    size_t body = h->rec_len - h->hdr_len;
    if (body < SAMPLE + 1) /* no sample; not even a type byte and a tag */
        return DTLS_REC_TRUNCATED;
    if (body > DTLS13_MAX_CIPHERTEXT)
        return DTLS_REC_TOO_BIG;
    rec->h = *h;
    memcpy(rec->aad, in, h->hdr_len);
    rec->ct = in + h->hdr_len;
    rec->ct_len = body;
    uint8_t mask[2];
    if (dtls13_mask(d->suite, d->sn, rec->ct, mask) != 0)
        return DTLS_REC_BAD_AUTH;
    uint64_t wire;
    if (h->seq_len == 2) {
        rec->aad[1] ^= mask[0];
        rec->aad[2] ^= mask[1];
        wire = wire_get16(rec->aad + 1);
    } else {
        rec->aad[1] ^= mask[0];
        wire = rec->aad[1];
    }
    rec->seq = reconstruct(wire, 8u * h->seq_len, next_seq);
    return 0;
}

int dtls13_decrypt(const struct dtls13_dir *d, const struct dtls13_rec *rec, uint8_t *type,
                   uint8_t *out, size_t cap)
{
    size_t plen = rec->ct_len - TAG; /* inner plaintext: content, type, padding */
    if (plen > cap)
        return DTLS_REC_TOO_BIG;
    uint8_t n[12];
    nonce_of(d->iv, rec->seq, n);
    const uint8_t *tag = rec->ct + plen;
    if (is_gcm(d->suite)) {
        if (aes_gcm_open(d->key, n, rec->aad, rec->h.hdr_len, rec->ct, plen, out, tag) != 0)
            return DTLS_REC_BAD_AUTH; /* out zeroed by aes_gcm_open */
    } else if (d->suite != DTLS_SUITE_CHACHA20_POLY1305 ||
               crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                   out, NULL, rec->ct, plen, tag, rec->aad, rec->h.hdr_len, n, d->key) != 0) {
        sodium_memzero(out, plen);
        return DTLS_REC_BAD_AUTH;
    }
    size_t i = plen;
    while (i > 0 && out[i - 1] == 0) /* the padding: zeros after the type */
        i--;
    if (i == 0) {
        sodium_memzero(out, plen);
        return DTLS_REC_BAD_TYPE;
    }
    if (i - 1 > DTLS_RECORD_MAX_PLAINTEXT) {
        sodium_memzero(out, plen);
        return DTLS_REC_TOO_BIG;
    }
    *type = out[i - 1];
    return (int)(i - 1);
}

/* ---- the stateless entry points: raw keys ---- */

/* d over k, the AES key expanded into *ek (wiped by the caller). */
static int dir_of(const struct dtls13_keys *k, struct aes_gcm_key *ek, struct dtls13_dir *d)
{
    d->suite = k->suite;
    d->iv = k->iv;
    d->sn = k->sn;
    if (is_gcm(k->suite)) {
        if (aes_gcm_init(ek, k->key, key_len(k->suite), -1) != 0)
            return -ENOTSUP;
        d->key = ek;
        return 0;
    }
    if (k->suite == DTLS_SUITE_CHACHA20_POLY1305) {
        if (sodium_init() < 0)
            return -EIO;
        d->key = k->key;
        return 0;
    }
    return -ENOTSUP;
}

int dtls13_rn_mask(const struct dtls13_keys *k, const uint8_t sample[16], uint8_t mask[2])
{
    if (k->suite == DTLS_SUITE_CHACHA20_POLY1305 && sodium_init() < 0)
        return -EIO;
    return dtls13_mask(k->suite, k->sn, sample, mask);
}

int dtls13_seal(const struct dtls13_keys *k, uint16_t epoch, uint64_t seq, uint8_t type,
                const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    if (len > DTLS_RECORD_MAX_PLAINTEXT)
        return -EMSGSIZE;
    if (len + DTLS13_OVERHEAD > cap)
        return -ENOSPC;
    struct aes_gcm_key ek;
    struct dtls13_dir d;
    int rc = dir_of(k, &ek, &d);
    if (rc == 0)
        rc = dtls13_seal_dir(&d, epoch, seq, type, in, len, out, cap);
    if (is_gcm(k->suite))
        aes_gcm_wipe(&ek);
    return rc;
}

int dtls13_open(const struct dtls13_keys *k, const uint8_t *in, size_t len, uint64_t next_seq,
                size_t *used, uint64_t *seq, uint8_t *type, uint8_t *out, size_t cap)
{
    struct dtls13_hdr h;
    int rc = dtls13_parse_header(in, len, &h);
    *used = h.rec_len;
    if (rc != 0)
        return rc;
    struct aes_gcm_key ek;
    struct dtls13_dir d;
    if (dir_of(k, &ek, &d) != 0)
        return DTLS_REC_BAD_AUTH;
    struct dtls13_rec rec;
    rc = dtls13_unmask(&d, in, &h, next_seq, &rec);
    if (rc == 0) {
        *seq = rec.seq;
        rc = dtls13_decrypt(&d, &rec, type, out, cap);
    }
    if (is_gcm(k->suite))
        aes_gcm_wipe(&ek);
    return rc;
}
