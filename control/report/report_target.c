/* SPDX-License-Identifier: MIT */
#include "report_target.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hist_json.h"
#include "met_stats.h"

static const char *const stage_names[CTL_TGT_STAGES] = {"signal", "ice", "dtls", "sctp", "datachannel"};

const char *ctl_target_stage_name(int i)
{
    return i >= 0 && i < CTL_TGT_STAGES ? stage_names[i] : "?";
}

static const char *const kind_names[] = {"none", "whip", "janus", "janus-videoroom"};

static const char *kind_name(enum ctl_target_kind k)
{
    return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

/* The slot of session i when the dataplane took its request (NULL when
 * it never got one). */
static const struct ri_target_slot *taken_slot(const struct ctl_target_view *v, uint32_t i)
{
    const struct ctl_target_client *c = &v->res->client[i];
    if (!c->signalled || c->slot >= v->cfg->n_sessions)
        return NULL;
    const struct ri_target_slot *s = ri_target_slot((struct ri_target *)v->t, c->slot);
    uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (seq == 0 || __atomic_load_n(&s->dp_seq, __ATOMIC_ACQUIRE) != seq)
        return NULL;
    return s;
}

/* A slot that reached DataChannel open (up now, or closed after it was). */
static bool was_up(const struct ri_target_slot *s)
{
    return s->setup_ns != 0;
}

void ctl_target_stages(const struct ctl_target_view *v, struct ctl_target_stage st[CTL_TGT_STAGES])
{
    memset(st, 0, sizeof(st[0]) * CTL_TGT_STAGES);
    const struct ctl_target_results *r = v->res;
    st[0].attempted = r->started;
    st[0].established = r->signalled;
    st[0].failed = r->signal_failed;
    for (uint32_t i = 0; i < r->n_clients; i++) {
        if (!r->client[i].signalled)
            continue;
        const struct ri_target_slot *s = taken_slot(v, i);
        /* handed over but never taken: it failed in ICE, as far as the
         * peer connection goes (the dataplane never started it) */
        uint32_t state = s ? __atomic_load_n(&s->dp_state, __ATOMIC_ACQUIRE) : RI_TGT_FAILED;
        int reached; /* stages of the dataplane established */
        bool failed = false;
        if (s && was_up(s)) {
            reached = RI_STAGE_COUNT;
        } else if (state == RI_TGT_FAILED || state == RI_TGT_CLOSED) {
            reached = s && s->fail_stage < RI_STAGE_COUNT ? (int)s->fail_stage : 0;
            failed = true;
        } else { /* still connecting when the run ended: counted attempted only */
            reached = 0;
            for (int k = 0; s && k < RI_STAGE_COUNT && s->stage_ns[k]; k++)
                reached = k + 1;
            if (reached >= RI_STAGE_COUNT)
                reached = RI_STAGE_COUNT - 1;
        }
        for (int k = 0; k <= reached && k < RI_STAGE_COUNT; k++) {
            st[1 + k].attempted++;
            if (k < reached)
                st[1 + k].established++;
            else if (failed)
                st[1 + k].failed++;
        }
    }
}

static const char *const role_names[] = {"client", "publisher", "subscriber"};

/* janus-videoroom: the figures of room `room` from its sessions' slots. */
struct room_fig {
    uint64_t attempted[3], up[3], failed[3]; /* by role */
    uint64_t published, expected, received, misordered, foreign;
    uint64_t rtp_in, rtp_lost, srtp_auth_failures, streams, streams_with_audio;
};

static void room_figures(const struct ctl_target_view *v, uint32_t room, struct room_fig *f)
{
    memset(f, 0, sizeof(*f));
    const struct ctl_target_results *r = v->res;
    for (uint32_t i = 0; i < r->n_clients; i++) {
        const struct ctl_target_client *c = &r->client[i];
        if (c->room != room || c->role > CTL_TGT_ROLE_SUBSCRIBER)
            continue;
        const struct ri_target_slot *sl = taken_slot(v, i);
        f->attempted[c->role] += c->started;
        bool up = sl && was_up(sl);
        f->up[c->role] += up;
        f->failed[c->role] += c->started && !up;
        if (!sl)
            continue;
        if (c->role == CTL_TGT_ROLE_PUBLISHER) {
            f->published += sl->s.msgs_sent;
            continue;
        }
        f->foreign += sl->s.msgs_foreign;
        f->srtp_auth_failures += sl->s.srtp_auth_failures;
        if (!up)
            continue;
        f->misordered += sl->feed_misordered;
        f->rtp_in += sl->s.rtp_back;
        for (uint32_t k = 0; k < sl->n_feeds && k < RI_TARGET_FEEDS; k++) {
            f->received += sl->feed_msgs[k];
            f->rtp_lost += sl->feed_rtp_lost[k];
            f->streams_with_audio += sl->feed_rtp[k] > 0;
        }
    }
    f->expected = f->published * f->up[CTL_TGT_ROLE_SUBSCRIBER];
    f->streams = v->cfg->audio ? (uint64_t)v->cfg->publishers * f->up[CTL_TGT_ROLE_SUBSCRIBER] : 0;
}

static void role_json(struct json_writer *w, const char *key, const struct room_fig *f, int role)
{
    json_key(w, key);
    json_obj_begin(w);
    json_kv_u64(w, "attempted", f->attempted[role]);
    json_kv_u64(w, "up", f->up[role]);
    json_kv_u64(w, "failed", f->failed[role]);
    json_obj_end(w);
}

static void rooms_json(struct json_writer *w, const struct ctl_target_view *v)
{
    const struct ctl_target_results *r = v->res;
    json_key(w, "rooms");
    json_arr_begin(w);
    for (uint32_t k = 0; k < r->n_rooms; k++) {
        struct room_fig f;
        room_figures(v, k, &f);
        json_obj_begin(w);
        json_kv_u64(w, "room", k);
        json_kv_u64(w, "id", r->room[k].id);
        json_kv_bool(w, "created", r->room[k].created);
        json_kv_bool(w, "destroyed", r->room[k].destroyed);
        role_json(w, "publishers", &f, CTL_TGT_ROLE_PUBLISHER);
        role_json(w, "subscribers", &f, CTL_TGT_ROLE_SUBSCRIBER);
        json_key(w, "messages");
        json_obj_begin(w);
        json_kv_u64(w, "published", f.published);
        json_kv_u64(w, "expected", f.expected);
        json_kv_u64(w, "received", f.received);
        json_kv_dbl(w, "delivery", f.expected ? (double)f.received / (double)f.expected : 0, 6);
        json_kv_u64(w, "misordered", f.misordered);
        json_kv_u64(w, "foreign", f.foreign);
        json_obj_end(w);
        json_key(w, "audio");
        json_obj_begin(w);
        json_kv_u64(w, "rtp_in", f.rtp_in);
        json_kv_u64(w, "rtp_lost", f.rtp_lost);
        json_kv_u64(w, "streams", f.streams);
        json_kv_u64(w, "streams_with_audio", f.streams_with_audio);
        json_kv_u64(w, "srtp_auth_failures", f.srtp_auth_failures);
        json_obj_end(w);
        json_obj_end(w);
    }
    json_arr_end(w);
}

static void hist_ms(struct json_writer *w, const char *key, const struct met_hist *h)
{
    json_key(w, key);
    json_obj_begin(w);
    json_kv_dbl(w, "p50", met_hist_percentile(h, 50) / 1e6, 6);
    json_kv_dbl(w, "p95", met_hist_percentile(h, 95) / 1e6, 6);
    json_kv_dbl(w, "p99", met_hist_percentile(h, 99) / 1e6, 6);
    json_kv_dbl(w, "max", h->max / 1e6, 6);
    json_kv_u64(w, "samples", met_hist_total(h));
    json_obj_end(w);
}

void ctl_report_target_json(struct json_writer *w, const struct ctl_target_view *v)
{
    if (!v)
        return;
    const struct ri_target *t = v->t;
    const struct ctl_target_results *r = v->res;
    const struct ri_target_stats *s = &t->total;
    struct ctl_target_stage st[CTL_TGT_STAGES];
    ctl_target_stages(v, st);
    json_key(w, "target");
    json_obj_begin(w);
    json_kv_str(w, "kind", kind_name(v->cfg->kind));
    json_kv_str(w, "url", v->cfg->url);
    json_kv_u64(w, "sessions", v->cfg->n_sessions);
    json_kv_dbl(w, "join_rate", v->cfg->join_rate, 3);
    json_kv_bool(w, "join_ramp", v->cfg->join_ramp);
    json_kv_u64(w, "started", r->started);
    json_kv_u64(w, "not_started", v->cfg->n_sessions - r->started);
    json_kv_bool(w, "audio", v->cfg->audio);
    json_kv_bool(w, "video", v->cfg->video);
    json_kv_bool(w, "through_relay", v->cfg->relay);
    json_kv_u64(w, "sessions_up", t->sessions_up);
    json_key(w, "dtls");
    json_obj_begin(w);
    json_kv_str(w, "offered", ctl_dtls_offer_name(v->dtls_versions));
    for (uint32_t i = 0; i < RI_DTLS_VERSIONS; i++)
        json_kv_u64(w, ctl_dtls_key(i), t->sessions_up_dtls[i]);
    json_key(w, "key_updates"); /* of the sessions that ended; 1.3 keeps the endpoint for them */
    json_obj_begin(w);
    json_kv_u64(w, "sent", t->total.dtls_key_updates_out);
    json_kv_u64(w, "received", t->total.dtls_key_updates_in);
    json_obj_end(w);
    json_obj_end(w);
    json_kv_u64(w, "sessions_failed", t->sessions_failed + r->signal_failed);
    json_kv_u64(w, "sessions_closed", t->sessions_closed);
    json_kv_u64(w, "consent_lost", t->sessions_consent_lost);
    json_kv_dbl(w, "last_up_s", r->last_up_ns / 1e9, 3);
    json_kv_dbl(w, "settled_s", r->settled_ns / 1e9, 3);
    json_kv_dbl(w, "joins_per_s_mean", r->last_up_ns ? (double)t->sessions_up / (r->last_up_ns / 1e9) : 0, 1);
    json_kv_u64(w, "deleted", r->deleted);
    json_kv_u64(w, "delete_failed", r->delete_failed);
    json_key(w, "stages");
    json_obj_begin(w);
    for (int i = 0; i < CTL_TGT_STAGES; i++) {
        json_key(w, stage_names[i]);
        json_obj_begin(w);
        json_kv_u64(w, "attempted", st[i].attempted);
        json_kv_u64(w, "established", st[i].established);
        json_kv_u64(w, "failed", st[i].failed);
        if (i == 0) {
            json_key(w, "causes");
            json_obj_begin(w);
            for (int c = 1; c < CTL_TGT_CAUSE_COUNT; c++)
                json_kv_u64(w, ctl_target_cause_name((enum ctl_target_cause)c), r->cause[c]);
            json_obj_end(w);
            hist_ms(w, "time_ms", &r->signal);
        } else {
            hist_ms(w, "time_ms", &t->stage[i - 1]);
        }
        json_obj_end(w);
    }
    json_obj_end(w);
    json_key(w, "http");
    json_obj_begin(w);
    json_kv_u64(w, "requests", r->http_requests);
    json_kv_u64(w, "no_status", r->http_status[0]);
    static const char *const cls[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int c = 1; c < 6; c++)
        json_kv_u64(w, cls[c], r->http_status[c]);
    json_kv_u64(w, "keepalives", r->keepalives);
    json_obj_end(w);
    hist_ms(w, "setup_ms", &t->setup);
    json_key(w, "messages");
    json_obj_begin(w);
    json_kv_u64(w, "sent", s->msgs_sent);
    json_kv_u64(w, "back", s->msgs_back);
    json_kv_u64(w, "foreign", s->msgs_foreign);
    json_kv_u64(w, "bytes_sent", s->bytes_sent);
    json_kv_u64(w, "bytes_back", s->bytes_back);
    if (r->n_rooms) {
        /* VideoRoom: a published message is due once at every subscriber
         * of its room that got up, so delivery is received / expected
         * over the rooms, not back / sent */
        uint64_t expected = 0, received = 0;
        for (uint32_t k = 0; k < r->n_rooms; k++) {
            struct room_fig f;
            room_figures(v, k, &f);
            expected += f.expected;
            received += f.received;
        }
        json_kv_u64(w, "expected", expected);
        json_kv_u64(w, "received", received);
        json_kv_dbl(w, "delivery", expected ? (double)received / (double)expected : 0, 6);
    } else {
        json_kv_dbl(w, "delivery", s->msgs_sent ? (double)s->msgs_back / (double)s->msgs_sent : 0, 6);
    }
    json_obj_end(w);
    hist_ms(w, "round_trip_ms", &t->rtt);
    json_key(w, "audio_stats");
    json_obj_begin(w);
    json_kv_u64(w, "rtp_sent", s->rtp_sent);
    json_kv_u64(w, "rtp_back", s->rtp_back);
    json_kv_u64(w, "rtp_lost", s->rtp_lost);
    json_kv_u64(w, "srtp_auth_failures", s->srtp_auth_failures);
    json_kv_u64(w, "rtcp_in", s->rtcp_in);
    json_kv_u64(w, "rtcp_rr_loss", s->rtcp_rr_loss);
    json_obj_end(w);
    if (v->cfg->video) {
        json_key(w, "video_stats");
        json_obj_begin(w);
        json_kv_u64(w, "rtp_sent", s->video_rtp_sent);
        json_kv_u64(w, "rtp_back", s->video_rtp_back);
        json_kv_u64(w, "rtp_lost", s->video_rtp_lost);
        json_kv_u64(w, "srtp_auth_failures", s->video_srtp_auth_failures);
        json_kv_u64(w, "rtcp_pli", s->video_rtcp_pli);
        json_kv_u64(w, "rtcp_fir", s->video_rtcp_fir);
        json_kv_u64(w, "rtcp_nack", s->video_rtcp_nack);
        json_kv_u64(w, "bytes_sent", s->video_bytes_sent);
        json_kv_u64(w, "bytes_back", s->video_bytes_back);
        json_kv_u64(w, "keyframes_sent", s->video_keyframes);
        json_kv_u64(w, "sessions_with_video", s->video_sessions);
        json_kv_u64(w, "sessions_video_rejected", s->video_rejected);
        json_obj_end(w);
    }
    json_key(w, "ice");
    json_obj_begin(w);
    json_kv_u64(w, "checks_sent", s->ice_checks_sent);
    json_kv_u64(w, "checks_answered", s->ice_checks_answered);
    json_kv_u64(w, "consent_checks", s->consent_checks);
    json_kv_u64(w, "restarts", s->ice_restarts);
    json_obj_end(w);
    json_kv_u64(w, "frames_in", s->frames_in);
    json_kv_u64(w, "frames_out", s->frames_out);
    json_kv_u64(w, "frames_unknown", t->frames_unknown);
    if (v->cfg->kind == CTL_TARGET_JANUS_VR) {
        json_kv_u64(w, "publishers_per_room", v->cfg->publishers);
        rooms_json(w, v);
    }
    json_key(w, "joins_per_s");
    json_arr_begin(w);
    json_compact(w, true);
    for (uint32_t i = 0; i < r->joins_seconds; i++)
        json_u64(w, r->joins_per_s[i]);
    json_arr_end(w);
    json_compact(w, false);
    json_key(w, "starts_per_s");
    json_arr_begin(w);
    json_compact(w, true);
    for (uint32_t i = 0; i < r->joins_seconds; i++)
        json_u64(w, r->starts_per_s[i]);
    json_arr_end(w);
    json_compact(w, false);
    json_obj_end(w);
}

void ctl_report_target_summary(FILE *f, const struct ctl_target_view *v)
{
    if (!v)
        return;
    const struct ri_target *t = v->t;
    const struct ctl_target_results *r = v->res;
    struct ctl_target_stage st[CTL_TGT_STAGES];
    ctl_target_stages(v, st);
    fprintf(f, "target        %s %s%s: %u sessions, %" PRIu64 " up, %" PRIu64 " failed, %" PRIu64
               " ended on the server\n",
            kind_name(v->cfg->kind), v->cfg->url, v->cfg->relay ? " through the relay" : "",
            v->cfg->n_sessions, t->sessions_up, t->sessions_failed + r->signal_failed, r->deleted);
    fprintf(f, "  stages     ");
    for (int i = 0; i < CTL_TGT_STAGES; i++)
        fprintf(f, " %s %" PRIu64 "/%" PRIu64 "%s", stage_names[i], st[i].established, st[i].attempted,
                i + 1 < CTL_TGT_STAGES ? "," : "\n");
    if (r->signal_failed) {
        fprintf(f, "  signal failures:");
        for (int c = 1; c < CTL_TGT_CAUSE_COUNT; c++)
            if (r->cause[c])
                fprintf(f, " %s %" PRIu64, ctl_target_cause_name((enum ctl_target_cause)c), r->cause[c]);
        fputc('\n', f);
        for (uint32_t i = 0; i < r->n_clients; i++) /* the first failure says why, in the server's words */
            if (r->client[i].cause != CTL_TGT_CAUSE_NONE && r->client[i].detail[0]) {
                fprintf(f, "  first       agent %u: %s\n", r->client[i].agent, r->client[i].detail);
                break;
            }
    }
    if (v->cfg->join_ramp)
        fprintf(f, "  ramped      joins during the load: %" PRIu64 " started, %" PRIu64 " not started\n",
                r->started, v->cfg->n_sessions - r->started);
    if (r->last_up_ns)
        fprintf(f, "  joins       %" PRIu64 " up in %.2f s from the %s: %.1f joins/s\n", t->sessions_up,
                r->last_up_ns / 1e9, v->cfg->join_ramp ? "load's start" : "first start",
                (double)t->sessions_up / (r->last_up_ns / 1e9));
    const struct met_hist *h = &t->setup;
    if (met_hist_total(h))
        fprintf(f, "  set-up      p50 %.1f ms, p95 %.1f ms, p99 %.1f ms (signal p50 %.1f ms)\n",
                met_hist_percentile(h, 50) / 1e6, met_hist_percentile(h, 95) / 1e6,
                met_hist_percentile(h, 99) / 1e6, met_hist_percentile(&r->signal, 50) / 1e6);
    const struct ri_target_stats *s = &t->total;
    if (s->msgs_sent && v->cfg->kind == CTL_TARGET_JANUS_VR)
        fprintf(f, "  messages    %" PRIu64 " published, %" PRIu64 " received by subscribers, "
                   "publisher to subscriber p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
                s->msgs_sent, s->msgs_back, met_hist_percentile(&t->rtt, 50) / 1e6,
                met_hist_percentile(&t->rtt, 95) / 1e6, met_hist_percentile(&t->rtt, 99) / 1e6);
    else if (s->msgs_sent)
        fprintf(f, "  messages    %" PRIu64 " sent, %" PRIu64 " came back (%.2f %%), round trip p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
                s->msgs_sent, s->msgs_back, 100.0 * (double)s->msgs_back / (double)s->msgs_sent,
                met_hist_percentile(&t->rtt, 50) / 1e6, met_hist_percentile(&t->rtt, 95) / 1e6,
                met_hist_percentile(&t->rtt, 99) / 1e6);
    if (s->rtp_sent && v->cfg->kind == CTL_TARGET_JANUS_VR)
        fprintf(f, "  audio       %" PRIu64 " SRTP packets published, %" PRIu64 " received by subscribers, %" PRIu64
                   " lost, %" PRIu64 " auth failures, %" PRIu64 " RTCP in\n",
                s->rtp_sent, s->rtp_back, s->rtp_lost, s->srtp_auth_failures, s->rtcp_in);
    else if (s->rtp_sent)
        fprintf(f, "  audio       %" PRIu64 " SRTP packets sent, %" PRIu64 " back, %" PRIu64 " lost, %" PRIu64
                   " auth failures, %" PRIu64 " RTCP in\n",
                s->rtp_sent, s->rtp_back, s->rtp_lost, s->srtp_auth_failures, s->rtcp_in);
    if (v->cfg->video)
        fprintf(f, "  video       %" PRIu64 " SRTP packets sent (%" PRIu64 " bytes, %" PRIu64 " key frames), %" PRIu64
                   " back (%" PRIu64 " bytes), %" PRIu64 " lost, %" PRIu64 " auth failures; PLI %" PRIu64 ", FIR %" PRIu64
                   ", NACK %" PRIu64 "; %" PRIu64 " sessions with video, %" PRIu64 " refused\n",
                s->video_rtp_sent, s->video_bytes_sent, s->video_keyframes, s->video_rtp_back, s->video_bytes_back,
                s->video_rtp_lost, s->video_srtp_auth_failures, s->video_rtcp_pli, s->video_rtcp_fir,
                s->video_rtcp_nack, s->video_sessions, s->video_rejected);
    if (v->cfg->kind != CTL_TARGET_JANUS_VR)
        return;
    uint64_t created = 0, destroyed = 0;
    for (uint32_t k = 0; k < r->n_rooms; k++) {
        created += r->room[k].created;
        destroyed += r->room[k].destroyed;
    }
    fprintf(f, "  rooms       %u of %u publishers: %" PRIu64 " created, %" PRIu64 " destroyed at the end\n",
            r->n_rooms, v->cfg->publishers, created, destroyed);
    for (uint32_t k = 0; k < r->n_rooms; k++) {
        if (k == 16) {
            fprintf(f, "  room ...    %u more rooms in the JSON report (target.rooms)\n", r->n_rooms - k);
            break;
        }
        struct room_fig g;
        room_figures(v, k, &g);
        fprintf(f,
                "  room %-6u publishers %" PRIu64 "/%" PRIu64 " up, subscribers %" PRIu64 "/%" PRIu64
                " up; messages %" PRIu64 " published x subscribers = %" PRIu64 " expected, %" PRIu64
                " received (%.2f %%), %" PRIu64 " misordered, %" PRIu64 " foreign; audio %" PRIu64
                " RTP in on %" PRIu64 "/%" PRIu64 " streams, %" PRIu64 " lost, %" PRIu64 " auth failures\n",
                k, g.up[1], g.attempted[1], g.up[2], g.attempted[2], g.published, g.expected, g.received,
                g.expected ? 100.0 * (double)g.received / (double)g.expected : 0.0, g.misordered, g.foreign,
                g.rtp_in, g.streams_with_audio, g.streams, g.rtp_lost, g.srtp_auth_failures);
    }
}

void ctl_report_target_html(FILE *f, const struct ctl_target_view *v)
{
    if (!v)
        return;
    struct ctl_target_stage st[CTL_TGT_STAGES];
    ctl_target_stages(v, st);
    fprintf(f, "<h2>Target: %s</h2><table><tr><th>stage</th><th>attempted</th><th>established</th>"
               "<th>failed</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr>\n",
            kind_name(v->cfg->kind));
    for (int i = 0; i < CTL_TGT_STAGES; i++) {
        const struct met_hist *h = i ? &v->t->stage[i - 1] : &v->res->signal;
        fprintf(f,
                "<tr><td>%s</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td>"
                "<td class=\"n\">%.3f</td></tr>\n",
                stage_names[i], st[i].attempted, st[i].established, st[i].failed,
                met_hist_percentile(h, 50) / 1e6, met_hist_percentile(h, 95) / 1e6,
                met_hist_percentile(h, 99) / 1e6);
    }
    fputs("</table>\n", f);
    if (v->cfg->kind != CTL_TARGET_JANUS_VR)
        return;
    fputs("<h3>Rooms</h3><table><tr><th>room</th><th>publishers up</th><th>subscribers up</th>"
          "<th>published</th><th>expected</th><th>received</th><th>misordered</th><th>foreign</th>"
          "<th>RTP in</th><th>streams with audio</th><th>SRTP auth failures</th></tr>\n",
          f);
    for (uint32_t k = 0; k < v->res->n_rooms && k < 1000; k++) {
        struct room_fig g;
        room_figures(v, k, &g);
        fprintf(f,
                "<tr><td>%u</td><td class=\"n\">%" PRIu64 "/%" PRIu64 "</td><td class=\"n\">%" PRIu64
                "/%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "/%" PRIu64
                "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
                k, g.up[1], g.attempted[1], g.up[2], g.attempted[2], g.published, g.expected, g.received,
                g.misordered, g.foreign, g.rtp_in, g.streams_with_audio, g.streams, g.srtp_auth_failures);
    }
    fputs("</table>\n", f);
}

static const char *const state_names[] = {"idle", "connecting", "up", "closed", "failed"};

int ctl_report_target_csv(const char *path, const struct ctl_target_view *v)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fputs("agent,ip,resource,signal_ms,cause,http_status,state,fail_stage,consent_lost,closed_by_peer,"
          "dtls_failure,ice_ms,dtls_ms,sctp_ms,datachannel_ms,setup_ms,up_s,msgs_sent,msgs_back,"
          "rtt_mean_ms,rtt_min_ms,rtt_max_ms,rtp_sent,rtp_back,rtp_lost,srtp_auth_failures,jitter_ms,"
          "frames_out,frames_in,selected,room,role,detail,video_rtp_sent,video_rtp_back,video_rtp_lost,"
          "video_srtp_auth_failures,video_rtcp_pli,video_rtcp_fir,video_rtcp_nack,video_bytes_sent,video_bytes_back,"
          "dtls_version\n",
          f);
    const struct ctl_target_results *r = v->res;
    for (uint32_t i = 0; i < r->n_clients; i++) {
        const struct ctl_target_client *c = &r->client[i];
        uint32_t ip = 0xc6120000u + 1 + c->agent; /* 198.18.0.0 + 1 + agent */
        fprintf(f, "%u,%u.%u.%u.%u,%s,%.3f,%s,%u,", c->agent, ip >> 24, ip >> 16 & 255, ip >> 8 & 255,
                ip & 255, c->resource, c->signal_ns / 1e6,
                c->started ? ctl_target_cause_name((enum ctl_target_cause)c->cause) : "not_started",
                c->http_status);
        const struct ri_target_slot *s = taken_slot(v, i);
        if (!s) {
            fputs(c->signalled ? "not_taken" : "none", f);
            fputs(",,,,,,,,,,,,,,,,,,,,,,,", f);
            goto room_role;
        }
        uint32_t state = __atomic_load_n(&s->dp_state, __ATOMIC_ACQUIRE);
        const struct ri_target_stats *x = &s->s;
        fprintf(f, "%s,%s,%u,%u,%s,", state < 5 ? state_names[state] : "?",
                state == RI_TGT_FAILED && s->fail_stage < RI_STAGE_COUNT ? stage_names[1 + s->fail_stage] : "",
                s->consent_lost, s->closed_by_peer, s->dtls_failure);
        for (int k = 0; k < RI_STAGE_COUNT; k++)
            fprintf(f, "%.3f,", s->stage_ns[k] / 1e6);
        fprintf(f, "%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                   ",%.3f,%" PRIu64 ",%" PRIu64 ",",
                s->setup_ns / 1e6, s->up_ns / 1e9, x->msgs_sent, x->msgs_back,
                x->msgs_back ? (double)x->rtt_sum_ns / (double)x->msgs_back / 1e6 : 0, x->rtt_min_ns / 1e6,
                x->rtt_max_ns / 1e6, x->rtp_sent, x->rtp_back, x->rtp_lost, x->srtp_auth_failures,
                x->jitter_us / 1e3, x->frames_out, x->frames_in);
        if (s->sel_ip)
            fprintf(f, "%u.%u.%u.%u:%u", s->sel_ip >> 24, s->sel_ip >> 16 & 255, s->sel_ip >> 8 & 255,
                    s->sel_ip & 255, s->sel_port);
    room_role:
        if (v->cfg->kind == CTL_TARGET_JANUS_VR)
            fprintf(f, ",%u,%s,", c->room, c->role < 3 ? role_names[c->role] : "?");
        else
            fputs(",,client,", f);
        for (const char *p = c->detail; *p && p < c->detail + sizeof(c->detail); p++)
            fputc(*p == ',' || *p == '"' ? ';' : *p, f); /* one CSV field, unquoted */
        if (s)
            fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                       ",%" PRIu64 ",%s\n",
                    s->s.video_rtp_sent, s->s.video_rtp_back, s->s.video_rtp_lost, s->s.video_srtp_auth_failures,
                    s->s.video_rtcp_pli, s->s.video_rtcp_fir, s->s.video_rtcp_nack, s->s.video_bytes_sent,
                    s->s.video_bytes_back, s->dtls_version ? ctl_dtls_name((uint32_t)ri_dtls_index(s->dtls_version)) : "");
        else
            fputs(",,,,,,,,,,\n", f);
    }
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
