/* SPDX-License-Identifier: MIT */
/*
 * The Janus HTTP API client flow (EchoTest plugin), one Janus session and
 * one handle per simulated agent:
 *
 *   POST /janus            {janus:create}            -> success, data.id = session
 *   POST /janus/S          {janus:attach, plugin}    -> success, data.id = handle
 *   POST /janus/S/H        {janus:message, body, jsep offer, trickle:false} -> ack
 *   GET  /janus/S?maxev=10 (long poll, again until the answer, at most the
 *                          HTTP timeout after the ack) -> event from H with jsep answer
 *   POST /janus/S          {janus:keepalive} every 25 s while the session lives
 *   POST /janus/S/H        {janus:detach}  }  at the end
 *   POST /janus/S          {janus:destroy} }
 *
 * Keepalive, not a standing long poll: Janus ends a session 60 s after its
 * last request; a keepalive every 25 s costs one short request per session
 * per 25 s, where a standing long poll would hold one connection per
 * session for the whole run (thousands of sockets on both sides, and
 * max_inflight taken). Events Janus queues meanwhile (webrtcup, media,
 * slowlink) are few per session and freed with it.
 *
 * Transactions are 16 random characters; a reply must carry ours. A
 * janus:error reply, an EchoTest error event, a reply that is not the JSON
 * the API documents: cause protocol; HTTP 4xx/5xx by class.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target_sess.h"

enum {
    J_CREATE = TGT_J_CREATE,
    J_ATTACH = TGT_J_ATTACH,
    J_MESSAGE = TGT_J_MESSAGE,
    J_POLL = TGT_J_POLL,
    J_KEEPALIVE = TGT_J_KEEPALIVE,
    J_DETACH = TGT_J_DETACH,
    J_DESTROY = TGT_J_DESTROY,
};

#define KEEPALIVE_NS(tg) ((tg)->cfg.keepalive_ns ? (tg)->cfg.keepalive_ns : 25ull * 1000000000ull)

static int janus_send(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    char url[1600], json[8192];
    const char *u = tg->cfg.url;
    int bl = tgt_janus_base_len(tg);
    tgt_txn(tg, s->txn);
    /* --target-token: Janus's api_secret, in every request */
    char auth[300], query[800];
    tgt_janus_auth(tg, auth, sizeof(auth), query, sizeof(query));
    switch (s->step) {
    case J_CREATE:
        snprintf(url, sizeof(url), "%.*s", bl, u);
        snprintf(json, sizeof(json), "{%s\"janus\":\"create\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    case J_ATTACH:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(
            json, sizeof(json),
            "{%s\"janus\":\"attach\",\"plugin\":\"janus.plugin.echotest\",\"transaction\":\"%s\"}",
            auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    case J_MESSAGE: {
        snprintf(url, sizeof(url), "%.*s/%" PRIu64 "/%" PRIu64, bl, u, s->janus_sid, s->janus_hid);
        int len = tgt_make_offer(tg, s);
        if (len < 0)
            return len;
        size_t o =
            (size_t)snprintf(json, sizeof(json),
                             "{%s\"janus\":\"message\",\"transaction\":\"%s\",\"body\":{\"audio\":%s,"
                             "\"video\":%s,\"data\":true},\"jsep\":{\"type\":\"offer\","
                             "\"trickle\":false,\"sdp\":\"",
                             auth, s->txn, tg->cfg.audio ? "true" : "false", tg->cfg.video ? "true" : "false");
        if (!tgt_json_escape(json, sizeof(json), &o, tg->buf, (size_t)len) || o + 4 > sizeof(json))
            return -ENOSPC;
        memcpy(json + o, "\"}}", 4);
        return tgt_janus_post(tg, r, url, json);
    }
    case J_POLL:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64 "?maxev=10&rid=%" PRIu64 "%s", bl, u, s->janus_sid,
                 (uint64_t)(tgt_now_ns() / 1000000ull), query);
        return tgt_http_start(tg->http, r, TGT_GET, url, NULL, NULL, 0, NULL, tgt_timeout_ms(tg));
    case J_KEEPALIVE:
        TGT_ADD(tg->res.keepalives, 1);
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(json, sizeof(json), "{%s\"janus\":\"keepalive\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    case J_DETACH:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64 "/%" PRIu64, bl, u, s->janus_sid, s->janus_hid);
        snprintf(json, sizeof(json), "{%s\"janus\":\"detach\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    case J_DESTROY:
    default:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(json, sizeof(json), "{%s\"janus\":\"destroy\",\"transaction\":\"%s\"}", auth, s->txn);
        return tgt_janus_post(tg, r, url, json);
    }
}

static void janus_done(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    bool ok_http = r->status >= 200 && r->status < 300;
    struct tgt_janus_reply jr = {.verdict = TGT_JV_ERROR};
    if (ok_http)
        tgt_janus_read(r->resp ? r->resp : "", r->resp_len, s->step, s->txn, s->janus_hid, &jr);
    struct ctl_target_client *c = &tg->res.client[s->idx];

    switch (s->step) {
    case J_KEEPALIVE:
        break; /* a lost keepalive shows as the session's end, nothing to do here */
    case J_DETACH:
        tgt_want(tg, s, J_DESTROY);
        break;
    case J_DESTROY:
        tgt_ended(tg, s, ok_http && jr.verdict == TGT_JV_SUCCESS);
        break;
    default:
        if (!ok_http) {
            if (s->step == J_POLL && r->status == 0 && r->transport == CTL_TGT_CAUSE_TIMEOUT)
                tgt_fail(tg, s, CTL_TGT_CAUSE_TIMEOUT, 0, "Janus: no answer event in time");
            else
                tgt_fail_req(tg, s, r, tgt_janus_step_name(s->step));
            break;
        }
        switch (jr.verdict) {
        case TGT_JV_ERROR:
            tgt_fail(tg, s, jr.cause, 0, "%s", jr.why);
            break;
        case TGT_JV_SUCCESS:
            if (s->step == J_MESSAGE) { /* EchoTest answers asynchronously */
                tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "Janus message: success, no answer");
            } else if (s->step == J_CREATE) {
                s->janus_sid = jr.id;
                s->has_resource = true;
                snprintf(c->resource, sizeof(c->resource), "janus:%" PRIu64, jr.id);
                tgt_want(tg, s, J_ATTACH);
            } else {
                s->janus_hid = jr.id;
                snprintf(c->resource, sizeof(c->resource), "janus:%" PRIu64 "/%" PRIu64,
                         s->janus_sid, jr.id);
                tgt_want(tg, s, J_MESSAGE);
            }
            break;
        case TGT_JV_ACK:
            s->deadline_ns = tgt_now_ns() + tg->cfg.http_timeout_ns;
            tgt_want(tg, s, J_POLL);
            break;
        case TGT_JV_ANSWER:
            tgt_answer(tg, s, jr.sdp, jr.sdp_len);
            break;
        case TGT_JV_NOTHING:
            if (tgt_now_ns() >= s->deadline_ns)
                tgt_fail(tg, s, CTL_TGT_CAUSE_TIMEOUT, 0, "Janus: no answer event in time");
            else
                tgt_want(tg, s, J_POLL);
            break;
        }
    }
    free(jr.sdp);
    if (s->state == TS_LIVE && s->next_ka_ns == 0)
        s->next_ka_ns = tgt_now_ns() + KEEPALIVE_NS(tg);
}

static void janus_teardown(struct ctl_target *tg, struct tsess *s)
{
    (void)tg;
    s->step = s->janus_hid ? J_DETACH : J_DESTROY;
}

static void janus_tick(struct ctl_target *tg, struct tsess *s, uint64_t now)
{
    if (s->next_ka_ns == 0 || now < s->next_ka_ns || s->req >= 0 || s->queued)
        return;
    s->next_ka_ns = now + KEEPALIVE_NS(tg);
    tgt_want(tg, s, J_KEEPALIVE);
}

static bool janus_can_cancel(const struct tsess *s)
{
    return s->step == J_POLL || s->step == J_KEEPALIVE;
}

const struct tgt_flow tgt_janus_flow = {
    .send = janus_send,
    .done = janus_done,
    .teardown = janus_teardown,
    .tick = janus_tick,
    .can_cancel = janus_can_cancel,
};
