/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS endpoint against a plain mbedTLS peer written here directly on
 * the mbedTLS API (its own configuration, its own cookie module, its own
 * key export): full handshakes in both roles, clean and with whole
 * flights lost, recovered by retransmission on the virtual clock; the
 * peer certificates checked by fingerprint on both sides; the DTLS-SRTP
 * keying material (RFC 5764) equal on both sides; and application data
 * through our record layer read by the plain peer.
 */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/ssl_ciphersuites.h>

#include "dtls_link.h"
#include "dtls_record.h"

#define QN 16
struct plain {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_cookie_ctx cookie;
    uint8_t inq[QN][DTLS_MTU + 100];
    size_t inl[QN];
    int in_head, in_n;
    uint8_t outq[QN][DTLS_MTU + 100];
    size_t outl[QN];
    int out_head, out_n;
    uint64_t *now, t_set, t_int, t_fin;
    uint8_t master[48], randoms[64]; /* client random then server random */
    mbedtls_tls_prf_types prf;
    bool done, is_server;
};

static int p_send(void *ctx, const unsigned char *b, size_t n)
{
    struct plain *p = ctx;
    if (p->out_n == QN)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    int k = (p->out_head + p->out_n++) % QN;
    memcpy(p->outq[k], b, n);
    p->outl[k] = n;
    return (int)n;
}

static int p_recv(void *ctx, unsigned char *b, size_t n)
{
    struct plain *p = ctx;
    if (!p->in_n)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t l = p->inl[p->in_head] < n ? p->inl[p->in_head] : n;
    memcpy(b, p->inq[p->in_head], l);
    p->in_head = (p->in_head + 1) % QN;
    p->in_n--;
    return (int)l;
}

static void p_timer_set(void *ctx, uint32_t i, uint32_t f)
{
    struct plain *p = ctx;
    p->t_set = *p->now;
    p->t_int = i * 1000000ull;
    p->t_fin = f * 1000000ull;
}

static int p_timer_get(void *ctx)
{
    struct plain *p = ctx;
    if (!p->t_fin)
        return -1;
    uint64_t e = *p->now - p->t_set;
    return e >= p->t_fin ? 2 : e >= p->t_int ? 1 : 0;
}

static int p_entropy(void *ctx, unsigned char *b, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 131 + 7);
    return 0;
}

static int p_export(void *ctx, const unsigned char *ms, const unsigned char *kb, size_t maclen, size_t keylen,
                    size_t ivlen, const unsigned char cr[32], const unsigned char sr[32], mbedtls_tls_prf_types prf)
{
    struct plain *p = ctx;
    (void)kb, (void)maclen, (void)keylen, (void)ivlen;
    memcpy(p->master, ms, 48);
    memcpy(p->randoms, cr, 32);
    memcpy(p->randoms + 32, sr, 32);
    p->prf = prf;
    return 0;
}

static const mbedtls_ssl_srtp_profile srtp_profiles[] = {MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
                                                        MBEDTLS_TLS_SRTP_UNSET};
static const uint8_t peer_id[] = "198.18.0.2:6000";

