/* SPDX-License-Identifier: MIT */
/*
 * barrier: see barrier.h. A message is a 40-byte header (big-endian
 * fields) and a blob:
 *   magic "SGSHARD1", phase, shard, n_shards, kind (1 arrive, 2 go),
 *   key, blob length
 * An arrive's blob is the shard's own; a go's is every shard's blob in
 * shard order, each preceded by its length (8 bytes). Between barriers
 * shard 0 sends "gone" (no blob) when a shard's connection closed.
 */
#include "barrier.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "met_stats.h"

#define MAGIC "SGSHARD1"
#define KIND_ARRIVE 1u
#define KIND_GO 2u
#define KIND_GONE 3u /* shard 0 -> the others: shard `shard` went away */
#define RETRY_NS 200000000ull
#define BLOB_MAX (1ull << 32)

struct hdr {
    char magic[8];
    uint32_t phase, shard, n_shards, kind;
    uint64_t key, len;
};

_Static_assert(sizeof(struct hdr) == 40, "40-byte header");

int ctl_barrier_parse(struct ctl_barrier *b, const char *spec)
{
    memset(b, 0, sizeof(*b));
    b->listen_fd = -1;
    const char *colon = strrchr(spec, ':');
    if (!colon || colon - spec >= (long)sizeof(b->host))
        return -EINVAL;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 1 || port > 65535)
        return -EINVAL;
    memcpy(b->host, spec, (size_t)(colon - spec));
    b->host[colon - spec] = '\0';
    if (!b->host[0])
        snprintf(b->host, sizeof(b->host), "127.0.0.1");
    b->port = (uint16_t)port;
    return 0;
}

