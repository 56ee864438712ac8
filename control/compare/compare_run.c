/* SPDX-License-Identifier: MIT */
/*
 * compare_run: the `swarmgen compare` command — its flags, the machine
 * probe and the repetitions, each a child `swarmgen run` (this binary,
 * /proc/self/exe) with a two-phase scenario file, its report and time
 * series in a temporary directory. The figures are computed by compare.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "child.h"
#include "cli.h"
#include "compare.h"
#include "json_read.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = sig;
    /* Ctrl-C reaches the child through the terminal's process group; a
     * SIGTERM sent to compare alone is passed on */
    if (sig == SIGTERM && ctl_child_pid > 0)
        kill(ctl_child_pid, SIGTERM);
}

struct cmp {
    uint8_t backends[CTL_CMP_BACKENDS];
    uint32_t n_backends, reps;
    uint64_t warmup_ns;
    const char *json_path, *keep_dir, *dp_path;
    char **run_argv; /* the run flags, in order (--dp left out) */
    int run_argc;
    char dir[256]; /* where the runs' files go */
    char profile[300];
    uint32_t measure; /* index of the measured phase */
    struct ctl_run_opts o;
    struct ctl_compare_machine m;
};

/* Flags compare sets itself for every run. */
static const char *const refused[][2] = {
    {"--report", "compare writes each run's report itself; use --json FILE for the comparison"},
    {"--csv", "compare reads each run's time series itself; --keep DIR keeps them"},
    {"--html", "not with compare; run one backend with 'swarmgen run --html'"},
    {"--profile", "compare runs a warm-up phase and a measured phase (--warmup, --duration)"},
    {"--backend", "use --backends LIST"},
    {"--sla", "a breach would fail the run; compare reports the figures (judge them with 'swarmgen "
              "run --sla')"},
    {"--abort-on-fail", "a breach would cut the measured phase short"},
};

static struct cmp *cmp_of(void *ctx)
{
    return ctx;
}

static void set_backends(void *ctx, const char *s)
{
    int n = ctl_compare_backends_parse(s, cmp_of(ctx)->backends);
    if (n < 0)
        cli_fail("--backends", "'%s' is not a list of distinct backends of dpdk, uring, usrsctp",
                 s);
    cmp_of(ctx)->n_backends = (uint32_t)n;
}

static void set_reps(void *ctx, const char *s)
{
    cmp_of(ctx)->reps = (uint32_t)cli_count("--reps", s, 1, CTL_CMP_MAX_REPS, "a repetition count");
}

static void set_warmup(void *ctx, const char *s)
{
    uint64_t *ns = &cmp_of(ctx)->warmup_ns;
    if (cli_parse_duration(s, 0, 3600ull * 1000000000ull, ns) < 0 || (*ns && *ns < 100000000ull))
        cli_fail("--warmup", "'%s' is not 0 or a duration of 100ms..1h (e.g. 2s)", s);
}

static void set_json(void *ctx, const char *s)
{
    cmp_of(ctx)->json_path = cli_file("--json", s);
}

static void set_keep(void *ctx, const char *s)
{
    if (!*s || strlen(s) > 200)
        cli_fail("--keep", "expected a directory name of 1..200 characters");
    cmp_of(ctx)->keep_dir = s;
}

static void set_dp(void *ctx, const char *s)
{
    cmp_of(ctx)->dp_path = s;
}

static void set_quiet(void *ctx, const char *s)
{
    /* every run is quiet already */
}

/* Any other argument: a flag compare sets itself is refused; the rest are
 * run flags, kept word by word in order (a value too: the run's parser
 * decides which words are values). */
static void run_flag(void *ctx, int argc, char **argv, int *i)
{
    struct cmp *c = ctx;
    for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
        if (cli_is(argv[*i], refused[k][0]))
            cli_fail(refused[k][0], "not with 'swarmgen compare': %s", refused[k][1]);
    c->run_argv[c->run_argc++] = argv[*i];
}

static const struct cli_flag compare_flags[] = {
    {"--backends", "LIST", "comma-separated, of dpdk, uring, usrsctp (default all three)",
     set_backends},
    {"--reps", "N", "repetitions per backend, 1..50 (default 3)", set_reps},
    {"--warmup", "D",
     "load before the measured time, excluded from the figures:\n"
     "0 or 100ms..1h (default 2s)",
     set_warmup},
    {"--json", "FILE", "write {\"machine\", \"workload\", \"rows\"} (see docs/compare.md)",
     set_json},
    {"--keep", "DIR", "keep every run's report, time series and scenario in DIR", set_keep},
    {"--dp", "PATH", NULL, set_dp}, /* a run flag, but not for the usrsctp runs (one_run) */
    {"--quiet", NULL, NULL, set_quiet},
};

