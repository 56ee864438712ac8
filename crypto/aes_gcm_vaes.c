/* SPDX-License-Identifier: MIT */
/*
 * aes_gcm_vaes: the VAES + VPCLMULQDQ path of aes_gcm.h on 512-bit
 * registers (AVX-512 F, BW, VL), keys set up by aes_gcm_aesni_setup.
 *
 * A register holds four blocks. A step takes sixteen: four registers of
 * counter blocks through the rounds (VAESENC on four blocks at once), and
 * GHASH of the sixteen result blocks, (acc ^ X0) H^16 ^ X1 H^15 ^ ... ^
 * X15 H, as four registers times four registers of powers (H^16..H^13,
 * ..., H^4..H^1; VPCLMULQDQ multiplies four pairs at once), summed across
 * the lanes and reduced once. The running hash enters through its own
 * product with H^16, so the fifteen other products of a step do not wait
 * for the previous step's reduction; sealing hashes a step's output during
 * the next step's rounds. The last step (up to 255 bytes) loads and stores
 * by byte masks (AVX-512BW), so a partial block needs no copy, and takes
 * the length block with it: one reduction for the whole tail (two when it
 * is 241..255 bytes: sixteen blocks and the length block are one power
 * more than the key keeps). Functions carry a target attribute: only
 * aes_gcm.c calls them, after checking the CPU and the operating system's
 * 512-bit state.
 *
 * Measured (bench/crypto/aead_bench, Sapphire Rapids class at 2.6 GHz),
 * seal + open: AES-128 100 B 51 ns, 1,200 B 192 ns, 16 KB 2,076 ns (0.165
 * cycles a byte each way: about the limit of the two vector ports that
 * VAESENC, VPCLMULQDQ and the shuffles share at 512 bits); AES-256 56,
 * 220 and 2,442 ns.
 */
#include "aes_gcm_internal.h"

#ifdef AES_GCM_X86
#include "aes_gcm_x86.h"

#define ZT       AESGCM_T_VAES
#define Z_INLINE static inline __attribute__((always_inline)) ZT

enum { MODE_CTR, MODE_SEAL, MODE_OPEN };

/* Per 128-bit lane byte reversal (GCM block <-> psi form). */
Z_INLINE __m512i z_bswap(__m512i x)
{
    return _mm512_shuffle_epi8(x, _mm512_broadcast_i32x4(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                                      10, 11, 12, 13, 14, 15)));
}

/* A 16-byte value in all four lanes. */
Z_INLINE __m512i z_bcast(const uint8_t *p)
{
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p));
}

/* n added to the count of each of the four counter blocks (byte-reversed
 * form: the count is each lane's low 32 bits; inc32, no carry) */
Z_INLINE __m512i z_ctr_add(__m512i ctr, int n)
{
    return _mm512_add_epi32(ctr, _mm512_set_epi32(0, 0, 0, n, 0, 0, 0, n, 0, 0, 0, n, 0, 0, 0, n));
}

/* n added to the last byte of each of the four big-endian counter blocks */
Z_INLINE __m512i z_be_add(int n)
{
    int b = n << 24;
    return _mm512_set_epi32(b, 0, 0, 0, b, 0, 0, 0, b, 0, 0, 0, b, 0, 0, 0);
}

