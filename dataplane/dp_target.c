/* SPDX-License-Identifier: MIT */
/* Target mode on worker 0: simulated agents as WebRTC clients of a real
 * server, one struct pc per TARGET slot on the external port; ARP for the
 * server's address (or the gateway's); DataChannel round trips; SRTP
 * audio both ways. */
#include "dp_target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "agent.h"
#include "dp_external.h"
#include "dp_external_internal.h"
#include "dp_mem.h"
#include "dp_msg.h"
#include "dp_relay.h"
#include "pc.h"
#include "rng.h"
#include "rtcp.h"
#include "rtp_stream.h"
#include "srtp_session.h"
#include "wire.h"

#define TGT_MEDIA_BUF 1500
#define TGT_CLOCK 48000u /* Opus's RTP clock */
#define TGT_DGRAM 2048u  /* a datagram for the relay (--relay): the engines write it here */
_Static_assert(TGT_DGRAM == DP_MEM_TGT_DGRAM, "update DP_MEM_TGT_DGRAM (dp_mem.h)");

/* A server address our frames go to, and its MAC once known. */
struct tgt_nh {
    uint32_t ip;        /* host byte order, 0: a free entry */
    uint32_t asker;     /* the agent address our ARP requests come from */
    uint32_t users;     /* running sessions that send there */
    bool known;
    uint8_t mac[6];
    uint64_t next_ask;  /* ns */
};

/* RTP sequence numbers of one received stream: loss as RFC 3550 A.3
 * (expected from the extended highest minus the first, less received). */
struct tgt_seq {
    bool init;
    uint16_t max;
    uint32_t cycles, base;
    uint64_t received;
};

struct tgt_session {
    struct pc pc;
    struct pc_setup su; /* kept for the session: consent checks need the ICE agent, media the keying */
    struct dtls_record_keys keys;
    struct srtps_session srtp;     /* our RTP and RTCP out; the server's RTP in (its SSRC learnt) */
    struct srtps_session srtcp_in; /* the server's RTCP in: its sender SSRC need not be its RTP SSRC */
    struct rtp_stream rtp;
    struct rtcp_session rtcp;
    struct pc_counters counters;
    void *sctp_mem;
    uint32_t seq;       /* request being served, 0 none */
    uint32_t agent, agent_ip;
    uint32_t peer_ip;   /* host byte order: where our datagrams go (tgt_dest) */
    uint16_t peer_port;
    uint16_t nh;        /* index into the next-hop table of peer_ip */
    uint8_t n_cands;    /* the answer's candidates, ICE checks each (full ICE) */
    uint32_t cand_ip[RI_TARGET_CANDS];
    uint16_t cand_port[RI_TARGET_CANDS];
    uint16_t cand_nh[RI_TARGET_CANDS]; /* their next hops (an entry may serve several) */
    int16_t cand_peer[RI_TARGET_CANDS]; /* --relay: their peer index on the agent's TURN client */
    bool running, up, closed_by_peer, dc_opened, dtls_client, audio, media_on, have_rr;
    bool selected;      /* ICE selected a pair: peer_ip/peer_port are its remote address */
    bool permitted;     /* --relay: the server granted a permission for every candidate */
    bool dirty;         /* the engines may have datagrams: input, a timer, a send since the last drain */
    uint8_t audio_pt;
    uint32_t audio_ssrc;
    uint32_t msg_len;   /* bytes of our messages (msg_size within the server's max message) */
    uint64_t t_start, t_up, next_msg, next_rtcp, msg_seq;
    char lufrag[36], lpwd[68], rufrag[36], rpwd[68];
    uint8_t rfp[32];
    /* an answerer (a VideoRoom subscriber): the server's feeds */
    bool answerer, feeds_on;
    uint8_t n_feeds;
    uint32_t feed_agent[RI_TARGET_FEEDS];
    uint32_t feed_ssrc[RI_TARGET_FEEDS];
    uint64_t feed_next[RI_TARGET_FEEDS];          /* the next message sequence expected of each */
    struct tgt_seq feed_seq[RI_TARGET_FEEDS];     /* RTP sequence numbers seen per feed */
    /* --media video: our VP8 stream (its own SRTP: one outbound SSRC per
     * session) and the server's video back (payload type video_pt) */
    struct srtps_session vsrtp;     /* our video RTP and RTCP out; the server's video RTP in (SSRC learnt) */
    struct srtps_session vsrtcp_in; /* the server's second RTCP sender (its video medium's SSRC) */
    struct rtp_stream vrtp;
    struct rtcp_session vrtcp;
    bool video, video_on;
    uint8_t video_pt;
    uint32_t video_ssrc;
    uint64_t next_vrtcp;
};

struct dp_target {
    struct ri_target *t;
    struct dp_external *e;
    uint32_t n;               /* sessions (slots) */
    uint32_t n_agents;
    struct tgt_session *sess; /* n, 64-byte aligned */
    int32_t *by_agent;        /* agent -> its running session, -1 none */
    struct tgt_nh nh[DP_TGT_NEXTHOPS];
    struct dtls_hs_pool hs;
    void *pool_mem;
    struct sctp_pool *pool;
    uint32_t pool_bufs, share; /* buffers in the pool; each association's share of them */
    uint8_t *in;              /* a message received (RI_MSG_MAX) */
    uint8_t *out;             /* the message we send (RI_MSG_MAX) */
    struct srtps_session *feed_srtp; /* n x feeds: an answerer's inbound SRTP per feed, NULL none */
    uint32_t feeds;           /* ri_target.feeds (per session in feed_srtp) */
    uint32_t cursor;          /* next session of the sweep */
    uint16_t ip_id;
    uint64_t setup_timeout;
    size_t bytes;
    bool relay;               /* --relay: every datagram through the agent's TURN allocation (dp_relay) */
    uint8_t *dgram;           /* TGT_DGRAM bytes, with relay */
    uint64_t tsc;             /* the pass's TSC (the relay's clients keep their own ns) */
    uint32_t video_bps;       /* --media video: bitrate, fps, largest RTP payload (the mesh's meaning) */
    uint16_t video_fps, video_payload;
    bool video;               /* --media video: sessions whose answer refuses the line are counted */
    uint8_t dtls_versions;    /* --external-dtls: what our handshakes offer or accept (RI_DTLS_*) */
};

/* the memory plan (dp_mem_target) counts from these */
_Static_assert(sizeof(struct tgt_session) == DP_MEM_TGT_SESSION_BYTES, "update DP_MEM_TGT_SESSION_BYTES (dp_mem.h)");
_Static_assert(sizeof(struct dp_target) == DP_MEM_TGT_STATE_BYTES, "update DP_MEM_TGT_STATE_BYTES (dp_mem.h)");
_Static_assert(DP_TGT_STREAMS == DP_MEM_TGT_STREAMS && DP_TGT_BUFS_PER_SESSION == DP_MEM_TGT_BUFS_PER_SESSION &&
                   DP_TGT_BUFS_MIN == DP_MEM_TGT_BUFS_MIN && DP_TGT_BUFS_MAX == DP_MEM_TGT_BUFS_MAX &&
                   DP_TGT_HS == DP_MEM_TGT_HS,
               "dp_mem_target sizes from the DP_MEM_TGT_* twins of these");

static struct dp_target *tgt_of(const struct dp_ctx *ctx)
{
    return ctx->external->target;
}

/* ---- next hops ----------------------------------------------------------- */

/* Where a frame for `ip` goes on the link: ip itself, or with
 * --target-gateway the gateway when ip is off the port's link. */
static uint32_t hop_of(const struct dp_target *t, uint32_t ip)
{
    uint32_t gw = t->t->gateway;
    return gw && ((ip ^ t->t->link_net) & t->t->link_mask) ? gw : ip;
}

/* The next-hop entry for destination `ip` (its own address, or the
 * gateway's that every off-link destination shares). */
static int nh_get(struct dp_target *t, uint32_t ip, uint32_t asker)
{
    ip = hop_of(t, ip);
    int free_i = -1;
    for (uint32_t k = 0; k < DP_TGT_NEXTHOPS; k++) {
        if (t->nh[k].ip == ip)
            return (int)k;
        if (free_i < 0 && t->nh[k].users == 0)
            free_i = (int)k;
    }
    if (free_i < 0)
        return -ENOSPC;
    t->nh[free_i] = (struct tgt_nh){.ip = ip, .asker = asker};
    return free_i;
}

/* Gives back the next hops session s holds (one per candidate). */
static void nh_release(struct dp_target *t, struct tgt_session *s)
{
    for (uint32_t k = 0; k < s->n_cands && !t->relay; k++)
        if (t->nh[s->cand_nh[k]].users)
            t->nh[s->cand_nh[k]].users--;
    s->n_cands = 0;
}

