/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS 1.3 record protection (dtls_record.h, dtls13_*, RFC 9147 §4).
 * Records byte for byte against ones this test builds from the RFC with
 * OpenSSL alone (EVP AES-GCM / ChaCha20-Poly1305 for the AEAD with the
 * nonce IV XOR seq and the header-with-clear-seq as additional data; EVP
 * AES-ECB / ChaCha20 for the record-number mask), in every header form
 * (8- and 16-bit sequence numbers, with and without the length), with
 * padding; two records in one datagram; the sequence number reconstructed
 * across 8- and 16-bit wraps; tampering refused. Then the stateful record
 * in the 1.3 form: both directions through one shared key area and
 * through separate ones, equal to the stateless seal, the replay window,
 * alerts and close_notify, other epochs and a connection id refused and
 * counted, the key-mismatch refusal, and the 1.2 form unchanged.
 */
#include <errno.h>
#include <stdio.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "dtls_record.h"
#include "dtls_record_internal.h"
#include "wire.h"

static const enum dtls_suite suites[] = {DTLS_SUITE_AES_128_GCM, DTLS_SUITE_AES_256_GCM,
                                         DTLS_SUITE_CHACHA20_POLY1305};

static const char *suite_name(enum dtls_suite s)
{
    return s == DTLS_SUITE_AES_128_GCM   ? "AES-128-GCM"
           : s == DTLS_SUITE_AES_256_GCM ? "AES-256-GCM"
                                         : "ChaCha20";
}

static size_t key_len(enum dtls_suite s)
{
    return s == DTLS_SUITE_AES_128_GCM ? 16 : 32;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

/* Random keys of suite s for one direction. */
static struct dtls13_keys keys_of(enum dtls_suite s)
{
    struct dtls13_keys k;
    memset(&k, 0, sizeof(k));
    k.suite = (uint8_t)s;
    fill(k.key, key_len(s));
    fill(k.iv, 12);
    fill(k.sn, key_len(s));
    return k;
}

/* ---- the reference: OpenSSL EVP and RFC 9147 §4 ---- */

static const EVP_CIPHER *aead_of(enum dtls_suite s)
{
    return s == DTLS_SUITE_AES_128_GCM   ? EVP_aes_128_gcm()
           : s == DTLS_SUITE_AES_256_GCM ? EVP_aes_256_gcm()
                                         : EVP_chacha20_poly1305();
}

static void evp_seal(enum dtls_suite s, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                     uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    cr_assert_not_null(x);
    cr_assert_eq(EVP_EncryptInit_ex(x, aead_of(s), NULL, NULL, NULL), 1);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
    cr_assert_eq(EVP_EncryptInit_ex(x, NULL, NULL, key, nonce), 1);
    cr_assert_eq(EVP_EncryptUpdate(x, NULL, &n, aad, (int)aad_len), 1);
    if (len) {
        cr_assert_eq(EVP_EncryptUpdate(x, out, &n, in, (int)len), 1);
        cr_assert_eq(n, (int)len);
    }
    uint8_t end[16];
    cr_assert_eq(EVP_EncryptFinal_ex(x, end, &n), 1);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(x);
}

/* §4.2.3 by OpenSSL: AES-ECB(sn, sample), or ChaCha20 keyed by sn whose
 * 16-byte IV is counter (4 bytes, little endian) || nonce (12): the
 * sample itself; the keystream over zeros. */
static void evp_mask(enum dtls_suite s, const uint8_t *sn, const uint8_t sample[16],
                     uint8_t mask[2])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    uint8_t out[32];
    int n = 0;
    cr_assert_not_null(x);
    if (s == DTLS_SUITE_CHACHA20_POLY1305) {
        static const uint8_t zero[16];
        cr_assert_eq(EVP_EncryptInit_ex(x, EVP_chacha20(), NULL, sn, sample), 1);
        cr_assert_eq(EVP_EncryptUpdate(x, out, &n, zero, 16), 1);
    } else {
        cr_assert_eq(EVP_EncryptInit_ex(
                         x, s == DTLS_SUITE_AES_128_GCM ? EVP_aes_128_ecb() : EVP_aes_256_ecb(),
                         NULL, sn, NULL),
                     1);
        EVP_CIPHER_CTX_set_padding(x, 0);
        cr_assert_eq(EVP_EncryptUpdate(x, out, &n, sample, 16), 1);
    }
    cr_assert_eq(n, 16);
    EVP_CIPHER_CTX_free(x);
    mask[0] = out[0];
    mask[1] = out[1];
}

/* A record as RFC 9147 §4 writes it, built here with OpenSSL: first byte
 * 0b001 0 S L EE, the sequence number's low 8 or 16 bits (S), the 16-bit
 * length (L), then AEAD(content || type || pad zeros) under the nonce IV
 * XOR seq (left-padded) with the header (sequence number in the clear)
 * as additional data; then the sequence-number bytes XOR the mask of the
 * first 16 ciphertext bytes. Returns the record length. */
