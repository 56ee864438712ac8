/* SPDX-License-Identifier: MIT */
/*
 * ice: the ICE agent of one peer connection (RFC 8445), one component, one
 * local candidate, in two modes:
 *
 * - single pair (cfg.n_remote == 0: the simulated mesh, and an agent in
 *   front of an outside ICE-lite peer): the one pair is the configured
 *   `peer`. The controlling agent sends Binding requests with
 *   USE-CANDIDATE (aggressive nomination: there is one pair) and
 *   ICE-CONTROLLING, signed with the peer's password, retransmitted from
 *   `now`; the controlled agent (or an ICE-lite answerer) answers with
 *   XOR-MAPPED-ADDRESS signed with its own password.
 * - full (cfg.n_remote > 0: a client of real servers, libnice, WHIP
 *   servers, ICE-lite SFUs): our candidate paired with each remote
 *   candidate, pairs ordered by pair priority (§6.1.2.3), one new check
 *   per Ta (§6.1.4.2; triggered checks first), each check retransmitted on
 *   its own schedule, triggered checks on the peer's requests,
 *   peer-reflexive remote candidates learned from them (§7.3.1.3),
 *   regular nomination when controlling (the first valid pair is checked
 *   again with USE-CANDIDATE; its answer selects it), the peer's
 *   nomination of a valid pair accepted when controlled. docs/ice.md.
 *
 * In both modes role conflicts are resolved by tie-breaker (487), consent
 * freshness (RFC 7675) runs on the selected pair when cfg.consent, and an
 * ICE restart (§9) starts over with new credentials. Sans-I/O: bytes, the
 * source address and `now` (ns) in; bytes, their destination, events and
 * the next deadline out; no clock, no allocation, no global state (the
 * random draws come from a generator seeded by the tie-breaker). One agent
 * per thread at a time.
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
#define ICE_MAX_REMOTE 8        /* remote candidates a configuration or a restart may give */
#define ICE_MAX_PAIRS 10        /* pairs: the remote candidates and peer-reflexive ones learned */
#define ICE_TA_NS 50000000ull   /* Ta, the pacing of new checks, when cfg.ta_ns is 0 */
#define ICE_CONSENT_NS 5000000000ull          /* consent check interval, drawn in +-20 % (RFC 7675 §5.1) */
#define ICE_CONSENT_TIMEOUT_NS 30000000000ull /* consent lost after this long unanswered */

enum ice_role { ICE_CONTROLLED = 0, ICE_CONTROLLING = 1 };

enum ice_state { ICE_NEW, ICE_CHECKING, ICE_CONNECTED, ICE_FAILED };

enum ice_event_type {
    ICE_EV_NONE,
    ICE_EV_CONNECTED,    /* a pair is checked and nominated: ice_selected tells which (once; again after a restart) */
    ICE_EV_FAILED,       /* single pair: the check went unanswered, or the peer answered with an error;
                          * full: every pair failed (once) */
    ICE_EV_ROLE_CHANGED, /* a role conflict (487) switched our role */
    ICE_EV_CONSENT_LOST, /* cfg.consent: no authenticated answer to our consent checks on the selected
                          * pair for ICE_CONSENT_TIMEOUT_NS: stop sending to it (once; until a restart) */
};

/* Candidate types (RFC 8445 §5.1.2.2 type preferences 126, 100, 110, 0). */
enum ice_cand_type { ICE_CAND_HOST = 0, ICE_CAND_SRFLX = 1, ICE_CAND_PRFLX = 2, ICE_CAND_RELAY = 3 };

/* A remote candidate (of our one component, UDP): its transport address,
 * priority (a=candidate) and type (enum ice_cand_type). */
struct ice_cand {
    struct stun_addr addr;
    uint32_t priority;
    uint8_t type;
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
    struct stun_addr peer;     /* single pair: the peer's address, echoed as XOR-MAPPED-ADDRESS
                                  when the source of a request is not given */
    /* full ICE (appended: the fields above keep their positions) */
    const struct ice_cand *remote; /* n_remote remote candidates, copied by ice_init; NULL/0: single pair */
    uint32_t n_remote;             /* at most ICE_MAX_REMOTE */
    uint8_t local_type;            /* our candidate's type (enum ice_cand_type); its priority is above */
    uint64_t ta_ns;                /* full: pacing of new checks; 0: ICE_TA_NS */
    bool consent;                  /* RFC 7675 consent checks on the selected pair once connected */
};

struct ice_counters {
    uint32_t requests_sent, retransmits, responses_sent, responses_received;
    uint32_t role_conflicts, integrity_failures, malformed, ignored;
    /* full ICE and consent */
    uint32_t triggered;          /* triggered checks queued on the peer's requests */
    uint32_t prflx;              /* peer-reflexive remote candidates learned */
    uint32_t pairs_failed;       /* checks that failed (unanswered, an error, not symmetric) */
    uint32_t consent_sent, consent_answered; /* consent checks (RFC 7675) and their authenticated answers */
    uint32_t restarts;           /* ice_restart calls taken */
    uint32_t indications;        /* Binding indications (keepalives) taken quietly */
};

