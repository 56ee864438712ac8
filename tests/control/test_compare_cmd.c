/* SPDX-License-Identifier: MIT */
/*
 * `swarmgen compare`: the rows (medians, spread, ratios to dpdk, failures)
 * from synthetic samples; a run's figures read from a synthetic report and
 * time series; flag errors (one line, exit 2, before anything runs); and
 * real, short comparisons whose JSON has one row per backend with every
 * field, a failing backend being a row with its error, not a crash.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "json_read.h"
#include "proc.h"

static struct proc_result r;

static struct ctl_compare_sample sample(uint8_t backend, uint32_t rep, double msgs, double p99)
{
    struct ctl_compare_sample s;
    memset(&s, 0, sizeof(s));
    s.backend = backend;
    s.rep = rep;
    s.ok = true;
    for (int m = 0; m < CTL_CMP_N; m++)
        s.v[m] = 1000;
    s.v[CTL_CMP_MSGS_PER_S] = msgs;
    s.v[CTL_CMP_P99_US] = p99;
    s.v[CTL_CMP_SETUP_PER_S] = NAN; /* e.g. --traffic udp: nothing set up */
    return s;
}

static struct ctl_compare_sample failed(uint8_t backend, uint32_t rep, const char *why)
{
    struct ctl_compare_sample s = sample(backend, rep, NAN, NAN);
    s.ok = false;
    s.exit_code = 1;
    snprintf(s.error, sizeof(s.error), "%s", why);
    return s;
}

Test(compare_rows, median_of_odd_and_even_counts_skips_missing_values)
{
    double a[] = {5, 1, 3};
    cr_assert_float_eq(ctl_compare_median(a, 3), 3, 1e-12);
    double b[] = {4, NAN, 1, 3, 2};
    cr_assert_float_eq(ctl_compare_median(b, 5), 2.5, 1e-12);
    double c[] = {NAN, NAN};
    cr_assert(isnan(ctl_compare_median(c, 2)));
    cr_assert(isnan(ctl_compare_median(c, 0)));
}

Test(compare_rows, medians_spread_and_ratios_to_dpdk_with_a_failed_run)
{
    /* interleaved as compare makes them: rep 1 dpdk, uring, usrsctp; rep 2 ... */
    struct ctl_compare_sample s[] = {
        sample(RI_BACKEND_DPDK, 1, 100, 10),
        sample(RI_BACKEND_URING, 1, 40, 60),
        failed(RI_BACKEND_USRSCTP, 1, "exit 1: swarmgen: cannot find the swarmgen-usrsctp binary"),
        sample(RI_BACKEND_DPDK, 2, 110, 20),
        sample(RI_BACKEND_URING, 2, 50, 70),
        failed(RI_BACKEND_USRSCTP, 2, "exit 1: again"),
        sample(RI_BACKEND_DPDK, 3, 90, 30),
        failed(RI_BACKEND_URING, 3, "killed by signal 9 (Killed)"),
        failed(RI_BACKEND_USRSCTP, 3, "exit 1: again"),
    };
    uint8_t b[] = {RI_BACKEND_DPDK, RI_BACKEND_URING, RI_BACKEND_USRSCTP};
    struct ctl_compare_row rows[3];
    ctl_compare_rows(s, sizeof(s) / sizeof(s[0]), b, 3, rows);

    cr_assert_eq(rows[0].backend, RI_BACKEND_DPDK);
    cr_assert_eq(rows[0].reps, 3);
    cr_assert_eq(rows[0].runs_failed, 0);
    cr_assert_str_empty(rows[0].error);
    cr_assert_float_eq(rows[0].v[CTL_CMP_MSGS_PER_S], 100, 1e-9);
    cr_assert_float_eq(rows[0].v[CTL_CMP_P99_US], 20, 1e-9);
    cr_assert_float_eq(rows[0].spread_pct, 20, 1e-9, "(110 - 90) / 100");
    for (int m = 0; m < CTL_CMP_N; m++) {
        if (m == CTL_CMP_SETUP_PER_S)
            cr_assert(isnan(rows[0].ratio[m]), "no set-up figure, no ratio");
        else
            cr_assert_float_eq(rows[0].ratio[m], 1, 1e-12, "dpdk against itself: %s",
                               ctl_cmp_metric_key[m]);
    }
    cr_assert(isnan(rows[0].v[CTL_CMP_SETUP_PER_S]));

    cr_assert_eq(rows[1].reps, 3);
    cr_assert_eq(rows[1].runs_failed, 1);
    cr_assert_str_eq(rows[1].error, "rep 3: killed by signal 9 (Killed)");
    cr_assert_float_eq(rows[1].v[CTL_CMP_MSGS_PER_S], 45, 1e-9, "median of the two that ran");
    cr_assert_float_eq(rows[1].spread_pct, 10.0 / 45 * 100, 1e-9);
    cr_assert_float_eq(rows[1].ratio[CTL_CMP_MSGS_PER_S], 0.45, 1e-12);
    cr_assert_float_eq(rows[1].ratio[CTL_CMP_P99_US], 65.0 / 20, 1e-12);
    cr_assert_float_eq(rows[1].ratio[CTL_CMP_PPS], 1, 1e-12);

    cr_assert_eq(rows[2].runs_failed, 3);
    cr_assert_str_eq(rows[2].error,
                     "rep 1: exit 1: swarmgen: cannot find the swarmgen-usrsctp binary");
    cr_assert(isnan(rows[2].spread_pct));
    for (int m = 0; m < CTL_CMP_N; m++) {
        cr_assert(isnan(rows[2].v[m]));
        cr_assert(isnan(rows[2].ratio[m]));
    }
}

