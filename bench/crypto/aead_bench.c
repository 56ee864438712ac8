/* SPDX-License-Identifier: MIT */
/*
 * AEAD benchmark: seal + open of one record (in place, 13 bytes of
 * additional data as in DTLS 1.2, a fresh IV per record) at 64, 100, 256,
 * 1,200 and 16,384 bytes of plaintext:
 *   AES-128-GCM and AES-256-GCM: each path of our aes_gcm (crypto/
 *     aes_gcm.h) this CPU has, beside OpenSSL's EVP (one context per key
 *     and direction made once; per record EVP_EncryptInit_ex with only the
 *     IV, the additional data, the text, final, the tag) and, for AES-256,
 *     libsodium's crypto_aead_aes256gcm (the beforenm state);
 *   ChaCha20-Poly1305 (RFC 8439): OpenSSL's EVP (as above) beside
 *     libsodium's crypto_aead_chacha20poly1305_ietf_{en,de}crypt_detached
 *     and mbedTLS's chachapoly context (what crypto/dtls_record.c uses
 *     today), to choose the library for that suite.
 * Rounds of all implementations of one size are interleaved, so a noisy
 * neighbour hits them alike; each line is the median of REPS rounds: ns
 * per seal + open, GB/s = 2 x size / that time (bytes through the cipher),
 * and the time relative to EVP's. Printed; not a test.
 *   build-aes/bench/crypto/aead_bench [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/chachapoly.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "aes_gcm.h"
#include "bench.h"

#define MAX_LEN  16384
#define MAX_REPS 201
#define AAD_LEN  13

enum suite { S_AES128, S_AES256, S_CHACHA };

static const char *const suite_names[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};

/* One implementation of one suite, keyed once. */
struct impl {
    const char *name;
    void (*run)(struct impl *m, size_t len, int iters);
    struct aes_gcm_key ours;
    crypto_aead_aes256gcm_state sodium_aes;
    mbedtls_chachapoly_context mbed;
    EVP_CIPHER_CTX *enc, *dec;
    uint8_t key[32], iv[12], aad[AAD_LEN], tag[16];
    uint8_t *buf;
    double ns[MAX_REPS];
};

/* the IV of the next record: a 64-bit count in its last 8 bytes */
static void next_iv(uint8_t iv[12])
{
    for (int i = 11; i >= 4 && ++iv[i] == 0; i--)
        ;
}

static void run_ours(struct impl *m, size_t len, int iters)
{
    for (int i = 0; i < iters; i++) {
        next_iv(m->iv);
        aes_gcm_seal(&m->ours, m->iv, m->aad, AAD_LEN, m->buf, len, m->buf, m->tag);
        if (aes_gcm_open(&m->ours, m->iv, m->aad, AAD_LEN, m->buf, len, m->buf, m->tag) != 0)
            abort();
    }
}

static void run_evp(struct impl *m, size_t len, int iters)
{
    for (int i = 0; i < iters; i++) {
        int n, f;
        next_iv(m->iv);
        if (EVP_EncryptInit_ex(m->enc, NULL, NULL, NULL, m->iv) != 1 ||
            EVP_EncryptUpdate(m->enc, NULL, &n, m->aad, AAD_LEN) != 1 ||
            EVP_EncryptUpdate(m->enc, m->buf, &n, m->buf, (int)len) != 1 ||
            EVP_EncryptFinal_ex(m->enc, m->buf + n, &f) != 1 ||
            EVP_CIPHER_CTX_ctrl(m->enc, EVP_CTRL_AEAD_GET_TAG, 16, m->tag) != 1)
            abort();
        if (EVP_DecryptInit_ex(m->dec, NULL, NULL, NULL, m->iv) != 1 ||
            EVP_DecryptUpdate(m->dec, NULL, &n, m->aad, AAD_LEN) != 1 ||
            EVP_DecryptUpdate(m->dec, m->buf, &n, m->buf, (int)len) != 1 ||
            EVP_CIPHER_CTX_ctrl(m->dec, EVP_CTRL_AEAD_SET_TAG, 16, m->tag) != 1 ||
            EVP_DecryptFinal_ex(m->dec, m->buf + n, &f) != 1)
            abort();
    }
}

static void run_sodium_aes(struct impl *m, size_t len, int iters)
{
    for (int i = 0; i < iters; i++) {
        unsigned long long tl;
        next_iv(m->iv);
        crypto_aead_aes256gcm_encrypt_detached_afternm(m->buf, m->tag, &tl, m->buf, len, m->aad,
                                                       AAD_LEN, NULL, m->iv, &m->sodium_aes);
        if (crypto_aead_aes256gcm_decrypt_detached_afternm(
                m->buf, NULL, m->buf, len, m->tag, m->aad, AAD_LEN, m->iv, &m->sodium_aes) != 0)
            abort();
    }
}

static void run_sodium_chacha(struct impl *m, size_t len, int iters)
{
    for (int i = 0; i < iters; i++) {
        unsigned long long tl;
        next_iv(m->iv);
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(m->buf, m->tag, &tl, m->buf, len, m->aad,
                                                           AAD_LEN, NULL, m->iv, m->key);
        if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(m->buf, NULL, m->buf, len, m->tag,
                                                               m->aad, AAD_LEN, m->iv, m->key) != 0)
            abort();
    }
}

