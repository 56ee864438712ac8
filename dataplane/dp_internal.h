/* SPDX-License-Identifier: MIT */
/*
 * dp_internal: dataplane pieces exposed to tests and fuzz targets only.
 */
#ifndef SWARMGEN_DP_INTERNAL_H
#define SWARMGEN_DP_INTERNAL_H

#include "dp.h"
#include "dp_rng.h"

/* Points the ctx section pointers at the mapped image in ctx->img. */
void dp_bind_image(struct dp_ctx *ctx);

/* Builds the flow table from the image's edges. 0 or negative errno. */
int dp_setup_flows(struct dp_ctx *ctx, char *err, size_t errlen);

/* Classifies a burst of received frames and delivers, relays or drops each
 * one. Relayed frames land in wk->tx (owner is this worker) or wk->out[]
 * (other owners); tests inspect and free them. Takes ownership of pkts. */
void dp_process_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts,
                   uint16_t n, uint64_t now);

/* Queues a frame whose headers are written for edge `e` for transmission by
 * the edge's owner: this worker's tx burst, or the hand-off ring. */
void dp_to_owner(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e);

/* A generated message: the worker's next source (round robin over its first
 * n_active local agents, index *li in wk->local) and a destination by the
 * run's pattern: a random neighbour (neighbors, echo) or a random traffic-
 * plan destination other than the source (routed). *slot is the source's
 * adjacency slot of the first hop, 0xffff when the routing table has none.
 * Returns false when the source has no neighbour or no other destination
 * (nothing to send). Advances wk->cursor and wk->rng; worker-local. */
static inline bool dp_pick_message(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t n_active, uint32_t *li,
                                   uint32_t *src, uint32_t *dst, uint32_t *slot)
{
    const struct ri_config *cfg = ctx->cfg;
    uint32_t i = wk->cursor < n_active ? wk->cursor : 0;
    wk->cursor = i + 1 >= n_active ? 0 : i + 1;
    uint32_t s = wk->local[i];
    uint32_t off = ctx->adj_off[s], deg = ctx->adj_off[s + 1] - off;
    if (deg == 0)
        return false;
    *li = i;
    *src = s;
    if (cfg->pattern != RI_PATTERN_ROUTED) {
        *slot = dp_rng_below(&wk->rng, deg);
        *dst = ctx->adj[off + *slot];
        return true;
    }
    uint32_t di = dp_rng_below(&wk->rng, cfg->n_dests);
    if (ctx->dests[di] == s) {
        if (cfg->n_dests == 1)
            return false;
        di = di + 1 == cfg->n_dests ? 0 : di + 1;
    }
    *dst = ctx->dests[di];
    *slot = ctx->routes[(size_t)s * cfg->n_dests + di];
    return true;
}

/* Writes the L2-L4 headers of frame m (UDP payload of payload_len bytes
 * already in place after them) for agent `from` sending on edge e, and
 * sends it through the edge's network emulation to the edge's owner. */
void dp_send_frame(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e, uint32_t from,
                   uint16_t payload_len, uint64_t now);

#endif
