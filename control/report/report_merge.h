/* SPDX-License-Identifier: MIT */
/*
 * report_merge: `swarmgen report --merge A.json B.json [C.json ...]` — one
 * report for a swarm that ran as several shards, each a `swarmgen run`
 * that wrote its JSON report with --report.
 *
 * Counters that are sums are summed; durations take the longest shard;
 * rates, the delivery rate and per-agent figures are derived again from the
 * sums by the run's own code (ctl_run_figures); latency and set-up
 * histograms are added bucket by bucket (met_hist_merge) from the exact
 * histograms every report carries, so merged percentiles are those of one
 * run that measured every message. SLA rules (--sla, or the inputs' own)
 * are judged on the merged figures.
 *
 * Exit codes, as `swarmgen run`: 0 done, 1 an SLA rule breached or an
 * output could not be written, 130 a shard was interrupted (and no rule
 * breached), 2 bad input: one line on stderr naming the file or flag — a
 * file missing, unreadable, not JSON, not a swarmgen report, without
 * histograms (written before them), of another histogram layout, or of
 * another swarm (topology, seed, agents, traffic, profile) — or the same
 * file given twice. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_REPORT_MERGE_H
#define SWARMGEN_CONTROL_REPORT_MERGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_MERGE_MAX 64 /* shard reports in one merge */

struct ctl_merge_opts {
    const char *input[CTL_MERGE_MAX]; /* the shard reports, in the order given */
    uint32_t n;                       /* 2..CTL_MERGE_MAX */
    const char *report_path;          /* --report: the merged JSON (NULL: none) */
    const char *html_path;            /* --html: the merged HTML page (NULL: none) */
    const char *sla_text;             /* --sla rules (NULL: those of the inputs, if any) */
    FILE *out, *err; /* the summary; the lines of bad input (NULL: stdout, stderr) */
};

/* Merges o->input[] and prints the summary on o->out, writes the reports
 * asked for. Returns the exit code (above); bad input prints its one line
 * on o->err first. Never exits. */
int ctl_report_merge(const struct ctl_merge_opts *o);

/* `swarmgen report --merge ...` from the command line (argv[0] is
 * "report"). Bad flags exit 2 through cli_fail(); returns the exit code of
 * ctl_report_merge(). */
int ctl_report_merge_main(int argc, char **argv);

#endif
