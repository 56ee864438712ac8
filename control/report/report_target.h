/* SPDX-License-Identifier: MIT */
/*
 * report_target: target mode (--target, control/target/target.h) in the
 * summary, the JSON report (`target`), the HTML report (a table per stage
 * and the joins over time) and the per-client CSV (--clients-csv). Reads
 * the run image's TARGET section (the dataplane's figures per session and
 * in total) and what control's target thread recorded (signalling, HTTP).
 * Call after the dataplane stopped for final figures. Main thread.
 */
#ifndef SWARMGEN_CONTROL_REPORT_TARGET_H
#define SWARMGEN_CONTROL_REPORT_TARGET_H

#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "run_image.h"
#include "target.h"

/* What the report reads of a target-mode run. */
struct ctl_target_view {
    const struct ctl_target_config *cfg;
    const struct ri_target *t;              /* the image's TARGET section */
    const struct ctl_target_results *res;   /* control's side (target thread) */
    uint8_t dtls_versions;                  /* --external-dtls (RI_DTLS_*): what the sessions offered */
};

/* Per-stage figures: signal (control), then the dataplane's stages. */
#define CTL_TGT_STAGES (1 + RI_STAGE_COUNT)
struct ctl_target_stage {
    uint64_t attempted, established, failed;
};

/* Counts the stages from the slots (and control's signalling figures):
 * a session that failed in stage s established every stage before s;
 * one up (or closed after it was up) established them all. */
void ctl_target_stages(const struct ctl_target_view *v, struct ctl_target_stage st[CTL_TGT_STAGES]);

/* The stage names in that order: "signal", "ice", "dtls", "sctp", "datachannel". */
const char *ctl_target_stage_name(int i);

void ctl_report_target_summary(FILE *f, const struct ctl_target_view *v);
void ctl_report_target_json(struct json_writer *w, const struct ctl_target_view *v);
/* The tables (the joins chart is report_html.c's). */
void ctl_report_target_html(FILE *f, const struct ctl_target_view *v);

/* --clients-csv: one row per session (agent), a header line first.
 * 0, or a negative errno (the file could not be written). */
int ctl_report_target_csv(const char *path, const struct ctl_target_view *v);

#endif
