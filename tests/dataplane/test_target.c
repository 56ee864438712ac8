/* SPDX-License-Identifier: MIT */
/*
 * dp_target: target mode's sessions on the external port (a net_ring
 * vdev in the dc harness), against a server played here: a struct pc of
 * its own (ICE controlled, the other DTLS role, its own certificate)
 * behind an address on the port's link, which answers ARP, echoes every
 * DataChannel message and every SRTP packet (with its own SSRC, as Janus
 * EchoTest does) and sends RTCP receiver reports about our stream. The
 * test carries the frames both ways: what dp_target queued for the port
 * (ext->tx) goes to the server, what the server sends comes in through
 * dp_external_rx. Two more tests put the target session against our own
 * `--external echo` session (dp_external, ICE-lite answerer) on the same
 * port, in both DTLS roles. Virtual time: the harness's fake 1 GHz TSC.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ethdev.h>

#include "cp.h"
#include "dp_external.h"
#include "dp_external_internal.h"
#include "dp_harness.h"
#include "dp_target.h"
#include "dtls_cert.h"
#include "external.h"
#include "pc.h"
#include "rtcp.h"
#include "srtp_session.h"
#include "wire.h"

#define SLOTS 4u
#define SRV_IP 0xc613fffeu /* 198.19.255.254, on the port's link */
#define SRV_PORT 9000
#define SRV_SSRC 0x12345678u
#define OUR_SSRC 0x0abc0001u
#define SRV_VSSRC 0x22334455u /* the server's video SSRC (it rewrites ours, as Janus does) */
#define OUR_VSSRC 0x0abc0002u
#define VP8_PT 100
#define STEP_NS 100000ull /* a wire pass: 100 us */

static const uint8_t srv_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

static struct dp_harness h;
static struct ri_target *tg;
static struct dp_external *ext;

/* the server */
static struct {
    struct cp cp;
    struct dtls_cert cert;
    struct dtls_hs_pool hs;
    void *pool_mem;
    struct sctp_pool *pool;
    void *sctp_mem;
    struct pc pc;
    struct pc_setup su;
    struct dtls_record_keys keys;
    struct pc_counters counters;
    struct srtps_session srtp;
    struct srtps_session vsrtp; /* video: its own context (one SSRC a direction) */
    struct rtcp_session rtcp;
    uint64_t vrtp_in, vkeys, vrtp_echoed; /* our video packets, key frames among them (VP8 P bit) */
    bool vwatch;                          /* armed: note whether the next frame that starts is a key frame */
    int vnext_key;                        /* -1 none started since vwatch, else 0 or 1 */
    bool have_pc, up, keyed, closed, silent, echo;
    uint32_t agent_ip;
    uint64_t arp_requests, rtp_echoed, rtcp_from_us, next_rr;
    uint8_t msg[RI_MSG_MAX];
} srv;

/* Frames from the server on the wire: delivered at the next pass (a
 * round trip takes at least one). */
static struct rte_mbuf *wire[4096];
static uint32_t n_wire;

static void setup(void)
{
    struct dp_harness_dc_opts o = {.target_slots = SLOTS};
    cr_assert_eq(dp_harness_init_dc(&h, &o), 0);
    struct ri_external *x = ri_section(h.ctx.ri.hdr, RI_SEC_EXTERNAL);
    ctl_external_prepare(x, RI_EXT_OFF, 0, "net_ring_sgtgt0", 0);
    tg = ri_section(h.ctx.ri.hdr, RI_SEC_TARGET);
    tg->n_slots = SLOTS;
    tg->msg_size = 200;
    tg->msg_interval_ns = 20000000ull; /* 50 messages/s a session */
    tg->setup_timeout_ns = 3000000000ull;
    char err[256];
    cr_assert_eq(dp_external_init(&h.ctx, err, sizeof(err)), 0, "%s", err);
    ext = h.ctx.external;
    cr_assert_not_null(ext->target, "target mode's sessions on the port");
    cr_assert_gt(dp_target_bytes(ext->target), 0);
    ext->tsc0 = 0; /* the harness's fake TSC */
    h.tsc = 1000;
    memset(&srv, 0, sizeof(srv));
    srv.echo = true;
    cr_assert_eq(cp_default_create(&srv.cp), 0);
    cr_assert_eq(dtls_cert_generate(&srv.cert, &srv.cp), 0);
    cr_assert_eq(dtls_hs_pool_init(&srv.hs, 2), 0);
    size_t pb = (sctp_pool_size(4096, 1200) + 63) & ~(size_t)63;
    srv.pool_mem = aligned_alloc(64, pb);
    srv.pool = sctp_pool_init(srv.pool_mem, 4096, 1200);
    srv.sctp_mem = aligned_alloc(64, (sctp_assoc_size(16) + 63) & ~(size_t)63);
    cr_assert_not_null(srv.pool);
}

