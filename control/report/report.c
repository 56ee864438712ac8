/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <errno.h>
#include <string.h>

#include "compare.h"
#include "json.h"
#include "report_conn.h"
#include "external.h"
#include "traffic_opts.h"

static const char *const drop_names[] = {
#define NAME(id, name) name,
    RI_DROP_REASONS(NAME)
#undef NAME
};

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void fmt_us(char *buf, size_t len, double us)
{
    if (us >= 10000)
        snprintf(buf, len, "%.1fms", us / 1e3);
    else
        snprintf(buf, len, "%.1fus", us);
}

void ctl_report_progress(FILE *f, const struct ctl_ts_row *row)
{
    char p50[32], p99[32];
    fmt_us(p50, sizeof(p50), row->p50_us);
    fmt_us(p99, sizeof(p99), row->p99_us);
    fprintf(f, "[%6.1fs] %10.0f msg/s %10.0f pkt/s %8.1f Mbit/s  delivered %7.3f%%  p50 %s p99 %s  busy",
            row->t_s, row->delivered_per_s, row->pps, row->mbps,
            row->sent ? pct(row->delivered, row->sent) : 100.0, p50, p99);
    for (uint32_t w = 0; w < row->n_cores; w++)
        fprintf(f, " %3.0f%%", row->busy_pct[w]);
    fputc('\n', f);
    fflush(f);
}

void ctl_run_figures(const struct ctl_run_result *r, struct ctl_run_figures *fig)
{
    const struct ri_counters *t = &r->final->total;
    memset(fig, 0, sizeof(*fig));
    fig->sent = t->msgs_sent;
    fig->delivered = t->msgs_delivered;
    fig->forwarded = t->msgs_forwarded;
    fig->dropped = t->msgs_dropped;
    fig->lost = t->msgs_sent > t->msgs_delivered ? t->msgs_sent - t->msgs_delivered : 0;
    fig->delivery_rate = t->msgs_sent ? (double)t->msgs_delivered / (double)t->msgs_sent : 1.0;
    double d = r->duration_s > 0 ? r->duration_s : 1e-9;
    /* frames count from the start of generation: the connect phase's
     * handshakes are not load (with no generation at all, nothing is) */
    const struct ri_counters *b = r->gen_start ? &r->gen_start->total : r->opts->traffic == RI_TRAFFIC_DC ? t : NULL;
    fig->msgs_per_s = (double)t->msgs_delivered / d;
    fig->pps = (double)(t->pkts_tx - (b ? b->pkts_tx : 0)) / d;
    fig->mbps = (double)(t->bytes_tx - (b ? b->bytes_tx : 0)) * 8 / d / 1e6;
    fig->avg_hops = t->msgs_delivered ? 1.0 + (double)t->hops_delivered / (double)t->msgs_delivered : 0;
    const struct met_hist *h = &r->final->latency;
    fig->p50_ns = met_hist_percentile(h, 50);
    fig->p95_ns = met_hist_percentile(h, 95);
    fig->p99_ns = met_hist_percentile(h, 99);
    fig->p999_ns = met_hist_percentile(h, 99.9);
    fig->max_ns = h->max;
    /* connection state and handshake slots are the dataplane's own heap */
    fig->bytes_total = r->image_bytes + r->dpdk_bytes + r->mem_conn_bytes + r->mem_hs_bytes + r->mem_cert_bytes;
    fig->bytes_per_agent = (double)fig->bytes_total / (double)r->opts->agents;
    fig->bytes_per_connection = r->topo->edges ? (double)fig->bytes_total / (double)r->topo->edges : 0;
}