static void plain_init(struct plain *p, bool server, const struct dtls_cert *own, uint64_t *now)
{
    memset(p, 0, sizeof(*p));
    p->now = now;
    p->is_server = server;
    mbedtls_ssl_init(&p->ssl);
    mbedtls_ssl_config_init(&p->conf);
    mbedtls_ctr_drbg_init(&p->drbg);
    mbedtls_ssl_cookie_init(&p->cookie);
    cr_assert_eq(mbedtls_ctr_drbg_seed(&p->drbg, p_entropy, NULL, (const unsigned char *)"plain", 5), 0);
    cr_assert_eq(mbedtls_ssl_config_defaults(&p->conf, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                             MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT), 0);
    mbedtls_ssl_conf_rng(&p->conf, mbedtls_ctr_drbg_random, &p->drbg);
    mbedtls_ssl_conf_authmode(&p->conf, MBEDTLS_SSL_VERIFY_OPTIONAL); /* self-signed: checked by fingerprint */
    cr_assert_eq(mbedtls_ssl_conf_own_cert(&p->conf, (mbedtls_x509_crt *)&own->crt, (mbedtls_pk_context *)&own->key), 0);
    cr_assert_eq(mbedtls_ssl_conf_dtls_srtp_protection_profiles(&p->conf, srtp_profiles), 0);
    mbedtls_ssl_conf_export_keys_ext_cb(&p->conf, p_export, p);
    if (server) {
        cr_assert_eq(mbedtls_ssl_cookie_setup(&p->cookie, mbedtls_ctr_drbg_random, &p->drbg), 0);
        mbedtls_ssl_conf_dtls_cookies(&p->conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check, &p->cookie);
    }
    cr_assert_eq(mbedtls_ssl_setup(&p->ssl, &p->conf), 0);
    mbedtls_ssl_set_bio(&p->ssl, p, p_send, p_recv, NULL);
    mbedtls_ssl_set_timer_cb(&p->ssl, p, p_timer_set, p_timer_get);
    mbedtls_ssl_set_mtu(&p->ssl, DTLS_MTU);
    if (server)
        mbedtls_ssl_set_client_transport_id(&p->ssl, peer_id, sizeof(peer_id) - 1);
}

static void plain_step(struct plain *p)
{
    if (p->done)
        return;
    int rc = mbedtls_ssl_handshake(&p->ssl);
    if (rc == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
        mbedtls_ssl_session_reset(&p->ssl);
        mbedtls_ssl_set_client_transport_id(&p->ssl, peer_id, sizeof(peer_id) - 1);
        return;
    }
    if (rc == 0)
        p->done = true;
    else
        cr_assert(rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE ||
                      rc == MBEDTLS_ERR_SSL_TIMEOUT,
                  "plain mbedTLS handshake: -0x%04x", -rc);
}

static void plain_free(struct plain *p)
{
    mbedtls_ssl_free(&p->ssl);
    mbedtls_ssl_config_free(&p->conf);
    mbedtls_ssl_cookie_free(&p->cookie);
    mbedtls_ctr_drbg_free(&p->drbg);
}

/* Which flights to lose, recognised by what the datagrams carry (their
 * record headers and first handshake message type), not by position:
 * retransmissions and flights split over datagrams move positions. */
enum { LOSE_SERVER_HELLO_FLIGHT = 1, LOSE_CLIENT_FINISHED_FLIGHT = 2 };

struct lost {
    unsigned lose;                  /* LOSE_* */
    unsigned server_hello_dgrams;   /* datagrams of the first ServerHello flight lost */
    unsigned client_finished_dgrams; /* datagrams of the client's first Certificate..Finished flight lost */
    bool server_hello_done, client_finished_done; /* that flight's last datagram was lost */
    unsigned total, seen;
};

