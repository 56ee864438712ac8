/* SPDX-License-Identifier: MIT */
/*
 * us_msg: the 32-byte agent message header of dataplane/dp_msg.h, without
 * DPDK's headers (this backend does not link DPDK). The layout and the
 * constants are the same, byte for byte: magic "SWRM", version 1, hops,
 * length, src, dst, seq, tsc, network byte order. The seq bits of
 * dataplane/dp_conn.c (echo reply, signed) are the same too.
 */
#ifndef SWARMGEN_US_MSG_H
#define SWARMGEN_US_MSG_H

#include <endian.h>
#include <stdint.h>

#define US_MSG_MAGIC      0x5357524du
#define US_MSG_VERSION    1
#define US_MSG_HDR_LEN    32u
#define US_SEQ_ECHO_REPLY (UINT64_C(1) << 62)
#define US_SEQ_SIGNED     (UINT64_C(1) << 61)

struct us_msg_hdr {
    uint32_t magic;
    uint8_t version;
    uint8_t hops;
    uint16_t length;
    uint32_t src;
    uint32_t dst;
    uint64_t seq;
    uint64_t tsc;
} __attribute__((packed));

_Static_assert(sizeof(struct us_msg_hdr) == US_MSG_HDR_LEN, "agent header is 32 bytes");

#endif
