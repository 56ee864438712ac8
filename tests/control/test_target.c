/* SPDX-License-Identifier: MIT */
/* The target thread's WHIP and Janus clients against a scripted HTTP
 * server on 127.0.0.1 (a thread of this test): the slot a 201 fills, the
 * Location, DELETE at stop, failure causes (5xx, bad SDP, a server that
 * never answers, a refused connection), the Janus flow in order with its
 * keepalives, and a Janus error. The test plays the dataplane by writing
 * dp_seq / dp_state into the slots. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "met_stats.h"
#include "sdp.h"
#include "target.h"
#include "target_internal.h"

#define FP_TEXT                                                                                    \
    "94:7F:81:53:63:32:08:31:7E:FF:94:21:99:AF:D9:F0:FA:8E:00:3F:B6:02:F9:E7:81:D2:3F:6A:49:0D:"   \
    "B5:9F"

/* ---- the scripted HTTP server ---- */

#define MAX_LOG  512
#define MAX_CONN 32

struct fake_req {
    char method[8];
    char path[256];
    char auth[320];
    char ctype[64];
    char body[8192];
};

struct fake;
/* Writes the reply into out (cap), returns its length, or -1 to never answer. */
typedef int (*fake_fn)(struct fake *f, const struct fake_req *rq, char *out, size_t cap);

struct fake {
    int lfd, wake[2];
    uint16_t port;
    pthread_t th;
    fake_fn fn;
    pthread_mutex_t lock;
    struct fake_req log[MAX_LOG];
    int n_log;
    int counter;        /* the script's */
    int open, max_open; /* connections open now, at most (the server thread's) */
};

struct conn {
    int fd;
    char buf[16384];
    size_t len;
    bool answered;
};

static void hdr_value(const char *head, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = head;
    size_t nl = strlen(name);
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return;
        }
    }
}

/* A complete request in c->buf: records it and answers. */
static void maybe_serve(struct fake *f, struct conn *c)
{
    c->buf[c->len] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end || c->answered)
        return;
    *end = '\0';
    char cl[32];
    hdr_value(c->buf, "Content-Length", cl, sizeof(cl));
    size_t blen = (size_t)atoi(cl), hlen = (size_t)(end - c->buf) + 4;
    if (c->len < hlen + blen) {
        *end = '\r';
        return;
    }
    struct fake_req rq = {0};
    sscanf(c->buf, "%7s %255s", rq.method, rq.path);
    hdr_value(c->buf, "Authorization", rq.auth, sizeof(rq.auth));
    hdr_value(c->buf, "Content-Type", rq.ctype, sizeof(rq.ctype));
    if (blen >= sizeof(rq.body))
        blen = sizeof(rq.body) - 1;
    memcpy(rq.body, c->buf + hlen, blen);
    pthread_mutex_lock(&f->lock);
    if (f->n_log < MAX_LOG)
        f->log[f->n_log++] = rq;
    static char out[16384];
    int n = f->fn(f, &rq, out, sizeof(out));
    pthread_mutex_unlock(&f->lock);
    c->answered = true;
    if (n < 0)
        return; /* hold the connection: never answer */
    ssize_t w = write(c->fd, out, (size_t)n);
    (void)w;
    close(c->fd);
    c->fd = -1;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    struct conn *conns = calloc(MAX_CONN, sizeof(*conns));
    for (int i = 0; i < MAX_CONN; i++)
        conns[i].fd = -1;
    for (;;) {
        struct pollfd p[MAX_CONN + 2];
        int map[MAX_CONN + 2], n = 0;
        p[n] = (struct pollfd){.fd = f->wake[0], .events = POLLIN};
        map[n++] = -2;
        p[n] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
        map[n++] = -1;
        for (int i = 0; i < MAX_CONN; i++)
            if (conns[i].fd >= 0) {
                p[n] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
                map[n++] = i;
            }
        if (poll(p, (nfds_t)n, 1000) < 0)
            continue;
        if (p[0].revents)
            break;
        if (p[1].revents & POLLIN) {
            int fd = accept(f->lfd, NULL, NULL);
            int i = 0;
            while (i < MAX_CONN && conns[i].fd >= 0)
                i++;
            if (fd >= 0 && i < MAX_CONN) {
                conns[i] = (struct conn){.fd = fd};
                if (++f->open > f->max_open)
                    f->max_open = f->open;
            } else if (fd >= 0)
                close(fd);
        }
        for (int k = 2; k < n; k++) {
            if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct conn *c = &conns[map[k]];
            ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
            if (r <= 0) {
                close(c->fd);
                c->fd = -1;
                f->open--;
                continue;
            }
            c->len += (size_t)r;
            maybe_serve(f, c);
            if (c->fd < 0)
                f->open--;
        }
    }
    for (int i = 0; i < MAX_CONN; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    free(conns);
    return NULL;
}

static void fake_start(struct fake *f, fake_fn fn)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    f->fn = fn;
    cr_assert_eq(pipe(f->wake), 0);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(f->lfd, 64), 0);
    socklen_t al = sizeof(a);
    getsockname(f->lfd, (struct sockaddr *)&a, &al);
    f->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    ssize_t w = write(f->wake[1], "x", 1);
    (void)w;
    pthread_join(f->th, NULL);
    close(f->lfd);
    close(f->wake[0]);
    close(f->wake[1]);
}

static int reply(char *out, size_t cap, int status, const char *headers, const char *body)
{
    return snprintf(out, cap,
                    "HTTP/1.1 %d X\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s", status,
                    headers, strlen(body), body);
}

