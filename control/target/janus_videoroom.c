/* SPDX-License-Identifier: MIT */
/*
 * The Janus VideoRoom flow (janus-videoroom:URL,rooms=R,publishers=P),
 * one Janus session and one janus.plugin.videoroom handle per simulated
 * agent. The agents are split into R rooms of contiguous blocks
 * (ctl_target_room_of); in each room the first P publish, the others
 * subscribe to all P.
 *
 *   every session:  POST /janus {create} -> S;  POST /janus/S {attach videoroom} -> H
 *   the room's first publisher (its creator):
 *     POST /janus/S/H {message, body:{request:create, room, publishers:P, audiocodec:opus,
 *                      is_private:true, permanent:false}} -> success "created"
 *   publishers (once the room exists):
 *     POST /janus/S/H {message, body:{request:joinandconfigure, ptype:publisher, room, id:FEED},
 *                      jsep:{offer, trickle:false}} -> ack; long poll -> "joined" + jsep answer
 *     -> the slot (as EchoTest)
 *   subscribers (once every publisher of the room is up in the dataplane):
 *     POST /janus/S/H {message, body:{request:join, ptype:subscriber, room,
 *                      streams:[{feed:F1},...]}} -> ack; long poll -> "attached" + jsep OFFER
 *     our answer (sub_answer.c), the slot published (answerer: ICE controlled, DTLS client,
 *     the feeds' SSRCs), then
 *     POST /janus/S/H {message, body:{request:start}, jsep:{answer}} -> ack
 *   keepalives as janus_client.c; at the end the creator destroys the room
 *   ({request:destroy, room} -> success "destroyed"), then every session
 *   detaches and destroys as EchoTest's.
 *
 * Room and feed ids are drawn per run (below 2^53: JSON numbers): room
 * room_base + r, the feed of agent i feed_base + i. A subscriber joins
 * only once its room's publishers are UP in the dataplane: Janus lists a
 * feed only after its PeerConnection is up ("No such feed" before). A
 * room whose creator failed fails its other sessions (cause protocol);
 * subscribers of a room with a failed publisher fail too; a session
 * parked longer than three HTTP timeouts (50 s at most) fails (timeout).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splitmix.h"
#include "target_sess.h"

enum {
    V_CREATE,
    V_ATTACH,
    V_ROOM,
    V_JOIN,
    V_POLL,
    V_START,
    V_KEEPALIVE,
    V_DESTROY_ROOM,
    V_DETACH,
    V_DESTROY,
};

/* What tgt_janus_read is to expect of each step's reply. */
static const int read_as[] = {
    [V_CREATE] = TGT_J_CREATE,       [V_ATTACH] = TGT_J_ATTACH,
    [V_ROOM] = TGT_J_MESSAGE,        [V_JOIN] = TGT_J_MESSAGE,
    [V_POLL] = TGT_J_POLL,           [V_START] = TGT_J_MESSAGE,
    [V_KEEPALIVE] = TGT_J_KEEPALIVE, [V_DESTROY_ROOM] = TGT_J_MESSAGE,
    [V_DETACH] = TGT_J_DETACH,       [V_DESTROY] = TGT_J_DESTROY,
};
static const char *const step_name[] = {
    "create", "attach",    "create room",  "join",   "long poll",
    "start",  "keepalive", "destroy room", "detach", "destroy",
};

#define KEEPALIVE_NS(tg) ((tg)->cfg.keepalive_ns ? (tg)->cfg.keepalive_ns : 25ull * 1000000000ull)

/* A subscriber between Janus's offer and the ack of its start. */
struct vr_pending {
    struct tgt_answer a;
    struct tgt_feeds f;
    char *sdp; /* our answer */
    size_t len;
};

struct tgt_vr {
    uint64_t room_base, feed_base;
    struct vr_pending **pend; /* per session, NULL none */
};

static uint64_t room_id(const struct ctl_target *tg, uint32_t r)
{
    return tg->vr->room_base + r;
}

static uint64_t feed_id(const struct ctl_target *tg, uint32_t agent)
{
    return tg->vr->feed_base + agent;
}

static bool is_creator(const struct ctl_target *tg, const struct tsess *s)
{
    const struct ctl_target_client *c = &tg->res.client[s->idx];
    return s->idx == ctl_target_room_first(&tg->cfg, c->room);
}