static size_t ref_record(const struct dtls13_keys *k, uint16_t epoch, uint64_t seq, bool s16,
                         bool with_len, uint8_t type, const uint8_t *content, size_t len,
                         size_t pad, uint8_t *out)
{
    enum dtls_suite s = k->suite;
    uint8_t inner[17000];
    memcpy(inner, content, len);
    inner[len] = type;
    memset(inner + len + 1, 0, pad);
    size_t ilen = len + 1 + pad;
    size_t h = 0;
    out[h++] = (uint8_t)(0x20 | (s16 ? 0x08 : 0) | (with_len ? 0x04 : 0) | (epoch & 3));
    if (s16) {
        out[h++] = (uint8_t)(seq >> 8);
        out[h++] = (uint8_t)seq;
    } else {
        out[h++] = (uint8_t)seq;
    }
    if (with_len) {
        out[h++] = (uint8_t)((ilen + 16) >> 8);
        out[h++] = (uint8_t)(ilen + 16);
    }
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
    evp_seal(s, k->key, nonce, out, h, inner, ilen, out + h, out + h + ilen);
    uint8_t mask[2];
    evp_mask(s, k->sn, out + h, mask);
    out[1] ^= mask[0];
    if (s16)
        out[2] ^= mask[1];
    return h + ilen + 16;
}

/* ---- the stateless functions ---- */

Test(dtls13_record, rn_mask_equals_openssl_aes_ecb_and_chacha20)
{
    for (int si = 0; si < 3; si++)
        for (int i = 0; i < 200; i++) {
            struct dtls13_keys k = keys_of(suites[si]);
            uint8_t sample[16], got[2], want[2];
            fill(sample, 16);
            if (i == 0)
                memset(sample, 0xff, 4); /* the largest ChaCha20 counter */
            cr_assert_eq(dtls13_rn_mask(&k, sample, got), 0);
            evp_mask(suites[si], k.sn, sample, want);
            cr_assert_arr_eq(got, want, 2, "%s sample %d", suite_name(suites[si]), i);
        }
    struct dtls13_keys k = keys_of(DTLS_SUITE_AES_128_GCM);
    k.suite = 9;
    uint8_t sample[16] = {0}, mask[2];
    cr_assert_eq(dtls13_rn_mask(&k, sample, mask), -ENOTSUP);
}

Test(dtls13_record, seal_equals_the_record_built_from_the_rfc_with_openssl)
{
    static const size_t lens[] = {0, 1, 15, 16, 100, 1200, 16384};
    static const uint64_t seqs[] = {
        0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x123456789aull, (1ull << 48) - 1};
    static const uint16_t epochs[] = {2, 3, 4, 0xffff};
    static uint8_t in[16384], got[17000], want[17000];
    int n_checked = 0;
    for (int si = 0; si < 3; si++) {
        struct dtls13_keys k = keys_of(suites[si]);
        for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
            for (size_t qi = 0; qi < sizeof(seqs) / sizeof(seqs[0]); qi++) {
                uint16_t ep = epochs[(li + qi) % 4];
                uint8_t type = (uint8_t)(qi % 2 ? DTLS_CT_APPLICATION_DATA : DTLS_CT_HANDSHAKE);
                fill(in, lens[li]);
                int n = dtls13_seal(&k, ep, seqs[qi], type, in, lens[li], got, sizeof(got));
                size_t m = ref_record(&k, ep, seqs[qi], true, true, type, in, lens[li], 0, want);
                cr_assert_eq(n, (int)(lens[li] + DTLS13_OVERHEAD));
                cr_assert_eq((size_t)n, m);
                cr_assert_eq(got[0], 0x2c | (ep & 3));
                cr_assert_arr_eq(got, want, m, "%s len %zu seq %llu", suite_name(suites[si]),
                                 lens[li], (unsigned long long)seqs[qi]);
                /* and it opens to what went in */
                static uint8_t out[17000];
                size_t used;
                uint64_t seq;
                uint8_t t = 0;
                cr_assert_eq(
                    dtls13_open(&k, got, (size_t)n, seqs[qi], &used, &seq, &t, out, sizeof(out)),
                    (int)lens[li]);
                cr_assert_eq(used, (size_t)n);
                cr_assert_eq(seq, seqs[qi]);
                cr_assert_eq(t, type);
                cr_assert_arr_eq(out, in, lens[li]);
                n_checked++;
            }
    }
    cr_log_info("%d records equal to OpenSSL's", n_checked);
}

/* Every header form a peer may send, built here (S=0: an 8-bit sequence
 * number; L=0: to the end of the datagram), with and without padding. */
