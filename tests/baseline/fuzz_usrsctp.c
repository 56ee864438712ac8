/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the input path of the usrsctp baseline
 * (swarmgen-usrsctp, baseline/): us_ep_input's RFC 7983 demux (STUN to our
 * ICE agent, DTLS to mbedTLS's ssl context), the DTLS records' plaintext
 * into usrsctp_conninput, what usrsctp delivers drained into DCEP and the
 * DataChannel messages into the agent code (agent_receive: deliver,
 * forward, echo).
 *
 * The real baseline code runs without sockets or threads: the worker is
 * built by us_setup with ctx->tx set (us.h: no UDP socket, every datagram
 * an endpoint sends comes to wire_tx), usrsctp runs without its own threads
 * (usrsctp_init_nothreads, as swarmgen-usrsctp), and this file plays the
 * worker loop: a virtual clock in 1 ms steps (wk->now), usrsctp's timers
 * every 10 ms, us_conns_poll, the sweep every 100 ms, and a zero-delay
 * wire that hands each datagram to the other endpoint of its connection
 * with us_ep_input. A 4-agent ring (4 edges, both endpoints of each here)
 * is brought up through ICE, the DTLS handshake, SCTP and DCEP at the
 * first input, then a few agent messages go each way so usrsctp's DATA
 * and SACK packets are captured. A connection the fuzzer brought down
 * (ABORT, alert) is started again at the next input through the same
 * set-up path (counted in `revived`).
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
 * least); delivered + forwarded never exceed received. LeakSanitizer
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MS          1000000ull
#define SECOND      1000000000ull
#define N_AGENTS    4u /* a ring: as many edges */
#define WIRE_SLOTS  512u
#define WIRE_BUDGET 20000u /* datagrams per delivery round: stops a ping-pong */
#define CAPS        4u     /* usrsctp packets kept per flow */
#define REC_MAX     2048u

static struct us_ctx ctx;
static struct us_worker *wk;
static void *image;
static bool ready;
static uint64_t last_timer_ms, next_sweep;
static uint64_t injected; /* DataChannel messages the fuzzer could have made */
static uint64_t revived;  /* connections the harness started again */

/* The wire: datagrams in flight, to endpoint (conn, side). */
struct dgram {
    uint32_t conn;
    uint8_t side;
    uint16_t len;
    uint8_t data[US_DGRAM_MAX];
};
static struct dgram wire[WIRE_SLOTS];
static uint32_t wire_head, wire_n;
static uint64_t wire_lost; /* the wire was full */

/* usrsctp's output per flow [conn][sending side]: the last CAPS packets */
static uint8_t cap[N_AGENTS][2][CAPS][US_SCTP_MTU + 64];
static uint16_t cap_len[N_AGENTS][2][CAPS];
static uint32_t cap_next[N_AGENTS][2];
static uint32_t vtag[N_AGENTS][2]; /* the tag side s puts on its packets (the peer's) */

/* seeds: the datagrams of edge 0 during set-up */
#define LOG_MAX 48u
static struct dgram dlog[LOG_MAX];
static uint32_t dlog_n;
static bool logging;
/* seeds: the first usrsctp packet whose first chunk is of type t (< 16) */
static uint8_t first_pkt[16][US_SCTP_MTU + 64];
static uint16_t first_len[16];
static uint8_t first_flags[16]; /* edge and sender as the flags byte says */