static void nh_learn(struct tgt_nh *h, const uint8_t mac[6])
{
    memcpy(h->mac, mac, 6);
    if (!h->known) {
        h->known = true;
        h->next_ask = 0; /* set at the next ARP pass: refresh from then */
    }
}

bool dp_target_arp_seen(struct dp_target *t, uint32_t ip, const uint8_t mac[6])
{
    for (uint32_t k = 0; k < DP_TGT_NEXTHOPS; k++)
        if (t->nh[k].ip == ip && ip != 0) {
            nh_learn(&t->nh[k], mac);
            return true;
        }
    return false;
}

/* ARP requests due: for next hops in use, unknown (every retry interval)
 * or to refresh. */
static bool arp_poll(const struct dp_ctx *ctx, struct dp_target *t, struct dp_worker *wk, uint64_t now)
{
    bool did = false;
    for (uint32_t k = 0; k < DP_TGT_NEXTHOPS; k++) {
        struct tgt_nh *h = &t->nh[k];
        if (!h->users || h->ip == 0)
            continue;
        if (h->known && h->next_ask == 0)
            h->next_ask = now + DP_TGT_ARP_REFRESH_NS;
        if (now < h->next_ask)
            continue;
        h->next_ask = now + (h->known ? DP_TGT_ARP_REFRESH_NS : DP_TGT_ARP_RETRY_NS);
        struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
        if (!m) {
            ri_add(wk->m->live.tx_starved, 1);
            continue;
        }
        struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
        struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
        memset(eth->dst_addr.addr_bytes, 0xff, 6);
        rte_ether_addr_copy(&t->e->mac, &eth->src_addr);
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
        a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
        a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
        a->arp_hlen = 6;
        a->arp_plen = 4;
        a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
        rte_ether_addr_copy(&t->e->mac, &a->arp_data.arp_sha);
        a->arp_data.arp_sip = rte_cpu_to_be_32(h->asker);
        memset(a->arp_data.arp_tha.addr_bytes, 0, 6);
        a->arp_data.arp_tip = rte_cpu_to_be_32(h->ip);
        m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
        dp_ext_tx(t->e, wk, m);
        did = true;
    }
    return did;
}

/* ---- where a datagram goes ------------------------------------------------ */

/* The next hop of address ip among session s's candidates (-1: none). */
static int cand_nh(const struct tgt_session *s, uint32_t ip)
{
    for (uint32_t k = 0; k < s->n_cands; k++)
        if (s->cand_ip[k] == ip)
            return s->cand_nh[k];
    return -1;
}

/* The candidate of session s at ip:port, -1 none. */
static int cand_of(const struct tgt_session *s, uint32_t ip, uint16_t port)
{
    for (uint32_t k = 0; k < s->n_cands; k++)
        if (s->cand_ip[k] == ip && s->cand_port[k] == port)
            return (int)k;
    return -1;
}

/* Where a datagram of session s goes: `to` when pc named it (an ICE
 * check of full ICE goes to its pair's candidate), else the selected
 * pair's address (peer_ip, which starts as the best candidate). Returns
 * the next-hop entry, or NULL while its MAC is unknown or the address is
 * none of the answer's (a peer-reflexive one: ICE then checks the others). */
static const struct tgt_nh *tgt_dest(struct dp_target *t, const struct tgt_session *s, const struct stun_addr *to,
                                     uint32_t *ip, uint16_t *port)
{
    if (to && to->family == 4) {
        *ip = wire_get32(to->ip);
        *port = to->port;
    } else {
        *ip = s->peer_ip;
        *port = s->peer_port;
    }
    int k = *ip == s->peer_ip ? s->nh : cand_nh(s, *ip);
    return k >= 0 && t->nh[k].known ? &t->nh[k] : NULL;
}

/* Whether a datagram from (ip, port) may reach session s: STUN from
 * anywhere (the ICE agent authenticates it: a peer-reflexive address
 * shows itself that way), anything else only from the selected pair's
 * address (before selection: from one of the answer's candidates). */
static bool tgt_from_ok(const struct tgt_session *s, uint32_t ip, uint16_t port, const uint8_t *d, uint32_t len)
{
    if (len && d[0] < 4)
        return true;
    if (ip == s->peer_ip && port == s->peer_port)
        return true;
    if (s->selected)
        return false;
    for (uint32_t k = 0; k < s->n_cands; k++)
        if (s->cand_ip[k] == ip && s->cand_port[k] == port)
            return true;
    return false;
}

/* Once ICE selected a pair, its remote address is where everything but
 * checks goes (and the only source taken for DTLS, SCTP and media). A
 * peer-reflexive address (none of the answer's) gets a next hop of its
 * own while there is room for it among the candidates. */
static void adopt_selected(struct dp_target *t, struct tgt_session *s, struct ri_target_slot *sl)
{
    struct stun_addr a;
    if (!pc_selected_peer(&s->pc, &a) || a.family != 4)
        return;
    uint32_t ip = wire_get32(a.ip);
    int k = cand_nh(s, ip);
    if (t->relay) /* only a candidate the relay has a permission for; no peer-reflexive one */
        k = cand_of(s, ip, a.port) >= 0 ? 0 : -1;
    else if (k < 0 && s->n_cands < RI_TARGET_CANDS && (k = nh_get(t, ip, s->agent_ip)) >= 0) {
        uint32_t c = s->n_cands++;
        s->cand_ip[c] = ip;
        s->cand_port[c] = a.port;
        s->cand_nh[c] = (uint16_t)k;
        t->nh[k].users++;
    }
    if (k < 0)
        return; /* no room: datagrams keep going to the best candidate */
    s->peer_ip = ip;
    s->peer_port = a.port;
    s->nh = (uint16_t)k;
    s->selected = true;
    ri_set(sl->sel_ip, ip);
    ri_set(sl->sel_port, a.port);
}

/* ---- media ------------------------------------------------------------------ */

/* The VP8 stream of s (the answer kept it): the mesh's generator with
 * --media video's bitrate, fps and payload, a VP8 descriptor in front. */
static void video_start(const struct dp_target *t, struct tgt_session *s, uint64_t now, uint64_t draw)
{
    s->video_on = false;
    if (!s->video)
        return;
    if (pc_srtp_init(&s->pc, &s->vsrtp) != 0 || pc_srtp_init(&s->pc, &s->vsrtcp_in) != 0 ||
        srtps_set_ssrc(&s->vsrtp, true, s->video_ssrc) != 0 || srtps_set_ssrc(&s->vsrtcp_in, true, s->video_ssrc) != 0)
        return;
    uint16_t fps = t->video_fps ? t->video_fps : 30;
    struct rtp_stream_config rc = {.kind = RTP_VIDEO,
                                   .ssrc = s->video_ssrc,
                                   .payload_type = s->video_pt,
                                   .video_bps = t->video_bps,
                                   .fps = fps,
                                   .mtu_payload = t->video_payload,
                                   .vp8 = true,
                                   .start_offset_ns = draw % (1000000000ull / fps),
                                   .first_frame = (uint16_t)(rng_mix(draw + 3) % 60),
                                   .first_seq = (uint16_t)(rng_mix(draw) & 0x7fff),
                                   .first_ts = (uint32_t)rng_mix(draw + 1)};
    rtp_stream_init(&s->vrtp, &rc);
    rtp_stream_key_frame(&s->vrtp); /* a receiver decodes from a key frame */
    char cname[24];
    snprintf(cname, sizeof(cname), "agent-%u", s->agent);
    struct rtcp_config q = {.ssrc = s->video_ssrc, .clock_rate = 90000, .remote_ssrc = 0,
                            .remote_clock_rate = 90000, .cname = cname};
    if (rtcp_init(&s->vrtcp, &q) != 0)
        return;
    s->next_vrtcp = now + DP_TGT_RTCP_NS * 4 / 5 + rng_mix(draw + 2) % (DP_TGT_RTCP_NS * 2 / 5);
    s->video_on = true;
}

static void media_start(const struct dp_target *t, struct tgt_session *s, uint64_t now, uint64_t draw)
{
    s->media_on = false;
    if (!s->audio)
        return;
    if (pc_srtp_init(&s->pc, &s->srtp) != 0 || pc_srtp_init(&s->pc, &s->srtcp_in) != 0 ||
        srtps_set_ssrc(&s->srtp, true, s->audio_ssrc) != 0 || srtps_set_ssrc(&s->srtcp_in, true, s->audio_ssrc) != 0)
        return; /* no DTLS-SRTP profile agreed: no media */
    struct rtp_stream_config rc = {.kind = RTP_AUDIO,
                                   .ssrc = s->audio_ssrc,
                                   .payload_type = s->audio_pt,
                                   .audio_bytes = DP_TGT_AUDIO_BYTES,
                                   .start_offset_ns = draw % 20000000ull,
                                   /* below 0x8000, as libwebrtc draws it (dp_media.c) */
                                   .first_seq = (uint16_t)(rng_mix(draw) & 0x7fff),
                                   .first_ts = (uint32_t)rng_mix(draw + 1)};
    rtp_stream_init(&s->rtp, &rc);
    char cname[24];
    snprintf(cname, sizeof(cname), "agent-%u", s->agent);
    struct rtcp_config q = {.ssrc = s->audio_ssrc, .clock_rate = TGT_CLOCK, .remote_ssrc = 0,
                            .remote_clock_rate = TGT_CLOCK, .cname = cname};
    if (rtcp_init(&s->rtcp, &q) != 0)
        return;
    s->next_rtcp = now + DP_TGT_RTCP_NS * 4 / 5 + rng_mix(draw + 2) % (DP_TGT_RTCP_NS * 2 / 5);
    s->have_rr = false;
    s->media_on = true;
    video_start(t, s, now, rng_mix(draw + 7));
}

