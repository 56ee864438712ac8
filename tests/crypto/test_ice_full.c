/* SPDX-License-Identifier: MIT */
/* The full ICE agent (check list, Ta pacing, triggered checks,
 * peer-reflexive candidates, regular nomination, consent freshness,
 * restart): two agents at their own addresses on an in-memory network
 * with a virtual clock that jumps to the next deadline; a datagram
 * reaches an agent only when sent to its address. Every datagram sent is
 * logged with its time, destination and transaction id. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ice.h"

#define MS 1000000ull
#define S_ 1000000000ull
#define MAX_LOG 4096

struct sent {
    uint64_t t;
    int from;              /* 0 a, 1 b */
    struct stun_addr to;
    uint16_t type;
    uint8_t tid[12];
    bool use_candidate;
};

struct net {
    struct ice_agent ag[2];
    struct stun_addr addr[2];
    uint64_t now;
    bool cut[2];           /* drop everything agent i sends */
    bool up[2], failed[2], lost[2];
    uint64_t up_at[2], lost_at[2], last_answer_to[2];
    unsigned n_up[2];
    struct sent log[MAX_LOG];
    unsigned n_log;
};

static const char *UF[2] = {"aaaa", "bbbb"}, *PW[2] = {"apassword-apassword-ap", "bpassword-bpassword-bp"};

static struct stun_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    return (struct stun_addr){4, port, {a, b, c, d}};
}

static struct ice_config cfg(int i, enum ice_role r, const struct ice_cand *rc, uint32_t n, bool consent)
{
    return (struct ice_config){.role = r, .tiebreaker = 10 + (uint64_t)i * 10, .priority = 2130706431u - (uint32_t)i,
                               .local_ufrag = UF[i], .local_pwd = PW[i], .remote_ufrag = UF[1 - i],
                               .remote_pwd = PW[1 - i], .remote = rc, .n_remote = n, .consent = consent};
}

static void net_init(struct net *n)
{
    memset(n, 0, sizeof(*n));
    n->addr[0] = ip4(10, 0, 0, 1, 1000);
    n->addr[1] = ip4(10, 0, 0, 2, 2000);
}

static bool same(const struct stun_addr *x, const struct stun_addr *y)
{
    return x->family == y->family && x->port == y->port && memcmp(x->ip, y->ip, 4) == 0;
}

static void logit(struct net *n, int from, const uint8_t *buf, size_t len, const struct stun_addr *to)
{
    cr_assert_lt(n->n_log, MAX_LOG);
    struct stun_msg m;
    cr_assert_eq(stun_parse(buf, len, &m), 0);
    struct sent *s = &n->log[n->n_log++];
    s->t = n->now;
    s->from = from;
    s->to = *to;
    s->type = m.type;
    memcpy(s->tid, m.tid, 12);
    s->use_candidate = m.use_candidate;
}

/* Moves datagrams until quiet, then jumps the clock to the next deadline;
 * stops at `until` (bounded). */
