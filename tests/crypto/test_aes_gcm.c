/* SPDX-License-Identifier: MIT */
/*
 * aes_gcm (crypto/aes_gcm.h) on every path this CPU has (portable, aesni,
 * vaes-avx512; each forced in turn): the published GCM test vectors and
 * FIPS 197's AES examples, each first reproduced by OpenSSL so that the
 * typed values are known good; byte-for-byte agreement with OpenSSL's EVP
 * AES-GCM over random keys, IVs, additional data of 0..64 bytes and texts
 * of 0..2,000 and 16,384 bytes, in place and out of place; every tampered
 * tag, ciphertext or additional data refused with -EBADMSG and the output
 * zeroed; counter mode against EVP's AES-CTR, across the wrap of the low
 * 32 counter bits (which, unlike EVP's 128-bit counter, must not carry);
 * a key copied or moved in memory, and its used prefix (aes_gcm_key_size)
 * copied alone; the refusals of aes_gcm_init.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "aes_gcm.h"

/* ---- helpers ---- */

static void hex(const char *s, uint8_t *out)
{
    for (size_t i = 0; s[2 * i]; i++) {
        unsigned v;
        cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* xorshift64*: reproducible test data */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static const EVP_CIPHER *evp_gcm(size_t key_len)
{
    return key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
}

/* OpenSSL's AES-GCM seal: the reference. */
static void evp_seal(const uint8_t *key, size_t key_len, const uint8_t *iv, const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n;
    cr_assert(c);
    cr_assert_eq(EVP_EncryptInit_ex(c, evp_gcm(key_len), NULL, key, iv), 1);
    if (aad_len)
        cr_assert_eq(EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len), 1);
    if (len)
        cr_assert_eq(EVP_EncryptUpdate(c, out, &n, in, (int)len), 1);
    cr_assert_eq(EVP_EncryptFinal_ex(c, out + len, &n), 1);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(c);
}

/* OpenSSL's AES-CTR (a 128-bit counter) over len bytes from ctr. */
static void evp_ctr(const uint8_t *key, size_t key_len, const uint8_t *ctr, const uint8_t *in,
                    size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n;
    cr_assert(c);
    cr_assert_eq(EVP_EncryptInit_ex(c, key_len == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr(), NULL,
                                    key, ctr),
                 1);
    if (len)
        cr_assert_eq(EVP_EncryptUpdate(c, out, &n, in, (int)len), 1);
    EVP_CIPHER_CTX_free(c);
}

/* The next path after impl that this CPU has, or AES_IMPL_COUNT: loops
 * over the paths start from next_path(-1). */
static int next_path(int impl)
{
    while (++impl < AES_IMPL_COUNT && !aes_impl_supported(impl))
        ;
    return impl;
}

static void key_for(struct aes_gcm_key *k, const uint8_t *key, size_t key_len, int impl)
{
    cr_assert_eq(aes_gcm_init(k, key, key_len, impl), 0, "%s", aes_impl_name(impl));
    cr_assert_eq(k->impl, impl);
}

/* ---- the paths ---- */

Test(aes_gcm, the_best_path_is_one_the_cpu_has)
{
    enum aes_impl best = aes_impl_best();
    cr_assert(aes_impl_supported(best));
    cr_assert(aes_impl_supported(AES_IMPL_PORTABLE));
    cr_assert_not(aes_impl_supported(-1));
    cr_assert_not(aes_impl_supported(AES_IMPL_COUNT));
    for (int i = best + 1; i < AES_IMPL_COUNT; i++)
        cr_assert_not(aes_impl_supported(i), "best is the fastest the CPU has");
    cr_assert_str_eq(aes_impl_name(AES_IMPL_VAES), "vaes-avx512");
    cr_assert_str_eq(aes_impl_name(AES_IMPL_AESNI), "aesni");
    cr_assert_str_eq(aes_impl_name(AES_IMPL_PORTABLE), "portable");
    cr_assert_str_eq(aes_impl_name(7), "?");
    struct aes_gcm_key k;
    static const uint8_t key[32];
    cr_assert_eq(aes_gcm_init(&k, key, 16, -1), 0);
    cr_assert_eq(k.impl, best, "no force: the best path");
    fprintf(stderr, "aes_gcm: best path here: %s\n", aes_impl_name(best));
}

Test(aes_gcm, init_refuses_other_key_lengths_and_unknown_paths)
{
    static const uint8_t key[32];
    struct aes_gcm_key k;
    memset(&k, 0xa5, sizeof(k));
    cr_assert_eq(aes_gcm_init(&k, key, 24, -1), -EINVAL, "AES-192 is not offered");
    cr_assert_eq(aes_gcm_init(&k, key, 0, -1), -EINVAL);
    cr_assert_eq(aes_gcm_init(&k, key, 16, -2), -EINVAL);
    cr_assert_eq(aes_gcm_init(&k, key, 16, AES_IMPL_COUNT), -EINVAL);
    for (int i = 0; i < AES_IMPL_COUNT; i++)
        if (!aes_impl_supported(i))
            cr_assert_eq(aes_gcm_init(&k, key, 16, i), -ENOTSUP, "%s", aes_impl_name(i));
    for (size_t i = 0; i < sizeof(k); i++)
        cr_assert_eq(((uint8_t *)&k)[i], 0xa5, "the key is untouched on failure");
    cr_assert_eq(sizeof(struct aes_gcm_key), 512);
    cr_assert_eq(_Alignof(struct aes_gcm_key), 64);
}

/* ---- known answers ---- */

/* FIPS 197 Appendix C.1 and C.3: the example vectors of AES-128 and
 * AES-256 (key 00 01 02 ..., plaintext 00 11 22 ... ff). */
Test(aes_gcm, fips197_example_blocks_on_every_path)
{
    uint8_t key[32], pt[16], c128[16], c256[16], out[16];
    hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key);
    hex("00112233445566778899aabbccddeeff", pt);
    hex("69c4e0d86a7b0430d8cdb78070b4c55a", c128);
    hex("8ea2b7ca516745bfeafc49904b496089", c256);
    uint8_t zero[16] = {0};
    evp_ctr(key, 16, pt, zero, 16, out); /* a CTR block of zeros is AES_K(counter) */
    cr_assert_arr_eq(out, c128, 16, "OpenSSL reproduces FIPS 197 C.1");
    evp_ctr(key, 32, pt, zero, 16, out);
    cr_assert_arr_eq(out, c256, 16, "OpenSSL reproduces FIPS 197 C.3");
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl)) {
        struct aes_gcm_key k;
        key_for(&k, key, 16, impl);
        aes_encrypt_block(&k, pt, out);
        cr_assert_arr_eq(out, c128, 16, "AES-128, %s", aes_impl_name(impl));
        key_for(&k, key, 32, impl);
        memcpy(out, pt, 16);
        aes_encrypt_block(&k, out, out); /* in place */
        cr_assert_arr_eq(out, c256, 16, "AES-256, %s", aes_impl_name(impl));
    }
}

