/* SPDX-License-Identifier: MIT */
/*
 * report_json: the JSON report of a run (--report FILE.json), one function
 * per object, in the order they appear in the file. docs/ describes the
 * keys; `swarmgen compare` and `swarmgen report --compare` read them back.
 */
#include <errno.h>

#include "compare.h"
#include "external.h"
#include "hist_json.h"
#include "json.h"
#include "report.h"
#include "report_relay.h"
#include "report_sides.h"
#include "report_target.h"
#include "report_mem.h"
#include "report_conn.h"
#include "report_agents.h"
#include "traffic_opts.h"

static void topology_json(struct json_writer *w, const struct ctl_run_result *r)
{
    const struct ctl_topo_stats *s = r->topo;
    json_key(w, "topology");
    json_obj_begin(w);
    json_kv_str(w, "spec", r->topology);
    json_kv_u64(w, "seed", r->opts->seed);
    json_kv_u64(w, "edges", s->edges);
    json_kv_dbl(w, "reduction_pct", s->reduction_pct, 6);
    json_kv_u64(w, "degree_min", s->deg_min);
    json_kv_u64(w, "degree_max", s->deg_max);
    json_kv_dbl(w, "degree_avg", s->deg_avg, 6);
    json_kv_bool(w, "connected", s->connected);
    json_kv_u64(w, "diameter", s->diameter);
    json_kv_dbl(w, "avg_path_length", s->avg_path_length, 6);
    json_kv_dbl(w, "clustering", s->clustering, 6);
    json_kv_bool(w, "exact", s->exact);
    json_kv_u64(w, "route_destinations", r->n_dests);
    json_kv_bool(w, "route_sampled", r->n_dests && r->n_dests < r->opts->agents);
    json_kv_u64(w, "route_bytes", r->routes_bytes);
    json_kv_dbl(w, "routing_s", r->routing_s, 6);
    json_obj_end(w);
}

static void messages_json(struct json_writer *w, const struct ctl_run_result *r,
                          const struct ctl_run_figures *g)
{
    json_key(w, "messages");
    json_obj_begin(w);
    json_kv_u64(w, "sent", g->sent);
    json_kv_u64(w, "delivered", g->delivered);
    json_kv_u64(w, "forwarded", g->forwarded);
    json_kv_u64(w, "lost", g->lost);
    json_kv_u64(w, "dropped_in_flight", g->dropped);
    json_kv_u64(w, "lost_in_dut", g->lost_in_dut);
    /* the census at the stop; null without one (usrsctp backend) */
    json_key(w, "in_flight");
    if (g->in_flight_known)
        json_u64(w, g->in_flight);
    else
        json_null(w);
    json_key(w, "unaccounted");
    if (g->in_flight_known)
        json_i64(w, g->unaccounted);
    else
        json_null(w);
    json_kv_dbl(w, "delivery_rate", g->delivery_rate, 9);
    json_kv_dbl(w, "avg_hops", g->avg_hops, 6);
    json_kv_u64(w, "hops", r->final->total.hops_delivered);
    json_kv_u64(w, "size_bytes", r->opts->msg_size);
    json_kv_str(w, "pattern", ctl_pattern_name(r->opts->pattern));
    json_obj_end(w);
}

static void latency_json(struct json_writer *w, const struct ctl_run_result *r,
                         const struct ctl_run_figures *g)
{
    json_key(w, "latency_us");
    json_obj_begin(w);
    json_kv_dbl(w, "p50", g->p50_ns / 1e3, 6);
    json_kv_dbl(w, "p95", g->p95_ns / 1e3, 6);
    json_kv_dbl(w, "p99", g->p99_ns / 1e3, 6);
    json_kv_dbl(w, "p999", g->p999_ns / 1e3, 6);
    json_kv_dbl(w, "max", g->max_ns / 1e3, 6);
    json_kv_u64(w, "samples", met_hist_total(&r->final->latency));
    json_obj_end(w);
}

