/* SPDX-License-Identifier: MIT */
/*
 * sctp: a sans-I/O SCTP association (RFC 9260) with the extensions WebRTC
 * DataChannels use (PR-SCTP FORWARD-TSN, RFC 3758; outgoing stream reset
 * by RE-CONFIG, RFC 6525; zero checksum, RFC 9653) and the DataChannel
 * Establishment Protocol (DCEP, RFC 8832) on top, carried over DTLS as in
 * RFC 8261: the packets in and out are bare SCTP packets (common header and
 * chunks, no IP or UDP header).
 *
 * Time: every entry point takes `now` in nanoseconds; a `now` older than
 * the last one seen is treated as the last one. The engine never reads a
 * clock; sctp_next_timeout() says when it next wants sctp_handle_timeout().
 *
 * Memory: the caller owns everything. An association is an opaque block of
 * sctp_assoc_size_cfg(cfg) bytes: 336 bytes, 10 per stream, and its
 * counters (272 bytes) unless the caller gives a block that many
 * associations share (sctp_config.counters); 384 with 4 streams and shared
 * counters (SCTP_ASSOC_DP_BYTES). Buffered data (the send queue,
 * out-of-order and partly reassembled data, messages waiting to be polled,
 * the map of TSNs received above a hole, a peer's state cookie) lives in
 * buffers of a pool the caller creates with sctp_pool_init() and may share
 * between the associations of one thread. Nothing is allocated after
 * set-up. No global state: associations on different threads with
 * different pools (and counter blocks) are independent; one association,
 * its pool and its counter block belong to one thread at a time.
 *
 * Driving it: hand every received packet to sctp_handle_input(); call
 * sctp_handle_timeout() when the deadline passes; after either, and after
 * sctp_send()/sctp_dc_*(), drain sctp_poll_transmit() until it returns 0
 * and sctp_poll_event() until it returns SCTP_EV_NONE.
 */
#ifndef SWARMGEN_SCTP_H
#define SWARMGEN_SCTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct sctp_assoc;
struct sctp_pool;

/* ---- buffer pool ----------------------------------------------------- */

/* Bytes a pool of `n_bufs` buffers of `buf_cap` payload bytes needs
 * (buf_cap 64..9000; 1200 covers any DATA chunk of a 1,228-byte packet;
 * each buffer takes at least 128 bytes). */
size_t sctp_pool_size(uint32_t n_bufs, uint16_t buf_cap);

/* Lays a pool out in `mem` (sctp_pool_size() bytes, 64-byte aligned) and
 * returns it, or NULL when the arguments are out of range. */
struct sctp_pool *sctp_pool_init(void *mem, uint32_t n_bufs, uint16_t buf_cap);

/* Buffers free right now (for tests and metrics). */
uint32_t sctp_pool_free_count(const struct sctp_pool *p);

/* ---- association ----------------------------------------------------- */

struct sctp_config {
    uint16_t local_port, remote_port; /* 5000 / 5000 in WebRTC */
    uint16_t n_streams;       /* inbound and outbound streams offered (1..1024) */
    uint16_t mtu;             /* largest packet built, default 1200 */
    uint32_t rwnd;            /* receive window announced (never more than max_buffers buffers
                               * hold), default 1 MiB; also the bytes held
                               * for reassembly and ordering, but for the message its stream
                               * delivers next (bounded by max_message) */
    uint32_t sndbuf;          /* bytes queued for sending before -EAGAIN, default 1 MiB */
    uint32_t max_message;     /* largest message sent or reassembled, default 256 KiB; a peer's
                               * message over it aborts the association (Protocol Violation) */
    uint32_t rto_initial_ms, rto_min_ms, rto_max_ms; /* 1000 / 400 / 60000 */
    uint32_t heartbeat_ms;    /* idle heartbeat interval, default 30000; 0 = none */
    uint32_t sack_delay_ms;   /* delayed SACK, default 200 (0 = 200); at most 500 (RFC 9260 §6.2) */
    uint32_t init_cwnd;       /* bytes; default min(4 MTU, max(2 MTU, 4380)) */
    uint32_t max_buffers;     /* pool buffers the association may hold for received DATA (out of
                               * order, in reassembly, or waiting to be polled): beyond, a DATA
                               * chunk is dropped and counted (no_buffer) as with an empty pool.
                               * 0 (the default) or more than 65535: 65535. Associations that
                               * share a pool get a share each, so that one peer cannot empty it
                               * for the others. TSNs above a hole may fill only half of it
                               * (the chunk that closes the hole must find room), so to
                               * receive a message of max_message bytes under loss it must be
                               * at least 2 * max_message / the peer's chunk size */
    uint8_t max_retrans;      /* association failure after this many, default 10 */
    uint8_t max_init_retrans; /* default 8 */
    bool zero_checksum;       /* announce RFC 9653 (EDMID DTLS) and use it if the peer does */
    bool dcep;                /* run DataChannels (DCEP) on top; false = raw SCTP messages */
    bool dtls_client;         /* our DTLS role: client opens even stream ids, server odd */
    uint64_t seed;            /* verification tags, initial TSN, cookie key */
    /* NULL (the default): the association keeps its own counters inside
     * its memory. Else a caller-owned block it adds into instead, and its
     * memory holds none (sctp_assoc_size_cfg is 272 bytes smaller): one
     * block may serve many associations of one thread (no atomics; the
     * block must outlive them and be used by that thread only), and then
     * sums them all. The caller zeroes it before first use. */
    struct sctp_counters *counters;
};