static void media_stop(struct tgt_session *s)
{
    if (s->media_on || s->audio) {
        srtps_clear(&s->srtp);
        srtps_clear(&s->srtcp_in);
    }
    if (s->video_on || s->video) {
        srtps_clear(&s->vsrtp);
        srtps_clear(&s->vsrtcp_in);
    }
    s->media_on = false;
    s->video_on = false;
}

/* The feeds' SRTP of answerer s: keyed once DTLS is done (the server
 * sends media from then on, before the DataChannel is open), one
 * session per offered audio line, its SSRC fixed. */
static void feeds_start(struct dp_target *t, struct tgt_session *s, uint32_t i)
{
    s->feeds_on = true;
    for (uint32_t k = 0; k < s->n_feeds; k++) {
        struct srtps_session *f = &t->feed_srtp[(size_t)i * t->feeds + k];
        s->feed_seq[k] = (struct tgt_seq){0};
        if (!s->feed_ssrc[k] || pc_srtp_init(&s->pc, f) != 0 || srtps_set_ssrc(f, false, s->feed_ssrc[k]) != 0)
            s->feed_ssrc[k] = 0; /* no DTLS-SRTP profile agreed: that feed's media is not counted */
    }
}

static void feeds_stop(struct dp_target *t, struct tgt_session *s, uint32_t i)
{
    if (s->feeds_on)
        for (uint32_t k = 0; k < s->n_feeds; k++)
            srtps_clear(&t->feed_srtp[(size_t)i * t->feeds + k]);
    s->feeds_on = false;
}

/* Extended sequence bookkeeping of one packet (RFC 3550 A.1, without the
 * probation): returns the loss so far. */
static uint64_t seq_update(struct tgt_seq *q, uint16_t seq)
{
    if (!q->init) {
        q->init = true;
        q->max = seq;
        q->base = seq;
        q->cycles = 0;
    } else {
        uint16_t delta = (uint16_t)(seq - q->max);
        if (delta < 3000) {
            if (seq < q->max)
                q->cycles += 65536u;
            q->max = seq;
        }
    }
    q->received++;
    uint64_t expected = (uint64_t)q->cycles + q->max - q->base + 1;
    return expected > q->received ? expected - q->received : 0;
}

/* One SRTP/SRTCP datagram from the server to answerer s (session i):
 * its feed by SSRC (RTP bytes 8..11, RTCP's sender 4..7). */
static void feed_in(struct dp_target *t, struct dp_worker *wk, struct tgt_session *s, uint32_t i,
                    struct ri_target_slot *sl, const uint8_t *d, uint32_t len)
{
    bool rtcp = len >= 8 && d[1] >= 192 && d[1] <= 223;
    if (!s->feeds_on || len < 12 || len > TGT_MEDIA_BUF) {
        ri_add(wk->m->live.drops[RI_DROP_BAD_SRTP], 1);
        return;
    }
    uint32_t ssrc = wire_get32(d + (rtcp ? 4 : 8));
    uint32_t k = 0;
    while (k < s->n_feeds && (s->feed_ssrc[k] == 0 || s->feed_ssrc[k] != ssrc))
        k++;
    if (k == s->n_feeds) { /* not a stream the offer announced */
        ri_add(wk->m->live.drops[RI_DROP_BAD_SRTP], 1);
        return;
    }
    struct srtps_session *f = &t->feed_srtp[(size_t)i * t->feeds + k];
    uint8_t pkt[TGT_MEDIA_BUF];
    memcpy(pkt, d, len);
    size_t n = len;
    uint64_t auth = srtps_counters(f)->auth_failures;
    enum engine_input r = rtcp ? srtps_unprotect_rtcp(f, pkt, &n) : srtps_unprotect_rtp(f, pkt, &n);
    if (r != ENGINE_IN_ACCEPTED) {
        if (srtps_counters(f)->auth_failures != auth) {
            ri_add(sl->s.srtp_auth_failures, 1);
            ri_add(t->t->total.srtp_auth_failures, 1);
            ri_add(wk->m->live.srtp_auth_failures, 1);
        }
        ri_add(wk->m->live.drops[RI_DROP_BAD_SRTP], 1);
        return;
    }
    ri_add(wk->m->live.srtp_unprotected, 1);
    if (rtcp) {
        ri_add(sl->s.rtcp_in, 1);
        ri_add(t->t->total.rtcp_in, 1);
        return;
    }
    ri_add(sl->s.rtp_back, 1);
    ri_add(t->t->total.rtp_back, 1);
    ri_add(wk->m->live.media_rtp_rx, 1);
    ri_add(sl->feed_rtp[k], 1);
    uint64_t lost = seq_update(&s->feed_seq[k], wire_get16(pkt + 2));
    ri_set(sl->feed_rtp_lost[k], lost);
    uint64_t all = 0;
    for (uint32_t j = 0; j < s->n_feeds; j++)
        all += sl->feed_rtp_lost[j];
    ri_set(sl->s.rtp_lost, all);
}

/* One SRTP/SRTCP datagram from the server. */
static void media_in(struct dp_target *t, struct dp_worker *wk, struct tgt_session *s, struct ri_target_slot *sl,
                     const uint8_t *d, uint32_t len, uint64_t now)
{
    if (!s->media_on || len < 8 || len > TGT_MEDIA_BUF) {
        ri_add(wk->m->live.drops[RI_DROP_BAD_SRTP], 1);
        return;
    }
    uint8_t pkt[TGT_MEDIA_BUF];
    memcpy(pkt, d, len);
    size_t n = len;
    bool rtcp = pkt[1] >= 192 && pkt[1] <= 223; /* RFC 5761 §4 */
    /* video: RTP of the payload type the answer kept for VP8 (the server
     * may rewrite SSRCs); RTCP from the server's second sender SSRC */
    bool vid = s->video_on && !rtcp && (pkt[1] & 0x7f) == s->video_pt;
    struct srtps_session *k = rtcp ? &s->srtcp_in : vid ? &s->vsrtp : &s->srtp;
    uint64_t auth = srtps_counters(k)->auth_failures, foreign = srtps_counters(k)->foreign_ssrc;
    enum engine_input r = rtcp ? srtps_unprotect_rtcp(k, pkt, &n) : srtps_unprotect_rtp(k, pkt, &n);
    if (r != ENGINE_IN_ACCEPTED && rtcp && s->video_on && srtps_counters(k)->foreign_ssrc != foreign) {
        vid = true; /* not the first RTCP sender: the second one's context */
        k = &s->vsrtcp_in;
        auth = srtps_counters(k)->auth_failures;
        r = srtps_unprotect_rtcp(k, pkt, &n);
    }
    if (r != ENGINE_IN_ACCEPTED) {
        if (srtps_counters(k)->auth_failures != auth) {
            ri_add(sl->s.srtp_auth_failures, 1);
            ri_add(t->t->total.srtp_auth_failures, 1);
            ri_add(wk->m->live.srtp_auth_failures, 1);
            if (vid) {
                ri_add(sl->s.video_srtp_auth_failures, 1);
                ri_add(t->t->total.video_srtp_auth_failures, 1);
            }
        }
        ri_add(wk->m->live.drops[RI_DROP_BAD_SRTP], 1);
        return;
    }
    ri_add(wk->m->live.srtp_unprotected, 1);
    if (vid && !rtcp) {
        ri_add(sl->s.video_rtp_back, 1);
        ri_add(t->t->total.video_rtp_back, 1);
        ri_add(sl->s.video_bytes_back, n);
        ri_add(t->t->total.video_bytes_back, n);
        ri_add(wk->m->live.media_rtp_rx, 1);
        rtcp_on_rtp_received(&s->vrtcp, wire_get32(pkt + 8), wire_get16(pkt + 2), wire_get32(pkt + 4), now);
        int32_t vlost = rtcp_source_lost(&s->vrtcp.rx);
        ri_set(sl->s.video_rtp_lost, vlost > 0 ? (uint64_t)vlost : 0);
        return;
    }
    if (rtcp) {
        ri_add(sl->s.rtcp_in, 1);
        ri_add(t->t->total.rtcp_in, 1);
        if (s->video_on) { /* the server's feedback on our video, whichever sender */
            struct rtcp_fb fb;
            rtcp_feedback_count(pkt, n, s->video_ssrc, &fb);
            ri_add(sl->s.video_rtcp_pli, fb.pli);
            ri_add(t->t->total.video_rtcp_pli, fb.pli);
            ri_add(sl->s.video_rtcp_fir, fb.fir);
            ri_add(t->t->total.video_rtcp_fir, fb.fir);
            ri_add(sl->s.video_rtcp_nack, fb.nack);
            ri_add(t->t->total.video_rtcp_nack, fb.nack);
            if (fb.pli || fb.fir)
                rtp_stream_key_frame(&s->vrtp);
            /* the video's session takes what its source sent (SR timing,
             * a block about our video); the audio's below reads the same
             * packet for a block about our audio, whichever context it came by */
            rtcp_handle_input(&s->vrtcp, pkt, n, now, NULL);
        }
        struct rtcp_msg msg;
        if (rtcp_handle_input(&s->rtcp, pkt, n, now, &msg) == ENGINE_IN_MALFORMED)
            return;
        /* the server's report on our stream, whoever its sender SSRC is */
        for (uint32_t b = 0; b < msg.n_blocks; b++) {
            const struct rtcp_report_block *rb = &msg.blocks[b];
            if (rb->ssrc != s->audio_ssrc)
                continue;
            s->have_rr = true;
            ri_set(sl->s.rtcp_rr_loss, rb->lost > 0 ? (uint32_t)rb->lost : 0);
            ri_set(sl->s.jitter_us, (uint32_t)((uint64_t)rb->jitter * 1000000ull / TGT_CLOCK));
        }
        return;
    }
    ri_add(sl->s.rtp_back, 1);
    ri_add(t->t->total.rtp_back, 1);
    ri_add(wk->m->live.media_rtp_rx, 1);
    rtcp_on_rtp_received(&s->rtcp, wire_get32(pkt + 8), wire_get16(pkt + 2), wire_get32(pkt + 4), now);
    int32_t lost = rtcp_source_lost(&s->rtcp.rx);
    ri_set(sl->s.rtp_lost, lost > 0 ? (uint64_t)lost : 0);
    if (!s->have_rr)
        ri_set(sl->s.jitter_us, (uint32_t)(rtcp_source_jitter_ns(&s->rtcp.rx) / 1000));
}

