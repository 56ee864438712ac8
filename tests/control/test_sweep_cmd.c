/* SPDX-License-Identifier: MIT */
/*
 * `swarmgen sweep`: the value lists and a point read from a synthetic
 * report; flag errors (one line, exit 2, before anything runs); a real
 * sweep over 10, 20 and 40 agents whose rows match three separate runs
 * with the same seed (agents, topology, k, edges, connections) and, figure
 * for figure, the point reports the sweep kept; and a failing point that is
 * a row with its error and exit 1.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_read.h"
#include "proc.h"
#include "sweep.h"

static struct proc_result r;

Test(sweep_unit, lists)
{
    uint64_t v[CTL_SWEEP_MAX_VALUES];
    cr_assert_eq(ctl_sweep_list_parse("10,100,1000", 2, 131070, v), 3);
    cr_assert(v[0] == 10 && v[1] == 100 && v[2] == 1000);
    cr_assert_eq(ctl_sweep_list_parse("5k", 1, 1000000000, v), 1);
    cr_assert_eq(v[0], 5000);
    const char *bad[] = {"", "1", "10,,20", ",10", "10,", "x", "10,200000", "-5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(ctl_sweep_list_parse(bad[i], 2, 131070, v), -22, "accepted '%s'", bad[i]);
    char many[256] = "2";
    for (int i = 0; i < CTL_SWEEP_MAX_VALUES; i++)
        strcat(many, ",3");
    cr_assert_eq(ctl_sweep_list_parse(many, 2, 131070, v), -22, "33 values");
}

Test(sweep_unit, a_point_from_a_report)
{
    const char *rep =
        "{\"tool\": \"swarmgen\", \"agents\": 100, \"topology\": {\"spec\": \"kmesh:k=10 (auto)\", "
        "\"edges\": 500}, \"messages\": {\"sent\": 1000, \"delivered\": 990}, \"latency_us\": "
        "{\"p50\": 12.5, \"p95\": 40, \"p99\": 90.25}, \"throughput\": {\"msgs_per_s\": 999.5, "
        "\"target_msgs_per_s\": 1000}, \"cpu\": {\"busy_cycles_per_msg\": 5300}, \"memory\": "
        "{\"bytes_per_agent\": 2048.5, \"bytes_per_connection\": 2018}, \"connections\": "
        "{\"total\": 500, \"established\": 499, \"setup_s\": 0.25, \"setup_per_s\": 1996}}";
    struct ctl_sweep_point p;
    memset(&p, 0, sizeof(p));
    p.agents = 100;
    char err[160];
    cr_assert_eq(ctl_sweep_point_read(rep, &p, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(p.topology, "kmesh:k=10 (auto)");
    cr_assert_eq(p.k, 10);
    cr_assert_eq(p.edges, 500);
    cr_assert_eq(p.conn_total, 500);
    cr_assert_eq(p.conn_up, 499);
    cr_assert_float_eq(p.setup_s, 0.25, 1e-12);
    cr_assert_float_eq(p.setup_per_s, 1996, 1e-12);
    cr_assert_float_eq(p.bytes_per_agent, 2048.5, 1e-12);
    cr_assert_float_eq(p.p99_us, 90.25, 1e-12);
    cr_assert_float_eq(p.delivery, 0.99, 1e-12);
    cr_assert_float_eq(p.cycles_per_msg, 5300, 1e-12);
    cr_assert_eq(p.target_rate, 1000);

    /* --traffic udp: no connections section; other topologies: k 0 */
    const char *udp = "{\"agents\": 10, \"topology\": {\"spec\": \"ring\", \"edges\": 10}, "
                      "\"messages\": {\"sent\": 0, \"delivered\": 0}}";
    memset(&p, 0, sizeof(p));
    p.agents = 10;
    cr_assert_eq(ctl_sweep_point_read(udp, &p, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(p.k, 0);
    cr_assert(isnan(p.setup_per_s) && isnan(p.delivery) && isnan(p.p50_us));
    p.agents = 11;
    cr_assert_eq(ctl_sweep_point_read(udp, &p, err, sizeof(err)), -22, "another agent count");
    cr_assert_eq(ctl_sweep_point_read("{\"agents\": 1", &p, err, sizeof(err)), -22);
    cr_assert_eq(ctl_sweep_point_read("{}", &p, err, sizeof(err)), -22);
}

static int sweep(char *const args[], int timeout_s)
{
    char *argv[48];
    int n = 0;
    argv[n++] = (char *)proc_bin("SWARMGEN_BIN");
    argv[n++] = "sweep";
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return proc_run(argv, timeout_s, 0, &r);
}

static void expect_usage_error(const char *flag, char *const args[])
{
    sweep(args, 20);
    cr_assert_eq(r.exit_code, 2, "%s: exit %d, stderr: %s", flag, r.exit_code, r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s: %s", flag, r.err);
    cr_assert_not_null(strstr(r.err, flag), "%s not named: %s", flag, r.err);
}

Test(sweep_cmd, bad_flags_are_one_line_and_exit_2)
{
    expect_usage_error("--agents", (char *[]){"--agents", "1,10", NULL});
    expect_usage_error("--agents", (char *[]){"--agents", "10,,20", NULL});
    expect_usage_error("--agents", (char *[]){"--agents", "ten", NULL});
    expect_usage_error("--agents", (char *[]){"--duration", "1s", NULL});
    expect_usage_error("--rate", (char *[]){"--agents", "10", "--rate", "0,1000", NULL});
    expect_usage_error("--topology", (char *[]){"--agents", "10", "--topology", "mesh", NULL});
    expect_usage_error("--out", (char *[]){"--agents", "10", "--out", "", NULL});
    expect_usage_error("--report", (char *[]){"--agents", "10", "--report", "x.json", NULL});
    expect_usage_error("--shard", (char *[]){"--agents", "10", "--shard", "0/2", NULL});
    expect_usage_error("--agents", (char *[]){"--agents", "10", "--", "--agents", "20", NULL});
    /* run flags are checked as swarmgen run would */
    expect_usage_error("--duration", (char *[]){"--agents", "10", "--duration", "soon", NULL});
    expect_usage_error("--frobnicate", (char *[]){"--agents", "10", "--frobnicate", NULL});
    expect_usage_error("--traffic", (char *[]){"--agents", "10", "--", "--traffic", "tcp", NULL});
}

Test(sweep_cmd, help)
{
    char *args[] = {"--help", NULL};
    cr_assert_eq(sweep(args, 20), 0);
    cr_assert_not_null(strstr(r.out, "--agents LIST"));
    cr_assert_not_null(strstr(r.out, "--out DIR"));
}

/* The report of a separate `swarmgen run` of n agents, in `doc`. */
static void run_alone(uint32_t n, const char *path, struct jr_doc *doc)
{
    char agents[16];
    snprintf(agents, sizeof(agents), "%u", n);
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"),
                    "run",
                    "--agents",
                    agents,
                    "--topology",
                    "kmesh:k=auto",
                    "--duration",
                    "1s",
                    "--seed",
                    "5",
                    "--cores",
                    "0",
                    "--dp",
                    (char *)proc_bin("SWARMGEN_DP"),
                    "--report",
                    (char *)path,
                    "--quiet",
                    NULL};
    unlink(path);
    cr_assert_eq(proc_run(argv, 60, 0, &r), 0, "run %u: %s", n, r.err);
    cr_assert_eq(jr_load(doc, path, NULL), 0, "%s", path);
    unlink(path);
}

static uint64_t u64_at(const struct jr_doc *d, int from, const char *path)
{
    uint64_t v;
    cr_assert(jr_u64(d, jr_find(d, from, path), &v), "%s", path);
    return v;
}

static double num_at(const struct jr_doc *d, int from, const char *path)
{
    int node = jr_find(d, from, path);
    cr_assert(node >= 0 && d->node[node].type == JR_NUM, "%s", path);
    return d->node[node].num;
}

static bool str_at(const struct jr_doc *d, int from, const char *path, const char *s)
{
    return jr_str_is(d, jr_find(d, from, path), s);
}

Test(sweep_cmd, three_sizes_match_separate_runs_and_the_kept_reports, .timeout = 120)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/sg-sweep-%d", (int)getpid());
    char *args[] = {"--agents",   "10,20,40", "--out",  dir,
                    "--duration", "1s",       "--seed", "5",
                    "--cores",    "0",        "--dp",   (char *)proc_bin("SWARMGEN_DP"),
                    NULL};
    cr_assert_eq(sweep(args, 90), 0, "exit %d: %s", r.exit_code, r.err);
    /* the table: a header and a row per point */
    cr_assert_not_null(strstr(r.out, "kmesh:k=5 (auto)"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "kmesh:k=8 (auto)"), "%s", r.out);

    char path[160];
    snprintf(path, sizeof(path), "%s/sweep.json", dir);
    struct jr_doc s;
    cr_assert_eq(jr_load(&s, path, NULL), 0, "%s", path);
    int pts = jr_find(&s, 0, "points");
    const uint32_t sizes[] = {10, 20, 40}, ks[] = {5, 6, 8}; /* ceil(2 ln N) */
    int pt = pts;
    for (int i = 0; i < 3; i++) {
        pt = jr_next_child(&s, pts, pt);
        cr_assert_geq(pt, 0, "point %d missing", i);
        cr_assert_eq(u64_at(&s, pt, "agents"), sizes[i]);
        cr_assert(str_at(&s, pt, "error", ""));
        cr_assert_eq(u64_at(&s, pt, "k"), ks[i]);

        /* a separate run with the same flags and seed: the same swarm */
        struct jr_doc alone;
        char rep[160];
        snprintf(rep, sizeof(rep), "%s/alone.json", dir);
        run_alone(sizes[i], rep, &alone);
        char spec[32];
        snprintf(spec, sizeof(spec), "kmesh:k=%u (auto)", ks[i]);
        cr_assert(str_at(&s, pt, "topology", spec));
        cr_assert(str_at(&alone, 0, "topology.spec", spec));
        cr_assert_eq(u64_at(&s, pt, "edges"), u64_at(&alone, 0, "topology.edges"));
        cr_assert_eq(u64_at(&s, pt, "connections"), u64_at(&alone, 0, "connections.total"));
        cr_assert_eq(u64_at(&s, pt, "connections"), u64_at(&s, pt, "edges"));
        cr_assert_eq(u64_at(&s, pt, "connections_up"), u64_at(&s, pt, "connections"),
                     "every connection up");
        cr_assert_eq(u64_at(&alone, 0, "connections.established"),
                     u64_at(&alone, 0, "connections.total"));
        jr_free(&alone);

        /* the point's own report, kept: every figure exactly */
        struct jr_doc kept;
        int rn = jr_find(&s, pt, "report");
        char name[96];
        snprintf(name, sizeof(name), "%.*s", (int)s.node[rn].raw_len, s.node[rn].raw);
        snprintf(rep, sizeof(rep), "%s/%s", dir, name);
        cr_assert_eq(jr_load(&kept, rep, NULL), 0, "%s", rep);
        cr_assert_eq(u64_at(&kept, 0, "agents"), sizes[i]);
        const char *pairs[][2] = {
            {"setup_s", "connections.setup_s"},
            {"setup_per_s", "connections.setup_per_s"},
            {"bytes_per_agent", "memory.bytes_per_agent"},
            {"bytes_per_connection", "memory.bytes_per_connection"},
            {"p50_us", "latency_us.p50"},
            {"p95_us", "latency_us.p95"},
            {"p99_us", "latency_us.p99"},
            {"cycles_per_msg", "cpu.busy_cycles_per_msg"},
            {"msgs_per_s", "throughput.msgs_per_s"},
        };
        for (size_t j = 0; j < sizeof(pairs) / sizeof(pairs[0]); j++)
            cr_assert_eq(num_at(&s, pt, pairs[j][0]), num_at(&kept, 0, pairs[j][1]),
                         "%u agents: %s %.17g vs the report's %.17g", sizes[i], pairs[j][0],
                         num_at(&s, pt, pairs[j][0]), num_at(&kept, 0, pairs[j][1]));
        uint64_t sent = u64_at(&kept, 0, "messages.sent");
        uint64_t delivered = u64_at(&kept, 0, "messages.delivered");
        cr_assert_gt(sent, 0);
        cr_assert_eq(u64_at(&s, pt, "sent"), sent);
        cr_assert_eq(u64_at(&s, pt, "delivered"), delivered);
        cr_assert_eq(num_at(&s, pt, "delivery_ratio"), (double)delivered / (double)sent);
        cr_assert_eq(u64_at(&s, pt, "edges"), u64_at(&kept, 0, "topology.edges"));
        jr_free(&kept);
        unlink(rep);
    }
    cr_assert_lt(jr_next_child(&s, pts, pt), 0, "three points only");
    jr_free(&s);

    static char text[1 << 16];
    snprintf(path, sizeof(path), "%s/sweep.csv", dir);
    cr_assert_gt(proc_read_file(path, text, sizeof(text)), 0);
    cr_assert_eq(proc_lines(text), 4, "header and three rows: %s", text);
    cr_assert_eq(strncmp(text, "agents,rate,ok,topology,k,edges", 31), 0);
    cr_assert_not_null(strstr(text, "\n40,0,1,\"kmesh:k=8 (auto)\",8,"), "%s", text);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sweep.html", dir);
    cr_assert_gt(proc_read_file(path, text, sizeof(text)), 0);
    int svgs = 0;
    for (const char *c = text; (c = strstr(c, "<svg")); c++)
        svgs++;
    cr_assert_eq(svgs, 3, "set-up rate, latency, memory charts");
    unlink(path);
    snprintf(path, sizeof(path), "%s/sweep.json", dir);
    unlink(path);
    cr_assert_eq(rmdir(dir), 0, "only the files checked were left in %s", dir);
}

