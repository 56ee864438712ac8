/* SPDX-License-Identifier: MIT */
/* The peer connections of one worker: set-up under a cap, the timing wheel,
 * datagrams in and out, agent messages over the DataChannels. */
#include "dp_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/mman.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "agent.h"
#include "dp_internal.h"
#include "dp_media.h"
#include "dp_mem.h"
#include "dp_msg.h"
#include "dp_relay.h"
#include "rng.h"
#include "sig.h"
#include "splitmix.h"

#define ATTEMPT_TIMEOUT_NS (30ull * 1000000000ull) /* an attempt stuck longer fails in its stage */

_Static_assert(sizeof(struct dp_conn) == 320, "a connection is five cache lines (docs/memory.md)");
#define HO_HDR 8                                   /* hand-off: edge, sending agent */

uint64_t dp_conn_ns(const struct dp_ctx *ctx, const struct dp_conns *cs, uint64_t tsc)
{
    return AGENT_NS_BASE + (uint64_t)((double)(tsc - cs->tsc0) * ctx->ns_per_cycle);
}

static inline struct dp_conn *conn_of_edge(const struct dp_ctx *ctx, struct dp_conns *cs, uint32_t e)
{
    return &cs->conn[e / ctx->n_workers];
}

/* ---- timing wheel ------------------------------------------------------ */

static inline uint32_t conn_idx(const struct dp_conns *cs, const struct dp_conn *c)
{
    return (uint32_t)(c - cs->conn);
}

static void wheel_unlink(struct dp_conns *cs, uint32_t idx)
{
    struct dp_conn_wheel *w = &cs->wl[idx];
    if (w->slot == DP_CONN_NONE)
        return;
    if (w->prev != DP_CONN_NONE)
        cs->wl[w->prev].next = w->next;
    else
        cs->wheel[w->slot] = w->next;
    if (w->next != DP_CONN_NONE)
        cs->wl[w->next].prev = w->prev;
    w->slot = w->prev = w->next = DP_CONN_NONE;
}

/* Files connection idx under its deadline: the slot of that tick, or the
 * last slot of this turn when it is further away (re-filed when that slot
 * comes). Left where it is when that is the slot it is in. */
static void wheel_file(struct dp_conns *cs, uint32_t idx)
{
    struct dp_conn_wheel *w = &cs->wl[idx];
    if (w->deadline == UINT64_MAX) {
        wheel_unlink(cs, idx);
        return;
    }
    uint64_t tick = w->deadline / DP_CONN_TICK_NS;
    if (tick < cs->wheel_tick)
        tick = cs->wheel_tick;
    if (tick >= cs->wheel_tick + DP_CONN_WHEEL_SLOTS)
        tick = cs->wheel_tick + DP_CONN_WHEEL_SLOTS - 1;
    uint32_t slot = (uint32_t)(tick % DP_CONN_WHEEL_SLOTS);
    if (w->slot == slot)
        return;
    wheel_unlink(cs, idx);
    w->slot = slot;
    w->prev = DP_CONN_NONE;
    w->next = cs->wheel[slot];
    if (w->next != DP_CONN_NONE)
        cs->wl[w->next].prev = idx;
    cs->wheel[slot] = idx;
}

#define BOTH_SIDES 3

/* The endpoints simulated here (bit i: endpoint i): both, unless --shard
 * puts one on another shard. */
static inline uint8_t here(const struct dp_conn *c)
{
    return (uint8_t)(c->up_mask >> DP_CONN_HERE_SHIFT & BOTH_SIDES);
}

/* Only endpoint b is here: the connection is counted by endpoint a's
 * shard, this one counts its half. */
static inline bool half(const struct dp_conn *c)
{
    return here(c) == 2;
}

/* Counts connection c up (or given up) for each of its endpoints that is
 * simulated here (the per-agent figures). */
static void count_conn_agents(const struct dp_ctx *ctx, struct dp_worker *wk, const struct dp_conn *c, bool up)
{
    struct ri_agent_stats *as = wk->av.a;
    if (!as)
        return;
    const struct ri_edge *ed = &ctx->ri.edges[c->edge];
    uint32_t ends[2] = {ed->a, ed->b};
    for (int i = 0; i < 2; i++) {
        if (!ri_agent_here(ctx->ri.cfg, ends[i]))
            continue;
        if (up)
            as[ends[i]].conn_up++;
        else
            as[ends[i]].conn_failed++;
    }
}

/* Endpoints `sides` (bit per endpoint) of c have something to send or a
 * new deadline: flushed at the end of the pass. */
static void touch(struct dp_conns *cs, struct dp_conn *c, uint8_t sides)
{
    if (!c->dirty)
        cs->dirty[cs->n_dirty++] = conn_idx(cs, c);
    c->dirty |= sides;
}

/* ---- set-up ------------------------------------------------------------ */

static enum ri_stage stage_of(const struct pc *p)
{
    switch (pc_failure(p)) {
    case PC_FAIL_ICE: return RI_STAGE_ICE;
    case PC_FAIL_DTLS: return RI_STAGE_DTLS;
    case PC_FAIL_SCTP: return RI_STAGE_SCTP;
    case PC_FAIL_DC: return RI_STAGE_DC;
    default: break;
    }
    switch (pc_stage(p)) {
    case PC_ICE: return RI_STAGE_ICE;
    case PC_DTLS_WAIT:
    case PC_DTLS: return RI_STAGE_DTLS;
    case PC_SCTP: return RI_STAGE_SCTP;
    default: return RI_STAGE_DC;
    }
}

/* Set-up state for an endpoint on its way up; NULL never happens while
 * in_setup stays under setup_cap (two each). */
static struct pc_setup *setup_get(struct dp_conns *cs)
{
    return cs->su_n_free ? &cs->su[cs->su_free[--cs->su_n_free]] : NULL;
}

/* Takes back endpoint s's set-up state, when it still holds one. */
static void setup_put(struct dp_conns *cs, struct dp_conn *c, int s)
{
    struct pc_setup *su = pc_release_setup(&c->ep[s]);
    if (su)
        cs->su_free[cs->su_n_free++] = (uint32_t)(su - cs->su);
}

/* The agent messages connection c holds, counted once
 * (pc_msgs_in_flight): each way, what the sending endpoint holds that the
 * receiving one has not received, and what the receiving one has and its
 * agent has not been handed; an endpoint another shard simulates, or
 * whose association is down, counts as absent. */
static uint32_t conn_in_flight(const struct dp_conn *c)
{
    const struct pc *ep[2];
    for (int s = 0; s < 2; s++)
        ep[s] = here(c) >> s & 1 ? &c->ep[s] : NULL;
    uint32_t n = 0;
    if (ep[0] || ep[1]) {
        n += pc_msgs_in_flight(ep[0], ep[1]);
        n += pc_msgs_in_flight(ep[1], ep[0]);
    }
    return n;
}

/* Frees connection c's endpoints (what they hold goes uncounted: see
 * release). */
static void release_quiet(struct dp_conns *cs, struct dp_conn *c)
{
    wheel_unlink(cs, conn_idx(cs, c));
    for (int s = 0; s < 2; s++) {
        if (!(here(c) >> s & 1))
            continue;
        setup_put(cs, c, s);
        pc_free(&c->ep[s]);
    }
    if (c->media)
        dp_media_stop(c->media);
}

/* Frees connection c's endpoints during the run: an established
 * connection ending loses the messages it still holds, counted dropped
 * (conn_down); what an association that went down held is in its
 * messages_discarded already (it holds nothing now). */
static void release(struct dp_worker *wk, struct dp_conn *c)
{
    if (c->state == DP_CONN_UP) {
        uint32_t n = conn_in_flight(c);
        ri_add(wk->m->live.drops[RI_DROP_CONN_DOWN], n);
        ri_add(wk->m->live.msgs_dropped, n);
    }
    release_quiet(wk->conns, c);
}

/* --churn: connection c will not come up again: the messages that
 * waited for it are dropped (RI_DROP_CHURN, msgs_churn_dropped). */
static void churn_drop_held(struct dp_worker *wk, const struct dp_conn *c)
{
    struct dp_conns *cs = wk->conns;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < cs->n_held; i++) {
        if (cs->held[i].edge == c->edge) {
            agent_drop(wk->m, RI_DROP_CHURN);
            ri_add(wk->m->live.msgs_churn_dropped, 1);
            continue;
        }
        if (kept != i) {
            cs->held[kept] = cs->held[i];
            memmove(cs->held_buf + (size_t)cs->held_slot * kept, cs->held_buf + (size_t)cs->held_slot * i,
                    cs->held[i].len);
        }
        kept++;
    }
    cs->n_held = kept;
}

