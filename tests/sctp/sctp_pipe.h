/* SPDX-License-Identifier: MIT */
/*
 * sctp_pipe: the in-memory link the SCTP tests and benchmark pass packets
 * through, on a virtual clock: one-way delay, random loss, duplication and
 * reordering (a reordered packet is held back by an extra delay), seeded.
 * Header-only so that tests and bench share it.
 */
#ifndef SWARMGEN_TESTS_SCTP_PIPE_H
#define SWARMGEN_TESTS_SCTP_PIPE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_SLOTS 8192
#define PIPE_MTU 1500

struct pipe_pkt {
    uint64_t at, seq;        /* arrival time, then order sent: FIFO among equal times */
    uint16_t len;
    uint8_t data[PIPE_MTU];
};

struct pipe {
    struct pipe_pkt *q;      /* unordered array; n entries */
    uint32_t n;
    uint64_t rng;
    uint32_t loss_ppm, dup_ppm, reorder_ppm;
    uint64_t delay_ns, reorder_extra_ns;
    uint64_t sent, lost, duplicated, reordered, overflow, seq;
};

static inline uint64_t pipe_rand(struct pipe *p)
{
    uint64_t z = (p->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void pipe_init(struct pipe *p, uint64_t seed, uint64_t delay_ns)
{
    memset(p, 0, sizeof(*p));
    p->q = calloc(PIPE_SLOTS, sizeof(*p->q));
    p->rng = seed;
    p->delay_ns = delay_ns;
    p->reorder_extra_ns = delay_ns ? delay_ns : 1000000;
}

static inline void pipe_free(struct pipe *p) { free(p->q); p->q = NULL; }

static inline void pipe_push1(struct pipe *p, const uint8_t *d, size_t len, uint64_t at)
{
    if (p->n == PIPE_SLOTS || len > PIPE_MTU) {
        p->overflow++;
        return;
    }
    struct pipe_pkt *k = &p->q[p->n++];
    k->at = at;
    k->seq = p->seq++;
    k->len = (uint16_t)len;
    memcpy(k->data, d, len);
}

/* A packet sent at `now`. */
static inline void pipe_send(struct pipe *p, const uint8_t *d, size_t len, uint64_t now)
{
    p->sent++;
    if (p->loss_ppm && pipe_rand(p) % 1000000 < p->loss_ppm) {
        p->lost++;
        return;
    }
    uint64_t at = now + p->delay_ns;
    if (p->reorder_ppm && pipe_rand(p) % 1000000 < p->reorder_ppm) {
        p->reordered++;
        at += p->reorder_extra_ns;
    }
    pipe_push1(p, d, len, at);
    if (p->dup_ppm && pipe_rand(p) % 1000000 < p->dup_ppm) {
        p->duplicated++;
        pipe_push1(p, d, len, at + 1000);
    }
}

/* The earliest arrival, UINT64_MAX when empty. */
static inline uint64_t pipe_next(const struct pipe *p)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->q[i].at < t)
            t = p->q[i].at;
    return t;
}

/* Takes the earliest packet due at `now` into buf; its length or 0. */
static inline size_t pipe_recv(struct pipe *p, uint64_t now, uint8_t *buf)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->q[i].at <= now && (best == UINT32_MAX || p->q[i].at < p->q[best].at ||
                                  (p->q[i].at == p->q[best].at && p->q[i].seq < p->q[best].seq)))
            best = i;
    if (best == UINT32_MAX)
        return 0;
    size_t len = p->q[best].len;
    memcpy(buf, p->q[best].data, len);
    p->q[best] = p->q[--p->n];
    return len;
}

#endif
