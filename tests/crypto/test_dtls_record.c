/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS 1.2 record layer (dtls_record.h) on its own. AES-128-GCM,
 * AES-256-GCM and ChaCha20-Poly1305 records byte for byte against
 * independent implementations (OpenSSL's EVP, and mbedTLS's own GCM
 * module) with the DTLS nonce and additional data built here from the
 * RFCs (RFC 5288 §3 and RFC 6347 §4.1.2.1 for GCM, RFC 7905 §2 for
 * ChaCha20); the GCM test vectors of McGrew and Viega's GCM specification
 * (the one NIST's SP 800-38D was drawn from) through the record layer;
 * the portable GHASH and the PCLMULQDQ one giving the same bytes. Then:
 * several records in one datagram, the 64-record replay window and every
 * refusal with its counter, malformed alerts, a record layer moved in
 * memory, the sequence-number limit, epoch-0 records in the clear
 * numbered from 0 and epoch-1 numbering of its own, a repeated final
 * flight taking fresh sequence numbers, and the handshake slot pool.
 */
#include <errno.h>
#include <stdio.h>

#include <mbedtls/gcm.h>
#include <openssl/evp.h>

#include "dtls_link.h"
#include "dtls_record.h"
#include "dtls_record_internal.h"
#include "wire.h"

/* ---- keys and helpers ---- */

static const uint8_t key_a[32] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba,
                                  0xcb, 0xdc, 0xed, 0xfe, 0x0f, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56,
                                  0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf0};
static const uint8_t key_b[32] = {0xa5, 0x5a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
                                  0x00, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e,
                                  0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4};
