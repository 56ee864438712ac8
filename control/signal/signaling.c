/* SPDX-License-Identifier: MIT */
/* The WHIP signaling server: see signaling.h. One thread, poll(), one
 * request per connection. */
#include "signaling.h"
#include "signaling_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "run_image.h"
#include "signal_access.h"
#include "signal_sessions.h"

#define HEADER_MAX (16 * 1024) /* request line and headers; more -> 431 */
#define OUT_MAX    (16 * 1024) /* one response */
#define ANSWER_MAX (12 * 1024) /* one SDP answer */
#define DRAIN_MS   1000        /* after the response: read until the client closes */
#define STR_(x)    #x
#define STR(x)     STR_(x) /* a number macro as a string literal */

enum conn_state { CONN_FREE, CONN_READ, CONN_WRITE, CONN_DRAIN };

struct conn {
    int fd;
    enum conn_state state;
    bool sent_continue;
    uint32_t client; /* the peer's IPv4 address, host byte order */
    uint64_t deadline_ms;
    char cors[CTL_SIGNAL_ORIGIN_MAX + 1]; /* Access-Control-Allow-Origin to answer ("": none) */
    size_t in_len;
    size_t out_len, out_off;
    char in[CTL_SIGNAL_MAX_REQUEST + 1]; /* + NUL */
    char out[OUT_MAX];
};

/* What the request line and headers say. */
struct request {
    struct {
        const char *p;
        size_t n;
    } method, path, auth, origin; /* auth, origin: header values (p NULL: none) */
    size_t head_len; /* bytes up to and including the blank line */
    bool has_length;
    uint64_t content_length;
    bool chunked;
    bool expect_continue;
    bool sdp; /* Content-Type: application/sdp */
    bool has_type;
};

enum counter {
    C_REQUESTS,
    C_OPENED,
    C_CLOSED,
    C_4XX,
    C_5XX,
    C_TIMEOUTS,
    C_REFUSED,
    C_REFUSED_CLIENT,
    C_COUNT
};

struct ctl_signal {
    pthread_t thread;
    int listen_fd;
    int wake[2]; /* pipe: a byte tells the thread to stop */
    uint16_t port;
    uint32_t timeout_ms;
    uint32_t max_per_client;
    char token[CTL_SIGNAL_TOKEN_MAX + 1];     /* "": none */
    char origins[CTL_SIGNAL_ORIGINS_MAX + 1]; /* comma list ("": none) */
    struct ctl_signal_ops ops;
    void *arg;
    uint64_t counter[C_COUNT]; /* written by the thread only, read with atomic loads */
    uint64_t etag_seq;
    struct sig_sessions sessions; /* the thread's */
    struct sdp_offer offer;       /* scratch of the thread */
    char answer[ANSWER_MAX];
    struct conn conn[CTL_SIGNAL_MAX_CLIENTS];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void bump(struct ctl_signal *s, enum counter c)
{
    __atomic_store_n(&s->counter[c], s->counter[c] + 1, __ATOMIC_RELAXED);
}

static const char *status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

/* Writes a whole response into c->out and switches c to writing. `extra`
 * is more header lines (each ending in CRLF) or NULL; `type` NULL means
 * text/plain. */
static void respond(struct ctl_signal *s, struct conn *c, int status, const char *extra,
                    const char *type, const char *body, size_t body_len)
{
    bump(s, C_REQUESTS);
    if (status >= 400 && status < 500)
        bump(s, C_4XX);
    else if (status >= 500)
        bump(s, C_5XX);
    char cors[CTL_SIGNAL_ORIGIN_MAX + 96] = "";
    if (c->cors[0])
        snprintf(cors, sizeof(cors),
                 "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                 "Access-Control-Expose-Headers: Location\r\n",
                 c->cors);
    int n = snprintf(c->out, sizeof(c->out),
                     "HTTP/1.1 %d %s\r\n"
                     "%s"
                     "Connection: close\r\n"
                     "Cache-Control: no-store\r\n"
                     "%s",
                     status, status_text(status), cors, extra ? extra : "");
    if (status != 204 && n > 0 && (size_t)n < sizeof(c->out))
        n += snprintf(
            c->out + n, sizeof(c->out) - (size_t)n, "Content-Type: %s\r\nContent-Length: %zu\r\n",
            body_len ? (type ? type : "text/plain; charset=utf-8") : "text/plain", body_len);
    if (n < 0 || (size_t)n + 2 + body_len > sizeof(c->out)) {
        /* cannot happen with the sizes here; answer something valid anyway */
        n = snprintf(c->out, sizeof(c->out),
                     "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n");
        body_len = 0;
    } else {
        memcpy(c->out + n, "\r\n", 2);
        n += 2;
        if (status != 204 && body_len)
            memcpy(c->out + n, body, body_len);
        else
            body_len = 0;
    }
    c->out_len = (size_t)n + body_len;
    c->out_off = 0;
    c->state = CONN_WRITE;
    c->deadline_ms = now_ms() + s->timeout_ms;
}

/* An error response: one line of text/plain. */
static void respond_error(struct ctl_signal *s, struct conn *c, int status, const char *extra,
                          const char *reason)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "%s\n", reason);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1, line[n - 1] = '\n';
    respond(s, c, status, extra, "text/plain; charset=utf-8", line, (size_t)n);
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CONN_FREE;
}

