/* SPDX-License-Identifier: MIT */
/*
 * The peer connections of a worker (traffic dc) through the real rx path:
 * an 8-agent ring on one worker, every edge a WebRTC peer connection with
 * both endpoints here, the wire run by the harness on a virtual clock.
 * Every connection comes up under the set-up cap with its set-up times
 * recorded; agent messages are delivered (routed ones relayed by agents,
 * echoes answered); foreign traffic on a connection's 5-tuple and on no
 * 5-tuple is counted under exactly one drop reason each and hurts no
 * connection; a connection whose frames are all lost is retried and given
 * up; no mbuf leaks.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dp_harness.h"

#define SECOND 1000000000ull

static struct dp_harness h;

static struct ri_counters *live(void)
{
    return &h.wk->m->live;
}

static uint32_t edges(void)
{
    return (uint32_t)h.ctx.ri.cfg->n_edges;
}

static void init_with(uint8_t pattern)
{
    struct dp_harness_dc_opts o = {.pattern = pattern};
    cr_assert_eq(dp_harness_init_dc(&h, &o), 0, "dc harness");
}

static void setup_routed(void)
{
    init_with(RI_PATTERN_ROUTED);
}

/* --dtls 1.2: for the tests that take a DTLS 1.2 record off the wire and
 * forge variants of it (its 13-byte header) */
static void setup_routed_v12(void)
{
    struct dp_harness_dc_opts o = {.pattern = RI_PATTERN_ROUTED, .dtls_versions = RI_DTLS_V12};
    cr_assert_eq(dp_harness_init_dc(&h, &o), 0, "dc harness");
}

static void connect_all(void)
{
    int rc = dp_harness_connect_all(&h, 120 * SECOND);
    cr_assert_eq(rc, 0, "connect: %d, %llu of %u up, %llu given up", rc,
                 (unsigned long long)live()->conn_established, edges(), (unsigned long long)live()->conn_given_up);
}

static uint64_t drops_total(void)
{
    uint64_t n = 0;
    for (int i = 0; i < RI_DROP_COUNT; i++)
        n += live()->drops[i];
    return n;
}

/* Generates `rounds` x `per_round` messages, a wire pass after each round,
 * then lets the wire settle (retransmissions, delayed SACKs). */
static void send_messages(uint32_t rounds, uint32_t per_round)
{
    for (uint32_t i = 0; i < rounds; i++) {
        dp_conns_generate(&h.ctx, h.wk, h.tsc, per_round, h.wk->traffic.n_local);
        dp_harness_wire_pass(&h);
    }
    dp_harness_run_for(&h, 2 * SECOND);
}

/* After the wire settled and the in-flight frames are freed: every mbuf
 * out of the pool is one the dataplane holds, and none after the
 * connections are freed. */
static void assert_no_leak(void)
{
    dp_harness_run_for(&h, 1 * SECOND);
    dp_harness_flush(&h);
    cr_assert_eq(dp_harness_mbufs_out(&h), dp_harness_mbufs_held(&h), "%u mbufs out, %u accounted for",
                 dp_harness_mbufs_out(&h), dp_harness_mbufs_held(&h));
    dp_conns_free(h.wk);
    cr_assert_eq(rte_mempool_avail_count(h.ctx.pool), h.pool_size, "pool back to its size");
}

/* ---- set-up ------------------------------------------------------------ */

static uint32_t max_in_setup;

static bool up_and_watch_cap(const struct dp_harness *hh)
{
    if (hh->wk->conns->in_setup > max_in_setup)
        max_in_setup = hh->wk->conns->in_setup;
    return hh->wk->m->live.conn_established == hh->ctx.ri.cfg->n_edges;
}

