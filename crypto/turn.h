/* SPDX-License-Identifier: MIT */
/*
 * turn: the client side of one TURN allocation (RFC 8656) over UDP, or
 * over a TCP stream the caller runs (cfg.stream, RFC 8656 §3.1).
 *
 * It allocates a relayed transport address on a TURN server with
 * long-term credentials (the first Allocate is answered 401 with REALM and
 * NONCE, the retry carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY;
 * 438 Stale Nonce takes the new nonce and retries), keeps it with Refresh
 * (60 s before it lapses), installs permissions for its peers
 * (CreatePermission, refreshed every 240 s) and binds each peer a channel
 * when asked (ChannelBind, refreshed every 540 s), and ends with a Refresh
 * of lifetime 0. Data to a peer leaves as ChannelData once the channel is
 * bound, as a Send indication before; data from a peer comes back as
 * ChannelData or a Data indication and is handed out without a copy.
 *
 * One request is outstanding at a time; it is retransmitted from `now`
 * (RTO doubling from cfg.rto_ns, cfg.max_tries sends, RFC 8489 §6.2.1)
 * (over a stream: sent once, RFC 8489 §6.2.2, and given up after
 * cfg.timeout_ns, 39.5 s by default) and its answer must carry a valid
 * MESSAGE-INTEGRITY once the client
 * is authenticated. Every failure ends in one TURN_EV_FAILED naming the
 * stage and the server's error code (0 for a timeout).
 *
 * Over a stream, turn_stream_frame() splits the bytes from the server into
 * messages to hand in one at a time, what turn_poll_transmit() writes goes
 * on the stream as it is, and turn_wrap() pads ChannelData to a multiple
 * of 4 bytes (RFC 8656 §12.5).
 *
 * Sans-I/O: datagrams from and to the server and `now` (ns) in; datagrams,
 * events and the next deadline out. No clock, no allocation (the caller
 * gives turn_size() bytes), no global state; transaction ids come from
 * cfg.seed (give it getrandom bytes where an observer must not predict
 * them). One client per thread at a time.
 */
#ifndef SWARMGEN_CRYPTO_TURN_H
#define SWARMGEN_CRYPTO_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "stun.h"

#define TURN_USER_MAX 128
#define TURN_PASS_MAX 128
#define TURN_REQ_MAX 548        /* the largest request we build (RFC 8489 §6.1: fits any path MTU) */
#define TURN_CHANNEL_MIN 0x4000 /* channel numbers (RFC 8656 §12) */
#define TURN_CHANNEL_MAX 0x4fff

/* Where the client is, and the stage a failure names. */
enum turn_stage {
    TURN_STAGE_ALLOCATE,   /* Allocate (with the 401 challenge) */
    TURN_STAGE_REFRESH,    /* keeping the allocation */
    TURN_STAGE_PERMISSION, /* CreatePermission */
    TURN_STAGE_CHANNEL,    /* ChannelBind */
    TURN_STAGE_CLOSE,      /* Refresh with lifetime 0 */
};

enum turn_state { TURN_NEW, TURN_ALLOCATING, TURN_ALLOCATED, TURN_CLOSING, TURN_CLOSED, TURN_FAILED };

enum turn_event_type {
    TURN_EV_NONE,
    TURN_EV_ALLOCATED,  /* relayed and mapped addresses known (once) */
    TURN_EV_PERMISSION, /* the peers of the request have permissions (first time each) */
    TURN_EV_CHANNEL,    /* ev.peer's channel is bound (first time) */
    TURN_EV_REFRESHED,  /* the allocation's lifetime was extended */
    TURN_EV_FAILED,     /* ev.stage failed with ev.code (0: no answer); the client is done */
    TURN_EV_CLOSED,     /* the allocation was released (or its release went unanswered) */
};

struct turn_ev {
    enum turn_event_type type;
    enum turn_stage stage;
    uint16_t code;      /* the server's error code for TURN_EV_FAILED, 0 for a timeout */
    int peer;           /* TURN_EV_CHANNEL; TURN_EV_PERMISSION: the first peer of the request */
};

struct turn_config {
    const char *user, *pass;   /* long-term credentials (copied) */
    uint32_t lifetime_s;       /* asked for in Allocate (0: the server's default) */
    uint64_t rto_ns;           /* first retransmission (0: 500 ms) */
    uint32_t max_tries;        /* sends of one request before it fails (0: 7) */
    uint64_t seed;             /* transaction ids */
    uint16_t max_peers;        /* peers this client can hold (turn_size) */
    bool stream;               /* over TCP: no retransmission, ChannelData padded */
    uint64_t timeout_ns;       /* stream: a transaction's timeout (0: 39.5 s, RFC 8489 §6.2.2) */
};

