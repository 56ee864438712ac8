/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS handshake engine against itself, in memory on a virtual clock:
 * every suite and group, cookies, SRTP profiles and the exporter, loss,
 * duplication, reordering and small MTUs, the key log, and Wireshark's
 * dissector decrypting the capture with it.
 */
#include <stdio.h>
#include <unistd.h>

#include "dtls_link.h"
#include "dtls_prf.h"

static void assert_up(struct link *l)
{
    cr_assert(l->up[0] && l->up[1], "client %s (alert %d), server %s (alert %d)",
              dtls_failure_name(dtls_failure(l->ep[0])), dtls_failure_alert(l->ep[0]),
              dtls_failure_name(dtls_failure(l->ep[1])), dtls_failure_alert(l->ep[1]));
    cr_assert(!l->failed[0] && !l->failed[1]);
}

/* Application data both ways through the two record layers. */
static void assert_data_flows(struct link *l)
{
    uint8_t msg[300], rec[400], out[400];
    for (int dir = 0; dir < 2; dir++) {
        for (int i = 0; i < 5; i++) {
            memset(msg, 'a' + i + dir, sizeof(msg));
            int n = dtls_record_seal(&l->rec[dir], DTLS_CT_APPLICATION_DATA, msg, sizeof(msg), rec, sizeof(rec));
            cr_assert_gt(n, 0);
            size_t used;
            uint8_t type;
            int m = dtls_record_open(&l->rec[1 - dir], rec, (size_t)n, &used, &type, out, sizeof(out));
            cr_assert_eq(m, (int)sizeof(msg));
            cr_assert_eq(type, DTLS_CT_APPLICATION_DATA);
            cr_assert_eq(memcmp(msg, out, sizeof(msg)), 0);
        }
    }
}

static void assert_same_keying(struct link *l)
{
    uint16_t p = dtls_srtp_profile(l->ep[0]);
    cr_assert_eq(p, dtls_srtp_profile(l->ep[1]));
    size_t n = dtls_srtp_keying_len(p);
    uint8_t a[DTLS_KEYING_MAX], b[DTLS_KEYING_MAX], zero[DTLS_KEYING_MAX] = {0};
    cr_assert_eq(dtls_export_keying(l->ep[0], "EXTRACTOR-dtls_srtp", a, n), 0);
    cr_assert_eq(dtls_export_keying(l->ep[1], "EXTRACTOR-dtls_srtp", b, n), 0);
    cr_assert_eq(memcmp(a, b, n), 0, "both ends export the same keys");
    cr_assert_neq(memcmp(a, zero, n), 0);
}

Test(dtls, handshake_with_cookie_srtp_and_matching_keys, .timeout = 60)
{
    struct link l;
    link_default(&l);
    link_run(&l, 60000000000ull);
    assert_up(&l);
    cr_assert_eq(l.now, 0, "no retransmission without loss");
    cr_assert_eq(dtls_counters(l.ep[1])->cookies_sent, 1, "the server asked for a cookie first");
    cr_assert_eq(dtls_srtp_profile(l.ep[0]), 0x0002, "the client's first SRTP profile we offered");
    cr_assert_eq(dtls_suite(l.ep[0]), DTLS_SUITE_AES_128_GCM);
    cr_assert_eq(dtls_group(l.ep[0]), CP_GROUP_X25519);
    assert_same_keying(&l);
    assert_data_flows(&l);
    char a[DTLS_KEYLOG_LINE], b[DTLS_KEYLOG_LINE];
    cr_assert_eq(dtls_keylog_line(l.ep[0], a), 0);
    cr_assert_eq(dtls_keylog_line(l.ep[1], b), 0);
    cr_assert_str_eq(a, b);
    cr_assert_eq(strncmp(a, "CLIENT_RANDOM ", 14), 0);
    cr_assert_eq(strlen(a), 14 + 64 + 1 + 96 + 1);
    link_done(&l);
}

static void suite_group(uint8_t suite, uint8_t group, enum dtls_suite want, enum cp_group want_group)
{
    struct link l, tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    c.suites = s.suites = suite;
    c.groups = s.groups = group;
    link_setup(&l, &c, &s);
    link_run(&l, 60000000000ull);
    assert_up(&l);
    cr_assert_eq(dtls_suite(l.ep[0]), want);
    cr_assert_eq(dtls_suite(l.ep[1]), want);
    cr_assert_eq(dtls_group(l.ep[0]), want_group);
    assert_same_keying(&l);
    assert_data_flows(&l);
    link_done(&l);
}

Test(dtls, every_suite_and_group, .timeout = 60)
{
    uint8_t suites[] = {DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM, DTLS_OFFER_CHACHA20};
    enum dtls_suite want[] = {DTLS_SUITE_AES_128_GCM, DTLS_SUITE_AES_256_GCM, DTLS_SUITE_CHACHA20_POLY1305};
    for (int i = 0; i < 3; i++) {
        /* the client lists X25519 then P-256 (P-256 is always listed: the
         * certificates are P-256); the server takes the client's first */
        suite_group(suites[i], DTLS_OFFER_ALL_GROUPS, want[i], CP_GROUP_X25519);
        suite_group(suites[i], DTLS_OFFER_P256, want[i], CP_GROUP_SECP256R1);
    }
}

