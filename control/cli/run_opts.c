/* SPDX-License-Identifier: MIT */
/*
 * run_opts: the defaults of `swarmgen run`, the flags read through their
 * table (run_flags.c), then what they mean together: traffic kind and
 * size, backend limits, external peers.
 */
#include "run_opts.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "run_opts_internal.h"
#include "target.h"

int ctl_parse_cores(const char *s, struct ctl_run_opts *o)
{
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
        return -EINVAL;
    bool seen[CPU_SETSIZE] = {false};
    o->n_cores = 0;
    const char *p = s;
    if (!*p)
        return -EINVAL;
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        long a = strtol(p, &end, 10), b = a;
        if (*end == '-') {
            p = end + 1;
            if (*p < '0' || *p > '9')
                return -EINVAL;
            b = strtol(p, &end, 10);
        }
        if (a < 0 || b < a || b >= CPU_SETSIZE)
            return -EINVAL;
        for (long c = a; c <= b; c++) {
            if (!CPU_ISSET((int)c, &allowed) || seen[c] || o->n_cores == RI_MAX_WORKERS)
                return -EINVAL;
            seen[c] = true;
            o->cores[o->n_cores++] = (uint32_t)c;
        }
        if (*end == ',')
            end++;
        else if (*end != '\0')
            return -EINVAL;
        p = end;
    }
    snprintf(o->cores_text, sizeof(o->cores_text), "%s", s);
    return o->n_cores ? 0 : -EINVAL;
}

static void default_cores(struct ctl_run_opts *o)
{
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    sched_getaffinity(0, sizeof(allowed), &allowed);
    o->n_cores = 0;
    size_t len = 0;
    o->cores_text[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE && o->n_cores < RI_MAX_WORKERS; c++) {
        if (!CPU_ISSET(c, &allowed))
            continue;
        o->cores[o->n_cores++] = (uint32_t)c;
        len += (size_t)snprintf(o->cores_text + len, sizeof(o->cores_text) - len, "%s%d",
                                len ? "," : "", c);
        if (len >= sizeof(o->cores_text) - 8)
            break;
    }
}

uint32_t ctl_run_sctp_bufs(uint64_t n_edges, uint32_t n_cores, uint64_t rate, uint32_t msg_size)
{
    uint64_t per_msg = ((uint64_t)msg_size + CTL_SCTP_BUF_BYTES - 1) / CTL_SCTP_BUF_BYTES;
    if (rate > 1000000000000ull)
        rate = 1000000000000ull; /* far above any cap of the result; keeps the product in 64 bits */
    uint64_t demand = 2 * rate * per_msg; /* two seconds of the rate, all cores */
    uint64_t reserve = 2 * n_edges;       /* one buffer per endpoint */
    uint64_t share = demand < reserve ? demand : reserve;
    uint64_t n = 16384 + (n_cores ? share / n_cores : share);
    return n > CTL_SCTP_BUFS_MAX ? CTL_SCTP_BUFS_MAX : (uint32_t)n;
}

uint32_t ctl_run_sctp_heartbeat_ms(const struct ctl_run_opts *o)
{
    if (o->sctp_heartbeat_ms < 0)
        return 0;
    return o->sctp_heartbeat_ms ? (uint32_t)o->sctp_heartbeat_ms : CTL_SCTP_HEARTBEAT_DEFAULT_MS;
}

uint32_t ctl_run_keylog_max(const struct ctl_run_opts *o, uint64_t n_edges)
{
    if (!o->keylog_path || o->traffic != RI_TRAFFIC_DC)
        return 0;
    uint64_t lines = n_edges * o->setup_attempts;
    return (uint32_t)(lines < CTL_KEYLOG_MAX ? lines : CTL_KEYLOG_MAX);
}

/* Settles what --traffic, --size, --pattern and the dc-only flags mean
 * together; exits 2 naming the flag when they do not fit. */
