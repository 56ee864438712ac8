/* SPDX-License-Identifier: MIT */
/*
 * DTLS 1.3 (RFC 9147) between two of our endpoints, in memory on a virtual
 * clock (dtls_link.h): the 1-RTT handshake in every suite and group, the
 * HelloRetryRequest for a cookie and for a group, the version negotiated
 * with 1.2-only peers (and 1.3-only refusing them), loss, duplication and
 * reordering (the final flight acknowledged), the exporter agreeing on
 * both ends, application data through the 1.3 record layer, and the
 * negative cases counted by why: a wrong fingerprint, a tampered Finished,
 * a downgrade to 1.2 detected by the ServerHello random's sentinel.
 */
#include "dtls_link.h"
#include "dtls_internal.h"
#include "dtls_record_internal.h"
#include "wire.h"
#include <stdio.h>
#include "tls13_keys.h"

#define SEC 1000000000ull

static struct dtls_config cfg(int side, uint8_t versions)
{
    struct link tmp;
    struct dtls_config c = link_config(&tmp, side);
    c.versions = versions;
    return c;
}

static void assert_up(struct link *l)
{
    cr_assert(l->up[0] && l->up[1], "client %s (alert %d), server %s (alert %d)",
              dtls_failure_name(dtls_failure(l->ep[0])), dtls_failure_alert(l->ep[0]),
              dtls_failure_name(dtls_failure(l->ep[1])), dtls_failure_alert(l->ep[1]));
}

/* Both ends derived the same SRTP keying material, and records go both ways. */
static void assert_keys_agree(struct link *l)
{
    uint8_t a[60], b[60];
    cr_assert_eq(dtls_export_keying(l->ep[0], "EXTRACTOR-dtls_srtp", a, sizeof(a)), 0);
    cr_assert_eq(dtls_export_keying(l->ep[1], "EXTRACTOR-dtls_srtp", b, sizeof(b)), 0);
    cr_assert_eq(memcmp(a, b, sizeof(a)), 0, "the exporters differ");
    for (int from = 0; from < 2; from++) {
        uint8_t msg[] = "swarmgen over DTLS 1.3", rec[128], out[128];
        int n = dtls_record_seal(&l->rec[from], DTLS_CT_APPLICATION_DATA, msg, sizeof(msg), rec, sizeof(rec));
        cr_assert_gt(n, 0, "seal %d", n);
        if (dtls_version(l->ep[from]) == DTLS_V13)
            cr_assert_eq(rec[0] & 0xe0, 0x20, "a 1.3 record has the unified header (%02x)", rec[0]);
        size_t used;
        uint8_t type;
        int m = dtls_record_open(&l->rec[1 - from], rec, (size_t)n, &used, &type, out, sizeof(out));
        cr_assert_eq(m, (int)sizeof(msg), "open %d", m);
        cr_assert_eq(type, DTLS_CT_APPLICATION_DATA);
        cr_assert_eq(memcmp(out, msg, sizeof(msg)), 0);
    }
}

static void handshake(struct link *l, const struct dtls_config *c, const struct dtls_config *s)
{
    link_setup(l, c, s);
    link_run(l, 120 * SEC);
}

Test(dtls13, agents_negotiate_1_3_by_default_offer)
{
    struct link l;
    struct dtls_config c = cfg(0, DTLS_OFFER_ALL_VERSIONS), s = cfg(1, DTLS_OFFER_ALL_VERSIONS);
    handshake(&l, &c, &s);
    assert_up(&l);
    cr_assert_eq(dtls_version(l.ep[0]), DTLS_V13);
    cr_assert_eq(dtls_version(l.ep[1]), DTLS_V13);
    cr_assert_eq(dtls_record_version(&l.rec[0]), DTLS_V13);
    cr_assert_eq(dtls_srtp_profile(l.ep[0]), dtls_srtp_profile(l.ep[1]));
    cr_assert_neq(dtls_srtp_profile(l.ep[0]), 0);
    /* the server has a cookie secret: one HelloRetryRequest for it */
    cr_assert_eq(dtls_counters(l.ep[1])->cookies_sent, 1);
    /* the client's final flight was acknowledged */
    cr_assert_geq(dtls_counters(l.ep[1])->acks_out, 1);
    cr_assert_geq(dtls_counters(l.ep[0])->acks_in, 1);
    assert_keys_agree(&l);
    link_done(&l);
}

