/* SPDX-License-Identifier: MIT */
#include "sig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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

int sig_agent_keys(uint64_t run_seed, uint32_t n, struct sig_keypair **out, char *err, size_t errlen)
{
    *out = NULL;
    if (sig_init() != 0) {
        snprintf(err, errlen, "libsodium initialisation failed");
        return -EIO;
    }
    struct sig_keypair *k = malloc((n ? n : 1) * sizeof(*k));
    if (!k) {
        snprintf(err, errlen, "signing keys: out of memory");
        return -ENOMEM;
    }
    for (uint32_t a = 0; a < n; a++) {
        uint8_t seed[32];
        sig_agent_seed(run_seed, a, seed);
        sig_keypair_from_seed(&k[a], seed);
    }
    *out = k;
    return 0;
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