Test(compare_rows, the_table_shows_values_with_ratios_spread_and_failures)
{
    struct ctl_compare_sample s[] = {
        sample(RI_BACKEND_DPDK, 1, 74900, 20),
        sample(RI_BACKEND_URING, 1, 30709, 64),
        failed(RI_BACKEND_USRSCTP, 1, "exit 1: no binary"),
    };
    uint8_t b[] = {RI_BACKEND_DPDK, RI_BACKEND_URING, RI_BACKEND_USRSCTP};
    struct ctl_compare_row rows[3];
    ctl_compare_rows(s, 3, b, 3, rows);
    struct ctl_run_opts o;
    memset(&o, 0, sizeof(o));
    o.agents = 1000;
    snprintf(o.topology, sizeof(o.topology), "kmesh:k=8");
    o.rate = 20000;
    o.msg_size = 64;
    struct ctl_compare_machine m = {
        .cpu = "Test CPU", .cpus_online = 2, .cores = "0,1", .kernel = "Linux 6"};
    struct ctl_compare_workload w = {.o = &o,
                                     .run_flags = "--agents 1000",
                                     .warmup_ns = 2000000000ull,
                                     .measure_ns = 5000000000ull,
                                     .reps = 1,
                                     .backends = b,
                                     .n_backends = 3};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    ctl_compare_print(f, &m, &w, rows, 3);
    fclose(f);
    cr_assert_not_null(strstr(text, "1000 agents, kmesh:k=8"), "%s", text);
    cr_assert_not_null(strstr(text, "2 s warm-up excluded, 5 s measured"), "%s", text);
    cr_assert_not_null(
        strstr(text, "machine: Test CPU, 2 CPUs online, runs pinned to cores 0,1, Linux 6"), "%s",
        text);
    cr_assert_not_null(strstr(text, "74,900 (1.00x)"), "%s", text);
    cr_assert_not_null(strstr(text, "30,709 (0.41x)"), "%s", text);
    cr_assert_not_null(strstr(text, "64.0 (3.20x)"), "latency ratio above 1 is worse:\n%s", text);
    cr_assert_not_null(strstr(text, "usrsctp: 1 of 1 runs failed; first: rep 1: exit 1: no binary"),
                       "%s", text);
    /* the rows line up: every table line as long as the header line */
    char *hdr = strstr(text, "\nbackend");
    cr_assert_not_null(hdr);
    size_t width = strcspn(hdr + 1, "\n");
    for (const char *line = strchr(hdr + 1, '\n') + 1; *line && strncmp(line, "usrsctp:", 8);) {
        size_t l = strcspn(line, "\n");
        cr_assert_eq(l, width, "misaligned: '%.*s'", (int)l, line);
        line += l + (line[l] == '\n');
    }
    free(text);
}