/* Best effort, for connections we are about to close. */
static void send_now(int fd, const char *text)
{
    ssize_t r = send(fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)r;
}

static bool span_eq_ci(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static bool is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Finds the end of the headers in in[0..len); 0 while incomplete. */
static size_t head_end(const char *in, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (in[i] != '\n')
            continue;
        if (in[i + 1] == '\n')
            return i + 2;
        if (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Parses request line and headers of in[0..head_len). 0 or an HTTP status
 * with the reason in *why. */
static int parse_head(char *in, size_t head_len, struct request *r, const char **why)
{
    *r = (struct request){.head_len = head_len};
    char *p = in, *end = in + head_len;
    char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL) {
        *why = "malformed request line";
        return 400;
    }
    char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    char *sp1 = memchr(p, ' ', (size_t)(le - p));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1)) : NULL;
    if (sp1 == NULL || sp2 == NULL || sp1 == p || sp2 == sp1 + 1 ||
        !(span_eq_ci(sp2 + 1, (size_t)(le - sp2 - 1), "HTTP/1.1") ||
          span_eq_ci(sp2 + 1, (size_t)(le - sp2 - 1), "HTTP/1.0"))) {
        *why = "malformed request line (want METHOD PATH HTTP/1.1)";
        return 400;
    }
    for (char *q = p; q < sp1; q++)
        if (!is_tchar(*q)) {
            *why = "malformed request method";
            return 400;
        }
    r->method.p = p;
    r->method.n = (size_t)(sp1 - p);
    r->path.p = sp1 + 1;
    r->path.n = (size_t)(sp2 - sp1 - 1);

    for (p = eol + 1; p < end;) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            break;
        le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        char *line = p;
        p = eol + 1;
        if (le == line)
            break; /* the blank line */
        char *colon = memchr(line, ':', (size_t)(le - line));
        if (colon == NULL || colon == line) {
            *why = "malformed header line";
            return 400;
        }
        for (char *q = line; q < colon; q++)
            if (!is_tchar(*q)) {
                *why = "malformed header name";
                return 400;
            }
        char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        char *ve = le;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t name_n = (size_t)(colon - line), vn = (size_t)(ve - v);
        if (span_eq_ci(line, name_n, "Content-Length")) {
            uint64_t x = 0;
            if (vn == 0 || vn > 12) {
                *why = "malformed Content-Length";
                return 400;
            }
            for (size_t i = 0; i < vn; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    *why = "malformed Content-Length";
                    return 400;
                }
                x = x * 10 + (uint64_t)(v[i] - '0');
            }
            if (r->has_length && x != r->content_length) {
                *why = "conflicting Content-Length headers";
                return 400;
            }
            r->has_length = true;
            r->content_length = x;
        } else if (span_eq_ci(line, name_n, "Authorization")) {
            r->auth.p = v;
            r->auth.n = vn;
        } else if (span_eq_ci(line, name_n, "Origin")) {
            r->origin.p = v;
            r->origin.n = vn;
        } else if (span_eq_ci(line, name_n, "Transfer-Encoding")) {
            r->chunked = true;
        } else if (span_eq_ci(line, name_n, "Expect")) {
            r->expect_continue = span_eq_ci(v, vn, "100-continue");
        } else if (span_eq_ci(line, name_n, "Content-Type")) {
            /* application/sdp, optionally followed by parameters */
            size_t t = 0;
            while (t < vn && v[t] != ';' && v[t] != ' ' && v[t] != '\t')
                t++;
            r->has_type = true;
            r->sdp = span_eq_ci(v, t, "application/sdp");
        }
    }
    return 0;
}

