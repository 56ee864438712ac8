/* SPDX-License-Identifier: MIT */
/*
 * usrsctp_ep: Debian's libusrsctp as a world endpoint, in AF_CONN mode
 * without its threads (usrsctp_init_nothreads): packets leave through the
 * conn_output callback into the world's pipe, enter with
 * usrsctp_conninput, and its timers advance by usrsctp_handle_timers() on
 * the world's virtual clock (a 10 ms tick). One usrsctp stack per process
 * (it is global), at most one association. Messages and notifications come
 * back to the test as sctp_events, so the same checks run against both
 * stacks. Header-only, for tests/sctp.
 */
#ifndef SWARMGEN_TESTS_SCTP_USRSCTP_EP_H
#define SWARMGEN_TESTS_SCTP_USRSCTP_EP_H

#include <arpa/inet.h>
#include <errno.h>
#include <sys/time.h>
#include <time.h>
#include <usrsctp.h>

#include "sctp_world.h"
#include "vclock_tod.h"

#define USR_TICK_NS 10000000ull

struct usr_ep {
    int side;
    bool server;
    struct socket *lsock, *sock;
    uint8_t *rbuf;
    size_t rfill;
    uint64_t last_tick;     /* virtual ns at the last usrsctp_handle_timers */
    bool up, down;
    uint32_t mtu;
    uint64_t notifications, sends_blocked;
};

static struct world *usr_world;
static int usr_side;
static uint8_t usr_token[2];

static int usr_conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    (void)tos;
    (void)set_df;
    (void)addr; /* one usrsctp endpoint per world: it is usr_side */
    world_emit(usr_world, usr_side, buf, len);
    return 0;
}

/* usrsctp reads the wall clock (gettimeofday) for RTT samples, lifetimes
 * and for which chunks a T3 expiry may retransmit (those sent at least an
 * RTO ago); its timers run on usrsctp_handle_timers. Both must be the
 * world's virtual clock, or a T3 that fires after 200 virtual ms finds
 * nothing old enough in real time and resends nothing. This definition in
 * the test executable interposes on the one libusrsctp imports. */
int gettimeofday(struct timeval *__restrict tv, void *__restrict tz);
int gettimeofday(struct timeval *__restrict tv, void *__restrict tz)
{
    (void)tz;
    vclock_tod(tv, usr_world != NULL, usr_world ? usr_world->now : 0);
    return 0;
}

static inline struct usr_ep *usr_of(struct world *w, int side) { return w->other[side]; }

static inline void usr_event(struct world *w, int side, const struct sctp_ev *ev, const uint8_t *d)
{
    if (w->on_event)
        w->on_event(w, side, ev, d);
}

static inline void usr_sockopts(struct usr_ep *u, struct socket *s)
{
    usrsctp_set_non_blocking(s, 1);
    const int on = 1, big = 16 << 20;
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on));
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on));
    usrsctp_setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    usrsctp_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC, .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof(av));
    uint16_t evs[] = {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SHUTDOWN_EVENT};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        struct sctp_event e = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = evs[i], .se_on = 1};
        usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof(e));
    }
    /* RTO bounds as WebRTC stacks set them (libdatachannel: max 10 s) */
    struct sctp_rtoinfo rto = {.srto_assoc_id = SCTP_FUTURE_ASSOC, .srto_initial = 1000, .srto_max = 10000,
                               .srto_min = 200};
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto));
    struct sctp_initmsg im = {.sinit_num_ostreams = 16, .sinit_max_instreams = 16};
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im));
    (void)u;
}

static inline void usr_set_mtu(struct usr_ep *u)
{
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof(pp));
    pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = u->mtu;
    struct sockaddr_conn *sc = (struct sockaddr_conn *)&pp.spp_address;
    sc->sconn_family = AF_CONN;
    sc->sconn_port = htons(5000);
    sc->sconn_addr = &usr_token[u->side];
    usrsctp_setsockopt(u->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp));
}

static inline void usr_notification(struct world *w, struct usr_ep *u, const uint8_t *d)
{
    const union sctp_notification *n = (const void *)d;
    struct sctp_ev ev = {0};
    u->notifications++;
    switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        if (n->sn_assoc_change.sac_state == SCTP_COMM_UP && !u->up) {
            u->up = true;
            usr_set_mtu(u);
            ev.type = SCTP_EV_UP;
            usr_event(w, u->side, &ev, NULL);
        } else if (n->sn_assoc_change.sac_state == SCTP_COMM_LOST ||
                   n->sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP ||
                   n->sn_assoc_change.sac_state == SCTP_CANT_STR_ASSOC) {
            if (!u->down) {
                u->down = true;
                ev.type = SCTP_EV_DOWN;
                ev.down_reason = n->sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP ? SCTP_DOWN_SHUTDOWN
                                                                                      : SCTP_DOWN_ABORT_RECEIVED;
                usr_event(w, u->side, &ev, NULL);
            }
        }
        break;
    case SCTP_STREAM_RESET_EVENT: {
        const struct sctp_stream_reset_event *r = &n->sn_strreset_event;
        if (!(r->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN))
            break;
        int ns = (int)(r->strreset_length - sizeof(*r)) / 2;
        for (int i = 0; i < ns; i++) {
            ev.type = SCTP_EV_STREAM_RESET;
            ev.sid = r->strreset_stream_list[i];
            usr_event(w, u->side, &ev, NULL);
        }
        break;
    }
    default:
        break;
    }
}