int ctl_barrier_open(struct ctl_barrier *b, uint32_t shard, uint32_t n_shards, uint64_t key, char *err,
                     size_t errlen)
{
    b->shard = shard;
    b->n_shards = n_shards;
    b->key = key;
    b->listen_fd = -1;
    b->fd = malloc(n_shards * sizeof(int));
    if (!b->fd) {
        snprintf(err, errlen, "--barrier: out of memory");
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n_shards; i++)
        b->fd[i] = -1;
    if (shard != 0)
        return 0;
    b->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(b->port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (b->listen_fd < 0 || setsockopt(b->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(b->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(b->listen_fd, 64) != 0) {
        int e = errno;
        snprintf(err, errlen, "--barrier: shard 0 cannot listen on TCP port %u: %s", b->port, strerror(e));
        ctl_barrier_close(b);
        return -e;
    }
    return 0;
}

void ctl_barrier_close(struct ctl_barrier *b)
{
    if (b->listen_fd >= 0)
        close(b->listen_fd);
    b->listen_fd = -1;
    if (b->fd)
        for (uint32_t i = 0; i < b->n_shards; i++)
            if (b->fd[i] >= 0)
                close(b->fd[i]);
    free(b->fd);
    b->fd = NULL;
}

/* Waits until fd is readable (or writable), up to the deadline; 0, or
 * -ETIMEDOUT, -EINTR. */
static int wait_fd(int fd, short events, uint64_t deadline, volatile sig_atomic_t *interrupted)
{
    for (;;) {
        if (*interrupted)
            return -EINTR;
        uint64_t now = ctl_mono_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int ms = (int)((deadline - now) / 1000000 + 1);
        if (poll(&p, 1, ms > 100 ? 100 : ms) > 0)
            return 0;
    }
}

static int io_all(int fd, void *buf, uint64_t len, bool out, uint64_t deadline, volatile sig_atomic_t *interrupted)
{
    uint8_t *p = buf;
    while (len) {
        int rc = wait_fd(fd, out ? POLLOUT : POLLIN, deadline, interrupted);
        if (rc < 0)
            return rc;
        ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT) : recv(fd, p, len, MSG_DONTWAIT);
        if (n == 0)
            return -EPIPE;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return -EPIPE;
        }
        p += n;
        len -= (uint64_t)n;
    }
    return 0;
}

static void hdr_make(struct hdr *h, const struct ctl_barrier *b, uint32_t phase, uint32_t kind, uint64_t len)
{
    memcpy(h->magic, MAGIC, 8);
    h->phase = htobe32(phase);
    h->shard = htobe32(b->shard);
    h->n_shards = htobe32(b->n_shards);
    h->kind = htobe32(kind);
    h->key = htobe64(b->key);
    h->len = htobe64(len);
}

/* Reads a header and checks it belongs to this swarm. */
static int hdr_read(int fd, const struct ctl_barrier *b, struct hdr *h, uint64_t deadline,
                    volatile sig_atomic_t *interrupted)
{
    int rc = io_all(fd, h, sizeof(*h), false, deadline, interrupted);
    if (rc < 0)
        return rc;
    h->phase = be32toh(h->phase);
    h->shard = be32toh(h->shard);
    h->n_shards = be32toh(h->n_shards);
    h->kind = be32toh(h->kind);
    h->key = be64toh(h->key);
    h->len = be64toh(h->len);
    if (memcmp(h->magic, MAGIC, 8) != 0 || h->n_shards != b->n_shards || h->key != b->key ||
        h->shard >= b->n_shards)
        return -EPROTO;
    return h->len > BLOB_MAX ? -EMSGSIZE : 0;
}

static const char *phase_name(enum ctl_barrier_phase p)
{
    return p == CTL_BARRIER_CONNECT ? "start" : p == CTL_BARRIER_LOAD ? "load" : p == CTL_BARRIER_STOP ? "stop" : "quiet";
}

/* ---- shard 0 ---- */

static int accept_one(struct ctl_barrier *b, int *pending, uint32_t *n_pending)
{
    int fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return 0;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (*n_pending < b->n_shards)
        pending[(*n_pending)++] = fd;
    else
        close(fd);
    return 0;
}

static int lead(struct ctl_barrier *b, enum ctl_barrier_phase phase, const void *mine, uint64_t mine_len, void *all,
                uint64_t all_cap, uint64_t *lens, uint64_t timeout_ns, volatile sig_atomic_t *interrupted,
                char *err, size_t errlen)
{
    uint32_t n = b->n_shards;
    uint64_t deadline = ctl_mono_ns() + timeout_ns;
    uint8_t **blob = calloc(n, sizeof(uint8_t *));
    uint64_t *len = calloc(n, sizeof(uint64_t));
    bool *in = calloc(n, sizeof(bool));
    int *pending = calloc(n, sizeof(int));
    uint32_t n_pending = 0, arrived = 1;
    int rc = 0;
    if (!blob || !len || !in || !pending) {
        rc = -ENOMEM;
        snprintf(err, errlen, "--barrier: out of memory");
        goto out;
    }
    in[0] = true;
    len[0] = mine_len;
    blob[0] = (uint8_t *)mine;
    for (uint32_t s = 1; s < n; s++) {
        if (b->gone[s / 64] >> (s % 64) & 1) {
            snprintf(err, errlen, "--barrier: shard %u went away before the %s barrier", s, phase_name(phase));
            rc = -EPIPE;
            goto out;
        }
    }
    while (arrived < n && rc == 0) {
        struct pollfd p[1 + 2048];
        uint32_t np = 0, who[2048];
        p[np++] = (struct pollfd){.fd = b->listen_fd, .events = POLLIN};
        for (uint32_t i = 0; i < n_pending && np < 2048; i++) {
            who[np] = UINT32_MAX - i;
            p[np++] = (struct pollfd){.fd = pending[i], .events = POLLIN};
        }
        for (uint32_t i = 1; i < n && np < 2048; i++) {
            if (b->fd[i] >= 0 && !in[i]) {
                who[np] = i;
                p[np++] = (struct pollfd){.fd = b->fd[i], .events = POLLIN};
            }
        }
        if (*interrupted) {
            rc = -EINTR;
            break;
        }
        if (ctl_mono_ns() >= deadline) {
            int k = snprintf(err, errlen, "--barrier: shard%s", n - arrived > 1 ? "s" : "");
            for (uint32_t i = 0; i < n && k > 0 && (size_t)k < errlen; i++)
                if (!in[i])
                    k += snprintf(err + k, errlen - (size_t)k, " %u", i);
            if (k > 0 && (size_t)k < errlen)
                snprintf(err + k, errlen - (size_t)k, " of %u did not arrive at the %s barrier within %.0f s", n,
                         phase_name(phase), (double)timeout_ns / 1e9);
            rc = -ETIMEDOUT;
            break;
        }
        if (poll(p, np, 100) <= 0)
            continue;
        if (p[0].revents & POLLIN)
            accept_one(b, pending, &n_pending);
        for (uint32_t j = 1; j < np && rc == 0; j++) {
            if (!p[j].revents)
                continue;
            int fd = p[j].fd;
            struct hdr h;
            int r = hdr_read(fd, b, &h, deadline, interrupted);
            if (who[j] < n && r == -EPIPE) {
                snprintf(err, errlen, "--barrier: shard %u went away before the %s barrier", who[j], phase_name(phase));
                rc = -EPIPE;
                break;
            }
            if (r == -EPROTO) {
                snprintf(err, errlen, "--barrier: a shard of another swarm connected (its seed, agents, topology, "
                                      "rate or --shard count differ)");
                rc = -EPROTO;
                break;
            }
            if (r < 0 || h.kind != KIND_ARRIVE || h.shard == 0 || h.phase != (uint32_t)phase ||
                (who[j] >= n && b->fd[h.shard] >= 0 && b->fd[h.shard] != fd)) {
                if (r == -EINTR || r == -ETIMEDOUT) {
                    rc = r;
                    break;
                }
                snprintf(err, errlen, "--barrier: shard %u came twice or out of step (phase %u, %s barrier)",
                         h.shard, h.phase, phase_name(phase));
                rc = -EPROTO;
                break;
            }
            if (who[j] >= n) { /* a new connection: now it is shard h.shard's */
                uint32_t i = UINT32_MAX - who[j];
                pending[i] = pending[--n_pending];
                b->fd[h.shard] = fd;
            }
            blob[h.shard] = malloc(h.len ? h.len : 1);
            if (!blob[h.shard]) {
                rc = -ENOMEM;
                break;
            }
            len[h.shard] = h.len;
            r = io_all(fd, blob[h.shard], h.len, false, deadline, interrupted);
            if (r < 0) {
                snprintf(err, errlen, "--barrier: shard %u went away during the %s barrier", h.shard, phase_name(phase));
                rc = r;
                break;
            }
            in[h.shard] = true;
            arrived++;
        }
    }
    uint64_t total = 0;
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        total += len[i];
    if (rc == 0 && total > all_cap) {
        snprintf(err, errlen, "--barrier: the shards sent %llu bytes, more than the %llu expected",
                 (unsigned long long)total, (unsigned long long)all_cap);
        rc = -EMSGSIZE;
    }
    if (rc == 0) {
        uint64_t off = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (len[i])
                memcpy((uint8_t *)all + off, blob[i], len[i]);
            off += len[i];
            if (lens)
                lens[i] = len[i];
        }
        struct hdr h;
        hdr_make(&h, b, phase, KIND_GO, total + 8ull * n);
        for (uint32_t i = 1; i < n && rc == 0; i++) {
            int r = io_all(b->fd[i], &h, sizeof(h), true, deadline, interrupted);
            for (uint32_t k = 0; k < n && r == 0; k++) {
                uint64_t be = htobe64(len[k]);
                r = io_all(b->fd[i], &be, 8, true, deadline, interrupted);
                if (r == 0)
                    r = io_all(b->fd[i], blob[k], len[k], true, deadline, interrupted);
            }
            if (r < 0) {
                snprintf(err, errlen, "--barrier: shard %u went away at the %s barrier", i, phase_name(phase));
                rc = r;
            }
        }
    }
out:
    for (uint32_t i = 1; blob && i < n; i++)
        free(blob[i]);
    for (uint32_t i = 0; pending && i < n_pending; i++)
        close(pending[i]);
    free(blob);
    free(len);
    free(in);
    free(pending);
    return rc;
}

