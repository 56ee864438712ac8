/* SPDX-License-Identifier: MIT */
/*
 * SRTP through libsrtp2 (crypto/media_srtp.c), checked against an
 * independent reference written here on mbedTLS from RFC 3711: its key
 * derivation reproduces the RFC 3711 B.3 vector, and packets protected by
 * our libsrtp usage are byte for byte what the reference computes, and the
 * other way round. For AEAD_AES_128_GCM (RFC 7714) the reference's
 * encryption reproduces the RFC 7714 §16.1.1 packet, and libsrtp2 keyed
 * with a master key matches it once the session key and salt come from the
 * same RFC 3711 derivation (96-bit master salt, RFC 7714 §11). Replays and
 * tampering are rejected and counted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <srtp2/cipher.h>

#include "media_srtp.h"

static void hex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* AES-CM keystream from a 16-byte IV, block counter in the last 16 bits. */
static void aes_cm(const uint8_t key[16], const uint8_t iv[16], uint8_t *out, size_t n)
{
    mbedtls_aes_context a;
    mbedtls_aes_init(&a);
    mbedtls_aes_setkey_enc(&a, key, 128);
    uint8_t ctr[16], ks[16];
    memcpy(ctr, iv, 16);
    for (size_t off = 0; off < n; off += 16) {
        mbedtls_aes_crypt_ecb(&a, MBEDTLS_AES_ENCRYPT, ctr, ks);
        for (size_t i = 0; i < 16 && off + i < n; i++)
            out[off + i] = ks[i];
        uint16_t c = (uint16_t)(ctr[14] << 8 | ctr[15]);
        c++;
        ctr[14] = (uint8_t)(c >> 8);
        ctr[15] = (uint8_t)c;
    }
    mbedtls_aes_free(&a);
}

/* RFC 3711 4.3.1 with key_derivation_rate 0. */
static void kdf(const uint8_t mk[16], const uint8_t ms[14], uint8_t label, uint8_t *out, size_t n)
{
    uint8_t iv[16] = {0};
    memcpy(iv, ms, 14);
    iv[7] ^= label;
    aes_cm(mk, iv, out, n);
}

struct ref {
    uint8_t ke[16], ka[20], ks[14];
};

static void ref_keys(struct ref *r, const uint8_t *master)
{
    kdf(master, master + 16, 0x00, r->ke, 16);
    kdf(master, master + 16, 0x01, r->ka, 20);
    kdf(master, master + 16, 0x02, r->ks, 14);
}

/* RFC 3711 SRTP with AES-CM and HMAC-SHA1-80, ROC 0. */
static int ref_protect(const struct ref *r, uint8_t *pkt, int len)
{
    uint32_t ssrc = (uint32_t)pkt[8] << 24 | pkt[9] << 16 | pkt[10] << 8 | pkt[11];
    uint64_t idx = (uint64_t)(pkt[2] << 8 | pkt[3]); /* ROC 0 */
    uint8_t iv[16] = {0};
    memcpy(iv, r->ks, 14);
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; i++)
        iv[8 + i] ^= (uint8_t)(idx >> (40 - 8 * i));
    uint8_t ks[2048];
    aes_cm(r->ke, iv, ks, (size_t)(len - 12));
    for (int i = 12; i < len; i++)
        pkt[i] ^= ks[i - 12];
    uint8_t mac[20], roc[4] = {0};
    mbedtls_md_context_t c;
    mbedtls_md_init(&c);
    mbedtls_md_setup(&c, mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), 1);
    mbedtls_md_hmac_starts(&c, r->ka, 20);
    mbedtls_md_hmac_update(&c, pkt, (size_t)len);
    mbedtls_md_hmac_update(&c, roc, 4);
    mbedtls_md_hmac_finish(&c, mac);
    mbedtls_md_free(&c);
    memcpy(pkt + len, mac, 10);
    return len + 10;
}

/* RFC 7714 §8: AES-128-GCM with IV = salt XOR (00 00 || SSRC || ROC ||
 * SEQ), the RTP header as additional data, a 16-byte tag; ROC 0. */
static int ref_gcm_protect(const uint8_t ke[16], const uint8_t salt[12], uint8_t *pkt, int len)
{
    uint8_t iv[12] = {0};
    memcpy(iv + 2, pkt + 8, 4);  /* SSRC */
    memcpy(iv + 10, pkt + 2, 2); /* SEQ (ROC 0 in between) */
    for (int i = 0; i < 12; i++)
        iv[i] ^= salt[i];
    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, ke, 128);
    uint8_t ct[2048];
    mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, (size_t)(len - 12), iv, 12, pkt, 12, pkt + 12, ct, 16,
                              pkt + len);
    memcpy(pkt + 12, ct, (size_t)(len - 12));
    mbedtls_gcm_free(&g);
    return len + 16;
}

