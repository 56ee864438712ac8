/* SPDX-License-Identifier: MIT */
/* The HTTP side of the Prometheus endpoint: one thread, one io_uring. A
 * connection has at most one recv or send in flight; a client past its
 * deadline is shut down (shutdown(2) ends that operation, whose completion
 * then frees the slot as any other end does). */
#include "prom.h"
#include "prom_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN CTL_PROM_MAX_CLIENTS

enum op { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_WAKE, OP_TICK };

struct conn {
    int fd;           /* -1: free */
    bool expired;     /* shut down past its deadline; the op in flight ends it */
    uint64_t deadline_ms;
    struct ctl_prom_req req; /* the request head so far (prom_http.c) */
    char *resp;       /* owned copy being sent */
    size_t resp_len, resp_off;
};

struct server {
    struct ctl_prom *p;
    struct io_uring ring;
    struct conn conn[MAX_CONN];
    uint64_t wake_buf;
    uint32_t timeout_ms;
    struct __kernel_timespec tick; /* how often deadlines are checked */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint64_t tag(enum op op, uint32_t idx)
{
    return (uint64_t)op << 32 | idx;
}

static struct io_uring_sqe *sqe(struct server *s)
{
    struct io_uring_sqe *e = io_uring_get_sqe(&s->ring);
    if (!e) {
        io_uring_submit(&s->ring);
        e = io_uring_get_sqe(&s->ring);
    }
    return e;
}

static void arm_accept(struct server *s)
{
    struct io_uring_sqe *e = sqe(s);
    io_uring_prep_multishot_accept(e, s->p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(e, tag(OP_ACCEPT, 0));
}

static void arm_tick(struct server *s)
{
    struct io_uring_sqe *e = sqe(s);
    io_uring_prep_timeout(e, &s->tick, 0, 0);
    io_uring_sqe_set_data64(e, tag(OP_TICK, 0));
}

/* Shuts down every client past its deadline: its recv or send in flight
 * completes (0 or an error) and the completion closes it. */
static void expire(struct server *s)
{
    uint64_t now = now_ms();
    for (uint32_t k = 0; k < MAX_CONN; k++) {
        struct conn *c = &s->conn[k];
        if (c->fd >= 0 && !c->expired && now >= c->deadline_ms) {
            c->expired = true;
            shutdown(c->fd, SHUT_RDWR);
        }
    }
}

static void arm_recv(struct server *s, uint32_t i)
{
    struct conn *c = &s->conn[i];
    struct io_uring_sqe *e = sqe(s);
    io_uring_prep_recv(e, c->fd, c->req.buf + c->req.len, ctl_prom_req_space(&c->req), 0);
    io_uring_sqe_set_data64(e, tag(OP_RECV, i));
}

static void arm_send(struct server *s, uint32_t i)
{
    struct conn *c = &s->conn[i];
    struct io_uring_sqe *e = sqe(s);
    io_uring_prep_send(e, c->fd, c->resp + c->resp_off, c->resp_len - c->resp_off, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, tag(OP_SEND, i));
}

static void close_conn(struct server *s, uint32_t i)
{
    struct conn *c = &s->conn[i];
    if (c->fd >= 0)
        close(c->fd);
    free(c->resp);
    c->resp = NULL;
    c->fd = -1;
}

/* Builds the response for `route` with the latest page (prom_http.c). */
static void respond(struct server *s, struct conn *c, enum ctl_prom_route route, bool head)
{
    char *page = NULL;
    size_t page_len = 0;
    if (route == CTL_PROM_METRICS) {
        pthread_mutex_lock(&s->p->lock);
        if (s->p->page) {
            page = malloc(s->p->page_len + 1);
            if (page) {
                memcpy(page, s->p->page, s->p->page_len + 1);
                page_len = s->p->page_len;
            }
        }
        s->p->scrapes++;
        pthread_mutex_unlock(&s->p->lock);
    }
    c->resp = ctl_prom_response(route, head, page, page_len, &c->resp_len);
    c->resp_off = 0;
    free(page);
}

static void *serve(void *arg)
{
    struct server *s = arg;
    arm_accept(s);
    arm_tick(s);
    struct io_uring_sqe *e = sqe(s);
    io_uring_prep_read(e, s->p->wake_fd, &s->wake_buf, sizeof(s->wake_buf), 0);
    io_uring_sqe_set_data64(e, tag(OP_WAKE, 0));
    io_uring_submit(&s->ring);
    for (;;) {
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(&s->ring, &cqe) < 0)
            continue;
        uint64_t t = io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        bool more = cqe->flags & IORING_CQE_F_MORE;
        io_uring_cqe_seen(&s->ring, cqe);
        enum op op = (enum op)(t >> 32);
        uint32_t i = (uint32_t)t;
        if (op == OP_WAKE)
            break;
        if (op == OP_TICK) {
            expire(s);
            arm_tick(s);
        } else if (op == OP_ACCEPT) {
            if (res >= 0) {
                uint32_t k;
                for (k = 0; k < MAX_CONN && s->conn[k].fd >= 0; k++)
                    ;
                if (k == MAX_CONN) {
                    close(res); /* too many clients at once */
                } else {
                    s->conn[k].fd = res;
                    s->conn[k].expired = false;
                    s->conn[k].deadline_ms = now_ms() + s->timeout_ms;
                    ctl_prom_req_reset(&s->conn[k].req);
                    arm_recv(s, k);
                }
            }
            if (!more)
                arm_accept(s);
        } else if (op == OP_RECV) {
            struct conn *c = &s->conn[i];
            if (res <= 0) {
                close_conn(s, i);
            } else {
                bool head;
                enum ctl_prom_route route = ctl_prom_req_received(&c->req, (size_t)res, &head);
                if (route == CTL_PROM_TOO_LARGE) {
                    close_conn(s, i); /* request header too large */
                } else if (route != CTL_PROM_MORE) {
                    respond(s, c, route, head);
                    c->deadline_ms = now_ms() + s->timeout_ms; /* to take the response */
                    if (c->resp)
                        arm_send(s, i);
                    else
                        close_conn(s, i);
                } else {
                    arm_recv(s, i);
                }
            }
        } else if (op == OP_SEND) {
            struct conn *c = &s->conn[i];
            if (res <= 0) {
                close_conn(s, i);
            } else {
                c->resp_off += (size_t)res;
                if (c->resp_off < c->resp_len)
                    arm_send(s, i); /* partial send: resume */
                else
                    close_conn(s, i);
            }
        }
        io_uring_submit(&s->ring);
    }
    for (uint32_t k = 0; k < MAX_CONN; k++)
        close_conn(s, k);
    io_uring_queue_exit(&s->ring);
    free(s);
    return NULL;
}

static int parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || colon[1] == '\0')
        return -EINVAL;
    size_t hl = (size_t)(colon - text);
    if (hl >= sizeof(host))
        return -EINVAL;
    memcpy(host, text, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -EINVAL;
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']')
            return -EINVAL;
        host[n - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return -EINVAL;
        *len = sizeof(*a6);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &a4->sin_addr) != 1)
        return -EINVAL;
    *len = sizeof(*a4);
    return 0;
}

