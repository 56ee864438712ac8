/* SPDX-License-Identifier: MIT */
#include "dp_harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>

#include "image.h"
#include "../common/ring_image.h"

static bool eal_ready;

static int eal_init(void)
{
    if (eal_ready)
        return 0;
    char *argv[] = {"dp-test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                    "--no-telemetry", "--log-level=1", "-l", "0", NULL};
    if (rte_eal_init(10, argv) < 0)
        return -ENODEV;
    eal_ready = true;
    return 0;
}

/* ring 0-1-2-...-(n-1)-0; edge e joins (e, e+1), the last one (0, n-1);
 * edges and agents round robin over n_workers; routes the shorter way
 * round. The config `c` has the traffic fields filled by the caller. */
static int build_image(struct dp_harness *h, struct ri_config *c, uint32_t n, uint32_t n_workers)
{
    c->n_agents = n;
    c->n_workers = n_workers;
    c->n_edges = n;
    c->n_dests = n;
    if (!c->msg_size)
        c->msg_size = 64;
    c->max_hops = 64;
    c->ip_base = 0xc6120000u;
    struct ri_header *img;
    int rc = ring_image_alloc(c, &img);
    if (rc != 0)
        return rc;
    h->image = img;
    struct ri_edge *ed = ri_section(img, RI_SEC_EDGES);
    ring_image_fill(img, n, c->ip_base, n_workers);
    for (uint32_t e = 0; e < n; e++) {
        ed[e].port_a = (uint16_t)(50000 + 2 * e);
        ed[e].port_b = (uint16_t)(50001 + 2 * e);
    }
    return 0;
}

static int make_pool(struct dp_harness *h, uint32_t n)
{
    static int serial;
    char name[32];
    snprintf(name, sizeof(name), "hpool%d", serial++);
    h->pool_size = n;
    h->ctx.pool = rte_pktmbuf_pool_create(name, n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    return h->ctx.pool ? 0 : -ENOMEM;
}

/* The context on the image built for n_workers workers, with a 1 GHz TSC
 * (a cycle is a nanosecond). */
static void bind_ctx(struct dp_harness *h, uint32_t n_workers)
{
    struct dp_ctx *ctx = &h->ctx;
    ri_view_bind(&ctx->ri, h->image, ((struct ri_header *)h->image)->image_size);
    ctx->n_workers = n_workers;
    ctx->tsc_hz = 1000000000ull;
    ctx->ns_per_cycle = 1.0;
    ctx->clock = (struct agent_clock){.ns_per_cycle = 1.0};
}

int dp_harness_init(struct dp_harness *h)
{
    memset(h, 0, sizeof(*h));
    int rc = eal_init();
    if (rc < 0)
        return rc;
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    rc = build_image(h, &c, H_AGENTS, 2);
    if (rc < 0)
        return rc;
    bind_ctx(h, 2);
    struct dp_ctx *ctx = &h->ctx;
    if ((rc = make_pool(h, 1024)) < 0)
        return rc;
    char err[128];
    rc = dp_setup_flows(ctx, err, sizeof(err));
    if (rc < 0)
        return rc;
    h->wk = calloc(1, sizeof(*h->wk));
    h->wk->idx = 0;
    h->wk->m = &ctx->ri.metrics[0];
    return 0;
}

int dp_harness_init_dc(struct dp_harness *h, const struct dp_harness_dc_opts *opts)
{
    static const struct dp_harness_dc_opts defaults;
    const struct dp_harness_dc_opts *o = opts ? opts : &defaults;
    memset(h, 0, sizeof(*h));
    uint32_t n = o->n_agents ? o->n_agents : H_DC_AGENTS;
    if (n < 3 || n > 64)
        return -EINVAL;
    int rc = eal_init();
    if (rc < 0)
        return rc;
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    c.traffic = RI_TRAFFIC_DC;
    c.pattern = o->pattern;
    c.msg_size = o->msg_size;
    c.seed = o->seed ? o->seed : 1;
    c.dc_type = 0; /* reliable, ordered */
    c.media = o->media;
    c.target_slots = o->target_slots;
    c.dtls_versions = o->dtls_versions;
    c.dtls_key_update = o->dtls_key_update;
    c.setup_cap = 4;
    c.setup_attempts = 2;
    c.sctp_bufs = 4096;
    c.burst = 32;
    rc = build_image(h, &c, n, 1);
    if (rc < 0)
        return rc;
    bind_ctx(h, 1);
    struct dp_ctx *ctx = &h->ctx;
    if ((rc = make_pool(h, o->pool_size ? o->pool_size : 2048)) < 0)
        return rc;
    char err[160];
    if ((rc = dp_setup_flows(ctx, err, sizeof(err))) < 0)
        return rc;
    struct dp_worker *wk = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*wk));
    if (!wk)
        return -ENOMEM;
    memset(wk, 0, sizeof(*wk));
    h->wk = wk;
    ctx->worker[0] = wk;
    wk->idx = 0;
    wk->m = &ctx->ri.metrics[0];
    wk->traffic.rng = c.seed * 0x9e3779b97f4a7c15ull + 1;
    wk->frames_are_msgs = false;
    wk->traffic.local = calloc(n, sizeof(uint32_t));
    wk->traffic.seq = calloc(n, sizeof(uint32_t));
    if (!wk->traffic.local || !wk->traffic.seq)
        return -ENOMEM;
    for (uint32_t a = 0; a < n; a++)
        wk->traffic.local[wk->traffic.n_local++] = a;
    if ((rc = dp_conn_certs_init(ctx, err, sizeof(err))) < 0 || (rc = dp_conns_init(ctx, wk, err, sizeof(err))) < 0)
        return rc;
    h->tsc = wk->conns->tsc0; /* engine ns 0 (NS_BASE) from here; 1 cycle = 1 ns */
    h->wire_ns = 50000;
    return 0;
}

