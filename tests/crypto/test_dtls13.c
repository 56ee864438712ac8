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
#include <errno.h>
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

/* ---- KeyUpdate (RFC 9147 §8) ------------------------------------------
 *
 * After the handshake each side sends `n` application records, one every
 * 2 ms of virtual time, each alone in its datagram and numbered; every
 * protected record that arrives goes through dtls_open_record (the
 * previous epoch's keys, KeyUpdate and ACK handled by the endpoint); the
 * endpoints' own datagrams (KeyUpdates, ACKs) come from dtls_poll_transmit
 * as usual. Counted: records sent, those the shim dropped, those that
 * opened (each number once), replays refused, and late records (an epoch
 * behind the receiver's read epoch when they arrived). */
struct ku_stats {
    unsigned sent[2], lost[2], opened[2], replays[2], late[2], refused[2];
    uint8_t seen[2][4096 / 8];
};

static void ku_deliver(struct link *l, int to, const uint8_t *d, size_t len, struct ku_stats *st)
{
    size_t off = 0;
    while (off < len) {
        if ((d[off] & 0xe0) != 0x20) { /* epoch 0 in the clear: the handshake's */
            dtls_handle_input(l->ep[to], d + off, len - off, l->now);
            return;
        }
        struct dtls13_hdr h;
        cr_assert_eq(dtls13_parse_header(d + off, len - off, &h), 0);
        bool late = h.epoch_bits != dtls_record_epoch_bits(&l->rec[to], false);
        uint8_t plain[LINK_DGRAM], type = 0;
        size_t used;
        int n = dtls_open_record(l->ep[to], d + off, len - off, &used, &type, plain, sizeof(plain), l->now);
        cr_assert_gt(used, 0);
        if (n >= 0 && type == DTLS_CT_APPLICATION_DATA) {
            cr_assert_eq(n, 8);
            uint32_t id = wire_get32(plain), from = wire_get32(plain + 4);
            cr_assert_eq(from, (uint32_t)(1 - to));
            cr_assert_lt(id, 4096u);
            cr_assert_eq(st->seen[to][id / 8] >> (id % 8) & 1, 0, "record %u opened twice", id);
            st->seen[to][id / 8] |= (uint8_t)(1u << (id % 8));
            st->opened[to]++;
            st->late[to] += late;
        } else if (n == DTLS_REC_REPLAY) {
            st->replays[to]++;
        } else if (n < 0) {
            st->refused[to]++;
        }
        off += used;
    }
}

/* Runs the data phase until both sides sent n records, nothing is in
 * flight and no timer is armed (or `until`). tamper, when set, may change
 * a datagram a side sent before the shim takes it. */
static void ku_run(struct link *l, unsigned n, uint64_t until, struct ku_stats *st,
                   void (*tamper)(int from, uint8_t *d, size_t len))
{
    uint8_t buf[LINK_DGRAM];
    uint64_t next_send = l->now;
    for (int step = 0; step < 400000; step++) {
        bool moved = false;
        for (int s = 0; s < 2; s++) {
            size_t m;
            while ((m = dtls_poll_transmit(l->ep[s], buf, sizeof(buf), l->now)) > 0) {
                if (tamper)
                    tamper(s, buf, m);
                link_send(l, s, buf, m);
                moved = true;
            }
        }
        if (l->now >= next_send && (st->sent[0] < n || st->sent[1] < n)) {
            for (int s = 0; s < 2; s++) {
                if (st->sent[s] >= n)
                    continue;
                uint8_t msg[8];
                wire_put32(msg, st->sent[s]);
                wire_put32(msg + 4, (uint32_t)s);
                int r = dtls_record_seal(&l->rec[s], DTLS_CT_APPLICATION_DATA, msg, 8, buf, sizeof(buf));
                cr_assert_gt(r, 0, "seal %d", r);
                unsigned dropped = l->dropped;
                link_send(l, s, buf, (size_t)r);
                st->lost[s] += l->dropped - dropped;
                st->sent[s]++;
            }
            next_send = l->now + 2000000;
            moved = true;
        }
        int best = -1;
        for (int i = 0; i < l->qn; i++)
            if (l->q[i].at <= l->now && (best < 0 || l->q[i].at < l->q[best].at))
                best = i;
        if (best >= 0) {
            struct link_dgram g = l->q[best];
            memmove(&l->q[best], &l->q[best + 1], sizeof(l->q[0]) * (size_t)(l->qn - best - 1));
            l->qn--;
            ku_deliver(l, g.to, g.d, g.len, st);
            continue;
        }
        if (moved)
            continue;
        uint64_t next = UINT64_MAX;
        if (st->sent[0] < n || st->sent[1] < n)
            next = next_send;
        for (int i = 0; i < l->qn; i++)
            next = l->q[i].at < next ? l->q[i].at : next;
        for (int s = 0; s < 2; s++) {
            uint64_t t = dtls_next_timeout(l->ep[s]);
            next = t < next ? t : next;
        }
        if (next == UINT64_MAX || next > until)
            return;
        if (next > l->now)
            l->now = next;
        for (int s = 0; s < 2; s++)
            dtls_handle_timeout(l->ep[s], l->now);
    }
    cr_assert_fail("no end in sight");
}

