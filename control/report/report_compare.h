/* SPDX-License-Identifier: MIT */
/*
 * report_compare: `swarmgen report --compare BASE.json NEW.json
 * [--tolerance PCT]` — a regression table between two JSON reports.
 *
 * Exit codes: 0 no metric worse by more than the tolerance, 1 a regression,
 * 2 bad input (one line naming the file or flag).
 */
#ifndef SWARMGEN_CONTROL_REPORT_COMPARE_H
#define SWARMGEN_CONTROL_REPORT_COMPARE_H

/* argv[0] is "report". With --merge anywhere in argv it is
 * ctl_report_merge_main() (report_merge.h). Returns the exit code. */
int ctl_report_main(int argc, char **argv);

#endif