void ctl_report_summary(FILE *f, const struct ctl_run_result *r)
{
    struct ctl_run_figures g;
    ctl_run_figures(r, &g);
    const struct ctl_topo_stats *s = r->topo;
    fprintf(f, "\nswarmgen run summary%s\n", r->interrupted ? " (interrupted)" : "");
    fprintf(f, "  agents       %u\n", r->opts->agents);
    fprintf(f, "  topology     %s: %llu edges, degree %u..%u (avg %.1f), %s, diameter %u, avg path %.2f, clustering %.4f%s\n",
            r->topology, (unsigned long long)s->edges, s->deg_min, s->deg_max, s->deg_avg,
            s->connected ? "connected" : "NOT connected", s->diameter, s->avg_path_length,
            s->clustering, s->exact ? "" : " (sampled)");
    if (r->opts->pattern != RI_PATTERN_ROUTED)
        fprintf(f, "  routing      none needed (%s pattern)\n", ctl_pattern_name(r->opts->pattern));
    else
        fprintf(f, "  routing      %s (%u destinations)\n",
                r->n_dests == r->opts->agents ? "all pairs" : "traffic-plan destinations only",
                r->n_dests);
    ctl_report_conn_summary(f, r);
    ctl_external_report_summary(f, r->external);
    fprintf(f, "  duration     %.2f s generating, %.2f s draining\n", r->duration_s, r->drain_s);
    fprintf(f, "  messages     sent %llu, delivered %llu (%.4f%%), forwarded %llu, lost %llu, avg hops %.2f\n",
            (unsigned long long)g.sent, (unsigned long long)g.delivered, g.delivery_rate * 100,
            (unsigned long long)g.forwarded, (unsigned long long)g.lost, g.avg_hops);
    fprintf(f, "  throughput   %.0f msg/s, %.0f pkt/s, %.1f Mbit/s (L2 frames)\n", g.msgs_per_s,
            g.pps, g.mbps);
    fprintf(f, "  latency      p50 %.1f us, p95 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
            g.p50_ns / 1e3, g.p95_ns / 1e3, g.p99_ns / 1e3, g.p999_ns / 1e3, g.max_ns / 1e3);
    for (uint32_t w = 0; w < r->final->n_workers; w++) {
        const struct ri_counters *c = &r->final->worker[w];
        fprintf(f, "  core %-7u busy %5.1f%%, rx %llu, tx %llu, handed off %llu, %.0f ns/pass\n",
                r->lcore[w], pct(c->cycles_busy, c->cycles_total),
                (unsigned long long)c->pkts_rx, (unsigned long long)c->pkts_tx,
                (unsigned long long)c->handoff_out,
                c->passes ? (double)c->cycles_total / (double)c->passes * 1e9 / (double)r->tsc_hz : 0);
    }
    fprintf(f, "  ports        %s, %s\n", r->port_desc, r->hugepages ? "hugepages" : "no hugepages");
    fprintf(f, "  memory       %.1f MiB (run image %.1f MiB, DPDK %.1f MiB, connections %.1f MiB, handshake slots %.1f MiB, "
               "certificates %.1f MiB): %.0f bytes per agent, %.0f per connection\n",
            g.bytes_total / 1048576.0, r->image_bytes / 1048576.0, r->dpdk_bytes / 1048576.0,
            r->mem_conn_bytes / 1048576.0, r->mem_hs_bytes / 1048576.0, r->mem_cert_bytes / 1048576.0,
            g.bytes_per_agent, g.bytes_per_connection);
    if (r->opts->n_netem) {
        const struct ri_counters *t = &r->final->total;
        fprintf(f, "  netem       ");
        for (uint32_t c = 0; c < r->opts->n_netem; c++) {
            const struct ri_netem *n = &r->opts->netem[c];
            if (!n->enabled)
                continue;
            fprintf(f, " [%s%s: delay %.1fms jitter %.1fms loss %.2f%%%s dup %.2f%% reorder %.2f%% rate %s]",
                    n->name, c ? "" : " links", n->delay_ns / 1e6, n->jitter_ns / 1e6,
                    (n->gilbert ? n->ge_bad_loss_ppm : n->loss_ppm) / 1e4, n->gilbert ? " (Gilbert-Elliott, while bad)" : "",
                    n->dup_ppm / 1e4, n->reorder_ppm / 1e4, n->rate_bps ? "capped" : "free");
        }
        fprintf(f, "\n               delayed %llu, duplicated %llu (received %llu), reordered %llu, lost %llu, queue drops %llu\n",
                (unsigned long long)t->netem_delayed, (unsigned long long)t->netem_duplicated,
                (unsigned long long)t->msgs_duplicate_rx, (unsigned long long)t->netem_reordered,
                (unsigned long long)t->drops[RI_DROP_NETEM_LOSS],
                (unsigned long long)t->drops[RI_DROP_NETEM_QUEUE]);
    }
    if (r->profile && r->profile->n > 1) {
        fprintf(f, "  phases       %-14s %8s %12s %12s %10s %10s %10s\n", "name", "seconds", "sent",
                "delivered", "p50 us", "p99 us", "msg/s");
        for (uint32_t i = 0; i < r->profile->n; i++) {
            const struct ctl_phase_stats *ps = &r->phase[i];
            if (!ps->seen)
                continue;
            fprintf(f, "               %-14s %8.1f %12llu %12llu %10.1f %10.1f %10.0f\n",
                    r->profile->phase[i].name, ps->seconds, (unsigned long long)ps->c.msgs_sent,
                    (unsigned long long)ps->c.msgs_delivered,
                    ps->lat ? met_hist_percentile(ps->lat, 50) / 1e3 : 0,
                    ps->lat ? met_hist_percentile(ps->lat, 99) / 1e3 : 0,
                    ps->seconds > 0 ? (double)ps->c.msgs_delivered / ps->seconds : 0);
        }
    }
    const struct ctl_judgement *j = r->judge;
    if (j && j->has_spike) {
        if (j->spike_recovered)
            fprintf(f, "  spike        recovered %.1f s after the spike (baseline p99 %.1f us)\n",
                    j->spike_recovery_s, j->baseline_p99_us);
        else
            fprintf(f, "  spike        did not recover before the end of the run (baseline p99 %.1f us)\n",
                    j->baseline_p99_us);
    }
    if (j && j->has_soak)
        fprintf(f, "  soak         resident memory %.0f -> %.0f KiB, growth %.1f KiB/min\n",
                j->rss_start_kib, j->rss_end_kib, j->rss_growth_kib_per_min);
    if (r->sla && r->sla->n) {
        for (uint32_t i = 0; i < r->sla->n; i++) {
            const struct ctl_sla_rule *rule = &r->sla->rule[i];
            char v[48];
            if (j->overall[i].have)
                ctl_sla_format(rule, j->overall[i].value, v, sizeof(v));
            else
                snprintf(v, sizeof(v), "no data");
            fprintf(f, "  sla          %-20s overall %-12s %s", rule->text, v,
                    j->overall[i].holds ? "ok" : "BREACHED");
            for (uint32_t p = 0; r->profile && p < r->profile->n; p++) {
                if (!r->phase[p].seen || j->phase[p][i].holds)
                    continue;
                ctl_sla_format(rule, j->phase[p][i].value, v, sizeof(v));
                fprintf(f, "; %s %s BREACHED", r->profile->phase[p].name, v);
            }
            fputc('\n', f);
        }
        fprintf(f, "  verdict      %s\n", j->breached ? "SLA BREACHED (exit 1)" : "all thresholds hold");
    }
    fprintf(f, "  drops       ");
    bool any = false;
    for (int i = 0; i < RI_DROP_COUNT; i++) {
        if (r->final->total.drops[i]) {
            fprintf(f, " %s=%llu", drop_names[i], (unsigned long long)r->final->total.drops[i]);
            any = true;
        }
    }
    fprintf(f, "%s\n", any ? "" : " none");
}

