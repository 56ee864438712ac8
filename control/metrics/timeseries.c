/* SPDX-License-Identifier: MIT */
#include "timeseries.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl_ts_row *ctl_ts_add(struct ctl_ts *ts, const struct ctl_snap *now,
                              const struct ctl_snap *before, double t_s, uint32_t phase,
                              double target_rate, double active_agents)
{
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        struct ctl_ts_row *rows = realloc(ts->rows, cap * sizeof(*rows));
        if (!rows)
            return NULL;
        ts->rows = rows;
        ts->cap = cap;
    }
    struct ctl_ts_row *r = &ts->rows[ts->n++];
    memset(r, 0, sizeof(*r));
    struct ri_counters d;
    static struct met_hist lat; /* 37 KiB: not on the stack */
    met_counters_delta(&d, &now->total, &before->total);
    met_hist_delta(&lat, &now->latency, &before->latency);
    double dt = (double)(now->mono_ns - before->mono_ns) / 1e9;
    if (dt <= 0)
        dt = 1e-9;
    r->t_s = t_s;
    r->dt_s = dt;
    r->phase = phase;
    r->target_rate = target_rate;
    r->active_agents = active_agents;
    r->sent_per_s = (double)d.msgs_sent / dt;
    r->delivered_per_s = (double)d.msgs_delivered / dt;
    r->pps = (double)d.pkts_tx / dt;
    r->mbps = (double)d.bytes_tx * 8 / dt / 1e6;
    r->sent = now->total.msgs_sent;
    r->delivered = now->total.msgs_delivered;
    r->interval_sent = d.msgs_sent;
    r->interval_delivered = d.msgs_delivered;
    r->interval_lost = d.msgs_dropped;
    r->p50_us = (double)met_hist_percentile(&lat, 50) / 1e3;
    r->p95_us = (double)met_hist_percentile(&lat, 95) / 1e3;
    r->p99_us = (double)met_hist_percentile(&lat, 99) / 1e3;
    r->max_us = met_hist_total(&lat) ? (double)met_hist_percentile(&lat, 100) / 1e3 : 0;
    uint64_t done = now->total.msgs_delivered + now->total.msgs_dropped;
    r->in_flight = now->total.msgs_sent > done ? now->total.msgs_sent - done : 0;
    r->retransmissions = now->total.sctp_retransmissions;
    r->conn_closed = now->total.conn_closed;
    r->interval_retransmissions = d.sctp_retransmissions;
    r->interval_closed = d.conn_closed;
    r->reestablished = now->total.conn_reestablished;
    r->interval_reestablished = d.conn_reestablished;
    r->interval_slow = ts->slow_ns ? met_hist_count_above(&lat, ts->slow_ns) : 0;
    r->n_cores = now->n_workers;
    for (uint32_t w = 0; w < now->n_workers && w < RI_MAX_WORKERS; w++) {
        uint64_t busy = now->worker[w].cycles_busy - before->worker[w].cycles_busy;
        uint64_t total = now->worker[w].cycles_total - before->worker[w].cycles_total;
        r->busy_pct[w] = total ? 100.0 * (double)busy / (double)total : 0;
    }
    return r;
}

void ctl_ts_free(struct ctl_ts *ts)
{
    free(ts->rows);
    memset(ts, 0, sizeof(*ts));
}

int ctl_ts_write_csv(const struct ctl_ts *ts, const char *const *phase_names, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    uint32_t cores = ts->n ? ts->rows[0].n_cores : 0;
    fprintf(f, "t_s,phase,target_msgs_per_s,active_agents,sent_per_s,delivered_per_s,pps,mbps,"
               "sent_total,delivered_total,interval_dropped,p50_us,p95_us,p99_us,max_us");
    for (uint32_t c = 0; c < cores; c++)
        fprintf(f, ",busy_pct_core%u", c);
    fputc('\n', f);
    for (size_t i = 0; i < ts->n; i++) {
        const struct ctl_ts_row *r = &ts->rows[i];
        fprintf(f, "%.3f,%s,%.0f,%.0f,%.1f,%.1f,%.1f,%.3f,%llu,%llu,%llu,%.3f,%.3f,%.3f,%.3f",
                r->t_s, phase_names ? phase_names[r->phase] : "run", r->target_rate,
                r->active_agents, r->sent_per_s, r->delivered_per_s, r->pps, r->mbps,
                (unsigned long long)r->sent, (unsigned long long)r->delivered,
                (unsigned long long)r->interval_lost, r->p50_us, r->p95_us, r->p99_us, r->max_us);
        for (uint32_t c = 0; c < cores; c++)
            fprintf(f, ",%.1f", r->busy_pct[c]);
        fputc('\n', f);
    }
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}