/* --dtls 1.2 in the image reaches every endpoint's handshake: all 1.2 */
Test(dc_conns, dtls_1_2_in_the_image_makes_every_connection_1_2, .timeout = 120)
{
    struct dp_harness_dc_opts o = {.pattern = RI_PATTERN_NEIGHBORS, .dtls_versions = RI_DTLS_V12};
    cr_assert_eq(dp_harness_init_dc(&h, &o), 0, "dc harness");
    connect_all();
    cr_assert_eq(live()->conn_established, edges());
    cr_assert_eq(live()->conn_dtls_up[0], edges(), "every connection 1.2");
    cr_assert_eq(live()->conn_dtls_up[1], 0);
    cr_assert_eq(h.wk->m->setup[RI_SETUP_DTLS].count, edges());
    cr_assert_eq(h.wk->m->setup[RI_SETUP_DTLS + 1].count, 0);
    for (uint32_t i = 0; i < h.wk->conns->n; i++)
        for (int s = 0; s < 2; s++)
            cr_assert_eq(pc_dtls_version(&h.wk->conns->conn[i].ep[s]), DTLS_V12, "connection %u end %d", i, s);
    dp_harness_fini_dc(&h);
}

Test(dc_conns, every_connection_comes_up_under_the_cap_with_setup_times, .init = setup_routed, .timeout = 120)
{
    cr_assert_eq(live()->conn_total, edges());
    cr_assert_eq(live()->conn_established, 0, "nothing starts before the first poll");
    max_in_setup = 0;
    cr_assert_eq(dp_harness_run_until(&h, up_and_watch_cap, 120 * SECOND), 0, "%llu of %u up",
                 (unsigned long long)live()->conn_established, edges());
    cr_assert_eq(live()->conn_established, edges());
    cr_assert_eq(live()->conn_attempts, edges(), "no attempt failed on a clean wire");
    cr_assert_eq(live()->conn_given_up, 0);
    for (int s = 0; s < RI_STAGE_COUNT; s++)
        cr_assert_eq(live()->conn_attempt_failed[s], 0, "stage %d", s);
    cr_assert(max_in_setup >= 1 && max_in_setup <= h.ctx.ri.cfg->setup_cap, "%u in set-up at once, cap %u",
              max_in_setup, h.ctx.ri.cfg->setup_cap);
    /* one set-up time per connection, per stage and in total */
    const struct met_hist *sh = h.wk->m->setup;
    cr_assert_eq(sh[RI_SETUP_TOTAL].count, edges());
    for (int s = 0; s < RI_STAGE_COUNT; s++)
        cr_assert_eq(sh[s].count, edges(), "stage %d histogram", s);
    /* by negotiated DTLS version (the image's default, auto): they add up to those up */
    cr_assert_eq(live()->conn_dtls_up[0] + live()->conn_dtls_up[1], edges(), "%llu + %llu",
                 (unsigned long long)live()->conn_dtls_up[0], (unsigned long long)live()->conn_dtls_up[1]);
    cr_assert_eq(sh[RI_SETUP_DTLS].count, live()->conn_dtls_up[0]);
    cr_assert_eq(sh[RI_SETUP_DTLS + 1].count, live()->conn_dtls_up[1]);
    cr_assert_gt(sh[RI_SETUP_TOTAL].max, 0, "set-up takes virtual time (wire passes)");
    cr_assert_lt(sh[RI_SETUP_TOTAL].max, 10 * SECOND, "no set-up needed a retransmission timeout");
    cr_assert(live()->hs_slot_high_water >= 1 && live()->hs_slot_high_water <= 2 * h.ctx.ri.cfg->setup_cap,
              "handshake slots high water %llu", (unsigned long long)live()->hs_slot_high_water);
    for (uint32_t i = 0; i < h.wk->conns->n; i++) {
        const struct dp_conn *c = &h.wk->conns->conn[i];
        cr_assert_eq(c->state, DP_CONN_UP, "connection %u", i);
        cr_assert_eq(pc_stage(&c->ep[0]), PC_UP);
        cr_assert_eq(pc_stage(&c->ep[1]), PC_UP);
    }
    cr_assert_eq(h.wk->conns->in_setup, 0);
    cr_assert_eq(drops_total(), 0, "a clean wire drops nothing");
    cr_assert_gt(live()->pkts_rx, 0);
    assert_no_leak();
}