int tgt_vr_init(struct ctl_target *tg)
{
    struct tgt_vr *v = calloc(1, sizeof(*v));
    uint32_t R = tg->cfg.rooms;
    tg->res.n_rooms = R;
    tg->res.room = calloc(R, sizeof(*tg->res.room));
    if (v)
        v->pend = calloc(tg->cfg.n_sessions, sizeof(*v->pend));
    if (!v || !v->pend || !tg->res.room) {
        if (v)
            free(v->pend);
        free(v);
        return -ENOMEM;
    }
    /* ids below 2^53 (JSON numbers), apart for every run */
    v->room_base = 1 + (splitmix64(&tg->rng) & ((1ull << 44) - 1)) * 64;
    v->feed_base = 1 + (splitmix64(&tg->rng) & ((1ull << 44) - 1)) * 64;
    for (uint32_t r = 0; r < R; r++)
        tg->res.room[r].id = v->room_base + r;
    tg->vr = v;
    return 0;
}

void tgt_vr_free(struct ctl_target *tg)
{
    struct tgt_vr *v = tg->vr;
    if (!v)
        return;
    for (uint32_t i = 0; i < tg->cfg.n_sessions; i++)
        if (v->pend[i]) {
            free(v->pend[i]->sdp);
            free(v->pend[i]);
        }
    free(v->pend);
    free(v);
    tg->vr = NULL;
}

static void pend_drop(struct ctl_target *tg, struct tsess *s)
{
    struct vr_pending *p = tg->vr->pend[s->idx];
    if (p) {
        free(p->sdp);
        free(p);
        tg->vr->pend[s->idx] = NULL;
    }
}

