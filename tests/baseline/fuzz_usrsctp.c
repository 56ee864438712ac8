/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the input path of the usrsctp baseline
 * (swarmgen-usrsctp, baseline/): us_ep_input's RFC 7983 demux (STUN to our
 * ICE agent, DTLS to mbedTLS's ssl context), the DTLS records' plaintext
 * into usrsctp_conninput, what usrsctp delivers drained into DCEP and the
 * DataChannel messages into the agent code (agent_receive: deliver,
 * forward, echo).
 *
 * The real baseline code runs without sockets or threads on the
 * in-process harness (us_harness.h: ctx.tx set, usrsctp without threads,
 * a virtual clock in 1 ms steps, a zero-delay wire). A 4-agent ring (4
 * edges, both endpoints of each here) is brought up through ICE, the DTLS
 * handshake, SCTP and DCEP at the first input, then a few agent messages
 * go each way so usrsctp's DATA and SACK packets are captured. A
 * connection the fuzzer brought down (ABORT, alert) is started again at
 * the next input through the same set-up path (counted in `revived`).
 *
 * Packets are forged as the real sender makes them: usrsctp's output of
 * every endpoint is captured (the conn_output callback wraps
 * us_conn_output), giving each flow's verification tag; a forged SCTP
 * packet gets its CRC32c and is sealed by the sending endpoint's own
 * mbedTLS context (us_dtls_write: its keys, its next record sequence), so
 * it passes the receiver's decryption and anti-replay window.
 *
 * Input: records as tests/common/fuzz_input.h reads them. The flags byte:
 *   bits 0-1  0: the bytes as a datagram, as they are (demux, STUN, DTLS);
 *             1: an SCTP packet from the bytes (bit 2: the flow's ports and
 *                verification tag put in), CRC32c set, sealed by the sender;
 *             2: a packet the sender's usrsctp emitted (byte 0: which of
 *                the last 4), the other bytes XORed over it, CRC32c set,
 *                sealed by the sender;
 *             3: a DataChannel message sent by the sender's usrsctp socket
 *                (bit 2: PPID 50, DCEP; else 53, binary): byte 0 steers
 *                (bit 0: a valid agent header written over the start of a
 *                binary message; bit 5: stream (bits 1-4) instead of the
 *                channel's; bit 6: unordered), the rest is the message
 *   bits 3-4  edge (of 4); bit 5: from agent b (else a)
 *   bit 6     10 ms of virtual time after the record; bit 7: 300 ms
 *             (usrsctp's RTO is 200 ms at least)
 * Modes 1-3 on a connection that is not up, and mode 1 with fewer than 12
 * or more than US_SCTP_MTU bytes, send the bytes as in mode 0. After the
 * records the clock runs 30 ms and the established sockets are read.
 *
 * Checks after each input (a failed one traps): the connection counters
 * agree with the states (up = established - closed; established + given
 * up within edges + revived); every connection up has DTLS done, an SCTP
 * socket and the channel open at both ends; no handshake slot is held
 * with nothing in set-up; DataChannel messages received never exceed
 * those sent plus what the fuzzer could have injected (one per record of
 * mode 3, len / 16 + 1 per other record: a DATA chunk is 17 bytes at
 * least); delivered + forwarded never exceed received. After each record
 * of mode 0 to an established connection: it is still established (bytes
 * made without the keys never end one). LeakSanitizer
 * checks the heap (mbedTLS contexts, usrsctp's sockets freed on close).
 *
 * Determinism: the clock is virtual and mbedTLS's DRBG is seeded from the
 * run seed; usrsctp (Debian's build) draws its verification tags and
 * initial TSNs from getrandom, so the target reads them from the capture
 * instead of assuming them.
 *
 * FUZZ_USRSCTP_TRACE=1 prints the counters after each input (to check
 * what a seed reaches). FUZZ_USRSCTP_SEEDS=DIR writes the named seeds of
 * tests/fuzz-corpus/fuzz_usrsctp/ into DIR (from this harness's own
 * handshake and messages: real ICE, mbedTLS and usrsctp output) at set-up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "agent.h"
#include "fuzz_input.h"
#include "image.h"
#include "sctp_crc32c.h"
#include "us.h"
#include "us_dtls.h"
#include "us_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_AGENTS US_H_AGENTS
#define CAPS     4u /* usrsctp packets kept per flow */
#define REC_MAX  2048u

static struct us_harness h;
static struct us_worker *wk;
static bool ready;
static uint64_t injected; /* DataChannel messages the fuzzer could have made */
static uint64_t revived;  /* connections the harness started again */

/* usrsctp's output per flow [conn][sending side]: the last CAPS packets */
static uint8_t cap[N_AGENTS][2][CAPS][US_SCTP_MTU + 64];
static uint16_t cap_len[N_AGENTS][2][CAPS];
static uint32_t cap_next[N_AGENTS][2];
static uint32_t vtag[N_AGENTS][2]; /* the tag side s puts on its packets (the peer's) */

/* seeds: the datagrams of edge 0 during set-up */
#define LOG_MAX 48u
static struct us_h_dgram dlog[LOG_MAX];
static uint32_t dlog_n;
static bool logging;
/* seeds: the first usrsctp packet whose first chunk is of type t (< 16) */
static uint8_t first_pkt[16][US_SCTP_MTU + 64];
static uint16_t first_len[16];
static uint8_t first_flags[16]; /* edge and sender as the flags byte says */

static bool log_tap(struct us_harness *hh, const struct us_h_dgram *g)
{
    (void)hh;
    if (logging && g->conn == 0 && dlog_n < LOG_MAX)
        dlog[dlog_n++] = *g;
    return true;
}

/* usrsctp's conn_output: keeps the packet, then the baseline's own. */
static int capture_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    const struct us_ep *ep = addr;
    if (ep->conn < N_AGENTS && len >= 12 && len <= sizeof(cap[0][0][0])) {
        uint32_t k = cap_next[ep->conn][ep->side]++ % CAPS;
        memcpy(cap[ep->conn][ep->side][k], buf, len);
        cap_len[ep->conn][ep->side][k] = (uint16_t)len;
        uint32_t t;
        memcpy(&t, (const uint8_t *)buf + 4, 4);
        if (t)
            vtag[ep->conn][ep->side] = t;
        uint8_t type = ((const uint8_t *)buf)[12];
        if (logging && type < 16 && !first_len[type] && len > 12) {
            memcpy(first_pkt[type], buf, len);
            first_len[type] = (uint16_t)len;
            first_flags[type] = (uint8_t)(ep->conn << 3 | (ep->side ? 0x20 : 0));
        }
    }
    return us_conn_output(addr, buf, len, tos, set_df);
}

static void write_seeds(const char *dir);

static void set_up(void)
{
    const char *seeds = getenv("FUZZ_USRSCTP_SEEDS");
    logging = seeds != NULL;
    h.tap = log_tap;
    if (us_h_start(&h, capture_output) != 0)
        abort();
    wk = h.wk;
    for (uint32_t i = 0; i < wk->n_conns; i++)
        for (int s = 0; s < 2; s++)
            for (uint32_t k = 0; k < 2; k++)
                us_h_send_msg(&h, &wk->conns[i], s, k);
    us_h_run_for(&h, 300 * US_H_MS);
    logging = false;
    if (seeds)
        write_seeds(seeds);
    ready = true;
}

/* Connections the fuzzer brought down start again (attempts from 0); the
 * datagrams still in flight to them are dropped first. */
static void revive(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < wk->n_conns; i++) {
        struct us_conn *c = &wk->conns[i];
        if (c->state != US_CONN_CLOSED && c->state != US_CONN_GIVEN_UP)
            continue;
        c->state = US_CONN_QUEUED;
        c->attempts = 0;
        wk->queue[(wk->q_head + wk->q_len++) % wk->n_conns] = i;
        n++;
    }
    if (!n && us_h_all_up(&h))
        return;
    us_h_wire_keep_up(&h);
    revived += n;
    if (!us_h_run_until_up(&h, 60 * US_H_SECOND)) {
        fprintf(stderr, "fuzz_usrsctp: a connection could not be brought up again\n");
        __builtin_trap();
    }
}

static void check(void)
{
    const struct ri_counters *m = &wk->m->live;
    uint64_t up = 0;
    for (uint32_t i = 0; i < wk->n_conns; i++) {
        const struct us_conn *c = &wk->conns[i];
        if (c->state != US_CONN_UP)
            continue;
        up++;
        for (int s = 0; s < 2; s++) {
            const struct us_ep *ep = &c->ep[s];
            if (!ep->ssl_on || !ep->hs_done || !ep->sock || !ep->dc_open)
                __builtin_trap(); /* up, but an endpoint is not */
        }
    }
    if (m->conn_closed > m->conn_established || up != m->conn_established - m->conn_closed)
        __builtin_trap();
    if (m->conn_established + m->conn_given_up > h.ctx.ri.cfg->n_edges + revived)
        __builtin_trap();
    if (wk->n_setup == 0 && wk->hs_active != 0)
        __builtin_trap(); /* a handshake slot leaked */
    if (m->dc_msgs_rx > m->dc_msgs_tx + injected)
        __builtin_trap(); /* more messages received than could have been sent */
    if (m->msgs_delivered + m->msgs_forwarded > m->dc_msgs_rx)
        __builtin_trap();
}

/* An SCTP packet of n bytes from side s of c, sealed by s's DTLS context. */
static void seal(struct us_conn *c, int s, uint8_t *pkt, size_t n)
{
    sctp_crc32c_seal(pkt, n);
    us_dtls_write(&c->ep[s], pkt, n);
}

static void push_raw(struct us_conn *c, int to, const uint8_t *d, size_t n)
{
    /* as the sender's socket would: into the wire */
    us_h_send_raw(&h, &c->ep[1 - to], d, n);
}

static void dc_message(struct us_conn *c, int s, uint8_t flags, uint8_t *rec, size_t len)
{
    struct us_ep *ep = &c->ep[s];
    uint8_t ctl = rec[0], *m = rec + 1;
    size_t n = len - 1;
    bool dcep = flags & 4;
    if (!dcep && (ctl & 1) && n >= AGENT_HDR_LEN) {
        uint32_t dst = m[12] % N_AGENTS, seq = (uint32_t)m[16] << 8 | m[17];
        uint8_t hops = m[5];
        agent_hdr_write((struct agent_hdr *)m, (uint32_t)n, us_h_agent(&h, c, s), dst, seq,
                        wk->tsc);
        ((struct agent_hdr *)m)->hops = hops;
    }
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof(spa));
    spa.sendv_sndinfo.snd_sid = ctl & 0x20 ? (uint16_t)((ctl >> 1) & 15) : ep->sid;
    spa.sendv_sndinfo.snd_ppid = htonl(dcep ? US_PPID_DCEP : US_PPID_BINARY);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (ctl & 0x40 ? SCTP_UNORDERED : 0);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    usrsctp_sendv(ep->sock, m, n, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
}

static void feed(uint8_t flags, uint8_t *rec, size_t len)
{
    uint32_t e = (flags >> 3) & 3;
    int s = flags & 0x20 ? 1 : 0; /* the sender; 1 - s receives */
    struct us_conn *c = &wk->conns[h.ctx.edge_local[e]];
    uint32_t conn = (uint32_t)(c - wk->conns);
    unsigned mode = flags & 3;
    if (mode != 0 && c->state != US_CONN_UP)
        mode = 0;
    injected += mode == 3 ? 1 : len / 16 + 1;
    switch (mode) {
    case 1:
        if (len < 12 || len > US_SCTP_MTU)
            break;
        if (flags & 4) {
            uint16_t port = htons(US_SCTP_PORT);
            memcpy(rec, &port, 2);
            memcpy(rec + 2, &port, 2);
            memcpy(rec + 4, &vtag[conn][s], 4);
        }
        seal(c, s, rec, len);
        return;
    case 2: {
        if (len < 1)
            break;
        uint32_t k = (cap_next[conn][s] + CAPS - 1 - (rec[0] & 3)) % CAPS;
        size_t n = cap_len[conn][s][k];
        if (n < 12)
            break;
        uint8_t pkt[sizeof(cap[0][0][0])];
        memcpy(pkt, cap[conn][s][k], n);
        for (size_t i = 1; i < len && i - 1 < n; i++)
            pkt[i - 1] ^= rec[i];
        seal(c, s, pkt, n);
        return;
    }
    case 3:
        if (len < 1 || !c->ep[s].sock)
            break;
        dc_message(c, s, flags, rec, len);
        return;
    default:
        break;
    }
    /* mode 0: bytes made without the keys; delivered at once (the wire
     * is empty between records), they must not end an established
     * connection (issue 19: a replayed ClientHello did) */
    bool was_up = c->state == US_CONN_UP && h.wire_n == 0;
    push_raw(c, 1 - s, rec, len);
    if (was_up) {
        us_h_deliver(&h);
        if (c->state != US_CONN_UP)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        set_up();
    revive();
    check();
    static uint8_t rec[REC_MAX];
    size_t off = 0, len;
    uint8_t flags;
    while (fuzz_next(data, size, &off, rec, sizeof(rec), &len, &flags)) {
        feed(flags, rec, len);
        us_h_deliver(&h);
        if (flags & 0x40)
            us_h_run_for(&h, 10 * US_H_MS);
        if (flags & 0x80)
            us_h_run_for(&h, 300 * US_H_MS);
    }
    us_h_run_for(&h, 30 * US_H_MS);
    us_conns_sweep(wk);
    check();
    if (getenv("FUZZ_USRSCTP_TRACE")) {
        const struct ri_counters *m = &wk->m->live;
        fprintf(stderr,
                "fuzz_usrsctp: established %llu closed %llu revived %llu dc_tx %llu dc_rx %llu "
                "delivered %llu "
                "forwarded %llu bad_sctp %llu bad_msg %llu conn_down %llu bad_stun %llu pkts_rx "
                "%llu injected %llu\n",
                (unsigned long long)m->conn_established, (unsigned long long)m->conn_closed,
                (unsigned long long)revived, (unsigned long long)m->dc_msgs_tx,
                (unsigned long long)m->dc_msgs_rx, (unsigned long long)m->msgs_delivered,
                (unsigned long long)m->msgs_forwarded,
                (unsigned long long)m->drops[RI_DROP_BAD_SCTP],
                (unsigned long long)m->drops[RI_DROP_BAD_MESSAGE],
                (unsigned long long)m->drops[RI_DROP_CONN_DOWN],
                (unsigned long long)m->drops[RI_DROP_BAD_STUN], (unsigned long long)m->pkts_rx,
                (unsigned long long)injected);
    }
    return 0;
}

/* ---- seeds ----------------------------------------------------------- */

static void put_record(FILE *f, uint8_t flags, const uint8_t *d, size_t n)
{
    uint8_t hd[3] = {(uint8_t)(n >> 8), (uint8_t)n, flags};
    fwrite(hd, 1, 3, f);
    fwrite(d, 1, n, f);
}

static FILE *seed_open(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "fuzz_usrsctp: cannot write %s\n", path);
        abort();
    }
    return f;
}

/* The datagrams of edge 0's set-up as mode 0 records, every real
 * usrsctp packet of every kind as mode 1 and 2 records, DCEP and agent
 * messages as mode 3 records. */
static void write_seeds(const char *dir)
{
    FILE *all = seed_open(dir, "setup_e0_all");
    for (uint32_t i = 0; i < dlog_n; i++) {
        const struct us_h_dgram *g = &dlog[i];
        uint8_t fl = (uint8_t)(g->side == 0 ? 0x20 : 0); /* to a: sent by b */
        put_record(all, fl, g->data, g->len);
        char name[64];
        const char *kind = g->data[0] <= 3    ? "stun"
                           : g->data[0] == 22 ? "dtls_hs"
                           : g->data[0] == 23 ? "dtls_app"
                                              : "dtls";
        snprintf(name, sizeof(name), "dgram_%02u_%s_to_%c", i, kind, g->side ? 'b' : 'a');
        if (i < 14) {
            FILE *f = seed_open(dir, name);
            put_record(f, fl, g->data, g->len);
            fclose(f);
        }
    }
    fclose(all);
    static const char *const chunk[16] = {
        "data",  "init",     "init_ack",          "sack",  "heartbeat",   "heartbeat_ack",
        "abort", "shutdown", "shutdown_ack",      "error", "cookie_echo", "cookie_ack",
        "ecne",  "cwr",      "shutdown_complete", "auth"};
    for (uint32_t t = 0; t < 16; t++) {
        if (!first_len[t])
            continue;
        char name[64];
        snprintf(name, sizeof(name), "sctp_%s", chunk[t]);
        FILE *f = seed_open(dir, name);
        put_record(f, (uint8_t)(1 | 4 | first_flags[t]), first_pkt[t], first_len[t]);
        fclose(f);
    }
    for (int s = 0; s < 2; s++)
        for (uint32_t k = 0; k < 2; k++) {
            char name[64];
            uint8_t z[1] = {(uint8_t)k};
            snprintf(name, sizeof(name), "resend_%c_%u", s ? 'b' : 'a', k);
            FILE *f = seed_open(dir, name);
            put_record(f, (uint8_t)(2 | (s ? 0x20 : 0)), z, 1);
            fclose(f);
        }
    static const uint8_t open[] = {0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x05, 0x00, 0x00, 's',  'w',  'a',  'r',  'm'};
    static const uint8_t ack[] = {0x00, 0x02};
    FILE *f = seed_open(dir, "dcep_open_a");
    put_record(f, 3 | 4, open, sizeof(open));
    fclose(f);
    f = seed_open(dir, "dcep_ack_b");
    put_record(f, 3 | 4 | 0x20, ack, sizeof(ack));
    fclose(f);
    uint8_t msg[1 + 64];
    memset(msg, 0, sizeof(msg));
    msg[0] = 1; /* agent header written in */
    msg[1 + 12] = 1;
    f = seed_open(dir, "msg_a_to_b");
    put_record(f, 3, msg, sizeof(msg));
    fclose(f);
    msg[1 + 12] = 3; /* to agent 3: forwarded */
    f = seed_open(dir, "msg_forward");
    put_record(f, 3 | 0x40, msg, sizeof(msg));
    put_record(f, 3 | 0x20 | 0x80, msg, sizeof(msg));
    fclose(f);
    msg[0] = 0x41; /* unordered */
    f = seed_open(dir, "msg_unordered_stream");
    put_record(f, 3 | 1 << 3, msg, sizeof(msg));
    msg[0] = 0x20 | 3 << 1; /* stream 3, no channel there */
    put_record(f, 3 | 1 << 3, msg, sizeof(msg));
    fclose(f);
}
