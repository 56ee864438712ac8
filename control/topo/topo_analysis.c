/* SPDX-License-Identifier: MIT */
#include "topo_analysis.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define W CTL_MSBFS_WORDS

int ctl_msbfs(const struct ctl_graph *g, const uint32_t *src, uint32_t n_src, uint64_t *dist_sum,
              uint32_t *reached, uint32_t *ecc, ctl_msbfs_visit_fn visit, void *arg)
{
    uint32_t n = g->n;
    uint64_t *seen = calloc((size_t)n * W, sizeof(uint64_t));
    uint64_t *front = calloc((size_t)n * W, sizeof(uint64_t));
    uint64_t *next = calloc((size_t)n * W, sizeof(uint64_t));
    if (!seen || !front || !next) {
        free(seen);
        free(front);
        free(next);
        return -ENOMEM;
    }
    /* bits of unused sources count as seen, so finished agents are skipped */
    uint64_t unused[W];
    for (int w = 0; w < W; w++) {
        uint32_t lo = (uint32_t)w * 64;
        unused[w] = n_src <= lo ? ~0ull : n_src - lo >= 64 ? 0 : ~0ull << (n_src - lo);
    }
    for (uint32_t v = 0; v < n; v++)
        for (int w = 0; w < W; w++)
            seen[(size_t)v * W + w] = unused[w];
    for (uint32_t i = 0; i < n_src; i++) {
        seen[(size_t)src[i] * W + i / 64] |= 1ull << (i % 64);
        front[(size_t)src[i] * W + i / 64] |= 1ull << (i % 64);
        reached[i] = 1;
        ecc[i] = 0;
    }
    for (uint32_t level = 1;; level++) {
        bool any = false;
        for (uint32_t v = 0; v < n; v++) {
            uint64_t acc[W] = {0};
            const uint64_t *sv = &seen[(size_t)v * W];
            bool full = true;
            for (int w = 0; w < W; w++)
                full &= sv[w] == ~0ull;
            if (full) {
                memset(&next[(size_t)v * W], 0, W * sizeof(uint64_t));
                continue;
            }
            for (uint32_t s = g->off[v]; s < g->off[v + 1]; s++) {
                const uint64_t *fu = &front[(size_t)g->adj[s] * W];
                for (int w = 0; w < W; w++)
                    acc[w] |= fu[w];
            }
            uint64_t *nv = &next[(size_t)v * W];
            bool has = false;
            for (int w = 0; w < W; w++) {
                nv[w] = acc[w] & ~sv[w];
                has |= nv[w] != 0;
            }
            if (has && visit)
                visit(arg, v, nv, front);
            any |= has;
        }
        if (!any)
            break;
        for (uint32_t v = 0; v < n; v++) {
            uint64_t *nv = &next[(size_t)v * W], *sv = &seen[(size_t)v * W];
            for (int w = 0; w < W; w++) {
                uint64_t b = nv[w];
                sv[w] |= b;
                while (b) {
                    uint32_t i = (uint32_t)(w * 64 + __builtin_ctzll(b));
                    b &= b - 1;
                    dist_sum[i] += level;
                    reached[i]++;
                    ecc[i] = level;
                }
            }
        }
        uint64_t *t = front;
        front = next;
        next = t;
    }
    free(seen);
    free(front);
    free(next);
    return 0;
}

struct batches {
    uint32_t n;
    uint32_t next; /* next batch, taken with an atomic fetch-add */
    ctl_batch_fn fn;
    void *arg;
};

static void *batch_worker(void *arg)
{
    struct batches *b = arg;
    for (;;) {
        uint32_t k = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
        uint64_t first = (uint64_t)k * CTL_MSBFS_WIDTH;
        if (first >= b->n)
            break;
        uint64_t left = b->n - first;
        b->fn(b->arg, (uint32_t)first, left < CTL_MSBFS_WIDTH ? (uint32_t)left : CTL_MSBFS_WIDTH);
    }
    return NULL;
}

void ctl_msbfs_parallel(uint32_t n, unsigned threads, ctl_batch_fn fn, void *arg)
{
    struct batches b = {n, 0, fn, arg};
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    pthread_t tid[64];
    unsigned started = 0;
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&tid[started], NULL, batch_worker, &b) == 0)
            started++;
    batch_worker(&b);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}

struct job {
    const struct ctl_graph *g;
    const uint32_t *src;
    uint64_t dist_sum;
    uint64_t pairs;
    uint32_t diameter;
    int rc;
    pthread_mutex_t lock;
};

static void distance_batch(void *arg, uint32_t first, uint32_t cnt)
{
    struct job *j = arg;
    uint64_t ds[CTL_MSBFS_WIDTH] = {0};
    uint32_t reached[CTL_MSBFS_WIDTH], ecc[CTL_MSBFS_WIDTH];
    int rc = ctl_msbfs(j->g, j->src + first, cnt, ds, reached, ecc, NULL, NULL);
    pthread_mutex_lock(&j->lock);
    if (rc < 0)
        j->rc = rc;
    for (uint32_t i = 0; rc == 0 && i < cnt; i++) {
        j->dist_sum += ds[i];
        j->pairs += reached[i] - 1;
        if (ecc[i] > j->diameter)
            j->diameter = ecc[i];
    }
    pthread_mutex_unlock(&j->lock);
}

