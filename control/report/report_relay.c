/* SPDX-License-Identifier: MIT */
/*
 * report_relay: see report_relay.h.
 *
 * Relayed packets and bytes are the peer connections' datagrams (ICE,
 * DTLS, SCTP: UDP payload before the TURN framing) that left through an
 * allocation and came back unwrapped; their rates are over the time from
 * the first relayed datagram to the last.
 */
#include "report_relay.h"

#include <inttypes.h>

#include "met_stats.h"

static const char *const stage_name[RI_RELAY_STAGES] = {"allocate", "permission", "channel", "refresh", "close"};
static const char *const code_name[RI_RELAY_CODES] = {"401", "403", "437", "438", "441",
                                                      "486", "508", "other", "timeout"};

double ctl_relay_alloc_per_s(const struct ri_relay *x)
{
    uint64_t ok = x->ok[RI_RELAY_ALLOCATE];
    if (!ok || x->t_last_alloc_ns <= x->t_start_ns)
        return 0;
    return (double)ok * 1e9 / (double)(x->t_last_alloc_ns - x->t_start_ns);
}

static double pkt_span_s(const struct ri_relay *x)
{
    return x->t_last_pkt_ns > x->t_first_pkt_ns ? (double)(x->t_last_pkt_ns - x->t_first_pkt_ns) / 1e9 : 0;
}

static void ip_text(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff);
}

void ctl_report_relay_summary(FILE *f, const struct ctl_run_result *r)
{
    const struct ri_relay *x = r->relay;
    if (!x)
        return;
    char ip[16];
    ip_text(x->server_ip, ip);
    double span = pkt_span_s(x);
    bool tcp = x->transport == RI_RELAY_TCP;
    fprintf(f, "  relay        turn:%s:%u (%s), user %s, through %s: %" PRIu64 "/%" PRIu64
               " allocated (%.0f/s), %" PRIu64 " agents failed, %" PRIu64 " connections failed in stage turn\n",
            ip, x->server_port, tcp ? "tcp" : "udp", x->user, x->port_desc, x->ok[RI_RELAY_ALLOCATE], x->attempted[RI_RELAY_ALLOCATE],
            ctl_relay_alloc_per_s(x), x->agents_failed, x->conns_failed_turn);
    fprintf(f, "               stages ok/attempted (failed):");
    for (int s = 0; s < RI_RELAY_STAGES; s++)
        fprintf(f, " %s %" PRIu64 "/%" PRIu64 " (%" PRIu64 ")", stage_name[s], x->ok[s], x->attempted[s],
                x->failed[s]);
    fprintf(f, "\n");
    uint64_t nfail = 0;
    for (int c = 0; c < RI_RELAY_CODES; c++)
        nfail += x->fail_code[c];
    if (nfail) {
        fprintf(f, "               failures by code:");
        for (int c = 0; c < RI_RELAY_CODES; c++)
            if (x->fail_code[c])
                fprintf(f, " %s %" PRIu64, code_name[c], x->fail_code[c]);
        fprintf(f, "\n");
    }
    fprintf(f, "               relayed out %" PRIu64 " pkts (%" PRIu64 " ChannelData, %" PRIu64
               " Send), in %" PRIu64 " pkts; %.0f pps, %.2f Mbit/s both ways; released %" PRIu64
               " (%" PRIu64 " unanswered)\n",
            x->pkts_out, x->channel_data_out, x->send_ind_out, x->pkts_in,
            span > 0 ? (double)(x->pkts_out + x->pkts_in) / span : 0,
            span > 0 ? (double)(x->bytes_out + x->bytes_in) * 8 / span / 1e6 : 0, x->released,
            x->release_unanswered);
    if (tcp)
        fprintf(f, "               tcp connections %" PRIu64 "/%" PRIu64 " up (%" PRIu64 " failed, %" PRIu64
                   " reset by the server, %" PRIu64 " closed by it first), %" PRIu64 " closed with FINs both ways, %"
                   PRIu64 " reset by the server after our release, %" PRIu64 " reset by us at the end; segments out %" PRIu64 " in %" PRIu64 ", %" PRIu64
                   " retransmission timeouts, %" PRIu64 " fast retransmits (%" PRIu64 " segments resent), %" PRIu64
                   " bad checksums, %" PRIu64
                   " out of order, %" PRIu64 " messages blocked\n",
                x->tcp_up, x->tcp_attempted, x->tcp_failed, x->tcp_reset, x->tcp_peer_closed, x->tcp_closed,
                x->tcp_fin_reset, x->tcp_aborted, x->tcp_segs_out, x->tcp_segs_in, x->tcp_retransmits, x->tcp_fast_retransmits, x->tcp_retx_segments,
                x->tcp_bad_checksum, x->tcp_out_of_order, x->tcp_blocked);
    if (x->rtt.count)
        fprintf(f, "               round trip to the server (TURN requests) p50 %.0f us, p95 %.0f us, p99 %.0f us "
                   "(%" PRIu64 "); allocation p50 %.1f ms\n",
                met_hist_percentile(&x->rtt, 50) / 1e3, met_hist_percentile(&x->rtt, 95) / 1e3,
                met_hist_percentile(&x->rtt, 99) / 1e3, x->rtt.count, met_hist_percentile(&x->alloc, 50) / 1e6);
}