static int count(struct fake *f, const char *method, const char *path_prefix)
{
    pthread_mutex_lock(&f->lock);
    int n = 0;
    for (int i = 0; i < f->n_log; i++)
        if (strcmp(f->log[i].method, method) == 0 &&
            strncmp(f->log[i].path, path_prefix, strlen(path_prefix)) == 0)
            n++;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* ---- the image half: a TARGET section, agents, a fingerprint ---- */

#define N_SLOTS 256
static struct ri_target *tsec;
static struct ri_external *xsec;
static struct ri_agent agents[N_SLOTS];
static struct ctl_target *tg;
static struct fake srv;

static void image(void)
{
    size_t sz = sizeof(struct ri_target) + N_SLOTS * sizeof(struct ri_target_slot);
    tsec = aligned_alloc(RI_ALIGN, sz);
    memset(tsec, 0, sz);
    tsec->n_slots = N_SLOTS;
    xsec = aligned_alloc(RI_ALIGN, sizeof(*xsec));
    memset(xsec, 0, sizeof(*xsec));
    for (int i = 0; i < 32; i++)
        xsec->fingerprint[i] = (uint8_t)(0xa0 + i);
    for (uint32_t i = 0; i < N_SLOTS; i++)
        agents[i] = (struct ri_agent){.ip = 0xc6120001 + i};
}

static void teardown(void)
{
    if (tg)
        ctl_target_free(tg);
    tg = NULL;
    free(tsec);
    free(xsec);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits (at most ms) until *p (read atomically) reaches want. */
static bool wait_u64(const uint64_t *p, uint64_t want, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    while (__atomic_load_n(p, __ATOMIC_RELAXED) < want) {
        if (now_ms() > end)
            return false;
        usleep(2000);
    }
    return true;
}

static void start(const char *spec, uint32_t n, bool audio, uint64_t timeout_ms)
{
    struct ctl_target_config c = {.n_sessions = n,
                                  .audio = audio,
                                  .http_timeout_ns = timeout_ms * 1000000ull,
                                  .max_inflight = 8,
                                  .keepalive_ns = 150ull * 1000000ull};
    char err[256];
    cr_assert_eq(ctl_target_parse(spec, &c, err, sizeof(err)), 0, "%s", err);
    snprintf(c.token, sizeof(c.token), "s3cret");
    cr_assert_eq(ctl_target_start(&tg, &c, tsec, xsec, agents, N_SLOTS, err, sizeof(err)), 0, "%s",
                 err);
}

/* The dataplane: takes every published slot and brings it up. */
static void dataplane_up(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        struct ri_target_slot *sl = ri_target_slot(tsec, i);
        uint32_t seq = ri_load(&sl->seq);
        if (seq == 0)
            continue;
        ri_store(&sl->dp_state, (uint32_t)RI_TGT_UP);
        ri_store(&sl->dp_seq, seq);
    }
}

/* ---- WHIP ---- */

static const char WHIP_ANSWER[] =
    "v=0\r\no=- 9 2 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\n"
    "a=rtpmap:109 opus/48000/2\r\na=ice-ufrag:srvU\r\na=ice-pwd:serverpasswordserverpass\r\n"
    "a=fingerprint:sha-256 " FP_TEXT "\r\na=setup:passive\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
    "a=ice-ufrag:srvU\r\na=ice-pwd:serverpasswordserverpass\r\n"
    "a=fingerprint:sha-256 " FP_TEXT "\r\na=setup:passive\r\na=sctp-port:5000\r\n"
    "a=candidate:1 1 udp 100 10.0.0.1 4000 typ host\r\n"
    "a=candidate:2 1 udp 2000 10.0.0.2 4001 typ host\r\n"
    "a=candidate:3 1 udp 900 10.0.0.3 4002 typ relay raddr 1.1.1.1 rport 1\r\n";

static int deletes_before_close; /* DELETEs that came before the slot's close_seq */

static int whip_ok(struct fake *f, const struct fake_req *rq, char *out, size_t cap)
{
    if (strcmp(rq->method, "DELETE") == 0)
        for (uint32_t i = 0; i < N_SLOTS; i++) {
            struct ri_target_slot *sl = ri_target_slot(tsec, i);
            uint32_t seq = ri_load(&sl->seq);
            if (seq != 0 && ri_load(&sl->close_seq) != seq)
                deletes_before_close++;
        }
    if (strcmp(rq->method, "POST") == 0) {
        char hd[128];
        snprintf(hd, sizeof(hd), "Location: res/%d\r\nContent-Type: application/sdp\r\n",
                 f->counter++);
        return reply(out, cap, 201, hd, WHIP_ANSWER);
    }
    if (strcmp(rq->method, "DELETE") == 0)
        return reply(out, cap, 200, "", "");
    return reply(out, cap, 405, "", "");
}

Test(target_whip, answered_session_fills_its_slot_and_is_deleted_at_stop, .init = image,
     .fini = teardown)
{
    fake_start(&srv, whip_ok);
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    start(spec, 2, true, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signalled, 2, 3000), "signalled %llu", (unsigned long long)r->signalled);

    for (uint32_t i = 0; i < 2; i++) {
        struct ri_target_slot *sl = ri_target_slot(tsec, i);
        cr_assert_neq(ri_load(&sl->seq), 0u);
        cr_assert_eq(sl->agent, i);
        cr_assert_str_eq(sl->remote_ufrag, "srvU");
        cr_assert_str_eq(sl->remote_pwd, "serverpasswordserverpass");
        cr_assert_eq(sl->remote_fp[0], 0x94);
        cr_assert(sl->remote_lite);
        cr_assert_eq(sl->dtls_client, 1, "passive: we are the client");
        cr_assert_eq(sl->audio, 1);
        cr_assert_eq(sl->audio_pt, 109);
        cr_assert_eq(sl->remote_sctp_port, 5000);
        cr_assert_eq(sl->remote_max_message, 65536);
        cr_assert_eq(sl->n_cands, 3);
        cr_assert_eq(sl->cand[0].ip, 0x0a000002);
        cr_assert_eq(sl->cand[1].ip, 0x0a000003);
        cr_assert_eq(sl->cand[1].type, RI_CAND_RELAY);
        cr_assert_eq(sl->cand[2].ip, 0x0a000001);
        cr_assert_eq(strlen(sl->local_ufrag), 8);
        cr_assert_eq(strlen(sl->local_pwd), 24);
        cr_assert_neq(sl->audio_ssrc, 0u);
    }
    /* the offers carried those credentials, our fingerprint, the token */
    cr_assert_eq(count(&srv, "POST", "/whip/ep"), 2);
    static struct sdp_offer o;
    char why[128];
    bool seen[2] = {false, false};
    for (int k = 0; k < 2; k++) {
        const struct fake_req *rq = &srv.log[k];
        cr_assert_str_eq(rq->ctype, "application/sdp");
        cr_assert_str_eq(rq->auth, "Bearer s3cret");
        cr_assert_eq(sdp_parse_offer(rq->body, strlen(rq->body), &o, why, sizeof(why)), 0, "%s",
                     why);
        cr_assert_eq(o.fingerprint[0], 0xa0);
        cr_assert_eq(o.fingerprint[31], 0xbf);
        cr_assert_eq(o.audio, 0);
        for (uint32_t i = 0; i < 2; i++) {
            struct ri_target_slot *sl = ri_target_slot(tsec, i);
            if (strcmp(o.ice_ufrag, sl->local_ufrag) == 0 &&
                strcmp(o.ice_pwd, sl->local_pwd) == 0) {
                seen[i] = true;
                char ip[16];
                snprintf(ip, sizeof(ip), "198.18.0.%u", 1 + i);
                cr_assert_str_eq(o.cand[0].ip, ip);
                cr_assert_eq(o.cand[0].port, RI_TARGET_PORT);
            }
        }
    }
    cr_assert(seen[0] && seen[1], "each slot has the credentials of its offer");
    /* Location, relative, resolved against the endpoint */
    char want[128];
    snprintf(want, sizeof(want), "http://127.0.0.1:%u/whip/res/", srv.port);
    for (uint32_t i = 0; i < 2; i++)
        cr_assert_eq(strncmp(r->client[i].resource, want, strlen(want)), 0, "%s",
                     r->client[i].resource);

    dataplane_up(2);
    uint64_t t0 = now_ms();
    while (ctl_target_up(tg) < 2 && now_ms() - t0 < 2000)
        usleep(5000);
    cr_assert_eq(ctl_target_up(tg), 2);

    ctl_target_stop(tg, 2000000000ull);
    for (uint32_t i = 0; i < 2; i++) {
        struct ri_target_slot *sl = ri_target_slot(tsec, i);
        cr_assert_eq(sl->close_seq, sl->seq, "close_seq asked of the dataplane");
    }
    cr_assert_eq(count(&srv, "DELETE", "/whip/res/"), 2);
    cr_assert_eq(deletes_before_close, 0, "close_seq to the dataplane first, then DELETE");
    cr_assert_eq(r->deleted, 2);
    cr_assert_eq(r->delete_failed, 0);
    cr_assert_eq(r->started, 2);
    cr_assert_eq(r->signal_failed, 0);
    cr_assert_eq(r->http_requests, 4);
    cr_assert_eq(r->http_status[2], 4);
    cr_assert_eq(met_hist_total(&r->signal), 2);
    uint64_t joins = 0;
    for (uint32_t s = 0; s < r->joins_seconds; s++)
        joins += r->joins_per_s[s];
    cr_assert_eq(joins, 2);
    for (uint32_t i = 0; i < 2; i++) {
        cr_assert(r->client[i].signalled && r->client[i].deleted);
        cr_assert_eq(r->client[i].requests, 2);
    }
    /* the DELETE of each session went to its own resource */
    pthread_mutex_lock(&srv.lock);
    for (int k = 0; k < srv.n_log; k++)
        if (strcmp(srv.log[k].method, "DELETE") == 0)
            cr_assert_str_eq(srv.log[k].auth, "Bearer s3cret");
    pthread_mutex_unlock(&srv.lock);
    fake_stop(&srv);
}

