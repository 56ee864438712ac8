/* SPDX-License-Identifier: MIT */
/*
 * aes_gcm: the public entry points of aes_gcm.h (path detection, key
 * set-up, the tag check) and the portable path: OpenSSL's low-level AES
 * block function (AES_set_encrypt_key / AES_encrypt, deprecated in 3.0
 * but allocation-free and without EVP's per-call provider cost) and a
 * constant-time GHASH in C. The fast paths live in aes_gcm_aesni.c and
 * aes_gcm_vaes.c.
 *
 * Measured cost (bench/crypto/aead_bench on this project's host, Sapphire
 * Rapids class at 2.6 GHz; docs/aead.md has the full table): seal + open
 * of one AES-128-GCM record with 13 bytes of additional data, medians:
 *   vaes-avx512  100 B: 51 ns    1,200 B: 192 ns   16 KB: 2.1 us
 *   aesni        100 B: 80 ns    1,200 B: 410 ns   16 KB: 5.0 us
 *   portable     100 B: 4.8 us   1,200 B: 42 us
 *   (OpenSSL EVP 100 B: 451 ns   1,200 B: 756 ns   16 KB: 5.2 us)
 */
#define OPENSSL_API_COMPAT 0x10101000L /* AES_set_encrypt_key / AES_encrypt */

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <openssl/aes.h>

#include "aes_gcm.h"
#include "aes_gcm_internal.h"
#include "wire.h"

#if defined(AES_GCM_X86) && defined(__clang__)
#include <cpuid.h>
#endif

_Static_assert(sizeof(struct aes_gcm_key) == 512, "struct aes_gcm_key is eight cache lines");
_Static_assert(offsetof(struct aes_gcm_key, sched) == 16, "a 16-byte header before the round keys");
_Static_assert(sizeof(((AES_KEY *)0)->rd_key) == 15 * 16, "OpenSSL's round keys fit 15 of ours");

/* ---- which path ---- */

bool aes_impl_supported(int impl)
{
    switch (impl) {
    case AES_IMPL_PORTABLE:
        return true;
#ifdef AES_GCM_X86
    case AES_IMPL_AESNI:
        return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul") &&
               __builtin_cpu_supports("sse4.1");
    case AES_IMPL_VAES: {
        /* the C runtime's feature bits (read once at start-up; AVX-512
         * only when the OS saves the 512-bit state) */
        if (!aes_impl_supported(AES_IMPL_AESNI) || !__builtin_cpu_supports("avx512f") ||
            !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") ||
            !__builtin_cpu_supports("vpclmulqdq"))
            return false;
#ifdef __clang__
        /* clang's builtin does not know "vaes": ask CPUID (slow in a VM) */
        unsigned int a, b, c, d;
        return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 9));
#else
        return __builtin_cpu_supports("vaes");
#endif
    }
#endif
    default:
        return false;
    }
}

enum aes_impl aes_impl_best(void)
{
    if (aes_impl_supported(AES_IMPL_VAES))
        return AES_IMPL_VAES;
    if (aes_impl_supported(AES_IMPL_AESNI))
        return AES_IMPL_AESNI;
    return AES_IMPL_PORTABLE;
}

const char *aes_impl_name(int impl)
{
    switch (impl) {
    case AES_IMPL_PORTABLE:
        return "portable";
    case AES_IMPL_AESNI:
        return "aesni";
    case AES_IMPL_VAES:
        return "vaes-avx512";
    default:
        return "?";
    }
}

/* ---- portable path ---- */

/* The round keys back into OpenSSL's struct (on the caller's stack). */
static void p_key(const struct aes_gcm_key *k, AES_KEY *ak)
{
    memcpy(ak->rd_key, aes_gcm_rk(k, 0), 16 * ((size_t)k->rounds + 1));
    ak->rounds = k->rounds;
}

/* y = y * h in GCM's field, in constant time (SP 800-38D §6.3, bit by
 * bit): for each bit of y, from x^0, add v when it is set, then v = v x
 * (a right shift in GCM's bit order, adding 0xe1 || 0^120 when x^127 fell
 * off). */