static void ku_setup(struct link *l, uint64_t after, uint8_t suites)
{
    struct dtls_config c = cfg(0, DTLS_OFFER_V13), s = cfg(1, DTLS_OFFER_V13);
    c.key_update_after = s.key_update_after = after;
    if (suites)
        c.suites = s.suites = suites;
    handshake(l, &c, &s);
    assert_up(l);
    cr_assert_eq(dtls_write_epoch(l->ep[0]), 3);
    cr_assert_eq(dtls_read_epoch(l->ep[1]), 3);
}

/* Both directions: the epochs agree, every update was acknowledged and
 * taken once, every record that was not lost opened exactly once. */
static void ku_check(struct link *l, const struct ku_stats *st, unsigned min_updates)
{
    for (int s = 0; s < 2; s++) {
        const struct dtls_counters *a = dtls_counters(l->ep[s]), *b = dtls_counters(l->ep[1 - s]);
        cr_assert_geq(a->key_updates_out, min_updates, "side %d updated %u times", s, a->key_updates_out);
        cr_assert_eq(a->key_updates_out, b->key_updates_in, "side %d: %u out, %u taken", s, a->key_updates_out,
                     b->key_updates_in);
        cr_assert_eq(dtls_write_epoch(l->ep[s]), 3 + a->key_updates_out);
        cr_assert_eq(dtls_read_epoch(l->ep[1 - s]), dtls_write_epoch(l->ep[s]));
        cr_assert_eq(st->opened[1 - s], st->sent[s] - st->lost[s], "to side %d: %u sent, %u lost, %u opened",
                     1 - s, st->sent[s], st->lost[s], st->opened[1 - s]);
        cr_assert_eq(st->refused[1 - s], 0, "to side %d: %u refused", 1 - s, st->refused[1 - s]);
        cr_assert_eq(dtls_record_counters(&l->rec[s])->bad_auth, 0);
    }
}

Test(dtls13, key_updates_both_ways_at_a_low_record_limit_in_every_suite)
{
    static const uint8_t suites[] = {DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM, DTLS_OFFER_CHACHA20};
    for (size_t i = 0; i < 3; i++) {
        struct link l;
        static struct ku_stats st;
        memset(&st, 0, sizeof(st));
        ku_setup(&l, 100, suites[i]);
        l.delay_ns = 10000000;
        ku_run(&l, 1000, l.now + 600 * SEC, &st, NULL);
        ku_check(&l, &st, 5);
        cr_assert_eq(st.lost[0] + st.lost[1], 0);
        link_done(&l);
    }
}

Test(dtls13, key_updates_under_loss_duplication_and_reordering)
{
    unsigned late = 0, retx = 0, sent = 0, lost = 0, opened = 0, replays = 0, updates = 0;
    for (unsigned seed = 1; seed <= 12; seed++) {
        struct link l;
        static struct ku_stats st;
        memset(&st, 0, sizeof(st));
        ku_setup(&l, 100, 0);
        l.rng = seed * 104729;
        l.delay_ns = 10000000;
        l.loss_pct = 10;
        l.dup_pct = 10;
        l.reorder_pct = 15;
        unsigned dup0 = l.duplicated;
        ku_run(&l, 2000, l.now + 900 * SEC, &st, NULL);
        /* the rest of any update without loss, then the books */
        l.loss_pct = l.dup_pct = l.reorder_pct = 0;
        ku_run(&l, 2000, l.now + 900 * SEC, &st, NULL);
        ku_check(&l, &st, 2);
        cr_assert_leq(st.replays[0] + st.replays[1], l.duplicated - dup0);
        late += st.late[0] + st.late[1];
        sent += st.sent[0] + st.sent[1];
        lost += st.lost[0] + st.lost[1];
        opened += st.opened[0] + st.opened[1];
        replays += st.replays[0] + st.replays[1];
        updates += dtls_counters(l.ep[0])->key_updates_out + dtls_counters(l.ep[1])->key_updates_out;
        retx += dtls_counters(l.ep[0])->retransmit_timeouts + dtls_counters(l.ep[1])->retransmit_timeouts;
        link_done(&l);
    }
    fprintf(stderr, "key updates under impairment, 12 seeds: %u records sent, %u lost, %u opened (%u late, with the "
                    "previous epoch's keys), %u replays refused; %u KeyUpdates acknowledged, %u retransmission timeouts\n",
            sent, lost, opened, late, replays, updates, retx);
    cr_assert_gt(late, 0, "some records came after the receiver's update and opened with the old keys");
    cr_assert_gt(retx, 0, "some KeyUpdate was sent again");
}

