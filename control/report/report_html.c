/* SPDX-License-Identifier: MIT */
#include "report_html.h"
#include "report_sides.h"
#include "report_target.h"
#include "report_agents.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect.h"

#define W 760.0
#define H 260.0
#define ML 64.0 /* margins */
#define MR 16.0
#define MT 28.0
#define MB 34.0

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                      "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A round step for about `ticks` intervals over [0, span]. */
static double nice_step(double span, int ticks)
{
    if (span <= 0)
        return 1;
    double raw = span / ticks, mag = pow(10, floor(log10(raw)));
    double n = raw / mag;
    return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

static void fmt_num(char *b, size_t n, double v)
{
    double a = fabs(v);
    if (a >= 1e9)
        snprintf(b, n, "%.3gG", v / 1e9);
    else if (a >= 1e6)
        snprintf(b, n, "%.3gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(b, n, "%.3gk", v / 1e3);
    else
        snprintf(b, n, "%.4g", v);
}

struct axis {
    double x0, x1, y0, y1;
    bool log_x;
};

static double px(const struct axis *a, double x)
{
    double t = a->log_x ? (log10(x) - log10(a->x0)) / (log10(a->x1) - log10(a->x0))
                        : (x - a->x0) / (a->x1 - a->x0);
    return ML + t * (W - ML - MR);
}

static double py(const struct axis *a, double y)
{
    return H - MB - (y - a->y0) / (a->y1 - a->y0) * (H - MT - MB);
}

static void chart_open(FILE *f, const char *id, const char *title, const char *desc)
{
    fprintf(f, "<figure><svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "xmlns=\"http://www.w3.org/2000/svg\"><title>", id, W, H);
    esc(f, title);
    fprintf(f, "</title><text x=\"%.0f\" y=\"18\" class=\"t\">", ML);
    esc(f, title);
    fputs("</text>", f);
    (void)desc;
}

static void chart_close(FILE *f, const char *caption)
{
    fputs("</svg><figcaption>", f);
    esc(f, caption);
    fputs("</figcaption></figure>\n", f);
}

static void axes(FILE *f, const struct axis *a, const char *xlabel, const char *ylabel)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ax\"/>", ML, H - MB,
            W - MR, H - MB);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ax\"/>", ML, MT, ML,
            H - MB);
    double ys = nice_step(a->y1 - a->y0, 5);
    for (double y = a->y0; y <= a->y1 + 1e-9 * ys; y += ys) {
        char b[32];
        fmt_num(b, sizeof(b), y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"yl\">%s</text>",
                ML, py(a, y), W - MR, py(a, y), ML - 4, py(a, y) + 4, b);
    }
    if (a->log_x) {
        for (double x = pow(10, ceil(log10(a->x0))); x <= a->x1 * 1.0001; x *= 10) {
            char b[32];
            fmt_num(b, sizeof(b), x);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">%s</text>", px(a, x), H - MB + 16, b);
        }
    } else {
        double xs = nice_step(a->x1 - a->x0, 8);
        for (double x = a->x0; x <= a->x1 + 1e-9 * xs; x += xs) {
            char b[32];
            fmt_num(b, sizeof(b), x);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">%s</text>", px(a, x), H - MB + 16, b);
        }
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">", (ML + W - MR) / 2, H - 4);
    esc(f, xlabel);
    fprintf(f, "</text><text x=\"12\" y=\"%.1f\" class=\"yl\" transform=\"rotate(-90 12 %.1f)\">",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    esc(f, ylabel);
    fputs("</text>", f);
}

/* Vertical lines at phase starts, labelled. */
static void phase_marks(FILE *f, const struct axis *a, const struct ctl_run_result *r)
{
    if (!r->profile || r->profile->n < 2)
        return;
    for (uint32_t i = 0; i < r->profile->n; i++) {
        double t = ctl_profile_phase_start(r->profile, i) / 1e9;
        if (t > a->x1)
            break;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"phase\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"pl\">",
                px(a, t), MT, px(a, t), H - MB, px(a, t) + 3, MT + 10);
        esc(f, r->profile->phase[i].name);
        fputs("</text>", f);
    }
}

