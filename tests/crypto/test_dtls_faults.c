/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS handshake engine when something is wrong: a certificate that
 * is not the one the SDP fingerprint names (both ways), a tampered
 * Finished (both ways) and one in the clear, a CertificateVerify or
 * ServerKeyExchange signed over the wrong data or with the wrong key,
 * nothing in common (suites, groups, the certificate's curve), a protocol
 * version or an extension we do not speak, truncated and oversized
 * handshake messages, a flight that never comes, a peer's alert in the
 * middle, and datagrams that are not the handshake's at all.
 * Each must end in the right enum dtls_failure on the right side with the
 * right alert on the wire, the other side failing by that alert or by its
 * own timer, never a crash.
 *
 * Both sides are our endpoints, each behind a filter plugged into the
 * in-memory link (dtls_link.h) as its `struct link_peer`: the filter sees
 * every datagram a side sends or receives and may change or drop it, and
 * may reach into the endpoint (dtls_internal.h) before it writes a
 * datagram, so a message can be spoiled before it is sealed. Messages no
 * endpoint of ours would write are built by hand here and handed to a
 * fresh endpoint directly; each such case has a control beside it (the
 * same message made right is taken) so the failure is the fault's.
 */
#include <errno.h>

#include "dtls_internal.h"
#include "dtls_record_internal.h"
#include "dtls_link.h"

#define SEC 1000000000ull

static struct dtls_cert oc; /* a third certificate: neither side's */

static void init_crypto(void)
{
    link_init_crypto();
    if (oc.der_len == 0)
        cr_assert_eq(dtls_cert_generate(&oc, &link_cp), 0);
}

/* ---- one of our endpoints behind a filter ---------------------------- */

struct side;
/* A datagram the side sends, in a LINK_DGRAM buffer: edit it in place
 * (*len may change) or return false to drop it. */
typedef bool (*side_filter)(struct side *s, uint8_t *d, size_t *len);

struct side {
    struct link_peer peer;
    _Alignas(64) uint8_t mem[4096];
    struct dtls_endpoint *e;
    side_filter out;
    void (*before_tx)(struct side *s); /* before each datagram is written */
    unsigned n_out, dropped_out;
    int stage; /* for the filters' own use */
};

static void side_input(void *self, const uint8_t *d, size_t len, uint64_t now)
{
    struct side *s = self;
    dtls_handle_input(s->e, d, len, now);
}

static size_t side_transmit(void *self, uint8_t *buf, size_t cap, uint64_t now)
{
    struct side *s = self;
    for (;;) {
        if (s->before_tx)
            s->before_tx(s);
        size_t n = dtls_poll_transmit(s->e, buf, cap, now);
        if (n == 0)
            return 0;
        cr_assert_leq(n, s->e->mtu, "a datagram over the MTU");
        s->n_out++;
        if (!s->out || s->out(s, buf, &n))
            return n;
        s->dropped_out++;
    }
}

static uint64_t side_next_timeout(void *self)
{
    return dtls_next_timeout(((struct side *)self)->e);
}

static void side_timeout(void *self, uint64_t now)
{
    dtls_handle_timeout(((struct side *)self)->e, now);
}

static int side_state(void *self)
{
    const struct side *s = self;
    return dtls_connected(s->e) ? 1 : dtls_failed(s->e) ? -1 : 0;
}

/* What each side put on the wire, read by the link's tap. */
struct wire {
    unsigned dgrams[2];
    unsigned plain_alerts[2], sealed_alerts[2];
    int plain_alert[2][2]; /* level, description of the last epoch-0 alert */
    uint64_t last_at[2];   /* virtual time of the last datagram */
};

struct net {
    struct link l;
    struct side s[2]; /* 0 client, 1 server */
    struct wire w;
};

static void wire_tap(void *arg, int from, const uint8_t *d, size_t len)
{
    struct net *n = arg;
    struct wire *w = &n->w;
    w->dgrams[from]++;
    w->last_at[from] = n->l.now;
    for (size_t off = 0; off + DTLS_RECORD_HEADER <= len;) {
        size_t rl = DTLS_RECORD_HEADER + wire_get16(d + off + 11);
        cr_assert_leq(rl, len - off, "side %d wrote a record past its datagram", from);
        if (d[off] == DTLS_CT_ALERT) {
            if (wire_get16(d + off + 3) == 0) {
                cr_assert_eq(rl, DTLS_RECORD_HEADER + 2);
                w->plain_alerts[from]++;
                w->plain_alert[from][0] = d[off + 13];
                w->plain_alert[from][1] = d[off + 14];
            } else {
                w->sealed_alerts[from]++;
            }
        }
        off += rl;
    }
}

/* Sets both sides up from their configurations (rec filled in here). */
static void net_setup(struct net *n, const struct dtls_config *client,
                      const struct dtls_config *server)
{
    init_crypto();
    link_setup(&n->l, NULL, NULL);
    memset(n->s, 0, sizeof(n->s));
    memset(&n->w, 0, sizeof(n->w));
    const struct dtls_config *cfg[2] = {client, server};
    for (int i = 0; i < 2; i++) {
        struct side *s = &n->s[i];
        struct dtls_config c = *cfg[i];
        c.rec = &n->l.rec[i];
        s->e = (struct dtls_endpoint *)s->mem;
        cr_assert_eq(dtls_init(s->e, &c, 0), 0);
        s->peer = (struct link_peer){
            s, side_input, side_transmit, side_next_timeout, side_timeout, side_state};
        n->l.peer[i] = &s->peer;
    }
    n->l.tap = wire_tap;
    n->l.tap_arg = n;
}

static void net_default(struct net *n)
{
    struct link tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    net_setup(n, &c, &s);
}

static void net_run(struct net *n)
{
    link_run(&n->l, 120 * SEC);
}

static void net_done(struct net *n)
{
    for (int i = 0; i < 2; i++) {
        dtls_free(n->s[i].e);
        dtls_record_free(&n->l.rec[i]);
    }
}

static const char *side_name(int i)
{
    return i ? "server" : "client";
}

/* Side i's events were exactly one `want` and nothing else. */
static void assert_one_event(struct net *n, int i, enum dtls_event_type want)
{
    struct dtls_ev ev;
    cr_assert_eq(dtls_poll_event(n->s[i].e, &ev), want, "%s: event %d, wanted %d", side_name(i), ev.type, want);
    cr_assert_eq(ev.failure, want == DTLS_EV_FAILED ? dtls_failure(n->s[i].e) : DTLS_FAIL_NONE,
                 "%s: the event's failure", side_name(i));
    cr_assert_eq(dtls_poll_event(n->s[i].e, &ev), DTLS_EV_NONE, "%s: a second event", side_name(i));
}

/* Side i failed with f and the alert `alert` (sent or received; -1 none),
 * told so once by its events, and has nothing more to do. */
static void assert_ended(struct net *n, int i, enum dtls_failure f, int alert)
{
    const struct dtls_endpoint *e = n->s[i].e;
    cr_assert(dtls_failed(e) && !dtls_connected(e), "%s did not fail", side_name(i));
    cr_assert_eq(dtls_failure(e), f, "%s failed with %s, wanted %s", side_name(i),
                 dtls_failure_name(dtls_failure(e)), dtls_failure_name(f));
    cr_assert_eq(dtls_failure_alert(e), alert, "%s: alert %d, wanted %d", side_name(i),
                 dtls_failure_alert(e), alert);
    cr_assert_eq(dtls_next_timeout(e), UINT64_MAX, "%s still has a deadline after failing",
                 side_name(i));
    assert_one_event(n, i, DTLS_EV_FAILED);
}

/* What side i put on the wire: one fatal alert `alert` (epoch 0 unless
 * `sealed`), or none when alert < 0. */
static void assert_wire_alert(struct net *n, int i, int alert, bool sealed)
{
    if (alert < 0) {
        cr_assert_eq(n->w.plain_alerts[i] + n->w.sealed_alerts[i], 0, "%s sent an alert",
                     side_name(i));
        cr_assert_eq(dtls_counters(n->s[i].e)->alerts_out, 0);
        return;
    }
    cr_assert_eq(dtls_counters(n->s[i].e)->alerts_out, 1);
    if (sealed) {
        cr_assert_eq(n->w.sealed_alerts[i], 1, "%s: one sealed alert on the wire", side_name(i));
        cr_assert_eq(n->w.plain_alerts[i], 0);
        return;
    }
    cr_assert_eq(n->w.plain_alerts[i], 1, "%s: one alert in the clear on the wire", side_name(i));
    cr_assert_eq(n->w.sealed_alerts[i], 0);
    cr_assert_eq(n->w.plain_alert[i][0], DTLS_ALERT_FATAL);
    cr_assert_eq(n->w.plain_alert[i][1], alert, "%s: alert %d on the wire, wanted %d", side_name(i),
                 n->w.plain_alert[i][1], alert);
}

/* Side i failed with f and sent `alert` (none when -1). */
static void assert_failed_with(struct net *n, int i, enum dtls_failure f, int alert, bool sealed)
{
    assert_ended(n, i, f, alert);
    assert_wire_alert(n, i, alert, sealed);
}

/* Side i failed by its peer's fatal alert `desc` and answered nothing. */
static void assert_failed_by_alert(struct net *n, int i, int desc)
{
    assert_ended(n, i, DTLS_FAIL_PEER_ALERT, desc);
    assert_wire_alert(n, i, -1, false);
}

/* i failed with f and sent `alert` in the clear; the peer failed by it. */
static void assert_fault(struct net *n, int i, enum dtls_failure f, int alert)
{
    assert_failed_with(n, i, f, alert, false);
    assert_failed_by_alert(n, 1 - i, alert);
}

/* ---- records and handshake messages by hand -------------------------- */

static size_t put_record(uint8_t *o, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                         const uint8_t *body, size_t len)
{
    o[0] = type;
    wire_put16(o + 1, version);
    wire_put16(o + 3, epoch);
    for (int i = 0; i < 6; i++)
        o[5 + i] = (uint8_t)(seq >> (40 - 8 * i));
    wire_put16(o + 11, (uint16_t)len);
    memmove(o + DTLS_RECORD_HEADER, body, len);
    return DTLS_RECORD_HEADER + len;
}

/* A handshake fragment: the 12-byte header and flen bytes. */
static size_t put_fragment(uint8_t *o, uint8_t type, uint32_t msg_len, uint16_t msg_seq,
                           uint32_t off, const uint8_t *frag, size_t flen)
{
    o[0] = type;
    wire_put24(o + 1, msg_len);
    wire_put16(o + 4, msg_seq);
    wire_put24(o + 6, off);
    wire_put24(o + 9, (uint32_t)flen);
    memmove(o + HS_HEADER, frag, flen);
    return HS_HEADER + flen;
}

/* A whole handshake message in one epoch-0 DTLS 1.2 record. */
static size_t put_message(uint8_t *o, uint8_t type, uint16_t msg_seq, const uint8_t *body,
                          size_t len)
{
    uint8_t hs[HS_HEADER + MSG_MAX];
    size_t hl = put_fragment(hs, type, (uint32_t)len, msg_seq, 0, body, len);
    return put_record(o, DTLS_CT_HANDSHAKE, DTLS_V12, 0, 7, hs, hl);
}

static size_t put_alert(uint8_t *o, uint8_t level, uint8_t desc, uint64_t seq)
{
    const uint8_t a[2] = {level, desc};
    return put_record(o, DTLS_CT_ALERT, DTLS_V12, 0, seq, a, 2);
}

/* A ServerHello body: version, a random, no session id, suite, null
 * compression, and the extensions block when ext_len > 0. */
static size_t server_hello(uint8_t *b, uint16_t version, uint16_t suite, const uint8_t *ext,
                           size_t ext_len)
{
    uint8_t *p = b;
    wire_put16(p, version);
    memset(p + 2, 0x5a, 32);
    p += 34;
    *p++ = 0;
    wire_put16(p, suite);
    p += 2;
    *p++ = 0;
    if (ext_len) {
        wire_put16(p, (uint16_t)ext_len);
        memcpy(p + 2, ext, ext_len);
        p += 2 + ext_len;
    }
    return (size_t)(p - b);
}

/* extended_master_secret and renegotiation_info, as our server echoes them */
static const uint8_t ems_ri[] = {0x00, 0x17, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00};

/* Everything side i has to send now, dropped (it went nowhere). */
static unsigned flush(struct net *n, int i)
{
    uint8_t buf[LINK_DGRAM];
    unsigned k = 0;
    while (dtls_poll_transmit(n->s[i].e, buf, sizeof(buf), n->l.now) > 0)
        k++;
    return k;
}

/* The next datagram side i sends, into buf (its length, 0 when none). */
static size_t take_dgram(struct net *n, int i, uint8_t *buf)
{
    size_t len = dtls_poll_transmit(n->s[i].e, buf, LINK_DGRAM, n->l.now);
    if (len)
        wire_tap(n, i, buf, len);
    return len;
}

/* ---- certificates ---------------------------------------------------- */

Test(dtls_faults, server_certificate_not_the_fingerprint_the_client_holds, .timeout = 60)
{
    struct net n;
    struct link tmp;
    init_crypto();
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    s.cert = &oc; /* the client still expects sc's fingerprint */
    net_setup(&n, &c, &s);
    net_run(&n);
    assert_fault(&n, 0, DTLS_FAIL_FINGERPRINT, DTLS_ALERT_BAD_CERTIFICATE);
    cr_assert_eq(n.s[0].e->state, ST_FAILED);
    cr_assert_eq(n.l.now, 0, "the alert ends it at once, no timer");
    net_done(&n);
}

Test(dtls_faults, client_certificate_not_the_fingerprint_the_server_holds, .timeout = 60)
{
    struct net n;
    struct link tmp;
    init_crypto();
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    c.cert = &oc; /* the server still expects cc's fingerprint */
    net_setup(&n, &c, &s);
    net_run(&n);
    /* the client has its keys by then but no epoch 1 from the server yet:
     * the server's alert is in the clear, and the client takes it */
    assert_fault(&n, 1, DTLS_FAIL_FINGERPRINT, DTLS_ALERT_BAD_CERTIFICATE);
    cr_assert_eq(n.l.now, 0);
    net_done(&n);
}

/* ---- Finished -------------------------------------------------------- */

static void spoil_finished_once(struct side *s)
{
    /* flight 5 is in place once the client waits for the server's
     * Finished; flight 6 once the server is connected. Each datagram is
     * written from e->finished: flip a bit of it before the first one. */
    bool ready = s->e->is_server ? dtls_connected(s->e) : s->e->state == ST_CLIENT_FINISHED;
    if (ready && s->stage == 0) {
        s->e->finished[3] ^= 0x10;
        s->stage = 1;
    }
}

Test(dtls_faults, client_finished_tampered_before_sealing, .timeout = 60)
{
    struct net n;
    net_default(&n);
    n.s[0].before_tx = spoil_finished_once;
    net_run(&n);
    cr_assert_eq(n.s[0].stage, 1, "the Finished was spoiled");
    /* the server has not sent change_cipher_spec: its alert is in the clear */
    assert_fault(&n, 1, DTLS_FAIL_BAD_FINISHED, DTLS_ALERT_DECRYPT_ERROR);
    net_done(&n);
}

Test(dtls_faults, server_finished_tampered_before_sealing, .timeout = 60)
{
    struct net n;
    net_default(&n);
    n.s[1].before_tx = spoil_finished_once;
    net_run(&n);
    cr_assert_eq(n.s[1].stage, 1);
    /* the client has sent change_cipher_spec: its alert is sealed */
    assert_failed_with(&n, 0, DTLS_FAIL_BAD_FINISHED, DTLS_ALERT_DECRYPT_ERROR, true);
    /* the server finished when it sent its Finished (RFC 5246 §7.4.9): the
     * handshake is over for it, and the client's fatal alert closes the
     * connection's record layer */
    cr_assert(dtls_connected(n.s[1].e));
    assert_one_event(&n, 1, DTLS_EV_CONNECTED);
    cr_assert(dtls_crec(&n.l.rec[1])->failed, "the server's record layer took the client's fatal alert");
    cr_assert_eq(dtls_crec(&n.l.rec[1])->last_alert_desc, DTLS_ALERT_DECRYPT_ERROR);
    uint8_t msg[4] = {1, 2, 3, 4}, rec[64];
    cr_assert_eq(dtls_record_seal(&n.l.rec[1], DTLS_CT_APPLICATION_DATA, msg, 4, rec, sizeof(rec)),
                 -EPIPE);
    net_done(&n);
}

/* Everything the server sends once connected (flight 6): lost. */
static bool drop_flight_6(struct side *s, uint8_t *d, size_t *len)
{
    return !dtls_connected(s->e);
}

Test(dtls_faults, server_finished_in_the_clear_is_refused, .timeout = 60)
{
    /* the server's real verify_data, as the next message the client waits
     * for, but at epoch 0: a Finished must come under the new keys */
    struct net n;
    net_default(&n);
    n.s[1].out = drop_flight_6;
    link_run(&n.l, 0);
    cr_assert(dtls_connected(n.s[1].e));
    cr_assert_eq(n.s[0].e->state, ST_CLIENT_FINISHED);
    uint8_t d[LINK_DGRAM];
    size_t len = put_message(d, HS_FINISHED, n.s[0].e->in_seq, n.s[1].e->finished, VERIFY_DATA);
    cr_assert_eq(dtls_handle_input(n.s[0].e, d, len, 0), ENGINE_IN_FATAL);
    net_run(&n);
    assert_failed_with(&n, 0, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE, true);
    cr_assert(dtls_crec(&n.l.rec[1])->failed, "the server's record layer took the client's fatal alert");
    net_done(&n);
}

/* ---- signatures ------------------------------------------------------ */

/* The client's CertificateVerify signed (by the right key) over other
 * bytes than the transcript: a good signature of the wrong data. */
static void sign_other_data_once(struct side *s)
{
    if (s->e->state != ST_CLIENT_FINISHED || s->stage)
        return;
    uint8_t digest[CP_SHA256_LEN], sig[CP_ECDSA_SIG_MAX];
    size_t sl = 0;
    cp_hash_once(&link_cp, CP_SHA256, "not the transcript", 18, digest);
    cr_assert_eq(link_cp.ops->ecdsa_p256_sign(link_cp.self, cc.priv, digest, sig, &sl), 0);
    memcpy(s->e->sig, sig, sl);
    s->e->sig_len = (uint8_t)sl;
    s->stage = 1;
}

Test(dtls_faults, certificate_verify_over_the_wrong_data, .timeout = 60)
{
    struct net n;
    net_default(&n);
    n.s[0].before_tx = sign_other_data_once;
    net_run(&n);
    cr_assert_eq(n.s[0].stage, 1);
    assert_fault(&n, 1, DTLS_FAIL_BAD_SIGNATURE, DTLS_ALERT_DECRYPT_ERROR);
    net_done(&n);
}

Test(dtls_faults, server_key_exchange_signed_by_another_key, .timeout = 60)
{
    struct net n;
    struct link tmp;
    init_crypto();
    /* sc's certificate (the fingerprint the client holds) with oc's key */
    static struct dtls_cert mixed;
    mixed = sc;
    memcpy(mixed.priv, oc.priv, sizeof(mixed.priv));
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    s.cert = &mixed;
    net_setup(&n, &c, &s);
    net_run(&n);
    assert_fault(&n, 0, DTLS_FAIL_BAD_SIGNATURE, DTLS_ALERT_DECRYPT_ERROR);
    cr_assert_eq(n.s[1].e->state, ST_FAILED);
    net_done(&n);
}

/* ---- nothing in common ----------------------------------------------- */

static void no_shared(uint8_t c_suites, uint8_t s_suites, uint8_t c_groups, uint8_t s_groups)
{
    struct net n;
    struct link tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    c.suites = c_suites, s.suites = s_suites;
    c.groups = c_groups, s.groups = s_groups;
    net_setup(&n, &c, &s);
    net_run(&n);
    /* the first ClientHello already shows it, before any cookie */
    assert_fault(&n, 1, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_HANDSHAKE_FAILURE);
    cr_assert_eq(dtls_counters(n.s[1].e)->cookies_sent, 0);
    cr_assert_eq(n.w.dgrams[0], 1, "one ClientHello");
    cr_assert_eq(n.w.dgrams[1], 1, "one alert");
    net_done(&n);
}

Test(dtls_faults, client_offers_only_a_suite_the_server_does_not_take, .timeout = 60)
{
    no_shared(DTLS_OFFER_CHACHA20, DTLS_OFFER_AES_128_GCM, 0, 0);
}

Test(dtls_faults, client_offers_only_a_group_the_server_does_not_take, .timeout = 60)
{
    /* a client always lists P-256 (its certificate's curve): the server
     * is the one that takes X25519 only */
    no_shared(0, 0, DTLS_OFFER_P256, DTLS_OFFER_X25519);
}

/* The offset of extension `type` in a ClientHello body (at its type
 * field), or 0 when it has none. */
static size_t find_extension(const uint8_t *b, size_t len, uint16_t type)
{
    size_t off = 34;                /* version, random */
    off += 1 + b[off];              /* session id */
    off += 1 + b[off];              /* cookie */
    off += 2 + wire_get16(b + off); /* suites */
    off += 1 + b[off];              /* compression */
    size_t end = off + 2 + wire_get16(b + off);
    cr_assert_eq(end, len);
    for (off += 2; off + 4 <= end; off += 4 + wire_get16(b + off + 2))
        if (wire_get16(b + off) == type)
            return off;
    return 0;
}

Test(dtls_faults, client_hello_listing_no_p256_for_the_certificate, .timeout = 60)
{
    /* RFC 8422 §4: the client's supported_groups also bind the curve of
     * the server's certificate, and ours are P-256. The engine's own
     * ClientHello with its (X25519, P-256) list turned into (X25519,
     * secp384r1): X25519 is still shared, the certificate is not */
    struct net n;
    net_default(&n);
    uint8_t d[LINK_DGRAM];
    size_t len = take_dgram(&n, 0, d);
    uint8_t *body = d + DTLS_RECORD_HEADER + HS_HEADER;
    size_t at = find_extension(body, len - DTLS_RECORD_HEADER - HS_HEADER, EXT_SUPPORTED_GROUPS);
    cr_assert_gt(at, 0);
    uint8_t *list = body + at + 4;
    cr_assert_eq(wire_get16(list), 4, "two groups");
    cr_assert_eq(wire_get16(list + 2), CP_GROUP_X25519);
    cr_assert_eq(wire_get16(list + 4), CP_GROUP_SECP256R1);
    wire_put16(list + 4, 24); /* secp384r1 */
    cr_assert_eq(dtls_handle_input(n.s[1].e, d, len, 0), ENGINE_IN_FATAL);
    net_run(&n);
    assert_fault(&n, 1, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_HANDSHAKE_FAILURE);
    net_done(&n);
}

/* ---- versions and extensions ----------------------------------------- */

Test(dtls_faults, client_hello_offering_only_dtls_1_0, .timeout = 60)
{
    struct net n;
    net_default(&n);
    /* the engine's own ClientHello with client_version 1.0 (0xfeff) */
    uint8_t d[LINK_DGRAM];
    size_t len = take_dgram(&n, 0, d);
    cr_assert_gt(len, DTLS_RECORD_HEADER + HS_HEADER + 2);
    cr_assert_eq(d[DTLS_RECORD_HEADER], HS_CLIENT_HELLO);
    uint8_t *version = d + DTLS_RECORD_HEADER + HS_HEADER;
    cr_assert_eq(wire_get16(version), DTLS_V12);
    wire_put16(version, DTLS_V10);
    cr_assert_eq(dtls_handle_input(n.s[1].e, d, len, 0), ENGINE_IN_FATAL);
    net_run(&n);
    assert_fault(&n, 1, DTLS_FAIL_VERSION, DTLS_ALERT_PROTOCOL_VERSION);
    net_done(&n);
}

/* A fresh client that has sent its ClientHello (dropped). */
static void fresh_client(struct net *n)
{
    net_default(n);
    cr_assert_eq(flush(n, 0), 1);
    cr_assert_eq(n->s[0].e->state, ST_CLIENT_HELLO);
}

/* Hands a crafted ServerHello to a fresh client: the dtls_handle_input result. */
static enum engine_input server_hello_to_client(struct net *n, uint16_t version, const uint8_t *ext,
                                  size_t ext_len)
{
    fresh_client(n);
    uint8_t body[256], d[LINK_DGRAM];
    size_t bl = server_hello(body, version, SUITE_ECDHE_ECDSA_AES_128_GCM, ext, ext_len);
    size_t len = put_message(d, HS_SERVER_HELLO, 0, body, bl);
    return dtls_handle_input(n->s[0].e, d, len, 0);
}

/* The client's answer after a crafted message: its one datagram, read
 * by the tap; nothing after it. */
static void client_answers(struct net *n)
{
    uint8_t d[LINK_DGRAM];
    cr_assert_gt(take_dgram(n, 0, d), 0, "the client sent nothing");
    cr_assert_eq(take_dgram(n, 0, d), 0, "the client sent more than its alert");
}

Test(dtls_faults, server_hello_control_is_taken, .timeout = 60)
{
    struct net n;
    cr_assert_eq(server_hello_to_client(&n, DTLS_V12, ems_ri, sizeof(ems_ri)), ENGINE_IN_ACCEPTED);
    cr_assert(!dtls_failed(n.s[0].e));
    cr_assert_eq(n.s[0].e->state, ST_CLIENT_CERT, "the crafted ServerHello is a good one");
    cr_assert(n.s[0].e->ems && n.s[0].e->ri);
    net_done(&n);
}

Test(dtls_faults, server_hello_with_an_extension_we_did_not_offer, .timeout = 60)
{
    struct net n;
    /* ems, ri, then session_ticket (35), which we never offer */
    uint8_t ext[sizeof(ems_ri) + 4];
    memcpy(ext, ems_ri, sizeof(ems_ri));
    memcpy(ext + sizeof(ems_ri), "\x00\x23\x00\x00", 4);
    cr_assert_eq(server_hello_to_client(&n, DTLS_V12, ext, sizeof(ext)), ENGINE_IN_FATAL);
    client_answers(&n);
    assert_failed_with(&n, 0, DTLS_FAIL_UNSUPPORTED_EXT, DTLS_ALERT_UNSUPPORTED_EXTENSION, false);
    net_done(&n);
}

Test(dtls_faults, server_hello_choosing_dtls_1_0, .timeout = 60)
{
    struct net n;
    cr_assert_eq(server_hello_to_client(&n, DTLS_V10, ems_ri, sizeof(ems_ri)), ENGINE_IN_FATAL);
    client_answers(&n);
    assert_failed_with(&n, 0, DTLS_FAIL_VERSION, DTLS_ALERT_PROTOCOL_VERSION, false);
    net_done(&n);
}

/* ---- truncated and oversized messages -------------------------------- */

Test(dtls_faults, server_hello_cut_short_with_consistent_lengths, .timeout = 60)
{
    struct net n;
    fresh_client(&n);
    /* version and 20 of the random's 32 bytes: message length = fragment
     * length = record body: only the body itself is short */
    uint8_t body[256], d[LINK_DGRAM];
    server_hello(body, DTLS_V12, SUITE_ECDHE_ECDSA_AES_128_GCM, ems_ri, sizeof(ems_ri));
    size_t len = put_message(d, HS_SERVER_HELLO, 0, body, 22);
    cr_assert_eq(wire_get24(d + DTLS_RECORD_HEADER + 1), 22);
    cr_assert_eq(wire_get24(d + DTLS_RECORD_HEADER + 9), 22);
    cr_assert_eq(dtls_handle_input(n.s[0].e, d, len, 0), ENGINE_IN_FATAL);
    client_answers(&n);
    assert_failed_with(&n, 0, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR, false);
    net_done(&n);
}

/* A first fragment (100 bytes) of a message declared msg_len long. */
static enum engine_input big_fragment(struct net *n, int to, uint8_t type, uint32_t msg_len)
{
    uint8_t junk[100], hs[HS_HEADER + 100], d[LINK_DGRAM];
    memset(junk, 0x33, sizeof(junk));
    size_t hl = put_fragment(hs, type, msg_len, 0, 0, junk, sizeof(junk));
    size_t len = put_record(d, DTLS_CT_HANDSHAKE, DTLS_V12, 0, 1, hs, hl);
    return dtls_handle_input(n->s[to].e, d, len, 0);
}

Test(dtls_faults, handshake_message_of_exactly_the_reassembly_room_is_held, .timeout = 60)
{
    struct net n;
    fresh_client(&n);
    cr_assert_eq(big_fragment(&n, 0, HS_SERVER_HELLO, DTLS_REASM_BYTES), ENGINE_IN_ACCEPTED);
    cr_assert(!dtls_failed(n.s[0].e), "%s", dtls_failure_name(dtls_failure(n.s[0].e)));
    cr_assert_eq(n.s[0].e->reasm_used, DTLS_REASM_BYTES, "waiting for the rest");
    net_done(&n);
}

Test(dtls_faults, oversized_server_hello_fails_the_client, .timeout = 60)
{
    struct net n;
    fresh_client(&n);
    cr_assert_eq(big_fragment(&n, 0, HS_SERVER_HELLO, DTLS_REASM_BYTES + 1), ENGINE_IN_FATAL);
    client_answers(&n);
    assert_failed_with(&n, 0, DTLS_FAIL_TOO_BIG, DTLS_ALERT_ILLEGAL_PARAMETER, false);
    net_done(&n);
}

Test(dtls_faults, oversized_certificate_fails_the_client_mid_flight, .timeout = 60)
{
    /* a real ServerHello, then the Certificate (message 1) declared
     * 64 KiB: the same failure from the middle of flight 4 */
    struct net n;
    fresh_client(&n);
    uint8_t body[256], d[LINK_DGRAM];
    size_t bl = server_hello(body, DTLS_V12, SUITE_ECDHE_ECDSA_AES_128_GCM, ems_ri, sizeof(ems_ri));
    size_t len = put_message(d, HS_SERVER_HELLO, 0, body, bl);
    uint8_t junk[64] = {0}, hs[HS_HEADER + 64];
    size_t hl = put_fragment(hs, HS_CERTIFICATE, 65536, 1, 0, junk, sizeof(junk));
    len += put_record(d + len, DTLS_CT_HANDSHAKE, DTLS_V12, 0, 8, hs, hl);
    cr_assert_eq(dtls_handle_input(n.s[0].e, d, len, 0), ENGINE_IN_FATAL);
    client_answers(&n);
    assert_failed_with(&n, 0, DTLS_FAIL_TOO_BIG, DTLS_ALERT_ILLEGAL_PARAMETER, false);
    net_done(&n);
}

Test(dtls_faults, oversized_client_hello_fails_the_server, .timeout = 60)
{
    struct net n;
    net_default(&n);
    cr_assert_eq(big_fragment(&n, 1, HS_CLIENT_HELLO, DTLS_REASM_BYTES + 1), ENGINE_IN_FATAL);
    uint8_t d[LINK_DGRAM];
    cr_assert_gt(take_dgram(&n, 1, d), 0);
    assert_failed_with(&n, 1, DTLS_FAIL_TOO_BIG, DTLS_ALERT_ILLEGAL_PARAMETER, false);
    net_done(&n);
}

/* ---- a flight that never comes --------------------------------------- */

/* The server's first datagram (the HelloVerifyRequest) goes through;
 * nothing after it does. */
static bool only_the_first(struct side *s, uint8_t *d, size_t *len)
{
    return s->n_out == 1;
}

/* The timer schedule a configuration implies: resends at times[0..n-1]
 * (ns from the flight), the failure at *fail. */
static unsigned schedule(uint32_t initial_ms, uint32_t max_ms, uint64_t *times, uint64_t *fail)
{
    uint64_t t = 0;
    uint32_t rto = initial_ms;
    unsigned n = 0;
    for (;;) {
        t += (uint64_t)rto * 1000000u;
        if (rto >= max_ms)
            break;
        times[n++] = t;
        rto = rto * 2 < max_ms ? rto * 2 : max_ms;
    }
    *fail = t;
    return n;
}

struct resend_log {
    unsigned n;
    uint64_t at[32];
};

static struct resend_log client_sends;

static void log_client(void *arg, int from, const uint8_t *d, size_t len)
{
    wire_tap(arg, from, d, len);
    struct net *n = arg;
    if (from == 0 && client_sends.n < 32)
        client_sends.at[client_sends.n++] = n->l.now;
}

static void flight_never_comes(uint32_t initial_ms, uint32_t max_ms)
{
    struct net n;
    struct link tmp;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    c.rto_initial_ms = s.rto_initial_ms = initial_ms;
    c.rto_max_ms = s.rto_max_ms = max_ms;
    net_setup(&n, &c, &s);
    n.s[1].out = only_the_first;
    n.l.tap = log_client;
    memset(&client_sends, 0, sizeof(client_sends));
    uint64_t want_at[32], fail_at;
    uint32_t init = initial_ms ? initial_ms : 500, max = max_ms ? max_ms : 8000;
    unsigned resends = schedule(init, max, want_at, &fail_at);
    link_run(&n.l, fail_at - 1);
    cr_assert(!dtls_failed(n.s[0].e) && !dtls_failed(n.s[1].e), "failed before %llu ns",
              (unsigned long long)fail_at);
    net_run(&n);
    cr_assert_eq(n.l.now, fail_at, "failed at %llu ns, wanted %llu", (unsigned long long)n.l.now,
                 (unsigned long long)fail_at);
    /* ClientHello, ClientHello with the cookie, then one resend per timer */
    cr_assert_eq(dtls_counters(n.s[0].e)->retransmit_timeouts, resends);
    cr_assert_eq(client_sends.n, 2 + resends, "%u datagrams from the client", client_sends.n);
    cr_assert_eq(client_sends.at[0], 0);
    cr_assert_eq(client_sends.at[1], 0);
    for (unsigned i = 0; i < resends; i++)
        cr_assert_eq(client_sends.at[2 + i], want_at[i], "resend %u at %llu, wanted %llu", i,
                     (unsigned long long)client_sends.at[2 + i], (unsigned long long)want_at[i]);
    assert_failed_with(&n, 0, DTLS_FAIL_TIMEOUT, -1, false);
    /* the server's flight 4 went out (and nowhere) on the same timer, and
     * again each time the repeated ClientHello came */
    assert_failed_with(&n, 1, DTLS_FAIL_TIMEOUT, -1, false);
    cr_assert_eq(dtls_counters(n.s[1].e)->retransmit_timeouts, resends);
    cr_assert_eq(dtls_counters(n.s[1].e)->retransmits_on_repeat, resends);
    cr_assert_eq(n.s[1].dropped_out, n.s[1].n_out - 1);
    net_done(&n);
}

Test(dtls_faults, flight_that_never_comes_times_out_on_the_default_timer, .timeout = 60)
{
    flight_never_comes(
        0, 0); /* 500 ms doubling to 8 s: resends at 0.5, 1.5, 3.5, 7.5 s, failure at 15.5 s */
}

Test(dtls_faults, flight_that_never_comes_times_out_on_a_given_timer, .timeout = 60)
{
    flight_never_comes(100, 3000); /* 0.1, 0.3, 0.7, 1.5, 3.1 s (capped at 3 s), failure at 6.1 s */
}

/* ---- alerts ---------------------------------------------------------- */

/* Side's later flights replaced: the first by a fatal alert (the
 * description in stage), every datagram after it dropped. */
static bool alert_instead(struct side *s, uint8_t *d, size_t *len)
{
    unsigned first = s->e->is_server ? 2 : 3; /* flight 4 / flight 5 */
    if (s->n_out < first)
        return true;
    if (s->n_out > first)
        return false;
    *len = put_alert(d, DTLS_ALERT_FATAL, (uint8_t)s->stage, 99);
    return true;
}

Test(dtls_faults, server_alert_instead_of_flight_4, .timeout = 60)
{
    struct net n;
    net_default(&n);
    n.s[1].out = alert_instead;
    n.s[1].stage = DTLS_ALERT_INTERNAL_ERROR;
    net_run(&n);
    assert_failed_by_alert(&n, 0, DTLS_ALERT_INTERNAL_ERROR);
    cr_assert_eq(n.w.last_at[0], 0, "the client went quiet at the alert");
    /* the server never hears from the client again: its own timer ends it */
    assert_ended(&n, 1, DTLS_FAIL_TIMEOUT, -1);
    cr_assert_eq(n.l.now, 15500000000ull);
    net_done(&n);
}

Test(dtls_faults, client_alert_instead_of_flight_5, .timeout = 60)
{
    struct net n;
    net_default(&n);
    n.s[0].out = alert_instead;
    n.s[0].stage = DTLS_ALERT_BAD_CERTIFICATE;
    net_run(&n);
    assert_failed_by_alert(&n, 1, DTLS_ALERT_BAD_CERTIFICATE);
    assert_ended(&n, 0, DTLS_FAIL_TIMEOUT, -1);
    cr_assert_eq(dtls_counters(n.s[0].e)->alerts_out, 0);
    net_done(&n);
}

/* A warning alert (user_canceled) ahead of the client's flight 5 in the
 * same datagram: noted, not the end. */
static bool warning_ahead(struct side *s, uint8_t *d, size_t *len)
{
    if (s->e->state != ST_CLIENT_FINISHED || s->stage)
        return true;
    s->stage = 1;
    uint8_t a[DTLS_RECORD_HEADER + 2];
    size_t al = put_alert(a, DTLS_ALERT_WARNING, 90, 77);
    memmove(d + al, d, *len);
    memcpy(d, a, al);
    *len += al;
    return true;
}

Test(dtls_faults, warning_alert_mid_handshake_is_not_the_end, .timeout = 60)
{
    struct net n;
    net_default(&n);
    n.s[0].out = warning_ahead;
    net_run(&n);
    cr_assert_eq(n.s[0].stage, 1);
    cr_assert(dtls_connected(n.s[0].e) && dtls_connected(n.s[1].e));
    cr_assert_eq(dtls_counters(n.s[1].e)->alerts_in, 1);
    net_done(&n);
}

/* ---- what is not the handshake's ------------------------------------- */

/* Hands d to the waiting server: the result, and records_dropped must
 * have moved by `dropped`. */
static void foreign(struct net *n, const uint8_t *d, size_t len, enum engine_input want,
                    unsigned dropped, const char *what)
{
    const struct dtls_counters *k = dtls_counters(n->s[1].e);
    uint32_t before = k->records_dropped;
    enum engine_input rc = dtls_handle_input(n->s[1].e, d, len, 0);
    cr_assert_eq(rc, want, "%s: %s, wanted %s", what, engine_input_name(rc), engine_input_name(want));
    cr_assert_eq(k->records_dropped - before, dropped, "%s: %u records dropped, wanted %u", what,
                 k->records_dropped - before, dropped);
    cr_assert(!dtls_failed(n->s[1].e), "%s failed the server: %s", what,
              dtls_failure_name(dtls_failure(n->s[1].e)));
    cr_assert_eq(n->s[1].e->state, ST_SERVER_HELLO, "%s", what);
    cr_assert_eq(dtls_next_timeout(n->s[1].e), UINT64_MAX, "%s: the server has something to send",
                 what);
}

Test(dtls_faults, garbage_while_the_server_waits_is_ignored_and_counted, .timeout = 60)
{
    struct net n;
    net_default(&n);
    uint8_t d[LINK_DGRAM], body[64];
    memset(body, 0xa5, sizeof(body));
    size_t len;
    d[0] = DTLS_CT_HANDSHAKE;
    foreign(&n, d, 1, ENGINE_IN_IGNORED, 1, "one byte");
    static const uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
                                     3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
    foreign(&n, stun, sizeof(stun), ENGINE_IN_IGNORED, 1, "a STUN binding request");
    len = put_record(d, DTLS_CT_HANDSHAKE, 0x0303, 0, 0, body, sizeof(body));
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, "a TLS (not DTLS) record");
    len = put_record(d, DTLS_CT_HANDSHAKE, DTLS_V12, 2, 0, body, sizeof(body));
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, "an epoch-2 record");
    len = put_record(d, DTLS_CT_APPLICATION_DATA, DTLS_V12, 0, 0, body, sizeof(body));
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, "application data at epoch 0");
    len = put_record(d, DTLS_CT_HANDSHAKE, DTLS_V12, 0, 0, body, sizeof(body));
    foreign(&n, d, len - 1, ENGINE_IN_IGNORED, 1, "a record longer than its datagram");
    len = put_alert(d, DTLS_ALERT_FATAL, DTLS_ALERT_HANDSHAKE_FAILURE, 0);
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, "a fatal alert before any ClientHello");
    len = put_record(d, 99, DTLS_V12, 0, 0, body, sizeof(body));
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, "an unknown content type");
    /* two junk records in one datagram: both counted */
    len = put_record(d, DTLS_CT_APPLICATION_DATA, DTLS_V12, 0, 0, body, 10);
    len += put_record(d + len, DTLS_CT_HANDSHAKE, 0x0101, 0, 0, body, 10);
    foreign(&n, d, len, ENGINE_IN_IGNORED, 2, "two junk records");
    cr_assert_eq(dtls_counters(n.s[1].e)->alerts_out, 0);
    /* then the real client: the handshake completes as if nothing happened */
    net_run(&n);
    cr_assert(dtls_connected(n.s[0].e) && dtls_connected(n.s[1].e), "client %s, server %s",
              dtls_failure_name(dtls_failure(n.s[0].e)), dtls_failure_name(dtls_failure(n.s[1].e)));
    cr_assert_eq(n.l.now, 0);
    net_done(&n);
}

