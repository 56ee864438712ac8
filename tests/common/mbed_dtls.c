/* SPDX-License-Identifier: MIT */
/* An mbedTLS 2.28 DTLS 1.2 endpoint, sans-I/O: datagrams through queues,
 * mbedTLS's timer on the caller's `now`, the peer by fingerprint. */
#include "mbed_dtls.h"

#include <errno.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_internal.h> /* the handshake's ECDH context: which group it used */
#include <mbedtls/x509_crt.h>

/* ---- certificates ---- */

int mbed_dtls_cert_generate(struct mbed_dtls_cert *c, uint64_t seed)
{
    mbedtls_x509_crt_init(&c->crt);
    mbedtls_pk_init(&c->key);
    mbedtls_ctr_drbg_context d;
    mbedtls_ctr_drbg_init(&d);
    uint64_t state = seed; /* outlives d, freed below */
    int rc = mbed_glue_drbg_seed(&d, &state, "mbed-dtls-cert");
    if (rc == 0)
        rc = mbedtls_pk_setup(&c->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(c->key),
                                 mbedtls_ctr_drbg_random, &d);
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    unsigned char der[1024];
    if (rc == 0) {
        mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&w, &c->key);
        mbedtls_x509write_crt_set_issuer_key(&w, &c->key);
        rc = mbedtls_mpi_lset(&serial, (mbedtls_mpi_sint)(seed & 0x7fffffff) + 1);
    }
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_serial(&w, &serial);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_subject_name(&w, "CN=swarmgen");
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_issuer_name(&w, "CN=swarmgen");
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20991231235959");
    int len = 0;
    if (rc == 0) {
        len = mbedtls_x509write_crt_der(&w, der, sizeof(der), mbedtls_ctr_drbg_random, &d);
        rc = len < 0 ? len : 0;
    }
    if (rc == 0) /* the DER is written at the end of the buffer */
        rc = mbedtls_x509_crt_parse_der(&c->crt, der + sizeof(der) - len, (size_t)len);
    if (rc == 0)
        rc = mbedtls_sha256_ret(c->crt.raw.p, c->crt.raw.len, c->fingerprint, 0);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
    mbedtls_ctr_drbg_free(&d);
    return rc;
}

void mbed_dtls_cert_free(struct mbed_dtls_cert *c)
{
    mbedtls_x509_crt_free(&c->crt);
    mbedtls_pk_free(&c->key);
}

/* ---- mbedTLS's callbacks: I/O through the queues, time from `now` ---- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct mbed_dtls *e = ctx;
    if (e->out_n == MBED_DTLS_QUEUE || len > MBED_DTLS_DGRAM) {
        e->send_blocked = true;
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    unsigned k = (e->out_head + e->out_n) % MBED_DTLS_QUEUE;
    memcpy(e->out[k], buf, len);
    e->out_len[k] = (uint16_t)len;
    e->out_n++;
    e->c.datagrams_out++;
    return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct mbed_dtls *e = ctx;
    if (e->in_n == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = e->in_len[e->in_head] < len ? e->in_len[e->in_head] : len;
    memcpy(buf, e->in[e->in_head], n);
    e->in_head = (uint8_t)((e->in_head + 1) % MBED_DTLS_QUEUE);
    e->in_n--;
    return (int)n;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct mbed_dtls *e = ctx;
    mbed_glue_timer_arm(&e->timer, e->now, int_ms, fin_ms);
}

static int timer_get(void *ctx)
{
    struct mbed_dtls *e = ctx;
    return mbed_glue_timer_state(&e->timer, e->now);
}

/* The peer is who its fingerprint says, nothing else (no CA). A mismatch
 * returns an error, which mbedTLS takes as fatal even with
 * MBEDTLS_SSL_VERIFY_OPTIONAL: it sends a fatal alert (access_denied) and
 * fails the handshake. */
static int verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct mbed_dtls *e = ctx;
    if (depth != 0) {
        *flags = 0;
        return 0;
    }
    if (!mbed_glue_fingerprint_is(crt, e->peer_fp)) {
        e->c.fingerprint_mismatches++;
        e->bad_peer_cert = true;
        *flags |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
        return MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    }
    *flags = 0;
    return 0;
}

