/* SPDX-License-Identifier: MIT */
#include "profile.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cli.h"

static void add(struct ctl_profile *p, const char *name, double share, double r0, double r1,
                double a0, double a1, uint64_t total_ns, uint8_t kind)
{
    struct ctl_phase *ph = &p->phase[p->n++];
    memset(ph, 0, sizeof(*ph));
    snprintf(ph->name, sizeof(ph->name), "%s", name);
    ph->duration_ns = (uint64_t)llround(share * (double)total_ns);
    ph->rate_from = r0;
    ph->rate_to = r1;
    ph->agents_from = a0;
    ph->agents_to = a1;
    ph->kind = kind;
}

int ctl_profile_preset(const char *name, double base, uint64_t total, struct ctl_profile *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    if (strcmp(name, "constant") == 0) {
        add(p, "sustained", 1.0, base, base, 1, 1, total, CTL_PHASE_NORMAL);
    } else if (strcmp(name, "ramp") == 0) {
        add(p, "warm-up", 0.1, 0.1 * base, 0.1 * base, 0.1, 0.1, total, CTL_PHASE_NORMAL);
        add(p, "ramp", 0.4, 0.1 * base, base, 0.1, 1, total, CTL_PHASE_NORMAL);
        add(p, "sustained", 0.4, base, base, 1, 1, total, CTL_PHASE_NORMAL);
        add(p, "cool-down", 0.1, base, 0.1 * base, 1, 0.1, total, CTL_PHASE_NORMAL);
    } else if (strcmp(name, "load") == 0) {
        static const double steps[] = {0.1, 0.5, 1, 5, 10};
        for (int i = 0; i < 5; i++) {
            char n[32];
            snprintf(n, sizeof(n), "load-%.0f%%", steps[i] * 100);
            add(p, n, 1.0 / 6, steps[i] * base, steps[i] * base, 1, 1, total, CTL_PHASE_NORMAL);
        }
        add(p, "cool-down", 1.0 / 6, 0.1 * base, 0.1 * base, 1, 1, total, CTL_PHASE_NORMAL);
    } else if (strcmp(name, "spike") == 0) {
        add(p, "sustained", 0.4, base, base, 1, 1, total, CTL_PHASE_NORMAL);
        add(p, "spike", 0.1, 5 * base, 5 * base, 1, 1, total, CTL_PHASE_SPIKE);
        add(p, "recovery", 0.5, base, base, 1, 1, total, CTL_PHASE_NORMAL);
    } else if (strcmp(name, "soak") == 0) {
        add(p, "soak", 1.0, base, base, 1, 1, total, CTL_PHASE_NORMAL);
    } else {
        return -ENOENT;
    }
    /* rounding: the last phase takes what the shares left */
    uint64_t sum = 0;
    for (uint32_t i = 0; i + 1 < p->n; i++)
        sum += p->phase[i].duration_ns;
    p->phase[p->n - 1].duration_ns = total > sum ? total - sum : 0;
    return 0;
}

double ctl_profile_peak_rate(const struct ctl_profile *p)
{
    double peak = 0;
    for (uint32_t i = 0; i < p->n; i++)
        peak = fmax(peak, fmax(p->phase[i].rate_from, p->phase[i].rate_to));
    return peak;
}

uint64_t ctl_profile_duration(const struct ctl_profile *p)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < p->n; i++)
        t += p->phase[i].duration_ns;
    return t;
}

uint64_t ctl_profile_phase_start(const struct ctl_profile *p, uint32_t i)
{
    uint64_t t = 0;
    for (uint32_t k = 0; k < i && k < p->n; k++)
        t += p->phase[k].duration_ns;
    return t;
}

void ctl_profile_at(const struct ctl_profile *p, uint64_t t_ns, uint32_t *phase, double *rate,
                    double *agents)
{
    uint64_t start = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        const struct ctl_phase *ph = &p->phase[i];
        if (t_ns < start + ph->duration_ns || i + 1 == p->n) {
            double f = ph->duration_ns ? (double)(t_ns - start) / (double)ph->duration_ns : 1;
            if (t_ns < start)
                f = 0;
            if (f > 1)
                f = 1;
            *phase = i;
            *rate = ph->rate_from + (ph->rate_to - ph->rate_from) * f;
            *agents = ph->agents_from + (ph->agents_to - ph->agents_from) * f;
            return;
        }
        start += ph->duration_ns;
    }
    *phase = 0;
    *rate = 0;
    *agents = 0;
}