static void run(struct net *n, uint64_t until)
{
    uint8_t buf[512];
    for (int step = 0; step < 200000; step++) {
        bool moved = false;
        for (int i = 0; i < 2; i++) {
            size_t len;
            struct stun_addr to;
            while ((len = ice_poll_transmit_to(&n->ag[i], buf, sizeof(buf), n->now, &to)) > 0) {
                moved = true;
                logit(n, i, buf, len, &to);
                if (n->cut[i] || !same(&to, &n->addr[1 - i]))
                    continue; /* nobody there, or cut */
                if (n->log[n->n_log - 1].type == STUN_BINDING_SUCCESS)
                    n->last_answer_to[1 - i] = n->now;
                ice_handle_input_from(&n->ag[1 - i], buf, len, &n->addr[i], n->now);
            }
            struct ice_ev e;
            while (ice_poll_event(&n->ag[i], &e) != ICE_EV_NONE) {
                if (e.type == ICE_EV_CONNECTED)
                    n->up[i] = true, n->up_at[i] = n->now, n->n_up[i]++;
                n->failed[i] |= e.type == ICE_EV_FAILED;
                if (e.type == ICE_EV_CONSENT_LOST) {
                    cr_assert(!n->lost[i], "consent lost once");
                    n->lost[i] = true, n->lost_at[i] = n->now;
                }
            }
        }
        if (moved)
            continue;
        uint64_t t0 = ice_next_timeout(&n->ag[0]), t1 = ice_next_timeout(&n->ag[1]);
        uint64_t next = t0 < t1 ? t0 : t1;
        if (next == UINT64_MAX || next > until) {
            if (until != UINT64_MAX && n->now < until)
                n->now = until;
            return;
        }
        if (next > n->now)
            n->now = next;
        ice_handle_timeout(&n->ag[0], n->now);
        ice_handle_timeout(&n->ag[1], n->now);
    }
    cr_assert_fail("no progress");
}

/* The times agent i sent a request in a new transaction (first sends). */
static unsigned first_sends(const struct net *n, int i, const struct sent **out, unsigned max)
{
    unsigned k = 0;
    for (unsigned j = 0; j < n->n_log; j++) {
        const struct sent *s = &n->log[j];
        if (s->from != i || s->type != STUN_BINDING_REQUEST)
            continue;
        bool seen = false;
        for (unsigned q = 0; q < j && !seen; q++)
            seen = n->log[q].from == i && memcmp(n->log[q].tid, s->tid, 12) == 0;
        if (!seen && k < max)
            out[k++] = s;
    }
    return k;
}

/* a controlling with three candidates for b, the first two (the highest
 * priorities) unreachable */
static void three_candidates(struct net *n, bool consent)
{
    net_init(n);
    struct ice_cand rb[3] = {
        {ip4(10, 0, 0, 9, 9), 2130706431u, ICE_CAND_HOST},
        {n->addr[1], 1694498815u, ICE_CAND_SRFLX},
        {ip4(10, 0, 0, 8, 8), 16777215u, ICE_CAND_RELAY},
    };
    struct ice_cand ra[1] = {{n->addr[0], 2130706431u, ICE_CAND_HOST}};
    struct ice_config ca = cfg(0, ICE_CONTROLLING, rb, 3, consent), cb = cfg(1, ICE_CONTROLLED, ra, 1, consent);
    cr_assert_eq(ice_init(&n->ag[0], &ca), 0);
    cr_assert_eq(ice_init(&n->ag[1], &cb), 0);
    ice_start(&n->ag[0], 0);
    ice_start(&n->ag[1], 0);
}

Test(ice_full, controlling_selects_the_one_reachable_of_three_candidates)
{
    static struct net n;
    three_candidates(&n, false);
    run(&n, 20 * S_);
    cr_assert(n.up[0] && n.up[1], "both connected");
    struct stun_addr sel;
    cr_assert(ice_selected(&n.ag[0], &sel));
    cr_assert(same(&sel, &n.addr[1]), "a selected b's reachable candidate");
    cr_assert(ice_selected(&n.ag[1], &sel));
    cr_assert(same(&sel, &n.addr[0]));
    cr_assert_eq(ice_state(&n.ag[0]), ICE_CONNECTED);
    cr_assert(!n.failed[0] && !n.failed[1]);
    /* checking stopped with the selection: nothing more goes out */
    unsigned before = n.n_log;
    run(&n, 60 * S_);
    cr_assert_eq(n.n_log, before, "no checks after the selection (consent off)");
}

