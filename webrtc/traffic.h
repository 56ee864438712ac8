/* SPDX-License-Identifier: MIT */
/*
 * traffic: a worker's generation, on the run image's arrays only (no
 * DPDK), so that every backend (swarmgen-dp and swarmgen-usrsctp) paces
 * alike and draws the same messages from the same seed: the token bucket
 * (traffic_pace) and the choice of a message's source, destination and
 * first hop (traffic_pick). Pure inline; a struct traffic_gen belongs to
 * one worker.
 */
#ifndef SWARMGEN_WEBRTC_TRAFFIC_H
#define SWARMGEN_WEBRTC_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "rng.h"
#include "run_image.h"

/* One worker's generation state. */
struct traffic_gen {
    uint32_t *local;   /* the agents whose messages this worker generates, ascending */
    uint32_t *seq;     /* next sequence number of each local agent */
    uint32_t n_local;
    uint32_t cursor;   /* round-robin position in local[] */
    uint64_t rng;      /* xorshift64* state */
    double tokens;     /* pacing bucket, in messages */
    uint64_t last_tsc; /* its last refill */
    struct ri_agent_stats *agents; /* the worker's per-agent figures (NULL: none) */
};

/* Paced generation at this worker's share (1 / n_workers) of the rate the
 * command asks for, on the TSC: refills the bucket for the time since its
 * last refill (at most 1 ms of backlog, and never less than a burst, is
 * caught up after a stall), then takes what is due at `tsc`, at most
 * `burst`, for the local agents below the command's active_agents
 * (*n_active: how many). 0 when nothing is due or no local agent is
 * active; the bucket keeps its tokens then. */
static inline uint32_t traffic_pace(struct traffic_gen *g, const struct ri_command *cmd, uint32_t n_workers,
                                    uint64_t tsc, uint64_t tsc_hz, uint32_t burst, uint32_t *n_active)
{
    double rate = (double)__atomic_load_n(&cmd->rate_msgs_per_s, __ATOMIC_RELAXED) / (double)n_workers;
    uint64_t active = __atomic_load_n(&cmd->active_agents, __ATOMIC_RELAXED);
    if (g->last_tsc == 0 || tsc < g->last_tsc)
        g->last_tsc = tsc;
    g->tokens += (double)(tsc - g->last_tsc) * rate / (double)tsc_hz;
    g->last_tsc = tsc;
    double cap = rate / 1000.0 < burst ? burst : rate / 1000.0;
    if (g->tokens > cap)
        g->tokens = cap;
    uint32_t lo = 0, hi = g->n_local;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (g->local[mid] < active)
            lo = mid + 1;
        else
            hi = mid;
    }
    *n_active = lo;
    if (g->tokens < 1.0 || lo == 0)
        return 0;
    uint32_t n = g->tokens >= burst ? burst : (uint32_t)g->tokens;
    g->tokens -= n;
    return n;
}

/* The next source (round robin over the first n_active local agents) and a
 * destination by the run's pattern: a random neighbour (neighbors, echo) or
 * a random traffic-plan destination other than the source (routed). *li is
 * the source's index in local[]; *slot its adjacency slot of the first hop,
 * RI_ROUTE_NONE when the routing table has none. false when the source has
 * no neighbour or no other destination. */
static inline bool traffic_pick(struct traffic_gen *g, const struct ri_view *ri, uint32_t n_active, uint32_t *li,
                                uint32_t *src, uint32_t *dst, uint32_t *slot)
{
    const struct ri_config *cfg = ri->cfg;
    uint32_t i = g->cursor < n_active ? g->cursor : 0;
    g->cursor = i + 1 >= n_active ? 0 : i + 1;
    uint32_t s = g->local[i];
    uint32_t off = ri->adj_off[s], deg = ri->adj_off[s + 1] - off;
    if (deg == 0)
        return false;
    *li = i;
    *src = s;
    if (cfg->pattern != RI_PATTERN_ROUTED) {
        *slot = rng_below(&g->rng, deg);
        *dst = ri->adj[off + *slot];
        return true;
    }
    uint32_t di = rng_below(&g->rng, cfg->n_dests);
    if (ri->dests[di] == s) {
        if (cfg->n_dests == 1)
            return false;
        di = di + 1 == cfg->n_dests ? 0 : di + 1;
    }
    *dst = ri->dests[di];
    *slot = ri->routes[(size_t)s * cfg->n_dests + di];
    return true;
}

/* A message to generate: its sender and destination, the edge of its
 * first hop, the sender's sequence number. */
struct traffic_msg {
    uint32_t src, dst, edge, seq;
};

enum traffic_next {
    TRAFFIC_NONE,     /* nothing to send from this pick (a sender without connections) */
    TRAFFIC_NO_ROUTE, /* counted sent and dropped (RI_DROP_NO_ROUTE) */
    TRAFFIC_SEND,     /* counted sent: *t says what to write and where */
};

/* The next message of a generation burst, as every generator counts it:
 * picks it (traffic_pick), counts it in m's msgs_sent, drops it when the
 * routes have no next hop for it, and otherwise takes the sender's next
 * sequence number. */
static inline enum traffic_next traffic_next(struct traffic_gen *g, const struct ri_view *ri, struct ri_metrics *m,
                                             uint32_t n_active, struct traffic_msg *t)
{
    uint32_t li, slot;
    if (!traffic_pick(g, ri, n_active, &li, &t->src, &t->dst, &slot))
        return TRAFFIC_NONE;
    ri_add(m->live.msgs_sent, 1);
    if (g->agents)
        g->agents[t->src].sent++;
    if (slot == RI_ROUTE_NONE) {
        agent_drop(m, RI_DROP_NO_ROUTE);
        if (g->agents)
            g->agents[t->src].drop_send++;
        return TRAFFIC_NO_ROUTE;
    }
    t->edge = ri->adj_edge[ri->adj_off[t->src] + slot];
    t->seq = g->seq[li]++;
    return TRAFFIC_SEND;
}

#endif
