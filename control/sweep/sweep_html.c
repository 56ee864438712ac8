/* SPDX-License-Identifier: MIT */
/*
 * sweep_html: the sweep as one self-contained HTML page: the table and
 * inline SVG line charts (no script, no external resource), drawn here:
 * connection set-up rate, latency percentiles and memory per agent against
 * the agent count (log scale when it spans 10x or more), or against the
 * rate when only the rate varies. A point that failed or did not measure a
 * figure leaves a gap.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sweep.h"

#define W  640.0
#define H  300.0
#define ML 70.0 /* margins: left, right, top, bottom */
#define MR 150.0
#define MT 30.0
#define MB 45.0

static const char *const colour[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                     "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

struct series {
    char name[48];
    uint64_t key; /* the other dimension's value */
    double x[CTL_SWEEP_MAX_VALUES * CTL_SWEEP_MAX_VALUES];
    double y[CTL_SWEEP_MAX_VALUES * CTL_SWEEP_MAX_VALUES];
    size_t n;
};

struct chart {
    double x0, x1, y1;
    bool logx;
};

static double cx(const struct chart *c, double x)
{
    double f = c->x1 == c->x0 ? 0.5
               : c->logx      ? (log10(x) - log10(c->x0)) / (log10(c->x1) - log10(c->x0))
                              : (x - c->x0) / (c->x1 - c->x0);
    return ML + f * (W - ML - MR);
}

static double cy(const struct chart *c, double y)
{
    return H - MB - (c->y1 > 0 ? y / c->y1 : 0) * (H - MT - MB);
}

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static void line_chart(FILE *f, const char *title, const char *xlabel, const char *ylabel,
                       const struct series *s, size_t ns)
{
    struct chart c = {INFINITY, -INFINITY, 0, false};
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < s[i].n; j++) {
            if (!isfinite(s[i].y[j]))
                continue;
            c.x0 = fmin(c.x0, s[i].x[j]);
            c.x1 = fmax(c.x1, s[i].x[j]);
            c.y1 = fmax(c.y1, s[i].y[j]);
        }
    fprintf(f, "<h2>");
    esc(f, title);
    fprintf(f,
            "</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "role=\"img\"><title>",
            W, H);
    esc(f, title);
    fputs("</title>\n", f);
    if (!isfinite(c.x0)) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">no data</text></svg>\n", W / 2 - 30, H / 2);
        return;
    }
    c.logx = c.x0 > 0 && c.x1 / c.x0 >= 10;
    /* the y axis to a round top: 5 steps of 1, 2 or 5 x 10^n */
    double raw = c.y1 > 0 ? c.y1 * 1.05 / 5 : 0.2, mag = pow(10, floor(log10(raw)));
    double step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
    c.y1 = 5 * step;
    /* axes, y grid with 5 ticks, x ticks at the points' x */
    fprintf(f,
            "<g stroke=\"#999\" fill=\"none\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
            ML, H - MB, W - MR, H - MB, ML, MT, ML, H - MB);
    fputs("<g font-size=\"11\" font-family=\"sans-serif\" fill=\"#333\">\n", f);
    for (int t = 0; t <= 5; t++) {
        double v = c.y1 * t / 5;
        char lab[32];
        if (v >= 1e6)
            snprintf(lab, sizeof(lab), "%gM", v / 1e6);
        else if (v >= 1e4)
            snprintf(lab, sizeof(lab), "%gk", v / 1e3);
        else
            snprintf(lab, sizeof(lab), "%g", v);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", ML - 4,
                cy(&c, v) + 4, lab);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", ML,
                cy(&c, v), W - MR, cy(&c, v));
    }
    for (size_t j = 0; j < s[0].n; j++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.6g</text>\n",
                cx(&c, s[0].x[j]), H - MB + 14, s[0].x[j]);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (ML + W - MR) / 2, H - 8);
    esc(f, xlabel);
    fprintf(f,
            "%s</text>\n<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
            "text-anchor=\"middle\">",
            c.logx ? " (log scale)" : "", (MT + H - MB) / 2, (MT + H - MB) / 2);
    esc(f, ylabel);
    fputs("</text>\n</g>\n", f);
    for (size_t i = 0; i < ns; i++) {
        const char *col = colour[i % (sizeof(colour) / sizeof(colour[0]))];
        /* one polyline per run of measured points: a gap where one is missing */
        bool open = false;
        for (size_t j = 0; j < s[i].n; j++) {
            if (!isfinite(s[i].y[j])) {
                if (open)
                    fputs("\"/>\n", f);
                open = false;
                continue;
            }
            if (!open)
                fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                        col);
            open = true;
            fprintf(f, "%.1f,%.1f ", cx(&c, s[i].x[j]), cy(&c, s[i].y[j]));
        }
        if (open)
            fputs("\"/>\n", f);
        for (size_t j = 0; j < s[i].n; j++)
            if (isfinite(s[i].y[j]))
                fprintf(f,
                        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%.6g: "
                        "%.6g</title></circle>\n",
                        cx(&c, s[i].x[j]), cy(&c, s[i].y[j]), col, s[i].x[j], s[i].y[j]);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"3\" fill=\"%s\"/>",
                W - MR + 10, MT + 16.0 * (double)i, col);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" font-family=\"sans-serif\">",
                W - MR + 26, MT + 16.0 * (double)i + 5);
        esc(f, s[i].name);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

