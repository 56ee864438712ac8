/* SPDX-License-Identifier: MIT */
/* The WHIP server on 127.0.0.1, port 0, with fake session ops, driven by raw
 * sockets and by curl: every route and status, CORS, limits, slow clients. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "external.h"
#include "ice.h"
#include "signaling.h"
#include "signaling_internal.h"

extern char **environ;

#define FP_TEXT                                                                                    \
    "94:7F:81:53:63:32:08:31:7E:FF:94:21:99:AF:D9:F0:FA:8E:00:3F:B6:02:F9:E7:81:D2:3F:6A:49:0D:"   \
    "B5:9F"

static const char OFFER[] =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Kz2P\r\na=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

/* The fake dataplane: agent 7 serves, agent 8 is busy, agent 9 picks an
 * illegal DTLS role, the rest do not exist. */
#define MAX_SESS 1024
static struct fake {
    pthread_mutex_t lock;
    bool open[MAX_SESS];
    bool ended[MAX_SESS]; /* ended on its own (the peer left): not alive */
    int next;
    int opens, closes;
    char last_ufrag[SDP_ICE_MAX + 1];
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int fake_open(void *arg, uint32_t agent, const struct sdp_offer *offer,
                     struct sdp_local *local, bool *setup_active, char *reason, size_t cap)
{
    struct fake *f = arg;
    if (agent == 8) {
        snprintf(reason, cap, "agent 8 is busy");
        return -409;
    }
    if (agent != 7 && agent != 9) {
        snprintf(reason, cap, "no agent %u", agent);
        return -404;
    }
    pthread_mutex_lock(&f->lock);
    if (f->next == MAX_SESS) {
        pthread_mutex_unlock(&f->lock);
        snprintf(reason, cap, "no free session");
        return -503;
    }
    int sid = f->next++;
    f->open[sid] = true;
    f->opens++;
    memcpy(f->last_ufrag, offer->ice_ufrag, sizeof(f->last_ufrag));
    pthread_mutex_unlock(&f->lock);
    snprintf(local->ufrag, sizeof(local->ufrag), "sg%02d", sid % 100);
    snprintf(local->pwd, sizeof(local->pwd), "0123456789abcdefghijklmn");
    for (int i = 0; i < 32; i++)
        local->fingerprint[i] = (uint8_t)i;
    local->ip = 0x7f000001;
    local->port = 40000;
    if (agent == 9 && offer->setup == SDP_SETUP_ACTIVE)
        *setup_active = true; /* both active: contradicts the offer */
    return sid;
}

static int fake_close(void *arg, int id)
{
    struct fake *f = arg;
    int rc = -404;
    pthread_mutex_lock(&f->lock);
    if (id >= 0 && id < MAX_SESS && f->open[id]) {
        f->open[id] = false;
        f->closes++;
        rc = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static bool fake_alive(void *arg, int id)
{
    struct fake *f = arg;
    pthread_mutex_lock(&f->lock);
    bool alive = id >= 0 && id < MAX_SESS && f->open[id] && !f->ended[id];
    pthread_mutex_unlock(&f->lock);
    return alive;
}

static const struct ctl_signal_ops ops = {
    .open = fake_open, .close = fake_close, .alive = fake_alive};
static struct ctl_signal *srv;
static uint16_t port;

/* Starts the server on 127.0.0.1, an ephemeral port, with cfg's settings. */
static void start_with(struct ctl_signal_config cfg)
{
    char err[256];
    cfg.ip = 0x7f000001;
    cr_assert_eq(ctl_signal_start(&srv, &cfg, &ops, &fake, err, sizeof(err)), 0, "%s", err);
    port = ctl_signal_port(srv);
    cr_assert_neq(port, 0);
}

static void start_with_timeout(uint32_t ms)
{
    start_with((struct ctl_signal_config){.timeout_ms = ms});
}

static void start(void)
{
    start_with_timeout(0);
}

static void stop(void)
{
    ctl_signal_stop(srv);
    srv = NULL;
}

TestSuite(signal, .init = start, .fini = stop);

/* The address the test's connections come from (127.0.0.0/8 is all
 * loopback): other clients, for the per-client limits. */
static uint32_t src_ip = 0x7f000001;

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(src_ip)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0, "%s", strerror(errno));
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        cr_assert_gt(w, 0, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* Reads until the server closes. */
static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == cap - 1)
            break;
    }
    buf[len] = '\0';
    return len;
}

struct resp {
    int status;
    char text[32768];
    const char *body;
};

static void exchange(const char *req, size_t n, struct resp *r)
{
    int fd = dial();
    send_all(fd, req, n);
    size_t len = read_all(fd, r->text, sizeof(r->text));
    close(fd);
    cr_assert_gt(len, 12, "no response to: %.60s", req);
    cr_assert_eq(sscanf(r->text, "HTTP/1.1 %d ", &r->status), 1, "%s", r->text);
    const char *b = strstr(r->text, "\r\n\r\n");
    cr_assert_not_null(b);
    r->body = b + 4;
}

/* A request with more header lines (`headers`: each ending in CRLF, or NULL). */
static void request_h(const char *method, const char *path, const char *headers, const char *type,
                      const char *body, struct resp *r)
{
    static char req[80000];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                     headers ? headers : "");
    if (type)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Type: %s\r\n", type);
    if (body)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Length: %zu\r\n", strlen(body));
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n%s", body ? body : "");
    exchange(req, (size_t)n, r);
}

static void request(const char *method, const char *path, const char *type, const char *body,
                    struct resp *r)
{
    request_h(method, path, NULL, type, body, r);
}

static const char *header(const struct resp *r, const char *name)
{
    static char v[512];
    char pat[128];
    snprintf(pat, sizeof(pat), "\r\n%s: ", name);
    const char *h = strstr(r->text, pat);
    if (h == NULL || h > r->body)
        return NULL;
    h += strlen(pat);
    size_t n = strcspn(h, "\r");
    snprintf(v, sizeof(v), "%.*s", (int)n, h);
    return v;
}

