/* SPDX-License-Identifier: MIT */
/*
 * report_merge: reads and checks the shard reports, adds them up into one
 * ctl_run_result, judges the SLA on it, prints the summary and writes the
 * reports (merge_json.c the JSON one). A step per function, in order.
 */
#include "report_merge.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "dp_mem.h"
#include "hist_json.h"
#include "report_html.h"
#include "report_merge_internal.h"
#include "traffic_opts.h"

/* Where bad input is told. */
static FILE *err_of(const struct ctl_merge_opts *o)
{
    return o->err ? o->err : stderr;
}

/* One line "swarmgen: --merge: PATH: reason" on o->err; returns exit code 2. */
static int bad_input(const struct ctl_merge_opts *o, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad_input(const struct ctl_merge_opts *o, const char *path, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    fprintf(err_of(o), "swarmgen: --merge: %s: %s\n", path, why);
    return CLI_EXIT_USAGE;
}

/* The whole number at `path` of d (0 when missing). */
static uint64_t u64_at(const struct jr_doc *d, const char *path)
{
    uint64_t v = 0;
    return jr_u64(d, jr_find(d, 0, path), &v) ? v : 0;
}

/* The number at `path` of d (0 when missing). */
static double num_at(const struct jr_doc *d, const char *path)
{
    double v = 0;
    return jr_number(d, path, &v) ? v : 0;
}

/* The flag at `path` of d (false when missing). */
static bool flag_at(const struct jr_doc *d, const char *path)
{
    int n = jr_find(d, 0, path);
    return n >= 0 && d->node[n].type == JR_BOOL && d->node[n].num != 0;
}

/* ---- reading and checking ---- */

/* The keys every run report has and the merge needs (plain numbers). */
static const char *const required[] = {
    "agents", "messages.sent", "messages.delivered", "messages.forwarded",
    "messages.dropped_in_flight", "messages.hops", "throughput.frames_tx", "throughput.bytes_tx",
    "duration_s", "drain_s", "topology.seed",
};

/* Loads input i and checks it is a swarmgen run report with histograms of
 * this build's layout. Returns 0 or exit code 2 (the line printed). */
static int load(struct ctl_merge *m, uint32_t i)
{
    const char *path = m->o->input[i];
    struct jr_doc *d = &m->doc[i];
    size_t off = 0;
    int rc = jr_load(d, path, &off);
    if (rc == -EINVAL)
        return bad_input(m->o, path, "not JSON (error at byte %zu)", off);
    if (rc < 0)
        return bad_input(m->o, path, "%s", strerror(-rc));
    m->n_loaded = i + 1;
    if (!jr_str_is(d, jr_find(d, 0, "tool"), "swarmgen"))
        return bad_input(m->o, path, "not a swarmgen report (no \"tool\": \"swarmgen\")");
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
        int node = jr_find(d, 0, required[k]);
        if (node < 0 || d->node[node].type != JR_NUM)
            return bad_input(m->o, path, "not a swarmgen run report (no %s)", required[k]);
    }
    int h = jr_find(d, 0, "histograms");
    if (h < 0)
        return bad_input(m->o, path, "has no \"histograms\" (written by a swarmgen before report --merge): run it again to merge it");
    char err[160];
    if (ctl_hist_json_layout_check(d, jr_member(d, h, "layout"), err, sizeof(err)) < 0)
        return bad_input(m->o, path, "%s", err);
    return 0;
}

/* True when node a of da and node b of db are both missing or written the same. */
static bool same_value(const struct jr_doc *da, int a, const struct jr_doc *db, int b)
{
    if (a < 0 || b < 0)
        return a < 0 && b < 0;
    const struct jr_node *x = &da->node[a], *y = &db->node[b];
    if (x->type != y->type)
        return false;
    if (x->type == JR_STR || x->type == JR_NUM)
        return x->raw_len == y->raw_len && memcmp(x->raw, y->raw, x->raw_len) == 0;
    return x->num == y->num;
}

/* What makes reports shards of one swarm: equal in every input. */
static const char *const same_swarm[] = {
    "topology.spec", "topology.seed", "agents", "traffic.kind", "traffic.pattern", "profile.name",
};

