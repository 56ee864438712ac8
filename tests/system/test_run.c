/* SPDX-License-Identifier: MIT */
/*
 * System tests: the real swarmgen + swarmgen-dp on DPDK virtual ports.
 * Each run is short (a few seconds) and bounded by a timeout; every test
 * also checks that no dataplane process and no run-image file is left.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "swarm_assert.h"
#include "wire_capture.h"

static struct proc_result r;
static char json[1 << 20];

/* The control processes started since the last assert_nothing_left(): what
 * they leave is theirs (other runs on the machine are none of our business). */
static int runs[8], n_runs;

static void ran(void)
{
    if (n_runs < 8)
        runs[n_runs++] = r.pid;
}

static void assert_nothing_left(void)
{
    for (int i = 0; i < n_runs; i++)
        swarm_assert_nothing_left(runs[i]);
    n_runs = 0;
}

/* A --port that does not give back what it transmits (net_null, a pcap
 * port writing to a file): the messages that leave through it are in no
 * count of the run; its tests check them against what the sink got. */
static bool sink_port(char *const extra[])
{
    for (int i = 0; extra[i] && extra[i + 1]; i++)
        if (strcmp(extra[i], "--port") == 0 && (strstr(extra[i + 1], "net_null") || strstr(extra[i + 1], "tx_pcap")))
            return true;
    return false;
}

/* sent = delivered + lost + in flight + `left`, the messages that left
 * through a sink port (each one frame: --traffic udp). */
static void assert_accounting_with_sink(double left)
{
    double sent = proc_json_in(json, "messages", "sent"), delivered = proc_json_in(json, "messages", "delivered");
    double lost = proc_json_in(json, "messages", "lost"), in_flight = proc_json_in(json, "messages", "in_flight");
    cr_assert_eq(sent, delivered + lost + in_flight + left,
                 "sent %g != delivered %g + lost %g + in flight %g + left through the sink %g", sent, delivered, lost,
                 in_flight, left);
    cr_assert_eq(proc_json_in(json, "messages", "unaccounted"), left);
}

/* Runs `swarmgen run` with the given extra flags plus --report (and
 * --quiet when `quiet`); fills json and checks its message accounting
 * (swarm_check_report), but for a sink port. */
static void run_swarm_with(const char *report, int timeout_s, int sigint_ms, bool quiet,
                           char *const extra[])
{
    char *argv[64];
    proc_swarmgen_argv(argv, 64, NULL, proc_bin("SWARMGEN_DP"), report, quiet, extra);
    unlink(report);
    proc_run(argv, timeout_s, sigint_ms, &r);
    ran();
    json[0] = '\0';
    proc_read_file(report, json, sizeof(json));
    if (!sink_port(extra))
        swarm_check_report(json, &r, false);
}

static void run_swarm(const char *report, int timeout_s, int sigint_ms, char *const extra[])
{
    run_swarm_with(report, timeout_s, sigint_ms, true, extra);
}

/* The run ended with exit 0, sent more than 1,000 messages and delivered
 * every one, latency measured. */
static void assert_all_delivered(void)
{
    swarm_assert_exit(&r, 0);
    double sent = proc_json_num(json, "sent"), delivered = proc_json_num(json, "delivered");
    cr_assert(sent > 1000, "too few messages sent: %g\n%s", sent, r.out);
    cr_assert_eq(sent, delivered, "sent %g, delivered %g\n%s", sent, delivered, r.out);
    cr_assert_eq(proc_json_num(json, "lost"), 0);
    cr_assert_eq(proc_json_num(json, "delivery_rate"), 1);
    double p50 = proc_json_num(json, "p50"), p99 = proc_json_num(json, "p99");
    cr_assert(p50 > 0 && p99 >= p50, "latency p50 %g p99 %g", p50, p99);
}

Test(system, embedded_routed_swarm_delivers_every_message, .timeout = 90)
{
    char *extra[] = {"--traffic", "udp", "--agents", "3000", "--topology", "kmesh:k=8", "--rate", "60000",
                     "--duration", "3s", "--seed", "7", NULL};
    run_swarm("/tmp/sg-test-routed.json", 80, 0, extra);
    assert_all_delivered();
    /* routed: most destinations are not neighbours, so relays happen */
    cr_assert_gt(proc_json_num(json, "forwarded"), 0, "%s", json);
    cr_assert_gt(proc_json_num(json, "avg_hops"), 1.5);
    /* the report has every key the issue names */
    const char *keys[] = {"\"agents\"", "\"topology\"", "\"spec\"", "\"edges\"", "\"diameter\"",
                          "\"avg_path_length\"", "\"clustering\"", "\"messages\"", "\"sent\"",
                          "\"delivered\"", "\"forwarded\"", "\"lost\"", "\"delivery_rate\"",
                          "\"latency_us\"", "\"p50\"", "\"p95\"", "\"p99\"", "\"p999\"", "\"max\"",
                          "\"throughput\"", "\"msgs_per_s\"", "\"pps\"", "\"mbps\"", "\"cores\"",
                          "\"busy_pct\"", "\"rx\"", "\"tx\"", "\"memory\"", "\"bytes_total\"",
                          "\"bytes_per_agent\"", "\"duration_s\""};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cr_assert_not_null(strstr(json, keys[i]), "report lacks %s", keys[i]);
    /* pacing: the measured rate is near the target (within 25 %) */
    double rate = proc_json_num(json, "msgs_per_s");
    cr_assert(rate > 45000 && rate < 75000, "rate %g for a target of 60000", rate);
    assert_nothing_left();
}

