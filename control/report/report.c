/* SPDX-License-Identifier: MIT */
/*
 * report: the progress line, the run's derived figures and the summary
 * table (the JSON report is report_json.c, the HTML one report_html.c).
 */
#include "report.h"
#include "report_relay.h"
#include "report_sides.h"
#include "report_target.h"
#include "report_mem.h"

#include <string.h>

#include "external.h"
#include "report_conn.h"
#include "traffic_opts.h"

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

double ctl_phase_latency_us(const struct ctl_phase_stats *ps, double p)
{
    return ps->lat ? met_hist_percentile(ps->lat, p) / 1e3 : 0;
}

double ctl_busy_pct(const struct ri_counters *c)
{
    return pct(c->cycles_busy, c->cycles_total);
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
    /* two sides with plain UDP messages: a frame is a message, and one the
     * DUT dropped is lost there (with connections SCTP sends it again) */
    if (r->opts->sides && r->opts->traffic != RI_TRAFFIC_DC)
        for (int d = 0; d < 2; d++)
            if (t->side_ip_tx[d] > t->side_ip_rx[1 - d])
                fig->lost_in_dut += t->side_ip_tx[d] - t->side_ip_rx[1 - d];
    fig->lost = t->msgs_dropped + fig->lost_in_dut;
    fig->in_flight_known = r->final->n_workers && t->msgs_census == r->final->n_workers;
    fig->in_flight = fig->in_flight_known ? t->msgs_in_flight_end : 0;
    fig->unaccounted = (int64_t)(t->msgs_sent - t->msgs_delivered - fig->lost - fig->in_flight);
    fig->delivery_rate = t->msgs_sent ? (double)t->msgs_delivered / (double)t->msgs_sent : 1.0;
    double d = r->duration_s > 0 ? r->duration_s : 1e-9;
    /* frames count from the start of generation: the connect phase's
     * handshakes are not load (with no generation at all, nothing is) */
    const struct ri_counters *b = r->gen_start ? &r->gen_start->total : r->opts->traffic == RI_TRAFFIC_DC ? t : NULL;
    fig->frames_tx = t->pkts_tx - (b ? b->pkts_tx : 0);
    fig->bytes_tx = t->bytes_tx - (b ? b->bytes_tx : 0);
    fig->msgs_per_s = (double)t->msgs_delivered / d;
    fig->pps = (double)fig->frames_tx / d;
    fig->mbps = (double)fig->bytes_tx * 8 / d / 1e6;
    fig->avg_hops = t->msgs_delivered ? 1.0 + (double)t->hops_delivered / (double)t->msgs_delivered : 0;
    const struct met_hist *h = &r->final->latency;
    fig->p50_ns = met_hist_percentile(h, 50);
    fig->p95_ns = met_hist_percentile(h, 95);
    fig->p99_ns = met_hist_percentile(h, 99);
    fig->p999_ns = met_hist_percentile(h, 99.9);
    fig->max_ns = h->max;
    uint64_t mem[DP_MEM_COUNT];
    ctl_report_mem_measured(r, mem);
    fig->bytes_total = 0;
    for (int c = 0; c < DP_MEM_COUNT; c++)
        fig->bytes_total += mem[c];
    fig->bytes_per_agent = (double)fig->bytes_total / (double)r->opts->agents;
    uint64_t up = ctl_report_conn_up(r);
    fig->bytes_per_connection = up ? (double)mem[DP_MEM_CONN] / (double)up : 0;
}

/* ---- the summary table, a function per block of lines ---- */

static void topology_summary(FILE *f, const struct ctl_run_result *r)
{
    const struct ctl_topo_stats *s = r->topo;
    fprintf(f, "  topology     %s: %llu edges, degree %u..%u (avg %.1f), %s, diameter %u, avg path %.2f, clustering %.4f%s\n",
            r->topology, (unsigned long long)s->edges, s->deg_min, s->deg_max, s->deg_avg,
            s->connected ? "connected" : "NOT connected", s->diameter, s->avg_path_length,
            s->clustering, s->exact ? "" : " (sampled)");
    if (r->opts->pattern != RI_PATTERN_ROUTED)
        fprintf(f, "  routing      none needed (%s pattern)\n", ctl_pattern_name(r->opts->pattern));
    else if (r->n_dests == r->opts->agents)
        fprintf(f, "  routing      all pairs (%u destinations), next-hop tables %.1f MiB built in %.2f s\n",
                r->n_dests, r->routes_bytes / 1048576.0, r->routing_s);
    else
        fprintf(f, "  routing      a seeded sample of %u of %u agents as destinations (%s), "
                   "next-hop tables %.1f MiB built in %.2f s\n",
                r->n_dests, r->opts->agents,
                r->opts->route_sample && r->opts->route_sample <= r->n_dests_max ? "routed:M" : "--route-mem",
                r->routes_bytes / 1048576.0, r->routing_s);
}