static int whip_500(struct fake *f, const struct fake_req *rq, char *out, size_t cap)
{
    return reply(out, cap, 500, "", "no\n");
}

Test(target_whip, server_error_is_http_5xx, .init = image, .fini = teardown)
{
    fake_start(&srv, whip_500);
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    start(spec, 3, false, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signal_failed, 3, 3000));
    ctl_target_stop(tg, 1000000000ull);
    cr_assert_eq(r->cause[CTL_TGT_CAUSE_HTTP_5XX], 3);
    cr_assert_eq(r->signalled, 0);
    cr_assert_eq(r->http_status[5], 3);
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert_eq(r->client[i].cause, CTL_TGT_CAUSE_HTTP_5XX);
        cr_assert_eq(r->client[i].http_status, 500);
        cr_assert_eq(ri_target_slot(tsec, i)->seq, 0u, "nothing handed to the dataplane");
    }
    cr_assert_eq(count(&srv, "DELETE", "/"), 0, "no resource, no DELETE");
    fake_stop(&srv);
}

static int whip_garbage(struct fake *f, const struct fake_req *rq, char *out, size_t cap)
{
    if (strcmp(rq->method, "DELETE") == 0)
        return reply(out, cap, 200, "", "");
    char hd[96];
    snprintf(hd, sizeof(hd), "Location: http://127.0.0.1:%u/elsewhere/x\r\n", srv.port);
    return reply(out, cap, 201, hd, "this is not SDP");
}

Test(target_whip, garbage_answer_is_sdp_and_the_resource_is_deleted, .init = image,
     .fini = teardown)
{
    fake_start(&srv, whip_garbage);
    char spec[128], loc[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    start(spec, 1, false, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signal_failed, 1, 3000));
    cr_assert(wait_u64(&r->deleted, 1, 3000), "the resource the 201 made is deleted at once");
    ctl_target_stop(tg, 1000000000ull);
    cr_assert_eq(r->cause[CTL_TGT_CAUSE_SDP], 1);
    cr_assert_not_null(strstr(r->client[0].detail, "not SDP"), "%s", r->client[0].detail);
    cr_assert_eq(ri_target_slot(tsec, 0)->seq, 0u);
    /* an absolute Location is kept as it is */
    snprintf(loc, sizeof(loc), "http://127.0.0.1:%u/elsewhere/x", srv.port);
    cr_assert_str_eq(r->client[0].resource, loc);
    cr_assert_eq(count(&srv, "DELETE", "/elsewhere/x"), 1);
    cr_assert_eq(r->delete_failed, 0);
    fake_stop(&srv);
}

static int never(struct fake *f, const struct fake_req *rq, char *out, size_t cap)
{
    return -1;
}

