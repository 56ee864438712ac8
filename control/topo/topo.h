/* SPDX-License-Identifier: MIT */
/*
 * topo: mesh topology builders.
 *
 * A topology spec names a builder and its parameters ("kmesh:k=20"); a
 * builder turns (spec, agent count, seed) into an undirected simple graph in
 * CSR form, deterministically: the same inputs give the same graph on every
 * machine (own PRNG, no libc rand). Not thread-safe per graph; builders may
 * run concurrently on different graphs.
 */
#ifndef SWARMGEN_CONTROL_TOPO_H
#define SWARMGEN_CONTROL_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_topo_kind {
    CTL_TOPO_FULL,
    CTL_TOPO_KMESH,
    CTL_TOPO_HUB,
    CTL_TOPO_RING,
    CTL_TOPO_SMALLWORLD,
    CTL_TOPO_SCALEFREE,
};

struct ctl_topo_spec {
    enum ctl_topo_kind kind;
    uint32_t k;    /* kmesh, smallworld */
    uint32_t hubs; /* hub */
    uint32_t m;    /* scalefree */
    double p;      /* smallworld rewiring probability */
    bool k_auto;   /* kmesh:k=auto: k is ctl_topo_suggest_k(n), set once n is known
                      (ctl_topo_spec_resolve); 0 until then */
};

/* Parses "full", "ring", "kmesh:k=K", "kmesh:k=auto", "hub:hubs=H", "smallworld:k=K,p=P",
 * "scalefree:m=M". Returns 0 or -EINVAL with the reason in err. */
int ctl_topo_spec_parse(const char *s, struct ctl_topo_spec *out, char *err, size_t errlen);

/* Canonical text of a spec, e.g. "smallworld:k=10,p=0.1"; kmesh:k=auto
 * reads "kmesh:k=auto" before it is resolved and "kmesh:k=10 (auto)" after. */
void ctl_topo_spec_format(const struct ctl_topo_spec *spec, char *buf, size_t len);

/* Fixes what depends on the agent count n: kmesh:k=auto takes
 * k = ctl_topo_suggest_k(n). Other specs are left as they are. */
void ctl_topo_spec_resolve(struct ctl_topo_spec *spec, uint32_t n);

struct ctl_graph {
    uint32_t n;          /* agents */
    uint64_t n_edges;    /* undirected edges */
    uint32_t *off;       /* n+1 CSR offsets into adj */
    uint32_t *adj;       /* 2*n_edges neighbour ids, ascending per agent */
    uint32_t *edge;      /* 2*n_edges: id of the undirected edge of each adjacency slot */
    uint32_t (*ends)[2]; /* n_edges endpoints, ends[e][0] < ends[e][1], ascending (u,v) order */
};

/* Largest full mesh built (edges grow as n^2). */
#define CTL_TOPO_FULL_MAX 8192u

/* Builds the graph for n agents (2 <= n); an unresolved kmesh:k=auto is
 * resolved for n on a copy. Returns 0, -EINVAL (the spec is
 * impossible for n: the reason in err) or -ENOMEM. */
int ctl_topo_build(const struct ctl_topo_spec *spec, uint32_t n, uint64_t seed,
                   struct ctl_graph *g, char *err, size_t errlen);

/* Builds CSR from an edge list (pairs in any order, u != v, may repeat:
 * duplicates are merged). Takes ownership of nothing. 0 or -ENOMEM. */
int ctl_graph_from_pairs(uint32_t n, uint32_t (*pairs)[2], uint64_t m, struct ctl_graph *g);

void ctl_graph_free(struct ctl_graph *g);

/* Degree of agent v. */
static inline uint32_t ctl_graph_degree(const struct ctl_graph *g, uint32_t v)
{
    return g->off[v + 1] - g->off[v];
}

/* The suggested k for a k-neighbour mesh of n agents: ceil(2 ln n), at
 * least 2 and below n. */
uint32_t ctl_topo_suggest_k(uint32_t n);

/* A topology flag's value (`flag` as the user writes it, "--topology")
 * parsed into *out, or one line "swarmgen: FLAG: 'S': reason" on stderr
 * and exit 2 (control/cli/cli.h). For the flag tables of `swarmgen run`
 * and `swarmgen topo`. */
void ctl_topo_flag(const char *flag, const char *s, struct ctl_topo_spec *out);

/* `swarmgen topo`: argv[0] is "topo". Returns the exit code (0, or 2 for
 * bad input after printing one line). */
int ctl_topo_main(int argc, char **argv);

#endif
