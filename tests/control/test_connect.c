/* SPDX-License-Identifier: MIT */
/* The connect phase's figures and its progress line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "connect.h"
#include "met_stats.h"

static struct ri_counters c;
static struct ctl_connect_figures f, before;

Test(connect, figures_from_the_counters)
{
    memset(&c, 0, sizeof(c));
    /* 100 connections: 60 up, 2 given up after 3 attempts each, 5 failed
     * attempts retried, 10 attempts still going */
    c.conn_attempts = 60 + 2 * 3 + 5 + 10;
    c.conn_established = 60;
    c.conn_attempt_failed[RI_STAGE_ICE] = 4;
    c.conn_attempt_failed[RI_STAGE_DTLS] = 6;
    c.conn_attempt_failed[RI_STAGE_DC] = 1;
    c.conn_given_up = 2;
    c.conn_closed = 1;
    ctl_connect_figures(&c, 100, &f);
    cr_assert_eq(f.total, 100);
    cr_assert_eq(f.up, 60);
    cr_assert_eq(f.failed, 11);
    cr_assert_eq(f.retried, 11 - 2);
    cr_assert_eq(f.in_setup, 10);
    cr_assert_eq(f.settled, 62);
    cr_assert_eq(f.closed, 1);
    cr_assert(!ctl_connect_done(&f));
    c.conn_established = 98;
    ctl_connect_figures(&c, 100, &f);
    cr_assert(ctl_connect_done(&f), "98 up + 2 given up settle 100");
    cr_assert_eq(f.in_setup, 0, "never below zero");
}

Test(connect, progress_line)
{
    memset(&c, 0, sizeof(c));
    c.conn_attempts = 2100;
    c.conn_established = 1000;
    ctl_connect_figures(&c, 4000, &before);
    c.conn_attempts = 2067;
    c.conn_established = 2000;
    c.conn_attempt_failed[RI_STAGE_DTLS] = 3;
    ctl_connect_figures(&c, 4000, &f);
    static struct met_hist h;
    memset(&h, 0, sizeof(h));
    for (int i = 0; i < 98; i++)
        met_hist_record(&h, 310000000);
    met_hist_record(&h, 900000000);
    met_hist_record(&h, 900000000);
    char line[512], want[512];
    FILE *m = fmemopen(line, sizeof(line), "w");
    ctl_connect_progress(m, &f, &before, 2.0, &h);
    fclose(m);
    /* percentiles are bucket midpoints (within 0.4 %): 310 ms reads 309 */
    snprintf(want, sizeof(want),
             "connect    [#####.....] 2000/4000 up (50.0%%)  500 conn/s  ETA 4s  failed 0  retried 3  in "
             "set-up 64  p50 %.0fms p99 %.0fms\n",
             met_hist_percentile(&h, 50) / 1e6, met_hist_percentile(&h, 99) / 1e6);
    cr_assert_str_eq(line, want);
    cr_assert_not_null(strstr(line, "p50 309ms p99 90"), "%s", line);
    /* no connection came up in the interval: no percentiles */
    memset(&h, 0, sizeof(h));
    m = fmemopen(line, sizeof(line), "w");
    ctl_connect_progress(m, &f, &f, 1.0, &h);
    fclose(m);
    cr_assert_not_null(strstr(line, " 0 conn/s "), "%s", line);
    cr_assert_not_null(strstr(line, "p50 - p99 -"), "%s", line);
    cr_assert_not_null(strstr(line, " ETA - "), "no rate, no ETA: %s", line);
}

Test(connect, eta)
{
    struct ctl_connect_figures a = {.total = 1000000, .settled = 100000}, b = a;
    b.settled = 105000; /* 5,000 in 1 s: 895,000 to go */
    cr_assert_float_eq(ctl_connect_eta_s(&b, &a, 1.0), 179.0, 1e-9);
    char buf[24];
    ctl_connect_eta(&b, &a, 1.0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2m59s");
    b.settled = 1000000;
    cr_assert_float_eq(ctl_connect_eta_s(&b, &a, 1.0), 0.0, 1e-9, "all settled");
    cr_assert_float_eq(ctl_connect_eta_s(&a, &a, 1.0), -1.0, 1e-9, "none settled: unknown");
    b.settled = 100001; /* one a second: 899,999 s */
    ctl_connect_eta(&b, &a, 1.0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "250.0h");
}

/* Without --setup-timeout: 10 minutes at least, else twice what the
 * measured rate needs for every connection. */
Test(connect, auto_deadline_follows_the_rate)
{
    const uint64_t floor = 600ull * 1000000000ull, s = 1000000000ull;
    cr_assert_eq(ctl_connect_auto_deadline_ns(floor, 5 * s, 10000, 1000000), floor, "too early to tell");
    cr_assert_eq(ctl_connect_auto_deadline_ns(floor, 60 * s, 0, 1000000), floor, "nothing settled");
    cr_assert_eq(ctl_connect_auto_deadline_ns(floor, 60 * s, 60000, 100000), floor, "fast enough: the floor");
    /* 2,500/s for a million: 400 s for all of them, 800 s allowed */
    cr_assert_eq(ctl_connect_auto_deadline_ns(floor, 100 * s, 250000, 1000000), 800 * s);
    /* slowing down: the deadline moves out with the rate */
    cr_assert_eq(ctl_connect_auto_deadline_ns(floor, 400 * s, 500000, 1000000), 1600 * s);
}
