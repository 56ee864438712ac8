/* SPDX-License-Identifier: MIT */
/*
 * dtls_link: two DTLS endpoints joined in memory on a virtual clock that
 * jumps to the next deadline, with a shim that drops, duplicates and
 * reorders datagrams (seeded, reproducible) or drops chosen ones by
 * index. Each side is one of ours (struct dtls_endpoint + its record
 * layer) unless the test plugs a foreign peer in through `struct
 * link_peer`. Header-only, shared by the DTLS tests.
 */
#ifndef SWARMGEN_TESTS_DTLS_LINK_H
#define SWARMGEN_TESTS_DTLS_LINK_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"
#include "dtls.h"

#define LINK_DGRAM 2048
#define LINK_QUEUE 64

static struct cp link_cp;
static struct dtls_cert cc, sc; /* the client's and the server's certificates */
static bool link_ready;

static inline void link_init_crypto(void)
{
    if (link_ready)
        return;
    cr_assert_eq(cp_default_create(&link_cp), 0);
    cr_assert_eq(dtls_cert_generate(&cc, &link_cp), 0);
    cr_assert_eq(dtls_cert_generate(&sc, &link_cp), 0);
    link_ready = true;
}

/* A datagram in flight: delivered to side `to` at `at`. */
struct link_dgram {
    uint64_t at;
    int to;
    uint16_t len;
    uint8_t d[LINK_DGRAM];
};

/* A foreign peer on one side (mbedTLS, OpenSSL): the same entry points. */
struct link_peer {
    void *self;
    void (*input)(void *self, const uint8_t *d, size_t len, uint64_t now);
    size_t (*transmit)(void *self, uint8_t *buf, size_t cap, uint64_t now);
    uint64_t (*next_timeout)(void *self);
    void (*timeout)(void *self, uint64_t now);
    int (*state)(void *self); /* 0 going on, 1 up, -1 failed */
};

struct link {
    _Alignas(64) uint8_t mem[2][4096];
    struct dtls_endpoint *ep[2];   /* 0 client, 1 server; NULL where a peer stands */
    struct dtls_record rec[2];
    struct dtls_record_keys keys[2]; /* each side's key area; both use keys[0] when shared */
    struct dtls_record_counters rec_counters[2];
    struct link_peer *peer[2];
    uint64_t now;
    /* the shim */
    unsigned drop_mask;            /* bit k: drop the k-th datagram (k < 32) */
    unsigned loss_pct, dup_pct, reorder_pct;
    uint64_t delay_ns;             /* one-way delay; reordered datagrams take 3x */
    uint64_t rng;
    unsigned sent, dropped, duplicated, reordered;
    struct link_dgram q[LINK_QUEUE];
    int qn;
    bool up[2], failed[2];
    /* every datagram each side sent, for tests that look at the wire */
    void (*tap)(void *arg, int from, const uint8_t *d, size_t len);
    void *tap_arg;
};

static inline struct dtls_config link_config(struct link *l, int side)
{
    static const uint8_t id[] = "198.18.0.1:50000";
    static const uint8_t secret[DTLS_COOKIE_SECRET] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    struct dtls_config c = {
        .is_server = side == 1,
        .cp = &link_cp,
        .cert = side ? &sc : &cc,
        .peer_fingerprint = side ? cc.fingerprint : sc.fingerprint,
        .rec = &l->rec[side],
        .cookie_secret = side ? secret : NULL,
        .client_id = id,
        .client_id_len = sizeof(id) - 1,
        .srtp = DTLS_SRTP_AES128_CM_SHA1_80 | DTLS_SRTP_AES128_CM_SHA1_32,
    };
    return c;
}

/* Zeroes l and sets up our endpoints on the sides that have a config
 * (NULL: that side is a peer plugged in by the test afterwards). Each
 * side's record layer has a key area of its own, or, with share_keys,
 * both use one (as the two ends of a connection in one process do). */
static inline void link_setup_keys(struct link *l, const struct dtls_config *client,
                                   const struct dtls_config *server, bool share_keys)
{
    link_init_crypto();
    memset(l, 0, sizeof(*l));
    l->rng = 12345;
    const struct dtls_config *cfg[2] = {client, server};
    for (int s = 0; s < 2; s++)
        dtls_record_reset(&l->rec[s], &l->keys[share_keys ? 0 : s], &l->rec_counters[s], s == 0);
    for (int s = 1; s >= 0; s--) {
        if (!cfg[s])
            continue;
        struct dtls_config c = *cfg[s];
        c.rec = &l->rec[s];
        l->ep[s] = (struct dtls_endpoint *)l->mem[s];
        cr_assert_eq(dtls_init(l->ep[s], &c, 0), 0);
    }
}

static inline void link_setup(struct link *l, const struct dtls_config *client, const struct dtls_config *server)
{
    link_setup_keys(l, client, server, false);
}