Test(dtls13, every_suite_and_group_without_a_cookie)
{
    static const uint8_t suites[] = {DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM, DTLS_OFFER_CHACHA20};
    static const uint8_t groups[] = {DTLS_OFFER_X25519 | DTLS_OFFER_P256, DTLS_OFFER_P256};
    for (size_t i = 0; i < 3; i++)
        for (size_t g = 0; g < 2; g++) {
            struct link l;
            struct dtls_config c = cfg(0, DTLS_OFFER_V13), s = cfg(1, DTLS_OFFER_V13);
            c.suites = s.suites = suites[i];
            c.groups = s.groups = groups[g];
            s.cookie_secret = NULL;
            handshake(&l, &c, &s);
            assert_up(&l);
            cr_assert_eq(dtls_version(l.ep[0]), DTLS_V13);
            cr_assert_eq(dtls_counters(l.ep[1])->cookies_sent, 0);
            cr_assert_eq(dtls_group(l.ep[0]), g == 0 ? CP_GROUP_X25519 : CP_GROUP_SECP256R1);
            assert_keys_agree(&l);
            link_done(&l);
        }
}

Test(dtls13, a_hello_retry_request_asks_for_the_group_the_server_takes)
{
    struct link l;
    struct dtls_config c = cfg(0, DTLS_OFFER_V13), s = cfg(1, DTLS_OFFER_V13);
    s.groups = DTLS_OFFER_P256; /* the client shares X25519 first */
    s.cookie_secret = NULL;
    handshake(&l, &c, &s);
    assert_up(&l);
    cr_assert_eq(dtls_group(l.ep[0]), CP_GROUP_SECP256R1);
    cr_assert_eq(dtls_group(l.ep[1]), CP_GROUP_SECP256R1);
    assert_keys_agree(&l);
    link_done(&l);
}

Test(dtls13, auto_falls_back_to_1_2_against_a_1_2_only_peer_in_both_roles)
{
    for (int side = 0; side < 2; side++) {
        struct link l;
        struct dtls_config c = cfg(0, side == 0 ? DTLS_OFFER_ALL_VERSIONS : DTLS_OFFER_V12);
        struct dtls_config s = cfg(1, side == 0 ? DTLS_OFFER_V12 : DTLS_OFFER_ALL_VERSIONS);
        handshake(&l, &c, &s);
        assert_up(&l);
        cr_assert_eq(dtls_version(l.ep[0]), DTLS_V12);
        cr_assert_eq(dtls_version(l.ep[1]), DTLS_V12);
        cr_assert_eq(dtls_record_version(&l.rec[0]), DTLS_V12);
        assert_keys_agree(&l);
        link_done(&l);
    }
}

Test(dtls13, a_1_3_only_end_refuses_a_1_2_only_peer)
{
    for (int side = 0; side < 2; side++) {
        struct link l;
        struct dtls_config c = cfg(0, side == 0 ? DTLS_OFFER_V13 : DTLS_OFFER_V12);
        struct dtls_config s = cfg(1, side == 0 ? DTLS_OFFER_V12 : DTLS_OFFER_V13);
        handshake(&l, &c, &s);
        cr_assert(l.failed[0] && l.failed[1]);
        cr_assert(dtls_failure(l.ep[side == 0 ? 1 : 1]) == DTLS_FAIL_VERSION ||
                      dtls_failure(l.ep[0]) == DTLS_FAIL_VERSION,
                  "client %s, server %s", dtls_failure_name(dtls_failure(l.ep[0])),
                  dtls_failure_name(dtls_failure(l.ep[1])));
        link_done(&l);
    }
}

