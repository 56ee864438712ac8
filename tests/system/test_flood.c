/* SPDX-License-Identifier: MIT */
/*
 * System test: the real swarmgen + swarmgen-dp with --traffic dc under a
 * flood of foreign frames. Two ports on one core: a net_ring loopback
 * (what the worker sends it receives: the swarm's own traffic) and a
 * net_pcap port that replays a capture endlessly as received traffic
 * (infinite_rx=1; its tx side drops). The capture, written here, holds
 * garbage and non-IPv4 frames, runts, truncated and malformed IPv4, TCP,
 * UDP to 5-tuples of no connection, and frames on the swarm's real
 * 5-tuples with payloads that are not WebRTC, broken STUN and DTLS
 * application-data records that do not authenticate.
 *
 * The swarm's 5-tuples: agents are 198.18.0.1 + i; a ring's edges are the
 * sorted pairs (0,1), (0,n-1), (1,2), ..., (n-2,n-1); the ports of edge e
 * come from ctl_edge_port() (control/image.h), as control writes them. If that changes,
 * the frames meant for real connections hit none and the not_webrtc /
 * bad_stun / bad_record checks fail saying so.
 *
 * Expected: exit 0, every connection up, every message delivered, and the
 * report's drops showing each kind of flood frame counted.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "image.h"
#include "proc.h"
#include "rng.h"
#include "swarm_assert.h"
#include "wire_capture.h"

#define AGENTS 20u
#define IP(i) (0xc6120000u + 1u + (i)) /* 198.18.0.1 + i */

static struct proc_result r;
static char json[1 << 20];

/* What of swarmgen is on the machine before our run: dataplane pids and
 * run-image files. Other runs (another engineer's, CI's) may be going on, so
 * "nothing left" means nothing of ours: nothing that was not there before. */
#define MAX_SEEN 256
static char seen[MAX_SEEN][64];
static int n_seen;

static bool was_seen(const char *name)
{
    for (int i = 0; i < n_seen; i++)
        if (strcmp(seen[i], name) == 0)
            return true;
    return false;
}

/* Calls f(name) for every swarmgen-dp process ("pid:N") and run image file
 * ("shm:NAME"). */
static void each_leftover(void (*f)(const char *))
{
    char name[64], comm[64], path[300];
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        if (fgets(comm, sizeof(comm), fp) && strncmp(comm, "swarmgen-dp", 11) == 0) {
            snprintf(name, sizeof(name), "pid:%.50s", de->d_name);
            f(name);
        }
        fclose(fp);
    }
    if (d)
        closedir(d);
    d = opendir("/dev/shm");
    while (d && (de = readdir(d))) {
        if (strncmp(de->d_name, "swarmgen-", 9) == 0) {
            snprintf(name, sizeof(name), "shm:%.55s", de->d_name);
            f(name);
        }
    }
    if (d)
        closedir(d);
}

static void note(const char *name)
{
    if (n_seen < MAX_SEEN)
        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
}

static char left[512];

static void note_new(const char *name)
{
    if (!was_seen(name) && strlen(left) + strlen(name) + 2 < sizeof(left)) {
        strcat(left, " ");
        strcat(left, name);
    }
}

static void before_run(void)
{
    n_seen = 0;
    each_leftover(note);
}

static void assert_nothing_left(void)
{
    /* the dataplane exits before control does; give the kernel a moment to reap */
    for (int i = 0; i < 50; i++) {
        left[0] = '\0';
        each_leftover(note_new);
        if (!left[0])
            return;
        usleep(100000);
    }
    cr_assert_fail("left behind by our run (a swarmgen-dp process or a run image):%s", left);
}

static double json_in(const char *section, const char *key)
{
    return proc_json_in(json, section, key);
}

/* ---- the swarm's 5-tuples (control/run.c) ------------------------------ */


/* edge e of a ring of n agents, as ctl_graph_from_pairs sorts them */
static void ring_edge(uint32_t n, uint32_t e, uint32_t *a, uint32_t *b)
{
    if (e == 0)
        *a = 0, *b = 1;
    else if (e == 1)
        *a = 0, *b = n - 1;
    else
        *a = e - 1, *b = e;
}

/* ---- the capture --------------------------------------------------------- */

static FILE *pcap;
static uint32_t n_frames;