void ctl_profile_set_joins(struct ctl_profile *p, double base_rate, double join_rate)
{
    for (uint32_t i = 0; i < p->n; i++) {
        struct ctl_phase *ph = &p->phase[i];
        if (ph->join_set) {
            if (ph->join_rel & 1)
                ph->join_from *= join_rate;
            if (ph->join_rel & 2)
                ph->join_to *= join_rate;
            ph->join_rel = 0;
        } else {
            ph->join_from = base_rate > 0 ? join_rate * ph->rate_from / base_rate : join_rate;
            ph->join_to = base_rate > 0 ? join_rate * ph->rate_to / base_rate : join_rate;
        }
    }
}

bool ctl_profile_has_joins(const struct ctl_profile *p)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (p->phase[i].join_set)
            return true;
    return false;
}

double ctl_profile_join_at(const struct ctl_profile *p, uint64_t t_ns)
{
    uint64_t start = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        const struct ctl_phase *ph = &p->phase[i];
        if (t_ns < start + ph->duration_ns) {
            double f = (double)(t_ns - start) / (double)ph->duration_ns;
            return ph->join_from + (ph->join_to - ph->join_from) * f;
        }
        start += ph->duration_ns;
    }
    return 0;
}

/* ---- scenario files ---- */

struct loader {
    const char *path;
    yaml_document_t doc;
    double base;
    char *err;
    size_t errlen;
};

static int fail_at(struct loader *l, const yaml_node_t *n, const char *field, const char *fmt,
                   const char *arg)
{
    char why[256];
    snprintf(why, sizeof(why), fmt, arg);
    snprintf(l->err, l->errlen, "%s:%zu: %s: %s", l->path, n ? n->start_mark.line + 1 : 0,
             field, why);
    return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* "10%" of `whole`, or an absolute number. */
static int parse_amount(struct loader *l, const yaml_node_t *n, const char *field, double whole,
                        double max, double *out)
{
    const char *s = scalar(n);
    if (!s)
        return fail_at(l, n, field, "expected a number or a percentage%s", "");
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", s);
    size_t len = strlen(buf);
    double v;
    if (len && buf[len - 1] == '%') {
        buf[len - 1] = '\0';
        if (cli_parse_double(buf, 0, 1e6, &v) < 0)
            return fail_at(l, n, field, "'%s' is not a percentage", s);
        v = v / 100.0 * whole;
    } else if (cli_parse_double(buf, 0, max, &v) < 0) {
        return fail_at(l, n, field, "'%s' is not a number in range", s);
    }
    if (v > max)
        return fail_at(l, n, field, "'%s' is too large", s);
    *out = v;
    return 0;
}

/* A value or {from: X, to: Y}. */
static int parse_ramp(struct loader *l, yaml_node_t *n, const char *field, double whole,
                      double max, double *from, double *to)
{
    if (n->type != YAML_MAPPING_NODE) {
        int rc = parse_amount(l, n, field, whole, max, from);
        *to = *from;
        return rc;
    }
    bool have_from = false, have_to = false;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(&l->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&l->doc, pr->value);
        const char *ks = scalar(k);
        char sub[64];
        snprintf(sub, sizeof(sub), "%s.%s", field, ks ? ks : "?");
        if (ks && strcmp(ks, "from") == 0) {
            if (parse_amount(l, v, sub, whole, max, from) < 0)
                return -EINVAL;
            have_from = true;
        } else if (ks && strcmp(ks, "to") == 0) {
            if (parse_amount(l, v, sub, whole, max, to) < 0)
                return -EINVAL;
            have_to = true;
        } else {
            return fail_at(l, k, field, "unknown key '%s' (expected from, to)", ks ? ks : "?");
        }
    }
    if (!have_from || !have_to)
        return fail_at(l, n, field, "a ramp needs both from and to%s", "");
    return 0;
}

/* join_rate: sessions per second, or a percentage of --join-rate kept as
 * a share (resolved by ctl_profile_set_joins); a value or {from, to}. */
static int parse_join(struct loader *l, yaml_node_t *n, struct ctl_phase *ph)
{
    yaml_node_t *ends[2] = {n, n};
    if (n->type == YAML_MAPPING_NODE) {
        ends[0] = ends[1] = NULL;
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            const char *ks = scalar(yaml_document_get_node(&l->doc, pr->key));
            int e = ks && strcmp(ks, "from") == 0 ? 0 : ks && strcmp(ks, "to") == 0 ? 1 : -1;
            if (e < 0)
                return fail_at(l, n, "join_rate", "unknown key '%s' (expected from, to)", ks ? ks : "?");
            ends[e] = yaml_document_get_node(&l->doc, pr->value);
        }
        if (!ends[0] || !ends[1])
            return fail_at(l, n, "join_rate", "a ramp needs both from and to%s", "");
    }
    double *v[2] = {&ph->join_from, &ph->join_to};
    for (int e = 0; e < 2; e++) {
        const char *s = scalar(ends[e]);
        size_t len = s ? strlen(s) : 0;
        bool rel = len && s[len - 1] == '%';
        if (parse_amount(l, ends[e], "join_rate", 1.0, rel ? 1e4 : 1e6, v[e]) < 0)
            return -EINVAL;
        if (rel)
            ph->join_rel |= (uint8_t)(1u << e);
    }
    ph->join_set = 1;
    return 0;
}