Test(dc_conns, a_frame_for_a_connection_not_started_is_conn_down, .init = setup_routed, .timeout = 120)
{
    /* before the first poll every connection waits in the queue */
    uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
    dp_harness_rx(&h, dp_harness_flow_frame(&h, edges() - 1, false, stun, sizeof(stun)));
    cr_assert_eq(live()->drops[RI_DROP_CONN_DOWN], 1);
    cr_assert_eq(drops_total(), 1);
    connect_all();
    cr_assert_eq(live()->conn_attempts, edges());
    assert_no_leak();
}

/* ---- agent messages ---------------------------------------------------- */

static void assert_all_delivered(uint64_t sent)
{
    cr_assert_eq(live()->msgs_sent, sent);
    cr_assert_eq(live()->msgs_delivered, sent, "delivered %llu of %llu; dropped %llu",
                 (unsigned long long)live()->msgs_delivered, (unsigned long long)sent,
                 (unsigned long long)live()->msgs_dropped);
    cr_assert_eq(live()->msgs_dropped, 0);
    cr_assert_eq(h.wk->m->latency.count, sent, "one latency per delivered message");
    cr_assert_eq(live()->dc_msgs_tx, live()->dc_msgs_rx, "every DataChannel message sent was received");
}

/* --dtls-key-update: every end of every 1.3 connection keeps its
 * handshake slot (the pool has one per end, so set-up never waited for
 * one), updates its keys every 8 records (SCTP bundles messages: a
 * record carries several: 6,400 messages in 2,043 records, 186 updates
 * acknowledged and 186 taken on 8 connections), and every message arrives
 * across the epoch changes; each end's updates are taken by the other */
Test(dc_conns, dtls_key_update_keeps_every_endpoint_and_rekeys_without_loss, .timeout = 120)
{
    struct dp_harness_dc_opts o = {.pattern = RI_PATTERN_NEIGHBORS, .dtls_versions = RI_DTLS_V13,
                                   .dtls_key_update = 8};
    cr_assert_eq(dp_harness_init_dc(&h, &o), 0, "dc harness");
    cr_assert_eq(h.wk->conns->hs.n, 2 * edges() + 2, "a slot per end and 2");
    connect_all();
    cr_assert_eq(live()->conn_dtls_up[1], edges(), "every connection 1.3");
    cr_assert_eq(dtls_hs_pool_in_use(&h.wk->conns->hs), 2 * edges(), "every end keeps its slot");
    cr_assert_eq(h.wk->conns->hs.refused, 0, "no set-up waited for a slot");
    send_messages(100, 100);
    cr_assert_geq(live()->msgs_sent, 2000, "sent %llu", (unsigned long long)live()->msgs_sent);
    assert_all_delivered(live()->msgs_sent);
    uint64_t out = live()->dtls_key_updates_out, in = live()->dtls_key_updates_in;
    cr_assert_eq(out, in, "KeyUpdates acknowledged %llu, taken %llu", (unsigned long long)out,
                 (unsigned long long)in);
    cr_assert_geq(out, 2 * edges() * 2, "%llu KeyUpdates for %u connections", (unsigned long long)out, edges());
    for (uint32_t i = 0; i < h.wk->conns->n; i++)
        for (int s = 0; s < 2; s++) {
            const struct dtls_counters *d = pc_dtls_counters(&h.wk->conns->conn[i].ep[s]);
            cr_assert_not_null(d, "connection %u end %d holds its endpoint", i, s);
            cr_assert_geq(d->key_updates_out, 2, "connection %u end %d: %u updates", i, s, d->key_updates_out);
        }
    assert_no_leak();
}

Test(dc_conns, routed_messages_are_relayed_and_all_delivered, .init = setup_routed, .timeout = 120)
{
    connect_all();
    send_messages(50, 8);
    assert_all_delivered(400);
    cr_assert_gt(live()->msgs_forwarded, 0, "routed over a ring: agents relay");
    cr_assert_eq(live()->dc_msgs_tx, 400 + live()->msgs_forwarded, "one DataChannel message per hop");
    cr_assert_eq(live()->hops_delivered, live()->msgs_forwarded, "hops counted are the relays made");
    cr_assert_gt(live()->sctp_sacks, 0, "SCTP acknowledged the data");
    cr_assert_eq(drops_total(), 0);
    cr_assert_eq(live()->conn_closed, 0);
    assert_no_leak();
}

