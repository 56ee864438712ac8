/* SPDX-License-Identifier: MIT */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "connect.h"
#include "dp_launch.h"
#include "external.h"
#include "judge.h"
#include "netem_opts.h"
#include "profile.h"
#include "prom.h"
#include "sla.h"
#include "timeseries.h"
#include "met_stats.h"
#include "report.h"
#include "report_html.h"
#include "image.h"
#include "rng.h"
#include "route.h"
#include "run_opts.h"
#include "topo.h"
#include "topo_analysis.h"
#include "traffic_opts.h"

#define IP_BASE 0xc6120000u /* 198.18.0.0 */
#define READY_TIMEOUT_NS (120ull * 1000000000ull)
#define SEC_NS 1000000000ull
#define SNAP_TIMEOUT_NS 200000000ull

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}


/* `path` made absolute against the working directory (the dataplane writes
 * the file), into out. Returns 0 or -ENAMETOOLONG. */
static int absolute_path(const char *path, char *out, size_t len)
{
    char cwd[200] = "";
    if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    int n = snprintf(out, len, "%s%s%s", cwd, cwd[0] ? "/" : "", path);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Fills every read-only section of the image from the graph. */
static int fill_image(struct ctl_image *img, const struct ctl_graph *g, const struct ctl_run_opts *o,
                      uint32_t n_dests, double *routing_s, char *err, size_t errlen)
{
    struct ri_header *h = img->hdr;
    uint32_t n = g->n, w = o->n_cores;
    struct ri_agent *ag = ri_section(h, RI_SEC_AGENTS);
    for (uint32_t i = 0; i < n; i++) {
        ag[i].ip = IP_BASE + 1 + i;
        ag[i].worker = (uint16_t)(i % w);
        ag[i].degree = (uint16_t)(g->off[i + 1] - g->off[i]);
    }
    memcpy(ri_section(h, RI_SEC_ADJ_OFF), g->off, (n + 1) * sizeof(uint32_t));
    memcpy(ri_section(h, RI_SEC_ADJ), g->adj, 2 * g->n_edges * sizeof(uint32_t));
    memcpy(ri_section(h, RI_SEC_ADJ_EDGE), g->edge, 2 * g->n_edges * sizeof(uint32_t));
    struct ri_edge *ed = ri_section(h, RI_SEC_EDGES);
    for (uint64_t e = 0; e < g->n_edges; e++) {
        ed[e].a = g->ends[e][0];
        ed[e].b = g->ends[e][1];
        ed[e].port_a = ctl_edge_port(e, 0);
        ed[e].port_b = ctl_edge_port(e, 1);
        ed[e].worker = (uint16_t)(e % w);
        ed[e].netem_class = o->n_netem > 1 ? ctl_netem_class_of(o->netem, o->n_netem, o->seed, e) : 0;
    }
    uint32_t *dests = ri_section(h, RI_SEC_DESTS);
    int32_t *dindex = ri_section(h, RI_SEC_DEST_INDEX);
    for (uint32_t i = 0; i < n; i++)
        dindex[i] = -1;
    if (n_dests == n) {
        for (uint32_t i = 0; i < n; i++)
            dests[i] = i, dindex[i] = (int32_t)i;
    } else if (n_dests > 0) {
        /* a seeded sample of distinct destinations (partial Fisher-Yates) */
        uint32_t *perm = malloc(n * sizeof(uint32_t));
        if (!perm) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < n; i++)
            perm[i] = i;
        uint64_t s = o->seed ^ 0xd1b54a32d192ed03ull;
        for (uint32_t i = 0; i < n_dests; i++) {
            uint32_t j = i + (uint32_t)(ctl_splitmix64(&s) % (n - i));
            uint32_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            dests[i] = perm[i];
            dindex[perm[i]] = (int32_t)i;
        }
        free(perm);
    }
    if (n_dests > 0) {
        uint64_t t0 = mono_ns();
        int rc = ctl_route_build(g, dests, n_dests, o->threads, ri_section(h, RI_SEC_ROUTES));
        *routing_s = (double)(mono_ns() - t0) / 1e9;
        if (rc < 0) {
            snprintf(err, errlen, rc == -E2BIG ? "an agent has more than 65534 neighbours; routing tables hold 16-bit slots"
                                                : "routing table build failed (%d)", rc);
            return rc;
        }
    }
    return 0;
}

/* Waits for the dataplane to leave STARTING. Returns 0 when READY, 1 when
 * interrupted, -1 on failure (message printed). */
