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

/* Powers of H each path keeps after the round keys (struct aes_gcm_key):
 * the AES-NI path hashes eight blocks per reduction (a tail of eight
 * blocks and the length block takes two), VAES sixteen, portable one at a
 * time. */
#define AES_GCM_HPOW_PORTABLE 1
#define AES_GCM_HPOW_AESNI    8
#define AES_GCM_HPOW_VAES     AES_GCM_HPOW

/* Round key r (0..rounds) of k. */
static inline const uint8_t *aes_gcm_rk(const struct aes_gcm_key *k, int r)
{
    return k->sched + 16 * (size_t)r;
}

/* The powers of H of a key with `rounds` rounds (a constant in the fast
 * paths' loops, so the offset is too): [0] = H^n_hpow .. [n_hpow - 1] = H. */
static inline const uint8_t (*aes_gcm_hpow(const struct aes_gcm_key *k, int rounds))[16]
{
    return (const uint8_t(*)[16])(k->sched + 16 * ((size_t)rounds + 1));
}

#if defined(__x86_64__)
#define AES_GCM_X86 1

/* AES-NI + PCLMULQDQ (+ SSE4.1). Expands key (16 or 32 bytes) into k's
 * round keys (FIPS 197 byte order), sets k->rounds and k->n_hpow, and
 * writes H^n_hpow..H^1 (n_hpow: AES_GCM_HPOW_AESNI or AES_GCM_HPOW_VAES)
 * after them in the fast paths' form. k->impl and the rest are the
 * caller's (zeroed). */
void aes_gcm_aesni_setup(struct aes_gcm_key *k, const uint8_t *key, size_t key_len, int n_hpow);

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

/* One block on AES-NI under a raw key (16 or 32 bytes): round keys on the
 * stack, wiped after. */
void aes_gcm_aesni_block_raw(const uint8_t *key, size_t key_len, const uint8_t *in, uint8_t *out);

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