static void put_frame(const uint8_t *fr, uint32_t len)
{
    uint32_t rec[4] = {1700000000u, n_frames, len, len};
    fwrite(rec, sizeof(rec), 1, pcap);
    fwrite(fr, len, 1, pcap);
    n_frames++;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* An Ethernet/IPv4/UDP frame; returns its length. The IPv4 checksum is
 * computed, the UDP checksum 0. */
static uint32_t udp_frame(uint8_t *fr, uint32_t src_ip, uint32_t dst_ip, uint16_t sp, uint16_t dp,
                          const uint8_t *payload, uint32_t len)
{
    memset(fr, 0, 42);
    memcpy(fr, "\x02\x53\x47\x00\x00\x02\x02\x53\x47\x00\x00\x01", 12);
    fr[12] = 0x08;
    uint8_t *ip = fr + 14;
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(28 + len));
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = 17;
    put_be32(ip + 12, src_ip);
    put_be32(ip + 16, dst_ip);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put_be16(ip + 10, (uint16_t)~sum);
    uint8_t *udp = ip + 20;
    put_be16(udp, sp);
    put_be16(udp + 2, dp);
    put_be16(udp + 4, (uint16_t)(8 + len));
    memcpy(udp + 8, payload, len);
    return 42 + len;
}

/* Writes the flood capture; returns the number of frames. With `dtls`, the
 * frames on real 5-tuples include forged DTLS application-data records. */
static uint32_t write_flood(const char *path, bool dtls)
{
    pcap = fopen(path, "wb");
    cr_assert_not_null(pcap);
    wire_pcap_begin(pcap);
    n_frames = 0;
    uint8_t fr[1600], junk[200];
    uint64_t s = 42;
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)ctl_splitmix64(&s);
    uint32_t len;

    /* L2: not IPv4 (an unknown ethertype, IPv6, ARP) and runts */
    memcpy(fr, junk, 60);
    fr[12] = 0x88, fr[13] = 0xb5;
    put_frame(fr, 60);
    fr[12] = 0x86, fr[13] = 0xdd;
    put_frame(fr, 80);
    fr[12] = 0x08, fr[13] = 0x06;
    put_frame(fr, 60);
    put_frame(junk, 10);
    /* L3/L4: truncated IPv4, IP options, TCP, UDP length disagreeing */
    len = udp_frame(fr, IP(0), IP(1), ctl_edge_port(0, 0), ctl_edge_port(0, 1), junk, 40);
    put_frame(fr, 30);
    fr[16] = 0x05, fr[17] = 0xdc; /* total length 1500 in an 82-byte frame */
    put_frame(fr, len);
    len = udp_frame(fr, IP(0), IP(1), ctl_edge_port(0, 0), ctl_edge_port(0, 1), junk, 40);
    fr[14] = 0x46;
    put_frame(fr, len);
    len = udp_frame(fr, IP(0), IP(1), ctl_edge_port(0, 0), ctl_edge_port(0, 1), junk, 40);
    fr[23] = 6;
    put_frame(fr, len);
    len = udp_frame(fr, IP(0), IP(1), ctl_edge_port(0, 0), ctl_edge_port(0, 1), junk, 40);
    fr[38] = 0, fr[39] = 9;
    put_frame(fr, len);
    /* UDP to 5-tuples of no connection: a wrong port, an address of no
     * agent, outside the agent range, and agents that are not neighbours */
    len = udp_frame(fr, IP(0), IP(1), ctl_edge_port(0, 0), 9, junk, 40);
    put_frame(fr, len);
    len = udp_frame(fr, IP(250), IP(1), ctl_edge_port(0, 0), ctl_edge_port(0, 1), junk, 40);
    put_frame(fr, len);
    len = udp_frame(fr, 0x0a000001, 0x0a000002, 5000, 5001, junk, 100);
    put_frame(fr, len);
    len = udp_frame(fr, IP(3), IP(9), 40000, 40001, junk, 100);
    put_frame(fr, len);
    /* the swarm's real 5-tuples, both directions, with foreign payloads */
    for (uint32_t e = 0; e < AGENTS; e++) {
        uint32_t a, b;
        ring_edge(AGENTS, e, &a, &b);
        for (int side = 0; side < 2; side++) {
            uint32_t from = side ? b : a, to = side ? a : b;
            uint16_t sp = ctl_edge_port(e, side), dp = ctl_edge_port(e, 1 - side);
            uint8_t p[120];
            memcpy(p, junk + e, sizeof(p));
            p[0] = (uint8_t)(64 + (e * 2 + (uint32_t)side) % 64); /* not STUN, DTLS or RTP */
            put_frame(fr, udp_frame(fr, IP(from), IP(to), sp, dp, p, 60));
            p[0] = 0x00, p[1] = 0x01; /* STUN-looking, a wrong magic cookie */
            put_frame(fr, udp_frame(fr, IP(from), IP(to), sp, dp, p, 48));
            if (!dtls)
                continue;
            /* a DTLS 1.2 application-data record, epoch 1, that does not authenticate */
            p[0] = 23, p[1] = 0xfe, p[2] = 0xfd, p[3] = 0, p[4] = 1;
            p[11] = 0, p[12] = 100 - 13;
            put_frame(fr, udp_frame(fr, IP(from), IP(to), sp, dp, p, 100));
        }
    }
    fclose(pcap);
    return n_frames;
}

