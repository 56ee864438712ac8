/* SPDX-License-Identifier: MIT */
#include "external.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ice.h"
#include "met_stats.h"

static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ctl_external_credentials(char ufrag[9], char pwd[25])
{
    uint8_t r[32];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -EIO; /* never a guessable stand-in: these authenticate the session */
    for (int i = 0; i < 8; i++)
        ufrag[i] = ice_chars[r[i] & 63];
    ufrag[8] = 0;
    for (int i = 0; i < 24; i++)
        pwd[i] = ice_chars[r[8 + i] & 63];
    pwd[24] = 0;
    return 0;
}

void ctl_external_prepare(struct ri_external *x, uint8_t mode, uint32_t n_slots, const char *port,
                          uint64_t idle_ns)
{
    x->mode = mode;
    x->idle_ns = idle_ns;
    x->n_slots = n_slots > RI_EXTERNAL_MAX ? RI_EXTERNAL_MAX : n_slots;
    snprintf(x->port, sizeof(x->port), "%s", port ? port : "");
}

/* A slot the dataplane has finished with (or never used). */
static bool slot_idle(const struct ri_ext_slot *sl)
{
    uint32_t seq = sl->seq; /* ours: the signaling thread writes it */
    if (ri_load(&sl->dp_seq) != seq)
        return false;
    uint32_t st = ri_load(&sl->dp_state);
    return st == RI_EXT_IDLE || st == RI_EXT_CLOSED || st == RI_EXT_FAILED;
}

static int ext_open(void *arg, uint32_t agent, const struct sdp_offer *offer,
                    struct sdp_local *local, bool *setup_active, char *reason, size_t cap)
{
    struct ctl_external *e = arg;
    struct ri_external *x = e->x;
    if (agent >= e->n_agents) {
        snprintf(reason, cap, "no agent %u (the swarm has agents 0..%u)", agent, e->n_agents - 1);
        return -404;
    }
    /* RFC 8839 allows 256 characters and the SDP parser takes them; the
     * ICE agent that will check them keeps ICE_UFRAG_MAX / ICE_PWD_MAX, the
     * one limit of an external session (the slot's fields are larger) */
    _Static_assert(sizeof(x->slot[0].remote_ufrag) > ICE_UFRAG_MAX &&
                       sizeof(x->slot[0].remote_pwd) > ICE_PWD_MAX,
                   "a slot holds what the ICE agent takes");
    size_t ul = strlen(offer->ice_ufrag), pl = strlen(offer->ice_pwd);
    if (ul > ICE_UFRAG_MAX || pl > ICE_PWD_MAX) {
        snprintf(reason, cap, "%s of %zu characters: swarmgen takes at most %d",
                 ul > ICE_UFRAG_MAX ? "ice-ufrag" : "ice-pwd", ul > ICE_UFRAG_MAX ? ul : pl,
                 ul > ICE_UFRAG_MAX ? ICE_UFRAG_MAX : ICE_PWD_MAX);
        return -400;
    }
    uint32_t i = 0;
    for (; i < x->n_slots; i++) {
        /* a slot whose session the dataplane ended is free again, DELETE or not */
        if (slot_idle(&x->slot[i]))
            break;
    }
    if (i == x->n_slots) {
        snprintf(reason, cap, "all %u external sessions are in use (--external-max)", x->n_slots);
        return -503;
    }
    if (offer->setup == SDP_SETUP_ACTPASS)
        *setup_active = e->prefer_active;
    char uf[9], pw[25];
    if (ctl_external_credentials(uf, pw) != 0) {
        snprintf(reason, cap, "no random bytes for the session's ICE credentials (getrandom)");
        return -500;
    }
    struct ri_ext_slot *sl = &x->slot[i];
    uint32_t seq = ++e->next_seq;
    if (seq > (uint32_t)(INT32_MAX / RI_EXTERNAL_MAX))
        seq = e->next_seq = 1;
    sl->agent = agent;
    sl->port = (uint16_t)(RI_EXTERNAL_PORT_BASE + i);
    sl->dtls_client = *setup_active ? 1 : 0;
    snprintf(sl->local_ufrag, sizeof(sl->local_ufrag), "%s", uf);
    snprintf(sl->local_pwd, sizeof(sl->local_pwd), "%s", pw);
    snprintf(sl->remote_ufrag, sizeof(sl->remote_ufrag), "%s", offer->ice_ufrag);
    snprintf(sl->remote_pwd, sizeof(sl->remote_pwd), "%s", offer->ice_pwd);
    memcpy(sl->remote_fp, offer->fingerprint, 32);
    ri_store(&sl->seq, seq); /* publishes the request */
    e->open[i] = true;
    snprintf(local->ufrag, sizeof(local->ufrag), "%s", uf);
    snprintf(local->pwd, sizeof(local->pwd), "%s", pw);
    memcpy(local->fingerprint, x->fingerprint, 32);
    local->ip = e->agents[agent].ip;
    local->port = sl->port;
    local->audio = false;
    return (int)(seq * RI_EXTERNAL_MAX + i);
}