enum route { ROUTE_NONE, ROUTE_AGENT, ROUTE_SESSION };

/* "/whip/agents/{id}" (*agent the number) or "/whip/sessions/{sid}" (sid
 * the resource id, sig_id_parse); a query string is ignored. *bad_id: the
 * number or the id is not one we could have given out. */
static enum route route_of(const char *p, size_t n, uint64_t *agent, uint8_t sid[SIG_ID_BYTES],
                           bool *bad_id)
{
    const char *q = memchr(p, '?', n);
    if (q)
        n = (size_t)(q - p);
    static const char agents[] = "/whip/agents/", sessions[] = "/whip/sessions/";
    size_t an = sizeof(agents) - 1, sn = sizeof(sessions) - 1;
    if (n > sn && memcmp(p, sessions, sn) == 0) {
        *bad_id = sig_id_parse(p + sn, n - sn, sid) != 0;
        return ROUTE_SESSION;
    }
    if (n <= an || memcmp(p, agents, an) != 0)
        return ROUTE_NONE;
    uint64_t x = 0;
    *bad_id = false;
    for (size_t i = an; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || i - an >= 10) {
            *bad_id = true;
            break;
        }
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    if (x > UINT32_MAX)
        *bad_id = true;
    *agent = x;
    return ROUTE_AGENT;
}

static bool ice_ok(const char *v, size_t cap, size_t min)
{
    size_t n = strnlen(v, cap);
    if (n < min || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/'))
            return false;
    }
    return true;
}

