/* SPDX-License-Identifier: MIT */
/* `swarmgen topo`: build and analyse a topology, print it, export it. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "route.h"
#include "topo.h"
#include "topo_analysis.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void suggest_k(void)
{
    static const uint32_t sizes[] = {10, 100, 1000, 10000, 100000, 1000000};
    printf("%10s %4s %14s %18s %12s\n", "agents", "k", "edges", "full-mesh edges", "reduction");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint32_t n = sizes[i], k = ctl_topo_suggest_k(n);
        double edges = (double)n * k / 2, full = (double)n * (n - 1) / 2;
        printf("%10u %4u %14.0f %18.0f %11.4f%%\n", n, k, ceil(edges), full,
               100.0 * (1 - ceil(edges) / full));
    }
    printf("k = ceil(2 ln N): every agent keeps k neighbours (k or k+1 in kmesh), enough for a\n"
           "connected random mesh with a short diameter; edges = N*k/2.\n");
}

static int write_dot(const char *path, const struct ctl_graph *g, const char *spec)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "graph swarm {\n  label=\"%s, %u agents\";\n  node [shape=point];\n", spec, g->n);
    for (uint64_t e = 0; e < g->n_edges; e++)
        fprintf(f, "  %u -- %u;\n", g->ends[e][0], g->ends[e][1]);
    fputs("}\n", f);
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0)
        rc = -EIO;
    return rc;
}

static void print_json(const struct ctl_topo_stats *s, const char *spec, uint64_t seed,
                       double build_s, double analysis_s)
{
    struct json_writer w;
    json_init(&w, stdout, true);
    json_obj_begin(&w);
    json_kv_str(&w, "topology", spec);
    json_kv_u64(&w, "seed", seed);
    json_kv_u64(&w, "agents", s->agents);
    json_kv_u64(&w, "edges", s->edges);
    json_kv_dbl(&w, "reduction_pct", s->reduction_pct, 9);
    json_key(&w, "degree");
    json_obj_begin(&w);
    json_kv_u64(&w, "min", s->deg_min);
    json_kv_dbl(&w, "avg", s->deg_avg, 9);
    json_kv_u64(&w, "max", s->deg_max);
    json_key(&w, "histogram");
    json_obj_begin(&w);
    for (uint32_t d = 0; d <= s->deg_max; d++) {
        if (!s->deg_hist[d])
            continue;
        char k[16];
        snprintf(k, sizeof(k), "%u", d);
        json_kv_u64(&w, k, s->deg_hist[d]);
    }
    json_obj_end(&w);
    json_obj_end(&w);
    json_kv_bool(&w, "connected", s->connected);
    json_kv_u64(&w, "components", s->components);
    json_kv_u64(&w, "diameter", s->diameter);
    json_kv_dbl(&w, "avg_path_length", s->avg_path_length, 9);
    json_kv_dbl(&w, "clustering", s->clustering, 9);
    json_kv_bool(&w, "exact", s->exact);
    json_kv_u64(&w, "sources_sampled", s->sources_sampled);
    json_kv_bool(&w, "clustering_exact", s->clustering_exact);
    json_kv_dbl(&w, "build_s", build_s, 6);
    json_kv_dbl(&w, "analysis_s", analysis_s, 6);
    json_obj_end(&w);
    json_finish(&w);
}

static void print_table(const struct ctl_topo_stats *s, const char *spec, uint64_t seed,
                        double build_s, double analysis_s)
{
    const char *sampled = s->exact ? "" : " (sampled)";
    printf("topology        %s (seed %llu)\n", spec, (unsigned long long)seed);
    printf("agents          %u\n", s->agents);
    printf("edges           %llu (full mesh: %.0f, reduction %.4f%%)\n",
           (unsigned long long)s->edges, (double)s->agents * (s->agents - 1) / 2, s->reduction_pct);
    printf("degree          min %u, avg %.2f, max %u\n", s->deg_min, s->deg_avg, s->deg_max);
    printf("degrees         ");
    uint32_t shown = 0;
    for (uint32_t d = 0; d <= s->deg_max; d++) {
        if (!s->deg_hist[d])
            continue;
        if (shown++ == 12) {
            printf(" ...");
            break;
        }
        printf("%s%u:%llu", shown > 1 ? " " : "", d, (unsigned long long)s->deg_hist[d]);
    }
    printf("\n");
    printf("connected       %s (%u component%s)\n", s->connected ? "yes" : "NO", s->components,
           s->components == 1 ? "" : "s");
    if (s->exact)
        printf("diameter        %u\n", s->diameter);
    else
        printf("diameter        >= %u (sampled from %u sources)\n", s->diameter, s->sources_sampled);
    printf("avg path length %.4f%s\n", s->avg_path_length, sampled);
    if (!s->exact)
        printf("                (estimated from %u BFS sources)\n", s->sources_sampled);
    printf("clustering      %.6f%s\n", s->clustering, s->clustering_exact ? "" : " (sampled from 4096 agents)");
    printf("time            build %.3f s, analysis %.3f s\n", build_s, analysis_s);
}

/* One destination column of agent `a`'s routing table: the neighbour the
 * table names (UINT32_MAX: none) and the hops when its next hops are
 * followed to the destination (-1: it is not reached). */