static void assert_error(const struct resp *r, int status, const char *reason)
{
    cr_assert_eq(r->status, status, "%s", r->text);
    cr_assert_not_null(strstr(r->body, reason), "body '%s', want '%s'", r->body, reason);
    cr_assert_null(header(r, "Access-Control-Allow-Origin"), "no CORS without --signal-origin");
    const char *ct = header(r, "Content-Type");
    cr_assert(ct && strncmp(ct, "text/plain", 10) == 0);
    cr_assert_eq(strchr(r->body, '\n'), r->body + strlen(r->body) - 1, "one line: '%s'", r->body);
}

static struct resp r;

/* A session id is 32 lower-case hex digits. */
static bool is_session_id(const char *p)
{
    size_t n = strspn(p, "0123456789abcdef");
    return n == 32 && p[n] == '\0';
}

/* POSTs the offer; the session's path (its Location), valid until the next
 * call. */
static const char *post_offer(void)
{
    static char loc[128];
    request("POST", "/whip/agents/7", "application/sdp", OFFER, &r);
    cr_assert_eq(r.status, 201, "%s", r.text);
    const char *l = header(&r, "Location");
    cr_assert_not_null(l);
    snprintf(loc, sizeof(loc), "%s", l);
    cr_assert_eq(strncmp(loc, "/whip/sessions/", 15), 0, "%s", loc);
    cr_assert(is_session_id(loc + 15), "not 32 hex digits: %s", loc);
    return loc;
}

Test(signal, post_offer_returns_201_with_location_etag_and_an_answer_that_parses)
{
    post_offer();
    cr_assert_str_eq(header(&r, "Content-Type"), "application/sdp");
    cr_assert_not_null(header(&r, "ETag"));
    cr_assert_null(header(&r, "Access-Control-Allow-Origin"));
    cr_assert_null(header(&r, "Access-Control-Expose-Headers"));
    cr_assert_eq((size_t)atoi(header(&r, "Content-Length")), strlen(r.body));
    cr_assert_str_eq(fake.last_ufrag, "Kz2P");

    static struct sdp_offer ans;
    char why[256];
    cr_assert_eq(sdp_parse_offer(r.body, strlen(r.body), &ans, why, sizeof(why)), 0, "%s\n%s", why,
                 r.body);
    cr_assert(ans.ice_lite);
    cr_assert_eq(ans.setup, SDP_SETUP_ACTIVE); /* actpass: we prefer to be the DTLS client */
    cr_assert_str_eq(ans.ice_pwd, "0123456789abcdefghijklmn");
    cr_assert_eq(ans.fingerprint[31], 31);
    cr_assert_eq(ans.n_cand, 1);
    cr_assert_str_eq(ans.cand[0].ip, "127.0.0.1");
    cr_assert_eq(ans.cand[0].port, 40000);
    cr_assert_str_eq(ans.media[0].mid, "0");
}

Test(signal, offer_with_setup_active_is_answered_passive)
{
    char offer[sizeof(OFFER) + 8];
    const char *at = strstr(OFFER, "actpass");
    snprintf(offer, sizeof(offer), "%.*sactive%s", (int)(at - OFFER), OFFER, at + 7);
    request("POST", "/whip/agents/7", "application/sdp", offer, &r);
    cr_assert_eq(r.status, 201);
    cr_assert_not_null(strstr(r.body, "a=setup:passive\r\n"));
    /* an open that contradicts the offer: 500, and the session is closed again */
    int closes = fake.closes;
    request("POST", "/whip/agents/9", "application/sdp", offer, &r);
    assert_error(&r, 500, "DTLS role");
    cr_assert_eq(fake.closes, closes + 1);
}