static void handle_post(struct ctl_signal *s, struct conn *c, const struct request *r,
                        uint32_t agent)
{
    char reason[256];
    if (!r->sdp) {
        respond_error(s, c, 415, NULL,
                      r->has_type ? "Content-Type must be application/sdp"
                                  : "no Content-Type: must be application/sdp");
        return;
    }
    struct sdp_offer *o = &s->offer;
    const char *body = c->in + r->head_len;
    if (sdp_parse_offer(body, (size_t)r->content_length, o, reason, sizeof(reason)) != 0) {
        respond_error(s, c, 400, NULL, reason);
        return;
    }
    if (o->ice_lite) {
        respond_error(s, c, 400, NULL,
                      "the offer is ice-lite and so is swarmgen: one side must run full ICE");
        return;
    }
    if (sig_sessions_count(&s->sessions, c->client, s->ops.alive, s->arg) >= s->max_per_client) {
        char why[160];
        snprintf(why, sizeof(why),
                 "this client has %u sessions open, the most it may (--signal-max-per-client): "
                 "DELETE one first",
                 s->max_per_client);
        respond_error(s, c, 429, NULL, why);
        return;
    }
    int slot = sig_sessions_slot(&s->sessions, s->ops.alive, s->arg);
    if (slot < 0) {
        respond_error(s, c, 503, NULL,
                      "too many open sessions (" STR(CTL_SIGNAL_MAX_SESSIONS) "): DELETE some");
        return;
    }
    uint8_t rid[SIG_ID_BYTES];
    if (sig_id_new(rid) != 0) {
        respond_error(s, c, 500, NULL, "internal error: no random bytes for a session id");
        return;
    }
    struct sdp_local local = {0};
    bool must_active = sdp_choose_setup(o->setup, SDP_SETUP_ACTIVE) == SDP_SETUP_ACTIVE;
    bool setup_active = must_active;
    reason[0] = '\0';
    int sid = s->ops.open(s->arg, agent, o, &local, &setup_active, reason, sizeof(reason));
    if (sid < 0) {
        int status = -sid >= 400 && -sid <= 599 ? -sid : 500;
        respond_error(s, c, status, NULL, reason[0] ? reason : "the session could not be opened");
        return;
    }
    const char *bad = NULL;
    if (o->setup != SDP_SETUP_ACTPASS && setup_active != must_active)
        bad = "internal error: the DTLS role chosen contradicts the offer's a=setup";
    else if (!ice_ok(local.ufrag, sizeof(local.ufrag), 4) ||
             !ice_ok(local.pwd, sizeof(local.pwd), 22))
        bad = "internal error: the session's ICE credentials are invalid";
    struct sdp_answer_params ap = {
        .fingerprint = {0},
        .setup = setup_active ? SDP_SETUP_ACTIVE : SDP_SETUP_PASSIVE,
        .ip = local.ip,
        .port = local.port,
        .sctp_port = 5000,
        .max_message_size = RI_MSG_MAX,
        .audio = local.audio,
        .sess_id = ((uint64_t)agent << 32) | (uint32_t)sid,
    };
    int alen = -EINVAL;
    if (bad == NULL) {
        memcpy(ap.ufrag, local.ufrag, sizeof(local.ufrag));
        memcpy(ap.pwd, local.pwd, sizeof(local.pwd));
        memcpy(ap.fingerprint, local.fingerprint, sizeof(ap.fingerprint));
        alen = sdp_write_answer(o, &ap, s->answer, sizeof(s->answer));
        if (alen < 0)
            bad = "internal error: the answer does not fit";
    }
    if (bad != NULL) {
        s->ops.close(s->arg, sid);
        respond_error(s, c, 500, NULL, bad);
        return;
    }
    struct sig_session *e = &s->sessions.e[slot];
    *e = (struct sig_session){.used = true, .sid = sid, .client = c->client};
    memcpy(e->id, rid, sizeof(rid));
    char hex[SIG_ID_HEX + 1], extra[160];
    sig_id_hex(rid, hex);
    snprintf(extra, sizeof(extra), "Location: /whip/sessions/%s\r\nETag: \"%llu\"\r\n", hex,
             (unsigned long long)++s->etag_seq);
    bump(s, C_OPENED);
    respond(s, c, 201, extra, "application/sdp", s->answer, (size_t)alen);
}

static const char CORS_PREFLIGHT[] = "Access-Control-Allow-Methods: POST, DELETE, OPTIONS\r\n"
                                     "Access-Control-Allow-Headers: Content-Type, Authorization\r\n"
                                     "Access-Control-Max-Age: 86400\r\n";
static const char NO_TRICKLE[] =
    "trickle ICE (PATCH) is not supported: put every candidate in the offer (RFC 9725 allows a "
    "server without trickle)";

