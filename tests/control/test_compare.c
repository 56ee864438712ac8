/* SPDX-License-Identifier: MIT */
/* JSON reader and `swarmgen report --compare`. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json_read.h"
#include "proc.h"

static struct proc_result r;

Test(json_read, numbers_by_path_and_strictness)
{
    struct jr_doc d;
    const char *t = "{\"a\": {\"b\": [1, {\"c\": 2}], \"x\": -1.5e3}, \"s\": \"q\\\"\", \"t\": true, \"n\": null}";
    cr_assert_eq(jr_parse(&d, t, strlen(t), NULL), 0);
    double v;
    cr_assert(jr_number(&d, "a.x", &v));
    cr_assert_float_eq(v, -1500, 1e-9);
    cr_assert(!jr_number(&d, "a.c", &v), "c is inside an array element");
    cr_assert(!jr_number(&d, "s", &v), "a string is not a number");
    cr_assert(!jr_number(&d, "nope", &v));
    jr_free(&d);
    const char *bad[] = {"", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01", "1.", "\"\x01\"", "{} x", "tru"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(jr_parse(&d, bad[i], strlen(bad[i]), NULL), -EINVAL, "accepted '%s'", bad[i]);
}

static void write_report(const char *path, double rate, double p99)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"throughput\": {\"msgs_per_s\": %g, \"pps\": %g}, \"messages\": {\"delivery_rate\": 1},"
               " \"latency_us\": {\"p50\": 5, \"p95\": 10, \"p99\": %g, \"p999\": 100},"
               " \"memory\": {\"bytes_per_agent\": 1000}}\n", rate, rate * 3, p99);
    fclose(f);
}

static int compare(const char *a, const char *b, const char *tol)
{
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "report", "--compare", (char *)a, (char *)b,
                    tol ? "--tolerance" : NULL, (char *)tol, NULL};
    return proc_run(argv, 20, 0, &r);
}

Test(report_compare, within_tolerance_regression_and_bad_input)
{
    char a[64], b[64];
    snprintf(a, sizeof(a), "/tmp/sg-cmp-a-%d.json", (int)getpid());
    snprintf(b, sizeof(b), "/tmp/sg-cmp-b-%d.json", (int)getpid());
    write_report(a, 100000, 50);
    write_report(b, 97000, 51); /* 3 % slower, 2 % higher p99 */
    cr_assert_eq(compare(a, b, NULL), 0, "%s%s", r.out, r.err);
    cr_assert_not_null(strstr(r.out, "0 regressions"));
    write_report(b, 90000, 51);
    cr_assert_eq(compare(a, b, NULL), 1, "%s", r.out);
    cr_assert_not_null(strstr(r.out, "throughput.msgs_per_s"));
    cr_assert_not_null(strstr(r.out, "REGRESSION"));
    cr_assert_eq(compare(a, b, "15"), 0, "a wider tolerance accepts it: %s", r.out);
    write_report(b, 100000, 80);
    cr_assert_eq(compare(a, b, NULL), 1, "p99 up 60 %%: %s", r.out);
    cr_assert_eq(compare(a, "/nonexistent.json", NULL), 2);
    cr_assert_eq(proc_lines(r.err), 1, "%s", r.err);
    FILE *f = fopen(b, "w");
    fputs("{not json", f);
    fclose(f);
    cr_assert_eq(compare(a, b, NULL), 2);
    cr_assert_not_null(strstr(r.err, "not JSON"), "%s", r.err);
    cr_assert_eq(compare(a, b, "lots"), 2);
    unlink(a);
    unlink(b);
}
