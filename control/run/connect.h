/* SPDX-License-Identifier: MIT */
/*
 * connect: the figures of the connect phase (--traffic dc), when the
 * dataplane sets up one WebRTC peer connection per mesh edge before any
 * agent message is generated, and its progress line.
 *
 * Every figure is derived from the summed per-worker counters of a metrics
 * snapshot (include/run_image.h, struct ri_counters):
 *
 *   up          conn_established: connections that reached "both
 *               DataChannel ends open" (a connection that closed later
 *               still counts; conn_closed says how many did)
 *   failed      the sum of conn_attempt_failed[]: attempts that failed, in
 *               the stage they were in
 *   given up    conn_given_up: connections whose every attempt failed
 *   retried     failed - given up: failed attempts that were not a
 *               connection's last, so it was sent back for another try
 *               (the new attempt may still wait for a set-up slot)
 *   in set-up   attempts - up - failed (never below 0): attempts started
 *               that have neither succeeded nor failed yet
 *   settled     up + given up; the phase is over when it reaches the
 *               edge count
 *
 * Pure functions; no allocation. Not thread-safe (printing).
 */
#ifndef SWARMGEN_CONTROL_CONNECT_H
#define SWARMGEN_CONTROL_CONNECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "met_hist.h"
#include "run_image.h"

struct ctl_connect_figures {
    uint64_t total;                      /* connections to set up: the edges */
    uint64_t attempts;
    uint64_t up;
    uint64_t failed_stage[RI_STAGE_COUNT];
    uint64_t failed;                     /* sum of failed_stage */
    uint64_t given_up;
    uint64_t retried;
    uint64_t in_setup;
    uint64_t closed;
    uint64_t settled;                    /* up + given up */
};

/* The figures of counters `c` (summed over the workers) for `n_edges`
 * connections; n_edges 0 (--shard): the connections this shard counts,
 * c->conn_total. */
void ctl_connect_figures(const struct ri_counters *c, uint64_t n_edges,
                         struct ctl_connect_figures *f);

/* True when every connection is up or given up. */
bool ctl_connect_done(const struct ctl_connect_figures *f);

/* Seconds until every connection settles at the rate they settled between
 * `before` and `now` (over dt_s): remaining / that rate; 0 when all have,
 * -1 when none settled in the interval (no rate to go by). Pure. */
double ctl_connect_eta_s(const struct ctl_connect_figures *now, const struct ctl_connect_figures *before,
                         double dt_s);

/* The connect phase's deadline without --setup-timeout, ns after its
 * start: at least floor_ns (10 minutes), and twice what the whole phase
 * takes at the rate connections have settled so far (`settled` of `total`
 * in elapsed_ns), so that a large swarm that keeps coming up is not cut
 * short and a stalled one is not waited for for ever. The rate counts
 * from CTL_CONNECT_AUTO_AFTER_NS on; before, or with nothing settled,
 * floor_ns. Pure. */
#define CTL_CONNECT_AUTO_AFTER_NS 10000000000ull
uint64_t ctl_connect_auto_deadline_ns(uint64_t floor_ns, uint64_t elapsed_ns, uint64_t settled, uint64_t total);

/* ctl_connect_eta_s as text into buf: "42s", "12m05s", "2.5h", "-" when
 * unknown. */
void ctl_connect_eta(const struct ctl_connect_figures *now, const struct ctl_connect_figures *before,
                     double dt_s, char *buf, size_t len);

/* Prints one progress line:
 *
 *   connect    [#####.....] 2000/4123 up (48.5%)  280 conn/s  ETA 8s  failed 0  retried 3  in set-up 64  p50 310ms p99 900ms
 *
 * The bar is settled / total; "failed" is the connections given up (their
 * every attempt failed), "retried" the failed attempts that got another
 * try, so an attempt that failed is counted in exactly one of them once
 * the connection settles; conn/s is the connections that came up
 * between `before` and `now` over `dt_s`; ETA is ctl_connect_eta; p50/p99 are the RI_SETUP_TOTAL
 * times of those connections (`interval`, "-" when none came up). */
void ctl_connect_progress(FILE *out, const struct ctl_connect_figures *now,
                          const struct ctl_connect_figures *before, double dt_s,
                          const struct met_hist *interval);

#endif