/* The next video datagram due (its RTCP report, or RTP), protected; its
 * length or 0. */
static size_t video_poll(struct dp_target *t, struct dp_worker *wk, struct tgt_session *s, struct ri_target_slot *sl,
                         uint8_t *buf, size_t room, uint64_t now)
{
    if (now >= s->next_vrtcp) {
        s->next_vrtcp = now + DP_TGT_RTCP_NS * 4 / 5 + rng_mix(now + 1) % (DP_TGT_RTCP_NS * 2 / 5);
        int n = rtcp_build_report(&s->vrtcp, now, buf, room - SRTPS_RTCP_MAX_TRAILER);
        size_t len = n > 0 ? (size_t)n : 0;
        if (len && srtps_protect_rtcp(&s->vsrtp, buf, &len, room) == 0) {
            ri_add(wk->m->live.srtp_protected, 1);
            ri_add(wk->m->live.media_rtcp_tx, 1);
            return len;
        }
    }
    uint64_t keys = s->vrtp.keyframes;
    int n = rtp_stream_poll(&s->vrtp, now, buf, (uint16_t)(room - SRTPS_RTP_MAX_TRAILER));
    if (n <= 0)
        return 0;
    rtcp_on_rtp_sent(&s->vrtcp, wire_get32(buf + 4), (uint32_t)n - RTP_HDR_LEN, now);
    size_t len = (size_t)n;
    if (srtps_protect_rtp(&s->vsrtp, buf, &len, room) != 0)
        return 0;
    ri_add(sl->s.video_rtp_sent, 1);
    ri_add(t->t->total.video_rtp_sent, 1);
    ri_add(sl->s.video_bytes_sent, (uint64_t)n);
    ri_add(t->t->total.video_bytes_sent, (uint64_t)n);
    if (s->vrtp.keyframes != keys) {
        ri_add(sl->s.video_keyframes, 1);
        ri_add(t->t->total.video_keyframes, 1);
    }
    ri_add(wk->m->live.srtp_protected, 1);
    ri_add(wk->m->live.media_rtp_tx, 1);
    return len;
}

/* The next media datagram due (an RTCP report, or RTP), protected; its
 * length or 0. */
static size_t media_poll(struct dp_target *t, struct dp_worker *wk, struct tgt_session *s, struct ri_target_slot *sl,
                         uint8_t *buf, size_t cap, uint64_t now)
{
    if (!s->media_on || cap < TGT_MEDIA_BUF / 2)
        return 0;
    size_t room = cap > TGT_MEDIA_BUF ? TGT_MEDIA_BUF : cap;
    if (now >= s->next_rtcp) {
        s->next_rtcp = now + DP_TGT_RTCP_NS * 4 / 5 + rng_mix(now) % (DP_TGT_RTCP_NS * 2 / 5);
        int n = rtcp_build_report(&s->rtcp, now, buf, room - SRTPS_RTCP_MAX_TRAILER);
        size_t len = n > 0 ? (size_t)n : 0;
        if (len && srtps_protect_rtcp(&s->srtp, buf, &len, room) == 0) {
            ri_add(wk->m->live.srtp_protected, 1);
            ri_add(wk->m->live.media_rtcp_tx, 1);
            return len;
        }
    }
    if (s->video_on) {
        size_t v = video_poll(t, wk, s, sl, buf, room, now);
        if (v)
            return v;
    }
    int n = rtp_stream_poll(&s->rtp, now, buf, (uint16_t)(room - SRTPS_RTP_MAX_TRAILER));
    if (n <= 0)
        return 0;
    rtcp_on_rtp_sent(&s->rtcp, wire_get32(buf + 4), (uint32_t)n - RTP_HDR_LEN, now);
    size_t len = (size_t)n;
    if (srtps_protect_rtp(&s->srtp, buf, &len, room) != 0)
        return 0;
    ri_add(sl->s.rtp_sent, 1);
    ri_add(t->t->total.rtp_sent, 1);
    ri_add(wk->m->live.srtp_protected, 1);
    ri_add(wk->m->live.media_rtp_tx, 1);
    return len;
}

/* ---- transmission ------------------------------------------------------------ */

/* --relay: every datagram session i has ready (the engines', then media)
 * to the agent's TURN client, for the candidate it goes to (pc's `to`,
 * else the selected pair's). */
static void sess_transmit_relay(const struct dp_ctx *ctx, struct dp_target *t, struct dp_worker *wk, uint32_t i,
                                uint64_t now)
{
    struct tgt_session *s = &t->sess[i];
    struct ri_target_slot *sl = ri_target_slot(t->t, i);
    /* nothing before the permissions (the server would drop it): the
     * first checks wait in the engines, the sweep comes back */
    for (uint32_t k = 0; k < s->n_cands && !s->permitted; k++)
        if (!dp_relay_target_permitted(ctx, s->agent, s->cand_peer[k]))
            return;
    s->permitted = true;
    for (;;) {
        struct stun_addr to = {0};
        size_t n = pc_poll_transmit_to(&s->pc, t->dgram, TGT_DGRAM, now, &to);
        if (n == 0)
            n = media_poll(t, wk, s, sl, t->dgram, TGT_DGRAM, now);
        if (n == 0) {
            s->dirty = false;
            return;
        }
        uint32_t ip = s->peer_ip;
        uint16_t port = s->peer_port;
        if (to.family == 4) {
            ip = wire_get32(to.ip);
            port = to.port;
        }
        int k = cand_of(s, ip, port);
        if (k < 0) { /* not a candidate the relay has a peer for */
            ri_add(wk->m->live.tx_starved, 1);
            continue;
        }
        ri_add(sl->s.frames_out, 1);
        ri_add(t->t->total.frames_out, 1);
        dp_relay_target_send(ctx, wk, s->agent, s->cand_peer[k], t->dgram, (uint32_t)n, t->tsc);
    }
}

/* Frames every datagram session i has ready (the engines', then media)
 * to its remote address. Nothing while the next hop's MAC is unknown. */
