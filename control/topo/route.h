/* SPDX-License-Identifier: MIT */
/*
 * route: shortest-path next hops for the dataplane.
 *
 * next[(size_t)v * n_dests + j] is the adjacency slot (0..deg(v)-1; the
 * neighbour is g->adj[g->off[v] + slot]) of the first hop on a shortest path
 * from v to dests[j], the lowest such slot; CTL_ROUTE_NONE when v is the
 * destination or cannot reach it. Built by multi-source BFS from the
 * destinations, 256 at a time, over threads. Deterministic.
 */
#ifndef SWARMGEN_CONTROL_ROUTE_H
#define SWARMGEN_CONTROL_ROUTE_H

#include <stdint.h>

#include "topo.h"

#define CTL_ROUTE_NONE 0xffffu

/* How many destination columns fit in mem_budget bytes for n agents
 * (n * n_dests * 2 bytes); n when all pairs fit. */
uint32_t ctl_route_max_dests(uint32_t n, uint64_t mem_budget);

/* Fills `next` (caller-owned, n * n_dests entries). Returns 0, -E2BIG when
 * a degree exceeds 65534, or -ENOMEM. */
int ctl_route_build(const struct ctl_graph *g, const uint32_t *dests, uint32_t n_dests,
                    unsigned threads, uint16_t *next);

#endif
