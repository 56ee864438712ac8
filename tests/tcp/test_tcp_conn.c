/* SPDX-License-Identifier: MIT */
/* The TCP client engine on a virtual clock against a scripted server:
 * the handshake, loss and retransmission with back-off, RTT, the peer's
 * window, reordering, FIN both ways, RST both ways, bad segments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_conn.h"
#include "wire.h"

#define MS 1000000ull
#define CLI 0xc6120001u /* 198.18.0.1 */
#define SRV 0xc613fffeu /* 198.19.255.254 */
#define CPORT 40000
#define SPORT 3478
#define ISN 0xfffff000u /* wraps during the tests */
#define IRS 0x10000000u

static _Alignas(8) uint8_t mem[1 << 16];
static struct tcp_conn *c;
static uint64_t now;

struct seg {
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    const uint8_t *data;
    size_t len, opt_len;
    uint8_t buf[2048];
};

static void setup(void)
{
    struct tcp_config cfg = {.local_ip = CLI, .remote_ip = SRV, .local_port = CPORT, .remote_port = SPORT,
                             .isn = ISN, .sndbuf = 8192};
    c = tcp_init(mem, &cfg);
    cr_assert(c);
    now = 1000 * MS;
}

/* Our next segment, parsed; false when none. */
static bool out(struct seg *s)
{
    size_t n = tcp_poll_transmit(c, s->buf, sizeof(s->buf), now);
    if (!n)
        return false;
    cr_assert_eq(tcp_checksum(CLI, SRV, s->buf, n), 0, "our checksum verifies");
    cr_assert_eq(wire_get16(s->buf), CPORT);
    cr_assert_eq(wire_get16(s->buf + 2), SPORT);
    s->seq = wire_get32(s->buf + 4);
    s->ack = wire_get32(s->buf + 8);
    s->flags = s->buf[13];
    s->wnd = wire_get16(s->buf + 14);
    s->opt_len = (size_t)(s->buf[12] >> 4) * 4 - 20;
    s->data = s->buf + 20 + s->opt_len;
    s->len = n - 20 - s->opt_len;
    return true;
}

/* A segment from the server; returns the engine's verdict, the delivered bytes in *d and *dn. */
static enum engine_input in(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const void *data, size_t len,
                            const uint8_t **d, size_t *dn)
{
    static uint8_t b[2048];
    memset(b, 0, 20);
    wire_put16(b, SPORT);
    wire_put16(b + 2, CPORT);
    wire_put32(b + 4, seq);
    wire_put32(b + 8, ack);
    b[12] = 5 << 4;
    b[13] = flags;
    wire_put16(b + 14, wnd);
    size_t hl = 20;
    if (flags & 0x02) { /* SYN: MSS 1000 */
        b[12] = 6 << 4;
        b[20] = 2, b[21] = 4;
        wire_put16(b + 22, 1000);
        hl = 24;
    }
    if (len)
        memcpy(b + hl, data, len);
    wire_put16(b + 16, tcp_checksum(SRV, CLI, b, hl + len));
    const uint8_t *dd;
    size_t n;
    enum engine_input r = tcp_handle_input(c, b, hl + len, now, d ? d : &dd, dn ? dn : &n);
    return r;
}

static enum tcp_event_type ev(void)
{
    struct tcp_ev e;
    return tcp_poll_event(c, &e);
}