/* D. McGrew, J. Viega, "The Galois/Counter Mode of Operation (GCM)",
 * revised 2005, Appendix B (the specification NIST's SP 800-38D was drawn
 * from): Test Cases 1-4 (AES-128) and 13-16 (AES-256). Cases 4 and 16 are
 * the first 60 bytes of 3's and 15's plaintext with 20 bytes of
 * additional data; their ciphertext is the first 60 bytes of 3's / 15's. */
static const char *const tc_p = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                                "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char *const tc_a = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
static const struct {
    int n;
    const char *k, *iv, *c, *t;
    size_t len, aad_len;
    bool zero_p; /* cases 1, 2, 13, 14: an all-zero plaintext */
} tc[] = {
    {1, "00000000000000000000000000000000", "000000000000000000000000", "",
     "58e2fccefa7e3061367f1d57a4e7455a", 0, 0, true},
    {2, "00000000000000000000000000000000", "000000000000000000000000",
     "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf", 16, 0, true},
    {3, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4", 64, 0},
    {4, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47", 60, 20},
    {13, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "530f8afbc74536b9a963b4f1c4cb738b", 0, 0, true},
    {14, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919", 16, 0, true},
    {15, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c", 64, 0},
    {16, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b", 60, 20},
};

Test(aes_gcm, gcm_spec_test_cases_1_to_4_and_13_to_16_on_every_path)
{
    for (size_t v = 0; v < sizeof(tc) / sizeof(tc[0]); v++) {
        uint8_t key[32], iv[12], p[64] = {0}, a[20], c[64], t[16], out[64], tag[16];
        size_t key_len = strlen(tc[v].k) / 2;
        hex(tc[v].k, key);
        hex(tc[v].iv, iv);
        if (!tc[v].zero_p)
            hex(tc_p, p);
        hex(tc_a, a);
        hex(tc[v].c, c);
        hex(tc[v].t, t);
        const uint8_t *aad = tc[v].aad_len ? a : NULL;
        evp_seal(key, key_len, iv, aad, tc[v].aad_len, p, tc[v].len, out, tag);
        cr_assert_arr_eq(out, c, tc[v].len, "OpenSSL reproduces Test Case %d's ciphertext",
                         tc[v].n);
        cr_assert_arr_eq(tag, t, 16, "OpenSSL reproduces Test Case %d's tag", tc[v].n);
        for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl)) {
            struct aes_gcm_key k;
            key_for(&k, key, key_len, impl);
            memset(out, 0, sizeof(out));
            aes_gcm_seal(&k, iv, aad, tc[v].aad_len, p, tc[v].len, out, tag);
            cr_assert_arr_eq(out, c, tc[v].len, "Test Case %d, %s: ciphertext", tc[v].n,
                             aes_impl_name(impl));
            cr_assert_arr_eq(tag, t, 16, "Test Case %d, %s: tag", tc[v].n, aes_impl_name(impl));
            cr_assert_eq(aes_gcm_open(&k, iv, aad, tc[v].aad_len, c, tc[v].len, out, t), 0);
            cr_assert_arr_eq(out, p, tc[v].len, "Test Case %d, %s: opened", tc[v].n,
                             aes_impl_name(impl));
        }
    }
}

/* ---- against OpenSSL ---- */

static uint8_t msg[16384 + 64], ref[16384 + 64], got[16384 + 64], back[16384 + 64];

/* One random case: key, IV, aad, text of len bytes sealed by us (in
 * place or not) and by EVP, compared, then opened by us. */
static void one_case(int impl, size_t key_len, size_t aad_len, size_t len, bool in_place)
{
    uint8_t key[32], iv[12], aad[64], rtag[16], tag[16];
    fill(key, sizeof(key));
    fill(iv, sizeof(iv));
    fill(aad, aad_len);
    fill(msg, len);
    struct aes_gcm_key k;
    key_for(&k, key, key_len, impl);
    evp_seal(key, key_len, iv, aad, aad_len, msg, len, ref, rtag);
    uint8_t *dst = in_place ? got : got + 1; /* out of place also misaligned */
    memcpy(got, msg, len);
    aes_gcm_seal(&k, iv, aad, aad_len, in_place ? got : msg, len, dst, tag);
    if (memcmp(dst, ref, len) != 0 || memcmp(tag, rtag, 16) != 0)
        cr_assert_fail("%s AES-%zu: %zu bytes, %zu of aad, %s: differs from OpenSSL",
                       aes_impl_name(impl), key_len * 8, len, aad_len,
                       in_place ? "in place" : "out of place");
    uint8_t *pt = in_place ? dst : back;
    int r = aes_gcm_open(&k, iv, aad, aad_len, dst, len, pt, tag);
    if (r != 0 || memcmp(pt, msg, len) != 0)
        cr_assert_fail("%s AES-%zu: %zu bytes, %zu of aad: open", aes_impl_name(impl), key_len * 8,
                       len, aad_len);
}

Test(aes_gcm, every_path_equals_openssl_for_lengths_0_to_2000_and_16384)
{
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl))
        for (size_t key_len = 16; key_len <= 32; key_len += 16) {
            /* every aad length 0..64 against every text length 0..300 (the
             * whole tail logic of both fast paths, 16 blocks and more) */
            if (impl != AES_IMPL_PORTABLE)
                for (size_t len = 0; len <= 300; len++)
                    for (size_t aad_len = 0; aad_len <= 64; aad_len++)
                        one_case(impl, key_len, aad_len, len, (len + aad_len) & 1);
            for (size_t len = 0; len <= 2000; len++)
                for (int in_place = 0; in_place < 2; in_place++)
                    one_case(impl, key_len, (len * 7 + (size_t)in_place * 13) % 65, len, in_place);
            for (int in_place = 0; in_place < 2; in_place++) {
                one_case(impl, key_len, 13, 16384, in_place);
                one_case(impl, key_len, 0, 16384, in_place);
                one_case(impl, key_len, 64, 16384 - 1, in_place);
            }
        }
}

/* Additional data longer than the fast paths' groups (8 and 16 blocks). */
Test(aes_gcm, long_additional_data_equals_openssl)
{
    static uint8_t aad[1000];
    uint8_t key[32], iv[12], tag[16], rtag[16];
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl))
        for (size_t aad_len = 0; aad_len <= sizeof(aad); aad_len += 37) {
            fill(key, 32);
            fill(iv, 12);
            fill(aad, aad_len);
            size_t len = aad_len % 300;
            fill(msg, len);
            struct aes_gcm_key k;
            key_for(&k, key, 32, impl);
            evp_seal(key, 32, iv, aad, aad_len, msg, len, ref, rtag);
            aes_gcm_seal(&k, iv, aad, aad_len, msg, len, got, tag);
            cr_assert_arr_eq(got, ref, len);
            cr_assert_arr_eq(tag, rtag, 16, "%s: %zu bytes of aad", aes_impl_name(impl), aad_len);
        }
}

