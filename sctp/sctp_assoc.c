/* SPDX-License-Identifier: MIT */
/*
 * The association: packet validation and chunk dispatch, the four-way
 * hand-shake with an HMAC-authenticated state cookie (the listener keeps no
 * state until COOKIE-ECHO), INIT collisions, heartbeats, shutdown and
 * abort, timers, and the assembly of outgoing packets (control chunks
 * first, then DATA).
 */
#include <errno.h>

#include "sctp_crc32c.h"
#include "sctp_hmac.h"
#include "sctp_internal.h"
#include "splitmix.h"

#define COOKIE_VERSION 0x53570001u /* "SW" v1 */
#define COOKIE_LEN 72
#define COOKIE_LIFE_NS (60ull * 1000 * NS_PER_MS)

/* the peer's INIT kept for our INIT-ACK (ia_buf): its tag, initial TSN,
 * window, stream counts and the extensions it announced */
enum { IA_VTAG = 0, IA_ITSN = 4, IA_RWND = 8, IA_OS = 12, IA_MIS = 14, IA_FLAGS = 16, IA_LEN = 17 };

static const char *const drop_names[] = {
#define SCTP_X(n, s) s,
    SCTP_DROP_REASONS(SCTP_X)
#undef SCTP_X
};

const char *sctp_drop_name(enum sctp_drop d)
{
    return (unsigned)d < SCTP_DROP_COUNT ? drop_names[d] : "?";
}

/* Draw k (from 1) of the splitmix64 sequence that starts at rng0: the
 * same values one generator state stepped k times gives (rng_n, 32 bits,
 * would repeat them after 2^32 draws; an association makes a few). */
static uint64_t draw(uint64_t rng0, uint32_t k)
{
    uint64_t s = rng0 + (uint64_t)(k - 1u) * SPLITMIX_GOLDEN;
    return splitmix64(&s);
}

uint32_t sctp_rand32(struct sctp_assoc *a) { return (uint32_t)draw(a->rng0, ++a->rng_n); }

/* The state cookie's HMAC key: the first four draws (made at set-up, as
 * they always were; kept as the generator's origin, 8 bytes, instead of
 * 16). */
static void cookie_key(const struct sctp_assoc *a, uint8_t key[16])
{
    for (uint32_t k = 0; k < 4; k++)
        wire_put32(key + 4 * k, (uint32_t)draw(a->rng0, k + 1));
}

