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
#include "dp_internal.h"
#include "dp_msg.h"
#include "rng.h"
#include "dp_netem.h"
#include "dp_pcap.h"
#include "dp_uring.h"

volatile bool dp_stop;

/* rx bursts per queue per pass, at most: a pass must take back what the
 * last one sent (on the loopback ports every frame sent comes back), or
 * the rings fill, every frame waits in them, the frames and SCTP buffers
 * in flight outgrow the cache and throughput collapses (4 rounds did
 * that at 360,000 messages/s of 1,200 bytes; 32 carry 700,000) */
#define DP_RX_ROUNDS 32

#define ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

static inline void drop(struct dp_worker *wk, enum ri_drop why, struct rte_mbuf *m, bool is_msg)
{
    ADD(wk->m->live.drops[why], 1);
    if (is_msg)
        ADD(wk->m->live.msgs_dropped, 1);
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
        dp_pcap_capture(wk, wk->tx, wk->n_tx, wk->pcap_now);
    uint16_t sent = wk->ur ? dp_uring_tx(wk, wk->tx, (uint16_t)wk->n_tx)
                           : rte_eth_tx_burst(wk->tx_port, wk->tx_queue, wk->tx, (uint16_t)wk->n_tx);
    for (uint32_t i = sent; i < wk->n_tx; i++) {
        bytes -= wk->tx[i]->pkt_len;
        drop(wk, RI_DROP_TX_FULL, wk->tx[i], wk->frames_are_msgs);
    }
    ADD(wk->m->live.pkts_tx, sent);
    ADD(wk->m->live.bytes_tx, bytes);
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
    ADD(wk->m->live.handoff_out, done);
    wk->n_out[to] = 0;
}

