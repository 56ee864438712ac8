/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS 1.2 engine against a third implementation, OpenSSL's DTLS
 * (libssl 3.0), in both roles.
 *
 * In process: OpenSSL plugged into the in-memory link (dtls_link.h) as a
 * struct link_peer, on a datagram BIO of our own (a queue each way), with
 * an ECDSA P-256 certificate and the peer checked by its SHA-256
 * fingerprint in a verify callback (mutual authentication, as WebRTC
 * does): every suite our engine has with X25519 and P-256, OpenSSL's
 * cookie exchange, use_srtp with the exported keying material equal,
 * application data and close_notify both ways, a small MTU, 10 % loss,
 * duplication and reordering, a large fragmented ClientHello, the key log,
 * OpenSSL holding our own certificate; refusals: a wrong fingerprint
 * either way, a DTLS 1.0 peer, and two cases of a certificate curve
 * missing from supported_groups (RFC 8422 §4) that our engine gets wrong
 * today (the tests say what it should do).
 *
 * Time: OpenSSL's DTLS timer reads gettimeofday(). This file defines
 * gettimeofday() (the executable's definition wins over libc's for
 * libssl), which returns the link's virtual time while the peer is inside
 * an OpenSSL call and the real time otherwise; so OpenSSL retransmits on
 * the virtual clock exactly as it would on the real one (1 s, doubling,
 * up to 60 s), and the link asks it for its deadline (DTLSv1_get_timeout)
 * and hands it its timeouts (DTLSv1_handle_timeout).
 *
 * Over UDP on 127.0.0.1: the openssl s_server and s_client tools as child
 * processes against our engine on a socket in this process (real
 * monotonic time as `now`: this is the driver, not the engine); each
 * checks our certificate as a trust anchor, negotiates use_srtp, prints
 * its exported keying material, and echoes one line each way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls_hello.h"
#include "dtls_link.h"
#include "vclock_tod.h"
#include "wire.h"

/* ---- the virtual clock OpenSSL reads ------------------------------- */

#define VCLOCK_EPOCH_NS (1767225600ull * 1000000000ull) /* virtual 0 is 2026-01-01 */

static bool vclock_on;
static uint64_t vclock_ns;

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    vclock_tod(tv, vclock_on, VCLOCK_EPOCH_NS + vclock_ns);
    return 0;
}

/* ---- datagram queues --------------------------------------------------- */

#define DQ 64

struct dq {
    int head, n;
    unsigned overflow;
    uint16_t len[DQ];
    uint8_t d[DQ][LINK_DGRAM];
};

static void dq_push(struct dq *q, const void *d, size_t len)
{
    if (q->n == DQ || len > LINK_DGRAM) {
        q->overflow++;
        return;
    }
    int k = (q->head + q->n++) % DQ;
    memcpy(q->d[k], d, len);
    q->len[k] = (uint16_t)len;
}

/* The oldest datagram into out (cut to cap, as UDP does); 0 when none. */
static size_t dq_pop(struct dq *q, void *out, size_t cap)
{
    if (!q->n)
        return 0;
    size_t len = q->len[q->head] < cap ? q->len[q->head] : cap;
    memcpy(out, q->d[q->head], len);
    q->head = (q->head + 1) % DQ;
    q->n--;
    return len;
}

/* ---- OpenSSL's certificate --------------------------------------------- */

static X509 *o_x509;
static EVP_PKEY *o_key;
static uint8_t o_fp[DTLS_FP_LEN];

static void fingerprint_of(X509 *x, uint8_t *fp)
{
    unsigned n = 0;
    cr_assert_eq(X509_digest(x, EVP_sha256(), fp, &n), 1);
    cr_assert_eq(n, DTLS_FP_LEN);
}

/* A self-signed ECDSA P-256 certificate made by OpenSSL (not by us). */
static void openssl_cert(void)
{
    link_init_crypto();
    if (o_x509)
        return;
    o_key = EVP_EC_gen("P-256");
    cr_assert_not_null(o_key);
    X509 *x = X509_new();
    cr_assert_not_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 20261202);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 30 * 86400);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"openssl-peer", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, o_key);
    cr_assert_gt(X509_sign(x, o_key, EVP_sha256()), 0);
    o_x509 = x;
    fingerprint_of(x, o_fp);
}

/* Our certificate and key (dtls_cert) as OpenSSL objects. */
static void ours_as_openssl(const struct dtls_cert *c, X509 **x, EVP_PKEY **k)
{
    const unsigned char *p = c->der;
    *x = d2i_X509(NULL, &p, c->der_len);
    cr_assert_not_null(*x, "OpenSSL reads our certificate");
    cr_assert_eq(p, c->der + c->der_len, "and all of it");
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *priv = BN_bin2bn(c->priv, CP_P256_PRIV_LEN, NULL);
    cr_assert(b && priv);
    cr_assert(OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0));
    cr_assert(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, priv));
    cr_assert(
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, c->pub, CP_P256_PUB_LEN));
    OSSL_PARAM *ps = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    cr_assert(ps && pc);
    *k = NULL;
    cr_assert_eq(EVP_PKEY_fromdata_init(pc), 1);
    cr_assert_eq(EVP_PKEY_fromdata(pc, k, EVP_PKEY_KEYPAIR, ps), 1);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(b);
    BN_clear_free(priv);
    cr_assert_eq(X509_check_private_key(*x, *k), 1, "our key is the key of our certificate");
    uint8_t fp[DTLS_FP_LEN];
    fingerprint_of(*x, fp);
    cr_assert_arr_eq(fp, c->fingerprint, DTLS_FP_LEN);
}

/* ---- OpenSSL as a link peer ---------------------------------------------- */

struct ossl_opts {
    bool server;
    const char *ciphers; /* NULL: our three suites */
    const char *groups;  /* NULL: "X25519:P-256" */
    const char *srtp;    /* NULL: no use_srtp */
    bool cookies;        /* server: SSL_OP_COOKIE_EXCHANGE with our callbacks */
    bool prefer_own;  /* server: its own suite and group order (SSL_OP_CIPHER_SERVER_PREFERENCE) */
    unsigned mtu;     /* datagram size OpenSSL fills (SSL_set_mtu); 0: DTLS_MTU */
    bool big_hello;   /* client: many suites and groups, SNI, status_request, a long ALPN list */
    bool our_cert;    /* present our certificate of that side (sc or cc), converted */
    bool dtls10_only; /* speak DTLS 1.0 alone (with a CBC suite at security level 0) */
    bool no_ems;      /* no extended_master_secret (SSL_OP_NO_EXTENDED_MASTER_SECRET) */
    bool no_verify;   /* server: no CertificateRequest (SSL_VERIFY_NONE) */
    const uint8_t *want_fp; /* what our side's certificate must hash to; NULL: ours */
};

struct ossl_peer {
    struct link_peer lp;
    struct ossl_opts o;
    SSL_CTX *ctx;
    SSL *ssl;
    uint64_t now; /* the latest virtual time handed in */
    bool failed, closed;
    bool fp_ok, fp_bad;         /* our certificate seen, matching / not */
    int ssl_error;              /* SSL_get_error when it failed */
    int alert_sent, alert_rcvd; /* descriptions, -1 none */
    unsigned cookies_made, cookies_good, cookies_bad;
    unsigned retransmits; /* flights OpenSSL sent again on its timer */
    uint8_t cookie[20];
    char keylog[DTLS_KEYLOG_LINE];
    char err[1536]; /* ERR_print_errors when it failed */
    char state[80]; /* SSL_state_string_long when it failed */
    uint8_t app[4096];
    size_t app_len;
    struct dq in, out;
};

static void vclock_enter(struct ossl_peer *p, uint64_t now)
{
    if (now > p->now)
        p->now = now;
    vclock_ns = p->now;
    vclock_on = true;
}

static void vclock_leave(void)
{
    vclock_on = false;
}

