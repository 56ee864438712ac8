/* SPDX-License-Identifier: MIT */
/*
 * Interop with usrsctp (Debian's libusrsctp, AF_CONN, its timers on our
 * virtual clock), our engine in both roles: association set-up; messages
 * of 1 B, 1 KiB, 64 KiB and 256 KiB each way, ordered and unordered, on a
 * clean link and with 5 % loss, reordering and duplication, delivered
 * byte-exact and in the promised order; partial reliability both ways
 * (what is abandoned is what the policy says); stream reset both ways;
 * graceful shutdown and abort both ways; DCEP against a DataChannel peer
 * written here on usrsctp from RFC 8832's layouts.
 */
#include <criterion/criterion.h>

#include "test_scale.h"
#include "sctp_internal.h"
#include "usrsctp_ep.h"

#define SEC 1000000000ull

struct ctx {
    struct flow f[2];
    int nflows;
    int up[2], down[2], down_reason[2];
    int dc_open[2], dc_acked[2], dc_closed[2], resets[2];
    uint16_t reset_sid[2];
    uint16_t dc_sid;
    char label[64];
    uint8_t last_dcep[2][256];
    uint32_t last_dcep_len[2], last_ppid[2], last_len[2], other_msgs[2];
    uint16_t last_sid[2];
};

static struct ctx C;
static struct world W;

static void on_event(struct world *w, int side, const struct sctp_ev *ev, const uint8_t *d)
{
    (void)w;
    switch (ev->type) {
    case SCTP_EV_UP: C.up[side]++; break;
    case SCTP_EV_DOWN: C.down[side]++; C.down_reason[side] = ev->down_reason; break;
    case SCTP_EV_DC_OPEN:
        C.dc_open[side]++;
        C.dc_sid = ev->sid;
        memcpy(C.label, d, ev->len < 63 ? ev->len : 63); /* label, then protocol */
        break;
    case SCTP_EV_DC_ACKED: C.dc_acked[side]++; break;
    case SCTP_EV_DC_CLOSED: C.dc_closed[side]++; break;
    case SCTP_EV_STREAM_RESET: C.resets[side]++; C.reset_sid[side] = ev->sid; break;
    case SCTP_EV_MESSAGE: {
        bool mine = false;
        for (int i = 0; i < C.nflows; i++)
            if (C.f[i].from == 1 - side && C.f[i].sid == ev->sid && C.f[i].ppid == ev->ppid) {
                flow_deliver(&C.f[i], d, ev->len);
                mine = true;
            }
        if (!mine) {
            C.other_msgs[side]++;
            C.last_ppid[side] = ev->ppid;
            C.last_len[side] = ev->len;
            C.last_sid[side] = ev->sid;
            if (ev->ppid == SCTP_PPID_DCEP && ev->len <= sizeof(C.last_dcep[side])) {
                memcpy(C.last_dcep[side], d, ev->len);
                C.last_dcep_len[side] = ev->len;
            }
        }
        break;
    }
    default: break;
    }
}

static void tick(struct world *w)
{
    for (int i = 0; i < C.nflows; i++)
        flow_feed(w, &C.f[i]);
}

static bool both_up(struct world *w) { (void)w; return C.up[0] && C.up[1]; }
static bool both_down(struct world *w) { (void)w; return C.down[0] && C.down[1]; }
static bool flows_done(struct world *w)
{
    (void)w;
    for (int i = 0; i < C.nflows; i++)
        if (C.f[i].recvd < C.f[i].total)
            return false;
    return true;
}