static void route_of(const struct ctl_graph *g, const uint16_t *next, uint32_t n_dests,
                     uint32_t col, uint32_t dest, uint32_t a, uint32_t *hop, int64_t *hops)
{
    uint16_t slot = next[(size_t)a * n_dests + col];
    *hop = slot == CTL_ROUTE_NONE ? UINT32_MAX : g->adj[g->off[a] + slot];
    uint32_t v = a;
    int64_t h = 0;
    while (v != dest && h <= (int64_t)g->n) {
        slot = next[(size_t)v * n_dests + col];
        if (slot == CTL_ROUTE_NONE)
            break;
        v = g->adj[g->off[v] + slot];
        h++;
    }
    *hops = v == dest ? h : -1;
}

/* --routes AGENT: the agent's row of the routing table `swarmgen run`
 * builds (the same destination columns: all agents when route_mem holds
 * them, else a seeded sample; route_sample as routed:M). */
static int print_routes(const struct ctl_graph *g, uint32_t agent, const char *spec,
                        uint64_t seed, uint64_t route_mem, uint32_t route_sample,
                        unsigned threads, bool as_json)
{
    uint32_t n = g->n;
    uint32_t nd = ctl_route_max_dests(n, route_mem);
    if (nd == 0)
        cli_fail("--route-mem", "%llu bytes cannot hold one routing column for %u agents",
                 (unsigned long long)route_mem, n);
    if (route_sample && route_sample < nd)
        nd = route_sample;
    uint32_t *dests = malloc((size_t)nd * sizeof(uint32_t));
    int32_t *dindex = malloc((size_t)n * sizeof(int32_t));
    uint16_t *next = malloc((size_t)n * nd * sizeof(uint16_t));
    int rc = -ENOMEM;
    if (dests && dindex && next && ctl_route_sample_dests(n, nd, seed, dests, dindex) == 0)
        rc = ctl_route_build(g, dests, nd, threads, next);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topo: routing table: %s\n",
                rc == -E2BIG ? "an agent has more than 65534 neighbours" : strerror(-rc));
        free(dests), free(dindex), free(next);
        return 1;
    }
    struct json_writer w;
    if (as_json) {
        json_init(&w, stdout, true);
        json_obj_begin(&w);
        json_kv_str(&w, "topology", spec);
        json_kv_u64(&w, "seed", seed);
        json_kv_u64(&w, "agents", n);
        json_kv_u64(&w, "agent", agent);
        json_kv_u64(&w, "degree", ctl_graph_degree(g, agent));
        json_kv_u64(&w, "destinations", nd);
        json_kv_bool(&w, "sampled", nd < n);
        json_key(&w, "routes");
        json_arr_begin(&w);
    } else {
        printf("routes of agent %u (%u neighbours) in %s, %u agents, seed %llu: %u destination%s%s\n",
               agent, ctl_graph_degree(g, agent), spec, n, (unsigned long long)seed, nd,
               nd == 1 ? "" : "s", nd < n ? " (sampled, as swarmgen run)" : "");
        printf("%8s %8s %8s %6s\n", "column", "dest", "next_hop", "hops");
    }
    for (uint32_t j = 0; j < nd; j++) {
        uint32_t hop;
        int64_t hops;
        route_of(g, next, nd, j, dests[j], agent, &hop, &hops);
        if (as_json) {
            json_obj_begin(&w);
            json_kv_u64(&w, "column", j);
            json_kv_u64(&w, "dest", dests[j]);
            json_key(&w, "next_hop");
            if (hop == UINT32_MAX)
                json_null(&w);
            else
                json_u64(&w, hop);
            json_key(&w, "hops");
            if (hops < 0)
                json_null(&w);
            else
                json_u64(&w, (uint64_t)hops);
            json_obj_end(&w);
            continue;
        }
        char nh[16], hp[16];
        snprintf(nh, sizeof(nh), hop == UINT32_MAX ? "-" : "%u", hop);
        snprintf(hp, sizeof(hp), hops < 0 ? "-" : "%lld", (long long)hops);
        printf("%8u %8u %8s %6s\n", j, dests[j], nh, hp);
    }
    if (as_json) {
        json_arr_end(&w);
        json_obj_end(&w);
        json_finish(&w);
    }
    free(dests), free(dindex), free(next);
    return 0;
}