int ctl_report_json(const char *path, const struct ctl_run_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    struct ctl_run_figures g;
    ctl_run_figures(r, &g);
    const struct ctl_topo_stats *s = r->topo;
    struct json_writer w;
    json_init(&w, f, true);
    json_obj_begin(&w);
    json_kv_str(&w, "tool", "swarmgen");
    json_kv_u64(&w, "agents", r->opts->agents);
    json_kv_str(&w, "backend", ctl_compare_backend_name(r->opts->backend));
    json_kv_bool(&w, "interrupted", r->interrupted);
    json_key(&w, "topology");
    json_obj_begin(&w);
    json_kv_str(&w, "spec", r->topology);
    json_kv_u64(&w, "seed", r->opts->seed);
    json_kv_u64(&w, "edges", s->edges);
    json_kv_dbl(&w, "reduction_pct", s->reduction_pct, 6);
    json_kv_u64(&w, "degree_min", s->deg_min);
    json_kv_u64(&w, "degree_max", s->deg_max);
    json_kv_dbl(&w, "degree_avg", s->deg_avg, 6);
    json_kv_bool(&w, "connected", s->connected);
    json_kv_u64(&w, "diameter", s->diameter);
    json_kv_dbl(&w, "avg_path_length", s->avg_path_length, 6);
    json_kv_dbl(&w, "clustering", s->clustering, 6);
    json_kv_bool(&w, "exact", s->exact);
    json_kv_u64(&w, "route_destinations", r->n_dests);
    json_obj_end(&w);
    json_key(&w, "messages");
    json_obj_begin(&w);
    json_kv_u64(&w, "sent", g.sent);
    json_kv_u64(&w, "delivered", g.delivered);
    json_kv_u64(&w, "forwarded", g.forwarded);
    json_kv_u64(&w, "lost", g.lost);
    json_kv_u64(&w, "dropped_in_flight", g.dropped);
    json_kv_dbl(&w, "delivery_rate", g.delivery_rate, 9);
    json_kv_dbl(&w, "avg_hops", g.avg_hops, 6);
    json_kv_u64(&w, "size_bytes", r->opts->msg_size);
    json_kv_str(&w, "pattern", ctl_pattern_name(r->opts->pattern));
    json_obj_end(&w);
    json_key(&w, "latency_us");
    json_obj_begin(&w);
    json_kv_dbl(&w, "p50", g.p50_ns / 1e3, 6);
    json_kv_dbl(&w, "p95", g.p95_ns / 1e3, 6);
    json_kv_dbl(&w, "p99", g.p99_ns / 1e3, 6);
    json_kv_dbl(&w, "p999", g.p999_ns / 1e3, 6);
    json_kv_dbl(&w, "max", g.max_ns / 1e3, 6);
    json_kv_u64(&w, "samples", met_hist_total(&r->final->latency));
    json_obj_end(&w);
    json_key(&w, "throughput");
    json_obj_begin(&w);
    json_kv_dbl(&w, "msgs_per_s", g.msgs_per_s, 9);
    json_kv_dbl(&w, "pps", g.pps, 9);
    json_kv_dbl(&w, "mbps", g.mbps, 9);
    json_kv_u64(&w, "target_msgs_per_s", r->opts->rate);
    json_obj_end(&w);
    json_key(&w, "cores");
    json_arr_begin(&w);
    for (uint32_t i = 0; i < r->final->n_workers; i++) {
        const struct ri_counters *c = &r->final->worker[i];
        json_obj_begin(&w);
        json_kv_u64(&w, "lcore", r->lcore[i]);
        json_kv_dbl(&w, "busy_pct", pct(c->cycles_busy, c->cycles_total), 6);
        json_kv_u64(&w, "rx", c->pkts_rx);
        json_kv_u64(&w, "tx", c->pkts_tx);
        json_kv_u64(&w, "handoff_out", c->handoff_out);
        json_kv_u64(&w, "handoff_in", c->handoff_in);
        json_kv_u64(&w, "msgs_sent", c->msgs_sent);
        json_kv_u64(&w, "msgs_delivered", c->msgs_delivered);
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_key(&w, "drops");
    json_obj_begin(&w);
    for (int i = 0; i < RI_DROP_COUNT; i++)
        json_kv_u64(&w, drop_names[i], r->final->total.drops[i]);
    json_obj_end(&w);
    json_key(&w, "memory");
    json_obj_begin(&w);
    json_kv_u64(&w, "bytes_total", g.bytes_total);
    json_kv_dbl(&w, "bytes_per_agent", g.bytes_per_agent, 9);
    json_kv_dbl(&w, "bytes_per_connection", g.bytes_per_connection, 9);
    json_kv_u64(&w, "run_image_bytes", r->image_bytes);
    json_kv_u64(&w, "dpdk_bytes", r->dpdk_bytes);
    json_kv_bool(&w, "hugepages", r->hugepages);
    ctl_report_conn_memory_json(&w, r);
    json_obj_end(&w);
    json_kv_dbl(&w, "duration_s", r->duration_s, 9);
    json_kv_dbl(&w, "drain_s", r->drain_s, 6);
    json_key(&w, "setup_s");
    json_obj_begin(&w);
    json_kv_dbl(&w, "topology", r->build_s, 6);
    json_kv_dbl(&w, "analysis", r->analysis_s, 6);
    json_kv_dbl(&w, "routing", r->routing_s, 6);
    json_kv_dbl(&w, "dataplane", r->dp_setup_s, 6);
    json_obj_end(&w);
    json_kv_str(&w, "ports", r->port_desc);
    ctl_report_conn_json(&w, r);
    ctl_external_report_json(&w, r->external);
    if (r->profile) {
        json_key(&w, "profile");
        json_obj_begin(&w);
        json_kv_str(&w, "name", r->profile->name);
        json_kv_bool(&w, "aborted", r->aborted);
        json_key(&w, "phases");
        json_arr_begin(&w);
        for (uint32_t i = 0; i < r->profile->n; i++) {
            const struct ctl_phase *ph = &r->profile->phase[i];
            const struct ctl_phase_stats *ps = &r->phase[i];
            json_obj_begin(&w);
            json_kv_str(&w, "name", ph->name);
            json_kv_dbl(&w, "start_s", ctl_profile_phase_start(r->profile, i) / 1e9, 9);
            json_kv_dbl(&w, "planned_s", ph->duration_ns / 1e9, 9);
            json_kv_dbl(&w, "rate_from", ph->rate_from, 9);
            json_kv_dbl(&w, "rate_to", ph->rate_to, 9);
            json_kv_dbl(&w, "agents_from", ph->agents_from, 6);
            json_kv_dbl(&w, "agents_to", ph->agents_to, 6);
            json_kv_bool(&w, "reached", ps->seen);
            json_kv_dbl(&w, "seconds", ps->seconds, 6);
            json_kv_u64(&w, "sent", ps->c.msgs_sent);
            json_kv_u64(&w, "delivered", ps->c.msgs_delivered);
            json_kv_dbl(&w, "msgs_per_s", ps->seconds > 0 ? ps->c.msgs_delivered / ps->seconds : 0, 9);
            json_key(&w, "latency_us");
            json_obj_begin(&w);
            json_kv_dbl(&w, "p50", ps->lat ? met_hist_percentile(ps->lat, 50) / 1e3 : 0, 6);
            json_kv_dbl(&w, "p95", ps->lat ? met_hist_percentile(ps->lat, 95) / 1e3 : 0, 6);
            json_kv_dbl(&w, "p99", ps->lat ? met_hist_percentile(ps->lat, 99) / 1e3 : 0, 6);
            json_obj_end(&w);
            json_obj_end(&w);
        }
        json_arr_end(&w);
        json_obj_end(&w);
    }
    if (r->opts->n_netem) {
        const struct ri_counters *t = &r->final->total;
        json_key(&w, "netem");
        json_obj_begin(&w);
        json_kv_u64(&w, "delayed", t->netem_delayed);
        json_kv_u64(&w, "duplicated", t->netem_duplicated);
        json_kv_u64(&w, "duplicates_received", t->msgs_duplicate_rx);
        json_kv_u64(&w, "reordered", t->netem_reordered);
        json_kv_u64(&w, "lost", t->drops[RI_DROP_NETEM_LOSS]);
        json_kv_u64(&w, "queue_drops", t->drops[RI_DROP_NETEM_QUEUE]);
        json_key(&w, "classes");
        json_arr_begin(&w);
        for (uint32_t c = 0; c < r->opts->n_netem; c++) {
            const struct ri_netem *n = &r->opts->netem[c];
            json_obj_begin(&w);
            json_kv_str(&w, "name", n->name);
            json_kv_bool(&w, "enabled", n->enabled);
            json_kv_dbl(&w, "share_pct", c ? n->share_ppm / 1e4 : -1, 6);
            json_kv_dbl(&w, "delay_ms", n->delay_ns / 1e6, 6);
            json_kv_dbl(&w, "jitter_ms", n->jitter_ns / 1e6, 6);
            json_kv_dbl(&w, "loss_pct", n->loss_ppm / 1e4, 6);
            json_kv_bool(&w, "gilbert_elliott", n->gilbert);
            json_kv_dbl(&w, "ge_p_pct", n->ge_p_ppm / 1e4, 6);
            json_kv_dbl(&w, "ge_r_pct", n->ge_r_ppm / 1e4, 6);
            json_kv_dbl(&w, "ge_bad_loss_pct", n->ge_bad_loss_ppm / 1e4, 6);
            json_kv_dbl(&w, "dup_pct", n->dup_ppm / 1e4, 6);
            json_kv_dbl(&w, "reorder_pct", n->reorder_ppm / 1e4, 6);
            json_kv_u64(&w, "rate_bps", n->rate_bps);
            json_obj_end(&w);
        }
        json_arr_end(&w);
        json_obj_end(&w);
    }
    const struct ctl_judgement *j = r->judge;
    if (j && j->has_spike) {
        json_key(&w, "spike");
        json_obj_begin(&w);
        json_kv_bool(&w, "recovered", j->spike_recovered);
        json_key(&w, "recovery_s");
        if (j->spike_recovered)
            json_dbl(&w, j->spike_recovery_s, 6);
        else
            json_null(&w);
        json_kv_dbl(&w, "baseline_p99_us", j->baseline_p99_us, 6);
        json_obj_end(&w);
    }
    if (j && j->has_soak) {
        json_key(&w, "soak");
        json_obj_begin(&w);
        json_kv_dbl(&w, "rss_start_kib", j->rss_start_kib, 9);
        json_kv_dbl(&w, "rss_end_kib", j->rss_end_kib, 9);
        json_kv_dbl(&w, "rss_growth_kib_per_min", j->rss_growth_kib_per_min, 6);
        json_obj_end(&w);
    }
    if (r->sla && r->sla->n) {
        json_key(&w, "sla");
        json_obj_begin(&w);
        json_kv_bool(&w, "passed", !j->breached);
        json_key(&w, "rules");
        json_arr_begin(&w);
        for (uint32_t i = 0; i < r->sla->n; i++) {
            json_obj_begin(&w);
            json_kv_str(&w, "rule", r->sla->rule[i].text);
            json_kv_bool(&w, "holds", j->overall[i].holds);
            json_key(&w, "value");
            if (j->overall[i].have)
                json_dbl(&w, j->overall[i].value, 9);
            else
                json_null(&w);
            json_key(&w, "phases");
            json_obj_begin(&w);
            for (uint32_t p = 0; r->profile && p < r->profile->n; p++) {
                if (!r->phase[p].seen)
                    continue;
                json_key(&w, r->profile->phase[p].name);
                json_obj_begin(&w);
                json_kv_bool(&w, "holds", j->phase[p][i].holds);
                json_key(&w, "value");
                if (j->phase[p][i].have)
                    json_dbl(&w, j->phase[p][i].value, 9);
                else
                    json_null(&w);
                json_obj_end(&w);
            }
            json_obj_end(&w);
            json_obj_end(&w);
        }
        json_arr_end(&w);
        json_obj_end(&w);
    }
    json_obj_end(&w);
    int rc = json_finish(&w);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}
