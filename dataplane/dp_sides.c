/* SPDX-License-Identifier: MIT */
/*
 * dp_sides: see dp_sides.h.
 */
#include "dp_sides.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "dp_internal.h"

#define GW_REFRESH_S 5        /* the gateways are asked again this often during the run */
#define GW_RESOLVE_MS 3000    /* at set-up, a gateway has this long to answer */
#define GW_RESEND_MS 200      /* between set-up requests */

static const char side_name[2] = {'A', 'B'};

/* Whether DPDK's name of port p is `want` (a vdev name, or a PCI address
 * with or without its domain). */
static bool port_named(uint16_t p, const char *want)
{
    char name[RTE_ETH_NAME_MAX_LEN];
    if (rte_eth_dev_get_name_by_port(p, name) != 0)
        return false;
    if (strcmp(name, want) == 0)
        return true;
    return strncmp(name, "0000:", 5) == 0 && strcmp(name + 5, want) == 0;
}

int dp_sides_init(struct dp_ctx *ctx, char *err, size_t errlen)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    struct dp_sides *s = rte_zmalloc("sg_sides", sizeof(*s), RTE_CACHE_LINE_SIZE);
    if (!s) {
        snprintf(err, errlen, "two sides: out of memory");
        return -ENOMEM;
    }
    ctx->sides = s;
    if (cfg->n_shards > 1) {
        s->shard = cfg->shard;
        s->n_shards = cfg->n_shards;
        if (cfg->has_peer_mac && cfg->n_shards <= RI_MAX_SHARDS) {
            s->peer_mac = rte_zmalloc("sg_peer_mac", cfg->n_shards * sizeof(uint64_t), RTE_CACHE_LINE_SIZE);
            if (!s->peer_mac) {
                snprintf(err, errlen, "--peer-mac: out of memory");
                return -ENOMEM;
            }
            for (uint32_t i = 0; i < cfg->n_shards; i++)
                memcpy(&s->peer_mac[i], cfg->peer_mac[i], RTE_ETHER_ADDR_LEN);
        }
        s->port[1] = UINT16_MAX - 1; /* no port has that id */
        for (uint16_t i = 0; i < ctx->n_ports; i++)
            if (port_named(ctx->port[i], cfg->shard_port))
                s->port[0] = ctx->port[i];
        if (s->port[1] == s->port[0] || !port_named(s->port[0], cfg->shard_port)) {
            snprintf(err, errlen, "shard link: no DPDK port named %s", cfg->shard_port);
            return -ENODEV;
        }
        return 0;
    }
    for (int side = 0; side < 2; side++) {
        bool found = false;
        for (uint16_t i = 0; i < ctx->n_ports && !found; i++) {
            if (port_named(ctx->port[i], cfg->side_port[side])) {
                s->port[side] = ctx->port[i];
                found = true;
            }
        }
        if (!found) {
            snprintf(err, errlen, "side %c: no DPDK port named %s", side_name[side], cfg->side_port[side]);
            return -ENODEV;
        }
        s->gw_ip[side] = cfg->side_gateway[side];
    }
    if (s->port[0] == s->port[1]) {
        snprintf(err, errlen, "sides A and B are the same port %s", cfg->side_port[0]);
        return -EINVAL;
    }
    s->refresh_cycles = GW_REFRESH_S * rte_get_tsc_hz();
    s->next_refresh = rte_rdtsc() + s->refresh_cycles;
    return 0;
}

void dp_sides_free(struct dp_ctx *ctx)
{
    if (ctx->sides)
        rte_free(ctx->sides->peer_mac);
    rte_free(ctx->sides);
    ctx->sides = NULL;
}

static uint64_t mac_word(const struct rte_ether_addr *a)
{
    uint64_t w = 0;
    memcpy(&w, a->addr_bytes, RTE_ETHER_ADDR_LEN);
    return w;
}

static uint32_t side_ip(const struct ri_config *cfg, uint32_t agent)
{
    return RI_SIDE_NET(cfg->ip_base, agent & 1) + 1 + agent / 2;
}

/* The agent of side `side` (or, with shards, of this shard) at address
 * ip (host byte order), or UINT32_MAX; *alias: the address is the alias
 * of an agent of the other side (--cross all). */
static uint32_t agent_at(const struct ri_config *cfg, uint32_t side, uint32_t ip, bool *alias)
{
    *alias = false;
    if (cfg->n_shards > 1) {
        uint32_t agent = ip - cfg->ip_base - 1;
        return ip > cfg->ip_base && agent < cfg->n_agents && ri_agent_here(cfg, agent) ? agent : UINT32_MAX;
    }
    uint32_t net = RI_SIDE_NET(cfg->ip_base, side);
    if (cfg->cross_all && ip > net + RI_ALIAS_OFF && ip - net - RI_ALIAS_OFF - 1 < RI_SIDE_AGENTS_MAX_CROSS) {
        uint32_t agent = 2 * (ip - net - RI_ALIAS_OFF - 1) + (side ^ 1);
        *alias = true;
        return agent < cfg->n_agents ? agent : UINT32_MAX;
    }
    if (ip <= net || ip - net - 1 >= RI_SIDE_AGENTS_MAX)
        return UINT32_MAX;
    uint32_t agent = 2 * (ip - net - 1) + side;
    return agent < cfg->n_agents ? agent : UINT32_MAX;
}