Test(signal, delete_closes_the_session_once)
{
    char path[64];
    snprintf(path, sizeof(path), "%s", post_offer());
    request("DELETE", path, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_null(header(&r, "Access-Control-Allow-Origin"));
    request("DELETE", path, NULL, NULL, &r);
    assert_error(&r, 404, "no such session");
    request("DELETE", "/whip/sessions/99999999999", NULL, NULL, &r);
    assert_error(&r, 404, "no such session");
}

/* The bits in which two 32-hex-digit ids differ. */
static int bits_apart(const char *a, const char *b)
{
    int d = 0;
    for (int i = 0; i < 32; i++) {
        char x[2] = {a[i], 0}, y[2] = {b[i], 0};
        d += __builtin_popcount((unsigned)(strtoul(x, NULL, 16) ^ strtoul(y, NULL, 16)));
    }
    return d;
}

/* A neighbour of a hex id: the last digit one up (wrapping). */
static void neighbour(const char *path, int step, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *last = out + strlen(out) - 1;
    const char *hex = "0123456789abcdef";
    *last = hex[(strchr(hex, *last) - hex + 16 + step) % 16];
}

Test(signal, session_ids_are_128_random_bits_and_guessed_ones_are_404)
{
    char a[64], b[64], guess[64];
    snprintf(a, sizeof(a), "%s", post_offer());
    snprintf(b, sizeof(b), "%s", post_offer());
    /* 128 random bits each: two differ in about 64 of them */
    int d = bits_apart(a + 15, b + 15);
    cr_assert_geq(d, 24, "%s and %s differ in %d bits only", a, b, d);
    cr_assert_leq(d, 104, "%s and %s differ in %d bits", a, b, d);
    /* neighbours, the fake's own numbers, other spellings: no such session */
    int closes = fake.closes;
    const char *step[] = {a, b};
    for (int k = 0; k < 2; k++)
        for (int s = -1; s <= 1; s += 2) {
            neighbour(step[k], s, guess, sizeof(guess));
            request("DELETE", guess, NULL, NULL, &r);
            assert_error(&r, 404, "no such session");
            request("PATCH", guess, "application/trickle-ice-sdpfrag", "a=end-of-candidates", &r);
            cr_assert_eq(r.status, 404, "PATCH %s: %s", guess, r.text);
        }
    const char *other[] = {"/whip/sessions/0", "/whip/sessions/1",
                           "/whip/sessions/00000000000000000000000000000001"};
    for (size_t k = 0; k < sizeof(other) / sizeof(other[0]); k++) {
        request("DELETE", other[k], NULL, NULL, &r);
        assert_error(&r, 404, "no such session");
    }
    snprintf(guess, sizeof(guess), "%s", a);
    for (char *p = guess + 15; *p; p++)
        *p = (char)(*p >= 'a' ? *p - 'a' + 'A' : *p);
    request("DELETE", guess, NULL, NULL, &r);
    cr_assert_eq(r.status, 404, "ids are lower-case: %s", r.text);
    cr_assert_eq(fake.closes, closes, "a guessed id closed a session");
    request("DELETE", b, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    request("DELETE", a, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_eq(fake.closes, closes + 2);
}

static const char PREFLIGHT[] = "OPTIONS %s HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\n"
                                "Access-Control-Request-Method: %s\r\n"
                                "Access-Control-Request-Headers: content-type\r\n\r\n";

static void preflight(const char *path, const char *origin, const char *method)
{
    char req[512];
    int n = snprintf(req, sizeof(req), PREFLIGHT, path, origin, method);
    exchange(req, (size_t)n, &r);
}

Test(signal, without_allowed_origins_no_cors_and_browser_requests_are_403)
{
    /* OPTIONS without an Origin (not a browser): 204, no CORS headers */
    request("OPTIONS", "/whip/agents/7", NULL, NULL, &r);
    cr_assert_eq(r.status, 204, "%s", r.text);
    cr_assert_null(header(&r, "Access-Control-Allow-Origin"));
    cr_assert_null(header(&r, "Access-Control-Allow-Methods"));
    /* a page of any origin, even the host's own: refused, whatever the method */
    char path[64];
    snprintf(path, sizeof(path), "%s", post_offer());
    int opens = fake.opens, closes = fake.closes;
    static const char *const origin[] = {"http://evil.example", "http://127.0.0.1:8088", "null"};
    for (size_t i = 0; i < sizeof(origin) / sizeof(origin[0]); i++) {
        char h[128];
        snprintf(h, sizeof(h), "Origin: %s\r\n", origin[i]);
        preflight("/whip/agents/7", origin[i], "POST");
        assert_error(&r, 403, "origin");
        request_h("POST", "/whip/agents/7", h, "application/sdp", OFFER, &r);
        assert_error(&r, 403, "origin");
        request_h("POST", "/whip/agents/7", h, "text/plain", OFFER, &r); /* no preflight */
        assert_error(&r, 403, "origin");
        request_h("DELETE", path, h, NULL, NULL, &r);
        assert_error(&r, 403, "origin");
    }
    cr_assert_eq(fake.opens, opens, "a foreign page opened a session");
    cr_assert_eq(fake.closes, closes, "a foreign page ended a session");
}

static void start_cors(void)
{
    start_with((struct ctl_signal_config){.origins = "https://app.example, http://127.0.0.1:8000"});
}

TestSuite(signal_cors, .init = start_cors, .fini = stop);

Test(signal_cors, options_answers_the_preflight_of_an_allowed_origin_only)
{
    preflight("/whip/agents/7", "https://app.example", "POST");
    cr_assert_eq(r.status, 204, "%s", r.text);
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    cr_assert_str_eq(header(&r, "Vary"), "Origin");
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Methods"), "POST, DELETE, OPTIONS");
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Headers"), "Content-Type, Authorization");
    cr_assert_str_eq(header(&r, "Access-Control-Expose-Headers"), "Location");
    cr_assert_null(header(&r, "Content-Length"), "204 has no Content-Length");
    cr_assert_str_eq(r.body, "");
    preflight("/whip/agents/7", "http://127.0.0.1:8000", "POST");
    cr_assert_eq(r.status, 204, "%s", r.text);
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "http://127.0.0.1:8000");
    static const char *const foreign[] = {"https://evil.example",
                                          "https://app.example.evil",
                                          "http://app.example",
                                          "https://app.example:444",
                                          "http://127.0.0.1:8001",
                                          "null",
                                          ""};
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        preflight("/whip/agents/7", foreign[i], "POST");
        assert_error(&r, 403, "origin");
        cr_assert_null(header(&r, "Access-Control-Allow-Methods"));
    }
}

Test(signal_cors, an_allowed_page_opens_reads_the_location_and_deletes)
{
    const char *h = "Origin: https://app.example\r\n";
    request_h("POST", "/whip/agents/7", h, "application/sdp", OFFER, &r);
    cr_assert_eq(r.status, 201, "%s", r.text);
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    cr_assert_str_eq(header(&r, "Access-Control-Expose-Headers"), "Location");
    char path[64];
    snprintf(path, sizeof(path), "%s", header(&r, "Location"));
    preflight(path, "https://app.example", "DELETE");
    cr_assert_eq(r.status, 204, "%s", r.text);
    request_h("DELETE", path, "Origin: https://evil.example\r\n", NULL, NULL, &r);
    assert_error(&r, 403, "origin");
    request_h("DELETE", path, h, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    /* errors are readable by the allowed page too */
    request_h("DELETE", path, h, NULL, NULL, &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    /* clients that are not browsers send no Origin: served, without CORS */
    post_offer();
}

Test(signal_cors, a_star_admits_every_origin)
{
    stop();
    start_with((struct ctl_signal_config){.origins = "*"});
    preflight("/whip/agents/7", "https://anything.example", "POST");
    cr_assert_eq(r.status, 204, "%s", r.text);
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "*");
    request_h("POST", "/whip/agents/7", "Origin: null\r\n", "application/sdp", OFFER, &r);
    cr_assert_eq(r.status, 201, "%s", r.text);
    cr_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "*");
}

Test(signal, bad_offers_get_400_with_the_parser_reason)
{
    request("POST", "/whip/agents/7", "application/sdp", "garbage", &r);
    assert_error(&r, 400, "not SDP: first line is not v=0");
    char offer[sizeof(OFFER)];
    const char *at = strstr(OFFER, "a=fingerprint");
    const char *eol = strchr(at, '\n') + 1;
    snprintf(offer, sizeof(offer), "%.*s%s", (int)(at - OFFER), OFFER, eol);
    request("POST", "/whip/agents/7", "application/sdp", offer, &r);
    assert_error(&r, 400, "no a=fingerprint:sha-256");
    request("POST", "/whip/agents/7", "application/sdp",
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n",
            &r);
    assert_error(&r, 400, "no m=application UDP/DTLS/SCTP webrtc-datachannel line");
    request("POST", "/whip/agents/7", "application/sdp", "", &r);
    assert_error(&r, 400, "empty");
    /* both sides ice-lite */
    at = strstr(OFFER, "t=0 0\r\n") + 7;
    char lite[sizeof(OFFER) + 16];
    snprintf(lite, sizeof(lite), "%.*sa=ice-lite\r\n%s", (int)(at - OFFER), OFFER, at);
    request("POST", "/whip/agents/7", "application/sdp", lite, &r);
    assert_error(&r, 400, "ice-lite");
}

Test(signal, wrong_or_missing_content_type_is_415)
{
    request("POST", "/whip/agents/7", "text/plain", OFFER, &r);
    assert_error(&r, 415, "application/sdp");
    request("POST", "/whip/agents/7", NULL, OFFER, &r);
    assert_error(&r, 415, "application/sdp");
    request("POST", "/whip/agents/7", "Application/SDP; charset=utf-8", OFFER, &r);
    cr_assert_eq(r.status, 201, "media type is case-insensitive, parameters allowed");
}

Test(signal, open_errors_become_their_status)
{
    request("POST", "/whip/agents/99", "application/sdp", OFFER, &r);
    assert_error(&r, 404, "no agent 99");
    request("POST", "/whip/agents/8", "application/sdp", OFFER, &r);
    assert_error(&r, 409, "agent 8 is busy");
    request("POST", "/whip/agents/4294967296", "application/sdp", OFFER, &r);
    assert_error(&r, 404, "unknown agent");
    request("POST", "/whip/agents/x7", "application/sdp", OFFER, &r);
    assert_error(&r, 404, "unknown agent");
}

Test(signal, unknown_paths_404_other_methods_405_patch_says_no_trickle)
{
    request("GET", "/", NULL, NULL, &r);
    assert_error(&r, 404, "no such resource");
    request("POST", "/whip/agents/", "application/sdp", OFFER, &r);
    assert_error(&r, 404, "no such resource");
    request("GET", "/whip/agents/7", NULL, NULL, &r);
    assert_error(&r, 405, "method not allowed");
    cr_assert_str_eq(header(&r, "Allow"), "POST, OPTIONS");
    char path[64];
    snprintf(path, sizeof(path), "%s", post_offer());
    request("PATCH", path, "application/trickle-ice-sdpfrag",
            "a=candidate:1 1 udp 1 1.2.3.4 5 typ host", &r);
    assert_error(&r, 405, "trickle ICE (PATCH) is not supported");
    request("PUT", path, NULL, NULL, &r);
    assert_error(&r, 405, "method not allowed");
}

Test(signal, malformed_http_is_400_chunked_411_huge_413)
{
    const char *bad = "HELLO\r\n\r\n";
    exchange(bad, strlen(bad), &r);
    assert_error(&r, 400, "malformed request line");
    const char *chunked = "POST /whip/agents/7 HTTP/1.1\r\nContent-Type: application/sdp\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    exchange(chunked, strlen(chunked), &r);
    assert_error(&r, 411, "Content-Length");
    const char *nolen = "POST /whip/agents/7 HTTP/1.1\r\nContent-Type: application/sdp\r\n\r\n";
    exchange(nolen, strlen(nolen), &r);
    assert_error(&r, 411, "Content-Length");
    /* a body over 64 KiB, sent whole: the 413 still arrives */
    static char huge[70000];
    memset(huge, 'a', sizeof(huge) - 1);
    request("POST", "/whip/agents/7", "application/sdp", huge, &r);
    assert_error(&r, 413, "64 KiB");
    /* announced only */
    const char *big = "POST /whip/agents/7 HTTP/1.1\r\nContent-Type: application/sdp\r\n"
                      "Content-Length: 1000000000\r\n\r\n";
    exchange(big, strlen(big), &r);
    assert_error(&r, 413, "64 KiB");
    /* endless headers */
    static char hdrs[20000];
    int n = snprintf(hdrs, sizeof(hdrs), "GET / HTTP/1.1\r\n");
    while (n < 17000)
        n += snprintf(hdrs + n, sizeof(hdrs) - (size_t)n, "X-Pad: %0100d\r\n", 0);
    exchange(hdrs, (size_t)n, &r);
    assert_error(&r, 431, "16 KiB");
}

Test(signal, a_silent_client_does_not_block_others)
{
    int idle = dial();
    int half = dial();
    send_all(half, "POST /whip/agents/7 HTTP/1.1\r\nContent-Le", 40);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 5; i++)
        post_offer();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, 1.0, "5 offers took %.2f s beside a silent client", s);
    close(idle);
    close(half);
}

