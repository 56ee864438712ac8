/* SPDX-License-Identifier: MIT */
#include "met_stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *ctl_drop_name(uint32_t reason)
{
    static const char *const names[] = {
#define NAME(id, name) name,
        RI_DROP_REASONS(NAME)
#undef NAME
    };
    return reason < RI_DROP_COUNT ? names[reason] : "?";
}

const char *ctl_stage_name(uint32_t stage)
{
    static const char *const names[] = {
#define NAME(id, name) name,
        RI_STAGES(NAME)
#undef NAME
    };
    return stage < RI_STAGE_COUNT ? names[stage] : "?";
}

const char *ctl_dtls_name(uint32_t i)
{
    return i == 0 ? "1.2" : i == 1 ? "1.3" : "?";
}

const char *ctl_dtls_key(uint32_t i)
{
    return i == 0 ? "v1_2" : i == 1 ? "v1_3" : "?";
}

const char *ctl_dtls_offer_name(uint8_t bits)
{
    bits = ri_dtls_offer(bits);
    return bits == RI_DTLS_V12 ? "1.2" : bits == RI_DTLS_V13 ? "1.3" : bits == RI_DTLS_AUTO ? "auto" : "?";
}

const char *ctl_setup_hist_name(uint32_t k)
{
    static const char *const dtls[RI_DTLS_VERSIONS] = {"dtls_v1_2", "dtls_v1_3"};
    if (k < RI_STAGE_COUNT)
        return ctl_stage_name(k);
    if (k == RI_SETUP_TOTAL)
        return "total";
    return k - RI_SETUP_DTLS < RI_DTLS_VERSIONS ? dtls[k - RI_SETUP_DTLS] : "?";
}

uint64_t met_hist_total(const struct met_hist *h)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++)
        t += h->bucket[i];
    return t;
}

uint64_t met_hist_percentile(const struct met_hist *h, double p)
{
    uint64_t total = met_hist_total(h);
    if (total == 0)
        return 0;
    if (p > 100.0)
        p = 100.0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)total);
    if (rank < 1)
        rank = 1;
    if (rank >= total)
        return h->max; /* the largest value is tracked exactly */
    uint64_t seen = 0;
    for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t v = met_hist_bucket_low(i) + met_hist_bucket_width(i) / 2;
            if (h->max && v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

uint64_t met_hist_count_above(const struct met_hist *h, uint64_t v)
{
    uint64_t n = 0;
    for (uint32_t i = met_hist_index(v) + 1; i < MET_HIST_BUCKETS; i++)
        n += h->bucket[i];
    return n;
}

void met_hist_merge(struct met_hist *dst, const struct met_hist *src)
{
    dst->count += src->count;
    dst->sum += src->sum;
    dst->clamped += src->clamped;
    if (src->max > dst->max)
        dst->max = src->max;
    for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
}

void met_hist_delta(struct met_hist *out, const struct met_hist *now, const struct met_hist *before)
{
    out->count = now->count - before->count;
    out->sum = now->sum - before->sum;
    out->clamped = now->clamped - before->clamped;
    out->max = 0;
    for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++) {
        out->bucket[i] = now->bucket[i] - before->bucket[i];
        if (out->bucket[i]) /* the top bucket of the interval bounds its max */
            out->max = met_hist_bucket_low(i) + met_hist_bucket_width(i) - 1;
    }
    if (out->max > now->max)
        out->max = now->max;
}

/* ri_counters is all uint64_t: treat it as an array. */
#define N_WORDS (sizeof(struct ri_counters) / sizeof(uint64_t))
_Static_assert(sizeof(struct ri_counters) % sizeof(uint64_t) == 0, "counters are u64 words");

void met_counters_merge(struct ri_counters *dst, const struct ri_counters *src)
{
    uint64_t *d = (uint64_t *)dst;
    const uint64_t *s = (const uint64_t *)src;
    for (size_t i = 0; i < N_WORDS; i++)
        d[i] += s[i];
}

void met_counters_delta(struct ri_counters *out, const struct ri_counters *now,
                        const struct ri_counters *before)
{
    uint64_t *o = (uint64_t *)out;
    const uint64_t *a = (const uint64_t *)now, *b = (const uint64_t *)before;
    for (size_t i = 0; i < N_WORDS; i++)
        o[i] = a[i] - b[i];
}