Test(ice_full, new_checks_are_paced_at_ta_in_pair_priority_order)
{
    static struct net n;
    three_candidates(&n, false);
    run(&n, 20 * S_);
    const struct sent *f[8];
    unsigned k = first_sends(&n, 0, f, 8);
    /* the highest-priority pair (unreachable) at 0, b's at Ta, then the
     * nomination of the valid pair at 2 Ta */
    cr_assert_eq(k, 3, "three transactions, got %u", k);
    cr_assert_eq(f[0]->t, 0);
    cr_assert(same(&f[0]->to, &(struct stun_addr){4, 9, {10, 0, 0, 9}}));
    cr_assert_eq(f[1]->t, ICE_TA_NS, "second check at Ta, got %llu", (unsigned long long)f[1]->t);
    cr_assert(same(&f[1]->to, &n.addr[1]));
    cr_assert(!f[1]->use_candidate);
    cr_assert_eq(f[2]->t, 2 * ICE_TA_NS);
    cr_assert(same(&f[2]->to, &n.addr[1]));
    /* the unreachable pair's retransmissions follow its own RTO */
    unsigned rtx = 0;
    for (unsigned j = 0; j < n.n_log; j++)
        if (n.log[j].from == 0 && memcmp(n.log[j].tid, f[0]->tid, 12) == 0 && n.log[j].t > 0)
        {
            rtx++;
            cr_assert_eq(n.log[j].t, ICE_RTO_NS);
        }
    cr_assert_leq(rtx, 1);
}

Test(ice_full, a_configured_ta_paces_the_checks)
{
    static struct net n;
    net_init(&n);
    struct ice_cand rb[4];
    for (int i = 0; i < 4; i++)
        rb[i] = (struct ice_cand){ip4(10, 0, 1, (uint8_t)i, 7), 2000000000u - (uint32_t)i, ICE_CAND_HOST};
    struct ice_config ca = cfg(0, ICE_CONTROLLING, rb, 4, false);
    ca.ta_ns = 20 * MS;
    cr_assert_eq(ice_init(&n.ag[0], &ca), 0);
    struct ice_config cb = cfg(1, ICE_CONTROLLED, NULL, 0, false);
    cr_assert_eq(ice_init(&n.ag[1], &cb), 0);
    ice_start(&n.ag[0], 5 * MS);
    n.now = 5 * MS;
    run(&n, 100 * S_);
    const struct sent *f[8];
    cr_assert_eq(first_sends(&n, 0, f, 8), 4);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(f[i]->t, 5 * MS + (uint64_t)i * 20 * MS, "check %d at %llu", i, (unsigned long long)f[i]->t);
        cr_assert_eq(f[i]->to.ip[3], i, "in priority order");
    }
    /* none answered: every pair fails after its tries, then the agent */
    cr_assert(n.failed[0] && !n.up[0]);
    cr_assert_eq(ice_state(&n.ag[0]), ICE_FAILED);
    cr_assert_eq(ice_counters(&n.ag[0])->requests_sent, 4 * ICE_MAX_TRIES);
    cr_assert_eq(ice_counters(&n.ag[0])->pairs_failed, 4);
}

Test(ice_full, regular_nomination_only_the_recheck_carries_use_candidate)
{
    static struct net n;
    three_candidates(&n, false);
    run(&n, 20 * S_);
    unsigned uc = 0;
    uint64_t first_valid = UINT64_MAX;
    for (unsigned j = 0; j < n.n_log; j++) {
        const struct sent *s = &n.log[j];
        if (s->from == 1 && s->type == STUN_BINDING_SUCCESS && s->t < first_valid)
            first_valid = s->t;
        if (s->from == 0 && s->type == STUN_BINDING_REQUEST && s->use_candidate) {
            uc++;
            cr_assert(same(&s->to, &n.addr[1]), "only the valid pair is nominated");
        }
        if (s->from == 1 && s->type == STUN_BINDING_REQUEST)
            cr_assert(!s->use_candidate, "the controlled agent never nominates");
    }
    cr_assert_eq(uc, 1, "one nomination check");
    /* the controlled agent's own check succeeded at once, but it waited
     * for the nomination */
    cr_assert_eq(n.up_at[1], 2 * ICE_TA_NS);
    cr_assert_eq(n.up_at[0], 2 * ICE_TA_NS);
}