Test(dc_conns, neighbour_messages_take_one_hop)
{
    init_with(RI_PATTERN_NEIGHBORS);
    connect_all();
    send_messages(40, 8);
    assert_all_delivered(320);
    cr_assert_eq(live()->msgs_forwarded, 0);
    cr_assert_eq(live()->hops_delivered, 0);
    assert_no_leak();
}

Test(dc_conns, echo_messages_come_back_to_their_source)
{
    init_with(RI_PATTERN_ECHO);
    connect_all();
    send_messages(40, 8);
    assert_all_delivered(320);
    cr_assert_eq(live()->dc_msgs_tx, 640, "there and back");
    cr_assert_eq(live()->msgs_forwarded, 0);
    assert_no_leak();
}

Test(dc_conns, large_messages_are_fragmented_and_reassembled)
{
    struct dp_harness_dc_opts o = {.pattern = RI_PATTERN_NEIGHBORS, .msg_size = 5000};
    cr_assert_eq(dp_harness_init_dc(&h, &o), 0);
    connect_all();
    send_messages(20, 4);
    assert_all_delivered(80);
    assert_no_leak();
}

/* ---- foreign traffic --------------------------------------------------- */

/* a valid DTLS application-data record seen on the wire (one record, the
 * whole datagram), whole frame */
static uint8_t cap_frame[2048];
static uint16_t cap_len;

static bool capture_record(struct dp_harness *hh, struct rte_mbuf *m, void *arg)
{
    (void)hh, (void)arg;
    const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
    uint32_t plen = m->data_len - (uint32_t)DP_FRAME_HDR_LEN;
    if (cap_len || m->data_len <= DP_FRAME_HDR_LEN + DTLS_RECORD_HEADER + 24 || m->data_len > sizeof(cap_frame))
        return false;
    const uint8_t *d = p + DP_FRAME_HDR_LEN;
    if (d[0] == DTLS_CT_APPLICATION_DATA && DTLS_RECORD_HEADER + ((uint32_t)d[11] << 8 | d[12]) == plen) {
        memcpy(cap_frame, p, m->data_len);
        cap_len = m->data_len;
    }
    return false;
}

/* the endpoint that receives the captured frame (matched by its source port) */
static struct pc *receiver_of_capture(void)
{
    const struct dp_frame *f = (const struct dp_frame *)cap_frame;
    uint16_t sport = rte_be_to_cpu_16(f->udp.src_port);
    for (uint32_t e = 0; e < edges(); e++) {
        struct dp_conn *c = &h.wk->conns->conn[e];
        if (h.ctx.ri.edges[e].port_a == sport)
            return &c->ep[1];
        if (h.ctx.ri.edges[e].port_b == sport)
            return &c->ep[0];
    }
    cr_assert_fail("captured frame of no edge");
    return NULL;
}

/* Receives m and checks it was counted under `why` only (one drop more,
 * every other reason unchanged). */
static void expect_drop(enum ri_drop why, struct rte_mbuf *m, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    cr_assert_not_null(m, "%s: no frame", what);
    uint64_t before[RI_DROP_COUNT];
    memcpy(before, live()->drops, sizeof(before));
    uint64_t rx = live()->pkts_rx;
    dp_harness_rx(&h, m);
    cr_assert_eq(live()->pkts_rx, rx + 1, "%s", what);
    for (int i = 0; i < RI_DROP_COUNT; i++)
        cr_assert_eq(live()->drops[i], before[i] + (i == (int)why), "%s: drop reason %d went %llu -> %llu "
                     "(expected reason %d)", what, i, (unsigned long long)before[i],
                     (unsigned long long)live()->drops[i], (int)why);
    /* whatever the connection sends in answer goes over the wire: no drop there either */
    memcpy(before, live()->drops, sizeof(before));
    dp_harness_run_for(&h, 10000000ull);
    for (int i = 0; i < RI_DROP_COUNT; i++)
        cr_assert_eq(live()->drops[i], before[i], "%s: drop reason %d counted afterwards", what, i);
}

