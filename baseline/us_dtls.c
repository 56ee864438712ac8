/* SPDX-License-Identifier: MIT */
/* DTLS on mbedTLS's ssl context: per-worker configs, per-endpoint contexts. */
#include "us_dtls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/ssl_ciphersuites.h>

#include "cp.h"
#include "dtls_cert.h"
#include "keylog.h"

#define HS_TIMEOUT_MIN_MS 500
#define HS_TIMEOUT_MAX_MS 8000

static const int suites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0};
static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                              MBEDTLS_ECP_DP_NONE};
static const mbedtls_ssl_srtp_profile srtp_profiles[] = {MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
                                                         MBEDTLS_TLS_SRTP_UNSET};

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    /* a datagram lost on the way (full socket buffer) is still "sent":
     * DTLS and SCTP retransmit */
    us_ep_send(ctx, buf, len);
    return (int)len;
}

/* DTLS record header (RFC 6347 §4.1): type, version (2), epoch (2),
 * sequence number (6), length (2). */
#define REC_HDR    13u
#define EPOCH_KEYS 1u /* the only epoch after the handshake: renegotiation is off */

/* Drops what is left of the datagram being read as one bad record. */
static void rest_refused(struct us_ep *ep)
{
    ri_add(ep->wk->m->live.drops[RI_DROP_BAD_RECORD], 1);
    ep->in = NULL;
    ep->in_len = 0;
}

/* After the handshake: true when mbedTLS may have the record r (n bytes,
 * its header checked). mbedTLS discards stale and replayed records
 * silently, and answers an epoch-0 ClientHello whose cookie is still
 * valid (60 s, same address) by resetting the context
 * (MBEDTLS_ERR_SSL_CLIENT_RECONNECT): the connection would end on a
 * replayed ClientHello. RFC 6347 §4.2.8 wants the association kept until
 * the client completes a new handshake; the swarm never reconnects from
 * the same port, so such a ClientHello is dropped like every other record
 * outside epoch 1 (a stale flight, a HelloVerifyRequest). Records of epoch
 * 1 other than application data are rare (alerts, a Finished the peer
 * sends again because it missed our last flight): mbedtls_ssl_check_record
 * judges them on a copy (tag, replay window) without changing the
 * context, so a replayed Finished is refused and a retransmitted one
 * (a new sequence number) still makes mbedTLS resend its flight. */
static bool record_wanted(const struct us_ep *ep, const uint8_t *r, size_t n)
{
    if (((unsigned)r[3] << 8 | r[4]) != EPOCH_KEYS)
        return false;
    if (r[0] == MBEDTLS_SSL_MSG_APPLICATION_DATA)
        return true; /* the fast path: mbedTLS checks it as it reads it */
    uint8_t copy[US_DGRAM_MAX];
    if (n > sizeof(copy))
        return false;
    memcpy(copy, r, n);
    return mbedtls_ssl_check_record(&ep->ssl, copy, n) == 0;
}

/* mbedTLS's f_recv: the datagram in ep->in one record at a time (a DTLS
 * datagram holds whole records), so that after the handshake each record
 * is judged on its own before mbedTLS sees it. Refused records, a record
 * that runs past the datagram's end (with the rest of it) and an
 * application record mbedTLS read without giving plaintext (a bad tag, a
 * replay: ep->rec_app still set when it asks for the next one) count as
 * bad_record. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct us_ep *ep = ctx;
    if (ep->rec_app) {
        ri_add(ep->wk->m->live.drops[RI_DROP_BAD_RECORD], 1);
        ep->rec_app = false;
    }
    while (ep->in) {
        const uint8_t *r = ep->in;
        size_t n = ep->in_len;
        if (n >= REC_HDR && REC_HDR + ((size_t)r[11] << 8 | r[12]) <= n)
            n = REC_HDR + ((size_t)r[11] << 8 | r[12]);
        else if (ep->hs_done) {
            rest_refused(ep);
            break;
        }
        if (n > len) /* cannot happen: records of a US_DGRAM_MAX datagram */
            n = len;
        ep->in = n < ep->in_len ? r + n : NULL;
        ep->in_len -= n;
        if (ep->hs_done && !record_wanted(ep, r, n)) {
            ri_add(ep->wk->m->live.drops[RI_DROP_BAD_RECORD], 1);
            continue;
        }
        ep->rec_app = ep->hs_done && r[0] == MBEDTLS_SSL_MSG_APPLICATION_DATA;
        memcpy(buf, r, n);
        return (int)n;
    }
    return MBEDTLS_ERR_SSL_WANT_READ;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct us_ep *ep = ctx;
    mbed_glue_timer_arm(&ep->timer, ep->wk->now, int_ms, fin_ms);
}

