/* SPDX-License-Identifier: MIT */
/*
 * us_dtls: DTLS 1.2 of the usrsctp backend on mbedTLS's own ssl context,
 * for the handshake and for the records after it (mbedtls_ssl_read /
 * mbedtls_ssl_write), as user-space WebRTC stacks built on mbedTLS do.
 *
 * Per worker: a CTR-DRBG from the run seed, mbedTLS's cookie module
 * (mbedtls_ssl_cookie) for HelloVerifyRequest, US_N_CERTS self-signed
 * ECDSA P-256 certificates and one mbedtls_ssl_config per role and
 * certificate (ECDHE-ECDSA with AES-128-GCM, X25519 or P-256, use_srtp
 * offered). Per endpoint: an ssl context whose bio sends straight to the
 * endpoint's connected UDP socket and reads the datagram being handed in
 * (ep->in) one record at a time; its retransmission timer
 * (mbedtls_ssl_set_timer_cb) runs on the worker's monotonic `now`; the
 * peer is accepted by the SHA-256 fingerprint of its certificate
 * (mbedtls_ssl_set_verify), no CA. Worker thread only.
 */
#ifndef SWARMGEN_US_DTLS_H
#define SWARMGEN_US_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "us.h"

/* Certificates, DRBG, cookie key and configs of worker wk. 0 or a negative
 * mbedTLS error. */
int us_dtls_worker_init(struct us_worker *wk, uint64_t seed);
void us_dtls_worker_free(struct us_worker *wk);

/* Sets up ep's ssl context (client: side 0, server: side 1) with
 * certificate `cert` (index into wk->certs) expecting the peer's
 * fingerprint `peer_fp`. The client sends its ClientHello. 0 or a negative
 * mbedTLS error. */
int us_dtls_start(struct us_ep *ep, uint32_t cert, const uint8_t peer_fp[32]);

/* Runs the handshake with the datagram in ep->in (or none). Returns 1 when
 * it completed now (fingerprint checked), 0 while it goes on, a negative
 * mbedTLS error when it failed. */
int us_dtls_step(struct us_ep *ep);

/* The next record's plaintext from the datagram in ep->in (after the
 * handshake) into buf. mbedTLS gets the datagram record by record; the
 * records it would discard (outside epoch 1, a replay, a bad tag, a
 * record cut short) or that would end the connection (an epoch-0
 * ClientHello whose cookie is still valid: MBEDTLS_ERR_SSL_CLIENT_RECONNECT)
 * are dropped and counted as RI_DROP_BAD_RECORD, and the connection goes on
 * (RFC 6347 §4.1.2.7, §4.2.8). Returns the plaintext's length, 0 when the
 * datagram holds nothing more, a negative mbedTLS error when the
 * connection is over (a fatal alert, close_notify, an authenticated record
 * mbedTLS cannot accept). */
int us_dtls_read(struct us_ep *ep, uint8_t *buf, size_t cap);

/* Encrypts and sends one SCTP packet. 0 or a negative mbedTLS error. */
int us_dtls_write(struct us_ep *ep, const uint8_t *pkt, size_t len);

/* True when mbedTLS's retransmission timer has expired at wk->now. */
bool us_dtls_timer_due(const struct us_ep *ep);

/* Releases ep's ssl context (the heap it holds). */
void us_dtls_free(struct us_ep *ep);

#endif