static struct rte_mbuf *on_flow(uint32_t e, bool from_b, const uint8_t *d, uint16_t len)
{
    return dp_harness_flow_frame(&h, e, from_b, d, len);
}

/* Connects, captures a valid application-data record, lets the wire go quiet. */
static void connect_and_capture(void)
{
    connect_all();
    cap_len = 0;
    h.tap = capture_record;
    send_messages(10, 8);
    h.tap = NULL;
    cr_assert_gt(cap_len, 0, "no single-record application-data datagram seen");
    dp_harness_run_for(&h, 1 * SECOND);
}

Test(dc_conns, foreign_traffic_is_counted_by_reason_and_hurts_no_connection, .init = setup_routed_v12, .timeout = 120)
{
    connect_and_capture();
    cr_assert_eq(drops_total(), 0);

    /* first byte neither STUN, DTLS nor RTP (RFC 7983) */
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    const uint8_t firsts[] = {64, 100, 127, 4, 19, 192, 255};
    for (size_t i = 0; i < sizeof(firsts); i++) {
        junk[0] = firsts[i];
        expect_drop(RI_DROP_NOT_WEBRTC, on_flow((uint32_t)i, i & 1, junk, sizeof(junk)),
                    "first byte %u: not STUN, DTLS or RTP", firsts[i]);
    }
    expect_drop(RI_DROP_NOT_WEBRTC, on_flow(2, false, junk, 0), "an empty datagram");

    /* STUN-looking garbage: bad header, a request without credentials, a
     * response to no transaction, one byte */
    junk[0] = 0x00;
    expect_drop(RI_DROP_BAD_STUN, on_flow(0, false, junk, 40), "garbage after a STUN first byte");
    uint8_t req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    expect_drop(RI_DROP_BAD_STUN, on_flow(1, true, req, sizeof(req)), "binding request without USERNAME");
    req[0] = 0x01, req[1] = 0x01;
    expect_drop(RI_DROP_BAD_STUN, on_flow(3, false, req, sizeof(req)), "binding response to nothing");
    uint8_t one = 0x03;
    expect_drop(RI_DROP_BAD_STUN, on_flow(4, true, &one, 1), "a one-byte STUN datagram");

    /* DTLS records refused by the record layer */
    struct pc *rcv = receiver_of_capture();
    struct dtls_record_counters rc0 = *pc_record_counters(rcv);
    expect_drop(RI_DROP_BAD_RECORD, dp_harness_raw(&h, cap_frame, cap_len), "exact replay of a valid record");
    cr_assert_eq(pc_record_counters(rcv)->replayed, rc0.replayed + 1, "refused as a replay");
    uint8_t forged[2048];
    memcpy(forged, cap_frame, cap_len);
    uint8_t *rec = forged + DP_FRAME_HDR_LEN;
    rec[10] = (uint8_t)(rec[10] + 100); /* a fresh sequence number, ahead of the window */
    if (rec[10] < 100)
        rec[9]++;
    forged[cap_len - 1] ^= 0x5a; /* and a tag that does not verify */
    expect_drop(RI_DROP_BAD_RECORD, dp_harness_raw(&h, forged, cap_len), "a record with a bad tag");
    cr_assert_eq(pc_record_counters(rcv)->bad_auth, rc0.bad_auth + 1, "refused by the tag");
    memcpy(forged, cap_frame, cap_len);
    rec[4] = (uint8_t)(rec[4] + 1); /* epoch 2: no such keys */
    expect_drop(RI_DROP_BAD_RECORD, dp_harness_raw(&h, forged, cap_len), "a record of another epoch");

    /* frames of no connection */
    uint8_t dtls[40] = {DTLS_CT_APPLICATION_DATA, 0xfe, 0xfd};
    struct rte_mbuf *m = on_flow(0, false, dtls, sizeof(dtls));
    rte_pktmbuf_mtod(m, struct dp_frame *)->udp.dst_port = rte_cpu_to_be_16(9);
    expect_drop(RI_DROP_UNKNOWN_FLOW, m, "a port of no connection");
    m = on_flow(0, false, dtls, sizeof(dtls));
    struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
    f->ip.src_addr = rte_cpu_to_be_32(0xc61200c8); /* 198.18.0.200: no agent */
    f->ip.hdr_checksum = 0;
    f->ip.hdr_checksum = rte_ipv4_cksum(&f->ip);
    expect_drop(RI_DROP_UNKNOWN_FLOW, m, "an address of no agent");
    m = on_flow(0, false, dtls, sizeof(dtls));
    f = rte_pktmbuf_mtod(m, struct dp_frame *);
    f->ip.dst_addr = rte_cpu_to_be_32(h.ctx.ri.agents[5].ip); /* edge 0's ports towards another agent */
    f->ip.hdr_checksum = 0;
    f->ip.hdr_checksum = rte_ipv4_cksum(&f->ip);
    expect_drop(RI_DROP_UNKNOWN_FLOW, m, "the right ports to the wrong agent");

    /* broken L2-L4 */
    expect_drop(RI_DROP_TRUNCATED, dp_harness_raw(&h, cap_frame, 10), "10 bytes");
    expect_drop(RI_DROP_TRUNCATED, dp_harness_raw(&h, cap_frame, 30), "cut inside the IP header");
    expect_drop(RI_DROP_TRUNCATED, dp_harness_raw(&h, cap_frame, (uint16_t)(cap_len - 1)), "cut inside the record");
    m = dp_harness_raw(&h, cap_frame, cap_len);
    rte_pktmbuf_mtod(m, struct dp_frame *)->eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
    expect_drop(RI_DROP_NOT_IPV4, m, "IPv6");
    m = dp_harness_raw(&h, cap_frame, cap_len);
    rte_pktmbuf_mtod(m, struct dp_frame *)->eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    expect_drop(RI_DROP_NOT_IPV4, m, "ARP");
    m = dp_harness_raw(&h, cap_frame, cap_len);
    rte_pktmbuf_mtod(m, struct dp_frame *)->ip.version_ihl = 0x46;
    expect_drop(RI_DROP_BAD_IP_HEADER, m, "IP options");
    m = dp_harness_raw(&h, cap_frame, cap_len);
    rte_pktmbuf_mtod(m, struct dp_frame *)->udp.dgram_len = rte_cpu_to_be_16(9);
    expect_drop(RI_DROP_BAD_IP_HEADER, m, "UDP length disagrees with IP");
    m = dp_harness_raw(&h, cap_frame, cap_len);
    rte_pktmbuf_mtod(m, struct dp_frame *)->ip.next_proto_id = IPPROTO_TCP;
    expect_drop(RI_DROP_NOT_UDP, m, "TCP");

    /* nothing of that hurt a connection: all up, no SCTP drop, messages flow */
    cr_assert_eq(live()->conn_established, edges());
    cr_assert_eq(live()->conn_closed, 0);
    cr_assert_eq(live()->conn_attempts, edges());
    for (uint32_t i = 0; i < h.wk->conns->n; i++)
        cr_assert_eq(h.wk->conns->conn[i].state, DP_CONN_UP, "connection %u", i);
    uint64_t sent = live()->msgs_sent, delivered = live()->msgs_delivered;
    cr_assert_eq(delivered, sent);
    send_messages(30, 8);
    cr_assert_eq(live()->msgs_sent, sent + 240);
    cr_assert_eq(live()->msgs_delivered, delivered + 240, "delivered after the flood: %llu of 240",
                 (unsigned long long)(live()->msgs_delivered - delivered));
    cr_assert_eq(live()->msgs_dropped, 0);
    cr_assert_eq(live()->drops[RI_DROP_BAD_SCTP], 0);
    assert_no_leak();
}