static void resolve_traffic(struct ctl_run_opts *o, const struct ctl_traffic *t, bool size_given,
                            const char *dc_only_flag)
{
    o->traffic = t->kind;
    if (t->rate)
        o->rate = t->rate;
    if (t->size)
        o->msg_size = t->size, size_given = true;
    if (t->have_pattern) {
        o->pattern = t->pattern.pattern;
        o->route_sample = t->pattern.sample;
    }
    if (o->traffic == RI_TRAFFIC_UDP) {
        if (dc_only_flag)
            cli_fail(dc_only_flag, "only with --traffic dc (udp sets up no connections)");
        if (o->msg_size > CTL_UDP_SIZE_MAX)
            cli_fail("--size", "%u bytes is more than %u, the largest plain UDP agent message (--traffic udp)",
                     o->msg_size, CTL_UDP_SIZE_MAX);
        if (o->pattern == RI_PATTERN_ECHO)
            cli_fail("--pattern", "echo needs --traffic dc (a DataChannel carries the message back)");
        return;
    }
    o->dc_type = t->dc_type;
    o->dc_reliability = t->dc_reliability;
    if (o->sign && o->msg_size < CTL_SIGNED_SIZE_MIN) {
        if (size_given)
            cli_fail("--sign", "needs messages of at least %u bytes (32-byte header + 64-byte signature); the size is %u",
                     CTL_SIGNED_SIZE_MIN, o->msg_size);
        o->msg_size = CTL_SIGNED_SIZE_MIN;
    }
}

/* Settles what --backend allows and the pcap defaults. */
static void resolve_backend(struct ctl_run_opts *o)
{
    if (o->pcap_count && !o->pcap_path)
        cli_fail("--pcap-count", "needs --pcap FILE");
    if (o->backend != RI_BACKEND_DPDK && o->n_ports)
        cli_fail("--port", "only with --backend dpdk (the %s backend uses kernel UDP sockets on loopback)",
                 ctl_compare_backend_name(o->backend));
    if (o->backend == RI_BACKEND_USRSCTP && o->traffic != RI_TRAFFIC_DC)
        cli_fail("--backend", "usrsctp carries DataChannels: it needs --traffic dc");
    if (o->backend == RI_BACKEND_USRSCTP) {
        const char *no = o->media     ? "--media"
                         : o->n_netem ? "--netem"
                         : o->pcap_path ? "--pcap"
                         : o->consent ? "--consent"
                                      : NULL;
        if (no)
            cli_fail(no, "not with --backend usrsctp (its stack carries DataChannels only, on kernel sockets)");
        if (o->dtls_versions == RI_DTLS_V13)
            cli_fail("--dtls", "1.3 not with --backend usrsctp (its mbedTLS 2.28 speaks DTLS 1.2 only)");
        if (o->dtls_key_update)
            cli_fail("--dtls-key-update", "not with --backend usrsctp (its mbedTLS 2.28 speaks DTLS 1.2 only)");
    }
    if (o->dtls_key_update && o->dtls_versions == RI_DTLS_V12)
        cli_fail("--dtls-key-update", "needs DTLS 1.3 (--dtls 1.3 or auto): 1.2 has no KeyUpdate");
    if (o->churn_milli && o->backend != RI_BACKEND_DPDK)
        cli_fail("--churn", "only with --backend dpdk (the %s backend does not close and set up connections again)",
                 ctl_compare_backend_name(o->backend));
    if (o->pcap_path && !o->pcap_count)
        o->pcap_count = 1000;
}

/* Settles --external, --signal and the flags that only they allow. */
static void resolve_external(struct ctl_run_opts *o, bool setup_given)
{
    if (o->signal_addr && o->external == RI_EXT_OFF)
        o->external = RI_EXT_ECHO;
    if (o->external == RI_EXT_OFF) {
        const char *no = o->external_port && !o->relay.on && !o->target ? "--external-port"
                         : setup_given                        ? "--external-setup"
                         : o->external_max != RI_EXTERNAL_MAX ? "--external-max"
                         : o->signal_token                    ? "--signal-token"
                         : o->signal_origins[0]               ? "--signal-origin"
                         : o->signal_max_per_client           ? "--signal-max-per-client"
                                                              : NULL;
        if (!no && o->external_idle_ns != CTL_EXTERNAL_IDLE_NS_DEFAULT)
            no = "--external-idle";
        if (!no && o->ext_dtls_versions && !o->target)
            no = "--external-dtls";
        if (no)
            cli_fail(no, "only with --external echo|route, --signal%s",
                     strcmp(no, "--external-port") == 0 ? ", --target or --relay"
                     : strcmp(no, "--external-dtls") == 0 ? " or --target"
                                                          : "");
        return;
    }
    if (o->relay.on)
        cli_fail("--relay", "not with --external yet (both need the external port)");
    if (o->traffic != RI_TRAFFIC_DC)
        cli_fail("--external", "needs --traffic dc (external peers speak WebRTC DataChannels)");
    if (o->backend != RI_BACKEND_DPDK)
        cli_fail("--external", "only with --backend dpdk (the external port is a DPDK port)");
    if (!o->signal_addr)
        o->signal_addr = CTL_SIGNAL_ADDR_DEFAULT;
    if (!o->external_port)
        o->external_port = CTL_EXTERNAL_PORT_DEFAULT;
}

