/* SPDX-License-Identifier: MIT */
/* What the signalling flows call on a session (target_sess.h): queue a
 * request, fail, hand an answer to its slot, end; and the small helpers
 * they share (offer, transaction ids, timeouts). Target thread only. */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "met_stats.h"
#include "splitmix.h"
#include "target_sess.h"

int tgt_buf(struct ctl_target *tg, size_t cap)
{
    if (tg->buf_cap >= cap)
        return 0;
    char *p = realloc(tg->buf, cap);
    if (!p)
        return -ENOMEM;
    tg->buf = p;
    tg->buf_cap = cap;
    return 0;
}

void tgt_txn(struct ctl_target *tg, char out[20])
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t a = splitmix64(&tg->rng), b = splitmix64(&tg->rng);
    for (int i = 0; i < 16; i++)
        out[i] = chars[((i < 8 ? a >> (8 * i) : b >> (8 * (i - 8))) & 0xff) % 62];
    out[16] = '\0';
}

uint64_t tgt_timeout_ms(const struct ctl_target *tg)
{
    uint64_t ns = tg->cfg.http_timeout_ns;
    if (tg->stopping) {
        uint64_t now = tgt_now_ns();
        uint64_t left = tg->stop_deadline_ns > now ? tg->stop_deadline_ns - now : 0;
        if (left < ns)
            ns = left;
    }
    uint64_t ms = ns / 1000000ull;
    return ms ? ms : 1;
}

void tgt_teardown(struct ctl_target *tg, struct tsess *s)
{
    if (!s->has_resource) {
        s->state = TS_DONE;
        return;
    }
    s->state = TS_TEARDOWN;
    tg->flow->teardown(tg, s);
    tgt_want(tg, s, s->step);
}

void tgt_want(struct ctl_target *tg, struct tsess *s, uint8_t step)
{
    if (tg->stopping && s->state == TS_SIGNAL) {
        tgt_teardown(tg, s); /* no new signalling once stopping */
        return;
    }
    s->step = step;
    if (s->queued)
        return;
    s->queued = true;
    uint32_t n = tg->cfg.n_sessions;
    tg->queue[(tg->q_head + tg->q_len) % n] = s->idx;
    tg->q_len++;
}

void tgt_fail(struct ctl_target *tg, struct tsess *s, enum ctl_target_cause cause, int status,
              const char *fmt, ...)
{
    struct ctl_target_client *c = &tg->res.client[s->idx];
    c->cause = (uint8_t)cause;
    c->http_status = (uint16_t)status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    TGT_ADD(tg->res.signal_failed, 1);
    TGT_ADD(tg->res.cause[cause], 1);
    tgt_teardown(tg, s);
}

enum ctl_target_cause tgt_req_cause(const struct tgt_req *r)
{
    if (r->status == 0)
        return r->transport != CTL_TGT_CAUSE_NONE ? r->transport : CTL_TGT_CAUSE_PROTOCOL;
    if (r->status >= 400 && r->status < 500)
        return CTL_TGT_CAUSE_HTTP_4XX;
    if (r->status >= 500)
        return CTL_TGT_CAUSE_HTTP_5XX;
    return CTL_TGT_CAUSE_PROTOCOL;
}

void tgt_fail_req(struct ctl_target *tg, struct tsess *s, const struct tgt_req *r, const char *what)
{
    enum ctl_target_cause c = tgt_req_cause(r);
    if (r->status == 0)
        tgt_fail(tg, s, c, 0, "%s: %s", what, curl_easy_strerror((CURLcode)r->curl_rc));
    else
        tgt_fail(tg, s, c, r->status, "%s: HTTP %d", what, r->status);
}

int tgt_make_offer(struct ctl_target *tg, struct tsess *s)
{
    struct tgt_offer_params p = {
        .ip = tg->agents[s->idx].ip,
        .port = RI_TARGET_PORT,
        .audio = tg->cfg.audio,
        .ssrc = s->ssrc,
        .video = tg->cfg.video,
        .video_ssrc = tgt_video_ssrc(s->ssrc),
        .sess_id = splitmix64(&tg->rng) >> 1,
    };
    memcpy(p.ufrag, s->ufrag, sizeof(p.ufrag));
    memcpy(p.pwd, s->pwd, sizeof(p.pwd));
    memcpy(p.fingerprint, tg->x->fingerprint, 32);
    if (tg->cfg.relay) { /* start_sessions saw relay_state OK */
        const struct ri_target_slot *sl = ri_target_slot(tg->t, s->idx);
        p.relay_ip = ri_load(&sl->relay_ip);
        p.relay_port = ri_load(&sl->relay_port);
    }
    if (tgt_buf(tg, 4096) != 0)
        return -ENOMEM;
    return tgt_offer_write(&p, tg->buf, tg->buf_cap);
}

