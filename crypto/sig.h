/* SPDX-License-Identifier: MIT */
/*
 * sig: Ed25519 signatures of agent messages (libsodium).
 *
 * Each agent has a key pair derived from a 32-byte seed (the run seed and
 * the agent id), so both ends of a simulated connection know every public
 * key without an exchange. Signing is deterministic (RFC 8032). No
 * allocation, no global state after sig_init() (libsodium's own one-time
 * initialisation, thread-safe).
 */
#ifndef SWARMGEN_CRYPTO_SIG_H
#define SWARMGEN_CRYPTO_SIG_H

#include <stddef.h>
#include <stdint.h>

#define SIG_BYTES 64
#define SIG_PUBLIC_BYTES 32
#define SIG_SECRET_BYTES 64

struct sig_keypair {
    uint8_t pk[SIG_PUBLIC_BYTES];
    uint8_t sk[SIG_SECRET_BYTES]; /* libsodium layout: seed || public key */
};

/* Initialises libsodium. Returns 0 or -EIO. Call once at start. */
int sig_init(void);

/* Key pair from a 32-byte seed. */
void sig_keypair_from_seed(struct sig_keypair *kp, const uint8_t seed[32]);

/* The seed of agent `agent` in run `run_seed` (BLAKE2b of both). */
void sig_agent_seed(uint64_t run_seed, uint32_t agent, uint8_t seed[32]);

/* Every agent's key pair of run `run_seed`: initialises libsodium and
 * allocates n pairs into *out (the caller frees it). 0, -EIO or -ENOMEM
 * with the reason in err. Set-up only. */
int sig_agent_keys(uint64_t run_seed, uint32_t n, struct sig_keypair **out, char *err, size_t errlen);

/* Writes the 64-byte signature of msg into sig. */
void sig_sign(const struct sig_keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[SIG_BYTES]);

/* Returns 0 when sig is valid for msg under pk, -EACCES otherwise. */
int sig_verify(const uint8_t pk[SIG_PUBLIC_BYTES], const uint8_t *msg, size_t len,
               const uint8_t sig[SIG_BYTES]);

#endif