/* Sends one frame on side `side`'s port from queue q, counted. */
static void send_one(struct dp_worker *wk, const struct dp_sides *s, uint32_t side, uint16_t q, struct rte_mbuf *m)
{
    uint32_t len = m->pkt_len;
    if (rte_eth_tx_burst(s->port[side], q, &m, 1) == 1) {
        ri_add(wk->m->live.side_frames_tx[side], 1);
        ri_add(wk->m->live.side_bytes_tx[side], len);
        ri_add(wk->m->live.pkts_tx, 1);
        ri_add(wk->m->live.bytes_tx, len);
    } else {
        ri_add(wk->m->live.drops[RI_DROP_TX_FULL], 1);
        rte_pktmbuf_free(m);
    }
}

/* An ARP request for side `side`'s gateway, from the side's first agent. */
static void request_gateway(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t side, uint16_t q)
{
    const struct dp_sides *s = ctx->sides;
    struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
    if (!m) {
        ri_add(wk->m->live.drops[RI_DROP_NO_MBUF], 1);
        return;
    }
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    dp_agent_mac(&eth->src_addr, side);
    memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = RTE_ETHER_ADDR_LEN;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    rte_ether_addr_copy(&eth->src_addr, &a->arp_data.arp_sha);
    a->arp_data.arp_sip = rte_cpu_to_be_32(side_ip(ctx->ri.cfg, side));
    memset(a->arp_data.arp_tha.addr_bytes, 0, RTE_ETHER_ADDR_LEN);
    a->arp_data.arp_tip = rte_cpu_to_be_32(s->gw_ip[side]);
    m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
    ri_add(wk->m->live.side_arp_requests[side], 1);
    send_one(wk, s, side, q, m);
}

/* An ARP frame received on side `side`'s port, from queue q's point of
 * view: the gateway's request or reply teaches its MAC; a request for one
 * of the side's agents is answered in the same mbuf. Consumes m. */
static void arp_in(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t side, uint16_t q, struct rte_mbuf *m)
{
    struct dp_sides *s = ctx->sides;
    if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr)) {
        ri_add(wk->m->live.drops[RI_DROP_TRUNCATED], 1);
        rte_pktmbuf_free(m);
        return;
    }
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    bool op_request = a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
        a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != RTE_ETHER_ADDR_LEN ||
        a->arp_plen != 4 || (!op_request && a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REPLY))) {
        ri_add(wk->m->live.drops[RI_DROP_ARP_OTHER], 1);
        rte_pktmbuf_free(m);
        return;
    }
    uint32_t sip = rte_be_to_cpu_32(a->arp_data.arp_sip);
    bool from_gateway = s->gw_ip[side] && sip == s->gw_ip[side];
    if (from_gateway) {
        uint64_t mac = mac_word(&a->arp_data.arp_sha);
        uint64_t old = __atomic_load_n(&s->gw_mac[side], __ATOMIC_RELAXED);
        if (mac != old) {
            __atomic_store_n(&s->gw_mac[side], mac, __ATOMIC_RELAXED);
            __atomic_store_n(&ctx->ri.cmd->side_gw_mac[side], mac, __ATOMIC_RELAXED);
            if (old)
                ri_add(wk->m->live.side_gw_changes[side], 1);
        }
    }
    bool alias = false;
    uint32_t agent =
        op_request ? agent_at(ctx->ri.cfg, side, rte_be_to_cpu_32(a->arp_data.arp_tip), &alias) : UINT32_MAX;
    if (agent == UINT32_MAX) {
        if (!from_gateway)
            ri_add(wk->m->live.drops[RI_DROP_ARP_OTHER], 1);
        rte_pktmbuf_free(m);
        return;
    }
    uint32_t tip = a->arp_data.arp_tip;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
    rte_ether_addr_copy(&a->arp_data.arp_sha, &a->arp_data.arp_tha);
    a->arp_data.arp_tip = a->arp_data.arp_sip;
    dp_agent_mac(&a->arp_data.arp_sha, agent);
    if (alias)
        a->arp_data.arp_sha.addr_bytes[2] = DP_ALIAS_MAC2;
    a->arp_data.arp_sip = tip;
    rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
    rte_ether_addr_copy(&a->arp_data.arp_sha, &eth->src_addr);
    m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
    m->nb_segs = 1;
    ri_add(wk->m->live.side_arp_replies[side], 1);
    send_one(wk, s, side, q, m);
}

