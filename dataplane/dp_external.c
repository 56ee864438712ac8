/* SPDX-License-Identifier: MIT */
/* External WebRTC peers on worker 0: the kernel-visible port, proxy ARP for
 * the agent addresses, one struct pc per session slot, echo or routing of what
 * the peer sends. */
#include "dp_external.h"
#include "dp_external_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dp_conn.h"
#include "dp_msg.h"
#include "dp_target.h"
#include "pc.h"
#include "rng.h"
#include "stun.h"


uint64_t dp_ext_ns(const struct dp_ctx *ctx, const struct dp_external *e, uint64_t tsc)
{
    return AGENT_NS_BASE + (uint64_t)((double)(tsc - e->tsc0) * ctx->ns_per_cycle);
}

/* ---- transmission ----------------------------------------------------- */

void dp_ext_flush(struct dp_external *e, struct dp_worker *wk)
{
    if (e->n_tx == 0)
        return;
    uint16_t sent = e->port_started ? rte_eth_tx_burst(e->port_id, 0, e->tx, (uint16_t)e->n_tx) : 0;
    for (uint32_t i = sent; i < e->n_tx; i++) {
        ri_add(wk->m->live.drops[RI_DROP_TX_FULL], 1);
        rte_pktmbuf_free(e->tx[i]);
    }
    e->n_tx = 0;
}

void dp_ext_tx(struct dp_external *e, struct dp_worker *wk, struct rte_mbuf *m)
{
    e->tx[e->n_tx++] = m;
    if (e->n_tx == EXT_TX)
        dp_ext_flush(e, wk);
}

/* Frames the datagrams the session has ready (at most `max`), from the
 * agent to the peer's adopted address, or to where frame `to` came from
 * when it is not NULL. Nothing goes out before a peer was adopted. */
static void sess_transmit_to(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                             uint32_t i, uint64_t now, const struct dp_frame *to, uint32_t max)
{
    struct ext_session *s = &e->sess[i];
    struct ri_ext_slot *sl = &e->x->slot[i];
    if (!to && !s->have_peer)
        return; /* what the engines have waits for a peer */
    const uint8_t *dmac = to ? to->eth.src_addr.addr_bytes : s->peer_mac;
    rte_be32_t dip = to ? to->ip.src_addr : s->peer_ip;
    rte_be16_t dport = to ? to->udp.src_port : s->peer_port;
    for (uint32_t k = 0; k < max; k++) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
        if (!m) {
            ri_add(wk->m->live.tx_starved, 1);
            return; /* SCTP keeps its data; the next pass tries again */
        }
        uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_FRAME_HDR_LEN);
        size_t cap = rte_pktmbuf_tailroom(m) - DP_FRAME_HDR_LEN;
        size_t n = pc_poll_transmit(&s->pc, d, cap, now);
        if (n == 0) {
            rte_pktmbuf_free(m);
            return;
        }
        m->data_len = (uint16_t)(DP_FRAME_HDR_LEN + n);
        m->pkt_len = m->data_len;
        struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
        dp_frame_write_l234(f, s->agent, 0, s->agent_ip, rte_be_to_cpu_32(dip), s->port,
                            rte_be_to_cpu_16(dport), (uint16_t)n, e->ip_id++);
        rte_ether_addr_copy(&e->mac, &f->eth.src_addr);
        memcpy(f->eth.dst_addr.addr_bytes, dmac, 6);
        ri_add(sl->s.frames_out, 1);
        ri_add(e->x->total.frames_out, 1);
        dp_ext_tx(e, wk, m);
    }
}

/* Every datagram the session has ready, to the peer's adopted address. */
static void sess_transmit(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                          uint32_t i, uint64_t now)
{
    sess_transmit_to(ctx, e, wk, i, now, NULL, UINT32_MAX);
}

/* ---- sessions --------------------------------------------------------- */

/* Half the smallest share of the pool (all slots taken; what arrives
 * above a hole may fill the other half) still holds a whole message of
 * RI_MSG_MAX bytes in a browser's chunks (about 1,150 bytes: dcSCTP's
 * 1,191-byte packets less the headers). */
_Static_assert(DP_EXT_SCTP_BUFS / RI_EXTERNAL_MAX / 2 * 1150u >= RI_MSG_MAX,
               "a session's share of the SCTP pool cannot reassemble a whole message");

enum ri_stage dp_ext_stage_of(const struct pc *p)
{
    switch (pc_failure(p)) {
    case PC_FAIL_ICE:
        return RI_STAGE_ICE;
    case PC_FAIL_DTLS:
        return RI_STAGE_DTLS;
    case PC_FAIL_SCTP:
        return RI_STAGE_SCTP;
    case PC_FAIL_DC:
        return RI_STAGE_DC;
    default:
        break;
    }
    switch (pc_stage(p)) {
    case PC_ICE:
        return RI_STAGE_ICE;
    case PC_DTLS_WAIT:
    case PC_DTLS:
        return RI_STAGE_DTLS;
    case PC_SCTP:
        return RI_STAGE_SCTP;
    default:
        return RI_STAGE_DC;
    }
}