static uint32_t count_components(const struct ctl_graph *g)
{
    uint32_t *q = malloc(g->n * sizeof(uint32_t));
    uint8_t *mark = calloc(g->n, 1);
    uint32_t comps = 0;
    if (!q || !mark) {
        free(q);
        free(mark);
        return 0;
    }
    for (uint32_t s = 0; s < g->n; s++) {
        if (mark[s])
            continue;
        comps++;
        uint32_t h = 0, t = 0;
        q[t++] = s;
        mark[s] = 1;
        while (h < t) {
            uint32_t v = q[h++];
            for (uint32_t i = g->off[v]; i < g->off[v + 1]; i++)
                if (!mark[g->adj[i]]) {
                    mark[g->adj[i]] = 1;
                    q[t++] = g->adj[i];
                }
        }
    }
    free(q);
    free(mark);
    return comps;
}

/* Local clustering of v: links among its neighbours / possible links. */
static double local_clustering(const struct ctl_graph *g, uint32_t v, uint8_t *mark)
{
    uint32_t d = g->off[v + 1] - g->off[v];
    if (d < 2)
        return 0;
    for (uint32_t i = g->off[v]; i < g->off[v + 1]; i++)
        mark[g->adj[i]] = 1;
    uint64_t links = 0;
    for (uint32_t i = g->off[v]; i < g->off[v + 1]; i++) {
        uint32_t u = g->adj[i];
        for (uint32_t k = g->off[u]; k < g->off[u + 1]; k++)
            links += mark[g->adj[k]];
    }
    for (uint32_t i = g->off[v]; i < g->off[v + 1]; i++)
        mark[g->adj[i]] = 0;
    return (double)links / ((double)d * (d - 1)); /* each link counted twice */
}

#define CLUSTERING_BUDGET 400000000ull /* adjacency reads for exact clustering */

int ctl_topo_analyze(const struct ctl_graph *g, uint32_t exact_limit, uint32_t samples,
                     uint64_t seed, unsigned threads, struct ctl_topo_stats *o)
{
    memset(o, 0, sizeof(*o));
    uint32_t n = g->n;
    o->agents = n;
    o->edges = g->n_edges;
    double full = (double)n * (n - 1) / 2;
    o->reduction_pct = full > 0 ? 100.0 * (1.0 - (double)g->n_edges / full) : 0;
    o->deg_min = UINT32_MAX;
    uint64_t sq = 0;
    for (uint32_t v = 0; v < n; v++) {
        uint32_t d = g->off[v + 1] - g->off[v];
        if (d < o->deg_min)
            o->deg_min = d;
        if (d > o->deg_max)
            o->deg_max = d;
        sq += (uint64_t)d * d;
    }
    o->deg_avg = n ? 2.0 * (double)g->n_edges / n : 0;
    o->deg_hist = calloc((size_t)o->deg_max + 1, sizeof(uint64_t));
    if (!o->deg_hist)
        return -ENOMEM;
    for (uint32_t v = 0; v < n; v++)
        o->deg_hist[g->off[v + 1] - g->off[v]]++;
    o->components = count_components(g);
    o->connected = o->components == 1;

    struct ctl_rng r;
    ctl_rng_seed(&r, seed ^ 0xa11a175e5ull);
    /* sources: all agents, or a seeded sample */
    o->exact = n <= exact_limit;
    uint32_t n_src = o->exact ? n : (samples < n ? samples : n);
    uint32_t *src = malloc((size_t)n_src * sizeof(uint32_t));
    if (!src)
        return -ENOMEM;
    if (o->exact) {
        for (uint32_t i = 0; i < n; i++)
            src[i] = i;
    } else {
        for (uint32_t i = 0; i < n_src; i++)
            src[i] = ctl_rng_below(&r, n);
        o->sources_sampled = n_src;
    }
    struct job j = {.g = g, .src = src};
    pthread_mutex_init(&j.lock, NULL);
    ctl_msbfs_parallel(n_src, threads, distance_batch, &j);
    pthread_mutex_destroy(&j.lock);
    free(src);
    if (j.rc < 0)
        return j.rc;
    o->diameter = j.diameter;
    o->avg_path_length = j.pairs ? (double)j.dist_sum / (double)j.pairs : 0;

    uint8_t *mark = calloc(n, 1);
    if (!mark)
        return -ENOMEM;
    o->clustering_exact = sq <= CLUSTERING_BUDGET;
    double c = 0;
    if (o->clustering_exact) {
        for (uint32_t v = 0; v < n; v++)
            c += local_clustering(g, v, mark);
        o->clustering = n ? c / n : 0;
    } else {
        uint32_t k = 4096;
        for (uint32_t i = 0; i < k; i++)
            c += local_clustering(g, ctl_rng_below(&r, n), mark);
        o->clustering = c / k;
    }
    free(mark);
    return 0;
}

void ctl_topo_stats_free(struct ctl_topo_stats *s)
{
    free(s->deg_hist);
    s->deg_hist = NULL;
}
