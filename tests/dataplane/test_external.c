/* SPDX-License-Identifier: MIT */
/*
 * dp_external: the kernel-visible port of external peers, on a net_ring
 * loopback vdev in the dc harness (one worker, a ring of 8 agents):
 * proxy ARP answers, foreign frames counted by reason, the slot protocol
 * with control (request, adoption, close, set-up timeout) and an ICE check
 * from a peer answered to where it came from.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ethdev.h>

#include "dp_external.h"
#include "dp_external_internal.h"
#include "dp_harness.h"
#include "external.h"
#include "cp.h"
#include "dtls_cert.h"
#include "ice.h"
#include "pc.h"
#include "sctp_internal.h"
#include "stun.h"

static struct dp_harness h;
static struct ri_external *x;
static struct dp_external *ext;

static const uint8_t peer_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
#define PEER_IP 0xc613fffeu /* 198.19.255.254 */

static void setup(void)
{
    cr_assert_eq(dp_harness_init_dc(&h, NULL), 0);
    x = ri_section(h.ctx.ri.hdr, RI_SEC_EXTERNAL);
    ctl_external_prepare(x, RI_EXT_ECHO, 2, "net_ring_sgext0", 0);
    char err[256];
    cr_assert_eq(dp_external_init(&h.ctx, err, sizeof(err)), 0, "%s", err);
    ext = h.ctx.external;
    ext->tsc0 = 0; /* the harness's fake TSC */
    h.tsc = 1000;
}

static void teardown(void)
{
    dp_external_free(&h.ctx);
    dp_harness_fini_dc(&h);
}

TestSuite(external, .init = setup, .fini = teardown, .timeout = 60);

static uint32_t agent_ip(uint32_t a)
{
    return h.ctx.ri.agents[a].ip;
}

static struct rte_mbuf *arp_request(uint32_t target_ip)
{
    uint8_t f[RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr)];
    memset(f, 0, sizeof(f));
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
    memset(eth->dst_addr.addr_bytes, 0xff, 6);
    memcpy(eth->src_addr.addr_bytes, peer_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
    a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = 6;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    memcpy(a->arp_data.arp_sha.addr_bytes, peer_mac, 6);
    a->arp_data.arp_sip = rte_cpu_to_be_32(PEER_IP);
    a->arp_data.arp_tip = rte_cpu_to_be_32(target_ip);
    return dp_harness_raw(&h, f, sizeof(f));
}

/* An IPv4/UDP frame from (mac, src_ip, src_port) to ip:port carrying `len` bytes. */
static struct rte_mbuf *udp_frame_from(const uint8_t mac[6], uint32_t src_ip, uint16_t src_port,
                                       uint32_t ip, uint16_t port, const uint8_t *payload,
                                       uint16_t len, uint8_t proto)
{
    uint8_t f[2048];
    struct dp_frame *fr = (struct dp_frame *)f;
    dp_frame_write_l234(fr, 0, 1, src_ip, ip, src_port, port, len, 7);
    memcpy(fr->eth.src_addr.addr_bytes, mac, 6);
    fr->ip.next_proto_id = proto;
    fr->ip.hdr_checksum = 0;
    fr->ip.hdr_checksum = rte_ipv4_cksum(&fr->ip);
    memcpy(f + DP_FRAME_HDR_LEN, payload, len);
    return dp_harness_raw(&h, f, (uint16_t)(DP_FRAME_HDR_LEN + len));
}

/* An IPv4/UDP frame from the peer (port 40000) to ip:port carrying `len` bytes. */
static struct rte_mbuf *udp_frame(uint32_t ip, uint16_t port, const uint8_t *payload, uint16_t len,
                                  uint8_t proto)
{
    return udp_frame_from(peer_mac, PEER_IP, 40000, ip, port, payload, len, proto);
}

static void rx(struct rte_mbuf *m)
{
    cr_assert_not_null(m);
    dp_external_rx(&h.ctx, h.wk, m, h.tsc);
}

/* Polls as worker 0 does, enough passes for the slots to be looked at. */
static void passes(void)
{
    for (int i = 0; i < DP_EXT_POLL_PASSES; i++)
        dp_external_poll(&h.ctx, h.wk, h.tsc);
}

