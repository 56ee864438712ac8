/* SPDX-License-Identifier: MIT */
/* `swarmgen topo`: output, JSON, DOT, --suggest-k and bad input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_read.h"
#include "proc.h"
#include "topo.h"

static struct proc_result r;

static int topo(char *const extra[])
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)proc_bin("SWARMGEN_BIN");
    argv[n++] = "topo";
    for (int i = 0; extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return proc_run(argv, 60, 0, &r);
}

Test(topo_cli, kmesh_100_k20_is_connected_with_its_diameter)
{
    char *a[] = {"--agents", "100", "--topology", "kmesh:k=20", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "connected       yes"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "diameter        "), "%s", r.out);
}

Test(topo_cli, json_has_every_figure)
{
    char *a[] = {"--agents", "2000", "--topology", "smallworld:k=6,p=0.1", "--json", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    const char *keys[] = {"\"agents\": 2000", "\"edges\": 6000", "\"reduction_pct\"", "\"degree\"",
                          "\"histogram\"", "\"connected\"", "\"diameter\"", "\"avg_path_length\"",
                          "\"clustering\"", "\"exact\": true"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cr_assert_not_null(strstr(r.out, keys[i]), "missing %s in %s", keys[i], r.out);
}

Test(topo_cli, beyond_the_exact_limit_figures_are_labelled_sampled)
{
    char *a[] = {"--agents", "50000", "--topology", "kmesh:k=8", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "sampled"), "%s", r.out);
}

Test(topo_cli, dot_export)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/sg-topo-%d.dot", (int)getpid());
    char *a[] = {"--agents", "10", "--topology", "ring", "--dot", path, NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    static char dot[4096];
    cr_assert_gt(proc_read_file(path, dot, sizeof(dot)), 0);
    cr_assert_not_null(strstr(dot, "graph swarm {"));
    cr_assert_not_null(strstr(dot, "0 -- 9;"));
    int lines = proc_lines(dot);
    cr_assert_eq(lines, 3 + 10 + 1, "header, 10 edges, footer: %s", dot);
    unlink(path);
}

Test(topo_cli, suggest_k_table)
{
    char *a[] = {"--suggest-k", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    /* 2 ln 10000 = 18.4 -> 19 */
    cr_assert_not_null(strstr(r.out, "     10000   19"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "   1000000   28"), "%s", r.out);
}

Test(topo_cli, kmesh_k_auto_reports_the_k_it_used)
{
    char *a[] = {"--agents", "1000", "--topology", "kmesh:k=auto", "--json", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    /* ceil(2 ln 1000) = 14; 1000 agents of degree 14 (or 15) */
    cr_assert_not_null(strstr(r.out, "\"topology\": \"kmesh:k=14 (auto)\""), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\"min\": 14"), "%s", r.out);
}

