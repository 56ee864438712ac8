/* SPDX-License-Identifier: MIT */
/* Media of the peer connections: RTP streams under our SRTP, RTCP reports. */
#include "dp_media.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_conn.h"
#include "rng.h"
#include "rtcp.h"
#include "rtp_stream.h"
#include "srtp_session.h"
#include "wire.h"


#define RTCP_INTERVAL_NS 1000000000ull /* reports once a second, ±50 % (RFC 3550 §6.3.1 spreads them) */
#define MEDIA_BUF 1500
#define REKEY_MKI_LEN 4 /* --srtp-rekey: the MKI is the key generation, 4 bytes */

static uint64_t rtcp_interval(struct dp_media_end *m)
{
    m->rng = rng_mix(m->rng + 0x9e3779b97f4a7c15ull);
    return RTCP_INTERVAL_NS / 2 + m->rng % RTCP_INTERVAL_NS;
}

int dp_media_init(const struct dp_ctx *ctx, struct dp_worker *wk, char *err, size_t errlen)
{
    struct dp_conns *cs = wk->conns;
    if (ctx->ri.cfg->media == RI_MEDIA_NONE || cs->n == 0)
        return 0;
    struct dp_media *md = aligned_alloc(64, ((size_t)cs->n * sizeof(*md) + 63) & ~(size_t)63);
    if (!md) {
        snprintf(err, errlen, "worker %u: media state: out of memory", wk->idx);
        return -ENOMEM;
    }
    memset(md, 0, (size_t)cs->n * sizeof(*md));
    cs->media = md;
    for (uint32_t i = 0; i < cs->n; i++)
        cs->conn[i].media = &md[i];
    return 0;
}

size_t dp_media_bytes(const struct dp_ctx *ctx, const struct dp_worker *wk)
{
    return ctx->ri.cfg->media == RI_MEDIA_NONE ? 0 : (size_t)wk->conns->n * sizeof(struct dp_media);
}

void dp_media_free(struct dp_worker *wk)
{
    struct dp_conns *cs = wk->conns;
    if (!cs || !cs->media)
        return;
    for (uint32_t i = 0; i < cs->n; i++)
        cs->conn[i].media = NULL;
    free(cs->media);
    cs->media = NULL;
}

static void media_ssrcs(const struct dp_ctx *ctx, const struct dp_conn *c, uint32_t ssrc[2])
{
    for (int s = 0; s < 2; s++)
        ssrc[s] = (uint32_t)rng_mix(ctx->ri.cfg->seed ^ ((uint64_t)c->edge << 2 | (uint64_t)s << 1 | 1)) | 1;
}

void dp_media_key(const struct dp_ctx *ctx, struct dp_conn *c)
{
    struct dp_media *md = c->media;
    uint32_t ssrc[2];
    media_ssrcs(ctx, c, ssrc);
    md->keyed = false;
    bool rekey = ctx->ri.cfg->srtp_rekey_ms != 0;
    for (int s = 0; s < 2; s++) {
        struct dp_media_end *m = &md->end[s];
        struct srtps_session *k = &m->srtp;
        if (pc_srtp_init_keys(&c->ep[s], k, m->tx_master, m->rx_master) != 0 || srtps_set_ssrc(k, true, ssrc[s]) != 0 ||
            srtps_set_ssrc(k, false, ssrc[1 - s]) != 0)
            return; /* no SRTP keys from the handshake: this connection carries no media */
        m->tx_gen = m->rx_gen = m->rx_cur_gen = 0;
        m->next_rekey = m->grace_end = 0;
        if (rekey) {
            /* generation 0 is the DTLS-SRTP key, MKI 0; the receiver holds generation 1 too */
            enum srtps_profile prof = srtps_profile_of(k);
            if (srtps_set_mki(k, REKEY_MKI_LEN, 0, 0) != 0 || srtps_next_master(prof, m->rx_master, 1, m->rx_master) != 0 ||
                srtps_add_rx_key(k, m->rx_master, 1) != 0)
                return;
            m->rx_gen = 1;
        } else {
            explicit_bzero(m->tx_master, sizeof(m->tx_master));
            explicit_bzero(m->rx_master, sizeof(m->rx_master));
        }
    }
    md->keyed = true;
}

