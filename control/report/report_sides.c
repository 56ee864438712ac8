/* SPDX-License-Identifier: MIT */
/*
 * report_sides: see report_sides.h.
 *
 * Frames are counted at the dataplane's side ports, over the whole run
 * (connect phase, ARP and drain included), so they compare one to one
 * with the DUT's own interface counters: what side A sent is what the
 * DUT received on A's link, what side B received is what the DUT sent on
 * B's. A direction's "lost in the DUT" is the agents' IPv4 frames sent on
 * one side minus those received on the other.
 */
#include "report_sides.h"

#include <inttypes.h>

#include "met_stats.h"

static const char *const side_key[2] = {"side_a", "side_b"};
static const char *const dir_key[2] = {"a_to_b", "b_to_a"};
static const char *const dir_name[2] = {"A->B", "B->A"};

static void ip_text(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff);
}

static void mac_text(uint64_t mac, char out[18])
{
    const uint8_t *b = (const uint8_t *)&mac;
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* IPv4 frames sent on side d's port that did not come back on the other. */
static int64_t dut_lost(const struct ri_counters *c, int d)
{
    return (int64_t)c->side_ip_tx[d] - (int64_t)c->side_ip_rx[1 - d];
}

/* --shard: this shard's part of the swarm */
static void shard_summary(FILE *f, const struct ctl_run_result *r)
{
    const struct ri_counters *c = &r->final->total;
    fprintf(f, "  shard        %u of %u (agents i with i %% %u == %u), link %s: out %" PRIu64 " frames %" PRIu64
               " B, in %" PRIu64 " frames %" PRIu64 " B\n",
            r->opts->shard, r->opts->n_shards, r->opts->n_shards, r->opts->shard, r->opts->ports[0],
            c->side_frames_tx[0], c->side_bytes_tx[0], c->side_frames_rx[0], c->side_bytes_rx[0]);
    fprintf(f, "               halves of other shards' connections %" PRIu64 "/%" PRIu64 " up (%" PRIu64
               " given up); ",
            c->conn_halves_up, c->conn_halves_total, c->conn_halves_given_up);
    if (r->opts->clock_wall)
        fprintf(f, "clocks in step (--clock ptp): messages from other shards timed too");
    else
        fprintf(f, "%" PRIu64 " messages from other shards delivered here (no one-way latency across clocks)",
                c->msgs_remote_delivered);
    fprintf(f, "; the swarm's loss: swarmgen report --merge\n");
    if (c->conn_shard_lost) {
        fprintf(f, "               gone:");
        for (uint32_t s = 0; r->shards_gone && s < r->opts->n_shards; s++)
            if (r->shards_gone[s / 64] >> (s % 64) & 1)
                fprintf(f, " shard %u", s);
        fprintf(f, "; %" PRIu64 " connections with their agents ended (up ones closed, the others given up at "
                   "their stage)\n", c->conn_shard_lost);
    }
}

static void shard_json(struct json_writer *w, const struct ctl_run_result *r)
{
    const struct ri_counters *c = &r->final->total;
    json_key(w, "shard");
    json_obj_begin(w);
    json_kv_u64(w, "index", r->opts->shard);
    json_kv_u64(w, "count", r->opts->n_shards);
    json_kv_u64(w, "seed", r->opts->seed);
    json_kv_str(w, "clock", r->opts->clock_wall ? "ptp" : "local");
    json_kv_str(w, "link", r->opts->ports[0]);
    json_kv_u64(w, "link_frames_out", c->side_frames_tx[0]);
    json_kv_u64(w, "link_bytes_out", c->side_bytes_tx[0]);
    json_kv_u64(w, "link_frames_in", c->side_frames_rx[0]);
    json_kv_u64(w, "link_bytes_in", c->side_bytes_rx[0]);
    json_kv_u64(w, "halves_total", c->conn_halves_total);
    json_kv_u64(w, "halves_up", c->conn_halves_up);
    json_kv_u64(w, "halves_given_up", c->conn_halves_given_up);
    json_kv_u64(w, "remote_delivered", c->msgs_remote_delivered);
    json_kv_u64(w, "connections_lost", c->conn_shard_lost);
    json_key(w, "gone");
    json_arr_begin(w);
    for (uint32_t s = 0; r->shards_gone && s < r->opts->n_shards; s++)
        if (r->shards_gone[s / 64] >> (s % 64) & 1)
            json_u64(w, s);
    json_arr_end(w);
    json_obj_end(w);
}

void ctl_report_sides_summary(FILE *f, const struct ctl_run_result *r)
{
    if (r->opts->n_shards)
        shard_summary(f, r);
    if (!r->opts->sides)
        return;
    const struct ri_counters *c = &r->final->total;
    for (int s = 0; s < 2; s++) {
        char gw[16] = "none", mac[18] = "";
        if (r->opts->side_gateway[s]) {
            ip_text(r->opts->side_gateway[s], gw);
            mac_text(r->side_gw_mac[s], mac);
        }
        fprintf(f, "  side %c       %s: out %" PRIu64 " frames %" PRIu64 " B, in %" PRIu64 " frames %" PRIu64
                   " B, ARP answered %" PRIu64 ", gateway %s%s%s\n",
                'A' + s, r->opts->side[s], c->side_frames_tx[s], c->side_bytes_tx[s], c->side_frames_rx[s],
                c->side_bytes_rx[s], c->side_arp_replies[s], gw, *mac ? " at " : "", mac);
    }
    for (int d = 0; d < 2; d++) {
        const struct met_hist *h = &r->final->dir_latency[d];
        fprintf(f, "  %s         frames %" PRIu64 " out, %" PRIu64 " in (DUT lost %" PRId64 "), messages %" PRIu64
                   ", latency p50 %.1f us, p99 %.1f us, max %.1f us\n",
                dir_name[d], c->side_ip_tx[d], c->side_ip_rx[1 - d], dut_lost(c, d), c->dir_msgs_delivered[d],
                met_hist_percentile(h, 50) / 1e3, met_hist_percentile(h, 99) / 1e3, h->max / 1e3);
    }
}

static void latency_ms(struct json_writer *w, const struct met_hist *h)
{
    json_key(w, "latency_ms");
    json_obj_begin(w);
    json_kv_dbl(w, "p50", met_hist_percentile(h, 50) / 1e6, 6);
    json_kv_dbl(w, "p90", met_hist_percentile(h, 90) / 1e6, 6);
    json_kv_dbl(w, "p99", met_hist_percentile(h, 99) / 1e6, 6);
    json_kv_dbl(w, "max", h->max / 1e6, 6);
    json_kv_u64(w, "samples", met_hist_total(h));
    json_obj_end(w);
}

void ctl_report_sides_json(struct json_writer *w, const struct ctl_run_result *r)
{
    if (r->opts->n_shards)
        shard_json(w, r);
    if (!r->opts->sides)
        return;
    const struct ri_counters *c = &r->final->total;
    json_key(w, "sides");
    json_obj_begin(w);
    json_kv_str(w, "cross", r->opts->cross_all ? "all" : "sides");
    for (int s = 0; s < 2; s++) {
        json_key(w, side_key[s]);
        json_obj_begin(w);
        json_kv_str(w, "port", r->opts->side[s]);
        char net[16];
        ip_text(RI_SIDE_NET(CTL_IP_BASE, s), net);
        json_kv_str(w, "subnet", net);
        json_kv_u64(w, "agents", (r->opts->agents + 1 - (uint32_t)s) / 2);
        json_kv_u64(w, "frames_out", c->side_frames_tx[s]);
        json_kv_u64(w, "bytes_out", c->side_bytes_tx[s]);
        json_kv_u64(w, "frames_in", c->side_frames_rx[s]);
        json_kv_u64(w, "bytes_in", c->side_bytes_rx[s]);
        json_kv_u64(w, "ip_frames_out", c->side_ip_tx[s]);
        json_kv_u64(w, "ip_frames_in", c->side_ip_rx[s]);
        json_kv_u64(w, "arp_replies", c->side_arp_replies[s]);
        json_kv_u64(w, "arp_requests", c->side_arp_requests[s]);
        if (r->opts->side_gateway[s]) {
            char gw[16], mac[18];
            ip_text(r->opts->side_gateway[s], gw);
            mac_text(r->side_gw_mac[s], mac);
            json_kv_str(w, "gateway", gw);
            json_kv_str(w, "gateway_mac", mac);
            json_kv_u64(w, "gateway_mac_changes", c->side_gw_changes[s]);
        }
        json_obj_end(w);
    }
    for (int d = 0; d < 2; d++) {
        json_key(w, dir_key[d]);
        json_obj_begin(w);
        json_kv_u64(w, "frames_out", c->side_ip_tx[d]);
        json_kv_u64(w, "frames_in", c->side_ip_rx[1 - d]);
        json_kv_dbl(w, "dut_lost", (double)dut_lost(c, d), 15);
        json_kv_u64(w, "messages_delivered", c->dir_msgs_delivered[d]);
        latency_ms(w, &r->final->dir_latency[d]);
        json_obj_end(w);
    }
    const struct met_hist *ab = &r->final->dir_latency[0], *ba = &r->final->dir_latency[1];
    json_kv_dbl(w, "round_trip_p50_ms",
                (double)(met_hist_percentile(ab, 50) + met_hist_percentile(ba, 50)) / 1e6, 6);
    json_obj_end(w);
}

/* s with <, > and & as entities */
static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

void ctl_report_sides_html(FILE *f, const struct ctl_run_result *r)
{
    if (!r->opts->sides)
        return;
    const struct ri_counters *c = &r->final->total;
    fputs("<h2>Two sides</h2><table><tr><th>side</th><th>port</th><th>frames out</th><th>bytes out</th>"
          "<th>frames in</th><th>bytes in</th><th>ARP answered</th><th>gateway</th></tr>\n",
          f);
    for (int s = 0; s < 2; s++) {
        fprintf(f, "<tr><td>%c</td><td>", 'A' + s);
        html_text(f, r->opts->side[s]);
        fprintf(f,
                "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td>",
                c->side_frames_tx[s], c->side_bytes_tx[s], c->side_frames_rx[s], c->side_bytes_rx[s],
                c->side_arp_replies[s]);
        if (r->opts->side_gateway[s]) {
            char gw[16], mac[18];
            ip_text(r->opts->side_gateway[s], gw);
            mac_text(r->side_gw_mac[s], mac);
            fprintf(f, "%s at %s", gw, mac);
        } else {
            fputs("none", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table><table><tr><th>direction</th><th>frames out</th><th>frames in</th><th>DUT lost</th>"
          "<th>messages</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th></tr>\n",
          f);
    for (int d = 0; d < 2; d++) {
        const struct met_hist *h = &r->final->dir_latency[d];
        fprintf(f,
                "<tr><td>%s</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRIu64
                "</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td></tr>\n",
                dir_name[d], c->side_ip_tx[d], c->side_ip_rx[1 - d], dut_lost(c, d), c->dir_msgs_delivered[d],
                met_hist_percentile(h, 50) / 1e6, met_hist_percentile(h, 99) / 1e6, h->max / 1e6);
    }
    fputs("</table>\n", f);
}
