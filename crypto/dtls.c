/* SPDX-License-Identifier: MIT */
#include "dtls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

/* ---- randomness: a CTR-DRBG seeded from the caller's seed ---- */

/* `state` must live as long as the DRBG: it may reseed from it later. */
static int seed_entropy(void *ctx, unsigned char *out, size_t len)
{
    uint64_t *state = ctx;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        out[i] = (unsigned char)(z ^ (z >> 31));
    }
    return 0;
}

static int drbg_seed(mbedtls_ctr_drbg_context *d, uint64_t *state, const char *pers)
{
    mbedtls_ctr_drbg_init(d);
    return mbedtls_ctr_drbg_seed(d, seed_entropy, state, (const unsigned char *)pers, strlen(pers));
}

/* ---- certificates ---- */

int dtls_cert_generate(struct dtls_cert *c, uint64_t seed)
{
    mbedtls_x509_crt_init(&c->crt);
    mbedtls_pk_init(&c->key);
    mbedtls_ctr_drbg_context d;
    uint64_t state = seed; /* outlives d, which is freed below */
    int rc = drbg_seed(&d, &state, "swarmgen-cert");
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

void dtls_cert_free(struct dtls_cert *c)
{
    mbedtls_x509_crt_free(&c->crt);
    mbedtls_pk_free(&c->key);
}

void dtls_fingerprint_text(const uint8_t fp[32], char *out)
{
    int n = sprintf(out, "sha-256 ");
    for (int i = 0; i < 32; i++)
        n += sprintf(out + n, i ? ":%02X" : "%02X", fp[i]);
}

/* ---- callbacks: I/O into queues, time from `now` ---- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct dtls_endpoint *e = ctx;
    if (e->out_n == DTLS_OUT_QUEUE || len > DTLS_MTU)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    uint8_t slot = (uint8_t)((e->out_head + e->out_n) % DTLS_OUT_QUEUE);
    memcpy(e->out[slot], buf, len);
    e->out_len[slot] = (uint16_t)len;
    e->out_n++;
    e->c.datagrams_out++;
    return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct dtls_endpoint *e = ctx;
    if (!e->in)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = e->in_len < len ? e->in_len : len;
    memcpy(buf, e->in, n);
    e->in = NULL;
    return (int)n;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct dtls_endpoint *e = ctx;
    e->timer_set = e->now;
    e->timer_int = (uint64_t)int_ms * 1000000u;
    e->timer_fin = (uint64_t)fin_ms * 1000000u;
}

static int timer_get(void *ctx)
{
    struct dtls_endpoint *e = ctx;
    if (e->timer_fin == 0)
        return -1;
    uint64_t el = e->now - e->timer_set;
    return el >= e->timer_fin ? 2 : el >= e->timer_int ? 1 : 0;
}

/* The peer is who its SDP fingerprint says, nothing else (no CA). */
static int verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct dtls_endpoint *e = ctx;
    if (depth != 0) {
        *flags = 0;
        return 0;
    }
    uint8_t fp[32];
    if (mbedtls_sha256_ret(crt->raw.p, crt->raw.len, fp, 0) != 0 || memcmp(fp, e->peer_fp, 32) != 0) {
        e->c.fingerprint_mismatches++;
        *flags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;
        return 0;
    }
    *flags = 0;
    return 0;
}

static int export_keys(void *ctx, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                       size_t keylen, size_t ivlen, const unsigned char cr[32],
                       const unsigned char sr[32], mbedtls_tls_prf_types prf)
{
    struct dtls_endpoint *e = ctx;
    if (maclen == 0 && 2 * (keylen + ivlen) <= sizeof(e->keyblock)) {
        memcpy(e->keyblock, kb, 2 * (keylen + ivlen));
        e->kb_keylen = (uint8_t)keylen;
        e->kb_ivlen = (uint8_t)ivlen;
    }
    memcpy(e->master, ms, 48);
    memcpy(e->client_random, cr, 32);
    memcpy(e->server_random, sr, 32);
    e->prf = prf;
    e->have_master = true;
    return 0;
}

/* HelloVerifyRequest cookies: HMAC-SHA256(secret, client id), no clock. */
static int cookie_write(void *ctx, unsigned char **p, unsigned char *end, const unsigned char *id,
                        size_t id_len)
{
    struct dtls_endpoint *e = ctx;
    if (end - *p < 16)
        return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
    uint8_t mac[32];
    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), e->cookie_secret, 32, id,
                        id_len, mac) != 0)
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    memcpy(*p, mac, 16);
    *p += 16;
    e->c.cookies_sent++;
    return 0;
}