static void free_tx(void)
{
    for (uint32_t i = 0; i < ext->n_tx; i++)
        rte_pktmbuf_free(ext->tx[i]);
    ext->n_tx = 0;
}

Test(external, arp_request_for_an_agent_is_answered_with_the_port_mac)
{
    rx(arp_request(agent_ip(3)));
    cr_assert_eq(ext->n_tx, 1);
    const uint8_t *f = rte_pktmbuf_mtod(ext->tx[0], const uint8_t *);
    const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
    const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(eth + 1);
    cr_assert_eq(ext->tx[0]->data_len, RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr));
    cr_assert_arr_eq(eth->dst_addr.addr_bytes, peer_mac, 6);
    cr_assert_arr_eq(eth->src_addr.addr_bytes, x->mac, 6);
    cr_assert_eq(eth->ether_type, rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP));
    cr_assert_eq(a->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REPLY));
    cr_assert_arr_eq(a->arp_data.arp_sha.addr_bytes, x->mac, 6);
    cr_assert_eq(a->arp_data.arp_sip, rte_cpu_to_be_32(agent_ip(3)));
    cr_assert_arr_eq(a->arp_data.arp_tha.addr_bytes, peer_mac, 6);
    cr_assert_eq(a->arp_data.arp_tip, rte_cpu_to_be_32(PEER_IP));
    cr_assert_eq(x->arp_replies, 1);
    cr_assert_eq(x->frames_foreign, 0);
    free_tx();
}

Test(external, arp_for_an_address_outside_the_agents_is_counted_not_answered)
{
    rx(arp_request(h.ctx.ri.cfg->ip_base + 1 + h.ctx.ri.cfg->n_agents)); /* one past the last agent */
    rx(arp_request(PEER_IP));
    cr_assert_eq(ext->n_tx, 0);
    cr_assert_eq(x->arp_replies, 0);
    cr_assert_eq(x->frames_foreign, 2);
    cr_assert_eq(h.wk->m->live.drops[RI_DROP_NOT_IPV4], 2);
}

Test(external, foreign_frames_are_counted_by_reason)
{
    uint8_t p[16] = {0xff};
    uint8_t v6[64] = {0};
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)v6;
    memcpy(eth->src_addr.addr_bytes, peer_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
    rx(dp_harness_raw(&h, v6, sizeof(v6)));                                       /* not_ipv4 */
    rx(udp_frame(agent_ip(2), RI_EXTERNAL_PORT_BASE, p, sizeof(p), IPPROTO_TCP)); /* not_udp */
    rx(udp_frame(agent_ip(2), RI_EXTERNAL_PORT_BASE, p, sizeof(p),
                 IPPROTO_UDP));                                  /* no session: unknown_flow */
    rx(udp_frame(agent_ip(2), 5000, p, sizeof(p), IPPROTO_UDP)); /* not a slot port */
    rx(dp_harness_raw(&h, v6, 10));                              /* truncated */
    const uint64_t *d = h.wk->m->live.drops;
    cr_assert_eq(d[RI_DROP_NOT_IPV4], 1);
    cr_assert_eq(d[RI_DROP_NOT_UDP], 1);
    cr_assert_eq(d[RI_DROP_UNKNOWN_FLOW], 2);
    cr_assert_eq(d[RI_DROP_TRUNCATED], 1);
    cr_assert_eq(x->frames_foreign, 5);
    cr_assert_eq(ext->n_tx, 0);
}

/* What control's open does: the request, then seq with release. */
static void request(uint32_t slot, uint32_t seq, uint32_t agent)
{
    struct ri_ext_slot *sl = &x->slot[slot];
    sl->agent = agent;
    sl->port = (uint16_t)(RI_EXTERNAL_PORT_BASE + slot);
    sl->dtls_client = 1;
    snprintf(sl->local_ufrag, sizeof(sl->local_ufrag), "ourufrag");
    snprintf(sl->local_pwd, sizeof(sl->local_pwd), "our-password-0123456789");
    snprintf(sl->remote_ufrag, sizeof(sl->remote_ufrag), "peer");
    snprintf(sl->remote_pwd, sizeof(sl->remote_pwd), "peer-password-0123456789");
    memset(sl->remote_fp, 0xab, 32);
    ri_store(&sl->seq, seq);
}