/* Is this datagram one of the flights to lose? Decides and counts. */
static bool lose_it(struct lost *l, bool from_client, const uint8_t *d, size_t len)
{
    l->seen++;
    bool hs_first = len > 13 && d[0] == 22 && d[3] == 0 && d[4] == 0;
    uint8_t msg = hs_first ? d[13] : 0;
    bool epoch1 = false;
    for (size_t off = 0; off + 13 <= len; off += 13 + ((size_t)d[off + 11] << 8 | d[off + 12]))
        epoch1 |= d[off + 3] != 0 || d[off + 4] != 0;
    if ((l->lose & LOSE_SERVER_HELLO_FLIGHT) && !from_client && !l->server_hello_done &&
        (msg == 2 || msg == 11 || msg == 12 || msg == 13 || msg == 14)) {
        /* ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone */
        l->server_hello_dgrams++;
        for (size_t off = 0; off + 13 < len; off += 13 + ((size_t)d[off + 11] << 8 | d[off + 12]))
            l->server_hello_done |= d[off] == 22 && d[off + 13] == 14;
        l->total++;
        return true;
    }
    if ((l->lose & LOSE_CLIENT_FINISHED_FLIGHT) && from_client && !l->client_finished_done &&
        (msg == 11 || msg == 16 || msg == 15 || d[0] == 20 || epoch1)) {
        /* Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished */
        l->client_finished_dgrams++;
        l->client_finished_done |= epoch1;
        l->total++;
        return true;
    }
    return false;
}
/* lose: LOSE_* flags */
static void handshake_suite(bool ours_server, unsigned lose, struct lost *lost, uint8_t suites)
{
    make_certs();
    uint64_t now = 0;
    struct dtls_endpoint e;
    struct plain p;
    const struct dtls_cert *mine = ours_server ? &sc : &cc, *theirs = ours_server ? &cc : &sc;
    struct dtls_config cfg = {ours_server, mine, theirs->fingerprint, 31, peer_id, sizeof(peer_id) - 1, 0, 0, suites};
    cr_assert_eq(dtls_init(&e, &cfg, now), 0);
    plain_init(&p, !ours_server, theirs, &now);
    dtls_start(&e, now);
    plain_step(&p);
    memset(lost, 0, sizeof(*lost));
    lost->lose = lose;
    uint8_t buf[DTLS_MTU + 100];
    for (int step = 0; step < 10000 && !(e.connected && p.done); step++) {
        bool moved = false;
        int n;
        while ((n = dtls_poll_transmit(&e, buf, sizeof(buf))) > 0) {
            moved = true;
            if (lose_it(lost, !ours_server, buf, (size_t)n))
                continue;
            cr_assert_lt(p.in_n, QN);
            int s = (p.in_head + p.in_n++) % QN;
            memcpy(p.inq[s], buf, (size_t)n);
            p.inl[s] = (size_t)n;
        }
        plain_step(&p);
        while (p.out_n) {
            moved = true;
            int s = p.out_head;
            p.out_head = (p.out_head + 1) % QN;
            p.out_n--;
            if (lose_it(lost, ours_server, p.outq[s], p.outl[s]))
                continue;
            dtls_handle_input(&e, p.outq[s], p.outl[s], now);
        }
        cr_assert(!e.failed, "our endpoint failed: -0x%04x", -e.last_error);
        if (moved)
            continue;
        /* nothing in flight: jump to the next retransmission */
        uint64_t t1 = dtls_next_timeout(&e), t2 = p.t_fin ? p.t_set + p.t_fin : UINT64_MAX; /* retransmission on the final delay */
        uint64_t t = t1 < t2 ? t1 : t2;
        cr_assert_neq(t, UINT64_MAX, "stuck");
        if (t > now)
            now = t;
        dtls_handle_timeout(&e, now);
        plain_step(&p);
    }
    cr_assert(e.connected && p.done, "ours %d plain %d", e.connected, p.done);
    /* the plain peer checks our certificate by its fingerprint */
    const mbedtls_x509_crt *pc = mbedtls_ssl_get_peer_cert(&p.ssl);
    cr_assert_not_null(pc);
    uint8_t fp[32];
    mbedtls_sha256_ret(pc->raw.p, pc->raw.len, fp, 0);
    cr_assert_arr_eq(fp, mine->fingerprint, 32);
    /* the same SRTP keys on both sides (RFC 5764 exporter) */
    mbedtls_dtls_srtp_info info;
    mbedtls_ssl_get_dtls_srtp_negotiation_result(&p.ssl, &info);
    cr_assert_eq(info.chosen_dtls_srtp_profile, e.srtp_profile);
    uint8_t keying[DTLS_KEYING_LEN];
    cr_assert_eq(mbedtls_ssl_tls_prf(p.prf, p.master, 48, "EXTRACTOR-dtls_srtp", p.randoms, 64, keying,
                                     sizeof(keying)), 0);
    cr_assert_arr_eq(keying, e.keying, DTLS_KEYING_LEN);
    /* application data: our record layer to the plain peer and back */
    struct dtls_record r;
    cr_assert_eq(dtls_record_init_from(&r, &e), 0);
    dtls_free(&e);
    uint8_t rec[1500], out[1500];
    int n = dtls_record_seal(&r, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"agent-hello", 11, rec, sizeof(rec));
    memcpy(p.inq[(p.in_head + p.in_n) % QN], rec, (size_t)n);
    p.inl[(p.in_head + p.in_n++) % QN] = (size_t)n;
    cr_assert_eq(mbedtls_ssl_read(&p.ssl, out, sizeof(out)), 11);
    cr_assert_eq(memcmp(out, "agent-hello", 11), 0);
    p.out_n = 0; /* whatever handshake retransmission is still queued */
    cr_assert_eq(mbedtls_ssl_write(&p.ssl, (const uint8_t *)"welcome", 7), 7);
    size_t used;
    uint8_t type;
    cr_assert_eq(dtls_record_open(&r, p.outq[p.out_head], p.outl[p.out_head], &used, &type, out, sizeof(out)), 7);
    cr_assert_eq(memcmp(out, "welcome", 7), 0);
    if (lose)
        cr_assert_gt(now, 0, "recovery took retransmission timeouts");
    else
        cr_assert_eq(now, 0, "no loss, no timeout");
    if (suites == DTLS_OFFER_CHACHA)
        cr_assert_eq(e.suite_id, MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
    cr_log_info("ours %s, %u of %u datagrams lost, done at %.1f s virtual", ours_server ? "server" : "client",
                lost->total, lost->seen, (double)now / 1e9);
    dtls_record_free(&r);
    plain_free(&p);
}

static void handshake(bool ours_server, unsigned lose, struct lost *lost)
{
    handshake_suite(ours_server, lose, lost, DTLS_OFFER_GCM_THEN_CHACHA);
}

Test(dtls_peer, ours_client_plain_server, .timeout = 60)
{
    struct lost lost;
    handshake(false, 0, &lost);
}

Test(dtls_peer, ours_server_plain_client, .timeout = 60)
{
    struct lost lost;
    handshake(true, 0, &lost);
}

Test(dtls_peer, ours_client_chacha_plain_server, .timeout = 60)
{
    struct lost lost;
    handshake_suite(false, 0, &lost, DTLS_OFFER_CHACHA);
}

/* The server's first flight (ServerHello .. ServerHelloDone) and the
 * client's first Certificate .. Finished flight are lost whole; both ends
 * recover by retransmission on the virtual clock. */
static void check_lost_flights(const struct lost *l)
{
    cr_assert(l->server_hello_done && l->server_hello_dgrams >= 1, "the ServerHello flight was lost");
    cr_assert(l->client_finished_done && l->client_finished_dgrams >= 1, "the client's Finished flight was lost");
    cr_log_info("lost %u datagrams of the ServerHello flight, %u of the client's Finished flight",
                l->server_hello_dgrams, l->client_finished_dgrams);
}

Test(dtls_peer, ours_client_flights_lost, .timeout = 60)
{
    struct lost lost;
    handshake(false, LOSE_SERVER_HELLO_FLIGHT | LOSE_CLIENT_FINISHED_FLIGHT, &lost);
    check_lost_flights(&lost);
}

Test(dtls_peer, ours_server_flights_lost, .timeout = 60)
{
    struct lost lost;
    handshake(true, LOSE_SERVER_HELLO_FLIGHT | LOSE_CLIENT_FINISHED_FLIGHT, &lost);
    check_lost_flights(&lost);
}

Test(dtls_peer, ours_server_client_finished_lost_only, .timeout = 60)
{
    struct lost lost;
    handshake(true, LOSE_CLIENT_FINISHED_FLIGHT, &lost);
    cr_assert(lost.client_finished_done && lost.server_hello_dgrams == 0);
}