static void p_gf_mul(uint8_t y[16], const uint8_t h[16])
{
    uint64_t vh = wire_get64(h), vl = wire_get64(h + 8), zh = 0, zl = 0;
    uint64_t xw[2] = {wire_get64(y), wire_get64(y + 8)};
    for (int w = 0; w < 2; w++)
        for (int i = 63; i >= 0; i--) {
            uint64_t m = 0 - (xw[w] >> i & 1);
            zh ^= vh & m;
            zl ^= vl & m;
            uint64_t r = 0 - (vl & 1);
            vl = vl >> 1 | vh << 63;
            vh = vh >> 1 ^ (0xe100000000000000ull & r);
        }
    wire_put64(y, zh);
    wire_put64(y + 8, zl);
}

/* y = GHASH_H continued over n bytes (the last block zero-padded). */
static void p_ghash(uint8_t y[16], const uint8_t h[16], const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        size_t m = n - i < 16 ? n - i : 16;
        for (size_t j = 0; j < m; j++)
            y[j] ^= p[i + j];
        p_gf_mul(y, h);
    }
}

/* out = in ^ keystream from ctr (inc32 after each block); ctr advances. */
static void p_ctr(const AES_KEY *ak, uint8_t ctr[16], const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t ks[16];
    for (size_t i = 0; i < len; i += 16) {
        size_t m = len - i < 16 ? len - i : 16;
        AES_encrypt(ctr, ks, ak);
        for (size_t j = 0; j < m; j++)
            out[i + j] = in[i + j] ^ ks[j];
        for (int b = 15; b >= 12 && ++ctr[b] == 0; b--)
            ;
    }
}

static void p_crypt(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
                    bool open)
{
    AES_KEY ak;
    p_key(k, &ak);
    uint8_t j0[16] = {0}, ctr[16], y[16] = {0}, lens[16];
    memcpy(j0, iv, AES_GCM_IV);
    j0[15] = 1;
    memcpy(ctr, j0, 16);
    ctr[15] = 2;
    const uint8_t *h = aes_gcm_hpow(k, k->rounds)[0];
    p_ghash(y, h, aad, aad_len);
    if (open)
        p_ghash(y, h, in, len);
    p_ctr(&ak, ctr, in, len, out);
    if (!open)
        p_ghash(y, h, out, len);
    wire_put64(lens, (uint64_t)aad_len * 8);
    wire_put64(lens + 8, (uint64_t)len * 8);
    p_ghash(y, h, lens, 16);
    AES_encrypt(j0, tag, &ak);
    for (int i = 0; i < 16; i++)
        tag[i] ^= y[i];
    explicit_bzero(&ak, sizeof(ak));
}

/* ---- the entry points ---- */

int aes_gcm_init(struct aes_gcm_key *k, const uint8_t *key, size_t key_len, int force)
{
    if ((key_len != 16 && key_len != 32) || force < -1 || force >= AES_IMPL_COUNT)
        return -EINVAL;
    int impl = force == -1 ? (int)aes_impl_best() : force;
    if (!aes_impl_supported(impl))
        return -ENOTSUP;
    memset(k, 0, sizeof(*k));
    k->impl = (uint8_t)impl;
#ifdef AES_GCM_X86
    if (impl != AES_IMPL_PORTABLE) {
        aes_gcm_aesni_setup(k, key, key_len,
                            impl == AES_IMPL_VAES ? AES_GCM_HPOW_VAES : AES_GCM_HPOW_AESNI);
        return 0;
    }
#endif
    AES_KEY ak;
    AES_set_encrypt_key(key, (int)key_len * 8, &ak);
    size_t rk_len = 16 * ((size_t)ak.rounds + 1);
    memcpy(k->sched, ak.rd_key, rk_len);
    k->rounds = (uint8_t)ak.rounds;
    k->n_hpow = AES_GCM_HPOW_PORTABLE;
    static const uint8_t zero[16];
    AES_encrypt(zero, k->sched + rk_len, &ak);
    explicit_bzero(&ak, sizeof(ak));
    return 0;
}

