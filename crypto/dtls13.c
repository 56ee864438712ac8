/* SPDX-License-Identifier: MIT */
/* The DTLS 1.3 handshake (RFC 9147 over RFC 8446): the 1-RTT handshake
 * with an ECDHE key share (X25519 or secp256r1), a HelloRetryRequest for a
 * cookie or another group, the encrypted flight at epoch 2 with mutual
 * authentication against the SDP fingerprint, the key schedule
 * (tls13_keys.h), epoch-2 records (dtls13_seal/open), the ACK of the final
 * flight, and the application keys into the connection's record layer
 * (epoch 3). The 1.2 engine (dtls.c) hands over as soon as a hello says
 * 1.3; flights, fragments and timers are the shared ones (dtls_flight.c). */
#include <errno.h>
#include <string.h>

#include "dtls_internal.h"
#include "dtls_record_internal.h"

#define SIG_CONTEXT_PAD 64

/* One NSS key-log line (the labels of the TLS 1.3 key log) appended to the
 * caller's buffer, when there is one. */
static void keylog_line(struct dtls_endpoint *e, const char *label, const uint8_t *secret)
{
    if (!e->keylog)
        return;
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(e->keylog), ll = strlen(label);
    if (n + ll + 1 + 64 + 1 + 2u * e->t.hl + 2 > DTLS_KEYLOG_MAX)
        return;
    char *p = e->keylog + n;
    memcpy(p, label, ll);
    p += ll;
    *p++ = ' ';
    for (int i = 0; i < 32; i++)
        *p++ = hex[e->client_random[i] >> 4], *p++ = hex[e->client_random[i] & 15];
    *p++ = ' ';
    for (unsigned i = 0; i < e->t.hl; i++)
        *p++ = hex[secret[i] >> 4], *p++ = hex[secret[i] & 15];
    *p++ = '\n';
    *p = '\0';
}

static enum cp_hash_alg suite_alg(uint16_t id)
{
    return id == SUITE13_AES_256_GCM ? CP_SHA384 : CP_SHA256;
}

static enum dtls_suite suite_rec(uint16_t id, size_t *key_len)
{
    switch (id) {
    case SUITE13_AES_128_GCM: *key_len = 16; return DTLS_SUITE_AES_128_GCM;
    case SUITE13_AES_256_GCM: *key_len = 32; return DTLS_SUITE_AES_256_GCM;
    default: *key_len = 32; return DTLS_SUITE_CHACHA20_POLY1305;
    }
}

static enum cp_hash_alg alg_of(const struct dtls_endpoint *e)
{
    return suite_alg(e->suite_id);
}

static int crypto_fail(struct dtls_endpoint *e)
{
    dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
    return -EPROTO;
}

static int fail(struct dtls_endpoint *e, int f, int alert)
{
    dtls_fail(e, (enum dtls_failure)f, alert);
    return -EPROTO;
}

/* Epoch-2 keys of one direction from its handshake traffic secret. */
static int keys_of(struct dtls_endpoint *e, const uint8_t *secret, struct dtls13_keys *k)
{
    size_t kl;
    memset(k, 0, sizeof(*k));
    k->suite = (uint8_t)suite_rec(e->suite_id, &kl);
    return tls13_traffic_keys(e->cp, alg_of(e), secret, kl, k->key, k->iv, k->sn);
}

/* After the ServerHello: the handshake secret (in `master`), both
 * handshake traffic secrets and the epoch-2 keys. */
