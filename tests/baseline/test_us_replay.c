/* SPDX-License-Identifier: MIT */
/*
 * The usrsctp baseline against replayed and stale DTLS records after the
 * handshake (issue 19, found by fuzz_usrsctp).
 *
 * Four connections come up in-process through the real code path
 * (us_harness.h: ICE, mbedTLS's DTLS, usrsctp, DCEP, no sockets). A tap
 * on the wire keeps what edge 0's client (agent a, the DTLS client) sent
 * its server: the ClientHello without cookie, the one with the cookie
 * from the HelloVerifyRequest, the flight with Finished, and later
 * application records. Each test replays some of it to the server once
 * the connection is up, then checks that
 *   - the connection stays up (both endpoints' mbedTLS contexts still in
 *     HANDSHAKE_OVER, nothing closed, nothing given up),
 *   - every replayed record is counted once under bad_record, and the
 *     server answered none of it (no HelloVerifyRequest, no alert),
 *   - DataChannel messages still go both ways: 5 each way, all 10
 *     delivered, none lost.
 * The cookie carries mbedTLS's wall-clock time (60 s lifetime): these
 * tests replay it well within that, as an attacker on the path could.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "us.h"
#include "us_harness.h"

#define LOG_MAX 64u

static struct us_harness h;

/* What edge 0's client sent its server (conn 0, to side 1). */
static struct us_h_dgram c2s[LOG_MAX];
static uint32_t n_c2s;
static int hello_plain = -1, hello_cookie = -1; /* index in c2s */
static int flight5_first = -1, flight5_end = -1;
static bool logging = true;
/* After set-up: hold the next application datagram client -> server. */
static bool hold_next_app;
static struct us_h_dgram held;
static bool have_held;
/* What the server sent its client after set-up. */
static uint32_t s2c_dtls_hs; /* datagrams starting with a handshake, CCS or alert record */

/* A DTLS record header (RFC 6347 §4.1): type, version, epoch, sequence, length. */
static unsigned rec_epoch(const uint8_t *r)
{
    return (unsigned)r[3] << 8 | r[4];
}

static size_t rec_len(const uint8_t *r)
{
    return 13u + ((size_t)r[11] << 8 | r[12]);
}

static uint32_t count_records(const uint8_t *d, size_t n)
{
    uint32_t k = 0;
    for (size_t off = 0; off + 13 <= n && off + rec_len(d + off) <= n; off += rec_len(d + off))
        k++;
    return k;
}

/* A ClientHello in epoch 0: -1 not one, else the length of its cookie. */
static int client_hello_cookie(const uint8_t *d, size_t n)
{
    if (n < 61 || d[0] != 22 || rec_epoch(d) != 0 || d[13] != 1)
        return -1;
    size_t sid = d[59]; /* 13 record + 12 handshake + 2 version + 32 random */
    if (60 + sid >= n)
        return -1;
    return d[60 + sid];
}

static bool tap(struct us_harness *hh, const struct us_h_dgram *g)
{
    (void)hh;
    if (g->conn != 0 || g->len < 13)
        return true;
    uint8_t t = g->data[0];
    if (g->side == 0) { /* server -> client */
        if (!logging && (t == 20 || t == 21 || t == 22))
            s2c_dtls_hs++;
        return true;
    }
    if (t < 20 || t > 63)
        return true;
    if (hold_next_app && t == 23) {
        held = *g;
        have_held = true;
        hold_next_app = false;
        return false; /* off the wire: the test delivers it */
    }
    if (n_c2s == LOG_MAX)
        return true;
    if (!logging && t != 23)
        return true;
    int cookie = client_hello_cookie(g->data, g->len);
    if (cookie == 0 && hello_plain < 0)
        hello_plain = (int)n_c2s;
    if (cookie > 0 && hello_cookie < 0)
        hello_cookie = (int)n_c2s;
    if (cookie < 0 && hello_cookie >= 0 && (t == 20 || t == 22) && flight5_end < 0) {
        if (flight5_first < 0)
            flight5_first = (int)n_c2s;
    } else if (flight5_first >= 0 && flight5_end < 0) {
        flight5_end = (int)n_c2s;
    }
    c2s[n_c2s++] = *g;
    return true;
}

static const struct ri_counters *live(void)
{
    return &h.wk->m->live;
}

static struct us_conn *conn0(void)
{
    return &h.wk->conns[0];
}

/* Sends a message from edge 0's client and takes the datagram that carries
 * it off the wire (into `held`). */
static void hold_message(uint32_t seq)
{
    hold_next_app = true;
    have_held = false;
    us_h_send_msg(&h, conn0(), 0, seq);
    for (int k = 0; k < 50 && !have_held; k++)
        us_h_step(&h);
    cr_assert(have_held, "the message's datagram never left");
}

