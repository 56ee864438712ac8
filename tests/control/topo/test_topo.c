/* SPDX-License-Identifier: MIT */
/* Topology builders, analysis and routing against brute force. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "topo.h"
#include "topo_analysis.h"

static struct ctl_graph build(const char *spec_text, uint32_t n, uint64_t seed)
{
    struct ctl_topo_spec spec;
    char err[256];
    cr_assert_eq(ctl_topo_spec_parse(spec_text, &spec, err, sizeof(err)), 0, "%s: %s", spec_text, err);
    struct ctl_graph g;
    cr_assert_eq(ctl_topo_build(&spec, n, seed, &g, err, sizeof(err)), 0, "%s n=%u: %s", spec_text, n, err);
    return g;
}

/* Simple graph, CSR consistent with the edge list, adjacency ascending. */
static void check_well_formed(const struct ctl_graph *g)
{
    cr_assert_eq(g->off[0], 0);
    cr_assert_eq(g->off[g->n], 2 * g->n_edges);
    for (uint64_t e = 0; e < g->n_edges; e++) {
        cr_assert_lt(g->ends[e][0], g->ends[e][1], "edge %llu not (u<v)", (unsigned long long)e);
        if (e)
            cr_assert(g->ends[e - 1][0] < g->ends[e][0] ||
                          (g->ends[e - 1][0] == g->ends[e][0] && g->ends[e - 1][1] < g->ends[e][1]),
                      "edges sorted and unique");
    }
    for (uint32_t v = 0; v < g->n; v++) {
        for (uint32_t s = g->off[v]; s < g->off[v + 1]; s++) {
            uint32_t u = g->adj[s];
            cr_assert_neq(u, v, "self loop at %u", v);
            if (s > g->off[v])
                cr_assert_gt(u, g->adj[s - 1], "adjacency of %u ascending, no duplicates", v);
            uint32_t e = g->edge[s];
            cr_assert((g->ends[e][0] == v && g->ends[e][1] == u) ||
                      (g->ends[e][1] == v && g->ends[e][0] == u), "edge id of slot");
        }
    }
}

/* Exact BFS distances from s (-1 unreachable). */
static void bfs(const struct ctl_graph *g, uint32_t s, int32_t *dist)
{
    uint32_t *q = malloc(g->n * sizeof(uint32_t));
    for (uint32_t i = 0; i < g->n; i++)
        dist[i] = -1;
    uint32_t h = 0, t = 0;
    dist[s] = 0;
    q[t++] = s;
    while (h < t) {
        uint32_t v = q[h++];
        for (uint32_t i = g->off[v]; i < g->off[v + 1]; i++)
            if (dist[g->adj[i]] < 0) {
                dist[g->adj[i]] = dist[v] + 1;
                q[t++] = g->adj[i];
            }
    }
    free(q);
}

static bool connected(const struct ctl_graph *g)
{
    int32_t *d = malloc(g->n * sizeof(int32_t));
    bfs(g, 0, d);
    bool ok = true;
    for (uint32_t i = 0; i < g->n; i++)
        ok &= d[i] >= 0;
    free(d);
    return ok;
}

static bool same_graph(const struct ctl_graph *a, const struct ctl_graph *b)
{
    return a->n == b->n && a->n_edges == b->n_edges &&
           memcmp(a->ends, b->ends, a->n_edges * sizeof(a->ends[0])) == 0;
}