/* Ends session i: CLOSED (by control or the peer) or FAILED. An SCTP
 * ABORT tells the peer when we end a running association. */
static void sess_end(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                     uint32_t i, enum ri_ext_dp_state how, uint64_t now)
{
    struct ext_session *s = &e->sess[i];
    struct ri_ext_slot *sl = &e->x->slot[i];
    struct ri_external *x = e->x;
    if (!s->running)
        return;
    uint32_t stage = s->have_pc ? dp_ext_stage_of(&s->pc) : RI_STAGE_ICE;
    if (s->have_pc) {
        const struct sctp_counters *k = pc_sctp_counters(&s->pc);
        ri_set(sl->s.sctp_data_chunks_out, k->data_chunks_out);
        ri_set(sl->s.sctp_retransmissions, k->retransmissions);
        ri_set(sl->s.sctp_fast_retransmits, k->fast_retransmits);
        ri_set(sl->s.sctp_t3_timeouts, k->t3_timeouts);
        ri_add(x->total.sctp_data_chunks_out, k->data_chunks_out);
        ri_add(x->total.sctp_retransmissions, k->retransmissions);
        ri_add(x->total.sctp_fast_retransmits, k->fast_retransmits);
        ri_add(x->total.sctp_t3_timeouts, k->t3_timeouts);
        ri_set(sl->s.dtls_key_updates_out, s->pc_counters.key_updates_out);
        ri_set(sl->s.dtls_key_updates_in, s->pc_counters.key_updates_in);
        ri_add(x->total.dtls_key_updates_out, s->pc_counters.key_updates_out);
        ri_add(x->total.dtls_key_updates_in, s->pc_counters.key_updates_in);
    }
    uint8_t dtls_failure = 0;
    uint16_t dtls_version = 0;
    if (s->have_pc) {
        /* an SCTP ABORT when the association runs (the peer did not close
         * it), or the alert of a failed handshake */
        if (pc_close(&s->pc, now))
            sess_transmit(ctx, e, wk, i, now);
        dtls_failure = (uint8_t)pc_dtls_failure(&s->pc);
        dtls_version = pc_dtls_version(&s->pc);
        pc_free(&s->pc);
    }
    s->running = s->have_pc = false;
    ri_set(sl->fail_stage, how == RI_EXT_FAILED ? stage : 0);
    if (how == RI_EXT_FAILED)
        ri_add(x->sessions_failed, 1);
    else
        ri_add(x->sessions_closed, 1);
    uint32_t n = x->log_n;
    if (n < RI_EXTERNAL_LOG) {
        struct ri_ext_log *l = &x->log[n];
        l->agent = s->agent;
        l->slot = i;
        l->state = how;
        l->fail_stage = how == RI_EXT_FAILED ? stage : 0;
        l->dtls_client = s->dtls_client;
        l->closed_by_peer = s->closed_by_peer;
        l->dtls_version = dtls_version;
        snprintf(l->dtls_failure, sizeof(l->dtls_failure), "%s",
                 dtls_failure ? dtls_failure_name((enum dtls_failure)dtls_failure) : "");
        l->setup_ns = sl->setup_ns;
        l->duration_ns = now - s->t_req;
        l->s = sl->s;
        ri_store(&x->log_n, n + 1);
    }
    ri_store(&sl->dp_state, (uint32_t)how);
}

/* Adopts request `seq` of slot i (its fields are visible after the
 * acquire load of seq). The peer connection starts with its first datagram. */
static void sess_start(const struct dp_ctx *ctx, struct dp_external *e, uint32_t i, uint32_t seq,
                       uint64_t now)
{
    struct ext_session *s = &e->sess[i];
    struct ri_ext_slot *sl = &e->x->slot[i];
    s->seq = seq;
    s->running = true;
    s->have_pc = s->up = s->closed_by_peer = s->have_peer = false;
    s->peer_ip = 0;
    s->peer_port = 0;
    memset(s->peer_mac, 0, sizeof(s->peer_mac));
    s->agent = sl->agent < ctx->ri.cfg->n_agents ? sl->agent : 0;
    s->agent_ip = ctx->ri.agents[s->agent].ip;
    s->port = sl->port;
    s->dtls_client = sl->dtls_client != 0;
    memcpy(s->lufrag, sl->local_ufrag, sizeof(s->lufrag));
    memcpy(s->lpwd, sl->local_pwd, sizeof(s->lpwd));
    memcpy(s->rufrag, sl->remote_ufrag, sizeof(s->rufrag));
    memcpy(s->rpwd, sl->remote_pwd, sizeof(s->rpwd));
    s->lufrag[sizeof(s->lufrag) - 1] = s->lpwd[sizeof(s->lpwd) - 1] = 0;
    s->rufrag[sizeof(s->rufrag) - 1] = s->rpwd[sizeof(s->rpwd) - 1] = 0;
    memcpy(s->rfp, sl->remote_fp, 32);
    s->t_req = now;
    s->t_first = 0;
    s->pending = false;
    s->pending_len = 0;
    s->sent_bytes = 0;
    s->m_head = s->m_n = 0;
    memset(&sl->s, 0, sizeof(sl->s));
    ri_set(sl->setup_ns, 0);
    ri_set(sl->peer_ip, 0);
    ri_set(sl->peer_port, 0);
    ri_set(sl->dtls_version, 0);
    ri_add(e->x->sessions, 1);
    /* state first, then the request it belongs to: control trusts dp_state
     * only once dp_seq matches */
    ri_store(&sl->dp_state, (uint32_t)RI_EXT_CONNECTING);
    ri_store(&sl->dp_seq, seq);
}

