/* SPDX-License-Identifier: MIT */
/*
 * vclock_tod: the body of a gettimeofday() that a test executable defines
 * to interpose on the one a shared library imports (OpenSSL's DTLS
 * timers, usrsctp's RTT samples and T3 ages), so the library reads the
 * test's virtual clock instead of the wall clock. The test keeps its own
 * gettimeofday (one per executable) and answers from vclock_tod():
 *
 *   int gettimeofday(struct timeval *restrict tv, void *restrict tz)
 *   {
 *       (void)tz;
 *       vclock_tod(tv, on, virtual_ns);
 *       return 0;
 *   }
 *
 * Header-only; tests and benchmarks only. Thread-safe (reads nothing but
 * its arguments and CLOCK_REALTIME).
 */
#ifndef SWARMGEN_TESTS_VCLOCK_TOD_H
#define SWARMGEN_TESTS_VCLOCK_TOD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

/* Fills tv with virtual_ns (nanoseconds since the Unix epoch) when
 * `virtual_on`, else with CLOCK_REALTIME. */
static inline void vclock_tod(struct timeval *tv, bool virtual_on, uint64_t virtual_ns)
{
    uint64_t ns = virtual_ns;
    if (!virtual_on) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    tv->tv_sec = (time_t)(ns / 1000000000ull);
    tv->tv_usec = (suseconds_t)(ns % 1000000000ull / 1000);
}

#endif