/* Defaults listed above into *c (ports 5000, 16 streams, DCEP on, own
 * counters). */
void sctp_config_default(struct sctp_config *c);

/* Bytes one association with `n_streams` streams and its own counters
 * takes (a multiple of 64): sctp_assoc_size_cfg() of a configuration with
 * that many streams and counters NULL. */
size_t sctp_assoc_size(uint16_t n_streams);

/* The exact bytes sctp_assoc_init() lays out for `cfg` (a multiple of 64):
 * its n_streams streams, and its own counters unless cfg->counters is
 * set. 0 when cfg is NULL. Depends on n_streams and counters only. */
size_t sctp_assoc_size_cfg(const struct sctp_config *cfg);

/* sctp_assoc_size_cfg() of the dataplane's association, 4 streams and
 * shared counters, at most (checked when the engine is built). */
#define SCTP_ASSOC_DP_BYTES 384

/* Sets up a closed association in `mem` (sctp_assoc_size_cfg(cfg) bytes,
 * 64-byte aligned; it writes no byte beyond them) drawing buffers from
 * `pool` and counting into cfg->counters if set. Returns the association
 * or NULL (with nothing changed) when the configuration is out of
 * range. */
struct sctp_assoc *sctp_assoc_init(void *mem, const struct sctp_config *cfg,
                                   struct sctp_pool *pool, uint64_t now);

/* Active open: queues an INIT. The other side may do the same at the same
 * time (the collision is resolved as RFC 9260 §5.2 says); a side that only
 * waits answers the peer's INIT. Returns 0, or -EISCONN when not closed. */
int sctp_connect(struct sctp_assoc *a, uint64_t now);

/* One received SCTP packet. Returns ENGINE_IN_ACCEPTED (engine.h; also
 * when a chunk in it was dropped and counted, or it was an ABORT: SCTP_EV_DOWN
 * follows), or ENGINE_IN_MALFORMED when the whole packet was dropped
 * (truncated, bad checksum, port or verification tag, a first chunk that
 * does not parse: the reason is counted in sctp_counters.drops[]). Never
 * ENGINE_IN_IGNORED (an association takes all that its 5-tuple brings) nor
 * ENGINE_IN_FATAL. Never keeps `pkt`. */
enum engine_input sctp_handle_input(struct sctp_assoc *a, const uint8_t *pkt, size_t len, uint64_t now);

/* Runs the timers that are due (T1-init, T3-rtx, T2-shutdown, RE-CONFIG,
 * heartbeat, delayed SACK, PR-SCTP lifetimes). */
void sctp_handle_timeout(struct sctp_assoc *a, uint64_t now);

/* The earliest deadline (ns), UINT64_MAX when nothing is pending. */
uint64_t sctp_next_timeout(const struct sctp_assoc *a);

/* Builds the next packet into buf (cap >= mtu); returns its length or 0
 * when there is nothing to send now (congestion and receive windows
 * honoured). */
size_t sctp_poll_transmit(struct sctp_assoc *a, uint8_t *buf, size_t cap, uint64_t now);

/* ---- sending ----------------------------------------------------------- */

enum sctp_pr_policy { SCTP_PR_NONE, SCTP_PR_RTX, SCTP_PR_TTL };

struct sctp_send_opts {
    bool unordered;
    enum sctp_pr_policy pr;
    uint32_t pr_value;        /* retransmissions (RTX) or lifetime in ms (TTL) */
};

/* Queues one message of `len` bytes (0 < len <= max_message) on stream
 * `sid` with payload protocol id `ppid` (raw SCTP; with DCEP use
 * sctp_dc_send). Returns 0, -ENOTCONN (not established), -EINVAL (stream
 * out of range or being reset), -EMSGSIZE, or -EAGAIN (send buffer or
 * pool full: try again after acknowledgements). */
int sctp_send(struct sctp_assoc *a, uint16_t sid, uint32_t ppid, const void *data, size_t len,
              const struct sctp_send_opts *o, uint64_t now);

/* Resets our outgoing streams `sids` (RFC 6525 outgoing SSN reset).
 * Returns 0, -EINVAL or -EBUSY (one of them is being reset already). */
