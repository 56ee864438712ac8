/* SPDX-License-Identifier: MIT */
/* DTLS 1.2 handshake between two endpoints in memory, virtual clock,
 * loss; fingerprints, HelloVerifyRequest, use_srtp, exporter, key log. */
#include <criterion/criterion.h>
#include <string.h>

#include "dtls.h"

static struct dtls_cert cc, sc;
static bool certs;

static void make_certs(void)
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

static void setup(struct link *l, const uint8_t *client_sees_fp)
{
    make_certs();
    memset(l, 0, sizeof(*l));
    static const uint8_t id[] = "198.18.0.1:50000";
    struct dtls_config ccfg = {false, &cc, client_sees_fp ? client_sees_fp : sc.fingerprint, 11, NULL, 0, 0, 0};
    struct dtls_config scfg = {true, &sc, cc.fingerprint, 22, id, sizeof(id) - 1, 0, 0};
    cr_assert_eq(dtls_init(&l->c, &ccfg, 0), 0);
    cr_assert_eq(dtls_init(&l->s, &scfg, 0), 0);
    dtls_start(&l->s, 0);
    dtls_start(&l->c, 0);
}

static void run(struct link *l, uint64_t until)
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

static void done(struct link *l)
{
    dtls_free(&l->c);
    dtls_free(&l->s);
}

Test(dtls, handshake_with_cookie_srtp_and_matching_keys, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    run(&l, 60000000000ull);
    cr_assert(l.c_up && l.s_up, "client error %d, server error %d", l.c.last_error, l.s.last_error);
    cr_assert_eq(l.now, 0, "no retransmission without loss");
    cr_assert_eq(l.s.c.cookies_sent, 1, "the server asked for a cookie first");
    cr_assert_eq(l.c.srtp_profile, MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80);
    cr_assert_eq(l.s.srtp_profile, MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80);
    cr_assert_eq(memcmp(l.c.keying, l.s.keying, DTLS_KEYING_LEN), 0, "both ends export the same keys");
    uint8_t zero[DTLS_KEYING_LEN] = {0};
    cr_assert_neq(memcmp(l.c.keying, zero, DTLS_KEYING_LEN), 0);
    char a[200], b[200];
    cr_assert_eq(dtls_keylog_line(&l.c, a), 0);
    cr_assert_eq(dtls_keylog_line(&l.s, b), 0);
    cr_assert_str_eq(a, b);
    cr_assert_eq(strncmp(a, "CLIENT_RANDOM ", 14), 0);
    cr_assert_eq(strlen(a), 14 + 64 + 1 + 96 + 1);
    done(&l);
}

Test(dtls, lost_flights_are_retransmitted_on_the_given_clock, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    l.drop_mask = 0x15; /* the 1st, 3rd and 5th datagrams */
    run(&l, 60000000000ull);
    cr_assert(l.c_up && l.s_up, "client error %d, server error %d", l.c.last_error, l.s.last_error);
    cr_assert_gt(l.now, 0, "recovery took virtual time");
    cr_assert_gt(l.c.c.retransmit_timeouts + l.s.c.retransmit_timeouts, 0);
    cr_assert_eq(memcmp(l.c.keying, l.s.keying, DTLS_KEYING_LEN), 0);
    done(&l);
}

Test(dtls, a_wrong_fingerprint_fails_the_handshake, .timeout = 60)
{
    struct link l;
    uint8_t wrong[32];
    make_certs();
    memcpy(wrong, sc.fingerprint, 32);
    wrong[0] ^= 1;
    setup(&l, wrong);
    run(&l, 60000000000ull);
    cr_assert(l.c_failed, "the client accepted a certificate with another fingerprint");
    cr_assert(!l.c_up);
    cr_assert_eq(l.c.c.fingerprint_mismatches, 1);
    done(&l);
}

Test(dtls, fingerprint_text_as_sdp_writes_it)
{
    make_certs();
    char t[104];
    dtls_fingerprint_text(cc.fingerprint, t);
    cr_assert_eq(strncmp(t, "sha-256 ", 8), 0);
    cr_assert_eq(strlen(t), 8 + 32 * 3 - 1);
    cr_assert_eq(t[10], ':');
}
