/* SPDX-License-Identifier: MIT */
/*
 * run: `swarmgen run` as a sequence of named steps. The set-up builds the
 * mesh and writes the run image; run_loop.c starts the dataplane and drives
 * the live run; the end judges the run and writes the reports. Each step
 * returns 0 to go on or the process's exit code (run.h lists them).
 */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>

#include "mem_plan.h"
#include "netem_opts.h"
#include "report_mem.h"
#include "report_html.h"
#include "rng.h"
#include "route.h"
#include "run_internal.h"
#include "traffic_opts.h"

#define IP_BASE CTL_IP_BASE

/* ---- set-up ---- */

/* Resolves --profile and --sla. Returns 0 or the exit code 2. */
static int load_profile(struct ctl_run *x)
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
    if (x->o.join_ramp || ctl_profile_has_joins(&x->profile)) {
        if (!x->o.target) {
            fprintf(stderr, "swarmgen: --profile: %s: join_rate: only with --target\n", name);
            return 2;
        }
        ctl_profile_set_joins(&x->profile, (double)x->o.rate, x->o.join_rate);
        double peak = 0;
        for (uint32_t i = 0; i < x->profile.n; i++)
            peak = fmax(peak, fmax(x->profile.phase[i].join_from, x->profile.phase[i].join_to));
        if (peak <= 0) {
            fprintf(stderr, "swarmgen: --join-ramp: no session would join: give --join-rate R > 0 "
                            "(or join_rate: in the scenario's phases)\n");
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

/* Builds the topology, checks every degree fits the dataplane, analyses it. */
static int build_mesh(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    struct ctl_run_result *r = &x->r;
    struct ctl_topo_spec spec;
    char err[256];
    ctl_topo_spec_parse(o->topology, &spec, err, sizeof(err)); /* validated by the parser */
    ctl_topo_spec_resolve(&spec, o->agents);                   /* kmesh:k=auto */
    ctl_topo_spec_format(&spec, r->topology, sizeof(r->topology));
    uint64_t t0 = ctl_mono_ns();
    int rc = ctl_topo_build(&spec, o->agents, o->seed, &x->g, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: --topology: %s\n", rc == -EINVAL ? err : "out of memory");
        return rc == -EINVAL ? 2 : 1;
    }
    x->have_graph = true;
    r->build_s = (double)(ctl_mono_ns() - t0) / 1e9;
    for (uint32_t i = 0; i < x->g.n; i++) {
        if (x->g.off[i + 1] - x->g.off[i] > CTL_MAX_DEGREE) {
            fprintf(stderr, "swarmgen: --topology: agent %u has %u neighbours; the dataplane supports at most %u\n",
                    i, x->g.off[i + 1] - x->g.off[i], CTL_MAX_DEGREE);
            return 2;
        }
    }
    if (o->dry_run)
        return 0; /* the plan needs the edges, not the analysis */
    t0 = ctl_mono_ns();
    rc = ctl_topo_analyze(&x->g, 20000, 256, o->seed, o->threads, &x->stats);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: topology analysis failed: %s\n", strerror(-rc));
        return 1;
    }
    x->have_stats = true;
    r->analysis_s = (double)(ctl_mono_ns() - t0) / 1e9;
    r->topo = &x->stats;
    return 0;
}

/* How many destinations the routing table holds (r->n_dests): every agent
 * when --route-mem allows, a seeded sample for routed:M, none without the
 * routed pattern. */
static int choose_destinations(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    uint32_t n_dests = 0;
    if (o->pattern == RI_PATTERN_ROUTED) {
        n_dests = ctl_route_max_dests(o->agents, o->route_mem);
        x->r.n_dests_max = n_dests;
        if (n_dests == 0) {
            fprintf(stderr, "swarmgen: --route-mem: %llu bytes cannot hold one routing column for %u agents\n",
                    (unsigned long long)o->route_mem, o->agents);
            return 2;
        }
        /* routed:M: a seeded sample of M destinations (fill_image draws it) */
        if (o->route_sample && o->route_sample < n_dests)
            n_dests = o->route_sample;
    }
    x->r.n_dests = n_dests;
    x->r.routes_bytes = RI_ROUTES_BYTES(o->agents, n_dests);
    return 0;
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

/* The rate the default of --sctp-bufs is sized for: --rate, or the load
 * profile's peak when it is higher (a spike's 5 x). Msgs/s, all cores. */
static uint64_t sctp_bufs_rate(const struct ctl_run *x)
{
    double peak = ceil(ctl_profile_peak_rate(&x->profile));
    if (peak > 1e12)
        peak = 1e12;
    return peak > (double)x->o.rate ? (uint64_t)peak : x->o.rate;
}

/* The peer-connection part of the config (--traffic dc); resolves the
 * default of --sctp-bufs for `rate` msgs/s. */
static int dc_config(struct ctl_run_opts *o, struct ri_config *cfg, uint64_t rate)
{
    cfg->dc_type = o->dc_type;
    cfg->dc_reliability = o->dc_reliability;
    cfg->media = o->media;
    cfg->media_bitrate = o->media_bitrate;
    cfg->media_fps = o->media_fps;
    cfg->media_payload = o->media_payload;
    cfg->srtp_rekey_ms = (uint32_t)(o->srtp_rekey_ns / 1000000u);
    cfg->sign = o->sign ? 1 : 0;
    cfg->consent = o->consent ? 1 : 0;
    cfg->churn_milli = o->churn_milli;
    cfg->churn_pct = o->churn_pct ? 1 : 0;
    cfg->dtls_versions = o->dtls_versions ? o->dtls_versions : (uint8_t)RI_DTLS_AUTO;
    cfg->ext_dtls_versions = o->ext_dtls_versions ? o->ext_dtls_versions : (uint8_t)RI_DTLS_AUTO;
    cfg->dtls_key_update = o->dtls_key_update;
    cfg->setup_cap = o->setup_cap;
    cfg->setup_attempts = o->setup_attempts;
    if (!o->sctp_bufs)
        o->sctp_bufs = ctl_run_sctp_bufs(cfg->n_edges, o->n_cores, rate, o->msg_size);
    cfg->sctp_bufs = o->sctp_bufs;
    cfg->sctp_heartbeat_ms = o->sctp_heartbeat_ms;
    if (o->keylog_path) {
        if (absolute_path(o->keylog_path, cfg->keylog_path, sizeof(cfg->keylog_path)) < 0) {
            fprintf(stderr, "swarmgen: --keylog: the absolute path is longer than 255 characters\n");
            return 2;
        }
        cfg->keylog_max = ctl_run_keylog_max(o, cfg->n_edges);
    }
    return 0;
}

/* The run config the image carries (x->cfg), from the options. */
static int make_config(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    struct ri_config *cfg = &x->cfg;
    memset(cfg, 0, sizeof(*cfg));
    cfg->n_agents = o->agents;
    cfg->n_workers = o->n_cores;
    cfg->n_edges = x->g.n_edges;
    cfg->n_dests = x->r.n_dests;
    cfg->msg_size = o->msg_size;
    cfg->rate_msgs_per_s = o->rate;
    cfg->duration_ns = ctl_profile_duration(&x->profile);
    cfg->seed = o->seed;
    cfg->ip_base = IP_BASE;
    cfg->n_ports = (uint16_t)o->n_ports;
    cfg->pattern = o->pattern;
    cfg->max_hops = 64;
    cfg->burst = o->burst;
    cfg->mbufs_per_worker = o->mbufs_per_worker;
    snprintf(cfg->topology, sizeof(cfg->topology), "%s", x->r.topology);
    memcpy(cfg->netem, o->netem, sizeof(cfg->netem));
    if (o->pcap_path) {
        if (absolute_path(o->pcap_path, cfg->pcap_path, sizeof(cfg->pcap_path)) < 0) {
            fprintf(stderr, "swarmgen: --pcap: the absolute path is longer than 255 characters\n");
            return 2;
        }
        cfg->pcap_count = o->pcap_count;
    }
    cfg->traffic = o->traffic;
    cfg->backend = o->backend;
    if (o->n_shards) {
        cfg->shard = o->shard;
        cfg->n_shards = o->n_shards;
        cfg->clock_wall = o->clock_wall;
        cfg->has_peer_mac = o->peer_mac != NULL;
        /* a memif client may start before its server, on a shard not up yet */
        cfg->port_wait_ms = (uint32_t)(o->barrier_timeout_ns / 1000000);
        memcpy(cfg->peer_mac, o->peer_macs, sizeof(cfg->peer_mac));
        snprintf(cfg->shard_port, sizeof(cfg->shard_port), "%.*s", (int)strcspn(o->ports[0], ","), o->ports[0]);
    }
    cfg->target_slots = o->target ? o->target_agents : 0;
    if (o->sides) {
        cfg->sides = 1;
        cfg->cross_all = o->cross_all;
        for (int side = 0; side < 2; side++) {
            /* DPDK's name of the device: a vdev's before its first comma */
            snprintf(cfg->side_port[side], sizeof(cfg->side_port[side]), "%.*s",
                     (int)strcspn(o->side[side], ","), o->side[side]);
            cfg->side_gateway[side] = o->side_gateway[side];
        }
    }
    return o->traffic == RI_TRAFFIC_DC ? dc_config(o, cfg, sctp_bufs_rate(x)) : 0;
}

/* The memory the run will take, by category (x->plan), against what the
 * machine has free. --dry-run prints it. Returns 0 to go on, 2 when it will
 * not fit (one line), 1 when it cannot be planned. */
static int plan_memory(struct ctl_run *x)
{
    const struct ctl_run_opts *o = &x->o;
    int rc = ctl_mem_plan_make(&x->plan, o, &x->cfg);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: memory plan: %s\n", rc == -E2BIG ? "run image too large" : strerror(-rc));
        return rc == -E2BIG ? 2 : 1;
    }
    x->r.plan = &x->plan;
    if (o->dry_run)
        ctl_mem_plan_print(stdout, &x->plan, o->n_cores);
    char err[320];
    if (ctl_mem_plan_check(&x->plan, err, sizeof(err)) < 0) {
        fprintf(stderr, "swarmgen: %s\n", err);
        return 2;
    }
    return 0;
}

/* --dry-run: the plan is printed; --report writes it. Returns the exit
 * code: 0, or 1 when the report cannot be written. */
static int finish_dry_run(struct ctl_run *x)
{
    if (!x->o.report_path)
        return 0;
    int rc = ctl_report_plan_json(x->o.report_path, &x->r);
    if (rc < 0) {
        fprintf(stderr, "swarmgen: --report %s: %s\n", x->o.report_path, strerror(-rc));
        return 1;
    }
    if (!x->o.quiet)
        printf("swarmgen: plan written to %s\n", x->o.report_path);
    return 0;
}

/* Fills every read-only section of the image from the graph: agents,
 * adjacency, edges (ports, worker, netem class), destinations and the
 * next-hop table. */
static int fill_image(struct ctl_image *img, const struct ctl_graph *g, const struct ctl_run_opts *o,
                      uint32_t n_dests, double *routing_s, char *err, size_t errlen)
{
    struct ri_header *h = img->hdr;
    uint32_t n = g->n, w = o->n_cores;
    struct ri_agent *ag = ri_section(h, RI_SEC_AGENTS);
    for (uint32_t i = 0; i < n; i++) {
        ag[i].ip = o->sides ? RI_SIDE_NET(IP_BASE, i & 1) + 1 + i / 2 : IP_BASE + 1 + i;
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
    if (ctl_route_sample_dests(n, n_dests, o->seed, dests, ri_section(h, RI_SEC_DEST_INDEX)) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (n_dests > 0) {
        uint64_t t0 = ctl_mono_ns();
        int rc = ctl_route_build(g, dests, n_dests, o->threads, ri_section(h, RI_SEC_ROUTES));
        *routing_s = (double)(ctl_mono_ns() - t0) / 1e9;
        if (rc < 0) {
            if (rc == -E2BIG)
                snprintf(err, errlen, "an agent has more than %u neighbours; routing tables hold 16-bit slots",
                         CTL_MAX_DEGREE);
            else
                snprintf(err, errlen, "routing table build failed (%d)", rc);
            return rc;
        }
    }
    return 0;
}

/* Creates the run image, fills it (the graph is freed then), prepares the
 * external section and the command block. */
static int write_image(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    char err[256];
    int rc = ctl_image_create(&x->img, &x->cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: run image: %s\n", err);
        return 1;
    }
    rc = fill_image(&x->img, &x->g, o, x->r.n_dests, &x->r.routing_s, err, sizeof(err));
    ctl_graph_free(&x->g);
    x->have_graph = false;
    if (rc < 0) {
        fprintf(stderr, "swarmgen: %s\n", err);
        return rc == -E2BIG ? 2 : 1;
    }
    x->r.image_bytes = x->img.size;
    if (o->external)
        ctl_external_prepare(ri_section(x->img.hdr, RI_SEC_EXTERNAL), o->external, o->external_max,
                             o->external_port, o->external_idle_ns);
    else if (o->target) /* the port only: the dataplane opens it for the target sessions */
        ctl_external_prepare(ri_section(x->img.hdr, RI_SEC_EXTERNAL), RI_EXT_OFF, 0, o->external_port, 0);
    if (o->target) {
        struct ri_target *t = ri_section(x->img.hdr, RI_SEC_TARGET);
        t->n_slots = o->target_agents;
        t->msg_size = o->msg_size;
        t->msg_interval_ns = o->target_rate > 0 ? (uint64_t)(1e9 / o->target_rate) : 0;
        t->setup_timeout_ns = o->target_timeout_ns;
        if (o->target_gateway) {
            t->gateway = o->target_gateway;
            t->link_mask = ~0u << (32 - o->target_link_len);
            t->link_net = o->target_gateway & t->link_mask;
        }
        t->media = o->media == RI_MEDIA_AUDIO ? RI_MEDIA_AUDIO : RI_MEDIA_NONE;
        t->feeds = ctl_target_feeds(o->target); /* janus-videoroom: a subscriber session receives this many feeds */
    }
    if (o->relay.on) { /* --relay: the server and credentials for worker 0 (docs/turn.md) */
        struct ri_relay *rl = ri_section(x->img.hdr, RI_SEC_RELAY);
        rl->on = 1;
        rl->server_ip = o->relay.ip;
        rl->server_port = o->relay.port;
        rl->transport = o->relay.tcp ? RI_RELAY_TCP : RI_RELAY_UDP;
        /* a port of its own per run: a server keeps a released 5-tuple
         * a while and answers a new Allocate on it 437 (coturn does) */
        uint16_t draw = 0;
        if (getrandom(&draw, sizeof(draw), 0) != sizeof(draw))
            draw = (uint16_t)getpid();
        rl->local_port = (uint16_t)(RI_RELAY_LOCAL_PORT + draw % RI_RELAY_LOCAL_PORTS);
        memcpy(rl->user, o->relay.user, sizeof(rl->user));
        memcpy(rl->pass, o->relay.pass, sizeof(rl->pass));
        memcpy(rl->realm, o->relay.realm, sizeof(rl->realm));
        snprintf(rl->port, sizeof(rl->port), "%s", o->external_port);
        x->r.relay = rl;
    }
    x->cmd = ctl_image_command(&x->img);
    x->cmd->rate_msgs_per_s = 0;
    x->cmd->active_agents = o->agents;
    ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_SETUP);
    return 0;
}

/* Finds the dataplane binary, builds its arguments, allocates the
 * snapshots the run takes. */
static int prepare_dataplane(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    char dp_path[4096];
    if (ctl_dp_find(o, dp_path, sizeof(dp_path)) < 0) {
        if (o->backend == RI_BACKEND_USRSCTP)
            fprintf(stderr, "swarmgen: cannot find the swarmgen-usrsctp binary (use --dp PATH or SWARMGEN_USRSCTP)\n");
        else
            fprintf(stderr, "swarmgen: cannot find the swarmgen-dp binary (use --dp PATH or SWARMGEN_DP)\n");
        return 1;
    }
    if (ctl_dp_build_argv(&x->dp, o, dp_path, x->img.path, x->cfg.n_edges) < 0) {
        fprintf(stderr, "swarmgen: --eal: too many dataplane arguments\n");
        return 2;
    }
    x->setup_interval = calloc(1, sizeof(*x->setup_interval));
    for (int i = 0; i < CTL_SNAPS; i++) {
        if (!x->setup_interval || ctl_snap_init(&x->snap[i], o->n_cores) < 0) {
            fprintf(stderr, "swarmgen: out of memory\n");
            return 1;
        }
    }
    return 0;
}

/* --prom: the Prometheus endpoint, serving a set-up page until the first
 * snapshot. */
static int start_prom(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    if (!o->prom_addr)
        return 0;
    char err[256];
    int rc = ctl_prom_start(&x->prom, o->prom_addr, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: --prom: %s\n", err);
        return rc == -EINVAL ? 2 : 1;
    }
    x->prom_on = true;
    struct ctl_prom_info info = {.agents = o->agents, .edges = x->stats.edges,
                                 .connections = o->traffic == RI_TRAFFIC_DC, .phase = "setup"};
    ctl_prom_publish(&x->prom, &x->snap[CTL_SNAP_TICK], &info);
    if (!o->quiet)
        printf("swarmgen: Prometheus metrics at http://%s/metrics (port %u)\n", o->prom_addr,
               x->prom.port);
    return 0;
}

static void announce_mesh(const struct ctl_run *x)
{
    const struct ctl_run_opts *o = &x->o;
    if (o->quiet)
        return;
    printf("swarmgen: %u agents, %s (%llu connections, diameter %u%s), built in %.2f s, analysed in %.2f s, routes in %.2f s\n",
           o->agents, x->r.topology, (unsigned long long)x->stats.edges, x->stats.diameter,
           x->stats.exact ? "" : " sampled", x->r.build_s, x->r.analysis_s, x->r.routing_s);
    printf("swarmgen: starting dataplane on cores %s (%s, %llu MiB); memory planned %.1f MiB, %.0f bytes per agent\n",
           o->cores_text, x->dp.hugepages ? "hugepages" : "no hugepages", (unsigned long long)x->dp.mem_mb,
           x->plan.out.total / 1048576.0, x->plan.out.per_agent);
    fflush(stdout);
}

/* --external: the WHIP server, once the dataplane published its
 * certificate (READY). Stops the dataplane when it cannot start. */
static int start_external(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    if (!o->external)
        return 0;
    char err[256];
    struct ctl_signal_config access = {.token = o->signal_token,
                                       .origins = o->signal_origins,
                                       .max_per_client = o->signal_max_per_client};
    int rc = ctl_external_start(&x->ext, ri_section(x->img.hdr, RI_SEC_EXTERNAL),
                                ri_section(x->img.hdr, RI_SEC_AGENTS), o->agents, o->external,
                                o->external_active, o->signal_addr, &access, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "swarmgen: --signal %s: %s\n", o->signal_addr, err);
        ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_STOP);
        ctl_dp_reap(&x->dp, 5000);
        return rc == -EINVAL ? 2 : 1;
    }
    x->ext.dtls_versions = x->cfg.ext_dtls_versions;
    x->r.external = &x->ext;
    if (!o->quiet) {
        printf("swarmgen: external peers (%s): WHIP at http://%s/whip/agents/{0..%u}, through %s; "
               "%s, browser origins: %s\n",
               o->external == RI_EXT_ROUTE ? "route" : "echo", o->signal_addr, o->agents - 1,
               x->ext.x->port_desc, o->signal_token ? "bearer token required" : "no token",
               o->signal_origins[0] ? o->signal_origins : "none");
        fflush(stdout);
    }
    return 0;
}

