/* SPDX-License-Identifier: MIT */
/* The target thread: session scheduling, the request pool, the slots, the
 * results, and the API of target.h. What the flows call on a session is in
 * target_sess.c; the flows of WHIP and Janus in whip_client.c and
 * janus_client.c. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "external.h"
#include "splitmix.h"
#include "target_sess.h"

#define WATCH_NS (20ull * 1000000ull) /* slots and keepalives looked at every 20 ms */

static const char *const cause_names[] = {
#define CTL_TARGET_CAUSE_NAME(id, name) name,
    CTL_TARGET_CAUSES(CTL_TARGET_CAUSE_NAME)
#undef CTL_TARGET_CAUSE_NAME
};

const char *ctl_target_cause_name(enum ctl_target_cause c)
{
    return (unsigned)c < CTL_TGT_CAUSE_COUNT ? cause_names[c] : "?";
}

uint64_t tgt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ctl_target_parse(const char *spec, struct ctl_target_config *cfg, char *err, size_t errlen)
{
    const char *url;
    if (strncmp(spec, "whip:", 5) == 0) {
        cfg->kind = CTL_TARGET_WHIP;
        url = spec + 5;
    } else if (strncmp(spec, "janus:", 6) == 0) {
        cfg->kind = CTL_TARGET_JANUS;
        url = spec + 6;
    } else if (strncmp(spec, "janus-videoroom:", 16) == 0) {
        cfg->kind = CTL_TARGET_JANUS_VR;
        url = spec + 16;
    } else {
        snprintf(err, errlen, "--target %s: want whip:URL, janus:URL or janus-videoroom:URL,rooms=R,publishers=P",
                 spec);
        return -EINVAL;
    }
    char ubuf[sizeof(cfg->url)];
    if (cfg->kind == CTL_TARGET_JANUS_VR) {
        cfg->rooms = cfg->publishers = 1;
        const char *comma = strchr(url, ',');
        size_t ul = comma ? (size_t)(comma - url) : strlen(url);
        if (ul >= sizeof(ubuf)) {
            snprintf(err, errlen, "--target: the URL is longer than %zu characters", sizeof(ubuf) - 1);
            return -EINVAL;
        }
        memcpy(ubuf, url, ul);
        ubuf[ul] = '\0';
        for (const char *p = comma; p && *p;) {
            p++;
            const char *end = strchr(p, ',');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            uint32_t *dst = n > 6 && strncmp(p, "rooms=", 6) == 0         ? &cfg->rooms
                            : n > 11 && strncmp(p, "publishers=", 11) == 0 ? &cfg->publishers
                                                                          : NULL;
            const char *v = dst == &cfg->rooms ? p + 6 : p + 11;
            char *ve = NULL;
            unsigned long x = dst ? strtoul(v, &ve, 10) : 0;
            if (!dst || ve != p + n || *v < '0' || *v > '9' || x == 0 ||
                x > (dst == &cfg->rooms ? RI_TARGET_MAX : RI_TARGET_FEEDS)) {
                snprintf(err, errlen,
                         "--target %s: '%.*s' is not rooms=R (1..%u) or publishers=P (1..%u)", spec,
                         (int)n, p, RI_TARGET_MAX, RI_TARGET_FEEDS);
                return -EINVAL;
            }
            *dst = (uint32_t)x;
            p = end;
        }
        url = ubuf;
    }
    size_t scheme = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (scheme == 0) {
        snprintf(err, errlen, "--target %s: the URL must start with http:// or https://", spec);
        return -EINVAL;
    }
    if (url[scheme] == '\0' || url[scheme] == '/' || url[scheme] == ':') {
        snprintf(err, errlen, "--target %s: the URL has no host", spec);
        return -EINVAL;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            snprintf(err, errlen, "--target %s: the URL has a space or control character", spec);
            return -EINVAL;
        }
    }
    if (strlen(url) >= sizeof(cfg->url)) {
        snprintf(err, errlen, "--target: the URL is longer than %zu characters",
                 sizeof(cfg->url) - 1);
        return -EINVAL;
    }
    snprintf(cfg->url, sizeof(cfg->url), "%s", url);
    return 0;
}

