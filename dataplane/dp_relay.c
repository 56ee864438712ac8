/* SPDX-License-Identifier: MIT */
/* --relay: a TURN allocation per agent on the kernel-visible port, the
 * mesh's connections through them (docs/turn.md); with transport=tcp each
 * agent's TURN client runs over a TCP connection of its own (tcp/, docs/tcp.md). */
#include "dp_relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include <rte_arp.h>
#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dp_conn.h"
#include "dp_mem.h"
#include "dp_msg.h"
#include "dp_pcap.h"
#include "dp_target.h"
#include "rng.h"
#include "tcp_conn.h"
#include "turn.h"
#include "wire.h"

#define RELAY_BURST 32
#define RELAY_TX 256
#define RELAY_RX_DESC 1024
#define RELAY_TX_DESC 1024
#define ARP_EVERY_NS (200ull * 1000000ull)
/* the clients' deadlines: a timing wheel of 1-ms slots, a turn of 8.2 s
 * (later deadlines wait in the turn's last slot and are filed again) */
#define WHEEL_TICK_NS 1000000ull
#define WHEEL_SLOTS 8192u
#define NONE UINT32_MAX
/* transport=tcp: the bytes of the server's stream an agent holds until a
 * message is whole (the longest is a ChannelData of a connection's
 * datagram, under 1,300 bytes; a longer one breaks the stream) */
#define STREAM_BUF 2048u
#define TCP_SEG_OFF (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr))
#define SCRATCH 4096u

enum agent_state { AG_IDLE, AG_ALLOCATING, AG_ALLOCATED, AG_FAILED, AG_CLOSING, AG_CLOSED };
enum edge_state { EDGE_WAIT, EDGE_QUEUED, EDGE_FAILED };

#define PEER_PERMITTED 1u
#define PEER_CHANNEL 2u
/* peer_val of a target session's server candidate: this bit | its index in relay_tgt */
#define PEER_TARGET (1ull << 62)
/* a target agent's client holds this many server candidates over the run
 * (the candidates of its sessions; a repeated address reuses its peer) */
#define RELAY_TGT_PEERS (2 * RI_TARGET_CANDS)

/* The server candidates a target agent's client has as peers. */
struct relay_tgt {
    uint8_t n;
    int16_t peer[RELAY_TGT_PEERS];          /* the client's peer index */
    struct stun_addr addr[RELAY_TGT_PEERS]; /* the candidate's address */
};

struct relay_agent {
    struct turn_client *t;
    uint8_t state;          /* enum agent_state */
    bool tx_pending, tx_retx; /* a request out whose answer times a round trip */
    uint8_t txid[12];
    uint64_t t_tx;          /* ns, its first send */
    uint64_t t_alloc;       /* ns, the first Allocate */
    uint64_t due;           /* ns, the deadline it is filed under (UINT64_MAX: none) */
    uint32_t slot, prev, next; /* its place in the wheel (NONE: not filed) */
    /* transport=tcp */
    struct tcp_conn *tcp;
    bool tcp_done;          /* the connection is lost to the client: the TURN client is not run any more */
    bool tcp_ended;         /* the connection is closed, reset or given up */
    bool tcp_was_up;        /* it was established */
    bool tcp_fin;           /* we closed our side */
    uint16_t rx_len;        /* bytes of a partial message in rx */
    uint8_t *rx;            /* STREAM_BUF */
};

struct dp_relay {
    struct ri_relay *x;
    const struct ri_edge *edges; /* the image's */
    uint16_t port_id;
    bool port_started;
    char vdev_name[64];
    struct rte_ether_addr mac;
    uint32_t n;                 /* agents */
    struct relay_agent *ag;     /* n */
    void *mem;                  /* the clients, one after another */
    uint64_t *peer_off;         /* n + 1: agent i's peers start at peer_off[i] in the two below */
    uint64_t *peer_val;         /* [peer_off[agent] + peer index]: the flow value (edge << 1 | side),
                                   or PEER_TARGET | k (a target session's server candidate) */
    uint8_t *peer_flags;        /* same index: PEER_* seen */
    int32_t *ep_peer;           /* [2 e + side]: the endpoint agent's peer index of the other's address */
    uint8_t *edge_bits;         /* [e]: bit s: endpoint s has its permission */
    uint8_t *edge_state;        /* [e]: enum edge_state */
    struct ri_target *tgt_sec;  /* --target too: the TARGET section (NULL: none) */
    uint32_t n_tgt;             /* target agents (slots): 0 .. n_tgt-1 */
    struct relay_tgt *tgt;      /* n_tgt */
    bool started, have_mac;
    uint64_t next_arp;          /* ns */
    uint32_t *wheel;            /* WHEEL_SLOTS list heads of agents */
    uint64_t wheel_tick;        /* the next tick to run */
    uint64_t arp_since;         /* ns, the first ARP request (0: none yet) */
    uint32_t closing;           /* clients waiting for the answer to their release */
    uint16_t ip_id;
    bool tcp;                   /* transport=tcp */
    uint32_t tcp_open;          /* connections not yet over */
    void *tcp_mem;              /* the connections, one after another */
    uint8_t *stream_mem;        /* n * STREAM_BUF */
    uint8_t scratch[SCRATCH];   /* a TURN message on its way into a connection's send ring */
    uint32_t n_tx;
    struct rte_mbuf *tx[RELAY_TX];
};

/* ---- the port ----------------------------------------------------------- */

void dp_relay_flush(const struct dp_ctx *ctx, struct dp_worker *wk)
{
    struct dp_relay *r = ctx->relay;
    if (!r || r->n_tx == 0)
        return;
    /* the run's frames are these: its tx counters and --pcap see them */
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < r->n_tx; i++)
        bytes += r->tx[i]->pkt_len;
    if (unlikely(wk->pcap_n < wk->pcap_cap))
        dp_pcap_capture(wk, r->tx, r->n_tx, wk->pcap_tsc);
    uint16_t sent = rte_eth_tx_burst(r->port_id, 0, r->tx, (uint16_t)r->n_tx);
    for (uint32_t i = sent; i < r->n_tx; i++) {
        bytes -= r->tx[i]->pkt_len;
        ri_add(wk->m->live.drops[RI_DROP_TX_FULL], 1);
        rte_pktmbuf_free(r->tx[i]);
    }
    ri_add(wk->m->live.pkts_tx, sent);
    ri_add(wk->m->live.bytes_tx, bytes);
    r->n_tx = 0;
}

static void tx_push(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, struct rte_mbuf *m)
{
    r->tx[r->n_tx++] = m;
    if (r->n_tx == RELAY_TX)
        dp_relay_flush(ctx, wk);
}

/* Headers of a frame from agent i's client to the server, n bytes of UDP
 * payload in place. */
static void frame_to_server(struct dp_relay *r, const struct dp_ctx *ctx, struct rte_mbuf *m, uint32_t i, size_t n)
{
    m->data_len = (uint16_t)(DP_FRAME_HDR_LEN + n);
    m->pkt_len = m->data_len;
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    dp_frame_write_l234(f, i, 0, ctx->ri.agents[i].ip, r->x->server_ip, r->x->local_port, r->x->server_port,
                        (uint16_t)n, r->ip_id++);
    rte_ether_addr_copy(&r->mac, &f->eth.src_addr);
    memcpy(f->eth.dst_addr.addr_bytes, r->x->server_mac, 6);
}