Test(external, a_request_is_adopted_closed_and_logged)
{
    struct ri_ext_slot *sl = &x->slot[1];
    request(1, 5, 4);
    passes();
    cr_assert_eq(ri_load(&sl->dp_seq), 5);
    cr_assert_eq(ri_load(&sl->dp_state), RI_EXT_CONNECTING);
    cr_assert_eq(x->sessions, 1);
    ri_store(&sl->close_seq, 5);
    passes();
    cr_assert_eq(ri_load(&sl->dp_state), RI_EXT_CLOSED);
    cr_assert_eq(ri_load(&x->log_n), 1);
    cr_assert_eq(x->log[0].agent, 4);
    cr_assert_eq(x->log[0].slot, 1);
    cr_assert_eq(x->log[0].state, RI_EXT_CLOSED);
    cr_assert_eq(x->sessions_closed, 1);
    /* the slot serves the next request */
    request(1, 6, 2);
    passes();
    cr_assert_eq(ri_load(&sl->dp_seq), 6);
    cr_assert_eq(ri_load(&sl->dp_state), RI_EXT_CONNECTING);
}

Test(external, a_session_not_up_in_time_fails_in_ice)
{
    request(0, 1, 3);
    passes();
    h.tsc += DP_EXT_SETUP_NS + 1000000;
    passes();
    cr_assert_eq(ri_load(&x->slot[0].dp_state), RI_EXT_FAILED);
    cr_assert_eq(x->slot[0].fail_stage, RI_STAGE_ICE);
    cr_assert_eq(x->sessions_failed, 1);
    cr_assert_eq(x->log[0].state, RI_EXT_FAILED);
}

Test(external, an_ice_check_is_answered_to_the_peer_from_the_agent)
{
    request(0, 1, 3);
    passes();
    /* the peer: a full, controlling ICE agent with the offer's credentials */
    struct ice_agent peer;
    struct ice_config ic = {ICE_CONTROLLING,
                            false,
                            42,
                            100,
                            "peer",
                            "peer-password-0123456789",
                            "ourufrag",
                            "our-password-0123456789",
                            {4, RI_EXTERNAL_PORT_BASE, {0}}};
    cr_assert_eq(ice_init(&peer, &ic), 0);
    ice_start(&peer, 1000);
    uint8_t req[256];
    size_t n = ice_poll_transmit(&peer, req, sizeof(req), 1000);
    cr_assert_gt(n, 20);
    rx(udp_frame(agent_ip(3), RI_EXTERNAL_PORT_BASE, req, (uint16_t)n, IPPROTO_UDP));
    cr_assert_eq(x->slot[0].peer_ip, PEER_IP);
    cr_assert_eq(x->slot[0].peer_port, 40000);
    cr_assert_eq(x->slot[0].s.frames_in, 1);
    /* the answer: Ethernet to the peer's MAC from the port's, IPv4/UDP from
     * the agent's address and the slot's port back to the peer's */
    cr_assert_geq(ext->n_tx, 1);
    const struct dp_frame *f = rte_pktmbuf_mtod(ext->tx[0], const struct dp_frame *);
    cr_assert_arr_eq(f->eth.dst_addr.addr_bytes, peer_mac, 6);
    cr_assert_arr_eq(f->eth.src_addr.addr_bytes, x->mac, 6);
    cr_assert_eq(f->ip.src_addr, rte_cpu_to_be_32(agent_ip(3)));
    cr_assert_eq(f->ip.dst_addr, rte_cpu_to_be_32(PEER_IP));
    cr_assert_eq(f->udp.src_port, rte_cpu_to_be_16(RI_EXTERNAL_PORT_BASE));
    cr_assert_eq(f->udp.dst_port, rte_cpu_to_be_16(40000));
    cr_assert_eq(rte_ipv4_cksum(&f->ip), 0, "the IPv4 header checksum is computed");
    uint16_t len = (uint16_t)(rte_be_to_cpu_16(f->udp.dgram_len) - sizeof(struct rte_udp_hdr));
    cr_assert_eq(ice_handle_input(&peer, (const uint8_t *)f + DP_FRAME_HDR_LEN, len, 2000), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ice_poll_event(&peer, &(struct ice_ev){0}), ICE_EV_CONNECTED);
    free_tx();
}

