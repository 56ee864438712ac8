/* SPDX-License-Identifier: MIT */
/*
 * System tests: the real swarmgen + swarmgen-dp on DPDK virtual ports.
 * Each run is short (a few seconds) and bounded by a timeout; every test
 * also checks that no dataplane process and no run-image file is left.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

static struct proc_result r;
static char json[1 << 20];

static void assert_nothing_left(void)
{
    /* the dataplane exits before control does; give the kernel a moment to reap */
    for (int i = 0; i < 50 && proc_count("swarmgen-dp") > 0; i++)
        usleep(100000);
    cr_assert_eq(proc_count("swarmgen-dp"), 0, "a swarmgen-dp process is left");
    cr_assert_eq(proc_shm_files("swarmgen-"), 0, "a run image is left in /dev/shm");
}

/* Runs `swarmgen run` with the given extra flags plus --report; fills json. */
static void run_swarm(const char *report, int timeout_s, int sigint_ms, char *const extra[])
{
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)proc_bin("SWARMGEN_BIN");
    argv[n++] = "run";
    argv[n++] = "--dp";
    argv[n++] = (char *)proc_bin("SWARMGEN_DP");
    argv[n++] = "--report";
    argv[n++] = (char *)report;
    argv[n++] = "--quiet";
    for (int i = 0; extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    unlink(report);
    proc_run(argv, timeout_s, sigint_ms, &r);
    json[0] = '\0';
    proc_read_file(report, json, sizeof(json));
}

static void assert_all_delivered(void)
{
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
    char *extra[] = {"--agents", "3000", "--topology", "kmesh:k=8", "--rate", "60000",
                     "--duration", "3s", "--seed", "7", NULL};
    run_swarm("/tmp/sg-test-routed.json", 80, 0, extra);
    cr_assert_eq(r.exit_code, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.exit_code, r.out, r.err);
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

Test(system, embedded_neighbors_swarm_single_core, .timeout = 90)
{
    char *extra[] = {"--agents", "1000", "--topology", "ring", "--pattern", "neighbors",
                     "--rate", "30000", "--duration", "2s", "--cores", "0", NULL};
    run_swarm("/tmp/sg-test-neigh.json", 80, 0, extra);
    cr_assert_eq(r.exit_code, 0, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
    assert_all_delivered();
    cr_assert_eq(proc_json_num(json, "forwarded"), 0);
    assert_nothing_left();
}

Test(system, ctrl_c_stops_cleanly_and_writes_the_report, .timeout = 90)
{
    char *extra[] = {"--agents", "2000", "--topology", "kmesh:k=6", "--rate", "20000",
                     "--duration", "60s", NULL};
    run_swarm("/tmp/sg-test-int.json", 60, 4000, extra);
    cr_assert_eq(r.exit_code, 130, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
    cr_assert_not_null(strstr(json, "\"interrupted\": true"), "report: %s", json);
    cr_assert_lt(proc_json_num(json, "duration_s"), 30);
    cr_assert_gt(proc_json_num(json, "sent"), 0);
    assert_nothing_left();
}

Test(system, dataplane_start_failure_is_reported, .timeout = 60)
{
    char *extra[] = {"--agents", "100", "--topology", "ring", "--duration", "1s",
                     "--port", "net_nonexistent0", NULL};
    run_swarm("/tmp/sg-test-fail.json", 50, 0, extra);
    cr_assert_eq(r.exit_code, 1, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "swarmgen: dataplane"), "cause not named: %s", r.err);
    assert_nothing_left();
}

Test(system, foreign_frames_are_counted_and_dropped, .timeout = 60)
{
    /* net_null receives an endless stream of zero-filled 64-byte frames:
     * not IPv4, all must be counted under not_ipv4; our own traffic
     * leaves through the null device and is lost. */
    char *extra[] = {"--agents", "200", "--topology", "ring", "--rate", "1000", "--duration",
                     "1s", "--cores", "0", "--port", "net_null0", NULL};
    run_swarm("/tmp/sg-test-null.json", 50, 0, extra);
    cr_assert_eq(r.exit_code, 0, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
    double foreign = proc_json_num(json, "not_ipv4");
    cr_assert_gt(foreign, 10000, "not_ipv4 drops %g", foreign);
    cr_assert_eq(proc_json_num(json, "delivered"), 0);
    assert_nothing_left();
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
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
    char *argv[] = {"/usr/sbin/ip", "netns", "exec", ns, (char *)proc_bin("SWARMGEN_BIN"), "run",
                    "--dp", (char *)proc_bin("SWARMGEN_DP"), "--report",
                    "/tmp/sg-test-afp.json", "--quiet", "--agents", "500", "--topology",
                    "kmesh:k=6", "--rate", "5000", "--duration", "2s", "--cores", "0",
                    "--port", "net_af_packet0,iface=sga", "--port", "net_af_packet1,iface=sgb",
                    NULL};
    if (access(argv[0], X_OK) != 0)
        argv[0] = "/sbin/ip";
    unlink("/tmp/sg-test-afp.json");
    proc_run(argv, 80, 0, &r);
    snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
    sh(cmd);
    proc_read_file("/tmp/sg-test-afp.json", json, sizeof(json));
    cr_assert_eq(r.exit_code, 0, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
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
    char *extra[] = {"--agents", "500", "--topology", "kmesh:k=6", "--rate", "10000",
                     "--duration", "2s", "--cores", "0", "--port", p0, "--port", p1, NULL};
    run_swarm("/tmp/sg-test-memif.json", 50, 0, extra);
    cr_assert_eq(r.exit_code, 0, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
    assert_all_delivered();
    cr_assert_neq(access(sock, F_OK), 0, "memif socket file left behind");
    assert_nothing_left();
}

Test(system, dataplane_killed_mid_run_makes_control_fail_with_the_cause, .timeout = 90)
{
    /* a killer in the background: SIGKILL the dataplane 4 s into the run */
    char killer[256], marker[64];
    snprintf(marker, sizeof(marker), "--file-prefix=sgkill%d", (int)getpid());
    snprintf(killer, sizeof(killer),
             "(sleep 4; pkill -KILL -f '^[^ ]*swarmgen-dp .*sgkill%d') >/dev/null 2>&1 &",
             (int)getpid());
    cr_assert_eq(system(killer), 0);
    char *extra[] = {"--agents", "1000", "--topology", "kmesh:k=6", "--rate", "10000",
                     "--duration", "40s", "--eal", marker, NULL};
    run_swarm("/tmp/sg-test-kill.json", 60, 0, extra);
    cr_assert_eq(r.exit_code, 1, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "killed by signal 9"), "cause not named: %s", r.err);
    cr_assert_eq(proc_shm_files("swarmgen-"), 0, "run image left behind");
}