static void sess_transmit(const struct dp_ctx *ctx, struct dp_target *t, struct dp_worker *wk, uint32_t i,
                          uint64_t now)
{
    struct tgt_session *s = &t->sess[i];
    struct ri_target_slot *sl = ri_target_slot(t->t, i);
    bool media_due = s->media_on && (now >= s->next_rtcp || rtp_stream_next_timeout(&s->rtp) <= now ||
                                     (s->video_on && (now >= s->next_vrtcp || rtp_stream_next_timeout(&s->vrtp) <= now)));
    if (!s->dirty && !media_due)
        return; /* nothing changed since the engines were drained */
    if (t->relay) {
        sess_transmit_relay(ctx, t, wk, i, now);
        return;
    }
    if (!tgt_dest(t, s, NULL, &(uint32_t){0}, &(uint16_t){0}) && !s->dirty)
        return; /* media only, and its next hop unknown yet */
    for (;;) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
        if (!m) {
            ri_add(wk->m->live.tx_starved, 1);
            return; /* the engines keep their data; the next pass tries again */
        }
        uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_FRAME_HDR_LEN);
        size_t cap = rte_pktmbuf_tailroom(m) - DP_FRAME_HDR_LEN;
        struct stun_addr to = {0};
        size_t n = pc_poll_transmit_to(&s->pc, d, cap, now, &to);
        if (n == 0)
            n = media_poll(t, wk, s, sl, d, cap, now);
        if (n == 0) {
            rte_pktmbuf_free(m);
            s->dirty = false; /* drained */
            return;
        }
        uint32_t ip;
        uint16_t port;
        const struct tgt_nh *h = tgt_dest(t, s, to.family ? &to : NULL, &ip, &port);
        if (!h) { /* its MAC not known yet: ICE sends the check again, the others wait for the selected pair */
            rte_pktmbuf_free(m);
            ri_add(wk->m->live.tx_starved, 1);
            continue;
        }
        m->data_len = (uint16_t)(DP_FRAME_HDR_LEN + n);
        m->pkt_len = m->data_len;
        struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
        dp_frame_write_l234(f, s->agent, 0, s->agent_ip, ip, RI_TARGET_PORT, port, (uint16_t)n, t->ip_id++);
        rte_ether_addr_copy(&t->e->mac, &f->eth.src_addr);
        memcpy(f->eth.dst_addr.addr_bytes, h->mac, 6);
        ri_add(sl->s.frames_out, 1);
        ri_add(t->t->total.frames_out, 1);
        dp_ext_tx(t->e, wk, m);
    }
}

/* ---- sessions -------------------------------------------------------------- */

/* Time spent in each stage (ICE, DTLS, SCTP, DataChannel) from the
 * endpoint's stage times; the stage it is in counts up to `now`. */
static void stages_publish(struct tgt_session *s, struct ri_target_slot *sl, uint64_t now)
{
    static const enum pc_stage first[RI_STAGE_COUNT + 1] = {PC_ICE, PC_DTLS_WAIT, PC_SCTP, PC_DC, PC_UP};
    uint64_t at[RI_STAGE_COUNT + 1];
    for (int k = 0; k <= RI_STAGE_COUNT; k++)
        at[k] = pc_stage_time(&s->pc, first[k]);
    for (int k = 0; k < RI_STAGE_COUNT; k++) {
        uint64_t end = at[k + 1] ? at[k + 1] : now;
        ri_set(sl->stage_ns[k], at[k] && end > at[k] ? end - at[k] : 0);
    }
}

/* The engines' figures of session s into its slot (absolute values). */
static void engine_figures(struct tgt_session *s, struct ri_target_slot *sl)
{
    const struct ice_counters *ic = pc_ice_counters(&s->pc);
    if (ic) {
        ri_set(sl->s.ice_checks_sent, (uint64_t)ic->requests_sent + ic->retransmits);
        ri_set(sl->s.ice_checks_answered, ic->responses_received);
        ri_set(sl->s.consent_checks, ic->consent_sent);
        ri_set(sl->s.ice_restarts, ic->restarts);
    }
    ri_set(sl->s.sctp_retransmissions, pc_sctp_counters(&s->pc)->retransmissions);
    ri_set(sl->s.dtls_key_updates_out, s->counters.key_updates_out);
    ri_set(sl->s.dtls_key_updates_in, s->counters.key_updates_in);
}

/* Ends session i as CLOSED or FAILED: an SCTP ABORT (or the alert a
 * failed handshake owes) to the server, the figures final, the slot
 * published. */
static void sess_end(const struct dp_ctx *ctx, struct dp_target *t, struct dp_worker *wk, uint32_t i,
                     enum ri_target_dp_state how, uint64_t now)
{
    struct tgt_session *s = &t->sess[i];
    struct ri_target_slot *sl = ri_target_slot(t->t, i);
    struct ri_target *x = t->t;
    if (!s->running)
        return;
    enum ri_stage stage = dp_ext_stage_of(&s->pc);
    if (!s->up)
        stages_publish(s, sl, now);
    engine_figures(s, sl);
    ri_add(x->total.ice_checks_sent, sl->s.ice_checks_sent);
    ri_add(x->total.ice_checks_answered, sl->s.ice_checks_answered);
    ri_add(x->total.consent_checks, sl->s.consent_checks);
    ri_add(x->total.ice_restarts, sl->s.ice_restarts);
    ri_add(x->total.sctp_retransmissions, sl->s.sctp_retransmissions);
    ri_add(x->total.dtls_key_updates_out, sl->s.dtls_key_updates_out);
    ri_add(x->total.dtls_key_updates_in, sl->s.dtls_key_updates_in);
    ri_add(x->total.rtp_lost, sl->s.rtp_lost);
    ri_add(x->total.video_rtp_lost, sl->s.video_rtp_lost);
    ri_add(x->total.rtcp_rr_loss, sl->s.rtcp_rr_loss);
    s->media_on = false; /* nothing more of it after the ABORT */
    if (pc_close(&s->pc, now)) {
        s->dirty = true;
        sess_transmit(ctx, t, wk, i, now);
    }
    enum dtls_failure df = pc_dtls_failure(&s->pc);
    snprintf(sl->dtls_failure, sizeof(sl->dtls_failure), "%s", df ? dtls_failure_name(df) : "");
    pc_free(&s->pc);
    media_stop(s);
    feeds_stop(t, s, i);
    s->running = false;
    nh_release(t, s);
    if (s->agent < t->n_agents && t->by_agent[s->agent] == (int32_t)i)
        t->by_agent[s->agent] = -1;
    ri_set(sl->up_ns, s->up ? now - s->t_up : 0);
    ri_set(sl->closed_by_peer, (uint8_t)s->closed_by_peer);
    ri_set(sl->fail_stage, how == RI_TGT_FAILED ? (uint32_t)stage : 0);
    if (how == RI_TGT_FAILED) {
        ri_add(x->sessions_failed, 1);
        ri_add(x->failed_stage[stage], 1);
    } else {
        ri_add(x->sessions_closed, 1);
    }
    ri_store(&sl->dp_state, (uint32_t)how);
}

/* A request that cannot start (bad fields, no room): FAILED at once. */
static void sess_refuse(struct dp_target *t, struct ri_target_slot *sl, uint32_t seq)
{
    ri_set(sl->fail_stage, (uint32_t)RI_STAGE_ICE);
    ri_add(t->t->sessions, 1);
    ri_add(t->t->sessions_failed, 1);
    ri_add(t->t->failed_stage[RI_STAGE_ICE], 1);
    ri_store(&sl->dp_state, (uint32_t)RI_TGT_FAILED);
    ri_store(&sl->dp_seq, seq);
}

/* Adopts request `seq` of slot i (its fields visible after the acquire
 * load of seq) and starts the peer connection: our first check goes out
 * as soon as the server's MAC is known. */
