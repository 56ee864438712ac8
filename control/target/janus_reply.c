/* SPDX-License-Identifier: MIT */
/* What a Janus HTTP API reply says (target_internal.h): pure, on the text
 * of the reply, so the flow (janus_client.c) only acts on a verdict and
 * the fuzz target can feed it anything. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "target_internal.h"

const char *tgt_janus_step_name(int step)
{
    static const char *const names[] = {"create",    "attach", "message", "long poll",
                                        "keepalive", "detach", "destroy"};
    return step >= 0 && step <= TGT_J_DESTROY ? names[step] : "?";
}

static enum tgt_janus_verdict error(struct tgt_janus_reply *out, enum ctl_target_cause cause,
                                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum tgt_janus_verdict error(struct tgt_janus_reply *out, enum ctl_target_cause cause,
                                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof(out->why), fmt, ap);
    va_end(ap);
    for (char *p = out->why; *p; p++) /* one line, whatever the server wrote */
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = ' ';
    out->cause = cause;
    return out->verdict = TGT_JV_ERROR;
}

/* The string member `key` of object `obj` decoded into out[cap]; false
 * when absent, not a string, or not decodable in cap. */
static bool str_member(const struct jr_doc *d, int obj, const char *key, char *out, size_t cap)
{
    int n = jr_member(d, obj, key);
    if (n < 0 || d->node[n].type != JR_STR)
        return false;
    return tgt_json_unescape(d->node[n].raw, d->node[n].raw_len, out, cap) >= 0;
}

/* "code reason" of an {error:{code, reason}} object, or of a plugin's
 * {error_code, error}. */
static void code_reason(const struct jr_doc *d, int obj, const char *code_key,
                        const char *reason_key, char *out, size_t cap)
{
    uint64_t code = 0;
    char reason[64] = "";
    int c = jr_member(d, obj, code_key);
    if (c >= 0 && !jr_u64(d, c, &code))
        code = 0;
    if (!str_member(d, obj, reason_key, reason, sizeof(reason)))
        reason[0] = '\0';
    snprintf(out, cap, "%" PRIu64 " %s", code, reason);
}

/* One event of a long poll (or a synchronous message reply): true when it
 * settled the session (ANSWER or ERROR in out). */
static bool event(const struct jr_doc *d, int ev, uint64_t hid, const char *want,
                  struct tgt_janus_reply *out)
{
    char kind[24], why[96];
    if (d->node[ev].type != JR_OBJ || !str_member(d, ev, "janus", kind, sizeof(kind)))
        return false;
    if (strcmp(kind, "error") == 0) {
        code_reason(d, jr_member(d, ev, "error"), "code", "reason", why, sizeof(why));
        error(out, strncmp(why, "403 ", 4) == 0 ? CTL_TGT_CAUSE_DENIED : CTL_TGT_CAUSE_PROTOCOL,
              "Janus error %s", why);
        return true;
    }
    uint64_t sender = 0;
    int snd = jr_member(d, ev, "sender");
    if (hid == 0 || snd < 0 || !jr_u64(d, snd, &sender) || sender != hid)
        return false; /* another handle's, or the session's keepalive */
    if (strcmp(kind, "hangup") == 0 || strcmp(kind, "detached") == 0) {
        error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus %s before the %s", kind, want);
        return true;
    }
    if (strcmp(kind, "event") != 0)
        return false; /* webrtcup, media, slowlink ... */
    int data = jr_find(d, ev, "plugindata.data");
    if (data >= 0 && (jr_member(d, data, "error") >= 0 || jr_member(d, data, "error_code") >= 0)) {
        code_reason(d, data, "error_code", "error", why, sizeof(why));
        error(out, CTL_TGT_CAUSE_PROTOCOL, "plugin error %s", why);
        return true;
    }
    int jsep = jr_member(d, ev, "jsep");
    if (jsep < 0)
        return false;
    char type[16];
    int sdp = jr_member(d, jsep, "sdp");
    if (!str_member(d, jsep, "type", type, sizeof(type)) || strcmp(type, want) != 0 ||
        sdp < 0 || d->node[sdp].type != JR_STR) {
        error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus jsep is not an %s with an sdp", want);
        return true;
    }
    size_t cap = d->node[sdp].raw_len + 1;
    out->sdp = malloc(cap);
    int n = out->sdp ? tgt_json_unescape(d->node[sdp].raw, d->node[sdp].raw_len, out->sdp, cap)
                     : -ENOMEM;
    if (n < 0) {
        free(out->sdp);
        out->sdp = NULL;
        error(out, CTL_TGT_CAUSE_SDP, "Janus jsep.sdp is not a JSON string we can read");
        return true;
    }
    out->sdp_len = (size_t)n;
    out->verdict = TGT_JV_ANSWER;
    return true;
}

