/* SPDX-License-Identifier: MIT */
/*
 * The checks every peer-connection system test makes of a run's JSON
 * report, whatever the backend: every connection up, and every reliable
 * message delivered. Header-only, for tests/system.
 */
#ifndef SWARMGEN_TESTS_SWARM_ASSERT_H
#define SWARMGEN_TESTS_SWARM_ASSERT_H

#include <criterion/criterion.h>

#include "proc.h"

/* Every connection established, none given up, a set-up time measured. */
static inline void swarm_assert_all_up(const char *json, const struct proc_result *r)
{
    double total = proc_json_in(json, "connections", "total"), up = proc_json_in(json, "connections", "established");
    cr_assert(total > 0, "no connections in the report\n%s\n%s", r->out, r->err);
    cr_assert_eq(up, total, "%g of %g connections up\n%s", up, total, json);
    cr_assert_eq(proc_json_in(json, "connections", "given_up"), 0);
    cr_assert_gt(proc_json_in(json, "setup_ms", "p50"), 0, "a set-up time was measured");
}

/* At least min_sent messages sent, every one delivered, none lost. */
static inline void swarm_assert_all_delivered(const char *json, const struct proc_result *r, double min_sent)
{
    double sent = proc_json_in(json, "messages", "sent"), delivered = proc_json_in(json, "messages", "delivered");
    cr_assert(sent >= min_sent, "too few messages sent: %g\n%s", sent, r->out);
    cr_assert_eq(sent, delivered, "sent %g, delivered %g\n%s", sent, delivered, json);
    cr_assert_eq(proc_json_in(json, "messages", "lost"), 0);
}

#endif
