/* SPDX-License-Identifier: MIT */
#include "judge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ctl_sla_input_from(const struct ri_counters *c, const struct met_hist *h,
                        const struct met_hist *setup, double seconds, struct ctl_sla_input *in)
{
    memset(in, 0, sizeof(*in));
    in->sent = c->msgs_sent;
    in->delivered = c->msgs_delivered;
    in->errors = c->msgs_sent > c->msgs_delivered ? c->msgs_sent - c->msgs_delivered : 0;
    in->seconds = seconds;
    in->have_latency = h && met_hist_total(h) > 0;
    if (in->have_latency) {
        in->latency_ns[SLA_P50] = (double)met_hist_percentile(h, 50);
        in->latency_ns[SLA_P90] = (double)met_hist_percentile(h, 90);
        in->latency_ns[SLA_P95] = (double)met_hist_percentile(h, 95);
        in->latency_ns[SLA_P99] = (double)met_hist_percentile(h, 99);
        in->latency_ns[SLA_P999] = (double)met_hist_percentile(h, 99.9);
        in->latency_ns[SLA_MAX] = (double)met_hist_percentile(h, 100);
    }
    in->have_setup = setup && met_hist_total(setup) > 0;
    if (in->have_setup) {
        in->latency_ns[SLA_SETUP_P50] = (double)met_hist_percentile(setup, 50);
        in->latency_ns[SLA_SETUP_P95] = (double)met_hist_percentile(setup, 95);
        in->latency_ns[SLA_SETUP_P99] = (double)met_hist_percentile(setup, 99);
    }
}

static void verdict(const struct ctl_sla_rule *rule, const struct ctl_sla_input *in,
                    struct ctl_sla_verdict *v, bool *breached)
{
    v->have = ctl_sla_value(rule, in, &v->value);
    v->holds = v->have ? ctl_sla_holds(rule, v->value) : true;
    if (!v->holds)
        *breached = true;
}

void ctl_judge_sla(const struct ctl_sla *sla, const struct ri_counters *total,
                   const struct met_hist *total_lat, const struct met_hist *setup, double seconds,
                   const struct ctl_phase_stats *phases, uint32_t n_phases,
                   struct ctl_judgement *j)
{
    j->sla_set = sla->n > 0;
    j->breached = false;
    struct ctl_sla_input in;
    ctl_sla_input_from(total, total_lat, setup, seconds, &in);
    for (uint32_t r = 0; r < sla->n; r++)
        verdict(&sla->rule[r], &in, &j->overall[r], &j->breached);
    for (uint32_t p = 0; p < n_phases && p < CTL_MAX_PHASES; p++) {
        if (!phases[p].seen)
            continue;
        ctl_sla_input_from(&phases[p].c, phases[p].lat, NULL, phases[p].seconds, &in);
        /* delivery and errors of a phase are over the messages whose fate
         * was decided in it: those in flight at its start (sent before)
         * come in, those still in flight at its end go to the next phase */
        uint64_t decided = phases[p].c.msgs_sent + phases[p].in_flight_start;
        decided = decided > phases[p].in_flight_end ? decided - phases[p].in_flight_end : 0;
        in.sent = decided;
        in.errors = decided > in.delivered ? decided - in.delivered : 0;
        for (uint32_t r = 0; r < sla->n; r++)
            verdict(&sla->rule[r], &in, &j->phase[p][r], &j->breached);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void ctl_judge_spike(const struct ctl_profile *p, const struct ctl_ts *ts, struct ctl_judgement *j)
{
    j->has_spike = false;
    for (uint32_t s = 0; s < p->n; s++) {
        if (p->phase[s].kind != CTL_PHASE_SPIKE)
            continue;
        j->has_spike = true;
        j->spike_recovered = false;
        double spike_end = (double)(ctl_profile_phase_start(p, s) + p->phase[s].duration_ns) / 1e9;
        /* baseline: the phase before the spike */
        double *v = malloc((ts->n + 1) * sizeof(double));
        size_t nv = 0, in_phase = 0;
        for (size_t i = 0; v && i < ts->n; i++)
            in_phase += s > 0 && ts->rows[i].phase == s - 1;
        /* skip the first two seconds of the phase when it has more to offer */
        size_t skip = in_phase > 2 ? 2 : 0, seen = 0;
        for (size_t i = 0; v && i < ts->n; i++) {
            if (s == 0 || ts->rows[i].phase != s - 1)
                continue;
            if (seen++ >= skip && ts->rows[i].interval_delivered)
                v[nv++] = ts->rows[i].p99_us;
        }
        if (nv == 0) {
            free(v);
            return;
        }
        qsort(v, nv, sizeof(double), cmp_double);
        double base = v[nv / 2];
        free(v);
        j->baseline_p99_us = base;
        double limit = fmax(1.5 * base, base + 50.0);
        for (size_t i = 0; i < ts->n; i++) {
            if (ts->rows[i].t_s <= spike_end + 1e-9)
                continue;
            size_t ok = 0;
            for (size_t k = i; k < ts->n && k < i + 3; k++) {
                const struct ctl_ts_row *r = &ts->rows[k];
                if (r->p99_us <= limit && r->delivered_per_s >= 0.95 * r->target_rate)
                    ok++;
            }
            if (ok == 3) {
                j->spike_recovered = true;
                /* the row covers (t - dt, t]: recovery began at its start */
                j->spike_recovery_s = fmax(0, ts->rows[i].t_s - ts->rows[i].dt_s - spike_end);
                return;
            }
        }
        return;
    }
}

void ctl_judge_soak(const struct ctl_ts *ts, const double *rss_kib, struct ctl_judgement *j)
{
    j->has_soak = true;
    size_t skip = ts->n / 10;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    size_t n = 0;
    for (size_t i = skip; i < ts->n; i++) {
        double x = ts->rows[i].t_s / 60.0, y = rss_kib[i];
        sx += x, sy += y, sxx += x * x, sxy += x * y;
        n++;
    }
    j->rss_start_kib = ts->n ? rss_kib[skip < ts->n ? skip : 0] : 0;
    j->rss_end_kib = ts->n ? rss_kib[ts->n - 1] : 0;
    double den = (double)n * sxx - sx * sx;
    j->rss_growth_kib_per_min = n >= 2 && den > 0 ? ((double)n * sxy - sx * sy) / den : 0;
}