/* Headers of a TCP segment from agent i to the server, the n bytes the
 * engine wrote at TCP_SEG_OFF in place. */
static void frame_tcp(struct dp_relay *r, const struct dp_ctx *ctx, struct rte_mbuf *m, uint32_t i, size_t n)
{
    uint16_t ip_len = (uint16_t)(sizeof(struct rte_ipv4_hdr) + n);
    m->data_len = (uint16_t)(RTE_ETHER_HDR_LEN + ip_len);
    m->pkt_len = m->data_len;
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
    rte_ether_addr_copy(&r->mac, &eth->src_addr);
    memcpy(eth->dst_addr.addr_bytes, r->x->server_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(ip_len);
    ip->packet_id = rte_cpu_to_be_16(r->ip_id++);
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_TCP;
    ip->src_addr = rte_cpu_to_be_32(ctx->ri.agents[i].ip);
    ip->dst_addr = rte_cpu_to_be_32(r->x->server_ip);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* An ARP request for the server's address, from agent 0's. */
static void arp_request(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
    if (!m)
        return;
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    memset(eth->dst_addr.addr_bytes, 0xff, 6);
    rte_ether_addr_copy(&r->mac, &eth->src_addr);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = 6;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    rte_ether_addr_copy(&r->mac, &a->arp_data.arp_sha);
    a->arp_data.arp_sip = rte_cpu_to_be_32(ctx->ri.agents[0].ip);
    memset(a->arp_data.arp_tha.addr_bytes, 0, 6);
    a->arp_data.arp_tip = rte_cpu_to_be_32(r->x->server_ip);
    m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
    ri_add(r->x->arp_requests, 1);
    tx_push(ctx, r, wk, m);
}

static bool is_agent_ip(const struct dp_ctx *ctx, uint32_t ip)
{
    uint32_t base = ctx->ri.cfg->ip_base;
    return ip > base && ip - base <= ctx->ri.cfg->n_agents;
}

/* ARP: a request for an agent's address is answered with the port's MAC
 * (in the same mbuf); the server's MAC is learnt from anything it says. */
static void arp_in(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, struct rte_mbuf *m)
{
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr) ||
        a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
        a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 || a->arp_plen != 4) {
        ri_add(r->x->frames_foreign, 1);
        rte_pktmbuf_free(m);
        return;
    }
    if (rte_be_to_cpu_32(a->arp_data.arp_sip) == r->x->server_ip && !r->have_mac) {
        memcpy(r->x->server_mac, a->arp_data.arp_sha.addr_bytes, 6);
        r->have_mac = true;
    }
    uint32_t tip = a->arp_data.arp_tip;
    if (a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) || !is_agent_ip(ctx, rte_be_to_cpu_32(tip))) {
        rte_pktmbuf_free(m);
        return;
    }
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
    rte_ether_addr_copy(&a->arp_data.arp_sha, &a->arp_data.arp_tha);
    a->arp_data.arp_tip = a->arp_data.arp_sip;
    rte_ether_addr_copy(&r->mac, &a->arp_data.arp_sha);
    a->arp_data.arp_sip = tip;
    rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
    rte_ether_addr_copy(&r->mac, &eth->src_addr);
    m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
    ri_add(r->x->arp_replies, 1);
    tx_push(ctx, r, wk, m);
}

/* ---- the clients ------------------------------------------------------- */

static void wheel_unlink(struct dp_relay *r, uint32_t i)
{
    struct relay_agent *a = &r->ag[i];
    if (a->slot == NONE)
        return;
    if (a->prev != NONE)
        r->ag[a->prev].next = a->next;
    else
        r->wheel[a->slot] = a->next;
    if (a->next != NONE)
        r->ag[a->next].prev = a->prev;
    a->slot = a->prev = a->next = NONE;
}

/* Files agent i under its client's deadline: the slot of that tick (the
 * next tick to run when it is past), or the turn's last slot when it is
 * further away. */
static void wheel_file(struct dp_relay *r, uint32_t i)
{
    struct relay_agent *a = &r->ag[i];
    a->due = r->tcp && a->tcp_done ? UINT64_MAX : turn_next_timeout(a->t);
    if (r->tcp && tcp_next_timeout(a->tcp) < a->due)
        a->due = tcp_next_timeout(a->tcp);
    if (a->due == UINT64_MAX) {
        wheel_unlink(r, i);
        return;
    }
    uint64_t tick = a->due / WHEEL_TICK_NS;
    if (tick < r->wheel_tick)
        tick = r->wheel_tick;
    if (tick >= r->wheel_tick + WHEEL_SLOTS)
        tick = r->wheel_tick + WHEEL_SLOTS - 1;
    uint32_t slot = (uint32_t)(tick % WHEEL_SLOTS);
    if (a->slot == slot)
        return;
    wheel_unlink(r, i);
    a->slot = slot;
    a->prev = NONE;
    a->next = r->wheel[slot];
    if (a->next != NONE)
        r->ag[a->next].prev = i;
    r->wheel[slot] = i;
}


static uint32_t code_index(uint16_t code)
{
    switch (code) {
    case 0: return RI_RELAY_ETIMEOUT;
    case 401: return RI_RELAY_E401;
    case 403: return RI_RELAY_E403;
    case 437: return RI_RELAY_E437;
    case 438: return RI_RELAY_E438;
    case 441: return RI_RELAY_E441;
    case 486: return RI_RELAY_E486;
    case 508: return RI_RELAY_E508;
    default: return RI_RELAY_EOTHER;
    }
}

static uint32_t stage_index(enum turn_stage s)
{
    switch (s) {
    case TURN_STAGE_ALLOCATE: return RI_RELAY_ALLOCATE;
    case TURN_STAGE_PERMISSION: return RI_RELAY_PERMISSION;
    case TURN_STAGE_CHANNEL: return RI_RELAY_CHANNEL;
    case TURN_STAGE_REFRESH: return RI_RELAY_REFRESH;
    default: return RI_RELAY_CLOSE;
    }
}

/* A STUN request leaving agent i's client: its first send starts a round
 * trip; a send of the same transaction again spoils it (Karn). */
static void note_request(struct relay_agent *a, const uint8_t *d, size_t n, uint64_t now)
{
    if (n < 20 || d[0] >= 0x40 || (d[0] & 0x01) || (d[1] & 0x10)) /* not a request (class bits 0) */
        return;
    if (a->tx_pending && memcmp(a->txid, d + 8, 12) == 0) {
        a->tx_retx = true;
        return;
    }
    memcpy(a->txid, d + 8, 12);
    a->tx_pending = true;
    a->tx_retx = false;
    a->t_tx = now;
}

/* Every segment agent i's TCP connection has for the server. */
static void tcp_transmit(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                         uint64_t now)
{
    for (;;) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
        if (!m) {
            ri_add(wk->m->live.tx_starved, 1);
            return; /* what is unsent stays in the ring; the timer resends it */
        }
        uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, TCP_SEG_OFF);
        size_t n = tcp_poll_transmit(r->ag[i].tcp, d, rte_pktmbuf_tailroom(m) - TCP_SEG_OFF, now);
        if (n == 0) {
            rte_pktmbuf_free(m);
            return;
        }
        frame_tcp(r, ctx, m, i, n);
        tx_push(ctx, r, wk, m);
    }
}

/* Our side of agent a's connection closes (a FIN after what is queued). */
static void tcp_closing(struct relay_agent *a, uint64_t now)
{
    a->tcp_fin = true;
    tcp_close(a->tcp, now);
}

