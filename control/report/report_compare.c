/* SPDX-License-Identifier: MIT */
#include "report_compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json_read.h"
#include "report_merge.h"

static const struct {
    const char *path;
    bool higher_is_better;
} metrics[] = {
    {"throughput.msgs_per_s", true},  {"throughput.pps", true},
    {"messages.delivery_rate", true}, {"latency_us.p50", false},
    {"latency_us.p95", false},        {"latency_us.p99", false},
    {"latency_us.p999", false},       {"memory.bytes_per_agent", false},
};

static void load(struct jr_doc *d, const char *path)
{
    size_t off = 0;
    int rc = jr_load(d, path, &off);
    if (rc == -EINVAL)
        cli_fail("--compare", "%s: not JSON (error at byte %zu)", path, off);
    if (rc < 0)
        cli_fail("--compare", "%s: %s", path, strerror(-rc));
}

int ctl_report_main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--merge") == 0)
            return ctl_report_merge_main(argc, argv);
    const char *base = NULL, *next = NULL;
    double tol = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            puts("usage: swarmgen report --compare BASE.json NEW.json [--tolerance PCT]\n"
                 "  prints a regression table; exit 1 when a metric is worse than BASE by more\n"
                 "  than PCT percent (default 5)\n"
                 "       swarmgen report --merge A.json B.json [C.json ...] [--report OUT.json]\n"
                 "                       [--html OUT.html] [--sla RULES]\n"
                 "  one report for a swarm run as several shards (swarmgen report --merge --help)");
            return 0;
        } else if (strcmp(argv[i], "--compare") == 0) {
            if (i + 2 >= argc)
                cli_fail("--compare", "needs two report files: BASE.json NEW.json");
            base = argv[++i];
            next = argv[++i];
        } else if (cli_is(argv[i], "--tolerance")) {
            const char *s = cli_value(argc, argv, &i, "--tolerance");
            char buf[32];
            snprintf(buf, sizeof(buf), "%s", s);
            size_t n = strlen(buf);
            if (n && buf[n - 1] == '%')
                buf[n - 1] = '\0';
            if (cli_parse_double(buf, 0, 1000, &tol) < 0)
                cli_fail("--tolerance", "'%s' is not a percentage in 0..1000", s);
        } else {
            cli_fail(argv[i], "unknown flag for 'swarmgen report' (see swarmgen report --help)");
        }
    }
    if (!base)
        cli_fail("--compare",
                 "required: --compare BASE.json NEW.json, or --merge A.json B.json ...");
    struct jr_doc a, b;
    load(&a, base);
    load(&b, next);
    int regressions = 0, compared = 0;
    printf("%-26s %14s %14s %9s  %s\n", "metric", "base", "new", "change", "verdict");
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        double x, y;
        bool hx = jr_number(&a, metrics[i].path, &x), hy = jr_number(&b, metrics[i].path, &y);
        if (!hx || !hy) {
            printf("%-26s %14s %14s %9s  missing in %s\n", metrics[i].path, hx ? "" : "-",
                   hy ? "" : "-", "", !hx ? base : next);
            continue;
        }
        compared++;
        double change = x != 0 ? (y - x) / fabs(x) * 100 : (y == 0 ? 0 : INFINITY);
        double worse = metrics[i].higher_is_better ? -change : change;
        const char *verdict = worse > tol ? "REGRESSION" : worse < -tol ? "better" : "same";
        regressions += worse > tol;
        printf("%-26s %14.6g %14.6g %+8.2f%%  %s\n", metrics[i].path, x, y, change, verdict);
    }
    jr_free(&a);
    jr_free(&b);
    if (compared == 0) {
        fprintf(stderr, "swarmgen: --compare: %s and %s share no metric (not swarmgen reports?)\n", base, next);
        return 2;
    }
    printf("%d regression%s beyond %.1f%% tolerance\n", regressions, regressions == 1 ? "" : "s", tol);
    return regressions ? 1 : 0;
}
