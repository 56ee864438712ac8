/* SPDX-License-Identifier: MIT */
/* The DTLS 1.2 handshake state machine: records in, messages in order,
 * the key schedule, flights out, events. */
#include "dtls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dtls_internal.h"
#include "dtls_record_internal.h"
#include "dtls_prf.h"

_Static_assert(sizeof(struct dtls_endpoint) <= 4096, "a handshake slot is at most 4 KiB");

#define FAIL_NAME(n, s) s,
static const char *const failure_names[] = {DTLS_FAILURES(FAIL_NAME)};
#undef FAIL_NAME

size_t dtls_endpoint_size(void)
{
    return sizeof(struct dtls_endpoint);
}

const char *dtls_failure_name(enum dtls_failure f)
{
    return (unsigned)f < DTLS_FAIL_COUNT ? failure_names[f] : "?";
}

void dtls_event(struct dtls_endpoint *e, enum dtls_event_type ev)
{
    if (e->n_events < 2)
        e->events[e->n_events++] = (uint8_t)ev;
}

void dtls_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

#define event dtls_event
#define wipe dtls_wipe

void dtls_fail(struct dtls_endpoint *e, enum dtls_failure f, int alert)
{
    if (e->state == ST_FAILED || e->state == ST_CONNECTED)
        return;
    e->state = ST_FAILED;
    e->failure = (uint8_t)f;
    e->fail_alert = (int16_t)alert;
    e->t_retx = UINT64_MAX;
    e->tx_pending = false;
    if (alert >= 0) {
        e->alert_pending = true;
        e->alert_desc = (uint8_t)alert;
    }
    wipe(e->eph_priv, sizeof(e->eph_priv));
    wipe(e->premaster, sizeof(e->premaster));
    event(e, DTLS_EV_FAILED);
}

int dtls_fail_ecdh(struct dtls_endpoint *e, int rc)
{
    dtls_fail(e, rc == -EINVAL ? DTLS_FAIL_BAD_KEY_SHARE : DTLS_FAIL_CRYPTO,
              rc == -EINVAL ? DTLS_ALERT_ILLEGAL_PARAMETER : DTLS_ALERT_INTERNAL_ERROR);
    return -EPROTO;
}

/* ---- transcript and key schedule ---- */

static enum cp_hash_alg prf_alg(const struct dtls_endpoint *e)
{
    return e->suite_id == SUITE_ECDHE_ECDSA_AES_256_GCM ? CP_SHA384 : CP_SHA256;
}

static void transcript_init(struct dtls_endpoint *e, bool both)
{
    const struct cp *cp = e->cp;
    cp->ops->hash_init(cp->self, &e->th256, CP_SHA256);
    cp->ops->hash_init(cp->self, &e->th384, CP_SHA384);
    e->th384_on = both;
}

void dtls_transcript_reset(struct dtls_endpoint *e)
{
    transcript_init(e, true);
}

void dtls_transcript(struct dtls_endpoint *e, uint8_t type, uint16_t seq, const uint8_t *body, size_t len)
{
    /* RFC 6347 §4.2.6: as one fragment, fragment_offset 0; RFC 9147 §5.2:
     * 1.3 hashes the TLS 1.3 form, type and length only */
    uint8_t h[HS_HEADER];
    h[0] = type;
    wire_put24(h + 1, (uint32_t)len);
    wire_put16(h + 4, seq);
    wire_put24(h + 6, 0);
    wire_put24(h + 9, (uint32_t)len);
    size_t hl = dtls_is13(e) ? 4 : sizeof(h);
    const struct cp *cp = e->cp;
    cp->ops->hash_update(cp->self, &e->th256, h, hl);
    cp->ops->hash_update(cp->self, &e->th256, body, len);
    if (e->th384_on) {
        cp->ops->hash_update(cp->self, &e->th384, h, hl);
        cp->ops->hash_update(cp->self, &e->th384, body, len);
    }
}

/* The transcript so far under alg, the running hash left as it is. */
size_t dtls_transcript_hash(const struct dtls_endpoint *e, enum cp_hash_alg alg, uint8_t *out)
{
    struct cp_hash h = alg == CP_SHA384 ? e->th384 : e->th256;
    e->cp->ops->hash_final(e->cp->self, &h, out);
    return cp_hash_len(alg);
}
#define transcript_now dtls_transcript_hash

/* RFC 5246 §8.1 / RFC 7627 §4 */
static int derive_master(struct dtls_endpoint *e)
{
    enum cp_hash_alg alg = prf_alg(e);
    int rc;
    if (e->ems) {
        uint8_t sh[CP_HASH_MAX];
        size_t n = transcript_now(e, alg, sh);
        rc = dtls_prf(e->cp, alg, e->premaster, sizeof(e->premaster), "extended master secret", sh, n, NULL, 0,
                      e->master, sizeof(e->master));
    } else {
        rc = dtls_prf(e->cp, alg, e->premaster, sizeof(e->premaster), "master secret", e->client_random, 32,
                      e->server_random, 32, e->master, sizeof(e->master));
    }
    wipe(e->premaster, sizeof(e->premaster));
    e->have_master = rc == 0;
    return rc;
}

