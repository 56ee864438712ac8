/* SPDX-License-Identifier: MIT */
/* SLA rules: parsing, units, judgement and its inputs. */
#include <criterion/criterion.h>
#include <string.h>

#include "judge.h"
#include "sla.h"

static struct ctl_sla sla;
static char err[256];

Test(sla, parses_the_k6_style_list)
{
    cr_assert_eq(ctl_sla_parse("p95<150ms,p99<200ms,delivery>99.9%,errors<0.1%,setup_p95<10s,rate>=5000", &sla, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(sla.n, 6);
    cr_assert_eq(sla.rule[0].metric, SLA_P95);
    cr_assert_float_eq(sla.rule[0].value, 150e6, 1e-3);
    cr_assert_eq(sla.rule[2].metric, SLA_DELIVERY);
    cr_assert_eq(sla.rule[2].op, SLA_GT);
    cr_assert_float_eq(sla.rule[2].value, 99.9, 1e-9);
    cr_assert_eq(sla.rule[4].metric, SLA_SETUP_P95);
    cr_assert_float_eq(sla.rule[4].value, 10e9, 1e-3);
    cr_assert_eq(sla.rule[5].op, SLA_GE);
}

Test(sla, rejects_what_it_cannot_judge)
{
    const char *bad[] = {"", "p95", "p95<", "p95<10", "p95<10 parsecs", "delivery>99.9",
                         "delivery>120%", "latency<1ms", "rate>5k/s", "p99=1ms"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(ctl_sla_parse(bad[i], &sla, err, sizeof(err)), -EINVAL, "accepted '%s'", bad[i]);
}

Test(sla, judges_overall_and_per_phase)
{
    cr_assert_eq(ctl_sla_parse("p99<1ms,delivery>99%", &sla, err, sizeof(err)), 0);
    static struct met_hist fast, slow, all;
    memset(&fast, 0, sizeof(fast));
    memset(&slow, 0, sizeof(slow));
    for (int i = 0; i < 1000; i++) {
        met_hist_record(&fast, 100000);   /* 100 us */
        met_hist_record(&slow, 5000000);  /* 5 ms */
    }
    all = fast;
    met_hist_merge(&all, &fast);
    met_hist_merge(&all, &fast);
    met_hist_merge(&all, &slow); /* 25 % slow: p99 is 5 ms overall too */
    struct ctl_phase_stats ph[2];
    memset(ph, 0, sizeof(ph));
    ph[0].seen = ph[1].seen = true;
    ph[0].seconds = ph[1].seconds = 1;
    ph[0].c.msgs_sent = ph[0].c.msgs_delivered = 1000;
    ph[0].lat = &fast;
    ph[1].c.msgs_sent = 1000;
    ph[1].c.msgs_delivered = 990; /* 99.0 %: not above 99 % */
    ph[1].lat = &slow;
    struct ri_counters total;
    memset(&total, 0, sizeof(total));
    total.msgs_sent = 2000;
    total.msgs_delivered = 1990; /* 99.5 % */
    static struct ctl_judgement j;
    ctl_judge_sla(&sla, &total, &all, NULL, 2, ph, 2, &j);
    cr_assert(j.breached);
    cr_assert(!j.overall[0].holds, "p99 overall is 5 ms");
    cr_assert(j.overall[1].holds, "99 %% delivered overall");
    cr_assert(j.phase[0][0].holds && j.phase[0][1].holds, "phase 0 is fine");
    cr_assert(!j.phase[1][0].holds && !j.phase[1][1].holds, "phase 1 breaches both");
    cr_assert_float_eq(j.phase[1][1].value, 99.0, 1e-9);
}

Test(sla, setup_rules_without_setup_data_are_not_breaches)
{
    cr_assert_eq(ctl_sla_parse("setup_p95<1s", &sla, err, sizeof(err)), 0);
    struct ctl_sla_input in;
    memset(&in, 0, sizeof(in));
    double v;
    cr_assert(!ctl_sla_value(&sla.rule[0], &in, &v));
}

Test(sla, setup_rules_are_judged_on_the_set_up_histogram_overall)
{
    cr_assert_eq(ctl_sla_parse("setup_p50<100ms,setup_p99<1s,p99<1s", &sla, err, sizeof(err)), 0, "%s", err);
    static struct met_hist lat, setup;
    memset(&lat, 0, sizeof(lat));
    memset(&setup, 0, sizeof(setup));
    met_hist_record(&lat, 1000);
    /* 98 connections in 50 ms, 2 in 3 s: p50 holds, p99 is 3 s and breaches */
    for (int i = 0; i < 98; i++)
        met_hist_record(&setup, 50000000);
    met_hist_record(&setup, 3000000000ull);
    met_hist_record(&setup, 3000000000ull);
    struct ri_counters total;
    memset(&total, 0, sizeof(total));
    total.msgs_sent = total.msgs_delivered = 1;
    struct ctl_phase_stats ph[1];
    memset(ph, 0, sizeof(ph));
    ph[0].seen = true;
    ph[0].seconds = 1;
    ph[0].c = total;
    ph[0].lat = &lat;
    static struct ctl_judgement j;
    ctl_judge_sla(&sla, &total, &lat, &setup, 1, ph, 1, &j);
    cr_assert(j.overall[0].have && j.overall[0].holds, "setup_p50 is 50 ms");
    cr_assert_float_eq(j.overall[0].value, 50e6, 50e6 * 0.005);
    cr_assert(j.overall[1].have && !j.overall[1].holds, "setup_p99 is 3 s");
    cr_assert_float_eq(j.overall[1].value, 3e9, 3e9 * 0.005);
    cr_assert(j.breached);
    /* the phases run after the connect phase: no set-up data there */
    cr_assert(!j.phase[0][1].have && j.phase[0][1].holds);
    /* an empty set-up histogram (no connection came up) is no data, not 0 ms */
    memset(&setup, 0, sizeof(setup));
    ctl_judge_sla(&sla, &total, &lat, &setup, 1, ph, 1, &j);
    cr_assert(!j.overall[0].have && !j.overall[1].have);
    cr_assert(!j.breached);
}

Test(sla, a_phase_boundary_does_not_count_messages_in_flight_as_undelivered)
{
    cr_assert_eq(ctl_sla_parse("delivery>99.9%,errors<0.1%", &sla, err, sizeof(err)), 0);
    static struct ctl_phase_stats ph[2];
    memset(ph, 0, sizeof(ph));
    /* phase 0: 1,000 sent, 950 delivered, 50 still in flight at its end
     * (all delivered in phase 1); phase 1: 1,000 sent, all 1,050 that were
     * in flight or sent delivered, closed after the drain */
    ph[0].seen = ph[1].seen = true;
    ph[0].seconds = ph[1].seconds = 1;
    ph[0].c.msgs_sent = 1000, ph[0].c.msgs_delivered = 950, ph[0].in_flight_end = 50;
    ph[1].c.msgs_sent = 1000, ph[1].c.msgs_delivered = 1050, ph[1].in_flight_start = 50;
    struct ri_counters total;
    memset(&total, 0, sizeof(total));
    total.msgs_sent = 2000, total.msgs_delivered = 2000;
    static struct ctl_judgement j;
    ctl_judge_sla(&sla, &total, NULL, NULL, 2, ph, 2, &j);
    cr_assert(!j.breached, "phase 0 delivery %.3f %%, phase 1 %.3f %%", j.phase[0][0].value, j.phase[1][0].value);
    cr_assert_float_eq(j.phase[0][0].value, 100.0, 1e-9);
    cr_assert_float_eq(j.phase[1][0].value, 100.0, 1e-9);
    /* messages that never arrive stay the last phase's errors */
    ph[1].c.msgs_delivered = 1047;
    total.msgs_delivered = 1997;
    ctl_judge_sla(&sla, &total, NULL, NULL, 2, ph, 2, &j);
    cr_assert(j.breached);
    cr_assert(j.phase[0][0].holds);
    cr_assert(!j.phase[1][0].holds && !j.phase[1][1].holds);
    cr_assert_float_eq(j.phase[1][0].value, 100.0 * 1047 / 1050, 1e-9);
}