static int rtp(uint8_t *p, uint16_t seq, int payload)
{
    p[0] = 0x80;
    p[1] = 111;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    memcpy(p + 4, "\x00\x01\xe2\x40\x11\x22\x33\x44", 8);
    for (int i = 0; i < payload; i++)
        p[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload;
}

Test(srtp, reference_kdf_reproduces_rfc3711_b3)
{
    uint8_t master[30], want_key[16], want_salt[14];
    hex("E1F97A0D3E018BE0D64FA32C06DE4139", master, 16);
    hex("0EC675AD498AFEEBB6960B3AABE6", master + 16, 14);
    hex("C61E7A93744F39EE10734AFE3FF7A087", want_key, 16);
    hex("30CBBC08863D8C85D49DB34A9AE1", want_salt, 14);
    struct ref r;
    ref_keys(&r, master);
    cr_assert_eq(memcmp(r.ke, want_key, 16), 0, "session encryption key");
    cr_assert_eq(memcmp(r.ks, want_salt, 14), 0, "session salt");
}

Test(srtp, libsrtp_usage_matches_the_reference_both_ways)
{
    cr_assert_eq(media_srtp_global_init(), 0);
    uint8_t a[30], b[30];
    for (int i = 0; i < 30; i++)
        a[i] = (uint8_t)(i + 1), b[i] = (uint8_t)(0xa0 + i);
    struct media_srtp s;
    cr_assert_eq(media_srtp_init(&s, MEDIA_AES128_CM_SHA1_80, a, b), 0);
    struct ref ra, rb;
    ref_keys(&ra, a);
    ref_keys(&rb, b);
    for (uint16_t seq = 1000; seq < 1050; seq++) {
        uint8_t ours[256], theirs[256];
        int len = rtp(ours, seq, 160);
        memcpy(theirs, ours, (size_t)len);
        cr_assert_eq(media_protect_rtp(&s, ours, &len, sizeof(ours)), 0);
        int rlen = ref_protect(&ra, theirs, 12 + 160);
        cr_assert_eq(len, rlen);
        cr_assert_eq(memcmp(ours, theirs, (size_t)len), 0, "seq %u differs from RFC 3711", seq);
        /* the reference, keyed as the peer, is accepted by our receiver */
        uint8_t in[256];
        int ilen = rtp(in, seq, 160);
        ilen = ref_protect(&rb, in, ilen);
        cr_assert_eq(media_unprotect_rtp(&s, in, &ilen), 0, "seq %u", seq);
        uint8_t plain[256];
        cr_assert_eq(ilen, rtp(plain, seq, 160));
        cr_assert_eq(memcmp(in, plain, (size_t)ilen), 0);
    }
    cr_assert_eq(s.c.protected_rtp, 50);
    cr_assert_eq(s.c.unprotected_rtp, 50);
    media_srtp_free(&s);
}

static void round_trip(enum media_suite suite)
{
    cr_assert_eq(media_srtp_global_init(), 0);
    uint8_t a[30], b[30];
    for (int i = 0; i < 30; i++)
        a[i] = (uint8_t)(3 * i), b[i] = (uint8_t)(5 * i + 1);
    struct media_srtp x, y;
    cr_assert_eq(media_srtp_init(&x, suite, a, b), 0);
    cr_assert_eq(media_srtp_init(&y, suite, b, a), 0);
    uint8_t p[256], keep[256];
    int len = rtp(p, 7, 160), plain_len = len;
    uint8_t plain[256];
    memcpy(plain, p, (size_t)len);
    cr_assert_eq(media_protect_rtp(&x, p, &len, sizeof(p)), 0);
    cr_assert_gt(len, plain_len);
    memcpy(keep, p, (size_t)len);
    int klen = len;
    cr_assert_eq(media_unprotect_rtp(&y, p, &len), 0);
    cr_assert_eq(len, plain_len);
    cr_assert_eq(memcmp(p, plain, (size_t)len), 0);
    /* the same packet again is a replay */
    memcpy(p, keep, (size_t)klen);
    len = klen;
    cr_assert_eq(media_unprotect_rtp(&y, p, &len), -EALREADY);
    cr_assert_eq(y.c.replays, 1);
    /* a flipped payload bit fails authentication */
    int l2 = rtp(p, 8, 160);
    cr_assert_eq(media_protect_rtp(&x, p, &l2, sizeof(p)), 0);
    p[40] ^= 1;
    cr_assert_eq(media_unprotect_rtp(&y, p, &l2), -EACCES);
    cr_assert_eq(y.c.auth_failures, 1);
    /* RTCP: a receiver report */
    uint8_t rr[64] = {0x81, 201, 0, 7, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    int rl = 32;
    cr_assert_eq(media_protect_rtcp(&x, rr, &rl, sizeof(rr)), 0);
    cr_assert_eq(media_unprotect_rtcp(&y, rr, &rl), 0);
    cr_assert_eq(rl, 32);
    cr_assert_eq(rr[1], 201);
    /* no room for the trailer */
    int l3 = rtp(p, 9, 160);
    cr_assert_eq(media_protect_rtp(&x, p, &l3, l3 + 4), -ENOSPC);
    media_srtp_free(&x);
    media_srtp_free(&y);
    media_srtp_free(&y);
}

Test(srtp, aes_cm_hmac_sha1_80_round_trip_replay_and_tamper)
{
    round_trip(MEDIA_AES128_CM_SHA1_80);
}

Test(srtp, aead_aes_128_gcm_round_trip_replay_and_tamper)
{
    round_trip(MEDIA_AEAD_AES_128_GCM);
}

Test(srtp, dtls_srtp_keying_material_split)
{
    uint8_t km[60], cl[30], cr[30], sl[30], sr[30];
    for (int i = 0; i < 60; i++)
        km[i] = (uint8_t)i;
    media_srtp_split_keying(MEDIA_AES128_CM_SHA1_80, km, true, cl, cr);
    media_srtp_split_keying(MEDIA_AES128_CM_SHA1_80, km, false, sl, sr);
    /* client write key, then client salt (RFC 5764 4.2) */
    cr_assert_eq(cl[0], 0);
    cr_assert_eq(cl[16], 32);
    cr_assert_eq(cr[0], 16);
    cr_assert_eq(cr[16], 46);
    cr_assert_eq(memcmp(cl, sr, 30), 0, "what the client sends the server receives");
    cr_assert_eq(memcmp(cr, sl, 30), 0);
}

Test(srtp, reference_gcm_reproduces_rfc7714_16_1_1)
{
    uint8_t key[16], salt[12], pkt[128], want[128];
    hex("000102030405060708090a0b0c0d0e0f", key, 16);
    hex("517569642070726f2071756f", salt, 12);
    const char *plain = "8040f17b8041f8d35501a0b2"
                        "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
    const char *prot = "8040f17b8041f8d35501a0b2"
                       "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
                       "899d7f27beb16a9152cf765ee4390cce";
    int len = (int)strlen(plain) / 2, wlen = (int)strlen(prot) / 2;
    hex(plain, pkt, (size_t)len);
    hex(prot, want, (size_t)wlen);
    cr_assert_eq(ref_gcm_protect(key, salt, pkt, len), wlen);
    cr_assert_arr_eq(pkt, want, (size_t)wlen, "RFC 7714 16.1.1 ciphertext and tag");
}

Test(srtp, libsrtp_gcm_matches_the_rfc7714_reference)
{
    cr_assert_eq(media_srtp_global_init(), 0);
    cr_assert_eq(media_key_len(MEDIA_AEAD_AES_128_GCM), 28);
    uint8_t a[28], b[28];
    for (int i = 0; i < 28; i++)
        a[i] = (uint8_t)(3 * i + 1), b[i] = (uint8_t)(0x50 + i);
    struct media_srtp s;
    cr_assert_eq(media_srtp_init(&s, MEDIA_AEAD_AES_128_GCM, a, b), 0);
    /* session key and salt by the RFC 3711 PRF, the 96-bit master salt
     * zero-padded to the 112 bits the PRF takes */
    uint8_t msalt[14] = {0}, ke[16], ks[12];
    memcpy(msalt, a + 16, 12);
    kdf(a, msalt, 0x00, ke, 16);
    kdf(a, msalt, 0x02, ks, 12);
    for (uint16_t seq = 500; seq < 520; seq++) {
        uint8_t ours[256], theirs[256];
        int len = rtp(ours, seq, 148);
        memcpy(theirs, ours, (size_t)len);
        cr_assert_eq(media_protect_rtp(&s, ours, &len, sizeof(ours)), 0);
        int rlen = ref_gcm_protect(ke, ks, theirs, 12 + 148);
        cr_assert_eq(len, rlen);
        cr_assert_arr_eq(ours, theirs, (size_t)len, "seq %u differs from RFC 7714", seq);
    }
    media_srtp_free(&s);
}

/* libsrtp2's crypto kernel hands out its cipher objects by id; the
 * declaration lives in a header Debian does not install (crypto_kernel.h),
 * the function is exported. */
srtp_err_status_t srtp_crypto_kernel_alloc_cipher(srtp_cipher_type_id_t id, srtp_cipher_pointer_t *cp, int key_len,
                                                  int tag_len);

/* RFC 7714 §16.1.1 through libsrtp2 itself: its AES-128-GCM cipher (the
 * one srtp_protect uses, NSS underneath on Debian) keyed with the RFC's
 * session key and salt, the IV formed as RFC 7714 §8.1 says, the RTP header
 * as additional data: ciphertext and tag byte for byte; then decryption of
 * the RFC's packet gives the RFC's plaintext back and a changed tag is
 * refused. (srtp_protect itself cannot be given a session key: it always
 * derives one from a master key; libsrtp_gcm_matches_the_rfc7714_reference
 * closes that gap.) */
Test(srtp, libsrtp_gcm_cipher_reproduces_rfc7714_16_1_1)
{
    cr_assert_eq(media_srtp_global_init(), 0);
    uint8_t key[28], pkt[128], want[128];
    hex("000102030405060708090a0b0c0d0e0f", key, 16);
    hex("517569642070726f2071756f", key + 16, 12); /* the salt follows the key */
    const char *plain = "8040f17b8041f8d35501a0b2"
                        "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
    const char *prot = "8040f17b8041f8d35501a0b2"
                       "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
                       "899d7f27beb16a9152cf765ee4390cce";
    size_t len = strlen(plain) / 2, wlen = strlen(prot) / 2;
    hex(plain, pkt, len);
    hex(prot, want, wlen);
    /* IV = salt XOR (00 00 || SSRC || ROC || SEQ), ROC 0 (RFC 7714 §8.1) */
    uint8_t iv[16] = {0};
    memcpy(iv + 2, pkt + 8, 4);
    memcpy(iv + 10, pkt + 2, 2);
    for (int i = 0; i < 12; i++)
        iv[i] ^= key[16 + i];
    srtp_cipher_t *c = NULL;
    cr_assert_eq(srtp_crypto_kernel_alloc_cipher(SRTP_AES_GCM_128, &c, SRTP_AES_GCM_128_KEY_LEN_WSALT, 16),
                 srtp_err_status_ok);
    cr_assert_eq(srtp_cipher_init(c, key), srtp_err_status_ok);
    cr_assert_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), srtp_err_status_ok);
    cr_assert_eq(srtp_cipher_set_aad(c, pkt, 12), srtp_err_status_ok);
    uint32_t n = (uint32_t)(len - 12);
    cr_assert_eq(srtp_cipher_encrypt(c, pkt + 12, &n), srtp_err_status_ok);
    cr_assert_eq(n, len - 12);
    uint32_t tlen = 16;
    cr_assert_eq(srtp_cipher_get_tag(c, pkt + len, &tlen), srtp_err_status_ok);
    cr_assert_eq(tlen, 16);
    cr_assert_arr_eq(pkt, want, wlen, "libsrtp2's GCM differs from RFC 7714 16.1.1");
    /* and back: the RFC's protected packet opens to the RFC's plaintext */
    uint8_t back[128], expect[128];
    memcpy(back, want, wlen);
    hex(plain, expect, len);
    cr_assert_eq(srtp_cipher_init(c, key), srtp_err_status_ok);
    cr_assert_eq(srtp_cipher_set_iv(c, iv, srtp_direction_decrypt), srtp_err_status_ok);
    cr_assert_eq(srtp_cipher_set_aad(c, back, 12), srtp_err_status_ok);
    n = (uint32_t)(wlen - 12); /* ciphertext and tag */
    cr_assert_eq(srtp_cipher_decrypt(c, back + 12, &n), srtp_err_status_ok);
    cr_assert_eq(n, len - 12);
    cr_assert_arr_eq(back, expect, len);
    memcpy(back, want, wlen);
    back[wlen - 1] ^= 1;
    cr_assert_eq(srtp_cipher_init(c, key), srtp_err_status_ok);
    cr_assert_eq(srtp_cipher_set_iv(c, iv, srtp_direction_decrypt), srtp_err_status_ok);
    cr_assert_eq(srtp_cipher_set_aad(c, back, 12), srtp_err_status_ok);
    n = (uint32_t)(wlen - 12);
    cr_assert_neq(srtp_cipher_decrypt(c, back + 12, &n), srtp_err_status_ok, "a changed tag was accepted");
    srtp_cipher_dealloc(c);
}
