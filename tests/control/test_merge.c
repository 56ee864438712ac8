/* SPDX-License-Identifier: MIT */
/*
 * `swarmgen report --merge`: shard reports written by the run's own JSON
 * writer from synthetic runs, merged; the merged histogram is exactly
 * met_hist_merge of the shards' and its percentiles are those of that
 * histogram; counters are summed and rates derived from the sums; the SLA
 * is judged on the merged figures; bad input (a missing file, not a
 * report, another swarm, an old report, the same file twice) is one line
 * and exit 2.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_expect.h"
#include "hist_json.h"
#include "json_read.h"
#include "report.h"
#include "report_merge.h"

static struct proc_result pr;

/* What a synthetic shard ran. */
struct shard {
    const char *spec;
    uint64_t seed;
    uint64_t sent, delivered, no_route;
    double duration_s;
    bool interrupted;
    const char *sla;           /* the rules it was run with (NULL: none) */
    uint64_t lat_lo, lat_step; /* latencies lat_lo + i * lat_step, i < delivered */
    bool dc;                   /* --traffic dc: 300 connections set up in setup_lo + i * 7919 ns */
    uint64_t setup_lo;
};

/* When set, the next shard written ran --netem outage=3s@2s with this
 * verdict (netem.outages). */
static const struct ctl_outage *shard_outage;

/* Writes the report of shard `s` to `path` with ctl_report_json (the run's
 * writer) and returns its latency histogram in *h. */
static void write_shard(const char *path, const struct shard *s, struct met_hist *h)
{
    struct ctl_run_opts o;
    memset(&o, 0, sizeof(o));
    o.agents = 100;
    o.seed = s->seed;
    o.traffic = RI_TRAFFIC_UDP;
    o.pattern = RI_PATTERN_ROUTED;
    o.msg_size = 64;
    o.rate = s->sent;
    struct ctl_topo_stats t;
    memset(&t, 0, sizeof(t));
    t.agents = 100;
    t.edges = 300;
    t.deg_min = t.deg_max = 6;
    t.deg_avg = 6;
    t.connected = true;
    t.exact = true;
    struct ctl_snap snap;
    cr_assert_eq(ctl_snap_init(&snap, 1), 0);
    struct ri_counters *c = &snap.total;
    c->msgs_sent = s->sent;
    c->msgs_delivered = s->delivered;
    c->msgs_forwarded = 2 * s->delivered;
    c->hops_delivered = 2 * s->delivered;
    c->pkts_tx = 3 * s->delivered;
    c->bytes_tx = 3 * s->delivered * 106;
    c->drops[RI_DROP_NO_ROUTE] = s->no_route;
    c->msgs_dropped = s->no_route;
    /* the rest in flight at the stop, by the census of the one worker */
    c->msgs_in_flight_end = s->sent - s->delivered - s->no_route;
    c->msgs_census = 1;
    snap.worker[0] = *c;
    memset(h, 0, sizeof(*h));
    for (uint64_t i = 0; i < s->delivered; i++)
        met_hist_record(h, s->lat_lo + i * s->lat_step);
    snap.latency = *h;
    if (s->dc) {
        o.traffic = RI_TRAFFIC_DC;
        c->conn_total = c->conn_attempts = c->conn_established = 300;
        c->conn_dtls_up[0] = 200; /* every third connection negotiated DTLS 1.3 */
        c->conn_dtls_up[1] = 100;
        c->dtls_key_updates_out = 700; /* --dtls-key-update */
        c->dtls_key_updates_in = 699;
        for (uint64_t i = 0; i < 300; i++) {
            met_hist_record(&snap.setup[RI_SETUP_TOTAL], s->setup_lo + i * 7919);
            met_hist_record(&snap.setup[RI_SETUP_DTLS + (i % 3 == 2)], s->setup_lo + i * 7919);
            met_hist_record(&snap.setup[RI_STAGE_DTLS], s->setup_lo / 2 + i * 3011);
        }
    }
    struct ctl_run_result r;
    memset(&r, 0, sizeof(r));
    r.opts = &o;
    r.topo = &t;
    r.final = &snap;
    r.duration_s = s->duration_s;
    r.drain_s = 0.5;
    r.interrupted = s->interrupted;
    r.tsc_hz = 1000000000;
    snprintf(r.topology, sizeof(r.topology), "%s", s->spec);
    snprintf(r.port_desc, sizeof(r.port_desc), "net_ring x2");
    struct ctl_sla sla;
    struct ctl_judgement j;
    memset(&j, 0, sizeof(j));
    if (shard_outage) {
        o.n_netem = 1;
        o.netem[0].enabled = 1;
        snprintf(o.netem[0].name, sizeof(o.netem[0].name), "all");
        o.netem[0].outage_at_ns = 2000000000ull;
        o.netem[0].outage_ns = 3000000000ull;
        j.outages.n = 1;
        j.outages.have_baseline = true;
        j.outages.baseline_p99_us = 100;
        j.outages.limit_us = 150;
        j.outages.o[0] = *shard_outage;
        r.judge = &j;
    }
    if (s->sla) {
        char err[128];
        cr_assert_eq(ctl_sla_parse(s->sla, &sla, err, sizeof(err)), 0, "%s", err);
        ctl_judge_sla(&sla, c, h, NULL, s->duration_s, NULL, 0, &j);
        r.sla = &sla;
        r.judge = &j;
    }
    cr_assert_eq(ctl_report_json(path, &r), 0, "writing %s", path);
    ctl_snap_free(&snap);
}