static void hist_us(struct json_writer *w, const char *key, const struct met_hist *h)
{
    json_key(w, key);
    json_obj_begin(w);
    json_kv_u64(w, "count", h->count);
    json_kv_dbl(w, "p50", met_hist_percentile(h, 50) / 1e3, 6);
    json_kv_dbl(w, "p95", met_hist_percentile(h, 95) / 1e3, 6);
    json_kv_dbl(w, "p99", met_hist_percentile(h, 99) / 1e3, 6);
    json_kv_dbl(w, "max", h->max / 1e3, 6);
    json_obj_end(w);
}

void ctl_report_relay_json(struct json_writer *w, const struct ctl_run_result *r)
{
    const struct ri_relay *x = r->relay;
    if (!x)
        return;
    char ip[16];
    ip_text(x->server_ip, ip);
    double span = pkt_span_s(x);
    json_key(w, "relay");
    json_obj_begin(w);
    json_kv_str(w, "server", ip);
    json_kv_u64(w, "server_port", x->server_port);
    json_kv_str(w, "transport", x->transport == RI_RELAY_TCP ? "tcp" : "udp");
    json_kv_str(w, "user", x->user);
    json_kv_str(w, "realm", x->realm);
    json_kv_str(w, "port", x->port_desc);
    json_kv_u64(w, "local_port", x->local_port);
    json_key(w, "stages");
    json_obj_begin(w);
    for (int s = 0; s < RI_RELAY_STAGES; s++) {
        json_key(w, stage_name[s]);
        json_obj_begin(w);
        json_kv_u64(w, "attempted", x->attempted[s]);
        json_kv_u64(w, "ok", x->ok[s]);
        json_kv_u64(w, "failed", x->failed[s]);
        json_obj_end(w);
    }
    json_obj_end(w);
    json_key(w, "failures_by_code");
    json_obj_begin(w);
    for (int c = 0; c < RI_RELAY_CODES; c++)
        json_kv_u64(w, code_name[c], x->fail_code[c]);
    json_obj_end(w);
    json_kv_u64(w, "allocations", x->ok[RI_RELAY_ALLOCATE]);
    json_kv_dbl(w, "allocations_per_s", ctl_relay_alloc_per_s(x), 6);
    json_key(w, "allocations_per_s_timeline");
    json_arr_begin(w);
    json_compact(w, true);
    uint32_t last = 0;
    for (uint32_t i = 0; i < RI_RELAY_TIMELINE; i++)
        if (x->alloc_per_s[i])
            last = i + 1;
    for (uint32_t i = 0; i < last; i++)
        json_u64(w, x->alloc_per_s[i]);
    json_arr_end(w);
    json_compact(w, false);
    json_kv_u64(w, "agents_failed", x->agents_failed);
    json_kv_u64(w, "conns_failed_turn", x->conns_failed_turn);
    json_kv_u64(w, "released", x->released);
    json_kv_u64(w, "release_unanswered", x->release_unanswered);
    json_kv_u64(w, "pkts_out", x->pkts_out);
    json_kv_u64(w, "bytes_out", x->bytes_out);
    json_kv_u64(w, "pkts_in", x->pkts_in);
    json_kv_u64(w, "bytes_in", x->bytes_in);
    json_kv_u64(w, "channel_data_out", x->channel_data_out);
    json_kv_u64(w, "send_indications_out", x->send_ind_out);
    json_kv_u64(w, "channel_data_in", x->channel_data_in);
    json_kv_u64(w, "data_indications_in", x->data_ind_in);
    json_kv_dbl(w, "pps", span > 0 ? (double)(x->pkts_out + x->pkts_in) / span : 0, 6);
    json_kv_dbl(w, "mbit_per_s", span > 0 ? (double)(x->bytes_out + x->bytes_in) * 8 / span / 1e6 : 0, 6);
    json_kv_u64(w, "wrap_blocked", x->wrap_blocked);
    json_kv_u64(w, "requests", x->requests);
    json_kv_u64(w, "retransmits", x->retransmits);
    json_kv_u64(w, "integrity_failures", x->integrity_failures);
    json_kv_u64(w, "frames_unknown", x->frames_unknown);
    json_kv_u64(w, "frames_foreign", x->frames_foreign);
    json_kv_u64(w, "arp_requests", x->arp_requests);
    json_kv_u64(w, "arp_replies", x->arp_replies);
    if (x->transport == RI_RELAY_TCP) {
        json_key(w, "tcp");
        json_obj_begin(w);
        json_kv_u64(w, "attempted", x->tcp_attempted);
        json_kv_u64(w, "up", x->tcp_up);
        json_kv_u64(w, "failed", x->tcp_failed);
        json_kv_u64(w, "reset_by_server", x->tcp_reset);
        json_kv_u64(w, "closed_by_server", x->tcp_peer_closed);
        json_kv_u64(w, "closed", x->tcp_closed);
        json_kv_u64(w, "reset_after_release", x->tcp_fin_reset);
        json_kv_u64(w, "aborted", x->tcp_aborted);
        json_kv_u64(w, "segs_out", x->tcp_segs_out);
        json_kv_u64(w, "segs_in", x->tcp_segs_in);
        json_kv_u64(w, "retransmits", x->tcp_retransmits);
        json_kv_u64(w, "fast_retransmits", x->tcp_fast_retransmits);
        json_kv_u64(w, "retx_segments", x->tcp_retx_segments);
        json_kv_u64(w, "bad_checksum", x->tcp_bad_checksum);
        json_kv_u64(w, "bad_segments", x->tcp_bad_segments);
        json_kv_u64(w, "out_of_order", x->tcp_out_of_order);
        json_kv_u64(w, "rst_out", x->tcp_rst_out);
        json_kv_u64(w, "stream_malformed", x->stream_malformed);
        json_kv_u64(w, "blocked", x->tcp_blocked);
        json_obj_end(w);
    }
    hist_us(w, "rtt_us", &x->rtt);
    /* every agent message went agent -> server -> agent: the run's one-way latency */
    struct ctl_run_figures g;
    ctl_run_figures(r, &g);
    json_key(w, "message_latency_us");
    json_obj_begin(w);
    json_kv_dbl(w, "p50", (double)g.p50_ns / 1e3, 6);
    json_kv_dbl(w, "p95", (double)g.p95_ns / 1e3, 6);
    json_kv_dbl(w, "p99", (double)g.p99_ns / 1e3, 6);
    json_obj_end(w);
    hist_us(w, "allocate_us", &x->alloc);
    json_obj_end(w);
}