static int handshake_keys(struct dtls_endpoint *e)
{
    enum cp_hash_alg alg = alg_of(e);
    uint8_t early[TLS13_HASH_MAX], th[TLS13_HASH_MAX];
    e->t.hl = (uint8_t)cp_hash_len(alg);
    tls13_early_secret(e->cp, alg, early);
    int rc = tls13_handshake_secret(e->cp, alg, early, e->premaster, CP_ECDH_SHARED_LEN, e->master);
    dtls_wipe(e->premaster, sizeof(e->premaster));
    dtls_wipe(early, sizeof(early));
    dtls_transcript_hash(e, alg, th);
    if (rc == 0)
        rc = tls13_derive_secret(e->cp, alg, e->master, "c hs traffic", th, e->t.c_ts);
    if (rc == 0)
        rc = tls13_derive_secret(e->cp, alg, e->master, "s hs traffic", th, e->t.s_ts);
    if (rc == 0) {
        keylog_line(e, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", e->t.c_ts);
        keylog_line(e, "SERVER_HANDSHAKE_TRAFFIC_SECRET", e->t.s_ts);
        rc = keys_of(e, e->is_server ? e->t.s_ts : e->t.c_ts, &e->t.w);
    }
    if (rc == 0)
        rc = keys_of(e, e->is_server ? e->t.c_ts : e->t.s_ts, &e->t.r);
    e->t.w_seq = 0;
    e->t_in.r_top = 0;
    e->t_in.r_window = 0;
    return rc;
}

/* After the server's Finished (in the transcript): the master secret, the
 * client application secret (into `master`: the master secret is not needed
 * once both application secrets and the exporter secret are out), the
 * server's (into s_ts, its handshake secret no longer needed) and the
 * exporter's. The client's handshake secret stays in c_ts for the
 * client's Finished. */
static int application_secrets(struct dtls_endpoint *e)
{
    enum cp_hash_alg alg = alg_of(e);
    uint8_t ms[TLS13_HASH_MAX], th[TLS13_HASH_MAX];
    int rc = tls13_master_secret(e->cp, alg, e->master, ms);
    dtls_transcript_hash(e, alg, th);
    if (rc == 0)
        rc = tls13_derive_secret(e->cp, alg, ms, "c ap traffic", th, e->master);
    if (rc == 0)
        rc = tls13_derive_secret(e->cp, alg, ms, "s ap traffic", th, e->t.s_ts);
    if (rc == 0)
        rc = tls13_derive_secret(e->cp, alg, ms, "exp master", th, e->t.exporter);
    if (rc == 0) {
        keylog_line(e, "CLIENT_TRAFFIC_SECRET_0", e->master);
        keylog_line(e, "SERVER_TRAFFIC_SECRET_0", e->t.s_ts);
        keylog_line(e, "EXPORTER_SECRET", e->t.exporter);
    }
    dtls_wipe(ms, sizeof(ms));
    e->have_master = rc == 0;
    return rc;
}

/* The application keys (epoch 3) into the connection's record layer;
 * the client application secret moves to c_ts. */
static int install_application_keys(struct dtls_endpoint *e)
{
    memcpy(e->t.c_ts, e->master, sizeof(e->t.c_ts));
    dtls_wipe(e->master, sizeof(e->master));
    struct dtls13_keys c, s;
    int rc = keys_of(e, e->t.c_ts, &c);
    if (rc == 0)
        rc = keys_of(e, e->t.s_ts, &s);
    memset(&e->p, 0, sizeof(e->p)); /* the cookie's room: the hellos are over */
    e->p.w_epoch = e->p.r_epoch = 3;
    e->p.old_epoch = 2; /* `r` keeps the epoch-2 keys: a repeated final flight */
    if (e->t.ku_after == 0)
        e->t.ku_after = suite_rec(e->suite_id, &(size_t){0}) == DTLS_SUITE_CHACHA20_POLY1305 ? UINT32_MAX
                                                                                          : DTLS13_KU_AFTER_GCM;
    if (rc == 0)
        rc = e->is_server ? dtls_record_set_keys13(e->rec, (enum dtls_suite)s.suite, s.key, s.iv, s.sn, c.key, c.iv, c.sn)
                          : dtls_record_set_keys13(e->rec, (enum dtls_suite)c.suite, c.key, c.iv, c.sn, s.key, s.iv, s.sn);
    dtls_wipe(&c, sizeof(c));
    dtls_wipe(&s, sizeof(s));
    return rc;
}

/* What a CertificateVerify signs (RFC 8446 §4.4.3), hashed with SHA-256
 * for ecdsa_secp256r1_sha256: 64 spaces, the context string, a zero byte,
 * the transcript hash now. */
static void cv_digest(struct dtls_endpoint *e, bool server, uint8_t *digest)
{
    static const char sctx[] = "TLS 1.3, server CertificateVerify", cctx[] = "TLS 1.3, client CertificateVerify";
    uint8_t pad[SIG_CONTEXT_PAD], th[TLS13_HASH_MAX];
    memset(pad, 0x20, sizeof(pad));
    size_t hl = dtls_transcript_hash(e, alg_of(e), th);
    const struct cp *cp = e->cp;
    struct cp_hash h;
    cp->ops->hash_init(cp->self, &h, CP_SHA256);
    cp->ops->hash_update(cp->self, &h, pad, sizeof(pad));
    cp->ops->hash_update(cp->self, &h, server ? sctx : cctx, sizeof(sctx)); /* with its zero byte */
    cp->ops->hash_update(cp->self, &h, th, hl);
    cp->ops->hash_final(cp->self, &h, digest);
}

static int sign_cv(struct dtls_endpoint *e)
{
    uint8_t digest[CP_SHA256_LEN];
    cv_digest(e, e->is_server, digest);
    size_t sl = 0;
    int rc = e->cp->ops->ecdsa_p256_sign(e->cp->self, e->cert->priv, digest, e->sig, &sl);
    e->sig_len = (uint8_t)sl;
    return rc;
}

/* Our Finished over the transcript now, with our handshake traffic secret. */
static int our_finished(struct dtls_endpoint *e)
{
    uint8_t th[TLS13_HASH_MAX];
    dtls_transcript_hash(e, alg_of(e), th);
    return tls13_finished(e->cp, alg_of(e), e->is_server ? e->t.s_ts : e->t.c_ts, th, e->t.finished);
}

/* The peer's CertificateVerify (before it is in the transcript). */
static int check_cv(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len)
{
    unsigned alg;
    const uint8_t *sig;
    size_t sl;
    if (dtls_parse_cert_verify(b, len, &alg, &sig, &sl) != 0)
        return fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
    if (alg != SIG_ECDSA_SECP256R1_SHA256)
        return fail(e, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_ILLEGAL_PARAMETER);
    uint8_t digest[CP_SHA256_LEN];
    cv_digest(e, !e->is_server, digest);
    if (e->cp->ops->ecdsa_p256_verify(e->cp->self, e->peer_pub, digest, sig, sl) != 0)
        return fail(e, DTLS_FAIL_BAD_SIGNATURE, DTLS_ALERT_DECRYPT_ERROR);
    dtls_transcript(e, HS_CERTIFICATE_VERIFY, seq, b, len);
    return 0;
}

/* The peer's Finished (before it is in the transcript). */
static int check_finished(struct dtls_endpoint *e, uint8_t epoch, uint16_t seq, const uint8_t *b, size_t len)
{
    if (epoch != 2)
        return fail(e, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE);
    if (len != e->t.hl)
        return fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
    uint8_t th[TLS13_HASH_MAX], want[TLS13_HASH_MAX];
    dtls_transcript_hash(e, alg_of(e), th);
    if (tls13_finished(e->cp, alg_of(e), e->is_server ? e->t.c_ts : e->t.s_ts, th, want) != 0)
        return crypto_fail(e);
    if (!dtls_same(want, b, len))
        return fail(e, DTLS_FAIL_BAD_FINISHED, DTLS_ALERT_DECRYPT_ERROR);
    dtls_transcript(e, HS_FINISHED, seq, b, len);
    return 0;
}

static int take_certificate(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len)
{
    const uint8_t *der = NULL;
    size_t dl = 0;
    int alert;
    int f = dtls_parse_certificate(b, len, true, &der, &dl, &alert);
    if (f != 0)
        return fail(e, f, alert);
    if (dtls_check_peer_cert(e, der, dl) != 0)
        return -EPROTO;
    dtls_transcript(e, HS_CERTIFICATE, seq, b, len);
    return 0;
}

/* The ClientHello as the 1.3 transcript takes it (4-byte header), from
 * our state: the same bytes we sent. */
static void hash_our_client_hello(struct dtls_endpoint *e)
{
    uint8_t body[MSG_MAX];
    size_t len = dtls_msg_write(e, IT_CLIENT_HELLO, body);
    dtls_transcript(e, HS_CLIENT_HELLO, 0, body, len);
}

/* RFC 8446 §4.4.1: after a HelloRetryRequest the transcript starts with
 * message_hash(Hash(ClientHello1)). The running transcripts hold ClientHello1
 * alone when this is called. */
static void replace_with_message_hash(struct dtls_endpoint *e)
{
    enum cp_hash_alg alg = alg_of(e);
    uint8_t h1[TLS13_HASH_MAX];
    size_t hl = dtls_transcript_hash(e, alg, h1);
    dtls_transcript_reset(e);
    e->th384_on = true;
    dtls_transcript(e, HS_MESSAGE_HASH, 0, h1, hl);
}

/* ---- server ---- */

static int server_hello_retry(struct dtls_endpoint *e, uint16_t seq, const struct dtls13_client_hello *ch,
                              bool need_cookie, const uint8_t *b, size_t len)
{
    if (e->t.hrr) /* RFC 8446 §4.1.4: one HelloRetryRequest at most */
        return fail(e, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_ILLEGAL_PARAMETER);
    e->t.hrr = true;
    e->suite_id = ch->suite;
    e->t.hrr_group = !ch->share;
    e->group = ch->share ? ch->share_group : ch->hrr_group;
    e->cookie_len = 0;
    if (need_cookie) {
        dtls_cookie_of(e, ch->random, e->cookie);
        e->cookie_len = COOKIE_OURS;
    }
    e->t.sid_len = ch->sid_len;
    memcpy(e->t.sid, ch->sid, ch->sid_len);
    dtls_transcript_reset(e);
    e->th384_on = true;
    dtls_transcript(e, HS_CLIENT_HELLO, seq, b, len);
    replace_with_message_hash(e);
    e->out_seq = 0;
    dtls_flight_begin(e);
    dtls_flight_add(e, IT13_HELLO_RETRY);
    dtls_flight_send(e, false); /* sent again when the first ClientHello comes again */
    e->peer_last = seq;
    e->have_peer_last = true;
    e->in_seq = (uint16_t)(seq + 1);
    return 0;
}

int dtls13_server_hello_in(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len, int *rc)
{
    *rc = 0;
    if (!(e->versions & DTLS_OFFER_V13))
        return 0;
    struct dtls13_client_hello ch;
    int alert;
    int f = dtls13_parse_client_hello(e, b, len, &ch, &alert);
    if (f == 0 && !ch.offers13) {
        if (e->versions & DTLS_OFFER_V12)
            return 0;
        *rc = fail(e, DTLS_FAIL_VERSION, DTLS_ALERT_PROTOCOL_VERSION);
        return 1;
    }
    if (f != 0) {
        *rc = fail(e, f, alert);
        return 1;
    }
    e->version = DTLS_V13;
    bool need_cookie = false;
    if (e->cookie_secret) {
        uint8_t want[COOKIE_OURS];
        dtls_cookie_of(e, ch.random, want);
        need_cookie = ch.cookie_len != COOKIE_OURS || !dtls_same(want, ch.cookie, COOKIE_OURS);
        if (ch.cookie_len && need_cookie)
            e->c.cookies_bad++;
    }
    if (e->t.hrr && (ch.suite != e->suite_id || !ch.share || ch.share_group != e->group || need_cookie))
        return *rc = fail(e, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_ILLEGAL_PARAMETER), 1;
    if (need_cookie || !ch.share) {
        if (need_cookie)
            e->c.cookies_sent++;
        *rc = server_hello_retry(e, seq, &ch, need_cookie, b, len);
        return 1;
    }
    memcpy(e->client_random, ch.random, 32);
    e->suite_id = ch.suite;
    e->group = ch.share_group;
    e->srtp_profile = ch.srtp;
    e->t.sid_len = ch.sid_len;
    memcpy(e->t.sid, ch.sid, ch.sid_len);
    const struct cp *cp = e->cp;
    if (cp->ops->random(cp->self, e->server_random, 32) != 0 ||
        cp->ops->ecdh_keygen(cp->self, (enum cp_group)e->group, e->eph_priv, e->eph_pub) != 0) {
        *rc = crypto_fail(e);
        return 1;
    }
    int r = cp->ops->ecdh_shared(cp->self, (enum cp_group)e->group, e->eph_priv, ch.share, ch.share_len, e->premaster);
    dtls_wipe(e->eph_priv, sizeof(e->eph_priv));
    if (r != 0) {
        *rc = dtls_fail_ecdh(e, r);
        return 1;
    }
    if (!e->t.hrr) {
        dtls_transcript_reset(e);
        e->th384_on = true;
    }
    dtls_transcript(e, HS_CLIENT_HELLO, seq, b, len);
    e->peer_last = seq;
    e->have_peer_last = true;
    dtls_flight_begin(e);
    dtls_flight_add(e, IT13_SERVER_HELLO);
    if (handshake_keys(e) != 0) {
        *rc = crypto_fail(e);
        return 1;
    }
    dtls_flight_add(e, IT13_ENCRYPTED_EXTENSIONS);
    if (e->want_client_cert)
        dtls_flight_add(e, IT13_CERTIFICATE_REQUEST);
    dtls_flight_add(e, IT13_CERTIFICATE);
    if (sign_cv(e) != 0) {
        *rc = crypto_fail(e);
        return 1;
    }
    dtls_flight_add(e, IT13_CERTIFICATE_VERIFY);
    if (our_finished(e) != 0) {
        *rc = crypto_fail(e);
        return 1;
    }
    dtls_flight_add(e, IT13_FINISHED);
    if (application_secrets(e) != 0) {
        *rc = crypto_fail(e);
        return 1;
    }
    e->t.n_ack = 0;
    dtls_flight_send(e, true);
    e->state = e->want_client_cert ? ST13_SERVER_CERT : ST13_SERVER_FINISHED;
    return 1;
}

static void connected13(struct dtls_endpoint *e)
{
    e->state = ST_CONNECTED;
    dtls_wipe(e->eph_priv, sizeof(e->eph_priv));
    dtls_event(e, DTLS_EV_CONNECTED);
}

/* The client's Finished checked: the application keys, our ACK, done. */
static int server_done(struct dtls_endpoint *e, uint16_t seq)
{
    if (install_application_keys(e) != 0)
        return crypto_fail(e);
    e->peer_last = seq;
    e->have_peer_last = true;
    e->t_retx = UINT64_MAX; /* the client's flight answers ours */
    e->tx_pending = false;
    e->t.ack_pending = true; /* RFC 9147 §7: the final flight is acknowledged */
    connected13(e);
    return 0;
}

/* ---- client ---- */

int dtls13_client_init(struct dtls_endpoint *e)
{
    if (!(e->versions & DTLS_OFFER_V13))
        return 0;
    e->group = (e->groups & DTLS_OFFER_X25519) ? CP_GROUP_X25519 : CP_GROUP_SECP256R1;
    return e->cp->ops->ecdh_keygen(e->cp->self, (enum cp_group)e->group, e->eph_priv, e->eph_pub);
}

static bool downgrade_sentinel(const uint8_t *random)
{
    static const uint8_t s[7] = {'D', 'O', 'W', 'N', 'G', 'R', 'D'};
    return memcmp(random + 24, s, 7) == 0 && (random[31] == 0 || random[31] == 1);
}

static int client_hello_retry(struct dtls_endpoint *e, uint16_t seq, const struct dtls13_server_hello *sh,
                              const uint8_t *b, size_t len)
{
    if (e->t.hrr)
        return fail(e, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE);
    /* RFC 8446 §4.1.4: it must change something, a group we offered and
     * did not share already */
    bool regroup = sh->group != 0;
    if (regroup && (sh->group == e->group || !((sh->group == CP_GROUP_X25519 && (e->groups & DTLS_OFFER_X25519)) ||
                                               (sh->group == CP_GROUP_SECP256R1 && (e->groups & DTLS_OFFER_P256)))))
        return fail(e, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_ILLEGAL_PARAMETER);
    if (!regroup && !sh->cookie)
        return fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_ILLEGAL_PARAMETER);
    e->t.hrr = true;
    e->suite_id = sh->suite;
    /* the first ClientHello as 1.3 hashes it, then its message_hash */
    dtls_transcript_reset(e);
    e->th384_on = true;
    hash_our_client_hello(e);
    replace_with_message_hash(e);
    dtls_transcript(e, HS_SERVER_HELLO, seq, b, len);
    e->cookie_len = 0;
    if (sh->cookie) {
        memcpy(e->cookie, sh->cookie, sh->cookie_len);
        e->cookie_len = (uint8_t)sh->cookie_len;
    }
    if (regroup) {
        e->group = sh->group;
        if (e->cp->ops->ecdh_keygen(e->cp->self, (enum cp_group)e->group, e->eph_priv, e->eph_pub) != 0)
            return crypto_fail(e);
    }
    e->peer_last = seq;
    e->have_peer_last = true;
    dtls_flight_begin(e);
    dtls_flight_add(e, IT_CLIENT_HELLO); /* ClientHello2, into the 1.3 transcript */
    dtls_flight_send(e, true);
    return 0;
}