/* header, round keys, powers, rounded up to 64 */
static size_t key_bytes(unsigned rounds, unsigned n_hpow)
{
    size_t n = offsetof(struct aes_gcm_key, sched) + 16 * ((size_t)rounds + 1 + n_hpow);
    return (n + 63) & ~(size_t)63;
}

size_t aes_gcm_key_size(const struct aes_gcm_key *k)
{
    if ((k->rounds != 10 && k->rounds != 14) || k->n_hpow == 0 || k->n_hpow > AES_GCM_HPOW)
        return 0;
    return key_bytes(k->rounds, k->n_hpow);
}

size_t aes_gcm_key_size_max(size_t key_len)
{
    if (key_len != 16 && key_len != 32)
        return 0;
    static const uint8_t n_hpow[AES_IMPL_COUNT] = {
        [AES_IMPL_PORTABLE] = AES_GCM_HPOW_PORTABLE,
        [AES_IMPL_AESNI] = AES_GCM_HPOW_AESNI,
        [AES_IMPL_VAES] = AES_GCM_HPOW_VAES,
    };
    return key_bytes(key_len == 32 ? 14 : 10, n_hpow[aes_impl_best()]);
}

static void gcm_crypt(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
                      bool open)
{
    switch (k->impl) {
#ifdef AES_GCM_X86
    case AES_IMPL_VAES:
        aes_gcm_vaes_crypt(k, iv, aad, aad_len, in, len, out, tag, open);
        return;
    case AES_IMPL_AESNI:
        aes_gcm_aesni_crypt(k, iv, aad, aad_len, in, len, out, tag, open);
        return;
#endif
    default:
        p_crypt(k, iv, aad, aad_len, in, len, out, tag, open);
    }
}

void aes_gcm_seal(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                  size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    gcm_crypt(k, iv, aad, aad_len, in, len, out, tag, false);
}

int aes_gcm_open(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                 const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
    uint8_t want[AES_GCM_TAG], diff = 0;
    gcm_crypt(k, iv, aad, aad_len, in, len, out, want, true);
    for (int i = 0; i < AES_GCM_TAG; i++)
        diff |= want[i] ^ tag[i];
    if (diff == 0)
        return 0;
    if (len)
        memset(out, 0, len);
    return -EBADMSG;
}

void aes_ctr_xor(const struct aes_gcm_key *k, const uint8_t *ctr, const uint8_t *in, size_t len,
                 uint8_t *out)
{
    switch (k->impl) {
#ifdef AES_GCM_X86
    case AES_IMPL_VAES:
        aes_gcm_vaes_ctr(k, ctr, in, len, out);
        return;
    case AES_IMPL_AESNI:
        aes_gcm_aesni_ctr(k, ctr, in, len, out);
        return;
#endif
    default: {
        AES_KEY ak;
        uint8_t c[16];
        p_key(k, &ak);
        memcpy(c, ctr, 16);
        p_ctr(&ak, c, in, len, out);
        explicit_bzero(&ak, sizeof(ak));
    }
    }
}

void aes_encrypt_block(const struct aes_gcm_key *k, const uint8_t *in, uint8_t *out)
{
#ifdef AES_GCM_X86
    if (k->impl != AES_IMPL_PORTABLE) {
        aes_gcm_aesni_block(k, in, out);
        return;
    }
#endif
    AES_KEY ak;
    p_key(k, &ak);
    AES_encrypt(in, out, &ak);
    explicit_bzero(&ak, sizeof(ak));
}

int aes_encrypt_block_raw(const uint8_t *key, size_t key_len, const uint8_t *in, uint8_t *out)
{
    if (key_len != 16 && key_len != 32)
        return -EINVAL;
#ifdef AES_GCM_X86
    if (aes_impl_best() != AES_IMPL_PORTABLE) {
        aes_gcm_aesni_block_raw(key, key_len, in, out);
        return 0;
    }
#endif
    AES_KEY ak;
    AES_set_encrypt_key(key, (int)key_len * 8, &ak);
    AES_encrypt(in, out, &ak);
    explicit_bzero(&ak, sizeof(ak));
    return 0;
}

void aes_gcm_wipe(struct aes_gcm_key *k)
{
    explicit_bzero(k, sizeof(*k));
}
