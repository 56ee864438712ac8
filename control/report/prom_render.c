/* SPDX-License-Identifier: MIT */
/* The Prometheus text exposition of a metrics snapshot. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"

struct out {
    char *buf;
    size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* The # HELP and # TYPE lines of a metric family. */
static void family(struct out *o, const char *name, const char *help, const char *type)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct out *o, const char *name, const char *help, uint64_t v)
{
    family(o, name, help, "counter");
    put(o, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(struct out *o, const char *name, const char *help, double v)
{
    family(o, name, help, "gauge");
    put(o, "%s %.17g\n", name, v);
}

/* A counter family with one sample per value of `label`: name{label="key[i]"} v[i]. */
static void labelled(struct out *o, const char *name, const char *help, const char *label,
                     const char *const *key, const uint64_t *v, size_t n)
{
    family(o, name, help, "counter");
    for (size_t i = 0; i < n; i++)
        put(o, "%s{%s=\"%s\"} %llu\n", name, label, key[i], (unsigned long long)v[i]);
}

/* The seconds of each core's cycle counter at `offset` in struct ri_counters. */
static void core_seconds(struct out *o, const char *name, const char *help,
                         const struct ctl_snap *s, size_t offset, double hz)
{
    family(o, name, help, "counter");
    for (uint32_t w = 0; w < s->n_workers; w++) {
        uint64_t cycles;
        memcpy(&cycles, (const char *)&s->worker[w] + offset, sizeof(cycles));
        put(o, "%s{core=\"%u\"} %.9f\n", name, w, (double)cycles / hz);
    }
}

/* Upper bounds of the exported latency buckets, in ns, on a 1-2-5 ladder.
 * Each is moved to the largest value of the histogram bucket holding it, so
 * an exported bucket counts exactly the values <= its le (1 us becomes
 * 1.003 us, for instance). */
static const uint64_t ladder_ns[] = {
    1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
    1000000, 2000000, 5000000, 10000000, 20000000, 50000000, 100000000,
    200000000, 500000000, 1000000000, 2000000000, 5000000000ull, 10000000000ull};

/* The same for connection set-up times: 1 ms to 10 minutes. */
static const uint64_t setup_ladder_ns[] = {
    1000000, 2000000, 5000000, 10000000, 20000000, 50000000, 100000000, 200000000, 500000000,
    1000000000, 2000000000, 5000000000ull, 10000000000ull, 20000000000ull, 50000000000ull,
    100000000000ull, 200000000000ull, 600000000000ull};

/* A histogram family `name` (seconds) from `h` (ns) with the bucket tops
 * of `ladder` moved to the histogram's own bucket tops. */
static void histogram(struct out *o, const char *name, const char *help, const struct met_hist *h,
                      const uint64_t *ladder, size_t n_ladder)
{
    family(o, name, help, "histogram");
    uint64_t cum = 0;
    uint32_t next_bucket = 0;
    for (size_t k = 0; k < n_ladder; k++) {
        uint32_t last = met_hist_index(ladder[k]);
        uint64_t le = met_hist_bucket_low(last) + met_hist_bucket_width(last) - 1;
        for (; next_bucket <= last && next_bucket < MET_HIST_BUCKETS; next_bucket++)
            cum += h->bucket[next_bucket];
        put(o, "%s_bucket{le=\"%.9g\"} %llu\n", name, (double)le / 1e9, (unsigned long long)cum);
    }
    uint64_t total = met_hist_total(h);
    put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)total);
    put(o, "%s_sum %.9f\n", name, (double)h->sum / 1e9);
    put(o, "%s_count %llu\n", name, (unsigned long long)total);
}

