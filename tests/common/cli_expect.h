/* SPDX-License-Identifier: MIT */
/*
 * cli_expect: the check every test of swarmgen's command line makes of a
 * run that must not start: exit 2 and exactly one line on stderr, naming
 * the flag at fault. Header-only (Criterion), on proc.h's runner.
 */
#ifndef SWARMGEN_TESTS_CLI_EXPECT_H
#define SWARMGEN_TESTS_CLI_EXPECT_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"

/* Runs `swarmgen run ARGS...` (swarmgen from SWARMGEN_BIN, at most 22
 * arguments) into r and expects exit 2 with one line on stderr that
 * starts "swarmgen: FLAG: ". */
static inline void cli_expect_run_error(struct proc_result *r, const char *flag, char *const args[])
{
    char *argv[24] = {(char *)proc_bin("SWARMGEN_BIN"), "run"};
    int n = 2;
    for (int i = 0; args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    proc_run(argv, 20, 0, r);
    cr_assert_eq(r->exit_code, 2, "%s: exit %d, stderr: %s", flag, r->exit_code, r->err);
    cr_assert_eq(proc_lines(r->err), 1, "%s: one line expected, got: %s", flag, r->err);
    char want[64];
    snprintf(want, sizeof(want), "swarmgen: %s: ", flag);
    cr_assert_not_null(strstr(r->err, want), "%s not named in: %s", flag, r->err);
}

#endif
