/* SPDX-License-Identifier: MIT */
/*
 * Two peer connections with candidate lists (full ICE, pc_config
 * remote_cands) and consent freshness, on an in-memory network where a
 * datagram reaches an endpoint only when sent to its address
 * (pc_poll_transmit_to / pc_handle_input_from), on a virtual clock: the
 * unreachable candidates are never used once a pair is selected, DTLS
 * starts only after ICE is connected and goes to the selected pair,
 * messages flow, consent keeps the connection past 60 s and
 * PC_EV_CONSENT_LOST follows when the peer goes silent.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pc.h"

#define S_ 1000000000ull

struct side {
    struct pc pc;
    struct pc_setup su;
    struct dtls_record_keys keys;
    struct pc_counters cnt;
    void *amem, *pmem;
    struct sctp_pool *pool;
    struct stun_addr addr;
    bool up, failed, lost, silent;
    uint64_t lost_at, first_dtls_at, last_answer_at;
    uint32_t got, dtls_elsewhere;
};

static struct dtls_cert certs[2];
static struct cp cp;
static struct dtls_hs_pool hs;
static struct side S[2];
static uint64_t now;

static struct stun_addr ip4(uint8_t d, uint16_t port)
{
    return (struct stun_addr){4, port, {10, 0, 0, d}};
}

static bool same(const struct stun_addr *x, const struct stun_addr *y)
{
    return x->family == y->family && x->port == y->port && memcmp(x->ip, y->ip, 4) == 0;
}

static void setup(void)
{
    memset(S, 0, sizeof(S));
    now = 1000000000ull;
    cr_assert_eq(cp_default_create(&cp), 0);
    cr_assert_eq(dtls_cert_generate(&certs[0], &cp), 0);
    cr_assert_eq(dtls_cert_generate(&certs[1], &cp), 0);
    cr_assert_eq(dtls_hs_pool_init(&hs, 2), 0);
    S[0].addr = ip4(1, 5000);
    S[1].addr = ip4(2, 5001);
    static const char *uf[2] = {"agA1", "agB2"}, *pw[2] = {"passwordA-passwordA-pa", "passwordB-passwordB-pb"};
    for (int i = 0; i < 2; i++) {
        /* the peer's candidates: an unreachable one with the highest
         * priority first, the reachable one, an unreachable relay */
        struct ice_cand rc[3] = {{ip4(99, 9), 2130706431u, ICE_CAND_HOST},
                                 {S[1 - i].addr, 1694498815u, ICE_CAND_SRFLX},
                                 {ip4(98, 8), 16777215u, ICE_CAND_RELAY}};
        S[i].pmem = aligned_alloc(64, (sctp_pool_size(4096, 1200) + 63) & ~(size_t)63);
        S[i].pool = sctp_pool_init(S[i].pmem, 4096, 1200);
        S[i].amem = aligned_alloc(64, sctp_assoc_size(16));
        struct pc_config c = {
            .controlling = i == 0,
            .local_ufrag = uf[i], .local_pwd = pw[i], .remote_ufrag = uf[1 - i], .remote_pwd = pw[1 - i],
            .peer = rc[0].addr, /* a wrong guess: the candidates decide */
            .cert = &certs[i], .peer_fingerprint = certs[1 - i].fingerprint, .cp = &cp, .hs = &hs,
            .sctp_mem = S[i].amem, .sctp_pool = S[i].pool, .label = "full", .seed = 91 + (uint64_t)i,
            .setup = &S[i].su, .rec_keys = &S[i].keys, .counters = &S[i].cnt,
            .remote_cands = rc, .n_remote_cands = 3, .consent = true, .ice_ta_ns = 20000000ull};
        cr_assert_eq(pc_init(&S[i].pc, &c, now), 0);
    }
}

static void teardown(void)
{
    for (int i = 0; i < 2; i++) {
        pc_free(&S[i].pc);
        free(S[i].amem);
        free(S[i].pmem);
    }
    dtls_hs_pool_destroy(&hs);
    cp_destroy(&cp);
}

static void events(int i)
{
    static uint8_t buf[1 << 18];
    struct pc_ev ev = {.buf = buf, .cap = sizeof(buf)};
    while (pc_poll_event(&S[i].pc, &ev) != PC_EV_NONE) {
        S[i].up |= ev.type == PC_EV_UP;
        S[i].failed |= ev.type == PC_EV_FAILED;
        if (ev.type == PC_EV_MESSAGE)
            S[i].got++;
        if (ev.type == PC_EV_CONSENT_LOST) {
            cr_assert(!S[i].lost, "once");
            S[i].lost = true, S[i].lost_at = now;
        }
    }
}