Test(dtls13_record, open_reads_every_header_form_and_strips_padding)
{
    static uint8_t rec[17100], out[17100];
    uint8_t content[300];
    fill(content, sizeof(content));
    for (int si = 0; si < 3; si++) {
        struct dtls13_keys k = keys_of(suites[si]);
        for (int form = 0; form < 4; form++)
            for (size_t pad = 0; pad < 40; pad += 13) {
                bool s16 = form & 1, with_len = form & 2;
                uint64_t seq = 0x1234500 + (uint64_t)form * 7 + pad;
                size_t m = ref_record(&k, 3, seq, s16, with_len, DTLS_CT_APPLICATION_DATA, content,
                                      200, pad, rec);
                struct dtls13_hdr h;
                cr_assert_eq(dtls13_parse_header(rec, m, &h), 0);
                cr_assert_eq(h.seq_len, s16 ? 2 : 1);
                cr_assert_eq(h.hdr_len, 1 + (s16 ? 2 : 1) + (with_len ? 2 : 0));
                cr_assert_eq(h.epoch_bits, 3);
                cr_assert_eq(h.rec_len, m);
                cr_assert_not(h.cid);
                size_t used;
                uint64_t got_seq;
                uint8_t t;
                int n = dtls13_open(&k, rec, m, seq - 3, &used, &got_seq, &t, out, sizeof(out));
                cr_assert_eq(n, 200, "%s form %d pad %zu: %d", suite_name(suites[si]), form, pad,
                             n);
                cr_assert_eq(used, m);
                cr_assert_eq(got_seq, seq);
                cr_assert_eq(t, DTLS_CT_APPLICATION_DATA);
                cr_assert_arr_eq(out, content, 200);
            }
        /* an inner plaintext of zeros only has no type: refused, nothing out */
        size_t m = ref_record(&k, 3, 5, true, true, 0, content, 0, 20, rec);
        size_t used;
        uint64_t seq;
        uint8_t t = 99;
        memset(out, 0xee, 64);
        cr_assert_eq(dtls13_open(&k, rec, m, 5, &used, &seq, &t, out, sizeof(out)),
                     DTLS_REC_BAD_TYPE);
        cr_assert_eq(t, 99);
        for (int i = 0; i < 21; i++)
            cr_assert_eq(out[i], 0);
        /* a padded record whose content is 2^14 + 1 bytes: too big */
        static uint8_t big[16385];
        m = ref_record(&k, 3, 6, true, true, DTLS_CT_APPLICATION_DATA, big, sizeof(big), 0, rec);
        cr_assert_eq(dtls13_open(&k, rec, m, 6, &used, &seq, &t, out, sizeof(out)),
                     DTLS_REC_TOO_BIG);
        cr_assert_eq(used, m);
    }
}

Test(dtls13_record, two_records_in_one_datagram)
{
    for (int si = 0; si < 3; si++) {
        struct dtls13_keys k = keys_of(suites[si]);
        uint8_t dg[600], out[600];
        const char *a = "first record", *b = "the second one, to the end of the datagram";
        int n1 = dtls13_seal(&k, 3, 41, DTLS_CT_APPLICATION_DATA, (const uint8_t *)a, strlen(a), dg,
                             sizeof(dg));
        cr_assert_gt(n1, 0);
        /* the second in the L=0 form, as a peer may send its last record */
        size_t n2 = ref_record(&k, 3, 42, false, false, DTLS_CT_ACK, (const uint8_t *)b, strlen(b),
                               0, dg + n1);
        size_t len = (size_t)n1 + n2, off = 0, used;
        uint64_t seq;
        uint8_t t;
        int n = dtls13_open(&k, dg, len, 41, &used, &seq, &t, out, sizeof(out));
        cr_assert_eq(n, (int)strlen(a));
        cr_assert_eq(used, (size_t)n1);
        cr_assert_eq(seq, 41);
        cr_assert_arr_eq(out, a, strlen(a));
        off += used;
        n = dtls13_open(&k, dg + off, len - off, 42, &used, &seq, &t, out, sizeof(out));
        cr_assert_eq(n, (int)strlen(b));
        cr_assert_eq(used, n2);
        cr_assert_eq(seq, 42);
        cr_assert_eq(t, DTLS_CT_ACK);
        cr_assert_arr_eq(out, b, strlen(b));
        cr_assert_eq(off + used, len);
    }
}

/* §4.2.2: the full number is the one closest to the next expected, across
 * the 8- and 16-bit wraps, behind it and ahead of it. */