static void teardown(void)
{
    for (uint32_t i = 0; i < n_wire; i++)
        rte_pktmbuf_free(wire[i]);
    n_wire = 0;
    if (srv.have_pc)
        pc_free(&srv.pc);
    dp_external_free(&h.ctx);
    dp_harness_fini_dc(&h);
    dtls_hs_pool_destroy(&srv.hs);
    dtls_cert_free(&srv.cert);
    cp_destroy(&srv.cp);
    free(srv.pool_mem);
    free(srv.sctp_mem);
}

TestSuite(target, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t now_ns(void)
{
    return dp_ext_ns(&h.ctx, ext, h.tsc);
}

/* What control does: the answer's fields, then seq with release. */
static void slot_request(uint32_t slot, uint32_t seq, uint32_t agent, bool dtls_client, bool audio)
{
    struct ri_target_slot *sl = ri_target_slot(tg, slot);
    sl->agent = agent;
    sl->dtls_client = dtls_client;
    sl->audio = audio;
    sl->audio_pt = 111;
    sl->audio_ssrc = OUR_SSRC;
    sl->n_cands = 1;
    sl->remote_sctp_port = 5000;
    sl->cand[0] = (struct ri_target_cand){.ip = SRV_IP, .port = SRV_PORT, .type = RI_CAND_HOST, .priority = 1};
    snprintf(sl->local_ufrag, sizeof(sl->local_ufrag), "ourufrag");
    snprintf(sl->local_pwd, sizeof(sl->local_pwd), "our-password-0123456789");
    snprintf(sl->remote_ufrag, sizeof(sl->remote_ufrag), "srvu");
    snprintf(sl->remote_pwd, sizeof(sl->remote_pwd), "server-password-0123456789");
    memcpy(sl->remote_fp, srv.cert.fingerprint, 32);
    ri_store(&sl->seq, seq);
}

/* slot_request, and the server's peer connection for that agent. */
static void request(uint32_t slot, uint32_t seq, uint32_t agent, bool dtls_client, bool audio)
{
    slot_request(slot, seq, agent, dtls_client, audio);
    srv.agent_ip = h.ctx.ri.agents[agent].ip;
    /* the server's side of the answer: ICE controlled (as a lite server
     * answers), the other DTLS role, the channel ours to open */
    struct ri_external *x = ri_section(h.ctx.ri.hdr, RI_SEC_EXTERNAL);
    struct stun_addr peer = {4, RI_TARGET_PORT, {0}};
    wire_put32(peer.ip, srv.agent_ip);
    struct pc_config c = {.controlling = false,
                          .dtls_role = dtls_client ? PC_DTLS_SERVER : PC_DTLS_CLIENT,
                          .wait_for_channel = true,
                          .local_ufrag = "srvu",
                          .local_pwd = "server-password-0123456789",
                          .remote_ufrag = "ourufrag",
                          .remote_pwd = "our-password-0123456789",
                          .peer = peer,
                          .cert = &srv.cert,
                          .peer_fingerprint = x->fingerprint,
                          .cp = &srv.cp,
                          .hs = &srv.hs,
                          .sctp_mem = srv.sctp_mem,
                          .sctp_pool = srv.pool,
                          .n_streams = 16,
                          .setup = &srv.su,
                          .rec_keys = &srv.keys,
                          .counters = &srv.counters,
                          .seed = 77,
                          .sctp_seed = 78};
    dtls_record_keys_clear(&srv.keys);
    cr_assert_eq(pc_init(&srv.pc, &c, now_ns()), 0);
    srv.have_pc = true;
}


static void srv_deliver(void)
{
    uint32_t n = n_wire;
    n_wire = 0;
    for (uint32_t i = 0; i < n; i++)
        dp_external_rx(&h.ctx, h.wk, wire[i], h.tsc);
}

/* A frame from the server to agent address ip : RI_TARGET_PORT. */
static void srv_send(const uint8_t *d, size_t n)
{
    uint8_t f[2048];
    struct dp_frame *fr = (struct dp_frame *)f;
    dp_frame_write_l234(fr, 0, 1, SRV_IP, srv.agent_ip, SRV_PORT, RI_TARGET_PORT, (uint16_t)n, 9);
    memcpy(fr->eth.src_addr.addr_bytes, srv_mac, 6);
    memcpy(fr->eth.dst_addr.addr_bytes, ext->mac.addr_bytes, 6);
    memcpy(f + DP_FRAME_HDR_LEN, d, n);
    struct rte_mbuf *m = dp_harness_raw(&h, f, (uint16_t)(DP_FRAME_HDR_LEN + n));
    cr_assert_not_null(m);
    cr_assert_lt(n_wire, 4096);
    wire[n_wire++] = m;
}

/* The server's answer to an ARP request for its address. */
static void srv_arp(const struct rte_arp_hdr *q)
{
    uint8_t f[RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr)];
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    memcpy(eth->dst_addr.addr_bytes, q->arp_data.arp_sha.addr_bytes, 6);
    memcpy(eth->src_addr.addr_bytes, srv_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    *a = *q;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
    memcpy(a->arp_data.arp_sha.addr_bytes, srv_mac, 6);
    a->arp_data.arp_sip = q->arp_data.arp_tip;
    a->arp_data.arp_tha = q->arp_data.arp_sha;
    a->arp_data.arp_tip = q->arp_data.arp_sip;
    dp_external_rx(&h.ctx, h.wk, dp_harness_raw(&h, f, sizeof(f)), h.tsc);
}

/* SRTP/SRTCP from us: RTP echoed under the server's own SSRC, RTCP read. */
static void srv_media(uint8_t *d, size_t n)
{
    if (!srv.keyed)
        return;
    bool rtcp = d[1] >= 192 && d[1] <= 223;
    if (rtcp) {
        if (srtps_unprotect_rtcp(&srv.srtp, d, &n) == ENGINE_IN_ACCEPTED)
            srv.rtcp_from_us++;
        return;
    }
    if ((d[1] & 0x7f) == VP8_PT) { /* video: echoed under the server's video SSRC */
        if (srtps_unprotect_rtp(&srv.vsrtp, d, &n) != ENGINE_IN_ACCEPTED)
            return;
        srv.vrtp_in++;
        bool start = n > 14 && (d[12] & 0x10) && (d[12] & 0x0f) == 0; /* S, partition 0: a frame starts */
        bool key = start && (d[13] & 1) == 0;                            /* and P = 0: a key frame */
        srv.vkeys += key;
        if (start && srv.vwatch) {
            srv.vnext_key = key;
            srv.vwatch = false;
        }
        wire_put32(d + 8, SRV_VSSRC);
        uint8_t out[2048];
        memcpy(out, d, n);
        if (srtps_protect_rtp(&srv.vsrtp, out, &n, sizeof(out)) == 0) {
            srv.vrtp_echoed++;
            srv_send(out, n);
        }
        return;
    }
    if (srtps_unprotect_rtp(&srv.srtp, d, &n) != ENGINE_IN_ACCEPTED)
        return;
    rtcp_on_rtp_received(&srv.rtcp, wire_get32(d + 8), wire_get16(d + 2), wire_get32(d + 4), now_ns());
    wire_put32(d + 8, SRV_SSRC);
    uint8_t out[2048];
    memcpy(out, d, n);
    if (srtps_protect_rtp(&srv.srtp, out, &n, sizeof(out)) == 0) {
        srv.rtp_echoed++;
        srv_send(out, n);
    }
}

/* One frame dp_target queued for the port: to the server or not. */
static void srv_frame(struct rte_mbuf *m)
{
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    if (f->eth.ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
        const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(&f->eth + 1);
        if (a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
            a->arp_data.arp_tip == rte_cpu_to_be_32(SRV_IP)) {
            srv.arp_requests++;
            if (!srv.silent)
                srv_arp(a);
        }
        return;
    }
    cr_assert_eq(f->ip.dst_addr, rte_cpu_to_be_32(SRV_IP), "frames go to the candidate");
    cr_assert_eq(f->udp.dst_port, rte_cpu_to_be_16(SRV_PORT));
    cr_assert_eq(f->udp.src_port, rte_cpu_to_be_16(RI_TARGET_PORT));
    cr_assert_arr_eq(f->eth.dst_addr.addr_bytes, srv_mac, 6, "to the MAC ARP resolved");
    cr_assert_eq(rte_ipv4_cksum(&f->ip), 0);
    if (srv.silent || !srv.have_pc)
        return;
    size_t n = rte_be_to_cpu_16(f->udp.dgram_len) - sizeof(struct rte_udp_hdr);
    uint8_t d[2048];
    memcpy(d, (const uint8_t *)f + DP_FRAME_HDR_LEN, n);
    if (d[0] >= 128 && d[0] <= 191)
        srv_media(d, n);
    else
        pc_handle_input(&srv.pc, d, n, now_ns());
}

/* The server's engines: events (echo), RTCP reports, transmission. */
static void srv_run(void)
{
    if (!srv.have_pc || srv.silent)
        return;
    uint64_t now = now_ns();
    if (pc_next_timeout(&srv.pc) <= now)
        pc_handle_timeout(&srv.pc, now);
    for (;;) {
        struct pc_ev ev = {.buf = srv.msg, .cap = sizeof(srv.msg)};
        enum pc_event_type t = pc_poll_event(&srv.pc, &ev);
        if (t == PC_EV_NONE)
            break;
        if (t == PC_EV_UP) {
            srv.up = true;
            if (pc_srtp_init(&srv.pc, &srv.srtp) == 0 && pc_srtp_init(&srv.pc, &srv.vsrtp) == 0) {
                struct rtcp_config q = {.ssrc = SRV_SSRC, .clock_rate = 48000, .remote_ssrc = 0,
                                        .remote_clock_rate = 48000, .cname = "server"};
                cr_assert_eq(rtcp_init(&srv.rtcp, &q), 0);
                srv.keyed = true;
                srv.next_rr = now + 1000000000ull;
            }
        } else if (t == PC_EV_MESSAGE && srv.echo) {
            pc_send_as(&srv.pc, srv.msg, ev.len, ev.binary, now);
        } else if (t == PC_EV_CLOSED || t == PC_EV_CHANNEL_CLOSED) {
            srv.closed = true;
        }
    }
    uint8_t d[2048];
    size_t n;
    while ((n = pc_poll_transmit(&srv.pc, d, sizeof(d), now)) > 0)
        srv_send(d, n);
    if (srv.keyed && now >= srv.next_rr) {
        srv.next_rr = now + 1000000000ull;
        int k = rtcp_build_rr(&srv.rtcp, now, d, sizeof(d) - SRTPS_RTCP_MAX_TRAILER);
        n = k > 0 ? (size_t)k : 0;
        if (n && srtps_protect_rtcp(&srv.srtp, d, &n, sizeof(d)) == 0)
            srv_send(d, n);
    }
}

/* One pass: the clock advances, dp_target polls, its frames reach the
 * server, the server answers. */
static void pass(void)
{
    h.tsc += STEP_NS;
    srv_deliver();
    dp_target_poll(&h.ctx, h.wk, h.tsc);
    for (uint32_t i = 0; i < ext->n_tx; i++) {
        srv_frame(ext->tx[i]);
        rte_pktmbuf_free(ext->tx[i]);
    }
    ext->n_tx = 0;
    srv_run();
    for (uint32_t i = 0; i < ext->n_tx; i++) { /* what our rx answered at once */
        srv_frame(ext->tx[i]);
        rte_pktmbuf_free(ext->tx[i]);
    }
    ext->n_tx = 0;
}

static void run_for(uint64_t ns)
{
    for (uint64_t t = 0; t < ns; t += STEP_NS)
        pass();
}

static bool run_until_state(uint32_t slot, uint32_t state, uint64_t max_ns)
{
    for (uint64_t t = 0; t < max_ns; t += STEP_NS) {
        pass();
        if (ri_load(&ri_target_slot(tg, slot)->dp_state) == state)
            return true;
    }
    return false;
}

static void load(void)
{
    ri_store(&h.ctx.ri.cmd->phase, (uint32_t)RI_PHASE_RUN);
}

static void assert_up_figures(const struct ri_target_slot *sl)
{
    cr_assert_eq(ri_load(&sl->dp_seq), 1);
    cr_assert_gt(sl->setup_ns, 0);
    uint64_t sum = 0;
    for (int k = 0; k < RI_STAGE_COUNT; k++) {
        cr_assert_gt(sl->stage_ns[k], 0, "stage %d took time", k);
        sum += sl->stage_ns[k];
    }
    cr_assert_leq(sum, sl->setup_ns, "the stages add up to at most the set-up");
    cr_assert_eq(sl->sel_ip, SRV_IP);
    cr_assert_eq(sl->sel_port, SRV_PORT);
    cr_assert_gt(sl->s.ice_checks_sent, 0);
    cr_assert_gt(sl->s.ice_checks_answered, 0);
    cr_assert_eq(tg->sessions_up, 1);
    cr_assert_eq(tg->setup.count, 1);
    cr_assert_geq(srv.arp_requests, 1, "the server's MAC was asked for");
}

static void round_trips(bool dtls_client)
{
    load();
    request(0, 1, 2, dtls_client, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull), "the session comes up");
    const struct ri_target_slot *sl = ri_target_slot(tg, 0);
    assert_up_figures(sl);
    run_for(500000000ull);
    cr_assert_geq(sl->s.msgs_sent, 20, "about 25 messages in 500 ms: %lu", (unsigned long)sl->s.msgs_sent);
    cr_assert_leq(sl->s.msgs_sent, 27);
    cr_assert_geq(sl->s.msgs_back, sl->s.msgs_sent - 2, "the echoes come back");
    cr_assert_leq(sl->s.msgs_back, sl->s.msgs_sent);
    cr_assert_eq(sl->s.bytes_back, sl->s.msgs_back * 200);
    cr_assert_eq(sl->s.msgs_foreign, 0);
    cr_assert_gt(sl->s.rtt_min_ns, 0);
    cr_assert_leq(sl->s.rtt_min_ns, sl->s.rtt_max_ns);
    cr_assert_leq(sl->s.rtt_min_ns * sl->s.msgs_back, sl->s.rtt_sum_ns);
    cr_assert_eq(tg->rtt.count, sl->s.msgs_back);
    cr_assert_eq(tg->total.msgs_back, sl->s.msgs_back);
    cr_assert_gt(sl->s.frames_in, 0);
    cr_assert_gt(sl->s.frames_out, 0);
}