/* ---- refusals ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

Test(aes_gcm, tampered_tag_ciphertext_or_aad_is_refused_and_the_output_zeroed)
{
    static const size_t lens[] = {0, 1, 15, 16, 17, 100, 255, 256, 1200, 4097};
    uint8_t key[32], iv[12], aad[13], tag[16], bad[16];
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl))
        for (size_t key_len = 16; key_len <= 32; key_len += 16)
            for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
                size_t len = lens[li];
                fill(key, 32);
                fill(iv, 12);
                fill(aad, 13);
                fill(msg, len);
                struct aes_gcm_key k;
                key_for(&k, key, key_len, impl);
                aes_gcm_seal(&k, iv, aad, 13, msg, len, ref, tag);
                /* each bit of the tag */
                for (int bit = 0; bit < 128; bit += 7) {
                    memcpy(bad, tag, 16);
                    bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    memset(back, 0xee, len);
                    cr_assert_eq(aes_gcm_open(&k, iv, aad, 13, ref, len, back, bad), -EBADMSG);
                    cr_assert(all_zero(back, len), "%s: out zeroed after a bad tag",
                              aes_impl_name(impl));
                }
                /* the ciphertext's first, middle and last byte, in place */
                for (size_t at = 0; len && at < 3; at++) {
                    size_t pos = at == 0 ? 0 : at == 1 ? len / 2 : len - 1;
                    memcpy(got, ref, len);
                    got[pos] ^= 0x80;
                    cr_assert_eq(aes_gcm_open(&k, iv, aad, 13, got, len, got, tag), -EBADMSG,
                                 "%s: %zu bytes, byte %zu flipped", aes_impl_name(impl), len, pos);
                    cr_assert(all_zero(got, len));
                }
                /* the additional data, its length, the IV */
                aad[12] ^= 1;
                cr_assert_eq(aes_gcm_open(&k, iv, aad, 13, ref, len, back, tag), -EBADMSG);
                aad[12] ^= 1;
                cr_assert_eq(aes_gcm_open(&k, iv, aad, 12, ref, len, back, tag), -EBADMSG);
                iv[11] ^= 4;
                cr_assert_eq(aes_gcm_open(&k, iv, aad, 13, ref, len, back, tag), -EBADMSG);
                iv[11] ^= 4;
                /* a shorter text (a truncated record) */
                if (len)
                    cr_assert_eq(aes_gcm_open(&k, iv, aad, 13, ref, len - 1, back, tag), -EBADMSG);
                cr_assert_eq(aes_gcm_open(&k, iv, aad, 13, ref, len, back, tag), 0,
                             "and the original opens");
                cr_assert_arr_eq(back, msg, len);
            }
}

