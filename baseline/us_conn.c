/* SPDX-License-Identifier: MIT */
/*
 * The peer connections of one worker in the usrsctp backend: set-up under
 * the cap (ICE check → DTLS handshake → SCTP association → DCEP), retries,
 * datagrams in, usrsctp's packets out, DataChannel messages both ways.
 *
 * Stages as in swarmgen-dp (endpoint 0's times): ICE from the attempt's
 * start to its ICE check succeeding; DTLS from there to its handshake done;
 * SCTP from there to SCTP_COMM_UP; DataChannel from there until both ends
 * have the channel open (OPEN received, ACK received).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include "agent.h"
#include "traffic.h"
#include "rng.h"
#include "sig.h"
#include "us.h"
#include "us_dtls.h"

#define ATTEMPT_TIMEOUT_NS (30ull * 1000000000ull)

/* The worker whose thread this is (NULL on other threads: usrsctp set-up). */
static __thread struct us_worker *tls_worker;

void us_conn_bind_thread(struct us_worker *wk)
{
    tls_worker = wk;
}

/* ---- usrsctp output -------------------------------------------------- */

int us_conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    (void)tos, (void)set_df;
    struct us_ep *ep = addr;
    struct us_worker *wk = ep->wk;
    if (wk == tls_worker) {
        /* the owner's own call into usrsctp (send, input, its timers on worker 0) */
        if (ep->ssl_on && ep->hs_done)
            us_dtls_write(ep, buf, len);
        return 0;
    }
    /* another thread's usrsctp timer: the owner encrypts and sends it */
    pthread_mutex_lock(&wk->fo_lock);
    if (wk->fo_n < US_FOREIGN_SLOTS && len <= sizeof(wk->fo[0].data)) {
        struct us_foreign *f = &wk->fo[wk->fo_n];
        f->ep = ep;
        f->len = (uint16_t)len;
        memcpy(f->data, buf, len);
        __atomic_store_n(&wk->fo_n, wk->fo_n + 1,
                         __ATOMIC_RELAXED); /* the owner peeks at it unlocked */
    } else {
        wk->fo_dropped++;
    }
    pthread_mutex_unlock(&wk->fo_lock);
    return 0;
}

bool us_foreign_flush(struct us_worker *wk)
{
    if (__atomic_load_n(&wk->fo_n, __ATOMIC_RELAXED) == 0)
        return false;
    pthread_mutex_lock(&wk->fo_lock);
    for (uint32_t i = 0; i < wk->fo_n; i++) {
        struct us_ep *ep = wk->fo[i].ep;
        if (ep->ssl_on && ep->hs_done)
            us_dtls_write(ep, wk->fo[i].data, wk->fo[i].len);
    }
    __atomic_store_n(&wk->fo_n, 0, __ATOMIC_RELAXED);
    uint64_t lost = wk->fo_dropped;
    wk->fo_dropped = 0;
    pthread_mutex_unlock(&wk->fo_lock);
    if (lost)
        ri_add(wk->m->live.drops[RI_DROP_TX_FULL], lost);
    return true;
}

/* ---- set-up ---------------------------------------------------------- */

void us_ep_send(struct us_ep *ep, const uint8_t *d, size_t n)
{
    struct ri_counters *c = &ep->wk->m->live;
    const struct us_ctx *ctx = ep->wk->ctx;
    if (ctx->tx) {
        ctx->tx(ctx->tx_arg, ep, d, n);
    } else if (send(ep->fd, d, n, MSG_DONTWAIT) < 0) {
        ri_add(c->drops[RI_DROP_TX_FULL], 1);
        return;
    }
    ri_add(c->pkts_tx, 1);
    ri_add(c->bytes_tx, n + 42); /* as L2 frames: Ethernet, IPv4, UDP headers */
}

/* Counts connection c up (or given up) for both its endpoints (the
 * per-agent figures; the baseline runs unsharded). */
static void us_count_conn_agents(struct us_worker *wk, const struct us_conn *c, bool up)
{
    const struct ri_edge *ed = &wk->ctx->ri.edges[c->edge];
    if (!wk->av.a)
        return;
    if (up) {
        wk->av.a[ed->a].conn_up++;
        wk->av.a[ed->b].conn_up++;
    } else {
        wk->av.a[ed->a].conn_failed++;
        wk->av.a[ed->b].conn_failed++;
    }
}

