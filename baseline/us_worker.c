/* SPDX-License-Identifier: MIT */
/*
 * The worker loop of the usrsctp backend. One pass: one TSC read, the
 * snapshot check, usrsctp's timers (worker 0, every 10 ms as usrsctp's own
 * timer thread would), epoll_wait over the
 * worker's sockets and recvmmsg on each ready one, packets other threads'
 * usrsctp timers queued for us, messages other workers handed over, set-up
 * deadlines and new attempts, paced generation, and every 100 ms a look at
 * the established sockets for notifications timers made.
 *
 * Polling: epoll_wait with timeout 0 (busy polling, as swarmgen-dp) while
 * the last pass did work or the phase is RUN; otherwise it sleeps up to
 * 1 ms, the granularity of every timer here (usrsctp's tick, ICE, DTLS),
 * so idle phases do not burn the cores. A sleeping pass is not busy.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include "agent.h"
#include "traffic.h"
#include "us.h"

#define MAX_EVENTS    64
#define RX_BATCH      16
#define RX_ROUNDS     4
#define RING_BUDGET   256
#define MAX_GEN       64
#define SWEEP_NS      100000000ull
#define TIMER_TICK_MS 10 /* usrsctp's own timer thread ticks every 10 ms */

volatile bool us_stop;


static void publish_snapshot(struct us_worker *wk, uint64_t req, uint64_t tsc)
{
    ri_metrics_publish(wk->m, req, tsc, 1);
    wk->snap_seen = req;
}

/* Paced generation: a token bucket at rate / n_workers, as swarmgen-dp. */
static bool generate(struct us_worker *wk)
{
    const struct us_ctx *ctx = wk->ctx;
    uint32_t n_active;
    uint32_t n = traffic_pace(&wk->traffic, ctx->ri.cmd, ctx->n_workers, wk->tsc, ctx->tsc_hz, MAX_GEN, &n_active);
    if (n == 0)
        return false;
    us_generate(wk, n, n_active);
    return true;
}

/* usrsctp's process-wide counters, folded as deltas into worker 0's block. */
static void fold_usrsctp_stats(struct us_worker *wk)
{
    struct sctpstat st;
    memset(&st, 0, sizeof(st));
    usrsctp_get_stat(&st);
    uint64_t retrans = (uint64_t)st.sctps_sendretransdata + st.sctps_sendfastretrans,
             sacks = st.sctps_sendsacks;
    if (retrans > wk->seen_retrans) {
        ri_add(wk->m->live.sctp_retransmissions, retrans - wk->seen_retrans);
        wk->seen_retrans = retrans;
    }
    if (sacks > wk->seen_sacks) {
        ri_add(wk->m->live.sctp_sacks, sacks - wk->seen_sacks);
        wk->seen_sacks = sacks;
    }
}

struct rx_bufs {
    struct mmsghdr mm[RX_BATCH];
    struct iovec iov[RX_BATCH];
    uint8_t data[RX_BATCH][US_DGRAM_MAX];
};

static bool receive(struct us_worker *wk, struct rx_bufs *rb, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(wk->epfd, evs, MAX_EVENTS, timeout_ms);
    if (n <= 0)
        return false;
    struct ri_counters *m = &wk->m->live;
    for (int i = 0; i < n; i++) {
        uint32_t ci = (uint32_t)(evs[i].data.u64 >> 1);
        int s = (int)(evs[i].data.u64 & 1);
        struct us_conn *c = &wk->conns[ci];
        for (int round = 0; round < RX_ROUNDS; round++) {
            for (int k = 0; k < RX_BATCH; k++) {
                rb->iov[k] = (struct iovec){rb->data[k], US_DGRAM_MAX};
                memset(&rb->mm[k].msg_hdr, 0, sizeof(rb->mm[k].msg_hdr));
                rb->mm[k].msg_hdr.msg_iov = &rb->iov[k];
                rb->mm[k].msg_hdr.msg_iovlen = 1;
            }
            int got = recvmmsg(c->ep[s].fd, rb->mm, RX_BATCH, MSG_DONTWAIT, NULL);
            if (got <= 0)
                break;
            uint64_t bytes = 0;
            for (int k = 0; k < got; k++)
                bytes += rb->mm[k].msg_len + 42; /* as L2 frames */
            ri_add(m->pkts_rx, (uint64_t)got);
            ri_add(m->bytes_rx, bytes);
            for (int k = 0; k < got; k++)
                us_ep_input(wk, c, s, rb->data[k], rb->mm[k].msg_len);
            if (got < RX_BATCH)
                break;
        }
    }
    return true;
}

