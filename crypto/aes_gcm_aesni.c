/* SPDX-License-Identifier: MIT */
/*
 * aes_gcm_aesni: the AES-NI + PCLMULQDQ path of aes_gcm.h on 128-bit
 * registers, and the key set-up both fast paths share: round keys by
 * AESKEYGENASSIST, H = AES_K(0) and its powers H^1..H^16 in the form the
 * multiply of aes_gcm_x86.h wants.
 *
 * GCM here: the counter blocks of eight consecutive blocks are encrypted
 * together (eight independent AESENC chains keep the AES units busy), and
 * GHASH takes those eight blocks in one step, (acc ^ X0) H^8 ^ X1 H^7 ^ ...
 * ^ X7 H, with one reduction; sealing hashes a step's output during the
 * next step's rounds. The last group (up to eight blocks, the partial one
 * zero-padded, loaded and stored by overlapping scalar moves) takes the
 * length block with it, so a short record costs one reduction for its
 * text (two when its last group is eight blocks: the key keeps H^1..H^8
 * only, 128 bytes, so AES-128 fits 320 bytes). Counter blocks are incremented in their
 * big-endian form while the count's last byte does not wrap (one shuffle
 * per eight blocks). Functions carry a target attribute: only aes_gcm.c
 * calls them, after checking the CPU.
 *
 * Measured (bench/crypto/aead_bench, Sapphire Rapids class at 2.6 GHz),
 * seal + open: AES-128 100 B 80 ns, 1,200 B 410 ns, 16 KB 5,055 ns (0.40
 * cycles a byte each way); AES-256 90, 489 and 5,997 ns.
 */
#include "aes_gcm_internal.h"

#ifdef AES_GCM_X86
#include <string.h>

#include "aes_gcm_x86.h"

#define NI        AESGCM_T_NI
#define NI_INLINE AESGCM_NI_INLINE

enum { MODE_CTR, MODE_SEAL, MODE_OPEN };

/* ---- key expansion (FIPS 197 §5.2) ---- */

/* [w0, w0^w1, w0^w1^w2, w0^w1^w2^w3]: the expansion's w[i] = w[i-Nk] ^ w[i-1]
 * chain over a round key's four words, once the first word's temp is
 * broadcast and xored in. */
NI_INLINE __m128i ks_prefix(__m128i w)
{
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    return _mm_xor_si128(w, _mm_slli_si128(w, 8));
}

/* AESKEYGENASSIST(last) holds SubWord(last.w3) in lane 2 and
 * RotWord(SubWord(last.w3)) ^ rcon in lane 3. The rcon is an immediate,
 * hence macros. */
#define KS_ROT(prev, last, rcon)                                                                   \
    _mm_xor_si128(ks_prefix(prev), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(last, rcon), 0xff))
#define KS_SUB(prev, last)                                                                         \
    _mm_xor_si128(ks_prefix(prev), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(last, 0), 0xaa))

NI static void expand128(__m128i rk[15], const uint8_t *key)
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = KS_ROT(rk[0], rk[0], 0x01);
    rk[2] = KS_ROT(rk[1], rk[1], 0x02);
    rk[3] = KS_ROT(rk[2], rk[2], 0x04);
    rk[4] = KS_ROT(rk[3], rk[3], 0x08);
    rk[5] = KS_ROT(rk[4], rk[4], 0x10);
    rk[6] = KS_ROT(rk[5], rk[5], 0x20);
    rk[7] = KS_ROT(rk[6], rk[6], 0x40);
    rk[8] = KS_ROT(rk[7], rk[7], 0x80);
    rk[9] = KS_ROT(rk[8], rk[8], 0x1b);
    rk[10] = KS_ROT(rk[9], rk[9], 0x36);
}

/* AES-256: even round keys (from round 2) take RotWord+SubWord+rcon of the
 * previous key's last word, odd ones SubWord alone (Nk = 8). */