/* A complete request: route it and write the response. */
static void handle(struct ctl_signal *s, struct conn *c, const struct request *r)
{
    uint64_t id = 0;
    uint8_t rid[SIG_ID_BYTES];
    bool bad_id = false;
    enum route rt = route_of(r->path.p, r->path.n, &id, rid, &bad_id);
    const char *m = r->method.p;
    size_t mn = r->method.n;
    if (r->origin.p) {
        /* a browser page: only from an allowed origin, whatever it asks */
        enum sig_origin o = sig_origin_check(s->origins, r->origin.p, r->origin.n);
        if (o == SIG_ORIGIN_REFUSED ||
            (o == SIG_ORIGIN_LISTED && r->origin.n > CTL_SIGNAL_ORIGIN_MAX)) {
            respond_error(s, c, 403, NULL,
                          "this page's origin may not use the WHIP server (swarmgen run "
                          "--signal-origin lists the allowed ones)");
            return;
        }
        if (o == SIG_ORIGIN_ANY)
            snprintf(c->cors, sizeof(c->cors), "*");
        else
            snprintf(c->cors, sizeof(c->cors), "%.*s", (int)r->origin.n, r->origin.p);
    }
    if (rt == ROUTE_NONE) {
        respond_error(s, c, 404, NULL, "no such resource: POST /whip/agents/{id} opens a session");
        return;
    }
    if (bad_id) {
        respond_error(s, c, 404, NULL,
                      rt == ROUTE_AGENT ? "unknown agent: the id is not a number below 2^32"
                                        : "no such session");
        return;
    }
    if (span_eq_ci(m, mn, "OPTIONS")) {
        respond(s, c, 204, c->cors[0] ? CORS_PREFLIGHT : NULL, NULL, NULL, 0);
        return;
    }
    if (!sig_bearer_ok(s->token, r->auth.p, r->auth.n)) {
        respond_error(s, c, 401, "WWW-Authenticate: Bearer\r\n",
                      r->auth.p ? "wrong bearer token"
                                : "this server needs Authorization: Bearer <token>");
        return;
    }
    int k = rt == ROUTE_SESSION ? sig_sessions_find(&s->sessions, rid) : -ENOENT;
    if (rt == ROUTE_SESSION && k < 0) {
        respond_error(s, c, 404, NULL, "no such session");
        return;
    }
    bool patch = mn == 5 && memcmp(m, "PATCH", 5) == 0;
    if (rt == ROUTE_AGENT) {
        if (mn == 4 && memcmp(m, "POST", 4) == 0)
            handle_post(s, c, r, (uint32_t)id);
        else
            respond_error(s, c, 405, "Allow: POST, OPTIONS\r\n",
                          patch ? NO_TRICKLE : "method not allowed: POST an SDP offer here");
        return;
    }
    if (mn == 6 && memcmp(m, "DELETE", 6) == 0) {
        struct sig_session *e = &s->sessions.e[k];
        e->used = false;
        if (s->ops.close(s->arg, e->sid) == 0) {
            bump(s, C_CLOSED);
            respond(s, c, 200, NULL, NULL, NULL, 0);
        } else {
            respond_error(s, c, 404, NULL, "no such session");
        }
        return;
    }
    respond_error(s, c, 405, "Allow: DELETE, OPTIONS\r\n",
                  patch ? NO_TRICKLE : "method not allowed: DELETE ends the session");
}

static void on_received(struct ctl_signal *s, struct conn *c, bool eof);

/* Reads what is there; answers once the request is complete. */
static void on_readable(struct ctl_signal *s, struct conn *c)
{
    bool eof = false;
    for (;;) {
        if (c->state == CONN_DRAIN) {
            char sink[4096];
            ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
            if (n > 0)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
            conn_close(c);
            return;
        }
        size_t room = CTL_SIGNAL_MAX_REQUEST - c->in_len;
        if (room == 0)
            break;
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n == 0) {
            eof = true; /* the client may half-close after its request */
            break;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_close(c);
            return;
        }
        c->in_len += (size_t)n;
    }
    on_received(s, c, eof);
}

/* The bytes received so far in c->in (eof: the client closed its side):
 * answers once the request is complete, closes, or waits for more. */
static void on_received(struct ctl_signal *s, struct conn *c, bool eof)
{
    size_t hl = head_end(c->in, c->in_len);
    if (hl == 0) {
        if (c->in_len >= HEADER_MAX)
            respond_error(s, c, 431, NULL, "request line and headers exceed 16 KiB");
        else if (eof)
            conn_close(c); /* closed before a whole request: nothing to answer */
        return;
    }
    c->in[c->in_len] = '\0';
    struct request r;
    const char *why = NULL;
    int st = parse_head(c->in, hl, &r, &why);
    if (st != 0) {
        respond_error(s, c, st, NULL, why);
        return;
    }
    if (r.chunked) {
        respond_error(s, c, 411, NULL, "Transfer-Encoding is not supported: send Content-Length");
        return;
    }
    bool post = r.method.n == 4 && memcmp(r.method.p, "POST", 4) == 0;
    if (post && !r.has_length) {
        respond_error(s, c, 411, NULL, "POST needs a Content-Length");
        return;
    }
    if (r.content_length > CTL_SIGNAL_MAX_REQUEST - hl) {
        respond_error(s, c, 413, NULL, "request exceeds 64 KiB");
        return;
    }
    if (c->in_len < hl + r.content_length) {
        if (eof) {
            conn_close(c);
            return;
        }
        if (r.expect_continue && !c->sent_continue) {
            send_now(c->fd, "HTTP/1.1 100 Continue\r\n\r\n");
            c->sent_continue = true;
        }
        return;
    }
    handle(s, c, &r);
}

