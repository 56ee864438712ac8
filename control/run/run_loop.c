/* SPDX-License-Identifier: MIT */
/*
 * run_loop: the live part of `swarmgen run`, from the dataplane's start to
 * its stop. Control steers the workers only through the run image's command
 * block (phase, target rate, active agents, snapshot requests) and reads
 * their metric blocks; it polls the dataplane process between snapshots,
 * so a dataplane that dies ends the run with its cause.
 *
 *   start    spawn, wait for READY (ctl_run_start_dataplane)
 *   connect  --traffic dc: every peer connection set up first, a progress
 *            line a second (connect_phase)
 *   generate the profile's rate and agents every 20 ms, a time-series row,
 *            progress line and Prometheus page a second, a boundary
 *            snapshot at each phase change (generate)
 *   drain    no new messages; wait for those in flight (drain)
 *   stop     the workers stop, the process is reaped, the final snapshot
 *            read live (finish)
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "connect.h"
#include "run_internal.h"

#define READY_TIMEOUT_NS (120ull * CTL_SEC_NS)
#define SNAP_TIMEOUT_NS  200000000ull

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void ctl_run_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / CTL_SEC_NS), (long)(ns % CTL_SEC_NS)};
    nanosleep(&ts, NULL);
}

/* ---- start ---- */

/* Waits for the dataplane to leave STARTING. Returns 0 when READY, 1 when
 * interrupted, -1 on failure (message printed). */
static int wait_ready(struct ctl_dp *dp, struct ri_command *cmd)
{
    uint64_t deadline = ctl_mono_ns() + READY_TIMEOUT_NS;
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
        if (ctl_mono_ns() > deadline) {
            fprintf(stderr, "swarmgen: dataplane not ready after %llu s\n",
                    (unsigned long long)(READY_TIMEOUT_NS / CTL_SEC_NS));
            return -1;
        }
        sleep_ns(5000000);
    }
}

int ctl_run_start_dataplane(struct ctl_run *x)
{
    uint64_t t0 = ctl_mono_ns();
    int rc = ctl_dp_spawn(&x->dp);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: cannot start the dataplane: %s\n", strerror(-rc));
        return 1;
    }
    int ready = wait_ready(&x->dp, x->cmd);
    x->r.dp_setup_s = (double)(ctl_mono_ns() - t0) / 1e9;
    if (ready != 0) {
        ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_STOP);
        ctl_dp_reap(&x->dp, 5000);
        return ready > 0 ? 130 : 1;
    }
    return 0;
}

/* ---- what every phase uses ---- */

/* Messages neither delivered nor dropped yet, from the counters: what the
 * drain waits for and what a phase hands to the next. Not the report's
 * messages.in_flight, which the dataplane's census counts when it stops
 * (so that sent = delivered + lost + in flight can fail). */
static uint64_t in_flight(const struct ctl_snap *s)
{
    const struct ri_counters *t = &s->total;
    uint64_t done = t->msgs_delivered + t->msgs_dropped;
    return t->msgs_sent > done ? t->msgs_sent - done : 0;
}

