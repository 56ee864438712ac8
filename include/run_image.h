/* SPDX-License-Identifier: MIT */
/*
 * run_image: the one contract between the control process (swarmgen) and the
 * dataplane (swarmgen-dp).
 *
 * Control builds the run image in a shared-memory file (/dev/shm), starts the
 * dataplane with its path, and both map it. The image is a versioned header
 * followed by sections at 64-byte aligned offsets:
 *
 *   CONFIG     struct ri_config                    written by control, then read-only
 *   AGENTS     struct ri_agent[n_agents]           read-only for the dataplane
 *   ADJ_OFF    uint32_t[n_agents + 1]              CSR offsets            (read-only)
 *   ADJ        uint32_t[2 * n_edges]               neighbour ids          (read-only)
 *   ADJ_EDGE   uint32_t[2 * n_edges]               edge id per slot       (read-only)
 *   EDGES      struct ri_edge[n_edges]             connections            (read-only)
 *   DESTS      uint32_t[n_dests]                   traffic-plan destinations (read-only)
 *   DEST_INDEX int32_t[n_agents]                   agent -> index in DESTS or -1
 *   ROUTES     uint16_t[n_agents * n_dests]        next-hop adjacency slot, RI_ROUTE_NONE
 *                                                  where there is none (read-only)
 *   COMMAND    struct ri_command                   phase/targets from control,
 *                                                  state/figures from the dataplane
 *   METRICS    struct ri_metrics[n_workers]        one block per worker lcore
 *   EXTERNAL   struct ri_external                  external WebRTC peers (--external):
 *                                                  session requests from control,
 *                                                  their state and figures from worker 0
 *   FINGERPRINTS uint8_t[n_agents][32]             each agent's certificate fingerprint
 *                                                  (sha-256): the dataplane writes its
 *                                                  agents' before READY; with --shard,
 *                                                  control writes the other shards'
 *                                                  before CONNECT (the signaling)
 *   TARGET     struct ri_target + ri_target_slot[n_slots]  target mode (--target): the
 *                                                  sessions control signalled with a
 *                                                  server, their state and figures from
 *                                                  worker 0
 *   RELAY      struct ri_relay                     --relay turn:...: the TURN server and
 *                                                  credentials from control, per-stage
 *                                                  figures from worker 0
 *
 * Time model: the dataplane stamps messages with its TSC and reports
 * tsc_hz; control never interprets TSC values except through that rate.
 *
 * Concurrency: read-only sections are written before the dataplane starts.
 * COMMAND fields are each written by one side only, with relaxed/acquire-
 * release atomics (ri_load/ri_store). Each METRICS block has exactly one
 * writer, its worker lcore: `live` is updated with relaxed atomic stores
 * of the writer's own value plus an increment (ri_add: monotonic counters,
 * readable at any time, no read-modify-write instruction); on request (command.snap_req) the worker
 * copies `live` into `snap` and then publishes snap_seq = snap_req with a
 * release store, which gives control a consistent multi-word snapshot
 * (counters and histogram from the same instant) without locks or
 * read-modify-write atomics.
 */
#ifndef SWARMGEN_RUN_IMAGE_H
#define SWARMGEN_RUN_IMAGE_H

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "met_hist.h"

#define RI_MAGIC "SWRMIMG\0"
#define RI_VERSION 10u
#define RI_MAX_WORKERS 64
#define RI_MAX_SHARDS 1024
#define RI_ALIGN 64u
/* ROUTES entry of a destination the agent has no path to */
#define RI_ROUTE_NONE 0xffffu
/* Bytes of ROUTES: a next-hop slot per agent and destination column. */
#define RI_ROUTES_BYTES(n_agents, n_dests) ((uint64_t)(n_agents) * (uint64_t)(n_dests) * sizeof(uint16_t))
/* the largest DataChannel message either backend takes: SCTP's default
 * largest message, 256 KiB (an external peer may send that much; the
 * agents' own --msg-size stops at 64 KiB) */
#define RI_MSG_MAX (256u * 1024u)

enum ri_section_id {
    RI_SEC_CONFIG,
    RI_SEC_AGENTS,
    RI_SEC_ADJ_OFF,
    RI_SEC_ADJ,
    RI_SEC_ADJ_EDGE,
    RI_SEC_EDGES,
    RI_SEC_DESTS,
    RI_SEC_DEST_INDEX,
    RI_SEC_ROUTES,
    RI_SEC_COMMAND,
    RI_SEC_METRICS,
    RI_SEC_EXTERNAL,
    RI_SEC_FINGERPRINTS,
    RI_SEC_TARGET,
    RI_SEC_RELAY,
    RI_SEC_AGENT_STATS, /* RI_VERSION 10: per worker, a hop histogram and n_agents ri_agent_stats */
    RI_SEC_COUNT
};

struct ri_section {
    uint64_t offset; /* from the start of the image, RI_ALIGN aligned */
    uint64_t size;   /* bytes */
};

struct ri_header {
    char magic[8];                      /* RI_MAGIC */
    uint32_t version;                   /* RI_VERSION */
    uint32_t header_size;               /* sizeof(struct ri_header) */
    uint64_t image_size;                /* bytes of the whole mapping */
    uint32_t n_sections;                /* RI_SEC_COUNT */
    uint32_t metrics_size;              /* sizeof(struct ri_metrics) */
    struct ri_section sec[RI_SEC_COUNT];
};

/* What travels on the mesh edges. */
enum ri_traffic {
    RI_TRAFFIC_UDP = 0, /* plain UDP agent messages, no connection set-up (raw forwarding) */
    RI_TRAFFIC_DC = 1,  /* a WebRTC peer connection per edge; agent messages in DataChannel messages */
};

/* The I/O path and stack that carry the traffic (swarmgen compare). */
enum ri_backend {
    RI_BACKEND_DPDK = 0,    /* swarmgen-dp: DPDK ports, our engines */
    RI_BACKEND_URING = 1,   /* swarmgen-dp: the same engines over kernel UDP sockets on loopback, io_uring */
    RI_BACKEND_USRSCTP = 2, /* swarmgen-usrsctp: usrsctp + mbedTLS records + libsrtp2 over kernel UDP sockets */
};

/* Traffic patterns. */
enum ri_pattern {
    RI_PATTERN_ROUTED = 0,    /* destination drawn from DESTS, forwarded hop by hop */
    RI_PATTERN_NEIGHBORS = 1, /* destination is a random direct neighbour */
    RI_PATTERN_ECHO = 2,      /* a random neighbour sends the message back; latency is the round trip */
};

/* Media streams per peer connection (traffic dc), both directions. */
enum ri_media { RI_MEDIA_NONE = 0, RI_MEDIA_AUDIO = 1, RI_MEDIA_VIDEO = 2 };

/* Set-up stages of a peer connection, in order (traffic dc). A failed
 * attempt is counted in the stage it was in. The set-up histograms have
 * one entry per stage (time spent in it), RI_SETUP_TOTAL (start of the
 * successful attempt to both DataChannel ends open), and that total again
 * per negotiated DTLS version (RI_SETUP_DTLS + ri_dtls_index). */
#define RI_STAGES(X)            \
    X(ICE, "ice")               \
    X(DTLS, "dtls")             \
    X(SCTP, "sctp")             \
    X(DC, "datachannel")
enum ri_stage {
#define RI_STAGE_ENUM(id, name) RI_STAGE_##id,
    RI_STAGES(RI_STAGE_ENUM)
#undef RI_STAGE_ENUM
    RI_STAGE_COUNT
};
#define RI_SETUP_TOTAL RI_STAGE_COUNT
#define RI_SETUP_DTLS (RI_STAGE_COUNT + 1) /* [+0] DTLS 1.2, [+1] DTLS 1.3: RI_SETUP_TOTAL by version */
#define RI_SETUP_HISTS (RI_STAGE_COUNT + 3)

/* DTLS versions a run's endpoints offer (client) or accept (server)
 * (ri_config.dtls_versions, ext_dtls_versions): a bit each, the values of
 * crypto/dtls.h's enum dtls_version_bit; 0 in an image means RI_DTLS_AUTO. */
#define RI_DTLS_V12 1u
#define RI_DTLS_V13 2u
#define RI_DTLS_AUTO 3u /* both: a client offers 1.3 and 1.2 (as Chrome), a server takes 1.3 when offered */
#define RI_DTLS_VERSIONS 2 /* per-version figures: [0] DTLS 1.2, [1] DTLS 1.3 */

/* The bits an image's dtls_versions field means (0: RI_DTLS_AUTO). */
static inline uint8_t ri_dtls_offer(uint8_t v)
{
    return v ? v : (uint8_t)RI_DTLS_AUTO;
}

/* The index of a negotiated version (0xfefd DTLS 1.2, 0xfefc DTLS 1.3) in
 * the per-version figures: 1 for 1.3, 0 for anything else. */
