/* SPDX-License-Identifier: MIT */
#include "dp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_eal.h>

#include "dp_conn.h"
#include "dp_external.h"
#include "dp_relay.h"
#include "dp_internal.h"
#include "dp_msg.h"
#include "dp_netem.h"
#include "dp_pcap.h"
#include "dp_sides.h"
#include "dp_uring.h"
#include "sig.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define POOL_CACHE 256

/* The embedded default: one loopback port per worker, DPDK's ring PMD
 * over a ring we size (the vdev form is fixed at 1,024 entries, too few to
 * ride out a few milliseconds of preemption on a shared machine). */
static int create_loopback_ports(struct dp_ctx *ctx, char *err, size_t errlen)
{
    for (uint32_t w = 0; w < ctx->n_workers; w++) {
        char name[RTE_RING_NAMESIZE];
        snprintf(name, sizeof(name), "sg_loop%u", w);
        struct rte_ring *r = rte_ring_create(name, DP_LOOP_RING, (int)rte_socket_id(),
                                             RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!r) {
            snprintf(err, errlen, "loopback ring %s: %s", name, rte_strerror(rte_errno));
            return -ENOMEM;
        }
        ctx->loop_ring[w] = r;
        snprintf(name, sizeof(name), "net_ring_sg%u", w);
        int pid = rte_eth_from_rings(name, &r, 1, &r, 1, rte_socket_id());
        if (pid < 0) {
            snprintf(err, errlen, "loopback port %s: %s", name, rte_strerror(rte_errno));
            return -ENODEV;
        }
        ctx->loop_port[w] = (uint16_t)pid;
    }
    return 0;
}

#define LINK_WAIT_MS 10000

/* Configures port p with nq rx/tx queue pairs and starts it; with `patient`
 * a start that fails is tried again for up to LINK_WAIT_MS (a memif client
 * whose server, another shard, is not up yet). */
static int start_port(struct dp_ctx *ctx, uint16_t p, uint16_t nq, bool patient, char *err, size_t errlen)
{
    struct rte_eth_dev_info info;
    int rc = rte_eth_dev_info_get(p, &info);
    if (rc < 0) {
        snprintf(err, errlen, "port %u: cannot read device info: %s", p, rte_strerror(-rc));
        return rc;
    }
    if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
        snprintf(err, errlen,
                 "port %u (%s): %u workers need %u rx/tx queues, the device has %u/%u "
                 "(for af_packet add qpairs=%u)",
                 p, info.driver_name, ctx->n_workers, nq, info.max_rx_queues, info.max_tx_queues, nq);
        return -EINVAL;
    }
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof(conf));
    rc = rte_eth_dev_configure(p, nq, nq, &conf);
    if (rc < 0) {
        snprintf(err, errlen, "port %u (%s): configure: %s", p, info.driver_name, rte_strerror(-rc));
        return rc;
    }
    uint16_t nrx = RX_DESC, ntx = TX_DESC;
    rte_eth_dev_adjust_nb_rx_tx_desc(p, &nrx, &ntx);
    int socket = rte_eth_dev_socket_id(p);
    if (socket < 0)
        socket = (int)rte_socket_id();
    for (uint16_t q = 0; q < nq; q++) {
        rc = rte_eth_rx_queue_setup(p, q, nrx, (unsigned)socket, NULL, ctx->pool);
        if (rc == 0)
            rc = rte_eth_tx_queue_setup(p, q, ntx, (unsigned)socket, NULL);
        if (rc < 0) {
            snprintf(err, errlen, "port %u (%s): queue %u set-up: %s", p, info.driver_name, q, rte_strerror(-rc));
            return rc;
        }
    }
    rc = rte_eth_dev_start(p);
    uint32_t wait_ms = ctx->ri.cfg->port_wait_ms ? ctx->ri.cfg->port_wait_ms : LINK_WAIT_MS;
    for (uint32_t ms = 0; rc < 0 && patient && ms < wait_ms && !dp_stop; ms += 100) {
        rte_delay_us_sleep(100000);
        rc = rte_eth_dev_start(p);
    }
    if (rc < 0) {
        snprintf(err, errlen, "port %u (%s): start: %s", p, info.driver_name, rte_strerror(-rc));
        return rc;
    }
    rte_eth_promiscuous_enable(p); /* not every vdev supports it: ignored */
    return 0;
}

