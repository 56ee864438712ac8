/* SPDX-License-Identifier: MIT */
/*
 * report_sides: the two sides of a run through a device under test
 * (--side-a/--side-b, docs/sides.md) in the summary and the JSON report:
 * each side's port (frames and bytes both ways, ARP, its gateway) and
 * each direction's messages and latency; the HTML report's tables of it;
 * and with --shard I/N this shard's part (its link, the halves of the
 * other shards' connections, the messages from them). Nothing without two sides.
 */
#ifndef SWARMGEN_CONTROL_REPORT_SIDES_H
#define SWARMGEN_CONTROL_REPORT_SIDES_H

#include <stdio.h>

#include "json.h"
#include "report.h"

void ctl_report_sides_summary(FILE *f, const struct ctl_run_result *r);
void ctl_report_sides_json(struct json_writer *w, const struct ctl_run_result *r);
void ctl_report_sides_html(FILE *f, const struct ctl_run_result *r);

#endif
