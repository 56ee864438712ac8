/* SPDX-License-Identifier: MIT */
#include "ice.h"
#include "splitmix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The layout behind struct ice_agent (ICE_AGENT_SIZE bytes). */
struct ice_impl {
    enum ice_role role;
    enum ice_state state;
    bool lite;
    uint64_t tiebreaker;
    uint32_t priority;
    char local_ufrag[ICE_UFRAG_MAX + 1], local_pwd[ICE_PWD_MAX + 1];
    char remote_ufrag[ICE_UFRAG_MAX + 1], remote_pwd[ICE_PWD_MAX + 1];
    struct stun_addr peer;
    uint8_t tid[12];           /* of the outstanding request */
    uint64_t tid_seq;          /* source of transaction ids (no RNG needed) */
    uint32_t tries;
    uint64_t next_send;        /* deadline of the next request, 0 none */
    uint64_t rto;
    uint64_t last_now;
    uint8_t pending[256];      /* one answer to transmit */
    uint16_t pending_len;
    bool send_request;         /* a request is due */
    enum ice_event_type events[4];
    uint8_t n_events;
    struct ice_counters c;
};
ENGINE_STORAGE(struct ice_agent, struct ice_impl, impl, cimpl)

static int copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        return -EINVAL;
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

static void event(struct ice_impl *a, enum ice_event_type e)
{
    if (a->n_events < sizeof(a->events) / sizeof(a->events[0]))
        a->events[a->n_events++] = e;
}

int ice_init(struct ice_agent *ag, const struct ice_config *cfg)
{
    struct ice_impl *a = impl(ag);
    memset(a, 0, sizeof(*a));
    if (cfg->lite && cfg->role == ICE_CONTROLLING)
        return -EINVAL;
    if (copy(a->local_ufrag, sizeof(a->local_ufrag), cfg->local_ufrag) ||
        copy(a->local_pwd, sizeof(a->local_pwd), cfg->local_pwd) ||
        copy(a->remote_ufrag, sizeof(a->remote_ufrag), cfg->remote_ufrag) ||
        copy(a->remote_pwd, sizeof(a->remote_pwd), cfg->remote_pwd))
        return -EINVAL;
    a->role = cfg->role;
    a->lite = cfg->lite;
    a->tiebreaker = cfg->tiebreaker;
    a->priority = cfg->priority;
    a->peer = cfg->peer;
    a->tid_seq = cfg->tiebreaker ^ 0x5354554e49434521ull;
    a->state = ICE_NEW;
    return 0;
}

static void new_tid(struct ice_impl *a)
{
    /* distinct per request; derived, so the engine needs no RNG */
    uint64_t z = splitmix64(&a->tid_seq);
    memcpy(a->tid, &z, 8);
    memcpy(a->tid + 8, &a->tid_seq, 4);
}

static void start(struct ice_impl *a, uint64_t now)
{
    a->last_now = now;
    a->state = ICE_CHECKING;
    if (a->role == ICE_CONTROLLING) {
        new_tid(a);
        a->tries = 0;
        a->rto = ICE_RTO_NS;
        a->send_request = true;
        a->next_send = now;
    }
}

void ice_start(struct ice_agent *a, uint64_t now)
{
    start(impl(a), now);
}

static void become(struct ice_impl *a, enum ice_role role, uint64_t now)
{
    a->role = role;
    a->c.role_conflicts++;
    event(a, ICE_EV_ROLE_CHANGED);
    if (role == ICE_CONTROLLING) {
        start(a, now);
    } else {
        a->send_request = false;
        a->next_send = 0;
    }
}

/* Queues an answer to request m: success with the peer's mapped address,
 * or an error code. Signed with our password. */