void dp_to_owner(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e)
{
    uint32_t owner = ctx->edges[e].worker;
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
                                uint32_t e, uint64_t now)
{
    if (ctx->netem_on) {
        const struct ri_netem *nc = &ctx->cfg->netem[ctx->edges[e].netem_class];
        if (nc->enabled) {
            dp_netem_submit(ctx, wk, m, e, nc, now);
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
    const struct ri_edge *ed = &ctx->edges[e];
    bool from_a = ed->a == from;
    dp_uring_tag(m, e, from_a ? 0 : 1);
    uint32_t to = from_a ? ed->b : ed->a;
    dp_frame_write_l234(f, from, to, ctx->agents[from].ip, ctx->agents[to].ip,
                        from_a ? ed->port_a : ed->port_b, from_a ? ed->port_b : ed->port_a,
                        payload_len, ip_id);
}

void dp_send_frame(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e, uint32_t from,
                   uint16_t payload_len, uint64_t now)
{
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    frame_for_edge(ctx, m, f, e, from, payload_len, wk->ip_id++);
    send_on_edge(ctx, wk, m, e, now);
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
                              uint64_t val, uint64_t now)
{
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    uint32_t e = (uint32_t)(val >> 1);
    const struct ri_edge *ed = &ctx->edges[e];
    uint32_t receiver = (val & 1) ? ed->a : ed->b;
    uint32_t udp_payload = rte_be_to_cpu_16(f->udp.dgram_len) - (uint32_t)sizeof(struct rte_udp_hdr);
    uint32_t mlen = rte_be_to_cpu_16(f->msg.length);
    uint32_t dst = rte_be_to_cpu_32(f->msg.dst);
    if (udp_payload < DP_MSG_HDR_LEN || f->msg.magic != rte_cpu_to_be_32(DP_MSG_MAGIC) ||
        f->msg.version != DP_MSG_VERSION || mlen != udp_payload || dst >= ctx->cfg->n_agents ||
        rte_be_to_cpu_32(f->msg.src) >= ctx->cfg->n_agents) {
        drop(wk, RI_DROP_BAD_MESSAGE, m, false);
        return;
    }
    if (receiver == dst) {
        if (f->msg.seq & rte_cpu_to_be_64(DP_MSG_SEQ_DUPLICATE)) {
            ADD(wk->m->live.msgs_duplicate_rx, 1);
            rte_pktmbuf_free(m);
            return;
        }
        uint64_t sent_tsc = rte_be_to_cpu_64(f->msg.tsc);
        uint64_t ns = now > sent_tsc ? (uint64_t)((double)(now - sent_tsc) * ctx->ns_per_cycle) : 0;
        met_hist_record(&wk->m->latency, ns);
        ADD(wk->m->live.msgs_delivered, 1);
        ADD(wk->m->live.hops_delivered, f->msg.hops);
        rte_pktmbuf_free(m);
        return;
    }
    if ((uint32_t)f->msg.hops + 1 > ctx->cfg->max_hops) {
        drop(wk, RI_DROP_HOP_LIMIT, m, true);
        return;
    }
    int32_t di = ctx->dest_index[dst];
    uint16_t slot = di < 0 ? 0xffff : ctx->routes[(size_t)receiver * ctx->cfg->n_dests + (uint32_t)di];
    if (slot == 0xffff) {
        drop(wk, RI_DROP_NO_ROUTE, m, true);
        return;
    }
    uint32_t e2 = ctx->adj_edge[ctx->adj_off[receiver] + slot];
    f->msg.hops++;
    frame_for_edge(ctx, m, f, e2, receiver, (uint16_t)udp_payload, rte_be_to_cpu_16(f->ip.packet_id));
    ADD(wk->m->live.msgs_forwarded, 1);
    send_on_edge(ctx, wk, m, e2, now);
}

void dp_process_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts,
                   uint16_t n, uint64_t now)
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
    ADD(wk->m->live.pkts_rx, n);
    ADD(wk->m->live.bytes_rx, bytes);
    if (n_ok == 0)
        return;
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(ctx->flows, kp, n_ok, &hits, data);
    if (ctx->cfg->traffic == RI_TRAFFIC_DC) {
        for (uint32_t i = 0; i < n_ok; i++) {
            struct rte_mbuf *m = ok[i];
            if (!(hits & (UINT64_C(1) << i))) {
                drop(wk, RI_DROP_UNKNOWN_FLOW, m, false);
                continue;
            }
            uint64_t val = (uint64_t)(uintptr_t)data[i] - 1;
            uint32_t e = (uint32_t)(val >> 1);
            if (ctx->edges[e].worker != wk->idx) { /* a port that does not steer by connection */
                dp_to_owner(ctx, wk, m, e);
                continue;
            }
            const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
            uint32_t len = rte_be_to_cpu_16(f->udp.dgram_len) - (uint32_t)sizeof(struct rte_udp_hdr);
            dp_conns_input(ctx, wk, val, rte_pktmbuf_mtod_offset(m, const uint8_t *, DP_FRAME_HDR_LEN), len, now);
            rte_pktmbuf_free(m);
        }
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
        const struct ri_edge *ed = &ctx->edges[val >> 1];
        recv[i] = (val & 1) ? ed->a : ed->b;
        uint32_t dst = rte_be_to_cpu_32(rte_pktmbuf_mtod(ok[i], struct dp_frame *)->msg.dst);
        if (dst < ctx->cfg->n_agents && dst != recv[i] && ctx->dest_index[dst] >= 0) {
            route[i] = &ctx->routes[(size_t)recv[i] * ctx->cfg->n_dests + (uint32_t)ctx->dest_index[dst]];
            rte_prefetch0(route[i]);
        }
    }
    const uint32_t *hop_edge[DP_MAX_BURST];
    for (uint32_t i = 0; i < n_ok; i++) {
        hop_edge[i] = NULL;
        if (route[i] && *route[i] != 0xffff) {
            hop_edge[i] = &ctx->adj_edge[ctx->adj_off[recv[i]] + *route[i]];
            rte_prefetch0(hop_edge[i]);
        }
    }
    for (uint32_t i = 0; i < n_ok; i++)
        if (hop_edge[i])
            rte_prefetch0(&ctx->edges[*hop_edge[i]]);
    for (uint32_t i = 0; i < n_ok; i++) {
        if (!(hits & (UINT64_C(1) << i))) {
            drop(wk, RI_DROP_UNKNOWN_FLOW, ok[i], false);
            continue;
        }
        handle_msg(ctx, wk, ok[i], (uint64_t)(uintptr_t)data[i] - 1, now);
    }
}

