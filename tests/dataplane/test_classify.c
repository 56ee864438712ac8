/* SPDX-License-Identifier: MIT */
/* The dataplane rx path on an 8-agent ring: delivery, hop-by-hop relay with
 * rewritten headers, and every drop reason counted, never a crash. */
#include <criterion/criterion.h>
#include <string.h>

#include "dp_harness.h"

static struct dp_harness h;

static void setup(void)
{
    cr_assert_eq(dp_harness_init(&h), 0, "harness");
}

static void rx_one(struct rte_mbuf *m)
{
    cr_assert_not_null(m);
    struct rte_mbuf *pkts[1] = {m};
    dp_process_rx(&h.ctx, h.wk, pkts, 1, 5000);
}

static uint64_t drops(enum ri_drop why)
{
    return h.wk->m->live.drops[why];
}

Test(dp_rx, message_for_the_receiver_is_delivered, .init = setup)
{
    rx_one(dp_harness_frame(&h, 0, 1, 0, 1, 0));
    cr_assert_eq(h.wk->m->live.msgs_delivered, 1);
    cr_assert_eq(h.wk->m->latency.count, 1);
    cr_assert_eq(h.wk->m->latency.max, 4000, "latency = now - sent TSC, 1 ns per cycle here");
    cr_assert_eq(dp_harness_flush(&h), 0);
}

Test(dp_rx, message_for_another_agent_is_relayed_with_new_headers, .init = setup)
{
    /* 0 -> 1, destined to 3: agent 1 relays over edge (1,2), owned by worker 1 */
    rx_one(dp_harness_frame(&h, 0, 1, 0, 3, 0));
    cr_assert_eq(h.wk->m->live.msgs_forwarded, 1);
    cr_assert_eq(h.wk->n_out[1], 1, "handed to the owner of edge (1,2)");
    struct rte_mbuf *m = h.wk->out[1][0];
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    cr_assert_eq(rte_be_to_cpu_32(f->ip.src_addr), h.ctx.ri.agents[1].ip);
    cr_assert_eq(rte_be_to_cpu_32(f->ip.dst_addr), h.ctx.ri.agents[2].ip);
    cr_assert_eq(rte_be_to_cpu_16(f->udp.src_port), h.ctx.ri.edges[1].port_a);
    cr_assert_eq(rte_be_to_cpu_16(f->udp.dst_port), h.ctx.ri.edges[1].port_b);
    cr_assert_eq(f->msg.hops, 1);
    /* the header checksum verifies: summing a header with its checksum gives 0xffff */
    cr_assert_eq(rte_raw_cksum(&f->ip, sizeof(f->ip)), 0xffff);
    /* the relayed frame is a valid frame of flow (1 -> 2): feed it back in */
    h.wk->n_out[1] = 0;
    rx_one(m);
    cr_assert_eq(h.wk->m->live.msgs_forwarded, 2, "agent 2 relays on to 3");
    cr_assert_eq(h.wk->n_tx + h.wk->n_out[1], 1);
    dp_harness_flush(&h);
}

Test(dp_rx, shortest_way_round_the_ring_is_taken, .init = setup)
{
    /* from 1 (received from 2) towards 7: backwards through 0 */
    rx_one(dp_harness_frame(&h, 2, 1, 2, 7, 0));
    cr_assert_eq(h.wk->m->live.msgs_forwarded, 1);
    struct rte_mbuf *m = h.wk->n_tx ? h.wk->tx[0] : h.wk->out[1][0];
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    cr_assert_eq(rte_be_to_cpu_32(f->ip.dst_addr), h.ctx.ri.agents[0].ip);
    dp_harness_flush(&h);
}

Test(dp_rx, hop_limit_drops_loops, .init = setup)
{
    rx_one(dp_harness_frame(&h, 0, 1, 0, 4, 64));
    cr_assert_eq(drops(RI_DROP_HOP_LIMIT), 1);
    cr_assert_eq(h.wk->m->live.msgs_dropped, 1);
    cr_assert_eq(dp_harness_flush(&h), 0);
}