/* Well-formed records of the handshake protocol that are not a
 * ClientHello, to a server waiting for one: a whole Finished (message 0)
 * and a lone change_cipher_spec. The engine keeps waiting (its own rule:
 * "a stray message is foreign"), so the datagram is not the handshake's:
 * ENGINE_IN_IGNORED and counted as dropped, for the caller to count as
 * foreign (dtls.h). */
Test(dtls_faults, stray_finished_and_lone_ccs_while_the_server_waits_are_foreign, .timeout = 60)
{
    struct net n;
    net_default(&n);
    uint8_t d[LINK_DGRAM], fin[VERIFY_DATA] = {0}, one = 1;
    size_t len = put_message(d, HS_FINISHED, 0, fin, sizeof(fin));
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, "a Finished before any ClientHello");
    cr_assert_eq(n.s[1].e->in_seq, 0, "it takes no message_seq");
    len = put_record(d, DTLS_CT_CHANGE_CIPHER_SPEC, DTLS_V12, 0, 3, &one, 1);
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, "a change_cipher_spec before any ClientHello");
    net_run(&n);
    cr_assert(dtls_connected(n.s[0].e) && dtls_connected(n.s[1].e));
    net_done(&n);
}

/* Junk inside a well-formed DTLS 1.2 handshake record header, to a server
 * waiting for its ClientHello. Nothing of the peer's has been accepted
 * yet, so like the stray alert and the stray message above it is foreign
 * (RFC 6347 §4.1.2.7: invalid input is dropped), not the end of the
 * handshake; the real ClientHello after it must still be answered. */
