/* SPDX-License-Identifier: MIT */
/* The io_uring backend: kernel UDP sockets on loopback under the workers. */
#include "dp_uring.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_msg.h"


#define SQ_ENTRIES 4096u
#define CQ_ENTRIES 32768u
#define BUF_ENTRIES 4096u /* provided buffers (mbufs) per worker */
#define BUF_GROUP 0
#define MAX_CHUNKS 64     /* registered pieces of the mbuf pool */
#define TAG_TX (UINT64_C(1) << 63)
#define CQE_BATCH 64

struct dp_uring {
    struct io_uring ring;
    const struct dp_ctx *ctx;
    bool ring_ok, enabled;
    uint32_t n_socks;        /* 2 per local edge: socket 2k + side is endpoint `side` of edge k * n_workers + idx */
    int *fds;
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    struct rte_mbuf **br_mbuf; /* by buffer id */
    uint16_t *br_empty;      /* buffer ids waiting for an mbuf */
    uint32_t n_empty;
    uint32_t *rearm;         /* sockets whose multishot receive ended */
    uint32_t n_rearm;
    uint32_t unarmed;        /* sockets not armed yet (first passes) */
    uint32_t n_chunks;
    uintptr_t chunk_lo[MAX_CHUNKS], chunk_hi[MAX_CHUNKS];
    bool fixed_bufs;         /* sends are WRITE_FIXED from the registered pool */
};

static uint64_t socks_needed(const struct dp_ctx *ctx)
{
    return 2 * ctx->ri.cfg->n_edges;
}

int dp_uring_prepare(struct dp_ctx *ctx, char *err, size_t errlen)
{
    /* ports: the edge's slot in each end's adjacency, unique per agent
     * (the image's ports may repeat within an agent: they are unique per
     * 5-tuple, which a DPDK port needs, not per local address) */
    uint64_t ne = ctx->ri.cfg->n_edges;
    ctx->uring_ports = malloc((2 * ne + 1) * sizeof(uint16_t));
    if (!ctx->uring_ports) {
        snprintf(err, errlen, "io_uring backend: out of memory");
        return -ENOMEM;
    }
    for (uint32_t x = 0; x < ctx->ri.cfg->n_agents; x++) {
        uint32_t off = ctx->ri.adj_off[x], deg = ctx->ri.adj_off[x + 1] - off;
        if (DP_URING_PORT_BASE + deg > 65535) {
            snprintf(err, errlen, "--backend uring: agent %u has %u neighbours, at most %u fit its ports", x, deg,
                     65535 - DP_URING_PORT_BASE);
            return -E2BIG;
        }
        for (uint32_t i = 0; i < deg; i++) {
            uint32_t e = ctx->ri.adj_edge[off + i];
            ctx->uring_ports[2 * (uint64_t)e + (ctx->ri.edges[e].a == x ? 0 : 1)] = (uint16_t)(DP_URING_PORT_BASE + i);
        }
    }
    uint64_t want = socks_needed(ctx) + 1024;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    if (rl.rlim_cur >= want)
        return 0;
    struct rlimit nl = {want, rl.rlim_max > want ? rl.rlim_max : want};
    if (setrlimit(RLIMIT_NOFILE, &nl) != 0) {
        nl.rlim_max = rl.rlim_max;
        if (nl.rlim_max < want || setrlimit(RLIMIT_NOFILE, &nl) != 0) {
            snprintf(err, errlen,
                     "--backend uring: %llu sockets (2 per edge) need %llu file descriptors, "
                     "RLIMIT_NOFILE allows %llu (raise it, or run as root)",
                     (unsigned long long)socks_needed(ctx), (unsigned long long)want,
                     (unsigned long long)rl.rlim_max);
            return -EMFILE;
        }
    }
    return 0;
}

/* endpoint `side` of edge e: its address and its peer's (host order) */
static void endpoint(const struct dp_ctx *ctx, uint32_t e, int side, uint8_t net, struct sockaddr_in *me,
                     struct sockaddr_in *peer)
{
    const struct ri_edge *ed = &ctx->ri.edges[e];
    uint32_t self = side ? ed->b : ed->a, other = side ? ed->a : ed->b;
    const uint16_t *port = &ctx->uring_ports[2 * (uint64_t)e];
    *me = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port[side]),
                               .sin_addr.s_addr = htonl(dp_uring_addr(ctx->ri.agents[self].ip, net))};
    *peer = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port[1 - side]),
                                 .sin_addr.s_addr = htonl(dp_uring_addr(ctx->ri.agents[other].ip, net))};
}

