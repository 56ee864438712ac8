/* SPDX-License-Identifier: MIT */
/* libFuzzer target: aes_gcm (crypto/aes_gcm.h) differential against
 * OpenSSL's EVP on fuzzer-chosen keys, IVs, additional data and texts,
 * on every path this CPU has. Input: a flags byte (bit 0: AES-256, bit 1:
 * in place, bits 2..7: a cut), the key (32 bytes, 16 used for AES-128),
 * the IV (12), a counter block for CTR (16), then the data, cut into
 * additional data (its first (flags >> 2) * 5 bytes, at most all of it)
 * and the text. Each path must seal as EVP seals, open its own output
 * back, refuse it with one tag bit flipped (output zeroed), and give
 * EVP's AES-CTR keystream (when the low 32 counter bits do not wrap). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aes_gcm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { HEAD = 1 + 32 + 12 + 16, MAX_TEXT = 70000 };

static void evp_seal(const uint8_t *key, size_t key_len, const uint8_t *iv, const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n;
    if (!c ||
        EVP_EncryptInit_ex(c, key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), NULL, key,
                           iv) != 1 ||
        (aad_len && EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1) ||
        (len && EVP_EncryptUpdate(c, out, &n, in, (int)len) != 1) ||
        EVP_EncryptFinal_ex(c, out + len, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
        abort();
    EVP_CIPHER_CTX_free(c);
}

static void evp_ctr(const uint8_t *key, size_t key_len, const uint8_t *ctr, const uint8_t *in,
                    size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n;
    if (!c ||
        EVP_EncryptInit_ex(c, key_len == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr(), NULL, key,
                           ctr) != 1 ||
        (len && EVP_EncryptUpdate(c, out, &n, in, (int)len) != 1))
        abort();
    EVP_CIPHER_CTX_free(c);
}

static bool zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t ref[MAX_TEXT + 16], out[MAX_TEXT + 16], back[MAX_TEXT + 16];
    if (size < HEAD)
        return 0;
    uint8_t flags = data[0];
    size_t key_len = flags & 1 ? 32 : 16;
    bool in_place = flags & 2;
    const uint8_t *key = data + 1, *iv = data + 33, *ctr = data + 45, *rest = data + HEAD;
    size_t n = size - HEAD, aad_len = (size_t)(flags >> 2) * 5;
    if (aad_len > n)
        aad_len = n;
    const uint8_t *aad = rest, *text = rest + aad_len;
    size_t len = n - aad_len;
    if (len > MAX_TEXT)
        return 0;
    uint8_t rtag[16], tag[16];
    evp_seal(key, key_len, iv, aad, aad_len, text, len, ref, rtag);
    /* the keystream of CTR from ctr, when its 32-bit count does not wrap
     * (EVP's counter is 128 bits wide, ours inc32) */
    uint32_t count =
        (uint32_t)ctr[12] << 24 | (uint32_t)ctr[13] << 16 | (uint32_t)ctr[14] << 8 | ctr[15];
    bool ctr_ok = (uint64_t)count + (len + 15) / 16 <= 0x100000000ull;
    for (int impl = 0; impl < AES_IMPL_COUNT; impl++) {
        if (!aes_impl_supported(impl))
            continue;
        struct aes_gcm_key k;
        if (aes_gcm_init(&k, key, key_len, impl) != 0)
            abort();
        if (in_place)
            memcpy(out, text, len);
        aes_gcm_seal(&k, iv, aad, aad_len, in_place ? out : text, len, out, tag);
        if (memcmp(out, ref, len) != 0 || memcmp(tag, rtag, 16) != 0)
            abort(); /* differs from OpenSSL */
        uint8_t *pt = in_place ? out : back;
        if (aes_gcm_open(&k, iv, aad, aad_len, out, len, pt, tag) != 0 ||
            memcmp(pt, text, len) != 0)
            abort(); /* does not open its own output */
        tag[flags % 16] ^= (uint8_t)(1u << (flags % 8));
        if (aes_gcm_open(&k, iv, aad, aad_len, ref, len, back, tag) != -EBADMSG || !zero(back, len))
            abort(); /* a wrong tag accepted, or the output left */
        if (ctr_ok) {
            evp_ctr(key, key_len, ctr, text, len, ref);
            aes_ctr_xor(&k, ctr, text, len, out);
            if (memcmp(out, ref, len) != 0)
                abort();
            evp_seal(key, key_len, iv, aad, aad_len, text, len, ref,
                     rtag); /* ref back for the next path */
        }
    }
    return 0;
}