static inline int ri_dtls_index(uint16_t version)
{
    return version == 0xfefc;
}

#define RI_NETEM_CLASSES 4

/* Network emulation of one link class, applied by the sending worker. */
struct ri_netem {
    uint8_t enabled;
    uint8_t gilbert;         /* loss by the Gilbert-Elliott model instead of loss_ppm */
    uint16_t reserved;
    uint32_t share_ppm;      /* share of the edges in this class (class 0: the rest) */
    uint64_t delay_ns;
    uint64_t jitter_ns;      /* uniform in [-jitter, +jitter] */
    uint32_t loss_ppm;       /* random loss, parts per million */
    uint32_t dup_ppm;
    uint32_t reorder_ppm;    /* frames sent at once, skipping the delay */
    uint32_t ge_p_ppm;       /* good -> bad */
    uint32_t ge_r_ppm;       /* bad -> good */
    uint32_t ge_bad_loss_ppm; /* loss while bad */
    uint64_t rate_bps;       /* 0: no cap */
    /* the link goes silent (every frame lost), timed from the start of the
     * load (phase RUN): once for outage_ns from outage_at_ns, and/or in a
     * cycle of flap_up_ns up then flap_down_ns down */
    uint64_t outage_at_ns, outage_ns;
    uint64_t flap_up_ns, flap_down_ns;
    char name[16];
};

struct ri_config {
    uint32_t n_agents;
    uint32_t n_workers;     /* worker lcores; metrics blocks */
    uint64_t n_edges;
    uint32_t n_dests;       /* columns of ROUTES */
    uint32_t msg_size;      /* UDP payload bytes per agent message (>= header) */
    uint64_t rate_msgs_per_s; /* initial target, all workers together */
    uint64_t duration_ns;
    uint64_t seed;
    uint32_t ip_base;       /* host byte order; agent i has ip_base + 1 + i */
    uint16_t n_ports;       /* ports the dataplane opens (0 = embedded default) */
    uint8_t pattern;        /* enum ri_pattern */
    uint8_t max_hops;       /* messages exceeding it are dropped (hop_limit) */
    uint32_t burst;         /* rx/tx burst size */
    uint32_t mbufs_per_worker;
    char topology[64];      /* canonical topology spec, informational */
    struct ri_netem netem[RI_NETEM_CLASSES];
    uint32_t pcap_count;    /* capture the first N transmitted frames (0: off) */
    uint32_t reserved1;
    char pcap_path[256];
    /* peer connections (traffic dc) */
    uint8_t traffic;        /* enum ri_traffic */
    uint8_t dc_type;        /* DataChannel type as DCEP writes it (RFC 8832 §5.1): 0x00 reliable,
                               0x80 reliable unordered, 0x01 rexmit, 0x02 timed */
    uint8_t media;          /* enum ri_media */
    uint8_t sign;           /* 1: every agent message carries an Ed25519 signature of its source */
    uint32_t media_bitrate; /* video: bits/s of each stream, 0 the default (rtp_stream.h) */
    uint16_t media_fps;     /* video: frames/s, 0 the default */
    uint16_t media_payload; /* video: RTP payload bytes per packet at most, 0 the default */
    uint32_t dc_reliability; /* retransmissions (rexmit) or lifetime in ms (timed) */
    uint32_t setup_cap;     /* connections in set-up at once, per worker (2 handshake slots each) */
    uint32_t setup_attempts; /* attempts per connection before it is given up (>= 1) */
    uint32_t sctp_bufs;     /* SCTP buffers per worker (1,200-byte chunks in flight or queued) */
    uint32_t keylog_max;    /* key-log lines kept (0: no --keylog) */
    char keylog_path[256];  /* NSS key log written by the dataplane at the end */
    uint8_t backend;        /* enum ri_backend */
    uint8_t sides;          /* 1: two sides through a device under test (ri_side) */
    uint8_t cross_all;      /* two sides, --cross all: connections within a side cross too (ri_edge_alias) */
    uint8_t consent;        /* --consent: RFC 7675 consent checks on every connection, and a connection
                               that fails once up (consent lost, SCTP gave up) is set up again */
    int32_t sctp_heartbeat_ms; /* SCTP idle heartbeat interval: 0 the default (30 s), negative none */
    /* --side-a / --side-b: the DPDK device names of the two ports (a vdev's
     * name before its first comma, or a PCI address), and each side's
     * gateway (host byte order, 0: none, the DUT is a switch or a cable) */
    char side_port[2][128];
    uint32_t side_gateway[2];
    /* --shard I/N: this process simulates the agents i with i % n_shards
     * == shard (ri_agent_here); n_shards 0 or 1: all of them */
    uint32_t shard, n_shards;
    char shard_port[128];   /* DPDK name of the port to the other shards */
    uint32_t clock_wall;    /* --clock ptp: messages stamped with CLOCK_REALTIME (agent_clock) */
    uint32_t has_peer_mac;  /* --peer-mac given: frames to shard s go to peer_mac[s] where it is not 0 */
    uint32_t port_wait_ms;  /* a side's or the link's port: how long its start and link may take */
    uint32_t target_slots;  /* --target: slots of the TARGET section (0: no target mode) */
    uint8_t peer_mac[RI_MAX_SHARDS][6];
    /* --dtls / --external-dtls: the DTLS versions (RI_DTLS_*; 0 RI_DTLS_AUTO) the mesh's
     * endpoints, and the external and target sessions, offer or accept */
    uint8_t dtls_versions;
    uint8_t ext_dtls_versions;
    uint8_t reserved_dtls[2];
    /* --dtls-key-update N: the mesh's DTLS 1.3 endpoints are kept for the
     * connection's life and send a KeyUpdate every N records (0: no
     * flag, the endpoints go after the handshake and never update) */
    uint32_t dtls_key_update;
    /* --srtp-rekey: every media sender of the mesh switches SRTP master key this often,
     * by the MKI (docs/srtp.md); 0 off */
    uint32_t srtp_rekey_ms;
    uint32_t reserved_rekey;
    /* --churn R | R%: connections closed and set up again per second, x 1000 (0: none);
     * with churn_pct, per cent (x 1000) of the connections per second */
    uint32_t churn_milli;
    uint8_t churn_pct;
    uint8_t reserved_churn[3];
};

_Static_assert(offsetof(struct ri_config, dtls_key_update) % 4 == 0 &&
                   offsetof(struct ri_config, dtls_key_update) == offsetof(struct ri_config, dtls_versions) + 4,
               "--dtls-key-update sits in the bytes reserved after the DTLS versions");

static inline int ri_agent_here(const struct ri_config *c, uint32_t agent)
{
    return c->n_shards <= 1 || agent % c->n_shards == c->shard;
}

/* Two sides: agent i is on side i & 1 (A = 0, B = 1), its address in the
 * side's /16: RI_SIDE_NET(s) + 1 + i / 2. */
#define RI_SIDE_NET(base, s) ((base) + ((uint32_t)(s) << 16))
#define RI_SIDE_AGENTS_MAX 65533u /* per side: .0.1 .. .255.253, .255.254 is left for a gateway */

static inline uint32_t ri_side(const struct ri_config *c, uint32_t agent)
{
    return c->sides ? agent & 1 : 0;
}

/* --cross all: a connection between two agents of one side crosses the
 * DUT too: its endpoint b appears on the other side, under b's alias
 * there (RI_ALIAS_OFF + 1 + b / 2 in the other side's /16, MAC
 * 02:53:48 and b's index). Agents then take the lower half of their
 * side's /16, aliases the upper half. */
#define RI_ALIAS_OFF 0x8000u
#define RI_SIDE_AGENTS_MAX_CROSS 32765u /* per side: .0.1 .. .127.254, aliases .128.1 .. .255.253 */

/* Whether endpoint b of edge (a, b) is its alias on the other side. */
static inline int ri_edge_alias(const struct ri_config *c, uint32_t a, uint32_t b)
{
    return c->cross_all && ((a ^ b) & 1) == 0;
}

static inline uint32_t ri_alias_ip(const struct ri_config *c, uint32_t agent)
{
    return RI_SIDE_NET(c->ip_base, (agent & 1) ^ 1) + RI_ALIAS_OFF + 1 + agent / 2;
}

struct ri_agent {
    uint32_t ip;     /* host byte order */
    uint16_t worker; /* worker index that generates this agent's messages */
    uint16_t degree;
};

struct ri_edge {
    uint32_t a, b;           /* endpoints, a < b */
    uint16_t port_a, port_b; /* UDP ports of each endpoint on this connection */
    uint16_t worker;         /* worker index that owns the connection */
    uint16_t netem_class;    /* index into config.netem (0: the global class) */
};

/* Phases, written by control. */
enum ri_phase {
    RI_PHASE_SETUP = 0,   /* dataplane prepares, workers wait */
    RI_PHASE_RUN = 1,     /* generate at command.rate */
    RI_PHASE_DRAIN = 2,   /* stop generating, keep forwarding and delivering */
    RI_PHASE_STOP = 3,    /* workers return */
    RI_PHASE_CONNECT = 4, /* workers set the peer connections up, nothing is generated yet */
};