/* Input i against input 0 and against every earlier file. Returns 0 or 2. */
static int check_shard(const struct ctl_merge *m, uint32_t i, const struct stat *st)
{
    const char *path = m->o->input[i];
    for (uint32_t j = 0; j < i; j++)
        if (st[j].st_dev == st[i].st_dev && st[j].st_ino == st[i].st_ino)
            return bad_input(m->o, path, "given twice (as %s too): each shard counts once", m->o->input[j]);
    const struct jr_doc *a = &m->doc[0], *b = &m->doc[i];
    for (size_t k = 0; k < sizeof(same_swarm) / sizeof(same_swarm[0]); k++) {
        int x = jr_find(a, 0, same_swarm[k]), y = jr_find(b, 0, same_swarm[k]);
        if (same_value(a, x, b, y))
            continue;
        const struct jr_node *nx = x >= 0 ? &a->node[x] : NULL, *ny = y >= 0 ? &b->node[y] : NULL;
        return bad_input(m->o, path, "%s is %.*s, in %s %.*s: not shards of one swarm", same_swarm[k],
                         ny ? (int)ny->raw_len : 4, ny ? ny->raw : "none", m->o->input[0],
                         nx ? (int)nx->raw_len : 4, nx ? nx->raw : "none");
    }
    int pa = jr_find(a, 0, "histograms.phases"), pb = jr_find(b, 0, "histograms.phases");
    uint32_t na = 0, nb = 0;
    for (int c = jr_next_child(a, pa, pa); c >= 0; c = jr_next_child(a, pa, c))
        na++;
    for (int c = jr_next_child(b, pb, pb); c >= 0; c = jr_next_child(b, pb, c))
        nb++;
    if (na != nb)
        return bad_input(m->o, path, "%u profile phases, %s has %u: not shards of one swarm", nb,
                         m->o->input[0], na);
    return 0;
}

/* Loads every input and checks they belong together. Returns 0 or 2. */
static int load_all(struct ctl_merge *m)
{
    struct stat st[CTL_MERGE_MAX];
    for (uint32_t i = 0; i < m->o->n; i++) {
        int rc = load(m, i);
        if (rc)
            return rc;
        if (stat(m->o->input[i], &st[i]) < 0)
            return bad_input(m->o, m->o->input[i], "%s", strerror(errno));
        if (i > 0 && (rc = check_shard(m, i, st)))
            return rc;
    }
    return 0;
}

/* ---- adding up ---- */

/* Adds histogram `node` of input i into h. Returns 0 or 2. */
static int add_hist(const struct ctl_merge *m, uint32_t i, int node, const char *what,
                    struct met_hist *h, struct met_hist *scratch)
{
    char err[160];
    if (ctl_hist_json_read(&m->doc[i], node, scratch, err, sizeof(err)) < 0)
        return bad_input(m->o, m->o->input[i], "histograms.%s: %s", what, err);
    met_hist_merge(h, scratch);
    return 0;
}

/* The latency, set-up and phase histograms of every input, bucket by bucket. */
static int merge_hists(struct ctl_merge *m)
{
    struct met_hist *scratch = malloc(sizeof(*scratch));
    if (!scratch)
        return bad_input(m->o, m->o->input[0], "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < m->o->n && !rc; i++) {
        const struct jr_doc *d = &m->doc[i];
        int h = jr_find(d, 0, "histograms");
        rc = add_hist(m, i, jr_member(d, h, "latency"), "latency", &m->final.latency, scratch);
        int setup = jr_member(d, h, "setup");
        for (uint32_t s = 0; m->dc && s < RI_SETUP_HISTS && !rc; s++) {
            const char *name = s == RI_SETUP_TOTAL ? "total" : ctl_stage_name(s);
            rc = add_hist(m, i, jr_member(d, setup, name), "setup", &m->final.setup[s], scratch);
        }
        int ph = jr_member(d, h, "phases");
        uint32_t p = 0;
        for (int c = jr_next_child(d, ph, ph); c >= 0 && !rc && p < m->n_phases; c = jr_next_child(d, ph, c), p++) {
            if (d->node[c].type == JR_NULL)
                continue;
            m->phase_have[p] = true;
            rc = add_hist(m, i, c, "phases", &m->phase_lat[p], scratch);
        }
    }
    free(scratch);
    return rc;
}