/* Settles --target and the flags that only it allows. */
static void resolve_target(struct ctl_run_opts *o)
{
    if (!o->target) {
        const char *no = o->target_agents                ? "--target-agents"
                         : o->target_token               ? "--target-token"
                         : o->target_rate >= 0           ? "--target-rate"
                         : o->join_rate > 0              ? "--join-rate"
                         : o->join_ramp                  ? "--join-ramp"
                         : o->target_gateway             ? "--target-gateway"
                         : o->target_timeout_ns          ? "--target-timeout"
                         : o->clients_csv                ? "--clients-csv"
                                                         : NULL;
        if (no)
            cli_fail(no, "only with --target");
        return;
    }
    if (o->traffic != RI_TRAFFIC_DC)
        cli_fail("--target", "needs --traffic dc (the server is reached over WebRTC)");
    if (o->backend != RI_BACKEND_DPDK)
        cli_fail("--target", "only with --backend dpdk (the server is reached through the external port)");
    if (o->sides || o->n_shards)
        cli_fail("--target", o->sides ? "not with two sides" : "not with --shard");
    if (!o->target_agents)
        o->target_agents = o->agents < RI_TARGET_MAX ? o->agents : RI_TARGET_MAX;
    if (o->target_agents > o->agents)
        cli_fail("--target-agents", "%u sessions but only %u agents", o->target_agents, o->agents);
    struct ctl_target_config tc = {0};
    char err[256];
    if (ctl_target_parse(o->target, &tc, err, sizeof(err)) == 0 && tc.kind == CTL_TARGET_JANUS_VR &&
        (uint64_t)tc.rooms * (tc.publishers + 1) > o->target_agents)
        cli_fail("--target-agents",
                 "%u sessions for %u rooms of %u publishers: each room needs %u agents at least "
                 "(%llu in all)",
                 o->target_agents, tc.rooms, tc.publishers, tc.publishers + 1,
                 (unsigned long long)tc.rooms * (tc.publishers + 1));
    if (o->media == RI_MEDIA_VIDEO && tc.kind == CTL_TARGET_JANUS_VR)
        cli_fail("--media", "video with --target whip: and janus: only (janus-videoroom sessions send audio)");
    if (o->target_rate < 0)
        o->target_rate = CTL_TARGET_RATE_DEFAULT;
    if (!o->target_timeout_ns)
        o->target_timeout_ns = CTL_TARGET_TIMEOUT_NS_DEFAULT;
    if (o->target_gateway) {
        uint32_t mask = ~0u << (32 - o->target_link_len), gw = o->target_gateway;
        uint32_t first = CTL_IP_BASE + 1, last = CTL_IP_BASE + o->agents;
        if ((first & mask) != (gw & mask) || (last & mask) != (gw & mask))
            cli_fail("--target-gateway", "%u.%u.%u.%u/%u does not hold the agents' addresses (198.18.0.1 .. agent %u): "
                     "the gateway must be on their link", gw >> 24, gw >> 16 & 0xff, gw >> 8 & 0xff, gw & 0xff,
                     o->target_link_len, o->agents - 1);
        if (gw >= first && gw <= last)
            cli_fail("--target-gateway", "%u.%u.%u.%u is agent %u's address", gw >> 24, gw >> 16 & 0xff,
                     gw >> 8 & 0xff, gw & 0xff, gw - first);
    }
    if (!o->external_port)
        o->external_port = CTL_EXTERNAL_PORT_DEFAULT;
}

