/* SPDX-License-Identifier: MIT */
/*
 * sla: k6-style thresholds, e.g. 'p95<150ms,p99<200ms,delivery>99.9%,errors<0.1%'.
 *
 * Metrics: p50 p90 p95 p99 p999 max (end-to-end latency), delivery (%
 * of sent messages delivered), errors (% of sent messages dropped or lost),
 * rate (delivered messages/s), setup_p50/setup_p95/setup_p99 (connection
 * set-up time; only runs that set up connections have it). Operators: < <=
 * > >=. Units: ns us ms s for times, % for shares, plain numbers for rate.
 * Pure; no allocation.
 */
#ifndef SWARMGEN_CONTROL_SLA_H
#define SWARMGEN_CONTROL_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_SLA_MAX 16

enum ctl_sla_metric {
    SLA_P50, SLA_P90, SLA_P95, SLA_P99, SLA_P999, SLA_MAX,
    SLA_DELIVERY, SLA_ERRORS, SLA_RATE,
    SLA_SETUP_P50, SLA_SETUP_P95, SLA_SETUP_P99,
    SLA_METRIC_COUNT
};

enum ctl_sla_op { SLA_LT, SLA_LE, SLA_GT, SLA_GE };

struct ctl_sla_rule {
    enum ctl_sla_metric metric;
    enum ctl_sla_op op;
    double value;      /* ns for times, percent for shares, msgs/s for rate */
    char text[48];     /* as written, for reports */
};

struct ctl_sla {
    uint32_t n;
    struct ctl_sla_rule rule[CTL_SLA_MAX];
};

/* What a set of messages measured: the inputs of the judgement. */
struct ctl_sla_input {
    double latency_ns[SLA_SETUP_P99 + 1]; /* indexed by metric for the time metrics */
    bool have_latency;
    bool have_setup;
    uint64_t sent, delivered, errors;
    double seconds;
};

/* Parses the rules. Returns 0 or -EINVAL with the reason in err. */
int ctl_sla_parse(const char *text, struct ctl_sla *sla, char *err, size_t errlen);

/* Measured value of rule's metric in `in` (same unit as rule.value);
 * false when the input has no data for it (the rule then neither holds nor
 * fails: it is reported as "no data"). */
bool ctl_sla_value(const struct ctl_sla_rule *rule, const struct ctl_sla_input *in, double *value);

/* True when the rule holds for `value`. */
bool ctl_sla_holds(const struct ctl_sla_rule *rule, double value);

/* Formats a measured value in the rule's unit ("12.3ms", "99.95%"). */
void ctl_sla_format(const struct ctl_sla_rule *rule, double value, char *buf, size_t len);

#endif