/* SCTP_DEBUG=1 in the environment: one line per packet with its chunks */
static void dbg_packet(struct world *w, int from, const uint8_t *pkt, size_t len)
{
    fprintf(stderr, "%10.3f ms %s %4zu:", (double)(w->now - 1000000000ull) / 1e6, from ? "usrsctp" : "ours   ", len);
    for (size_t o = 12; o + 4 <= len;) {
        uint16_t cl = wire_get16(pkt + o + 2);
        switch (pkt[o]) {
        case CT_DATA: fprintf(stderr, " DATA %u", wire_get32(pkt + o + 4)); break;
        case CT_SACK:
            fprintf(stderr, " SACK %u rwnd %u", wire_get32(pkt + o + 4), wire_get32(pkt + o + 8));
            for (int g = 0; g < wire_get16(pkt + o + 12) && 16u + 4u * g + 4 <= cl; g++)
                fprintf(stderr, " [%u-%u]", wire_get16(pkt + o + 16 + 4 * g), wire_get16(pkt + o + 18 + 4 * g));
            break;
        case CT_FORWARD_TSN: fprintf(stderr, " FWD %u", wire_get32(pkt + o + 4)); break;
        default: fprintf(stderr, " chunk%u", pkt[o]); break;
        }
        if (cl < 4)
            break;
        o += (cl + 3u) & ~3u;
    }
    fprintf(stderr, "\n");
}

/* Our engine on side 0, usrsctp on side 1; ours_server: who waits. */
static struct usr_ep *setup(bool ours_server, bool dcep, uint64_t seed)
{
    memset(&C, 0, sizeof(C));
    world_init(&W, seed, 5 * 1000000ull);
    W.on_event = on_event;
    W.tick = tick;
    if (getenv("SCTP_DEBUG"))
        W.on_packet = dbg_packet;
    struct sctp_config c;
    sctp_config_default(&c);
    c.dcep = dcep;
    c.seed = seed;
    c.dtls_client = !ours_server;
    c.sndbuf = 8u << 20;
    c.rwnd = 4u << 20;
    cr_assert_not_null(world_ours(&W, 0, &c, 16384));
    usr_stack_init();
    struct usr_ep *u = world_usrsctp(&W, 1, !ours_server);
    cr_assert_not_null(u, "usrsctp endpoint: %s", strerror(errno));
    if (!ours_server)
        cr_assert_eq(sctp_connect(W.ours[0].a, W.now), 0);
    cr_assert(world_run(&W, both_up, 60 * SEC), "association up (ours %s)", ours_server ? "server" : "client");
    return u;
}

static void lossy(uint32_t loss, uint32_t reorder, uint32_t dup)
{
    for (int i = 0; i < 2; i++) {
        W.p[i].loss_ppm = loss;
        W.p[i].reorder_ppm = reorder;
        W.p[i].dup_ppm = dup;
    }
}

static void check_no_protocol_drops(void)
{
    const struct sctp_counters *k = sctp_counters(W.ours[0].a);
    cr_assert_eq(k->drops[SCTP_DROP_BAD_CHECKSUM] + k->drops[SCTP_DROP_BAD_VTAG] + k->drops[SCTP_DROP_BAD_CHUNK] +
                     k->drops[SCTP_DROP_UNKNOWN_CHUNK] + k->drops[SCTP_DROP_TOO_BIG] + k->drops[SCTP_DROP_BAD_STREAM],
                 0, "drops: csum %lu vtag %lu chunk %lu unknown %lu big %lu stream %lu",
                 (unsigned long)k->drops[SCTP_DROP_BAD_CHECKSUM], (unsigned long)k->drops[SCTP_DROP_BAD_VTAG],
                 (unsigned long)k->drops[SCTP_DROP_BAD_CHUNK], (unsigned long)k->drops[SCTP_DROP_UNKNOWN_CHUNK],
                 (unsigned long)k->drops[SCTP_DROP_TOO_BIG], (unsigned long)k->drops[SCTP_DROP_BAD_STREAM]);
}

static void teardown(void)
{
    world_free(&W);
}

