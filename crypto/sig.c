/* SPDX-License-Identifier: MIT */
#include "sig.h"

#include <errno.h>

#include <sodium.h>

int sig_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

void sig_keypair_from_seed(struct sig_keypair *kp, const uint8_t seed[32])
{
    crypto_sign_seed_keypair(kp->pk, kp->sk, seed);
}

void sig_agent_seed(uint64_t run_seed, uint32_t agent, uint8_t seed[32])
{
    uint8_t in[12];
    for (int i = 0; i < 8; i++)
        in[i] = (uint8_t)(run_seed >> (8 * i));
    for (int i = 0; i < 4; i++)
        in[8 + i] = (uint8_t)(agent >> (8 * i));
    crypto_generichash(seed, 32, in, sizeof(in), (const uint8_t *)"swarmgen-agent", 14);
}

void sig_sign(const struct sig_keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[SIG_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, len, kp->sk);
}

int sig_verify(const uint8_t pk[SIG_PUBLIC_BYTES], const uint8_t *msg, size_t len,
               const uint8_t sig[SIG_BYTES])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -EACCES;
}
