/* SPDX-License-Identifier: MIT */
/*
 * dp_uring: the io_uring backend (--backend uring). The same workers,
 * engines, flow table, hand-offs and metrics as the DPDK backend; only the
 * I/O path differs: frames leave and arrive through kernel UDP sockets on
 * loopback instead of DPDK ports.
 *
 * Sockets: one per edge endpoint, as a user-space WebRTC stack holds one
 * per peer connection and candidate: agent 198.18.c.d of the image is
 * bound as 127.18.c.d (all of 127.0.0.0/8 is local on Linux; the next
 * free /15 block when another run holds an address) on port 20000 + the
 * edge's slot in the agent's adjacency (unique per agent, below the
 * ephemeral range) and connect()ed to the other endpoint, so the kernel delivers only the
 * peer's datagrams to it. Every socket of an edge belongs to the edge's
 * owner, so nothing crosses workers that would not cross them on DPDK.
 *
 * Per worker one io_uring (single issuer, deferred task work: completions
 * are produced when the worker asks for them, at the end of each pass):
 * the sockets are registered files; each has a multishot receive armed
 * that takes buffers from a provided-buffer ring whose entries are mbuf
 * data rooms, so a datagram lands where its frame headers (rebuilt from
 * the socket's 5-tuple) go in front of it and the frame goes through the
 * same rx path as a DPDK frame. Sends are writes from the registered mbuf
 * pool memory (WRITE_FIXED on the connected socket; plain SEND when the
 * pool cannot be registered), freed when their completion arrives. One
 * io_uring_enter per pass submits the sends and re-armed receives and
 * collects completions.
 *
 * Not thread-safe: each ring is used by its worker only, after
 * dp_uring_init on the set-up thread.
 */
#ifndef SWARMGEN_DP_URING_H
#define SWARMGEN_DP_URING_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"

/* Agent address ip (host order) as the uring backend binds it: the low
 * 17 bits of the image's address (198.18.0.0/15) in the loopback block
 * 127.net.0.0/15 (net even, 18 unless another run holds it). */
static inline uint32_t dp_uring_addr(uint32_t ip, uint8_t net)
{
    return 0x7f000000u | (uint32_t)net << 16 | (ip & 0x1ffffu);
}

#define DP_URING_NET_FIRST 18
#define DP_URING_NET_TRIES 32
#define DP_URING_PORT_BASE 20000 /* + the edge's slot in the agent's adjacency, below the ephemeral range */

/* Raises RLIMIT_NOFILE for every worker's sockets (2 per edge) and lays
 * out their ports (ctx->uring_ports). 0, or -EMFILE/-ENOMEM/-E2BIG with
 * the reason in err. Set-up thread, before dp_uring_init. */
int dp_uring_prepare(struct dp_ctx *ctx, char *err, size_t errlen);

/* Creates worker wk's sockets (agents in 127.net.0.0/15) and ring,
 * registers files, buffers and the provided-buffer ring (the receives are
 * armed by the worker's first dp_uring_rx). 0 or a negative errno with the
 * reason in err; -EADDRINUSE when an address of the block is taken. */
int dp_uring_init(const struct dp_ctx *ctx, struct dp_worker *wk, uint8_t net, char *err, size_t errlen);

/* true when wk's sends come from registered buffers (WRITE_FIXED). */
bool dp_uring_fixed_bufs(const struct dp_worker *wk);

/* Closes the sockets and the ring; safe on partial init. */
void dp_uring_free(struct dp_worker *wk);

/* Up to n received frames (headers rebuilt) into pkts; frees the mbufs of
 * completed sends and counts failed ones. Worker only. */
uint16_t dp_uring_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t n);

/* Queues frames for sending on their edge endpoint's socket (the edge and
 * side tagged by dp_uring_tag); returns how many were queued, the caller
 * drops the rest. Worker only. */
uint16_t dp_uring_tx(struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t n);

/* One io_uring_enter: submits what the pass queued, collects completions.
 * Worker only. */
void dp_uring_submit(struct dp_worker *wk);

/* Marks frame m as sent by endpoint `side` (0: agent a) of edge e. */
static inline void dp_uring_tag(struct rte_mbuf *m, uint32_t e, int side)
{
    m->hash.usr = e << 1 | (uint32_t)side;
}

#endif
