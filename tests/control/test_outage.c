/* SPDX-License-Identifier: MIT */
/* The --netem outage verdict (control/sla/outage.h) on synthetic per-second
 * series: baseline, recovery, the window's retransmissions, delayed
 * messages and closed connections, flap cycles, no baseline. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "met_stats.h"
#include "outage.h"

#define ROWS 12
static struct ctl_ts_row rows[ROWS];
static struct ctl_ts ts;
static struct ri_netem cls[2];
static struct ctl_outages out;

/* Row i covers (i, i + 1] seconds: p99 us, deliveries, in flight at its
 * end, retransmissions, delayed, closed in it. */
static void row(int i, double p99, uint64_t delivered, uint64_t in_flight, uint64_t retx,
                uint64_t slow, uint64_t closed)
{
    struct ctl_ts_row *r = &rows[i];
    const struct ctl_ts_row *p = i ? &rows[i - 1] : NULL;
    memset(r, 0, sizeof(*r));
    r->t_s = i + 1;
    r->dt_s = 1;
    r->p99_us = p99;
    r->interval_delivered = delivered;
    r->in_flight = in_flight;
    r->interval_retransmissions = retx;
    r->retransmissions =
        (p ? p->retransmissions : 1000) + retx; /* 1000 before the load (connect phase) */
    r->interval_slow = slow;
    r->interval_closed = closed;
    r->conn_closed = (p ? p->conn_closed : 0) + closed;
    if ((size_t)i + 1 > ts.n)
        ts.n = (size_t)i + 1;
}

/* A 3 s silence from 2 s: the backlog crosses in (5, 6], (6, 7] is normal
 * again. */
static const uint64_t no_closes[8];

static void outage_series_closing(const uint64_t closed[8])
{
    memset(&ts, 0, sizeof(ts));
    ts.rows = rows;
    ts.cap = ROWS;
    row(0, 100, 100, 2, 0, 0, closed[0]);
    row(1, 120, 100, 3, 0, 0,
        closed[1]);                      /* baseline p99: median of 100 and 120 (the upper) = 120 */
    row(2, 0, 0, 100, 40, 0, closed[2]); /* silent */
    row(3, 0, 0, 200, 30, 0, closed[3]);
    row(4, 0, 0, 300, 20, 0, closed[4]);
    row(5, 3e6, 400, 5, 50, 310, closed[5]); /* the backlog arrives */
    row(6, 150, 100, 4, 3, 1, closed[6]); /* recovered: in flight 4 <= 2 x 3 + 1, p99 150 <= 180 */
    row(7, 110, 100, 2, 7, 0, closed[7]);
    memset(cls, 0, sizeof(cls));
    cls[0].enabled = 1;
    strcpy(cls[0].name, "all");
    cls[0].outage_at_ns = 2000000000ull;
    cls[0].outage_ns = 3000000000ull;
    ts.slow_ns = (uint64_t)llround(ctl_outage_limit_us(120) * 1e3);
}

static void outage_series(void)
{
    outage_series_closing(no_closes);
}

Test(outage, limit_is_the_spike_recoverys)
{
    cr_assert_float_eq(ctl_outage_limit_us(120), 180, 1e-9);
    cr_assert_float_eq(ctl_outage_limit_us(40), 90, 1e-9);
}

Test(outage, recovers_at_the_start_of_the_first_normal_second)
{
    outage_series();
    ctl_judge_outages(cls, 1, &ts, 8, 0, 0, &out);
    cr_assert(out.have_baseline);
    cr_assert_float_eq(out.baseline_p99_us, 120, 1e-9);
    cr_assert_float_eq(out.baseline_in_flight, 3, 1e-9);
    cr_assert_eq(out.n, 1);
    const struct ctl_outage *o = &out.o[0];
    cr_assert_str_eq(o->name, "all");
    cr_assert(!o->flap);
    cr_assert_eq(o->silences, 1);
    cr_assert_eq(o->recovered, 1);
    cr_assert_float_eq(o->start_s, 2, 1e-9);
    cr_assert_float_eq(o->end_s, 5, 1e-9);
    cr_assert_float_eq(o->recovery_s, 1, 1e-9, "%g", o->recovery_s);
    cr_assert_eq(o->retransmissions, 40 + 30 + 20 + 50, "from the silence to the recovery: %llu",
                 (unsigned long long)o->retransmissions);
    cr_assert(o->have_delayed);
    cr_assert_eq(o->messages_delayed, 310, "the recovered second's slow one is not counted");
    cr_assert_eq(o->connections_closed, 0);
}

Test(outage, a_backlog_still_in_flight_or_slow_is_not_recovered)
{
    outage_series();
    row(6, 150, 100, 8, 3, 1, 0); /* in flight 8 > 7 */
    row(7, 190, 100, 2, 7, 2, 0); /* p99 190 > 180 */
    ctl_judge_outages(cls, 1, &ts, 8, 0, 0, &out);
    cr_assert_eq(out.o[0].recovered, 0);
    cr_assert_eq(out.o[0].retransmissions, 40 + 30 + 20 + 50 + 3 + 7,
                 "until the end without recovery");
    cr_assert_eq(out.o[0].messages_delayed, 310 + 1 + 2);
    /* an empty second with nothing in flight is recovered: the backlog is gone */
    row(7, 0, 0, 0, 0, 0, 0);
    ctl_judge_outages(cls, 1, &ts, 8, 0, 0, &out);
    cr_assert_eq(out.o[0].recovered, 1);
    cr_assert_float_eq(out.o[0].recovery_s, 2, 1e-9);
}