static int cookie_check(void *ctx, const unsigned char *cookie, size_t len, const unsigned char *id,
                        size_t id_len)
{
    struct dtls_endpoint *e = ctx;
    uint8_t mac[32];
    if (len != 16 || mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                     e->cookie_secret, 32, id, id_len, mac) != 0)
        return -1;
    return memcmp(mac, cookie, 16) == 0 ? 0 : -1;
}

static const int suites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                             MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};
static const int suites_gcm[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0};
static const int suites_chacha[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};
static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                              MBEDTLS_ECP_DP_NONE};
static const mbedtls_ssl_srtp_profile profiles[] = {MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
                                                    MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32,
                                                    MBEDTLS_TLS_SRTP_UNSET};

int dtls_init(struct dtls_endpoint *e, const struct dtls_config *cfg, uint64_t now)
{
    memset(e, 0, sizeof(*e));
    e->is_server = cfg->is_server;
    e->now = now;
    memcpy(e->peer_fp, cfg->peer_fingerprint, 32);
    mbedtls_ssl_init(&e->ssl);
    mbedtls_ssl_config_init(&e->conf);
    e->entropy_state = cfg->seed;
    int rc = drbg_seed(&e->drbg, &e->entropy_state, cfg->is_server ? "swarmgen-dtls-s" : "swarmgen-dtls-c");
    if (rc == 0)
        rc = mbedtls_ssl_config_defaults(&e->conf,
                                         cfg->is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0)
        return rc;
    mbedtls_ssl_conf_rng(&e->conf, mbedtls_ctr_drbg_random, &e->drbg);
    mbedtls_ssl_conf_min_version(&e->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&e->conf, cfg->suites == DTLS_OFFER_GCM      ? suites_gcm
                                            : cfg->suites == DTLS_OFFER_CHACHA ? suites_chacha
                                                                               : suites);
    mbedtls_ssl_conf_curves(&e->conf, curves);
    mbedtls_ssl_conf_authmode(&e->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_verify(&e->conf, verify, e);
    mbedtls_ssl_conf_export_keys_ext_cb(&e->conf, export_keys, e);
    mbedtls_ssl_conf_handshake_timeout(&e->conf, cfg->rto_min_ms ? cfg->rto_min_ms : 500,
                                       cfg->rto_max_ms ? cfg->rto_max_ms : 8000);
    rc = mbedtls_ssl_conf_dtls_srtp_protection_profiles(&e->conf, profiles);
    if (rc == 0)
        rc = mbedtls_ssl_conf_own_cert(&e->conf, (mbedtls_x509_crt *)&cfg->cert->crt,
                                       (mbedtls_pk_context *)&cfg->cert->key);
    if (rc != 0)
        return rc;
    if (cfg->is_server) {
        mbedtls_ctr_drbg_random(&e->drbg, e->cookie_secret, sizeof(e->cookie_secret));
        mbedtls_ssl_conf_dtls_cookies(&e->conf, cookie_write, cookie_check, e);
    }
    rc = mbedtls_ssl_setup(&e->ssl, &e->conf);
    if (rc != 0)
        return rc;
    mbedtls_ssl_set_bio(&e->ssl, e, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&e->ssl, e, timer_set, timer_get);
    mbedtls_ssl_set_mtu(&e->ssl, DTLS_MTU);
    if (cfg->is_server) {
        e->client_id_len = cfg->client_id_len > 32 ? 32 : cfg->client_id_len;
        memcpy(e->client_id, cfg->client_id, e->client_id_len);
        rc = mbedtls_ssl_set_client_transport_id(&e->ssl, e->client_id, e->client_id_len);
    }
    return rc;
}

static void event(struct dtls_endpoint *e, enum dtls_event ev)
{
    if (e->n_events < 2)
        e->events[e->n_events++] = ev;
}

/* Runs the handshake as far as it goes with what it has. */
static int step(struct dtls_endpoint *e)
{
    if (e->connected || e->failed)
        return 0;
    int rc = mbedtls_ssl_handshake(&e->ssl);
    if (rc == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
        /* the HelloVerifyRequest is queued; wait for the ClientHello with the cookie */
        mbedtls_ssl_session_reset(&e->ssl);
        mbedtls_ssl_set_client_transport_id(&e->ssl, e->client_id, e->client_id_len);
        return 0;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (rc == 0) {
        if (mbedtls_ssl_get_verify_result(&e->ssl) != 0 || !e->have_master) {
            rc = MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
        } else {
            mbedtls_dtls_srtp_info info;
            mbedtls_ssl_get_dtls_srtp_negotiation_result(&e->ssl, &info);
            e->srtp_profile = info.chosen_dtls_srtp_profile;
            e->suite_id = mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(&e->ssl));
            rc = mbedtls_ssl_tls_prf(e->prf, e->master, 48, "EXTRACTOR-dtls_srtp",
                                     (const unsigned char *)e->client_random, 64, e->keying,
                                     DTLS_KEYING_LEN);
            if (rc == 0) {
                e->connected = true;
                e->timer_fin = 0;
                event(e, DTLS_EV_CONNECTED);
                return 0;
            }
        }
    }
    if (e->is_server && e->ssl.state <= MBEDTLS_SSL_CLIENT_HELLO) {
        /* nothing accepted yet: a datagram that is not a ClientHello we can
         * take is foreign, not the end of the handshake; keep waiting */
        mbedtls_ssl_session_reset(&e->ssl);
        mbedtls_ssl_set_client_transport_id(&e->ssl, e->client_id, e->client_id_len);
        e->c.discarded++;
        return 0;
    }
    e->failed = true;
    e->last_error = rc;
    e->c.failures++;
    e->timer_fin = 0;
    event(e, DTLS_EV_FAILED);
    return rc;
}

void dtls_start(struct dtls_endpoint *e, uint64_t now)
{
    e->now = now;
    if (!e->is_server)
        step(e);
}

int dtls_handle_input(struct dtls_endpoint *e, const uint8_t *buf, size_t len, uint64_t now)
{
    if (now > e->now)
        e->now = now;
    e->c.datagrams_in++;
    if (e->failed)
        return 0;
    if (e->connected) {
        /* After the handshake only a retransmitted final flight of the
         * peer matters: mbedTLS answers it by resending its own last
         * flight (RFC 6347 §4.2.4). Application data goes to the record
         * layer, not here. */
        uint8_t scratch[DTLS_MTU];
        e->in = buf;
        e->in_len = len;
        (void)mbedtls_ssl_read(&e->ssl, scratch, sizeof(scratch));
        e->in = NULL;
        return 0;
    }
    e->in = buf;
    e->in_len = len;
    int rc = step(e);
    e->in = NULL;
    return rc;
}

void dtls_handle_timeout(struct dtls_endpoint *e, uint64_t now)
{
    if (now < e->now)
        return;
    e->now = now;
    /* mbedTLS retransmits when the final delay has passed */
    if (e->timer_fin && now - e->timer_set >= e->timer_fin) {
        e->c.retransmit_timeouts++;
        step(e);
    }
}

int dtls_poll_transmit(struct dtls_endpoint *e, uint8_t *buf, uint16_t cap)
{
    if (e->out_n == 0 || cap < e->out_len[e->out_head])
        return 0;
    int n = e->out_len[e->out_head];
    memcpy(buf, e->out[e->out_head], (size_t)n);
    e->out_head = (uint8_t)((e->out_head + 1) % DTLS_OUT_QUEUE);
    e->out_n--;
    return n;
}

enum dtls_event dtls_poll_event(struct dtls_endpoint *e)
{
    if (e->n_events == 0)
        return DTLS_EV_NONE;
    enum dtls_event ev = e->events[0];
    e->events[0] = e->events[1];
    e->n_events--;
    return ev;
}

uint64_t dtls_next_timeout(const struct dtls_endpoint *e)
{
    if (e->out_n)
        return e->now;
    if (e->timer_fin == 0 || e->connected || e->failed)
        return UINT64_MAX;
    return e->timer_set + e->timer_fin;
}

int dtls_keylog_line(const struct dtls_endpoint *e, char *out)
{
    if (!e->have_master)
        return -ENOENT;
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

void dtls_free(struct dtls_endpoint *e)
{
    mbedtls_ssl_free(&e->ssl);
    mbedtls_ssl_config_free(&e->conf);
    mbedtls_ctr_drbg_free(&e->drbg);
}
