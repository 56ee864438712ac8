/* SPDX-License-Identifier: MIT */
/*
 * sweep_run: the `swarmgen sweep` command — its flags and its points, each
 * a child `swarmgen run` (control/compare/child.c) with --report into the
 * sweep's directory; the rows are read by sweep.c.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "cli.h"
#include "json_read.h"
#include "run_opts.h"
#include "sweep.h"
#include "topo.h"

#define MAX_AGENTS 131070u /* swarmgen run --agents */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = sig;
    if (sig == SIGTERM && ctl_child_pid > 0)
        kill(ctl_child_pid, SIGTERM);
}

struct sweep {
    uint64_t agents[CTL_SWEEP_MAX_VALUES], rates[CTL_SWEEP_MAX_VALUES];
    int n_agents, n_rates;
    const char *topology;
    const char *out_dir, *json_path, *csv_path, *html_path;
    char **run_argv; /* the run flags, in order */
    int run_argc;
    char dir[256];
};

static struct sweep *sw(void *ctx)
{
    return ctx;
}

static void set_agents(void *ctx, const char *s)
{
    sw(ctx)->n_agents = ctl_sweep_list_parse(s, 2, MAX_AGENTS, sw(ctx)->agents);
    if (sw(ctx)->n_agents < 0)
        cli_fail("--agents",
                 "'%s' is not a list of up to %d agent counts in 2..%u (e.g. 10,100,1000)", s,
                 CTL_SWEEP_MAX_VALUES, MAX_AGENTS);
}

static void set_rate(void *ctx, const char *s)
{
    sw(ctx)->n_rates = ctl_sweep_list_parse(s, 1, 1000000000ull, sw(ctx)->rates);
    if (sw(ctx)->n_rates < 0)
        cli_fail("--rate",
                 "'%s' is not a list of up to %d message rates in 1..1G per second "
                 "(e.g. 1000,5k,20k)",
                 s, CTL_SWEEP_MAX_VALUES);
}

static void set_topology(void *ctx, const char *s)
{
    struct ctl_topo_spec spec;
    ctl_topo_flag("--topology", s, &spec);
    sw(ctx)->topology = s;
}

static void set_out(void *ctx, const char *s)
{
    if (!*s || strlen(s) > 200)
        cli_fail("--out", "expected a directory name of 1..200 characters");
    sw(ctx)->out_dir = s;
}

static void set_json(void *ctx, const char *s)
{
    sw(ctx)->json_path = cli_file("--json", s);
}

static void set_csv(void *ctx, const char *s)
{
    sw(ctx)->csv_path = cli_file("--csv", s);
}

static void set_html(void *ctx, const char *s)
{
    sw(ctx)->html_path = cli_file("--html", s);
}

static void set_quiet(void *ctx, const char *s)
{
    /* every run is quiet already */
}

/* Flags sweep sets itself for every run. */
static const char *const refused[][2] = {
    {"--report", "sweep writes each point's report itself; --out DIR keeps them"},
    {"--shard", "a sweep runs whole swarms, one at a time"},
    {"--dry-run", "a dry run measures nothing; run 'swarmgen run --dry-run' per size"},
};

/* Any other argument is a run flag, kept word by word in order; after
 * "--" every remaining word is. */
static void run_flag(void *ctx, int argc, char **argv, int *i)
{
    struct sweep *c = ctx;
    if (strcmp(argv[*i], "--") == 0) {
        for (int j = *i + 1; j < argc; j++)
            c->run_argv[c->run_argc++] = argv[j];
        *i = argc;
    } else {
        c->run_argv[c->run_argc++] = argv[*i];
    }
}

static const struct cli_flag sweep_flags[] = {
    {"--agents", "LIST", "agent counts, comma-separated, 2..131070 each (e.g. 10,100,1000)",
     set_agents},
    {"--rate", "LIST", "message rates (msgs/s), comma-separated (e.g. 1000,5000,20000)", set_rate},
    {"--topology", "SPEC",
     "every point's topology (default kmesh:k=auto: k = ceil(2 ln N)\n"
     "for each agent count)",
     set_topology},
    {"--out", "DIR",
     "write sweep.json, sweep.csv, sweep.html and keep every point's\n"
     "report (pointN-....json) in DIR",
     set_out},
    {"--json", "FILE", "write the rows as JSON (see docs/sweep.md)", set_json},
    {"--csv", "FILE", "write the rows as CSV", set_csv},
    {"--html", "FILE", "write the table and its charts as one HTML page", set_html},
    {"--quiet", NULL, NULL, set_quiet},
};

