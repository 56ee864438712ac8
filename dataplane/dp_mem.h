/* SPDX-License-Identifier: MIT */
/*
 * dp_mem: the memory plan of a run, by category, from the run's sizes
 * alone: what the dataplane allocates at set-up (its own heap and DPDK's)
 * and what the control process puts in the run image. No DPDK here, so
 * that `swarmgen run --dry-run` (control) predicts a run before starting
 * it, and the dataplane sizes its allocations from the same function
 * (dp_conns_init: dp_mem_worker), so plan and allocation cannot drift.
 *
 * Sizes come from the engines themselves: sizeof(struct dp_conn) and
 * struct dp_conn_wheel (dp_conn_state.h), sctp_assoc_size(),
 * sctp_pool_size(), dtls_endpoint_size(), sizeof(struct dtls_cert). The
 * DPDK parts (the mbuf pool, the flow table, the rings) follow DPDK
 * 22.11's layout of those objects (dp_mem.c says how) and are the one
 * estimate here. Pure functions, no time, thread-safe.
 */
#ifndef SWARMGEN_DP_MEM_H
#define SWARMGEN_DP_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Streams of every SCTP association of the dataplane's connections (one
 * DataChannel each: 4 leave room for the peer's and a reset). */
#define DP_MEM_SCTP_STREAMS 4u
/* Payload bytes of one SCTP pool buffer: any DATA chunk of a 1,228-byte packet. */
#define DP_MEM_SCTP_BUF_CAP 1200u
/* Bytes of one key-log line the dataplane keeps. */
#define DP_MEM_KEYLOG_LINE 1024u /* one attempt's key log: DTLS_KEYLOG_MAX (1.2: a line, 1.3: five) */
/* Arrays of at least this many bytes start 2 MiB-aligned and are marked
 * for transparent huge pages, so that a message touching a few
 * connections among a million misses the TLB once per 2 MiB, not per
 * 4 KiB (their size is not rounded up: the tail past the last whole
 * 2 MiB stays in small pages). */
#define DP_MEM_BIG_PAGE (2u << 20)

/*
 * The categories: one list makes the enum, the JSON keys and the summary
 * labels. X(NAME, json_key, label)
 *   CONN       connection state: both endpoints' struct pc (ICE, DTLS
 *              record layer, SRTP), their SCTP associations, the wheel
 *              links, the set-up queue and dirty list, media state
 *   SCTP_POOL  the SCTP buffer pools, one per worker (--sctp-bufs)
 *   HS         what only the way up holds: DTLS handshake slots
 *              (2 x --setup-cap + 2 per worker) and the endpoints' set-up
 *              state (struct pc_setup, 2 x --setup-cap per worker)
 *   CERT       the agents' certificates, one each
 *   WORKER     per-worker buffers: three 256 KiB message buffers, the
 *              timing-wheel heads, the key log (--keylog)
 *   ROUTES     the next-hop tables control builds (run image, ROUTES)
 *   IMAGE      the rest of the run image (agents, adjacency, edges, metrics)
 *   TABLES     the dataplane's copy of the topology and next-hop sections
 *              of the run image (agents .. routes) in 2 MiB pages
 *   MBUF       DPDK's mbuf pool (--mbufs per worker)
 *   DPDK       the rest of DPDK's heap: the flow table, the rings, the
 *              per-worker tables
 *   TARGET     --target sessions (dp_target.c): the session array, an SCTP
 *              association each, their SCTP pool, the agent table, two
 *              message buffers, the handshake slots (dp_mem_target)
 *   RELAY      --relay: a TURN client per agent and the per-edge tables of
 *              dp_relay.c (dp_mem_relay)
 */
#define DP_MEM_CATEGORIES(X)                                  \
    X(CONN, "connection_state", "connection state")          \
    X(SCTP_POOL, "sctp_pool", "SCTP pools")                   \
    X(HS, "handshake_slots", "handshake slots")              \
    X(CERT, "certificates", "certificates")                  \
    X(WORKER, "worker_buffers", "worker buffers")            \
    X(ROUTES, "routes", "routes")                             \
    X(IMAGE, "run_image", "run image")                        \
    X(TABLES, "table_copy", "table copy")                     \
    X(MBUF, "mbufs", "mbufs")                                 \
    X(DPDK, "dpdk_other", "DPDK other")                      \
    X(TARGET, "target_sessions", "target sessions")          \
    X(RELAY, "relay_clients", "relay clients")