/* A Binding request from the peer to the session's agent, USERNAME
 * "ourufrag:peer", signed with `pwd` (ours: "our-password-0123456789"),
 * with ICE-CONTROLLED (controlled) or ICE-CONTROLLING and `tiebreaker`,
 * USE-CANDIDATE when `nominate`. Returns its length. */
static uint16_t binding_request(uint8_t *buf, size_t cap, const char *pwd, bool controlled,
                                uint64_t tiebreaker, bool nominate, uint8_t tid0)
{
    uint8_t tid[12];
    memset(tid, 0x5a, sizeof(tid));
    tid[0] = tid0;
    struct stun_writer w;
    stun_begin(&w, buf, cap, STUN_BINDING_REQUEST, tid);
    stun_put_bytes(&w, STUN_ATTR_USERNAME, "ourufrag:peer", 13);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 100);
    stun_put_u64(&w, controlled ? STUN_ATTR_ICE_CONTROLLED : STUN_ATTR_ICE_CONTROLLING, tiebreaker);
    if (nominate)
        stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
    stun_put_integrity(&w, (const uint8_t *)pwd, strlen(pwd));
    stun_put_fingerprint(&w);
    int n = stun_end(&w);
    cr_assert_gt(n, 20);
    return (uint16_t)n;
}

/* What a session of slot 0 drew: the ICE tie-breaker and transaction id of
 * its own check, and the origin of its SCTP generator (verification tags,
 * initial TSN, cookie key). */
struct drawn {
    uint64_t tiebreaker;
    uint8_t tid[12];
    uint64_t sctp_rng0;
};

static void session_draws(struct drawn *out)
{
    passes(); /* adopts the request of slot 0 */
    /* a check that claims the controlled role with the lowest tie-breaker:
     * the session's agent takes control (RFC 8445 7.3.1.1) and sends a
     * check of its own, which shows its tie-breaker and transaction id */
    uint8_t req[256];
    uint16_t n = binding_request(req, sizeof(req), "our-password-0123456789", true, 0, false, 1);
    rx(udp_frame(agent_ip(3), RI_EXTERNAL_PORT_BASE, req, n, IPPROTO_UDP));
    bool found = false;
    for (uint32_t k = 0; k < ext->n_tx && !found; k++) {
        const struct dp_frame *f = rte_pktmbuf_mtod(ext->tx[k], const struct dp_frame *);
        uint16_t len = (uint16_t)(rte_be_to_cpu_16(f->udp.dgram_len) - sizeof(struct rte_udp_hdr));
        struct stun_msg m;
        if (stun_parse((const uint8_t *)f + DP_FRAME_HDR_LEN, len, &m) == 0 &&
            m.type == STUN_BINDING_REQUEST && m.has_controlling) {
            out->tiebreaker = m.tiebreaker;
            memcpy(out->tid, m.tid, 12);
            found = true;
        }
    }
    cr_assert(found, "the session sends a check of its own after the role conflict");
    const struct sctp_assoc *a = ext->sess[0].sctp_mem;
    out->sctp_rng0 = a->rng0;
    free_tx();
}

Test(external, two_runs_with_the_same_seed_draw_different_secrets)
{
    /* run 1 and run 2: the same run seed, the same slot and request number */
    struct drawn d[2];
    request(0, 1, 3);
    session_draws(&d[0]);
    dp_external_free(&h.ctx);
    char err[256];
    cr_assert_eq(dp_external_init(&h.ctx, err, sizeof(err)), 0, "%s", err);
    ext = h.ctx.external;
    ext->tsc0 = 0;
    request(0, 1, 3);
    session_draws(&d[1]);
    cr_assert_neq(d[0].tiebreaker, d[1].tiebreaker, "ICE tie-breaker from the run seed");
    cr_assert(memcmp(d[0].tid, d[1].tid, 12) != 0, "ICE transaction id from the run seed");
    cr_assert_neq(d[0].sctp_rng0, d[1].sctp_rng0, "SCTP tags, TSN and cookie key from the run seed");
}