Test(target_whip, silent_server_times_out_within_the_bound, .init = image, .fini = teardown)
{
    fake_start(&srv, never);
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    uint64_t t0 = now_ms();
    start(spec, 2, false, 300);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signal_failed, 2, 3000));
    uint64_t took = now_ms() - t0;
    cr_assert_geq(took, 290, "failed after %llu ms, before the timeout", (unsigned long long)took);
    cr_assert_lt(took, 3000, "failed after %llu ms", (unsigned long long)took);
    ctl_target_stop(tg, 1000000000ull);
    cr_assert_eq(r->cause[CTL_TGT_CAUSE_TIMEOUT], 2);
    cr_assert_eq(r->http_status[0], 2);
    fake_stop(&srv);
}

Test(target_whip, refused_connection_is_connect, .init = image, .fini = teardown)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd); /* bound once, never listened on: refused */
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", ntohs(a.sin_port));
    start(spec, 2, false, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signal_failed, 2, 3000));
    ctl_target_stop(tg, 1000000000ull);
    cr_assert_eq(r->cause[CTL_TGT_CAUSE_CONNECT], 2);
    cr_assert_eq(r->client[1].cause, CTL_TGT_CAUSE_CONNECT);
}

static int whip_slow(struct fake *f, const struct fake_req *rq, char *out, size_t cap)
{
    return whip_ok(f, rq, out, cap);
}

Test(target_whip, join_rate_paces_the_starts, .init = image, .fini = teardown)
{
    fake_start(&srv, whip_slow);
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    struct ctl_target_config c = {
        .n_sessions = 4, .http_timeout_ns = 2000000000ull, .join_rate = 10};
    char err[256];
    cr_assert_eq(ctl_target_parse(spec, &c, err, sizeof(err)), 0);
    uint64_t t0 = now_ms();
    cr_assert_eq(ctl_target_start(&tg, &c, tsec, xsec, agents, N_SLOTS, err, sizeof(err)), 0, "%s",
                 err);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signalled, 4, 3000));
    uint64_t took = now_ms() - t0;
    /* 10 per second, one at once: the 4th starts 300 ms after the 1st */
    cr_assert_geq(took, 280, "%llu ms", (unsigned long long)took);
    cr_assert_lt(took, 3000, "%llu ms", (unsigned long long)took);
    uint64_t d = r->client[3].t_start_ns - r->client[0].t_start_ns;
    cr_assert_geq(d, 280000000ull, "%llu ns", (unsigned long long)d);
    ctl_target_stop(tg, 1000000000ull);
    fake_stop(&srv);
}

/* ---- Janus ---- */

