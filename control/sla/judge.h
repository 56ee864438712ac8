/* SPDX-License-Identifier: MIT */
/*
 * judge: end-of-run verdicts — SLA thresholds per phase and overall, the
 * recovery time after a spike, memory growth during a soak.
 *
 * Inputs are the per-phase metric deltas (taken from snapshots at phase
 * boundaries) and the per-second time series. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_JUDGE_H
#define SWARMGEN_CONTROL_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "met_stats.h"
#include "outage.h"
#include "profile.h"
#include "sla.h"
#include "timeseries.h"

struct ctl_phase_stats {
    bool seen;                /* the run reached this phase */
    double seconds;           /* time spent in it */
    struct ri_counters c;     /* counters over the phase */
    uint64_t in_flight_start; /* messages sent before the phase, neither delivered nor dropped at its start */
    uint64_t in_flight_end;   /* the same at its end (0 for the last phase, closed after the drain) */
    struct met_hist *lat;     /* latency over the phase (owned) */
};

struct ctl_sla_verdict {
    bool have;                /* data existed for the metric */
    double value;
    bool holds;
};

struct ctl_judgement {
    bool sla_set;
    bool breached;                                         /* any rule failed anywhere */
    struct ctl_sla_verdict overall[CTL_SLA_MAX];
    struct ctl_sla_verdict phase[CTL_MAX_PHASES][CTL_SLA_MAX];
    bool has_spike, spike_recovered;
    double spike_recovery_s;  /* from the end of the spike until latency and rate recovered */
    double baseline_p99_us;   /* p99 before the spike */
    bool has_soak;
    double rss_growth_kib_per_min;  /* dataplane + control resident memory, least-squares slope */
    double rss_start_kib, rss_end_kib;
    struct ctl_outages outages; /* --netem outage= and flap= (outage.h); n == 0 without */
};

/* SLA inputs from counters, a latency histogram `h` over `seconds` and the
 * connection set-up time histogram `setup` (RI_SETUP_TOTAL, ns; NULL when
 * the run sets up no connections). The setup_* metrics have data only when
 * `setup` holds at least one connection. */
void ctl_sla_input_from(const struct ri_counters *c, const struct met_hist *h,
                        const struct met_hist *setup, double seconds, struct ctl_sla_input *in);

/* Judges every rule overall (`total`, `total_lat`, `setup`, `seconds`) and
 * per phase. Connections are set up in the connect phase, before the
 * profile's phases, so per phase the setup_* rules have no data. */
void ctl_judge_sla(const struct ctl_sla *sla, const struct ri_counters *total,
                   const struct met_hist *total_lat, const struct met_hist *setup, double seconds,
                   const struct ctl_phase_stats *phases, uint32_t n_phases,
                   struct ctl_judgement *j);

/* Spike recovery: the first second after the spike phase from which three
 * consecutive rows have p99 <= max(1.5 x baseline, baseline + 50 us) and
 * delivered >= 95 % of the target; baseline = median p99 of the phase before
 * the spike (its first two rows excluded when it has more than two). */
void ctl_judge_spike(const struct ctl_profile *p, const struct ctl_ts *ts, struct ctl_judgement *j);

/* Soak: least-squares slope of rss_kib[] (one sample per row, KiB) over
 * time, skipping the first tenth (start-up). */
void ctl_judge_soak(const struct ctl_ts *ts, const double *rss_kib, struct ctl_judgement *j);

#endif
