/* SPDX-License-Identifier: MIT */
/*
 * swarmgen: the control process entry point.
 *
 *   swarmgen run  [flags]   build the mesh, run the dataplane, report
 *   swarmgen topo [flags]   build and analyse a topology only
 *   swarmgen compare [flags] the same workload on each backend, one table
 *   swarmgen sweep [flags]  a series of swarms (agent counts x rates), one row each
 *   swarmgen report --compare BASE.json NEW.json   regression table
 *   swarmgen report --merge A.json B.json ...      one report of a sharded swarm
 *
 * Bad input prints one line naming the flag and exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "report_compare.h"
#include "run.h"
#include "sweep.h"
#include "topo.h"

static const char usage[] =
    "usage: swarmgen <command> [flags]\n"
    "  run    build the agent mesh, run the DPDK dataplane, print the summary\n"
    "  topo   build and analyse a topology (no dataplane)\n"
    "  compare run the same workload on each backend (dpdk, uring, usrsctp), one table\n"
    "  sweep  run a series of swarms (--agents 10,100,1000 and/or --rate LIST), one row each\n"
    "  report compare two JSON reports: report --compare BASE.json NEW.json\n"
    "         or merge shard reports: report --merge A.json B.json [C.json ...]\n"
    "Run 'swarmgen <command> --help' for its flags.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "run") == 0)
        return ctl_run_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "topo") == 0)
        return ctl_topo_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "compare") == 0)
        return ctl_compare_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "sweep") == 0)
        return ctl_sweep_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "report") == 0)
        return ctl_report_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    fprintf(stderr, "swarmgen: %s: unknown command (expected run, topo, compare, sweep or report)\n", argv[1]);
    return 2;
}
