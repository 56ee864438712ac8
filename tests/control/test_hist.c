/* SPDX-License-Identifier: MIT */
/* met_hist and met_stats: bucket geometry, percentiles against exact
 * percentiles of random data, merge by addition, deltas. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "met_stats.h"

static struct met_hist h, h2, sum;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t exact_pct(const uint64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

Test(met_hist, bucket_geometry_covers_every_value_once)
{
    /* consecutive buckets tile the range without gaps or overlaps */
    for (uint32_t i = 0; i + 1 < MET_HIST_BUCKETS; i++)
        cr_assert_eq(met_hist_bucket_low(i) + met_hist_bucket_width(i), met_hist_bucket_low(i + 1),
                     "bucket %u", i);
    for (uint64_t v = 0; v < 100000; v += 7) {
        uint32_t i = met_hist_index(v);
        cr_assert(v >= met_hist_bucket_low(i) && v < met_hist_bucket_low(i) + met_hist_bucket_width(i));
    }
    cr_assert_eq(met_hist_index(MET_HIST_MAX_VALUE), MET_HIST_BUCKETS - 1);
    cr_assert_eq(met_hist_index(UINT64_MAX), MET_HIST_BUCKETS - 1);
}

Test(met_hist, bucket_width_within_one_percent)
{
    for (uint32_t i = MET_HIST_EXACT; i < MET_HIST_BUCKETS; i++) {
        double rel = (double)met_hist_bucket_width(i) / (double)met_hist_bucket_low(i);
        cr_assert_leq(rel, 1.0 / 128 + 1e-12, "bucket %u relative width %g", i, rel);
    }
}

Test(met_hist, percentiles_match_exact_on_random_data)
{
    const size_t n = 200000;
    uint64_t *v = malloc(n * sizeof(*v));
    cr_assert_not_null(v);
    const double ps[] = {1, 10, 50, 90, 95, 99, 99.9, 99.99, 100};
    uint64_t seed = 42;
    for (int dist = 0; dist < 3; dist++) {
        memset(&h, 0, sizeof(h));
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng(&seed);
            if (dist == 0) /* uniform ns .. 10 ms */
                v[i] = r % 10000000;
            else if (dist == 1) /* log-uniform 1 ns .. ~1 min */
                v[i] = (uint64_t)exp((double)(r % 1000000) / 1000000.0 * log(6e10));
            else /* heavy tail: mostly small, some huge */
                v[i] = (r % 100 == 0) ? 1000000000ull + r % 1000000000ull : 20000 + r % 5000;
            met_hist_record(&h, v[i]);
        }
        qsort(v, n, sizeof(*v), cmp_u64);
        cr_assert_eq(met_hist_total(&h), n);
        cr_assert_eq(h.count, n);
        for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
            uint64_t want = exact_pct(v, n, ps[k]);
            uint64_t got = met_hist_percentile(&h, ps[k]);
            double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;
            cr_assert_leq(err, 0.01, "dist %d p%g: exact %llu, histogram %llu (%.3f%%)", dist, ps[k],
                          (unsigned long long)want, (unsigned long long)got, err * 100);
        }
        cr_assert_eq(met_hist_percentile(&h, 100), v[n - 1]);
    }
    free(v);
}

Test(met_hist, merge_equals_recording_everything_in_one)
{
    memset(&h, 0, sizeof(h));
    memset(&h2, 0, sizeof(h2));
    memset(&sum, 0, sizeof(sum));
    uint64_t seed = 7;
    for (int i = 0; i < 50000; i++) {
        uint64_t x = rng(&seed) % 5000000;
        met_hist_record(i % 3 ? &h : &h2, x);
        met_hist_record(&sum, x);
    }
    met_hist_merge(&h, &h2);
    cr_assert_eq(memcmp(h.bucket, sum.bucket, sizeof(sum.bucket)), 0);
    cr_assert_eq(h.count, sum.count);
    cr_assert_eq(h.sum, sum.sum);
    cr_assert_eq(h.max, sum.max);
}

Test(met_hist, delta_isolates_an_interval)
{
    memset(&h, 0, sizeof(h));
    for (int i = 0; i < 1000; i++)
        met_hist_record(&h, 100);
    h2 = h;
    for (int i = 0; i < 1000; i++)
        met_hist_record(&h, 5000000);
    met_hist_delta(&sum, &h, &h2);
    cr_assert_eq(met_hist_total(&sum), 1000);
    uint64_t p50 = met_hist_percentile(&sum, 50);
    cr_assert(p50 > 4950000 && p50 < 5050000, "p50 of the interval %llu", (unsigned long long)p50);
}

Test(met_hist, empty_and_clamped)
{
    memset(&h, 0, sizeof(h));
    cr_assert_eq(met_hist_percentile(&h, 99), 0);
    met_hist_record(&h, UINT64_MAX);
    cr_assert_eq(h.clamped, 1);
    cr_assert_eq(met_hist_total(&h), 1);
}