/* Echo acknowledged: every mark whose end SCTP no longer buffers. */
static void sess_acks(struct dp_external *e, struct ext_session *s, uint64_t now)
{
    if (s->m_n == 0)
        return;
    uint64_t buffered = pc_buffered(&s->pc);
    if (buffered > s->sent_bytes) /* our DCEP ACK is not acknowledged yet */
        return;
    uint64_t acked = s->sent_bytes - buffered;
    while (s->m_n && s->marks[s->m_head].end <= acked) {
        const struct ext_mark *k = &s->marks[s->m_head];
        met_hist_record(&e->x->latency, now > k->t ? now - k->t : 0);
        s->m_head = (s->m_head + 1) % DP_EXT_MARKS;
        s->m_n--;
    }
}

/* Tries to echo the pending message, with its type (a string stays a
 * string; an empty one goes back as RFC 8831's PPID 56 or 57); true when
 * it is gone. */
static bool sess_echo(struct dp_external *e, struct dp_worker *wk, struct ext_session *s,
                      struct ri_ext_slot *sl, uint64_t now)
{
    int rc = pc_send_as(&s->pc, s->msg, s->pending_len, s->pending_binary, now);
    if (rc == -EAGAIN)
        return false;
    if (rc == 0) {
        /* what SCTP buffers for it: an empty message is one byte there */
        s->sent_bytes += s->pending_len ? s->pending_len : 1;
        if (s->m_n < DP_EXT_MARKS) {
            s->marks[(s->m_head + s->m_n++) % DP_EXT_MARKS] =
                (struct ext_mark){s->sent_bytes, s->pending_t};
        }
        ri_add(sl->s.msgs_echoed, 1);
        ri_add(sl->s.bytes_out, s->pending_len);
        ri_add(e->x->total.msgs_echoed, 1);
        ri_add(e->x->total.bytes_out, s->pending_len);
    } else {
        ri_add(sl->s.msgs_dropped, 1);
        ri_add(e->x->total.msgs_dropped, 1);
    }
    (void)wk;
    s->pending = false;
    s->pending_len = 0;
    return true;
}

/* --external route: the message as an agent message from the slot's agent.
 * A message that starts with an agent header keeps its destination; any
 * other is the payload of a message to a destination the run's pattern
 * picks. */
static void sess_route(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                       struct ext_session *s, struct ri_ext_slot *sl, uint32_t len, uint64_t tsc)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    uint8_t *msg = s->msg;
    struct agent_hdr *h = (struct agent_hdr *)msg;
    bool framed = len >= AGENT_HDR_LEN && h->magic == rte_cpu_to_be_32(AGENT_MSG_MAGIC);
    if (!framed) {
        if (len + AGENT_HDR_LEN > 65535) {
            ri_add(sl->s.msgs_dropped, 1);
            ri_add(e->x->total.msgs_dropped, 1);
            return;
        }
        memmove(msg + AGENT_HDR_LEN, msg, len);
        len += AGENT_HDR_LEN;
        uint32_t dst = s->agent;
        uint32_t off = ctx->ri.adj_off[s->agent], deg = ctx->ri.adj_off[s->agent + 1] - off;
        if (cfg->pattern == RI_PATTERN_ROUTED && cfg->n_dests > 1) {
            for (int t = 0; t < 4 && dst == s->agent; t++)
                dst = ctx->ri.dests[rng_below(&wk->traffic.rng, cfg->n_dests)];
        } else if (deg) {
            dst = ctx->ri.adj[off + rng_below(&wk->traffic.rng, deg)];
        }
        h->dst = rte_cpu_to_be_32(dst);
    }
    h->src = rte_cpu_to_be_32(s->agent);
    h->seq = rte_cpu_to_be_64(s->route_seq++ & 0x0fffffffffffffffull);
    if (cfg->sign && len < AGENT_HDR_LEN + SIG_BYTES) {
        ri_add(sl->s.msgs_dropped, 1);
        ri_add(e->x->total.msgs_dropped, 1);
        return;
    }
    if (dp_conns_send_agent_msg(ctx, wk, msg, len, tsc) == 0) {
        ri_add(sl->s.msgs_injected, 1);
        ri_add(e->x->total.msgs_injected, 1);
    } else {
        ri_add(sl->s.msgs_dropped, 1);
        ri_add(e->x->total.msgs_dropped, 1);
    }
}

