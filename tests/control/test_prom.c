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

Test(prom, connection_metrics_with_traffic_dc_only)
{
    cr_assert_eq(ctl_snap_init(&s, 2), 0);
    s.total.conn_total = 4123;
    s.total.conn_attempts = 4200;
    s.total.conn_established = 4100;
    s.total.conn_attempt_failed[RI_STAGE_DTLS] = 7;
    s.total.conn_attempt_failed[RI_STAGE_DC] = 2;
    /* set-up times: 300 ms, 310 ms, 4 s; 1 s is past the first two */
    met_hist_record(&s.setup[RI_SETUP_TOTAL], 300000000);
    met_hist_record(&s.setup[RI_SETUP_TOTAL], 310000000);
    met_hist_record(&s.setup[RI_SETUP_TOTAL], 4000000000ull);
    static char page[1 << 16];
    struct ctl_prom_info udp = {.tsc_hz = 1000000000ull, .agents = 10, .phase = "sustained"};
    ctl_prom_render(page, sizeof(page), &s, &udp);
    cr_assert_null(strstr(page, "swarmgen_connection_setup_seconds"), "udp runs have no connection metrics");
    cr_assert_null(strstr(page, "swarmgen_connections_established_total"));
    struct ctl_prom_info dc = udp;
    dc.connections = true;
    dc.phase = "connect";
    size_t n = ctl_prom_render(page, sizeof(page), &s, &dc);
    cr_assert_lt(n, sizeof(page));
    cr_assert_not_null(strstr(page, "# TYPE swarmgen_connections_total counter\n"), "%s", page);
    cr_assert_eq(value_of(page, "\nswarmgen_connections_total "), 4123);
    cr_assert_eq(value_of(page, "\nswarmgen_connection_attempts_total "), 4200);
    cr_assert_eq(value_of(page, "\nswarmgen_connections_established_total "), 4100);
    cr_assert_eq(value_of(page, "swarmgen_connection_attempt_failures_total{stage=\"ice\"} "), 0);
    cr_assert_eq(value_of(page, "swarmgen_connection_attempt_failures_total{stage=\"dtls\"} "), 7);
    cr_assert_eq(value_of(page, "swarmgen_connection_attempt_failures_total{stage=\"datachannel\"} "), 2);
    cr_assert_not_null(strstr(page, "# TYPE swarmgen_connection_setup_seconds histogram\n"));
    /* le bounds are bucket tops: 0.5 s holds the two fast ones, 5 s all three */
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"0.200278015\"} "), 0);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"0.501219327\"} "), 2);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"2.00487731\"} "), 2);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"5.0331648\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"+Inf\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_count "), 3);
    cr_assert_float_eq(value_of(page, "swarmgen_connection_setup_seconds_sum "), 4.61, 1e-9);
    cr_assert_not_null(strstr(page, "swarmgen_phase_info{phase=\"connect\"} 1"));
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *f = popen("promtool check metrics", "w");
        fputs(page, f);
        cr_assert_eq(pclose(f), 0, "promtool rejected:\n%s", page);
    } else if (getenv("SWARMGEN_REQUIRE_PROMTOOL")) {
        cr_assert_fail("promtool is not installed");
    }
    ctl_snap_free(&s);
}
