/* SPDX-License-Identifier: MIT */
/*
 * sctp_internal: the association and pool layouts and the helpers the
 * engine's files share (sctp_assoc.c: packets, hand-shake, shutdown,
 * timers; sctp_tx.c: send queue and congestion control; sctp_rx.c: receive
 * tracking, reassembly, SACK; sctp_reconf.c: stream reset; sctp_dcep.c:
 * DataChannels). Tests may include it; nothing else should.
 */
#ifndef SWARMGEN_SCTP_INTERNAL_H
#define SWARMGEN_SCTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sctp.h"
#include "wire.h" /* wire_get16/32, wire_put16/32: every chunk field */

#define SCTP_NIL UINT32_MAX
#define NS_PER_MS 1000000ull

/* chunk types (RFC 9260 §3.2, RFC 3758, RFC 6525) */
enum {
    CT_DATA = 0, CT_INIT = 1, CT_INIT_ACK = 2, CT_SACK = 3, CT_HEARTBEAT = 4,
    CT_HEARTBEAT_ACK = 5, CT_ABORT = 6, CT_SHUTDOWN = 7, CT_SHUTDOWN_ACK = 8, CT_ERROR = 9,
    CT_COOKIE_ECHO = 10, CT_COOKIE_ACK = 11, CT_SHUTDOWN_COMPLETE = 14, CT_RECONFIG = 130,
    CT_FORWARD_TSN = 192,
};

/* parameters */
enum {
    PT_HB_INFO = 1, PT_STATE_COOKIE = 7, PT_UNRECOGNIZED = 8,
    PT_RECONF_OUT_REQ = 13, PT_RECONF_RESP = 16,
    PT_ZERO_CHECKSUM = 0x8001, PT_SUPPORTED_EXT = 0x8008, PT_FORWARD_TSN_SUPPORTED = 0xc000,
};

/* DATA chunk flags */
#define DF_E 0x01
#define DF_B 0x02
#define DF_U 0x04
#define DF_I 0x08

/* error causes */
enum { EC_STALE_COOKIE = 3, EC_UNRECOGNIZED_CHUNK = 6, EC_PROTOCOL_VIOLATION = 13,
       EC_USER_ABORT = 12 };

#define ZERO_CSUM_EDMID_DTLS 1

/* serial number arithmetic (RFC 1982) on TSNs and SSNs */
static inline bool tsn_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tsn_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool ssn_lt(uint16_t a, uint16_t b) { return (int16_t)(a - b) < 0; }

/* ---- pool ---- */

/* buffer kinds */
enum { BK_DATA, BK_BLOB, BK_CLOSED_MARK, BK_RESET_MARK };

/* send-side states of a DATA buffer */
enum { TX_UNSENT, TX_INFLIGHT, TX_ACKED, TX_RTX, TX_ABANDONED };

struct sctp_buf {
    uint32_t next;
    uint32_t tsn;
    uint32_t ppid;
    uint32_t pr_value;
    uint16_t sid, ssn;
    uint16_t len;
    uint8_t flags;           /* DF_* as on the wire */
    uint8_t kind;            /* BK_* */
    uint8_t state;           /* TX_* */
    uint8_t nsent;
    uint8_t misses;          /* missing reports for fast retransmit */
    uint8_t pr;              /* enum sctp_pr_policy */
    uint8_t fast_rtx;        /* fast-retransmitted already: only T3 retransmits it again (RFC 9260 §7.2.4) */
    uint64_t sent_at;        /* last transmission */
    uint64_t born;           /* queued (TTL start) */
};

/* The buffers' descriptions (struct sctp_buf, 48 bytes each) in one array
 * and their bytes in another: the lists a SACK or a timer walks touch only
 * the small, hot descriptions (a 1,000-chunk send queue is 48 KB of them,
 * where descriptions inline with the data would be 1.2 MB of cold cache
 * lines: perf showed one DRAM miss per acknowledged chunk). */
struct sctp_pool {
    uint32_t n, free_head, free_count;
    uint16_t cap;
    uint16_t data_stride;    /* bytes between two buffers' data: cap rounded up to 64 */
    uint64_t data_off;       /* where the data area starts in mem */
    _Alignas(64) uint8_t mem[];
};

static inline struct sctp_buf *pbuf(const struct sctp_pool *p, uint32_t i)
{
    return (struct sctp_buf *)(void *)p->mem + i;
}

