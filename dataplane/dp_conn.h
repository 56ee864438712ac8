/* SPDX-License-Identifier: MIT */
/*
 * dp_conn: the peer connections of one worker (traffic dc). Every mesh edge
 * the worker owns is one WebRTC peer connection on one UDP 5-tuple with both
 * endpoints simulated here (struct pc each: ICE → DTLS → SCTP →
 * DataChannel): endpoint 0 is agent `a` of the edge (ICE controlling, DTLS
 * client, opens the channel), endpoint 1 is agent `b`.
 *
 * Set-up: connections wait in a queue and at most cfg.setup_cap of them are
 * in set-up at once (two handshake slots each from the worker's capped
 * pool); a failed attempt is counted by stage and retried up to
 * cfg.setup_attempts times, then the connection is given up and counted.
 * With cfg.consent the endpoints keep their set-up state once up and check
 * consent (RFC 7675); a connection that fails once up closes (what its
 * DataChannels held is counted as closed_in_flight) and, when both
 * endpoints are here, is queued for a new set-up with fresh attempts.
 *
 * Timers: one timing wheel per worker (1 ms ticks, DP_CONN_WHEEL_SLOTS slots,
 * later deadlines re-filed when their slot comes round) holds each
 * connection under the earlier deadline of its two endpoints (its links
 * in a compact array of their own). Connections touched in a pass go on a
 * dirty list with the endpoints that were touched; at the end of the pass
 * those endpoints' datagrams are framed and sent, their SCTP counters
 * folded into the metrics and their deadlines taken, and the connection is
 * re-filed when its wheel slot changed, so SCTP bundles what one pass
 * queued and an endpoint nothing happened to is not visited.
 *
 * Agent messages travel as DataChannel messages: the 32-byte agent header
 * (dp_msg.h) with the payload, and with cfg.sign a 64-byte Ed25519
 * signature of the source over the message with hops zeroed. A message for
 * an edge of another worker crosses over as an mbuf on ctx->msg_ring.
 *
 * Time: `now` is the worker's TSC of the pass; engines get it as ns
 * (dp_conn_ns). All functions run on the owning worker's lcore only.
 */
#ifndef SWARMGEN_DP_CONN_H
#define SWARMGEN_DP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"
#include "dp_conn_state.h"
#include "dp_mem.h"

/* The connection state of one worker. */
struct dp_conns {
    uint32_t n;                  /* connections owned */
    struct dp_conn *conn;        /* n, by local index (edge / n_workers) */
    uint8_t *sctp_mem;           /* 2n associations */
    size_t assoc_size;
    void *pool_mem;
    struct sctp_pool *pool;
    struct dtls_hs_pool hs;
    struct pc_setup *su;         /* set-up state lent to endpoints on their way up: 2 x setup_cap
                                    (cfg.consent: kept for life, 2 per connection) */
    uint32_t *su_free;           /* free indices into su */
    uint32_t su_n_free;
    struct cp cp;                /* this worker's crypto provider */
    uint32_t *queue;             /* connections waiting to start: a ring of n */
    uint32_t q_head, q_len;
    uint32_t in_setup;
    uint32_t *dirty;             /* n */
    uint32_t n_dirty;
    bool media_on;               /* the load has started: media runs on connections that are up */
    uint32_t wheel[DP_CONN_WHEEL_SLOTS]; /* list heads */
    struct dp_conn_wheel *wl;    /* n: each connection's links and deadline */
    uint64_t wheel_tick;         /* next tick to process */
    uint64_t tsc0;               /* TSC of ns 0 */
    uint8_t *msg;                /* a received message (SCTP max) */
    uint8_t *gen;                /* the generated message: header over a fixed payload */
    uint8_t *gen_tmp;            /* a message handed over by another worker */
    struct dp_fwd *fwd;          /* DP_FWD_N received messages to forward after their burst */
    uint32_t n_fwd;
    bool in_burst;               /* between dp_conns_burst_begin and _end: messages wait in fwd */
    uint32_t gone_seen;          /* command.shards_gone_seq last acted on (--shard) */
    char *keylog;                /* keylog_cap lines of DP_KEYLOG_LINE */
    uint32_t keylog_n, keylog_cap;
    struct rte_mbuf *spare;      /* an mbuf kept for the next datagram */
    struct dp_media *media;      /* n, with --media (dp_media.c owns it) */
    struct sctp_counters sctp_c; /* every association of the worker counts here */
    struct pc_counters pc_c;     /* every endpoint of the worker counts here */
    uint8_t *keys;               /* n key areas of key_stride bytes: connection i's two ends share the i-th */
    size_t key_stride;
    struct dp_conn_seen sctp_seen; /* of which folded into the metrics */
    uint64_t bytes;              /* allocated for connection state (connections, associations, wheel links, queues, media) */
    uint64_t pool_bytes;         /* allocated for the SCTP buffer pool */
    uint64_t setup_bytes;        /* allocated for the endpoints' set-up state and its free list */
    uint64_t buf_bytes;          /* the worker's buffers: messages, wheel heads, key log */
    struct dp_conn_region {
        void *p;
        size_t len;
    } big[8];                    /* the dp_mem_big_alloc arrays above, touched by dp_conns_prefault */
    uint32_t n_big;
    /* --churn */
    uint64_t churn_interval_ns;  /* between two closes on this worker (0: no churn) */
    uint64_t churn_next;         /* ns of the next close */
    uint64_t churn_rng;          /* draws which connection (from the run seed) */
    struct dp_churn_held *held;  /* messages waiting for their connection, in arrival order */
    uint32_t n_held, held_cap;
    uint8_t *held_buf;           /* held_cap x held_slot bytes */
    uint32_t held_slot;
};