/* ---- counter mode ---- */

Test(aes_gcm, ctr_equals_openssl_aes_ctr)
{
    uint8_t key[32], ctr[16];
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl))
        for (size_t key_len = 16; key_len <= 32; key_len += 16)
            for (size_t len = 0; len <= 1100; len += (len < 300 ? 1 : 61)) {
                fill(key, 32);
                fill(ctr, 16);
                ctr[12] = 0; /* no wrap of the low 32 bits here: EVP's counter is 128 bits */
                fill(msg, len);
                struct aes_gcm_key k;
                key_for(&k, key, key_len, impl);
                evp_ctr(key, key_len, ctr, msg, len, ref);
                aes_ctr_xor(&k, ctr, msg, len, got);
                cr_assert_arr_eq(got, ref, len, "%s AES-%zu CTR, %zu bytes", aes_impl_name(impl),
                                 key_len * 8, len);
                aes_ctr_xor(&k, ctr, got, len, got); /* in place, back */
                cr_assert_arr_eq(got, msg, len);
            }
}

/* The last 32 bits count modulo 2^32 and never carry into the first 96:
 * across the wrap we equal EVP from the original counter up to the wrap,
 * then EVP from the same first 96 bits and a zero count. */
Test(aes_gcm, ctr_wraps_the_low_32_bits_without_carry)
{
    uint8_t key[32], ctr[16], ctr0[16];
    const size_t len = 16384 + 5;
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl))
        for (size_t key_len = 16; key_len <= 32; key_len += 16)
            for (uint32_t before = 1; before <= 40; before += 3) { /* blocks before the wrap */
                fill(key, 32);
                fill(ctr, 16);
                uint32_t start = (uint32_t)(0 - before);
                for (int i = 0; i < 4; i++)
                    ctr[12 + i] = (uint8_t)(start >> (24 - 8 * i));
                memcpy(ctr0, ctr, 16);
                memset(ctr0 + 12, 0, 4);
                fill(msg, len);
                size_t cut = 16 * (size_t)before;
                evp_ctr(key, key_len, ctr, msg, cut, ref);
                evp_ctr(key, key_len, ctr0, msg + cut, len - cut, ref + cut);
                struct aes_gcm_key k;
                key_for(&k, key, key_len, impl);
                aes_ctr_xor(&k, ctr, msg, len, got);
                cr_assert_arr_eq(got, ref, len, "%s AES-%zu, wrap after %u blocks",
                                 aes_impl_name(impl), key_len * 8, before);
            }
}

