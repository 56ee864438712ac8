/* SPDX-License-Identifier: MIT */
/*
 * report_agents: the per-agent view of a run (the image's AGENT_STATS
 * section summed over workers): top and bottom agents by latency and by
 * delivery, the load over agents (forwarded frames: min, median, max,
 * Gini, the top 1 %'s share), the hop-count histogram of delivered
 * messages, routing efficiency, and the --agents-csv file. The helpers
 * (ctl_gini ..) are pure and unit-tested.
 */
#ifndef SWARMGEN_CONTROL_REPORT_AGENTS_H
#define SWARMGEN_CONTROL_REPORT_AGENTS_H

#include <stdint.h>
#include <stdio.h>

#include "run_image.h"

struct json_writer;

struct ctl_agents {
    uint32_t n;                     /* agents */
    struct ri_agent_stats *a;       /* n, summed over workers */
    const struct ri_agent *info;    /* worker and degree of each (NULL: unknown) */
    uint64_t hops[RI_HOP_BUCKETS];  /* delivered messages by relays (hops field); hop count = index + 1 */
    double routed_share;            /* ROUTES entries != RI_ROUTE_NONE (off-diagonal); -1: unknown */
    double shortest_mean;           /* mean BFS distance over sampled (source, destination) pairs; 0: unknown */
    uint32_t shortest_sources;      /* sources sampled for it */
    uint32_t top_n;                 /* --agents-top (default 5) */
};

/* Sums the AGENT_STATS blocks of the n_workers workers of image h. 0 or -ENOMEM. */
int ctl_agents_collect(struct ctl_agents *ag, const struct ri_header *h, const struct ri_config *cfg);
/* Routed share and mean shortest path (BFS from up to `samples` sources over the CSR graph). */
void ctl_agents_routing(struct ctl_agents *ag, const struct ri_header *h, const struct ri_config *cfg,
                        uint32_t samples);
void ctl_agents_free(struct ctl_agents *ag);

/* Pure helpers. `v` ascending for the three below. */
double ctl_gini(const uint64_t *v, uint32_t n);           /* 0 equal .. (n-1)/n one holds all */
double ctl_median_u64(const uint64_t *v, uint32_t n);
double ctl_top_share(const uint64_t *v, uint32_t n, double frac); /* share of the sum held by the top ceil(frac*n) */
/* The p-th percentile (0..100) of a per-agent latency histogram, in ns:
 * the upper edge of the bucket it falls in (bucket 15: 2^28); 0 when empty. */
uint64_t ctl_agent_lat_pct(const uint32_t lat[RI_AGENT_LAT_BUCKETS], double p);
/* Mean hop count (index + 1) of a hop histogram; 0 when empty. */
double ctl_hops_mean(const uint64_t hops[RI_HOP_BUCKETS]);

void ctl_agents_json(struct json_writer *w, const struct ctl_agents *ag);
void ctl_agents_summary(FILE *f, const struct ctl_agents *ag);
/* --agents-csv: a header, one row per agent. 0 or a negative errno. */
int ctl_agents_csv(const char *path, const struct ctl_agents *ag);

#endif