/* The current attempt failed in `stage`: retried later, or given up. */
static void attempt_failed(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, enum ri_stage stage)
{
    struct dp_conns *cs = wk->conns;
    ri_add(wk->m->live.conn_attempt_failed[stage], 1);
    release(wk, c);
    cs->in_setup--;
    if ((uint8_t)(c->attempts - c->attempt_base) < ctx->ri.cfg->setup_attempts) {
        c->state = DP_CONN_QUEUED;
        cs->queue[(cs->q_head + cs->q_len++) % cs->n] = (uint32_t)(c - cs->conn);
    } else if (c->reconnecting) {
        /* a re-establishment that used its attempts: closed (counted when
         * it closed), not given up (it came up once); --churn: what waited
         * for it is dropped, counted */
        c->reconnecting = 0;
        c->state = DP_CONN_CLOSED;
        if (c->churn) {
            c->churn = DP_CHURN_NONE;
            churn_drop_held(wk, c);
        }
    } else {
        c->state = DP_CONN_GIVEN_UP;
        count_conn_agents(ctx, wk, c, false);
        if (half(c))
            ri_add(wk->m->live.conn_halves_given_up, 1);
        else
            ri_add(wk->m->live.conn_given_up, 1);
    }
}

static void start_attempt(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    const struct ri_config *cfg = ctx->ri.cfg;
    const struct ri_edge *ed = &ctx->ri.edges[c->edge];
    uint32_t idx = (uint32_t)(c - cs->conn);
    char uf[2][9], pw[2][25];
    for (int s = 0; s < 2; s++)
        agent_credentials(cfg->seed, c->edge, s, c->attempts, uf[s], pw[s]);
    const struct dtls_cert *cert[2] = {&ctx->certs[ed->a], &ctx->certs[ed->b]};
    char *keylog = NULL;
    if (cs->keylog_n < cs->keylog_cap)
        keylog = cs->keylog + (size_t)DP_KEYLOG_LINE * cs->keylog_n++;
    c->attempts++;
    ri_add(wk->m->live.conn_attempts, 1);
    /* one key area for the connection: the second end's handshake checks
     * what it derived against what the first stored, then shares it */
    struct dtls_record_keys *keys = (struct dtls_record_keys *)(void *)(cs->keys + cs->key_stride * idx);
    dtls_record_keys_clear(keys);
    for (int s = 0; s < 2; s++) {
        if (!(here(c) >> s & 1)) {
            c->ep_deadline[s] = UINT64_MAX; /* another shard's */
            continue;
        }
        uint32_t peer = s ? ed->a : ed->b;
        uint32_t pip = s == 0 && ri_edge_alias(cfg, ed->a, ed->b) ? ri_alias_ip(cfg, peer) : ctx->ri.agents[peer].ip;
        struct pc_config pc = {
            .controlling = s == 0,
            .local_ufrag = uf[s], .local_pwd = pw[s], .remote_ufrag = uf[1 - s], .remote_pwd = pw[1 - s],
            .peer = {4, s ? ed->port_a : ed->port_b,
                     {(uint8_t)(pip >> 24), (uint8_t)(pip >> 16), (uint8_t)(pip >> 8), (uint8_t)pip}},
            .cert = cert[s], .peer_fingerprint = ctx->ri.fingerprints[peer], .cp = &cs->cp, .hs = &cs->hs,
            .sctp_mem = cs->sctp_mem + cs->assoc_size * (2 * (size_t)idx + (size_t)s), .sctp_pool = cs->pool,
            .n_streams = DP_MEM_SCTP_STREAMS, .sctp_counters = &cs->sctp_c, .label = "swarm", .dc_type = (enum sctp_dc_type)cfg->dc_type,
            .dc_reliability = cfg->dc_reliability,
            .seed = rng_mix(cfg->seed + ((uint64_t)c->edge << 9 | (uint64_t)c->attempts << 1 | (uint64_t)s)),
            .keylog = s == (here(c) & 1 ? 0 : 1) ? keylog : NULL, .setup = setup_get(cs),
            .rec_keys = keys, .counters = &cs->pc_c, .heartbeat_ms = cfg->sctp_heartbeat_ms,
            .consent = cfg->consent != 0, .dtls_versions = ri_dtls_offer(cfg->dtls_versions),
            .dtls_keep = cfg->dtls_key_update != 0, .dtls_key_update_after = cfg->dtls_key_update};
        if (ctx->relay) /* --relay: the peer is the other agent's relayed address */
            dp_relay_peer_addr(ctx->relay, c->edge, s, &pc.peer);
        if (pc_init(&c->ep[s], &pc, now) != 0) {
            /* only a broken configuration gets here: count it, never retry */
            c->attempts = (uint8_t)cfg->setup_attempts;
            c->state = DP_CONN_SETUP;
            cs->in_setup++;
            attempt_failed(ctx, wk, c, RI_STAGE_ICE);
            return;
        }
    }
    c->up_mask &= (uint8_t)~BOTH_SIDES;
    c->t_attempt = now;
    for (int s = 0; s < 2; s++)
        if (here(c) >> s & 1)
            c->ep_deadline[s] = now;
    c->state = DP_CONN_SETUP;
    cs->in_setup++;
    touch(cs, c, BOTH_SIDES);
}

_Static_assert(RI_DTLS_V12 == DTLS_OFFER_V12 && RI_DTLS_V13 == DTLS_OFFER_V13 && RI_DTLS_AUTO == DTLS_OFFER_ALL_VERSIONS,
               "the image's --dtls bits are dtls_config.versions'");

static void churn_release_held(const struct dp_ctx *ctx, struct dp_worker *wk, const struct dp_conn *c, uint64_t now);

/* Both ends have their channel open: the connection is up. */
static void established(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    const struct pc *p = &c->ep[here(c) & 1 ? 0 : 1];
    struct met_hist *h = wk->m->setup;
    if (!c->reconnecting) { /* the set-up times are the first set-up's: one per connection up */
        met_hist_record(&h[RI_STAGE_ICE], pc_stage_time(p, PC_DTLS_WAIT) - pc_stage_time(p, PC_ICE));
        met_hist_record(&h[RI_STAGE_DTLS], pc_stage_time(p, PC_SCTP) - pc_stage_time(p, PC_DTLS_WAIT));
        met_hist_record(&h[RI_STAGE_SCTP], pc_stage_time(p, PC_DC) - pc_stage_time(p, PC_SCTP));
        met_hist_record(&h[RI_STAGE_DC], now - pc_stage_time(p, PC_DC));
        met_hist_record(&h[RI_SETUP_TOTAL], now - c->t_attempt);
        met_hist_record(&h[RI_SETUP_DTLS + ri_dtls_index(pc_dtls_version(p))], now - c->t_attempt);
    }
    c->state = DP_CONN_UP;
    cs->in_setup--;
    if (!c->reconnecting)
        count_conn_agents(ctx, wk, c, true);
    if (c->churn) {
        met_hist_record(&wk->m->resetup, now - c->t_churn);
        ri_add(wk->m->live.conn_churn_resetup, 1);
    }
    if (c->reconnecting)
        ri_add(wk->m->live.conn_reestablished, 1);
    else if (half(c))
        ri_add(wk->m->live.conn_halves_up, 1);
    else {
        ri_add(wk->m->live.conn_established, 1);
        ri_add(wk->m->live.conn_dtls_up[ri_dtls_index(pc_dtls_version(p))], 1);
    }
    c->reconnecting = 0;
    if (c->media)
        dp_media_key(ctx, c);
    /* up: what only the way up needed goes back to the pool (ICE has
     * ended between our two endpoints, no consent checks follow), unless
     * the endpoints check consent for their life (--consent) */
    for (int s = 0; s < 2 && !ctx->ri.cfg->consent; s++)
        if (here(c) >> s & 1)
            setup_put(cs, c, s);
    /* media flows while the load runs, not while the others connect */
    if (c->media && cs->media_on)
        dp_media_start(ctx, wk, c, now);
    if (c->churn) {
        c->churn = DP_CHURN_NONE;
        churn_release_held(ctx, wk, c, now);
    }
}

/* The load starts: media on every connection that is up (those that come
 * up later start theirs as they do). Once per run. */
static void media_begin(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    cs->media_on = true;
    if (!cs->media)
        return;
    for (uint32_t i = 0; i < cs->n; i++) {
        struct dp_conn *c = &cs->conn[i];
        if (c->state == DP_CONN_UP && c->media) {
            dp_media_start(ctx, wk, c, now);
            touch(cs, c, BOTH_SIDES);
        }
    }
}

/* ---- agent messages ---------------------------------------------------- */

static void flush_msg_out(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t to)
{
    uint32_t n = wk->n_mout[to];
    if (n == 0)
        return;
    unsigned done = rte_ring_enqueue_burst(ctx->msg_ring[wk->idx][to], (void **)wk->mout[to], n, NULL);
    for (uint32_t i = done; i < n; i++) {
        rte_pktmbuf_free(wk->mout[to][i]);
        agent_drop(wk->m, RI_DROP_HANDOFF_FULL);
    }
    ri_add(wk->m->live.handoff_out, done);
    wk->n_mout[to] = 0;
}

void dp_conns_flush_handoff(const struct dp_ctx *ctx, struct dp_worker *wk)
{
    for (uint32_t to = 0; to < ctx->n_workers; to++)
        flush_msg_out(ctx, wk, to);
}

