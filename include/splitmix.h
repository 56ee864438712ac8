/* SPDX-License-Identifier: MIT */
/*
 * splitmix: the splitmix64 generator (Steele, Lea, Flood 2014) that the
 * engines draw their derived values from (SCTP tags, TSNs and cookie
 * keys, ICE and TURN transaction ids): the state steps by the golden
 * ratio constant and the result is a mix of it. Deterministic from its
 * seed, so an engine needs no RNG of its own; seed it from getrandom where
 * an observer must not predict the values. Pure inline; a state belongs to
 * one thread.
 */
#ifndef SWARMGEN_SPLITMIX_H
#define SWARMGEN_SPLITMIX_H

#include <stdint.h>

#define SPLITMIX_GOLDEN 0x9e3779b97f4a7c15ull

/* Steps *s and returns the next value. */
static inline uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += SPLITMIX_GOLDEN);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
