/* SPDX-License-Identifier: MIT */
/*
 * dp_netem: network emulation on the dataplane's transmit path — delay,
 * jitter, random and Gilbert-Elliott loss, duplication, reordering and a
 * rate cap, per link class (include/run_image.h: struct ri_netem).
 *
 * The worker that sends a frame onto an edge applies the edge's class: the
 * frame is dropped, or scheduled for release at a TSC time in a per-worker
 * hashed timer wheel (FIFO per slot, so a constant delay keeps the order),
 * and handed to the edge's owner when released. Frames carry their release
 * time and edge in an mbuf dynamic field; nothing is allocated per frame
 * except the mbuf copy of a duplicate, taken from the pool.
 */
#ifndef SWARMGEN_DP_NETEM_H
#define SWARMGEN_DP_NETEM_H

#include <stdint.h>

#include "dp.h"

#define DP_WHEEL_BITS 16       /* 65,536 slots */
#define DP_WHEEL_TICK_SHIFT 14 /* 16,384 TSC cycles per slot (a few microseconds) */

/* Registers the mbuf dynamic field and allocates each worker's wheel when
 * any class is enabled. 0 or negative errno (reason in err). */
int dp_netem_init(struct dp_ctx *ctx, char *err, size_t errlen);

/* Applies class `nc` to frame `m` (headers written for edge `e`). */
void dp_netem_submit(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m,
                     uint32_t e, const struct ri_netem *nc, uint64_t tsc);

/* Releases every frame due at `tsc` to its edge's owner. */
void dp_netem_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* The census when the workers stop: the frames of wk's wheel (delay and
 * rate queues) that carry an agent message (dp_frame_is_msg). Walks every
 * slot; the frames stay where they are. Worker wk, stopped. */
uint64_t dp_netem_census(const struct dp_ctx *ctx, const struct dp_worker *wk);

#endif