Test(dtls13_record, sequence_numbers_reconstructed_across_the_wraps)
{
    struct dtls13_keys k = keys_of(DTLS_SUITE_AES_128_GCM);
    uint8_t rec[128], out[128];
    const uint8_t body[4] = "wrap";
    static const struct {
        uint64_t seq, next;
    } cases[] = {
        {0xfffe, 0xffff},
        {0xffff, 0xffff},
        {0x10000, 0xffff},
        {0x10001, 0x10000},
        {0x1fffe, 0x20003},
        {0x20003, 0x1fff0},
        {0x3ffff, 0x40000},
        {0x40000, 0x3c001},
        {5, 0},
        {0, 0x7fff},
        {0x12345678, 0x12345678 + 0x7fff},
        {(1ull << 48) - 1, (1ull << 48) - 2},
        {(1ull << 48) - 2, (1ull << 48)},
        {(1ull << 48) - 3, UINT64_MAX}, /* a next past the limit is taken as 2^48 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n =
            dtls13_seal(&k, 3, cases[i].seq, DTLS_CT_APPLICATION_DATA, body, 4, rec, sizeof(rec));
        size_t used;
        uint64_t seq = 0;
        uint8_t t;
        cr_assert_eq(
            dtls13_open(&k, rec, (size_t)n, cases[i].next, &used, &seq, &t, out, sizeof(out)), 4);
        cr_assert_eq(seq, cases[i].seq, "case %zu: %llx", i, (unsigned long long)seq);
    }
    /* 8-bit numbers (S=0): within 127 of the next one either way */
    for (int i = 0; i < 400; i++) {
        uint64_t next = (uint64_t)rnd() << 4 | (rnd() & 0xf);
        int64_t d = (int64_t)(rnd() % 255) - 127;
        if ((int64_t)next + d < 0)
            continue;
        uint64_t seq = (uint64_t)((int64_t)next + d);
        size_t m = ref_record(&k, 3, seq, false, true, DTLS_CT_APPLICATION_DATA, body, 4, 0, rec);
        size_t used;
        uint64_t got = 0;
        uint8_t t;
        cr_assert_eq(dtls13_open(&k, rec, m, next, &used, &got, &t, out, sizeof(out)), 4);
        cr_assert_eq(got, seq, "next %llx d %lld", (unsigned long long)next, (long long)d);
    }
    /* 16-bit numbers: within 32767 either way */
    for (int i = 0; i < 400; i++) {
        uint64_t next = (uint64_t)rnd() << 8 | (rnd() & 0xff);
        int64_t d = (int64_t)(rnd() % 65535) - 32767;
        if ((int64_t)next + d < 0)
            continue;
        uint64_t seq = (uint64_t)((int64_t)next + d);
        int n = dtls13_seal(&k, 3, seq, DTLS_CT_APPLICATION_DATA, body, 4, rec, sizeof(rec));
        size_t used;
        uint64_t got = 0;
        uint8_t t;
        cr_assert_eq(dtls13_open(&k, rec, (size_t)n, next, &used, &got, &t, out, sizeof(out)), 4);
        cr_assert_eq(got, seq);
    }
}

Test(dtls13_record, tampering_is_refused_as_bad_auth)
{
    for (int si = 0; si < 3; si++) {
        struct dtls13_keys k = keys_of(suites[si]);
        uint8_t good[200], rec[200], out[200];
        uint8_t body[64];
        fill(body, sizeof(body));
        int n = dtls13_seal(&k, 3, 1000, DTLS_CT_APPLICATION_DATA, body, sizeof(body), good,
                            sizeof(good));
        cr_assert_gt(n, 0);
        /* the epoch bits, each sequence-number byte, a ciphertext byte (the
         * sample: another mask too), the last tag byte */
        const struct {
            size_t at;
            uint8_t x;
        } flips[] = {{0, 0x01},
                     {0, 0x02},
                     {1, 0x01},
                     {2, 0x80},
                     {5, 0x01},
                     {30, 0x10},
                     {(size_t)n - 1, 0x01}};
        for (size_t f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
            memcpy(rec, good, (size_t)n);
            rec[flips[f].at] ^= flips[f].x;
            size_t used;
            uint64_t seq;
            uint8_t t;
            cr_assert_eq(dtls13_open(&k, rec, (size_t)n, 1000, &used, &seq, &t, out, sizeof(out)),
                         DTLS_REC_BAD_AUTH, "%s flip %zu", suite_name(suites[si]), f);
            cr_assert_eq(used, (size_t)n);
        }
        /* a length one short: the record ends a byte early (the AAD and the
         * tag's place both change) */
        memcpy(rec, good, (size_t)n);
        wire_put16(rec + 3, (uint16_t)(wire_get16(rec + 3) - 1));
        size_t used2;
        uint64_t seq2;
        uint8_t t2;
        cr_assert_eq(dtls13_open(&k, rec, (size_t)n, 1000, &used2, &seq2, &t2, out, sizeof(out)),
                     DTLS_REC_BAD_AUTH);
        cr_assert_eq(used2, (size_t)n - 1);
        /* another key of each kind */
        for (int which = 0; which < 3; which++) {
            struct dtls13_keys o = k;
            (which == 0 ? o.key : which == 1 ? o.iv : o.sn)[0] ^= 1;
            size_t used;
            uint64_t seq;
            uint8_t t;
            cr_assert_eq(dtls13_open(&o, good, (size_t)n, 1000, &used, &seq, &t, out, sizeof(out)),
                         DTLS_REC_BAD_AUTH);
        }
    }
}

Test(dtls13_record, limits_and_malformed_headers)
{
    struct dtls13_keys k = keys_of(DTLS_SUITE_CHACHA20_POLY1305);
    static uint8_t big[16385], rec[17000], out[17000];
    cr_assert_eq(dtls13_seal(&k, 3, 0, DTLS_CT_APPLICATION_DATA, big, 16385, rec, sizeof(rec)),
                 -EMSGSIZE);
    cr_assert_eq(
        dtls13_seal(&k, 3, 0, DTLS_CT_APPLICATION_DATA, big, 10, rec, 10 + DTLS13_OVERHEAD - 1),
        -ENOSPC);
    cr_assert_eq(
        dtls13_seal(&k, 3, 1ull << 48, DTLS_CT_APPLICATION_DATA, big, 10, rec, sizeof(rec)),
        -EOVERFLOW);
    struct dtls13_keys bad = k;
    bad.suite = DTLS_SUITE_NONE;
    cr_assert_eq(dtls13_seal(&bad, 3, 0, DTLS_CT_APPLICATION_DATA, big, 10, rec, sizeof(rec)),
                 -ENOTSUP);
    /* in place: the content already where the ciphertext goes */
    uint8_t place[64], copy[64], content[20];
    fill(content, sizeof(content));
    memcpy(place + DTLS13_HEADER, content, sizeof(content));
    int n = dtls13_seal(&k, 3, 9, DTLS_CT_APPLICATION_DATA, place + DTLS13_HEADER, 20, place,
                        sizeof(place));
    cr_assert_eq(dtls13_seal(&k, 3, 9, DTLS_CT_APPLICATION_DATA, content, 20, copy, sizeof(copy)),
                 n);
    cr_assert_arr_eq(place, copy, (size_t)n);
    size_t used;
    uint64_t seq;
    uint8_t t;
    cr_assert_eq(dtls13_open(&k, place, (size_t)n, 9, &used, &seq, &t, out, sizeof(out)), 20);
    cr_assert_arr_eq(out, content, 20);

    n = dtls13_seal(&k, 3, 7, DTLS_CT_APPLICATION_DATA, big, 100, rec, sizeof(rec));
    /* cut short: the length says more than there is */
    cr_assert_eq(dtls13_open(&k, rec, (size_t)n - 1, 7, &used, &seq, &t, out, sizeof(out)),
                 DTLS_REC_TRUNCATED);
    cr_assert_eq(used, (size_t)n - 1);
    cr_assert_eq(dtls13_open(&k, rec, 4, 7, &used, &seq, &t, out, sizeof(out)), DTLS_REC_TRUNCATED);
    /* the caller's buffer smaller than the inner plaintext */
    cr_assert_eq(dtls13_open(&k, rec, (size_t)n, 7, &used, &seq, &t, out, 100), DTLS_REC_TOO_BIG);
    cr_assert_eq(dtls13_open(&k, rec, (size_t)n, 7, &used, &seq, &t, out, 101), 100);
    /* a body under 17 bytes: no sample */
    uint8_t tiny[5 + 16] = {0x2c, 0, 0, 0, 16};
    cr_assert_eq(dtls13_open(&k, tiny, sizeof(tiny), 0, &used, &seq, &t, out, sizeof(out)),
                 DTLS_REC_TRUNCATED);
    cr_assert_eq(used, sizeof(tiny));
    /* a connection id: refused, the rest of the datagram used */
    rec[0] |= 0x10;
    struct dtls13_hdr h;
    cr_assert_eq(dtls13_parse_header(rec, (size_t)n, &h), DTLS_REC_CID);
    cr_assert(h.cid);
    cr_assert_eq(dtls13_open(&k, rec, (size_t)n, 7, &used, &seq, &t, out, sizeof(out)),
                 DTLS_REC_CID);
    cr_assert_eq(used, (size_t)n);
    /* not a unified header */
    for (unsigned b = 0; b < 256; b++) {
        rec[0] = (uint8_t)b;
        int rc = dtls13_parse_header(rec, (size_t)n, &h);
        if (b >= 0x20 && b <= 0x3f)
            cr_assert(rc == 0 || rc == DTLS_REC_CID || rc == DTLS_REC_TRUNCATED);
        else
            cr_assert_eq(rc, DTLS_REC_BAD_VERSION, "first byte %#x", b);
    }
    cr_assert_eq(dtls13_parse_header(rec, 0, &h), DTLS_REC_BAD_VERSION);
}

/* ---- the stateful record in the 1.3 form ---- */

struct side {
    struct dtls13_keys c, s; /* client_write, server_write */
};

static struct side side_of(enum dtls_suite s)
{
    struct side d = {keys_of(s), keys_of(s)};
    return d;
}

static int set13(struct dtls_record *r, const struct side *d, bool is_client)
{
    const struct dtls13_keys *w = is_client ? &d->c : &d->s, *rd = is_client ? &d->s : &d->c;
    return dtls_record_set_keys13(r, (enum dtls_suite)w->suite, w->key, w->iv, w->sn, rd->key,
                                  rd->iv, rd->sn);
}

static struct dtls_record_keys ka, kb;
static struct dtls_record_counters cnt_c, cnt_s;

/* cli and srv set up with d: one key area shared, or one each. */
static void pair13(struct dtls_record *cli, struct dtls_record *srv, const struct side *d,
                   bool shared)
{
    dtls_record_keys_clear(&ka);
    dtls_record_keys_clear(&kb);
    memset(&cnt_c, 0, sizeof(cnt_c));
    memset(&cnt_s, 0, sizeof(cnt_s));
    dtls_record_reset(cli, &ka, &cnt_c, true);
    dtls_record_reset(srv, shared ? &ka : &kb, &cnt_s, false);
    cr_assert_eq(set13(cli, d, true), 0);
    cr_assert_eq(set13(srv, d, false), 0);
}

Test(dtls13_record, stateful_both_ways_shared_and_separate_key_areas_equal_the_stateless_seal)
{
    for (int si = 0; si < 3; si++)
        for (int shared = 0; shared < 2; shared++) {
            struct side d = side_of(suites[si]);
            struct dtls_record cli, srv;
            pair13(&cli, &srv, &d, shared);
            cr_assert_eq(dtls_record_version(&cli), DTLS_V13);
            cr_assert_eq(dtls_record_prefix(&cli), DTLS13_HEADER);
            cr_assert_eq(((const struct dtls_record_keys_hdr *)&ka)->users, shared ? 3 : 1);
            uint8_t msg[300], rec[400], want[400], out[400];
            for (uint64_t i = 0; i < 300; i++) {
                bool c2s = i % 3 != 2;
                struct dtls_record *w = c2s ? &cli : &srv, *rd = c2s ? &srv : &cli;
                uint64_t seq = c2s ? i - i / 3 : i / 3; /* each direction numbered from 0 */
                size_t len = i % 280;
                fill(msg, len);
                int n;
                if (i % 5 == 0) { /* in place */
                    memcpy(rec + dtls_record_prefix(w), msg, len);
                    n = dtls_record_seal(w, DTLS_CT_APPLICATION_DATA, rec + dtls_record_prefix(w),
                                         len, rec, sizeof(rec));
                } else {
                    n = dtls_record_seal(w, DTLS_CT_APPLICATION_DATA, msg, len, rec, sizeof(rec));
                }
                int m = dtls13_seal(c2s ? &d.c : &d.s, 3, seq, DTLS_CT_APPLICATION_DATA, msg, len,
                                    want, sizeof(want));
                cr_assert_eq(n, m);
                cr_assert_arr_eq(rec, want, (size_t)n, "%s %s record %llu", suite_name(suites[si]),
                                 shared ? "shared" : "separate", (unsigned long long)i);
                size_t used;
                uint8_t t;
                cr_assert_eq(dtls_record_open(rd, rec, (size_t)n, &used, &t, out, sizeof(out)),
                             (int)len);
                cr_assert_eq(used, (size_t)n);
                cr_assert_eq(t, DTLS_CT_APPLICATION_DATA);
                cr_assert_arr_eq(out, msg, len);
            }
            /* ACKs and post-handshake records come back with their type */
            int n =
                dtls_record_seal(&srv, DTLS_CT_ACK, (const uint8_t *)"\0\0", 2, rec, sizeof(rec));
            size_t used;
            uint8_t t;
            cr_assert_eq(dtls_record_open(&cli, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
            cr_assert_eq(t, DTLS_CT_ACK);
            n = dtls_record_seal(&cli, DTLS_CT_HANDSHAKE, (const uint8_t *)"kupd", 4, rec,
                                 sizeof(rec));
            cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)), 4);
            cr_assert_eq(t, DTLS_CT_HANDSHAKE);
            cr_assert_eq(cnt_c.sealed + cnt_s.sealed, 302);
            cr_assert_eq(cnt_c.opened + cnt_s.opened, 302);
            dtls_record_free(&cli);
            dtls_record_free(&srv);
        }
}