/* Target sessions' messages not back yet (an echo server returns each). */
static uint64_t target_in_flight(const struct ctl_run *x)
{
    if (!x->target)
        return 0;
    const struct ri_target *t = ri_section(x->img.hdr, RI_SEC_TARGET);
    uint64_t sent = __atomic_load_n(&t->total.msgs_sent, __ATOMIC_RELAXED);
    uint64_t back = __atomic_load_n(&t->total.msgs_back, __ATOMIC_RELAXED);
    return sent > back ? sent - back : 0;
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

static void snap(struct ctl_run *x, struct ctl_snap *s)
{
    ctl_snap_take(s, x->cmd, ctl_image_metrics(&x->img), false, SNAP_TIMEOUT_NS);
}

static void swap(struct ctl_snap **a, struct ctl_snap **b)
{
    struct ctl_snap *t = *a;
    *a = *b;
    *b = t;
}

/* The Prometheus page of snapshot `s`; `phase` UINT32_MAX is the connect
 * phase, profile->n the end. */
static void publish_prom(struct ctl_run *x, const struct ctl_snap *s, uint32_t phase, double rate,
                         double elapsed)
{
    if (!x->prom_on)
        return;
    struct ctl_prom_info info = {
        .tsc_hz = x->r.tsc_hz,
        .agents = x->o.agents,
        .edges = x->stats.edges,
        .connections = x->o.traffic == RI_TRAFFIC_DC,
        .phase = phase == UINT32_MAX    ? "connect"
                 : phase < x->profile.n ? x->profile.phase[phase].name
                                        : "done",
        .target_rate = rate,
        .elapsed_s = elapsed,
        .external = x->ext.x,
        .series_bytes = x->ts.n * (sizeof(*x->ts.rows) + (x->rss ? sizeof(*x->rss) : 0)),
    };
    ctl_prom_publish(&x->prom, s, &info);
}

/* True when the dataplane process ended or declared itself failed. */
static bool dp_dead(struct ctl_run *x)
{
    return ctl_dp_poll(&x->dp) || ri_load(&x->cmd->dp_state) == RI_DP_FAILED;
}

/* ---- connect ---- */

/* Prints the line that ends the connect phase: on stderr when
 * --setup-timeout ended it, on stdout (unless --quiet) when every
 * connection settled. */
static void connect_done(const struct ctl_run *x, const struct ctl_connect_figures *f, bool done)
{
    if (x->r.connect_timed_out) {
        char d[128];
        /* the limit: the flag's value, or the default's as the phase ended
         * (the phase itself may end a little later, on a busy machine) */
        snprintf(d, sizeof(d), "%.1f s%s",
                 x->o.setup_timeout_auto ? (double)x->r.connect_s : x->o.setup_timeout_ns / 1e9,
                 x->o.setup_timeout_auto ? " (its default: twice what the set-up rate needed, 10 min at least)" : "");
        fprintf(stderr,
                "swarmgen: --setup-timeout %s: %llu of %llu connections not up (%llu in set-up, "
                "%llu given up); generating on the %llu that are\n",
                d, (unsigned long long)(f->total > f->up ? f->total - f->up : 0),
                (unsigned long long)f->total, (unsigned long long)f->in_setup,
                (unsigned long long)f->given_up, (unsigned long long)f->up);
    } else if (done && !x->o.quiet) {
        printf("swarmgen: %llu/%llu connections up in %.1f s (%.0f/s), %llu given up\n",
               (unsigned long long)f->up, (unsigned long long)f->total, x->r.connect_s,
               x->r.connect_per_s, (unsigned long long)f->given_up);
    }
    fflush(stdout);
}

/* The connect phase (--traffic dc): the workers set every peer connection
 * up before any message is generated. Takes a snapshot every 100 ms, prints
 * the progress line once a second (control/run/connect.h defines its
 * figures) and returns when every connection is up or given up, when
 * --setup-timeout has passed (a line on stderr says how many are not up;
 * the load then starts anyway), on Ctrl-C, or when the dataplane died
 * (returns true). */
/* --shard: a shard that went away (its barrier connection closed): the
 * workers end every connection with an endpoint there, a line says so,
 * the run goes on and ends with exit 1. */
static void watch_shards(struct ctl_run *x)
{
    if (!x->o.n_shards || ctl_barrier_watch(&x->barrier) == 0)
        return;
    for (uint32_t s = 0; s < x->o.n_shards; s++) {
        uint64_t bit = 1ull << (s % 64);
        if (!(x->barrier.gone[s / 64] & bit) || (x->cmd->shards_gone[s / 64] & bit))
            continue;
        __atomic_store_n(&x->cmd->shards_gone[s / 64], x->cmd->shards_gone[s / 64] | bit, __ATOMIC_RELAXED);
        fprintf(stderr, "swarmgen: shard %u went away: this shard's connections with its agents end\n", s);
    }
    ri_store(&x->cmd->shards_gone_seq, x->cmd->shards_gone_seq + 1);
    x->shard_gone = true;
}

/* --shard: the halves of the connections another shard counts are up or
 * given up too (always true without shards). */
static bool halves_settled(const struct ri_counters *c)
{
    return c->conn_halves_up + c->conn_halves_given_up >= c->conn_halves_total;
}

/* --target: every session up, or failed in its stage (signalling
 * included); true without target mode. */
static bool target_settled(const struct ctl_run *x)
{
    /* ramped joins: the sessions join during the load, not here */
    return !x->target || x->target_cfg.join_ramp ||
           ctl_target_settled(x->target) >= x->target_cfg.n_sessions;
}

static bool connect_phase(struct ctl_run *x)
{
    struct ctl_snap *prev = &x->snap[CTL_SNAP_TICK], *cur = &x->snap[CTL_SNAP_CUR];
    uint64_t n_edges = x->o.n_shards ? 0 : x->cfg.n_edges; /* shards: what the counters say is here */
    uint64_t start = ctl_mono_ns();
    ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_CONNECT);
    /* the workers are starting: a snapshot request may time out, and the
     * blocks are then read live (all zero until they run) */
    snap(x, prev);
    struct ctl_connect_figures f_prev, f;
    ctl_connect_figures(&prev->total, n_edges, &f_prev);
    f = f_prev;
    uint64_t next_tick = start + CTL_SEC_NS, deadline = start + x->o.setup_timeout_ns;
    bool died = false, done = ctl_connect_done(&f) && halves_settled(&prev->total) && target_settled(x);
    while (!done && !interrupted) {
        if (dp_dead(x)) {
            died = true;
            break;
        }
        sleep_ns(100000000ull);
        watch_shards(x);
        snap(x, cur);
        ctl_connect_figures(&cur->total, n_edges, &f);
        done = ctl_connect_done(&f) && halves_settled(&cur->total) && target_settled(x);
        uint64_t now = cur->mono_ns;
        if (now >= next_tick || done) {
            double dt = (double)(now - prev->mono_ns) / 1e9;
            met_hist_delta(x->setup_interval, &cur->setup[RI_SETUP_TOTAL],
                           &prev->setup[RI_SETUP_TOTAL]);
            if (!x->o.quiet) {
                ctl_connect_progress(stdout, &f, &f_prev, dt, x->setup_interval);
                if (x->target)
                    printf("  target: %llu of %u sessions up, %llu settled\n",
                           (unsigned long long)ctl_target_up(x->target), x->target_cfg.n_sessions,
                           (unsigned long long)ctl_target_settled(x->target));
            }
            publish_prom(x, cur, UINT32_MAX, 0, 0);
            swap(&prev, &cur);
            f_prev = f;
            while (next_tick <= now)
                next_tick += CTL_SEC_NS;
        }
        if (x->o.setup_timeout_auto)
            deadline = start + ctl_connect_auto_deadline_ns(x->o.setup_timeout_ns, now - start, f.settled, f.total);
        if (!done && now >= deadline) {
            x->r.connect_timed_out = true;
            break;
        }
    }
    x->r.connect_s = (double)(ctl_mono_ns() - start) / 1e9;
    x->r.connect_per_s = x->r.connect_s > 0 ? (double)f.up / x->r.connect_s : 0;
    connect_done(x, &f, done);
    return died;
}