enum dp_mem_cat {
#define DP_MEM_ENUM(name, key, label) DP_MEM_##name,
    DP_MEM_CATEGORIES(DP_MEM_ENUM)
#undef DP_MEM_ENUM
    DP_MEM_COUNT
};

/* The sizes a run is planned from (all of them known before the dataplane
 * starts: the run config and the run image's layout). */
struct dp_mem_in {
    uint32_t n_agents;
    uint32_t n_workers;        /* 1..RI_MAX_WORKERS */
    uint64_t n_edges;          /* peer connections of the whole run */
    uint32_t n_dests;          /* routing columns */
    bool dc;                   /* --traffic dc: peer connections */
    bool media;                /* --media audio|video */
    uint32_t setup_cap;        /* per worker */
    uint32_t sctp_bufs;        /* per worker */
    uint32_t keylog_max;       /* key-log lines, 0 without --keylog */
    uint32_t mbufs_per_worker;
    uint64_t image_bytes;      /* the whole run image (ctl_image_layout), routes included */
    uint64_t tables_bytes;     /* its topology and next-hop sections (ri_tables_span), copied by the dataplane */
    uint32_t target_slots;     /* --target sessions (0: none) */
    uint32_t target_feeds;     /* janus-videoroom: feeds a subscriber session receives (ri_target.feeds), else 0 */
    bool relay;                /* --relay: a TURN client per agent */
    bool relay_tcp;            /* transport=tcp: a TCP connection per agent too */
    bool consent;              /* --consent: every endpoint keeps its set-up state (the ICE agent) */
    bool dtls_keep;            /* --dtls-key-update: every endpoint keeps its DTLS 1.3 handshake slot */
    bool target_dtls_keep;     /* --target with 1.3 in --external-dtls: every session keeps its slot */
};

/* Sizes of dataplane structs private to their files, for the plan;
 * dp_target.c and dp_relay.c assert them at compile time, so a change
 * there that forgets these fails the build instead of the plan. */
#define DP_MEM_TGT_SESSION_BYTES 10432u /* sizeof(struct tgt_session) */
#define DP_MEM_TGT_STATE_BYTES 736u    /* sizeof(struct dp_target) */
#define DP_MEM_RELAY_AGENT_BYTES 88u   /* sizeof(struct relay_agent) */
#define DP_MEM_RELAY_STATE_BYTES 6408u /* sizeof(struct dp_relay) */
#define DP_MEM_RELAY_TGT_BYTES 354u    /* sizeof(struct relay_tgt): a target agent's server candidates */
#define DP_MEM_RELAY_TGT_PEERS 16u     /* RELAY_TGT_PEERS: peers a target agent's client has room for */
#define DP_MEM_RELAY_STREAM_BUF 2048u  /* transport=tcp: the stream buffer per agent */
/* Target mode's SCTP: streams per association, pool buffers per session
 * and the pool's bounds (dp_target.c sizes from these). */
#define DP_MEM_TGT_STREAMS 16u
#define DP_MEM_TGT_BUFS_PER_SESSION 32u
#define DP_MEM_TGT_BUFS_MIN 4096u
#define DP_MEM_TGT_BUFS_MAX 262144u
#define DP_MEM_TGT_HS 64u              /* concurrent DTLS handshakes at most */
#define DP_MEM_TGT_DGRAM 2048u         /* with --relay: the datagram the sessions write for the relay */

/* What dp_target_init allocates for `n_slots` sessions among `n_agents`
 * agents, each with SRTP contexts for `feeds` received streams
 * (ri_target.feeds, capped at RI_TARGET_FEEDS), through the relay or not, in bytes (its
 * ri_target.mem_bytes). Pure. */
uint64_t dp_mem_target(uint32_t n_slots, uint32_t n_agents, uint32_t feeds, bool relay);

/* The handshake slots of target mode's pool for `n_slots` sessions:
 * DP_MEM_TGT_HS at most, or with `dtls_keep` (DTLS 1.3 negotiable: every
 * session keeps its endpoint for KeyUpdates) one per session. Pure. */
uint32_t dp_mem_target_hs(uint32_t n_slots, bool dtls_keep);

/* What dp_relay_init allocates for `n_agents` TURN clients over `n_edges`
 * edges (over TCP with `tcp`; the first `target_slots` agents with room
 * for their target sessions' server candidates): exact but for each
 * client's 64-byte rounding, counted as its average (32 bytes); the
 * dataplane counts it exactly. Pure. */
uint64_t dp_mem_relay(uint32_t n_agents, uint64_t n_edges, bool tcp, uint32_t target_slots);