Test(dtls13_record, replay_window_on_the_reconstructed_number)
{
    struct side d = side_of(DTLS_SUITE_AES_128_GCM);
    struct dtls_record cli, srv;
    pair13(&cli, &srv, &d, true);
    enum { N = 200 };
    static uint8_t recs[N][64];
    int lens[N];
    for (int i = 0; i < N; i++) {
        lens[i] = dtls_record_seal(&cli, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"abcd", 4,
                                   recs[i], 64);
        cr_assert_eq(lens[i], 4 + DTLS13_OVERHEAD);
    }
    uint8_t out[64], t;
    size_t used;
    /* in order up to 99, a replay, out of order within the window, one too old */
    for (int i = 0; i < 100; i++)
        if (i != 50 && i != 90)
            cr_assert_eq(
                dtls_record_open(&srv, recs[i], (size_t)lens[i], &used, &t, out, sizeof(out)), 4);
    cr_assert_eq(dtls_record_open(&srv, recs[99], (size_t)lens[99], &used, &t, out, sizeof(out)),
                 DTLS_REC_REPLAY);
    cr_assert_eq(dtls_record_open(&srv, recs[90], (size_t)lens[90], &used, &t, out, sizeof(out)),
                 4);
    cr_assert_eq(dtls_record_open(&srv, recs[90], (size_t)lens[90], &used, &t, out, sizeof(out)),
                 DTLS_REC_REPLAY);
    cr_assert_eq(dtls_record_open(&srv, recs[50], (size_t)lens[50], &used, &t, out, sizeof(out)),
                 4);
    cr_assert_eq(dtls_record_open(&srv, recs[30], (size_t)lens[30], &used, &t, out, sizeof(out)),
                 DTLS_REC_TOO_OLD);
    /* a jump ahead, then the gap behind it */
    cr_assert_eq(dtls_record_open(&srv, recs[180], (size_t)lens[180], &used, &t, out, sizeof(out)),
                 4);
    cr_assert_eq(dtls_record_open(&srv, recs[150], (size_t)lens[150], &used, &t, out, sizeof(out)),
                 4);
    cr_assert_eq(dtls_record_open(&srv, recs[110], (size_t)lens[110], &used, &t, out, sizeof(out)),
                 DTLS_REC_TOO_OLD);
    /* a tampered record does not move the window */
    recs[199][lens[199] - 1] ^= 1; /* the tag's last byte, outside the sample */
    cr_assert_eq(dtls_record_open(&srv, recs[199], (size_t)lens[199], &used, &t, out, sizeof(out)),
                 DTLS_REC_BAD_AUTH);
    recs[199][lens[199] - 1] ^= 1;
    cr_assert_eq(dtls_record_open(&srv, recs[199], (size_t)lens[199], &used, &t, out, sizeof(out)),
                 4);
    cr_assert_eq(cnt_s.opened, 98 + 1 + 1 + 2 + 1);
    cr_assert_eq(cnt_s.replayed, 2);
    cr_assert_eq(cnt_s.too_old, 2);
    cr_assert_eq(cnt_s.bad_auth, 1);
}

