/* SPDX-License-Identifier: MIT */
/*
 * run_opts_internal: what run_flags.c (the flag table of `swarmgen run`)
 * and run_opts.c (defaults, and what the flags mean together) share.
 */
#ifndef SWARMGEN_CONTROL_RUN_OPTS_INTERNAL_H
#define SWARMGEN_CONTROL_RUN_OPTS_INTERNAL_H

#include <stdbool.h>

#include "cli.h"
#include "run_opts.h"
#include "traffic_opts.h"

/* What parsing keeps beside the options until every flag is read. */
struct ctl_run_parse {
    struct ctl_run_opts *o;
    struct ctl_traffic traffic; /* --traffic ("dc" unless given) */
    const char *dc_only_flag;   /* the first dc-only flag given, for the udp check */
    bool cores_set, size_given, mbufs_given, external_setup_given;
};

/* The flags of `swarmgen run`: their table and usage; handlers take a
 * struct ctl_run_parse. */
extern const struct cli_cmd ctl_run_cmd;

#endif