static void generate(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t now)
{
    double rate = (double)__atomic_load_n(&ctx->cmd->rate_msgs_per_s, __ATOMIC_RELAXED) /
                  (double)ctx->n_workers;
    uint64_t active = __atomic_load_n(&ctx->cmd->active_agents, __ATOMIC_RELAXED);
    uint32_t n_active;
    uint32_t n = traffic_pace(&wk->tokens, &wk->last_pace_tsc, now, rate, ctx->tsc_hz, DP_MAX_BURST, wk->local,
                         wk->n_local, active, &n_active);
    if (n == 0)
        return;
    if (ctx->cfg->traffic == RI_TRAFFIC_DC) {
        dp_conns_generate(ctx, wk, now, n, n_active);
        return;
    }
    struct rte_mbuf *ms[DP_MAX_BURST];
    if (rte_pktmbuf_alloc_bulk(ctx->pool, ms, n) != 0) {
        ADD(wk->m->live.drops[RI_DROP_NO_MBUF], n);
        return;
    }
    const struct ri_config *cfg = ctx->cfg;
    uint16_t payload = (uint16_t)cfg->msg_size;
    for (uint32_t i = 0; i < n; i++) {
        struct rte_mbuf *m = ms[i];
        uint32_t li, src, dst, slot;
        if (!dp_pick_message(ctx, wk, n_active, &li, &src, &dst, &slot)) {
            rte_pktmbuf_free(m);
            continue;
        }
        uint32_t off = ctx->adj_off[src];
        ADD(wk->m->live.msgs_sent, 1);
        if (slot == 0xffff) {
            drop(wk, RI_DROP_NO_ROUTE, m, true);
            continue;
        }
        uint32_t e = ctx->adj_edge[off + slot];
        uint32_t seq = wk->seq[li]++;
        m->data_len = (uint16_t)(DP_FRAME_HDR_LEN + payload);
        m->pkt_len = m->data_len;
        struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
        f->msg.magic = rte_cpu_to_be_32(DP_MSG_MAGIC);
        f->msg.version = DP_MSG_VERSION;
        f->msg.hops = 0;
        f->msg.length = rte_cpu_to_be_16(payload);
        f->msg.src = rte_cpu_to_be_32(src);
        f->msg.dst = rte_cpu_to_be_32(dst);
        f->msg.seq = rte_cpu_to_be_64(seq);
        f->msg.tsc = rte_cpu_to_be_64(now);
        memset((char *)(f + 1), 0xa5, payload - DP_MSG_HDR_LEN);
        frame_for_edge(ctx, m, f, e, src, payload, (uint16_t)seq);
        send_on_edge(ctx, wk, m, e, now);
    }
}

static void publish_snapshot(struct dp_worker *wk, uint64_t req, uint64_t now)
{
    ri_metrics_publish(wk->m, req, now, wk->conns != NULL);
    wk->snap_seen = req;
}