static void ice_transmit(struct us_ep *ep, uint64_t now)
{
    uint8_t buf[512];
    size_t n;
    while ((n = ice_poll_transmit(&ep->ice, buf, sizeof(buf), now)) > 0)
        us_ep_send(ep, buf, n);
}

/* Closes ep's SCTP socket (an ABORT goes out while DTLS is still up) and
 * frees its DTLS context. */
static void ep_release(struct us_worker *wk, struct us_ep *ep)
{
    if (ep->sock) {
        struct linger l = {1, 0};
        usrsctp_setsockopt(ep->sock, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        usrsctp_close(ep->sock);
        usrsctp_deregister_address(ep);
        ep->sock = NULL;
    }
    if (ep->ssl_on && !ep->hs_done && wk->hs_active)
        wk->hs_active--;
    us_dtls_free(ep);
    ep->sctp_up = ep->dc_open = false;
}

static void setup_remove(struct us_worker *wk, struct us_conn *c)
{
    uint32_t pos = c->setup_pos;
    uint32_t last = wk->setup[--wk->n_setup];
    wk->setup[pos] = last;
    wk->conns[last].setup_pos = pos;
}

static void attempt_failed(struct us_worker *wk, struct us_conn *c, enum ri_stage stage)
{
    ri_add(wk->m->live.conn_attempt_failed[stage], 1);
    ep_release(wk, &c->ep[0]);
    ep_release(wk, &c->ep[1]);
    setup_remove(wk, c);
    if (c->attempts < wk->ctx->ri.cfg->setup_attempts) {
        c->state = US_CONN_QUEUED;
        wk->queue[(wk->q_head + wk->q_len++) % wk->n_conns] = (uint32_t)(c - wk->conns);
    } else {
        c->state = US_CONN_GIVEN_UP;
        us_count_conn_agents(wk, c, false);
        ri_add(wk->m->live.conn_given_up, 1);
    }
}

static enum ri_stage stage_of(const struct us_ep *ep)
{
    if (ep->failed)
        return (enum ri_stage)ep->fail_stage;
    switch (ep->stage) {
    case US_EP_ICE:
        return RI_STAGE_ICE;
    case US_EP_DTLS:
        return RI_STAGE_DTLS;
    case US_EP_SCTP:
        return RI_STAGE_SCTP;
    default:
        return RI_STAGE_DC;
    }
}

static void ep_fail(struct us_worker *wk, struct us_conn *c, struct us_ep *ep, enum ri_stage stage)
{
    if (c->state != US_CONN_SETUP)
        return;
    ep->failed = true;
    ep->fail_stage = (uint8_t)stage;
    attempt_failed(wk, c, stage);
}

static void reach(struct us_worker *wk, struct us_ep *ep, enum us_ep_stage st)
{
    ep->stage = (uint8_t)st;
    ep->t_stage[st] = wk->now;
}

static void established(struct us_worker *wk, struct us_conn *c)
{
    const struct us_ep *p = &c->ep[0];
    struct met_hist *h = wk->m->setup;
    uint64_t now = wk->now;
    met_hist_record(&h[RI_STAGE_ICE], p->t_stage[US_EP_DTLS] - p->t_stage[US_EP_ICE]);
    met_hist_record(&h[RI_STAGE_DTLS], p->t_stage[US_EP_SCTP] - p->t_stage[US_EP_DTLS]);
    met_hist_record(&h[RI_STAGE_SCTP], p->t_stage[US_EP_DC] - p->t_stage[US_EP_SCTP]);
    met_hist_record(&h[RI_STAGE_DC], now - p->t_stage[US_EP_DC]);
    met_hist_record(&h[RI_SETUP_TOTAL], now - c->t_attempt);
    met_hist_record(&h[RI_SETUP_DTLS + 0], now - c->t_attempt); /* mbedTLS 2.28: DTLS 1.2 only */
    setup_remove(wk, c);
    c->state = US_CONN_UP;
    us_count_conn_agents(wk, c, true);
    ri_add(wk->m->live.conn_established, 1);
    ri_add(wk->m->live.conn_dtls_up[0], 1);
}

static void channel_open(struct us_worker *wk, struct us_conn *c, int s)
{
    struct us_ep *ep = &c->ep[s];
    if (ep->dc_open)
        return;
    ep->dc_open = true;
    reach(wk, ep, US_EP_UP);
    c->up_mask |= (uint8_t)(1u << s);
    if (c->up_mask == 3 && c->state == US_CONN_SETUP)
        established(wk, c);
}

static void ep_dtls_begin(struct us_worker *wk, struct us_conn *c, int s)
{
    const struct ri_edge *ed = &wk->ctx->ri.edges[c->edge];
    struct us_ep *ep = &c->ep[s];
    uint32_t own = s ? ed->b + 1 : ed->a, peer = s ? ed->a : ed->b + 1;
    uint8_t fp[32];
    memcpy(fp, wk->certs[peer % US_N_CERTS].fingerprint, 32);
    wk->hs_active++;
    if (wk->hs_active > wk->hs_high_water) {
        wk->hs_high_water = wk->hs_active;
        ri_set(wk->m->live.hs_slot_high_water, wk->hs_high_water);
    }
    if (us_dtls_start(ep, own % US_N_CERTS, fp) != 0)
        ep_fail(wk, c, ep, RI_STAGE_DTLS);
}

static int sctp_sockopts(struct socket *s)
{
    usrsctp_set_non_blocking(s, 1);
    const int on = 1, sndbuf = 256 * 1024, rcvbuf = 1024 * 1024, pd = (int)RI_MSG_MAX;
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on));
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on));
    usrsctp_setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    usrsctp_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &pd, sizeof(pd));
    struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC,
                                  .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof(av));
    uint16_t evs[] = {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SEND_FAILED_EVENT};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        struct sctp_event e = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = evs[i], .se_on = 1};
        usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof(e));
    }
    /* RTO bounds as WebRTC stacks set them (libdatachannel: max 10 s) */
    struct sctp_rtoinfo rto = {.srto_assoc_id = SCTP_FUTURE_ASSOC,
                               .srto_initial = 1000,
                               .srto_max = 10000,
                               .srto_min = 200};
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto));
    struct sctp_initmsg im = {.sinit_num_ostreams = US_N_STREAMS,
                              .sinit_max_instreams = US_N_STREAMS};
    return usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im));
}