Test(target, a_session_comes_up_and_its_messages_make_round_trips)
{
    round_trips(true);
}

Test(target, as_dtls_server_we_still_open_the_channel)
{
    round_trips(false);
}

Test(target, no_messages_outside_the_load_phase)
{
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    run_for(200000000ull);
    cr_assert_eq(ri_target_slot(tg, 0)->s.msgs_sent, 0);
}

Test(target, audio_goes_both_ways_with_the_ssrc_rewritten_and_reports_read)
{
    request(1, 1, 3, true, true);
    cr_assert(run_until_state(1, RI_TGT_UP, 2000000000ull));
    run_for(3000000000ull);
    const struct ri_target_slot *sl = ri_target_slot(tg, 1);
    cr_assert_geq(sl->s.rtp_sent, 145, "50 packets/s for 3 s: %lu", (unsigned long)sl->s.rtp_sent);
    cr_assert_leq(sl->s.rtp_sent, 151);
    cr_assert_geq(srv.rtp_echoed, sl->s.rtp_sent - 1);
    cr_assert_geq(sl->s.rtp_back, srv.rtp_echoed - 1, "SRTP of the server's SSRC is taken");
    cr_assert_eq(sl->s.rtp_lost, 0);
    cr_assert_eq(sl->s.srtp_auth_failures, 0);
    cr_assert_geq(sl->s.rtcp_in, 2, "the server's receiver reports");
    cr_assert_eq(sl->s.rtcp_rr_loss, 0);
    cr_assert_lt(sl->s.jitter_us, 1000, "a clean wire: little jitter (%u us)", sl->s.jitter_us);
    /* our SR after ~5 s: run on */
    run_for(3000000000ull);
    cr_assert_geq(srv.rtcp_from_us, 1, "our RTCP reports reach the server");
    /* a packet whose tag does not verify */
    uint8_t bad[100];
    memset(bad, 0x5a, sizeof(bad));
    bad[0] = 0x80;
    bad[1] = 111;
    wire_put32(bad + 8, SRV_SSRC);
    wire_put16(bad + 2, 60000);
    srv_send(bad, sizeof(bad));
    srv_deliver();
    cr_assert_eq(sl->s.srtp_auth_failures, 1);
    cr_assert_eq(tg->total.srtp_auth_failures, 1);
}

