/* SPDX-License-Identifier: MIT */
/* Set-up of the usrsctp backend: workers, their connections and kernel
 * UDP sockets, agent tables, hand-off rings, certificates and configs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "sig.h"
#include "us.h"
#include "us_dtls.h"

#define UDP_BUF (256 * 1024)

/* Local (ip, port) pairs two endpoints of this run share, sorted. */
struct shared_addrs {
    uint64_t *key;
    size_t n;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t addr_key(uint32_t ip, uint16_t port)
{
    return (uint64_t)ip << 16 | port;
}

/* Two edges of one agent may draw the same port (ctl_edge_port): those
 * sockets need SO_REUSEADDR (connected UDP sockets on one local address
 * are told apart by the kernel's 4-tuple match). No other socket gets it,
 * so a clash with another process's socket fails the bind loudly instead
 * of sharing its datagrams. */
static int find_shared_addrs(const struct us_ctx *ctx, struct shared_addrs *sh)
{
    size_t n = 2 * ctx->ri.cfg->n_edges;
    uint64_t *k = malloc((n ? n : 1) * sizeof(uint64_t));
    if (!k)
        return -ENOMEM;
    for (uint64_t e = 0; e < ctx->ri.cfg->n_edges; e++) {
        const struct ri_edge *ed = &ctx->ri.edges[e];
        k[2 * e] = addr_key(ctx->ri.agents[ed->a].ip, ed->port_a);
        k[2 * e + 1] = addr_key(ctx->ri.agents[ed->b].ip, ed->port_b);
    }
    qsort(k, n, sizeof(uint64_t), cmp_u64);
    size_t d = 0;
    for (size_t i = 1; i < n; i++)
        if (k[i] == k[i - 1] && (d == 0 || k[d - 1] != k[i]))
            k[d++] = k[i];
    sh->key = k;
    sh->n = d;
    return 0;
}

static bool is_shared(const struct shared_addrs *sh, uint32_t ip, uint16_t port)
{
    uint64_t key = addr_key(ip, port);
    return sh->n && bsearch(&key, sh->key, sh->n, sizeof(uint64_t), cmp_u64);
}

/* Opens, binds and connects the UDP socket of endpoint s of edge e:
 * agent ip 198.18.x.y becomes 127.18.x.y (all of 127/8 is local). */
static int open_socket(const struct us_ctx *ctx, const struct shared_addrs *sh,
                       struct us_worker *wk, uint32_t ci, int s, char *err, size_t errlen)
{
    struct us_conn *c = &wk->conns[ci];
    const struct ri_edge *ed = &ctx->ri.edges[c->edge];
    uint32_t self = s ? ed->b : ed->a, peer = s ? ed->a : ed->b;
    struct sockaddr_in local = {.sin_family = AF_INET,
                                .sin_port = htons(s ? ed->port_b : ed->port_a),
                                .sin_addr.s_addr = htonl(us_loop_ip(ctx->ri.agents[self].ip))};
    struct sockaddr_in remote = {.sin_family = AF_INET,
                                 .sin_port = htons(s ? ed->port_a : ed->port_b),
                                 .sin_addr.s_addr = htonl(us_loop_ip(ctx->ri.agents[peer].ip))};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "UDP socket of edge %u: %s", c->edge, strerror(errno));
        return -errno;
    }
    c->ep[s].fd = fd;
    const int on = 1, buf = UDP_BUF;
    if (is_shared(sh, ctx->ri.agents[self].ip, s ? ed->port_b : ed->port_a))
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
        connect(fd, (struct sockaddr *)&remote, sizeof(remote)) < 0) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &local.sin_addr, a, sizeof(a));
        int e = errno;
        snprintf(err, errlen, "UDP socket %s:%u of edge %u: %s%s", a, ntohs(local.sin_port),
                 c->edge, strerror(e),
                 e == EADDRINUSE
                     ? " (another swarmgen run on this machine uses the same loopback addresses)"
                     : "");
        return -e;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)ci << 1 | (uint64_t)s};
    if (epoll_ctl(wk->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

static int setup_worker(struct us_ctx *ctx, const struct shared_addrs *sh, uint32_t w,
                        const uint32_t *n_local, char *err, size_t errlen)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    struct us_worker *wk = aligned_alloc(64, sizeof(*wk));
    if (!wk)
        goto oom;
    memset(wk, 0, sizeof(*wk));
    ctx->worker[w] = wk;
    wk->idx = w;
    wk->cpu = ctx->cpus[w];
    wk->ctx = ctx;
    wk->m = &ctx->ri.metrics[w];
    wk->av.hops = ri_agent_hops(ctx->ri.hdr, cfg->n_agents, w);
    wk->av.a = ri_agent_stats_of(ctx->ri.hdr, cfg->n_agents, w);
    wk->traffic.agents = wk->av.a;
    wk->epfd = -1;
    wk->traffic.rng = cfg->seed * 0x9e3779b97f4a7c15ull + w + 1;
    pthread_mutex_init(&wk->fo_lock, NULL);
    uint32_t n = 0;
    for (uint64_t e = 0; e < cfg->n_edges; e++)
        n += ctx->ri.edges[e].worker == w;
    size_t nn = n ? n : 1; /* wk->n_conns is set once the table is laid out */
    wk->conns = aligned_alloc(64, (nn * sizeof(struct us_conn) + 63) & ~(size_t)63);
    wk->queue = malloc(nn * sizeof(uint32_t));
    wk->setup = malloc(((size_t)cfg->setup_cap + 1) * sizeof(uint32_t));
    wk->traffic.local = calloc(n_local[w] + 1, sizeof(uint32_t));
    wk->traffic.seq = calloc(n_local[w] + 1, sizeof(uint32_t));
    wk->fo = malloc(US_FOREIGN_SLOTS * sizeof(struct us_foreign));
    wk->rx = malloc(RI_MSG_MAX);
    wk->gen = malloc(RI_MSG_MAX);
    wk->tmp = malloc(RI_MSG_MAX);
    wk->keylog_cap = cfg->keylog_max ? cfg->keylog_max / ctx->n_workers + 1 : 0;
    wk->keylog = wk->keylog_cap ? calloc(wk->keylog_cap, 200) : NULL;
    if (!wk->conns || !wk->queue || !wk->setup || !wk->traffic.local || !wk->traffic.seq || !wk->fo || !wk->rx ||
        !wk->gen || !wk->tmp || (wk->keylog_cap && !wk->keylog))
        goto oom;
    memset(wk->gen, 0xa5, RI_MSG_MAX);
    memset(wk->conns, 0, nn * sizeof(struct us_conn));
    uint32_t i = 0;
    for (uint64_t e = 0; e < cfg->n_edges; e++) {
        if (ctx->ri.edges[e].worker != w)
            continue;
        struct us_conn *c = &wk->conns[i];
        c->edge = (uint32_t)e;
        c->state = US_CONN_QUEUED;
        for (int s = 0; s < 2; s++) {
            c->ep[s].wk = wk;
            c->ep[s].conn = i;
            c->ep[s].side = (uint8_t)s;
            c->ep[s].fd = -1;
        }
        ctx->edge_local[e] = i;
        wk->queue[i] = i;
        i++;
    }
    wk->n_conns = n;
    wk->q_len = n;
    uint32_t n_sockets = n;
    if (ctx->tx) /* a test hands datagrams in and takes them out itself (us.h) */
        n_sockets = 0;
    else if ((wk->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -errno;
    }
    for (i = 0; i < n_sockets; i++)
        for (int s = 0; s < 2; s++) {
            int rc = open_socket(ctx, sh, wk, i, s, err, errlen);
            if (rc < 0)
                return rc;
        }
    int rc = us_dtls_worker_init(wk, cfg->seed);
    if (rc != 0) {
        snprintf(err, errlen, "worker %u: mbedTLS set-up failed (-0x%04x)", w, (unsigned)-rc);
        return -EIO;
    }
    wk->m->live.conn_total = n;
    ctx->conn_bytes += nn * sizeof(struct us_conn) + nn * sizeof(uint32_t);
    ctx->worker_bytes += sizeof(*wk) + US_FOREIGN_SLOTS * sizeof(struct us_foreign) +
                         3ull * RI_MSG_MAX + ((size_t)n_local[w] + 1) * 12;
    return 0;
oom:
    snprintf(err, errlen, "worker %u: out of memory", w);
    return -ENOMEM;
}

int us_setup(struct us_ctx *ctx, char *err, size_t errlen)
{
    const struct ri_config *cfg = ctx->ri.cfg;
    if (cfg->setup_cap == 0 || cfg->setup_attempts == 0) {
        snprintf(err, errlen, "run image: set-up cap and attempts must be positive");
        return -EINVAL;
    }
    if (cfg->msg_size < AGENT_HDR_LEN || cfg->msg_size > RI_MSG_MAX ||
        (cfg->sign && cfg->msg_size < AGENT_HDR_LEN + SIG_BYTES)) {
        snprintf(err, errlen, "run image: message size %u out of range", cfg->msg_size);
        return -EINVAL;
    }
    for (uint32_t a = 0; a < cfg->n_agents; a++)
        if (ctx->ri.agents[a].worker >= ctx->n_workers) {
            snprintf(err, errlen, "agent %u assigned to worker %u of %u", a, ctx->ri.agents[a].worker,
                     ctx->n_workers);
            return -EINVAL;
        }
    for (uint64_t e = 0; e < cfg->n_edges; e++)
        if (ctx->ri.edges[e].worker >= ctx->n_workers) {
            snprintf(err, errlen, "edge %llu assigned to worker %u of %u", (unsigned long long)e,
                     ctx->ri.edges[e].worker, ctx->n_workers);
            return -EINVAL;
        }
    ctx->edge_local = malloc((cfg->n_edges ? cfg->n_edges : 1) * sizeof(uint32_t));
    if (!ctx->edge_local) {
        snprintf(err, errlen, "edge table: out of memory");
        return -ENOMEM;
    }
    ctx->conn_bytes = cfg->n_edges * sizeof(uint32_t);
    if (cfg->sign) {
        int rc = sig_agent_keys(cfg->seed, cfg->n_agents, &ctx->sig_keys, err, errlen);
        if (rc < 0)
            return rc;
    }
    uint32_t n_local[RI_MAX_WORKERS] = {0};
    for (uint32_t a = 0; a < cfg->n_agents; a++)
        n_local[ctx->ri.agents[a].worker]++;
    struct shared_addrs sh;
    if (find_shared_addrs(ctx, &sh) < 0) {
        snprintf(err, errlen, "address table: out of memory");
        return -ENOMEM;
    }
    for (uint32_t w = 0; w < ctx->n_workers; w++) {
        int rc = setup_worker(ctx, &sh, w, n_local, err, errlen);
        if (rc < 0) {
            free(sh.key);
            return rc;
        }
    }
    free(sh.key);
    for (uint32_t a = 0; a < cfg->n_agents; a++) {
        struct us_worker *wk = ctx->worker[ctx->ri.agents[a].worker];
        wk->traffic.local[wk->traffic.n_local++] = a;
    }
    for (uint32_t f = 0; f < ctx->n_workers; f++)
        for (uint32_t t = 0; t < ctx->n_workers; t++) {
            if (f == t)
                continue;
            ctx->ring[f][t] = us_ring_create(US_RING_BYTES);
            if (!ctx->ring[f][t]) {
                snprintf(err, errlen, "hand-off rings: out of memory");
                return -ENOMEM;
            }
            ctx->worker_bytes += US_RING_BYTES;
        }
    return 0;
}

void us_teardown(struct us_ctx *ctx)
{
    for (uint32_t w = 0; w < RI_MAX_WORKERS; w++) {
        struct us_worker *wk = ctx->worker[w];
        if (wk) {
            if (wk->conns)
                for (uint32_t i = 0; i < wk->n_conns; i++)
                    for (int s = 0; s < 2; s++) {
                        if (wk->conns[i].ep[s].fd >= 0)
                            close(wk->conns[i].ep[s].fd);
                        us_dtls_free(&wk->conns[i].ep[s]);
                    }
            if (wk->epfd >= 0)
                close(wk->epfd);
            us_dtls_worker_free(wk);
            pthread_mutex_destroy(&wk->fo_lock);
            free(wk->conns);
            free(wk->queue);
            free(wk->setup);
            free(wk->traffic.local);
            free(wk->traffic.seq);
            free(wk->fo);
            free(wk->rx);
            free(wk->gen);
            free(wk->tmp);
            free(wk->keylog);
            free(wk);
            ctx->worker[w] = NULL;
        }
        for (uint32_t t = 0; t < RI_MAX_WORKERS; t++) {
            us_ring_free(ctx->ring[w][t]);
            ctx->ring[w][t] = NULL;
        }
    }
    free(ctx->edge_local);
    ctx->edge_local = NULL;
    free(ctx->sig_keys);
    ctx->sig_keys = NULL;
}