static void throughput_json(struct json_writer *w, const struct ctl_run_result *r,
                            const struct ctl_run_figures *g)
{
    json_key(w, "throughput");
    json_obj_begin(w);
    json_kv_dbl(w, "msgs_per_s", g->msgs_per_s, 9);
    json_kv_dbl(w, "pps", g->pps, 9);
    json_kv_dbl(w, "mbps", g->mbps, 9);
    json_kv_u64(w, "target_msgs_per_s", r->opts->rate);
    json_kv_u64(w, "frames_tx", g->frames_tx);
    json_kv_u64(w, "bytes_tx", g->bytes_tx);
    json_obj_end(w);
}

static void cores_json(struct json_writer *w, const struct ctl_run_result *r)
{
    json_key(w, "cores");
    json_arr_begin(w);
    for (uint32_t i = 0; i < r->final->n_workers; i++) {
        const struct ri_counters *c = &r->final->worker[i];
        json_obj_begin(w);
        json_kv_u64(w, "lcore", r->lcore[i]);
        json_kv_dbl(w, "busy_pct", ctl_busy_pct(c), 6);
        json_kv_u64(w, "rx", c->pkts_rx);
        json_kv_u64(w, "tx", c->pkts_tx);
        json_kv_u64(w, "handoff_out", c->handoff_out);
        json_kv_u64(w, "handoff_in", c->handoff_in);
        json_kv_u64(w, "msgs_sent", c->msgs_sent);
        json_kv_u64(w, "msgs_delivered", c->msgs_delivered);
        json_kv_dbl(w, "busy_cycles_per_msg", ctl_report_cycles_per_msg(r, i), 3);
        json_obj_end(w);
    }
    json_arr_end(w);
}

/* Busy cycles per delivered message since generation began, all cores. */
static void cpu_json(struct json_writer *w, const struct ctl_run_result *r)
{
    double c = ctl_report_cycles_per_msg(r, UINT32_MAX);
    json_key(w, "cpu");
    json_obj_begin(w);
    json_kv_dbl(w, "busy_cycles_per_msg", c, 3);
    json_kv_dbl(w, "busy_ns_per_msg", r->tsc_hz ? c * 1e9 / (double)r->tsc_hz : 0, 3);
    json_kv_u64(w, "tsc_hz", r->tsc_hz);
    json_obj_end(w);
}

static void drops_json(struct json_writer *w, const struct ctl_run_result *r)
{
    json_key(w, "drops");
    json_obj_begin(w);
    for (uint32_t i = 0; i < RI_DROP_COUNT; i++)
        json_kv_u64(w, ctl_drop_name(i), r->final->total.drops[i]);
    json_obj_end(w);
}

/* How long each set-up step took (the object "setup_s"). */
static void setup_json(struct json_writer *w, const struct ctl_run_result *r)
{
    json_key(w, "setup_s");
    json_obj_begin(w);
    json_kv_dbl(w, "topology", r->build_s, 6);
    json_kv_dbl(w, "analysis", r->analysis_s, 6);
    json_kv_dbl(w, "routing", r->routing_s, 6);
    json_kv_dbl(w, "dataplane", r->dp_setup_s, 6);
    json_obj_end(w);
}