/* ---- generate ---- */

/* Where generation stands: the snapshots in use and its clock. */
struct gen {
    struct ctl_snap *prev;  /* the last tick's */
    struct ctl_snap *cur;   /* scratch for the next one */
    struct ctl_snap *bound; /* the running phase's start */
    uint64_t start, next_tick, end;
};

/* Closes phase `p` with the snapshot `now` against the boundary snapshot.
 * The last phase is closed after the drain: what is still in flight then
 * never arrived, and stays the last phase's. */
static void close_phase(struct ctl_run *x, uint32_t p, const struct ctl_snap *now,
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

static void progress_prefix(const struct ctl_run *x, uint32_t phase, uint64_t t_ns)
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
    uint64_t total = ctl_profile_duration(&x->profile);
    double eta = (double)(total - (t_ns < total ? t_ns : total)) / 1e9;
    printf("%-10.10s %u/%u [%s] ETA %4.0fs ", ph->name, phase + 1, x->profile.n, bar, eta);
}

/* True when the cumulative figures already breach a threshold. */
static bool breached_so_far(struct ctl_run *x, const struct ctl_snap *now, double seconds)
{
    if (x->sla.n == 0)
        return false;
    struct ctl_sla_input in;
    ctl_sla_input_from(&now->total, &now->latency, ctl_run_setup_hist(x, now), seconds, &in);
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
static const struct ctl_ts_row *record_row(struct ctl_run *x, const struct ctl_snap *cur,
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
    /* the row that first ends after the first --netem silence begins
     * counts slow deliveries, and every one after it (outage.h) */
    double first, t_s = (double)(cur->mono_ns - start) / 1e9, base, level;
    if (!x->ts.slow_ns && ctl_outage_first_start(x->o.netem, x->o.n_netem, &first) &&
        t_s > first + CTL_OUTAGE_TOL_S && ctl_outage_baseline(&x->ts, first, &base, &level))
        x->ts.slow_ns = (uint64_t)llround(ctl_outage_limit_us(base) * 1e3);
    const struct ctl_ts_row *row =
        ctl_ts_add(&x->ts, cur, prev, t_s, phase, rate,
                   ceil(agents * x->o.agents));
    if (row)
        x->rss[x->ts.n - 1] = rss_kib(x->dp.pid) + rss_kib(getpid());
    return row;
}

/* What the workers generate now: the profile's rate and share of agents. */
static void set_targets(struct ctl_run *x, double rate, double agents)
{
    if (x->o.n_shards) /* the swarm's rate: each shard generates for its share of the agents */
        rate /= x->o.n_shards;
    __atomic_store_n(&x->cmd->rate_msgs_per_s, (uint64_t)llround(rate), __ATOMIC_RELAXED);
    __atomic_store_n(&x->cmd->active_agents, (uint64_t)ceil(agents * x->o.agents),
                     __ATOMIC_RELAXED);
}

/* Takes the snapshot generation counts from and starts it: phase RUN with
 * the profile's first targets. */
static void start_generation(struct ctl_run *x, struct gen *g)
{
    g->prev = &x->snap[CTL_SNAP_TICK];
    g->cur = &x->snap[CTL_SNAP_CUR];
    g->bound = &x->snap[CTL_SNAP_BOUND];
    struct ctl_snap *gen_start = &x->snap[CTL_SNAP_GEN_START];
    /* udp: the workers wait for RUN, nobody writes the blocks yet, read them
     * live; dc: they run since the connect phase, ask for a snapshot */
    bool workers_idle = x->o.traffic == RI_TRAFFIC_UDP;
    ctl_snap_take(gen_start, x->cmd, ctl_image_metrics(&x->img), workers_idle, SNAP_TIMEOUT_NS);
    ctl_snap_copy(g->prev, gen_start);
    ctl_snap_copy(g->bound, gen_start);
    x->r.gen_start = gen_start;
    x->generating = true;
    uint32_t phase;
    double rate, agents;
    ctl_profile_at(&x->profile, 0, &phase, &rate, &agents);
    set_targets(x, rate, agents);
    g->start = ctl_mono_ns();
    ctl_target_set_join_rate(x->target, ctl_profile_join_at(&x->profile, 0));
    ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_RUN);
    g->next_tick = g->start + CTL_SEC_NS;
    g->end = g->start + ctl_profile_duration(&x->profile);
    x->cur_phase = phase;
}