int dtls13_client_server_hello(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len, int *rc)
{
    *rc = 0;
    if (!(e->versions & DTLS_OFFER_V13))
        return 0;
    struct dtls13_server_hello sh;
    int alert;
    int f = dtls13_parse_server_hello(e, b, len, &sh, &alert);
    if (f != 0) {
        *rc = fail(e, f, alert);
        return 1;
    }
    if (!sh.is13) {
        /* RFC 8446 §4.1.3: a 1.2 ServerHello to a client offering 1.3
         * must not carry the downgrade sentinel */
        if (sh.random && downgrade_sentinel(sh.random)) {
            *rc = fail(e, DTLS_FAIL_DOWNGRADE, DTLS_ALERT_ILLEGAL_PARAMETER);
            return 1;
        }
        if (!(e->versions & DTLS_OFFER_V12) || e->t.hrr) {
            *rc = fail(e, DTLS_FAIL_VERSION, DTLS_ALERT_PROTOCOL_VERSION);
            return 1;
        }
        return 0;
    }
    e->version = DTLS_V13;
    if (sh.hrr) {
        *rc = client_hello_retry(e, seq, &sh, b, len);
        return 1;
    }
    if (sh.group != e->group || sh.share_len != cp_pub_len((enum cp_group)e->group) ||
        (e->t.hrr && sh.suite != e->suite_id)) {
        *rc = fail(e, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_ILLEGAL_PARAMETER);
        return 1;
    }
    e->suite_id = sh.suite;
    memcpy(e->server_random, sh.random, 32);
    const struct cp *cp = e->cp;
    int r = cp->ops->ecdh_shared(cp->self, (enum cp_group)e->group, e->eph_priv, sh.share, sh.share_len, e->premaster);
    dtls_wipe(e->eph_priv, sizeof(e->eph_priv));
    if (r != 0) {
        *rc = dtls_fail_ecdh(e, r);
        return 1;
    }
    if (!e->t.hrr) {
        /* the first ClientHello went into the 1.2 transcript form */
        dtls_transcript_reset(e);
        e->th384_on = true;
        hash_our_client_hello(e);
    }
    dtls_transcript(e, HS_SERVER_HELLO, seq, b, len);
    if (handshake_keys(e) != 0) {
        *rc = crypto_fail(e);
        return 1;
    }
    e->state = ST13_CLIENT_EE;
    return 1;
}