static const uint8_t iv_a[12] = {0xca, 0xfe, 0xba, 0xbe, 0x01, 0x02,
                                 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
static const uint8_t iv_b[12] = {0xde, 0xad, 0xbe, 0xef, 0x11, 0x12,
                                 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};

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

static size_t overhead(enum dtls_suite s)
{
    return s == DTLS_SUITE_CHACHA20_POLY1305 ? DTLS_RECORD_OVERHEAD_CHACHA
                                             : DTLS_RECORD_OVERHEAD_GCM;
}

/* A record alone: r set up as the client or the server end with a key
 * area and a counters block of its own, both empty, taken from a ring the
 * test's process keeps (fewer than RING records are alive at once). */
enum { RING = 32 };
static struct dtls_record_keys ring_keys[RING];
static struct dtls_record_counters ring_counters[RING];
static unsigned ring_next;

static struct dtls_record *solo(struct dtls_record *r, bool is_client)
{
    unsigned i = ring_next++ % RING;
    dtls_record_keys_clear(&ring_keys[i]);
    memset(&ring_counters[i], 0, sizeof(ring_counters[i]));
    dtls_record_reset(r, &ring_keys[i], &ring_counters[i], is_client);
    return r;
}

/* The expanded AES-GCM key r seals with, where its key area keeps it. */
static const struct aes_gcm_key *write_key(const struct dtls_record *r)
{
    return (const struct aes_gcm_key *)((const uint8_t *)dtls_crec(r)->keys + dtls_crec(r)->w_key);
}

/* a (the client end) writes with key a and reads with key b; b (the
 * server end) the other way round; each alone, on AES path impl (enum
 * aes_impl, -1 the best the CPU has) */
static void pair_init_impl(struct dtls_record *a, struct dtls_record *b, enum dtls_suite s, uint64_t a_seq,
                           int impl)
{
    solo(a, true);
    solo(b, false);
    cr_assert_eq(dtls_record_init_keys_impl(a, s, key_a, iv_a, key_b, iv_b, a_seq, impl), 0);
    cr_assert_eq(dtls_record_init_keys_impl(b, s, key_b, iv_b, key_a, iv_a, 0, impl), 0);
}

static void pair_init(struct dtls_record *a, struct dtls_record *b, enum dtls_suite s, uint64_t a_seq)
{
    pair_init_impl(a, b, s, a_seq, -1);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
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

static int hex(const char *s, uint8_t *out)
{
    int n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        cr_assert_eq(sscanf(s, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* ---- the references: OpenSSL EVP and mbedTLS's GCM module ---- */

static const EVP_CIPHER *evp_of(enum dtls_suite s)
{
    return s == DTLS_SUITE_AES_128_GCM   ? EVP_aes_128_gcm()
           : s == DTLS_SUITE_AES_256_GCM ? EVP_aes_256_gcm()
                                         : EVP_chacha20_poly1305();
}

/* An AEAD seal by OpenSSL: out gets len bytes of ciphertext, tag 16 bytes. */
static void evp_seal(enum dtls_suite s, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                     uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    cr_assert_not_null(x);
    cr_assert_eq(EVP_EncryptInit_ex(x, evp_of(s), NULL, NULL, NULL), 1);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
    cr_assert_eq(EVP_EncryptInit_ex(x, NULL, NULL, key, nonce), 1);
    if (aad_len)
        cr_assert_eq(EVP_EncryptUpdate(x, NULL, &n, aad, (int)aad_len), 1);
    if (len) {
        cr_assert_eq(EVP_EncryptUpdate(x, out, &n, in, (int)len), 1);
        cr_assert_eq(n, (int)len);
    }
    uint8_t end[16];
    cr_assert_eq(EVP_EncryptFinal_ex(x, end, &n), 1);
    cr_assert_eq(n, 0);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(x);
}

/* An AES-GCM seal by mbedTLS's GCM module. */
static void mbed_gcm_seal(enum dtls_suite s, const uint8_t *key, const uint8_t nonce[12],
                          const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                          uint8_t *out, uint8_t tag[16])
{
    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    cr_assert_eq(mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, (unsigned)key_len(s) * 8), 0);
    cr_assert_eq(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, nonce, 12, aad, aad_len,
                                           in, out, 16, tag),
                 0);
    mbedtls_gcm_free(&g);
}

/* The record a DTLS 1.2 peer writes for (type, epoch, seq, plaintext)
 * with the write key and IV, built from the RFCs with the reference
 * AEAD: header; for GCM the explicit nonce epoch||seq (RFC 5288 §3: the
 * nonce is the 4-byte salt || the 8 explicit bytes), for ChaCha20 none
 * (RFC 7905 §2: the 12-byte IV XOR 0^32 || epoch||seq); additional data
 * epoch||seq || type || version || plaintext length (RFC 5246
 * §6.2.3.3 with RFC 6347 §4.1.2.1's 64-bit sequence number). */
static size_t reference_record(enum dtls_suite s, bool with_mbedtls, const uint8_t *key,
                               const uint8_t *iv, uint8_t type, uint16_t epoch, uint64_t seq,
                               const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t es[8], nonce[12], aad[13];
    es[0] = (uint8_t)(epoch >> 8);
    es[1] = (uint8_t)epoch;
    wire_put48(es + 2, seq);
    memcpy(aad, es, 8);
    aad[8] = type;
    aad[9] = 0xfe;
    aad[10] = 0xfd;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
    bool gcm = s != DTLS_SUITE_CHACHA20_POLY1305;
    size_t explicit = gcm ? 8 : 0, frag = explicit + len + 16;
    out[0] = type;
    out[1] = 0xfe;
    out[2] = 0xfd;
    memcpy(out + 3, es, 8);
    out[11] = (uint8_t)(frag >> 8);
    out[12] = (uint8_t)frag;
    if (gcm) {
        memcpy(nonce, iv, 4);
        memcpy(nonce + 4, es, 8);
        memcpy(out + 13, es, 8);
    } else {
        memcpy(nonce, iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= es[i];
    }
    uint8_t *ct = out + 13 + explicit;
    if (with_mbedtls)
        mbed_gcm_seal(s, key, nonce, aad, 13, in, len, ct, ct + len);
    else
        evp_seal(s, key, nonce, aad, 13, in, len, ct, ct + len);
    return 13 + frag;
}

/* Our records of `len` bytes equal the references' byte for byte, and
 * ours opens theirs, on AES path impl. */
static void against_references(enum dtls_suite s, int impl)
{
    static uint8_t msg[DTLS_RECORD_MAX_PLAINTEXT], ours[DTLS_RECORD_MAX_PLAINTEXT + 64],
        theirs[DTLS_RECORD_MAX_PLAINTEXT + 64], out[DTLS_RECORD_MAX_PLAINTEXT];
    struct dtls_record a, b;
    uint64_t start = 0x123456789aull;
    if (!aes_impl_supported(impl < 0 ? AES_IMPL_PORTABLE : impl)) {
        cr_log_info("no %s path on this CPU", aes_impl_name(impl));
        return;
    }
    pair_init_impl(&a, &b, s, start, impl);
    static const size_t sizes[] = {0,     1,
                                   2,     12,
                                   13,    15,
                                   16,    17,
                                   31,    32,
                                   33,    63,
                                   64,    65,
                                   100,   255,
                                   256,   257,
                                   1000,  1163,
                                   1200,  4095,
                                   4096,  4097,
                                   16383, DTLS_RECORD_MAX_PLAINTEXT};
    static const uint8_t types[] = {DTLS_CT_APPLICATION_DATA, DTLS_CT_HANDSHAKE,
                                    DTLS_CT_APPLICATION_DATA, DTLS_CT_CHANGE_CIPHER_SPEC};
    unsigned n_cases = sizeof(sizes) / sizeof(sizes[0]) + 200;
    for (unsigned i = 0; i < n_cases; i++) {
        size_t len = i < sizeof(sizes) / sizeof(sizes[0]) ? sizes[i] : rnd() % 1500;
        uint8_t type = types[i % 4];
        fill(msg, len);
        int n = dtls_record_seal(&a, type, msg, len, ours, sizeof(ours));
        cr_assert_eq(n, (int)(len + overhead(s)), "%s, %zu bytes: %d", suite_name(s), len, n);
        cr_assert_eq(ours[3], 0);
        cr_assert_eq(ours[4], 1, "epoch 1");
        cr_assert_eq(wire_get48(ours + 5), start + i, "sequence numbers one by one");
        for (int with_mbedtls = 0; with_mbedtls < (s == DTLS_SUITE_CHACHA20_POLY1305 ? 1 : 2);
             with_mbedtls++) {
            size_t m = reference_record(s, with_mbedtls, key_a, iv_a, type, 1, start + i, msg, len,
                                        theirs);
            cr_assert_eq(m, (size_t)n);
            cr_assert_arr_eq(ours, theirs, m, "%s, %zu bytes, sequence %llu: ours differs from %s",
                             suite_name(s), len, (unsigned long long)(start + i),
                             with_mbedtls ? "mbedTLS's GCM" : "OpenSSL's");
        }
        /* what the reference sealed with the other direction's key, ours opens */
        uint64_t seq = 1000 + i;
        size_t m = reference_record(s, false, key_a, iv_a, type, 1, seq, msg, len, theirs);
        size_t used;
        uint8_t t;
        int got = dtls_record_open(&b, theirs, m, &used, &t, out, sizeof(out));
        cr_assert_eq(got, (int)len, "%s, %zu bytes: open %d", suite_name(s), len, got);
        cr_assert_eq(t, type);
        cr_assert_eq(used, m);
        cr_assert_arr_eq(out, msg, len);
    }
    dtls_record_free(&a);
    dtls_record_free(&b);
}

Test(dtls_record, aes_128_gcm_equals_openssl_and_mbedtls_gcm_on_every_path)
{
    for (int impl = 0; impl < AES_IMPL_COUNT; impl++)
        against_references(DTLS_SUITE_AES_128_GCM, impl);
}

Test(dtls_record, aes_256_gcm_equals_openssl_and_mbedtls_gcm_on_every_path)
{
    for (int impl = 0; impl < AES_IMPL_COUNT; impl++)
        against_references(DTLS_SUITE_AES_256_GCM, impl);
}

Test(dtls_record, chacha20_poly1305_equals_openssl)
{
    against_references(DTLS_SUITE_CHACHA20_POLY1305, -1);
}

/* ---- GCM test vectors ---- */

/* D. McGrew, J. Viega, "The Galois/Counter Mode of Operation (GCM)",
 * revised 2005, Appendix B (submitted to NIST, published on its modes
 * pages; the vectors SP 800-38D's implementations are checked with):
 * Test Cases 3 and 4 (AES-128) and 15 and 16 (AES-256), all with the
 * 96-bit IV cafebabefacedbaddecaf888. Test Cases 4 and 16 take the first
 * 60 bytes of the same plaintext with 20 bytes of additional data; their
 * ciphertext is the first 60 bytes of 3's and 15's. */
static const char *const tc_iv = "cafebabefacedbaddecaf888";
static const char *const tc_p = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                                "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char *const tc_a = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
static const struct {
    const char *name, *k, *h, *c, *t3, *t4;
    enum dtls_suite suite;
} tc[] = {
    {"Test Cases 3 and 4 (AES-128)", "feffe9928665731c6d6a8f9467308308",
     "b83b533708bf535d0aa6e52980d53b78",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4", "5bc94fbc3221a5db94fae95ae7121a47",
     DTLS_SUITE_AES_128_GCM},
    {"Test Cases 15 and 16 (AES-256)",
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "acbef20579b4b8ebce889bac8732dad7",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c", "76fc6ece0f4e1768cddf8853bb2d551b",
     DTLS_SUITE_AES_256_GCM},
};

/* The references reproduce the published vectors (so their agreement
 * with us below means something). */
Test(dtls_record, the_references_reproduce_the_gcm_test_vectors)
{
    for (size_t v = 0; v < sizeof(tc) / sizeof(tc[0]); v++) {
        uint8_t k[32], iv[12], p[64], a[20], c[64], t3[16], t4[16], out[64], tag[16];
        hex(tc[v].k, k);
        hex(tc_iv, iv);
        hex(tc_p, p);
        hex(tc_a, a);
        hex(tc[v].c, c);
        hex(tc[v].t3, t3);
        hex(tc[v].t4, t4);
        for (int with_mbedtls = 0; with_mbedtls < 2; with_mbedtls++) {
            void (*seal)(enum dtls_suite, const uint8_t *, const uint8_t *, const uint8_t *, size_t,
                         const uint8_t *, size_t, uint8_t *, uint8_t *) =
                with_mbedtls ? mbed_gcm_seal : evp_seal;
            seal(tc[v].suite, k, iv, NULL, 0, p, 64, out, tag);
            cr_assert_arr_eq(out, c, 64, "%s: ciphertext", tc[v].name);
            cr_assert_arr_eq(tag, t3, 16, "%s: tag without additional data", tc[v].name);
            seal(tc[v].suite, k, iv, a, 20, p, 60, out, tag);
            cr_assert_arr_eq(out, c, 60, "%s: 60-byte ciphertext", tc[v].name);
            cr_assert_arr_eq(tag, t4, 16, "%s: tag with additional data", tc[v].name);
        }
    }
}

/* The vectors through the record layer: keyed with K, the salt the IV's
 * first 4 bytes, and epoch 0xface with sequence number 0xdbaddecaf888 so
 * that salt || epoch || seq is the vectors' IV. The hash subkey H and the
 * ciphertext are the published ones byte for byte (the tag covers our
 * 13 bytes of additional data, not the vectors': it is checked against
 * both references), with either GHASH. */
Test(dtls_record, gcm_test_vectors_through_the_record_layer)
{
    for (size_t v = 0; v < sizeof(tc) / sizeof(tc[0]); v++)
        for (int impl = 0; impl < AES_IMPL_COUNT; impl++) {
            if (!aes_impl_supported(impl))
                continue;
            uint8_t k[32], iv[12], p[64], c[64], h[16], rec[128], ref[128], out[64];
            hex(tc[v].k, k);
            hex(tc_iv, iv);
            hex(tc_p, p);
            hex(tc[v].c, c);
            hex(tc[v].h, h);
            struct dtls_record a, b;
            solo(&a, true);
            solo(&b, false);
            cr_assert_eq(dtls_record_init_keys_impl(&a, tc[v].suite, k, iv, k, iv, 0xdbaddecaf888ull, impl), 0);
            cr_assert_eq(dtls_record_init_keys_impl(&b, tc[v].suite, k, iv, k, iv, 0, impl), 0);
            dtls_rec(&a)->epoch = dtls_rec(&b)->epoch = 0xface;
            static const uint8_t zero[16];
            uint8_t hk[16];
            aes_encrypt_block(write_key(&a), zero, hk);
            cr_assert_arr_eq(hk, h, 16, "%s: the hash subkey H = AES_K(0)", tc[v].name);
            int n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, p, 64, rec, sizeof(rec));
            cr_assert_eq(n, 64 + DTLS_RECORD_OVERHEAD_GCM);
            cr_assert_arr_eq(rec + 13, iv + 4, 8, "the explicit nonce is the IV's last 8 bytes");
            cr_assert_arr_eq(rec + 21, c, 64, "%s: ciphertext (%s)", tc[v].name, aes_impl_name(impl));
            for (int with_mbedtls = 0; with_mbedtls < 2; with_mbedtls++) {
                size_t m =
                    reference_record(tc[v].suite, with_mbedtls, k, iv, DTLS_CT_APPLICATION_DATA,
                                     0xface, 0xdbaddecaf888ull, p, 64, ref);
                cr_assert_eq(m, (size_t)n);
                cr_assert_arr_eq(rec, ref, m, "%s: the record with its tag", tc[v].name);
            }
            size_t used;
            uint8_t t;
            cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &t, out, sizeof(out)), 64);
            cr_assert_arr_eq(out, p, 64);
            /* and the 60-byte plaintext of Test Cases 4 and 16 */
            n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, p, 60, rec, sizeof(rec));
            cr_assert_eq(n, 60 + DTLS_RECORD_OVERHEAD_GCM);
            cr_assert_eq(wire_get48(rec + 5), 0xdbaddecaf889ull);
            dtls_record_free(&a);
            dtls_record_free(&b);
        }
}