/* Both sides ours with the default configuration. */
static inline void link_default(struct link *l)
{
    struct link tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    link_setup(l, &c, &s);
}

static inline uint32_t link_rand(struct link *l)
{
    uint64_t z = (l->rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static inline void link_enqueue(struct link *l, int to, const uint8_t *d, size_t len, uint64_t at)
{
    cr_assert_lt(l->qn, LINK_QUEUE, "link queue full");
    cr_assert_leq(len, LINK_DGRAM);
    struct link_dgram *g = &l->q[l->qn++];
    g->at = at;
    g->to = to;
    g->len = (uint16_t)len;
    memcpy(g->d, d, len);
}

/* A datagram leaves side `from`: through the shim onto the queue. */
static inline void link_send(struct link *l, int from, const uint8_t *d, size_t len)
{
    unsigned k = l->sent++;
    if (l->tap)
        l->tap(l->tap_arg, from, d, len);
    if ((k < 32 && (l->drop_mask >> k & 1)) || (l->loss_pct && link_rand(l) % 100 < l->loss_pct)) {
        l->dropped++;
        return;
    }
    uint64_t at = l->now + l->delay_ns;
    if (l->reorder_pct && link_rand(l) % 100 < l->reorder_pct) {
        at = l->now + 3 * l->delay_ns + 1000000;
        l->reordered++;
    }
    link_enqueue(l, 1 - from, d, len, at);
    if (l->dup_pct && link_rand(l) % 100 < l->dup_pct) {
        link_enqueue(l, 1 - from, d, len, at + 500000);
        l->duplicated++;
    }
}

static inline void link_deliver(struct link *l, int to, const uint8_t *d, size_t len)
{
    if (l->ep[to])
        dtls_handle_input(l->ep[to], d, len, l->now);
    else
        l->peer[to]->input(l->peer[to]->self, d, len, l->now);
}

static inline uint64_t link_side_timeout(struct link *l, int s)
{
    return l->ep[s] ? dtls_next_timeout(l->ep[s]) : l->peer[s]->next_timeout(l->peer[s]->self);
}

static inline void link_events(struct link *l)
{
    for (int s = 0; s < 2; s++) {
        if (l->ep[s]) {
            enum dtls_event_type e;
            while ((e = dtls_poll_event(l->ep[s], &(struct dtls_ev){0})) != DTLS_EV_NONE)
                l->up[s] |= e == DTLS_EV_CONNECTED, l->failed[s] |= e == DTLS_EV_FAILED;
        } else {
            int st = l->peer[s]->state(l->peer[s]->self);
            l->up[s] |= st > 0;
            l->failed[s] |= st < 0;
        }
    }
}

/* Runs until nothing moves before `until` (virtual ns). */
static inline void link_run(struct link *l, uint64_t until)
{
    uint8_t buf[LINK_DGRAM];
    for (int step = 0; step < 100000; step++) {
        bool moved = false;
        for (int s = 0; s < 2; s++) {
            size_t n;
            for (;;) {
                n = l->ep[s] ? dtls_poll_transmit(l->ep[s], buf, sizeof(buf), l->now)
                             : l->peer[s]->transmit(l->peer[s]->self, buf, sizeof(buf), l->now);
                if (n == 0)
                    break;
                moved = true;
                link_send(l, s, buf, n);
            }
        }
        link_events(l);
        /* deliver what is due, earliest first */
        int best = -1;
        for (int i = 0; i < l->qn; i++)
            if (l->q[i].at <= l->now && (best < 0 || l->q[i].at < l->q[best].at))
                best = i;
        if (best >= 0) {
            /* the earliest, and of those the first sent: in order unless
             * the shim reordered it */
            struct link_dgram g = l->q[best];
            memmove(&l->q[best], &l->q[best + 1], sizeof(l->q[0]) * (size_t)(l->qn - best - 1));
            l->qn--;
            link_deliver(l, g.to, g.d, g.len);
            continue;
        }
        if (moved)
            continue;
        uint64_t next = UINT64_MAX;
        for (int i = 0; i < l->qn; i++)
            next = l->q[i].at < next ? l->q[i].at : next;
        for (int s = 0; s < 2; s++) {
            uint64_t t = link_side_timeout(l, s);
            next = t < next ? t : next;
        }
        if (next == UINT64_MAX || next > until)
            return;
        if (next > l->now)
            l->now = next;
        for (int s = 0; s < 2; s++) {
            if (l->ep[s])
                dtls_handle_timeout(l->ep[s], l->now);
            else
                l->peer[s]->timeout(l->peer[s]->self, l->now);
        }
    }
    cr_assert_fail("no end in sight");
}

static inline void link_done(struct link *l)
{
    for (int s = 0; s < 2; s++) {
        if (l->ep[s])
            dtls_free(l->ep[s]);
        dtls_record_free(&l->rec[s]);
    }
}

#endif