/* The peer-connection families (--traffic dc). */
static void connections(struct out *o, const struct ctl_snap *s)
{
    const struct ri_counters *t = &s->total;
    counter(o, "swarmgen_connections_total", "Peer connections the dataplane owns (one per mesh edge).",
            t->conn_total);
    counter(o, "swarmgen_connection_attempts_total", "Peer-connection set-up attempts started, retries included.",
            t->conn_attempts);
    counter(o, "swarmgen_connections_established_total",
            "Peer connections that came up (both DataChannel ends open).", t->conn_established);
    static const char *const versions[RI_DTLS_VERSIONS] = {"1.2", "1.3"};
    labelled(o, "swarmgen_connections_established_by_dtls_total",
             "Of the peer connections that came up, those that negotiated each DTLS version.", "version", versions,
             t->conn_dtls_up, RI_DTLS_VERSIONS);
    counter(o, "swarmgen_dtls_key_updates_sent_total",
            "DTLS 1.3 KeyUpdates of the mesh's endpoints acknowledged by the peer (--dtls-key-update).",
            t->dtls_key_updates_out);
    counter(o, "swarmgen_dtls_key_updates_received_total",
            "DTLS 1.3 KeyUpdates of the peer that the mesh's endpoints took (--dtls-key-update).",
            t->dtls_key_updates_in);
    family(o, "swarmgen_connection_setup_p99_seconds",
           "99th percentile of the set-up time of the connections that negotiated each DTLS version "
           "(0 when none did).",
           "gauge");
    for (uint32_t i = 0; i < RI_DTLS_VERSIONS; i++)
        put(o, "swarmgen_connection_setup_p99_seconds{version=\"%s\"} %.9f\n", versions[i],
            (double)met_hist_percentile(&s->setup[RI_SETUP_DTLS + i], 99) / 1e9);
    const char *stages[RI_STAGE_COUNT];
    for (uint32_t i = 0; i < RI_STAGE_COUNT; i++)
        stages[i] = ctl_stage_name(i);
    labelled(o, "swarmgen_connection_attempt_failures_total",
             "Set-up attempts that failed, by the stage they were in.", "stage", stages,
             t->conn_attempt_failed, RI_STAGE_COUNT);
    counter(o, "swarmgen_connections_given_up_total", "Peer connections whose every attempt failed.",
            t->conn_given_up);
    counter(o, "swarmgen_connections_closed_total", "Established peer connections that went down later.",
            t->conn_closed);
    counter(o, "swarmgen_connections_churned_total",
            "Peer connections closed on purpose by --churn (SCTP SHUTDOWN, DTLS close_notify).", t->conn_churned);
    counter(o, "swarmgen_connections_churn_reestablished_total",
            "Churned peer connections set up again (a new ICE, DTLS, SCTP and DataChannel set-up).",
            t->conn_churn_resetup);
    counter(o, "swarmgen_churn_messages_held_total",
            "Agent messages that waited for a connection being replaced (--churn).", t->msgs_churn_held);
    counter(o, "swarmgen_churn_messages_dropped_total",
            "Agent messages for a connection being replaced that could not wait (--churn).", t->msgs_churn_dropped);
    family(o, "swarmgen_churn_resetup_p99_seconds",
           "99th percentile of the re-set-up time of churned connections (close started to up again).", "gauge");
    put(o, "swarmgen_churn_resetup_p99_seconds %.9f\n", (double)met_hist_percentile(&s->resetup, 99) / 1e9);
    counter(o, "swarmgen_datachannel_messages_sent_total", "DataChannel messages sent (every hop).",
            t->dc_msgs_tx);
    counter(o, "swarmgen_datachannel_messages_received_total", "DataChannel messages received (every hop).",
            t->dc_msgs_rx);
    counter(o, "swarmgen_sctp_retransmissions_total", "SCTP DATA chunks retransmitted.",
            t->sctp_retransmissions);
    static const char *const dirs[] = {"sent", "received"};
    const uint64_t rtp[] = {t->media_rtp_tx, t->media_rtp_rx}, rtcp[] = {t->media_rtcp_tx, t->media_rtcp_rx};
    labelled(o, "swarmgen_rtp_packets_total", "RTP packets of the media streams (--media), by direction.",
             "direction", dirs, rtp, 2);
    labelled(o, "swarmgen_rtcp_packets_total", "RTCP packets of the media streams (--media), by direction.",
             "direction", dirs, rtcp, 2);
    static const char *const outcomes[] = {"protected", "unprotected", "auth_failure", "replay"};
    const uint64_t srtp[] = {t->srtp_protected, t->srtp_unprotected, t->srtp_auth_failures, t->srtp_replays};
    labelled(o, "swarmgen_srtp_packets_total",
             "SRTP and SRTCP packets: protected on the way out; unprotected, failed authentication or "
             "replayed on the way in.",
             "outcome", outcomes, srtp, 4);
    static const char *const ways[] = {"sent", "seen"};
    const uint64_t rekeys[] = {t->srtp_rekeys, t->srtp_rekeys_seen};
    labelled(o, "swarmgen_srtp_rekeys_total",
             "SRTP master key switches (--srtp-rekey): sent by a sender, seen by its receiver.", "way", ways,
             rekeys, 2);
    static const char *const gens[] = {"protected_even", "protected_odd", "unprotected_even", "unprotected_odd",
                                       "unprotected_previous_key"};
    const uint64_t by_gen[] = {t->srtp_protected - t->srtp_protected_odd, t->srtp_protected_odd,
                               t->srtp_unprotected - t->srtp_unprotected_odd, t->srtp_unprotected_odd,
                               t->srtp_rx_prev_key};
    labelled(o, "swarmgen_srtp_key_packets_total",
             "SRTP and SRTCP packets by the parity of the key generation they were under (--srtp-rekey); "
             "unprotected_previous_key: accepted under the key the peer left, in its grace window.",
             "key", gens, by_gen, 5);
    histogram(o, "swarmgen_connection_setup_seconds",
              "Peer-connection set-up time, start of the successful attempt to both DataChannel "
              "ends open (le bounds are histogram bucket tops near a 1-2-5 ladder: exact counts).",
              &s->setup[RI_SETUP_TOTAL], setup_ladder_ns, sizeof(setup_ladder_ns) / sizeof(setup_ladder_ns[0]));
}

