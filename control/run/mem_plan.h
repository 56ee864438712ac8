/* SPDX-License-Identifier: MIT */
/*
 * mem_plan: the memory a run will take, by category, before anything is
 * started (dataplane/dp_mem.h computes it from the engines' own sizes), the
 * machine's free memory (/proc/meminfo), and the verdict: `swarmgen run`
 * refuses with one line (exit 2) a run that will not fit, and
 * `--dry-run` prints the plan and stops there.
 *
 * The plan covers swarmgen-dp (--backend dpdk and uring); the usrsctp
 * baseline allocates on its own and is not planned. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_MEM_PLAN_H
#define SWARMGEN_CONTROL_MEM_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dp_mem.h"
#include "run_image.h"
#include "run_opts.h"

/* The free memory of the machine as /proc/meminfo tells it, in bytes. */
struct ctl_meminfo {
    uint64_t available;        /* MemAvailable */
    uint64_t huge_free;        /* HugePages_Free x Hugepagesize */
};

struct ctl_mem_plan {
    bool planned;              /* false for --backend usrsctp */
    struct dp_mem_in in;
    struct dp_mem_out out;
    struct ctl_meminfo mi;
    bool hugepages;            /* the dataplane will run on hugepages (as ctl_dp_build_argv decides) */
    uint64_t need_ram;         /* bytes the run takes from ordinary memory */
    uint64_t need_huge;        /* bytes it takes from hugepages (0 without) */
};

/* Reads MemAvailable, HugePages_Free and Hugepagesize from `f` (a
 * /proc/meminfo) into *mi. Returns 0, or -ENODATA when MemAvailable is
 * missing. */
int ctl_meminfo_parse(FILE *f, struct ctl_meminfo *mi);

/* Plans the run of `cfg` (the run config, n_dests and sctp_bufs resolved)
 * with options `o`, reading /proc/meminfo. Returns 0, or a negative errno
 * when the run image cannot be laid out or /proc/meminfo not read. */
int ctl_mem_plan_make(struct ctl_mem_plan *p, const struct ctl_run_opts *o, const struct ri_config *cfg);

/* 0 when the plan fits the machine; -ENOMEM when it does not, with one
 * line (no newline) in err naming what is short and by how much. */
int ctl_mem_plan_check(const struct ctl_mem_plan *p, char *err, size_t errlen);

/* The plan as `--dry-run` prints it: one line per category, the total,
 * per agent and per connection, and the machine's free memory. */
void ctl_mem_plan_print(FILE *f, const struct ctl_mem_plan *p, uint32_t n_cores);

#endif
