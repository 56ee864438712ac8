/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the external port's frame path (dataplane/dp_external.c:
 * dp_external_rx: Ethernet, proxy ARP, IPv4/UDP checks, the demux onto
 * external sessions by slot port and agent address, then ICE and the
 * session's connection) on the dc harness with the port on a net_ring
 * vdev, as tests/dataplane/test_external.c sets it up: echo mode, two
 * slots whose sessions (agents 3 and 4) are requested at the first input
 * and requested again whenever they have ended.
 *
 * Input: records as tests/common/fuzz_input.h reads them. The flags byte:
 *   bits 0-1  0: the bytes as a raw Ethernet frame;
 *             1: a valid ARP request from the peer for agent (bytes[0] % 10:
 *                 8 agents, then one past them and the peer's own address),
 *                 the rest of the bytes XORed over its ARP header;
 *             2: an IPv4/UDP frame from the peer (bit 2: from another
 *                 address and port) to slot (bit 3) at its agent and port,
 *                 the bytes as the UDP payload (STUN, DTLS, anything);
 *             3: an ICE Binding request signed with the session's password
 *                 to slot (bit 3) (bit 2: claims the controlled role; the
 *                 first 8 bytes are its tie-breaker, byte 8 bit 0
 *                 USE-CANDIDATE), so checks pass MESSAGE-INTEGRITY
 *   bits 4-6  the clock moves by that many × 20 ms after the frame, and the
 *             port is polled as worker 0 polls it.
 * After each input every frame the port sent is taken back off the ring;
 * then every mbuf out of the pool must be one the dataplane holds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ethdev.h>

#include "dp_external.h"
#include "dp_external_internal.h"
#include "dp_harness.h"
#include "external.h"
#include "fuzz_input.h"
#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_harness h;
static struct ri_external *x;
static struct dp_external *ext;
static uint32_t seq[2];

static const uint8_t peer_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
#define PEER_IP  0xc613fffeu /* 198.19.255.254 */
#define OTHER_IP 0xc613fffdu
#define SLOT_AGENT(s) (3u + (s))

static void request(uint32_t slot)
{
    struct ri_ext_slot *sl = &x->slot[slot];
    sl->agent = SLOT_AGENT(slot);
    sl->port = (uint16_t)(RI_EXTERNAL_PORT_BASE + slot);
    sl->dtls_client = 1;
    snprintf(sl->local_ufrag, sizeof(sl->local_ufrag), "ourufrag");
    snprintf(sl->local_pwd, sizeof(sl->local_pwd), "our-password-0123456789");
    snprintf(sl->remote_ufrag, sizeof(sl->remote_ufrag), "peer");
    snprintf(sl->remote_pwd, sizeof(sl->remote_pwd), "peer-password-0123456789");
    memset(sl->remote_fp, 0xab, 32);
    ri_store(&sl->seq, ++seq[slot]);
}

static void poll_port(void)
{
    for (int i = 0; i < DP_EXT_POLL_PASSES; i++)
        dp_external_poll(&h.ctx, h.wk, h.tsc);
}

static void setup(void)
{
    if (dp_harness_init_dc(&h, NULL) != 0)
        abort();
    x = ri_section(h.ctx.ri.hdr, RI_SEC_EXTERNAL);
    ctl_external_prepare(x, RI_EXT_ECHO, 2, "net_ring_sgextfz0", 0);
    char err[256];
    if (dp_external_init(&h.ctx, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_external_frames: %s\n", err);
        abort();
    }
    ext = h.ctx.external;
    ext->tsc0 = 0; /* the harness's fake TSC */
    h.tsc = 1000;
}

static uint32_t agent_ip(uint32_t a)
{
    return h.ctx.ri.agents[a].ip;
}

static struct rte_mbuf *arp_request(const uint8_t *b, size_t n)
{
    uint32_t k = n ? b[0] % 10u : 0;
    uint32_t target = k < 8 ? agent_ip(k) : k == 8 ? h.ctx.ri.cfg->ip_base + 1 + h.ctx.ri.cfg->n_agents : PEER_IP;
    uint8_t f[RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr)];
    memset(f, 0, sizeof(f));
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
    memset(eth->dst_addr.addr_bytes, 0xff, 6);
    memcpy(eth->src_addr.addr_bytes, peer_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = 6;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    memcpy(a->arp_data.arp_sha.addr_bytes, peer_mac, 6);
    a->arp_data.arp_sip = rte_cpu_to_be_32(PEER_IP);
    a->arp_data.arp_tip = rte_cpu_to_be_32(target);
    for (size_t i = 1; i < n && i - 1 < sizeof(*a); i++)
        ((uint8_t *)a)[i - 1] ^= b[i];
    return dp_harness_raw(&h, f, sizeof(f));
}

static struct rte_mbuf *udp_frame(bool other, uint32_t slot, const uint8_t *payload, size_t len)
{
    uint8_t f[2048];
    if (len > sizeof(f) - DP_FRAME_HDR_LEN)
        len = sizeof(f) - DP_FRAME_HDR_LEN;
    struct dp_frame *fr = (struct dp_frame *)f;
    dp_frame_write_l234(fr, 0, 1, other ? OTHER_IP : PEER_IP, agent_ip(SLOT_AGENT(slot)),
                        other ? 40001 : 40000, (uint16_t)(RI_EXTERNAL_PORT_BASE + slot), (uint16_t)len, 7);
    memcpy(fr->eth.src_addr.addr_bytes, peer_mac, 6);
    fr->ip.hdr_checksum = 0;
    fr->ip.hdr_checksum = rte_ipv4_cksum(&fr->ip);
    memcpy(f + DP_FRAME_HDR_LEN, payload, len);
    return dp_harness_raw(&h, f, (uint16_t)(DP_FRAME_HDR_LEN + len));
}

static size_t binding_request(uint8_t *buf, size_t cap, bool controlled, const uint8_t *b, size_t n)
{
    uint8_t tid[12];
    memset(tid, 0x5a, sizeof(tid));
    uint64_t tiebreaker = 0;
    for (size_t i = 0; i < 8 && i < n; i++)
        tiebreaker = tiebreaker << 8 | b[i];
    if (n > 9)
        memcpy(tid, b + 9, n - 9 < 12 ? n - 9 : 12);
    struct stun_writer w;
    stun_begin(&w, buf, cap, STUN_BINDING_REQUEST, tid);
    stun_put_bytes(&w, STUN_ATTR_USERNAME, "ourufrag:peer", 13);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 100);
    stun_put_u64(&w, controlled ? STUN_ATTR_ICE_CONTROLLED : STUN_ATTR_ICE_CONTROLLING, tiebreaker);
    if (n > 8 && (b[8] & 1))
        stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
    stun_put_integrity(&w, (const uint8_t *)"our-password-0123456789", 23);
    stun_put_fingerprint(&w);
    int len = stun_end(&w);
    return len > 0 ? (size_t)len : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ext)
        setup();
    for (uint32_t s = 0; s < 2; s++) {
        uint32_t st = ri_load(&x->slot[s].dp_state);
        if (seq[s] == 0 || st == RI_EXT_CLOSED || st == RI_EXT_FAILED)
            request(s); /* a new session on the slot */
    }
    poll_port();
    uint8_t rec[1600], stun[512];
    size_t off = 0, n;
    uint8_t flags;
    while (fuzz_next(data, size, &off, rec, sizeof(rec), &n, &flags)) {
        uint32_t slot = (flags >> 3) & 1;
        struct rte_mbuf *m = NULL;
        switch (flags & 3) {
        case 0:
            m = dp_harness_raw(&h, rec, (uint16_t)n);
            break;
        case 1:
            m = arp_request(rec, n);
            break;
        case 2:
            m = udp_frame(flags & 4, slot, rec, n);
            break;
        case 3: {
            size_t len = binding_request(stun, sizeof(stun), flags & 4, rec, n);
            m = udp_frame(false, slot, stun, len);
            break;
        }
        }
        if (m)
            dp_external_rx(&h.ctx, h.wk, m, h.tsc);
        h.tsc += (uint64_t)((flags >> 4) & 7) * 20000000ull;
        poll_port();
    }
    /* what the port sent comes back on the ring: take it off */
    for (int round = 0; round < 4; round++) {
        poll_port();
        struct rte_mbuf *back[64];
        uint16_t k;
        while ((k = rte_eth_rx_burst(ext->port_id, 0, back, 64)) > 0)
            rte_pktmbuf_free_bulk(back, k);
    }
    dp_harness_flush(&h);
    if (dp_harness_mbufs_out(&h) != dp_harness_mbufs_held(&h)) {
        fprintf(stderr, "fuzz_external_frames: %u mbufs out, %u held\n", dp_harness_mbufs_out(&h),
                dp_harness_mbufs_held(&h));
        __builtin_trap();
    }
    return 0;
}