/* Timers, events, echoes and transmission of session i. */
static void sess_service(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                         uint32_t i, uint64_t tsc, uint64_t now)
{
    struct ext_session *s = &e->sess[i];
    struct ri_ext_slot *sl = &e->x->slot[i];
    if (!s->running)
        return;
    if (!s->up && now > s->t_req + DP_EXT_SETUP_NS) {
        sess_end(ctx, e, wk, i, RI_EXT_FAILED, now);
        return;
    }
    if (!s->have_pc)
        return;
    if (pc_next_timeout(&s->pc) <= now)
        pc_handle_timeout(&s->pc, now);
    for (;;) {
        if (s->pending && !sess_echo(e, wk, s, sl, now))
            break; /* SCTP is full: read nothing more, the peer waits on our window */
        struct pc_ev pe = {.buf = s->msg, .cap = RI_MSG_MAX};
        enum pc_event_type ev = pc_poll_event(&s->pc, &pe);
        uint32_t len = pe.len;
        if (ev == PC_EV_NONE)
            break;
        if (ev == PC_EV_UP) {
            s->up = true;
            s->t_last_in = now; /* silence is counted from here at the earliest */
            ri_set(sl->setup_ns, now - s->t_first);
            uint16_t v = pc_dtls_version(&s->pc);
            ri_set(sl->dtls_version, v);
            ri_add(e->x->sessions_up, 1);
            ri_add(e->x->sessions_up_dtls[ri_dtls_index(v)], 1);
            ri_store(&sl->dp_state, (uint32_t)RI_EXT_UP);
        } else if (ev == PC_EV_MESSAGE) {
            ri_add(sl->s.msgs_in, 1);
            ri_add(sl->s.bytes_in, len);
            ri_add(e->x->total.msgs_in, 1);
            ri_add(e->x->total.bytes_in, len);
            if (e->x->mode == RI_EXT_ROUTE) {
                sess_route(ctx, e, wk, s, sl, len, tsc);
            } else {
                s->pending = true;
                s->pending_binary = pe.binary;
                s->pending_len = len;
                s->pending_t = now;
            }
        } else if (ev == PC_EV_FAILED) {
            sess_end(ctx, e, wk, i, RI_EXT_FAILED, now);
            return;
        } else if (ev == PC_EV_CLOSED) {
            s->closed_by_peer = true;
            sess_end(ctx, e, wk, i, s->up ? RI_EXT_CLOSED : RI_EXT_FAILED, now);
            return;
        } else if (ev == PC_EV_CHANNEL_CLOSED) {
            /* the session serves one DataChannel: the peer closed it (a
             * stream reset), so the session ends too (an SCTP ABORT)
             * instead of staying up with every echo dropped */
            s->closed_by_peer = true;
            sess_end(ctx, e, wk, i, RI_EXT_CLOSED, now);
            return;
        }
    }
    sess_acks(e, s, now);
    sess_transmit(ctx, e, wk, i, now);
}

/* A datagram of session i that is dropped: from an address no
 * authenticated check came from, or STUN that did not authenticate. */
static void sess_unauth(struct dp_external *e, struct ri_ext_slot *sl)
{
    ri_add(sl->s.frames_unauth, 1);
    ri_add(e->x->total.frames_unauth, 1);
}

/* The peer's address for the session: where frame f (an authenticated
 * check) came from. */
static void sess_adopt(struct ext_session *s, struct ri_ext_slot *sl, const struct dp_frame *f)
{
    memcpy(s->peer_mac, f->eth.src_addr.addr_bytes, 6);
    s->peer_ip = f->ip.src_addr;
    s->peer_port = f->udp.src_port;
    s->have_peer = true;
    ri_set(sl->peer_ip, rte_be_to_cpu_32(f->ip.src_addr));
    ri_set(sl->peer_port, rte_be_to_cpu_16(f->udp.src_port));
}

static struct stun_addr stun_addr_of(rte_be32_t ip, rte_be16_t port)
{
    struct stun_addr a = {4, rte_be_to_cpu_16(port), {0}};
    memcpy(a.ip, &ip, 4);
    return a;
}

/* Starts session i's peer connection (on its first STUN datagram, from
 * `from`). False when it could not: the session has failed. */
