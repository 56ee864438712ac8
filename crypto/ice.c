/* SPDX-License-Identifier: MIT */
/* The ICE agent: the single-pair check of the mesh, the full agent's check
 * list, nomination, consent freshness and restart (ice.h). */
#include "ice.h"
#include "splitmix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NONE 0xff /* no pair */

/* pair states (RFC 8445 §6.1.2.6; no Frozen: every remote candidate is
 * its own foundation, so every pair starts Waiting) */
enum { PAIR_WAITING, PAIR_IN_PROGRESS, PAIR_SUCCEEDED, PAIR_FAILED };

/* pair flags */
#define PF_VALID 0x01     /* a check of ours succeeded on it */
#define PF_NOMINATE 0x02  /* controlling: our next check on it carries USE-CANDIDATE */
#define PF_NOMINATED 0x04 /* controlled: the peer's check on it carried USE-CANDIDATE */
#define PF_DUE 0x08       /* a request of its transaction is due (ice_poll_transmit) */
#define PF_QUEUED 0x10    /* in the triggered-check queue */

/* One candidate pair: our one candidate with a remote one (48 bytes). */
struct ice_pair {
    uint64_t next_send;        /* retransmission deadline while in progress */
    struct stun_addr addr;     /* the remote candidate */
    uint32_t prio;             /* its priority */
    uint8_t tid[12];           /* the transaction in progress */
    uint8_t state, tries, type, flags;
};

/* The layout behind struct ice_agent (ICE_AGENT_SIZE bytes): the single
 * pair's state first (what the mesh touches), the full agent's after. */
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
    uint64_t tid_seq;          /* source of transaction ids and consent draws (no RNG needed) */
    uint32_t tries;
    uint64_t next_send;        /* deadline of the next request, 0 none */
    uint64_t rto;
    uint64_t last_now;
    uint8_t pending[128];      /* one answer to transmit (76 bytes at most) */
    uint16_t pending_len;
    bool send_request;         /* a request is due */
    enum ice_event_type events[4];
    uint8_t n_events;
    struct ice_counters c;
    struct stun_addr pending_to; /* where the answer goes */
    /* selection and consent (both modes) */
    bool full, consent, consent_lost, consent_due, has_sel;
    uint8_t local_type;
    struct stun_addr sel;      /* the selected pair's remote address */
    uint64_t consent_next, consent_expiry;
    uint8_t consent_tid[2][12]; /* the latest consent check and the one before */
    /* full agent */
    uint8_t n_pairs, n_trig, selected, nominating;
    uint8_t order[ICE_MAX_PAIRS]; /* pairs by pair priority, highest first */
    uint8_t trig[ICE_MAX_PAIRS];  /* the triggered-check queue (FIFO) */
    uint64_t ta, next_tick;    /* Ta and the next check's time (0: no check waiting) */
    uint64_t tick_ok;          /* the earliest time the next new check may go (the last one + Ta) */
    struct ice_pair pairs[ICE_MAX_PAIRS];
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

static bool addr_eq(const struct stun_addr *x, const struct stun_addr *y)
{
    return x->family == y->family && x->port == y->port &&
           memcmp(x->ip, y->ip, x->family == 6 ? 16 : 4) == 0;
}

/* ---- the check list ---------------------------------------------------- */

/* RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the
 * controlling agent's candidate priority. */
