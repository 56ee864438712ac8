/* SPDX-License-Identifier: MIT */
/*
 * dp_launch: starts and supervises the dataplane process: swarmgen-dp
 * (--backend dpdk or uring) or swarmgen-usrsctp (--backend usrsctp).
 *
 * The EAL arguments follow from the run options: lcores (-l), --in-memory
 * (no shared config and no hugepage files on disk, so nothing is left behind),
 * hugepages when enough are free (else --no-huge -m MB), the embedded
 * net_ring loopback ports or the user's --port devices. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_DP_LAUNCH_H
#define SWARMGEN_CONTROL_DP_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "run_opts.h"

#define DP_ARGV_MAX 96

struct ctl_dp {
    pid_t pid;           /* 0 when not running */
    int status;          /* wait status once exited */
    bool exited;
    bool hugepages;      /* dataplane asked to use hugepages */
    uint64_t mem_mb;     /* memory sized for the dataplane */
    int argc;
    char *argv[DP_ARGV_MAX];
    char store[4096];    /* backing for argv strings */
};

/* DPDK memory the dataplane needs, in MiB (its -m without hugepages), for
 * `o` and `n_edges` connections: mbufs, the flow table, rings, agent
 * tables and slack. The peer connections, their SCTP pools, the handshake
 * slots, the key log and the copy of the topology and next-hop tables are
 * the dataplane's own heap, not DPDK's: the memory plan has them
 * (mem_plan.h, dataplane/dp_mem.h). Pure. */
uint64_t ctl_dp_mem_mb(const struct ctl_run_opts *o, uint64_t n_edges);

/* Builds the dataplane argv for image `image_path`. Returns 0 or -E2BIG. */
int ctl_dp_build_argv(struct ctl_dp *dp, const struct ctl_run_opts *o, const char *dp_path,
                      const char *image_path, uint64_t n_edges);

/* Resolves the dataplane binary: o->dp_path, $SWARMGEN_DP, or swarmgen-dp
 * next to /proc/self/exe, then ../dataplane/swarmgen-dp (build tree: the
 * swarmgen binary is build/tools/swarmgen). For --backend usrsctp:
 * $SWARMGEN_USRSCTP, swarmgen-usrsctp next to it, ../baseline/. Returns 0
 * or -ENOENT. */
int ctl_dp_find(const struct ctl_run_opts *o, char *out, size_t len);

/* fork + exec. Returns 0 or a negative errno. */
int ctl_dp_spawn(struct ctl_dp *dp);

/* Non-blocking: true when the process has exited (status filled). */
bool ctl_dp_poll(struct ctl_dp *dp);

/* Waits up to timeout_ms, then SIGTERM, then SIGKILL after 2 s more. */
void ctl_dp_reap(struct ctl_dp *dp, int timeout_ms);

/* Describes how it ended: "exited with code 1", "killed by signal 11". */
void ctl_dp_describe_exit(const struct ctl_dp *dp, char *buf, size_t len);

#endif
