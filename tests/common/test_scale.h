/* SPDX-License-Identifier: MIT */
/*
 * test_scale: bulk volumes of a test (messages to move, rounds to run),
 * divided by SWARMGEN_TEST_DIVISOR when it is set (tools/check sets 10 for
 * its sanitizer stage, where every byte costs several times more). What
 * a test checks does not change, only how much traffic shows it.
 */
#ifndef SWARMGEN_TESTS_TEST_SCALE_H
#define SWARMGEN_TESTS_TEST_SCALE_H

#include <stdint.h>
#include <stdlib.h>

/* n divided by the divisor (at least 1 when n is). */
static inline uint32_t test_scale(uint32_t n)
{
    const char *d = getenv("SWARMGEN_TEST_DIVISOR");
    long k = d ? strtol(d, NULL, 10) : 1;
    if (k <= 1 || n == 0)
        return n;
    uint32_t m = (uint32_t)(n / (unsigned long)k);
    return m ? m : 1;
}

#endif