static int timer_get(void *ctx)
{
    struct us_ep *ep = ctx;
    return mbed_glue_timer_state(&ep->timer, ep->wk->now);
}

/* The peer is who its fingerprint says (SDP in a real stack), no CA. */
static int verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct us_ep *ep = ctx;
    if (depth != 0) {
        *flags = 0;
        return 0;
    }
    if (!mbed_glue_fingerprint_is(crt, ep->peer_fp))
        *flags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;
    else
        *flags = 0;
    return 0;
}

/* --keylog: the NSS line of every handshake (worker-local buffer). */
static int export_keys(void *ctx, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                       size_t keylen, size_t ivlen, const unsigned char cr[32],
                       const unsigned char sr[32], mbedtls_tls_prf_types prf)
{
    struct us_worker *wk = ctx;
    (void)kb, (void)maclen, (void)keylen, (void)ivlen, (void)sr, (void)prf;
    if (wk->keylog_n >= wk->keylog_cap)
        return 0;
    keylog_line(wk->keylog + (size_t)200 * wk->keylog_n++, cr, ms);
    return 0;
}

/* One of our certificates, parsed by mbedTLS with its key loaded. */
static int cert_make(struct us_cert *u, const struct cp *cp)
{
    mbedtls_x509_crt_init(&u->crt);
    mbedtls_pk_init(&u->key);
    struct dtls_cert c;
    int rc = dtls_cert_generate(&c, cp);
    if (rc == 0)
        rc = mbedtls_x509_crt_parse_der(&u->crt, c.der, c.der_len);
    if (rc == 0)
        rc = mbedtls_pk_setup(&u->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(u->key), c.priv, sizeof(c.priv));
    if (rc == 0)
        rc = mbedtls_ecp_point_read_binary(&mbedtls_pk_ec(u->key)->grp, &mbedtls_pk_ec(u->key)->Q, c.pub,
                                           sizeof(c.pub));
    memcpy(u->fingerprint, c.fingerprint, sizeof(u->fingerprint));
    dtls_cert_free(&c);
    return rc;
}

static void cert_free(struct us_cert *u)
{
    mbedtls_x509_crt_free(&u->crt);
    mbedtls_pk_free(&u->key);
}

int us_dtls_worker_init(struct us_worker *wk, uint64_t seed)
{
    wk->drbg_state = seed * 0x9e3779b97f4a7c15ull + wk->idx + 1;
    mbedtls_ctr_drbg_init(&wk->drbg);
    mbedtls_ssl_cookie_init(&wk->cookie);
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < US_N_CERTS; i++)
            mbedtls_ssl_config_init(&wk->conf[r][i]);
    wk->conf_ready = true;
    int rc = mbed_glue_drbg_seed(&wk->drbg, &wk->drbg_state, "swarmgen-us");
    if (rc == 0)
        rc = mbedtls_ssl_cookie_setup(&wk->cookie, mbedtls_ctr_drbg_random, &wk->drbg);
    struct cp cp;
    if (rc == 0)
        rc = cp_default_create(&cp);
    for (int i = 0; rc == 0 && i < US_N_CERTS; i++) {
        rc = cert_make(&wk->certs[i], &cp);
        if (i == US_N_CERTS - 1 || rc != 0)
            cp_destroy(&cp);
    }
    for (int r = 0; rc == 0 && r < 2; r++) {
        for (int i = 0; rc == 0 && i < US_N_CERTS; i++) {
            mbedtls_ssl_config *c = &wk->conf[r][i];
            rc = mbedtls_ssl_config_defaults(c, r ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                             MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                             MBEDTLS_SSL_PRESET_DEFAULT);
            if (rc != 0)
                break;
            mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &wk->drbg);
            mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
                                         MBEDTLS_SSL_MINOR_VERSION_3);
            mbedtls_ssl_conf_ciphersuites(c, suites);
            mbedtls_ssl_conf_curves(c, curves);
            /* self-signed certificates: checked by fingerprint in verify() */
            mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_OPTIONAL);
            mbedtls_ssl_conf_handshake_timeout(c, HS_TIMEOUT_MIN_MS, HS_TIMEOUT_MAX_MS);
            if (wk->keylog_cap && !r) /* one line per connection: the client's */
                mbedtls_ssl_conf_export_keys_ext_cb(c, export_keys, wk);
            rc = mbedtls_ssl_conf_dtls_srtp_protection_profiles(c, srtp_profiles);
            if (rc == 0)
                rc = mbedtls_ssl_conf_own_cert(c, &wk->certs[i].crt, &wk->certs[i].key);
            if (rc == 0 && r)
                mbedtls_ssl_conf_dtls_cookies(c, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                              &wk->cookie);
        }
    }
    return rc;
}