/* Copies a message into an mbuf chain for the worker owning edge e. */
static void handoff_msg(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t from, uint32_t e,
                        const uint8_t *msg, uint32_t len)
{
    uint32_t to = ctx->ri.edges[e].worker;
    struct rte_mbuf *head = rte_pktmbuf_alloc(ctx->pool);
    if (!head) {
        agent_drop(wk->m, RI_DROP_NO_MBUF);
        return;
    }
    uint8_t *h = (uint8_t *)rte_pktmbuf_append(head, HO_HDR);
    memcpy(h, &e, 4);
    memcpy(h + 4, &from, 4);
    uint32_t off = 0;
    while (off < len) {
        uint16_t room = rte_pktmbuf_tailroom(rte_pktmbuf_lastseg(head));
        if (room == 0) {
            struct rte_mbuf *n = rte_pktmbuf_alloc(ctx->pool);
            if (!n || rte_pktmbuf_chain(head, n) != 0) {
                rte_pktmbuf_free(n);
                rte_pktmbuf_free(head);
                agent_drop(wk->m, RI_DROP_NO_MBUF);
                return;
            }
            continue;
        }
        uint16_t k = (uint16_t)(len - off < room ? len - off : room);
        memcpy(rte_pktmbuf_append(head, k), msg + off, k);
        off += k;
    }
    wk->mout[to][wk->n_mout[to]++] = head;
    if (wk->n_mout[to] == DP_MAX_BURST)
        flush_msg_out(ctx, wk, to);
}

/* --churn: message `msg` from agent `from` for edge e, whose connection
 * is being replaced, waits in arrival order (churn_release_held sends it
 * when the connection is up again); one that does not fit is dropped,
 * counted (RI_DROP_CHURN, msgs_churn_dropped). */
static void churn_hold(struct dp_worker *wk, uint32_t from, uint32_t e, const uint8_t *msg, uint32_t len)
{
    struct dp_conns *cs = wk->conns;
    if (cs->n_held == cs->held_cap || len > cs->held_slot) {
        agent_drop(wk->m, RI_DROP_CHURN);
        ri_add(wk->m->live.msgs_churn_dropped, 1);
        return;
    }
    struct dp_churn_held *h = &cs->held[cs->n_held];
    h->from = from;
    h->edge = e;
    h->len = len;
    memcpy(cs->held_buf + (size_t)cs->held_slot * cs->n_held++, msg, len);
    ri_add(wk->m->live.msgs_churn_held, 1);
}

static void send_msg(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t from, uint32_t e, const uint8_t *msg,
                     uint32_t len, uint64_t now);

/* --churn: connection c is up again: the messages that waited for it go,
 * in the order they came; the others keep theirs. */
static void churn_release_held(const struct dp_ctx *ctx, struct dp_worker *wk, const struct dp_conn *c, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    uint32_t n = cs->n_held, kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct dp_churn_held h = cs->held[i];
        uint8_t *m = cs->held_buf + (size_t)cs->held_slot * i;
        if (h.edge == c->edge) {
            send_msg(ctx, wk, h.from, h.edge, m, h.len, now);
            continue;
        }
        if (kept != i) {
            cs->held[kept] = h;
            memmove(cs->held_buf + (size_t)cs->held_slot * kept, m, h.len);
        }
        kept++;
    }
    /* send_msg held nothing new for c (it is up), so n_held is still n */
    cs->n_held = kept;
}

/* Sends message `msg` from agent `from` over edge e (this worker's
 * connection, or handed to the owner). */
static void send_msg(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t from, uint32_t e, const uint8_t *msg,
                     uint32_t len, uint64_t now)
{
    if (ctx->ri.edges[e].worker != wk->idx) {
        handoff_msg(ctx, wk, from, e, msg, len);
        return;
    }
    struct dp_conns *cs = wk->conns;
    struct dp_conn *c = conn_of_edge(ctx, cs, e);
    if (unlikely(c->churn)) { /* being replaced: waits for it */
        churn_hold(wk, from, e, msg, len);
        return;
    }
    if (c->state != DP_CONN_UP) {
        agent_drop(wk->m, RI_DROP_CONN_DOWN);
        if (wk->av.a)
            wk->av.a[from].drop_send++;
        return;
    }
    int side = ctx->ri.edges[e].a == from ? 0 : 1;
    int rc = pc_send(&c->ep[side], msg, len, now);
    if (rc == 0) {
        ri_add(wk->m->live.dc_msgs_tx, 1);
        if (wk->av.a)
            wk->av.a[from].dc_bytes_tx += len;
        touch(cs, c, (uint8_t)(1u << side));
    } else {
        agent_drop(wk->m, rc == -EAGAIN ? RI_DROP_SEND_BLOCKED : RI_DROP_CONN_DOWN);
        if (wk->av.a)
            wk->av.a[from].drop_send++;
    }
}

/* What agent `receiver` does with a message that came over edge e:
 * delivers it, or sends it on (agent_receive). */
static void receive_msg(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t receiver, uint32_t e, uint8_t *msg,
                        uint32_t len, uint64_t tsc, uint64_t now);

/* What send_msg reads of the sending side: the endpoint of agent `from`
 * on edge e (its edge read already, or on its way) and its connection's
 * state; returns the connection, NULL when another worker owns it. Then,
 * once that is in, its write key and association. */
/* Endpoint s of c (its two lines) and the connection's state line. */
static void prefetch_endpoint(const struct dp_conn *c, int s)
{
    const char *ep = (const char *)&c->ep[s];
    rte_prefetch0(ep);
    rte_prefetch0(ep + 64);
    rte_prefetch0(&c->state);
}

static struct dp_conn *prefetch_sender(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t e, uint32_t from)
{
    const struct ri_edge *ed = &ctx->ri.edges[e];
    if (ed->worker != wk->idx)
        return NULL;
    struct dp_conn *c = conn_of_edge(ctx, wk->conns, e);
    prefetch_endpoint(c, ed->a == from ? 0 : 1);
    return c;
}

static void prefetch_sender_keys(const struct dp_ctx *ctx, const struct dp_conn *c, uint32_t e, uint32_t from)
{
    if (c->state == DP_CONN_UP)
        pc_prefetch(&c->ep[ctx->ri.edges[e].a == from ? 0 : 1], false);
}

/* The messages held (dp_conns_burst_begin .. _end), received in the order
 * they came: first the tables each reads on its way on are asked for stage
 * by stage, every stage for all of them before the next reads what the
 * last brought in (only prefetches: the checks are agent_receive's and
 * send_msg's, which then run on lines in the cache). */
static void forward_held(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    const struct ri_view *ri = &ctx->ri;
    uint32_t n = cs->n_fwd;
    if (n == 0)
        return;
    const uint16_t *route[DP_FWD_N];
    const uint32_t *hop[DP_FWD_N];
    struct dp_conn *next[DP_FWD_N];
    for (uint32_t i = 0; i < n; i++) {
        const struct dp_fwd *f = &cs->fwd[i];
        uint32_t dst = be32toh(((const struct agent_hdr *)f->msg)->dst);
        route[i] = dst < ri->cfg->n_agents && dst != f->receiver ? ri_next_hop_entry(ri, f->receiver, dst) : NULL;
        if (route[i])
            rte_prefetch0(route[i]);
    }
    for (uint32_t i = 0; i < n; i++) {
        hop[i] = NULL;
        if (route[i] && *route[i] != RI_ROUTE_NONE) {
            hop[i] = &ri->adj_edge[ri->adj_off[cs->fwd[i].receiver] + *route[i]];
            rte_prefetch0(hop[i]);
        }
    }
    for (uint32_t i = 0; i < n; i++)
        if (hop[i])
            rte_prefetch0(&ri->edges[*hop[i]]);
    for (uint32_t i = 0; i < n; i++)
        next[i] = hop[i] ? prefetch_sender(ctx, wk, *hop[i], cs->fwd[i].receiver) : NULL;
    for (uint32_t i = 0; i < n; i++)
        if (next[i])
            prefetch_sender_keys(ctx, next[i], *hop[i], cs->fwd[i].receiver);
    cs->n_fwd = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct dp_fwd *f = &cs->fwd[i];
        receive_msg(ctx, wk, f->receiver, f->edge, f->msg, f->len, tsc, now);
    }
}

static void receive_msg(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t receiver, uint32_t e, uint8_t *msg,
                        uint32_t len, uint64_t tsc, uint64_t now)
{
    const struct agent_mesh mesh = {&ctx->ri, ctx->sig_keys, &ctx->clock, &wk->av};
    uint32_t out;
    if (agent_receive(&mesh, wk->m, receiver, e, msg, len, tsc, &out) == AGENT_SEND)
        send_msg(ctx, wk, receiver, out, msg, len, now);
}

/* A DataChannel message received by agent `receiver` over edge e: held
 * for the end of the burst while one is taken in (the first tables it
 * reads asked for already), otherwise received at once. */