/* Settles --relay: what it needs (dc, dpdk, one core, no other port use). */
static void resolve_relay(struct ctl_run_opts *o)
{
    if (!o->relay.on)
        return;
    if (o->traffic != RI_TRAFFIC_DC)
        cli_fail("--relay", "needs --traffic dc (the relayed connections are WebRTC peer connections)");
    if (o->backend != RI_BACKEND_DPDK)
        cli_fail("--relay", "only with --backend dpdk (the TURN clients speak on a DPDK port)");
    if (o->n_cores != 1)
        cli_fail("--relay", "needs one core for now (--cores N): the TURN clients live on worker 0");
    if (o->sides || o->n_shards || o->n_ports)
        cli_fail("--relay", "not with %s", o->sides ? "two sides" : o->n_shards ? "--shard" : "--port");
    uint32_t ip = o->relay.ip;
    if (ip > CTL_IP_BASE && ip - CTL_IP_BASE <= o->agents)
        cli_fail("--relay", "%u.%u.%u.%u is agent %u's address; the server needs another (e.g. 198.19.255.254, "
                 "tools/external-port's kernel end)", ip >> 24, ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff,
                 ip - CTL_IP_BASE - 1);
    if (!o->external_port)
        o->external_port = CTL_EXTERNAL_PORT_DEFAULT;
}

/* Settles --side-a, --side-b and --gateway: the two ports become the
 * run's ports, A first. */
static void resolve_sides(struct ctl_run_opts *o)
{
    o->sides = o->side[0] || o->side[1];
    if (!o->sides) {
        if (o->side_gateway[0] || o->side_gateway[1] || o->cross_given)
            cli_fail(o->cross_given ? "--cross" : "--gateway", "only with --side-a and --side-b");
        return;
    }
    if (!o->side[0] || !o->side[1])
        cli_fail(o->side[0] ? "--side-b" : "--side-a", "two sides need both --side-a and --side-b");
    if (o->n_ports)
        cli_fail("--port", "not with --side-a/--side-b (the two sides are the run's ports)");
    if (o->backend != RI_BACKEND_DPDK)
        cli_fail("--side-a", "only with --backend dpdk (the sides are DPDK ports)");
    if (o->external != RI_EXT_OFF)
        cli_fail("--external", "not with two sides");
    if (o->agents > 2 * RI_SIDE_AGENTS_MAX)
        cli_fail("--agents", "%u agents: two sides hold at most %u (%u in each side's /16)", o->agents,
                 2 * RI_SIDE_AGENTS_MAX, RI_SIDE_AGENTS_MAX);
    if (o->cross_all && o->agents > 2 * RI_SIDE_AGENTS_MAX_CROSS)
        cli_fail("--agents", "%u agents: with --cross all two sides hold at most %u (the upper half of each /16 "
                 "is the other side's aliases)", o->agents, 2 * RI_SIDE_AGENTS_MAX_CROSS);
    for (uint32_t side = 0; side < 2; side++) {
        uint32_t gw = o->side_gateway[side];
        if (!gw)
            continue;
        uint32_t net = RI_SIDE_NET(CTL_IP_BASE, side), agents = (o->agents + 1 - side) / 2;
        if ((gw & 0xffff0000u) != net || gw == net || gw == (net | 0xffffu))
            cli_fail("--gateway", "side %c's gateway must be a host of %u.%u.0.0/16", 'A' + side, net >> 24,
                     net >> 16 & 0xff);
        if (gw - net <= agents)
            cli_fail("--gateway", "side %c's gateway %u.%u.%u.%u is an agent's address (agents take .0.1 .. "
                     "the %u-th; use e.g. .255.254)", 'A' + side, gw >> 24, gw >> 16 & 0xff, gw >> 8 & 0xff,
                     gw & 0xff, agents);
        uint32_t aliases = (o->agents + side) / 2; /* the other side's agents */
        if (o->cross_all && gw - net > RI_ALIAS_OFF && gw - net <= RI_ALIAS_OFF + aliases)
            cli_fail("--gateway", "side %c's gateway %u.%u.%u.%u is an alias's address (--cross all: aliases take "
                     ".128.1 on; use e.g. .255.254)", 'A' + side, gw >> 24, gw >> 16 & 0xff, gw >> 8 & 0xff,
                     gw & 0xff);
    }
    o->ports[0] = o->side[0];
    o->ports[1] = o->side[1];
    o->n_ports = 2;
}

static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
    unsigned b[6];
    char buf[32], tail;
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0 && !(mac[0] & 1);
}

