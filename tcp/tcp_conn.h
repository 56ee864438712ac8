/* SPDX-License-Identifier: MIT */
/*
 * tcp_conn: the client side of one TCP connection (RFC 9293), sans-I/O,
 * for TURN over TCP (docs/tcp.md). The segments in and out are bare TCP
 * segments (header and payload, no IP header); the caller knows both
 * addresses (tcp_config) for the checksum's pseudo-header.
 *
 * What it does: active open (SYN with the MSS option, ISN from the
 * caller's randomness), the established state, in-order receive (an
 * out-of-order segment is dropped and the expected sequence number ACKed
 * at once; no SACK, no window scaling, no timestamps), sending within the
 * peer's window and a congestion window (RFC 5681 slow start, congestion
 * avoidance, fast retransmit on the third duplicate ACK without the
 * window inflation of fast recovery), retransmission on a timer
 * (RFC 6298: SRTT/RTTVAR from one timed segment at a time, Karn's rule,
 * back-off doubling, 200 ms minimum), FIN and RST both ways (RFC 5961's
 * exact-sequence check for RST, a challenge ACK otherwise), TCP checksum
 * written and verified (a bad one is counted and the segment dropped).
 * No TIME_WAIT: the connection is closed when both FINs are acknowledged
 * (the caller never reuses a 4-tuple within a run).
 *
 * Time: every entry point takes `now` (ns); an older `now` counts as the
 * last one seen. tcp_next_timeout() says when tcp_handle_timeout() is due.
 *
 * Memory: the caller's, tcp_size(sndbuf) bytes (8-byte aligned): the state
 * and a ring of sndbuf bytes (a power of two) holding what is sent but not
 * yet acknowledged, and what is queued. Received data is not copied: it is
 * handed out pointing into the segment. No allocation, no global state;
 * one connection belongs to one thread at a time.
 *
 * Driving it: tcp_connect(); hand every segment of the 4-tuple to
 * tcp_handle_input(); call tcp_handle_timeout() at the deadline; after
 * each of these and after tcp_send()/tcp_close()/tcp_abort(), drain
 * tcp_poll_transmit() until it returns 0 and tcp_poll_event() until it
 * returns TCP_EV_NONE.
 */
#ifndef SWARMGEN_TCP_CONN_H
#define SWARMGEN_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define TCP_HDR_LEN 20
#define TCP_SYN_LEN 24 /* header and the MSS option */
#define TCP_SNDBUF_DEFAULT 16384u

enum tcp_state {
    TCP_CLOSED_STATE, /* before tcp_connect, and at the end (see the last event) */
    TCP_SYN_SENT,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1, /* we closed; our FIN not yet acknowledged */
    TCP_FIN_WAIT_2, /* our FIN acknowledged, the peer's not yet seen */
    TCP_CLOSING,    /* both FINs sent, ours not yet acknowledged */
    TCP_CLOSE_WAIT, /* the peer closed; we may still send */
    TCP_LAST_ACK,   /* the peer closed, then we did */
};

enum tcp_event_type {
    TCP_EV_NONE,
    TCP_EV_CONNECTED, /* the SYN-ACK arrived (once) */
    TCP_EV_PEER_FIN,  /* the peer will send nothing more (once) */
    TCP_EV_CLOSED,    /* both sides closed and acknowledged (or closed before connecting) */
    TCP_EV_RESET,     /* the peer reset the connection */
    TCP_EV_FAILED,    /* max_retx timeouts in a row: given up (a RST goes out) */
};

struct tcp_config {
    uint32_t local_ip, remote_ip;     /* IPv4, host byte order (the pseudo-header) */
    uint16_t local_port, remote_port;
    uint32_t isn;                     /* initial sequence number: the caller's randomness */
    uint16_t mss;                     /* ours, sent in the SYN (0: 1460) */
    uint16_t rcv_wnd;                 /* the window we advertise (0: 65535); the caller consumes every byte at once */
    uint32_t sndbuf;                  /* send ring bytes, a power of two (0: TCP_SNDBUF_DEFAULT) */
    uint64_t rto_init_ns;             /* before the first RTT sample (0: 1 s, RFC 6298) */
    uint64_t rto_min_ns;              /* (0: 200 ms) */
    uint64_t rto_max_ns;              /* (0: 60 s) */
    uint32_t max_retx;                /* timeouts in a row before TCP_EV_FAILED (0: 8) */
};