Test(topo, spec_parse_and_format_round_trip)
{
    const char *ok[] = {"full", "ring", "kmesh:k=20", "hub:hubs=4", "smallworld:k=10,p=0.1", "scalefree:m=3"};
    for (size_t i = 0; i < 6; i++) {
        struct ctl_topo_spec s;
        char err[128], buf[64];
        cr_assert_eq(ctl_topo_spec_parse(ok[i], &s, err, sizeof(err)), 0, "%s", ok[i]);
        ctl_topo_spec_format(&s, buf, sizeof(buf));
        cr_assert_str_eq(buf, ok[i]);
    }
    const char *bad[] = {"", "mesh", "kmesh", "kmesh:k=", "kmesh:k=1", "kmesh:k=x", "kmesh:k=4,p=1",
                         "hub:hubs=0", "smallworld:k=3,p=0.1", "smallworld:k=4", "smallworld:k=4,p=2",
                         "scalefree:m=0", "ring:k=2", "full:x=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ctl_topo_spec s;
        char err[128] = "";
        cr_assert_eq(ctl_topo_spec_parse(bad[i], &s, err, sizeof(err)), -EINVAL, "accepted '%s'", bad[i]);
        cr_assert_neq(err[0], '\0', "no reason for '%s'", bad[i]);
    }
}

Test(topo, kmesh_degrees_are_k_or_k_plus_one_and_connected)
{
    const uint32_t ns[] = {21, 50, 101, 1000, 5001};
    const uint32_t ks[] = {2, 3, 8, 20};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 4; j++) {
            if (ks[j] >= ns[i])
                continue;
            char spec[32];
            snprintf(spec, sizeof(spec), "kmesh:k=%u", ks[j]);
            struct ctl_graph g = build(spec, ns[i], 7 + i);
            check_well_formed(&g);
            for (uint32_t v = 0; v < g.n; v++) {
                uint32_t d = ctl_graph_degree(&g, v);
                cr_assert(d == ks[j] || d == ks[j] + 1, "n=%u k=%u agent %u degree %u", ns[i], ks[j], v, d);
            }
            cr_assert(connected(&g), "n=%u k=%u connected", ns[i], ks[j]);
            ctl_graph_free(&g);
        }
}

Test(topo, kmesh_with_k_n_minus_1_is_the_full_mesh)
{
    struct ctl_graph g = build("kmesh:k=9", 10, 1);
    cr_assert_eq(g.n_edges, 45);
    ctl_graph_free(&g);
}

Test(topo, every_builder_is_deterministic_by_seed)
{
    const char *specs[] = {"full", "ring", "kmesh:k=6", "hub:hubs=3", "smallworld:k=6,p=0.2", "scalefree:m=2"};
    for (size_t i = 0; i < 6; i++) {
        struct ctl_graph a = build(specs[i], 500, 42), b = build(specs[i], 500, 42), c = build(specs[i], 500, 43);
        check_well_formed(&a);
        cr_assert(same_graph(&a, &b), "%s differs for the same seed", specs[i]);
        if (strcmp(specs[i], "kmesh:k=6") == 0 || strncmp(specs[i], "small", 5) == 0 ||
            strncmp(specs[i], "scale", 5) == 0)
            cr_assert(!same_graph(&a, &c), "%s ignores the seed", specs[i]);
        ctl_graph_free(&a);
        ctl_graph_free(&b);
        ctl_graph_free(&c);
    }
}

Test(topo, closed_form_builders)
{
    struct ctl_graph g = build("full", 30, 1);
    cr_assert_eq(g.n_edges, 30 * 29 / 2);
    ctl_graph_free(&g);
    g = build("ring", 30, 1);
    cr_assert_eq(g.n_edges, 30);
    for (uint32_t v = 0; v < 30; v++)
        cr_assert_eq(ctl_graph_degree(&g, v), 2);
    ctl_graph_free(&g);
    g = build("hub:hubs=3", 30, 1);
    cr_assert_eq(g.n_edges, 3 + 27, "hub mesh plus one link per spoke");
    cr_assert(connected(&g));
    for (uint32_t v = 3; v < 30; v++)
        cr_assert_eq(ctl_graph_degree(&g, v), 1);
    ctl_graph_free(&g);
    g = build("smallworld:k=6,p=0.3", 300, 1);
    cr_assert_eq(g.n_edges, 300 * 3, "rewiring keeps the edge count");
    ctl_graph_free(&g);
    g = build("scalefree:m=3", 300, 1);
    cr_assert_eq(g.n_edges, 6 + 3ull * (300 - 4), "a 4-clique, then 3 links per agent");
    cr_assert(connected(&g));
    ctl_graph_free(&g);
}

