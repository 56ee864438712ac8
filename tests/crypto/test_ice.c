/* SPDX-License-Identifier: MIT */
/* The ICE check between two agents wired in memory with a virtual clock
 * that jumps to the next deadline, and a loss shim. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ice.h"

struct pair {
    struct ice_agent a, b;
    uint64_t now;
    unsigned drop_first; /* drop this many datagrams, in either direction */
    unsigned sent;
    bool a_up, b_up, a_failed, b_failed;
};

/* Agent a's and agent b's configuration: each other's credentials, each
 * echoing the other's address. */
static struct ice_config config_a(enum ice_role r, uint64_t tiebreaker)
{
    return (struct ice_config){r, false, tiebreaker, 2130706431u, "aaaa", "apassword-apassword-ap", "bbbb",
                               "bpassword-bpassword-bp", {4, 5000, {198, 18, 0, 2}}};
}

static struct ice_config config_b(enum ice_role r, bool lite, uint64_t tiebreaker)
{
    return (struct ice_config){r, lite, tiebreaker, 2130706431u, "bbbb", "bpassword-bpassword-bp", "aaaa",
                               "apassword-apassword-ap", {4, 5000, {198, 18, 0, 1}}};
}

static void setup_with(struct pair *p, const struct ice_config *ca, const struct ice_config *cb)
{
    memset(p, 0, sizeof(*p));
    cr_assert_eq(ice_init(&p->a, ca), 0);
    cr_assert_eq(ice_init(&p->b, cb), 0);
    ice_start(&p->a, 0);
    ice_start(&p->b, 0);
}

static void setup(struct pair *p, enum ice_role ra, enum ice_role rb, bool b_lite, uint64_t ta, uint64_t tb)
{
    struct ice_config ca = config_a(ra, ta), cb = config_b(rb, b_lite, tb);
    setup_with(p, &ca, &cb);
}

/* Moves datagrams until quiet, then jumps the clock; bounded. */
static void run(struct pair *p, uint64_t until)
{
    uint8_t buf[512];
    for (int step = 0; step < 10000; step++) {
        bool moved = false;
        size_t n;
        while ((n = ice_poll_transmit(&p->a, buf, sizeof(buf), p->now)) > 0) {
            moved = true;
            if (p->sent++ >= p->drop_first)
                ice_handle_input(&p->b, buf, n, p->now);
        }
        while ((n = ice_poll_transmit(&p->b, buf, sizeof(buf), p->now)) > 0) {
            moved = true;
            if (p->sent++ >= p->drop_first)
                ice_handle_input(&p->a, buf, n, p->now);
        }
        struct ice_ev e;
        while (ice_poll_event(&p->a, &e) != ICE_EV_NONE)
            p->a_up |= e.type == ICE_EV_CONNECTED, p->a_failed |= e.type == ICE_EV_FAILED;
        while (ice_poll_event(&p->b, &e) != ICE_EV_NONE)
            p->b_up |= e.type == ICE_EV_CONNECTED, p->b_failed |= e.type == ICE_EV_FAILED;
        if (moved)
            continue;
        uint64_t ta = ice_next_timeout(&p->a), tb = ice_next_timeout(&p->b);
        uint64_t next = ta < tb ? ta : tb;
        if (next == UINT64_MAX || next > until)
            return;
        if (next > p->now)
            p->now = next;
        ice_handle_timeout(&p->a, p->now);
        ice_handle_timeout(&p->b, p->now);
    }
    cr_assert_fail("no progress");
}

Test(ice, controlling_and_controlled_connect_in_one_round_trip)
{
    struct pair p;
    setup(&p, ICE_CONTROLLING, ICE_CONTROLLED, false, 10, 20);
    run(&p, 10000000000ull);
    cr_assert(p.a_up && p.b_up);
    cr_assert_eq(p.now, 0, "no retransmission needed");
    cr_assert_eq(ice_counters(&p.a)->requests_sent, 1);
    cr_assert_eq(ice_counters(&p.b)->responses_sent, 1);
    cr_assert_eq(ice_state(&p.b), ICE_CONNECTED, "the controlled agent took the nomination");
}