static int wait_ready(struct ctl_dp *dp, struct ri_command *cmd)
{
    uint64_t deadline = mono_ns() + READY_TIMEOUT_NS;
    for (;;) {
        uint32_t st = ri_load(&cmd->dp_state);
        if (st == RI_DP_READY)
            return 0;
        if (st == RI_DP_FAILED) {
            fprintf(stderr, "swarmgen: dataplane failed to start: %s\n", cmd->dp_message);
            return -1;
        }
        if (ctl_dp_poll(dp)) {
            char why[128];
            ctl_dp_describe_exit(dp, why, sizeof(why));
            fprintf(stderr, "swarmgen: dataplane %s before it was ready%s%s\n", why,
                    cmd->dp_message[0] ? ": " : " (see its messages above)", cmd->dp_message);
            return -1;
        }
        if (interrupted)
            return 1;
        if (mono_ns() > deadline) {
            fprintf(stderr, "swarmgen: dataplane not ready after %llu s\n",
                    (unsigned long long)(READY_TIMEOUT_NS / 1000000000ull));
            return -1;
        }
        sleep_ns(5000000);
    }
}

static uint64_t in_flight(const struct ctl_snap *s)
{
    const struct ri_counters *t = &s->total;
    uint64_t done = t->msgs_delivered + t->msgs_dropped;
    return t->msgs_sent > done ? t->msgs_sent - done : 0;
}

/* Resident memory of a process in KiB (0 when unknown). */
static double rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    double v = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %lf kB", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* Everything one run owns; released by run_free(). */
struct run {
    struct ctl_run_opts o;
    struct ctl_profile profile;
    struct ctl_sla sla;
    struct ctl_graph g;
    bool have_graph;
    struct ctl_topo_stats stats;
    bool have_stats;
    struct ctl_image img;
    struct ctl_dp dp;
    struct ctl_run_result r;
    struct ctl_snap snap[4];       /* previous tick, current, phase boundary, generation start */
    struct met_hist *setup_interval; /* connect phase: set-up times of one second */
    uint32_t cur_phase;            /* profile phase running (valid when generating) */
    bool generating;               /* drive() started the profile */
    struct ctl_phase_stats phase[CTL_MAX_PHASES];
    struct ctl_ts ts;
    double *rss;                   /* one sample per ts row */
    size_t rss_cap;
    struct ctl_judgement judge;
    struct ctl_prom prom;
    bool prom_on;
    struct ctl_external ext;       /* --external: the WHIP server and the sessions' figures */
    const char *phase_name;     /* for the Prometheus page */
    double target_rate;
};

static void run_free(struct run *x)
{
    ctl_external_stop(&x->ext);
    if (x->prom_on)
        ctl_prom_stop(&x->prom);
    if (x->have_graph)
        ctl_graph_free(&x->g);
    if (x->have_stats)
        ctl_topo_stats_free(&x->stats);
    ctl_image_destroy(&x->img);
    for (int i = 0; i < 4; i++)
        ctl_snap_free(&x->snap[i]);
    free(x->setup_interval);
    for (int i = 0; i < CTL_MAX_PHASES; i++)
        free(x->phase[i].lat);
    ctl_ts_free(&x->ts);
    free(x->rss);
}

/* Resolves --profile and --sla. Returns 0 or the exit code 2. */
static int load_profile(struct run *x)
{
    const char *name = x->o.profile ? x->o.profile : "constant";
    char err[512];
    if (ctl_profile_preset(name, (double)x->o.rate, x->o.duration_ns, &x->profile) < 0) {
        int rc = ctl_profile_load(name, (double)x->o.rate, &x->profile, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --profile: %s\n", err);
            return 2;
        }
    }
    const char *sla = x->o.sla_text ? x->o.sla_text : x->profile.sla[0] ? x->profile.sla : NULL;
    if (sla && ctl_sla_parse(sla, &x->sla, err, sizeof(err)) < 0) {
        fprintf(stderr, "swarmgen: %s: sla: %s\n", x->profile.name, err);
        return 2;
    }
    return 0;
}

/* Closes phase `p` with the snapshot `now` against the boundary snapshot.
 * The last phase is closed after the drain: what is still in flight then
 * never arrived, and stays the last phase's. */
static void close_phase(struct run *x, uint32_t p, const struct ctl_snap *now,
                        const struct ctl_snap *start, bool last)
{
    struct ctl_phase_stats *ps = &x->phase[p];
    if (!ps->lat)
        ps->lat = calloc(1, sizeof(*ps->lat));
    ps->seen = true;
    ps->in_flight_start = in_flight(start);
    ps->in_flight_end = last ? 0 : in_flight(now);
    ps->seconds = (double)(now->mono_ns - start->mono_ns) / 1e9;
    met_counters_delta(&ps->c, &now->total, &start->total);
    if (ps->lat)
        met_hist_delta(ps->lat, &now->latency, &start->latency);
}