/* --target: the target thread, once the dataplane published its
 * certificate (READY). Stops the dataplane when it cannot start. */
static int start_target(struct ctl_run *x)
{
    struct ctl_run_opts *o = &x->o;
    if (!o->target)
        return 0;
    char err[256];
    struct ctl_target_config *c = &x->target_cfg;
    int rc = ctl_target_parse(o->target, c, err, sizeof(err));
    if (rc == 0) {
        snprintf(c->token, sizeof(c->token), "%s", o->target_token ? o->target_token : "");
        c->n_sessions = o->target_agents;
        c->join_rate = o->join_rate;
        c->join_ramp = o->join_ramp || ctl_profile_has_joins(&x->profile);
        c->audio = o->media == RI_MEDIA_AUDIO || o->media == RI_MEDIA_VIDEO;
        c->video = o->media == RI_MEDIA_VIDEO;
        c->http_timeout_ns = o->target_timeout_ns;
        c->max_inflight = 64;
        c->relay = o->relay.on; /* each session through its agent's TURN allocation */
        rc = ctl_target_start(&x->target, c, ri_section(x->img.hdr, RI_SEC_TARGET),
                              ri_section(x->img.hdr, RI_SEC_EXTERNAL), ri_section(x->img.hdr, RI_SEC_AGENTS),
                              o->agents, err, sizeof(err));
    }
    if (rc < 0) {
        fprintf(stderr, "swarmgen: --target %s: %s\n", o->target, err);
        ri_store(&x->cmd->phase, (uint32_t)RI_PHASE_STOP);
        ctl_dp_reap(&x->dp, 5000);
        return rc == -EINVAL ? 2 : 1;
    }
    x->target_view = (struct ctl_target_view){.cfg = c, .t = ri_section(x->img.hdr, RI_SEC_TARGET),
                                              .res = ctl_target_results(x->target),
                                              .dtls_versions = x->cfg.ext_dtls_versions};
    x->r.target = &x->target_view;
    if (!o->quiet) {
        const struct ri_external *ex = ri_section(x->img.hdr, RI_SEC_EXTERNAL);
        const struct ri_relay *rl = ri_section(x->img.hdr, RI_SEC_RELAY);
        printf("swarmgen: target %s: %u sessions (agents 0..%u), %s, through %s%s\n", o->target,
               o->target_agents, o->target_agents - 1,
               c->join_ramp      ? "joining during the load at the profile's join rate"
               : o->join_rate > 0 ? "joining at --join-rate"
                                  : "joining as fast as the server answers",
               o->relay.on ? "the TURN relay on " : "", o->relay.on ? rl->port_desc : ex->port_desc);
        fflush(stdout);
    }
    return 0;
}