static void set_mtu(struct us_ep *ep)
{
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof(pp));
    pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = US_SCTP_MTU;
    struct sockaddr_conn *sc = (struct sockaddr_conn *)&pp.spp_address;
    sc->sconn_family = AF_CONN;
    sc->sconn_port = htons(US_SCTP_PORT);
    sc->sconn_addr = ep;
    usrsctp_setsockopt(ep->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp));
}

/* The DTLS handshake of ep is done: the SCTP association starts (both
 * ends connect, as WebRTC stacks do: an INIT collision is SCTP's to solve). */
static void ep_sctp_begin(struct us_worker *wk, struct us_conn *c, int s)
{
    struct us_ep *ep = &c->ep[s];
    if (wk->hs_active)
        wk->hs_active--;
    reach(wk, ep, US_EP_SCTP);
    usrsctp_register_address(ep);
    struct socket *so = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!so) {
        usrsctp_deregister_address(ep);
        ep_fail(wk, c, ep, RI_STAGE_SCTP);
        return;
    }
    ep->sock = so;
    sctp_sockopts(so);
    struct sockaddr_conn sc = {
        .sconn_family = AF_CONN, .sconn_port = htons(US_SCTP_PORT), .sconn_addr = ep};
    if (usrsctp_bind(so, (struct sockaddr *)&sc, sizeof(sc)) < 0 ||
        (usrsctp_connect(so, (struct sockaddr *)&sc, sizeof(sc)) < 0 && errno != EINPROGRESS)) {
        ep_fail(wk, c, ep, RI_STAGE_SCTP);
        return;
    }
    set_mtu(ep);
}