/* ---- every AES path against the others ---- */

Test(dtls_record, every_aes_path_gives_the_same_records)
{
    static uint8_t msg[2000], r1[2100], r2[2100], out[2100];
    for (int k = 0; k < 2; k++) {
        enum dtls_suite s = k ? DTLS_SUITE_AES_256_GCM : DTLS_SUITE_AES_128_GCM;
        for (int impl = 0; impl < AES_IMPL_COUNT; impl++) {
            if (!aes_impl_supported(impl)) {
                cr_log_info("no %s path on this CPU", aes_impl_name(impl));
                continue;
            }
            struct dtls_record best, other, rx_best, rx_other;
            pair_init(&best, &rx_other, s, 5);
            pair_init_impl(&other, &rx_best, s, 5, impl);
            for (int i = 0; i < 500; i++) {
                size_t len = i < 40 ? (size_t)i : rnd() % 2000;
                fill(msg, len);
                int n1 = dtls_record_seal(&best, DTLS_CT_APPLICATION_DATA, msg, len, r1, sizeof(r1));
                int n2 = dtls_record_seal(&other, DTLS_CT_APPLICATION_DATA, msg, len, r2, sizeof(r2));
                cr_assert_eq(n1, n2);
                cr_assert_arr_eq(r1, r2, (size_t)n1, "%s, %s, %zu bytes", suite_name(s), aes_impl_name(impl), len);
                size_t used;
                uint8_t t;
                cr_assert_eq(dtls_record_open(&rx_other, r1, (size_t)n1, &used, &t, out, sizeof(out)), (int)len);
                cr_assert_eq(dtls_record_open(&rx_best, r2, (size_t)n2, &used, &t, out, sizeof(out)), (int)len);
                cr_assert_arr_eq(out, msg, len);
            }
            dtls_record_free(&best);
            dtls_record_free(&other);
            dtls_record_free(&rx_best);
            dtls_record_free(&rx_other);
        }
    }
}

/* ---- several records in a datagram, malformed alerts ---- */

Test(dtls_record, several_records_in_a_datagram)
{
    for (size_t k = 0; k < 3; k++) {
        enum dtls_suite s = suites[k];
        struct dtls_record a, b;
        pair_init(&a, &b, s, 1);
        uint8_t d[1500], out[1500];
        size_t used, off = 0;
        uint8_t type;
        static const char *const parts[] = {"one", "three", "", "seventeen bytes!!"};
        for (int i = 0; i < 4; i++) {
            int n = dtls_record_seal(&a, i == 1 ? DTLS_CT_HANDSHAKE : DTLS_CT_APPLICATION_DATA,
                                     (const uint8_t *)parts[i], strlen(parts[i]), d + off,
                                     sizeof(d) - off);
            cr_assert_gt(n, 0);
            off += (size_t)n;
        }
        size_t pos = 0;
        for (int i = 0; i < 4; i++) {
            int got = dtls_record_open(&b, d + pos, off - pos, &used, &type, out, sizeof(out));
            cr_assert_eq(got, (int)strlen(parts[i]), "%s, record %d", suite_name(s), i);
            cr_assert_eq(memcmp(out, parts[i], strlen(parts[i])), 0);
            cr_assert_eq(type, i == 1 ? DTLS_CT_HANDSHAKE : DTLS_CT_APPLICATION_DATA);
            cr_assert_eq(used, strlen(parts[i]) + overhead(s));
            pos += used;
        }
        cr_assert_eq(pos, off);
        /* a datagram cut inside its second record: the first opens, the
         * second is truncated and takes the rest */
        cr_assert_eq(
            dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, d, sizeof(d)),
            (int)(1 + overhead(s)));
        int n2 = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"yy", 2,
                                  d + 1 + overhead(s), sizeof(d) - 1 - overhead(s));
        size_t total = 1 + overhead(s) + (size_t)n2 - 1;
        cr_assert_eq(dtls_record_open(&b, d, total, &used, &type, out, sizeof(out)), 1);
        cr_assert_eq(dtls_record_open(&b, d + used, total - used, &used, &type, out, sizeof(out)),
                     DTLS_REC_TRUNCATED);
        cr_assert_eq(used, (size_t)n2 - 1, "a truncated record takes what is left");
        cr_assert_eq(dtls_record_counters(&b)->truncated, 1);
        cr_assert_eq(dtls_record_counters(&b)->opened, 5);
        dtls_record_free(&a);
        dtls_record_free(&b);
    }
}

Test(dtls_record, malformed_alerts_change_nothing_and_fatal_ones_end_it)
{
    for (size_t k = 0; k < 3; k++) {
        struct dtls_record a, b;
        pair_init(&a, &b, suites[k], 0);
        uint8_t rec[256], out[256];
        size_t used;
        uint8_t type;
        /* a 3-byte alert and one of level 3 are malformed, and change nothing */
        int n = dtls_record_seal(&a, DTLS_CT_ALERT, (const uint8_t *)"\x02\x28\x00", 3, rec,
                                 sizeof(rec));
        cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_ALERT);
        n = dtls_record_seal(&a, DTLS_CT_ALERT, (const uint8_t *)"\x03\x00", 2, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_ALERT);
        n = dtls_record_seal(&a, DTLS_CT_ALERT, (const uint8_t *)"", 0, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_ALERT);
        cr_assert_eq(dtls_record_counters(&b)->malformed, 3);
        cr_assert_eq(dtls_record_counters(&b)->alerts_in, 0);
        cr_assert(!dtls_rec(&b)->failed && !dtls_rec(&b)->peer_closed);
        /* a warning that is not close_notify is reported and changes nothing */
        n = dtls_record_alert(&a, DTLS_ALERT_WARNING, 100 /* no_renegotiation */, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
        cr_assert_eq(type, DTLS_CT_ALERT);
        cr_assert(!dtls_rec(&b)->failed && !dtls_rec(&b)->peer_closed);
        cr_assert_eq(dtls_rec(&b)->last_alert_desc, 100);
        n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"still", 5, rec,
                             sizeof(rec));
        cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)), 5);
        /* a fatal alert ends it, both ways */
        n = dtls_record_alert(&b, DTLS_ALERT_FATAL, DTLS_ALERT_HANDSHAKE_FAILURE, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&a, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
        cr_assert(dtls_rec(&a)->failed);
        cr_assert_eq(dtls_rec(&a)->last_alert_level, DTLS_ALERT_FATAL);
        cr_assert_eq(dtls_rec(&a)->last_alert_desc, DTLS_ALERT_HANDSHAKE_FAILURE);
        cr_assert_eq(dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, out, 1, rec, sizeof(rec)),
                     -EPIPE);
        cr_assert_eq(dtls_record_seal(&b, DTLS_CT_APPLICATION_DATA, out, 1, rec, sizeof(rec)),
                     -EPIPE);
        cr_assert_eq(
            dtls_record_alert(&b, DTLS_ALERT_FATAL, DTLS_ALERT_INTERNAL_ERROR, rec, sizeof(rec)),
            -EPIPE);
        cr_assert_eq(dtls_record_counters(&b)->alerts_out, 1);
        cr_assert_eq(dtls_record_counters(&a)->alerts_in, 1);
        dtls_record_free(&a);
        dtls_record_free(&b);
    }
    /* two expanded AES keys of 512 bytes (round keys and sixteen powers of
     * H for the 512-bit path) are most of it */
    cr_log_info("record layer state: %zu bytes", sizeof(struct dtls_record));
    cr_assert_leq(sizeof(struct dtls_record), 1408);
}