#define CNT(field) offsetof(struct ri_counters, field)

/* Report keys that are sums of one run counter (a key missing counts 0). */
static const struct {
    const char *path;
    size_t off;
} counter_keys[] = {
    {"messages.sent", CNT(msgs_sent)},
    {"messages.delivered", CNT(msgs_delivered)},
    {"messages.forwarded", CNT(msgs_forwarded)},
    {"messages.dropped_in_flight", CNT(msgs_dropped)},
    {"messages.hops", CNT(hops_delivered)},
    {"throughput.frames_tx", CNT(pkts_tx)}, /* since generation began: gen_start stays zero */
    {"throughput.bytes_tx", CNT(bytes_tx)},
    {"netem.delayed", CNT(netem_delayed)},
    {"netem.duplicated", CNT(netem_duplicated)},
    {"netem.duplicates_received", CNT(msgs_duplicate_rx)},
    {"netem.reordered", CNT(netem_reordered)},
    {"connections.total", CNT(conn_total)},
    {"connections.attempted", CNT(conn_attempts)},
    {"connections.established", CNT(conn_established)},
    {"connections.given_up", CNT(conn_given_up)},
    {"connections.closed", CNT(conn_closed)},
    {"dc_msgs.sent", CNT(dc_msgs_tx)},
    {"dc_msgs.received", CNT(dc_msgs_rx)},
    {"sctp.retransmissions", CNT(sctp_retransmissions)},
    {"sctp.sacks", CNT(sctp_sacks)},
    {"sctp.forward_tsns", CNT(sctp_forward_tsns)},
    {"sctp.tx_mbuf_waits", CNT(tx_starved)},
    {"srtp.protected", CNT(srtp_protected)},
    {"srtp.unprotected", CNT(srtp_unprotected)},
    {"srtp.auth_failures", CNT(srtp_auth_failures)},
    {"srtp.replays", CNT(srtp_replays)},
    {"media.rtp_sent", CNT(media_rtp_tx)},
    {"media.packets", CNT(media_rtp_rx)},
    {"media.rtcp_sent", CNT(media_rtcp_tx)},
    {"media.rtcp_received", CNT(media_rtcp_rx)},
    {"signature_failures", CNT(signature_failures)},
};

static void add_counter(struct ri_counters *c, size_t off, uint64_t v)
{
    uint64_t cur;
    memcpy(&cur, (char *)c + off, sizeof(cur));
    cur += v;
    memcpy((char *)c + off, &cur, sizeof(cur));
}

/* The run counters of every input summed into m->final.total. */
static void sum_counters(struct ctl_merge *m)
{
    struct ri_counters *t = &m->final.total;
    char path[96];
    for (uint32_t i = 0; i < m->o->n; i++) {
        const struct jr_doc *d = &m->doc[i];
        for (size_t k = 0; k < sizeof(counter_keys) / sizeof(counter_keys[0]); k++)
            add_counter(t, counter_keys[k].off, u64_at(d, counter_keys[k].path));
        for (uint32_t r = 0; r < RI_DROP_COUNT; r++) {
            snprintf(path, sizeof(path), "drops.%s", ctl_drop_name(r));
            t->drops[r] += u64_at(d, path);
        }
        for (uint32_t s = 0; s < RI_STAGE_COUNT; s++) {
            snprintf(path, sizeof(path), "connections.failed.%s", ctl_stage_name(s));
            t->conn_attempt_failed[s] += u64_at(d, path);
        }
    }
}

/* The cores of every shard, one after the other (at most RI_MAX_WORKERS):
 * what the HTML page's core table and chart show. busy_pct comes back as
 * busy cycles per million. */
static uint32_t count_cores(const struct ctl_merge *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->o->n; i++) {
        const struct jr_doc *d = &m->doc[i];
        int arr = jr_find(d, 0, "cores");
        for (int c = jr_next_child(d, arr, arr); c >= 0; c = jr_next_child(d, arr, c))
            n++;
    }
    return n < RI_MAX_WORKERS ? n : RI_MAX_WORKERS;
}

