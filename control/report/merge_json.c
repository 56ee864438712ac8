/* SPDX-License-Identifier: MIT */
/*
 * merge_json: the merged JSON report. It walks the first shard's report as
 * a template, so the merged one has a run report's keys in a run report's
 * order, and writes each leaf by the rule of its path in one table: summed,
 * the longest or smallest, all or any of the flags, derived again from the
 * merged run (rates, percentiles, per-agent figures), a weighted mean, or —
 * for every key the table does not name (the topology, the options) — the
 * value the shards share, null when they differ. "cores" lists every
 * shard's cores; "histograms" and "sla" are the merged ones; "merged" names
 * the inputs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hist_json.h"
#include "json.h"
#include "report_merge_internal.h"

enum merge_rule {
    MR_SAME, /* the value every shard has; null when they differ (the default) */
    MR_SUM,  /* a count */
    MR_MAX,  /* a duration of shards that ran side by side, a peak */
    MR_MIN,  /* what the tightest machine had */
    MR_ALL,  /* a flag true only when true in every shard */
    MR_ANY,  /* a flag true when true in one shard */
    MR_JOIN, /* distinct strings, "; " between them */
    MR_WAVG, /* a per-message mean: weighted by `weight` (a path) */
    MR_CALC, /* derived again: calc() writes it */
};

/* The walk through the template: the paths of one leaf in every input. */
struct walk {
    const struct ctl_merge *m;
    struct json_writer *w;
    char path[256]; /* members joined by '.', array elements as "[]" */
    uint32_t elem;  /* index of the innermost array element on the path */
};

typedef void (*merge_calc_fn)(struct walk *k, const int *at);

struct merge_row {
    const char *pattern; /* a path; '*' stands for one member */
    enum merge_rule rule;
    merge_calc_fn calc; /* MR_CALC */
    const char *weight; /* MR_WAVG */
};

/* The last member of the path ("p99" of "latency_us.p99"). */
static const char *leaf_name(const struct walk *k)
{
    const char *dot = strrchr(k->path, '.');
    return dot ? dot + 1 : k->path;
}

/* ---- derived figures ---- */

static void calc_lost(struct walk *k, const int *at)
{
    (void)at;
    json_u64(k->w, k->m->g.lost);
}

static void calc_in_flight(struct walk *k, const int *at)
{
    (void)at;
    if (k->m->g.in_flight_known)
        json_u64(k->w, k->m->g.in_flight);
    else
        json_null(k->w);
}

static void calc_unaccounted(struct walk *k, const int *at)
{
    (void)at;
    if (k->m->g.in_flight_known)
        json_i64(k->w, k->m->g.unaccounted);
    else
        json_null(k->w);
}

static void calc_delivery_rate(struct walk *k, const int *at)
{
    (void)at;
    json_dbl(k->w, k->m->g.delivery_rate, 9);
}

static void calc_avg_hops(struct walk *k, const int *at)
{
    (void)at;
    json_dbl(k->w, k->m->g.avg_hops, 6);
}

static void calc_rate(struct walk *k, const int *at)
{
    (void)at;
    const struct ctl_run_figures *g = &k->m->g;
    const char *n = leaf_name(k);
    json_dbl(k->w,
             strcmp(n, "pps") == 0    ? g->pps
             : strcmp(n, "mbps") == 0 ? g->mbps
                                      : g->msgs_per_s,
             9);
}

/* p50/p95/p99/p999/max (in 1/scale of a ns) or samples of histogram h. */
static void percentile(struct walk *k, const struct met_hist *h, double scale)
{
    const char *n = leaf_name(k);
    if (strcmp(n, "samples") == 0) {
        json_u64(k->w, met_hist_total(h));
        return;
    }
    double p = strcmp(n, "p50") == 0    ? 50
               : strcmp(n, "p95") == 0  ? 95
               : strcmp(n, "p99") == 0  ? 99
               : strcmp(n, "p999") == 0 ? 99.9
               : strcmp(n, "max") == 0  ? 100
                                        : -1;
    if (p < 0)
        json_null(k->w);
    else
        json_dbl(k->w, (p == 100 ? (double)h->max : (double)met_hist_percentile(h, p)) / scale, 6);
}

