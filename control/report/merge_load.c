/* SPDX-License-Identifier: MIT */
/*
 * merge_load: the first step of `report --merge` — each shard report read,
 * checked to be a swarmgen run report with histograms of this build's
 * layout, and checked against the first to be a shard of the same swarm.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hist_json.h"
#include "report_merge_internal.h"

/* The keys every run report has and the merge needs (plain numbers). */
static const char *const required[] = {
    "agents",
    "messages.sent",
    "messages.delivered",
    "messages.forwarded",
    "messages.dropped_in_flight",
    "messages.hops",
    "throughput.frames_tx",
    "throughput.bytes_tx",
    "duration_s",
    "drain_s",
    "topology.seed",
};

/* Loads input i and checks it is a swarmgen run report with histograms of
 * this build's layout. Returns 0 or exit code 2 (the line printed). */
static int load(struct ctl_merge *m, uint32_t i)
{
    const char *path = m->o->input[i];
    struct jr_doc *d = &m->doc[i];
    size_t off = 0;
    int rc = jr_load(d, path, &off);
    if (rc == -EINVAL)
        return ctl_merge_bad_input(m->o, path, "not JSON (error at byte %zu)", off);
    if (rc < 0)
        return ctl_merge_bad_input(m->o, path, "%s", strerror(-rc));
    m->n_loaded = i + 1;
    if (!jr_str_is(d, jr_find(d, 0, "tool"), "swarmgen"))
        return ctl_merge_bad_input(m->o, path, "not a swarmgen report (no \"tool\": \"swarmgen\")");
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
        int node = jr_find(d, 0, required[k]);
        if (node < 0 || d->node[node].type != JR_NUM)
            return ctl_merge_bad_input(m->o, path, "not a swarmgen run report (no %s)",
                                       required[k]);
    }
    int h = jr_find(d, 0, "histograms");
    if (h < 0)
        return ctl_merge_bad_input(m->o, path,
                                   "has no \"histograms\" (written by a swarmgen before report "
                                   "--merge): run it again to merge it");
    char err[160];
    if (ctl_hist_json_layout_check(d, jr_member(d, h, "layout"), err, sizeof(err)) < 0)
        return ctl_merge_bad_input(m->o, path, "%s", err);
    return 0;
}

bool ctl_merge_same_value(const struct jr_doc *da, int a, const struct jr_doc *db, int b)
{
    if (a < 0 || b < 0)
        return a < 0 && b < 0;
    const struct jr_node *x = &da->node[a], *y = &db->node[b];
    if (x->type != y->type)
        return false;
    if (x->type == JR_STR || x->type == JR_NUM)
        return x->raw_len == y->raw_len && memcmp(x->raw, y->raw, x->raw_len) == 0;
    return x->num == y->num;
}

/* What makes reports shards of one swarm: equal in every input. */
static const char *const same_swarm[] = {
    "topology.spec", "topology.seed", "agents", "traffic.kind", "traffic.pattern", "profile.name",
};

/* Input i against input 0 and against every earlier file. Returns 0 or 2. */
static int check_shard(const struct ctl_merge *m, uint32_t i, const struct stat *st)
{
    const char *path = m->o->input[i];
    for (uint32_t j = 0; j < i; j++)
        if (st[j].st_dev == st[i].st_dev && st[j].st_ino == st[i].st_ino)
            return ctl_merge_bad_input(
                m->o, path, "given twice (as %s too): each shard counts once", m->o->input[j]);
    const struct jr_doc *a = &m->doc[0], *b = &m->doc[i];
    for (size_t k = 0; k < sizeof(same_swarm) / sizeof(same_swarm[0]); k++) {
        int x = jr_find(a, 0, same_swarm[k]), y = jr_find(b, 0, same_swarm[k]);
        if (ctl_merge_same_value(a, x, b, y))
            continue;
        const struct jr_node *nx = x >= 0 ? &a->node[x] : NULL, *ny = y >= 0 ? &b->node[y] : NULL;
        return ctl_merge_bad_input(m->o, path, "%s is %.*s, in %s %.*s: not shards of one swarm",
                                   same_swarm[k], ny ? (int)ny->raw_len : 4, ny ? ny->raw : "none",
                                   m->o->input[0], nx ? (int)nx->raw_len : 4,
                                   nx ? nx->raw : "none");
    }
    int pa = jr_find(a, 0, "histograms.phases"), pb = jr_find(b, 0, "histograms.phases");
    uint32_t na = 0, nb = 0;
    for (int c = jr_next_child(a, pa, pa); c >= 0; c = jr_next_child(a, pa, c))
        na++;
    for (int c = jr_next_child(b, pb, pb); c >= 0; c = jr_next_child(b, pb, c))
        nb++;
    if (na != nb)
        return ctl_merge_bad_input(m->o, path,
                                   "%u profile phases, %s has %u: not shards of one swarm", nb,
                                   m->o->input[0], na);
    return 0;
}

/* The inputs' "shard" objects (--shard I/N): all or none, one count,
 * distinct indexes; notes the shards no report was given for. */
static int check_shards(struct ctl_merge *m)
{
    double n0;
    bool sharded = jr_number(&m->doc[0], "shard.count", &n0);
    for (uint32_t i = 0; i < m->o->n; i++) {
        double n, idx;
        bool has = jr_number(&m->doc[i], "shard.count", &n) && jr_number(&m->doc[i], "shard.index", &idx);
        if (has != sharded)
            return ctl_merge_bad_input(m->o, m->o->input[i], "%s --shard report, %s is %s",
                                       has ? "a" : "not a", m->o->input[0], sharded ? "one" : "not");
        if (!has)
            continue;
        if (n != n0 || n < 2 || n > 1024 || idx < 0 || idx >= n)
            return ctl_merge_bad_input(m->o, m->o->input[i], "shard %g of %g, %s is of %g shards", idx, n,
                                       m->o->input[0], n0);
        uint32_t s = (uint32_t)idx;
        for (uint32_t j = 0; j < i; j++) {
            double other;
            if (jr_number(&m->doc[j], "shard.index", &other) && (uint32_t)other == s)
                return ctl_merge_bad_input(m->o, m->o->input[i], "shard %u again (%s is shard %u too)", s,
                                           m->o->input[j], s);
        }
    }
    if (!sharded) {
        if (m->o->n < 2)
            return ctl_merge_bad_input(m->o, m->o->input[0],
                                       "needs at least two shard reports: A.json B.json [C.json ...]");
        return 0;
    }
    m->shard_count = (uint32_t)n0;
    for (uint32_t s = 0; s < m->shard_count; s++)
        m->shard_missing[s / 64] |= 1ull << (s % 64);
    for (uint32_t i = 0; i < m->o->n; i++) {
        double idx;
        jr_number(&m->doc[i], "shard.index", &idx);
        m->shard_missing[(uint32_t)idx / 64] &= ~(1ull << ((uint32_t)idx % 64));
    }
    return 0;
}

int ctl_merge_load(struct ctl_merge *m)
{
    struct stat st[CTL_MERGE_MAX];
    for (uint32_t i = 0; i < m->o->n; i++) {
        int rc = load(m, i);
        if (rc)
            return rc;
        if (stat(m->o->input[i], &st[i]) < 0)
            return ctl_merge_bad_input(m->o, m->o->input[i], "%s", strerror(errno));
        if (i > 0 && (rc = check_shard(m, i, st)))
            return rc;
    }
    return check_shards(m);
}