static void on_message(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t receiver, uint32_t e, uint8_t *msg,
                       uint32_t len, uint64_t tsc, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    if (cs->in_burst && len <= DP_FWD_MSG_MAX && len >= AGENT_HDR_LEN) {
        if (cs->n_fwd == DP_FWD_N)
            forward_held(ctx, wk, tsc, now);
        struct dp_fwd *f = &cs->fwd[cs->n_fwd++];
        f->receiver = receiver;
        f->edge = e;
        f->len = len;
        memcpy(f->msg, msg, len);
        uint32_t dst = be32toh(((const struct agent_hdr *)msg)->dst);
        if (dst < ctx->ri.cfg->n_agents)
            rte_prefetch0(&ctx->ri.dest_index[dst]);
        rte_prefetch0(&ctx->ri.adj_off[receiver]);
        return;
    }
    forward_held(ctx, wk, tsc, now); /* those held first: the order they came in */
    receive_msg(ctx, wk, receiver, e, msg, len, tsc, now);
}

/* ---- endpoint events and datagrams ------------------------------------- */

/* Connection c, up, has failed (consent lost, SCTP gave up, the peer
 * closed): closed, and with --consent, when both endpoints are here, set
 * up again (a new ICE, DTLS, SCTP and DataChannel, as an application does
 * on connectionstatechange "failed"). The messages its DataChannels held
 * are lost with it: counted, never silent. */
static void closed(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c)
{
    struct dp_conns *cs = wk->conns;
    ri_add(wk->m->live.conn_closed, 1);
    /* what it still holds is lost, counted once (the census of
     * conn_in_flight); what an association that went down held is in its
     * messages_discarded already (it holds nothing now) */
    uint32_t n = c->state == DP_CONN_UP ? conn_in_flight(c) : 0;
    ri_add(wk->m->live.drops[RI_DROP_CLOSED_IN_FLIGHT], n);
    ri_add(wk->m->live.msgs_dropped, n);
    release_quiet(cs, c);
    c->state = DP_CONN_CLOSED;
    if (!ctx->ri.cfg->consent || here(c) != BOTH_SIDES)
        return;
    c->reconnecting = 1;
    c->attempt_base = c->attempts;
    c->state = DP_CONN_QUEUED;
    cs->queue[(cs->q_head + cs->q_len++) % cs->n] = conn_idx(cs, c);
}

/* --churn: starts closing connection c (up, both ends here) as an agent
 * leaving does: nothing new goes on it (send_msg holds), its first
 * endpoint sends SCTP SHUTDOWN once what SCTP holds is acknowledged. */
static void churn_start(struct dp_worker *wk, struct dp_conn *c, uint64_t now)
{
    if (pc_shutdown(&c->ep[0], now) != 0)
        return;
    c->churn = DP_CHURN_CLOSING;
    c->churn_closed = 0;
    c->t_churn = now;
    ri_add(wk->m->live.conn_churned, 1);
    touch(wk->conns, c, BOTH_SIDES);
}

/* --churn: endpoint s of c saw its association end; once both did, both
 * send their close_notify and the connection lingers for it to arrive. */
static void churn_side_closed(struct dp_worker *wk, struct dp_conn *c, int s, uint64_t now)
{
    c->churn_closed |= (uint8_t)(1u << s);
    if (c->churn != DP_CHURN_CLOSING || (c->churn_closed & BOTH_SIDES) != BOTH_SIDES)
        return;
    for (int k = 0; k < 2; k++)
        pc_close_notify(&c->ep[k]);
    c->churn = DP_CHURN_LINGER;
    c->t_churn_end = now + DP_CHURN_LINGER_NS;
    touch(wk->conns, c, BOTH_SIDES);
}

/* --churn: c's close is done (or timed out): its endpoints go and it is
 * queued for a new set-up (a new ICE, DTLS, SCTP and DataChannel, new
 * credentials: the attempt number moves on), as closed() does for
 * --consent. What it still held (nothing after a graceful shutdown) is
 * counted dropped. */
static void churn_resetup(struct dp_worker *wk, struct dp_conn *c)
{
    struct dp_conns *cs = wk->conns;
    uint32_t n = conn_in_flight(c);
    ri_add(wk->m->live.drops[RI_DROP_CHURN], n);
    ri_add(wk->m->live.msgs_dropped, n);
    ri_add(wk->m->live.msgs_churn_dropped, n);
    release_quiet(cs, c);
    c->churn = DP_CHURN_SETUP;
    c->reconnecting = 1;
    c->attempt_base = c->attempts;
    c->state = DP_CONN_QUEUED;
    cs->queue[(cs->q_head + cs->q_len++) % cs->n] = conn_idx(cs, c);
}

/* --churn: during the load, closes the connections due by now, one every
 * churn_interval_ns, drawn with the run seed among the worker's
 * connections that are up with both ends here (a few tries; none found:
 * that close is skipped). */
static void churn_tick(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    if (cs->churn_next == 0) {
        cs->churn_next = now + cs->churn_interval_ns;
        return;
    }
    for (int k = 0; k < 64 && now >= cs->churn_next; k++) {
        cs->churn_next += cs->churn_interval_ns;
        for (int t = 0; t < 16; t++) {
            struct dp_conn *c = &cs->conn[splitmix64(&cs->churn_rng) % cs->n];
            if (c->state == DP_CONN_UP && !c->churn && here(c) == BOTH_SIDES) {
                churn_start(wk, c, now);
                break;
            }
        }
    }
    (void)ctx;
}

static void ep_events(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, int s, uint64_t tsc,
                      uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    const struct ri_edge *ed = &ctx->ri.edges[c->edge];
    struct pc_ev ev = {.buf = cs->msg, .cap = RI_MSG_MAX};
    while ((c->state == DP_CONN_SETUP || c->state == DP_CONN_UP) && pc_poll_event(&c->ep[s], &ev) != PC_EV_NONE) {
        switch (ev.type) {
        case PC_EV_UP:
            c->up_mask |= (uint8_t)(1u << s);
            if ((c->up_mask & BOTH_SIDES) == here(c) && c->state == DP_CONN_SETUP)
                established(ctx, wk, c, now);
            break;
        case PC_EV_MESSAGE:
            on_message(ctx, wk, s ? ed->b : ed->a, c->edge, cs->msg, ev.len, tsc, now);
            break;
        case PC_EV_CONSENT_LOST:
            if (c->state != DP_CONN_UP || c->churn)
                break; /* in set-up: the attempt's own timers decide; closing already */
            ri_add(wk->m->live.conn_consent_lost, 1);
            closed(ctx, wk, c);
            return;
        case PC_EV_FAILED:
        case PC_EV_CLOSED:
            if (c->churn && c->state == DP_CONN_UP) {
                churn_side_closed(wk, c, s, now);
                break;
            }
            if (c->state == DP_CONN_SETUP)
                attempt_failed(ctx, wk, c, stage_of(&c->ep[s]));
            else
                closed(ctx, wk, c);
            return;
        default:
            break;
        }
    }
}

/* Folds the worker's SCTP counters (one block all its associations count
 * into) and its endpoints' KeyUpdates into the metrics: deltas since the
 * last fold, once a pass. */
static void fold_counters(struct dp_worker *wk)
{
    struct dp_conns *cs = wk->conns;
    const struct sctp_counters *sc = &cs->sctp_c;
    struct dp_conn_seen *seen = &cs->sctp_seen;
    if (sc->retransmissions != seen->retransmissions) {
        ri_add(wk->m->live.sctp_retransmissions, sc->retransmissions - seen->retransmissions);
        seen->retransmissions = sc->retransmissions;
    }
    if (sc->sacks_out != seen->sacks) {
        ri_add(wk->m->live.sctp_sacks, sc->sacks_out - seen->sacks);
        seen->sacks = sc->sacks_out;
    }
    if (sc->forward_tsns_out != seen->forward_tsns) {
        ri_add(wk->m->live.sctp_forward_tsns, sc->forward_tsns_out - seen->forward_tsns);
        seen->forward_tsns = sc->forward_tsns_out;
    }
    /* PR-SCTP: what the receiving end skipped (the sender gave it up and
     * it was never delivered; a message the sender gave up that arrived
     * anyway is delivered, not dropped) */
    if (sc->messages_skipped != seen->skipped) {
        uint64_t d = sc->messages_skipped - seen->skipped;
        ri_add(wk->m->live.drops[RI_DROP_ABANDONED], d);
        ri_add(wk->m->live.msgs_dropped, d);
        seen->skipped = sc->messages_skipped;
    }
    /* held by an association when it went down (ABORT, too many
     * retransmissions) */
    if (sc->messages_discarded != seen->discarded) {
        uint64_t d = sc->messages_discarded - seen->discarded;
        ri_add(wk->m->live.drops[RI_DROP_CONN_DOWN], d);
        ri_add(wk->m->live.msgs_dropped, d);
        seen->discarded = sc->messages_discarded;
    }
    /* --dtls-key-update: the endpoints' KeyUpdates (their pc_counters) */
    const struct pc_counters *pcc = &cs->pc_c;
    if (pcc->key_updates_out != seen->key_updates_out || pcc->key_updates_in != seen->key_updates_in) {
        ri_add(wk->m->live.dtls_key_updates_out, pcc->key_updates_out - seen->key_updates_out);
        ri_add(wk->m->live.dtls_key_updates_in, pcc->key_updates_in - seen->key_updates_in);
        seen->key_updates_out = pcc->key_updates_out;
        seen->key_updates_in = pcc->key_updates_in;
    }
}