/* Dataplane states, written by the dataplane. */
enum ri_dp_state {
    RI_DP_STARTING = 0,
    RI_DP_READY = 1,   /* set-up done, waiting for RUN */
    RI_DP_RUNNING = 2,
    RI_DP_DONE = 3,    /* workers stopped, final snapshot published */
    RI_DP_FAILED = 4,  /* see dp_message */
};

struct ri_command {
    /* control -> dataplane */
    alignas(RI_ALIGN) uint32_t phase;   /* enum ri_phase */
    uint32_t may_close;                 /* --shard: 1 once every shard's workers stopped (the quiet barrier):
                                           the dataplane may close its ports (a memif peer that closes
                                           while this one still polls unmaps the rings under its rx) */
    uint64_t rate_msgs_per_s;           /* current target, all workers together */
    uint64_t active_agents;             /* agents 0..active_agents-1 generate */
    uint64_t snap_req;                  /* increment to request a snapshot */
    /* dataplane -> control */
    alignas(RI_ALIGN) uint32_t dp_state; /* enum ri_dp_state */
    int32_t dp_error;                    /* negative errno when FAILED */
    uint64_t tsc_hz;
    uint64_t mem_dpdk_bytes;             /* DPDK heap allocated at READY */
    uint64_t mem_worker_bytes;           /* of which per-worker state */
    uint64_t mem_conn_bytes;             /* peer-connection state (both endpoints, SCTP associations, wheel
                                            links, queues, media; dp_mem.h DP_MEM_CONN) */
    uint64_t mem_sctp_pool_bytes;        /* the workers' SCTP buffer pools (DP_MEM_SCTP_POOL); 0 from a
                                            dataplane that still counts them in mem_conn_bytes */
    uint64_t mem_dp_buf_bytes;           /* per-worker buffers: messages, wheel heads, key log (DP_MEM_WORKER) */
    uint64_t mem_mbuf_bytes;             /* of mem_dpdk_bytes: the mbuf pool (DP_MEM_MBUF) */
    uint64_t mem_hs_bytes;               /* handshake slots (capped, transient use) */
    uint64_t mem_cert_bytes;             /* the agents' DTLS certificates (one each) */
    uint64_t mem_tables_bytes;           /* the copy of the topology and next-hop tables (DP_MEM_TABLES) */
    uint64_t cert_gen_ns;                /* time spent making them at set-up */
    uint64_t n_certs;
    uint32_t n_workers;
    uint32_t hugepages;                  /* 1 when backed by hugepages */
    uint32_t lcore[RI_MAX_WORKERS];      /* lcore id of each worker */
    uint32_t port_count;
    char port_desc[256];                 /* e.g. "net_ring x2" */
    uint64_t side_gw_mac[2];             /* two sides: each gateway's MAC (48 bits) as last
                                            resolved, 0 without a gateway */
    /* control -> dataplane (--shard): bit s of shards_gone set when shard s
     * went away, then shards_gone_seq incremented (release): the workers
     * end every connection with an endpoint there */
    alignas(RI_ALIGN) uint32_t shards_gone_seq;
    uint32_t link_up;                    /* dataplane (--shard): 1 while the link to the other shards is up
                                            (kept current while it waits for the run) */
    uint64_t shards_gone[16];
    char dp_message[256];                /* failure or status text */
};

/* Drop reasons: one list generates the enum and the names (report keys). */
#define RI_DROP_REASONS(X)                                                                  \
    X(NOT_IPV4, "not_ipv4")                                                                 \
    X(BAD_IP_HEADER, "bad_ip_header")                                                       \
    X(NOT_UDP, "not_udp")                                                                   \
    X(TRUNCATED, "truncated")                                                               \
    X(UNKNOWN_FLOW, "unknown_flow")                                                         \
    X(BAD_MESSAGE, "bad_message")                                                           \
    X(WRONG_RECEIVER, "wrong_receiver")                                                     \
    X(HOP_LIMIT, "hop_limit")                                                               \
    X(NO_ROUTE, "no_route")                                                                 \
    X(TX_FULL, "tx_full")                                                                   \
    X(HANDOFF_FULL, "handoff_full")                                                         \
    X(NO_MBUF, "no_mbuf")                                                                   \
    X(NETEM_LOSS, "netem_loss")                                                             \
    X(NETEM_QUEUE, "netem_queue")                                                           \
    X(NETEM_OUTAGE, "netem_outage") /* the link class was silent (outage=, flap=) */       \
    X(NOT_WEBRTC, "not_webrtc")     /* first byte neither STUN, DTLS nor RTP (RFC 7983) */  \
    X(BAD_STUN, "bad_stun")         /* malformed, unauthenticated or foreign STUN */        \
    X(BAD_RECORD, "bad_record")     /* DTLS record refused: replay, tag, epoch, truncated */ \
    X(BAD_SCTP, "bad_sctp")         /* SCTP packet dropped by the association */            \
    X(BAD_SRTP, "bad_srtp")         /* SRTP/SRTCP refused: authentication, replay */        \
    X(CONN_DOWN, "conn_down")       /* for a connection not up, or held by one going down */ \
    X(SEND_BLOCKED, "send_blocked") /* SCTP send buffer or buffer pool full */              \
    X(ABANDONED, "abandoned")       /* PR-SCTP: given up by the sender, skipped by the receiver */ \
    X(BAD_SIGNATURE, "bad_signature")                                                       \
    X(ARP_OTHER, "arp_other")       /* two sides: ARP not for our agents nor from a gateway */ \
    X(CLOSED_IN_FLIGHT, "closed_in_flight") /* in a connection's DataChannel when it closed (--consent) */ \
    X(CHURN, "churn")               /* for a connection being replaced (--churn), not held */

enum ri_drop {
#define RI_DROP_ENUM(id, name) RI_DROP_##id,
    RI_DROP_REASONS(RI_DROP_ENUM)
#undef RI_DROP_ENUM
    RI_DROP_COUNT
};