static void run_mbed_chacha(struct impl *m, size_t len, int iters)
{
    for (int i = 0; i < iters; i++) {
        next_iv(m->iv);
        if (mbedtls_chachapoly_encrypt_and_tag(&m->mbed, len, m->iv, m->aad, AAD_LEN, m->buf,
                                               m->buf, m->tag) != 0 ||
            mbedtls_chachapoly_auth_decrypt(&m->mbed, len, m->iv, m->aad, AAD_LEN, m->tag, m->buf,
                                            m->buf) != 0)
            abort();
    }
}

static const EVP_CIPHER *evp_cipher(enum suite s)
{
    return s == S_AES128   ? EVP_aes_128_gcm()
           : s == S_AES256 ? EVP_aes_256_gcm()
                           : EVP_chacha20_poly1305();
}

/* The implementations of suite s this machine has, keyed; returns how many. */
static int make_impls(enum suite s, struct impl *m, uint8_t *buf)
{
    int n = 0;
    size_t key_len = s == S_AES128 ? 16 : 32;
    for (int i = 0; i < 6; i++) {
        struct impl *x = &m[n];
        memset(x, 0, sizeof(*x));
        x->buf = buf;
        for (int j = 0; j < 32; j++)
            x->key[j] = (uint8_t)(j * 7 + 1);
        memset(x->aad, 0x17, AAD_LEN);
        if (i < AES_IMPL_COUNT) { /* ours, each path */
            if (s == S_CHACHA || !aes_impl_supported(AES_IMPL_COUNT - 1 - i))
                continue;
            int impl = AES_IMPL_COUNT - 1 - i;
            if (aes_gcm_init(&x->ours, x->key, key_len, impl) != 0)
                abort();
            x->name = aes_impl_name(impl);
            x->run = run_ours;
        } else if (i == AES_IMPL_COUNT) { /* OpenSSL EVP */
            x->enc = EVP_CIPHER_CTX_new();
            x->dec = EVP_CIPHER_CTX_new();
            if (!x->enc || !x->dec ||
                EVP_EncryptInit_ex(x->enc, evp_cipher(s), NULL, x->key, NULL) != 1 ||
                EVP_DecryptInit_ex(x->dec, evp_cipher(s), NULL, x->key, NULL) != 1)
                abort();
            x->name = "openssl-evp";
            x->run = run_evp;
        } else if (i == AES_IMPL_COUNT + 2) { /* mbedTLS, ChaCha20-Poly1305 only */
            if (s != S_CHACHA)
                continue;
            mbedtls_chachapoly_init(&x->mbed);
            if (mbedtls_chachapoly_setkey(&x->mbed, x->key) != 0)
                abort();
            x->name = "mbedtls";
            x->run = run_mbed_chacha;
        } else { /* libsodium */
            if (s == S_AES128)
                continue;
            if (s == S_AES256) {
                if (!crypto_aead_aes256gcm_is_available())
                    continue;
                crypto_aead_aes256gcm_beforenm(&x->sodium_aes, x->key);
                x->name = "libsodium";
                x->run = run_sodium_aes;
            } else {
                x->name = "libsodium";
                x->run = run_sodium_chacha;
            }
        }
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {64, 100, 256, 1200, 16384};
    int reps = argc > 1 ? atoi(argv[1]) : 31;
    if (reps < 1 || reps > MAX_REPS)
        reps = 31;
    if (sodium_init() < 0)
        return 1;
    static uint8_t buf[MAX_LEN + 64];
    static struct impl m[6];
    printf("aead_bench: seal + open in place, %d bytes of additional data, median of %d rounds; "
           "our best path "
           "here: %s\n",
           AAD_LEN, reps, aes_impl_name(aes_impl_best()));
    printf("%-18s %6s  %-12s %10s %8s %8s\n", "suite", "bytes", "impl", "ns/rec", "GB/s", "vs EVP");
    for (int s = S_AES128; s <= S_CHACHA; s++) {
        int n = make_impls((enum suite)s, m, buf);
        for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            size_t len = sizes[si];
            int iters = (int)(4000000 / (len + 200));
            memset(buf, 0x42, len);
            for (int i = 0; i < n; i++)
                m[i].run(&m[i], len, iters / 64 + 1); /* warm-up */
            for (int r = 0; r < reps; r++)
                for (int i = 0; i < n; i++) {
                    /* the portable path is ~100x slower: fewer records a round */
                    int it = m[i].run == run_ours && m[i].ours.impl == AES_IMPL_PORTABLE
                                 ? iters / 64 + 1
                                 : iters;
                    double t0 = bench_now_ns();
                    m[i].run(&m[i], len, it);
                    m[i].ns[r] = (bench_now_ns() - t0) / it;
                }
            double med[6], evp = 0;
            for (int i = 0; i < n; i++) {
                med[i] = bench_median(m[i].ns, reps);
                if (m[i].run == run_evp)
                    evp = med[i];
            }
            for (int i = 0; i < n; i++)
                printf("%-18s %6zu  %-12s %10.1f %8.2f %7.2fx\n", suite_names[s], len, m[i].name,
                       med[i], 2.0 * (double)len / med[i], med[i] / evp);
        }
        for (int i = 0; i < n; i++) {
            EVP_CIPHER_CTX_free(m[i].enc);
            EVP_CIPHER_CTX_free(m[i].dec);
            if (m[i].run == run_mbed_chacha)
                mbedtls_chachapoly_free(&m[i].mbed);
            aes_gcm_wipe(&m[i].ours);
        }
    }
    return 0;
}
