/* SPDX-License-Identifier: MIT */
/*
 * The worker loop: one pass = one TSC read, snapshot request check, rx
 * bursts from this worker's queues, frames handed over by other workers,
 * paced generation, tx burst and hand-off flush.
 *
 * Cost (bench/dataplane, docs/benchmarks.md): see the figures recorded
 * there; the per-message cost is dominated by the bulk flow lookup and the
 * header rewrite of each hop.
 */
#include "dp.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include "dp_conn.h"
#include "dp_external.h"
#include "dp_relay.h"
#include "dp_internal.h"
#include "dp_msg.h"
#include "rng.h"
#include "dp_netem.h"
#include "dp_pcap.h"
#include "dp_sides.h"
#include "dp_uring.h"

volatile bool dp_stop;

/* rx bursts per queue per pass, at most: a pass must take back what the
 * last one sent (on the loopback ports every frame sent comes back), or
 * the rings fill, every frame waits in them, the frames and SCTP buffers
 * in flight outgrow the cache and throughput collapses (4 rounds did
 * that at 360,000 messages/s of 1,200 bytes; 32 carry 700,000) */
#define DP_RX_ROUNDS 32


static inline void drop(struct dp_worker *wk, enum ri_drop why, struct rte_mbuf *m, bool is_msg)
{
    ri_add(wk->m->live.drops[why], 1);
    if (is_msg)
        ri_add(wk->m->live.msgs_dropped, 1);
    rte_pktmbuf_free(m);
}

static void flush_tx(struct dp_worker *wk)
{
    if (wk->n_tx == 0)
        return;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < wk->n_tx; i++)
        bytes += wk->tx[i]->pkt_len;
    if (unlikely(wk->pcap_n < wk->pcap_cap))
        dp_pcap_capture(wk, wk->tx, wk->n_tx, wk->pcap_tsc);
    uint16_t sent = wk->ur      ? dp_uring_tx(wk, wk->tx, (uint16_t)wk->n_tx)
                    : wk->sides ? dp_sides_tx(wk, wk->tx, (uint16_t)wk->n_tx)
                                : rte_eth_tx_burst(wk->tx_port, wk->tx_queue, wk->tx, (uint16_t)wk->n_tx);
    for (uint32_t i = sent; i < wk->n_tx; i++) {
        bytes -= wk->tx[i]->pkt_len;
        drop(wk, RI_DROP_TX_FULL, wk->tx[i], wk->frames_are_msgs);
    }
    ri_add(wk->m->live.pkts_tx, sent);
    ri_add(wk->m->live.bytes_tx, bytes);
    wk->n_tx = 0;
}

static inline void tx_push(struct dp_worker *wk, struct rte_mbuf *m)
{
    wk->tx[wk->n_tx++] = m;
    if (wk->n_tx == RTE_DIM(wk->tx))
        flush_tx(wk);
}

static void flush_out(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t to)
{
    uint32_t n = wk->n_out[to];
    if (n == 0)
        return;
    unsigned done = rte_ring_enqueue_burst(ctx->handoff[wk->idx][to], (void **)wk->out[to], n, NULL);
    for (uint32_t i = done; i < n; i++)
        drop(wk, RI_DROP_HANDOFF_FULL, wk->out[to][i], wk->frames_are_msgs);
    ri_add(wk->m->live.handoff_out, done);
    wk->n_out[to] = 0;
}

void dp_to_owner(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e)
{
    uint32_t owner = ctx->ri.edges[e].worker;
    if (owner == wk->idx) {
        tx_push(wk, m);
        return;
    }
    wk->out[owner][wk->n_out[owner]++] = m;
    if (wk->n_out[owner] == DP_MAX_BURST)
        flush_out(ctx, wk, owner);
}

/* Sends frame `m` (headers written for edge `e`) through the edge's network
 * emulation class, if any, to the edge's owner. */
static inline void send_on_edge(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m,
                                uint32_t e, uint64_t tsc)
{
    if (ctx->netem_on) {
        const struct ri_netem *nc = &ctx->ri.cfg->netem[ctx->ri.edges[e].netem_class];
        if (nc->enabled) {
            dp_netem_submit(ctx, wk, m, e, nc, tsc);
            return;
        }
    }
    dp_to_owner(ctx, wk, m, e);
}