static int ext_close(void *arg, int id)
{
    struct ctl_external *e = arg;
    struct ri_external *x = e->x;
    if (id < 0)
        return -404;
    uint32_t i = (uint32_t)id % RI_EXTERNAL_MAX, seq = (uint32_t)id / RI_EXTERNAL_MAX;
    if (i >= x->n_slots || !e->open[i] || x->slot[i].seq != seq)
        return -404;
    e->open[i] = false;
    ri_store(&x->slot[i].close_seq, seq);
    return 0;
}

/* The session is still the slot's and the dataplane has not ended it. */
static bool ext_alive(void *arg, int id)
{
    struct ctl_external *e = arg;
    struct ri_external *x = e->x;
    if (id < 0)
        return false;
    uint32_t i = (uint32_t)id % RI_EXTERNAL_MAX, seq = (uint32_t)id / RI_EXTERNAL_MAX;
    return i < x->n_slots && e->open[i] && x->slot[i].seq == seq && !slot_idle(&x->slot[i]);
}

int ctl_external_start(struct ctl_external *e, struct ri_external *x, const struct ri_agent *agents,
                       uint32_t n_agents, uint8_t mode, bool prefer_active, const char *addr,
                       const struct ctl_signal_config *access, char *err, size_t errlen)
{
    memset(e, 0, sizeof(*e));
    e->x = x;
    e->agents = agents;
    e->n_agents = n_agents;
    e->mode = mode;
    e->prefer_active = prefer_active;
    snprintf(e->signal_addr, sizeof(e->signal_addr), "%s", addr);
    struct ctl_signal_config cfg = access ? *access : (struct ctl_signal_config){0};
    int rc = ctl_signal_parse_addr(addr, &cfg.ip, &cfg.port, err, errlen);
    if (rc < 0)
        return -EINVAL;
    static const struct ctl_signal_ops ops = {
        .open = ext_open, .close = ext_close, .alive = ext_alive};
    rc = ctl_signal_start(&e->sig, &cfg, &ops, e, err, errlen);
    if (rc < 0)
        return rc;
    e->signal_port = ctl_signal_port(e->sig);
    return 0;
}

void ctl_external_stop(struct ctl_external *e)
{
    if (!e->sig)
        return;
    ctl_signal_stats(e->sig, &e->sig_stats);
    ctl_signal_stop(e->sig);
    e->sig = NULL;
    for (uint32_t i = 0; i < e->x->n_slots; i++) {
        if (e->open[i]) {
            e->open[i] = false;
            ri_store(&e->x->slot[i].close_seq, e->x->slot[i].seq);
        }
    }
}

static void stats_json(struct json_writer *w, const struct ri_ext_stats *s)
{
    json_kv_u64(w, "msgs_in", s->msgs_in);
    json_kv_u64(w, "msgs_echoed", s->msgs_echoed);
    json_kv_u64(w, "msgs_injected", s->msgs_injected);
    json_kv_u64(w, "msgs_dropped", s->msgs_dropped);
    json_kv_u64(w, "bytes_in", s->bytes_in);
    json_kv_u64(w, "bytes_out", s->bytes_out);
    json_kv_u64(w, "frames_in", s->frames_in);
    json_kv_u64(w, "frames_out", s->frames_out);
    json_kv_u64(w, "frames_unauth", s->frames_unauth);
    json_kv_u64(w, "sctp_data_chunks_out", s->sctp_data_chunks_out);
    json_kv_u64(w, "sctp_retransmissions", s->sctp_retransmissions);
    json_kv_u64(w, "sctp_fast_retransmits", s->sctp_fast_retransmits);
    json_kv_u64(w, "sctp_t3_timeouts", s->sctp_t3_timeouts);
    json_kv_u64(w, "dtls_key_updates_out", s->dtls_key_updates_out);
    json_kv_u64(w, "dtls_key_updates_in", s->dtls_key_updates_in);
}

