/* SPDX-License-Identifier: MIT */
#include "outage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The k-th silence of class c's outage (flap false) or flap: [*s, *e). */
static void silence(const struct ri_netem *c, bool flap, uint64_t k, double *s, double *e)
{
    if (!flap) {
        *s = (double)c->outage_at_ns / 1e9;
        *e = *s + (double)c->outage_ns / 1e9;
        return;
    }
    double cycle = (double)(c->flap_up_ns + c->flap_down_ns) / 1e9;
    *s = (double)k * cycle + (double)c->flap_up_ns / 1e9;
    *e = *s + (double)c->flap_down_ns / 1e9;
}

static bool has(const struct ri_netem *c, bool flap)
{
    return c->enabled && (flap ? c->flap_down_ns != 0 : c->outage_ns != 0);
}

bool ctl_outage_first_start(const struct ri_netem *cls, uint32_t n_cls, double *start_s)
{
    bool any = false;
    for (uint32_t i = 0; i < n_cls; i++)
        for (int f = 0; f < 2; f++) {
            if (!has(&cls[i], f))
                continue;
            double s, e;
            silence(&cls[i], f, 0, &s, &e);
            if (!any || s < *start_s)
                *start_s = s;
            any = true;
        }
    return any;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double row_start(const struct ctl_ts_row *r)
{
    return r->t_s - r->dt_s;
}

bool ctl_outage_baseline(const struct ctl_ts *ts, double start_s, double *p99_us, double *in_flight)
{
    size_t before = 0;
    while (before < ts->n && ts->rows[before].t_s <= start_s + CTL_OUTAGE_TOL_S)
        before++;
    size_t skip = before > 2 ? 2 : 0, nv = 0;
    double *v = malloc((before + 1) * sizeof(double));
    if (!v)
        return false;
    double level = 0;
    for (size_t i = skip; i < before; i++) {
        if (ts->rows[i].interval_delivered)
            v[nv++] = ts->rows[i].p99_us;
        level = fmax(level, (double)ts->rows[i].in_flight);
    }
    if (nv) {
        qsort(v, nv, sizeof(double), cmp_double);
        *p99_us = v[nv / 2];
        *in_flight = level;
    }
    free(v);
    return nv > 0;
}

double ctl_outage_limit_us(double baseline_p99_us)
{
    return fmax(1.5 * baseline_p99_us, baseline_p99_us + 50.0);
}

/* Judges one silence [s, e), the next one starting at `next` (INFINITY:
 * none), into o. */
static void judge_one(const struct ctl_outages *out, const struct ctl_ts *ts, double s, double e,
                      double next, uint64_t final_closed, uint64_t final_re, struct ctl_outage *o)
{
    /* the recovery row */
    size_t rec = ts->n;
    if (out->have_baseline)
        for (size_t i = 0; i < ts->n && rec == ts->n; i++) {
            const struct ctl_ts_row *r = &ts->rows[i];
            if (row_start(r) < e - CTL_OUTAGE_TOL_S)
                continue;
            if (r->t_s > next + CTL_OUTAGE_TOL_S)
                break;
            if ((double)r->in_flight <= 2 * out->baseline_in_flight + 1 &&
                (r->interval_delivered == 0 || r->p99_us <= out->limit_us))
                rec = i;
        }
    if (rec < ts->n) {
        double t = fmax(0, row_start(&ts->rows[rec]) - e);
        o->recovery_s = o->recovered ? fmax(o->recovery_s, t) : t;
        o->recovered++;
    }
    /* the window's rows: from s to the recovery row, or the next silence */
    uint64_t last_closed = 0, last_re = 0;
    bool to_the_end = true; /* the window reaches the last row */
    for (size_t i = 0; i < ts->n; i++) {
        const struct ctl_ts_row *r = &ts->rows[i];
        if (r->t_s <= s + CTL_OUTAGE_TOL_S) {
            last_closed = r->conn_closed;
            last_re = r->reestablished;
            continue;
        }
        if (r->t_s > next + CTL_OUTAGE_TOL_S) {
            to_the_end = false;
            break;
        }
        o->connections_closed += r->interval_closed;
        o->connections_reestablished += r->interval_reestablished;
        last_closed = r->conn_closed;
        last_re = r->reestablished;
        if (i < rec) {
            o->retransmissions += r->interval_retransmissions;
            o->messages_delayed += r->interval_slow;
        }
    }
    /* the last silence: what closed after the last row (the drain) too */
    if (to_the_end && isinf(next) && ts->n) {
        if (final_closed > last_closed)
            o->connections_closed += final_closed - last_closed;
        if (final_re > last_re)
            o->connections_reestablished += final_re - last_re;
    }
}

void ctl_judge_outages(const struct ri_netem *cls, uint32_t n_cls, const struct ctl_ts *ts, double load_s,
                       uint64_t final_closed, uint64_t final_re, struct ctl_outages *out)
{
    memset(out, 0, sizeof(*out));
    double first;
    if (!ctl_outage_first_start(cls, n_cls, &first))
        return;
    out->have_baseline =
        ctl_outage_baseline(ts, first, &out->baseline_p99_us, &out->baseline_in_flight);
    if (out->have_baseline)
        out->limit_us = ctl_outage_limit_us(out->baseline_p99_us);
    for (uint32_t c = 0; c < n_cls; c++)
        for (int f = 0; f < 2; f++) {
            if (!has(&cls[c], f))
                continue;
            struct ctl_outage *o = &out->o[out->n++];
            memcpy(o->name, cls[c].name, sizeof(o->name));
            o->name[sizeof(o->name) - 1] = '\0';
            o->flap = f;
            /* the delayed count is only as good as the limit the rows counted against */
            o->have_delayed =
                out->have_baseline && ts->slow_ns == (uint64_t)llround(out->limit_us * 1e3);
            double s, e;
            silence(&cls[c], f, 0, &s, &e);
            o->start_s = s;
            for (uint64_t k = 0; s < load_s; k++) {
                double ns, ne;
                silence(&cls[c], f, k + 1, &ns, &ne);
                judge_one(out, ts, s, e, f && ns < load_s ? ns : INFINITY, final_closed, final_re, o);
                o->silences++;
                o->end_s = e;
                if (!f)
                    break;
                s = ns;
                e = ne;
            }
        }
}
