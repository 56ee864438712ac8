/* SPDX-License-Identifier: MIT */
/*
 * swarmgen-usrsctp: the usrsctp baseline backend, a drop-in for swarmgen-dp
 * as the control process sees it.
 *
 *   swarmgen-usrsctp --image PATH --cores LIST
 *   swarmgen-usrsctp [EAL options] -- --image PATH     (swarmgen-dp's argv:
 *                    the cores from -l LIST, every other EAL option ignored)
 *
 * Maps the run image, refuses a foreign one, builds the workers (kernel UDP
 * sockets on loopback, certificates, mbedTLS configs), reports READY, waits
 * for control to leave SETUP, runs one pinned worker thread per core,
 * publishes the final counters as the last snapshot and reports DONE
 * (exit 0). A set-up failure is written into the image and stderr (exit 1);
 * bad arguments print one line (exit 2). SIGINT/SIGTERM stop the workers.
 *
 * Memory per connection (command.mem_conn_bytes): the connection table
 * allocated at start, plus the growth of the process heap (malloc's
 * in-use bytes, all arenas: mbedTLS contexts and their record buffers,
 * usrsctp's associations and socket buffers) from the start of the
 * workers to the moment every connection is up or given up; published at
 * READY (the table only) and again then. Kernel socket memory is not in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <usrsctp.h>

#include "run_image_map.h"
#include "us.h"

#define USAGE                                                                                      \
    "usage: swarmgen-usrsctp --image PATH --cores LIST (or swarmgen-dp's [EAL] -- --image PATH)"

static void on_signal(int sig)
{
    (void)sig;
    us_stop = true;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

/* "0,1", "0-3", "0-1,4" into cpus[]; the count, or -1 when malformed. */
static int parse_cores(const char *s, uint32_t *cpus)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0 || a >= CPU_SETSIZE)
            return -1;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a || b >= CPU_SETSIZE)
                return -1;
            p = end;
        }
        for (long c = a; c <= b; c++) {
            if (n == RI_MAX_WORKERS)
                return -1;
            cpus[n++] = (uint32_t)c;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n;
}

static int map_image(const char *path, struct us_ctx *ctx, char *err, size_t errlen)
{
    struct ri_header *h = NULL;
    int rc = ri_map(path, &h, &ctx->ri.size, err, errlen);
    if (rc < 0)
        return rc;
    ri_view_bind(&ctx->ri, h, ctx->ri.size);
    return 0;
}

static void fail(struct us_ctx *ctx, int rc, const char *msg)
{
    fprintf(stderr, "swarmgen-usrsctp: %s\n", msg);
    if (ctx->ri.hdr) {
        snprintf(ctx->ri.cmd->dp_message, sizeof(ctx->ri.cmd->dp_message), "%s", msg);
        ctx->ri.cmd->dp_error = rc;
        ri_store(&ctx->ri.cmd->dp_state, (uint32_t)RI_DP_FAILED);
    }
}

/* What this backend does not carry: one line each. */
static int check_supported(const struct us_ctx *ctx, char *err, size_t errlen)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    const struct ri_external *ext = ri_section(ctx->ri.hdr, RI_SEC_EXTERNAL);
    if (ext->mode != RI_EXT_OFF)
        snprintf(
            err, errlen,
            "the usrsctp backend has no external peers (--external, --signal): use --backend dpdk");
    else if (cfg->traffic != RI_TRAFFIC_DC)
        snprintf(err, errlen,
                 "the usrsctp backend carries DataChannel traffic only (--traffic dc)");
    else if (cfg->media != RI_MEDIA_NONE)
        snprintf(err, errlen,
                 "the usrsctp backend has no media (SRTP) yet: run it without --media");
    else if (cfg->n_ports)
        snprintf(err, errlen,
                 "the usrsctp backend uses kernel UDP sockets on loopback: --port is for DPDK");
    else if (cfg->pcap_count)
        snprintf(err, errlen, "the usrsctp backend cannot capture (--pcap): use tcpdump -i lo");
    else {
        for (int i = 0; i < RI_NETEM_CLASSES; i++)
            if (cfg->netem[i].enabled) {
                snprintf(
                    err, errlen,
                    "the usrsctp backend has no network emulation (--netem): use tc netem on lo");
                return -ENOTSUP;
            }
        return 0;
    }
    return -ENOTSUP;
}

/* RLIMIT_NOFILE up to what the sockets need (root may raise the hard
 * limit up to fs.nr_open). */