Test(topo, impossible_specs_are_errors)
{
    struct ctl_topo_spec s;
    struct ctl_graph g;
    char err[256];
    ctl_topo_spec_parse("kmesh:k=20", &s, err, sizeof(err));
    cr_assert_eq(ctl_topo_build(&s, 10, 1, &g, err, sizeof(err)), -EINVAL);
    ctl_topo_spec_parse("hub:hubs=10", &s, err, sizeof(err));
    cr_assert_eq(ctl_topo_build(&s, 10, 1, &g, err, sizeof(err)), -EINVAL);
    ctl_topo_spec_parse("full", &s, err, sizeof(err));
    cr_assert_eq(ctl_topo_build(&s, CTL_TOPO_FULL_MAX + 1, 1, &g, err, sizeof(err)), -EINVAL);
}

/* Brute force: diameter, average path length, clustering. */
Test(topo, analysis_matches_brute_force)
{
    const char *specs[] = {"kmesh:k=4", "smallworld:k=4,p=0.1", "scalefree:m=2", "hub:hubs=2", "ring"};
    for (size_t i = 0; i < 5; i++) {
        struct ctl_graph g = build(specs[i], 300, 3);
        struct ctl_topo_stats st;
        cr_assert_eq(ctl_topo_analyze(&g, 20000, 64, 1, 2, &st), 0);
        int32_t *d = malloc(g.n * sizeof(int32_t));
        uint64_t sum = 0, pairs = 0;
        uint32_t diam = 0;
        for (uint32_t s = 0; s < g.n; s++) {
            bfs(&g, s, d);
            for (uint32_t t = 0; t < g.n; t++)
                if (t != s && d[t] > 0) {
                    sum += (uint64_t)d[t];
                    pairs++;
                    if ((uint32_t)d[t] > diam)
                        diam = (uint32_t)d[t];
                }
        }
        cr_assert(st.exact);
        cr_assert_eq(st.diameter, diam, "%s diameter %u vs %u", specs[i], st.diameter, diam);
        cr_assert_float_eq(st.avg_path_length, (double)sum / (double)pairs, 1e-9, "%s", specs[i]);
        /* clustering: triangles through each agent by brute force */
        double c = 0;
        for (uint32_t v = 0; v < g.n; v++) {
            uint32_t k = ctl_graph_degree(&g, v), links = 0;
            for (uint32_t a = g.off[v]; a < g.off[v + 1]; a++)
                for (uint32_t b = a + 1; b < g.off[v + 1]; b++) {
                    uint32_t x = g.adj[a], y = g.adj[b];
                    for (uint32_t s = g.off[x]; s < g.off[x + 1]; s++)
                        links += g.adj[s] == y;
                }
            if (k >= 2)
                c += 2.0 * links / ((double)k * (k - 1));
        }
        cr_assert_float_eq(st.clustering, c / g.n, 1e-9, "%s clustering", specs[i]);
        uint64_t hist_total = 0;
        for (uint32_t k = 0; k <= st.deg_max; k++)
            hist_total += st.deg_hist[k];
        cr_assert_eq(hist_total, g.n);
        cr_assert(st.connected);
        free(d);
        ctl_topo_stats_free(&st);
        ctl_graph_free(&g);
    }
}

Test(topo, disconnected_graphs_are_reported)
{
    /* two triangles */
    uint32_t pairs[6][2] = {{0, 1}, {1, 2}, {0, 2}, {3, 4}, {4, 5}, {3, 5}};
    struct ctl_graph g;
    cr_assert_eq(ctl_graph_from_pairs(6, pairs, 6, &g), 0);
    struct ctl_topo_stats st;
    cr_assert_eq(ctl_topo_analyze(&g, 100, 10, 1, 1, &st), 0);
    cr_assert(!st.connected);
    cr_assert_eq(st.components, 2);
    cr_assert_float_eq(st.clustering, 1.0, 1e-12);
    ctl_topo_stats_free(&st);
    ctl_graph_free(&g);
}

