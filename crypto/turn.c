/* SPDX-License-Identifier: MIT */
#include "turn.h"

#include <errno.h>
#include <string.h>

#include "splitmix.h"
#include "wire.h"

#define NS 1000000000ull
#define PERM_REFRESH_NS (240 * NS)  /* permissions last 300 s (RFC 8656 §9) */
#define CHAN_REFRESH_NS (540 * NS)  /* channels last 600 s (§12) */
#define PEERS_PER_REQUEST 8         /* XOR-PEER-ADDRESSes in one CreatePermission */
#define MAX_STALE 3                 /* 438 answers to one request before it fails */
#define REALM_MAX 255
#define NONCE_MAX 255

enum req_kind { REQ_NONE, REQ_ALLOCATE, REQ_REFRESH, REQ_PERMISSION, REQ_CHANNEL, REQ_CLOSE };

struct turn_peer {
    struct stun_addr addr;
    bool want_channel, permitted, bound, in_request;
    uint64_t perm_due, chan_due; /* when to send (again); 0: nothing to do */
};

struct turn_client {
    enum turn_state state;
    char user[TURN_USER_MAX + 1], pass[TURN_PASS_MAX + 1];
    uint8_t key[16];
    bool have_key;
    uint8_t realm[REALM_MAX], nonce[NONCE_MAX];
    uint16_t realm_len, nonce_len;
    uint32_t lifetime_req, lifetime;
    uint64_t rto0;
    uint32_t max_tries;
    bool stream;
    uint64_t rng;
    struct stun_addr relayed, mapped;

    /* the outstanding request */
    enum req_kind req;
    bool req_authed, send_now;
    uint8_t tid[12];
    uint32_t tries, stale;
    uint64_t rto, next_send;
    int req_peer;
    uint16_t req_len;
    uint8_t req_buf[TURN_REQ_MAX];

    uint64_t refresh_due, work_due, last_now;
    struct turn_ev events[8];
    uint8_t ev_head, ev_n;
    struct turn_counters c;
    uint16_t max_peers, n_peers;
    struct turn_peer peers[];
};

static const char *const stage_names[] = {"allocate", "refresh", "permission", "channel", "close"};

const char *turn_stage_name(enum turn_stage s)
{
    return (unsigned)s < sizeof(stage_names) / sizeof(stage_names[0]) ? stage_names[s] : "?";
}

size_t turn_size(uint16_t max_peers)
{
    return sizeof(struct turn_client) + (size_t)max_peers * sizeof(struct turn_peer);
}

static void new_tid(struct turn_client *t, uint8_t tid[12])
{
    uint64_t a = splitmix64(&t->rng), b = splitmix64(&t->rng);
    memcpy(tid, &a, 8);
    memcpy(tid + 8, &b, 4);
}

static void event(struct turn_client *t, enum turn_event_type type, enum turn_stage stage, uint16_t code, int peer)
{
    if (t->ev_n == sizeof(t->events) / sizeof(t->events[0]))
        return; /* the caller polls after every call; eight never fill up */
    t->events[(t->ev_head + t->ev_n++) % 8] = (struct turn_ev){type, stage, code, peer};
}

static enum turn_stage stage_of(enum req_kind k)
{
    switch (k) {
    case REQ_REFRESH: return TURN_STAGE_REFRESH;
    case REQ_PERMISSION: return TURN_STAGE_PERMISSION;
    case REQ_CHANNEL: return TURN_STAGE_CHANNEL;
    case REQ_CLOSE: return TURN_STAGE_CLOSE;
    default: return TURN_STAGE_ALLOCATE;
    }
}

static void clear_request(struct turn_client *t)
{
    for (uint16_t i = 0; i < t->n_peers; i++)
        t->peers[i].in_request = false;
    t->req = REQ_NONE;
    t->send_now = false;
    t->stale = 0;
}

static void fail(struct turn_client *t, uint16_t code)
{
    enum req_kind k = t->req;
    clear_request(t);
    if (k == REQ_CLOSE) {
        t->state = TURN_CLOSED;
        event(t, TURN_EV_CLOSED, TURN_STAGE_CLOSE, code, -1);
        return;
    }
    t->state = TURN_FAILED;
    event(t, TURN_EV_FAILED, stage_of(k), code, -1);
}

