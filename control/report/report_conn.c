/* SPDX-License-Identifier: MIT */
#include "report_conn.h"

#include <stddef.h>
#include <string.h>

#include "connect.h"
#include "traffic_opts.h"

static const char *media_name(uint8_t m)
{
    return m == RI_MEDIA_AUDIO ? "audio" : m == RI_MEDIA_VIDEO ? "video" : "none";
}

static bool is_dc(const struct ctl_run_result *r)
{
    return r->opts->traffic == RI_TRAFFIC_DC;
}

static double ratio(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

/* The mean interarrival jitter the RTCP receiver reports gave, in ms. */
static double jitter_ms(const struct ri_counters *t)
{
    return t->media_jitter_reports ? (double)t->media_jitter_ns_sum / (double)t->media_jitter_reports / 1e6 : 0;
}

/* The largest per-core value of a high-water counter (their sum means nothing). */
static uint64_t peak_per_core(const struct ctl_run_result *r, size_t offset)
{
    uint64_t m = 0;
    for (uint32_t w = 0; w < r->final->n_workers; w++) {
        uint64_t v;
        memcpy(&v, (const char *)&r->final->worker[w] + offset, sizeof(v));
        if (v > m)
            m = v;
    }
    return m;
}

static void ms_percentiles(struct json_writer *w, const struct met_hist *h, bool with_max)
{
    json_kv_dbl(w, "p50", met_hist_percentile(h, 50) / 1e6, 6);
    json_kv_dbl(w, "p95", met_hist_percentile(h, 95) / 1e6, 6);
    json_kv_dbl(w, "p99", met_hist_percentile(h, 99) / 1e6, 6);
    if (with_max)
        json_kv_dbl(w, "max", h->max / 1e6, 6);
}

static void traffic_json(struct json_writer *w, const struct ctl_run_result *r)
{
    const struct ctl_run_opts *o = r->opts;
    json_key(w, "traffic");
    json_obj_begin(w);
    json_kv_str(w, "kind", is_dc(r) ? "dc" : "udp");
    json_key(w, "mode");
    if (is_dc(r)) {
        char mode[32];
        ctl_dc_mode_format(o->dc_type, o->dc_reliability, mode, sizeof(mode));
        json_str(w, mode);
    } else {
        json_null(w);
    }
    json_kv_str(w, "pattern", ctl_pattern_name(o->pattern));
    json_kv_u64(w, "route_sample", o->route_sample);
    json_kv_u64(w, "size", o->msg_size);
    json_kv_bool(w, "sign", o->sign);
    json_obj_end(w);
}

static void certificates_json(struct json_writer *w, const struct ctl_run_result *r)
{
    json_key(w, "certificates");
    json_obj_begin(w);
    json_kv_u64(w, "count", r->n_certs);
    json_kv_dbl(w, "generation_ms", r->cert_gen_ns / 1e6, 3);
    json_kv_dbl(w, "per_certificate_us", r->n_certs ? r->cert_gen_ns / 1e3 / (double)r->n_certs : 0, 3);
    json_obj_end(w);
}

/* Set-up times of the successful attempts, in total and by stage. */
static void setup_ms_json(struct json_writer *w, const struct ctl_run_result *r)
{
    json_key(w, "setup_ms");
    json_obj_begin(w);
    ms_percentiles(w, &r->final->setup[RI_SETUP_TOTAL], true);
    json_kv_u64(w, "samples", met_hist_total(&r->final->setup[RI_SETUP_TOTAL]));
    json_key(w, "by_stage");
    json_obj_begin(w);
    for (uint32_t s = 0; s < RI_STAGE_COUNT; s++) {
        json_key(w, ctl_stage_name(s));
        json_obj_begin(w);
        ms_percentiles(w, &r->final->setup[s], false);
        json_obj_end(w);
    }
    json_obj_end(w);
    json_obj_end(w);
}

/* The connections up by the DTLS version they negotiated (of
 * established: their sum) and the set-up times of each (RI_SETUP_TOTAL's
 * samples split by version). */
static void dtls_json(struct json_writer *w, const struct ctl_run_result *r)
{
    json_key(w, "dtls");
    json_obj_begin(w);
    json_kv_str(w, "offered", ctl_dtls_offer_name(r->opts->dtls_versions));
    for (uint32_t i = 0; i < RI_DTLS_VERSIONS; i++) {
        const struct met_hist *h = &r->final->setup[RI_SETUP_DTLS + i];
        json_key(w, ctl_dtls_key(i));
        json_obj_begin(w);
        json_kv_u64(w, "up", r->final->total.conn_dtls_up[i]);
        json_key(w, "setup_ms");
        json_obj_begin(w);
        ms_percentiles(w, h, true);
        json_kv_u64(w, "samples", met_hist_total(h));
        json_obj_end(w);
        json_obj_end(w);
    }
    /* --dtls-key-update: the endpoints' KeyUpdates, ours acknowledged and
     * the peer's taken (both ends ours: the two match once all are acked) */
    json_key(w, "key_updates");
    json_obj_begin(w);
    json_kv_u64(w, "sent", r->final->total.dtls_key_updates_out);
    json_kv_u64(w, "received", r->final->total.dtls_key_updates_in);
    json_obj_end(w);
    json_obj_end(w);
}

/* --churn: connections.churn (rate as given: per second, or per cent of
 * the connections per second with rate_pct). */
static void churn_json(struct json_writer *w, const struct ctl_run_result *r)
{
    const struct ri_counters *t = &r->final->total;
    json_key(w, "churn");
    json_obj_begin(w);
    json_kv_dbl(w, "rate", r->opts->churn_milli / 1e3, 3);
    json_kv_bool(w, "rate_pct", r->opts->churn_pct);
    json_kv_u64(w, "churned", t->conn_churned);
    json_kv_u64(w, "reestablished", t->conn_churn_resetup);
    json_kv_u64(w, "pending_at_end", t->conn_churn_pending_end);
    json_key(w, "resetup_ms");
    json_obj_begin(w);
    json_kv_dbl(w, "p50", met_hist_percentile(&r->final->resetup, 50) / 1e6, 6);
    json_kv_dbl(w, "p90", met_hist_percentile(&r->final->resetup, 90) / 1e6, 6);
    json_kv_dbl(w, "p99", met_hist_percentile(&r->final->resetup, 99) / 1e6, 6);
    json_kv_dbl(w, "max", r->final->resetup.max / 1e6, 6);
    json_obj_end(w);
    json_kv_u64(w, "msgs_held", t->msgs_churn_held);
    json_kv_u64(w, "msgs_rerouted", 0);
    json_kv_u64(w, "msgs_dropped", t->msgs_churn_dropped);
    json_obj_end(w);
}

static void connections_json(struct json_writer *w, const struct ctl_run_result *r)
{
    struct ctl_connect_figures f;
    ctl_connect_figures(&r->final->total, r->opts->n_shards ? 0 : r->topo->edges, &f);
    json_key(w, "connections");
    json_obj_begin(w);
    json_kv_u64(w, "total", f.total);
    json_kv_u64(w, "attempted", f.attempts);
    json_kv_u64(w, "established", f.up);
    json_key(w, "failed");
    json_obj_begin(w);
    for (uint32_t s = 0; s < RI_STAGE_COUNT; s++)
        json_kv_u64(w, ctl_stage_name(s), f.failed_stage[s]);
    json_obj_end(w);
    json_kv_u64(w, "given_up", f.given_up);
    json_kv_u64(w, "retries", f.retried);
    json_kv_u64(w, "closed", f.closed);
    json_kv_u64(w, "consent_lost", r->final->total.conn_consent_lost);
    json_kv_u64(w, "reestablished", r->final->total.conn_reestablished);
    json_kv_dbl(w, "setup_s", r->connect_s, 6);
    json_kv_dbl(w, "setup_per_s", r->connect_per_s, 6);
    json_kv_bool(w, "timed_out", r->connect_timed_out);
    json_kv_u64(w, "handshake_slots_peak_per_core", peak_per_core(r, offsetof(struct ri_counters, hs_slot_high_water)));
    certificates_json(w, r);
    setup_ms_json(w, r);
    dtls_json(w, r);
    if (r->opts->churn_milli)
        churn_json(w, r);
    json_obj_end(w);
}

static void dc_msgs_json(struct json_writer *w, const struct ri_counters *t)
{
    json_key(w, "dc_msgs");
    json_obj_begin(w);
    json_kv_u64(w, "sent", t->dc_msgs_tx);
    json_kv_u64(w, "received", t->dc_msgs_rx);
    json_obj_end(w);
}

static void sctp_json(struct json_writer *w, const struct ctl_run_result *r)
{
    const struct ri_counters *t = &r->final->total;
    json_key(w, "sctp");
    json_obj_begin(w);
    json_kv_u64(w, "retransmissions", t->sctp_retransmissions);
    json_kv_u64(w, "sacks", t->sctp_sacks);
    json_kv_u64(w, "forward_tsns", t->sctp_forward_tsns);
    json_kv_u64(w, "buffers_per_core", r->opts->sctp_bufs);
    json_kv_u64(w, "buffers_peak_per_core", peak_per_core(r, offsetof(struct ri_counters, sctp_bufs_peak)));
    json_kv_u64(w, "tx_mbuf_waits", t->tx_starved);
    uint32_t hb = ctl_run_sctp_heartbeat_ms(r->opts);
    json_key(w, "heartbeat_ms");
    if (hb)
        json_u64(w, hb);
    else
        json_null(w);
    json_obj_end(w);
}

static void srtp_json(struct json_writer *w, const struct ri_counters *t)
{
    json_key(w, "srtp");
    json_obj_begin(w);
    json_kv_u64(w, "protected", t->srtp_protected);
    json_kv_u64(w, "unprotected", t->srtp_unprotected);
    json_kv_u64(w, "auth_failures", t->srtp_auth_failures);
    json_kv_u64(w, "replays", t->srtp_replays);
    /* --srtp-rekey (docs/srtp.md): key switches sent and seen; packets under an even and
     * an odd key generation, each way; accepted under the previous key in its grace */
    json_kv_u64(w, "rekeys", t->srtp_rekeys);
    json_kv_u64(w, "rekeys_seen", t->srtp_rekeys_seen);
    json_kv_u64(w, "protected_even", t->srtp_protected - t->srtp_protected_odd);
    json_kv_u64(w, "protected_odd", t->srtp_protected_odd);
    json_kv_u64(w, "unprotected_even", t->srtp_unprotected - t->srtp_unprotected_odd);
    json_kv_u64(w, "unprotected_odd", t->srtp_unprotected_odd);
    json_kv_u64(w, "unprotected_previous_key", t->srtp_rx_prev_key);
    json_obj_end(w);
}

static void media_json(struct json_writer *w, const struct ctl_run_result *r)
{
    const struct ri_counters *t = &r->final->total;
    json_key(w, "media");
    json_obj_begin(w);
    json_kv_str(w, "kind", media_name(r->opts->media));
    json_kv_u64(w, "rtp_sent", t->media_rtp_tx);
    json_kv_u64(w, "packets", t->media_rtp_rx);
    json_kv_u64(w, "rtcp_sent", t->media_rtcp_tx);
    json_kv_u64(w, "rtcp_received", t->media_rtcp_rx);
    json_kv_dbl(w, "loss", ratio(t->media_lost, t->media_expected), 9);
    json_kv_dbl(w, "jitter_ms", jitter_ms(t), 6);
    json_obj_end(w);
}

void ctl_report_conn_json(struct json_writer *w, const struct ctl_run_result *r)
{
    traffic_json(w, r);
    if (!is_dc(r))
        return;
    const struct ri_counters *t = &r->final->total;
    connections_json(w, r);
    dc_msgs_json(w, t);
    sctp_json(w, r);
    srtp_json(w, t);
    media_json(w, r);
    json_kv_u64(w, "signature_failures", t->signature_failures);
}

void ctl_report_conn_memory_json(struct json_writer *w, const struct ctl_run_result *r)
{
    if (!is_dc(r))
        return;
    json_kv_u64(w, "connection_bytes", r->mem_conn_bytes);
    json_kv_u64(w, "handshake_bytes", r->mem_hs_bytes);
    json_kv_u64(w, "certificate_bytes", r->mem_cert_bytes);
    json_kv_dbl(w, "bytes_per_connection_state",
                r->topo->edges ? (double)r->mem_conn_bytes / (double)r->topo->edges : 0, 9);
}

void ctl_report_conn_summary(FILE *f, const struct ctl_run_result *r)
{
    char mode[32];
    ctl_dc_mode_format(r->opts->dc_type, r->opts->dc_reliability, mode, sizeof(mode));
    if (!is_dc(r)) {
        fprintf(f, "  traffic      udp (plain UDP agent messages, no connections), %s, %u bytes\n",
                ctl_pattern_name(r->opts->pattern), r->opts->msg_size);
        return;
    }
    char hb[32] = "off";
    if (ctl_run_sctp_heartbeat_ms(r->opts))
        snprintf(hb, sizeof(hb), "every %g s", ctl_run_sctp_heartbeat_ms(r->opts) / 1e3);
    fprintf(f, "  traffic      dc: DataChannel %s, %s, %u-byte messages%s; SCTP heartbeat %s\n", mode,
            ctl_pattern_name(r->opts->pattern), r->opts->msg_size,
            r->opts->sign ? ", Ed25519-signed" : "", hb);
    const struct ri_counters *t = &r->final->total;
    const struct met_hist *h = &r->final->setup[RI_SETUP_TOTAL];
    struct ctl_connect_figures c;
    ctl_connect_figures(t, r->opts->n_shards ? 0 : r->topo->edges, &c);
    fprintf(f,
            "  connections  %llu/%llu up (%.4f%%) in %.1f s (%.0f/s)%s, set-up p50 %.1f p95 %.1f "
            "p99 %.1f ms; failed ice %llu dtls %llu sctp %llu dc %llu, given up %llu\n",
            (unsigned long long)c.up, (unsigned long long)c.total, 100.0 * ratio(c.up, c.total),
            r->connect_s, r->connect_per_s, r->connect_timed_out ? " (--setup-timeout)" : "",
            met_hist_percentile(h, 50) / 1e6, met_hist_percentile(h, 95) / 1e6,
            met_hist_percentile(h, 99) / 1e6, (unsigned long long)c.failed_stage[RI_STAGE_ICE],
            (unsigned long long)c.failed_stage[RI_STAGE_DTLS],
            (unsigned long long)c.failed_stage[RI_STAGE_SCTP],
            (unsigned long long)c.failed_stage[RI_STAGE_DC], (unsigned long long)c.given_up);
    fprintf(f, "  dtls         offered %s:", ctl_dtls_offer_name(r->opts->dtls_versions));
    for (uint32_t i = 0; i < RI_DTLS_VERSIONS; i++) {
        const struct met_hist *hv = &r->final->setup[RI_SETUP_DTLS + i];
        fprintf(f, "%s %s %llu up, set-up p50 %.1f p95 %.1f p99 %.1f ms", i ? ";" : "", ctl_dtls_name(i),
                (unsigned long long)t->conn_dtls_up[i], met_hist_percentile(hv, 50) / 1e6,
                met_hist_percentile(hv, 95) / 1e6, met_hist_percentile(hv, 99) / 1e6);
    }
    if (t->dtls_key_updates_out || t->dtls_key_updates_in)
        fprintf(f, "; KeyUpdates %llu sent, %llu received", (unsigned long long)t->dtls_key_updates_out,
                (unsigned long long)t->dtls_key_updates_in);
    fputc('\n', f);
    if (c.retried || c.closed)
        fprintf(f,
                "               retried %llu attempts, %llu connections closed after coming up\n",
                (unsigned long long)c.retried, (unsigned long long)c.closed);
    if (r->opts->consent)
        fprintf(f, "               consent (RFC 7675): %llu connections lost it, %llu closed ones set up again\n",
                (unsigned long long)t->conn_consent_lost, (unsigned long long)t->conn_reestablished);
    if (r->opts->churn_milli) {
        const struct met_hist *hr = &r->final->resetup;
        fprintf(f,
                "  churn        %.3g%s/s: %llu closed (SCTP SHUTDOWN, DTLS close_notify), %llu set up again, %llu still on their way at the end "
                "(p50 %.1f p90 %.1f p99 %.1f max %.1f ms); messages waited %llu, dropped %llu\n",
                r->opts->churn_milli / 1e3, r->opts->churn_pct ? "%" : "", (unsigned long long)t->conn_churned,
                (unsigned long long)t->conn_churn_resetup, (unsigned long long)t->conn_churn_pending_end,
                met_hist_percentile(hr, 50) / 1e6,
                met_hist_percentile(hr, 90) / 1e6, met_hist_percentile(hr, 99) / 1e6, hr->max / 1e6,
                (unsigned long long)t->msgs_churn_held, (unsigned long long)t->msgs_churn_dropped);
    }
    if (r->n_certs)
        fprintf(f, "  certificates %llu self-signed ECDSA P-256, one per agent, made in %.1f ms (%.1f us each)\n",
                (unsigned long long)r->n_certs, r->cert_gen_ns / 1e6, r->cert_gen_ns / 1e3 / (double)r->n_certs);
    fprintf(f,
            "  sctp         dc messages sent %llu, received %llu; retransmissions %llu, sacks "
            "%llu, forward tsns %llu\n",
            (unsigned long long)t->dc_msgs_tx, (unsigned long long)t->dc_msgs_rx,
            (unsigned long long)t->sctp_retransmissions, (unsigned long long)t->sctp_sacks,
            (unsigned long long)t->sctp_forward_tsns);
    if (r->opts->media != RI_MEDIA_NONE) {
        fprintf(f,
                "  media        %s: rtp sent %llu, received %llu, rtcp sent %llu, received %llu, "
                "loss %.4f%%, jitter %.3f ms\n",
                media_name(r->opts->media), (unsigned long long)t->media_rtp_tx,
                (unsigned long long)t->media_rtp_rx, (unsigned long long)t->media_rtcp_tx,
                (unsigned long long)t->media_rtcp_rx,
                100.0 * ratio(t->media_lost, t->media_expected), jitter_ms(t));
        fprintf(
            f,
            "  srtp         protected %llu, unprotected %llu, auth failures %llu, replays %llu\n",
            (unsigned long long)t->srtp_protected, (unsigned long long)t->srtp_unprotected,
            (unsigned long long)t->srtp_auth_failures, (unsigned long long)t->srtp_replays);
        if (r->opts->srtp_rekey_ns)
            fprintf(f,
                    "  srtp rekey   every %llu ms: %llu switches sent, %llu seen; protected %llu even / %llu odd "
                    "generation, unprotected %llu / %llu, %llu under the previous key\n",
                    (unsigned long long)(r->opts->srtp_rekey_ns / 1000000u), (unsigned long long)t->srtp_rekeys,
                    (unsigned long long)t->srtp_rekeys_seen,
                    (unsigned long long)(t->srtp_protected - t->srtp_protected_odd),
                    (unsigned long long)t->srtp_protected_odd,
                    (unsigned long long)(t->srtp_unprotected - t->srtp_unprotected_odd),
                    (unsigned long long)t->srtp_unprotected_odd, (unsigned long long)t->srtp_rx_prev_key);
    }
    if (r->opts->sign)
        fprintf(f, "  signature    %llu verification failures\n",
                (unsigned long long)t->signature_failures);
}