uint16_t dp_sides_rx(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t side, struct rte_mbuf **pkts,
                     uint16_t n)
{
    uint64_t bytes = 0, ip = 0;
    uint16_t kept = 0;
    for (uint16_t i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        bytes += m->pkt_len;
        const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
        if (m->data_len >= RTE_ETHER_HDR_LEN && eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
            arp_in(ctx, wk, side, (uint16_t)wk->idx, m);
            continue;
        }
        ip += m->data_len >= RTE_ETHER_HDR_LEN && eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
        pkts[kept++] = m;
    }
    ri_add(wk->m->live.side_frames_rx[side], n);
    ri_add(wk->m->live.side_bytes_rx[side], bytes);
    ri_add(wk->m->live.side_ip_rx[side], ip);
    return kept;
}

uint16_t dp_sides_tx(struct dp_worker *wk, struct rte_mbuf **tx, uint16_t n)
{
    const struct dp_sides *s = wk->sides;
    struct rte_mbuf *by[3][DP_MAX_BURST * 4];
    uint16_t cnt[3] = {0, 0, 0};
    for (uint16_t i = 0; i < n; i++) {
        uint16_t p = tx[i]->port;
        uint32_t k = p == s->port[0] ? 1 : p == s->port[1] ? 2 : 0;
        by[k][cnt[k]++] = tx[i];
    }
    uint16_t sent_all = 0, unsent = n;
    for (uint32_t k = 0; k < 3; k++) {
        if (cnt[k] == 0)
            continue;
        uint16_t sent = k ? rte_eth_tx_burst(s->port[k - 1], (uint16_t)wk->idx, by[k], cnt[k])
                          : rte_eth_tx_burst(wk->tx_port, wk->tx_queue, by[k], cnt[k]);
        if (k) {
            uint64_t bytes = 0;
            for (uint16_t i = 0; i < sent; i++)
                bytes += by[k][i]->pkt_len;
            ri_add(wk->m->live.side_frames_tx[k - 1], sent);
            ri_add(wk->m->live.side_ip_tx[k - 1], sent);
            ri_add(wk->m->live.side_bytes_tx[k - 1], bytes);
        }
        for (uint16_t i = 0; i < sent; i++)
            tx[sent_all++] = by[k][i];
        for (uint16_t i = sent; i < cnt[k]; i++)
            tx[--unsent] = by[k][i];
    }
    return sent_all;
}

void dp_sides_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_sides *s = ctx->sides;
    if (tsc < s->next_refresh)
        return;
    s->next_refresh = tsc + s->refresh_cycles;
    for (uint32_t side = 0; side < 2; side++)
        if (s->gw_ip[side])
            request_gateway(ctx, wk, side, (uint16_t)wk->idx);
}

/* Every frame waiting on side `side`'s queues, handed to arp_in or freed
 * (nothing else is addressed to the agents before the run). */
static void drain_setup(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t side)
{
    struct rte_mbuf *pkts[DP_MAX_BURST];
    for (uint16_t q = 0; q < ctx->n_workers; q++) {
        uint16_t n;
        while ((n = rte_eth_rx_burst(ctx->sides->port[side], q, pkts, DP_MAX_BURST)) > 0) {
            n = dp_sides_rx(ctx, wk, side, pkts, n);
            for (uint16_t i = 0; i < n; i++) {
                ri_add(wk->m->live.drops[RI_DROP_UNKNOWN_FLOW], 1);
                rte_pktmbuf_free(pkts[i]);
            }
        }
    }
}

int dp_sides_resolve(struct dp_ctx *ctx, char *err, size_t errlen)
{
    struct dp_sides *s = ctx->sides;
    struct dp_worker *wk = ctx->worker[0];
    uint64_t hz = rte_get_tsc_hz();
    for (uint32_t side = 0; side < 2; side++) {
        if (!s->gw_ip[side])
            continue;
        uint64_t start = rte_rdtsc(), next = start;
        while (!__atomic_load_n(&s->gw_mac[side], __ATOMIC_RELAXED)) {
            uint64_t now = rte_rdtsc();
            if (now - start > GW_RESOLVE_MS * hz / 1000) {
                uint32_t ip = s->gw_ip[side];
                snprintf(err, errlen, "side %c: gateway %u.%u.%u.%u did not answer ARP within %u ms",
                         side_name[side], ip >> 24, ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff, GW_RESOLVE_MS);
                return -ETIMEDOUT;
            }
            if (now >= next) {
                request_gateway(ctx, wk, side, 0);
                next = now + GW_RESEND_MS * hz / 1000;
            }
            drain_setup(ctx, wk, side);
            rte_delay_us_sleep(1000);
        }
    }
    s->next_refresh = rte_rdtsc() + s->refresh_cycles;
    return 0;
}