static bool tcp_can_send(const struct relay_agent *a)
{
    return !a->tcp_done && (tcp_state(a->tcp) == TCP_ESTABLISHED || tcp_state(a->tcp) == TCP_CLOSE_WAIT);
}

/* Every datagram agent i's client has for the server (over TCP: into the
 * connection's send ring while a whole request fits, then its segments). */
static void agent_transmit(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                           uint64_t now)
{
    struct relay_agent *a = &r->ag[i];
    if (r->tcp) {
        while (tcp_can_send(a) && tcp_send_space(a->tcp) >= TURN_REQ_MAX) {
            size_t n = turn_poll_transmit(a->t, r->scratch, sizeof(r->scratch), now);
            if (n == 0)
                break;
            note_request(a, r->scratch, n, now);
            tcp_send(a->tcp, r->scratch, n, now);
        }
        tcp_transmit(ctx, r, wk, i, now);
        return;
    }
    for (;;) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
        if (!m) {
            ri_add(wk->m->live.tx_starved, 1);
            return; /* the client sends it again from its deadline */
        }
        uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_FRAME_HDR_LEN);
        size_t cap = rte_pktmbuf_tailroom(m) - DP_FRAME_HDR_LEN;
        size_t n = turn_poll_transmit(a->t, d, cap, now);
        if (n == 0) {
            rte_pktmbuf_free(m);
            return;
        }
        note_request(a, d, n, now);
        frame_to_server(r, ctx, m, i, n);
        tx_push(ctx, r, wk, m);
    }
}

static uint32_t other_of(const struct ri_edge *ed, int side)
{
    return side ? ed->a : ed->b;
}

/* Both agents of edge e are allocated: each adds the other's relayed
 * address as a peer with a channel. */
static void pair(const struct dp_ctx *ctx, struct dp_relay *r, uint32_t e, uint64_t now)
{
    const struct ri_edge *ed = &ctx->ri.edges[e];
    for (int s = 0; s < 2; s++) {
        uint32_t me = s ? ed->b : ed->a, other = other_of(ed, s);
        int p = turn_add_peer(r->ag[me].t, turn_relayed(r->ag[other].t), true, now);
        ri_add(r->x->attempted[RI_RELAY_PERMISSION], 1);
        ri_add(r->x->attempted[RI_RELAY_CHANNEL], 1);
        if (p < 0) { /* -ENOSPC cannot happen: a peer per neighbour */
            ri_add(r->x->failed[RI_RELAY_PERMISSION], 1);
            ri_add(r->x->fail_code[RI_RELAY_EOTHER], 1);
            continue;
        }
        r->ep_peer[2 * (size_t)e + (size_t)s] = p;
        size_t k = r->peer_off[me] + (uint32_t)p;
        r->peer_val[k] = (uint64_t)e << 1 | (s == 0 ? 1u : 0u);
        r->peer_flags[k] = 0;
    }
}

/* A target agent's allocation, granted or failed, for control (run_image.h). */
static void tgt_publish(struct dp_relay *r, uint32_t i, uint16_t code)
{
    if (i >= r->n_tgt)
        return;
    struct ri_target_slot *sl = ri_target_slot(r->tgt_sec, i);
    if (ri_load(&sl->relay_state) != RI_TGT_RELAY_PENDING)
        return;
    if (r->ag[i].state == AG_ALLOCATED) {
        const struct stun_addr *a = turn_relayed(r->ag[i].t);
        ri_set(sl->relay_ip, wire_get32(a->ip));
        ri_set(sl->relay_port, a->port);
        ri_store(&sl->relay_state, (uint32_t)RI_TGT_RELAY_OK);
    } else {
        ri_set(sl->relay_code, code);
        ri_store(&sl->relay_state, (uint32_t)RI_TGT_RELAY_FAILED);
    }
}

static void agent_failed(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                         uint16_t code)
{
    r->ag[i].state = AG_FAILED;
    ri_add(r->x->agents_failed, 1);
    tgt_publish(r, i, code);
    uint32_t off = ctx->ri.adj_off[i], deg = ctx->ri.adj_off[i + 1] - off;
    for (uint32_t k = 0; k < deg; k++) {
        uint32_t e = ctx->ri.adj_edge[off + k];
        if (r->edge_state[e] != EDGE_WAIT)
            continue;
        r->edge_state[e] = EDGE_FAILED;
        ri_add(r->x->conns_failed_turn, 1);
        dp_conns_relay_failed(ctx, wk, e);
    }
}

static void on_allocated(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                         uint64_t now)
{
    struct ri_relay *x = r->x;
    r->ag[i].state = AG_ALLOCATED;
    ri_add(x->ok[RI_RELAY_ALLOCATE], 1);
    met_hist_record(&x->alloc, now - r->ag[i].t_alloc);
    uint64_t sec = (now - x->t_start_ns) / 1000000000ull;
    if (sec < RI_RELAY_TIMELINE)
        ri_add(x->alloc_per_s[sec], 1);
    ri_set(x->t_last_alloc_ns, now);
    tgt_publish(r, i, 0);
    uint32_t off = ctx->ri.adj_off[i], deg = ctx->ri.adj_off[i + 1] - off;
    for (uint32_t k = 0; k < deg; k++) {
        uint32_t j = ctx->ri.adj[off + k];
        if (r->ag[j].state != AG_ALLOCATED)
            continue;
        pair(ctx, r, ctx->ri.adj_edge[off + k], now);
        agent_transmit(ctx, r, wk, j, now);
        wheel_file(r, j); /* its CreatePermission's retransmission */
    }
}

/* Agent i's peers that got their permission or channel since last seen. */
static void on_peers(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i)
{
    uint64_t off = r->peer_off[i], deg = r->peer_off[i + 1] - off;
    for (uint32_t p = 0; p < deg; p++) {
        size_t k = off + p;
        if (r->peer_val[k] == UINT64_MAX)
            continue;
        if (!(r->peer_flags[k] & PEER_CHANNEL) && turn_peer_channel(r->ag[i].t, (int)p)) {
            r->peer_flags[k] |= PEER_CHANNEL;
            ri_add(r->x->ok[RI_RELAY_CHANNEL], 1);
        }
        if ((r->peer_flags[k] & PEER_PERMITTED) || !turn_peer_permitted(r->ag[i].t, (int)p))
            continue;
        r->peer_flags[k] |= PEER_PERMITTED;
        ri_add(r->x->ok[RI_RELAY_PERMISSION], 1);
        if (r->peer_val[k] & PEER_TARGET)
            continue; /* a target session's candidate: its ICE checks go once permitted */
        uint32_t e = (uint32_t)(r->peer_val[k] >> 1);
        int s = (r->peer_val[k] & 1) ? 0 : 1;
        r->edge_bits[e] |= (uint8_t)(1u << s);
        if (r->edge_bits[e] == 3 && r->edge_state[e] == EDGE_WAIT) {
            r->edge_state[e] = EDGE_QUEUED;
            dp_conns_relay_ready(ctx, wk, e);
        }
    }
}

