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

#include "json_read.h"
#include "target_sess.h"

enum { J_CREATE, J_ATTACH, J_MESSAGE, J_POLL, J_KEEPALIVE, J_DETACH, J_DESTROY };

#define KEEPALIVE_NS(tg) ((tg)->cfg.keepalive_ns ? (tg)->cfg.keepalive_ns : 25ull * 1000000000ull)

/* Appends s as a JSON string body (no quotes) to out[cap] at *o. */
static bool json_escape(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        int k;
        if (c == '"' || c == '\\')
            k = snprintf(e, sizeof(e), "\\%c", c);
        else if (c == '\r')
            k = snprintf(e, sizeof(e), "\\r");
        else if (c == '\n')
            k = snprintf(e, sizeof(e), "\\n");
        else if (c < 0x20)
            k = snprintf(e, sizeof(e), "\\u%04x", c);
        else
            k = snprintf(e, sizeof(e), "%c", c);
        if (*o + (size_t)k + 1 > cap)
            return false;
        memcpy(out + *o, e, (size_t)k);
        *o += (size_t)k;
    }
    out[*o] = '\0';
    return true;
}

/* The base URL without a trailing '/'. */
static int base_len(const struct ctl_target *tg)
{
    size_t n = strlen(tg->cfg.url);
    while (n > 0 && tg->cfg.url[n - 1] == '/')
        n--;
    return (int)n;
}

static int post(struct ctl_target *tg, struct tgt_req *r, const char *url, const char *json)
{
    return tgt_http_start(tg->http, r, TGT_POST, url, "application/json", json, strlen(json), NULL,
                          tgt_timeout_ms(tg));
}

static int janus_send(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    char url[700], json[8192];
    const char *u = tg->cfg.url;
    int bl = base_len(tg);
    tgt_txn(tg, s->txn);
    switch (s->step) {
    case J_CREATE:
        snprintf(url, sizeof(url), "%.*s", bl, u);
        snprintf(json, sizeof(json), "{\"janus\":\"create\",\"transaction\":\"%s\"}", s->txn);
        return post(tg, r, url, json);
    case J_ATTACH:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(
            json, sizeof(json),
            "{\"janus\":\"attach\",\"plugin\":\"janus.plugin.echotest\",\"transaction\":\"%s\"}",
            s->txn);
        return post(tg, r, url, json);
    case J_MESSAGE: {
        snprintf(url, sizeof(url), "%.*s/%" PRIu64 "/%" PRIu64, bl, u, s->janus_sid, s->janus_hid);
        int len = tgt_make_offer(tg, s);
        if (len < 0)
            return len;
        size_t o =
            (size_t)snprintf(json, sizeof(json),
                             "{\"janus\":\"message\",\"transaction\":\"%s\",\"body\":{\"audio\":%s,"
                             "\"video\":false,\"data\":true},\"jsep\":{\"type\":\"offer\","
                             "\"trickle\":false,\"sdp\":\"",
                             s->txn, tg->cfg.audio ? "true" : "false");
        if (!json_escape(json, sizeof(json), &o, tg->buf, (size_t)len) || o + 4 > sizeof(json))
            return -ENOSPC;
        memcpy(json + o, "\"}}", 4);
        return post(tg, r, url, json);
    }
    case J_POLL:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64 "?maxev=10&rid=%" PRIu64, bl, u, s->janus_sid,
                 (uint64_t)(tgt_now_ns() / 1000000ull));
        return tgt_http_start(tg->http, r, TGT_GET, url, NULL, NULL, 0, NULL, tgt_timeout_ms(tg));
    case J_KEEPALIVE:
        TGT_ADD(tg->res.keepalives, 1);
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(json, sizeof(json), "{\"janus\":\"keepalive\",\"transaction\":\"%s\"}", s->txn);
        return post(tg, r, url, json);
    case J_DETACH:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64 "/%" PRIu64, bl, u, s->janus_sid, s->janus_hid);
        snprintf(json, sizeof(json), "{\"janus\":\"detach\",\"transaction\":\"%s\"}", s->txn);
        return post(tg, r, url, json);
    case J_DESTROY:
    default:
        snprintf(url, sizeof(url), "%.*s/%" PRIu64, bl, u, s->janus_sid);
        snprintf(json, sizeof(json), "{\"janus\":\"destroy\",\"transaction\":\"%s\"}", s->txn);
        return post(tg, r, url, json);
    }
}