/* The bytes of buffer b (cap of them). */
static inline uint8_t *pdata(const struct sctp_pool *p, const struct sctp_buf *b)
{
    size_t i = (size_t)(b - (const struct sctp_buf *)(const void *)p->mem);
    return (uint8_t *)p->mem + p->data_off + i * p->data_stride;
}
uint32_t sctp_pool_get(struct sctp_pool *p);
void sctp_pool_put(struct sctp_pool *p, uint32_t i);
void sctp_pool_put_list(struct sctp_pool *p, uint32_t head);

/* ---- association ---- */

/* stream flags */
#define SF_DC_OUT 0x01       /* channel exists on this stream */
#define SF_DC_ACKED 0x02     /* opened by us and acknowledged (or opened by the peer) */
#define SF_RESET_WANTED 0x04 /* our outgoing reset queued */
#define SF_RESET_SENT 0x08   /* in the outstanding request */
#define SF_OUT_RESET 0x10    /* our outgoing direction reset */
#define SF_IN_RESET 0x20     /* the peer's outgoing direction reset */
#define SF_CLOSING 0x40      /* DataChannel closing */

/* 10 bytes, 2-aligned: the channel's reliability parameter (retransmissions
 * or lifetime in ms, 32 bits on the wire) in two halves */
struct sctp_stream {
    uint16_t ssn_out, ssn_in;
    uint8_t flags, dc_type;
    uint16_t dc_rel_lo, dc_rel_hi;
};

static inline uint32_t stream_rel(const struct sctp_stream *s)
{
    return (uint32_t)s->dc_rel_hi << 16 | s->dc_rel_lo;
}

static inline void stream_set_rel(struct sctp_stream *s, uint32_t v)
{
    s->dc_rel_lo = (uint16_t)v;
    s->dc_rel_hi = (uint16_t)(v >> 16);
}

/* T_CTL retransmits the hand-shake's INIT or COOKIE-ECHO (T1-init,
 * T1-cookie) before the association is up and SHUTDOWN or SHUTDOWN-ACK
 * (T2-shutdown) while it goes down: never both at once, the state tells
 * which. */
enum { T_CTL, T_RTX, T_RECONF, T_HB, T_SACK, T_COUNT };

/* The association, hot first: the first cache line is what every packet
 * reads (pool, counters, time, tags, state and the bits that say what is
 * owed, the receive point); the second and third what DATA and SACK move
 * (receive lists, send queue, windows, RTT); then timers, stream reset,
 * the settings copied from the configuration, and what only the hand-shake
 * uses. What only a rarer event needs waits in a pool buffer while it
 * lasts: the map of TSNs above a hole (rcv_map), the peer's INIT until our
 * INIT-ACK (ia_buf), its cookie (cookie_buf), a deferred stream reset
 * (in_reset_buf). sctp_assoc_size_cfg() adds the streams and, unless the
 * caller shares a block, the counters (8-aligned, after the streams).
 * Layout pinned by the _Static_asserts in sctp_assoc.c. */
struct sctp_assoc {
    struct sctp_pool *pool;
    struct sctp_counters *c; /* the caller's shared block, or the one after the streams */
    uint64_t now;
    uint32_t my_vtag, peer_vtag;
    uint8_t state;
    uint8_t n_dups, pkts_unacked, sack_q_n;
    /* what is owed, what the peer supports, settings: one bit each */
    bool need_sack : 1, sack_now : 1, need_fwd_tsn : 1, need_reconf_req : 1;
    bool need_reconf_resp : 1, need_hb : 1, need_error : 1, hb_outstanding : 1;
    bool need_init : 1, need_init_ack : 1, need_cookie_echo : 1, need_cookie_ack : 1;
    bool need_shutdown : 1, need_shutdown_ack : 1, need_shutdown_complete : 1, need_abort : 1;
    bool abort_tbit : 1, pending_up : 1, pending_down : 1, reconf_outstanding : 1;
    bool fast_recovery : 1, rtt_pending : 1, fr_bypass : 1;
    bool peer_fwd_tsn : 1, peer_reconf : 1, peer_zero_csum : 1;
    bool zero_csum_cfg : 1, dcep : 1, dtls_client : 1, abort_violation : 1;
    uint16_t lport, rport, mtu, n_streams;
    uint16_t n_out, n_in;
    uint32_t rwnd_cfg;