Test(dtls_record, close_notify_both_ways)
{
    struct dtls_record a, b;
    pair_init(&a, &b, DTLS_SUITE_AES_256_GCM, 0);
    uint8_t rec[128], late[128], out[128];
    size_t used;
    uint8_t type;
    int nl = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"late", 4, late,
                              sizeof(late));
    int n = dtls_record_close(&a, rec, sizeof(rec));
    cr_assert_gt(n, 0);
    cr_assert(dtls_rec(&a)->closed);
    cr_assert_eq(
        dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, out, 1, rec + n, sizeof(rec) - (size_t)n),
        -EPIPE, "nothing sealed after our close_notify");
    cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
    cr_assert(dtls_rec(&b)->peer_closed && !dtls_rec(&b)->failed);
    cr_assert_eq(dtls_record_open(&b, late, (size_t)nl, &used, &type, out, sizeof(out)),
                 DTLS_REC_CLOSED, "nothing opened after the peer's");
    cr_assert_eq(dtls_record_counters(&b)->after_close, 1);
    /* b may still say goodbye: a close_notify crosses ours */
    n = dtls_record_close(&b, rec, sizeof(rec));
    cr_assert_gt(n, 0);
    cr_assert_eq(dtls_record_open(&a, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
    cr_assert(dtls_rec(&a)->peer_closed);
    dtls_record_free(&a);
    dtls_record_free(&b);
}

/* ---- a record layer moved in memory ---- */

Test(dtls_record, a_moved_record_layer_keeps_working)
{
    for (size_t k = 0; k < 3; k++) {
        struct dtls_record a, b;
        pair_init(&a, &b, suites[k], 7);
        uint8_t rec[128], out[128], rec2[128];
        int n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"before", 6, rec,
                                 sizeof(rec));
        static struct dtls_record moved[2], moved_b[3];
        memcpy(&moved[1], &a, sizeof(a));
        memset(&a, 0xee, sizeof(a)); /* the old place is gone */
        memcpy(&moved_b[2], &b, sizeof(b));
        memset(&b, 0xdd, sizeof(b));
        int m = dtls_record_seal(&moved[1], DTLS_CT_APPLICATION_DATA, (const uint8_t *)"after", 5,
                                 rec2, sizeof(rec2));
        size_t used;
        uint8_t type;
        cr_assert_eq(dtls_record_open(&moved_b[2], rec, (size_t)n, &used, &type, out, sizeof(out)),
                     6, "%s", suite_name(suites[k]));
        cr_assert_eq(dtls_record_open(&moved_b[2], rec2, (size_t)m, &used, &type, out, sizeof(out)),
                     5);
        cr_assert_eq(memcmp(out, "after", 5), 0);
        /* and back into a stack copy */
        struct dtls_record c = moved[1];
        memset(&moved[1], 0, sizeof(moved[1]));
        m = dtls_record_seal(&c, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"again", 5, rec2,
                             sizeof(rec2));
        cr_assert_eq(dtls_record_open(&moved_b[2], rec2, (size_t)m, &used, &type, out, sizeof(out)),
                     5);
        dtls_record_free(&c);
        dtls_record_free(&moved_b[2]);
    }
}

/* ---- the replay window and every refusal ---- */

Test(dtls_record, replay_window_and_refusals)
{
    for (size_t k = 0; k < 3; k++) {
        enum dtls_suite s = suites[k];
        struct dtls_record a, b;
        pair_init(&a, &b, s, 100);
        static uint8_t recs[70][256];
        int lens[70];
        uint8_t msg[80], out[256];
        for (int i = 0; i < 70; i++) {
            memset(msg, i, sizeof(msg));
            lens[i] = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, msg, 1 + (size_t)i, recs[i],
                                       sizeof(recs[i]));
            cr_assert_gt(lens[i], 0);
        }
        size_t used;
        uint8_t type;
#define OPEN(i) dtls_record_open(&b, recs[i], (size_t)lens[i], &used, &type, out, sizeof(out))
        cr_assert_eq(OPEN(69), 70);
        cr_assert_eq(OPEN(69), DTLS_REC_REPLAY);
        cr_assert_eq(OPEN(10), 11, "59 behind: inside the window");
        cr_assert_eq(OPEN(6), 7, "63 behind: the window's last place");
        cr_assert_eq(OPEN(10), DTLS_REC_REPLAY);
        cr_assert_eq(OPEN(5), DTLS_REC_TOO_OLD, "64 behind: outside");
        cr_assert_eq(OPEN(0), DTLS_REC_TOO_OLD);
        /* truncated three ways */
        cr_assert_eq(dtls_record_open(&b, recs[20], 10, &used, &type, out, sizeof(out)),
                     DTLS_REC_TRUNCATED);
        cr_assert_eq(used, 10);
        cr_assert_eq(
            dtls_record_open(&b, recs[20], (size_t)lens[20] - 1, &used, &type, out, sizeof(out)),
            DTLS_REC_TRUNCATED);
        uint8_t bad[256];
        memcpy(bad, recs[20], (size_t)lens[20]);
        size_t short_frag =
            s == DTLS_SUITE_CHACHA20_POLY1305 ? 15 : 23; /* one byte short of nonce + tag */
        bad[11] = 0, bad[12] = (uint8_t)short_frag;
        cr_assert_eq(dtls_record_open(&b, bad, 13 + short_frag, &used, &type, out, sizeof(out)),
                     DTLS_REC_TRUNCATED);
        /* tampered: tag, ciphertext, type, sequence number (a fresh one) */
        memcpy(bad, recs[21], (size_t)lens[21]);
        bad[lens[21] - 3] ^= 0x40;
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[21], &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_AUTH);
        memcpy(bad, recs[21], (size_t)lens[21]);
        bad[lens[21] - 17] ^= 0x01;
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[21], &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_AUTH);
        memcpy(bad, recs[22], (size_t)lens[22]);
        bad[0] = DTLS_CT_HANDSHAKE;
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[22], &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_AUTH);
        memcpy(bad, recs[22], (size_t)lens[22]);
        wire_put48(bad + 5, wire_get48(recs[69] + 5) + 1000);
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[22], &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_AUTH);
        /* not DTLS 1.2, an unknown type, the wrong epoch, no room */
        memcpy(bad, recs[23], (size_t)lens[23]);
        bad[2] = 0xff;
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[23], &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_VERSION);
        bad[2] = 0xfd, bad[0] = 24;
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[23], &used, &type, out, sizeof(out)),
                     DTLS_REC_BAD_TYPE);
        memcpy(bad, recs[23], (size_t)lens[23]);
        bad[4] = 0;
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[23], &used, &type, out, sizeof(out)),
                     DTLS_REC_WRONG_EPOCH);
        bad[4] = 2;
        cr_assert_eq(dtls_record_open(&b, bad, (size_t)lens[23], &used, &type, out, sizeof(out)),
                     DTLS_REC_WRONG_EPOCH);
        cr_assert_eq(dtls_record_open(&b, recs[23], (size_t)lens[23], &used, &type, out, 23),
                     DTLS_REC_TOO_BIG);
        /* none of the refusals spent a sequence number: the genuine ones open */
        cr_assert_eq(OPEN(20), 21);
        cr_assert_eq(OPEN(21), 22);
        cr_assert_eq(OPEN(22), 23);
        cr_assert_eq(OPEN(23), 24);
#undef OPEN
        cr_assert_eq(dtls_record_counters(&b)->replayed, 2);
        cr_assert_eq(dtls_record_counters(&b)->too_old, 2);
        cr_assert_eq(dtls_record_counters(&b)->truncated, 3);
        cr_assert_eq(dtls_record_counters(&b)->bad_auth, 4);
        cr_assert_eq(dtls_record_counters(&b)->bad_version, 1);
        cr_assert_eq(dtls_record_counters(&b)->bad_type, 1);
        cr_assert_eq(dtls_record_counters(&b)->wrong_epoch, 2);
        cr_assert_eq(dtls_record_counters(&b)->too_big, 1);
        cr_assert_eq(dtls_record_counters(&b)->opened, 3 + 4);
        cr_assert_eq(dtls_rec(&b)->r_top, 100 + 69);
        /* a jump of more than the window clears it */
        uint8_t far[128];
        dtls_rec(&a)->w_seq = 100 + 69 + 200;
        int n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"far", 3, far,
                                 sizeof(far));
        cr_assert_eq(dtls_record_open(&b, far, (size_t)n, &used, &type, out, sizeof(out)), 3);
        cr_assert_eq(dtls_rec(&b)->r_window, 1);
        cr_assert_eq(dtls_record_open(&b, far, (size_t)n, &used, &type, out, sizeof(out)),
                     DTLS_REC_REPLAY);
        dtls_record_free(&a);
        dtls_record_free(&b);
    }
}

