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

#include "run_image.h"
#include "topo.h"

/* The next hop where there is none: the run image's sentinel. */
#define CTL_ROUTE_NONE RI_ROUTE_NONE
/* The most neighbours an agent may have: its adjacency slots stay below
 * CTL_ROUTE_NONE and its degree fits the 16-bit ri_agent.degree. */
#define CTL_MAX_DEGREE 65534u

/* How many destination columns fit in mem_budget bytes for n agents
 * (n * n_dests * 2 bytes); n when all pairs fit. */
uint32_t ctl_route_max_dests(uint32_t n, uint64_t mem_budget);

/* The destination columns of a routing table of n_dests columns for n
 * agents, as `swarmgen run` draws them: every agent in order when
 * n_dests == n, else a seeded sample (partial Fisher-Yates from `seed`).
 * dests[0..n_dests) are the agents, dindex[0..n) each agent's column or -1.
 * Returns 0 or -ENOMEM. */
int ctl_route_sample_dests(uint32_t n, uint32_t n_dests, uint64_t seed, uint32_t *dests,
                           int32_t *dindex);

/* Fills `next` (caller-owned, n * n_dests entries). Returns 0, -E2BIG when
 * a degree exceeds CTL_MAX_DEGREE, or -ENOMEM. */
int ctl_route_build(const struct ctl_graph *g, const uint32_t *dests, uint32_t n_dests,
                    unsigned threads, uint16_t *next);

#endif
