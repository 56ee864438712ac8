/* SPDX-License-Identifier: MIT */
/*
 * run_opts: the flags of `swarmgen run`, their defaults and validation.
 *
 * ctl_run_opts_parse() either fills the struct or prints one line naming the
 * bad flag and exits with code 2 (cli_fail). Not thread-safe (getopt-free,
 * but uses static defaults).
 */
#ifndef SWARMGEN_CONTROL_RUN_OPTS_H
#define SWARMGEN_CONTROL_RUN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "run_image.h"

#define CTL_MAX_PORTS 8
#define CTL_MAX_AGENTS_RUN 131070u /* one address each in 198.18.0.0/15 */

struct ctl_run_opts {
    uint32_t agents;
    char topology[128];
    uint64_t seed;
    uint64_t rate;           /* messages/s, all workers */
    uint64_t duration_ns;
    uint64_t drain_ns;       /* longest wait for in-flight messages */
    uint32_t msg_size;       /* UDP payload bytes */
    uint8_t pattern;         /* enum ri_pattern */
    uint32_t n_cores;
    uint32_t cores[RI_MAX_WORKERS];
    char cores_text[256];
    uint32_t n_ports;
    const char *ports[CTL_MAX_PORTS];
    const char *report_path;
    const char *dp_path;     /* NULL: next to the swarmgen binary */
    const char *eal_extra;   /* appended to the EAL arguments */
    uint64_t route_mem;      /* bytes allowed for the routing table */
    uint32_t mbufs_per_worker;
    uint32_t burst;
    int huge;                /* -1 auto, 0 --no-huge, 1 require hugepages */
    bool quiet;
    const char *profile;     /* preset name or scenario file */
    const char *sla_text;    /* --sla */
    bool abort_on_fail;
    const char *csv_path;
    const char *pcap_path;
    const char *prom_addr;   /* --prom ADDR:PORT */
    const char *html_path;
    uint32_t pcap_count;
    uint32_t n_netem;        /* classes used; [0] is the global class */
    struct ri_netem netem[RI_NETEM_CLASSES];
    uint32_t threads;        /* control-side threads for analysis/routing */
};

/* Parses argv (argv[0] is "run"). Exits 2 with one line on bad input;
 * prints usage and exits 0 on --help. */
void ctl_run_opts_parse(struct ctl_run_opts *o, int argc, char **argv);

/* Parses a core list "0,2-3" into o->cores; 0 or -EINVAL. Checks each core
 * is online and allowed for this process. */
int ctl_parse_cores(const char *s, struct ctl_run_opts *o);

#endif