static void calc_latency(struct walk *k, const int *at)
{
    (void)at;
    percentile(k, &k->m->final.latency, 1e3);
}

static void calc_setup(struct walk *k, const int *at)
{
    (void)at;
    percentile(k, &k->m->final.setup[RI_SETUP_TOTAL], 1e6);
}

/* connections.dtls.<version key>.setup_ms.<figure> */
static void calc_dtls_setup(struct walk *k, const int *at)
{
    (void)at;
    const char *v = k->path + strlen("connections.dtls.");
    for (uint32_t i = 0; i < RI_DTLS_VERSIONS; i++) {
        size_t n = strlen(ctl_dtls_key(i));
        if (strncmp(v, ctl_dtls_key(i), n) == 0 && v[n] == '.') {
            percentile(k, &k->m->final.setup[RI_SETUP_DTLS + i], 1e6);
            return;
        }
    }
    json_null(k->w);
}

/* connections.setup_ms.by_stage.<stage>.<figure> */
static void calc_stage(struct walk *k, const int *at)
{
    (void)at;
    char stage[32] = "";
    const char *s = k->path + strlen("connections.setup_ms.by_stage.");
    const char *dot = strchr(s, '.');
    if (dot && (size_t)(dot - s) < sizeof(stage))
        memcpy(stage, s, (size_t)(dot - s));
    for (uint32_t i = 0; i < RI_STAGE_COUNT; i++)
        if (strcmp(stage, ctl_stage_name(i)) == 0) {
            percentile(k, &k->m->final.setup[i], 1e6);
            return;
        }
    json_null(k->w);
}

static void calc_phase_latency(struct walk *k, const int *at)
{
    (void)at;
    const struct ctl_merge *m = k->m;
    if (k->elem >= m->n_phases || !m->phase_have[k->elem])
        json_dbl(k->w, 0, 6); /* the run writes 0 for a phase without a histogram */
    else
        percentile(k, &m->phase_lat[k->elem], 1e3);
}

/* A phase's delivered messages over its longest shard's seconds. */
static void calc_phase_rate(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    double delivered = 0, seconds = 0;
    for (uint32_t j = 0; j < m->o->n; j++) {
        if (at[j] < 0)
            continue;
        const struct jr_doc *d = &m->doc[j];
        int phase = d->node[at[j]].parent, x = jr_member(d, phase, "delivered"),
            s = jr_member(d, phase, "seconds");
        delivered += x >= 0 ? d->node[x].num : 0;
        if (s >= 0 && d->node[s].num > seconds)
            seconds = d->node[s].num;
    }
    json_dbl(k->w, seconds > 0 ? delivered / seconds : 0, 9);
}

static void calc_memory(struct walk *k, const int *at)
{
    (void)at;
    const struct ctl_merge *m = k->m;
    const char *n = leaf_name(k);
    if (strcmp(n, "bytes_per_agent") == 0)
        json_dbl(k->w, m->g.bytes_per_agent, 9);
    else if (strcmp(n, "bytes_per_connection") == 0)
        json_dbl(k->w, m->g.bytes_per_connection, 9);
    else /* bytes_per_connection_state: per connection to set up, all shards */
        json_dbl(k->w,
                 m->final.total.conn_total
                     ? (double)m->r.mem_conn_bytes / (double)m->final.total.conn_total
                     : 0,
                 9);
}

static void calc_planned_per_agent(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    double total = 0;
    for (uint32_t j = 0; j < m->o->n; j++) {
        double v;
        if (at[j] >= 0 && jr_number(&m->doc[j], "memory.planned.bytes_total", &v))
            total += v;
    }
    json_dbl(k->w, m->opts.agents ? total / m->opts.agents : 0, 9);
}

static void calc_setup_per_s(struct walk *k, const int *at)
{
    (void)at;
    json_dbl(k->w, k->m->r.connect_per_s, 6);
}