/* The string member `key` of object `obj` unescaped into out[cap]; false
 * when absent, not a string, or not decodable. */
static bool str_member(const struct jr_doc *d, int obj, const char *key, char *out, size_t cap)
{
    int n = jr_member(d, obj, key);
    if (n < 0 || d->node[n].type != JR_STR)
        return false;
    return tgt_json_unescape(d->node[n].raw, d->node[n].raw_len, out, cap) >= 0;
}

/* Why a janus:error reply failed ("code reason"). */
static void error_text(const struct jr_doc *d, int obj, char *out, size_t cap)
{
    int e = jr_member(d, obj, "error");
    char reason[64] = "";
    uint64_t code = 0;
    int c = jr_member(d, e, "code");
    if (c >= 0)
        jr_u64(d, c, &code);
    str_member(d, e, "reason", reason, sizeof(reason));
    snprintf(out, cap, "%" PRIu64 " %s", code, reason);
}

/* A plugin error in an event's plugindata.data: true and why in out. */
static bool plugin_error(const struct jr_doc *d, int ev, char *out, size_t cap)
{
    int data = jr_find(d, ev, "plugindata.data");
    int err = jr_member(d, data, "error");
    int code = jr_member(d, data, "error_code");
    if (err < 0 && code < 0)
        return false;
    char why[64] = "";
    uint64_t c = 0;
    if (code >= 0)
        jr_u64(d, code, &c);
    str_member(d, data, "error", why, sizeof(why));
    snprintf(out, cap, "%" PRIu64 " %s", c, why);
    return true;
}

/* An event of ours with a jsep answer: hands it over; true when the event
 * settled the session (answer, or failure). */
static bool take_event(struct ctl_target *tg, struct tsess *s, const struct jr_doc *d, int ev)
{
    char kind[24], why[128];
    if (!str_member(d, ev, "janus", kind, sizeof(kind)))
        return false;
    uint64_t sender = 0;
    int snd = jr_member(d, ev, "sender");
    bool ours = snd >= 0 && jr_u64(d, snd, &sender) && sender == s->janus_hid;
    if (strcmp(kind, "error") == 0) {
        error_text(d, ev, why, sizeof(why));
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "Janus error %s", why);
        return true;
    }
    if (!ours)
        return false;
    if (strcmp(kind, "hangup") == 0 || strcmp(kind, "detached") == 0) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "Janus %s before the answer", kind);
        return true;
    }
    if (strcmp(kind, "event") != 0)
        return false;
    if (plugin_error(d, ev, why, sizeof(why))) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "EchoTest error %s", why);
        return true;
    }
    int jsep = jr_member(d, ev, "jsep");
    if (jsep < 0)
        return false;
    char type[16];
    int sdp = jr_member(d, jsep, "sdp");
    if (!str_member(d, jsep, "type", type, sizeof(type)) || strcmp(type, "answer") != 0 ||
        sdp < 0 || d->node[sdp].type != JR_STR) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "Janus jsep is not an answer with an sdp");
        return true;
    }
    size_t cap = d->node[sdp].raw_len + 1;
    char *text = malloc(cap);
    int n = text ? tgt_json_unescape(d->node[sdp].raw, d->node[sdp].raw_len, text, cap) : -ENOMEM;
    if (n < 0)
        tgt_fail(tg, s, CTL_TGT_CAUSE_SDP, 0, "Janus jsep sdp is not a JSON string we can read");
    else
        tgt_answer(tg, s, text, (size_t)n);
    free(text);
    return true;
}