static uint64_t pair_prio(const struct ice_impl *a, const struct ice_pair *p)
{
    uint64_t g = a->role == ICE_CONTROLLING ? a->priority : p->prio;
    uint64_t d = a->role == ICE_CONTROLLING ? p->prio : a->priority;
    uint64_t lo = g < d ? g : d, hi = g < d ? d : g;
    return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

/* Orders the pairs by priority (insertion sort of at most ICE_MAX_PAIRS;
 * equal priorities keep the candidates' order). */
static void sort_pairs(struct ice_impl *a)
{
    for (uint8_t i = 0; i < a->n_pairs; i++)
        a->order[i] = i;
    for (uint8_t i = 1; i < a->n_pairs; i++) {
        uint8_t x = a->order[i];
        uint64_t px = pair_prio(a, &a->pairs[x]);
        int j = i - 1;
        while (j >= 0 && pair_prio(a, &a->pairs[a->order[j]]) < px) {
            a->order[j + 1] = a->order[j];
            j--;
        }
        a->order[j + 1] = x;
    }
}

static uint8_t add_pair(struct ice_impl *a, const struct stun_addr *addr, uint32_t prio, uint8_t type)
{
    if (a->n_pairs >= ICE_MAX_PAIRS)
        return NONE;
    uint8_t i = a->n_pairs++;
    struct ice_pair *p = &a->pairs[i];
    memset(p, 0, sizeof(*p));
    p->addr = *addr;
    p->prio = prio;
    p->type = type;
    p->state = PAIR_WAITING;
    sort_pairs(a);
    return i;
}

static uint8_t find_pair(const struct ice_impl *a, const struct stun_addr *addr)
{
    for (uint8_t i = 0; i < a->n_pairs; i++)
        if (addr_eq(&a->pairs[i].addr, addr))
            return i;
    return NONE;
}

static void set_pairs(struct ice_impl *a, const struct ice_cand *c, uint32_t n)
{
    a->n_pairs = 0;
    a->n_trig = 0;
    a->selected = a->nominating = NONE;
    a->full = n > 0;
    for (uint32_t i = 0; i < n; i++)
        add_pair(a, &c[i].addr, c[i].priority, c[i].type);
}

/* Puts pair i at the back of the triggered-check queue (Waiting) and
 * wakes the pacing timer: the check goes out at the next Ta slot. */
static void trigger(struct ice_impl *a, uint8_t i, uint64_t now)
{
    struct ice_pair *p = &a->pairs[i];
    p->state = PAIR_WAITING;
    p->flags &= (uint8_t)~PF_DUE;
    if (!(p->flags & PF_QUEUED) && a->n_trig < ICE_MAX_PAIRS) {
        p->flags |= PF_QUEUED;
        a->trig[a->n_trig++] = i;
    }
    if (a->state == ICE_CHECKING && a->next_tick == 0)
        a->next_tick = now > a->tick_ok ? now : a->tick_ok; /* Ta after the last check */
}

static void new_tid(struct ice_impl *a, uint8_t tid[12])
{
    /* distinct per request; derived, so the engine needs no RNG */
    uint64_t z = splitmix64(&a->tid_seq);
    memcpy(tid, &z, 8);
    memcpy(tid + 8, &a->tid_seq, 4);
}

/* Consent (RFC 7675 §5.1): the next check 4..6 s from now, drawn from the
 * agent's generator. */
static uint64_t consent_interval(struct ice_impl *a)
{
    uint64_t span = ICE_CONSENT_NS * 2 / 5; /* 40 %: +-20 % */
    return ICE_CONSENT_NS - span / 2 + splitmix64(&a->tid_seq) % (span + 1);
}

/* The pair (full) or the peer (single pair) is selected: connected. */
static void connected(struct ice_impl *a, const struct stun_addr *sel, uint64_t now)
{
    a->sel = *sel;
    a->has_sel = true;
    if (a->state == ICE_CONNECTED)
        return;
    a->state = ICE_CONNECTED;
    event(a, ICE_EV_CONNECTED);
    if (a->consent) {
        a->consent_lost = a->consent_due = false;
        a->consent_expiry = now + ICE_CONSENT_TIMEOUT_NS;
        a->consent_next = now + consent_interval(a);
    }
}

static void select_pair(struct ice_impl *a, uint8_t i, uint64_t now)
{
    a->selected = i;
    a->nominating = NONE;
    a->next_tick = 0; /* checking is over: no more checks, no retransmissions */
    a->n_trig = 0;
    for (uint8_t k = 0; k < a->n_pairs; k++)
        a->pairs[k].flags &= (uint8_t)~(PF_DUE | PF_QUEUED);
    connected(a, &a->pairs[i].addr, now);
}

/* Controlling: check valid pair i again with USE-CANDIDATE (regular
 * nomination, §8.1.1). */
static void nominate(struct ice_impl *a, uint8_t i, uint64_t now)
{
    a->nominating = i;
    a->pairs[i].flags |= PF_NOMINATE;
    trigger(a, i, now);
}

/* The highest-priority valid pair not failed, NONE when none. */
static uint8_t best_valid(const struct ice_impl *a)
{
    for (uint8_t k = 0; k < a->n_pairs; k++) {
        uint8_t i = a->order[k];
        if ((a->pairs[i].flags & PF_VALID) && a->pairs[i].state != PAIR_FAILED)
            return i;
    }
    return NONE;
}

/* Fails the agent when no pair can succeed any more. */
static void check_failed(struct ice_impl *a)
{
    if (a->state != ICE_CHECKING || a->selected != NONE)
        return;
    for (uint8_t i = 0; i < a->n_pairs; i++)
        if (a->pairs[i].state != PAIR_FAILED)
            return;
    a->state = ICE_FAILED;
    a->next_tick = 0;
    event(a, ICE_EV_FAILED);
}

static void pair_failed(struct ice_impl *a, uint8_t i, uint64_t now)
{
    struct ice_pair *p = &a->pairs[i];
    p->state = PAIR_FAILED;
    p->flags &= (uint8_t)~(PF_DUE | PF_VALID | PF_NOMINATE);
    a->c.pairs_failed++;
    if (a->nominating == i) {
        a->nominating = NONE;
        uint8_t v = best_valid(a);
        if (v != NONE && a->role == ICE_CONTROLLING)
            nominate(a, v, now);
    }
    check_failed(a);
}

/* One Ta slot (§6.1.4.2): the first triggered check, else the
 * highest-priority Waiting pair; none: the timer stops until a check is
 * triggered. */
static void tick(struct ice_impl *a, uint64_t now)
{
    uint8_t i = NONE;
    while (a->n_trig && i == NONE) {
        i = a->trig[0];
        memmove(a->trig, a->trig + 1, --a->n_trig);
        a->pairs[i].flags &= (uint8_t)~PF_QUEUED;
        if (a->pairs[i].state != PAIR_WAITING)
            i = NONE;
    }
    for (uint8_t k = 0; k < a->n_pairs && i == NONE; k++)
        if (a->pairs[a->order[k]].state == PAIR_WAITING)
            i = a->order[k];
    if (i == NONE) {
        a->next_tick = 0;
        return;
    }
    struct ice_pair *p = &a->pairs[i];
    new_tid(a, p->tid);
    p->state = PAIR_IN_PROGRESS;
    p->tries = 0;
    p->flags |= PF_DUE;
    a->next_tick = a->tick_ok = now + a->ta;
}

/* ---- set-up ------------------------------------------------------------ */

int ice_init(struct ice_agent *ag, const struct ice_config *cfg)
{
    struct ice_impl *a = impl(ag);
    memset(a, 0, offsetof(struct ice_impl, pairs)); /* the pairs are set as they are formed */
    if (cfg->lite && cfg->role == ICE_CONTROLLING)
        return -EINVAL;
    if (cfg->n_remote > ICE_MAX_REMOTE || (cfg->n_remote && (!cfg->remote || cfg->lite)))
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
    a->consent = cfg->consent;
    a->local_type = cfg->local_type;
    a->ta = cfg->ta_ns ? cfg->ta_ns : ICE_TA_NS;
    set_pairs(a, cfg->remote, cfg->n_remote);
    return 0;
}

static void start(struct ice_impl *a, uint64_t now)
{
    a->last_now = now;
    a->state = ICE_CHECKING;
    if (a->full) {
        tick(a, now); /* the first check at once, then one per Ta */
        return;
    }
    if (a->role == ICE_CONTROLLING) {
        new_tid(a, a->tid);
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

int ice_restart(struct ice_agent *ag, const char *lu, const char *lp, const char *ru, const char *rp,
                const struct ice_cand *remote, uint32_t n, uint64_t now)
{
    struct ice_impl *a = impl(ag);
    if (n > ICE_MAX_REMOTE || (n && (!remote || a->lite)))
        return -EINVAL;
    char s[4][ICE_PWD_MAX + 1];
    if (copy(s[0], ICE_UFRAG_MAX + 1, lu) || copy(s[1], ICE_PWD_MAX + 1, lp) || copy(s[2], ICE_UFRAG_MAX + 1, ru) ||
        copy(s[3], ICE_PWD_MAX + 1, rp))
        return -EINVAL;
    memcpy(a->local_ufrag, s[0], sizeof(a->local_ufrag));
    memcpy(a->local_pwd, s[1], sizeof(a->local_pwd));
    memcpy(a->remote_ufrag, s[2], sizeof(a->remote_ufrag));
    memcpy(a->remote_pwd, s[3], sizeof(a->remote_pwd));
    if (now > a->last_now)
        a->last_now = now;
    a->c.restarts++;
    a->send_request = false;
    a->next_send = 0;
    a->pending_len = 0;
    a->consent_due = false;
    a->consent_lost = false;
    a->next_tick = a->tick_ok = 0;
    set_pairs(a, remote, n);
    start(a, a->last_now); /* has_sel and sel stay: the old pair carries media meanwhile */
    return 0;
}

/* ---- answers and roles ------------------------------------------------- */

/* The full agent's role switch (a 487, or the peer's role in a request):
 * pair priorities change; a new controlling agent nominates. */
static void full_become(struct ice_impl *a, enum ice_role role, uint64_t now)
{
    a->role = role;
    a->c.role_conflicts++;
    event(a, ICE_EV_ROLE_CHANGED);
    sort_pairs(a);
    for (uint8_t i = 0; i < a->n_pairs; i++)
        a->pairs[i].flags &= (uint8_t)~(PF_NOMINATE | PF_NOMINATED);
    a->nominating = NONE;
    if (role == ICE_CONTROLLING && a->selected == NONE) {
        uint8_t v = best_valid(a);
        if (v != NONE)
            nominate(a, v, now);
    }
}

static void become(struct ice_impl *a, enum ice_role role, uint64_t now)
{
    if (a->full) {
        full_become(a, role, now);
        return;
    }
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

/* Queues an answer to request m: success with the requester's mapped
 * address, or an error code. Signed with our password. */
static void answer(struct ice_impl *a, const struct stun_msg *m, uint16_t error, const struct stun_addr *to)
{
    struct stun_writer w;
    stun_begin(&w, a->pending, sizeof(a->pending),
               error ? STUN_BINDING_ERROR : STUN_BINDING_SUCCESS, m->tid);
    if (error)
        stun_put_error(&w, error, error == 487 ? "Role Conflict" : "Bad Request");
    else
        stun_put_xor_address(&w, to);
    stun_put_integrity(&w, (const uint8_t *)a->local_pwd, strlen(a->local_pwd));
    stun_put_fingerprint(&w);
    int n = stun_end(&w);
    a->pending_len = n > 0 ? (uint16_t)n : 0;
    a->pending_to = *to;
    if (n > 0)
        a->c.responses_sent++;
}

/* The full agent on an authenticated request from `from` (answered
 * already): the pair (learned when new, §7.3.1.3), its triggered check
 * (§7.3.1.4) and the peer's nomination (§7.3.1.5). */
static void full_request(struct ice_impl *a, const struct stun_msg *m, const struct stun_addr *from, uint64_t now)
{
    if (from->family == 0)
        return; /* a source not known (no `from`, no cfg.peer): answered, not paired */
    uint8_t i = find_pair(a, from);
    if (i == NONE) {
        uint32_t prio = m->has_priority ? m->priority : 0;
        i = add_pair(a, from, prio, ICE_CAND_PRFLX);
        if (i == NONE)
            return; /* no room: answered, never checked */
        a->c.prflx++;
    }
    struct ice_pair *p = &a->pairs[i];
    bool nominated = a->role == ICE_CONTROLLED && m->use_candidate;
    if (nominated)
        p->flags |= PF_NOMINATED;
    if (a->selected != NONE) {
        /* checking is over; a nomination of a better valid pair (the
         * peer's aggressive nomination) moves the selection */
        if (nominated && (p->flags & PF_VALID) && i != a->selected &&
            pair_prio(a, p) > pair_prio(a, &a->pairs[a->selected]))
            a->selected = i, a->sel = p->addr;
        return;
    }
    if (a->state == ICE_FAILED)
        return;
    if (p->flags & PF_VALID) {
        if (nominated)
            select_pair(a, i, now);
        return;
    }
    if (p->state == PAIR_WAITING || p->state == PAIR_FAILED) {
        a->c.triggered++;
        trigger(a, i, now);
    }
}

static enum engine_input handle_request(struct ice_impl *a, const uint8_t *buf, size_t len,
                                        const struct stun_msg *m, const struct stun_addr *from, uint64_t now)
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
    const struct stun_addr *src = from ? from : &a->peer;
    /* role conflicts (RFC 8445 7.3.1.1) */
    if (m->has_controlling && a->role == ICE_CONTROLLING) {
        if (a->tiebreaker >= m->tiebreaker) {
            a->c.role_conflicts++;
            answer(a, m, 487, src);
            return ENGINE_IN_ACCEPTED;
        }
        become(a, ICE_CONTROLLED, now);
    } else if (m->has_controlled && a->role == ICE_CONTROLLED) {
        if (a->lite || a->tiebreaker < m->tiebreaker) {
            /* a lite agent cannot take control: the peer must */
            a->c.role_conflicts++;
            answer(a, m, 487, src);
            return ENGINE_IN_ACCEPTED;
        }
        become(a, ICE_CONTROLLING, now);
    }
    answer(a, m, 0, src);
    if (a->full)
        full_request(a, m, src, now);
    else if (a->role == ICE_CONTROLLED && m->use_candidate && a->state != ICE_CONNECTED)
        connected(a, &a->peer, now);
    return ENGINE_IN_ACCEPTED;
}

/* An answer to one of our consent checks: ENGINE_IN_IGNORED when it is
 * not one. */
static enum engine_input consent_response(struct ice_impl *a, const uint8_t *buf, size_t len,
                                          const struct stun_msg *m, uint64_t now)
{
    if (!a->consent || a->state != ICE_CONNECTED || a->c.consent_sent == 0)
        return ENGINE_IN_IGNORED;
    if (memcmp(m->tid, a->consent_tid[0], 12) != 0 && memcmp(m->tid, a->consent_tid[1], 12) != 0)
        return ENGINE_IN_IGNORED;
    if (stun_check_integrity(buf, len, m, (const uint8_t *)a->remote_pwd, strlen(a->remote_pwd)) != 0) {
        a->c.integrity_failures++;
        return ENGINE_IN_MALFORMED;
    }
    a->c.responses_received++;
    if (m->type == STUN_BINDING_SUCCESS && !a->consent_lost) {
        a->c.consent_answered++;
        a->consent_expiry = now + ICE_CONSENT_TIMEOUT_NS;
    }
    return ENGINE_IN_ACCEPTED;
}

/* The full agent on an answer: the check's pair, validated or failed;
 * the nomination it carried, or the one it starts. */
static enum engine_input full_response(struct ice_impl *a, const uint8_t *buf, size_t len, const struct stun_msg *m,
                                       const struct stun_addr *from, uint64_t now)
{
    uint8_t i = NONE;
    for (uint8_t k = 0; k < a->n_pairs && i == NONE; k++)
        if (a->pairs[k].state == PAIR_IN_PROGRESS && memcmp(m->tid, a->pairs[k].tid, 12) == 0)
            i = k;
    if (i == NONE || a->selected != NONE || a->state != ICE_CHECKING) {
        a->c.ignored++; /* not ours, late, or checking is over */
        return ENGINE_IN_IGNORED;
    }
    if (stun_check_integrity(buf, len, m, (const uint8_t *)a->remote_pwd, strlen(a->remote_pwd)) != 0) {
        a->c.integrity_failures++;
        return ENGINE_IN_MALFORMED;
    }
    a->c.responses_received++;
    struct ice_pair *p = &a->pairs[i];
    if (from && !addr_eq(from, &p->addr)) {
        pair_failed(a, i, now); /* not symmetric (§7.2.5.2.1) */
        return ENGINE_IN_ACCEPTED;
    }
    if (m->type == STUN_BINDING_ERROR) {
        if (m->error_code == 487) {
            /* switch role and check the pair again (§7.2.5.1) */
            full_become(a, a->role == ICE_CONTROLLING ? ICE_CONTROLLED : ICE_CONTROLLING, now);
            trigger(a, i, now);
        } else {
            pair_failed(a, i, now);
        }
        return ENGINE_IN_ACCEPTED;
    }
    p->state = PAIR_SUCCEEDED;
    p->flags |= PF_VALID;
    p->flags &= (uint8_t)~PF_DUE;
    if (a->role == ICE_CONTROLLING) {
        if (p->flags & PF_NOMINATE)
            select_pair(a, i, now);
        else if (a->nominating == NONE)
            nominate(a, i, now); /* the first valid pair */
    } else if (p->flags & PF_NOMINATED) {
        select_pair(a, i, now);
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
    if (a->state != ICE_CONNECTED)
        connected(a, &a->peer, now);
    return ENGINE_IN_ACCEPTED;
}

enum engine_input ice_handle_input_from(struct ice_agent *ag, const uint8_t *buf, size_t len,
                                        const struct stun_addr *from, uint64_t now)
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
        return handle_request(a, buf, len, &m, from, a->last_now);
    case STUN_BINDING_SUCCESS:
    case STUN_BINDING_ERROR: {
        enum engine_input r = consent_response(a, buf, len, &m, a->last_now);
        if (r != ENGINE_IN_IGNORED)
            return r;
        return a->full ? full_response(a, buf, len, &m, from, a->last_now)
                       : handle_response(a, buf, len, &m, a->last_now);
    }
    case STUN_BINDING_INDICATION:
        a->c.indications++; /* a keepalive (RFC 8445 §11) */
        return ENGINE_IN_ACCEPTED;
    default:
        a->c.ignored++;
        return ENGINE_IN_IGNORED;
    }
}

enum engine_input ice_handle_input(struct ice_agent *a, const uint8_t *buf, size_t len, uint64_t now)
{
    return ice_handle_input_from(a, buf, len, NULL, now);
}

/* ---- deadlines --------------------------------------------------------- */

static void consent_timeout(struct ice_impl *a, uint64_t now)
{
    if (!a->consent || a->state != ICE_CONNECTED || a->consent_lost)
        return;
    if (now >= a->consent_expiry) {
        a->consent_lost = true;
        a->consent_due = false;
        event(a, ICE_EV_CONSENT_LOST);
        return;
    }
    if (now >= a->consent_next && !a->consent_due) {
        /* a new transaction each time (§5.1); the answer to the one
         * before still counts */
        memcpy(a->consent_tid[1], a->consent_tid[0], 12);
        new_tid(a, a->consent_tid[0]);
        a->consent_due = true;
        a->consent_next = now + consent_interval(a);
    }
}

static void full_timeout(struct ice_impl *a, uint64_t now)
{
    if (a->state != ICE_CHECKING || a->selected != NONE)
        return;
    for (uint8_t i = 0; i < a->n_pairs && a->state == ICE_CHECKING; i++) {
        struct ice_pair *p = &a->pairs[i];
        if (p->state != PAIR_IN_PROGRESS || (p->flags & PF_DUE) || now < p->next_send)
            continue;
        if (p->tries >= ICE_MAX_TRIES) {
            pair_failed(a, i, now);
        } else {
            p->flags |= PF_DUE;
            a->c.retransmits++;
        }
    }
    if (a->state == ICE_CHECKING && a->next_tick && now >= a->next_tick)
        tick(a, now);
}

void ice_handle_timeout(struct ice_agent *ag, uint64_t now)
{
    struct ice_impl *a = impl(ag);
    if (now < a->last_now)
        return; /* time never goes back */
    a->last_now = now;
    consent_timeout(a, now);
    if (a->full) {
        full_timeout(a, now);
        return;
    }
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

/* ---- transmit ---------------------------------------------------------- */

/* A Binding request with our role and priority: a check (USE-CANDIDATE
 * when nominating) or a consent check. */
static int request(const struct ice_impl *a, uint8_t *buf, size_t cap, const uint8_t tid[12], uint32_t prio,
                   bool use_candidate)
{
    struct stun_writer w;
    stun_begin(&w, buf, cap, STUN_BINDING_REQUEST, tid);
    char user[2 * ICE_UFRAG_MAX + 2];
    int ul = snprintf(user, sizeof(user), "%s:%s", a->remote_ufrag, a->local_ufrag);
    stun_put_bytes(&w, STUN_ATTR_USERNAME, user, (uint16_t)ul);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, prio);
    stun_put_u64(&w, a->role == ICE_CONTROLLING ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED,
                 a->tiebreaker);
    if (use_candidate)
        stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
    stun_put_integrity(&w, (const uint8_t *)a->remote_pwd, strlen(a->remote_pwd));
    stun_put_fingerprint(&w);
    return stun_end(&w);
}

/* The PRIORITY our checks carry: a peer-reflexive candidate's (type
 * preference 110) with our candidate's local preference (§7.1.1). */
static uint32_t prflx_prio(const struct ice_impl *a)
{
    return (110u << 24) | (a->priority & 0x00ffffffu);
}

static size_t full_transmit(struct ice_impl *a, uint8_t *buf, size_t cap, struct stun_addr *to)
{
    for (uint8_t k = 0; k < a->n_pairs; k++) {
        struct ice_pair *p = &a->pairs[a->order[k]];
        if (!(p->flags & PF_DUE))
            continue;
        bool uc = a->role == ICE_CONTROLLING && (p->flags & PF_NOMINATE);
        int n = request(a, buf, cap, p->tid, prflx_prio(a), uc);
        if (n < 0)
            return 0;
        p->flags &= (uint8_t)~PF_DUE;
        p->next_send = a->last_now + (ICE_RTO_NS << p->tries);
        p->tries++;
        a->c.requests_sent++;
        if (to)
            *to = p->addr;
        return (size_t)n;
    }
    return 0;
}

size_t ice_poll_transmit_to(struct ice_agent *ag, uint8_t *buf, size_t cap, uint64_t now, struct stun_addr *to)
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
        if (to)
            *to = a->pending_to;
        return n;
    }
    if (a->consent_due) {
        int n = request(a, buf, cap, a->consent_tid[0], a->full ? prflx_prio(a) : a->priority, false);
        if (n < 0)
            return 0;
        a->consent_due = false;
        a->c.consent_sent++;
        a->c.requests_sent++;
        if (to)
            *to = a->sel;
        return (size_t)n;
    }
    if (a->full)
        return a->state == ICE_CHECKING ? full_transmit(a, buf, cap, to) : 0;
    if (!a->send_request || a->role != ICE_CONTROLLING)
        return 0;
    int n = request(a, buf, cap, a->tid, a->priority, true);
    if (n < 0)
        return 0;
    a->send_request = false;
    a->tries++;
    a->c.requests_sent++;
    a->next_send = a->last_now + a->rto;
    a->rto *= 2;
    if (to)
        *to = a->peer;
    return (size_t)n;
}