static uint32_t rand_tag(struct sctp_assoc *a)
{
    uint32_t t;
    do
        t = sctp_rand32(a);
    while (t == 0);
    return t;
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

void sctp_config_default(struct sctp_config *c)
{
    memset(c, 0, sizeof(*c));
    c->local_port = c->remote_port = 5000;
    c->n_streams = 16;
    c->mtu = 1200;
    c->rwnd = 1u << 20;
    c->sndbuf = 1u << 20;
    c->max_message = 256u << 10;
    c->rto_initial_ms = 1000;
    c->rto_min_ms = 400;
    c->rto_max_ms = 60000;
    c->heartbeat_ms = 30000;
    c->sack_delay_ms = 200;
    c->max_retrans = 10;
    c->max_init_retrans = 8;
    c->dcep = true;
}

/* Where the streams end and the own counters (if any) start. */
static size_t streams_end(uint16_t n_streams)
{
    size_t s = sizeof(struct sctp_assoc) + (size_t)n_streams * sizeof(struct sctp_stream);
    return (s + _Alignof(struct sctp_counters) - 1) & ~(_Alignof(struct sctp_counters) - 1);
}

static size_t size_for(uint16_t n_streams, bool own_counters)
{
    size_t s = streams_end(n_streams) + (own_counters ? sizeof(struct sctp_counters) : 0);
    return (s + 63) & ~(size_t)63;
}

size_t sctp_assoc_size(uint16_t n_streams) { return size_for(n_streams, true); }

size_t sctp_assoc_size_cfg(const struct sctp_config *cfg)
{
    return cfg ? size_for(cfg->n_streams, cfg->counters == NULL) : 0;
}

/* The layout the dataplane counts on (4 streams, shared counters; see
 * sctp.h): one 64-byte line less would need a field less. */
_Static_assert(sizeof(struct sctp_stream) == 10, "struct sctp_stream grew");
_Static_assert(sizeof(struct sctp_assoc) == 336,
               "struct sctp_assoc grew (docs/sctp.md counts its bytes)");
_Static_assert(offsetof(struct sctp_assoc, rcv_highest) < 64, "the receive point left the first line");
_Static_assert(offsetof(struct sctp_assoc, rtt_tsn) < 192, "the send side left the first three lines");
_Static_assert(sizeof(struct sctp_assoc) + 4 * sizeof(struct sctp_stream) <= SCTP_ASSOC_DP_BYTES,
               "an established association of 4 streams with shared counters outgrew SCTP_ASSOC_DP_BYTES");

static bool config_ok(const struct sctp_config *cfg)
{
    return cfg->n_streams >= 1 && cfg->n_streams <= 1024 && cfg->mtu >= 256 && cfg->mtu <= 9000 &&
           cfg->rwnd >= 1500 && cfg->sndbuf >= 1500 && cfg->max_message >= 1 &&
           cfg->max_message <= (64u << 20) && cfg->rto_min_ms >= 1 && cfg->rto_min_ms <= cfg->rto_max_ms &&
           cfg->rto_initial_ms >= cfg->rto_min_ms && cfg->rto_initial_ms <= cfg->rto_max_ms &&
           cfg->max_retrans >= 1 && cfg->local_port != 0 && cfg->remote_port != 0 &&
           cfg->max_message <= cfg->sndbuf && cfg->sack_delay_ms <= 500;
}

struct sctp_assoc *sctp_assoc_init(void *mem, const struct sctp_config *cfg,
                                   struct sctp_pool *pool, uint64_t now)
{
    if (!mem || !cfg || !pool || !config_ok(cfg))
        return NULL;
    struct sctp_assoc *a = mem;
    memset(a, 0, sctp_assoc_size_cfg(cfg));
    a->c = cfg->counters ? cfg->counters
                         : (struct sctp_counters *)(void *)((uint8_t *)mem + streams_end(cfg->n_streams));
    a->lport = cfg->local_port;
    a->rport = cfg->remote_port;
    a->mtu = cfg->mtu;
    a->n_streams = cfg->n_streams;
    a->rwnd_cfg = cfg->rwnd;
    a->sndbuf = cfg->sndbuf;
    a->max_message = cfg->max_message;
    a->max_rx_bufs = (uint16_t)(cfg->max_buffers && cfg->max_buffers < UINT16_MAX ? cfg->max_buffers
                                                                                  : UINT16_MAX);
    a->rto_init_ms = cfg->rto_initial_ms;
    a->rto_min_ms = cfg->rto_min_ms;
    a->rto_max_ms = cfg->rto_max_ms;
    a->hb_ms = cfg->heartbeat_ms;
    a->sack_delay_ms = (uint16_t)(cfg->sack_delay_ms ? cfg->sack_delay_ms : 200);
    a->max_retrans = cfg->max_retrans;
    a->max_init_retrans = cfg->max_init_retrans ? cfg->max_init_retrans : 8;
    a->zero_csum_cfg = cfg->zero_checksum;
    a->dcep = cfg->dcep;
    a->dtls_client = cfg->dtls_client;
    a->pool = pool;
    a->rng0 = cfg->seed ^ 0x5c7b9e11d2a4f3c5ull;
    a->rng_n = 4; /* draws 1-4: the cookie key */
    a->state = SCTP_ST_CLOSED;
    a->now = now;
    a->cookie_buf = a->ia_buf = a->hb_ack_buf = a->rcv_map = a->in_reset_buf = SCTP_NIL;
    a->snd_head = a->snd_tail = a->snd_unsent = SCTP_NIL;
    a->rx_head = a->rx_tail = a->ready_head = a->ready_tail = SCTP_NIL;
    a->sack_q_head = a->sack_q_tail = SCTP_NIL;
    a->rto = (uint64_t)a->rto_init_ms * NS_PER_MS;
    uint32_t min_cwnd = 2u * a->mtu > 4380 ? 2u * a->mtu : 4380;
    a->cwnd = cfg->init_cwnd ? cfg->init_cwnd : (4u * a->mtu < min_cwnd ? 4u * a->mtu : min_cwnd);
    return a;
}

enum sctp_state sctp_state(const struct sctp_assoc *a) { return (enum sctp_state)a->state; }
const struct sctp_counters *sctp_counters(const struct sctp_assoc *a) { return a->c; }
uint32_t sctp_buffered(const struct sctp_assoc *a) { return a->buffered; }
uint32_t sctp_cwnd(const struct sctp_assoc *a) { return a->cwnd; }
uint64_t sctp_srtt_ns(const struct sctp_assoc *a) { return a->srtt; }
uint64_t sctp_rto(const struct sctp_assoc *a) { return a->rto; }

void sctp_prefetch(const struct sctp_assoc *a)
{
    for (size_t off = 0; off < 192; off += 64)
        __builtin_prefetch((const char *)a + off, 1);
}

static void set_now(struct sctp_assoc *a, uint64_t now)
{
    if (now > a->now)
        a->now = now;
}

static void free_handshake(struct sctp_assoc *a)
{
    sctp_pool_put(a->pool, a->cookie_buf);
    a->cookie_buf = SCTP_NIL;
}

static void free_ia(struct sctp_assoc *a)
{
    sctp_pool_put(a->pool, a->ia_buf);
    a->ia_buf = SCTP_NIL;
}

void sctp_set_down(struct sctp_assoc *a, uint8_t reason)
{
    if (a->state == SCTP_ST_CLOSED && a->pending_down)
        return;
    bool was_open = a->state != SCTP_ST_CLOSED;
    a->state = SCTP_ST_CLOSED;
    for (int t = 0; t < T_COUNT; t++)
        timer_stop(a, t);
    free_handshake(a);
    free_ia(a); /* need_init_ack is cleared below */
    sctp_pool_put(a->pool, a->hb_ack_buf);
    a->hb_ack_buf = SCTP_NIL;
    if (was_open)
        a->c->messages_discarded += sctp_census_held(a);
    sctp_tx_free_all(a);
    sctp_rx_free_all(a);
    a->need_init = a->need_init_ack = a->need_cookie_echo = a->need_cookie_ack = false;
    a->need_sack = a->need_shutdown = a->need_shutdown_ack = a->need_fwd_tsn = false;
    a->need_reconf_req = a->need_reconf_resp = a->need_hb = a->need_error = false;
    if (was_open) {
        a->pending_down = true;
        a->down_reason = reason;
    }
}

static void established(struct sctp_assoc *a)
{
    a->state = SCTP_ST_ESTABLISHED;
    timer_stop(a, T_CTL);
    free_handshake(a);
    a->pending_up = true;
    a->errors = 0;
    a->rto = (uint64_t)a->rto_init_ms * NS_PER_MS;
    if (a->hb_ms)
        timer_set(a, T_HB, a->now + (uint64_t)a->hb_ms * NS_PER_MS);
}

/* ---- connecting ---- */

int sctp_connect(struct sctp_assoc *a, uint64_t now)
{
    set_now(a, now);
    if (a->state != SCTP_ST_CLOSED)
        return -EISCONN;
    a->pending_down = false;
    a->my_vtag = rand_tag(a);
    a->my_itsn = sctp_rand32(a);
    a->state = SCTP_ST_COOKIE_WAIT;
    a->init_tries = 0;
    a->need_init = true;
    timer_set(a, T_CTL, a->now + a->rto);
    return 0;
}

/* Parses the optional parameters of INIT / INIT-ACK: the extensions we
 * care for and the state cookie. Returns false on a malformed TLV. */
static bool parse_init_params(const uint8_t *p, size_t len, uint8_t *flags, const uint8_t **cookie,
                              uint16_t *cookie_len)
{
    *flags = 0;
    size_t off = 0;
    while (off + 4 <= len) {
        uint16_t type = wire_get16(p + off), plen = wire_get16(p + off + 2);
        if (plen < 4 || off + plen > len)
            return false;
        const uint8_t *v = p + off + 4;
        uint16_t vlen = (uint16_t)(plen - 4);
        switch (type) {
        case PT_FORWARD_TSN_SUPPORTED:
            *flags |= 1;
            break;
        case PT_SUPPORTED_EXT:
            for (uint16_t i = 0; i < vlen; i++) {
                if (v[i] == CT_FORWARD_TSN)
                    *flags |= 1;
                if (v[i] == CT_RECONFIG)
                    *flags |= 2;
            }
            break;
        case PT_ZERO_CHECKSUM:
            if (vlen == 4 && wire_get32(v) == ZERO_CSUM_EDMID_DTLS)
                *flags |= 4;
            break;
        case PT_STATE_COOKIE:
            if (cookie) {
                *cookie = v;
                *cookie_len = vlen;
            }
            break;
        default:
            if (!(type & 0x8000)) /* "stop processing further parameters" */
                return true;
            break;
        }
        off += pad4(plen);
    }
    return true;
}

static void adopt_peer(struct sctp_assoc *a, uint32_t peer_vtag, uint32_t peer_itsn,
                       uint32_t peer_rwnd, uint16_t peer_os, uint16_t peer_mis, uint8_t flags)
{
    a->peer_vtag = peer_vtag;
    a->peer_fwd_tsn = flags & 1;
    a->peer_reconf = (flags & 2) != 0;
    a->peer_zero_csum = (flags & 4) && a->zero_csum_cfg;
    a->n_out = peer_mis < a->n_streams ? peer_mis : a->n_streams;
    a->n_in = peer_os < a->n_streams ? peer_os : a->n_streams;
    sctp_tx_init(a, a->my_itsn, peer_rwnd);
    sctp_rx_init(a, peer_itsn);
    a->reconf_seq = a->my_itsn;
    a->peer_reconf_seq = peer_itsn;
}

static bool handle_init(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (len < 20) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    }
    uint32_t tag = wire_get32(ch + 4), rwnd = wire_get32(ch + 8), itsn = wire_get32(ch + 16);
    uint16_t os = wire_get16(ch + 12), mis = wire_get16(ch + 14);
    uint8_t flags;
    if (tag == 0 || os == 0 || mis == 0 || !parse_init_params(ch + 20, len - 20u, &flags, NULL, NULL)) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    }
    if (a->state != SCTP_ST_CLOSED && a->state != SCTP_ST_COOKIE_WAIT &&
        a->state != SCTP_ST_COOKIE_ECHOED) {
        sctp_drop(a, SCTP_DROP_UNEXPECTED); /* restart of an established association: not supported */
        return false;
    }
    /* the INIT's values wait in a pool buffer for the INIT-ACK (and its
     * cookie) to be built, one at a time; a later INIT replaces them */
    if (a->ia_buf == SCTP_NIL)
        a->ia_buf = sctp_pool_get(a->pool);
    if (a->ia_buf == SCTP_NIL) {
        sctp_drop(a, SCTP_DROP_NO_BUFFER);
        return false;
    }
    /* stateless in CLOSED: the tag and TSN we pick travel in the cookie;
     * in a collision we answer with those of our own INIT (§5.2.1) */
    if (a->state == SCTP_ST_CLOSED) {
        a->my_vtag = rand_tag(a);
        a->my_itsn = sctp_rand32(a);
    }
    struct sctp_buf *b = pbuf(a->pool, a->ia_buf);
    uint8_t *d = pdata(a->pool, b);
    b->kind = BK_BLOB;
    b->len = IA_LEN;
    wire_put32(d + IA_VTAG, tag);
    wire_put32(d + IA_ITSN, itsn);
    wire_put32(d + IA_RWND, rwnd);
    wire_put16(d + IA_OS, os);
    wire_put16(d + IA_MIS, mis);
    d[IA_FLAGS] = flags;
    a->need_init_ack = true;
    return true;
}