/* Counters of one worker. All monotonic but the gauges at the end. */
struct ri_counters {
    uint64_t msgs_sent;       /* generated by this worker's agents */
    uint64_t msgs_delivered;  /* reached their destination on this worker */
    uint64_t msgs_forwarded;  /* relayed by an intermediate agent */
    uint64_t msgs_dropped;    /* dropped in flight (sum of message drops) */
    uint64_t hops_delivered;  /* sum of hop counts of delivered messages */
    uint64_t pkts_rx, pkts_tx;
    uint64_t bytes_rx, bytes_tx; /* L2 frame bytes */
    uint64_t handoff_out, handoff_in;
    uint64_t cycles_busy, cycles_total; /* TSC cycles, busy = passes that did work */
    uint64_t passes;
    uint64_t netem_delayed, netem_duplicated, netem_reordered;
    uint64_t msgs_duplicate_rx; /* emulated duplicates that reached their destination */
    uint64_t drops[RI_DROP_COUNT];
    /* peer connections (traffic dc); each connection counts on its owner */
    uint64_t conn_total;                 /* connections this worker owns */
    uint64_t conn_attempts;              /* set-up attempts started, retries included */
    uint64_t conn_established;           /* connections up (both DataChannel ends open) */
    uint64_t conn_attempt_failed[RI_STAGE_COUNT]; /* attempts that failed, by stage */
    uint64_t conn_given_up;              /* connections whose every attempt failed */
    uint64_t conn_closed;                /* established connections that went down later */
    uint64_t dc_msgs_tx, dc_msgs_rx;     /* DataChannel messages sent and received (all hops) */
    uint64_t sctp_retransmissions, sctp_sacks, sctp_forward_tsns;
    uint64_t srtp_protected, srtp_unprotected, srtp_auth_failures, srtp_replays;
    uint64_t media_rtp_tx, media_rtp_rx, media_rtcp_tx, media_rtcp_rx;
    uint64_t media_expected, media_lost; /* from RTCP receiver reports (deltas of their totals) */
    uint64_t media_jitter_ns_sum, media_jitter_reports; /* interarrival jitter of those reports */
    uint64_t signature_failures;
    uint64_t hs_slot_high_water;         /* handshake slots in use at most */
    uint64_t sctp_bufs_peak;             /* SCTP pool buffers in use at most */
    uint64_t tx_starved;                 /* passes a connection waited for an mbuf (nothing lost) */
    /* two sides (cfg.sides), [0] side A, [1] side B */
    uint64_t side_frames_tx[2], side_bytes_tx[2]; /* every frame sent on the side's port (ARP too) */
    uint64_t side_frames_rx[2], side_bytes_rx[2]; /* every frame received on it */
    uint64_t side_ip_tx[2], side_ip_rx[2];        /* of those, the agents' IPv4 frames */
    uint64_t side_arp_replies[2];                 /* ARP requests for our agents answered */
    uint64_t side_arp_requests[2];                /* ARP requests for the gateway sent */
    uint64_t side_gw_changes[2];                  /* the gateway's MAC changed during the run */
    uint64_t dir_msgs_delivered[2];               /* [s]: from side s to the other side (echo:
                                                     round trips that side s started) */
    /* shards: a connection between two shards is counted (conn_total ..)
     * by the shard of its endpoint a; the other shard's endpoint is a half */
    uint64_t conn_halves_total, conn_halves_up, conn_halves_given_up;
    uint64_t msgs_remote_delivered; /* from another shard's agent: no one-way latency (another clock) */
    uint64_t conn_shard_lost;       /* connections (and halves) ended because the other shard went away */
    /* the census when the workers stop (dp_worker.c, after the drain,
     * before the final snapshot): agent messages this worker still holds,
     * counted once (SCTP send queues not yet received by the other end,
     * reassembly and ordered delivery, netem wheel, hand-off rings, frames
     * not yet received); msgs_census 1 once it ran (summed: the workers
     * that took it; the usrsctp baseline takes none) */
    uint64_t msgs_in_flight_end;
    uint64_t msgs_census;
    /* gauges, not counters: set when the worker publishes a snapshot (and at the stop), summed
     * over workers like the rest (phase deltas of them mean nothing) */
    uint64_t mbufs_in_use;     /* worker 0 only: mbufs of the packet pool (all workers') in use */
    uint64_t sctp_bufs_in_use; /* this worker's SCTP pool buffers in use (mesh connections) */
    /* --consent */
    uint64_t conn_consent_lost;     /* of conn_closed: an endpoint's consent checks went unanswered (RFC 7675) */
    uint64_t conn_reestablished;    /* closed connections that came up again (a new set-up) */
    /* of conn_established, by the DTLS version they negotiated: [0] 1.2, [1] 1.3 (ri_dtls_index) */
    uint64_t conn_dtls_up[RI_DTLS_VERSIONS];
    /* --dtls-key-update: DTLS 1.3 KeyUpdates of the mesh's endpoints: ours
     * acknowledged (the write epoch moved on), the peer's taken */
    uint64_t dtls_key_updates_out, dtls_key_updates_in;
    /* --srtp-rekey (docs/srtp.md): SRTP master key switches sent (a sender moved to a new
     * MKI) and seen (a receiver's first packet under the new key authenticated); packets
     * accepted under the previous key within its grace window; SRTP and SRTCP packets
     * protected and unprotected under an odd key generation (the rest: even; 0 is the
     * DTLS-SRTP key) */
    uint64_t srtp_rekeys;
    uint64_t srtp_rekeys_seen;
    uint64_t srtp_rx_prev_key;
    uint64_t srtp_protected_odd;
    uint64_t srtp_unprotected_odd;
    /* --churn: connections closed on purpose (SCTP SHUTDOWN, DTLS close_notify) and set up
     * again; not in conn_closed; a re-set-up counts in conn_reestablished too */
    uint64_t conn_churned;          /* closes started */
    uint64_t conn_churn_resetup;    /* of them, up again (a new ICE/DTLS/SCTP/DataChannel set-up) */
    uint64_t msgs_churn_held;       /* routed onto a connection being replaced: waited, sent when up */
    uint64_t msgs_churn_dropped;    /* such messages that could not wait (also drops[RI_DROP_CHURN]) */
    uint64_t conn_churn_pending_end; /* set by the census: churned connections not up again when the run
                                        ended (closing or in set-up) */
};

struct ri_metrics {
    /* written by the worker all the time */
    alignas(RI_ALIGN) struct ri_counters live;
    alignas(RI_ALIGN) struct met_hist latency; /* end-to-end, ns */
    alignas(RI_ALIGN) struct met_hist setup[RI_SETUP_HISTS]; /* set-up time per stage and total, ns */
    alignas(RI_ALIGN) struct met_hist dir_latency[2]; /* two sides: latency of dir_msgs_delivered, ns */
    /* published on request */
    alignas(RI_ALIGN) uint64_t snap_seq;       /* == command.snap_req when published */
    uint64_t snap_tsc;                          /* TSC at the copy */
    alignas(RI_ALIGN) struct ri_counters snap;
    alignas(RI_ALIGN) struct met_hist snap_latency;
    alignas(RI_ALIGN) struct met_hist snap_setup[RI_SETUP_HISTS];
    alignas(RI_ALIGN) struct met_hist snap_dir_latency[2];
    alignas(RI_ALIGN) struct met_hist resetup;      /* --churn: close started to up again, ns */
    alignas(RI_ALIGN) struct met_hist snap_resetup;
};

/* Copies live, the latency histogram and, with `setup`, the set-up
 * histograms into the snapshot (what a snapshot and the final figures
 * after the workers stopped are made of). */
static inline void ri_metrics_copy(struct ri_metrics *m, int setup)
{
    m->snap = m->live;
    m->snap_latency = m->latency;
    m->snap_dir_latency[0] = m->dir_latency[0];
    m->snap_dir_latency[1] = m->dir_latency[1];
    if (setup)
        for (int i = 0; i < RI_SETUP_HISTS; i++)
            m->snap_setup[i] = m->setup[i];
    if (setup)
        m->snap_resetup = m->resetup;
}

/* The worker's answer to snapshot request `req` (the protocol above): the
 * copy, stamped with `tsc`, then snap_seq published. Only the block's
 * worker calls it. */
static inline void ri_metrics_publish(struct ri_metrics *m, uint64_t req, uint64_t tsc, int setup)
{
    ri_metrics_copy(m, setup);
    m->snap_tsc = tsc;
    __atomic_store_n(&m->snap_seq, req, __ATOMIC_RELEASE);
}

/* External WebRTC peers (--external): a browser or another stack reaches a
 * simulated agent over a kernel-visible DPDK port; control answers its
 * WHIP offer and hands the session to the dataplane through a slot.
 *
 * Each slot field has one writer. Control fills a slot's request fields,
 * then stores a new `seq` with release: the dataplane (worker 0) sees it
 * with an acquire load, starts the session and publishes `dp_seq = seq`
 * and `dp_state`. Control asks for the end with `close_seq = seq`; the
 * dataplane ends it and sets dp_state CLOSED (or FAILED/CLOSED on its
 * own when the peer goes away). A slot is free for control again when
 * dp_seq == seq and dp_state is IDLE, CLOSED or FAILED. */
#define RI_EXTERNAL_MAX 16
#define RI_EXTERNAL_LOG 64        /* ended sessions kept for the report */
#define RI_EXTERNAL_PORT_BASE 47000u /* slot i's UDP port on the agent's address */

enum ri_ext_mode {
    RI_EXT_OFF = 0,
    RI_EXT_ECHO = 1,  /* every DataChannel message goes back on the same channel */
    RI_EXT_ROUTE = 2, /* every message becomes an agent message from that agent into the mesh */
};

enum ri_ext_dp_state {
    RI_EXT_IDLE = 0,
    RI_EXT_CONNECTING = 1, /* ICE / DTLS / SCTP / DataChannel */
    RI_EXT_UP = 2,         /* the peer's DataChannel is open */
    RI_EXT_CLOSED = 3,     /* closed by either side */
    RI_EXT_FAILED = 4,     /* set-up failed or timed out (fail_stage) */
};

/* Figures of one session (or all of them), written by the dataplane. */
struct ri_ext_stats {
    uint64_t msgs_in;       /* DataChannel messages from the peer */
    uint64_t msgs_echoed;   /* sent back (echo) */
    uint64_t msgs_injected; /* injected into the mesh as agent messages (route) */
    uint64_t msgs_dropped;  /* echo backlog full, or not injectable */
    uint64_t bytes_in, bytes_out; /* DataChannel message bytes */
    uint64_t frames_in, frames_out; /* UDP datagrams on the external port */
    uint64_t frames_unauth; /* of frames_in, dropped: from an address no authenticated ICE check
                             * came from, or STUN that did not authenticate (dp_external.h) */
    /* our SCTP association of the session, folded in when it ends */
    uint64_t sctp_data_chunks_out, sctp_retransmissions, sctp_fast_retransmits, sctp_t3_timeouts;
    /* DTLS 1.3 KeyUpdates of the session: ours acknowledged, the peer's taken */
    uint64_t dtls_key_updates_out, dtls_key_updates_in;
};