struct turn_client *turn_init(void *mem, const struct turn_config *cfg)
{
    size_t ul = cfg->user ? strlen(cfg->user) : 0, pl = cfg->pass ? strlen(cfg->pass) : 0;
    if (!cfg->max_peers || ul > TURN_USER_MAX || pl > TURN_PASS_MAX || cfg->max_peers > 4096)
        return NULL;
    struct turn_client *t = mem;
    memset(t, 0, turn_size(cfg->max_peers));
    memcpy(t->user, cfg->user ? cfg->user : "", ul);
    memcpy(t->pass, cfg->pass ? cfg->pass : "", pl);
    t->lifetime_req = cfg->lifetime_s;
    t->rto0 = cfg->rto_ns ? cfg->rto_ns : 500000000ull;
    t->max_tries = cfg->max_tries ? cfg->max_tries : 7;
    t->stream = cfg->stream;
    if (cfg->stream) { /* reliable transport: one send, then the transaction timeout */
        t->rto0 = cfg->timeout_ns ? cfg->timeout_ns : 39500000000ull;
        t->max_tries = 1;
    }
    t->rng = cfg->seed;
    t->max_peers = cfg->max_peers;
    t->req_peer = -1;
    return t;
}

/* Starts request `k` of `method` in req_buf with a new tid; the caller
 * writes its attributes through w, then finish() adds the rest. */
static void begin(struct turn_client *t, struct stun_writer *w, enum req_kind k, uint16_t method)
{
    new_tid(t, t->tid);
    stun_begin(w, t->req_buf, sizeof(t->req_buf), (uint16_t)(STUN_CLASS_REQUEST | method), t->tid);
    t->req = k;
}

/* Ends the request in w: credentials when we have them, FINGERPRINT; due
 * to be sent at now, the retransmission timer reset. */
static void finish(struct turn_client *t, struct stun_writer *w, uint64_t now)
{
    t->req_authed = t->have_key;
    if (t->have_key) {
        stun_put_bytes(w, STUN_ATTR_USERNAME, t->user, (uint16_t)strlen(t->user));
        stun_put_bytes(w, STUN_ATTR_REALM, t->realm, t->realm_len);
        stun_put_bytes(w, STUN_ATTR_NONCE, t->nonce, t->nonce_len);
        stun_put_integrity(w, t->key, sizeof(t->key));
    }
    stun_put_fingerprint(w);
    int n = stun_end(w);
    /* TURN_REQ_MAX holds the largest: credentials are bounded, and
     * CreatePermission takes at most PEERS_PER_REQUEST addresses */
    t->req_len = n > 0 ? (uint16_t)n : 0;
    t->tries = 0;
    t->rto = t->rto0;
    t->next_send = now;
    t->send_now = true;
}

static void build(struct turn_client *t, uint64_t now)
{
    struct stun_writer w;
    switch (t->req) {
    case REQ_ALLOCATE:
        begin(t, &w, REQ_ALLOCATE, STUN_METHOD_ALLOCATE);
        stun_put_u32(&w, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24); /* UDP */
        if (t->lifetime_req)
            stun_put_u32(&w, STUN_ATTR_LIFETIME, t->lifetime_req);
        break;
    case REQ_REFRESH:
    case REQ_CLOSE:
        begin(t, &w, t->req, STUN_METHOD_REFRESH);
        stun_put_u32(&w, STUN_ATTR_LIFETIME, t->req == REQ_CLOSE ? 0 : t->lifetime_req ? t->lifetime_req
                                                                                         : t->lifetime);
        break;
    case REQ_PERMISSION: {
        begin(t, &w, REQ_PERMISSION, STUN_METHOD_CREATE_PERMISSION);
        for (uint16_t i = 0; i < t->n_peers; i++)
            if (t->peers[i].in_request)
                stun_put_xor_address_as(&w, STUN_ATTR_XOR_PEER_ADDRESS, &t->peers[i].addr);
        break;
    }
    case REQ_CHANNEL:
        begin(t, &w, REQ_CHANNEL, STUN_METHOD_CHANNEL_BIND);
        stun_put_u32(&w, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)(TURN_CHANNEL_MIN + t->req_peer) << 16);
        stun_put_xor_address_as(&w, STUN_ATTR_XOR_PEER_ADDRESS, &t->peers[t->req_peer].addr);
        break;
    case REQ_NONE:
        return;
    }
    finish(t, &w, now);
}

/* With no request outstanding, starts the next piece of work due at now
 * and remembers when the next one falls due. */