static void exchange(bool ours_server, size_t size, uint32_t count, bool unordered, uint32_t loss,
                     uint32_t reorder, uint32_t dup)
{
    if (size >= 1024)
        count = test_scale(count); /* the sanitizer stage moves a tenth (1-byte messages are cheap) */
    setup(ours_server, false, size * 7 + count + loss + (ours_server ? 1 : 0) + (unordered ? 2 : 0));
    lossy(loss, reorder, dup);
    struct sctp_send_opts o = {.unordered = unordered};
    C.nflows = 2;
    flow_init(&C.f[0], 0, 1, size, count, &o);
    flow_init(&C.f[1], 1, 2, size, count, &o);
    bool ok = world_run(&W, flows_done, 36000 * SEC);
    for (int i = 0; i < 2; i++) {
        cr_assert(ok, "%s: %u of %u delivered (%s → %s)", ok ? "" : "stalled", C.f[i].recvd, C.f[i].total,
                  i ? "usrsctp" : "ours", i ? "ours" : "usrsctp");
        cr_assert_eq(C.f[i].bad_content, 0);
        cr_assert_eq(C.f[i].bad_order, 0);
        cr_assert_eq(C.f[i].dup, 0);
        cr_assert_eq(C.f[i].send_errors, 0);
    }
    if (loss)
        cr_assert_gt(sctp_counters(W.ours[0].a)->retransmissions, 0);
    check_no_protocol_drops();
    cr_log_info("%zu B x %u each way%s, loss %u ppm: ours sent %lu DATA chunks (%lu retransmitted: %lu fast, "
                "%lu T3), %lu SACKs, cwnd %u, srtt %.1f ms; virtual time %.1f s", size, count,
                unordered ? " unordered" : "", loss,
                (unsigned long)sctp_counters(W.ours[0].a)->data_chunks_out,
                (unsigned long)sctp_counters(W.ours[0].a)->retransmissions,
                (unsigned long)sctp_counters(W.ours[0].a)->fast_retransmits,
                (unsigned long)sctp_counters(W.ours[0].a)->t3_timeouts,
                (unsigned long)sctp_counters(W.ours[0].a)->sacks_out, sctp_cwnd(W.ours[0].a),
                (double)sctp_srtt_ns(W.ours[0].a) / 1e6, (double)(W.now - 1000000000ull) / 1e9);
    flow_free(&C.f[0]);
    flow_free(&C.f[1]);
    teardown();
}

/* clean link: 10,000 messages each way of every size, both roles */
Test(usrsctp, client_1b) { exchange(false, 1, 10000, false, 0, 0, 0); }
Test(usrsctp, client_1k) { exchange(false, 1024, 10000, false, 0, 0, 0); }
Test(usrsctp, client_64k) { exchange(false, 64 << 10, 10000, false, 0, 0, 0); }
Test(usrsctp, client_256k) { exchange(false, 256 << 10, 10000, false, 0, 0, 0); }
Test(usrsctp, server_1b) { exchange(true, 1, 10000, false, 0, 0, 0); }
Test(usrsctp, server_1k) { exchange(true, 1024, 10000, false, 0, 0, 0); }
Test(usrsctp, server_64k) { exchange(true, 64 << 10, 10000, false, 0, 0, 0); }
Test(usrsctp, server_256k) { exchange(true, 256 << 10, 10000, false, 0, 0, 0); }
Test(usrsctp, client_1k_unordered) { exchange(false, 1024, 10000, true, 0, 0, 0); }
Test(usrsctp, server_64k_unordered) { exchange(true, 64 << 10, 2000, true, 0, 0, 0); }
/* 5 % loss with reordering and duplication */
Test(usrsctp, client_1b_lossy) { exchange(false, 1, 10000, false, 50000, 20000, 20000); }
Test(usrsctp, client_1k_lossy) { exchange(false, 1024, 10000, false, 50000, 20000, 20000); }
Test(usrsctp, server_1k_lossy) { exchange(true, 1024, 10000, false, 50000, 20000, 20000); }
Test(usrsctp, client_1k_unordered_lossy) { exchange(false, 1024, 10000, true, 50000, 20000, 20000); }
Test(usrsctp, server_64k_lossy) { exchange(true, 64 << 10, 1000, false, 50000, 20000, 20000); }
Test(usrsctp, client_256k_lossy) { exchange(false, 256 << 10, 200, false, 50000, 20000, 20000); }
Test(usrsctp, server_256k_unordered_lossy) { exchange(true, 256 << 10, 200, true, 50000, 20000, 20000); }