struct series {
    const char *name;
    double (*get)(const struct ctl_ts_row *row, int arg);
    int arg;
};

static double get_delivered(const struct ctl_ts_row *r, int a) { (void)a; return r->delivered_per_s; }
static double get_target(const struct ctl_ts_row *r, int a) { (void)a; return r->target_rate; }
static double get_p50(const struct ctl_ts_row *r, int a) { (void)a; return r->p50_us; }
static double get_p95(const struct ctl_ts_row *r, int a) { (void)a; return r->p95_us; }
static double get_p99(const struct ctl_ts_row *r, int a) { (void)a; return r->p99_us; }
static double get_busy(const struct ctl_ts_row *r, int a) { return r->busy_pct[a]; }

static void time_chart(FILE *f, const char *id, const char *title, const char *ylabel,
                       const struct ctl_run_result *r, const struct series *s, int ns,
                       const char *caption)
{
    chart_open(f, id, title, caption);
    const struct ctl_ts *ts = r->ts;
    struct axis a = {0, 1, 0, 1, false};
    if (!ts || ts->n == 0) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"none\">no samples</text>", W / 2, H / 2);
        chart_close(f, caption);
        return;
    }
    a.x1 = ts->rows[ts->n - 1].t_s;
    double ymax = 0;
    for (size_t i = 0; i < ts->n; i++)
        for (int k = 0; k < ns; k++) {
            double v = s[k].get(&ts->rows[i], s[k].arg);
            if (isfinite(v) && v > ymax)
                ymax = v;
        }
    a.y1 = ymax > 0 ? ymax * 1.1 : 1;
    axes(f, &a, "seconds", ylabel);
    phase_marks(f, &a, r);
    for (int k = 0; k < ns; k++) {
        fprintf(f, "<polyline class=\"s\" stroke=\"%s\" points=\"", palette[k % 8]);
        fprintf(f, "%.1f,%.1f ", px(&a, 0), py(&a, s[k].get(&ts->rows[0], s[k].arg)));
        for (size_t i = 0; i < ts->n; i++)
            fprintf(f, "%.1f,%.1f ", px(&a, ts->rows[i].t_s), py(&a, s[k].get(&ts->rows[i], s[k].arg)));
        fputs("\"/>", f);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"3\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"lg\">",
                W - MR - 150, MT + 6 + 14.0 * k, palette[k % 8], W - MR - 136, MT + 10 + 14.0 * k);
        esc(f, s[k].name);
        fputs("</text>", f);
    }
    chart_close(f, caption);
}

static void cdf_chart(FILE *f, const struct met_hist *h)
{
    const char *cap = "Share of delivered messages with at most the given end-to-end latency (log scale).";
    chart_open(f, "chart-latency-cdf", "Latency CDF", cap);
    uint64_t total = met_hist_total(h);
    if (total == 0) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"none\">no messages delivered</text>", W / 2, H / 2);
        chart_close(f, cap);
        return;
    }
    uint32_t first = 0, last = 0;
    for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++)
        if (h->bucket[i]) {
            if (!first && i)
                first = i;
            last = i;
        }
    double lo_us = fmax(0.001, met_hist_bucket_low(first) / 1e3);
    double hi_us = (met_hist_bucket_low(last) + met_hist_bucket_width(last)) / 1e3;
    struct axis a = {pow(10, floor(log10(lo_us))), pow(10, ceil(log10(hi_us))), 0, 1, true};
    if (a.x1 <= a.x0)
        a.x1 = a.x0 * 10;
    axes(f, &a, "latency (us)", "share of messages");
    fprintf(f, "<polyline class=\"s\" stroke=\"%s\" points=\"", palette[0]);
    uint64_t cum = 0;
    fprintf(f, "%.1f,%.1f ", px(&a, a.x0), py(&a, 0));
    for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++) {
        if (!h->bucket[i])
            continue;
        double x = fmax(a.x0, (met_hist_bucket_low(i) + met_hist_bucket_width(i)) / 1e3);
        fprintf(f, "%.1f,%.1f ", px(&a, x), py(&a, (double)cum / total));
        cum += h->bucket[i];
        fprintf(f, "%.1f,%.1f ", px(&a, x), py(&a, (double)cum / total));
    }
    fputs("\"/>", f);
    chart_close(f, cap);
}