/* Connects: SYN, SYN-ACK (window wnd, MSS 1000), our ACK. */
static void connect_with(uint16_t wnd)
{
    struct seg s;
    cr_assert_eq(tcp_connect(c, now), 0);
    cr_assert(out(&s));
    cr_assert_eq(s.flags, 0x02, "a bare SYN");
    cr_assert_eq(s.seq, ISN);
    cr_assert_eq(s.opt_len, 4);
    cr_assert_eq(s.buf[20], 2, "the MSS option");
    cr_assert_eq(wire_get16(s.buf + 22), 1460);
    now += 10 * MS;
    cr_assert_eq(in(IRS, ISN + 1, 0x12, wnd, NULL, 0, NULL, NULL), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ev(), TCP_EV_CONNECTED);
    cr_assert_eq(tcp_state(c), TCP_ESTABLISHED);
    cr_assert(out(&s));
    cr_assert_eq(s.flags, 0x10);
    cr_assert_eq(s.ack, IRS + 1);
    cr_assert_eq(s.seq, ISN + 1);
    cr_assert_not(out(&s));
    cr_assert_eq(tcp_peer_mss(c), 1000);
    cr_assert_eq(tcp_srtt_ns(c), 10 * MS, "the SYN was timed");
}

TestSuite(tcp_conn, .init = setup);

Test(tcp_conn, handshake_and_syn_backoff)
{
    struct seg s;
    cr_assert_eq(tcp_connect(c, now), 0);
    cr_assert_eq(tcp_connect(c, now), -EISCONN);
    uint64_t t0 = now;
    cr_assert(out(&s));
    /* the SYN is lost three times: again after 1, 2, 4 s */
    uint64_t gap = 1000 * MS, at = t0;
    for (int k = 0; k < 3; k++) {
        at += gap;
        cr_assert_eq(tcp_next_timeout(c), at);
        now = at - 1;
        tcp_handle_timeout(c, now);
        cr_assert_not(out(&s));
        now = at;
        tcp_handle_timeout(c, now);
        cr_assert(out(&s));
        cr_assert_eq(s.flags, 0x02);
        cr_assert_eq(s.seq, ISN);
        gap *= 2;
    }
    cr_assert_eq(tcp_counters(c)->retransmits, 3);
    now += 5 * MS;
    cr_assert_eq(in(IRS, ISN + 1, 0x12, 65535, NULL, 0, NULL, NULL), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ev(), TCP_EV_CONNECTED);
    cr_assert_eq(tcp_counters(c)->rtt_samples, 0, "Karn: a retransmitted SYN is not timed");
    cr_assert_eq(tcp_next_timeout(c), now, "the ACK is due");
    cr_assert(out(&s));
    cr_assert_eq(tcp_next_timeout(c), UINT64_MAX);
}

Test(tcp_conn, syn_never_answered_fails)
{
    struct seg s;
    tcp_connect(c, now);
    cr_assert(out(&s));
    for (int k = 0; k < 8; k++) {
        now = tcp_next_timeout(c);
        tcp_handle_timeout(c, now);
        cr_assert(out(&s));
    }
    now = tcp_next_timeout(c);
    tcp_handle_timeout(c, now);
    cr_assert_eq(ev(), TCP_EV_FAILED);
    cr_assert_not(out(&s), "no RST before the peer answered");
    cr_assert_eq(tcp_send(c, (const uint8_t *)"x", 1, now), -ENOTCONN);
}

Test(tcp_conn, wrong_ack_in_syn_sent_gets_rst)
{
    struct seg s;
    tcp_connect(c, now);
    cr_assert(out(&s));
    cr_assert_eq(in(IRS, ISN + 7, 0x12, 65535, NULL, 0, NULL, NULL), ENGINE_IN_IGNORED);
    cr_assert(out(&s));
    cr_assert(s.flags & 0x04);
    cr_assert_eq(s.seq, ISN + 7);
    cr_assert_eq(tcp_state(c), TCP_SYN_SENT);
    /* a RST acknowledging our SYN refuses the connection */
    cr_assert_eq(in(0, ISN + 1, 0x14, 0, NULL, 0, NULL, NULL), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ev(), TCP_EV_RESET);
}