Test(compare_rows, no_dpdk_row_means_no_ratios_and_one_run_no_spread)
{
    struct ctl_compare_sample s[] = {sample(RI_BACKEND_URING, 1, 40, 60)};
    uint8_t b[] = {RI_BACKEND_URING};
    struct ctl_compare_row row;
    ctl_compare_rows(s, 1, b, 1, &row);
    cr_assert_float_eq(row.v[CTL_CMP_MSGS_PER_S], 40, 1e-12);
    cr_assert_float_eq(row.spread_pct, 0, 1e-12);
    for (int m = 0; m < CTL_CMP_N; m++)
        cr_assert(isnan(row.ratio[m]));
}

Test(compare_rows, backend_lists)
{
    uint8_t b[CTL_CMP_BACKENDS];
    cr_assert_eq(ctl_compare_backends_parse("usrsctp,dpdk", b), 2);
    cr_assert_eq(b[0], RI_BACKEND_USRSCTP);
    cr_assert_eq(b[1], RI_BACKEND_DPDK);
    cr_assert_eq(ctl_compare_backends_parse("dpdk,uring,usrsctp", b), 3);
    const char *bad[] = {"", "dpdk,", ",dpdk", "dpdk,dpdk", "kernel", "DPDK", "dpdk uring"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_lt(ctl_compare_backends_parse(bad[i], b), 0, "accepted '%s'", bad[i]);
    cr_assert_str_eq(ctl_compare_backend_name(RI_BACKEND_URING), "uring");
}

static const char report[] =
    "{\"tool\": \"swarmgen\", \"connections\": {\"total\": 120, \"setup_per_s\": 200.5},"
    " \"memory\": {\"bytes_per_connection\": 9999, \"bytes_per_connection_state\": 8000},"
    " \"latency_us\": {\"p50\": 1, \"p99\": 2},"
    " \"profile\": {\"name\": \"x\", \"phases\": ["
    "  {\"name\": \"warmup\", \"reached\": true, \"latency_us\": {\"p50\": 100, \"p99\": 900}},"
    "  {\"name\": \"measure\", \"reached\": true, \"msgs_per_s\": 1, \"latency_us\": {\"p50\": "
    "5.5, \"p95\": 9, \"p99\": 50.25}}]}}";

static const char csv[] =
    "t_s,phase,target_msgs_per_s,active_agents,sent_per_s,delivered_per_s,pps,mbps,sent_total,"
    "delivered_total,interval_dropped,p50_us,p95_us,p99_us,max_us,busy_pct_core0,busy_pct_core1\n"
    "1.000,warmup,1000,60,1000,900000,9,9,1,1,0,1,1,1,1,99.0,99.0\n"
    "2.000,warmup,1000,60,1000,900000,9,9,1,1,0,1,1,1,1,99.0,99.0\n"
    "3.000,measure,1000,60,1000,1000.0,3000.0,2.000,1,1,0,1,1,1,1,50.0,50.0\n"
    "3.500,measure,1000,60,1000,2000.0,6000.0,4.000,1,1,0,1,1,1,1,100.0,100.0\n";

Test(compare_sample, measured_phase_only_weighted_by_interval_length)
{
    struct ctl_compare_sample s;
    char err[160];
    cr_assert_eq(ctl_compare_sample_read(report, csv, 1, "measure", 1e9, &s, err, sizeof(err)), 0,
                 "%s", err);
    /* 1.5 s measured: 1,000 + 0.5 x 2,000 messages, 3,000 + 3,000 frames,
     * 2 + 2 Mbit, busy 2 x 0.5 x 1 s + 2 x 1.0 x 0.5 s = 2 core-seconds */
    cr_assert_float_eq(s.v[CTL_CMP_MSGS_PER_S], 2000 / 1.5, 1e-6);
    cr_assert_float_eq(s.v[CTL_CMP_PPS], 6000 / 1.5, 1e-6);
    cr_assert_float_eq(s.v[CTL_CMP_MBPS], 4 / 1.5, 1e-9);
    cr_assert_float_eq(s.v[CTL_CMP_CYCLES_PER_MSG], 2 * 1e9 / 2000, 1e-3);
    cr_assert_float_eq(s.v[CTL_CMP_P50_US], 5.5, 1e-12,
                       "the measured phase's latency, not the run's");
    cr_assert_float_eq(s.v[CTL_CMP_P99_US], 50.25, 1e-12);
    cr_assert_float_eq(s.v[CTL_CMP_SETUP_PER_S], 200.5, 1e-12);
    cr_assert_float_eq(s.v[CTL_CMP_BYTES_PER_CONN], 8000, 1e-12,
                       "connection state, not all memory");

    cr_assert_eq(ctl_compare_sample_read(report, csv, 1, "measure", 0, &s, err, sizeof(err)), 0);
    cr_assert(isnan(s.v[CTL_CMP_CYCLES_PER_MSG]), "no TSC rate, no cycles");
}

Test(compare_sample, what_cannot_be_measured_is_an_error)
{
    struct ctl_compare_sample s;
    char err[160];
    cr_assert_lt(ctl_compare_sample_read(report, csv, 2, "measure", 1e9, &s, err, sizeof(err)), 0);
    cr_assert(strstr(err, "no phase 3"), "%s", err);
    cr_assert_lt(
        ctl_compare_sample_read("{\"profile\": ", csv, 1, "measure", 1e9, &s, err, sizeof(err)), 0);
    cr_assert(strstr(err, "not JSON"), "%s", err);
    const char *unreached = "{\"profile\": {\"phases\": [{}, {\"reached\": false}]}}";
    cr_assert_lt(ctl_compare_sample_read(unreached, csv, 1, "measure", 1e9, &s, err, sizeof(err)),
                 0);
    cr_assert(strstr(err, "ended before"), "%s", err);
    cr_assert_lt(ctl_compare_sample_read(report, csv, 1, "steady", 1e9, &s, err, sizeof(err)), 0);
    cr_assert(strstr(err, "no second of phase 'steady'"), "%s", err);
    cr_assert_lt(
        ctl_compare_sample_read(report, "a,b\n1,2\n", 1, "measure", 1e9, &s, err, sizeof(err)), 0);
}

static void expect_usage_error(const char *flag, char *const args[])
{
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)proc_bin("SWARMGEN_BIN");
    argv[n++] = "compare";
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 2, "%s: exit %d, stdout: %s stderr: %s", flag, r.exit_code, r.out,
                 r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s: one line expected, got: %s", flag, r.err);
    cr_assert_not_null(strstr(r.err, flag), "%s not named in: %s", flag, r.err);
    cr_assert_str_empty(r.out, "nothing ran: %s", r.out);
}