/* A figure of a point, by index. */
enum fig { F_SETUP_RATE, F_P50, F_P95, F_P99, F_MEM_AGENT };

static double value(const struct ctl_sweep_point *p, enum fig k)
{
    if (!p->ok)
        return NAN;
    switch (k) {
    case F_SETUP_RATE:
        return p->setup_per_s;
    case F_P50:
        return p->p50_us;
    case F_P95:
        return p->p95_us;
    case F_P99:
        return p->p99_us;
    case F_MEM_AGENT:
        return p->bytes_per_agent;
    }
    return NAN;
}

/* Series of figure k: x is agents (or the rate when by_rate), one series
 * per value of the other dimension (its name `prefix` and that value). */
static size_t group(const struct ctl_sweep_point *p, size_t n, bool by_rate, enum fig k,
                    const char *prefix, struct series *s, size_t max)
{
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t other = by_rate ? p[i].agents : p[i].rate;
        size_t g = 0;
        while (g < ns && s[g].key != other)
            g++;
        if (g == ns) {
            if (ns == max)
                continue;
            memset(&s[ns], 0, sizeof(s[ns]));
            s[ns].key = other;
            if (other)
                snprintf(s[ns].name, sizeof(s[ns].name), "%s %s=%llu", prefix,
                         by_rate ? "agents" : "rate", (unsigned long long)other);
            else
                snprintf(s[ns].name, sizeof(s[ns].name), "%s", prefix);
            ns++;
        }
        s[g].x[s[g].n] = by_rate ? (double)p[i].rate : p[i].agents;
        s[g].y[s[g].n++] = value(&p[i], k);
    }
    return ns;
}

static void table(FILE *f, const struct ctl_sweep_point *p, size_t n)
{
    fputs("<table>\n<tr><th>agents</th><th>rate</th><th>topology</th><th>edges</th><th>conns "
          "up</th><th>setup s</th><th>setup/s</th><th>bytes/agent</th><th>bytes/conn</th>"
          "<th>p50 us</th><th>p95 us</th><th>p99 us</th><th>delivered</th><th>cycles/msg</th>"
          "<th>report</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const struct ctl_sweep_point *x = &p[i];
        fprintf(f, "<tr><td>%u</td><td>%llu</td>", x->agents,
                (unsigned long long)(x->ok ? x->target_rate : x->rate));
        if (!x->ok) {
            fputs("<td colspan=\"12\" class=\"fail\">FAILED: ", f);
            esc(f, x->error);
            fputs("</td>", f);
        } else {
            fputs("<td>", f);
            esc(f, x->topology);
            fprintf(f,
                    "</td><td>%llu</td><td>%llu/%llu</td><td>%.3f</td><td>%.0f</td><td>%.0f</td>"
                    "<td>%.0f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.4f%%</td>"
                    "<td>%.0f</td>",
                    (unsigned long long)x->edges, (unsigned long long)x->conn_up,
                    (unsigned long long)x->conn_total, x->setup_s, x->setup_per_s,
                    x->bytes_per_agent, x->bytes_per_conn, x->p50_us, x->p95_us, x->p99_us,
                    100 * x->delivery, x->cycles_per_msg);
        }
        fputs("<td>", f);
        esc(f, x->report);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

int ctl_sweep_html(const char *path, const char *run_flags, const struct ctl_sweep_point *p,
                   size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    /* x: agents, unless every point has the same agent count (a rate sweep) */
    bool by_rate = n > 0;
    for (size_t i = 1; i < n; i++)
        by_rate &= p[i].agents == p[0].agents;
    const char *xl = by_rate ? "target rate (messages/s)" : "agents";
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>swarmgen sweep</title>\n"
          "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
          ".fail{color:#b00;text-align:left}</style></head><body>\n<h1>swarmgen sweep</h1>\n"
          "<p>run flags: <code>",
          f);
    esc(f, run_flags);
    fputs("</code></p>\n", f);
    table(f, p, n);
    static struct series s[8];
    size_t ns = group(p, n, by_rate, F_SETUP_RATE, "set-up", s, 8);
    line_chart(f, "connection set-up rate (connections up / connect phase)", xl, "connections/s", s,
               ns);
    size_t groups = group(p, n, by_rate, F_P99, "p99", s, 8);
    if (groups == 1) {
        /* one line per percentile */
        ns = 0;
        const enum fig pk[] = {F_P50, F_P95, F_P99};
        const char *pn[] = {"p50", "p95", "p99"};
        static struct series one[3];
        for (int q = 0; q < 3; q++) {
            group(p, n, by_rate, pk[q], pn[q], &one[q], 1);
            snprintf(one[q].name, sizeof(one[q].name), "%s", pn[q]);
        }
        line_chart(f, "latency percentiles", xl, "microseconds", one, 3);
    } else {
        line_chart(f, "latency p99", xl, "microseconds", s, groups);
    }
    ns = group(p, n, by_rate, F_MEM_AGENT, "memory", s, 8);
    line_chart(f, "memory per agent", xl, "bytes per agent", s, ns);
    fputs("</body></html>\n", f);
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0)
        rc = -EIO;
    return rc;
}