Test(dtls_record, seal_limits_and_the_last_sequence_number)
{
    struct dtls_record a, b;
    pair_init(&a, &b, DTLS_SUITE_AES_128_GCM, (1ull << 48) - 1);
    uint8_t rec[256], out[256];
    static uint8_t big[DTLS_RECORD_MAX_PLAINTEXT + 1];
    cr_assert_eq(dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, out, 100, rec,
                                  100 + DTLS_RECORD_OVERHEAD_GCM - 1),
                 -ENOSPC);
    cr_assert_eq(dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, big, sizeof(big), rec, sizeof(rec)),
                 -EMSGSIZE);
    cr_assert_eq(dtls_record_counters(&a)->sealed, 0, "refusals are not counted");
    int n =
        dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"end", 3, rec, sizeof(rec));
    cr_assert_gt(n, 0, "2^48 - 1 is the last sequence number");
    cr_assert_eq(wire_get48(rec + 5), (1ull << 48) - 1);
    cr_assert_eq(
        dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, rec, sizeof(rec)),
        -EOVERFLOW);
    cr_assert_eq(dtls_record_counters(&a)->sealed, 1);
    struct dtls_record none;
    memset(&none, 0x77, sizeof(none));
    solo(&none, true);
    cr_assert_eq(dtls_record_seal(&none, DTLS_CT_APPLICATION_DATA, out, 1, rec, sizeof(rec)),
                 -ENOKEY);
    cr_assert_eq(dtls_record_init_keys(&none, DTLS_SUITE_NONE, key_a, iv_a, key_b, iv_b, 0),
                 -ENOTSUP);
    dtls_record_free(&a);
    dtls_record_free(&b);
}

/* ---- epoch 0 ---- */

/* Epoch-0 records in the clear are numbered from 0 by the record layer,
 * epoch-1 records from 0 on their own; installing the keys leaves the
 * epoch-0 count where it was (a ChangeCipherSpec or an alert in the clear
 * after it takes the next number). */
Test(dtls_record, epoch_0_numbered_from_0_and_epoch_1_on_its_own)
{
    struct dtls_record r, peer;
    memset(&r, 0x5c, sizeof(r));
    solo(&r, true);
    solo(&peer, false);
    cr_assert_eq(dtls_rec(&r)->epoch, 0);
    cr_assert_eq(dtls_rec(&r)->suite, DTLS_SUITE_NONE);
    uint8_t d[512], out[512];
    static const uint8_t hello[] = {1, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc};
    for (uint64_t i = 0; i < 3; i++) {
        int n = dtls_record_plain(&r, DTLS_CT_HANDSHAKE, i == 0 ? DTLS_V10 : DTLS_V12, hello,
                                  sizeof(hello), d, sizeof(d));
        cr_assert_eq(n, 13 + (int)sizeof(hello));
        cr_assert_eq(d[0], DTLS_CT_HANDSHAKE);
        cr_assert_eq(d[1], 0xfe);
        cr_assert_eq(d[2], i == 0 ? 0xff : 0xfd, "the version given");
        cr_assert_eq(d[3] | d[4], 0, "epoch 0");
        cr_assert_eq(wire_get48(d + 5), i, "numbered from 0");
        cr_assert_eq(d[11] << 8 | d[12], (int)sizeof(hello));
        cr_assert_arr_eq(d + 13, hello, sizeof(hello));
    }
    /* refusals take no number */
    cr_assert_eq(dtls_record_plain(&r, DTLS_CT_HANDSHAKE, DTLS_V12, hello, sizeof(hello), d,
                                   13 + sizeof(hello) - 1),
                 -ENOSPC);
    static uint8_t big[DTLS_RECORD_MAX_PLAINTEXT + 1];
    cr_assert_eq(dtls_record_plain(&r, DTLS_CT_HANDSHAKE, DTLS_V12, big, sizeof(big), d, sizeof(d)),
                 -EMSGSIZE);
    /* the body may already sit where it goes */
    memcpy(d + 13, "\x01", 1);
    cr_assert_eq(
        dtls_record_plain(&r, DTLS_CT_CHANGE_CIPHER_SPEC, DTLS_V12, d + 13, 1, d, sizeof(d)), 14);
    cr_assert_eq(wire_get48(d + 5), 3);
    cr_assert_eq(d[13], 1);
    /* a record layer without keys opens nothing, and seals nothing */
    size_t used;
    uint8_t type;
    cr_assert_eq(dtls_record_open(&r, d, 14, &used, &type, out, sizeof(out)), DTLS_REC_WRONG_EPOCH);
    cr_assert_eq(dtls_record_seal(&r, DTLS_CT_APPLICATION_DATA, out, 1, d, sizeof(d)), -ENOKEY);
    /* the keys: epoch 1 from 0, epoch 0 goes on from 4 */
    cr_assert_eq(dtls_record_set_keys(&r, DTLS_SUITE_AES_256_GCM, key_a, iv_a, key_b, iv_b), 0);
    cr_assert_eq(dtls_record_init_keys(&peer, DTLS_SUITE_AES_256_GCM, key_b, iv_b, key_a, iv_a, 0),
                 0);
    cr_assert_eq(dtls_rec(&r)->epoch, 1);
    for (uint64_t i = 0; i < 3; i++) {
        int n =
            dtls_record_seal(&r, DTLS_CT_HANDSHAKE, (const uint8_t *)"finished", 8, d, sizeof(d));
        cr_assert_gt(n, 0);
        cr_assert_eq(d[3] << 8 | d[4], 1);
        cr_assert_eq(wire_get48(d + 5), i, "epoch 1 numbered from 0");
        cr_assert_eq(dtls_record_open(&peer, d, (size_t)n, &used, &type, out, sizeof(out)), 8);
        int m = dtls_record_plain(&r, DTLS_CT_ALERT, DTLS_V12, (const uint8_t *)"\x02\x28", 2, d,
                                  sizeof(d));
        cr_assert_eq(m, 15);
        cr_assert_eq(d[3] | d[4], 0);
        cr_assert_eq(wire_get48(d + 5), 4 + i, "epoch 0 went on where it was");
    }
    cr_assert_eq(dtls_rec(&r)->w_seq0, 7);
    cr_assert_eq(dtls_rec(&r)->w_seq, 3);
    /* keys installed again (a failed set-up): epoch 1 restarts, epoch 0 does not */
    cr_assert_eq(dtls_record_set_keys(&r, (enum dtls_suite)9, key_a, iv_a, key_b, iv_b), -ENOTSUP);
    cr_assert_eq(dtls_rec(&r)->suite, DTLS_SUITE_NONE);
    cr_assert_eq(dtls_rec(&r)->w_seq0, 7, "a refused key set leaves the epoch-0 count");
    cr_assert_eq(dtls_record_set_keys(&r, DTLS_SUITE_CHACHA20_POLY1305, key_a, iv_a, key_b, iv_b),
                 0);
    cr_assert_eq(dtls_rec(&r)->w_seq, 0);
    cr_assert_eq(dtls_rec(&r)->w_seq0, 7);
    cr_assert_eq(dtls_rec(&r)->r_top, 0);
    cr_assert_eq(dtls_rec(&r)->r_window, 0, "an empty replay window");
    /* letting the keys go starts epoch 0 again */
    dtls_record_free(&r);
    cr_assert_eq(
        dtls_record_plain(&r, DTLS_CT_HANDSHAKE, DTLS_V12, hello, sizeof(hello), d, sizeof(d)), 28);
    cr_assert_eq(wire_get48(d + 5), 0);
    dtls_record_free(&r);
    dtls_record_free(&peer);
}

/* ---- with the handshake engine ---- */

/* Our server's final flight is lost; our client repeats its flight and
 * the server's Finished goes out again at a fresh epoch-1 sequence number
 * (1); the server's first application record takes the next (2) and the
 * client opens it. With the link's default configuration (a cookie
 * first) the server's final flight is the sixth datagram. */