void ctl_report_load_summary(FILE *f, const struct ctl_run_figures *g)
{
    fprintf(f, "  messages     sent %llu, delivered %llu (%.4f%%), forwarded %llu, lost %llu, avg hops %.2f\n",
            (unsigned long long)g->sent, (unsigned long long)g->delivered, g->delivery_rate * 100,
            (unsigned long long)g->forwarded, (unsigned long long)g->lost, g->avg_hops);
    if (g->in_flight_known)
        fprintf(f, "  accounting   in flight at the stop %llu, unaccounted %lld%s; of lost %llu in the DUT\n",
                (unsigned long long)g->in_flight, (long long)g->unaccounted,
                g->unaccounted ? " (sent != delivered + lost + in flight)" : "", (unsigned long long)g->lost_in_dut);
    else
        fprintf(f, "  accounting   in flight at the stop unknown (no census: usrsctp backend); sent - delivered - lost %lld\n",
                (long long)g->unaccounted);
    fprintf(f, "  throughput   %.0f msg/s, %.0f pkt/s, %.1f Mbit/s (L2 frames)\n", g->msgs_per_s,
            g->pps, g->mbps);
    fprintf(f, "  latency      p50 %.1f us, p95 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
            g->p50_ns / 1e3, g->p95_ns / 1e3, g->p99_ns / 1e3, g->p999_ns / 1e3, g->max_ns / 1e3);
}

/* One line per core, then ports and memory. */
static void machine_summary(FILE *f, const struct ctl_run_result *r, const struct ctl_run_figures *g)
{
    for (uint32_t w = 0; w < r->final->n_workers; w++) {
        const struct ri_counters *c = &r->final->worker[w];
        fprintf(f, "  core %-7u busy %5.1f%%, rx %llu, tx %llu, handed off %llu, %.0f ns/pass\n",
                r->lcore[w], ctl_busy_pct(c),
                (unsigned long long)c->pkts_rx, (unsigned long long)c->pkts_tx,
                (unsigned long long)c->handoff_out,
                c->passes ? (double)c->cycles_total / (double)c->passes * 1e9 / (double)r->tsc_hz : 0);
    }
    fprintf(f, "  ports        %s, %s\n", r->port_desc, r->hugepages ? "hugepages" : "no hugepages");
    ctl_report_sides_summary(f, r);
    double all = ctl_report_cycles_per_msg(r, UINT32_MAX);
    if (all > 0) {
        fprintf(f, "  cpu          %.0f busy cycles (%.0f ns) per delivered message, all cores;", all,
                all * 1e9 / (double)r->tsc_hz);
        for (uint32_t w = 0; w < r->final->n_workers; w++)
            fprintf(f, " core %u %.0f", r->lcore[w], ctl_report_cycles_per_msg(r, w));
        fputc('\n', f);
    }
    ctl_report_mem_summary(f, r, g);
}

