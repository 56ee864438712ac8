/* SPDX-License-Identifier: MIT */
/* The usrsctp baseline in-process on a virtual clock (us_harness.h). */
#include "us_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "agent.h"
#include "image.h"
#include "../common/ring_image.h"

static void wire_tx(void *arg, struct us_ep *ep, const uint8_t *d, size_t len)
{
    us_h_send_raw(arg, ep, d, len);
}

void us_h_send_raw(struct us_harness *h, struct us_ep *from, const uint8_t *d, size_t n)
{
    if (n > US_DGRAM_MAX || h->wire_n == US_H_WIRE_SLOTS) {
        h->wire_lost++;
        return;
    }
    struct us_h_dgram *g = &h->wire[(h->wire_head + h->wire_n) % US_H_WIRE_SLOTS];
    g->conn = from->conn;
    g->side = (uint8_t)(1 - from->side);
    g->len = (uint16_t)n;
    memcpy(g->data, d, n);
    if (!h->tap || h->tap(h, g))
        h->wire_n++;
}

void us_h_deliver(struct us_harness *h)
{
    static uint8_t d[US_DGRAM_MAX]; /* a copy: delivering queues more */
    struct us_worker *wk = h->wk;
    for (uint32_t k = 0; k < US_H_BUDGET && h->wire_n; k++) {
        struct us_h_dgram *g = &h->wire[h->wire_head];
        uint32_t conn = g->conn, len = g->len;
        int side = g->side;
        memcpy(d, g->data, len);
        h->wire_head = (h->wire_head + 1) % US_H_WIRE_SLOTS;
        h->wire_n--;
        ri_add(wk->m->live.pkts_rx, 1);
        ri_add(wk->m->live.bytes_rx, len + 42);
        us_ep_input(wk, &wk->conns[conn], side, d, len);
    }
}

void us_h_step(struct us_harness *h)
{
    struct us_worker *wk = h->wk;
    us_h_deliver(h);
    wk->now += US_H_MS;
    wk->tsc = wk->now; /* one cycle per ns (ctx.ns_per_cycle) */
    uint64_t ms = wk->now / US_H_MS;
    if (ms >= h->last_timer_ms + 10) {
        usrsctp_handle_timers((uint32_t)(ms - h->last_timer_ms));
        h->last_timer_ms = ms;
    }
    us_foreign_flush(wk);
    us_conns_poll(wk);
    if (wk->now >= h->next_sweep) {
        us_conns_sweep(wk);
        h->next_sweep = wk->now + 100 * US_H_MS;
    }
    us_h_deliver(h);
}

void us_h_run_for(struct us_harness *h, uint64_t ns)
{
    for (uint64_t end = h->wk->now + ns; h->wk->now < end;)
        us_h_step(h);
}

bool us_h_all_up(const struct us_harness *h)
{
    for (uint32_t i = 0; i < h->wk->n_conns; i++)
        if (h->wk->conns[i].state != US_CONN_UP)
            return false;
    return true;
}

bool us_h_run_until_up(struct us_harness *h, uint64_t max_ns)
{
    for (uint64_t end = h->wk->now + max_ns; h->wk->now < end;) {
        us_h_step(h);
        if (us_h_all_up(h))
            return true;
    }
    return false;
}

void us_h_wire_keep_up(struct us_harness *h)
{
    uint32_t kept = 0;
    for (uint32_t k = 0; k < h->wire_n; k++) {
        const struct us_h_dgram *g = &h->wire[(h->wire_head + k) % US_H_WIRE_SLOTS];
        if (h->wk->conns[g->conn].state == US_CONN_UP)
            h->wire[(h->wire_head + kept++) % US_H_WIRE_SLOTS] = *g;
    }
    h->wire_n = kept;
}

/* A 4-agent ring on one worker, traffic dc, as dp_harness builds it. */
static int build_image(struct us_harness *h)
{
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    c.traffic = RI_TRAFFIC_DC;
    c.seed = 1;
    c.msg_size = 64;
    c.setup_cap = 4;
    c.setup_attempts = 2;
    c.n_agents = US_H_AGENTS;
    c.n_workers = 1;
    c.n_edges = US_H_AGENTS;
    c.n_dests = US_H_AGENTS;
    c.max_hops = 64;
    c.ip_base = 0xc6120000u;
    struct ri_header *img;
    int rc = ring_image_alloc(&c, &img);
    if (rc != 0)
        return rc;
    h->image = img;
    struct ri_edge *ed = ri_section(img, RI_SEC_EDGES);
    const uint32_t n = US_H_AGENTS;
    ring_image_fill(img, n, c.ip_base, 1);
    for (uint32_t e = 0; e < n; e++) {
        ed[e].port_a = (uint16_t)(50000 + 2 * e);
        ed[e].port_b = (uint16_t)(50001 + 2 * e);
    }
    ri_view_bind(&h->ctx.ri, img, img->image_size);
    return 0;
}

int us_h_start(struct us_harness *h, int (*conn_output)(void *, void *, size_t, uint8_t, uint8_t))
{
    usrsctp_init_nothreads(0, conn_output ? conn_output : us_conn_output, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0); /* as swarmgen-usrsctp */
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    char err[256];
    int rc = build_image(h);
    h->ctx.n_workers = 1;
    h->ctx.tsc_hz = 1000000000ull;
    h->ctx.ns_per_cycle = 1.0;
    h->ctx.tx = wire_tx;
    h->ctx.tx_arg = h;
    if (rc == 0)
        rc = us_setup(&h->ctx, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "image: %d", rc);
    if (rc != 0) {
        fprintf(stderr, "us_harness: set-up: %s\n", err);
        return -1;
    }
    struct us_worker *wk = h->wk = h->ctx.worker[0];
    us_conn_bind_thread(wk);
    wk->now = wk->tsc = AGENT_NS_BASE;
    h->last_timer_ms = wk->now / US_H_MS;
    h->next_sweep = wk->now + 100 * US_H_MS;
    if (!us_h_run_until_up(h, 60 * US_H_SECOND)) {
        fprintf(stderr, "us_harness: the connections did not come up\n");
        return -1;
    }
    return 0;
}

uint32_t us_h_agent(const struct us_harness *h, const struct us_conn *c, int s)
{
    const struct ri_edge *ed = &h->ctx.ri.edges[c->edge];
    return s ? ed->b : ed->a;
}

void us_h_send_msg(struct us_harness *h, struct us_conn *c, int s, uint32_t seq)
{
    uint8_t m[64];
    agent_msg_write(m, sizeof(m), us_h_agent(h, c, s), us_h_agent(h, c, 1 - s), seq, h->wk->tsc,
                    NULL);
    us_send_msg(h->wk, us_h_agent(h, c, s), c->edge, m, sizeof(m));
}