static int raise_fd_limit(uint64_t need, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur >= need)
        return 0;
    struct rlimit want = {need, rl.rlim_max > need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    want.rlim_max = rl.rlim_max;
    if (rl.rlim_max >= need && setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    snprintf(err, errlen,
             "%llu file descriptors needed (two UDP sockets per connection), the limit is %llu: "
             "raise ulimit -n "
             "(or fs.nr_open)",
             (unsigned long long)need, (unsigned long long)rl.rlim_max);
    return -EMFILE;
}

/* The TSC rate against CLOCK_MONOTONIC over 20 ms. */
static uint64_t tsc_rate(void)
{
    uint64_t t0 = mono_ns(), c0 = us_rdtsc();
    sleep_ns(20000000ull);
    uint64_t t1 = mono_ns(), c1 = us_rdtsc();
    return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
}

static uint64_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static int write_keylog(const struct us_ctx *ctx, char *err, size_t errlen)
{
    if (!ctx->ri.cfg->keylog_max)
        return 0;
    FILE *f = fopen(ctx->ri.cfg->keylog_path, "w");
    if (!f) {
        snprintf(err, errlen, "--keylog %.200s: cannot write", ctx->ri.cfg->keylog_path);
        return -EIO;
    }
    for (uint32_t w = 0; w < ctx->n_workers; w++)
        for (uint32_t i = 0; ctx->worker[w] && i < ctx->worker[w]->keylog_n; i++)
            fputs(ctx->worker[w]->keylog + (size_t)200 * i, f);
    return fclose(f) == 0 ? 0 : -EIO;
}

/* Parses either argv form. Returns 0, or 2 after printing one line. */
static int parse_args(int argc, char **argv, const char **image, const char **cores)
{
    int dashdash = -1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dashdash = i;
            break;
        }
    int first = 1;
    if (dashdash > 0) {
        /* swarmgen-dp's EAL part: only the core list matters here */
        for (int i = 1; i < dashdash; i++) {
            if (strcmp(argv[i], "-l") == 0 && i + 1 < dashdash)
                *cores = argv[++i];
            else if (strncmp(argv[i], "-l", 2) == 0 && argv[i][2])
                *cores = argv[i] + 2;
            else if (strncmp(argv[i], "--lcores=", 9) == 0)
                *cores = argv[i] + 9;
        }
        first = dashdash + 1;
    }
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s\n", USAGE);
            exit(0);
        } else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc) {
            *image = argv[++i];
        } else if (strcmp(argv[i], "--cores") == 0 && i + 1 < argc) {
            *cores = argv[++i];
        } else {
            fprintf(stderr, "swarmgen-usrsctp: unknown argument '%s' (%s)\n", argv[i], USAGE);
            return 2;
        }
    }
    if (!*image || !*cores) {
        fprintf(stderr, "swarmgen-usrsctp: %s is required (%s)\n",
                !*image ? "--image PATH" : "--cores LIST", USAGE);
        return 2;
    }
    return 0;
}

/* What control shows of this backend: rate, workers, memory, ports. */
static void announce_ready(struct us_ctx *ctx)
{
    struct ri_command *cmd = ctx->ri.cmd;
    const struct ri_config *cfg = ctx->ri.cfg;
    cmd->tsc_hz = ctx->tsc_hz;
    cmd->n_workers = ctx->n_workers;
    cmd->mem_dpdk_bytes = 0;
    cmd->mem_worker_bytes = ctx->worker_bytes;
    cmd->mem_conn_bytes = ctx->conn_bytes;
    cmd->mem_hs_bytes = 0; /* mbedTLS's handshake state lives in the connection's heap, measured with it */
    cmd->hugepages = 0;
    for (uint32_t w = 0; w < ctx->n_workers; w++)
        cmd->lcore[w] = ctx->cpus[w];
    cmd->port_count = (uint32_t)(2 * cfg->n_edges);
    snprintf(cmd->port_desc, sizeof(cmd->port_desc), "kernel UDP sockets on loopback x%llu (usrsctp, mbedTLS)",
             (unsigned long long)(2 * cfg->n_edges));
    ri_store(&cmd->dp_state, (uint32_t)RI_DP_READY);
}

/* Starts one pinned thread per worker; how many started. */
static uint32_t start_workers(struct us_ctx *ctx)
{
    char err[256];
    uint32_t started = 0;
    for (uint32_t w = 0; w < ctx->n_workers; w++) {
        struct us_worker *wk = ctx->worker[w];
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(wk->cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
        int rc = pthread_create(&wk->th, &attr, us_worker_loop, wk);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            snprintf(err, sizeof(err), "worker thread on core %u: %s", wk->cpu, strerror(rc));
            fail(ctx, -rc, err);
            us_stop = true;
            break;
        }
        wk->started = true;
        started++;
    }
    return started;
}

/* Runs the workers to their end, measuring the connection memory as the
 * heap's growth once every connection settled (or at the end). */
