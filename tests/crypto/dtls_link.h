/* SPDX-License-Identifier: MIT */
/*
 * dtls_link: two of our DTLS endpoints joined in memory on a virtual clock
 * that jumps to the next retransmission deadline, with a mask of datagrams
 * to drop. Header-only, shared by the DTLS tests.
 */
#ifndef SWARMGEN_TESTS_DTLS_LINK_H
#define SWARMGEN_TESTS_DTLS_LINK_H

#include <criterion/criterion.h>
#include <string.h>

#include "dtls.h"

static struct dtls_cert cc, sc;
static bool certs;

static inline void make_certs(void)
{
    if (certs)
        return;
    cr_assert_eq(dtls_cert_generate(&cc, 1), 0);
    cr_assert_eq(dtls_cert_generate(&sc, 2), 0);
    certs = true;
}

struct link {
    struct dtls_endpoint c, s;
    uint64_t now;
    unsigned drop_mask; /* bit k: drop the k-th datagram */
    unsigned sent;
    bool c_up, s_up, c_failed, s_failed;
};

static inline void setup_suites(struct link *l, const uint8_t *client_sees_fp, uint8_t suites)
{
    make_certs();
    memset(l, 0, sizeof(*l));
    static const uint8_t id[] = "198.18.0.1:50000";
    struct dtls_config ccfg = {false, &cc, client_sees_fp ? client_sees_fp : sc.fingerprint, 11, NULL, 0, 0, 0, suites};
    struct dtls_config scfg = {true, &sc, cc.fingerprint, 22, id, sizeof(id) - 1, 0, 0, suites};
    cr_assert_eq(dtls_init(&l->c, &ccfg, 0), 0);
    cr_assert_eq(dtls_init(&l->s, &scfg, 0), 0);
    dtls_start(&l->s, 0);
    dtls_start(&l->c, 0);
}

static inline void setup(struct link *l, const uint8_t *client_sees_fp)
{
    setup_suites(l, client_sees_fp, 0);
}

static inline void run(struct link *l, uint64_t until)
{
    uint8_t buf[DTLS_MTU];
    for (int step = 0; step < 5000; step++) {
        bool moved = false;
        int n;
        while ((n = dtls_poll_transmit(&l->c, buf, sizeof(buf))) > 0) {
            moved = true;
            if (!(l->drop_mask & (1u << (l->sent++ & 31))))
                dtls_handle_input(&l->s, buf, (size_t)n, l->now);
        }
        while ((n = dtls_poll_transmit(&l->s, buf, sizeof(buf))) > 0) {
            moved = true;
            if (!(l->drop_mask & (1u << (l->sent++ & 31))))
                dtls_handle_input(&l->c, buf, (size_t)n, l->now);
        }
        enum dtls_event e;
        while ((e = dtls_poll_event(&l->c)) != DTLS_EV_NONE)
            l->c_up |= e == DTLS_EV_CONNECTED, l->c_failed |= e == DTLS_EV_FAILED;
        while ((e = dtls_poll_event(&l->s)) != DTLS_EV_NONE)
            l->s_up |= e == DTLS_EV_CONNECTED, l->s_failed |= e == DTLS_EV_FAILED;
        if (moved)
            continue;
        uint64_t a = dtls_next_timeout(&l->c), b = dtls_next_timeout(&l->s);
        uint64_t next = a < b ? a : b;
        if (next == UINT64_MAX || next > until)
            return;
        if (next > l->now)
            l->now = next;
        dtls_handle_timeout(&l->c, l->now);
        dtls_handle_timeout(&l->s, l->now);
    }
    cr_assert_fail("no progress");
}

static inline void done(struct link *l)
{
    dtls_free(&l->c);
    dtls_free(&l->s);
}

#endif
