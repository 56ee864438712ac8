/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the dataplane rx path of traffic dc (frame parser, flow
 * lookup, RFC 7983 demux onto the peer connections, ICE, DTLS record layer)
 * on the dc harness: an 8-agent ring on one worker, every connection
 * brought up once, at the first input, and then kept running.
 *
 * Input: byte 0 chooses what is built from the rest,
 *   mode 0  a raw Ethernet frame: the bytes as they are;
 *   mode 1  a well-formed frame on a real flow (byte 1: edge and direction)
 *           whose UDP payload is the bytes (STUN, DTLS or anything);
 *   mode 2  a valid DTLS record captured on that flow, the bytes XORed in
 *           from offset byte 2 (header fields, replays, forged tags);
 *   mode 3  a STUN message authenticated with the receiver's credentials
 *           (type, attributes and values from the bytes), so the fuzzed
 *           fields reach ICE past MESSAGE-INTEGRITY;
 * and its upper bits how many agent messages to generate first and how far
 * to move the clock after the wire passes. After each input the wire runs
 * a few passes and the process state is checked: every mbuf out of the pool
 * is one the dataplane holds, and the connection counters agree with the
 * connection states. A failed check traps.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "dp_harness.h"
#include "stun.h"

#define SECOND 1000000000ull

static struct dp_harness h;
static int ready;

/* the latest single-record application-data datagram per flow (edge, side) */
#define MAX_EDGES H_DC_AGENTS
static uint8_t rec_cap[MAX_EDGES][2][1600];
static uint16_t rec_len[MAX_EDGES][2];
/* the transaction id of the latest Binding request per flow (edge, side) */
static uint8_t req_tid[MAX_EDGES][2][12];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The side of edge e whose port is sp, -1 when neither. */
static int side_of(const struct dp_harness *hh, uint32_t e, uint16_t sp)
{
    return hh->ctx.ri.edges[e].port_a == sp ? 0 : hh->ctx.ri.edges[e].port_b == sp ? 1 : -1;
}

static bool capture(struct dp_harness *hh, struct rte_mbuf *m, void *arg)
{
    (void)arg;
    if (m->data_len <= DP_FRAME_HDR_LEN + DTLS_RECORD_HEADER || m->data_len > sizeof(rec_cap[0][0]))
        return false;
    const struct dp_frame *f = rte_pktmbuf_mtod(m, const struct dp_frame *);
    const uint8_t *d = rte_pktmbuf_mtod_offset(m, const uint8_t *, DP_FRAME_HDR_LEN);
    uint32_t plen = m->data_len - (uint32_t)DP_FRAME_HDR_LEN;
    uint16_t sp = rte_be_to_cpu_16(f->udp.src_port);
    bool request = plen >= 20 && (d[0] << 8 | d[1]) == STUN_BINDING_REQUEST;
    bool record = d[0] == DTLS_CT_APPLICATION_DATA && DTLS_RECORD_HEADER + ((uint32_t)d[11] << 8 | d[12]) == plen;
    for (uint32_t e = 0; e < hh->ctx.ri.cfg->n_edges && e < MAX_EDGES; e++) {
        int side = side_of(hh, e, sp);
        if (side >= 0 && request) {
            memcpy(req_tid[e][side], d + 8, 12);
        } else if (side >= 0 && record) {
            memcpy(rec_cap[e][side], d, plen);
            rec_len[e][side] = (uint16_t)plen;
        }
    }
    return false;
}

static void set_up(void)
{
    if (dp_harness_init_dc(&h, NULL) != 0)
        __builtin_trap();
    h.tap = capture; /* from the first check on: the transaction ids */
    if (dp_harness_connect_all(&h, 120 * SECOND) != 0)
        __builtin_trap();
    for (int i = 0; i < 20; i++) {
        dp_conns_generate(&h.ctx, h.wk, h.tsc, 8, h.wk->traffic.n_local);
        dp_harness_wire_pass(&h);
    }
    dp_harness_run_for(&h, SECOND);
}

/* The consistency of the worker's connection state and its buffers. */
static void check(void)
{
    if (dp_harness_mbufs_out(&h) != dp_harness_mbufs_held(&h))
        __builtin_trap(); /* a buffer leaked (or was freed twice) */
    const struct ri_counters *c = &h.wk->m->live;
    const struct dp_conns *cs = h.wk->conns;
    uint64_t n = h.ctx.ri.cfg->n_edges;
    if (c->conn_established + c->conn_given_up > n || c->conn_closed > c->conn_established ||
        c->conn_attempts > n * h.ctx.ri.cfg->setup_attempts || cs->in_setup > h.ctx.ri.cfg->setup_cap ||
        c->msgs_delivered + c->msgs_dropped > c->msgs_sent)
        __builtin_trap();
    uint32_t st[DP_CONN_CLOSED + 1] = {0};
    for (uint32_t i = 0; i < cs->n; i++) {
        if (cs->conn[i].state > DP_CONN_CLOSED)
            __builtin_trap();
        st[cs->conn[i].state]++;
    }
    if (st[DP_CONN_UP] != c->conn_established - c->conn_closed || st[DP_CONN_GIVEN_UP] != c->conn_given_up ||
        st[DP_CONN_CLOSED] != c->conn_closed || st[DP_CONN_SETUP] != cs->in_setup || st[DP_CONN_QUEUED] != cs->q_len)
        __builtin_trap();
}