static void txn_of(const char *body, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = strstr(body, "\"transaction\":\"");
    if (!p)
        return;
    p += 15;
    size_t n = strcspn(p, "\"");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static const char JANUS_ANSWER_JSON[] =
    "v=0\\r\\no=- 9 2 IN IP4 10.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\na=group:BUNDLE 0\\r\\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\\r\\nc=IN IP4 10.0.0.9\\r\\na=mid:0\\r\\n"
    "a=ice-ufrag:jnsU\\r\\na=ice-pwd:januspasswordjanuspass\\r\\n"
    "a=fingerprint:sha-256 " FP_TEXT "\\r\\na=setup:active\\r\\na=sctp-port:5000\\r\\n"
    "a=candidate:1 1 udp 2015363327 10.0.0.9 20000 typ host\\r\\na=end-of-candidates\\r\\n";

static char pending_txn[32]; /* the message's: the event carries it */
static int janus_error_at;   /* 0: none; 2: attach fails */

static int janus(struct fake *f, const struct fake_req *rq, char *out, size_t cap)
{
    char txn[32], body[4096];
    txn_of(rq->body, txn, sizeof(txn));
    if (strcmp(rq->method, "GET") == 0) {
        if (janus_error_at == 4)
            return -1; /* no event: the long poll hangs */
        if (strncmp(rq->path, "/janus/1111?", 12) != 0)
            return reply(out, cap, 404, "", "");
        snprintf(body, sizeof(body),
                 "[{\"janus\":\"event\",\"session_id\":1111,\"sender\":2222,\"transaction\":\"%s\","
                 "\"plugindata\":{\"plugin\":\"janus.plugin.echotest\",\"data\":{\"echotest\":"
                 "\"event\",\"result\":\"ok\"}},"
                 "\"jsep\":{\"type\":\"answer\",\"sdp\":\"%s\"}}]",
                 pending_txn, JANUS_ANSWER_JSON);
        return reply(out, cap, 200, "Content-Type: application/json\r\n", body);
    }
    if (strstr(rq->body, "\"janus\":\"create\"")) {
        snprintf(body, sizeof(body),
                 "{\"janus\":\"success\",\"transaction\":\"%s\",\"data\":{\"id\":1111}}", txn);
    } else if (strstr(rq->body, "\"janus\":\"attach\"")) {
        if (janus_error_at == 2)
            snprintf(body, sizeof(body),
                     "{\"janus\":\"error\",\"session_id\":1111,\"transaction\":\"%s\","
                     "\"error\":{\"code\":460,\"reason\":\"No such plugin\"}}",
                     txn);
        else
            snprintf(body, sizeof(body),
                     "{\"janus\":\"success\",\"session_id\":1111,\"transaction\":\"%s\",\"data\":{"
                     "\"id\":2222}}",
                     txn);
    } else if (strstr(rq->body, "\"janus\":\"message\"")) {
        snprintf(pending_txn, sizeof(pending_txn), "%s", txn);
        snprintf(body, sizeof(body),
                 "{\"janus\":\"ack\",\"session_id\":1111,\"transaction\":\"%s\"}", txn);
    } else if (strstr(rq->body, "\"janus\":\"keepalive\"")) {
        snprintf(body, sizeof(body),
                 "{\"janus\":\"ack\",\"session_id\":1111,\"transaction\":\"%s\"}", txn);
    } else {
        snprintf(body, sizeof(body),
                 "{\"janus\":\"success\",\"session_id\":1111,\"transaction\":\"%s\"}", txn);
    }
    return reply(out, cap, 200, "Content-Type: application/json\r\n", body);
}

/* What request k of the log was, in a word. */
static const char *janus_kind(const struct fake_req *rq)
{
    static const char *const k[] = {"create",    "attach", "message",
                                    "keepalive", "detach", "destroy"};
    if (strcmp(rq->method, "GET") == 0)
        return "poll";
    for (size_t i = 0; i < 6; i++) {
        char pat[32];
        snprintf(pat, sizeof(pat), "\"janus\":\"%s\"", k[i]);
        if (strstr(rq->body, pat))
            return k[i];
    }
    return "?";
}

Test(target_janus, create_attach_offer_poll_keepalive_detach_destroy, .init = image,
     .fini = teardown)
{
    janus_error_at = 0;
    fake_start(&srv, janus);
    char spec[128];
    snprintf(spec, sizeof(spec), "janus:http://127.0.0.1:%u/janus/", srv.port);
    start(spec, 1, false, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signalled, 1, 3000), "cause %s: %s",
              ctl_target_cause_name(r->client[0].cause), r->client[0].detail);
    struct ri_target_slot *sl = ri_target_slot(tsec, 0);
    cr_assert_str_eq(sl->remote_ufrag, "jnsU");
    cr_assert_str_eq(sl->remote_pwd, "januspasswordjanuspass");
    cr_assert_eq(sl->dtls_client, 0, "active: we are the server");
    cr_assert_not(sl->remote_lite);
    cr_assert_eq(sl->n_cands, 1);
    cr_assert_eq(sl->cand[0].ip, 0x0a000009);
    cr_assert_eq(sl->cand[0].port, 20000);
    cr_assert_str_eq(r->client[0].resource, "janus:1111/2222");
    dataplane_up(1);
    cr_assert(wait_u64(&r->keepalives, 2, 2000), "keepalives every 150 ms");
    ctl_target_stop(tg, 2000000000ull);
    cr_assert_eq(sl->close_seq, sl->seq);
    cr_assert_eq(r->deleted, 1);

    static const char *const want[] = {"create", "attach", "message", "poll", "keepalive"};
    pthread_mutex_lock(&srv.lock);
    int n = srv.n_log;
    cr_assert_geq(n, 7);
    for (int k = 0; k < 5; k++)
        cr_assert_str_eq(janus_kind(&srv.log[k]), want[k], "request %d", k);
    for (int k = 5; k < n - 2; k++)
        cr_assert_str_eq(janus_kind(&srv.log[k]), "keepalive", "request %d", k);
    cr_assert_str_eq(janus_kind(&srv.log[n - 2]), "detach");
    cr_assert_str_eq(janus_kind(&srv.log[n - 1]), "destroy");
    cr_assert_str_eq(srv.log[0].path, "/janus");
    cr_assert_str_eq(srv.log[1].path, "/janus/1111");
    cr_assert_str_eq(srv.log[2].path, "/janus/1111/2222");
    cr_assert_str_eq(srv.log[n - 2].path, "/janus/1111/2222");
    cr_assert_str_eq(srv.log[n - 1].path, "/janus/1111");
    cr_assert_not_null(strstr(srv.log[1].body, "\"plugin\":\"janus.plugin.echotest\""));
    cr_assert_not_null(
        strstr(srv.log[2].body, "\"body\":{\"audio\":false,\"video\":false,\"data\":true}"));
    cr_assert_not_null(strstr(srv.log[2].body, "\"type\":\"offer\""));
    cr_assert_not_null(strstr(srv.log[2].body, "\"trickle\":false"));
    cr_assert_not_null(strstr(srv.log[2].body, "v=0\\r\\no=-"), "the SDP, JSON-escaped");
    cr_assert_not_null(strstr(srv.log[3].path, "maxev=10"));
    /* transactions differ from one request to the next */
    char t1[32], t2[32];
    txn_of(srv.log[0].body, t1, sizeof(t1));
    txn_of(srv.log[1].body, t2, sizeof(t2));
    cr_assert_eq(strlen(t1), 16);
    cr_assert_str_neq(t1, t2);
    pthread_mutex_unlock(&srv.lock);
    /* counted when sent: the one in flight at stop may be dropped before
     * the server logged it */
    cr_assert(r->keepalives == (uint64_t)(n - 6) || r->keepalives == (uint64_t)(n - 5),
              "keepalives counted %llu, logged %d", (unsigned long long)r->keepalives, n - 6);
    fake_stop(&srv);
}

Test(target_janus, error_reply_is_protocol_and_the_session_is_destroyed, .init = image,
     .fini = teardown)
{
    janus_error_at = 2;
    fake_start(&srv, janus);
    char spec[128];
    snprintf(spec, sizeof(spec), "janus:http://127.0.0.1:%u/janus", srv.port);
    start(spec, 1, true, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signal_failed, 1, 3000));
    cr_assert(wait_u64(&r->deleted, 1, 3000), "the Janus session it made is destroyed at once");
    ctl_target_stop(tg, 1000000000ull);
    cr_assert_eq(r->cause[CTL_TGT_CAUSE_PROTOCOL], 1);
    cr_assert_not_null(strstr(r->client[0].detail, "460 No such plugin"), "%s",
                       r->client[0].detail);
    cr_assert_eq(count(&srv, "POST", "/janus/1111"), 2, "attach, destroy");
    cr_assert_eq(ri_target_slot(tsec, 0)->seq, 0u);
    fake_stop(&srv);
}