Test(sweep_cmd, a_failed_point_is_a_row_with_its_error_and_exit_1, .timeout = 60)
{
    char json[64];
    snprintf(json, sizeof(json), "/tmp/sg-sweep-fail-%d.json", (int)getpid());
    /* kmesh:k=4 cannot be built for 4 agents */
    char *args[] = {
        "--agents", "4,12",    "--topology", "kmesh:k=4", "--duration",
        "1s",       "--cores", "0",          "--dp",      (char *)proc_bin("SWARMGEN_DP"),
        "--json",   json,      NULL};
    cr_assert_eq(sweep(args, 60), 1, "exit %d: %s", r.exit_code, r.err);
    cr_assert_not_null(strstr(r.out, "FAILED: exit 2: swarmgen: --topology: k=4 needs more"), "%s",
                       r.out);
    struct jr_doc d;
    cr_assert_eq(jr_load(&d, json, NULL), 0);
    int pts = jr_find(&d, 0, "points");
    int a = jr_next_child(&d, pts, pts), b = jr_next_child(&d, pts, a);
    cr_assert(a >= 0 && b >= 0 && jr_next_child(&d, pts, b) < 0);
    cr_assert_eq(d.node[jr_find(&d, a, "ok")].num, 0);
    cr_assert_eq(u64_at(&d, a, "exit_code"), 2);
    cr_assert_eq(d.node[jr_find(&d, b, "ok")].num, 1);
    cr_assert_eq(u64_at(&d, b, "agents"), 12);
    cr_assert_eq(u64_at(&d, b, "connections_up"), u64_at(&d, b, "edges"));
    jr_free(&d);
    unlink(json);
}
