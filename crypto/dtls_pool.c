/* SPDX-License-Identifier: MIT */
/* The handshake slot pool: n endpoints of dtls_endpoint_size() bytes each,
 * a free list, a busy bitmap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dtls.h"

int dtls_hs_pool_init(struct dtls_hs_pool *p, uint32_t n)
{
    memset(p, 0, sizeof(*p));
    if (n == 0 || n > (1u << 24))
        return -EINVAL;
    p->stride = (dtls_endpoint_size() + 63) & ~(size_t)63;
    p->slots = aligned_alloc(64, p->stride * n);
    p->free_list = calloc(n, sizeof(*p->free_list));
    p->busy = calloc((n + 63) / 64, sizeof(*p->busy));
    if (!p->slots || !p->free_list || !p->busy) {
        dtls_hs_pool_destroy(p);
        return -ENOMEM;
    }
    memset(p->slots, 0, p->stride * n);
    for (uint32_t i = 0; i < n; i++)
        p->free_list[i] = n - 1 - i; /* slot 0 first */
    p->n = p->n_free = n;
    return 0;
}

int64_t dtls_hs_pool_acquire(struct dtls_hs_pool *p)
{
    if (p->n_free == 0) {
        p->refused++;
        return -EAGAIN;
    }
    uint32_t i = p->free_list[--p->n_free];
    p->busy[i / 64] |= 1ull << (i % 64);
    if (p->n - p->n_free > p->high_water)
        p->high_water = p->n - p->n_free;
    return i;
}

struct dtls_endpoint *dtls_hs_pool_slot(struct dtls_hs_pool *p, uint32_t i)
{
    return i < p->n ? (struct dtls_endpoint *)(p->slots + p->stride * i) : NULL;
}

int dtls_hs_pool_release(struct dtls_hs_pool *p, uint32_t i)
{
    if (i >= p->n || !(p->busy[i / 64] >> (i % 64) & 1)) {
        p->bad_releases++;
        return -EINVAL;
    }
    dtls_free(dtls_hs_pool_slot(p, i));
    p->busy[i / 64] &= ~(1ull << (i % 64));
    p->free_list[p->n_free++] = i;
    return 0;
}

uint32_t dtls_hs_pool_in_use(const struct dtls_hs_pool *p)
{
    return p->n - p->n_free;
}

void dtls_hs_pool_destroy(struct dtls_hs_pool *p)
{
    free(p->slots);
    free(p->free_list);
    free(p->busy);
    memset(p, 0, sizeof(*p));
}
