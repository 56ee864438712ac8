/* SPDX-License-Identifier: MIT */
/* The memory plan of a run: what dp_conns_init, dp_conn_certs_init and
 * dp_setup allocate, and the run image, from the run's sizes. */
#include "dp_mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dp_conn_state.h"
#include "dtls.h"
#include "dtls_cert.h"
#include "run_image.h"
#include "sctp.h"
#include "srtp_session.h"
#include "tcp_conn.h"
#include "turn.h"

/* ---- DPDK 22.11's layout of the objects dp_setup creates ----
 * rte_pktmbuf_pool_create(n, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE): each
 * object is a struct rte_mbuf (128) and 2,048 + 128 bytes of headroom and
 * data, behind a mempool object header rounded to a cache line (64):
 * 2,368 bytes, which already spreads over 4 channels (37 lines). The pool's
 * ring holds the next power of two above n pointers; the pool struct
 * carries a cache for each of RTE_MAX_LCORE (128) lcores of 3 x 512
 * pointers and a line of counters. Measured against rte_malloc's heap
 * statistics: 2,385.8 bytes per mbuf between 32,768 and 65,536 mbufs
 * (2 workers, hugepages), 2,368 + 16 of ring predicted. */
#define MBUF_OBJ 2368u
#define MEMPOOL_CACHES (128u * (64u + 3u * 512u * 8u))
#define RING_HDR 384u /* struct rte_ring: three cache-line-aligned parts, rounded */
#define DP_RING_ENTRIES 16384u /* DP_LOOP_RING, DP_HANDOFF_RING, DP_MSG_RING in dp.h */

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

static uint64_t align64(uint64_t v)
{
    return (v + 63) & ~(uint64_t)63;
}

/* A ring of `count` pointer entries (count a power of two). */
static uint64_t ring_bytes(uint64_t count, uint64_t elt)
{
    return RING_HDR + count * elt;
}

/* rte_hash_create with `entries`, 12-byte keys, no extra flags
 * (rte_cuckoo_hash.c): entries + 1 key slots of 32 bytes (8-byte data
 * pointer and the key, 16-aligned), a free-slot ring of 4-byte entries, and
 * one 64-byte bucket of 8 entries per 8 entries rounded to a power of two. */
static uint64_t flow_table_bytes(uint64_t n_edges)
{
    uint64_t flows = 2 * n_edges;
    uint64_t entries = flows < 1024 ? 1024 : flows + flows / 8;
    uint64_t slots = entries + 1;
    return slots * 32 + ring_bytes(pow2_at_least(slots), 4) + pow2_at_least(entries) / 8 * 64;
}

static uint64_t mbuf_pool_bytes(uint64_t n)
{
    return n * MBUF_OBJ + ring_bytes(pow2_at_least(n + 1), 8) + MEMPOOL_CACHES;
}

/* Everything else dp_setup takes from DPDK's heap: the loopback rings (one
 * per worker), the hand-off rings (and with dc the message rings) between
 * every ordered pair of workers, the flow table and each worker's agent
 * tables. */
static uint64_t dpdk_other_bytes(const struct dp_mem_in *in)
{
    uint64_t w = in->n_workers;
    uint64_t rings = w + w * (w - 1) * (in->dc ? 2 : 1);
    uint64_t bytes = rings * ring_bytes(DP_RING_ENTRIES, 8) + flow_table_bytes(in->n_edges);
    bytes += 2 * ((uint64_t)in->n_agents + w) * sizeof(uint32_t); /* local agents and their sequences */
    return bytes;
}

size_t dp_mem_alloc_size(size_t bytes)
{
    return (size_t)align64(bytes);
}

void *dp_mem_big_alloc(size_t size, uint64_t *bytes)
{
    size = dp_mem_alloc_size(size);
    if (size < DP_MEM_BIG_PAGE) {
        *bytes += size;
        return aligned_alloc(64, size ? size : 64);
    }
    void *p = NULL;
    if (posix_memalign(&p, DP_MEM_BIG_PAGE, size) != 0)
        return NULL;
    (void)madvise(p, size, MADV_HUGEPAGE);
    *bytes += size;
    return p;
}