static void calc_per_certificate(struct walk *k, const int *at)
{
    (void)at;
    const struct ctl_run_result *r = &k->m->r;
    json_dbl(k->w, r->n_certs ? r->cert_gen_ns / 1e3 / (double)r->n_certs : 0, 3);
}

/* The longest; null when one shard has none (a spike it did not recover from). */
static void calc_max_or_null(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    double best = 0;
    for (uint32_t j = 0; j < m->o->n; j++) {
        if (at[j] < 0 || m->doc[j].node[at[j]].type != JR_NUM) {
            json_null(k->w);
            return;
        }
        if (m->doc[j].node[at[j]].num > best)
            best = m->doc[j].node[at[j]].num;
    }
    json_dbl(k->w, best, 6);
}

/* A count every shard has: their sum; null when one has none (null). */
static void calc_sum_or_null(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    uint64_t sum = 0;
    for (uint32_t j = 0; j < m->o->n; j++) {
        uint64_t v;
        if (at[j] < 0 || m->doc[j].node[at[j]].type != JR_NUM || !jr_u64(&m->doc[j], at[j], &v)) {
            json_null(k->w);
            return;
        }
        sum += v;
    }
    json_u64(k->w, sum);
}

/* ---- the rules, by path ---- */

static const struct merge_row rows[] = {
    {"interrupted", MR_ANY, NULL, NULL},
    {"duration_s", MR_MAX, NULL, NULL},
    {"drain_s", MR_MAX, NULL, NULL},
    {"setup_s.*", MR_MAX, NULL, NULL},
    {"ports", MR_JOIN, NULL, NULL},
    {"topology.routing_s", MR_MAX, NULL, NULL},
    {"messages.lost", MR_CALC, calc_lost, NULL},
    {"messages.in_flight", MR_CALC, calc_in_flight, NULL},
    {"messages.unaccounted", MR_CALC, calc_unaccounted, NULL},
    {"messages.delivery_rate", MR_CALC, calc_delivery_rate, NULL},
    {"messages.avg_hops", MR_CALC, calc_avg_hops, NULL},
    {"messages.size_bytes", MR_SAME, NULL, NULL},
    {"messages.pattern", MR_SAME, NULL, NULL},
    {"messages.*", MR_SUM, NULL, NULL},
    {"latency_us.*", MR_CALC, calc_latency, NULL},
    {"throughput.msgs_per_s", MR_CALC, calc_rate, NULL},
    {"throughput.pps", MR_CALC, calc_rate, NULL},
    {"throughput.mbps", MR_CALC, calc_rate, NULL},
    {"throughput.*", MR_SUM, NULL, NULL}, /* target_msgs_per_s: each shard's --rate */
    {"cpu.busy_cycles_per_msg", MR_WAVG, NULL, "messages.delivered"},
    {"cpu.busy_ns_per_msg", MR_WAVG, NULL, "messages.delivered"},
    {"drops.*", MR_SUM, NULL, NULL},
    {"memory.bytes_per_agent", MR_CALC, calc_memory, NULL},
    {"memory.bytes_per_connection", MR_CALC, calc_memory, NULL},
    {"memory.bytes_per_connection_state", MR_CALC, calc_memory, NULL},
    {"memory.hugepages", MR_ALL, NULL, NULL},
    {"memory.sctp_pool_apart", MR_ALL, NULL, NULL},
    {"memory.categories.*", MR_SUM, NULL, NULL},
    {"memory.planned.bytes_per_agent", MR_CALC, calc_planned_per_agent, NULL},
    {"memory.planned.bytes_per_connection", MR_SAME, NULL, NULL},
    {"memory.planned.categories.*", MR_SUM, NULL, NULL},
    {"memory.planned.hugepages", MR_ALL, NULL, NULL},
    {"memory.planned.fits", MR_ALL, NULL, NULL},
    {"memory.planned.mem_available_bytes", MR_MIN, NULL, NULL},
    {"memory.planned.hugepages_free_bytes", MR_MIN, NULL, NULL},
    {"memory.planned.*", MR_SUM, NULL, NULL},
    {"memory.*", MR_SUM, NULL, NULL},
    {"connections.setup_s", MR_MAX, NULL, NULL},
    {"connections.setup_per_s", MR_CALC, calc_setup_per_s, NULL},
    {"connections.timed_out", MR_ANY, NULL, NULL},
    {"connections.handshake_slots_peak_per_core", MR_MAX, NULL, NULL},
    {"connections.certificates.per_certificate_us", MR_CALC, calc_per_certificate, NULL},
    {"connections.certificates.*", MR_SUM, NULL, NULL},
    {"connections.setup_ms.by_stage.*.*", MR_CALC, calc_stage, NULL},
    {"connections.setup_ms.*", MR_CALC, calc_setup, NULL},
    {"connections.failed.*", MR_SUM, NULL, NULL},
    {"connections.dtls.offered", MR_SAME, NULL, NULL},
    {"connections.dtls.*.setup_ms.*", MR_CALC, calc_dtls_setup, NULL},
    {"connections.dtls.*.up", MR_SUM, NULL, NULL},
    {"connections.dtls.key_updates.*", MR_SUM, NULL, NULL},
    {"connections.churn.rate", MR_SAME, NULL, NULL},
    {"connections.churn.rate_pct", MR_SAME, NULL, NULL},
    {"connections.churn.resetup_ms.*", MR_MAX, NULL, NULL}, /* no histogram in the report: the slowest shard's */
    {"connections.*", MR_SUM, NULL, NULL},
    {"dc_msgs.*", MR_SUM, NULL, NULL},
    {"sctp.buffers_per_core", MR_SAME, NULL, NULL},
    {"sctp.buffers_peak_per_core", MR_MAX, NULL, NULL},
    {"sctp.heartbeat_ms", MR_SAME, NULL, NULL},
    {"sctp.*", MR_SUM, NULL, NULL},
    {"srtp.*", MR_SUM, NULL, NULL},
    {"media.kind", MR_SAME, NULL, NULL},
    {"media.loss", MR_WAVG, NULL, "media.packets"},
    {"media.jitter_ms", MR_WAVG, NULL, "media.rtcp_received"},
    {"media.*", MR_SUM, NULL, NULL},
    {"signature_failures", MR_SUM, NULL, NULL},
    {"netem.*", MR_SUM, NULL, NULL}, /* the counters; netem.classes[] are the same settings */
    /* netem.outages[]: the same silences in every shard; counts add up, the
     * recovery is the slowest shard's (null when one did not recover) */
    {"netem.outages[].recovered_silences", MR_MIN, NULL, NULL},
    {"netem.outages[].recovered", MR_ALL, NULL, NULL},
    {"netem.outages[].recovery_s", MR_CALC, calc_max_or_null, NULL},
    {"netem.outages[].retransmissions", MR_SUM, NULL, NULL},
    {"netem.outages[].messages_delayed", MR_CALC, calc_sum_or_null, NULL},
    {"netem.outages[].connections_closed", MR_SUM, NULL, NULL},
    {"netem.outages[].connections_reestablished", MR_SUM, NULL, NULL},
    {"netem.outages[].baseline_p99_us", MR_MAX, NULL, NULL},
    {"netem.outages[].limit_us", MR_MAX, NULL, NULL},
    {"profile.aborted", MR_ANY, NULL, NULL},
    {"profile.phases[].reached", MR_ANY, NULL, NULL},
    {"profile.phases[].seconds", MR_MAX, NULL, NULL},
    {"profile.phases[].sent", MR_SUM, NULL, NULL},
    {"profile.phases[].delivered", MR_SUM, NULL, NULL},
    {"profile.phases[].rate_from", MR_SUM, NULL, NULL},
    {"profile.phases[].rate_to", MR_SUM, NULL, NULL},
    {"profile.phases[].msgs_per_s", MR_CALC, calc_phase_rate, NULL},
    {"profile.phases[].latency_us.*", MR_CALC, calc_phase_latency, NULL},
    {"spike.recovered", MR_ALL, NULL, NULL},
    {"spike.recovery_s", MR_CALC, calc_max_or_null, NULL},
    {"spike.baseline_p99_us", MR_MAX, NULL, NULL},
    {"soak.*", MR_SUM, NULL, NULL}, /* resident memory of every shard's processes */
};