void dp_harness_fini_dc(struct dp_harness *h)
{
    if (h->wk) {
        dp_harness_flush(h);
        dp_conns_free(h->wk);
        dp_conn_certs_free(&h->ctx);
        free(h->wk->traffic.local);
        free(h->wk->traffic.seq);
        free(h->wk);
        h->wk = NULL;
    }
    rte_hash_free(h->ctx.flows);
    h->ctx.flows = NULL;
    rte_mempool_free(h->ctx.pool);
    h->ctx.pool = NULL;
    free(h->image);
    h->image = NULL;
}

static uint32_t edge_between(const struct dp_ctx *ctx, uint32_t a, uint32_t b)
{
    for (uint32_t s = ctx->ri.adj_off[a]; s < ctx->ri.adj_off[a + 1]; s++)
        if (ctx->ri.adj[s] == b)
            return ctx->ri.adj_edge[s];
    return UINT32_MAX;
}

struct rte_mbuf *dp_harness_frame(struct dp_harness *h, uint32_t from, uint32_t to, uint32_t src,
                                  uint32_t dst, uint8_t hops)
{
    const struct dp_ctx *ctx = &h->ctx;
    uint32_t e = edge_between(ctx, from, to);
    if (e == UINT32_MAX)
        return NULL;
    struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
    if (!m)
        return NULL;
    uint16_t payload = 64;
    m->data_len = m->pkt_len = (uint16_t)(DP_FRAME_HDR_LEN + payload);
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    const struct ri_edge *ed = &ctx->ri.edges[e];
    bool from_a = ed->a == from;
    dp_frame_write_l234(f, from, to, ctx->ri.agents[from].ip, ctx->ri.agents[to].ip,
                        from_a ? ed->port_a : ed->port_b, from_a ? ed->port_b : ed->port_a,
                        payload, 1);
    agent_hdr_write(&f->msg, payload, src, dst, 1, 1000);
    f->msg.hops = hops;
    memset(f + 1, 0, payload - AGENT_HDR_LEN);
    return m;
}

struct rte_mbuf *dp_harness_flow_frame(struct dp_harness *h, uint32_t e, bool from_b, const uint8_t *payload,
                                       uint16_t len)
{
    const struct dp_ctx *ctx = &h->ctx;
    if (e >= ctx->ri.cfg->n_edges)
        return NULL;
    struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
    if (!m)
        return NULL;
    uint16_t room = (uint16_t)(rte_pktmbuf_tailroom(m) - DP_FRAME_HDR_LEN);
    if (len > room)
        len = room;
    const struct ri_edge *ed = &ctx->ri.edges[e];
    uint32_t from = from_b ? ed->b : ed->a, to = from_b ? ed->a : ed->b;
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    dp_frame_write_l234(f, from, to, ctx->ri.agents[from].ip, ctx->ri.agents[to].ip, from_b ? ed->port_b : ed->port_a,
                        from_b ? ed->port_a : ed->port_b, len, 7);
    if (len)
        memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, DP_FRAME_HDR_LEN), payload, len);
    m->data_len = m->pkt_len = (uint16_t)(DP_FRAME_HDR_LEN + len);
    return m;
}

struct rte_mbuf *dp_harness_raw(struct dp_harness *h, const uint8_t *bytes, uint16_t len)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(h->ctx.pool);
    if (!m)
        return NULL;
    if (len > rte_pktmbuf_tailroom(m))
        len = (uint16_t)rte_pktmbuf_tailroom(m);
    if (len)
        memcpy(rte_pktmbuf_mtod(m, void *), bytes, len);
    m->data_len = m->pkt_len = len;
    return m;
}