static inline void usr_drain(struct world *w, struct usr_ep *u)
{
    if (!u->sock && u->lsock) {
        struct socket *s = usrsctp_accept(u->lsock, NULL, NULL);
        if (s) {
            u->sock = s;
            usr_sockopts(u, s);
            usr_set_mtu(u);
            u->up = true;
            struct sctp_ev ev = {.type = SCTP_EV_UP};
            usr_event(w, u->side, &ev, NULL);
        }
    }
    if (!u->sock)
        return;
    for (;;) {
        struct sctp_rcvinfo ri;
        socklen_t ilen = sizeof(ri), flen = 0;
        unsigned int itype = 0;
        int flags = 0;
        ssize_t n = usrsctp_recvv(u->sock, u->rbuf + u->rfill, (1u << 20) - u->rfill, NULL, &flen, &ri, &ilen,
                                  &itype, &flags);
        if (n < 0)
            break;
        if (n == 0) {
            if (!u->down) { /* EOF: the association is gone */
                u->down = true;
                struct sctp_ev ev = {.type = SCTP_EV_DOWN, .down_reason = SCTP_DOWN_SHUTDOWN};
                usr_event(w, u->side, &ev, NULL);
            }
            break;
        }
        u->rfill += (size_t)n;
        if (!(flags & MSG_EOR))
            continue;
        if (flags & MSG_NOTIFICATION) {
            usr_notification(w, u, u->rbuf);
        } else {
            struct sctp_ev ev = {.type = SCTP_EV_MESSAGE, .sid = ri.rcv_sid, .ppid = ntohl(ri.rcv_ppid),
                                    .len = (uint32_t)u->rfill, .unordered = (ri.rcv_flags & SCTP_UNORDERED) != 0};
            usr_event(w, u->side, &ev, u->rbuf);
        }
        u->rfill = 0;
    }
}

static inline void usr_flush(struct world *w, int side) { usr_drain(w, usr_of(w, side)); }

static inline void usr_input(struct world *w, int side, const uint8_t *pkt, size_t len)
{
    usrsctp_conninput(&usr_token[side], pkt, len, 0);
    usr_drain(w, usr_of(w, side));
}

static inline void usr_timeout(struct world *w, int side)
{
    struct usr_ep *u = usr_of(w, side);
    uint64_t ms = (w->now - u->last_tick) / 1000000ull;
    if (ms) {
        u->last_tick += ms * 1000000ull;
        usrsctp_handle_timers((uint32_t)ms);
    }
    usr_drain(w, u);
}

static inline uint64_t usr_next(struct world *w, int side)
{
    struct usr_ep *u = usr_of(w, side);
    return u->down && !u->sock ? UINT64_MAX : u->last_tick + USR_TICK_NS;
}

static inline int usr_send(struct world *w, int side, uint16_t sid, uint32_t ppid, const uint8_t *m, size_t len,
                           const struct sctp_send_opts *o)
{
    struct usr_ep *u = usr_of(w, side);
    if (!u->sock || !u->up)
        return -ENOTCONN;
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof(spa));
    spa.sendv_sndinfo.snd_sid = sid;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (o && o->unordered ? SCTP_UNORDERED : 0);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    if (o && o->pr != SCTP_PR_NONE) {
        spa.sendv_prinfo.pr_policy = o->pr == SCTP_PR_RTX ? SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = o->pr_value;
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    }
    ssize_t n = usrsctp_sendv(u->sock, m, len, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
    if (n < 0) {
        if (errno == EWOULDBLOCK || errno == EAGAIN) {
            u->sends_blocked++;
            return -EAGAIN;
        }
        return -errno;
    }
    return 0;
}

static const struct endpoint_ops usr_ops = {usr_flush, usr_input, usr_timeout, usr_next, usr_send};

/* The usrsctp stack, once per process. */
static inline void usr_stack_init(void)
{
    usrsctp_init_nothreads(0, usr_conn_output, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_sendspace(16 << 20);
    usrsctp_sysctl_set_sctp_recvspace(16 << 20);
}

/* usrsctp on `side`, as server (listening) or client (connect now). */
static inline struct usr_ep *world_usrsctp(struct world *w, int side, bool server)
{
    struct usr_ep *u = calloc(1, sizeof(*u));
    u->side = side;
    u->server = server;
    u->rbuf = malloc(1u << 20);
    u->last_tick = w->now;
    u->mtu = 1200;
    usr_world = w;
    usr_side = side;
    w->other[side] = u;
    w->ops[side] = &usr_ops;
    usrsctp_register_address(&usr_token[side]);
    struct socket *s = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!s)
        return NULL;
    usr_sockopts(u, s);
    struct sockaddr_conn sc = {.sconn_family = AF_CONN, .sconn_port = htons(5000), .sconn_addr = &usr_token[side]};
    if (usrsctp_bind(s, (struct sockaddr *)&sc, sizeof(sc)) < 0)
        return NULL;
    if (server) {
        u->lsock = s;
        if (usrsctp_listen(s, 1) < 0)
            return NULL;
    } else {
        u->sock = s;
        if (usrsctp_connect(s, (struct sockaddr *)&sc, sizeof(sc)) < 0 && errno != EINPROGRESS)
            return NULL;
    }
    return u;
}

/* Resets usrsctp's outgoing stream `sid`. */
static inline int usr_reset_stream(struct usr_ep *u, uint16_t sid)
{
    uint8_t b[sizeof(struct sctp_reset_streams) + 2];
    struct sctp_reset_streams *r = (void *)b;
    r->srs_assoc_id = SCTP_ALL_ASSOC;
    r->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    r->srs_number_streams = 1;
    r->srs_stream_list[0] = sid;
    return usrsctp_setsockopt(u->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, r, sizeof(b));
}

/* SO_LINGER 0 then close: usrsctp sends ABORT. */
static inline void usr_abort(struct usr_ep *u)
{
    struct linger l = {1, 0};
    usrsctp_setsockopt(u->sock, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    usrsctp_close(u->sock);
    u->sock = NULL;
    u->down = true;
}

#endif
