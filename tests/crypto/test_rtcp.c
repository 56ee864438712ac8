/* SPDX-License-Identifier: MIT */
/* RTCP: sequence tracking across wraps, loss and fraction lost for known
 * drop patterns, jitter against the A.8 formula computed here on doubles,
 * duplicates and reordering, SR -> RR round trips on a virtual clock,
 * malformed compounds refused, and Wireshark decoding what we build. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtcp.h"

#define MS     1000000ull
#define SSRC_A 0xa1a2a3a4u
#define SSRC_B 0xb1b2b3b4u

/* ---- sequence numbers (A.1) ---- */

Test(rtcp, sequence_wraps_count_cycles)
{
    struct rtcp_source s;
    rtcp_source_init(&s, SSRC_B, 48000);
    cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, 65530, 0, 0), RTCP_SEQ_PROBATION);
    for (uint16_t seq = 65531; seq != 10; seq++)
        cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, seq, 0, 0), RTCP_SEQ_COUNTED, "seq %u", seq);
    cr_assert_eq(s.cycles, 65536u, "one wrap counted");
    cr_assert_eq(rtcp_source_ext_max(&s), 65536u + 9);
    /* probation's first packet is not counted (A.1: base_seq is the second) */
    cr_assert_eq(rtcp_source_expected(&s), 15u);
    cr_assert_eq(s.received, 15u);
    cr_assert_eq(rtcp_source_lost(&s), 0);
    /* three more full cycles */
    uint16_t seq = 10;
    for (int i = 0; i < 3 * 65536; i++, seq++)
        rtcp_source_on_rtp(&s, SSRC_B, seq, 0, 0);
    cr_assert_eq(s.cycles, 4u * 65536);
    cr_assert_eq(rtcp_source_ext_max(&s), 4u * 65536 + 9);
    cr_assert_eq(rtcp_source_lost(&s), 0);
}

Test(rtcp, probation_needs_two_in_sequence)
{
    struct rtcp_source s;
    rtcp_source_init(&s, 0, 90000);
    cr_assert_eq(rtcp_source_on_rtp(&s, 77, 100, 0, 0), RTCP_SEQ_PROBATION);
    cr_assert_eq(s.ssrc, 77u, "bound to the first packet's SSRC");
    cr_assert_eq(rtcp_source_on_rtp(&s, 77, 300, 0, 0), RTCP_SEQ_PROBATION,
                 "out of sequence restarts");
    cr_assert_eq(rtcp_source_on_rtp(&s, 78, 301, 0, 0), RTCP_SEQ_FOREIGN);
    struct rtcp_report_block rb;
    cr_assert_eq(rtcp_source_report(&s, 0, &rb), -ENODATA, "no report before validation");
    cr_assert_eq(rtcp_source_on_rtp(&s, 77, 301, 0, 0), RTCP_SEQ_COUNTED);
    cr_assert(s.valid);
    cr_assert_eq(s.base_seq, 301u);
    /* probation across the wrap: 65535 then 0 is in sequence */
    rtcp_source_init(&s, 9, 90000);
    cr_assert_eq(rtcp_source_on_rtp(&s, 9, 65535, 0, 0), RTCP_SEQ_PROBATION);
    cr_assert_eq(rtcp_source_on_rtp(&s, 9, 0, 0, 0), RTCP_SEQ_COUNTED);
    cr_assert_eq(s.base_seq, 0u);
}

/* ---- loss (A.3) ---- */

Test(rtcp, every_tenth_dropped_gives_a_hundred_lost)
{
    struct rtcp_source s;
    rtcp_source_init(&s, SSRC_B, 48000);
    for (int i = 0; i < 1000; i++)
        if (i % 10 != 5) /* 5, 15, ..., 995: 100 drops, all inside the counted range */
            rtcp_source_on_rtp(&s, SSRC_B, (uint16_t)(40000 + i), (uint32_t)i * 960,
                               (uint64_t)i * 20 * MS);
    cr_assert_eq(rtcp_source_expected(&s), 999u, "base is the second packet");
    cr_assert_eq(rtcp_source_lost(&s), 100);
    struct rtcp_report_block rb;
    cr_assert_eq(rtcp_source_report(&s, 20000 * MS, &rb), 0);
    cr_assert_eq(rb.ssrc, SSRC_B);
    cr_assert_eq(rb.lost, 100);
    cr_assert_eq(rb.fraction, (100 << 8) / 999, "fraction %u", rb.fraction); /* 25 */
    cr_assert_eq(rb.ext_max_seq, 40999u);
    cr_assert_eq(rb.lsr, 0u);
    cr_assert_eq(rb.dlsr, 0u);
    /* next interval: 200 sent, every other one of the last 100 lost */
    for (int i = 1000; i < 1200; i++)
        if (i < 1100 || i % 2 == 0)
            rtcp_source_on_rtp(&s, SSRC_B, (uint16_t)(40000 + i), 0, 0);
    cr_assert_eq(rtcp_source_report(&s, 0, &rb), 0);
    cr_assert_eq(rb.lost, 100 + 49, "1199 is lost but beyond the highest received");
    cr_assert_eq(rb.fraction, (49 << 8) / 199);
    /* 1200..1299 all arrive: the interval expects 1199..1299, 1199 is lost */
    for (int i = 1200; i < 1300; i++)
        rtcp_source_on_rtp(&s, SSRC_B, (uint16_t)(40000 + i), 0, 0);
    cr_assert_eq(rtcp_source_report(&s, 0, &rb), 0);
    cr_assert_eq(rb.fraction, (1 << 8) / 101);
    cr_assert_eq(rb.lost, 150, "1199 now counted as lost");
    /* an interval without loss reports 0, the cumulative count stays */
    for (int i = 1300; i < 1400; i++)
        rtcp_source_on_rtp(&s, SSRC_B, (uint16_t)(40000 + i), 0, 0);
    cr_assert_eq(rtcp_source_report(&s, 0, &rb), 0);
    cr_assert_eq(rb.fraction, 0);
    cr_assert_eq(rb.lost, 150);
}