static void run_workers(struct us_ctx *ctx)
{
    struct ri_command *cmd = ctx->ri.cmd;
    uint64_t heap0 = heap_in_use();
    uint32_t started = start_workers(ctx);
    bool measured = false;
    while ((uint32_t)__atomic_load_n(&ctx->workers_done, __ATOMIC_ACQUIRE) < started) {
        sleep_ns(10000000ull);
        uint64_t settled = 0;
        for (uint32_t w = 0; w < ctx->n_workers; w++)
            settled += __atomic_load_n(&ctx->ri.metrics[w].live.conn_established, __ATOMIC_RELAXED) +
                       __atomic_load_n(&ctx->ri.metrics[w].live.conn_given_up, __ATOMIC_RELAXED);
        if (!measured && settled >= ctx->ri.cfg->n_edges) {
            uint64_t h = heap_in_use();
            ri_set(cmd->mem_conn_bytes, ctx->conn_bytes + (h > heap0 ? h - heap0 : 0));
            measured = true;
        }
    }
    for (uint32_t w = 0; w < ctx->n_workers; w++)
        if (ctx->worker[w]->started)
            pthread_join(ctx->worker[w]->th, NULL);
    if (!measured) {
        uint64_t h = heap_in_use();
        cmd->mem_conn_bytes = ctx->conn_bytes + (h > heap0 ? h - heap0 : 0);
    }
}

int main(int argc, char **argv)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    static struct us_ctx ctx;
    char err[256];
    const char *image = NULL, *cores = NULL;
    if (parse_args(argc, argv, &image, &cores) != 0)
        return 2;
    int n = parse_cores(cores, ctx.cpus);
    if (n <= 0) {
        fprintf(stderr, "swarmgen-usrsctp: --cores '%s': expected a list such as 0,1 or 0-3\n", cores);
        return 2;
    }
    ctx.n_workers = (uint32_t)n;
    int rc = map_image(image, &ctx, err, sizeof(err));
    if (rc < 0) {
        fail(&ctx, rc, err);
        return 1;
    }
    struct ri_command *cmd = ctx.ri.cmd;
    const struct ri_config *cfg = ctx.ri.cfg;
    if (cfg->n_workers != ctx.n_workers) {
        snprintf(err, sizeof(err), "run image expects %u workers, --cores gave %u", cfg->n_workers, ctx.n_workers);
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = check_supported(&ctx, err, sizeof(err));
    if (rc == 0)
        rc = raise_fd_limit(2 * cfg->n_edges + 4ull * ctx.n_workers + 64, err, sizeof(err));
    if (rc < 0) {
        fail(&ctx, rc, err);
        munmap(ctx.ri.hdr, ctx.ri.size);
        return 1;
    }
    ctx.tsc_hz = tsc_rate();
    ctx.ns_per_cycle = 1e9 / (double)ctx.tsc_hz;
    /* one usrsctp stack, no threads of its own: worker 0 runs its timers */
    usrsctp_init_nothreads(0, us_conn_output, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    /* libdatachannel's delayed SACK (20 ms, not RFC 9260's 200 ms): with
     * few messages per association a 200 ms SACK races the 200 ms RTO */
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    rc = us_setup(&ctx, err, sizeof(err));
    if (rc < 0) {
        fail(&ctx, rc, err);
        us_teardown(&ctx);
        munmap(ctx.ri.hdr, ctx.ri.size);
        return 1;
    }
    announce_ready(&ctx);

    while (!us_stop && ri_load(&cmd->phase) == RI_PHASE_SETUP)
        sleep_ns(1000000);
    ri_store(&cmd->dp_state, (uint32_t)RI_DP_RUNNING);
    if (!us_stop && ri_load(&cmd->phase) != RI_PHASE_STOP)
        run_workers(&ctx);
    /* workers stopped: live counters are final; publish them as the last snapshot */
    for (uint32_t w = 0; w < ctx.n_workers; w++)
        ri_metrics_copy(&ctx.ri.metrics[w], 1);
    if (write_keylog(&ctx, err, sizeof(err)) < 0) {
        fprintf(stderr, "swarmgen-usrsctp: %s\n", err);
        snprintf(cmd->dp_message, sizeof(cmd->dp_message), "%s", err);
    }
    if (ri_load(&cmd->dp_state) != RI_DP_FAILED)
        ri_store(&cmd->dp_state, (uint32_t)RI_DP_DONE);
    /* usrsctp's associations still point at the endpoints: no thread of
     * its runs any more, and the process ends here */
    int code = ri_load(&cmd->dp_state) == RI_DP_FAILED ? 1 : 0;
    us_teardown(&ctx);
    munmap(ctx.ri.hdr, ctx.ri.size);
    return code;
}
