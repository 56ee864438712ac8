/* SPDX-License-Identifier: MIT */
#include "topo.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* ---- specs ---- */

static int parse_param(const char *s, const char *key, char *err, size_t errlen, double *out,
                       bool integer, double min, double max)
{
    size_t kl = strlen(key);
    if (strncmp(s, key, kl) != 0 || s[kl] != '=') {
        snprintf(err, errlen, "expected %s=...", key);
        return -EINVAL;
    }
    const char *v = s + kl + 1;
    char *end;
    double d = strtod(v, &end);
    if (end == v || (*end != '\0' && *end != ',') || !isfinite(d) || d < min || d > max ||
        (integer && d != floor(d))) {
        if (integer)
            snprintf(err, errlen, "%s must be a whole number in %.0f..%.0f", key, min, max);
        else
            snprintf(err, errlen, "%s must be a number in %g..%g", key, min, max);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

int ctl_topo_spec_parse(const char *s, struct ctl_topo_spec *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    double v;
    if (strcmp(s, "full") == 0) {
        o->kind = CTL_TOPO_FULL;
        return 0;
    }
    if (strcmp(s, "ring") == 0) {
        o->kind = CTL_TOPO_RING;
        return 0;
    }
    if (strncmp(s, "kmesh:", 6) == 0) {
        o->kind = CTL_TOPO_KMESH;
        if (strcmp(s + 6, "k=auto") == 0) {
            o->k_auto = true; /* k once n is known: ctl_topo_spec_resolve */
            return 0;
        }
        /* the resolved canonical text, "kmesh:k=10 (auto)", reads back as it was */
        size_t len = strlen(s);
        if (len > 7 + 6 && strcmp(s + len - 7, " (auto)") == 0 && len < 40) {
            char k[40];
            snprintf(k, sizeof(k), "%.*s", (int)(len - 7), s);
            if (ctl_topo_spec_parse(k, o, err, errlen) < 0)
                return -EINVAL;
            if (o->kind != CTL_TOPO_KMESH || o->k_auto) {
                snprintf(err, errlen, "only kmesh:k=K takes ' (auto)' (as reports write kmesh:k=auto)");
                return -EINVAL;
            }
            o->k_auto = true;
            return 0;
        }
        if (parse_param(s + 6, "k", err, errlen, &v, true, 2, 65534) < 0)
            return -EINVAL;
        if (strchr(s + 6, ',')) {
            snprintf(err, errlen, "kmesh takes only k");
            return -EINVAL;
        }
        o->k = (uint32_t)v;
        return 0;
    }
    if (strncmp(s, "hub:", 4) == 0) {
        o->kind = CTL_TOPO_HUB;
        if (parse_param(s + 4, "hubs", err, errlen, &v, true, 1, 1000000) < 0)
            return -EINVAL;
        if (strchr(s + 4, ',')) {
            snprintf(err, errlen, "hub takes only hubs");
            return -EINVAL;
        }
        o->hubs = (uint32_t)v;
        return 0;
    }
    if (strncmp(s, "smallworld:", 11) == 0) {
        o->kind = CTL_TOPO_SMALLWORLD;
        const char *comma = strchr(s + 11, ',');
        if (!comma) {
            snprintf(err, errlen, "smallworld needs k=K,p=P");
            return -EINVAL;
        }
        if (parse_param(s + 11, "k", err, errlen, &v, true, 2, 65534) < 0)
            return -EINVAL;
        o->k = (uint32_t)v;
        if (o->k % 2) {
            snprintf(err, errlen, "smallworld k must be even (k/2 neighbours on each side)");
            return -EINVAL;
        }
        if (parse_param(comma + 1, "p", err, errlen, &v, false, 0, 1) < 0)
            return -EINVAL;
        if (strchr(comma + 1, ',')) {
            snprintf(err, errlen, "smallworld takes only k and p");
            return -EINVAL;
        }
        o->p = v;
        return 0;
    }
    if (strncmp(s, "scalefree:", 10) == 0) {
        o->kind = CTL_TOPO_SCALEFREE;
        if (parse_param(s + 10, "m", err, errlen, &v, true, 1, 65534) < 0)
            return -EINVAL;
        if (strchr(s + 10, ',')) {
            snprintf(err, errlen, "scalefree takes only m");
            return -EINVAL;
        }
        o->m = (uint32_t)v;
        return 0;
    }
    snprintf(err, errlen, "unknown topology (full, kmesh:k=K|auto, hub:hubs=H, ring, smallworld:k=K,p=P, scalefree:m=M)");
    return -EINVAL;
}

void ctl_topo_spec_format(const struct ctl_topo_spec *sp, char *buf, size_t len)
{
    switch (sp->kind) {
    case CTL_TOPO_FULL: snprintf(buf, len, "full"); break;
    case CTL_TOPO_RING: snprintf(buf, len, "ring"); break;
    case CTL_TOPO_KMESH:
        if (sp->k_auto && sp->k == 0)
            snprintf(buf, len, "kmesh:k=auto");
        else
            snprintf(buf, len, "kmesh:k=%u%s", sp->k, sp->k_auto ? " (auto)" : "");
        break;
    case CTL_TOPO_HUB: snprintf(buf, len, "hub:hubs=%u", sp->hubs); break;
    case CTL_TOPO_SMALLWORLD: snprintf(buf, len, "smallworld:k=%u,p=%g", sp->k, sp->p); break;
    case CTL_TOPO_SCALEFREE: snprintf(buf, len, "scalefree:m=%u", sp->m); break;
    }
}

uint32_t ctl_topo_suggest_k(uint32_t n)
{
    if (n < 3)
        return 1;
    uint32_t k = (uint32_t)ceil(2.0 * log((double)n));
    if (k < 2)
        k = 2;
    if (k > n - 1)
        k = n - 1;
    return k;
}

void ctl_topo_spec_resolve(struct ctl_topo_spec *sp, uint32_t n)
{
    if (sp->kind == CTL_TOPO_KMESH && sp->k_auto)
        sp->k = ctl_topo_suggest_k(n);
}

/* ---- CSR ---- */

void ctl_graph_free(struct ctl_graph *g)
{
    free(g->off);
    free(g->adj);
    free(g->edge);
    free(g->ends);
    memset(g, 0, sizeof(*g));
}

static int cmp_pair(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

int ctl_graph_from_pairs(uint32_t n, uint32_t (*pairs)[2], uint64_t m, struct ctl_graph *g)
{
    memset(g, 0, sizeof(*g));
    for (uint64_t i = 0; i < m; i++) {
        if (pairs[i][0] > pairs[i][1]) {
            uint32_t t = pairs[i][0];
            pairs[i][0] = pairs[i][1];
            pairs[i][1] = t;
        }
    }
    qsort(pairs, m, sizeof(pairs[0]), cmp_pair);
    uint64_t e = 0;
    for (uint64_t i = 0; i < m; i++) {
        if (pairs[i][0] == pairs[i][1])
            continue;
        if (e && pairs[e - 1][0] == pairs[i][0] && pairs[e - 1][1] == pairs[i][1])
            continue;
        pairs[e][0] = pairs[i][0];
        pairs[e][1] = pairs[i][1];
        e++;
    }
    g->n = n;
    g->n_edges = e;
    g->off = calloc((size_t)n + 1, sizeof(uint32_t));
    g->adj = malloc((2 * e + 1) * sizeof(uint32_t));
    g->edge = malloc((2 * e + 1) * sizeof(uint32_t));
    g->ends = malloc((e + 1) * sizeof(g->ends[0]));
    uint32_t *fill = calloc((size_t)n + 1, sizeof(uint32_t));
    if (!g->off || !g->adj || !g->edge || !g->ends || !fill) {
        free(fill);
        ctl_graph_free(g);
        return -ENOMEM;
    }
    memcpy(g->ends, pairs, e * sizeof(g->ends[0]));
    for (uint64_t i = 0; i < e; i++) {
        g->off[g->ends[i][0] + 1]++;
        g->off[g->ends[i][1] + 1]++;
    }
    for (uint32_t v = 0; v < n; v++)
        g->off[v + 1] += g->off[v];
    /* edges are sorted by (u, v): a vertex's lower neighbours arrive (as the
     * second end) in ascending u, then its higher ones in ascending v; two
     * passes keep every adjacency list ascending */
    for (uint64_t i = 0; i < e; i++) {
        uint32_t v = g->ends[i][1];
        g->adj[g->off[v] + fill[v]] = g->ends[i][0];
        g->edge[g->off[v] + fill[v]++] = (uint32_t)i;
    }
    for (uint64_t i = 0; i < e; i++) {
        uint32_t u = g->ends[i][0];
        g->adj[g->off[u] + fill[u]] = g->ends[i][1];
        g->edge[g->off[u] + fill[u]++] = (uint32_t)i;
    }
    free(fill);
    return 0;
}

/* ---- builders ---- */

struct pairs {
    uint32_t (*p)[2];
    uint64_t n, cap;
};

static int push(struct pairs *ps, uint32_t a, uint32_t b)
{
    if (ps->n == ps->cap) {
        uint64_t cap = ps->cap ? ps->cap * 2 : 1024;
        void *np = realloc(ps->p, cap * sizeof(ps->p[0]));
        if (!np)
            return -ENOMEM;
        ps->p = np;
        ps->cap = cap;
    }
    ps->p[ps->n][0] = a;
    ps->p[ps->n][1] = b;
    ps->n++;
    return 0;
}

/* Open-addressing set of undirected edges, for builders that must avoid
 * duplicates while they draw. */
struct edge_set {
    uint64_t *slot;
    uint64_t mask;
};

static int set_init(struct edge_set *s, uint64_t expected)
{
    uint64_t cap = 1024;
    while (cap < expected * 2)
        cap <<= 1;
    s->slot = calloc(cap, sizeof(uint64_t));
    s->mask = cap - 1;
    return s->slot ? 0 : -ENOMEM;
}

static inline uint64_t edge_key(uint32_t a, uint32_t b)
{
    return a < b ? ((uint64_t)a << 32 | b) + 1 : ((uint64_t)b << 32 | a) + 1;
}

/* Returns true when inserted, false when present. */
static bool set_add(struct edge_set *s, uint32_t a, uint32_t b)
{
    uint64_t k = edge_key(a, b);
    uint64_t h = k * 0x9e3779b97f4a7c15ull;
    for (uint64_t i = h >> 20 & s->mask;; i = (i + 1) & s->mask) {
        if (s->slot[i] == k)
            return false;
        if (s->slot[i] == 0) {
            s->slot[i] = k;
            return true;
        }
    }
}

static bool set_has(const struct edge_set *s, uint32_t a, uint32_t b)
{
    uint64_t k = edge_key(a, b);
    uint64_t h = k * 0x9e3779b97f4a7c15ull;
    for (uint64_t i = h >> 20 & s->mask;; i = (i + 1) & s->mask) {
        if (s->slot[i] == k)
            return true;
        if (s->slot[i] == 0)
            return false;
    }
}

static int build_full(uint32_t n, struct pairs *ps)
{
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = a + 1; b < n; b++)
            if (push(ps, a, b) < 0)
                return -ENOMEM;
    return 0;
}

static int build_ring(uint32_t n, struct pairs *ps)
{
    for (uint32_t a = 0; a < n; a++)
        if ((n > 2 || a == 0) && push(ps, a, (a + 1) % n) < 0)
            return -ENOMEM;
    return 0;
}

static int build_hub(uint32_t n, uint32_t h, struct pairs *ps)
{
    for (uint32_t a = 0; a < h; a++)
        for (uint32_t b = a + 1; b < h; b++)
            if (push(ps, a, b) < 0)
                return -ENOMEM;
    for (uint32_t s = h; s < n; s++)
        if (push(ps, s % h, s) < 0)
            return -ENOMEM;
    return 0;
}

/* k-neighbour mesh: a Hamiltonian cycle over a seeded permutation (so the
 * graph is connected), then random pairings of agents still short of k
 * neighbours; agents that stay short (parity, or every candidate already a
 * neighbour) take a neighbour that already has k, which ends at k+1. */
static int build_kmesh(uint32_t n, uint32_t k, struct ctl_rng *r, struct pairs *ps)
{
    uint32_t *perm = malloc(n * sizeof(uint32_t));
    uint32_t *deg = calloc(n, sizeof(uint32_t));
    uint32_t *need = malloc(n * sizeof(uint32_t));
    struct edge_set set = {0};
    int rc = -ENOMEM;
    if (!perm || !deg || !need || set_init(&set, (uint64_t)n * (k + 1) / 2 + 16) < 0)
        goto out;
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = ctl_rng_below(r, i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = perm[i], b = perm[(i + 1) % n];
        if (n == 2 && i == 1)
            break;
        if (set_add(&set, a, b)) {
            if (push(ps, a, b) < 0)
                goto out;
            deg[a]++, deg[b]++;
        }
    }
    /* rounds of random pairings among the agents still short of k */
    for (int round = 0; round < 64; round++) {
        uint32_t cnt = 0;
        for (uint32_t v = 0; v < n; v++)
            if (deg[v] < k)
                need[cnt++] = v;
        if (cnt < 2)
            break;
        for (uint32_t i = cnt - 1; i > 0; i--) {
            uint32_t j = ctl_rng_below(r, i + 1);
            uint32_t t = need[i];
            need[i] = need[j];
            need[j] = t;
        }
        uint64_t added = 0;
        for (uint32_t i = 0; i + 1 < cnt; i += 2) {
            uint32_t a = need[i], b = need[i + 1];
            /* an agent may need several more: pair it repeatedly in later rounds */
            if (deg[a] < k && deg[b] < k && set_add(&set, a, b)) {
                if (push(ps, a, b) < 0)
                    goto out;
                deg[a]++, deg[b]++;
                added++;
            }
        }
        if (added == 0 && round > 8)
            break;
    }
    /* whoever is still short takes random partners that are not yet neighbours */
    for (uint32_t v = 0; v < n; v++) {
        uint32_t tries = 0;
        while (deg[v] < k && tries < 64u * n) {
            uint32_t w = ctl_rng_below(r, n);
            tries++;
            if (w == v || deg[w] > k || set_has(&set, v, w))
                continue;
            /* prefer partners still short; accept one at k (it ends at k+1) */
            if (deg[w] == k && tries < 8u * k)
                continue;
            set_add(&set, v, w);
            if (push(ps, v, w) < 0)
                goto out;
            deg[v]++, deg[w]++;
        }
    }
    rc = 0;
out:
    free(perm);
    free(deg);
    free(need);
    free(set.slot);
    return rc;
}

/* Watts-Strogatz: ring lattice with k/2 neighbours each side, each edge's
 * far end rewired with probability p to a uniform agent (no loops, no
 * duplicates). */
static int build_smallworld(uint32_t n, uint32_t k, double p, struct ctl_rng *r, struct pairs *ps)
{
    struct edge_set set = {0};
    if (set_init(&set, (uint64_t)n * k / 2 + 16) < 0)
        return -ENOMEM;
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t j = 1; j <= k / 2; j++)
            set_add(&set, a, (a + j) % n);
    int rc = 0;
    for (uint32_t j = 1; j <= k / 2 && rc == 0; j++) {
        for (uint32_t a = 0; a < n && rc == 0; a++) {
            uint32_t b = (a + j) % n;
            if (ctl_rng_unit(r) < p) {
                for (int tries = 0; tries < 32; tries++) {
                    uint32_t w = ctl_rng_below(r, n);
                    if (w != a && !set_has(&set, a, w)) {
                        /* move the edge (a, b) to (a, w) */
                        uint64_t k_old = edge_key(a, b);
                        for (uint64_t i = (k_old * 0x9e3779b97f4a7c15ull) >> 20 & set.mask;;
                             i = (i + 1) & set.mask) {
                            if (set.slot[i] == k_old) {
                                set.slot[i] = UINT64_MAX; /* tombstone */
                                break;
                            }
                        }
                        set_add(&set, a, w);
                        b = w;
                        break;
                    }
                }
            }
            rc = push(ps, a, b);
        }
    }
    free(set.slot);
    return rc;
}

/* Barabasi-Albert: a clique of m+1 agents, then each new agent links to m
 * distinct agents drawn with probability proportional to their degree. */
static int build_scalefree(uint32_t n, uint32_t m, struct ctl_rng *r, struct pairs *ps)
{
    uint64_t total = (uint64_t)m * (m + 1) + 2ull * m * n + 16;
    uint32_t *ends = malloc(total * sizeof(uint32_t)); /* each edge's ends: degree-weighted urn */
    uint32_t *chosen = malloc((m + 1) * sizeof(uint32_t));
    if (!ends || !chosen) {
        free(ends);
        free(chosen);
        return -ENOMEM;
    }
    uint64_t ne = 0;
    uint32_t seed_n = m + 1 < n ? m + 1 : n;
    for (uint32_t a = 0; a < seed_n; a++)
        for (uint32_t b = a + 1; b < seed_n; b++) {
            if (push(ps, a, b) < 0)
                goto fail;
            ends[ne++] = a;
            ends[ne++] = b;
        }
    for (uint32_t v = seed_n; v < n; v++) {
        uint32_t c = 0;
        while (c < m) {
            uint32_t w = ends[ctl_rng_next(r) % ne];
            bool dup = false;
            for (uint32_t i = 0; i < c; i++)
                dup |= chosen[i] == w;
            if (!dup)
                chosen[c++] = w;
        }
        for (uint32_t i = 0; i < m; i++) {
            if (push(ps, v, chosen[i]) < 0)
                goto fail;
            ends[ne++] = v;
            ends[ne++] = chosen[i];
        }
    }
    free(ends);
    free(chosen);
    return 0;
fail:
    free(ends);
    free(chosen);
    return -ENOMEM;
}

int ctl_topo_build(const struct ctl_topo_spec *spec, uint32_t n, uint64_t seed, struct ctl_graph *g,
                   char *err, size_t errlen)
{
    memset(g, 0, sizeof(*g));
    struct ctl_topo_spec resolved = *spec;
    const struct ctl_topo_spec *sp = &resolved;
    if (spec->k_auto && spec->k == 0)
        ctl_topo_spec_resolve(&resolved, n);
    if (n < 2) {
        snprintf(err, errlen, "a mesh needs at least 2 agents");
        return -EINVAL;
    }
    struct ctl_rng r;
    ctl_rng_seed(&r, seed ^ ((uint64_t)sp->kind << 56));
    struct pairs ps = {0};
    int rc = 0;
    switch (sp->kind) {
    case CTL_TOPO_FULL:
        if (n > CTL_TOPO_FULL_MAX) {
            snprintf(err, errlen, "a full mesh of %u agents has %llu edges; full is limited to %u agents (use kmesh)",
                     n, (unsigned long long)n * (n - 1) / 2, CTL_TOPO_FULL_MAX);
            return -EINVAL;
        }
        rc = build_full(n, &ps);
        break;
    case CTL_TOPO_RING:
        rc = build_ring(n, &ps);
        break;
    case CTL_TOPO_HUB:
        if (sp->hubs >= n) {
            snprintf(err, errlen, "hubs=%u needs more than %u agents", sp->hubs, sp->hubs);
            return -EINVAL;
        }
        rc = build_hub(n, sp->hubs, &ps);
        break;
    case CTL_TOPO_KMESH:
        if (sp->k >= n) {
            snprintf(err, errlen, "k=%u needs more than %u agents (k neighbours each)", sp->k, sp->k);
            return -EINVAL;
        }
        rc = sp->k == n - 1 ? build_full(n, &ps) : build_kmesh(n, sp->k, &r, &ps);
        break;
    case CTL_TOPO_SMALLWORLD:
        if (sp->k >= n) {
            snprintf(err, errlen, "k=%u needs more than %u agents", sp->k, sp->k);
            return -EINVAL;
        }
        rc = build_smallworld(n, sp->k, sp->p, &r, &ps);
        break;
    case CTL_TOPO_SCALEFREE:
        if (sp->m >= n) {
            snprintf(err, errlen, "m=%u needs more than %u agents", sp->m, sp->m);
            return -EINVAL;
        }
        rc = build_scalefree(n, sp->m, &r, &ps);
        break;
    }
    if (rc == 0 && ps.n > UINT32_MAX) {
        snprintf(err, errlen, "more than 2^32 edges");
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = ctl_graph_from_pairs(n, ps.p, ps.n, g);
    free(ps.p);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}
