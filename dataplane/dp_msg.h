/* SPDX-License-Identifier: MIT */
/*
 * dp_msg: the frame around a plain UDP agent message (Ethernet II, IPv4
 * without options, UDP); the agent message header is webrtc/agent.h's.
 *
 * The UDP checksum is 0 (allowed for IPv4, RFC 768); the IPv4 header
 * checksum is computed. Agents have locally administered MAC addresses
 * 02:53:47:xx:xx:xx from their id. All functions are pure and thread-safe.
 */
#ifndef SWARMGEN_DP_MSG_H
#define SWARMGEN_DP_MSG_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "agent.h"

#define DP_FRAME_HDR_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))

/* The headers of one frame, contiguous at the start of the mbuf data. */
struct dp_frame {
    struct rte_ether_hdr eth;
    struct rte_ipv4_hdr ip;
    struct rte_udp_hdr udp;
    struct agent_hdr msg;
};

_Static_assert(sizeof(struct dp_frame) == DP_FRAME_HDR_LEN + AGENT_HDR_LEN, "no padding in frames");

/* Flow key of a received frame: the 4-tuple as it is on the wire, padded
 * to 16 bytes so that rte_hash compares keys with one vector compare
 * instead of memcmp. */
struct dp_flow_key {
    rte_be32_t src_ip;
    rte_be32_t dst_ip;
    rte_be16_t src_port;
    rte_be16_t dst_port;
    uint32_t zero; /* always 0 */
};

_Static_assert(sizeof(struct dp_flow_key) == 16, "flow keys are 16 bytes");

/* byte 2 of an agent's alias MAC on the other side (--cross all) */
#define DP_ALIAS_MAC2 0x48

static inline void dp_agent_mac(struct rte_ether_addr *mac, uint32_t agent)
{
    mac->addr_bytes[0] = 0x02;
    mac->addr_bytes[1] = 0x53;
    mac->addr_bytes[2] = 0x47;
    mac->addr_bytes[3] = (uint8_t)(agent >> 16);
    mac->addr_bytes[4] = (uint8_t)(agent >> 8);
    mac->addr_bytes[5] = (uint8_t)agent;
}

/* Writes Ethernet, IPv4 and UDP headers for a frame from agent `from`
 * (ip_from, port_from) to agent `to` carrying `payload_len` UDP payload
 * bytes. `ip_id` fills the IPv4 identification. */
static inline void dp_frame_write_l234(struct dp_frame *f, uint32_t from, uint32_t to,
                                       uint32_t ip_from, uint32_t ip_to, uint16_t port_from,
                                       uint16_t port_to, uint16_t payload_len, uint16_t ip_id)
{
    uint16_t ip_len = (uint16_t)(sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + payload_len);
    /* the header checksum from the values, not read back from the frame
     * (a 16-byte load over the small stores just made stalls on store
     * forwarding): the 16-bit words 0x4500, length, id, 0x4000 (DF),
     * 0x4011 (TTL 64, UDP), the addresses */
    uint32_t sum = 0x4500u + ip_len + ip_id + 0x4000u + (64u << 8 | IPPROTO_UDP) + (ip_from >> 16) +
                   (ip_from & 0xffff) + (ip_to >> 16) + (ip_to & 0xffff);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    dp_agent_mac(&f->eth.src_addr, from);
    dp_agent_mac(&f->eth.dst_addr, to);
    f->eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    f->ip.version_ihl = RTE_IPV4_VHL_DEF;
    f->ip.type_of_service = 0;
    f->ip.total_length = rte_cpu_to_be_16(ip_len);
    f->ip.packet_id = rte_cpu_to_be_16(ip_id);
    f->ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    f->ip.time_to_live = 64;
    f->ip.next_proto_id = IPPROTO_UDP;
    f->ip.hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
    f->ip.src_addr = rte_cpu_to_be_32(ip_from);
    f->ip.dst_addr = rte_cpu_to_be_32(ip_to);
    f->udp.src_port = rte_cpu_to_be_16(port_from);
    f->udp.dst_port = rte_cpu_to_be_16(port_to);
    f->udp.dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(struct rte_udp_hdr) + payload_len));
    f->udp.dgram_cksum = 0;
}

#endif