/* What the ready dataplane published (memory, ports, lcores, TSC rate)
 * into the run result, and the lines that say so. */
static void take_dataplane_figures(struct ctl_run *x)
{
    const struct ctl_run_opts *o = &x->o;
    const struct ri_command *cmd = x->cmd;
    struct ctl_run_result *r = &x->r;
    r->tsc_hz = cmd->tsc_hz;
    r->dpdk_bytes = cmd->mem_dpdk_bytes;
    r->mem_conn_bytes = cmd->mem_conn_bytes;
    r->mem_sctp_pool_bytes = cmd->mem_sctp_pool_bytes;
    r->mem_dp_buf_bytes = cmd->mem_dp_buf_bytes;
    r->mem_mbuf_bytes = cmd->mem_mbuf_bytes;
    r->mem_hs_bytes = cmd->mem_hs_bytes;
    r->mem_cert_bytes = cmd->mem_cert_bytes;
    r->mem_tables_bytes = cmd->mem_tables_bytes;
    if (o->target) /* both written by the dataplane before READY */
        r->mem_target_bytes = ((const struct ri_target *)ri_section(x->img.hdr, RI_SEC_TARGET))->mem_bytes;
    if (o->relay.on)
        r->mem_relay_bytes = ((const struct ri_relay *)ri_section(x->img.hdr, RI_SEC_RELAY))->mem_bytes;
    r->n_certs = cmd->n_certs;
    r->cert_gen_ns = cmd->cert_gen_ns;
    r->hugepages = cmd->hugepages;
    snprintf(r->port_desc, sizeof(r->port_desc), "%s", cmd->port_desc);
    for (int side = 0; side < 2; side++)
        r->side_gw_mac[side] = ri_load(&cmd->side_gw_mac[side]);
    memcpy(r->lcore, cmd->lcore, sizeof(r->lcore));
    if (o->quiet)
        return;
    printf("swarmgen: dataplane ready in %.2f s: %s, %.1f MiB DPDK memory; profile %s, %u phase%s, %.1f s\n",
           r->dp_setup_s, r->port_desc, r->dpdk_bytes / 1048576.0, x->profile.name,
           x->profile.n, x->profile.n == 1 ? "" : "s", ctl_profile_duration(&x->profile) / 1e9);
    if (o->traffic == RI_TRAFFIC_DC)
        printf("swarmgen: connect phase: %llu peer connections, up to %u in set-up per core, %u attempt%s each, at most %.0f s%s; %.1f MiB of connection state\n",
               (unsigned long long)x->cfg.n_edges, o->setup_cap, o->setup_attempts,
               o->setup_attempts == 1 ? "" : "s", o->setup_timeout_ns / 1e9,
               o->setup_timeout_auto ? " or twice what the set-up rate needs" : "", r->mem_conn_bytes / 1048576.0);
    fflush(stdout);
}

