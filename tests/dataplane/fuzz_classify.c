/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the dataplane rx path (frame parser, flow lookup,
 * agent message checks, relay). The first byte chooses between raw bytes
 * and a well-formed frame of a real flow whose agent message is fuzzed. */
#include <stdint.h>
#include <string.h>

#include "dp_harness.h"

static struct dp_harness h;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (dp_harness_init(&h) != 0)
            __builtin_trap();
        ready = 1;
    }
    if (size < 1)
        return 0;
    struct rte_mbuf *m;
    if (data[0] & 1) {
        m = dp_harness_raw(&h, data + 1, (uint16_t)(size - 1 > 2000 ? 2000 : size - 1));
    } else {
        uint32_t from = data[0] >> 1 & 7;
        m = dp_harness_frame(&h, from, (from + 1) % H_AGENTS, 0, 0, 0);
        /* overwrite the agent message and beyond with the input */
        struct dp_frame *f = rte_pktmbuf_mtod(m, struct dp_frame *);
        size_t n = size - 1 > 64 ? 64 : size - 1;
        memcpy(&f->msg, data + 1, n);
    }
    if (!m)
        return 0;
    struct rte_mbuf *pkts[1] = {m};
    dp_process_rx(&h.ctx, h.wk, pkts, 1, 123456);
    dp_harness_flush(&h);
    if (rte_mempool_avail_count(h.ctx.pool) != 1024)
        __builtin_trap(); /* a buffer leaked */
    return 0;
}