/* ---- the other shards ---- */

static int connect_leader(struct ctl_barrier *b, uint64_t deadline, volatile sig_atomic_t *interrupted)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", b->port);
    while (!*interrupted && ctl_mono_ns() < deadline) {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(b->host, port, &hints, &res) == 0 && res) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
                freeaddrinfo(res);
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                b->fd[0] = fd;
                return 0;
            }
            if (fd >= 0)
                close(fd);
            freeaddrinfo(res);
        }
        struct timespec ts = {0, (long)RETRY_NS};
        nanosleep(&ts, NULL);
    }
    return *interrupted ? -EINTR : -ETIMEDOUT;
}

static int follow(struct ctl_barrier *b, enum ctl_barrier_phase phase, const void *mine, uint64_t mine_len, void *all,
                  uint64_t all_cap, uint64_t *lens, uint64_t timeout_ns, volatile sig_atomic_t *interrupted,
                  char *err, size_t errlen)
{
    uint64_t deadline = ctl_mono_ns() + timeout_ns;
    int rc = b->fd[0] >= 0 ? 0 : connect_leader(b, deadline, interrupted);
    if (rc == -ETIMEDOUT)
        snprintf(err, errlen, "--barrier: shard 0 at %s:%u could not be reached within %.0f s", b->host, b->port,
                 (double)timeout_ns / 1e9);
    if (rc < 0)
        return rc;
    struct hdr h;
    hdr_make(&h, b, phase, KIND_ARRIVE, mine_len);
    rc = io_all(b->fd[0], &h, sizeof(h), true, deadline, interrupted);
    if (rc == 0)
        rc = io_all(b->fd[0], (void *)mine, mine_len, true, deadline, interrupted);
    while (rc == 0 && (rc = hdr_read(b->fd[0], b, &h, deadline, interrupted)) == 0 && h.kind == KIND_GONE)
        b->gone[h.shard / 64] |= 1ull << (h.shard % 64);
    if (rc == 0 && (h.kind != KIND_GO || h.phase != (uint32_t)phase))
        rc = -EPROTO;
    uint64_t off = 0;
    for (uint32_t k = 0; rc == 0 && k < b->n_shards; k++) {
        uint64_t be;
        rc = io_all(b->fd[0], &be, 8, false, deadline, interrupted);
        uint64_t l = be64toh(be);
        if (rc == 0 && off + l > all_cap)
            rc = -EMSGSIZE;
        if (rc == 0)
            rc = io_all(b->fd[0], (uint8_t *)all + off, l, false, deadline, interrupted);
        if (lens)
            lens[k] = l;
        off += l;
    }
    if (rc == -ETIMEDOUT)
        snprintf(err, errlen, "--barrier: shard 0 did not pass the %s barrier within %.0f s (a shard did not come)",
                 phase_name(phase), (double)timeout_ns / 1e9);
    else if (rc == -EPIPE)
        snprintf(err, errlen, "--barrier: shard 0 went away before the %s barrier", phase_name(phase));
    else if (rc == -EPROTO)
        snprintf(err, errlen, "--barrier: shard 0 at %s:%u runs another swarm (its seed, agents, topology, rate or "
                              "--shard count differ)", b->host, b->port);
    else if (rc == -EMSGSIZE)
        snprintf(err, errlen, "--barrier: shard 0 sent more than the %llu bytes expected", (unsigned long long)all_cap);
    return rc;
}

