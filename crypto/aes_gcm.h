/* SPDX-License-Identifier: MIT */
/*
 * aes_gcm: AES-128/256 (FIPS 197) in GCM (NIST SP 800-38D, 96-bit IVs, a
 * 16-byte tag) and in counter mode, at the speed of the CPU: VAES and
 * VPCLMULQDQ on 512-bit registers where the CPU has them (four blocks per
 * instruction, sixteen blocks per GHASH reduction), AES-NI and PCLMULQDQ
 * on 128-bit registers, interleaved over eight blocks, where it has only
 * those, and a portable path (OpenSSL's AES block function and a
 * constant-time GHASH in C) everywhere else. The path is chosen once per
 * key from the CPU's features; tests may force a slower one to compare.
 * docs/aead.md has the paths, their cost and the proof.
 *
 * For the DTLS record layer (RFC 5288: 4-byte salt + 8-byte explicit
 * nonce, 13 bytes of additional data) and SRTP (RFC 7714 AEAD_AES_128_GCM
 * and AEAD_AES_256_GCM: a 12-byte IV, the RTP header as additional data;
 * RFC 3711 AES-CM: the counter-mode keystream).
 *
 * Time model: none; nothing here reads a clock. Memory: a key is plain
 * bytes in caller memory (the round keys and the powers of H its path
 * needs), no allocation, no pointer into itself: it may be copied or
 * moved, and only its used prefix (aes_gcm_key_size) need be kept. Thread-safety: a key is read-only after aes_gcm_init; any number
 * of threads may use one at once. Every function is reentrant.
 */
#ifndef SWARMGEN_CRYPTO_AES_GCM_H
#define SWARMGEN_CRYPTO_AES_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AES_GCM_TAG  16
#define AES_GCM_IV   12
#define AES_GCM_HPOW 16 /* most powers of H a path keeps: VAES reduces once per sixteen blocks */

enum aes_impl {
    AES_IMPL_PORTABLE = 0, /* C GHASH, OpenSSL's AES block function */
    AES_IMPL_AESNI = 1,    /* AES-NI + PCLMULQDQ, 128-bit registers */
    AES_IMPL_VAES = 2,     /* VAES + VPCLMULQDQ, AVX-512 */
};
#define AES_IMPL_COUNT 3

/* One key (one direction of a connection), 64-byte aligned (memory holding
 * one must be: the compiler may copy it with aligned moves; this module
 * itself reads it with unaligned loads). The struct is the largest layout,
 * 512 bytes (AES-256 on the VAES path), for callers that hold a key by
 * value; a key uses only a prefix of it, aes_gcm_key_size(k) bytes:
 *
 *   header  16 bytes: rounds, impl, n_hpow
 *   rk      round keys 0..rounds, 16 bytes each (11 or 15)
 *   hpow    n_hpow powers of H, 16 bytes each: 16 (VAES), 8 (AES-NI),
 *           1 (portable)
 *
 *                AES-128   AES-256
 *   vaes-avx512  448       512
 *   aesni        320       384
 *   portable     256       320       (rounded up to 64)
 *
 * A copy of that prefix to other 64-byte aligned memory of at least that
 * size is a working key (no pointer into itself); nothing reads past it. */
struct aes_gcm_key {
    _Alignas(64) uint8_t rounds; /* 10 or 14 */
    uint8_t impl;                /* enum aes_impl */
    uint8_t n_hpow;              /* powers of H after the round keys */
    uint8_t pad_[13];            /* zero */
    /* round keys 0..rounds: FIPS 197 byte order (fast paths), or
     * OpenSSL's AES_KEY words (portable path); then the powers of H:
     * fast paths: H^n_hpow first, H^1 last, in the form their multiply
     * wants (bytes reversed, times y: aes_gcm_x86.h); portable path: H =
     * AES_K(0^128) as GCM bytes. */
    uint8_t sched[15 * 16 + AES_GCM_HPOW * 16];
};

/* The fastest path this CPU (and its operating system, for the 512-bit
 * registers) has. Reads the CPU features the C runtime detected at
 * start-up: a few ns, no CPUID (which traps to the hypervisor in a VM,
 * ~12 us); built with clang, whose builtin lacks the VAES bit, one CPUID.
 * Thread-safe. */