uint32_t ctl_target_feeds(const char *spec)
{
    struct ctl_target_config c = {0};
    char err[256];
    if (!spec || ctl_target_parse(spec, &c, err, sizeof(err)) < 0 || c.kind != CTL_TARGET_JANUS_VR)
        return 0;
    return c.publishers;
}

/* ---- the thread ---- */

static void release(struct ctl_target *tg, struct tsess *s)
{
    if (s->req >= 0) {
        tg->pool_free[tg->n_free++] = s->req;
        s->req = -1;
    }
}

static void serve_queue(struct ctl_target *tg)
{
    uint32_t n = tg->cfg.n_sessions;
    while (tg->q_len > 0 && tg->n_free > 0) {
        struct tsess *s = &tg->sess[tg->queue[tg->q_head]];
        tg->q_head = (tg->q_head + 1) % n;
        tg->q_len--;
        s->queued = false;
        if (s->state != TS_SIGNAL && s->state != TS_LIVE && s->state != TS_TEARDOWN)
            continue;
        int32_t ri = tg->pool_free[--tg->n_free];
        struct tgt_req *r = &tg->pool[ri];
        s->req = ri;
        r->owner = s->idx;
        r->what = s->step;
        int rc = tg->flow->send(tg, s, r);
        if (rc < 0) {
            release(tg, s);
            if (s->state == TS_SIGNAL)
                tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "cannot make the request (%s)",
                         strerror(-rc));
            else if (s->state == TS_TEARDOWN)
                tgt_ended(tg, s, false);
            continue;
        }
        TGT_ADD(tg->res.http_requests, 1);
        tg->res.client[s->idx].requests++;
    }
}

static void start_session(struct ctl_target *tg, struct tsess *s, uint64_t now)
{
    struct ctl_target_client *c = &tg->res.client[s->idx];
    c->started = 1;
    c->t_start_ns = now;
    TGT_ADD(tg->res.started, 1);
    uint64_t sec = (now - tg->t0_ns) / 1000000000ull;
    TGT_ADD(tg->res.starts_per_s[sec < 600 ? sec : 599], 1);
    s->state = TS_SIGNAL;
    s->ssrc = (uint32_t)splitmix64(&tg->rng) | 1u;
    if (ctl_external_credentials(s->ufrag, s->pwd) != 0) {
        tgt_fail(tg, s, CTL_TGT_CAUSE_PROTOCOL, 0, "no random bytes for ICE credentials");
        return;
    }
    tgt_want(tg, s, 0);
}

/* Sessions to start per second now: --join-rate, or with ramped joins
 * what the profile says (-1: none, before and after the load). */
static double join_rate_now(struct ctl_target *tg, uint64_t now)
{
    if (!tg->cfg.join_ramp)
        return tg->cfg.join_rate;
    uint32_t on = __atomic_load_n(&tg->joins_on, __ATOMIC_ACQUIRE);
    if (on != tg->joins_seen) {
        if (on == 1) { /* the load began: its clock */
            tg->t0_ns = tg->last_tok_ns = now;
            tg->tokens = 0;
            memset(tg->res.joins_per_s, 0, sizeof(tg->res.joins_per_s));
            __atomic_store_n(&tg->res.joins_seconds, 0, __ATOMIC_RELAXED);
        }
        tg->joins_seen = on;
    }
    if (on != 1)
        return -1;
    double r = (double)__atomic_load_n(&tg->join_mrate, __ATOMIC_RELAXED) / 1000.0;
    return r > 0 ? r : -1;
}

/* --relay: the agent's allocation failed; the session fails in signalling
 * with cause "turn" before any request (the dataplane counted the
 * failure under its stage and code in the relay section). */
static void start_turn_failed(struct ctl_target *tg, struct tsess *s, uint64_t now)
{
    struct ctl_target_client *c = &tg->res.client[s->idx];
    c->started = 1;
    c->t_start_ns = now;
    TGT_ADD(tg->res.started, 1);
    s->state = TS_SIGNAL;
    uint16_t code = ri_load(&ri_target_slot(tg->t, s->idx)->relay_code);
    if (code)
        tgt_fail(tg, s, CTL_TGT_CAUSE_TURN, 0, "TURN allocation failed: %u", (unsigned)code);
    else
        tgt_fail(tg, s, CTL_TGT_CAUSE_TURN, 0, "TURN allocation failed: no answer from the server");
}