Test(topo, large_graphs_are_sampled_and_say_so)
{
    struct ctl_graph g = build("kmesh:k=10", 30000, 5);
    struct ctl_topo_stats st;
    cr_assert_eq(ctl_topo_analyze(&g, 20000, 128, 1, 2, &st), 0);
    cr_assert(!st.exact);
    cr_assert_eq(st.sources_sampled, 128);
    cr_assert(st.diameter >= 4 && st.diameter <= 8, "diameter estimate %u", st.diameter);
    ctl_topo_stats_free(&st);
    ctl_graph_free(&g);
}

/* Next hops: following them from any agent reaches the destination along a
 * shortest path. */
Test(routing, next_hops_follow_shortest_paths)
{
    const char *specs[] = {"kmesh:k=3", "smallworld:k=4,p=0.2", "scalefree:m=1", "hub:hubs=3", "ring"};
    for (size_t i = 0; i < 5; i++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            struct ctl_graph g = build(specs[i], 300 + (uint32_t)seed * 37, seed);
            uint32_t n = g.n;
            uint32_t *dests = malloc(n * sizeof(uint32_t));
            for (uint32_t j = 0; j < n; j++)
                dests[j] = j;
            uint16_t *next = malloc((size_t)n * n * sizeof(uint16_t));
            cr_assert_eq(ctl_route_build(&g, dests, n, 2, next), 0);
            int32_t *d = malloc(n * sizeof(int32_t));
            for (uint32_t t = 0; t < n; t++) {
                bfs(&g, t, d); /* distances to t */
                for (uint32_t v = 0; v < n; v++) {
                    uint16_t slot = next[(size_t)v * n + t];
                    if (v == t || d[v] < 0) {
                        cr_assert_eq(slot, CTL_ROUTE_NONE);
                        continue;
                    }
                    cr_assert_lt(slot, ctl_graph_degree(&g, v));
                    uint32_t u = g.adj[g.off[v] + slot];
                    cr_assert_eq(d[u], d[v] - 1, "%s: hop %u -> %u towards %u is not on a shortest path",
                                 specs[i], v, u, t);
                }
            }
            free(d);
            free(next);
            free(dests);
            ctl_graph_free(&g);
        }
    }
}

Test(routing, destination_subset_columns)
{
    struct ctl_graph g = build("kmesh:k=4", 500, 9);
    uint32_t dests[3] = {7, 499, 250};
    uint16_t *next = malloc(500 * 3 * sizeof(uint16_t));
    cr_assert_eq(ctl_route_build(&g, dests, 3, 1, next), 0);
    int32_t *d = malloc(500 * sizeof(int32_t));
    for (uint32_t j = 0; j < 3; j++) {
        bfs(&g, dests[j], d);
        for (uint32_t v = 0; v < 500; v++) {
            uint16_t slot = next[v * 3 + j];
            if (v == dests[j]) {
                cr_assert_eq(slot, CTL_ROUTE_NONE);
                continue;
            }
            cr_assert_eq(d[g.adj[g.off[v] + slot]], d[v] - 1);
        }
    }
    cr_assert_eq(ctl_route_max_dests(10000, 200000000ull), 10000);
    cr_assert_eq(ctl_route_max_dests(100000, 2000000000ull), 10000);
    free(d);
    free(next);
    ctl_graph_free(&g);
}