/* The server's Finished checked: our flight, the application keys, done
 * (the flight is sent again until acknowledged). */
static int client_finish(struct dtls_endpoint *e, uint16_t seq)
{
    if (application_secrets(e) != 0)
        return crypto_fail(e);
    e->peer_last = seq;
    e->have_peer_last = true;
    dtls_flight_begin(e);
    if (e->t.peer_auth) {
        dtls_flight_add(e, IT13_CERTIFICATE);
        if (sign_cv(e) != 0)
            return crypto_fail(e);
        dtls_flight_add(e, IT13_CERTIFICATE_VERIFY);
    }
    if (our_finished(e) != 0)
        return crypto_fail(e);
    dtls_flight_add(e, IT13_FINISHED);
    if (install_application_keys(e) != 0)
        return crypto_fail(e);
    dtls_flight_send(e, true);
    e->t.await_ack = true;
    connected13(e);
    return 0;
}

/* The peer's authentication, the same in both roles: Certificate,
 * CertificateVerify, Finished, each in its state (epoch 2). */
static int peer_auth(struct dtls_endpoint *e, uint8_t type, uint8_t epoch, uint16_t seq, const uint8_t *b,
                     size_t len)
{
    bool srv = e->is_server;
    uint8_t st_cert = srv ? ST13_SERVER_CERT : ST13_CLIENT_CERT, st_cv = srv ? ST13_SERVER_CV : ST13_CLIENT_CV;
    uint8_t st_fin = srv ? ST13_SERVER_FINISHED : ST13_CLIENT_FINISHED;
    if (e->state == st_cert && type == HS_CERTIFICATE) {
        if (take_certificate(e, seq, b, len) != 0)
            return -EPROTO;
        e->state = st_cv;
        return 0;
    }
    if (e->state == st_cv && type == HS_CERTIFICATE_VERIFY) {
        if (check_cv(e, seq, b, len) != 0)
            return -EPROTO;
        e->state = st_fin;
        return 0;
    }
    if (e->state == st_fin && type == HS_FINISHED) {
        if (check_finished(e, epoch, seq, b, len) != 0)
            return -EPROTO;
        return srv ? server_done(e, seq) : client_finish(e, seq);
    }
    /* a client that skips its Certificate: RFC 8446 §4.4.2.4 */
    if (srv && e->state == ST13_SERVER_CERT && type == HS_FINISHED)
        return fail(e, DTLS_FAIL_BAD_CERT, DTLS_ALERT_CERTIFICATE_REQUIRED);
    return fail(e, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE);
}

