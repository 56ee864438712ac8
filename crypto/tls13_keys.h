/* SPDX-License-Identifier: MIT */
/*
 * tls13_keys: the TLS 1.3 key schedule (RFC 8446 §7) as DTLS 1.3 uses it
 * (RFC 9147 §5.9: every HKDF-Expand-Label carries the prefix "dtls13"
 * instead of "tls13 "). HKDF-Extract and HKDF-Expand (RFC 5869) run on the
 * provider's hashes through dtls_hmac (dtls_prf.h): SHA-256 for the
 * AES-128-GCM suite, SHA-384 for AES-256-GCM.
 *
 * What it gives: the early, handshake and master secrets without a PSK,
 * Derive-Secret for the traffic and exporter secrets (the caller keeps the
 * transcript and hands in its hash), the AEAD key, IV and record-number key
 * of a traffic secret, Finished verify_data, the KeyUpdate successor of a
 * traffic secret and the exporter (DTLS-SRTP keys). Which transcript hash
 * goes with which label is the handshake's business, not this module's.
 *
 * Time model: none; nothing here reads a clock. Memory: the stack only;
 * outputs go to caller buffers (TLS13_HASH_MAX bytes are always enough for
 * a secret). Intermediate secrets left on the stack (derived secrets,
 * finished keys, HKDF blocks) are wiped with explicit_bzero before a call
 * returns. Thread-safety: reentrant; the provider is the caller's, one per
 * thread (cp.h).
 *
 * Arguments: alg is CP_SHA256 or CP_SHA384; "hl" below is cp_hash_len(alg)
 * (32 or 48). Secrets read and written are hl bytes. Outputs must not
 * overlap inputs unless said so. Return values: 0, or -EINVAL for another
 * alg, a prefix plus label longer than 255 bytes, a context longer than 255
 * bytes or an output longer than the function allows; on -EINVAL nothing
 * is written.
 */
#ifndef SWARMGEN_CRYPTO_TLS13_KEYS_H
#define SWARMGEN_CRYPTO_TLS13_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "cp.h"

#define TLS13_HASH_MAX    48       /* the longest secret: SHA-384 */
#define TLS13_IV_LEN      12       /* the per-record nonce base (RFC 8446 §5.3) */
#define TLS13_PREFIX_DTLS "dtls13" /* RFC 9147 §5.9 */
#define TLS13_PREFIX_TLS  "tls13 " /* RFC 8446 §7.1 */

/* HKDF-Extract (RFC 5869 §2.2) with the provider's HMAC: out =
 * HMAC(salt, ikm), hl bytes. salt NULL stands for hl zero bytes (RFC 5869's
 * "not provided"); ikm NULL stands for hl zero bytes (TLS 1.3's "0" input
 * keying material), whatever salt_len / ikm_len say. For another alg
 * nothing is written. out may be salt or ikm. */
void tls13_hkdf_extract(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *salt,
                        size_t salt_len, const uint8_t *ikm, size_t ikm_len, uint8_t *out);

/* HKDF-Expand-Label (RFC 8446 §7.1) with the DTLS 1.3 prefix "dtls13"
 * (RFC 9147 §5.9): HKDF-Expand(secret, HkdfLabel, out_len) with
 * HkdfLabel = uint16 out_len || opaque label<..255> = "dtls13" + label ||
 * opaque context<0..255> = ctx (ctx may be NULL when ctx_len is 0).
 * out_len up to 255 * hl; out may alias secret or ctx (both are copied
 * first). Cost: one dtls_hmac, key pads included, per hl bytes out.
 * Returns 0 or -EINVAL (prefix + label over 255 bytes, ctx_len over 255,
 * out_len over 255 * hl, another alg). */
int tls13_expand_label(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                       const char *label, const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                       size_t out_len);

/* The same with any prefix: TLS13_PREFIX_TLS ("tls13 ") for TLS 1.3, as the
 * RFC 8448 traces use; TLS13_PREFIX_DTLS gives tls13_expand_label. */