/* Issue 22: a hub topology's load lies on its hubs: the two agents that
 * forward most are the two of the highest degree, and the top 1 % of the
 * agents carry nearly every relay; --agents-csv has a row per agent whose
 * columns sum to the report's totals. */
Test(system, hub_load_on_hubs_and_agents_csv, .timeout = 60)
{
    const char *csv = "/tmp/sg-test-agents.csv";
    unlink(csv);
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "hub:hubs=2", "--rate", "10000",
                     "--duration", "2s", "--agents-csv", (char *)csv, NULL};
    run_swarm("/tmp/sg-test-hub.json", 50, 0, extra);
    swarm_assert_exit(&r, 0);
    static char text[1 << 17];
    long len = proc_read_file(csv, text, sizeof(text));
    cr_assert_gt(len, 0, "no %s\n%s", csv, r.err);
    char *line = strchr(text, '\n');
    cr_assert(strncmp(text, "agent,worker,degree,sent,delivered,delivered_from,forwarded,", 60) == 0, "header %.80s",
              text);
    double sum[4] = {0};
    unsigned rows = 0, max_deg = 0, top_deg[2] = {0}, top_fw[2] = {0};
    while (line && line[1]) {
        unsigned id, wk, deg, sent, del, from, fw;
        cr_assert_eq(sscanf(line + 1, "%u,%u,%u,%u,%u,%u,%u,", &id, &wk, &deg, &sent, &del, &from, &fw), 7);
        cr_assert_eq(id, rows, "row %u is agent %u", rows, id);
        rows++;
        sum[0] += sent;
        sum[1] += del;
        sum[2] += from;
        sum[3] += fw;
        if (deg > max_deg)
            max_deg = deg;
        if (fw > top_fw[0]) {
            top_fw[1] = top_fw[0], top_deg[1] = top_deg[0];
            top_fw[0] = fw, top_deg[0] = deg;
        } else if (fw > top_fw[1]) {
            top_fw[1] = fw, top_deg[1] = deg;
        }
        line = strchr(line + 1, '\n');
    }
    cr_assert_eq(rows, 1000);
    cr_assert_eq(sum[0], proc_json_in(json, "messages", "sent"));
    cr_assert_eq(sum[1], proc_json_in(json, "messages", "delivered"));
    cr_assert_eq(sum[2], proc_json_in(json, "messages", "delivered"));
    cr_assert_eq(sum[3], proc_json_in(json, "messages", "forwarded"));
    cr_assert_gt(sum[3], 1000, "relays happen in a hub topology");
    cr_assert(top_deg[0] == max_deg && top_deg[1] == max_deg, "the two busiest relays (degree %u, %u) are not the hubs (%u)",
              top_deg[0], top_deg[1], max_deg);
    cr_assert_gt(proc_json_in(json, "load", "top1pct_share"), 0.95, "%s", json);
    cr_assert_gt(proc_json_in(json, "load", "gini"), 0.9, "%s", json);
    cr_assert_eq(proc_json_in(json, "routing", "routed_share"), 1);
    unlink(csv);
    assert_nothing_left();
}

Test(system, embedded_neighbors_swarm_single_core, .timeout = 90)
{
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "ring", "--pattern", "neighbors",
                     "--rate", "30000", "--duration", "2s", "--cores", "0", NULL};
    run_swarm("/tmp/sg-test-neigh.json", 80, 0, extra);
    assert_all_delivered();
    cr_assert_eq(proc_json_num(json, "forwarded"), 0);
    assert_nothing_left();
}

/* run_swarm() with a Ctrl-C `sigint_ms` into the run: it must exit 130
 * with the report written and saying so. */
static void run_interrupted(const char *report, int sigint_ms, char *const extra[])
{
    run_swarm(report, 60, sigint_ms, extra);
    swarm_assert_exit(&r, 130);
    cr_assert_not_null(strstr(json, "\"interrupted\": true"), "report: %s", json);
}

Test(system, ctrl_c_stops_cleanly_and_writes_the_report, .timeout = 90)
{
    char *extra[] = {"--traffic", "udp", "--agents", "2000", "--topology", "kmesh:k=6", "--rate", "20000",
                     "--duration", "60s", NULL};
    run_interrupted("/tmp/sg-test-int.json", 4000, extra);
    cr_assert_lt(proc_json_num(json, "duration_s"), 30);
    cr_assert_gt(proc_json_num(json, "sent"), 0);
    assert_nothing_left();
}

Test(system, dataplane_start_failure_is_reported, .timeout = 60)
{
    char *extra[] = {"--agents", "100", "--topology", "ring", "--duration", "1s",
                     "--port", "net_nonexistent0", NULL};
    run_swarm("/tmp/sg-test-fail.json", 50, 0, extra);
    swarm_assert_exit(&r, 1);
    cr_assert_not_null(strstr(r.err, "swarmgen: dataplane"), "cause not named: %s", r.err);
    assert_nothing_left();
}