int dtls13_on_message(struct dtls_endpoint *e, uint8_t type, uint8_t epoch, uint16_t seq, const uint8_t *b,
                      size_t len)
{
    if (type == HS_NEW_SESSION_TICKET || type == HS_KEY_UPDATE)
        return 0; /* post-handshake (dtls_open_record's) during the handshake: ignored */
    if (epoch != 2)
        return fail(e, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE);
    int alert;
    if (e->state == ST13_CLIENT_EE && type == HS_ENCRYPTED_EXTENSIONS) {
        uint16_t srtp;
        int f = dtls13_parse_ee(e, b, len, &srtp, &alert);
        if (f != 0)
            return fail(e, f, alert);
        e->srtp_profile = srtp;
        dtls_transcript(e, type, seq, b, len);
        e->state = ST13_CLIENT_CR;
        return 0;
    }
    if (e->state == ST13_CLIENT_CR) {
        if (type == HS_CERTIFICATE_REQUEST) {
            int f = dtls13_parse_cr(e, b, len, &alert);
            if (f != 0)
                return fail(e, f, alert);
            e->t.peer_auth = true;
            dtls_transcript(e, type, seq, b, len);
            e->state = ST13_CLIENT_CERT;
            return 0;
        }
        e->state = ST13_CLIENT_CERT; /* no CertificateRequest: the Certificate */
    }
    return peer_auth(e, type, epoch, seq, b, len);
}