Test(dtls13_record, alerts_and_close_notify)
{
    for (int si = 0; si < 3; si++) {
        struct side d = side_of(suites[si]);
        struct dtls_record cli, srv;
        pair13(&cli, &srv, &d, si != 1);
        uint8_t rec[128], out[128], t;
        size_t used;
        int n = dtls_record_close(&cli, rec, sizeof(rec));
        cr_assert_eq(n, 2 + DTLS13_OVERHEAD);
        cr_assert_eq(rec[0], 0x2f, "epoch 3, no CID, 16-bit seq, length");
        /* the outer header hides the type: it is inside, 21 */
        int m =
            dtls13_seal(&d.c, 3, 0, DTLS_CT_ALERT, (const uint8_t *)"\1\0", 2, out, sizeof(out));
        cr_assert_eq(m, n);
        cr_assert_arr_eq(rec, out, (size_t)n);
        cr_assert_eq(dtls_record_seal(&cli, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, out,
                                      sizeof(out)),
                     -EPIPE);
        cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
        cr_assert_eq(t, DTLS_CT_ALERT);
        cr_assert_not(dtls_record_can_open(&srv));
        cr_assert(dtls_record_can_seal(&srv), "close_notify closes one direction");
        /* the server answers with its own; records after it are refused */
        n = dtls_record_close(&srv, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&cli, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
        cr_assert_not(dtls_record_can_open(&cli));
        cr_assert_eq(cnt_c.alerts_out + cnt_s.alerts_out, 2);
        cr_assert_eq(cnt_c.alerts_in + cnt_s.alerts_in, 2);
        dtls_record_free(&cli);
        dtls_record_free(&srv);

        /* a fatal alert ends both; a malformed one changes nothing */
        pair13(&cli, &srv, &d, true);
        n = dtls13_seal(&d.c, 3, 0, DTLS_CT_ALERT, (const uint8_t *)"\3\0", 2, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)),
                     DTLS_REC_BAD_ALERT);
        cr_assert(dtls_record_can_open(&srv));
        cr_assert_gt(dtls_record_seal(&cli, DTLS_CT_APPLICATION_DATA, rec, 1, out, sizeof(out)),
                     0); /* seq 0 used */
        n = dtls_record_alert(&cli, DTLS_ALERT_FATAL, DTLS_ALERT_DECODE_ERROR, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
        cr_assert_not(dtls_record_can_open(&srv));
        cr_assert_not(dtls_record_can_seal(&srv));
        cr_assert_not(dtls_record_can_seal(&cli));
        n = dtls13_seal(&d.c, 3, 2, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"late", 4, rec,
                        sizeof(rec));
        cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)),
                     DTLS_REC_CLOSED);
        cr_assert_eq(cnt_s.malformed, 1);
        cr_assert_eq(cnt_s.after_close, 1);
        dtls_record_free(&cli);
        dtls_record_free(&srv);
    }
}