/* ---- partial reliability ---- */

static void pr_both_ways(bool ours_server, enum sctp_pr_policy pr, uint32_t value, bool unordered)
{
    setup(ours_server, false, 900 + pr * 10 + ours_server);
    lossy(100000, 0, 0);
    struct sctp_send_opts o = {.unordered = unordered, .pr = pr, .pr_value = value};
    C.nflows = 2;
    flow_init(&C.f[0], 0, 1, 400, 3000, &o);
    flow_init(&C.f[1], 1, 2, 400, 3000, &o);
    /* two seconds on a lossy link, then the rest on a clean one; then
     * whatever is left is settled */
    uint64_t end = W.now + 600 * SEC, lossy_end = W.now + 2 * SEC;
    while (W.now < lossy_end)
        world_step(&W);
    lossy(0, 0, 0);
    while (W.now < end && (C.f[0].sent < 3000 || C.f[1].sent < 3000 || sctp_buffered(W.ours[0].a)))
        world_step(&W);
    uint64_t settle = W.now + 30 * SEC;
    while (W.now < settle && world_step(&W))
        ;
    const struct sctp_counters *k = sctp_counters(W.ours[0].a);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(C.f[i].sent, 3000);
        cr_assert_eq(C.f[i].bad_content, 0);
        cr_assert_eq(C.f[i].dup, 0);
        cr_assert_eq(C.f[i].bad_order, 0, "ordered partial reliability keeps the order of what arrives");
        cr_assert_lt(C.f[i].recvd, 3000, "10%% loss with %s abandons something", pr == SCTP_PR_RTX ? "rexmit" : "ttl");
        cr_assert_gt(C.f[i].recvd, 0);
    }
    /* ours → usrsctp: what did not arrive is exactly what we abandoned */
    cr_assert_eq(C.f[0].recvd + k->abandoned_messages, 3000, "usrsctp got %u, we abandoned %lu", C.f[0].recvd,
                 (unsigned long)k->abandoned_messages);
    cr_assert_gt(k->forward_tsns_out, 0);
    /* usrsctp → ours: usrsctp's FORWARD-TSNs moved us past its abandoned
     * messages (with a lifetime it may drop them before they get a TSN) */
    if (pr == SCTP_PR_RTX)
        cr_assert_gt(k->forward_tsns_in, 0);
    {
        const struct sctp_assoc *a = W.ours[0].a;
        int rx = 0, rd = 0;
        for (uint32_t i = a->rx_head; i != SCTP_NIL; i = pbuf(a->pool, i)->next, rx++)
            if (rx < 5)
                cr_log_info("rx tsn %u sid %u ssn %u flags %x (cum %u, ssn_in %u)", pbuf(a->pool, i)->tsn,
                            pbuf(a->pool, i)->sid, pbuf(a->pool, i)->ssn, pbuf(a->pool, i)->flags, a->rcv_cum,
                            a->streams[pbuf(a->pool, i)->sid].ssn_in);
        for (uint32_t i = a->ready_head; i != SCTP_NIL; i = pbuf(a->pool, i)->next)
            rd++;
        cr_assert_eq(sctp_pool_free_count(W.ours[0].pool), 16384,
                     "no buffer left behind: rx %d ready %d sackq %d buffered %u", rx, rd, a->sack_q_n,
                     sctp_buffered(a));
    }
    /* and the association is healthy: reliable messages after it */
    C.nflows = 2;
    flow_free(&C.f[0]);
    flow_free(&C.f[1]);
    flow_init(&C.f[0], 0, 3, 1000, 100, NULL);
    flow_init(&C.f[1], 1, 4, 1000, 100, NULL);
    bool after_ok = world_run(&W, flows_done, 60 * SEC);
    if (!after_ok) {
        const struct sctp_assoc *a = W.ours[0].a;
        int rx = 0;
        for (uint32_t i = a->rx_head; i != SCTP_NIL; i = pbuf(a->pool, i)->next, rx++)
            if (rx < 8)
                cr_log_info("rx tsn %u sid %u ssn %u flags %x (cum %u, ssn_in %u)", pbuf(a->pool, i)->tsn,
                            pbuf(a->pool, i)->sid, pbuf(a->pool, i)->ssn, pbuf(a->pool, i)->flags, a->rcv_cum,
                            a->streams[pbuf(a->pool, i)->sid].ssn_in);
        cr_log_info("rx list %d, messages_in %lu, ready %u, cum %u highest %u", rx, (unsigned long)k->messages_in,
                    a->ready_head, a->rcv_cum, a->rcv_highest);
        for (int d = 0; d < SCTP_DROP_COUNT; d++)
            if (k->drops[d])
                cr_log_info("drop %s: %lu", sctp_drop_name(d), (unsigned long)k->drops[d]);
    }
    cr_assert(after_ok, "after: ours→usrsctp %u/%u (bad %u dup %u), usrsctp→ours %u/%u (bad %u dup %u order %u)",
              C.f[0].recvd, C.f[0].sent, C.f[0].bad_content, C.f[0].dup, C.f[1].recvd, C.f[1].sent,
              C.f[1].bad_content, C.f[1].dup, C.f[1].bad_order);
    check_no_protocol_drops();
    flow_free(&C.f[0]);
    flow_free(&C.f[1]);
    teardown();
}