static void setup(void)
{
    h.tap = tap;
    cr_assert_eq(us_h_start(&h, NULL), 0);
    /* a message each way: the connection has carried data before the replay */
    us_h_send_msg(&h, conn0(), 0, 100);
    us_h_send_msg(&h, conn0(), 1, 100);
    us_h_run_for(&h, 300 * US_H_MS);
    logging = false;
    cr_assert(hello_plain >= 0, "no ClientHello without cookie seen");
    cr_assert(hello_cookie > hello_plain, "no ClientHello with cookie seen");
    cr_assert(flight5_first > hello_cookie && flight5_end > flight5_first,
              "no Finished flight seen (%d..%d)", flight5_first, flight5_end);
    cr_assert_eq(live()->conn_established, US_H_AGENTS);
}

TestSuite(us_replay, .init = setup);

/* Hands d to the server of edge 0 as if it came from its client. */
static void replay(const struct us_h_dgram *g)
{
    us_h_send_raw(&h, &conn0()->ep[0], g->data, g->len);
    us_h_deliver(&h);
}

/* The connection is up and carries messages both ways; `bad` records were
 * counted since `bad0`, and the server answered none of them. */
static void still_carries(uint64_t bad0, uint64_t bad)
{
    const struct ri_counters *m = live();
    us_h_run_for(&h, 100 * US_H_MS);
    cr_assert_eq(conn0()->state, US_CONN_UP, "the connection went down (state %u, closed %llu)",
                 conn0()->state, (unsigned long long)m->conn_closed);
    cr_assert_eq(m->conn_closed, 0);
    cr_assert_eq(m->conn_given_up, 0);
    for (int s = 0; s < 2; s++)
        cr_assert_eq(conn0()->ep[s].ssl.state, MBEDTLS_SSL_HANDSHAKE_OVER,
                     "endpoint %d's DTLS state %d", s, conn0()->ep[s].ssl.state);
    cr_assert_eq(s2c_dtls_hs, 0, "the server answered the replay (%u datagrams)", s2c_dtls_hs);
    cr_assert_eq(m->drops[RI_DROP_BAD_RECORD] - bad0, bad, "bad_record %llu, expected %llu",
                 (unsigned long long)(m->drops[RI_DROP_BAD_RECORD] - bad0),
                 (unsigned long long)bad);
    uint64_t delivered0 = m->msgs_delivered, lost0 = m->msgs_dropped;
    for (uint32_t k = 0; k < 5; k++) {
        us_h_send_msg(&h, conn0(), 0, 200 + k);
        us_h_send_msg(&h, conn0(), 1, 200 + k);
    }
    us_h_run_for(&h, 300 * US_H_MS);
    cr_assert_eq(m->msgs_delivered - delivered0, 10, "delivered %llu of 10",
                 (unsigned long long)(m->msgs_delivered - delivered0));
    cr_assert_eq(m->msgs_dropped, lost0);
    cr_assert_eq(m->drops[RI_DROP_BAD_RECORD] - bad0, bad, "bad_record moved after the replay");
    cr_assert_eq(conn0()->state, US_CONN_UP);
    cr_assert_eq(h.wire_lost, 0);
}

/* RFC 6347 §4.2.8: a ClientHello with a valid cookie on an established
 * 5-tuple must not end the association before a new handshake completes;
 * mbedTLS resets the context (MBEDTLS_ERR_SSL_CLIENT_RECONNECT). */
Test(us_replay, client_hello_with_cookie_keeps_the_connection)
{
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD];
    replay(&c2s[hello_cookie]);
    still_carries(bad0, count_records(c2s[hello_cookie].data, c2s[hello_cookie].len));
}

/* mbedTLS would answer it with a HelloVerifyRequest. */
Test(us_replay, client_hello_without_cookie_is_dropped_and_counted)
{
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD];
    replay(&c2s[hello_plain]);
    still_carries(bad0, count_records(c2s[hello_plain].data, c2s[hello_plain].len));
}

/* Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec in
 * epoch 0, Finished in epoch 1 with a sequence number already seen. */
Test(us_replay, finished_flight_is_dropped_and_counted)
{
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD];
    uint32_t recs = 0;
    for (int i = flight5_first; i < flight5_end; i++) {
        replay(&c2s[i]);
        recs += count_records(c2s[i].data, c2s[i].len);
    }
    cr_assert_geq(recs, 2);
    still_carries(bad0, recs);
}

/* Every handshake datagram the client sent, in order, twice. */
Test(us_replay, whole_handshake_twice_is_dropped_and_counted)
{
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD];
    uint32_t recs = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < flight5_end; i++) {
            replay(&c2s[i]);
            recs += count_records(c2s[i].data, c2s[i].len);
        }
    still_carries(bad0, recs);
}