/* ---- records and ACKs ---- */

static void note_record(struct dtls_endpoint *e, uint16_t epoch, uint64_t seq)
{
    struct dtls13_in *in = &e->t_in;
    if (e->t.ack_epoch != epoch) {
        /* one epoch per ACK of ours: the handshake's, or a KeyUpdate's */
        e->t.n_ack = 0;
        e->t.ack_epoch = epoch;
    }
    if (e->t.n_ack == ACK_MAX) {
        memmove(in->ack, in->ack + 1, sizeof(in->ack[0]) * (ACK_MAX - 1));
        e->t.n_ack--;
    }
    in->ack[e->t.n_ack++] = seq;
}

/* The epoch-2 replay window (RFC 9147 §4.5.1, as the record layer's): true
 * when seq is new, and then marked. */
static bool fresh(struct dtls_endpoint *e, uint64_t seq)
{
    struct dtls13_in *in = &e->t_in;
    if (seq >= in->r_top) {
        uint64_t shift = seq + 1 - in->r_top;
        in->r_window = shift >= 64 ? 0 : in->r_window << shift;
        in->r_window |= 1;
        in->r_top = seq + 1;
        return true;
    }
    uint64_t back = in->r_top - 1 - seq;
    if (back >= 64 || (in->r_window >> back) & 1)
        return false;
    in->r_window |= 1ull << back;
    return true;
}

/* ---- KeyUpdate (RFC 8446 §4.6.3, RFC 9147 §8) ---- */

/* The next application secret of one direction (in place) and its keys. */
static int next_keys(struct dtls_endpoint *e, uint8_t *secret, struct dtls13_keys *k)
{
    int rc = tls13_next_secret(e->cp, alg_of(e), secret, secret);
    return rc == 0 ? keys_of(e, secret, k) : rc;
}

/* Our KeyUpdate was acknowledged: our write keys move to the next epoch
 * (not before: RFC 9147 §8). */
static int key_update_acked(struct dtls_endpoint *e)
{
    struct dtls13_keys k;
    int rc = next_keys(e, e->is_server ? e->t.s_ts : e->t.c_ts, &k);
    if (rc == 0)
        rc = dtls_record_rekey13(e->rec, true, k.key, k.iv, k.sn);
    dtls_wipe(&k, sizeof(k));
    e->p.ku_out = false;
    e->p.ku_sealed = false;
    e->t_retx = UINT64_MAX;
    e->tx_pending = false;
    if (rc != 0)
        return rc;
    e->p.w_epoch++;
    e->c.key_updates_out++;
    return 0;
}

static void start_key_update(struct dtls_endpoint *e, bool request)
{
    e->p.ku_out = true;
    e->p.ku_request = request;
    e->p.ku_sealed = false;
    dtls_flight_begin(e);
    dtls_flight_add(e, IT13_KEY_UPDATE);
    dtls_flight_send(e, true);
}

int dtls13_key_update(struct dtls_endpoint *e, bool request)
{
    if (!dtls_is13(e) || e->state != ST_CONNECTED || e->p.w_epoch < 3)
        return -ENOTSUP;
    if (e->p.ku_out || e->t.await_ack)
        return -EBUSY;
    start_key_update(e, request);
    return 0;
}

bool dtls13_key_update_due(const struct dtls_endpoint *e)
{
    return dtls_is13(e) && e->state == ST_CONNECTED && e->p.w_epoch >= 3 && !e->p.ku_out && !e->t.await_ack &&
           dtls_record_write_seq(e->rec) >= e->t.ku_after;
}

/* The peer's KeyUpdate (whole, new): its previous read keys kept raw in
 * `r` with the record layer's replay window for them, the record layer
 * reading the next epoch; ours sent when it asks. */
static int take_key_update(struct dtls_endpoint *e, uint8_t request)
{
    uint8_t *peer = e->is_server ? e->t.c_ts : e->t.s_ts;
    struct dtls13_keys k;
    int rc = keys_of(e, peer, &e->t.r);
    if (rc == 0)
        rc = next_keys(e, peer, &k);
    if (rc == 0) {
        const struct dtls_record_impl *r = dtls_crec(e->rec);
        e->t_in.r_top = r->r_window ? r->r_top + 1 : 0; /* the record layer's window, in t_in's terms */
        e->t_in.r_window = r->r_window;
        rc = dtls_record_rekey13(e->rec, false, k.key, k.iv, k.sn);
    }
    dtls_wipe(&k, sizeof(k));
    if (rc != 0)
        return rc;
    e->p.old_epoch = e->p.r_epoch;
    e->p.r_epoch++;
    e->c.key_updates_in++;
    if (request) {
        if (!e->p.ku_out) /* one of ours under way answers it as well */
            start_key_update(e, false);
    }
    return 0;
}