void dp_mem_worker(const struct dp_mem_in *in, uint32_t idx, struct dp_mem_worker *out)
{
    memset(out, 0, sizeof(*out));
    if (!in->dc || in->n_workers == 0 || idx >= in->n_workers)
        return;
    uint32_t w = in->n_workers;
    out->n_conns = (uint32_t)((in->n_edges + w - 1 - idx) / w);
    out->n_alloc = out->n_conns ? out->n_conns : 1;
    size_t n = out->n_alloc;
    out->conn = dp_mem_alloc_size(n * sizeof(struct dp_conn));
    /* DP_MEM_SCTP_STREAMS streams, counting into the worker's block */
    struct sctp_counters shared;
    struct sctp_config sc;
    sctp_config_default(&sc);
    sc.n_streams = DP_MEM_SCTP_STREAMS;
    sc.counters = &shared;
    out->assoc_size = sctp_assoc_size_cfg(&sc);
    out->sctp_assoc = dp_mem_alloc_size(2 * n * out->assoc_size);
    out->queue = dp_mem_alloc_size(n * sizeof(uint32_t));
    out->dirty = dp_mem_alloc_size(n * sizeof(uint32_t));
    out->wheel_links = dp_mem_alloc_size(n * sizeof(struct dp_conn_wheel));
    out->key_stride = dtls_record_keys_size();
    out->keys = dp_mem_alloc_size(n * out->key_stride);
    if (in->media && out->n_conns)
        out->media = (size_t)align64((uint64_t)out->n_conns * sizeof(struct dp_media));
    out->sctp_pool = dp_mem_alloc_size(sctp_pool_size(in->sctp_bufs, DP_MEM_SCTP_BUF_CAP));
    /* with --dtls-key-update each endpoint holds its slot for life, so
     * a set-up never waits for one held by an up connection */
    out->hs_slots = in->dtls_keep ? 2 * out->n_alloc + 2 : 2 * in->setup_cap + 2;
    out->hs_stride = (size_t)align64(dtls_endpoint_size());
    out->su_slots = in->consent ? 2 * out->n_alloc : 2 * in->setup_cap;
    out->su = dp_mem_alloc_size(out->su_slots * sizeof(struct pc_setup)) + out->su_slots * sizeof(uint32_t);
    out->hs = out->hs_slots * out->hs_stride + out->su;
    out->msg_bufs = 3 * (size_t)RI_MSG_MAX + DP_FWD_N * sizeof(struct dp_fwd);
    out->wheel_heads = DP_CONN_WHEEL_SLOTS * sizeof(uint32_t);
    out->keylog_cap = in->keylog_max ? in->keylog_max / w + 1 : 0;
    out->keylog = (size_t)out->keylog_cap * DP_MEM_KEYLOG_LINE;
}

uint64_t dp_mem_target(uint32_t n, uint32_t n_agents, uint32_t feeds, bool relay)
{
    if (n == 0)
        return 0;
    uint64_t bufs = (uint64_t)n * DP_MEM_TGT_BUFS_PER_SESSION;
    bufs = bufs < DP_MEM_TGT_BUFS_MIN ? DP_MEM_TGT_BUFS_MIN : bufs > DP_MEM_TGT_BUFS_MAX ? DP_MEM_TGT_BUFS_MAX : bufs;
    struct sctp_config sc; /* as pc_sctp_size() of the sessions' pc_config */
    sctp_config_default(&sc);
    sc.n_streams = DP_MEM_TGT_STREAMS;
    uint64_t assoc = align64(sctp_assoc_size_cfg(&sc));
    uint32_t hs = n < DP_MEM_TGT_HS ? n : DP_MEM_TGT_HS;
    return DP_MEM_TGT_STATE_BYTES + align64((uint64_t)n * DP_MEM_TGT_SESSION_BYTES) + n * assoc +
           align64(sctp_pool_size((uint32_t)bufs, 1200)) + (uint64_t)n_agents * sizeof(int32_t) +
           2 * (uint64_t)RI_MSG_MAX + hs * align64(dtls_endpoint_size()) +
           (uint64_t)n * (feeds > RI_TARGET_FEEDS ? RI_TARGET_FEEDS : feeds) * SRTPS_SESSION_SIZE +
           (relay ? DP_MEM_TGT_DGRAM : 0);
}

uint32_t dp_mem_target_hs(uint32_t n, bool dtls_keep)
{
    return dtls_keep || n < DP_MEM_TGT_HS ? n : DP_MEM_TGT_HS;
}