int dp_worker_loop(void *arg)
{
    const struct dp_ctx *ctx = arg;
    int16_t idx = ctx->worker_of_lcore[rte_lcore_id()];
    if (idx < 0)
        return 0;
    struct dp_worker *wk = ctx->worker[idx];
    struct rte_mbuf *pkts[DP_MAX_BURST];
    uint16_t burst = (uint16_t)(ctx->cfg->burst > DP_MAX_BURST ? DP_MAX_BURST : ctx->cfg->burst);
    uint64_t prev = rte_rdtsc();
    bool did_work = false;

    while (!dp_stop) {
        uint64_t now = rte_rdtsc();
        wk->pcap_now = now;
        uint64_t cycles = now - prev;
        ADD(wk->m->live.cycles_total, cycles);
        if (did_work)
            ADD(wk->m->live.cycles_busy, cycles);
        ADD(wk->m->live.passes, 1);
        prev = now;
        did_work = false;

        uint32_t phase = __atomic_load_n(&ctx->cmd->phase, __ATOMIC_ACQUIRE);
        if (phase == RI_PHASE_STOP)
            break;
        uint64_t req = __atomic_load_n(&ctx->cmd->snap_req, __ATOMIC_ACQUIRE);
        if (req != wk->snap_seen)
            publish_snapshot(wk, req, now);

        /* up to DP_RX_ROUNDS bursts per queue, so rx keeps up with what
         * the previous passes sent */
        for (uint32_t q = 0; q < wk->n_rxq; q++) {
            for (int round = 0; round < DP_RX_ROUNDS; round++) {
                uint16_t n = wk->ur ? dp_uring_rx(ctx, wk, pkts, burst)
                                    : rte_eth_rx_burst(wk->rxq[q].port, wk->rxq[q].queue, pkts, burst);
                if (n == 0)
                    break;
                did_work = true;
                dp_process_rx(ctx, wk, pkts, n, now);
                if (n < burst)
                    break;
            }
        }
        for (uint32_t from = 0; from < ctx->n_workers; from++) {
            if (from == wk->idx)
                continue;
            unsigned n = rte_ring_dequeue_burst(ctx->handoff[from][wk->idx], (void **)pkts, burst,
                                                NULL);
            if (n) {
                did_work = true;
                ADD(wk->m->live.handoff_in, n);
                if (wk->conns) /* frames another worker received for our connections */
                    dp_process_rx(ctx, wk, pkts, (uint16_t)n, now);
                else
                    for (unsigned i = 0; i < n; i++)
                        tx_push(wk, pkts[i]);
            }
            if (wk->conns) {
                n = rte_ring_dequeue_burst(ctx->msg_ring[from][wk->idx], (void **)pkts, burst, NULL);
                if (n) {
                    did_work = true;
                    ADD(wk->m->live.handoff_in, n);
                    for (unsigned i = 0; i < n; i++)
                        dp_conns_handoff_in(ctx, wk, pkts[i], now);
                }
            }
        }
        if (ctx->netem_on) {
            uint64_t before = wk->wheel_count;
            dp_netem_poll(ctx, wk, now);
            did_work |= wk->wheel_count != before;
        }
        if (phase == RI_PHASE_RUN) {
            uint64_t before = wk->m->live.msgs_sent;
            generate(ctx, wk, now);
            did_work |= wk->m->live.msgs_sent != before;
        }
        if (wk->conns) {
            if (ctx->external && wk->idx == 0) /* --external: the sessions live on worker 0 */
                did_work |= dp_external_poll(ctx, wk, now);
            did_work |= dp_conns_poll(ctx, wk, now);
            dp_conns_flush_handoff(ctx, wk);
        }
        if (wk->n_tx)
            flush_tx(wk);
        for (uint32_t to = 0; to < ctx->n_workers; to++)
            flush_out(ctx, wk, to);
        if (wk->ur)
            dp_uring_submit(wk);
    }
    flush_tx(wk);
    for (uint32_t to = 0; to < ctx->n_workers; to++)
        flush_out(ctx, wk, to);
    if (ctx->external && wk->idx == 0)
        dp_external_finish(ctx, wk, rte_rdtsc());
    if (wk->conns)
        dp_conns_flush_handoff(ctx, wk);
    if (wk->ur)
        dp_uring_submit(wk);
    return 0;
}