static void progress_prefix(const struct run *x, uint32_t phase, uint64_t t_ns)
{
    const struct ctl_phase *ph = &x->profile.phase[phase];
    uint64_t start = ctl_profile_phase_start(&x->profile, phase);
    double f = ph->duration_ns ? (double)(t_ns - start) / (double)ph->duration_ns : 1;
    if (f > 1)
        f = 1;
    char bar[11];
    int filled = (int)(f * 10 + 0.5);
    for (int i = 0; i < 10; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[10] = '\0';
    double eta = (double)(ctl_profile_duration(&x->profile) - (t_ns < ctl_profile_duration(&x->profile) ? t_ns : ctl_profile_duration(&x->profile))) / 1e9;
    printf("%-10.10s %u/%u [%s] ETA %4.0fs ", ph->name, phase + 1, x->profile.n, bar, eta);
}

/* The merged connection set-up time histogram of `s`, NULL without
 * connections (--traffic udp). */
static const struct met_hist *setup_hist(const struct run *x, const struct ctl_snap *s)
{
    return x->o.traffic == RI_TRAFFIC_DC ? &s->setup[RI_SETUP_TOTAL] : NULL;
}

/* True when the cumulative figures already breach a threshold. */
static bool breached_so_far(struct run *x, const struct ctl_snap *now, double seconds)
{
    if (x->sla.n == 0)
        return false;
    struct ctl_sla_input in;
    ctl_sla_input_from(&now->total, &now->latency, setup_hist(x, now), seconds, &in);
    for (uint32_t i = 0; i < x->sla.n; i++) {
        double v;
        /* delivery/errors/rate need the drain to be fair: judge latency only */
        if (x->sla.rule[i].metric > SLA_MAX && x->sla.rule[i].metric < SLA_SETUP_P50)
            continue;
        if (ctl_sla_value(&x->sla.rule[i], &in, &v) && !ctl_sla_holds(&x->sla.rule[i], v))
            return true;
    }
    return false;
}

/* Appends the time-series row for the interval between two snapshots (it
 * belongs to the phase of its midpoint) with a resident-memory sample. */
static const struct ctl_ts_row *record_row(struct run *x, const struct ctl_snap *cur,
                                           const struct ctl_snap *prev, uint64_t start)
{
    uint64_t mid = (prev->mono_ns + cur->mono_ns) / 2;
    uint32_t phase;
    double rate, agents;
    ctl_profile_at(&x->profile, mid > start ? mid - start : 0, &phase, &rate, &agents);
    if (x->ts.n + 1 > x->rss_cap) {
        size_t cap = x->rss_cap ? x->rss_cap * 2 : 64;
        double *nr = realloc(x->rss, cap * sizeof(double));
        if (!nr)
            return NULL;
        x->rss = nr;
        x->rss_cap = cap;
    }
    const struct ctl_ts_row *row = ctl_ts_add(&x->ts, cur, prev, (double)(cur->mono_ns - start) / 1e9,
                                              phase, rate, ceil(agents * x->o.agents));
    if (row)
        x->rss[x->ts.n - 1] = rss_kib(x->dp.pid) + rss_kib(getpid());
    return row;
}

static void publish_prom(struct run *x, const struct ctl_snap *s, uint32_t phase, double rate,
                         double elapsed)
{
    struct ctl_prom_info info = {
        .tsc_hz = x->r.tsc_hz,
        .agents = x->o.agents,
        .edges = x->stats.edges,
        .connections = x->o.traffic == RI_TRAFFIC_DC,
        .phase = phase == UINT32_MAX ? "connect" : phase < x->profile.n ? x->profile.phase[phase].name : "done",
        .target_rate = rate,
        .elapsed_s = elapsed,
        .external = x->ext.x,
    };
    ctl_prom_publish(&x->prom, s, &info);
}

/* True when the dataplane process ended or declared itself failed. */
static bool dp_dead(struct run *x, const struct ri_command *cmd)
{
    return ctl_dp_poll(&x->dp) || ri_load(&cmd->dp_state) == RI_DP_FAILED;
}

/* The connect phase (--traffic dc): the workers set every peer connection
 * up before any message is generated. Takes a snapshot every 100 ms, prints
 * the progress line once a second (control/connect.h defines its figures)
 * and returns when every connection is up or given up, when --setup-timeout
 * has passed (a line on stderr says how many are not up; the load then
 * starts anyway), on Ctrl-C, or when the dataplane died (returns true). */
static bool connect_phase(struct run *x, struct ri_command *cmd, const struct ri_metrics *blocks,
                          uint64_t n_edges)
{
    struct ctl_snap *tick = &x->snap[0], *cur = &x->snap[1];
    uint64_t start = mono_ns();
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_CONNECT);
    /* the workers are starting: a snapshot request may time out, and the
     * blocks are then read live (all zero until they run) */
    ctl_snap_take(tick, cmd, blocks, false, SNAP_TIMEOUT_NS);
    struct ctl_connect_figures f_tick, f;
    ctl_connect_figures(&tick->total, n_edges, &f_tick);
    f = f_tick;
    uint64_t next_tick = start + SEC_NS, deadline = start + x->o.setup_timeout_ns;
    bool died = false, done = ctl_connect_done(&f);
    while (!done && !interrupted) {
        if (dp_dead(x, cmd)) {
            died = true;
            break;
        }
        sleep_ns(100000000ull);
        ctl_snap_take(cur, cmd, blocks, false, SNAP_TIMEOUT_NS);
        ctl_connect_figures(&cur->total, n_edges, &f);
        done = ctl_connect_done(&f);
        uint64_t now = cur->mono_ns;
        if (now >= next_tick || done) {
            double dt = (double)(now - tick->mono_ns) / 1e9;
            met_hist_delta(x->setup_interval, &cur->setup[RI_SETUP_TOTAL], &tick->setup[RI_SETUP_TOTAL]);
            if (!x->o.quiet)
                ctl_connect_progress(stdout, &f, &f_tick, dt, x->setup_interval);
            if (x->prom_on)
                publish_prom(x, cur, UINT32_MAX, 0, 0);
            struct ctl_snap *t = tick;
            tick = cur;
            cur = t;
            f_tick = f;
            while (next_tick <= now)
                next_tick += SEC_NS;
        }
        if (!done && now >= deadline) {
            x->r.connect_timed_out = true;
            break;
        }
    }
    uint64_t end = mono_ns();
    x->r.connect_s = (double)(end - start) / 1e9;
    x->r.connect_per_s = x->r.connect_s > 0 ? (double)f.up / x->r.connect_s : 0;
    if (x->r.connect_timed_out) {
        char d[32];
        snprintf(d, sizeof(d), "%.1f s", x->o.setup_timeout_ns / 1e9);
        fprintf(stderr, "swarmgen: --setup-timeout %s: %llu of %llu connections not up (%llu in set-up, %llu given up); generating on the %llu that are\n",
                d, (unsigned long long)(f.total > f.up ? f.total - f.up : 0),
                (unsigned long long)f.total, (unsigned long long)f.in_setup,
                (unsigned long long)f.given_up, (unsigned long long)f.up);
    } else if (done && !x->o.quiet) {
        printf("swarmgen: %llu/%llu connections up in %.1f s (%.0f/s), %llu given up\n",
               (unsigned long long)f.up, (unsigned long long)f.total, x->r.connect_s,
               x->r.connect_per_s, (unsigned long long)f.given_up);
    }
    fflush(stdout);
    return died;
}

