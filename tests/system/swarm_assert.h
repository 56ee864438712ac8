/* SPDX-License-Identifier: MIT */
/*
 * The checks every system test makes of a run: its exit status, that it
 * left nothing behind, and, whatever the backend, of a peer-connection
 * run's JSON report: every connection up, and every reliable message
 * delivered; of every run report, that each message sent is accounted
 * for exactly; and the skip of a test whose outside tool is missing.
 * Header-only, for tests/system.
 */
#ifndef SWARMGEN_TESTS_SWARM_ASSERT_H
#define SWARMGEN_TESTS_SWARM_ASSERT_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
    /* issue 22: each connection up counts for both its agents (one process: a shard counts its halves) */
    if (strstr(json, "\"per_agent\":") && !strstr(json, "\"shard\":"))
        cr_assert_eq(proc_json_in(json, "per_agent", "conn_up"), 2 * up, "per-agent connections up %g, 2 x %g\n%s",
                     proc_json_in(json, "per_agent", "conn_up"), up, json);
}

/* At least min_sent messages sent, every one delivered, none lost. */
static inline void swarm_assert_all_delivered(const char *json, const struct proc_result *r, double min_sent)
{
    double sent = proc_json_in(json, "messages", "sent"), delivered = proc_json_in(json, "messages", "delivered");
    cr_assert(sent >= min_sent, "too few messages sent: %g\n%s", sent, r->out);
    cr_assert_eq(sent, delivered, "sent %g, delivered %g\n%s", sent, delivered, json);
    cr_assert_eq(proc_json_in(json, "messages", "lost"), 0);
}

/* Issue 19: every message sent is delivered, lost (given up by a counted
 * cause: lost == dropped_in_flight, the sum of the message drops, + with
 * two sides and plain UDP the frames the DUT dropped, lost_in_dut) or
 * still in flight when the workers stopped, counted by the dataplane's
 * census of its queues, rings and SCTP associations, independently of
 * the counters: sent == delivered + lost + in_flight exactly, and the
 * report's unaccounted is 0. A message that vanished uncounted, or was
 * counted twice, fails it. */
static inline void swarm_assert_accounting(const char *json, const struct proc_result *r)
{
    double sent = proc_json_in(json, "messages", "sent"), delivered = proc_json_in(json, "messages", "delivered");
    double lost = proc_json_in(json, "messages", "lost"), dropped = proc_json_in(json, "messages", "dropped_in_flight");
    double in_flight = proc_json_in(json, "messages", "in_flight");
    double unaccounted = proc_json_in(json, "messages", "unaccounted");
    cr_assert(!isnan(sent) && !isnan(delivered) && !isnan(lost), "no message figures in the report\n%s\n%s\n%s",
              json, r->out, r->err);
    cr_assert(!isnan(in_flight), "no census in the report (messages.in_flight)\n%s\n%s", json, r->err);
    double dut = proc_json_in(json, "messages", "lost_in_dut");
    cr_assert(!isnan(dut) && !isnan(dropped), "no lost_in_dut or dropped_in_flight in the report\n%s", json);
    cr_assert_eq(lost, dropped + dut, "lost %.0f is not the counted drops %.0f + lost in the DUT %.0f", lost, dropped,
                 dut);
    cr_assert_eq(sent, delivered + lost + in_flight,
                 "sent %.0f != delivered %.0f + lost %.0f + in flight %.0f (unaccounted %.0f)\n%s\n%s", sent,
                 delivered, lost, in_flight, unaccounted, json, r->out);
    cr_assert_eq(unaccounted, 0, "unaccounted %.0f\n%s", unaccounted, json);
}

/* A report with no census (the usrsctp backend, whose queues are its
 * own): messages.in_flight and unaccounted are null, not a number. */
static inline void swarm_assert_no_census(const char *json)
{
    cr_assert_not_null(strstr(json, "\"in_flight\":"), "no messages.in_flight key\n%s", json);
    cr_assert(isnan(proc_json_in(json, "messages", "in_flight")), "in_flight should be null\n%s", json);
    cr_assert(isnan(proc_json_in(json, "messages", "unaccounted")), "unaccounted should be null\n%s", json);
}

/* Issue 22: the per-agent view sums to the swarm's totals (messages sent
 * by their sources, delivered to their destinations and as their
 * sources' messages, forwarded by their relays), and the hop histogram
 * of delivered messages has the report's mean hop count. */
static inline void swarm_assert_per_agent(const char *json, const struct proc_result *r)
{
    cr_assert_not_null(strstr(json, "\"per_agent\":"), "no per_agent view in the report\n%s\n%s", r->out, r->err);
    double sent = proc_json_in(json, "messages", "sent"), delivered = proc_json_in(json, "messages", "delivered");
    double forwarded = proc_json_in(json, "messages", "forwarded");
    cr_assert_eq(proc_json_in(json, "per_agent", "sent"), sent, "per-agent sent != messages.sent\n%s", json);
    cr_assert_eq(proc_json_in(json, "per_agent", "delivered"), delivered, "per-agent delivered != messages.delivered\n%s",
                 json);
    cr_assert_eq(proc_json_in(json, "per_agent", "delivered_from"), delivered,
                 "per-source delivered != messages.delivered\n%s", json);
    cr_assert_eq(proc_json_in(json, "per_agent", "forwarded"), forwarded, "per-agent forwarded != messages.forwarded\n%s",
                 json);
    double mean = proc_json_in(json, "hop_histogram", "mean"), avg = proc_json_in(json, "messages", "avg_hops");
    cr_assert(fabs(mean - avg) < 1e-5, "hop histogram mean %.6f != messages.avg_hops %.6f\n%s", mean, avg, json);
}

/* What the run helpers of tests/system call on every report they read:
 * nothing when the run wrote none; the census check for the usrsctp
 * backend (`usrsctp`) and for a run whose dataplane was killed (no census
 * was taken: "killed by signal" on stderr); swarm_assert_accounting for
 * every other. */
static inline void swarm_check_report(const char *json, const struct proc_result *r, bool usrsctp)
{
    if (!json[0] || !strstr(json, "\"messages\":"))
        return;
    if (!strstr(r->err, "killed by signal"))
        swarm_assert_per_agent(json, r);
    if (usrsctp) {
        swarm_assert_no_census(json);
        return;
    }
    if (strstr(r->err, "killed by signal"))
        return;
    swarm_assert_accounting(json, r);
}

#endif