static void phase_json(struct json_writer *w, const struct ctl_run_result *r, uint32_t i)
{
    const struct ctl_phase *ph = &r->profile->phase[i];
    const struct ctl_phase_stats *ps = &r->phase[i];
    json_obj_begin(w);
    json_kv_str(w, "name", ph->name);
    json_kv_dbl(w, "start_s", ctl_profile_phase_start(r->profile, i) / 1e9, 9);
    json_kv_dbl(w, "planned_s", ph->duration_ns / 1e9, 9);
    json_kv_dbl(w, "rate_from", ph->rate_from, 9);
    json_kv_dbl(w, "rate_to", ph->rate_to, 9);
    json_kv_dbl(w, "agents_from", ph->agents_from, 6);
    json_kv_dbl(w, "agents_to", ph->agents_to, 6);
    json_kv_bool(w, "reached", ps->seen);
    json_kv_dbl(w, "seconds", ps->seconds, 6);
    json_kv_u64(w, "sent", ps->c.msgs_sent);
    json_kv_u64(w, "delivered", ps->c.msgs_delivered);
    json_kv_dbl(w, "msgs_per_s", ps->seconds > 0 ? ps->c.msgs_delivered / ps->seconds : 0, 9);
    json_key(w, "latency_us");
    json_obj_begin(w);
    json_kv_dbl(w, "p50", ctl_phase_latency_us(ps, 50), 6);
    json_kv_dbl(w, "p95", ctl_phase_latency_us(ps, 95), 6);
    json_kv_dbl(w, "p99", ctl_phase_latency_us(ps, 99), 6);
    json_obj_end(w);
    json_obj_end(w);
}

static void profile_json(struct json_writer *w, const struct ctl_run_result *r)
{
    if (!r->profile)
        return;
    json_key(w, "profile");
    json_obj_begin(w);
    json_kv_str(w, "name", r->profile->name);
    json_kv_bool(w, "aborted", r->aborted);
    json_key(w, "phases");
    json_arr_begin(w);
    for (uint32_t i = 0; i < r->profile->n; i++)
        phase_json(w, r, i);
    json_arr_end(w);
    json_obj_end(w);
}

static void netem_class_json(struct json_writer *w, const struct ri_netem *n, bool named)
{
    json_obj_begin(w);
    json_kv_str(w, "name", n->name);
    json_kv_bool(w, "enabled", n->enabled);
    json_kv_dbl(w, "share_pct", named ? n->share_ppm / 1e4 : -1, 6);
    json_kv_dbl(w, "delay_ms", n->delay_ns / 1e6, 6);
    json_kv_dbl(w, "jitter_ms", n->jitter_ns / 1e6, 6);
    json_kv_dbl(w, "loss_pct", n->loss_ppm / 1e4, 6);
    json_kv_bool(w, "gilbert_elliott", n->gilbert);
    json_kv_dbl(w, "ge_p_pct", n->ge_p_ppm / 1e4, 6);
    json_kv_dbl(w, "ge_r_pct", n->ge_r_ppm / 1e4, 6);
    json_kv_dbl(w, "ge_bad_loss_pct", n->ge_bad_loss_ppm / 1e4, 6);
    json_kv_dbl(w, "dup_pct", n->dup_ppm / 1e4, 6);
    json_kv_dbl(w, "reorder_pct", n->reorder_ppm / 1e4, 6);
    json_kv_u64(w, "rate_bps", n->rate_bps);
    json_kv_dbl(w, "outage_at_s", n->outage_at_ns / 1e9, 9);
    json_kv_dbl(w, "outage_s", n->outage_ns / 1e9, 9);
    json_kv_dbl(w, "flap_up_s", n->flap_up_ns / 1e9, 9);
    json_kv_dbl(w, "flap_down_s", n->flap_down_ns / 1e9, 9);
    json_obj_end(w);
}

/* One entry of netem.outages (control/sla/outage.h says how each figure
 * is taken). */
static void outage_json(struct json_writer *w, const struct ctl_outages *all, const struct ctl_outage *o)
{
    json_obj_begin(w);
    json_kv_str(w, "class", o->name);
    json_kv_str(w, "kind", o->flap ? "flap" : "outage");
    json_kv_dbl(w, "start_s", o->start_s, 9);
    json_kv_dbl(w, "end_s", o->end_s, 9);
    json_kv_u64(w, "silences", o->silences);
    json_kv_u64(w, "recovered_silences", o->recovered);
    bool all_recovered = o->silences && o->recovered == o->silences;
    json_kv_bool(w, "recovered", all_recovered);
    json_key(w, "recovery_s");
    if (all_recovered)
        json_dbl(w, o->recovery_s, 6);
    else
        json_null(w);
    json_kv_u64(w, "retransmissions", o->retransmissions);
    json_key(w, "messages_delayed");
    if (o->have_delayed)
        json_u64(w, o->messages_delayed);
    else
        json_null(w);
    json_kv_u64(w, "connections_closed", o->connections_closed);
    json_kv_u64(w, "connections_reestablished", o->connections_reestablished);
    json_key(w, "baseline_p99_us");
    if (all->have_baseline)
        json_dbl(w, all->baseline_p99_us, 9);
    else
        json_null(w);
    json_key(w, "limit_us");
    if (all->have_baseline)
        json_dbl(w, all->limit_us, 9);
    else
        json_null(w);
    json_obj_end(w);
}

