/* SPDX-License-Identifier: MIT */
/*
 * A ring of n agents written into a run image's topology sections, for
 * the harnesses that build an image by hand (tests/dataplane/dp_harness.c,
 * tests/baseline/us_harness.c, tests/interop/target_dp.c): edge e joins
 * agents e and e + 1 (mod n), agent v at ip_base + 1 + v with its previous
 * neighbour in adjacency slot 0 and its next one in slot 1, every agent a
 * destination, and the next hop the shorter way round. Agents and edges
 * go to the n_workers workers in turn. Edge ports are the caller's.
 * Header-only.
 */
#ifndef SWARMGEN_TESTS_RING_IMAGE_H
#define SWARMGEN_TESTS_RING_IMAGE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "run_image.h"

/* A zeroed run image for config c in memory (no file): its header and
 * config written, every other section zero. 0, -E2BIG or -ENOMEM. */
static inline int ring_image_alloc(const struct ri_config *c, struct ri_header **img)
{
    struct ri_header hd;
    if (ctl_image_layout(c, &hd) != 0)
        return -E2BIG;
    *img = aligned_alloc(RI_ALIGN, (hd.image_size + RI_ALIGN - 1) / RI_ALIGN * RI_ALIGN);
    if (!*img)
        return -ENOMEM;
    memset(*img, 0, hd.image_size);
    memcpy(*img, &hd, sizeof(hd));
    memcpy(ri_section(*img, RI_SEC_CONFIG), c, sizeof(*c));
    return 0;
}

static inline void ring_image_fill(struct ri_header *img, uint32_t n, uint32_t ip_base, uint32_t n_workers)
{
    struct ri_agent *ag = ri_section(img, RI_SEC_AGENTS);
    struct ri_edge *ed = ri_section(img, RI_SEC_EDGES);
    uint32_t *off = ri_section(img, RI_SEC_ADJ_OFF), *adj = ri_section(img, RI_SEC_ADJ),
             *adj_edge = ri_section(img, RI_SEC_ADJ_EDGE), *dests = ri_section(img, RI_SEC_DESTS);
    int32_t *di = ri_section(img, RI_SEC_DEST_INDEX);
    uint16_t *routes = ri_section(img, RI_SEC_ROUTES);
    for (uint32_t e = 0; e < n; e++) {
        uint32_t a = e, b = (e + 1) % n;
        ed[e].a = a < b ? a : b;
        ed[e].b = a < b ? b : a;
        ed[e].worker = (uint16_t)(e % n_workers);
    }
    for (uint32_t v = 0; v < n; v++) {
        ag[v].ip = ip_base + 1 + v;
        ag[v].worker = (uint16_t)(v % n_workers);
        ag[v].degree = 2;
        off[v] = 2 * v;
        adj[2 * v] = (v + n - 1) % n;
        adj_edge[2 * v] = (v + n - 1) % n;
        adj[2 * v + 1] = (v + 1) % n;
        adj_edge[2 * v + 1] = v;
        dests[v] = v;
        di[v] = (int32_t)v;
    }
    off[n] = 2 * n;
    for (uint32_t v = 0; v < n; v++)
        for (uint32_t d = 0; d < n; d++)
            routes[v * n + d] = v == d ? RI_ROUTE_NONE : (d + n - v) % n <= n / 2 ? 1 : 0;
}

#endif