/* Waits up to LINK_WAIT_MS for port p's link (a memif peer that connects
 * later, a NIC that negotiates): frames sent before it is up are lost. */
static int wait_link(uint16_t p, char *err, size_t errlen)
{
    for (int ms = 0;; ms += 10) {
        struct rte_eth_link link;
        if (rte_eth_link_get_nowait(p, &link) != 0 || link.link_status == RTE_ETH_LINK_UP)
            return 0; /* a driver that cannot tell is taken as up */
        if (ms >= LINK_WAIT_MS || dp_stop)
            break;
        rte_delay_us_sleep(10000);
    }
    char name[RTE_ETH_NAME_MAX_LEN];
    if (rte_eth_dev_get_name_by_port(p, name) != 0)
        snprintf(name, sizeof(name), "%u", p);
    snprintf(err, errlen, "port %s: link still down after %d s", name, LINK_WAIT_MS / 1000);
    return -ENOLINK;
}

/* Two sides: each side's port with a queue per worker, and a loopback
 * port per worker for the connections within a side. */
static int start_sides(struct dp_ctx *ctx, char *err, size_t errlen)
{
    int rc = dp_sides_init(ctx, err, errlen);
    int n_sides = ctx->ri.cfg->n_shards > 1 ? 1 : 2;
    for (int side = 0; rc == 0 && side < n_sides; side++)
        rc = start_port(ctx, ctx->sides->port[side], (uint16_t)ctx->n_workers, true, err, errlen);
    for (uint32_t w = 0; rc == 0 && w < ctx->n_workers; w++)
        rc = start_port(ctx, ctx->loop_port[w], 1, false, err, errlen);
    /* the shards' link comes up when the other shards are there: control
     * waits for it after the start barrier (command.link_up) */
    for (int side = 0; rc == 0 && n_sides == 2 && side < n_sides; side++)
        rc = wait_link(ctx->sides->port[side], err, errlen);
    if (rc < 0)
        return rc;
    char name[2][RTE_ETH_NAME_MAX_LEN];
    if (n_sides == 1) {
        if (rte_eth_dev_get_name_by_port(ctx->sides->port[0], name[0]) != 0)
            snprintf(name[0], sizeof(name[0]), "port %u", ctx->sides->port[0]);
        snprintf(ctx->ri.cmd->port_desc, sizeof(ctx->ri.cmd->port_desc),
                 "shard %u of %u: link %s (%u queue%s), %u loopback ring%s", ctx->ri.cfg->shard,
                 ctx->ri.cfg->n_shards, name[0], ctx->n_workers, ctx->n_workers == 1 ? "" : "s", ctx->n_workers,
                 ctx->n_workers == 1 ? "" : "s");
        ctx->ri.cmd->port_count = 1;
        return 0;
    }
    for (int side = 0; side < 2; side++)
        if (rte_eth_dev_get_name_by_port(ctx->sides->port[side], name[side]) != 0)
            snprintf(name[side], sizeof(name[side]), "port %u", ctx->sides->port[side]);
    snprintf(ctx->ri.cmd->port_desc, sizeof(ctx->ri.cmd->port_desc),
             "two sides: A %s, B %s (%u queue%s each), %u loopback ring%s", name[0], name[1], ctx->n_workers,
             ctx->n_workers == 1 ? "" : "s", ctx->n_workers, ctx->n_workers == 1 ? "" : "s");
    ctx->ri.cmd->port_count = 2;
    return 0;
}

