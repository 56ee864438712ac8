/* SPDX-License-Identifier: MIT */
/*
 * aes_gcm_x86: the GHASH arithmetic both x86 paths of aes_gcm share, on
 * 128-bit registers: header-only, static inline, compiled for AES-NI +
 * PCLMULQDQ + SSE4.1 by a function-level target attribute (so the rest of
 * the build needs no -m flags; the VAES path inlines these into functions
 * whose target is a superset). Include only from aes_gcm_aesni.c and
 * aes_gcm_vaes.c, and call only on a CPU aes_gcm.c has checked.
 *
 * The field, and why the multiply below is right (our derivation):
 *
 * GCM's field is GF(2)[x] / g, g = x^128 + x^7 + x^2 + x + 1, and a block
 * is an element whose first bit (byte 0, bit 7) is the coefficient of x^0
 * and whose last bit (byte 15, bit 0) that of x^127.
 *
 * Load a block into a register and reverse its 16 bytes: x^i then sits at
 * bit 127 - i of the 128-bit integer. Call that integer, read as a
 * polynomial in y (bit j = coefficient of y^j), psi(a) = y^127 a(1/y).
 * A carry-less multiply of two such integers gives
 *     P = psi(a) psi(b) = y^254 (ab)(1/y),
 * and writing ab = q g + r (deg r < 128, deg q <= 126), with
 * G(y) = y^128 g(1/y) = y^128 + y^127 + y^126 + y^121 + 1 (g reflected),
 *     P = y^127 psi(r) + Q G,  Q = y^126 q(1/y),
 * so psi(ab mod g) = P y^-127 mod G. Montgomery reduction by y^128 gives
 * P y^-128 mod G cheaply (G = 1 modulo y^64, so each 64-bit word of the
 * low half is cancelled by adding that word times G); the missing factor
 * y is put into the key once: with Ht = y psi(h) mod G,
 *     mont(psi(a) * Ht) = psi(a) psi(h) y^-127 mod G = psi(a h).
 * Products of several blocks with several such powers of H add up before
 * one reduction (it is linear): GHASH over n blocks is
 *     sum_i psi(X_i) * Ht^(n - i)   (the running hash xored into X_0),
 * reduced once. Ht^(i+1) = mont(Ht^i * Ht), since mont(y psi(u) * y psi(v))
 * = y psi(uv).
 *
 * The reduction of a 256-bit product T = [T3 T2 T1 T0] (64-bit words,
 * T0 lowest) by y^128: adding T0 G cancels T0 and adds T0 at y^128 and
 * T0 * (y^127 + y^126 + y^121) = clmul(T0, C) at y^64, C = 0xc2 << 56;
 * then the same for the new T1 at y^64. In registers (X = [T1 T0],
 * Y = [T3 T2], swap = exchange the 64-bit halves):
 *     Z = swap(X) ^ clmul(X.lo, C);   result = Y ^ swap(Z) ^ clmul(Z.lo, C).
 * Two carry-less multiplies, two shuffles, per reduction.
 */
#ifndef SWARMGEN_CRYPTO_AES_GCM_X86_H
#define SWARMGEN_CRYPTO_AES_GCM_X86_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <immintrin.h>

#define AESGCM_T_NI __attribute__((target("aes,pclmul,sse4.1")))
#define AESGCM_T_VAES                                                                              \
    __attribute__((target("aes,pclmul,sse4.1,avx2,vaes,vpclmulqdq,avx512f,avx512bw,avx512vl")))
#define AESGCM_NI_INLINE static inline __attribute__((always_inline)) AESGCM_T_NI