enum aes_impl aes_impl_best(void);

/* Whether this CPU has the path impl: true for AES_IMPL_PORTABLE always,
 * false for a value outside enum aes_impl. Thread-safe. */
bool aes_impl_supported(int impl);

/* A human name of a path: "vaes-avx512", "aesni", "portable", or "?" for
 * a value outside enum aes_impl. The string is static. */
const char *aes_impl_name(int impl);

/* Expands key (key_len 16 or 32 bytes: AES-128 or AES-256) into *k for
 * the fastest path the CPU has, or, when force is not -1, for the path
 * force names if the CPU has it. Returns 0; -EINVAL for another key
 * length or a force outside -1 and enum aes_impl; -ENOTSUP for a forced
 * path the CPU lacks. *k is untouched on failure. key is not kept. */
int aes_gcm_init(struct aes_gcm_key *k, const uint8_t *key, size_t key_len, int force);

/* GCM encryption of len bytes (in and out the same buffer, or not
 * overlapping at all) with the 12-byte IV iv and aad_len bytes of
 * additional data aad (NULL allowed when aad_len is 0; in and out too
 * when len is 0); the 16-byte tag goes to tag. Always succeeds for
 * len < 2^36 - 32 (longer is the caller's error: the counter would wrap).
 * An IV must never be sealed twice under one key. */
void aes_gcm_seal(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad,
                  size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag);

/* GCM decryption of len bytes (in, out, iv and aad as for seal): checks
 * the 16-byte tag in constant time and writes the plaintext. Returns 0,
 * or -EBADMSG when the tag does not verify: out is then zeroed (in place,
 * the ciphertext is gone too). */
int aes_gcm_open(const struct aes_gcm_key *k, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                 const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag);

/* Counter mode: out = in XOR AES_K(ctr), AES_K(ctr + 1), ... where ctr is
 * a 16-byte big-endian block whose last 32 bits count, modulo 2^32 (the
 * first 96 bits never change: GCM's inc32, and RFC 3711 AES-CM, whose
 * 16-bit block counter never carries). in and out as for seal. */
void aes_ctr_xor(const struct aes_gcm_key *k, const uint8_t *ctr, const uint8_t *in, size_t len,
                 uint8_t *out);

/* One AES block encryption of 16 bytes (SRTP's key derivation, tests); in
 * and out may be the same. */
void aes_encrypt_block(const struct aes_gcm_key *k, const uint8_t *in, uint8_t *out);

/* One AES block encryption of 16 bytes under a raw key (key_len 16 or
 * 32), on AES-NI when the CPU has it (else OpenSSL's block function):
 * the round keys are expanded on the stack for this block and wiped, no
 * powers of H (DTLS 1.3's record-number mask: one block per record under
 * a key kept raw). in and out may be the same. Returns 0, or -EINVAL for
 * another key length. Reentrant. */
int aes_encrypt_block_raw(const uint8_t *key, size_t key_len, const uint8_t *in, uint8_t *out);

/* Zeroes the key, all sizeof(struct aes_gcm_key) bytes, in a way the
 * compiler keeps: for a key held by value. (A prefix copy in smaller
 * memory is wiped by its owner, aes_gcm_key_size(k) bytes.) The key must
 * be initialised again before use. */
void aes_gcm_wipe(struct aes_gcm_key *k);

/* Bytes of k that its path reads (header, round keys, powers of H: the
 * table above), rounded up to 64 so that keys placed back to back stay
 * 64-byte aligned; copying that many bytes to 64-byte aligned memory gives
 * a working key. k as aes_gcm_init left it (or such a copy); 0 for memory
 * that holds no key (zeroed, wiped). Thread-safe. */
size_t aes_gcm_key_size(const struct aes_gcm_key *k);

/* What a key of key_len bytes (16 or 32) expanded with aes_gcm_init on
 * this CPU (the best path, or any path forced: none is larger) needs:
 * the size to reserve before expanding. 0 for another key_len.
 * Thread-safe. */
size_t aes_gcm_key_size_max(size_t key_len);

#endif