static bool slot_free(const struct ri_target_slot *sl)
{
    if (ri_load(&sl->dp_seq) != sl->seq)
        return false;
    uint32_t st = ri_load(&sl->dp_state);
    return st == RI_TGT_IDLE || st == RI_TGT_CLOSED || st == RI_TGT_FAILED;
}

void tgt_answer(struct ctl_target *tg, struct tsess *s, const char *sdp, size_t len)
{
    struct tgt_answer a;
    char why[128];
    if (tgt_answer_parse_av(sdp, len, tg->cfg.audio, tg->cfg.video, &a, tg->work, why, sizeof(why)) != 0) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_SDP, 0, "%s", why);
        return;
    }
    tgt_publish(tg, s, &a, NULL);
}

void tgt_publish(struct ctl_target *tg, struct tsess *s, const struct tgt_answer *ap,
                 const struct tgt_feeds *f)
{
    struct tgt_answer a = *ap;
    if (tg->stopping) {
        tgt_teardown(tg, s);
        return;
    }
    struct ri_target_slot *sl = ri_target_slot(tg->t, s->idx);
    if (!slot_free(sl)) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_SLOT, 0, "slot %u still busy with an earlier session",
                 s->idx);
        return;
    }
    sl->agent = s->idx;
    sl->dtls_client = a.dtls_client;
    sl->audio = a.audio;
    sl->audio_pt = a.audio_pt;
    sl->n_cands = a.n_cands;
    sl->remote_lite = a.ice_lite;
    sl->remote_max_message = a.max_message;
    sl->remote_sctp_port = a.sctp_port;
    sl->audio_ssrc = s->ssrc;
    sl->video = a.video;
    sl->video_pt = a.video_pt;
    sl->video_wanted = tg->cfg.video && f == NULL;
    sl->video_ssrc = tgt_video_ssrc(s->ssrc);
    snprintf(sl->local_ufrag, sizeof(sl->local_ufrag), "%s", s->ufrag);
    snprintf(sl->local_pwd, sizeof(sl->local_pwd), "%s", s->pwd);
    memcpy(sl->remote_ufrag, a.ufrag, sizeof(sl->remote_ufrag));
    memcpy(sl->remote_pwd, a.pwd, sizeof(sl->remote_pwd));
    memcpy(sl->remote_fp, a.fingerprint, 32);
    memset(sl->cand, 0, sizeof(sl->cand));
    memcpy(sl->cand, a.cand, a.n_cands * sizeof(a.cand[0]));
    sl->answerer = f != NULL;
    sl->n_feeds = f ? f->n : 0;
    memset(sl->feed_agent, 0, sizeof(sl->feed_agent));
    memset(sl->feed_ssrc, 0, sizeof(sl->feed_ssrc));
    for (uint32_t k = 0; f && k < f->n && k < RI_TARGET_FEEDS; k++) {
        sl->feed_agent[k] = f->agent[k];
        sl->feed_ssrc[k] = f->ssrc[k];
    }
    uint32_t seq = sl->seq + 1;
    if (seq == 0)
        seq = 1;
    s->seq = seq;
    ri_store(&sl->seq, seq); /* publishes the request */
    uint64_t now = tgt_now_ns();
    struct ctl_target_client *c = &tg->res.client[s->idx];
    s->state = TS_LIVE;
    s->published = true;
    s->t_pub_ns = now;
    c->signalled = 1;
    c->signal_ns = now - c->t_start_ns;
    met_hist_record(&tg->res.signal, c->signal_ns);
    TGT_ADD(tg->res.signalled, 1);
}

void tgt_ended(struct ctl_target *tg, struct tsess *s, bool deleted)
{
    if (s->has_resource) {
        if (deleted) {
            tg->res.client[s->idx].deleted = 1;
            TGT_ADD(tg->res.deleted, 1);
        } else {
            TGT_ADD(tg->res.delete_failed, 1);
        }
    }
    s->has_resource = false;
    s->state = TS_DONE;
    free(s->url);
    s->url = NULL;
}