/* The external-peer families (--external, control/signal/external.h): the run
 * image's EXTERNAL section as worker 0 writes it (monotonic counters). */
static void external(struct out *o, const struct ri_external *x)
{
    counter(o, "swarmgen_external_sessions_total", "External WebRTC sessions the dataplane started.",
            x->sessions);
    counter(o, "swarmgen_external_sessions_up_total", "External sessions whose DataChannel opened.",
            x->sessions_up);
    static const char *const versions[RI_DTLS_VERSIONS] = {"1.2", "1.3"};
    labelled(o, "swarmgen_external_sessions_up_by_dtls_total",
             "Of the external sessions whose DataChannel opened, those that negotiated each DTLS version.",
             "version", versions, x->sessions_up_dtls, RI_DTLS_VERSIONS);
    counter(o, "swarmgen_external_sessions_failed_total", "External sessions that failed in set-up.",
            x->sessions_failed);
    static const char *const outcomes[] = {"received", "echoed", "injected", "dropped"};
    const uint64_t msgs[] = {x->total.msgs_in, x->total.msgs_echoed, x->total.msgs_injected,
                             x->total.msgs_dropped};
    labelled(o, "swarmgen_external_messages_total",
             "DataChannel messages of external peers, by what became of them.", "outcome", outcomes,
             msgs, 4);
    histogram(o, "swarmgen_external_echo_latency_seconds",
              "External echo: message read by the agent to its echo acknowledged by the peer "
              "(le bounds are histogram bucket tops near a 1-2-5 ladder: exact counts).",
              &x->latency, ladder_ns, sizeof(ladder_ns) / sizeof(ladder_ns[0]));
}