static void agent_events(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                         uint64_t now)
{
    struct relay_agent *a = &r->ag[i];
    struct ri_relay *x = r->x;
    struct turn_ev ev;
    while (turn_poll_event(a->t, &ev) != TURN_EV_NONE) {
        switch (ev.type) {
        case TURN_EV_ALLOCATED:
            on_allocated(ctx, r, wk, i, now);
            break;
        case TURN_EV_PERMISSION:
        case TURN_EV_CHANNEL:
            on_peers(ctx, r, wk, i);
            break;
        case TURN_EV_REFRESHED:
            ri_add(x->attempted[RI_RELAY_REFRESH], 1);
            ri_add(x->ok[RI_RELAY_REFRESH], 1);
            break;
        case TURN_EV_FAILED: {
            uint32_t st = stage_index(ev.stage);
            if (st == RI_RELAY_REFRESH)
                ri_add(x->attempted[RI_RELAY_REFRESH], 1);
            ri_add(x->failed[st], 1);
            ri_add(x->fail_code[code_index(ev.code)], 1);
            if (a->state != AG_FAILED)
                agent_failed(ctx, r, wk, i, ev.code);
            if (r->tcp)
                tcp_closing(a, now); /* the allocation is gone with it (RFC 8656 §3.1) */
            break;
        }
        case TURN_EV_CLOSED:
            if (a->state == AG_CLOSING) {
                r->closing--;
                if (ev.code) {
                    ri_add(x->failed[RI_RELAY_CLOSE], 1);
                    ri_add(x->fail_code[code_index(ev.code)], 1);
                } else {
                    ri_add(x->ok[RI_RELAY_CLOSE], 1);
                    ri_add(x->released, 1);
                }
            }
            a->state = AG_CLOSED;
            if (r->tcp)
                tcp_closing(a, now);
            break;
        default:
            break;
        }
    }
}

static void tcp_ended(struct dp_relay *r, struct relay_agent *a)
{
    if (!a->tcp_ended) {
        a->tcp_ended = true;
        r->tcp_open--;
    }
}

/* Agent i's TCP connection is lost to its client (why: a RI_RELAY_E*
 * code): while the agent needed it, its client fails with it (an
 * allocation does not outlive its connection, RFC 8656 §3.1). */
static void tcp_lost(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i, uint32_t why)
{
    struct relay_agent *a = &r->ag[i];
    struct ri_relay *x = r->x;
    if (a->tcp_done)
        return;
    a->tcp_done = true;
    a->rx_len = 0;
    if (a->state == AG_ALLOCATING || a->state == AG_ALLOCATED || a->state == AG_IDLE) {
        uint32_t st = a->state == AG_ALLOCATED ? RI_RELAY_REFRESH : RI_RELAY_ALLOCATE;
        if (st == RI_RELAY_REFRESH)
            ri_add(x->attempted[RI_RELAY_REFRESH], 1);
        ri_add(x->failed[st], 1);
        ri_add(x->fail_code[why], 1);
        agent_failed(ctx, r, wk, i, 0); /* no TURN error code: the connection is lost */
    } else if (a->state == AG_CLOSING) {
        /* the release's answer cannot come any more, but the allocation
         * ends with its connection (RFC 8656 §3.1): released (coturn resets
         * the connection as it deletes the allocation, and a reset drops
         * an answer still in its send buffer) */
        a->state = AG_CLOSED;
        r->closing--;
        ri_add(x->ok[RI_RELAY_CLOSE], 1);
        ri_add(x->released, 1);
    }
}

static void tcp_events(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i, uint64_t now)
{
    struct relay_agent *a = &r->ag[i];
    struct ri_relay *x = r->x;
    struct tcp_ev ev;
    while (tcp_poll_event(a->tcp, &ev) != TCP_EV_NONE) {
        switch (ev.type) {
        case TCP_EV_CONNECTED:
            a->tcp_was_up = true;
            ri_add(x->tcp_up, 1);
            turn_allocate(a->t, now);
            break;
        case TCP_EV_PEER_FIN: /* expected only after our release */
            if (a->state != AG_CLOSING && a->state != AG_CLOSED && a->state != AG_FAILED)
                ri_add(x->tcp_peer_closed, 1);
            tcp_closing(a, now);
            tcp_lost(ctx, r, wk, i, RI_RELAY_EOTHER);
            break;
        case TCP_EV_RESET:
            /* coturn ends a session with a RST once the allocation is
             * released or the client's FIN is in: the end, not a failure */
            if (a->tcp_fin || a->state == AG_CLOSING)
                ri_add(x->tcp_fin_reset, 1);
            else
                ri_add(x->tcp_reset, 1);
            tcp_lost(ctx, r, wk, i, RI_RELAY_EOTHER);
            tcp_ended(r, a);
            break;
        case TCP_EV_FAILED:
            ri_add(x->tcp_failed, 1);
            tcp_lost(ctx, r, wk, i, RI_RELAY_ETIMEOUT);
            tcp_ended(r, a);
            break;
        case TCP_EV_CLOSED: /* FINs both ways, or dropped before the SYN-ACK */
            if (a->tcp_was_up)
                ri_add(x->tcp_closed, 1);
            else
                ri_add(x->tcp_failed, 1);
            tcp_lost(ctx, r, wk, i, RI_RELAY_EOTHER);
            tcp_ended(r, a);
            break;
        default:
            break;
        }
    }
}

/* After something happened to agent i: its events, its datagrams, its
 * deadline filed. */
static void agent_service(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                          uint64_t now)
{
    if (r->tcp)
        tcp_events(ctx, r, wk, i, now);
    agent_events(ctx, r, wk, i, now);
    agent_transmit(ctx, r, wk, i, now);
    if (r->tcp)
        tcp_events(ctx, r, wk, i, now); /* a close just made */
    wheel_file(r, i);
}

/* A datagram from the server for agent i. */
static void server_in(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                      const uint8_t *d, uint32_t len, uint64_t tsc, uint64_t now)
{
    struct relay_agent *a = &r->ag[i];
    struct ri_relay *x = r->x;
    /* a response (class bit C1: success or error) to the request being timed */
    if (a->tx_pending && len >= 20 && d[0] < 0x40 && (d[0] & 0x01) && memcmp(d + 8, a->txid, 12) == 0) {
        if (!a->tx_retx)
            met_hist_record(&x->rtt, now - a->t_tx);
        a->tx_pending = false;
    }
    struct turn_rx rx;
    enum engine_input res = turn_handle_input(a->t, d, len, now, &rx);
    if (res != ENGINE_IN_ACCEPTED)
        ri_add(x->frames_unknown, 1);
    if (rx.peer >= 0 && rx.peer < (int)(r->peer_off[i + 1] - r->peer_off[i])) {
        uint64_t val = r->peer_val[r->peer_off[i] + (uint32_t)rx.peer];
        ri_add(x->pkts_in, 1);
        ri_add(x->bytes_in, rx.len);
        if (d[0] >= 0x40)
            ri_add(x->channel_data_in, 1);
        else
            ri_add(x->data_ind_in, 1);
        if (!x->t_first_pkt_ns)
            ri_set(x->t_first_pkt_ns, now);
        ri_set(x->t_last_pkt_ns, now);
        if (val != UINT64_MAX && (val & PEER_TARGET)) { /* to the session, as from the candidate */
            const struct stun_addr *c = &r->tgt[i].addr[val & 0xff];
            dp_target_rx(ctx, wk, NULL, wire_get32(c->ip), c->port, ctx->ri.agents[i].ip, rx.data,
                         (uint32_t)rx.len, tsc);
        } else if (val != UINT64_MAX) {
            dp_conns_input(ctx, wk, val, rx.data, (uint32_t)rx.len, tsc);
        }
    }
    agent_service(ctx, r, wk, i, now);
}

