/* SPDX-License-Identifier: MIT */
/*
 * report: what `swarmgen run` prints and writes — the live progress line,
 * the end-of-run summary table (report.c) and the JSON report
 * (report_json.c); report_conn and report_html add the peer-connection
 * part and the HTML report. `swarmgen report --merge` (report_merge.h)
 * fills a ctl_run_result from shard reports and reuses these writers.
 *
 * All figures come from metrics snapshots (control/metrics/met_stats.h):
 * rates are deltas over the snapshot interval, percentiles come from the
 * merged histograms. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_REPORT_H
#define SWARMGEN_CONTROL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "judge.h"
#include "mem_plan.h"
#include "met_stats.h"
#include "profile.h"
#include "sla.h"
#include "timeseries.h"
#include "run_opts.h"
#include "topo_analysis.h"

struct ctl_external;
struct ctl_target_view;
struct ctl_agents;

struct ctl_run_result {
    const struct ctl_run_opts *opts;
    char topology[64];               /* canonical spec */
    const struct ctl_topo_stats *topo;
    uint32_t n_dests;                /* routing columns; == agents for all pairs */
    uint32_t n_dests_max;            /* the columns --route-mem allows (n_dests < it: routed:M sampled) */
    uint64_t routes_bytes;           /* the next-hop tables: agents x n_dests x 2 */
    double duration_s;               /* generation phase, measured */
    double drain_s;
    const struct ctl_snap *final;
    const struct ctl_snap *gen_start;  /* when generation began (NULL: it never did);
                                          throughput counts from here */
    uint64_t tsc_hz;
    uint64_t image_bytes;            /* shared run image */
    uint64_t dpdk_bytes;             /* DPDK heap allocated by the dataplane */
    bool hugepages;
    char port_desc[256];
    uint64_t side_gw_mac[2];         /* two sides: each gateway's MAC as the dataplane last resolved it */
    const uint64_t *shards_gone;     /* --shard: bit s, shard s went away during the run (NULL: none) */
    uint32_t lcore[RI_MAX_WORKERS];
    bool interrupted;                /* Ctrl-C or SIGTERM */
    bool aborted;                    /* --abort-on-fail stopped it */
    const struct ctl_profile *profile;
    const struct ctl_sla *sla;
    const struct ctl_judgement *judge;
    const struct ctl_phase_stats *phase; /* profile->n entries */
    const struct ctl_ts *ts;
    double build_s, analysis_s, routing_s, dp_setup_s;
    /* peer connections (--traffic dc) */
    double connect_s;                /* connect phase, measured */
    double connect_per_s;            /* connections up at its end / connect_s */
    bool connect_timed_out;          /* --setup-timeout ended it */
    uint64_t mem_conn_bytes;         /* peer-connection state in the dataplane */
    uint64_t mem_sctp_pool_bytes;    /* the SCTP buffer pools (0: counted in mem_conn_bytes) */
    uint64_t mem_dp_buf_bytes;       /* per-worker buffers of the dataplane */
    uint64_t mem_mbuf_bytes;         /* of dpdk_bytes: the mbuf pool */
    uint64_t mem_hs_bytes;           /* handshake slots */
    uint64_t mem_cert_bytes;         /* the agents' DTLS certificates */
    uint64_t mem_tables_bytes;       /* the dataplane's copy of the topology and next-hop tables */
    uint64_t mem_target_bytes;       /* --target sessions (ri_target.mem_bytes) */
    uint64_t mem_relay_bytes;        /* --relay TURN clients (ri_relay.mem_bytes) */
    uint64_t n_certs, cert_gen_ns;   /* how many were made at set-up, and in how long */
    const struct ctl_external *external; /* --external (control/signal/external.h), NULL without */
    const struct ctl_target_view *target; /* --target (report_target.h), NULL without */
    const struct ri_relay *relay;    /* --relay: the image's RELAY section (report_relay.h), NULL without */
    const struct ctl_mem_plan *plan; /* the memory planned before the start (NULL: none) */
    uint32_t merged_shards;          /* report --merge: the shards summed here; 0 for a run */
    const struct ctl_agents *agents; /* per-agent view (report_agents.h), NULL: none */
};

/* The progress line of one time-series row (an interval of the run). */
void ctl_report_progress(FILE *f, const struct ctl_ts_row *row);

/* Derived end-of-run figures. */
struct ctl_run_figures {
    uint64_t sent, delivered, forwarded;
    uint64_t lost;                   /* given up by a counted cause: the message drops (msgs_dropped),
                                        and lost_in_dut */
    uint64_t lost_in_dut;            /* two sides, traffic udp: agent frames sent on a side's port that
                                        never came in on the other (the DUT dropped them) */
    uint64_t dropped;                /* the same sum (the report's dropped_in_flight) */
    bool in_flight_known;            /* every worker took the census (not the usrsctp backend) */
    uint64_t in_flight;              /* held when the workers stopped (the census), when known */
    int64_t unaccounted;             /* sent - delivered - lost - in_flight: 0 unless a message
                                        vanished uncounted (or was counted twice: < 0) */
    double delivery_rate;            /* delivered / sent, 1 when nothing was sent */
    double msgs_per_s, pps, mbps;
    uint64_t frames_tx, bytes_tx;    /* L2 frames and bytes sent since generation began */
    double avg_hops;
    uint64_t p50_ns, p95_ns, p99_ns, p999_ns, max_ns;
    uint64_t bytes_total;            /* every category measured (report_mem.h) */
    double bytes_per_agent;          /* bytes_total / agents */
    double bytes_per_connection;     /* connection state / connections up (both ends); 0 without */
};

void ctl_run_figures(const struct ctl_run_result *r, struct ctl_run_figures *fig);

/* A latency percentile of a phase in microseconds; 0 when the phase has
 * no histogram. */
double ctl_phase_latency_us(const struct ctl_phase_stats *ps, double p);

/* A core's busy share in percent (busy cycles of all cycles; 0 before any). */
double ctl_busy_pct(const struct ri_counters *c);

/* The summary table. */
void ctl_report_summary(FILE *f, const struct ctl_run_result *r);

/* Lines of the summary table that `swarmgen report --merge` prints too:
 * messages, throughput and latency; one line per SLA rule (overall, and the
 * phases that breached it) and the verdict (nothing without rules); the
 * drops by reason. */
void ctl_report_load_summary(FILE *f, const struct ctl_run_figures *g);
void ctl_report_sla_summary(FILE *f, const struct ctl_run_result *r);
void ctl_report_drops_summary(FILE *f, const struct ctl_run_result *r);

/* Writes the JSON report to `path`. Returns 0 or a negative errno. */
int ctl_report_json(const char *path, const struct ctl_run_result *r);

struct json_writer;
/* Writes the "sla" member of the JSON report (nothing without rules): the
 * overall verdict of every rule and, with a profile, its verdict per phase. */
void ctl_report_sla_json(struct json_writer *w, const struct ctl_run_result *r);

#endif