struct ri_ext_slot {
    /* control -> dataplane: the request, then `seq` (release) */
    alignas(RI_ALIGN) uint32_t seq; /* request number, 0 never used */
    uint32_t close_seq;             /* == seq: control closed the session (WHIP DELETE) */
    uint32_t agent;                 /* the simulated agent the peer reaches */
    uint16_t port;                  /* our UDP port on the agent's address (the answer's candidate) */
    uint8_t dtls_client;            /* 1: our answer says setup:active (we are the DTLS client) */
    uint8_t reserved0;
    char local_ufrag[36], local_pwd[68];   /* ours, from the answer */
    char remote_ufrag[36], remote_pwd[68]; /* the offer's */
    uint8_t remote_fp[32];          /* the offer's sha-256 certificate fingerprint */
    /* dataplane -> control */
    alignas(RI_ALIGN) uint32_t dp_seq; /* the request the fields below describe */
    uint32_t dp_state;              /* enum ri_ext_dp_state (release) */
    uint32_t fail_stage;            /* enum ri_stage when FAILED */
    uint32_t peer_ip;               /* learned from its first datagram, host byte order */
    uint16_t peer_port;
    uint16_t dtls_version;          /* negotiated: 0xfefd DTLS 1.2, 0xfefc 1.3; 0 not (yet) */
    uint32_t reserved2;
    uint64_t setup_ns;              /* first datagram to DataChannel open */
    struct ri_ext_stats s;          /* this session */
};

/* One ended session, as the report lists it. */
struct ri_ext_log {
    uint32_t agent, slot;
    uint32_t state;                 /* CLOSED or FAILED */
    uint32_t fail_stage;
    uint8_t dtls_client, closed_by_peer;
    uint16_t dtls_version;          /* negotiated: 0xfefd, 0xfefc; 0 when the handshake did not end */
    uint8_t reserved[4];
    char dtls_failure[16];          /* why the DTLS handshake failed ("fingerprint", "timeout" ...), "" if it did not */
    uint64_t setup_ns, duration_ns;
    struct ri_ext_stats s;
};

struct ri_external {
    /* control -> dataplane, written before it starts */
    uint32_t mode;                  /* enum ri_ext_mode; RI_EXT_OFF: none of this is used */
    uint32_t n_slots;               /* <= RI_EXTERNAL_MAX */
    char port[256];                 /* DPDK vdev string of the kernel-visible port */
    uint64_t idle_ns;               /* an up session with no datagram from its peer for this
                                     * long is closed (--external-idle); 0 never */
    /* dataplane -> control, written before READY */
    uint8_t fingerprint[32];        /* sha-256 of the certificate external sessions use */
    uint8_t mac[6];                 /* the port's MAC (proxy ARP answers with it) */
    uint8_t reserved[2];
    uint32_t port_id;
    char port_desc[128];
    /* dataplane (worker 0) -> control, at any time; final after DONE */
    alignas(RI_ALIGN) struct ri_ext_stats total;
    uint64_t sessions, sessions_up, sessions_failed, sessions_closed;
    uint64_t sessions_idle_closed;        /* of sessions_closed: no datagram for idle_ns */
    uint64_t arp_replies, frames_foreign; /* ARP requests answered; frames that were not ours */
    uint32_t log_n;                 /* entries of log written (release), at most RI_EXTERNAL_LOG */
    uint32_t reserved3;
    struct ri_ext_log log[RI_EXTERNAL_LOG];
    alignas(RI_ALIGN) struct met_hist latency; /* echo: message in -> its echo acknowledged (ns) */
    alignas(RI_ALIGN) struct ri_ext_slot slot[RI_EXTERNAL_MAX];
    /* dataplane (worker 0) -> control: of sessions_up, by negotiated DTLS version ([0] 1.2, [1] 1.3) */
    alignas(RI_ALIGN) uint64_t sessions_up_dtls[RI_DTLS_VERSIONS];
};

/* Target mode (--target): simulated agents as full-ICE WebRTC clients of
 * a real server (a WHIP endpoint, Janus). Control does the signalling
 * (HTTP, control/target/) and hands each session to the dataplane through
 * a slot; worker 0 runs it on the external port (the kernel-visible port
 * of ri_external.port, opened when either section asks for it), or with
 * --relay through the agent's TURN allocation (ri_relay; the slot's
 * relay_* fields below).
 *
 * A session is one agent's peer connection to the server: ICE controlling
 * (controlled for an `answerer` slot, janus-videoroom's subscribers: the
 * server offered) and full (checks to every candidate of the answer, paced, nomination,
 * consent freshness every RI_TARGET_CONSENT_NS), the DTLS role the
 * answer's a=setup gives us (the offer said actpass), SCTP port 5000 in
 * DTLS, the DataChannel opened by us (label "swarmgen", reliable ordered),
 * and with `audio` an SRTP audio stream both ways (Opus-shaped, 20 ms
 * packets, payload type audio_pt). Our local candidate is the agent's
 * address (198.18.0.0 + 1 + agent) and port RI_TARGET_PORT (one session
 * per agent at a time). Messages: msg_size bytes, each starting with an
 * agent header (webrtc/agent.h), one every msg_interval_ns per session
 * while the command phase is LOAD; what comes back with our header is a
 * round trip (echo servers: EchoTest, our own --external echo).
 *
 * Slot protocol, each field one writer (as ri_ext_slot): control fills
 * the request fields, then stores a new `seq` with release; worker 0 sees
 * it (acquire), starts the session and publishes dp_seq = seq and
 * dp_state. Control asks for the end with close_seq = seq (before its
 * DELETE/detach). A slot is free for control again when dp_seq == seq
 * and dp_state is IDLE, CLOSED or FAILED. */
#define RI_TARGET_MAX 65536u
#define RI_TARGET_PORT 50000u        /* our UDP port on the agent's address */
#define RI_TARGET_CANDS 8            /* remote candidates a slot carries */
#define RI_TARGET_FEEDS 7            /* publishers a subscriber session receives at most (janus-videoroom:
                                        their audio lines and the data line fill an SDP of 8 m-lines) */
#define RI_TARGET_CONSENT_NS (5ull * 1000000000ull)   /* RFC 7675: a check every 5 s (+-20 %) */
#define RI_TARGET_CONSENT_EXPIRY_NS (30ull * 1000000000ull) /* no answer for 30 s: consent lost */

/* What a target session's candidate is (a=candidate typ). */
enum ri_cand_type { RI_CAND_HOST = 0, RI_CAND_SRFLX = 1, RI_CAND_PRFLX = 2, RI_CAND_RELAY = 3 };

struct ri_target_cand {
    uint32_t ip;        /* IPv4, host byte order */
    uint16_t port;
    uint8_t type;       /* enum ri_cand_type */
    uint8_t reserved;
    uint32_t priority;  /* as the answer gave it */
};

enum ri_target_dp_state {
    RI_TGT_IDLE = 0,
    RI_TGT_CONNECTING = 1, /* ICE / DTLS / SCTP / DataChannel */
    RI_TGT_UP = 2,         /* our DataChannel is open */
    RI_TGT_CLOSED = 3,     /* closed: by control (close_seq), by the server (ABORT, close_notify) */
    RI_TGT_FAILED = 4,     /* set-up failed or timed out (fail_stage), or consent lost after up */
};

/* Figures of one session (or the sum of all: ri_target.total), written
 * by the dataplane. */
struct ri_target_stats {
    uint64_t msgs_sent, msgs_back;        /* our messages; those that came back (echo) */
    uint64_t msgs_foreign;                /* messages from the server that are not an echo of ours */
    uint64_t bytes_sent, bytes_back;      /* DataChannel message bytes */
    uint64_t frames_in, frames_out;       /* UDP datagrams of the session on the port */
    uint64_t rtt_sum_ns, rtt_max_ns, rtt_min_ns; /* of the msgs_back (rtt_min_ns 0 when none) */
    uint64_t rtp_sent, rtp_back;          /* SRTP audio packets we sent; received (authenticated) */
    uint64_t rtp_lost;                    /* expected - received by sequence number (RFC 3550 A.3) */
    uint64_t srtp_auth_failures;          /* SRTP/SRTCP packets that failed authentication */
    uint64_t rtcp_in;                     /* SRTCP packets received */
    uint32_t jitter_us;                   /* latest interarrival jitter: from the server's RTCP RR about
                                             our stream when it sends one, else our own estimate */
    uint32_t rtcp_rr_loss;                /* cumulative loss of our stream the server's RR reports */
    uint64_t ice_checks_sent, ice_checks_answered, consent_checks; /* our Binding requests */
    uint64_t ice_restarts;                /* reserved: counted, none started by us yet */
    uint64_t sctp_retransmissions;
    /* --media video (appended, RI_VERSION 9): the session's VP8 stream, its own SSRC; back: the
     * server's RTP of the video payload type (whatever its SSRC) */
    uint64_t video_rtp_sent, video_rtp_back, video_rtp_lost; /* lost by sequence (RFC 3550 A.3) */
    uint64_t video_bytes_sent, video_bytes_back;  /* RTP packets' bytes before SRTP (header included) */
    uint64_t video_srtp_auth_failures;            /* of the video RTP and its server RTCP */
    uint64_t video_rtcp_pli, video_rtcp_fir, video_rtcp_nack; /* the server's feedback on our video */
    uint64_t video_keyframes;                     /* key frames we sent (periodic, and on PLI/FIR) */
    uint64_t video_sessions, video_rejected;      /* sessions that sent video; whose answer refused it */
    /* DTLS 1.3 KeyUpdates of the session: ours acknowledged, the server's taken */
    uint64_t dtls_key_updates_out, dtls_key_updates_in;
};