/* --peer-mac MAC (every other shard) or I=MAC,J=MAC,... (those shards) */
static void resolve_peer_mac(struct ctl_run_opts *o)
{
    memset(o->peer_macs, 0, sizeof(o->peer_macs));
    const char *s = o->peer_mac;
    if (!strchr(s, '=')) {
        uint8_t mac[6];
        if (!parse_mac(s, strlen(s), mac))
            cli_fail("--peer-mac", "'%s' is not a unicast MAC such as 02:00:00:00:00:01", s);
        for (uint32_t i = 0; i < o->n_shards; i++)
            if (i != o->shard)
                memcpy(o->peer_macs[i], mac, 6);
        return;
    }
    while (*s) {
        char *end;
        unsigned long i = strtoul(s, &end, 10);
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (end == s || *end != '=' || i >= o->n_shards || i == o->shard ||
            !parse_mac(end + 1, len - (size_t)(end + 1 - s), o->peer_macs[i]))
            cli_fail("--peer-mac", "'%.*s' is not I=MAC for another shard I < %u", (int)len, s, o->n_shards);
        s += len + (comma ? 1 : 0);
    }
}

/* Settles --shard and --barrier: the one --port is the link to the other
 * shards. */
static void resolve_shards(struct ctl_run_opts *o)
{
    if (!o->n_shards) {
        if (o->barrier || o->barrier_timeout_ns || o->clock_wall || o->peer_mac)
            cli_fail(o->barrier ? "--barrier" : o->clock_wall ? "--clock" : o->peer_mac ? "--peer-mac" : "--barrier-timeout",
                     "only with --shard I/N");
        return;
    }
    if (o->peer_mac)
        resolve_peer_mac(o);
    if (!o->barrier_timeout_ns)
        o->barrier_timeout_ns = 120000000000ull;
    if (!o->barrier)
        cli_fail("--shard", "needs --barrier HOST:PORT (where the shards meet)");
    if (o->sides)
        cli_fail("--shard", "not with --side-a/--side-b");
    if (o->backend != RI_BACKEND_DPDK)
        cli_fail("--shard", "only with --backend dpdk (the shards are joined by a DPDK port)");
    if (o->n_ports != 1)
        cli_fail("--port", "--shard needs exactly one --port: the link to the other shards");
    if (o->external != RI_EXT_OFF)
        cli_fail("--external", "not with --shard");
    if (o->media != RI_MEDIA_NONE)
        cli_fail("--media", "not with --shard yet (media needs both ends of a connection)");
    if (o->agents < o->n_shards)
        cli_fail("--shard", "%u shards need at least as many agents (--agents %u)", o->n_shards, o->agents);
}

static void set_defaults(struct ctl_run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->agents = 1000;
    snprintf(o->topology, sizeof(o->topology), "kmesh:k=8");
    o->seed = 1;
    o->rate = 20000;
    o->setup_cap = 16;
    o->setup_attempts = 3;
    o->setup_timeout_ns = 600000000000ull;
    o->setup_timeout_auto = true;
    o->media = RI_MEDIA_NONE;
    o->duration_ns = 20000000000ull;
    o->drain_ns = 2000000000ull;
    o->msg_size = 64;
    o->pattern = RI_PATTERN_ROUTED;
    o->route_mem = 1000000000ull;
    o->mbufs_per_worker = 16384;
    o->burst = 32;
    o->huge = -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = ncpu > 0 ? (uint32_t)ncpu : 1;
    o->external_active = true;
    o->external_max = RI_EXTERNAL_MAX;
    o->external_idle_ns = CTL_EXTERNAL_IDLE_NS_DEFAULT;
    o->target_rate = -1; /* not given */
}

void ctl_run_opts_parse(struct ctl_run_opts *o, int argc, char **argv)
{
    set_defaults(o);
    struct ctl_run_parse p = {.o = o};
    char err[256];
    ctl_traffic_parse("dc", &p.traffic, err, sizeof(err));
    cli_parse(&ctl_run_cmd, argc, argv, &p);
    if (!p.cores_set)
        default_cores(o);
    resolve_traffic(o, &p.traffic, p.size_given, p.dc_only_flag);
    if (o->traffic == RI_TRAFFIC_DC && !p.mbufs_given)
        o->mbufs_per_worker = 32768; /* datagrams of many connections in flight on the loopback ring and hand-offs */
    resolve_backend(o);
    resolve_external(o, p.external_setup_given);
    resolve_sides(o);
    resolve_shards(o);
    resolve_target(o);
    resolve_relay(o);
    if (o->srtp_rekey_ns && o->media == RI_MEDIA_NONE)
        cli_fail("--srtp-rekey", "needs --media audio or video");
    if (o->srtp_rekey_ns && (o->target || o->external != RI_EXT_OFF))
        cli_fail("--srtp-rekey", "mesh connections only: not with --target or --external (their peers use no MKI)");
}