Test(ice_full, controlled_learns_a_peer_reflexive_candidate)
{
    static struct net n;
    net_init(&n);
    /* b knows a only by an address a does not use (a NAT's mapping gone
     * stale, say): a's checks from its real address teach it */
    struct ice_cand ra[1] = {{ip4(192, 0, 2, 7, 7777), 1694498815u, ICE_CAND_SRFLX}};
    struct ice_cand rb[1] = {{n.addr[1], 2130706431u, ICE_CAND_HOST}};
    struct ice_config ca = cfg(0, ICE_CONTROLLING, rb, 1, false), cb = cfg(1, ICE_CONTROLLED, ra, 1, false);
    cr_assert_eq(ice_init(&n.ag[0], &ca), 0);
    cr_assert_eq(ice_init(&n.ag[1], &cb), 0);
    ice_start(&n.ag[0], 0);
    ice_start(&n.ag[1], 0);
    run(&n, 20 * S_);
    cr_assert(n.up[0] && n.up[1]);
    cr_assert_eq(ice_counters(&n.ag[1])->prflx, 1);
    cr_assert_geq(ice_counters(&n.ag[1])->triggered, 1);
    struct stun_addr sel;
    cr_assert(ice_selected(&n.ag[1], &sel));
    cr_assert(same(&sel, &n.addr[0]), "b selected the peer-reflexive candidate");
    /* b's triggered check went to a's real address and was answered */
    bool checked = false;
    for (unsigned j = 0; j < n.n_log; j++)
        checked |= n.log[j].from == 1 && n.log[j].type == STUN_BINDING_REQUEST && same(&n.log[j].to, &n.addr[0]);
    cr_assert(checked);
}

Test(ice_full, full_controlling_against_an_ice_lite_answerer)
{
    static struct net n;
    net_init(&n);
    struct ice_cand rb[2] = {{ip4(10, 0, 0, 9, 9), 2130706431u, ICE_CAND_HOST}, {n.addr[1], 2130706430u, ICE_CAND_HOST}};
    struct ice_config ca = cfg(0, ICE_CONTROLLING, rb, 2, false), cb = cfg(1, ICE_CONTROLLED, NULL, 0, false);
    cb.lite = true;
    cb.peer = n.addr[0];
    cr_assert_eq(ice_init(&n.ag[0], &ca), 0);
    cr_assert_eq(ice_init(&n.ag[1], &cb), 0);
    ice_start(&n.ag[0], 0);
    ice_start(&n.ag[1], 0);
    run(&n, 20 * S_);
    cr_assert(n.up[0] && n.up[1]);
    cr_assert_eq(ice_counters(&n.ag[1])->requests_sent, 0, "lite only answers");
    struct stun_addr sel;
    cr_assert(ice_selected(&n.ag[0], &sel) && same(&sel, &n.addr[1]));
    /* lite with candidates is refused */
    struct ice_agent x;
    cb.n_remote = 1, cb.remote = rb;
    cr_assert_eq(ice_init(&x, &cb), -EINVAL);
    struct ice_cand many[ICE_MAX_REMOTE + 1] = {0};
    ca.remote = many, ca.n_remote = ICE_MAX_REMOTE + 1;
    cr_assert_eq(ice_init(&x, &ca), -EINVAL);
}