static int setup_ports(struct dp_ctx *ctx, char *err, size_t errlen)
{
    uint16_t pid;
    ctx->n_ports = 0;
    if (ctx->uring) {
        ctx->ri.cmd->port_count = 0;
        return dp_uring_prepare(ctx, err, errlen);
    }
    ctx->embedded = ctx->ri.cfg->n_ports == 0 && !ctx->uring;
    bool apart = ctx->ri.cfg->sides || ctx->ri.cfg->n_shards > 1; /* own loopbacks besides the ports */
    if (ctx->embedded || apart) {
        int rc = create_loopback_ports(ctx, err, errlen);
        if (rc < 0)
            return rc;
    }
    RTE_ETH_FOREACH_DEV(pid)
    {
        if (ctx->n_ports == DP_MAX_PORTS) {
            snprintf(err, errlen, "more than %d ports", DP_MAX_PORTS);
            return -E2BIG;
        }
        ctx->port[ctx->n_ports++] = pid;
    }
    if (ctx->n_ports == 0) {
        snprintf(err, errlen, "no DPDK port found (check --port)");
        return -ENODEV;
    }
    if (apart)
        return start_sides(ctx, err, errlen);
    if (ctx->embedded && ctx->n_ports != ctx->n_workers) {
        snprintf(err, errlen, "embedded default needs one loopback port per worker (%u ports, %u workers)",
                 ctx->n_ports, ctx->n_workers);
        return -EINVAL;
    }
    if (!ctx->embedded && ctx->n_ports > DP_MAX_RXQ) {
        snprintf(err, errlen, "more than %d ports", DP_MAX_RXQ);
        return -E2BIG;
    }
    uint16_t nq = ctx->embedded ? 1 : (uint16_t)ctx->n_workers;
    for (uint16_t i = 0; i < ctx->n_ports; i++) {
        int rc = start_port(ctx, ctx->port[i], nq, false, err, errlen);
        if (rc < 0)
            return rc;
    }
    struct rte_eth_dev_info info;
    rte_eth_dev_info_get(ctx->port[0], &info);
    snprintf(ctx->ri.cmd->port_desc, sizeof(ctx->ri.cmd->port_desc), "%s x%u (%u queue%s each)",
             info.driver_name, ctx->n_ports, nq, nq == 1 ? "" : "s");
    ctx->ri.cmd->port_count = ctx->n_ports;
    return 0;
}

int dp_setup_flows(struct dp_ctx *ctx, char *err, size_t errlen)
{
    uint64_t entries = 2 * ctx->ri.cfg->n_edges;
    struct rte_hash_parameters hp = {
        .name = "sg_flows",
        .entries = (uint32_t)(entries < 1024 ? 1024 : entries + entries / 8),
        .key_len = sizeof(struct dp_flow_key),
        .hash_func = rte_hash_crc,
        .hash_func_init_val = 0,
        .socket_id = (int)rte_socket_id(),
    };
    ctx->flows = rte_hash_create(&hp);
    if (!ctx->flows) {
        snprintf(err, errlen, "flow table for %llu flows: %s", (unsigned long long)entries,
                 rte_strerror(rte_errno));
        return -ENOMEM;
    }
    for (uint64_t e = 0; e < ctx->ri.cfg->n_edges; e++) {
        const struct ri_edge *ed = &ctx->ri.edges[e];
        for (int side = 0; side < 2; side++) {
            /* side 0: frame from a to b (received by b); side 1: b to a */
            uint32_t from = side ? ed->b : ed->a, to = side ? ed->a : ed->b;
            /* --cross all: endpoint b of a connection within a side is its alias */
            bool alias = ri_edge_alias(ctx->ri.cfg, ed->a, ed->b);
            uint32_t ip_b = alias ? ri_alias_ip(ctx->ri.cfg, ed->b) : ctx->ri.agents[ed->b].ip;
            struct dp_flow_key k = {
                .src_ip = rte_cpu_to_be_32(side ? ip_b : ctx->ri.agents[from].ip),
                .dst_ip = rte_cpu_to_be_32(side ? ctx->ri.agents[to].ip : ip_b),
                .src_port = rte_cpu_to_be_16(side ? ed->port_b : ed->port_a),
                .dst_port = rte_cpu_to_be_16(side ? ed->port_a : ed->port_b),
            };
            int rc = rte_hash_add_key_data(ctx->flows, &k, (void *)(uintptr_t)((e << 1 | (uint64_t)side) + 1));
            if (rc < 0) {
                snprintf(err, errlen, "flow table insert: %s", rte_strerror(-rc));
                return rc;
            }
        }
    }
    return 0;
}