int ctl_snap_init(struct ctl_snap *s, uint32_t n_workers)
{
    memset(s, 0, sizeof(*s));
    s->n_workers = n_workers;
    s->worker = calloc(n_workers, sizeof(*s->worker));
    s->worker_latency = calloc(n_workers, sizeof(*s->worker_latency));
    s->scratch = calloc(1, sizeof(*s->scratch));
    if (!s->worker || !s->worker_latency || !s->scratch) {
        ctl_snap_free(s);
        return -ENOMEM;
    }
    return 0;
}

void ctl_snap_free(struct ctl_snap *s)
{
    free(s->worker);
    free(s->worker_latency);
    free(s->scratch);
    s->worker = NULL;
    s->worker_latency = NULL;
    s->scratch = NULL;
}

void ctl_snap_copy(struct ctl_snap *dst, const struct ctl_snap *src)
{
    dst->mono_ns = src->mono_ns;
    memcpy(dst->worker, src->worker, src->n_workers * sizeof(*src->worker));
    memcpy(dst->worker_latency, src->worker_latency, src->n_workers * sizeof(*src->worker_latency));
    dst->total = src->total;
    dst->latency = src->latency;
    memcpy(dst->setup, src->setup, sizeof(dst->setup));
    memcpy(dst->dir_latency, src->dir_latency, sizeof(dst->dir_latency));
    dst->resetup = src->resetup;
}

uint64_t ctl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Copies words with relaxed atomic loads: the single writer may be storing
 * concurrently (live reads); each word is then a value it really had. */
static void copy_words(void *dst, const void *src, size_t bytes)
{
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
        d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

int ctl_snap_take(struct ctl_snap *s, struct ri_command *cmd, const struct ri_metrics *blocks,
                  bool live, uint64_t timeout_ns)
{
    int rc = 0;
    bool *published = calloc(s->n_workers, sizeof(bool));
    if (!live && published) {
        uint64_t req = ri_load(&cmd->snap_req) + 1;
        ri_store(&cmd->snap_req, req);
        uint64_t deadline = ctl_mono_ns() + timeout_ns;
        uint32_t done = 0;
        while (done < s->n_workers) {
            for (uint32_t w = 0; w < s->n_workers; w++) {
                if (!published[w] && ri_load(&blocks[w].snap_seq) == req) {
                    published[w] = true;
                    done++;
                }
            }
            if (done == s->n_workers)
                break;
            if (ctl_mono_ns() > deadline) {
                rc = -ETIMEDOUT;
                break;
            }
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    memset(&s->total, 0, sizeof(s->total));
    memset(&s->latency, 0, sizeof(s->latency));
    memset(s->setup, 0, sizeof(s->setup));
    memset(s->dir_latency, 0, sizeof(s->dir_latency));
    memset(&s->resetup, 0, sizeof(s->resetup));
    for (uint32_t w = 0; w < s->n_workers; w++) {
        bool use_snap = !live && published && published[w];
        copy_words(&s->worker[w], use_snap ? &blocks[w].snap : &blocks[w].live,
                   sizeof(struct ri_counters));
        copy_words(&s->worker_latency[w], use_snap ? &blocks[w].snap_latency : &blocks[w].latency,
                   sizeof(struct met_hist));
        met_counters_merge(&s->total, &s->worker[w]);
        met_hist_merge(&s->latency, &s->worker_latency[w]);
        for (uint32_t k = 0; k < RI_SETUP_HISTS; k++) {
            copy_words(s->scratch, use_snap ? &blocks[w].snap_setup[k] : &blocks[w].setup[k],
                       sizeof(struct met_hist));
            met_hist_merge(&s->setup[k], s->scratch);
        }
        for (uint32_t d = 0; d < 2; d++) {
            copy_words(s->scratch, use_snap ? &blocks[w].snap_dir_latency[d] : &blocks[w].dir_latency[d],
                       sizeof(struct met_hist));
            met_hist_merge(&s->dir_latency[d], s->scratch);
        }
        copy_words(s->scratch, use_snap ? &blocks[w].snap_resetup : &blocks[w].resetup, sizeof(struct met_hist));
        met_hist_merge(&s->resetup, s->scratch);
    }
    s->mono_ns = ctl_mono_ns();
    free(published);
    return rc;
}