Test(dtls13, update_requested_is_answered_and_a_second_update_waits)
{
    struct link l;
    static struct ku_stats st;
    memset(&st, 0, sizeof(st));
    ku_setup(&l, UINT64_MAX, 0);
    cr_assert_eq(dtls_key_update(l.ep[0], true, l.now), 0);
    cr_assert_eq(dtls_key_update(l.ep[0], false, l.now), -EBUSY);
    ku_run(&l, 10, l.now + 60 * SEC, &st, NULL);
    cr_assert_eq(dtls_counters(l.ep[0])->key_updates_out, 1);
    cr_assert_eq(dtls_counters(l.ep[1])->key_updates_out, 1, "the peer answered the request");
    cr_assert_eq(dtls_write_epoch(l.ep[0]), 4);
    cr_assert_eq(dtls_write_epoch(l.ep[1]), 4);
    ku_check(&l, &st, 1);
    /* without the request only ours moves */
    cr_assert_eq(dtls_key_update(l.ep[1], false, l.now), 0);
    ku_run(&l, 20, l.now + 60 * SEC, &st, NULL);
    cr_assert_eq(dtls_write_epoch(l.ep[1]), 5);
    cr_assert_eq(dtls_write_epoch(l.ep[0]), 4);
    ku_check(&l, &st, 1);
    /* 1.2 has none */
    link_done(&l);
}

static int tampered;
static void tamper_key_update(int from, uint8_t *d, size_t len)
{
    /* side 0's first protected datagram after dtls_key_update: its KeyUpdate */
    if (from == 0 && tampered == 0 && (d[0] & 0xe0) == 0x20 && len > 10) {
        d[len - 3] ^= 0x40; /* in the tag */
        tampered = 1;
    }
}

Test(dtls13, a_tampered_key_update_is_refused_and_the_retransmission_taken)
{
    struct link l;
    static struct ku_stats st;
    memset(&st, 0, sizeof(st));
    ku_setup(&l, UINT64_MAX, 0);
    tampered = 0;
    cr_assert_eq(dtls_key_update(l.ep[0], false, l.now), 0);
    ku_run(&l, 0, l.now + 100000000, &st, tamper_key_update); /* 100 ms: before the retransmission */
    cr_assert_eq(tampered, 1);
    cr_assert_eq(dtls_record_counters(&l.rec[1])->bad_auth, 1, "the tampered record does not open");
    cr_assert_eq(dtls_read_epoch(l.ep[1]), 3);
    cr_assert_eq(dtls_counters(l.ep[1])->key_updates_in, 0);
    ku_run(&l, 0, l.now + 60 * SEC, &st, NULL);
    cr_assert_eq(dtls_read_epoch(l.ep[1]), 4);
    cr_assert_eq(dtls_write_epoch(l.ep[0]), 4);
    cr_assert_geq(dtls_counters(l.ep[0])->retransmit_timeouts, 1);
    link_done(&l);
}

Test(dtls13, a_record_of_the_previous_epoch_opens_late_once)
{
    struct link l;
    static struct ku_stats st;
    memset(&st, 0, sizeof(st));
    ku_setup(&l, UINT64_MAX, 0);
    uint8_t held[64], msg[8] = {0, 0, 0, 7, 0, 0, 0, 0};
    int hn = dtls_record_seal(&l.rec[0], DTLS_CT_APPLICATION_DATA, msg, 8, held, sizeof(held));
    cr_assert_gt(hn, 0);
    cr_assert_eq(dtls_key_update(l.ep[0], false, l.now), 0);
    ku_run(&l, 0, l.now + 60 * SEC, &st, NULL);
    cr_assert_eq(dtls_write_epoch(l.ep[0]), 4);
    cr_assert_eq(dtls_read_epoch(l.ep[1]), 4);
    ku_deliver(&l, 1, held, (size_t)hn, &st);
    cr_assert_eq(st.opened[1], 1);
    cr_assert_eq(st.late[1], 1);
    ku_deliver(&l, 1, held, (size_t)hn, &st);
    cr_assert_eq(st.opened[1], 1);
    cr_assert_eq(st.replays[1], 1, "a copy of it is a replay");
    /* two epochs behind: no keys for it any more */
    cr_assert_eq(dtls_key_update(l.ep[0], false, l.now), 0);
    ku_run(&l, 0, l.now + 60 * SEC, &st, NULL);
    cr_assert_eq(dtls_read_epoch(l.ep[1]), 5);
    ku_deliver(&l, 1, held, (size_t)hn, &st);
    cr_assert_eq(st.opened[1], 1);
    cr_assert_eq(st.refused[1], 1);
    link_done(&l);
}