static void fill_cores(struct ctl_merge *m)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < m->o->n; i++) {
        const struct jr_doc *d = &m->doc[i];
        int arr = jr_find(d, 0, "cores");
        for (int c = jr_next_child(d, arr, arr); c >= 0 && w < m->final.n_workers;
             c = jr_next_child(d, arr, c), w++) {
            struct ri_counters *k = &m->final.worker[w];
            uint64_t v = 0;
            m->r.lcore[w] = jr_u64(d, jr_member(d, c, "lcore"), &v) ? (uint32_t)v : w;
            jr_u64(d, jr_member(d, c, "rx"), &k->pkts_rx);
            jr_u64(d, jr_member(d, c, "tx"), &k->pkts_tx);
            jr_u64(d, jr_member(d, c, "handoff_out"), &k->handoff_out);
            jr_u64(d, jr_member(d, c, "handoff_in"), &k->handoff_in);
            jr_u64(d, jr_member(d, c, "msgs_sent"), &k->msgs_sent);
            jr_u64(d, jr_member(d, c, "msgs_delivered"), &k->msgs_delivered);
            int busy = jr_member(d, c, "busy_pct");
            k->cycles_total = 1000000;
            k->cycles_busy = busy >= 0 ? (uint64_t)(d->node[busy].num * 1e4 + 0.5) : 0;
        }
    }
}

/* memory.categories summed, put back where ctl_report_mem_measured() finds
 * them, so the run's own code derives bytes_total and the per-agent and
 * per-connection figures. */
static void sum_memory(struct ctl_merge *m)
{
    uint64_t b[DP_MEM_COUNT] = {0};
    char path[96];
    bool huge = true;
    for (uint32_t i = 0; i < m->o->n; i++) {
        for (int c = 0; c < DP_MEM_COUNT; c++) {
            snprintf(path, sizeof(path), "memory.categories.%s", dp_mem_key((enum dp_mem_cat)c));
            b[c] += u64_at(&m->doc[i], path);
        }
        huge = huge && flag_at(&m->doc[i], "memory.hugepages");
    }
    struct ctl_run_result *r = &m->r;
    r->mem_conn_bytes = b[DP_MEM_CONN];
    r->mem_sctp_pool_bytes = b[DP_MEM_SCTP_POOL];
    r->mem_hs_bytes = b[DP_MEM_HS];
    r->mem_cert_bytes = b[DP_MEM_CERT];
    r->mem_tables_bytes = b[DP_MEM_TABLES];
    r->mem_dp_buf_bytes = b[DP_MEM_WORKER];
    r->routes_bytes = b[DP_MEM_ROUTES];
    r->image_bytes = b[DP_MEM_IMAGE] + b[DP_MEM_ROUTES];
    r->mem_mbuf_bytes = b[DP_MEM_MBUF];
    r->dpdk_bytes = b[DP_MEM_DPDK] + b[DP_MEM_MBUF];
    r->hugepages = huge;
}

/* The options and the topology the writers read, from input 0 (equal in
 * every input, or checked so). */