Test(rtcp, duplicates_make_loss_negative_and_reordering_is_no_loss)
{
    struct rtcp_source s;
    rtcp_source_init(&s, SSRC_B, 8000);
    /* around the wrap, with 0 and 1 swapped */
    const uint16_t seqs[] = {65533, 65534, 65535, 1, 0, 2, 3, 5, 4, 6};
    for (unsigned i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
        cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, seqs[i], 0, 0),
                     i ? RTCP_SEQ_COUNTED : RTCP_SEQ_PROBATION);
    cr_assert_eq(s.cycles, 65536u, "the late 0 does not count a second wrap");
    cr_assert_eq(rtcp_source_ext_max(&s), 65536u + 6);
    cr_assert_eq(rtcp_source_lost(&s), 0, "reordered, nothing lost");
    struct rtcp_report_block rb;
    rtcp_source_report(&s, 0, &rb);
    cr_assert_eq(rb.fraction, 0);
    /* five duplicates */
    for (int i = 0; i < 5; i++)
        cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, 3, 0, 0), RTCP_SEQ_COUNTED);
    cr_assert_eq(rtcp_source_lost(&s), -5, "A.3: duplicates are counted, loss goes negative");
    rtcp_source_report(&s, 0, &rb);
    cr_assert_eq(rb.lost, -5);
    cr_assert_eq(rb.fraction, 0, "negative interval loss reports 0");
    /* the report block writes -5 as 24-bit two's complement and reads it back */
    struct rtcp_msg m = {.ssrc = SSRC_A, .n_blocks = 1, .blocks = {rb}};
    uint8_t buf[64];
    cr_assert_eq(rtcp_write(buf, sizeof(buf), &m), 32);
    cr_assert_eq(buf[8 + 5], 0xff);
    cr_assert_eq(buf[8 + 7], 0xfb);
    struct rtcp_msg p;
    cr_assert_eq(rtcp_parse(buf, 32, &p), 0);
    cr_assert_eq(p.blocks[0].lost, -5);
}

Test(rtcp, a_large_jump_needs_two_packets_to_resync)
{
    struct rtcp_source s;
    rtcp_source_init(&s, SSRC_B, 8000);
    for (uint16_t q = 0; q < 10; q++)
        rtcp_source_on_rtp(&s, SSRC_B, q, 0, 0);
    cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, 20000, 0, 0), RTCP_SEQ_JUMP);
    cr_assert_eq(rtcp_source_ext_max(&s), 9u, "a lone jump changes nothing");
    cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, 10, 0, 0), RTCP_SEQ_COUNTED);
    cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, 30000, 0, 0), RTCP_SEQ_JUMP);
    cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, 30001, 0, 0), RTCP_SEQ_COUNTED, "sender restarted");
    cr_assert_eq(s.base_seq, 30001u);
    cr_assert_eq(s.received, 1u);
    cr_assert_eq(rtcp_source_lost(&s), 0);
    /* within MAX_DROPOUT is a gap, not a jump */
    cr_assert_eq(rtcp_source_on_rtp(&s, SSRC_B, 30001 + 2999, 0, 0), RTCP_SEQ_COUNTED);
    cr_assert_eq(rtcp_source_lost(&s), 2998);
    /* the 24-bit clamp */
    s.received = 0;
    s.cycles = 1u << 30;
    cr_assert_eq(rtcp_source_lost(&s), RTCP_LOST_MAX);
    s.cycles = 0;
    s.received = 1u << 30;
    cr_assert_eq(rtcp_source_lost(&s), RTCP_LOST_MIN);
}

/* ---- jitter (A.8) ---- */

/* deterministic pseudo-random delays */
static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