/* Runs the 20-agent ring under the flood; fills r and json. */
static void run_flooded(bool dtls, const char *report, uint32_t *frames)
{
    char cap[64], port[200];
    snprintf(cap, sizeof(cap), "/tmp/sg-flood-%d.pcap", (int)getpid());
    *frames = write_flood(cap, dtls);
    cr_assert_gt(*frames, 50);
    snprintf(port, sizeof(port), "net_pcap0,rx_pcap=%s,infinite_rx=1", cap);
    char *extra[] = {"--traffic", "dc:rate=500", "--agents", "20", "--topology", "ring", "--cores", "0",
                     "--duration", "3s", "--seed", "4", "--port", "net_ring0", "--port", port, NULL};
    char *argv[64];
    proc_swarmgen_argv(argv, 64, NULL, proc_bin("SWARMGEN_DP"), report, true, extra);
    unlink(report);
    before_run();
    proc_run(argv, 90, 0, &r);
    json[0] = '\0';
    proc_read_file(report, json, sizeof(json));
    unlink(cap);
    swarm_assert_exit(&r, 0);
    swarm_check_report(json, &r, false);
}

static void assert_swarm_untouched(void)
{
    double total = json_in("connections", "total"), up = json_in("connections", "established");
    cr_assert_eq(total, AGENTS, "a ring of 20 has 20 connections: %g\n%s", total, json);
    cr_assert_eq(up, total, "%g of %g connections up under the flood (failed attempts: ice %g, dtls %g, "
                 "sctp %g)\n%s", up, total, json_in("failed", "ice"), json_in("failed", "dtls"),
                 json_in("failed", "sctp"), r.out);
    cr_assert_eq(json_in("connections", "given_up"), 0);
    cr_assert_eq(json_in("connections", "closed"), 0);
    double sent = json_in("messages", "sent"), delivered = json_in("messages", "delivered");
    cr_assert(sent >= 1000, "too few messages sent: %g\n%s", sent, r.out);
    cr_assert_eq(delivered, sent, "sent %g, delivered %g under the flood\n%s", sent, delivered, r.out);
    cr_assert_eq(json_in("messages", "lost"), 0);
    cr_assert_gt(json_in("messages", "forwarded"), 0, "routed over a ring: relays");
}

static void assert_flood_counted(uint32_t frames)
{
    double rx = json_in("cores", "rx");
    cr_assert_gt(rx, 100.0 * frames, "the capture was replayed endlessly: %g frames received", rx);
    const char *l234[] = {"not_ipv4", "truncated", "bad_ip_header", "not_udp", "unknown_flow"};
    for (size_t i = 0; i < sizeof(l234) / sizeof(l234[0]); i++)
        cr_assert_gt(json_in("drops", l234[i]), 0, "no %s drops\n%s", l234[i], json);
    const char *conn[] = {"not_webrtc", "bad_stun"};
    for (size_t i = 0; i < sizeof(conn) / sizeof(conn[0]); i++)
        cr_assert_gt(json_in("drops", conn[i]), 0,
                     "no %s drops: the flood's frames on the swarm's 5-tuples reached no connection "
                     "(did control/run.c ctl_edge_port() or the ring's edge order change?)\n%s", conn[i], json);
    /* one frame of the capture is one drop per replay: 3 not-IPv4 frames, 40 not-WebRTC ones */
    double per_replay = json_in("drops", "not_ipv4") / 3;
    cr_assert_gt(json_in("drops", "not_webrtc"), per_replay * 40 * 0.5, "one not-WebRTC drop per flow and replay");
    cr_assert_eq(json_in("drops", "bad_sctp"), 0, "nothing forged reached SCTP");
    cr_assert_eq(json_in("drops", "tx_full"), 0);
}

Test(flood, dc_swarm_delivers_everything_while_foreign_frames_are_counted, .timeout = 120)
{
    uint32_t frames;
    run_flooded(false, "/tmp/sg-test-flood.json", &frames);
    assert_swarm_untouched();
    assert_flood_counted(frames);
    assert_nothing_left();
}

/* The same with forged DTLS application-data records on every real flow:
 * they reach the endpoints during their handshakes too, and must be
 * discarded there as after it (RFC 6347 §4.1.2.7: invalid records are
 * silently discarded), not fail the set-up. */
Test(flood, dc_swarm_comes_up_while_forged_dtls_records_arrive, .timeout = 120)
{
    uint32_t frames;
    run_flooded(true, "/tmp/sg-test-flood-dtls.json", &frames);
    assert_swarm_untouched();
    assert_flood_counted(frames);
    cr_assert_gt(json_in("drops", "bad_record"), 0, "the forged records were counted\n%s", json);
    assert_nothing_left();
}