static void fill_swarm(struct ctl_merge *m)
{
    const struct jr_doc *d = &m->doc[0];
    struct ctl_run_opts *o = &m->opts;
    o->agents = (uint32_t)u64_at(d, "agents");
    o->seed = u64_at(d, "topology.seed");
    o->traffic = m->dc ? RI_TRAFFIC_DC : RI_TRAFFIC_UDP;
    o->msg_size = (uint32_t)u64_at(d, "messages.size_bytes");
    for (uint32_t i = 0; i < m->o->n; i++)
        o->rate += u64_at(&m->doc[i], "throughput.target_msgs_per_s");
    int pat = jr_find(d, 0, "traffic.pattern");
    char name[32] = "";
    if (pat >= 0 && d->node[pat].raw_len < sizeof(name))
        memcpy(name, d->node[pat].raw, d->node[pat].raw_len);
    struct ctl_pattern p = {0};
    char err[128];
    if (ctl_pattern_parse(name, &p, err, sizeof(err)) == 0) {
        o->pattern = p.pattern;
        o->route_sample = p.sample;
    }
    int spec = jr_find(d, 0, "topology.spec");
    if (spec >= 0)
        snprintf(m->r.topology, sizeof(m->r.topology), "%.*s", (int)d->node[spec].raw_len, d->node[spec].raw);
    struct ctl_topo_stats *t = &m->topo;
    t->agents = o->agents;
    t->edges = u64_at(d, "topology.edges");
    t->reduction_pct = num_at(d, "topology.reduction_pct");
    t->deg_min = (uint32_t)u64_at(d, "topology.degree_min");
    t->deg_max = (uint32_t)u64_at(d, "topology.degree_max");
    t->deg_avg = num_at(d, "topology.degree_avg");
    t->connected = flag_at(d, "topology.connected");
    t->diameter = (uint32_t)u64_at(d, "topology.diameter");
    t->avg_path_length = num_at(d, "topology.avg_path_length");
    t->clustering = num_at(d, "topology.clustering");
    t->exact = flag_at(d, "topology.exact");
    m->r.n_dests = (uint32_t)u64_at(d, "topology.route_destinations");
}

/* Durations: the longest shard (they ran side by side); flags: any shard. */
static void fill_times(struct ctl_merge *m)
{
    struct ctl_run_result *r = &m->r;
    double per_s_x_s = 0;
    for (uint32_t i = 0; i < m->o->n; i++) {
        const struct jr_doc *d = &m->doc[i];
        double dur = num_at(d, "duration_s"), drain = num_at(d, "drain_s"), conn = num_at(d, "connections.setup_s");
        r->duration_s = dur > r->duration_s ? dur : r->duration_s;
        r->drain_s = drain > r->drain_s ? drain : r->drain_s;
        r->connect_s = conn > r->connect_s ? conn : r->connect_s;
        per_s_x_s += num_at(d, "connections.setup_per_s") * conn;
        r->interrupted = r->interrupted || flag_at(d, "interrupted");
        r->connect_timed_out = r->connect_timed_out || flag_at(d, "connections.timed_out");
        r->n_certs += u64_at(d, "connections.certificates.count");
        r->cert_gen_ns += (uint64_t)(num_at(d, "connections.certificates.generation_ms") * 1e6);
    }
    r->connect_per_s = r->connect_s > 0 ? per_s_x_s / r->connect_s : 0;
}

