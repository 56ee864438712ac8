/* SPDX-License-Identifier: MIT */
/*
 * dp_internal: what the dataplane's own files share beyond dp.h (the flow
 * table, the rx path, sending a frame on an edge), not for swarmgen-dp's
 * main; the tests and fuzz targets of tests/dataplane use it too.
 */
#ifndef SWARMGEN_DP_INTERNAL_H
#define SWARMGEN_DP_INTERNAL_H

#include "dp.h"
#include "dp_msg.h"

/* Builds the flow table from the image's edges. 0 or negative errno. */
int dp_setup_flows(struct dp_ctx *ctx, char *err, size_t errlen);

/* Classifies a burst of received frames and delivers, relays or drops each
 * one. Relayed frames land in wk->tx (owner is this worker) or wk->out[]
 * (other owners); tests inspect and free them. Takes ownership of pkts. */
void dp_process_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts,
                   uint16_t n, uint64_t tsc);

/* Queues a frame whose headers are written for edge `e` for transmission by
 * the edge's owner: this worker's tx burst, or the hand-off ring. */
void dp_to_owner(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e);

/* Writes the L2-L4 headers of frame m (UDP payload of payload_len bytes
 * already in place after them) for agent `from` sending on edge e, and
 * sends it through the edge's network emulation to the edge's owner. */
void dp_send_frame(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint32_t e, uint32_t from,
                   uint16_t payload_len, uint64_t tsc);

/* Frame m, held somewhere when the workers stop, carries one agent message
 * counted in msgs_sent: traffic udp (a frame is a message; with
 * connections frames carry SCTP packets, whose messages their sender
 * holds), an IPv4/UDP frame long enough for the agent header, not an
 * emulated duplicate (dp_netem.c flags those). */
static inline bool dp_frame_is_msg(const struct dp_worker *wk, const struct rte_mbuf *m)
{
    if (!wk->frames_are_msgs || m->data_len < sizeof(struct dp_frame))
        return false;
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    return f->eth.ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && f->ip.next_proto_id == IPPROTO_UDP &&
           !(f->msg.seq & rte_cpu_to_be_64(AGENT_SEQ_DUPLICATE));
}

#endif
