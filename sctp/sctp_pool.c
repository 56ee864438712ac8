/* SPDX-License-Identifier: MIT */
/* The buffer pool: fixed-size buffers addressed by 32-bit index, their
 * descriptions in one array and their bytes in another, a free list
 * threaded through the descriptions. */
#include <errno.h>

#include "sctp_internal.h"

/* At least 128: a buffer also holds an association's received-TSN map
 * (RX_WINDOW bits, sctp_rx.c). */
static uint16_t data_stride(uint16_t cap)
{
    return (uint16_t)(cap < RX_WINDOW / 8 ? RX_WINDOW / 8 : (cap + 63u) & ~63u);
}

static size_t meta_bytes(uint32_t n_bufs)
{
    return ((size_t)n_bufs * sizeof(struct sctp_buf) + 63) & ~(size_t)63;
}

size_t sctp_pool_size(uint32_t n_bufs, uint16_t buf_cap)
{
    return sizeof(struct sctp_pool) + meta_bytes(n_bufs) + (size_t)n_bufs * data_stride(buf_cap);
}

struct sctp_pool *sctp_pool_init(void *mem, uint32_t n_bufs, uint16_t buf_cap)
{
    if (!mem || n_bufs < 16 || n_bufs >= SCTP_NIL || buf_cap < 64 || buf_cap > 9000 ||
        ((uintptr_t)mem & 63))
        return NULL;
    struct sctp_pool *p = mem;
    p->n = n_bufs;
    p->cap = buf_cap;
    p->data_stride = data_stride(buf_cap);
    p->data_off = meta_bytes(n_bufs);
    for (uint32_t i = 0; i < n_bufs; i++)
        pbuf(p, i)->next = i + 1 < n_bufs ? i + 1 : SCTP_NIL;
    p->free_head = 0;
    p->free_count = n_bufs;
    return p;
}

uint32_t sctp_pool_free_count(const struct sctp_pool *p) { return p->free_count; }

uint32_t sctp_pool_get(struct sctp_pool *p)
{
    uint32_t i = p->free_head;
    if (i == SCTP_NIL)
        return SCTP_NIL;
    struct sctp_buf *b = pbuf(p, i);
    p->free_head = b->next;
    p->free_count--;
    b->next = SCTP_NIL;
    return i;
}

void sctp_pool_put(struct sctp_pool *p, uint32_t i)
{
    if (i == SCTP_NIL)
        return;
    pbuf(p, i)->next = p->free_head;
    p->free_head = i;
    p->free_count++;
}

void sctp_pool_put_list(struct sctp_pool *p, uint32_t head)
{
    while (head != SCTP_NIL) {
        uint32_t next = pbuf(p, head)->next;
        sctp_pool_put(p, head);
        head = next;
    }
}
