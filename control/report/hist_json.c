/* SPDX-License-Identifier: MIT */
#include "hist_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void ctl_hist_json_layout(struct json_writer *w)
{
    json_obj_begin(w);
    json_kv_u64(w, "sub_bits", MET_HIST_SUB_BITS);
    json_kv_u64(w, "max_bit", MET_HIST_MAX_BIT);
    json_kv_u64(w, "buckets", MET_HIST_BUCKETS);
    json_obj_end(w);
}

void ctl_hist_json_write(struct json_writer *w, const struct met_hist *h)
{
    json_obj_begin(w);
    json_kv_u64(w, "count", h->count);
    json_kv_u64(w, "sum", h->sum);
    json_kv_u64(w, "max", h->max);
    json_kv_u64(w, "clamped", h->clamped);
    json_key(w, "buckets");
    json_compact(w, true);
    json_arr_begin(w);
    for (uint32_t i = 0; i < MET_HIST_BUCKETS; i++) {
        if (!h->bucket[i])
            continue;
        json_arr_begin(w);
        json_u64(w, i);
        json_u64(w, h->bucket[i]);
        json_arr_end(w);
    }
    json_arr_end(w);
    json_compact(w, false);
    json_obj_end(w);
}

/* The whole number at member `key` of `obj`. */
static bool member_u64(const struct jr_doc *d, int obj, const char *key, uint64_t *out)
{
    return jr_u64(d, jr_member(d, obj, key), out);
}

int ctl_hist_json_layout_check(const struct jr_doc *d, int node, char *err, size_t errlen)
{
    static const struct {
        const char *key;
        uint64_t value;
    } want[] = {
        {"sub_bits", MET_HIST_SUB_BITS},
        {"max_bit", MET_HIST_MAX_BIT},
        {"buckets", MET_HIST_BUCKETS},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        uint64_t v;
        if (!member_u64(d, node, want[i].key, &v)) {
            snprintf(err, errlen, "histogram layout has no %s", want[i].key);
            return -EINVAL;
        }
        if (v != want[i].value) {
            snprintf(err, errlen, "histogram layout %s=%llu, this swarmgen has %llu", want[i].key,
                     (unsigned long long)v, (unsigned long long)want[i].value);
            return -EINVAL;
        }
    }
    return 0;
}

/* One [index, count] pair into h; `last` is the previous index (-1 first). */
static int read_bucket(const struct jr_doc *d, int pair, long *last, struct met_hist *h, char *err,
                       size_t errlen)
{
    uint64_t idx, count;
    int a = jr_next_child(d, pair, pair);
    int b = a >= 0 ? jr_next_child(d, pair, a) : -1;
    if (d->node[pair].type != JR_ARR || !jr_u64(d, a, &idx) || !jr_u64(d, b, &count) ||
        jr_next_child(d, pair, b) >= 0) {
        snprintf(err, errlen, "a bucket is not a pair [index, count] of whole numbers");
        return -EINVAL;
    }
    if (idx >= MET_HIST_BUCKETS || (long)idx <= *last) {
        snprintf(err, errlen, "bucket index %llu out of range or out of order",
                 (unsigned long long)idx);
        return -EINVAL;
    }
    h->bucket[idx] = count;
    *last = (long)idx;
    return 0;
}

int ctl_hist_json_read(const struct jr_doc *d, int node, struct met_hist *h, char *err,
                       size_t errlen)
{
    memset(h, 0, sizeof(*h));
    if (node < 0 || d->node[node].type != JR_OBJ) {
        snprintf(err, errlen, "not a histogram object");
        return -EINVAL;
    }
    static const char *const figure[] = {"count", "sum", "max", "clamped"};
    uint64_t *dst[] = {&h->count, &h->sum, &h->max, &h->clamped};
    for (size_t i = 0; i < sizeof(figure) / sizeof(figure[0]); i++) {
        if (!member_u64(d, node, figure[i], dst[i])) {
            snprintf(err, errlen, "histogram %s missing or not a whole number", figure[i]);
            return -EINVAL;
        }
    }
    int arr = jr_member(d, node, "buckets");
    if (arr < 0 || d->node[arr].type != JR_ARR) {
        snprintf(err, errlen, "histogram has no buckets array");
        return -EINVAL;
    }
    long last = -1;
    for (int p = jr_next_child(d, arr, arr); p >= 0; p = jr_next_child(d, arr, p))
        if (read_bucket(d, p, &last, h, err, errlen) < 0)
            return -EINVAL;
    return 0;
}
