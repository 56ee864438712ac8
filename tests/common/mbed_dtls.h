/* SPDX-License-Identifier: MIT */
/*
 * mbed_dtls: a DTLS 1.2 endpoint on mbedTLS 2.28, sans-I/O, kept as an
 * independent peer for our own engine (crypto/dtls.h) in the interop
 * tests and as mbedTLS's side of the handshake benchmark. It is not used
 * by swarmgen itself.
 *
 * Both roles; a self-signed ECDSA P-256 certificate made by mbedTLS
 * (mbedtls_x509write_crt) with its SHA-256 fingerprint; the peer accepted
 * by the SHA-256 fingerprint of its certificate only, as WebRTC does (no
 * CA: a mismatch fails the handshake in the verify callback and mbedTLS
 * sends its fatal alert); HelloVerifyRequest cookies on the server by
 * mbedTLS's own cookie module (mbedtls_ssl_cookie, optional); the suites
 * TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, _AES_256_GCM_SHA384 and
 * _CHACHA20_POLY1305_SHA256 and the groups X25519 and secp256r1,
 * selectable; use_srtp with SRTP_AES128_CM_HMAC_SHA1_80 and _32 (mbedTLS
 * 2.28 has no AEAD profiles); the master secret and randoms from
 * mbedtls_ssl_conf_export_keys_ext_cb, so that keying material can be
 * exported with mbedtls_ssl_tls_prf (RFC 5705, "EXTRACTOR-dtls_srtp").
 *
 * After the handshake application data goes through mbedTLS's own record
 * layer: mbed_dtls_write seals with mbedtls_ssl_write (the datagram comes
 * out of mbed_dtls_poll_transmit), and every datagram handed in is read by
 * mbedtls_ssl_read at once (a server also answers a repeated final flight
 * of the client that way), its application data kept for mbed_dtls_read.
 *
 * Time model: every entry point takes `now` (ns, a `now` older than the
 * last is ignored); mbedTLS's retransmission timer runs on it, never on a
 * clock of its own (mbedTLS's cookie module alone reads the wall clock,
 * for its 60 s cookie lifetime). mbed_dtls_next_timeout gives the next
 * deadline. Randomness: a CTR-DRBG seeded from the configuration's seed
 * (reproducible; a test peer, not a secure endpoint).
 *
 * Memory: struct mbed_dtls holds mbedTLS's contexts, which keep pointers
 * into it: it must not move between mbed_dtls_init and mbed_dtls_free.
 * mbedTLS allocates its record buffers and handshake state on the heap in
 * mbed_dtls_init and during the handshake; mbed_dtls_free releases all.
 * Datagrams in and out wait in fixed queues inside the struct. One
 * endpoint is used by one thread at a time; endpoints are independent.
 *
 * Errors: 0 or a non-negative count on success, a negative mbedTLS error
 * code (MBEDTLS_ERR_*) or -errno otherwise, as each function says.
 */
#ifndef SWARMGEN_TESTS_MBED_DTLS_H
#define SWARMGEN_TESTS_MBED_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/x509_crt.h>

#include "dtls_peer_ops.h"
#include "keylog.h"
#include "mbed_glue.h"

#define MBED_DTLS_MTU         1200 /* default datagram size */
#define MBED_DTLS_DGRAM       1500 /* the largest datagram queued either way */
#define MBED_DTLS_QUEUE       16   /* datagrams queued in, and out */
#define MBED_DTLS_APP_QUEUE   8    /* application records read and not yet taken */
#define MBED_DTLS_APP_MAX     2048 /* bytes of one application record kept */
#define MBED_DTLS_KEYLOG_LINE 200  /* an NSS key-log line with its newline and NUL (> KEYLOG_LINE_LEN) */