/* The once-a-second tick: a time-series row, the Prometheus page, the
 * progress line, the --abort-on-fail check. Returns true when a threshold
 * is breached and the run is to stop. */
static bool tick(struct ctl_run *x, struct gen *g, uint32_t phase, double rate)
{
    snap(x, g->cur);
    double t_s = (double)(g->cur->mono_ns - g->start) / 1e9;
    const struct ctl_ts_row *row = record_row(x, g->cur, g->prev, g->start);
    publish_prom(x, g->cur, phase, rate, t_s);
    if (!x->o.quiet && row) {
        progress_prefix(x, phase, g->cur->mono_ns - g->start);
        ctl_report_progress(stdout, row);
        if (x->target && x->target_cfg.join_ramp)
            printf("  target: %llu of %u sessions up, %.1f joins/s asked\n",
                   (unsigned long long)ctl_target_up(x->target), x->target_cfg.n_sessions,
                   ctl_profile_join_at(&x->profile, g->cur->mono_ns - g->start));
    }
    bool stop = x->o.abort_on_fail && breached_so_far(x, g->cur, t_s);
    if (stop) {
        printf("swarmgen: SLA breached at %.1f s, stopping (--abort-on-fail)\n", t_s);
        x->r.aborted = true;
    }
    swap(&g->prev, &g->cur);
    return stop;
}