Test(usrsctp, pr_rexmit0_ordered_client) { pr_both_ways(false, SCTP_PR_RTX, 0, false); }
Test(usrsctp, pr_rexmit1_unordered_server) { pr_both_ways(true, SCTP_PR_RTX, 1, true); }
Test(usrsctp, pr_lifetime_unordered_client) { pr_both_ways(false, SCTP_PR_TTL, 100, true); }

/* ---- stream reset ---- */

static void stream_reset(bool ours_server)
{
    struct usr_ep *u = setup(ours_server, false, 300 + ours_server);
    C.nflows = 2;
    flow_init(&C.f[0], 0, 3, 100, 50, NULL);
    flow_init(&C.f[1], 1, 3, 100, 50, NULL);
    cr_assert(world_run(&W, flows_done, 30 * SEC));
    /* we reset our outgoing stream 3: usrsctp sees its incoming 3 reset */
    uint16_t sid = 3;
    cr_assert_eq(sctp_reset_outgoing(W.ours[0].a, &sid, 1, W.now), 0);
    for (int k = 0; k < 10000 && !C.resets[1]; k++)
        world_step(&W);
    cr_assert_eq(C.resets[1], 1);
    cr_assert_eq(C.reset_sid[1], 3);
    /* usrsctp resets its outgoing 3 */
    cr_assert_eq(usr_reset_stream(u, 3), 0, "%s", strerror(errno));
    for (int k = 0; k < 10000 && !C.resets[0]; k++)
        world_step(&W);
    cr_assert_eq(C.resets[0], 1);
    cr_assert_eq(C.reset_sid[0], 3);
    cr_assert_eq(sctp_counters(W.ours[0].a)->reconf_in, 1);
    /* the streams carry on from SSN 0 both ways */
    flow_free(&C.f[0]);
    flow_free(&C.f[1]);
    flow_init(&C.f[0], 0, 3, 100, 50, NULL);
    flow_init(&C.f[1], 1, 3, 100, 50, NULL);
    cr_assert(world_run(&W, flows_done, 30 * SEC));
    for (int i = 0; i < 2; i++)
        cr_assert_eq(C.f[i].bad_order + C.f[i].bad_content + C.f[i].dup, 0);
    check_no_protocol_drops();
    flow_free(&C.f[0]);
    flow_free(&C.f[1]);
    teardown();
}

Test(usrsctp, stream_reset_client) { stream_reset(false); }
Test(usrsctp, stream_reset_server) { stream_reset(true); }

/* ---- shutdown and abort ---- */

