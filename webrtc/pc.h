/* SPDX-License-Identifier: MIT */
/*
 * pc: one endpoint of a WebRTC peer connection on one UDP 5-tuple, the
 * engines held together: ICE connectivity check and nomination → our DTLS
 * 1.2 handshake (dtls.h, in a slot borrowed from a capped pool, writing
 * its records through this connection's record layer) → our DTLS record
 * layer → SCTP association (RFC 8261: SCTP packets inside DTLS records) →
 * DataChannel by DCEP. Datagrams in are demultiplexed on their first byte
 * (RFC 7983: 0–3 STUN, 20–63 DTLS, 128–191 RTP/RTCP).
 *
 * Sans-I/O like the engines it holds: datagrams and `now` in, datagrams,
 * events and the next deadline out; no DPDK, no clock, no allocation after
 * pc_init (the SCTP association's memory, its buffer pool, the
 * handshake slots and the crypto provider come from the caller). While a
 * handshake runs the struct must not move (the handshake holds a pointer
 * to its record layer). No DPDK: swarmgen-dp runs both endpoints of an
 * edge on the lcore that owns it, external sessions and tests use it too.
 * One endpoint is used by one thread at a time (with its pools).
 */
#ifndef SWARMGEN_WEBRTC_PC_H
#define SWARMGEN_WEBRTC_PC_H

#include <stdbool.h>
#include <stdint.h>

#include "dtls.h"
#include "engine.h"
#include "ice.h"
#include "sctp.h"
#include "srtp_session.h"
#include "stun.h"

/* set-up stages, in order; a connection fails in the stage it was in */
enum pc_stage { PC_ICE, PC_DTLS_WAIT, PC_DTLS, PC_SCTP, PC_DC, PC_UP, PC_FAILED };

/* why a connection failed, per stage */
enum pc_fail { PC_FAIL_NONE, PC_FAIL_ICE, PC_FAIL_DTLS, PC_FAIL_SCTP, PC_FAIL_DC };

enum pc_event_type {
    PC_EV_NONE,
    PC_EV_UP,      /* the DataChannel is open: pc_send works (once) */
    PC_EV_MESSAGE, /* a message from the peer's DataChannel in ev.buf, ev.len bytes */
    PC_EV_FAILED,  /* set-up failed (once): ev.fail says in which stage */
    PC_EV_CLOSED,  /* the peer's close_notify or fatal alert after the handshake, or the SCTP
                    * association down (ABORT, shutdown) after PC_EV_UP */
    PC_EV_CHANNEL_CLOSED, /* the DataChannel of PC_EV_UP is closed (its streams reset both ways,
                           * RFC 8831 §6.7, by either side): pc_send fails from then on, the
                           * association still runs (once) */
    PC_EV_CONSENT_LOST,   /* cfg.consent: the peer stopped answering our consent checks for 30 s
                           * (RFC 7675): stop sending, end the session (pc_close, pc_free) (once) */
};

struct pc_ev {
    /* set by the caller, kept by pc_poll_event: where a message is copied */
    uint8_t *buf;
    size_t cap;              /* >= the SCTP max message (256 KiB), or messages are dropped */
    /* filled by pc_poll_event */
    enum pc_event_type type;
    uint32_t len;            /* PC_EV_MESSAGE: bytes in buf (0: an empty message) */
    bool binary;             /* PC_EV_MESSAGE: sent as binary (PPID 53/57, or a PPID that is
                                not a string's); false: a string (PPID 51/56) */
    enum pc_fail fail;       /* PC_EV_FAILED: the stage it failed in */
};

enum pc_dtls_role { PC_DTLS_AUTO, PC_DTLS_CLIENT, PC_DTLS_SERVER };