static void handshake_shaped_garbage(const uint8_t *hs, size_t hl, const char *what)
{
    struct net n;
    net_default(&n);
    uint8_t d[LINK_DGRAM];
    size_t len = put_record(d, DTLS_CT_HANDSHAKE, DTLS_V12, 0, 0, hs, hl);
    foreign(&n, d, len, ENGINE_IN_IGNORED, 1, what);
    net_run(&n);
    cr_assert(dtls_connected(n.s[0].e) && dtls_connected(n.s[1].e));
    net_done(&n);
}

Test(dtls_faults, handshake_record_of_five_junk_bytes_while_the_server_waits, .timeout = 60)
{
    static const uint8_t junk[5] = {0xa5, 0xa5, 0xa5, 0xa5, 0xa5};
    handshake_shaped_garbage(junk, sizeof(junk), "a handshake record of 5 junk bytes");
}

Test(dtls_faults, fragment_longer_than_its_message_while_the_server_waits, .timeout = 60)
{
    uint8_t junk[20], hs[HS_HEADER + 20];
    memset(junk, 0xa5, sizeof(junk));
    size_t hl = put_fragment(hs, HS_CLIENT_HELLO, 10, 0, 0, junk, sizeof(junk));
    handshake_shaped_garbage(hs, hl, "a 20-byte fragment of a 10-byte message");
}

