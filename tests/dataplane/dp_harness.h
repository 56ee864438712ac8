/* SPDX-License-Identifier: MIT */
/*
 * A dataplane in a test process: EAL without hugepages or ports, an 8-agent
 * ring in a run image, the real flow table and the real rx path
 * (dp_process_rx). Frames are built here and handed in directly.
 */
#ifndef SWARMGEN_TESTS_DP_HARNESS_H
#define SWARMGEN_TESTS_DP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_internal.h"
#include "dp_msg.h"

#define H_AGENTS 8u

struct dp_harness {
    struct dp_ctx ctx;
    struct dp_worker *wk; /* worker 0 of 2 */
    void *image;
};

/* Initialises EAL once per process and builds the harness. 0 or -errno. */
int dp_harness_init(struct dp_harness *h);

/* A well-formed frame from agent `from` to neighbour `to` carrying an agent
 * message src -> dst with `hops`. NULL when from/to are not neighbours. */
struct rte_mbuf *dp_harness_frame(struct dp_harness *h, uint32_t from, uint32_t to, uint32_t src,
                                  uint32_t dst, uint8_t hops);

/* A frame holding exactly `len` raw bytes. */
struct rte_mbuf *dp_harness_raw(struct dp_harness *h, const uint8_t *bytes, uint16_t len);

/* Frees every frame the rx path queued for transmission; returns how many. */
uint32_t dp_harness_flush(struct dp_harness *h);

#endif
