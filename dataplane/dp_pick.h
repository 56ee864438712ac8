/* SPDX-License-Identifier: MIT */
/*
 * dp_pick: the traffic plan's choice of a generated message's source,
 * destination and first hop, on the run image's arrays only (no DPDK), so
 * that every backend (swarmgen-dp and swarmgen-usrsctp) draws the same
 * messages from the same seed. Pure inline; the cursor and the generator
 * state belong to one worker.
 */
#ifndef SWARMGEN_DP_PICK_H
#define SWARMGEN_DP_PICK_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_rng.h"
#include "run_image.h"

/* The next source (round robin over the first n_active agents of local[],
 * at *cursor) and a destination by the run's pattern: a random neighbour
 * (neighbors, echo) or a random traffic-plan destination other than the
 * source (routed). *li is the source's index in local[]; *slot its
 * adjacency slot of the first hop, 0xffff when the routing table has none.
 * false when the source has no neighbour or no other destination. */
static inline bool dp_pick(const struct ri_config *cfg, const uint32_t *adj_off, const uint32_t *adj,
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
        *slot = dp_rng_below(rng, deg);
        *dst = adj[off + *slot];
        return true;
    }
    uint32_t di = dp_rng_below(rng, cfg->n_dests);
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
