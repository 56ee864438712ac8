/* SPDX-License-Identifier: MIT */
/*
 * report_relay: --relay (docs/turn.md) in the summary and the JSON report:
 * the server, per-stage attempts / successes / failures (allocate,
 * permission, channel, refresh, close), failures by TURN error code,
 * allocations per second, relayed packets and Mbit/s both ways, and the
 * round trip to the server (TURN transactions not retransmitted)
 * p50/p95/p99. Read from the image's RELAY section once the dataplane has
 * exited. Nothing without --relay.
 */
#ifndef SWARMGEN_CONTROL_REPORT_RELAY_H
#define SWARMGEN_CONTROL_REPORT_RELAY_H

#include <stdio.h>

#include "json.h"
#include "report.h"

/* Allocations per second: those granted over the time from the first
 * Allocate to the last grant (0 when none). Pure. */
double ctl_relay_alloc_per_s(const struct ri_relay *x);

void ctl_report_relay_summary(FILE *f, const struct ctl_run_result *r);
void ctl_report_relay_json(struct json_writer *w, const struct ctl_run_result *r);

#endif
