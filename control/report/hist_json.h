/* SPDX-License-Identifier: MIT */
/*
 * hist_json: met_hist histograms in a JSON report, exactly, and read back.
 *
 * A histogram is {"count", "sum", "max", "clamped", "buckets": [[index,
 * count], ...]} with only the buckets that hold something, in index order,
 * on one line. The bucket layout (include/met_hist.h) is written once per
 * report as {"sub_bits", "max_bit", "buckets"}: a reader refuses histograms
 * of another layout, since their indexes mean other values. Every figure is
 * a whole number written exactly. Not thread-safe; no allocation.
 */
#ifndef SWARMGEN_CONTROL_HIST_JSON_H
#define SWARMGEN_CONTROL_HIST_JSON_H

#include <stddef.h>

#include "json.h"
#include "json_read.h"
#include "met_hist.h"

/* Writes the layout object of this build's met_hist (a value: the caller
 * writes its key first). */
void ctl_hist_json_layout(struct json_writer *w);

/* Writes `h` as an object (a value: the caller writes its key first). */
void ctl_hist_json_write(struct json_writer *w, const struct met_hist *h);

/* Checks that layout object `node` of `d` is this build's. Returns 0, or
 * -EINVAL with what differs in err. */
int ctl_hist_json_layout_check(const struct jr_doc *d, int node, char *err, size_t errlen);

/* Reads histogram object `node` of `d` into `h` (overwritten). Returns 0,
 * or -EINVAL with the reason in err: not an object, a figure missing or not
 * a whole number, a bucket index out of range or out of order. */
int ctl_hist_json_read(const struct jr_doc *d, int node, struct met_hist *h, char *err,
                       size_t errlen);

#endif