static void wire_tx(void *arg, struct us_ep *ep, const uint8_t *d, size_t len)
{
    (void)arg;
    if (len > US_DGRAM_MAX || wire_n == WIRE_SLOTS) {
        wire_lost++;
        return;
    }
    struct dgram *g = &wire[(wire_head + wire_n++) % WIRE_SLOTS];
    g->conn = ep->conn;
    g->side = (uint8_t)(1 - ep->side);
    g->len = (uint16_t)len;
    memcpy(g->data, d, len);
    if (logging && ep->conn == 0 && dlog_n < LOG_MAX)
        dlog[dlog_n++] = *g;
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

static void deliver(void)
{
    static uint8_t d[US_DGRAM_MAX]; /* a copy: delivering queues more */
    for (uint32_t k = 0; k < WIRE_BUDGET && wire_n; k++) {
        struct dgram *g = &wire[wire_head];
        uint32_t conn = g->conn, len = g->len;
        int side = g->side;
        memcpy(d, g->data, len);
        wire_head = (wire_head + 1) % WIRE_SLOTS;
        wire_n--;
        ri_add(wk->m->live.pkts_rx, 1);
        ri_add(wk->m->live.bytes_rx, len + 42);
        us_ep_input(wk, &wk->conns[conn], side, d, len);
    }
}

/* One millisecond of the worker loop. */
static void step(void)
{
    deliver();
    wk->now += MS;
    wk->tsc = wk->now; /* one cycle per ns (ctx.ns_per_cycle) */
    uint64_t ms = wk->now / MS;
    if (ms >= last_timer_ms + 10) {
        usrsctp_handle_timers((uint32_t)(ms - last_timer_ms));
        last_timer_ms = ms;
    }
    us_foreign_flush(wk);
    us_conns_poll(wk);
    if (wk->now >= next_sweep) {
        us_conns_sweep(wk);
        next_sweep = wk->now + 100 * MS;
    }
    deliver();
}

static void run_for(uint64_t ns)
{
    for (uint64_t end = wk->now + ns; wk->now < end;)
        step();
}

static bool all_up(void)
{
    for (uint32_t i = 0; i < wk->n_conns; i++)
        if (wk->conns[i].state != US_CONN_UP)
            return false;
    return true;
}

static bool run_until_up(uint64_t max_ns)
{
    for (uint64_t end = wk->now + max_ns; wk->now < end;) {
        step();
        if (all_up())
            return true;
    }
    return false;
}

/* A 4-agent ring on one worker, traffic dc, as dp_harness builds it. */
static int build_image(void)
{
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    c.traffic = RI_TRAFFIC_DC;
    c.seed = 1;
    c.msg_size = 64;
    c.setup_cap = 4;
    c.setup_attempts = 2;
    c.n_agents = N_AGENTS;
    c.n_workers = 1;
    c.n_edges = N_AGENTS;
    c.n_dests = N_AGENTS;
    c.max_hops = 64;
    c.ip_base = 0xc6120000u;
    struct ri_header hd;
    if (ctl_image_layout(&c, &hd) != 0)
        return -E2BIG;
    image = aligned_alloc(RI_ALIGN, (hd.image_size + RI_ALIGN - 1) / RI_ALIGN * RI_ALIGN);
    if (!image)
        return -ENOMEM;
    memset(image, 0, hd.image_size);
    memcpy(image, &hd, sizeof(hd));
    struct ri_header *img = image;
    memcpy(ri_section(img, RI_SEC_CONFIG), &c, sizeof(c));
    struct ri_agent *ag = ri_section(img, RI_SEC_AGENTS);
    struct ri_edge *ed = ri_section(img, RI_SEC_EDGES);
    uint32_t *off = ri_section(img, RI_SEC_ADJ_OFF), *adj = ri_section(img, RI_SEC_ADJ),
             *adj_edge = ri_section(img, RI_SEC_ADJ_EDGE), *dests = ri_section(img, RI_SEC_DESTS);
    int32_t *di = ri_section(img, RI_SEC_DEST_INDEX);
    uint16_t *routes = ri_section(img, RI_SEC_ROUTES);
    const uint32_t n = N_AGENTS;
    for (uint32_t e = 0; e < n; e++) {
        uint32_t a = e, b = (e + 1) % n;
        ed[e].a = a < b ? a : b;
        ed[e].b = a < b ? b : a;
        ed[e].port_a = (uint16_t)(50000 + 2 * e);
        ed[e].port_b = (uint16_t)(50001 + 2 * e);
    }
    for (uint32_t v = 0; v < n; v++) {
        ag[v].ip = c.ip_base + 1 + v;
        ag[v].degree = 2;
        off[v] = 2 * v;
        adj[2 * v] = (v + n - 1) % n; /* slot 0: the previous agent, slot 1: the next one */
        adj_edge[2 * v] = (v + n - 1) % n;
        adj[2 * v + 1] = (v + 1) % n;
        adj_edge[2 * v + 1] = v;
        dests[v] = v;
        di[v] = (int32_t)v;
    }
    off[n] = 2 * n;
    for (uint32_t v = 0; v < n; v++)
        for (uint32_t d = 0; d < n; d++) {
            uint32_t fwd = (d + n - v) % n;
            routes[v * n + d] = v == d ? RI_ROUTE_NONE : fwd <= n / 2 ? 1 : 0;
        }
    ri_view_bind(&ctx.ri, img, hd.image_size);
    return 0;
}

static uint32_t agent_of(const struct us_conn *c, int s)
{
    const struct ri_edge *ed = &ctx.ri.edges[c->edge];
    return s ? ed->b : ed->a;
}

/* A well-formed agent message from endpoint s of connection c to its
 * peer, through the baseline's send path. */
static void send_msg(struct us_conn *c, int s, uint32_t seq)
{
    uint8_t m[64];
    agent_msg_write(m, sizeof(m), agent_of(c, s), agent_of(c, 1 - s), seq, wk->tsc, NULL);
    us_send_msg(wk, agent_of(c, s), c->edge, m, sizeof(m));
}

static void write_seeds(const char *dir);

static void set_up(void)
{
    usrsctp_init_nothreads(0, capture_output, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0); /* as swarmgen-usrsctp */
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    char err[256];
    int rc = build_image();
    ctx.n_workers = 1;
    ctx.tsc_hz = 1000000000ull;
    ctx.ns_per_cycle = 1.0;
    ctx.tx = wire_tx;
    if (rc == 0)
        rc = us_setup(&ctx, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "image: %d", rc);
    if (rc != 0) {
        fprintf(stderr, "fuzz_usrsctp: set-up: %s\n", err);
        abort();
    }
    wk = ctx.worker[0];
    us_conn_bind_thread(wk);
    wk->now = wk->tsc = AGENT_NS_BASE;
    last_timer_ms = wk->now / MS;
    next_sweep = wk->now + 100 * MS;
    const char *seeds = getenv("FUZZ_USRSCTP_SEEDS");
    logging = seeds != NULL;
    if (!run_until_up(60 * SECOND)) {
        fprintf(stderr, "fuzz_usrsctp: the connections did not come up\n");
        abort();
    }
    for (uint32_t i = 0; i < wk->n_conns; i++)
        for (int s = 0; s < 2; s++)
            for (uint32_t k = 0; k < 2; k++)
                send_msg(&wk->conns[i], s, k);
    run_for(300 * MS);
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
    if (!n && all_up())
        return;
    uint32_t kept = 0;
    for (uint32_t k = 0; k < wire_n; k++) {
        const struct dgram *g = &wire[(wire_head + k) % WIRE_SLOTS];
        if (wk->conns[g->conn].state == US_CONN_UP)
            wire[(wire_head + kept++) % WIRE_SLOTS] = *g;
    }
    wire_n = kept;
    revived += n;
    if (!run_until_up(60 * SECOND)) {
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
    if (m->conn_established + m->conn_given_up > ctx.ri.cfg->n_edges + revived)
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
    wire_tx(NULL, &c->ep[1 - to], d, n);
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
        agent_hdr_write((struct agent_hdr *)m, (uint32_t)n, agent_of(c, s), dst, seq, wk->tsc);
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
    struct us_conn *c = &wk->conns[ctx.edge_local[e]];
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
    push_raw(c, 1 - s, rec, len);
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
        deliver();
        if (flags & 0x40)
            run_for(10 * MS);
        if (flags & 0x80)
            run_for(300 * MS);
    }
    run_for(30 * MS);
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
    uint8_t h[3] = {(uint8_t)(n >> 8), (uint8_t)n, flags};
    fwrite(h, 1, 3, f);
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
        const struct dgram *g = &dlog[i];
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
