/* SPDX-License-Identifier: MIT */
/*
 * rng: the seeded generator of the topology code (xoshiro256**, seeded by
 * splitmix64). Deterministic across machines; one state per user.
 */
#ifndef SWARMGEN_CONTROL_RNG_H
#define SWARMGEN_CONTROL_RNG_H

#include <stdint.h>

struct ctl_rng {
    uint64_t s[4];
};

static inline uint64_t ctl_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void ctl_rng_seed(struct ctl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = ctl_splitmix64(&seed);
}

static inline uint64_t ctl_rng_next(struct ctl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift with rejection). */
static inline uint32_t ctl_rng_below(struct ctl_rng *r, uint32_t n)
{
    uint64_t m = (ctl_rng_next(r) >> 32) * (uint64_t)n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (ctl_rng_next(r) >> 32) * (uint64_t)n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Uniform in [0, 1). */
static inline double ctl_rng_unit(struct ctl_rng *r)
{
    return (double)(ctl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