static bool handle_init_ack(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (a->state != SCTP_ST_COOKIE_WAIT) {
        sctp_drop(a, SCTP_DROP_UNEXPECTED);
        return false;
    }
    uint8_t flags;
    const uint8_t *cookie = NULL;
    uint16_t clen = 0;
    if (len < 20 || wire_get32(ch + 4) == 0 || wire_get16(ch + 12) == 0 || wire_get16(ch + 14) == 0 ||
        !parse_init_params(ch + 20, len - 20u, &flags, &cookie, &clen) || !cookie || clen == 0) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    }
    uint32_t b = sctp_pool_get(a->pool);
    if (b == SCTP_NIL || clen > a->pool->cap) {
        sctp_pool_put(a->pool, b);
        sctp_drop(a, b == SCTP_NIL ? SCTP_DROP_NO_BUFFER : SCTP_DROP_TOO_BIG);
        return false;
    }
    struct sctp_buf *cb = pbuf(a->pool, b);
    cb->kind = BK_BLOB;
    cb->len = clen;
    memcpy(pdata(a->pool, cb), cookie, clen);
    a->cookie_buf = b;
    adopt_peer(a, wire_get32(ch + 4), wire_get32(ch + 16), wire_get32(ch + 8), wire_get16(ch + 12), wire_get16(ch + 14), flags);
    a->state = SCTP_ST_COOKIE_ECHOED;
    a->need_init = false;
    a->need_cookie_echo = true;
    a->init_tries = 0;
    a->rto = (uint64_t)a->rto_init_ms * NS_PER_MS;
    timer_set(a, T_CTL, a->now + a->rto);
    return true;
}

static void make_cookie(struct sctp_assoc *a, uint8_t *c)
{
    wire_put32(c, COOKIE_VERSION);
    wire_put64(c + 4, a->now);
    wire_put32(c + 12, a->my_vtag);
    const uint8_t *ia = pdata(a->pool, pbuf(a->pool, a->ia_buf));
    wire_put32(c + 16, wire_get32(ia + IA_VTAG));
    wire_put32(c + 20, a->my_itsn);
    wire_put32(c + 24, wire_get32(ia + IA_ITSN));
    wire_put32(c + 28, wire_get32(ia + IA_RWND));
    wire_put16(c + 32, wire_get16(ia + IA_OS));
    wire_put16(c + 34, wire_get16(ia + IA_MIS));
    c[36] = ia[IA_FLAGS];
    c[37] = c[38] = c[39] = 0;
    uint8_t key[16];
    cookie_key(a, key);
    sctp_hmac_sha256(key, sizeof(key), c, 40, c + 40);
}

/* COOKIE-ECHO: the packet's tag was not checked yet; it must be the one in
 * the cookie. Returns false when the packet is to be dropped. */