/* The generation phase: follows the profile, prints progress once a second,
 * records the time series and the phase boundaries, then drains. Returns
 * true when the dataplane died. */
static bool drive(struct run *x, struct ri_command *cmd, const struct ri_metrics *blocks)
{
    struct ctl_snap *prev = &x->snap[0], *cur = &x->snap[1], *bound = &x->snap[2];
    struct ctl_snap *gen_start = &x->snap[3];
    /* udp: the workers wait for RUN, nobody writes the blocks yet, read them
     * live; dc: they run since the connect phase, ask for a snapshot */
    bool workers_idle = x->o.traffic == RI_TRAFFIC_UDP;
    ctl_snap_take(gen_start, cmd, blocks, workers_idle, SNAP_TIMEOUT_NS);
    ctl_snap_copy(prev, gen_start);
    ctl_snap_copy(bound, gen_start);
    x->r.gen_start = gen_start;
    x->generating = true;
    uint64_t total = ctl_profile_duration(&x->profile);
    uint32_t phase;
    double rate, agents;
    ctl_profile_at(&x->profile, 0, &phase, &rate, &agents);
    __atomic_store_n(&cmd->rate_msgs_per_s, (uint64_t)llround(rate), __ATOMIC_RELAXED);
    __atomic_store_n(&cmd->active_agents, (uint64_t)ceil(agents * x->o.agents), __ATOMIC_RELAXED);
    uint64_t start = mono_ns();
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_RUN);
    uint64_t next_tick = start + SEC_NS, end = start + total;
    x->cur_phase = phase;
    bool died = false;
    while (!interrupted) {
        uint64_t now = mono_ns();
        if (now >= end)
            break;
        if (ctl_dp_poll(&x->dp)) {
            died = true;
            break;
        }
        ctl_profile_at(&x->profile, now - start, &phase, &rate, &agents);
        __atomic_store_n(&cmd->rate_msgs_per_s, (uint64_t)llround(rate), __ATOMIC_RELAXED);
        __atomic_store_n(&cmd->active_agents, (uint64_t)ceil(agents * x->o.agents), __ATOMIC_RELAXED);
        if (phase != x->cur_phase) {
            ctl_snap_take(cur, cmd, blocks, false, SNAP_TIMEOUT_NS);
            close_phase(x, x->cur_phase, cur, bound, false);
            struct ctl_snap *t = bound;
            bound = cur;
            cur = t;
            x->cur_phase = phase;
        }
        if (now >= next_tick) {
            ctl_snap_take(cur, cmd, blocks, false, SNAP_TIMEOUT_NS);
            double t_s = (double)(cur->mono_ns - start) / 1e9;
            const struct ctl_ts_row *row = record_row(x, cur, prev, start);
            if (x->prom_on)
                publish_prom(x, cur, phase, rate, t_s);
            if (!x->o.quiet && row) {
                progress_prefix(x, phase, cur->mono_ns - start);
                ctl_report_progress(stdout, row);
            }
            if (x->o.abort_on_fail && breached_so_far(x, cur, t_s)) {
                printf("swarmgen: SLA breached at %.1f s, stopping (--abort-on-fail)\n", t_s);
                x->r.aborted = true;
                struct ctl_snap *t = prev;
                prev = cur;
                cur = t;
                break;
            }
            struct ctl_snap *t = prev;
            prev = cur;
            cur = t;
            next_tick += SEC_NS;
        }
        uint64_t wake = next_tick < end ? next_tick : end;
        now = mono_ns();
        uint64_t nap = wake > now ? wake - now : 0;
        sleep_ns(nap < 20000000ull ? nap : 20000000ull); /* profile updates every 20 ms */
    }
    uint64_t gen_end = mono_ns();
    /* the last, partial second gets its row too */
    if (!died && gen_end - prev->mono_ns > 100000000ull) {
        ctl_snap_take(cur, cmd, blocks, false, SNAP_TIMEOUT_NS);
        record_row(x, cur, prev, start);
        struct ctl_snap *t = prev;
        prev = cur;
        cur = t;
    }
    x->r.duration_s = (double)(gen_end - start) / 1e9;
    x->r.interrupted = interrupted != 0;
    /* drain: no new messages; wait for what is in flight */
    if (!died && !interrupted) {
        ri_store(&cmd->phase, (uint32_t)RI_PHASE_DRAIN);
        uint64_t drain_end = gen_end + x->o.drain_ns;
        while (!interrupted && mono_ns() < drain_end) {
            if (ctl_dp_poll(&x->dp)) {
                died = true;
                break;
            }
            ctl_snap_take(cur, cmd, blocks, false, SNAP_TIMEOUT_NS);
            if (in_flight(cur) == 0)
                break;
            sleep_ns(10000000ull);
        }
    }
    x->r.drain_s = (double)(mono_ns() - gen_end) / 1e9;
    /* the boundary snapshot of the running phase, for finish() */
    if (bound != &x->snap[2])
        ctl_snap_copy(&x->snap[2], bound);
    return died;
}

