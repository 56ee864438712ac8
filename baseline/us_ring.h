/* SPDX-License-Identifier: MIT */
/*
 * us_ring: a lock-free single-producer/single-consumer ring of variable-
 * length records (agent messages handed from one worker to another).
 *
 * Records are [u32 length][u32 edge][u32 from][u32 pad][bytes], padded to 8
 * bytes; a record never wraps: when it does not fit before the end, a skip
 * marker (length UINT32_MAX) sends the consumer back to the start. head is
 * written by the producer only (release), tail by the consumer only
 * (release); each reads the other's with acquire. No allocation after
 * us_ring_create. Thread-safety: one producer thread, one consumer thread.
 */
#ifndef SWARMGEN_US_RING_H
#define SWARMGEN_US_RING_H

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define US_RING_HDR  16u
#define US_RING_SKIP UINT32_MAX

struct us_ring {
    alignas(64) uint64_t head; /* bytes written, producer */
    alignas(64) uint64_t tail; /* bytes consumed, consumer */
    alignas(64) uint64_t size; /* a power of two */
    uint8_t *buf;
};

/* A ring of `size` bytes (a power of two); NULL when out of memory. */
static inline struct us_ring *us_ring_create(uint64_t size)
{
    struct us_ring *r = aligned_alloc(64, sizeof(*r));
    if (!r)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->size = size;
    r->buf = aligned_alloc(64, size);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    return r;
}

static inline void us_ring_free(struct us_ring *r)
{
    if (r) {
        free(r->buf);
        free(r);
    }
}

/* Producer: appends one record. Returns 0, or -1 when the ring is full
 * (nothing written). */
static inline int us_ring_push(struct us_ring *r, uint32_t edge, uint32_t from, const uint8_t *msg,
                               uint32_t len)
{
    uint64_t need = (US_RING_HDR + len + 7) & ~7ull;
    uint64_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint64_t off = head & (r->size - 1), to_end = r->size - off;
    uint64_t total = need <= to_end ? need : to_end + need;
    if (need > r->size / 2 || r->size - (head - tail) < total)
        return -1;
    if (need > to_end) {
        uint32_t skip = US_RING_SKIP;
        memcpy(r->buf + off, &skip, 4); /* to_end >= 8: records are 8-aligned */
        head += to_end;
        off = 0;
    }
    uint32_t h[4] = {len, edge, from, 0};
    memcpy(r->buf + off, h, US_RING_HDR);
    memcpy(r->buf + off + US_RING_HDR, msg, len);
    __atomic_store_n(&r->head, head + need, __ATOMIC_RELEASE);
    return 0;
}

/* Consumer: the next record copied into `out` (room for the largest
 * message); its length, or -1 when the ring is empty. */
static inline int64_t us_ring_pop(struct us_ring *r, uint32_t *edge, uint32_t *from, uint8_t *out)
{
    uint64_t tail = r->tail, head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    if (tail == head)
        return -1;
    uint64_t off = tail & (r->size - 1);
    uint32_t h[4];
    memcpy(h, r->buf + off, 4);
    if (h[0] == US_RING_SKIP) {
        tail += r->size - off;
        off = 0;
        if (tail == head) {
            __atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
            return -1;
        }
    }
    memcpy(h, r->buf + off, US_RING_HDR);
    *edge = h[1];
    *from = h[2];
    memcpy(out, r->buf + off + US_RING_HDR, h[0]);
    __atomic_store_n(&r->tail, tail + ((US_RING_HDR + h[0] + 7) & ~7ull), __ATOMIC_RELEASE);
    return h[0];
}

#endif