Test(dtls13_record, other_epochs_types_and_forms_refused_and_counted)
{
    struct side d = side_of(DTLS_SUITE_AES_256_GCM);
    struct dtls_record cli, srv;
    pair13(&cli, &srv, &d, false);
    uint8_t rec[128], out[128], t;
    size_t used;
    /* the handshake's epoch 2 with the same keys: other epoch bits */
    int n = dtls13_seal(&d.c, 2, 0, DTLS_CT_HANDSHAKE, (const uint8_t *)"fin", 3, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)),
                 DTLS_REC_WRONG_EPOCH);
    cr_assert_eq(used, (size_t)n);
    /* an epoch-0 DTLSPlaintext record: stepped over whole */
    n = dtls_record_plain(&cli, DTLS_CT_HANDSHAKE, DTLS_V12, (const uint8_t *)"hello", 5, rec,
                          sizeof(rec));
    cr_assert_eq(n, 18);
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n + 7, &used, &t, out, sizeof(out)),
                 DTLS_REC_WRONG_EPOCH);
    cr_assert_eq(used, (size_t)n);
    /* change_cipher_spec and unknown types inside: refused after the tag */
    n = dtls13_seal(&d.c, 3, 1, DTLS_CT_CHANGE_CIPHER_SPEC, (const uint8_t *)"\1", 1, rec,
                    sizeof(rec));
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)),
                 DTLS_REC_BAD_TYPE);
    n = dtls13_seal(&d.c, 3, 2, 99, (const uint8_t *)"\1", 1, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)),
                 DTLS_REC_BAD_TYPE);
    /* a first byte that is neither form */
    rec[0] = 0x40;
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)),
                 DTLS_REC_BAD_TYPE);
    /* a connection id */
    n = dtls13_seal(&d.c, 3, 3, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"cid", 3, rec,
                    sizeof(rec));
    rec[0] |= 0x10;
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)), DTLS_REC_CID);
    cr_assert_eq(used, (size_t)n);
    /* truncated */
    rec[0] &= (uint8_t)~0x10;
    cr_assert_eq(dtls_record_open(&srv, rec, 3, &used, &t, out, sizeof(out)), DTLS_REC_TRUNCATED);
    cr_assert_eq(cnt_s.wrong_epoch, 2);
    cr_assert_eq(cnt_s.bad_type, 3);
    cr_assert_eq(cnt_s.malformed, 1);
    cr_assert_eq(cnt_s.truncated, 1);
    cr_assert_eq(cnt_s.opened, 0);
    /* the record still opens what is right */
    n = dtls13_seal(&d.c, 3, 4, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"ok", 2, rec,
                    sizeof(rec));
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
}

