/* SPDX-License-Identifier: MIT */
/*
 * swarmgen-dp: the DPDK dataplane process.
 *
 *   swarmgen-dp [EAL options] -- --image PATH
 *
 * Normally started by `swarmgen run`, which writes the run image and passes
 * the EAL options (lcores, ports, memory). The process maps the image,
 * builds ports, pools and flow tables, reports READY, waits for the RUN
 * phase, runs the worker loop on every lcore (the main lcore included) and
 * publishes its final counters before it reports DONE and exits 0. On a
 * set-up failure it writes the reason into the image (and stderr) and exits 1.
 * SIGINT/SIGTERM stop the workers at their next pass; the normal exit path
 * then runs, so nothing (hugepage files, shared memory) is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dp_sides.h"
#include "run_image_map.h"
#include "dp_conn.h"
#include "dp_pcap.h"

static void on_signal(int sig)
{
    (void)sig;
    dp_stop = true;
}

static int map_image(const char *path, struct dp_ctx *ctx, char *err, size_t errlen)
{
    return ri_map(path, &ctx->ri.hdr, &ctx->ri.size, err, errlen);
}

static void fail(struct dp_ctx *ctx, int rc, const char *msg)
{
    fprintf(stderr, "swarmgen-dp: %s\n", msg);
    if (ctx->ri.hdr) {
        struct ri_command *cmd = ri_section(ctx->ri.hdr, RI_SEC_COMMAND);
        snprintf(cmd->dp_message, sizeof(cmd->dp_message), "%s", msg);
        cmd->dp_error = rc;
        ri_store(&cmd->dp_state, (uint32_t)RI_DP_FAILED);
    }
}

int main(int argc, char **argv)
{
    /* die with the control process, whatever happens to it */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    static struct dp_ctx ctx;
    char err[256];
    int eal = rte_eal_init(argc, argv);
    if (eal < 0) {
        fprintf(stderr, "swarmgen-dp: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    argc -= eal;
    argv += eal;
    const char *image = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
            image = argv[++i];
        else {
            fprintf(stderr, "swarmgen-dp: unknown argument '%s' (usage: swarmgen-dp [EAL] -- --image PATH)\n",
                    argv[i]);
            rte_eal_cleanup();
            return 2;
        }
    }
    if (!image) {
        fprintf(stderr, "swarmgen-dp: --image PATH is required\n");
        rte_eal_cleanup();
        return 2;
    }
    int rc = map_image(image, &ctx, err, sizeof(err));
    if (rc < 0) {
        fail(&ctx, rc, err);
        rte_eal_cleanup();
        return 1;
    }
    struct ri_command *cmd = ri_section(ctx.ri.hdr, RI_SEC_COMMAND);
    uint64_t heap_before = dp_heap_allocated();
    rc = dp_setup(&ctx, err, sizeof(err));
    if (rc < 0) {
        fail(&ctx, rc, err);
        dp_teardown(&ctx);
        rte_eal_cleanup();
        return 1;
    }
    cmd->tsc_hz = ctx.tsc_hz;
    cmd->n_workers = ctx.n_workers;
    cmd->mem_dpdk_bytes = dp_heap_allocated();
    cmd->mem_worker_bytes = cmd->mem_dpdk_bytes - heap_before;
    cmd->hugepages = rte_eal_has_hugepages() ? 1 : 0;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    uint64_t realtime_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
    uint64_t tsc_at = rte_rdtsc();
    ri_store(&cmd->dp_state, (uint32_t)RI_DP_READY);

    /* wait for control to start the run (or stop it before it starts) */
    uint32_t down_ms = 0;
    while (!dp_stop && ri_load(&cmd->phase) == RI_PHASE_SETUP) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        if (ctx.sides && ctx.ri.cfg->n_shards > 1) { /* the link to the other shards, for control */
            struct rte_eth_link link;
            uint16_t p = ctx.sides->port[0];
            uint32_t up = rte_eth_link_get_nowait(p, &link) != 0 || link.link_status;
            if (up != cmd->link_up)
                ri_store(&cmd->link_up, up);
            /* a link still down after 3 s is started again: a memif pair whose
             * two ends started at the same moment can miss its handshake */
            down_ms = up ? 0 : down_ms + 1;
            if (down_ms >= 3000) {
                down_ms = 0;
                rte_eth_dev_stop(p);
                rte_eth_dev_start(p);
            }
        }
    }
    ri_store(&cmd->dp_state, (uint32_t)RI_DP_RUNNING);
    bool polled = false;
    if (!dp_stop && ri_load(&cmd->phase) != RI_PHASE_STOP) {
        polled = true;
        rte_eal_mp_remote_launch(dp_worker_loop, &ctx, CALL_MAIN);
        rte_eal_mp_wait_lcore();
    }
    /* workers are stopped: live counters are final; publish them as the last snapshot */
    for (uint32_t w = 0; w < ctx.n_workers; w++) {
        if (ctx.worker[w])
            dp_worker_gauges(&ctx, ctx.worker[w]);
        ri_metrics_copy(&ctx.ri.metrics[w], 1);
    }
    if (dp_pcap_write(&ctx, realtime_ns, tsc_at, err, sizeof(err)) < 0) {
        fprintf(stderr, "swarmgen-dp: %s\n", err);
        snprintf(cmd->dp_message, sizeof(cmd->dp_message), "%s", err);
    }
    if (dp_keylog_write(&ctx, err, sizeof(err)) < 0) {
        fprintf(stderr, "swarmgen-dp: %s\n", err);
        snprintf(cmd->dp_message, sizeof(cmd->dp_message), "%s", err);
    }
    ri_store(&cmd->dp_state, (uint32_t)RI_DP_DONE);
    /* --shard: the link closes once every shard stopped polling it (control
     * meets the others at the quiet barrier, then sets may_close); 30 s at most */
    for (int i = 0; polled && ctx.ri.cfg->n_shards > 1 && i < 30000 && !dp_stop && !ri_load(&cmd->may_close); i++)
        usleep(1000);
    dp_teardown(&ctx);
    munmap(ctx.ri.hdr, ctx.ri.size);
    rte_eal_cleanup();
    return 0;
}