static void epoch1_before_keys(int to)
{
    struct net n;
    net_default(&n);
    uint8_t d[LINK_DGRAM], body[48];
    memset(body, 0x5c, sizeof(body));
    size_t len = put_record(d, DTLS_CT_HANDSHAKE, DTLS_V12, 1, 0, body, sizeof(body));
    len += put_record(d + len, DTLS_CT_CHANGE_CIPHER_SPEC, DTLS_V12, 1, 1, body, 1);
    struct dtls_endpoint *e = n.s[to].e;
    cr_assert_eq(dtls_handle_input(e, d, len, 0), ENGINE_IN_IGNORED);
    cr_assert_eq(dtls_counters(e)->records_dropped, 2);
    cr_assert_eq(dtls_counters(e)->records_in, 0);
    cr_assert_eq(dtls_record_counters(&n.l.rec[to])->opened + dtls_record_counters(&n.l.rec[to])->wrong_epoch + dtls_record_counters(&n.l.rec[to])->bad_auth, 0,
                 "the record layer was not asked to open it");
    cr_assert(!dtls_failed(e));
    net_run(&n);
    cr_assert(dtls_connected(n.s[0].e) && dtls_connected(n.s[1].e));
    net_done(&n);
}

Test(dtls_faults, epoch_1_record_before_keys_to_the_server, .timeout = 60)
{
    epoch1_before_keys(1);
}