Test(compare_cli, bad_flags_exit_2_naming_the_flag)
{
    expect_usage_error("--reps", (char *[]){"--reps", "0", NULL});
    expect_usage_error("--reps", (char *[]){"--reps", "51", NULL});
    expect_usage_error("--backends", (char *[]){"--backends", "dpdk,kernel", NULL});
    expect_usage_error("--backends", (char *[]){"--backends", "uring,uring", NULL});
    expect_usage_error("--warmup", (char *[]){"--warmup", "50ms", NULL});
    expect_usage_error("--warmup", (char *[]){"--warmup", "soon", NULL});
    expect_usage_error("--json", (char *[]){"--json", NULL});
}

Test(compare_cli, flags_compare_sets_itself_are_refused)
{
    expect_usage_error("--report", (char *[]){"--report", "x.json", NULL});
    expect_usage_error("--csv", (char *[]){"--csv=x.csv", NULL});
    expect_usage_error("--html", (char *[]){"--html", "x.html", NULL});
    expect_usage_error("--profile", (char *[]){"--profile", "ramp", NULL});
    expect_usage_error("--backend", (char *[]){"--backend", "dpdk", NULL});
    expect_usage_error("--sla", (char *[]){"--sla", "p99<1ms", NULL});
    expect_usage_error("--abort-on-fail", (char *[]){"--abort-on-fail", NULL});
}