static bool handle_cookie_echo(struct sctp_assoc *a, const uint8_t *ch, uint16_t len, uint32_t vtag)
{
    const uint8_t *c = ch + 4;
    uint8_t mac[32];
    if (len != 4 + COOKIE_LEN || wire_get32(c) != COOKIE_VERSION) {
        sctp_drop(a, SCTP_DROP_BAD_COOKIE);
        return false;
    }
    uint8_t key[16];
    cookie_key(a, key);
    sctp_hmac_sha256(key, sizeof(key), c, 40, mac);
    uint8_t diff = 0;
    for (int i = 0; i < 32; i++)
        diff |= mac[i] ^ c[40 + i];
    if (diff || wire_get32(c + 12) != vtag) {
        sctp_drop(a, SCTP_DROP_BAD_COOKIE);
        return false;
    }
    uint64_t born = wire_get64(c + 4);
    if (born > a->now + COOKIE_LIFE_NS || a->now - born > COOKIE_LIFE_NS) {
        sctp_drop(a, SCTP_DROP_STALE_COOKIE);
        return false;
    }
    uint32_t my_tag = wire_get32(c + 12), peer_tag = wire_get32(c + 16);
    switch (a->state) {
    case SCTP_ST_CLOSED:
        a->my_vtag = my_tag;
        a->my_itsn = wire_get32(c + 20);
        a->pending_down = false;
        adopt_peer(a, peer_tag, wire_get32(c + 24), wire_get32(c + 28), wire_get16(c + 32), wire_get16(c + 34), c[36]);
        established(a);
        break;
    case SCTP_ST_COOKIE_WAIT:
    case SCTP_ST_COOKIE_ECHOED:
        if (my_tag != a->my_vtag) {
            sctp_drop(a, SCTP_DROP_BAD_COOKIE);
            return false;
        }
        if (a->state == SCTP_ST_COOKIE_WAIT)
            adopt_peer(a, peer_tag, wire_get32(c + 24), wire_get32(c + 28), wire_get16(c + 32), wire_get16(c + 34), c[36]);
        established(a);
        break;
    default:
        if (my_tag != a->my_vtag || peer_tag != a->peer_vtag) {
            sctp_drop(a, SCTP_DROP_UNEXPECTED);
            return false;
        }
        break; /* our COOKIE-ACK was lost: send it again */
    }
    a->need_cookie_ack = true;
    return true;
}

/* ---- shutdown ---- */

static void shutdown_progress(struct sctp_assoc *a)
{
    if (a->buffered)
        return;
    if (a->state == SCTP_ST_SHUTDOWN_PENDING) {
        a->state = SCTP_ST_SHUTDOWN_SENT;
        a->need_shutdown = true;
        timer_set(a, T_CTL, a->now + a->rto);
        timer_stop(a, T_RTX);
    } else if (a->state == SCTP_ST_SHUTDOWN_RECEIVED) {
        a->state = SCTP_ST_SHUTDOWN_ACK_SENT;
        a->need_shutdown_ack = true;
        timer_set(a, T_CTL, a->now + a->rto);
        timer_stop(a, T_RTX);
    }
}

int sctp_shutdown(struct sctp_assoc *a, uint64_t now)
{
    set_now(a, now);
    if (a->state != SCTP_ST_ESTABLISHED)
        return a->state == SCTP_ST_CLOSED ? -ENOTCONN : -EALREADY;
    a->state = SCTP_ST_SHUTDOWN_PENDING;
    shutdown_progress(a);
    return 0;
}

void sctp_abort(struct sctp_assoc *a, uint64_t now)
{
    set_now(a, now);
    if (a->state == SCTP_ST_CLOSED)
        return;
    bool tbit = a->state == SCTP_ST_COOKIE_WAIT;
    sctp_set_down(a, SCTP_DOWN_ABORT_SENT);
    a->need_abort = true;
    a->abort_tbit = tbit;
    a->abort_violation = false;
}

void sctp_abort_violation(struct sctp_assoc *a)
{
    if (a->state == SCTP_ST_CLOSED)
        return;
    sctp_drop(a, SCTP_DROP_TOO_BIG);
    sctp_set_down(a, SCTP_DOWN_ABORT_SENT);
    a->need_abort = true;
    a->abort_tbit = false;
    a->abort_violation = true;
}

/* ---- input ---- */

static bool established_like(const struct sctp_assoc *a)
{
    return a->state >= SCTP_ST_ESTABLISHED;
}

static bool handle_sack(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (len < 16) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    }
    uint16_t n_gaps = wire_get16(ch + 12), n_dups = wire_get16(ch + 14);
    if (16u + 4u * n_gaps + 4u * n_dups > len) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    }
    if (!established_like(a)) {
        sctp_drop(a, SCTP_DROP_UNEXPECTED);
        return true;
    }
    a->c->sacks_in++;
    sctp_tx_sack(a, wire_get32(ch + 4), wire_get32(ch + 8), true, ch + 16, n_gaps);
    return true;
}

static void handle_heartbeat(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (len < 8 || wire_get16(ch + 4) != PT_HB_INFO || wire_get16(ch + 6) < 4 || 4u + wire_get16(ch + 6) > len) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return;
    }
    uint16_t plen = wire_get16(ch + 6);
    if (plen > a->pool->cap) {
        sctp_drop(a, SCTP_DROP_TOO_BIG);
        return;
    }
    if (a->hb_ack_buf == SCTP_NIL)
        a->hb_ack_buf = sctp_pool_get(a->pool);
    if (a->hb_ack_buf == SCTP_NIL) {
        sctp_drop(a, SCTP_DROP_NO_BUFFER);
        return;
    }
    struct sctp_buf *b = pbuf(a->pool, a->hb_ack_buf);
    b->kind = BK_BLOB;
    b->len = plen;
    memcpy(pdata(a->pool, b), ch + 4, plen);
}

static void handle_heartbeat_ack(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (len != 16 || wire_get16(ch + 4) != PT_HB_INFO || wire_get16(ch + 6) != 12) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return;
    }
    uint64_t sent = wire_get64(ch + 8);
    if (!a->hb_outstanding || sent != (uint64_t)a->hb_nonce)
        return;
    a->hb_outstanding = false;
    a->errors = 0;
}

static void handle_shutdown(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (len != 8) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return;
    }
    switch (a->state) {
    case SCTP_ST_ESTABLISHED:
    case SCTP_ST_SHUTDOWN_PENDING:
        sctp_tx_sack(a, wire_get32(ch + 4), 0, false, NULL, 0);
        a->state = SCTP_ST_SHUTDOWN_RECEIVED;
        shutdown_progress(a);
        break;
    case SCTP_ST_SHUTDOWN_RECEIVED:
        sctp_tx_sack(a, wire_get32(ch + 4), 0, false, NULL, 0);
        shutdown_progress(a);
        break;
    case SCTP_ST_SHUTDOWN_SENT: /* both sides shut down at once */
        a->state = SCTP_ST_SHUTDOWN_ACK_SENT;
        a->need_shutdown_ack = true;
        timer_set(a, T_CTL, a->now + a->rto);
        break;
    default:
        break;
    }
}

static void report_unknown(struct sctp_assoc *a, uint8_t type)
{
    a->need_error = true;
    a->pending_error_type = type;
}

/* The common header and the first chunk's length: at least a header, a
 * checksum that holds (or zero, announced, RFC 9653), our ports. Drops and
 * returns false otherwise. */