/* ---- the end ---- */

/* The verdicts (SLA, spike, soak) on top of `exit_code` from the live run:
 * 1 when a threshold is breached, 130 when interrupted. */
static int judge(struct ctl_run *x, int exit_code)
{
    struct ctl_run_result *r = &x->r;
    ctl_judge_sla(&x->sla, &r->final->total, &r->final->latency, ctl_run_setup_hist(x, r->final),
                  r->duration_s, x->phase, x->profile.n, &x->judge);
    ctl_judge_spike(&x->profile, &x->ts, &x->judge);
    if (x->o.profile && strcmp(x->o.profile, "soak") == 0 && x->rss)
        ctl_judge_soak(&x->ts, x->rss, &x->judge);
    if (x->generating)
        ctl_judge_outages(x->o.netem, x->o.n_netem, &x->ts, r->duration_s, r->final->total.conn_closed,
                          r->final->total.conn_reestablished, &x->judge.outages);
    if (exit_code == 0 && x->judge.breached)
        exit_code = 1;
    if (exit_code == 0 && r->interrupted)
        exit_code = 130;
    return exit_code;
}

/* Reports what a writer returned: a line on stderr when it failed (the
 * exit code becomes 1 unless it is already set), `done` on stdout when it
 * did. */
static int written(const struct ctl_run *x, int rc, const char *flag, const char *path,
                   const char *done, int exit_code)
{
    if (rc < 0) {
        fprintf(stderr, "swarmgen: %s %s: %s\n", flag, path, strerror(-rc));
        return exit_code ? exit_code : 1;
    }
    if (done && !x->o.quiet)
        printf("swarmgen: %s %s\n", done, path);
    return exit_code;
}