/* --media video: our VP8 stream under its own SSRC beside the audio,
 * echoed by the server under another SSRC and told apart by payload type;
 * a PLI from the server's second RTCP sender (its video SSRC) counted and
 * answered with a key frame. */
Test(target, video_goes_both_ways_and_a_pli_brings_a_key_frame)
{
    request(2, 1, 1, true, true);
    struct ri_target_slot *sl = ri_target_slot(tg, 2);
    /* the video fields, before seq as control writes them (request stored seq: the pass has not run yet) */
    sl->video = 1;
    sl->video_pt = VP8_PT;
    sl->video_wanted = 1;
    sl->video_ssrc = OUR_VSSRC;
    cr_assert(run_until_state(2, RI_TGT_UP, 2000000000ull));
    run_for(2000000000ull);
    /* the defaults: 1 Mbit/s at 30 fps in packets of 1,100 bytes: 4 a frame, 16 a key frame */
    cr_assert_gt(sl->s.video_rtp_sent, 200, "%lu", (unsigned long)sl->s.video_rtp_sent);
    cr_assert_eq(srv.vrtp_in, sl->s.video_rtp_sent, "every video packet authenticates at the server");
    cr_assert_geq(sl->s.video_rtp_back, srv.vrtp_echoed - 2, "video of the server's SSRC taken by payload type");
    cr_assert_gt(sl->s.video_rtp_back, 0);
    cr_assert_eq(sl->s.video_rtp_lost, 0);
    cr_assert_eq(sl->s.srtp_auth_failures, 0);
    cr_assert_geq(sl->s.rtp_back, 90, "the audio still comes back (%lu)", (unsigned long)sl->s.rtp_back);
    cr_assert_geq(sl->s.video_bytes_sent, sl->s.video_rtp_sent * 12);
    uint64_t keys = srv.vkeys;
    cr_assert_geq(keys, 1, "the first frame is a key frame");
    cr_assert_eq(sl->s.video_keyframes, keys);
    /* a PLI about our video from the server's video SSRC (a second SRTCP sender) */
    uint8_t pli[64] = {0x81, 206, 0, 2};
    wire_put32(pli + 4, SRV_VSSRC);
    wire_put32(pli + 8, OUR_VSSRC);
    size_t n = 12;
    cr_assert_eq(srtps_protect_rtcp(&srv.vsrtp, pli, &n, sizeof(pli)), 0);
    srv.vwatch = true;
    srv.vnext_key = -1;
    srv_send(pli, n);
    run_for(200000000ull);
    cr_assert_eq(sl->s.video_rtcp_pli, 1);
    cr_assert_eq(tg->total.video_rtcp_pli, 1);
    cr_assert_eq(sl->s.video_srtp_auth_failures, 0);
    /* (the periodic key frame, every 60th, may fall in these 200 ms too) */
    cr_assert_eq(srv.vnext_key, 1, "the next frame after the PLI is a key frame");
    cr_assert_geq(srv.vkeys, keys + 1);
    cr_assert_eq(sl->s.video_keyframes, srv.vkeys);
    /* a video packet whose tag does not verify: counted as video's */
    uint8_t bad[100];
    memset(bad, 0x5a, sizeof(bad));
    bad[0] = 0x80;
    bad[1] = VP8_PT;
    wire_put32(bad + 8, SRV_VSSRC);
    wire_put16(bad + 2, 60000);
    srv_send(bad, sizeof(bad));
    srv_deliver();
    cr_assert_eq(sl->s.video_srtp_auth_failures, 1);
    cr_assert_eq(sl->s.srtp_auth_failures, 1);
}