Test(target_whip, stop_is_bounded_by_the_grace, .init = image, .fini = teardown)
{
    fake_start(&srv, never);
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    start(spec, 3, false, 10000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    uint64_t t0 = now_ms();
    while (count(&srv, "POST", "/whip/ep") < 3 && now_ms() - t0 < 2000)
        usleep(2000);
    cr_assert_eq(count(&srv, "POST", "/whip/ep"), 3);
    t0 = now_ms();
    /* the POSTs may still make resources: awaited for the grace (300 ms),
     * not their 10 s timeout */
    ctl_target_stop(tg, 300000000ull);
    uint64_t took = now_ms() - t0;
    cr_assert_geq(took, 290, "stopped after %llu ms", (unsigned long long)took);
    cr_assert_lt(took, 3000, "stopped after %llu ms", (unsigned long long)took);
    cr_assert_eq(r->started, 3);
    cr_assert_eq(r->signalled, 0);
    cr_assert_eq(r->deleted + r->delete_failed, 0, "nothing known on the server to end");
    ctl_target_stop(tg, 300000000ull); /* idempotent */
    fake_stop(&srv);
}

Test(target_janus, stop_drops_the_long_poll_and_detaches, .init = image, .fini = teardown)
{
    janus_error_at = 4;
    fake_start(&srv, janus);
    char spec[128];
    snprintf(spec, sizeof(spec), "janus:http://127.0.0.1:%u/janus", srv.port);
    start(spec, 1, false, 10000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    uint64_t t0 = now_ms();
    while (count(&srv, "GET", "/janus/1111") < 1 && now_ms() - t0 < 2000)
        usleep(2000);
    cr_assert_eq(count(&srv, "GET", "/janus/1111"), 1);
    t0 = now_ms();
    ctl_target_stop(tg, 5000000000ull);
    cr_assert_lt(now_ms() - t0, 2500, "the long poll is not waited for (grace 5 s)");
    cr_assert_eq(r->deleted, 1);
    cr_assert_eq(count(&srv, "POST", "/janus/1111/2222"), 2, "message, detach");
    cr_assert_eq(r->signalled + r->signal_failed, 0);
    cr_assert_eq(ri_target_slot(tsec, 0)->seq, 0u);
    fake_stop(&srv);
}

Test(target_whip, a_session_the_dataplane_ended_is_deleted_at_once, .init = image, .fini = teardown)
{
    fake_start(&srv, whip_ok);
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    start(spec, 2, false, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signalled, 2, 3000));
    struct ri_target_slot *sl = ri_target_slot(tsec, 1);
    ri_store(&sl->dp_state, (uint32_t)RI_TGT_FAILED);
    ri_store(&sl->dp_seq, sl->seq);
    cr_assert(wait_u64(&r->deleted, 1, 2000), "DELETE of the failed session before the stop");
    cr_assert(r->client[1].deleted);
    cr_assert_not(r->client[0].deleted);
    cr_assert_eq(ri_target_slot(tsec, 0)->close_seq, 0u);
    ctl_target_stop(tg, 2000000000ull);
    cr_assert_eq(r->deleted, 2);
    cr_assert_eq(count(&srv, "DELETE", "/whip/res/"), 2, "one DELETE each");
    fake_stop(&srv);
}

Test(target_whip, many_sessions_through_a_small_request_pool, .init = image, .fini = teardown)
{
    fake_start(&srv, whip_ok);
    char spec[128], err[256];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    struct ctl_target_config c = {
        .n_sessions = 200, .http_timeout_ns = 5000000000ull, .max_inflight = 4};
    cr_assert_eq(ctl_target_parse(spec, &c, err, sizeof(err)), 0);
    cr_assert_eq(ctl_target_start(&tg, &c, tsec, xsec, agents, N_SLOTS, err, sizeof(err)), 0, "%s",
                 err);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signalled, 200, 20000), "signalled %llu, failed %llu",
              (unsigned long long)r->signalled, (unsigned long long)r->signal_failed);
    dataplane_up(200);
    uint64_t t0 = now_ms();
    while (ctl_target_up(tg) < 200 && now_ms() - t0 < 2000)
        usleep(5000);
    cr_assert_eq(ctl_target_up(tg), 200);
    ctl_target_stop(tg, 10000000000ull);
    cr_assert_eq(r->deleted, 200);
    cr_assert_eq(count(&srv, "POST", "/whip/ep"), 200);
    cr_assert_eq(count(&srv, "DELETE", "/whip/res/"), 200);
    cr_assert_leq(srv.max_open, 4, "at most max_inflight requests at once: %d", srv.max_open);
    cr_assert_geq(srv.max_open, 2, "requests in parallel: %d", srv.max_open);
    /* every slot its own credentials */
    for (uint32_t i = 1; i < 200; i++)
        cr_assert_str_neq(ri_target_slot(tsec, i)->local_ufrag,
                          ri_target_slot(tsec, i - 1)->local_ufrag);
    fake_stop(&srv);
}

/* ---- Janus VideoRoom (janus-videoroom:) ---- */

/* Janus's offer to a subscriber of one feed (JSON-escaped), and its
 * answer to a publisher. */
static const char VR_SUB_OFFER_JSON[] =
    "v=0\\r\\no=- 7 1 IN IP4 10.0.0.9\\r\\ns=VideoRoom 1\\r\\nt=0 0\\r\\na=group:BUNDLE 0 1\\r\\n"
    "a=fingerprint:sha-256 " FP_TEXT "\\r\\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\nc=IN IP4 10.0.0.9\\r\\na=sendonly\\r\\na=mid:0\\r\\n"
    "a=rtcp-mux\\r\\na=ice-ufrag:vrsU\\r\\na=ice-pwd:videoroompasswordvideo\\r\\na=setup:actpass\\r\\n"
    "a=rtpmap:111 opus/48000/2\\r\\na=ssrc:1931507671 cname:janus\\r\\n"
    "a=candidate:1 1 udp 2015363327 10.0.0.9 20000 typ host\\r\\na=end-of-candidates\\r\\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\\r\\nc=IN IP4 10.0.0.9\\r\\na=mid:1\\r\\n"
    "a=sctp-port:5000\\r\\na=ice-ufrag:vrsU\\r\\na=ice-pwd:videoroompasswordvideo\\r\\n"
    "a=setup:actpass\\r\\na=candidate:1 1 udp 2015363327 10.0.0.9 20000 typ host\\r\\n";

static int vr_sessions;       /* Janus sessions made: session 100 + k, handle 200 + k */
static char vr_pending[8][64]; /* per session: the jsep type its next long poll carries, "" none */
static bool vr_refuse_room;   /* the room's create is refused (427) */

