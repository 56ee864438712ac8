/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_fail(const char *flag, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "swarmgen: %s: ", flag);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(CLI_EXIT_USAGE);
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000ull, end++;
    else if (*end == 'M')
        mul = 1000000ull, end++;
    else if (*end == 'G')
        mul = 1000000000ull, end++;
    if (*end != '\0')
        return -EINVAL;
    if (v > UINT64_MAX / mul)
        return -EINVAL;
    v *= mul;
    if (v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !isfinite(v) || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int cli_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns)
{
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !isfinite(v) || v < 0)
        return -EINVAL;
    double unit;
    if (*end == '\0' || strcmp(end, "s") == 0)
        unit = 1e9;
    else if (strcmp(end, "ms") == 0)
        unit = 1e6;
    else if (strcmp(end, "us") == 0)
        unit = 1e3;
    else if (strcmp(end, "ns") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        unit = 60e9;
    else if (strcmp(end, "h") == 0)
        unit = 3600e9;
    else
        return -EINVAL;
    double ns = v * unit;
    if (ns > 1.8e19 || ns < (double)min_ns || ns > (double)max_ns)
        return -EINVAL;
    *out_ns = (uint64_t)llround(ns);
    return 0;
}

int cli_is(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

const char *cli_value(int argc, char **argv, int *i, const char *name)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (arg[n] == '=')
        return arg + n + 1;
    if (*i + 1 >= argc)
        cli_fail(name, "missing value");
    (*i)++;
    return argv[*i];
}

uint64_t cli_count(const char *flag, const char *s, uint64_t min, uint64_t max, const char *what)
{
    uint64_t v;
    if (cli_parse_u64(s, min, max, &v) < 0)
        cli_fail(flag, "'%s' is not %s in %llu..%llu", s, what, (unsigned long long)min,
                 (unsigned long long)max);
    return v;
}

uint64_t cli_whole(const char *flag, const char *s)
{
    uint64_t v;
    if (cli_parse_u64(s, 0, UINT64_MAX, &v) < 0)
        cli_fail(flag, "'%s' is not a whole number", s);
    return v;
}

const char *cli_file(const char *flag, const char *s)
{
    if (!*s)
        cli_fail(flag, "empty file name");
    return s;
}

void cli_usage(FILE *f, const struct cli_cmd *c)
{
    fputs(c->head, f);
    for (size_t k = 0; k < c->n_flags; k++) {
        const struct cli_flag *fl = &c->flag[k];
        if (!fl->help)
            continue;
        char left[64];
        snprintf(left, sizeof(left), "%s%s%s", fl->name, fl->arg ? " " : "",
                 fl->arg ? fl->arg : "");
        fprintf(f, "  %-*s ", c->column - 3, left);
        for (const char *h = fl->help; *h; h++) {
            fputc(*h, f);
            if (*h == '\n')
                fprintf(f, "%*s", c->column, "");
        }
        fputc('\n', f);
    }
    if (c->tail)
        fputs(c->tail, f);
}

static const struct cli_flag *find_flag(const struct cli_cmd *c, const char *arg)
{
    for (size_t k = 0; k < c->n_flags; k++) {
        const struct cli_flag *fl = &c->flag[k];
        if (fl->arg ? cli_is(arg, fl->name) : strcmp(arg, fl->name) == 0)
            return fl;
    }
    return NULL;
}

void cli_parse(const struct cli_cmd *c, int argc, char **argv, void *ctx)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_usage(stdout, c);
            exit(0);
        }
        const struct cli_flag *fl = find_flag(c, a);
        if (fl)
            fl->handle(ctx, fl->arg ? cli_value(argc, argv, &i, fl->name) : NULL);
        else if (c->other)
            c->other(ctx, argc, argv, &i);
        else
            cli_fail(a, "unknown flag for 'swarmgen %s' (see swarmgen %s --help)", c->name,
                     c->name);
    }
}
