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

/* One agent: ICE_AGENT_SIZE bytes of caller memory (by value in the
 * caller's struct, or anywhere 8-byte aligned), its layout private to
 * ice.c; read it through the accessors below. */
#define ICE_AGENT_SIZE 608
struct ice_agent {
    _Alignas(8) unsigned char opaque[ICE_AGENT_SIZE];
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
 * Binding message: counted in ignored); ENGINE_IN_MALFORMED when it does
 * not parse, its FINGERPRINT or MESSAGE-INTEGRITY does not verify, or it
 * has an unknown comprehension-required attribute (counted in malformed
 * or integrity_failures). Never ENGINE_IN_FATAL: only the check timing
 * out fails the agent. */
enum engine_input ice_handle_input(struct ice_agent *a, const uint8_t *buf, size_t len, uint64_t now);

/* Runs the retransmission deadline: a request due again is queued for
 * ice_poll_transmit; once ICE_MAX_TRIES went unanswered the agent fails
 * (ICE_EV_FAILED). A `now` older than the latest seen is ignored. */
void ice_handle_timeout(struct ice_agent *a, uint64_t now);

/* Writes the next datagram to send (an answer, or our request when it is
 * due) into buf; returns its length, or 0 when nothing is due or it does
 * not fit in cap (it stays queued; 256 bytes always fit). */
size_t ice_poll_transmit(struct ice_agent *a, uint8_t *buf, size_t cap, uint64_t now);

/* The next event into *ev; returns its type (ICE_EV_NONE when none). */
enum ice_event_type ice_poll_event(struct ice_agent *a, struct ice_ev *ev);

/* The next deadline (ns): the latest `now` seen while a datagram is
 * due, UINT64_MAX when none. */
uint64_t ice_next_timeout(const struct ice_agent *a);

/* ---- state ---------------------------------------------------------- */

/* Where the check is (ICE_NEW before ice_start). */
enum ice_state ice_state(const struct ice_agent *a);

/* The role the agent has now (a role conflict may have switched it). */
enum ice_role ice_role(const struct ice_agent *a);

/* The agent's counters (a pointer into a, valid as long as a). */
const struct ice_counters *ice_counters(const struct ice_agent *a);

/* Replaces the peer's address our answers echo (XOR-MAPPED-ADDRESS): for
 * a peer whose checks come from another address than the configured one. */
void ice_set_peer(struct ice_agent *a, const struct stun_addr *peer);

#endif