/* Bytes of the server's stream for agent i: split into messages (STUN by
 * its length, ChannelData by its length and padding) and handed to
 * server_in one at a time; a partial message waits in the agent's rx. A
 * stream that does not frame is reset (counted). */
static void stream_in(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint32_t i,
                      const uint8_t *d, size_t n, uint64_t tsc, uint64_t now)
{
    struct relay_agent *a = &r->ag[i];
    while (n && !a->tcp_done) {
        size_t k = n < STREAM_BUF - a->rx_len ? n : STREAM_BUF - a->rx_len;
        memcpy(a->rx + a->rx_len, d, k);
        a->rx_len = (uint16_t)(a->rx_len + k);
        d += k;
        n -= k;
        size_t off = 0;
        int m = 0;
        while (!a->tcp_done && (m = turn_stream_frame(a->rx + off, a->rx_len - off)) > 0) {
            server_in(ctx, r, wk, i, a->rx + off, (uint32_t)m, tsc, now);
            off += (size_t)m;
        }
        if (a->tcp_done)
            return;
        if (m < 0 || a->rx_len - off == STREAM_BUF) {
            ri_add(r->x->stream_malformed, 1);
            tcp_abort(a->tcp, now);
            tcp_lost(ctx, r, wk, i, RI_RELAY_EOTHER);
            tcp_ended(r, a);
            return;
        }
        memmove(a->rx, a->rx + off, a->rx_len - off);
        a->rx_len = (uint16_t)(a->rx_len - off);
    }
}

/* A TCP segment in an IPv4 frame from the server (transport=tcp). */
static void tcp_frame_in(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, struct rte_mbuf *m,
                         uint64_t tsc, uint64_t now)
{
    struct ri_relay *x = r->x;
    const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
    uint16_t ip_len = rte_be_to_cpu_16(ip->total_length);
    uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
    uint32_t i = dst - ctx->ri.cfg->ip_base - 1;
    const uint8_t *seg = (const uint8_t *)(ip + 1);
    size_t seg_len = ip_len >= sizeof(*ip) ? ip_len - sizeof(*ip) : 0;
    if (ip->version_ihl != RTE_IPV4_VHL_DEF || seg_len < TCP_HDR_LEN ||
        (uint32_t)ip_len + RTE_ETHER_HDR_LEN > m->data_len ||
        (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
        rte_be_to_cpu_32(ip->src_addr) != x->server_ip || i >= r->n || ctx->ri.agents[i].ip != dst ||
        ((uint32_t)seg[0] << 8 | seg[1]) != x->server_port || ((uint32_t)seg[2] << 8 | seg[3]) != x->local_port) {
        ri_add(x->frames_foreign, 1);
        rte_pktmbuf_free(m);
        return;
    }
    const uint8_t *d;
    size_t n;
    enum engine_input res = tcp_handle_input(r->ag[i].tcp, seg, seg_len, now, &d, &n);
    if (res == ENGINE_IN_IGNORED)
        ri_add(x->frames_foreign, 1);
    if (n)
        stream_in(ctx, r, wk, i, d, n, tsc, now);
    agent_service(ctx, r, wk, i, now);
    rte_pktmbuf_free(m);
}

static void rx_frame(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, struct rte_mbuf *m,
                     uint64_t tsc, uint64_t now)
{
    struct ri_relay *x = r->x;
    if (m->data_len < RTE_ETHER_HDR_LEN || m->nb_segs != 1) {
        ri_add(x->frames_foreign, 1);
        rte_pktmbuf_free(m);
        return;
    }
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    if (rte_is_same_ether_addr(&f->eth.src_addr, &r->mac)) { /* our own, looped back by the socket */
        rte_pktmbuf_free(m);
        return;
    }
    if (f->eth.ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
        arp_in(ctx, r, wk, m);
        return;
    }
    if (r->tcp && m->data_len >= TCP_SEG_OFF + TCP_HDR_LEN &&
        f->eth.ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && f->ip.next_proto_id == IPPROTO_TCP) {
        tcp_frame_in(ctx, r, wk, m, tsc, now);
        return;
    }
    uint16_t ip_len = m->data_len >= DP_FRAME_HDR_LEN ? rte_be_to_cpu_16(f->ip.total_length) : 0;
    uint32_t dst = m->data_len >= DP_FRAME_HDR_LEN ? rte_be_to_cpu_32(f->ip.dst_addr) : 0;
    uint32_t i = dst - ctx->ri.cfg->ip_base - 1;
    if (f->eth.ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || m->data_len < DP_FRAME_HDR_LEN ||
        f->ip.version_ihl != RTE_IPV4_VHL_DEF || f->ip.next_proto_id != IPPROTO_UDP ||
        ip_len < sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) ||
        (uint32_t)ip_len + RTE_ETHER_HDR_LEN > m->data_len ||
        (rte_be_to_cpu_16(f->ip.fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
        rte_be_to_cpu_16(f->udp.dgram_len) != ip_len - sizeof(struct rte_ipv4_hdr) ||
        rte_be_to_cpu_32(f->ip.src_addr) != x->server_ip || rte_be_to_cpu_16(f->udp.src_port) != x->server_port ||
        rte_be_to_cpu_16(f->udp.dst_port) != x->local_port || i >= r->n || ctx->ri.agents[i].ip != dst) {
        ri_add(x->frames_foreign, 1);
        rte_pktmbuf_free(m);
        return;
    }
    server_in(ctx, r, wk, i, (const uint8_t *)&f->msg, (uint32_t)(ip_len - sizeof(struct rte_ipv4_hdr) -
                                                                  sizeof(struct rte_udp_hdr)), tsc, now);
    rte_pktmbuf_free(m);
}

/* The wheel up to `now` (one turn at most a pass): the clients whose
 * deadline has come run it, the others are filed again. True when a
 * client ran. */
static bool run_wheel(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint64_t now)
{
    uint64_t now_tick = now / WHEEL_TICK_NS;
    bool did = false;
    if (now_tick < r->wheel_tick)
        return false;
    uint64_t last = now_tick - r->wheel_tick >= WHEEL_SLOTS ? r->wheel_tick + WHEEL_SLOTS - 1 : now_tick;
    for (uint64_t t = r->wheel_tick; t <= last; t++) {
        uint32_t slot = (uint32_t)(t % WHEEL_SLOTS);
        uint32_t i = r->wheel[slot];
        r->wheel[slot] = NONE;
        r->wheel_tick = t + 1; /* what is filed from here on goes to a later slot */
        while (i != NONE) {
            struct relay_agent *a = &r->ag[i];
            uint32_t next = a->next;
            a->slot = a->prev = a->next = NONE;
            if (a->due <= now) {
                if (r->tcp)
                    tcp_handle_timeout(a->tcp, now);
                if (!a->tcp_done)
                    turn_handle_timeout(a->t, now);
                agent_service(ctx, r, wk, i, now);
                did = true;
            } else {
                wheel_file(r, i);
            }
            i = next;
        }
    }
    r->wheel_tick = last + 1;
    return did;
}

static uint16_t rx_burst(const struct dp_ctx *ctx, struct dp_relay *r, struct dp_worker *wk, uint64_t tsc,
                         uint64_t now)
{
    struct rte_mbuf *pkts[RELAY_BURST];
    uint16_t n = rte_eth_rx_burst(r->port_id, 0, pkts, RELAY_BURST);
    uint64_t bytes = 0;
    for (uint16_t k = 0; k < n; k++)
        bytes += pkts[k]->pkt_len;
    if (n) {
        ri_add(wk->m->live.pkts_rx, n);
        ri_add(wk->m->live.bytes_rx, bytes);
    }
    for (uint16_t k = 0; k < n; k++)
        rx_frame(ctx, r, wk, pkts[k], tsc, now);
    return n;
}

bool dp_relay_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_relay *r = ctx->relay;
    uint64_t now = dp_conn_ns(ctx, wk->conns, tsc);
    bool did = rx_burst(ctx, r, wk, tsc, now) > 0;
    if (!r->started) {
        if (!r->have_mac && r->arp_since && now - r->arp_since > DP_RELAY_ARP_NS) {
            /* nobody has the server's address: every agent fails at allocate, no answer */
            r->started = true;
            ri_set(r->x->t_start_ns, now);
            for (uint32_t i = 0; i < r->n; i++) {
                ri_add(r->x->attempted[RI_RELAY_ALLOCATE], 1);
                ri_add(r->x->failed[RI_RELAY_ALLOCATE], 1);
                ri_add(r->x->fail_code[RI_RELAY_ETIMEOUT], 1);
                agent_failed(ctx, r, wk, i, 0);
            }
            return true;
        }
        if (!r->have_mac) {
            if (!r->arp_since)
                r->arp_since = now;
            if (now >= r->next_arp) {
                arp_request(ctx, r, wk);
                r->next_arp = now + ARP_EVERY_NS;
            }
            return did;
        }
        /* the server is known: every agent allocates at once */
        r->started = true;
        ri_set(r->x->t_start_ns, now);
        r->wheel_tick = now / WHEEL_TICK_NS;
        for (uint32_t i = 0; i < r->n; i++) {
            r->ag[i].state = AG_ALLOCATING;
            r->ag[i].t_alloc = now;
            if (r->tcp) { /* the Allocate goes once the connection is up */
                tcp_connect(r->ag[i].tcp, now);
                ri_add(r->x->tcp_attempted, 1);
                r->tcp_open++;
            } else {
                turn_allocate(r->ag[i].t, now);
            }
            ri_add(r->x->attempted[RI_RELAY_ALLOCATE], 1);
            agent_service(ctx, r, wk, i, now);
        }
        return true;
    }
    did |= run_wheel(ctx, r, wk, now);
    return did;
}

/* Datagram d of agent me to its client's peer p, framed (ChannelData or
 * a Send indication) to the server. */
static void relay_out(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t me, int p, const uint8_t *d,
                      uint32_t len, uint64_t tsc)
{
    struct dp_relay *r = ctx->relay;
    struct ri_relay *x = r->x;
    if (r->tcp) { /* into the agent's stream: ChannelData padded, all or nothing */
        struct relay_agent *a = &r->ag[me];
        int n = p < 0 ? -EINVAL : turn_wrap(a->t, p, d, len, r->scratch, sizeof(r->scratch));
        if (n < 0) {
            ri_add(x->wrap_blocked, 1);
            return;
        }
        uint64_t now = dp_conn_ns(ctx, wk->conns, tsc);
        if (!tcp_can_send(a) || tcp_send(a->tcp, r->scratch, (size_t)n, now) != 0) {
            ri_add(x->tcp_blocked, 1);
            return;
        }
        ri_add(x->pkts_out, 1);
        ri_add(x->bytes_out, len);
        if (r->scratch[0] >= 0x40)
            ri_add(x->channel_data_out, 1);
        else
            ri_add(x->send_ind_out, 1);
        if (!x->t_first_pkt_ns)
            ri_set(x->t_first_pkt_ns, now);
        ri_set(x->t_last_pkt_ns, now);
        tcp_transmit(ctx, r, wk, me, now);
        wheel_file(r, me); /* the retransmission timer */
        return;
    }
    struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
    if (!m) {
        ri_add(wk->m->live.tx_starved, 1);
        return;
    }
    uint8_t *out = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_FRAME_HDR_LEN);
    size_t cap = rte_pktmbuf_tailroom(m) - DP_FRAME_HDR_LEN;
    int n = p < 0 ? -EINVAL : turn_wrap(r->ag[me].t, p, d, len, out, cap);
    if (n < 0) {
        ri_add(x->wrap_blocked, 1);
        rte_pktmbuf_free(m);
        return;
    }
    uint64_t now = dp_conn_ns(ctx, wk->conns, tsc);
    ri_add(x->pkts_out, 1);
    ri_add(x->bytes_out, len);
    if (out[0] >= 0x40)
        ri_add(x->channel_data_out, 1);
    else
        ri_add(x->send_ind_out, 1);
    if (!x->t_first_pkt_ns)
        ri_set(x->t_first_pkt_ns, now);
    ri_set(x->t_last_pkt_ns, now);
    frame_to_server(r, ctx, m, me, (size_t)n);
    tx_push(ctx, r, wk, m);
}

