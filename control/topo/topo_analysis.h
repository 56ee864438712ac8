/* SPDX-License-Identifier: MIT */
/*
 * topo_analysis: what a mesh looks like — edges and the reduction against a
 * full mesh, degrees, connectivity, diameter, average path length and the
 * average local clustering coefficient.
 *
 * Distances come from a bit-parallel multi-source BFS (MS-BFS): 256 sources
 * share one sweep over the adjacency per level, spread over threads. Exact
 * for every pair up to `exact_limit` agents; above, BFS from `samples`
 * seeded random sources gives estimates flagged as sampled (the diameter is
 * then a lower bound). Clustering is exact unless the sum of squared
 * degrees is too large, when it is estimated from sampled agents (flagged).
 */
#ifndef SWARMGEN_CONTROL_TOPO_ANALYSIS_H
#define SWARMGEN_CONTROL_TOPO_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "topo.h"

struct ctl_topo_stats {
    uint32_t agents;
    uint64_t edges;
    double reduction_pct;        /* 100 * (1 - edges / full-mesh edges) */
    uint32_t deg_min, deg_max;
    double deg_avg;
    uint64_t *deg_hist;          /* deg_max + 1 counts, owned */
    bool connected;
    uint32_t components;
    uint32_t diameter;           /* of the largest component; lower bound when sampled */
    double avg_path_length;      /* over connected ordered pairs */
    double clustering;           /* average local clustering coefficient */
    bool exact;                  /* distances exact (all sources) */
    uint32_t sources_sampled;    /* when !exact */
    bool clustering_exact;
};

/* Analyses g. Returns 0 or -ENOMEM. */
int ctl_topo_analyze(const struct ctl_graph *g, uint32_t exact_limit, uint32_t samples,
                     uint64_t seed, unsigned threads, struct ctl_topo_stats *out);

void ctl_topo_stats_free(struct ctl_topo_stats *s);

/* Multi-source BFS from `n_src` sources (<= CTL_MSBFS_WIDTH). For each source
 * i, dist_sum[i] += sum of distances to the agents it reaches, reached[i] =
 * agents reached (itself included), ecc[i] = eccentricity. When `visit` is
 * not NULL it is called for every (agent, level, newly reached source bits)
 * at each level, for routing. Returns 0 or -ENOMEM. Thread-safe (no shared
 * state). */
#define CTL_MSBFS_WORDS 4
#define CTL_MSBFS_WIDTH (64 * CTL_MSBFS_WORDS)
typedef void (*ctl_msbfs_visit_fn)(void *arg, uint32_t v, const uint64_t *newbits,
                                   const uint64_t *frontier);
int ctl_msbfs(const struct ctl_graph *g, const uint32_t *src, uint32_t n_src, uint64_t *dist_sum,
              uint32_t *reached, uint32_t *ecc, ctl_msbfs_visit_fn visit, void *arg);

/* Calls fn(arg, first, count) for consecutive batches of up to
 * CTL_MSBFS_WIDTH of n sources, on `threads` threads (the caller's one
 * included); returns when every batch is done. fn must be thread-safe. */
typedef void (*ctl_batch_fn)(void *arg, uint32_t first, uint32_t count);
void ctl_msbfs_parallel(uint32_t n, unsigned threads, ctl_batch_fn fn, void *arg);

#endif