static const uint8_t evil_mac[6] = {0x02, 0x66, 0x66, 0x66, 0x66, 0x66};
#define EVIL_IP 0xc613fffdu /* 198.19.255.253 */

/* Slot 0's session with agent 3, its peer at PEER_IP:40000 after a check
 * with USE-CANDIDATE (the peer is a controlling ICE agent). */
static void session_with_peer(void)
{
    request(0, 1, 3);
    passes();
    uint8_t req[256];
    uint16_t n = binding_request(req, sizeof(req), "our-password-0123456789", false, 7, true, 1);
    rx(udp_frame(agent_ip(3), RI_EXTERNAL_PORT_BASE, req, n, IPPROTO_UDP));
    const struct ext_session *s = &ext->sess[0];
    cr_assert_eq(s->peer_ip, rte_cpu_to_be_32(PEER_IP));
    cr_assert_eq(s->peer_port, rte_cpu_to_be_16(40000));
    cr_assert_eq(x->slot[0].peer_ip, PEER_IP);
    cr_assert_geq(ext->n_tx, 1, "the check is answered");
    free_tx();
}

static void assert_peer_unmoved(void)
{
    const struct ext_session *s = &ext->sess[0];
    cr_assert_eq(s->peer_ip, rte_cpu_to_be_32(PEER_IP), "the session moved to another address");
    cr_assert_eq(s->peer_port, rte_cpu_to_be_16(40000));
    cr_assert_arr_eq(s->peer_mac, peer_mac, 6);
    cr_assert_eq(x->slot[0].peer_ip, PEER_IP);
    cr_assert_eq(x->slot[0].peer_port, 40000);
}

Test(external, a_spoofed_datagram_from_another_address_does_not_move_the_session)
{
    session_with_peer();
    /* a DTLS-looking datagram and a non-WebRTC one from another host */
    uint8_t dtls[32] = {23, 0xfe, 0xfd};
    uint8_t junk[8] = {0x80};
    rx(udp_frame_from(evil_mac, EVIL_IP, 666, agent_ip(3), RI_EXTERNAL_PORT_BASE, dtls, sizeof(dtls),
                      IPPROTO_UDP));
    rx(udp_frame_from(evil_mac, PEER_IP, 41000, agent_ip(3), RI_EXTERNAL_PORT_BASE, junk,
                      sizeof(junk), IPPROTO_UDP)); /* the peer's address, another port */
    assert_peer_unmoved();
    cr_assert_eq(x->slot[0].s.frames_in, 3);
    cr_assert_eq(x->slot[0].s.frames_unauth, 2);
    cr_assert_eq(x->total.frames_unauth, 2);
    cr_assert_eq(ext->n_tx, 0, "nothing goes to the spoofed address");
    cr_assert_eq(ri_load(&x->slot[0].dp_state), RI_EXT_CONNECTING);
}

Test(external, an_unauthenticated_check_is_dropped_and_counted)
{
    request(0, 1, 3);
    passes();
    uint8_t req[256];
    /* the right USERNAME, signed with another password, nominating */
    uint16_t n = binding_request(req, sizeof(req), "not-our-password-012345", false, 7, true, 1);
    rx(udp_frame_from(evil_mac, EVIL_IP, 666, agent_ip(3), RI_EXTERNAL_PORT_BASE, req, n,
                      IPPROTO_UDP));
    const struct ext_session *s = &ext->sess[0];
    cr_assert_eq(s->peer_ip, 0, "no peer adopted from an unauthenticated check");
    cr_assert_eq(x->slot[0].peer_ip, 0);
    cr_assert_eq(ext->n_tx, 0, "not answered");
    cr_assert_eq(x->slot[0].s.frames_unauth, 1);
    /* the real peer's check is adopted after it */
    n = binding_request(req, sizeof(req), "our-password-0123456789", false, 7, true, 2);
    rx(udp_frame(agent_ip(3), RI_EXTERNAL_PORT_BASE, req, n, IPPROTO_UDP));
    assert_peer_unmoved();
    cr_assert_eq(x->slot[0].s.frames_unauth, 1);
    cr_assert_geq(ext->n_tx, 1);
    free_tx();
    /* and once it is, an unauthenticated check does not move it */
    n = binding_request(req, sizeof(req), "not-our-password-012345", false, 7, true, 3);
    rx(udp_frame_from(evil_mac, EVIL_IP, 666, agent_ip(3), RI_EXTERNAL_PORT_BASE, req, n,
                      IPPROTO_UDP));
    assert_peer_unmoved();
    cr_assert_eq(x->slot[0].s.frames_unauth, 2);
    cr_assert_eq(ext->n_tx, 0);
}

