/* SPDX-License-Identifier: MIT */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_launch.h"
#include "met_stats.h"
#include "report.h"
#include "image.h"
#include "route.h"
#include "run_opts.h"
#include "topo.h"
#include "topo_analysis.h"

#define IP_BASE 0xc6120000u /* 198.18.0.0 */
#define READY_TIMEOUT_NS (120ull * 1000000000ull)

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

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint16_t edge_port(uint64_t e, int side)
{
    uint64_t s = e * 2 + (uint64_t)side + 0x5347;
    return (uint16_t)(49152 + splitmix(&s) % 16384);
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
        ed[e].port_a = edge_port(e, 0);
        ed[e].port_b = edge_port(e, 1);
        ed[e].worker = (uint16_t)(e % w);
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
            uint32_t j = i + (uint32_t)(splitmix(&s) % (n - i));
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

int ctl_run_main(int argc, char **argv)
{
    static struct ctl_run_opts o;
    ctl_run_opts_parse(&o, argc, argv);

    struct ctl_topo_spec spec;
    char err[256];
    ctl_topo_spec_parse(o.topology, &spec, err, sizeof(err)); /* validated by the parser */
    struct ctl_run_result r;
    memset(&r, 0, sizeof(r));
    r.opts = &o;
    ctl_topo_spec_format(&spec, r.topology, sizeof(r.topology));

    uint64_t t0 = mono_ns();
    struct ctl_graph g;
    int rc = ctl_topo_build(&spec, o.agents, o.seed, &g, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: --topology: %s\n", rc == -EINVAL ? err : "out of memory");
        return rc == -EINVAL ? 2 : 1;
    }
    r.build_s = (double)(mono_ns() - t0) / 1e9;
    for (uint32_t i = 0; i < g.n; i++) {
        if (g.off[i + 1] - g.off[i] > 65534) {
            fprintf(stderr, "swarmgen: --topology: agent %u has %u neighbours; at most 65534 are supported by the dataplane\n",
                    i, g.off[i + 1] - g.off[i]);
            ctl_graph_free(&g);
            return 2;
        }
    }
    t0 = mono_ns();
    struct ctl_topo_stats stats;
    rc = ctl_topo_analyze(&g, 20000, 256, o.seed, o.threads, &stats);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topology analysis failed: %s\n", strerror(-rc));
        ctl_graph_free(&g);
        return 1;
    }
    r.analysis_s = (double)(mono_ns() - t0) / 1e9;
    r.topo = &stats;

    uint32_t n_dests = 0;
    if (o.pattern == RI_PATTERN_ROUTED) {
        n_dests = ctl_route_max_dests(o.agents, o.route_mem);
        if (n_dests == 0) {
            fprintf(stderr, "swarmgen: --route-mem: %llu bytes cannot hold one routing column for %u agents\n",
                    (unsigned long long)o.route_mem, o.agents);
            ctl_graph_free(&g);
            ctl_topo_stats_free(&stats);
            return 2;
        }
    }
    r.n_dests = n_dests;

    struct ri_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.n_agents = o.agents;
    cfg.n_workers = o.n_cores;
    cfg.n_edges = g.n_edges;
    cfg.n_dests = n_dests;
    cfg.msg_size = o.msg_size;
    cfg.rate_msgs_per_s = o.rate;
    cfg.duration_ns = o.duration_ns;
    cfg.seed = o.seed;
    cfg.ip_base = IP_BASE;
    cfg.n_ports = (uint16_t)o.n_ports;
    cfg.pattern = o.pattern;
    cfg.max_hops = 64;
    cfg.burst = o.burst;
    cfg.mbufs_per_worker = o.mbufs_per_worker;
    snprintf(cfg.topology, sizeof(cfg.topology), "%s", r.topology);

    static struct ctl_image img;
    rc = ctl_image_create(&img, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: run image: %s\n", err);
        ctl_graph_free(&g);
        ctl_topo_stats_free(&stats);
        return 1;
    }
    rc = fill_image(&img, &g, &o, n_dests, &r.routing_s, err, sizeof(err));
    ctl_graph_free(&g);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: %s\n", err);
        ctl_image_destroy(&img);
        ctl_topo_stats_free(&stats);
        return rc == -E2BIG ? 2 : 1;
    }
    r.image_bytes = img.size;
    struct ri_command *cmd = ctl_image_command(&img);
    cmd->rate_msgs_per_s = o.rate;
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_SETUP);

    char dp_path[4096];
    if (ctl_dp_find(&o, dp_path, sizeof(dp_path)) < 0) {
        fprintf(stderr, "swarmgen: cannot find the swarmgen-dp binary (use --dp PATH or SWARMGEN_DP)\n");
        ctl_image_destroy(&img);
        ctl_topo_stats_free(&stats);
        return 1;
    }
    static struct ctl_dp dp;
    if (ctl_dp_build_argv(&dp, &o, dp_path, img.path, cfg.n_edges) < 0) {
        fprintf(stderr, "swarmgen: --eal: too many dataplane arguments\n");
        ctl_image_destroy(&img);
        ctl_topo_stats_free(&stats);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!o.quiet) {
        printf("swarmgen: %u agents, %s (%llu connections, diameter %u%s), built in %.2f s, analysed in %.2f s, routes in %.2f s\n",
               o.agents, r.topology, (unsigned long long)stats.edges, stats.diameter,
               stats.exact ? "" : " sampled", r.build_s, r.analysis_s, r.routing_s);
        printf("swarmgen: starting dataplane on cores %s (%s, %llu MiB)\n", o.cores_text,
               dp.hugepages ? "hugepages" : "no hugepages", (unsigned long long)dp.mem_mb);
        fflush(stdout);
    }
    t0 = mono_ns();
    rc = ctl_dp_spawn(&dp);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: cannot start the dataplane: %s\n", strerror(-rc));
        ctl_image_destroy(&img);
        ctl_topo_stats_free(&stats);
        return 1;
    }
    int exit_code = 0;
    int ready = wait_ready(&dp, cmd);
    r.dp_setup_s = (double)(mono_ns() - t0) / 1e9;
    if (ready != 0) {
        ri_store(&cmd->phase, (uint32_t)RI_PHASE_STOP);
        ctl_dp_reap(&dp, 5000);
        ctl_image_destroy(&img);
        ctl_topo_stats_free(&stats);
        return ready > 0 ? 130 : 1;
    }
    r.tsc_hz = cmd->tsc_hz;
    r.dpdk_bytes = cmd->mem_dpdk_bytes;
    r.hugepages = cmd->hugepages;
    snprintf(r.port_desc, sizeof(r.port_desc), "%s", cmd->port_desc);
    memcpy(r.lcore, cmd->lcore, sizeof(r.lcore));
    if (!o.quiet) {
        printf("swarmgen: dataplane ready in %.2f s: %s, %.1f MiB DPDK memory; running %.1f s at %llu msg/s\n",
               r.dp_setup_s, r.port_desc, r.dpdk_bytes / 1048576.0, o.duration_ns / 1e9,
               (unsigned long long)o.rate);
        fflush(stdout);
    }

    static struct ctl_snap snap_a, snap_b;
    if (ctl_snap_init(&snap_a, o.n_cores) < 0 || ctl_snap_init(&snap_b, o.n_cores) < 0) {
        fprintf(stderr, "swarmgen: out of memory\n");
        ri_store(&cmd->phase, (uint32_t)RI_PHASE_STOP);
        ctl_dp_reap(&dp, 5000);
        ctl_image_destroy(&img);
        return 1;
    }
    struct ctl_snap *prev = &snap_a, *cur = &snap_b;
    const struct ri_metrics *blocks = ctl_image_metrics(&img);
    ctl_snap_take(prev, cmd, blocks, false, 1000000000ull);
    uint64_t start = mono_ns();
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_RUN);
    uint64_t next_tick = start + 1000000000ull;
    uint64_t end = start + o.duration_ns;
    bool died = false;
    while (!interrupted) {
        uint64_t now = mono_ns();
        if (now >= end)
            break;
        if (ctl_dp_poll(&dp)) {
            died = true;
            break;
        }
        if (now >= next_tick) {
            ctl_snap_take(cur, cmd, blocks, false, 200000000ull);
            if (!o.quiet)
                ctl_report_progress(stdout, (double)(cur->mono_ns - start) / 1e9, cur, prev, r.tsc_hz);
            struct ctl_snap *t = prev;
            prev = cur;
            cur = t;
            next_tick += 1000000000ull;
        }
        uint64_t wake = next_tick < end ? next_tick : end;
        now = mono_ns();
        sleep_ns(wake > now ? (wake - now < 50000000ull ? wake - now : 50000000ull) : 0);
    }
    uint64_t gen_end = mono_ns();
    r.duration_s = (double)(gen_end - start) / 1e9;
    r.interrupted = interrupted != 0;
    if (!died && !interrupted) {
        ri_store(&cmd->phase, (uint32_t)RI_PHASE_DRAIN);
        uint64_t drain_end = gen_end + o.drain_ns;
        while (!interrupted && mono_ns() < drain_end) {
            if (ctl_dp_poll(&dp)) {
                died = true;
                break;
            }
            ctl_snap_take(cur, cmd, blocks, false, 200000000ull);
            if (in_flight(cur) == 0)
                break;
            sleep_ns(10000000ull);
        }
    }
    r.drain_s = (double)(mono_ns() - gen_end) / 1e9;
    r.interrupted = interrupted != 0;
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_STOP);
    ctl_dp_reap(&dp, 10000);
    uint32_t final_state = ri_load(&cmd->dp_state);
    /* workers are gone: the live counters are final */
    ctl_snap_take(cur, cmd, blocks, true, 0);
    r.final = cur;
    if (died || final_state != RI_DP_DONE) {
        char why[128];
        ctl_dp_describe_exit(&dp, why, sizeof(why));
        fprintf(stderr, "swarmgen: dataplane %s during the run%s%s\n", why,
                cmd->dp_message[0] ? ": " : "", cmd->dp_message);
        exit_code = 1;
    } else if (r.interrupted) {
        exit_code = 130;
    }
    ctl_report_summary(stdout, &r);
    if (o.report_path) {
        rc = ctl_report_json(o.report_path, &r);
        if (rc < 0) {
            fprintf(stderr, "swarmgen: --report %s: %s\n", o.report_path, strerror(-rc));
            if (exit_code == 0)
                exit_code = 1;
        } else if (!o.quiet) {
            printf("swarmgen: report written to %s\n", o.report_path);
        }
    }
    ctl_snap_free(&snap_a);
    ctl_snap_free(&snap_b);
    ctl_topo_stats_free(&stats);
    ctl_image_destroy(&img);
    return exit_code;
}
