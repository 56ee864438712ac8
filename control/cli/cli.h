/* SPDX-License-Identifier: MIT */
/*
 * cli: the flag parsing the swarmgen sub-commands share.
 *
 * A sub-command describes its flags in one table (struct cli_flag: name,
 * value or switch, usage text, handler); cli_parse() walks argv against it
 * and cli_usage() prints --help from the same rows, so the two cannot
 * drift. Every bad value ends in one line on stderr, "swarmgen: FLAG:
 * reason", and exit code 2 (CLI_EXIT_USAGE); handlers use cli_fail() for
 * that. The cli_parse_* value parsers return 0 or -EINVAL and never print:
 * the caller names the flag. Not thread-safe (exits the process).
 */
#ifndef SWARMGEN_CONTROL_CLI_H
#define SWARMGEN_CONTROL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_EXIT_USAGE 2

/* Prints "swarmgen: <flag>: <formatted reason>" and exits with code 2. */
_Noreturn void cli_fail(const char *flag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses a whole decimal unsigned integer in [min, max] (suffixes k, M, G for
 * 10^3, 10^6, 10^9 are accepted). Returns 0 or -EINVAL (garbage, sign,
 * overflow, out of range). */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parses a finite non-negative double, whole string. Returns 0 or -EINVAL. */
int cli_parse_double(const char *s, double min, double max, double *out);

/* Parses a duration: a number with unit ns, us, ms, s, m or h (plain number =
 * seconds) into nanoseconds, in [min_ns, max_ns]. Returns 0 or -EINVAL. */
int cli_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns);

/* Returns the value of flag argv[*i] ("--flag VALUE" or "--flag=VALUE"),
 * advancing *i past a separate value; fails (exit 2) when it is missing.
 * `name` is the flag as the user writes it. */
const char *cli_value(int argc, char **argv, int *i, const char *name);

/* True when argv[i] is `name` or starts with `name=`. */
int cli_is(const char *arg, const char *name);

/* A count in [min, max] (cli_parse_u64), or one line and exit 2:
 * "swarmgen: FLAG: 'S' is not WHAT in MIN..MAX". */
uint64_t cli_count(const char *flag, const char *s, uint64_t min, uint64_t max, const char *what);

/* Any whole number (cli_parse_u64 over the full uint64_t range: a seed),
 * or one line and exit 2: "swarmgen: FLAG: 'S' is not a whole number". */
uint64_t cli_whole(const char *flag, const char *s);

/* `s` when it is not empty, else one line "FLAG: empty file name" and exit 2. */
const char *cli_file(const char *flag, const char *s);

/* One row of a sub-command's flag table. */
struct cli_flag {
    const char *name; /* as the user writes it: "--agents" */
    const char *arg;  /* the value's name in the usage ("N"); NULL: a switch, no value */
    const char *help; /* usage text, '\n' between its lines; NULL: accepted, not listed */
    /* Applies the flag to the sub-command's state `ctx`; `value` is NULL
     * for a switch. Exits 2 through cli_fail() on a bad value. */
    void (*handle)(void *ctx, const char *value);
};

/* A sub-command: its flag table and the usage text around the rows. */
struct cli_cmd {
    const char *name; /* "run": named in the unknown-flag line */
    const char *head; /* usage text before the flag rows */
    const char *tail; /* after them (NULL: nothing) */
    int column;       /* where a row's help text starts */
    const struct cli_flag *flag;
    size_t n_flags;
    /* An argument no row matches (NULL: "unknown flag", exit 2); it may
     * take values by advancing *i. */
    void (*other)(void *ctx, int argc, char **argv, int *i);
};

/* Prints the usage: head, one row per listed flag ("  --agents N" padded
 * to `column`, the help's further lines indented to it), tail. */
void cli_usage(FILE *f, const struct cli_cmd *c);

/* Walks argv[1..argc) (argv[0] is the sub-command) and calls the handler
 * of each flag in order, with its value ("--flag VALUE" or "--flag=VALUE").
 * --help or -h prints the usage on stdout and exits 0; an unknown flag
 * goes to c->other or exits 2 naming it. */
void cli_parse(const struct cli_cmd *c, int argc, char **argv, void *ctx);

#endif
