/* SPDX-License-Identifier: MIT */
/*
 * compare: `swarmgen compare`, the same workload on each backend (dpdk,
 * uring, usrsctp) in one invocation: several repetitions, interleaved
 * (rep 1 dpdk, uring, usrsctp; rep 2 ...), the warm-up excluded, one table.
 *
 * Each repetition is a child `swarmgen run` with a two-phase scenario file
 * ("warmup", then "measure"); a run's figures come from its JSON report
 * (the measured phase's latency, the connect phase's rate, the connection
 * memory) and its CSV time series (the measured seconds' throughput and busy
 * cycles). Everything in this header but ctl_compare_main is pure: it turns
 * the texts of finished runs into samples and samples into rows, and prints
 * or writes them; tests feed it synthetic samples. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_COMPARE_H
#define SWARMGEN_CONTROL_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "run_opts.h"

/* The metrics of a row: id, JSON key, table header, decimals in the table
 * for values under 1,000. */
#define CTL_CMP_METRICS(X)                                                                         \
    X(MSGS_PER_S, "msgs_per_s", "msgs/s", 0)                                                       \
    X(PPS, "pps", "pkts/s", 0)                                                                     \
    X(MBPS, "mbps", "Mbit/s", 1)                                                                   \
    X(CYCLES_PER_MSG, "cycles_per_msg", "cycles/msg", 0)                                           \
    X(P50_US, "p50_us", "p50 us", 1)                                                               \
    X(P99_US, "p99_us", "p99 us", 1)                                                               \
    X(SETUP_PER_S, "setup_per_s", "setup/s", 0)                                                    \
    X(BYTES_PER_CONN, "bytes_per_conn", "bytes/conn", 0)

/* clang-format off */
enum ctl_cmp_metric {
#define ID(id, key, head, dec) CTL_CMP_##id,
    CTL_CMP_METRICS(ID)
#undef ID
    CTL_CMP_N
};
/* clang-format on */

/* JSON keys of the metrics, indexed by enum ctl_cmp_metric. */
extern const char *const ctl_cmp_metric_key[CTL_CMP_N];

#define CTL_CMP_BACKENDS 3 /* enum ri_backend values */
#define CTL_CMP_MAX_REPS 50
#define CTL_CMP_ERR      192

/* One run: a backend in one repetition. */
struct ctl_compare_sample {
    uint8_t backend;         /* enum ri_backend */
    uint32_t rep;            /* 1-based */
    bool ok;                 /* exited 0 and its report and CSV were read */
    int exit_code;           /* of the run: 0..255, 128 + signal when killed, -1 not started */
    double v[CTL_CMP_N];     /* NAN: not measured (e.g. no connections with --traffic udp) */
    char error[CTL_CMP_ERR]; /* why the run failed, "" when ok */
};

/* One backend over its repetitions. */
struct ctl_compare_row {
    uint8_t backend;
    uint32_t reps; /* runs made */
    uint32_t runs_failed;
    double v[CTL_CMP_N];     /* median over the successful runs (of those that measured it);
                                NAN when none did */
    double ratio[CTL_CMP_N]; /* v / the dpdk row's v; NAN when either is NAN or dpdk's is 0 */
    double spread_pct;       /* of msgs_per_s: (max - min) / median x 100 over the successful
                                runs; NAN when none succeeded */
    char error[CTL_CMP_ERR]; /* "rep N: cause" of the first failed run, "" when none failed */
};

/* What the table's header and the JSON's "machine" say. */
struct ctl_compare_machine {
    char cpu[128]; /* model name from /proc/cpuinfo */
    uint32_t cpus_online;
    char cores[256];  /* the lcores the runs are pinned to */
    char kernel[160]; /* uname: sysname release machine */
    double tsc_hz;    /* 0: unknown (cycles/msg not computed) */
};

/* The workload: the run flags (parsed, and as given). */
struct ctl_compare_workload {
    const struct ctl_run_opts *o;
    const char *run_flags; /* the flags passed to every run, joined by spaces */
    uint64_t warmup_ns, measure_ns;
    uint32_t reps;
    const uint8_t *backends;
    uint32_t n_backends;
};

/* "dpdk", "uring", "usrsctp" (or "?"). */
const char *ctl_compare_backend_name(uint8_t backend);

/* Parses a comma-separated list of distinct backend names into out[]
 * (at most CTL_CMP_BACKENDS). Returns the count (>= 1) or -EINVAL. Pure. */
int ctl_compare_backends_parse(const char *list, uint8_t out[CTL_CMP_BACKENDS]);

/* The median of the finite values of v[0..n) (v is reordered); NAN when
 * there is none. Pure. */
double ctl_compare_median(double *v, size_t n);

/* Reads a finished run into s->v: `report` is its JSON report, `csv` its
 * time series (both NUL-terminated texts), `measure` the index of the
 * measured phase in its profile and `measure_name` that phase's name in the
 * CSV; `tsc_hz` converts busy shares into cycles (0: cycles_per_msg NAN).
 * msgs_per_s, pps, mbps and cycles_per_msg are over the CSV seconds of the
 * measured phase (weighted by their length); p50/p99 are the report's
 * latency of that phase; setup_per_s is connections.setup_per_s and
 * bytes_per_conn memory.bytes_per_connection_state (NAN when absent).
 * Leaves backend, rep, ok, exit_code alone. Returns 0, or -EINVAL with the
 * reason in err (not JSON, no such phase, phase not reached, no CSV row
 * in it). Pure. */
int ctl_compare_sample_read(const char *report, const char *csv, uint32_t measure,
                            const char *measure_name, double tsc_hz, struct ctl_compare_sample *s,
                            char *err, size_t errlen);

/* Builds one row per backend of backends[0..n_backends) from the samples
 * s[0..n) (in any order): medians, spread, failures, then the ratios to the
 * dpdk row (all NAN when dpdk is not among them). Pure. */
void ctl_compare_rows(const struct ctl_compare_sample *s, size_t n, const uint8_t *backends,
                      uint32_t n_backends, struct ctl_compare_row *rows);

/* Prints the header (workload, machine) and the aligned table: per metric
 * the value and its ratio to dpdk ("74,900 (1.00x)"), the spread and
 * "ok/runs"; then one line per row with failed runs. */
void ctl_compare_print(FILE *f, const struct ctl_compare_machine *m,
                       const struct ctl_compare_workload *w, const struct ctl_compare_row *rows,
                       uint32_t n_rows);

/* Writes {"machine": {...}, "workload": {...}, "rows": [...]} to `path`;
 * each row has its runs' figures under "runs". Returns 0 or a negative
 * errno. */
int ctl_compare_json(const char *path, const struct ctl_compare_machine *m,
                     const struct ctl_compare_workload *w, const struct ctl_compare_row *rows,
                     uint32_t n_rows, const struct ctl_compare_sample *s, size_t n_samples);

/* `swarmgen compare` (argv[0] is "compare"): runs everything and prints the
 * table. Returns 0 when every run succeeded, 1 when some failed, 130 when
 * interrupted; exits 2 on bad flags. */
int ctl_compare_main(int argc, char **argv);

#endif