/* GCM's keystream is counter mode from IV || 2 (SP 800-38D §7.1). */
Test(aes_gcm, gcm_keystream_is_ctr_from_iv_and_2)
{
    uint8_t key[32], iv[12], ctr[16] = {0}, tag[16];
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl)) {
        fill(key, 32);
        fill(iv, 12);
        fill(msg, 3000);
        struct aes_gcm_key k;
        key_for(&k, key, 16, impl);
        memcpy(ctr, iv, 12);
        ctr[15] = 2;
        aes_gcm_seal(&k, iv, NULL, 0, msg, 3000, got, tag);
        aes_ctr_xor(&k, ctr, msg, 3000, ref);
        cr_assert_arr_eq(got, ref, 3000, "%s", aes_impl_name(impl));
    }
}

/* ---- the key is plain bytes ---- */

Test(aes_gcm, a_copied_or_moved_key_still_works_and_a_wiped_one_is_zero)
{
    uint8_t key[32], iv[12], tag[16], rtag[16];
    static _Alignas(64) uint8_t arena[4096];
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl))
        for (size_t key_len = 16; key_len <= 32; key_len += 16) {
            fill(key, 32);
            fill(iv, 12);
            fill(msg, 1200);
            struct aes_gcm_key a, b;
            key_for(&a, key, key_len, impl);
            b = a; /* copied */
            evp_seal(key, key_len, iv, msg, 13, msg + 13, 1187, ref, rtag);
            aes_gcm_wipe(&a);
            cr_assert(all_zero((const uint8_t *)&a, sizeof(a)), "wiped");
            aes_gcm_seal(&b, iv, msg, 13, msg + 13, 1187, got, tag);
            cr_assert_arr_eq(got, ref, 1187);
            cr_assert_arr_eq(tag, rtag, 16, "%s: a copy", aes_impl_name(impl));
            /* moved: into an arena, then along it (memmove over itself) */
            struct aes_gcm_key *p = (struct aes_gcm_key *)arena;
            memcpy(p, &b, sizeof(b));
            aes_gcm_wipe(&b);
            for (int step = 1; step <= 5; step++) {
                struct aes_gcm_key *q = (struct aes_gcm_key *)(arena + 64 * 7 * (size_t)step);
                memmove(q, p, sizeof(*p));
                memset(p, 0x5a, 64); /* the old place is overwritten */
                p = q;
                aes_gcm_seal(p, iv, msg, 13, msg + 13, 1187, got, tag);
                cr_assert_arr_eq(tag, rtag, 16, "%s: moved %d times", aes_impl_name(impl), step);
            }
        }
}