/* Suites, a bit each (the same bits as our engine's enum dtls_suite_bit). */
enum mbed_dtls_suite_bit {
    MBED_DTLS_AES_128_GCM = 1 << 0, /* TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xc02b) */
    MBED_DTLS_AES_256_GCM = 1 << 1, /* TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (0xc02c) */
    MBED_DTLS_CHACHA20 = 1 << 2,    /* TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (0xcca9) */
    MBED_DTLS_ALL_SUITES = 7,
};

/* Groups, a bit each. A client's list also names the curves it takes for
 * the server's certificate (RFC 8422 §4): a client offering X25519 alone
 * is refused by a server with a P-256 certificate (mbedTLS's and ours);
 * give a client both and let the server's list pick. mbedTLS checks the
 * peer certificate's curve against the same list: restricting it to
 * X25519 flags the peer's P-256 certificate (MBEDTLS_X509_BADCERT_BAD_KEY
 * in the verify result), which this endpoint ignores (the fingerprint is
 * the check). */
enum mbed_dtls_group_bit {
    MBED_DTLS_X25519 = 1 << 0,
    MBED_DTLS_P256 = 1 << 1,
    MBED_DTLS_ALL_GROUPS = 3
};

/* DTLS-SRTP profiles, a bit each (the same bits as enum dtls_srtp_bit). */
enum mbed_dtls_srtp_bit { MBED_DTLS_SRTP_80 = 1 << 0, MBED_DTLS_SRTP_32 = 1 << 1 };

enum mbed_dtls_event { MBED_DTLS_EV_NONE, MBED_DTLS_EV_CONNECTED, MBED_DTLS_EV_FAILED };

/* A self-signed certificate and its key, made by mbedTLS. */
struct mbed_dtls_cert {
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    uint8_t fingerprint[32]; /* SHA-256 of the DER certificate, as SDP carries it */
};

struct mbed_dtls_config {
    bool is_server;
    const struct mbed_dtls_cert *cert; /* ours; outlives the endpoint */
    const uint8_t *peer_fingerprint;   /* 32 bytes: SHA-256 of the peer's certificate */
    uint64_t seed;                     /* the DRBG's seed */
    bool cookies;                      /* server: HelloVerifyRequest (mbedtls_ssl_cookie) */
    const uint8_t *client_id;          /* server: the client's transport address bytes (cookies) */
    uint8_t client_id_len;             /* up to 32 */
    uint8_t suites;                    /* enum mbed_dtls_suite_bit; 0: all, in the order above */
    uint8_t groups;                    /* enum mbed_dtls_group_bit; 0: all, X25519 first */
    uint8_t srtp;                      /* enum mbed_dtls_srtp_bit; 0: no use_srtp; _80 preferred */
    uint16_t mtu;                      /* 0: MBED_DTLS_MTU; at most MBED_DTLS_DGRAM */
    uint32_t rto_min_ms, rto_max_ms;   /* mbedtls_ssl_conf_handshake_timeout; 0: 500 / 8000 */
};

struct mbed_dtls_counters {
    uint32_t datagrams_in, datagrams_out;
    uint32_t queue_full_in;       /* datagrams refused: the in-queue was full */
    uint32_t retransmit_timeouts; /* the timer expired while the handshake went on */
    uint32_t hello_verify;        /* server: ClientHellos answered with a HelloVerifyRequest */
    uint32_t discarded;           /* server: datagrams refused before a ClientHello was taken */
    /* server: ClientHellos after the handshake, dropped (see mbed_dtls_handle_input) */
    uint32_t stale_client_hello;
    uint32_t fingerprint_mismatches;
    /* application records read, written, and read with no room to keep them */
    uint32_t app_in, app_out, app_dropped;
};