static void closing(bool ours_server, bool we_close, bool abort)
{
    struct usr_ep *u = setup(ours_server, false, 400 + ours_server * 2 + we_close * 4 + abort);
    C.nflows = 2;
    flow_init(&C.f[0], 0, 1, 3000, 200, NULL);
    flow_init(&C.f[1], 1, 2, 3000, 200, NULL);
    lossy(50000, 0, 0);
    if (abort) {
        cr_assert(world_run(&W, flows_done, 120 * SEC));
        if (we_close)
            sctp_abort(W.ours[0].a, W.now);
        else
            usr_abort(u);
        cr_assert(world_run(&W, both_down, 60 * SEC) || (!we_close && C.down[0]));
        cr_assert_eq(C.down[0], 1);
        cr_assert_eq(C.down_reason[0], we_close ? SCTP_DOWN_ABORT_SENT : SCTP_DOWN_ABORT_RECEIVED);
        if (we_close)
            cr_assert_eq(C.down[1], 1, "usrsctp saw the ABORT");
    } else {
        /* everything sent before the shutdown still arrives */
        while (C.f[0].sent < 200 || C.f[1].sent < 200)
            world_step(&W);
        if (we_close) {
            cr_assert_eq(sctp_shutdown(W.ours[0].a, W.now), 0);
            cr_assert(world_run(&W, both_down, 600 * SEC), "down: ours %d usrsctp %d", C.down[0], C.down[1]);
            cr_assert_eq(C.f[0].recvd, 200);
        } else {
            /* usrsctp_close without linger: usrsctp sends what it has
             * queued, then SHUTDOWN (usrsctp_shutdown() answers ENOTCONN
             * on this socket) */
            while (!C.f[0].recvd || C.f[0].recvd < C.f[0].sent)
                if (!world_step(&W))
                    break;
            usrsctp_close(u->sock);
            u->sock = NULL;
            for (uint64_t end = W.now + 600 * SEC; !C.down[0] && W.now < end;)
                world_step(&W);
        }
        cr_assert_eq(C.down[0], 1);
        {
            const struct sctp_counters *k = sctp_counters(W.ours[0].a);
            for (int d = 0; d < SCTP_DROP_COUNT; d++)
                if (k->drops[d])
                    cr_log_info("drop %s: %lu", sctp_drop_name(d), (unsigned long)k->drops[d]);
            cr_log_info("flows: %u/%u %u/%u", C.f[0].recvd, C.f[0].sent, C.f[1].recvd, C.f[1].sent);
        }
        cr_assert_eq(C.down_reason[0], SCTP_DOWN_SHUTDOWN);
        cr_assert_eq(C.f[1].recvd, 200);
    }
    cr_assert_eq(sctp_state(W.ours[0].a), SCTP_ST_CLOSED);
    cr_assert_eq(sctp_pool_free_count(W.ours[0].pool), 16384);
    flow_free(&C.f[0]);
    flow_free(&C.f[1]);
    teardown();
}

Test(usrsctp, shutdown_by_us_client) { closing(false, true, false); }
Test(usrsctp, shutdown_by_usrsctp_server) { closing(true, false, false); }
Test(usrsctp, abort_by_us_server) { closing(true, true, true); }
Test(usrsctp, abort_by_usrsctp_client) { closing(false, false, true); }

/* ---- DCEP against a DataChannel peer written on usrsctp ---- */

static bool dcep_seen(struct world *w) { (void)w; return C.last_dcep_len[1] > 0; }