/* Writes the L2-L4 headers of frame m (at f) for sending from agent `from`
 * over edge `e`, and tags it with the sending endpoint (the uring
 * backend's socket). */
static inline void frame_for_edge(const struct dp_ctx *ctx, struct rte_mbuf *m, struct dp_frame *f, uint32_t e,
                                  uint32_t from, uint16_t payload_len, uint16_t ip_id)
{
    const struct ri_edge *ed = &ctx->ri.edges[e];
    bool from_a = ed->a == from;
    dp_uring_tag(m, e, from_a ? 0 : 1);
    uint32_t to = from_a ? ed->b : ed->a;
    uint32_t ip_from = ctx->ri.agents[from].ip, ip_to = ctx->ri.agents[to].ip;
    uint32_t alias = 0; /* --cross all: bit 0, the sender is endpoint b's alias; bit 1, the receiver is */
    if (unlikely(ctx->ri.cfg->cross_all) && ri_edge_alias(ctx->ri.cfg, ed->a, ed->b)) {
        alias = from_a ? 2 : 1;
        if (from_a)
            ip_to = ri_alias_ip(ctx->ri.cfg, to);
        else
            ip_from = ri_alias_ip(ctx->ri.cfg, from);
    }
    dp_frame_write_l234(f, from, to, ip_from, ip_to, from_a ? ed->port_a : ed->port_b,
                        from_a ? ed->port_b : ed->port_a, payload_len, ip_id);
    if (unlikely(ctx->sides != NULL)) {
        if (alias)
            (alias & 1 ? &f->eth.src_addr : &f->eth.dst_addr)->addr_bytes[2] = DP_ALIAS_MAC2;
        dp_sides_address(ctx->sides, m, f, to, (from & 1) ^ (alias & 1), (to & 1) ^ (alias >> 1));
    }
}

void dp_send_frame(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e, uint32_t from,
                   uint16_t payload_len, uint64_t tsc)
{
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    frame_for_edge(ctx, m, f, e, from, payload_len, wk->ip_id++);
    send_on_edge(ctx, wk, m, e, tsc);
}

/* Checks L2-L4 of a received frame; fills its flow key. Returns the drop
 * reason, or RI_DROP_COUNT when the frame is well formed. */