Test(ice_full, both_controlling_resolve_the_role_conflict)
{
    static struct net n;
    net_init(&n);
    struct ice_cand ra[1] = {{n.addr[0], 2130706431u, ICE_CAND_HOST}}, rb[1] = {{n.addr[1], 2130706430u, ICE_CAND_HOST}};
    struct ice_config ca = cfg(0, ICE_CONTROLLING, rb, 1, false), cb = cfg(1, ICE_CONTROLLING, ra, 1, false);
    cr_assert_eq(ice_init(&n.ag[0], &ca), 0);
    cr_assert_eq(ice_init(&n.ag[1], &cb), 0);
    ice_start(&n.ag[0], 0);
    ice_start(&n.ag[1], 0);
    run(&n, 20 * S_);
    cr_assert(n.up[0] && n.up[1]);
    cr_assert_eq(ice_role(&n.ag[0]), ICE_CONTROLLED, "the lower tie-breaker yields");
    cr_assert_eq(ice_role(&n.ag[1]), ICE_CONTROLLING);
    cr_assert_gt(ice_counters(&n.ag[0])->role_conflicts + ice_counters(&n.ag[1])->role_conflicts, 0);
}

Test(ice_full, consent_keeps_the_pair_then_is_lost_30s_after_answers_stop)
{
    static struct net n;
    three_candidates(&n, true);
    run(&n, 65 * S_);
    cr_assert(n.up[0] && n.up[1]);
    cr_assert(!n.lost[0] && !n.lost[1], "answered consent keeps the pair past 60 s");
    const struct ice_counters *c = ice_counters(&n.ag[0]);
    cr_assert_geq(c->consent_sent, 10, "about one per 5 s, got %u", c->consent_sent);
    cr_assert_leq(c->consent_sent, 17);
    cr_assert_eq(c->consent_answered, c->consent_sent);
    cr_assert_eq(ice_counters(&n.ag[1])->consent_answered, ice_counters(&n.ag[1])->consent_sent);
    /* the checks are 4..6 s apart and not all the same distance */
    uint64_t prev = 0, d0 = 0;
    bool varied = false;
    unsigned seen = 0;
    for (unsigned j = 0; j < n.n_log; j++) {
        const struct sent *s = &n.log[j];
        if (s->from != 0 || s->type != STUN_BINDING_REQUEST || s->t <= n.up_at[0])
            continue;
        cr_assert(same(&s->to, &n.addr[1]), "consent on the selected pair");
        uint64_t d = s->t - (prev ? prev : n.up_at[0]);
        cr_assert(d >= 4 * S_ && d <= 6 * S_, "interval %llu", (unsigned long long)d);
        if (seen++ == 0)
            d0 = d;
        varied |= d != d0;
        prev = s->t;
    }
    cr_assert(varied, "randomized intervals");
    /* b stops answering a (and checking): a loses consent 30 s after the
     * last answer it got */
    n.cut[1] = true;
    uint64_t cut = n.now;
    run(&n, cut + 40 * S_);
    cr_assert(n.lost[0]);
    cr_assert_eq(n.lost_at[0], n.last_answer_to[0] + ICE_CONSENT_TIMEOUT_NS, "lost at %llu, last answer %llu",
                 (unsigned long long)n.lost_at[0], (unsigned long long)n.last_answer_to[0]);
    cr_assert_gt(n.lost_at[0], cut + 24 * S_);
    cr_assert(n.lost[1], "b's checks got no answers either (their answers were cut)");
}

Test(ice_full, consent_in_single_pair_mode)
{
    static struct net n;
    net_init(&n);
    struct ice_config ca = cfg(0, ICE_CONTROLLING, NULL, 0, true), cb = cfg(1, ICE_CONTROLLED, NULL, 0, true);
    ca.peer = n.addr[1], cb.peer = n.addr[0];
    cr_assert_eq(ice_init(&n.ag[0], &ca), 0);
    cr_assert_eq(ice_init(&n.ag[1], &cb), 0);
    ice_start(&n.ag[0], 0);
    ice_start(&n.ag[1], 0);
    run(&n, 61 * S_);
    cr_assert(n.up[0] && n.up[1] && !n.lost[0] && !n.lost[1]);
    cr_assert_geq(ice_counters(&n.ag[1])->consent_answered, 9, "the controlled side checks consent too");
}