struct ri_target_slot {
    /* control -> dataplane: the request, then `seq` (release) */
    alignas(RI_ALIGN) uint32_t seq;      /* request number, 0 never used */
    uint32_t close_seq;                  /* == seq: control ends the session */
    uint32_t agent;                      /* whose address the session uses */
    uint8_t dtls_client;                 /* 1: the answer said setup:passive (we are the DTLS client) */
    uint8_t audio;                       /* 1: the answer accepted our audio m-line: send SRTP audio */
    uint8_t audio_pt;                    /* the payload type the answer kept for Opus */
    uint8_t n_cands;                     /* of cand[], 1..RI_TARGET_CANDS */
    uint8_t remote_lite;                 /* the answer had a=ice-lite */
    uint8_t reserved0[3];
    uint32_t remote_max_message;         /* the answer's a=max-message-size (0: 65536) */
    uint16_t remote_sctp_port;           /* the answer's a=sctp-port (5000) */
    uint16_t reserved1;
    uint32_t audio_ssrc;                 /* our audio stream's SSRC (as the offer's a=ssrc) */
    char local_ufrag[36], local_pwd[68];   /* ours, from the offer */
    char remote_ufrag[36], remote_pwd[68]; /* the answer's */
    uint8_t remote_fp[32];               /* the answer's sha-256 certificate fingerprint */
    struct ri_target_cand cand[RI_TARGET_CANDS]; /* the answer's UDP IPv4 candidates, best first */
    /* dataplane -> control */
    alignas(RI_ALIGN) uint32_t dp_seq;   /* the request the fields below describe */
    uint32_t dp_state;                   /* enum ri_target_dp_state (release) */
    uint32_t fail_stage;                 /* enum ri_stage when FAILED */
    uint8_t consent_lost;                /* FAILED after UP because consent expired */
    uint8_t closed_by_peer;              /* CLOSED by the server (ABORT, close_notify, channel reset) */
    char dtls_failure[16];               /* why the DTLS handshake failed, "" if it did not */
    uint16_t dtls_version;               /* negotiated: 0xfefd DTLS 1.2, 0xfefc 1.3; 0 not (yet) */
    uint32_t sel_ip;                     /* the nominated pair's remote address (host byte order) */
    uint16_t sel_port;
    uint16_t reserved3;
    uint64_t t_start_ns;                 /* dataplane time (ns, tsc_hz) the session started */
    uint64_t stage_ns[RI_STAGE_COUNT];   /* time spent in each stage (ICE, DTLS, SCTP, DataChannel) */
    uint64_t setup_ns;                   /* session start to DataChannel open (0: not up) */
    uint64_t up_ns;                      /* how long it was up, final when it ended */
    struct ri_target_stats s;            /* this session, final when it ended */
    /* janus-videoroom (docs/target.md), control -> dataplane, before `seq` like the request above */
    alignas(RI_ALIGN) uint8_t answerer;  /* 1: the server offered, we answered (a subscriber): ICE
                                            controlled, DTLS role dtls_client (our answer said
                                            setup:active), no audio of ours; feeds' audio received */
    uint8_t n_feeds;                     /* of feed_agent[] / feed_ssrc[], 0..RI_TARGET_FEEDS */
    uint8_t reserved4[2];
    uint32_t feed_agent[RI_TARGET_FEEDS]; /* the publishers (agents) whose messages this session gets */
    uint32_t feed_ssrc[RI_TARGET_FEEDS];  /* the SSRC of each audio line the server offered (0: none) */
    /* dataplane -> control */
    uint64_t feed_msgs[RI_TARGET_FEEDS]; /* messages received from publisher feed_agent[k] */
    uint64_t feed_misordered;            /* messages of a feed whose sequence was not the next one
                                            (a duplicate, a gap, a reorder) */
    uint64_t feed_rtp[RI_TARGET_FEEDS];  /* SRTP packets received (authenticated) on feed_ssrc[k] */
    uint64_t feed_rtp_lost[RI_TARGET_FEEDS]; /* expected - received by sequence number, per stream */
    /* dataplane -> control, with --relay (RI_VERSION 9): agent `slot
     * index`'s TURN allocation, written once per run by worker 0 and
     * never by control (it survives every request of the slot): relay_ip
     * and relay_port first, then relay_state with release. Control reads
     * relay_state (acquire) before it signals the slot's first session:
     * PENDING, wait; OK, the offer's one candidate is relay_ip:relay_port
     * (typ relay); FAILED, the session fails in signalling with cause
     * "turn" (relay_code: the server's error code, 0 no answer). */
    alignas(RI_ALIGN) uint32_t relay_state; /* enum ri_target_relay_state */
    uint32_t relay_ip;                   /* the relayed address (host byte order) */
    uint16_t relay_port;
    uint16_t relay_code;                 /* FAILED: the TURN error code (0: no answer) */
    uint32_t reserved5;
    /* --media video (appended, RI_VERSION 9), control -> dataplane before `seq` */
    uint8_t video;                       /* 1: the answer accepted our video m-line (VP8 kept) */
    uint8_t video_pt;                    /* the payload type the answer kept for VP8 */
    uint8_t video_wanted;                /* 1: our offer had a video line (0 with video: rejected) */
    uint8_t reserved6;
    uint32_t video_ssrc;                 /* our video stream's SSRC (as the offer's a=ssrc) */
};

/* ri_target_slot.relay_state (--relay with --target). */
enum ri_target_relay_state { RI_TGT_RELAY_PENDING = 0, RI_TGT_RELAY_OK = 1, RI_TGT_RELAY_FAILED = 2 };

struct ri_target {
    /* control -> dataplane, written before it starts */
    uint32_t n_slots;                    /* slots after this header; 0: no target mode */
    uint32_t msg_size;                   /* bytes per DataChannel message (>= the agent header) */
    uint64_t msg_interval_ns;            /* per session while LOAD; 0: no messages */
    uint64_t setup_timeout_ns;           /* a session not up by then fails in its stage */
    uint32_t media;                      /* enum ri_media the offers ask for (NONE or AUDIO) */
    uint32_t feeds;                      /* janus-videoroom: subscribers may be given up to this many
                                            feeds (RI_TARGET_FEEDS at most; 0: no answerer slots) */
    /* dataplane (worker 0) -> control, at any time; final after DONE */
    alignas(RI_ALIGN) struct ri_target_stats total;
    uint64_t sessions, sessions_up, sessions_failed, sessions_closed, sessions_consent_lost;
    uint64_t failed_stage[RI_STAGE_COUNT]; /* failed sessions by the stage they failed in */
    uint64_t frames_unknown;             /* datagrams to RI_TARGET_PORT of an agent with no session */
    alignas(RI_ALIGN) struct met_hist rtt;        /* message round trips (ns) */
    alignas(RI_ALIGN) struct met_hist setup;      /* session start to DataChannel open (ns) */
    alignas(RI_ALIGN) struct met_hist stage[RI_STAGE_COUNT]; /* time in each stage of the sessions that got up */
    /* control -> dataplane (--target-gateway): a candidate outside
     * link_net/link_mask goes to gateway's MAC (resolved by ARP); 0: none,
     * every candidate is asked for by ARP itself. Host byte order. */
    alignas(RI_ALIGN) uint32_t gateway;
    uint32_t link_net, link_mask;
    uint32_t reserved_gw;
    uint64_t mem_bytes;                  /* dataplane -> control: what dp_target_init allocated (dp_mem_target) */
    /* dataplane (worker 0) -> control: of sessions_up, by negotiated DTLS version ([0] 1.2, [1] 1.3) */
    alignas(RI_ALIGN) uint64_t sessions_up_dtls[RI_DTLS_VERSIONS];
    /* struct ri_target_slot slot[n_slots] follows, RI_ALIGN aligned */
};

/* Slot i of a TARGET section. */
static inline struct ri_target_slot *ri_target_slot(struct ri_target *t, uint32_t i)
{
    return (struct ri_target_slot *)((char *)t + sizeof(*t)) + i;
}
_Static_assert(sizeof(struct ri_target) % RI_ALIGN == 0, "slots stay aligned");

/* --relay turn:HOST:PORT,user=U,pass=P (docs/turn.md): the mesh's peer
 * connections run through a TURN server. Worker 0 (the only worker) opens
 * the kernel-visible port (`port`, a DPDK vdev as ri_external.port), gives
 * every agent a TURN allocation from its address : RI_RELAY_LOCAL_PORT,
 * and each endpoint's peer is the other agent's relayed address; the
 * connection's datagrams go as ChannelData (Send indications before the
 * channel is bound). With --target too, worker 0's relay owns the port
 * alone: target agents (slots) publish their allocation in their slot
 * (ri_target_slot.relay_*), their sessions' candidates become peers
 * (permission and channel each) of the agent's client, and every
 * datagram of a target session goes through the relay. Control writes the request before the dataplane
 * starts; worker 0 writes the figures (relaxed stores, one writer), final
 * after the dataplane has exited. */