static void start_short(void)
{
    start_with_timeout(200);
}

Test(signal_slow, slow_clients_time_out, .init = start_short, .fini = stop)
{
    int idle = dial();
    char buf[512];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t n = read_all(idle, buf, sizeof(buf));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, 2.0, "closed after %.2f s", s);
    cr_assert_gt(n, 0);
    cr_assert_eq(strncmp(buf, "HTTP/1.1 408 ", 13), 0, "%s", buf);
    close(idle);
    struct ctl_signal_stats st;
    ctl_signal_stats(srv, &st);
    cr_assert_eq(st.timeouts, 1);
    post_offer(); /* still serving */
}

/* Takes every connection slot: CTL_SIGNAL_MAX_CLIENTS connections, from
 * as many clients as the per-client limit needs. */
static void take_every_slot(int *fds)
{
    for (int i = 0; i < CTL_SIGNAL_MAX_CLIENTS; i++) {
        src_ip = 0x7f000100 + (uint32_t)(i / CTL_SIGNAL_MAX_PER_CLIENT);
        fds[i] = dial();
    }
    src_ip = 0x7f000001;
    usleep(100000); /* the server accepts them all */
}

Test(signal, client_limit_refuses_with_503_and_recovers)
{
    int fds[CTL_SIGNAL_MAX_CLIENTS];
    take_every_slot(fds);
    request("POST", "/whip/agents/7", "application/sdp", OFFER, &r);
    cr_assert_eq(r.status, 503, "%s", r.text);
    for (int i = 0; i < CTL_SIGNAL_MAX_CLIENTS; i++)
        close(fds[i]);
    usleep(100000);
    post_offer();
    struct ctl_signal_stats st;
    ctl_signal_stats(srv, &st);
    cr_assert_eq(st.refused, 1);
}

