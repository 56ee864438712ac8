/* SPDX-License-Identifier: MIT */
/*
 * run: the `swarmgen run` sub-command — builds the mesh, writes the run
 * image, starts and supervises the dataplane, prints progress once a second
 * and the summary, writes the reports. run.c holds the steps in order,
 * run_loop.c the live part (connect phase, generation, drain, stop).
 *
 * Exit codes: 0 run completed, 1 the dataplane failed or died (the cause is
 * printed), 2 bad input, 130 interrupted by Ctrl-C (report still written).
 */
#ifndef SWARMGEN_CONTROL_RUN_H
#define SWARMGEN_CONTROL_RUN_H

/* argv[0] is "run". Returns the process exit code. */
int ctl_run_main(int argc, char **argv);

#endif