Test(dtls_faults, epoch_1_record_before_keys_to_the_client, .timeout = 60)
{
    epoch1_before_keys(0);
}

/* A sealed record of the wrong key once the keys are in: dropped too. */
static bool forged_epoch1_ahead(struct side *s, uint8_t *d, size_t *len)
{
    if (!dtls_connected(s->e) || s->stage)
        return true;
    s->stage = 1;
    uint8_t f[DTLS_RECORD_HEADER + 40], body[40];
    memset(body, 0x11, sizeof(body));
    size_t fl = put_record(f, DTLS_CT_HANDSHAKE, DTLS_V12, 1, 5, body, sizeof(body));
    memmove(d + fl, d, *len);
    memcpy(d, f, fl);
    *len += fl;
    return true;
}

Test(dtls_faults, forged_epoch_1_record_after_keys_is_dropped, .timeout = 60)
{
    struct net n;
    net_default(&n);
    n.s[1].out = forged_epoch1_ahead; /* ahead of the server's flight 6 */
    net_run(&n);
    cr_assert_eq(n.s[1].stage, 1);
    cr_assert(dtls_connected(n.s[0].e) && dtls_connected(n.s[1].e));
    cr_assert_eq(dtls_record_counters(&n.l.rec[0])->bad_auth, 1, "the client's record layer refused it");
    cr_assert_eq(dtls_counters(n.s[0].e)->records_dropped, 1);
    net_done(&n);
}
