/* SPDX-License-Identifier: MIT */
/*
 * agent: see agent.h.
 */
#include "agent.h"

#include <stdio.h>

#include "rng.h"

void agent_credentials(uint64_t seed, uint32_t edge, int side, uint32_t attempt, char ufrag[9], char pwd[25])
{
    uint64_t h = rng_mix(seed ^ rng_mix((uint64_t)edge << 8 | (uint64_t)side << 7 | attempt));
    snprintf(ufrag, 9, "%08x", (uint32_t)h);
    snprintf(pwd, 25, "%016llx%08x", (unsigned long long)rng_mix(h), (uint32_t)(h >> 32));
}

void agent_msg_write(uint8_t *msg, uint32_t len, uint32_t src, uint32_t dst, uint64_t seq, uint64_t tsc,
                     const struct sig_keypair *key)
{
    seq &= ~(AGENT_SEQ_DUPLICATE | AGENT_SEQ_ECHO_REPLY | AGENT_SEQ_SIGNED);
    agent_hdr_write((struct agent_hdr *)msg, len, src, dst, seq | (key ? AGENT_SEQ_SIGNED : 0), tsc);
    if (key)
        sig_sign(key, msg, len - SIG_BYTES, msg + len - SIG_BYTES);
}

/* The signature of a signed message, checked over the bytes as its source
 * signed them (hops 0, no reply bit); msg is left as it came. */
static bool signature_ok(const struct agent_mesh *mesh, uint8_t *msg, uint32_t len)
{
    struct agent_hdr *h = (struct agent_hdr *)msg;
    if (len < AGENT_HDR_LEN + SIG_BYTES || !mesh->sig_keys)
        return false;
    uint8_t hops = h->hops;
    uint64_t seq = h->seq;
    h->hops = 0;
    h->seq &= ~htobe64(AGENT_SEQ_ECHO_REPLY);
    bool ok = sig_verify(mesh->sig_keys[be32toh(h->src)].pk, msg, len - SIG_BYTES, msg + len - SIG_BYTES) == 0;
    h->hops = hops;
    h->seq = seq;
    return ok;
}

static void deliver(const struct agent_mesh *mesh, struct ri_metrics *m, uint32_t receiver, uint8_t *msg, uint32_t len,
                    uint64_t tsc)
{
    const struct agent_hdr *h = (const struct agent_hdr *)msg;
    if ((h->seq & htobe64(AGENT_SEQ_SIGNED)) && !signature_ok(mesh, msg, len)) {
        ri_add(m->live.signature_failures, 1);
        agent_drop(m, RI_DROP_BAD_SIGNATURE);
        return;
    }
    uint32_t src = be32toh(h->src);
    uint64_t ns = 0;
    bool has_ns = ri_agent_here(mesh->ri->cfg, src) || mesh->clock->wall;
    if (has_ns) {
        ns = agent_latency(h, tsc, mesh->clock);
        met_hist_record(&m->latency, ns);
        ri_record_direction(m, mesh->ri->cfg, src, be32toh(h->dst), ns);
    } else { /* stamped by another shard's clock */
        ri_add(m->live.msgs_remote_delivered, 1);
    }
    ri_agent_delivered(mesh->av, src, receiver, h->hops, ns, has_ns);
    ri_add(m->live.msgs_delivered, 1);
    ri_add(m->live.hops_delivered, h->hops);
}

enum agent_action agent_receive(const struct agent_mesh *mesh, struct ri_metrics *m, uint32_t receiver, uint32_t e,
                                uint8_t *msg, uint32_t len, uint64_t tsc, uint32_t *edge)
{
    const struct ri_view *ri = mesh->ri;
    struct agent_hdr *h = (struct agent_hdr *)msg;
    ri_add(m->live.dc_msgs_rx, 1);
    struct ri_agent_stats *as = mesh->av ? mesh->av->a : NULL;
    if (as)
        as[receiver].dc_bytes_rx += len;
    if (!agent_hdr_ok(h, len, ri->cfg->n_agents)) {
        ri_add(m->live.drops[RI_DROP_BAD_MESSAGE], 1);
        return AGENT_DONE;
    }
    uint32_t src = be32toh(h->src), dst = be32toh(h->dst);
    if (h->seq & htobe64(AGENT_SEQ_ECHO_REPLY)) {
        if (receiver == src)
            deliver(mesh, m, receiver, msg, len, tsc);
        else
            ri_add(m->live.drops[RI_DROP_WRONG_RECEIVER], 1);
        return AGENT_DONE;
    }
    if (receiver == dst) {
        if (ri->cfg->pattern != RI_PATTERN_ECHO) {
            deliver(mesh, m, receiver, msg, len, tsc);
            return AGENT_DONE;
        }
        h->seq |= htobe64(AGENT_SEQ_ECHO_REPLY);
        *edge = e;
        return AGENT_SEND;
    }
    if ((uint32_t)h->hops + 1 > ri->cfg->max_hops) {
        agent_drop(m, RI_DROP_HOP_LIMIT);
        if (as)
            as[receiver].drop_relay++;
        return AGENT_DONE;
    }
    uint16_t slot = ri_next_hop(ri, receiver, dst);
    if (slot == RI_ROUTE_NONE) {
        agent_drop(m, RI_DROP_NO_ROUTE);
        if (as)
            as[receiver].drop_relay++;
        return AGENT_DONE;
    }
    h->hops++;
    ri_add(m->live.msgs_forwarded, 1);
    if (as)
        as[receiver].forwarded++;
    *edge = ri->adj_edge[ri->adj_off[receiver] + slot];
    return AGENT_SEND;
}