Test(system, foreign_frames_are_counted_and_dropped, .timeout = 60)
{
    /* net_null receives an endless stream of zero-filled 64-byte frames:
     * not IPv4, all must be counted under not_ipv4; our own traffic
     * leaves through the null device and is lost. */
    char *extra[] = {"--traffic", "udp", "--agents", "200", "--topology", "ring", "--rate", "1000", "--duration",
                     "1s", "--cores", "0", "--port", "net_null0", NULL};
    run_swarm("/tmp/sg-test-null.json", 50, 0, extra);
    swarm_assert_exit(&r, 0);
    double foreign = proc_json_num(json, "not_ipv4");
    cr_assert_gt(foreign, 10000, "not_ipv4 drops %g", foreign);
    cr_assert_eq(proc_json_num(json, "delivered"), 0);
    /* each message left as one frame on its first hop: what core 0 sent */
    assert_accounting_with_sink(proc_json_num(json, "tx"));
    assert_nothing_left();
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* run_swarm() inside network namespace `ns` (ip netns exec), which is
 * deleted once the run has ended. */
static void run_swarm_in(const char *ns, const char *report, int timeout_s, char *const extra[])
{
    char *argv[64] = {"/usr/sbin/ip", "netns", "exec", (char *)ns};
    proc_swarmgen_argv(argv + 4, 60, NULL, proc_bin("SWARMGEN_DP"), report, true, extra);
    if (access(argv[0], X_OK) != 0)
        argv[0] = "/sbin/ip";
    unlink(report);
    proc_run(argv, timeout_s, 0, &r);
    ran();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
    sh(cmd);
    json[0] = '\0';
    proc_read_file(report, json, sizeof(json));
    swarm_check_report(json, &r, false);
}

Test(system, af_packet_over_a_veth_pair_in_a_namespace, .timeout = 90)
{
    if (geteuid() != 0 || sh("command -v ip >/dev/null") != 0)
        cr_skip_test("needs root and iproute2");
    char ns[64], cmd[512];
    snprintf(ns, sizeof(ns), "sgt%d", (int)getpid());
    snprintf(cmd, sizeof(cmd),
             "ip netns add %s && ip -n %s link add sga type veth peer name sgb && "
             "ip -n %s link set sga up && ip -n %s link set sgb up",
             ns, ns, ns, ns);
    cr_assert_eq(sh(cmd), 0, "namespace set-up failed");
    /* one worker: one af_packet socket per interface, so no socket sees
     * the outgoing copy of another socket's frames */
    char *extra[] = {"--traffic", "udp", "--agents", "500", "--topology", "kmesh:k=6", "--rate", "5000",
                     "--duration", "2s", "--cores", "0", "--port", "net_af_packet0,iface=sga", "--port",
                     "net_af_packet1,iface=sgb", NULL};
    run_swarm_in(ns, "/tmp/sg-test-afp.json", 80, extra);
    assert_all_delivered();
    assert_nothing_left();
}

Test(system, memif_pair_in_one_process, .timeout = 60)
{
    /* two memif ports joined by one socket: what one sends the other receives */
    char sock[64], p0[160], p1[160];
    snprintf(sock, sizeof(sock), "/tmp/sg-memif-%d.sock", (int)getpid());
    snprintf(p0, sizeof(p0), "net_memif0,role=server,socket=%s,id=0", sock);
    snprintf(p1, sizeof(p1), "net_memif1,role=client,socket=%s,id=0", sock);
    char *extra[] = {"--traffic", "udp", "--agents", "500", "--topology", "kmesh:k=6", "--rate", "10000",
                     "--duration", "2s", "--cores", "0", "--port", p0, "--port", p1, NULL};
    run_swarm("/tmp/sg-test-memif.json", 50, 0, extra);
    assert_all_delivered();
    cr_assert_neq(access(sock, F_OK), 0, "memif socket file left behind");
    assert_nothing_left();
}

/* run_swarm() of `swarmgen run EXTRA... --eal --file-prefix=TAG<our pid>`
 * with a killer in the background that SIGKILLs that dataplane `after_s`
 * seconds from now: control must fail (exit 1) and name the signal. */
static void run_with_dataplane_killed(const char *report, int after_s, const char *tag, char *const extra[])
{
    char marker[64], killer[256];
    snprintf(marker, sizeof(marker), "--file-prefix=%s%d", tag, (int)getpid());
    snprintf(killer, sizeof(killer), "(sleep %d; pkill -KILL -f '^[^ ]*swarmgen-dp .*%s%d') >/dev/null 2>&1 &",
             after_s, tag, (int)getpid());
    cr_assert_eq(system(killer), 0);
    char *args[64];
    int n = 0;
    for (; extra[n] && n < 61; n++)
        args[n] = extra[n];
    args[n++] = "--eal";
    args[n++] = marker;
    args[n] = NULL;
    run_swarm(report, 60, 0, args);
    swarm_assert_exit(&r, 1);
    cr_assert_not_null(strstr(r.err, "killed by signal 9"), "cause not named: %s", r.err);
}

Test(system, dataplane_killed_mid_run_makes_control_fail_with_the_cause, .timeout = 90)
{
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "kmesh:k=6", "--rate", "10000",
                     "--duration", "40s", NULL};
    run_with_dataplane_killed("/tmp/sg-test-kill.json", 4, "sgkill", extra);
    assert_nothing_left();
}

/* ---- load profiles, netem, SLA (issue 6 parts that plain UDP can show) ---- */