/* RFC 5246 §6.3: the key block, into the record layer. */
static int install_keys(struct dtls_endpoint *e)
{
    enum dtls_suite suite;
    unsigned kl, il;
    switch (e->suite_id) {
    case SUITE_ECDHE_ECDSA_AES_128_GCM: suite = DTLS_SUITE_AES_128_GCM, kl = 16, il = 4; break;
    case SUITE_ECDHE_ECDSA_AES_256_GCM: suite = DTLS_SUITE_AES_256_GCM, kl = 32, il = 4; break;
    default: suite = DTLS_SUITE_CHACHA20_POLY1305, kl = 32, il = 12; break;
    }
    uint8_t kb[DTLS_KEY_BLOCK_MAX];
    int rc = dtls_prf(e->cp, prf_alg(e), e->master, sizeof(e->master), "key expansion", e->server_random, 32,
                      e->client_random, 32, kb, 2 * (kl + il));
    if (rc == 0) {
        const uint8_t *ck = kb, *sk = kb + kl, *civ = kb + 2 * kl, *siv = kb + 2 * kl + il;
        rc = e->is_server ? dtls_record_set_keys(e->rec, suite, sk, siv, ck, civ)
                          : dtls_record_set_keys(e->rec, suite, ck, civ, sk, siv);
    }
    wipe(kb, sizeof(kb));
    return rc;
}

/* verify_data of a Finished (RFC 5246 §7.4.9) over the transcript now. */
static int finished_data(const struct dtls_endpoint *e, bool client, uint8_t *out)
{
    uint8_t h[CP_HASH_MAX];
    size_t n = transcript_now(e, prf_alg(e), h);
    return dtls_prf(e->cp, prf_alg(e), e->master, sizeof(e->master), client ? "client finished" : "server finished",
                    h, n, NULL, 0, out, VERIFY_DATA);
}