/* The second end to install checks every byte: suite, version, both keys,
 * IVs and sn keys; a refusal overwrites nothing. */
Test(dtls13_record, a_key_mismatch_on_the_second_install_is_refused)
{
    static uint8_t before[sizeof(struct dtls_record_keys)];
    enum { KEY, IV, SN_W, SN_R, SUITE, VERSION, CASES };
    for (int si = 0; si < 3; si++)
        for (int why = 0; why < CASES; why++) {
            struct side d = side_of(suites[si]), o = d;
            switch (why) {
            case KEY:
                o.c.key[0] ^= 1;
                break;
            case IV:
                o.s.iv[11] ^= 1;
                break;
            case SN_W:
                o.c.sn[key_len(suites[si]) - 1] ^= 1;
                break;
            case SN_R:
                o.s.sn[0] ^= 0x80;
                break;
            case SUITE:
                o.c.suite = o.s.suite = (uint8_t)suites[(si + 1) % 3];
                break;
            default:
                break;
            }
            struct dtls_record_keys keys;
            dtls_record_keys_clear(&keys);
            struct dtls_record_counters cnt = {0};
            struct dtls_record srv, cli;
            dtls_record_reset(&srv, &keys, &cnt, false);
            dtls_record_reset(&cli, &keys, &cnt, true);
            cr_assert_eq(set13(&srv, &d, false), 0);
            memcpy(before, &keys, dtls_record_keys_size());
            int rc;
            if (why == VERSION) /* the same bytes, installed as 1.2 keys */
                rc = dtls_record_set_keys(&cli, (enum dtls_suite)d.c.suite, d.c.key, d.c.iv,
                                          d.s.key, d.s.iv);
            else
                rc = set13(&cli, &o, true);
            cr_assert_eq(rc, -EKEYREJECTED, "%s case %d", suite_name(suites[si]), why);
            cr_assert_arr_eq((const uint8_t *)&keys, before, dtls_record_keys_size(),
                             "nothing overwritten");
            cr_assert_not(dtls_record_can_seal(&cli));
            cr_assert_eq(dtls_record_version(&cli), 0);
            /* the right keys are accepted after all */
            cr_assert_eq(set13(&cli, &d, true), 0);
            cr_assert_eq(((const struct dtls_record_keys_hdr *)&keys)->users, 3);
            dtls_record_free(&cli);
            dtls_record_free(&srv);
        }
}

/* The 1.2 form is untouched: set_keys gives 1.2 records, and a 1.2 record
 * after 1.3 keys were let go of. */
Test(dtls13_record, the_12_form_stays_as_it_was)
{
    struct dtls_record cli, srv;
    dtls_record_keys_clear(&ka);
    memset(&cnt_c, 0, sizeof(cnt_c));
    dtls_record_reset(&cli, &ka, &cnt_c, true);
    dtls_record_reset(&srv, &ka, &cnt_c, false);
    cr_assert_eq(dtls_record_version(&cli), 0);
    struct side d = side_of(DTLS_SUITE_AES_128_GCM);
    cr_assert_eq(set13(&cli, &d, true), 0);
    cr_assert_eq(set13(&srv, &d, false), 0);
    dtls_record_free(&cli);
    dtls_record_free(&srv);
    cr_assert_eq(
        dtls_record_set_keys(&cli, DTLS_SUITE_AES_128_GCM, d.c.key, d.c.iv, d.s.key, d.s.iv), 0);
    cr_assert_eq(
        dtls_record_set_keys(&srv, DTLS_SUITE_AES_128_GCM, d.s.key, d.s.iv, d.c.key, d.c.iv), 0);
    cr_assert_eq(dtls_record_version(&cli), DTLS_V12);
    cr_assert_eq(dtls_record_prefix(&cli), DTLS_RECORD_HEADER + 8);
    uint8_t rec[128], out[128], t;
    size_t used;
    int n = dtls_record_seal(&cli, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"v12", 3, rec,
                             sizeof(rec));
    cr_assert_eq(n, 3 + DTLS_RECORD_OVERHEAD_GCM);
    cr_assert_eq(rec[0], DTLS_CT_APPLICATION_DATA);
    cr_assert_eq(wire_get16(rec + 1), DTLS_V12);
    cr_assert_eq(wire_get16(rec + 3), 1);
    cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)), 3);
    dtls_record_free(&cli);
    dtls_record_free(&srv);
}