static void chunk_cb(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *memhdr, unsigned mem_idx)
{
    struct dp_uring *u = opaque;
    if (u->n_chunks < MAX_CHUNKS) {
        u->chunk_lo[u->n_chunks] = (uintptr_t)memhdr->addr;
        u->chunk_hi[u->n_chunks] = (uintptr_t)memhdr->addr + memhdr->len;
    }
    u->n_chunks++;
}

/* The pool's memory as registered buffers, so sends need no page pinning
 * per request. false (plain sends) when it cannot be registered. */
static bool register_pool(const struct dp_ctx *ctx, struct dp_uring *u)
{
    u->n_chunks = 0;
    rte_mempool_mem_iter(ctx->pool, chunk_cb, u);
    if (u->n_chunks == 0 || u->n_chunks > MAX_CHUNKS)
        return false;
    struct iovec iov[MAX_CHUNKS];
    for (uint32_t i = 0; i < u->n_chunks; i++)
        iov[i] = (struct iovec){(void *)u->chunk_lo[i], u->chunk_hi[i] - u->chunk_lo[i]};
    return io_uring_register_buffers(&u->ring, iov, u->n_chunks) == 0;
}

static inline void *rx_room(struct rte_mbuf *m)
{
    return (char *)m->buf_addr + RTE_PKTMBUF_HEADROOM + DP_FRAME_HDR_LEN;
}

static inline uint32_t rx_room_len(const struct rte_mbuf *m)
{
    return (uint32_t)(m->buf_len - RTE_PKTMBUF_HEADROOM - DP_FRAME_HDR_LEN);
}

int dp_uring_init(const struct dp_ctx *ctx, struct dp_worker *wk, uint8_t net, char *err, size_t errlen)
{
    struct dp_uring *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "io_uring backend: out of memory");
        return -ENOMEM;
    }
    wk->ur = u;
    u->ctx = ctx;
    uint32_t nw = ctx->n_workers;
    uint64_t n_local = ctx->ri.cfg->n_edges > wk->idx ? (ctx->ri.cfg->n_edges - wk->idx + nw - 1) / nw : 0;
    u->n_socks = (uint32_t)(2 * n_local);
    u->fds = malloc(((size_t)u->n_socks + 1) * sizeof(int));
    u->rearm = malloc(((size_t)u->n_socks + 1) * sizeof(uint32_t));
    u->br_mbuf = calloc(BUF_ENTRIES, sizeof(*u->br_mbuf));
    u->br_empty = malloc(BUF_ENTRIES * sizeof(uint16_t));
    if (!u->fds || !u->rearm || !u->br_mbuf || !u->br_empty) {
        snprintf(err, errlen, "io_uring backend: out of memory");
        return -ENOMEM;
    }
    for (uint32_t s = 0; s < u->n_socks; s++)
        u->fds[s] = -1;
    for (uint32_t s = 0; s < u->n_socks; s++) {
        uint32_t e = (s >> 1) * nw + wk->idx;
        struct sockaddr_in me, peer;
        endpoint(ctx, e, (int)(s & 1), net, &me, &peer);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
            connect(fd, (struct sockaddr *)&peer, sizeof(peer)) != 0) {
            int rc = -errno;
            char a[INET_ADDRSTRLEN] = "";
            inet_ntop(AF_INET, &me.sin_addr, a, sizeof(a));
            snprintf(err, errlen, "io_uring backend: UDP socket %s:%u for edge %u: %s", a, ntohs(me.sin_port), e,
                     strerror(-rc));
            if (fd >= 0)
                close(fd);
            return rc;
        }
        u->fds[s] = fd;
    }
    struct io_uring_params p = {
        .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                 IORING_SETUP_R_DISABLED,
        .cq_entries = CQ_ENTRIES,
    };
    int rc = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p);
    if (rc < 0) {
        snprintf(err, errlen, "io_uring backend: io_uring_setup: %s (needs Linux 6.1 or later)", strerror(-rc));
        return rc;
    }
    u->ring_ok = true;
    if (u->n_socks) {
        rc = io_uring_register_files(&u->ring, u->fds, u->n_socks);
        if (rc < 0) {
            snprintf(err, errlen, "io_uring backend: registering %u sockets: %s", u->n_socks, strerror(-rc));
            return rc;
        }
    }
    /* the provided-buffer ring: mbuf data rooms, payload after room for
     * the frame headers */
    u->br_bytes = BUF_ENTRIES * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, u->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) {
        snprintf(err, errlen, "io_uring backend: buffer ring: %s", strerror(errno));
        return -ENOMEM;
    }
    u->br = mem;
    io_uring_buf_ring_init(u->br);
    struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)mem, .ring_entries = BUF_ENTRIES, .bgid = BUF_GROUP};
    rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (rc < 0) {
        snprintf(err, errlen, "io_uring backend: provided-buffer ring: %s (needs Linux 5.19 or later)",
                 strerror(-rc));
        return rc;
    }
    int mask = io_uring_buf_ring_mask(BUF_ENTRIES);
    for (uint32_t b = 0; b < BUF_ENTRIES; b++) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
        if (!m) {
            snprintf(err, errlen, "io_uring backend: %u receive buffers per worker exceed --mbufs", BUF_ENTRIES);
            return -ENOMEM;
        }
        u->br_mbuf[b] = m;
        io_uring_buf_ring_add(u->br, rx_room(m), rx_room_len(m), (unsigned short)b, mask, (int)b);
    }
    io_uring_buf_ring_advance(u->br, BUF_ENTRIES);
    u->fixed_bufs = register_pool(ctx, u);
    u->unarmed = u->n_socks;
    return 0;
}