Test(dp_rx, malformed_frames_are_counted_by_reason, .init = setup)
{
    struct rte_mbuf *m;
    /* not IPv4 */
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
    rx_one(m);
    cr_assert_eq(drops(RI_DROP_NOT_IPV4), 1);
    /* truncated: cut inside the IP header, then inside the UDP payload */
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    m->data_len = m->pkt_len = 20;
    rx_one(m);
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    m->data_len = m->pkt_len = 90;
    rx_one(m);
    cr_assert_eq(drops(RI_DROP_TRUNCATED), 2);
    /* IP options / wrong version */
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->ip.version_ihl = 0x46;
    rx_one(m);
    cr_assert_eq(drops(RI_DROP_BAD_IP_HEADER), 1);
    /* not UDP */
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->ip.next_proto_id = IPPROTO_TCP;
    rx_one(m);
    cr_assert_eq(drops(RI_DROP_NOT_UDP), 1);
    /* unknown flow: right addresses, wrong port */
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->udp.dst_port = rte_cpu_to_be_16(9);
    rx_one(m);
    cr_assert_eq(drops(RI_DROP_UNKNOWN_FLOW), 1);
    /* bad agent message: magic, version, length, destination out of range */
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->msg.magic = 0;
    rx_one(m);
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->msg.version = 9;
    rx_one(m);
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->msg.length = rte_cpu_to_be_16(1000);
    rx_one(m);
    m = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    rte_pktmbuf_mtod(m, struct dp_frame *)->msg.dst = rte_cpu_to_be_32(H_AGENTS);
    rx_one(m);
    cr_assert_eq(drops(RI_DROP_BAD_MESSAGE), 4);
    cr_assert_eq(h.wk->m->live.msgs_delivered, 0);
    cr_assert_eq(h.wk->m->live.pkts_rx, 10);
    cr_assert_eq(dp_harness_flush(&h), 0);
    /* every buffer came back to the pool */
    cr_assert_eq(rte_mempool_avail_count(h.ctx.pool), 1024);
}

Test(dp_rx, a_burst_mixing_good_and_bad_frames, .init = setup)
{
    struct rte_mbuf *pkts[6];
    pkts[0] = dp_harness_frame(&h, 0, 1, 0, 1, 0);
    uint8_t junk[3] = {1, 2, 3};
    pkts[1] = dp_harness_raw(&h, junk, sizeof(junk));
    pkts[2] = dp_harness_frame(&h, 2, 3, 2, 3, 0);
    pkts[3] = dp_harness_frame(&h, 4, 5, 4, 6, 0);
    pkts[4] = dp_harness_raw(&h, junk, 0);
    pkts[5] = dp_harness_frame(&h, 7, 0, 7, 0, 3);
    dp_process_rx(&h.ctx, h.wk, pkts, 6, 2000);
    cr_assert_eq(h.wk->m->live.msgs_delivered, 3);
    cr_assert_eq(h.wk->m->live.msgs_forwarded, 1);
    cr_assert_eq(drops(RI_DROP_TRUNCATED), 2);
    cr_assert_eq(h.wk->m->live.hops_delivered, 3);
    cr_assert_eq(dp_harness_flush(&h), 1);
}

/* The header checksum computed from the values equals DPDK's over the
 * written header, for every length, id and address the frames take. */
Test(dp_rx, header_checksum_from_the_values_equals_dpdk_s)
{
    uint8_t buf[sizeof(struct dp_frame)] __attribute__((aligned(8)));
    struct dp_frame *f = (struct dp_frame *)buf;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t ip_from = (uint32_t)x, ip_to = (uint32_t)(x >> 32);
        uint16_t len = (uint16_t)(x >> 7) % 9000, id = (uint16_t)(x >> 23);
        if (i < 4)
            ip_from = ip_to = i & 1 ? 0xffffffffu : 0, len = i & 2 ? 8972 : 0, id = i & 1 ? 0xffff : 0;
        dp_frame_write_l234(f, 1, 2, ip_from, ip_to, 5000, 5001, len, id);
        uint16_t mine = f->ip.hdr_checksum;
        f->ip.hdr_checksum = 0;
        cr_assert_eq(mine, rte_ipv4_cksum(&f->ip), "from %08x to %08x len %u id %u", ip_from, ip_to, len, id);
    }
}