static int sctp_send(struct us_ep *ep, uint16_t sid, uint32_t ppid, const void *m, size_t len,
                     bool dcep)
{
    const struct ri_config *cfg = ep->wk->ctx->ri.cfg;
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof(spa));
    spa.sendv_sndinfo.snd_sid = sid;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR;
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    if (!dcep) {
        /* the channel type as DCEP announced it (RFC 8832 §5.1) */
        if (cfg->dc_type & 0x80)
            spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
        uint8_t pr = cfg->dc_type & 0x7f;
        if (pr == 0x01 || pr == 0x02) {
            spa.sendv_prinfo.pr_policy = pr == 0x01 ? SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
            spa.sendv_prinfo.pr_value = cfg->dc_reliability;
            spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        }
    }
    ssize_t n = usrsctp_sendv(ep->sock, m, len, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
    if (n < 0)
        return errno == EWOULDBLOCK || errno == EAGAIN ? -EAGAIN : -errno;
    return 0;
}

/* DATA_CHANNEL_OPEN (RFC 8832 §5.1) on stream 0: the DTLS client opens
 * even streams. */
static void dcep_open(struct us_worker *wk, struct us_conn *c, struct us_ep *ep)
{
    const struct ri_config *cfg = wk->ctx->ri.cfg;
    static const char label[] = "swarm";
    uint8_t m[12 + sizeof(label) - 1];
    m[0] = 0x03;
    m[1] = cfg->dc_type;
    m[2] = 0, m[3] = 0; /* priority */
    uint32_t rel = htonl(cfg->dc_type & 0x7f ? cfg->dc_reliability : 0);
    memcpy(m + 4, &rel, 4);
    uint16_t ll = htons(sizeof(label) - 1), pl = 0;
    memcpy(m + 8, &ll, 2);
    memcpy(m + 10, &pl, 2);
    memcpy(m + 12, label, sizeof(label) - 1);
    ep->sid = 0;
    if (sctp_send(ep, ep->sid, US_PPID_DCEP, m, sizeof(m), true) < 0)
        ep_fail(wk, c, ep, RI_STAGE_DC);
}

static void on_dcep(struct us_worker *wk, struct us_conn *c, int s, uint16_t sid, const uint8_t *d,
                    size_t n)
{
    struct us_ep *ep = &c->ep[s];
    if (n >= 12 && d[0] == 0x03) { /* OPEN: answer with ACK, the channel is open here */
        ep->sid = sid;
        uint8_t ack = 0x02;
        if (sctp_send(ep, sid, US_PPID_DCEP, &ack, 1, true) < 0) {
            ep_fail(wk, c, ep, RI_STAGE_DC);
            return;
        }
        channel_open(wk, c, s);
    } else if (n >= 1 && d[0] == 0x02 && sid == ep->sid) {
        channel_open(wk, c, s);
    } else {
        ri_add(wk->m->live.drops[RI_DROP_BAD_SCTP], 1);
    }
}

static void conn_lost(struct us_worker *wk, struct us_conn *c, struct us_ep *ep)
{
    if (c->state == US_CONN_SETUP) {
        ep_fail(wk, c, ep, stage_of(ep));
    } else if (c->state == US_CONN_UP) {
        ri_add(wk->m->live.conn_closed, 1);
        ep_release(wk, &c->ep[0]);
        ep_release(wk, &c->ep[1]);
        c->state = US_CONN_CLOSED;
    }
}

static void on_notification(struct us_worker *wk, struct us_conn *c, int s, const uint8_t *d)
{
    const union sctp_notification *n = (const void *)d;
    struct us_ep *ep = &c->ep[s];
    switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        if (n->sn_assoc_change.sac_state == SCTP_COMM_UP && !ep->sctp_up) {
            ep->sctp_up = true;
            set_mtu(ep);
            reach(wk, ep, US_EP_DC);
            if (s == 0)
                dcep_open(wk, c, ep);
        } else if (n->sn_assoc_change.sac_state == SCTP_COMM_LOST ||
                   n->sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP ||
                   n->sn_assoc_change.sac_state == SCTP_CANT_STR_ASSOC) {
            conn_lost(wk, c, ep);
        }
        break;
    case SCTP_SEND_FAILED_EVENT:
        /* PR-SCTP gave a message up: not a message outcome (as swarmgen-dp) */
        ri_add(wk->m->live.drops[RI_DROP_ABANDONED], 1);
        break;
    default:
        break;
    }
}