int sctp_reset_outgoing(struct sctp_assoc *a, const uint16_t *sids, int n, uint64_t now);

/* Graceful shutdown once everything queued is acknowledged. */
int sctp_shutdown(struct sctp_assoc *a, uint64_t now);

/* ABORT now (user-initiated abort cause). */
void sctp_abort(struct sctp_assoc *a, uint64_t now);

/* ---- DataChannels (DCEP, RFC 8832) --------------------------------------- */

enum sctp_dc_type {
    SCTP_DC_RELIABLE = 0x00,
    SCTP_DC_RELIABLE_UNORDERED = 0x80,
    SCTP_DC_REXMIT = 0x01,
    SCTP_DC_REXMIT_UNORDERED = 0x81,
    SCTP_DC_TIMED = 0x02,
    SCTP_DC_TIMED_UNORDERED = 0x82,
};

/* WebRTC payload protocol identifiers (RFC 8831 §8). */
enum sctp_ppid {
    SCTP_PPID_DCEP = 50,
    SCTP_PPID_STRING = 51,
    SCTP_PPID_BINARY = 53,
    SCTP_PPID_STRING_EMPTY = 56,
    SCTP_PPID_BINARY_EMPTY = 57,
};

struct sctp_dc_opts {
    enum sctp_dc_type type;
    uint32_t reliability;     /* retransmissions or lifetime ms */
    uint16_t priority;        /* 128 below normal, 256 normal, 512, 1024 */
    const char *label;        /* may be NULL */
    uint16_t label_len;
    const char *protocol;
    uint16_t protocol_len;
};

/* Opens a DataChannel: picks the lowest free stream id of our parity (even
 * as DTLS client, odd as server) and sends DATA_CHANNEL_OPEN. Data may be
 * sent at once (ordered until the ACK arrives, as RFC 8832 §6 says).
 * Returns the stream id, -ENOTCONN, -ENOSPC (no free id), or -EAGAIN. */
int sctp_dc_open(struct sctp_assoc *a, const struct sctp_dc_opts *o, uint64_t now);

/* Sends a message on an open channel: binary (PPID 53/57) or string
 * (51/56), with the channel's reliability. Returns as sctp_send(). */
int sctp_dc_send(struct sctp_assoc *a, uint16_t sid, const void *data, size_t len, bool binary,
                 uint64_t now);

/* Closes a channel: resets our outgoing stream; the peer resets its own
 * in answer; SCTP_EV_DC_CLOSED follows on both sides. */
int sctp_dc_close(struct sctp_assoc *a, uint16_t sid, uint64_t now);

/* ---- events ------------------------------------------------------------- */

enum sctp_event_type {
    SCTP_EV_NONE,
    SCTP_EV_UP,          /* association established */
    SCTP_EV_DOWN,        /* closed: shutdown complete, abort received/sent, or failure */
    SCTP_EV_MESSAGE,     /* a whole message in buf */
    SCTP_EV_DC_OPEN,     /* a channel opened by the peer (label then protocol in buf) */
    SCTP_EV_DC_ACKED,    /* the peer acknowledged a channel we opened */
    SCTP_EV_DC_CLOSED,   /* a channel's streams are reset both ways */
    SCTP_EV_STREAM_RESET,/* raw mode: the peer reset its outgoing stream `sid` */
};

enum sctp_down_reason { SCTP_DOWN_SHUTDOWN = 1, SCTP_DOWN_ABORT_RECEIVED, SCTP_DOWN_ABORT_SENT,
                        SCTP_DOWN_FAILED };

struct sctp_ev {
    /* set by the caller, kept by sctp_poll_event: where an event's payload
     * (a message, or a channel's label and protocol) is copied */
    uint8_t *buf;
    size_t cap;              /* >= max_message, or messages are dropped */
    /* filled by sctp_poll_event */
    enum sctp_event_type type;
    uint16_t sid;
    uint32_t ppid;
    uint32_t len;            /* bytes written to buf */
    bool unordered;
    uint8_t down_reason;     /* SCTP_EV_DOWN */
    uint8_t dc_type;         /* SCTP_EV_DC_OPEN */
    uint32_t dc_reliability;
    uint16_t dc_priority;
    uint16_t label_len, protocol_len; /* label at buf[0], protocol right after */
};

/* The next event into *ev (its buf and cap set by the caller beforehand,
 * left as they are); its payload (message, or label and protocol) is
 * copied into ev->buf. Returns the type, also in ev->type (SCTP_EV_NONE
 * when none). A message larger than ev->cap is dropped and counted
 * (drops[SCTP_DROP_TOO_BIG]; pass cap >= max_message). */
enum sctp_event_type sctp_poll_event(struct sctp_assoc *a, struct sctp_ev *ev);

