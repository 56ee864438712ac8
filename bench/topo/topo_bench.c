/* SPDX-License-Identifier: MIT */
/*
 * Topology benchmark: build, exact analysis and all-pairs routing times for
 * kmesh:k=20 at 10,000 and 20,000 agents (and sampled analysis at 100,000),
 * median of REPS runs each. Prints figures; not a test.
 *   build-release/bench/topo/topo_bench [REPS] [THREADS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "route.h"
#include "topo.h"
#include "topo_analysis.h"

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : (unsigned)(ncpu > 0 ? ncpu : 1);
    if (reps < 1 || reps > 100 || threads < 1) {
        fprintf(stderr, "usage: topo_bench [REPS 1..100] [THREADS]\n");
        return 2;
    }
    const uint32_t sizes[] = {10000, 20000, 100000};
    printf("kmesh:k=20, %u threads, median of %d runs\n", threads, reps);
    printf("%8s %10s %12s %12s %12s %s\n", "agents", "edges", "build_s", "analysis_s", "routes_s", "notes");
    for (size_t i = 0; i < 3; i++) {
        uint32_t n = sizes[i];
        double b[100], a[100], r[100];
        struct ctl_topo_spec spec;
        char err[128];
        ctl_topo_spec_parse("kmesh:k=20", &spec, err, sizeof(err));
        uint64_t edges = 0;
        bool exact = true, routed = n <= 20000;
        for (int k = 0; k < reps; k++) {
            struct ctl_graph g;
            double t0 = (bench_now_ns() / 1e9);
            if (ctl_topo_build(&spec, n, (uint64_t)k + 1, &g, err, sizeof(err)) < 0) {
                fprintf(stderr, "build: %s\n", err);
                return 1;
            }
            b[k] = (bench_now_ns() / 1e9) - t0;
            edges = g.n_edges;
            struct ctl_topo_stats st;
            t0 = (bench_now_ns() / 1e9);
            ctl_topo_analyze(&g, 20000, 256, 1, threads, &st);
            a[k] = (bench_now_ns() / 1e9) - t0;
            exact = st.exact;
            ctl_topo_stats_free(&st);
            r[k] = 0;
            if (routed) {
                uint32_t *dests = malloc(n * sizeof(uint32_t));
                uint16_t *next = malloc((size_t)n * n * sizeof(uint16_t));
                for (uint32_t j = 0; j < n; j++)
                    dests[j] = j;
                t0 = (bench_now_ns() / 1e9);
                ctl_route_build(&g, dests, n, threads, next);
                r[k] = (bench_now_ns() / 1e9) - t0;
                free(dests);
                free(next);
            }
            ctl_graph_free(&g);
        }
        printf("%8u %10llu %12.3f %12.3f %12.3f %s\n", n, (unsigned long long)edges, bench_median(b, reps),
               bench_median(a, reps), routed ? bench_median(r, reps) : 0.0,
               exact ? (routed ? "exact analysis, all-pairs routes" : "exact analysis")
                     : "analysis sampled from 256 sources, routes not built");
    }
    return 0;
}