uint32_t dp_harness_flush(struct dp_harness *h)
{
    struct dp_worker *wk = h->wk;
    uint32_t n = wk->n_tx;
    for (uint32_t i = 0; i < wk->n_tx; i++)
        rte_pktmbuf_free(wk->tx[i]);
    wk->n_tx = 0;
    for (uint32_t w = 0; w < RI_MAX_WORKERS; w++) {
        for (uint32_t i = 0; i < wk->n_out[w]; i++)
            rte_pktmbuf_free(wk->out[w][i]);
        n += wk->n_out[w];
        wk->n_out[w] = 0;
        for (uint32_t i = 0; i < wk->n_mout[w]; i++)
            rte_pktmbuf_free(wk->mout[w][i]);
        n += wk->n_mout[w];
        wk->n_mout[w] = 0;
    }
    return n;
}

/* ---- dc: the wire ------------------------------------------------------ */

static void rx_burst(struct dp_harness *h, struct rte_mbuf **pkts, uint32_t n)
{
    for (uint32_t i = 0; i < n; i += DP_MAX_BURST) {
        uint32_t k = n - i < DP_MAX_BURST ? n - i : DP_MAX_BURST;
        dp_process_rx(&h->ctx, h->wk, pkts + i, (uint16_t)k, h->tsc);
    }
}

void dp_harness_rx(struct dp_harness *h, struct rte_mbuf *m)
{
    if (m)
        rx_burst(h, &m, 1);
}

uint32_t dp_harness_wire_pass(struct dp_harness *h)
{
    struct dp_worker *wk = h->wk;
    struct rte_mbuf *wire[RTE_DIM(wk->tx)];
    uint32_t n = wk->n_tx, k = 0;
    memcpy(wire, wk->tx, n * sizeof(wire[0]));
    wk->n_tx = 0;
    h->tsc += h->wire_ns;
    for (uint32_t i = 0; i < n; i++)
        if (!h->tap || !h->tap(h, wire[i], h->tap_arg))
            wire[k++] = wire[i];
    rx_burst(h, wire, k);
    h->frames_carried += n;
    dp_conns_poll(&h->ctx, wk, h->tsc);
    return n;
}

uint64_t dp_harness_next_deadline(const struct dp_harness *h)
{
    const struct dp_conns *cs = h->wk->conns;
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < cs->n; i++) {
        const struct dp_conn *c = &cs->conn[i];
        if ((c->state == DP_CONN_SETUP || c->state == DP_CONN_UP) && cs->wl[i].deadline < t)
            t = cs->wl[i].deadline;
    }
    if (t == UINT64_MAX)
        return t;
    uint64_t ns0 = dp_conn_ns(&h->ctx, cs, cs->tsc0);
    return t <= ns0 ? cs->tsc0 : cs->tsc0 + (t - ns0);
}

int dp_harness_run_until(struct dp_harness *h, bool (*done)(const struct dp_harness *h), uint64_t max_ns)
{
    uint64_t end = h->tsc + max_ns;
    dp_conns_poll(&h->ctx, h->wk, h->tsc);
    while (!done || !done(h)) {
        if (h->tsc >= end)
            return -ETIMEDOUT;
        if (h->wk->n_tx) {
            dp_harness_wire_pass(h);
            continue;
        }
        if (h->wk->conns->q_len && h->wk->conns->in_setup < h->ctx.ri.cfg->setup_cap) {
            dp_conns_poll(&h->ctx, h->wk, h->tsc);
            continue;
        }
        uint64_t d = dp_harness_next_deadline(h);
        if (d == UINT64_MAX) {
            if (done)
                return -EDEADLK;
            h->tsc = end;
            return 0;
        }
        if (d <= h->tsc) {
            /* due, but filed in the wheel's next tick (the current one has
             * run): on to that tick's start */
            uint64_t ns = dp_conn_ns(&h->ctx, h->wk->conns, h->tsc);
            d = h->tsc + DP_CONN_TICK_NS - ns % DP_CONN_TICK_NS;
        }
        h->tsc = d < end ? d : end;
        dp_conns_poll(&h->ctx, h->wk, h->tsc);
    }
    return 0;
}

static bool all_up(const struct dp_harness *h)
{
    return h->wk->m->live.conn_established == h->ctx.ri.cfg->n_edges;
}

int dp_harness_connect_all(struct dp_harness *h, uint64_t max_ns)
{
    return dp_harness_run_until(h, all_up, max_ns);
}

void dp_harness_run_for(struct dp_harness *h, uint64_t ns)
{
    dp_harness_run_until(h, NULL, ns);
}

uint32_t dp_harness_mbufs_out(const struct dp_harness *h)
{
    return h->pool_size - rte_mempool_avail_count(h->ctx.pool);
}

uint32_t dp_harness_mbufs_held(const struct dp_harness *h)
{
    const struct dp_worker *wk = h->wk;
    uint32_t n = wk->n_tx;
    for (uint32_t w = 0; w < RI_MAX_WORKERS; w++)
        n += wk->n_out[w] + wk->n_mout[w];
    if (wk->conns && wk->conns->spare)
        n++;
    return n;
}