NI static void expand256(__m128i rk[15], const uint8_t *key)
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    rk[2] = KS_ROT(rk[0], rk[1], 0x01);
    rk[3] = KS_SUB(rk[1], rk[2]);
    rk[4] = KS_ROT(rk[2], rk[3], 0x02);
    rk[5] = KS_SUB(rk[3], rk[4]);
    rk[6] = KS_ROT(rk[4], rk[5], 0x04);
    rk[7] = KS_SUB(rk[5], rk[6]);
    rk[8] = KS_ROT(rk[6], rk[7], 0x08);
    rk[9] = KS_SUB(rk[7], rk[8]);
    rk[10] = KS_ROT(rk[8], rk[9], 0x10);
    rk[11] = KS_SUB(rk[9], rk[10]);
    rk[12] = KS_ROT(rk[10], rk[11], 0x20);
    rk[13] = KS_SUB(rk[11], rk[12]);
    rk[14] = KS_ROT(rk[12], rk[13], 0x40);
}

/* One block through the key's rounds (round keys read from the key). */
NI_INLINE __m128i aes_block(const struct aes_gcm_key *k, __m128i b)
{
    int rounds = k->rounds;
    b = _mm_xor_si128(b, _mm_loadu_si128((const __m128i *)aes_gcm_rk(k, 0)));
    for (int r = 1; r < rounds; r++)
        b = _mm_aesenc_si128(b, _mm_loadu_si128((const __m128i *)aes_gcm_rk(k, r)));
    return _mm_aesenclast_si128(b, _mm_loadu_si128((const __m128i *)aes_gcm_rk(k, rounds)));
}

NI void aes_gcm_aesni_setup(struct aes_gcm_key *k, const uint8_t *key, size_t key_len, int n_hpow)
{
    __m128i rk[15];
    int rounds = key_len == 32 ? 14 : 10;
    if (rounds == 14)
        expand256(rk, key);
    else
        expand128(rk, key);
    for (int r = 0; r <= rounds; r++)
        _mm_storeu_si128((__m128i *)(k->sched + 16 * r), rk[r]);
    k->rounds = (uint8_t)rounds;
    k->n_hpow = (uint8_t)n_hpow;
    /* Ht = y psi(H); Ht^(i+1) = mont(Ht^i Ht); hp[n_hpow - i] = Ht^i */
    uint8_t(*hp)[16] = (uint8_t(*)[16])(k->sched + 16 * (rounds + 1));
    __m128i ht = gx_times_y(gx_bswap(aes_block(k, _mm_setzero_si128())));
    __m128i p = ht;
    _mm_storeu_si128((__m128i *)hp[n_hpow - 1], p);
    for (int i = 2; i <= n_hpow; i++) {
        p = gx_mul(p, ht);
        _mm_storeu_si128((__m128i *)hp[n_hpow - i], p);
    }
    explicit_bzero(rk, sizeof(rk)); /* no round keys left on the stack */
}

NI void aes_gcm_aesni_block(const struct aes_gcm_key *k, const uint8_t *in, uint8_t *out)
{
    _mm_storeu_si128((__m128i *)out, aes_block(k, _mm_loadu_si128((const __m128i *)in)));
}

NI void aes_gcm_aesni_block_raw(const uint8_t *key, size_t key_len, const uint8_t *in, uint8_t *out)
{
    __m128i rk[15];
    int rounds = key_len == 32 ? 14 : 10;
    if (rounds == 14)
        expand256(rk, key);
    else
        expand128(rk, key);
    __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)in), rk[0]);
    for (int r = 1; r < rounds; r++)
        b = _mm_aesenc_si128(b, rk[r]);
    _mm_storeu_si128((__m128i *)out, _mm_aesenclast_si128(b, rk[rounds]));
    explicit_bzero(rk, sizeof(rk));
}

/* ---- bulk ---- */

/* n blocks of keystream (n a constant: 4 or 8) for the counters ctr ..
 * ctr + n - 1 (byte-reversed form), R rounds from round keys in rk. */
NI_INLINE void keystream(const __m128i *rk, const int R, __m128i ctr, __m128i *c, const int n)
{
    if ((_mm_cvtsi128_si32(ctr) & 0xff) <= 256 - n) {
        /* the count's last byte does not wrap within these n blocks: add
         * to it in the big-endian block itself (one shuffle, not n) */
        __m128i be = gx_bswap(ctr);
#pragma GCC unroll 8
        for (int j = 0; j < n; j++)
            c[j] = _mm_xor_si128(_mm_add_epi32(be, _mm_set_epi32(j << 24, 0, 0, 0)), rk[0]);
    } else {
#pragma GCC unroll 8
        for (int j = 0; j < n; j++)
            c[j] = _mm_xor_si128(gx_bswap(gx_ctr_add(ctr, j)), rk[0]);
    }
#pragma GCC unroll 14
    for (int r = 1; r < R; r++)
#pragma GCC unroll 8
        for (int j = 0; j < n; j++)
            c[j] = _mm_aesenc_si128(c[j], rk[r]);
#pragma GCC unroll 8
    for (int j = 0; j < n; j++)
        c[j] = _mm_aesenclast_si128(c[j], rk[R]);
}