static void on_writable(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            conn_close(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    /* all sent: tell the client, then read until it closes so that unread
     * request bytes do not turn our close into a reset that eats the response */
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_DRAIN;
    c->deadline_ms = now_ms() + DRAIN_MS;
}

static void accept_all(struct ctl_signal *s, uint64_t now)
{
    for (;;) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int fd =
            accept4(s->listen_fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or an error the next poll will show again */
        uint32_t client = ntohl(peer.sin_addr.s_addr), same = 0;
        struct conn *c = NULL;
        for (int i = 0; i < CTL_SIGNAL_MAX_CLIENTS; i++) {
            if (s->conn[i].state == CONN_FREE)
                c = c ? c : &s->conn[i];
            else if (s->conn[i].client == client)
                same++;
        }
        if (same >= s->max_per_client) {
            send_now(fd, "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\n"
                         "Content-Type: text/plain\r\nContent-Length: 64\r\n\r\n"
                         "too many connections from this client (--signal-max-per-client)\n");
            close(fd);
            bump(s, C_REFUSED_CLIENT);
            continue;
        }
        if (c == NULL) {
            send_now(fd, "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                         "Content-Type: text/plain\r\n"
                         "Content-Length: 28\r\n\r\ntoo many signaling clients\r\n");
            close(fd);
            bump(s, C_REFUSED);
            continue;
        }
        c->fd = fd;
        c->client = client;
        c->state = CONN_READ;
        c->sent_continue = false;
        c->cors[0] = '\0';
        c->in_len = 0;
        c->out_len = c->out_off = 0;
        c->deadline_ms = now + s->timeout_ms;
    }
}

static void *signal_thread(void *arg)
{
    struct ctl_signal *s = arg;
    struct pollfd pfd[2 + CTL_SIGNAL_MAX_CLIENTS];
    int idx[2 + CTL_SIGNAL_MAX_CLIENTS];
    for (;;) {
        uint64_t now = now_ms();
        int n = 0, timeout = 1000;
        pfd[n++] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        for (int i = 0; i < CTL_SIGNAL_MAX_CLIENTS; i++) {
            struct conn *c = &s->conn[i];
            if (c->state == CONN_FREE)
                continue;
            if (now >= c->deadline_ms) {
                if (c->state == CONN_READ) {
                    send_now(c->fd, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                                    "Content-Length: 0\r\n\r\n");
                    bump(s, C_TIMEOUTS);
                } else if (c->state == CONN_WRITE) {
                    bump(s, C_TIMEOUTS);
                }
                conn_close(c);
                continue;
            }
            uint64_t left = c->deadline_ms - now;
            if (left < (uint64_t)timeout)
                timeout = (int)left + 1;
            idx[n] = i;
            pfd[n++] =
                (struct pollfd){.fd = c->fd, .events = c->state == CONN_WRITE ? POLLOUT : POLLIN};
        }
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (pfd[0].revents)
            break;
        for (int k = 2; k < n; k++) {
            if (pfd[k].revents == 0)
                continue;
            struct conn *c = &s->conn[idx[k]];
            if (c->state == CONN_WRITE)
                on_writable(c);
            else
                on_readable(s, c);
            if (c->state == CONN_WRITE)
                on_writable(c); /* a response just made: usually goes out at once */
        }
        if (pfd[1].revents)
            accept_all(s, now_ms());
    }
    return NULL;
}

int ctl_signal_parse_head(char *in, size_t len, const char **why)
{
    size_t hl = head_end(in, len);
    if (hl == 0)
        return -1;
    in[len] = '\0';
    struct request r;
    *why = NULL;
    int st = parse_head(in, hl, &r, why);
    if (st != 0)
        return st;
    if (r.chunked || (r.method.n == 4 && memcmp(r.method.p, "POST", 4) == 0 && !r.has_length)) {
        *why = "no Content-Length";
        return 411;
    }
    if (r.content_length > CTL_SIGNAL_MAX_REQUEST - hl) {
        *why = "request exceeds 64 KiB";
        return 413;
    }
    uint64_t id = 0;
    uint8_t rid[SIG_ID_BYTES];
    bool bad_id = false;
    if (route_of(r.path.p, r.path.n, &id, rid, &bad_id) == ROUTE_NONE || bad_id) {
        *why = "no such resource";
        return 404;
    }
    return 0;
}

int ctl_signal_parse_addr(const char *text, uint32_t *ip, uint16_t *port, char *err, size_t errlen)
{
    const char *colon = text ? strrchr(text, ':') : NULL;
    if (colon == NULL) {
        snprintf(err, errlen, "signaling address '%s': want ADDR:PORT or :PORT", text ? text : "");
        return -EINVAL;
    }
    char host[64];
    size_t hn = (size_t)(colon - text);
    if (hn >= sizeof(host)) {
        snprintf(err, errlen, "signaling address '%s': address too long", text);
        return -EINVAL;
    }
    memcpy(host, text, hn);
    host[hn] = '\0';
    struct in_addr a;
    if (hn == 0 || strcmp(host, "localhost") == 0)
        a.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a) != 1) {
        snprintf(err, errlen, "signaling address '%s': '%s' is not an IPv4 address", text, host);
        return -EINVAL;
    }
    const char *ps = colon + 1;
    char *end;
    errno = 0;
    unsigned long p = strtoul(ps, &end, 10);
    if (*ps < '0' || *ps > '9' || *end != '\0' || errno != 0 || p > 65535) {
        snprintf(err, errlen, "signaling address '%s': port must be 0..65535", text);
        return -EINVAL;
    }
    *ip = ntohl(a.s_addr);
    *port = (uint16_t)p;
    return 0;
}

