/* SPDX-License-Identifier: MIT */
/*
 * timeseries: one row per progress interval (normally a second) of a run,
 * kept by control for the CSV and HTML reports and the SLA judgement.
 *
 * Rows are appended by the run loop only; the array grows by doubling (slow
 * path, once a second). Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_TIMESERIES_H
#define SWARMGEN_CONTROL_TIMESERIES_H

#include <stddef.h>
#include <stdint.h>

#include "met_stats.h"
#include "run_image.h"

struct ctl_ts_row {
    double t_s;                 /* end of the interval, seconds since generation began */
    double dt_s;                /* interval length */
    uint32_t phase;             /* index into the profile's phases */
    double target_rate;         /* msgs/s asked of the dataplane at the end of the interval */
    double active_agents;       /* agents generating */
    double sent_per_s, delivered_per_s, pps, mbps;
    uint64_t sent, delivered;   /* cumulative */
    uint64_t interval_sent, interval_delivered, interval_lost; /* lost: dropped in flight */
    double p50_us, p95_us, p99_us, max_us; /* interval latency */
    uint32_t n_cores;
    double busy_pct[RI_MAX_WORKERS];
    /* what an outage's recovery is judged by (control/sla/outage.h) */
    uint64_t in_flight;         /* at the end: sent - delivered - dropped in flight (cumulative) */
    uint64_t retransmissions, conn_closed;          /* cumulative (sctp_retransmissions, conn_closed) */
    uint64_t interval_retransmissions, interval_closed, interval_reestablished;
    uint64_t reestablished;     /* cumulative (conn_reestablished) */
    uint64_t interval_slow;     /* delivered in the interval with latency above ctl_ts.slow_ns */
};

struct ctl_ts {
    struct ctl_ts_row *rows;
    size_t n, cap;
    uint64_t slow_ns; /* > 0: rows count interval_slow against it (set once, by the run loop) */
};

/* Appends a row computed from two consecutive snapshots; with ts->slow_ns
 * set, the row counts the interval's deliveries slower than it. Returns the row or
 * NULL on allocation failure. */
struct ctl_ts_row *ctl_ts_add(struct ctl_ts *ts, const struct ctl_snap *now,
                              const struct ctl_snap *before, double t_s, uint32_t phase,
                              double target_rate, double active_agents);

void ctl_ts_free(struct ctl_ts *ts);

/* Writes the rows as CSV with a header line; `phase_names[i]` names phase i.
 * Returns 0 or a negative errno. */
int ctl_ts_write_csv(const struct ctl_ts *ts, const char *const *phase_names, const char *path);

#endif
