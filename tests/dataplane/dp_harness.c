/* SPDX-License-Identifier: MIT */
#include "dp_harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>

#include "image.h"

static bool eal_ready;

/* ring 0-1-2-...-7-0; edge e joins (e, e+1), the last one (0, 7) */
static void build_image(struct dp_harness *h)
{
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    c.n_agents = H_AGENTS;
    c.n_workers = 2;
    c.n_edges = H_AGENTS;
    c.n_dests = H_AGENTS;
    c.msg_size = 64;
    c.max_hops = 64;
    c.ip_base = 0xc6120000u;
    struct ri_header hd;
    ctl_image_layout(&c, &hd);
    h->image = aligned_alloc(RI_ALIGN, (hd.image_size + RI_ALIGN - 1) / RI_ALIGN * RI_ALIGN);
    memset(h->image, 0, hd.image_size);
    memcpy(h->image, &hd, sizeof(hd));
    struct ri_header *img = h->image;
    memcpy(ri_section(img, RI_SEC_CONFIG), &c, sizeof(c));
    struct ri_agent *ag = ri_section(img, RI_SEC_AGENTS);
    struct ri_edge *ed = ri_section(img, RI_SEC_EDGES);
    uint32_t *off = ri_section(img, RI_SEC_ADJ_OFF), *adj = ri_section(img, RI_SEC_ADJ),
             *adj_edge = ri_section(img, RI_SEC_ADJ_EDGE), *dests = ri_section(img, RI_SEC_DESTS);
    int32_t *di = ri_section(img, RI_SEC_DEST_INDEX);
    uint16_t *routes = ri_section(img, RI_SEC_ROUTES);
    for (uint32_t e = 0; e < H_AGENTS; e++) {
        uint32_t a = e, b = (e + 1) % H_AGENTS;
        ed[e].a = a < b ? a : b;
        ed[e].b = a < b ? b : a;
        ed[e].port_a = (uint16_t)(50000 + 2 * e);
        ed[e].port_b = (uint16_t)(50001 + 2 * e);
        ed[e].worker = (uint16_t)(e % 2);
    }
    for (uint32_t v = 0; v < H_AGENTS; v++) {
        ag[v].ip = c.ip_base + 1 + v;
        ag[v].worker = (uint16_t)(v % 2);
        ag[v].degree = 2;
        off[v] = 2 * v;
        /* slot 0: the previous agent, slot 1: the next one */
        adj[2 * v] = (v + H_AGENTS - 1) % H_AGENTS;
        adj_edge[2 * v] = (v + H_AGENTS - 1) % H_AGENTS;
        adj[2 * v + 1] = (v + 1) % H_AGENTS;
        adj_edge[2 * v + 1] = v;
        dests[v] = v;
        di[v] = (int32_t)v;
    }
    off[H_AGENTS] = 2 * H_AGENTS;
    for (uint32_t v = 0; v < H_AGENTS; v++)
        for (uint32_t d = 0; d < H_AGENTS; d++) {
            uint32_t fwd = (d + H_AGENTS - v) % H_AGENTS;
            routes[v * H_AGENTS + d] = v == d ? 0xffff : fwd <= H_AGENTS / 2 ? 1 : 0;
        }
}

int dp_harness_init(struct dp_harness *h)
{
    memset(h, 0, sizeof(*h));
    if (!eal_ready) {
        char *argv[] = {"dp-test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                        "--no-telemetry", "--log-level=1", "-l", "0", NULL};
        if (rte_eal_init(10, argv) < 0)
            return -ENODEV;
        eal_ready = true;
    }
    build_image(h);
    struct dp_ctx *ctx = &h->ctx;
    ctx->img = h->image;
    dp_bind_image(ctx);
    ctx->n_workers = 2;
    ctx->tsc_hz = 1000000000ull;
    ctx->ns_per_cycle = 1.0;
    static int serial;
    char name[32];
    snprintf(name, sizeof(name), "hpool%d", serial++);
    ctx->pool = rte_pktmbuf_pool_create(name, 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!ctx->pool)
        return -ENOMEM;
    char err[128];
    int rc = dp_setup_flows(ctx, err, sizeof(err));
    if (rc < 0)
        return rc;
    h->wk = calloc(1, sizeof(*h->wk));
    h->wk->idx = 0;
    h->wk->m = &ctx->metrics[0];
    return 0;
}

static uint32_t edge_between(const struct dp_ctx *ctx, uint32_t a, uint32_t b)
{
    for (uint32_t s = ctx->adj_off[a]; s < ctx->adj_off[a + 1]; s++)
        if (ctx->adj[s] == b)
            return ctx->adj_edge[s];
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
    uint16_t payload = 64;
    m->data_len = m->pkt_len = (uint16_t)(DP_FRAME_HDR_LEN + payload);
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    const struct ri_edge *ed = &ctx->edges[e];
    bool from_a = ed->a == from;
    dp_frame_write_l234(f, from, to, ctx->agents[from].ip, ctx->agents[to].ip,
                        from_a ? ed->port_a : ed->port_b, from_a ? ed->port_b : ed->port_a,
                        payload, 1);
    f->msg.magic = rte_cpu_to_be_32(DP_MSG_MAGIC);
    f->msg.version = DP_MSG_VERSION;
    f->msg.hops = hops;
    f->msg.length = rte_cpu_to_be_16(payload);
    f->msg.src = rte_cpu_to_be_32(src);
    f->msg.dst = rte_cpu_to_be_32(dst);
    f->msg.seq = rte_cpu_to_be_64(1);
    f->msg.tsc = rte_cpu_to_be_64(1000);
    memset(f + 1, 0, payload - DP_MSG_HDR_LEN);
    return m;
}

struct rte_mbuf *dp_harness_raw(struct dp_harness *h, const uint8_t *bytes, uint16_t len)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(h->ctx.pool);
    if (!m)
        return NULL;
    if (len > rte_pktmbuf_tailroom(m))
        len = (uint16_t)rte_pktmbuf_tailroom(m);
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
    }
    return n;
}
