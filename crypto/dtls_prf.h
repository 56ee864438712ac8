/* SPDX-License-Identifier: MIT */
/*
 * dtls_prf: HMAC (RFC 2104) and the TLS 1.2 PRF (RFC 5246 §5: P_SHA256 or
 * P_SHA384) on the provider's hashes, for the master secret, the key block,
 * the Finished messages, the keying-material exporter and HelloVerifyRequest
 * cookies. The HMAC key's inner and outer hash states are computed once per
 * call and forked for every block.
 *
 * Time model: none. Memory: the stack only. Thread-safety: reentrant (a
 * provider per thread).
 */
#ifndef SWARMGEN_CRYPTO_DTLS_PRF_H
#define SWARMGEN_CRYPTO_DTLS_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "cp.h"

/* HMAC-alg(key, msg) into out (cp_hash_len(alg) bytes). Keys longer than
 * the hash block are hashed first, as RFC 2104 says. */
void dtls_hmac(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *key, size_t key_len, const uint8_t *msg,
               size_t msg_len, uint8_t *out);

/* PRF(secret, label, seed) (RFC 5246 §5) into out (out_len bytes). The
 * seed may be given in two parts (seed2 NULL when there is one), as the
 * handshake concatenates two randoms. Returns 0, or -EINVAL for another
 * hash or a label longer than 64 bytes. */
int dtls_prf(const struct cp *cp, enum cp_hash_alg alg, const uint8_t *secret, size_t secret_len, const char *label,
             const uint8_t *seed, size_t seed_len, const uint8_t *seed2, size_t seed2_len, uint8_t *out,
             size_t out_len);

#endif
