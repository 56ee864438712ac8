/* SPDX-License-Identifier: MIT */
/*
 * sctp_world: two endpoints joined by two sctp_pipes on one virtual clock
 * that jumps to the next deadline when nothing else is due. An endpoint is
 * either our engine or anything else behind the same three callbacks (the
 * usrsctp interop tests plug usrsctp in). Header-only, for tests/sctp and
 * bench/sctp.
 */
#ifndef SWARMGEN_TESTS_SCTP_WORLD_H
#define SWARMGEN_TESTS_SCTP_WORLD_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctp.h"
#include "sctp_pipe.h"

struct world;

/* a message seen by an endpoint, handed to the test */
typedef void (*world_event_fn)(struct world *w, int side, const struct sctp_ev *ev,
                               const uint8_t *data);

struct endpoint_ops {
    /* packets the endpoint wants to send now: call world_emit for each */
    void (*flush)(struct world *w, int side);
    void (*input)(struct world *w, int side, const uint8_t *pkt, size_t len);
    void (*timeout)(struct world *w, int side);
    uint64_t (*next_timeout)(struct world *w, int side);
    /* queue a message: 0, -EAGAIN (try later) or another negative errno */
    int (*send)(struct world *w, int side, uint16_t sid, uint32_t ppid, const uint8_t *m, size_t len,
                const struct sctp_send_opts *o);
};

struct our_ep {
    struct sctp_assoc *a;
    struct sctp_pool *pool;
    void *amem, *pmem;
    size_t asize;
    uint8_t *rbuf;
};

struct world {
    uint64_t now;
    struct pipe p[2];                 /* p[i]: from side i to side 1-i */
    const struct endpoint_ops *ops[2];
    struct our_ep ours[2];
    void *other[2];                   /* non-engine endpoints */
    world_event_fn on_event;
    void *user;
    bool capture;                     /* keep a copy of every packet for the test */
    void (*on_packet)(struct world *w, int from, const uint8_t *pkt, size_t len);
    void (*tick)(struct world *w);    /* called at each step: the tests feed senders here */
};

static inline void world_emit(struct world *w, int side, const uint8_t *pkt, size_t len)
{
    if (w->on_packet)
        w->on_packet(w, side, pkt, len);
    pipe_send(&w->p[side], pkt, len, w->now);
}

/* ---- our engine as an endpoint ---- */

/* Events first, then what is to send: as the dataplane does, so an answer
 * the application sends from an event leaves in the packet of the SACK
 * owed for what it answers. */
static inline void ours_flush(struct world *w, int side)
{
    uint8_t buf[1500];
    size_t n;
    struct sctp_ev ev = {.buf = w->ours[side].rbuf, .cap = 1u << 20};
    while (sctp_poll_event(w->ours[side].a, &ev) != SCTP_EV_NONE)
        if (w->on_event)
            w->on_event(w, side, &ev, w->ours[side].rbuf);
    while ((n = sctp_poll_transmit(w->ours[side].a, buf, sizeof(buf), w->now)) > 0)
        world_emit(w, side, buf, n);
}

static inline void ours_input(struct world *w, int side, const uint8_t *pkt, size_t len)
{
    sctp_handle_input(w->ours[side].a, pkt, len, w->now);
}

static inline void ours_timeout(struct world *w, int side)
{
    if (sctp_next_timeout(w->ours[side].a) <= w->now)
        sctp_handle_timeout(w->ours[side].a, w->now);
}

static inline uint64_t ours_next(struct world *w, int side)
{
    return sctp_next_timeout(w->ours[side].a);
}

static inline int ours_send(struct world *w, int side, uint16_t sid, uint32_t ppid, const uint8_t *m,
                            size_t len, const struct sctp_send_opts *o)
{
    return sctp_send(w->ours[side].a, sid, ppid, m, len, o, w->now);
}

static const struct endpoint_ops ours_ops = {ours_flush, ours_input, ours_timeout, ours_next,
                                             ours_send};

#define WORLD_CANARY 64 /* bytes after an association's memory that must stay 0xa5 */

/* Sets up our engine on `side` with `cfg` and a pool of n_bufs buffers, in
 * exactly sctp_assoc_size_cfg(cfg) bytes followed by a canary
 * (world_canary_ok). */
static inline struct sctp_assoc *world_ours(struct world *w, int side, const struct sctp_config *cfg,
                                            uint32_t n_bufs)
{
    struct our_ep *e = &w->ours[side];
    e->pmem = aligned_alloc(64, (sctp_pool_size(n_bufs, 1200) + 63) & ~(size_t)63);
    e->pool = sctp_pool_init(e->pmem, n_bufs, 1200);
    e->asize = sctp_assoc_size_cfg(cfg);
    e->amem = aligned_alloc(64, e->asize + WORLD_CANARY);
    memset(e->amem, 0xa5, e->asize + WORLD_CANARY);
    e->a = sctp_assoc_init(e->amem, cfg, e->pool, w->now);
    e->rbuf = malloc(1u << 20);
    w->ops[side] = &ours_ops;
    return e->a;
}

/* Whether the association on `side` wrote nothing beyond its
 * sctp_assoc_size_cfg() bytes. */
static inline bool world_canary_ok(const struct world *w, int side)
{
    const uint8_t *t = (const uint8_t *)w->ours[side].amem + w->ours[side].asize;
    for (int i = 0; i < WORLD_CANARY; i++)
        if (t[i] != 0xa5)
            return false;
    return true;
}