Test(outage, connections_closed_from_the_silence_to_the_end_of_the_run)
{
    /* 1 before the silence (not its doing), 2 in it, 1 after the recovery */
    outage_series_closing((const uint64_t[8]){1, 0, 0, 2, 0, 0, 0, 1});
    ctl_judge_outages(cls, 1, &ts, 8, 4 + 4, 0, &out); /* 4 in the rows, 4 more in the drain */
    cr_assert_eq(out.o[0].connections_closed, 2 + 1 + 4);
}

Test(outage, delayed_is_unknown_when_the_rows_counted_against_another_limit)
{
    outage_series();
    ts.slow_ns = 0;
    ctl_judge_outages(cls, 1, &ts, 8, 0, 0, &out);
    cr_assert(!out.o[0].have_delayed);
}

Test(outage, flap_cycles_are_judged_one_by_one)
{
    memset(&ts, 0, sizeof(ts));
    ts.rows = rows;
    ts.cap = ROWS;
    /* up 3 s, down 1 s: silences [3, 4) and [7, 8), and [11, 12) outside a 10 s load */
    row(0, 100, 100, 1, 0, 0, 0);
    row(1, 100, 100, 1, 0, 0, 0);
    row(2, 100, 100, 1, 0, 0, 0);
    row(3, 0, 0, 50, 5, 0, 0);     /* (3, 4] silent */
    row(4, 2e6, 150, 2, 6, 40, 0); /* backlog */
    row(5, 100, 100, 1, 1, 0, 0);  /* recovered 1 s after 4 s */
    row(6, 100, 100, 1, 0, 0, 0);
    row(7, 0, 0, 50, 5, 0, 1); /* (7, 8] silent */
    row(8, 2e6, 130, 2, 6, 30, 0);
    row(9, 2e6, 120, 2, 2, 20, 0); /* recovered 2 s after 8 s? no: the load ends at 10 */
    memset(cls, 0, sizeof(cls));
    cls[1].enabled = 1;
    strcpy(cls[1].name, "wan");
    cls[1].flap_up_ns = 3000000000ull;
    cls[1].flap_down_ns = 1000000000ull;
    ts.slow_ns = (uint64_t)llround(ctl_outage_limit_us(100) * 1e3);
    ctl_judge_outages(cls, 2, &ts, 10, 1, 0, &out);
    cr_assert_eq(out.n, 1);
    const struct ctl_outage *o = &out.o[0];
    cr_assert_str_eq(o->name, "wan");
    cr_assert(o->flap);
    cr_assert_eq(o->silences, 2);
    cr_assert_eq(o->recovered, 1, "the second did not recover before the end");
    cr_assert_float_eq(o->recovery_s, 1, 1e-9);
    cr_assert_float_eq(o->start_s, 3, 1e-9);
    cr_assert_float_eq(o->end_s, 8, 1e-9);
    cr_assert_eq(o->retransmissions, (5 + 6) + (5 + 6 + 2));
    cr_assert_eq(o->messages_delayed, 40 + 30 + 20);
    cr_assert_eq(o->connections_closed, 1);
    /* a longer load lets it recover in (10, 11] */
    row(10, 100, 100, 1, 0, 0, 0);
    ctl_judge_outages(cls, 2, &ts, 10.5, 1, 0, &out);
    cr_assert_eq(out.o[0].recovered, 2);
    cr_assert_float_eq(out.o[0].recovery_s, 2, 1e-9, "the longest: %g", out.o[0].recovery_s);
}

Test(outage, no_second_of_load_before_the_silence_no_baseline)
{
    outage_series();
    cls[0].outage_at_ns = 0;
    ctl_judge_outages(cls, 1, &ts, 8, 0, 0, &out);
    cr_assert(!out.have_baseline);
    cr_assert_eq(out.o[0].silences, 1);
    cr_assert_eq(out.o[0].recovered, 0);
    cr_assert(!out.o[0].have_delayed);
}

Test(outage, no_outage_no_entries)
{
    outage_series();
    cls[0].outage_ns = 0;
    double s;
    cr_assert(!ctl_outage_first_start(cls, 1, &s));
    ctl_judge_outages(cls, 1, &ts, 8, 0, 0, &out);
    cr_assert_eq(out.n, 0);
}

Test(outage, histogram_counts_above_a_limit)
{
    static struct met_hist h, before, d;
    memset(&h, 0, sizeof(h));
    for (int i = 0; i < 100; i++)
        met_hist_record(&h, 50000);
    before = h;
    for (int i = 0; i < 30; i++)
        met_hist_record(&h, 3000000000ull);
    for (int i = 0; i < 70; i++)
        met_hist_record(&h, 60000);
    cr_assert_eq(met_hist_count_above(&h, 180000), 30);
    cr_assert_eq(met_hist_count_above(&h, 55000), 100);
    met_hist_delta(&d, &h, &before);
    cr_assert_eq(met_hist_count_above(&d, 180000), 30);
    /* an interval without the slow ones: its max is its own, not the histogram's */
    before = h;
    for (int i = 0; i < 10; i++)
        met_hist_record(&h, 40000);
    met_hist_delta(&d, &h, &before);
    cr_assert(d.max >= 40000 && d.max < 40400, "interval max %llu", (unsigned long long)d.max);
    cr_assert_leq(met_hist_percentile(&d, 99), d.max);
}