/* Frames and sends every datagram endpoint s has ready. Returns false
 * when the mbuf pool ran dry: nothing is polled then, so nothing is lost
 * (SCTP keeps its data queued) and the caller retries next pass. */
static bool ep_transmit(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, int s, uint64_t tsc,
                        uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    const struct ri_edge *ed = &ctx->ri.edges[c->edge];
    uint32_t from = s ? ed->b : ed->a;
    for (;;) {
        struct rte_mbuf *m = cs->spare;
        cs->spare = NULL;
        if (!m && !(m = rte_pktmbuf_alloc(ctx->pool))) {
            ri_add(wk->m->live.tx_starved, 1);
            return false;
        }
        uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_FRAME_HDR_LEN);
        size_t cap = rte_pktmbuf_tailroom(m) - DP_FRAME_HDR_LEN;
        size_t n = pc_poll_transmit(&c->ep[s], d, cap, now);
        if (n == 0 && c->media)
            n = dp_media_poll_transmit(ctx, wk, c, s, d, cap, now);
        if (n == 0) {
            cs->spare = m;
            return true;
        }
        if (ctx->relay) { /* --relay: through the agent's allocation; the mbuf stays ours */
            dp_relay_send(ctx, wk, c->edge, s, d, (uint32_t)n, tsc);
            cs->spare = m;
            continue;
        }
        m->data_len = (uint16_t)(DP_FRAME_HDR_LEN + n);
        m->pkt_len = m->data_len;
        dp_send_frame(ctx, wk, m, c->edge, from, (uint16_t)n, tsc);
    }
}

static uint64_t conn_deadline(const struct dp_conn *c)
{
    uint64_t t = c->ep_deadline[0] < c->ep_deadline[1] ? c->ep_deadline[0] : c->ep_deadline[1];
    if (c->state == DP_CONN_SETUP && c->t_attempt + ATTEMPT_TIMEOUT_NS < t)
        t = c->t_attempt + ATTEMPT_TIMEOUT_NS;
    if (c->churn == DP_CHURN_LINGER && c->t_churn_end < t)
        t = c->t_churn_end;
    else if (c->churn == DP_CHURN_CLOSING && c->t_churn + DP_CHURN_TIMEOUT_NS < t)
        t = c->t_churn + DP_CHURN_TIMEOUT_NS;
    if (c->media) {
        uint64_t tm = dp_media_next_timeout(c->media);
        if (tm < t)
            t = tm;
    }
    return t;
}

#define FLUSH_AHEAD 8 /* connections prefetched ahead of the one flushed */

static void flush_dirty(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    uint32_t n = cs->n_dirty, starved = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i + FLUSH_AHEAD < n) {
            /* a few places on: the write keys of a connection (touched
             * this pass, its endpoints are in the cache, its keys maybe
             * not: pc_send does not read them), its edge and its place
             * in the wheel; half as far on, the two agents the frames
             * are addressed from and to, and the wheel neighbours it
             * unlinks */
            uint32_t ai = cs->dirty[i + FLUSH_AHEAD];
            struct dp_conn *ahead = &cs->conn[ai];
            for (int s = 0; s < 2; s++)
                if (ahead->dirty >> s & 1)
                    pc_prefetch(&ahead->ep[s], false);
            rte_prefetch0(&ctx->ri.edges[ahead->edge]);
            rte_prefetch0(&cs->wl[ai]);
        }
        if (i + FLUSH_AHEAD / 2 < n) {
            uint32_t ai = cs->dirty[i + FLUSH_AHEAD / 2];
            const struct ri_edge *ed = &ctx->ri.edges[cs->conn[ai].edge];
            rte_prefetch0(&ctx->ri.agents[ed->a]);
            rte_prefetch0(&ctx->ri.agents[ed->b]);
            const struct dp_conn_wheel *w = &cs->wl[ai];
            if (w->prev != DP_CONN_NONE)
                rte_prefetch0(&cs->wl[w->prev]);
            if (w->next != DP_CONN_NONE)
                rte_prefetch0(&cs->wl[w->next]);
        }
        uint32_t idx = cs->dirty[i];
        struct dp_conn *c = &cs->conn[idx];
        uint8_t sides = c->dirty & here(c), left = 0;
        c->dirty = 0;
        if (c->state != DP_CONN_SETUP && c->state != DP_CONN_UP)
            continue;
        for (int s = 0; s < 2; s++) {
            if (!(sides >> s & 1))
                continue;
            if (!ep_transmit(ctx, wk, c, s, tsc, now))
                left |= (uint8_t)(1u << s); /* stays dirty: tried again next pass */
            c->ep_deadline[s] = pc_next_timeout(&c->ep[s]);
        }
        cs->wl[idx].deadline = conn_deadline(c);
        wheel_file(cs, idx);
        if (left) {
            cs->dirty[starved++] = idx;
            c->dirty = left;
        }
    }
    cs->n_dirty = starved;
    uint32_t free_bufs = sctp_pool_free_count(cs->pool);
    if (ctx->ri.cfg->sctp_bufs - free_bufs > wk->m->live.sctp_bufs_peak)
        ri_set(wk->m->live.sctp_bufs_peak, ctx->ri.cfg->sctp_bufs - free_bufs);
}

void dp_conns_prefault(struct dp_worker *wk)
{
    struct dp_conns *cs = wk->conns;
    if (!cs)
        return;
    for (uint32_t i = 0; i < cs->n_big; i++) {
        volatile uint8_t *b = cs->big[i].p;
        for (size_t off = 0; b && off < cs->big[i].len; off += 4096)
            b[off] = b[off]; /* a write fault: the page is this worker's now */
    }
}

uint32_t dp_conns_sctp_bufs_in_use(const struct dp_ctx *ctx, const struct dp_worker *wk)
{
    const struct dp_conns *cs = wk->conns;
    return cs ? ctx->ri.cfg->sctp_bufs - sctp_pool_free_count(cs->pool) : 0;
}

static void conn_timeout(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, uint64_t tsc,
                         uint64_t now)
{
    if (c->state == DP_CONN_SETUP && now >= c->t_attempt + ATTEMPT_TIMEOUT_NS) {
        enum ri_stage st[2] = {RI_STAGE_COUNT, RI_STAGE_COUNT};
        for (int s = 0; s < 2; s++)
            if (here(c) >> s & 1)
                st[s] = stage_of(&c->ep[s]);
        attempt_failed(ctx, wk, c, st[0] < st[1] ? st[0] : st[1]);
        return;
    }
    if (c->state == DP_CONN_UP && ((c->churn == DP_CHURN_LINGER && now >= c->t_churn_end) ||
                                   (c->churn == DP_CHURN_CLOSING && now >= c->t_churn + DP_CHURN_TIMEOUT_NS))) {
        churn_resetup(wk, c);
        return;
    }
    for (int s = 0; s < 2 && (c->state == DP_CONN_SETUP || c->state == DP_CONN_UP); s++) {
        if (!(here(c) >> s & 1))
            continue;
        pc_handle_timeout(&c->ep[s], now);
        ep_events(ctx, wk, c, s, tsc, now);
    }
    touch(wk->conns, c, BOTH_SIDES);
}

/* Runs the wheel up to `now`: due connections get their timeouts, the
 * others are re-filed. */
static bool run_wheel(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc, uint64_t now)
{
    struct dp_conns *cs = wk->conns;
    uint64_t now_tick = now / DP_CONN_TICK_NS;
    bool did = false;
    if (now_tick < cs->wheel_tick)
        return false;
    /* at most one turn per pass */
    uint64_t last = now_tick - cs->wheel_tick >= DP_CONN_WHEEL_SLOTS ? cs->wheel_tick + DP_CONN_WHEEL_SLOTS - 1
                                                                     : now_tick;
    for (uint64_t t = cs->wheel_tick; t <= last; t++) {
        uint32_t slot = (uint32_t)(t % DP_CONN_WHEEL_SLOTS);
        uint32_t i = cs->wheel[slot];
        cs->wheel[slot] = DP_CONN_NONE;
        while (i != DP_CONN_NONE) {
            uint32_t idx = i;
            struct dp_conn_wheel *w = &cs->wl[idx];
            i = w->next;
            w->slot = w->prev = w->next = DP_CONN_NONE;
            if (w->deadline <= now) {
                conn_timeout(ctx, wk, &cs->conn[idx], tsc, now);
                did = true;
            }
            /* not due: re-filed below, by the dirty flush or here */
            else {
                cs->wheel_tick = t + 1; /* file into the coming turn */
                wheel_file(cs, idx);
                cs->wheel_tick = t;
            }
        }
    }
    cs->wheel_tick = last + 1;
    return did;
}