static void start_sessions(struct ctl_target *tg, uint64_t now)
{
    double rate = join_rate_now(tg, now);
    if (rate < 0) {
        tg->last_tok_ns = now;
        return;
    }
    if (rate > 0) {
        tg->tokens += (double)(now - tg->last_tok_ns) * rate / 1e9;
        tg->last_tok_ns = now;
    }
    while (tg->next_start < tg->cfg.n_sessions && tg->q_len == 0 && tg->n_free > 0) {
        /* --relay: the next session waits for its agent's allocation */
        uint32_t rs = RI_TGT_RELAY_OK;
        if (tg->cfg.relay && (rs = ri_load(&ri_target_slot(tg->t, tg->next_start)->relay_state)) ==
                                 RI_TGT_RELAY_PENDING)
            break;
        if (rate > 0) {
            if (tg->tokens < 1.0)
                break;
            tg->tokens -= 1.0;
        }
        struct tsess *s = &tg->sess[tg->next_start++];
        if (rs == RI_TGT_RELAY_FAILED) {
            start_turn_failed(tg, s, now);
            continue;
        }
        start_session(tg, s, now);
        serve_queue(tg);
    }
    /* 20 ms of burst at most, after the starts: a token that came due
     * while the thread slept past it is not lost */
    double cap = rate / 50.0 < 1.0 ? 1.0 : rate / 50.0;
    if (tg->tokens > cap)
        tg->tokens = cap;
}

static void complete(struct ctl_target *tg)
{
    struct tgt_req *r;
    while ((r = tgt_http_next(tg->http)) != NULL) {
        struct tsess *s = &tg->sess[r->owner];
        int cls = r->status / 100;
        TGT_ADD(tg->res.http_status[cls >= 1 && cls <= 5 ? cls : 0], 1);
        int32_t ri = s->req;
        s->req = -1;
        tg->flow->done(tg, s, r);
        tg->pool_free[tg->n_free++] = ri;
    }
}

/* The slots: who the dataplane took, who is up; keepalives. */
static void watch(struct ctl_target *tg, uint64_t now)
{
    uint64_t up = 0, settled = 0;
    uint64_t sec = (now - tg->t0_ns) / 1000000000ull;
    if (sec >= 600)
        sec = 599;
    for (uint32_t i = 0; i < tg->next_start; i++) {
        struct tsess *s = &tg->sess[i];
        if (s->published) {
            const struct ri_target_slot *sl = ri_target_slot(tg->t, i);
            if (ri_load(&sl->dp_seq) == s->seq) {
                uint32_t st = ri_load(&sl->dp_state);
                s->took = true;
                s->up = st == RI_TGT_UP;
                /* the dataplane ended it (failed, consent lost, closed by
                 * the server): end it on the server now, as a browser does
                 * when its peer connection closes */
                if ((st == RI_TGT_FAILED || st == RI_TGT_CLOSED) && s->state == TS_LIVE &&
                    s->req < 0 && !tg->stopping)
                    tgt_teardown(tg, s);
                if (s->up && !s->up_counted) {
                    s->up_counted = true;
                    TGT_ADD(tg->res.joins_per_s[sec], 1);
                    __atomic_store_n(&tg->res.last_up_ns, now - tg->t0_ns, __ATOMIC_RELAXED);
                }
            } else if (!s->took && now > s->t_pub_ns && /* published after this pass's `now` */
                       now - s->t_pub_ns > tg->cfg.http_timeout_ns &&
                       tg->res.client[i].cause == CTL_TGT_CAUSE_NONE) {
                tg->res.client[i].cause = CTL_TGT_CAUSE_SLOT;
                snprintf(tg->res.client[i].detail, sizeof(tg->res.client[i].detail),
                         "the dataplane did not take slot %u", i);
                TGT_ADD(tg->res.cause[CTL_TGT_CAUSE_SLOT], 1);
            }
            up += s->up;
        }
        if (tg->res.client[i].cause != CTL_TGT_CAUSE_NONE) {
            settled++;
        } else if (s->published && s->took) {
            uint32_t st = ri_load(&ri_target_slot(tg->t, i)->dp_state);
            settled += s->up_counted || st == RI_TGT_FAILED || st == RI_TGT_CLOSED;
        }
        if (s->state == TS_LIVE && !tg->stopping && tg->flow->tick)
            tg->flow->tick(tg, s, now);
    }
    if (!tg->stopping && tg->flow->watch)
        tg->flow->watch(tg, now);
    if (sec + 1 > tg->res.joins_seconds)
        __atomic_store_n(&tg->res.joins_seconds, (uint32_t)(sec + 1), __ATOMIC_RELAXED);
    __atomic_store_n(&tg->up, up, __ATOMIC_RELAXED);
    __atomic_store_n(&tg->settled, settled, __ATOMIC_RELAXED);
    if (settled >= tg->cfg.n_sessions && !tg->res.settled_ns)
        __atomic_store_n(&tg->res.settled_ns, now - tg->t0_ns, __ATOMIC_RELAXED);
    tg->last_watch_ns = now;
}

