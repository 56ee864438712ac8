/* SPDX-License-Identifier: MIT */
/*
 * report_merge_internal: the state of one `report --merge` and the steps
 * that share it: merge_load.c reads and checks the shard reports,
 * merge_sum.c adds them up, report_merge.c judges and prints, merge_json.c
 * writes the merged JSON report. Tests may include it.
 */
#ifndef SWARMGEN_CONTROL_REPORT_MERGE_INTERNAL_H
#define SWARMGEN_CONTROL_REPORT_MERGE_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "json_read.h"
#include "report.h"
#include "report_merge.h"

struct ctl_merge {
    const struct ctl_merge_opts *o;
    struct jr_doc doc[CTL_MERGE_MAX]; /* the shard reports, parsed; doc[0] is the template */
    uint32_t n_loaded;
    bool dc;                    /* --traffic dc: set-up histograms present */
    uint32_t n_phases;          /* profile phases (0: no profile in the reports) */
    struct met_hist *phase_lat; /* n_phases merged phase latencies */
    bool *phase_have;           /* n_phases: some shard reached the phase */
    /* the merged run, as the report writers take it */
    struct ctl_run_opts opts;
    struct ctl_topo_stats topo;
    struct ctl_snap final, gen_start; /* summed counters and merged histograms; zero */
    struct ctl_sla sla;
    struct ctl_judgement judge;
    struct ctl_run_result r;
    struct ctl_run_figures g; /* ctl_run_figures(&r) */
    /* reports of `swarmgen run --shard I/N`: N, and which shards are missing
     * (no report given) or went away during the run (their report, if any,
     * ends early) */
    uint32_t shard_count;
    uint64_t shard_missing[16];
};

/* The stream bad input is told on: o->err, stderr when NULL. */
FILE *ctl_merge_err(const struct ctl_merge_opts *o);

/* One line "swarmgen: --merge: PATH: reason" on ctl_merge_err(o).
 * Returns exit code 2, for the caller to return. */
int ctl_merge_bad_input(const struct ctl_merge_opts *o, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when node a of da and node b of db are both missing, or both
 * written the same (type and text; flags by value). */
bool ctl_merge_same_value(const struct jr_doc *da, int a, const struct jr_doc *db, int b);

/* merge_load.c: reads every input into m->doc[] and checks that each is a
 * run report with histograms of this build's layout, a shard of the same
 * swarm as input 0, and not a file given before. Returns 0 or exit code 2
 * (the line told). */
int ctl_merge_load(struct ctl_merge *m);

/* merge_sum.c: adds the loaded inputs up into m->r (m->final, m->opts,
 * m->topo, ...) and derives m->g with ctl_run_figures(). Returns 0 or exit
 * code 2 (a histogram that does not read, out of memory). */
int ctl_merge_add_up(struct ctl_merge *m);

/* Writes the merged JSON report of `m` to `path`: the shape of a run
 * report (doc[0]'s keys in its order) with every figure merged, plus
 * "merged": {"shards", "inputs"}. Returns 0 or a negative errno. */
int ctl_merge_json(const struct ctl_merge *m, const char *path);

#endif