static const struct cli_cmd compare_cmd = {
    .name = "compare",
    .head = "usage: swarmgen compare [--backends LIST] [--reps N] [--warmup D] [--json FILE] "
            "[--keep DIR]\n"
            "                        [run flags]\n"
            "  runs the same workload on each backend, pinned to the same cores, the repetitions\n"
            "  interleaved (rep 1: dpdk, uring, usrsctp; rep 2: ...), and prints one table: the\n"
            "  median of each metric over the repetitions, its ratio to dpdk and the spread\n",
    .tail =
        "  run flags           every other flag goes to each 'swarmgen run' unchanged\n"
        "                      (--agents, --topology, --traffic, --rate, --duration: the\n"
        "                      measured time, --cores, --seed ...); --dp is given to the dpdk\n"
        "                      and uring runs only. Not allowed: --report, --csv, --html,\n"
        "                      --profile, --backend (compare sets them), --sla, --abort-on-fail.\n"
        "                      With usrsctp among the backends and no --dtls, every run gets\n"
        "                      --dtls 1.2 (usrsctp's mbedTLS speaks 1.2 only)\n"
        "Exit 0 when every run succeeded, 1 when some failed (the table shows which), 2 for bad\n"
        "usage, 130 when interrupted.\n",
    .column = 22,
    .flag = compare_flags,
    .n_flags = sizeof(compare_flags) / sizeof(compare_flags[0]),
    .other = run_flag,
};

static void parse(struct cmp *c, int argc, char **argv)
{
    memset(c, 0, sizeof(*c));
    c->reps = 3;
    c->warmup_ns = 2000000000ull;
    c->n_backends = (uint32_t)ctl_compare_backends_parse("dpdk,uring,usrsctp", c->backends);
    c->run_argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!c->run_argv)
        cli_fail("compare", "out of memory");
    c->run_argv[c->run_argc++] = "run";
    cli_parse(&compare_cmd, argc, argv, c);
    /* the run flags are checked now, as 'swarmgen run' would (exit 2) */
    char **check = calloc((size_t)c->run_argc + 3, sizeof(char *));
    if (!check)
        cli_fail("compare", "out of memory");
    memcpy(check, c->run_argv, (size_t)c->run_argc * sizeof(char *));
    int n = c->run_argc;
    if (c->dp_path) {
        check[n++] = "--dp";
        check[n++] = (char *)c->dp_path;
    }
    ctl_run_opts_parse(&c->o, n, check);
    free(check);
    if (c->o.duration_ns < 100000000ull)
        cli_fail("--duration", "compare measures at least 100ms");
}

/* Whether every run gets --dtls 1.2: with the usrsctp backend (its
 * mbedTLS 2.28 speaks DTLS 1.2 only) and no --dtls given, the others would
 * negotiate 1.3 (run's default, auto) and the handshakes compared would
 * not be the same. */
static bool same_dtls(const struct cmp *c)
{
    bool usrsctp = false;
    for (uint32_t b = 0; b < c->n_backends; b++)
        usrsctp |= c->backends[b] == RI_BACKEND_USRSCTP;
    return usrsctp && c->o.traffic == RI_TRAFFIC_DC && !c->o.dtls_versions;
}

/* Reads the TSC rate against CLOCK_MONOTONIC_RAW over 100 ms (the workers
 * count busy cycles in TSC ticks). 0 where there is no TSC. */
static double tsc_hz(void)
{
#if defined(__x86_64__) || defined(__i386__)
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC_RAW, &a);
    uint64_t t0 = __rdtsc();
    struct timespec nap = {0, 100000000};
    while (nanosleep(&nap, &nap) < 0 && errno == EINTR)
        ;
    uint64_t t1 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC_RAW, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    return s > 0 ? (double)(t1 - t0) / s : 0;
#else
    return 0;
#endif
}