static void bar_chart(FILE *f, const char *id, const char *title, const char *xlabel,
                      const uint64_t *count, uint32_t n_bins, double x_lo, double x_step,
                      const char *caption, const char *empty)
{
    chart_open(f, id, title, caption);
    uint64_t max = 0;
    for (uint32_t i = 0; i < n_bins; i++)
        if (count[i] > max)
            max = count[i];
    if (max == 0) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"none\">", W / 2 - 150, H / 2);
        esc(f, empty);
        fputs("</text>", f);
        chart_close(f, caption);
        return;
    }
    struct axis a = {x_lo, x_lo + x_step * n_bins, 0, (double)max * 1.1, false};
    axes(f, &a, xlabel, "count");
    double bw = (W - ML - MR) / n_bins;
    for (uint32_t i = 0; i < n_bins; i++) {
        if (!count[i])
            continue;
        fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%.6g: %llu</title></rect>",
                ML + i * bw + 0.5, py(&a, (double)count[i]), bw > 2 ? bw - 1 : bw,
                H - MB - py(&a, (double)count[i]), x_lo + x_step * i, (unsigned long long)count[i]);
    }
    chart_close(f, caption);
}

static void degree_chart(FILE *f, const struct ctl_topo_stats *t)
{
    if (!t->deg_hist) { /* a merged report: the JSON reports carry no degree counts */
        bar_chart(f, "chart-degree", "Degree distribution", "degree", NULL, 0, 0, 1,
                  "Agents by number of neighbours.",
                  "not in the JSON reports this page was merged from");
        return;
    }
    uint32_t lo = t->deg_min, hi = t->deg_max;
    uint32_t span = hi - lo + 1, bins = span < 60 ? span : 60;
    uint32_t per = (span + bins - 1) / bins;
    bins = (span + per - 1) / per;
    uint64_t count[60] = {0};
    for (uint32_t d = lo; d <= hi; d++)
        count[(d - lo) / per] += t->deg_hist[d];
    char cap[160];
    snprintf(cap, sizeof(cap), "Agents by number of neighbours (%s).",
             per == 1 ? "one bar per degree" : "degrees grouped");
    bar_chart(f, "chart-degree", "Degree distribution", "degree", count, bins, lo, per, cap, "");
}

static void setup_chart(FILE *f, const struct met_hist *setup, bool dc)
{
    const char *cap = "Connection set-up time (ICE, DTLS, SCTP, DataChannel open), in ms.";
    uint64_t count[50] = {0};
    uint64_t total = setup ? met_hist_total(setup) : 0;
    double max_ms = 1;
    if (total) {
        max_ms = (double)setup->max / 1e6;
        for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++) {
            if (!setup->bucket[i])
                continue;
            double ms = (met_hist_bucket_low(i) + met_hist_bucket_width(i) / 2) / 1e6;
            uint32_t b = (uint32_t)(ms / max_ms * 49.999);
            count[b < 50 ? b : 49] += setup->bucket[i];
        }
    }
    bar_chart(f, "chart-setup", "Connection set-up time", "ms", count, 50, 0, max_ms / 50, cap,
              dc ? "no connection came up in this run"
                 : "no connection set-up in this run (plain UDP agent messages)");
}

