/* SPDX-License-Identifier: MIT */
/*
 * report_html: the self-contained HTML report of a run (--html FILE).
 *
 * One file, inline CSS and inline SVG charts drawn here, no script and no
 * external resource: throughput and latency percentiles over time with the
 * phase boundaries, the latency CDF, per-core busy %, the connection set-up
 * time histogram and the degree distribution, plus the summary tables.
 */
#ifndef SWARMGEN_CONTROL_REPORT_HTML_H
#define SWARMGEN_CONTROL_REPORT_HTML_H

#include "report.h"

/* Writes the report for `r` to `path`. `setup` is the connection set-up
 * time histogram (ns), NULL when the run set up no connections. Returns 0
 * or a negative errno. */
int ctl_report_html(const char *path, const struct ctl_run_result *r, const struct met_hist *setup);

#endif