#define RI_RELAY_LOCAL_PORT 51000u     /* the agents' TURN client port: 51000 + a draw per run */
#define RI_RELAY_LOCAL_PORTS 4096u
#define RI_RELAY_TIMELINE 600          /* allocations per second, for the first 600 s */
#define RI_RELAY_STR 128

/* The stages of an allocation, as the report names them. */
enum ri_relay_stage {
    RI_RELAY_ALLOCATE,
    RI_RELAY_PERMISSION,
    RI_RELAY_CHANNEL,
    RI_RELAY_REFRESH,
    RI_RELAY_CLOSE,
    RI_RELAY_STAGES
};

/* Why a stage failed: the TURN error code (RFC 8656 §19), or no answer. */
enum ri_relay_code {
    RI_RELAY_E401, RI_RELAY_E403, RI_RELAY_E437, RI_RELAY_E438, RI_RELAY_E441,
    RI_RELAY_E486, RI_RELAY_E508, RI_RELAY_EOTHER, RI_RELAY_ETIMEOUT,
    RI_RELAY_CODES
};

struct ri_relay {
    /* control -> dataplane, written before it starts */
    uint32_t on;                        /* 0: no relay, nothing below is used */
    uint32_t server_ip;                 /* IPv4, host byte order */
    uint16_t server_port;
    uint16_t local_port;                /* every agent's TURN client port (RI_RELAY_LOCAL_PORT + 0..4095) */
    uint32_t lifetime_s;                /* asked for in Allocate (0: the server's default) */
    char user[RI_RELAY_STR], pass[RI_RELAY_STR], realm[RI_RELAY_STR]; /* realm: "" unless given */
    char port[256];                     /* DPDK vdev string of the kernel-visible port */
    /* dataplane (worker 0) -> control, at any time; final after the dataplane exits */
    alignas(RI_ALIGN) uint8_t port_mac[6], server_mac[6]; /* server_mac: learnt by ARP (0 until then) */
    uint32_t reserved0;
    char port_desc[128];
    uint64_t attempted[RI_RELAY_STAGES], ok[RI_RELAY_STAGES], failed[RI_RELAY_STAGES];
    uint64_t fail_code[RI_RELAY_CODES]; /* failures of every stage by code */
    uint64_t agents_failed;             /* agents whose client failed (any stage) */
    uint64_t conns_failed_turn;         /* connections given up in stage turn (an agent's client failed) */
    uint64_t released, release_unanswered; /* allocations closed with LIFETIME 0: answered / not */
    uint64_t pkts_out, bytes_out;       /* the connections' datagrams towards the server (payload bytes) */
    uint64_t pkts_in, bytes_in;         /* datagrams from peers unwrapped (payload bytes) */
    uint64_t channel_data_out, send_ind_out, channel_data_in, data_ind_in;
    uint64_t requests, retransmits, integrity_failures; /* the clients' requests, summed at the end */
    uint64_t wrap_blocked;              /* datagrams dropped: no permission for the peer yet */
    uint64_t arp_requests, arp_replies; /* ARP for the server sent; agent addresses answered */
    uint64_t frames_foreign;            /* frames of the port that were neither ARP nor the server's */
    uint64_t frames_unknown;            /* datagrams from the server the client did not take */
    uint64_t t_start_ns, t_last_alloc_ns; /* first Allocate sent; last allocation granted (dataplane ns) */
    uint64_t t_first_pkt_ns, t_last_pkt_ns; /* first and last relayed datagram, either way */
    uint32_t alloc_per_s[RI_RELAY_TIMELINE]; /* allocations granted in second i after t_start_ns */
    alignas(RI_ALIGN) struct met_hist rtt;   /* TURN transactions agent -> server -> agent, not retransmitted (ns) */
    alignas(RI_ALIGN) struct met_hist alloc; /* first Allocate to the relayed address (the 401 challenge included, ns) */
    alignas(RI_ALIGN) uint64_t mem_bytes;    /* dataplane -> control: what dp_relay_init allocated (plan: dp_mem_relay) */
    /* TURN over TCP (transport=tcp, RI_VERSION 9): control -> dataplane */
    uint32_t transport;                 /* RI_RELAY_UDP or RI_RELAY_TCP */
    uint32_t reserved1;
    /* dataplane -> control: the agents' TCP connections to the server */
    uint64_t tcp_attempted, tcp_up, tcp_failed; /* SYN sent; established; given up (no SYN-ACK, or 8 timeouts) */
    uint64_t tcp_reset, tcp_peer_closed;        /* a RST from the server before our release; its FIN before ours */
    uint64_t tcp_closed, tcp_aborted;           /* closed with FINs both ways; reset by us at the end */
    uint64_t tcp_fin_reset;                     /* a RST from the server after our release or FIN (coturn closes so) */
    uint64_t tcp_segs_out, tcp_segs_in, tcp_retransmits, tcp_retx_segments; /* summed at the end */
    uint64_t tcp_bad_checksum, tcp_bad_segments, tcp_out_of_order, tcp_rst_out;
    uint64_t stream_malformed;          /* streams whose framing broke (the connection reset) */
    uint64_t tcp_blocked;               /* messages dropped: the connection's send ring was full */
    uint64_t tcp_fast_retransmits;      /* segments resent on the third duplicate ACK (summed at the end) */
};
#define RI_RELAY_UDP 0u
#define RI_RELAY_TCP 1u

/* Per-agent figures (RI_SEC_AGENT_STATS, RI_VERSION 10). Each worker owns
 * one block: a hop histogram of the messages it delivered, then one
 * ri_agent_stats per agent of the mesh (indexed by agent id: a worker
 * counts whatever agent it acts for). Plain stores by the block's worker
 * only; control reads the blocks after the workers stopped and sums them
 * over workers. Not part of snapshots. */
#define RI_HOP_BUCKETS 65u          /* hops 0 .. 63, [64]: 64 or more */
#define RI_AGENT_LAT_BUCKETS 16u    /* latency per source: bucket 0 < 2^13 ns, bucket k (1..14) */
#define RI_AGENT_LAT_SHIFT 12u      /* [2^(12+k), 2^(13+k)) ns, bucket 15 >= 2^27 ns (134 ms) */

struct ri_agent_stats {
    uint32_t sent;           /* messages generated with this agent as source */
    uint32_t delivered;      /* messages delivered to this agent (destination; echo: the round trip's end) */
    uint32_t delivered_from; /* messages with this agent as source delivered (anywhere) */
    uint32_t forwarded;      /* messages this agent relayed */
    uint32_t drop_relay;     /* dropped at this agent as relay: hop_limit, no_route */
    uint32_t drop_send;      /* dropped as this agent sent them (source or relay): no route at
                                the source, connection down, send buffer full */
    uint32_t conn_up;        /* connections of this agent that came up (both endpoints count) */
    uint32_t conn_failed;    /* connections of this agent given up (both endpoints count) */
    uint64_t dc_bytes_tx;    /* DataChannel message bytes this agent sent (all hops) */
    uint64_t dc_bytes_rx;    /* DataChannel message bytes this agent received (all hops) */
    uint32_t lat[RI_AGENT_LAT_BUCKETS]; /* latency of this source's delivered messages */
};
_Static_assert(sizeof(struct ri_agent_stats) == 112, "ri_agent_stats is 112 bytes");

static inline uint32_t ri_agent_lat_bucket(uint64_t ns)
{
    if (ns < (UINT64_C(1) << (RI_AGENT_LAT_SHIFT + 1)))
        return 0;
    uint32_t b = (uint32_t)(63 - __builtin_clzll(ns)) - RI_AGENT_LAT_SHIFT;
    return b < RI_AGENT_LAT_BUCKETS ? b : RI_AGENT_LAT_BUCKETS - 1;
}

/* Bytes of one worker's block (RI_ALIGN aligned). */
static inline uint64_t ri_agent_block_bytes(uint32_t n_agents)
{
    uint64_t b = RI_HOP_BUCKETS * sizeof(uint64_t) + (uint64_t)n_agents * sizeof(struct ri_agent_stats);
    return (b + RI_ALIGN - 1) / RI_ALIGN * RI_ALIGN;
}

/* Worker w's hop histogram and per-agent array in the image h. */
static inline uint64_t *ri_agent_hops(const struct ri_header *h, uint32_t n_agents, uint32_t w)
{
    return (uint64_t *)((char *)h + h->sec[RI_SEC_AGENT_STATS].offset + (uint64_t)w * ri_agent_block_bytes(n_agents));
}

