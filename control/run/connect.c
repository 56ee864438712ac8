/* SPDX-License-Identifier: MIT */
#include "connect.h"

#include <math.h>
#include <string.h>

#include "met_stats.h"

void ctl_connect_figures(const struct ri_counters *c, uint64_t n_edges,
                         struct ctl_connect_figures *f)
{
    memset(f, 0, sizeof(*f));
    f->total = n_edges ? n_edges : c->conn_total; /* shards: the connections this one counts */
    f->attempts = c->conn_attempts;
    f->up = c->conn_established;
    for (int s = 0; s < RI_STAGE_COUNT; s++) {
        f->failed_stage[s] = c->conn_attempt_failed[s];
        f->failed += c->conn_attempt_failed[s];
    }
    f->given_up = c->conn_given_up;
    f->retried = f->failed > f->given_up ? f->failed - f->given_up : 0;
    uint64_t ended = f->up + f->failed;
    f->in_setup = f->attempts > ended ? f->attempts - ended : 0;
    f->closed = c->conn_closed;
    f->settled = f->up + f->given_up;
}

bool ctl_connect_done(const struct ctl_connect_figures *f)
{
    return f->settled >= f->total;
}

static void fmt_ms(char *buf, size_t len, uint64_t ns, bool have)
{
    if (!have)
        snprintf(buf, len, "-");
    else if (ns >= 10000000000ull)
        snprintf(buf, len, "%.1fs", ns / 1e9);
    else if (ns >= 1000000)
        snprintf(buf, len, "%.0fms", ns / 1e6);
    else
        snprintf(buf, len, "%.2fms", ns / 1e6);
}

double ctl_connect_eta_s(const struct ctl_connect_figures *now, const struct ctl_connect_figures *before,
                         double dt_s)
{
    if (now->settled >= now->total)
        return 0;
    uint64_t settled = now->settled > before->settled ? now->settled - before->settled : 0;
    if (dt_s <= 0 || settled == 0)
        return -1;
    return (double)(now->total - now->settled) / ((double)settled / dt_s);
}

uint64_t ctl_connect_auto_deadline_ns(uint64_t floor_ns, uint64_t elapsed_ns, uint64_t settled, uint64_t total)
{
    if (elapsed_ns < CTL_CONNECT_AUTO_AFTER_NS || settled == 0)
        return floor_ns;
    double whole = (double)elapsed_ns * (double)total / (double)settled;
    double t = 2 * whole;
    return t > (double)floor_ns ? (t < 1e18 ? (uint64_t)t : UINT64_MAX) : floor_ns;
}

void ctl_connect_eta(const struct ctl_connect_figures *now, const struct ctl_connect_figures *before,
                     double dt_s, char *buf, size_t len)
{
    double s = ctl_connect_eta_s(now, before, dt_s);
    if (s < 0)
        snprintf(buf, len, "-");
    else if (s < 100)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 6000)
        snprintf(buf, len, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
    else
        snprintf(buf, len, "%.1fh", s / 3600);
}

void ctl_connect_progress(FILE *out, const struct ctl_connect_figures *now,
                          const struct ctl_connect_figures *before, double dt_s,
                          const struct met_hist *interval)
{
    double frac = now->total ? (double)now->settled / (double)now->total : 1.0;
    if (frac > 1)
        frac = 1;
    char bar[11];
    int filled = (int)(frac * 10);
    for (int i = 0; i < 10; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[10] = '\0';
    uint64_t came_up = now->up > before->up ? now->up - before->up : 0;
    bool have = interval && met_hist_total(interval) > 0;
    char p50[24], p99[24];
    fmt_ms(p50, sizeof(p50), have ? met_hist_percentile(interval, 50) : 0, have);
    fmt_ms(p99, sizeof(p99), have ? met_hist_percentile(interval, 99) : 0, have);
    char eta[24];
    ctl_connect_eta(now, before, dt_s, eta, sizeof(eta));
    fprintf(out,
            "connect    [%s] %llu/%llu up (%.1f%%)  %.0f conn/s  ETA %s  failed %llu  retried %llu  in "
            "set-up %llu  p50 %s p99 %s\n",
            bar, (unsigned long long)now->up, (unsigned long long)now->total,
            now->total ? 100.0 * (double)now->up / (double)now->total : 100.0,
            dt_s > 0 ? (double)came_up / dt_s : 0, eta, (unsigned long long)now->given_up,
            (unsigned long long)now->retried, (unsigned long long)now->in_setup, p50, p99);
    fflush(out);
}
