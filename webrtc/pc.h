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
 */
#ifndef SWARMGEN_WEBRTC_PC_H
#define SWARMGEN_WEBRTC_PC_H

#include <stdbool.h>
#include <stdint.h>

#include "dtls.h"
#include "dtls_record.h"
#include "ice.h"
#include "sctp.h"

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
};

struct pc_ev {
    /* set by the caller, kept by pc_poll_event: where a message is copied */
    uint8_t *buf;
    size_t cap;              /* >= the SCTP max message (256 KiB), or messages are dropped */
    /* filled by pc_poll_event */
    enum pc_event_type type;
    uint32_t len;            /* PC_EV_MESSAGE: bytes in buf */
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
    void *sctp_mem;                /* sctp_assoc_size(n_streams) bytes, 64-byte aligned */
    struct sctp_pool *sctp_pool;   /* shared per lcore */
    uint16_t n_streams;            /* default 16 */
    const char *label;             /* of the DataChannel the controlling side opens */
    enum sctp_dc_type dc_type;
    uint32_t dc_reliability;
    uint64_t seed;
    char *keylog;                  /* when not NULL: the NSS key-log line (200 bytes) written there at handshake end */
};

struct pc_counters {
    uint64_t datagrams_in, datagrams_out, stun_in, dtls_in, rtp_in, unknown_in;
    uint64_t records_dropped, hs_slot_waits;
};

struct pc {
    uint8_t stage, fail;           /* enum pc_stage, enum pc_fail */
    bool controlling, dtls_client, opens_channel, closed;
    uint16_t dc_sid;
    int32_t hs_slot;               /* -1 when none held */
    struct dtls_hs_pool *hs;
    const struct dtls_cert *cert;
    const struct cp *cp;
    const uint8_t *cookie_secret;
    uint8_t peer_fp[32];
    uint8_t client_id[24];         /* the peer's address as the DTLS cookie binds it */
    uint8_t client_id_len;
    uint64_t seed;
    uint64_t t_start, t_stage[PC_UP + 1]; /* when each stage was reached (ns) */
    const char *label;
    char *keylog;
    uint64_t slot_retry;           /* next try for a handshake slot, 0 none */
    uint64_t last_now;             /* the latest `now` seen (events act at it) */
    uint8_t dc_type;
    uint32_t dc_reliability;
    uint8_t dtls_failure;          /* enum dtls_failure when the handshake failed */
    uint8_t alert_len;             /* the fatal alert our failed handshake still owes the peer */
    uint8_t alert[DTLS_RECORD_HEADER + 2 + 24];
    uint16_t srtp_profile;         /* DTLS-SRTP profile the handshake chose (0 none) */
    uint8_t srtp_keying[DTLS_KEYING_MAX]; /* its exported keying material (RFC 5764 §4.2) */
    struct ice_agent ice;
    struct dtls_record rec;
    struct sctp_assoc *sctp;
    uint8_t events[8];             /* small ring of enum pc_event_type */
    uint8_t ev_head, ev_n;
    struct pc_counters c;
};

/* Sets the connection up at `now` (the controlling side sends its first
 * check). Returns 0 or -EINVAL. */
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

/* Runs whatever engine deadline has passed (and retries for a handshake
 * slot while waiting for one). */
void pc_handle_timeout(struct pc *pc, uint64_t now);

/* The next datagram to send (UDP payload) into buf; its length or 0. */
size_t pc_poll_transmit(struct pc *pc, uint8_t *buf, size_t cap, uint64_t now);

/* The next event into *ev (its buf and cap set by the caller beforehand,
 * left as they are); for PC_EV_MESSAGE the message is copied into ev->buf
 * and its length put in ev->len. Returns the type, also in ev->type
 * (PC_EV_NONE when none). */
enum pc_event_type pc_poll_event(struct pc *pc, struct pc_ev *ev);

/* The earliest deadline (ns) of the engines held: `now` while a datagram
 * is due, UINT64_MAX when nothing is pending. */
uint64_t pc_next_timeout(const struct pc *pc);

/* For debugging: which engine owns pc_next_timeout ("alert", "ice",
 * "slot", "dtls", "sctp" or "none"). A static string. */
const char *pc_timeout_reason(const struct pc *pc);

/* Sends one binary message on the DataChannel. Returns as sctp_dc_send,
 * or -ENOTCONN before the channel is up. */
int pc_send(struct pc *pc, const void *msg, size_t len, uint64_t now);

/* Releases the handshake slot if one is still held and the record keys. */
void pc_free(struct pc *pc);

const char *pc_stage_name(enum pc_stage s);

#endif
