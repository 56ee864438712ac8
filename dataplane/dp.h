/* SPDX-License-Identifier: MIT */
/*
 * dp: the dataplane process (swarmgen-dp) — shared context and worker state.
 *
 * One context per process, built during set-up from the run image and then
 * read-only for the workers, except each worker's own struct dp_worker and
 * its metrics block. Workers run dp_worker_loop() on their pinned lcores:
 * rx burst -> classify (one bulk flow lookup per burst) -> deliver or route
 * -> tx burst, plus paced generation. Cross-worker hand-off goes through
 * single-producer/single-consumer rings only. No locks, no allocation per
 * packet (mbufs come from a preallocated pool).
 *
 * Time: each pass reads the TSC once and uses that value for everything
 * in the pass.
 */
#ifndef SWARMGEN_DP_H
#define SWARMGEN_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "run_image.h"
#include "traffic.h"

struct dp_conns;
struct dp_external;
struct dp_relay;
struct dp_sides;
struct dtls_cert;
struct dp_uring;
struct sig_keypair;

#define DP_MAX_BURST 64
#define DP_MAX_PORTS (RI_MAX_WORKERS + 8) /* two sides: theirs and a loopback port per worker */
#define DP_MAX_RXQ 8
#define DP_HANDOFF_RING 16384
#define DP_MSG_RING 16384
#define DP_LOOP_RING 16384

struct dp_rxq {
    uint16_t port;
    uint16_t queue;
    int16_t side; /* two sides: the side whose port this is, -1 for the loopback port */
};

/* Per-worker state; cache aligned, written only by its worker. */
struct dp_worker {
    uint32_t idx;      /* worker index (metrics block, agent/edge owner) */
    uint32_t lcore_id;
    uint32_t n_rxq;
    struct dp_rxq rxq[DP_MAX_RXQ];
    uint16_t tx_port, tx_queue;
    struct dp_sides *sides; /* ctx->sides: flush_tx sends each frame on the port it was addressed to */

    struct traffic_gen traffic; /* the agents this worker generates for, their sequence numbers, pacing, generator */
    uint64_t snap_seen;

    struct ri_metrics *m;
    struct ri_agent_view av; /* this worker's per-agent figures (RI_SEC_AGENT_STATS) */

    /* network emulation (dp_netem.c) */
    struct rte_mbuf **wheel_head, **wheel_tail;
    uint64_t wheel_tick;
    uint64_t wheel_count;
    uint8_t netem_ge_bad[RI_NETEM_CLASSES];
    uint64_t run_tsc;  /* TSC of the first pass in phase RUN (0 before): netem outages count from it */
    uint64_t netem_next_free[RI_NETEM_CLASSES];

    /* --pcap (dp_pcap.c) */
    struct dp_pcap_rec *pcap_rec;
    uint8_t *pcap_data;
    uint32_t pcap_n, pcap_cap;
    uint64_t pcap_tsc; /* the pass's TSC, for captures made in flush_tx */

    /* --backend uring (dp_uring.c): kernel UDP sockets instead of ports */
    struct dp_uring *ur;

    /* peer connections (traffic dc, dp_conn.c) */
    struct dp_conns *conns;
    bool frames_are_msgs;  /* traffic udp: a lost frame is a lost message */
    uint16_t ip_id;        /* IPv4 identification of the next connection frame */
    uint32_t n_mout[RI_MAX_WORKERS];
    struct rte_mbuf *mout[RI_MAX_WORKERS][DP_MAX_BURST]; /* messages for other workers */

    uint32_t n_tx;
    struct rte_mbuf *tx[DP_MAX_BURST * 4];
    /* frames to hand to other workers, flushed each pass */
    uint32_t n_out[RI_MAX_WORKERS];
    struct rte_mbuf *out[RI_MAX_WORKERS][DP_MAX_BURST];
} __rte_cache_aligned;

struct dp_ctx {
    struct ri_view ri;        /* the run image; agents .. routes point into tables */
    void *tables;             /* the copy of those sections in 2 MiB pages, owned; NULL before setup */

    /* DPDK objects */
    struct rte_mempool *pool;
    struct rte_hash *flows; /* dp_flow_key -> (edge << 1 | receiving side) + 1 */
    uint16_t n_ports;
    uint16_t port[DP_MAX_PORTS];
    bool embedded;          /* one net_ring loopback port per worker */
    bool uring;             /* --backend uring: no ports, kernel UDP sockets (dp_uring.c) */
    uint16_t *uring_ports;  /* its sockets' ports: [2e] agent a's, [2e + 1] agent b's */
    struct rte_ring *loop_ring[RI_MAX_WORKERS]; /* their rings */
    uint16_t loop_port[RI_MAX_WORKERS];          /* and their port ids */
    struct rte_ring *handoff[RI_MAX_WORKERS][RI_MAX_WORKERS]; /* [from][to] frames */
    struct rte_ring *msg_ring[RI_MAX_WORKERS][RI_MAX_WORKERS]; /* [from][to] agent messages (traffic dc) */
    struct sig_keypair *sig_keys;  /* every agent's, with cfg.sign */
    struct dtls_cert *certs;       /* every agent's DTLS certificate (traffic dc), made at set-up */
    struct dp_external *external;  /* --external: the kernel-visible port and its sessions (worker 0) */
    struct dp_relay *relay;        /* --relay: the TURN clients and their port (worker 0, dp_relay.h) */
    struct dp_sides *sides;        /* two sides (cfg.sides): their ports and gateways (dp_sides.h) */

    uint32_t n_workers;
    struct dp_worker *worker[RI_MAX_WORKERS];
    int16_t worker_of_lcore[RTE_MAX_LCORE];

    uint64_t tsc_hz;
    double ns_per_cycle;
    struct agent_clock clock; /* what agent messages are stamped with (--clock) */

    bool netem_on;      /* some class is enabled */
    int netem_offset;   /* mbuf dynamic field */
    double netem_tick_ns;
};

/* Set to true by SIGINT/SIGTERM; workers return at their next pass. */
extern volatile bool dp_stop;

/* Builds every DPDK object from the mapped image (ctx->ri.hdr set) after EAL
 * init. On failure writes a one-line reason into `err` and returns a
 * negative errno; partially created objects are released by dp_teardown(). */
int dp_setup(struct dp_ctx *ctx, char *err, size_t errlen);

/* Bytes DPDK's heap has handed out, all sockets (rte_malloc statistics):
 * the difference around an allocation is what it took. Main thread. */
uint64_t dp_heap_allocated(void);

/* Stops ports and frees what dp_setup() created. Safe on partial set-up. */
void dp_teardown(struct dp_ctx *ctx);

/* lcore entry: the worker loop. `arg` is the struct dp_ctx. Returns 0. */
int dp_worker_loop(void *arg);

/* Sets the worker's gauges in its live counters (mbufs in use, SCTP
 * buffers in use): before each snapshot, and once after the stop. */
void dp_worker_gauges(const struct dp_ctx *ctx, struct dp_worker *wk);

#endif
