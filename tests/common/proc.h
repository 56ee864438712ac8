/* SPDX-License-Identifier: MIT */
/*
 * Test helper: run a command with a time limit and capture its output.
 * Used by CLI and system tests that drive the real swarmgen binaries.
 */
#ifndef SWARMGEN_TESTS_PROC_H
#define SWARMGEN_TESTS_PROC_H

#include <stdbool.h>
#include <stddef.h>

struct proc_result {
    int exit_code;    /* exit status, 128+signal when killed, -1 on spawn error */
    char out[65536];  /* stdout (truncated) */
    char err[16384];  /* stderr (truncated) */
    int timed_out;
    int pid;          /* of the process started (and of its process group) */
};

/* Runs argv (argv[0] a path) in its own process group with `timeout_s`;
 * SIGINT is sent to the whole group (as Ctrl-C does) after
 * `sigint_after_ms` when > 0. Fills `r`. Returns r->exit_code. */
int proc_run(char *const argv[], int timeout_s, int sigint_after_ms, struct proc_result *r);

/* proc_run() with the Ctrl-C tied to the output instead of the clock:
 * SIGINT goes to the process group `sigint_after_ms` after `ready(stdout so
 * far)` first holds (the machine may be slow to get there), never when it
 * does not (nor when `ready` is NULL). Sets *sent_at_ms to when it went, in
 * ms after the start (-1: never). Fills `r`; returns r->exit_code. */
int proc_run_until(char *const argv[], int timeout_s, bool (*ready)(const char *out), int sigint_after_ms,
                   long long *sent_at_ms, struct proc_result *r);

/* Number of lines in s. */
int proc_lines(const char *s);

/* Path of a built binary from env var `var` (set by meson), or aborts the test. */
const char *proc_bin(const char *var);

/* Reads a whole small file into buf; returns bytes or -1. */
long proc_read_file(const char *path, char *buf, size_t cap);

/* Number value after "key": in a JSON text (first occurrence) or NAN. */
double proc_json_num(const char *json, const char *key);

/* Count of processes whose comm equals `name` (from /proc). */
int proc_count(const char *name);

/* Count of processes whose comm equals `name` and whose command line
 * contains `needle` (arguments joined by spaces). */
int proc_count_with(const char *name, const char *needle);

/* Count of files in /dev/shm starting with `prefix`. */
int proc_shm_files(const char *prefix);

/* What the run of control process `pid` left once it exited: a swarmgen-dp
 * or swarmgen-usrsctp whose arguments name its run image
 * /dev/shm/swarmgen-PID-N.img, and such images (other runs on the machine are not its business). Gives a
 * dataplane up to 5 s to be reaped. Describes what is left in `why`;
 * returns how many (0: nothing). */
int proc_left_by_run(int pid, char *why, size_t cap);

/* The number after "key": inside the object that starts at "section": of
 * a JSON text, or NAN. */
double proc_json_in(const char *json, const char *section, const char *key);

/* Writes into argv (cap entries, NULL-terminated) the command line
 * `swarmgen run [--backend B] --dp DP --report REPORT [--quiet] EXTRA...`
 * (swarmgen from SWARMGEN_BIN; backend NULL: the default; --quiet when
 * `quiet`); EXTRA is cut to what fits. Returns the number of arguments. */
int proc_swarmgen_argv(char **argv, int cap, const char *backend, const char *dp, const char *report, bool quiet,
                       char *const extra[]);

/* Runs `swarmgen run [--backend B] --dp DP --report REPORT --quiet EXTRA...`
 * (backend NULL: the default) within timeout_s and reads the report into
 * json (empty when none was written). Returns as proc_run. */
int proc_swarmgen_run(const char *backend, const char *dp, const char *report, int timeout_s, char *const extra[],
                      struct proc_result *r, char *json, size_t cap);

#endif
