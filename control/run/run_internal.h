/* SPDX-License-Identifier: MIT */
/*
 * run_internal: what the two halves of `swarmgen run` share — run.c (the
 * set-up before the dataplane is ready and the end: verdicts, reports) and
 * run_loop.c (the live part: the dataplane's start, the connect phase,
 * generation, drain, stop). Not thread-safe: the main thread only.
 */
#ifndef SWARMGEN_CONTROL_RUN_INTERNAL_H
#define SWARMGEN_CONTROL_RUN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barrier.h"
#include "dp_launch.h"
#include "external.h"
#include "image.h"
#include "judge.h"
#include "mem_plan.h"
#include "met_stats.h"
#include "report_agents.h"
#include "profile.h"
#include "prom.h"
#include "report.h"
#include "report_target.h"
#include "run_opts.h"
#include "sla.h"
#include "target.h"
#include "timeseries.h"
#include "topo.h"
#include "topo_analysis.h"

#define CTL_SEC_NS 1000000000ull

/* The snapshots a run keeps (struct ctl_run.snap). */
enum {
    CTL_SNAP_TICK,      /* the previous progress tick */
    CTL_SNAP_CUR,       /* the one being taken; the final figures at the end */
    CTL_SNAP_BOUND,     /* the start of the running profile phase */
    CTL_SNAP_GEN_START, /* when generation began */
    CTL_SNAPS
};

/* Everything one run owns (run.c releases it). */
struct ctl_run {
    struct ctl_run_opts o;
    struct ctl_profile profile;
    struct ctl_sla sla;
    struct ctl_graph g;
    bool have_graph;
    struct ctl_topo_stats stats;
    bool have_stats;
    struct ri_config cfg; /* what the image's CONFIG section says */
    struct ctl_mem_plan plan; /* the memory it will take (mem_plan.h) */
    struct ctl_image img;
    struct ctl_agents agents; /* the per-agent view, read after the workers stopped */
    struct ri_command *cmd; /* the image's command block */
    struct ctl_dp dp;
    struct ctl_run_result r;
    struct ctl_snap snap[CTL_SNAPS];
    struct met_hist *setup_interval; /* connect phase: set-up times of one second */
    uint32_t cur_phase;              /* profile phase running (valid when generating) */
    bool generating;                 /* generation began (the profile runs) */
    struct ctl_phase_stats phase[CTL_MAX_PHASES];
    struct ctl_ts ts;
    double *rss; /* one sample per ts row */
    size_t rss_cap;
    struct ctl_judgement judge;
    struct ctl_prom prom;
    bool prom_on;
    struct ctl_external ext; /* --external: the WHIP server and the sessions' figures */
    struct ctl_target *target;          /* --target: the target thread (NULL: none) */
    struct ctl_target_config target_cfg;
    struct ctl_target_view target_view; /* what the report reads of it */
    struct ctl_barrier barrier; /* --shard: where the shards meet (barrier.h) */
    char barrier_err[320];      /* why a barrier failed ("" when none did) */
    bool shard_gone;            /* a shard went away during the run */
    bool stopped_together;      /* --shard: the stop barrier was met: the quiet one follows */
};

/* The merged connection set-up time histogram of `s`, NULL without
 * connections (--traffic udp). */
static inline const struct met_hist *ctl_run_setup_hist(const struct ctl_run *x,
                                                        const struct ctl_snap *s)
{
    return x->o.traffic == RI_TRAFFIC_DC ? &s->setup[RI_SETUP_TOTAL] : NULL;
}

/* ---- run_loop.c ---- */

/* Ctrl-C and SIGTERM end the run cleanly (the reports are still written);
 * SIGPIPE is ignored. */
void ctl_run_catch_signals(void);

/* Starts the dataplane and waits for it to leave STARTING (x->r.dp_setup_s
 * measures both). Returns 0 when it is READY, or the exit code: 1 when it
 * failed (the cause printed), 130 when interrupted; the process is reaped
 * in both cases. */
int ctl_run_start_dataplane(struct ctl_run *x);

/* The live run: the connect phase (--traffic dc), generation following the
 * profile with progress once a second, the drain, then the stop and the
 * final snapshot (x->r.final). Returns 0, or 1 when the dataplane failed or
 * died (the cause printed); x->r.interrupted says whether Ctrl-C ended it. */
int ctl_run_live(struct ctl_run *x);

#endif