Test(system, ramp_profile_phases_match_the_csv_within_a_second, .timeout = 90)
{
    /* ramp over 10 s: warm-up 0-1 s, ramp 1-5 s, sustained 5-9 s, cool-down 9-10 s */
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "kmesh:k=6", "--rate", "20000",
                     "--duration", "10s", "--profile", "ramp", "--csv", "/tmp/sg-test-ramp.csv",
                     NULL};
    run_swarm("/tmp/sg-test-ramp.json", 80, 0, extra);
    swarm_assert_exit(&r, 0);
    static char csv[1 << 16];
    cr_assert_gt(proc_read_file("/tmp/sg-test-ramp.csv", csv, sizeof(csv)), 0);
    const char *bounds[][2] = {{"warm-up", "0"}, {"ramp", "1"}, {"sustained", "5"}, {"cool-down", "9"}};
    for (size_t i = 0; i < 4; i++) {
        /* first row of the phase: its end time t must be within 1 s of start + 1 */
        char pat[64];
        snprintf(pat, sizeof(pat), ",%s,", bounds[i][0]);
        const char *row = strstr(csv, pat);
        cr_assert_not_null(row, "no row for phase %s in\n%s", bounds[i][0], csv);
        const char *line = row;
        while (line > csv && line[-1] != '\n')
            line--;
        double t = atof(line), start = atof(bounds[i][1]);
        cr_assert(t >= start + 0.5 && t <= start + 2.0, "phase %s first row at %.3f s", bounds[i][0], t);
    }
    /* during "sustained" the target is the base rate and the rate is met */
    const char *row = strstr(csv, ",sustained,");
    double target = atof(strchr(row + 1, ',') + 1);
    cr_assert_float_eq(target, 20000, 1);
    cr_assert_not_null(strstr(json, "\"phases\""));
    assert_nothing_left();
}

Test(system, netem_delay_adds_ten_ms_per_hop, .timeout = 90)
{
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "kmesh:k=6", "--pattern", "neighbors",
                     "--rate", "5000", "--duration", "3s", "--netem", "delay=10ms", NULL};
    run_swarm("/tmp/sg-test-delay.json", 80, 0, extra);
    assert_all_delivered();
    double p50 = proc_json_num(json, "p50");
    cr_assert(p50 > 9900 && p50 < 11500, "one hop with 10 ms: p50 %.1f us", p50);
    /* routed: every hop adds the delay */
    char *extra2[] = {"--traffic", "udp", "--agents", "1000", "--topology", "kmesh:k=6", "--rate", "5000",
                      "--duration", "3s", "--netem", "delay=10ms", NULL};
    run_swarm("/tmp/sg-test-delay2.json", 80, 0, extra2);
    assert_all_delivered();
    double hops = proc_json_num(json, "avg_hops");
    double mean_ms = proc_json_num(json, "p50") / 1000;
    cr_assert(hops > 2, "avg hops %g", hops);
    cr_assert(mean_ms > 10 * (hops - 1) && mean_ms < 10 * (hops + 1) + 2,
              "p50 %.1f ms for %.2f hops", mean_ms, hops);
    assert_nothing_left();
}

Test(system, netem_loss_shows_as_counted_loss, .timeout = 60)
{
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "kmesh:k=6", "--pattern", "neighbors",
                     "--rate", "20000", "--duration", "2s", "--netem", "loss=5%", NULL};
    run_swarm("/tmp/sg-test-loss.json", 50, 0, extra);
    swarm_assert_exit(&r, 0);
    double sent = proc_json_num(json, "sent"), lost = proc_json_num(json, "netem_loss");
    cr_assert(lost / sent > 0.04 && lost / sent < 0.06, "lost %g of %g", lost, sent);
    cr_assert_eq(proc_json_num(json, "delivered") + lost, sent, "every message delivered or counted lost");
    assert_nothing_left();
}

/* Issue 19: the run stops with messages still on the way (200 ms of
 * delay on every link, no drain): the dataplane's census finds them in the
 * netem wheels, the hand-off rings and the receive queues, and the
 * identity sent = delivered + lost + in flight still holds exactly. */
Test(system, messages_held_at_the_stop_are_counted_in_flight, .timeout = 60)
{
    char *extra[] = {"--traffic", "udp", "--agents", "500", "--topology", "kmesh:k=6", "--rate", "20000",
                     "--duration", "1s", "--drain", "0", "--netem", "delay=200ms,loss=1%", NULL};
    run_swarm("/tmp/sg-test-held.json", 50, 0, extra);
    swarm_assert_exit(&r, 0);
    double sent = proc_json_in(json, "messages", "sent"), in_flight = proc_json_in(json, "messages", "in_flight");
    cr_assert_gt(in_flight, sent / 10, "in flight %g of %g sent\n%s", in_flight, sent, r.out);
    cr_assert_gt(proc_json_in(json, "messages", "lost"), 0, "netem lost some");
    swarm_assert_accounting(json, &r);
    cr_assert_not_null(strstr(r.out, "unaccounted 0"), "the summary says so\n%s", r.out);
    assert_nothing_left();
}

Test(system, sla_breach_exits_1_and_hold_exits_0, .timeout = 90)
{
    char *breach[] = {"--traffic", "udp", "--agents", "500", "--topology", "ring", "--pattern", "neighbors", "--rate",
                      "5000", "--duration", "2s", "--sla", "p99<1ns", NULL};
    run_swarm("/tmp/sg-test-sla1.json", 50, 0, breach);
    swarm_assert_exit(&r, 1);
    cr_assert_not_null(strstr(json, "\"passed\": false"), "%s", json);
    char *hold[] = {"--traffic", "udp", "--agents", "500", "--topology", "ring", "--pattern", "neighbors", "--rate",
                    "5000", "--duration", "2s", "--sla", "p99<5s,delivery>99%,errors<1%", NULL};
    run_swarm("/tmp/sg-test-sla0.json", 50, 0, hold);
    swarm_assert_exit(&r, 0);
    cr_assert_not_null(strstr(json, "\"passed\": true"), "%s", json);
    assert_nothing_left();
}