void dp_relay_send(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t e, int side, const uint8_t *d,
                   uint32_t len, uint64_t tsc)
{
    const struct ri_edge *ed = &ctx->ri.edges[e];
    relay_out(ctx, wk, side ? ed->b : ed->a, ctx->relay->ep_peer[2 * (size_t)e + (size_t)side], d, len, tsc);
}

int dp_relay_target_peer(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t agent, uint32_t ip,
                         uint16_t port, uint64_t tsc)
{
    struct dp_relay *r = ctx->relay;
    if (agent >= r->n_tgt || r->ag[agent].state != AG_ALLOCATED)
        return -ENOTCONN;
    struct relay_tgt *g = &r->tgt[agent];
    struct stun_addr a = {4, port, {0}};
    wire_put32(a.ip, ip);
    for (uint32_t k = 0; k < g->n; k++)
        if (g->addr[k].port == port && memcmp(g->addr[k].ip, a.ip, 4) == 0)
            return g->peer[k];
    if (g->n == RELAY_TGT_PEERS)
        return -ENOSPC;
    uint64_t now = dp_conn_ns(ctx, wk->conns, tsc);
    int p = turn_add_peer(r->ag[agent].t, &a, true, now);
    ri_add(r->x->attempted[RI_RELAY_PERMISSION], 1);
    ri_add(r->x->attempted[RI_RELAY_CHANNEL], 1);
    if (p < 0) {
        ri_add(r->x->failed[RI_RELAY_PERMISSION], 1);
        ri_add(r->x->fail_code[RI_RELAY_EOTHER], 1);
        return p;
    }
    uint32_t k = g->n++;
    g->addr[k] = a;
    g->peer[k] = (int16_t)p;
    size_t v = r->peer_off[agent] + (uint32_t)p;
    r->peer_val[v] = PEER_TARGET | k;
    r->peer_flags[v] = 0;
    agent_transmit(ctx, r, wk, agent, now); /* its CreatePermission */
    wheel_file(r, agent);
    return p;
}

bool dp_relay_target_permitted(const struct dp_ctx *ctx, uint32_t agent, int peer)
{
    const struct dp_relay *r = ctx->relay;
    return agent < r->n_tgt && peer >= 0 && turn_peer_permitted(r->ag[agent].t, peer);
}

void dp_relay_target_send(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t agent, int peer,
                          const uint8_t *d, uint32_t len, uint64_t tsc)
{
    relay_out(ctx, wk, agent, peer, d, len, tsc);
}