static void netem_json(struct json_writer *w, const struct ctl_run_result *r)
{
    if (!r->opts->n_netem)
        return;
    const struct ri_counters *t = &r->final->total;
    json_key(w, "netem");
    json_obj_begin(w);
    json_kv_u64(w, "delayed", t->netem_delayed);
    json_kv_u64(w, "duplicated", t->netem_duplicated);
    json_kv_u64(w, "duplicates_received", t->msgs_duplicate_rx);
    json_kv_u64(w, "reordered", t->netem_reordered);
    json_kv_u64(w, "lost", t->drops[RI_DROP_NETEM_LOSS]);
    json_kv_u64(w, "queue_drops", t->drops[RI_DROP_NETEM_QUEUE]);
    json_kv_u64(w, "silenced", t->drops[RI_DROP_NETEM_OUTAGE]);
    json_key(w, "classes");
    json_arr_begin(w);
    for (uint32_t c = 0; c < r->opts->n_netem; c++)
        netem_class_json(w, &r->opts->netem[c], c > 0);
    json_arr_end(w);
    if (r->judge && r->judge->outages.n) {
        json_key(w, "outages");
        json_arr_begin(w);
        for (uint32_t i = 0; i < r->judge->outages.n; i++)
            outage_json(w, &r->judge->outages, &r->judge->outages.o[i]);
        json_arr_end(w);
    }
    json_obj_end(w);
}

/* The objects "spike" and "soak" (only for the profiles that have them). */
static void judgement_json(struct json_writer *w, const struct ctl_judgement *j)
{
    if (j && j->has_spike) {
        json_key(w, "spike");
        json_obj_begin(w);
        json_kv_bool(w, "recovered", j->spike_recovered);
        json_key(w, "recovery_s");
        if (j->spike_recovered)
            json_dbl(w, j->spike_recovery_s, 6);
        else
            json_null(w);
        json_kv_dbl(w, "baseline_p99_us", j->baseline_p99_us, 6);
        json_obj_end(w);
    }
    if (j && j->has_soak) {
        json_key(w, "soak");
        json_obj_begin(w);
        json_kv_dbl(w, "rss_start_kib", j->rss_start_kib, 9);
        json_kv_dbl(w, "rss_end_kib", j->rss_end_kib, 9);
        json_kv_dbl(w, "rss_growth_kib_per_min", j->rss_growth_kib_per_min, 6);
        json_obj_end(w);
    }
}

/* {"holds": ..., "value": ... or null} of one verdict, after its key. */
static void verdict_json(struct json_writer *w, const struct ctl_sla_verdict *v)
{
    json_kv_bool(w, "holds", v->holds);
    json_key(w, "value");
    if (v->have)
        json_dbl(w, v->value, 9);
    else
        json_null(w);
}

static void sla_rule_json(struct json_writer *w, const struct ctl_run_result *r, uint32_t i)
{
    const struct ctl_judgement *j = r->judge;
    json_obj_begin(w);
    json_kv_str(w, "rule", r->sla->rule[i].text);
    verdict_json(w, &j->overall[i]);
    json_key(w, "phases");
    json_obj_begin(w);
    for (uint32_t p = 0; r->profile && p < r->profile->n; p++) {
        if (!r->phase[p].seen)
            continue;
        json_key(w, r->profile->phase[p].name);
        json_obj_begin(w);
        verdict_json(w, &j->phase[p][i]);
        json_obj_end(w);
    }
    json_obj_end(w);
    json_obj_end(w);
}