static bool mark_gone(struct ctl_barrier *b, uint32_t s)
{
    if (b->gone[s / 64] >> (s % 64) & 1)
        return false;
    b->gone[s / 64] |= 1ull << (s % 64);
    return true;
}

int ctl_barrier_watch(struct ctl_barrier *b)
{
    int n = 0;
    if (!b->fd)
        return 0;
    if (b->shard != 0) {
        /* shard 0 sends nothing between barriers but "gone" */
        struct pollfd p = {.fd = b->fd[0], .events = POLLIN};
        while (b->fd[0] >= 0 && poll(&p, 1, 0) > 0) {
            struct hdr h;
            uint64_t deadline = ctl_mono_ns() + 1000000000ull;
            static volatile sig_atomic_t never;
            int rc = hdr_read(b->fd[0], b, &h, deadline, &never);
            if (rc == -EPIPE || (p.revents & (POLLHUP | POLLERR))) {
                n += mark_gone(b, 0);
                close(b->fd[0]);
                b->fd[0] = -1;
            } else if (rc == 0 && h.kind == KIND_GONE) {
                n += mark_gone(b, h.shard);
            }
        }
        return n;
    }
    for (uint32_t s = 1; s < b->n_shards; s++) {
        if (b->fd[s] < 0)
            continue;
        char c;
        /* a shard that arrived early at the next barrier left data: peek */
        ssize_t r = recv(b->fd[s], &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            close(b->fd[s]);
            b->fd[s] = -1;
            if (mark_gone(b, s)) {
                n++;
                struct hdr h;
                hdr_make(&h, b, 0, KIND_GONE, 0);
                h.shard = htobe32(s);
                for (uint32_t o = 1; o < b->n_shards; o++)
                    if (b->fd[o] >= 0)
                        send(b->fd[o], &h, sizeof(h), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
        }
    }
    return n;
}

int ctl_barrier_wait(struct ctl_barrier *b, enum ctl_barrier_phase phase, const void *mine, uint64_t mine_len,
                     void *all, uint64_t all_cap, uint64_t *lens, uint64_t timeout_ns,
                     volatile sig_atomic_t *interrupted, char *err, size_t errlen)
{
    if (b->n_shards > 1024)
        return -EINVAL;
    return b->shard == 0 ? lead(b, phase, mine, mine_len, all, all_cap, lens, timeout_ns, interrupted, err, errlen)
                         : follow(b, phase, mine, mine_len, all, all_cap, lens, timeout_ns, interrupted, err, errlen);
}