struct pc_config {
    bool controlling;              /* ICE controlling; by default also DTLS client (setup:active) and channel opener */
    enum pc_dtls_role dtls_role; /* AUTO: client when controlling (SDP setup decides against other stacks) */
    bool wait_for_channel;         /* never open the DataChannel: the peer does */
    const char *local_ufrag, *local_pwd, *remote_ufrag, *remote_pwd;
    struct stun_addr peer;         /* the peer's transport address */
    const struct dtls_cert *cert;  /* ours (the agent's), must outlive the connection */
    const uint8_t *peer_fingerprint;
    const struct cp *cp;           /* crypto provider (one per lcore) */
    struct dtls_hs_pool *hs;       /* handshake slots (shared per lcore) */
    const uint8_t *cookie_secret;  /* DTLS server: HelloVerifyRequest cookies with this secret; NULL none (behind ICE, as libwebrtc) */
    uint8_t dtls_versions;         /* DTLS versions offered (client) or accepted (server): enum dtls_version_bit,
                                      passed to dtls_config.versions; 0: 1.2 only (that field's default) */
    void *sctp_mem;                /* pc_sctp_size(cfg) bytes, 64-byte aligned */
    struct sctp_pool *sctp_pool;   /* shared per lcore */
    uint16_t n_streams;            /* default 16 */
    uint32_t sctp_max_buffers;     /* the association's share of sctp_pool for received data
                                      (sctp_config.max_buffers); 0 none */
    struct sctp_counters *sctp_counters; /* NULL: the association counts in its own memory; else into this
                                            block, which many associations of one thread may share (sums) */
    int32_t heartbeat_ms;          /* SCTP idle heartbeat interval: 0 the default (30 s, as browsers'
                                      stacks); negative none */
    const char *label;             /* of the DataChannel the controlling side opens */
    enum sctp_dc_type dc_type;
    uint32_t dc_reliability;
    uint64_t seed;                 /* the ICE tie-breaker (seed | 1) and transaction ids; the SCTP secrets too
                                      unless sctp_seed is set. The mesh passes one derived from the run seed
                                      (reproducible runs); external sessions one from cp->random */
    uint64_t sctp_seed;            /* SCTP verification tags, initial TSNs and cookie key; 0: seed * 3 + 1.
                                      Independent of seed when set, so that the tie-breaker a peer sees on
                                      the wire tells nothing about them */
    char *keylog;                  /* when not NULL: DTLS_KEYLOG_MAX bytes where the NSS key log of the handshake
                                      is written: DTLS 1.2's line at its end, 1.3's five lines as it goes */
    struct pc_setup *setup;        /* the set-up state: caller memory until pc_release_setup (required) */
    struct dtls_record_keys *rec_keys; /* the record layer's key area, cleared (dtls_record.h; required):
                                          the two ends of one connection in one process may share one, the
                                          second end's handshake then checks its keys against the first's */
    struct pc_counters *counters;  /* where the endpoint counts, zeroed by the caller (required); the
                                      endpoints of one thread may share a block: its fields then sum */
    /* full ICE (a client of real servers: docs/ice.md). Without remote candidates the one pair is
     * `peer` (the mesh's way, unchanged) */
    const struct ice_cand *remote_cands; /* the peer's candidates, copied by pc_init; NULL none */
    uint32_t n_remote_cands;       /* at most ICE_MAX_REMOTE; > 0: full ICE agent, paced checks, regular
                                      nomination when controlling; `peer` then only addresses DTLS
                                      before a pair is selected */
    bool consent;                  /* RFC 7675 consent checks once ICE is connected: needs the set-up
                                      state for the endpoint's life (no pc_release_setup);
                                      PC_EV_CONSENT_LOST when the peer stops answering */
    uint64_t ice_ta_ns;            /* full ICE pacing (Ta); 0: 50 ms */
    bool dtls_keep;                /* DTLS 1.3: keep the handshake endpoint (its cfg.hs slot, 4 KiB) for the
                                      connection's life, so that KeyUpdates are taken and sent (docs/dtls.md);
                                      without it the slot goes back after the peer's first application
                                      record and a peer's KeyUpdate is dropped. Ignored for 1.2 */
    uint64_t dtls_key_update_after; /* with dtls_keep: dtls_config.key_update_after (0 the suite's default) */
};

struct pc_counters {
    uint64_t datagrams_in, datagrams_out, stun_in, dtls_in, rtp_in, unknown_in;
    uint64_t records_dropped, hs_slot_waits;
    uint64_t stun_dropped;         /* STUN after pc_release_setup: ICE has ended */
    struct dtls_record_counters record; /* the record layer's */
    /* DTLS 1.3 with dtls_keep: the endpoint's KeyUpdates (dtls_counters'
     * key_updates_out: ours acknowledged; key_updates_in: the peer's taken),
     * summed here so that they outlive the handshake slot */
    uint64_t key_updates_out, key_updates_in;
};

/* One endpoint: PC_SIZE bytes of caller memory (two cache lines), its
 * layout private (webrtc/pc.c): embed it by value (the dataplane keeps its
 * connections in one preallocated array) or place it anywhere 64-byte
 * aligned; pc_init lays it out. It holds what an established DataChannel
 * touches: the DTLS record layer's sequence and replay state (the first
 * line), the stage, and pointers to the caller's memory for the rest: the
 * SCTP association (cfg.sctp_mem), the record layer's keys (cfg.rec_keys,
 * which the other end of the connection may share), the counters
 * (cfg.counters, which many endpoints may share). The way up (the ICE
 * agent, the handshake's inputs, the stage times, the SRTP keying) lives
 * in a struct pc_setup the caller lends it (cfg.setup) and may take back
 * once the endpoint is up (pc_release_setup); during the handshake it
 * also holds a slot of cfg.hs. */