struct tcp_counters {
    uint64_t segs_in, segs_out, bytes_in, bytes_out; /* payload bytes: delivered in order / first sent */
    uint32_t retransmits;     /* retransmission timeouts (each resends from the oldest unacknowledged byte) */
    uint32_t retx_segments;   /* segments sent again */
    uint32_t fast_retransmits; /* segments resent on the third duplicate ACK */
    uint32_t bad_checksum;    /* dropped: checksum */
    uint32_t bad_segments;    /* dropped: too short, a bad data offset or option */
    uint32_t foreign;         /* other ports (ENGINE_IN_IGNORED) */
    uint32_t out_of_order;    /* dropped above the expected sequence number (ACKed) */
    uint32_t duplicates;      /* wholly below it (ACKed) */
    uint32_t bad_acks;        /* acknowledging what was never sent (ACKed, dropped) */
    uint32_t rst_in, rst_out, challenge_acks;
    uint32_t rtt_samples;
};

struct tcp_ev {
    enum tcp_event_type type;
};

struct tcp_conn;

/* Bytes of caller memory (8-byte aligned) for a connection with sndbuf
 * bytes of send ring (0: TCP_SNDBUF_DEFAULT). */
size_t tcp_size(uint32_t sndbuf);

/* Sets up a connection in mem (tcp_size(cfg->sndbuf) bytes), closed.
 * Returns it, or NULL when sndbuf is not a power of two (>= 1024) or mss
 * is below 64. */
struct tcp_conn *tcp_init(void *mem, const struct tcp_config *cfg);

/* Active open: the SYN is due from tcp_poll_transmit. Returns 0, or
 * -EISCONN when not closed or already used. */
int tcp_connect(struct tcp_conn *c, uint64_t now);

/* Queues len bytes to send, all or nothing. Returns 0; -EAGAIN when the
 * ring has not tcp_send_space() >= len free; -ENOTCONN after close, reset
 * or failure (or before tcp_connect). Bytes queued in SYN_SENT leave once
 * connected. */
int tcp_send(struct tcp_conn *c, const uint8_t *data, size_t len, uint64_t now);

/* Free bytes in the send ring. */
size_t tcp_send_space(const struct tcp_conn *c);

/* Closes our side: a FIN after the queued bytes. Before the SYN-ACK, the
 * connection is simply dropped (TCP_EV_CLOSED). */
void tcp_close(struct tcp_conn *c, uint64_t now);

/* Resets the connection: a RST is due (when it was synchronized), no event. */
void tcp_abort(struct tcp_conn *c, uint64_t now);

/* Hands in one segment (TCP header and payload) from remote_ip to
 * local_ip. New in-order payload is set in *rx_data and *rx_len (pointing into
 * seg: consume it before the next call), else *rx_len is 0. Returns
 * ENGINE_IN_ACCEPTED (including duplicates and out-of-order segments,
 * dropped and ACKed); ENGINE_IN_IGNORED for other ports, or a segment
 * with no connection to take it; ENGINE_IN_MALFORMED for a bad checksum,
 * a short segment or a bad header (counted, nothing changed). */
enum engine_input tcp_handle_input(struct tcp_conn *c, const uint8_t *seg, size_t len, uint64_t now,
                                   const uint8_t **rx_data, size_t *rx_len);

/* Runs the retransmission timer. */
void tcp_handle_timeout(struct tcp_conn *c, uint64_t now);

/* Writes the next segment (header, checksum and payload) into buf; returns
 * its length, or 0 when nothing is due or cap is below TCP_SYN_LEN (a
 * data segment is cut to fit cap). */
size_t tcp_poll_transmit(struct tcp_conn *c, uint8_t *buf, size_t cap, uint64_t now);

/* The next event into *ev; returns its type (TCP_EV_NONE when none). */
enum tcp_event_type tcp_poll_event(struct tcp_conn *c, struct tcp_ev *ev);

/* The retransmission deadline (ns), UINT64_MAX when none; the last `now`
 * while a segment is due that tcp_poll_transmit was not asked for. */
uint64_t tcp_next_timeout(const struct tcp_conn *c);

enum tcp_state tcp_state(const struct tcp_conn *c);
const char *tcp_state_name(enum tcp_state s);
const struct tcp_counters *tcp_counters(const struct tcp_conn *c);
/* The smoothed round trip (0 before a sample) and the current RTO (ns). */
uint64_t tcp_srtt_ns(const struct tcp_conn *c);
uint64_t tcp_rto_ns(const struct tcp_conn *c);
/* The peer's MSS (from its SYN-ACK, 536 without the option) and window. */
uint16_t tcp_peer_mss(const struct tcp_conn *c);
uint32_t tcp_peer_window(const struct tcp_conn *c);

/* The TCP checksum of len bytes of segment from src to dst (host order),
 * the pseudo-header included: 0 for a segment whose checksum is right,
 * and the value to store when its checksum field is 0. */
uint16_t tcp_checksum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);

#endif