struct mbed_dtls {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_cookie_ctx cookie;
    uint64_t entropy_state; /* the DRBG's seed source; it may reseed from it */
    int suites[4];
    mbedtls_ecp_group_id groups[3];
    mbedtls_ssl_srtp_profile srtp[3];
    bool is_server, cookies;
    bool connected, failed, peer_closed, bad_peer_cert;
    uint64_t now;
    struct mbed_glue_timer timer; /* mbedTLS's retransmission timer on `now` */
    bool send_blocked; /* mbedTLS found the out-queue full: step again once it drains */
    uint8_t peer_fp[32];
    uint8_t client_id[32];
    uint8_t client_id_len;
    uint8_t events[2], n_events;
    int last_error; /* the mbedTLS error that ended the handshake or the connection */
    int alert_in;   /* the description of a fatal alert received, -1 none */
    /* from the key export, during the handshake */
    uint8_t master[48], randoms[64]; /* client random || server random */
    mbedtls_tls_prf_types prf;
    bool have_master;
    mbedtls_ecp_group_id group; /* the ECDHE group used */
    /* queues */
    uint8_t in[MBED_DTLS_QUEUE][MBED_DTLS_DGRAM];
    uint16_t in_len[MBED_DTLS_QUEUE];
    uint8_t in_head, in_n;
    uint8_t out[MBED_DTLS_QUEUE][MBED_DTLS_DGRAM];
    uint16_t out_len[MBED_DTLS_QUEUE];
    uint8_t out_head, out_n;
    uint8_t app[MBED_DTLS_APP_QUEUE][MBED_DTLS_APP_MAX];
    uint16_t app_len[MBED_DTLS_APP_QUEUE];
    uint8_t app_head, app_n;
    struct mbed_dtls_counters c;
};

/* Makes a key pair and a self-signed certificate (CN=swarmgen, valid
 * 2020..2099, ecdsa-with-SHA256) from `seed`. Returns 0 or a negative
 * mbedTLS error. Costs a P-256 key generation and a signature. */
int mbed_dtls_cert_generate(struct mbed_dtls_cert *c, uint64_t seed);

/* Frees a certificate; no endpoint may use it any more. */
void mbed_dtls_cert_free(struct mbed_dtls_cert *c);

/* Sets an endpoint up in e (which must not move until mbed_dtls_free). A
 * client writes its ClientHello at once (ready for poll_transmit); a
 * server waits for one. Returns 0, -EINVAL (a missing pointer, an MTU
 * above MBED_DTLS_DGRAM, an empty suite or group set) or a negative
 * mbedTLS error; e must be freed with mbed_dtls_free either way. */
int mbed_dtls_init(struct mbed_dtls *e, const struct mbed_dtls_config *cfg, uint64_t now);

/* One datagram from the peer (copied). During the handshake mbedTLS takes
 * it at once; afterwards mbedtls_ssl_read does (application data is kept
 * for mbed_dtls_read, a close_notify or fatal alert ends the connection).
 * A server that is connected drops a ClientHello in the clear unread:
 * mbedTLS 2.28 (MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE) would take a late copy
 * of the client's ClientHello carrying a valid cookie for a reconnect
 * and reset the connection (counted in stale_client_hello). Returns 0, or
 * the negative mbedTLS error that failed the handshake or the connection
 * (MBED_DTLS_EV_FAILED follows during the handshake), or -ENOBUFS when the
 * in-queue is full (dropped, counted). */
int mbed_dtls_handle_input(struct mbed_dtls *e, const uint8_t *d, size_t len, uint64_t now);

/* Lets mbedTLS resend its flight when its timer expired, or fail the
 * handshake (MBEDTLS_ERR_SSL_TIMEOUT) when the last one has. A `now`
 * older than the last is ignored. */
void mbed_dtls_handle_timeout(struct mbed_dtls *e, uint64_t now);

/* The next datagram to send, copied into buf (cap bytes); its length, or
 * 0 when none is queued (or cap is smaller than it: it stays). */
size_t mbed_dtls_poll_transmit(struct mbed_dtls *e, uint8_t *buf, size_t cap, uint64_t now);