Test(dtls_record, a_repeated_final_flight_takes_fresh_sequence_numbers, .timeout = 60)
{
    struct link l;
    link_default(&l);
    l.drop_mask = 1u << 5;
    link_run(&l, 0); /* no time passes: no retransmission yet */
    cr_assert(l.up[1] && !l.up[0], "server %d client %d after %u datagrams", l.up[1], l.up[0],
              l.sent);
    cr_assert_eq(dtls_crec(&l.rec[1])->w_seq, 1, "the server sealed its Finished at 0");
    link_run(&l, 60000000000ull);
    cr_assert(l.up[0] && l.up[1]);
    cr_assert_eq(dtls_counters(l.ep[1])->retransmits_on_repeat, 1);
    cr_assert_eq(dtls_crec(&l.rec[1])->w_seq, 2, "the Finished again, at 1");
    cr_assert_eq(dtls_crec(&l.rec[0])->r_top, 1, "the client took the second Finished");
    uint8_t rec[128], out[128];
    size_t used;
    uint8_t type;
    int n = dtls_record_seal(&l.rec[1], DTLS_CT_APPLICATION_DATA, (const uint8_t *)"y", 1, rec,
                             sizeof(rec));
    cr_assert_eq(wire_get48(rec + 5), 2);
    cr_assert_eq(dtls_record_open(&l.rec[0], rec, (size_t)n, &used, &type, out, sizeof(out)), 1);
    n = dtls_record_seal(&l.rec[0], DTLS_CT_APPLICATION_DATA, (const uint8_t *)"z", 1, rec,
                         sizeof(rec));
    cr_assert_eq(wire_get48(rec + 5), 2, "the client's Finished went out twice too");
    cr_assert_eq(dtls_record_open(&l.rec[1], rec, (size_t)n, &used, &type, out, sizeof(out)), 1);
    link_done(&l);
}

/* ---- the handshake slot pool ---- */

/* Six connections handshake through two slots: each waits for a slot,
 * none holds one once its keys are in its record layer (which lives with
 * the connection, not in the slot), at most two endpoints exist at any
 * time; one endpoint is moved to another slot in mid-handshake (it keeps
 * no pointer into itself). */
Test(dtls_record, handshake_slot_pool_caps_concurrency, .timeout = 60)
{
    enum { CONNS = 6, SLOTS = 2 };
    struct dtls_hs_pool p;
    cr_assert_eq(dtls_hs_pool_init(&p, 0), -EINVAL);
    cr_assert_eq(dtls_hs_pool_init(&p, (1u << 24) + 1), -EINVAL);
    cr_assert_eq(dtls_hs_pool_init(&p, SLOTS + 1), 0); /* one spare slot to move an endpoint into */
    cr_assert_geq(p.stride, dtls_endpoint_size());
    cr_assert_eq(p.stride % 64, 0);
    cr_assert_eq((uintptr_t)dtls_hs_pool_slot(&p, 1) % 64, 0);
    link_init_crypto();
    struct conn {
        int64_t cs, ss; /* client and server slots, -1 none */
        bool done, moved;
        struct dtls_record rc, rs;
        struct dtls_record_keys keys; /* the connection's: both ends share it */
    } conn[CONNS];
    static struct dtls_record_counters counters; /* every record's: one thread */
    for (int i = 0; i < CONNS; i++)
        conn[i] = (struct conn){.cs = -1, .ss = -1};
    int64_t spare = dtls_hs_pool_acquire(&p); /* held back: only SLOTS for the handshakes */
    cr_assert_eq(spare, 0);
    static const uint8_t id[] = "198.18.0.9:5000";
    static const uint8_t secret[DTLS_COOKIE_SECRET] = {7};
    int finished = 0, moves = 0;
    for (int round = 0; round < 100 && finished < CONNS; round++) {
        for (int i = 0; i < CONNS; i++) {
            struct conn *k = &conn[i];
            if (k->done)
                continue;
            if (k->cs < 0) { /* both ends of a connection need a slot here */
                if (dtls_hs_pool_in_use(&p) + 2 > SLOTS + 1) {
                    cr_assert_eq(dtls_hs_pool_acquire(&p), -EAGAIN);
                    continue;
                }
                k->cs = dtls_hs_pool_acquire(&p);
                k->ss = dtls_hs_pool_acquire(&p);
                cr_assert(k->cs >= 0 && k->ss >= 0 && k->cs != k->ss && k->cs != spare &&
                          k->ss != spare);
                dtls_record_keys_clear(&k->keys);
                dtls_record_reset(&k->rc, &k->keys, &counters, true);
                dtls_record_reset(&k->rs, &k->keys, &counters, false);
                struct dtls_config cc_ = {.cp = &link_cp,
                                          .cert = &cc,
                                          .peer_fingerprint = sc.fingerprint,
                                          .rec = &k->rc,
                                          .srtp = DTLS_SRTP_AES128_CM_SHA1_80};
                struct dtls_config sc_ = {.is_server = true,
                                          .cp = &link_cp,
                                          .cert = &sc,
                                          .peer_fingerprint = cc.fingerprint,
                                          .rec = &k->rs,
                                          .cookie_secret = i % 2 ? secret : NULL,
                                          .client_id = id,
                                          .client_id_len = sizeof(id) - 1,
                                          .srtp = DTLS_SRTP_AES128_CM_SHA1_80};
                cr_assert_eq(dtls_init(dtls_hs_pool_slot(&p, (uint32_t)k->cs), &cc_, 0), 0);
                cr_assert_eq(dtls_init(dtls_hs_pool_slot(&p, (uint32_t)k->ss), &sc_, 0), 0);
            }
            struct dtls_endpoint *c = dtls_hs_pool_slot(&p, (uint32_t)k->cs),
                                 *s = dtls_hs_pool_slot(&p, (uint32_t)k->ss);
            uint8_t buf[DTLS_MTU];
            size_t n; /* one exchange per round, interleaved with the others */
            while ((n = dtls_poll_transmit(c, buf, sizeof(buf), 0)) > 0)
                dtls_handle_input(s, buf, n, 0);
            if (!k->moved && i == 3) {
                /* the server's endpoint to the spare slot, mid-handshake */
                struct dtls_endpoint *to = dtls_hs_pool_slot(&p, (uint32_t)spare);
                memcpy(to, s, dtls_endpoint_size());
                memset(s, 0xa5, dtls_endpoint_size());
                int64_t old = k->ss;
                k->ss = spare;
                spare = old;
                s = to;
                k->moved = true;
                moves++;
            }
            while ((n = dtls_poll_transmit(s, buf, sizeof(buf), 0)) > 0)
                dtls_handle_input(c, buf, n, 0);
            enum dtls_event_type ev;
            while ((ev = dtls_poll_event(c, &(struct dtls_ev){0})) != DTLS_EV_NONE)
                cr_assert_eq(ev, DTLS_EV_CONNECTED);
            while ((ev = dtls_poll_event(s, &(struct dtls_ev){0})) != DTLS_EV_NONE)
                cr_assert_eq(ev, DTLS_EV_CONNECTED);
            if (dtls_connected(c) && dtls_connected(s)) {
                uint8_t a[60], b[60];
                cr_assert_eq(dtls_export_keying(c, "EXTRACTOR-dtls_srtp", a, 60), 0);
                cr_assert_eq(dtls_export_keying(s, "EXTRACTOR-dtls_srtp", b, 60), 0);
                cr_assert_arr_eq(a, b, 60);
                cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)k->cs), 0);
                cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)k->ss), 0);
                k->done = true;
                finished++;
            }
        }
        cr_assert_leq(dtls_hs_pool_in_use(&p), SLOTS + 1);
    }
    cr_assert_eq(finished, CONNS);
    cr_assert_eq(moves, 1);
    cr_assert_eq(p.high_water, SLOTS + 1);
    cr_assert_gt(p.refused, 0, "connections had to wait for a slot");
    cr_assert_eq(dtls_hs_pool_in_use(&p), 1, "the spare");
    /* every connection carries data on its record layers, the slots long given back */
    for (int i = 0; i < CONNS; i++) {
        uint8_t rec[64], out[64];
        size_t used;
        uint8_t type;
        int n = dtls_record_seal(&conn[i].rc, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1,
                                 rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&conn[i].rs, rec, (size_t)n, &used, &type, out, sizeof(out)),
                     1);
        n = dtls_record_seal(&conn[i].rs, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"y", 1, rec,
                             sizeof(rec));
        cr_assert_eq(dtls_record_open(&conn[i].rc, rec, (size_t)n, &used, &type, out, sizeof(out)),
                     1);
        dtls_record_free(&conn[i].rc);
        dtls_record_free(&conn[i].rs);
    }
    /* a slot is given back once; a released slot's secrets are wiped */
    cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)spare), 0);
    int64_t s = dtls_hs_pool_acquire(&p);
    cr_assert_geq(s, 0);
    cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)s), 0);
    const uint8_t *slot = (const uint8_t *)dtls_hs_pool_slot(&p, (uint32_t)s);
    size_t nonzero = 0;
    for (size_t i = 0; i < dtls_endpoint_size(); i++)
        nonzero += slot[i] != 0;
    cr_assert_eq(nonzero, 0, "a released slot is wiped");
    cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)s), -EINVAL);
    cr_assert_eq(dtls_hs_pool_release(&p, SLOTS + 1), -EINVAL);
    cr_assert_eq(p.bad_releases, 2);
    cr_assert_eq(dtls_hs_pool_in_use(&p), 0);
    cr_assert_null(dtls_hs_pool_slot(&p, SLOTS + 1));
    for (uint32_t i = 0; i < SLOTS + 1; i++)
        cr_assert_geq(dtls_hs_pool_acquire(&p), 0);
    uint64_t refused = p.refused;
    cr_assert_eq(dtls_hs_pool_acquire(&p), -EAGAIN);
    cr_assert_eq(p.refused, refused + 1);
    cr_log_info("handshake slot: %zu bytes (stride %zu)", dtls_endpoint_size(), p.stride);
    dtls_hs_pool_destroy(&p);
    cr_assert_null(p.slots);
}

