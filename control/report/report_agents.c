/* SPDX-License-Identifier: MIT */
#include "report_agents.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int ctl_agents_collect(struct ctl_agents *ag, const struct ri_header *h, const struct ri_config *cfg)
{
    memset(ag, 0, sizeof(*ag));
    ag->routed_share = -1;
    ag->top_n = 5;
    ag->n = cfg->n_agents;
    ag->a = calloc(ag->n ? ag->n : 1, sizeof(*ag->a));
    if (!ag->a)
        return -ENOMEM;
    ag->info = (const struct ri_agent *)ri_section(h, RI_SEC_AGENTS);
    for (uint32_t w = 0; w < cfg->n_workers; w++) {
        const uint64_t *hops = ri_agent_hops(h, cfg->n_agents, w);
        const struct ri_agent_stats *s = ri_agent_stats_of(h, cfg->n_agents, w);
        for (uint32_t b = 0; b < RI_HOP_BUCKETS; b++)
            ag->hops[b] += hops[b];
        for (uint32_t i = 0; i < ag->n; i++) {
            struct ri_agent_stats *d = &ag->a[i];
            d->sent += s[i].sent;
            d->delivered += s[i].delivered;
            d->delivered_from += s[i].delivered_from;
            d->forwarded += s[i].forwarded;
            d->drop_relay += s[i].drop_relay;
            d->drop_send += s[i].drop_send;
            d->conn_up += s[i].conn_up;
            d->conn_failed += s[i].conn_failed;
            d->dc_bytes_tx += s[i].dc_bytes_tx;
            d->dc_bytes_rx += s[i].dc_bytes_rx;
            for (uint32_t b = 0; b < RI_AGENT_LAT_BUCKETS; b++)
                d->lat[b] += s[i].lat[b];
        }
    }
    return 0;
}

void ctl_agents_routing(struct ctl_agents *ag, const struct ri_header *h, const struct ri_config *cfg,
                        uint32_t samples)
{
    uint32_t n = cfg->n_agents, nd = cfg->n_dests;
    const uint16_t *routes = (const uint16_t *)ri_section(h, RI_SEC_ROUTES);
    const uint32_t *dests = (const uint32_t *)ri_section(h, RI_SEC_DESTS);
    const uint32_t *off = (const uint32_t *)ri_section(h, RI_SEC_ADJ_OFF);
    const uint32_t *adj = (const uint32_t *)ri_section(h, RI_SEC_ADJ);
    if (n < 2 || nd == 0)
        return;
    uint64_t routed = 0, pairs = 0;
    /* at most ~2^26 table entries read: every step-th agent's row */
    uint64_t cells = (uint64_t)n * nd, step = cells > (UINT64_C(1) << 26) ? cells >> 26 : 1;
    for (uint32_t i = 0; i < n; i += (uint32_t)step)
        for (uint32_t d = 0; d < nd; d++)
            if (dests[d] != i) {
                pairs++;
                routed += routes[(size_t)i * nd + d] != RI_ROUTE_NONE;
            }
    ag->routed_share = pairs ? (double)routed / (double)pairs : -1;
    uint32_t *dist = malloc((size_t)n * sizeof(uint32_t)), *queue = malloc((size_t)n * sizeof(uint32_t));
    if (!dist || !queue) {
        free(dist);
        free(queue);
        return;
    }
    uint32_t ns = samples < n ? samples : n;
    uint64_t sum = 0, cnt = 0;
    for (uint32_t k = 0; k < ns; k++) {
        uint32_t src = (uint32_t)((uint64_t)k * n / ns);
        memset(dist, 0xff, (size_t)n * sizeof(uint32_t));
        uint32_t head = 0, tail = 0;
        dist[src] = 0;
        queue[tail++] = src;
        while (head < tail) {
            uint32_t v = queue[head++];
            for (uint32_t j = off[v]; j < off[v + 1]; j++)
                if (dist[adj[j]] == UINT32_MAX) {
                    dist[adj[j]] = dist[v] + 1;
                    queue[tail++] = adj[j];
                }
        }
        for (uint32_t d = 0; d < nd; d++)
            if (dests[d] != src && dist[dests[d]] != UINT32_MAX) {
                sum += dist[dests[d]];
                cnt++;
            }
    }
    free(dist);
    free(queue);
    ag->shortest_sources = ns;
    ag->shortest_mean = cnt ? (double)sum / (double)cnt : 0;
}

void ctl_agents_free(struct ctl_agents *ag)
{
    free(ag->a);
    ag->a = NULL;
}

double ctl_gini(const uint64_t *v, uint32_t n)
{
    /* G = sum_i (2i - n - 1) x_i / (n sum x), i = 1..n ascending */
    double num = 0, total = 0;
    for (uint32_t i = 0; i < n; i++) {
        num += (2.0 * (i + 1) - n - 1) * (double)v[i];
        total += (double)v[i];
    }
    return total > 0 ? num / ((double)n * total) : 0;
}