/* A handshake record after the handshake (epoch, seq: its record number):
 * whole KeyUpdates taken in message order and acknowledged, again when
 * they come again; a NewSessionTicket acknowledged and ignored. 1 taken, 0
 * not (counted in records_dropped). */
static int post_handshake(struct dtls_endpoint *e, uint16_t epoch, uint64_t seq, const uint8_t *b, size_t len)
{
    bool ack = false;
    while (len >= HS_HEADER) {
        uint8_t type = b[0];
        uint32_t mlen = wire_get24(b + 1), foff = wire_get24(b + 6), flen = wire_get24(b + 9);
        uint16_t mseq = wire_get16(b + 4);
        if (flen > len - HS_HEADER)
            break;
        const uint8_t *body = b + HS_HEADER;
        b += HS_HEADER + flen;
        len -= HS_HEADER + flen;
        bool whole = foff == 0 && flen == mlen;
        bool ku = type == HS_KEY_UPDATE && whole && mlen == 1 && body[0] <= 1;
        if (!ku && !(type == HS_NEW_SESSION_TICKET && whole))
            continue; /* a fragment we do not reassemble after the handshake (ours are whole), or junk */
        if (mseq < e->in_seq) {
            ack = true; /* had it: the peer lacks our ACK */
            continue;
        }
        if (mseq != e->in_seq)
            continue; /* an earlier message is missing: this one comes again */
        if (ku && take_key_update(e, body[0]) != 0)
            continue;
        e->in_seq++;
        ack = true;
    }
    if (!ack) {
        e->c.records_dropped++;
        return 0;
    }
    note_record(e, epoch, seq);
    e->t.ack_pending = true;
    e->c.records_in++;
    return 1;
}

int dtls13_open_record(struct dtls_endpoint *e, const uint8_t *in, size_t len, size_t *used, uint8_t *type,
                       uint8_t *out, size_t cap)
{
    *used = len;
    if (!dtls_is13(e) || e->state != ST_CONNECTED || e->p.r_epoch < 3)
        return -ENOTSUP;
    struct dtls13_hdr h;
    unsigned cur = dtls_record_epoch_bits(e->rec, false);
    if (len == 0 || (in[0] & 0xe0) != 0x20 || dtls13_parse_header(in, len, &h) != 0 || h.epoch_bits == cur) {
        /* the current epoch, or what the record layer refuses and counts */
        uint64_t seq = 0;
        int n = dtls_record_open_seq(e->rec, in, len, used, type, out, cap, &seq);
        if (n >= 0 && *type == DTLS_CT_HANDSHAKE)
            post_handshake(e, e->p.r_epoch, seq, out, (size_t)n);
        else if (n >= 0 && *type == DTLS_CT_ACK)
            dtls13_ack_in(e, out, (size_t)n);
        return n;
    }
    *used = h.rec_len;
    if (e->p.old_epoch == 2 && h.epoch_bits == 2) {
        /* the handshake's epoch: the peer's final flight again */
        *type = DTLS_CT_HANDSHAKE;
        return dtls13_record_in(e, in, h.rec_len) > 0 ? 0 : DTLS_REC_WRONG_EPOCH;
    }
    if (e->p.old_epoch < 3 || h.epoch_bits != (e->p.old_epoch & 3)) {
        e->c.records_dropped++; /* an epoch we have no keys for */
        return DTLS_REC_WRONG_EPOCH;
    }
    /* the previous epoch: late records after the peer's KeyUpdate */
    uint64_t seq;
    size_t u;
    int n = dtls13_open(&e->t.r, in, h.rec_len, e->t_in.r_top, &u, &seq, type, out, cap);
    if (n >= 0 && !fresh(e, seq)) {
        dtls_wipe(out, (size_t)n);
        n = DTLS_REC_REPLAY;
    }
    if (n >= 0 && *type != DTLS_CT_APPLICATION_DATA && *type != DTLS_CT_HANDSHAKE && *type != DTLS_CT_ACK &&
        *type != DTLS_CT_ALERT) {
        dtls_wipe(out, (size_t)n);
        n = DTLS_REC_BAD_TYPE;
    }
    if (n < 0) {
        e->c.records_dropped++;
        return n;
    }
    if (*type == DTLS_CT_HANDSHAKE)
        post_handshake(e, e->p.old_epoch, seq, out, (size_t)n);
    else if (*type == DTLS_CT_ACK)
        dtls13_ack_in(e, out, (size_t)n);
    return n;
}