    /* receive side */
    uint32_t rcv_cum, rcv_highest;
    uint32_t rcv_map;        /* a pool buffer: TSNs cum+1 .. cum+1024 received, bit tsn % 1024;
                              * SCTP_NIL while nothing above cum has come (rcv_highest == rcv_cum) */
    uint32_t rx_head, rx_tail, rx_bytes; /* out-of-order or partial, TSN order */
    uint32_t ready_head, ready_tail;     /* complete messages and markers to poll */
    uint32_t sack_q_head, sack_q_tail;   /* SACKs built when they became due, in order */

    /* send side */
    uint32_t next_tsn, snd_head, snd_tail, snd_unsent;
    uint32_t cum_acked;      /* the peer's cumulative TSN ack */
    uint32_t adv_ack;        /* advanced peer ack point (PR-SCTP) */
    uint32_t flight, flight_n, buffered;
    uint32_t cwnd, ssthresh, pba, peer_rwnd;
    uint32_t recovery_exit, rtt_tsn, n_rtx;
    uint64_t srtt, rttvar, rto; /* ns */
    uint64_t timer[T_COUNT];
    uint32_t dups[4];

    /* heartbeats */
    uint32_t hb_ack_buf;     /* the peer's heartbeat info to echo */
    uint32_t hb_nonce;       /* our outstanding heartbeat (the low bits of the time sent) */

    /* stream reset */
    uint32_t reconf_seq;        /* our next request sequence number */
    uint32_t reconf_last_tsn;   /* sender's last assigned TSN in the outstanding request */
    uint32_t peer_reconf_seq;   /* the next request sequence number we expect */
    uint32_t resp_seq;
    uint32_t in_reset_buf;      /* deferred incoming reset (a pool buffer, sctp_reconf.c), or
                                 * SCTP_NIL; its request's sequence number is peer_reconf_seq */
    uint8_t resp_result;

    uint8_t errors;
    uint8_t down_reason, pending_error_type;

    /* settings the configuration gave (the hot ones are above) */
    uint8_t max_retrans, max_init_retrans;
    uint16_t sack_delay_ms;
    uint32_t sndbuf, max_message;
    uint32_t rto_init_ms, rto_min_ms, rto_max_ms, hb_ms;
    uint32_t rcv_last_ms;    /* when the last DATA packet came (now in ms, wrapping) */

    /* the hand-shake: tags and TSN drawn from the seed, the cookie's key
     * (derived from it), the peer's INIT we answer with an INIT-ACK (in a
     * pool buffer until the INIT-ACK is built: stateless until
     * COOKIE-ECHO), the peer's cookie while COOKIE-ECHOED */
    uint64_t rng0;           /* the generator's origin: draw k is splitmix(rng0 + k * golden) */
    uint32_t rng_n;          /* draws made (the first four are the cookie key) */
    uint32_t my_itsn;
    uint32_t cookie_buf;
    uint32_t ia_buf;
    uint8_t init_tries;
    /* DATA buffers held on the receive and ready lists, and the most it
     * may (sctp_config.max_buffers): in the padding before the streams,
     * on the line the ordered delivery reads anyway (streams[].ssn_in) */
    uint16_t rx_bufs, max_rx_bufs;

    struct sctp_stream streams[];
};

#define RX_WINDOW 1024u

/* TSN tsn of the peer has arrived (at or below the cumulative point, or
 * marked above it). sctp_rx.c. */
bool sctp_rx_has_tsn(const struct sctp_assoc *a, uint32_t tsn);

/* The user messages association a holds on its own view (sctp_census.c):
 * in its send queue with a piece not acknowledged, and complete on its
 * receive list (not the ready list, which outlives going down).
 * sctp_set_down counts them discarded. */
uint32_t sctp_census_held(const struct sctp_assoc *a);

static inline void sctp_drop(struct sctp_assoc *a, enum sctp_drop d) { a->c->drops[d]++; }
static inline void timer_set(struct sctp_assoc *a, int t, uint64_t at) { a->timer[t] = at ? at : 1; }
static inline void timer_stop(struct sctp_assoc *a, int t) { a->timer[t] = 0; }
uint32_t sctp_rand32(struct sctp_assoc *a);

/* sctp_tx.c */
void sctp_tx_init(struct sctp_assoc *a, uint32_t itsn, uint32_t peer_rwnd);
/* a SACK's cumulative ack, window and gap blocks (4-byte start/end pairs);
 * has_rwnd false for the cumulative ack of a SHUTDOWN */
void sctp_tx_sack(struct sctp_assoc *a, uint32_t cum, uint32_t a_rwnd, bool has_rwnd,
                  const uint8_t *gaps, uint16_t n_gaps);