/* --shard: shard s went away (control says so): every connection with an
 * endpoint there ends. Those still waiting or in set-up are given up at
 * their stage (no retry: nobody answers), those up are closed. */
static void end_gone_shards(const struct dp_ctx *ctx, struct dp_worker *wk)
{
    struct dp_conns *cs = wk->conns;
    const struct ri_config *cfg = ctx->ri.cfg;
    const uint64_t *gone = ctx->ri.cmd->shards_gone;
    for (uint32_t i = 0; i < cs->n; i++) {
        struct dp_conn *c = &cs->conn[i];
        uint8_t h = here(c);
        if (h == BOTH_SIDES || h == 0 || c->state == DP_CONN_GIVEN_UP || c->state == DP_CONN_CLOSED)
            continue;
        const struct ri_edge *ed = &ctx->ri.edges[c->edge];
        uint32_t other = (h & 1 ? ed->b : ed->a) % cfg->n_shards;
        if (!(__atomic_load_n(&gone[other / 64], __ATOMIC_RELAXED) >> (other % 64) & 1))
            continue;
        ri_add(wk->m->live.conn_shard_lost, 1);
        if (c->state == DP_CONN_UP) {
            if (!half(c)) /* the other shard counts the halves */
                ri_add(wk->m->live.conn_closed, 1);
            release(wk, c);
            c->state = DP_CONN_CLOSED;
        } else if (c->state == DP_CONN_SETUP) {
            c->attempts = (uint8_t)cfg->setup_attempts;
            attempt_failed(ctx, wk, c, stage_of(&c->ep[h & 1 ? 0 : 1]));
        } else { /* queued: never started, given up without an attempt */
            c->attempts = (uint8_t)cfg->setup_attempts;
            c->state = DP_CONN_GIVEN_UP;
            count_conn_agents(ctx, wk, c, false);
            if (half(c))
                ri_add(wk->m->live.conn_halves_given_up, 1);
            else
                ri_add(wk->m->live.conn_given_up, 1);
        }
    }
    /* the queue keeps their indexes: dp_conns_poll skips what is no longer queued */
}

bool dp_conns_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_conns *cs = wk->conns;
    uint64_t now = dp_conn_ns(ctx, cs, tsc);
    bool did = false;
    uint32_t gone = __atomic_load_n(&ctx->ri.cmd->shards_gone_seq, __ATOMIC_ACQUIRE);
    if (unlikely(gone != cs->gone_seen)) {
        cs->gone_seen = gone;
        end_gone_shards(ctx, wk);
        did = true;
    }
    if (!cs->media_on && __atomic_load_n(&ctx->ri.cmd->phase, __ATOMIC_ACQUIRE) == RI_PHASE_RUN)
        media_begin(ctx, wk, now);
    if (cs->churn_interval_ns && cs->media_on &&
        __atomic_load_n(&ctx->ri.cmd->phase, __ATOMIC_RELAXED) == RI_PHASE_RUN)
        churn_tick(ctx, wk, now);
    while (cs->q_len && cs->in_setup < ctx->ri.cfg->setup_cap) {
        struct dp_conn *c = &cs->conn[cs->queue[cs->q_head]];
        cs->q_head = (cs->q_head + 1) % cs->n;
        cs->q_len--;
        if (c->state != DP_CONN_QUEUED) /* ended while it waited (a shard went away) */
            continue;
        start_attempt(ctx, wk, c, now);
        did = true;
    }
    did |= run_wheel(ctx, wk, tsc, now);
    did |= cs->n_dirty > 0;
    flush_dirty(ctx, wk, tsc, now);
    fold_counters(wk);
    if (cs->hs.high_water != wk->m->live.hs_slot_high_water)
        ri_set(wk->m->live.hs_slot_high_water, cs->hs.high_water);
    return did;
}

/* Drop reasons an endpoint counts on its own: folded per input. */
struct ep_bad {
    uint64_t not_webrtc, stun, record, sctp, srtp;
};

static void ep_bad_read(const struct dp_conn *c, int s, struct ep_bad *b)
{
    struct pc_drops d;
    pc_drops(&c->ep[s], &d);
    b->not_webrtc = d.not_webrtc;
    b->stun = d.stun;
    b->record = d.record;
    b->sctp = d.sctp;
    /* RTP/RTCP that no media session took (no --media, or not up yet) and
     * what the media session refused */
    b->srtp = d.rtp + (c->media ? dp_media_bad(c->media, s) : 0);
}

void dp_conns_burst_begin(const struct dp_ctx *ctx, struct dp_worker *wk, const uint64_t *vals, uint32_t n)
{
    struct dp_conns *cs = wk->conns;
    cs->in_burst = true;
    for (uint32_t i = 0; i < n; i++)
        prefetch_endpoint(conn_of_edge(ctx, cs, (uint32_t)(vals[i] >> 1)), (vals[i] & 1) ? 0 : 1);
    for (uint32_t i = 0; i < n; i++) {
        struct dp_conn *c = conn_of_edge(ctx, cs, (uint32_t)(vals[i] >> 1));
        pc_prefetch(&c->ep[(vals[i] & 1) ? 0 : 1], true);
    }
}

void dp_conns_burst_end(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_conns *cs = wk->conns;
    cs->in_burst = false;
    forward_held(ctx, wk, tsc, dp_conn_ns(ctx, cs, tsc));
}

void dp_conns_input(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t val, const uint8_t *dgram,
                    uint32_t len, uint64_t tsc)
{
    struct dp_conns *cs = wk->conns;
    uint32_t e = (uint32_t)(val >> 1);
    struct dp_conn *c = conn_of_edge(ctx, cs, e);
    int s = (val & 1) ? 0 : 1; /* side 0 is a frame from a, received by b */
    if (!(here(c) >> s & 1)) { /* for an endpoint another shard simulates */
        ri_add(wk->m->live.drops[RI_DROP_UNKNOWN_FLOW], 1);
        return;
    }
    if (c->state != DP_CONN_SETUP && c->state != DP_CONN_UP) {
        ri_add(wk->m->live.drops[RI_DROP_CONN_DOWN], 1);
        return;
    }
    uint64_t now = dp_conn_ns(ctx, cs, tsc);
    struct ep_bad before, after;
    ep_bad_read(c, s, &before);
    if (c->media && len && dgram[0] >= 128 && dgram[0] <= 191 && c->state == DP_CONN_UP)
        dp_media_input(ctx, wk, c, s, dgram, len, now);
    else
        pc_handle_input(&c->ep[s], dgram, len, now);
    ep_bad_read(c, s, &after);
    if (after.not_webrtc != before.not_webrtc)
        ri_add(wk->m->live.drops[RI_DROP_NOT_WEBRTC], after.not_webrtc - before.not_webrtc);
    if (after.stun != before.stun)
        ri_add(wk->m->live.drops[RI_DROP_BAD_STUN], after.stun - before.stun);
    if (after.record != before.record)
        ri_add(wk->m->live.drops[RI_DROP_BAD_RECORD], after.record - before.record);
    if (after.sctp != before.sctp)
        ri_add(wk->m->live.drops[RI_DROP_BAD_SCTP], after.sctp - before.sctp);
    if (after.srtp != before.srtp)
        ri_add(wk->m->live.drops[RI_DROP_BAD_SRTP], after.srtp - before.srtp);
    ep_events(ctx, wk, c, s, tsc, now);
    touch(cs, c, (uint8_t)(1u << s));
}

void dp_conns_handoff_burst(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **ms, uint32_t n,
                            uint64_t tsc)
{
    /* as forward_held: the edges, then the sending endpoints, then their
     * keys and associations, each for the whole burst, then the sends */
    uint32_t e[DP_MAX_BURST], from[DP_MAX_BURST];
    struct dp_conn *c[DP_MAX_BURST];
    uint32_t k = n < DP_MAX_BURST ? n : DP_MAX_BURST; /* staged; any beyond go as they come */
    for (uint32_t i = 0; i < k; i++) {
        e[i] = UINT32_MAX;
        if (ms[i]->data_len >= HO_HDR) {
            const uint8_t *h = rte_pktmbuf_mtod(ms[i], const uint8_t *);
            memcpy(&e[i], h, 4);
            memcpy(&from[i], h + 4, 4);
            if (e[i] < ctx->ri.cfg->n_edges)
                rte_prefetch0(&ctx->ri.edges[e[i]]);
        }
    }
    for (uint32_t i = 0; i < k; i++)
        c[i] = e[i] < ctx->ri.cfg->n_edges ? prefetch_sender(ctx, wk, e[i], from[i]) : NULL;
    for (uint32_t i = 0; i < k; i++)
        if (c[i])
            prefetch_sender_keys(ctx, c[i], e[i], from[i]);
    for (uint32_t i = 0; i < n; i++)
        dp_conns_handoff_in(ctx, wk, ms[i], tsc);
}

