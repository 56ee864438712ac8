/* SPDX-License-Identifier: MIT */
/*
 * sweep: `swarmgen sweep`, a series of swarms, one row each: the agent
 * counts of --agents and/or the message rates of --rate (their cross
 * product), each point a child `swarmgen run` whose JSON report gives the
 * row. Everything here but ctl_sweep_main is pure: it turns a report's text
 * into a row and rows into the table, JSON, CSV and HTML; tests feed it
 * synthetic reports. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_SWEEP_H
#define SWARMGEN_CONTROL_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_SWEEP_MAX_VALUES 32 /* per list */
#define CTL_SWEEP_ERR        192

/* One point of the sweep. The doubles are NAN when the report has no such
 * figure (e.g. connections with --traffic udp). */
struct ctl_sweep_point {
    uint32_t agents;           /* asked for */
    uint64_t rate;             /* asked for (--rate); 0: the run's default */
    bool ok;                   /* exited 0 and its report was read */
    int exit_code;             /* of the run: 0..255, 128 + signal, -1 not started */
    char error[CTL_SWEEP_ERR]; /* why the point failed, "" when ok */
    char report[96];           /* its report's file name (in the sweep's directory) */
    /* from the report */
    char topology[64];      /* topology.spec, e.g. "kmesh:k=10 (auto)" */
    uint32_t k;             /* kmesh's k, 0 for other topologies */
    uint64_t edges;         /* topology.edges */
    uint64_t target_rate;   /* throughput.target_msgs_per_s */
    uint64_t conn_total;    /* connections.total */
    uint64_t conn_up;       /* connections.established */
    double setup_s;         /* connections.setup_s: the connect phase, until the last is up */
    double setup_per_s;     /* connections.setup_per_s */
    double bytes_per_agent; /* memory.bytes_per_agent */
    double bytes_per_conn;  /* memory.bytes_per_connection */
    double p50_us, p95_us, p99_us; /* latency_us */
    uint64_t sent, delivered;      /* messages */
    double delivery;               /* delivered / sent (NAN when nothing was sent) */
    double cycles_per_msg;         /* cpu.busy_cycles_per_msg: all cores' busy cycles / delivered */
    double msgs_per_s;             /* throughput.msgs_per_s */
};

/* Parses a comma-separated list of whole numbers in [min, max] (k, M, G
 * suffixes as elsewhere) into out[] (at most CTL_SWEEP_MAX_VALUES).
 * Returns the count (>= 1) or -EINVAL. Pure. */
int ctl_sweep_list_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Fills the report's figures of p from the JSON report text `report`
 * (leaves agents, rate, ok, exit_code, error, report alone). Returns 0, or
 * -EINVAL with the reason in err. Pure. */
int ctl_sweep_point_read(const char *report, struct ctl_sweep_point *p, char *err, size_t errlen);

/* The aligned table, one line per point (a failed point: its error). */
void ctl_sweep_print(FILE *f, const struct ctl_sweep_point *p, size_t n);

/* {"tool", "run_flags", "points": [...]} / a CSV with a header line / a
 * self-contained HTML page (the table and inline SVG charts: set-up rate,
 * latency percentiles and memory per agent against agents, or against
 * rate when only the rate varies). Return 0 or a negative errno. */
int ctl_sweep_json(const char *path, const char *run_flags, const struct ctl_sweep_point *p,
                   size_t n);
int ctl_sweep_csv(const char *path, const struct ctl_sweep_point *p, size_t n);
int ctl_sweep_html(const char *path, const char *run_flags, const struct ctl_sweep_point *p,
                   size_t n);

/* `swarmgen sweep` (argv[0] is "sweep"). Returns 0 when every point
 * succeeded, 1 when some failed, 130 when interrupted; exits 2 on bad
 * flags. */
int ctl_sweep_main(int argc, char **argv);

#endif
