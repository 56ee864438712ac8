/* SPDX-License-Identifier: MIT */
/*
 * outage: the end-of-run verdict on the silences of --netem outage= and
 * flap= — retransmissions, recovery time, messages delayed, connections
 * closed — judged from the per-second time series (timeseries.h).
 *
 * Time is seconds since generation began, control's clock. Each core
 * counts a silence from its own first pass of the load, a few
 * milliseconds at most after control's start; rows are one second long.
 * So a row counts as "before" a time t when it ends by t + CTL_OUTAGE_TOL_S
 * and as "after" it when it starts at t - CTL_OUTAGE_TOL_S or later.
 *
 * Baseline (one for the run): the rows that end by the first silence's
 * start (the first two skipped when there are more than two): the median
 * of their per-second p99 (rows that delivered something) and the largest
 * number of messages in flight at their ends. Limit: max(1.5 x baseline
 * p99, baseline p99 + 50 us), the spike recovery's.
 *
 * A silence [s, e) has recovered at the start of the first row that starts
 * after e (and before the next silence) in which the messages in flight at
 * its end are at most 2 x the baseline's + 1 and the p99 is within the
 * limit (or nothing was delivered); recovery_s = that start - e, at least
 * 0, to the row's resolution (a second). Its window runs from s to that
 * row's start, or without recovery to the next silence or the end of the
 * load. Over the window's rows: retransmissions (sctp_retransmissions),
 * messages delayed (delivered with latency above the limit, counted from
 * the per-second latency histograms by the run loop, ctl_ts.slow_ns).
 * Connections closed, and re-established (--consent): from s until the
 * next silence (the last silence: until the end of the run, drain
 * included).
 *
 * Pure functions of their inputs (ctl_outage_baseline allocates a scratch
 * array and frees it); the caller owns the output.
 */
#ifndef SWARMGEN_CONTROL_OUTAGE_H
#define SWARMGEN_CONTROL_OUTAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "run_image.h"
#include "timeseries.h"

#define CTL_OUTAGE_TOL_S 0.1

/* One link class's outage (one silence) or flap (a silence per cycle;
 * they are judged one by one and summed, the recovery the longest). */
struct ctl_outage {
    char name[16]; /* the class */
    bool flap;
    double start_s, end_s;     /* the first silence's start, the last's end (within the load) */
    uint32_t silences;         /* that began within the load */
    uint32_t recovered;        /* of them, recovered before the next silence or the end */
    double recovery_s;         /* the longest of the recovered ones' (valid when recovered > 0) */
    uint64_t retransmissions;  /* in the windows (above), summed */
    uint64_t messages_delayed; /* in the windows, summed (valid when have_delayed) */
    bool have_delayed;
    uint64_t connections_closed;
    uint64_t connections_reestablished; /* --consent: closed ones that came up again, counted as closed */
};

struct ctl_outages {
    bool have_baseline; /* a row of load before the first silence delivered something */
    double baseline_p99_us, limit_us, baseline_in_flight;
    uint32_t n;
    struct ctl_outage o[2 * RI_NETEM_CLASSES]; /* a class may have both */
};

/* The earliest silence start over the enabled classes with an outage or a
 * flap (seconds into the load); false when none has one. */
bool ctl_outage_first_start(const struct ri_netem *cls, uint32_t n_cls, double *start_s);

/* The baseline from the rows before `start_s` (above): false when none of
 * them delivered anything. */
bool ctl_outage_baseline(const struct ctl_ts *ts, double start_s, double *p99_us,
                         double *in_flight);

/* The latency limit for a baseline p99 (us). */
double ctl_outage_limit_us(double baseline_p99_us);

/* The verdict on every class's silences within `load_s` seconds of load
 * (`final_closed`, `final_reestablished`: conn_closed and
 * conn_reestablished at the end of the run). */
void ctl_judge_outages(const struct ri_netem *cls, uint32_t n_cls, const struct ctl_ts *ts, double load_s,
                       uint64_t final_closed, uint64_t final_reestablished, struct ctl_outages *out);

#endif