/* Follows the profile until its end (or Ctrl-C, an SLA abort): targets
 * every 20 ms, a boundary snapshot at each phase change, a tick a second.
 * Returns true when the dataplane died. */
static bool generate(struct ctl_run *x, struct gen *g)
{
    while (!interrupted) {
        uint64_t now = ctl_mono_ns();
        if (now >= g->end)
            break;
        if (ctl_dp_poll(&x->dp))
            return true;
        uint32_t phase;
        double rate, agents;
        ctl_profile_at(&x->profile, now - g->start, &phase, &rate, &agents);
        set_targets(x, rate, agents);
        ctl_target_set_join_rate(x->target, ctl_profile_join_at(&x->profile, now - g->start));
        if (phase != x->cur_phase) {
            snap(x, g->cur);
            close_phase(x, x->cur_phase, g->cur, g->bound, false);
            swap(&g->bound, &g->cur);
            x->cur_phase = phase;
        }
        if (now >= g->next_tick) {
            watch_shards(x);
            if (tick(x, g, phase, rate))
                break;
            g->next_tick += CTL_SEC_NS;
        }
        uint64_t wake = g->next_tick < g->end ? g->next_tick : g->end;
        now = ctl_mono_ns();
        uint64_t nap = wake > now ? wake - now : 0;
        sleep_ns(nap < 20000000ull ? nap : 20000000ull); /* profile updates every 20 ms */
    }
    return false;
}

/* No new messages; waits up to --drain for those in flight (the mesh's,
 * and the target sessions' echoes). Returns true when the dataplane died. */
static bool drain(struct ctl_run *x, struct gen *g, uint64_t gen_end)
{
    ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_DRAIN);
    uint64_t drain_end = gen_end + x->o.drain_ns;
    while (!interrupted && ctl_mono_ns() < drain_end) {
        if (ctl_dp_poll(&x->dp))
            return true;
        snap(x, g->cur);
        if (in_flight(g->cur) == 0 && target_in_flight(x) == 0)
            break;
        sleep_ns(10000000ull);
    }
    return false;
}

/* The generation phase: follows the profile, records the time series and
 * the phase boundaries, then drains. Returns true when the dataplane died. */
static bool drive(struct ctl_run *x)
{
    struct gen g;
    start_generation(x, &g);
    bool died = generate(x, &g);
    uint64_t gen_end = ctl_mono_ns();
    ctl_target_end_joins(x->target); /* ramped joins: who has not started now never does */
    /* the last, partial second gets its row too */
    if (!died && gen_end - g.prev->mono_ns > 100000000ull) {
        snap(x, g.cur);
        record_row(x, g.cur, g.prev, g.start);
        swap(&g.prev, &g.cur);
    }
    x->r.duration_s = (double)(gen_end - g.start) / 1e9;
    x->r.interrupted = interrupted != 0;
    if (!died && !interrupted)
        died = drain(x, &g, gen_end);
    x->r.drain_s = (double)(ctl_mono_ns() - gen_end) / 1e9;
    /* the boundary snapshot of the running phase, for finish() */
    if (g.bound != &x->snap[CTL_SNAP_BOUND])
        ctl_snap_copy(&x->snap[CTL_SNAP_BOUND], g.bound);
    return died;
}

/* ---- stop ---- */

/* Stops the workers, reaps the dataplane and takes the final figures (the
 * live counters: nobody writes them any more); closes the running phase
 * when generation began. */
static bool meet(struct ctl_run *x, enum ctl_barrier_phase phase, uint64_t timeout_ns);