static bool sess_open_pc(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                         uint32_t i, const struct stun_addr *from, uint64_t now)
{
    struct ext_session *s = &e->sess[i];
    /* every secret of the session from the operating system's generator,
     * never from the run seed (--seed) and the slot: the ICE tie-breaker
     * and transaction ids (seed), the SCTP verification tags, initial TSN
     * and cookie key (sctp_seed) */
    uint64_t draw[2];
    if (e->cp.ops->random(e->cp.self, (uint8_t *)draw, sizeof(draw)) != 0) {
        sess_end(ctx, e, wk, i, RI_EXT_FAILED, now);
        return false;
    }
    struct pc_config c = {.controlling = false,
                          .dtls_role = s->dtls_client ? PC_DTLS_CLIENT : PC_DTLS_SERVER,
                          .wait_for_channel = true,
                          .local_ufrag = s->lufrag,
                          .local_pwd = s->lpwd,
                          .remote_ufrag = s->rufrag,
                          .remote_pwd = s->rpwd,
                          .peer = *from,
                          .cert = &e->cert,
                          .peer_fingerprint = s->rfp,
                          .cp = &e->cp,
                          .hs = &e->hs,
                          .sctp_mem = s->sctp_mem,
                          .sctp_pool = e->pool,
                          .sctp_max_buffers = DP_EXT_SCTP_BUFS / e->n_slots,
                          .n_streams = EXT_STREAMS,
                          .setup = &s->pc_su,
                          .rec_keys = &s->pc_keys,
                          .counters = &s->pc_counters,
                          .seed = draw[0],
                          .sctp_seed = draw[1] | 1,
                          .dtls_versions = ri_dtls_offer(ctx->ri.cfg->ext_dtls_versions),
                          /* DTLS 1.3: the handshake slot stays for the session's
                           * life so that a peer's KeyUpdate is taken (and ours sent
                           * at the AEAD limit); a session holds one slot of the
                           * 2 x n_slots, so none waits for another's */
                          .dtls_keep = true};
    dtls_record_keys_clear(&s->pc_keys);
    memset(&s->pc_counters, 0, sizeof(s->pc_counters));
    if (pc_init(&s->pc, &c, now) != 0) {
        sess_end(ctx, e, wk, i, RI_EXT_FAILED, now);
        return false;
    }
    s->have_pc = true;
    s->t_first = now;
    return true;
}

/* A datagram for session i from (mac, ip, port) of frame f. Only the
 * peer's adopted address reaches the engines, and only an ICE check that
 * authenticates (pc_handle_input accepts a Binding request only with our
 * USERNAME and a MESSAGE-INTEGRITY under our password) adopts an address:
 * the first such check, or one with USE-CANDIDATE (the peer nominates that
 * pair, RFC 8445 7.3.1.5); any other authenticated check is answered where
 * it came from (a check on another candidate pair) without moving the
 * session. Everything else from another address is dropped and counted
 * (frames_unauth), as is STUN that does not authenticate. */
static void sess_input(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                       uint32_t i, const struct dp_frame *f, const uint8_t *d, uint32_t len,
                       uint64_t tsc)
{
    struct ext_session *s = &e->sess[i];
    struct ri_ext_slot *sl = &e->x->slot[i];
    uint64_t now = dp_ext_ns(ctx, e, tsc);
    ri_add(sl->s.frames_in, 1);
    ri_add(e->x->total.frames_in, 1);
    bool stun = len && d[0] < 4;
    bool from_peer =
        s->have_peer && f->ip.src_addr == s->peer_ip && f->udp.src_port == s->peer_port;
    if (!stun && !from_peer) {
        sess_unauth(e, sl);
        return;
    }
    if (!stun) {
        s->t_last_in = now;
        pc_handle_input(&s->pc, d, len, now);
        sess_service(ctx, e, wk, i, tsc, now);
        return;
    }
    struct stun_addr from = stun_addr_of(f->ip.src_addr, f->udp.src_port);
    if (!s->have_pc && !sess_open_pc(ctx, e, wk, i, &from, now))
        return;
    struct stun_msg m;
    bool request = stun_parse(d, len, &m) == 0 && m.type == STUN_BINDING_REQUEST;
    /* a check is answered where it came from: its XOR-MAPPED-ADDRESS */
    pc_set_peer(&s->pc, &from);
    enum engine_input r = pc_handle_input(&s->pc, d, len, now);
    bool moved = false;
    if (r == ENGINE_IN_ACCEPTED)
        s->t_last_in = now; /* authenticated: a consent check once up (RFC 7675) */
    if (r != ENGINE_IN_ACCEPTED) {
        sess_unauth(e, sl);
    } else if (request && (from_peer || !s->have_peer || m.use_candidate)) {
        sess_adopt(s, sl, f);
        moved = true;
    } else if (request) {
        sess_transmit_to(ctx, e, wk, i, now, f, 1); /* the answer, to that address only */
    }
    if (!moved && s->have_peer) {
        struct stun_addr peer = stun_addr_of(s->peer_ip, s->peer_port);
        pc_set_peer(&s->pc, &peer);
    }
    sess_service(ctx, e, wk, i, tsc, now);
}

/* ---- frames ------------------------------------------------------------ */

static void foreign(struct dp_external *e, struct dp_worker *wk, struct rte_mbuf *m,
                    enum ri_drop why)
{
    ri_add(e->x->frames_foreign, 1);
    ri_add(wk->m->live.drops[why], 1);
    rte_pktmbuf_free(m);
}

