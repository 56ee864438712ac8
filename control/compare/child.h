/* SPDX-License-Identifier: MIT */
/*
 * child: runs `swarmgen run` (this binary, /proc/self/exe) as a child
 * process for the commands that drive several runs (`swarmgen compare`,
 * `swarmgen sweep`). Not thread-safe: one child at a time.
 */
#ifndef SWARMGEN_CONTROL_CHILD_H
#define SWARMGEN_CONTROL_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The running child's pid (0: none), for a signal handler that passes a
 * SIGTERM on. */
extern volatile pid_t ctl_child_pid;

/* Runs argv (argv[0] is the program name, argv[1] "run") as a child of
 * /proc/self/exe: its stdout to /dev/null, its stderr passed through with
 * its last non-empty line kept in `last` (truncated to last_len). Returns
 * the exit code, 128 + signal when killed, or -errno when it could not
 * start. */
int ctl_child_run(char **argv, char *last, size_t last_len);

/* ctl_child_run, and how it ended: true when the child exited 0;
 * otherwise false with the reason in err ("could not start swarmgen run:
 * ...", "exit 3: <its last line>" or "killed by signal 9 (Killed)").
 * *exit_code: the child's exit code (128 + signal when killed), -1 when it
 * could not start. */
bool ctl_child_run_ok(char **argv, int *exit_code, char *err, size_t err_len);

#endif
