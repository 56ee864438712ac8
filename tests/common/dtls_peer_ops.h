/* SPDX-License-Identifier: MIT */
/*
 * dtls_peer_ops: a DTLS endpoint implementation behind an untyped self, as
 * a harness that drives several side by side sees it (pc_bench's
 * handshake loop drives ours and mbedTLS's through it; tests/crypto's
 * in-memory link has a struct link_peer of the same shape): datagrams in,
 * datagrams out into the caller's buffer, the next deadline and its
 * expiry, the state, the release. Time is the caller's `now` (ns).
 */
#ifndef SWARMGEN_TESTS_DTLS_PEER_OPS_H
#define SWARMGEN_TESTS_DTLS_PEER_OPS_H

#include <stddef.h>
#include <stdint.h>

struct dtls_peer_ops {
    /* hands in one datagram */
    void (*input)(void *self, const uint8_t *d, size_t len, uint64_t now);
    /* the next datagram out into buf (cap bytes): its length, 0 when none */
    size_t (*transmit)(void *self, uint8_t *buf, size_t cap, uint64_t now);
    /* when the endpoint wants timeout() next (UINT64_MAX: never) */
    uint64_t (*next_timeout)(void *self);
    void (*timeout)(void *self, uint64_t now);
    /* 0 the handshake goes on, 1 it is done, -1 it failed */
    int (*state)(void *self);
    /* releases what the endpoint holds */
    void (*free)(void *self);
};

#endif
