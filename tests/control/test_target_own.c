/* SPDX-License-Identifier: MIT */
/* Offerer against answerer, both ours: the target thread's WHIP client
 * against the WHIP server of --external (control/signal/external.h) on
 * 127.0.0.1, with in-memory EXTERNAL and TARGET sections. The server's
 * slots get our offers' credentials and fingerprint, our slots get its
 * answers (ice-lite, the DTLS role it picked, the agent's address and
 * 47000 + its slot), and our DELETEs end its sessions (close_seq). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "external.h"
#include "target.h"

#define N 3

static struct ri_target *tsec;
static struct ri_external *xsec;
static struct ri_agent agents[N + 1];
static struct ctl_external ext;
static struct ctl_target *tg;

static void image(void)
{
    size_t sz = sizeof(struct ri_target) + N * sizeof(struct ri_target_slot);
    tsec = aligned_alloc(RI_ALIGN, sz);
    memset(tsec, 0, sz);
    tsec->n_slots = N;
    xsec = aligned_alloc(RI_ALIGN, sizeof(*xsec));
    memset(xsec, 0, sizeof(*xsec));
    ctl_external_prepare(xsec, RI_EXT_ECHO, RI_EXTERNAL_MAX, "", 0);
    for (int i = 0; i < 32; i++) /* the dataplane's certificate, before READY */
        xsec->fingerprint[i] = (uint8_t)(0x30 + 5 * i);
    for (uint32_t i = 0; i <= N; i++)
        agents[i] = (struct ri_agent){.ip = 0xc6120001 + i};
}

static void teardown(void)
{
    ctl_target_free(tg);
    tg = NULL;
    ctl_external_stop(&ext);
    free(tsec);
    free(xsec);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The EXTERNAL slot the server gave agent `agent`, -1 none. */
static int ext_slot_of(uint32_t agent)
{
    for (int i = 0; i < RI_EXTERNAL_MAX; i++)
        if (ri_load(&xsec->slot[i].seq) != 0 && xsec->slot[i].agent == agent)
            return i;
    return -1;
}

static void run(bool prefer_active, bool audio)
{
    char err[256];
    cr_assert_eq(ctl_external_start(&ext, xsec, agents, N + 1, RI_EXT_ECHO, prefer_active,
                                    "127.0.0.1:0", NULL, err, sizeof(err)),
                 0, "%s", err);
    char spec[128];
    snprintf(spec, sizeof(spec), "whip:http://127.0.0.1:%u/whip/agents/{agent}", ext.signal_port);
    struct ctl_target_config c = {
        .n_sessions = N, .audio = audio, .http_timeout_ns = 3000000000ull};
    cr_assert_eq(ctl_target_parse(spec, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(ctl_target_start(&tg, &c, tsec, xsec, agents, N + 1, err, sizeof(err)), 0, "%s",
                 err);
    const struct ctl_target_results *r = ctl_target_results(tg);
    uint64_t t0 = now_ms();
    while (__atomic_load_n(&r->signalled, __ATOMIC_RELAXED) +
                   __atomic_load_n(&r->signal_failed, __ATOMIC_RELAXED) <
               N &&
           now_ms() - t0 < 5000)
        usleep(5000);
    cr_assert_eq(r->signalled, N, "failed: %llu, first cause %s (%s)",
                 (unsigned long long)r->signal_failed, ctl_target_cause_name(r->client[0].cause),
                 r->client[0].detail);

    for (uint32_t i = 0; i < N; i++) {
        struct ri_target_slot *ts = ri_target_slot(tsec, i);
        int k = ext_slot_of(i);
        cr_assert_geq(k, 0, "agent %u has a session on the server", i);
        struct ri_ext_slot *es = &xsec->slot[k];
        /* the server's slot holds our offer */
        cr_assert_str_eq(es->remote_ufrag, ts->local_ufrag);
        cr_assert_str_eq(es->remote_pwd, ts->local_pwd);
        cr_assert_arr_eq(es->remote_fp, xsec->fingerprint, 32);
        /* ours holds its answer */
        cr_assert_str_eq(ts->remote_ufrag, es->local_ufrag);
        cr_assert_str_eq(ts->remote_pwd, es->local_pwd);
        cr_assert_arr_eq(ts->remote_fp, xsec->fingerprint, 32);
        cr_assert_eq(ts->remote_lite, 1);
        cr_assert_eq(ts->n_cands, 1);
        cr_assert_eq(ts->cand[0].ip, agents[i].ip);
        cr_assert_eq(ts->cand[0].port, RI_EXTERNAL_PORT_BASE + (uint32_t)k);
        cr_assert_eq(ts->cand[0].type, RI_CAND_HOST);
        /* one DTLS client between the two, the one the server chose */
        cr_assert_eq(es->dtls_client, prefer_active ? 1 : 0);
        cr_assert_eq(ts->dtls_client, prefer_active ? 0 : 1);
        cr_assert_eq(ts->remote_sctp_port, 5000);
        cr_assert_eq(ts->remote_max_message, 262144);
        cr_assert_eq(ts->audio, 0, "the --external server answers without audio");
        char want[96];
        snprintf(want, sizeof(want), "http://127.0.0.1:%u/whip/sessions/", ext.signal_port);
        cr_assert_eq(strncmp(r->client[i].resource, want, strlen(want)), 0, "%s",
                     r->client[i].resource);
        /* the dataplane brings it up */
        ri_store(&ts->dp_state, (uint32_t)RI_TGT_UP);
        ri_store(&ts->dp_seq, ts->seq);
    }
    t0 = now_ms();
    while (ctl_target_up(tg) < N && now_ms() - t0 < 2000)
        usleep(5000);
    cr_assert_eq(ctl_target_up(tg), N);

    ctl_target_stop(tg, 3000000000ull);
    cr_assert_eq(r->deleted, N);
    for (uint32_t i = 0; i < N; i++) {
        struct ri_target_slot *ts = ri_target_slot(tsec, i);
        cr_assert_eq(ts->close_seq, ts->seq);
        int k = ext_slot_of(i);
        /* the DELETE, not the server's stop, ended it there */
        cr_assert_eq(ext.open[k], false);
        cr_assert_eq(ri_load(&xsec->slot[k].close_seq), xsec->slot[k].seq);
    }
    struct ctl_signal_stats st;
    ctl_signal_stats(ext.sig, &st);
    cr_assert_eq(st.sessions_opened, N);
    cr_assert_eq(st.sessions_closed, N);
}

Test(target_own_whip, offers_and_answers_both_ways_server_passive, .init = image, .fini = teardown)
{
    run(false, true);
}

Test(target_own_whip, offers_and_answers_both_ways_server_active, .init = image, .fini = teardown)
{
    run(true, false);
}
