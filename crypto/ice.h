/* SPDX-License-Identifier: MIT */
/*
 * ice: the ICE connectivity check of one peer connection (RFC 8445), as two
 * simulated agents (or an agent and an outside ICE-lite peer) run it over
 * their single candidate pair (one UDP 5-tuple, host candidates, BUNDLE).
 *
 * The controlling agent sends Binding requests with USE-CANDIDATE
 * (aggressive nomination: there is one pair) and ICE-CONTROLLING, signed
 * with the peer's password, retransmitted from `now`; the controlled agent
 * (or an ICE-lite answerer) answers with XOR-MAPPED-ADDRESS signed with its
 * own password. Role conflicts are resolved by tie-breaker (487). Sans-I/O:
 * bytes and `now` (ns) in; bytes, events and the next deadline out; no
 * clock, no allocation, no global state. One agent per thread at a time.
 */
#ifndef SWARMGEN_CRYPTO_ICE_H
#define SWARMGEN_CRYPTO_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "stun.h"

#define ICE_UFRAG_MAX 32
#define ICE_PWD_MAX 64
#define ICE_RTO_NS 100000000ull /* first retransmission after 100 ms, doubling */
#define ICE_MAX_TRIES 7         /* requests before the check fails */

enum ice_role { ICE_CONTROLLED = 0, ICE_CONTROLLING = 1 };

enum ice_state { ICE_NEW, ICE_CHECKING, ICE_CONNECTED, ICE_FAILED };

enum ice_event_type {
    ICE_EV_NONE,
    ICE_EV_CONNECTED,    /* the pair is checked and nominated (once) */
    ICE_EV_FAILED,       /* the last check went unanswered, or the peer answered with an error (once) */
    ICE_EV_ROLE_CHANGED, /* a role conflict (487) switched our role */
};

struct ice_ev {
    enum ice_event_type type;
    enum ice_role role; /* the role the agent has now */
};

struct ice_config {
    enum ice_role role;
    bool lite;                 /* answer only (an ICE-lite endpoint); implies controlled */
    uint64_t tiebreaker;
    uint32_t priority;         /* of our candidate */
    const char *local_ufrag, *local_pwd, *remote_ufrag, *remote_pwd;
    struct stun_addr peer;     /* the peer's address, echoed as XOR-MAPPED-ADDRESS */
};

struct ice_counters {
    uint32_t requests_sent, retransmits, responses_sent, responses_received;
    uint32_t role_conflicts, integrity_failures, malformed, ignored;
};

struct ice_agent {
    enum ice_role role;
    enum ice_state state;
    bool lite, nominated;
    uint64_t tiebreaker;
    uint32_t priority;
    char local_ufrag[ICE_UFRAG_MAX + 1], local_pwd[ICE_PWD_MAX + 1];
    char remote_ufrag[ICE_UFRAG_MAX + 1], remote_pwd[ICE_PWD_MAX + 1];
    struct stun_addr peer;
    uint8_t tid[12];           /* of the outstanding request */
    uint64_t tid_seq;          /* source of transaction ids (no RNG needed) */
    uint32_t tries;
    uint64_t next_send;        /* deadline of the next request, 0 none */
    uint64_t rto;
    uint64_t last_now;
    uint8_t pending[256];      /* one answer to transmit */
    uint16_t pending_len;
    bool send_request;         /* a request is due */
    enum ice_event_type events[4];
    uint8_t n_events;
    struct ice_counters c;
};

/* Sets up an agent; the strings are copied. Returns 0 or -EINVAL (a string
 * too long, or lite with the controlling role). */
int ice_init(struct ice_agent *a, const struct ice_config *cfg);

/* Starts checking at `now` (controlling agents send their first request). */
void ice_start(struct ice_agent *a, uint64_t now);

/* Hands in one datagram that demultiplexed as STUN (RFC 7983: first byte
 * 0..3). Returns (engine.h) ENGINE_IN_ACCEPTED when it was a request or
 * answer of ours (an answer to a request is then queued for
 * ice_poll_transmit); ENGINE_IN_IGNORED when well formed but not for this
 * agent (another USERNAME, a late answer to an older transaction, not a
 * Binding message: counted in c.ignored); ENGINE_IN_MALFORMED when it does
 * not parse, its FINGERPRINT or MESSAGE-INTEGRITY does not verify, or it
 * has an unknown comprehension-required attribute (counted in c.malformed
 * or c.integrity_failures). Never ENGINE_IN_FATAL: only the check timing
 * out fails the agent. */
enum engine_input ice_handle_input(struct ice_agent *a, const uint8_t *buf, size_t len, uint64_t now);

/* Drives retransmission. */
void ice_handle_timeout(struct ice_agent *a, uint64_t now);

/* Writes the next datagram to send (an answer, or our request when it is
 * due) into buf; returns its length, or 0 when nothing is due or it does
 * not fit in cap (it stays queued; 256 bytes always fit). */
size_t ice_poll_transmit(struct ice_agent *a, uint8_t *buf, size_t cap, uint64_t now);

/* The next event into *ev; returns its type (ICE_EV_NONE when none). */
enum ice_event_type ice_poll_event(struct ice_agent *a, struct ice_ev *ev);

/* The next deadline (ns), UINT64_MAX when none. */
uint64_t ice_next_timeout(const struct ice_agent *a);

#endif