uint64_t dp_mem_relay(uint32_t n_agents, uint64_t n_edges, bool tcp, uint32_t target_slots)
{
    if (n_agents == 0)
        return 0;
    uint64_t n_tgt = target_slots < n_agents ? target_slots : n_agents;
    /* peer slots: every agent's neighbours (the degrees sum to 2 x edges),
     * and room for DP_MEM_RELAY_TGT_PEERS server candidates per target agent */
    uint64_t slots = 2 * n_edges + n_tgt * DP_MEM_RELAY_TGT_PEERS;
    /* each client: turn_size(max(peers, 1)) rounded up to 64 */
    uint64_t clients = (uint64_t)n_agents * (turn_size(0) + 32) + slots * (turn_size(1) - turn_size(0));
    return DP_MEM_RELAY_STATE_BYTES + n_tgt * DP_MEM_RELAY_TGT_BYTES + ((uint64_t)n_agents + 1) * sizeof(uint64_t) +
           (uint64_t)n_agents * DP_MEM_RELAY_AGENT_BYTES + slots * (sizeof(uint64_t) + 1) +
           (2 * n_edges + 1) * sizeof(int32_t) + 2 * n_edges + clients + 8192 * sizeof(uint32_t) +
           (tcp ? (uint64_t)n_agents * (align64(tcp_size(TCP_SNDBUF_DEFAULT)) + DP_MEM_RELAY_STREAM_BUF) : 0);
}

void dp_mem_plan(const struct dp_mem_in *in, struct dp_mem_out *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t *b = out->bytes;
    for (uint32_t i = 0; in->dc && i < in->n_workers; i++) {
        struct dp_mem_worker wk;
        dp_mem_worker(in, i, &wk);
        b[DP_MEM_CONN] += wk.conn + wk.sctp_assoc + wk.keys + wk.queue + wk.dirty + wk.wheel_links + wk.media;
        b[DP_MEM_SCTP_POOL] += wk.sctp_pool;
        b[DP_MEM_HS] += wk.hs;
        b[DP_MEM_WORKER] += wk.msg_bufs + wk.wheel_heads + wk.keylog;
    }
    if (in->dc)
        b[DP_MEM_CERT] = (uint64_t)in->n_agents * sizeof(struct dtls_cert);
    b[DP_MEM_ROUTES] = RI_ROUTES_BYTES(in->n_agents, in->n_dests);
    b[DP_MEM_IMAGE] = in->image_bytes > b[DP_MEM_ROUTES] ? in->image_bytes - b[DP_MEM_ROUTES] : 0;
    b[DP_MEM_MBUF] = mbuf_pool_bytes((uint64_t)in->mbufs_per_worker * in->n_workers);
    b[DP_MEM_TABLES] = dp_mem_alloc_size(in->tables_bytes);
    b[DP_MEM_DPDK] = dpdk_other_bytes(in);
    b[DP_MEM_TARGET] = dp_mem_target(in->target_slots, in->n_agents, in->target_feeds, in->relay) +
                       (uint64_t)(dp_mem_target_hs(in->target_slots, in->target_dtls_keep) -
                                  dp_mem_target_hs(in->target_slots, false)) *
                           align64(dtls_endpoint_size());
    b[DP_MEM_RELAY] = in->relay ? dp_mem_relay(in->n_agents, in->n_edges, in->relay_tcp, in->target_slots) : 0;
    for (int c = 0; c < DP_MEM_COUNT; c++)
        out->total += b[c];
    out->dataplane_heap =
        b[DP_MEM_CONN] + b[DP_MEM_SCTP_POOL] + b[DP_MEM_HS] + b[DP_MEM_CERT] + b[DP_MEM_WORKER] + b[DP_MEM_TABLES] +
        b[DP_MEM_TARGET] + b[DP_MEM_RELAY];
    out->dpdk_heap = b[DP_MEM_MBUF] + b[DP_MEM_DPDK];
    out->shm = b[DP_MEM_ROUTES] + b[DP_MEM_IMAGE];
    out->per_agent = in->n_agents ? (double)out->total / in->n_agents : 0;
    out->conn_per_connection = in->dc && in->n_edges ? (double)b[DP_MEM_CONN] / (double)in->n_edges : 0;
}

static const char *const keys[DP_MEM_COUNT] = {
#define DP_MEM_KEY(name, key, label) key,
    DP_MEM_CATEGORIES(DP_MEM_KEY)
#undef DP_MEM_KEY
};

static const char *const labels[DP_MEM_COUNT] = {
#define DP_MEM_LABEL(name, key, label) label,
    DP_MEM_CATEGORIES(DP_MEM_LABEL)
#undef DP_MEM_LABEL
};

const char *dp_mem_key(enum dp_mem_cat c)
{
    return (unsigned)c < DP_MEM_COUNT ? keys[c] : NULL;
}

const char *dp_mem_label(enum dp_mem_cat c)
{
    return (unsigned)c < DP_MEM_COUNT ? labels[c] : NULL;
}