static bool common_header_ok(struct sctp_assoc *a, const uint8_t *pkt, size_t len)
{
    if (!pkt || len < 16) {
        sctp_drop(a, SCTP_DROP_TRUNCATED);
        return false;
    }
    uint32_t csum = wire_get32(pkt + 8);
    /* with zero checksum announced (RFC 9653) the DTLS layer protects the
     * packet; a stateless listener announced it in its INIT-ACK */
    if (!(csum == 0 && a->zero_csum_cfg) && !sctp_crc32c_ok(pkt, len)) {
        sctp_drop(a, SCTP_DROP_BAD_CHECKSUM);
        return false;
    }
    if (wire_get16(pkt) != a->rport || wire_get16(pkt + 2) != a->lport) {
        sctp_drop(a, SCTP_DROP_BAD_PORT);
        return false;
    }
    uint16_t first_len = wire_get16(pkt + 14);
    if (first_len < 4 || first_len > len - 12) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    }
    return true;
}

/* The verification tag rules (§8.5, §8.5.1), chosen by the first chunk:
 * INIT alone with tag 0, ABORT and SHUTDOWN-COMPLETE by their T bit,
 * COOKIE-ECHO checked by its cookie, the rest with our tag. Drops and
 * returns false otherwise. */
static bool vtag_ok(struct sctp_assoc *a, const uint8_t *pkt, size_t len)
{
    uint32_t vtag = wire_get32(pkt + 4);
    uint8_t first = pkt[12];
    uint16_t first_len = wire_get16(pkt + 14);
    if (first == CT_INIT) {
        if (vtag != 0 || pad4(first_len) < len - 12) { /* INIT must be alone */
            sctp_drop(a, vtag ? SCTP_DROP_BAD_VTAG : SCTP_DROP_BAD_CHUNK);
            return false;
        }
    } else if (first == CT_ABORT || first == CT_SHUTDOWN_COMPLETE) {
        bool tbit = pkt[13] & 1;
        bool ok = a->state != SCTP_ST_CLOSED && (tbit ? vtag == a->peer_vtag : vtag == a->my_vtag);
        if (!ok) {
            sctp_drop(a, SCTP_DROP_BAD_VTAG);
            return false;
        }
    } else if (first != CT_COOKIE_ECHO) {
        if (a->state == SCTP_ST_CLOSED || vtag != a->my_vtag) {
            sctp_drop(a, SCTP_DROP_BAD_VTAG);
            return false;
        }
    }
    return true;
}

/* DATA: taken in the states that still receive, dropped in the others.
 * Returns whether it was taken. */
static bool handle_data(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (a->state == SCTP_ST_ESTABLISHED || a->state == SCTP_ST_SHUTDOWN_PENDING ||
        a->state == SCTP_ST_SHUTDOWN_SENT) {
        sctp_rx_data(a, ch, len);
        return true;
    }
    sctp_drop(a, SCTP_DROP_UNEXPECTED);
    return false;
}

/* SHUTDOWN-ACK: the association is down once we sent SHUTDOWN (or our own
 * SHUTDOWN-ACK); SHUTDOWN-COMPLETE follows. Returns whether to stop. */
static bool handle_shutdown_ack(struct sctp_assoc *a)
{
    if (a->state != SCTP_ST_SHUTDOWN_SENT && a->state != SCTP_ST_SHUTDOWN_ACK_SENT)
        return false;
    sctp_set_down(a, SCTP_DOWN_SHUTDOWN);
    a->need_shutdown_complete = true;
    return true;
}

/* A chunk type we do not know: dropped, reported when its 0x40 bit asks,
 * the rest of the packet skipped unless its 0x80 bit says go on (§3.2).
 * Returns whether to stop. */
static bool handle_unknown(struct sctp_assoc *a, uint8_t type)
{
    sctp_drop(a, SCTP_DROP_UNKNOWN_CHUNK);
    if (type & 0x40)
        report_unknown(a, type);
    return !(type & 0x80);
}

/* One chunk of a packet whose headers held, at offset off; sets *had_data
 * when it carried DATA or moved the peer's cumulative TSN. Returns whether
 * to stop reading the packet. */
static bool handle_chunk(struct sctp_assoc *a, const uint8_t *ch, uint16_t clen, size_t off, uint32_t vtag,
                         bool *had_data)
{
    switch (ch[0]) {
    case CT_DATA:
        *had_data |= handle_data(a, ch, clen);
        return false;
    case CT_INIT:
        return !handle_init(a, ch, clen);
    case CT_INIT_ACK:
        return !handle_init_ack(a, ch, clen);
    case CT_COOKIE_ECHO:
        if (off == 12)
            return !handle_cookie_echo(a, ch, clen, vtag);
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    case CT_COOKIE_ACK:
        if (a->state == SCTP_ST_COOKIE_ECHOED)
            established(a);
        return false;
    case CT_SACK:
        return !handle_sack(a, ch, clen);
    case CT_HEARTBEAT:
        if (established_like(a))
            handle_heartbeat(a, ch, clen);
        return false;
    case CT_HEARTBEAT_ACK:
        handle_heartbeat_ack(a, ch, clen);
        return false;
    case CT_ABORT:
        sctp_set_down(a, SCTP_DOWN_ABORT_RECEIVED);
        return true;
    case CT_SHUTDOWN:
        handle_shutdown(a, ch, clen);
        return false;
    case CT_SHUTDOWN_ACK:
        return handle_shutdown_ack(a);
    case CT_SHUTDOWN_COMPLETE:
        if (a->state == SCTP_ST_SHUTDOWN_ACK_SENT)
            sctp_set_down(a, SCTP_DOWN_SHUTDOWN);
        return true;
    case CT_ERROR:
        a->c->errors_in++; /* an operation error the peer reports: nothing we act upon */
        return false;
    case CT_RECONFIG:
        if (established_like(a))
            sctp_reconf_handle(a, ch, clen);
        return false;
    case CT_FORWARD_TSN:
        if (established_like(a))
            *had_data |= sctp_rx_forward_tsn(a, ch, clen);
        return false;
    default:
        return handle_unknown(a, ch[0]);
    }
}

/* Each chunk in turn until the packet ends, a chunk is malformed or out of
 * place (INIT, INIT-ACK and SHUTDOWN-COMPLETE come alone), or one says
 * stop. Returns whether DATA or FORWARD-TSN came. */