Test(external, a_check_without_nomination_elsewhere_is_answered_there_without_moving)
{
    session_with_peer();
    uint8_t req[256];
    uint16_t n = binding_request(req, sizeof(req), "our-password-0123456789", false, 7, false, 9);
    rx(udp_frame_from(evil_mac, EVIL_IP, 666, agent_ip(3), RI_EXTERNAL_PORT_BASE, req, n,
                      IPPROTO_UDP));
    assert_peer_unmoved();
    cr_assert_eq(ext->n_tx, 1, "the check is answered");
    const struct dp_frame *f = rte_pktmbuf_mtod(ext->tx[0], const struct dp_frame *);
    cr_assert_eq(f->ip.dst_addr, rte_cpu_to_be_32(EVIL_IP), "to where it came from");
    cr_assert_eq(f->udp.dst_port, rte_cpu_to_be_16(666));
    cr_assert_arr_eq(f->eth.dst_addr.addr_bytes, evil_mac, 6);
    free_tx();
    /* with USE-CANDIDATE the peer moves the session there (RFC 8445 7.3.1.5) */
    n = binding_request(req, sizeof(req), "our-password-0123456789", false, 7, true, 10);
    rx(udp_frame_from(evil_mac, EVIL_IP, 666, agent_ip(3), RI_EXTERNAL_PORT_BASE, req, n,
                      IPPROTO_UDP));
    cr_assert_eq(ext->sess[0].peer_ip, rte_cpu_to_be_32(EVIL_IP));
    cr_assert_eq(ext->sess[0].peer_port, rte_cpu_to_be_16(666));
    cr_assert_eq(x->slot[0].peer_ip, EVIL_IP);
    free_tx();
}

/* ---- a whole WebRTC peer against a session ------------------------------ */

/* The browser's side: a struct pc, ICE controlling, DTLS client, that opens
 * the DataChannel; its datagrams go to slot 0 as frames from PEER_IP:40000,
 * and what the session transmits comes back to it from the net_ring port. */
static struct {
    struct pc pc;
    struct pc_setup su;
    struct dtls_record_keys keys;
    struct pc_counters cnt;
    struct cp cp;
    struct dtls_cert cert;
    struct dtls_hs_pool hs;
    void *amem, *pmem;
    bool up, channel_closed, closed;
    uint32_t n_msgs;
    uint32_t len[8];
    bool binary[8];
    uint8_t last[64];
} P;
static uint8_t peer_buf[RI_MSG_MAX];
static uint64_t peer_now;