/* 10 % loss, 10 % duplication, 10 % reordering, at three MTUs: every
 * handshake completes (RFC 6347's 60 s cap on the timer, so that a flight
 * gets its eight tries), keys agree, data flows. */
Test(dtls, ten_percent_loss_duplication_and_reordering, .timeout = 120)
{
    unsigned dropped = 0, duplicated = 0, reordered = 0, retransmits = 0;
    for (uint32_t seed = 1; seed <= 300; seed++) {
        struct link l, tmp;
        struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
        c.rto_max_ms = s.rto_max_ms = 60000;
        c.mtu = s.mtu = seed % 3 == 0 ? DTLS_MTU_MIN : seed % 3 == 1 ? 500 : DTLS_MTU;
        link_setup(&l, &c, &s);
        l.rng = seed;
        l.loss_pct = l.dup_pct = l.reorder_pct = 10;
        l.delay_ns = 5000000;
        link_run(&l, 300000000000ull);
        assert_up(&l);
        assert_same_keying(&l);
        assert_data_flows(&l);
        dropped += l.dropped;
        duplicated += l.duplicated;
        reordered += l.reordered;
        retransmits += dtls_counters(l.ep[0])->retransmit_timeouts + dtls_counters(l.ep[1])->retransmit_timeouts;
        link_done(&l);
    }
    cr_assert_gt(dropped, 100);
    cr_assert_gt(duplicated, 100);
    cr_assert_gt(reordered, 100);
    cr_assert_gt(retransmits, 50);
}

Test(dtls, small_mtu_fragments_every_flight, .timeout = 60)
{
    struct link l, tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    c.mtu = s.mtu = DTLS_MTU_MIN;
    link_setup(&l, &c, &s);
    l.reorder_pct = 30;
    l.delay_ns = 1000000;
    link_run(&l, 60000000000ull);
    assert_up(&l);
    cr_assert_gt(dtls_counters(l.ep[0])->datagrams_out, 3);
    assert_same_keying(&l);
    link_done(&l);
}

Test(dtls, a_wrong_fingerprint_fails_the_handshake, .timeout = 60)
{
    struct link l, tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    uint8_t wrong[32];
    memcpy(wrong, sc.fingerprint, 32);
    wrong[5] ^= 1;
    c.peer_fingerprint = wrong;
    link_setup(&l, &c, &s);
    link_run(&l, 60000000000ull);
    cr_assert(l.failed[0], "the client accepted a certificate with another fingerprint");
    cr_assert_eq(dtls_failure(l.ep[0]), DTLS_FAIL_FINGERPRINT);
    cr_assert(l.failed[1], "the server learned of it by the alert");
    cr_assert_eq(dtls_failure(l.ep[1]), DTLS_FAIL_PEER_ALERT);
    cr_assert_eq(dtls_failure_alert(l.ep[1]), DTLS_ALERT_BAD_CERTIFICATE);
    link_done(&l);
}

Test(dtls, fingerprint_text_as_sdp_writes_it)
{
    link_init_crypto();
    char t[DTLS_FP_TEXT];
    dtls_fingerprint_text(cc.fingerprint, t);
    cr_assert_eq(strncmp(t, "sha-256 ", 8), 0);
    cr_assert_eq(strlen(t), 8 + 32 * 3 - 1);
    cr_assert_eq(t[10], ':');
}

/* The client's flight 5 at MTU 256 spans several datagrams; delivered
 * last first, the Finished (epoch 1) reaches the server before the
 * ClientKeyExchange whose keys open it: the server keeps it and reads it
 * once the keys are in, so the handshake ends without a retransmission. */
Test(dtls, a_finished_overtaking_its_key_exchange_is_kept_for_its_keys, .timeout = 60)
{
    struct link l, tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    c.mtu = s.mtu = DTLS_MTU_MIN;
    s.cookie_secret = NULL;
    link_setup(&l, &c, &s);
    uint8_t d[16][DTLS_MTU_MIN];
    size_t dl[16];
    int flight = 0;
    for (int round = 0; round < 10 && !(dtls_connected(l.ep[0]) && dtls_connected(l.ep[1])); round++) {
        int n = 0;
        while (n < 16 && (dl[n] = dtls_poll_transmit(l.ep[0], d[n], sizeof(d[n]), 0)) > 0)
            n++;
        flight++;
        for (int i = n - 1; i >= 0; i--) /* last first */
            dtls_handle_input(l.ep[1], d[i], dl[i], 0);
        size_t m;
        uint8_t b[DTLS_MTU_MIN];
        while ((m = dtls_poll_transmit(l.ep[1], b, sizeof(b), 0)) > 0)
            dtls_handle_input(l.ep[0], b, m, 0);
    }
    link_events(&l);
    assert_up(&l);
    cr_assert_eq(dtls_counters(l.ep[1])->records_held, 1, "the Finished was kept for its keys");
    cr_assert_eq(dtls_counters(l.ep[0])->retransmit_timeouts + dtls_counters(l.ep[1])->retransmit_timeouts, 0);
    assert_same_keying(&l);
    assert_data_flows(&l);
    link_done(&l);
}