static void begin_stop(struct ctl_target *tg, uint64_t now)
{
    tg->stopping = true;
    tg->stop_deadline_ns = now + __atomic_load_n(&tg->grace_ns, __ATOMIC_ACQUIRE);
    /* first the dataplane, every published slot at once */
    for (uint32_t i = 0; i < tg->next_start; i++)
        if (tg->sess[i].published)
            ri_store(&ri_target_slot(tg->t, i)->close_seq, tg->sess[i].seq);
    for (uint32_t i = 0; i < tg->next_start; i++) {
        struct tsess *s = &tg->sess[i];
        if (s->state == TS_DONE || s->state == TS_TEARDOWN)
            continue;
        if (s->req >= 0) {
            if (!tg->flow->can_cancel(s))
                continue; /* its answer says what there is to end */
            tgt_http_cancel(tg->http, &tg->pool[s->req]);
            release(tg, s);
        }
        tgt_teardown(tg, s);
    }
}

static bool all_done(const struct ctl_target *tg)
{
    if (tgt_http_inflight(tg->http) > 0 || tg->q_len > 0)
        return false;
    for (uint32_t i = 0; i < tg->next_start; i++)
        if (tg->sess[i].state != TS_DONE)
            return false;
    return true;
}

/* The grace is over: whatever is still open on the server stays open. */
static void abandon(struct ctl_target *tg)
{
    for (uint32_t i = 0; i < tg->next_start; i++) {
        struct tsess *s = &tg->sess[i];
        if (s->req >= 0) {
            tgt_http_cancel(tg->http, &tg->pool[s->req]);
            release(tg, s);
        }
        if (s->state != TS_DONE)
            tgt_ended(tg, s, false);
    }
}

static void *target_main(void *arg)
{
    struct ctl_target *tg = arg;
    tg->t0_ns = tg->last_tok_ns = tgt_now_ns();
    tg->tokens = 1.0;
    for (;;) {
        uint64_t now = tgt_now_ns();
        if (!tg->stopping && __atomic_load_n(&tg->stop, __ATOMIC_ACQUIRE)) {
            watch(tg, now);
            begin_stop(tg, now);
        }
        complete(tg);
        serve_queue(tg);
        if (!tg->stopping)
            start_sessions(tg, now);
        if (now - tg->last_watch_ns >= WATCH_NS)
            watch(tg, now);
        if (tg->stopping) {
            serve_queue(tg);
            if (all_done(tg))
                break;
            if (now >= tg->stop_deadline_ns) {
                abandon(tg);
                break;
            }
        }
        uint64_t wait_ns = WATCH_NS;
        double rate = tg->stopping ? 0 : join_rate_now(tg, now);
        if (rate > 0 && tg->next_start < tg->cfg.n_sessions && tg->tokens < 1.0) {
            uint64_t tok = (uint64_t)((1.0 - tg->tokens) * 1e9 / rate) + 1;
            if (tok < wait_ns)
                wait_ns = tok;
        }
        if (tg->stopping && tg->stop_deadline_ns - now < wait_ns)
            wait_ns = tg->stop_deadline_ns - now;
        int ms = (int)((wait_ns + 999999) / 1000000);
        if (tgt_http_poll(tg->http, ms) < 0) {
            struct timespec ts = {0, 1000000}; /* curl failed to poll: no busy loop */
            nanosleep(&ts, NULL);
        }
    }
    watch(tg, tgt_now_ns());
    return NULL;
}