static inline enum ri_drop parse_frame(struct rte_mbuf *m, struct dp_flow_key *k)
{
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    if (m->data_len < RTE_ETHER_HDR_LEN)
        return RI_DROP_TRUNCATED;
    if (f->eth.ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
        return RI_DROP_NOT_IPV4;
    if (m->nb_segs != 1) /* our frames always fit one segment */
        return RI_DROP_BAD_MESSAGE;
    if (m->data_len < DP_FRAME_HDR_LEN)
        return RI_DROP_TRUNCATED;
    if (f->ip.version_ihl != RTE_IPV4_VHL_DEF)
        return RI_DROP_BAD_IP_HEADER;
    uint16_t ip_len = rte_be_to_cpu_16(f->ip.total_length);
    if (ip_len < sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
        return RI_DROP_BAD_IP_HEADER;
    if ((uint32_t)ip_len + RTE_ETHER_HDR_LEN > m->data_len)
        return RI_DROP_TRUNCATED;
    if (f->ip.next_proto_id != IPPROTO_UDP)
        return RI_DROP_NOT_UDP;
    uint16_t udp_len = rte_be_to_cpu_16(f->udp.dgram_len);
    if (udp_len != ip_len - sizeof(struct rte_ipv4_hdr))
        return RI_DROP_BAD_IP_HEADER;
    k->src_ip = f->ip.src_addr;
    k->dst_ip = f->ip.dst_addr;
    k->src_port = f->udp.src_port;
    k->dst_port = f->udp.dst_port;
    k->zero = 0;
    return RI_DROP_COUNT;
}

/* Delivers or relays one frame of flow value `val` (edge << 1 | side). */
static inline void handle_msg(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m,
                              uint64_t val, uint64_t tsc)
{
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    uint32_t e = (uint32_t)(val >> 1);
    const struct ri_edge *ed = &ctx->ri.edges[e];
    uint32_t receiver = (val & 1) ? ed->a : ed->b;
    uint32_t udp_payload = rte_be_to_cpu_16(f->udp.dgram_len) - (uint32_t)sizeof(struct rte_udp_hdr);
    uint32_t dst = rte_be_to_cpu_32(f->msg.dst);
    if (!agent_hdr_ok(&f->msg, udp_payload, ctx->ri.cfg->n_agents)) {
        drop(wk, RI_DROP_BAD_MESSAGE, m, false);
        return;
    }
    if (receiver == dst) {
        if (f->msg.seq & rte_cpu_to_be_64(AGENT_SEQ_DUPLICATE)) {
            ri_add(wk->m->live.msgs_duplicate_rx, 1);
            rte_pktmbuf_free(m);
            return;
        }
        uint32_t src = rte_be_to_cpu_32(f->msg.src);
        uint64_t ns = 0;
        bool has_ns = ri_agent_here(ctx->ri.cfg, src) || ctx->clock.wall;
        if (has_ns) {
            ns = agent_latency(&f->msg, tsc, &ctx->clock);
            met_hist_record(&wk->m->latency, ns);
            ri_record_direction(wk->m, ctx->ri.cfg, src, dst, ns);
        } else { /* stamped by another shard's clock */
            ri_add(wk->m->live.msgs_remote_delivered, 1);
        }
        ri_agent_delivered(&wk->av, src, dst, f->msg.hops, ns, has_ns);
        ri_add(wk->m->live.msgs_delivered, 1);
        ri_add(wk->m->live.hops_delivered, f->msg.hops);
        rte_pktmbuf_free(m);
        return;
    }
    if ((uint32_t)f->msg.hops + 1 > ctx->ri.cfg->max_hops) {
        drop(wk, RI_DROP_HOP_LIMIT, m, true);
        if (wk->av.a)
            wk->av.a[receiver].drop_relay++;
        return;
    }
    uint16_t slot = ri_next_hop(&ctx->ri, receiver, dst);
    if (slot == RI_ROUTE_NONE) {
        drop(wk, RI_DROP_NO_ROUTE, m, true);
        if (wk->av.a)
            wk->av.a[receiver].drop_relay++;
        return;
    }
    uint32_t e2 = ctx->ri.adj_edge[ctx->ri.adj_off[receiver] + slot];
    f->msg.hops++;
    frame_for_edge(ctx, m, f, e2, receiver, (uint16_t)udp_payload, rte_be_to_cpu_16(f->ip.packet_id));
    ri_add(wk->m->live.msgs_forwarded, 1);
    if (wk->av.a)
        wk->av.a[receiver].forwarded++;
    send_on_edge(ctx, wk, m, e2, tsc);
}

void dp_process_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts,
                   uint16_t n, uint64_t tsc)
{
    struct dp_flow_key keys[DP_MAX_BURST];
    const void *kp[DP_MAX_BURST];
    struct rte_mbuf *ok[DP_MAX_BURST];
    void *data[DP_MAX_BURST];
    uint32_t n_ok = 0;
    uint64_t bytes = 0;

    for (uint16_t i = 0; i < n; i++) {
        if (i + 4 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
        struct rte_mbuf *m = pkts[i];
        bytes += m->pkt_len;
        enum ri_drop why = parse_frame(m, &keys[n_ok]);
        if (why != RI_DROP_COUNT) {
            drop(wk, why, m, false);
            continue;
        }
        kp[n_ok] = &keys[n_ok];
        ok[n_ok++] = m;
    }
    ri_add(wk->m->live.pkts_rx, n);
    ri_add(wk->m->live.bytes_rx, bytes);
    if (n_ok == 0)
        return;
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(ctx->flows, kp, n_ok, &hits, data);
    if (ctx->ri.cfg->traffic == RI_TRAFFIC_DC) {
        /* the edges (their owner), then this worker's connections, each a
         * stage for the whole burst (dp_conns_burst_begin) */
        uint64_t vals[DP_MAX_BURST];
        uint32_t n_mine = 0;
        for (uint32_t i = 0; i < n_ok; i++)
            if (hits & (UINT64_C(1) << i))
                rte_prefetch0(&ctx->ri.edges[((uint64_t)(uintptr_t)data[i] - 1) >> 1]);
        for (uint32_t i = 0; i < n_ok; i++) {
            uint64_t val = (uint64_t)(uintptr_t)data[i] - 1;
            if ((hits & (UINT64_C(1) << i)) && ctx->ri.edges[val >> 1].worker == wk->idx)
                vals[n_mine++] = val;
        }
        dp_conns_burst_begin(ctx, wk, vals, n_mine);
        for (uint32_t i = 0; i < n_ok; i++) {
            struct rte_mbuf *m = ok[i];
            if (!(hits & (UINT64_C(1) << i))) {
                drop(wk, RI_DROP_UNKNOWN_FLOW, m, false);
                continue;
            }
            uint64_t val = (uint64_t)(uintptr_t)data[i] - 1;
            uint32_t e = (uint32_t)(val >> 1);
            if (ctx->ri.edges[e].worker != wk->idx) { /* a port that does not steer by connection */
                dp_to_owner(ctx, wk, m, e);
                continue;
            }
            const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
            uint32_t len = rte_be_to_cpu_16(f->udp.dgram_len) - (uint32_t)sizeof(struct rte_udp_hdr);
            dp_conns_input(ctx, wk, val, rte_pktmbuf_mtod_offset(m, const uint8_t *, DP_FRAME_HDR_LEN), len, tsc);
            rte_pktmbuf_free(m);
        }
        dp_conns_burst_end(ctx, wk, tsc);
        return;
    }
    /* A relay reads three tables at random: the next-hop entry (agents x
     * destinations: 200 MB for 10,000 agents), then the edge id of that
     * slot, then the edge. Each stage prefetches for the whole burst before
     * the next one reads, so the burst pays about one memory latency per
     * stage instead of one per frame and table. */
    const uint16_t *route[DP_MAX_BURST];
    uint32_t recv[DP_MAX_BURST];
    for (uint32_t i = 0; i < n_ok; i++) {
        route[i] = NULL;
        if (!(hits & (UINT64_C(1) << i)))
            continue;
        uint64_t val = (uint64_t)(uintptr_t)data[i] - 1;
        const struct ri_edge *ed = &ctx->ri.edges[val >> 1];
        recv[i] = (val & 1) ? ed->a : ed->b;
        uint32_t dst = rte_be_to_cpu_32(rte_pktmbuf_mtod(ok[i], struct dp_frame *)->msg.dst);
        if (dst < ctx->ri.cfg->n_agents && dst != recv[i] && ctx->ri.dest_index[dst] >= 0) {
            route[i] = &ctx->ri.routes[(size_t)recv[i] * ctx->ri.cfg->n_dests + (uint32_t)ctx->ri.dest_index[dst]];
            rte_prefetch0(route[i]);
        }
    }
    const uint32_t *hop_edge[DP_MAX_BURST];
    for (uint32_t i = 0; i < n_ok; i++) {
        hop_edge[i] = NULL;
        if (route[i] && *route[i] != RI_ROUTE_NONE) {
            hop_edge[i] = &ctx->ri.adj_edge[ctx->ri.adj_off[recv[i]] + *route[i]];
            rte_prefetch0(hop_edge[i]);
        }
    }
    for (uint32_t i = 0; i < n_ok; i++)
        if (hop_edge[i])
            rte_prefetch0(&ctx->ri.edges[*hop_edge[i]]);
    for (uint32_t i = 0; i < n_ok; i++) {
        if (!(hits & (UINT64_C(1) << i))) {
            drop(wk, RI_DROP_UNKNOWN_FLOW, ok[i], false);
            continue;
        }
        handle_msg(ctx, wk, ok[i], (uint64_t)(uintptr_t)data[i] - 1, tsc);
    }
}

/* The messages due by the pacing: plain UDP frames, or DataChannel
 * messages on the connections. Whether any was generated. */
static bool generate(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    uint64_t before = wk->m->live.msgs_sent;
    uint32_t n_active;
    uint32_t n = traffic_pace(&wk->traffic, ctx->ri.cmd, ctx->n_workers, tsc, ctx->tsc_hz, DP_MAX_BURST, &n_active);
    if (n == 0)
        return false;
    if (ctx->ri.cfg->traffic == RI_TRAFFIC_DC) {
        dp_conns_generate(ctx, wk, tsc, n, n_active);
        return wk->m->live.msgs_sent != before;
    }
    struct rte_mbuf *ms[DP_MAX_BURST];
    if (rte_pktmbuf_alloc_bulk(ctx->pool, ms, n) != 0) {
        ri_add(wk->m->live.drops[RI_DROP_NO_MBUF], n);
        return false;
    }
    const struct ri_config *cfg = ctx->ri.cfg;
    uint16_t payload = (uint16_t)cfg->msg_size;
    for (uint32_t i = 0; i < n; i++) {
        struct rte_mbuf *m = ms[i];
        struct traffic_msg t;
        if (traffic_next(&wk->traffic, &ctx->ri, wk->m, n_active, &t) != TRAFFIC_SEND) {
            rte_pktmbuf_free(m);
            continue;
        }
        m->data_len = (uint16_t)(DP_FRAME_HDR_LEN + payload);
        m->pkt_len = m->data_len;
        struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
        agent_hdr_write(&f->msg, payload, t.src, t.dst, t.seq, agent_stamp(&ctx->clock, tsc));
        memset((char *)(f + 1), 0xa5, payload - AGENT_HDR_LEN);
        frame_for_edge(ctx, m, f, t.edge, t.src, payload, (uint16_t)t.seq);
        send_on_edge(ctx, wk, m, t.edge, tsc);
    }
    return wk->m->live.msgs_sent != before;
}

/* Cycles since the previous pass, attributed to busy or idle by whether
 * that pass did any work. */
static void account_pass(struct dp_worker *wk, uint64_t tsc, uint64_t *prev, bool did_work)
{
    uint64_t cycles = tsc - *prev;
    ri_add(wk->m->live.cycles_total, cycles);
    if (did_work)
        ri_add(wk->m->live.cycles_busy, cycles);
    ri_add(wk->m->live.passes, 1);
    *prev = tsc;
}

void dp_worker_gauges(const struct dp_ctx *ctx, struct dp_worker *wk)
{
    if (wk->idx == 0 && ctx->pool)
        ri_set(wk->m->live.mbufs_in_use, rte_mempool_in_use_count(ctx->pool));
    ri_set(wk->m->live.sctp_bufs_in_use, dp_conns_sctp_bufs_in_use(ctx, wk));
}

/* Copies the counters for control when it asked for a snapshot. */
static void serve_snapshot(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    uint64_t req = __atomic_load_n(&ctx->ri.cmd->snap_req, __ATOMIC_ACQUIRE);
    if (req == wk->snap_seen)
        return;
    dp_worker_gauges(ctx, wk);
    ri_metrics_publish(wk->m, req, tsc, wk->conns != NULL);
    wk->snap_seen = req;
}

/* Received frames: up to DP_RX_ROUNDS bursts per queue, so rx keeps up
 * with what the previous passes sent. */
static bool rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t burst, uint64_t tsc)
{
    bool did_work = false;
    for (uint32_t q = 0; q < wk->n_rxq; q++) {
        for (int round = 0; round < DP_RX_ROUNDS; round++) {
            uint16_t n = wk->ur ? dp_uring_rx(ctx, wk, pkts, burst)
                                : rte_eth_rx_burst(wk->rxq[q].port, wk->rxq[q].queue, pkts, burst);
            if (n == 0)
                break;
            did_work = true;
            uint16_t got = n;
            if (wk->rxq[q].side >= 0)
                n = dp_sides_rx(ctx, wk, (uint32_t)wk->rxq[q].side, pkts, n);
            if (n)
                dp_process_rx(ctx, wk, pkts, n, tsc);
            if (got < burst)
                break;
        }
    }
    return did_work;
}

/* What the other workers handed over: frames relayed onto our edges (or,
 * with connections, received for them), and agent messages to send on our
 * connections. */
static bool handoffs(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t burst,
                     uint64_t tsc)
{
    bool did_work = false;
    for (uint32_t from = 0; from < ctx->n_workers; from++) {
        if (from == wk->idx)
            continue;
        unsigned n = rte_ring_dequeue_burst(ctx->handoff[from][wk->idx], (void **)pkts, burst, NULL);
        if (n) {
            did_work = true;
            ri_add(wk->m->live.handoff_in, n);
            if (wk->conns) /* frames another worker received for our connections */
                dp_process_rx(ctx, wk, pkts, (uint16_t)n, tsc);
            else
                for (unsigned i = 0; i < n; i++)
                    tx_push(wk, pkts[i]);
        }
        if (wk->conns) {
            n = rte_ring_dequeue_burst(ctx->msg_ring[from][wk->idx], (void **)pkts, burst, NULL);
            if (n) {
                did_work = true;
                ri_add(wk->m->live.handoff_in, n);
                dp_conns_handoff_burst(ctx, wk, pkts, n, tsc);
            }
        }
    }
    return did_work;
}

/* Frames the network emulation held that are due now. */
static bool netem_release(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    if (!ctx->netem_on)
        return false;
    uint64_t before = wk->wheel_count;
    dp_netem_poll(ctx, wk, tsc);
    return wk->wheel_count != before;
}

/* The peer connections (and external sessions): their timers, and what
 * this pass's input and generation left them to send. */
static bool connections(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    bool did_work = false;
    /* --external and --target: the sessions live on worker 0 (target mode
     * may run without mesh connections) */
    if (ctx->external && wk->idx == 0)
        did_work = dp_external_poll(ctx, wk, tsc);
    if (ctx->relay) /* --relay: one worker, the TURN clients on it */
        did_work |= dp_relay_poll(ctx, wk, tsc);
    if (wk->conns)
        did_work |= dp_conns_poll(ctx, wk, tsc);
    if (ctx->relay)
        dp_relay_flush(ctx, wk);
    return did_work;
}

/* Sends what the pass queued: the tx burst, the hand-off rings, the
 * io_uring submissions. */
static void tx_flush(const struct dp_ctx *ctx, struct dp_worker *wk)
{
    if (wk->conns)
        dp_conns_flush_handoff(ctx, wk);
    if (wk->n_tx)
        flush_tx(wk);
    for (uint32_t to = 0; to < ctx->n_workers; to++)
        flush_out(ctx, wk, to);
    if (wk->ur)
        dp_uring_submit(wk);
}

/* ---- the census when the workers stop ----------------------------------- */

/* Workers that reached the census (one run per process). */
static uint32_t census_arrived;

/* Waits until every worker has left its loop and flushed (nothing is
 * produced into another worker's rings after that), at most 2 s. false on
 * a timeout: the census is not taken (in flight unknown). */
static bool census_barrier(const struct dp_ctx *ctx)
{
    __atomic_add_fetch(&census_arrived, 1, __ATOMIC_ACQ_REL);
    uint64_t end = rte_rdtsc() + 2 * ctx->tsc_hz;
    while (__atomic_load_n(&census_arrived, __ATOMIC_ACQUIRE) < ctx->n_workers) {
        if (rte_rdtsc() > end)
            return false;
        rte_pause();
    }
    return true;
}

/* Frames sent and not yet received: taken off this worker's receive
 * queues (ports, or the io_uring sockets) until they stay empty, counted
 * when they carry a message, freed. */
static uint64_t census_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t burst)
{
    uint64_t n = 0;
    for (uint32_t idle = 0, rounds = 0; idle < 4 && rounds < 100000; rounds++) {
        uint32_t got = 0;
        if (wk->ur) {
            dp_uring_submit(wk); /* collects the completions of the receives */
            uint16_t k = dp_uring_rx(ctx, wk, pkts, burst);
            for (uint16_t i = 0; i < k; i++) {
                n += dp_frame_is_msg(wk, pkts[i]);
                rte_pktmbuf_free(pkts[i]);
            }
            got += k;
        } else {
            for (uint32_t q = 0; q < wk->n_rxq; q++) {
                uint16_t k = rte_eth_rx_burst(wk->rxq[q].port, wk->rxq[q].queue, pkts, burst);
                got += k;
                if (k && wk->rxq[q].side >= 0) /* counted as received on the side (the DUT did not lose them) */
                    k = dp_sides_rx(ctx, wk, (uint32_t)wk->rxq[q].side, pkts, k);
                for (uint16_t i = 0; i < k; i++) {
                    n += dp_frame_is_msg(wk, pkts[i]);
                    rte_pktmbuf_free(pkts[i]);
                }
            }
        }
        idle = got ? 0 : idle + 1;
    }
    return n;
}