static int setup_rings(struct dp_ctx *ctx, char *err, size_t errlen)
{
    for (uint32_t f = 0; f < ctx->n_workers; f++) {
        for (uint32_t t = 0; t < ctx->n_workers; t++) {
            if (f == t)
                continue;
            char name[RTE_RING_NAMESIZE];
            snprintf(name, sizeof(name), "sg_ho_%u_%u", f, t);
            ctx->handoff[f][t] = rte_ring_create(name, DP_HANDOFF_RING, (int)rte_socket_id(),
                                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!ctx->handoff[f][t]) {
                snprintf(err, errlen, "hand-off ring %s: %s", name, rte_strerror(rte_errno));
                return -ENOMEM;
            }
            if (ctx->ri.cfg->traffic != RI_TRAFFIC_DC)
                continue;
            snprintf(name, sizeof(name), "sg_msg_%u_%u", f, t);
            ctx->msg_ring[f][t] = rte_ring_create(name, DP_MSG_RING, (int)rte_socket_id(),
                                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!ctx->msg_ring[f][t]) {
                snprintf(err, errlen, "message hand-off ring %s: %s", name, rte_strerror(rte_errno));
                return -ENOMEM;
            }
        }
    }
    return 0;
}

static int setup_workers(struct dp_ctx *ctx, char *err, size_t errlen)
{
    for (int i = 0; i < RTE_MAX_LCORE; i++)
        ctx->worker_of_lcore[i] = -1;
    uint32_t w = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH(lcore)
    {
        int socket = (int)rte_lcore_to_socket_id(lcore);
        struct dp_worker *wk = rte_zmalloc_socket("sg_worker", sizeof(*wk), RTE_CACHE_LINE_SIZE, socket);
        if (!wk) {
            snprintf(err, errlen, "worker state: out of memory");
            return -ENOMEM;
        }
        ctx->worker[w] = wk;
        wk->idx = w;
        wk->lcore_id = lcore;
        wk->m = &ctx->ri.metrics[w];
        wk->av.hops = ri_agent_hops(ctx->ri.hdr, ctx->ri.cfg->n_agents, w);
        wk->av.a = ri_agent_stats_of(ctx->ri.hdr, ctx->ri.cfg->n_agents, w);
        wk->traffic.agents = wk->av.a;
        wk->traffic.rng = ctx->ri.cfg->seed * 0x9e3779b97f4a7c15ull + w + 1;
        wk->frames_are_msgs = ctx->ri.cfg->traffic != RI_TRAFFIC_DC;
        ctx->worker_of_lcore[lcore] = (int16_t)w;
        ctx->ri.cmd->lcore[w] = lcore;
        if (ctx->uring) {
            wk->n_rxq = 1; /* one receive source: the worker's ring */
        } else if (ctx->sides) {
            wk->rxq[0] = (struct dp_rxq){ctx->loop_port[w], 0, -1};
            wk->rxq[1] = (struct dp_rxq){ctx->sides->port[0], (uint16_t)w, 0};
            wk->rxq[2] = (struct dp_rxq){ctx->sides->port[1], (uint16_t)w, 1};
            wk->n_rxq = ctx->sides->n_shards ? 2 : 3;
            wk->tx_port = ctx->loop_port[w];
            wk->tx_queue = 0;
            wk->sides = ctx->sides;
        } else if (ctx->embedded) {
            wk->rxq[0] = (struct dp_rxq){ctx->port[w], 0, -1};
            wk->n_rxq = 1;
            wk->tx_port = ctx->port[w];
            wk->tx_queue = 0;
        } else {
            for (uint16_t p = 0; p < ctx->n_ports; p++)
                wk->rxq[p] = (struct dp_rxq){ctx->port[p], (uint16_t)w, -1};
            wk->n_rxq = ctx->n_ports;
            wk->tx_port = ctx->port[w % ctx->n_ports];
            wk->tx_queue = (uint16_t)w;
        }
        w++;
    }
    /* local agents */
    uint32_t count[RI_MAX_WORKERS] = {0};
    for (uint32_t a = 0; a < ctx->ri.cfg->n_agents; a++)
        count[ctx->ri.agents[a].worker] += ri_agent_here(ctx->ri.cfg, a) != 0;
    for (w = 0; w < ctx->n_workers; w++) {
        struct dp_worker *wk = ctx->worker[w];
        int socket = (int)rte_lcore_to_socket_id(wk->lcore_id);
        wk->traffic.local = rte_zmalloc_socket("sg_local", (count[w] + 1) * sizeof(uint32_t), 0, socket);
        wk->traffic.seq = rte_zmalloc_socket("sg_seq", (count[w] + 1) * sizeof(uint32_t), 0, socket);
        if (!wk->traffic.local || !wk->traffic.seq) {
            snprintf(err, errlen, "agent tables: out of memory");
            return -ENOMEM;
        }
    }
    for (uint32_t a = 0; a < ctx->ri.cfg->n_agents; a++) {
        struct dp_worker *wk = ctx->worker[ctx->ri.agents[a].worker];
        if (ri_agent_here(ctx->ri.cfg, a))
            wk->traffic.local[wk->traffic.n_local++] = a;
    }
    return 0;
}