static inline void world_init(struct world *w, uint64_t seed, uint64_t delay_ns)
{
    memset(w, 0, sizeof(*w));
    w->now = 1000000000ull;
    pipe_init(&w->p[0], seed * 2 + 1, delay_ns);
    pipe_init(&w->p[1], seed * 2 + 2, delay_ns);
}

static inline void world_free(struct world *w)
{
    for (int i = 0; i < 2; i++) {
        free(w->ours[i].amem);
        free(w->ours[i].pmem);
        free(w->ours[i].rbuf);
        pipe_free(&w->p[i]);
    }
}

/* One step: both sides send what they have, due packets are delivered,
 * due timers run; when nothing was due the clock jumps to the next event.
 * Returns false when nothing at all is pending (the world is idle). */
static inline bool world_step(struct world *w)
{
    if (w->tick)
        w->tick(w);
    for (int i = 0; i < 2; i++)
        w->ops[i]->flush(w, i);
    bool moved = false;
    uint8_t buf[PIPE_MTU];
    for (int i = 0; i < 2; i++) {
        size_t n;
        while ((n = pipe_recv(&w->p[i], w->now, buf)) > 0) {
            w->ops[1 - i]->input(w, 1 - i, buf, n);
            moved = true;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (w->ops[i]->next_timeout(w, i) <= w->now) {
            w->ops[i]->timeout(w, i);
            moved = true;
        }
    }
    if (moved)
        return true;
    for (int i = 0; i < 2; i++)
        w->ops[i]->flush(w, i);
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < 2; i++) {
        uint64_t a = pipe_next(&w->p[i]), b = w->ops[i]->next_timeout(w, i);
        if (a < t)
            t = a;
        if (b < t)
            t = b;
    }
    if (t == UINT64_MAX)
        return false;
    if (t > w->now)
        w->now = t;
    return true;
}

/* Steps until cond(w) holds or `max_ns` of virtual time pass. */
static inline bool world_run(struct world *w, bool (*cond)(struct world *), uint64_t max_ns)
{
    uint64_t end = w->now + max_ns;
    while (!cond(w)) {
        if (w->now > end || !world_step(w))
            return cond(w);
    }
    return true;
}

/* deterministic message content: index in the first 4 bytes, then a pattern */
static inline void msg_fill(uint8_t *m, size_t len, uint32_t idx, uint32_t salt)
{
    for (size_t k = 0; k < len; k++)
        m[k] = (uint8_t)(idx * 31u + k * 7u + salt);
    if (len >= 4) {
        m[0] = (uint8_t)(idx >> 24);
        m[1] = (uint8_t)(idx >> 16);
        m[2] = (uint8_t)(idx >> 8);
        m[3] = (uint8_t)idx;
    }
}

static inline bool msg_check(const uint8_t *m, size_t len, uint32_t *idx, uint32_t salt, uint32_t one_byte_idx)
{
    uint32_t i = len >= 4 ? (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3]
                          : one_byte_idx;
    *idx = i;
    for (size_t k = 4; k < len; k++)
        if (m[k] != (uint8_t)(i * 31u + k * 7u + salt))
            return false;
    if (len < 4)
        for (size_t k = 0; k < len; k++)
            if (m[k] != (uint8_t)(i * 31u + k * 7u + salt))
                return false;
    return true;
}


/* ---- a one-way message flow checked at the receiver ---- */

struct flow {
    int from;                 /* sending side */
    uint16_t sid;
    uint32_t ppid;
    size_t size;
    struct sctp_send_opts o;
    uint32_t total, sent, recvd, expect;
    uint32_t salt;
    uint8_t *seen;            /* per index, for unordered delivery */
    uint32_t bad_content, bad_order, dup, send_errors;
    uint8_t *m;
};

static inline void flow_init(struct flow *f, int from, uint16_t sid, size_t size, uint32_t total,
                             const struct sctp_send_opts *o)
{
    memset(f, 0, sizeof(*f));
    f->from = from;
    f->sid = sid;
    f->ppid = 53;
    f->size = size;
    f->total = total;
    if (o)
        f->o = *o;
    f->salt = (uint32_t)(from * 101 + sid + 7);
    f->seen = calloc(total + 1, 1);
    f->m = malloc(size ? size : 1);
}

static inline void flow_free(struct flow *f) { free(f->seen); free(f->m); }

/* sends what the window takes */
static inline void flow_feed(struct world *w, struct flow *f)
{
    while (f->sent < f->total) {
        msg_fill(f->m, f->size, f->sent, f->salt);
        int rc = w->ops[f->from]->send(w, f->from, f->sid, f->ppid, f->m, f->size, &f->o);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK)
            return;
        if (rc < 0) {
            f->send_errors++;
            return;
        }
        f->sent++;
    }
}

/* one delivered message of this flow */
static inline void flow_deliver(struct flow *f, const uint8_t *m, size_t len)
{
    uint32_t idx;
    bool ordered = !f->o.unordered;
    bool checkable = len >= 4 || ordered;
    if (len != f->size || (checkable && !msg_check(m, len, &idx, f->salt, f->expect))) {
        f->bad_content++;
        return;
    }
    if (!checkable)
        idx = f->recvd; /* unordered 1-3 byte messages carry no index */
    if (idx >= f->total || f->seen[idx]) {
        f->dup++;
        return;
    }
    f->seen[idx] = 1;
    /* reliable ordered: exactly the next; partially reliable ordered: increasing */
    if (ordered && (f->o.pr == SCTP_PR_NONE ? idx != f->expect : idx < f->expect))
        f->bad_order++;
    f->expect = idx + 1;
    f->recvd++;

}

#endif