int dtls13_ack_in(struct dtls_endpoint *e, const uint8_t *b, size_t len)
{
    if (len < 2 || wire_get16(b) != len - 2 || (len - 2) % 16)
        return 0;
    for (size_t off = 2; off < len; off += 16) {
        uint64_t ep = wire_get64(b + off), sq = wire_get64(b + off + 8);
        if (ep == 2 && sq >= e->t_in.fl_first && sq < e->t_in.fl_first + e->t.fl_n)
            e->t.fl_acked |= (uint16_t)(1u << (sq - e->t_in.fl_first));
    }
    e->c.acks_in++;
    if (e->p.ku_out && e->p.ku_sealed) {
        for (size_t off = 2; off < len; off += 16) {
            uint64_t ep = wire_get64(b + off), sq = wire_get64(b + off + 8);
            if (ep == e->p.w_epoch && sq >= e->p.ku_first && sq <= e->p.ku_last)
                return key_update_acked(e) == 0 ? 1 : 0;
        }
    }
    uint16_t all = (uint16_t)((1u << e->t.fl_n) - 1);
    if (e->t.await_ack && e->t.fl_n && (e->t.fl_acked & all) == all) {
        e->t.await_ack = false;
        e->t_retx = UINT64_MAX;
        e->tx_pending = false;
    }
    return 1;
}

size_t dtls13_ack_out(struct dtls_endpoint *e, uint8_t *buf, size_t cap)
{
    e->t.ack_pending = false;
    uint8_t body[2 + 16 * ACK_MAX];
    size_t n = e->t.n_ack;
    wire_put16(body, (uint16_t)(16 * n));
    for (size_t i = 0; i < n; i++) {
        wire_put64(body + 2 + 16 * i, e->t.ack_epoch ? e->t.ack_epoch : 2);
        wire_put64(body + 2 + 16 * i + 8, e->t_in.ack[i]);
    }
    int r = dtls_record_seal(e->rec, DTLS_CT_ACK, body, 2 + 16 * n, buf, cap);
    if (r <= 0)
        return 0;
    e->c.acks_out++;
    e->c.records_out++;
    e->c.datagrams_out++;
    return (size_t)r;
}

bool dtls13_on_repeat(struct dtls_endpoint *e)
{
    if (e->is_server && e->state == ST_CONNECTED) {
        e->t.ack_pending = true; /* the client lacks our ACK */
        return true;
    }
    return false;
}

int dtls13_record_in(struct dtls_endpoint *e, const uint8_t *r, size_t rl)
{
    struct dtls13_hdr h;
    if (dtls13_parse_header(r, rl, &h) != 0 || h.cid) {
        e->c.records_dropped++;
        return 0;
    }
    uint8_t plain[DTLS_REASM_BYTES + HS_HEADER];
    size_t used;
    uint8_t type;
    int n;
    uint8_t epoch;
    uint64_t seq = 0;
    if (h.epoch_bits == 2 && e->t.r.suite) {
        n = dtls13_open(&e->t.r, r, rl, e->t_in.r_top, &used, &seq, &type, plain, sizeof(plain));
        if (n >= 0 && !fresh(e, seq)) {
            e->c.records_dropped++; /* a copy of a record we took (the network's; a peer resending uses a new number) */
            return 0;
        }
        epoch = 2;
    } else if (h.epoch_bits == 3 && dtls_record_version(e->rec) == DTLS_V13) {
        n = dtls_record_open(e->rec, r, rl, &used, &type, plain, sizeof(plain));
        epoch = 3;
    } else {
        e->c.records_dropped++; /* an epoch we have no keys for (yet) */
        return 0;
    }
    if (n < 0) {
        e->c.records_dropped++;
        return 0;
    }
    switch (type) {
    case DTLS_CT_HANDSHAKE: {
        if (epoch != 2) {
            e->c.records_dropped++; /* post-handshake messages: none we act on */
            return 0;
        }
        note_record(e, 2, seq);
        int rc = dtls_fragments_in(e, 2, plain, (size_t)n);
        if (rc > 0)
            e->c.records_in++;
        else if (rc == 0)
            e->c.records_dropped++;
        return rc < 0 ? -EPROTO : rc;
    }
    case DTLS_CT_ACK:
        e->c.records_in++;
        return dtls13_ack_in(e, plain, (size_t)n);
    case DTLS_CT_ALERT:
        if (n != 2) {
            e->c.records_dropped++;
            return 0;
        }
        e->c.records_in++;
        e->c.alerts_in++;
        if (plain[0] == DTLS_ALERT_FATAL || plain[1] == DTLS_ALERT_CLOSE_NOTIFY) {
            dtls_fail(e, DTLS_FAIL_PEER_ALERT, -1);
            e->fail_alert = plain[1];
            return e->state == ST_FAILED ? -EPROTO : 1;
        }
        return 1;
    default:
        e->c.records_dropped++; /* application data is the connection's */
        return 0;
    }
}

/* Seals one epoch-2 handshake record of our flight (dtls_flight.c). */
int dtls13_seal_flight_record(struct dtls_endpoint *e, uint8_t type, const uint8_t *in, size_t len, uint8_t *out,
                              size_t cap)
{
    int n = dtls13_seal(&e->t.w, 2, e->t.w_seq, type, in, len, out, cap);
    if (n > 0) {
        if (e->t.fl_n < 16 && type == DTLS_CT_HANDSHAKE)
            e->t.fl_n++;
        e->t.w_seq++;
    }
    return n;
}

/* A new transmission of our flight starts at the next epoch-2 record. */
void dtls13_flight_start(struct dtls_endpoint *e)
{
    e->t_in.fl_first = e->t.w_seq;
    e->t.fl_n = 0;
    e->t.fl_acked = 0;
}

int dtls13_export(const struct dtls_endpoint *e, const char *label, uint8_t *out, size_t len)
{
    if (!e->have_master)
        return -EINVAL;
    return tls13_export(e->cp, alg_of(e), e->t.exporter, label, NULL, 0, out, len);
}
