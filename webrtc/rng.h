/* SPDX-License-Identifier: MIT */
/*
 * rng: the small deterministic generators of both dataplanes. xorshift64* on a
 * worker's own state (traffic choices, netem), and a stateless 64-bit mixer
 * (murmur3's finaliser) for values derived from the seed and an id
 * (credentials, SSRCs, per-attempt seeds). Pure inline functions; a state
 * belongs to one thread.
 */
#ifndef SWARMGEN_WEBRTC_RNG_H
#define SWARMGEN_WEBRTC_RNG_H

#include <stdint.h>

/* Next value of xorshift64* state *s (never 0 once seeded non-zero). */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) (multiply-shift; bias below 2^-32 for our n). */
static inline uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

/* A well-mixed 64-bit function of x. */
static inline uint64_t rng_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

#endif