static int vr_send(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    char url[1600], json[12288];
    const char *u = tg->cfg.url;
    int bl = tgt_janus_base_len(tg);
    const struct ctl_target_client *c = &tg->res.client[s->idx];
    tgt_txn(tg, s->txn);
    /* --target-token: Janus's api_secret, in every request */
    char auth[300], query[800];
    tgt_janus_auth(tg, auth, sizeof(auth), query, sizeof(query));
    switch (s->step) {
    case V_CREATE:
        snprintf(url, sizeof(url), "%.*s", bl, u);
        snprintf(json, sizeof(json), "{%s\"janus\":\"create\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    case V_ATTACH:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(
            json, sizeof(json),
            "{%s\"janus\":\"attach\",\"plugin\":\"janus.plugin.videoroom\",\"transaction\":\"%s\"}",
            auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    case V_POLL:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64 "?maxev=10&rid=%" PRIu64 "%s", bl, u, s->janus_sid,
                 (uint64_t)(tgt_now_ns() / 1000000ull), query);
        return tgt_http_start(tg->http, r, TGT_GET, url, NULL, NULL, 0, NULL, tgt_timeout_ms(tg));
    case V_KEEPALIVE:
        TGT_ADD(tg->res.keepalives, 1);
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(json, sizeof(json), "{%s\"janus\":\"keepalive\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    case V_DESTROY:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(json, sizeof(json), "{%s\"janus\":\"destroy\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    default:
        break;
    }
    /* the handle's requests */
    snprintf(url, sizeof(url), "%.*s/%" PRIu64 "/%" PRIu64, bl, u, s->janus_sid, s->janus_hid);
    uint64_t room = room_id(tg, c->room);
    size_t o;
    switch (s->step) {
    case V_ROOM:
        snprintf(json, sizeof(json),
                 "{%s\"janus\":\"message\",\"transaction\":\"%s\",\"body\":{\"request\":\"create\","
                 "\"room\":%" PRIu64 ",\"description\":\"swarmgen room %u\",\"publishers\":%u,"
                 "\"audiocodec\":\"opus\",\"is_private\":true,\"permanent\":false,"
                 "\"notify_joining\":false}}",
                 auth, s->txn, room, c->room, tg->cfg.publishers);
        return tgt_janus_post(tg, r, url, json);
    case V_DESTROY_ROOM:
        snprintf(json, sizeof(json),
                 "{%s\"janus\":\"message\",\"transaction\":\"%s\",\"body\":{\"request\":\"destroy\","
                 "\"room\":%" PRIu64 ",\"permanent\":false}}",
                 auth, s->txn, room);
        return tgt_janus_post(tg, r, url, json);
    case V_JOIN:
        if (c->role == CTL_TGT_ROLE_PUBLISHER) {
            int len = tgt_make_offer(tg, s);
            if (len < 0)
                return len;
            o = (size_t)snprintf(
                json, sizeof(json),
                "{%s\"janus\":\"message\",\"transaction\":\"%s\",\"body\":{\"request\":"
                "\"joinandconfigure\",\"ptype\":\"publisher\",\"room\":%" PRIu64 ",\"id\":%" PRIu64
                ",\"display\":\"agent-%u\"}",
                auth, s->txn, room, feed_id(tg, s->idx), s->idx);
            int rc = tgt_janus_with_jsep(json, sizeof(json), o, "offer", tg->buf, (size_t)len);
            return rc < 0 ? rc : tgt_janus_post(tg, r, url, json);
        }
        o = (size_t)snprintf(json, sizeof(json),
                             "{%s\"janus\":\"message\",\"transaction\":\"%s\",\"body\":{\"request\":"
                             "\"join\",\"ptype\":\"subscriber\",\"room\":%" PRIu64 ",\"streams\":[",
                             auth, s->txn, room);
        for (uint32_t k = 0; k < tg->cfg.publishers; k++)
            o += (size_t)snprintf(json + o, sizeof(json) - o, "%s{\"feed\":%" PRIu64 "}",
                                  k ? "," : "",
                                  feed_id(tg, ctl_target_room_first(&tg->cfg, c->room) + k));
        snprintf(json + o, sizeof(json) - o, "]}}");
        return tgt_janus_post(tg, r, url, json);
    case V_START: {
        struct vr_pending *p = tg->vr->pend[s->idx];
        if (!p)
            return -EINVAL;
        o = (size_t)snprintf(json, sizeof(json),
                             "{%s\"janus\":\"message\",\"transaction\":\"%s\",\"body\":{\"request\":"
                             "\"start\",\"room\":%" PRIu64 "}",
                             auth, s->txn, room);
        int rc = tgt_janus_with_jsep(json, sizeof(json), o, "answer", p->sdp, p->len);
        return rc < 0 ? rc : tgt_janus_post(tg, r, url, json);
    }
    case V_DETACH:
    default:
        snprintf(json, sizeof(json), "{%s\"janus\":\"detach\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    }
}

/* Whether the publishers of room r are all up in the dataplane (1), one
 * of them failed (-1: *bad its agent, *why what happened), or not yet (0). */
static int publishers_up(const struct ctl_target *tg, uint32_t r, uint32_t *bad, const char **why)
{
    uint32_t first = ctl_target_room_first(&tg->cfg, r);
    int all = 1;
    for (uint32_t k = 0; k < tg->cfg.publishers; k++) {
        const struct tsess *p = &tg->sess[first + k];
        *bad = first + k;
        if (tg->res.client[first + k].cause != CTL_TGT_CAUSE_NONE) {
            *why = "its signalling failed";
            return -1;
        }
        if (p->state == TS_DONE || p->state == TS_TEARDOWN) {
            *why = "it ended";
            return -1;
        }
        if (!p->published || !p->took) {
            all = 0;
            continue;
        }
        uint32_t st = ri_load(&ri_target_slot(tg->t, first + k)->dp_state);
        if (st == RI_TGT_FAILED || st == RI_TGT_CLOSED) {
            *why =
                st == RI_TGT_FAILED ? "its peer connection failed" : "its peer connection closed";
            return -1;
        }
        if (st != RI_TGT_UP)
            all = 0;
    }
    return all;
}

/* s may go on to its join (or the creator to its room): queue it, or park it. */
static void vr_next(struct ctl_target *tg, struct tsess *s)
{
    const struct ctl_target_client *c = &tg->res.client[s->idx];
    bool go;
    if (is_creator(tg, s))
        go = true; /* creates the room first */
    else if (c->role == CTL_TGT_ROLE_PUBLISHER)
        go = tg->res.room[c->room].created;
    else
        go = tg->res.room[c->room].created &&
             publishers_up(tg, c->room, &(uint32_t){0}, &(const char *){NULL}) == 1;
    if (go) {
        s->waiting = false;
        tgt_want(tg, s, is_creator(tg, s) && !tg->res.room[c->room].created ? V_ROOM : V_JOIN);
    } else if (!s->waiting) {
        s->waiting = true;
        s->wait_since_ns = tgt_now_ns();
    }
}

/* Janus's offer to subscriber s: our answer, its pending slot. */
static void vr_offer(struct ctl_target *tg, struct tsess *s, const char *sdp, size_t len)
{
    struct vr_pending *p = calloc(1, sizeof(*p));
    char why[128];
    if (!p) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "out of memory");
        return;
    }
    if (tgt_answer_parse(sdp, len, tg->cfg.audio, &p->a, tg->work, why, sizeof(why)) != 0) {
        free(p);
        tgt_fail(tg, s, CTL_TGT_CAUSE_SDP, 0, "Janus offer: %s",
                 why + (strncmp(why, "answer: ", 8) ? 0 : 8));
        return;
    }
    /* we answer setup:active whatever the offer said (Janus: actpass) */
    p->a.dtls_client = true;
    p->a.audio = false; /* nothing of ours to send */
    const struct ctl_target_client *c = &tg->res.client[s->idx];
    uint32_t first = ctl_target_room_first(&tg->cfg, c->room);
    p->f.n = (uint8_t)tg->cfg.publishers;
    for (uint32_t k = 0; k < tg->cfg.publishers; k++)
        p->f.agent[k] = first + k;
    tgt_offer_ssrcs(sdp, len, p->f.ssrc, RI_TARGET_FEEDS);
    struct tgt_offer_params op = {
        .ip = tg->agents[s->idx].ip, .port = RI_TARGET_PORT, .sess_id = splitmix64(&tg->rng) >> 1};
    memcpy(op.ufrag, s->ufrag, sizeof(op.ufrag));
    memcpy(op.pwd, s->pwd, sizeof(op.pwd));
    memcpy(op.fingerprint, tg->x->fingerprint, 32);
    size_t cap = 2048 + 1024 * (size_t)tg->work->n_media;
    p->sdp = malloc(cap);
    int n = p->sdp ? tgt_sub_answer_write(&op, tg->work, p->sdp, cap) : -ENOMEM;
    if (n < 0) {
        free(p->sdp);
        free(p);
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "cannot write our answer (%s)", strerror(-n));
        return;
    }
    p->len = (size_t)n;
    tg->vr->pend[s->idx] = p;
    tgt_want(tg, s, V_START);
}

static void vr_done(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    bool ok_http = r->status >= 200 && r->status < 300;
    struct ctl_target_client *c = &tg->res.client[s->idx];
    bool sub = c->role == CTL_TGT_ROLE_SUBSCRIBER;
    struct tgt_janus_reply jr = {.verdict = TGT_JV_ERROR};
    if (ok_http)
        tgt_janus_read_jsep(r->resp ? r->resp : "", r->resp_len, read_as[s->step], s->txn,
                            s->janus_hid, sub ? "offer" : "answer", &jr);

    switch (s->step) {
    case V_KEEPALIVE:
        break;
    case V_DESTROY_ROOM:
        if (ok_http && jr.verdict == TGT_JV_SUCCESS)
            tg->res.room[c->room].destroyed = 1;
        tgt_want(tg, s, V_DETACH);
        break;
    case V_DETACH:
        tgt_want(tg, s, V_DESTROY);
        break;
    case V_DESTROY:
        pend_drop(tg, s);
        tgt_ended(tg, s, ok_http && jr.verdict == TGT_JV_SUCCESS);
        break;
    default:
        if (!ok_http) {
            if (s->step == V_POLL && r->status == 0 && r->transport == CTL_TGT_CAUSE_TIMEOUT)
                tgt_fail(tg, s, CTL_TGT_CAUSE_TIMEOUT, 0, "Janus: no %s event in time",
                         sub ? "offer" : "answer");
            else
                tgt_fail_req(tg, s, r, step_name[s->step]);
            break;
        }
        switch (jr.verdict) {
        case TGT_JV_ERROR:
            tgt_fail(tg, s, jr.cause, 0, "%s: %s", step_name[s->step], jr.why);
            break;
        case TGT_JV_SUCCESS:
            if (s->step == V_CREATE) {
                s->janus_sid = jr.id;
                s->has_resource = true;
                snprintf(c->resource, sizeof(c->resource), "janus:%" PRIu64, jr.id);
                tgt_want(tg, s, V_ATTACH);
            } else if (s->step == V_ATTACH) {
                s->janus_hid = jr.id;
                snprintf(c->resource, sizeof(c->resource), "janus:%" PRIu64 "/%" PRIu64,
                         s->janus_sid, jr.id);
                vr_next(tg, s);
            } else if (s->step == V_ROOM) {
                tg->res.room[c->room].created = 1;
                vr_next(tg, s);
            } else {
                tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "Janus %s: success, want ack",
                         step_name[s->step]);
            }
            break;
        case TGT_JV_ACK:
            if (s->step == V_START) { /* Janus has our answer: the dataplane's turn */
                struct vr_pending *p = tg->vr->pend[s->idx];
                tgt_publish(tg, s, &p->a, &p->f);
                pend_drop(tg, s);
                break;
            }
            if (s->step != V_JOIN) {
                tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "Janus %s: ack, want success",
                         step_name[s->step]);
                break;
            }
            s->deadline_ns = tgt_now_ns() + tg->cfg.http_timeout_ns;
            tgt_want(tg, s, V_POLL);
            break;
        case TGT_JV_ANSWER:
            if (sub)
                vr_offer(tg, s, jr.sdp, jr.sdp_len);
            else
                tgt_answer(tg, s, jr.sdp, jr.sdp_len);
            break;
        case TGT_JV_NOTHING:
            if (tgt_now_ns() >= s->deadline_ns)
                tgt_fail(tg, s, CTL_TGT_CAUSE_TIMEOUT, 0, "Janus: no %s event in time",
                         sub ? "offer" : "answer");
            else
                tgt_want(tg, s, V_POLL);
            break;
        }
    }
    free(jr.sdp);
    if (s->state == TS_LIVE && s->next_ka_ns == 0)
        s->next_ka_ns = tgt_now_ns() + KEEPALIVE_NS(tg);
}