static const struct cli_cmd sweep_cmd = {
    .name = "sweep",
    .head = "usage: swarmgen sweep --agents LIST [--rate LIST] [--topology SPEC] [--out DIR]\n"
            "                      [--json FILE] [--csv FILE] [--html FILE] [run flags] [-- run "
            "flags]\n"
            "  runs one swarm per point, one after the other (the cross product of --agents and\n"
            "  --rate; either list alone with the other from the run flags) and prints one row\n"
            "  each: connections, set-up time and rate, memory, latency, delivery, cycles/msg\n",
    .tail =
        "  run flags           every other flag (and everything after --) goes to each\n"
        "                      'swarmgen run' unchanged (--duration, --traffic, --dtls,\n"
        "                      --cores, --seed, --hugepages ...). Not allowed: --report,\n"
        "                      --shard, --dry-run\n"
        "Exit 0 when every point succeeded, 1 when some failed (their rows say why), 2 for bad\n"
        "usage, 130 when interrupted.\n",
    .column = 22,
    .flag = sweep_flags,
    .n_flags = sizeof(sweep_flags) / sizeof(sweep_flags[0]),
    .other = run_flag,
};

static void parse(struct sweep *c, int argc, char **argv)
{
    memset(c, 0, sizeof(*c));
    c->topology = "kmesh:k=auto";
    c->run_argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!c->run_argv)
        cli_fail("sweep", "out of memory");
    c->run_argv[c->run_argc++] = "run";
    cli_parse(&sweep_cmd, argc, argv, c);
    for (int i = 1; i < c->run_argc; i++)
        for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
            if (cli_is(c->run_argv[i], refused[k][0]))
                cli_fail(refused[k][0], "not with 'swarmgen sweep': %s", refused[k][1]);
    for (int i = 1; i < c->run_argc; i++)
        if (cli_is(c->run_argv[i], "--agents") || cli_is(c->run_argv[i], "--rate") ||
            cli_is(c->run_argv[i], "--topology"))
            cli_fail(c->run_argv[i], "give it to sweep, before any --");
    if (!c->n_agents && !c->n_rates)
        cli_fail("--agents", "required: a list (e.g. 10,100,1000), or --rate LIST");
    /* the run flags are checked now, as 'swarmgen run' would (exit 2),
     * with the first point's values */
    char **check = calloc((size_t)c->run_argc + 8, sizeof(char *));
    if (!check)
        cli_fail("sweep", "out of memory");
    memcpy(check, c->run_argv, (size_t)c->run_argc * sizeof(char *));
    int n = c->run_argc;
    char a[24], r[24];
    if (c->n_agents) {
        snprintf(a, sizeof(a), "%llu", (unsigned long long)c->agents[0]);
        check[n++] = "--agents";
        check[n++] = a;
    }
    if (c->n_rates) {
        snprintf(r, sizeof(r), "%llu", (unsigned long long)c->rates[0]);
        check[n++] = "--rate";
        check[n++] = r;
    }
    check[n++] = "--topology";
    check[n++] = (char *)c->topology;
    struct ctl_run_opts o;
    ctl_run_opts_parse(&o, n, check);
    if (!c->n_agents) {
        c->agents[0] = o.agents; /* the run's --agents default */
        c->n_agents = 1;
    }
    free(check);
}

static char *joined(char **v, int from, int to)
{
    size_t len = 1;
    for (int i = from; i < to; i++)
        len += strlen(v[i]) + 1;
    char *s = calloc(1, len);
    for (int i = from; s && i < to; i++) {
        if (i > from)
            strcat(s, " ");
        strcat(s, v[i]);
    }
    return s;
}

static void one_point(struct sweep *c, uint32_t idx, struct ctl_sweep_point *p)
{
    p->exit_code = -1;
    if (p->rate)
        snprintf(p->report, sizeof(p->report), "point%u-agents%u-rate%llu.json", idx, p->agents,
                 (unsigned long long)p->rate);
    else
        snprintf(p->report, sizeof(p->report), "point%u-agents%u.json", idx, p->agents);
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", c->dir, p->report);
    unlink(path);
    char **argv = calloc((size_t)c->run_argc + 16, sizeof(char *));
    if (!argv) {
        snprintf(p->error, sizeof(p->error), "out of memory");
        return;
    }
    char a[24], r[24];
    int n = 0;
    argv[n++] = "swarmgen";
    for (int i = 0; i < c->run_argc; i++)
        argv[n++] = c->run_argv[i];
    snprintf(a, sizeof(a), "%u", p->agents);
    argv[n++] = "--agents";
    argv[n++] = a;
    if (p->rate) {
        snprintf(r, sizeof(r), "%llu", (unsigned long long)p->rate);
        argv[n++] = "--rate";
        argv[n++] = r;
    }
    argv[n++] = "--topology";
    argv[n++] = (char *)c->topology;
    argv[n++] = "--report";
    argv[n++] = path;
    argv[n++] = "--quiet";
    argv[n] = NULL;
    bool ran = ctl_child_run_ok(argv, &p->exit_code, p->error, sizeof(p->error));
    free(argv);
    if (!ran)
        return;
    char *text = NULL, err[160];
    if (jr_read_file(path, 256u << 20, &text, NULL) < 0)
        snprintf(p->error, sizeof(p->error), "exit 0 but no report");
    else if (ctl_sweep_point_read(text, p, err, sizeof(err)) < 0)
        snprintf(p->error, sizeof(p->error), "%s", err);
    else
        p->ok = true;
    free(text);
}