Test(dtls13, loss_duplication_and_reordering_in_both_roles)
{
    for (unsigned seed = 1; seed <= 40; seed++) {
        struct link l;
        struct dtls_config c = cfg(0, DTLS_OFFER_ALL_VERSIONS), s = cfg(1, DTLS_OFFER_ALL_VERSIONS);
        c.mtu = s.mtu = seed % 2 ? DTLS_MTU_MIN : DTLS_MTU; /* fragments, or not */
        link_setup(&l, &c, &s);
        l.rng = seed * 7919;
        l.loss_pct = 20;
        l.dup_pct = 10;
        l.reorder_pct = 10;
        l.delay_ns = 10000000;
        link_run(&l, 300 * SEC);
        assert_up(&l);
        cr_assert_eq(dtls_version(l.ep[0]), DTLS_V13, "seed %u", seed);
        /* after the run: nothing left to send again */
        l.loss_pct = l.dup_pct = l.reorder_pct = 0;
        link_run(&l, l.now + 120 * SEC);
        assert_keys_agree(&l);
        link_done(&l);
    }
}

Test(dtls13, a_wrong_fingerprint_fails_in_both_roles)
{
    for (int side = 0; side < 2; side++) {
        struct link l;
        struct dtls_config c = cfg(0, DTLS_OFFER_V13), s = cfg(1, DTLS_OFFER_V13);
        static const uint8_t wrong[DTLS_FP_LEN] = {1};
        if (side == 0)
            c.peer_fingerprint = wrong;
        else
            s.peer_fingerprint = wrong;
        handshake(&l, &c, &s);
        cr_assert(l.failed[side], "the side with the wrong fingerprint failed");
        cr_assert_eq(dtls_failure(l.ep[side]), DTLS_FAIL_FINGERPRINT);
        cr_assert_eq(dtls_failure_alert(l.ep[side]), DTLS_ALERT_BAD_CERTIFICATE);
        link_done(&l);
    }
}

/* Runs a handshake by hand, calling `mutate` on every datagram before it
 * is delivered; returns when neither side has anything more to send. */
static void run_mutating(struct link *l, void (*mutate)(int from, uint8_t *d, size_t len))
{
    uint8_t buf[LINK_DGRAM];
    for (int round = 0; round < 50; round++) {
        bool moved = false;
        for (int s = 0; s < 2; s++) {
            size_t n;
            while ((n = dtls_poll_transmit(l->ep[s], buf, sizeof(buf), l->now)) > 0) {
                mutate(s, buf, n);
                dtls_handle_input(l->ep[1 - s], buf, n, l->now);
                moved = true;
            }
        }
        link_events(l);
        if (!moved)
            return;
    }
}

/* The supported_versions extension of our auto ClientHello renamed to an
 * unknown type: the server sees a 1.2-only client, as after an attacker
 * stripped 1.3. */
static void strip_1_3(int from, uint8_t *d, size_t len)
{
    static const uint8_t ext[] = {0x00, 0x2b, 0x00, 0x05, 0x04, 0xfe, 0xfc, 0xfe, 0xfd};
    if (from != 0)
        return;
    for (size_t i = 0; i + sizeof(ext) <= len; i++)
        if (memcmp(d + i, ext, sizeof(ext)) == 0)
            d[i] = 0xfa, d[i + 1] = 0xfa;
}

