/* SPDX-License-Identifier: MIT */
#include "dp_netem.h"
#include "rng.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "dp_internal.h"
#include "dp_msg.h"

struct netem_meta {
    struct rte_mbuf *next;
    uint64_t release; /* TSC */
    uint32_t edge;
};


static inline struct netem_meta *meta(const struct dp_ctx *ctx, struct rte_mbuf *m)
{
    return RTE_MBUF_DYNFIELD(m, ctx->netem_offset, struct netem_meta *);
}

static inline uint64_t rnd(struct dp_worker *wk)
{
    return rng_next(&wk->traffic.rng);
}

/* True with probability ppm / 1e6. */
static inline bool chance(struct dp_worker *wk, uint32_t ppm)
{
    return ppm && (rnd(wk) >> 32) % 1000000u < ppm;
}

int dp_netem_init(struct dp_ctx *ctx, char *err, size_t errlen)
{
    bool any = false;
    for (int c = 0; c < RI_NETEM_CLASSES; c++)
        any |= ctx->ri.cfg->netem[c].enabled != 0;
    ctx->netem_on = any;
    if (!any)
        return 0;
    static const struct rte_mbuf_dynfield desc = {
        .name = "swarmgen_netem",
        .size = sizeof(struct netem_meta),
        .align = __alignof__(struct netem_meta),
    };
    int off = rte_mbuf_dynfield_register(&desc);
    if (off < 0) {
        snprintf(err, errlen, "netem: mbuf dynamic field: %s", rte_strerror(rte_errno));
        return -rte_errno;
    }
    ctx->netem_offset = off;
    ctx->netem_tick_ns = (double)(1u << DP_WHEEL_TICK_SHIFT) * ctx->ns_per_cycle;
    for (uint32_t w = 0; w < ctx->n_workers; w++) {
        struct dp_worker *wk = ctx->worker[w];
        size_t slots = (size_t)1 << DP_WHEEL_BITS;
        wk->wheel_head = rte_zmalloc_socket("sg_wheel", slots * sizeof(struct rte_mbuf *), 64,
                                            (int)rte_lcore_to_socket_id(wk->lcore_id));
        wk->wheel_tail = rte_zmalloc_socket("sg_wheel", slots * sizeof(struct rte_mbuf *), 64,
                                            (int)rte_lcore_to_socket_id(wk->lcore_id));
        if (!wk->wheel_head || !wk->wheel_tail) {
            snprintf(err, errlen, "netem: timer wheel: out of memory");
            return -ENOMEM;
        }
        wk->wheel_tick = 0;
    }
    return 0;
}

static inline void wheel_insert(const struct dp_ctx *ctx, struct dp_worker *wk,
                                struct rte_mbuf *m, uint64_t release)
{
    uint64_t tick = release >> DP_WHEEL_TICK_SHIFT;
    if (tick < wk->wheel_tick)
        tick = wk->wheel_tick;
    uint32_t slot = (uint32_t)(tick & ((1u << DP_WHEEL_BITS) - 1));
    struct netem_meta *md = meta(ctx, m);
    md->next = NULL;
    if (wk->wheel_tail[slot])
        meta(ctx, wk->wheel_tail[slot])->next = m;
    else
        wk->wheel_head[slot] = m;
    wk->wheel_tail[slot] = m;
    wk->wheel_count++;
}

static void schedule(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m,
                     uint32_t e, const struct ri_netem *nc, int cls, uint64_t tsc)
{
    uint64_t hz = ctx->tsc_hz;
    uint64_t release = tsc;
    if (nc->rate_bps) {
        /* serialisation at the capped rate: a FIFO per class and worker */
        uint64_t tx = (uint64_t)((double)(m->pkt_len + 24) * 8.0 * (double)hz / (double)nc->rate_bps);
        uint64_t start = wk->netem_next_free[cls] > tsc ? wk->netem_next_free[cls] : tsc;
        if (start - tsc > hz) { /* more than a second queued: tail drop */
            ri_add(wk->m->live.drops[RI_DROP_NETEM_QUEUE], 1);
            if (wk->frames_are_msgs)
                ri_add(wk->m->live.msgs_dropped, 1);
            rte_pktmbuf_free(m);
            return;
        }
        wk->netem_next_free[cls] = start + tx;
        release = start + tx;
    }
    if (chance(wk, nc->reorder_ppm)) {
        ri_add(wk->m->live.netem_reordered, 1);
    } else {
        int64_t d = (int64_t)nc->delay_ns;
        if (nc->jitter_ns) {
            uint64_t span = 2 * nc->jitter_ns + 1;
            d += (int64_t)((rnd(wk) >> 11) % span) - (int64_t)nc->jitter_ns;
        }
        if (d > 0)
            release += (uint64_t)((double)d / ctx->ns_per_cycle);
    }
    if (release <= tsc && wk->wheel_count == 0) {
        dp_to_owner(ctx, wk, m, e);
        return;
    }
    meta(ctx, m)->release = release;
    meta(ctx, m)->edge = e;
    ri_add(wk->m->live.netem_delayed, 1);
    wheel_insert(ctx, wk, m, release);
}

