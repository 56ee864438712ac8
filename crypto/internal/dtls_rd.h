/* SPDX-License-Identifier: MIT */
/*
 * dtls_rd: a bounds-checked reader of handshake message bodies, shared by
 * the 1.2 and 1.3 message files (dtls_msg.c, dtls13_msg.c). A read past
 * the end sets `bad` and yields zeros; callers check `bad` once at the end.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_RD_H
#define SWARMGEN_CRYPTO_DTLS_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct rd {
    const uint8_t *p;
    size_t n;
    bool bad;
};

static inline const uint8_t *take(struct rd *r, size_t k)
{
    if (r->bad || r->n < k) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += k;
    r->n -= k;
    return q;
}

static inline unsigned u8(struct rd *r)
{
    const uint8_t *q = take(r, 1);
    return q ? q[0] : 0;
}

static inline unsigned u16(struct rd *r)
{
    const uint8_t *q = take(r, 2);
    return q ? wire_get16(q) : 0;
}

static inline uint32_t u24(struct rd *r)
{
    const uint8_t *q = take(r, 3);
    return q ? wire_get24(q) : 0;
}

/* The next k bytes as a reader of their own. */
static inline struct rd sub(struct rd *r, size_t k)
{
    struct rd s = {take(r, k), k, false};
    if (!s.p)
        s.bad = true, s.n = 0;
    return s;
}

#endif