/* Reverses the 16 bytes of a block: a GCM block to psi form and back. */
AESGCM_NI_INLINE __m128i gx_bswap(__m128i x)
{
    return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/* A 256-bit carry-less product kept as three parts before the reduction:
 * lo = a.lo b.lo, hi = a.hi b.hi, mid = a.lo b.hi + a.hi b.lo. */
struct gx_acc {
    __m128i lo, mid, hi;
};

AESGCM_NI_INLINE struct gx_acc gx_zero(void)
{
    struct gx_acc a = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
    return a;
}

/* a += x * h (schoolbook: four carry-less multiplies, no reduction). */
AESGCM_NI_INLINE void gx_mul_add(struct gx_acc *a, __m128i x, __m128i h)
{
    a->lo = _mm_xor_si128(a->lo, _mm_clmulepi64_si128(x, h, 0x00));
    a->hi = _mm_xor_si128(a->hi, _mm_clmulepi64_si128(x, h, 0x11));
    a->mid = _mm_xor_si128(
        a->mid, _mm_xor_si128(_mm_clmulepi64_si128(x, h, 0x01), _mm_clmulepi64_si128(x, h, 0x10)));
}

/* The Montgomery reduction above: [hi+mid>>64 : lo+mid<<64] * y^-128 mod G. */
AESGCM_NI_INLINE __m128i gx_reduce(struct gx_acc a)
{
    const __m128i c = _mm_set_epi64x(0, (long long)0xc200000000000000ull);
    __m128i x = _mm_xor_si128(a.lo, _mm_slli_si128(a.mid, 8));
    __m128i y = _mm_xor_si128(a.hi, _mm_srli_si128(a.mid, 8));
    __m128i z = _mm_xor_si128(_mm_shuffle_epi32(x, 0x4e), _mm_clmulepi64_si128(x, c, 0x00));
    return _mm_xor_si128(_mm_xor_si128(y, _mm_shuffle_epi32(z, 0x4e)),
                         _mm_clmulepi64_si128(z, c, 0x00));
}

/* mont(a * b): one product, reduced. */
AESGCM_NI_INLINE __m128i gx_mul(__m128i a, __m128i b)
{
    struct gx_acc t = gx_zero();
    gx_mul_add(&t, a, b);
    return gx_reduce(t);
}

/* y * v mod G, in constant time: shift left by one bit and, when bit 127
 * fell out, add G's low part (y^127 + y^126 + y^121 + 1). */
AESGCM_NI_INLINE __m128i gx_times_y(__m128i v)
{
    const __m128i glow = _mm_set_epi64x((long long)0xc200000000000000ull, 1);
    __m128i carry = _mm_srli_epi64(v, 63);
    __m128i top = _mm_shuffle_epi32(_mm_srai_epi32(v, 31), 0xff); /* all ones when bit 127 is set */
    __m128i s = _mm_or_si128(_mm_slli_epi64(v, 1), _mm_slli_si128(carry, 8));
    return _mm_xor_si128(s, _mm_and_si128(top, glow));
}

/* The GCM length block (bit lengths of the additional data and the text)
 * in psi form. */
AESGCM_NI_INLINE __m128i gx_len_block(size_t aad_len, size_t len)
{
    return _mm_set_epi64x((long long)((uint64_t)aad_len * 8), (long long)((uint64_t)len * 8));
}

/* m (0..7) bytes from p, zero-extended, by at most two overlapping loads
 * (no byte loop, no libc call, no store forwarding from a stack copy). */
static inline __attribute__((always_inline)) uint64_t gx_load_upto7(const uint8_t *p, size_t m)
{
    if (m >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + m - 4, 4);
        return a | (uint64_t)b << (8 * (m - 4));
    }
    if (m == 0)
        return 0;
    return p[0] | (uint64_t)p[m / 2] << (8 * (m / 2)) | (uint64_t)p[m - 1] << (8 * (m - 1));
}

/* The same bytes back: m (0..7) low bytes of v to p (overlapping stores
 * write the same byte twice, with the same value). */
static inline __attribute__((always_inline)) void gx_store_upto7(uint8_t *p, uint64_t v, size_t m)
{
    if (m >= 4) {
        uint32_t a = (uint32_t)v, b = (uint32_t)(v >> (8 * (m - 4)));
        memcpy(p + m - 4, &b, 4);
        memcpy(p, &a, 4);
    } else if (m) {
        p[m - 1] = (uint8_t)(v >> (8 * (m - 1)));
        p[m / 2] = (uint8_t)(v >> (8 * (m / 2)));
        p[0] = (uint8_t)v;
    }
}

/* n (0..16) bytes from p into a register, zero beyond n. */
AESGCM_NI_INLINE __m128i gx_load_partial(const uint8_t *p, size_t n)
{
    uint64_t lo, hi = 0;
    if (n >= 8) {
        memcpy(&lo, p, 8);
        hi = n == 16 ? (memcpy(&hi, p + 8, 8), hi) : gx_load_upto7(p + 8, n - 8);
    } else {
        lo = gx_load_upto7(p, n);
    }
    return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* The first n (0..16) bytes of v to p. */
AESGCM_NI_INLINE void gx_store_partial(uint8_t *p, __m128i v, size_t n)
{
    uint64_t lo = (uint64_t)_mm_cvtsi128_si64(v), hi = (uint64_t)_mm_extract_epi64(v, 1);
    if (n >= 8) {
        memcpy(p, &lo, 8);
        if (n == 16)
            memcpy(p + 8, &hi, 8);
        else
            gx_store_upto7(p + 8, hi, n - 8);
    } else {
        gx_store_upto7(p, lo, n);
    }
}

/* J0 = IV || 0x00000001 from a 12-byte IV (an 8- and a 4-byte load, which
 * the caller's own stores of the nonce forward to). */
AESGCM_NI_INLINE __m128i gx_load_j0(const uint8_t *iv)
{
    uint64_t a;
    uint32_t b;
    memcpy(&a, iv, 8);
    memcpy(&b, iv + 8, 4);
    return _mm_set_epi64x((long long)((uint64_t)b | (uint64_t)1 << 56), (long long)a);
}

/* Counter blocks are kept byte-reversed, where the 32-bit big-endian
 * counter is the low 32-bit lane, so a plain 32-bit add is GCM's inc32
 * (modulo 2^32, no carry into the IV). */
AESGCM_NI_INLINE __m128i gx_ctr_add(__m128i ctr_rev, int n)
{
    return _mm_add_epi32(ctr_rev, _mm_set_epi32(0, 0, 0, n));
}

#endif