static void schedule(struct turn_client *t, uint64_t now)
{
    t->work_due = UINT64_MAX;
    if (t->req != REQ_NONE || t->state != TURN_ALLOCATED)
        return;
    if (t->refresh_due <= now) {
        t->req = REQ_REFRESH;
        build(t, now);
        return;
    }
    uint64_t due = t->refresh_due;
    int n_perm = 0, chan = -1;
    for (uint16_t i = 0; i < t->n_peers; i++) {
        struct turn_peer *p = &t->peers[i];
        if (p->perm_due && p->perm_due <= now && n_perm < PEERS_PER_REQUEST) {
            p->in_request = true;
            if (!n_perm++)
                t->req_peer = i;
        } else if (p->perm_due && p->perm_due < due) {
            due = p->perm_due;
        }
        if (p->chan_due && p->chan_due <= now && chan < 0)
            chan = i;
        else if (p->chan_due && p->chan_due < due)
            due = p->chan_due;
    }
    if (n_perm) {
        t->req = REQ_PERMISSION;
        build(t, now);
    } else if (chan >= 0) {
        t->req = REQ_CHANNEL;
        t->req_peer = chan;
        build(t, now);
    } else {
        t->work_due = due;
    }
}

void turn_allocate(struct turn_client *t, uint64_t now)
{
    if (t->state != TURN_NEW)
        return;
    t->last_now = now;
    t->state = TURN_ALLOCATING;
    t->req = REQ_ALLOCATE;
    build(t, now);
}

static bool addr_eq(const struct stun_addr *a, const struct stun_addr *b)
{
    return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16);
}

int turn_add_peer(struct turn_client *t, const struct stun_addr *peer, bool channel, uint64_t now)
{
    if (peer->family != 4 && peer->family != 6)
        return -EINVAL;
    if (t->n_peers == t->max_peers)
        return -ENOSPC;
    int i = t->n_peers++;
    struct turn_peer *p = &t->peers[i];
    memset(p, 0, sizeof(*p));
    p->addr = *peer;
    p->want_channel = channel;
    p->perm_due = now ? now : 1;
    if (t->state == TURN_ALLOCATED)
        schedule(t, now > t->last_now ? now : t->last_now);
    return i;
}

void turn_close(struct turn_client *t, uint64_t now)
{
    if (now > t->last_now)
        t->last_now = now;
    if (t->state == TURN_CLOSING || t->state == TURN_CLOSED)
        return;
    clear_request(t);
    if (t->state != TURN_ALLOCATED) {
        t->state = TURN_CLOSED;
        event(t, TURN_EV_CLOSED, TURN_STAGE_CLOSE, 0, -1);
        return;
    }
    t->state = TURN_CLOSING;
    t->req = REQ_CLOSE;
    build(t, t->last_now);
}

static uint64_t refresh_in(uint32_t lifetime_s)
{
    uint64_t l = (uint64_t)lifetime_s * NS;
    return lifetime_s > 120 ? l - 60 * NS : l / 2;
}

static void on_success(struct turn_client *t, const struct stun_msg *m, uint64_t now)
{
    enum req_kind k = t->req;
    int first = t->req_peer;
    switch (k) {
    case REQ_ALLOCATE:
        if (!m->xor_relayed.family) {
            fail(t, 0);
            return;
        }
        t->relayed = m->xor_relayed;
        t->mapped = m->xor_mapped;
        t->lifetime = m->has_lifetime ? m->lifetime : t->lifetime_req ? t->lifetime_req : 600;
        t->refresh_due = now + refresh_in(t->lifetime);
        t->state = TURN_ALLOCATED;
        clear_request(t);
        event(t, TURN_EV_ALLOCATED, TURN_STAGE_ALLOCATE, 0, -1);
        break;
    case REQ_REFRESH:
        if (m->has_lifetime)
            t->lifetime = m->lifetime;
        t->refresh_due = now + refresh_in(t->lifetime);
        t->c.refreshes++;
        clear_request(t);
        event(t, TURN_EV_REFRESHED, TURN_STAGE_REFRESH, 0, -1);
        break;
    case REQ_PERMISSION: {
        bool news = false;
        for (uint16_t i = 0; i < t->n_peers; i++) {
            struct turn_peer *p = &t->peers[i];
            if (!p->in_request)
                continue;
            news |= !p->permitted;
            p->permitted = true;
            p->perm_due = now + PERM_REFRESH_NS;
            if (p->want_channel && !p->bound)
                p->chan_due = now;
            t->c.permissions++;
        }
        clear_request(t);
        if (news)
            event(t, TURN_EV_PERMISSION, TURN_STAGE_PERMISSION, 0, first);
        break;
    }
    case REQ_CHANNEL: {
        struct turn_peer *p = &t->peers[first];
        bool fresh = !p->bound;
        p->bound = true;
        p->chan_due = now + CHAN_REFRESH_NS;
        p->perm_due = now + PERM_REFRESH_NS; /* a ChannelBind refreshes the permission too */
        t->c.channels++;
        clear_request(t);
        if (fresh)
            event(t, TURN_EV_CHANNEL, TURN_STAGE_CHANNEL, 0, first);
        break;
    }
    case REQ_CLOSE:
        clear_request(t);
        t->state = TURN_CLOSED;
        event(t, TURN_EV_CLOSED, TURN_STAGE_CLOSE, 0, -1);
        break;
    case REQ_NONE:
        break;
    }
}

