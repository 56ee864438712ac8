/* SPDX-License-Identifier: MIT */
/*
 * met_hist: fixed-size log-linear histogram (HdrHistogram style).
 *
 * Values are unsigned 64-bit (nanoseconds for latencies). Values below 256
 * are counted exactly; above, each power of two is split into 128 linear
 * sub-buckets, so a bucket is never wider than 1/128 of its lower bound and
 * the midpoint reported for it is within 0.4 % of any value it holds. The
 * range covers 1 ns to 2^42 ns (about 73 minutes); larger values are clamped
 * into the top bucket and counted in `clamped`.
 *
 * Histograms merge by adding counts (met_hist_merge), so per-lcore histograms
 * sum into a global one. Recording is a plain single-writer increment: one
 * lcore owns a histogram; readers copy it (see run_image.h for snapshots).
 * Percentiles are computed by control (control/met_stats.h), never by the
 * dataplane.
 */
#ifndef SWARMGEN_MET_HIST_H
#define SWARMGEN_MET_HIST_H

#include <stdint.h>

#define MET_HIST_SUB_BITS 7                          /* 128 sub-buckets per octave */
#define MET_HIST_EXACT (2u << MET_HIST_SUB_BITS)     /* values < 256 are exact */
#define MET_HIST_MAX_BIT 42                          /* values up to 2^42 - 1 */
#define MET_HIST_BUCKETS                                                                  \
    (MET_HIST_EXACT + (MET_HIST_MAX_BIT - MET_HIST_SUB_BITS - 1) * (1u << MET_HIST_SUB_BITS))
#define MET_HIST_MAX_VALUE ((UINT64_C(1) << MET_HIST_MAX_BIT) - 1)

struct met_hist {
    uint64_t count;   /* number of values recorded */
    uint64_t sum;     /* sum of recorded values (wraps after 2^64) */
    uint64_t max;     /* largest value recorded */
    uint64_t clamped; /* values above MET_HIST_MAX_VALUE */
    uint64_t bucket[MET_HIST_BUCKETS];
};

/* Bucket index of value v (clamped to the top bucket). Pure. */
static inline uint32_t met_hist_index(uint64_t v)
{
    if (v > MET_HIST_MAX_VALUE)
        v = MET_HIST_MAX_VALUE;
    if (v < MET_HIST_EXACT)
        return (uint32_t)v;
    uint32_t msb = 63u - (uint32_t)__builtin_clzll(v);    /* >= 8 */
    uint32_t shift = msb - MET_HIST_SUB_BITS;              /* >= 1 */
    uint32_t mant = (uint32_t)(v >> shift);                /* 128..255 */
    return MET_HIST_EXACT + (shift - 1) * (1u << MET_HIST_SUB_BITS) +
           (mant - (1u << MET_HIST_SUB_BITS));
}

/* Lowest value that falls into bucket i. Pure. */
static inline uint64_t met_hist_bucket_low(uint32_t i)
{
    if (i < MET_HIST_EXACT)
        return i;
    uint32_t j = i - MET_HIST_EXACT;
    uint32_t shift = j / (1u << MET_HIST_SUB_BITS) + 1;
    uint64_t mant = (j % (1u << MET_HIST_SUB_BITS)) + (1u << MET_HIST_SUB_BITS);
    return mant << shift;
}

/* Width of bucket i (1 for exact buckets). Pure. */
static inline uint64_t met_hist_bucket_width(uint32_t i)
{
    if (i < MET_HIST_EXACT)
        return 1;
    return UINT64_C(1) << ((i - MET_HIST_EXACT) / (1u << MET_HIST_SUB_BITS) + 1);
}

/* Records one value. Single writer: the owning lcore only. No atomics: the
 * reader tolerates a copy taken between the increments (see snapshots). */
static inline void met_hist_record(struct met_hist *h, uint64_t v)
{
    if (v > MET_HIST_MAX_VALUE)
        h->clamped++;
    h->bucket[met_hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

#endif
