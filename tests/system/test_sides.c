/* SPDX-License-Identifier: MIT */
/*
 * Two sides through a device under test (docs/sides.md). The dataplane's
 * two af_packet ports are the outer ends of veth pairs: one pair is a
 * cable between the sides; two pairs into a namespace that forwards
 * between 198.18.0.0/16 and 198.19.0.0/16 make the Linux kernel a router
 * under test. IPv6 is off in every namespace, so every frame on those
 * links is the run's: the report's per-side frame counters must be the
 * DUT's own interface counters, frame for frame and byte for byte.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "swarm_assert.h"

static struct proc_result r;
static char json[1 << 20];
static char host[32], dut[32];

static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* The first line `cmd` prints, as a number (NAN when none). */
static double sh_num(const char *fmt, ...)
{
    char cmd[1024], line[128] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NAN;
    char *got = fgets(line, sizeof(line), p);
    pclose(p);
    char *end;
    double v = got ? strtod(line, &end) : NAN;
    return got && end != line ? v : NAN;
}

static void need_root(void)
{
    if (geteuid() != 0 || sh("command -v ip >/dev/null && command -v tc >/dev/null") != 0)
        cr_skip_test("needs root, iproute2 and tc");
}

static void names(const char *tag)
{
    snprintf(host, sizeof(host), "sg%sh%d", tag, (int)getpid());
    snprintf(dut, sizeof(dut), "sg%sd%d", tag, (int)getpid());
}

static void no_ipv6(const char *ns)
{
    cr_assert_eq(sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                    "net.ipv6.conf.default.disable_ipv6=1",
                    ns),
                 0);
}

/* Host namespace with sa and sb, the outer ends of two veth pairs whose
 * inner ends da (198.18.255.254/16) and db (198.19.255.254/16) are in a
 * namespace that forwards between them. */
static void make_router(void)
{
    cr_assert_eq(sh("ip netns add %s && ip netns add %s", host, dut), 0);
    no_ipv6(host);
    no_ipv6(dut);
    cr_assert_eq(sh("ip -n %s link add sa type veth peer name da netns %s && "
                    "ip -n %s link add sb type veth peer name db netns %s && "
                    "ip -n %s link set sa up && ip -n %s link set sb up && "
                    "ip -n %s addr add 198.18.255.254/16 dev da && ip -n %s addr add 198.19.255.254/16 dev db && "
                    "ip -n %s link set da up && ip -n %s link set db up && "
                    "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1",
                    host, dut, host, dut, host, host, dut, dut, dut, dut, dut),
                 0, "router namespaces");
}

static void cleanup(void)
{
    sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", host, dut);
}

/* `swarmgen run` in the host namespace, side A on sa, side B on sb, one
 * core, plus `extra`; fills json. */