static void peer_start(void)
{
    memset(&P, 0, sizeof(P));
    cr_assert_eq(cp_default_create(&P.cp), 0);
    cr_assert_eq(dtls_cert_generate(&P.cert, &P.cp), 0);
    cr_assert_eq(dtls_hs_pool_init(&P.hs, 2), 0);
    P.pmem = aligned_alloc(64, (sctp_pool_size(1024, 1200) + 63) & ~(size_t)63);
    P.amem = aligned_alloc(64, (sctp_assoc_size(16) + 63) & ~(size_t)63);
    struct pc_config c = {.controlling = true,
                          .dtls_role = PC_DTLS_CLIENT,
                          .local_ufrag = "peer",
                          .local_pwd = "peer-password-0123456789",
                          .remote_ufrag = "ourufrag",
                          .remote_pwd = "our-password-0123456789",
                          .peer = {4, RI_EXTERNAL_PORT_BASE, {198, 18, 0, 4}},
                          .cert = &P.cert,
                          .peer_fingerprint = x->fingerprint,
                          .cp = &P.cp,
                          .hs = &P.hs,
                          .sctp_mem = P.amem,
                          .sctp_pool = sctp_pool_init(P.pmem, 1024, 1200),
                          .label = "chat",
                          .seed = 99,
                          .setup = &P.su,
                          .rec_keys = &P.keys,
                          .counters = &P.cnt};
    /* the session: our answer said setup:passive, the offer carried the
     * peer's fingerprint */
    request(0, 1, 3);
    x->slot[0].dtls_client = 0;
    memcpy(x->slot[0].remote_fp, P.cert.fingerprint, 32);
    peer_now = 1000000000ull;
    cr_assert_eq(pc_init(&P.pc, &c, peer_now), 0);
    passes();
}

static void peer_stop(void)
{
    pc_free(&P.pc);
    dtls_hs_pool_destroy(&P.hs);
    dtls_cert_free(&P.cert);
    cp_destroy(&P.cp);
    free(P.amem);
    free(P.pmem);
}

static void peer_events(void)
{
    struct pc_ev ev = {.buf = peer_buf, .cap = sizeof(peer_buf)};
    for (;;) {
        enum pc_event_type t = pc_poll_event(&P.pc, &ev);
        if (t == PC_EV_NONE)
            return;
        if (t == PC_EV_UP)
            P.up = true;
        else if (t == PC_EV_CHANNEL_CLOSED)
            P.channel_closed = true;
        else if (t == PC_EV_CLOSED || t == PC_EV_FAILED)
            P.closed = true;
        else if (t == PC_EV_MESSAGE && P.n_msgs < 8) {
            P.len[P.n_msgs] = ev.len;
            P.binary[P.n_msgs++] = ev.binary;
            memcpy(P.last, peer_buf, ev.len < sizeof(P.last) ? ev.len : sizeof(P.last));
        }
    }
}

/* One millisecond of both sides: the peer's timers and datagrams into the
 * port, a pass of worker 0, and what it sent back to the peer. */
static void pump_once(void)
{
    h.tsc += 1000000;
    peer_now += 1000000;
    if (pc_next_timeout(&P.pc) <= peer_now)
        pc_handle_timeout(&P.pc, peer_now);
    uint8_t d[2048];
    size_t n;
    while ((n = pc_poll_transmit(&P.pc, d, sizeof(d), peer_now)) > 0)
        rx(udp_frame(agent_ip(3), RI_EXTERNAL_PORT_BASE, d, (uint16_t)n, IPPROTO_UDP));
    dp_external_poll(&h.ctx, h.wk, h.tsc);
    /* the net_ring port loops the frames it sent back: take them first */
    struct rte_mbuf *pk[EXT_BURST];
    uint16_t k;
    while ((k = rte_eth_rx_burst(ext->port_id, 0, pk, EXT_BURST)) > 0) {
        for (uint16_t j = 0; j < k; j++) {
            const struct dp_frame *f = rte_pktmbuf_mtod(pk[j], const struct dp_frame *);
            if (f->eth.ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
                f->ip.dst_addr == rte_cpu_to_be_32(PEER_IP)) {
                uint16_t len = (uint16_t)(rte_be_to_cpu_16(f->udp.dgram_len) - sizeof(struct rte_udp_hdr));
                pc_handle_input(&P.pc, (const uint8_t *)f + DP_FRAME_HDR_LEN, len, peer_now);
            }
            rte_pktmbuf_free(pk[j]);
        }
    }
    peer_events();
}

static void pump_until(bool *flag, uint32_t max_ms)
{
    for (uint32_t i = 0; i < max_ms && !*flag; i++)
        pump_once();
}

static void pump_ms(uint32_t ms)
{
    for (uint32_t i = 0; i < ms; i++)
        pump_once();
}

