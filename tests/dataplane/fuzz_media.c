/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the media input path inside a connection (dp_conn.c's
 * RFC 7983 demux of bytes 128..191, then dataplane/dp_media.c:
 * dp_media_input: SRTP or SRTCP by RFC 5761 payload type, unprotect,
 * the RTCP session, report blocks folded into the worker's counters) on
 * the dc harness with --media audio: a 4-agent ring, every connection
 * brought up once, at the first input, media flowing, and then kept
 * running.
 *
 * To get past authentication the target forges with a copy of the
 * sending endpoint's SRTP session per flow (edge, direction), taken once
 * media runs (dp_conn_state.h: its keys, from the DTLS-SRTP export, and
 * its outbound SSRC); its SRTCP index is moved 4,096 ahead of the real
 * sender's, so forged reports are fresh.
 *
 * Input: records as tests/common/fuzz_input.h reads them. The flags byte:
 *   bits 0-1  0: the bytes as the UDP payload on the flow, as they are;
 *             1: an RTP packet from the bytes (version 2 forced; bit 2: the
 *                sender's SSRC put in), SRTP-protected by the forger;
 *             2: an RTCP packet from the bytes (version 2 and a packet type
 *                192..223 forced; bit 2: the sender's SSRC put in),
 *                SRTCP-protected by the forger;
 *             3: a captured SRTP/SRTCP datagram of the flow with the bytes
 *                XORed over it
 *   bit 3-4   edge (of 4); bit 5: from agent b (else a)
 *   bit 6     the wire runs 10 ms after the datagram; bit 7: 100 ms
 * (a record the forger refuses goes as it is). After each input every
 * mbuf out of the pool must be one the dataplane holds, the connection
 * counters must agree with the states, and media must never count more
 * packets received than SRTP unprotected. FUZZ_MEDIA_TRACE=1 prints the
 * media counters after each input (to check what a seed reaches).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_harness.h"
#include "fuzz_input.h"
#include "dp_conn_state.h"
#include "rng.h"
#include "srtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECOND 1000000000ull
#define EDGES  4u

static struct dp_harness h;
static bool ready;
static struct srtps_session forge[EDGES][2]; /* [edge][receiving side] */
static uint32_t ssrc_of[EDGES][2];           /* the sender's SSRC towards that side */
/* the latest media datagram per flow, captured off the wire */
static uint8_t cap_buf[EDGES][2][1600];
static uint16_t cap_len[EDGES][2];

static int side_of(const struct dp_harness *hh, uint32_t e, uint16_t sp)
{
    return hh->ctx.ri.edges[e].port_a == sp ? 0 : hh->ctx.ri.edges[e].port_b == sp ? 1 : -1;
}

static bool capture(struct dp_harness *hh, struct rte_mbuf *m, void *arg)
{
    (void)arg;
    if (m->data_len <= DP_FRAME_HDR_LEN + 12 || m->data_len > DP_FRAME_HDR_LEN + sizeof(cap_buf[0][0]))
        return false;
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    const uint8_t *d = rte_pktmbuf_mtod_offset(m, const uint8_t *, DP_FRAME_HDR_LEN);
    if (d[0] < 128 || d[0] > 191)
        return false;
    uint16_t sp = rte_be_to_cpu_16(f->udp.src_port);
    for (uint32_t e = 0; e < EDGES; e++) {
        int from = side_of(hh, e, sp);
        if (from >= 0) {
            cap_len[e][from] = (uint16_t)(m->data_len - DP_FRAME_HDR_LEN);
            memcpy(cap_buf[e][from], d, cap_len[e][from]);
        }
    }
    return false;
}

static void set_up(void)
{
    struct dp_harness_dc_opts o = {.n_agents = EDGES, .media = RI_MEDIA_AUDIO};
    int rc = dp_harness_init_dc(&h, &o);
    if (rc != 0) {
        fprintf(stderr, "fuzz_media: harness: %d\n", rc);
        abort();
    }
    h.tap = capture;
    if ((rc = dp_harness_connect_all(&h, 120 * SECOND)) != 0) {
        fprintf(stderr, "fuzz_media: connect_all: %d\n", rc);
        abort();
    }
    ri_store(&h.ctx.ri.cmd->phase, RI_PHASE_RUN); /* media flows while the load runs */
    dp_harness_run_for(&h, 6 * SECOND);            /* RTP both ways, the first RTCP reports */
    for (uint32_t e = 0; e < EDGES; e++) {
        struct dp_conn *c = &h.wk->conns->conn[e];
        for (int s = 0; s < 2; s++) {
            /* endpoint s receives; endpoint 1 - s sends with SSRC
             * ssrc[1 - s] (dp_media.c: media_ssrcs) */
            uint32_t ssrc = (uint32_t)rng_mix(h.ctx.ri.cfg->seed ^ ((uint64_t)c->edge << 2 | (uint64_t)(1 - s) << 1 | 1)) | 1;
            ssrc_of[e][s] = ssrc;
            if (!c->media || !c->media->on) {
                fprintf(stderr, "fuzz_media: edge %u carries no media\n", e);
                abort();
            }
            forge[e][s] = c->media->end[1 - s].srtp; /* the sender's keys and outbound SSRC */
            uint8_t rr[64] = {0x80, 201, 0, 1};
            for (int k = 0; k < 4096; k++) { /* SRTCP index ahead of the real sender */
                size_t n = 8;
                rr[4] = (uint8_t)(ssrc >> 24), rr[5] = (uint8_t)(ssrc >> 16), rr[6] = (uint8_t)(ssrc >> 8), rr[7] = (uint8_t)ssrc;
                if ((rc = srtps_protect_rtcp(&forge[e][s], rr, &n, sizeof(rr))) != 0) {
                    fprintf(stderr, "fuzz_media: forger's SRTCP: %d\n", rc);
                    abort();
                }
            }
        }
    }
    ready = true;
}

static void put_ssrc(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void check(void)
{
    if (dp_harness_mbufs_out(&h) != dp_harness_mbufs_held(&h))
        __builtin_trap(); /* a buffer leaked (or was freed twice) */
    const struct ri_counters *c = &h.wk->m->live;
    const struct dp_conns *cs = h.wk->conns;
    uint64_t n = h.ctx.ri.cfg->n_edges;
    if (c->conn_established + c->conn_given_up > n || c->conn_closed > c->conn_established)
        __builtin_trap();
    uint32_t up = 0;
    for (uint32_t i = 0; i < cs->n; i++)
        up += cs->conn[i].state == DP_CONN_UP;
    if (up != c->conn_established - c->conn_closed)
        __builtin_trap();
    if (c->media_rtp_rx + c->media_rtcp_rx > c->srtp_unprotected)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        set_up();
    uint8_t rec[1400], pkt[1500];
    size_t off = 0, len;
    uint8_t flags;
    while (fuzz_next(data, size, &off, rec, sizeof(rec), &len, &flags)) {
        uint32_t e = (flags >> 3) & 3;
        bool from_b = flags & 0x20;
        int s = from_b ? 0 : 1; /* the receiving endpoint: ep[0] is agent a's, ep[1] b's */
        size_t n = len;
        memcpy(pkt, rec, len);
        switch (flags & 3) {
        case 1:
            if (n >= 12) {
                pkt[0] = (uint8_t)(0x80 | (pkt[0] & 0x3f));
                if (flags & 4)
                    put_ssrc(pkt + 8, ssrc_of[e][s]);
                size_t m = n;
                if (srtps_protect_rtp(&forge[e][s], pkt, &m, sizeof(pkt)) == 0)
                    n = m;
            }
            break;
        case 2:
            if (n >= 8) {
                pkt[0] = (uint8_t)(0x80 | (pkt[0] & 0x3f));
                pkt[1] = (uint8_t)(192 + (pkt[1] & 31));
                if (flags & 4)
                    put_ssrc(pkt + 4, ssrc_of[e][s]);
                size_t m = n;
                if (srtps_protect_rtcp(&forge[e][s], pkt, &m, sizeof(pkt)) == 0)
                    n = m;
            }
            break;
        case 3: {
            int from = 1 - s; /* captured from the sender */
            n = cap_len[e][from];
            memcpy(pkt, cap_buf[e][from], n);
            for (size_t i = 0; i < len && i < n; i++)
                pkt[i] ^= rec[i];
            break;
        }
        default:
            break;
        }
        struct rte_mbuf *m = dp_harness_flow_frame(&h, e, from_b, pkt, (uint16_t)n);
        if (!m)
            __builtin_trap(); /* the pool ran dry: something holds buffers */
        dp_harness_rx(&h, m);
        if (flags & 0x40)
            dp_harness_run_for(&h, SECOND / 100);
        if (flags & 0x80)
            dp_harness_run_for(&h, SECOND / 10);
    }
    for (int i = 0; i < 4; i++)
        dp_harness_wire_pass(&h);
    check();
    if (getenv("FUZZ_MEDIA_TRACE")) {
        const struct ri_counters *c = &h.wk->m->live;
        fprintf(stderr, "fuzz_media: unprotected %llu rtp_rx %llu rtcp_rx %llu auth_failures %llu replays %llu\n",
                (unsigned long long)c->srtp_unprotected, (unsigned long long)c->media_rtp_rx,
                (unsigned long long)c->media_rtcp_rx, (unsigned long long)c->srtp_auth_failures,
                (unsigned long long)c->srtp_replays);
    }
    return 0;
}