static bool handle_chunks(struct sctp_assoc *a, const uint8_t *pkt, size_t len)
{
    uint32_t vtag = wire_get32(pkt + 4);
    bool had_data = false;
    size_t off = 12;
    while (off + 4 <= len) {
        const uint8_t *ch = pkt + off;
        uint8_t type = ch[0];
        uint16_t clen = wire_get16(ch + 2);
        if (clen < 4 || clen > len - off) {
            sctp_drop(a, SCTP_DROP_BAD_CHUNK);
            break;
        }
        if (off > 12 && (type == CT_INIT || type == CT_INIT_ACK || type == CT_SHUTDOWN_COMPLETE)) {
            sctp_drop(a, SCTP_DROP_BAD_CHUNK); /* must be alone in their packet */
            break;
        }
        if (handle_chunk(a, ch, clen, off, vtag, &had_data))
            break;
        off += pad4(clen);
    }
    return had_data;
}

enum engine_input sctp_handle_input(struct sctp_assoc *a, const uint8_t *pkt, size_t len, uint64_t now)
{
    set_now(a, now);
    a->c->packets_in++;
    if (!common_header_ok(a, pkt, len) || !vtag_ok(a, pkt, len))
        return ENGINE_IN_MALFORMED;
    bool had_data = handle_chunks(a, pkt, len);
    if (established_like(a)) {
        sctp_rx_after_packet(a, had_data);
        if (established_like(a)) { /* not aborted for a message over max_message */
            sctp_reconf_check_deferred(a);
            shutdown_progress(a);
        }
    }
    return ENGINE_IN_ACCEPTED;
}

/* ---- timers ---- */

static bool too_many_errors(struct sctp_assoc *a)
{
    if (++a->errors <= a->max_retrans)
        return false;
    sctp_set_down(a, SCTP_DOWN_FAILED);
    return true;
}

static uint64_t backoff(struct sctp_assoc *a)
{
    uint64_t max = (uint64_t)a->rto_max_ms * NS_PER_MS;
    a->rto = a->rto * 2 < max ? a->rto * 2 : max;
    return a->rto;
}

void sctp_handle_timeout(struct sctp_assoc *a, uint64_t now)
{
    set_now(a, now);
    now = a->now;
    for (int t = 0; t < T_COUNT; t++) {
        if (!a->timer[t] || a->timer[t] > now || a->state == SCTP_ST_CLOSED)
            continue;
        timer_stop(a, t);
        switch (t) {
        case T_CTL:
            if (a->state < SCTP_ST_ESTABLISHED) { /* T1-init, T1-cookie */
                if (++a->init_tries > a->max_init_retrans) {
                    a->state = SCTP_ST_COOKIE_WAIT; /* so that set_down reports it */
                    sctp_set_down(a, SCTP_DOWN_FAILED);
                    return;
                }
                if (a->state == SCTP_ST_COOKIE_WAIT)
                    a->need_init = true;
                else
                    a->need_cookie_echo = true;
            } else { /* T2-shutdown */
                if (too_many_errors(a))
                    return;
                if (a->state == SCTP_ST_SHUTDOWN_SENT)
                    a->need_shutdown = true;
                else if (a->state == SCTP_ST_SHUTDOWN_ACK_SENT)
                    a->need_shutdown_ack = true;
            }
            timer_set(a, T_CTL, now + backoff(a));
            break;
        case T_RTX:
            if (too_many_errors(a))
                return;
            sctp_tx_t3(a);
            break;
        case T_RECONF:
            /* an unanswered RE-CONFIG is a retransmission like any other:
             * RTO backed off, the error counter toward
             * Association.Max.Retrans (RFC 6525 §5.1.1, RFC 9260 §8.1) */
            if (a->reconf_outstanding) {
                if (too_many_errors(a))
                    return;
                backoff(a);
            }
            sctp_reconf_timeout(a);
            break;
        case T_HB:
            if (a->hb_outstanding && too_many_errors(a))
                return;
            /* only an idle path is probed (RFC 9260 8.3): new DATA
             * restarts the period (sctp_tx_fill), so the timer ran out on
             * a path that had none during a whole period */
            if (a->flight == 0) {
                a->need_hb = true;
                a->hb_nonce = (uint32_t)now;
                a->hb_outstanding = true;
            }
            timer_set(a, T_HB, now + (uint64_t)a->hb_ms * NS_PER_MS + a->rto);
            break;
        case T_SACK:
            a->need_sack = true;
            break;
        }
    }
}

uint64_t sctp_next_timeout(const struct sctp_assoc *a)
{
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < T_COUNT; i++)
        if (a->timer[i] && a->timer[i] < t)
            t = a->timer[i];
    return t;
}

/* ---- output ---- */

static size_t put_chunk_hdr(uint8_t *p, uint8_t type, uint8_t flags, uint16_t len)
{
    p[0] = type;
    p[1] = flags;
    wire_put16(p + 2, len);
    return 4;
}

/* INIT and INIT-ACK share the fixed part and the extension parameters. */
static size_t put_init(struct sctp_assoc *a, uint8_t *p, uint8_t type, bool with_cookie)
{
    size_t o = 4;
    wire_put32(p + o, a->my_vtag);
    wire_put32(p + o + 4, sctp_rx_a_rwnd(a));
    wire_put16(p + o + 8, a->n_streams);
    wire_put16(p + o + 10, a->n_streams);
    wire_put32(p + o + 12, a->my_itsn);
    o += 16;
    if (with_cookie) {
        wire_put16(p + o, PT_STATE_COOKIE);
        wire_put16(p + o + 2, 4 + COOKIE_LEN);
        make_cookie(a, p + o + 4);
        o += 4 + COOKIE_LEN;
    }
    wire_put16(p + o, PT_FORWARD_TSN_SUPPORTED);
    wire_put16(p + o + 2, 4);
    o += 4;
    if (a->zero_csum_cfg) {
        wire_put16(p + o, PT_ZERO_CHECKSUM);
        wire_put16(p + o + 2, 8);
        wire_put32(p + o + 4, ZERO_CSUM_EDMID_DTLS);
        o += 8;
    }
    wire_put16(p + o, PT_SUPPORTED_EXT);
    wire_put16(p + o + 2, 6);
    p[o + 4] = CT_FORWARD_TSN;
    p[o + 5] = CT_RECONFIG;
    p[o + 6] = p[o + 7] = 0;
    o += 8;
    /* the chunk length leaves out the last parameter's padding (RFC 9260
     * §3.2; Wireshark flags it otherwise); the packet keeps it */
    put_chunk_hdr(p, type, 0, (uint16_t)(o - 2));
    return o;
}