bool dtls_same(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

#define same dtls_same

/* The peer's certificate: its fingerprint against the SDP's, its key. */
static int take_certificate(struct dtls_endpoint *e, const uint8_t *b, size_t len)
{
    const uint8_t *der = NULL;
    size_t dl = 0;
    int alert;
    int f = dtls_parse_certificate(b, len, false, &der, &dl, &alert);
    if (f != 0) {
        dtls_fail(e, (enum dtls_failure)f, alert);
        return -EPROTO;
    }
    return dtls_check_peer_cert(e, der, dl);
}

int dtls_check_peer_cert(struct dtls_endpoint *e, const uint8_t *der, size_t dl)
{
    uint8_t fp[DTLS_FP_LEN];
    dtls_cert_fingerprint(e->cp, der, dl, fp);
    if (!same(fp, e->peer_fp, sizeof(fp))) {
        dtls_fail(e, DTLS_FAIL_FINGERPRINT, DTLS_ALERT_BAD_CERTIFICATE);
        return -EPROTO;
    }
    if (dtls_cert_public_key(der, dl, e->peer_pub) != 0) {
        dtls_fail(e, DTLS_FAIL_BAD_CERT, DTLS_ALERT_UNSUPPORTED_CERTIFICATE);
        return -EPROTO;
    }
    return 0;
}

/* SHA-256(client_random || server_random || params) (RFC 8422 §5.4). */
static void ske_digest(const struct dtls_endpoint *e, const uint8_t *params, size_t n, uint8_t *out)
{
    const struct cp *cp = e->cp;
    struct cp_hash h;
    cp->ops->hash_init(cp->self, &h, CP_SHA256);
    cp->ops->hash_update(cp->self, &h, e->client_random, 32);
    cp->ops->hash_update(cp->self, &h, e->server_random, 32);
    cp->ops->hash_update(cp->self, &h, params, n);
    cp->ops->hash_final(cp->self, &h, out);
}

static int sign(struct dtls_endpoint *e, const uint8_t *digest)
{
    size_t sl = 0;
    int rc = e->cp->ops->ecdsa_p256_sign(e->cp->self, e->cert->priv, digest, e->sig, &sl);
    e->sig_len = (uint8_t)sl;
    if (rc != 0)
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
    return rc;
}

/* ---- client ---- */

static void client_hello(struct dtls_endpoint *e)
{
    dtls_flight_begin(e);
    dtls_flight_add(e, IT_CLIENT_HELLO);
    dtls_flight_send(e, true);
}

static int on_hello_verify(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len)
{
    int alert;
    int f = dtls_parse_hello_verify(e, b, len, &alert);
    if (f != 0) {
        dtls_fail(e, (enum dtls_failure)f, alert);
        return -EPROTO;
    }
    /* the transcript starts again with the ClientHello carrying the cookie */
    transcript_init(e, true);
    e->peer_last = seq;
    e->have_peer_last = true;
    client_hello(e);
    return 0;
}

static int on_server_key_exchange(struct dtls_endpoint *e, const uint8_t *b, size_t len)
{
    uint16_t group;
    const uint8_t *pub, *sig;
    size_t pl, params, sl;
    unsigned alg;
    int rc = dtls_parse_ske(b, len, &group, &pub, &pl, &params, &sig, &sl, &alg);
    if (rc == -EINVAL) {
        dtls_fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
        return -EPROTO;
    }
    if (rc != 0 || alg != SIG_ECDSA_SECP256R1_SHA256 ||
        !((group == CP_GROUP_X25519 && (e->groups & DTLS_OFFER_X25519)) ||
          (group == CP_GROUP_SECP256R1 && (e->groups & DTLS_OFFER_P256)))) {
        dtls_fail(e, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_ILLEGAL_PARAMETER);
        return -EPROTO;
    }
    uint8_t digest[CP_SHA256_LEN];
    ske_digest(e, b, params, digest);
    rc = e->cp->ops->ecdsa_p256_verify(e->cp->self, e->peer_pub, digest, sig, sl);
    if (rc != 0) {
        dtls_fail(e, DTLS_FAIL_BAD_SIGNATURE, DTLS_ALERT_DECRYPT_ERROR);
        return -EPROTO;
    }
    e->group = group;
    const struct cp *cp = e->cp;
    rc = cp->ops->ecdh_keygen(cp->self, (enum cp_group)group, e->eph_priv, e->eph_pub);
    if (rc != 0) {
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
        return -EPROTO;
    }
    rc = cp->ops->ecdh_shared(cp->self, (enum cp_group)group, e->eph_priv, pub, pl, e->premaster);
    wipe(e->eph_priv, sizeof(e->eph_priv));
    if (rc != 0) {
        return dtls_fail_ecdh(e, rc);
    }
    return 0;
}

/* ServerHelloDone: flight 5 (RFC 5246 §7.3). */
static int client_keys(struct dtls_endpoint *e, uint16_t seq)
{
    e->peer_last = seq;
    e->have_peer_last = true;
    dtls_flight_begin(e);
    if (e->cert_requested)
        dtls_flight_add(e, IT_CERTIFICATE);
    dtls_flight_add(e, IT_CLIENT_KEY_EXCHANGE);
    if (derive_master(e) != 0 || install_keys(e) != 0) {
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
        return -EPROTO;
    }
    if (e->cert_requested) {
        uint8_t digest[CP_SHA256_LEN];
        transcript_now(e, CP_SHA256, digest);
        if (sign(e, digest) != 0)
            return -EPROTO;
        dtls_flight_add(e, IT_CERTIFICATE_VERIFY);
    }
    dtls_flight_add(e, IT_CHANGE_CIPHER_SPEC);
    if (finished_data(e, true, e->finished) != 0) {
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
        return -EPROTO;
    }
    dtls_flight_add(e, IT_FINISHED);
    dtls_flight_send(e, true);
    e->state = ST_CLIENT_FINISHED;
    return 0;
}

static void connected(struct dtls_endpoint *e)
{
    e->state = ST_CONNECTED;
    e->t_retx = UINT64_MAX;
    wipe(e->eph_priv, sizeof(e->eph_priv));
    event(e, DTLS_EV_CONNECTED);
}

static int check_finished(struct dtls_endpoint *e, uint8_t epoch, const uint8_t *b, size_t len, bool from_client)
{
    if (epoch != 1) {
        dtls_fail(e, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE);
        return -EPROTO;
    }
    uint8_t want[VERIFY_DATA];
    if (len != VERIFY_DATA) {
        dtls_fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
        return -EPROTO;
    }
    if (finished_data(e, from_client, want) != 0) {
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
        return -EPROTO;
    }
    if (!same(want, b, VERIFY_DATA)) {
        dtls_fail(e, DTLS_FAIL_BAD_FINISHED, DTLS_ALERT_DECRYPT_ERROR);
        return -EPROTO;
    }
    return 0;
}

static int client_message(struct dtls_endpoint *e, uint8_t type, uint8_t epoch, uint16_t seq, const uint8_t *b,
                          size_t len)
{
    int alert;
    switch (e->state) {
    case ST_CLIENT_HELLO:
        if (type == HS_HELLO_VERIFY_REQUEST && epoch == 0)
            return on_hello_verify(e, seq, b, len);
        if (type != HS_SERVER_HELLO || epoch != 0)
            break;
        {
            int rc13;
            if (dtls13_client_server_hello(e, seq, b, len, &rc13))
                return rc13;
            int f = dtls_parse_server_hello(e, b, len, &alert);
            if (f != 0) {
                dtls_fail(e, (enum dtls_failure)f, alert);
                return -EPROTO;
            }
        }
        e->version = DTLS_V12;
        e->th384_on = prf_alg(e) == CP_SHA384;
        dtls_transcript(e, type, seq, b, len);
        e->state = ST_CLIENT_CERT;
        return 0;
    case ST_CLIENT_CERT:
        if (type != HS_CERTIFICATE || epoch != 0)
            break;
        if (take_certificate(e, b, len) != 0)
            return -EPROTO;
        dtls_transcript(e, type, seq, b, len);
        e->state = ST_CLIENT_SKE;
        return 0;
    case ST_CLIENT_SKE:
        if (type != HS_SERVER_KEY_EXCHANGE || epoch != 0)
            break;
        if (on_server_key_exchange(e, b, len) != 0)
            return -EPROTO;
        dtls_transcript(e, type, seq, b, len);
        e->state = ST_CLIENT_CR;
        return 0;
    case ST_CLIENT_CR:
        if (type == HS_CERTIFICATE_REQUEST && epoch == 0) {
            bool ok;
            if (dtls_parse_cert_request(b, len, &ok) != 0) {
                dtls_fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
                return -EPROTO;
            }
            /* a server that takes no ECDSA P-256 certificate still gets
             * ours: its choice to refuse it */
            e->cert_requested = true;
            dtls_transcript(e, type, seq, b, len);
            e->state = ST_CLIENT_DONE;
            return 0;
        }
        /* fall through - ServerHelloDone without a CertificateRequest */
    case ST_CLIENT_DONE:
        if (type != HS_SERVER_HELLO_DONE || epoch != 0)
            break;
        if (len != 0) {
            dtls_fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
            return -EPROTO;
        }
        dtls_transcript(e, type, seq, b, len);
        return client_keys(e, seq);
    case ST_CLIENT_FINISHED:
        if (type == HS_NEW_SESSION_TICKET && epoch == 0) {
            /* OpenSSL sends one unasked: it is in the transcript, else ignored */
            if (dtls_parse_ticket(b, len) != 0) {
                dtls_fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
                return -EPROTO;
            }
            dtls_transcript(e, type, seq, b, len);
            return 0;
        }
        if (type != HS_FINISHED)
            break;
        if (check_finished(e, epoch, b, len, false) != 0)
            return -EPROTO;
        connected(e);
        return 0;
    default:
        return 0;
    }
    dtls_fail(e, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE);
    return -EPROTO;
}

/* ---- server ---- */

/* HMAC-SHA256(secret, client id || client random), 16 bytes. */
void dtls_cookie_of(const struct dtls_endpoint *e, const uint8_t *client_random, uint8_t *out)
{
    uint8_t msg[32 + 32], mac[CP_SHA256_LEN];
    memcpy(msg, e->client_id, e->client_id_len);
    memcpy(msg + e->client_id_len, client_random, 32);
    dtls_hmac(e->cp, CP_SHA256, e->cookie_secret, DTLS_COOKIE_SECRET, msg, e->client_id_len + 32u, mac);
    memcpy(out, mac, COOKIE_OURS);
}

static int on_client_hello(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len)
{
    struct dtls_client_hello ch;
    int alert;
    int rc13;
    if (dtls13_server_hello_in(e, seq, b, len, &rc13))
        return rc13;
    int f = dtls_parse_client_hello(e, b, len, &ch, &alert);
    if (f != 0) {
        dtls_fail(e, (enum dtls_failure)f, alert);
        return -EPROTO;
    }
    if (e->cookie_secret) {
        uint8_t want[COOKIE_OURS];
        dtls_cookie_of(e, ch.random, want);
        if (ch.cookie_len != COOKIE_OURS || !same(want, ch.cookie, COOKIE_OURS)) {
            /* HelloVerifyRequest (RFC 6347 §4.2.1): its message_seq is the
             * ClientHello's; the next ClientHello comes with the next */
            if (ch.cookie_len)
                e->c.cookies_bad++;
            memcpy(e->cookie, want, COOKIE_OURS);
            e->cookie_len = COOKIE_OURS;
            e->out_seq = seq;
            dtls_flight_begin(e);
            dtls_flight_add(e, IT_HELLO_VERIFY);
            dtls_flight_send(e, false);
            e->c.cookies_sent++;
            e->peer_last = seq;
            e->have_peer_last = true;
            e->in_seq = (uint16_t)(seq + 1);
            return 0;
        }
    }
    memcpy(e->client_random, ch.random, 32);
    e->version = DTLS_V12;
    e->suite_id = ch.suite_id;
    e->group = ch.group;
    e->srtp_profile = ch.srtp_profile;
    e->ems = ch.ems;
    e->ri = ch.ri;
    e->point_formats = ch.point_formats;
    const struct cp *cp = e->cp;
    if (cp->ops->random(cp->self, e->server_random, 32) != 0 ||
        cp->ops->ecdh_keygen(cp->self, (enum cp_group)e->group, e->eph_priv, e->eph_pub) != 0) {
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
        return -EPROTO;
    }
    if (e->versions & DTLS_OFFER_V13) {
        /* RFC 8446 §4.1.3: a server that speaks 1.3 and settles for 1.2
         * says so in its random, for a client that offered 1.3 */
        static const uint8_t sentinel[8] = {'D', 'O', 'W', 'N', 'G', 'R', 'D', 1};
        memcpy(e->server_random + 24, sentinel, 8);
    }
    transcript_init(e, prf_alg(e) == CP_SHA384);
    dtls_transcript(e, HS_CLIENT_HELLO, seq, b, len);
    /* our messages take the ClientHello's message_seq on (as mbedTLS and
     * OpenSSL do after a HelloVerifyRequest) */
    e->out_seq = seq;
    e->peer_last = seq;
    e->have_peer_last = true;
    uint8_t params[4 + CP_PUB_MAX], digest[CP_SHA256_LEN];
    ske_digest(e, params, dtls_ske_params(e, params), digest);
    if (sign(e, digest) != 0)
        return -EPROTO;
    dtls_flight_begin(e);
    dtls_flight_add(e, IT_SERVER_HELLO);
    dtls_flight_add(e, IT_CERTIFICATE);
    dtls_flight_add(e, IT_SERVER_KEY_EXCHANGE);
    if (e->want_client_cert)
        dtls_flight_add(e, IT_CERTIFICATE_REQUEST);
    dtls_flight_add(e, IT_SERVER_HELLO_DONE);
    dtls_flight_send(e, true);
    e->state = e->want_client_cert ? ST_SERVER_CERT : ST_SERVER_CKE;
    return 0;
}

static int on_client_key_exchange(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len)
{
    const uint8_t *pub;
    size_t pl;
    if (dtls_parse_cke(b, len, &pub, &pl) != 0) {
        dtls_fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
        return -EPROTO;
    }
    const struct cp *cp = e->cp;
    int rc = cp->ops->ecdh_shared(cp->self, (enum cp_group)e->group, e->eph_priv, pub, pl, e->premaster);
    wipe(e->eph_priv, sizeof(e->eph_priv));
    if (rc != 0) {
        return dtls_fail_ecdh(e, rc);
    }
    dtls_transcript(e, HS_CLIENT_KEY_EXCHANGE, seq, b, len);
    if (derive_master(e) != 0 || install_keys(e) != 0) {
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
        return -EPROTO;
    }
    e->state = e->want_client_cert ? ST_SERVER_CV : ST_SERVER_FINISHED;
    return 0;
}

static int on_cert_verify(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len)
{
    unsigned alg;
    const uint8_t *sig;
    size_t sl;
    if (dtls_parse_cert_verify(b, len, &alg, &sig, &sl) != 0) {
        dtls_fail(e, DTLS_FAIL_DECODE, DTLS_ALERT_DECODE_ERROR);
        return -EPROTO;
    }
    /* mbedTLS 2.28 signs with SHA-384 under a SHA-384 suite whatever the
     * CertificateRequest offered (RFC 5246 §7.4.8 says it must not): the
     * transcript under SHA-384 is at hand then, and ECDSA over P-256 takes
     * the hash's leftmost 256 bits (FIPS 186-4 §6.4), so it is taken */
    bool sha384 = alg == SIG_ECDSA_SECP384R1_SHA384 && e->th384_on;
    if (alg != SIG_ECDSA_SECP256R1_SHA256 && !sha384) {
        dtls_fail(e, DTLS_FAIL_NO_SHARED_SUITE, DTLS_ALERT_ILLEGAL_PARAMETER);
        return -EPROTO;
    }
    uint8_t digest[CP_HASH_MAX];
    transcript_now(e, sha384 ? CP_SHA384 : CP_SHA256, digest);
    if (e->cp->ops->ecdsa_p256_verify(e->cp->self, e->peer_pub, digest, sig, sl) != 0) {
        dtls_fail(e, DTLS_FAIL_BAD_SIGNATURE, DTLS_ALERT_DECRYPT_ERROR);
        return -EPROTO;
    }
    dtls_transcript(e, HS_CERTIFICATE_VERIFY, seq, b, len);
    e->state = ST_SERVER_FINISHED;
    return 0;
}

/* The client's Finished checked: flight 6, and we are done. */
static int server_finish(struct dtls_endpoint *e, uint8_t epoch, uint16_t seq, const uint8_t *b, size_t len)
{
    if (check_finished(e, epoch, b, len, true) != 0)
        return -EPROTO;
    dtls_transcript(e, HS_FINISHED, seq, b, len);
    if (finished_data(e, false, e->finished) != 0) {
        dtls_fail(e, DTLS_FAIL_CRYPTO, DTLS_ALERT_INTERNAL_ERROR);
        return -EPROTO;
    }
    e->peer_last = seq;
    e->have_peer_last = true;
    dtls_flight_begin(e);
    dtls_flight_add(e, IT_CHANGE_CIPHER_SPEC);
    dtls_flight_add(e, IT_FINISHED);
    dtls_flight_send(e, false); /* the final flight: sent again only when the client repeats its own */
    connected(e);
    return 0;
}

static int server_message(struct dtls_endpoint *e, uint8_t type, uint8_t epoch, uint16_t seq, const uint8_t *b,
                          size_t len)
{
    switch (e->state) {
    case ST_SERVER_HELLO:
        if (type != HS_CLIENT_HELLO || epoch != 0) {
            /* nothing accepted yet: a stray message is foreign, not the
             * end of the handshake; keep waiting */
            e->c.records_dropped++;
            return 0;
        }
        return on_client_hello(e, seq, b, len);
    case ST_SERVER_CERT:
        if (type == HS_CLIENT_KEY_EXCHANGE) {
            dtls_fail(e, DTLS_FAIL_BAD_CERT, DTLS_ALERT_HANDSHAKE_FAILURE); /* RFC 5246 §7.4.6 */
            return -EPROTO;
        }
        if (type != HS_CERTIFICATE || epoch != 0)
            break;
        if (take_certificate(e, b, len) != 0)
            return -EPROTO;
        dtls_transcript(e, type, seq, b, len);
        e->state = ST_SERVER_CKE;
        return 0;
    case ST_SERVER_CKE:
        if (type != HS_CLIENT_KEY_EXCHANGE || epoch != 0)
            break;
        return on_client_key_exchange(e, seq, b, len);
    case ST_SERVER_CV:
        if (type != HS_CERTIFICATE_VERIFY || epoch != 0)
            break;
        return on_cert_verify(e, seq, b, len);
    case ST_SERVER_FINISHED:
        if (type != HS_FINISHED)
            break;
        return server_finish(e, epoch, seq, b, len);
    default:
        return 0;
    }
    dtls_fail(e, DTLS_FAIL_UNEXPECTED, DTLS_ALERT_UNEXPECTED_MESSAGE);
    return -EPROTO;
}

int dtls_on_message(struct dtls_endpoint *e, uint8_t type, uint8_t epoch, const uint8_t *b, size_t len)
{
    uint16_t seq = e->in_seq;
    bool server_waiting = e->is_server && e->state == ST_SERVER_HELLO;
    uint16_t before = e->in_seq;
    int rc = dtls_is13(e) && e->state >= ST13_CLIENT_EE ? dtls13_on_message(e, type, epoch, seq, b, len)
             : e->is_server                            ? server_message(e, type, epoch, seq, b, len)
                                                       : client_message(e, type, epoch, seq, b, len);
    /* in_seq moves on for every message taken; a server's foreign first
     * message leaves it (and a HelloVerifyRequest set it already) */
    if (rc == 0 && e->in_seq == before && !(server_waiting && e->state == ST_SERVER_HELLO))
        e->in_seq++;
    return rc;
}

void dtls_on_repeat(struct dtls_endpoint *e)
{
    if (dtls_is13(e) && dtls13_on_repeat(e))
        return;
    if (e->state == ST_FAILED || e->tx_pending || e->n_items == 0)
        return;
    e->tx_item = 0;
    e->tx_off = 0;
    e->tx_pending = true;
    e->c.retransmits_on_repeat++;
}

/* ---- the engine's entry points ---- */

int dtls_init(struct dtls_endpoint *e, const struct dtls_config *cfg, uint64_t now)
{
    /* the record set up by dtls_record_reset, for the same role */
    if (!cfg->rec || !dtls_record_is_bound(cfg->rec) ||
        dtls_crec(cfg->rec)->is_client == cfg->is_server)
        return -EINVAL;
    if (!cfg->cp || !cfg->cert || !cfg->peer_fingerprint ||
        (cfg->mtu && cfg->mtu < DTLS_MTU_MIN) || (cfg->is_server && cfg->cookie_secret && !cfg->client_id) ||
        cfg->client_id_len > 32)
        return -EINVAL;
    memset(e, 0, sizeof(*e));
    e->cp = cfg->cp;
    e->cert = cfg->cert;
    e->rec = cfg->rec;
    memcpy(e->peer_fp, cfg->peer_fingerprint, DTLS_FP_LEN);
    e->is_server = cfg->is_server;
    e->want_client_cert = !cfg->no_client_cert;
    e->cookie_secret = cfg->is_server ? cfg->cookie_secret : NULL;
    e->client_id_len = cfg->client_id_len;
    if (cfg->client_id_len)
        memcpy(e->client_id, cfg->client_id, cfg->client_id_len);
    e->suites = cfg->suites ? cfg->suites & DTLS_OFFER_ALL_SUITES : DTLS_OFFER_ALL_SUITES;
    e->groups = cfg->groups ? cfg->groups & DTLS_OFFER_ALL_GROUPS : DTLS_OFFER_ALL_GROUPS;
    e->srtp_offer = cfg->srtp & DTLS_SRTP_ALL;
    e->versions = cfg->versions ? cfg->versions & DTLS_OFFER_ALL_VERSIONS : DTLS_OFFER_V12;
    e->keylog = cfg->keylog;
    e->t.ku_after = cfg->key_update_after >= UINT32_MAX ? UINT32_MAX : (uint32_t)cfg->key_update_after;
    if (e->keylog)
        e->keylog[0] = '\0';
    /* a client lists the curves it takes for the peer's certificate too
     * (RFC 8422 §4): without P-256 no ECDSA P-256 server could answer */
    if (!e->suites || !e->groups || (!e->is_server && !(e->groups & DTLS_OFFER_P256)))
        return -EINVAL;
    e->mtu = cfg->mtu ? cfg->mtu : DTLS_MTU;
    e->rto_initial_ms = cfg->rto_initial_ms ? cfg->rto_initial_ms : 500;
    e->rto_max_ms = cfg->rto_max_ms ? cfg->rto_max_ms : 8000;
    if (e->rto_max_ms < e->rto_initial_ms)
        e->rto_max_ms = e->rto_initial_ms;
    e->rto_ms = e->rto_initial_ms;
    e->fail_alert = -1;
    e->t_retx = UINT64_MAX;
    e->now = now;
    dtls_record_rewind(e->rec); /* epoch 0 again; its key area, counters and role stay */
    if (e->is_server) {
        e->state = ST_SERVER_HELLO;
        return 0;
    }
    e->state = ST_CLIENT_HELLO;
    int rc = e->cp->ops->random(e->cp->self, e->client_random, 32);
    if (rc == 0)
        rc = e->cp->ops->random(e->cp->self, &e->ext_order, 1);
    if (rc != 0)
        return rc;
    rc = dtls13_client_init(e);
    if (rc != 0)
        return rc;
    transcript_init(e, (e->suites & DTLS_OFFER_AES_256_GCM) != 0);
    client_hello(e);
    return 0;
}

/* One record of a datagram; returns 1 when it was the handshake's, 0 when
 * not, -EPROTO when it failed the handshake. */
static int record_in(struct dtls_endpoint *e, const uint8_t *r, size_t rl)
{
    uint8_t type = r[0];
    uint16_t epoch = wire_get16(r + 3);
    if (r[1] != 0xfe || (r[2] != 0xfd && r[2] != 0xff) || epoch > (dtls_is13(e) ? 0 : 1)) {
        e->c.records_dropped++;
        return 0;
    }
    const uint8_t *body = r + DTLS_RECORD_HEADER;
    size_t bl = rl - DTLS_RECORD_HEADER;
    uint8_t plain[DTLS_REASM_BYTES + HS_HEADER];
    if (epoch == 1) {
        if (type == DTLS_CT_CHANGE_CIPHER_SPEC) {
            e->c.records_dropped++;
            return 0;
        }
        if (dtls_crec(e->rec)->suite == DTLS_SUITE_NONE) {
            /* before our keys: reordered ahead of the message they come
             * from (the client's Finished ahead of its ClientKeyExchange);
             * a server keeps one to read once they are in, more come again */
            if (rl <= EARLY_MAX && e->early_len == 0 && e->is_server && e->state != ST_SERVER_HELLO) {
                memcpy(e->early, r, rl);
                e->early_len = (uint8_t)rl;
                e->c.records_held++;
                return 1;
            }
            e->c.records_dropped++;
            return 0;
        }
        size_t used;
        uint8_t t;
        int n = dtls_record_open(e->rec, r, rl, &used, &t, plain, sizeof(plain));
        if (n < 0) {
            e->c.records_dropped++;
            return 0;
        }
        type = t;
        body = plain;
        bl = (size_t)n;
    }
    switch (type) {
    case DTLS_CT_HANDSHAKE: {
        int rc = dtls_fragments_in(e, (uint8_t)epoch, body, bl);
        if (rc > 0)
            e->c.records_in++;
        else if (rc == 0)
            e->c.records_dropped++;
        return rc < 0 ? -EPROTO : rc;
    }
    case DTLS_CT_CHANGE_CIPHER_SPEC:
        if (bl != 1 || body[0] != 1 || e->state == ST_SERVER_HELLO) {
            e->c.records_dropped++;
            return 0;
        }
        e->c.records_in++;
        return 1; /* epochs are explicit in DTLS records: nothing to switch */
    case DTLS_CT_ALERT:
        if (bl != 2) {
            e->c.records_dropped++;
            return 0;
        }
        e->c.records_in++;
        e->c.alerts_in++;
        if (body[0] == DTLS_ALERT_FATAL || body[1] == DTLS_ALERT_CLOSE_NOTIFY) {
            if (e->state == ST_SERVER_HELLO && epoch == 0) {
                e->c.records_dropped++; /* before anything was accepted: foreign */
                return 0;
            }
            dtls_fail(e, DTLS_FAIL_PEER_ALERT, -1);
            e->fail_alert = body[1];
            return e->state == ST_FAILED ? -EPROTO : 1;
        }
        return 1;
    default:
        e->c.records_dropped++; /* application data is the connection's, not ours */
        return 0;
    }
}

enum engine_input dtls_handle_input(struct dtls_endpoint *e, const uint8_t *d, size_t len, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    e->c.datagrams_in++;
    if (e->state == ST_FAILED || (e->state == ST_CONNECTED && !e->is_server && !e->t.await_ack))
        return ENGINE_IN_IGNORED;
    bool ours = false;
    size_t off = 0;
    while (off < len) {
        size_t rl;
        bool unified = (d[off] & 0xe0) == 0x20; /* RFC 9147 §4: 001CSLEE */
        if (unified) {
            struct dtls13_hdr h;
            if (!(e->versions & DTLS_OFFER_V13) || dtls13_parse_header(d + off, len - off, &h) != 0) {
                e->c.records_dropped++;
                break;
            }
            rl = h.rec_len;
        } else {
            if (len - off < DTLS_RECORD_HEADER) {
                e->c.records_dropped++;
                break;
            }
            rl = DTLS_RECORD_HEADER + wire_get16(d + off + 11);
            if (rl > len - off) {
                e->c.records_dropped++;
                break;
            }
        }
        int rc = unified ? dtls13_record_in(e, d + off, rl) : record_in(e, d + off, rl);
        if (rc < 0)
            return ENGINE_IN_FATAL;
        ours |= rc > 0;
        off += rl;
        if (e->early_len && dtls_crec(e->rec)->suite != DTLS_SUITE_NONE) {
            /* the keys came in with this record: the one held for them now */
            uint8_t held[EARLY_MAX];
            size_t hl = e->early_len;
            memcpy(held, e->early, hl);
            e->early_len = 0;
            if (record_in(e, held, hl) < 0)
                return ENGINE_IN_FATAL;
        }
    }
    return ours ? ENGINE_IN_ACCEPTED : ENGINE_IN_IGNORED;
}

void dtls_handle_timeout(struct dtls_endpoint *e, uint64_t now)
{
    if (now < e->now)
        return;
    e->now = now;
    if (e->t_retx == UINT64_MAX || now < e->t_retx || e->state == ST_FAILED ||
        (e->state == ST_CONNECTED && !e->t.await_ack && !e->p.ku_out))
        return;
    if (e->rto_ms >= e->rto_max_ms) {
        if (e->state == ST_CONNECTED && !e->p.ku_out) { /* 1.3: our final flight never acknowledged; nothing more to do */
            e->t.await_ack = false;
            e->t_retx = UINT64_MAX;
            return;
        }
        if (e->state != ST_CONNECTED) {
            dtls_fail(e, DTLS_FAIL_TIMEOUT, -1);
            return;
        }
        /* a KeyUpdate goes on at the longest timer: the connection lives
         * on with the keys it has until the peer answers */
    }
    e->rto_ms = e->rto_ms * 2 < e->rto_max_ms ? e->rto_ms * 2 : e->rto_max_ms;
    e->t_retx = now + (uint64_t)e->rto_ms * 1000000u;
    e->tx_item = 0;
    e->tx_off = 0;
    e->tx_pending = e->n_items > 0;
    e->c.retransmit_timeouts++;
}

size_t dtls_poll_transmit(struct dtls_endpoint *e, uint8_t *buf, size_t cap, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    if (dtls13_key_update_due(e))
        dtls13_key_update(e, false); /* the write epoch's record limit (dtls_config.key_update_after) */
    return dtls_flight_datagram(e, buf, cap);
}

enum dtls_event_type dtls_poll_event(struct dtls_endpoint *e, struct dtls_ev *ev)
{
    ev->failure = DTLS_FAIL_NONE;
    if (e->n_events == 0)
        return ev->type = DTLS_EV_NONE;
    ev->type = (enum dtls_event_type)e->events[0];
    e->events[0] = e->events[1];
    e->n_events--;
    if (ev->type == DTLS_EV_FAILED)
        ev->failure = dtls_failure(e);
    return ev->type;
}

uint64_t dtls_next_timeout(const struct dtls_endpoint *e)
{
    if (e->alert_pending || e->tx_pending || e->t.ack_pending || dtls13_key_update_due(e))
        return e->now;
    return e->t_retx;
}

int dtls_handle_ack(struct dtls_endpoint *e, const uint8_t *body, size_t len)
{
    return dtls_is13(e) ? dtls13_ack_in(e, body, len) : 0;
}

int dtls_open_record(struct dtls_endpoint *e, const uint8_t *in, size_t len, size_t *used, uint8_t *type,
                     uint8_t *out, size_t cap, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    return dtls13_open_record(e, in, len, used, type, out, cap);
}

int dtls_key_update(struct dtls_endpoint *e, bool request_peer, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    return dtls13_key_update(e, request_peer);
}

uint16_t dtls_write_epoch(const struct dtls_endpoint *e)
{
    return dtls_is13(e) ? e->p.w_epoch : 0;
}

uint16_t dtls_read_epoch(const struct dtls_endpoint *e)
{
    return dtls_is13(e) ? e->p.r_epoch : 0;
}

bool dtls_awaiting_ack(const struct dtls_endpoint *e)
{
    return dtls_is13(e) && e->t.await_ack;
}

uint16_t dtls_version(const struct dtls_endpoint *e)
{
    return e->version;
}

enum dtls_suite dtls_suite(const struct dtls_endpoint *e)
{
    return (enum dtls_suite)dtls_crec(e->rec)->suite;
}

enum cp_group dtls_group(const struct dtls_endpoint *e)
{
    return (enum cp_group)e->group;
}

uint16_t dtls_srtp_profile(const struct dtls_endpoint *e)
{
    return e->srtp_profile;
}

size_t dtls_srtp_keying_len(uint16_t profile)
{
    switch (profile) {
    case 0x0001:
    case 0x0002: return 2 * (16 + 14);
    case 0x0007: return 2 * (16 + 12);
    case 0x0008: return 2 * (32 + 12);
    default: return 0;
    }
}

int dtls_export_keying(const struct dtls_endpoint *e, const char *label, uint8_t *out, size_t len)
{
    if (!e->have_master || len > 255)
        return -EINVAL;
    if (dtls_is13(e))
        return dtls13_export(e, label, out, len);
    return dtls_prf(e->cp, prf_alg(e), e->master, sizeof(e->master), label, e->client_random, 32, e->server_random,
                    32, out, len);
}

int dtls_keylog_line(const struct dtls_endpoint *e, char *out)
{
    out[0] = 0;
    if (!e->have_master)
        return -ENOENT;
    if (dtls_is13(e))
        return -ENOTSUP; /* 1.3 logs several secrets (not yet) */
    int n = sprintf(out, "CLIENT_RANDOM ");
    for (int i = 0; i < 32; i++)
        n += sprintf(out + n, "%02x", e->client_random[i]);
    out[n++] = ' ';
    for (int i = 0; i < 48; i++)
        n += sprintf(out + n, "%02x", e->master[i]);
    out[n++] = '\n';
    out[n] = '\0';
    return 0;
}

enum dtls_failure dtls_failure(const struct dtls_endpoint *e)
{
    return (enum dtls_failure)e->failure;
}

int dtls_failure_alert(const struct dtls_endpoint *e)
{
    return e->fail_alert;
}

const struct dtls_counters *dtls_counters(const struct dtls_endpoint *e)
{
    return &e->c;
}

bool dtls_connected(const struct dtls_endpoint *e)
{
    return e->state == ST_CONNECTED;
}

bool dtls_failed(const struct dtls_endpoint *e)
{
    return e->state == ST_FAILED;
}

void dtls_free(struct dtls_endpoint *e)
{
    wipe(e, sizeof(*e));
}