static void point_line(const struct ctl_sweep_point *p, uint32_t done, uint32_t total)
{
    if (p->ok)
        fprintf(stderr,
                "swarmgen sweep: [%u/%u] %u agents, %s: %llu/%llu connections up in %.3f s, "
                "p99 %.1f us, delivered %llu/%llu\n",
                done, total, p->agents, p->topology, (unsigned long long)p->conn_up,
                (unsigned long long)p->conn_total, p->setup_s, p->p99_us,
                (unsigned long long)p->delivered, (unsigned long long)p->sent);
    else
        fprintf(stderr, "swarmgen sweep: [%u/%u] %u agents FAILED: %s\n", done, total, p->agents,
                p->error);
}

/* Removes the temporary directory (not an --out one) and its reports. */
static void remove_dir(const struct sweep *c, const struct ctl_sweep_point *p, size_t n)
{
    if (c->out_dir)
        return;
    char path[400];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", c->dir, p[i].report);
        unlink(path);
    }
    rmdir(c->dir);
}

static int write_out(const char *flag, const char *path, int rc)
{
    if (rc >= 0)
        return 0;
    fprintf(stderr, "swarmgen: %s: %s: %s\n", flag, path, strerror(-rc));
    return 1;
}

int ctl_sweep_main(int argc, char **argv)
{
    struct sweep *c = calloc(1, sizeof(*c));
    if (!c)
        cli_fail("sweep", "out of memory");
    parse(c, argc, argv);
    if (c->out_dir) {
        if (mkdir(c->out_dir, 0755) < 0 && errno != EEXIST)
            cli_fail("--out", "%s: %s", c->out_dir, strerror(errno));
        snprintf(c->dir, sizeof(c->dir), "%s", c->out_dir);
    } else {
        snprintf(c->dir, sizeof(c->dir), "/tmp/swarmgen-sweep-XXXXXX");
        if (!mkdtemp(c->dir)) {
            fprintf(stderr, "swarmgen: sweep: cannot make a temporary directory: %s\n",
                    strerror(errno));
            return 1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    uint32_t n_rates = c->n_rates ? (uint32_t)c->n_rates : 1;
    uint32_t total = (uint32_t)c->n_agents * n_rates, done = 0;
    struct ctl_sweep_point *p = calloc(total, sizeof(*p));
    if (!p)
        cli_fail("sweep", "out of memory");
    for (int a = 0; a < c->n_agents && !stop_requested; a++)
        for (uint32_t r = 0; r < n_rates && !stop_requested; r++) {
            struct ctl_sweep_point *x = &p[done];
            x->agents = (uint32_t)c->agents[a];
            x->rate = c->n_rates ? c->rates[r] : 0;
            one_point(c, done + 1, x);
            if (stop_requested || x->exit_code == 130) {
                stop_requested = stop_requested ? stop_requested : SIGINT;
                break; /* an interrupted run is not a point */
            }
            done++;
            point_line(x, done, total);
        }
    char *flags = joined(c->run_argv, 1, c->run_argc);
    char *with_topo = calloc(1, (flags ? strlen(flags) : 0) + strlen(c->topology) + 16);
    if (with_topo)
        sprintf(with_topo, "--topology %s%s%s", c->topology, flags && *flags ? " " : "",
                flags ? flags : "");
    const char *shown = with_topo ? with_topo : "";
    if (stop_requested)
        printf("swarmgen sweep: interrupted after %u of %u points\n", done, total);
    printf("swarmgen sweep: %s\n", shown);
    ctl_sweep_print(stdout, p, done);
    int status = 0;
    for (uint32_t i = 0; i < done; i++)
        if (!p[i].ok)
            status = 1;
    char path[300];
    if (c->out_dir) {
        snprintf(path, sizeof(path), "%s/sweep.json", c->out_dir);
        status |= write_out("--out", path, ctl_sweep_json(path, shown, p, done));
        snprintf(path, sizeof(path), "%s/sweep.csv", c->out_dir);
        status |= write_out("--out", path, ctl_sweep_csv(path, p, done));
        snprintf(path, sizeof(path), "%s/sweep.html", c->out_dir);
        status |= write_out("--out", path, ctl_sweep_html(path, shown, p, done));
    }
    if (c->json_path)
        status |= write_out("--json", c->json_path, ctl_sweep_json(c->json_path, shown, p, done));
    if (c->csv_path)
        status |= write_out("--csv", c->csv_path, ctl_sweep_csv(c->csv_path, p, done));
    if (c->html_path)
        status |= write_out("--html", c->html_path, ctl_sweep_html(c->html_path, shown, p, done));
    remove_dir(c, p, total);
    free(p);
    free(flags);
    free(with_topo);
    free(c->run_argv);
    free(c);
    return stop_requested ? 130 : status;
}