Test(tcp_conn, sends_within_peer_window)
{
    connect_with(3000);
    uint8_t data[5000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    cr_assert_eq(tcp_send(c, data, sizeof(data), now), 0);
    struct seg s;
    uint32_t seq = ISN + 1;
    for (int k = 0; k < 3; k++) {
        cr_assert(out(&s));
        cr_assert_eq(s.len, 1000, "cut to the peer's MSS");
        cr_assert_eq(s.seq, seq);
        cr_assert_eq(memcmp(s.data, data + (seq - ISN - 1), 1000), 0);
        seq += 1000;
    }
    cr_assert_not(out(&s), "the window (3000) is full");
    now += 20 * MS;
    in(IRS + 1, ISN + 1 + 2000, 0x10, 3000, NULL, 0, NULL, NULL);
    for (int k = 0; k < 2; k++) {
        cr_assert(out(&s));
        cr_assert_eq(s.seq, seq);
        cr_assert_eq(memcmp(s.data, data + (seq - ISN - 1), 1000), 0);
        seq += 1000;
    }
    cr_assert_not(out(&s));
    in(IRS + 1, ISN + 1 + 5000, 0x10, 3000, NULL, 0, NULL, NULL);
    cr_assert_eq(tcp_next_timeout(c), UINT64_MAX, "all acknowledged: no timer");
    cr_assert_eq(tcp_counters(c)->bytes_out, 5000);
    cr_assert_eq(tcp_send_space(c), 8192);
    /* the ring holds 8192: more is refused whole */
    cr_assert_eq(tcp_send(c, data, 5000, now), 0);
    cr_assert_eq(tcp_send(c, data, 5000, now), -EAGAIN);
}

Test(tcp_conn, zero_window_probe)
{
    connect_with(0);
    struct seg s;
    tcp_send(c, (const uint8_t *)"abcd", 4, now);
    cr_assert_not(out(&s), "a zero window");
    now = tcp_next_timeout(c);
    cr_assert_neq(now, UINT64_MAX, "the persist timer runs");
    tcp_handle_timeout(c, now);
    cr_assert(out(&s));
    cr_assert_eq(s.len, 1, "one byte probes");
    in(IRS + 1, ISN + 2, 0x10, 100, NULL, 0, NULL, NULL);
    cr_assert(out(&s));
    cr_assert_eq(s.len, 3);
    cr_assert_eq(memcmp(s.data, "bcd", 3), 0);
}

Test(tcp_conn, loss_rto_backoff_and_karn)
{
    connect_with(65535);
    struct seg s;
    /* a clean round trip of 50 ms: srtt 30 ms (10 then 50), rto the 200 ms floor */
    tcp_send(c, (const uint8_t *)"hello", 5, now);
    cr_assert(out(&s));
    now += 50 * MS;
    in(IRS + 1, ISN + 6, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert_eq(tcp_counters(c)->rtt_samples, 2);
    cr_assert_eq(tcp_srtt_ns(c), 15 * MS, "7/8 10 + 1/8 50");
    cr_assert_eq(tcp_rto_ns(c), 200 * MS, "the floor");
    /* lost: again after 200, then 400 ms */
    tcp_send(c, (const uint8_t *)"world", 5, now);
    uint64_t t0 = now;
    cr_assert(out(&s));
    cr_assert_eq(tcp_next_timeout(c), t0 + 200 * MS);
    now = t0 + 200 * MS;
    tcp_handle_timeout(c, now);
    cr_assert(out(&s));
    cr_assert_eq(s.seq, ISN + 6);
    cr_assert_eq(memcmp(s.data, "world", 5), 0);
    cr_assert_eq(tcp_next_timeout(c), now + 400 * MS);
    now += 400 * MS;
    tcp_handle_timeout(c, now);
    cr_assert(out(&s));
    cr_assert_eq(tcp_counters(c)->retransmits, 2);
    cr_assert_eq(tcp_counters(c)->retx_segments, 2);
    now += 5 * MS;
    in(IRS + 1, ISN + 11, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert_eq(tcp_counters(c)->rtt_samples, 2, "Karn: not timed");
    cr_assert_eq(tcp_next_timeout(c), UINT64_MAX);
    cr_assert_eq(tcp_counters(c)->bytes_out, 10, "retransmitted bytes are not counted twice");
}

Test(tcp_conn, lost_middle_segment_go_back)
{
    connect_with(65535);
    uint8_t data[3000];
    memset(data, 'a', 1000);
    memset(data + 1000, 'b', 1000);
    memset(data + 2000, 'c', 1000);
    tcp_send(c, data, 3000, now);
    struct seg s;
    for (int k = 0; k < 3; k++)
        cr_assert(out(&s));
    /* the second is lost: the server acknowledges the first only */
    in(IRS + 1, ISN + 1001, 0x10, 65535, NULL, 0, NULL, NULL);
    in(IRS + 1, ISN + 1001, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert_not(out(&s), "two duplicate ACKs: no fast retransmit yet");
    now = tcp_next_timeout(c);
    tcp_handle_timeout(c, now);
    cr_assert(out(&s));
    cr_assert_eq(s.seq, ISN + 1001);
    cr_assert_eq(s.data[0], 'b');
    cr_assert_not(out(&s), "the congestion window is one segment after a timeout");
    in(IRS + 1, ISN + 2001, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert(out(&s));
    cr_assert_eq(s.seq, ISN + 2001);
    cr_assert_eq(s.data[0], 'c');
}

Test(tcp_conn, reordered_segments_in_order_only)
{
    connect_with(65535);
    const uint8_t *d;
    size_t n;
    struct seg s;
    /* the second segment comes first: dropped, the expected seq ACKed */
    cr_assert_eq(in(IRS + 1 + 4, ISN + 1, 0x18, 65535, "5678", 4, &d, &n), ENGINE_IN_ACCEPTED);
    cr_assert_eq(n, 0);
    cr_assert(out(&s));
    cr_assert_eq(s.ack, IRS + 1);
    cr_assert_eq(tcp_counters(c)->out_of_order, 1);
    cr_assert_eq(in(IRS + 1, ISN + 1, 0x18, 65535, "1234", 4, &d, &n), ENGINE_IN_ACCEPTED);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(d, "1234", 4), 0);
    cr_assert(out(&s));
    cr_assert_eq(s.ack, IRS + 5);
    /* the peer retransmits both (overlapping): only the new part is handed out */
    cr_assert_eq(in(IRS + 1, ISN + 1, 0x18, 65535, "12345678", 8, &d, &n), ENGINE_IN_ACCEPTED);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(d, "5678", 4), 0);
    cr_assert_eq(in(IRS + 1, ISN + 1, 0x18, 65535, "1234", 4, &d, &n), ENGINE_IN_ACCEPTED);
    cr_assert_eq(n, 0);
    cr_assert_eq(tcp_counters(c)->duplicates, 1);
    cr_assert_eq(tcp_counters(c)->bytes_in, 8);
}

Test(tcp_conn, bad_segments_counted_and_dropped)
{
    connect_with(65535);
    uint8_t b[40];
    const uint8_t *d;
    size_t n;
    memset(b, 0, sizeof(b));
    cr_assert_eq(tcp_handle_input(c, b, 10, now, &d, &n), ENGINE_IN_MALFORMED);
    b[12] = 15 << 4; /* a data offset past the end */
    cr_assert_eq(tcp_handle_input(c, b, 40, now, &d, &n), ENGINE_IN_MALFORMED);
    cr_assert_eq(tcp_counters(c)->bad_segments, 2);
    /* a good segment with one bit flipped */
    wire_put16(b, SPORT);
    wire_put16(b + 2, CPORT);
    wire_put32(b + 4, IRS + 1);
    wire_put32(b + 8, ISN + 1);
    b[12] = 5 << 4;
    b[13] = 0x18;
    wire_put16(b + 14, 1000);
    memcpy(b + 20, "data", 4);
    wire_put16(b + 16, tcp_checksum(SRV, CLI, b, 24));
    b[21] ^= 1;
    cr_assert_eq(tcp_handle_input(c, b, 24, now, &d, &n), ENGINE_IN_MALFORMED);
    cr_assert_eq(tcp_counters(c)->bad_checksum, 1);
    b[21] ^= 1;
    wire_put16(b, 9999); /* another port, checksum fixed */
    wire_put16(b + 16, 0);
    wire_put16(b + 16, tcp_checksum(SRV, CLI, b, 24));
    cr_assert_eq(tcp_handle_input(c, b, 24, now, &d, &n), ENGINE_IN_IGNORED);
    cr_assert_eq(tcp_counters(c)->foreign, 1);
    cr_assert_eq(tcp_counters(c)->bytes_in, 0);
    /* acknowledging what was never sent: dropped, ACKed */
    struct seg s;
    cr_assert_eq(in(IRS + 1, ISN + 500, 0x10, 65535, NULL, 0, NULL, NULL), ENGINE_IN_ACCEPTED);
    cr_assert_eq(tcp_counters(c)->bad_acks, 1);
    cr_assert(out(&s));
    cr_assert_eq(tcp_state(c), TCP_ESTABLISHED);
}

Test(tcp_conn, we_close_first)
{
    connect_with(65535);
    struct seg s;
    tcp_send(c, (const uint8_t *)"bye", 3, now);
    tcp_close(c, now);
    cr_assert_eq(tcp_send(c, (const uint8_t *)"x", 1, now), -ENOTCONN);
    cr_assert(out(&s));
    cr_assert_eq(s.flags, 0x19, "the data and the FIN together");
    cr_assert_eq(tcp_state(c), TCP_FIN_WAIT_1);
    /* the FIN is lost: resent */
    now = tcp_next_timeout(c);
    tcp_handle_timeout(c, now);
    cr_assert(out(&s));
    cr_assert(s.flags & 0x01);
    in(IRS + 1, ISN + 5, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert_eq(tcp_state(c), TCP_FIN_WAIT_2);
    cr_assert_eq(in(IRS + 1, ISN + 5, 0x11, 65535, NULL, 0, NULL, NULL), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ev(), TCP_EV_PEER_FIN);
    cr_assert_eq(ev(), TCP_EV_CLOSED);
    cr_assert(out(&s));
    cr_assert_eq(s.flags, 0x10, "the last ACK");
    cr_assert_eq(s.ack, IRS + 2);
    cr_assert_not(out(&s));
    cr_assert_eq(tcp_next_timeout(c), UINT64_MAX);
}

Test(tcp_conn, peer_closes_first)
{
    connect_with(65535);
    struct seg s;
    const uint8_t *d;
    size_t n;
    cr_assert_eq(in(IRS + 1, ISN + 1, 0x19, 65535, "end", 3, &d, &n), ENGINE_IN_ACCEPTED);
    cr_assert_eq(n, 3);
    cr_assert_eq(ev(), TCP_EV_PEER_FIN);
    cr_assert_eq(tcp_state(c), TCP_CLOSE_WAIT);
    cr_assert(out(&s));
    cr_assert_eq(s.ack, IRS + 5, "the data and the FIN acknowledged");
    cr_assert_eq(tcp_send(c, (const uint8_t *)"ok", 2, now), 0, "we may still send");
    tcp_close(c, now);
    cr_assert(out(&s));
    cr_assert_eq(s.flags, 0x19);
    cr_assert_eq(tcp_state(c), TCP_LAST_ACK);
    in(IRS + 2, ISN + 4, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert_eq(ev(), TCP_EV_CLOSED);
    cr_assert_eq(tcp_state(c), TCP_CLOSED_STATE);
}

Test(tcp_conn, rst_exact_sequence_only)
{
    connect_with(65535);
    struct seg s;
    /* in the window but not exact: a challenge ACK (RFC 5961) */
    cr_assert_eq(in(IRS + 100, 0, 0x04, 0, NULL, 0, NULL, NULL), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ev(), TCP_EV_NONE);
    cr_assert(out(&s));
    cr_assert_eq(s.flags, 0x10);
    cr_assert_eq(tcp_counters(c)->challenge_acks, 1);
    cr_assert_eq(in(IRS + 1, 0, 0x04, 0, NULL, 0, NULL, NULL), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ev(), TCP_EV_RESET);
    cr_assert_eq(tcp_counters(c)->rst_in, 1);
    cr_assert_eq(tcp_state(c), TCP_CLOSED_STATE);
    cr_assert_eq(tcp_send(c, (const uint8_t *)"x", 1, now), -ENOTCONN);
    cr_assert_not(out(&s));
}

Test(tcp_conn, abort_sends_rst)
{
    connect_with(65535);
    struct seg s;
    tcp_send(c, (const uint8_t *)"abc", 3, now);
    cr_assert(out(&s));
    tcp_abort(c, now);
    cr_assert(out(&s));
    cr_assert_eq(s.flags, 0x14);
    cr_assert_eq(s.seq, ISN + 4);
    cr_assert_eq(tcp_counters(c)->rst_out, 1);
    cr_assert_eq(ev(), TCP_EV_NONE);
    cr_assert_eq(tcp_next_timeout(c), UINT64_MAX);
}

Test(tcp_conn, data_gives_up_after_max_retx)
{
    connect_with(65535);
    struct seg s;
    tcp_send(c, (const uint8_t *)"abc", 3, now);
    cr_assert(out(&s));
    int sends = 0;
    for (;;) {
        now = tcp_next_timeout(c);
        if (now == UINT64_MAX)
            break;
        tcp_handle_timeout(c, now);
        while (out(&s))
            sends++;
    }
    cr_assert_eq(tcp_counters(c)->retransmits, 8);
    cr_assert_eq(sends, 9, "eight retransmissions and a RST");
    cr_assert(s.flags & 0x04);
    cr_assert_eq(ev(), TCP_EV_FAILED);
}

Test(tcp_conn, init_refuses_bad_config)
{
    struct tcp_config cfg = {.sndbuf = 3000};
    cr_assert_null(tcp_init(mem, &cfg));
    cfg.sndbuf = 4096;
    cfg.mss = 10;
    cr_assert_null(tcp_init(mem, &cfg));
    cr_assert_eq(tcp_size(0), tcp_size(TCP_SNDBUF_DEFAULT));
}

Test(tcp_conn, a_segment_not_taken_is_due_at_once)
{
    /* a caller out of buffers does not poll: the deadline reminds it */
    cr_assert_eq(tcp_connect(c, now), 0);
    cr_assert_eq(tcp_next_timeout(c), now, "the SYN");
    struct seg s;
    cr_assert(out(&s));
    cr_assert_eq(tcp_next_timeout(c), now + 1000 * MS, "then the retransmission timer");
}

Test(tcp_conn, third_duplicate_ack_resends_at_once)
{
    connect_with(65535);
    uint8_t data[4000];
    memset(data, 'x', sizeof(data));
    data[0] = 'a';
    tcp_send(c, data, sizeof(data), now);
    struct seg s;
    for (int k = 0; k < 4; k++)
        cr_assert(out(&s));
    /* the first is lost: three duplicate ACKs of ISN + 1 */
    for (int k = 0; k < 2; k++) {
        in(IRS + 1, ISN + 1, 0x10, 65535, NULL, 0, NULL, NULL);
        cr_assert_not(out(&s));
    }
    in(IRS + 1, ISN + 1, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert_eq(tcp_next_timeout(c), now, "due at once, before the RTO");
    cr_assert(out(&s));
    cr_assert_eq(s.seq, ISN + 1);
    cr_assert_eq(s.len, 1000);
    cr_assert_eq(s.data[0], 'a');
    cr_assert_not(out(&s), "once");
    cr_assert_eq(tcp_counters(c)->fast_retransmits, 1);
    cr_assert_eq(tcp_counters(c)->retransmits, 0, "no timeout");
    in(IRS + 1, ISN + 4001, 0x10, 65535, NULL, 0, NULL, NULL);
    cr_assert_eq(tcp_next_timeout(c), UINT64_MAX);
}