static size_t finish(struct sctp_assoc *a, uint8_t *buf, size_t off, uint32_t vtag, bool crc)
{
    wire_put16(buf, a->lport);
    wire_put16(buf + 2, a->rport);
    wire_put32(buf + 4, vtag);
    if (crc || !a->peer_zero_csum)
        sctp_crc32c_seal(buf, off);
    else
        wire_put32(buf + 8, 0);
    a->c->packets_out++;
    return off;
}

/* A chunk that carries a copy of a pool buffer (a cookie, a heartbeat's
 * info), padded to four bytes. Returns the bytes written. */
static size_t put_blob_chunk(struct sctp_assoc *a, uint8_t *p, uint8_t type, const struct sctp_buf *b)
{
    put_chunk_hdr(p, type, 0, (uint16_t)(4 + b->len));
    memcpy(p + 4, pdata(a->pool, b), b->len);
    memset(p + 4 + b->len, 0, pad4(b->len) - b->len);
    return 4 + pad4(b->len);
}

/* The chunks that go alone in their packet (ABORT, INIT, INIT-ACK,
 * SHUTDOWN-COMPLETE), the first one due. Returns the packet's length, or 0
 * if none is due. */
static size_t put_lone_chunk(struct sctp_assoc *a, uint8_t *buf)
{
    size_t off = 12;
    if (a->need_abort) {
        a->need_abort = false;
        off += put_chunk_hdr(buf + off, CT_ABORT, a->abort_tbit ? 1 : 0, 8);
        wire_put16(buf + off, a->abort_violation ? EC_PROTOCOL_VIOLATION : EC_USER_ABORT);
        wire_put16(buf + off + 2, 4);
        off += 4;
        return finish(a, buf, off, a->abort_tbit ? a->my_vtag : a->peer_vtag, true);
    }
    if (a->need_init) {
        a->need_init = false;
        off += put_init(a, buf + off, CT_INIT, false);
        return finish(a, buf, off, 0, true);
    }
    if (a->need_init_ack) {
        a->need_init_ack = false;
        off += put_init(a, buf + off, CT_INIT_ACK, true);
        uint32_t vtag = wire_get32(pdata(a->pool, pbuf(a->pool, a->ia_buf)) + IA_VTAG);
        sctp_pool_put(a->pool, a->ia_buf);
        a->ia_buf = SCTP_NIL;
        return finish(a, buf, off, vtag, true);
    }
    if (a->need_shutdown_complete) {
        a->need_shutdown_complete = false;
        off += put_chunk_hdr(buf + off, CT_SHUTDOWN_COMPLETE, 0, 4);
        return finish(a, buf, off, a->peer_vtag, false);
    }
    return 0;
}

/* The hand-shake's bundled chunks, COOKIE-ECHO (if it fits) and
 * COOKIE-ACK, from off. Returns the new offset. */
static size_t put_cookie_chunks(struct sctp_assoc *a, uint8_t *buf, size_t off, size_t cap)
{
    if (a->need_cookie_echo && a->cookie_buf != SCTP_NIL) {
        struct sctp_buf *cb = pbuf(a->pool, a->cookie_buf);
        if (off + 4 + pad4(cb->len) <= cap) {
            a->need_cookie_echo = false;
            off += put_blob_chunk(a, buf + off, CT_COOKIE_ECHO, cb);
        }
    }
    if (a->need_cookie_ack) {
        a->need_cookie_ack = false;
        off += put_chunk_hdr(buf + off, CT_COOKIE_ACK, 0, 4);
    }
    return off;
}

/* SACKs that fell due earlier: each in its own packet but the last, which
 * leads this one at *off (or is freed if it does not fit). Returns the
 * length of a packet to send now, or 0 when the queue is empty. */
static size_t put_queued_sacks(struct sctp_assoc *a, uint8_t *buf, size_t *off, size_t cap)
{
    while (a->sack_q_n) {
        uint32_t i = sctp_rx_pop_sack(a);
        struct sctp_buf *sb = pbuf(a->pool, i);
        bool last = a->sack_q_n == 0;
        if (!last || *off + sb->len <= cap) {
            size_t o = last ? *off : 12;
            memcpy(buf + o, pdata(a->pool, sb), sb->len);
            sctp_pool_put(a->pool, i);
            if (!last)
                return finish(a, buf, 12 + sb->len, a->peer_vtag, false);
            *off += sb->len;
        } else {
            sctp_pool_put(a->pool, i);
        }
    }
    return 0;
}

/* The control chunks that fit from off: ERROR for an unknown chunk that
 * asked to be reported, HEARTBEAT-ACK, HEARTBEAT. Returns the new
 * offset. */
static size_t put_control_chunks(struct sctp_assoc *a, uint8_t *buf, size_t off, size_t cap)
{
    if (a->need_error && off + 12 <= cap) {
        a->need_error = false;
        off += put_chunk_hdr(buf + off, CT_ERROR, 0, 12);
        wire_put16(buf + off, EC_UNRECOGNIZED_CHUNK);
        wire_put16(buf + off + 2, 8);
        off += 4;
        put_chunk_hdr(buf + off, a->pending_error_type, 0, 4);
        off += 4;
    }
    if (a->hb_ack_buf != SCTP_NIL) {
        struct sctp_buf *hb = pbuf(a->pool, a->hb_ack_buf);
        if (off + 4 + pad4(hb->len) <= cap) {
            off += put_blob_chunk(a, buf + off, CT_HEARTBEAT_ACK, hb);
            sctp_pool_put(a->pool, a->hb_ack_buf);
            a->hb_ack_buf = SCTP_NIL;
        }
    }
    if (a->need_hb && off + 16 <= cap) {
        a->need_hb = false;
        off += put_chunk_hdr(buf + off, CT_HEARTBEAT, 0, 16);
        wire_put16(buf + off, PT_HB_INFO);
        wire_put16(buf + off + 2, 12);
        wire_put64(buf + off + 4, (uint64_t)a->hb_nonce);
        off += 12;
        a->c->heartbeats_out++;
    }
    return off;
}

/* SHUTDOWN and SHUTDOWN-ACK, after the data, if they fit. Returns the new
 * offset. */
static size_t put_shutdown_chunks(struct sctp_assoc *a, uint8_t *buf, size_t off, size_t cap)
{
    if (a->need_shutdown && off + 8 <= cap) {
        a->need_shutdown = false;
        off += put_chunk_hdr(buf + off, CT_SHUTDOWN, 0, 8);
        wire_put32(buf + off, a->rcv_cum);
        off += 4;
    }
    if (a->need_shutdown_ack && off + 4 <= cap) {
        a->need_shutdown_ack = false;
        off += put_chunk_hdr(buf + off, CT_SHUTDOWN_ACK, 0, 4);
    }
    return off;
}