size_t ice_poll_transmit(struct ice_agent *a, uint8_t *buf, size_t cap, uint64_t now)
{
    return ice_poll_transmit_to(a, buf, cap, now, NULL);
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

static uint64_t min64(uint64_t x, uint64_t y)
{
    return x < y ? x : y;
}

uint64_t ice_next_timeout(const struct ice_agent *ag)
{
    const struct ice_impl *a = cimpl(ag);
    if (a->send_request || a->pending_len || a->consent_due)
        return a->last_now;
    uint64_t t = a->next_send ? a->next_send : UINT64_MAX;
    if (a->consent && a->state == ICE_CONNECTED && !a->consent_lost)
        t = min64(t, min64(a->consent_next, a->consent_expiry));
    if (a->full && a->state == ICE_CHECKING && a->selected == NONE) {
        if (a->next_tick)
            t = min64(t, a->next_tick);
        for (uint8_t i = 0; i < a->n_pairs; i++) {
            const struct ice_pair *p = &a->pairs[i];
            if (p->flags & PF_DUE)
                return a->last_now;
            if (p->state == PAIR_IN_PROGRESS)
                t = min64(t, p->next_send);
        }
    }
    return t;
}

/* ---- state ------------------------------------------------------------- */

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

bool ice_selected(const struct ice_agent *ag, struct stun_addr *out)
{
    const struct ice_impl *a = cimpl(ag);
    if (!a->has_sel)
        return false;
    if (out)
        *out = a->sel;
    return true;
}