/* The next event: CONNECTED once, or FAILED once, then NONE. */
enum mbed_dtls_event mbed_dtls_poll_event(struct mbed_dtls *e);

/* The next deadline (ns): `now` while datagrams wait to be sent, the
 * retransmission timer during the handshake, else UINT64_MAX. */
uint64_t mbed_dtls_next_timeout(const struct mbed_dtls *e);

/* ---- after MBED_DTLS_EV_CONNECTED ---- */

/* The negotiated suite (IANA id, e.g. 0xc02b), the ECDHE group (TLS
 * NamedGroup: 29 X25519, 23 secp256r1) and the DTLS-SRTP profile (IANA
 * value, 0 when none); 0 before the handshake completed. */
int mbed_dtls_suite_id(const struct mbed_dtls *e);
uint16_t mbed_dtls_group(const struct mbed_dtls *e);
uint16_t mbed_dtls_srtp_profile(const struct mbed_dtls *e);

/* RFC 5705 exporter without context through mbedTLS's PRF
 * (mbedtls_ssl_tls_prf on the exported master secret and randoms) into
 * out (len bytes). Returns 0, -EINVAL before the master secret exists,
 * or a negative mbedTLS error. */
int mbed_dtls_export_keying(const struct mbed_dtls *e, const char *label, uint8_t *out, size_t len);

/* "CLIENT_RANDOM <client random> <master secret>\n" into out
 * (MBED_DTLS_KEYLOG_LINE bytes). Returns 0 or -ENOENT. */
int mbed_dtls_keylog_line(const struct mbed_dtls *e, char *out);

/* Seals len bytes of application data with mbedtls_ssl_write; the record
 * comes out of mbed_dtls_poll_transmit. Returns len, -ENOTCONN before
 * the handshake completed or after it ended, or a negative mbedTLS error
 * (MBEDTLS_ERR_SSL_WANT_WRITE: the out-queue is full). */
int mbed_dtls_write(struct mbed_dtls *e, const uint8_t *d, size_t len, uint64_t now);

/* The next application record mbedTLS read (whole up to
 * MBED_DTLS_APP_MAX bytes, the rest of a longer one in the next calls),
 * copied into buf (cap bytes, cut to cap). Returns its length, 0 when
 * none is waiting, MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY once the peer closed
 * and everything before was taken, or the mbedTLS error that ended the
 * connection (MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: see mbed_dtls_alert_in). */
int mbed_dtls_read(struct mbed_dtls *e, uint8_t *buf, size_t cap);

/* Sends an alert (MBEDTLS_SSL_ALERT_LEVEL_*, MBEDTLS_SSL_ALERT_MSG_*)
 * with mbedTLS's record layer, or close_notify with mbedtls_ssl_close_notify
 * (the datagram comes out of mbed_dtls_poll_transmit). Returns 0 or a
 * negative mbedTLS error. */
int mbed_dtls_send_alert(struct mbed_dtls *e, uint8_t level, uint8_t desc, uint64_t now);
int mbed_dtls_close_notify(struct mbed_dtls *e, uint64_t now);

/* ---- state ---- */

/* 0 while the handshake goes on, 1 once connected, -1 failed. */
int mbed_dtls_state(const struct mbed_dtls *e);

/* The mbedTLS error that failed the handshake or ended the connection
 * (0 none), and the fatal alert the peer sent (-1 none). */
int mbed_dtls_error(const struct mbed_dtls *e);
int mbed_dtls_alert_in(const struct mbed_dtls *e);

/* The peer closed with close_notify. */
bool mbed_dtls_peer_closed(const struct mbed_dtls *e);

/* Frees mbedTLS's state and wipes the secrets; e may be set up again. */
void mbed_dtls_free(struct mbed_dtls *e);

/* The functions above behind an untyped self (a struct mbed_dtls), for a
 * harness that drives mbedTLS beside other implementations. */
extern const struct dtls_peer_ops mbed_dtls_peer_ops;

#endif