static bool is_agent_ip(const struct dp_ctx *ctx, uint32_t ip)
{
    uint32_t base = ctx->ri.cfg->ip_base;
    return ip > base && ip - base <= ctx->ri.cfg->n_agents;
}

/* Proxy ARP: a request for an agent's address is answered, in the same
 * mbuf, with the port's MAC. */
static void arp_in(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                   struct rte_mbuf *m)
{
    if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr)) {
        foreign(e, wk, m, RI_DROP_TRUNCATED);
        return;
    }
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    bool well_formed = a->arp_hardware == rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) &&
                       a->arp_protocol == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && a->arp_hlen == 6 &&
                       a->arp_plen == 4;
    /* target mode: a server's address learnt from its ARP (its answer to
     * our request, or its own request for an agent), RFC 826's merge */
    if (well_formed && e->target &&
        dp_target_arp_seen(e->target, rte_be_to_cpu_32(a->arp_data.arp_sip), a->arp_data.arp_sha.addr_bytes) &&
        a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) {
        rte_pktmbuf_free(m);
        return;
    }
    if (!well_formed || a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
        !is_agent_ip(ctx, rte_be_to_cpu_32(a->arp_data.arp_tip))) {
        foreign(e, wk, m, RI_DROP_NOT_IPV4);
        return;
    }
    uint32_t tip = a->arp_data.arp_tip;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
    rte_ether_addr_copy(&a->arp_data.arp_sha, &a->arp_data.arp_tha);
    a->arp_data.arp_tip = a->arp_data.arp_sip;
    rte_ether_addr_copy(&e->mac, &a->arp_data.arp_sha);
    a->arp_data.arp_sip = tip;
    rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
    rte_ether_addr_copy(&e->mac, &eth->src_addr);
    m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
    ri_add(e->x->arp_replies, 1);
    dp_ext_tx(e, wk, m);
}

void dp_external_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m,
                    uint64_t tsc)
{
    struct dp_external *e = ctx->external;
    if (m->data_len < RTE_ETHER_HDR_LEN || m->nb_segs != 1) {
        foreign(e, wk, m, RI_DROP_TRUNCATED);
        return;
    }
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    if (rte_is_same_ether_addr(&f->eth.src_addr,
                               &e->mac)) { /* our own frame, looped back by the socket */
        rte_pktmbuf_free(m);
        return;
    }
    if (f->eth.ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
        arp_in(ctx, e, wk, m);
        return;
    }
    if (f->eth.ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
        foreign(e, wk, m, RI_DROP_NOT_IPV4);
        return;
    }
    if (m->data_len < DP_FRAME_HDR_LEN) {
        foreign(e, wk, m, RI_DROP_TRUNCATED);
        return;
    }
    uint16_t ip_len = rte_be_to_cpu_16(f->ip.total_length);
    if (f->ip.version_ihl != RTE_IPV4_VHL_DEF ||
        ip_len < sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) ||
        (rte_be_to_cpu_16(f->ip.fragment_offset) &
         (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
        foreign(e, wk, m, RI_DROP_BAD_IP_HEADER);
        return;
    }
    if ((uint32_t)ip_len + RTE_ETHER_HDR_LEN > m->data_len) {
        foreign(e, wk, m, RI_DROP_TRUNCATED);
        return;
    }
    if (f->ip.next_proto_id != IPPROTO_UDP) {
        foreign(e, wk, m, RI_DROP_NOT_UDP);
        return;
    }
    uint16_t udp_len = rte_be_to_cpu_16(f->udp.dgram_len);
    if (udp_len != ip_len - sizeof(struct rte_ipv4_hdr)) {
        foreign(e, wk, m, RI_DROP_BAD_IP_HEADER);
        return;
    }
    uint16_t dport = rte_be_to_cpu_16(f->udp.dst_port);
    if (e->target && dport == RI_TARGET_PORT && is_agent_ip(ctx, rte_be_to_cpu_32(f->ip.dst_addr))) {
        dp_target_rx(ctx, wk, f->eth.src_addr.addr_bytes, rte_be_to_cpu_32(f->ip.src_addr),
                     rte_be_to_cpu_16(f->udp.src_port), rte_be_to_cpu_32(f->ip.dst_addr),
                     (const uint8_t *)&f->msg, udp_len - (uint32_t)sizeof(struct rte_udp_hdr), tsc);
        rte_pktmbuf_free(m);
        return;
    }
    uint32_t slot = (uint32_t)dport - RI_EXTERNAL_PORT_BASE;
    struct ext_session *s = slot < e->n_slots ? &e->sess[slot] : NULL;
    if (!s || !s->running || rte_be_to_cpu_32(f->ip.dst_addr) != s->agent_ip) {
        foreign(e, wk, m, RI_DROP_UNKNOWN_FLOW);
        return;
    }
    sess_input(ctx, e, wk, slot, f, (const uint8_t *)&f->msg,
               udp_len - (uint32_t)sizeof(struct rte_udp_hdr), tsc);
    rte_pktmbuf_free(m);
}

/* ---- the pass ----------------------------------------------------------- */

static void poll_slots(const struct dp_ctx *ctx, struct dp_external *e, struct dp_worker *wk,
                       uint64_t now)
{
    for (uint32_t i = 0; i < e->n_slots; i++) {
        struct ri_ext_slot *sl = &e->x->slot[i];
        struct ext_session *s = &e->sess[i];
        uint32_t seq = ri_load(&sl->seq);
        if (seq != s->seq) {
            if (s->running)
                sess_end(ctx, e, wk, i, RI_EXT_CLOSED, now);
            sess_start(ctx, e, i, seq, now);
        } else if (s->running && ri_load(&sl->close_seq) == seq) {
            sess_end(ctx, e, wk, i, RI_EXT_CLOSED, now);
        } else if (s->running && s->up && e->x->idle_ns && now - s->t_last_in > e->x->idle_ns) {
            /* the peer is gone (a browser sends consent checks every few
             * seconds): give its share of the pool and its slot back */
            ri_add(e->x->sessions_idle_closed, 1);
            sess_end(ctx, e, wk, i, RI_EXT_CLOSED, now);
        }
    }
}

bool dp_external_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_external *e = ctx->external;
    struct rte_mbuf *pkts[EXT_BURST];
    bool did = false;
    uint16_t n = e->port_started ? rte_eth_rx_burst(e->port_id, 0, pkts, EXT_BURST) : 0;
    for (uint16_t k = 0; k < n; k++)
        dp_external_rx(ctx, wk, pkts[k], tsc);
    did = n > 0;
    uint64_t now = dp_ext_ns(ctx, e, tsc);
    if (++e->passes % DP_EXT_POLL_PASSES == 0)
        poll_slots(ctx, e, wk, now);
    for (uint32_t i = 0; i < e->n_slots; i++) {
        struct ext_session *s = &e->sess[i];
        if (!s->running)
            continue;
        /* sessions with a deadline due, an echo waiting or acks to count */
        if (!s->have_pc || s->pending || s->m_n || pc_next_timeout(&s->pc) <= now ||
            e->passes % DP_EXT_POLL_PASSES == 0) {
            sess_service(ctx, e, wk, i, tsc, now);
            did = true;
        }
    }
    if (e->target)
        did |= dp_target_poll(ctx, wk, tsc);
    dp_ext_flush(e, wk);
    return did;
}