static void probe_machine(struct cmp *c)
{
    struct ctl_compare_machine *m = &c->m;
    snprintf(m->cpu, sizeof(m->cpu), "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *colon = strchr(line, ':');
        if (!colon)
            continue;
        colon++;
        while (*colon == ' ' || *colon == '\t')
            colon++;
        snprintf(m->cpu, sizeof(m->cpu), "%s", colon);
        m->cpu[strcspn(m->cpu, "\n")] = '\0';
        break;
    }
    if (f)
        fclose(f);
    long on = sysconf(_SC_NPROCESSORS_ONLN);
    m->cpus_online = on > 0 ? (uint32_t)on : 0;
    snprintf(m->cores, sizeof(m->cores), "%s", c->o.cores_text);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof(m->kernel), "%.40s %.80s %.30s", u.sysname, u.release,
                 u.machine);
    else
        snprintf(m->kernel, sizeof(m->kernel), "unknown kernel");
    m->tsc_hz = tsc_hz();
}

static int write_profile(struct cmp *c)
{
    snprintf(c->profile, sizeof(c->profile), "%s/compare-profile.yaml", c->dir);
    FILE *f = fopen(c->profile, "w");
    if (!f)
        return -errno;
    fprintf(
        f,
        "# swarmgen compare: the warm-up is excluded from the figures\nname: compare\nphases:\n");
    if (c->warmup_ns)
        fprintf(f, "  - name: warmup\n    duration: %lluus\n",
                (unsigned long long)(c->warmup_ns / 1000));
    fprintf(f, "  - name: measure\n    duration: %lluus\n",
            (unsigned long long)(c->o.duration_ns / 1000));
    c->measure = c->warmup_ns ? 1 : 0;
    return fclose(f) == 0 ? 0 : -EIO;
}

/* A run's report or time series (NULL when it cannot be read). */
static char *slurp(const char *path)
{
    char *text;
    return jr_read_file(path, 256u << 20, &text, NULL) == 0 ? text : NULL;
}

/* True unless the report names another backend than `name` (as written by
 * control/report/report_json.c: "backend": "uring"). */
static bool report_is_of(const char *report, const char *name)
{
    char want[48];
    snprintf(want, sizeof(want), "\"backend\": \"%s\"", name);
    return !strstr(report, "\"backend\":") || strstr(report, want);
}

static void one_run(struct cmp *c, uint8_t backend, uint32_t rep, struct ctl_compare_sample *s)
{
    memset(s, 0, sizeof(*s));
    for (int m = 0; m < CTL_CMP_N; m++)
        s->v[m] = NAN;
    s->backend = backend;
    s->rep = rep;
    s->exit_code = -1;
    const char *name = ctl_compare_backend_name(backend);
    char report[320], csv[320];
    snprintf(report, sizeof(report), "%s/rep%u-%s.json", c->dir, rep, name);
    snprintf(csv, sizeof(csv), "%s/rep%u-%s.csv", c->dir, rep, name);
    unlink(report);
    unlink(csv);
    char **argv = calloc((size_t)c->run_argc + 16, sizeof(char *));
    if (!argv) {
        snprintf(s->error, sizeof(s->error), "out of memory");
        return;
    }
    int n = 0;
    argv[n++] = "swarmgen";
    for (int i = 0; i < c->run_argc; i++)
        argv[n++] = c->run_argv[i];
    if (c->dp_path && backend != RI_BACKEND_USRSCTP) {
        argv[n++] = "--dp";
        argv[n++] = (char *)c->dp_path;
    }
    if (same_dtls(c)) {
        argv[n++] = "--dtls";
        argv[n++] = "1.2";
    }
    argv[n++] = "--backend";
    argv[n++] = (char *)name;
    argv[n++] = "--profile";
    argv[n++] = c->profile;
    argv[n++] = "--report";
    argv[n++] = report;
    argv[n++] = "--csv";
    argv[n++] = csv;
    argv[n++] = "--quiet";
    argv[n] = NULL;
    bool ran = ctl_child_run_ok(argv, &s->exit_code, s->error, sizeof(s->error));
    free(argv);
    if (!ran)
        return;
    char *rj = slurp(report), *rc_csv = slurp(csv);
    char err[160];
    if (!rj || !rc_csv)
        snprintf(s->error, sizeof(s->error), "exit 0 but no %s", !rj ? "report" : "time series");
    else if (!report_is_of(rj, name))
        snprintf(s->error, sizeof(s->error),
                 "the report is not of backend %s (does this swarmgen run know --backend?)", name);
    else if (ctl_compare_sample_read(rj, rc_csv, c->measure, "measure", c->m.tsc_hz, s, err,
                                     sizeof(err)) < 0)
        snprintf(s->error, sizeof(s->error), "%s", err);
    else
        s->ok = true;
    free(rj);
    free(rc_csv);
}