static void janus_done(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    static const char *const names[] = {"create",    "attach", "message", "long poll",
                                        "keepalive", "detach", "destroy"};
    const char *what = names[s->step < 7 ? s->step : 6];
    bool ok_http = r->status >= 200 && r->status < 300;
    struct jr_doc d = {0};
    size_t off;
    bool parsed = ok_http && r->resp && jr_parse(&d, r->resp, r->resp_len, &off) == 0;
    char kind[24] = "", txn[24] = "", why[128];
    if (parsed && d.n > 0 && d.node[0].type == JR_OBJ) {
        str_member(&d, 0, "janus", kind, sizeof(kind));
        str_member(&d, 0, "transaction", txn, sizeof(txn));
    }
    bool mine = strcmp(txn, s->txn) == 0;

    switch (s->step) {
    case J_KEEPALIVE:
        break; /* a lost keepalive shows as the session's end, nothing to do here */
    case J_DETACH:
        tgt_want(tg, s, J_DESTROY);
        break;
    case J_DESTROY:
        tgt_ended(tg, s, parsed && strcmp(kind, "success") == 0);
        break;
    case J_CREATE:
    case J_ATTACH:
    case J_MESSAGE:
    case J_POLL:
        if (!ok_http) {
            if (s->step == J_POLL && r->status == 0 && r->transport == CTL_TGT_CAUSE_TIMEOUT)
                tgt_fail(tg, s, CTL_TGT_CAUSE_TIMEOUT, 0, "Janus: no answer event in time");
            else
                tgt_fail_req(tg, s, r, what);
            break;
        }
        if (!parsed) {
            tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, r->status, "Janus %s: reply is not JSON", what);
            break;
        }
        if (s->step == J_POLL) {
            bool settled = false;
            if (d.node[0].type == JR_ARR) {
                for (int e = jr_next_child(&d, 0, 0); e >= 0 && !settled;
                     e = jr_next_child(&d, 0, e))
                    settled = take_event(tg, s, &d, e);
            } else {
                settled = take_event(tg, s, &d, 0);
            }
            if (settled)
                break;
            if (tgt_now_ns() >= s->deadline_ns)
                tgt_fail(tg, s, CTL_TGT_CAUSE_TIMEOUT, 0, "Janus: no answer event in time");
            else
                tgt_want(tg, s, J_POLL);
            break;
        }
        if (strcmp(kind, "error") == 0) {
            error_text(&d, 0, why, sizeof(why));
            tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, r->status, "Janus %s: error %s", what, why);
            break;
        }
        if (!mine) {
            tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, r->status,
                     "Janus %s: reply of another transaction", what);
            break;
        }
        if (s->step == J_MESSAGE) {
            if (strcmp(kind, "ack") == 0) {
                s->deadline_ns = tgt_now_ns() + tg->cfg.http_timeout_ns;
                tgt_want(tg, s, J_POLL);
            } else if (!take_event(tg, s, &d, 0)) {
                tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, r->status,
                         "Janus message: neither ack nor answer");
            }
            break;
        }
        uint64_t id = 0;
        int idn = jr_find(&d, 0, "data.id");
        if (strcmp(kind, "success") != 0 || idn < 0 || !jr_u64(&d, idn, &id) || id == 0) {
            tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, r->status, "Janus %s: no success with data.id",
                     what);
            break;
        }
        struct ctl_target_client *c = &tg->res.client[s->idx];
        if (s->step == J_CREATE) {
            s->janus_sid = id;
            s->has_resource = true;
            snprintf(c->resource, sizeof(c->resource), "janus:%" PRIu64, id);
            tgt_want(tg, s, J_ATTACH);
        } else {
            s->janus_hid = id;
            snprintf(c->resource, sizeof(c->resource), "janus:%" PRIu64 "/%" PRIu64, s->janus_sid,
                     id);
            tgt_want(tg, s, J_MESSAGE);
        }
        break;
    }
    if (s->state == TS_LIVE && s->next_ka_ns == 0)
        s->next_ka_ns = tgt_now_ns() + KEEPALIVE_NS(tg);
    jr_free(&d);
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