void ctl_topo_flag(const char *flag, const char *s, struct ctl_topo_spec *out)
{
    char err[256];
    if (ctl_topo_spec_parse(s, out, err, sizeof(err)) < 0)
        cli_fail(flag, "'%s': %s", s, err);
}

/* The flags of `swarmgen topo`. */
struct topo_args {
    uint64_t agents, seed, threads, exact_limit, samples;
    struct ctl_topo_spec spec;
    const char *dot;
    bool json, suggest;
    bool routes;                        /* --routes AGENT */
    uint64_t routes_agent, route_mem, route_sample;
};

static struct topo_args *args(void *ctx)
{
    return ctx;
}

static void set_agents(void *ctx, const char *s)
{
    args(ctx)->agents = cli_count("--agents", s, 2, 1000000, "a whole number");
}

static void set_topology(void *ctx, const char *s)
{
    ctl_topo_flag("--topology", s, &args(ctx)->spec);
}

static void set_seed(void *ctx, const char *s)
{
    args(ctx)->seed = cli_whole("--seed", s);
}

static void set_dot(void *ctx, const char *s)
{
    args(ctx)->dot = cli_file("--dot", s);
}

static void set_json(void *ctx, const char *s)
{
    args(ctx)->json = true;
}

static void set_suggest(void *ctx, const char *s)
{
    args(ctx)->suggest = true;
}

static void set_threads(void *ctx, const char *s)
{
    args(ctx)->threads = cli_count("--threads", s, 1, 64, "a thread count");
}

static void set_exact_limit(void *ctx, const char *s)
{
    args(ctx)->exact_limit = cli_count("--exact-limit", s, 0, 1000000, "an agent count");
}

static void set_samples(void *ctx, const char *s)
{
    args(ctx)->samples = cli_count("--samples", s, 1, 1000000, "a source count");
}

static void set_routes(void *ctx, const char *s)
{
    args(ctx)->routes = true;
    args(ctx)->routes_agent = cli_count("--routes", s, 0, 999999, "an agent id");
}

static void set_route_mem(void *ctx, const char *s)
{
    if (cli_parse_u64(s, 1000000ull, 1ull << 40, &args(ctx)->route_mem) < 0)
        cli_fail("--route-mem", "'%s' is not a byte count of 1M..1T (e.g. 64M)", s);
}

static void set_route_sample(void *ctx, const char *s)
{
    args(ctx)->route_sample = cli_count("--route-sample", s, 1, 1000000, "a destination count");
}