/* traffic dc: the agents' certificates, every worker's peer connections,
 * and the agents' signing keys with --sign */
static int setup_connections(struct dp_ctx *ctx, char *err, size_t errlen)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    if (cfg->setup_cap == 0 || cfg->setup_attempts == 0 || cfg->sctp_bufs == 0) {
        snprintf(err, errlen, "run image: set-up cap, attempts and SCTP buffers must be positive");
        return -EINVAL;
    }
    if (cfg->sign) {
        int rc = sig_agent_keys(cfg->seed, cfg->n_agents, &ctx->sig_keys, err, errlen);
        if (rc < 0)
            return rc;
    }
    int crc = dp_conn_certs_init(ctx, err, errlen);
    if (crc < 0)
        return crc;
    uint64_t conn_bytes = 0, pool_bytes = 0, hs_bytes = 0, buf_bytes = 0;
    for (uint32_t w = 0; w < ctx->n_workers; w++) {
        int rc = dp_conns_init(ctx, ctx->worker[w], err, errlen);
        if (rc < 0)
            return rc;
        conn_bytes += ctx->worker[w]->conns->bytes;
        pool_bytes += ctx->worker[w]->conns->pool_bytes;
        buf_bytes += ctx->worker[w]->conns->buf_bytes;
        /* handshake slots and the endpoints' set-up state: what only the way up holds */
        hs_bytes += (uint64_t)ctx->worker[w]->conns->hs.n * ctx->worker[w]->conns->hs.stride +
                    ctx->worker[w]->conns->setup_bytes;
    }
    ctx->ri.cmd->mem_conn_bytes = conn_bytes;
    ctx->ri.cmd->mem_sctp_pool_bytes = pool_bytes;
    ctx->ri.cmd->mem_dp_buf_bytes = buf_bytes;
    ctx->ri.cmd->mem_hs_bytes = hs_bytes;
    return 0;
}

/* --backend uring: every worker's sockets in the first loopback block no
 * other run holds an address of (two runs at once draw the same ports). */