static struct ossl_peer *peer_of(const SSL *s)
{
    return SSL_get_app_data(s);
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_write(BIO *b, const char *d, int n)
{
    struct ossl_peer *p = BIO_get_data(b);
    dq_push(&p->out, d, (size_t)n);
    return n;
}

static int bio_read(BIO *b, char *d, int n)
{
    struct ossl_peer *p = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t got = dq_pop(&p->in, d, (size_t)n);
    if (!got) {
        BIO_set_retry_read(b);
        return -1;
    }
    return (int)got;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct ossl_peer *p = BIO_get_data(b);
    (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return p->o.mtu;
    default:
        return 0; /* no pending bytes, no MTU overhead, no peer address */
    }
}

static BIO_METHOD *link_bio_method(void)
{
    static BIO_METHOD *m;
    if (!m) {
        m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "swarmgen link");
        cr_assert_not_null(m);
        BIO_meth_set_create(m, bio_create);
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
    }
    return m;
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
    (void)ok; /* self-signed: untrusted by construction, judged by fingerprint alone */
    SSL *s = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct ossl_peer *p = peer_of(s);
    uint8_t fp[DTLS_FP_LEN];
    unsigned n = 0;
    if (!X509_digest(X509_STORE_CTX_get0_cert(x), EVP_sha256(), fp, &n) || n != DTLS_FP_LEN ||
        memcmp(fp, p->o.want_fp, DTLS_FP_LEN) != 0) {
        p->fp_bad = true;
        X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    p->fp_ok = true;
    return 1;
}

static void keylog_cb(const SSL *s, const char *line)
{
    struct ossl_peer *p = peer_of(s);
    if (strncmp(line, "CLIENT_RANDOM ", 14) == 0)
        snprintf(p->keylog, sizeof(p->keylog), "%s\n", line);
}

static void info_cb(const SSL *s, int where, int ret)
{
    struct ossl_peer *p = peer_of(s);
    if (where & SSL_CB_ALERT) {
        if (where & SSL_CB_READ)
            p->alert_rcvd = ret & 0xff;
        else
            p->alert_sent = ret & 0xff;
    }
}

static int cookie_make(SSL *s, unsigned char *c, unsigned int *len)
{
    struct ossl_peer *p = peer_of(s);
    memcpy(c, p->cookie, sizeof(p->cookie));
    *len = sizeof(p->cookie);
    p->cookies_made++;
    return 1;
}

static int cookie_check(SSL *s, const unsigned char *c, unsigned int len)
{
    struct ossl_peer *p = peer_of(s);
    bool ok = len == sizeof(p->cookie) && memcmp(c, p->cookie, len) == 0;
    ok ? p->cookies_good++ : p->cookies_bad++;
    return ok;
}

/* OpenSSL gave up: what it said. */
static void ossl_failed(struct ossl_peer *p, int ssl_error)
{
    p->failed = true;
    p->ssl_error = ssl_error;
    snprintf(p->state, sizeof(p->state), "%s", SSL_state_string_long(p->ssl));
    BIO *m = BIO_new(BIO_s_mem());
    ERR_print_errors(m);
    int n = BIO_read(m, p->err, sizeof(p->err) - 1);
    p->err[n > 0 ? n : 0] = '\0';
    BIO_free(m);
}

/* Handshake while it is not done; application data and the peer's
 * repeated flights (SSL_read) after. */
static void ossl_step(struct ossl_peer *p)
{
    if (p->failed)
        return;
    if (!SSL_is_init_finished(p->ssl)) {
        int rc = SSL_do_handshake(p->ssl);
        if (rc <= 0) {
            int e = SSL_get_error(p->ssl, rc);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                ossl_failed(p, e);
            return;
        }
    }
    for (;;) {
        uint8_t buf[2048];
        int n = SSL_read(p->ssl, buf, sizeof(buf));
        if (n > 0) {
            size_t k =
                (size_t)n < sizeof(p->app) - p->app_len ? (size_t)n : sizeof(p->app) - p->app_len;
            memcpy(p->app + p->app_len, buf, k);
            p->app_len += k;
            continue;
        }
        int e = SSL_get_error(p->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN)
            p->closed = true;
        else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            ossl_failed(p, e);
        return;
    }
}

static void peer_input(void *self, const uint8_t *d, size_t len, uint64_t now)
{
    struct ossl_peer *p = self;
    vclock_enter(p, now);
    dq_push(&p->in, d, len);
    ossl_step(p);
    vclock_leave();
}

static size_t peer_transmit(void *self, uint8_t *buf, size_t cap, uint64_t now)
{
    struct ossl_peer *p = self;
    if (now > p->now)
        p->now = now;
    return dq_pop(&p->out, buf, cap);
}

static uint64_t peer_next_timeout(void *self)
{
    struct ossl_peer *p = self;
    if (p->failed)
        return UINT64_MAX;
    if (p->out.n)
        return p->now;
    struct timeval tv;
    vclock_enter(p, p->now);
    long running = DTLSv1_get_timeout(p->ssl, &tv);
    vclock_leave();
    if (running <= 0)
        return UINT64_MAX;
    return p->now + (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static void peer_timeout(void *self, uint64_t now)
{
    struct ossl_peer *p = self;
    if (p->failed)
        return;
    vclock_enter(p, now);
    int rc = DTLSv1_handle_timeout(p->ssl);
    if (rc > 0)
        p->retransmits++;
    else if (rc < 0)
        ossl_failed(p, SSL_ERROR_SSL);
    vclock_leave();
}

static int peer_state(void *self)
{
    struct ossl_peer *p = self;
    return p->failed ? -1 : SSL_is_init_finished(p->ssl) ? 1 : 0;
}

#define OUR_SUITES                                                                                 \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"

/* A ClientHello of about 1.2 KB: every suite OpenSSL has for DTLS 1.2,
 * groups we do not take ahead of those we do, SNI, status_request and 48
 * ALPN protocols. */
static void big_hello(SSL *s)
{
    cr_assert_eq(SSL_set_cipher_list(s, "ALL"), 1);
    cr_assert_eq(SSL_set1_groups_list(s, "X448:P-521:P-384:X25519:P-256"), 1);
    cr_assert_eq(SSL_set_tlsext_host_name(s, "a-rather-long-name-for-a-webrtc-peer.swarmgen.test"),
                 1);
    cr_assert_eq(SSL_set_tlsext_status_type(s, TLSEXT_STATUSTYPE_ocsp), 1);
    uint8_t alpn[48 * 17 + 1]; /* + the NUL snprintf leaves after the last */
    size_t n = 0;
    for (int i = 0; i < 48; i++) {
        alpn[n] = 16;
        snprintf((char *)alpn + n + 1, 17, "swarmgen-alpn-%02d", i);
        n += 17;
    }
    cr_assert_eq(SSL_set_alpn_protos(s, alpn, (unsigned)n), 0);
}

static struct ossl_peer *ossl_peer_new(const struct ossl_opts *o, uint64_t now)
{
    openssl_cert();
    struct ossl_peer *p = calloc(1, sizeof(*p));
    cr_assert_not_null(p);
    p->o = *o;
    if (!p->o.mtu)
        p->o.mtu = DTLS_MTU;
    if (!p->o.want_fp)
        p->o.want_fp = o->server ? cc.fingerprint : sc.fingerprint;
    p->now = now;
    p->alert_sent = p->alert_rcvd = -1;
    cr_assert_eq(RAND_bytes(p->cookie, sizeof(p->cookie)), 1);

    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    cr_assert_not_null(ctx);
    int version = o->dtls10_only ? DTLS1_VERSION : DTLS1_2_VERSION;
    cr_assert_eq(SSL_CTX_set_min_proto_version(ctx, version), 1);
    cr_assert_eq(SSL_CTX_set_max_proto_version(ctx, version), 1);
    X509 *x = o_x509;
    EVP_PKEY *k = o_key;
    if (o->our_cert)
        ours_as_openssl(o->server ? &sc : &cc, &x, &k);
    cr_assert_eq(SSL_CTX_use_certificate(ctx, x), 1);
    cr_assert_eq(SSL_CTX_use_PrivateKey(ctx, k), 1);
    cr_assert_eq(SSL_CTX_check_private_key(ctx), 1);
    if (o->our_cert) {
        X509_free(x);
        EVP_PKEY_free(k);
    }
    if (o->no_verify)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    else
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (o->server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           verify_cb);
    const char *ciphers = o->dtls10_only ? "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"
                          : o->ciphers   ? o->ciphers
                                         : OUR_SUITES;
    cr_assert_eq(SSL_CTX_set_cipher_list(ctx, ciphers), 1, "%s", ciphers);
    cr_assert_eq(SSL_CTX_set1_groups_list(ctx, o->groups ? o->groups : "X25519:P-256"), 1);
    if (o->srtp)
        cr_assert_eq(SSL_CTX_set_tlsext_use_srtp(ctx, o->srtp), 0, "%s",
                     o->srtp); /* 0 is success */
    SSL_CTX_set_keylog_callback(ctx, keylog_cb);
    if (o->no_ems)
        SSL_CTX_set_options(ctx, SSL_OP_NO_EXTENDED_MASTER_SECRET);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU |
                                 (o->prefer_own ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
    if (o->server && o->cookies) {
        SSL_CTX_set_cookie_generate_cb(ctx, cookie_make);
        SSL_CTX_set_cookie_verify_cb(ctx, cookie_check);
    }

    SSL *s = SSL_new(ctx);
    cr_assert_not_null(s);
    SSL_set_app_data(s, p);
    SSL_set_info_callback(s, info_cb);
    if (o->server && o->cookies)
        SSL_set_options(s, SSL_OP_COOKIE_EXCHANGE);
    cr_assert_gt(SSL_set_mtu(s, p->o.mtu), 0, "OpenSSL takes an MTU of %u", p->o.mtu);
    if (o->big_hello)
        big_hello(s);
    BIO *b = BIO_new(link_bio_method());
    cr_assert_not_null(b);
    BIO_set_data(b, p);
    SSL_set_bio(s, b, b);
    if (o->server)
        SSL_set_accept_state(s);
    else
        SSL_set_connect_state(s);
    p->ctx = ctx;
    p->ssl = s;
    p->lp = (struct link_peer){
        p, peer_input, peer_transmit, peer_next_timeout, peer_timeout, peer_state};
    if (!o->server) {
        vclock_enter(p, now);
        ossl_step(p); /* the ClientHello */
        vclock_leave();
    }
    return p;
}

static void ossl_peer_free(struct ossl_peer *p)
{
    SSL_free(p->ssl);
    SSL_CTX_free(p->ctx);
    free(p);
}

/* ---- what went over the wire ------------------------------------------- */

struct wire {
    struct link *l;
    unsigned dgrams[2], max_dgram[2];
    unsigned fragmented[2];  /* handshake fragments shorter than their message, per sender */
    unsigned hello_frags[2]; /* of them, ClientHello fragments */
    unsigned hello_len;      /* the longest ClientHello */
    char trace[24576];       /* one line a datagram, for failure reports */
    size_t len;
};

static const char *hs_name(unsigned t)
{
    switch (t) {
    case 1:
        return "ClientHello";
    case 2:
        return "ServerHello";
    case 3:
        return "HelloVerifyRequest";
    case 4:
        return "NewSessionTicket";
    case 11:
        return "Certificate";
    case 12:
        return "ServerKeyExchange";
    case 13:
        return "CertificateRequest";
    case 14:
        return "ServerHelloDone";
    case 15:
        return "CertificateVerify";
    case 16:
        return "ClientKeyExchange";
    case 20:
        return "Finished";
    default:
        return "?";
    }
}

static void wire_add(struct wire *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wire_add(struct wire *w, const char *fmt, ...)
{
    if (w->len + 1 >= sizeof(w->trace))
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->trace + w->len, sizeof(w->trace) - w->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        w->len = w->len + (size_t)n < sizeof(w->trace) ? w->len + (size_t)n : sizeof(w->trace) - 1;
}

/* link tap: counts and describes each datagram (records and, in the
 * clear, handshake fragments). */
static void wire_tap(void *arg, int from, const uint8_t *d, size_t len)
{
    struct wire *w = arg;
    w->dgrams[from]++;
    if (len > w->max_dgram[from])
        w->max_dgram[from] = (unsigned)len;
    wire_add(w, "%9.3f %s %4zu:", (double)w->l->now / 1e9, from ? "S>C" : "C>S", len);
    for (size_t off = 0; off + 13 <= len;) {
        const uint8_t *r = d + off;
        size_t rl = (size_t)r[11] << 8 | r[12];
        unsigned epoch = (unsigned)r[3] << 8 | r[4];
        uint64_t seq = 0;
        for (int i = 5; i < 11; i++)
            seq = seq << 8 | r[i];
        if (off + 13 + rl > len)
            break;
        if (r[0] == DTLS_CT_HANDSHAKE && epoch == 0) {
            for (size_t h = 0; h + 12 <= rl;) {
                const uint8_t *m = r + 13 + h;
                unsigned mlen = wire_get24(m + 1), foff = wire_get24(m + 6), flen = wire_get24(m + 9);
                wire_add(w, " [%s#%u %u+%u/%u]", hs_name(m[0]), (unsigned)m[4] << 8 | m[5], foff,
                         flen, mlen);
                if (m[0] == 1 && mlen > w->hello_len)
                    w->hello_len = mlen;
                if (flen < mlen) {
                    w->fragmented[from]++;
                    w->hello_frags[from] += m[0] == 1;
                }
                h += 12 + flen;
            }
        } else {
            wire_add(w, " [%s e%u s%llu %zu]",
                     r[0] == DTLS_CT_CHANGE_CIPHER_SPEC ? "CCS"
                     : r[0] == DTLS_CT_ALERT            ? "Alert"
                     : r[0] == DTLS_CT_HANDSHAKE        ? "HS"
                                                        : "App",
                     epoch, (unsigned long long)seq, rl);
        }
        off += 13 + rl;
    }
    wire_add(w, "\n");
}

/* ---- a handshake on the link ------------------------------------------- */

struct pair {
    struct link l;
    struct wire w;
    struct ossl_peer *p;
    int ours; /* our side: 0 client, 1 server */
};

#define UNTIL (600ull * 1000000000ull) /* virtual: enough for OpenSSL's twelve timeouts */

/* Our endpoint's configuration for a side, expecting OpenSSL's certificate. */
static struct dtls_config our_config(bool server)
{
    static struct link scratch; /* link_config only takes a record layer's address from it */
    openssl_cert();
    struct dtls_config c = link_config(&scratch, server);
    c.peer_fingerprint = o_fp;
    return c;
}

/* Our endpoint with cfg on its side, OpenSSL with o on the other. */
static struct pair *pair_new(const struct dtls_config *cfg, struct ossl_opts o)
{
    struct pair *x = calloc(1, sizeof(*x));
    cr_assert_not_null(x);
    x->ours = cfg->is_server;
    o.server = !cfg->is_server;
    link_setup(&x->l, cfg->is_server ? NULL : cfg, cfg->is_server ? cfg : NULL);
    x->p = ossl_peer_new(&o, 0);
    x->l.peer[1 - x->ours] = &x->p->lp;
    x->w.l = &x->l;
    x->l.tap = wire_tap;
    x->l.tap_arg = &x->w;
    return x;
}

static void pair_free(struct pair *x)
{
    ossl_peer_free(x->p);
    link_done(&x->l);
    free(x);
}

static struct dtls_endpoint *ours_of(struct pair *x)
{
    return x->l.ep[x->ours];
}

static const char *alert_name(int a)
{
    return a < 0 ? "-" : SSL_alert_desc_string_long(a);
}

/* Both sides' view, for failure messages. */
static const char *pair_why(struct pair *x)
{
    static char b[4096];
    struct dtls_endpoint *e = ours_of(x);
    const struct dtls_counters *c = dtls_counters(e);
    struct ossl_peer *p = x->p;
    snprintf(b, sizeof(b),
             "ours (%s): %s, failure %s, alert %d; datagrams in %u out %u, records dropped %u, "
             "fragments held %u dropped %u dup %u, retransmits %u+%u | "
             "OpenSSL (%s): %s, SSL_get_error %d, state \"%s\", "
             "alert sent %d (%s), received %d (%s), cookies made %u good %u bad %u; errors:\n%s",
             x->ours ? "server" : "client",
             dtls_connected(e) ? "up"
             : dtls_failed(e)  ? "failed"
                               : "not done",
             dtls_failure_name(dtls_failure(e)), dtls_failure_alert(e), c->datagrams_in,
             c->datagrams_out, c->records_dropped, c->fragments_held, c->fragments_dropped,
             c->fragments_dup, c->retransmit_timeouts, c->retransmits_on_repeat,
             x->ours ? "client" : "server",
             p->failed                      ? "failed"
             : SSL_is_init_finished(p->ssl) ? "up"
                                            : "not done",
             p->ssl_error, p->failed ? p->state : SSL_state_string_long(p->ssl), p->alert_sent,
             alert_name(p->alert_sent), p->alert_rcvd, alert_name(p->alert_rcvd), p->cookies_made,
             p->cookies_good, p->cookies_bad, p->err);
    return b;
}

static void assert_up(struct pair *x)
{
    bool ok = x->l.up[0] && x->l.up[1] && !x->l.failed[0] && !x->l.failed[1];
    if (!ok)
        fprintf(stderr, "---- the wire (C client, S server) ----\n%s", x->w.trace);
    cr_assert(ok, "%s", pair_why(x));
    cr_assert_eq(x->p->in.overflow + x->p->out.overflow, 0, "OpenSSL's datagram queues overflowed");
}

static uint16_t suite_code(enum dtls_suite s)
{
    return s == DTLS_SUITE_AES_128_GCM         ? 0xc02b
           : s == DTLS_SUITE_AES_256_GCM       ? 0xc02c
           : s == DTLS_SUITE_CHACHA20_POLY1305 ? 0xcca9
                                               : 0;
}

static int group_nid(enum cp_group g)
{
    return g == CP_GROUP_X25519 ? NID_X25519 : g == CP_GROUP_SECP256R1 ? NID_X9_62_prime256v1 : 0;
}

/* Both sides agree: suite, group, extended master secret, each checked
 * the other's certificate, the SRTP profile (want_srtp, or -1: any) and
 * its keying material, another exporter label, the key log line. */
static void assert_agree(struct pair *x, uint16_t want_suite, int want_nid, int want_srtp)
{
    struct dtls_endpoint *e = ours_of(x);
    SSL *s = x->p->ssl;
    uint16_t os = SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(s));
    cr_assert_eq(os, suite_code(dtls_suite(e)), "suite: OpenSSL %04x, ours %04x", os,
                 suite_code(dtls_suite(e)));
    if (want_suite)
        cr_assert_eq(os, want_suite, "suite %04x, wanted %04x", os, want_suite);
    int nid = SSL_get_negotiated_group(s);
    cr_assert_eq(nid, group_nid(dtls_group(e)), "group: OpenSSL %s, ours %d", OBJ_nid2sn(nid),
                 dtls_group(e));
    if (want_nid)
        cr_assert_eq(nid, want_nid);
    cr_assert_eq(SSL_get_extms_support(s), !x->p->o.no_ems, "extended master secret");
    if (!x->p->o.no_verify)
        cr_assert(x->p->fp_ok && !x->p->fp_bad,
                  "OpenSSL checked our certificate by its fingerprint");

    const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(s);
    uint16_t op = sp ? (uint16_t)sp->id : 0;
    cr_assert_eq(op, dtls_srtp_profile(e), "SRTP profile: OpenSSL %04x, ours %04x", op,
                 dtls_srtp_profile(e));
    if (want_srtp >= 0)
        cr_assert_eq(op, want_srtp, "SRTP profile %04x, wanted %04x", op, (unsigned)want_srtp);
    uint8_t a[DTLS_KEYING_MAX], b[DTLS_KEYING_MAX];
    if (op) {
        size_t n = dtls_srtp_keying_len(op);
        cr_assert_gt(n, 0);
        cr_assert_eq(dtls_export_keying(e, "EXTRACTOR-dtls_srtp", a, n), 0);
        cr_assert_eq(SSL_export_keying_material(s, b, n, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0), 1);
        cr_assert_arr_eq(a, b, n, "DTLS-SRTP keying material (%zu bytes) differs", n);
    }
    cr_assert_eq(dtls_export_keying(e, "EXPORTER-swarmgen-test", a, 40), 0);
    cr_assert_eq(SSL_export_keying_material(s, b, 40, "EXPORTER-swarmgen-test", 22, NULL, 0, 0), 1);
    cr_assert_arr_eq(a, b, 40, "RFC 5705 exporter differs");

    char line[DTLS_KEYLOG_LINE];
    cr_assert_eq(dtls_keylog_line(e, line), 0);
    cr_assert_str_eq(line, x->p->keylog, "key log: ours %s OpenSSL's %s", line, x->p->keylog);
}

/* Application data both ways (our record layer, SSL_write / SSL_read),
 * then close_notify both ways. */
static void assert_data(struct pair *x)
{
    struct dtls_record *r = &x->l.rec[x->ours];
    struct ossl_peer *p = x->p;
    size_t big = p->o.mtu - 64 < 1000 ? p->o.mtu - 64 : 1000;
    size_t sizes[] = {1, 100, big};
    uint8_t msg[1024], rec[1400], out[1400];
    for (int i = 0; i < 3; i++) {
        size_t len = sizes[i];
        for (size_t j = 0; j < len; j++)
            msg[j] = (uint8_t)(i * 31 + j);
        int n = dtls_record_seal(r, DTLS_CT_APPLICATION_DATA, msg, len, rec, sizeof(rec));
        cr_assert_gt(n, 0);
        dq_push(&p->in, rec, (size_t)n);
        vclock_enter(p, p->now);
        int m = SSL_read(p->ssl, out, sizeof(out));
        int e = SSL_get_error(p->ssl, m);
        vclock_leave();
        cr_assert_eq(m, (int)len, "OpenSSL read %d of %zu (SSL_get_error %d)", m, len, e);
        cr_assert_arr_eq(out, msg, len);

        p->out.n = p->out.head = 0;
        vclock_enter(p, p->now);
        m = SSL_write(p->ssl, msg, (int)len);
        vclock_leave();
        cr_assert_eq(m, (int)len);
        size_t dl = dq_pop(&p->out, rec, sizeof(rec));
        cr_assert_gt(dl, 0);
        size_t used;
        uint8_t type;
        int k = dtls_record_open(r, rec, dl, &used, &type, out, sizeof(out));
        cr_assert_eq(k, (int)len, "ours opened %d of %zu", k, len);
        cr_assert_eq(type, DTLS_CT_APPLICATION_DATA);
        cr_assert_eq(used, dl);
        cr_assert_arr_eq(out, msg, len);
    }
    /* OpenSSL closes; we read its close_notify and close in turn */
    p->out.n = p->out.head = 0;
    vclock_enter(p, p->now);
    SSL_shutdown(p->ssl);
    vclock_leave();
    size_t dl = dq_pop(&p->out, rec, sizeof(rec));
    cr_assert_gt(dl, 0);
    size_t used;
    uint8_t type;
    dtls_record_open(r, rec, dl, &used, &type, out, sizeof(out));
    cr_assert(!dtls_record_can_open(r) && dtls_record_can_seal(r),
              "ours took OpenSSL's close_notify (no fatal alert)");
    int n = dtls_record_close(r, rec, sizeof(rec));
    cr_assert_gt(n, 0);
    dq_push(&p->in, rec, (size_t)n);
    vclock_enter(p, p->now);
    int m = SSL_read(p->ssl, out, sizeof(out));
    int e = SSL_get_error(p->ssl, m);
    vclock_leave();
    cr_assert_eq(e, SSL_ERROR_ZERO_RETURN, "OpenSSL took our close_notify (SSL_read %d, error %d)",
                 m, e);
}

/* ---- every suite and group, both roles ----------------------------------- */

static const struct {
    uint8_t bit;
    uint16_t code;
    const char *name;
} suites[] = {
    {DTLS_OFFER_AES_128_GCM, 0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {DTLS_OFFER_AES_256_GCM, 0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {DTLS_OFFER_CHACHA20, 0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

static const struct {
    uint8_t bit;
    int nid;
    const char *name;
} groups[] = {
    {DTLS_OFFER_X25519, NID_X25519, "X25519"},
    {DTLS_OFFER_P256, NID_X9_62_prime256v1, "P-256"},
};

/* Both ends limited to one suite; the group chosen by the server, the
 * client offering both. (Both ends must list P-256 whatever the ECDHE
 * group: the certificates are on it, and OpenSSL, as RFC 8422 §4 asks,
 * takes a peer's ECDSA key only on a curve in the supported_groups.) */
static void suite_group(bool ours_server, int si, int gi)
{
    struct dtls_config c = our_config(ours_server);
    c.suites = suites[si].bit;
    c.groups = ours_server ? groups[gi].bit : DTLS_OFFER_ALL_GROUPS;
    struct ossl_opts o = {.ciphers = suites[si].name,
                          .groups = ours_server || gi == 1 ? "P-256:X25519" : "X25519:P-256",
                          .prefer_own = true,
                          .srtp = "SRTP_AES128_CM_SHA1_80"};
    struct pair *x = pair_new(&c, o);
    link_run(&x->l, UNTIL);
    assert_up(x);
    cr_assert_eq(x->l.now, 0, "no retransmission without loss (%s)", pair_why(x));
    if (ours_server)
        cr_assert_eq(dtls_counters(ours_of(x))->cookies_sent, 1,
                     "our server asked OpenSSL's client for a cookie");
    assert_agree(x, suites[si].code, groups[gi].nid, 0x0001);
    assert_data(x);
    pair_free(x);
}

Test(dtls_openssl, our_client_openssl_server_every_suite_and_group, .timeout = 60)
{
    for (int si = 0; si < 3; si++)
        for (int gi = 0; gi < 2; gi++)
            suite_group(false, si, gi);
}

Test(dtls_openssl, openssl_client_our_server_every_suite_and_group, .timeout = 60)
{
    for (int si = 0; si < 3; si++)
        for (int gi = 0; gi < 2; gi++)
            suite_group(true, si, gi);
}

/* A client lists the curves it takes for the server's certificate in
 * supported_groups too (RFC 8422 §4), so ours always lists P-256 (an
 * X25519-only client configuration is refused at dtls_init): with X25519
 * first, OpenSSL's server picks X25519 for the key exchange and its P-256
 * certificate is fine. (Found here: an earlier engine listed X25519 alone
 * and OpenSSL refused with handshake_failure, "no shared cipher".) */
Test(dtls_openssl, our_client_lists_p256_for_certificates_beside_x25519, .timeout = 60)
{
    struct dtls_config c = our_config(false);
    c.groups = DTLS_OFFER_X25519;
    uint8_t mem[4096] __attribute__((aligned(64)));
    struct dtls_record rec;
    struct dtls_record_keys keys;
    struct dtls_record_counters rc = {0};
    dtls_record_keys_clear(&keys);
    dtls_record_reset(&rec, &keys, &rc, true);
    c.rec = &rec;
    cr_assert_eq(dtls_init((struct dtls_endpoint *)mem, &c, 0), -EINVAL, "a client without P-256 is refused");
    c = our_config(false);
    struct pair *x = pair_new(&c, (struct ossl_opts){.groups = "X25519:P-256"});
    link_run(&x->l, UNTIL);
    assert_up(x);
    assert_agree(x, 0, NID_X25519, -1);
    pair_free(x);
}

/* A client whose supported_groups leaves secp256r1 out cannot take our
 * P-256 certificate (RFC 8422 §4): our server refuses at the ClientHello
 * with handshake_failure. (Found here: an earlier engine picked X25519
 * and sent its P-256 certificate anyway; OpenSSL's client failed with
 * "wrong curve", illegal_parameter.) */
Test(dtls_openssl, our_server_refuses_a_client_without_p256_for_its_certificate, .timeout = 60)
{
    struct dtls_config c = our_config(true);
    struct pair *x = pair_new(&c, (struct ossl_opts){.groups = "X25519"});
    link_run(&x->l, UNTIL);
    cr_assert(dtls_failed(ours_of(x)), "%s", pair_why(x));
    cr_assert_eq(dtls_failure(ours_of(x)), DTLS_FAIL_NO_SHARED_SUITE, "%s", pair_why(x));
    cr_assert_eq(x->p->alert_rcvd, DTLS_ALERT_HANDSHAKE_FAILURE, "%s", pair_why(x));
    pair_free(x);
}

/* Each side offering everything: what each one's preference gives; our
 * server with and without a cookie (behind ICE libwebrtc sends none). */
Test(dtls_openssl, everything_offered_both_roles, .timeout = 60)
{
    for (int run = 0; run < 3; run++) {
        bool ours_server = run > 0;
        struct dtls_config c = our_config(ours_server);
        if (run == 2)
            c.cookie_secret = NULL;
        struct pair *x = pair_new(
            &c, (struct ossl_opts){.srtp = "SRTP_AES128_CM_SHA1_32:SRTP_AES128_CM_SHA1_80"});
        link_run(&x->l, UNTIL);
        assert_up(x);
        assert_agree(x, 0, 0, -1);
        if (ours_server)
            cr_assert_eq(dtls_counters(ours_of(x))->cookies_sent, run == 1);
        cr_log_info("ours %s: suite %04x, group %d, SRTP %04x", ours_server ? "server" : "client",
                    suite_code(dtls_suite(ours_of(x))), dtls_group(ours_of(x)),
                    dtls_srtp_profile(ours_of(x)));
        assert_data(x);
        pair_free(x);
    }
}

/* ---- DTLS 1.0 refused ------------------------------------------------------ */

/* Our server refuses OpenSSL's DTLS 1.0 ClientHello with protocol_version;
 * OpenSSL's DTLS 1.0 server finds none of our (1.2-only, AEAD) suites
 * and refuses our ClientHello with handshake_failure. */
Test(dtls_openssl, a_dtls10_only_peer_is_refused_both_roles, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        struct dtls_config c = our_config(ours_server);
        struct pair *x = pair_new(&c, (struct ossl_opts){.dtls10_only = true});
        link_run(&x->l, UNTIL);
        cr_assert(!x->l.up[0] && !x->l.up[1], "%s", pair_why(x));
        cr_assert(dtls_failed(ours_of(x)) && x->p->failed, "%s", pair_why(x));
        if (ours_server) {
            cr_assert_eq(dtls_failure(ours_of(x)), DTLS_FAIL_VERSION, "%s", pair_why(x));
            cr_assert_eq(x->p->alert_rcvd, DTLS_ALERT_PROTOCOL_VERSION, "%s", pair_why(x));
        } else {
            cr_assert_eq(dtls_failure(ours_of(x)), DTLS_FAIL_PEER_ALERT, "%s", pair_why(x));
            cr_assert_eq(dtls_failure_alert(ours_of(x)), DTLS_ALERT_HANDSHAKE_FAILURE, "%s",
                         pair_why(x));
        }
        pair_free(x);
    }
}

/* ---- the plain master secret, one-way authentication -------------------- */

/* Without extended_master_secret (RFC 7627) the master secret comes from
 * the randoms (RFC 5246 §8.1): the exporter and key log must still agree. */
Test(dtls_openssl, without_extended_master_secret_both_roles, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        struct dtls_config c = our_config(ours_server);
        c.srtp = DTLS_SRTP_ALL;
        struct pair *x =
            pair_new(&c, (struct ossl_opts){.no_ems = true, .srtp = "SRTP_AEAD_AES_128_GCM"});
        link_run(&x->l, UNTIL);
        assert_up(x);
        assert_agree(x, 0, 0, 0x0007);
        assert_data(x);
        pair_free(x);
    }
}

/* Not WebRTC, but a peer may do it: a server that asks for no client
 * certificate (OpenSSL's, or ours with no_client_cert). */
Test(dtls_openssl, server_without_certificate_request_both_roles, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        struct dtls_config c = our_config(ours_server);
        c.no_client_cert = ours_server;
        struct pair *x = pair_new(&c, (struct ossl_opts){.no_verify = !ours_server});
        link_run(&x->l, UNTIL);
        assert_up(x);
        if (ours_server)
            cr_assert(x->p->fp_ok, "OpenSSL's client checked our server's certificate");
        else
            cr_assert(!x->p->fp_ok, "OpenSSL's server saw no certificate of ours");
        assert_agree(x, 0, 0, -1);
        assert_data(x);
        pair_free(x);
    }
}

/* ---- cookies --------------------------------------------------------------- */

Test(dtls_openssl, our_client_through_openssl_cookie_exchange, .timeout = 60)
{
    struct dtls_config c = our_config(false);
    struct pair *x =
        pair_new(&c, (struct ossl_opts){.cookies = true, .srtp = "SRTP_AES128_CM_SHA1_80"});
    link_run(&x->l, UNTIL);
    assert_up(x);
    cr_assert_eq(x->l.now, 0, "no retransmission");
    cr_assert_eq(x->p->cookies_made, 1, "OpenSSL sent one HelloVerifyRequest");
    cr_assert_eq(x->p->cookies_good, 1, "and our second ClientHello carried its cookie");
    cr_assert_eq(x->p->cookies_bad, 0);
    assert_agree(x, 0, 0, 0x0001);
    assert_data(x);
    pair_free(x);
}

/* ---- use_srtp ------------------------------------------------------------ */

static const struct {
    bool ours_server;
    uint8_t ours;     /* what we offer (client) or accept (server) */
    const char *ossl; /* OpenSSL's list, in its preference */
    int want;         /* the profile both must end on, 0: none */
} srtp_cases[] = {
    /* OpenSSL's server picks by its own preference among what we offer */
    {false, DTLS_SRTP_ALL, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", 0x0007},
    {false, DTLS_SRTP_ALL, "SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM", 0x0008},
    {false, DTLS_SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_SHA1_32:SRTP_AES128_CM_SHA1_80", 0x0001},
    {false, DTLS_SRTP_AES128_CM_SHA1_32 | DTLS_SRTP_AEAD_AES_256_GCM, "SRTP_AES128_CM_SHA1_32",
     0x0002},
    {false, DTLS_SRTP_AEAD_AES_256_GCM, "SRTP_AES128_CM_SHA1_80", 0}, /* nothing shared */
    {false, DTLS_SRTP_ALL, NULL, 0},         /* OpenSSL not asked for SRTP */
    {false, 0, "SRTP_AES128_CM_SHA1_80", 0}, /* we do not offer it */
    /* our server takes the client's first that it accepts */
    {true, DTLS_SRTP_ALL, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", 0x0001},
    {true, DTLS_SRTP_ALL, "SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_32", 0x0008},
    {true, DTLS_SRTP_AEAD_AES_128_GCM | DTLS_SRTP_AES128_CM_SHA1_32,
     "SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_32:SRTP_AEAD_AES_128_GCM", 0x0002},
    {true, DTLS_SRTP_AEAD_AES_128_GCM, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", 0x0007},
    {true, DTLS_SRTP_AES128_CM_SHA1_80, "SRTP_AEAD_AES_128_GCM", 0}, /* nothing shared */
    {true, 0, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", 0},    /* we do not accept it */
};

Test(dtls_openssl, use_srtp_profiles_and_equal_keying_material, .timeout = 60)
{
    for (size_t i = 0; i < sizeof(srtp_cases) / sizeof(srtp_cases[0]); i++) {
        struct dtls_config c = our_config(srtp_cases[i].ours_server);
        c.srtp = srtp_cases[i].ours;
        struct pair *x = pair_new(&c, (struct ossl_opts){.srtp = srtp_cases[i].ossl});
        link_run(&x->l, UNTIL);
        assert_up(x);
        assert_agree(x, 0, 0, srtp_cases[i].want);
        pair_free(x);
    }
}

/* ---- small MTU: fragmented flights both ways --------------------------- */

Test(dtls_openssl, small_mtu_fragments_flights_both_ways, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        struct dtls_config c = our_config(ours_server);
        c.mtu = DTLS_MTU_MIN;
        struct pair *x = pair_new(&c, (struct ossl_opts){.mtu = DTLS_MTU_MIN, .cookies = true});
        link_run(&x->l, UNTIL);
        assert_up(x);
        /* no assertion on retransmissions: the link delivers datagrams
         * due at the same instant out of order (three or more in flight),
         * and OpenSSL drops a ChangeCipherSpec that overtakes the
         * CertificateVerify, so a flight may have to go again */
        for (int s = 0; s < 2; s++) {
            cr_assert_gt(x->w.fragmented[s], 1, "%s sent fragmented messages",
                         s ? "the server" : "the client");
            cr_assert_leq(x->w.max_dgram[s], DTLS_MTU_MIN, "%s kept to the MTU",
                          s ? "the server" : "the client");
        }
        assert_agree(x, 0, 0, -1);
        assert_data(x);
        pair_free(x);
    }
}

/* ---- a large ClientHello from OpenSSL, fragmented ------------------------ */

static void big_hello_run(uint32_t seed, unsigned reorder_pct)
{
    struct dtls_config c = our_config(true);
    struct pair *x = pair_new(&c, (struct ossl_opts){.mtu = DTLS_MTU_MIN, .big_hello = true});
    x->l.rng = seed;
    x->l.reorder_pct = reorder_pct;
    x->l.delay_ns = 2000000;
    link_run(&x->l, UNTIL);
    assert_up(x);
    cr_assert_geq(x->w.hello_frags[0], 10, "OpenSSL's two ClientHellos went in %u fragments",
                  x->w.hello_frags[0]);
    cr_assert_gt(x->w.hello_len, 1000, "a ClientHello of %u bytes", x->w.hello_len);
    if (seed == 1)
        cr_log_info(
            "OpenSSL's ClientHello: %u bytes, %u fragments for the two; ours held %u fragments",
            x->w.hello_len, x->w.hello_frags[0], dtls_counters(ours_of(x))->fragments_held);
    cr_assert_eq(dtls_counters(ours_of(x))->cookies_sent, 1);
    cr_assert_eq(dtls_group(ours_of(x)), CP_GROUP_X25519, "the first group offered that we take");
    assert_agree(x, 0, 0, -1);
    assert_data(x);
    pair_free(x);
}

Test(dtls_openssl, fragmented_large_client_hello_reassembled, .timeout = 60)
{
    big_hello_run(1, 0);
}

Test(dtls_openssl, fragmented_large_client_hello_reordered, .timeout = 60)
{
    for (uint32_t seed = 1; seed <= 12; seed++)
        big_hello_run(seed, 30);
}

/* ---- 10 % loss, duplication and reordering ------------------------------- */

#define LOSS_SEEDS 120 /* both roles, three MTUs, OpenSSL's cookies on and off */

Test(dtls_openssl, ten_percent_loss_duplication_and_reordering, .timeout = 60)
{
    unsigned dropped = 0, duplicated = 0, reordered = 0, ours_rtx = 0, openssl_rtx = 0;
    static const uint16_t mtus[] = {DTLS_MTU_MIN, 500, DTLS_MTU};
    for (uint32_t seed = 1; seed <= LOSS_SEEDS; seed++) {
        bool ours_server = seed & 1;
        uint16_t mtu = mtus[seed / 2 % 3];
        struct dtls_config c = our_config(ours_server);
        c.mtu = mtu;
        c.rto_max_ms = 60000;
        c.srtp = DTLS_SRTP_ALL;
        struct pair *x = pair_new(
            &c, (struct ossl_opts){.mtu = mtu,
                                   .cookies = seed % 4 < 2,
                                   .srtp = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"});
        x->l.rng = seed;
        x->l.loss_pct = x->l.dup_pct = x->l.reorder_pct = 10;
        x->l.delay_ns = 5000000;
        link_run(&x->l, UNTIL);
        if (!(x->l.up[0] && x->l.up[1]))
            cr_log_error("seed %u, ours %s, MTU %u", seed, ours_server ? "server" : "client", mtu);
        assert_up(x);
        assert_agree(x, 0, 0, 0x0007);
        assert_data(x);
        dropped += x->l.dropped;
        duplicated += x->l.duplicated;
        reordered += x->l.reordered;
        ours_rtx += dtls_counters(ours_of(x))->retransmit_timeouts;
        openssl_rtx += x->p->retransmits;
        pair_free(x);
    }
    cr_log_info(
        "%u handshakes: dropped %u, duplicated %u, reordered %u; retransmission timeouts: ours %u, "
        "OpenSSL's %u",
        LOSS_SEEDS, dropped, duplicated, reordered, ours_rtx, openssl_rtx);
    cr_assert_gt(dropped, LOSS_SEEDS);
    cr_assert_gt(duplicated, LOSS_SEEDS / 2);
    cr_assert_gt(reordered, LOSS_SEEDS / 2);
    cr_assert_gt(ours_rtx, LOSS_SEEDS / 4);
    cr_assert_gt(openssl_rtx, LOSS_SEEDS / 4);
}

/* ---- OpenSSL holding our certificate and key ----------------------------- */

Test(dtls_openssl, openssl_uses_our_certificate_and_key, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        struct dtls_config c = our_config(ours_server);
        /* OpenSSL stands where our other endpoint would, with its certificate */
        c.peer_fingerprint = ours_server ? cc.fingerprint : sc.fingerprint;
        struct pair *x =
            pair_new(&c, (struct ossl_opts){.our_cert = true, .srtp = "SRTP_AES128_CM_SHA1_80"});
        link_run(&x->l, UNTIL);
        assert_up(x);
        assert_agree(x, 0, 0, 0x0001);
        assert_data(x);
        pair_free(x);
    }
}

/* ---- a wrong fingerprint, either side ---------------------------------- */

Test(dtls_openssl, openssl_rejects_a_wrong_fingerprint_of_ours, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        uint8_t wrong[DTLS_FP_LEN];
        link_init_crypto();
        memcpy(wrong, ours_server ? sc.fingerprint : cc.fingerprint, DTLS_FP_LEN);
        wrong[7] ^= 0x40;
        struct dtls_config c = our_config(ours_server);
        struct pair *x = pair_new(&c, (struct ossl_opts){.want_fp = wrong});
        link_run(&x->l, UNTIL);
        cr_assert(x->p->failed && x->p->fp_bad, "OpenSSL refused our certificate: %s", pair_why(x));
        cr_assert_eq(x->p->alert_sent, DTLS_ALERT_BAD_CERTIFICATE, "%s", pair_why(x));
        cr_assert(dtls_failed(ours_of(x)), "%s", pair_why(x));
        cr_assert_eq(dtls_failure(ours_of(x)), DTLS_FAIL_PEER_ALERT, "%s", pair_why(x));
        cr_assert_eq(dtls_failure_alert(ours_of(x)), DTLS_ALERT_BAD_CERTIFICATE);
        pair_free(x);
    }
}

Test(dtls_openssl, we_reject_a_wrong_fingerprint_of_openssl, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        uint8_t wrong[DTLS_FP_LEN];
        struct dtls_config c = our_config(ours_server);
        memcpy(wrong, o_fp, DTLS_FP_LEN);
        wrong[3] ^= 1;
        c.peer_fingerprint = wrong;
        struct pair *x = pair_new(&c, (struct ossl_opts){0});
        link_run(&x->l, UNTIL);
        cr_assert(dtls_failed(ours_of(x)), "%s", pair_why(x));
        cr_assert_eq(dtls_failure(ours_of(x)), DTLS_FAIL_FINGERPRINT, "%s", pair_why(x));
        cr_assert(x->p->failed, "OpenSSL learned of it: %s", pair_why(x));
        cr_assert_eq(x->p->alert_rcvd, DTLS_ALERT_BAD_CERTIFICATE, "%s", pair_why(x));
        pair_free(x);
    }
}

/* ---- DTLS 1.3 offered to a 1.2-only peer (issue 21) ----------------------- */

/* OpenSSL 3.0's DTLS speaks 1.2 at most. The link tap feeds both the wire
 * trace and a reading of our hellos (dtls_hello.h). */
struct fallback_tap {
    struct wire *w;
    struct hello_seen h;
};

static void fallback_tap_fn(void *arg, int from, const uint8_t *d, size_t len)
{
    struct fallback_tap *t = arg;
    wire_tap(t->w, from, d, len);
    hello_tap(&t->h, from, d, len);
}

static struct pair *fallback_pair(bool ours_server, uint8_t versions, bool cookies,
                                  struct fallback_tap *t)
{
    struct dtls_config c = our_config(ours_server);
    c.versions = versions;
    struct pair *x =
        pair_new(&c, (struct ossl_opts){.cookies = cookies, .srtp = "SRTP_AES128_CM_SHA1_80"});
    memset(t, 0, sizeof(*t));
    t->w = &x->w;
    t->h.side = x->ours;
    x->l.tap = fallback_tap_fn;
    x->l.tap_arg = t;
    return x;
}

/* Our end auto (1.2 and 1.3), OpenSSL 1.2 only, both roles, cookies from
 * whichever server: 1.2 negotiated (our version, our record form, and
 * OpenSSL's SSL_version DTLS1_2_VERSION), everything assert_agree and
 * assert_data check (exporters, key log, records and close_notify both
 * ways); our client offered 1.3 in both its ClientHellos; our server's
 * 1.2 ServerHello ends its random with the RFC 8446 §4.1.3 sentinel
 * DOWNGRD\x01, and OpenSSL's 1.2 client completes regardless. */
Test(dtls_openssl, auto_falls_back_to_1_2_both_roles, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        struct fallback_tap t;
        struct pair *x = fallback_pair(ours_server, DTLS_OFFER_ALL_VERSIONS, true, &t);
        link_run(&x->l, UNTIL);
        assert_up(x);
        cr_assert_eq(x->l.now, 0, "no retransmission (%s)", pair_why(x));
        struct dtls_endpoint *e = ours_of(x);
        cr_assert_eq(dtls_version(e), DTLS_V12);
        cr_assert_eq(dtls_record_version(&x->l.rec[x->ours]), DTLS_V12);
        cr_assert_eq(SSL_version(x->p->ssl), DTLS1_2_VERSION, "OpenSSL: %s",
                     SSL_get_version(x->p->ssl));
        cr_assert_eq(t.h.records_unified, 0);
        if (!ours_server) {
            cr_assert_eq(x->p->cookies_made, 1);
            cr_assert_eq(t.h.client_hellos, 2);
            cr_assert_eq(t.h.ch_offer_13, 2, "0xfefc in supported_versions of both ClientHellos");
            cr_assert_eq(t.h.ch_offer_12, 2);
            cr_assert_eq(t.h.ch_key_share, 2, "a key_share in both ClientHellos");
        } else {
            cr_assert_eq(dtls_counters(e)->cookies_sent, 1);
            cr_assert_eq(t.h.server_hellos, 1);
            cr_assert_eq(t.h.sh_version, DTLS_V12);
            cr_assert(!t.h.sh_supported_versions);
            cr_assert_eq(memcmp(t.h.sh_random_tail, "DOWNGRD\x01", 8), 0, "the downgrade sentinel");
            /* and OpenSSL's view of the same random */
            uint8_t sr[32];
            cr_assert_eq(SSL_get_server_random(x->p->ssl, sr, sizeof(sr)), 32);
            cr_assert_eq(memcmp(sr + 24, "DOWNGRD\x01", 8), 0,
                         "OpenSSL read the sentinel we wrote");
        }
        assert_agree(x, 0, 0, 0x0001);
        assert_data(x);
        pair_free(x);
    }
}

/* Our end 1.3 only against OpenSSL's 1.2: refused in both roles without
 * a retransmission (virtual time stays 0), both ends failed: OpenSSL's
 * server answers our 1.3-only ClientHello (1.3 suites alone) with
 * handshake_failure; our 1.3-only server answers OpenSSL's 1.2
 * ClientHello with protocol_version (DTLS_FAIL_VERSION). */
Test(dtls_openssl, a_1_3_only_end_and_openssl_refuse_each_other_both_roles, .timeout = 60)
{
    for (int ours_server = 0; ours_server < 2; ours_server++) {
        struct fallback_tap t;
        struct pair *x = fallback_pair(ours_server, DTLS_OFFER_V13, false, &t);
        link_run(&x->l, UNTIL);
        struct dtls_endpoint *e = ours_of(x);
        cr_assert(!x->l.up[0] && !x->l.up[1], "%s", pair_why(x));
        cr_assert(dtls_failed(e) && x->p->failed, "%s", pair_why(x));
        cr_assert_eq(x->l.now, 0, "refused at once: %s", pair_why(x));
        cr_log_info("ours %s: %s alert %d; OpenSSL alert sent %d received %d",
                    ours_server ? "server" : "client", dtls_failure_name(dtls_failure(e)),
                    dtls_failure_alert(e), x->p->alert_sent, x->p->alert_rcvd);
        if (ours_server) {
            cr_assert_eq(dtls_failure(e), DTLS_FAIL_VERSION, "%s", pair_why(x));
            cr_assert_eq(x->p->alert_rcvd, DTLS_ALERT_PROTOCOL_VERSION, "%s", pair_why(x));
        } else {
            cr_assert_eq(t.h.ch_offer_13, 1);
            cr_assert_eq(t.h.ch_offer_12, 0, "a 1.3-only ClientHello");
            /* 1.3 suites alone in it: OpenSSL finds no shared cipher */
            cr_assert_eq(dtls_failure(e), DTLS_FAIL_PEER_ALERT, "%s", pair_why(x));
            cr_assert_eq(dtls_failure_alert(e), DTLS_ALERT_HANDSHAKE_FAILURE, "%s", pair_why(x));
            cr_assert_eq(x->p->alert_sent, DTLS_ALERT_HANDSHAKE_FAILURE, "%s", pair_why(x));
        }
        pair_free(x);
    }
}

/* ---- the openssl tools over UDP on 127.0.0.1 ------------------------------ */

struct child {
    pid_t pid;
    int in, out, err; /* our ends of its stdin, stdout, stderr; -1 closed */
    char obuf[65536], ebuf[16384];
    size_t olen, elen;
};

static struct child *live_child; /* stopped by cli_fini on every path */
static char tmpdir[64];

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_pem_x509(const char *name, X509 *x)
{
    char path[128];
    path_in_tmp(path, sizeof(path), name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(PEM_write_X509(f, x), 1);
    fclose(f);
}

/* Whether an executable `name` is on PATH. */
static bool on_path(const char *name)
{
    const char *path = getenv("PATH");
    char dir[256], full[512];
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof(dir), "%.*s", (int)n, p);
        snprintf(full, sizeof(full), "%s/%s", n ? dir : ".", name);
        if (access(full, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

static void cli_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    openssl_cert();
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/swarmgen-dtls-openssl-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    write_pem_x509("openssl.crt", o_x509);
    char path[128];
    path_in_tmp(path, sizeof(path), "openssl.key");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(PEM_write_PrivateKey(f, o_key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    const struct dtls_cert *ours[2] = {&cc, &sc};
    const char *names[2] = {"ours-client.crt", "ours-server.crt"};
    for (int i = 0; i < 2; i++) {
        const unsigned char *p = ours[i]->der;
        X509 *x = d2i_X509(NULL, &p, ours[i]->der_len);
        cr_assert_not_null(x);
        write_pem_x509(names[i], x);
        X509_free(x);
    }
}

static void child_close_fds(struct child *c)
{
    int *fds[3] = {&c->in, &c->out, &c->err};
    for (int i = 0; i < 3; i++)
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1;
        }
}

/* Kills the child (the one process we started, by its id) and reaps it. */
static void child_stop(struct child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    child_close_fds(c);
    if (live_child == c)
        live_child = NULL;
}

static void cli_fini(void)
{
    if (live_child)
        child_stop(live_child);
    const char *names[] = {"openssl.crt", "openssl.key", "ours-client.crt", "ours-server.crt"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[128];
        path_in_tmp(path, sizeof(path), names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

static void child_start(struct child *c, char *const argv[])
{
    int pi[2], po[2], pe[2];
    cr_assert(pipe2(pi, O_CLOEXEC) == 0 && pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the test */
        dup2(pi[0], 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pi[0]);
    close(po[1]);
    close(pe[1]);
    c->pid = pid;
    c->in = pi[1];
    c->out = po[0];
    c->err = pe[0];
    c->olen = c->elen = 0;
    c->obuf[0] = c->ebuf[0] = '\0';
    fcntl(c->out, F_SETFL, O_NONBLOCK);
    fcntl(c->err, F_SETFL, O_NONBLOCK);
    live_child = c;
}

/* Takes what the child wrote so far (kept NUL-terminated). */
static void child_drain(struct child *c)
{
    struct {
        int *fd;
        char *buf;
        size_t *len, cap;
    } s[2] = {{&c->out, c->obuf, &c->olen, sizeof(c->obuf)},
              {&c->err, c->ebuf, &c->elen, sizeof(c->ebuf)}};
    for (int i = 0; i < 2; i++) {
        while (*s[i].fd >= 0) {
            char tmp[4096];
            ssize_t n = read(*s[i].fd, tmp, sizeof(tmp));
            if (n == 0) {
                close(*s[i].fd);
                *s[i].fd = -1;
                break;
            }
            if (n < 0)
                break;
            size_t k = (size_t)n < s[i].cap - 1 - *s[i].len ? (size_t)n : s[i].cap - 1 - *s[i].len;
            memcpy(s[i].buf + *s[i].len, tmp, k);
            *s[i].len += k;
            s[i].buf[*s[i].len] = '\0';
        }
    }
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Our engine on a UDP socket. */
struct udp_side {
    int fd;
    bool started, up, failed;
    struct sockaddr_in peer;
    _Alignas(64) uint8_t mem[4096];
    struct dtls_endpoint *e;
    struct dtls_record rec;
    struct dtls_record_keys keys; /* the record's alone */
    struct dtls_record_counters rec_counters;
    struct dtls_config cfg;
    char id[32];
    uint8_t secret[DTLS_COOKIE_SECRET];
    char app[4096]; /* application data received, NUL-terminated */
    size_t app_len;
};

static void udp_send_due(struct udp_side *u, uint64_t now)
{
    uint8_t buf[2048];
    size_t n;
    while ((n = dtls_poll_transmit(u->e, buf, sizeof(buf), now)) > 0)
        (void)sendto(u->fd, buf, n, 0, (const struct sockaddr *)&u->peer, sizeof(u->peer));
    enum dtls_event_type ev;
    while ((ev = dtls_poll_event(u->e, &(struct dtls_ev){0})) != DTLS_EV_NONE) {
        u->up |= ev == DTLS_EV_CONNECTED;
        u->failed |= ev == DTLS_EV_FAILED;
    }
}

/* A datagram in: application data to our record layer once up, every
 * other record to the handshake. A server starts on its first datagram,
 * the client's address its cookie's client id. */
static void udp_datagram(struct udp_side *u, const uint8_t *d, size_t len,
                         const struct sockaddr_in *from, uint64_t now)
{
    if (!u->started) {
        u->peer = *from;
        snprintf(u->id, sizeof(u->id), "%s:%u", inet_ntoa(from->sin_addr), ntohs(from->sin_port));
        u->cfg.client_id = (const uint8_t *)u->id;
        u->cfg.client_id_len = (uint8_t)strlen(u->id);
        u->e = (struct dtls_endpoint *)u->mem;
        dtls_record_keys_clear(&u->keys);
        dtls_record_reset(&u->rec, &u->keys, &u->rec_counters, !u->cfg.is_server);
        if (dtls_init(u->e, &u->cfg, now) != 0) {
            u->failed = true;
            return;
        }
        u->started = true;
    }
    for (size_t off = 0; off + DTLS_RECORD_HEADER <= len;) {
        size_t rl = DTLS_RECORD_HEADER + ((size_t)d[off + 11] << 8 | d[off + 12]);
        if (rl > len - off)
            break;
        if (d[off] == DTLS_CT_APPLICATION_DATA && u->up) {
            uint8_t out[2048], type;
            size_t used;
            int n = dtls_record_open(&u->rec, d + off, rl, &used, &type, out, sizeof(out));
            if (n > 0 && type == DTLS_CT_APPLICATION_DATA &&
                u->app_len + (size_t)n < sizeof(u->app)) {
                memcpy(u->app + u->app_len, out, (size_t)n);
                u->app_len += (size_t)n;
                u->app[u->app_len] = '\0';
            }
        } else {
            dtls_handle_input(u->e, d + off, rl, now);
        }
        off += rl;
    }
}

/* One pass: our timeouts and what is due out, then a wait of at most
 * max_ms (less when our next deadline is sooner) for datagrams or the
 * child's output. */
static void udp_pass(struct udp_side *u, struct child *c, int max_ms)
{
    uint64_t now = mono_ns();
    int wait = max_ms;
    if (u->started) {
        dtls_handle_timeout(u->e, now);
        udp_send_due(u, now);
        uint64_t t = dtls_next_timeout(u->e);
        if (t != UINT64_MAX) {
            uint64_t ms = t > now ? (t - now + 999999) / 1000000 : 0;
            wait = ms < (uint64_t)wait ? (int)ms : wait;
        }
    }
    struct pollfd pf[3] = {{u->fd, POLLIN, 0}, {c->out, POLLIN, 0}, {c->err, POLLIN, 0}};
    poll(pf, 3, wait);
    child_drain(c);
    for (;;) {
        static uint8_t d[65536];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(u->fd, d, sizeof(d), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0 && errno == ECONNREFUSED)
            continue; /* an ICMP error from before the peer listened */
        if (n < 0)
            break;
        udp_datagram(u, d, (size_t)n, &from, mono_ns());
    }
    if (u->started)
        udp_send_due(u, mono_ns());
}

static void udp_send_app(struct udp_side *u, const char *msg)
{
    uint8_t rec[512];
    int n = dtls_record_seal(&u->rec, DTLS_CT_APPLICATION_DATA, (const uint8_t *)msg, strlen(msg),
                             rec, sizeof(rec));
    cr_assert_gt(n, 0);
    (void)sendto(u->fd, rec, (size_t)n, 0, (const struct sockaddr *)&u->peer, sizeof(u->peer));
}

static struct udp_side *udp_side_new(void)
{
    struct udp_side *u = calloc(1, sizeof(*u));
    cr_assert_not_null(u);
    u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(u->fd, 0);
    u->peer.sin_family = AF_INET;
    u->peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return u;
}

/* A UDP port on 127.0.0.1 nobody holds right now. */
static uint16_t free_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* "Keying material: HEX" as s_server and s_client print it. */
static bool keying_printed(const char *out, uint8_t *k, size_t n)
{
    const char *s = strstr(out, "Keying material: ");
    if (!s)
        return false;
    s += strlen("Keying material: ");
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        k[i] = (uint8_t)v;
    }
    return true;
}

#define CLI_BUDGET_NS (15ull * 1000000000ull)

/* What a run against a tool saw, taken before the child is stopped. */
struct cli_result {
    bool up, failed, keys_printed, tool_got_ping, we_got_pong;
    uint64_t t_start, t_up, t_done; /* monotonic ns */
    uint8_t printed[DTLS_KEYING_MAX];
};

static void cli_log(struct udp_side *u, const struct cli_result *r, const char *who)
{
    cr_log_info(
        "%s: our %s up after %.1f ms (suite %04x, group %d, SRTP %04x, %u datagrams in, %u out), "
        "a line each way after %.1f ms; keying material %02x%02x%02x%02x.. printed by %s equal",
        who, u->cfg.is_server ? "server" : "client", (double)(r->t_up - r->t_start) / 1e6,
        suite_code(dtls_suite(u->e)), dtls_group(u->e), dtls_srtp_profile(u->e),
        dtls_counters(u->e)->datagrams_in, dtls_counters(u->e)->datagrams_out,
        (double)(r->t_done - r->t_start) / 1e6, r->printed[0], r->printed[1], r->printed[2],
        r->printed[3], who);
}

static void cli_talk(struct udp_side *u, struct child *c, uint64_t deadline, const char *ping,
                     const char *pong, size_t klen, struct cli_result *r)
{
    r->t_start = mono_ns();
    while (!u->up && !u->failed && mono_ns() < deadline)
        udp_pass(u, c, 20);
    r->t_up = mono_ns();
    r->up = u->up;
    r->failed = u->failed;
    if (!r->up)
        return;
    udp_send_app(u, ping);
    cr_assert_eq(write(c->in, pong, strlen(pong)), (ssize_t)strlen(pong));
    while (mono_ns() < deadline && !(strstr(c->obuf, ping) && strstr(u->app, pong) &&
                                     keying_printed(c->obuf, r->printed, klen)))
        udp_pass(u, c, 20);
    r->t_done = mono_ns();
    r->keys_printed = keying_printed(c->obuf, r->printed, klen);
    r->tool_got_ping = strstr(c->obuf, ping) != NULL;
    r->we_got_pong = strstr(u->app, pong) != NULL;
}

static void cli_assert(struct udp_side *u, struct child *c, const struct cli_result *r,
                       uint16_t profile)
{
    const char *who = u->cfg.is_server ? "s_client" : "s_server";
    cr_assert(r->up, "our %s against %s: %s (failure %s, alert %d)\n%s stdout:\n%s\n%s stderr:\n%s",
              u->cfg.is_server ? "server" : "client", who,
              r->failed ? "failed" : "no handshake in time",
              u->started ? dtls_failure_name(dtls_failure(u->e)) : "not started",
              u->started ? dtls_failure_alert(u->e) : -1, who, c->obuf, who, c->ebuf);
    cr_assert(r->tool_got_ping, "%s printed our message:\n%s", who, c->obuf);
    cr_assert(r->we_got_pong, "we read %s's line; got \"%s\"", who, u->app);
    cr_assert_eq(dtls_srtp_profile(u->e), profile);
    size_t n = dtls_srtp_keying_len(profile);
    uint8_t k[DTLS_KEYING_MAX];
    cr_assert_eq(dtls_export_keying(u->e, "EXTRACTOR-dtls_srtp", k, n), 0);
    cr_assert(r->keys_printed, "%s printed its keying material:\n%s", who, c->obuf);
    cr_assert_arr_eq(k, r->printed, n, "the DTLS-SRTP keying material %s printed differs from ours",
                     who);
}

Test(dtls_openssl_cli, our_client_against_s_server, .init = cli_init, .fini = cli_fini,
     .timeout = 40)
{
    cr_assert(on_path("openssl"), "the openssl tool is not installed (Debian package openssl)");
    static struct child c;
    char accept[32], crt[128], key[128], ca[128];
    snprintf(accept, sizeof(accept), "127.0.0.1:%u", free_udp_port());
    path_in_tmp(crt, sizeof(crt), "openssl.crt");
    path_in_tmp(key, sizeof(key), "openssl.key");
    path_in_tmp(ca, sizeof(ca), "ours-client.crt");
    char *argv[] = {"openssl",
                    "s_server",
                    "-dtls1_2",
                    "-accept",
                    accept,
                    "-naccept",
                    "1",
                    "-cert",
                    crt,
                    "-key",
                    key,
                    "-verify",
                    "1",
                    "-verify_return_error",
                    "-CAfile",
                    ca,
                    "-use_srtp",
                    "SRTP_AES128_CM_SHA1_80",
                    "-keymatexport",
                    "EXTRACTOR-dtls_srtp",
                    "-keymatexportlen",
                    "60",
                    NULL};
    uint64_t deadline = mono_ns() + CLI_BUDGET_NS;
    child_start(&c, argv);
    while (!strstr(c.obuf, "ACCEPT") && c.out >= 0 && mono_ns() < deadline) {
        struct pollfd pf = {c.out, POLLIN, 0};
        poll(&pf, 1, 20);
        child_drain(&c);
    }
    cr_assert(strstr(c.obuf, "ACCEPT"), "s_server listens: %s %s", c.obuf, c.ebuf);

    struct udp_side *u = udp_side_new();
    u->peer.sin_port = htons((uint16_t)atoi(strchr(accept, ':') + 1));
    cr_assert_eq(connect(u->fd, (struct sockaddr *)&u->peer, sizeof(u->peer)), 0);
    u->cfg =
        (struct dtls_config){.cp = &link_cp,
                             .cert = &cc,
                             .peer_fingerprint = o_fp,
                             .rec = &u->rec,
                             .srtp = DTLS_SRTP_AES128_CM_SHA1_80 | DTLS_SRTP_AES128_CM_SHA1_32};
    u->e = (struct dtls_endpoint *)u->mem;
    dtls_record_keys_clear(&u->keys);
    dtls_record_reset(&u->rec, &u->keys, &u->rec_counters, true);
    cr_assert_eq(dtls_init(u->e, &u->cfg, mono_ns()), 0);
    u->started = true;
    struct cli_result r = {0};
    cli_talk(u, &c, deadline, "0 ping from swarmgen\n", "1 pong from s_server\n", 60, &r);
    child_drain(&c);
    child_stop(&c);
    close(u->fd);
    cli_assert(u, &c, &r, 0x0001);
    cli_log(u, &r, "s_server");
    dtls_free(u->e);
    free(u);
}

Test(dtls_openssl_cli, s_client_against_our_server, .init = cli_init, .fini = cli_fini,
     .timeout = 40)
{
    cr_assert(on_path("openssl"), "the openssl tool is not installed (Debian package openssl)");
    static struct child c;
    struct udp_side *u = udp_side_new();
    struct sockaddr_in a = u->peer;
    socklen_t al = sizeof(a);
    cr_assert_eq(bind(u->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(u->fd, (struct sockaddr *)&a, &al), 0);
    cr_assert_eq(RAND_bytes(u->secret, sizeof(u->secret)), 1);
    u->cfg = (struct dtls_config){.is_server = true,
                                  .cp = &link_cp,
                                  .cert = &sc,
                                  .peer_fingerprint = o_fp,
                                  .rec = &u->rec,
                                  .cookie_secret = u->secret,
                                  .srtp = DTLS_SRTP_ALL};
    char connect_to[32], crt[128], key[128], ca[128];
    snprintf(connect_to, sizeof(connect_to), "127.0.0.1:%u", ntohs(a.sin_port));
    path_in_tmp(crt, sizeof(crt), "openssl.crt");
    path_in_tmp(key, sizeof(key), "openssl.key");
    path_in_tmp(ca, sizeof(ca), "ours-server.crt");
    char *argv[] = {"openssl",
                    "s_client",
                    "-dtls1_2",
                    "-connect",
                    connect_to,
                    "-cert",
                    crt,
                    "-key",
                    key,
                    "-verify",
                    "1",
                    "-verify_return_error",
                    "-CAfile",
                    ca,
                    "-use_srtp",
                    "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
                    "-keymatexport",
                    "EXTRACTOR-dtls_srtp",
                    "-keymatexportlen",
                    "56",
                    "-ign_eof",
                    NULL};
    uint64_t deadline = mono_ns() + CLI_BUDGET_NS;
    child_start(&c, argv);
    struct cli_result r = {0};
    cli_talk(u, &c, deadline, "0 ping from swarmgen\n", "1 pong from s_client\n", 56, &r);
    child_drain(&c);
    child_stop(&c);
    close(u->fd);
    cli_assert(u, &c, &r, 0x0007);
    cli_log(u, &r, "s_client");
    cr_assert_eq(dtls_counters(u->e)->cookies_sent, 1, "s_client came back with our cookie");
    dtls_free(u->e);
    free(u);
}