void sctp_tx_t3(struct sctp_assoc *a);
/* appends DATA chunks (retransmissions first) to the packet; returns new offset */
size_t sctp_tx_fill(struct sctp_assoc *a, uint8_t *pkt, size_t off, size_t cap, bool *sent_data);
size_t sctp_tx_put_fwd_tsn(struct sctp_assoc *a, uint8_t *p, size_t room);
bool sctp_tx_has_sendable(const struct sctp_assoc *a);
void sctp_tx_free_all(struct sctp_assoc *a);
int sctp_tx_queue(struct sctp_assoc *a, uint16_t sid, uint32_t ppid, const void *data, size_t len,
                  const struct sctp_send_opts *o);

/* sctp_rx.c */
void sctp_rx_init(struct sctp_assoc *a, uint32_t peer_itsn);
/* one DATA chunk (len = chunk length) */
void sctp_rx_data(struct sctp_assoc *a, const uint8_t *ch, uint16_t len);
/* one FORWARD-TSN chunk; true when taken (the peer announced FORWARD-TSN
 * and the chunk is well formed: a SACK is due), false when dropped and
 * counted */
bool sctp_rx_forward_tsn(struct sctp_assoc *a, const uint8_t *ch, uint16_t len);
void sctp_rx_after_packet(struct sctp_assoc *a, bool had_data);
size_t sctp_rx_put_sack(struct sctp_assoc *a, uint8_t *p, size_t room);
/* a SACK is owed but delayed (one DATA packet unacknowledged, the
 * delayed-SACK timer running): sctp_poll_transmit bundles it, first, into
 * a packet that carries anything else (RFC 9260 §6, §6.10); it takes
 * SACK_LEN_DELAYED bytes (no gap block, no duplicate) */
bool sctp_rx_sack_delayed(const struct sctp_assoc *a);
#define SACK_LEN_DELAYED 16u
/* the oldest SACK built when due (a BK_BLOB buffer, caller frees), or SCTP_NIL */
uint32_t sctp_rx_pop_sack(struct sctp_assoc *a);
uint32_t sctp_rx_a_rwnd(const struct sctp_assoc *a);
/* Moves the messages that can be delivered (complete, and unordered or
 * next in their stream) to the ready list and drops what FORWARD-TSN left
 * behind. Returns false, and stops, at a message of more than max_message
 * bytes, whole or in reassembly: the peer broke the limit, the caller
 * aborts (sctp_abort_violation); true otherwise. */
bool sctp_rx_deliver(struct sctp_assoc *a);
void sctp_rx_free_all(struct sctp_assoc *a);
void sctp_ready_append(struct sctp_assoc *a, uint32_t head, uint32_t tail);
bool sctp_push_marker(struct sctp_assoc *a, uint8_t kind, uint16_t sid);

/* sctp_reconf.c */
void sctp_reconf_handle(struct sctp_assoc *a, const uint8_t *ch, uint16_t len);
size_t sctp_reconf_put(struct sctp_assoc *a, uint8_t *p, size_t room);
void sctp_reconf_timeout(struct sctp_assoc *a);
void sctp_reconf_check_deferred(struct sctp_assoc *a);
void sctp_reconf_kick(struct sctp_assoc *a);
/* the deferred incoming reset (in_reset_buf set): the sender's last TSN
 * before it, whether it resets stream sid; freed when done or going down */
uint32_t sctp_reconf_deferred_tsn(const struct sctp_assoc *a);
bool sctp_reconf_deferred_has(const struct sctp_assoc *a, uint16_t sid);
void sctp_reconf_free_deferred(struct sctp_assoc *a);

/* sctp_dcep.c: called for each complete message with PPID 50 at poll time */
enum sctp_event_type sctp_dcep_message(struct sctp_assoc *a, uint16_t sid, const uint8_t *m,
                                       uint32_t len, struct sctp_ev *ev, uint8_t *buf,
                                       size_t cap);
void sctp_dcep_stream_reset(struct sctp_assoc *a, uint16_t sid);

/* sctp_assoc.c */
void sctp_set_down(struct sctp_assoc *a, uint8_t reason);
/* The peer broke the protocol (a message over max_message): down now,
 * every buffer back in the pool, an ABORT with a Protocol Violation cause
 * (13) queued, counted in drops[SCTP_DROP_TOO_BIG]. */
void sctp_abort_violation(struct sctp_assoc *a);
uint64_t sctp_rto(const struct sctp_assoc *a);

#endif