void dp_media_start(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, uint64_t now)
{
    struct dp_media *md = c->media;
    const struct ri_config *cfg = ctx->ri.cfg;
    bool video = cfg->media == RI_MEDIA_VIDEO;
    uint32_t ssrc[2];
    media_ssrcs(ctx, c, ssrc);
    md->on = false;
    if (!md->keyed)
        return;
    for (int s = 0; s < 2; s++) {
        struct dp_media_end *m = &md->end[s];
        m->clock_rate = video ? 90000 : 48000;
        struct rtp_stream_config rc = {.kind = video ? RTP_VIDEO : RTP_AUDIO, .ssrc = ssrc[s],
                                       .payload_type = video ? 96 : 111,
                                       .video_bps = cfg->media_bitrate, .fps = cfg->media_fps,
                                       .mtu_payload = cfg->media_payload,
                                       /* a random phase and keyframe position per stream */
                                       .start_offset_ns = rng_mix(ssrc[s] + 2) % (video ? 1000000000ull / (cfg->media_fps ? cfg->media_fps : 30) : 20000000ull),
                                       .first_frame = (uint16_t)(rng_mix(ssrc[s] + 3) % 60),
                                       /* below 0x8000, as libwebrtc draws it: the sequence
                                        * number does not wrap before a receiver that
                                        * missed the first packets can tell the ROC */
                                       .first_seq = (uint16_t)(rng_mix(ssrc[s]) & 0x7fff), .first_ts = (uint32_t)rng_mix(ssrc[s] + 1)};
        rtp_stream_init(&m->tx, &rc);
        char cname[24];
        snprintf(cname, sizeof(cname), "agent-%u", s ? ctx->ri.edges[c->edge].b : ctx->ri.edges[c->edge].a);
        struct rtcp_config q = {.ssrc = ssrc[s], .clock_rate = m->clock_rate, .remote_ssrc = ssrc[1 - s],
                                .remote_clock_rate = m->clock_rate, .cname = cname};
        rtcp_init(&m->rtcp, &q);
        m->rng = ssrc[s];
        m->next_rtcp = now + rtcp_interval(m);
        m->have_report = false;
        /* each sender switches at its own interval, from a random phase in the first one */
        uint64_t iv = (uint64_t)cfg->srtp_rekey_ms * 1000000u;
        m->next_rekey = iv ? now + iv / 2 + rng_mix(ssrc[s] + 4) % (iv / 2) : 0;
    }
    md->on = true;
}

void dp_media_stop(struct dp_media *md)
{
    if (!md)
        return;
    for (int s = 0; s < 2; s++) {
        srtps_clear(&md->end[s].srtp);
        explicit_bzero(md->end[s].tx_master, sizeof(md->end[s].tx_master));
        explicit_bzero(md->end[s].rx_master, sizeof(md->end[s].rx_master));
    }
    md->on = false;
    md->keyed = false;
}

/* The peer's report block about our stream: fold its loss and jitter. */
static void fold_report(struct dp_worker *wk, struct dp_media_end *m, const struct rtcp_report_block *rb)
{
    uint32_t lost = rb->lost > 0 ? (uint32_t)rb->lost : 0;
    if (m->have_report && rb->ext_max_seq >= m->reported_ext) {
        ri_add(wk->m->live.media_expected, rb->ext_max_seq - m->reported_ext);
        if (lost > m->reported_lost)
            ri_add(wk->m->live.media_lost, lost - m->reported_lost);
    }
    m->have_report = true;
    m->reported_ext = rb->ext_max_seq;
    m->reported_lost = lost;
    ri_add(wk->m->live.media_jitter_ns_sum, (uint64_t)rb->jitter * 1000000000ull / m->clock_rate);
    ri_add(wk->m->live.media_jitter_reports, 1);
}

/* Unprotects pkt in place; true when it authenticated. A refusal is
 * counted here by its reason when it is an authentication failure or a
 * replay (the session counts exactly one reason per refusal), and as a
 * drop by the caller through dp_media_bad. */
static bool unprotect(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_media_end *m, bool rtcp, uint8_t *pkt,
                      size_t *n, uint64_t now)
{
    struct srtps_session *srtp = &m->srtp;
    const struct srtps_counters *k = srtps_counters(srtp);
    uint64_t auth = k->auth_failures, replays = k->replays, seen = k->rekeys_seen, prev = k->rx_prev_key;
    if ((rtcp ? srtps_unprotect_rtcp(srtp, pkt, n) : srtps_unprotect_rtp(srtp, pkt, n)) == ENGINE_IN_ACCEPTED) {
        uint32_t gen = m->rx_cur_gen;
        if (k->rekeys_seen != seen) { /* the peer switched: the old key stays for half an interval */
            ri_add(wk->m->live.srtp_rekeys_seen, 1);
            gen = m->rx_cur_gen = m->rx_gen;
            m->grace_end = now + (uint64_t)ctx->ri.cfg->srtp_rekey_ms * 500000u;
        } else if (k->rx_prev_key != prev) {
            ri_add(wk->m->live.srtp_rx_prev_key, 1);
            gen--;
        }
        if (gen & 1)
            ri_add(wk->m->live.srtp_unprotected_odd, 1);
        return true;
    }
    if (k->auth_failures != auth)
        ri_add(wk->m->live.srtp_auth_failures, 1);
    else if (k->replays != replays)
        ri_add(wk->m->live.srtp_replays, 1);
    return false;
}