#define PC_SIZE 128
struct pc {
    _Alignas(64) unsigned char opaque[PC_SIZE];
};

/* The set-up state of one endpoint: PC_SETUP_SIZE bytes of caller memory,
 * 64-byte aligned, its layout private. A caller that keeps its endpoints
 * up for long and has many of them (the dataplane) lends one from a small
 * pool for the way up only; one that talks to a browser or a server keeps
 * it for the endpoint's life: ICE consent checks (cfg.consent, RFC 7675),
 * answers to the peer's checks, pc_poll_transmit_to's destinations and
 * pc_selected_peer need the ICE agent it holds. */
#define PC_SETUP_SIZE 1472
struct pc_setup {
    _Alignas(64) unsigned char opaque[PC_SETUP_SIZE];
};

/* Gives back the set-up state cfg.setup lent: from then on the endpoint
 * keeps only its established state: it answers no STUN (a binding request
 * is dropped, counted in stun_dropped), pc_stage_time reads 0,
 * pc_ice_counters NULL and pc_srtp_init has no keys (call it before; the
 * keying is wiped). Call it once the endpoint is up (pc_stage PC_UP), or
 * when it has failed or is about to be freed: an endpoint not yet up
 * cannot go on without it and fails (PC_FAIL_ICE when it had not failed).
 * Returns the memory, the caller's to reuse at once; NULL when it was
 * given back already. */
struct pc_setup *pc_release_setup(struct pc *pc);

/* Bytes of SCTP association memory (cfg->sctp_mem) cfg needs: with its
 * stream count and counters choice. */
size_t pc_sctp_size(const struct pc_config *cfg);

/* Sets the connection up at `now` (the controlling side sends its first
 * check). Returns 0 or -EINVAL (cfg.setup missing, or a configuration
 * the engines refuse). It holds cfg.setup from then on even when it
 * failed: pc_release_setup gives it back. */
int pc_init(struct pc *pc, const struct pc_config *cfg, uint64_t now);

/* One datagram from the peer (the UDP payload), demultiplexed by its
 * first byte. Returns (engine.h):
 * - STUN (0..3): what ice_handle_input returned;
 * - DTLS (20..63) during the handshake: what dtls_handle_input returned
 *   (ENGINE_IN_FATAL: the handshake failed on it, PC_EV_FAILED follows);
 *   before it (no handshake slot yet: the peer resends) ENGINE_IN_IGNORED;
 *   after it ENGINE_IN_ACCEPTED when a record in it was taken (an SCTP
 *   packet its association took, an alert, a repeated flight our
 *   handshake answers) and ENGINE_IN_MALFORMED when none was (records
 *   refused by the record layer or not whole, SCTP packets the
 *   association dropped: counted in records_dropped or SCTP's drops);
 * - RTP/RTCP (128..191): ENGINE_IN_IGNORED, counted in rtp_in (media is
 *   the caller's, see dp_media.h);
 * - anything else, an empty datagram, or any datagram once the connection
 *   failed: ENGINE_IN_IGNORED, counted in unknown_in.
 * DTLS records no engine took are counted in records_dropped. */
enum engine_input pc_handle_input(struct pc *pc, const uint8_t *dgram, size_t len, uint64_t now);

/* pc_handle_input with the datagram's source address (NULL: unknown,
 * taken as cfg.peer): STUN goes to ice_handle_input_from (the answer to a
 * check goes back to `from`; a full agent learns peer-reflexive
 * candidates from it). Returns as pc_handle_input. */
enum engine_input pc_handle_input_from(struct pc *pc, const uint8_t *dgram, size_t len, const struct stun_addr *from,
                                       uint64_t now);

/* Runs whatever engine deadline has passed (and retries for a handshake
 * slot while waiting for one). */
void pc_handle_timeout(struct pc *pc, uint64_t now);

/* The next datagram to send (UDP payload) into buf; its length or 0. */
size_t pc_poll_transmit(struct pc *pc, uint8_t *buf, size_t cap, uint64_t now);