/* Reads every whole message and notification usrsctp has for endpoint s. */
static void ep_drain(struct us_worker *wk, struct us_conn *c, int s)
{
    const struct ri_edge *ed = &wk->ctx->ri.edges[c->edge];
    uint32_t receiver = s ? ed->b : ed->a;
    while (c->ep[s].sock && (c->state == US_CONN_SETUP || c->state == US_CONN_UP)) {
        struct sctp_rcvinfo ri;
        socklen_t ilen = sizeof(ri), flen = 0;
        unsigned int itype = 0;
        int flags = 0;
        ssize_t n = usrsctp_recvv(c->ep[s].sock, wk->rx, RI_MSG_MAX, NULL, &flen, &ri, &ilen,
                                  &itype, &flags);
        if (n < 0)
            return;
        if (n == 0) { /* EOF: the association is gone */
            conn_lost(wk, c, &c->ep[s]);
            return;
        }
        if (!(flags & MSG_EOR)) { /* larger than the partial delivery point: never ours */
            ri_add(wk->m->live.drops[RI_DROP_BAD_MESSAGE], 1);
            continue;
        }
        if (flags & MSG_NOTIFICATION) {
            on_notification(wk, c, s, wk->rx);
            continue;
        }
        uint32_t ppid = ntohl(ri.rcv_ppid);
        if (ppid == US_PPID_DCEP)
            on_dcep(wk, c, s, ri.rcv_sid, wk->rx, (size_t)n);
        else if (ppid == US_PPID_BINARY && c->ep[s].dc_open && c->state == US_CONN_UP)
            us_on_message(wk, receiver, c->edge, wk->rx, (uint32_t)n);
        else
            ri_add(wk->m->live.drops[RI_DROP_CONN_DOWN], 1);
    }
}

static void ep_ice_events(struct us_worker *wk, struct us_conn *c, int s)
{
    struct us_ep *ep = &c->ep[s];
    struct ice_ev ev;
    while (c->state == US_CONN_SETUP && ice_poll_event(&ep->ice, &ev) != ICE_EV_NONE) {
        if (ev.type == ICE_EV_CONNECTED && ep->stage == US_EP_ICE) {
            reach(wk, ep, US_EP_DTLS);
            if (s ==
                0) /* the client starts the handshake; the server waits since the attempt began */
                ep_dtls_begin(wk, c, s);
        } else if (ev.type == ICE_EV_FAILED && ep->stage == US_EP_ICE) {
            ep_fail(wk, c, ep, RI_STAGE_ICE);
        }
    }
}

static void start_attempt(struct us_worker *wk, struct us_conn *c)
{
    const struct us_ctx *ctx = wk->ctx;
    const struct ri_config *cfg = ctx->ri.cfg;
    const struct ri_edge *ed = &ctx->ri.edges[c->edge];
    char uf[2][9], pw[2][25];
    for (int s = 0; s < 2; s++)
        agent_credentials(cfg->seed, c->edge, s, c->attempts, uf[s], pw[s]);
    c->attempts++;
    ri_add(wk->m->live.conn_attempts, 1);
    c->state = US_CONN_SETUP;
    c->up_mask = 0;
    c->t_attempt = wk->now;
    c->setup_pos = wk->n_setup;
    wk->setup[wk->n_setup++] = (uint32_t)(c - wk->conns);
    for (int s = 0; s < 2; s++) {
        struct us_ep *ep = &c->ep[s];
        ep->failed = false;
        ep->sctp_up = ep->dc_open = false;
        memset(ep->t_stage, 0, sizeof(ep->t_stage));
        reach(wk, ep, US_EP_ICE);
        uint32_t peer = s ? ed->a : ed->b;
        uint32_t pip = us_loop_ip(ctx->ri.agents[peer].ip);
        uint16_t pport = s ? ed->port_a : ed->port_b;
        struct ice_config ic = {
            s == 0 ? ICE_CONTROLLING : ICE_CONTROLLED,
            false,
            rng_mix(cfg->seed +
                   ((uint64_t)c->edge << 9 | (uint64_t)c->attempts << 1 | (uint64_t)s)) |
                1,
            2130706431u,
            uf[s],
            pw[s],
            uf[1 - s],
            pw[1 - s],
            {4,
             pport,
             {(uint8_t)(pip >> 24), (uint8_t)(pip >> 16), (uint8_t)(pip >> 8), (uint8_t)pip}}};
        if (ice_init(&ep->ice, &ic) != 0) {
            ep_fail(wk, c, ep, RI_STAGE_ICE);
            return;
        }
        memcpy(ep->client_id, ic.peer.ip, 4);
        ep->client_id[4] = (uint8_t)(pport >> 8);
        ep->client_id[5] = (uint8_t)pport;
    }
    /* the server waits for the ClientHello from the start */
    ep_dtls_begin(wk, c, 1);
    for (int s = 0; s < 2 && c->state == US_CONN_SETUP; s++) {
        ice_start(&c->ep[s].ice, wk->now);
        ice_transmit(&c->ep[s], wk->now);
    }
}