Test(dtls13, a_downgrade_to_1_2_is_detected_by_the_server_random_sentinel)
{
    struct link l;
    struct dtls_config c = cfg(0, DTLS_OFFER_ALL_VERSIONS), s = cfg(1, DTLS_OFFER_ALL_VERSIONS);
    s.cookie_secret = NULL;
    link_setup(&l, &c, &s);
    run_mutating(&l, strip_1_3);
    cr_assert(l.failed[0], "the client saw through it");
    cr_assert_eq(dtls_failure(l.ep[0]), DTLS_FAIL_DOWNGRADE, "%s", dtls_failure_name(dtls_failure(l.ep[0])));
    cr_assert_eq(dtls_failure_alert(l.ep[0]), DTLS_ALERT_ILLEGAL_PARAMETER);
    link_done(&l);
}

static void no_change(int from, uint8_t *d, size_t len)
{
    (void)from, (void)d, (void)len;
}

/* A Finished whose verify_data is wrong (as a wrong key schedule or a
 * tampered transcript would give) fails the peer's check. */
Test(dtls13, a_tampered_finished_fails_the_handshake)
{
    struct link l;
    struct dtls_config c = cfg(0, DTLS_OFFER_V13), s = cfg(1, DTLS_OFFER_V13);
    s.cookie_secret = NULL;
    link_setup(&l, &c, &s);
    /* the server writes its flight (Finished included) before the first
     * datagram leaves: flip its verify_data now, then run */
    uint8_t buf[LINK_DGRAM];
    size_t n = dtls_poll_transmit(l.ep[0], buf, sizeof(buf), 0);
    dtls_handle_input(l.ep[1], buf, n, 0);
    cr_assert_eq(l.ep[1]->state, ST13_SERVER_CERT);
    l.ep[1]->t.finished[0] ^= 1;
    run_mutating(&l, no_change);
    cr_assert(l.failed[0]);
    cr_assert_eq(dtls_failure(l.ep[0]), DTLS_FAIL_BAD_FINISHED, "%s", dtls_failure_name(dtls_failure(l.ep[0])));
    cr_assert_eq(dtls_failure_alert(l.ep[0]), DTLS_ALERT_DECRYPT_ERROR);
    link_done(&l);
}

/* ---- the key log ------------------------------------------------------ */

/* The secret a key-log text gives LABEL for client random cr (hex), into
 * out; its length, 0 when the line is missing. */