int tls13_expand_label_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                              const uint8_t *secret, const char *label, const uint8_t *ctx,
                              size_t ctx_len, uint8_t *out, size_t out_len);

/* Derive-Secret(secret, label, messages) (RFC 8446 §7.1) =
 * Expand-Label(secret, label, thash, hl) where thash =
 * Transcript-Hash(messages), hl bytes, kept by the caller. out (hl bytes)
 * may be secret or thash. Returns 0 or -EINVAL. */
int tls13_derive_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                        const char *label, const uint8_t *thash, uint8_t *out);

/* The schedule's three secrets (RFC 8446 §7.1), without a PSK:
 * early = Extract(0, 0);
 * handshake = Extract(Derive-Secret(early, "derived", Hash("")), ecdhe);
 * master = Extract(Derive-Secret(handshake, "derived", Hash("")), 0).
 * ecdhe is the (EC)DHE shared secret, ecdhe_len bytes (32 for X25519 and
 * P-256); NULL stands for hl zeros (a PSK-only handshake). Each writes hl
 * bytes to out, which may alias the input secret. tls13_early_secret writes
 * nothing for another alg; the others return 0 or -EINVAL. */
void tls13_early_secret(const struct cp *cp, enum cp_hash_alg alg, uint8_t *out);
int tls13_handshake_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *early,
                           const uint8_t *ecdhe, size_t ecdhe_len, uint8_t *out);
int tls13_master_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *handshake,
                        uint8_t *out);

/* The traffic keys of a traffic secret (RFC 8446 §7.3, RFC 9147 §4.2.3):
 * key = Expand-Label(secret, "key", "", key_len),
 * iv = Expand-Label(secret, "iv", "", 12),
 * sn = Expand-Label(secret, "sn", "", key_len) (the record-number key is as
 * long as the AEAD key). Any of key, iv, sn may be NULL (not derived).
 * key_len is 1..TLS13_HASH_MAX (16 for AES-128-GCM, 32 for AES-256-GCM).
 * Returns 0 or -EINVAL (another alg or key_len). */
int tls13_traffic_keys(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                       size_t key_len, uint8_t *key, uint8_t *iv, uint8_t *sn);

/* Finished verify_data (RFC 8446 §4.4.4): finished_key =
 * Expand-Label(base, "finished", "", hl); out = HMAC(finished_key, thash),
 * hl bytes. base is the sender's handshake traffic secret; thash the
 * transcript hash up to and including CertificateVerify. The finished key
 * is wiped. Compare a peer's verify_data in constant time (the caller's
 * job). Returns 0 or -EINVAL. */
int tls13_finished(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *base,
                   const uint8_t *thash, uint8_t *out);

/* The next application traffic secret after a KeyUpdate (RFC 8446 §7.2):
 * Expand-Label(secret, "traffic upd", "", hl). out may be secret (update in
 * place). Returns 0 or -EINVAL. */
int tls13_next_secret(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret,
                      uint8_t *out);

/* The exporter (RFC 8446 §7.5): Expand-Label(Derive-Secret(exporter_master,
 * label, Hash("")), "exporter", Hash(context), len). context NULL or
 * context_len 0 hashes the empty string (RFC 8446: no context and an empty
 * one export the same). DTLS-SRTP (RFC 5764 §4.2) uses label
 * "EXTRACTOR-dtls_srtp" and no context. len up to 255. Returns 0 or
 * -EINVAL (len over 255, label too long, another alg). */
int tls13_export(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *exporter_master,
                 const char *label, const uint8_t *context, size_t context_len, uint8_t *out,
                 size_t len);

/* Hash("") of alg into out (hl bytes); nothing for another alg. */
void tls13_empty_hash(const struct cp *cp, enum cp_hash_alg alg, uint8_t *out);

#endif
