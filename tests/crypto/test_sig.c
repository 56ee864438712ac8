/* SPDX-License-Identifier: MIT */
/* Ed25519 through libsodium: RFC 8032 test vectors and tampering. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sig.h"

static void hex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

struct vector {
    const char *sk, *pk, *msg, *sig;
};

/* RFC 8032 7.1, TEST 1 (empty message), TEST 2 (one byte), TEST 3 (two bytes) */
static const struct vector v[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

Test(sig, rfc8032_vectors)
{
    cr_assert_eq(sig_init(), 0);
    for (size_t i = 0; i < 3; i++) {
        uint8_t seed[32], pk[32], msg[8], want[64], got[64];
        size_t ml = strlen(v[i].msg) / 2;
        hex(v[i].sk, seed, 32);
        hex(v[i].pk, pk, 32);
        hex(v[i].msg, msg, ml);
        hex(v[i].sig, want, 64);
        struct sig_keypair kp;
        sig_keypair_from_seed(&kp, seed);
        cr_assert_eq(memcmp(kp.pk, pk, 32), 0, "public key of vector %zu", i + 1);
        sig_sign(&kp, msg, ml, got);
        cr_assert_eq(memcmp(got, want, 64), 0, "signature of vector %zu", i + 1);
        cr_assert_eq(sig_verify(pk, msg, ml, want), 0);
        want[5] ^= 1;
        cr_assert_eq(sig_verify(pk, msg, ml, want), -EACCES, "tampered signature accepted");
    }
}

Test(sig, agent_keys_are_deterministic_and_distinct)
{
    cr_assert_eq(sig_init(), 0);
    uint8_t s1[32], s2[32], s3[32];
    sig_agent_seed(42, 7, s1);
    sig_agent_seed(42, 7, s2);
    sig_agent_seed(42, 8, s3);
    cr_assert_eq(memcmp(s1, s2, 32), 0);
    cr_assert_neq(memcmp(s1, s3, 32), 0);
    struct sig_keypair a, b;
    sig_keypair_from_seed(&a, s1);
    sig_keypair_from_seed(&b, s3);
    const uint8_t msg[] = "agent message";
    uint8_t sg[64];
    sig_sign(&a, msg, sizeof(msg), sg);
    cr_assert_eq(sig_verify(a.pk, msg, sizeof(msg), sg), 0);
    cr_assert_eq(sig_verify(b.pk, msg, sizeof(msg), sg), -EACCES, "another agent's key");
    uint8_t other[sizeof(msg)];
    memcpy(other, msg, sizeof(msg));
    other[0] ^= 1;
    cr_assert_eq(sig_verify(a.pk, other, sizeof(other), sg), -EACCES, "tampered message");
}