/* Two real runs' reports merged: the sums of their sent and delivered
 * messages, and a merged latency histogram of every sample of both. */
Test(system, report_merge_of_two_runs_sums_their_figures, .timeout = 90)
{
    char *extra[] = {"--traffic", "udp", "--duration", "2s", NULL};
    double sent = 0, delivered = 0, samples = 0;
    const char *shard[] = {"/tmp/sg-test-shard1.json", "/tmp/sg-test-shard2.json"};
    for (int i = 0; i < 2; i++) {
        run_swarm(shard[i], 50, 0, extra);
        swarm_assert_exit(&r, 0);
        sent += proc_json_num(json, "sent");
        delivered += proc_json_num(json, "delivered");
        samples += proc_json_num(json, "samples");
        cr_assert_not_null(strstr(json, "\"histograms\""), "the report has no histograms");
    }
    cr_assert_gt(samples, 0);
    const char *merged = "/tmp/sg-test-merged.json";
    unlink(merged);
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "report", "--merge", (char *)shard[0],
                    (char *)shard[1], "--report", (char *)merged, NULL};
    proc_run(argv, 30, 0, &r);
    swarm_assert_exit(&r, 0);
    cr_assert_gt(proc_read_file(merged, json, sizeof(json) - 1), 0, "no merged report");
    cr_assert_eq(proc_json_num(json, "sent"), sent);
    cr_assert_eq(proc_json_num(json, "delivered"), delivered);
    cr_assert_eq(proc_json_num(json, "samples"), samples, "the merged histogram counts every sample");
    cr_assert_eq(proc_json_num(json, "shards"), 2);
    swarm_assert_accounting(json, &r); /* in_flight and unaccounted merged too */
    assert_nothing_left();
}

Test(system, abort_on_fail_stops_early, .timeout = 90)
{
    char *extra[] = {"--traffic", "udp", "--agents", "500", "--topology", "ring", "--pattern", "neighbors", "--rate",
                     "5000", "--duration", "60s", "--sla", "p50<1ns", "--abort-on-fail", NULL};
    run_swarm("/tmp/sg-test-abort.json", 60, 0, extra);
    swarm_assert_exit(&r, 1);
    cr_assert_lt(proc_json_num(json, "duration_s"), 10);
    cr_assert_not_null(strstr(json, "\"aborted\": true"));
    assert_nothing_left();
}

Test(system, scenario_file_error_names_the_line, .timeout = 30)
{
    FILE *f = fopen("/tmp/sg-test-bad.yaml", "w");
    fputs("phases:\n  - name: a\n    duration: 1s\n  - name: b\n    duration: 2s\n    rate: {from: 1%, to: lots}\n", f);
    fclose(f);
    char *extra[] = {"--profile", "/tmp/sg-test-bad.yaml", NULL};
    run_swarm("/tmp/sg-test-bad.json", 20, 0, extra);
    swarm_assert_exit(&r, 2);
    cr_assert_eq(proc_lines(r.err), 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "sg-test-bad.yaml:6: rate.to"), "%s", r.err);
    unlink("/tmp/sg-test-bad.yaml");
}

/* Frames of the capture `pcap` that match `filter`, IPv4 checksums
 * checked (-1 when tshark cannot run). */
static long tshark_count(const char *pcap, const char *filter)
{
    char base[300];
    snprintf(base, sizeof(base), "-r %s -o ip.check_checksum:TRUE", pcap);
    return wire_tshark_count(base, filter);
}

/* The tshark tests: skipped without tshark, unless SWARMGEN_REQUIRE_TSHARK. */
static void need_tshark(void)
{
    swarm_need_tool(system("command -v tshark >/dev/null 2>&1") == 0, "tshark", "SWARMGEN_REQUIRE_TSHARK");
}

Test(system, pcap_port_frames_pass_wiresharks_dissectors, .timeout = 90)
{
    need_tshark();
    /* an empty capture to read from, and the dataplane's transmit side to a file */
    const unsigned char hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0};
    char in[64], out[64], port[200];
    snprintf(in, sizeof(in), "/tmp/sg-empty-%d.pcap", (int)getpid());
    snprintf(out, sizeof(out), "/tmp/sg-tx-%d.pcap", (int)getpid());
    FILE *f = fopen(in, "wb");
    fwrite(hdr, 1, sizeof(hdr), f);
    fclose(f);
    snprintf(port, sizeof(port), "net_pcap0,rx_pcap=%s,tx_pcap=%s", in, out);
    char *extra[] = {"--traffic", "udp", "--agents", "300", "--topology", "kmesh:k=4", "--rate", "2000",
                     "--duration", "1s", "--cores", "0", "--port", port, NULL};
    run_swarm("/tmp/sg-test-pcap.json", 60, 0, extra);
    swarm_assert_exit(&r, 0);
    long frames = tshark_count(out, "frame");
    cr_assert_gt(frames, 1000, "frames in the capture: %ld", frames);
    cr_assert_eq(frames, (long)proc_json_num(json, "tx"), "every transmitted frame is in the capture");
    /* what no count of the run has is exactly what the capture holds */
    assert_accounting_with_sink((double)frames);
    cr_assert_eq(tshark_count(out, "_ws.malformed"), 0, "malformed frames");
    cr_assert_eq(tshark_count(out, "ip.checksum.status == 1 && udp && ip.src == 198.18.0.0/15 && ip.dst == 198.18.0.0/15 && udp.length == 72"), frames,
                 "every frame: IPv4 checksum good, UDP, agent addresses, 64-byte message");
    unlink(in);
    unlink(out);
    assert_nothing_left();
}