static void run_sides(const char *report, char *const extra[])
{
    char *args[48] = {"--cores", "0", "--side-a", "net_af_packet0,iface=sa", "--side-b", "net_af_packet1,iface=sb"};
    int n = 6;
    for (int i = 0; extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    char *argv[64] = {"/usr/sbin/ip", "netns", "exec", host};
    proc_swarmgen_argv(argv + 4, 60, NULL, proc_bin("SWARMGEN_DP"), report, true, args);
    if (access(argv[0], X_OK) != 0)
        argv[0] = "/sbin/ip";
    unlink(report);
    proc_run(argv, 100, 0, &r);
    json[0] = '\0';
    proc_read_file(report, json, sizeof(json));
    swarm_check_report(json, &r, false);
}

static double dut_stat(const char *ifname, const char *stat)
{
    return sh_num("ip netns exec %s cat /sys/class/net/%s/statistics/%s", dut, ifname, stat);
}

static double side(const char *s, const char *key)
{
    return proc_json_in(json, s, key);
}

Test(sides, over_a_cable_every_crossing_frame_arrives_on_the_other_side, .timeout = 120)
{
    need_root();
    names("c");
    cr_assert_eq(sh("ip netns add %s", host), 0);
    no_ipv6(host);
    cr_assert_eq(sh("ip -n %s link add sa type veth peer name sb && ip -n %s link set sa up && "
                    "ip -n %s link set sb up",
                    host, host, host),
                 0);
    /* kmesh:k=4: neighbours at +-1 cross, at +-2 stay on their side */
    char *extra[] = {"--traffic", "udp", "--agents", "200", "--topology", "kmesh:k=4", "--rate", "4000",
                     "--duration", "2s", "--html", "/tmp/sg-test-sides-cable.html", NULL};
    run_sides("/tmp/sg-test-sides-cable.json", extra);
    cleanup();
    swarm_assert_exit(&r, 0);
    swarm_assert_nothing_left(r.pid);
    double sent = proc_json_num(json, "sent");
    cr_assert(sent > 1000, "too few messages: %g\n%s", sent, r.out);
    cr_assert_eq(proc_json_num(json, "delivered"), sent, "%s", r.out);
    for (int d = 0; d < 2; d++) {
        const char *dir = d ? "b_to_a" : "a_to_b";
        cr_assert(side(dir, "frames_out") > 500, "%s: %s", dir, r.out);
        cr_assert_eq(side(dir, "frames_out"), side(dir, "frames_in"), "%s: a cable loses nothing\n%s", dir, r.out);
        cr_assert(side(dir, "messages_delivered") > 0, "%s", dir);
        cr_assert(side(dir, "p50") > 0, "%s latency", dir);
    }
    cr_assert_eq(side("side_a", "frames_out"), side("side_b", "frames_in"));
    cr_assert_eq(side("side_b", "frames_out"), side("side_a", "frames_in"));
    /* the frames within a side stayed on the worker's loopback ring */
    double wire = side("side_a", "frames_out") + side("side_b", "frames_out");
    cr_assert(proc_json_in(json, "cores", "tx") > wire * 1.2, "no frame stayed within a side: %s", r.out);
    static char html[1 << 20];
    cr_assert(proc_read_file("/tmp/sg-test-sides-cable.html", html, sizeof(html)) > 0);
    cr_assert_not_null(strstr(html, "<h2>Two sides</h2>"), "no sides table in the HTML report");
    unlink("/tmp/sg-test-sides-cable.html");
}

Test(sides, through_a_namespace_router_the_report_counts_what_the_router_counts, .timeout = 150)
{
    need_root();
    names("r");
    make_router();
    char *extra[] = {"--traffic", "dc", "--agents", "100", "--topology", "ring", "--rate", "1000",
                     "--duration", "3s", "--gateway", "A=198.18.255.254,B=198.19.255.254", NULL};
    run_sides("/tmp/sg-test-sides-router.json", extra);
    double da_rx = dut_stat("da", "rx_packets"), da_tx = dut_stat("da", "tx_packets");
    double db_rx = dut_stat("db", "rx_packets"), db_tx = dut_stat("db", "tx_packets");
    double da_rxb = dut_stat("da", "rx_bytes"), db_txb = dut_stat("db", "tx_bytes");
    char mac_a[32] = "", mac_b[32] = "", cmd[160];
    snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /sys/class/net/da/address /sys/class/net/db/address", dut);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (!fgets(mac_a, sizeof(mac_a), p) || !fgets(mac_b, sizeof(mac_b), p))
            mac_a[0] = '\0';
        pclose(p);
    }
    cleanup();
    swarm_assert_exit(&r, 0);
    swarm_assert_nothing_left(r.pid);
    swarm_assert_all_up(json, &r);
    swarm_assert_all_delivered(json, &r, 1000);
    /* every connection of the ring joins the two sides: all cross the router */
    cr_assert(side("a_to_b", "messages_delivered") > 0 && side("b_to_a", "messages_delivered") > 0, "%s", r.out);
    cr_assert(da_rx > 1000, "the router saw %g frames from side A", da_rx);
    cr_assert_eq(side("side_a", "frames_out"), da_rx, "side A out vs the router's da rx\n%s", r.out);
    cr_assert_eq(side("side_a", "frames_in"), da_tx, "side A in vs the router's da tx\n%s", r.out);
    cr_assert_eq(side("side_b", "frames_out"), db_rx, "side B out vs the router's db rx\n%s", r.out);
    cr_assert_eq(side("side_b", "frames_in"), db_tx, "side B in vs the router's db tx\n%s", r.out);
    cr_assert_eq(side("side_a", "bytes_out"), da_rxb);
    cr_assert_eq(side("side_b", "bytes_in"), db_txb);
    cr_assert_eq(side("a_to_b", "dut_lost"), 0);
    cr_assert_eq(side("b_to_a", "dut_lost"), 0);
    /* the gateways' MACs came from ARP */
    mac_a[strcspn(mac_a, "\n")] = '\0';
    mac_b[strcspn(mac_b, "\n")] = '\0';
    char want[64];
    snprintf(want, sizeof(want), "\"gateway_mac\": \"%s\"", mac_a);
    cr_assert_not_null(strstr(json, want), "side A's gateway MAC is not %s: %s", mac_a, json);
    snprintf(want, sizeof(want), "\"gateway_mac\": \"%s\"", mac_b);
    cr_assert_not_null(strstr(json, want), "side B's gateway MAC is not %s", mac_b);
}

/* The router polices A->B: UDP frames leaving towards side B go through
 * a 1 Mbit/s HTB class with a 10-packet queue (ARP does not). What it
 * drops is what the report counts lost in that direction, and B->A
 * loses nothing. */