void dp_conns_handoff_in(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m, uint64_t tsc)
{
    struct dp_conns *cs = wk->conns;
    uint32_t len = m->pkt_len;
    if (len < HO_HDR || len - HO_HDR > RI_MSG_MAX) {
        rte_pktmbuf_free(m);
        agent_drop(wk->m, RI_DROP_BAD_MESSAGE);
        return;
    }
    uint8_t hdr[HO_HDR];
    const uint8_t *h = rte_pktmbuf_read(m, 0, HO_HDR, hdr);
    uint32_t e, from;
    memcpy(&e, h, 4);
    memcpy(&from, h + 4, 4);
    const uint8_t *msg = rte_pktmbuf_read(m, HO_HDR, len - HO_HDR, cs->gen_tmp);
    if (msg != cs->gen_tmp)
        memcpy(cs->gen_tmp, msg, len - HO_HDR);
    rte_pktmbuf_free(m);
    if (e >= ctx->ri.cfg->n_edges) {
        agent_drop(wk->m, RI_DROP_BAD_MESSAGE);
        return;
    }
    send_msg(ctx, wk, from, e, cs->gen_tmp, len - HO_HDR, dp_conn_ns(ctx, cs, tsc));
}

/* ---- generation ------------------------------------------------------- */

void dp_conns_generate(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc, uint32_t n, uint32_t n_active)
{
    struct dp_conns *cs = wk->conns;
    const struct ri_config *cfg = ctx->ri.cfg;
    uint64_t now = dp_conn_ns(ctx, cs, tsc);
    uint32_t len = cfg->msg_size;
    uint8_t *msg = cs->gen;
    /* picked first, then what the sends read prefetched stage by stage
     * for all of them (as forward_held) */
    struct traffic_msg t[DP_MAX_BURST];
    struct dp_conn *c[DP_MAX_BURST];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n && k < DP_MAX_BURST; i++)
        if (traffic_next(&wk->traffic, &ctx->ri, wk->m, n_active, &t[k]) == TRAFFIC_SEND)
            rte_prefetch0(&ctx->ri.edges[t[k++].edge]);
    for (uint32_t i = 0; i < k; i++)
        c[i] = prefetch_sender(ctx, wk, t[i].edge, t[i].src);
    for (uint32_t i = 0; i < k; i++)
        if (c[i])
            prefetch_sender_keys(ctx, c[i], t[i].edge, t[i].src);
    for (uint32_t i = 0; i < k; i++) {
        agent_msg_write(msg, len, t[i].src, t[i].dst, t[i].seq, agent_stamp(&ctx->clock, tsc),
                        cfg->sign ? &ctx->sig_keys[t[i].src] : NULL);
        send_msg(ctx, wk, t[i].src, t[i].edge, msg, len, now);
    }
}

int dp_conns_send_agent_msg(const struct dp_ctx *ctx, struct dp_worker *wk, uint8_t *msg, uint32_t len, uint64_t tsc)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    const struct agent_hdr *h = (const struct agent_hdr *)msg;
    uint32_t src = be32toh(h->src), dst = be32toh(h->dst);
    if (len < AGENT_HDR_LEN || len > 65535 || (cfg->sign && len < AGENT_HDR_LEN + SIG_BYTES) ||
        src >= cfg->n_agents || dst >= cfg->n_agents || src == dst)
        return -EINVAL;
    uint32_t off = ctx->ri.adj_off[src], deg = ctx->ri.adj_off[src + 1] - off;
    uint16_t slot = cfg->pattern == RI_PATTERN_ROUTED ? ri_next_hop(&ctx->ri, src, dst) : (uint16_t)RI_ROUTE_NONE;
    for (uint32_t i = 0; slot == RI_ROUTE_NONE && i < deg; i++) /* a neighbour, without routes */
        if (ctx->ri.adj[off + i] == dst)
            slot = (uint16_t)i;
    if (slot == RI_ROUTE_NONE)
        return -ENOENT;
    agent_msg_write(msg, len, src, dst, be64toh(h->seq), agent_stamp(&ctx->clock, tsc),
                    cfg->sign ? &ctx->sig_keys[src] : NULL);
    ri_add(wk->m->live.msgs_sent, 1);
    if (wk->av.a)
        wk->av.a[src].sent++;
    send_msg(ctx, wk, src, ctx->ri.adj_edge[off + slot], msg, len, dp_conn_ns(ctx, wk->conns, tsc));
    return 0;
}

uint64_t dp_conns_census(const struct dp_ctx *ctx, struct dp_worker *wk)
{
    struct dp_conns *cs = wk->conns;
    fold_counters(wk);
    uint64_t n = cs->n_fwd; /* held for the end of a burst: none between passes */
    n += cs->n_held;        /* --churn: waiting for a connection not up again */
    for (uint32_t to = 0; to < ctx->n_workers; to++)
        n += wk->n_mout[to]; /* flushed by the last pass: none */
    uint64_t churn_pending = 0;
    for (uint32_t i = 0; i < cs->n; i++) {
        if (cs->conn[i].state == DP_CONN_UP)
            n += conn_in_flight(&cs->conn[i]);
        churn_pending += cs->conn[i].churn != DP_CHURN_NONE;
    }
    ri_set(wk->m->live.conn_churn_pending_end, churn_pending);
    return n;
}

/* ---- the agents' certificates ------------------------------------------ */

int dp_conn_certs_init(struct dp_ctx *ctx, char *err, size_t errlen)
{
    uint32_t n = ctx->ri.cfg->n_agents;
    struct cp cp;
    ctx->certs = calloc(n ? n : 1, sizeof(*ctx->certs));
    if (!ctx->certs) {
        snprintf(err, errlen, "%u agent certificates: out of memory", n);
        return -ENOMEM;
    }
    if (cp_default_create(&cp) != 0) {
        snprintf(err, errlen, "crypto provider: set-up failed");
        return -EIO;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = 0;
    uint64_t made = 0;
    /* this process's agents only (--shard: the others are another's); each
     * fingerprint goes into the image, where the peers' come from */
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        if (!ri_agent_here(ctx->ri.cfg, i))
            continue;
        rc = dtls_cert_generate(&ctx->certs[i], &cp);
        memcpy(ctx->ri.fingerprints[i], ctx->certs[i].fingerprint, 32);
        made++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cp_destroy(&cp);
    if (rc != 0) {
        snprintf(err, errlen, "agent certificates: generation failed (%d)", rc);
        return -EIO;
    }
    ctx->ri.cmd->n_certs = made;
    ctx->ri.cmd->mem_cert_bytes = (uint64_t)n * sizeof(*ctx->certs);
    ctx->ri.cmd->cert_gen_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)t1.tv_nsec -
                            (uint64_t)t0.tv_nsec;
    return 0;
}

void dp_conn_certs_free(struct dp_ctx *ctx)
{
    if (!ctx->certs)
        return;
    for (uint32_t i = 0; i < ctx->ri.cfg->n_agents; i++)
        dtls_cert_free(&ctx->certs[i]);
    free(ctx->certs);
    ctx->certs = NULL;
}

/* ---- set-up and teardown of the table --------------------------------- */