Test(system, pcap_capture_of_the_first_frames, .timeout = 60)
{
    need_tshark();
    char cap[64];
    snprintf(cap, sizeof(cap), "/tmp/sg-cap-%d.pcap", (int)getpid());
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "kmesh:k=6", "--rate", "20000",
                     "--duration", "1s", "--pcap", cap, "--pcap-count", "700", NULL};
    run_swarm("/tmp/sg-test-cap.json", 60, 0, extra);
    swarm_assert_exit(&r, 0);
    cr_assert_eq(tshark_count(cap, "frame"), 700);
    cr_assert_eq(tshark_count(cap, "_ws.malformed"), 0);
    cr_assert_eq(tshark_count(cap, "ip.checksum.status == 1 && udp"), 700);
    unlink(cap);
    assert_nothing_left();
}

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* One HTTP GET to 127.0.0.1:port; the whole response into `out`. */
static long http_get(uint16_t port, const char *path, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    char req[128];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    /* send the request in two pieces: the server must wait for the end */
    if (write(fd, req, 10) != 10 || (usleep(20000), write(fd, req + 10, (size_t)n - 10)) != n - 10) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    ssize_t k;
    while (len < cap - 1 && (k = read(fd, out + len, cap - 1 - len)) > 0)
        len += (size_t)k;
    out[len] = '\0';
    close(fd);
    return (long)len;
}

Test(system, prometheus_endpoint_serves_a_valid_scrape_during_a_run, .timeout = 90)
{
    uint16_t port = (uint16_t)(20000 + getpid() % 20000);
    char addr[32], scrape[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
    snprintf(scrape, sizeof(scrape), "/tmp/sg-scrape-%d.txt", (int)getpid());
    pid_t child = fork();
    if (child == 0) {
        /* the scraper: two scrapes during the run, and one wrong path */
        static char buf[1 << 16];
        usleep(3000000);
        long a = http_get(port, "/metrics", buf, sizeof(buf));
        usleep(1100000);
        long b = http_get(port, "/metrics", buf, sizeof(buf));
        FILE *f = fopen(scrape, "w");
        if (f && a > 0 && b > 0)
            fputs(buf, f);
        if (f)
            fclose(f);
        static char nf[4096];
        http_get(port, "/nothing", nf, sizeof(nf));
        _exit(strstr(nf, "404 Not Found") ? 0 : 3);
    }
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "kmesh:k=6", "--rate", "10000",
                     "--duration", "6s", "--prom", addr, NULL};
    run_swarm("/tmp/sg-test-prom.json", 60, 0, extra);
    int st;
    waitpid(child, &st, 0);
    swarm_assert_exit(&r, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the wrong path did not get a 404");
    static char body[1 << 16];
    cr_assert_gt(proc_read_file(scrape, body, sizeof(body)), 0, "no scrape");
    cr_assert_not_null(strstr(body, "HTTP/1.1 200 OK"));
    cr_assert_not_null(strstr(body, "text/plain; version=0.0.4"));
    const char *p = strstr(body, "\nswarmgen_messages_delivered_total ");
    cr_assert_not_null(p);
    cr_assert_gt(atof(p + strlen("\nswarmgen_messages_delivered_total ")), 10000, "delivered during the run");
    cr_assert_not_null(strstr(body, "swarmgen_message_latency_seconds_bucket{le=\"+Inf\"}"));
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char cmd[256];
        /* promtool reads the exposition only: strip the HTTP header */
        snprintf(cmd, sizeof(cmd), "sed '1,/^\\r$/d' %s | promtool check metrics", scrape);
        cr_assert_eq(system(cmd), 0, "promtool check metrics failed");
    } else if (getenv("SWARMGEN_REQUIRE_PROMTOOL")) {
        cr_assert_fail("promtool is not installed");
    }
    unlink(scrape);
    assert_nothing_left();
}

/* Loads `html` in headless Chromium; DOM into dom, console lines counted. */
static int chromium_console_lines(const char *html, char *dom, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "d=$(mktemp -d); timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic "
             "--no-first-run --disable-background-networking --disable-component-update --disable-sync "
             "--user-data-dir=$d --enable-logging=stderr --v=0 --dump-dom file://%s "
             "2>/tmp/sg-chr-%d.err >/tmp/sg-chr-%d.dom; rm -rf $d",
             html, (int)getpid(), (int)getpid());
    if (system(cmd) != 0)
        return -1;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/sg-chr-%d.dom", (int)getpid());
    proc_read_file(path, dom, cap);
    unlink(path);
    snprintf(cmd, sizeof(cmd), "grep -c ':CONSOLE' /tmp/sg-chr-%d.err; rm -f /tmp/sg-chr-%d.err",
             (int)getpid(), (int)getpid());
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