void dp_external_finish(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_external *e = ctx->external;
    uint64_t now = dp_ext_ns(ctx, e, tsc);
    for (uint32_t i = 0; i < e->n_slots; i++)
        sess_end(ctx, e, wk, i, e->sess[i].up ? RI_EXT_CLOSED : RI_EXT_FAILED, now);
    if (e->target)
        dp_target_finish(ctx, wk, tsc);
    dp_ext_flush(e, wk);
}

/* ---- set-up ------------------------------------------------------------ */

static int open_port(struct dp_ctx *ctx, struct dp_external *e, char *err, size_t errlen)
{
    const char *spec = e->x->port;
    const char *comma = strchr(spec, ',');
    size_t nlen = comma ? (size_t)(comma - spec) : strlen(spec);
    if (nlen == 0 || nlen >= sizeof(e->vdev_name)) {
        snprintf(err, errlen,
                 "--external-port '%s': not a DPDK vdev string (e.g. net_af_packet0,iface=sgext0)",
                 spec);
        return -EINVAL;
    }
    memcpy(e->vdev_name, spec, nlen);
    e->vdev_name[nlen] = 0;
    int rc = rte_vdev_init(e->vdev_name, comma ? comma + 1 : "");
    if (rc < 0) {
        e->vdev_name[0] = 0;
        snprintf(err, errlen,
                 "--external-port %s: cannot create the device (does the interface exist? "
                 "tools/external-port up)",
                 spec);
        return rc;
    }
    if (rte_eth_dev_get_port_by_name(e->vdev_name, &e->port_id) != 0) {
        snprintf(err, errlen, "--external-port %s: no ethdev port after creation", spec);
        return -ENODEV;
    }
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof(conf));
    rc = rte_eth_dev_configure(e->port_id, 1, 1, &conf);
    uint16_t nrx = EXT_RX_DESC, ntx = EXT_TX_DESC;
    if (rc == 0)
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(e->port_id, &nrx, &ntx);
    if (rc == 0)
        rc = rte_eth_rx_queue_setup(e->port_id, 0, nrx, rte_socket_id(), NULL, ctx->pool);
    if (rc == 0)
        rc = rte_eth_tx_queue_setup(e->port_id, 0, ntx, rte_socket_id(), NULL);
    if (rc == 0)
        rc = rte_eth_dev_start(e->port_id);
    if (rc < 0) {
        snprintf(err, errlen, "--external-port %s: set-up: %s", spec, rte_strerror(-rc));
        return rc;
    }
    e->port_started = true;
    rte_eth_promiscuous_enable(e->port_id);
    rte_eth_macaddr_get(e->port_id, &e->mac);
    struct rte_eth_dev_info info;
    rte_eth_dev_info_get(e->port_id, &info);
    memcpy(e->x->mac, e->mac.addr_bytes, 6);
    e->x->port_id = e->port_id;
    snprintf(e->x->port_desc, sizeof(e->x->port_desc), "%s (%s)", spec, info.driver_name);
    return 0;
}

