/* SPDX-License-Identifier: MIT */
/* The flag table every sub-command parses with (control/cli/cli.h): values
 * in both spellings, switches, rows left out of the usage, arguments no row
 * matches, and the usage printed from the same rows. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct seen {
    const char *name, *out;
    int loud, others;
    const char *rest[4];
};

static void set_name(void *ctx, const char *v)
{
    ((struct seen *)ctx)->name = v;
}

static void set_out(void *ctx, const char *v)
{
    ((struct seen *)ctx)->out = cli_file("--out", v);
}

static void set_loud(void *ctx, const char *v)
{
    cr_assert_null(v, "a switch has no value");
    ((struct seen *)ctx)->loud++;
}

static void other(void *ctx, int argc, char **argv, int *i)
{
    struct seen *s = ctx;
    s->rest[s->others++] = argv[*i];
}

static const struct cli_flag flags[] = {
    {"--name", "N", "what to call it\n(default: nothing)", set_name},
    {"--loud", NULL, "say more", set_loud},
    {"--out", "FILE", NULL, set_out},
};

static const struct cli_cmd cmd = {
    .name = "demo",
    .head = "usage: swarmgen demo [flags]\n",
    .tail = "that is all\n",
    .column = 16,
    .flag = flags,
    .n_flags = 3,
    .other = other,
};

Test(cli, a_value_separate_or_after_an_equals_sign_and_switches_in_order)
{
    char *argv[] = {"demo", "--name", "a", "--loud", "--out=x.json", "--name=b", "--loud", NULL};
    struct seen s = {0};
    cli_parse(&cmd, 7, argv, &s);
    cr_assert_str_eq(s.name, "b", "the last value wins");
    cr_assert_str_eq(s.out, "x.json");
    cr_assert_eq(s.loud, 2);
    cr_assert_eq(s.others, 0);
}

Test(cli, what_no_row_matches_goes_to_other_word_by_word)
{
    char *argv[] = {"demo", "--namex", "--loud=1", "--agents", "5", NULL};
    struct seen s = {0};
    cli_parse(&cmd, 5, argv, &s);
    cr_assert_eq(s.others, 4);
    cr_assert_str_eq(s.rest[0], "--namex", "a longer flag is not --name");
    cr_assert_str_eq(s.rest[1], "--loud=1", "a switch takes no value");
    cr_assert_str_eq(s.rest[3], "5");
    cr_assert_eq(s.loud, 0);
}

Test(cli, the_usage_is_the_rows_with_continuation_lines_aligned)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_usage(f, &cmd);
    fclose(f);
    cr_assert_str_eq(text, "usage: swarmgen demo [flags]\n"
                           "  --name N      what to call it\n"
                           "                (default: nothing)\n"
                           "  --loud        say more\n"
                           "that is all\n");
    free(text);
}

Test(cli, counts_and_file_names_fail_naming_the_flag, .exit_code = 2)
{
    cr_assert_eq(cli_count("--n", "12", 1, 100, "a count"), 12);
    cr_assert_eq(cli_count("--n", "3k", 1, 10000, "a count"), 3000);
    cli_count("--n", "0", 1, 100, "a count");
}