/* True when `path` matches `pattern` member by member, '*' matching any one. */
static bool matches(const char *pattern, const char *path)
{
    for (;;) {
        const char *pe = strchr(pattern, '.'), *se = strchr(path, '.');
        size_t pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
        size_t sl = se ? (size_t)(se - path) : strlen(path);
        if (!(pl == 1 && pattern[0] == '*') && (pl != sl || memcmp(pattern, path, pl) != 0))
            return false;
        if (!pe || !se)
            return !pe && !se;
        pattern = pe + 1;
        path = se + 1;
    }
}

static const struct merge_row *rule_of(const char *path)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (matches(rows[i].pattern, path))
            return &rows[i];
    return NULL;
}

/* ---- writing values ---- */

/* Copies node `n` of d (and everything in it) to the writer unchanged. */
static void copy_value(struct json_writer *w, const struct jr_doc *d, int n)
{
    const struct jr_node *x = &d->node[n];
    char key[128];
    switch (x->type) {
    case JR_OBJ:
    case JR_ARR:
        if (x->type == JR_OBJ)
            json_obj_begin(w);
        else
            json_arr_begin(w);
        for (int c = jr_next_child(d, n, n); c >= 0; c = jr_next_child(d, n, c)) {
            if (x->type == JR_OBJ) {
                snprintf(key, sizeof(key), "%.*s", (int)d->node[c].key_len, d->node[c].key);
                json_key(w, key);
            }
            copy_value(w, d, c);
        }
        if (x->type == JR_OBJ)
            json_obj_end(w);
        else
            json_arr_end(w);
        break;
    case JR_STR:
        json_str_raw(w, x->raw, x->raw_len);
        break;
    case JR_NUM:
        json_raw(w, x->raw, x->raw_len);
        break;
    case JR_BOOL:
        json_bool(w, x->num != 0);
        break;
    default:
        json_null(w);
    }
}

