/* SPDX-License-Identifier: MIT */
/* `swarmgen topo`: build and analyse a topology, print it, export it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "topo.h"
#include "topo_analysis.h"

static const char usage[] =
    "usage: swarmgen topo --agents N [--topology SPEC] [--seed S] [--dot FILE] [--json]\n"
    "       swarmgen topo --suggest-k\n"
    "  --agents N        agents, 2..1000000\n"
    "  --topology SPEC   full | kmesh:k=K | hub:hubs=H | ring | smallworld:k=K,p=P |\n"
    "                    scalefree:m=M (default kmesh:k=20)\n"
    "  --seed S          seed (default 1)\n"
    "  --dot FILE        write the graph in Graphviz DOT\n"
    "  --json            print the analysis as JSON\n"
    "  --suggest-k       table of suggested k (k = ceil(2 ln N)) by swarm size\n"
    "  --threads N       analysis threads (default: online CPUs)\n"
    "  --exact-limit N   exact distances up to N agents (default 20000)\n"
    "  --samples N       BFS sources above the limit (default 256)\n";

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
    printf("avg path length %.4f%s%s\n", s->avg_path_length, sampled,
           s->exact ? "" : "");
    if (!s->exact)
        printf("                (estimated from %u BFS sources)\n", s->sources_sampled);
    printf("clustering      %.6f%s\n", s->clustering, s->clustering_exact ? "" : " (sampled from 4096 agents)");
    printf("time            build %.3f s, analysis %.3f s\n", build_s, analysis_s);
}

int ctl_topo_main(int argc, char **argv)
{
    uint64_t agents = 0, seed = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t threads = ncpu > 0 ? (uint64_t)ncpu : 1, exact_limit = 20000, samples = 256;
    const char *spec_text = "kmesh:k=20", *dot = NULL;
    int json = 0, suggest = 0;
    struct ctl_topo_spec spec;
    char err[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (cli_is(a, "--agents")) {
            const char *s = cli_value(argc, argv, &i, "--agents");
            if (cli_parse_u64(s, 2, 1000000, &agents) < 0)
                cli_fail("--agents", "'%s' is not a whole number in 2..1000000", s);
        } else if (cli_is(a, "--topology")) {
            spec_text = cli_value(argc, argv, &i, "--topology");
            if (ctl_topo_spec_parse(spec_text, &spec, err, sizeof(err)) < 0)
                cli_fail("--topology", "'%s': %s", spec_text, err);
        } else if (cli_is(a, "--seed")) {
            const char *s = cli_value(argc, argv, &i, "--seed");
            if (cli_parse_u64(s, 0, UINT64_MAX, &seed) < 0)
                cli_fail("--seed", "'%s' is not a whole number", s);
        } else if (cli_is(a, "--dot")) {
            dot = cli_value(argc, argv, &i, "--dot");
            if (!*dot)
                cli_fail("--dot", "empty file name");
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--suggest-k") == 0) {
            suggest = 1;
        } else if (cli_is(a, "--threads")) {
            const char *s = cli_value(argc, argv, &i, "--threads");
            if (cli_parse_u64(s, 1, 64, &threads) < 0)
                cli_fail("--threads", "'%s' is not a thread count in 1..64", s);
        } else if (cli_is(a, "--exact-limit")) {
            const char *s = cli_value(argc, argv, &i, "--exact-limit");
            if (cli_parse_u64(s, 0, 1000000, &exact_limit) < 0)
                cli_fail("--exact-limit", "'%s' is not an agent count in 0..1000000", s);
        } else if (cli_is(a, "--samples")) {
            const char *s = cli_value(argc, argv, &i, "--samples");
            if (cli_parse_u64(s, 1, 1000000, &samples) < 0)
                cli_fail("--samples", "'%s' is not a source count in 1..1000000", s);
        } else {
            cli_fail(a, "unknown flag for 'swarmgen topo' (see swarmgen topo --help)");
        }
    }
    if (suggest) {
        suggest_k();
        if (!agents)
            return 0;
    }
    if (!agents)
        cli_fail("--agents", "required (or --suggest-k)");
    if (ctl_topo_spec_parse(spec_text, &spec, err, sizeof(err)) < 0)
        cli_fail("--topology", "'%s': %s", spec_text, err);
    char canon[64];
    ctl_topo_spec_format(&spec, canon, sizeof(canon));
    struct ctl_graph g;
    double t0 = now_s();
    int rc = ctl_topo_build(&spec, (uint32_t)agents, seed, &g, err, sizeof(err));
    if (rc == -EINVAL)
        cli_fail("--topology", "%s", err);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topo: %s\n", err);
        return 1;
    }
    double build_s = now_s() - t0;
    struct ctl_topo_stats st;
    t0 = now_s();
    rc = ctl_topo_analyze(&g, (uint32_t)exact_limit, (uint32_t)samples, seed, (unsigned)threads, &st);
    double analysis_s = now_s() - t0;
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topo: analysis: %s\n", strerror(-rc));
        ctl_graph_free(&g);
        return 1;
    }
    if (json)
        print_json(&st, canon, seed, build_s, analysis_s);
    else
        print_table(&st, canon, seed, build_s, analysis_s);
    int code = 0;
    if (dot) {
        rc = write_dot(dot, &g, canon);
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --dot %s: %s\n", dot, strerror(-rc));
            code = 1;
        }
    }
    ctl_topo_stats_free(&st);
    ctl_graph_free(&g);
    return code;
}