/* acc' = (acc ^ X0) H^8 ^ X1 H^7 ^ ... ^ X7 H for eight whole blocks x
 * (as loaded), hp = H^8 .. H^1. */
NI_INLINE __m128i ghash8(__m128i acc, const __m128i *x, const __m128i *hp)
{
    struct gx_acc a = gx_zero();
    gx_mul_add(&a, _mm_xor_si128(gx_bswap(x[0]), acc), hp[0]);
#pragma GCC unroll 8
    for (int j = 1; j < 8; j++)
        gx_mul_add(&a, gx_bswap(x[j]), hp[j]);
    return gx_reduce(a);
}

/* acc' over nb blocks x (as loaded, the last zero-padded) and, when
 * with_len, the length block lb after them: t = nb + with_len (0..8)
 * blocks take H^t .. H^1 (hpow: the key's H^8 .. H^1) with one reduction. */
NI_INLINE __m128i ghash_tail(const uint8_t (*hpow)[16], __m128i acc, const __m128i *x, int nb,
                             bool with_len, __m128i lb)
{
    int t = nb + with_len;
    if (t == 0)
        return acc;
    const uint8_t(*hp)[16] = hpow + AES_GCM_HPOW_AESNI - t;
    struct gx_acc a = gx_zero();
    gx_mul_add(&a, acc, _mm_loadu_si128((const __m128i *)hp[0]));
    for (int j = 0; j < nb; j++)
        gx_mul_add(&a, gx_bswap(x[j]), _mm_loadu_si128((const __m128i *)hp[j]));
    if (with_len)
        gx_mul_add(&a, lb, _mm_loadu_si128((const __m128i *)hpow[AES_GCM_HPOW_AESNI - 1]));
    return gx_reduce(a);
}

/* GHASH of the additional data from acc 0: eight blocks a step, then the
 * rest (zero-padded) with one reduction. */
NI_INLINE __m128i ghash_aad(const uint8_t (*hpow)[16], const __m128i *hp, const uint8_t *aad,
                            size_t aad_len)
{
    __m128i acc = _mm_setzero_si128(), x[8];
    size_t i = 0;
    for (; aad_len - i >= 128; i += 128) {
        for (int j = 0; j < 8; j++)
            x[j] = _mm_loadu_si128((const __m128i *)(aad + i + 16 * j));
        acc = ghash8(acc, x, hp);
    }
    size_t rem = aad_len - i;
    int nb = (int)((rem + 15) / 16);
    for (int j = 0; j < nb; j++) {
        size_t n = rem - 16 * (size_t)j;
        x[j] = gx_load_partial(aad + i + 16 * j, n < 16 ? n : 16);
    }
    return ghash_tail(hpow, acc, x, nb, false, _mm_setzero_si128());
}