int ctl_prom_start(struct ctl_prom *p, const char *addr_port, char *err, size_t errlen)
{
    return ctl_prom_start_timeout(p, addr_port, CTL_PROM_TIMEOUT_MS, err, errlen);
}

int ctl_prom_start_timeout(struct ctl_prom *p, const char *addr_port, uint32_t timeout_ms,
                           char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->timeout_ms = timeout_ms ? timeout_ms : CTL_PROM_TIMEOUT_MS;
    p->listen_fd = p->wake_fd = -1;
    pthread_mutex_init(&p->lock, NULL);
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_addr(addr_port, &ss, &len) < 0) {
        snprintf(err, errlen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9100, [::1]:9100, :9100)", addr_port);
        return -EINVAL;
    }
    p->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (p->listen_fd < 0 || setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(p->listen_fd, (struct sockaddr *)&ss, len) < 0 || listen(p->listen_fd, 64) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", addr_port, strerror(e));
        ctl_prom_stop(p);
        return -e;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    getsockname(p->listen_fd, (struct sockaddr *)&bound, &bl);
    p->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    snprintf(p->addr_text, sizeof(p->addr_text), "%s", addr_port);
    p->wake_fd = eventfd(0, EFD_CLOEXEC);
    struct server *s = calloc(1, sizeof(*s));
    if (p->wake_fd < 0 || !s) {
        free(s);
        snprintf(err, errlen, "out of resources");
        ctl_prom_stop(p);
        return -ENOMEM;
    }
    s->p = p;
    s->timeout_ms = p->timeout_ms;
    uint32_t tick_ms = s->timeout_ms / 4;
    tick_ms = tick_ms < 10 ? 10 : tick_ms > 1000 ? 1000 : tick_ms;
    s->tick = (struct __kernel_timespec){.tv_sec = tick_ms / 1000,
                                         .tv_nsec = (long long)(tick_ms % 1000) * 1000000};
    for (int i = 0; i < MAX_CONN; i++)
        s->conn[i].fd = -1;
    int rc = io_uring_queue_init(256, &s->ring, 0);
    if (rc < 0) {
        free(s);
        snprintf(err, errlen, "io_uring: %s", strerror(-rc));
        ctl_prom_stop(p);
        return rc;
    }
    if (pthread_create(&p->thread, NULL, serve, s) != 0) {
        io_uring_queue_exit(&s->ring);
        free(s);
        snprintf(err, errlen, "cannot start the server thread");
        ctl_prom_stop(p);
        return -EAGAIN;
    }
    p->running = true;
    return 0;
}

void ctl_prom_publish(struct ctl_prom *p, const struct ctl_snap *s, const struct ctl_prom_info *info)
{
    size_t cap = 16384;
    char *page = malloc(cap);
    if (!page)
        return;
    size_t n = ctl_prom_render(page, cap, s, info);
    if (n >= cap) {
        char *bigger = realloc(page, n + 1);
        if (!bigger) {
            free(page);
            return;
        }
        page = bigger;
        ctl_prom_render(page, n + 1, s, info);
    }
    pthread_mutex_lock(&p->lock);
    char *old = p->page;
    p->page = page;
    p->page_len = n;
    pthread_mutex_unlock(&p->lock);
    free(old);
}

void ctl_prom_stop(struct ctl_prom *p)
{
    if (p->running) {
        uint64_t one = 1;
        if (write(p->wake_fd, &one, sizeof(one)) != sizeof(one))
            perror("swarmgen: prom wake");
        pthread_join(p->thread, NULL);
        p->running = false;
    }
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    p->listen_fd = p->wake_fd = -1;
    pthread_mutex_lock(&p->lock);
    free(p->page);
    p->page = NULL;
    pthread_mutex_unlock(&p->lock);
}