void dp_relay_peer_addr(const struct dp_relay *r, uint32_t e, int side, struct stun_addr *out)
{
    const struct ri_edge *ed = &r->edges[e];
    *out = *turn_relayed(r->ag[other_of(ed, side)].t);
}

void dp_relay_finish(const struct dp_ctx *ctx, struct dp_worker *wk)
{
    struct dp_relay *r = ctx->relay;
    struct ri_relay *x = r->x;
    uint64_t tsc = rte_rdtsc(), now = dp_conn_ns(ctx, wk->conns, tsc);
    r->closing = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        struct relay_agent *a = &r->ag[i];
        if (a->state == AG_ALLOCATED) {
            a->state = AG_CLOSING;
            r->closing++;
            ri_add(x->attempted[RI_RELAY_CLOSE], 1);
        }
        turn_close(a->t, now);
        agent_service(ctx, r, wk, i, now);
    }
    dp_relay_flush(ctx, wk);
    uint64_t end = now + DP_RELAY_CLOSE_NS;
    /* over TCP, the connections' FINs too (each closes after its release) */
    while ((r->closing || (r->tcp && r->tcp_open)) && now < end) {
        tsc = rte_rdtsc();
        now = dp_conn_ns(ctx, wk->conns, tsc);
        rx_burst(ctx, r, wk, tsc, now);
        run_wheel(ctx, r, wk, now);
        dp_relay_flush(ctx, wk);
    }
    ri_set(x->release_unanswered, r->closing);
    if (r->tcp) {
        uint64_t c[9] = {0};
        for (uint32_t i = 0; i < r->n; i++) {
            struct relay_agent *a = &r->ag[i];
            if (!a->tcp_ended && tcp_state(a->tcp) != TCP_CLOSED_STATE) { /* not closed in time: reset */
                tcp_abort(a->tcp, now);
                tcp_transmit(ctx, r, wk, i, now);
                tcp_ended(r, a);
                ri_add(x->tcp_aborted, 1);
            }
            const struct tcp_counters *tc = tcp_counters(a->tcp);
            c[0] += tc->segs_out;
            c[1] += tc->segs_in;
            c[2] += tc->retransmits;
            c[3] += tc->retx_segments;
            c[4] += tc->bad_checksum;
            c[5] += tc->bad_segments;
            c[6] += tc->out_of_order;
            c[7] += tc->rst_out;
            c[8] += tc->fast_retransmits;
        }
        dp_relay_flush(ctx, wk);
        ri_set(x->tcp_segs_out, c[0]);
        ri_set(x->tcp_segs_in, c[1]);
        ri_set(x->tcp_retransmits, c[2]);
        ri_set(x->tcp_retx_segments, c[3]);
        ri_set(x->tcp_bad_checksum, c[4]);
        ri_set(x->tcp_bad_segments, c[5]);
        ri_set(x->tcp_out_of_order, c[6]);
        ri_set(x->tcp_rst_out, c[7]);
        ri_set(x->tcp_fast_retransmits, c[8]);
    }
    uint64_t req = 0, retx = 0, integ = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        const struct turn_counters *c = turn_counters(r->ag[i].t);
        req += c->requests;
        retx += c->retransmits;
        integ += c->integrity_failures;
    }
    ri_set(x->requests, req);
    ri_set(x->retransmits, retx);
    ri_set(x->integrity_failures, integ);
}

/* ---- set-up ------------------------------------------------------------ */

static int open_port(struct dp_ctx *ctx, struct dp_relay *r, char *err, size_t errlen)
{
    const char *spec = r->x->port;
    const char *comma = strchr(spec, ',');
    size_t nlen = comma ? (size_t)(comma - spec) : strlen(spec);
    if (nlen == 0 || nlen >= sizeof(r->vdev_name)) {
        snprintf(err, errlen, "--relay: port '%s' is not a DPDK vdev string (e.g. net_af_packet0,iface=sgext0)",
                 spec);
        return -EINVAL;
    }
    memcpy(r->vdev_name, spec, nlen);
    r->vdev_name[nlen] = 0;
    int rc = rte_vdev_init(r->vdev_name, comma ? comma + 1 : "");
    if (rc < 0) {
        r->vdev_name[0] = 0;
        snprintf(err, errlen, "--relay: port %s: cannot create the device (does the interface exist? "
                              "tools/external-port up)", spec);
        return rc;
    }
    if (rte_eth_dev_get_port_by_name(r->vdev_name, &r->port_id) != 0) {
        snprintf(err, errlen, "--relay: port %s: no ethdev port after creation", spec);
        return -ENODEV;
    }
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof(conf));
    rc = rte_eth_dev_configure(r->port_id, 1, 1, &conf);
    uint16_t nrx = RELAY_RX_DESC, ntx = RELAY_TX_DESC;
    if (rc == 0)
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(r->port_id, &nrx, &ntx);
    if (rc == 0)
        rc = rte_eth_rx_queue_setup(r->port_id, 0, nrx, rte_socket_id(), NULL, ctx->pool);
    if (rc == 0)
        rc = rte_eth_tx_queue_setup(r->port_id, 0, ntx, rte_socket_id(), NULL);
    if (rc == 0)
        rc = rte_eth_dev_start(r->port_id);
    if (rc < 0) {
        snprintf(err, errlen, "--relay: port %s: set-up: %s", spec, rte_strerror(-rc));
        return rc;
    }
    r->port_started = true;
    rte_eth_promiscuous_enable(r->port_id);
    rte_eth_macaddr_get(r->port_id, &r->mac);
    struct rte_eth_dev_info info;
    rte_eth_dev_info_get(r->port_id, &info);
    memcpy(r->x->port_mac, r->mac.addr_bytes, 6);
    snprintf(r->x->port_desc, sizeof(r->x->port_desc), "%s (%s)", spec, info.driver_name);
    return 0;
}

/* the memory plan (dp_mem_relay) counts from these */
_Static_assert(sizeof(struct relay_agent) == DP_MEM_RELAY_AGENT_BYTES, "update DP_MEM_RELAY_AGENT_BYTES (dp_mem.h)");
_Static_assert(sizeof(struct dp_relay) == DP_MEM_RELAY_STATE_BYTES, "update DP_MEM_RELAY_STATE_BYTES (dp_mem.h)");
_Static_assert(WHEEL_SLOTS == 8192u, "dp_mem_relay counts 8192 wheel heads");
_Static_assert(STREAM_BUF == DP_MEM_RELAY_STREAM_BUF, "update DP_MEM_RELAY_STREAM_BUF (dp_mem.h)");
_Static_assert(sizeof(struct relay_tgt) == DP_MEM_RELAY_TGT_BYTES && RELAY_TGT_PEERS == DP_MEM_RELAY_TGT_PEERS,
               "update DP_MEM_RELAY_TGT_BYTES / _PEERS (dp_mem.h)");

