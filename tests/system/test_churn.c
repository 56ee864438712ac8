/* SPDX-License-Identifier: MIT */
/*
 * System tests of --churn: the real swarmgen + swarmgen-dp on the embedded
 * loopback ports with --traffic dc, connections closed during the load
 * (SCTP SHUTDOWN, DTLS close_notify) and set up again with a new
 * handshake. The report's accounting must hold (every reliable message
 * delivered, none waiting at the end) and, where tshark is installed, the
 * capture decrypted with the key log must show the closes and the new
 * handshakes in the numbers the report gives: Wireshark judges the wire.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "swarm_assert.h"
#include "wire_capture.h"

static struct proc_result r;
static char json[1 << 20];

static void run_swarm(const char *report, int timeout_s, char *const extra[])
{
    proc_swarmgen_run(NULL, proc_bin("SWARMGEN_DP"), report, timeout_s, extra, &r, json, sizeof(json));
    swarm_check_report(json, &r, false);
}

static double churn(const char *key)
{
    return proc_json_in(json, "churn", key);
}

/* The churn figures a run must show: churned about `expect` (the pacing
 * starts one interval into the load on each of the two workers: up to one
 * fewer per worker), every one up again, nothing that waited lost. */
static void assert_churn(double expect)
{
    double churned = churn("churned");
    cr_assert(churned >= expect - 2 && churned <= expect, "churned %g, expected %g - 2 .. %g\n%s", churned, expect,
              expect, json);
    /* a close started in the last few hundred ms of the load may still be
     * on its way when the workers stop: counted, at most one a worker */
    double pending = churn("pending_at_end");
    cr_assert_eq(churn("reestablished") + pending, churned, "every churned connection up again or pending\n%s", json);
    cr_assert_leq(pending, 2, "%s", json);
    cr_assert_eq(churn("msgs_dropped"), 0);
    cr_assert_gt(churn("msgs_held"), 0, "messages waited for their connection");
    cr_assert_gt(proc_json_in(json, "resetup_ms", "p50"), 0);
    cr_assert_gt(proc_json_in(json, "resetup_ms", "p90"), 0);
    cr_assert_gt(proc_json_in(json, "resetup_ms", "p99"), 0);
    cr_assert_eq(proc_json_in(json, "connections", "closed"), 0, "churned connections are not failures");
    cr_assert_eq(proc_json_in(json, "connections", "reestablished"), churned - pending);
}

/* 5 % of the 80 connections per second for 10 s: 40 closes. */
static void run_churn_5pct(const char *dtls, const char *report)
{
    char *extra[] = {"--agents", "40", "--topology", "kmesh:k=4", "--traffic", "dc:rate=1000", "--duration", "10s",
                     "--seed", "3", "--churn", "5%", "--dtls", (char *)dtls, NULL};
    run_swarm(report, 60, extra);
    swarm_assert_exit(&r, 0);
    swarm_assert_all_up(json, &r);
    swarm_assert_all_delivered(json, &r, 8000);
    assert_churn(40);
    swarm_assert_nothing_left(r.pid);
}

Test(churn, five_per_cent_a_second_every_message_delivered_every_connection_up_again_dtls_1_3, .timeout = 90)
{
    run_churn_5pct("1.3", "/tmp/sg-churn-13.json");
}

/* DTLS 1.2 (its close_notify under epoch 1 keys), with its accounting,
 * on the wire, decrypted (DTLS 1.2: Wireshark 4.0 cannot read DTLS 1.3's
 * records): per churned connection one SCTP SHUTDOWN, SHUTDOWN ACK and
 * SHUTDOWN COMPLETE and a close_notify from each end, no ABORT; a
 * ClientHello per set-up, the first ones and the new ones. */
Test(churn, the_capture_shows_shutdown_close_notify_and_new_handshakes, .timeout = 120)
{
    swarm_need_tool(system("command -v tshark >/dev/null 2>&1") == 0, "tshark", "SWARMGEN_REQUIRE_TSHARK");
    struct wire_dissect w;
    cr_assert_eq(wire_dissect_init(&w, "churn", "churn.pcap", "49152-65535", "-d udp.port==49152-65535,dtls"), 0);
    const char *base = w.base;
    char *extra[] = {"--agents", "10", "--topology", "ring", "--traffic", "dc:rate=200", "--duration", "3s",
                     "--seed", "3", "--churn", "2", "--dtls", "1.2", "--pcap", w.pcap, "--pcap-count", "100000",
                     "--keylog", w.keylog, NULL};
    run_swarm("/tmp/sg-churn-cap.json", 60, extra);
    swarm_assert_exit(&r, 0);
    swarm_assert_all_up(json, &r);
    swarm_assert_all_delivered(json, &r, 300);
    long churned = (long)churn("churned"), conns = (long)proc_json_in(json, "connections", "total");
    cr_assert_geq(churned, 2, "%s", json);
    cr_assert_eq(churn("reestablished") + churn("pending_at_end"), churned);
    long frames = wire_tshark_count(base, "frame");
    cr_assert_lt(frames, 100000, "the whole run captured (%ld frames)", frames);
    /* a close started just before the stop may not have completed: done
     * is what completed, between those up again and those started */
    long up_again = (long)churn("reestablished");
    long done = wire_tshark_count(base, "sctp.chunk_type == 14");
    cr_assert(done >= up_again && done <= churned, "SCTP SHUTDOWN COMPLETE %ld, up again %ld, churned %ld", done,
              up_again, churned);
    long shutdowns = wire_tshark_count(base, "sctp.chunk_type == 7"); /* sent once SCTP's data is acknowledged */
    cr_assert(shutdowns >= done && shutdowns <= churned, "SCTP SHUTDOWN %ld, completed %ld, churned %ld", shutdowns,
              done, churned);
    cr_assert_eq(wire_tshark_count(base, "sctp.chunk_type == 8"), done, "SCTP SHUTDOWN ACK");
    cr_assert_eq(wire_tshark_count(base, "sctp.chunk_type == 6"), 0, "no SCTP ABORT: graceful closes");
    cr_assert_eq(wire_tshark_count(base, "dtls.alert_message.level == 1 && dtls.alert_message.desc == 0"), 2 * done,
                 "a close_notify from both ends of every completed close");
    cr_assert_eq(wire_tshark_count(base, "dtls.record.content_type == 21"), 2 * done, "no other alert");
    long hellos = wire_tshark_count(base, "dtls.handshake.type == 1");
    cr_assert(hellos >= conns + up_again && hellos <= conns + done, "ClientHellos %ld: a first set-up per connection "
              "(%ld) and a new one per churned connection (%ld up again, %ld closed)", hellos, conns, up_again, done);
    cr_assert_eq(wire_tshark_count(base, "dtls.handshake.type == 20"), 2 * (conns + up_again),
                 "both Finished of every handshake that came up decrypted");
    swarm_assert_nothing_left(r.pid);
    cr_assert_eq(wire_dissect_remove(&w), 0);
}
