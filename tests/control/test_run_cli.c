/* SPDX-License-Identifier: MIT */
/* `swarmgen run` flag validation: every bad value gives exactly one line
 * naming the flag and exit code 2, before anything starts. */
#include <criterion/criterion.h>
#include <string.h>

#include "proc.h"

static struct proc_result r;

static void expect_usage_error(const char *flag, const char *value)
{
    const char *bin = proc_bin("SWARMGEN_BIN");
    char *argv[6] = {(char *)bin, "run", (char *)flag, (char *)value, NULL, NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 2, "%s %s: exit %d, stderr: %s", flag, value ? value : "",
                 r.exit_code, r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s: one line expected, got: %s", flag, r.err);
    cr_assert_not_null(strstr(r.err, flag), "%s not named in: %s", flag, r.err);
}

Test(run_cli, bad_agents)
{
    expect_usage_error("--agents", "abc");
    expect_usage_error("--agents", "1");
    expect_usage_error("--agents", "200000");
    expect_usage_error("--agents", "-5");
}

Test(run_cli, bad_topology)
{
    expect_usage_error("--topology", "mesh");
    expect_usage_error("--topology", "kmesh:k=");
    expect_usage_error("--topology", "kmesh:k=0");
}

Test(run_cli, bad_rate_duration_size)
{
    expect_usage_error("--rate", "0");
    expect_usage_error("--rate", "fast");
    expect_usage_error("--duration", "10parsecs");
    expect_usage_error("--duration", "1ms");
    expect_usage_error("--size", "8");
    expect_usage_error("--size", "9000");
}

Test(run_cli, bad_cores_pattern_and_misc)
{
    expect_usage_error("--cores", "0,0");
    expect_usage_error("--cores", "999");
    expect_usage_error("--cores", "a-b");
    expect_usage_error("--pattern", "broadcast");
    expect_usage_error("--burst", "0");
    expect_usage_error("--hugepages", "maybe");
    expect_usage_error("--mbufs", "10");
    expect_usage_error("--seed", "x");
    expect_usage_error("--dp", "/nonexistent/swarmgen-dp");
}

Test(run_cli, missing_value_and_unknown_flag)
{
    expect_usage_error("--agents", NULL);
    expect_usage_error("--frobnicate", "1");
}

Test(run_cli, topology_impossible_for_agent_count)
{
    const char *bin = proc_bin("SWARMGEN_BIN");
    char *argv[] = {(char *)bin, "run", "--agents", "10", "--topology", "kmesh:k=20", NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 2, "exit %d: %s", r.exit_code, r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "--topology"), "%s", r.err);
}

Test(run_cli, unknown_command)
{
    const char *bin = proc_bin("SWARMGEN_BIN");
    char *argv[] = {(char *)bin, "fly", NULL};
    proc_run(argv, 10, 0, &r);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_eq(proc_lines(r.err), 1, "%s", r.err);
}