/* ---- state and counters ------------------------------------------------- */

enum sctp_state {
    SCTP_ST_CLOSED, SCTP_ST_COOKIE_WAIT, SCTP_ST_COOKIE_ECHOED, SCTP_ST_ESTABLISHED,
    SCTP_ST_SHUTDOWN_PENDING, SCTP_ST_SHUTDOWN_SENT, SCTP_ST_SHUTDOWN_RECEIVED, SCTP_ST_SHUTDOWN_ACK_SENT,
};

#define SCTP_DROP_REASONS(X) \
    X(TRUNCATED, "truncated")          \
    X(BAD_CHECKSUM, "bad_checksum")    \
    X(BAD_VTAG, "bad_vtag")            \
    X(BAD_PORT, "bad_port")            \
    X(BAD_CHUNK, "bad_chunk")          \
    X(BAD_COOKIE, "bad_cookie")        \
    X(STALE_COOKIE, "stale_cookie")    \
    X(UNEXPECTED, "unexpected_chunk")  \
    X(OUT_OF_WINDOW, "out_of_window")  \
    X(NO_BUFFER, "no_buffer")          \
    X(BAD_STREAM, "bad_stream")        \
    X(TOO_BIG, "too_big")              \
    X(UNKNOWN_CHUNK, "unknown_chunk")  \
    X(BAD_DCEP, "bad_dcep")

enum sctp_drop {
#define SCTP_X(n, s) SCTP_DROP_##n,
    SCTP_DROP_REASONS(SCTP_X)
#undef SCTP_X
    SCTP_DROP_COUNT
};

/* "truncated", "bad_checksum", ... */
const char *sctp_drop_name(enum sctp_drop d);

struct sctp_counters {
    uint64_t packets_in, packets_out;
    uint64_t data_chunks_out, data_chunks_in, dup_tsns_in;
    uint64_t retransmissions, fast_retransmits, t3_timeouts;
    uint64_t sacks_out, sacks_in, forward_tsns_out, forward_tsns_in;
    uint64_t abandoned_messages, messages_out, messages_in;
    uint64_t heartbeats_out, reconf_out, reconf_in;
    uint64_t dcep_wrong_parity;  /* channels the peer opened on our parity (accepted) */
    uint64_t errors_in;          /* ERROR chunks received (operation errors, RFC 9260 §3.3.10) */
    /* too_big also counts each message of a peer over max_message: the
     * association that received it is aborted (Protocol Violation) */
    uint64_t drops[SCTP_DROP_COUNT];
    /* user messages (DCEP's own excluded) that never reach the user:
     * skipped: passed over by a FORWARD-TSN (RFC 3758), the SSNs an
     * ordered stream's expected SSN moved over, whether pieces of them
     * had come or not (what the sender gave up and this end never
     * delivered); discarded: held when the association went down (ABORT,
     * too many retransmissions): unacknowledged in the send queue, or
     * complete and not yet delivered on the receive side */
    uint64_t messages_skipped, messages_discarded;
};

enum sctp_state sctp_state(const struct sctp_assoc *a);

/* The user messages (DCEP's own excluded) association `from` sent that
 * the user of association `to` has not been handed yet, counted once:
 * those with a piece in from's send queue that `to` has not received
 * (unsent, in flight, lost, abandoned but not yet skipped by `to`), and
 * those complete on to's receive side not yet polled (waiting for their
 * turn in an ordered stream, or ready). `to` NULL (the peer is
 * elsewhere): from's messages with a piece not acknowledged by the peer.
 * `from` NULL: to's complete, undelivered messages only. Both must be
 * established (an association down holds nothing: its queues were
 * counted in messages_discarded). Reads only; for a census at the end of
 * a run, not for the packet path (it walks the queues). */
uint32_t sctp_msgs_in_flight(const struct sctp_assoc *from, const struct sctp_assoc *to);

/* The counters the association adds into: its own, or the block
 * sctp_config.counters gave, which sums every association sharing it.
 * Valid as long as the association (or that block). */
const struct sctp_counters *sctp_counters(const struct sctp_assoc *a);

/* Bytes queued for sending and not yet acknowledged. */
uint32_t sctp_buffered(const struct sctp_assoc *a);

/* Current congestion window, smoothed RTT (ns) and RTO (ns), for tests and
 * metrics. */
uint32_t sctp_cwnd(const struct sctp_assoc *a);
uint64_t sctp_srtt_ns(const struct sctp_assoc *a);

/* Asks the CPU to bring in what a DATA or SACK packet reads of the
 * association (its first three cache lines) ahead of sctp_handle_input
 * or sctp_send: a caller that has a burst of packets for associations
 * far apart in memory calls it for all of them first, so their cache
 * misses overlap instead of coming one after another. Reads nothing. */
void sctp_prefetch(const struct sctp_assoc *a);

#endif
