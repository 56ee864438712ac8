/* SPDX-License-Identifier: MIT */
/*
 * dp_internal: dataplane pieces exposed to tests and fuzz targets only.
 */
#ifndef SWARMGEN_DP_INTERNAL_H
#define SWARMGEN_DP_INTERNAL_H

#include "dp.h"
#include "traffic.h"
#include "rng.h"

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

/* A generated message of this worker: traffic_pick (webrtc/traffic.h) on the
 * context's tables and the worker's cursor and generator. */
static inline bool dp_pick_message(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t n_active, uint32_t *li,
                                   uint32_t *src, uint32_t *dst, uint32_t *slot)
{
    return traffic_pick(ctx->cfg, ctx->adj_off, ctx->adj, ctx->dests, ctx->routes, wk->local, n_active, &wk->cursor,
                   &wk->rng, li, src, dst, slot);
}

/* Writes the L2-L4 headers of frame m (UDP payload of payload_len bytes
 * already in place after them) for agent `from` sending on edge e, and
 * sends it through the edge's network emulation to the edge's owner. */
void dp_send_frame(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e, uint32_t from,
                   uint16_t payload_len, uint64_t now);

#endif