Test(topo, kmesh_k_auto_takes_the_suggested_k_once_n_is_known)
{
    struct ctl_topo_spec s;
    char err[128], buf[64];
    cr_assert_eq(ctl_topo_spec_parse("kmesh:k=auto", &s, err, sizeof(err)), 0, "%s", err);
    cr_assert(s.k_auto);
    ctl_topo_spec_format(&s, buf, sizeof(buf));
    cr_assert_str_eq(buf, "kmesh:k=auto");
    const char *bad[] = {"kmesh:k=auto,p=1", "kmesh:k=AUTO",          "kmesh:k=autox",
                         "smallworld:k=auto,p=0.1", "kmesh:k=1 (auto)", "kmesh:k=auto (auto)",
                         "ring (auto)", "kmesh:k=4 (auto) (auto)"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(ctl_topo_spec_parse(bad[i], &s, err, sizeof(err)), -EINVAL, "accepted '%s'", bad[i]);

    /* ceil(2 ln n): 10 -> 5, 100 -> 10, 1000 -> 14 */
    const uint32_t n[] = {10, 100, 1000};
    const uint32_t k[] = {5, 10, 14};
    for (size_t i = 0; i < 3; i++) {
        ctl_topo_spec_parse("kmesh:k=auto", &s, err, sizeof(err));
        struct ctl_graph ga;
        /* unresolved: ctl_topo_build resolves for n on a copy */
        cr_assert_eq(ctl_topo_build(&s, n[i], 7, &ga, err, sizeof(err)), 0, "%s", err);
        cr_assert_eq(s.k, 0);
        ctl_topo_spec_resolve(&s, n[i]);
        cr_assert_eq(s.k, k[i], "n=%u: k=%u", n[i], s.k);
        ctl_topo_spec_format(&s, buf, sizeof(buf));
        char want[64];
        snprintf(want, sizeof(want), "kmesh:k=%u (auto)", k[i]);
        cr_assert_str_eq(buf, want);
        /* the resolved text reads back as it was */
        struct ctl_topo_spec back;
        cr_assert_eq(ctl_topo_spec_parse(want, &back, err, sizeof(err)), 0, "%s: %s", want, err);
        cr_assert(back.k_auto && back.k == k[i] && back.kind == CTL_TOPO_KMESH);
        /* the same graph as the explicit k */
        char explicit[32];
        snprintf(explicit, sizeof(explicit), "kmesh:k=%u", k[i]);
        struct ctl_graph gb = build(explicit, n[i], 7);
        cr_assert(same_graph(&ga, &gb), "n=%u", n[i]);
        for (uint32_t v = 0; v < n[i]; v++)
            cr_assert(ctl_graph_degree(&ga, v) == k[i] || ctl_graph_degree(&ga, v) == k[i] + 1);
        ctl_graph_free(&ga);
        ctl_graph_free(&gb);
    }
    /* 2 and 3 agents: k is capped below n (the full mesh) */
    ctl_topo_spec_parse("kmesh:k=auto", &s, err, sizeof(err));
    struct ctl_graph g;
    cr_assert_eq(ctl_topo_build(&s, 3, 1, &g, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(g.n_edges, 3);
    ctl_graph_free(&g);
}

Test(topo, route_destinations_are_every_agent_or_a_seeded_sample)
{
    uint32_t dests[100];
    int32_t dindex[100];
    cr_assert_eq(ctl_route_sample_dests(100, 100, 3, dests, dindex), 0);
    for (uint32_t i = 0; i < 100; i++)
        cr_assert(dests[i] == i && dindex[i] == (int32_t)i);
    cr_assert_eq(ctl_route_sample_dests(100, 10, 3, dests, dindex), 0);
    uint32_t cols = 0;
    for (uint32_t v = 0; v < 100; v++)
        if (dindex[v] >= 0) {
            cr_assert_eq(dests[dindex[v]], v);
            cols++;
        }
    cr_assert_eq(cols, 10);
    uint32_t again[10];
    cr_assert_eq(ctl_route_sample_dests(100, 10, 3, again, dindex), 0);
    cr_assert_eq(memcmp(again, dests, sizeof(again)), 0, "the same seed draws the same sample");
}
