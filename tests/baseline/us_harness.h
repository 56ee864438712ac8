/* SPDX-License-Identifier: MIT */
/*
 * us_harness: the usrsctp baseline (baseline/, swarmgen-usrsctp) run
 * in-process without sockets or threads, for tests and fuzz targets.
 *
 * The worker is built by us_setup with ctx.tx set (us.h: no UDP socket,
 * every datagram an endpoint sends comes to the harness's wire), usrsctp
 * runs without its own threads (usrsctp_init_nothreads, as
 * swarmgen-usrsctp), and the harness plays the worker loop: a virtual
 * clock in 1 ms steps (wk->now, one TSC cycle per ns), usrsctp's timers
 * every 10 ms, us_conns_poll, the sweep every 100 ms, and a zero-delay
 * wire that hands each datagram to the other endpoint of its connection
 * with us_ep_input. The run image is a ring of US_H_AGENTS agents (as
 * many edges, both endpoints of each on the one worker), traffic dc,
 * 64-byte messages, seed 1.
 *
 * Time model: virtual (wk->now), except what mbedTLS reads itself: its
 * HelloVerify cookies carry the wall-clock time (60 s lifetime).
 * usrsctp is one stack per process, so there is one harness per process.
 */
#ifndef SWARMGEN_US_HARNESS_H
#define SWARMGEN_US_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "us.h"

#define US_H_MS         1000000ull
#define US_H_SECOND     1000000000ull
#define US_H_AGENTS     4u /* a ring: as many edges */
#define US_H_WIRE_SLOTS 512u
#define US_H_BUDGET     20000u /* datagrams per delivery round: stops a ping-pong */

/* A datagram in flight to endpoint (conn, side). */
struct us_h_dgram {
    uint32_t conn;
    uint8_t side; /* the receiver */
    uint16_t len;
    uint8_t data[US_DGRAM_MAX];
};

struct us_harness;

/* Sees every datagram an endpoint sends, before it is put on the wire;
 * returns false to take it off the wire (it is then never delivered). */
typedef bool (*us_h_tap_fn)(struct us_harness *h, const struct us_h_dgram *g);

struct us_harness {
    struct us_ctx ctx;
    struct us_worker *wk;
    void *image;
    uint64_t last_timer_ms, next_sweep;
    struct us_h_dgram wire[US_H_WIRE_SLOTS];
    uint32_t wire_head, wire_n;
    uint64_t wire_lost; /* the wire was full */
    us_h_tap_fn tap;    /* NULL: none */
    void *tap_arg;
};

/* Starts usrsctp (conn_output: usrsctp's output callback, which must end
 * in us_conn_output; NULL is us_conn_output), builds the image and the
 * worker into h (zeroed by the caller, tap set if wanted) and brings
 * every connection up through ICE, DTLS, SCTP and DCEP within 60 virtual
 * seconds. 0, or -1 with one line on stderr. */
int us_h_start(struct us_harness *h, int (*conn_output)(void *, void *, size_t, uint8_t, uint8_t));

/* Hands every datagram on the wire to its receiver (up to US_H_BUDGET). */
void us_h_deliver(struct us_harness *h);

/* Puts datagram d (n bytes) on the wire from endpoint `from` (through the
 * tap), as its socket would. */
void us_h_send_raw(struct us_harness *h, struct us_ep *from, const uint8_t *d, size_t n);

/* One millisecond of the worker loop; ns of virtual time. */
void us_h_step(struct us_harness *h);
void us_h_run_for(struct us_harness *h, uint64_t ns);

/* True when every connection is up. */
bool us_h_all_up(const struct us_harness *h);

/* Steps until every connection is up, for at most max_ns. True when up. */
bool us_h_run_until_up(struct us_harness *h, uint64_t max_ns);

/* Takes off the wire the datagrams to connections that are not up. */
void us_h_wire_keep_up(struct us_harness *h);

/* The agent at endpoint s of connection c. */
uint32_t us_h_agent(const struct us_harness *h, const struct us_conn *c, int s);

/* A well-formed agent message (sequence seq) from endpoint s of c to its
 * peer, through the baseline's send path (us_send_msg). */
void us_h_send_msg(struct us_harness *h, struct us_conn *c, int s, uint32_t seq);

#endif