static void sess_start(const struct dp_ctx *ctx, struct dp_target *t, struct dp_worker *wk, uint32_t i,
                       uint32_t seq, uint64_t now)
{
    struct tgt_session *s = &t->sess[i];
    struct ri_target_slot *sl = ri_target_slot(t->t, i);
    s->seq = seq;
    memset(&sl->s, 0, sizeof(sl->s));
    memset(sl->stage_ns, 0, sizeof(sl->stage_ns));
    sl->dtls_failure[0] = 0;
    ri_set(sl->dtls_version, 0);
    ri_set(sl->setup_ns, 0);
    ri_set(sl->up_ns, 0);
    ri_set(sl->consent_lost, 0);
    ri_set(sl->closed_by_peer, 0);
    /* the worker's TSC in ns (tsc_hz), as control can read it too */
    ri_set(sl->t_start_ns, (uint64_t)((double)t->e->tsc0 * ctx->ns_per_cycle) + (now - AGENT_NS_BASE));
    uint32_t agent = sl->agent;
    if (agent >= t->n_agents || sl->n_cands == 0 || sl->n_cands > RI_TARGET_CANDS || sl->cand[0].ip == 0 ||
        sl->cand[0].port == 0) {
        sess_refuse(t, sl, seq);
        return;
    }
    /* one session per agent (its address : RI_TARGET_PORT): a newer one replaces it */
    int32_t other = t->by_agent[agent];
    if (other >= 0 && (uint32_t)other != i)
        sess_end(ctx, t, wk, (uint32_t)other, RI_TGT_CLOSED, now);
    s->agent = agent;
    s->agent_ip = ctx->ri.agents[agent].ip;
    s->peer_ip = sl->cand[0].ip;
    s->peer_port = sl->cand[0].port;
    s->selected = false;
    s->permitted = false;
    int nh = 0;
    s->n_cands = 0;
    struct ice_cand cands[RI_TARGET_CANDS];
    for (uint32_t k = 0; k < sl->n_cands && nh >= 0; k++) {
        if (sl->cand[k].ip == 0 || sl->cand[k].port == 0)
            continue;
        if (t->relay) { /* a peer of the agent's TURN client, no next hop of ours */
            int p = dp_relay_target_peer(ctx, wk, agent, sl->cand[k].ip, sl->cand[k].port, t->tsc);
            if (p < 0)
                continue; /* no room or no allocation: ICE checks the others */
            uint32_t c = s->n_cands++;
            s->cand_ip[c] = sl->cand[k].ip;
            s->cand_port[c] = sl->cand[k].port;
            s->cand_nh[c] = 0;
            s->cand_peer[c] = (int16_t)p;
            cands[c] = (struct ice_cand){.addr = {4, sl->cand[k].port, {0}}, .priority = sl->cand[k].priority,
                                         .type = sl->cand[k].type};
            wire_put32(cands[c].addr.ip, sl->cand[k].ip);
            continue;
        }
        nh = nh_get(t, sl->cand[k].ip, s->agent_ip);
        if (nh < 0)
            break;
        uint32_t c = s->n_cands++;
        s->cand_ip[c] = sl->cand[k].ip;
        s->cand_port[c] = sl->cand[k].port;
        s->cand_nh[c] = (uint16_t)nh;
        t->nh[nh].users++; /* held from here: nh_get must not give the entry to another address */
        cands[c] = (struct ice_cand){.addr = {4, sl->cand[k].port, {0}}, .priority = sl->cand[k].priority,
                                     .type = sl->cand[k].type};
        wire_put32(cands[c].addr.ip, sl->cand[k].ip);
    }
    if (nh >= 0 && s->n_cands == 0)
        nh = -ENOENT; /* with relay: no candidate got a peer */
    if (nh >= 0) {
        nh = s->cand_nh[0];
        s->peer_ip = s->cand_ip[0];
        s->peer_port = s->cand_port[0];
    }
    /* every secret of the session from the operating system's generator
     * (as dp_external's): tie-breaker, transaction ids, SCTP tags, RTP */
    uint64_t draw[3];
    if (nh < 0 || t->e->cp.ops->random(t->e->cp.self, (uint8_t *)draw, sizeof(draw)) != 0) {
        nh_release(t, s);
        sess_refuse(t, sl, seq);
        return;
    }
    s->nh = (uint16_t)nh;
    s->dtls_client = sl->dtls_client != 0;
    s->answerer = sl->answerer != 0 && t->feed_srtp;
    s->feeds_on = false;
    s->n_feeds = s->answerer ? (sl->n_feeds < t->feeds ? sl->n_feeds : (uint8_t)t->feeds) : 0;
    for (uint32_t k = 0; k < RI_TARGET_FEEDS; k++) {
        s->feed_agent[k] = k < s->n_feeds ? sl->feed_agent[k] : UINT32_MAX;
        s->feed_ssrc[k] = k < s->n_feeds ? sl->feed_ssrc[k] : 0;
        s->feed_next[k] = 0;
    }
    memset(sl->feed_msgs, 0, sizeof(sl->feed_msgs));
    memset(sl->feed_rtp, 0, sizeof(sl->feed_rtp));
    memset(sl->feed_rtp_lost, 0, sizeof(sl->feed_rtp_lost));
    ri_set(sl->feed_misordered, 0);
    s->audio = sl->audio != 0 && !s->answerer;
    s->audio_pt = sl->audio_pt;
    s->audio_ssrc = sl->audio_ssrc;
    s->video = s->audio && sl->video != 0;
    s->video_pt = sl->video_pt;
    s->video_ssrc = sl->video_ssrc;
    s->video_on = false;
    if (t->video && sl->video_wanted && !s->answerer)
    {
        if (s->video)
            ri_add(t->t->total.video_sessions, 1);
        else
            ri_add(t->t->total.video_rejected, 1);
    }
    memcpy(s->lufrag, sl->local_ufrag, sizeof(s->lufrag));
    memcpy(s->lpwd, sl->local_pwd, sizeof(s->lpwd));
    memcpy(s->rufrag, sl->remote_ufrag, sizeof(s->rufrag));
    memcpy(s->rpwd, sl->remote_pwd, sizeof(s->rpwd));
    s->lufrag[sizeof(s->lufrag) - 1] = s->lpwd[sizeof(s->lpwd) - 1] = 0;
    s->rufrag[sizeof(s->rufrag) - 1] = s->rpwd[sizeof(s->rpwd) - 1] = 0;
    memcpy(s->rfp, sl->remote_fp, 32);
    uint32_t max = sl->remote_max_message ? sl->remote_max_message : 65536u;
    uint32_t len = t->t->msg_size < AGENT_HDR_LEN ? AGENT_HDR_LEN : t->t->msg_size;
    if (len > max)
        len = max;
    if (len > RI_MSG_MAX)
        len = RI_MSG_MAX;
    s->msg_len = len;
    s->up = s->closed_by_peer = s->dc_opened = s->media_on = false;
    s->dirty = true; /* our first check */
    s->t_start = now;
    s->t_up = 0;
    s->msg_seq = 0;
    struct stun_addr peer = {4, s->peer_port, {0}};
    wire_put32(peer.ip, s->peer_ip);
    /* an answerer: the server offered, so it controls ICE (RFC 8445 6.1.1); our
     * answer said setup:active (we are the DTLS client and open our channel) */
    struct pc_config c = {.controlling = !s->answerer,
                          .dtls_role = s->dtls_client ? PC_DTLS_CLIENT : PC_DTLS_SERVER,
                          .local_ufrag = s->lufrag,
                          .local_pwd = s->lpwd,
                          .remote_ufrag = s->rufrag,
                          .remote_pwd = s->rpwd,
                          .peer = peer,
                          .remote_cands = cands,
                          .n_remote_cands = s->n_cands,
                          .consent = true,
                          .cert = &t->e->cert,
                          .peer_fingerprint = s->rfp,
                          .cp = &t->e->cp,
                          .hs = &t->hs,
                          .sctp_mem = s->sctp_mem,
                          .sctp_pool = t->pool,
                          .sctp_max_buffers = t->share,
                          .n_streams = DP_TGT_STREAMS,
                          .label = "swarmgen",
                          .dc_type = SCTP_DC_RELIABLE,
                          .setup = &s->su,
                          .rec_keys = &s->keys,
                          .counters = &s->counters,
                          .seed = draw[0],
                          .sctp_seed = draw[1] | 1,
                          .dtls_versions = t->dtls_versions,
                          .dtls_keep = true}; /* 1.3 only: the pool has a slot per session then */
    dtls_record_keys_clear(&s->keys);
    memset(&s->counters, 0, sizeof(s->counters));
    s->next_rtcp = draw[2]; /* the media's draw, until media_start uses it */
    if (pc_init(&s->pc, &c, now) != 0) {
        /* credentials the ICE agent refuses (longer than ICE_UFRAG_MAX /
         * ICE_PWD_MAX): no endpoint to end, the request fails at once */
        nh_release(t, s);
        sess_refuse(t, sl, seq);
        return;
    }
    s->running = true;
    t->by_agent[agent] = (int32_t)i;
    ri_set(sl->sel_ip, 0);
    ri_set(sl->sel_port, 0);
    ri_add(t->t->sessions, 1);
    /* state first, then the request it belongs to: control trusts
     * dp_state only once dp_seq matches */
    ri_store(&sl->dp_state, (uint32_t)RI_TGT_CONNECTING);
    ri_store(&sl->dp_seq, seq);
}

/* A message back (ours echoed, or a publisher's relayed to a subscriber)
 * of len bytes after lat ns: the session's and the totals' figures. */
static void count_back(struct ri_target *x, struct ri_target_slot *sl, uint32_t len, uint64_t lat)
{
    met_hist_record(&x->rtt, lat);
    ri_add(sl->s.msgs_back, 1);
    ri_add(sl->s.bytes_back, len);
    ri_add(sl->s.rtt_sum_ns, lat);
    ri_add(x->total.msgs_back, 1);
    ri_add(x->total.bytes_back, len);
    ri_add(x->total.rtt_sum_ns, lat);
    if (lat > sl->s.rtt_max_ns)
        ri_set(sl->s.rtt_max_ns, lat);
    if (sl->s.msgs_back == 1 || lat < sl->s.rtt_min_ns)
        ri_set(sl->s.rtt_min_ns, lat);
    if (lat > x->total.rtt_max_ns)
        ri_set(x->total.rtt_max_ns, lat);
    if (x->total.msgs_back == 1 || lat < x->total.rtt_min_ns)
        ri_set(x->total.rtt_min_ns, lat);
}