bool dp_uring_fixed_bufs(const struct dp_worker *wk)
{
    return wk->ur && wk->ur->fixed_bufs;
}

void dp_uring_free(struct dp_worker *wk)
{
    struct dp_uring *u = wk->ur;
    if (!u)
        return;
    if (u->ring_ok)
        io_uring_queue_exit(&u->ring); /* sends in flight are freed with the pool */
    if (u->fds)
        for (uint32_t s = 0; s < u->n_socks; s++)
            if (u->fds[s] >= 0)
                close(u->fds[s]);
    if (u->br)
        munmap(u->br, u->br_bytes);
    if (u->br_mbuf)
        for (uint32_t b = 0; b < BUF_ENTRIES; b++)
            rte_pktmbuf_free(u->br_mbuf[b]);
    free(u->br_mbuf);
    free(u->br_empty);
    free(u->fds);
    free(u->rearm);
    free(u);
    wk->ur = NULL;
}

static bool arm(struct dp_uring *u, uint32_t s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return false;
    io_uring_prep_recv_multishot(sqe, (int)s, NULL, 0, 0);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUF_GROUP;
    io_uring_sqe_set_data64(sqe, s);
    return true;
}

/* Gives mbufs to the buffer ids that lack one, re-arms the receives that
 * ended (ENOBUFS when the ring ran dry) and, in the first passes, arms the
 * sockets. */
static void refill(const struct dp_ctx *ctx, struct dp_uring *u)
{
    int mask = io_uring_buf_ring_mask(BUF_ENTRIES);
    uint32_t added = 0;
    while (u->n_empty) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
        if (!m)
            break;
        uint16_t b = u->br_empty[--u->n_empty];
        u->br_mbuf[b] = m;
        io_uring_buf_ring_add(u->br, rx_room(m), rx_room_len(m), b, mask, (int)added++);
    }
    if (added)
        io_uring_buf_ring_advance(u->br, (int)added);
    while (u->n_rearm && arm(u, u->rearm[u->n_rearm - 1]))
        u->n_rearm--;
    while (u->unarmed && arm(u, u->n_socks - u->unarmed))
        u->unarmed--;
}