/* pc_poll_transmit with the datagram's destination into *to (when to is
 * not NULL and a datagram was written): STUN to where ICE sends it (an
 * answer to its request's source, a check to its pair, a consent check to
 * the selected pair), everything else to the selected pair, or cfg.peer
 * before one is selected; family 0 (unknown: the 5-tuple's peer) once
 * the set-up state was given back. Returns as pc_poll_transmit. */
size_t pc_poll_transmit_to(struct pc *pc, uint8_t *buf, size_t cap, uint64_t now, struct stun_addr *to);

/* The next event into *ev (its buf and cap set by the caller beforehand,
 * left as they are); for PC_EV_MESSAGE the message is copied into ev->buf
 * and its length put in ev->len. Returns the type, also in ev->type
 * (PC_EV_NONE when none). */
enum pc_event_type pc_poll_event(struct pc *pc, struct pc_ev *ev);

/* The earliest deadline (ns) of the engines held: `now` while a datagram
 * is due, UINT64_MAX when nothing is pending. */
uint64_t pc_next_timeout(const struct pc *pc);

/* Asks the CPU to bring in what a datagram in (rx true) or a message out
 * will read beyond the endpoint itself: the record key it uses and the
 * SCTP association's hot lines. For a caller with a burst for endpoints
 * far apart in memory: prefetch the endpoints, then call this for each,
 * then handle them, so the misses of the burst overlap. */
void pc_prefetch(const struct pc *pc, bool rx);

/* For debugging: which engine owns pc_next_timeout ("alert", "ice",
 * "slot", "dtls", "sctp" or "none"). A static string. */
const char *pc_timeout_reason(const struct pc *pc);

/* Sends one binary message on the DataChannel. Returns as sctp_dc_send,
 * or -ENOTCONN before the channel is up. */
int pc_send(struct pc *pc, const void *msg, size_t len, uint64_t now);

/* pc_send with the message's type: binary (PPID 53, empty 57) or a
 * string (51, empty 56: RFC 8831 §6.6 sends an empty message as one byte
 * with that PPID). Returns as pc_send. */
int pc_send_as(struct pc *pc, const void *msg, size_t len, bool binary, uint64_t now);

/* Closes the DataChannel (resets our outgoing stream; the peer answers
 * with its own, then PC_EV_CHANNEL_CLOSED on both sides); the
 * association stays up. 0, -ENOTCONN before the channel is up, or as
 * sctp_dc_close. */
int pc_channel_close(struct pc *pc, uint64_t now);

/* Ends the connection on our side before pc_free: an SCTP ABORT tells
 * the peer when the association runs (not failed, not closed by the
 * peer). Returns true when a datagram waits in pc_poll_transmit (that
 * ABORT, or the alert a failed handshake still owes the peer): send it
 * before pc_free. */
bool pc_close(struct pc *pc, uint64_t now);

/* Ends the connection gracefully, as an application closing it does:
 * the association sends what it holds, then SCTP SHUTDOWN (RFC 9260
 * §9.2); PC_EV_CLOSED on both ends once the shutdown completed. New
 * pc_send calls fail from now on. 0, -ENOTCONN when not up (or closed),
 * or as sctp_shutdown. */
int pc_shutdown(struct pc *pc, uint64_t now);

/* Queues our DTLS close_notify (RFC 6347 §4.1 / RFC 9147 §5.10: a
 * warning alert under the current epoch's keys), sent by
 * pc_poll_transmit after any SCTP packet still waiting; nothing is
 * sealed after it. Returns true when it was queued (false before the
 * keys, after a fatal alert or our close_notify). */
bool pc_close_notify(struct pc *pc);

/* Releases the handshake slot if one is still held and the record keys. */
void pc_free(struct pc *pc);

const char *pc_stage_name(enum pc_stage s);

/* ---- state ---------------------------------------------------------- */

/* The stage the connection is in, and the stage it failed in
 * (PC_FAIL_NONE while it has not). */
enum pc_stage pc_stage(const struct pc *pc);
enum pc_fail pc_failure(const struct pc *pc);

/* When stage s (PC_ICE .. PC_UP) was reached (ns; PC_ICE at pc_init), 0
 * when it was not. */
uint64_t pc_stage_time(const struct pc *pc, enum pc_stage s);

/* Why the DTLS handshake failed (DTLS_FAIL_NONE when it did not). */
enum dtls_failure pc_dtls_failure(const struct pc *pc);

/* Our DTLS role (client: setup:active). */
bool pc_dtls_client(const struct pc *pc);

/* The DTLS version the handshake negotiated: DTLS_V12 (0xfefd) or DTLS_V13
 * (0xfefc), remembered at DTLS_EV_CONNECTED (it outlives the handshake
 * slot and pc_release_setup); 0 before, and for a handshake that failed. */