/* Takes REALM and NONCE from a 401 or 438 answer; false when absent or too long. */
static bool take_challenge(struct turn_client *t, const struct stun_msg *m)
{
    if (!m->nonce || m->nonce_len > NONCE_MAX || (m->realm && m->realm_len > REALM_MAX))
        return false;
    if (m->realm) {
        memcpy(t->realm, m->realm, m->realm_len);
        t->realm_len = m->realm_len;
    } else if (!t->realm_len) {
        return false;
    }
    memcpy(t->nonce, m->nonce, m->nonce_len);
    t->nonce_len = m->nonce_len;
    return stun_long_term_key(t->user, t->realm, t->realm_len, t->pass, t->key) == 0;
}

static void on_error(struct turn_client *t, const struct stun_msg *m, uint64_t now)
{
    uint16_t code = m->error_code;
    if (code == 401 && !t->req_authed && take_challenge(t, m)) {
        t->have_key = true;
        t->c.challenges++;
        build(t, now);
        return;
    }
    if (code == 438 && t->stale < MAX_STALE && take_challenge(t, m)) {
        t->have_key = true;
        t->stale++;
        t->c.stale_nonces++;
        build(t, now);
        return;
    }
    t->c.errors++;
    fail(t, code ? code : 500);
}

static enum engine_input on_stun(struct turn_client *t, const uint8_t *buf, size_t len, uint64_t now,
                                 struct turn_rx *rx)
{
    struct stun_msg m;
    if (stun_parse(buf, len, &m) < 0 || m.unknown_required) {
        t->c.malformed++;
        return ENGINE_IN_MALFORMED;
    }
    uint16_t cls = m.type & STUN_CLASS_MASK, method = m.type & ~STUN_CLASS_MASK & 0x3fff;
    if (cls == STUN_CLASS_INDICATION && method == STUN_METHOD_DATA) {
        if (!m.xor_peer.family || !m.has_data) {
            t->c.malformed++;
            return ENGINE_IN_MALFORMED;
        }
        for (uint16_t i = 0; i < t->n_peers; i++)
            if (addr_eq(&t->peers[i].addr, &m.xor_peer)) {
                rx->peer = i;
                rx->data = m.data;
                rx->len = m.data_len;
                t->c.data_in++;
                return ENGINE_IN_ACCEPTED;
            }
        t->c.ignored++;
        return ENGINE_IN_IGNORED;
    }
    if ((cls != STUN_CLASS_SUCCESS && cls != STUN_CLASS_ERROR) || t->req == REQ_NONE ||
        memcmp(m.tid, t->tid, 12) != 0) {
        t->c.ignored++;
        return ENGINE_IN_IGNORED;
    }
    /* an authenticated request's success must be signed with our key; an
     * error may come unsigned (the server could not check us), but a
     * signature it carries must verify */
    if (t->req_authed && (cls == STUN_CLASS_SUCCESS || m.integrity_off >= 0) &&
        stun_check_integrity(buf, len, &m, t->key, sizeof(t->key)) != 0) {
        t->c.integrity_failures++;
        return ENGINE_IN_MALFORMED;
    }
    t->c.responses++;
    if (cls == STUN_CLASS_SUCCESS)
        on_success(t, &m, now);
    else
        on_error(t, &m, now);
    schedule(t, now);
    return ENGINE_IN_ACCEPTED;
}

enum engine_input turn_handle_input(struct turn_client *t, const uint8_t *buf, size_t len, uint64_t now,
                                    struct turn_rx *rx)
{
    rx->peer = -1;
    rx->data = NULL;
    rx->len = 0;
    if (now > t->last_now)
        t->last_now = now;
    now = t->last_now;
    if (len >= 4 && buf[0] >= 0x40 && buf[0] <= 0x4f) {
        uint16_t ch = wire_get16(buf), n = wire_get16(buf + 2);
        if (n > len - 4) {
            t->c.malformed++;
            return ENGINE_IN_MALFORMED;
        }
        int i = ch - TURN_CHANNEL_MIN;
        if (i < 0 || i >= t->n_peers || !t->peers[i].bound) {
            t->c.ignored++;
            return ENGINE_IN_IGNORED;
        }
        rx->peer = i;
        rx->data = buf + 4;
        rx->len = n;
        t->c.channel_data_in++;
        return ENGINE_IN_ACCEPTED;
    }
    if (!stun_is_stun(buf, len)) {
        t->c.malformed++;
        return ENGINE_IN_MALFORMED;
    }
    return on_stun(t, buf, len, now, rx);
}

