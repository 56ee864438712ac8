/* SPDX-License-Identifier: MIT */
/*
 * report_merge_internal: the state of one `report --merge` shared by
 * report_merge.c (reading, checking and adding up the shard reports, the
 * summary, the verdict) and merge_json.c (the merged JSON report).
 */
#ifndef SWARMGEN_CONTROL_REPORT_MERGE_INTERNAL_H
#define SWARMGEN_CONTROL_REPORT_MERGE_INTERNAL_H

#include "json_read.h"
#include "report.h"
#include "report_merge.h"

struct ctl_merge {
    const struct ctl_merge_opts *o;
    struct jr_doc doc[CTL_MERGE_MAX];  /* the shard reports, parsed; doc[0] is the template */
    uint32_t n_loaded;
    bool dc;                           /* --traffic dc: set-up histograms present */
    uint32_t n_phases;                 /* profile phases (0: no profile in the reports) */
    struct met_hist *phase_lat;        /* n_phases merged phase latencies */
    bool *phase_have;                  /* n_phases: some shard reached the phase */
    /* the merged run, as the report writers take it */
    struct ctl_run_opts opts;
    struct ctl_topo_stats topo;
    struct ctl_snap final, gen_start;  /* summed counters and merged histograms; zero */
    struct ctl_sla sla;
    struct ctl_judgement judge;
    struct ctl_run_result r;
    struct ctl_run_figures g;          /* ctl_run_figures(&r) */
};

/* Writes the merged JSON report of `m` to `path`: the shape of a run
 * report (doc[0]'s keys in its order) with every figure merged, plus
 * "merged": {"shards", "inputs"}. Returns 0 or a negative errno. */
int ctl_merge_json(const struct ctl_merge *m, const char *path);

#endif