/* Ones in the first n (1..15) bytes. */
NI_INLINE __m128i tail_mask(size_t n)
{
    static const uint8_t ones[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return _mm_loadu_si128((const __m128i *)(ones + 16 - n));
}

/* CTR (mode MODE_CTR: ctr16 is the 16-byte counter block) or GCM seal /
 * open (ctr16 is the 12-byte IV; the tag to tag), R rounds, all constant
 * after inlining. */
NI_INLINE void ni_run(const struct aes_gcm_key *k, const int R, const int mode,
                      const uint8_t *ctr16, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                      size_t len, uint8_t *out, uint8_t *tag)
{
    __m128i rk[15], hp[8], ctr, acc = _mm_setzero_si128(), ej0 = _mm_setzero_si128();
    const uint8_t(*hpow)[16] = aes_gcm_hpow(k, R); /* H^8 .. H^1 */
    for (int r = 0; r <= R; r++)
        rk[r] = _mm_loadu_si128((const __m128i *)aes_gcm_rk(k, r));
    for (int j = 0; j < 8; j++)
        hp[j] = _mm_loadu_si128((const __m128i *)hpow[j]);
    if (mode == MODE_CTR) {
        ctr = gx_bswap(_mm_loadu_si128((const __m128i *)ctr16));
    } else {
        __m128i j0 = gx_load_j0(ctr16); /* J0 = IV || 1; the text starts at IV || 2 */
        ej0 = aes_block(k, j0);
        ctr = gx_ctr_add(gx_bswap(j0), 1);
        if (aad_len)
            acc = ghash_aad(hpow, hp, aad, aad_len);
    }
    size_t i = 0;
    __m128i c[8], x[8];
    bool pending = false; /* seal: x holds the last step's ciphertext, not hashed yet */
    for (; len - i >= 128; i += 128) {
        keystream(rk, R, ctr, c, 8);
        ctr = gx_ctr_add(ctr, 8);
        /* sealing hashes the previous step's output beside this step's
         * rounds (open hashes its input, which it has at once) */
        if (mode == MODE_SEAL && pending)
            acc = ghash8(acc, x, hp);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            __m128i d = _mm_loadu_si128((const __m128i *)(in + i + 16 * j));
            __m128i o = _mm_xor_si128(d, c[j]);
            _mm_storeu_si128((__m128i *)(out + i + 16 * j), o);
            x[j] = mode == MODE_OPEN ? d : o;
        }
        if (mode == MODE_OPEN)
            acc = ghash8(acc, x, hp);
        pending = mode == MODE_SEAL;
    }
    if (pending)
        acc = ghash8(acc, x, hp);
    size_t rem = len - i;
    int nb = (int)((rem + 15) / 16);
    if (rem) {
        if (nb <= 4)
            keystream(rk, R, ctr, c, 4);
        else
            keystream(rk, R, ctr, c, 8);
        for (int j = 0; j < nb; j++) {
            size_t o16 = i + 16 * (size_t)j, n = rem - 16 * (size_t)j;
            if (n >= 16) {
                __m128i d = _mm_loadu_si128((const __m128i *)(in + o16));
                __m128i o = _mm_xor_si128(d, c[j]);
                _mm_storeu_si128((__m128i *)(out + o16), o);
                x[j] = mode == MODE_OPEN ? d : o;
            } else { /* the partial last block; GHASH takes its ciphertext zero-padded */
                __m128i d = gx_load_partial(in + o16, n);
                __m128i o = _mm_xor_si128(d, c[j]);
                gx_store_partial(out + o16, o, n);
                x[j] = mode == MODE_OPEN ? d : _mm_and_si128(o, tail_mask(n));
            }
        }
    }
    if (mode == MODE_CTR)
        return;
    if (nb == 8) { /* 8 blocks + the length block: one power more than kept */
        acc = ghash8(acc, x, hp);
        nb = 0;
    }
    acc = ghash_tail(hpow, acc, x, nb, true, gx_len_block(aad_len, len));
    _mm_storeu_si128((__m128i *)tag, _mm_xor_si128(gx_bswap(acc), ej0));
}

NI void aes_gcm_aesni_crypt(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                            size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                            uint8_t *tag, bool open)
{
    if (k->rounds == 14) {
        if (open)
            ni_run(k, 14, MODE_OPEN, iv, aad, aad_len, in, len, out, tag);
        else
            ni_run(k, 14, MODE_SEAL, iv, aad, aad_len, in, len, out, tag);
    } else {
        if (open)
            ni_run(k, 10, MODE_OPEN, iv, aad, aad_len, in, len, out, tag);
        else
            ni_run(k, 10, MODE_SEAL, iv, aad, aad_len, in, len, out, tag);
    }
}

NI void aes_gcm_aesni_ctr(const struct aes_gcm_key *k, const uint8_t *ctr, const uint8_t *in,
                          size_t len, uint8_t *out)
{
    if (k->rounds == 14)
        ni_run(k, 14, MODE_CTR, ctr, NULL, 0, in, len, out, NULL);
    else
        ni_run(k, 10, MODE_CTR, ctr, NULL, 0, in, len, out, NULL);
}

#endif
