/* SPDX-License-Identifier: MIT */
/*
 * met_stats: control-side arithmetic on met_hist histograms and the
 * lock-free snapshot protocol of the metrics blocks.
 *
 * Percentiles follow the nearest-rank definition: the p-th percentile of n
 * values is the smallest recorded value v with at least ceil(p/100 * n)
 * values <= v; it is reported as the midpoint of v's bucket (exact below
 * 256), capped at the recorded maximum, so it is within 0.4 % of the exact
 * value; the 100th percentile is the recorded maximum itself. Not thread-safe; no allocation except ctl_snap_init/free.
 */
#ifndef SWARMGEN_CONTROL_MET_STATS_H
#define SWARMGEN_CONTROL_MET_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "met_hist.h"
#include "run_image.h"

/* Sum of the bucket counts (the population percentiles are taken over). */
uint64_t met_hist_total(const struct met_hist *h);

/* The p-th percentile (0 < p <= 100) or 0 for an empty histogram. */
uint64_t met_hist_percentile(const struct met_hist *h, double p);

/* How many values lie in buckets above the bucket of `v`: the values
 * greater than v, exact to the bucket's width (under 0.8 % of v). */
uint64_t met_hist_count_above(const struct met_hist *h, uint64_t v);

/* dst += src (counts, sums; max is the larger). */
void met_hist_merge(struct met_hist *dst, const struct met_hist *src);

/* out = now - before, for two snapshots of the same histogram (before taken
 * first). max is an upper bound for the interval: the top of its highest
 * non-empty bucket (within 0.8 %), or `now`'s max when that is lower; 0
 * when the interval is empty. */
void met_hist_delta(struct met_hist *out, const struct met_hist *now, const struct met_hist *before);

/* Counters: dst += src, and out = now - before. */
void met_counters_merge(struct ri_counters *dst, const struct ri_counters *src);
void met_counters_delta(struct ri_counters *out, const struct ri_counters *now,
                        const struct ri_counters *before);

/* The report name of drop reason `reason` (enum ri_drop, from the
 * RI_DROP_REASONS list), "?" out of range. Pure. */
const char *ctl_drop_name(uint32_t reason);

/* The report name of connection set-up stage `stage` (RI_STAGES: "ice",
 * "dtls", ...), "?" out of range. Pure. */
const char *ctl_stage_name(uint32_t stage);

/* Per-version figure i (RI_DTLS_VERSIONS, ri_dtls_index): its name for
 * people ("1.2", "1.3") and its JSON key ("v1_2", "v1_3": no dot, report
 * paths join members with dots); "?" out of range. Pure. */
const char *ctl_dtls_name(uint32_t i);
const char *ctl_dtls_key(uint32_t i);

/* What --dtls / --external-dtls bits (RI_DTLS_*, 0 auto) offer: "1.2",
 * "1.3", "auto"; "?" for bits out of range. Pure. */
const char *ctl_dtls_offer_name(uint8_t bits);

/* The report key of set-up histogram k (RI_SETUP_HISTS): a stage's name,
 * "total", "dtls_v1_2", "dtls_v1_3"; "?" out of range. Pure. */
const char *ctl_setup_hist_name(uint32_t k);

/* Control's CLOCK_MONOTONIC in ns: the clock of ctl_snap.mono_ns and of
 * every duration control measures. Thread-safe. */
uint64_t ctl_mono_ns(void);

/* A consistent copy of every worker's block and their sum. */
struct ctl_snap {
    uint32_t n_workers;
    uint64_t mono_ns;                 /* control's CLOCK_MONOTONIC at the copy */
    struct ri_counters *worker;       /* n_workers */
    struct met_hist *worker_latency;  /* n_workers */
    struct ri_counters total;
    struct met_hist latency;          /* merged */
    struct met_hist setup[RI_SETUP_HISTS]; /* merged set-up times per stage, RI_SETUP_TOTAL, per DTLS version (ns) */
    struct met_hist dir_latency[2];   /* two sides: merged latency per direction (A->B, B->A) */
    struct met_hist resetup;          /* --churn: merged re-set-up times (ns) */
    struct met_hist *scratch;         /* one worker's set-up histogram on its way to the sum */
};

int ctl_snap_init(struct ctl_snap *s, uint32_t n_workers); /* 0 or -ENOMEM */
void ctl_snap_free(struct ctl_snap *s);

/* Copies every figure of `src` into `dst` (both from ctl_snap_init with the
 * same worker count; dst keeps its own arrays). */
void ctl_snap_copy(struct ctl_snap *dst, const struct ctl_snap *src);

/* Takes a snapshot of `blocks`. When `live` is false, increments
 * cmd->snap_req and waits (up to timeout_ns) for every worker to publish it;
 * returns -ETIMEDOUT when one does not (its block is then read live).
 * When `live` is true (workers stopped), reads the live counters directly.
 * Returns 0 or -ETIMEDOUT; `s` is filled in both cases. */
int ctl_snap_take(struct ctl_snap *s, struct ri_command *cmd, const struct ri_metrics *blocks,
                  bool live, uint64_t timeout_ns);

#endif
