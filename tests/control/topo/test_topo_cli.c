/* SPDX-License-Identifier: MIT */
/* `swarmgen topo`: output, JSON, DOT, --suggest-k and bad input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

static struct proc_result r;

static int topo(char *const extra[])
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)proc_bin("SWARMGEN_BIN");
    argv[n++] = "topo";
    for (int i = 0; extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return proc_run(argv, 60, 0, &r);
}

Test(topo_cli, kmesh_100_k20_is_connected_with_its_diameter)
{
    char *a[] = {"--agents", "100", "--topology", "kmesh:k=20", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "connected       yes"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "diameter        "), "%s", r.out);
}

Test(topo_cli, json_has_every_figure)
{
    char *a[] = {"--agents", "2000", "--topology", "smallworld:k=6,p=0.1", "--json", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    const char *keys[] = {"\"agents\": 2000", "\"edges\": 6000", "\"reduction_pct\"", "\"degree\"",
                          "\"histogram\"", "\"connected\"", "\"diameter\"", "\"avg_path_length\"",
                          "\"clustering\"", "\"exact\": true"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cr_assert_not_null(strstr(r.out, keys[i]), "missing %s in %s", keys[i], r.out);
}

Test(topo_cli, beyond_the_exact_limit_figures_are_labelled_sampled)
{
    char *a[] = {"--agents", "50000", "--topology", "kmesh:k=8", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "sampled"), "%s", r.out);
}

Test(topo_cli, dot_export)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/sg-topo-%d.dot", (int)getpid());
    char *a[] = {"--agents", "10", "--topology", "ring", "--dot", path, NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    static char dot[4096];
    cr_assert_gt(proc_read_file(path, dot, sizeof(dot)), 0);
    cr_assert_not_null(strstr(dot, "graph swarm {"));
    cr_assert_not_null(strstr(dot, "0 -- 9;"));
    int lines = proc_lines(dot);
    cr_assert_eq(lines, 3 + 10 + 1, "header, 10 edges, footer: %s", dot);
    unlink(path);
}

Test(topo_cli, suggest_k_table)
{
    char *a[] = {"--suggest-k", NULL};
    cr_assert_eq(topo(a), 0, "%s", r.err);
    /* 2 ln 10000 = 18.4 -> 19 */
    cr_assert_not_null(strstr(r.out, "     10000   19"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "   1000000   28"), "%s", r.out);
}

Test(topo_cli, bad_input_is_one_line_and_exit_2)
{
    char *cases[][5] = {
        {"--agents", "1", NULL},
        {"--agents", "abc", NULL},
        {"--agents", "100", "--topology", "star", NULL},
        {"--agents", "10", "--topology", "kmesh:k=20", NULL},
        {"--topology", "ring", NULL},
        {"--agents", "100", "--bogus", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(topo(cases[i]), 2, "case %zu: exit %d, %s", i, r.exit_code, r.err);
        cr_assert_eq(proc_lines(r.err), 1, "case %zu: %s", i, r.err);
        cr_assert_eq(strncmp(r.err, "swarmgen: ", 10), 0, "%s", r.err);
    }
}