static void answer(struct ice_impl *a, const struct stun_msg *m, uint16_t error)
{
    struct stun_writer w;
    stun_begin(&w, a->pending, sizeof(a->pending),
               error ? STUN_BINDING_ERROR : STUN_BINDING_SUCCESS, m->tid);
    if (error)
        stun_put_error(&w, error, error == 487 ? "Role Conflict" : "Bad Request");
    else
        stun_put_xor_address(&w, &a->peer);
    stun_put_integrity(&w, (const uint8_t *)a->local_pwd, strlen(a->local_pwd));
    stun_put_fingerprint(&w);
    int n = stun_end(&w);
    a->pending_len = n > 0 ? (uint16_t)n : 0;
    if (n > 0)
        a->c.responses_sent++;
}

static enum engine_input handle_request(struct ice_impl *a, const uint8_t *buf, size_t len,
                                        const struct stun_msg *m, uint64_t now)
{
    /* USERNAME must be "our ufrag:their ufrag" */
    char want[2 * ICE_UFRAG_MAX + 2];
    int wl = snprintf(want, sizeof(want), "%s:%s", a->local_ufrag, a->remote_ufrag);
    if (!m->username || m->username_len != wl || memcmp(m->username, want, (size_t)wl) != 0) {
        a->c.ignored++;
        return ENGINE_IN_IGNORED;
    }
    if (stun_check_integrity(buf, len, m, (const uint8_t *)a->local_pwd, strlen(a->local_pwd)) != 0) {
        a->c.integrity_failures++;
        return ENGINE_IN_MALFORMED;
    }
    if (m->unknown_required) {
        a->c.malformed++;
        return ENGINE_IN_MALFORMED;
    }
    /* role conflicts (RFC 8445 7.3.1.1) */
    if (m->has_controlling && a->role == ICE_CONTROLLING) {
        if (a->tiebreaker >= m->tiebreaker) {
            a->c.role_conflicts++;
            answer(a, m, 487);
            return ENGINE_IN_ACCEPTED;
        }
        become(a, ICE_CONTROLLED, now);
    } else if (m->has_controlled && a->role == ICE_CONTROLLED) {
        if (a->lite || a->tiebreaker < m->tiebreaker) {
            /* a lite agent cannot take control: the peer must */
            a->c.role_conflicts++;
            answer(a, m, 487);
            return ENGINE_IN_ACCEPTED;
        }
        become(a, ICE_CONTROLLING, now);
    }
    answer(a, m, 0);
    if (a->role == ICE_CONTROLLED && m->use_candidate && a->state != ICE_CONNECTED) {
        a->state = ICE_CONNECTED;
        event(a, ICE_EV_CONNECTED);
    }
    return ENGINE_IN_ACCEPTED;
}

static enum engine_input handle_response(struct ice_impl *a, const uint8_t *buf, size_t len,
                                         const struct stun_msg *m, uint64_t now)
{
    if (!a->send_request && a->next_send == 0) {
        a->c.ignored++;
        return ENGINE_IN_IGNORED;
    }
    if (memcmp(m->tid, a->tid, 12) != 0) {
        a->c.ignored++; /* a late answer to an older transaction */
        return ENGINE_IN_IGNORED;
    }
    if (stun_check_integrity(buf, len, m, (const uint8_t *)a->remote_pwd, strlen(a->remote_pwd)) != 0) {
        a->c.integrity_failures++;
        return ENGINE_IN_MALFORMED;
    }
    a->c.responses_received++;
    if (m->type == STUN_BINDING_ERROR) {
        if (m->error_code == 487) {
            /* switch role and, when now controlling, check again */
            become(a, a->role == ICE_CONTROLLING ? ICE_CONTROLLED : ICE_CONTROLLING, now);
            return ENGINE_IN_ACCEPTED;
        }
        a->state = ICE_FAILED;
        a->next_send = 0;
        a->send_request = false;
        event(a, ICE_EV_FAILED);
        return ENGINE_IN_ACCEPTED;
    }
    a->next_send = 0;
    a->send_request = false;
    if (a->state != ICE_CONNECTED) {
        a->state = ICE_CONNECTED;
        event(a, ICE_EV_CONNECTED);
    }
    return ENGINE_IN_ACCEPTED;
}

