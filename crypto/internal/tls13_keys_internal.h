/* SPDX-License-Identifier: MIT */
/*
 * tls13_keys with the HKDF-Expand-Label prefix as an argument: the public
 * functions in tls13_keys.h are these with TLS13_PREFIX_DTLS. Tests call
 * them with TLS13_PREFIX_TLS to check the whole schedule against the TLS 1.3
 * traces of RFC 8448. Same arguments, memory, thread-safety and return
 * values as their tls13_keys.h namesakes, plus prefix (a NUL-terminated
 * string; prefix + label at most 255 bytes).
 */
#ifndef SWARMGEN_CRYPTO_TLS13_KEYS_INTERNAL_H
#define SWARMGEN_CRYPTO_TLS13_KEYS_INTERNAL_H

#include "tls13_keys.h"

int tls13_derive_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                               const uint8_t *secret, const char *label, const uint8_t *thash,
                               uint8_t *out);
int tls13_handshake_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                                  const uint8_t *early, const uint8_t *ecdhe, size_t ecdhe_len,
                                  uint8_t *out);
int tls13_master_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                               const uint8_t *handshake, uint8_t *out);
int tls13_traffic_keys_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                              const uint8_t *secret, size_t key_len, uint8_t *key, uint8_t *iv,
                              uint8_t *sn);
int tls13_finished_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                          const uint8_t *base, const uint8_t *thash, uint8_t *out);
int tls13_next_secret_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                             const uint8_t *secret, uint8_t *out);
int tls13_export_prefix(const struct cp *cp, enum cp_hash_alg alg, const char *prefix,
                        const uint8_t *exporter_master, const char *label, const uint8_t *context,
                        size_t context_len, uint8_t *out, size_t len);

#endif
