/* SPDX-License-Identifier: MIT */
/*
 * dp_external_internal: the state of dp_external.c, for its tests
 * (tests/dataplane/test_external.c) and nothing else.
 */
#ifndef SWARMGEN_DP_EXTERNAL_INTERNAL_H
#define SWARMGEN_DP_EXTERNAL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_external.h"
#include "pc.h"
#include "run_image.h"

#define EXT_STREAMS 16
#define EXT_BURST   32
#define EXT_TX      256
#define EXT_RX_DESC 1024
#define EXT_TX_DESC 1024

struct ext_mark {
    uint64_t end; /* sent_bytes once this echo was queued */
    uint64_t t;   /* ns, when its message was read */
};

struct ext_session {
    uint32_t seq; /* request being served, 0 none */
    bool running, have_pc, up;
    bool closed_by_peer;
    bool have_peer;     /* the peer's address below was adopted from an authenticated check */
    uint8_t peer_mac[6];
    rte_be32_t peer_ip; /* as on the wire */
    rte_be16_t peer_port;
    uint32_t agent, agent_ip;
    uint16_t port;
    bool dtls_client;
    char lufrag[36], lpwd[68], rufrag[36], rpwd[68];
    uint8_t rfp[32];
    uint64_t t_req, t_first; /* ns */
    uint64_t t_last_in;      /* ns: the last datagram from the peer that reached the engines */
    struct pc pc;
    struct pc_setup pc_su; /* kept for the session: the browser's consent checks (RFC 7675) need ICE */
    struct dtls_record_keys pc_keys;
    struct pc_counters pc_counters;
    void *sctp_mem;
    uint8_t *msg; /* a message read and not yet echoed (pending_len bytes) when pending */
    bool pending;
    bool pending_binary; /* its type, which the echo keeps (string or binary) */
    uint32_t pending_len; /* 0: an empty message (RFC 8831: PPID 56 or 57) */
    uint64_t pending_t;
    uint64_t sent_bytes; /* echoed bytes handed to SCTP */
    struct ext_mark marks[DP_EXT_MARKS];
    uint32_t m_head, m_n;
    uint64_t route_seq;
};

struct dp_external {
    struct ri_external *x;
    uint32_t n_slots;
    uint16_t port_id;
    bool port_started;
    char vdev_name[64];
    struct rte_ether_addr mac;
    struct dtls_cert cert;
    bool have_cert;
    struct cp cp; /* crypto provider of worker 0's sessions */
    struct dtls_hs_pool hs;
    void *pool_mem;
    struct sctp_pool *pool;
    struct ext_session *sess; /* n_slots */
    uint64_t tsc0;
    uint32_t passes;
    uint16_t ip_id;
    uint32_t n_tx;
    struct rte_mbuf *tx[EXT_TX];
    uint8_t dgram[2048];
    struct dp_target *target; /* target mode's sessions on this port (dp_target.h), NULL none */
};

/* Shared with dp_target.c, the other user of the port (worker 0): */

/* The engines' ns of a TSC reading (AGENT_NS_BASE at init). */
uint64_t dp_ext_ns(const struct dp_ctx *ctx, const struct dp_external *e, uint64_t tsc);

/* Queues frame m for the port (sent at the end of dp_external_poll, or
 * at once when the queue is full). Takes m. */
void dp_ext_tx(struct dp_external *e, struct dp_worker *wk, struct rte_mbuf *m);

/* Sends what is queued. */
void dp_ext_flush(struct dp_external *e, struct dp_worker *wk);

/* The stage a peer connection failed in, or is in (ri_stage). */
enum ri_stage dp_ext_stage_of(const struct pc *p);

#endif