static void finish(struct ctl_run *x)
{
    x->r.interrupted = interrupted != 0;
    ctl_external_stop(&x->ext); /* no new external sessions once the workers stop */
    if (x->target) /* the sessions end on the server (DELETE, Janus destroy) while the dataplane runs */
        ctl_target_stop(x->target, 5000000000ull);
    ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_STOP);
    if (x->stopped_together) {
        /* the shards' dataplanes close the link only once every one of them
         * stopped polling it: each waits for may_close after its final
         * counters (RI_DP_DONE) */
        for (int i = 0; i < 10000 && ri_load(&x->cmd->dp_state) != RI_DP_DONE && !ctl_dp_poll(&x->dp); i++)
            sleep_ns(1000000ull);
        meet(x, CTL_BARRIER_QUIET, x->o.barrier_timeout_ns);
    }
    ri_store(&x->cmd->may_close, 1u);
    ctl_dp_reap(&x->dp, 10000);
    struct ctl_snap *fin = &x->snap[CTL_SNAP_CUR];
    ctl_snap_take(fin, x->cmd, ctl_image_metrics(&x->img), true, 0);
    if (x->generating)
        close_phase(x, x->cur_phase, fin, &x->snap[CTL_SNAP_BOUND], true);
    x->r.final = fin;
    publish_prom(x, fin, x->profile.n, 0, x->r.duration_s);
}

/* The start barrier carries the signaling: each shard's agents'
 * certificate fingerprints (the dataplane wrote them into the image), in
 * agent order; the others' go into the image before the connect phase. */
static int exchange_fingerprints(struct ctl_run *x, uint64_t timeout_ns)
{
    uint32_t n = x->o.agents, k = x->o.n_shards, me = x->o.shard;
    uint8_t(*fp)[32] = ri_section(x->img.hdr, RI_SEC_FINGERPRINTS);
    uint8_t *mine = malloc((size_t)(n / k + 1) * 32), *all = malloc((size_t)n * 32);
    uint64_t *lens = calloc(k, sizeof(uint64_t));
    int rc = -ENOMEM;
    if (mine && all && lens) {
        uint64_t m = 0;
        for (uint32_t a = me; a < n; a += k)
            memcpy(mine + 32 * m++, fp[a], 32);
        rc = ctl_barrier_wait(&x->barrier, CTL_BARRIER_CONNECT, mine, 32 * m, all, (uint64_t)n * 32, lens, timeout_ns,
                              &interrupted, x->barrier_err, sizeof(x->barrier_err));
        uint64_t off = 0;
        for (uint32_t s = 0; rc == 0 && s < k; s++) {
            uint64_t want = 32ull * ((n - s + k - 1) / k);
            if (lens[s] != want) {
                snprintf(x->barrier_err, sizeof(x->barrier_err),
                         "--barrier: shard %u sent %llu fingerprint bytes, %llu expected", s,
                         (unsigned long long)lens[s], (unsigned long long)want);
                rc = -EPROTO;
                break;
            }
            if (s != me)
                for (uint32_t a = s, i = 0; a < n; a += k, i++)
                    memcpy(fp[a], all + off + 32ull * i, 32);
            off += lens[s];
        }
    } else {
        snprintf(x->barrier_err, sizeof(x->barrier_err), "--barrier: out of memory");
    }
    free(mine);
    free(all);
    free(lens);
    return rc;
}

/* After the start barrier every shard's port is started: the link between
 * them comes up within seconds (a memif pair connects, a NIC negotiates). */
static int link_up(struct ctl_run *x)
{
    for (int ms = 0; ms < 10000; ms += 10) {
        if (ri_load(&x->cmd->link_up))
            return 0;
        if (interrupted)
            return -EINTR;
        sleep_ns(10000000ull);
    }
    snprintf(x->barrier_err, sizeof(x->barrier_err),
             "--port %s: the link to the other shards is still down 10 s after they all arrived", x->o.ports[0]);
    return -ENOLINK;
}

/* --shard: waits for the other shards at `phase`. True when the run is
 * to stop (a shard did not come, another swarm answered, Ctrl-C): the
 * reason is in x->barrier_err. */