int dp_relay_init(struct dp_ctx *ctx, char *err, size_t errlen)
{
    struct ri_relay *x = ri_section(ctx->ri.hdr, RI_SEC_RELAY);
    if (!x->on)
        return 0;
    const struct ri_config *cfg = ctx->ri.cfg;
    if (cfg->traffic != RI_TRAFFIC_DC || ctx->n_workers != 1 || !ctx->worker[0] || !ctx->worker[0]->conns) {
        snprintf(err, errlen, "run image: --relay needs traffic dc and one worker");
        return -EINVAL;
    }
    struct dp_relay *r = calloc(1, sizeof(*r));
    if (!r)
        goto oom;
    ctx->relay = r;
    r->x = x;
    r->edges = ctx->ri.edges;
    r->n = cfg->n_agents;
    x->port[sizeof(x->port) - 1] = 0;
    x->user[sizeof(x->user) - 1] = x->pass[sizeof(x->pass) - 1] = 0;
    int rc = open_port(ctx, r, err, errlen);
    if (rc < 0)
        return rc;
    if (cfg->target_slots) { /* --target too: the target agents' clients hold their server candidates */
        r->tgt_sec = ri_section(ctx->ri.hdr, RI_SEC_TARGET);
        r->n_tgt = cfg->target_slots < r->n ? cfg->target_slots : r->n;
        r->tgt = calloc(r->n_tgt, sizeof(*r->tgt));
        if (!r->tgt)
            goto oom;
    }
    r->peer_off = malloc(((size_t)r->n + 1) * sizeof(uint64_t));
    if (!r->peer_off)
        goto oom;
    r->peer_off[0] = 0;
    for (uint32_t i = 0; i < r->n; i++)
        r->peer_off[i + 1] = r->peer_off[i] + (ctx->ri.adj_off[i + 1] - ctx->ri.adj_off[i]) +
                             (i < r->n_tgt ? RELAY_TGT_PEERS : 0);
    uint64_t slots = r->peer_off[r->n];
    r->ag = calloc(r->n ? r->n : 1, sizeof(*r->ag));
    r->peer_val = malloc((slots ? slots : 1) * sizeof(uint64_t));
    r->peer_flags = calloc(slots ? slots : 1, 1);
    r->ep_peer = malloc((2 * (size_t)cfg->n_edges + 1) * sizeof(int32_t));
    r->edge_bits = calloc(cfg->n_edges ? cfg->n_edges : 1, 1);
    r->edge_state = calloc(cfg->n_edges ? cfg->n_edges : 1, 1);
    if (!r->ag || !r->peer_val || !r->peer_flags || !r->ep_peer || !r->edge_bits || !r->edge_state)
        goto oom;
    for (uint64_t k = 0; k < slots; k++)
        r->peer_val[k] = UINT64_MAX;
    for (uint64_t k = 0; k < 2 * (uint64_t)cfg->n_edges; k++)
        r->ep_peer[k] = -1;
    size_t total = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        uint64_t deg = r->peer_off[i + 1] - r->peer_off[i];
        total += (turn_size((uint16_t)(deg ? (deg > UINT16_MAX ? UINT16_MAX : deg) : 1)) + 63) & ~(size_t)63;
    }
    r->mem = aligned_alloc(64, total ? total : 64);
    if (!r->mem)
        goto oom;
    r->tcp = x->transport == RI_RELAY_TCP;
    if (r->tcp) { /* a connection (16 KiB of send ring) and a stream buffer per agent */
        size_t tsz = (tcp_size(TCP_SNDBUF_DEFAULT) + 63) & ~(size_t)63;
        r->tcp_mem = aligned_alloc(64, tsz * (r->n ? r->n : 1));
        r->stream_mem = malloc((size_t)STREAM_BUF * (r->n ? r->n : 1));
        if (!r->tcp_mem || !r->stream_mem)
            goto oom;
    }
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
        snprintf(err, errlen, "--relay: getrandom failed");
        return -EIO;
    }
    char *p = r->mem;
    for (uint32_t i = 0; i < r->n; i++) {
        uint64_t deg = r->peer_off[i + 1] - r->peer_off[i];
        if (deg > UINT16_MAX) {
            snprintf(err, errlen, "--relay: agent %u has %llu peers, a TURN client holds %u", i,
                     (unsigned long long)deg, UINT16_MAX);
            return -EINVAL;
        }
        struct turn_config tc = {.user = x->user, .pass = x->pass, .lifetime_s = x->lifetime_s,
                                 .seed = rng_mix(seed + i), .max_peers = (uint16_t)(deg ? deg : 1),
                                 .stream = r->tcp};
        r->ag[i].t = turn_init(p, &tc);
        if (!r->ag[i].t) {
            snprintf(err, errlen, "--relay: user or password longer than %d bytes", TURN_USER_MAX - 1);
            return -EINVAL;
        }
        p += (turn_size(tc.max_peers) + 63) & ~(size_t)63;
        if (r->tcp) { /* from the agent's address and the run's port; the ISN from getrandom */
            size_t tsz = (tcp_size(TCP_SNDBUF_DEFAULT) + 63) & ~(size_t)63;
            struct tcp_config cc = {.local_ip = ctx->ri.agents[i].ip, .remote_ip = x->server_ip,
                                    .local_port = x->local_port, .remote_port = x->server_port,
                                    .isn = (uint32_t)rng_mix(seed ^ (0x9e3779b97f4a7c15ull + i))};
            r->ag[i].tcp = tcp_init((char *)r->tcp_mem + tsz * i, &cc);
            r->ag[i].rx = r->stream_mem + (size_t)STREAM_BUF * i;
            if (!r->ag[i].tcp)
                goto oom;
        }
    }
    r->wheel = malloc(WHEEL_SLOTS * sizeof(uint32_t));
    if (!r->wheel)
        goto oom;
    /* what was allocated above, as dp_mem_relay plans it (the plan counts
     * each client's 64-byte rounding as its average) */
    x->mem_bytes = sizeof(*r) + (uint64_t)r->n_tgt * sizeof(*r->tgt) + ((uint64_t)r->n + 1) * sizeof(uint64_t) +
                   (uint64_t)r->n * sizeof(*r->ag) + slots * (sizeof(uint64_t) + 1) +
                   (2 * (uint64_t)cfg->n_edges + 1) * sizeof(int32_t) + 2 * (uint64_t)cfg->n_edges + total +
                   WHEEL_SLOTS * sizeof(uint32_t) +
                   (r->tcp ? (uint64_t)(r->n ? r->n : 1) * (((tcp_size(TCP_SNDBUF_DEFAULT) + 63) & ~(size_t)63) + STREAM_BUF) : 0);
    for (uint32_t k = 0; k < WHEEL_SLOTS; k++)
        r->wheel[k] = NONE;
    for (uint32_t i = 0; i < r->n; i++) {
        r->ag[i].due = UINT64_MAX;
        r->ag[i].slot = r->ag[i].prev = r->ag[i].next = NONE;
    }
    return 0;
oom:
    snprintf(err, errlen, "--relay: out of memory");
    return -ENOMEM;
}

void dp_relay_free(struct dp_ctx *ctx)
{
    struct dp_relay *r = ctx->relay;
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n_tx; i++)
        rte_pktmbuf_free(r->tx[i]);
    if (r->port_started) {
        rte_eth_dev_stop(r->port_id);
        rte_eth_dev_close(r->port_id);
    }
    if (r->vdev_name[0])
        rte_vdev_uninit(r->vdev_name);
    free(r->mem);
    free(r->tcp_mem);
    free(r->stream_mem);
    free(r->ag);
    free(r->peer_off);
    free(r->tgt);
    free(r->peer_val);
    free(r->peer_flags);
    free(r->ep_peer);
    free(r->edge_bits);
    free(r->edge_state);
    free(r->wheel);
    free(r);
    ctx->relay = NULL;
}