/* A SACK still delayed goes with a packet that leaves anyway (RFC 9260
 * §6: SHOULD bundle it with outgoing DATA if the packet stays within the
 * MTU), at sack_at, where a due SACK would have gone: before the control
 * chunks and DATA (§6.10); sack_at 0: the packet has a SACK already. The
 * chunks built from sack_at move up by its 16 bytes (at most one packet's
 * bytes, once per delayed SACK); when they do not fit the SACK stays
 * delayed. Sending it stops the delayed-SACK timer:
 * the peer gets its acknowledgement with our data instead of in a packet
 * of its own up to sack_delay_ms later. Returns the packet's new end. */
static size_t bundle_delayed_sack(struct sctp_assoc *a, uint8_t *buf, size_t sack_at, size_t off,
                                  size_t cap)
{
    if (!sack_at || !sctp_rx_sack_delayed(a) || off + SACK_LEN_DELAYED > cap)
        return off;
    memmove(buf + sack_at + SACK_LEN_DELAYED, buf + sack_at, off - sack_at);
    sctp_rx_put_sack(a, buf + sack_at, SACK_LEN_DELAYED);
    return off + SACK_LEN_DELAYED;
}

size_t sctp_poll_transmit(struct sctp_assoc *a, uint8_t *buf, size_t cap, uint64_t now)
{
    set_now(a, now);
    if (cap > a->mtu)
        cap = a->mtu;
    if (cap < 256)
        return 0;
    size_t n = put_lone_chunk(a, buf);
    if (n)
        return n;
    if (a->state == SCTP_ST_CLOSED)
        return 0;
    size_t off = put_cookie_chunks(a, buf, 12, cap);
    if (a->state < SCTP_ST_ESTABLISHED) /* COOKIE-ECHO keeps a real checksum */
        return off > 12 ? finish(a, buf, off, a->peer_vtag, true) : 0;
    size_t sack_at = off;
    n = put_queued_sacks(a, buf, &off, cap);
    if (n)
        return n;
    /* then bundled in this order: SACK, control, FORWARD-TSN, RE-CONFIG,
     * DATA, SHUTDOWN */
    if (a->need_sack || a->sack_now)
        off += sctp_rx_put_sack(a, buf + off, cap - off);
    /* a packet led by a SACK already (one built when due) takes no
     * second: the delayed one waits for the next packet */
    sack_at = off == sack_at ? off : 0;
    off = put_control_chunks(a, buf, off, cap);
    if (a->need_fwd_tsn)
        off += sctp_tx_put_fwd_tsn(a, buf + off, cap - off);
    if (a->need_reconf_req || a->need_reconf_resp)
        off += sctp_reconf_put(a, buf + off, cap - off);
    bool sent_data = false;
    if (a->state == SCTP_ST_ESTABLISHED || a->state == SCTP_ST_SHUTDOWN_PENDING ||
        a->state == SCTP_ST_SHUTDOWN_RECEIVED)
        off = sctp_tx_fill(a, buf, off, cap, &sent_data);
    off = put_shutdown_chunks(a, buf, off, cap);
    if (off == 12)
        return 0;
    off = bundle_delayed_sack(a, buf, sack_at, off, cap);
    return finish(a, buf, off, a->peer_vtag, false);
}

/* ---- events ---- */

enum sctp_event_type sctp_poll_event(struct sctp_assoc *a, struct sctp_ev *ev)
{
    uint8_t *buf = ev->buf;
    size_t cap = buf ? ev->cap : 0;
    *ev = (struct sctp_ev){.buf = buf, .cap = ev->cap};
    if (a->pending_up) {
        a->pending_up = false;
        return ev->type = SCTP_EV_UP;
    }
    while (a->ready_head != SCTP_NIL) {
        uint32_t i = a->ready_head;
        struct sctp_buf *b = pbuf(a->pool, i);
        if (b->kind == BK_CLOSED_MARK || b->kind == BK_RESET_MARK) {
            ev->type = b->kind == BK_CLOSED_MARK ? SCTP_EV_DC_CLOSED : SCTP_EV_STREAM_RESET;
            ev->sid = b->sid;
            a->ready_head = b->next;
            if (a->ready_head == SCTP_NIL)
                a->ready_tail = SCTP_NIL;
            sctp_pool_put(a->pool, i);
            return ev->type;
        }
        /* a message: buffers from B to E */
        uint32_t total = 0, last = i, n = 0;
        for (uint32_t j = i;; j = pbuf(a->pool, j)->next) {
            struct sctp_buf *f = pbuf(a->pool, j);
            total += f->len;
            n++;
            last = j;
            if (f->flags & DF_E)
                break;
        }
        uint16_t sid = b->sid;
        uint32_t ppid = b->ppid;
        bool unordered = b->flags & DF_U;
        bool fits = total <= cap;
        uint32_t o = 0;
        for (uint32_t j = i;;) {
            struct sctp_buf *f = pbuf(a->pool, j);
            if (fits)
                memcpy(buf + o, pdata(a->pool, f), f->len);
            o += f->len;
            if (j == last)
                break;
            j = f->next;
        }
        a->ready_head = pbuf(a->pool, last)->next;
        if (a->ready_head == SCTP_NIL)
            a->ready_tail = SCTP_NIL;
        pbuf(a->pool, last)->next = SCTP_NIL;
        sctp_pool_put_list(a->pool, i);
        a->rx_bytes -= total;
        a->rx_bufs = (uint16_t)(a->rx_bufs - n);
        if (!fits) {
            sctp_drop(a, SCTP_DROP_TOO_BIG);
            continue;
        }
        if (a->dcep) {
            if (ppid == SCTP_PPID_DCEP) {
                enum sctp_event_type t = sctp_dcep_message(a, sid, buf, total, ev, buf, cap);
                if (t != SCTP_EV_NONE)
                    return t;
                continue;
            }
            if (sid >= a->n_streams || !(a->streams[sid].flags & SF_DC_OUT)) {
                sctp_drop(a, SCTP_DROP_BAD_DCEP); /* data on a channel never opened */
                continue;
            }
            if (ppid == SCTP_PPID_STRING_EMPTY || ppid == SCTP_PPID_BINARY_EMPTY)
                total = 0;
        }
        ev->type = SCTP_EV_MESSAGE;
        ev->sid = sid;
        ev->ppid = ppid;
        ev->len = total;
        ev->unordered = unordered;
        return ev->type;
    }
    if (a->pending_down) {
        a->pending_down = false;
        ev->down_reason = a->down_reason;
        return ev->type = SCTP_EV_DOWN;
    }
    return SCTP_EV_NONE;
}
