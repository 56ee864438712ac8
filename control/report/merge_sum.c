/* SPDX-License-Identifier: MIT */
/*
 * merge_sum: the shard reports added up into one ctl_run_result — the
 * histograms bucket by bucket, the run counters summed, the cores listed,
 * memory by category summed, the durations of the longest shard — so that
 * the run's own code (ctl_run_figures, the summary lines, the HTML page,
 * the SLA judgement) derives every figure from the sums.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_mem.h"
#include "hist_json.h"
#include "report_merge_internal.h"
#include "traffic_opts.h"

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

/* Adds histogram `node` of input i into h. Returns 0 or 2. */
static int add_hist(const struct ctl_merge *m, uint32_t i, int node, const char *what,
                    struct met_hist *h, struct met_hist *scratch)
{
    char err[160];
    if (ctl_hist_json_read(&m->doc[i], node, scratch, err, sizeof(err)) < 0)
        return ctl_merge_bad_input(m->o, m->o->input[i], "histograms.%s: %s", what, err);
    met_hist_merge(h, scratch);
    return 0;
}

/* The latency, set-up and phase histograms of every input, bucket by bucket. */
static int merge_hists(struct ctl_merge *m)
{
    struct met_hist *scratch = malloc(sizeof(*scratch));
    if (!scratch)
        return ctl_merge_bad_input(m->o, m->o->input[0], "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < m->o->n && !rc; i++) {
        const struct jr_doc *d = &m->doc[i];
        int h = jr_find(d, 0, "histograms");
        rc = add_hist(m, i, jr_member(d, h, "latency"), "latency", &m->final.latency, scratch);
        int setup = jr_member(d, h, "setup");
        for (uint32_t s = 0; m->dc && s < RI_SETUP_HISTS && !rc; s++) {
            int node = jr_member(d, setup, ctl_setup_hist_name(s));
            if (node < 0 && s >= RI_SETUP_DTLS)
                continue; /* a report from before the per-version figures: it adds none */
            rc = add_hist(m, i, node, "setup", &m->final.setup[s], scratch);
        }
        int ph = jr_member(d, h, "phases");
        uint32_t p = 0;
        for (int c = jr_next_child(d, ph, ph); c >= 0 && !rc && p < m->n_phases;
             c = jr_next_child(d, ph, c), p++) {
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
    {"messages.in_flight", CNT(msgs_in_flight_end)}, /* null (no census) reads 0: see sum_counters */
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
    {"connections.consent_lost", CNT(conn_consent_lost)},
    {"connections.reestablished", CNT(conn_reestablished)},
    {"connections.churn.churned", CNT(conn_churned)},
    {"connections.churn.reestablished", CNT(conn_churn_resetup)},
    {"connections.churn.pending_at_end", CNT(conn_churn_pending_end)},
    {"connections.churn.msgs_held", CNT(msgs_churn_held)},
    {"connections.churn.msgs_dropped", CNT(msgs_churn_dropped)},
    {"connections.dtls.v1_2.up", CNT(conn_dtls_up[0])},
    {"connections.dtls.v1_3.up", CNT(conn_dtls_up[1])},
    {"connections.dtls.key_updates.sent", CNT(dtls_key_updates_out)},
    {"connections.dtls.key_updates.received", CNT(dtls_key_updates_in)},
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
    {"srtp.rekeys", CNT(srtp_rekeys)},
    {"srtp.rekeys_seen", CNT(srtp_rekeys_seen)},
    {"srtp.protected_odd", CNT(srtp_protected_odd)},
    {"srtp.unprotected_odd", CNT(srtp_unprotected_odd)},
    {"srtp.unprotected_previous_key", CNT(srtp_rx_prev_key)},
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

/* The census: known for the merge when every shard has one (a number
 * at messages.in_flight; the usrsctp backend writes null). */
static void census(struct ctl_merge *m)
{
    uint64_t v;
    bool all = true;
    for (uint32_t i = 0; i < m->o->n; i++)
        all = all && jr_u64(&m->doc[i], jr_find(&m->doc[i], 0, "messages.in_flight"), &v);
    m->final.total.msgs_census = all ? m->final.n_workers : 0;
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
    r->mem_target_bytes = b[DP_MEM_TARGET];
    r->mem_relay_bytes = b[DP_MEM_RELAY];
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
    int offered = jr_find(d, 0, "connections.dtls.offered");
    o->dtls_versions = jr_str_is(d, offered, "1.2")   ? (uint8_t)RI_DTLS_V12
                       : jr_str_is(d, offered, "1.3") ? (uint8_t)RI_DTLS_V13
                                                      : (uint8_t)RI_DTLS_AUTO;
    int spec = jr_find(d, 0, "topology.spec");
    if (spec >= 0)
        snprintf(m->r.topology, sizeof(m->r.topology), "%.*s", (int)d->node[spec].raw_len,
                 d->node[spec].raw);
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
        double dur = num_at(d, "duration_s"), drain = num_at(d, "drain_s"),
               conn = num_at(d, "connections.setup_s");
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
            seen = ctl_merge_same_value(&m->doc[j], jr_find(&m->doc[j], 0, "ports"), d, p);
        if (seen)
            continue;
        int n = snprintf(out + len, cap - len, "%s%.*s", len ? "; " : "", (int)d->node[p].raw_len,
                         d->node[p].raw);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

int ctl_merge_add_up(struct ctl_merge *m)
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
        return ctl_merge_bad_input(m->o, m->o->input[0], "out of memory");
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
    census(m);
    fill_swarm(m);
    fill_cores(m);
    sum_memory(m);
    fill_times(m);
    fill_ports(m);
    ctl_run_figures(r, &m->g);
    return 0;
}
