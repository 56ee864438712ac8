/* SPDX-License-Identifier: MIT */
/*
 * A dataplane in a test process: EAL without hugepages or ports, a ring of
 * agents in a run image, the real flow table and the real rx path
 * (dp_process_rx). Frames are built here and handed in directly.
 *
 * Two shapes:
 *   dp_harness_init     traffic udp, an 8-agent ring on 2 workers; the test
 *                       plays worker 0 and inspects what it relays.
 *   dp_harness_init_dc  traffic dc, a ring on ONE worker: every edge is a
 *                       WebRTC peer connection with both endpoints here.
 *                       The harness "runs the wire": the frames the worker
 *                       queued for transmission (wk->tx, as dp_to_owner
 *                       leaves them without a port) come back in as
 *                       received frames one pass later.
 *
 * Time: a fake TSC at 1 GHz (ctx->tsc_hz 1e9, one cycle per ns), h->tsc.
 * A wire pass advances it by h->wire_ns; when nothing is in flight the
 * clock jumps to the earliest connection deadline. Nothing reads the real
 * clock after dp_conns_init. Single-threaded, one harness per process
 * (the flow table has a fixed name).
 */
#ifndef SWARMGEN_TESTS_DP_HARNESS_H
#define SWARMGEN_TESTS_DP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_conn.h"
#include "dp_internal.h"
#include "dp_msg.h"

#define H_AGENTS 8u    /* agents of the udp harness ring */
#define H_DC_AGENTS 8u /* default agents of the dc harness ring */

struct dp_harness;

/* Sees every frame taken off the wire before it is received. Returns true
 * when it took the frame (and freed or kept it), false to let it through. */
typedef bool (*dp_harness_tap)(struct dp_harness *h, struct rte_mbuf *m, void *arg);

struct dp_harness {
    struct dp_ctx ctx;
    struct dp_worker *wk; /* udp: worker 0 of 2; dc: the only worker */
    void *image;
    uint32_t pool_size;   /* mbufs in ctx.pool (cache 0: avail counts are exact) */
    /* dc only */
    uint64_t tsc;         /* the fake TSC (ns) */
    uint64_t wire_ns;     /* one pass of the wire (default 50 us) */
    uint64_t frames_carried;
    dp_harness_tap tap;   /* NULL: every frame arrives */
    void *tap_arg;
};

struct dp_harness_dc_opts {
    uint32_t n_agents;  /* a ring of n agents, n edges (3..64; 0: H_DC_AGENTS) */
    uint8_t pattern;    /* enum ri_pattern */
    uint32_t msg_size;  /* agent message bytes (0: 64) */
    uint32_t pool_size; /* mbufs (0: 2048) */
    uint64_t seed;      /* 0: 1 */
    uint8_t media;      /* enum ri_media: RTP/RTCP over SRTP on every connection once up (0: none) */
    uint32_t target_slots; /* slots of the image's TARGET section (target mode; 0: none) */
    uint8_t dtls_versions; /* the image's --dtls bits (RI_DTLS_*; 0: auto) */
    uint32_t dtls_key_update; /* the image's --dtls-key-update (0: none) */
};

/* Initialises EAL once per process and builds the udp harness. 0 or -errno. */
int dp_harness_init(struct dp_harness *h);

/* Builds the dc harness (opts NULL: the defaults): image with traffic dc on
 * one worker, setup_cap 4, setup_attempts 2, sctp_bufs 4096; the flow
 * table; the worker with every agent local; its connections (dp_conns_init:
 * 8 certificates, a few ms). No connection is started yet. 0 or -errno. */
int dp_harness_init_dc(struct dp_harness *h, const struct dp_harness_dc_opts *opts);

/* Frees what dp_harness_init_dc built (frames in flight included). */
void dp_harness_fini_dc(struct dp_harness *h);

/* A well-formed frame from agent `from` to neighbour `to` carrying an agent
 * message src -> dst with `hops`. NULL when from/to are not neighbours. */
struct rte_mbuf *dp_harness_frame(struct dp_harness *h, uint32_t from, uint32_t to, uint32_t src,
                                  uint32_t dst, uint8_t hops);

/* A well-formed frame on edge e's 5-tuple, from its agent a (from_b false)
 * or b, with `len` bytes of UDP payload. NULL when out of mbufs or e is
 * not an edge. */
struct rte_mbuf *dp_harness_flow_frame(struct dp_harness *h, uint32_t e, bool from_b, const uint8_t *payload,
                                       uint16_t len);

/* A frame holding exactly `len` raw bytes (cut to the mbuf's room). */
struct rte_mbuf *dp_harness_raw(struct dp_harness *h, const uint8_t *bytes, uint16_t len);

/* Frees every frame the rx path queued for transmission; returns how many. */
uint32_t dp_harness_flush(struct dp_harness *h);

/* dc: receives one frame now (dp_process_rx at h->tsc). Takes m. */
void dp_harness_rx(struct dp_harness *h, struct rte_mbuf *m);

/* dc: one pass of the wire: the clock advances by wire_ns, every frame
 * queued for transmission is received (through the tap), then
 * dp_conns_poll. Returns the frames carried. */
uint32_t dp_harness_wire_pass(struct dp_harness *h);

/* dc: the earliest deadline of any connection as a TSC, UINT64_MAX none. */
uint64_t dp_harness_next_deadline(const struct dp_harness *h);

/* dc: runs the wire (passes while frames are in flight, jumps to the next
 * deadline otherwise) until done(h) or `max_ns` of virtual time passed.
 * Returns 0, -ETIMEDOUT, or -EDEADLK when nothing is left to happen. */
int dp_harness_run_until(struct dp_harness *h, bool (*done)(const struct dp_harness *h), uint64_t max_ns);

/* dc: runs the wire until every connection is up (conn_established ==
 * edges); 0 or as dp_harness_run_until. */
int dp_harness_connect_all(struct dp_harness *h, uint64_t max_ns);

/* dc: runs the wire for `ns` of virtual time (deadlines in between fire). */
void dp_harness_run_for(struct dp_harness *h, uint64_t ns);

/* dc: mbufs out of the pool, and how many of them the dataplane holds
 * legitimately (frames queued for tx or hand-off, the spare buffer of the
 * connections). Equal unless a buffer leaked. */
uint32_t dp_harness_mbufs_out(const struct dp_harness *h);
uint32_t dp_harness_mbufs_held(const struct dp_harness *h);

#endif