Test(dc_conns, a_record_longer_than_its_datagram_is_one_drop, .init = setup_routed_v12, .timeout = 120)
{
    connect_and_capture();
    uint8_t forged[2048];
    memcpy(forged, cap_frame, cap_len);
    uint8_t *rec = forged + DP_FRAME_HDR_LEN;
    rec[12] = (uint8_t)(rec[12] + 40); /* the record claims more than the datagram holds */
    if (rec[12] < 40)
        rec[11]++;
    expect_drop(RI_DROP_BAD_RECORD, dp_harness_raw(&h, forged, cap_len), "one datagram, a truncated record");
    cr_assert_eq(live()->conn_established, edges());
    assert_no_leak();
}

Test(dc_conns, an_rtp_looking_datagram_without_media_is_counted, .init = setup_routed, .timeout = 120)
{
    /* no --media: nothing on this 5-tuple speaks RTP, so a datagram with
     * first byte 128..191 is foreign and must be counted as dropped
     * (DESIGN: every foreign packet is counted under a drop reason) */
    connect_all();
    dp_harness_run_for(&h, 1 * SECOND);
    uint8_t rtp[60] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44};
    uint64_t before = drops_total(), rx = live()->pkts_rx;
    dp_harness_rx(&h, dp_harness_flow_frame(&h, 1, false, rtp, sizeof(rtp)));
    cr_assert_eq(live()->pkts_rx, rx + 1);
    cr_assert_eq(drops_total(), before + 1,
                 "an RTP-looking datagram on a connection without media was received (pkts_rx +1) but "
                 "counted under no drop reason (not_webrtc %llu, bad_srtp %llu)",
                 (unsigned long long)live()->drops[RI_DROP_NOT_WEBRTC],
                 (unsigned long long)live()->drops[RI_DROP_BAD_SRTP]);
    cr_assert_eq(live()->conn_established, edges());
    assert_no_leak();
}