/* A server with its configuration and no socket yet: listen_fd, wake -1. */
static int server_new(struct ctl_signal **out, const struct ctl_signal_config *cfg,
                      const struct ctl_signal_ops *ops, void *arg, char *err, size_t errlen)
{
    *out = NULL;
    if (ops == NULL || ops->open == NULL || ops->close == NULL) {
        snprintf(err, errlen, "signaling: no session ops");
        return -EINVAL;
    }
    struct ctl_signal *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "signaling: out of memory");
        return -ENOMEM;
    }
    s->ops = *ops;
    s->arg = arg;
    s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : CTL_SIGNAL_TIMEOUT_MS;
    s->max_per_client = cfg->max_per_client ? cfg->max_per_client : CTL_SIGNAL_MAX_PER_CLIENT;
    if (cfg->token && strlen(cfg->token) > CTL_SIGNAL_TOKEN_MAX) {
        snprintf(err, errlen, "signaling: the token is longer than %d characters",
                 CTL_SIGNAL_TOKEN_MAX);
        free(s);
        return -EINVAL;
    }
    snprintf(s->token, sizeof(s->token), "%s", cfg->token ? cfg->token : "");
    if (cfg->origins && strlen(cfg->origins) > CTL_SIGNAL_ORIGINS_MAX) {
        snprintf(err, errlen, "signaling: the origin list is longer than %d characters",
                 CTL_SIGNAL_ORIGINS_MAX);
        free(s);
        return -EINVAL;
    }
    snprintf(s->origins, sizeof(s->origins), "%s", cfg->origins ? cfg->origins : "");
    s->wake[0] = s->wake[1] = -1;
    for (int i = 0; i < CTL_SIGNAL_MAX_CLIENTS; i++)
        s->conn[i].fd = -1;
    s->listen_fd = -1;
    *out = s;
    return 0;
}