static bool meet(struct ctl_run *x, enum ctl_barrier_phase phase, uint64_t timeout_ns)
{
    if (!x->o.n_shards)
        return false;
    if (!x->o.quiet) {
        printf("swarmgen: shard %u/%u waiting for the others at the %s barrier\n", x->o.shard, x->o.n_shards,
               phase == CTL_BARRIER_CONNECT ? "start"
               : phase == CTL_BARRIER_LOAD  ? "load"
               : phase == CTL_BARRIER_STOP  ? "stop"
                                            : "quiet");
        fflush(stdout);
    }
    int rc;
    if (phase == CTL_BARRIER_CONNECT)
        rc = exchange_fingerprints(x, timeout_ns);
    else
        rc = ctl_barrier_wait(&x->barrier, phase, NULL, 0, NULL, 0, NULL, timeout_ns, &interrupted, x->barrier_err,
                              sizeof(x->barrier_err));
    if (rc == 0 && phase == CTL_BARRIER_CONNECT)
        rc = link_up(x);
    if (rc == -EINTR)
        x->barrier_err[0] = '\0';
    return rc != 0;
}


int ctl_run_live(struct ctl_run *x)
{
    bool died = false, died_connecting = false, apart = false;
    if (x->o.traffic == RI_TRAFFIC_DC && !(apart = meet(x, CTL_BARRIER_CONNECT, x->o.barrier_timeout_ns))) {
        died = died_connecting = connect_phase(x);
        /* the usrsctp backend measures its heap once the connections are
         * up (usrsctp and mbedTLS allocate as they go) */
        x->r.mem_conn_bytes = ri_load(&x->cmd->mem_conn_bytes);
    }
    /* the load starts together: a shard still connecting holds the others
     * up to its own set-up timeout */
    if (!died && !interrupted && !apart)
        apart = meet(x, x->o.traffic == RI_TRAFFIC_DC ? CTL_BARRIER_LOAD : CTL_BARRIER_CONNECT,
                     x->o.traffic == RI_TRAFFIC_DC ? x->o.setup_timeout_ns + x->o.barrier_timeout_ns
                                                   : x->o.barrier_timeout_ns);
    if (!died && !interrupted && !apart)
        died = drive(x);
    /* the dataplanes stop together, so that no shard's connections see
     * the others go before their own end (skipped once one went away) */
    watch_shards(x);
    if (!died && !interrupted && !apart && x->o.n_shards && !x->shard_gone)
        x->stopped_together = !meet(x, CTL_BARRIER_STOP, x->o.drain_ns + x->o.barrier_timeout_ns);
    finish(x);
    if (x->barrier_err[0]) {
        fprintf(stderr, "swarmgen: %s\n", x->barrier_err);
        return 1;
    }
    if (x->shard_gone) {
        char list[256];
        int k = 0;
        for (uint32_t s = 0; s < x->o.n_shards && k >= 0 && k < (int)sizeof(list) - 8; s++)
            if (x->barrier.gone[s / 64] >> (s % 64) & 1)
                k += snprintf(list + k, sizeof(list) - (size_t)k, "%s%u", k ? ", " : "", s);
        fprintf(stderr, "swarmgen: shard %s of %u went away during the run: the swarm is incomplete\n", list,
                x->o.n_shards);
        return 1;
    }
    /* a dataplane that stopped on its own before control asked is a failure,
     * unless Ctrl-C reached both processes (a terminal's process group) */
    bool clean_exit = x->dp.exited && WIFEXITED(x->dp.status) && WEXITSTATUS(x->dp.status) == 0;
    if (ri_load(&x->cmd->dp_state) != RI_DP_DONE || !clean_exit || (died && !x->r.interrupted)) {
        char why[128];
        ctl_dp_describe_exit(&x->dp, why, sizeof(why));
        fprintf(stderr, "swarmgen: dataplane %s during the %s%s%s\n", why,
                died_connecting ? "connect phase" : "run", x->cmd->dp_message[0] ? ": " : "",
                x->cmd->dp_message);
        return 1;
    }
    return 0;
}