/* Stops the workers, reaps the dataplane and takes the final figures (the
 * live counters: nobody writes them any more); closes the running phase
 * when generation began. */
static void finish(struct run *x, struct ri_command *cmd, const struct ri_metrics *blocks)
{
    x->r.interrupted = interrupted != 0;
    ctl_external_stop(&x->ext); /* no new external sessions once the workers stop */
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_STOP);
    ctl_dp_reap(&x->dp, 10000);
    struct ctl_snap *fin = &x->snap[1];
    ctl_snap_take(fin, cmd, blocks, true, 0);
    if (x->generating)
        close_phase(x, x->cur_phase, fin, &x->snap[2], true);
    x->r.final = fin;
    if (x->prom_on)
        publish_prom(x, fin, x->profile.n, 0, x->r.duration_s);
}

static int run_main(struct run *x, int argc, char **argv)
{
    struct ctl_run_opts *o = &x->o;
    struct ctl_run_result *r = &x->r;
    ctl_run_opts_parse(o, argc, argv);
    if (load_profile(x))
        return 2;

    struct ctl_topo_spec spec;
    char err[256];
    ctl_topo_spec_parse(o->topology, &spec, err, sizeof(err)); /* validated by the parser */
    r->opts = o;
    r->profile = &x->profile;
    r->sla = &x->sla;
    r->judge = &x->judge;
    r->phase = x->phase;
    r->ts = &x->ts;
    ctl_topo_spec_format(&spec, r->topology, sizeof(r->topology));

    uint64_t t0 = mono_ns();
    int rc = ctl_topo_build(&spec, o->agents, o->seed, &x->g, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: --topology: %s\n", rc == -EINVAL ? err : "out of memory");
        return rc == -EINVAL ? 2 : 1;
    }
    x->have_graph = true;
    r->build_s = (double)(mono_ns() - t0) / 1e9;
    for (uint32_t i = 0; i < x->g.n; i++) {
        if (x->g.off[i + 1] - x->g.off[i] > 65534) {
            fprintf(stderr, "swarmgen: --topology: agent %u has %u neighbours; the dataplane supports at most 65534\n",
                    i, x->g.off[i + 1] - x->g.off[i]);
            return 2;
        }
    }
    t0 = mono_ns();
    rc = ctl_topo_analyze(&x->g, 20000, 256, o->seed, o->threads, &x->stats);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topology analysis failed: %s\n", strerror(-rc));
        return 1;
    }
    x->have_stats = true;
    r->analysis_s = (double)(mono_ns() - t0) / 1e9;
    r->topo = &x->stats;

    uint32_t n_dests = 0;
    if (o->pattern == RI_PATTERN_ROUTED) {
        n_dests = ctl_route_max_dests(o->agents, o->route_mem);
        if (n_dests == 0) {
            fprintf(stderr, "swarmgen: --route-mem: %llu bytes cannot hold one routing column for %u agents\n",
                    (unsigned long long)o->route_mem, o->agents);
            return 2;
        }
        /* routed:M: a seeded sample of M destinations (fill_image draws it) */
        if (o->route_sample && o->route_sample < n_dests)
            n_dests = o->route_sample;
    }
    r->n_dests = n_dests;

    struct ri_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.n_agents = o->agents;
    cfg.n_workers = o->n_cores;
    cfg.n_edges = x->g.n_edges;
    cfg.n_dests = n_dests;
    cfg.msg_size = o->msg_size;
    cfg.rate_msgs_per_s = o->rate;
    cfg.duration_ns = ctl_profile_duration(&x->profile);
    cfg.seed = o->seed;
    cfg.ip_base = IP_BASE;
    cfg.n_ports = (uint16_t)o->n_ports;
    cfg.pattern = o->pattern;
    cfg.max_hops = 64;
    cfg.burst = o->burst;
    cfg.mbufs_per_worker = o->mbufs_per_worker;
    snprintf(cfg.topology, sizeof(cfg.topology), "%s", r->topology);
    memcpy(cfg.netem, o->netem, sizeof(cfg.netem));
    if (o->pcap_path) {
        if (absolute_path(o->pcap_path, cfg.pcap_path, sizeof(cfg.pcap_path)) < 0) {
            fprintf(stderr, "swarmgen: --pcap: the absolute path is longer than 255 characters\n");
            return 2;
        }
        cfg.pcap_count = o->pcap_count;
    }
    cfg.traffic = o->traffic;
    cfg.backend = o->backend;
    if (o->traffic == RI_TRAFFIC_DC) {
        cfg.dc_type = o->dc_type;
        cfg.dc_reliability = o->dc_reliability;
        cfg.media = o->media;
        cfg.media_bitrate = o->media_bitrate;
        cfg.media_fps = o->media_fps;
        cfg.media_payload = o->media_payload;
        cfg.sign = o->sign ? 1 : 0;
        cfg.setup_cap = o->setup_cap;
        cfg.setup_attempts = o->setup_attempts;
        if (!o->sctp_bufs)
            o->sctp_bufs = ctl_run_sctp_bufs(cfg.n_edges, o->n_cores);
        cfg.sctp_bufs = o->sctp_bufs;
        if (o->keylog_path) {
            if (absolute_path(o->keylog_path, cfg.keylog_path, sizeof(cfg.keylog_path)) < 0) {
                fprintf(stderr, "swarmgen: --keylog: the absolute path is longer than 255 characters\n");
                return 2;
            }
            cfg.keylog_max = ctl_run_keylog_max(o, cfg.n_edges);
        }
    }

    rc = ctl_image_create(&x->img, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: run image: %s\n", err);
        return 1;
    }
    rc = fill_image(&x->img, &x->g, o, n_dests, &r->routing_s, err, sizeof(err));
    ctl_graph_free(&x->g);
    x->have_graph = false;
    if (rc < 0) {
        fprintf(stderr, "swarmgen: %s\n", err);
        return rc == -E2BIG ? 2 : 1;
    }
    r->image_bytes = x->img.size;
    if (o->external)
        ctl_external_prepare(ri_section(x->img.hdr, RI_SEC_EXTERNAL), o->external, o->external_max,
                             o->external_port);
    struct ri_command *cmd = ctl_image_command(&x->img);
    cmd->rate_msgs_per_s = 0;
    cmd->active_agents = o->agents;
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_SETUP);

    char dp_path[4096];
    if (ctl_dp_find(o, dp_path, sizeof(dp_path)) < 0) {
        if (o->backend == RI_BACKEND_USRSCTP)
            fprintf(stderr, "swarmgen: cannot find the swarmgen-usrsctp binary (use --dp PATH or SWARMGEN_USRSCTP)\n");
        else
            fprintf(stderr, "swarmgen: cannot find the swarmgen-dp binary (use --dp PATH or SWARMGEN_DP)\n");
        return 1;
    }
    if (ctl_dp_build_argv(&x->dp, o, dp_path, x->img.path, cfg.n_edges,
                          (uint64_t)cfg.n_agents * cfg.n_dests * sizeof(uint16_t)) < 0) {
        fprintf(stderr, "swarmgen: --eal: too many dataplane arguments\n");
        return 2;
    }
    x->setup_interval = calloc(1, sizeof(*x->setup_interval));
    for (int i = 0; i < 4; i++) {
        if (!x->setup_interval || ctl_snap_init(&x->snap[i], o->n_cores) < 0) {
            fprintf(stderr, "swarmgen: out of memory\n");
            return 1;
        }
    }
    if (o->prom_addr) {
        rc = ctl_prom_start(&x->prom, o->prom_addr, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --prom: %s\n", err);
            return rc == -EINVAL ? 2 : 1;
        }
        x->prom_on = true;
        struct ctl_prom_info info = {.agents = o->agents, .edges = x->stats.edges,
                                     .connections = o->traffic == RI_TRAFFIC_DC, .phase = "setup"};
        ctl_prom_publish(&x->prom, &x->snap[0], &info);
        if (!o->quiet)
            printf("swarmgen: Prometheus metrics at http://%s/metrics (port %u)\n", o->prom_addr,
                   x->prom.port);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!o->quiet) {
        printf("swarmgen: %u agents, %s (%llu connections, diameter %u%s), built in %.2f s, analysed in %.2f s, routes in %.2f s\n",
               o->agents, r->topology, (unsigned long long)x->stats.edges, x->stats.diameter,
               x->stats.exact ? "" : " sampled", r->build_s, r->analysis_s, r->routing_s);
        printf("swarmgen: starting dataplane on cores %s (%s, %llu MiB)\n", o->cores_text,
               x->dp.hugepages ? "hugepages" : "no hugepages", (unsigned long long)x->dp.mem_mb);
        fflush(stdout);
    }
    t0 = mono_ns();
    rc = ctl_dp_spawn(&x->dp);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: cannot start the dataplane: %s\n", strerror(-rc));
        return 1;
    }
    int ready = wait_ready(&x->dp, cmd);
    r->dp_setup_s = (double)(mono_ns() - t0) / 1e9;
    if (ready != 0) {
        ri_store(&cmd->phase, (uint32_t)RI_PHASE_STOP);
        ctl_dp_reap(&x->dp, 5000);
        return ready > 0 ? 130 : 1;
    }
    if (o->external) {
        rc = ctl_external_start(&x->ext, ri_section(x->img.hdr, RI_SEC_EXTERNAL), ri_section(x->img.hdr, RI_SEC_AGENTS),
                                o->agents, o->external, o->external_active, o->signal_addr, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --signal %s: %s\n", o->signal_addr, err);
            ri_store(&cmd->phase, (uint32_t)RI_PHASE_STOP);
            ctl_dp_reap(&x->dp, 5000);
            return rc == -EINVAL ? 2 : 1;
        }
        r->external = &x->ext;
        if (!o->quiet) {
            printf("swarmgen: external peers (%s): WHIP at http://%s/whip/agents/{0..%u}, through %s\n",
                   o->external == RI_EXT_ROUTE ? "route" : "echo", o->signal_addr, o->agents - 1,
                   x->ext.x->port_desc);
            fflush(stdout);
        }
    }
    r->tsc_hz = cmd->tsc_hz;
    r->dpdk_bytes = cmd->mem_dpdk_bytes;
    r->mem_conn_bytes = cmd->mem_conn_bytes;
    r->mem_hs_bytes = cmd->mem_hs_bytes;
    r->mem_cert_bytes = cmd->mem_cert_bytes;
    r->n_certs = cmd->n_certs;
    r->cert_gen_ns = cmd->cert_gen_ns;
    r->hugepages = cmd->hugepages;
    snprintf(r->port_desc, sizeof(r->port_desc), "%s", cmd->port_desc);
    memcpy(r->lcore, cmd->lcore, sizeof(r->lcore));
    if (!o->quiet) {
        printf("swarmgen: dataplane ready in %.2f s: %s, %.1f MiB DPDK memory; profile %s, %u phase%s, %.1f s\n",
               r->dp_setup_s, r->port_desc, r->dpdk_bytes / 1048576.0, x->profile.name,
               x->profile.n, x->profile.n == 1 ? "" : "s",
               ctl_profile_duration(&x->profile) / 1e9);
        if (o->traffic == RI_TRAFFIC_DC)
            printf("swarmgen: connect phase: %llu peer connections, up to %u in set-up per core, %u attempt%s each, at most %.0f s; %.1f MiB of connection state\n",
                   (unsigned long long)cfg.n_edges, o->setup_cap, o->setup_attempts,
                   o->setup_attempts == 1 ? "" : "s", o->setup_timeout_ns / 1e9,
                   r->mem_conn_bytes / 1048576.0);
        fflush(stdout);
    }

    const struct ri_metrics *blocks = ctl_image_metrics(&x->img);
    bool died = false, died_connecting = false;
    if (o->traffic == RI_TRAFFIC_DC) {
        died = died_connecting = connect_phase(x, cmd, blocks, cfg.n_edges);
        /* the usrsctp backend measures its heap once the connections are
         * up (usrsctp and mbedTLS allocate as they go) */
        r->mem_conn_bytes = ri_load(&cmd->mem_conn_bytes);
    }
    if (!died && !interrupted)
        died = drive(x, cmd, blocks);
    finish(x, cmd, blocks);
    uint32_t final_state = ri_load(&cmd->dp_state);
    int exit_code = 0;
    /* a dataplane that stopped on its own before control asked is a failure,
     * unless Ctrl-C reached both processes (a terminal's process group) */
    bool clean_exit = x->dp.exited && WIFEXITED(x->dp.status) && WEXITSTATUS(x->dp.status) == 0;
    if (final_state != RI_DP_DONE || !clean_exit || (died && !r->interrupted)) {
        char why[128];
        ctl_dp_describe_exit(&x->dp, why, sizeof(why));
        fprintf(stderr, "swarmgen: dataplane %s during the %s%s%s\n", why,
                died_connecting ? "connect phase" : "run", cmd->dp_message[0] ? ": " : "",
                cmd->dp_message);
        exit_code = 1;
    }
    ctl_judge_sla(&x->sla, &r->final->total, &r->final->latency, setup_hist(x, r->final),
                  r->duration_s, x->phase, x->profile.n, &x->judge);
    ctl_judge_spike(&x->profile, &x->ts, &x->judge);
    if (x->o.profile && strcmp(x->o.profile, "soak") == 0 && x->rss)
        ctl_judge_soak(&x->ts, x->rss, &x->judge);
    if (exit_code == 0 && x->judge.breached)
        exit_code = 1;
    if (exit_code == 0 && r->interrupted)
        exit_code = 130;

    ctl_report_summary(stdout, r);
    const char *phase_names[CTL_MAX_PHASES];
    for (uint32_t i = 0; i < x->profile.n; i++)
        phase_names[i] = x->profile.phase[i].name;
    if (o->csv_path) {
        rc = ctl_ts_write_csv(&x->ts, phase_names, o->csv_path);
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --csv %s: %s\n", o->csv_path, strerror(-rc));
            exit_code = exit_code ? exit_code : 1;
        }
    }
    if (o->html_path) {
        rc = ctl_report_html(o->html_path, r, setup_hist(x, r->final));
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --html %s: %s\n", o->html_path, strerror(-rc));
            exit_code = exit_code ? exit_code : 1;
        } else if (!o->quiet) {
            printf("swarmgen: HTML report written to %s\n", o->html_path);
        }
    }
    if (o->report_path) {
        rc = ctl_report_json(o->report_path, r);
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --report %s: %s\n", o->report_path, strerror(-rc));
            exit_code = exit_code ? exit_code : 1;
        } else if (!o->quiet) {
            printf("swarmgen: report written to %s\n", o->report_path);
        }
    }
    return exit_code;
}

int ctl_run_main(int argc, char **argv)
{
    static struct run x; /* large (histograms): not on the stack */
    int rc = run_main(&x, argc, argv);
    run_free(&x);
    return rc;
}