enum engine_input ice_handle_input(struct ice_agent *ag, const uint8_t *buf, size_t len, uint64_t now)
{
    struct ice_impl *a = impl(ag);
    if (now > a->last_now)
        a->last_now = now;
    struct stun_msg m;
    if (stun_parse(buf, len, &m) < 0 || stun_check_fingerprint(buf, len, &m) != 0) {
        a->c.malformed++;
        return ENGINE_IN_MALFORMED;
    }
    switch (m.type) {
    case STUN_BINDING_REQUEST:
        return handle_request(a, buf, len, &m, a->last_now);
    case STUN_BINDING_SUCCESS:
    case STUN_BINDING_ERROR:
        return handle_response(a, buf, len, &m, a->last_now);
    default:
        a->c.ignored++;
        return ENGINE_IN_IGNORED;
    }
}

void ice_handle_timeout(struct ice_agent *ag, uint64_t now)
{
    struct ice_impl *a = impl(ag);
    if (now < a->last_now)
        return; /* time never goes back */
    a->last_now = now;
    if (a->next_send == 0 || now < a->next_send || a->send_request)
        return;
    if (a->tries >= ICE_MAX_TRIES) {
        a->state = ICE_FAILED;
        a->next_send = 0;
        event(a, ICE_EV_FAILED);
        return;
    }
    a->send_request = true;
    a->c.retransmits++;
}

size_t ice_poll_transmit(struct ice_agent *ag, uint8_t *buf, size_t cap, uint64_t now)
{
    struct ice_impl *a = impl(ag);
    if (now > a->last_now)
        a->last_now = now;
    if (a->pending_len) {
        if (cap < a->pending_len)
            return 0;
        size_t n = a->pending_len;
        memcpy(buf, a->pending, n);
        a->pending_len = 0;
        return n;
    }
    if (!a->send_request || a->role != ICE_CONTROLLING)
        return 0;
    struct stun_writer w;
    stun_begin(&w, buf, cap, STUN_BINDING_REQUEST, a->tid);
    char user[2 * ICE_UFRAG_MAX + 2];
    int ul = snprintf(user, sizeof(user), "%s:%s", a->remote_ufrag, a->local_ufrag);
    stun_put_bytes(&w, STUN_ATTR_USERNAME, user, (uint16_t)ul);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, a->priority);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, a->tiebreaker);
    stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
    stun_put_integrity(&w, (const uint8_t *)a->remote_pwd, strlen(a->remote_pwd));
    stun_put_fingerprint(&w);
    int n = stun_end(&w);
    if (n < 0)
        return 0;
    a->send_request = false;
    a->tries++;
    a->c.requests_sent++;
    a->next_send = a->last_now + a->rto;
    a->rto *= 2;
    return (size_t)n;
}

enum ice_event_type ice_poll_event(struct ice_agent *ag, struct ice_ev *ev)
{
    struct ice_impl *a = impl(ag);
    ev->role = a->role;
    if (a->n_events == 0)
        return ev->type = ICE_EV_NONE;
    ev->type = a->events[0];
    memmove(a->events, a->events + 1, (size_t)(a->n_events - 1) * sizeof(a->events[0]));
    a->n_events--;
    return ev->type;
}

uint64_t ice_next_timeout(const struct ice_agent *ag)
{
    const struct ice_impl *a = cimpl(ag);
    if (a->send_request || a->pending_len)
        return a->last_now;
    return a->next_send ? a->next_send : UINT64_MAX;
}

enum ice_state ice_state(const struct ice_agent *a)
{
    return cimpl(a)->state;
}

enum ice_role ice_role(const struct ice_agent *a)
{
    return cimpl(a)->role;
}

const struct ice_counters *ice_counters(const struct ice_agent *a)
{
    return &cimpl(a)->c;
}

void ice_set_peer(struct ice_agent *a, const struct stun_addr *peer)
{
    impl(a)->peer = *peer;
}
