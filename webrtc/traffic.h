/* SPDX-License-Identifier: MIT */
/*
 * traffic: a worker's generation, on the run image's arrays only (no
 * DPDK), so that every backend (swarmgen-dp and swarmgen-usrsctp) paces
 * alike and draws the same messages from the same seed: the token bucket
 * (traffic_pace) and the choice of a message's source, destination and
 * first hop (traffic_pick). Pure inline; the bucket, the cursor and the generator
 * state belong to one worker.
 */
#ifndef SWARMGEN_WEBRTC_TRAFFIC_H
#define SWARMGEN_WEBRTC_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "rng.h"
#include "run_image.h"

/* Paced generation at `rate` messages/s (this worker's share) on the TSC:
 * refills *tokens for the time since *last_tsc (at most 1 ms of backlog,
 * and never less than a burst, is caught up after a stall), then takes
 * what is due now, at most `burst`, for the agents of ascending local[]
 * below `active` (*n_active: how many). 0 when nothing is due or no local
 * agent is active; the bucket keeps its tokens then. */
static inline uint32_t traffic_pace(double *tokens, uint64_t *last_tsc, uint64_t now, double rate, uint64_t tsc_hz,
                               uint32_t burst, const uint32_t *local, uint32_t n_local, uint64_t active,
                               uint32_t *n_active)
{
    if (*last_tsc == 0 || now < *last_tsc)
        *last_tsc = now;
    *tokens += (double)(now - *last_tsc) * rate / (double)tsc_hz;
    *last_tsc = now;
    double cap = rate / 1000.0 < burst ? burst : rate / 1000.0;
    if (*tokens > cap)
        *tokens = cap;
    uint32_t lo = 0, hi = n_local;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (local[mid] < active)
            lo = mid + 1;
        else
            hi = mid;
    }
    *n_active = lo;
    if (*tokens < 1.0 || lo == 0)
        return 0;
    uint32_t n = *tokens >= burst ? burst : (uint32_t)*tokens;
    *tokens -= n;
    return n;
}

/* The next source (round robin over the first n_active agents of local[],
 * at *cursor) and a destination by the run's pattern: a random neighbour
 * (neighbors, echo) or a random traffic-plan destination other than the
 * source (routed). *li is the source's index in local[]; *slot its
 * adjacency slot of the first hop, 0xffff when the routing table has none.
 * false when the source has no neighbour or no other destination. */
static inline bool traffic_pick(const struct ri_config *cfg, const uint32_t *adj_off, const uint32_t *adj,
                           const uint32_t *dests, const uint16_t *routes, const uint32_t *local,
                           uint32_t n_active, uint32_t *cursor, uint64_t *rng, uint32_t *li, uint32_t *src,
                           uint32_t *dst, uint32_t *slot)
{
    uint32_t i = *cursor < n_active ? *cursor : 0;
    *cursor = i + 1 >= n_active ? 0 : i + 1;
    uint32_t s = local[i];
    uint32_t off = adj_off[s], deg = adj_off[s + 1] - off;
    if (deg == 0)
        return false;
    *li = i;
    *src = s;
    if (cfg->pattern != RI_PATTERN_ROUTED) {
        *slot = rng_below(rng, deg);
        *dst = adj[off + *slot];
        return true;
    }
    uint32_t di = rng_below(rng, cfg->n_dests);
    if (dests[di] == s) {
        if (cfg->n_dests == 1)
            return false;
        di = di + 1 == cfg->n_dests ? 0 : di + 1;
    }
    *dst = dests[di];
    *slot = routes[(size_t)s * cfg->n_dests + di];
    return true;
}

#endif