Test(signal_slow, every_slot_held_idle_frees_after_the_timeout, .init = start_short, .fini = stop)
{
    int fds[CTL_SIGNAL_MAX_CLIENTS];
    take_every_slot(fds);
    usleep(400000); /* past the 200 ms deadline */
    post_offer();
    for (int i = 0; i < CTL_SIGNAL_MAX_CLIENTS; i++)
        close(fds[i]);
    struct ctl_signal_stats st;
    ctl_signal_stats(srv, &st);
    cr_assert_eq(st.timeouts, CTL_SIGNAL_MAX_CLIENTS);
    cr_assert_eq(st.refused, 0);
}

static void start_limit_4(void)
{
    start_with((struct ctl_signal_config){.max_per_client = 4});
}

Test(signal_limits, connections_per_client_beyond_the_limit_get_429, .init = start_limit_4,
     .fini = stop)
{
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = dial();
    usleep(100000);
    request("POST", "/whip/agents/7", "application/sdp", OFFER, &r);
    cr_assert_eq(r.status, 429, "a fifth connection of one client: %s", r.text);
    cr_assert_not_null(strstr(r.body, "connections"), "%s", r.body);
    src_ip = 0x7f000002; /* another client is served meanwhile */
    post_offer();
    src_ip = 0x7f000001;
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    usleep(100000);
    post_offer();
    struct ctl_signal_stats st;
    ctl_signal_stats(srv, &st);
    cr_assert_eq(st.refused_per_client, 1);
}