/* A number node written back: exactly when it is a whole number. */
static void write_num(struct json_writer *w, const struct jr_doc *d, int n)
{
    json_raw(w, d->node[n].raw, d->node[n].raw_len);
}

static void leaf_sum(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    uint64_t whole = 0;
    double any = 0;
    bool exact = true, seen = false;
    for (uint32_t j = 0; j < m->o->n; j++) {
        if (at[j] < 0 || m->doc[j].node[at[j]].type != JR_NUM)
            continue;
        uint64_t v;
        seen = true;
        any += m->doc[j].node[at[j]].num;
        if (exact && jr_u64(&m->doc[j], at[j], &v) && whole + v >= whole)
            whole += v;
        else
            exact = false;
    }
    if (!seen)
        json_null(k->w);
    else if (exact)
        json_u64(k->w, whole);
    else
        json_dbl(k->w, any, 9);
}

/* MR_MAX / MR_MIN: the chosen shard's number as it wrote it. */
static void leaf_extreme(struct walk *k, const int *at, bool max)
{
    const struct ctl_merge *m = k->m;
    int best = -1;
    uint32_t from = 0;
    for (uint32_t j = 0; j < m->o->n; j++) {
        if (at[j] < 0 || m->doc[j].node[at[j]].type != JR_NUM)
            continue;
        double v = m->doc[j].node[at[j]].num, b = best >= 0 ? m->doc[from].node[best].num : 0;
        if (best < 0 || (max ? v > b : v < b)) {
            best = at[j];
            from = j;
        }
    }
    if (best < 0)
        json_null(k->w);
    else
        write_num(k->w, &m->doc[from], best);
}