#define DP_KEYLOG_LINE DP_MEM_KEYLOG_LINE /* the plan's (dp_mem.h) */

/* ns for the engines from a TSC value of this worker. */
uint64_t dp_conn_ns(const struct dp_ctx *ctx, const struct dp_conns *cs, uint64_t tsc);

/* One self-signed ECDSA P-256 certificate per agent in ctx->certs, made
 * with fresh keys from the crypto provider (never from the run seed), as a
 * browser makes one per peer connection; the count, bytes and time taken
 * go to the command block. Set-up only (main thread). Returns 0, -ENOMEM
 * or -EIO, with the reason in err. */
int dp_conn_certs_init(struct dp_ctx *ctx, char *err, size_t errlen);

/* Frees ctx->certs (wiping the keys); nothing may use them any more. */
void dp_conn_certs_free(struct dp_ctx *ctx);

/* Allocates and lays out the worker's connections (queued, none started).
 * 0 or -ENOMEM/-EIO with the reason in err. Set-up thread. */
int dp_conns_init(const struct dp_ctx *ctx, struct dp_worker *wk, char *err, size_t errlen);

/* Touches every page of the worker's large arrays (connection state,
 * associations, keys, SCTP pool, set-up state) once, from the worker's
 * own thread before its first pass: the pages land on its NUMA node, the
 * run's resident memory is its plan from the start, and no message takes
 * a page fault when a spike reaches buffers never used before. */
void dp_conns_prefault(struct dp_worker *wk);

/* SCTP pool buffers of the worker's connections in use now (0 without
 * connections). */
uint32_t dp_conns_sctp_bufs_in_use(const struct dp_ctx *ctx, const struct dp_worker *wk);

/* Frees everything dp_conns_init made (endpoints still open included). */
void dp_conns_free(struct dp_worker *wk);

/* Starts queued connections up to the cap, runs due timers, flushes the
 * dirty connections. Returns true when it did something. */
bool dp_conns_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* One received frame of a connection's flow (val = edge << 1 | side, as
 * the flow table holds it; UDP payload at `dgram`). Does not free m. */
void dp_conns_input(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t val, const uint8_t *dgram,
                    uint32_t len, uint64_t tsc);

/* A burst of datagrams of this worker's connections (vals: their flow
 * table values) is about to go to dp_conns_input. Asks the CPU to bring in
 * what that will read, stage by stage for the whole burst: the endpoints,
 * then through them their record keys and SCTP associations; and holds
 * the agent messages the burst brings until dp_conns_burst_end. At a
 * million connections each of these reads is a miss; so the burst waits
 * a few memory latencies, not some per datagram. */
void dp_conns_burst_begin(const struct dp_ctx *ctx, struct dp_worker *wk, const uint64_t *vals, uint32_t n);

/* Ends the burst: what its messages read (the next-hop entry, the edge
 * of that slot, the edge, the next connection, its keys and association)
 * is prefetched stage by stage for all of them, then each is received and
 * forwarded or delivered as at once. */
void dp_conns_burst_end(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* Generates n agent messages from the first n_active local agents, round
 * robin (phase RUN, paced by the caller). */
void dp_conns_generate(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc, uint32_t n, uint32_t n_active);

/* Pushes the messages queued for other workers onto ctx->msg_ring. */
void dp_conns_flush_handoff(const struct dp_ctx *ctx, struct dp_worker *wk);

/* A message handed over by another worker (an mbuf from ctx->msg_ring). */
void dp_conns_handoff_in(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint64_t tsc);

/* n of them, what their sends read prefetched stage by stage for the
 * burst first (see dp_conns_burst_begin). */
void dp_conns_handoff_burst(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **ms, uint32_t n,
                            uint64_t tsc);

/* Sends agent message `msg` (len bytes, a dp_msg.h header first whose src
 * and dst are set; the rest of the header is filled here: magic, version,
 * hops 0, length, send TSC, the signature with cfg.sign over the last 64
 * bytes) from its source into the mesh: the routing table's first hop
 * (routed), else dst must be a neighbour. Counted as sent (msgs_sent);
 * its delivery like any other message. For messages from outside the
 * swarm (dp_external.h, --external route). Returns 0, -EINVAL (bad size
 * or agent ids) or -ENOENT (no route to dst); nothing is counted then. */
int dp_conns_send_agent_msg(const struct dp_ctx *ctx, struct dp_worker *wk, uint8_t *msg, uint32_t len, uint64_t tsc);

/* --relay (dp_relay.h): edge e's two agents have their relayed addresses
 * and permissions; its connection is queued for set-up (with the relay
 * on, connections wait for this instead of being queued at init).
 * Worker 0. */
void dp_conns_relay_ready(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t e);

/* --relay: an agent of edge e has no allocation (its TURN client failed):
 * the connection, not started yet, is given up in stage turn. Worker 0. */
void dp_conns_relay_failed(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t e);

/* The census when the workers stop: the agent messages wk's connections
 * hold (conn_in_flight of each one up: SCTP send queues not yet received
 * by the other end, reassembly, ordered delivery, polled-for messages)
 * and those waiting to be handed to other workers or forwarded; the SCTP
 * counters folded first. Worker wk, stopped (nothing runs its engines). */
uint64_t dp_conns_census(const struct dp_ctx *ctx, struct dp_worker *wk);

/* Writes the key log of every worker (main thread, workers stopped). */
int dp_keylog_write(const struct dp_ctx *ctx, char *err, size_t errlen);

#endif