static mbedtls_ecp_group_id handshake_group(const mbedtls_ssl_context *ssl)
{
    if (!ssl->handshake)
        return MBEDTLS_ECP_DP_NONE;
#if defined(MBEDTLS_ECDH_LEGACY_CONTEXT)
    return ssl->handshake->ecdh_ctx.grp.id;
#else
    return ssl->handshake->ecdh_ctx.grp_id;
#endif
}

static int export_keys(void *ctx, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                       size_t keylen, size_t ivlen, const unsigned char cr[32],
                       const unsigned char sr[32], mbedtls_tls_prf_types prf)
{
    struct mbed_dtls *e = ctx;
    (void)kb, (void)maclen, (void)keylen, (void)ivlen;
    memcpy(e->master, ms, 48);
    memcpy(e->randoms, cr, 32);
    memcpy(e->randoms + 32, sr, 32);
    e->prf = prf;
    e->have_master = true;
    e->group = handshake_group(&e->ssl); /* the key exchange is done by now */
    return 0;
}

/* ---- set-up ---- */

static const struct {
    uint8_t bit;
    int id;
} suite_table[] = {
    {MBED_DTLS_AES_128_GCM, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
    {MBED_DTLS_AES_256_GCM, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
    {MBED_DTLS_CHACHA20, MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
};

static void set_client_id(struct mbed_dtls *e)
{
    if (e->is_server && e->client_id_len)
        mbedtls_ssl_set_client_transport_id(&e->ssl, e->client_id, e->client_id_len);
}

int mbed_dtls_init(struct mbed_dtls *e, const struct mbed_dtls_config *cfg, uint64_t now)
{
    memset(e, 0, sizeof(*e));
    mbedtls_ssl_init(&e->ssl);
    mbedtls_ssl_config_init(&e->conf);
    mbedtls_ctr_drbg_init(&e->drbg);
    mbedtls_ssl_cookie_init(&e->cookie);
    e->alert_in = -1;
    e->now = now;
    e->is_server = cfg->is_server;
    e->cookies = cfg->is_server && cfg->cookies;
    if (!cfg->cert || !cfg->peer_fingerprint || (cfg->mtu && cfg->mtu > MBED_DTLS_DGRAM) ||
        cfg->client_id_len > sizeof(e->client_id) ||
        (e->cookies && (!cfg->client_id || !cfg->client_id_len)))
        return -EINVAL;
    memcpy(e->peer_fp, cfg->peer_fingerprint, 32);
    if (cfg->client_id_len)
        memcpy(e->client_id, cfg->client_id, cfg->client_id_len);
    e->client_id_len = cfg->client_id_len;
    uint8_t suites = cfg->suites ? cfg->suites : MBED_DTLS_ALL_SUITES;
    uint8_t groups = cfg->groups ? cfg->groups : MBED_DTLS_ALL_GROUPS;
    int ns = 0, ng = 0, np = 0;
    for (size_t i = 0; i < sizeof(suite_table) / sizeof(suite_table[0]); i++)
        if (suites & suite_table[i].bit)
            e->suites[ns++] = suite_table[i].id;
    e->suites[ns] = 0;
    if (groups & MBED_DTLS_X25519)
        e->groups[ng++] = MBEDTLS_ECP_DP_CURVE25519;
    if (groups & MBED_DTLS_P256)
        e->groups[ng++] = MBEDTLS_ECP_DP_SECP256R1;
    e->groups[ng] = MBEDTLS_ECP_DP_NONE;
    if (cfg->srtp & MBED_DTLS_SRTP_80)
        e->srtp[np++] = MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80;
    if (cfg->srtp & MBED_DTLS_SRTP_32)
        e->srtp[np++] = MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32;
    e->srtp[np] = MBEDTLS_TLS_SRTP_UNSET;
    if (ns == 0 || ng == 0)
        return -EINVAL;

    e->entropy_state = cfg->seed;
    int rc = mbed_glue_drbg_seed(&e->drbg, &e->entropy_state, cfg->is_server ? "mbed-dtls-server" : "mbed-dtls-client");
    if (rc == 0)
        rc = mbedtls_ssl_config_defaults(
            &e->conf, cfg->is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
            MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0)
        return rc;
    mbedtls_ssl_conf_rng(&e->conf, mbedtls_ctr_drbg_random, &e->drbg);
    mbedtls_ssl_conf_min_version(&e->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&e->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&e->conf, e->suites);
    mbedtls_ssl_conf_curves(&e->conf, e->groups);
    /* self-signed: no CA, the verify callback checks the fingerprint */
    mbedtls_ssl_conf_authmode(&e->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_verify(&e->conf, verify, e);
    mbedtls_ssl_conf_export_keys_ext_cb(&e->conf, export_keys, e);
    mbedtls_ssl_conf_handshake_timeout(&e->conf, cfg->rto_min_ms ? cfg->rto_min_ms : 500,
                                       cfg->rto_max_ms ? cfg->rto_max_ms : 8000);
    if (np)
        rc = mbedtls_ssl_conf_dtls_srtp_protection_profiles(&e->conf, e->srtp);
    if (rc == 0)
        rc = mbedtls_ssl_conf_own_cert(&e->conf, (mbedtls_x509_crt *)&cfg->cert->crt,
                                       (mbedtls_pk_context *)&cfg->cert->key);
    if (rc != 0)
        return rc;
    if (e->cookies) {
        rc = mbedtls_ssl_cookie_setup(&e->cookie, mbedtls_ctr_drbg_random, &e->drbg);
        if (rc != 0)
            return rc;
        mbedtls_ssl_conf_dtls_cookies(&e->conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                      &e->cookie);
    } else if (cfg->is_server) {
        /* mbedTLS's defaults are dummy callbacks that refuse every ClientHello */
        mbedtls_ssl_conf_dtls_cookies(&e->conf, NULL, NULL, NULL);
    }
    rc = mbedtls_ssl_setup(&e->ssl, &e->conf);
    if (rc != 0)
        return rc;
    mbedtls_ssl_set_bio(&e->ssl, e, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&e->ssl, e, timer_set, timer_get);
    mbedtls_ssl_set_mtu(&e->ssl, cfg->mtu ? cfg->mtu : MBED_DTLS_MTU);
    set_client_id(e);
    if (!cfg->is_server) {
        rc = mbedtls_ssl_handshake(&e->ssl); /* the ClientHello */
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
            return rc < 0 ? rc : -EPROTO;
    }
    return 0;
}

/* ---- running ---- */

static void event(struct mbed_dtls *e, enum mbed_dtls_event ev)
{
    if (e->n_events < 2)
        e->events[e->n_events++] = (uint8_t)ev;
}

/* Application data and alerts after the handshake, through mbedtls_ssl_read. */
static int drain_reads(struct mbed_dtls *e)
{
    for (int guard = 0; guard < 4 * MBED_DTLS_QUEUE + 16; guard++) {
        if (e->peer_closed || e->last_error)
            return e->last_error;
        uint8_t tmp[MBED_DTLS_APP_MAX];
        int rc = mbedtls_ssl_read(&e->ssl, tmp, sizeof(tmp));
        if (rc > 0) {
            if (e->app_n == MBED_DTLS_APP_QUEUE) {
                e->c.app_dropped++;
                continue;
            }
            unsigned k = (e->app_head + e->app_n++) % MBED_DTLS_APP_QUEUE;
            memcpy(e->app[k], tmp, (size_t)rc);
            e->app_len[k] = (uint16_t)rc;
            e->c.app_in++;
            continue;
        }
        if (rc == 0 || rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
            return 0;
        if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            e->peer_closed = true;
            return 0;
        }
        if (rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)
            e->alert_in = e->ssl.in_msg[1];
        e->last_error = rc;
        return rc;
    }
    return 0;
}

/* Runs the handshake as far as what is queued takes it. */
static int step(struct mbed_dtls *e)
{
    for (int guard = 0; guard < 2 * MBED_DTLS_QUEUE + 4; guard++) {
        if (e->failed)
            return e->last_error;
        if (e->connected)
            return drain_reads(e);
        int rc = mbedtls_ssl_handshake(&e->ssl);
        if (rc == 0) {
            e->connected = true;
            e->timer.fin_ns = 0;
            if (!e->have_master) { /* cannot happen with MBEDTLS_SSL_EXPORT_KEYS */
                e->failed = true;
                e->last_error = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
                event(e, MBED_DTLS_EV_FAILED);
                return e->last_error;
            }
            event(e, MBED_DTLS_EV_CONNECTED);
            continue; /* whatever else is queued is the connection's */
        }
        if (rc == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
            /* the HelloVerifyRequest is out; wait for the ClientHello with the cookie */
            e->c.hello_verify++;
            mbedtls_ssl_session_reset(&e->ssl);
            set_client_id(e);
            continue;
        }
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
            /* mbedTLS reads nothing once its timer has expired: it resends
             * first, and takes what is queued on the next call */
            if (e->in_n == 0)
                return 0;
            continue;
        }
        if (e->is_server && e->ssl.state <= MBEDTLS_SSL_CLIENT_HELLO) {
            /* nothing accepted yet: a datagram that is not a ClientHello
             * mbedTLS can take is foreign; keep waiting */
            e->c.discarded++;
            mbedtls_ssl_session_reset(&e->ssl);
            set_client_id(e);
            continue;
        }
        if (rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)
            e->alert_in = e->ssl.in_msg[1];
        e->failed = true;
        e->last_error = rc;
        e->timer.fin_ns = 0;
        event(e, MBED_DTLS_EV_FAILED);
        return rc;
    }
    return 0;
}

/* A ClientHello in the clear at the start of the datagram. */
static bool is_client_hello(const uint8_t *d, size_t len)
{
    return len > 13 && d[0] == MBEDTLS_SSL_MSG_HANDSHAKE && d[3] == 0 && d[4] == 0 &&
           d[13] == MBEDTLS_SSL_HS_CLIENT_HELLO;
}

int mbed_dtls_handle_input(struct mbed_dtls *e, const uint8_t *d, size_t len, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    e->c.datagrams_in++;
    if (e->failed)
        return e->last_error;
    if (e->connected && e->is_server && is_client_hello(d, len)) {
        e->c.stale_client_hello++;
        return 0;
    }
    if (e->in_n == MBED_DTLS_QUEUE || len > MBED_DTLS_DGRAM) {
        e->c.queue_full_in++;
        return -ENOBUFS;
    }
    unsigned k = (e->in_head + e->in_n) % MBED_DTLS_QUEUE;
    memcpy(e->in[k], d, len);
    e->in_len[k] = (uint16_t)len;
    e->in_n++;
    return step(e);
}

void mbed_dtls_handle_timeout(struct mbed_dtls *e, uint64_t now)
{
    if (now < e->now)
        return;
    e->now = now;
    if (e->connected || e->failed || mbed_glue_timer_state(&e->timer, now) < 2)
        return;
    e->c.retransmit_timeouts++;
    step(e);
}

size_t mbed_dtls_poll_transmit(struct mbed_dtls *e, uint8_t *buf, size_t cap, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    if (e->out_n == 0 || cap < e->out_len[e->out_head])
        return 0;
    size_t n = e->out_len[e->out_head];
    memcpy(buf, e->out[e->out_head], n);
    e->out_head = (uint8_t)((e->out_head + 1) % MBED_DTLS_QUEUE);
    e->out_n--;
    if (e->send_blocked) { /* mbedTLS has more to write: let it */
        e->send_blocked = false;
        if (!e->connected)
            step(e);
    }
    return n;
}

enum mbed_dtls_event mbed_dtls_poll_event(struct mbed_dtls *e)
{
    if (e->n_events == 0)
        return MBED_DTLS_EV_NONE;
    enum mbed_dtls_event ev = (enum mbed_dtls_event)e->events[0];
    e->events[0] = e->events[1];
    e->n_events--;
    return ev;
}

uint64_t mbed_dtls_next_timeout(const struct mbed_dtls *e)
{
    if (e->out_n)
        return e->now;
    if (e->timer.fin_ns == 0 || e->connected || e->failed)
        return UINT64_MAX;
    return e->timer.set + e->timer.fin_ns;
}

/* ---- after the handshake ---- */

int mbed_dtls_suite_id(const struct mbed_dtls *e)
{
    return e->connected ? mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(&e->ssl)) : 0;
}

uint16_t mbed_dtls_group(const struct mbed_dtls *e)
{
    if (!e->connected)
        return 0;
    return e->group == MBEDTLS_ECP_DP_CURVE25519  ? 29
           : e->group == MBEDTLS_ECP_DP_SECP256R1 ? 23
                                                  : 0;
}

uint16_t mbed_dtls_srtp_profile(const struct mbed_dtls *e)
{
    if (!e->connected)
        return 0;
    mbedtls_dtls_srtp_info info;
    mbedtls_ssl_get_dtls_srtp_negotiation_result(&e->ssl, &info);
    return info.chosen_dtls_srtp_profile;
}

int mbed_dtls_export_keying(const struct mbed_dtls *e, const char *label, uint8_t *out, size_t len)
{
    if (!e->have_master)
        return -EINVAL;
    return mbedtls_ssl_tls_prf(e->prf, e->master, sizeof(e->master), label, e->randoms,
                               sizeof(e->randoms), out, len);
}

int mbed_dtls_keylog_line(const struct mbed_dtls *e, char *out)
{
    if (!e->have_master)
        return -ENOENT;
    keylog_line(out, e->randoms, e->master);
    return 0;
}

int mbed_dtls_write(struct mbed_dtls *e, const uint8_t *d, size_t len, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    if (!e->connected || e->failed || e->last_error)
        return -ENOTCONN;
    int rc = mbedtls_ssl_write(&e->ssl, d, len);
    if (rc >= 0)
        e->c.app_out++;
    return rc;
}

int mbed_dtls_read(struct mbed_dtls *e, uint8_t *buf, size_t cap)
{
    if (e->app_n == 0) {
        if (e->last_error && e->connected)
            return e->last_error;
        return e->peer_closed ? MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY : 0;
    }
    size_t n = e->app_len[e->app_head] < cap ? e->app_len[e->app_head] : cap;
    memcpy(buf, e->app[e->app_head], n);
    e->app_head = (uint8_t)((e->app_head + 1) % MBED_DTLS_APP_QUEUE);
    e->app_n--;
    return (int)n;
}

int mbed_dtls_send_alert(struct mbed_dtls *e, uint8_t level, uint8_t desc, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    return mbedtls_ssl_send_alert_message(&e->ssl, level, desc);
}

int mbed_dtls_close_notify(struct mbed_dtls *e, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    return mbedtls_ssl_close_notify(&e->ssl);
}

/* ---- state ---- */

int mbed_dtls_state(const struct mbed_dtls *e)
{
    return e->failed ? -1 : e->connected ? 1 : 0;
}

int mbed_dtls_error(const struct mbed_dtls *e)
{
    return e->last_error;
}

int mbed_dtls_alert_in(const struct mbed_dtls *e)
{
    return e->alert_in;
}

bool mbed_dtls_peer_closed(const struct mbed_dtls *e)
{
    return e->peer_closed;
}

void mbed_dtls_free(struct mbed_dtls *e)
{
    mbedtls_ssl_free(&e->ssl);
    mbedtls_ssl_config_free(&e->conf);
    mbedtls_ssl_cookie_free(&e->cookie);
    mbedtls_ctr_drbg_free(&e->drbg);
    mbedtls_platform_zeroize(e->master, sizeof(e->master));
    e->have_master = false;
}

/* ---- behind an untyped self ---- */

static void peer_input(void *self, const uint8_t *d, size_t len, uint64_t now)
{
    mbed_dtls_handle_input(self, d, len, now);
}

static size_t peer_transmit(void *self, uint8_t *buf, size_t cap, uint64_t now)
{
    return mbed_dtls_poll_transmit(self, buf, cap, now);
}

static uint64_t peer_next_timeout(void *self)
{
    return mbed_dtls_next_timeout(self);
}

static void peer_timeout(void *self, uint64_t now)
{
    mbed_dtls_handle_timeout(self, now);
}

static int peer_state(void *self)
{
    return mbed_dtls_state(self);
}

static void peer_free(void *self)
{
    mbed_dtls_free(self);
}

const struct dtls_peer_ops mbed_dtls_peer_ops = {peer_input, peer_transmit, peer_next_timeout, peer_timeout,
                                                 peer_state, peer_free};