static void run_line(const struct ctl_compare_sample *s, uint32_t done, uint32_t total,
                     uint32_t reps)
{
    if (s->ok)
        fprintf(stderr,
                "swarmgen compare: [%u/%u] rep %u/%u %-7s %10.0f msg/s %10.0f pkt/s  p50 %.1f us  "
                "p99 %.1f us\n",
                done, total, s->rep, reps, ctl_compare_backend_name(s->backend),
                s->v[CTL_CMP_MSGS_PER_S], s->v[CTL_CMP_PPS], s->v[CTL_CMP_P50_US],
                s->v[CTL_CMP_P99_US]);
    else
        fprintf(stderr, "swarmgen compare: [%u/%u] rep %u/%u %-7s FAILED: %s\n", done, total,
                s->rep, reps, ctl_compare_backend_name(s->backend), s->error);
}

static void remove_dir(const struct cmp *c)
{
    if (c->keep_dir)
        return;
    char path[320];
    for (uint32_t r = 1; r <= c->reps; r++)
        for (uint32_t b = 0; b < c->n_backends; b++) {
            const char *name = ctl_compare_backend_name(c->backends[b]);
            snprintf(path, sizeof(path), "%s/rep%u-%s.json", c->dir, r, name);
            unlink(path);
            snprintf(path, sizeof(path), "%s/rep%u-%s.csv", c->dir, r, name);
            unlink(path);
        }
    unlink(c->profile);
    rmdir(c->dir);
}

int ctl_compare_main(int argc, char **argv)
{
    struct cmp *c = calloc(1, sizeof(*c));
    if (!c)
        cli_fail("compare", "out of memory");
    parse(c, argc, argv);
    size_t flen = 1;
    for (int i = 1; i < c->run_argc; i++)
        flen += strlen(c->run_argv[i]) + 1;
    char *flags = calloc(1, flen);
    for (int i = 1; flags && i < c->run_argc; i++) {
        if (i > 1)
            strcat(flags, " ");
        strcat(flags, c->run_argv[i]);
    }
    if (c->keep_dir) {
        if (mkdir(c->keep_dir, 0755) < 0 && errno != EEXIST)
            cli_fail("--keep", "%s: %s", c->keep_dir, strerror(errno));
        snprintf(c->dir, sizeof(c->dir), "%s", c->keep_dir);
    } else {
        snprintf(c->dir, sizeof(c->dir), "/tmp/swarmgen-compare-XXXXXX");
        if (!mkdtemp(c->dir)) {
            fprintf(stderr, "swarmgen: compare: cannot make a temporary directory: %s\n",
                    strerror(errno));
            return 1;
        }
    }
    if (write_profile(c) < 0) {
        fprintf(stderr, "swarmgen: compare: cannot write %s: %s\n", c->profile, strerror(errno));
        remove_dir(c);
        return 1;
    }
    probe_machine(c);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    uint32_t total = c->reps * c->n_backends, done = 0;
    struct ctl_compare_sample *s = calloc(total, sizeof(*s));
    if (!s)
        cli_fail("compare", "out of memory");
    for (uint32_t r = 1; r <= c->reps && !stop_requested; r++)
        for (uint32_t b = 0; b < c->n_backends && !stop_requested; b++) {
            one_run(c, c->backends[b], r, &s[done]);
            if (stop_requested || s[done].exit_code == 130) {
                stop_requested = stop_requested ? stop_requested : SIGINT;
                /* an interrupted run is not a measurement */
                break;
            }
            done++;
            run_line(&s[done - 1], done, total, c->reps);
        }

    struct ctl_compare_row rows[CTL_CMP_BACKENDS];
    ctl_compare_rows(s, done, c->backends, c->n_backends, rows);
    struct ctl_compare_workload w = {
        .o = &c->o,
        .run_flags = flags,
        .warmup_ns = c->warmup_ns,
        .measure_ns = c->o.duration_ns,
        .reps = c->reps,
        .backends = c->backends,
        .n_backends = c->n_backends,
    };
    if (stop_requested)
        printf("swarmgen compare: interrupted after %u of %u runs\n", done, total);
    ctl_compare_print(stdout, &c->m, &w, rows, c->n_backends);
    int status = 0;
    for (uint32_t b = 0; b < c->n_backends; b++)
        if (rows[b].runs_failed)
            status = 1;
    if (c->json_path) {
        int rc = ctl_compare_json(c->json_path, &c->m, &w, rows, c->n_backends, s, done);
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --json: %s: %s\n", c->json_path, strerror(-rc));
            status = 1;
        }
    }
    remove_dir(c);
    free(s);
    free(flags);
    free(c->run_argv);
    free(c);
    return stop_requested ? 130 : status;
}