Test(ice, lost_checks_are_retransmitted)
{
    struct pair p;
    setup(&p, ICE_CONTROLLING, ICE_CONTROLLED, false, 10, 20);
    p.drop_first = 3; /* request, retransmission, and the answer to the third */
    run(&p, 10000000000ull);
    cr_assert(p.a_up && p.b_up);
    cr_assert_geq(ice_counters(&p.a)->retransmits, 2);
    /* 100 ms, then 200 ms, then 400 ms */
    cr_assert_eq(p.now, 700000000ull, "connected at %llu", (unsigned long long)p.now);
}

Test(ice, unanswered_checks_fail_after_the_last_try)
{
    struct pair p;
    setup(&p, ICE_CONTROLLING, ICE_CONTROLLED, false, 10, 20);
    p.drop_first = 1000;
    run(&p, 100000000000ull);
    cr_assert(p.a_failed && !p.a_up);
    cr_assert_eq(ice_counters(&p.a)->requests_sent, ICE_MAX_TRIES);
}

Test(ice, both_controlling_resolve_by_tiebreaker)
{
    struct pair p;
    setup(&p, ICE_CONTROLLING, ICE_CONTROLLING, false, 10, 99);
    run(&p, 10000000000ull);
    cr_assert(p.a_up && p.b_up);
    cr_assert_eq(ice_role(&p.a), ICE_CONTROLLED, "the lower tie-breaker yields");
    cr_assert_eq(ice_role(&p.b), ICE_CONTROLLING);
    cr_assert_gt(ice_counters(&p.a)->role_conflicts + ice_counters(&p.b)->role_conflicts, 0);
}

Test(ice, both_controlled_resolve_by_tiebreaker)
{
    struct pair p;
    setup(&p, ICE_CONTROLLED, ICE_CONTROLLED, false, 99, 10);
    /* nobody checks when both are controlled: one must start */
    cr_assert_eq(ice_poll_transmit(&p.a, (uint8_t[512]){0}, 512, 0), 0);
    /* a starts again controlling, with the lower tie-breaker */
    struct ice_config ca = config_a(ICE_CONTROLLING, 5);
    cr_assert_eq(ice_init(&p.a, &ca), 0);
    ice_start(&p.a, 0);
    run(&p, 10000000000ull);
    cr_assert(p.a_up && p.b_up);
}

Test(ice, lite_answerer_only_answers)
{
    struct pair p;
    /* a full controlling agent against an ICE-lite answerer (an SFU's role) */
    setup(&p, ICE_CONTROLLING, ICE_CONTROLLED, true, 1, 1000000);
    run(&p, 10000000000ull);
    cr_assert(p.a_up && p.b_up);
    cr_assert_eq(ice_counters(&p.b)->requests_sent, 0, "a lite agent never sends checks");
    struct ice_config bad = {ICE_CONTROLLING, true, 1, 1, "x", "y", "z", "w", {0}};
    struct ice_agent x;
    cr_assert_eq(ice_init(&x, &bad), -EINVAL);
}

Test(ice, wrong_password_username_and_garbage_are_counted)
{
    struct pair p;
    struct ice_config ca = config_a(ICE_CONTROLLING, 10), cb = config_b(ICE_CONTROLLED, false, 20);
    cb.local_pwd = "not-the-password-at-all";
    setup_with(&p, &ca, &cb);
    run(&p, 10000000000ull);
    cr_assert(!p.a_up && !p.b_up);
    cr_assert_eq(ice_counters(&p.b)->integrity_failures, ICE_MAX_TRIES);
    uint8_t junk[64] = {0, 1, 0, 0};
    cr_assert_eq(ice_handle_input(&p.b, junk, sizeof(junk), p.now), ENGINE_IN_MALFORMED);
    cr_assert_eq(ice_counters(&p.b)->malformed, 1);
    /* a request for another agent (other username) is ignored */
    cb = config_b(ICE_CONTROLLED, false, 20);
    cb.local_ufrag = "cccc";
    setup_with(&p, &ca, &cb);
    uint8_t buf[512];
    size_t n = ice_poll_transmit(&p.a, buf, sizeof(buf), 0);
    cr_assert_gt(n, 0);
    cr_assert_eq(ice_handle_input(&p.b, buf, n, 0), ENGINE_IN_IGNORED);
    cr_assert_eq(ice_counters(&p.b)->ignored, 1);
}