static int vr_janus(struct fake *f, const struct fake_req *rq, char *out, size_t cap)
{
    (void)f;
    char txn[32];
    static char body[8192];
    txn_of(rq->body, txn, sizeof(txn));
    const char *ct = "Content-Type: application/json\r\n";
    if (strcmp(rq->method, "GET") == 0) {
        int k = atoi(rq->path + strlen("/janus/")) - 100;
        if (k < 0 || k >= 8)
            return reply(out, cap, 404, "", "");
        if (!vr_pending[k][0]) {
            usleep(20000);
            return reply(out, cap, 200, ct, "{\"janus\":\"keepalive\"}");
        }
        bool offer = strcmp(vr_pending[k], "offer") == 0;
        snprintf(body, sizeof(body),
                 "[{\"janus\":\"event\",\"session_id\":%d,\"sender\":%d,\"plugindata\":{\"plugin\":"
                 "\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"%s\",\"room\":1}},"
                 "\"jsep\":{\"type\":\"%s\",\"sdp\":\"%s\"}}]",
                 100 + k, 200 + k, offer ? "attached" : "joined", vr_pending[k],
                 offer ? VR_SUB_OFFER_JSON : JANUS_ANSWER_JSON);
        vr_pending[k][0] = '\0';
        return reply(out, cap, 200, ct, body);
    }
    int k = atoi(rq->path + strlen("/janus/")) - 100;
    if (strstr(rq->body, "\"janus\":\"create\"")) {
        snprintf(body, sizeof(body), "{\"janus\":\"success\",\"transaction\":\"%s\",\"data\":{\"id\":%d}}",
                 txn, 100 + vr_sessions++);
    } else if (strstr(rq->body, "\"janus\":\"attach\"")) {
        snprintf(body, sizeof(body), "{\"janus\":\"success\",\"transaction\":\"%s\",\"data\":{\"id\":%d}}",
                 txn, 200 + k);
    } else if (strstr(rq->body, "\"request\":\"create\"")) {
        if (vr_refuse_room)
            snprintf(body, sizeof(body),
                     "{\"janus\":\"success\",\"transaction\":\"%s\",\"plugindata\":{\"plugin\":"
                     "\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"event\",\"error_code\":427,"
                     "\"error\":\"Room 1 already exists\"}}}",
                     txn);
        else
            snprintf(body, sizeof(body),
                     "{\"janus\":\"success\",\"transaction\":\"%s\",\"plugindata\":{\"plugin\":"
                     "\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"created\",\"room\":1}}}",
                     txn);
    } else if (strstr(rq->body, "\"request\":\"destroy\"")) {
        snprintf(body, sizeof(body),
                 "{\"janus\":\"success\",\"transaction\":\"%s\",\"plugindata\":{\"plugin\":"
                 "\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"destroyed\",\"room\":1}}}",
                 txn);
    } else if (strstr(rq->body, "\"janus\":\"message\"")) {
        if (k >= 0 && k < 8 && strstr(rq->body, "\"request\":\"joinandconfigure\""))
            snprintf(vr_pending[k], sizeof(vr_pending[k]), "answer");
        else if (k >= 0 && k < 8 && strstr(rq->body, "\"ptype\":\"subscriber\""))
            snprintf(vr_pending[k], sizeof(vr_pending[k]), "offer");
        snprintf(body, sizeof(body), "{\"janus\":\"ack\",\"transaction\":\"%s\"}", txn);
    } else if (strstr(rq->body, "\"janus\":\"keepalive\"")) {
        snprintf(body, sizeof(body), "{\"janus\":\"ack\",\"transaction\":\"%s\"}", txn);
    } else {
        snprintf(body, sizeof(body), "{\"janus\":\"success\",\"transaction\":\"%s\"}", txn);
    }
    return reply(out, cap, 200, ct, body);
}

/* The logged request whose body has `a` (and `b` when not NULL); -1 none. */
static int vr_find(struct fake *f, const char *a, const char *b)
{
    for (int i = 0; i < f->n_log; i++)
        if (strstr(f->log[i].body, a) && (!b || strstr(f->log[i].body, b)))
            return i;
    return -1;
}

Test(target_videoroom, room_publisher_then_subscriber_answering_janus_offer, .init = image,
     .fini = teardown)
{
    vr_sessions = 0;
    vr_refuse_room = false;
    memset(vr_pending, 0, sizeof(vr_pending));
    fake_start(&srv, vr_janus);
    char spec[160];
    snprintf(spec, sizeof(spec), "janus-videoroom:http://127.0.0.1:%u/janus,rooms=1,publishers=1",
             srv.port);
    start(spec, 2, true, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signalled, 1, 3000), "the publisher: %s", r->client[0].detail);
    usleep(100000);
    cr_assert_eq(r->signalled, 1, "the subscriber waits for its publisher to be up");
    struct ri_target_slot *pub = ri_target_slot(tsec, 0), *sub = ri_target_slot(tsec, 1);
    cr_assert_eq(pub->answerer, 0);
    cr_assert_eq(pub->dtls_client, 0, "Janus's answer said active");
    cr_assert_eq(r->client[0].role, CTL_TGT_ROLE_PUBLISHER);
    cr_assert_eq(r->client[1].role, CTL_TGT_ROLE_SUBSCRIBER);
    dataplane_up(1);
    cr_assert(wait_u64(&r->signalled, 2, 3000), "the subscriber: %s", r->client[1].detail);
    cr_assert_eq(sub->answerer, 1);
    cr_assert_eq(sub->dtls_client, 1, "our answer said active");
    cr_assert_eq(sub->audio, 0, "a subscriber sends no audio");
    cr_assert_eq(sub->n_feeds, 1);
    cr_assert_eq(sub->feed_agent[0], 0u);
    cr_assert_eq(sub->feed_ssrc[0], 1931507671u);
    cr_assert_str_eq(sub->remote_ufrag, "vrsU");
    cr_assert_eq(sub->cand[0].port, 20000);
    dataplane_up(2);
    ctl_target_stop(tg, 2000000000ull);
    cr_assert_eq(r->deleted, 2);
    cr_assert_eq(r->n_rooms, 1);
    cr_assert(r->room[0].created && r->room[0].destroyed);
    pthread_mutex_lock(&srv.lock);
    char room[48], feed[48];
    int c = vr_find(&srv, "\"request\":\"create\"", NULL);
    cr_assert_geq(c, 0);
    cr_assert_not_null(strstr(srv.log[c].body, "\"publishers\":1"));
    cr_assert_not_null(strstr(srv.log[c].body, "\"audiocodec\":\"opus\""));
    snprintf(room, sizeof(room), "\"room\":%llu", (unsigned long long)r->room[0].id);
    cr_assert_not_null(strstr(srv.log[c].body, room));
    int j = vr_find(&srv, "\"request\":\"joinandconfigure\"", room);
    cr_assert_gt(j, c, "the publisher joins the room it made");
    cr_assert_not_null(strstr(srv.log[j].body, "\"type\":\"offer\""));
    const char *id = strstr(srv.log[j].body, "\"id\":");
    cr_assert_not_null(id);
    snprintf(feed, sizeof(feed), "{\"feed\":%llu}", strtoull(id + 5, NULL, 10));
    int s = vr_find(&srv, "\"ptype\":\"subscriber\"", feed);
    cr_assert_gt(s, j, "the subscriber asks for the publisher's feed");
    int st = vr_find(&srv, "\"request\":\"start\"", NULL);
    cr_assert_gt(st, s);
    cr_assert_not_null(strstr(srv.log[st].body, "\"type\":\"answer\""));
    cr_assert_not_null(strstr(srv.log[st].body, "a=setup:active"));
    cr_assert_not_null(strstr(srv.log[st].body, "a=recvonly"));
    int d = vr_find(&srv, "\"request\":\"destroy\"", room);
    cr_assert_gt(d, st, "the room is destroyed at the end");
    /* --target-token as Janus's api_secret in every request, the long polls' query too */
    for (int i = 0; i < srv.n_log; i++) {
        if (strcmp(srv.log[i].method, "GET") == 0)
            cr_assert_not_null(strstr(srv.log[i].path, "&apisecret=s3cret"), "%s", srv.log[i].path);
        else
            cr_assert_not_null(strstr(srv.log[i].body, "{\"apisecret\":\"s3cret\",\"janus\":"), "%s",
                               srv.log[i].body);
    }
    pthread_mutex_unlock(&srv.lock);
    fake_stop(&srv);
}