Test(topo_cli, routes_of_a_ring_of_8)
{
    char *a[] = {"--agents", "8", "--topology", "ring", "--routes", "0", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    /* the lowest slot wins a tie (dest 4: neighbours 1 and 7 both 4 hops) */
    const char *want = "  column     dest next_hop   hops\n"
                       "       0        0        -      0\n"
                       "       1        1        1      1\n"
                       "       2        2        1      2\n"
                       "       3        3        1      3\n"
                       "       4        4        1      4\n"
                       "       5        5        7      3\n"
                       "       6        6        7      2\n"
                       "       7        7        7      1\n";
    cr_assert_not_null(strstr(r.out, want), "%s", r.out);
    cr_assert_eq(proc_lines(r.out), 10, "%s", r.out);
}

/* The BFS distances from `src` in g into dist (UINT32_MAX: unreached). */
static void bfs(const struct ctl_graph *g, uint32_t src, uint32_t *dist)
{
    uint32_t *q = malloc(g->n * sizeof(uint32_t));
    cr_assert_not_null(q);
    for (uint32_t v = 0; v < g->n; v++)
        dist[v] = UINT32_MAX;
    uint32_t head = 0, tail = 0;
    dist[src] = 0;
    q[tail++] = src;
    while (head < tail) {
        uint32_t v = q[head++];
        for (uint32_t s = g->off[v]; s < g->off[v + 1]; s++)
            if (dist[g->adj[s]] == UINT32_MAX) {
                dist[g->adj[s]] = dist[v] + 1;
                q[tail++] = g->adj[s];
            }
    }
    free(q);
}

/* Every route of `agent` in the JSON of --routes: the next hop is a
 * neighbour one hop closer, hops is the BFS distance. Returns the count. */
static uint32_t check_routes(const char *spec, uint32_t n, uint32_t agent, uint64_t seed,
                             uint32_t want_dests)
{
    struct ctl_topo_spec sp;
    char err[128];
    cr_assert_eq(ctl_topo_spec_parse(spec, &sp, err, sizeof(err)), 0, "%s", err);
    struct ctl_graph g;
    cr_assert_eq(ctl_topo_build(&sp, n, seed, &g, err, sizeof(err)), 0, "%s", err);
    uint32_t *from = malloc(n * sizeof(uint32_t)), *dist = malloc(n * sizeof(uint32_t));
    bfs(&g, agent, from);
    struct jr_doc d;
    cr_assert_eq(jr_parse(&d, r.out, strlen(r.out), NULL), 0, "%s", r.out);
    double v;
    cr_assert(jr_number(&d, "destinations", &v) && v == want_dests, "%s", r.out);
    int routes = jr_find(&d, 0, "routes");
    uint32_t count = 0;
    for (int e = jr_next_child(&d, routes, routes); e >= 0; e = jr_next_child(&d, routes, e)) {
        uint64_t dest, hops, hop;
        cr_assert(jr_u64(&d, jr_member(&d, e, "dest"), &dest));
        cr_assert(jr_u64(&d, jr_member(&d, e, "hops"), &hops), "dest %llu unreached", (unsigned long long)dest);
        cr_assert_eq(hops, from[dest], "dest %llu: %llu hops, BFS %u", (unsigned long long)dest,
                     (unsigned long long)hops, from[dest]);
        if (dest == agent) {
            cr_assert_eq(d.node[jr_member(&d, e, "next_hop")].type, JR_NULL);
        } else {
            cr_assert(jr_u64(&d, jr_member(&d, e, "next_hop"), &hop));
            bool neighbour = false;
            for (uint32_t s = g.off[agent]; s < g.off[agent + 1]; s++)
                neighbour |= g.adj[s] == hop;
            cr_assert(neighbour, "next hop %llu of dest %llu is not a neighbour",
                      (unsigned long long)hop, (unsigned long long)dest);
            bfs(&g, (uint32_t)dest, dist);
            cr_assert_eq(dist[hop] + 1, dist[agent], "next hop %llu is not on a shortest path",
                         (unsigned long long)hop);
        }
        count++;
    }
    jr_free(&d);
    free(from);
    free(dist);
    ctl_graph_free(&g);
    return count;
}

Test(topo_cli, routes_next_hops_are_neighbours_and_hops_are_bfs_distances)
{
    char *a[] = {"--agents", "500", "--topology", "kmesh:k=auto", "--seed", "9", "--routes", "17",
                 "--json", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\"sampled\": false"), "%s", r.out);
    cr_assert_eq(check_routes("kmesh:k=auto", 500, 17, 9, 500), 500);
    /* a sample of destinations, as routed:M in swarmgen run */
    char *b[] = {"--agents", "300", "--topology", "scalefree:m=2", "--seed", "4", "--routes", "5",
                 "--route-sample", "40", "--json", NULL};
    cr_assert_eq(topo(b), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\"sampled\": true"), "%s", r.out);
    cr_assert_eq(check_routes("scalefree:m=2", 300, 5, 4, 40), 40);
}

Test(topo_cli, bad_input_is_one_line_and_exit_2)
{
    char *cases[][7] = {
        {"--agents", "1", NULL},
        {"--agents", "abc", NULL},
        {"--agents", "100", "--topology", "star", NULL},
        {"--agents", "10", "--topology", "kmesh:k=20", NULL},
        {"--topology", "ring", NULL},
        {"--agents", "100", "--bogus", NULL},
        {"--agents", "8", "--routes", "8", NULL},
        {"--agents", "8", "--routes", "x", NULL},
        {"--agents", "8", "--routes", "1", "--route-sample", "0", NULL},
        {"--agents", "8", "--routes", "1", "--route-mem", "10", NULL},
        {"--agents", "100", "--topology", "kmesh:k=auto,p=1", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(topo(cases[i]), 2, "case %zu: exit %d, %s", i, r.exit_code, r.err);
        cr_assert_eq(proc_lines(r.err), 1, "case %zu: %s", i, r.err);
        cr_assert_eq(strncmp(r.err, "swarmgen: ", 10), 0, "%s", r.err);
    }
}