void us_dtls_worker_free(struct us_worker *wk)
{
    if (!wk->conf_ready)
        return;
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < US_N_CERTS; i++)
            mbedtls_ssl_config_free(&wk->conf[r][i]);
    for (int i = 0; i < US_N_CERTS; i++)
        cert_free(&wk->certs[i]);
    mbedtls_ssl_cookie_free(&wk->cookie);
    mbedtls_ctr_drbg_free(&wk->drbg);
    wk->conf_ready = false;
}

int us_dtls_start(struct us_ep *ep, uint32_t cert, const uint8_t peer_fp[32])
{
    struct us_worker *wk = ep->wk;
    bool server = ep->side == 1;
    memcpy(ep->peer_fp, peer_fp, 32);
    ep->timer.fin_ns = 0;
    ep->in = NULL;
    ep->rec_app = false;
    ep->hs_done = false;
    mbedtls_ssl_init(&ep->ssl);
    ep->ssl_on = true;
    int rc = mbedtls_ssl_setup(&ep->ssl, &wk->conf[server][cert % US_N_CERTS]);
    if (rc != 0)
        return rc;
    mbedtls_ssl_set_bio(&ep->ssl, ep, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&ep->ssl, ep, timer_set, timer_get);
    mbedtls_ssl_set_verify(&ep->ssl, verify, ep);
    /* datagrams up to US_DTLS_MTU: an SCTP packet of US_SCTP_MTU fits one record */
    mbedtls_ssl_set_mtu(&ep->ssl, US_DTLS_MTU);
    if (server)
        return mbedtls_ssl_set_client_transport_id(&ep->ssl, ep->client_id, sizeof(ep->client_id));
    rc = us_dtls_step(ep);
    return rc < 0 ? rc : 0;
}

int us_dtls_step(struct us_ep *ep)
{
    if (ep->hs_done)
        return 0;
    int rc = mbedtls_ssl_handshake(&ep->ssl);
    if (rc == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
        /* the HelloVerifyRequest is out; wait for the ClientHello with the cookie */
        mbedtls_ssl_session_reset(&ep->ssl);
        mbedtls_ssl_set_client_transport_id(&ep->ssl, ep->client_id, sizeof(ep->client_id));
        return 0;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (rc != 0)
        return rc;
    if (mbedtls_ssl_get_verify_result(&ep->ssl) != 0)
        return MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    ep->hs_done = true;
    ep->timer.fin_ns = 0;
    return 1;
}

int us_dtls_read(struct us_ep *ep, uint8_t *buf, size_t cap)
{
    for (;;) {
        size_t left = ep->in ? ep->in_len : 0;
        int rc = mbedtls_ssl_read(&ep->ssl, buf, cap);
        if (rc > 0) {
            ep->rec_app = false;
            return rc;
        }
        /* WANT_READ: mbedTLS consumed what it was given, or stopped after
         * a record that gives nothing (a warning alert): go on while it
         * takes records and some are left. 0 (the transport closed) cannot
         * come from bio_recv. MBEDTLS_ERR_SSL_TIMEOUT cannot come either:
         * the retransmission timer is cancelled when the handshake ends and
         * the read timeout is 0 (none). The records mbedTLS discards
         * silently (RFC 6347 §4.1.2.7: invalid records are dropped) are
         * counted in bio_recv; MBEDTLS_ERR_SSL_CLIENT_RECONNECT cannot come
         * since no epoch-0 record reaches it after the handshake. Anything
         * else ends the connection: a fatal alert, close_notify, or an
         * authenticated record mbedTLS cannot accept. */
        if (rc == 0 || rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
            if (ep->in && ep->in_len < left)
                continue;
            return 0;
        }
        return rc;
    }
}

int us_dtls_write(struct us_ep *ep, const uint8_t *pkt, size_t len)
{
    int rc = mbedtls_ssl_write(&ep->ssl, pkt, len);
    if (rc < 0) { /* lost on the way out; SCTP retransmits */
        ri_add(ep->wk->m->live.drops[RI_DROP_TX_FULL], 1);
        return rc;
    }
    return 0;
}

bool us_dtls_timer_due(const struct us_ep *ep)
{
    return ep->ssl_on && !ep->hs_done && mbed_glue_timer_state(&ep->timer, ep->wk->now) == 2;
}

void us_dtls_free(struct us_ep *ep)
{
    if (ep->ssl_on)
        mbedtls_ssl_free(&ep->ssl);
    ep->ssl_on = false;
    ep->hs_done = false;
    ep->timer.fin_ns = 0;
}
