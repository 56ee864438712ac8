/* SPDX-License-Identifier: MIT */
/*
 * aes_gcm_internal: the entry points of the x86 paths behind aes_gcm.h
 * (aes_gcm_aesni.c, aes_gcm_vaes.c), for aes_gcm.c's dispatch and for
 * tests. Each is compiled for its instruction set with a function-level
 * target attribute; calling one on a CPU without that set faults, so only
 * aes_gcm.c calls them, after checking the CPU. Same memory and thread
 * rules as aes_gcm.h: no allocation, no state but the caller's key.
 */
#ifndef SWARMGEN_CRYPTO_AES_GCM_INTERNAL_H
#define SWARMGEN_CRYPTO_AES_GCM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aes_gcm.h"

#if defined(__x86_64__)
#define AES_GCM_X86 1

/* AES-NI + PCLMULQDQ (+ SSE4.1). Expands key (16 or 32 bytes) into k->rk
 * (FIPS 197 byte order), sets k->rounds, and fills k->hpow with H^16..H^1
 * in the fast paths' form; both fast paths use this layout. */
void aes_gcm_aesni_setup(struct aes_gcm_key *k, const uint8_t *key, size_t key_len);

/* GCM over len bytes: seal (open false: tag over out) or open (tag over
 * in); the computed tag goes to tag, the caller compares it for open.
 * in == out or no overlap. AES-NI + PCLMULQDQ, eight blocks a step. */
void aes_gcm_aesni_crypt(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
                         bool open);

/* aes_ctr_xor on AES-NI, eight blocks a step. */
void aes_gcm_aesni_ctr(const struct aes_gcm_key *k, const uint8_t *ctr, const uint8_t *in,
                       size_t len, uint8_t *out);

/* One block on AES-NI (a key set up by aes_gcm_aesni_setup). */
void aes_gcm_aesni_block(const struct aes_gcm_key *k, const uint8_t *in, uint8_t *out);

/* As aes_gcm_aesni_crypt on VAES + VPCLMULQDQ + AVX-512 (F, BW, VL):
 * sixteen blocks a step in four 512-bit registers, tails by byte masks. */
void aes_gcm_vaes_crypt(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
                        bool open);

/* aes_ctr_xor on VAES, sixteen blocks a step. */
void aes_gcm_vaes_ctr(const struct aes_gcm_key *k, const uint8_t *ctr, const uint8_t *in,
                      size_t len, uint8_t *out);
#endif

#endif