/* After the drain, before the final snapshot: counts, independently of
 * the counters, the agent messages still held anywhere this worker is the
 * one to take them from (its netem wheel, the hand-off rings to it, its
 * receive queues, its connections) into msgs_in_flight_end, and sets
 * msgs_census. The frames and hand-offs counted are freed; the
 * connections are left as they are. */
static void census(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t burst)
{
    if (!census_barrier(ctx))
        return;
    uint64_t n = dp_netem_census(ctx, wk);
    for (uint32_t from = 0; from < ctx->n_workers; from++) {
        if (from == wk->idx)
            continue;
        unsigned k;
        while ((k = rte_ring_dequeue_burst(ctx->handoff[from][wk->idx], (void **)pkts, burst, NULL)) > 0)
            for (unsigned i = 0; i < k; i++) {
                n += dp_frame_is_msg(wk, pkts[i]);
                rte_pktmbuf_free(pkts[i]);
            }
        while (wk->conns &&
               (k = rte_ring_dequeue_burst(ctx->msg_ring[from][wk->idx], (void **)pkts, burst, NULL)) > 0) {
            n += k; /* one agent message each */
            rte_pktmbuf_free_bulk(pkts, k);
        }
    }
    if (wk->frames_are_msgs)
        n += census_rx(ctx, wk, pkts, burst);
    if (wk->conns)
        n += dp_conns_census(ctx, wk);
    ri_set(wk->m->live.msgs_in_flight_end, n);
    ri_set(wk->m->live.msgs_census, 1);
}

