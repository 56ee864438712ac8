/* SPDX-License-Identifier: MIT */
/* The per-agent view's helpers (report_agents.h) on known values. */
#include <criterion/criterion.h>
#include <math.h>

#include "report_agents.h"

Test(agents, gini_known_values)
{
    const uint64_t equal[4] = {5, 5, 5, 5}, one[4] = {0, 0, 0, 8}, none[3] = {0, 0, 0};
    cr_assert_float_eq(ctl_gini(equal, 4), 0.0, 1e-12);
    cr_assert_float_eq(ctl_gini(one, 4), 0.75, 1e-12); /* (n-1)/n */
    cr_assert_float_eq(ctl_gini(none, 3), 0.0, 1e-12);
    /* 1,2,3,4: sum (2i-n-1) x_i = -3 - 2 + 3 + 12 = 10; / (4 * 10) = 0.25 */
    const uint64_t ramp[4] = {1, 2, 3, 4};
    cr_assert_float_eq(ctl_gini(ramp, 4), 0.25, 1e-12);
}

Test(agents, median_and_top_share)
{
    const uint64_t odd[5] = {1, 2, 3, 4, 100}, even[4] = {1, 2, 3, 7};
    cr_assert_float_eq(ctl_median_u64(odd, 5), 3.0, 1e-12);
    cr_assert_float_eq(ctl_median_u64(even, 4), 2.5, 1e-12);
    cr_assert_float_eq(ctl_median_u64(odd, 0), 0.0, 1e-12);
    /* top 1 % of 5 agents is 1 agent: 100 of 110 */
    cr_assert_float_eq(ctl_top_share(odd, 5, 0.01), 100.0 / 110.0, 1e-12);
    /* top 50 % of 4 is 2: (3 + 7) / 13 */
    cr_assert_float_eq(ctl_top_share(even, 4, 0.5), 10.0 / 13.0, 1e-12);
}

Test(agents, latency_buckets_and_percentiles)
{
    cr_assert_eq(ri_agent_lat_bucket(0), 0);
    cr_assert_eq(ri_agent_lat_bucket(8191), 0);
    cr_assert_eq(ri_agent_lat_bucket(8192), 1);    /* [2^13, 2^14) */
    cr_assert_eq(ri_agent_lat_bucket(16383), 1);
    cr_assert_eq(ri_agent_lat_bucket(1000000), 7); /* 1 ms: [2^19, 2^20) */
    cr_assert_eq(ri_agent_lat_bucket(UINT64_C(1) << 27), 15);
    cr_assert_eq(ri_agent_lat_bucket(UINT64_C(30000000000)), 15);
    uint32_t lat[RI_AGENT_LAT_BUCKETS] = {0};
    cr_assert_eq(ctl_agent_lat_pct(lat, 50), 0);
    lat[2] = 98; /* [2^14, 2^15) */
    lat[9] = 2;  /* [2^21, 2^22) */
    cr_assert_eq(ctl_agent_lat_pct(lat, 50), UINT64_C(1) << 15);
    cr_assert_eq(ctl_agent_lat_pct(lat, 98), UINT64_C(1) << 15);
    cr_assert_eq(ctl_agent_lat_pct(lat, 99), UINT64_C(1) << 22);
}

Test(agents, hop_mean)
{
    uint64_t hops[RI_HOP_BUCKETS] = {0};
    cr_assert_float_eq(ctl_hops_mean(hops), 0.0, 1e-12);
    hops[0] = 10; /* 1 hop */
    hops[2] = 30; /* 3 hops */
    cr_assert_float_eq(ctl_hops_mean(hops), (10.0 + 90.0) / 40.0, 1e-12);
}