enum tgt_janus_verdict tgt_janus_read(const char *body, size_t len, int step, const char *txn,
                                      uint64_t hid, struct tgt_janus_reply *out)
{
    return tgt_janus_read_jsep(body, len, step, txn, hid, "answer", out);
}

enum tgt_janus_verdict tgt_janus_read_jsep(const char *body, size_t len, int step, const char *txn,
                                           uint64_t hid, const char *want,
                                           struct tgt_janus_reply *out)
{
    memset(out, 0, sizeof(*out));
    const char *what = tgt_janus_step_name(step);
    struct jr_doc d = {0};
    size_t off = 0;
    if (jr_parse(&d, body, len, &off) != 0 || d.n == 0) {
        jr_free(&d);
        return error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus %s: reply is not JSON", what);
    }
    if (step == TGT_J_POLL) {
        out->verdict = TGT_JV_NOTHING;
        if (d.node[0].type == JR_ARR) {
            for (int e = jr_next_child(&d, 0, 0); e >= 0; e = jr_next_child(&d, 0, e))
                if (event(&d, e, hid, want, out))
                    break;
        } else if (!event(&d, 0, hid, want, out) && d.node[0].type != JR_OBJ) {
            error(out, CTL_TGT_CAUSE_PROTOCOL,
                  "Janus long poll: neither an event nor a list of them");
        }
        jr_free(&d);
        return out->verdict;
    }
    char kind[24] = "", t[64] = "", why[96];
    if (d.node[0].type != JR_OBJ || !str_member(&d, 0, "janus", kind, sizeof(kind))) {
        jr_free(&d);
        return error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus %s: reply has no \"janus\"", what);
    }
    if (strcmp(kind, "error") == 0) {
        code_reason(&d, jr_member(&d, 0, "error"), "code", "reason", why, sizeof(why));
        jr_free(&d);
        /* 403: JANUS_ERROR_UNAUTHORIZED, a wrong or missing apisecret/token */
        return error(out, strncmp(why, "403 ", 4) == 0 ? CTL_TGT_CAUSE_DENIED : CTL_TGT_CAUSE_PROTOCOL,
                     "Janus %s: error %s", what, why);
    }
    if (!str_member(&d, 0, "transaction", t, sizeof(t)) || strcmp(t, txn) != 0) {
        jr_free(&d);
        return error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus %s: reply of another transaction", what);
    }
    switch (step) {
    case TGT_J_CREATE:
    case TGT_J_ATTACH: {
        int idn = jr_find(&d, 0, "data.id");
        if (strcmp(kind, "success") != 0 || idn < 0 || !jr_u64(&d, idn, &out->id) || out->id == 0)
            error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus %s: no success with data.id", what);
        else
            out->verdict = TGT_JV_SUCCESS;
        break;
    }
    case TGT_J_MESSAGE:
        if (strcmp(kind, "ack") == 0) {
            out->verdict = TGT_JV_ACK;
        } else if (strcmp(kind, "success") == 0) { /* a synchronous plugin request */
            int data = jr_find(&d, 0, "plugindata.data");
            if (data >= 0 &&
                (jr_member(&d, data, "error") >= 0 || jr_member(&d, data, "error_code") >= 0)) {
                code_reason(&d, data, "error_code", "error", why, sizeof(why));
                error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus message: plugin error %s", why);
            } else {
                out->verdict = TGT_JV_SUCCESS;
            }
        } else if (!event(&d, 0, hid, want, out))
            error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus message: neither ack nor answer");
        break;
    case TGT_J_KEEPALIVE:
        if (strcmp(kind, "ack") == 0)
            out->verdict = TGT_JV_SUCCESS;
        else
            error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus keepalive: no ack");
        break;
    default:
        if (strcmp(kind, "success") == 0)
            out->verdict = TGT_JV_SUCCESS;
        else
            error(out, CTL_TGT_CAUSE_PROTOCOL, "Janus %s: no success", what);
        break;
    }
    jr_free(&d);
    return out->verdict;
}
