/* SPDX-License-Identifier: MIT */
/*
 * sctp_hmac: SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104) for the state
 * cookie, written here so that sctp/ depends on libc only. Pure functions,
 * no state between calls, thread-safe.
 */
#ifndef SWARMGEN_SCTP_HMAC_H
#define SWARMGEN_SCTP_HMAC_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of `len` bytes into out[32]. */
void sctp_sha256(const void *data, size_t len, uint8_t out[32]);

/* HMAC-SHA-256 of `len` bytes with `key` (any length) into out[32]. */
void sctp_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[32]);

#endif