Test(system, html_report_opens_in_chromium_with_its_charts_and_no_console_errors, .timeout = 180)
{
    swarm_need_tool(system("command -v chromium >/dev/null 2>&1") == 0, "chromium", "SWARMGEN_REQUIRE_CHROMIUM");
    static char dom[1 << 20];
    /* the detector itself: a page with a script error must be caught */
    FILE *f = fopen("/tmp/sg-bad.html", "w");
    fputs("<html><body><script>undefined_fn();</script></body></html>", f);
    fclose(f);
    cr_assert_gt(chromium_console_lines("/tmp/sg-bad.html", dom, sizeof(dom)), 0,
                 "the console check does not see errors");
    unlink("/tmp/sg-bad.html");

    char html[64];
    snprintf(html, sizeof(html), "/tmp/sg-report-%d.html", (int)getpid());
    char *extra[] = {"--traffic", "udp", "--agents", "1000", "--topology", "scalefree:m=3", "--rate", "20000",
                     "--duration", "5s", "--profile", "spike", "--sla", "p99<10s", "--html", html, NULL};
    run_swarm("/tmp/sg-test-html.json", 60, 0, extra);
    swarm_assert_exit(&r, 0);
    static char page[1 << 20];
    cr_assert_gt(proc_read_file(html, page, sizeof(page)), 1000);
    cr_assert_null(strstr(page, "<script"), "the report needs no script");
    cr_assert_null(strstr(page, "src=\""), "no external resources");
    cr_assert_null(strstr(page, "href=\""), "no external resources");
    cr_assert_eq(chromium_console_lines(html, dom, sizeof(dom)), 0, "console output while loading the report");
    const char *ids[] = {"chart-throughput", "chart-latency", "chart-latency-cdf", "chart-busy",
                         "chart-setup", "chart-degree"};
    for (size_t i = 0; i < 6; i++) {
        char want[64];
        snprintf(want, sizeof(want), "<svg id=\"%s\"", ids[i]);
        cr_assert_not_null(strstr(dom, want), "%s missing from the rendered DOM", ids[i]);
    }
    cr_assert_not_null(strstr(dom, "<polyline"), "charts have data");
    unlink(html);
    assert_nothing_left();
}

Test(system, tap_ports_bridged_by_the_kernel_in_a_namespace, .timeout = 90)
{
    if (geteuid() != 0 || system("command -v ip >/dev/null && command -v bridge >/dev/null") != 0)
        cr_skip_test("needs root and iproute2");
    char ns[64], cmd[1024], yaml[64];
    snprintf(ns, sizeof(ns), "sgtap%d", (int)getpid());
    snprintf(yaml, sizeof(yaml), "/tmp/sg-tap-%d.yaml", (int)getpid());
    /* two seconds without traffic while the bridge comes up, then 5,000 msg/s */
    FILE *f = fopen(yaml, "w");
    fputs("phases:\n  - name: bridge-up\n    duration: 2s\n    rate: 0\n"
          "  - name: traffic\n    duration: 2s\n    rate: 5000\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "ip netns add %s", ns);
    cr_assert_eq(system(cmd), 0);
    /* the dataplane creates the tap interfaces; a helper bridges them as soon
     * as they exist, with learning off so every frame crosses to the other */
    snprintf(cmd, sizeof(cmd),
             "(for i in $(seq 100); do ip netns exec %s ip link show sgt1 >/dev/null 2>&1 && break; sleep 0.05; done;"
             " ip netns exec %s sh -c 'ip link add sgbr type bridge && ip link set sgt0 master sgbr &&"
             " ip link set sgt1 master sgbr && bridge link set dev sgt0 learning off &&"
             " bridge link set dev sgt1 learning off && ip link set sgbr up && ip link set sgt0 up &&"
             " ip link set sgt1 up') >/dev/null 2>&1 &",
             ns, ns);
    cr_assert_eq(system(cmd), 0);
    char *extra[] = {"--traffic", "udp", "--agents", "500", "--topology", "kmesh:k=6", "--profile", yaml,
                     "--cores", "0", "--port", "net_tap0,iface=sgt0", "--port", "net_tap1,iface=sgt1", NULL};
    run_swarm_in(ns, "/tmp/sg-test-tap.json", 80, extra);
    unlink(yaml);
    assert_all_delivered();
    assert_nothing_left();
}

Test(system, dataplane_refuses_a_foreign_image, .timeout = 60)
{
    char path[64];
    snprintf(path, sizeof(path), "/dev/shm/sg-foreign-%d.img", (int)getpid());
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 4096; i++)
        fputc(i & 0xff, f);
    fclose(f);
    char *argv[] = {(char *)proc_bin("SWARMGEN_DP"), "-l", "0", "--no-huge", "-m", "64", "--no-pci",
                    "--no-shconf", "--no-telemetry", "--log-level=1", "--", "--image", path, NULL};
    proc_run(argv, 30, 0, &r);
    unlink(path);
    swarm_assert_exit(&r, 1);
    cr_assert_not_null(strstr(r.err, "not a run image"), "%s", r.err);
    char *noimg[] = {(char *)proc_bin("SWARMGEN_DP"), "-l", "0", "--no-huge", "-m", "64", "--no-pci",
                     "--no-shconf", "--no-telemetry", "--log-level=1", NULL};
    proc_run(noimg, 30, 0, &r);
    swarm_assert_exit(&r, 2);
    cr_assert_not_null(strstr(r.err, "--image"), "%s", r.err);
}

Test(system, routed_sample_draws_m_destinations, .timeout = 60)
{
    char *extra[] = {"--traffic", "udp", "--agents", "500", "--topology", "kmesh:k=6", "--pattern",
                     "routed:50", "--rate", "5000", "--duration", "1s", NULL};
    run_swarm("/tmp/sg-test-sample.json", 50, 0, extra);
    swarm_assert_exit(&r, 0);
    cr_assert_eq(proc_json_num(json, "route_destinations"), 50, "%s", json);
    cr_assert_eq(proc_json_num(json, "route_sample"), 50);
    assert_all_delivered();
    assert_nothing_left();
}

/* ---- the connect phase of --traffic dc (control's side of issue 5) ---- */

