/* SPDX-License-Identifier: MIT */
/*
 * cli: shared helpers for the swarmgen sub-commands' flag parsing.
 *
 * Every bad value ends in one line on stderr, "swarmgen: FLAG: reason", and
 * exit code 2 (CLI_EXIT_USAGE); callers use cli_fail() for that. Parsers
 * return 0 or -EINVAL and never print: the caller names the flag.
 */
#ifndef SWARMGEN_CONTROL_CLI_H
#define SWARMGEN_CONTROL_CLI_H

#include <stdint.h>

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

#endif