static void conn_deadlines(struct us_worker *wk, struct us_conn *c)
{
    uint64_t now = wk->now;
    if (now >= c->t_attempt + ATTEMPT_TIMEOUT_NS) {
        enum ri_stage a = stage_of(&c->ep[0]), b = stage_of(&c->ep[1]);
        attempt_failed(wk, c, a < b ? a : b);
        return;
    }
    for (int s = 0; s < 2 && c->state == US_CONN_SETUP; s++) {
        struct us_ep *ep = &c->ep[s];
        if (ice_next_timeout(&ep->ice) <= now) {
            ice_handle_timeout(&ep->ice, now);
            ice_transmit(ep, now);
            ep_ice_events(wk, c, s);
        }
        if (c->state == US_CONN_SETUP && us_dtls_timer_due(ep)) {
            int rc = us_dtls_step(ep);
            if (rc < 0)
                ep_fail(wk, c, ep, RI_STAGE_DTLS);
            else if (rc == 1)
                ep_sctp_begin(wk, c, s);
        }
    }
}

bool us_conns_poll(struct us_worker *wk)
{
    const struct ri_config *cfg = wk->ctx->ri.cfg;
    bool did = false;
    while (wk->q_len && wk->n_setup < cfg->setup_cap) {
        struct us_conn *c = &wk->conns[wk->queue[wk->q_head]];
        wk->q_head = (wk->q_head + 1) % wk->n_conns;
        wk->q_len--;
        start_attempt(wk, c);
        did = true;
    }
    for (uint32_t i = 0; i < wk->n_setup;) {
        struct us_conn *c = &wk->conns[wk->setup[i]];
        conn_deadlines(wk, c);
        /* a connection that left set-up was replaced at i by the last one */
        if (i < wk->n_setup && &wk->conns[wk->setup[i]] == c)
            i++;
    }
    return did;
}

void us_conns_sweep(struct us_worker *wk)
{
    for (uint32_t i = 0; i < wk->n_conns; i++) {
        struct us_conn *c = &wk->conns[i];
        if (c->state == US_CONN_UP) {
            ep_drain(wk, c, 0);
            ep_drain(wk, c, 1);
        }
    }
}

/* ---- datagrams in ---------------------------------------------------- */

static void ep_dtls_input(struct us_worker *wk, struct us_conn *c, int s, const uint8_t *d,
                          size_t len)
{
    struct us_ep *ep = &c->ep[s];
    if (!ep->ssl_on)
        return; /* before our side of the handshake began: the peer retransmits */
    ep->in = d;
    ep->in_len = len;
    if (!ep->hs_done) {
        int rc = us_dtls_step(ep);
        if (rc < 0) {
            ep->in = NULL;
            ep_fail(wk, c, ep, RI_STAGE_DTLS);
            return;
        }
        if (rc == 1)
            ep_sctp_begin(wk, c, s);
        if (!ep->hs_done) {
            ep->in = NULL;
            return;
        }
    }
    /* records (those left after the handshake's last one, too): each one's
     * plaintext is an SCTP packet */
    uint8_t pt[US_DGRAM_MAX];
    for (;;) {
        int n = us_dtls_read(ep, pt, sizeof(pt));
        if (n == 0)
            break;
        if (n < 0) {
            ep->in = NULL;
            conn_lost(wk, c, ep);
            return;
        }
        if (ep->sock)
            usrsctp_conninput(ep, pt, (size_t)n, 0);
        if (c->state != US_CONN_SETUP && c->state != US_CONN_UP)
            break;
    }
    ep->in = NULL;
    if (c->state == US_CONN_SETUP || c->state == US_CONN_UP)
        ep_drain(wk, c, s);
}