Test(dtls13, key_updates_with_one_key_area_shared_by_both_ends)
{
    /* as the two ends of a mesh connection in one process: the reader
     * moves its read epoch on, the writer replaces the slot once ACKed */
    struct link l;
    static struct ku_stats st;
    memset(&st, 0, sizeof(st));
    struct dtls_config c = cfg(0, DTLS_OFFER_V13), s = cfg(1, DTLS_OFFER_V13);
    c.key_update_after = s.key_update_after = 100;
    link_setup_keys(&l, &c, &s, true);
    link_run(&l, 120 * SEC);
    assert_up(&l);
    l.delay_ns = 10000000;
    l.reorder_pct = 15;
    ku_run(&l, 1000, l.now + 600 * SEC, &st, NULL);
    l.reorder_pct = 0;
    ku_run(&l, 1000, l.now + 600 * SEC, &st, NULL);
    ku_check(&l, &st, 5);
    cr_assert_gt(st.late[0] + st.late[1], 0);
    link_done(&l);
}

/* A post-handshake handshake record sealed by side 0's record layer, one
 * message: type, message_seq, fragment offset and length, body. */
static int ku_forge(struct link *l, uint8_t type, uint16_t mseq, uint32_t mlen, uint32_t foff, const uint8_t *body,
                    uint32_t flen, uint8_t *out, size_t cap)
{
    uint8_t m[64];
    m[0] = type;
    wire_put24(m + 1, mlen);
    wire_put16(m + 4, mseq);
    wire_put24(m + 6, foff);
    wire_put24(m + 9, flen);
    memcpy(m + 12, body, flen);
    return dtls_record_seal(&l->rec[0], DTLS_CT_HANDSHAKE, m, 12 + flen, out, cap);
}

Test(dtls13, malformed_key_updates_are_dropped_unacknowledged)
{
    struct link l;
    static struct ku_stats st;
    memset(&st, 0, sizeof(st));
    ku_setup(&l, UINT64_MAX, 0);
    uint16_t next = ((struct dtls_endpoint *)l.mem[0])->out_seq; /* the message_seq side 1 expects */
    static const uint8_t two = 2, zero[2] = {0, 0};
    struct {
        uint8_t type;
        uint16_t mseq;
        uint32_t mlen, foff, flen;
        const uint8_t *body;
    } bad[] = {
        {24, next, 1, 0, 1, &two},      /* request_update 2 (RFC 8446 §4.6.3: 0 or 1) */
        {24, next, 2, 0, 2, zero},      /* two bytes long */
        {24, next, 1, 0, 0, zero},      /* a fragment, nothing of it */
        {24, next + 1, 1, 0, 1, zero},  /* a message_seq ahead: one is missing */
        {0x63, next, 1, 0, 1, zero},    /* no handshake type we take after the handshake */
    };
    uint32_t dropped0 = dtls_counters(l.ep[1])->records_dropped;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t rec[128];
        int n = ku_forge(&l, bad[i].type, bad[i].mseq, bad[i].mlen, bad[i].foff, bad[i].body, bad[i].flen, rec,
                         sizeof(rec));
        cr_assert_gt(n, 0);
        ku_deliver(&l, 1, rec, (size_t)n, &st);
        cr_assert_eq(dtls_read_epoch(l.ep[1]), 3, "case %zu moved the read epoch", i);
        cr_assert_eq(dtls_next_timeout(l.ep[1]), UINT64_MAX, "case %zu: nothing to send (no ACK)", i);
    }
    cr_assert_eq(dtls_counters(l.ep[1])->records_dropped - dropped0, sizeof(bad) / sizeof(bad[0]));
    cr_assert_eq(dtls_counters(l.ep[1])->key_updates_in, 0);
    /* the real one after them takes the message_seq they did not use */
    cr_assert_eq(dtls_key_update(l.ep[0], false, l.now), 0);
    ku_run(&l, 0, l.now + 60 * SEC, &st, NULL);
    cr_assert_eq(dtls_read_epoch(l.ep[1]), 4);
    cr_assert_eq(dtls_write_epoch(l.ep[0]), 4);
    link_done(&l);
}