int dp_worker_loop(void *arg)
{
    const struct dp_ctx *ctx = arg;
    int16_t idx = ctx->worker_of_lcore[rte_lcore_id()];
    if (idx < 0)
        return 0;
    struct dp_worker *wk = ctx->worker[idx];
    struct rte_mbuf *pkts[DP_MAX_BURST];
    uint16_t burst = (uint16_t)(ctx->ri.cfg->burst > DP_MAX_BURST ? DP_MAX_BURST : ctx->ri.cfg->burst);
    dp_conns_prefault(wk);
    uint64_t prev = rte_rdtsc();
    bool did_work = false;

    while (!dp_stop) {
        uint64_t tsc = rte_rdtsc(); /* one clock read a pass */
        wk->pcap_tsc = tsc;
        account_pass(wk, tsc, &prev, did_work);
        uint32_t phase = __atomic_load_n(&ctx->ri.cmd->phase, __ATOMIC_ACQUIRE);
        if (phase == RI_PHASE_STOP)
            break;
        serve_snapshot(ctx, wk, tsc);
        did_work = rx(ctx, wk, pkts, burst, tsc);
        did_work |= handoffs(ctx, wk, pkts, burst, tsc);
        did_work |= netem_release(ctx, wk, tsc);
        if (phase == RI_PHASE_RUN) {
            if (unlikely(!wk->run_tsc))
                wk->run_tsc = tsc;
            did_work |= generate(ctx, wk, tsc);
        }
        did_work |= connections(ctx, wk, tsc);
        if (unlikely(ctx->sides != NULL) && wk->idx == 0)
            dp_sides_poll(ctx, wk, tsc);
        tx_flush(ctx, wk);
    }
    if (ctx->external && wk->idx == 0)
        dp_external_finish(ctx, wk, rte_rdtsc());
    if (ctx->relay && wk->idx == 0)
        dp_relay_finish(ctx, wk);
    tx_flush(ctx, wk);
    census(ctx, wk, pkts, burst);
    return 0;
}