/* The ports of every shard, distinct ones joined by "; ". */
static void fill_ports(struct ctl_merge *m)
{
    char *out = m->r.port_desc;
    size_t cap = sizeof(m->r.port_desc), len = 0;
    for (uint32_t i = 0; i < m->o->n; i++) {
        const struct jr_doc *d = &m->doc[i];
        int p = jr_find(d, 0, "ports");
        bool seen = p < 0;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = same_value(&m->doc[j], jr_find(&m->doc[j], 0, "ports"), d, p);
        if (seen)
            continue;
        int n = snprintf(out + len, cap - len, "%s%.*s", len ? "; " : "", (int)d->node[p].raw_len, d->node[p].raw);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

/* The merged run: every figure the writers read. Returns 0 or 2. */
static int add_up(struct ctl_merge *m)
{
    const struct jr_doc *d = &m->doc[0];
    m->dc = jr_str_is(d, jr_find(d, 0, "traffic.kind"), "dc");
    int ph = jr_find(d, 0, "histograms.phases");
    for (int c = jr_next_child(d, ph, ph); c >= 0; c = jr_next_child(d, ph, c))
        m->n_phases++;
    m->phase_lat = calloc(m->n_phases + 1, sizeof(*m->phase_lat));
    m->phase_have = calloc(m->n_phases + 1, sizeof(*m->phase_have));
    if (!m->phase_lat || !m->phase_have || ctl_snap_init(&m->final, count_cores(m)) < 0 ||
        ctl_snap_init(&m->gen_start, m->final.n_workers) < 0)
        return bad_input(m->o, m->o->input[0], "out of memory");
    int rc = merge_hists(m);
    if (rc)
        return rc;
    int phases = jr_find(d, 0, "profile.phases");
    if (m->n_phases == 0 && jr_element(d, phases, 0) >= 0 && jr_element(d, phases, 1) < 0) {
        /* one phase: the run wrote no histogram of it, it is the whole run */
        m->n_phases = 1;
        m->phase_lat[0] = m->final.latency;
        m->phase_have[0] = true;
    }
    struct ctl_run_result *r = &m->r;
    r->opts = &m->opts;
    r->topo = &m->topo;
    r->final = &m->final;
    r->gen_start = &m->gen_start;
    r->sla = &m->sla;
    r->judge = &m->judge;
    r->merged_shards = m->o->n;
    sum_counters(m);
    fill_swarm(m);
    fill_cores(m);
    sum_memory(m);
    fill_times(m);
    fill_ports(m);
    ctl_run_figures(r, &m->g);
    return 0;
}

/* ---- the verdict ---- */

/* The rules of input i ("sla.rules[].rule" joined by commas) into buf;
 * empty without rules. */
static void input_rules(const struct jr_doc *d, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    int arr = jr_find(d, 0, "sla.rules");
    for (int c = jr_next_child(d, arr, arr); c >= 0; c = jr_next_child(d, arr, c)) {
        int t = jr_member(d, c, "rule");
        if (t < 0 || d->node[t].type != JR_STR)
            continue;
        int n = snprintf(buf + used, len - used, "%s%.*s", used ? "," : "", (int)d->node[t].raw_len, d->node[t].raw);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

/* --sla, or else the rules the inputs were judged by (the same in each).
 * Returns 0 or 2. */
static int choose_rules(struct ctl_merge *m)
{
    char err[256];
    if (m->o->sla_text) {
        if (ctl_sla_parse(m->o->sla_text, &m->sla, err, sizeof(err)) < 0) {
            fprintf(err_of(m->o), "swarmgen: --sla: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        return 0;
    }
    char first[512], other[512];
    input_rules(&m->doc[0], first, sizeof(first));
    for (uint32_t i = 1; i < m->o->n; i++) {
        input_rules(&m->doc[i], other, sizeof(other));
        if (strcmp(first, other) != 0)
            return bad_input(m->o, m->o->input[i], "SLA rules '%s' differ from %s's '%s': give the merge its own --sla",
                             other, m->o->input[0], first);
    }
    if (first[0] && ctl_sla_parse(first, &m->sla, err, sizeof(err)) < 0)
        return bad_input(m->o, m->o->input[0], "sla: %s", err);
    return 0;
}

/* The SLA on the merged figures, as `swarmgen run` judges its own (no
 * phases: their verdicts stay in the shard reports). */
static void judge(struct ctl_merge *m)
{
    const struct met_hist *setup = m->dc ? &m->final.setup[RI_SETUP_TOTAL] : NULL;
    ctl_judge_sla(&m->sla, &m->final.total, &m->final.latency, setup, m->r.duration_s, NULL, 0, &m->judge);
}

/* ---- the outputs ---- */

static void summary(FILE *f, const struct ctl_merge *m)
{
    const struct ctl_run_result *r = &m->r;
    fprintf(f, "\nswarmgen report --merge: %u shards%s\n", m->o->n,
            r->interrupted ? " (one or more interrupted)" : "");
    fprintf(f, "  inputs      ");
    for (uint32_t i = 0; i < m->o->n; i++)
        fprintf(f, " %s", m->o->input[i]);
    fprintf(f, "\n  swarm        %u agents, topology %s, seed %llu, %s traffic\n", m->opts.agents,
            r->topology, (unsigned long long)m->opts.seed, m->dc ? "dc" : "udp");
    fprintf(f, "  duration     %.2f s generating, %.2f s draining (the longest shard)\n", r->duration_s,
            r->drain_s);
    ctl_report_load_summary(f, &m->g);
    fprintf(f, "  histogram    %llu latency samples from %u shards, bucket by bucket\n",
            (unsigned long long)met_hist_total(&m->final.latency), m->o->n);
    if (m->dc) {
        const struct ri_counters *t = &m->final.total;
        const struct met_hist *h = &m->final.setup[RI_SETUP_TOTAL];
        fprintf(f, "  connections  %llu/%llu up, set-up p50 %.1f p99 %.1f ms; given up %llu\n",
                (unsigned long long)t->conn_established, (unsigned long long)t->conn_total,
                met_hist_percentile(h, 50) / 1e6, met_hist_percentile(h, 99) / 1e6,
                (unsigned long long)t->conn_given_up);
    }
    ctl_report_sla_summary(f, r);
    ctl_report_drops_summary(f, r);
}

/* A writer's result: a line on o->err when it failed (exit 1 unless set),
 * on o->out when it did. */
static int written(const struct ctl_merge_opts *o, int rc, const char *flag, const char *path, int exit_code)
{
    if (rc < 0) {
        fprintf(err_of(o), "swarmgen: %s %s: %s\n", flag, path, strerror(-rc));
        return exit_code ? exit_code : 1;
    }
    fprintf(o->out ? o->out : stdout, "swarmgen: merged %s written to %s\n",
            strcmp(flag, "--html") == 0 ? "HTML report" : "report", path);
    return exit_code;
}

static void merge_free(struct ctl_merge *m)
{
    for (uint32_t i = 0; i < m->n_loaded; i++)
        jr_free(&m->doc[i]);
    ctl_snap_free(&m->final);
    ctl_snap_free(&m->gen_start);
    free(m->phase_lat);
    free(m->phase_have);
    free(m);
}

int ctl_report_merge(const struct ctl_merge_opts *o)
{
    struct ctl_merge *m = calloc(1, sizeof(*m));
    if (!m) {
        fprintf(err_of(o), "swarmgen: --merge: out of memory\n");
        return 1;
    }
    m->o = o;
    int rc;
    if ((rc = load_all(m)) || (rc = add_up(m)) || (rc = choose_rules(m))) {
        merge_free(m);
        return rc;
    }
    judge(m);
    int exit_code = m->judge.breached ? 1 : m->r.interrupted ? 130 : 0;
    summary(o->out ? o->out : stdout, m);
    if (o->html_path)
        exit_code = written(o, ctl_report_html(o->html_path, &m->r, m->dc ? &m->final.setup[RI_SETUP_TOTAL] : NULL),
                            "--html", o->html_path, exit_code);
    if (o->report_path)
        exit_code = written(o, ctl_merge_json(m, o->report_path), "--report", o->report_path, exit_code);
    merge_free(m);
    return exit_code;
}

/* ---- the command line ---- */

static const char usage[] =
    "usage: swarmgen report --merge A.json B.json [C.json ...] [--report OUT.json] [--html OUT.html]\n"
    "                       [--sla RULES]\n"
    "  one report for a swarm that ran as several shards (each `swarmgen run --report`):\n"
    "  counters summed, histograms merged bucket by bucket, rates and percentiles derived\n"
    "  again, the SLA judged on the merged figures\n"
    "  --report OUT.json   write the merged JSON report (a run report's keys, plus \"merged\")\n"
    "  --html OUT.html     write the merged HTML report\n"
    "  --sla RULES         judge these thresholds (as swarmgen run --sla) instead of the inputs' own\n"
    "  exit 0, 1 an SLA rule breached, 130 a shard was interrupted, 2 bad input\n";

int ctl_report_merge_main(int argc, char **argv)
{
    struct ctl_merge_opts o = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--merge") == 0) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                if (o.n == CTL_MERGE_MAX)
                    cli_fail("--merge", "at most %d shard reports", CTL_MERGE_MAX);
                o.input[o.n++] = cli_file("--merge", argv[++i]);
            }
        } else if (cli_is(argv[i], "--report")) {
            o.report_path = cli_file("--report", cli_value(argc, argv, &i, "--report"));
        } else if (cli_is(argv[i], "--html")) {
            o.html_path = cli_file("--html", cli_value(argc, argv, &i, "--html"));
        } else if (cli_is(argv[i], "--sla")) {
            o.sla_text = cli_value(argc, argv, &i, "--sla");
        } else {
            cli_fail(argv[i], "unknown flag for 'swarmgen report --merge' (see swarmgen report --help)");
        }
    }
    if (o.n < 2)
        cli_fail("--merge", "needs at least two shard reports: A.json B.json [C.json ...]");
    return ctl_report_merge(&o);
}
