/* SPDX-License-Identifier: MIT */
#include "dp_pcap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

int dp_pcap_init(struct dp_ctx *ctx, char *err, size_t errlen)
{
    uint32_t n = ctx->ri.cfg->pcap_count;
    if (n == 0 || ctx->ri.cfg->pcap_path[0] == '\0')
        return 0;
    for (uint32_t w = 0; w < ctx->n_workers; w++) {
        struct dp_worker *wk = ctx->worker[w];
        int socket = (int)rte_lcore_to_socket_id(wk->lcore_id);
        wk->pcap_rec = rte_zmalloc_socket("sg_pcap", (size_t)n * sizeof(struct dp_pcap_rec), 64, socket);
        wk->pcap_data = rte_malloc_socket("sg_pcap", (size_t)n * DP_PCAP_SNAPLEN, 64, socket);
        if (!wk->pcap_rec || !wk->pcap_data) {
            snprintf(err, errlen, "--pcap-count %u: capture buffers of %zu MiB per core: out of memory",
                     n, (size_t)n * DP_PCAP_SNAPLEN >> 20);
            return -ENOMEM;
        }
        wk->pcap_cap = n;
        wk->pcap_n = 0;
    }
    return 0;
}

void dp_pcap_capture(struct dp_worker *wk, struct rte_mbuf **pkts, uint32_t n, uint64_t tsc)
{
    for (uint32_t i = 0; i < n && wk->pcap_n < wk->pcap_cap; i++) {
        struct rte_mbuf *m = pkts[i];
        struct dp_pcap_rec *r = &wk->pcap_rec[wk->pcap_n];
        uint8_t *dst = wk->pcap_data + (size_t)wk->pcap_n * DP_PCAP_SNAPLEN;
        r->tsc = tsc;
        r->len = m->pkt_len;
        r->caplen = m->pkt_len < DP_PCAP_SNAPLEN ? m->pkt_len : DP_PCAP_SNAPLEN;
        const void *p = rte_pktmbuf_read(m, 0, r->caplen, dst);
        if (p != dst)
            memcpy(dst, p, r->caplen);
        wk->pcap_n++;
    }
}

int dp_pcap_write(const struct dp_ctx *ctx, uint64_t realtime_ns, uint64_t tsc_at, char *err,
                  size_t errlen)
{
    if (ctx->ri.cfg->pcap_count == 0 || ctx->ri.cfg->pcap_path[0] == '\0')
        return 0;
    FILE *f = fopen(ctx->ri.cfg->pcap_path, "wb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "--pcap %s: %s", ctx->ri.cfg->pcap_path, strerror(e));
        return -e;
    }
    /* pcap with nanosecond timestamps, LINKTYPE_ETHERNET */
    const uint32_t ghdr[6] = {0xa1b23c4d, 0x00040002, 0, 0, DP_PCAP_SNAPLEN, 1};
    fwrite(ghdr, sizeof(ghdr), 1, f);
    uint32_t pos[RI_MAX_WORKERS] = {0};
    for (uint32_t written = 0; written < ctx->ri.cfg->pcap_count; written++) {
        int best = -1;
        uint64_t best_tsc = UINT64_MAX;
        for (uint32_t w = 0; w < ctx->n_workers; w++) {
            const struct dp_worker *wk = ctx->worker[w];
            if (pos[w] < wk->pcap_n && wk->pcap_rec[pos[w]].tsc < best_tsc) {
                best = (int)w;
                best_tsc = wk->pcap_rec[pos[w]].tsc;
            }
        }
        if (best < 0)
            break;
        const struct dp_worker *wk = ctx->worker[best];
        const struct dp_pcap_rec *r = &wk->pcap_rec[pos[best]];
        double dt = ((double)r->tsc - (double)tsc_at) * ctx->ns_per_cycle;
        uint64_t t = (uint64_t)((double)realtime_ns + dt);
        const uint32_t rhdr[4] = {(uint32_t)(t / 1000000000u), (uint32_t)(t % 1000000000u),
                                  r->caplen, r->len};
        fwrite(rhdr, sizeof(rhdr), 1, f);
        fwrite(wk->pcap_data + (size_t)pos[best] * DP_PCAP_SNAPLEN, r->caplen, 1, f);
        pos[best]++;
    }
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0)
        rc = -EIO;
    if (rc < 0)
        snprintf(err, errlen, "--pcap %s: write failed", ctx->ri.cfg->pcap_path);
    return rc;
}