uint16_t dp_uring_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t n)
{
    struct dp_uring *u = wk->ur;
    if (!u->enabled) {
        /* io_uring_enable_rings() is declared by Debian's liburing 2.3 but
         * not exported: the register call it wraps */
        if (syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
            return 0; /* cannot happen after a successful init; the run shows no traffic */
        u->enabled = true;
    }
    uint16_t got = 0;
    struct io_uring_cqe *cqes[CQE_BATCH];
    uint32_t nw = ctx->n_workers;
    while (got < n) {
        unsigned k = io_uring_peek_batch_cqe(&u->ring, cqes, CQE_BATCH);
        if (k == 0)
            break;
        unsigned used = 0;
        for (; used < k && got < n; used++) {
            struct io_uring_cqe *c = cqes[used];
            uint64_t ud = io_uring_cqe_get_data64(c);
            if (ud & TAG_TX) {
                struct rte_mbuf *m = (struct rte_mbuf *)(uintptr_t)(ud & ~TAG_TX);
                if (c->res < 0) {
                    ri_add(wk->m->live.drops[RI_DROP_TX_FULL], 1);
                    if (wk->frames_are_msgs)
                        ri_add(wk->m->live.msgs_dropped, 1);
                }
                rte_pktmbuf_free(m);
                continue;
            }
            uint32_t s = (uint32_t)ud;
            if (!(c->flags & IORING_CQE_F_MORE))
                u->rearm[u->n_rearm++] = s;
            if (!(c->flags & IORING_CQE_F_BUFFER))
                continue; /* ENOBUFS or an error: re-armed after the refill */
            uint16_t b = (uint16_t)(c->flags >> IORING_CQE_BUFFER_SHIFT);
            struct rte_mbuf *m = u->br_mbuf[b];
            u->br_mbuf[b] = NULL;
            u->br_empty[u->n_empty++] = b;
            if (c->res <= 0 || (uint32_t)c->res > rx_room_len(m)) {
                rte_pktmbuf_free(m);
                continue;
            }
            /* the frame as a port would have delivered it: headers from
             * the socket's peer to the socket's endpoint */
            uint32_t e = (s >> 1) * nw + wk->idx;
            int side = (int)(s & 1);
            const struct ri_edge *ed = &ctx->ri.edges[e];
            uint32_t self = side ? ed->b : ed->a, other = side ? ed->a : ed->b;
            m->data_off = RTE_PKTMBUF_HEADROOM;
            m->data_len = (uint16_t)(DP_FRAME_HDR_LEN + (uint32_t)c->res);
            m->pkt_len = m->data_len;
            dp_frame_write_l234(rte_pktmbuf_mtod(m, struct dp_frame *), other, self, ctx->ri.agents[other].ip,
                                ctx->ri.agents[self].ip, side ? ed->port_a : ed->port_b,
                                side ? ed->port_b : ed->port_a, (uint16_t)c->res, 0);
            pkts[got++] = m;
        }
        io_uring_cq_advance(&u->ring, used);
        if (used < k)
            break;
    }
    refill(ctx, u);
    return got;
}

static inline int chunk_of(const struct dp_uring *u, uintptr_t a)
{
    for (uint32_t i = 0; i < u->n_chunks; i++)
        if (a >= u->chunk_lo[i] && a < u->chunk_hi[i])
            return (int)i;
    return -1;
}

uint16_t dp_uring_tx(struct dp_worker *wk, struct rte_mbuf **pkts, uint16_t n)
{
    struct dp_uring *u = wk->ur;
    const struct dp_ctx *ctx = u->ctx;
    uint32_t nw = ctx->n_workers;
    uint16_t i = 0;
    for (; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        uint32_t tag = m->hash.usr, e = tag >> 1;
        uint32_t s = 2 * (e / nw) + (tag & 1);
        if (e >= ctx->ri.cfg->n_edges || ctx->ri.edges[e].worker != wk->idx || s >= u->n_socks)
            break; /* not a frame of ours: the caller drops it */
        struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
        if (!sqe) {
            dp_uring_submit(wk);
            sqe = io_uring_get_sqe(&u->ring);
            if (!sqe)
                break;
        }
        void *payload = rte_pktmbuf_mtod_offset(m, void *, DP_FRAME_HDR_LEN);
        unsigned len = m->pkt_len - DP_FRAME_HDR_LEN;
        int chunk = u->fixed_bufs ? chunk_of(u, (uintptr_t)payload) : -1;
        if (chunk >= 0)
            io_uring_prep_write_fixed(sqe, (int)s, payload, len, 0, chunk);
        else
            io_uring_prep_send(sqe, (int)s, payload, len, 0);
        sqe->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)m | TAG_TX);
    }
    return i;
}

void dp_uring_submit(struct dp_worker *wk)
{
    struct dp_uring *u = wk->ur;
    if (!u->enabled)
        return;
    io_uring_submit_and_get_events(&u->ring);
}