Test(compare_cli, bad_run_flags_are_caught_before_any_run)
{
    expect_usage_error("--agents", (char *[]){"--agents", "1", NULL});
    expect_usage_error("--topology", (char *[]){"--reps", "2", "--topology", "mesh", NULL});
    expect_usage_error("--frobnicate", (char *[]){"--frobnicate", NULL});
}

Test(compare_cli, help)
{
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "compare", "--help", NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 0);
    cr_assert_not_null(strstr(r.out, "--backends"));
    cr_assert_not_null(strstr(r.out, "--warmup"));
}

/* Member `key` of object node `obj` in d, or -1. */
static int member(const struct jr_doc *d, int obj, const char *key)
{
    for (int i = obj + 1; obj >= 0 && i < d->n; i++)
        if (d->node[i].parent == obj && d->node[i].key && d->node[i].key_len == strlen(key) &&
            memcmp(d->node[i].key, key, d->node[i].key_len) == 0)
            return i;
    return -1;
}

static int element(const struct jr_doc *d, int arr, int idx)
{
    int k = 0;
    for (int i = arr + 1; arr >= 0 && i < d->n; i++)
        if (d->node[i].parent == arr && k++ == idx)
            return i;
    return -1;
}

static int children(const struct jr_doc *d, int node)
{
    int k = 0;
    for (int i = node + 1; node >= 0 && i < d->n; i++)
        k += d->node[i].parent == node;
    return k;
}

static void run_compare(char *const args[], int timeout_s)
{
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)proc_bin("SWARMGEN_BIN");
    argv[n++] = "compare";
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    proc_run(argv, timeout_s, 0, &r);
}

/* Every row of the comparison at `path` has every field; returns the doc. */
static void assert_rows(const char *path, const char *const *backends, int n_backends, int reps,
                        struct jr_doc *d)
{
    char text[1 << 16];
    cr_assert_gt(proc_read_file(path, text, sizeof(text)), 0, "no %s\n%s\n%s", path, r.out, r.err);
    cr_assert_eq(jr_parse(d, text, strlen(text), NULL), 0, "not JSON:\n%s", text);
    cr_assert_geq(member(d, 0, "machine"), 0);
    cr_assert_geq(member(d, member(d, 0, "machine"), "cpu"), 0);
    cr_assert_geq(member(d, member(d, 0, "workload"), "agents"), 0);
    int rows = member(d, 0, "rows");
    cr_assert_eq(children(d, rows), n_backends, "one row per backend:\n%s", text);
    const char *at = text;
    for (int b = 0; b < n_backends; b++) {
        char want[64];
        snprintf(want, sizeof(want), "\"backend\": \"%s\"", backends[b]);
        const char *p = strstr(at, want);
        cr_assert_not_null(p, "row %d is not %s:\n%s", b, backends[b], text);
        at = p + 1;
        int row = element(d, rows, b);
        cr_assert_eq(d->node[member(d, row, "backend")].type, JR_STR);
        int ratio = member(d, row, "ratio_vs_dpdk");
        cr_assert_eq(d->node[ratio].type, JR_OBJ);
        for (int m = 0; m < CTL_CMP_N; m++) {
            int v = member(d, row, ctl_cmp_metric_key[m]);
            cr_assert_geq(v, 0, "%s: no %s", backends[b], ctl_cmp_metric_key[m]);
            cr_assert_geq(member(d, ratio, ctl_cmp_metric_key[m]), 0, "%s: no ratio of %s",
                          backends[b], ctl_cmp_metric_key[m]);
        }
        cr_assert_geq(member(d, row, "spread_pct"), 0);
        cr_assert_eq(d->node[member(d, row, "reps")].num, reps);
        cr_assert_geq(member(d, row, "runs_failed"), 0);
        cr_assert_geq(member(d, row, "error"), 0);
        cr_assert_eq(children(d, member(d, row, "runs")), reps);
    }
}

