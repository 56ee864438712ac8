/* SPDX-License-Identifier: MIT */
/*
 * dtls: the DTLS 1.2 handshake of a WebRTC peer connection, on mbedTLS,
 * sans-I/O.
 *
 * Both roles (client = SDP setup:active, server = setup:passive), a
 * self-signed ECDSA P-256 certificate per endpoint (or shared from a pool),
 * the peer accepted by the SHA-256 fingerprint of its certificate as WebRTC
 * does (no CA), HelloVerifyRequest cookies on the server (our own HMAC
 * cookie: no clock), ECDHE (X25519, P-256) with AES-128-GCM or
 * ChaCha20-Poly1305, use_srtp (mbedTLS 2.28 offers
 * SRTP_AES128_CM_HMAC_SHA1_80 and _32; the AEAD profiles are not in this
 * mbedTLS) and the DTLS-SRTP keying material exported per RFC 5764.
 *
 * Time: every entry point takes `now` (ns); mbedTLS's retransmission timer
 * runs on that value, never on a clock of its own. Randomness comes from a
 * CTR-DRBG seeded by the caller's seed (reproducible runs; a load generator,
 * not a secure endpoint). Datagrams out are queued in the endpoint; the
 * handshake state (tens of KiB, mbedTLS's) is transient: dtls_free() it
 * once the keys are taken. mbedTLS keeps pointers into the endpoint: it must
 * not move after dtls_init(). One endpoint per thread at a time.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_H
#define SWARMGEN_CRYPTO_DTLS_H

#include <stdbool.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define DTLS_MTU 1200
#define DTLS_OUT_QUEUE 12
#define DTLS_KEYING_LEN 60 /* 2 x (16-byte key + 14-byte salt) for AES-CM profiles */

struct dtls_cert {
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    uint8_t fingerprint[32]; /* SHA-256 of the DER certificate */
};

/* Generates a self-signed ECDSA P-256 certificate from `seed`. Returns 0
 * or a negative mbedTLS error. (P-256 signing is the slow part: ~1 ms.) */
int dtls_cert_generate(struct dtls_cert *c, uint64_t seed);
/* Frees a certificate; no endpoint may use it any more. */
void dtls_cert_free(struct dtls_cert *c);

/* "sha-256 AB:CD:..." as SDP writes it. `out` needs 104 bytes. */
void dtls_fingerprint_text(const uint8_t fp[32], char *out);

enum dtls_event { DTLS_EV_NONE, DTLS_EV_CONNECTED, DTLS_EV_FAILED };

struct dtls_counters {
    uint32_t datagrams_in, datagrams_out, retransmit_timeouts, cookies_sent;
    uint32_t fingerprint_mismatches, alerts, failures;
    uint32_t discarded; /* server: datagrams refused before a ClientHello was accepted (the wait goes on) */
};

struct dtls_endpoint {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_ctr_drbg_context drbg;
    uint64_t entropy_state;    /* the DRBG's seed source */
    bool is_server;
    bool connected, failed;
    uint64_t now;
    uint64_t timer_set, timer_int, timer_fin; /* ns; timer_fin 0 = cancelled */
    const uint8_t *in;                         /* datagram being handed in */
    size_t in_len;
    uint8_t out[DTLS_OUT_QUEUE][DTLS_MTU];
    uint16_t out_len[DTLS_OUT_QUEUE];
    uint8_t out_head, out_n;
    uint8_t peer_fp[32];
    uint8_t cookie_secret[32];
    uint8_t client_id[32];
    uint8_t client_id_len;
    enum dtls_event events[2];
    uint8_t n_events;
    /* from the key export */
    uint8_t master[48], client_random[32], server_random[32];
    mbedtls_tls_prf_types prf;
    bool have_master;
    uint8_t keying[DTLS_KEYING_LEN];
    /* the record keys (client key, server key, client IV, server IV: no
     * MAC keys with AEAD suites) and the suite, for dtls_record */
    uint8_t keyblock[88];
    uint8_t kb_keylen, kb_ivlen;
    int suite_id;
    uint16_t srtp_profile;     /* negotiated, 0 when none */
    int last_error;            /* the mbedTLS error that failed it */
    struct dtls_counters c;
};

struct dtls_config {
    bool is_server;
    const struct dtls_cert *cert;  /* ours, not owned, must outlive the endpoint */
    const uint8_t *peer_fingerprint; /* 32 bytes from the peer's SDP */
    uint64_t seed;
    const uint8_t *client_id;      /* server: the client's transport address bytes */
    uint8_t client_id_len;
    uint32_t rto_min_ms, rto_max_ms; /* handshake retransmission, default 500 / 8000 */
    uint8_t suites;                /* enum dtls_suite_offer; 0 (default) offers both */
};

/* The ciphersuites a handshake offers (client) or accepts (server), in
 * dtls_config.suites; both are ECDHE-ECDSA AEAD suites that our record
 * layer (dtls_record.h) carries after the handshake. */
enum dtls_suite_offer {
    DTLS_OFFER_GCM_THEN_CHACHA = 0, /* TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, then CHACHA20_POLY1305 */
    DTLS_OFFER_GCM = 1,             /* AES-128-GCM only */
    DTLS_OFFER_CHACHA = 2,          /* ChaCha20-Poly1305 only */
};

/* Sets up an endpoint. Returns 0 or a negative mbedTLS error. */
int dtls_init(struct dtls_endpoint *e, const struct dtls_config *cfg, uint64_t now);

/* Client: sends the ClientHello. Server: nothing (waits). */
void dtls_start(struct dtls_endpoint *e, uint64_t now);

/* One datagram that demultiplexed as DTLS (first byte 20..63). Returns 0,
 * or a negative mbedTLS error when it failed the handshake (then FAILED). */
int dtls_handle_input(struct dtls_endpoint *e, const uint8_t *buf, size_t len, uint64_t now);

/* Retransmits a flight when its timer expired. */
void dtls_handle_timeout(struct dtls_endpoint *e, uint64_t now);

/* The next datagram to send, copied into buf; its length or 0. */
int dtls_poll_transmit(struct dtls_endpoint *e, uint8_t *buf, uint16_t cap);

/* The next event (CONNECTED once, or FAILED once), DTLS_EV_NONE when none. */
enum dtls_event dtls_poll_event(struct dtls_endpoint *e);

/* The next deadline (ns), UINT64_MAX when none. */
uint64_t dtls_next_timeout(const struct dtls_endpoint *e);

/* NSS key log line "CLIENT_RANDOM <hex> <hex>\n" (after the handshake).
 * `out` needs 200 bytes. Returns 0 or -ENOENT. */
int dtls_keylog_line(const struct dtls_endpoint *e, char *out);

/* Releases mbedTLS's state (its heap); the keys taken from e before (a
 * dtls_record) stay valid. e may be set up again with dtls_init. */
void dtls_free(struct dtls_endpoint *e);

#endif