static void leaf_flags(struct walk *k, const int *at, bool all)
{
    const struct ctl_merge *m = k->m;
    bool v = all, seen = false;
    for (uint32_t j = 0; j < m->o->n; j++) {
        if (at[j] < 0 || m->doc[j].node[at[j]].type != JR_BOOL)
            continue;
        bool b = m->doc[j].node[at[j]].num != 0;
        v = all ? v && b : v || b;
        seen = true;
    }
    if (seen)
        json_bool(k->w, v);
    else
        json_null(k->w);
}

static void leaf_join(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    char buf[1024];
    size_t len = 0;
    for (uint32_t j = 0; j < m->o->n; j++) {
        const struct jr_doc *d = &m->doc[j];
        if (at[j] < 0 || d->node[at[j]].type != JR_STR)
            continue;
        const struct jr_node *x = &d->node[at[j]];
        bool dup = false;
        for (uint32_t i = 0; i < j && !dup; i++)
            dup = at[i] >= 0 && m->doc[i].node[at[i]].raw_len == x->raw_len &&
                  memcmp(m->doc[i].node[at[i]].raw, x->raw, x->raw_len) == 0;
        int n = dup ? 0
                    : snprintf(buf + len, sizeof(buf) - len, "%s%.*s", len ? "; " : "",
                               (int)x->raw_len, x->raw);
        if (n < 0 || (size_t)n >= sizeof(buf) - len)
            break;
        len += (size_t)n;
    }
    json_str_raw(k->w, buf, len);
}

static void leaf_wavg(struct walk *k, const int *at, const char *weight)
{
    const struct ctl_merge *m = k->m;
    double num = 0, den = 0;
    for (uint32_t j = 0; j < m->o->n; j++) {
        double wt;
        if (at[j] < 0 || m->doc[j].node[at[j]].type != JR_NUM ||
            !jr_number(&m->doc[j], weight, &wt))
            continue;
        num += m->doc[j].node[at[j]].num * wt;
        den += wt;
    }
    json_dbl(k->w, den > 0 ? num / den : 0, 9);
}

/* MR_SAME: input 0's value when every input wrote the same, else null. */
static void leaf_same(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    const struct jr_node *x = &m->doc[0].node[at[0]];
    for (uint32_t j = 1; j < m->o->n; j++) {
        const struct jr_node *y = at[j] >= 0 ? &m->doc[j].node[at[j]] : NULL;
        bool same = y && y->type == x->type &&
                    (x->type == JR_STR || x->type == JR_NUM
                         ? x->raw_len == y->raw_len && memcmp(x->raw, y->raw, x->raw_len) == 0
                         : x->num == y->num);
        if (!same) {
            json_null(k->w);
            return;
        }
    }
    copy_value(k->w, &m->doc[0], at[0]);
}

static void leaf(struct walk *k, const int *at)
{
    const struct merge_row *row = rule_of(k->path);
    switch (row ? row->rule : MR_SAME) {
    case MR_SUM:
        leaf_sum(k, at);
        break;
    case MR_MAX:
        leaf_extreme(k, at, true);
        break;
    case MR_MIN:
        leaf_extreme(k, at, false);
        break;
    case MR_ALL:
        leaf_flags(k, at, true);
        break;
    case MR_ANY:
        leaf_flags(k, at, false);
        break;
    case MR_JOIN:
        leaf_join(k, at);
        break;
    case MR_WAVG:
        leaf_wavg(k, at, row->weight);
        break;
    case MR_CALC:
        row->calc(k, at);
        break;
    default:
        leaf_same(k, at);
    }
}

/* ---- the walk ---- */

static void walk(struct walk *k, const int *at);

/* "cores": every shard's cores, one after the other. */
static void all_cores(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    json_arr_begin(k->w);
    for (uint32_t j = 0; j < m->o->n; j++) {
        const struct jr_doc *d = &m->doc[j];
        for (int c = jr_next_child(d, at[j], at[j]); at[j] >= 0 && c >= 0;
             c = jr_next_child(d, at[j], c))
            copy_value(k->w, d, c);
    }
    json_arr_end(k->w);
}