static void netem_summary(FILE *f, const struct ctl_run_result *r)
{
    if (!r->opts->n_netem)
        return;
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
        if (n->outage_ns)
            fprintf(f, " [%s: silent %.1fs from %.1fs into the load]", n->name, n->outage_ns / 1e9,
                    n->outage_at_ns / 1e9);
        if (n->flap_down_ns)
            fprintf(f, " [%s: flapping, up %.1fs down %.1fs]", n->name, n->flap_up_ns / 1e9,
                    n->flap_down_ns / 1e9);
    }
    fprintf(f, "\n               delayed %llu, duplicated %llu (received %llu), reordered %llu, lost %llu, queue drops %llu,"
               " silenced %llu\n",
            (unsigned long long)t->netem_delayed, (unsigned long long)t->netem_duplicated,
            (unsigned long long)t->msgs_duplicate_rx, (unsigned long long)t->netem_reordered,
            (unsigned long long)t->drops[RI_DROP_NETEM_LOSS],
            (unsigned long long)t->drops[RI_DROP_NETEM_QUEUE],
            (unsigned long long)t->drops[RI_DROP_NETEM_OUTAGE]);
    const struct ctl_outages *os = r->judge ? &r->judge->outages : NULL;
    for (uint32_t i = 0; os && i < os->n; i++) {
        const struct ctl_outage *o = &os->o[i];
        fprintf(f, "  %-11s [%s] %u silence%s from %.1fs to %.1fs: ", o->flap ? "flap" : "outage", o->name,
                o->silences, o->silences == 1 ? "" : "s", o->start_s, o->end_s);
        if (o->silences && o->recovered == o->silences)
            fprintf(f, "recovered %.1f s after%s", o->recovery_s, o->silences > 1 ? " (the longest)" : "");
        else if (!os->have_baseline)
            fprintf(f, "recovery not judged (no second of load before it)");
        else
            fprintf(f, "%u of %u recovered (not before the %s)", o->recovered, o->silences,
                    o->flap ? "next silence or the end of the load" : "end of the load");
        fprintf(f, ", %llu retransmissions, ", (unsigned long long)o->retransmissions);
        if (o->have_delayed)
            fprintf(f, "%llu messages delayed (over %.1f us)", (unsigned long long)o->messages_delayed, os->limit_us);
        else
            fprintf(f, "messages delayed unknown");
        fprintf(f, ", %llu connections closed, %llu re-established\n", (unsigned long long)o->connections_closed,
                (unsigned long long)o->connections_reestablished);
    }
}

/* The phase table (profiles of more than one phase). */
static void phases_summary(FILE *f, const struct ctl_run_result *r)
{
    if (!r->profile || r->profile->n <= 1)
        return;
    fprintf(f, "  phases       %-14s %8s %12s %12s %10s %10s %10s\n", "name", "seconds", "sent",
            "delivered", "p50 us", "p99 us", "msg/s");
    for (uint32_t i = 0; i < r->profile->n; i++) {
        const struct ctl_phase_stats *ps = &r->phase[i];
        if (!ps->seen)
            continue;
        fprintf(f, "               %-14s %8.1f %12llu %12llu %10.1f %10.1f %10.0f\n",
                r->profile->phase[i].name, ps->seconds, (unsigned long long)ps->c.msgs_sent,
                (unsigned long long)ps->c.msgs_delivered, ctl_phase_latency_us(ps, 50),
                ctl_phase_latency_us(ps, 99),
                ps->seconds > 0 ? (double)ps->c.msgs_delivered / ps->seconds : 0);
    }
}

/* The spike and soak lines (only for the profiles that have them). */
static void judgement_summary(FILE *f, const struct ctl_judgement *j)
{
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
}

void ctl_report_sla_summary(FILE *f, const struct ctl_run_result *r)
{
    if (!r->sla || !r->sla->n)
        return;
    const struct ctl_judgement *j = r->judge;
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

void ctl_report_drops_summary(FILE *f, const struct ctl_run_result *r)
{
    fprintf(f, "  drops       ");
    bool any = false;
    for (uint32_t i = 0; i < RI_DROP_COUNT; i++) {
        if (r->final->total.drops[i]) {
            fprintf(f, " %s=%llu", ctl_drop_name(i), (unsigned long long)r->final->total.drops[i]);
            any = true;
        }
    }
    fprintf(f, "%s\n", any ? "" : " none");
}

void ctl_report_summary(FILE *f, const struct ctl_run_result *r)
{
    struct ctl_run_figures g;
    ctl_run_figures(r, &g);
    fprintf(f, "\nswarmgen run summary%s\n", r->interrupted ? " (interrupted)" : "");
    fprintf(f, "  agents       %u\n", r->opts->agents);
    topology_summary(f, r);
    ctl_report_conn_summary(f, r);
    ctl_external_report_summary(f, r->external);
    ctl_report_target_summary(f, r->target);
    ctl_report_relay_summary(f, r);
    fprintf(f, "  duration     %.2f s generating, %.2f s draining\n", r->duration_s, r->drain_s);
    ctl_report_load_summary(f, &g);
    machine_summary(f, r, &g);
    netem_summary(f, r);
    phases_summary(f, r);
    judgement_summary(f, r->judge);
    ctl_report_sla_summary(f, r);
    ctl_report_drops_summary(f, r);
}