static size_t keylog_secret(const char *log, const char *label, const char *cr, uint8_t *out)
{
    char want[128];
    snprintf(want, sizeof(want), "%s %s ", label, cr);
    const char *p = strstr(log, want);
    if (!p)
        return 0;
    p += strlen(want);
    size_t n = 0;
    while (p[2 * n] && p[2 * n] != '\n' && n < TLS13_HASH_MAX) {
        unsigned v;
        sscanf(p + 2 * n, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static struct {
    int n;
    uint8_t d[8][LINK_DGRAM];
    size_t len[8];
} server_flight;

static void tap_server_flight(void *arg, int from, const uint8_t *d, size_t len)
{
    (void)arg;
    if (from == 1 && server_flight.n < 8) {
        memcpy(server_flight.d[server_flight.n], d, len);
        server_flight.len[server_flight.n++] = len;
    }
}

/* What the key log of each end says lets a third party read the
 * connection: the server's epoch-2 flight opens with keys from
 * SERVER_HANDSHAKE_TRAFFIC_SECRET, the client's application records with
 * keys from CLIENT_TRAFFIC_SECRET_0, and EXPORTER_SECRET gives the SRTP
 * keying material both ends exported; both ends log the same five lines. */
Test(dtls13, the_key_log_lets_a_third_party_read_the_connection)
{
    static const uint8_t suites[] = {DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM};
    for (size_t si = 0; si < 2; si++) {
        struct link l;
        char klog[2][DTLS_KEYLOG_MAX];
        struct dtls_config c = cfg(0, DTLS_OFFER_V13), s = cfg(1, DTLS_OFFER_V13);
        c.keylog = klog[0];
        s.keylog = klog[1];
        c.suites = s.suites = suites[si];
        s.cookie_secret = NULL;
        link_setup(&l, &c, &s);
        memset(&server_flight, 0, sizeof(server_flight));
        l.tap = tap_server_flight;
        link_run(&l, 60 * SEC);
        assert_up(&l);
        cr_assert_str_eq(klog[0], klog[1], "both ends log the same lines");
        int lines = 0;
        for (const char *p = klog[0]; *p; p++)
            lines += *p == '\n';
        cr_assert_eq(lines, 5, "%s", klog[0]);
        char cr[65];
        for (int i = 0; i < 32; i++)
            sprintf(cr + 2 * i, "%02x", l.ep[0]->client_random[i]);
        enum cp_hash_alg alg = si ? CP_SHA384 : CP_SHA256;
        size_t kl = si ? 32 : 16, hl = cp_hash_len(alg);
        uint8_t secret[TLS13_HASH_MAX];
        struct dtls13_keys k = {.suite = si ? DTLS_SUITE_AES_256_GCM : DTLS_SUITE_AES_128_GCM};

        /* the server's encrypted flight */
        cr_assert_eq(keylog_secret(klog[0], "SERVER_HANDSHAKE_TRAFFIC_SECRET", cr, secret), hl);
        cr_assert_eq(tls13_traffic_keys(&link_cp, alg, secret, kl, k.key, k.iv, k.sn), 0);
        int opened = 0;
        uint8_t out[LINK_DGRAM];
        for (int d = 0; d < server_flight.n; d++)
            for (size_t off = 0; off < server_flight.len[d];) {
                const uint8_t *r = server_flight.d[d] + off;
                size_t left = server_flight.len[d] - off, used;
                if ((r[0] & 0xe0) != 0x20) {
                    off += DTLS_RECORD_HEADER + wire_get16(r + 11);
                    continue;
                }
                uint64_t seq;
                uint8_t type;
                int n = dtls13_open(&k, r, left, (uint64_t)opened, &used, &seq, &type, out, sizeof(out));
                if ((r[0] & 3) == 2) {
                    cr_assert_geq(n, 0, "an epoch-2 record of the server opens with the logged secret (%d)", n);
                    cr_assert_eq(type, DTLS_CT_HANDSHAKE);
                    opened++;
                }
                off += used;
            }
        cr_assert_gt(opened, 0);

        /* the client's application data */
        cr_assert_eq(keylog_secret(klog[0], "CLIENT_TRAFFIC_SECRET_0", cr, secret), hl);
        cr_assert_eq(tls13_traffic_keys(&link_cp, alg, secret, kl, k.key, k.iv, k.sn), 0);
        uint8_t msg[] = "read by a third party", rec[128];
        int n = dtls_record_seal(&l.rec[0], DTLS_CT_APPLICATION_DATA, msg, sizeof(msg), rec, sizeof(rec));
        cr_assert_gt(n, 0);
        size_t used;
        uint64_t seq;
        uint8_t type;
        cr_assert_eq(dtls13_open(&k, rec, (size_t)n, 0, &used, &seq, &type, out, sizeof(out)), (int)sizeof(msg));
        cr_assert_eq(memcmp(out, msg, sizeof(msg)), 0);

        /* the exporter */
        cr_assert_eq(keylog_secret(klog[0], "EXPORTER_SECRET", cr, secret), hl);
        uint8_t a[60], b[60];
        cr_assert_eq(tls13_export(&link_cp, alg, secret, "EXTRACTOR-dtls_srtp", NULL, 0, a, sizeof(a)), 0);
        cr_assert_eq(dtls_export_keying(l.ep[1], "EXTRACTOR-dtls_srtp", b, sizeof(b)), 0);
        cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
        cr_assert_eq(keylog_secret(klog[0], "CLIENT_HANDSHAKE_TRAFFIC_SECRET", cr, secret), hl);
        cr_assert_eq(keylog_secret(klog[0], "SERVER_TRAFFIC_SECRET_0", cr, secret), hl);
        link_done(&l);
    }
}