static int setup_uring(struct dp_ctx *ctx, char *err, size_t errlen)
{
    int rc = -EADDRINUSE;
    uint8_t net = DP_URING_NET_FIRST;
    for (int t = 0; t < DP_URING_NET_TRIES && rc == -EADDRINUSE; t++) {
        net = (uint8_t)(DP_URING_NET_FIRST + 2 * t);
        rc = 0;
        for (uint32_t w = 0; rc == 0 && w < ctx->n_workers; w++)
            rc = dp_uring_init(ctx, ctx->worker[w], net, err, errlen);
        if (rc == -EADDRINUSE)
            for (uint32_t w = 0; w < ctx->n_workers; w++)
                dp_uring_free(ctx->worker[w]);
    }
    if (rc < 0)
        return rc;
    snprintf(ctx->ri.cmd->port_desc, sizeof(ctx->ri.cmd->port_desc),
             "io_uring: %llu kernel UDP sockets on 127.%u.0.0/15, multishot receive, %s",
             (unsigned long long)(2 * ctx->ri.cfg->n_edges), net,
             dp_uring_fixed_bufs(ctx->worker[0]) ? "registered send buffers" : "plain sends");
    return 0;
}

uint64_t dp_heap_allocated(void)
{
    uint64_t total = 0;
    for (unsigned s = 0; s < rte_socket_count(); s++) {
        struct rte_malloc_socket_stats st;
        if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
            total += st.heap_allocsz_bytes;
    }
    return total;
}

/* The topology and the next-hop tables are read at random, a few times
 * per message (the owner of an edge, the next hop, the adjacency); among
 * a million connections every read misses the cache, and in the run
 * image's 4 KiB shared pages the TLB too. They are copied into memory of
 * 2 MiB pages (dp_mem_big_alloc) and the view pointed there; the image
 * keeps the originals for control. */
static int copy_tables(struct dp_ctx *ctx, char *err, size_t errlen)
{
    uint64_t first, bytes = ri_tables_span(ctx->ri.hdr, &first), got = 0;
    char *t = dp_mem_big_alloc(bytes, &got);
    if (!t) {
        snprintf(err, errlen, "topology and next-hop tables: %.1f MiB: out of memory", bytes / 1048576.0);
        return -ENOMEM;
    }
    const char *img = (const char *)ctx->ri.hdr;
    memcpy(t, img + first, bytes);
#define REBASE(field) ctx->ri.field = (const void *)(t + ((const char *)ctx->ri.field - img - first))
    REBASE(agents);
    REBASE(adj_off);
    REBASE(adj);
    REBASE(adj_edge);
    REBASE(edges);
    REBASE(dests);
    REBASE(dest_index);
    REBASE(routes);
#undef REBASE
    ctx->tables = t;
    ctx->ri.cmd->mem_tables_bytes = got;
    return 0;
}