/* The mask of the first n bytes (all 64 when n >= 64). */
Z_INLINE __mmask64 z_bytes(size_t n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* Four-lane product sums, as struct gx_acc per lane. */
struct z_acc {
    __m512i lo, mid, hi;
};

Z_INLINE void z_mul_add(struct z_acc *a, __m512i x, __m512i h)
{
    a->lo = _mm512_xor_si512(a->lo, _mm512_clmulepi64_epi128(x, h, 0x00));
    a->hi = _mm512_xor_si512(a->hi, _mm512_clmulepi64_epi128(x, h, 0x11));
    a->mid = _mm512_ternarylogic_epi64(a->mid, _mm512_clmulepi64_epi128(x, h, 0x01),
                                       _mm512_clmulepi64_epi128(x, h, 0x10), 0x96);
}

/* The four lanes of a register xored together. */
Z_INLINE __m128i z_fold(__m512i x)
{
    __m256i y = _mm256_xor_si256(_mm512_castsi512_si256(x), _mm512_extracti64x4_epi64(x, 1));
    return _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
}

Z_INLINE struct gx_acc z_sum(struct z_acc a)
{
    struct gx_acc s = {z_fold(a.lo), z_fold(a.mid), z_fold(a.hi)};
    return s;
}

Z_INLINE struct z_acc z_zero(void)
{
    struct z_acc a = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    return a;
}

/* acc' = (acc ^ X0) H^16 ^ ... ^ X15 H over four registers x (as loaded);
 * hp = H^16..H^13, ..., H^4..H^1 and h16 = H^16. */
Z_INLINE __m128i z_ghash16(__m128i acc, const __m512i *x, const __m512i *hp, __m128i h16)
{
    struct z_acc a = z_zero();
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        z_mul_add(&a, z_bswap(x[j]), hp[j]);
    struct gx_acc s = z_sum(a);
    gx_mul_add(&s, acc, h16);
    return gx_reduce(s);
}

/* acc' over nb (0..16) blocks in registers x (as loaded, zero beyond the
 * data) and, when with_len, the length block lb after them (nb +
 * with_len <= 16): t blocks take H^t .. H^1 (hpow: the key's H^16 ..
 * H^1), one reduction. */
Z_INLINE __m128i z_ghash_tail(const uint8_t (*hpow)[16], __m128i acc, const __m512i *x, int nb,
                              bool with_len, __m128i lb)
{
    int t = nb + with_len;
    if (t == 0)
        return acc;
    const uint8_t *hp = hpow[AES_GCM_HPOW_VAES - t];
    struct z_acc a = z_zero();
    for (int j = 0; 4 * j < nb; j++) {
        int lanes = nb - 4 * j < 4 ? nb - 4 * j : 4;
        /* powers past the last block stay unread (masked) */
        __m512i h = _mm512_maskz_loadu_epi64((__mmask8)((1u << (2 * lanes)) - 1), hp + 64 * j);
        z_mul_add(&a, z_bswap(x[j]), h);
    }
    struct gx_acc s = z_sum(a);
    gx_mul_add(&s, acc, _mm_loadu_si128((const __m128i *)hp));
    if (with_len)
        gx_mul_add(&s, lb, _mm_loadu_si128((const __m128i *)hpow[AES_GCM_HPOW_VAES - 1]));
    return gx_reduce(s);
}

/* GHASH of the additional data from 0: sixteen blocks a step, the rest
 * (up to 255 bytes, zero-padded by masked loads) with one reduction. */
Z_INLINE __m128i z_ghash_aad(const uint8_t (*hpow)[16], const __m512i *hp, __m128i h16,
                             const uint8_t *aad, size_t aad_len)
{
    __m128i acc = _mm_setzero_si128();
    __m512i x[4];
    size_t i = 0;
    for (; aad_len - i >= 256; i += 256) {
        for (int j = 0; j < 4; j++)
            x[j] = _mm512_loadu_si512(aad + i + 64 * j);
        acc = z_ghash16(acc, x, hp, h16);
    }
    size_t rem = aad_len - i;
    int nb = (int)((rem + 15) / 16);
    for (int j = 0; 64 * (size_t)j < rem; j++)
        x[j] = _mm512_maskz_loadu_epi8(z_bytes(rem - 64 * (size_t)j), aad + i + 64 * j);
    return z_ghash_tail(hpow, acc, x, nb, false, _mm_setzero_si128());
}

/* The last rem (1..255) bytes in nz = ceil(rem / 64) registers (a
 * constant): keystream, masked loads and stores; x gets what GHASH takes
 * (the ciphertext, zero beyond rem). Round keys from the key (a tail is
 * short; its rounds are latency-bound anyway). */
Z_INLINE void z_tail(const struct aes_gcm_key *k, const int nz, const int mode, __m512i ctr,
                     const uint8_t *in, size_t rem, uint8_t *out, __m512i *x)
{
    __m512i c[4];
    int rounds = k->rounds;
    __m512i r0 = z_bcast(aes_gcm_rk(k, 0));
#pragma GCC unroll 4
    for (int j = 0; j < nz; j++)
        c[j] = _mm512_xor_si512(z_bswap(z_ctr_add(ctr, 4 * j)), r0);
    for (int r = 1; r < rounds; r++) {
        __m512i rr = z_bcast(aes_gcm_rk(k, r));
#pragma GCC unroll 4
        for (int j = 0; j < nz; j++)
            c[j] = _mm512_aesenc_epi128(c[j], rr);
    }
    __m512i rl = z_bcast(aes_gcm_rk(k, rounds));
#pragma GCC unroll 4
    for (int j = 0; j < nz; j++) {
        __mmask64 m = z_bytes(rem - 64 * (size_t)j);
        __m512i d = _mm512_maskz_loadu_epi8(m, in + 64 * j);
        __m512i o = _mm512_xor_si512(d, _mm512_aesenclast_epi128(c[j], rl));
        _mm512_mask_storeu_epi8(out + 64 * j, m, o);
        x[j] = mode == MODE_OPEN ? d : _mm512_maskz_mov_epi8(m, o);
    }
}

/* CTR (MODE_CTR: ctr16 the 16-byte counter block) or GCM seal / open
 * (ctr16 the 12-byte IV, the tag to tag); R and mode constant after
 * inlining, so the rounds unroll with the round keys in registers. */
Z_INLINE void z_run(const struct aes_gcm_key *k, const int R, const int mode, const uint8_t *ctr16,
                    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                    uint8_t *tag)
{
    __m512i rk[15], hp[4], ctr, x[4];
    __m128i acc = _mm_setzero_si128(), ej0 = _mm_setzero_si128(), h16 = _mm_setzero_si128();
    const uint8_t(*hpow)[16] = aes_gcm_hpow(k, R); /* H^16 .. H^1 */
    for (int r = 0; r <= R; r++)
        rk[r] = z_bcast(aes_gcm_rk(k, r));
    if (mode == MODE_CTR) {
        ctr = _mm512_broadcast_i32x4(gx_bswap(_mm_loadu_si128((const __m128i *)ctr16)));
    } else {
        for (int j = 0; j < 4; j++)
            hp[j] = _mm512_loadu_si512(hpow[4 * j]);
        h16 = _mm_loadu_si128((const __m128i *)hpow[0]);
        /* J0 = IV || 1; the text starts at IV || 2 */
        __m128i j0 = gx_load_j0(ctr16);
        __m128i e = _mm_xor_si128(j0, _mm512_castsi512_si128(rk[0]));
        for (int r = 1; r < R; r++)
            e = _mm_aesenc_si128(e, _mm512_castsi512_si128(rk[r]));
        ej0 = _mm_aesenclast_si128(e, _mm512_castsi512_si128(rk[R]));
        ctr = _mm512_broadcast_i32x4(gx_ctr_add(gx_bswap(j0), 1));
        /* DTLS's 13 bytes, SRTP's 12 or so: by overlapping scalar loads,
         * which the caller's fresh stores forward to; longer: masked */
        if (aad_len > 16)
            acc = z_ghash_aad(hpow, hp, h16, aad, aad_len);
        else if (aad_len)
            acc = gx_mul(gx_bswap(gx_load_partial(aad, aad_len)),
                         _mm_loadu_si128((const __m128i *)hpow[AES_GCM_HPOW_VAES - 1]));
    }
    ctr = _mm512_add_epi32(ctr, _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0));
    size_t i = 0;
    bool pending = false; /* seal: x holds the last step's ciphertext, not hashed yet */
    uint32_t count = (uint32_t)_mm_cvtsi128_si32(_mm512_castsi512_si128(ctr)); /* block 0's */
    for (; len - i >= 256; i += 256) {
        __m512i c[4];
        if ((count & 0xff) <= 256 - 16) {
            /* the count's last byte does not wrap within these sixteen
             * blocks: add to it in the big-endian blocks (one shuffle) */
            __m512i be = z_bswap(ctr);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++)
                c[j] = _mm512_xor_si512(_mm512_add_epi32(be, z_be_add(4 * j)), rk[0]);
        } else {
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++)
                c[j] = _mm512_xor_si512(z_bswap(z_ctr_add(ctr, 4 * j)), rk[0]);
        }
        ctr = z_ctr_add(ctr, 16);
        count += 16;
        /* sealing hashes the previous step's output beside this step's
         * rounds (open hashes its input, which it has at once) */
        if (mode == MODE_SEAL && pending)
            acc = z_ghash16(acc, x, hp, h16);