/* ---- a connection that cannot come up ----------------------------------- */

static uint32_t dead_edge;

static bool lose_dead_edge(struct dp_harness *hh, struct rte_mbuf *m, void *arg)
{
    (void)arg;
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    const struct ri_edge *ed = &hh->ctx.ri.edges[dead_edge];
    uint16_t sp = rte_be_to_cpu_16(f->udp.src_port);
    if (sp != ed->port_a && sp != ed->port_b)
        return false;
    rte_pktmbuf_free(m);
    return true;
}

static bool settled(const struct dp_harness *hh)
{
    const struct ri_counters *c = &hh->wk->m->live;
    return c->conn_established + c->conn_given_up == hh->ctx.ri.cfg->n_edges;
}

Test(dc_conns, a_connection_whose_frames_are_lost_is_retried_then_given_up)
{
    init_with(RI_PATTERN_NEIGHBORS);
    dead_edge = 3;
    h.tap = lose_dead_edge;
    int rc = dp_harness_run_until(&h, settled, 300 * SECOND);
    cr_assert_eq(rc, 0, "%d: %llu up, %llu given up", rc, (unsigned long long)live()->conn_established,
                 (unsigned long long)live()->conn_given_up);
    cr_assert_eq(live()->conn_established, edges() - 1);
    cr_assert_eq(live()->conn_given_up, 1);
    cr_assert_eq(live()->conn_attempts, edges() + 1, "setup_attempts 2: one retry");
    uint64_t failed = 0;
    for (int s = 0; s < RI_STAGE_COUNT; s++)
        failed += live()->conn_attempt_failed[s];
    cr_assert_eq(failed, 2, "both attempts counted as failed");
    cr_assert_eq(live()->conn_attempt_failed[RI_STAGE_ICE], 2, "no check ever answered: failed in ICE");
    cr_assert_eq(h.wk->conns->conn[dead_edge].state, DP_CONN_GIVEN_UP);
    cr_assert_eq(h.wk->conns->in_setup, 0);
    cr_assert_eq(h.wk->m->setup[RI_SETUP_TOTAL].count, edges() - 1);
    /* neighbour messages over the dead edge are dropped as conn_down, the rest delivered */
    send_messages(40, 8);
    uint64_t down = live()->drops[RI_DROP_CONN_DOWN];
    cr_assert_gt(down, 0, "some messages chose the dead edge");
    cr_assert_eq(live()->msgs_dropped, down);
    cr_assert_eq(live()->msgs_delivered + down, live()->msgs_sent, "every message delivered or counted");
    assert_no_leak();
}

/* ---- foreign traffic during the handshake ------------------------------- */