static bool drain_rings(struct us_worker *wk)
{
    const struct us_ctx *ctx = wk->ctx;
    bool did = false;
    for (uint32_t from = 0; from < ctx->n_workers; from++) {
        if (from == wk->idx)
            continue;
        struct us_ring *r = ctx->ring[from][wk->idx];
        for (int k = 0; k < RING_BUDGET; k++) {
            uint32_t e, agent;
            int64_t len = us_ring_pop(r, &e, &agent, wk->tmp);
            if (len < 0)
                break;
            did = true;
            ri_add(wk->m->live.handoff_in, 1);
            if (e >= ctx->ri.cfg->n_edges || ctx->ri.edges[e].worker != wk->idx) {
                ri_add(wk->m->live.drops[RI_DROP_BAD_MESSAGE], 1);
                ri_add(wk->m->live.msgs_dropped, 1);
                continue;
            }
            us_send_msg(wk, agent, e, wk->tmp, (uint32_t)len);
        }
    }
    return did;
}

void *us_worker_loop(void *arg)
{
    struct us_worker *wk = arg;
    const struct us_ctx *ctx = wk->ctx;
    us_conn_bind_thread(wk);
    static __thread struct rx_bufs rb;
    wk->tsc0 = us_rdtsc();
    uint64_t prev = wk->tsc0;
    wk->last_timer_ms = AGENT_NS_BASE / 1000000;
    wk->next_sweep = AGENT_NS_BASE + SWEEP_NS;
    bool did_work = false;

    while (!us_stop) {
        uint64_t tsc = us_rdtsc();
        uint64_t cycles = tsc - prev;
        ri_add(wk->m->live.cycles_total, cycles);
        if (did_work)
            ri_add(wk->m->live.cycles_busy, cycles);
        ri_add(wk->m->live.passes, 1);
        prev = tsc;
        bool last_did = did_work;
        did_work = false;
        wk->tsc = tsc;
        wk->now = AGENT_NS_BASE + (uint64_t)((double)(tsc - wk->tsc0) * ctx->ns_per_cycle);

        uint32_t phase = __atomic_load_n(&ctx->ri.cmd->phase, __ATOMIC_ACQUIRE);
        if (phase == RI_PHASE_STOP)
            break;
        uint64_t req = __atomic_load_n(&ctx->ri.cmd->snap_req, __ATOMIC_ACQUIRE);
        if (req != wk->snap_seen)
            publish_snapshot(wk, req, tsc);

        if (wk->idx == 0) {
            uint64_t ms = wk->now / 1000000;
            if (ms >= wk->last_timer_ms + TIMER_TICK_MS) {
                usrsctp_handle_timers((uint32_t)(ms - wk->last_timer_ms));
                wk->last_timer_ms = ms;
            }
        }
        bool busy = last_did || phase == RI_PHASE_RUN || wk->n_setup > 0 || wk->q_len > 0;
        did_work |= receive(wk, &rb, busy ? 0 : 1);
        did_work |= us_foreign_flush(wk);
        did_work |= drain_rings(wk);
        did_work |= us_conns_poll(wk);
        if (phase == RI_PHASE_RUN)
            did_work |= generate(wk);
        if (wk->now >= wk->next_sweep) {
            us_conns_sweep(wk);
            if (wk->idx == 0)
                fold_usrsctp_stats(wk);
            wk->next_sweep = wk->now + SWEEP_NS;
        }
    }
    if (wk->idx == 0)
        fold_usrsctp_stats(wk);
    __atomic_add_fetch(&((struct us_ctx *)ctx)->workers_done, 1, __ATOMIC_RELEASE);
    return NULL;
}