static const struct cli_flag topo_flags[] = {
    {"--agents", "N", "agents, 2..1000000", set_agents},
    {"--topology", "SPEC",
     "full | kmesh:k=K | kmesh:k=auto (K = ceil(2 ln N)) | hub:hubs=H |\n"
     "ring | smallworld:k=K,p=P | scalefree:m=M (default kmesh:k=20)",
     set_topology},
    {"--seed", "S", "seed (default 1)", set_seed},
    {"--dot", "FILE", "write the graph in Graphviz DOT", set_dot},
    {"--json", NULL, "print the analysis as JSON", set_json},
    {"--suggest-k", NULL, "table of suggested k (k = ceil(2 ln N)) by swarm size", set_suggest},
    {"--threads", "N", "analysis threads (default: online CPUs)", set_threads},
    {"--exact-limit", "N", "exact distances up to N agents (default 20000)", set_exact_limit},
    {"--samples", "N", "BFS sources above the limit (default 256)", set_samples},
    {"--routes", "AGENT",
     "print AGENT's routing table as 'swarmgen run' builds it:\n"
     "destination, next hop (a neighbour), hops along the next hops",
     set_routes},
    {"--route-mem", "BYTES", "with --routes: as run's --route-mem (default 1G)", set_route_mem},
    {"--route-sample", "M", "with --routes: M sampled destinations, as run's routed:M",
     set_route_sample},
};

static const struct cli_cmd topo_cmd = {
    .name = "topo",
    .head = "usage: swarmgen topo --agents N [--topology SPEC] [--seed S] [--dot FILE] [--json]\n"
            "       swarmgen topo --agents N [--topology SPEC] [--seed S] --routes AGENT [--json]\n"
            "       swarmgen topo --suggest-k\n",
    .column = 20,
    .flag = topo_flags,
    .n_flags = sizeof(topo_flags) / sizeof(topo_flags[0]),
};

int ctl_topo_main(int argc, char **argv)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct topo_args a = {
        .seed = 1,
        .threads = ncpu > 0 ? (uint64_t)ncpu : 1,
        .exact_limit = 20000,
        .samples = 256,
        .route_mem = 1000000000ull, /* run's default --route-mem */
    };
    ctl_topo_flag("--topology", "kmesh:k=20", &a.spec);
    cli_parse(&topo_cmd, argc, argv, &a);
    if (a.suggest) {
        suggest_k();
        if (!a.agents)
            return 0;
    }
    if (!a.agents)
        cli_fail("--agents", "required (or --suggest-k)");
    if (a.routes && a.routes_agent >= a.agents)
        cli_fail("--routes", "agent %llu is not one of the %llu agents (0..%llu)",
                 (unsigned long long)a.routes_agent, (unsigned long long)a.agents,
                 (unsigned long long)a.agents - 1);
    char canon[64], err[256];
    ctl_topo_spec_resolve(&a.spec, (uint32_t)a.agents); /* kmesh:k=auto */
    ctl_topo_spec_format(&a.spec, canon, sizeof(canon));
    struct ctl_graph g;
    double t0 = now_s();
    int rc = ctl_topo_build(&a.spec, (uint32_t)a.agents, a.seed, &g, err, sizeof(err));
    if (rc == -EINVAL)
        cli_fail("--topology", "%s", err);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topo: %s\n", err);
        return 1;
    }
    double build_s = now_s() - t0;
    if (a.routes) {
        rc = print_routes(&g, (uint32_t)a.routes_agent, canon, a.seed, a.route_mem,
                          (uint32_t)a.route_sample, (unsigned)a.threads, a.json);
        ctl_graph_free(&g);
        return rc;
    }
    struct ctl_topo_stats st;
    t0 = now_s();
    rc = ctl_topo_analyze(&g, (uint32_t)a.exact_limit, (uint32_t)a.samples, a.seed, (unsigned)a.threads, &st);
    double analysis_s = now_s() - t0;
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topo: analysis: %s\n", strerror(-rc));
        ctl_graph_free(&g);
        return 1;
    }
    if (a.json)
        print_json(&st, canon, a.seed, build_s, analysis_s);
    else
        print_table(&st, canon, a.seed, build_s, analysis_s);
    int code = 0;
    if (a.dot) {
        rc = write_dot(a.dot, &g, canon);
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --dot %s: %s\n", a.dot, strerror(-rc));
            code = 1;
        }
    }
    ctl_topo_stats_free(&st);
    ctl_graph_free(&g);
    return code;
}
