/* SPDX-License-Identifier: MIT */
/*
 * dtls_hello: what a side's hellos said, read off the wire (a link tap,
 * dtls_link.h): for each epoch-0 ClientHello and ServerHello that came
 * whole in one fragment, whether the ClientHello's supported_versions
 * offered DTLS 1.3 (0xfefc) and 1.2 (0xfefd), the groups of its
 * key_share, and the ServerHello's legacy version, whether it carried
 * supported_versions, and the last 8 bytes of its random (RFC 8446
 * §4.1.3's downgrade sentinel). An independent reading of our bytes for
 * the version-fallback tests against mbedTLS and OpenSSL. Header-only.
 */
#ifndef SWARMGEN_TESTS_DTLS_HELLO_H
#define SWARMGEN_TESTS_DTLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hello_seen {
    int side;                          /* the sender looked at (link side) */
    unsigned client_hellos;            /* ClientHellos sent by side */
    unsigned ch_offer_13, ch_offer_12; /* of them, supported_versions naming 0xfefc / 0xfefd */
    unsigned ch_key_share;             /* of them, with a key_share of at least one entry */
    uint16_t ch_key_share_group;       /* the first key_share entry's group, the last ClientHello */
    unsigned server_hellos;            /* ServerHellos sent by side */
    uint16_t sh_version;               /* the last ServerHello's legacy version */
    bool sh_supported_versions;        /* it carried supported_versions (a 1.3 ServerHello) */
    uint8_t sh_random_tail[8];         /* the last 8 bytes of its random */
    unsigned records_12;               /* records with a DTLSPlaintext header of version 0xfefd */
    unsigned records_unified;          /* records with the 1.3 unified header (0x20..0x3f) */
};

static inline uint16_t hello_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Extensions [p, end): the body of type `type` into *body / *len; false
 * when absent or malformed. */
static inline bool hello_ext(const uint8_t *p, const uint8_t *end, uint16_t type,
                             const uint8_t **body, size_t *len)
{
    while (end - p >= 4) {
        uint16_t t = hello_get16(p), l = hello_get16(p + 2);
        if (end - p - 4 < l)
            return false;
        if (t == type) {
            *body = p + 4;
            *len = l;
            return true;
        }
        p += 4 + l;
    }
    return false;
}

static inline void hello_client(struct hello_seen *h, const uint8_t *b, size_t n)
{
    h->client_hellos++;
    const uint8_t *p = b, *end = b + n;
    if (n < 35)
        return;
    p += 34;       /* version, random */
    p += 1 + p[0]; /* session id */
    if (end - p < 1)
        return;
    p += 1 + p[0]; /* cookie */
    if (end - p < 2)
        return;
    p += 2 + hello_get16(p); /* suites */
    if (end - p < 1)
        return;
    p += 1 + p[0]; /* compression */
    if (end - p < 2 || end - p - 2 < hello_get16(p))
        return;
    end = p + 2 + hello_get16(p);
    p += 2;
    const uint8_t *e;
    size_t el;
    if (hello_ext(p, end, 43, &e, &el) && el >= 1 && e[0] + 1u <= el)
        for (size_t i = 1; i + 1 < 1u + e[0]; i += 2) {
            h->ch_offer_13 += hello_get16(e + i) == 0xfefc;
            h->ch_offer_12 += hello_get16(e + i) == 0xfefd;
        }
    if (hello_ext(p, end, 51, &e, &el) && el >= 6) {
        h->ch_key_share++;
        h->ch_key_share_group = hello_get16(e + 2);
    }
}

static inline void hello_server(struct hello_seen *h, const uint8_t *b, size_t n)
{
    h->server_hellos++;
    if (n < 35)
        return;
    h->sh_version = hello_get16(b);
    memcpy(h->sh_random_tail, b + 2 + 24, 8);
    const uint8_t *p = b + 34, *end = b + n;
    p += 1 + p[0]; /* session id */
    p += 3;        /* suite, compression */
    if (end - p < 2 || end - p - 2 < hello_get16(p))
        return;
    const uint8_t *e;
    size_t el;
    h->sh_supported_versions = hello_ext(p + 2, p + 2 + hello_get16(p), 43, &e, &el);
}

/* A link tap (dtls_link.h): arg is a struct hello_seen. */
static inline void hello_tap(void *arg, int from, const uint8_t *d, size_t len)
{
    struct hello_seen *h = arg;
    if (from != h->side)
        return;
    for (size_t off = 0; off < len;) {
        const uint8_t *r = d + off;
        if ((r[0] & 0xe0) == 0x20) { /* unified header: its length follows when the L bit is set */
            h->records_unified++;
            size_t hl = 1 + (r[0] & 0x08 ? 2 : 1);
            if (!(r[0] & 0x04) || len - off < hl + 2)
                return;
            off += hl + 2 + hello_get16(r + hl);
            continue;
        }
        if (len - off < 13)
            return;
        size_t rl = hello_get16(r + 11);
        if (len - off - 13 < rl)
            return;
        h->records_12 += hello_get16(r + 1) == 0xfefd;
        unsigned epoch = hello_get16(r + 3);
        /* a handshake message whole in this record's first fragment */
        if (r[0] == 22 && epoch == 0 && rl >= 12) {
            const uint8_t *m = r + 13;
            uint32_t mlen = (uint32_t)m[1] << 16 | m[2] << 8 | m[3];
            uint32_t foff = (uint32_t)m[6] << 16 | m[7] << 8 | m[8];
            uint32_t flen = (uint32_t)m[9] << 16 | m[10] << 8 | m[11];
            if (foff == 0 && flen == mlen && 12 + flen <= rl) {
                if (m[0] == 1)
                    hello_client(h, m + 12, flen);
                else if (m[0] == 2)
                    hello_server(h, m + 12, flen);
            }
        }
        off += 13 + rl;
    }
}

#endif