int dp_external_init(struct dp_ctx *ctx, char *err, size_t errlen)
{
    struct ri_external *x = ri_section(ctx->ri.hdr, RI_SEC_EXTERNAL);
    bool target = ctx->ri.cfg->target_slots > 0; /* target mode runs on the same port */
    if (x->mode == RI_EXT_OFF && !target)
        return 0;
    if (x->mode != RI_EXT_OFF &&
        (ctx->ri.cfg->traffic != RI_TRAFFIC_DC || x->n_slots == 0 || x->n_slots > RI_EXTERNAL_MAX)) {
        snprintf(err, errlen, "run image: external peers need traffic dc and 1..%d slots",
                 RI_EXTERNAL_MAX);
        return -EINVAL;
    }
    struct dp_external *e = calloc(1, sizeof(*e));
    if (!e)
        goto oom;
    ctx->external = e;
    e->x = x;
    e->n_slots = x->mode == RI_EXT_OFF ? 0 : x->n_slots;
    x->port[sizeof(x->port) - 1] = 0;
    /* --target with --relay: the relay (dp_relay.c) owns the port and
     * carries the target sessions' datagrams; no port here */
    const struct ri_relay *rl = ri_section(ctx->ri.hdr, RI_SEC_RELAY);
    if (!(rl->on && x->mode == RI_EXT_OFF)) {
        int rc = open_port(ctx, e, err, errlen);
        if (rc < 0)
            return rc;
    }
    /* keys from the operating system's generator, never from the run
     * seed: a browser authenticates the agent by this certificate */
    if (cp_default_create(&e->cp) != 0 || dtls_cert_generate(&e->cert, &e->cp) != 0) {
        snprintf(err, errlen, "external peers: certificate generation failed");
        return -EIO;
    }
    e->have_cert = true;
    memcpy(x->fingerprint, e->cert.fingerprint, 32);
    e->tsc0 = rte_rdtsc();
    if (e->n_slots == 0) /* the port for target mode only */
        return dp_target_init(ctx, e, err, errlen);
    if (dtls_hs_pool_init(&e->hs, 2 * e->n_slots) != 0)
        goto oom;
    size_t pool_bytes = (sctp_pool_size(DP_EXT_SCTP_BUFS, 1200) + 63) & ~(size_t)63;
    e->pool_mem = aligned_alloc(64, pool_bytes);
    e->sess = calloc(e->n_slots, sizeof(*e->sess));
    if (!e->pool_mem || !e->sess)
        goto oom;
    e->pool = sctp_pool_init(e->pool_mem, DP_EXT_SCTP_BUFS, 1200);
    size_t assoc = (sctp_assoc_size(EXT_STREAMS) + 63) & ~(size_t)63;
    for (uint32_t i = 0; i < e->n_slots; i++) {
        e->sess[i].sctp_mem = aligned_alloc(64, assoc);
        e->sess[i].msg = malloc(RI_MSG_MAX);
        if (!e->sess[i].sctp_mem || !e->sess[i].msg)
            goto oom;
        /* a request control made before we ran is adopted by the first poll */
        e->sess[i].seq = 0;
    }
    return target ? dp_target_init(ctx, e, err, errlen) : 0;
oom:
    snprintf(err, errlen, "external peers: out of memory");
    return -ENOMEM;
}

void dp_external_free(struct dp_ctx *ctx)
{
    struct dp_external *e = ctx->external;
    if (!e)
        return;
    dp_target_free(e->target);
    e->target = NULL;
    if (e->sess) {
        for (uint32_t i = 0; i < e->n_slots; i++) {
            struct ext_session *s = &e->sess[i];
            if (s->running && s->have_pc)
                pc_free(&s->pc);
            free(s->sctp_mem);
            free(s->msg);
        }
    }
    for (uint32_t i = 0; i < e->n_tx; i++)
        rte_pktmbuf_free(e->tx[i]);
    if (e->port_started) {
        rte_eth_dev_stop(e->port_id);
        rte_eth_dev_close(e->port_id);
    }
    if (e->vdev_name[0])
        rte_vdev_uninit(e->vdev_name);
    if (e->hs.slots)
        dtls_hs_pool_destroy(&e->hs);
    if (e->have_cert)
        dtls_cert_free(&e->cert);
    if (e->cp.ops)
        cp_destroy(&e->cp);
    free(e->pool_mem);
    free(e->sess);
    free(e);
    ctx->external = NULL;
}