/* An application record already received (mbedTLS's replay window). */
Test(us_replay, application_record_is_dropped_and_counted)
{
    int app = -1;
    for (int i = (int)n_c2s - 1; i >= 0 && app < 0; i--)
        if (c2s[i].data[0] == 23 && count_records(c2s[i].data, c2s[i].len) == 1)
            app = i;
    cr_assert(app >= 0, "no application record seen");
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD];
    replay(&c2s[app]);
    still_carries(bad0, 1);
}

/* An application record whose tag does not verify. */
Test(us_replay, forged_application_record_is_dropped_and_counted)
{
    hold_message(300);
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD], delivered0 = live()->msgs_delivered;
    struct us_h_dgram forged = held;
    forged.data[forged.len - 1] ^= 0x80; /* the GCM tag */
    replay(&forged);
    cr_assert_eq(live()->msgs_delivered, delivered0);
    cr_assert_eq(live()->drops[RI_DROP_BAD_RECORD] - bad0, 1);
    replay(&held); /* the genuine one still goes through */
    cr_assert_eq(live()->msgs_delivered - delivered0, 1);
    still_carries(bad0, 1);
}

/* One datagram: a fresh application record carrying a message, then the
 * replayed ClientHello. The record is read, the ClientHello alone dropped. */
Test(us_replay, client_hello_packed_behind_a_record_drops_only_itself)
{
    hold_message(400);
    const struct us_h_dgram *hello = &c2s[hello_cookie];
    struct us_h_dgram both = held;
    cr_assert_leq(held.len + hello->len, sizeof(both.data));
    memcpy(both.data + held.len, hello->data, hello->len);
    both.len = (uint16_t)(held.len + hello->len);
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD], delivered0 = live()->msgs_delivered;
    replay(&both);
    cr_assert_eq(live()->msgs_delivered - delivered0, 1,
                 "the message before the ClientHello was not read");
    still_carries(bad0, count_records(hello->data, hello->len));
}

/* A record whose length runs past the datagram's end. */
Test(us_replay, truncated_record_is_dropped_and_counted)
{
    hold_message(500);
    uint64_t bad0 = live()->drops[RI_DROP_BAD_RECORD], delivered0 = live()->msgs_delivered;
    struct us_h_dgram cut = held;
    cut.len = (uint16_t)(held.len - 1);
    replay(&cut);
    cr_assert_eq(live()->drops[RI_DROP_BAD_RECORD] - bad0, 1);
    replay(&held);
    cr_assert_eq(live()->msgs_delivered - delivered0, 1);
    still_carries(bad0, 1);
}

/* Loss, not replay: the server's last flight (ChangeCipherSpec, Finished)
 * to edge 0's client is lost once. The client sends its flight again with
 * new sequence numbers; the server, done already, drops its epoch-0
 * records (counted: bad_record) and lets the Finished (epoch 1, not seen
 * before) through to mbedTLS, which sends its last flight again: the
 * connection comes up. */
static bool lose_flight6 = true;
static uint32_t flight6_seen; /* the server's datagrams starting with ChangeCipherSpec */
static uint32_t late_epoch0;  /* the client's epoch-0 records after the loss */

static bool loss_tap(struct us_harness *hh, const struct us_h_dgram *g)
{
    (void)hh;
    if (g->conn != 0 || g->len < 13)
        return true;
    if (g->side == 0 && g->data[0] == 20) {
        flight6_seen++;
        if (lose_flight6) {
            lose_flight6 = false;
            return false;
        }
        return true;
    }
    if (g->side == 1 && flight6_seen && (g->data[0] == 20 || g->data[0] == 22))
        for (size_t off = 0; off + 13 <= g->len && off + rec_len(g->data + off) <= g->len;
             off += rec_len(g->data + off))
            late_epoch0 += rec_epoch(g->data + off) == 0;
    return true;
}

Test(us_replay_loss, lost_last_flight_is_sent_again)
{
    h.tap = loss_tap;
    cr_assert_eq(us_h_start(&h, NULL), 0, "the connections did not come up");
    cr_assert_eq(flight6_seen, 2, "the server sent its last flight %u times", flight6_seen);
    cr_assert_geq(late_epoch0, 1);
    const struct ri_counters *m = &h.wk->m->live;
    cr_assert_eq(m->drops[RI_DROP_BAD_RECORD], late_epoch0,
                 "bad_record %llu, the client's late epoch-0 records %u",
                 (unsigned long long)m->drops[RI_DROP_BAD_RECORD], late_epoch0);
    cr_assert_eq(m->conn_established, US_H_AGENTS);
    cr_assert_eq(m->conn_attempts, US_H_AGENTS, "a connection needed a second attempt");
    cr_assert_eq(h.wk->conns[0].attempts, 1);
    cr_assert_eq(m->conn_closed, 0);
    cr_assert_eq(m->conn_given_up, 0);
    cr_log_info("last flight sent %u times, %u late epoch-0 records, bad_record %llu", flight6_seen,
                late_epoch0, (unsigned long long)m->drops[RI_DROP_BAD_RECORD]);
}