Test(rtcp, jitter_matches_the_rfc_formula)
{
    const double rate = 48000;
    struct rtcp_source s;
    rtcp_source_init(&s, SSRC_B, 48000);
    uint32_t x = 12345;
    double j = 0, prev_transit = 0;
    int counted = 0;
    for (int i = 0; i < 3000; i++) {
        uint32_t ts = 3000000000u + (uint32_t)i * 960; /* wraps the 32-bit timestamp */
        uint64_t arrival = 5000ull * MS + (uint64_t)i * 20 * MS + lcg(&x) % (8 * MS);
        if (rtcp_source_on_rtp(&s, SSRC_B, (uint16_t)i, ts, arrival) != RTCP_SEQ_COUNTED)
            continue;
        /* A.8 on doubles: D from exact arrival times in RTP units */
        double transit = (double)arrival * rate / 1e9 - (3000000000.0 + i * 960.0);
        if (counted++ > 0) {
            double d = fabs(transit - prev_transit);
            j += (d - j) / 16;
        }
        prev_transit = transit;
        if (i > 100)
            cr_assert(fabs(rtcp_source_jitter(&s) - j) < 2.0, "packet %d: %u vs %.2f", i,
                      rtcp_source_jitter(&s), j);
    }
    /* uniform delay on [0, 8 ms): E|D| = 8/3 ms = 128 ticks */
    cr_assert(j > 100 && j < 160, "expected jitter %.1f", j);
    double ns = (double)rtcp_source_jitter_ns(&s);
    cr_assert(fabs(ns - j / rate * 1e9) < 2.0 / rate * 1e9, "jitter %.0f ns", ns);
    cr_assert(fabs(rtcp_source_jitter_ms(&s) - j / rate * 1e3) < 2.0 / rate * 1e3);
}

Test(rtcp, jitter_converges_to_a_constant_deviation_and_is_zero_without_one)
{
    struct rtcp_source s, flat;
    rtcp_source_init(&s, SSRC_B, 90000);
    rtcp_source_init(&flat, SSRC_B, 90000);
    for (int i = 0; i < 1000; i++) {
        uint32_t ts = (uint32_t)i * 3000; /* 30 fps */
        uint64_t t = 7777ull * MS + (uint64_t)i * 1000000000ull / 30;
        rtcp_source_on_rtp(&s, SSRC_B, (uint16_t)i, ts, t + (i % 2) * 5 * MS); /* |D| = 450 ticks */
        rtcp_source_on_rtp(&flat, SSRC_B, (uint16_t)i, ts, t + 40 * MS);
    }
    cr_assert(abs((int)rtcp_source_jitter(&s) - 450) <= 1, "jitter %u", rtcp_source_jitter(&s));
    cr_assert(rtcp_source_jitter_ns(&s) > 4990000 && rtcp_source_jitter_ns(&s) < 5010000);
    /* 1e9/30 ns is not a whole number of 90 kHz ticks: truncation leaves at most 1 */
    cr_assert_leq(rtcp_source_jitter(&flat), 1u, "constant delay, jitter %u",
                  rtcp_source_jitter(&flat));
}

/* ---- sessions on a virtual clock ---- */

struct pair {
    struct rtcp_session a, b;
};

static void pair_init(struct pair *p)
{
    struct rtcp_config ca = {SSRC_A, 48000, SSRC_B, 48000, "alice@swarm"};
    struct rtcp_config cb = {SSRC_B, 48000, 0, 48000, "bob@swarm"};
    cr_assert_eq(rtcp_init(&p->a, &ca), 0);
    cr_assert_eq(rtcp_init(&p->b, &cb), 0);
}

/* Audio packets `first`..`first + n - 1` each way, 20 ms apart from t0,
 * one-way delay `owd`, events handed over in time order (each session's
 * `now` only moves forward); the packets of A whose index % drop_mod ==
 * drop_rem never reach B. */
static uint64_t media_time(int first, uint64_t t0, int i)
{
    return t0 + (uint64_t)(i - first) * 20 * MS;
}

static void media_deliver(struct pair *p, int first, uint64_t t0, int i, uint64_t owd, int drop_mod,
                          int drop_rem)
{
    uint64_t t = media_time(first, t0, i);
    uint32_t ts = (uint32_t)(t / MS) * 48;
    if (drop_mod == 0 || i % drop_mod != drop_rem)
        rtcp_on_rtp_received(&p->b, SSRC_A, (uint16_t)(1000 + i), ts, t + owd);
    rtcp_on_rtp_received(&p->a, SSRC_B, (uint16_t)(5000 + i), ts + 7, t + owd);
}

static void pair_media(struct pair *p, int first, uint64_t t0, int n, uint64_t owd, int drop_mod,
                       int drop_rem)
{
    int r = first; /* next packet to arrive */
    for (int i = first; i < first + n; i++) {
        uint64_t t = media_time(first, t0, i);
        for (; r < i && media_time(first, t0, r) + owd <= t; r++)
            media_deliver(p, first, t0, r, owd, drop_mod, drop_rem);
        uint32_t ts = (uint32_t)(t / MS) * 48;
        rtcp_on_rtp_sent(&p->a, ts, 160, t);
        rtcp_on_rtp_sent(&p->b, ts + 7, 100, t);
    }
    for (; r < first + n; r++)
        media_deliver(p, first, t0, r, owd, drop_mod, drop_rem);
}