uint16_t pc_dtls_version(const struct pc *pc);

/* The endpoint's counters, and those of the engines it holds (pointers
 * into the endpoint and its association, valid until pc_free). */
const struct pc_counters *pc_counters(const struct pc *pc);
const struct ice_counters *pc_ice_counters(const struct pc *pc);
const struct dtls_record_counters *pc_record_counters(const struct pc *pc);
/* The DTLS endpoint's counters while the endpoint holds its handshake
 * slot (during the handshake; for the connection's life with dtls_keep),
 * else NULL. */
const struct dtls_counters *pc_dtls_counters(const struct pc *pc);

/* DTLS 1.3 with dtls_keep, once DTLS is up: a KeyUpdate of ours
 * (dtls_key_update). 0, -EBUSY, or -ENOTSUP (no endpoint held, or 1.2). */
int pc_key_update(struct pc *pc, bool request_peer, uint64_t now);
const struct sctp_counters *pc_sctp_counters(const struct pc *pc);

/* The DataChannel messages endpoint `from` sent that endpoint `to`'s user
 * has not polled yet, counted once (sctp_msgs_in_flight): `to` NULL when
 * the peer endpoint is elsewhere (then: not acknowledged), `from` NULL for
 * to's received side only. An endpoint whose association is not
 * established counts as NULL (it holds nothing: what its association held
 * when it went down is in pc_sctp_counters' messages_discarded). Reads
 * only; for a census when a run stops, not for the packet path. */
uint32_t pc_msgs_in_flight(const struct pc *from, const struct pc *to);

/* What the endpoint dropped since pc_init, by reason: one call for a
 * caller that folds drop metrics around each pc_handle_input. Read from
 * its counters blocks (cfg.counters, cfg.sctp_counters): when several
 * endpoints share them these are the sums, and only the difference
 * around one call is this endpoint's. */
struct pc_drops {
    uint64_t not_webrtc; /* unknown_in: a first byte outside RFC 7983, empty, or after failure */
    uint64_t stun;       /* STUN the ICE agent refused or ignored */
    uint64_t record;     /* DTLS records no engine took (records_dropped) */
    uint64_t sctp;       /* SCTP packets and chunks the association dropped, all reasons */
    uint64_t rtp;        /* RTP/RTCP handed to the endpoint (rtp_in: media is the caller's) */
};
void pc_drops(const struct pc *pc, struct pc_drops *d);

/* Bytes the DataChannel has queued and not yet acknowledged. */
uint32_t pc_buffered(const struct pc *pc);

/* The peer's transport address as our ICE answers echo it
 * (XOR-MAPPED-ADDRESS): for a peer whose checks come from another address
 * than the one configured. */
void pc_set_peer(struct pc *pc, const struct stun_addr *peer);

/* The remote address of ICE's selected pair into *out: true once one is
 * selected (ice_selected), false before and after pc_release_setup. */
bool pc_selected_peer(const struct pc *pc, struct stun_addr *out);

/* ICE restart (RFC 8445 §9, ice_restart): new credentials both ways and
 * the peer's new candidates (n of them, at most ICE_MAX_REMOTE; 0: the
 * single pair to cfg.peer); ICE checks again while DTLS, SCTP and the
 * DataChannel go on over the previously selected pair, then over the new
 * one (pc_poll_transmit_to). Returns 0, -ENOTCONN once the set-up state
 * was given back, or -EINVAL as ice_restart (nothing changed). */
int pc_ice_restart(struct pc *pc, const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
                   const char *remote_pwd, const struct ice_cand *remote, uint32_t n, uint64_t now);

/* Keys an SRTP session (both directions, srtps_init) with what the
 * handshake exported for this connection: its DTLS-SRTP profile and
 * keying material, split for our DTLS role. Returns 0, -ENOKEY before the
 * handshake is done or when it chose no SRTP profile, or the error of
 * srtps_split_keying/srtps_init. The keying material never leaves the endpoint otherwise. */
int pc_srtp_init(const struct pc *pc, struct srtps_session *s);

/* As pc_srtp_init, and also hands out the two master keys (master key ||
 * master salt, srtps_master_len bytes each, at most SRTPS_MASTER_MAX) the
 * session was keyed with, for a caller that derives later generations
 * from them (--srtp-rekey, dp_media.c); the caller wipes them. Same
 * returns; nothing written to local/remote on failure. */
int pc_srtp_init_keys(const struct pc *pc, struct srtps_session *s, uint8_t *local, uint8_t *remote);

#endif