/* What dp_conns_init allocates for one worker, in bytes (and the counts
 * it allocates them from). */
struct dp_mem_worker {
    uint32_t n_conns;          /* connections the worker owns (edges e, e % n_workers == idx) */
    uint32_t n_alloc;          /* arrays are sized for max(n_conns, 1) */
    /* each array below is dp_mem_alloc_size() of what it holds */
    size_t conn;               /* n_alloc x sizeof(struct dp_conn) */
    size_t assoc_size;         /* sctp_assoc_size_cfg: DP_MEM_SCTP_STREAMS streams, shared counters */
    size_t sctp_assoc;         /* 2 x n_alloc x assoc_size */
    size_t queue, dirty;       /* n_alloc x 4 each */
    size_t wheel_links;        /* n_alloc x sizeof(struct dp_conn_wheel) */
    size_t key_stride;         /* dtls_record_keys_size(): one key area per connection, both ends share it */
    size_t keys;               /* n_alloc x key_stride */
    size_t media;              /* with media and n_conns > 0: n_conns x sizeof(struct dp_media), rounded up to 64 */
    size_t sctp_pool;          /* sctp_pool_size(sctp_bufs, DP_MEM_SCTP_BUF_CAP) */
    uint32_t hs_slots;         /* 2 x setup_cap + 2; --dtls-key-update (kept for life): 2 x n_alloc + 2 */
    size_t hs_stride;          /* dtls_endpoint_size() rounded up to 64 */
    uint32_t su_slots;         /* endpoints' set-up state lent on the way up: 2 x setup_cap;
                                  --consent: kept for life, 2 x n_alloc */
    size_t su;                 /* su_slots x sizeof(struct pc_setup), and their free list (su_slots x 4) */
    size_t hs;                 /* hs_slots x hs_stride + su: what only the way up holds (--dtls-key-update: the
                                  slots are held for life, --consent: the set-up states) */
    size_t msg_bufs;           /* 3 x RI_MSG_MAX and the messages held for forwarding (DP_FWD_N) */
    size_t wheel_heads;        /* DP_CONN_WHEEL_SLOTS x 4 */
    uint32_t keylog_cap;       /* keylog_max / n_workers + 1, 0 without --keylog */
    size_t keylog;             /* keylog_cap x DP_MEM_KEYLOG_LINE */
};

struct dp_mem_out {
    uint64_t bytes[DP_MEM_COUNT]; /* by enum dp_mem_cat */
    uint64_t total;
    uint64_t dataplane_heap;   /* CONN + SCTP_POOL + HS + CERT + WORKER + TABLES: malloc'd by swarmgen-dp */
    uint64_t dpdk_heap;        /* MBUF + DPDK: hugepages when DPDK has them */
    uint64_t shm;              /* ROUTES + IMAGE: /dev/shm */
    double per_agent;          /* total / agents */
    double conn_per_connection; /* CONN / connections (both ends): 0 without any */
};

/* The bytes the dataplane allocates for an array of `bytes`: rounded up to
 * 64. Pure. */
size_t dp_mem_alloc_size(size_t bytes);

/* Allocates `size` bytes as the plan counts them (dp_mem_alloc_size) and
 * adds that to *bytes: the large arrays a run reads at random (a worker's
 * connections, associations, key areas, SCTP pool, wheel links; the
 * topology and next-hop tables) at 2 MiB and more 2 MiB-aligned and
 * marked for transparent huge pages, so that a message touching a few
 * entries among millions misses the TLB once per 2 MiB, not per 4 KiB
 * (with THP off, madvise fails and they stay small pages). NULL when
 * out of memory. Set-up only; free() frees it. */
void *dp_mem_big_alloc(size_t size, uint64_t *bytes);

/* Fills *out with what worker `idx` (0..in->n_workers-1) of a --traffic dc
 * run allocates for its connections; all zero for other traffic. Pure. */
void dp_mem_worker(const struct dp_mem_in *in, uint32_t idx, struct dp_mem_worker *out);

/* Fills *out with the plan of the whole run: every worker's
 * dp_mem_worker() summed into its categories, the certificates, the
 * routes and the rest of the run image, DPDK's mbuf pool and the rest of
 * its heap. Pure. */
void dp_mem_plan(const struct dp_mem_in *in, struct dp_mem_out *out);

/* The JSON key and the summary label of a category; NULL out of range. */
const char *dp_mem_key(enum dp_mem_cat c);
const char *dp_mem_label(enum dp_mem_cat c);

#endif
