/* SPDX-License-Identifier: MIT */
/*
 * The WHIP client flow (RFC 9725): POST the offer (application/sdp, a
 * bearer token when configured) to the endpoint URL ("{agent}" in it
 * becomes the agent's index), expect 201 Created with a Location (resolved
 * against the endpoint URL when relative) and the answer; at the end
 * DELETE the Location. Any other status fails the session: 4xx, 5xx by
 * class; 1xx-3xx and a 201 without Location as protocol.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target_sess.h"

enum { W_POST = 0, W_DELETE = 1 };

/* The endpoint URL of session s: cfg.url with "{agent}" replaced. */
static int endpoint(const struct ctl_target *tg, const struct tsess *s, char *out, size_t cap)
{
    const char *u = tg->cfg.url, *ph = strstr(u, "{agent}");
    int n = ph ? snprintf(out, cap, "%.*s%u%s", (int)(ph - u), u, s->idx, ph + 7)
               : snprintf(out, cap, "%s", u);
    return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

static int whip_send(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    if (s->step == W_DELETE)
        return tgt_http_start(tg->http, r, TGT_DELETE, s->url, NULL, NULL, 0, tg->cfg.token,
                              tgt_timeout_ms(tg));
    char url[600];
    int rc = endpoint(tg, s, url, sizeof(url));
    if (rc < 0)
        return rc;
    int len = tgt_make_offer(tg, s);
    if (len < 0)
        return len;
    return tgt_http_start(tg->http, r, TGT_POST, url, "application/sdp", tg->buf, (size_t)len,
                          tg->cfg.token, tgt_timeout_ms(tg));
}

static void whip_done(struct ctl_target *tg, struct tsess *s, struct tgt_req *r)
{
    if (s->step == W_DELETE) {
        tgt_ended(tg, s, r->status >= 200 && r->status < 300);
        return;
    }
    if (r->status != 201) {
        tgt_fail_req(tg, s, r, "WHIP POST");
        return;
    }
    char url[600], loc[600];
    if (r->location[0] == '\0') {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 201, "WHIP POST: 201 without Location");
        return;
    }
    if (endpoint(tg, s, url, sizeof(url)) != 0 ||
        tgt_url_resolve(url, r->location, loc, sizeof(loc)) != 0) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 201, "WHIP POST: Location is not a URL");
        return;
    }
    s->url = strdup(loc);
    if (!s->url) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 201, "out of memory");
        return;
    }
    s->has_resource = true;
    char *res = tg->res.client[s->idx].resource; /* as much as fits: for the report */
    size_t n = strnlen(loc, sizeof(tg->res.client[0].resource) - 1);
    memcpy(res, loc, n);
    res[n] = '\0';
    tgt_answer(tg, s, r->resp ? r->resp : "", r->resp_len);
}

static void whip_teardown(struct ctl_target *tg, struct tsess *s)
{
    (void)tg;
    s->step = W_DELETE;
}

static bool whip_can_cancel(const struct tsess *s)
{
    (void)s;
    return false; /* a POST in flight may create a resource; a DELETE must finish */
}

const struct tgt_flow tgt_whip_flow = {
    .send = whip_send,
    .done = whip_done,
    .teardown = whip_teardown,
    .tick = NULL,
    .can_cancel = whip_can_cancel,
};
