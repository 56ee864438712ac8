/* SPDX-License-Identifier: MIT */
/*
 * The same delivery test on every backend (swarmgen compare's rows): a
 * small swarm whose every edge is a WebRTC peer connection, every
 * connection up and every reliable routed message delivered, on DPDK's
 * embedded ports (dpdk), on kernel UDP sockets through io_uring (uring)
 * and on the usrsctp stack (usrsctp). Plus the uring backend's plain-UDP
 * path and what it puts on the loopback interface. Every test checks that
 * no process and no run image is left.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "swarm_assert.h"
#include "wire_capture.h"

static struct proc_result r;
static char json[1 << 20];

static void run_backend(const char *backend, const char *report, int timeout_s, char *const extra[])
{
    const char *dp = proc_bin(strcmp(backend, "usrsctp") == 0 ? "SWARMGEN_USRSCTP" : "SWARMGEN_DP");
    proc_swarmgen_run(backend, dp, report, timeout_s, extra, &r, json, sizeof(json));
    swarm_check_report(json, &r, strcmp(backend, "usrsctp") == 0);
}

static double json_in(const char *section, const char *key)
{
    return proc_json_in(json, section, key);
}

/* The delivery test every backend passes. */
static void every_reliable_message_delivered(const char *backend)
{
    char report[128];
    snprintf(report, sizeof(report), "/tmp/sg-backend-%s.json", backend);
    /* usrsctp's retransmission timer backs off past the default drain on a
     * busy machine: every backend gets the same longer drain */
    char *extra[] = {"--agents", "60", "--topology", "kmesh:k=4", "--traffic", "dc:rate=2000,pattern=routed",
                     "--duration", "3s", "--drain", "10s", "--seed", "7", NULL};
    run_backend(backend, report, 150, extra);
    swarm_assert_exit(&r, 0);
    char want[64];
    snprintf(want, sizeof(want), "\"backend\": \"%s\"", backend);
    cr_assert(strstr(json, want), "the report names backend %s\n%s", backend, json);
    swarm_assert_all_up(json, &r);
    swarm_assert_all_delivered(json, &r, 3000);
    cr_assert_gt(json_in("messages", "forwarded"), 0, "routed messages relayed by agents");
    cr_assert_gt(json_in("latency_us", "p50"), 0, "latency measured");
    swarm_assert_nothing_left(r.pid);
}

Test(backends, dpdk_delivers_every_reliable_message, .timeout = 160)
{
    every_reliable_message_delivered("dpdk");
}

Test(backends, uring_delivers_every_reliable_message, .timeout = 160)
{
    every_reliable_message_delivered("uring");
}

Test(backends, usrsctp_delivers_every_reliable_message, .timeout = 160)
{
    if (!getenv("SWARMGEN_USRSCTP"))
        cr_skip_test("swarmgen-usrsctp is not built");
    every_reliable_message_delivered("usrsctp");
}

/* Plain UDP on the uring backend: every routed message arrives, each hop a
 * datagram through the kernel; the summary names the sockets. */
Test(backends, uring_plain_udp_delivers_every_message, .timeout = 120)
{
    char *extra[] = {"--agents", "100", "--topology", "kmesh:k=4", "--traffic", "udp", "--rate", "10000",
                     "--duration", "2s", "--seed", "3", NULL};
    run_backend("uring", "/tmp/sg-backend-uring-udp.json", 110, extra);
    swarm_assert_exit(&r, 0);
    double sent = json_in("messages", "sent"), delivered = json_in("messages", "delivered");
    cr_assert_geq(sent, 15000, "%g sent\n%s", sent, r.out);
    cr_assert_eq(sent, delivered, "sent %g, delivered %g\n%s", sent, delivered, json);
    cr_assert(strstr(json, "kernel UDP sockets"), "the port description names the sockets\n%s", json);
    swarm_assert_nothing_left(r.pid);
}

/* What the uring backend sends is real UDP on lo: tshark on the loopback
 * interface sees the agents' STUN, DTLS and SCTP-in-DTLS datagrams between
 * 127.18.0.0/15 addresses while a swarm runs. */
Test(backends, uring_datagrams_are_on_the_loopback_interface, .timeout = 150)
{
    swarm_need_tool(access("/usr/bin/tshark", X_OK) == 0, "tshark", "SWARMGEN_REQUIRE_TSHARK");
    const char *cap = "/tmp/sg-backend-uring-lo.pcap";
    unlink(cap);
    /* dumpcap writes the capture; tshark reads it back afterwards */
    int cap_pid = wire_dumpcap_start("lo", "udp and not net 127.0.0.0/16", 12, 20, cap);
    cr_assert_gt(cap_pid, 0, "dumpcap started");
    char *extra[] = {"--agents", "40", "--topology", "kmesh:k=4", "--traffic", "dc:rate=500", "--duration", "2s",
                     "--seed", "9", NULL};
    run_backend("uring", "/tmp/sg-backend-uring-cap.json", 110, extra);
    swarm_assert_exit(&r, 0);
    wire_dumpcap_wait(cap_pid);
    char base[256];
    snprintf(base, sizeof(base), "-r %s --enable-heuristic stun_udp --enable-heuristic dtls_udp", cap);
    long stun = wire_tshark_count(base, "stun.type == 0x0001");
    cr_assert_gt(stun, 0, "STUN binding requests on lo");
    long hello = wire_tshark_count(base, "dtls.handshake.type == 1");
    cr_assert_geq(hello, json_in("connections", "total"), "a ClientHello per connection on lo (%ld)", hello);
    unlink(cap);
    swarm_assert_nothing_left(r.pid);
}