void us_ep_input(struct us_worker *wk, struct us_conn *c, int s, const uint8_t *d, size_t len)
{
    struct ri_counters *m = &wk->m->live;
    if (c->state != US_CONN_SETUP && c->state != US_CONN_UP) {
        ri_add(m->drops[RI_DROP_CONN_DOWN], 1);
        return;
    }
    if (len == 0) {
        ri_add(m->drops[RI_DROP_TRUNCATED], 1);
        return;
    }
    uint8_t b = d[0];
    if (b <= 3) { /* STUN (RFC 7983) */
        struct us_ep *ep = &c->ep[s];
        if (ice_handle_input(&ep->ice, d, len, wk->now) != ENGINE_IN_ACCEPTED)
            ri_add(m->drops[RI_DROP_BAD_STUN], 1);
        ice_transmit(ep, wk->now);
        ep_ice_events(wk, c, s);
    } else if (b >= 20 && b <= 63) {
        ep_dtls_input(wk, c, s, d, len);
    } else {
        ri_add(m->drops[RI_DROP_NOT_WEBRTC], 1);
    }
}

/* ---- agent messages -------------------------------------------------- */

void us_send_msg(struct us_worker *wk, uint32_t from, uint32_t e, const uint8_t *msg, uint32_t len)
{
    const struct us_ctx *ctx = wk->ctx;
    uint32_t owner = ctx->ri.edges[e].worker;
    if (owner != wk->idx) {
        if (us_ring_push(ctx->ring[wk->idx][owner], e, from, msg, len) != 0)
            agent_drop(wk->m, RI_DROP_HANDOFF_FULL);
        else
            ri_add(wk->m->live.handoff_out, 1);
        return;
    }
    struct us_conn *c = &wk->conns[ctx->edge_local[e]];
    if (c->state != US_CONN_UP) {
        agent_drop(wk->m, RI_DROP_CONN_DOWN);
        if (wk->av.a)
            wk->av.a[from].drop_send++;
        return;
    }
    struct us_ep *ep = &c->ep[ctx->ri.edges[e].a == from ? 0 : 1];
    int rc = sctp_send(ep, ep->sid, US_PPID_BINARY, msg, len, false);
    if (rc == 0) {
        ri_add(wk->m->live.dc_msgs_tx, 1);
        if (wk->av.a)
            wk->av.a[from].dc_bytes_tx += len;
    } else {
        agent_drop(wk->m, rc == -EAGAIN ? RI_DROP_SEND_BLOCKED : RI_DROP_CONN_DOWN);
        if (wk->av.a)
            wk->av.a[from].drop_send++;
    }
}

void us_on_message(struct us_worker *wk, uint32_t receiver, uint32_t e, uint8_t *msg, uint32_t len)
{
    const struct us_ctx *ctx = wk->ctx;
    const struct agent_clock clock = {.ns_per_cycle = ctx->ns_per_cycle};
    const struct agent_mesh mesh = {&ctx->ri, ctx->sig_keys, &clock, &wk->av};
    uint32_t out;
    if (agent_receive(&mesh, wk->m, receiver, e, msg, len, us_rdtsc(), &out) == AGENT_SEND)
        us_send_msg(wk, receiver, out, msg, len);
}

void us_generate(struct us_worker *wk, uint32_t n, uint32_t n_active)
{
    const struct us_ctx *ctx = wk->ctx;
    const struct ri_config *cfg = ctx->ri.cfg;
    uint32_t len = cfg->msg_size;
    uint8_t *msg = wk->gen;
    for (uint32_t i = 0; i < n; i++) {
        struct traffic_msg t;
        if (traffic_next(&wk->traffic, &ctx->ri, wk->m, n_active, &t) != TRAFFIC_SEND)
            continue;
        agent_msg_write(msg, len, t.src, t.dst, t.seq, wk->tsc, cfg->sign ? &ctx->sig_keys[t.src] : NULL);
        us_send_msg(wk, t.src, t.edge, msg, len);
    }
}