int dp_conns_init(const struct dp_ctx *ctx, struct dp_worker *wk, char *err, size_t errlen)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    struct dp_conns *cs = calloc(1, sizeof(*cs));
    if (!cs)
        goto oom;
    wk->conns = cs;
    uint32_t w = ctx->n_workers;
    /* the sizes come from the memory plan (dp_mem.h), so that what
     * --dry-run predicts is what is allocated here */
    struct dp_mem_in in = {.n_agents = cfg->n_agents, .n_workers = w, .n_edges = cfg->n_edges,
                           .dc = true, .media = cfg->media != RI_MEDIA_NONE, .setup_cap = cfg->setup_cap,
                           .sctp_bufs = cfg->sctp_bufs, .keylog_max = cfg->keylog_max,
                           .consent = cfg->consent != 0, .dtls_keep = cfg->dtls_key_update != 0};
    struct dp_mem_worker plan;
    dp_mem_worker(&in, wk->idx, &plan);
    cs->n = plan.n_conns; /* edges e with e % w == idx */
    uint32_t n = plan.n_alloc;
    struct pc_config sized = {.n_streams = DP_MEM_SCTP_STREAMS, .sctp_counters = &cs->sctp_c};
    cs->assoc_size = pc_sctp_size(&sized);
    if (cs->assoc_size != plan.assoc_size) {
        snprintf(err, errlen, "worker %u: SCTP association of %zu bytes, planned %zu", wk->idx, cs->assoc_size,
                 plan.assoc_size);
        return -EINVAL;
    }
    /* connection state: what every connection holds for the whole run */
    cs->conn = dp_mem_big_alloc(plan.conn, &cs->bytes);
    cs->sctp_mem = dp_mem_big_alloc(plan.sctp_assoc, &cs->bytes);
    cs->wl = dp_mem_big_alloc(plan.wheel_links, &cs->bytes);
    cs->queue = dp_mem_big_alloc(plan.queue, &cs->bytes);
    cs->dirty = dp_mem_big_alloc(plan.dirty, &cs->bytes);
    cs->key_stride = plan.key_stride;
    cs->keys = dp_mem_big_alloc(plan.keys, &cs->bytes);
    /* the SCTP buffers, shared by the worker's associations */
    cs->pool_mem = dp_mem_big_alloc(plan.sctp_pool, &cs->pool_bytes);
    cs->msg = malloc(RI_MSG_MAX);
    cs->gen = malloc(RI_MSG_MAX);
    cs->gen_tmp = malloc(RI_MSG_MAX);
    cs->fwd = malloc(DP_FWD_N * sizeof(struct dp_fwd));
    cs->keylog_cap = plan.keylog_cap;
    cs->keylog = cs->keylog_cap ? calloc(cs->keylog_cap, DP_KEYLOG_LINE) : NULL;
    if (!cs->conn || !cs->keys || !cs->sctp_mem || !cs->pool_mem || !cs->queue || !cs->dirty || !cs->wl || !cs->msg || !cs->gen ||
        !cs->gen_tmp || !cs->fwd || (cs->keylog_cap && !cs->keylog))
        goto oom;
    cs->pool = sctp_pool_init(cs->pool_mem, cfg->sctp_bufs, 1200);
    if (!cs->pool) {
        snprintf(err, errlen, "SCTP buffer pool of %u buffers: out of range", cfg->sctp_bufs);
        return -EINVAL;
    }
    if (dtls_hs_pool_init(&cs->hs, plan.hs_slots) != 0)
        goto oom;
    uint32_t n_su = plan.su_slots;
    cs->su = dp_mem_big_alloc((size_t)n_su * sizeof(struct pc_setup), &cs->setup_bytes);
    const struct dp_conn_region big[] = {{cs->conn, plan.conn}, {cs->sctp_mem, plan.sctp_assoc}, {cs->wl, plan.wheel_links},
               {cs->queue, plan.queue}, {cs->dirty, plan.dirty}, {cs->keys, plan.keys},
               {cs->pool_mem, plan.sctp_pool}, {cs->su, (size_t)n_su * sizeof(struct pc_setup)}};
    static_assert(sizeof(big) / sizeof(big[0]) <= sizeof(cs->big) / sizeof(cs->big[0]), "dp_conns.big");
    memcpy(cs->big, big, sizeof(big));
    cs->n_big = sizeof(big) / sizeof(big[0]);
    cs->su_free = malloc((size_t)n_su * sizeof(uint32_t));
    if (!cs->su || !cs->su_free)
        goto oom;
    cs->setup_bytes += (size_t)n_su * sizeof(uint32_t);
    for (uint32_t i = 0; i < n_su; i++)
        cs->su_free[i] = n_su - 1 - i;
    cs->su_n_free = n_su;
    if (cp_default_create(&cs->cp) != 0) {
        snprintf(err, errlen, "worker %u: crypto provider: set-up failed", wk->idx);
        return -EIO;
    }
    memset(cs->gen, 0xa5, RI_MSG_MAX);
    cs->buf_bytes = plan.msg_bufs + plan.wheel_heads + plan.keylog;
    for (uint32_t i = 0; i < DP_CONN_WHEEL_SLOTS; i++)
        cs->wheel[i] = DP_CONN_NONE;
    memset(cs->conn, 0, (size_t)n * sizeof(struct dp_conn));
    uint64_t owned = 0, halves = 0;
    bool relay_on = ((const struct ri_relay *)ri_section(ctx->ri.hdr, RI_SEC_RELAY))->on != 0;
    for (uint32_t i = 0; i < cs->n; i++) {
        struct dp_conn *c = &cs->conn[i];
        c->edge = i * w + wk->idx;
        const struct ri_edge *ed = &ctx->ri.edges[c->edge];
        uint8_t h = (uint8_t)((ri_agent_here(cfg, ed->a) ? 1 : 0) | (ri_agent_here(cfg, ed->b) ? 2 : 0));
        c->up_mask = (uint8_t)(h << DP_CONN_HERE_SHIFT);
        cs->wl[i].deadline = UINT64_MAX;
        cs->wl[i].slot = cs->wl[i].prev = cs->wl[i].next = DP_CONN_NONE;
        if (h == 0) {
            c->state = DP_CONN_ELSEWHERE;
            continue;
        }
        c->state = DP_CONN_QUEUED;
        if (!relay_on) /* --relay: queued once the relay has the edge's permissions */
            cs->queue[cs->q_len++] = i;
        if (h == 2)
            halves++;
        else
            owned++;
    }
    if (cfg->churn_milli && owned) {
        /* R/s over the run's connections, this worker's share by the
         * connections it owns; R% of the worker's own */
        uint64_t milli = cfg->churn_pct ? (uint64_t)cfg->churn_milli * owned / 100
                                        : (uint64_t)cfg->churn_milli * owned / (cfg->n_edges ? cfg->n_edges : 1);
        cs->churn_interval_ns = milli ? 1000000000000ull / milli : 0;
        cs->churn_rng = rng_mix(cfg->seed ^ 0xc4017ull << 32 ^ wk->idx);
        cs->held_slot = cfg->msg_size > DP_FWD_MSG_MAX ? cfg->msg_size : DP_FWD_MSG_MAX;
        if (cs->held_slot > RI_MSG_MAX)
            cs->held_slot = RI_MSG_MAX;
        cs->held_cap = (uint32_t)((1u << 20) / cs->held_slot); /* 1 MiB a worker */
        if (cs->held_cap > 4096)
            cs->held_cap = 4096;
        cs->held = malloc((size_t)cs->held_cap * sizeof(*cs->held));
        cs->held_buf = malloc((size_t)cs->held_cap * cs->held_slot);
        if (!cs->held || !cs->held_buf)
            goto oom;
        cs->buf_bytes += (uint64_t)cs->held_cap * (sizeof(*cs->held) + cs->held_slot);
    }
    cs->tsc0 = rte_rdtsc();
    cs->wheel_tick = AGENT_NS_BASE / DP_CONN_TICK_NS;
    int rc = dp_media_init(ctx, wk, err, errlen);
    if (rc < 0)
        return rc;
    cs->bytes += dp_media_bytes(ctx, wk);
    wk->m->live.conn_total = owned;
    wk->m->live.conn_halves_total = halves;
    return 0;
oom:
    snprintf(err, errlen, "worker %u: peer connection state: out of memory", wk->idx);
    return -ENOMEM;
}

void dp_conns_free(struct dp_worker *wk)
{
    struct dp_conns *cs = wk->conns;
    if (!cs)
        return;
    if (cs->conn)
        for (uint32_t i = 0; i < cs->n; i++)
            if (cs->conn[i].state == DP_CONN_SETUP || cs->conn[i].state == DP_CONN_UP)
                release_quiet(cs, &cs->conn[i]); /* after the run: nothing counts */
    dp_media_free(wk);
    if (cs->hs.slots)
        dtls_hs_pool_destroy(&cs->hs);
    if (cs->cp.ops)
        cp_destroy(&cs->cp);
    rte_pktmbuf_free(cs->spare);
    free(cs->su);
    free(cs->su_free);
    free(cs->held);
    free(cs->held_buf);
    free(cs->conn);
    free(cs->keys);
    free(cs->sctp_mem);
    free(cs->pool_mem);
    free(cs->queue);
    free(cs->dirty);
    free(cs->wl);
    free(cs->msg);
    free(cs->gen);
    free(cs->gen_tmp);
    free(cs->fwd);
    free(cs->keylog);
    free(cs);
    wk->conns = NULL;
}

void dp_conns_relay_ready(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t e)
{
    struct dp_conns *cs = wk->conns;
    struct dp_conn *c = conn_of_edge(ctx, cs, e);
    if (c->state != DP_CONN_QUEUED)
        return;
    cs->queue[(cs->q_head + cs->q_len++) % cs->n] = conn_idx(cs, c);
}

void dp_conns_relay_failed(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t e)
{
    struct dp_conn *c = conn_of_edge(ctx, wk->conns, e);
    if (c->state != DP_CONN_QUEUED)
        return;
    /* never started: no attempt is counted, the connection is given up */
    c->attempts = (uint8_t)ctx->ri.cfg->setup_attempts;
    c->state = DP_CONN_GIVEN_UP;
    count_conn_agents(ctx, wk, c, false);
    ri_add(wk->m->live.conn_given_up, 1);
}

int dp_keylog_write(const struct dp_ctx *ctx, char *err, size_t errlen)
{
    if (!ctx->ri.cfg->keylog_max)
        return 0;
    FILE *f = fopen(ctx->ri.cfg->keylog_path, "w");
    if (!f) {
        snprintf(err, errlen, "--keylog %s: cannot write", ctx->ri.cfg->keylog_path);
        return -EIO;
    }
    for (uint32_t w = 0; w < ctx->n_workers; w++) {
        const struct dp_conns *cs = ctx->worker[w] ? ctx->worker[w]->conns : NULL;
        for (uint32_t i = 0; cs && i < cs->keylog_n; i++) {
            const char *line = cs->keylog + (size_t)DP_KEYLOG_LINE * i;
            if (line[0])
                fputs(line, f);
        }
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "--keylog %s: write failed", ctx->ri.cfg->keylog_path);
        return -EIO;
    }
    return 0;
}