Test(external, an_echo_keeps_the_message_type)
{
    peer_start();
    pump_until(&P.up, 20000);
    cr_assert(P.up, "the peer's channel opens");
    pump_ms(100);
    cr_assert_eq(ri_load(&x->slot[0].dp_state), RI_EXT_UP);
    cr_assert_eq(pc_send_as(&P.pc, "hello", 5, false, peer_now), 0);
    cr_assert_eq(pc_send_as(&P.pc, "\x01\x02\x03", 3, true, peer_now), 0);
    cr_assert_eq(pc_send_as(&P.pc, "", 0, false, peer_now), 0); /* PPID 56 */
    cr_assert_eq(pc_send_as(&P.pc, "", 0, true, peer_now), 0);  /* PPID 57 */
    for (uint32_t i = 0; i < 5000 && P.n_msgs < 4; i++)
        pump_once();
    cr_assert_eq(P.n_msgs, 4, "the four echoes arrive: %u (in %lu, echoed %lu, dropped %lu)", P.n_msgs, (unsigned long)x->slot[0].s.msgs_in, (unsigned long)x->slot[0].s.msgs_echoed, (unsigned long)x->slot[0].s.msgs_dropped);
    cr_assert_eq(P.len[0], 5);
    cr_assert_not(P.binary[0], "a string came back as binary");
    cr_assert_eq(P.len[1], 3);
    cr_assert(P.binary[1]);
    cr_assert_eq(P.len[2], 0);
    cr_assert_not(P.binary[2], "an empty string came back as binary");
    cr_assert_eq(P.len[3], 0);
    cr_assert(P.binary[3]);
    cr_assert_eq(x->slot[0].s.msgs_echoed, 4);
    cr_assert_eq(x->slot[0].s.msgs_dropped, 0);
    peer_stop();
}

Test(external, a_closed_datachannel_ends_the_session)
{
    peer_start();
    pump_until(&P.up, 20000);
    cr_assert(P.up, "the peer's channel opens");
    pump_ms(100);
    cr_assert_eq(ri_load(&x->slot[0].dp_state), RI_EXT_UP);
    cr_assert_eq(pc_channel_close(&P.pc, peer_now), 0);
    pump_until(&P.channel_closed, 5000);
    cr_assert(P.channel_closed, "the session answers the stream reset");
    pump_ms(200);
    cr_assert_eq(ri_load(&x->slot[0].dp_state), RI_EXT_CLOSED, "the session is still %u",
                 ri_load(&x->slot[0].dp_state));
    cr_assert_eq(ri_load(&x->log_n), 1);
    cr_assert(x->log[0].closed_by_peer);
    cr_assert_eq(x->log[0].state, RI_EXT_CLOSED);
    cr_assert_eq(x->sessions_closed, 1);
    cr_assert_eq(x->slot[0].s.msgs_dropped, 0);
    peer_stop();
}

/* --external-idle: an up session whose peer sends nothing for idle_ns is
 * closed (an ABORT tells the peer), counted in sessions_idle_closed; one
 * whose peer keeps talking is not. */
Test(external, an_up_session_silent_for_the_idle_time_is_closed)
{
    x->idle_ns = 300000000ull; /* 300 ms */
    peer_start();
    pump_until(&P.up, 20000);
    cr_assert(P.up, "the peer's channel opens");
    /* a message every 100 ms for a second: never idle */
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(pc_send_as(&P.pc, "ping", 4, false, peer_now), 0);
        pump_ms(100);
        cr_assert_eq(ri_load(&x->slot[0].dp_state), RI_EXT_UP, "closed while its peer talks");
    }
    /* then silence: the peer neither sends nor hears */
    for (int k = 0; k < 400; k++) {
        h.tsc += 1000000;
        dp_external_poll(&h.ctx, h.wk, h.tsc);
    }
    cr_assert_eq(ri_load(&x->slot[0].dp_state), RI_EXT_CLOSED, "still %u after 400 ms of silence",
                 ri_load(&x->slot[0].dp_state));
    cr_assert_eq(x->sessions_idle_closed, 1);
    cr_assert_eq(x->sessions_closed, 1);
    cr_assert_eq(x->log[0].state, RI_EXT_CLOSED);
    cr_assert_not(x->log[0].closed_by_peer);
    peer_stop();
}