static const struct shard shard_a = {"kmesh:k=6", 7, 1000, 990, 4, 2.0, false, NULL, 1000, 37};
static const struct shard shard_b = {"kmesh:k=6", 7, 3000, 2970, 6, 2.5, false, NULL, 40000, 211};

#define A_JSON   "/tmp/sg-merge-a.json"
#define B_JSON   "/tmp/sg-merge-b.json"
#define OUT_JSON "/tmp/sg-merge-out.json"

/* Merges A_JSON and B_JSON in-process into OUT_JSON with `sla` (NULL:
 * the inputs'); returns the exit code, the merged report in *d. */
static int merge_two(const char *sla, struct jr_doc *d)
{
    static FILE *null;
    if (!null)
        null = fopen("/dev/null", "w");
    struct ctl_merge_opts o = {
        .input = {A_JSON, B_JSON}, .n = 2, .report_path = OUT_JSON, .sla_text = sla, .out = null};
    unlink(OUT_JSON);
    int rc = ctl_report_merge(&o);
    size_t off = 0;
    cr_assert_eq(jr_load(d, OUT_JSON, &off), 0, "merged report unreadable at byte %zu", off);
    return rc;
}

static double num(const struct jr_doc *d, const char *path)
{
    double v;
    cr_assert(jr_number(d, path, &v), "no %s in the merged report", path);
    return v;
}

static bool flag(const struct jr_doc *d, const char *path)
{
    int n = jr_find(d, 0, path);
    cr_assert(n >= 0 && d->node[n].type == JR_BOOL, "no flag %s in the report", path);
    return d->node[n].num != 0;
}

/* The number at `path` exactly as the run's writer writes `v` (%.6g). */
static void assert_written(const struct jr_doc *d, const char *path, double v)
{
    char want[64];
    snprintf(want, sizeof(want), "%.6g", v);
    int n = jr_find(d, 0, path);
    cr_assert_geq(n, 0, "no %s", path);
    cr_assert_eq(d->node[n].raw_len, strlen(want), "%s: %.*s, want %s", path,
                 (int)d->node[n].raw_len, d->node[n].raw, want);
    cr_assert_eq(memcmp(d->node[n].raw, want, strlen(want)), 0, "%s: %.*s, want %s", path,
                 (int)d->node[n].raw_len, d->node[n].raw, want);
}

