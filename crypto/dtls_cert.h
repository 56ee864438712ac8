/* SPDX-License-Identifier: MIT */
/*
 * dtls_cert: the self-signed ECDSA P-256 certificates WebRTC endpoints
 * authenticate with (RFC 8827 §6.5: no CA, the peer is whoever its SDP
 * fingerprint says), and the little of X.509 a handshake reads from the
 * peer's: its subject public key.
 *
 * dtls_cert_generate writes an X.509 v3 certificate in DER ourselves
 * (RFC 5280: version 3, a random positive serial, ecdsa-with-SHA256,
 * issuer = subject = CN=swarmgen, validity 2020-01-01 to 2099-12-31,
 * id-ecPublicKey on prime256v1) signed by its own key through the
 * provider; browsers make one such certificate per peer connection.
 * dtls_cert_public_key walks a peer's DER just far enough to find the
 * SubjectPublicKeyInfo and takes the P-256 point out of it; every length
 * is checked against its container, nothing is trusted.
 *
 * Time model: none (the validity is fixed, never checked: WebRTC does not
 * check it either). Memory: a struct dtls_cert is plain bytes, copyable;
 * no allocation. Thread-safety: reentrant; a provider per thread.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_CERT_H
#define SWARMGEN_CRYPTO_DTLS_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "cp.h"

#define DTLS_CERT_DER_MAX 400 /* ours take at most 296 bytes */
#define DTLS_FP_LEN 32        /* SHA-256 */
#define DTLS_FP_TEXT 104      /* "sha-256 AB:CD:...", with its NUL */

struct dtls_cert {
    uint8_t der[DTLS_CERT_DER_MAX];
    uint16_t der_len;
    uint8_t priv[CP_P256_PRIV_LEN];    /* the signing key */
    uint8_t pub[CP_P256_PUB_LEN];      /* its public key, 04||X||Y */
    uint8_t fingerprint[DTLS_FP_LEN];  /* SHA-256 of der, as SDP carries it */
};

/* Makes a fresh key pair and a self-signed certificate for it (a random
 * serial; the key from the provider's generator). Returns 0, or a negative
 * errno from the provider (c is then zeroed). Costs one P-256 key
 * generation and one signature. */
int dtls_cert_generate(struct dtls_cert *c, const struct cp *cp);

/* The P-256 public key (65 bytes, 04||X||Y) of a DER certificate. Returns
 * 0; -EINVAL when der is not a well-formed certificate within len bytes;
 * -ENOTSUP when its key is not an EC key on prime256v1 in uncompressed
 * form. Reads der only; never reads past len. */
int dtls_cert_public_key(const uint8_t *der, size_t len, uint8_t *pub);

/* SHA-256 of der into fp (32 bytes). */
void dtls_cert_fingerprint(const struct cp *cp, const uint8_t *der, size_t len, uint8_t *fp);

/* "sha-256 AB:CD:..." as SDP writes it into out (DTLS_FP_TEXT bytes). */
void dtls_fingerprint_text(const uint8_t *fp, char *out);

/* Wipes the private key. */
void dtls_cert_free(struct dtls_cert *c);

#endif