/* The number after "key": inside the object that starts at "section": */
static double json_in(const char *section, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "\"%s\": {", section);
    const char *s = strstr(json, pat);
    return s ? proc_json_num(s, key) : NAN;
}

static bool has(const char *text, const char *what)
{
    return strstr(text, what) != NULL;
}

Test(system, dc_connect_phase_ends_when_every_connection_is_up, .timeout = 120)
{
    char *extra[] = {"--agents", "100", "--topology", "kmesh:k=4", "--traffic", "dc:pattern=neighbors",
                     "--rate", "2000", "--duration", "2s", "--seed", "3", NULL};
    run_swarm_with("/tmp/sg-test-dc-up.json", 110, 0, false, extra);
    swarm_assert_exit(&r, 0);
    double edges = json_in("topology", "edges"), total = json_in("connections", "total");
    double up = json_in("connections", "established");
    cr_assert(edges > 100, "edges %g", edges);
    cr_assert_eq(total, edges, "one connection per edge: %g for %g edges", total, edges);
    cr_assert_eq(up, total, "%g of %g up\n%s", up, total, r.out);
    cr_assert_eq(json_in("connections", "given_up"), 0);
    cr_assert(has(json, "\"timed_out\": false"), "the phase ended because all were up\n%s", json);
    /* measured: seconds and connections/s of the phase; one set-up time per connection */
    double secs = json_in("connections", "setup_s"), per_s = json_in("connections", "setup_per_s");
    cr_assert(secs > 0 && secs < 60, "connect phase %g s", secs);
    cr_assert_float_eq(per_s, up / secs, up / secs * 1e-3, "%g/s for %g in %g s", per_s, up, secs);
    cr_assert_eq(json_in("setup_ms", "samples"), up);
    double p50 = json_in("setup_ms", "p50"), p99 = json_in("setup_ms", "p99");
    cr_assert(p50 > 0 && p99 >= p50, "set-up p50 %g p99 %g ms", p50, p99);
    /* the progress line, the end of the phase and the summary line */
    cr_assert(has(r.out, "connect    ["), "no connect progress line\n%s", r.out);
    char want[96];
    snprintf(want, sizeof(want), "%.0f/%.0f connections up in", up, total);
    cr_assert(has(r.out, want), "no '%s' in\n%s", want, r.out);
    snprintf(want, sizeof(want), "connections  %.0f/%.0f up (100.0000%%)", up, total);
    cr_assert(has(r.out, want), "no '%s' in\n%s", want, r.out);
    /* then the load ran for its whole duration */
    cr_assert_gt(json_in("messages", "sent"), 1000);
    cr_assert_gt(proc_json_num(json, "duration_s"), 1.9);
    assert_nothing_left();
}

/* --setup-cap 1 and 5 ms of emulated delay each way: one connection in
 * set-up per core at a time, each some seven round trips of 10 ms, so
 * 4,000 connections take far longer than the few seconds these tests wait
 * (without the delay our handshake brings them all up in about a second) */

Test(system, dc_setup_timeout_starts_the_load_anyway, .timeout = 120)
{
    char *extra[] = {"--agents", "1000", "--topology", "kmesh:k=8", "--setup-cap", "1", "--netem", "delay=5ms",
                     "--setup-timeout", "2s", "--rate", "2000", "--duration", "1s", NULL};
    run_swarm_with("/tmp/sg-test-dc-timeout.json", 110, 0, false, extra);
    swarm_assert_exit(&r, 0);
    cr_assert(has(r.err, "swarmgen: --setup-timeout 2.0 s: ") && has(r.err, "connections not up"),
              "no timeout notice: %s", r.err);
    cr_assert(has(json, "\"timed_out\": true"), "%s", json);
    double secs = json_in("connections", "setup_s");
    cr_assert(secs >= 2 && secs < 4, "connect phase %g s for a 2 s timeout", secs);
    double total = json_in("connections", "total"), up = json_in("connections", "established");
    cr_assert(total > 3900 && up < total, "%g of %g up", up, total);
    /* one progress line a second */
    int lines = 0;
    for (const char *p = r.out; (p = strstr(p, "connect    [")); p++)
        lines++;
    cr_assert(lines >= 1 && lines <= 3, "%d progress lines in 2 s\n%s", lines, r.out);
    cr_assert_gt(proc_json_num(json, "duration_s"), 0.9, "the load ran after the timeout");
    assert_nothing_left();
}

Test(system, dc_ctrl_c_during_the_connect_phase_writes_the_report, .timeout = 90)
{
    char *extra[] = {"--agents", "1000", "--topology", "kmesh:k=8", "--setup-cap", "1", "--netem", "delay=5ms",
                     "--duration", "20s", NULL};
    run_interrupted("/tmp/sg-test-dc-int.json", 3000, extra);
    cr_assert_gt(json_in("connections", "total"), 3900, "%s", json);
    cr_assert_eq(proc_json_num(json, "duration_s"), 0, "no load was generated");
    cr_assert_eq(json_in("messages", "sent"), 0);
    assert_nothing_left();
}

Test(system, dc_dataplane_killed_during_the_connect_phase_is_named, .timeout = 90)
{
    char *extra[] = {"--agents", "1000", "--topology", "kmesh:k=8", "--setup-cap", "1", "--netem", "delay=5ms",
                     "--duration", "20s", NULL};
    run_with_dataplane_killed("/tmp/sg-test-dc-kill.json", 3, "sgkillc", extra);
    cr_assert(has(r.err, "during the connect phase"), "the phase not named: %s", r.err);
    assert_nothing_left();
}