/* A message the server relayed to answerer s: a feed's (its publisher's
 * agent header: src = dst = that agent), counted per feed with its
 * sequence checked, its publisher-to-us latency recorded where round
 * trips go (ri_target.rtt: a subscriber has no echo); else foreign. */
static void on_feed_message(const struct dp_ctx *ctx, struct dp_target *t, struct tgt_session *s,
                            struct ri_target_slot *sl, uint32_t len, uint64_t tsc)
{
    struct ri_target *x = t->t;
    const struct agent_hdr *h = (const struct agent_hdr *)t->in;
    uint32_t k = s->n_feeds;
    if (len >= AGENT_HDR_LEN && h->magic == htobe32(AGENT_MSG_MAGIC) && h->version == AGENT_MSG_VERSION &&
        h->src == h->dst)
        for (k = 0; k < s->n_feeds && s->feed_agent[k] != be32toh(h->src); k++)
            ;
    if (k == s->n_feeds) {
        ri_add(sl->s.msgs_foreign, 1);
        ri_add(x->total.msgs_foreign, 1);
        return;
    }
    uint64_t seq = be64toh(h->seq);
    if (seq != s->feed_next[k])
        ri_add(sl->feed_misordered, 1);
    if (seq >= s->feed_next[k])
        s->feed_next[k] = seq + 1;
    ri_add(sl->feed_msgs[k], 1);
    count_back(x, sl, len, agent_latency_ns(h, tsc, ctx->ns_per_cycle));
}

/* A DataChannel message from the server: our own back (a round trip) or
 * a foreign one. */
static void on_message(const struct dp_ctx *ctx, struct dp_target *t, struct tgt_session *s,
                       struct ri_target_slot *sl, uint32_t len, uint64_t tsc)
{
    struct ri_target *x = t->t;
    const struct agent_hdr *h = (const struct agent_hdr *)t->in;
    if (s->answerer) {
        on_feed_message(ctx, t, s, sl, len, tsc);
        return;
    }
    bool ours = len >= AGENT_HDR_LEN && h->magic == htobe32(AGENT_MSG_MAGIC) && h->version == AGENT_MSG_VERSION &&
                be32toh(h->src) == s->agent && be32toh(h->dst) == s->agent && be64toh(h->seq) < s->msg_seq;
    if (!ours) {
        ri_add(sl->s.msgs_foreign, 1);
        ri_add(x->total.msgs_foreign, 1);
        return;
    }
    count_back(x, sl, len, agent_latency_ns(h, tsc, ctx->ns_per_cycle));
}

/* The DataChannel is open: the session is up. */
static void on_up(struct dp_target *t, struct tgt_session *s, struct ri_target_slot *sl, uint64_t now)
{
    struct ri_target *x = t->t;
    s->up = true;
    s->t_up = now;
    stages_publish(s, sl, now);
    for (int k = 0; k < RI_STAGE_COUNT; k++)
        met_hist_record(&x->stage[k], sl->stage_ns[k]);
    uint64_t setup = now - s->t_start;
    met_hist_record(&x->setup, setup);
    ri_set(sl->setup_ns, setup);
    engine_figures(s, sl);
    media_start(t, s, now, s->next_rtcp);
    s->next_msg = now;
    uint16_t v = pc_dtls_version(&s->pc);
    ri_set(sl->dtls_version, v);
    ri_add(x->sessions_up, 1);
    ri_add(x->sessions_up_dtls[ri_dtls_index(v)], 1);
    ri_store(&sl->dp_state, (uint32_t)RI_TGT_UP);
}

/* Our message of the tick, when SCTP takes it (a full send buffer skips
 * the tick: counted as a send_blocked drop). */
static void send_message(struct dp_target *t, struct dp_worker *wk, struct tgt_session *s,
                         struct ri_target_slot *sl, uint64_t tsc, uint64_t now)
{
    agent_hdr_write((struct agent_hdr *)t->out, s->msg_len, s->agent, s->agent, s->msg_seq, tsc);
    int rc = pc_send(&s->pc, t->out, s->msg_len, now);
    if (rc != 0) {
        ri_add(wk->m->live.drops[RI_DROP_SEND_BLOCKED], 1);
        return;
    }
    s->msg_seq++;
    s->dirty = true;
    ri_add(sl->s.msgs_sent, 1);
    ri_add(sl->s.bytes_sent, s->msg_len);
    ri_add(t->t->total.msgs_sent, 1);
    ri_add(t->t->total.bytes_sent, s->msg_len);
}

/* Timers, events, messages due and transmission of session i. */
static void sess_service(const struct dp_ctx *ctx, struct dp_target *t, struct dp_worker *wk, uint32_t i,
                         uint64_t tsc, uint64_t now, bool load)
{
    struct tgt_session *s = &t->sess[i];
    struct ri_target_slot *sl = ri_target_slot(t->t, i);
    if (!s->running)
        return;
    if (!s->up && now - s->t_start > t->setup_timeout) {
        sess_end(ctx, t, wk, i, RI_TGT_FAILED, now);
        return;
    }
    if (pc_next_timeout(&s->pc) <= now) {
        pc_handle_timeout(&s->pc, now);
        s->dirty = true;
    }
    for (;;) {
        struct pc_ev pe = {.buf = t->in, .cap = RI_MSG_MAX};
        enum pc_event_type ev = pc_poll_event(&s->pc, &pe);
        if (ev == PC_EV_NONE)
            break;
        s->dirty = true;
        if (ev == PC_EV_UP) {
            on_up(t, s, sl, now);
        } else if (ev == PC_EV_MESSAGE) {
            on_message(ctx, t, s, sl, pe.len, tsc);
        } else if (ev == PC_EV_FAILED) {
            sess_end(ctx, t, wk, i, RI_TGT_FAILED, now);
            return;
        } else if (ev == PC_EV_CONSENT_LOST) {
            /* no authenticated answer to our consent checks for 30 s (RFC 7675 §5.1) */
            ri_set(sl->consent_lost, 1);
            ri_add(t->t->sessions_consent_lost, 1);
            sess_end(ctx, t, wk, i, RI_TGT_FAILED, now);
            return;
        } else if (ev == PC_EV_CLOSED || ev == PC_EV_CHANNEL_CLOSED) {
            /* the server's ABORT, close_notify or channel reset */
            s->closed_by_peer = true;
            sess_end(ctx, t, wk, i, s->up ? RI_TGT_CLOSED : RI_TGT_FAILED, now);
            return;
        }
    }
    if (!s->selected)
        adopt_selected(t, s, sl);
    if (s->answerer && !s->feeds_on && pc_stage(&s->pc) >= PC_SCTP && pc_stage(&s->pc) != PC_FAILED)
        feeds_start(t, s, i);
    if (!s->dc_opened && !s->up && pc_stage(&s->pc) == PC_DC) {
        /* the association is up: we open the DataChannel whatever our
         * DTLS role. pc opens it itself only as DTLS client; as server
         * we open it on the association (odd stream id, RFC 8832 §6) and
         * pc takes the channel from its DCEP ACK (SCTP_EV_DC_ACKED) */
        s->dc_opened = true;
        s->dirty = true;
        if (!s->dtls_client) {
            struct sctp_dc_opts o = {.type = SCTP_DC_RELIABLE, .priority = 256, .label = "swarmgen", .label_len = 8};
            if (sctp_dc_open((struct sctp_assoc *)s->sctp_mem, &o, now) < 0) {
                sess_end(ctx, t, wk, i, RI_TGT_FAILED, now);
                return;
            }
        }
    }
    uint64_t every = t->t->msg_interval_ns;
    if (s->up && load && every && !s->answerer && now >= s->next_msg) {
        send_message(t, wk, s, sl, tsc, now);
        s->next_msg += every;
        if (s->next_msg <= now) /* behind by more than a tick: no burst to catch up */
            s->next_msg = now + every;
    }
    sess_transmit(ctx, t, wk, i, now);
}