Test(sides, a_policed_direction_shows_its_losses_and_only_there, .timeout = 150)
{
    need_root();
    names("p");
    make_router();
    if (sh("ip netns exec %s sh -c 'tc qdisc add dev db root handle 1: htb default 20 && "
           "tc class add dev db parent 1: classid 1:10 htb rate 1mbit ceil 1mbit burst 2k quantum 1514 && "
           "tc class add dev db parent 1: classid 1:20 htb rate 1gbit quantum 1514 && "
           "tc qdisc add dev db parent 1:10 handle 10: pfifo limit 10 && "
           "tc filter add dev db parent 1: protocol ip u32 match ip protocol 17 0xff flowid 1:10'",
           dut) != 0) {
        cleanup();
        cr_skip_test("the kernel has no HTB, pfifo or u32");
    }
    char *extra[] = {"--traffic", "udp", "--agents", "100", "--topology", "ring", "--pattern", "neighbors",
                     "--size", "200", "--rate", "2000", "--duration", "3s",
                     "--gateway", "A=198.18.255.254,B=198.19.255.254", NULL};
    run_sides("/tmp/sg-test-sides-police.json", extra);
    double dropped = sh_num("ip netns exec %s tc -s qdisc show dev db | "
                            "awk '/^qdisc pfifo 10:/{p=1} p&&/dropped/{sub(/.*dropped /,\"\"); print $1+0; exit}'",
                            dut);
    cleanup();
    swarm_assert_exit(&r, 0);
    swarm_assert_nothing_left(r.pid);
    cr_assert(dropped > 100, "the router dropped %g frames", dropped);
    cr_assert_eq(side("a_to_b", "dut_lost"), dropped, "A->B lost %g, the router dropped %g\n%s",
                 side("a_to_b", "dut_lost"), dropped, r.out);
    cr_assert_eq(side("b_to_a", "dut_lost"), 0, "%s", r.out);
    cr_assert_eq(proc_json_num(json, "lost"), dropped, "lost messages\n%s", r.out);
}

/* tc netem inside the router adds 5 ms each way: the round trips (echo)
 * grow by 10 ms. Kernels built without sch_netem skip it. */
Test(sides, netem_delay_in_the_router_adds_ten_ms_of_round_trip, .timeout = 200)
{
    need_root();
    names("n");
    make_router();
    char *extra[] = {"--traffic", "dc", "--agents", "60", "--topology", "ring", "--pattern", "echo", "--rate", "500",
                     "--duration", "3s", "--gateway", "A=198.18.255.254,B=198.19.255.254", NULL};
    if (sh("ip netns exec %s tc qdisc add dev da root netem delay 5ms 2>/dev/null", dut) != 0) {
        cleanup();
        cr_skip_test("this kernel has no sch_netem (tc qdisc ... netem)");
    }
    sh("ip netns exec %s tc qdisc del dev da root", dut);
    run_sides("/tmp/sg-test-sides-rtt0.json", extra);
    swarm_assert_exit(&r, 0);
    double base = proc_json_num(json, "round_trip_p50_ms"), base_echo = proc_json_in(json, "latency_us", "p50");
    cr_assert_eq(sh("ip netns exec %s sh -c 'tc qdisc add dev da root netem delay 5ms && "
                    "tc qdisc add dev db root netem delay 5ms'",
                    dut),
                 0);
    run_sides("/tmp/sg-test-sides-rtt1.json", extra);
    cleanup();
    swarm_assert_exit(&r, 0);
    swarm_assert_all_up(json, &r);
    double echo = proc_json_in(json, "latency_us", "p50");
    /* an echo crosses the router twice: +10 ms */
    cr_assert(echo - base_echo > 9000 && echo - base_echo < 13000, "echo p50 %g us, without the delay %g us", echo,
              base_echo);
    double a_to_b = proc_json_in(json, "a_to_b", "p50");
    cr_assert(a_to_b > 9.5 && a_to_b < 13, "A's round trips p50 %g ms", a_to_b);
    cr_assert(base < 2, "round trips without the delay %g ms", base);
}

/* --cross all: the connections within a side cross the DUT too, one end
 * under its alias on the other side. Through the router every frame of
 * the run is on its links: none stays on a loopback ring. */
Test(sides, cross_all_takes_every_connection_through_the_router, .timeout = 150)
{
    need_root();
    names("x");
    make_router();
    /* kmesh:k=4: the connections to the neighbours at +-2 join agents of one side */
    char *extra[] = {"--traffic", "dc", "--agents", "60", "--topology", "kmesh:k=4", "--rate", "600",
                     "--duration", "3s", "--cross", "all", "--gateway", "A=198.18.255.254,B=198.19.255.254", NULL};
    run_sides("/tmp/sg-test-sides-cross.json", extra);
    double da_rx = dut_stat("da", "rx_packets"), db_rx = dut_stat("db", "rx_packets");
    double da_tx = dut_stat("da", "tx_packets"), db_tx = dut_stat("db", "tx_packets");
    cleanup();
    swarm_assert_exit(&r, 0);
    swarm_assert_nothing_left(r.pid);
    swarm_assert_all_up(json, &r);
    swarm_assert_all_delivered(json, &r, 500);
    cr_assert_not_null(strstr(json, "\"cross\": \"all\""), "the report says --cross all");
    double out = side("side_a", "frames_out") + side("side_b", "frames_out");
    cr_assert_eq(proc_json_in(json, "cores", "tx"), out, "every frame sent went out a side's port: %s", r.out);
    cr_assert_eq(side("side_a", "frames_out"), da_rx);
    cr_assert_eq(side("side_b", "frames_out"), db_rx);
    cr_assert_eq(side("side_a", "frames_in"), da_tx);
    cr_assert_eq(side("side_b", "frames_in"), db_tx);
}