static inline struct ri_agent_stats *ri_agent_stats_of(const struct ri_header *h, uint32_t n_agents, uint32_t w)
{
    return (struct ri_agent_stats *)(ri_agent_hops(h, n_agents, w) + RI_HOP_BUCKETS);
}

/* A worker's pointers into its block (NULL: not counted). */
struct ri_agent_view {
    struct ri_agent_stats *a;
    uint64_t *hops;
};

static inline void ri_agent_delivered(const struct ri_agent_view *v, uint32_t src, uint32_t dst, uint32_t hops,
                                      uint64_t ns, bool has_ns)
{
    if (!v || !v->a)
        return;
    v->a[dst].delivered++;
    v->a[src].delivered_from++;
    if (has_ns)
        v->a[src].lat[ri_agent_lat_bucket(ns)]++;
    v->hops[hops < RI_HOP_BUCKETS - 1 ? hops : RI_HOP_BUCKETS - 1]++;
}

/* Returns a pointer to section `id` of a mapped image. */
static inline void *ri_section(const struct ri_header *h, enum ri_section_id id)
{
    return (char *)h + h->sec[id].offset;
}

/* The read-only tables the dataplane reads at random, a few times per
 * message: the sections from AGENTS to ROUTES (topology, destinations,
 * next hops), laid out one after the other. Their span: *first, the
 * offset of AGENTS, and the bytes up to the end of ROUTES. */
static inline uint64_t ri_tables_span(const struct ri_header *h, uint64_t *first)
{
    *first = h->sec[RI_SEC_AGENTS].offset;
    return h->sec[RI_SEC_ROUTES].offset + h->sec[RI_SEC_ROUTES].size - *first;
}

/* A mapped image as its readers (swarmgen-dp, swarmgen-usrsctp) hold it:
 * one pointer per section. */
struct ri_view {
    struct ri_header *hdr;
    uint64_t size;
    const struct ri_config *cfg;
    const struct ri_agent *agents;
    const uint32_t *adj_off, *adj, *adj_edge;
    const struct ri_edge *edges;
    const uint32_t *dests;
    const int32_t *dest_index;
    const uint16_t *routes; /* agents .. routes: the dataplane points them at its copy */
    struct ri_command *cmd;
    struct ri_metrics *metrics;
    uint8_t (*fingerprints)[32];
};

/* Points every section of v at the image h of `size` bytes (ri_check()ed). */
static inline void ri_view_bind(struct ri_view *v, struct ri_header *h, uint64_t size)
{
    v->hdr = h;
    v->size = size;
    v->cfg = (const struct ri_config *)ri_section(h, RI_SEC_CONFIG);
    v->agents = (const struct ri_agent *)ri_section(h, RI_SEC_AGENTS);
    v->adj_off = (const uint32_t *)ri_section(h, RI_SEC_ADJ_OFF);
    v->adj = (const uint32_t *)ri_section(h, RI_SEC_ADJ);
    v->adj_edge = (const uint32_t *)ri_section(h, RI_SEC_ADJ_EDGE);
    v->edges = (const struct ri_edge *)ri_section(h, RI_SEC_EDGES);
    v->dests = (const uint32_t *)ri_section(h, RI_SEC_DESTS);
    v->dest_index = (const int32_t *)ri_section(h, RI_SEC_DEST_INDEX);
    v->routes = (const uint16_t *)ri_section(h, RI_SEC_ROUTES);
    v->cmd = (struct ri_command *)ri_section(h, RI_SEC_COMMAND);
    v->metrics = (struct ri_metrics *)ri_section(h, RI_SEC_METRICS);
    v->fingerprints = (uint8_t (*)[32])ri_section(h, RI_SEC_FINGERPRINTS);
}

/* The next-hop adjacency slot of `agent` towards `dst`, RI_ROUTE_NONE
 * where the table has none (dst no destination column, or unreachable). */
/* Where ri_next_hop reads the slot of `agent` towards `dst` (dst <
 * n_agents), NULL when dst has no destination column: for a caller that
 * prefetches a burst's entries before it reads them. */
static inline const uint16_t *ri_next_hop_entry(const struct ri_view *v, uint32_t agent, uint32_t dst)
{
    int32_t di = v->dest_index[dst];
    return di < 0 ? NULL : &v->routes[(size_t)agent * v->cfg->n_dests + (uint32_t)di];
}

static inline uint16_t ri_next_hop(const struct ri_view *v, uint32_t agent, uint32_t dst)
{
    const uint16_t *r = ri_next_hop_entry(v, agent, dst);
    return r ? *r : (uint16_t)RI_ROUTE_NONE;
}

/* Checks a mapped image of `len` bytes: magic, version, header and metrics
 * sizes, every section inside the mapping and aligned, and the section sizes
 * that follow from the config. Returns 0, -EBADMSG (not a run image),
 * -EPROTO (another version or layout, or a config value out of range: the
 * worker count, --dtls) or -ERANGE (a section out of bounds).
 * Pure; safe from any thread. */
static inline int ri_check(const void *map, uint64_t len)
{
    const struct ri_header *h = (const struct ri_header *)map;
    if (len < sizeof(*h) || __builtin_memcmp(h->magic, RI_MAGIC, 8) != 0)
        return -EBADMSG;
    if (h->version != RI_VERSION || h->header_size != sizeof(*h) ||
        h->n_sections != RI_SEC_COUNT || h->metrics_size != sizeof(struct ri_metrics))
        return -EPROTO;
    if (h->image_size > len)
        return -ERANGE;
    for (int i = 0; i < RI_SEC_COUNT; i++) {
        const struct ri_section *s = &h->sec[i];
        if (s->offset % RI_ALIGN || s->offset < sizeof(*h) || s->offset > h->image_size ||
            s->size > h->image_size - s->offset)
            return -ERANGE;
    }
    const struct ri_config *c = (const struct ri_config *)ri_section(h, RI_SEC_CONFIG);
    if (h->sec[RI_SEC_CONFIG].size < sizeof(*c))
        return -ERANGE;
    uint64_t n = c->n_agents, e = c->n_edges, d = c->n_dests;
    if (c->n_workers == 0 || c->n_workers > RI_MAX_WORKERS || d > n || e > UINT32_MAX)
        return -EPROTO;
    if (c->dtls_versions > RI_DTLS_AUTO || c->ext_dtls_versions > RI_DTLS_AUTO)
        return -EPROTO;
    if (h->sec[RI_SEC_AGENTS].size < n * sizeof(struct ri_agent) ||
        h->sec[RI_SEC_ADJ_OFF].size < (n + 1) * 4 || h->sec[RI_SEC_ADJ].size < 2 * e * 4 ||
        h->sec[RI_SEC_ADJ_EDGE].size < 2 * e * 4 ||
        h->sec[RI_SEC_EDGES].size < e * sizeof(struct ri_edge) ||
        h->sec[RI_SEC_DESTS].size < d * 4 || h->sec[RI_SEC_DEST_INDEX].size < n * 4 ||
        h->sec[RI_SEC_ROUTES].size < n * d * 2 ||
        h->sec[RI_SEC_COMMAND].size < sizeof(struct ri_command) ||
        h->sec[RI_SEC_METRICS].size < c->n_workers * sizeof(struct ri_metrics) ||
        h->sec[RI_SEC_EXTERNAL].size < sizeof(struct ri_external) || h->sec[RI_SEC_FINGERPRINTS].size < n * 32)
        return -ERANGE;
    const struct ri_target *t = (const struct ri_target *)ri_section(h, RI_SEC_TARGET);
    if (h->sec[RI_SEC_TARGET].size < sizeof(*t) ||
        h->sec[RI_SEC_TARGET].size < sizeof(*t) + (uint64_t)c->target_slots * sizeof(struct ri_target_slot) ||
        c->target_slots > RI_TARGET_MAX)
        return -ERANGE;
    if (h->sec[RI_SEC_RELAY].size < sizeof(struct ri_relay))
        return -ERANGE;
    if (h->sec[RI_SEC_AGENT_STATS].size < (uint64_t)c->n_workers * ri_agent_block_bytes(c->n_agents))
        return -ERANGE;
    return 0;
}

#define ri_load(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ri_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* Adds v to a counter of a METRICS block this thread alone writes: a
 * relaxed store, so control's concurrent reads never see a torn value. */
#define ri_add(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

/* Two sides: a message from `src` delivered to `dst` (an echo's round trip
 * back at `src`) after `ns` counts in its direction when it crossed. */
static inline void ri_record_direction(struct ri_metrics *m, const struct ri_config *c, uint32_t src,
                                       uint32_t dst, uint64_t ns)
{
    if (!c->sides || ((src ^ dst) & 1) == 0)
        return;
    met_hist_record(&m->dir_latency[src & 1], ns);
    ri_add(m->live.dir_msgs_delivered[src & 1], 1);
}
/* Sets a gauge of such a block (a high-water mark, a current count). */
#define ri_set(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

#endif