Test(ice_full, restart_is_counted_and_reconnects)
{
    static struct net n;
    three_candidates(&n, true);
    run(&n, 10 * S_);
    cr_assert(n.up[0] && n.up[1]);
    struct ice_cand rb[2] = {{ip4(10, 0, 0, 9, 9), 2130706431u, ICE_CAND_HOST}, {n.addr[1], 1694498815u, ICE_CAND_SRFLX}};
    struct ice_cand ra[1] = {{n.addr[0], 2130706431u, ICE_CAND_HOST}};
    cr_assert_eq(ice_restart(&n.ag[0], "a2a2", "a-new-password-0123456789", "b2b2", "b-new-password-0123456789", rb, 2,
                             n.now),
                 0);
    cr_assert_eq(ice_restart(&n.ag[1], "b2b2", "b-new-password-0123456789", "a2a2", "a-new-password-0123456789", ra, 1,
                             n.now),
                 0);
    cr_assert_eq(ice_state(&n.ag[0]), ICE_CHECKING);
    struct stun_addr sel;
    cr_assert(ice_selected(&n.ag[0], &sel) && same(&sel, &n.addr[1]), "the old pair stays meanwhile");
    uint64_t t = n.now;
    run(&n, t + 20 * S_);
    cr_assert_eq(n.n_up[0], 2, "connected again");
    cr_assert_eq(n.n_up[1], 2);
    cr_assert_gt(n.up_at[0], t);
    cr_assert_eq(ice_counters(&n.ag[0])->restarts, 1);
    cr_assert_eq(ice_counters(&n.ag[1])->restarts, 1);
    cr_assert(!n.lost[0] && !n.lost[1], "consent runs on after the restart");
    cr_assert(ice_selected(&n.ag[0], &sel) && same(&sel, &n.addr[1]));
    /* too long a credential leaves the agent as it was */
    char big[ICE_PWD_MAX + 8];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    cr_assert_eq(ice_restart(&n.ag[0], "a3", big, "b3", "p", NULL, 0, n.now), -EINVAL);
    cr_assert_eq(ice_counters(&n.ag[0])->restarts, 1);
    cr_assert_eq(ice_state(&n.ag[0]), ICE_CONNECTED);
}

Test(ice_full, answers_go_back_to_the_source_and_echo_it)
{
    static struct net n;
    three_candidates(&n, false);
    uint8_t buf[512];
    struct stun_addr to, other = ip4(172, 16, 0, 5, 4444);
    size_t len = ice_poll_transmit_to(&n.ag[0], buf, sizeof(buf), 0, &to);
    cr_assert_gt(len, 0);
    /* b gets a's check from an address it does not know */
    cr_assert_eq(ice_handle_input_from(&n.ag[1], buf, len, &other, 0), ENGINE_IN_ACCEPTED);
    len = ice_poll_transmit_to(&n.ag[1], buf, sizeof(buf), 0, &to);
    cr_assert_gt(len, 0);
    cr_assert(same(&to, &other));
    struct stun_msg m;
    cr_assert_eq(stun_parse(buf, len, &m), 0);
    cr_assert_eq(m.type, STUN_BINDING_SUCCESS);
    cr_assert(same(&m.xor_mapped, &other));
    /* an answer from another address than the check went to fails the pair */
    cr_assert_eq(ice_handle_input_from(&n.ag[0], buf, len, &n.addr[1], 0), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ice_counters(&n.ag[0])->pairs_failed, 1);
    /* a keepalive indication is taken quietly */
    struct stun_writer w;
    uint8_t ind[64];
    stun_begin(&w, ind, sizeof(ind), STUN_BINDING_INDICATION, (const uint8_t *)"abcdefghijkl");
    stun_put_fingerprint(&w);
    int il = stun_end(&w);
    cr_assert_gt(il, 0);
    cr_assert_eq(ice_handle_input_from(&n.ag[1], ind, (size_t)il, &n.addr[0], 0), ENGINE_IN_ACCEPTED);
    cr_assert_eq(ice_counters(&n.ag[1])->indications, 1);
}