void ctl_report_sla_json(struct json_writer *w, const struct ctl_run_result *r)
{
    if (!r->sla || !r->sla->n)
        return;
    json_key(w, "sla");
    json_obj_begin(w);
    json_kv_bool(w, "passed", !r->judge->breached);
    json_key(w, "rules");
    json_arr_begin(w);
    for (uint32_t i = 0; i < r->sla->n; i++)
        sla_rule_json(w, r, i);
    json_arr_end(w);
    json_obj_end(w);
}

/* The exact histograms (hist_json.h): end-to-end latency, with --traffic dc
 * the set-up times per stage and in total, with a profile of more than one
 * phase each phase's latency (null for a phase the run did not reach; a
 * single phase is the whole run); what `swarmgen report --merge` adds up. */
static void histograms_json(struct json_writer *w, const struct ctl_run_result *r)
{
    json_key(w, "histograms");
    json_obj_begin(w);
    json_key(w, "layout");
    ctl_hist_json_layout(w);
    json_key(w, "latency");
    ctl_hist_json_write(w, &r->final->latency);
    if (r->opts->traffic == RI_TRAFFIC_DC) {
        json_key(w, "setup");
        json_obj_begin(w);
        json_key(w, "total");
        ctl_hist_json_write(w, &r->final->setup[RI_SETUP_TOTAL]);
        for (uint32_t s = 0; s < RI_STAGE_COUNT; s++) {
            json_key(w, ctl_stage_name(s));
            ctl_hist_json_write(w, &r->final->setup[s]);
        }
        for (uint32_t s = RI_SETUP_DTLS; s < RI_SETUP_HISTS; s++) {
            json_key(w, ctl_setup_hist_name(s));
            ctl_hist_json_write(w, &r->final->setup[s]);
        }
        json_obj_end(w);
    }
    if (r->profile && r->profile->n > 1) {
        json_key(w, "phases");
        json_arr_begin(w);
        for (uint32_t i = 0; i < r->profile->n; i++) {
            if (r->phase[i].seen && r->phase[i].lat)
                ctl_hist_json_write(w, r->phase[i].lat);
            else
                json_null(w);
        }
        json_arr_end(w);
    }
    json_obj_end(w);
}

int ctl_report_json(const char *path, const struct ctl_run_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    struct ctl_run_figures g;
    ctl_run_figures(r, &g);
    struct json_writer w;
    json_init(&w, f, true);
    json_obj_begin(&w);
    json_kv_str(&w, "tool", "swarmgen");
    json_kv_u64(&w, "agents", r->opts->agents);
    json_kv_str(&w, "backend", ctl_compare_backend_name(r->opts->backend));
    json_kv_bool(&w, "interrupted", r->interrupted);
    topology_json(&w, r);
    messages_json(&w, r, &g);
    ctl_agents_json(&w, r->agents);
    latency_json(&w, r, &g);
    throughput_json(&w, r, &g);
    cores_json(&w, r);
    drops_json(&w, r);
    cpu_json(&w, r);
    ctl_report_mem_json(&w, r, &g);
    json_kv_dbl(&w, "duration_s", r->duration_s, 9);
    json_kv_dbl(&w, "drain_s", r->drain_s, 6);
    setup_json(&w, r);
    json_kv_str(&w, "ports", r->port_desc);
    ctl_report_sides_json(&w, r);
    ctl_report_conn_json(&w, r);
    ctl_external_report_json(&w, r->external);
    ctl_report_target_json(&w, r->target);
    ctl_report_relay_json(&w, r);
    profile_json(&w, r);
    netem_json(&w, r);
    judgement_json(&w, r->judge);
    ctl_report_sla_json(&w, r);
    histograms_json(&w, r);
    json_obj_end(&w);
    int rc = json_finish(&w);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}