/* Only the prefix aes_gcm_key_size names is read: copied alone into
 * memory of exactly that size (heap, 64-byte aligned, nothing after it),
 * the key seals, opens and runs counter mode as the whole struct does; the
 * bytes past it in the struct are zero. */
Test(aes_gcm, a_copy_of_the_used_prefix_is_a_working_key_on_every_path)
{
    static const size_t want[AES_IMPL_COUNT][2] = {
        [AES_IMPL_PORTABLE] = {256, 320}, [AES_IMPL_AESNI] = {320, 384}, [AES_IMPL_VAES] = {448, 512}};
    static const size_t lens[] = {0, 1, 15, 16, 100, 113, 127, 128, 241, 255, 256, 1200, 1265, 16384};
    uint8_t key[32], iv[12], aad[13], ctr[16], tag[16], tag2[16];
    cr_assert_eq(aes_gcm_key_size_max(24), 0);
    cr_assert_eq(aes_gcm_key_size_max(16), want[aes_impl_best()][0]);
    cr_assert_eq(aes_gcm_key_size_max(32), want[aes_impl_best()][1]);
    struct aes_gcm_key none;
    memset(&none, 0, sizeof(none));
    cr_assert_eq(aes_gcm_key_size(&none), 0, "zeroed memory holds no key");
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl))
        for (size_t key_len = 16; key_len <= 32; key_len += 16) {
            fill(key, 32);
            fill(iv, 12);
            fill(aad, 13);
            fill(ctr, 16);
            struct aes_gcm_key k;
            key_for(&k, key, key_len, impl);
            size_t n = aes_gcm_key_size(&k);
            cr_assert_eq(n, want[impl][key_len / 32], "%s AES-%zu: %zu bytes", aes_impl_name(impl),
                         key_len * 8, n);
            cr_assert_leq(n, aes_gcm_key_size_max(key_len));
            cr_assert(all_zero((const uint8_t *)&k + n, sizeof(k) - n), "nothing past the prefix");
            struct aes_gcm_key *c = aligned_alloc(64, n);
            cr_assert(c);
            memcpy(c, &k, n);
            cr_assert_eq(aes_gcm_key_size(c), n);
            for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
                size_t len = lens[i];
                fill(msg, len);
                aes_gcm_seal(&k, iv, aad, 13, msg, len, ref, tag);
                aes_gcm_seal(c, iv, aad, 13, msg, len, got, tag2);
                cr_assert_arr_eq(got, ref, len, "%s AES-%zu, %zu bytes", aes_impl_name(impl),
                                 key_len * 8, len);
                cr_assert_arr_eq(tag2, tag, 16, "%s AES-%zu, %zu bytes", aes_impl_name(impl),
                                 key_len * 8, len);
                cr_assert_eq(aes_gcm_open(c, iv, aad, 13, ref, len, got, tag), 0);
                cr_assert_arr_eq(got, msg, len);
                aes_ctr_xor(&k, ctr, msg, len, ref);
                aes_ctr_xor(c, ctr, msg, len, got);
                cr_assert_arr_eq(got, ref, len);
            }
            aes_encrypt_block(&k, ctr, tag);
            aes_encrypt_block(c, ctr, tag2);
            cr_assert_arr_eq(tag2, tag, 16);
            free(c);
        }
}

/* NULL pointers with zero lengths (no additional data, an empty text). */
Test(aes_gcm, empty_inputs_may_be_null)
{
    uint8_t key[16] = {1}, iv[12] = {2}, tag[16], rtag[16], dummy[1];
    evp_seal(key, 16, iv, NULL, 0, NULL, 0, dummy, rtag);
    for (int impl = next_path(-1); impl < AES_IMPL_COUNT; impl = next_path(impl)) {
        struct aes_gcm_key k;
        key_for(&k, key, 16, impl);
        aes_gcm_seal(&k, iv, NULL, 0, NULL, 0, NULL, tag);
        cr_assert_arr_eq(tag, rtag, 16, "%s: GMAC of nothing", aes_impl_name(impl));
        cr_assert_eq(aes_gcm_open(&k, iv, NULL, 0, NULL, 0, NULL, tag), 0);
        tag[0] ^= 1;
        cr_assert_eq(aes_gcm_open(&k, iv, NULL, 0, NULL, 0, NULL, tag), -EBADMSG);
        uint8_t ctr[16] = {3};
        aes_ctr_xor(&k, ctr, NULL, 0, NULL);
    }
}