static void row(FILE *f, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void row(FILE *f, const char *k, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fputs("<tr><th>", f);
    esc(f, k);
    fputs("</th><td>", f);
    esc(f, buf);
    fputs("</td></tr>\n", f);
}

/* ---- the page, a function per section ---- */

static void page_head(FILE *f, const struct ctl_run_result *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\"><title>swarmgen report: ", f);
    esc(f, r->topology);
    fputs("</title><style>"
          "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:820px;color:#222}"
          "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
          "table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}"
          "th{font-weight:600}td.n{text-align:right}.bad{color:#b00;font-weight:600}.ok{color:#070}"
          "figure{margin:16px 0}figcaption{font-size:12px;color:#555}"
          "svg.chart{width:100%;height:auto;background:#fff;border:1px solid #ddd}"
          ".t{font-size:14px;font-weight:600}.ax{stroke:#333}.grid{stroke:#eee}"
          ".xl{font-size:11px;text-anchor:middle}.yl{font-size:11px;text-anchor:end}"
          ".lg{font-size:11px}.pl{font-size:10px;fill:#666}.phase{stroke:#999;stroke-dasharray:4 3}"
          ".s{fill:none;stroke-width:1.6}.bar{fill:#1f77b4}.none{font-size:13px;fill:#777}"
          "</style></head><body>\n<h1>swarmgen run: ", f);
    esc(f, r->topology);
    fprintf(f, ", %u agents</h1>\n", r->opts->agents);
    if (r->merged_shards)
        fprintf(f,
                "<p>Merged from %u shard reports (<code>swarmgen report --merge</code>): "
                "counters summed, histograms added bucket by bucket; no time series.</p>\n",
                r->merged_shards);
    if (r->interrupted)
        fputs("<p class=\"bad\">The run was interrupted (Ctrl-C); figures cover the time it ran.</p>\n", f);
}

static void connections_row(FILE *f, const struct ctl_run_result *r, const struct met_hist *setup)
{
    struct ctl_connect_figures c;
    /* a run sets up the mesh's edges; a shard, and merged shards, count the
     * connections each shard owns (conn_total) */
    ctl_connect_figures(&r->final->total, r->merged_shards || r->opts->n_shards ? 0 : r->topo->edges, &c);
    row(f, "connections", "%llu/%llu up in %.1f s (%.0f/s)%s; set-up p50 %.1f ms, p99 %.1f ms; failed attempts ice %llu, dtls %llu, sctp %llu, datachannel %llu; given up %llu",
        (unsigned long long)c.up, (unsigned long long)c.total, r->connect_s, r->connect_per_s,
        r->connect_timed_out ? " (--setup-timeout)" : "",
        setup ? met_hist_percentile(setup, 50) / 1e6 : 0, setup ? met_hist_percentile(setup, 99) / 1e6 : 0,
        (unsigned long long)c.failed_stage[RI_STAGE_ICE], (unsigned long long)c.failed_stage[RI_STAGE_DTLS],
        (unsigned long long)c.failed_stage[RI_STAGE_SCTP], (unsigned long long)c.failed_stage[RI_STAGE_DC],
        (unsigned long long)c.given_up);
}

/* Connections up by negotiated DTLS version, and the set-up time of each. */
static void dtls_row(FILE *f, const struct ctl_run_result *r)
{
    const struct met_hist *h = &r->final->setup[RI_SETUP_DTLS];
    const uint64_t *up = r->final->total.conn_dtls_up;
    row(f, "dtls", "offered %s; 1.2: %llu up, set-up p50 %.1f ms, p99 %.1f ms; 1.3: %llu up, set-up p50 %.1f ms, p99 %.1f ms",
        ctl_dtls_offer_name(r->opts->dtls_versions), (unsigned long long)up[0], met_hist_percentile(&h[0], 50) / 1e6,
        met_hist_percentile(&h[0], 99) / 1e6, (unsigned long long)up[1], met_hist_percentile(&h[1], 50) / 1e6,
        met_hist_percentile(&h[1], 99) / 1e6);
}