void turn_handle_timeout(struct turn_client *t, uint64_t now)
{
    if (now < t->last_now)
        return;
    t->last_now = now;
    if (t->req != REQ_NONE) {
        if (!t->send_now && t->next_send <= now) {
            if (t->tries >= t->max_tries) {
                fail(t, 0);
                schedule(t, now);
                return;
            }
            t->send_now = true;
        }
        return;
    }
    schedule(t, now);
}

size_t turn_poll_transmit(struct turn_client *t, uint8_t *buf, size_t cap, uint64_t now)
{
    if (now > t->last_now)
        t->last_now = now;
    if (!t->send_now || !t->req_len || cap < t->req_len)
        return 0;
    memcpy(buf, t->req_buf, t->req_len);
    t->send_now = false;
    if (t->tries++)
        t->c.retransmits++;
    else
        t->c.requests++;
    t->next_send = t->last_now + t->rto;
    t->rto *= 2;
    return t->req_len;
}

enum turn_event_type turn_poll_event(struct turn_client *t, struct turn_ev *ev)
{
    if (!t->ev_n) {
        ev->type = TURN_EV_NONE;
        return TURN_EV_NONE;
    }
    *ev = t->events[t->ev_head];
    t->ev_head = (uint8_t)((t->ev_head + 1) % 8);
    t->ev_n--;
    return ev->type;
}

uint64_t turn_next_timeout(const struct turn_client *t)
{
    if (t->send_now)
        return t->last_now;
    if (t->req != REQ_NONE)
        return t->next_send;
    return t->state == TURN_ALLOCATED ? t->work_due : UINT64_MAX;
}

int turn_wrap(struct turn_client *t, int peer, const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
    if (peer < 0 || peer >= t->n_peers)
        return -EINVAL;
    struct turn_peer *p = &t->peers[peer];
    if (!p->permitted || t->state != TURN_ALLOCATED)
        return -EAGAIN;
    if (p->bound) {
        size_t pad = t->stream ? (4 - (len & 3)) & 3 : 0;
        if (len > 0xffff || cap < 4 + len + pad)
            return -ENOSPC;
        wire_put16(out, (uint16_t)(TURN_CHANNEL_MIN + peer));
        wire_put16(out + 2, (uint16_t)len);
        memcpy(out + 4, data, len);
        memset(out + 4 + len, 0, pad);
        t->c.channel_data_out++;
        return (int)(4 + len + pad);
    }
    if (len > 0xffff - 64)
        return -ENOSPC;
    struct stun_writer w;
    uint8_t tid[12];
    new_tid(t, tid);
    stun_begin(&w, out, cap, STUN_CLASS_INDICATION | STUN_METHOD_SEND, tid);
    stun_put_xor_address_as(&w, STUN_ATTR_XOR_PEER_ADDRESS, &p->addr);
    stun_put_bytes(&w, STUN_ATTR_DATA, data, (uint16_t)len);
    int n = stun_end(&w);
    if (n < 0)
        return -ENOSPC;
    t->c.data_out++;
    return n;
}

int turn_stream_frame(const uint8_t *buf, size_t len)
{
    if (len < 4)
        return 0;
    size_t n = wire_get16(buf + 2);
    if (buf[0] >= 0x40 && buf[0] <= 0x4f)
        n = 4 + ((n + 3) & ~(size_t)3);
    else if (buf[0] < 0x40 && !(n & 3))
        n += 20;
    else
        return -EBADMSG;
    return len >= n ? (int)n : 0;
}

enum turn_state turn_state(const struct turn_client *t) { return t->state; }
const struct stun_addr *turn_relayed(const struct turn_client *t) { return &t->relayed; }
const struct stun_addr *turn_mapped(const struct turn_client *t) { return &t->mapped; }
uint32_t turn_lifetime(const struct turn_client *t) { return t->lifetime; }
const struct turn_counters *turn_counters(const struct turn_client *t) { return &t->c; }

uint16_t turn_peer_channel(const struct turn_client *t, int peer)
{
    return peer >= 0 && peer < t->n_peers && t->peers[peer].bound ? (uint16_t)(TURN_CHANNEL_MIN + peer) : 0;
}

bool turn_peer_permitted(const struct turn_client *t, int peer)
{
    return peer >= 0 && peer < t->n_peers && t->peers[peer].permitted;
}
