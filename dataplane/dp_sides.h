/* SPDX-License-Identifier: MIT */
/*
 * dp_sides: two sides through a device under test (docs/sides.md).
 *
 * Agent i is on side i & 1 (ri_side), each side on its own port. A frame
 * between agents of different sides leaves by the sender's side port, so
 * it crosses the device under test and comes back on the other side's
 * port; a frame between agents of one side stays on the sender's worker
 * (its loopback ring port). With a gateway (a router between the sides)
 * a crossing frame goes to the gateway's MAC, resolved by ARP at set-up
 * and again every few seconds; the dataplane answers ARP for its agents
 * on each side's port, with the agent's own MAC.
 *
 * Shards (--shard I/N) use the same machinery with one port, the link to
 * the other shards: a frame for an agent of another shard leaves by it,
 * one for an agent of this shard stays on the loopback ring.
 *
 * Writers: gw_mac is stored (relaxed) by whichever worker receives the
 * gateway's ARP; every other field is written before the workers start
 * (next_refresh by worker 0 alone).
 */
#ifndef SWARMGEN_DP_SIDES_H
#define SWARMGEN_DP_SIDES_H

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dp.h"
#include "dp_msg.h"

/* m->port of a frame that stays on its worker's loopback port */
#define DP_SIDES_LOOP UINT16_MAX

struct dp_sides {
    uint16_t port[2];        /* DPDK port ids of side A and side B; shards: [0] the link, [1] none */
    uint32_t shard, n_shards; /* --shard I/N (n_shards 0: two sides) */
    uint64_t *peer_mac;       /* --peer-mac: per shard, the MAC its frames go to (0: the agent's); NULL none */
    uint32_t gw_ip[2];       /* host byte order, 0: no gateway (layer 2) */
    uint64_t gw_mac[2];      /* the gateway's MAC in the low 6 bytes, 0 until resolved */
    uint64_t refresh_cycles; /* between gateway ARP requests */
    uint64_t next_refresh;   /* worker 0's */
};

/* Finds the two side ports (or the shards' link) among ctx->port by the
 * names the run image gives, and allocates ctx->sides. 0, or a negative
 * errno with `err`. */
int dp_sides_init(struct dp_ctx *ctx, char *err, size_t errlen);

/* Resolves each side's gateway by ARP on the main lcore, before the
 * workers start (worker 0's queues). 0, or -ETIMEDOUT with `err` naming
 * the gateway that did not answer. */
int dp_sides_resolve(struct dp_ctx *ctx, char *err, size_t errlen);

void dp_sides_free(struct dp_ctx *ctx);

/* Frames received on side `side`'s port: counts them, answers or learns
 * from the ARP ones (consumed), and compacts the rest (IPv4 and foreign
 * frames, for dp_process_rx) to the front. Returns how many remain. */
uint16_t dp_sides_rx(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t side, struct rte_mbuf **pkts,
                     uint16_t n);

/* Sends tx[0..n) each on the port dp_sides_address chose, from this
 * worker's queue; reorders tx so that the frames sent come first and
 * returns how many were sent (the rest are the caller's to drop). */
uint16_t dp_sides_tx(struct dp_worker *wk, struct rte_mbuf **tx, uint16_t n);

/* Worker 0: asks the gateways again when it is time. */
void dp_sides_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* Chooses the port of frame m (at f), written to agent `to` from an
 * endpoint on side from_side to one on side to_side (an agent's side, or
 * the other for its alias): the sender's side port when the sides differ,
 * with the gateway's MAC as destination when there is one; else the
 * loopback. Shards: the link when `to` is another shard's. */
static inline void dp_sides_address(const struct dp_sides *s, struct rte_mbuf *m, struct dp_frame *f, uint32_t to,
                                    uint32_t from_side, uint32_t to_side)
{
    if (s->n_shards) { /* to another shard by the link, to this one by the loopback */
        uint32_t sh = to % s->n_shards;
        if (sh == s->shard) {
            m->port = DP_SIDES_LOOP;
            return;
        }
        m->port = s->port[0];
        if (s->peer_mac && s->peer_mac[sh])
            memcpy(f->eth.dst_addr.addr_bytes, &s->peer_mac[sh], RTE_ETHER_ADDR_LEN);
        return;
    }
    if (from_side == to_side) {
        m->port = DP_SIDES_LOOP;
        return;
    }
    uint32_t side = from_side;
    m->port = s->port[side];
    uint64_t gw = __atomic_load_n(&s->gw_mac[side], __ATOMIC_RELAXED);
    if (gw)
        memcpy(f->eth.dst_addr.addr_bytes, &gw, RTE_ETHER_ADDR_LEN);
}

#endif