Test(target, lost_echoes_show_as_rtp_loss)
{
    request(0, 1, 2, true, true);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    run_for(1000000000ull);
    /* the server's echoes of the next second are lost but every 5th */
    const struct ri_target_slot *sl = ri_target_slot(tg, 0);
    uint64_t back0 = sl->s.rtp_back;
    uint32_t k = 0;
    for (uint64_t t = 0; t < 1000000000ull; t += STEP_NS) {
        h.tsc += STEP_NS;
        srv_deliver();
        dp_target_poll(&h.ctx, h.wk, h.tsc);
        for (uint32_t i = 0; i < ext->n_tx; i++) {
            const uint8_t *d = rte_pktmbuf_mtod_offset(ext->tx[i], const uint8_t *, DP_FRAME_HDR_LEN);
            bool rtp = ext->tx[i]->data_len > DP_FRAME_HDR_LEN + 12 && d[0] >= 128 && (d[1] & 0x7f) == 111;
            if (!rtp || k++ % 5 == 0) /* four RTP packets in five lost on the way (no echo) */
                srv_frame(ext->tx[i]);
            rte_pktmbuf_free(ext->tx[i]);
        }
        ext->n_tx = 0;
        srv_run();
    }
    run_for(200000000ull);
    cr_assert_gt(sl->s.rtp_lost, 30, "about 40 lost: %lu (back %lu)", (unsigned long)sl->s.rtp_lost,
                 (unsigned long)(sl->s.rtp_back - back0));
    cr_assert_lt(sl->s.rtp_back - back0, 30);
}