void dp_media_input(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, int s, const uint8_t *d,
                    uint32_t len, uint64_t now)
{
    struct dp_media *md = c->media;
    struct dp_media_end *m = &md->end[s];
    if (!md->on || len > MEDIA_BUF || len < 8) {
        m->dropped++;
        return;
    }
    uint8_t pkt[MEDIA_BUF];
    memcpy(pkt, d, len);
    size_t n = len;
    /* RFC 5761 §4: RTCP packet types 192..223 share the 5-tuple with RTP */
    if (pkt[1] >= 192 && pkt[1] <= 223) {
        if (!unprotect(ctx, wk, m, true, pkt, &n, now))
            return;
        ri_add(wk->m->live.srtp_unprotected, 1);
        struct rtcp_msg msg;
        if (rtcp_handle_input(&m->rtcp, pkt, n, now, &msg) == ENGINE_IN_MALFORMED)
            return;
        ri_add(wk->m->live.media_rtcp_rx, 1);
        for (uint32_t i = 0; i < msg.n_blocks; i++)
            if (msg.blocks[i].ssrc == m->rtcp.tx.ssrc)
                fold_report(wk, m, &msg.blocks[i]);
        return;
    }
    if (!unprotect(ctx, wk, m, false, pkt, &n, now))
        return;
    ri_add(wk->m->live.srtp_unprotected, 1);
    ri_add(wk->m->live.media_rtp_rx, 1);
    rtcp_on_rtp_received(&m->rtcp, wire_get32(pkt + 8), wire_get16(pkt + 2), wire_get32(pkt + 4), now);
}

/* --srtp-rekey, driven by packet time, just before a packet is protected
 * (so that every switch counted goes out at once under the new MKI): the
 * sender's switch to its next generation when due, and the end of the
 * previous inbound key's grace window, which installs the next inbound
 * generation in its place (the peer switches at most once an interval,
 * the grace is half of one). */
static void rekey(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_media_end *m, uint64_t now)
{
    enum srtps_profile prof = srtps_profile_of(&m->srtp);
    if (m->grace_end && now >= m->grace_end) {
        m->grace_end = 0;
        if (srtps_next_master(prof, m->rx_master, m->rx_gen + 1, m->rx_master) == 0 &&
            srtps_add_rx_key(&m->srtp, m->rx_master, m->rx_gen + 1) == 0)
            m->rx_gen++;
    }
    if (now >= m->next_rekey) {
        m->next_rekey += (uint64_t)ctx->ri.cfg->srtp_rekey_ms * 1000000u;
        if (m->next_rekey <= now)
            m->next_rekey = now + (uint64_t)ctx->ri.cfg->srtp_rekey_ms * 1000000u;
        if (srtps_next_master(prof, m->tx_master, m->tx_gen + 1, m->tx_master) == 0 &&
            srtps_rekey_tx(&m->srtp, m->tx_master, m->tx_gen + 1) == 0) {
            m->tx_gen++;
            ri_add(wk->m->live.srtp_rekeys, 1);
        }
    }
}

size_t dp_media_poll_transmit(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, int s,
                              uint8_t *buf, size_t cap, uint64_t now)
{
    struct dp_media *md = c->media;
    if (!md->on || c->state != DP_CONN_UP || cap < MEDIA_BUF / 2)
        return 0;
    struct dp_media_end *m = &md->end[s];
    size_t room = cap > MEDIA_BUF ? MEDIA_BUF : cap;
    if (now >= m->next_rtcp) {
        m->next_rtcp = now + rtcp_interval(m);
        int n = rtcp_build_report(&m->rtcp, now, buf, room - SRTPS_RTCP_MAX_TRAILER);
        size_t len = n > 0 ? (size_t)n : 0;
        if (len && m->next_rekey)
            rekey(ctx, wk, m, now);
        if (len && srtps_protect_rtcp(&m->srtp, buf, &len, room) == 0) {
            ri_add(wk->m->live.srtp_protected, 1);
            if (m->tx_gen & 1)
                ri_add(wk->m->live.srtp_protected_odd, 1);
            ri_add(wk->m->live.media_rtcp_tx, 1);
            return len;
        }
    }
    int n = rtp_stream_poll(&m->tx, now, buf, (uint16_t)(room - SRTPS_RTP_MAX_TRAILER));
    if (n <= 0)
        return 0;
    uint32_t ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
    rtcp_on_rtp_sent(&m->rtcp, ts, (uint32_t)n - RTP_HDR_LEN, now);
    size_t len = (size_t)n;
    if (m->next_rekey)
        rekey(ctx, wk, m, now);
    if (srtps_protect_rtp(&m->srtp, buf, &len, room) != 0)
        return 0;
    ri_add(wk->m->live.srtp_protected, 1);
    if (m->tx_gen & 1)
        ri_add(wk->m->live.srtp_protected_odd, 1);
    ri_add(wk->m->live.media_rtp_tx, 1);
    return len;
}

uint64_t dp_media_next_timeout(const struct dp_media *md)
{
    if (!md->on)
        return UINT64_MAX;
    uint64_t t = UINT64_MAX;
    for (int s = 0; s < 2; s++) {
        uint64_t r = rtp_stream_next_timeout(&md->end[s].tx);
        if (r < t)
            t = r;
        if (md->end[s].next_rtcp < t)
            t = md->end[s].next_rtcp;
    }
    return t;
}

uint64_t dp_media_bad(const struct dp_media *md, int s)
{
    const struct srtps_counters *k = srtps_counters(&md->end[s].srtp);
    return k->auth_failures + k->replays + k->malformed + k->foreign_ssrc + md->end[s].dropped;
}