Test(usrsctp, dcep_both_ways)
{
    struct usr_ep *u = setup(false, true, 500); /* we are the DTLS client: even ids */
    struct sctp_dc_opts o = {.type = SCTP_DC_RELIABLE, .priority = 256, .label = "agent-7", .label_len = 7,
                             .protocol = "", .protocol_len = 0};
    cr_assert_eq(sctp_dc_open(W.ours[0].a, &o, W.now), 0);
    cr_assert(world_run(&W, dcep_seen, 10 * SEC));
    /* RFC 8832 §5.1 layout, as the peer receives it */
    static const uint8_t want[] = {0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x07, 0x00, 0x00,
                                   'a', 'g', 'e', 'n', 't', '-', '7'};
    cr_assert_eq(C.last_dcep_len[1], sizeof(want));
    cr_assert_arr_eq(C.last_dcep[1], want, sizeof(want));
    cr_assert_eq(C.last_sid[1], 0);
    /* the peer answers DATA_CHANNEL_ACK (§5.2) */
    const uint8_t ack = 0x02;
    struct sctp_send_opts rel = {0};
    cr_assert_eq(usr_send(&W, 1, 0, SCTP_PPID_DCEP, &ack, 1, &rel), 0);
    for (int k = 0; k < 1000 && !C.dc_acked[0]; k++)
        world_step(&W);
    cr_assert_eq(C.dc_acked[0], 1);
    /* the peer (DTLS server) opens channel 1, partially reliable by time */
    static const uint8_t open1[] = {0x03, 0x82, 0x00, 0x80, 0x00, 0x00, 0x01, 0xf4, 0x00, 0x03, 0x00, 0x04,
                                    'b', 'u', 's', 'j', 's', 'o', 'n'};
    C.last_dcep_len[1] = 0;
    cr_assert_eq(usr_send(&W, 1, 1, SCTP_PPID_DCEP, open1, sizeof(open1), &rel), 0);
    cr_assert(world_run(&W, dcep_seen, 10 * SEC));
    cr_assert_eq(C.dc_open[0], 1);
    cr_assert_eq(C.dc_sid, 1);
    cr_assert_eq(memcmp(C.label, "busjson", 7), 0, "label then protocol");
    cr_assert_eq(C.last_dcep_len[1], 1);
    cr_assert_eq(C.last_dcep[1][0], 0x02, "our DATA_CHANNEL_ACK");
    cr_assert_eq(C.last_sid[1], 1);
    /* messages: string, binary, empty binary (PPID 57 with one zero byte) */
    cr_assert_eq(sctp_dc_send(W.ours[0].a, 0, "hi", 2, false, W.now), 0);
    uint32_t before = C.other_msgs[1];
    while (C.other_msgs[1] == before)
        world_step(&W);
    cr_assert_eq(C.last_ppid[1], SCTP_PPID_STRING);
    cr_assert_eq(C.last_len[1], 2);
    cr_assert_eq(sctp_dc_send(W.ours[0].a, 0, NULL, 0, true, W.now), 0);
    before = C.other_msgs[1];
    while (C.other_msgs[1] == before)
        world_step(&W);
    cr_assert_eq(C.last_ppid[1], SCTP_PPID_BINARY_EMPTY);
    cr_assert_eq(C.last_len[1], 1);
    /* the peer's messages on its channel reach us */
    C.nflows = 1;
    flow_init(&C.f[0], 1, 1, 500, 100, NULL);
    cr_assert(world_run(&W, flows_done, 10 * SEC));
    /* closing: we reset our outgoing 0, the peer answers by resetting its own */
    cr_assert_eq(sctp_dc_close(W.ours[0].a, 0, W.now), 0);
    for (int k = 0; k < 10000 && !C.resets[1]; k++)
        world_step(&W);
    cr_assert_eq(C.resets[1], 1);
    cr_assert_eq(usr_reset_stream(u, 0), 0);
    for (int k = 0; k < 10000 && !C.dc_closed[0]; k++)
        world_step(&W);
    cr_assert_eq(C.dc_closed[0], 1);
    /* the peer closes its channel 1: we answer with our reset and close it */
    C.resets[1] = 0;
    cr_assert_eq(usr_reset_stream(u, 1), 0);
    for (int k = 0; k < 10000 && C.dc_closed[0] < 2; k++)
        world_step(&W);
    cr_assert_eq(C.dc_closed[0], 2);
    cr_assert_eq(C.resets[1], 1, "we reset our side of channel 1 in answer");
    cr_assert_eq(C.reset_sid[1], 1);
    check_no_protocol_drops();
    flow_free(&C.f[0]);
    teardown();
}