static void vr_teardown(struct ctl_target *tg, struct tsess *s)
{
    const struct ctl_target_client *c = &tg->res.client[s->idx];
    s->waiting = false;
    if (s->janus_hid && is_creator(tg, s) && tg->res.room[c->room].created &&
        !tg->res.room[c->room].destroyed)
        s->step = V_DESTROY_ROOM;
    else
        s->step = s->janus_hid ? V_DETACH : V_DESTROY;
}

static void vr_tick(struct ctl_target *tg, struct tsess *s, uint64_t now)
{
    if (s->next_ka_ns == 0 || now < s->next_ka_ns || s->req >= 0 || s->queued)
        return;
    s->next_ka_ns = now + KEEPALIVE_NS(tg);
    tgt_want(tg, s, V_KEEPALIVE);
}

static bool vr_can_cancel(const struct tsess *s)
{
    return s->step == V_POLL || s->step == V_KEEPALIVE;
}

/* The parked sessions: on, or failed. Parked sessions are kept alive by
 * this too (a keepalive when one is due). */
static void vr_watch(struct ctl_target *tg, uint64_t now)
{
    /* three HTTP timeouts, within Janus's session timeout (60 s by
     * default: a parked session sends no keepalive) */
    uint64_t limit = 3 * tg->cfg.http_timeout_ns;
    if (limit > 50ull * 1000000000ull)
        limit = 50ull * 1000000000ull;
    for (uint32_t i = 0; i < tg->next_start; i++) {
        struct tsess *s = &tg->sess[i];
        if (!s->waiting || s->state != TS_SIGNAL || s->req >= 0 || s->queued)
            continue;
        const struct ctl_target_client *c = &tg->res.client[i];
        uint32_t first = ctl_target_room_first(&tg->cfg, c->room), bad = 0;
        const char *why = "";
        const struct tsess *creator = &tg->sess[first];
        if (!tg->res.room[c->room].created &&
            (tg->res.client[first].cause != CTL_TGT_CAUSE_NONE || creator->state == TS_DONE ||
             creator->state == TS_TEARDOWN)) {
            s->waiting = false;
            tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "room %u was not created", c->room);
        } else if (c->role == CTL_TGT_ROLE_SUBSCRIBER &&
                   publishers_up(tg, c->room, &bad, &why) < 0) {
            s->waiting = false;
            tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "publisher agent %u of room %u: %s", bad,
                     c->room, why);
        } else if (now > s->wait_since_ns && now - s->wait_since_ns > limit) {
            s->waiting = false;
            tgt_fail(tg, s, CTL_TGT_CAUSE_TIMEOUT, 0, "room %u not ready in time", c->room);
        } else {
            vr_next(tg, s);
        }
    }
}

const struct tgt_flow tgt_vr_flow = {
    .send = vr_send,
    .done = vr_done,
    .teardown = vr_teardown,
    .tick = vr_tick,
    .can_cancel = vr_can_cancel,
    .watch = vr_watch,
};