int ctl_target_start(struct ctl_target **out, const struct ctl_target_config *cfg,
                     struct ri_target *t, const struct ri_external *x,
                     const struct ri_agent *agents, uint32_t n_agents, char *err, size_t errlen)
{
    *out = NULL;
    if (cfg->kind != CTL_TARGET_WHIP && cfg->kind != CTL_TARGET_JANUS &&
        cfg->kind != CTL_TARGET_JANUS_VR) {
        snprintf(err, errlen, "target: no whip:, janus: or janus-videoroom: target");
        return -EINVAL;
    }
    if (cfg->kind == CTL_TARGET_JANUS_VR &&
        (cfg->rooms == 0 || cfg->publishers == 0 || cfg->publishers > RI_TARGET_FEEDS ||
         (uint64_t)cfg->rooms * (cfg->publishers + 1) > cfg->n_sessions)) {
        snprintf(err, errlen, "target: %u rooms of %u publishers need %llu sessions at least, not %u",
                 cfg->rooms, cfg->publishers,
                 (unsigned long long)cfg->rooms * (cfg->publishers + 1), cfg->n_sessions);
        return -EINVAL;
    }
    if (cfg->n_sessions == 0 || cfg->n_sessions > t->n_slots || cfg->n_sessions > n_agents) {
        snprintf(err, errlen, "target: %u sessions, but %u slots and %u agents", cfg->n_sessions,
                 t->n_slots, n_agents);
        return -EINVAL;
    }
    static const uint8_t zero[32];
    if (memcmp(x->fingerprint, zero, 32) == 0) {
        snprintf(err, errlen, "target: the dataplane has published no certificate fingerprint");
        return -EINVAL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "target: libcurl does not initialise");
        return -EIO;
    }
    struct ctl_target *tg = calloc(1, sizeof(*tg));
    if (!tg) {
        curl_global_cleanup();
        snprintf(err, errlen, "target: out of memory");
        return -ENOMEM;
    }
    tg->cfg = *cfg;
    if (tg->cfg.http_timeout_ns == 0)
        tg->cfg.http_timeout_ns = 10ull * 1000000000ull;
    if (tg->cfg.max_inflight == 0)
        tg->cfg.max_inflight = 64;
    tg->t = t;
    tg->x = x;
    tg->agents = agents;
    tg->n_agents = n_agents;
    tg->flow = cfg->kind == CTL_TARGET_WHIP    ? &tgt_whip_flow
               : cfg->kind == CTL_TARGET_JANUS ? &tgt_janus_flow
                                               : &tgt_vr_flow;
    uint32_t n = cfg->n_sessions, m = tg->cfg.max_inflight;
    tg->sess = calloc(n, sizeof(*tg->sess));
    tg->res.client = calloc(n, sizeof(*tg->res.client));
    tg->res.n_clients = n;
    tg->queue = calloc(n, sizeof(*tg->queue));
    tg->pool = calloc(m, sizeof(*tg->pool));
    tg->pool_free = calloc(m, sizeof(*tg->pool_free));
    tg->work = malloc(sizeof(*tg->work));
    if (getrandom(&tg->rng, sizeof(tg->rng), 0) != (ssize_t)sizeof(tg->rng))
        tg->rng = tgt_now_ns(); /* transactions and SSRCs, room and feed ids only: ICE credentials use getrandom */
    int rc = tgt_http_new(&tg->http);
    if (rc == 0 && cfg->kind == CTL_TARGET_JANUS_VR)
        rc = tgt_vr_init(tg);
    if (!tg->sess || !tg->res.client || !tg->queue || !tg->pool || !tg->pool_free || !tg->work ||
        rc != 0) {
        ctl_target_free(tg);
        snprintf(err, errlen, "target: out of memory for %u sessions", n);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        tg->sess[i].idx = i;
        tg->sess[i].req = -1;
        tg->res.client[i].agent = i;
        tg->res.client[i].slot = i;
        if (cfg->kind == CTL_TARGET_JANUS_VR) {
            uint32_t r = ctl_target_room_of(cfg, i);
            tg->res.client[i].room = r;
            tg->res.client[i].role = i - ctl_target_room_first(cfg, r) < cfg->publishers
                                         ? CTL_TGT_ROLE_PUBLISHER
                                         : CTL_TGT_ROLE_SUBSCRIBER;
        }
    }
    for (uint32_t i = 0; i < m; i++)
        tg->pool_free[i] = (int32_t)(m - 1 - i);
    tg->n_free = m;
    rc = pthread_create(&tg->thread, NULL, target_main, tg);
    if (rc != 0) {
        ctl_target_free(tg);
        snprintf(err, errlen, "target: cannot start its thread: %s", strerror(rc));
        return -rc;
    }
    tg->running = true;
    *out = tg;
    return 0;
}