/* The summary on stdout, then --csv, --html and --report. */
static int write_outputs(struct ctl_run *x, int exit_code)
{
    const struct ctl_run_opts *o = &x->o;
    if (ri_load(&x->cmd->dp_state) == RI_DP_DONE && !x->agents.a &&
        ctl_agents_collect(&x->agents, x->img.hdr, &x->cfg) == 0) {
        x->agents.top_n = o->agents_top ? o->agents_top : 5;
        ctl_agents_routing(&x->agents, x->img.hdr, &x->cfg, 32);
        x->r.agents = &x->agents;
    }
    ctl_report_summary(stdout, &x->r);
    ctl_agents_summary(stdout, x->r.agents);
    if (o->agents_csv && x->r.agents)
        exit_code = written(x, ctl_agents_csv(o->agents_csv, x->r.agents), "--agents-csv", o->agents_csv,
                            "per-agent CSV written to", exit_code);
    const char *phase_names[CTL_MAX_PHASES];
    for (uint32_t i = 0; i < x->profile.n; i++)
        phase_names[i] = x->profile.phase[i].name;
    if (o->csv_path)
        exit_code = written(x, ctl_ts_write_csv(&x->ts, phase_names, o->csv_path), "--csv",
                            o->csv_path, NULL, exit_code);
    if (o->html_path)
        exit_code = written(x, ctl_report_html(o->html_path, &x->r, ctl_run_setup_hist(x, x->r.final)),
                            "--html", o->html_path, "HTML report written to", exit_code);
    if (o->report_path)
        exit_code = written(x, ctl_report_json(o->report_path, &x->r), "--report", o->report_path,
                            "report written to", exit_code);
    if (o->clients_csv && x->r.target)
        exit_code = written(x, ctl_report_target_csv(o->clients_csv, x->r.target), "--clients-csv",
                            o->clients_csv, "per-client CSV written to", exit_code);
    return exit_code;
}