static void summary_table(FILE *f, const struct ctl_run_result *r, const struct met_hist *setup)
{
    struct ctl_run_figures g;
    ctl_run_figures(r, &g);
    const struct ctl_topo_stats *t = r->topo;
    fputs("<h2>Summary</h2><table>\n", f);
    row(f, "messages", "sent %llu, delivered %llu (%.4f%%), forwarded %llu, lost %llu, avg hops %.2f",
        (unsigned long long)g.sent, (unsigned long long)g.delivered, g.delivery_rate * 100,
        (unsigned long long)g.forwarded, (unsigned long long)g.lost, g.avg_hops);
    if (g.in_flight_known)
        row(f, "accounting", "in flight at the stop %llu, unaccounted %lld", (unsigned long long)g.in_flight,
            (long long)g.unaccounted);
    else
        row(f, "accounting", "in flight at the stop unknown (no census: usrsctp backend)");
    row(f, "throughput", "%.0f msg/s, %.0f packets/s, %.1f Mbit/s (L2 frames)", g.msgs_per_s, g.pps, g.mbps);
    row(f, "latency", "p50 %.1f us, p95 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us",
        g.p50_ns / 1e3, g.p95_ns / 1e3, g.p99_ns / 1e3, g.p999_ns / 1e3, g.max_ns / 1e3);
    if (r->opts->traffic == RI_TRAFFIC_DC) {
        connections_row(f, r, setup);
        dtls_row(f, r);
    }
    row(f, "duration", "%.2f s generating, %.2f s draining, profile %s", r->duration_s, r->drain_s,
        r->profile ? r->profile->name : "constant");
    row(f, "topology", "%llu edges (%.4f%% fewer than a full mesh), degree %u..%u (avg %.2f), %s, diameter %u, avg path %.3f, clustering %.4f%s",
        (unsigned long long)t->edges, t->reduction_pct, t->deg_min, t->deg_max, t->deg_avg,
        t->connected ? "connected" : "NOT connected", t->diameter, t->avg_path_length,
        t->clustering, t->exact ? "" : " (sampled)");
    row(f, "memory", "%.1f MiB total (run image %.1f MiB, DPDK %.1f MiB): %.0f bytes per agent, %.0f of connection state per connection up",
        g.bytes_total / 1048576.0, r->image_bytes / 1048576.0, r->dpdk_bytes / 1048576.0,
        g.bytes_per_agent, g.bytes_per_connection);
    row(f, "ports", "%s, %s", r->port_desc, r->hugepages ? "hugepages" : "no hugepages");
    fputs("</table>\n", f);
}

static void cores_table(FILE *f, const struct ctl_run_result *r)
{
    fputs("<h2>Cores</h2><table><tr><th>lcore</th><th>busy</th><th>rx</th><th>tx</th><th>handed off</th></tr>\n", f);
    for (uint32_t w = 0; w < r->final->n_workers; w++) {
        const struct ri_counters *c = &r->final->worker[w];
        fprintf(f, "<tr><td>%u</td><td class=\"n\">%.1f%%</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td></tr>\n",
                r->lcore[w], ctl_busy_pct(c), (unsigned long long)c->pkts_rx,
                (unsigned long long)c->pkts_tx, (unsigned long long)c->handoff_out);
    }
    fputs("</table>\n", f);
}

static void phases_table(FILE *f, const struct ctl_run_result *r)
{
    if (!r->profile || r->profile->n <= 1)
        return;
    fputs("<h2>Phases</h2><table><tr><th>phase</th><th>seconds</th><th>sent</th><th>delivered</th><th>msg/s</th><th>p50 us</th><th>p99 us</th></tr>\n", f);
    for (uint32_t i = 0; i < r->profile->n; i++) {
        const struct ctl_phase_stats *ps = &r->phase[i];
        if (!ps->seen)
            continue;
        fputs("<tr><td>", f);
        esc(f, r->profile->phase[i].name);
        fprintf(f, "</td><td class=\"n\">%.1f</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%.0f</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td></tr>\n",
                ps->seconds, (unsigned long long)ps->c.msgs_sent,
                (unsigned long long)ps->c.msgs_delivered,
                ps->seconds > 0 ? ps->c.msgs_delivered / ps->seconds : 0,
                ctl_phase_latency_us(ps, 50), ctl_phase_latency_us(ps, 99));
    }
    fputs("</table>\n", f);
}

