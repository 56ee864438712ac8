/* SPDX-License-Identifier: MIT */
/*
 * report_mem: the memory of a run by category (dataplane/dp_mem.h's list)
 * as the dataplane measured it and as control planned it, for the summary
 * and the JSON report; the JSON report of `--dry-run`; busy cycles per
 * delivered message. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_REPORT_MEM_H
#define SWARMGEN_CONTROL_REPORT_MEM_H

#include <stdint.h>
#include <stdio.h>

#include "dp_mem.h"
#include "json.h"
#include "report.h"

/* The measured bytes by enum dp_mem_cat: the command block's figures, the
 * routes and the rest of the run image, the mbuf pool and the rest of
 * DPDK's heap. Categories the dataplane does not report read 0. */
void ctl_report_mem_measured(const struct ctl_run_result *r, uint64_t bytes[DP_MEM_COUNT]);

/* Connections up at the end (--traffic dc), 0 otherwise. */
uint64_t ctl_report_conn_up(const struct ctl_run_result *r);

/* The two memory lines of the summary: the total, per agent, connection
 * state per connection up and the plan's total beside it; then each
 * category. */
void ctl_report_mem_summary(FILE *f, const struct ctl_run_result *r, const struct ctl_run_figures *g);

/* The "memory" object of the JSON report: totals, per agent, per
 * connection, "categories" measured and "planned" (null without a plan). */
void ctl_report_mem_json(struct json_writer *w, const struct ctl_run_result *r, const struct ctl_run_figures *g);

/* --dry-run --report: the plan as JSON (agents, topology, destinations,
 * memory.planned). Returns 0 or a negative errno. */
int ctl_report_plan_json(const char *path, const struct ctl_run_result *r);

/* Busy TSC cycles per message delivered since generation began, of worker
 * w (0..n_workers-1), or of all workers together for w == UINT32_MAX (the
 * cycles of every core per delivered message); 0 when none was delivered. */
double ctl_report_cycles_per_msg(const struct ctl_run_result *r, uint32_t w);

#endif