/* ---- the run ---- */

/* What every shard of one swarm has in common, hashed: a shard started
 * with other flags is refused at the barrier. */
static uint64_t swarm_key(const struct ctl_run *x)
{
    uint64_t h = 0xcbf29ce484222325ull;
    uint64_t v[] = {x->o.seed,    x->o.agents,   x->cfg.n_edges, x->o.n_shards,  x->o.traffic,
                    x->o.pattern, x->o.msg_size, x->o.rate,      x->o.clock_wall};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        h = (h ^ v[i]) * 0x100000001b3ull;
    for (const char *c = x->cfg.topology; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    return h;
}

/* --shard: the barrier's socket, before anything starts (shard 0 must be
 * able to listen). 0, or 2 with one line. */
static int open_barrier(struct ctl_run *x)
{
    x->barrier.listen_fd = -1;
    x->barrier.fd = NULL;
    if (!x->o.n_shards)
        return 0;
    x->r.shards_gone = x->barrier.gone;
    char err[320];
    if (ctl_barrier_parse(&x->barrier, x->o.barrier) < 0 ||
        ctl_barrier_open(&x->barrier, x->o.shard, x->o.n_shards, swarm_key(x), err, sizeof(err)) < 0) {
        fprintf(stderr, "swarmgen: %s\n", err);
        return 2;
    }
    return 0;
}

static int run_main(struct ctl_run *x, int argc, char **argv)
{
    ctl_run_opts_parse(&x->o, argc, argv);
    struct ctl_run_result *r = &x->r;
    r->opts = &x->o;
    r->profile = &x->profile;
    r->sla = &x->sla;
    r->judge = &x->judge;
    r->phase = x->phase;
    r->ts = &x->ts;
    int rc;
    if ((rc = load_profile(x)) || (rc = build_mesh(x)) || (rc = choose_destinations(x)) ||
        (rc = make_config(x)) || (rc = plan_memory(x)))
        return rc;
    if (x->o.dry_run)
        return finish_dry_run(x);
    if ((rc = open_barrier(x)) || (rc = write_image(x)) || (rc = prepare_dataplane(x)) || (rc = start_prom(x)))
        return rc;
    ctl_run_catch_signals();
    announce_mesh(x);
    if ((rc = ctl_run_start_dataplane(x)) || (rc = start_external(x)) || (rc = start_target(x)))
        return rc;
    take_dataplane_figures(x);
    rc = ctl_run_live(x);
    rc = judge(x, rc);
    return write_outputs(x, rc);
}

static void run_free(struct ctl_run *x)
{
    ctl_external_stop(&x->ext);
    if (x->target) {
        ctl_target_stop(x->target, 0);
        ctl_target_free(x->target);
        x->target = NULL;
    }
    ctl_barrier_close(&x->barrier);
    if (x->prom_on)
        ctl_prom_stop(&x->prom);
    if (x->have_graph)
        ctl_graph_free(&x->g);
    if (x->have_stats)
        ctl_topo_stats_free(&x->stats);
    ctl_image_destroy(&x->img);
    ctl_agents_free(&x->agents);
    for (int i = 0; i < CTL_SNAPS; i++)
        ctl_snap_free(&x->snap[i]);
    free(x->setup_interval);
    for (int i = 0; i < CTL_MAX_PHASES; i++)
        free(x->phase[i].lat);
    ctl_ts_free(&x->ts);
    free(x->rss);
}

int ctl_run_main(int argc, char **argv)
{
    static struct ctl_run x; /* large (histograms): not on the stack */
    int rc = run_main(&x, argc, argv);
    run_free(&x);
    return rc;
}