static int parse_phase(struct loader *l, yaml_node_t *n, struct ctl_phase *ph, uint32_t idx)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(l, n, "phases", "each phase is a mapping (name, duration, rate, agents)%s", "");
    memset(ph, 0, sizeof(*ph));
    snprintf(ph->name, sizeof(ph->name), "phase-%u", idx + 1);
    ph->rate_from = ph->rate_to = l->base;
    ph->agents_from = ph->agents_to = 1;
    bool have_duration = false;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(&l->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&l->doc, pr->value);
        const char *ks = scalar(k);
        if (!ks)
            return fail_at(l, k, "phase", "keys must be plain words%s", "");
        if (strcmp(ks, "name") == 0) {
            const char *s = scalar(v);
            if (!s || !*s || strlen(s) >= sizeof(ph->name) || strchr(s, ','))
                return fail_at(l, v, "name", "a name of 1..31 characters without commas%s", "");
            snprintf(ph->name, sizeof(ph->name), "%s", s);
        } else if (strcmp(ks, "duration") == 0) {
            const char *s = scalar(v);
            if (!s || cli_parse_duration(s, 100000000ull, 7ull * 24 * 3600 * 1000000000ull,
                                         &ph->duration_ns) < 0)
                return fail_at(l, v, "duration", "'%s' is not a duration of 100ms..7 days (e.g. 30s, 2m)",
                               s ? s : "");
            have_duration = true;
        } else if (strcmp(ks, "rate") == 0) {
            if (parse_ramp(l, v, "rate", l->base, 1e9, &ph->rate_from, &ph->rate_to) < 0)
                return -EINVAL;
        } else if (strcmp(ks, "agents") == 0) {
            if (parse_ramp(l, v, "agents", 1.0, 1.0, &ph->agents_from, &ph->agents_to) < 0)
                return -EINVAL;
        } else if (strcmp(ks, "join_rate") == 0) {
            if (parse_join(l, v, ph) < 0)
                return -EINVAL;
        } else if (strcmp(ks, "spike") == 0) {
            const char *s = scalar(v);
            if (!s || (strcmp(s, "true") && strcmp(s, "false")))
                return fail_at(l, v, "spike", "expected true or false%s", "");
            ph->kind = strcmp(s, "true") == 0 ? CTL_PHASE_SPIKE : CTL_PHASE_NORMAL;
        } else {
            return fail_at(l, k, ks, "unknown field (expected name, duration, rate, agents, join_rate, spike)%s", "");
        }
    }
    if (!have_duration)
        return fail_at(l, n, "duration", "every phase needs a duration%s", "");
    return 0;
}

int ctl_profile_load(const char *path, double base_rate, struct ctl_profile *p, char *err,
                     size_t errlen)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct loader l = {.path = path, .base = base_rate, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = 0;
    if (!yaml_parser_load(&parser, &l.doc)) {
        snprintf(err, errlen, "%s:%zu: YAML: %s", path, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "syntax error");
        yaml_parser_delete(&parser);
        fclose(f);
        return -EINVAL;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    yaml_node_t *root = yaml_document_get_root_node(&l.doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = fail_at(&l, root, "document", "expected a mapping with 'phases'%s", "");
        goto out;
    }
    bool have_phases = false;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(&l.doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&l.doc, pr->value);
        const char *ks = scalar(k);
        if (ks && strcmp(ks, "name") == 0 && scalar(v)) {
            snprintf(p->name, sizeof(p->name), "%s", scalar(v));
        } else if (ks && strcmp(ks, "sla") == 0 && scalar(v)) {
            snprintf(p->sla, sizeof(p->sla), "%s", scalar(v));
        } else if (ks && strcmp(ks, "phases") == 0) {
            if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start) {
                rc = fail_at(&l, v, "phases", "expected a non-empty list of phases%s", "");
                goto out;
            }
            for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                if (p->n == CTL_MAX_PHASES) {
                    rc = fail_at(&l, v, "phases", "more than %s phases", "32");
                    goto out;
                }
                rc = parse_phase(&l, yaml_document_get_node(&l.doc, *it), &p->phase[p->n], p->n);
                if (rc < 0)
                    goto out;
                p->n++;
            }
            have_phases = true;
        } else {
            rc = fail_at(&l, k, ks ? ks : "?", "unknown field (expected name, phases, sla)%s", "");
            goto out;
        }
    }
    if (!have_phases)
        rc = fail_at(&l, root, "phases", "missing%s", "");
out:
    yaml_document_delete(&l.doc);
    return rc;
}