size_t ctl_prom_render(char *buf, size_t cap, const struct ctl_snap *s,
                       const struct ctl_prom_info *info)
{
    struct out o = {buf, cap, 0};
    const struct ri_counters *t = &s->total;
    counter(&o, "swarmgen_messages_sent_total", "Agent messages generated.", t->msgs_sent);
    counter(&o, "swarmgen_messages_delivered_total", "Agent messages that reached their destination.",
            t->msgs_delivered);
    counter(&o, "swarmgen_messages_forwarded_total", "Relays of agent messages by intermediate agents.",
            t->msgs_forwarded);
    counter(&o, "swarmgen_messages_dropped_total", "Agent messages dropped in flight.", t->msgs_dropped);
    counter(&o, "swarmgen_packets_transmitted_total", "Frames transmitted by the dataplane.", t->pkts_tx);
    counter(&o, "swarmgen_packets_received_total", "Frames received by the dataplane.", t->pkts_rx);
    counter(&o, "swarmgen_transmitted_bytes_total", "L2 frame bytes transmitted.", t->bytes_tx);
    counter(&o, "swarmgen_received_bytes_total", "L2 frame bytes received.", t->bytes_rx);
    const char *reasons[RI_DROP_COUNT];
    for (uint32_t i = 0; i < RI_DROP_COUNT; i++)
        reasons[i] = ctl_drop_name(i);
    labelled(&o, "swarmgen_drops_total", "Frames dropped by the dataplane, by reason.", "reason",
             reasons, t->drops, RI_DROP_COUNT);
    double hz = info->tsc_hz ? (double)info->tsc_hz : 1e9;
    core_seconds(&o, "swarmgen_core_busy_seconds_total",
                 "Time dataplane cores spent in loop passes that did work.", s,
                 offsetof(struct ri_counters, cycles_busy), hz);
    core_seconds(&o, "swarmgen_core_seconds_total", "Time dataplane cores spent polling.", s,
                 offsetof(struct ri_counters, cycles_total), hz);

    histogram(&o, "swarmgen_message_latency_seconds",
              "End-to-end latency of delivered agent messages "
              "(le bounds are histogram bucket tops near a 1-2-5 ladder: exact counts).",
              &s->latency, ladder_ns, sizeof(ladder_ns) / sizeof(ladder_ns[0]));
    if (info->connections)
        connections(&o, s);
    if (info->external && info->external->mode != RI_EXT_OFF)
        external(&o, info->external);

    gauge(&o, "swarmgen_target_messages_per_second", "Message rate asked of the dataplane now.",
          info->target_rate);
    gauge(&o, "swarmgen_mbufs_in_use", "Packet buffers of the dataplane's pool in use (all cores).",
          (double)t->mbufs_in_use);
    gauge(&o, "swarmgen_sctp_buffers_in_use",
          "SCTP buffers of the mesh connections in use (all cores; chunks queued, unacknowledged or unread).",
          (double)t->sctp_bufs_in_use);
    gauge(&o, "swarmgen_control_series_bytes",
          "Memory the control process holds for its per-second series (a row a second, kept for the "
          "CSV, the HTML report and the per-phase verdicts).",
          (double)info->series_bytes);
    gauge(&o, "swarmgen_agents", "Simulated agents.", info->agents);
    gauge(&o, "swarmgen_connections", "Mesh edges (peer connections).", (double)info->edges);
    gauge(&o, "swarmgen_elapsed_seconds", "Time since generation began.", info->elapsed_s);
    family(&o, "swarmgen_phase_info", "The load-profile phase running now.", "gauge");
    put(&o, "swarmgen_phase_info{phase=\"");
    for (const char *c = info->phase ? info->phase : ""; *c; c++) {
        if (*c == '"' || *c == '\\')
            put(&o, "\\%c", *c);
        else if (*c == '\n')
            put(&o, "\\n");
        else
            put(&o, "%c", *c);
    }
    put(&o, "\"} 1\n");
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
