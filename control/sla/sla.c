/* SPDX-License-Identifier: MIT */
#include "sla.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum ctl_sla_metric m;
} metrics[] = {
    {"setup_p50", SLA_SETUP_P50}, {"setup_p95", SLA_SETUP_P95}, {"setup_p99", SLA_SETUP_P99},
    {"p999", SLA_P999}, {"p50", SLA_P50}, {"p90", SLA_P90}, {"p95", SLA_P95}, {"p99", SLA_P99},
    {"max", SLA_MAX}, {"delivery", SLA_DELIVERY}, {"errors", SLA_ERRORS}, {"rate", SLA_RATE},
};

static bool is_time(enum ctl_sla_metric m)
{
    return m <= SLA_MAX || m >= SLA_SETUP_P50;
}

static int parse_rule(const char *s, struct ctl_sla_rule *r, char *err, size_t errlen)
{
    while (*s == ' ')
        s++;
    size_t i;
    for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        if (strncmp(s, metrics[i].name, strlen(metrics[i].name)) == 0)
            break;
    if (i == sizeof(metrics) / sizeof(metrics[0])) {
        snprintf(err, errlen, "'%s': unknown metric (p50 p90 p95 p99 p999 max delivery errors rate setup_p50 setup_p95 setup_p99)", s);
        return -EINVAL;
    }
    r->metric = metrics[i].m;
    const char *p = s + strlen(metrics[i].name);
    while (*p == ' ')
        p++;
    if (p[0] == '<' && p[1] == '=')
        r->op = SLA_LE, p += 2;
    else if (p[0] == '>' && p[1] == '=')
        r->op = SLA_GE, p += 2;
    else if (p[0] == '<')
        r->op = SLA_LT, p += 1;
    else if (p[0] == '>')
        r->op = SLA_GT, p += 1;
    else {
        snprintf(err, errlen, "'%s': expected <, <=, > or >= after %s", s, metrics[i].name);
        return -EINVAL;
    }
    char *end;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v) || v < 0) {
        snprintf(err, errlen, "'%s': expected a non-negative number", s);
        return -EINVAL;
    }
    while (*end == ' ')
        end++;
    if (is_time(r->metric)) {
        double unit = 0;
        if (strcmp(end, "ns") == 0)
            unit = 1;
        else if (strcmp(end, "us") == 0)
            unit = 1e3;
        else if (strcmp(end, "ms") == 0)
            unit = 1e6;
        else if (strcmp(end, "s") == 0)
            unit = 1e9;
        if (unit == 0) {
            snprintf(err, errlen, "'%s': a time needs a unit (ns, us, ms, s)", s);
            return -EINVAL;
        }
        v *= unit;
    } else if (r->metric == SLA_RATE) {
        if (*end) {
            snprintf(err, errlen, "'%s': rate is a plain number of messages per second", s);
            return -EINVAL;
        }
    } else {
        if (strcmp(end, "%") != 0 || v > 100) {
            snprintf(err, errlen, "'%s': %s is a percentage (0..100%%)", s, metrics[i].name);
            return -EINVAL;
        }
    }
    r->value = v;
    snprintf(r->text, sizeof(r->text), "%s", s);
    return 0;
}

int ctl_sla_parse(const char *text, struct ctl_sla *sla, char *err, size_t errlen)
{
    memset(sla, 0, sizeof(*sla));
    char buf[512];
    if (strlen(text) >= sizeof(buf)) {
        snprintf(err, errlen, "too long");
        return -EINVAL;
    }
    snprintf(buf, sizeof(buf), "%s", text);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (sla->n == CTL_SLA_MAX) {
            snprintf(err, errlen, "at most %d thresholds", CTL_SLA_MAX);
            return -EINVAL;
        }
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ')
            t[--len] = '\0';
        if (parse_rule(t, &sla->rule[sla->n], err, errlen) < 0)
            return -EINVAL;
        sla->n++;
    }
    if (sla->n == 0) {
        snprintf(err, errlen, "no threshold given");
        return -EINVAL;
    }
    return 0;
}

bool ctl_sla_value(const struct ctl_sla_rule *r, const struct ctl_sla_input *in, double *v)
{
    switch (r->metric) {
    case SLA_DELIVERY:
        if (!in->sent)
            return false;
        *v = 100.0 * (double)in->delivered / (double)in->sent;
        return true;
    case SLA_ERRORS:
        if (!in->sent)
            return false;
        *v = 100.0 * (double)in->errors / (double)in->sent;
        return true;
    case SLA_RATE:
        if (in->seconds <= 0)
            return false;
        *v = (double)in->delivered / in->seconds;
        return true;
    case SLA_SETUP_P50:
    case SLA_SETUP_P95:
    case SLA_SETUP_P99:
        if (!in->have_setup)
            return false;
        *v = in->latency_ns[r->metric];
        return true;
    default:
        if (!in->have_latency)
            return false;
        *v = in->latency_ns[r->metric];
        return true;
    }
}

bool ctl_sla_holds(const struct ctl_sla_rule *r, double v)
{
    switch (r->op) {
    case SLA_LT: return v < r->value;
    case SLA_LE: return v <= r->value;
    case SLA_GT: return v > r->value;
    default: return v >= r->value;
    }
}

void ctl_sla_format(const struct ctl_sla_rule *r, double v, char *buf, size_t len)
{
    if (is_time(r->metric)) {
        if (v >= 1e9)
            snprintf(buf, len, "%.3fs", v / 1e9);
        else if (v >= 1e6)
            snprintf(buf, len, "%.3fms", v / 1e6);
        else
            snprintf(buf, len, "%.1fus", v / 1e3);
    } else if (r->metric == SLA_RATE) {
        snprintf(buf, len, "%.0f/s", v);
    } else {
        snprintf(buf, len, "%.4f%%", v);
    }
}
