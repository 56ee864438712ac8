/* SPDX-License-Identifier: MIT */
/* Prometheus exposition: bucket counts are exact, the page is valid. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static struct ctl_snap s;

static double value_of(const char *page, const char *series)
{
    const char *p = strstr(page, series);
    cr_assert_not_null(p, "no %s", series);
    return atof(p + strlen(series));
}

Test(prom, histogram_buckets_count_exactly_the_values_at_or_below_le)
{
    cr_assert_eq(ctl_snap_init(&s, 2), 0);
    /* 1003 ns is the top of the bucket holding 1 us: le="1.003e-06" */
    met_hist_record(&s.latency, 1003);
    met_hist_record(&s.latency, 1004); /* next bucket */
    met_hist_record(&s.latency, 500);
    met_hist_record(&s.latency, 7000000000ull);
    s.total.msgs_delivered = 4;
    s.worker[1].cycles_busy = 3000000000ull;
    struct ctl_prom_info info = {.tsc_hz = 1000000000ull, .agents = 10, .phase = "ramp \"x\"", .target_rate = 5};
    static char page[1 << 16];
    size_t n = ctl_prom_render(page, sizeof(page), &s, &info);
    cr_assert_lt(n, sizeof(page));
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"1.003e-06\"} "), 2);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"2.007e-06\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"5.0331648\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"+Inf\"} "), 4);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_count "), 4);
    cr_assert_eq(value_of(page, "swarmgen_core_busy_seconds_total{core=\"1\"} "), 3);
    cr_assert_not_null(strstr(page, "swarmgen_phase_info{phase=\"ramp \\\"x\\\"\"} 1"), "%s", page);
    /* truncation reports the needed size */
    char small[64];
    cr_assert_eq(ctl_prom_render(small, sizeof(small), &s, &info), n);
    cr_assert_eq(strlen(small), sizeof(small) - 1);
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *f = popen("promtool check metrics", "w");
        fputs(page, f);
        cr_assert_eq(pclose(f), 0, "promtool rejected:\n%s", page);
    } else if (getenv("SWARMGEN_REQUIRE_PROMTOOL")) {
        cr_assert_fail("promtool is not installed");
    }
    ctl_snap_free(&s);
}