/* True while class nc is down: in its outage or the down part of its flap
 * cycle, counted from the worker's start of the load. */
static bool silent(const struct dp_ctx *ctx, const struct dp_worker *wk, const struct ri_netem *nc, uint64_t tsc)
{
    if (!wk->run_tsc || tsc < wk->run_tsc)
        return false;
    uint64_t t = (uint64_t)((double)(tsc - wk->run_tsc) * ctx->ns_per_cycle);
    if (nc->outage_ns && t >= nc->outage_at_ns && t - nc->outage_at_ns < nc->outage_ns)
        return true;
    return nc->flap_down_ns && t % (nc->flap_up_ns + nc->flap_down_ns) >= nc->flap_up_ns;
}

void dp_netem_submit(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m,
                     uint32_t e, const struct ri_netem *nc, uint64_t tsc)
{
    int cls = (int)(nc - ctx->ri.cfg->netem);
    if ((nc->outage_ns || nc->flap_down_ns) && silent(ctx, wk, nc, tsc)) {
        ri_add(wk->m->live.drops[RI_DROP_NETEM_OUTAGE], 1);
        if (wk->frames_are_msgs)
            ri_add(wk->m->live.msgs_dropped, 1);
        rte_pktmbuf_free(m);
        return;
    }
    bool lost;
    if (nc->gilbert) {
        uint8_t *bad = &wk->netem_ge_bad[cls];
        if (*bad)
            *bad = !chance(wk, nc->ge_r_ppm);
        else
            *bad = chance(wk, nc->ge_p_ppm);
        lost = *bad && chance(wk, nc->ge_bad_loss_ppm);
    } else {
        lost = chance(wk, nc->loss_ppm);
    }
    if (lost) {
        ri_add(wk->m->live.drops[RI_DROP_NETEM_LOSS], 1);
        if (wk->frames_are_msgs)
            ri_add(wk->m->live.msgs_dropped, 1);
        rte_pktmbuf_free(m);
        return;
    }
    /* copy before the original can leave for another worker */
    struct rte_mbuf *c = chance(wk, nc->dup_ppm) ? rte_pktmbuf_copy(m, ctx->pool, 0, UINT32_MAX) : NULL;
    schedule(ctx, wk, m, e, nc, cls, tsc);
    if (c) {
        /* a plain agent message copy is flagged so the destination counts
         * it apart; a copied DTLS record meets the peer's replay window */
        if (wk->frames_are_msgs) {
            struct dp_frame *f = rte_pktmbuf_mtod(c, struct dp_frame *);
            f->msg.seq |= rte_cpu_to_be_64(AGENT_SEQ_DUPLICATE);
        }
        ri_add(wk->m->live.netem_duplicated, 1);
        schedule(ctx, wk, c, e, nc, cls, tsc);
    }
}

void dp_netem_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    if (wk->wheel_count == 0) {
        wk->wheel_tick = tsc >> DP_WHEEL_TICK_SHIFT;
        return;
    }
    uint64_t tsc_tick = tsc >> DP_WHEEL_TICK_SHIFT;
    const uint32_t mask = (1u << DP_WHEEL_BITS) - 1;
    /* at most one turn of the wheel per pass */
    uint64_t last = tsc_tick - wk->wheel_tick > mask ? wk->wheel_tick + mask : tsc_tick;
    for (uint64_t t = wk->wheel_tick; t <= last && wk->wheel_count; t++) {
        uint32_t slot = (uint32_t)(t & mask);
        struct rte_mbuf *m = wk->wheel_head[slot];
        if (!m)
            continue;
        wk->wheel_head[slot] = NULL;
        wk->wheel_tail[slot] = NULL;
        while (m) {
            struct netem_meta *md = meta(ctx, m);
            struct rte_mbuf *next = md->next;
            wk->wheel_count--;
            if (md->release <= tsc)
                dp_to_owner(ctx, wk, m, md->edge);
            else
                wheel_insert(ctx, wk, m, md->release); /* a later turn of the wheel */
            m = next;
        }
    }
    wk->wheel_tick = last + 1 > tsc_tick ? tsc_tick : last + 1;
}

uint64_t dp_netem_census(const struct dp_ctx *ctx, const struct dp_worker *wk)
{
    uint64_t n = 0;
    if (!ctx->netem_on || !wk->wheel_head)
        return 0;
    for (uint32_t slot = 0; slot < (1u << DP_WHEEL_BITS); slot++)
        for (struct rte_mbuf *m = wk->wheel_head[slot]; m; m = meta(ctx, m)->next)
            n += dp_frame_is_msg(wk, m);
    return n;
}