Test(target, close_from_control_aborts_the_association)
{
    load();
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    run_for(100000000ull);
    struct ri_target_slot *sl = ri_target_slot(tg, 0);
    ri_store(&sl->close_seq, 1);
    cr_assert(run_until_state(0, RI_TGT_CLOSED, 100000000ull));
    cr_assert(srv.closed, "the server saw our ABORT");
    cr_assert_eq(sl->closed_by_peer, 0);
    cr_assert_gt(sl->up_ns, 0);
    cr_assert_eq(tg->sessions_closed, 1);
    /* the slot serves the next request */
    pc_free(&srv.pc);
    srv.have_pc = srv.up = srv.keyed = srv.closed = false;
    request(0, 2, 2, false, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    cr_assert_eq(ri_load(&sl->dp_seq), 2);
    cr_assert_eq(tg->sessions, 2);
}

Test(target, the_server_ending_the_session_is_closed_by_peer)
{
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    cr_assert(pc_close(&srv.pc, now_ns()));
    srv_run(); /* the ABORT */
    cr_assert(run_until_state(0, RI_TGT_CLOSED, 100000000ull));
    const struct ri_target_slot *sl = ri_target_slot(tg, 0);
    cr_assert_eq(sl->closed_by_peer, 1);
    cr_assert_eq(tg->sessions_closed, 1);
}

Test(target, a_wrong_fingerprint_fails_in_dtls)
{
    request(0, 1, 2, true, false);
    struct ri_target_slot *sl = ri_target_slot(tg, 0);
    /* a second request with a fingerprint that is not the server's */
    sl->remote_fp[0] ^= 1;
    ri_store(&sl->seq, 2);
    cr_assert(run_until_state(0, RI_TGT_FAILED, 3000000000ull));
    cr_assert_eq(ri_load(&sl->dp_seq), 2);
    cr_assert_eq(sl->fail_stage, RI_STAGE_DTLS);
    cr_assert_neq(sl->dtls_failure[0], 0, "why DTLS failed is named");
    cr_assert_eq(tg->failed_stage[RI_STAGE_DTLS], 1);
    cr_assert_eq(tg->sessions_failed, 1);
}

Test(target, a_silent_server_fails_in_ice_at_the_setup_timeout)
{
    srv.silent = true;
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_FAILED, 4000000000ull));
    const struct ri_target_slot *sl = ri_target_slot(tg, 0);
    cr_assert_eq(sl->fail_stage, RI_STAGE_ICE);
    cr_assert_geq(sl->stage_ns[RI_STAGE_ICE], tg->setup_timeout_ns);
    cr_assert_eq(tg->failed_stage[RI_STAGE_ICE], 1);
    cr_assert_geq(srv.arp_requests, 5, "ARP asked again while unanswered");
}

Test(target, datagrams_without_a_session_or_from_elsewhere_are_counted)
{
    uint8_t junk[20] = {0};
    srv.agent_ip = h.ctx.ri.agents[5].ip;
    srv_send(junk, sizeof(junk)); /* agent 5 has no session */
    srv_deliver();
    cr_assert_eq(tg->frames_unknown, 1);
    cr_assert_eq(h.wk->m->live.drops[RI_DROP_UNKNOWN_FLOW], 1);
}

Test(target, foreign_messages_are_counted_apart)
{
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    run_for(10000000ull);
    cr_assert_eq(pc_send(&srv.pc, "hello", 5, now_ns()), 0);
    run_for(10000000ull);
    const struct ri_target_slot *sl = ri_target_slot(tg, 0);
    cr_assert_eq(sl->s.msgs_foreign, 1);
    cr_assert_eq(sl->s.msgs_back, 0);
}

