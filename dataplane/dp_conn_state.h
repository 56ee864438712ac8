/* SPDX-License-Identifier: MIT */
/*
 * dp_conn_state: the layout of one dataplane connection, its timing wheel
 * links and its media, apart from dp_conn.h so that code without DPDK (the
 * control process's memory plan, dp_mem.h) can size them. No DPDK type
 * here.
 */
#ifndef SWARMGEN_DP_CONN_STATE_H
#define SWARMGEN_DP_CONN_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "pc.h"
#include "rtcp.h"
#include "rtp_stream.h"
#include "srtp_session.h"

/* 65,536 slots of 1 ms: a turn of 65.5 s, so that a connection waiting
 * on its 30-s heartbeat is filed once, not re-filed every turn */
#define DP_CONN_WHEEL_SLOTS 65536u
#define DP_CONN_TICK_NS 1000000ull
#define DP_CONN_NONE UINT32_MAX

/* DP_CONN_ELSEWHERE: neither endpoint is this shard's (--shard) */
enum dp_conn_state { DP_CONN_QUEUED, DP_CONN_SETUP, DP_CONN_UP, DP_CONN_GIVEN_UP, DP_CONN_CLOSED, DP_CONN_ELSEWHERE };

/* up_mask bits 4 and 5: endpoint 0 (agent a) and 1 (agent b) are simulated
 * here; with --shard an endpoint may be another shard's */
#define DP_CONN_HERE_SHIFT 4

/* The worker's SCTP counters already folded into the metrics. */
struct dp_conn_seen {
    uint64_t retransmissions, sacks, forward_tsns, skipped, discarded;
    uint64_t key_updates_out, key_updates_in; /* of the endpoints' pc_counters (--dtls-key-update) */
};

/* A connection's media with --media (dp_media.c drives it). */
/* What one endpoint sends and receives. */
struct dp_media_end {
    struct rtp_stream tx;
    struct srtps_session srtp;
    struct rtcp_session rtcp;
    uint64_t next_rtcp;        /* ns */
    uint64_t rng;
    uint32_t clock_rate;
    uint32_t reported_lost;    /* the peer's cumulative loss of our stream, last folded */
    uint32_t reported_ext;     /* the peer's extended highest sequence of it, last folded */
    bool have_report;
    uint64_t dropped;          /* received while stopped, or not an SRTP/SRTCP size */
    /* --srtp-rekey (dp_media.c): the master keys of the newest generations (chained by
     * srtps_next_master), the generation we send under, the newest inbound one installed,
     * the inbound one current, when we switch next and when the previous inbound key's
     * grace window ends (0: none open) */
    uint8_t tx_master[SRTPS_MASTER_MAX], rx_master[SRTPS_MASTER_MAX];
    uint32_t tx_gen, rx_gen, rx_cur_gen;
    uint64_t next_rekey, grace_end; /* ns */
};

struct dp_media {
    struct dp_media_end end[2];
    bool on;
    bool keyed;                /* dp_media_key succeeded for this attempt */
};

struct dp_conn {
    struct pc ep[2];
    uint32_t edge;
    uint8_t state;          /* enum dp_conn_state */
    uint8_t attempts;       /* started so far */
    uint8_t up_mask;        /* bit i: endpoint i reported its channel open; bit 4 + i: it is here */
    uint8_t dirty;          /* bit i: endpoint i was touched this pass (on the dirty list when not 0) */
    uint64_t t_attempt;     /* ns, start of the current attempt */
    uint64_t ep_deadline[2]; /* each endpoint's next deadline when it was last flushed */
    struct dp_media *media; /* NULL without --media */
    uint8_t attempt_base;   /* --consent: attempts before the current set-up (a re-establishment's) */
    uint8_t reconnecting;   /* --consent, --churn: 1 while a closed connection is set up again */
    uint8_t churn;          /* --churn: DP_CHURN_* while the connection is replaced */
    uint8_t churn_closed;   /* --churn: bit i: endpoint i saw the association end (PC_EV_CLOSED) */
    uint64_t t_churn;       /* --churn: ns, when the close started */
    uint64_t t_churn_end;   /* --churn, DP_CHURN_LINGER: ns, when the endpoints go */
};

/* --churn: a connection closed on purpose and set up again. */
enum dp_churn {
    DP_CHURN_NONE,
    DP_CHURN_CLOSING,  /* SCTP SHUTDOWN under way (what SCTP holds is delivered first) */
    DP_CHURN_LINGER,   /* both associations ended, close_notify sent both ways; released at t_churn */
    DP_CHURN_SETUP,    /* queued or in set-up again; its messages wait until it is up */
};
#define DP_CHURN_LINGER_NS 2000000ull      /* close_notify's way to the peer before the endpoints go */
#define DP_CHURN_TIMEOUT_NS 10000000000ull /* a shutdown not done by then: released anyway */

/* --churn: a message routed onto a connection being replaced, waiting. */
struct dp_churn_held {
    uint32_t from, edge, len; /* the message is the same index's slot of dp_conns.held_buf */
};

/* A received agent message held while the rest of its burst is taken in
 * (dp_conns_burst_end forwards them stage by stage). 256 bytes. */
#define DP_FWD_N 64          /* messages held at most; one more forwards them */
#define DP_FWD_MSG_MAX 244   /* larger messages go on at once */
struct dp_fwd {
    uint32_t receiver, edge, len;
    uint8_t msg[DP_FWD_MSG_MAX];
};

/* A connection's place in the timing wheel, apart from the connection so
 * that linking and unlinking touch this small array, not the neighbours'
 * connection structs. */
struct dp_conn_wheel {
    uint64_t deadline;      /* ns, filed under it; UINT64_MAX none */
    uint32_t prev, next, slot;
};

#endif
