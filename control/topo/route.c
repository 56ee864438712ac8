/* SPDX-License-Identifier: MIT */
#include "route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "topo_analysis.h"

uint32_t ctl_route_max_dests(uint32_t n, uint64_t mem_budget)
{
    if (n == 0)
        return 0;
    uint64_t d = mem_budget / ((uint64_t)n * sizeof(uint16_t));
    return d >= n ? n : (uint32_t)d;
}

int ctl_route_sample_dests(uint32_t n, uint32_t n_dests, uint64_t seed, uint32_t *dests,
                           int32_t *dindex)
{
    for (uint32_t i = 0; i < n; i++)
        dindex[i] = -1;
    if (n_dests == n) {
        for (uint32_t i = 0; i < n; i++)
            dests[i] = i, dindex[i] = (int32_t)i;
        return 0;
    }
    if (n_dests == 0)
        return 0;
    uint32_t *perm = malloc(n * sizeof(uint32_t));
    if (!perm)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t s = seed ^ 0xd1b54a32d192ed03ull;
    for (uint32_t i = 0; i < n_dests; i++) {
        uint32_t j = i + (uint32_t)(ctl_splitmix64(&s) % (n - i));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        dests[i] = perm[i];
        dindex[perm[i]] = (int32_t)i;
    }
    free(perm);
    return 0;
}

struct route_batch {
    const struct ctl_graph *g;
    uint16_t *next;
    uint32_t n_dests;
    uint32_t first; /* column of source bit 0 */
};

/* v is reached this level by the sources in newbits: its first hop towards
 * each is the lowest slot whose neighbour was on the previous level's
 * frontier for that source. */
static void visit(void *arg, uint32_t v, const uint64_t *newbits, const uint64_t *frontier)
{
    struct route_batch *b = arg;
    const struct ctl_graph *g = b->g;
    uint64_t left[CTL_MSBFS_WORDS];
    memcpy(left, newbits, sizeof(left));
    uint16_t *row = b->next + (size_t)v * b->n_dests + b->first;
    for (uint32_t s = g->off[v]; s < g->off[v + 1]; s++) {
        const uint64_t *fu = &frontier[(size_t)g->adj[s] * CTL_MSBFS_WORDS];
        bool more = false;
        for (int w = 0; w < CTL_MSBFS_WORDS; w++) {
            uint64_t hit = fu[w] & left[w];
            left[w] &= ~hit;
            more |= left[w] != 0;
            while (hit) {
                uint32_t i = (uint32_t)(w * 64 + __builtin_ctzll(hit));
                hit &= hit - 1;
                row[i] = (uint16_t)(s - g->off[v]);
            }
        }
        if (!more)
            break;
    }
}

struct route_job {
    const struct ctl_graph *g;
    const uint32_t *dests;
    uint32_t n_dests;
    uint16_t *next;
    int rc;
};

static void route_batch(void *arg, uint32_t first, uint32_t cnt)
{
    struct route_job *j = arg;
    uint64_t ds[CTL_MSBFS_WIDTH];
    uint32_t reached[CTL_MSBFS_WIDTH], ecc[CTL_MSBFS_WIDTH];
    struct route_batch rb = {j->g, j->next, j->n_dests, first};
    int rc = ctl_msbfs(j->g, j->dests + first, cnt, ds, reached, ecc, visit, &rb);
    if (rc < 0)
        __atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
}

int ctl_route_build(const struct ctl_graph *g, const uint32_t *dests, uint32_t n_dests,
                    unsigned threads, uint16_t *next)
{
    for (uint32_t v = 0; v < g->n; v++)
        if (g->off[v + 1] - g->off[v] > CTL_MAX_DEGREE)
            return -E2BIG;
    size_t total = (size_t)g->n * n_dests;
    for (size_t i = 0; i < total; i++)
        next[i] = CTL_ROUTE_NONE;
    struct route_job j = {g, dests, n_dests, next, 0};
    ctl_msbfs_parallel(n_dests, threads, route_batch, &j);
    return j.rc;
}
