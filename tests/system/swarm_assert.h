/* SPDX-License-Identifier: MIT */
/*
 * The checks every system test makes of a run: its exit status, that it
 * left nothing behind, and, whatever the backend, of a peer-connection
 * run's JSON report: every connection up, and every reliable message
 * delivered; and the skip of a test whose outside tool is missing.
 * Header-only, for tests/system.
 */
#ifndef SWARMGEN_TESTS_SWARM_ASSERT_H
#define SWARMGEN_TESTS_SWARM_ASSERT_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>

#include "proc.h"

/* The run ended with exit status `code`; its output in the message if not. */
static inline void swarm_assert_exit(const struct proc_result *r, int code)
{
    cr_assert_eq(r->exit_code, code, "exit %d\nstdout:\n%s\nstderr:\n%s", r->exit_code, r->out, r->err);
}

/* Nothing of the run of control process `pid` is left: no dataplane
 * process and no run image (proc_left_by_run; other runs on the machine
 * are none of ours). */
static inline void swarm_assert_nothing_left(int pid)
{
    char why[256];
    cr_assert_eq(proc_left_by_run(pid, why, sizeof(why)), 0, "the run (control pid %d) left: %s", pid, why);
}

/* Skips the test when `tool` is not `installed`; fails it instead when
 * the environment sets `require_env` (SWARMGEN_REQUIRE_TSHARK, ...: a
 * machine that must run it). */
static inline void swarm_need_tool(bool installed, const char *tool, const char *require_env)
{
    if (installed)
        return;
    if (getenv(require_env))
        cr_assert_fail("%s is not installed", tool);
    cr_skip_test("%s is not installed (tools/install-deps test installs it)", tool);
}

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
