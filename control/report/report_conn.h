/* SPDX-License-Identifier: MIT */
/*
 * report_conn: the peer-connection part of the end-of-run summary and of the
 * JSON report (--traffic dc): connections and their set-up times, SCTP,
 * SRTP, media, signatures, and the traffic settings (every run).
 *
 * Figures come from the final snapshot (r->final: counters summed over the
 * workers, merged set-up histograms) and the connect-phase measurements in
 * the run result. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_REPORT_CONN_H
#define SWARMGEN_CONTROL_REPORT_CONN_H

#include <stdio.h>

#include "json.h"
#include "report.h"

/* The `connections`, `sctp`, `srtp`, `media`, `dc_msgs` and
 * `signature_failures` keys (dc only) and `traffic` (always) into the
 * report object being written by `w`. */
void ctl_report_conn_json(struct json_writer *w, const struct ctl_run_result *r);

/* The memory keys of peer connections (dc only) into the `memory` object. */
void ctl_report_conn_memory_json(struct json_writer *w, const struct ctl_run_result *r);

/* The summary lines `connections`, `sctp`, `media`, `srtp`, `signature`
 * (dc only; sctp and signature lines when there is something to say). */
void ctl_report_conn_summary(FILE *f, const struct ctl_run_result *r);

#endif