Test(signal_limits, a_session_that_ended_on_its_own_no_longer_counts, .init = start_limit_4,
     .fini = stop)
{
    src_ip = 0x7f000005;
    char first[64];
    snprintf(first, sizeof(first), "%s", post_offer());
    int first_sid = fake.next - 1;
    for (int i = 1; i < 4; i++)
        post_offer();
    request("POST", "/whip/agents/7", "application/sdp", OFFER, &r);
    assert_error(&r, 429, "sessions");
    pthread_mutex_lock(&fake.lock);
    fake.ended[first_sid] = true; /* the dataplane ended it: the peer went away */
    pthread_mutex_unlock(&fake.lock);
    post_offer();
    /* its id still reaches the ops: a late DELETE is answered as before */
    request("DELETE", first, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    src_ip = 0x7f000001;
}

Test(signal_limits, sessions_per_client_beyond_the_limit_get_429, .init = start_limit_4,
     .fini = stop)
{
    char first[64];
    src_ip = 0x7f000003;
    snprintf(first, sizeof(first), "%s", post_offer());
    for (int i = 1; i < 4; i++)
        post_offer();
    int opens = fake.opens;
    request("POST", "/whip/agents/7", "application/sdp", OFFER, &r);
    assert_error(&r, 429, "sessions");
    cr_assert_eq(fake.opens, opens, "the fifth session was opened");
    src_ip = 0x7f000004;
    post_offer(); /* another client's first */
    src_ip = 0x7f000003;
    request("DELETE", first, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    post_offer(); /* room again */
    src_ip = 0x7f000001;
}

Test(signal, random_bytes_never_stop_the_server)
{
    unsigned seed = 12345;
    static char junk[9000];
    for (int k = 0; k < 100; k++) {
        size_t n = 1 + (size_t)(rand_r(&seed) % (int)sizeof(junk));
        for (size_t i = 0; i < n; i++)
            junk[i] = (char)(rand_r(&seed) % 4 ? rand_r(&seed) : "\r\n :/"[rand_r(&seed) % 5]);
        if (k % 3 == 0)
            memcpy(junk, "POST /whip/agents/7 HTTP/1.1\r\n", n < 30 ? n : 30);
        int fd = dial();
        send(fd, junk, n, MSG_NOSIGNAL);
        if (k % 2)
            shutdown(fd, SHUT_WR);
        struct timeval tv = {.tv_usec = 20000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buf[256];
        while (recv(fd, buf, sizeof(buf), 0) > 0)
            ;
        close(fd);
    }
    post_offer();
}

Test(signal, many_sequential_requests_and_counters)
{
    struct ctl_signal_stats before, after;
    ctl_signal_stats(srv, &before);
    for (int i = 0; i < 200; i++) {
        char path[64];
        snprintf(path, sizeof(path), "%s", post_offer());
        request("DELETE", path, NULL, NULL, &r);
        cr_assert_eq(r.status, 200);
    }
    request("GET", "/nope", NULL, NULL, &r);
    ctl_signal_stats(srv, &after);
    cr_assert_eq(after.requests - before.requests, 401);
    cr_assert_eq(after.sessions_opened - before.sessions_opened, 200);
    cr_assert_eq(after.sessions_closed - before.sessions_closed, 200);
    cr_assert_eq(after.rejected_4xx - before.rejected_4xx, 1);
}

Test(signal, half_closed_client_still_gets_its_answer)
{
    static char req[4096];
    int n = snprintf(req, sizeof(req),
                     "POST /whip/agents/7 HTTP/1.0\r\nContent-Type: application/sdp\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(OFFER), OFFER);
    int fd = dial();
    send_all(fd, req, (size_t)n);
    shutdown(fd, SHUT_WR);
    read_all(fd, r.text, sizeof(r.text));
    close(fd);
    cr_assert_eq(strncmp(r.text, "HTTP/1.1 201 ", 13), 0, "%s", r.text);
}

static bool have_curl(void)
{
    return system("command -v curl >/dev/null 2>&1") == 0;
}

Test(signal, curl_posts_an_offer_and_deletes_the_session)
{
    if (!have_curl())
        cr_skip_test("curl not installed");
    char dir[] = "/tmp/sg_whip_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], cmd[1024];
    snprintf(path, sizeof(path), "%s/offer.sdp", dir);
    /* padded beyond 1 KiB with an ignored attribute so curl may send Expect: 100-continue */
    FILE *f = fopen(path, "w");
    fputs(OFFER, f);
    for (int i = 0; i < 30; i++)
        fprintf(f, "a=x-pad:%040d\r\n", i);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "curl -sS -i --max-time 5 -X POST -H 'Content-Type: application/sdp' "
             "--data-binary @%s http://127.0.0.1:%u/whip/agents/7 > %s/out 2>&1",
             path, port, dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(system(cmd), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, 0.9, "curl took %.2f s: was 100-continue answered?", s);
    snprintf(path, sizeof(path), "%s/out", dir);
    f = fopen(path, "r");
    size_t n = fread(r.text, 1, sizeof(r.text) - 1, f);
    fclose(f);
    r.text[n] = '\0';
    cr_assert_not_null(strstr(r.text, "HTTP/1.1 201 Created"), "%s", r.text);
    const char *loc = strstr(r.text, "Location: ");
    cr_assert_not_null(loc);
    char sid[40] = "";
    cr_assert_eq(sscanf(loc, "Location: /whip/sessions/%39[0-9a-f]", sid), 1);
    cr_assert(is_session_id(sid), "%s", sid);
    cr_assert_not_null(strstr(r.text, "a=ice-lite"));
    snprintf(cmd, sizeof(cmd),
             "curl -sS -o /dev/null -w '%%{http_code}' --max-time 5 -X DELETE "
             "http://127.0.0.1:%u/whip/sessions/%s > %s/code",
             port, sid, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/code", dir);
    f = fopen(path, "r");
    n = fread(r.text, 1, 16, f);
    fclose(f);
    r.text[n] = '\0';
    cr_assert_str_eq(r.text, "200");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Chromium, as a WHIP client on another origin (file://, allowed as
 * --signal-origin null): the preflight, the
 * POST, Location read through CORS, setRemoteDescription of our answer (with
 * the audio line rejected), the DELETE. The page logs each step; the test
 * waits for the DELETE to reach the fake ops. */
static const char WHIP_PAGE[] =
    "<!doctype html><meta charset=\"utf-8\"><script>\n"
    "const PORT = new URLSearchParams(location.search).get('port');\n"
    "const log = (m) => console.log('WHIP: ' + m);\n"
    "(async () => { try {\n"
    "  const pc = new RTCPeerConnection();\n"
    "  pc.addTransceiver('audio', {direction: 'sendrecv'});\n"
    "  pc.createDataChannel('x');\n"
    "  await pc.setLocalDescription();\n"
    "  await new Promise((r) => { pc.onicegatheringstatechange = () =>\n"
    "    pc.iceGatheringState === 'complete' && r(); setTimeout(r, 3000); });\n"
    "  const res = await fetch(`http://127.0.0.1:${PORT}/whip/agents/7`, {method: 'POST',\n"
    "    headers: {'Content-Type': 'application/sdp'}, body: pc.localDescription.sdp});\n"
    "  const loc = res.headers.get('Location'), sdp = await res.text();\n"
    "  log('status ' + res.status + ' location ' + loc);\n"
    "  await pc.setRemoteDescription({type: 'answer', sdp});\n"
    "  log('answer applied ' + pc.signalingState);\n"
    "  const del = await fetch(`http://127.0.0.1:${PORT}${loc}`, {method: 'DELETE'});\n"
    "  log('delete ' + del.status);\n"
    "} catch (e) { log('FAIL ' + e); } })();\n"
    "</script>\n";

/* A file:// page's origin is "null": it has to be allowed. */
static void start_null_origin(void)
{
    start_with((struct ctl_signal_config){.origins = "null"});
}

Test(signal_browser, chromium_posts_an_offer_applies_the_answer_and_deletes,
     .init = start_null_origin, .fini = stop, .timeout = 150)
{
    if (system("command -v chromium >/dev/null 2>&1") != 0) {
        if (getenv("SWARMGEN_REQUIRE_CHROMIUM"))
            cr_assert_fail("chromium is not installed");
        cr_skip_test("chromium is not installed (tools/install-deps test installs it)");
    }
    char dir[] = "/tmp/sg_whip_chr_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char page[128], url[256], profile[160], errlog[160];
    snprintf(page, sizeof(page), "%s/page.html", dir);
    snprintf(url, sizeof(url), "file://%s?port=%u", page, port);
    snprintf(profile, sizeof(profile), "--user-data-dir=%s/profile", dir);
    snprintf(errlog, sizeof(errlog), "%s/stderr", dir);
    FILE *f = fopen(page, "w");
    fputs(WHIP_PAGE, f);
    fclose(f);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0); /* its renderers too, for the kill below */
        freopen(errlog, "w", stderr);
        freopen("/dev/null", "w", stdout);
        char *argv[] = {"chromium",
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--enable-logging=stderr",
                        "--v=0",
                        profile,
                        url,
                        NULL};
        execvp("chromium", argv);
        _exit(127);
    }
    setpgid(pid, pid);
    int closes = 0;
    for (int i = 0; i < 1200 && closes == 0; i++) {
        usleep(100000);
        pthread_mutex_lock(&fake.lock);
        closes = fake.closes;
        pthread_mutex_unlock(&fake.lock);
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            pid = -1;
            break;
        }
    }
    usleep(300000); /* the page logs the DELETE's status */
    if (pid > 0) {
        kill(-pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "grep -o 'WHIP: [^\"]*' %s", errlog);
    FILE *p = popen(cmd, "r");
    size_t n = fread(r.text, 1, sizeof(r.text) - 1, p);
    pclose(p);
    r.text[n] = '\0';
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(closes, 1, "the page did not DELETE its session; it logged:\n%s", r.text);
    cr_assert_not_null(strstr(r.text, "WHIP: status 201 location /whip/sessions/"), "%s", r.text);
    cr_assert_not_null(strstr(r.text, "WHIP: answer applied stable"), "%s", r.text);
    cr_assert_not_null(strstr(r.text, "WHIP: delete 200"), "%s", r.text);
}

Test(signal_addr, parse_addr_accepts_addr_port_and_port_alone)
{
    uint32_t ip;
    uint16_t p;
    char err[128];
    cr_assert_eq(ctl_signal_parse_addr("127.0.0.1:8088", &ip, &p, err, sizeof(err)), 0);
    cr_assert_eq(ip, 0x7f000001);
    cr_assert_eq(p, 8088);
    cr_assert_eq(ctl_signal_parse_addr(":9000", &ip, &p, err, sizeof(err)), 0);
    cr_assert_eq(ip, 0x7f000001, "loopback by default");
    cr_assert_eq(p, 9000);
    cr_assert_eq(ctl_signal_parse_addr("0.0.0.0:1", &ip, &p, err, sizeof(err)), 0);
    cr_assert_eq(ip, 0);
    cr_assert_eq(ctl_signal_parse_addr("10.1.2.3:65535", &ip, &p, err, sizeof(err)), 0);
    cr_assert_eq(ip, 0x0a010203);
    cr_assert_eq(ctl_signal_parse_addr("8088", &ip, &p, err, sizeof(err)), -EINVAL);
    cr_assert_not_null(strstr(err, "ADDR:PORT"));
    cr_assert_eq(ctl_signal_parse_addr("1.2.3:80", &ip, &p, err, sizeof(err)), -EINVAL);
    cr_assert_eq(ctl_signal_parse_addr("1.2.3.4:65536", &ip, &p, err, sizeof(err)), -EINVAL);
    cr_assert_eq(ctl_signal_parse_addr("1.2.3.4:", &ip, &p, err, sizeof(err)), -EINVAL);
    cr_assert_eq(ctl_signal_parse_addr("1.2.3.4:-1", &ip, &p, err, sizeof(err)), -EINVAL);
}

Test(signal_addr, start_on_a_taken_port_fails_with_the_reason)
{
    struct ctl_signal *a, *b;
    char err[256];
    struct ctl_signal_config cfg = {.ip = 0x7f000001};
    cr_assert_eq(ctl_signal_start(&a, &cfg, &ops, &fake, err, sizeof(err)), 0, "%s", err);
    cfg.port = ctl_signal_port(a);
    int rc = ctl_signal_start(&b, &cfg, &ops, &fake, err, sizeof(err));
    cr_assert_eq(rc, -EADDRINUSE, "%d %s", rc, err);
    cr_assert_null(b);
    cr_assert_not_null(strstr(err, "127.0.0.1"));
    ctl_signal_stop(a);
    ctl_signal_stop(NULL);
}

/* ---- the WHIP server of external sessions (control/signal/external.c) ---- */

static struct ri_external *ext_x;
static struct ctl_external ext;
static struct ri_agent ext_agents[4];

static void start_external(void)
{
    ext_x = calloc(1, sizeof(*ext_x));
    cr_assert_not_null(ext_x);
    ctl_external_prepare(ext_x, RI_EXT_ECHO, 2, "net_ring0", 0);
    for (uint32_t i = 0; i < 4; i++)
        ext_agents[i].ip = 0xc6120001u + i;
    char err[256];
    cr_assert_eq(ctl_external_start(&ext, ext_x, ext_agents, 4, RI_EXT_ECHO, false, "127.0.0.1:0",
                                    NULL, err, sizeof(err)),
                 0, "%s", err);
    port = ext.signal_port;
}

static void stop_external(void)
{
    ctl_external_stop(&ext);
    free(ext_x);
}

TestSuite(signal_external, .init = start_external, .fini = stop_external);

/* OFFER with its ICE credentials replaced. */
static void offer_with(char *out, size_t cap, const char *ufrag, const char *pwd)
{
    const char *u = strstr(OFFER, "a=ice-ufrag:"), *p = strstr(OFFER, "a=ice-options:");
    snprintf(out, cap, "%.*sa=ice-ufrag:%s\r\na=ice-pwd:%s\r\n%s", (int)(u - OFFER), OFFER, ufrag,
             pwd, p);
}

/* RFC 8839 allows ice-ufrag and ice-pwd up to 256 characters, the SDP
 * parser takes them, but the ICE agent keeps ICE_UFRAG_MAX and ICE_PWD_MAX:
 * an offer beyond gets 400 with the limit, never 201 and a session that
 * fails without a word. */
Test(signal_external, ice_credentials_beyond_the_agent_limits_get_400)
{
    char body[4096], uf[ICE_UFRAG_MAX + 2], pw[ICE_PWD_MAX + 2];
    const char pw_ok[] = "6t8tG0Rzn1G9wXHbzV5xx2J3";
    memset(uf, 'u', sizeof(uf));
    uf[ICE_UFRAG_MAX + 1] = 0; /* one too long */
    offer_with(body, sizeof(body), uf, pw_ok);
    request("POST", "/whip/agents/1", "application/sdp", body, &r);
    assert_error(&r, 400, "ice-ufrag");
    cr_assert_not_null(strstr(r.body, "32"), "the limit is said: %s", r.body);
    memset(pw, 'p', sizeof(pw));
    pw[ICE_PWD_MAX + 1] = 0;
    offer_with(body, sizeof(body), "Kz2P", pw);
    request("POST", "/whip/agents/1", "application/sdp", body, &r);
    assert_error(&r, 400, "ice-pwd");
    cr_assert_eq(ext_x->slot[0].seq, 0, "no session was requested");
    /* at the limits: accepted, and the ICE agent takes them */
    uf[ICE_UFRAG_MAX] = 0;
    pw[ICE_PWD_MAX] = 0;
    offer_with(body, sizeof(body), uf, pw);
    request("POST", "/whip/agents/1", "application/sdp", body, &r);
    cr_assert_eq(r.status, 201, "%s", r.text);
    cr_assert_str_eq(ext_x->slot[0].remote_ufrag, uf);
    cr_assert_str_eq(ext_x->slot[0].remote_pwd, pw);
    struct ice_agent a;
    struct ice_config ic = {ICE_CONTROLLED, false, 1, 1, ext_x->slot[0].local_ufrag,
                            ext_x->slot[0].local_pwd, ext_x->slot[0].remote_ufrag,
                            ext_x->slot[0].remote_pwd, {4, 1, {0}}};
    cr_assert_eq(ice_init(&a, &ic), 0);
}

/* Our ICE credentials come from getrandom for every offer, never from the
 * run seed: two sessions of one run (and two runs) answer differently. */
Test(signal_external, every_session_gets_its_own_ice_credentials)
{
    char uf[2][9], pw[2][25];
    for (int i = 0; i < 2; i++) {
        request("POST", "/whip/agents/1", "application/sdp", OFFER, &r);
        cr_assert_eq(r.status, 201, "%s", r.text);
        cr_assert_eq(sscanf(strstr(r.body, "a=ice-ufrag:"), "a=ice-ufrag:%8s", uf[i]), 1);
        cr_assert_eq(sscanf(strstr(r.body, "a=ice-pwd:"), "a=ice-pwd:%24s", pw[i]), 1);
        cr_assert_str_eq(ext_x->slot[i].local_ufrag, uf[i]);
    }
    cr_assert_str_neq(uf[0], uf[1]);
    cr_assert_str_neq(pw[0], pw[1]);
    char u[9], p[25];
    cr_assert_eq(ctl_external_credentials(u, p), 0);
    cr_assert_eq(strlen(u), 8);
    cr_assert_eq(strlen(p), 24);
}

#define TOKEN "s3cret-Token_1.x~"

static void start_token(void)
{
    start_with((struct ctl_signal_config){.token = TOKEN});
}

static void assert_401(const struct resp *res, const char *what)
{
    cr_assert_eq(res->status, 401, "%s: %s", what, res->text);
    cr_assert_str_eq(header(res, "WWW-Authenticate"), "Bearer", "%s", res->text);
}

Test(signal_token, post_delete_and_patch_need_the_bearer_token, .init = start_token, .fini = stop)
{
    static const char *const wrong[] = {
        NULL,
        "Authorization: Bearer wrong\r\n",
        "Authorization: Bearer s3cret-Token_1.x\r\n",   /* a prefix */
        "Authorization: Bearer s3cret-Token_1.x~~\r\n", /* longer */
        "Authorization: Bearer S3CRET-TOKEN_1.X~\r\n",  /* the token is case-sensitive */
        "Authorization: Basic s3cret-Token_1.x~\r\n",   /* another scheme */
        "Authorization: Bearer\r\n",
        "Authorization: s3cret-Token_1.x~\r\n",
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        request_h("POST", "/whip/agents/7", wrong[i], "application/sdp", OFFER, &r);
        assert_401(&r, wrong[i] ? wrong[i] : "no Authorization");
    }
    cr_assert_eq(fake.opens, 0, "an offer without the token opened a session");
    const char *good = "Authorization: Bearer " TOKEN "\r\n";
    request_h("POST", "/whip/agents/7", good, "application/sdp", OFFER, &r);
    cr_assert_eq(r.status, 201, "%s", r.text);
    char path[64];
    snprintf(path, sizeof(path), "%s", header(&r, "Location"));
    request_h("POST", "/whip/agents/7", "authorization: bearer " TOKEN "\r\n", "application/sdp",
              OFFER, &r);
    cr_assert_eq(r.status, 201, "the scheme and the header name are case-insensitive: %s", r.text);

    request("DELETE", path, NULL, NULL, &r);
    assert_401(&r, "DELETE without the token");
    request_h("DELETE", path, "Authorization: Bearer wrong\r\n", NULL, NULL, &r);
    assert_401(&r, "DELETE with a wrong token");
    request("PATCH", path, "application/trickle-ice-sdpfrag", "a=end-of-candidates", &r);
    assert_401(&r, "PATCH without the token");
    cr_assert_eq(fake.closes, 0);
    /* the preflight carries no credentials (browsers never send them there) */
    request("OPTIONS", path, NULL, NULL, &r);
    cr_assert_eq(r.status, 204, "%s", r.text);
    request_h("DELETE", path, good, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_eq(fake.closes, 1);
}

/* The detached server (signaling_internal.h, what fuzz_whip_requests
 * drives) runs the same state machine as the thread: a POST fed one byte
 * at a time is answered once its body is complete, an early close is
 * not answered, and the session it opened ends with a DELETE. */
Test(signal_detached, a_request_fed_a_byte_at_a_time_is_answered_once_its_body_is_complete)
{
    struct ctl_signal *d;
    char err[128];
    cr_assert_eq(ctl_signal_new_detached(&d, &(struct ctl_signal_config){0}, &ops, &fake, err, sizeof(err)), 0, "%s", err);
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "POST /whip/agents/7 HTTP/1.1\r\nContent-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(OFFER), OFFER);
    const char *resp;
    size_t len;
    int opens = fake.opens;
    for (int i = 0; i < n - 1; i++)
        cr_assert_eq(ctl_signal_feed(d, 0x7f000001, req + i, 1, false, &resp, &len), 0, "byte %d", i);
    cr_assert_eq(ctl_signal_feed(d, 0x7f000001, req + n - 1, 1, false, &resp, &len), 1);
    cr_assert_eq(strncmp(resp, "HTTP/1.1 201 ", 13), 0, "%.*s", (int)len, resp);
    cr_assert_eq(fake.opens, opens + 1);
    const char *loc = strstr(resp, "Location: /whip/sessions/");
    cr_assert_not_null(loc);
    char del[128];
    int dn = snprintf(del, sizeof(del), "DELETE /whip/sessions/%.32s HTTP/1.1\r\n\r\n", loc + 25);
    cr_assert_eq(ctl_signal_feed(d, 0x7f000001, req, 40, true, &resp, &len), -1, "closed before a whole request");
    cr_assert_eq(ctl_signal_feed(d, 0x7f000001, del, (size_t)dn, false, &resp, &len), 1);
    cr_assert_eq(strncmp(resp, "HTTP/1.1 200 ", 13), 0, "%.*s", (int)len, resp);
    ctl_signal_free_detached(d);
}