double ctl_median_u64(const uint64_t *v, uint32_t n)
{
    if (n == 0)
        return 0;
    return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

double ctl_top_share(const uint64_t *v, uint32_t n, double frac)
{
    if (n == 0)
        return 0;
    uint32_t k = (uint32_t)ceil(frac * n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    double top = 0, total = 0;
    for (uint32_t i = 0; i < n; i++) {
        total += (double)v[i];
        if (i >= n - k)
            top += (double)v[i];
    }
    return total > 0 ? top / total : 0;
}

uint64_t ctl_agent_lat_pct(const uint32_t lat[RI_AGENT_LAT_BUCKETS], double p)
{
    uint64_t total = 0;
    for (uint32_t b = 0; b < RI_AGENT_LAT_BUCKETS; b++)
        total += lat[b];
    if (total == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t b = 0; b < RI_AGENT_LAT_BUCKETS; b++) {
        seen += lat[b];
        if (seen >= rank)
            return UINT64_C(1) << (RI_AGENT_LAT_SHIFT + 1 + b);
    }
    return UINT64_C(1) << (RI_AGENT_LAT_SHIFT + RI_AGENT_LAT_BUCKETS);
}

double ctl_hops_mean(const uint64_t hops[RI_HOP_BUCKETS])
{
    double sum = 0, n = 0;
    for (uint32_t b = 0; b < RI_HOP_BUCKETS; b++) {
        sum += (double)hops[b] * (b + 1);
        n += (double)hops[b];
    }
    return n > 0 ? sum / n : 0;
}

struct keyed {
    double key;
    uint32_t id;
};

static int keyed_cmp(const void *x, const void *y)
{
    const struct keyed *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static double ratio(const struct ri_agent_stats *s)
{
    return s->sent ? (double)s->delivered_from / (double)s->sent : 1.0;
}

static void agent_obj(struct json_writer *w, const struct ctl_agents *ag, uint32_t id)
{
    const struct ri_agent_stats *s = &ag->a[id];
    json_obj_begin(w);
    json_kv_u64(w, "id", id);
    json_kv_u64(w, "degree", ag->info ? ag->info[id].degree : 0);
    json_kv_u64(w, "sent", s->sent);
    json_kv_u64(w, "delivered_from", s->delivered_from);
    json_kv_dbl(w, "delivery_ratio", ratio(s), 6);
    json_kv_u64(w, "forwarded", s->forwarded);
    json_kv_dbl(w, "p50_us", ctl_agent_lat_pct(s->lat, 50) / 1e3, 6);
    json_kv_dbl(w, "p99_us", ctl_agent_lat_pct(s->lat, 99) / 1e3, 6);
    json_obj_end(w);
}

/* Writes "top" (the last n of k, reversed) and "bottom" (the first n). */
static void ranked(struct json_writer *w, const char *key, const struct ctl_agents *ag, const struct keyed *k,
                   uint32_t cnt, bool high_is_top)
{
    uint32_t n = ag->top_n < cnt ? ag->top_n : cnt;
    json_key(w, key);
    json_obj_begin(w);
    for (int part = 0; part < 2; part++) {
        bool top = part == 0;
        json_key(w, top ? "top" : "bottom");
        json_arr_begin(w);
        for (uint32_t i = 0; i < n; i++) {
            bool from_high = top == high_is_top;
            agent_obj(w, ag, k[from_high ? cnt - 1 - i : i].id);
        }
        json_arr_end(w);
    }
    json_obj_end(w);
}

void ctl_agents_json(struct json_writer *w, const struct ctl_agents *ag)
{
    if (!ag || !ag->a)
        return;
    uint32_t n = ag->n;
    uint64_t sent = 0, delivered = 0, delivered_from = 0, forwarded = 0, conn_up = 0, conn_failed = 0;
    uint64_t *fw = malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    struct keyed *lat = malloc((size_t)(n ? n : 1) * sizeof(*lat)), *del = malloc((size_t)(n ? n : 1) * sizeof(*del));
    uint32_t n_lat = 0, n_del = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct ri_agent_stats *s = &ag->a[i];
        sent += s->sent;
        delivered += s->delivered;
        delivered_from += s->delivered_from;
        forwarded += s->forwarded;
        conn_up += s->conn_up;
        conn_failed += s->conn_failed;
        if (fw)
            fw[i] = s->forwarded;
        if (lat && s->delivered_from)
            lat[n_lat++] = (struct keyed){(double)ctl_agent_lat_pct(s->lat, 99), i};
        if (del && s->sent)
            del[n_del++] = (struct keyed){ratio(s), i};
    }
    json_key(w, "per_agent"); /* "agents" is the top-level count */
    json_obj_begin(w);
    json_kv_u64(w, "count", n);
    json_kv_u64(w, "sent", sent);
    json_kv_u64(w, "delivered", delivered);
    json_kv_u64(w, "delivered_from", delivered_from);
    json_kv_u64(w, "forwarded", forwarded);
    json_kv_u64(w, "conn_up", conn_up);         /* connection endpoints: 2 per connection up */
    json_kv_u64(w, "conn_failed", conn_failed); /* 2 per connection given up */
    if (fw) {
        qsort(fw, n, sizeof(*fw), u64_cmp);
        json_key(w, "load");
        json_obj_begin(w);
        json_kv_u64(w, "forwarded_min", n ? fw[0] : 0);
        json_kv_dbl(w, "forwarded_median", ctl_median_u64(fw, n), 3);
        json_kv_u64(w, "forwarded_max", n ? fw[n - 1] : 0);
        json_kv_dbl(w, "gini", ctl_gini(fw, n), 6);
        json_kv_dbl(w, "top1pct_share", ctl_top_share(fw, n, 0.01), 6);
        json_obj_end(w);
    }
    json_key(w, "hop_histogram");
    json_obj_begin(w);
    json_key(w, "buckets"); /* [hop count, messages], hop count = relays + 1; the last bucket: 65 or more */
    json_arr_begin(w);
    for (uint32_t b = 0; b < RI_HOP_BUCKETS; b++)
        if (ag->hops[b]) {
            json_compact(w, true);
            json_arr_begin(w);
            json_u64(w, b + 1);
            json_u64(w, ag->hops[b]);
            json_arr_end(w);
            json_compact(w, false);
        }
    json_arr_end(w);
    json_kv_dbl(w, "mean", ctl_hops_mean(ag->hops), 6);
    json_obj_end(w);
    json_key(w, "routing");
    json_obj_begin(w);
    json_key(w, "routed_share");
    if (ag->routed_share >= 0)
        json_dbl(w, ag->routed_share, 6);
    else
        json_null(w);
    json_kv_dbl(w, "shortest_mean", ag->shortest_mean, 6);
    json_kv_u64(w, "shortest_sources", ag->shortest_sources);
    double hm = ctl_hops_mean(ag->hops);
    json_kv_dbl(w, "efficiency", hm > 0 && ag->shortest_mean > 0 ? ag->shortest_mean / hm : 0, 6);
    json_obj_end(w);
    if (lat) {
        qsort(lat, n_lat, sizeof(*lat), keyed_cmp);
        ranked(w, "by_p99", ag, lat, n_lat, false); /* top: the lowest p99 */
    }
    if (del) {
        qsort(del, n_del, sizeof(*del), keyed_cmp);
        ranked(w, "by_delivery", ag, del, n_del, true);
    }
    json_obj_end(w);
    free(fw);
    free(lat);
    free(del);
}

void ctl_agents_summary(FILE *f, const struct ctl_agents *ag)
{
    if (!ag || !ag->a || ag->n == 0)
        return;
    uint32_t n = ag->n;
    uint64_t *fw = malloc((size_t)n * sizeof(uint64_t));
    if (!fw)
        return;
    uint32_t busiest = 0;
    for (uint32_t i = 0; i < n; i++) {
        fw[i] = ag->a[i].forwarded;
        if (fw[i] > ag->a[busiest].forwarded)
            busiest = i;
    }
    qsort(fw, n, sizeof(*fw), u64_cmp);
    fprintf(f, "  load         forwarded per agent min %llu median %.0f max %llu (agent %u), Gini %.3f, top 1%% carry %.1f%%\n",
            (unsigned long long)fw[0], ctl_median_u64(fw, n), (unsigned long long)fw[n - 1], busiest,
            ctl_gini(fw, n), 100 * ctl_top_share(fw, n, 0.01));
    fprintf(f, "  hops         mean %.3f delivered", ctl_hops_mean(ag->hops));
    if (ag->shortest_mean > 0)
        fprintf(f, ", shortest paths %.3f (%u sources)", ag->shortest_mean, ag->shortest_sources);
    if (ag->routed_share >= 0)
        fprintf(f, ", %.1f%% of destinations routed", 100 * ag->routed_share);
    fprintf(f, "\n");
    free(fw);
}

int ctl_agents_csv(const char *path, const struct ctl_agents *ag)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "agent,worker,degree,sent,delivered,delivered_from,forwarded,drop_relay,drop_send,"
               "dc_bytes_tx,dc_bytes_rx,p50_us,p99_us,conn_up,conn_failed\n");
    for (uint32_t i = 0; ag->a && i < ag->n; i++) {
        const struct ri_agent_stats *s = &ag->a[i];
        fprintf(f, "%u,%u,%u,%u,%u,%u,%u,%u,%u,%llu,%llu,%.3f,%.3f,%u,%u\n", i, ag->info ? ag->info[i].worker : 0,
                ag->info ? ag->info[i].degree : 0, s->sent, s->delivered, s->delivered_from, s->forwarded,
                s->drop_relay, s->drop_send, (unsigned long long)s->dc_bytes_tx, (unsigned long long)s->dc_bytes_rx,
                ctl_agent_lat_pct(s->lat, 50) / 1e3, ctl_agent_lat_pct(s->lat, 99) / 1e3, s->conn_up,
                s->conn_failed);
    }
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