Test(target_videoroom, a_refused_room_fails_its_sessions, .init = image, .fini = teardown)
{
    vr_sessions = 0;
    vr_refuse_room = true;
    memset(vr_pending, 0, sizeof(vr_pending));
    fake_start(&srv, vr_janus);
    char spec[160];
    snprintf(spec, sizeof(spec), "janus-videoroom:http://127.0.0.1:%u/janus,rooms=1,publishers=1",
             srv.port);
    start(spec, 3, false, 2000);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signal_failed, 3, 3000), "failed %llu",
              (unsigned long long)r->signal_failed);
    cr_assert(wait_u64(&r->deleted, 3, 3000), "every Janus session destroyed");
    ctl_target_stop(tg, 1000000000ull);
    cr_assert_eq(r->cause[CTL_TGT_CAUSE_PROTOCOL], 3);
    cr_assert_not_null(strstr(r->client[0].detail, "427 Room 1 already exists"), "%s",
                       r->client[0].detail);
    cr_assert_not_null(strstr(r->client[2].detail, "room 0 was not created"), "%s",
                       r->client[2].detail);
    cr_assert_not(r->room[0].created);
    cr_assert_eq(r->signalled, 0);
}

/* ---- --relay: the allocation first ---- */

Test(target_whip, relay_waits_for_the_allocation_then_offers_the_relayed_address_only, .init = image,
     .fini = teardown)
{
    /* agent 0 allocated, agent 1 failed with 401, agent 2 still pending */
    struct ri_target_slot *s0 = ri_target_slot(tsec, 0), *s1 = ri_target_slot(tsec, 1),
                          *s2 = ri_target_slot(tsec, 2);
    s0->relay_ip = 0xc613fffe;
    s0->relay_port = 45000;
    ri_store(&s0->relay_state, (uint32_t)RI_TGT_RELAY_OK);
    s1->relay_code = 401;
    ri_store(&s1->relay_state, (uint32_t)RI_TGT_RELAY_FAILED);
    fake_start(&srv, whip_ok);
    struct ctl_target_config c = {.n_sessions = 3, .http_timeout_ns = 2000000000ull, .max_inflight = 8,
                                  .relay = true};
    char spec[128], err[256];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/ep", srv.port);
    cr_assert_eq(ctl_target_parse(spec, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(ctl_target_start(&tg, &c, tsec, xsec, agents, N_SLOTS, err, sizeof(err)), 0, "%s", err);
    const struct ctl_target_results *r = ctl_target_results(tg);
    cr_assert(wait_u64(&r->signalled, 1, 3000));
    cr_assert(wait_u64(&r->signal_failed, 1, 3000));
    usleep(100000);
    cr_assert_eq(r->started, 2, "the third waits for its agent's allocation");
    cr_assert_eq(count(&srv, "POST", "/whip/ep"), 1, "no request for the failed allocation");
    cr_assert_eq(r->client[1].cause, CTL_TGT_CAUSE_TURN);
    cr_assert_str_eq(r->client[1].detail, "TURN allocation failed: 401");
    cr_assert_eq(ri_load(&s1->seq), 0u, "nothing handed to the dataplane");
    /* the offer: the relayed address as the one candidate */
    static struct sdp_offer o;
    char why[128];
    cr_assert_eq(sdp_parse_offer(srv.log[0].body, strlen(srv.log[0].body), &o, why, sizeof(why)), 0, "%s", why);
    for (int i = 0; i < o.n_cand; i++) {
        cr_assert_str_eq(o.cand[i].ip, "198.19.255.254");
        cr_assert_eq(o.cand[i].port, 45000);
        cr_assert_eq(o.cand[i].type, SDP_CAND_RELAY);
    }
    cr_assert_not_null(strstr(srv.log[0].body, "raddr 198.18.0.1 rport 50000"));
    /* agent 2's allocation arrives: its session starts */
    s2->relay_ip = 0xc613fffe;
    s2->relay_port = 45002;
    ri_store(&s2->relay_state, (uint32_t)RI_TGT_RELAY_OK);
    cr_assert(wait_u64(&r->signalled, 2, 3000));
    cr_assert_eq(r->started, 3);
    cr_assert_not_null(strstr(srv.log[1].body, "198.19.255.254 45002 typ relay raddr 198.18.0.3"));
    ctl_target_stop(tg, 1000000000ull);
    fake_stop(&srv);
}