/* "per_agent" (issue 22): the sums over the shards and their hop
 * histograms added bucket by bucket, the mean again; the load, routing and
 * top/bottom lists are each shard's own (over the agents it simulated):
 * not merged (docs/reports.md). */
static void per_agent(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    static const char *const sums[] = {"count", "sent", "delivered", "delivered_from", "forwarded"};
    uint64_t total[5] = {0}, hops[RI_HOP_BUCKETS + 1] = {0};
    for (uint32_t j = 0; j < m->o->n; j++) {
        const struct jr_doc *d = &m->doc[j];
        if (at[j] < 0)
            continue;
        for (int i = 0; i < 5; i++) {
            uint64_t v;
            int n = jr_find(d, at[j], sums[i]);
            if (n >= 0 && jr_u64(d, n, &v))
                total[i] = i == 0 ? (v > total[i] ? v : total[i]) : total[i] + v; /* count: the swarm's, in every shard */
        }
        int b = jr_find(d, at[j], "hop_histogram.buckets");
        for (int c = b >= 0 ? jr_next_child(d, b, b) : -1; c >= 0; c = jr_next_child(d, b, c)) {
            uint64_t hop, cnt;
            int h = jr_element(d, c, 0), n = jr_element(d, c, 1);
            if (h >= 0 && n >= 0 && jr_u64(d, h, &hop) && jr_u64(d, n, &cnt) && hop >= 1 && hop <= RI_HOP_BUCKETS)
                hops[hop] += cnt;
        }
    }
    json_obj_begin(k->w);
    for (int i = 0; i < 5; i++)
        json_kv_u64(k->w, sums[i], total[i]);
    json_key(k->w, "hop_histogram");
    json_obj_begin(k->w);
    json_key(k->w, "buckets");
    json_arr_begin(k->w);
    double sum = 0, n = 0;
    for (uint32_t h = 1; h <= RI_HOP_BUCKETS; h++)
        if (hops[h]) {
            json_compact(k->w, true);
            json_arr_begin(k->w);
            json_u64(k->w, h);
            json_u64(k->w, hops[h]);
            json_arr_end(k->w);
            json_compact(k->w, false);
            sum += (double)h * (double)hops[h];
            n += (double)hops[h];
        }
    json_arr_end(k->w);
    json_kv_dbl(k->w, "mean", n > 0 ? sum / n : 0, 6);
    json_obj_end(k->w);
    json_obj_end(k->w);
}

/* Appends `seg` to the path; returns the length to cut back to. */
static size_t push(struct walk *k, const char *seg)
{
    size_t len = strlen(k->path);
    snprintf(k->path + len, sizeof(k->path) - len, "%s%s", len && seg[0] != '[' ? "." : "", seg);
    return len;
}

static void walk_object(struct walk *k, const int *at, bool root);

static void walk_array(struct walk *k, const int *at)
{
    const struct ctl_merge *m = k->m;
    const struct jr_doc *d0 = &m->doc[0];
    int child[CTL_MERGE_MAX];
    uint32_t saved = k->elem, idx = 0;
    json_arr_begin(k->w);
    for (int c = jr_next_child(d0, at[0], at[0]); c >= 0; c = jr_next_child(d0, at[0], c), idx++) {
        child[0] = c;
        for (uint32_t j = 1; j < m->o->n; j++)
            child[j] = jr_element(&m->doc[j], at[j], idx);
        size_t cut = push(k, "[]");
        k->elem = idx;
        walk(k, child);
        k->path[cut] = '\0';
    }
    k->elem = saved;
    json_arr_end(k->w);
}

static void walk(struct walk *k, const int *at)
{
    enum jr_type t = k->m->doc[0].node[at[0]].type;
    if (strcmp(k->path, "cores") == 0)
        all_cores(k, at);
    else if (strcmp(k->path, "per_agent") == 0)
        per_agent(k, at);
    else if (t == JR_OBJ)
        walk_object(k, at, false);
    else if (t == JR_ARR)
        walk_array(k, at);
    else
        leaf(k, at);
}

