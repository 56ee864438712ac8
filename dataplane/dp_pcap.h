/* SPDX-License-Identifier: MIT */
/*
 * dp_pcap: --pcap FILE --pcap-count N — the first N frames that leave the
 * dataplane, in pcap format (nanosecond timestamps, Ethernet link type).
 *
 * Each worker copies the frames it is about to transmit into its own
 * preallocated buffer (up to N frames each, no sharing, no locks); when the
 * workers have stopped, the main thread merges the buffers by TSC and writes
 * the N earliest frames. Frames are truncated to DP_PCAP_SNAPLEN bytes.
 */
#ifndef SWARMGEN_DP_PCAP_H
#define SWARMGEN_DP_PCAP_H

#include <stdint.h>

#include "dp.h"

#define DP_PCAP_SNAPLEN 2048u

struct dp_pcap_rec {
    uint64_t tsc;
    uint32_t len;    /* original length */
    uint32_t caplen; /* bytes kept */
};

/* Allocates each worker's capture buffer when the config asks for a
 * capture. 0 or -ENOMEM (reason in err). */
int dp_pcap_init(struct dp_ctx *ctx, char *err, size_t errlen);

/* Copies up to the worker's remaining quota of `n` frames. */
void dp_pcap_capture(struct dp_worker *wk, struct rte_mbuf **pkts, uint32_t n, uint64_t tsc);

/* Merges and writes the capture; `realtime_ns` and `tsc_at` pair a wall
 * clock time with a TSC value for the timestamps. 0 or negative errno. */
int dp_pcap_write(const struct dp_ctx *ctx, uint64_t realtime_ns, uint64_t tsc_at, char *err,
                  size_t errlen);

#endif
