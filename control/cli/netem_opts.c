/* SPDX-License-Identifier: MIT */
#include "netem_opts.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* "5%" or "0.5%" -> parts per million */
static int parse_pct(const char *s, uint32_t *ppm)
{
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != '%')
        return -EINVAL;
    char buf[32];
    if (n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n - 1);
    buf[n - 1] = '\0';
    double v;
    if (cli_parse_double(buf, 0, 100, &v) < 0)
        return -EINVAL;
    *ppm = (uint32_t)llround(v * 10000.0);
    return 0;
}

static int parse_rate(const char *s, uint64_t *bps)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v <= 0)
        return -EINVAL;
    double mul;
    if (strcasecmp(end, "bit") == 0 || *end == '\0')
        mul = 1;
    else if (strcasecmp(end, "kbit") == 0)
        mul = 1e3;
    else if (strcasecmp(end, "mbit") == 0)
        mul = 1e6;
    else if (strcasecmp(end, "gbit") == 0)
        mul = 1e9;
    else
        return -EINVAL;
    if (v * mul < 1000 || v * mul > 1e12)
        return -EINVAL;
    *bps = (uint64_t)(v * mul);
    return 0;
}

/* "A@B" or "A/B": two durations (A up to an hour and above zero; B may be
 * zero when zero_b) */
static int parse_pair(const char *s, char sep, uint64_t *a, uint64_t *b, bool zero_b)
{
    const char *at = strchr(s, sep);
    char first[32];
    if (!at || (size_t)(at - s) >= sizeof(first))
        return -EINVAL;
    memcpy(first, s, (size_t)(at - s));
    first[at - s] = '\0';
    if (cli_parse_duration(first, 1, 3600000000000ull, a) < 0 ||
        cli_parse_duration(at + 1, zero_b ? 0 : 1, 3600000000000ull, b) < 0)
        return -EINVAL;
    return 0;
}

int ctl_netem_parse(const char *spec, struct ri_netem *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->enabled = 1;
    char buf[256];
    if (strlen(spec) >= sizeof(buf) || !*spec) {
        snprintf(err, errlen, "expected key=value pairs (delay, jitter, loss, ge, dup, reorder, rate, outage, flap, class, share)");
        return -EINVAL;
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    bool have_class = false, have_share = false;
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(err, errlen, "'%s': expected key=value", kv);
            return -EINVAL;
        }
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        int rc = 0;
        if (strcmp(k, "delay") == 0)
            rc = cli_parse_duration(v, 0, 10000000000ull, &o->delay_ns);
        else if (strcmp(k, "jitter") == 0)
            rc = cli_parse_duration(v, 0, 10000000000ull, &o->jitter_ns);
        else if (strcmp(k, "loss") == 0)
            rc = parse_pct(v, &o->loss_ppm);
        else if (strcmp(k, "dup") == 0)
            rc = parse_pct(v, &o->dup_ppm);
        else if (strcmp(k, "reorder") == 0)
            rc = parse_pct(v, &o->reorder_ppm);
        else if (strcmp(k, "rate") == 0)
            rc = parse_rate(v, &o->rate_bps);
        else if (strcmp(k, "outage") == 0)
            rc = parse_pair(v, '@', &o->outage_ns, &o->outage_at_ns, true);
        else if (strcmp(k, "flap") == 0)
            rc = parse_pair(v, '/', &o->flap_up_ns, &o->flap_down_ns, false);
        else if (strcmp(k, "ge") == 0) {
            char g[64];
            snprintf(g, sizeof(g), "%s", v);
            char *p = strtok(g, "/"), *r = strtok(NULL, "/"), *b = strtok(NULL, "/");
            o->ge_bad_loss_ppm = 1000000;
            rc = (!p || !r || parse_pct(p, &o->ge_p_ppm) || parse_pct(r, &o->ge_r_ppm) ||
                  (b && parse_pct(b, &o->ge_bad_loss_ppm)) || strtok(NULL, "/"))
                     ? -EINVAL
                     : 0;
            o->gilbert = 1;
        } else if (strcmp(k, "class") == 0) {
            if (!*v || strlen(v) >= sizeof(o->name))
                rc = -EINVAL;
            else
                snprintf(o->name, sizeof(o->name), "%s", v);
            have_class = true;
        } else if (strcmp(k, "share") == 0) {
            rc = parse_pct(v, &o->share_ppm);
            have_share = true;
        } else {
            snprintf(err, errlen, "'%s': unknown key (delay, jitter, loss, ge, dup, reorder, rate, outage, flap, class, share)", k);
            return -EINVAL;
        }
        if (rc < 0) {
            snprintf(err, errlen, "'%s=%s': %s", k, v,
                     strcmp(k, "rate") == 0 ? "expected a rate like 100Mbit, 1Gbit, 500kbit" :
                     strcmp(k, "ge") == 0 ? "expected P%/R% or P%/R%/LOSS% (percentages)" :
                     strcmp(k, "delay") == 0 || strcmp(k, "jitter") == 0 ? "expected a duration up to 10s (e.g. 10ms)" :
                     strcmp(k, "class") == 0 ? "expected a name of 1..15 characters" :
                     strcmp(k, "outage") == 0 ? "expected DURATION@TIME, e.g. 3s@10s (silent for 3 s, 10 s into the load)" :
                     strcmp(k, "flap") == 0 ? "expected UP/DOWN durations, e.g. 5s/1s" :
                     "expected a percentage like 5% or 0.1%");
            return -EINVAL;
        }
    }
    if (have_class != have_share) {
        snprintf(err, errlen, "class= and share= go together (a named class covers a share of the edges)");
        return -EINVAL;
    }
    if (o->gilbert && o->loss_ppm) {
        snprintf(err, errlen, "loss= and ge= are two loss models: give one");
        return -EINVAL;
    }
    if (o->jitter_ns > o->delay_ns && o->delay_ns) {
        snprintf(err, errlen, "jitter larger than delay would send frames before they were sent");
        return -EINVAL;
    }
    if (!have_class)
        snprintf(o->name, sizeof(o->name), "all");
    return 0;
}

uint16_t ctl_netem_class_of(const struct ri_netem *classes, uint32_t n_classes, uint64_t seed,
                            uint64_t e)
{
    uint64_t z = seed ^ (e * 0x9e3779b97f4a7c15ull) ^ 0x6e65746dull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    uint32_t u = (uint32_t)(z % 1000000u);
    uint32_t acc = 0;
    for (uint32_t c = 1; c < n_classes; c++) {
        acc += classes[c].share_ppm;
        if (u < acc)
            return (uint16_t)c;
    }
    return 0;
}