Test(target, the_worker_leaving_ends_every_session)
{
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    srv.silent = true;
    slot_request(2, 1, 4, true, false); /* never answered: still connecting */
    run_for(10000000ull);
    dp_target_finish(&h.ctx, h.wk, h.tsc);
    cr_assert_eq(ri_load(&ri_target_slot(tg, 0)->dp_state), RI_TGT_CLOSED);
    cr_assert_eq(ri_load(&ri_target_slot(tg, 2)->dp_state), RI_TGT_FAILED);
    cr_assert_eq(ri_target_slot(tg, 2)->fail_stage, RI_STAGE_ICE);
    for (uint32_t i = 0; i < ext->n_tx; i++)
        rte_pktmbuf_free(ext->tx[i]);
    ext->n_tx = 0;
}

Test(target, a_request_the_engines_refuse_fails_at_once)
{
    struct ri_target_slot *sl = ri_target_slot(tg, 3);
    slot_request(3, 1, 1, true, false);
    /* a password longer than the ICE agent keeps (ICE_PWD_MAX) */
    memset(sl->remote_pwd, 'p', sizeof(sl->remote_pwd) - 1);
    ri_store(&sl->seq, 2);
    pass();
    cr_assert_eq(ri_load(&sl->dp_seq), 2);
    cr_assert_eq(ri_load(&sl->dp_state), RI_TGT_FAILED);
    cr_assert_eq(sl->fail_stage, RI_STAGE_ICE);
    /* and one without a candidate */
    sl->n_cands = 0;
    ri_store(&sl->seq, 3);
    pass();
    cr_assert_eq(ri_load(&sl->dp_seq), 3);
    cr_assert_eq(ri_load(&sl->dp_state), RI_TGT_FAILED);
    cr_assert_eq(tg->sessions_failed, 2);
    cr_assert_eq(tg->failed_stage[RI_STAGE_ICE], 2);
    cr_assert_eq(ext->n_tx, 0, "nothing sent for them");
}

Test(target, a_datagram_from_another_address_is_not_the_sessions)
{
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    const struct ri_target_slot *sl = ri_target_slot(tg, 0);
    uint64_t in0 = sl->s.frames_in;
    /* a DTLS-looking datagram from the server's address, another port */
    uint8_t f[128];
    struct dp_frame *fr = (struct dp_frame *)f;
    uint8_t dtls[32] = {23, 0xfe, 0xfd};
    dp_frame_write_l234(fr, 0, 1, SRV_IP, srv.agent_ip, SRV_PORT + 1, RI_TARGET_PORT, sizeof(dtls), 9);
    memcpy(fr->eth.src_addr.addr_bytes, srv_mac, 6);
    memcpy(f + DP_FRAME_HDR_LEN, dtls, sizeof(dtls));
    dp_external_rx(&h.ctx, h.wk, dp_harness_raw(&h, f, DP_FRAME_HDR_LEN + sizeof(dtls)), h.tsc);
    cr_assert_eq(tg->frames_unknown, 1);
    cr_assert_eq(sl->s.frames_in, in0, "not handed to the session");
    run_for(100000000ull);
    cr_assert_eq(ri_load(&sl->dp_state), RI_TGT_UP);
}

Test(target, the_servers_own_arp_request_teaches_us_its_mac)
{
    srv.silent = true; /* answers no ARP request of ours */
    request(0, 1, 2, true, false);
    run_for(10000000ull);
    cr_assert_geq(srv.arp_requests, 1);
    /* the server asks for the agent's address: proxy ARP answers it and
     * the server's MAC is learnt from the request */
    uint8_t f[RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr)];
    memset(f, 0, sizeof(f));
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    memset(eth->dst_addr.addr_bytes, 0xff, 6);
    memcpy(eth->src_addr.addr_bytes, srv_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = 6;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    memcpy(a->arp_data.arp_sha.addr_bytes, srv_mac, 6);
    a->arp_data.arp_sip = rte_cpu_to_be_32(SRV_IP);
    a->arp_data.arp_tip = rte_cpu_to_be_32(srv.agent_ip);
    dp_external_rx(&h.ctx, h.wk, dp_harness_raw(&h, f, sizeof(f)), h.tsc);
    cr_assert_eq(ext->n_tx, 1, "the proxy ARP answer");
    rte_pktmbuf_free(ext->tx[0]);
    ext->n_tx = 0;
    srv.silent = false;
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull), "our checks went to the MAC learnt");
}

Test(target, a_known_mac_is_asked_again_every_30_s)
{
    request(0, 1, 2, true, false);
    cr_assert(run_until_state(0, RI_TGT_UP, 2000000000ull));
    uint64_t asked = srv.arp_requests;
    run_for(DP_TGT_ARP_REFRESH_NS + 500000000ull);
    cr_assert_eq(srv.arp_requests, asked + 1);
    cr_assert_eq(ri_load(&ri_target_slot(tg, 0)->dp_state), RI_TGT_UP);
}