/* A record sealed in place (the plaintext already where the ciphertext
 * goes) is the record sealed from another buffer, for every suite. */
Test(dtls_record, sealing_in_place_gives_the_same_record)
{
    static uint8_t msg[1300], a_out[1400], b_buf[1400], out[1400];
    const enum dtls_suite kinds[] = {DTLS_SUITE_AES_128_GCM, DTLS_SUITE_AES_256_GCM, DTLS_SUITE_CHACHA20_POLY1305};
    for (int k = 0; k < 3; k++) {
        struct dtls_record a, b, rx_a, rx_b;
        pair_init(&a, &rx_a, kinds[k], 9);
        pair_init(&b, &rx_b, kinds[k], 9);
        size_t pre = dtls_record_prefix(&b);
        cr_assert_eq(pre, kinds[k] == DTLS_SUITE_CHACHA20_POLY1305 ? 13u : 21u);
        for (size_t len = 0; len <= 1200; len += len < 40 ? 1 : 97) {
            fill(msg, len);
            memcpy(b_buf + pre, msg, len);
            int n1 = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, msg, len, a_out, sizeof(a_out));
            int n2 = dtls_record_seal(&b, DTLS_CT_APPLICATION_DATA, b_buf + pre, len, b_buf, sizeof(b_buf));
            cr_assert_eq(n1, n2);
            cr_assert_arr_eq(a_out, b_buf, (size_t)n1, "%s, %zu bytes", suite_name(kinds[k]), len);
            size_t used;
            uint8_t t;
            cr_assert_eq(dtls_record_open(&rx_b, b_buf, (size_t)n2, &used, &t, out, sizeof(out)), (int)len);
            cr_assert_arr_eq(out, msg, len);
        }
        dtls_record_free(&a);
        dtls_record_free(&b);
        dtls_record_free(&rx_a);
        dtls_record_free(&rx_b);
    }
}

/* ---- key areas and counters ---- */

/* One cache line per record end; a key area holds both directions of the
 * largest suite on this CPU's AES path after a 128-byte header. */
Test(dtls_record, a_record_is_one_cache_line_and_its_keys_live_apart)
{
    cr_assert_eq(sizeof(struct dtls_record), 64);
    cr_assert_eq(_Alignof(struct dtls_record), 64);
    cr_assert_eq(_Alignof(struct dtls_record_keys), 64);
    size_t slot = aes_gcm_key_size_max(32) < 64 ? 64 : aes_gcm_key_size_max(32);
    cr_assert_eq(dtls_record_keys_size(), DTLS_KEYS_HDR + 2 * slot);
    cr_assert_leq(dtls_record_keys_size(), sizeof(struct dtls_record_keys));
    cr_assert_eq(dtls_record_keys_size() % 64, 0);
    cr_log_info("struct dtls_record %zu bytes, key area %zu bytes (%s), counters %zu bytes",
                sizeof(struct dtls_record), dtls_record_keys_size(), aes_impl_name(aes_impl_best()),
                sizeof(struct dtls_record_counters));
}

/* The client and the server end of one connection share one key area
 * (heap memory of exactly dtls_record_keys_size() bytes): the first
 * installs both directions, the second finds the same keys and uses them.
 * They seal and open both ways, and each interoperates with a record
 * that has an area of its own; the area's bytes are the same whichever
 * end installed first. On every suite and every AES path. */
Test(dtls_record, two_ends_share_one_key_area)
{
    static uint8_t msg[1300], rec[1400], out[1400], first[2][2048];
    for (int k = 0; k < 3; k++)
        for (int impl = 0; impl < AES_IMPL_COUNT; impl++) {
            if (!aes_impl_supported(impl) || (k == 2 && impl > 0))
                continue; /* ChaCha20 has no AES path to vary */
            enum dtls_suite s = suites[k];
            for (int order = 0; order < 2; order++) {
                struct dtls_record_keys *keys = aligned_alloc(64, dtls_record_keys_size());
                cr_assert(keys);
                dtls_record_keys_clear(keys);
                struct dtls_record_counters c_cnt = {0}, s_cnt = {0};
                struct dtls_record c, sv, lone_c, lone_s;
                dtls_record_reset(&c, keys, &c_cnt, true);
                dtls_record_reset(&sv, keys, &s_cnt, false);
                /* the client writes client_write = key a; the server the other */
                if (order == 0) {
                    cr_assert_eq(dtls_record_init_keys_impl(&c, s, key_a, iv_a, key_b, iv_b, 0, impl), 0);
                    memcpy(first[0], keys, dtls_record_keys_size());
                    cr_assert_eq(dtls_record_init_keys_impl(&sv, s, key_b, iv_b, key_a, iv_a, 0, impl), 0);
                } else {
                    cr_assert_eq(dtls_record_init_keys_impl(&sv, s, key_b, iv_b, key_a, iv_a, 0, impl), 0);
                    memcpy(first[1], keys, dtls_record_keys_size());
                    cr_assert_eq(dtls_record_init_keys_impl(&c, s, key_a, iv_a, key_b, iv_b, 0, impl), 0);
                }
                /* the second install changed only who uses the keys */
                const uint8_t *now = (const uint8_t *)keys, *was = first[order];
                cr_assert_eq(memcmp(now + 2, was + 2, dtls_record_keys_size() - 2), 0);
                cr_assert_eq(((const struct dtls_record_keys_hdr *)keys)->users, 3);
                if (order == 1)
                    cr_assert_arr_eq(first[0] + 2, first[1] + 2, dtls_record_keys_size() - 2,
                                     "the same area whoever came first");
                pair_init_impl(&lone_c, &lone_s, s, 0, impl);
                for (int i = 0; i < 60; i++) {
                    size_t len = i < 20 ? (size_t)i : rnd() % 1300;
                    size_t used;
                    uint8_t t;
                    fill(msg, len);
                    /* shared client -> shared server, and -> a lone server */
                    int n = dtls_record_seal(&c, DTLS_CT_APPLICATION_DATA, msg, len, rec, sizeof(rec));
                    cr_assert_eq(dtls_record_open(&sv, rec, (size_t)n, &used, &t, out, sizeof(out)), (int)len,
                                 "%s %s", suite_name(s), aes_impl_name(impl));
                    cr_assert_arr_eq(out, msg, len);
                    cr_assert_eq(dtls_record_open(&lone_s, rec, (size_t)n, &used, &t, out, sizeof(out)),
                                 (int)len);
                    /* shared server -> shared client, and -> a lone client */
                    n = dtls_record_seal(&sv, DTLS_CT_APPLICATION_DATA, msg, len, rec, sizeof(rec));
                    cr_assert_eq(dtls_record_open(&c, rec, (size_t)n, &used, &t, out, sizeof(out)), (int)len);
                    cr_assert_eq(dtls_record_open(&lone_c, rec, (size_t)n, &used, &t, out, sizeof(out)),
                                 (int)len);
                    cr_assert_arr_eq(out, msg, len);
                }
                /* the lone ends' records (numbered after the shared ends') open
                 * at the shared ones */
                dtls_rec(&lone_c)->w_seq = dtls_rec(&lone_s)->w_seq = 1000;
                for (int i = 0; i < 3; i++) {
                    size_t used;
                    uint8_t t;
                    fill(msg, 100);
                    int n = dtls_record_seal(&lone_c, DTLS_CT_APPLICATION_DATA, msg, 100, rec, sizeof(rec));
                    cr_assert_eq(dtls_record_open(&sv, rec, (size_t)n, &used, &t, out, sizeof(out)), 100);
                    cr_assert_arr_eq(out, msg, 100);
                    n = dtls_record_seal(&lone_s, DTLS_CT_APPLICATION_DATA, msg, 100, rec, sizeof(rec));
                    cr_assert_eq(dtls_record_open(&c, rec, (size_t)n, &used, &t, out, sizeof(out)), 100);
                    cr_assert_arr_eq(out, msg, 100);
                }
                cr_assert_eq(c_cnt.sealed, 60);
                cr_assert_eq(c_cnt.opened, 63);
                cr_assert_eq(s_cnt.sealed, 60);
                cr_assert_eq(s_cnt.opened, 63);
                /* the keys stay while one end uses them; the last wipes them */
                dtls_record_free(&c);
                cr_assert_eq(((const struct dtls_record_keys_hdr *)keys)->users, 2);
                int n = dtls_record_seal(&sv, DTLS_CT_APPLICATION_DATA, msg, 5, rec, sizeof(rec));
                size_t used;
                uint8_t t;
                cr_assert_eq(dtls_record_open(&lone_c, rec, (size_t)n, &used, &t, out, sizeof(out)), 5);
                dtls_record_free(&sv);
                for (size_t i = 0; i < dtls_record_keys_size(); i++)
                    cr_assert_eq(((const uint8_t *)keys)[i], 0, "wiped by the last user");
                dtls_record_free(&lone_c);
                dtls_record_free(&lone_s);
                free(keys);
            }
        }
}