void ctl_target_set_join_rate(struct ctl_target *tg, double rate)
{
    if (!tg || !tg->cfg.join_ramp || __atomic_load_n(&tg->joins_on, __ATOMIC_RELAXED) == 2)
        return;
    uint64_t m = rate > 0 ? (uint64_t)(rate * 1000.0 + 0.5) : 0;
    uint64_t old = __atomic_exchange_n(&tg->join_mrate, m, __ATOMIC_RELAXED);
    if (__atomic_load_n(&tg->joins_on, __ATOMIC_RELAXED) == 0) {
        __atomic_store_n(&tg->joins_on, 1, __ATOMIC_RELEASE);
        tgt_http_wakeup(tg->http);
    } else if (old == 0 && m > 0) {
        tgt_http_wakeup(tg->http); /* it may sleep its 20 ms out otherwise */
    }
}

void ctl_target_end_joins(struct ctl_target *tg)
{
    if (!tg || !tg->cfg.join_ramp)
        return;
    __atomic_store_n(&tg->joins_on, 2, __ATOMIC_RELEASE);
}

uint64_t ctl_target_up(const struct ctl_target *tg)
{
    return __atomic_load_n(&tg->up, __ATOMIC_RELAXED);
}

uint64_t ctl_target_settled(const struct ctl_target *tg)
{
    return __atomic_load_n(&tg->settled, __ATOMIC_RELAXED);
}

void ctl_target_stop(struct ctl_target *tg, uint64_t grace_ns)
{
    if (!tg || !tg->running)
        return;
    __atomic_store_n(&tg->grace_ns, grace_ns, __ATOMIC_RELEASE);
    __atomic_store_n(&tg->stop, 1, __ATOMIC_RELEASE);
    tgt_http_wakeup(tg->http);
    pthread_join(tg->thread, NULL);
    tg->running = false;
}

const struct ctl_target_results *ctl_target_results(const struct ctl_target *tg)
{
    return &tg->res;
}

void ctl_target_free(struct ctl_target *tg)
{
    if (!tg)
        return;
    ctl_target_stop(tg, 0);
    if (tg->pool) {
        for (uint32_t i = 0; i < tg->cfg.max_inflight; i++) {
            if (tg->http)
                tgt_http_cancel(tg->http, &tg->pool[i]);
            tgt_http_req_free(&tg->pool[i]);
        }
    }
    if (tg->sess)
        for (uint32_t i = 0; i < tg->cfg.n_sessions; i++)
            free(tg->sess[i].url);
    tgt_http_free(tg->http);
    tgt_vr_free(tg);
    free(tg->res.room);
    free(tg->sess);
    free(tg->res.client);
    free(tg->queue);
    free(tg->pool);
    free(tg->pool_free);
    free(tg->work);
    free(tg->buf);
    free(tg);
    curl_global_cleanup();
}