Test(merge, merged_histogram_is_met_hist_merge_of_the_shards)
{
    struct met_hist *ha = malloc(sizeof(*ha)), *hb = malloc(sizeof(*hb)),
                    *got = malloc(sizeof(*got));
    cr_assert(ha && hb && got);
    write_shard(A_JSON, &shard_a, ha);
    write_shard(B_JSON, &shard_b, hb);
    struct jr_doc d;
    cr_assert_eq(merge_two(NULL, &d), 0);
    met_hist_merge(ha, hb); /* what one run measuring every message would hold */
    char err[128];
    cr_assert_eq(
        ctl_hist_json_read(&d, jr_find(&d, 0, "histograms.latency"), got, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(memcmp(got, ha, sizeof(*ha)), 0,
                 "the merged histogram differs from met_hist_merge");
    cr_assert_eq(num(&d, "latency_us.samples"), 990 + 2970);
    cr_assert_eq(met_hist_total(ha), 990 + 2970);
    assert_written(&d, "latency_us.p50", met_hist_percentile(ha, 50) / 1e3);
    assert_written(&d, "latency_us.p95", met_hist_percentile(ha, 95) / 1e3);
    assert_written(&d, "latency_us.p99", met_hist_percentile(ha, 99) / 1e3);
    assert_written(&d, "latency_us.p999", met_hist_percentile(ha, 99.9) / 1e3);
    assert_written(&d, "latency_us.max", ha->max / 1e3);
    /* shard A's latencies all lie below B's: the merged median is B's */
    cr_assert_gt(num(&d, "latency_us.p50"), 40.0);
    jr_free(&d);
    free(ha);
    free(hb);
    free(got);
}

Test(merge, counters_are_summed_and_rates_derived_from_the_sums)
{
    struct met_hist *h = malloc(sizeof(*h));
    write_shard(A_JSON, &shard_a, h);
    write_shard(B_JSON, &shard_b, h);
    struct jr_doc d;
    cr_assert_eq(merge_two(NULL, &d), 0);
    cr_assert_eq(num(&d, "messages.sent"), 4000);
    cr_assert_eq(num(&d, "messages.delivered"), 3960);
    /* lost: the counted drops (no_route 4 + 6); the rest was in flight */
    cr_assert_eq(num(&d, "messages.lost"), 10);
    cr_assert_eq(num(&d, "messages.dropped_in_flight"), 10);
    cr_assert_eq(num(&d, "messages.in_flight"), 30);
    cr_assert_eq(num(&d, "messages.unaccounted"), 0);
    cr_assert_eq(num(&d, "messages.forwarded"), 2 * 3960);
    cr_assert_float_eq(num(&d, "messages.delivery_rate"), 3960.0 / 4000, 1e-9);
    cr_assert_eq(num(&d, "drops.no_route"), 10);
    cr_assert_eq(num(&d, "throughput.frames_tx"), 3 * 3960);
    cr_assert_eq(num(&d, "throughput.target_msgs_per_s"), 4000);
    /* the shards ran side by side: the longest one is the swarm's time */
    cr_assert_eq(num(&d, "duration_s"), 2.5);
    cr_assert_float_eq(num(&d, "throughput.msgs_per_s"), 3960 / 2.5, 1e-6);
    cr_assert_float_eq(num(&d, "throughput.pps"), 3 * 3960 / 2.5, 1e-6);
    /* the swarm's description is the shards' own */
    cr_assert_eq(num(&d, "agents"), 100);
    cr_assert_eq(num(&d, "topology.seed"), 7);
    cr_assert(jr_str_is(&d, jr_find(&d, 0, "topology.spec"), "kmesh:k=6"));
    /* every shard's cores, and what was merged */
    cr_assert_geq(jr_element(&d, jr_find(&d, 0, "cores"), 1), 0);
    cr_assert_lt(jr_element(&d, jr_find(&d, 0, "cores"), 2), 0);
    cr_assert_eq(num(&d, "merged.shards"), 2);
    cr_assert(jr_str_is(&d, jr_element(&d, jr_find(&d, 0, "merged.inputs"), 1), B_JSON));
    jr_free(&d);
    free(h);
}

/* The number `key` of netem.outages[0] of the merged report; -1 for null. */
static double outage_num(const struct jr_doc *d, const char *key)
{
    int e = jr_element(d, jr_find(d, 0, "netem.outages"), 0);
    cr_assert_geq(e, 0, "no netem.outages[0]");
    int n = jr_find(d, e, key);
    cr_assert_geq(n, 0, "no netem.outages[0].%s", key);
    return d->node[n].type == JR_NULL ? -1 : d->node[n].num;
}

Test(merge, outages_add_their_counts_and_keep_the_slowest_recovery)
{
    struct met_hist *h = malloc(sizeof(*h));
    struct ctl_outage a = {.name = "all", .start_s = 2, .end_s = 5, .silences = 1, .recovered = 1, .recovery_s = 1,
                           .retransmissions = 100, .messages_delayed = 50, .have_delayed = true,
                           .connections_closed = 0};
    struct ctl_outage b = a;
    b.recovery_s = 2;
    b.retransmissions = 300;
    b.messages_delayed = 70;
    b.connections_closed = 1;
    shard_outage = &a;
    write_shard(A_JSON, &shard_a, h);
    shard_outage = &b;
    write_shard(B_JSON, &shard_b, h);
    struct jr_doc d;
    cr_assert_eq(merge_two(NULL, &d), 0);
    cr_assert_eq(outage_num(&d, "silences"), 1);
    cr_assert_eq(outage_num(&d, "start_s"), 2);
    cr_assert_eq(outage_num(&d, "recovery_s"), 2, "the slowest shard's");
    cr_assert_eq(outage_num(&d, "recovered"), 1);
    cr_assert_eq(outage_num(&d, "retransmissions"), 400);
    cr_assert_eq(outage_num(&d, "messages_delayed"), 120);
    cr_assert_eq(outage_num(&d, "connections_closed"), 1);
    cr_assert_eq(outage_num(&d, "connections_reestablished"), 0);
    jr_free(&d);
    /* a shard that did not recover, and knows no delayed count: null */
    b.recovered = 0;
    b.have_delayed = false;
    write_shard(B_JSON, &shard_b, h);
    cr_assert_eq(merge_two(NULL, &d), 0);
    cr_assert_eq(outage_num(&d, "recovery_s"), -1);
    cr_assert_eq(outage_num(&d, "recovered"), 0);
    cr_assert_eq(outage_num(&d, "recovered_silences"), 0);
    cr_assert_eq(outage_num(&d, "messages_delayed"), -1);
    jr_free(&d);
    shard_outage = NULL;
    free(h);
}

Test(merge, sla_is_judged_on_the_merged_figures)
{
    struct met_hist *h = malloc(sizeof(*h));
    /* 990/2 s and 2970/2.5 s: each shard under 1,500 msg/s, the swarm 1,584 */
    struct shard a = shard_a, b = shard_b;
    a.sla = b.sla = "rate<1500";
    write_shard(A_JSON, &a, h);
    write_shard(B_JSON, &b, h);
    struct jr_doc d;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(jr_load(&d, i ? B_JSON : A_JSON, NULL), 0);
        cr_assert(flag(&d, "sla.passed"), "shard %d holds on its own", i);
        jr_free(&d);
    }
    /* no --sla: the shards' own rule, breached by the swarm: exit 1 */
    cr_assert_eq(merge_two(NULL, &d), 1);
    cr_assert_not(flag(&d, "sla.passed"));
    int rule = jr_element(&d, jr_find(&d, 0, "sla.rules"), 0);
    cr_assert(jr_str_is(&d, jr_member(&d, rule, "rule"), "rate<1500"));
    cr_assert_float_eq(d.node[jr_member(&d, rule, "value")].num, 3960 / 2.5, 1e-6);
    jr_free(&d);
    /* the converse: a floor no shard reaches alone, the swarm does */
    cr_assert_eq(merge_two("rate>1500,p99<1s", &d), 0);
    cr_assert(flag(&d, "sla.passed"));
    jr_free(&d);
    free(h);
}

Test(merge, connection_set_up_histograms_merge_exactly_too)
{
    struct met_hist *h = malloc(sizeof(*h)), *want = calloc(1, sizeof(*want));
    struct met_hist *got = malloc(sizeof(*got));
    cr_assert(h && want && got);
    struct shard a = shard_a, b = shard_b;
    a.dc = b.dc = true;
    a.setup_lo = 2000000;
    b.setup_lo = 9000000;
    write_shard(A_JSON, &a, h);
    write_shard(B_JSON, &b, h);
    struct jr_doc d;
    cr_assert_eq(merge_two("setup_p99<5ms", &d), 1, "the swarm's set-up p99 is B's, over 5 ms");
    for (uint64_t i = 0; i < 300; i++) {
        met_hist_record(want, a.setup_lo + i * 7919);
        met_hist_record(want, b.setup_lo + i * 7919);
    }
    char err[128];
    int node = jr_find(&d, 0, "histograms.setup.total");
    cr_assert_eq(ctl_hist_json_read(&d, node, got, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(memcmp(got, want, sizeof(*want)), 0, "merged set-up histogram differs");
    assert_written(&d, "connections.setup_ms.p99", met_hist_percentile(want, 99) / 1e6);
    assert_written(&d, "connections.setup_ms.p50", met_hist_percentile(want, 50) / 1e6);
    cr_assert_eq(num(&d, "connections.setup_ms.samples"), 600);
    cr_assert_eq(num(&d, "connections.established"), 600);
    cr_assert_eq(num(&d, "connections.total"), 600);
    cr_assert_gt(num(&d, "connections.setup_ms.by_stage.dtls.p50"), 0);
    /* per DTLS version: the counts summed, the histograms merged exactly, percentiles from them */
    cr_assert_eq(num(&d, "connections.dtls.v1_2.up"), 400);
    cr_assert_eq(num(&d, "connections.dtls.v1_3.up"), 200);
    cr_assert_eq(num(&d, "connections.dtls.v1_3.setup_ms.samples"), 200);
    cr_assert_eq(num(&d, "connections.dtls.key_updates.sent"), 1400, "KeyUpdates summed: %g", num(&d, "connections.dtls.key_updates.sent"));
    cr_assert_eq(num(&d, "connections.dtls.key_updates.received"), 1398);
    memset(want, 0, sizeof(*want));
    for (uint64_t i = 2; i < 300; i += 3) {
        met_hist_record(want, a.setup_lo + i * 7919);
        met_hist_record(want, b.setup_lo + i * 7919);
    }
    node = jr_find(&d, 0, "histograms.setup.dtls_v1_3");
    cr_assert_eq(ctl_hist_json_read(&d, node, got, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(memcmp(got, want, sizeof(*want)), 0, "merged 1.3 set-up histogram differs");
    assert_written(&d, "connections.dtls.v1_3.setup_ms.p99", met_hist_percentile(want, 99) / 1e6);
    cr_assert(jr_str_is(&d, jr_find(&d, 0, "connections.dtls.offered"), "auto"));
    jr_free(&d);
    free(h);
    free(want);
    free(got);
}

Test(merge, an_interrupted_shard_exits_130_as_run_does)
{
    struct met_hist *h = malloc(sizeof(*h));
    struct shard b = shard_b;
    b.interrupted = true;
    write_shard(A_JSON, &shard_a, h);
    write_shard(B_JSON, &b, h);
    struct jr_doc d;
    cr_assert_eq(merge_two(NULL, &d), 130);
    cr_assert(flag(&d, "interrupted"));
    jr_free(&d);
    free(h);
}

/* ---- bad input: swarmgen report --merge, one line, exit 2 ---- */

/* Runs `swarmgen report --merge a b` and expects exit 2 with one line on
 * stderr that names `names`. */
static void expect_refused(const char *a, const char *b, const char *names)
{
    char *argv[] = {
        (char *)proc_bin("SWARMGEN_BIN"), "report", "--merge", (char *)a, (char *)b, NULL};
    proc_run(argv, 20, 0, &pr);
    cr_assert_eq(pr.exit_code, 2, "exit %d, stderr: %s", pr.exit_code, pr.err);
    cr_assert_eq(proc_lines(pr.err), 1, "one line expected, got: %s", pr.err);
    cr_assert_not_null(strstr(pr.err, names), "%s not named in: %s", names, pr.err);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Rewrites `path` with the first occurrence of `from` replaced by `to`. */
static void edit(const char *path, const char *from, const char *to)
{
    static char buf[1 << 20], out[1 << 20];
    long n = proc_read_file(path, buf, sizeof(buf) - 1);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    char *at = strstr(buf, from);
    cr_assert_not_null(at, "%s has no %s", path, from);
    snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
    write_text(path, out);
}

Test(merge_input, a_missing_file_is_named)
{
    struct met_hist *h = malloc(sizeof(*h));
    write_shard(A_JSON, &shard_a, h);
    expect_refused(A_JSON, "/tmp/sg-merge-nonexistent.json",
                   "/tmp/sg-merge-nonexistent.json: No such file");
    free(h);
}

Test(merge_input, not_json_and_not_a_report_are_refused)
{
    struct met_hist *h = malloc(sizeof(*h));
    write_shard(A_JSON, &shard_a, h);
    write_text(B_JSON, "{\"tool\": \"swarmgen\", ");
    expect_refused(A_JSON, B_JSON, B_JSON ": not JSON");
    write_text(B_JSON, "{\"latency_us\": {\"p99\": 12}}\n");
    expect_refused(A_JSON, B_JSON, B_JSON ": not a swarmgen report");
    free(h);
}

Test(merge_input, shards_of_another_swarm_are_refused)
{
    struct met_hist *h = malloc(sizeof(*h));
    struct shard b = shard_b;
    write_shard(A_JSON, &shard_a, h);
    b.spec = "ring";
    write_shard(B_JSON, &b, h);
    expect_refused(A_JSON, B_JSON, B_JSON ": topology.spec is ring");
    b = shard_b;
    b.seed = 8;
    write_shard(B_JSON, &b, h);
    expect_refused(A_JSON, B_JSON, B_JSON ": topology.seed is 8");
    free(h);
}

Test(merge_input, old_reports_other_layouts_and_repeats_are_refused)
{
    struct met_hist *h = malloc(sizeof(*h));
    write_shard(A_JSON, &shard_a, h);
    write_shard(B_JSON, &shard_b, h);
    expect_refused(A_JSON, A_JSON, A_JSON ": given twice");
    edit(B_JSON, "\"histograms\"", "\"histograms_of_another_tool\"");
    expect_refused(A_JSON, B_JSON, B_JSON ": has no \"histograms\"");
    write_shard(B_JSON, &shard_b, h);
    edit(B_JSON, "\"sub_bits\": 7", "\"sub_bits\": 6");
    expect_refused(A_JSON, B_JSON, B_JSON ": histogram layout sub_bits=6");
    free(h);
}

Test(merge_input, one_report_is_not_a_merge)
{
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "report", "--merge", A_JSON, NULL};
    proc_run(argv, 20, 0, &pr);
    cr_assert_eq(pr.exit_code, 2, "exit %d, stderr: %s", pr.exit_code, pr.err);
    cr_assert_eq(proc_lines(pr.err), 1, "%s", pr.err);
    cr_assert_not_null(strstr(pr.err, "swarmgen: --merge: "), "%s", pr.err);
}

Test(merge_input, a_bad_sla_is_refused_before_any_input_is_read)
{
    char *argv[] = {
        (char *)proc_bin("SWARMGEN_BIN"), "report", "--merge", "/tmp/sg-merge-none1.json",
        "/tmp/sg-merge-none2.json",       "--sla",  "p99<",    NULL};
    proc_run(argv, 20, 0, &pr);
    cr_assert_eq(pr.exit_code, 2, "exit %d, stderr: %s", pr.exit_code, pr.err);
    cr_assert_eq(proc_lines(pr.err), 1, "%s", pr.err);
    cr_assert_not_null(strstr(pr.err, "swarmgen: --sla: "), "%s", pr.err);
}