/* mode 3: a STUN message to the receiver of (e, from_b), authenticated
 * with the credentials of the connection's current attempt (agent.h) and,
 * as an answer, perhaps carrying the receiver's latest transaction id as
 * the wire showed it. */
static uint16_t authed_stun(uint32_t e, bool from_b, const uint8_t *d, size_t n, uint8_t *out, size_t cap)
{
    const struct dp_conn *c = &h.wk->conns->conn[e];
    int rcv = from_b ? 0 : 1;
    char uf[2][9], pw[2][25];
    for (int s = 0; s < 2; s++)
        agent_credentials(h.ctx.ri.cfg->seed, c->edge, s, c->attempts ? c->attempts - 1u : 0, uf[s], pw[s]);
    uint8_t in[64] = {0};
    memcpy(in, d, n < sizeof(in) ? n : sizeof(in));
    static const uint16_t types[4] = {STUN_BINDING_REQUEST, STUN_BINDING_SUCCESS, STUN_BINDING_ERROR,
                                      STUN_BINDING_INDICATION};
    uint16_t type = types[in[0] & 3];
    uint8_t tid[12];
    /* the agent's own transaction, or another */
    memcpy(tid, in[0] & 4 && c->edge < MAX_EDGES ? req_tid[c->edge][rcv] : in + 1, 12);
    struct stun_writer w;
    stun_begin(&w, out, cap, type, tid);
    if (!(in[0] & 8)) {
        char user[2 * ICE_UFRAG_MAX + 2];
        int ul = snprintf(user, sizeof(user), "%s:%s", uf[rcv], uf[1 - rcv]);
        stun_put_bytes(&w, STUN_ATTR_USERNAME, user, (uint16_t)ul);
    }
    uint64_t v;
    memcpy(&v, in + 13, 8);
    if (in[0] & 16)
        stun_put_u32(&w, STUN_ATTR_PRIORITY, (uint32_t)v);
    if (in[0] & 32)
        stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
    if (in[0] & 64)
        stun_put_u64(&w, in[21] & 1 ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED, v);
    if (in[0] & 128)
        stun_put_error(&w, (uint16_t)(300 + in[22] % 300), "x");
    if (in[23] & 1) {
        struct stun_addr ad = {4, (uint16_t)(in[24] << 8 | in[25]), {in[26], in[27], in[28], in[29]}};
        stun_put_xor_address(&w, &ad);
    }
    if (in[23] & 2) /* an attribute the agent does not know, maybe comprehension-required */
        stun_put_bytes(&w, (uint16_t)(in[30] << 8 | in[31]), in + 32, (uint16_t)((in[23] >> 2) % 33));
    const char *key = type == STUN_BINDING_REQUEST || type == STUN_BINDING_INDICATION ? pw[rcv] : pw[1 - rcv];
    stun_put_integrity(&w, (const uint8_t *)key, strlen(key));
    stun_put_fingerprint(&w);
    int len = stun_end(&w);
    return len > 0 ? (uint16_t)len : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        set_up();
        ready = 1;
    }
    if (size < 2)
        return 0;
    uint8_t ctl = data[0];
    uint32_t n_edges = (uint32_t)h.ctx.ri.cfg->n_edges;
    uint32_t e = (data[1] & 0x7f) % n_edges;
    bool from_b = data[1] & 0x80;
    const uint8_t *body = data + 2;
    size_t blen = size - 2 > 1400 ? 1400 : size - 2;
    uint32_t gen = ctl >> 2 & 3; /* agent messages in flight while the input arrives */
    if (gen)
        dp_conns_generate(&h.ctx, h.wk, h.tsc, 2 * gen, h.wk->traffic.n_local);
    struct rte_mbuf *m = NULL;
    uint8_t buf[1600];
    switch (ctl & 3) {
    case 0:
        m = dp_harness_raw(&h, data + 1, (uint16_t)(size - 1 > 2000 ? 2000 : size - 1));
        break;
    case 1:
        m = dp_harness_flow_frame(&h, e, from_b, body, (uint16_t)blen);
        break;
    case 2: {
        uint16_t len = rec_len[e][from_b];
        if (!len || blen < 1)
            return 0;
        memcpy(buf, rec_cap[e][from_b], len);
        size_t off = body[0] % len;
        for (size_t i = 1; i < blen && off + i - 1 < len; i++)
            buf[off + i - 1] ^= body[i];
        m = dp_harness_flow_frame(&h, e, from_b, buf, len);
        break;
    }
    default: {
        uint16_t len = authed_stun(e, from_b, body, blen, buf, sizeof(buf));
        if (!len)
            return 0;
        m = dp_harness_flow_frame(&h, e, from_b, buf, len);
        break;
    }
    }
    if (!m)
        __builtin_trap(); /* the pool ran dry: something holds buffers */
    dp_harness_rx(&h, m);
    for (int i = 0; i < 4 && h.wk->n_tx; i++)
        dp_harness_wire_pass(&h);
    check();
    uint32_t jump = ctl >> 4; /* 0..15: 0 none, else up to 1.5 s of timers */
    if (jump)
        dp_harness_run_for(&h, (uint64_t)jump * 100000000ull);
    check();
    return 0;
}