#pragma GCC unroll 14
        for (int r = 1; r < R; r++)
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++)
                c[j] = _mm512_aesenc_epi128(c[j], rk[r]);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            __m512i d = _mm512_loadu_si512(in + i + 64 * j);
            __m512i o = _mm512_xor_si512(d, _mm512_aesenclast_epi128(c[j], rk[R]));
            _mm512_storeu_si512(out + i + 64 * j, o);
            x[j] = mode == MODE_OPEN ? d : o;
        }
        if (mode == MODE_OPEN)
            acc = z_ghash16(acc, x, hp, h16);
        pending = mode == MODE_SEAL;
    }
    if (pending)
        acc = z_ghash16(acc, x, hp, h16);
    size_t rem = len - i;
    int nb = (int)((rem + 15) / 16);
    switch ((rem + 63) / 64) {
    case 1:
        z_tail(k, 1, mode, ctr, in + i, rem, out + i, x);
        break;
    case 2:
        z_tail(k, 2, mode, ctr, in + i, rem, out + i, x);
        break;
    case 3:
        z_tail(k, 3, mode, ctr, in + i, rem, out + i, x);
        break;
    case 4:
        z_tail(k, 4, mode, ctr, in + i, rem, out + i, x);
        break;
    default:
        break;
    }
    if (mode == MODE_CTR)
        return;
    __m128i lb = gx_len_block(aad_len, len);
    if (nb == 16) { /* 16 blocks + the length block: one more power than kept */
        acc = z_ghash_tail(hpow, acc, x, 16, false, lb);
        nb = 0;
    }
    acc = z_ghash_tail(hpow, acc, x, nb, true, lb);
    _mm_storeu_si128((__m128i *)tag, _mm_xor_si128(gx_bswap(acc), ej0));
}

ZT void aes_gcm_vaes_crypt(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                           size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                           uint8_t *tag, bool open)
{
    if (k->rounds == 14) {
        if (open)
            z_run(k, 14, MODE_OPEN, iv, aad, aad_len, in, len, out, tag);
        else
            z_run(k, 14, MODE_SEAL, iv, aad, aad_len, in, len, out, tag);
    } else {
        if (open)
            z_run(k, 10, MODE_OPEN, iv, aad, aad_len, in, len, out, tag);
        else
            z_run(k, 10, MODE_SEAL, iv, aad, aad_len, in, len, out, tag);
    }
}

ZT void aes_gcm_vaes_ctr(const struct aes_gcm_key *k, const uint8_t *ctr, const uint8_t *in,
                         size_t len, uint8_t *out)
{
    if (k->rounds == 14)
        z_run(k, 14, MODE_CTR, ctr, NULL, 0, in, len, out, NULL);
    else
        z_run(k, 10, MODE_CTR, ctr, NULL, 0, in, len, out, NULL);
}

#endif