Test(rtcp, sr_then_rr_gives_the_round_trip_time)
{
    struct pair p;
    pair_init(&p);
    const uint64_t owd = 30 * MS, hold = 200 * MS, t0 = 1000 * MS;
    pair_media(&p, 0, t0, 50, owd, 10, 5);
    uint8_t buf[RTCP_BUILD_MAX];
    uint64_t t_sr = t0 + 1100 * MS; /* after the last packet arrived */
    int n = rtcp_build_sr(&p.a, t_sr, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    struct rtcp_msg m;
    cr_assert_eq(rtcp_handle_input(&p.b, buf, (size_t)n, t_sr + owd, &m), ENGINE_IN_ACCEPTED);
    cr_assert(m.is_sr);
    cr_assert_eq(m.ssrc, SSRC_A);
    cr_assert_eq(m.si.packets, 50u);
    cr_assert_eq(m.si.octets, 50u * 160);
    cr_assert_eq(m.si.ntp, rtcp_ntp_from_ns(t_sr));
    /* last packet at t0 + 980 ms, 120 ms before the SR: 5,760 ticks later */
    cr_assert_eq(m.si.rtp_ts, (uint32_t)((t0 + 980 * MS) / MS) * 48 + 5760);
    cr_assert_eq(m.n_blocks, 1);
    cr_assert_eq(m.blocks[0].ssrc, SSRC_B);
    cr_assert_eq(m.blocks[0].lsr, 0u, "A has no SR of B yet");
    cr_assert(m.has_cname);
    cr_assert_eq(m.cname_len, strlen("alice@swarm"));
    cr_assert_eq(memcmp(m.cname, "alice@swarm", m.cname_len), 0);
    cr_assert_eq(p.b.rx.ssrc, SSRC_A);
    cr_assert(p.b.rx.has_lsr);

    n = rtcp_build_rr(&p.b, t_sr + owd + hold, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    cr_assert_eq(rtcp_handle_input(&p.a, buf, (size_t)n, t_sr + owd + hold + owd, &m), ENGINE_IN_ACCEPTED);
    cr_assert(!m.is_sr);
    cr_assert_eq(m.blocks[0].ssrc, SSRC_A);
    cr_assert_eq(m.blocks[0].lsr, rtcp_ntp_mid(rtcp_ntp_from_ns(t_sr)));
    cr_assert(llabs((long long)m.blocks[0].dlsr - (long long)(hold * 65536 / 1000000000ull)) <= 1);
    /* B saw 45 of A's 50: 5, 15, .., 45 dropped; probation ate packet 0 */
    cr_assert_eq(m.blocks[0].lost, 5);
    cr_assert_eq(m.blocks[0].fraction, (5 << 8) / 49);
    cr_assert_eq(m.blocks[0].ext_max_seq, 1049u);
    cr_assert(p.a.has_remote_report);
    cr_assert(p.a.has_rtt);
    cr_assert_eq(p.a.c.rtt_samples, 1u);
    long long err = (long long)p.a.rtt_ns - (long long)(2 * owd);
    cr_assert(llabs(err) < 50000, "rtt %llu ns", (unsigned long long)p.a.rtt_ns);
}

Test(rtcp, rtt_edge_cases)
{
    uint64_t rtt = 7;
    cr_assert_eq(rtcp_rtt_ns(5000 * MS, 0, 0, &rtt), -ENODATA);
    uint32_t lsr = rtcp_ntp_mid(rtcp_ntp_from_ns(5000 * MS));
    cr_assert_eq(rtcp_rtt_ns(5000 * MS, lsr, 0, &rtt), 0);
    cr_assert_eq(rtt, 0u);
    cr_assert_eq(rtcp_rtt_ns(5000 * MS, lsr, 65536, &rtt), -ERANGE,
                 "DLSR longer than the time since");
    cr_assert_eq(rtcp_rtt_ns(6000 * MS, lsr, 32768, &rtt), 0);
    cr_assert(llabs((long long)rtt - 500000000) < 40000, "rtt %llu", (unsigned long long)rtt);
    /* the NTP conversion itself */
    cr_assert_eq(rtcp_ntp_from_ns(1500 * MS), (1ull << 32) | (1ull << 31));
    cr_assert_eq(rtcp_ntp_mid((1ull << 32) | (1ull << 31)), 0x18000u);
}

Test(rtcp, reports_from_another_source_are_ignored)
{
    struct pair p;
    pair_init(&p);
    pair_media(&p, 0, 0, 10, MS, 0, 0);
    struct rtcp_session other;
    struct rtcp_config co = {0x0e0e0e0e, 48000, SSRC_A, 48000, "mallory"};
    cr_assert_eq(rtcp_init(&other, &co), 0);
    uint8_t buf[RTCP_BUILD_MAX];
    int n = rtcp_build_sr(&other, 1000 * MS, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    cr_assert_eq(rtcp_handle_input(&p.a, buf, (size_t)n, 1000 * MS, NULL), ENGINE_IN_IGNORED);
    cr_assert(!p.a.rx.has_lsr);
    cr_assert_eq(p.a.c.ignored, 1u);
    cr_assert_eq(rtcp_handle_input(&p.a, buf, 3, 1000 * MS, NULL), ENGINE_IN_MALFORMED);
    cr_assert_eq(p.a.c.malformed, 1u);
}

Test(rtcp, enospc_changes_nothing_and_report_picks_sr_or_rr)
{
    struct pair p;
    pair_init(&p);
    pair_media(&p, 0, 0, 20, MS, 4, 1);
    uint8_t buf[RTCP_BUILD_MAX], big[256];
    int need = rtcp_build_sr(&p.b, 500 * MS, big, sizeof(big));
    cr_assert_eq(need, 28 + 24 + 8 + 12, "SR, one block, SDES of 'bob@swarm'");
    /* a second interval: same losses again */
    pair_media(&p, 20, 1000 * MS, 20, MS, 4, 1);
    struct rtcp_session before = p.b;
    cr_assert_eq(rtcp_build_sr(&p.b, 1500 * MS, buf, (size_t)need - 1), -ENOSPC);
    cr_assert_eq(memcmp(&before, &p.b, sizeof(before)), 0, "no state changed");
    cr_assert_eq(rtcp_build_sr(&p.b, 1500 * MS, buf, (size_t)need), need);
    struct rtcp_msg m;
    cr_assert_eq(rtcp_parse(buf, (size_t)need, &m), 0);
    cr_assert_eq(m.blocks[0].fraction, 64, "the second interval alone: 5 of 20");
    /* rtcp_build_report: SR while we send, RR two reports after we stopped */
    cr_assert_eq(rtcp_build_report(&p.b, 1600 * MS, buf, sizeof(buf)), need,
                 "sent since the one before last");
    cr_assert_eq(buf[1], RTCP_PT_SR);
    cr_assert_gt(rtcp_build_report(&p.b, 1700 * MS, buf, sizeof(buf)), 0);
    cr_assert_eq(buf[1], RTCP_PT_RR);
    cr_assert_eq(p.b.c.sr_sent, 3u);
    cr_assert_eq(p.b.c.rr_sent, 1u);
    /* an RR before anything was received has no block */
    struct rtcp_session q;
    struct rtcp_config cq = {1, 90000, 0, 90000, "q"};
    cr_assert_eq(rtcp_init(&q, &cq), 0);
    cr_assert_eq(rtcp_build_rr(&q, 0, buf, sizeof(buf)), 8 + 12);
    cr_assert_eq(buf[0], 0x80);
    struct rtcp_config bad = {1, 0, 0, 90000, "q"};
    cr_assert_eq(rtcp_init(&q, &bad), -EINVAL);
    bad.clock_rate = 1;
    bad.cname = "";
    cr_assert_eq(rtcp_init(&q, &bad), -EINVAL);
    char longname[RTCP_CNAME_MAX + 2];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    bad.cname = longname;
    cr_assert_eq(rtcp_init(&q, &bad), -EINVAL);
    longname[RTCP_CNAME_MAX] = 0;
    cr_assert_eq(rtcp_init(&q, &bad), 0);
    cr_assert_eq(rtcp_build_sr(&q, 0, buf, sizeof(buf)), 28 + 8 + 68,
                 "the longest CNAME fits RTCP_BUILD_MAX");
}

/* ---- parsing ---- */

/* A compound SR (one block) + SDES + BYE + APP, built by hand. */
static size_t handmade(uint8_t *b)
{
    /* clang-format off */
    static const uint8_t pkt[] = {
        0x81, 200, 0, 12, 0xa1, 0xa2, 0xa3, 0xa4,       /* SR, RC 1, 13 words */
        0, 0, 0, 5, 0x80, 0, 0, 0,                      /* NTP 5.5 s */
        0, 0, 0x12, 0x34,                               /* RTP timestamp */
        0, 0, 0, 9, 0, 0, 0x05, 0xa0,                   /* 9 packets, 1440 octets */
        0xb1, 0xb2, 0xb3, 0xb4, 0x40, 0xff, 0xff, 0xfe, /* block on B: fraction 64, lost -2 */
        0, 1, 0, 7, 0, 0, 0, 33,                        /* ext. highest 65543, jitter 33 */
        0, 5, 0x80, 0, 0, 0, 0x80, 0,                   /* LSR, DLSR 0.5 s */
        0x81, 202, 0, 3, 0xa1, 0xa2, 0xa3, 0xa4,        /* SDES, 1 chunk */
        1, 3, 'a', 'b', 'c', 0, 0, 0,                   /* CNAME "abc", null, pad */
        0x81, 203, 0, 1, 0xa1, 0xa2, 0xa3, 0xa4,        /* BYE */
        0x80, 204, 0, 2, 0xa1, 0xa2, 0xa3, 0xa4,        /* APP */
        'n', 'a', 'm', 'e',
    };
    /* clang-format on */
    memcpy(b, pkt, sizeof(pkt));
    return sizeof(pkt);
}

Test(rtcp, parses_a_full_compound_and_skips_bye_and_app)
{
    uint8_t b[128];
    size_t n = handmade(b);
    struct rtcp_msg m;
    cr_assert_eq(rtcp_parse(b, n, &m), 0);
    cr_assert(m.is_sr);
    cr_assert_eq(m.ssrc, SSRC_A);
    cr_assert_eq(m.si.ntp, 5ull << 32 | 0x80000000u);
    cr_assert_eq(m.si.rtp_ts, 0x1234u);
    cr_assert_eq(m.si.packets, 9u);
    cr_assert_eq(m.si.octets, 1440u);
    cr_assert_eq(m.n_blocks, 1);
    cr_assert_eq(m.blocks[0].ssrc, SSRC_B);
    cr_assert_eq(m.blocks[0].fraction, 64);
    cr_assert_eq(m.blocks[0].lost, -2);
    cr_assert_eq(m.blocks[0].ext_max_seq, 65543u);
    cr_assert_eq(m.blocks[0].jitter, 33u);
    cr_assert_eq(m.blocks[0].lsr, 0x00058000u);
    cr_assert_eq(m.blocks[0].dlsr, 0x8000u);
    cr_assert(m.has_cname);
    cr_assert_eq(m.cname_len, 3);
    cr_assert_eq(memcmp(m.cname, "abc", 3), 0);
    cr_assert_eq(m.n_packets, 4);
    cr_assert_eq(m.n_skipped, 2);
    cr_assert(m.has_bye);
    /* written back from the parse: the same SR and SDES bytes */
    uint8_t w[128];
    int wn = rtcp_write(w, sizeof(w), &m);
    cr_assert_eq(wn, 52 + 16);
    cr_assert_eq(memcmp(w, b, (size_t)wn), 0);
}

/* Parses a copy of exactly len bytes so that an over-read would leave the
 * allocation (caught under ASan). */
static int parse_copy(const uint8_t *b, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, b, len);
    struct rtcp_msg m;
    int rc = rtcp_parse(c, len, &m);
    free(c);
    return rc;
}

Test(rtcp, malformed_compounds_are_refused)
{
    uint8_t b[128], x[128];
    size_t n = handmade(b);
    /* every truncation: refused unless it ends exactly on a packet boundary */
    for (size_t len = 0; len < n; len++) {
        int rc = parse_copy(b, len);
        bool boundary = len == 52 || len == 68 || len == 76;
        cr_assert_eq(rc == 0, boundary, "length %zu: %d", len, rc);
        if (!boundary)
            cr_assert(rc == -EBADMSG || rc == -EPROTO);
    }
    const struct {
        size_t at;
        uint8_t v;
        int want;
        const char *what;
    } cases[] = {
        {0, 0x41, -EBADMSG, "version 1"},
        {0, 0xc1, -EBADMSG, "version 3"},
        {52, 0x41, -EBADMSG, "second packet version 1"},
        {1, 202, -EBADMSG, "first packet SDES"},
        {1, 203, -EBADMSG, "first packet BYE"},
        {3, 13, -EBADMSG, "SR one word longer: the next header is mid-chunk"},
        {3, 200, -EBADMSG, "SR length past the end"},
        {78, 0x10, -EBADMSG, "APP length past the end"},
        {0, 0xa1, -EBADMSG, "padding on the first packet"},
        {52, 0xa1, -EBADMSG, "padding on a middle packet"},
        {0, 0x82, -EPROTO, "RC 2 does not fit the SR"},
        {53, 200, -EPROTO, "SDES turned SR: 16 bytes, needs 52"},
        {53, 201, -EPROTO, "SDES turned RR: 16 bytes, RC 1 needs 32"},
        {52, 0x82, -EPROTO, "SC 2: the second chunk is missing"},
        {61, 9, -EPROTO, "CNAME length beyond the packet"},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(x, b, n);
        x[cases[i].at] = cases[i].v;
        cr_assert_eq(parse_copy(x, n), cases[i].want, "%s", cases[i].what);
    }
    /* SDES without a null item: after "abc", an item of 1 byte runs to the end */
    memcpy(x, b, n);
    x[65] = 8, x[66] = 1, x[67] = 'z';
    cr_assert_eq(parse_copy(x, n), -EPROTO, "items run to the end with no terminator");
    x[66] = 0, x[67] = 0;
    cr_assert_eq(parse_copy(x, n), 0, "an empty item, then the null octet");
    /* the padding count may not eat into an SDES chunk's own null octets */
    uint8_t sdes_pad[] = {0x80, 201, 0, 1, 1, 2, 3,   4,   0xa1, 202, 0, 3,
                          1,    2,   3, 4, 1, 2, 'a', 'b', 0,    0,   0, 1};
    cr_assert_eq(parse_copy(sdes_pad, sizeof(sdes_pad)), -EPROTO,
                 "chunk padding overlaps the packet's");
    sdes_pad[8] = 0x81, sdes_pad[23] = 0;
    cr_assert_eq(parse_copy(sdes_pad, sizeof(sdes_pad)), 0, "the same chunk without padding");
    /* lengths adding up but not a multiple of 4 */
    cr_assert_eq(parse_copy(b, n + 1), -EBADMSG);
    /* padding on the last packet: its count within the packet */
    uint8_t pad[] = {0xa0, 201, 0, 2, 1, 2, 3, 4, 0, 0, 0, 4};
    cr_assert_eq(parse_copy(pad, sizeof(pad)), -EBADMSG,
                 "padding on the first packet, even if last");
    uint8_t tail[] = {0x80, 201, 0, 1, 1, 2, 3, 4, 0xa0, 204, 0, 2, 1, 2, 3, 4, 0, 0, 0, 4};
    cr_assert_eq(parse_copy(tail, sizeof(tail)), 0, "padding count 4 on the last packet");
    tail[19] = 0;
    cr_assert_eq(parse_copy(tail, sizeof(tail)), -EBADMSG, "padding count 0");
    tail[19] = 9;
    cr_assert_eq(parse_copy(tail, sizeof(tail)), -EBADMSG, "padding count beyond the packet");
    tail[19] = 8;
    cr_assert_eq(parse_copy(tail, sizeof(tail)), 0, "padding may take the whole body");
    /* an RR with no blocks and nothing else is the smallest compound */
    cr_assert_eq(parse_copy(tail, 8), 0);
    cr_assert_eq(parse_copy(tail, 4), -EBADMSG);
}

/* ---- Wireshark ---- */

#include "wire_capture.h"

#define WS_PORT 5005

static void need_tshark(void)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        if (getenv("SWARMGEN_REQUIRE_TSHARK") &&
            strcmp(getenv("SWARMGEN_REQUIRE_TSHARK"), "1") == 0)
            cr_assert_fail("tshark is not installed");
        cr_skip_test("tshark is not installed");
    }
}