/* The second end's keys differ from what the first installed (another
 * key, another IV, another suite, another AES path): it is refused with
 * -EKEYREJECTED, the area is not touched, the refused record has no keys,
 * and the first goes on with its own. */
Test(dtls_record, a_key_mismatch_on_the_second_install_is_refused)
{
    static uint8_t before[sizeof(struct dtls_record_keys)];
    uint8_t other_key[32], other_iv[12];
    memcpy(other_key, key_a, 32);
    other_key[31] ^= 1; /* the last byte: outside AES-128's key, inside AES-256's */
    memcpy(other_iv, iv_a, 12);
    other_iv[3] ^= 0x80;
    enum { BAD_KEY, BAD_KEY_READ, BAD_IV, BAD_SUITE, BAD_PATH, CASES };
    for (int k = 0; k < 3; k++)
        for (int why = 0; why < CASES; why++) {
            enum dtls_suite s = suites[k];
            int impl = -1, impl2 = -1;
            if (why == BAD_PATH) {
                if (k == 2 || !aes_impl_supported(AES_IMPL_AESNI))
                    continue;
                impl = AES_IMPL_AESNI, impl2 = AES_IMPL_PORTABLE;
            }
            const uint8_t *ka = key_a, *ia = iv_a, *kb = key_b;
            enum dtls_suite s2 = s;
            if (why == BAD_KEY) {
                if (s == DTLS_SUITE_AES_128_GCM)
                    continue; /* the flipped byte is not part of its key */
                ka = other_key;
            }
            uint8_t kb2[32];
            if (why == BAD_KEY_READ) {
                memcpy(kb2, key_b, 32);
                kb2[0] ^= 1;
                kb = kb2;
            }
            if (why == BAD_IV)
                ia = other_iv;
            if (why == BAD_SUITE)
                s2 = suites[(k + 1) % 3];
            struct dtls_record_keys keys;
            dtls_record_keys_clear(&keys);
            struct dtls_record_counters cnt = {0};
            struct dtls_record srv, cli, lone;
            dtls_record_reset(&srv, &keys, &cnt, false);
            dtls_record_reset(&cli, &keys, &cnt, true);
            cr_assert_eq(dtls_record_init_keys_impl(&srv, s, key_b, iv_b, key_a, iv_a, 0, impl), 0);
            memcpy(before, &keys, dtls_record_keys_size());
            /* the client derived something else */
            cr_assert_eq(dtls_record_init_keys_impl(&cli, s2, ka, ia, kb, iv_b, 0, impl2), -EKEYREJECTED,
                         "%s, case %d", suite_name(s), why);
            cr_assert_arr_eq((const uint8_t *)&keys, before, dtls_record_keys_size(), "nothing overwritten");
            cr_assert_not(dtls_record_can_seal(&cli), "the refused end has no keys");
            uint8_t rec[128], out[128];
            cr_assert_eq(dtls_record_seal(&cli, DTLS_CT_APPLICATION_DATA, rec, 1, rec, sizeof(rec)), -ENOKEY);
            /* the server still talks to a client with the right keys */
            solo(&lone, true);
            cr_assert_eq(dtls_record_init_keys(&lone, s, key_a, iv_a, key_b, iv_b, 0), 0);
            int n = dtls_record_seal(&srv, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"ok", 2, rec, sizeof(rec));
            size_t used;
            uint8_t t;
            cr_assert_eq(dtls_record_open(&lone, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
            n = dtls_record_seal(&lone, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"ok", 2, rec, sizeof(rec));
            cr_assert_eq(dtls_record_open(&srv, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
            /* the refused end letting go leaves the server's keys alone */
            dtls_record_free(&cli);
            cr_assert_arr_eq((const uint8_t *)&keys, before, dtls_record_keys_size());
            dtls_record_free(&srv);
            dtls_record_free(&lone);
        }
}

/* A full handshake between our two endpoints whose record layers share one
 * key area: the second to install checks the first's keys, and the
 * connection carries data both ways. */
Test(dtls_record, a_handshake_over_one_shared_key_area, .timeout = 60)
{
    struct link l;
    struct link tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    link_setup_keys(&l, &c, &s, true);
    link_run(&l, 60000000000ull);
    cr_assert(l.up[0] && l.up[1]);
    cr_assert_eq(((const struct dtls_record_keys_hdr *)&l.keys[0])->users, 3, "both ends use them");
    for (int from = 0; from < 2; from++) {
        uint8_t rec[128], out[128];
        size_t used;
        uint8_t type;
        int n = dtls_record_seal(&l.rec[from], DTLS_CT_APPLICATION_DATA, (const uint8_t *)"hello", 5,
                                 rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&l.rec[1 - from], rec, (size_t)n, &used, &type, out, sizeof(out)),
                     5);
    }
    link_done(&l);
}

/* Two records (the two ends of a connection) adding to one counters block:
 * each count is the sum of both; a reset does not zero it. */
Test(dtls_record, counters_shared_by_two_records_sum)
{
    struct dtls_record_counters cnt = {0};
    struct dtls_record_keys ka, kb;
    dtls_record_keys_clear(&ka);
    dtls_record_keys_clear(&kb);
    struct dtls_record a, b;
    dtls_record_reset(&a, &ka, &cnt, true);
    dtls_record_reset(&b, &kb, &cnt, false);
    cr_assert_eq(dtls_record_init_keys(&a, DTLS_SUITE_AES_128_GCM, key_a, iv_a, key_b, iv_b, 0), 0);
    cr_assert_eq(dtls_record_init_keys(&b, DTLS_SUITE_AES_128_GCM, key_b, iv_b, key_a, iv_a, 0), 0);
    cr_assert_eq(dtls_record_counters(&a), &cnt);
    cr_assert_eq(dtls_record_counters(&b), &cnt);
    uint8_t rec[128], out[128];
    size_t used;
    uint8_t t;
    for (int i = 0; i < 3; i++) {
        int n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"ab", 2, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &t, out, sizeof(out)), 2);
        if (i == 0)
            cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &t, out, sizeof(out)), DTLS_REC_REPLAY);
    }
    for (int i = 0; i < 2; i++) {
        int n = dtls_record_seal(&b, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"ba", 2, rec, sizeof(rec));
        rec[n - 1] ^= i; /* the second one tampered */
        cr_assert_eq(dtls_record_open(&a, rec, (size_t)n, &used, &t, out, sizeof(out)),
                     i ? DTLS_REC_BAD_AUTH : 2);
    }
    cr_assert_eq(cnt.sealed, 5, "3 by a + 2 by b");
    cr_assert_eq(cnt.opened, 4, "3 by b + 1 by a");
    cr_assert_eq(cnt.replayed, 1);
    cr_assert_eq(cnt.bad_auth, 1);
    dtls_record_reset(&a, &ka, &cnt, true);
    cr_assert_eq(cnt.sealed, 5, "the block is the caller's: a reset leaves it");
    dtls_record_free(&a);
    dtls_record_free(&b);
}