int dp_setup(struct dp_ctx *ctx, char *err, size_t errlen)
{
    ri_view_bind(&ctx->ri, ctx->ri.hdr, ctx->ri.size);
    ctx->uring = ctx->ri.cfg->backend == RI_BACKEND_URING;
    if (ctx->ri.cfg->backend != RI_BACKEND_DPDK && !ctx->uring) {
        snprintf(err, errlen, "run image is for backend %u, which swarmgen-dp does not run", ctx->ri.cfg->backend);
        return -EINVAL;
    }
    ctx->n_workers = rte_lcore_count();
    if (ctx->n_workers != ctx->ri.cfg->n_workers) {
        snprintf(err, errlen, "run image expects %u workers, EAL gave %u lcores",
                 ctx->ri.cfg->n_workers, ctx->n_workers);
        return -EINVAL;
    }
    for (uint32_t a = 0; a < ctx->ri.cfg->n_agents; a++) {
        if (ctx->ri.agents[a].worker >= ctx->n_workers) {
            snprintf(err, errlen, "agent %u assigned to worker %u of %u", a,
                     ctx->ri.agents[a].worker, ctx->n_workers);
            return -EINVAL;
        }
    }
    ctx->tsc_hz = rte_get_tsc_hz();
    ctx->ns_per_cycle = 1e9 / (double)ctx->tsc_hz;
    struct timespec rt;
    ctx->clock = (struct agent_clock){.ns_per_cycle = ctx->ns_per_cycle, .wall = ctx->ri.cfg->clock_wall != 0};
    ctx->clock.tsc0 = rte_rdtsc();
    clock_gettime(CLOCK_REALTIME, &rt);
    ctx->clock.rt0 = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;

    uint32_t n_mbufs = ctx->ri.cfg->mbufs_per_worker * ctx->n_workers;
    uint64_t heap0 = dp_heap_allocated();
    ctx->pool = rte_pktmbuf_pool_create("sg_pool", n_mbufs, POOL_CACHE, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
    if (!ctx->pool) {
        snprintf(err, errlen, "mbuf pool of %u buffers: %s", n_mbufs, rte_strerror(rte_errno));
        return -ENOMEM;
    }
    ctx->ri.cmd->mem_mbuf_bytes = dp_heap_allocated() - heap0; /* what DPDK's heap gave the pool */
    int rc = copy_tables(ctx, err, errlen);
    if (rc == 0)
        rc = setup_ports(ctx, err, errlen);
    if (rc == 0)
        rc = dp_setup_flows(ctx, err, errlen);
    if (rc == 0)
        rc = setup_rings(ctx, err, errlen);
    if (rc == 0)
        rc = setup_workers(ctx, err, errlen);
    if (rc == 0 && ctx->sides)
        rc = dp_sides_resolve(ctx, err, errlen);
    if (rc == 0 && ctx->uring)
        rc = setup_uring(ctx, err, errlen);
    if (rc == 0)
        rc = dp_netem_init(ctx, err, errlen);
    if (rc == 0)
        rc = dp_pcap_init(ctx, err, errlen);
    if (rc == 0 && ctx->ri.cfg->traffic == RI_TRAFFIC_DC)
        rc = setup_connections(ctx, err, errlen);
    if (rc == 0)
        rc = dp_external_init(ctx, err, errlen);
    if (rc == 0)
        rc = dp_relay_init(ctx, err, errlen);
    return rc;
}

void dp_teardown(struct dp_ctx *ctx)
{
    dp_external_free(ctx);
    dp_relay_free(ctx);
    for (uint16_t i = 0; i < ctx->n_ports; i++) {
        rte_eth_dev_stop(ctx->port[i]);
        rte_eth_dev_close(ctx->port[i]);
    }
    ctx->n_ports = 0;
    dp_sides_free(ctx);
    for (uint32_t w = 0; w < RI_MAX_WORKERS; w++) {
        struct dp_worker *wk = ctx->worker[w];
        if (wk) {
            /* frames still queued for hand-off are freed with the pool */
            dp_conns_free(wk);
            dp_uring_free(wk);
            rte_free(wk->pcap_rec);
            rte_free(wk->pcap_data);
            rte_free(wk->wheel_head);
            rte_free(wk->wheel_tail);
            rte_free(wk->traffic.local);
            rte_free(wk->traffic.seq);
            rte_free(wk);
            ctx->worker[w] = NULL;
        }
        for (uint32_t t = 0; t < RI_MAX_WORKERS; t++) {
            rte_ring_free(ctx->handoff[w][t]);
            ctx->handoff[w][t] = NULL;
            rte_ring_free(ctx->msg_ring[w][t]);
            ctx->msg_ring[w][t] = NULL;
        }
    }
    for (uint32_t w = 0; w < RI_MAX_WORKERS; w++) {
        rte_ring_free(ctx->loop_ring[w]);
        ctx->loop_ring[w] = NULL;
    }
    free(ctx->tables);
    ctx->tables = NULL;
    free(ctx->uring_ports);
    ctx->uring_ports = NULL;
    free(ctx->sig_keys);
    ctx->sig_keys = NULL;
    dp_conn_certs_free(ctx);
    rte_hash_free(ctx->flows);
    ctx->flows = NULL;
    rte_mempool_free(ctx->pool);
    ctx->pool = NULL;
}