struct turn_counters {
    uint32_t requests, retransmits, responses, challenges, stale_nonces, errors;
    uint32_t refreshes, permissions, channels;
    uint32_t integrity_failures, malformed, ignored;
    uint64_t data_in, data_out, channel_data_in, channel_data_out; /* datagrams */
};

/* A datagram from the server that carried data from a peer. */
struct turn_rx {
    int peer;            /* the peer's index, -1 when the datagram carried no data */
    const uint8_t *data; /* into the datagram */
    size_t len;
};

struct turn_client;

/* Bytes of caller memory (8-byte aligned) for a client of max_peers peers. */
size_t turn_size(uint16_t max_peers);

/* Sets up a client in mem (turn_size(cfg->max_peers) bytes). Returns it, or
 * NULL when a string is too long or max_peers is 0. */
struct turn_client *turn_init(void *mem, const struct turn_config *cfg);

/* Sends the first Allocate at `now`. */
void turn_allocate(struct turn_client *t, uint64_t now);

/* Adds a peer (its address as the server sees it, e.g. the peer's relayed
 * address); a permission is asked for as soon as the allocation stands,
 * and a channel bound after it when `channel`. Returns the peer's index,
 * -ENOSPC when max_peers are held, -EINVAL for a bad address. */
int turn_add_peer(struct turn_client *t, const struct stun_addr *peer, bool channel, uint64_t now);

/* Releases the allocation (Refresh with LIFETIME 0); TURN_EV_CLOSED when
 * answered or given up. A client not yet allocated closes at once. */
void turn_close(struct turn_client *t, uint64_t now);

/* Hands in one datagram from the server. A STUN answer to our request
 * drives the client: ENGINE_IN_ACCEPTED, or ENGINE_IN_MALFORMED when its
 * MESSAGE-INTEGRITY does not verify (the request stays outstanding).
 * ChannelData (first byte 0x40..0x4f, RFC 7983) on a bound channel and a
 * Data indication from a known peer set rx (data points into buf) and
 * return ENGINE_IN_ACCEPTED. ENGINE_IN_IGNORED: well formed but not ours
 * (another transaction, an unknown channel or peer); ENGINE_IN_MALFORMED:
 * does not parse. rx->peer is -1 unless data was delivered. */
enum engine_input turn_handle_input(struct turn_client *t, const uint8_t *buf, size_t len, uint64_t now,
                                    struct turn_rx *rx);

/* Runs the deadlines: a request due again, a refresh due. */
void turn_handle_timeout(struct turn_client *t, uint64_t now);

/* Writes the next datagram for the server into buf; returns its length,
 * or 0 when nothing is due or it does not fit (TURN_REQ_MAX always fits). */
size_t turn_poll_transmit(struct turn_client *t, uint8_t *buf, size_t cap, uint64_t now);

/* The next event into *ev; returns its type (TURN_EV_NONE when none). */
enum turn_event_type turn_poll_event(struct turn_client *t, struct turn_ev *ev);

/* The next deadline (ns), UINT64_MAX when none. */
uint64_t turn_next_timeout(const struct turn_client *t);

/* Frames len bytes of data for peer into out: ChannelData (4 bytes of
 * header, and up to 3 of padding over a stream) once the peer's channel is
 * bound, else a Send indication (36 bytes of header for IPv4). Returns the datagram's length, -EAGAIN when
 * the peer has no permission yet, -ENOSPC when it does not fit, -EINVAL
 * for an unknown peer. */
int turn_wrap(struct turn_client *t, int peer, const uint8_t *data, size_t len, uint8_t *out, size_t cap);

/* Over a stream: the length of the first whole message in buf (len bytes
 * received and not yet handed in), ChannelData with its padding; 0 when
 * more bytes are needed; -EBADMSG when it starts with neither a STUN
 * header (first two bits 0, a length that is a multiple of 4) nor
 * ChannelData (0x40..0x4f): the stream cannot be resynchronized. Pure. */
int turn_stream_frame(const uint8_t *buf, size_t len);

/* ---- state ---------------------------------------------------------- */

enum turn_state turn_state(const struct turn_client *t);
/* The relayed and server-reflexive (mapped) addresses once allocated. */
const struct stun_addr *turn_relayed(const struct turn_client *t);
const struct stun_addr *turn_mapped(const struct turn_client *t);
/* The lifetime the server granted (s). */
uint32_t turn_lifetime(const struct turn_client *t);
/* The peer's channel number (0 while unbound) and whether it has a permission. */
uint16_t turn_peer_channel(const struct turn_client *t, int peer);
bool turn_peer_permitted(const struct turn_client *t, int peer);
const struct turn_counters *turn_counters(const struct turn_client *t);
const char *turn_stage_name(enum turn_stage s);

#endif