/* One agent: ICE_AGENT_SIZE bytes of caller memory (by value in the
 * caller's struct, or anywhere 8-byte aligned), its layout private to
 * ice.c; read it through the accessors below. */
#define ICE_AGENT_SIZE 1128
struct ice_agent {
    _Alignas(8) unsigned char opaque[ICE_AGENT_SIZE];
};

/* Sets up an agent; the strings and cfg->remote are copied (cfg need not
 * outlive the call). Returns 0 or -EINVAL (a string too long, lite with
 * the controlling role, lite with remote candidates, or more than
 * ICE_MAX_REMOTE of them). */
int ice_init(struct ice_agent *a, const struct ice_config *cfg);

/* Starts checking at `now`: a single-pair controlling agent sends its
 * request; a full agent (either role) its first check, then one per Ta. */
void ice_start(struct ice_agent *a, uint64_t now);

/* Hands in one datagram that demultiplexed as STUN (RFC 7983: first byte
 * 0..3). Returns (engine.h) ENGINE_IN_ACCEPTED when it was a request or
 * answer of ours (an answer to a request is then queued for
 * ice_poll_transmit); ENGINE_IN_IGNORED when well formed but not for this
 * agent (another USERNAME, a late answer to an older transaction or one
 * after checking ended, not a Binding message: counted in ignored); ENGINE_IN_MALFORMED when it does
 * not parse, its FINGERPRINT or MESSAGE-INTEGRITY does not verify, or it
 * has an unknown comprehension-required attribute (counted in malformed
 * or integrity_failures). Never ENGINE_IN_FATAL: only checks timing out
 * or answered with an error fail the agent. The source is taken as
 * cfg.peer (ice_handle_input_from gives it). */
enum engine_input ice_handle_input(struct ice_agent *a, const uint8_t *buf, size_t len, uint64_t now);

/* ice_handle_input with the datagram's source address `from` (NULL: not
 * known, taken as cfg.peer): an answer to a request goes back to `from`
 * and echoes it (XOR-MAPPED-ADDRESS); a full agent pairs it with a remote
 * candidate (or learns a peer-reflexive one, counted in prflx) and
 * queues a triggered check; an answer to our check counts only from the
 * address the check went to (RFC 8445 §7.2.5.2.1: otherwise the check
 * fails). Binding indications (keepalives) are ENGINE_IN_ACCEPTED,
 * counted in indications. Returns as ice_handle_input. */
enum engine_input ice_handle_input_from(struct ice_agent *a, const uint8_t *buf, size_t len,
                                        const struct stun_addr *from, uint64_t now);

/* Runs the deadlines: a request due again is queued for
 * ice_poll_transmit; once ICE_MAX_TRIES went unanswered the check fails,
 * and the agent with it when it was the last one (ICE_EV_FAILED); a full
 * agent's next check when Ta has passed; a consent check when due, and
 * ICE_EV_CONSENT_LOST when the last authenticated answer is
 * ICE_CONSENT_TIMEOUT_NS old. A `now` older than the latest seen is
 * ignored. */
void ice_handle_timeout(struct ice_agent *a, uint64_t now);

/* Writes the next datagram to send (an answer, or our request when it is
 * due) into buf; returns its length, or 0 when nothing is due or it does
 * not fit in cap (it stays queued; 256 bytes always fit). */
size_t ice_poll_transmit(struct ice_agent *a, uint8_t *buf, size_t cap, uint64_t now);

/* ice_poll_transmit that also says where the datagram goes (*to, when to
 * is not NULL and a datagram was written): an answer to the source of its
 * request, a check to its pair's remote candidate, a consent check to the
 * selected pair, a single-pair request to cfg.peer. Returns as
 * ice_poll_transmit. */
size_t ice_poll_transmit_to(struct ice_agent *a, uint8_t *buf, size_t cap, uint64_t now, struct stun_addr *to);

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

/* The remote address of the selected pair into *out (cfg.peer for a
 * single-pair agent). Returns true once a pair was selected; during an ICE
 * restart the previous pair stays selected until a new one is (RFC 8445
 * §9: media goes on over it). */
bool ice_selected(const struct ice_agent *a, struct stun_addr *out);

/* ICE restart (RFC 8445 §9): new credentials on both sides (copied) and
 * the remote candidates (n of them, at most ICE_MAX_REMOTE; 0: single
 * pair to cfg.peer / the latest ice_set_peer); the pairs are formed
 * again, the agent checks again from `now` with the role it has (a
 * controlling agent sends its first check at once), ICE_EV_CONNECTED
 * follows again when a pair is selected, consent starts again with it.
 * Counted in restarts. Returns 0 or -EINVAL (a string too long, too many
 * candidates; the agent is then unchanged). */
int ice_restart(struct ice_agent *a, const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
                const char *remote_pwd, const struct ice_cand *remote, uint32_t n, uint64_t now);

#endif