/* The number `key` of row `b`. */
static double row_num(const struct jr_doc *d, int b, const char *key)
{
    int n = member(d, element(d, member(d, 0, "rows"), b), key);
    return n >= 0 && d->node[n].type == JR_NUM ? d->node[n].num : NAN;
}

static double ratio_num(const struct jr_doc *d, int b, const char *key)
{
    int n = member(d, member(d, element(d, member(d, 0, "rows"), b), "ratio_vs_dpdk"), key);
    return n >= 0 && d->node[n].type == JR_NUM ? d->node[n].num : NAN;
}

Test(compare_run, every_backend_a_row_with_every_field_and_ratios_to_dpdk, .timeout = 300)
{
    const char *json = "/tmp/sg-compare-cmd.json";
    unlink(json);
    const char *backends[] = {"dpdk", "uring", "usrsctp"};
    int nb = 3;
    char *args[] = {"--backends", "dpdk,uring,usrsctp",
                    "--reps",     "2",
                    "--warmup",   "1s",
                    "--agents",   "60",
                    "--topology", "kmesh:k=4",
                    "--traffic",  "dc:rate=3000",
                    "--duration", "2s",
                    "--json",     (char *)json,
                    NULL};
    run_compare(args, 280);
    /* the socket backends bind 127.18.x.y with ports from the edge index:
     * another uring/usrsctp run on the machine at the same moment takes
     * them (EADDRINUSE). Such a run is a failed run in its row, which is
     * compare doing its job; anything else failing is not */
    bool clash = r.exit_code == 1 && strstr(r.err, "Address already in use");
    cr_assert(r.exit_code == 0 || clash, "exit %d\nstdout:\n%s\nstderr:\n%s", r.exit_code, r.out,
              r.err);
    struct jr_doc d;
    assert_rows(json, backends, nb, 2, &d);
    cr_assert_eq(row_num(&d, 0, "runs_failed"), 0, "dpdk binds no socket:\n%s", r.err);
    for (int b = 0; b < nb; b++) {
        if (row_num(&d, b, "runs_failed") > 0) {
            cr_assert(clash, "%s failed:\n%s", backends[b], r.err);
            cr_log_info("%s: a run failed on a socket another run held", backends[b]);
            if (row_num(&d, b, "runs_failed") == 2)
                continue;
        }
        double msgs = row_num(&d, b, "msgs_per_s");
        /* loose: the machine is shared, a loaded second delivers late */
        cr_assert(msgs > 1000 && msgs < 9000, "%s: %g msg/s measured of 3,000 offered", backends[b],
                  msgs);
        cr_assert_gt(row_num(&d, b, "pps"), msgs, "a routed message is at least one frame");
        cr_assert_gt(row_num(&d, b, "mbps"), 0);
        cr_assert_gt(row_num(&d, b, "p50_us"), 0);
        cr_assert_geq(row_num(&d, b, "p99_us"), row_num(&d, b, "p50_us"));
        cr_assert_gt(row_num(&d, b, "setup_per_s"), 0);
        cr_assert_geq(row_num(&d, b, "spread_pct"), 0);
        if (b < 2) { /* swarmgen-dp's workers count busy cycles and their connection state */
            cr_assert_gt(row_num(&d, b, "cycles_per_msg"), 0);
            cr_assert_gt(row_num(&d, b, "bytes_per_conn"), 1000);
        }
        double ratio = ratio_num(&d, b, "msgs_per_s");
        cr_assert_float_eq(ratio, msgs / row_num(&d, 0, "msgs_per_s"), 1e-4);
    }
    cr_assert_float_eq(ratio_num(&d, 0, "p99_us"), 1, 1e-12);
    jr_free(&d);
    /* the table: a header, then a line per backend with its ratios */
    cr_assert_not_null(strstr(r.out, "machine: "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\ndpdk "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nuring "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nusrsctp "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "(1.00x)"), "%s", r.out);
    unlink(json);
}

Test(compare_run, a_failing_backend_is_a_row_with_its_error_and_exit_1, .timeout = 120)
{
    const char *json = "/tmp/sg-compare-cmd-fail.json";
    unlink(json);
    cr_assert_eq(system("rm -rf /tmp/sg-compare-keep"), 0);
    setenv("SWARMGEN_USRSCTP", "/nonexistent/swarmgen-usrsctp", 1);
    char *args[] = {"--backends", "dpdk,usrsctp", "--reps", "1", "--warmup", "0", "--agents", "20",
                    "--topology", "ring", "--traffic", "dc:rate=1000", "--duration", "1s",
                    "--json", (char *)json, "--keep", "/tmp/sg-compare-keep", NULL};
    run_compare(args, 110);
    unsetenv("SWARMGEN_USRSCTP");
    cr_assert_eq(r.exit_code, 1, "exit %d\nstdout:\n%s\nstderr:\n%s", r.exit_code, r.out, r.err);
    const char *backends[] = {"dpdk", "usrsctp"};
    struct jr_doc d;
    assert_rows(json, backends, 2, 1, &d);
    cr_assert_eq(row_num(&d, 0, "runs_failed"), 0);
    cr_assert_gt(row_num(&d, 0, "msgs_per_s"), 0);
    cr_assert_eq(row_num(&d, 1, "runs_failed"), 1);
    cr_assert(isnan(row_num(&d, 1, "msgs_per_s")), "a failed backend has no figures (null)");
    jr_free(&d);
    char text[1 << 16];
    proc_read_file(json, text, sizeof(text));
    cr_assert_not_null(
        strstr(text, "\"error\": \"rep 1: exit 1: swarmgen: cannot find the swarmgen-usrsctp"),
        "%s", text);
    cr_assert_not_null(strstr(r.out, "usrsctp: 1 of 1 runs failed"), "%s", r.out);
    /* --keep: the run's own files and the scenario that excluded nothing (--warmup 0) */
    cr_assert_gt(proc_read_file("/tmp/sg-compare-keep/rep1-dpdk.json", text, sizeof(text)), 0);
    cr_assert_not_null(strstr(text, "\"backend\": \"dpdk\""));
    cr_assert_gt(proc_read_file("/tmp/sg-compare-keep/rep1-dpdk.csv", text, sizeof(text)), 0);
    cr_assert_gt(proc_read_file("/tmp/sg-compare-keep/compare-profile.yaml", text, sizeof(text)), 0);
    cr_assert_null(strstr(text, "warmup"), "%s", text);
    cr_assert_not_null(strstr(text, "name: measure"), "%s", text);
    cr_assert_eq(system("rm -rf /tmp/sg-compare-keep"), 0);
    unlink(json);
}