void dp_target_rx(const struct dp_ctx *ctx, struct dp_worker *wk, const uint8_t src_mac[6], uint32_t src_ip,
                  uint16_t src_port, uint32_t dst_ip, const uint8_t *d, uint32_t len, uint64_t tsc)
{
    struct dp_target *t = tgt_of(ctx);
    uint32_t agent = dst_ip - ctx->ri.cfg->ip_base - 1;
    int32_t i = agent < t->n_agents ? t->by_agent[agent] : -1;
    struct tgt_session *s = i >= 0 ? &t->sess[i] : NULL;
    if (!s || !s->running || !tgt_from_ok(s, src_ip, src_port, d, len)) {
        ri_add(t->t->frames_unknown, 1);
        ri_add(wk->m->live.drops[RI_DROP_UNKNOWN_FLOW], 1);
        return;
    }
    struct ri_target_slot *sl = ri_target_slot(t->t, (uint32_t)i);
    uint64_t now = dp_ext_ns(ctx, t->e, tsc);
    t->tsc = tsc;
    int k = src_ip == s->peer_ip ? s->nh : cand_nh(s, src_ip);
    if (k >= 0 && src_mac)
        nh_learn(&t->nh[k], src_mac); /* the server's MAC from its own datagram */
    ri_add(sl->s.frames_in, 1);
    ri_add(t->t->total.frames_in, 1);
    if (len && d[0] >= 128 && d[0] <= 191 && s->answerer) {
        feed_in(t, wk, s, (uint32_t)i, sl, d, len);
    } else if (len && d[0] >= 128 && d[0] <= 191) {
        media_in(t, wk, s, sl, d, len, now);
    } else {
        struct stun_addr from = {4, src_port, {0}};
        wire_put32(from.ip, src_ip);
        pc_handle_input_from(&s->pc, d, len, &from, now);
        s->dirty = true;
    }
    uint32_t phase = ri_load(&ctx->ri.cmd->phase);
    sess_service(ctx, t, wk, (uint32_t)i, tsc, now, phase == RI_PHASE_RUN);
}

/* ---- the pass ------------------------------------------------------------------ */

/* Slot i: a new request, a close from control, or nothing new. */
static void slot_poll(const struct dp_ctx *ctx, struct dp_target *t, struct dp_worker *wk, uint32_t i, uint64_t now)
{
    struct ri_target_slot *sl = ri_target_slot(t->t, i);
    struct tgt_session *s = &t->sess[i];
    uint32_t seq = ri_load(&sl->seq);
    if (seq != s->seq) {
        if (s->running)
            sess_end(ctx, t, wk, i, RI_TGT_CLOSED, now);
        if (seq)
            sess_start(ctx, t, wk, i, seq, now);
        else
            s->seq = 0;
    } else if (s->running && ri_load(&sl->close_seq) == seq) {
        sess_end(ctx, t, wk, i, RI_TGT_CLOSED, now);
    }
}

bool dp_target_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_target *t = tgt_of(ctx);
    uint64_t now = dp_ext_ns(ctx, t->e, tsc);
    t->tsc = tsc;
    bool load = ri_load(&ctx->ri.cmd->phase) == RI_PHASE_RUN;
    bool did = arp_poll(ctx, t, wk, now);
    uint32_t k = t->n < DP_TGT_SWEEP ? t->n : DP_TGT_SWEEP;
    for (; k; k--) {
        uint32_t i = t->cursor;
        t->cursor = i + 1 == t->n ? 0 : i + 1;
        slot_poll(ctx, t, wk, i, now);
        if (t->sess[i].running) {
            sess_service(ctx, t, wk, i, tsc, now, load);
            did = true;
        }
    }
    return did;
}

void dp_target_finish(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc)
{
    struct dp_target *t = tgt_of(ctx);
    uint64_t now = dp_ext_ns(ctx, t->e, tsc);
    t->tsc = tsc;
    for (uint32_t i = 0; i < t->n; i++)
        sess_end(ctx, t, wk, i, t->sess[i].up ? RI_TGT_CLOSED : RI_TGT_FAILED, now);
}

/* ---- set-up -------------------------------------------------------------------- */

int dp_target_init(const struct dp_ctx *ctx, struct dp_external *e, char *err, size_t errlen)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    uint32_t n = cfg->target_slots;
    if (n == 0)
        return 0;
    struct ri_target *x = ri_section(ctx->ri.hdr, RI_SEC_TARGET);
    if (x->n_slots != n || n > RI_TARGET_MAX) {
        snprintf(err, errlen, "run image: the TARGET section has %u slots, the config says %u", x->n_slots, n);
        return -EINVAL;
    }
    struct dp_target *t = calloc(1, sizeof(*t));
    if (!t)
        goto oom;
    e->target = t;
    t->t = x;
    t->e = e;
    t->n = n;
    t->n_agents = cfg->n_agents;
    t->setup_timeout = x->setup_timeout_ns ? x->setup_timeout_ns : DP_TGT_SETUP_NS;
    t->relay = ((const struct ri_relay *)ri_section(ctx->ri.hdr, RI_SEC_RELAY))->on != 0;
    t->video = cfg->media == RI_MEDIA_VIDEO;
    t->dtls_versions = ri_dtls_offer(cfg->ext_dtls_versions);
    t->video_bps = cfg->media_bitrate;
    t->video_fps = cfg->media_fps;
    t->video_payload = cfg->media_payload;
    uint64_t bufs = (uint64_t)n * DP_TGT_BUFS_PER_SESSION;
    t->pool_bufs = (uint32_t)(bufs < DP_TGT_BUFS_MIN ? DP_TGT_BUFS_MIN : bufs > DP_TGT_BUFS_MAX ? DP_TGT_BUFS_MAX : bufs);
    /* each association's share of received data: a server cannot take
     * the others' (the pool is shared); at least a few messages' worth */
    t->share = t->pool_bufs / n < 16 ? 16 : t->pool_bufs / n;
    size_t sess_bytes = ((size_t)n * sizeof(struct tgt_session) + 63) & ~(size_t)63;
    t->sess = aligned_alloc(64, sess_bytes);
    t->by_agent = malloc((size_t)t->n_agents * sizeof(int32_t));
    t->in = malloc(RI_MSG_MAX);
    t->out = calloc(1, RI_MSG_MAX);
    size_t pool_bytes = (sctp_pool_size(t->pool_bufs, 1200) + 63) & ~(size_t)63;
    t->pool_mem = aligned_alloc(64, pool_bytes);
    t->feeds = x->feeds > RI_TARGET_FEEDS ? RI_TARGET_FEEDS : x->feeds;
    size_t feed_bytes = (size_t)n * t->feeds * sizeof(struct srtps_session);
    if (feed_bytes) {
        t->feed_srtp = aligned_alloc(64, feed_bytes);
        if (!t->feed_srtp)
            goto oom;
        memset(t->feed_srtp, 0, feed_bytes);
    }
    t->dgram = t->relay ? malloc(TGT_DGRAM) : NULL;
    if (!t->sess || !t->by_agent || !t->in || !t->out || !t->pool_mem || (t->relay && !t->dgram))
        goto oom;
    memset(t->sess, 0, sess_bytes);
    for (uint32_t a = 0; a < t->n_agents; a++)
        t->by_agent[a] = -1;
    t->pool = sctp_pool_init(t->pool_mem, t->pool_bufs, 1200);
    /* DTLS 1.3 negotiable: each session keeps its handshake slot for
     * KeyUpdates (pc_config.dtls_keep), so one per session; else at most
     * DP_TGT_HS handshakes at once */
    uint32_t hs = dp_mem_target_hs(n, (t->dtls_versions & RI_DTLS_V13) != 0);
    if (!t->pool || dtls_hs_pool_init(&t->hs, hs) != 0)
        goto oom;
    struct pc_config pcc = {.n_streams = DP_TGT_STREAMS};
    size_t assoc = (pc_sctp_size(&pcc) + 63) & ~(size_t)63;
    for (uint32_t i = 0; i < n; i++) {
        t->sess[i].sctp_mem = aligned_alloc(64, assoc);
        if (!t->sess[i].sctp_mem)
            goto oom;
    }
    t->bytes = sizeof(*t) + sess_bytes + (size_t)n * assoc + pool_bytes + (size_t)t->n_agents * sizeof(int32_t) +
               2 * (size_t)RI_MSG_MAX + (size_t)hs * t->hs.stride + feed_bytes +
               (t->relay ? TGT_DGRAM : 0); /* as dp_mem_target plans it */
    x->mem_bytes = t->bytes;
    return 0;
oom:
    snprintf(err, errlen, "target mode: out of memory for %u sessions", n);
    return -ENOMEM;
}

size_t dp_target_bytes(const struct dp_target *t)
{
    return t ? t->bytes : 0;
}

void dp_target_free(struct dp_target *t)
{
    if (!t)
        return;
    if (t->sess) {
        for (uint32_t i = 0; i < t->n; i++) {
            struct tgt_session *s = &t->sess[i];
            if (s->running) {
                pc_free(&s->pc);
                media_stop(s);
                feeds_stop(t, s, i);
            }
            free(s->sctp_mem);
        }
    }
    if (t->hs.slots)
        dtls_hs_pool_destroy(&t->hs);
    free(t->pool_mem);
    free(t->feed_srtp);
    free(t->sess);
    free(t->by_agent);
    free(t->in);
    free(t->out);
    free(t->dgram);
    free(t);
}