static bool step(void)
{
    bool moved = false;
    uint8_t d[1500];
    for (int i = 0; i < 2; i++) {
        size_t n;
        struct stun_addr to;
        while ((n = pc_poll_transmit_to(&S[i].pc, d, sizeof(d), now, &to)) > 0) {
            moved = true;
            if (d[0] >= 20 && d[0] <= 63) {
                if (!S[i].first_dtls_at)
                    S[i].first_dtls_at = now;
                S[i].dtls_elsewhere += !same(&to, &S[1 - i].addr);
            }
            if (S[i].silent || !same(&to, &S[1 - i].addr))
                continue;
            if (d[0] == 0x01 && d[1] == 0x01) /* a Binding success answer (type 0x0101) */
                S[1 - i].last_answer_at = now;
            pc_handle_input_from(&S[1 - i].pc, d, n, &S[i].addr, now);
            events(1 - i);
        }
    }
    for (int i = 0; i < 2; i++)
        if (pc_next_timeout(&S[i].pc) <= now) {
            pc_handle_timeout(&S[i].pc, now);
            events(i);
            moved = true;
        }
    if (moved)
        return true;
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < 2; i++) {
        uint64_t a = pc_next_timeout(&S[i].pc);
        t = a < t ? a : t;
    }
    if (t == UINT64_MAX)
        return false;
    now = t > now ? t : now;
    return true;
}

static void run_until(uint64_t until)
{
    for (int k = 0; k < 2000000 && now < until; k++)
        if (!step())
            break;
}

Test(pc_full_ice, candidates_select_the_reachable_pair_and_consent_keeps_it, .timeout = 60)
{
    setup();
    for (int k = 0; k < 200000 && !(S[0].up && S[1].up) && !S[0].failed && !S[1].failed; k++)
        if (!step())
            break;
    cr_assert(S[0].up && S[1].up, "stages: %s / %s", pc_stage_name(pc_stage(&S[0].pc)),
              pc_stage_name(pc_stage(&S[1].pc)));
    for (int i = 0; i < 2; i++) {
        struct stun_addr sel;
        cr_assert(pc_selected_peer(&S[i].pc, &sel));
        cr_assert(same(&sel, &S[1 - i].addr), "side %d selected the reachable candidate", i);
        cr_assert_eq(S[i].dtls_elsewhere, 0, "DTLS only to the selected pair");
        cr_assert_geq(S[i].first_dtls_at, pc_stage_time(&S[i].pc, PC_DTLS_WAIT), "DTLS after ICE");
        cr_assert_gt(pc_stage_time(&S[i].pc, PC_DTLS_WAIT), 0);
    }
    /* messages both ways, then 65 s of virtual time with consent answered */
    uint8_t m[100] = {1};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 10; k++)
            cr_assert_eq(pc_send(&S[i].pc, m, sizeof(m), now), 0);
    uint64_t t0 = now;
    run_until(t0 + 65 * S_);
    cr_assert_eq(S[0].got, 10);
    cr_assert_eq(S[1].got, 10);
    cr_assert(!S[0].lost && !S[1].lost);
    for (int i = 0; i < 2; i++) {
        const struct ice_counters *c = pc_ice_counters(&S[i].pc);
        cr_assert_geq(c->consent_sent, 10);
        cr_assert_eq(c->consent_answered, c->consent_sent);
        cr_assert_eq(pc_stage(&S[i].pc), PC_UP);
    }
    /* an ICE restart on both ends: checking again while messages go on
     * over the old pair, connected again, still up */
    struct ice_cand rc1[1] = {{S[1].addr, 2130706431u, ICE_CAND_HOST}}, rc0[1] = {{S[0].addr, 2130706431u, ICE_CAND_HOST}};
    cr_assert_eq(pc_ice_restart(&S[0].pc, "agA9", "passwordA-restart-0123", "agB9", "passwordB-restart-0123", rc1, 1, now),
                 0);
    cr_assert_eq(pc_ice_restart(&S[1].pc, "agB9", "passwordB-restart-0123", "agA9", "passwordA-restart-0123", rc0, 1, now),
                 0);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 5; k++)
            cr_assert_eq(pc_send(&S[i].pc, m, sizeof(m), now), 0);
    uint32_t answered[2] = {pc_ice_counters(&S[0].pc)->consent_answered, pc_ice_counters(&S[1].pc)->consent_answered};
    run_until(now + 7 * S_);
    for (int i = 0; i < 2; i++) {
        cr_assert_gt(pc_ice_counters(&S[i].pc)->consent_answered, answered[i],
                     "consent runs again: ICE is connected again");
        const struct ice_counters *c = pc_ice_counters(&S[i].pc);
        cr_assert_eq(c->restarts, 1);
        cr_assert_eq(S[i].got, 15, "side %d got %u messages", i, S[i].got);
        cr_assert_eq(pc_stage(&S[i].pc), PC_UP);
        struct stun_addr sel;
        cr_assert(pc_selected_peer(&S[i].pc, &sel) && same(&sel, &S[1 - i].addr));
    }
    cr_assert_eq(pc_ice_restart(&S[0].pc, "x", "y", "z", "w", rc1, ICE_MAX_REMOTE + 1, now), -EINVAL);
    /* the controlled side goes silent: the controlling side loses consent
     * 30 s after the last answer it had */
    S[1].silent = true;
    uint64_t cut = now;
    run_until(cut + 40 * S_);
    cr_assert(S[0].lost, "PC_EV_CONSENT_LOST");
    cr_assert_eq(S[0].lost_at, S[0].last_answer_at + ICE_CONSENT_TIMEOUT_NS, "lost %llu last answer %llu cut %llu",
                 (unsigned long long)S[0].lost_at, (unsigned long long)S[0].last_answer_at, (unsigned long long)cut);
    teardown();
}