int ctl_signal_start(struct ctl_signal **out, const struct ctl_signal_config *cfg,
                     const struct ctl_signal_ops *ops, void *arg, char *err, size_t errlen)
{
    *out = NULL;
    uint32_t ip = cfg->ip;
    uint16_t port = cfg->port;
    struct ctl_signal *s;
    int rc = server_new(&s, cfg, ops, arg, err, errlen);
    if (rc != 0)
        return rc;
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0)
        goto fail_errno;
    int one = 1;
    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(s->listen_fd, 128) != 0)
        goto fail_errno;
    socklen_t sl = sizeof(sa);
    if (getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
        goto fail_errno;
    s->port = ntohs(sa.sin_port);
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        goto fail_errno;
    rc = pthread_create(&s->thread, NULL, signal_thread, s);
    if (rc != 0) {
        errno = rc;
        goto fail_errno;
    }
    *out = s;
    return 0;
fail_errno:
    rc = -errno;
    snprintf(err, errlen, "signaling on %u.%u.%u.%u:%u: %s", ip >> 24, (ip >> 16) & 255,
             (ip >> 8) & 255, ip & 255, (unsigned)port, strerror(errno));
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    free(s);
    return rc;
}

void ctl_signal_stop(struct ctl_signal *s)
{
    if (s == NULL)
        return;
    char b = 1;
    while (write(s->wake[1], &b, 1) < 0 && errno == EINTR)
        ;
    pthread_join(s->thread, NULL);
    for (int i = 0; i < CTL_SIGNAL_MAX_CLIENTS; i++)
        if (s->conn[i].state != CONN_FREE)
            conn_close(&s->conn[i]);
    close(s->listen_fd);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s);
}

uint16_t ctl_signal_port(const struct ctl_signal *s)
{
    return s->port;
}

void ctl_signal_stats(const struct ctl_signal *s, struct ctl_signal_stats *out)
{
    *out = (struct ctl_signal_stats){
        .requests = __atomic_load_n(&s->counter[C_REQUESTS], __ATOMIC_RELAXED),
        .sessions_opened = __atomic_load_n(&s->counter[C_OPENED], __ATOMIC_RELAXED),
        .sessions_closed = __atomic_load_n(&s->counter[C_CLOSED], __ATOMIC_RELAXED),
        .rejected_4xx = __atomic_load_n(&s->counter[C_4XX], __ATOMIC_RELAXED),
        .errors_5xx = __atomic_load_n(&s->counter[C_5XX], __ATOMIC_RELAXED),
        .timeouts = __atomic_load_n(&s->counter[C_TIMEOUTS], __ATOMIC_RELAXED),
        .refused = __atomic_load_n(&s->counter[C_REFUSED], __ATOMIC_RELAXED),
        .refused_per_client = __atomic_load_n(&s->counter[C_REFUSED_CLIENT], __ATOMIC_RELAXED),
    };
}

int ctl_signal_new_detached(struct ctl_signal **out, const struct ctl_signal_config *cfg,
                            const struct ctl_signal_ops *ops, void *arg, char *err, size_t errlen)
{
    return server_new(out, cfg, ops, arg, err, errlen);
}

void ctl_signal_reset_detached(struct ctl_signal *s)
{
    memset(&s->sessions, 0, sizeof(s->sessions));
    memset(s->counter, 0, sizeof(s->counter));
    s->etag_seq = 0;
    s->conn[0].state = CONN_FREE;
}

void ctl_signal_free_detached(struct ctl_signal *s)
{
    free(s);
}

int ctl_signal_feed(struct ctl_signal *s, uint32_t client, const char *bytes, size_t n, bool eof,
                    const char **resp, size_t *resp_len)
{
    struct conn *c = &s->conn[0];
    *resp = NULL;
    *resp_len = 0;
    if (c->state == CONN_FREE) {
        /* what accept_all does for a new connection, without its fd */
        c->fd = -1;
        c->client = client;
        c->state = CONN_READ;
        c->sent_continue = false;
        c->cors[0] = '\0';
        c->in_len = 0;
        c->out_len = c->out_off = 0;
    }
    size_t room = CTL_SIGNAL_MAX_REQUEST - c->in_len;
    if (n > room)
        n = room;
    memcpy(c->in + c->in_len, bytes, n);
    c->in_len += n;
    on_received(s, c, eof);
    if (c->state == CONN_WRITE) {
        *resp = c->out;
        *resp_len = c->out_len;
        c->state = CONN_FREE; /* answered: the connection ends */
        return 1;
    }
    return c->state == CONN_FREE ? -1 : 0;
}