static bool both_in_dtls(const struct dp_harness *hh)
{
    const struct dp_conn *c = &hh->wk->conns->conn[0];
    return pc_stage(&c->ep[0]) == PC_DTLS && pc_stage(&c->ep[1]) == PC_DTLS;
}

/* A foreign datagram with first byte `first` to both endpoints of
 * connection 0 while they are in the DTLS handshake; the handshake must
 * go on: every connection up at the first attempt. */
static void foreign_during_handshake(const uint8_t *p, uint16_t len, const char *what)
{
    int rc = dp_harness_run_until(&h, both_in_dtls, 10 * SECOND);
    cr_assert_eq(rc, 0, "connection 0 never had both ends in the DTLS stage");
    dp_harness_rx(&h, dp_harness_flow_frame(&h, 0, false, p, len));
    dp_harness_rx(&h, dp_harness_flow_frame(&h, 0, true, p, len));
    connect_all();
    cr_assert_eq(live()->conn_attempts, edges(), "%s in the handshake failed %llu attempt(s) (dtls %llu)", what,
                 (unsigned long long)(live()->conn_attempts - edges()),
                 (unsigned long long)live()->conn_attempt_failed[RI_STAGE_DTLS]);
    cr_assert_eq(live()->conn_given_up, 0);
    assert_no_leak();
}

/* Garbage: byte i of d is i * mul + add. */
static void garbage(uint8_t *d, size_t n, unsigned mul, unsigned add)
{
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(i * mul + add);
}

/* A DTLS 1.2 record of n bytes (up to 268) with content type `type` and
 * epoch `epoch` around garbage (i * mul + add, the sequence number too). */
static void forged_record(uint8_t *rec, size_t n, uint8_t type, uint8_t epoch, unsigned mul, unsigned add)
{
    garbage(rec, n, mul, add);
    rec[0] = type, rec[1] = 0xfe, rec[2] = 0xfd, rec[3] = 0, rec[4] = epoch;
    rec[11] = 0, rec[12] = (uint8_t)(n - DTLS_RECORD_HEADER);
}

Test(dc_conns, a_forged_application_data_record_does_not_fail_the_handshake, .init = setup_routed, .timeout = 120)
{
    uint8_t rec[100];
    forged_record(rec, sizeof(rec), DTLS_CT_APPLICATION_DATA, 1, 29, 3);
    foreign_during_handshake(rec, sizeof(rec), "a forged epoch-1 application-data record");
}

Test(dc_conns, a_forged_epoch_0_handshake_record_does_not_fail_the_handshake, .init = setup_routed, .timeout = 120)
{
    uint8_t rec[100];
    forged_record(rec, sizeof(rec), DTLS_CT_HANDSHAKE, 0, 31, 7);
    foreign_during_handshake(rec, sizeof(rec), "a garbage epoch-0 handshake record");
}

Test(dc_conns, garbage_with_a_dtls_first_byte_does_not_fail_the_handshake, .init = setup_routed, .timeout = 120)
{
    uint8_t g[60];
    garbage(g, sizeof(g), 13, 5);
    g[0] = 47; /* 20..63: demultiplexed as DTLS */
    foreign_during_handshake(g, sizeof(g), "garbage with first byte 47");
}

Test(dc_conns, not_webrtc_and_broken_stun_do_not_fail_the_handshake, .init = setup_routed, .timeout = 120)
{
    uint8_t g[60];
    for (size_t i = 0; i < sizeof(g); i++)
        g[i] = (uint8_t)(i * 17 + 1);
    g[0] = 90;
    int rc = dp_harness_run_until(&h, both_in_dtls, 10 * SECOND);
    cr_assert_eq(rc, 0);
    dp_harness_rx(&h, dp_harness_flow_frame(&h, 0, false, g, sizeof(g)));
    g[0] = 0;
    dp_harness_rx(&h, dp_harness_flow_frame(&h, 0, true, g, sizeof(g)));
    cr_assert_eq(live()->drops[RI_DROP_NOT_WEBRTC], 1);
    cr_assert_eq(live()->drops[RI_DROP_BAD_STUN], 1);
    connect_all();
    cr_assert_eq(live()->conn_attempts, edges());
    assert_no_leak();
}