void ctl_external_report_json(struct json_writer *w, const struct ctl_external *e)
{
    if (!e || !e->x || e->mode == RI_EXT_OFF)
        return;
    const struct ri_external *x = e->x;
    json_key(w, "external");
    json_obj_begin(w);
    json_kv_str(w, "mode", e->mode == RI_EXT_ROUTE ? "route" : "echo");
    json_kv_str(w, "signal", e->signal_addr);
    json_kv_str(w, "port", x->port_desc);
    json_kv_u64(w, "max_sessions", x->n_slots);
    json_kv_u64(w, "requests", e->sig_stats.requests);
    json_kv_u64(w, "sessions_opened", e->sig_stats.sessions_opened);
    json_kv_u64(w, "sessions_deleted", e->sig_stats.sessions_closed);
    json_kv_u64(w, "rejected_4xx", e->sig_stats.rejected_4xx);
    json_kv_u64(w, "errors_5xx", e->sig_stats.errors_5xx);
    json_kv_u64(w, "sessions", ri_load(&x->sessions));
    json_kv_u64(w, "sessions_up", ri_load(&x->sessions_up));
    json_key(w, "dtls");
    json_obj_begin(w);
    json_kv_str(w, "offered", ctl_dtls_offer_name(e->dtls_versions));
    for (uint32_t i = 0; i < RI_DTLS_VERSIONS; i++)
        json_kv_u64(w, ctl_dtls_key(i), ri_load(&x->sessions_up_dtls[i]));
    json_obj_end(w);
    json_kv_u64(w, "sessions_failed", ri_load(&x->sessions_failed));
    json_kv_u64(w, "sessions_closed", ri_load(&x->sessions_closed));
    json_kv_u64(w, "sessions_idle_closed", ri_load(&x->sessions_idle_closed));
    stats_json(w, &x->total);
    json_kv_u64(w, "arp_replies", x->arp_replies);
    json_kv_u64(w, "frames_foreign", x->frames_foreign);
    json_key(w, "latency_us");
    json_obj_begin(w);
    json_kv_str(w, "measures", "echo: message read -> its echo acknowledged by the peer's SCTP");
    json_kv_dbl(w, "p50", met_hist_percentile(&x->latency, 50) / 1e3, 3);
    json_kv_dbl(w, "p95", met_hist_percentile(&x->latency, 95) / 1e3, 3);
    json_kv_dbl(w, "p99", met_hist_percentile(&x->latency, 99) / 1e3, 3);
    json_kv_dbl(w, "max", met_hist_percentile(&x->latency, 100) / 1e3, 3);
    json_kv_u64(w, "samples", met_hist_total(&x->latency));
    json_obj_end(w);
    json_key(w, "session_log");
    json_arr_begin(w);
    uint32_t n = ri_load(&x->log_n);
    for (uint32_t i = 0; i < n && i < RI_EXTERNAL_LOG; i++) {
        const struct ri_ext_log *l = &x->log[i];
        json_obj_begin(w);
        json_kv_u64(w, "agent", l->agent);
        json_kv_u64(w, "slot", l->slot);
        json_kv_str(w, "state", l->state == RI_EXT_FAILED ? "failed" : "closed");
        if (l->state == RI_EXT_FAILED)
            json_kv_str(w, "failed_stage", ctl_stage_name(l->fail_stage));
        if (l->dtls_failure[0])
            json_kv_str(w, "dtls_failure", l->dtls_failure);
        json_kv_str(w, "dtls_role", l->dtls_client ? "client" : "server");
        json_key(w, "dtls_version");
        if (l->dtls_version)
            json_str(w, ctl_dtls_name((uint32_t)ri_dtls_index(l->dtls_version)));
        else
            json_null(w);
        json_kv_bool(w, "closed_by_peer", l->closed_by_peer);
        json_kv_dbl(w, "setup_ms", l->setup_ns / 1e6, 3);
        json_kv_dbl(w, "duration_s", l->duration_ns / 1e9, 3);
        stats_json(w, &l->s);
        json_obj_end(w);
    }
    json_arr_end(w);
    json_obj_end(w);
}

void ctl_external_report_summary(FILE *f, const struct ctl_external *e)
{
    if (!e || !e->x || e->mode == RI_EXT_OFF)
        return;
    const struct ri_external *x = e->x;
    fprintf(
        f,
        "  external     %s on port %u: %llu sessions (%llu up, %llu failed), %llu offers rejected; "
        "%llu messages in, %llu echoed, %llu injected; echo acknowledged p50 %.1f us, p99 %.1f "
        "us; DTLS %s offered, up 1.2 %llu, 1.3 %llu; KeyUpdates %llu sent, %llu received\n",
        e->mode == RI_EXT_ROUTE ? "route" : "echo", e->signal_port, (unsigned long long)x->sessions,
        (unsigned long long)x->sessions_up, (unsigned long long)x->sessions_failed,
        (unsigned long long)e->sig_stats.rejected_4xx, (unsigned long long)x->total.msgs_in,
        (unsigned long long)x->total.msgs_echoed, (unsigned long long)x->total.msgs_injected,
        met_hist_percentile(&x->latency, 50) / 1e3, met_hist_percentile(&x->latency, 99) / 1e3,
        ctl_dtls_offer_name(e->dtls_versions), (unsigned long long)x->sessions_up_dtls[0],
        (unsigned long long)x->sessions_up_dtls[1], (unsigned long long)x->total.dtls_key_updates_out,
        (unsigned long long)x->total.dtls_key_updates_in);
}