static long ws_count(const char *pcap, const char *filter)
{
    char args[1024];
    snprintf(args, sizeof(args),
             "-r %s -d udp.port==%d,rtcp -o rtcp.show_roundtrip_calculation:TRUE -Y '%s'", pcap,
             WS_PORT, filter);
    return wire_tshark_lines(args);
}

Test(rtcp, wireshark_decodes_our_sr_and_rr, .timeout = 120)
{
    need_tshark();
    struct pair p;
    pair_init(&p);
    const uint64_t owd = 30 * MS, t0 = 1000 * MS;
    pair_media(&p, 0, t0, 100, owd, 10, 5);
    /* some jitter on A's view of B */
    for (int i = 0; i < 5; i++)
        rtcp_on_rtp_received(&p.a, SSRC_B, (uint16_t)(5100 + i), 0,
                             t0 + 3000 * MS + (uint64_t)i * MS);
    char pcap[64];
    snprintf(pcap, sizeof(pcap), "/tmp/sg-rtcp-%d.pcap", (int)getpid());
    FILE *f = fopen(pcap, "wb");
    cr_assert(f);
    wire_pcap_begin(f);
    uint8_t buf[RTCP_BUILD_MAX];
    uint64_t t_sr = t0 + 4000 * MS, t_rr = t_sr + owd + 250 * MS;
    int n = rtcp_build_sr(&p.a, t_sr, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    struct rtcp_msg sr;
    cr_assert_eq(rtcp_parse(buf, (size_t)n, &sr), 0);
    wire_pcap_udp(f, buf, (size_t)n, true, WS_PORT, WS_PORT, t_sr); /* captured at A: sent */
    cr_assert_eq(rtcp_handle_input(&p.b, buf, (size_t)n, t_sr + owd, NULL), ENGINE_IN_ACCEPTED);
    n = rtcp_build_rr(&p.b, t_rr, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    struct rtcp_msg rr;
    cr_assert_eq(rtcp_parse(buf, (size_t)n, &rr), 0);
    /* captured at A: arrived */
    wire_pcap_udp(f, buf, (size_t)n, false, WS_PORT, WS_PORT, t_rr + owd);
    fclose(f);
    cr_assert_eq(rr.blocks[0].lost, 10);
    cr_assert_gt(sr.blocks[0].jitter, 0u);

    cr_assert_eq(ws_count(pcap, "rtcp"), 2, "both frames are RTCP");
    cr_assert_eq(
        ws_count(pcap, "_ws.malformed || rtcp.length_check.bad || _ws.expert.severity >= warning"),
        0, "nothing malformed");
    char flt[512];
    snprintf(flt, sizeof(flt),
             "rtcp.pt == 200 && rtcp.senderssrc == %u && rtcp.sender.packetcount == 100 && "
             "rtcp.sender.octetcount == 16000 && rtcp.timestamp.rtp == %u && "
             "rtcp.timestamp.ntp.msw == %u",
             SSRC_A, sr.si.rtp_ts, (unsigned)(sr.si.ntp >> 32));
    cr_assert_eq(ws_count(pcap, flt), 1, "SR sender info: %s", flt);
    snprintf(flt, sizeof(flt),
             "rtcp.pt == 200 && rtcp.ssrc.identifier == %u && rtcp.ssrc.fraction == %u && "
             "rtcp.ssrc.cum_nr == %d "
             "&& rtcp.ssrc.jitter == %u && rtcp.ssrc.ext_high == %u && rtcp.sdes.text == "
             "\"alice@swarm\"",
             SSRC_B, sr.blocks[0].fraction, sr.blocks[0].lost, sr.blocks[0].jitter,
             sr.blocks[0].ext_max_seq);
    cr_assert_eq(ws_count(pcap, flt), 1, "SR report block and CNAME: %s", flt);
    snprintf(flt, sizeof(flt),
             "rtcp.pt == 201 && rtcp.senderssrc == %u && rtcp.ssrc.identifier == %u && "
             "rtcp.ssrc.fraction == %u && "
             "rtcp.ssrc.cum_nr == 10 && rtcp.ssrc.jitter == %u && rtcp.ssrc.ext_high == 1099 && "
             "rtcp.ssrc.lsr == %u && rtcp.ssrc.dlsr == %u && rtcp.sdes.text == \"bob@swarm\"",
             SSRC_B, SSRC_A, (10 << 8) / 99, rr.blocks[0].jitter, rtcp_ntp_mid(sr.si.ntp),
             rr.blocks[0].dlsr);
    cr_assert_eq(ws_count(pcap, flt), 1, "RR report block and CNAME: %s", flt);
    /* Wireshark's own RTT from the capture times: 2 x 30 ms */
    cr_assert_eq(ws_count(pcap, "rtcp.roundtrip-delay == 60"), 1, "Wireshark's round trip");
    cr_assert_eq(ws_count(pcap, "rtcp.ssrc.cum_nr == 11"), 0, "a wrong value matches nothing");
    unlink(pcap);

    /* the malformed check can fail: a broken compound is flagged */
    snprintf(pcap, sizeof(pcap), "/tmp/sg-rtcp-bad-%d.pcap", (int)getpid());
    f = fopen(pcap, "wb");
    wire_pcap_begin(f);
    n = rtcp_build_rr(&p.b, t_rr + 1000 * MS, buf, sizeof(buf));
    buf[3] += 4; /* RR length past the datagram */
    wire_pcap_udp(f, buf, (size_t)n, false, WS_PORT, WS_PORT, t_rr + 1000 * MS);
    fclose(f);
    cr_assert_eq(rtcp_parse(buf, (size_t)n, &rr), -EBADMSG);
    cr_assert_eq(
        ws_count(pcap, "_ws.malformed || rtcp.length_check.bad || _ws.expert.severity >= warning"),
        1, "Wireshark flags a bad length too");
    unlink(pcap);
}

/* PLI, FIR and generic NACK about one media source, in a compound after
 * an RR and alone (RFC 5506), others' feedback not counted. */
Test(rtcp_feedback, pli_fir_nack_counted_for_our_ssrc)
{
    uint8_t b[256];
    size_t n = 0;
    /* RR, no blocks, sender 0xaaaa */
    const uint8_t rr[8] = {0x80, RTCP_PT_RR, 0, 1, 0, 0, 0xaa, 0xaa};
    memcpy(b + n, rr, 8);
    n += 8;
    /* PLI about 0x1234 */
    const uint8_t pli[12] = {0x81, RTCP_PT_PSFB, 0, 2, 0, 0, 0xaa, 0xaa, 0, 0, 0x12, 0x34};
    memcpy(b + n, pli, 12);
    n += 12;
    /* PLI about another source */
    const uint8_t pli2[12] = {0x81, RTCP_PT_PSFB, 0, 2, 0, 0, 0xaa, 0xaa, 0, 0, 0x99, 0x99};
    memcpy(b + n, pli2, 12);
    n += 12;
    /* FIR: media source 0, FCI entries (another, ours) */
    const uint8_t fir[28] = {0x84, RTCP_PT_PSFB, 0, 6, 0, 0, 0xaa, 0xaa, 0, 0, 0, 0,
                             0, 0, 0x99, 0x99, 1, 0, 0, 0, 0, 0, 0x12, 0x34, 2, 0, 0, 0};
    memcpy(b + n, fir, 28);
    n += 28;
    /* generic NACK about 0x1234, one FCI entry */
    const uint8_t nack[16] = {0x81, RTCP_PT_RTPFB, 0, 3, 0, 0, 0xaa, 0xaa, 0, 0, 0x12, 0x34, 0, 5, 0, 3};
    memcpy(b + n, nack, 16);
    n += 16;
    struct rtcp_fb fb;
    rtcp_feedback_count(b, n, 0x1234, &fb);
    cr_assert_eq(fb.pli, 1);
    cr_assert_eq(fb.fir, 1);
    cr_assert_eq(fb.nack, 1);
    rtcp_feedback_count(pli, sizeof(pli), 0x1234, &fb);
    cr_assert_eq(fb.pli, 1, "reduced-size: a PLI alone");
    /* truncated: the walk stops, nothing read past the end */
    rtcp_feedback_count(b, n - 1, 0x1234, &fb);
    cr_assert_eq(fb.pli, 1);
    cr_assert_eq(fb.fir, 1);
    cr_assert_eq(fb.nack, 0);
    rtcp_feedback_count(b, 3, 0x1234, &fb);
    cr_assert_eq(fb.pli + fb.fir + fb.nack, 0);
}