/* ---- against our own --external echo, on the same port --------------------- */

static const uint8_t wire_mac[6] = {0x02, 0x77, 0x77, 0x77, 0x77, 0x77};

/* A frame dp_target or dp_external sent, back in as if from another host
 * (the port drops its own frames). Takes m. */
static void loop_back(struct rte_mbuf *m)
{
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    memcpy(eth->src_addr.addr_bytes, wire_mac, 6);
    dp_external_rx(&h.ctx, h.wk, m, h.tsc);
}

/* One pass of worker 0 (dp_external_poll: external sessions, target
 * sessions, the flush into the ring port), then every frame sent comes
 * back in: what the ring holds and what the rx path queued meanwhile. */
static void ext_pass(void)
{
    h.tsc += STEP_NS;
    dp_external_poll(&h.ctx, h.wk, h.tsc);
    struct rte_mbuf *pkts[64];
    uint16_t n;
    while ((n = rte_eth_rx_burst(ext->port_id, 0, pkts, 64)) > 0)
        for (uint16_t i = 0; i < n; i++)
            loop_back(pkts[i]);
    while (ext->n_tx) {
        struct rte_mbuf *q[EXT_TX];
        uint32_t k = ext->n_tx;
        memcpy(q, ext->tx, k * sizeof(q[0]));
        ext->n_tx = 0;
        for (uint32_t i = 0; i < k; i++)
            loop_back(q[i]);
    }
}

static void against_external_echo(bool ext_dtls_client)
{
    /* the port again, now also serving --external echo (2 slots) */
    dp_external_free(&h.ctx);
    struct ri_external *x = ri_section(h.ctx.ri.hdr, RI_SEC_EXTERNAL);
    ctl_external_prepare(x, RI_EXT_ECHO, 2, "net_ring_sgtgt1", 0);
    char err[256];
    cr_assert_eq(dp_external_init(&h.ctx, err, sizeof(err)), 0, "%s", err);
    ext = h.ctx.external;
    ext->tsc0 = 0;
    /* what our WHIP server's answer would set up: agent 5, slot 0 */
    struct ri_ext_slot *es = &x->slot[0];
    es->agent = 5;
    es->port = RI_EXTERNAL_PORT_BASE;
    es->dtls_client = ext_dtls_client;
    snprintf(es->local_ufrag, sizeof(es->local_ufrag), "extu");
    snprintf(es->local_pwd, sizeof(es->local_pwd), "external-password-012345");
    snprintf(es->remote_ufrag, sizeof(es->remote_ufrag), "ourufrag");
    snprintf(es->remote_pwd, sizeof(es->remote_pwd), "our-password-0123456789");
    memcpy(es->remote_fp, x->fingerprint, 32);
    ri_store(&es->seq, 1);
    /* and what control's target side makes of that answer: agent 2 */
    struct ri_target_slot *sl = ri_target_slot(tg, 0);
    slot_request(0, 1, 2, !ext_dtls_client, false);
    sl->cand[0] = (struct ri_target_cand){.ip = h.ctx.ri.agents[5].ip, .port = RI_EXTERNAL_PORT_BASE};
    sl->remote_lite = 1;
    snprintf(sl->remote_ufrag, sizeof(sl->remote_ufrag), "extu");
    snprintf(sl->remote_pwd, sizeof(sl->remote_pwd), "external-password-012345");
    memcpy(sl->remote_fp, x->fingerprint, 32);
    ri_store(&sl->seq, 2);
    load();
    bool up = false;
    for (uint64_t t = 0; t < 2000000000ull && !up; t += STEP_NS) {
        ext_pass();
        up = ri_load(&sl->dp_state) == RI_TGT_UP;
    }
    cr_assert(up, "up against --external echo (state %u, fail_stage %u, external %u)", ri_load(&sl->dp_state),
              sl->fail_stage, ri_load(&es->dp_state));
    cr_assert_eq(ri_load(&es->dp_state), RI_EXT_UP);
    for (uint64_t t = 0; t < 300000000ull; t += STEP_NS)
        ext_pass();
    cr_assert_geq(sl->s.msgs_sent, 12);
    cr_assert_geq(sl->s.msgs_back, sl->s.msgs_sent - 2, "%lu sent, %lu back", (unsigned long)sl->s.msgs_sent,
                  (unsigned long)sl->s.msgs_back);
    cr_assert_eq(es->s.msgs_echoed, es->s.msgs_in);
    cr_assert_geq(es->s.msgs_in, sl->s.msgs_back);
    /* control ends ours: the external session sees the ABORT */
    ri_store(&sl->close_seq, 2);
    for (uint64_t t = 0; t < 100000000ull; t += STEP_NS)
        ext_pass();
    cr_assert_eq(ri_load(&sl->dp_state), RI_TGT_CLOSED);
    cr_assert_eq(ri_load(&es->dp_state), RI_EXT_CLOSED);
}

Test(target, against_our_own_external_echo_as_dtls_server)
{
    against_external_echo(true);
}

Test(target, against_our_own_external_echo_as_dtls_client)
{
    against_external_echo(false);
}
