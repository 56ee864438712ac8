/* SPDX-License-Identifier: MIT */
/*
 * agent: what a simulated agent is and does, the same in both backends
 * (swarmgen-dp and swarmgen-usrsctp): the agent message on the wire, the
 * ICE credentials of its connections, signing, and what it does with a
 * message it receives (deliver, echo, forward or drop).
 *
 * Agent message header, 32 bytes, network byte order, at the start of a
 * plain UDP payload or of a DataChannel message:
 *   0  magic   "SWRM" (0x5357524d)
 *   4  version 1
 *   5  hops    relays so far (0 on the first hop)
 *   6  length  bytes of the whole agent message (header + payload)
 *   8  src     source agent id
 *  12  dst     destination agent id
 *  16  seq     per-source sequence number; its top bits flag copies,
 *              echo replies and signed messages (AGENT_SEQ_*)
 *  24  tsc     sender's TSC when the message was generated
 * A signed message ends in an Ed25519 signature (SIG_BYTES) over all that
 * precedes it, taken with hops 0 and the echo-reply bit clear (the fields a
 * relay or an echoing agent changes).
 *
 * Pure functions; the caller owns every buffer and counter block.
 */
#ifndef SWARMGEN_WEBRTC_AGENT_H
#define SWARMGEN_WEBRTC_AGENT_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>

#include "run_image.h"
#include "sig.h"

#define AGENT_MSG_MAGIC 0x5357524du
#define AGENT_MSG_VERSION 1
#define AGENT_HDR_LEN 32u
/* seq bits: a copy made by the emulated network (--netem dup=) */
#define AGENT_SEQ_DUPLICATE (UINT64_C(1) << 63)
/* seq bits: the destination's echo of the message, on its way back */
#define AGENT_SEQ_ECHO_REPLY (UINT64_C(1) << 62)
/* seq bits: the message ends in its source's signature (--sign) */
#define AGENT_SEQ_SIGNED (UINT64_C(1) << 61)
/* the engines' clock starts here: an engine never sees a `now` of 0 */
#define AGENT_NS_BASE 1000000000ull

struct agent_hdr {
    uint32_t magic;
    uint8_t version;
    uint8_t hops;
    uint16_t length;
    uint32_t src;
    uint32_t dst;
    uint64_t seq;
    uint64_t tsc;
} __attribute__((packed));

_Static_assert(sizeof(struct agent_hdr) == AGENT_HDR_LEN, "agent header is 32 bytes");

/* The ICE username fragment (8 characters) and password (24) of one side of
 * edge `edge` on connection attempt `attempt`, drawn from the run seed:
 * both ends of a connection compute each other's without signaling. */
void agent_credentials(uint64_t seed, uint32_t edge, int side, uint32_t attempt, char ufrag[9], char pwd[25]);

/* Writes the header of a `len`-byte message from src to dst, sequence
 * number and flags `seq`, stamped `tsc`. */
static inline void agent_hdr_write(struct agent_hdr *h, uint32_t len, uint32_t src, uint32_t dst, uint64_t seq,
                                   uint64_t tsc)
{
    h->magic = htobe32(AGENT_MSG_MAGIC);
    h->version = AGENT_MSG_VERSION;
    h->hops = 0;
    h->length = htobe16((uint16_t)len);
    h->src = htobe32(src);
    h->dst = htobe32(dst);
    h->seq = htobe64(seq);
    h->tsc = htobe64(tsc);
}

/* Writes the header of a `len`-byte DataChannel message (agent_hdr_write,
 * the flags of seq cleared); with `key` (--sign) sets AGENT_SEQ_SIGNED and
 * signs the message into its last SIG_BYTES. */
void agent_msg_write(uint8_t *msg, uint32_t len, uint32_t src, uint32_t dst, uint64_t seq, uint64_t tsc,
                     const struct sig_keypair *key);

/* Whether a `len`-byte message has a well-formed header for a mesh of
 * n_agents agents (magic, version, length, ids in range). */
static inline bool agent_hdr_ok(const struct agent_hdr *h, uint32_t len, uint32_t n_agents)
{
    return len >= AGENT_HDR_LEN && h->magic == htobe32(AGENT_MSG_MAGIC) && h->version == AGENT_MSG_VERSION &&
           be16toh(h->length) == (len & 0xffff) && be32toh(h->dst) < n_agents && be32toh(h->src) < n_agents;
}

/* Nanoseconds from the message's stamp to `tsc` (0 if the clock went back). */
static inline uint64_t agent_latency_ns(const struct agent_hdr *h, uint64_t tsc, double ns_per_cycle)
{
    uint64_t sent = be64toh(h->tsc);
    return tsc > sent ? (uint64_t)((double)(tsc - sent) * ns_per_cycle) : 0;
}

/* The clock messages are stamped with: the sending core's TSC (a stamp
 * only that host can read), or, with `wall` (--clock ptp), the host's
 * CLOCK_REALTIME in ns as the TSC extrapolates it from (tsc0, rt0): hosts
 * whose system clocks PTP keeps in step read each other's stamps. */
struct agent_clock {
    double ns_per_cycle;
    uint64_t tsc0, rt0;
    bool wall;
};

/* The stamp of a message sent at `tsc`. Pure. */
static inline uint64_t agent_stamp(const struct agent_clock *c, uint64_t tsc)
{
    return c->wall ? c->rt0 + (uint64_t)((double)(tsc - c->tsc0) * c->ns_per_cycle) : tsc;
}

/* Nanoseconds from the message's stamp to `tsc` by clock c. Pure. */
static inline uint64_t agent_latency(const struct agent_hdr *h, uint64_t tsc, const struct agent_clock *c)
{
    if (!c->wall)
        return agent_latency_ns(h, tsc, c->ns_per_cycle);
    uint64_t sent = be64toh(h->tsc), now = agent_stamp(c, tsc);
    return now > sent ? now - sent : 0;
}

/* What an agent's backend knows of the mesh when a message reaches it. */
struct agent_mesh {
    const struct ri_view *ri;
    const struct sig_keypair *sig_keys; /* every agent's, with --sign */
    const struct agent_clock *clock;
    const struct ri_agent_view *av; /* the worker's per-agent figures (NULL: none) */
};

/* What to do with a received message after agent_receive. */
enum agent_action {
    AGENT_DONE, /* delivered, or dropped (counted either way) */
    AGENT_SEND, /* send it on *edge: the echo reply, or the next hop */
};

/* A DataChannel message `msg` of `len` bytes received by agent `receiver`
 * over edge `e` at `tsc`: checks it (malformed, wrong receiver, bad
 * signature: dropped and counted), delivers it (counted, latency recorded
 * in m), turns it into an echo reply, or advances it one hop on the routes.
 * Counts into the caller's metrics block m; changes msg in place (hops,
 * the reply bit). */
enum agent_action agent_receive(const struct agent_mesh *mesh, struct ri_metrics *m, uint32_t receiver, uint32_t e,
                                uint8_t *msg, uint32_t len, uint64_t tsc, uint32_t *edge);

/* Counts a message dropped for `why`. */
static inline void agent_drop(struct ri_metrics *m, enum ri_drop why)
{
    ri_add(m->live.drops[why], 1);
    ri_add(m->live.msgs_dropped, 1);
}

#endif