/* "histograms": the layout and the merged histograms. */
static void histograms(struct walk *k)
{
    const struct ctl_merge *m = k->m;
    struct json_writer *w = k->w;
    json_key(w, "histograms");
    json_obj_begin(w);
    json_key(w, "layout");
    ctl_hist_json_layout(w);
    json_key(w, "latency");
    ctl_hist_json_write(w, &m->final.latency);
    if (m->dc) {
        json_key(w, "setup");
        json_obj_begin(w);
        json_key(w, "total");
        ctl_hist_json_write(w, &m->final.setup[RI_SETUP_TOTAL]);
        for (uint32_t s = 0; s < RI_STAGE_COUNT; s++) {
            json_key(w, ctl_stage_name(s));
            ctl_hist_json_write(w, &m->final.setup[s]);
        }
        for (uint32_t s = RI_SETUP_DTLS; s < RI_SETUP_HISTS; s++) {
            json_key(w, ctl_setup_hist_name(s));
            ctl_hist_json_write(w, &m->final.setup[s]);
        }
        json_obj_end(w);
    }
    if (jr_find(&m->doc[0], 0, "histograms.phases") >= 0) {
        json_key(w, "phases");
        json_arr_begin(w);
        for (uint32_t p = 0; p < m->n_phases; p++) {
            if (m->phase_have[p])
                ctl_hist_json_write(w, &m->phase_lat[p]);
            else
                json_null(w);
        }
        json_arr_end(w);
    }
    json_obj_end(w);
}

/* "merged": how many shards and which files. */
static void merged(struct walk *k)
{
    json_key(k->w, "merged");
    json_obj_begin(k->w);
    json_kv_u64(k->w, "shards", k->m->o->n);
    if (k->m->shard_count) {
        json_kv_u64(k->w, "shard_count", k->m->shard_count);
        json_key(k->w, "missing_shards");
        json_arr_begin(k->w);
        for (uint32_t s = 0; s < k->m->shard_count; s++)
            if (k->m->shard_missing[s / 64] >> (s % 64) & 1)
                json_u64(k->w, s);
        json_arr_end(k->w);
    }
    json_key(k->w, "inputs");
    json_arr_begin(k->w);
    for (uint32_t i = 0; i < k->m->o->n; i++)
        json_str(k->w, k->m->o->input[i]);
    json_arr_end(k->w);
    json_obj_end(k->w);
}

static void walk_object(struct walk *k, const int *at, bool root)
{
    const struct ctl_merge *m = k->m;
    const struct jr_doc *d0 = &m->doc[0];
    int child[CTL_MERGE_MAX];
    char key[128];
    bool sla_done = false;
    json_obj_begin(k->w);
    for (int c = jr_next_child(d0, at[0], at[0]); c >= 0; c = jr_next_child(d0, at[0], c)) {
        snprintf(key, sizeof(key), "%.*s", (int)d0->node[c].key_len, d0->node[c].key);
        if (root && strcmp(key, "histograms") == 0) {
            histograms(k);
            continue;
        }
        if (root && strcmp(key, "sla") == 0) {
            ctl_report_sla_json(k->w, &m->r); /* the verdicts on the merged figures */
            sla_done = true;
            continue;
        }
        if (root && strcmp(key, "merged") == 0)
            continue;
        child[0] = c;
        for (uint32_t j = 1; j < m->o->n; j++)
            child[j] = jr_member(&m->doc[j], at[j], key);
        json_key(k->w, key);
        size_t cut = push(k, key);
        walk(k, child);
        k->path[cut] = '\0';
    }
    if (root) {
        if (!sla_done)
            ctl_report_sla_json(k->w, &m->r);
        merged(k);
    }
    json_obj_end(k->w);
}

int ctl_merge_json(const struct ctl_merge *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    struct json_writer w;
    json_init(&w, f, true);
    struct walk k = {.m = m, .w = &w};
    int root[CTL_MERGE_MAX] = {0}; /* node 0 of every input: its root object */
    walk_object(&k, root, true);
    int rc = json_finish(&w);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}