/* The spike verdict and the SLA table. */
static void verdicts(FILE *f, const struct ctl_run_result *r)
{
    const struct ctl_judgement *j = r->judge;
    if (j && j->has_spike) {
        if (j->spike_recovered)
            fprintf(f, "<p>Spike: recovered <b>%.1f s</b> after the spike ended (baseline p99 %.1f us).</p>\n",
                    j->spike_recovery_s, j->baseline_p99_us);
        else
            fprintf(f, "<p class=\"bad\">Spike: no recovery before the end of the run (baseline p99 %.1f us).</p>\n",
                    j->baseline_p99_us);
    }
    const struct ctl_outages *os = j ? &j->outages : NULL;
    for (uint32_t i = 0; os && i < os->n; i++) {
        const struct ctl_outage *o = &os->o[i];
        bool rec = o->silences && o->recovered == o->silences;
        fprintf(f, "<p%s>Netem %s (class %s): %u silence%s from %.1f s to %.1f s; ", rec ? "" : " class=\"bad\"",
                o->flap ? "flap" : "outage", o->name, o->silences, o->silences == 1 ? "" : "s", o->start_s, o->end_s);
        if (rec)
            fprintf(f, "recovered <b>%.1f s</b> after%s", o->recovery_s, o->silences > 1 ? " (the longest)" : "");
        else
            fprintf(f, "%u of %u recovered", o->recovered, o->silences);
        fprintf(f, "; %llu SCTP retransmissions", (unsigned long long)o->retransmissions);
        if (o->have_delayed)
            fprintf(f, "; %llu messages delayed (latency over %.1f us)", (unsigned long long)o->messages_delayed,
                    os->limit_us);
        fprintf(f, "; %llu connections closed, %llu re-established.</p>\n", (unsigned long long)o->connections_closed,
                (unsigned long long)o->connections_reestablished);
    }
    if (!r->sla || !r->sla->n)
        return;
    fputs("<h2>SLA</h2><table><tr><th>rule</th><th>overall</th><th>verdict</th><th>breached in</th></tr>\n", f);
    for (uint32_t i = 0; i < r->sla->n; i++) {
        char v[48] = "no data";
        if (j->overall[i].have)
            ctl_sla_format(&r->sla->rule[i], j->overall[i].value, v, sizeof(v));
        fputs("<tr><td>", f);
        esc(f, r->sla->rule[i].text);
        fprintf(f, "</td><td>%s</td><td class=\"%s\">%s</td><td>", v,
                j->overall[i].holds ? "ok" : "bad", j->overall[i].holds ? "holds" : "breached");
        for (uint32_t p = 0; r->profile && p < r->profile->n; p++)
            if (r->phase[p].seen && !j->phase[p][i].holds) {
                esc(f, r->profile->phase[p].name);
                fputc(' ', f);
            }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void drops_table(FILE *f, const struct ctl_run_result *r)
{
    bool any_drop = false;
    for (uint32_t i = 0; i < RI_DROP_COUNT; i++)
        any_drop |= r->final->total.drops[i] != 0;
    if (!any_drop)
        return;
    fputs("<h2>Drops</h2><table>\n", f);
    for (uint32_t i = 0; i < RI_DROP_COUNT; i++)
        if (r->final->total.drops[i])
            row(f, ctl_drop_name(i), "%llu", (unsigned long long)r->final->total.drops[i]);
    fputs("</table>\n", f);
}

static void charts(FILE *f, const struct ctl_run_result *r, const struct met_hist *setup)
{
    fputs("<h2>Charts</h2>\n", f);
    const struct series thr[] = {{"delivered msg/s", get_delivered, 0}, {"target msg/s", get_target, 0}};
    time_chart(f, "chart-throughput", "Throughput", "messages/s", r, thr, 2,
               "Delivered messages per second and the target, per second of the run; dashed lines mark phase starts.");
    const struct series lat[] = {{"p50", get_p50, 0}, {"p95", get_p95, 0}, {"p99", get_p99, 0}};
    time_chart(f, "chart-latency", "Latency percentiles", "us", r, lat, 3,
               "End-to-end latency of the messages delivered in each second.");
    cdf_chart(f, &r->final->latency);
    struct series busy[RI_MAX_WORKERS];
    char names[RI_MAX_WORKERS][24];
    uint32_t nw = r->final->n_workers < 8 ? r->final->n_workers : 8;
    for (uint32_t w = 0; w < nw; w++) {
        snprintf(names[w], sizeof(names[w]), "core %u", r->lcore[w]);
        busy[w] = (struct series){names[w], get_busy, (int)w};
    }
    time_chart(f, "chart-busy", "Busy % per core", "%", r, busy, (int)nw,
               "Share of each dataplane core's cycles spent in loop passes that did work.");
    setup_chart(f, setup, r->opts->traffic == RI_TRAFFIC_DC);
    degree_chart(f, r->topo);
}

static int u64_desc(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a > b ? -1 : a < b;
}

/* Issue 22: the per-agent view: load over agents (frames forwarded by
 * each percentile of agents, ranked busiest first), the hop histogram,
 * and the agents of highest and lowest p99 latency. */
static void agents_html(FILE *f, const struct ctl_agents *ag)
{
    if (!ag || !ag->a || ag->n == 0)
        return;
    uint32_t n = ag->n, bins = n < 100 ? n : 100;
    uint64_t *fw = malloc((size_t)n * sizeof(uint64_t));
    if (!fw)
        return;
    for (uint32_t i = 0; i < n; i++)
        fw[i] = ag->a[i].forwarded;
    qsort(fw, n, sizeof(*fw), u64_desc);
    uint64_t load[100] = {0};
    for (uint32_t i = 0; i < n; i++)
        load[(uint64_t)i * bins / n] += fw[i];
    free(fw);
    fputs("<h2>Agents</h2>\n", f);
    bar_chart(f, "chart-load", "Load over agents", bins == 100 ? "agents ranked by frames forwarded (percentile)"
                                                               : "agents ranked by frames forwarded",
              load, bins, 0, 1, "Frames forwarded by each percentile of the agents, busiest first "
              "(the first bar is the top 1 %).", "no agent forwarded a frame");
    uint32_t last = 0;
    for (uint32_t b = 0; b < RI_HOP_BUCKETS; b++)
        if (ag->hops[b])
            last = b;
    bar_chart(f, "chart-hops", "Hop count of delivered messages", "hops", ag->hops, last + 1, 1, 1,
              "Delivered messages by hop count (links crossed; the last bucket holds 65 or more).",
              "no message delivered");
    uint32_t top = 0, bottom = 0;
    uint64_t top_p99 = UINT64_MAX, bottom_p99 = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!ag->a[i].delivered_from)
            continue;
        uint64_t p = ctl_agent_lat_pct(ag->a[i].lat, 99);
        if (p < top_p99)
            top_p99 = p, top = i;
        if (p > bottom_p99)
            bottom_p99 = p, bottom = i;
    }
    fputs("<table><tr><th></th><th>agent</th><th>degree</th><th>sent</th><th>delivered (of its messages)</th>"
          "<th>forwarded</th><th>p50 us</th><th>p99 us</th></tr>\n", f);
    const uint32_t pick[2] = {top, bottom};
    const char *what[2] = {"lowest p99", "highest p99"};
    for (int k = 0; k < 2 && top_p99 != UINT64_MAX; k++) {
        const struct ri_agent_stats *s = &ag->a[pick[k]];
        fprintf(f, "<tr><td>%s</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
                   "<td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td></tr>\n",
                what[k], pick[k], ag->info ? ag->info[pick[k]].degree : 0, s->sent, s->delivered_from, s->forwarded,
                ctl_agent_lat_pct(s->lat, 50) / 1e3, ctl_agent_lat_pct(s->lat, 99) / 1e3);
    }
    fputs("</table><p style=\"font-size:12px\">Per-agent latency: upper edge of a power-of-two bucket "
          "(docs/reports.md); the JSON report lists the top and bottom agents by p99 and by delivery.</p>\n", f);
}

/* --target: sessions that got up in each second, from the first join. */
static void target_chart(FILE *f, const struct ctl_target_view *v)
{
    if (!v)
        return;
    bar_chart(f, "joins", "Target: joins over time", "seconds since the first session started",
              v->res->joins_per_s, v->res->joins_seconds ? v->res->joins_seconds : 1, 0, 1,
              "Sessions whose DataChannel opened in each second (all stages done).", "no session got up");
}

int ctl_report_html(const char *path, const struct ctl_run_result *r, const struct met_hist *setup)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    page_head(f, r);
    summary_table(f, r, setup);
    cores_table(f, r);
    ctl_report_sides_html(f, r);
    ctl_report_target_html(f, r->target);
    phases_table(f, r);
    verdicts(f, r);
    drops_table(f, r);
    charts(f, r, setup);
    agents_html(f, r->agents);
    target_chart(f, r->target);
    fputs("<p style=\"font-size:12px;color:#555\">Generated by swarmgen. Self-contained: no scripts, no external resources.</p>\n</body></html>\n", f);
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0)
        rc = -EIO;
    return rc;
}
