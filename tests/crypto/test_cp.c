/* SPDX-License-Identifier: MIT */
/*
 * The default crypto provider (cp.h) against published known answers:
 * RFC 7748 §5.2 and §6.1 (X25519), FIPS 180-4 / its example values
 * (SHA-256, SHA-384: "abc", the 448-bit message, a million 'a'), RFC 6979
 * A.2.5 (the P-256 key, its public point and the deterministic signatures
 * of "sample" and "test", checked with our verify), RFC 5903 §8.1 (P-256
 * ECDH). Signatures we make are checked by an independent verifier
 * (mbedTLS); bad points, bad DER and wrong signatures come back with the
 * documented codes; copying a struct cp_hash forks the hash.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecdsa.h>

#include "cp.h"

static struct cp cp;

static void setup(void)
{
    cr_assert_eq(cp_default_create(&cp), 0);
}

static void teardown(void)
{
    cp_destroy(&cp);
}

TestSuite(cp, .init = setup, .fini = teardown);

static void hex(const char *h, uint8_t *out, size_t n)
{
    cr_assert_eq(strlen(h), 2 * n, "hex string of %zu bytes", n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        cr_assert_eq(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* the 65-byte point 04||x||y from two 32-byte hex coordinates */
static void point(const char *x, const char *y, uint8_t pub[CP_P256_PUB_LEN])
{
    pub[0] = 4;
    hex(x, pub + 1, 32);
    hex(y, pub + 33, 32);
}

/* DER INTEGER of a 32-byte big-endian unsigned value: minimal, with a 0x00
 * prefix when the top bit is set. Returns the bytes written. */
static size_t der_int(const uint8_t v[32], uint8_t *out)
{
    size_t i = 0;
    while (i < 31 && v[i] == 0)
        i++;
    size_t n = 32 - i, pad = v[i] & 0x80 ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v + i, n);
    return 2 + pad + n;
}

/* DER Ecdsa-Sig-Value of (r, s) given as hex. Returns its length. */
static size_t der_sig(const char *rh, const char *sh, uint8_t *out)
{
    uint8_t r[32], s[32];
    hex(rh, r, 32);
    hex(sh, s, 32);
    size_t n = der_int(r, out + 2);
    n += der_int(s, out + 2 + n);
    out[0] = 0x30;
    out[1] = (uint8_t)n;
    return n + 2;
}

static void sha256(const char *msg, uint8_t out[CP_SHA256_LEN])
{
    cp_hash_once(&cp, CP_SHA256, msg, strlen(msg), out);
}

/* ---- X25519 ---------------------------------------------------------------- */

Test(cp, x25519_rfc7748_section_5_2)
{
    static const char *v[2][3] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    for (int i = 0; i < 2; i++) {
        uint8_t k[32], u[32], want[32], got[32];
        hex(v[i][0], k, 32);
        hex(v[i][1], u, 32);
        hex(v[i][2], want, 32);
        cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, k, u, 32, got), 0);
        cr_assert_arr_eq(got, want, 32, "vector %d", i + 1);
    }
}

Test(cp, x25519_rfc7748_section_5_2_iterated)
{
    /* k = u = 9; then k, u = X25519(k, u), k; after 1 and after 1,000 */
    uint8_t k[32] = {9}, u[32] = {9}, r[32], want1[32], want1000[32];
    hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", want1, 32);
    hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", want1000, 32);
    for (int i = 1; i <= 1000; i++) {
        cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, k, u, 32, r), 0);
        memcpy(u, k, 32);
        memcpy(k, r, 32);
        if (i == 1)
            cr_assert_arr_eq(k, want1, 32);
    }
    cr_assert_arr_eq(k, want1000, 32);
}

Test(cp, x25519_rfc7748_section_6_1)
{
    uint8_t a[32], b[32], apub[32], bpub[32], k[32], nine[32] = {9}, got[32];
    hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
    hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", apub, 32);
    hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
    hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", bpub, 32);
    hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k, 32);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, a, nine, 32, got), 0);
    cr_assert_arr_eq(got, apub, 32, "Alice's public key");
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, b, nine, 32, got), 0);
    cr_assert_arr_eq(got, bpub, 32, "Bob's public key");
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, a, bpub, 32, got), 0);
    cr_assert_arr_eq(got, k, 32, "Alice's shared secret");
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, b, apub, 32, got), 0);
    cr_assert_arr_eq(got, k, 32, "Bob's shared secret");
}

Test(cp, x25519_keygen_agrees)
{
    uint8_t a[32], ap[32], b[32], bp[32], s1[32], s2[32];
    cr_assert_eq(cp.ops->ecdh_keygen(cp.self, CP_GROUP_X25519, a, ap), 0);
    cr_assert_eq(cp.ops->ecdh_keygen(cp.self, CP_GROUP_X25519, b, bp), 0);
    cr_assert_arr_neq(a, b, 32);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, a, bp, 32, s1), 0);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, b, ap, 32, s2), 0);
    cr_assert_arr_eq(s1, s2, 32);
}

Test(cp, x25519_rejects_low_order_points_and_bad_lengths)
{
    uint8_t priv[32], pub[32], out[32];
    cr_assert_eq(cp.ops->ecdh_keygen(cp.self, CP_GROUP_X25519, priv, pub), 0);
    uint8_t zero[32] = {0}, one[32] = {1}, p_minus_1[32];
    /* u = p - 1 = 2^255 - 20, of order 2 */
    memset(p_minus_1, 0xff, 32);
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, priv, zero, 32, out), -EINVAL);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, priv, one, 32, out), -EINVAL);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, priv, p_minus_1, 32, out), -EINVAL);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, priv, pub, 31, out), -EINVAL);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, priv, pub, 33, out), -EINVAL);
}

Test(cp, unknown_group_is_einval)
{
    uint8_t priv[32], pub[65], out[32] = {0};
    cr_assert_eq(cp.ops->ecdh_keygen(cp.self, (enum cp_group)24, priv, pub), -EINVAL);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, (enum cp_group)24, priv, pub, 65, out), -EINVAL);
    cr_assert_eq(cp_pub_len((enum cp_group)24), 0);
}

/* ---- hashes ---------------------------------------------------------------- */

#define MSG448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

Test(cp, sha256_fips180_vectors)
{
    uint8_t want[32], got[32];
    hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    cp_hash_once(&cp, CP_SHA256, "abc", 3, got);
    cr_assert_arr_eq(got, want, 32, "abc");
    hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", want, 32);
    cp_hash_once(&cp, CP_SHA256, MSG448, 56, got);
    cr_assert_arr_eq(got, want, 32, "448-bit message");
    hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
    cp_hash_once(&cp, CP_SHA256, "", 0, got);
    cr_assert_arr_eq(got, want, 32, "empty message");
}

Test(cp, sha384_fips180_vectors)
{
    uint8_t want[48], got[48];
    hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
        "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        want, 48);
    cp_hash_once(&cp, CP_SHA384, "abc", 3, got);
    cr_assert_arr_eq(got, want, 48, "abc");
    hex("3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05ab"
        "fe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
        want, 48);
    cp_hash_once(&cp, CP_SHA384, MSG448, 56, got);
    cr_assert_arr_eq(got, want, 48, "448-bit message");
}

Test(cp, million_a_in_uneven_pieces)
{
    uint8_t want256[32], want384[48], got[48], a[997];
    hex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", want256, 32);
    hex("9d0e1809716474cb086e834e310a4a1ced149e9c00f24852"
        "7972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
        want384, 48);
    memset(a, 'a', sizeof(a));
    enum cp_hash_alg algs[2] = {CP_SHA256, CP_SHA384};
    const uint8_t *wants[2] = {want256, want384};
    for (int i = 0; i < 2; i++) {
        struct cp_hash h;
        cp.ops->hash_init(cp.self, &h, algs[i]);
        size_t left = 1000000, step = 1;
        while (left > 0) {
            size_t n = step < left ? step : left;
            cp.ops->hash_update(cp.self, &h, a, n);
            left -= n;
            step = (step + 13) % sizeof(a) + 1; /* 1, 15, 29 … within 1..997 */
        }
        cp.ops->hash_final(cp.self, &h, got);
        cr_assert_arr_eq(got, wants[i], cp_hash_len(algs[i]), "a million 'a', alg %d", algs[i]);
        cr_assert_eq(h.alg, 0, "final leaves the hash to be initialised again");
    }
}

Test(cp, copying_a_hash_forks_it)
{
    enum cp_hash_alg algs[2] = {CP_SHA256, CP_SHA384};
    for (int i = 0; i < 2; i++) {
        enum cp_hash_alg alg = algs[i];
        size_t n = cp_hash_len(alg);
        uint8_t want_abc[48], want_448[48], got[48];
        cp_hash_once(&cp, alg, "abc", 3, want_abc);
        cp_hash_once(&cp, alg, MSG448, 56, want_448);
        /* a common prefix "ab", then two continuations, the original
         * finished after its copy */
        struct cp_hash h, fork;
        cp.ops->hash_init(cp.self, &h, alg);
        cp.ops->hash_update(cp.self, &h, "ab", 2);
        fork = h;
        cp.ops->hash_update(cp.self, &h, "c", 1);
        cp.ops->hash_update(cp.self, &fork, MSG448 + 2, 54);
        cp.ops->hash_final(cp.self, &h, got);
        cr_assert_arr_eq(got, want_abc, n, "original, alg %d", alg);
        cp.ops->hash_final(cp.self, &fork, got);
        cr_assert_arr_eq(got, want_448, n, "fork, alg %d", alg);
    }
}

/* ---- P-256 ECDSA ---------------------------------------------------------- */

/* RFC 6979 A.2.5: the P-256 key */
#define R6979_X  "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
#define R6979_UX "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
#define R6979_UY "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"
/* … and its SHA-256 signatures of "sample" and "test" */
#define SAMPLE_R "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
#define SAMPLE_S "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
#define TEST_R   "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
#define TEST_S   "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"

/* P-256's order n */
#define P256_N "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

Test(cp, p256_public_of_rfc6979_key)
{
    uint8_t x[32], want[65], got[65];
    hex(R6979_X, x, 32);
    point(R6979_UX, R6979_UY, want);
    cr_assert_eq(cp.ops->p256_public(cp.self, x, got), 0);
    cr_assert_arr_eq(got, want, 65);
}

Test(cp, p256_public_rejects_out_of_range_scalars)
{
    uint8_t zero[32] = {0}, n[32], ones[32], pub[65];
    hex(P256_N, n, 32);
    memset(ones, 0xff, 32);
    cr_assert_eq(cp.ops->p256_public(cp.self, zero, pub), -EINVAL);
    cr_assert_eq(cp.ops->p256_public(cp.self, n, pub), -EINVAL);
    cr_assert_eq(cp.ops->p256_public(cp.self, ones, pub), -EINVAL);
    n[31]--; /* n - 1 is a valid scalar */
    cr_assert_eq(cp.ops->p256_public(cp.self, n, pub), 0);
}

Test(cp, ecdsa_verifies_rfc6979_signatures)
{
    uint8_t pub[65], dsample[32], dtest[32], sig[CP_ECDSA_SIG_MAX];
    point(R6979_UX, R6979_UY, pub);
    sha256("sample", dsample);
    sha256("test", dtest);
    size_t n = der_sig(SAMPLE_R, SAMPLE_S, sig);
    cr_assert_eq(n, 72, "both integers padded");
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, dsample, sig, n), 0);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, dtest, sig, n), -EBADMSG, "other digest");
    n = der_sig(TEST_R, TEST_S, sig);
    cr_assert_eq(n, 71);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, dtest, sig, n), 0);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, dsample, sig, n), -EBADMSG,
                 "other digest");
    sig[n - 1] ^= 1;
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, dtest, sig, n), -EBADMSG, "s changed");
}

Test(cp, ecdsa_verify_rejects_bad_der_with_einval)
{
    uint8_t pub[65], d[32], good[CP_ECDSA_SIG_MAX + 8], bad[CP_ECDSA_SIG_MAX + 8];
    point(R6979_UX, R6979_UY, pub);
    sha256("test", d);
    size_t n = der_sig(TEST_R, TEST_S, good); /* 30 45 02 21 00 r 02 20 s */
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, good, n), 0);

    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, good, n - 1), -EINVAL, "truncated");
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, good, 0), -EINVAL, "empty");
    memcpy(bad, good, n);
    bad[n] = 0;
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, bad, n + 1), -EINVAL, "trailing byte");
    memcpy(bad, good, n);
    bad[0] = 0x31;
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, bad, n), -EINVAL, "SET, not SEQUENCE");
    /* long-form length 0x81 0x45: BER, not DER */
    bad[0] = 0x30;
    bad[1] = 0x81;
    bad[2] = 0x45;
    memcpy(bad + 3, good + 2, n - 2);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, bad, n + 1), -EINVAL,
                 "long-form length");
    /* s with a needless leading zero: 02 21 00 01 9f … */
    memcpy(bad, good, 2 + 35);
    bad[1] = 0x46;
    bad[37] = 0x02;
    bad[38] = 0x21;
    bad[39] = 0x00;
    memcpy(bad + 40, good + 39, 32);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, bad, 72), -EINVAL, "padded integer");
    /* a negative r (the pad byte dropped): DER, but not a valid signature value */
    uint8_t neg[CP_ECDSA_SIG_MAX];
    neg[0] = 0x30;
    neg[1] = 0x44;
    neg[2] = 0x02;
    neg[3] = 0x20;
    memcpy(neg + 4, good + 5, 32 + 34);
    int rc = cp.ops->ecdsa_p256_verify(cp.self, pub, d, neg, 70);
    cr_assert(rc == -EINVAL || rc == -EBADMSG, "negative r: %d", rc);
    memset(bad, 0, sizeof(bad));
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, bad, CP_ECDSA_SIG_MAX + 1), -EINVAL,
                 "too long");
}

Test(cp, ecdsa_out_of_range_values_do_not_verify)
{
    uint8_t pub[65], d[32], sig[CP_ECDSA_SIG_MAX];
    point(R6979_UX, R6979_UY, pub);
    sha256("test", d);
    static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
    size_t n = der_sig(zero, TEST_S, sig);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), -EBADMSG, "r = 0");
    n = der_sig(TEST_R, zero, sig);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), -EBADMSG, "s = 0");
    n = der_sig(TEST_R, P256_N, sig);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), -EBADMSG, "s = n");
}

Test(cp, ecdsa_verify_rejects_bad_public_keys_with_einval)
{
    uint8_t pub[65], d[32], sig[CP_ECDSA_SIG_MAX];
    sha256("test", d);
    size_t n = der_sig(TEST_R, TEST_S, sig);
    point(R6979_UX, R6979_UY, pub);
    pub[64] ^= 1;
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), -EINVAL, "not on the curve");
    point(R6979_UX, R6979_UY, pub);
    pub[0] = 2;
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), -EINVAL, "compressed form");
    memset(pub, 0, sizeof(pub));
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), -EINVAL, "point at infinity");
    /* the good key still works after the failures (scratch state reset) */
    point(R6979_UX, R6979_UY, pub);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), 0);
}

/* mbedTLS as the independent verifier: 0 when sig verifies for pub/digest */
static int mbedtls_verify(const uint8_t pub[65], const uint8_t digest[32], const uint8_t *sig,
                          size_t len)
{
    mbedtls_ecdsa_context ctx;
    mbedtls_ecdsa_init(&ctx);
    int rc = mbedtls_ecp_group_load(&ctx.grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0)
        rc = mbedtls_ecp_point_read_binary(&ctx.grp, &ctx.Q, pub, 65);
    if (rc == 0)
        rc = mbedtls_ecp_check_pubkey(&ctx.grp, &ctx.Q);
    if (rc == 0)
        rc = mbedtls_ecdsa_read_signature(&ctx, digest, 32, sig, len);
    mbedtls_ecdsa_free(&ctx);
    return rc;
}

Test(cp, ecdsa_sign_checked_by_mbedtls)
{
    uint8_t priv[32], pub[65], d[32], sig[CP_ECDSA_SIG_MAX];
    size_t n = 0;
    hex(R6979_X, priv, 32);
    point(R6979_UX, R6979_UY, pub);
    sha256("sample", d);
    cr_assert_eq(cp.ops->ecdsa_p256_sign(cp.self, priv, d, sig, &n), 0);
    cr_assert(n >= 8 && n <= CP_ECDSA_SIG_MAX);
    cr_assert_eq(mbedtls_verify(pub, d, sig, n), 0, "RFC 6979 key");
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, pub, d, sig, n), 0);
    for (int i = 0; i < 50; i++) {
        uint8_t k[32], kp[65], msg[4] = {(uint8_t)i, 1, 2, 3};
        cr_assert_eq(cp.ops->ecdh_keygen(cp.self, CP_GROUP_SECP256R1, k, kp), 0);
        cp_hash_once(&cp, CP_SHA256, msg, sizeof(msg), d);
        cr_assert_eq(cp.ops->ecdsa_p256_sign(cp.self, k, d, sig, &n), 0);
        cr_assert_eq(mbedtls_verify(kp, d, sig, n), 0, "fresh key %d", i);
        cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, kp, d, sig, n), 0, "fresh key %d", i);
        d[0] ^= 0x80;
        cr_assert_neq(mbedtls_verify(kp, d, sig, n), 0);
        cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, kp, d, sig, n), -EBADMSG);
    }
}

Test(cp, ecdsa_sign_rejects_out_of_range_keys)
{
    uint8_t zero[32] = {0}, n[32], d[32] = {1}, sig[CP_ECDSA_SIG_MAX];
    size_t len = 0;
    hex(P256_N, n, 32);
    cr_assert_eq(cp.ops->ecdsa_p256_sign(cp.self, zero, d, sig, &len), -EINVAL);
    cr_assert_eq(cp.ops->ecdsa_p256_sign(cp.self, n, d, sig, &len), -EINVAL);
}

/* ---- P-256 ECDH ----------------------------------------------------------- */

/* RFC 5903 §8.1: initiator i, responder r, their public points, g^ir */
#define R5903_I    "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"
#define R5903_GIX  "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
#define R5903_GIY  "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3"
#define R5903_R    "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"
#define R5903_GRX  "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
#define R5903_GRY  "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
#define R5903_GIRX "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"

Test(cp, p256_ecdh_rfc5903_section_8_1)
{
    uint8_t i[32], r[32], gi[65], gr[65], want[32], got[32], pub[65];
    hex(R5903_I, i, 32);
    hex(R5903_R, r, 32);
    point(R5903_GIX, R5903_GIY, gi);
    point(R5903_GRX, R5903_GRY, gr);
    hex(R5903_GIRX, want, 32);
    cr_assert_eq(cp.ops->p256_public(cp.self, i, pub), 0);
    cr_assert_arr_eq(pub, gi, 65, "g^i");
    cr_assert_eq(cp.ops->p256_public(cp.self, r, pub), 0);
    cr_assert_arr_eq(pub, gr, 65, "g^r");
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, gr, 65, got), 0);
    cr_assert_arr_eq(got, want, 32, "initiator's g^ir");
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, r, gi, 65, got), 0);
    cr_assert_arr_eq(got, want, 32, "responder's g^ir");
}

Test(cp, p256_keygen_agrees_and_gives_valid_points)
{
    for (int k = 0; k < 20; k++) {
        uint8_t a[32], ap[65], b[32], bp[65], s1[32], s2[32], again[65];
        cr_assert_eq(cp.ops->ecdh_keygen(cp.self, CP_GROUP_SECP256R1, a, ap), 0);
        cr_assert_eq(cp.ops->ecdh_keygen(cp.self, CP_GROUP_SECP256R1, b, bp), 0);
        cr_assert_eq(cp.ops->p256_public(cp.self, a, again), 0);
        cr_assert_arr_eq(again, ap, 65);
        cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, a, bp, 65, s1), 0);
        cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, b, ap, 65, s2), 0);
        cr_assert_arr_eq(s1, s2, 32);
        /* mbedTLS agrees the point is on the curve */
        mbedtls_ecp_group g;
        mbedtls_ecp_point q;
        mbedtls_ecp_group_init(&g);
        mbedtls_ecp_point_init(&q);
        cr_assert_eq(mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1), 0);
        cr_assert_eq(mbedtls_ecp_point_read_binary(&g, &q, ap, 65), 0);
        cr_assert_eq(mbedtls_ecp_check_pubkey(&g, &q), 0);
        mbedtls_ecp_point_free(&q);
        mbedtls_ecp_group_free(&g);
    }
}

Test(cp, p256_ecdh_rejects_bad_points_with_einval)
{
    uint8_t i[32], gr[65], bad[66], out[32];
    hex(R5903_I, i, 32);
    point(R5903_GRX, R5903_GRY, gr);
    memcpy(bad, gr, 65);
    bad[64] ^= 1;
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, bad, 65, out), -EINVAL,
                 "off the curve");
    memcpy(bad, gr, 65);
    bad[0] = 3;
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, bad, 33, out), -EINVAL,
                 "compressed");
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, bad, 65, out), -EINVAL,
                 "hybrid-ish");
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, gr, 64, out), -EINVAL,
                 "short");
    memcpy(bad, gr, 65);
    bad[65] = 0;
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, bad, 66, out), -EINVAL,
                 "long");
    uint8_t inf[1] = {0};
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, inf, 1, out), -EINVAL,
                 "infinity");
    /* x = p: out of range (x = p - 1 and y = 0 is not on the curve either) */
    static const char p[] = "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF";
    point(p, R5903_GRY, bad);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, bad, 65, out), -EINVAL,
                 "x = p");
    memset(bad + 1, 0, 64);
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, bad, 65, out), -EINVAL,
                 "(0, 0)");
    /* a bad private key is refused too */
    uint8_t zero[32] = {0};
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, zero, gr, 65, out), -EINVAL,
                 "zero scalar");
    /* and the good inputs still work afterwards */
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_SECP256R1, i, gr, 65, out), 0);
}

/* ---- random and life cycle ------------------------------------------------- */

Test(cp, random_fills_and_differs)
{
    uint8_t a[64] = {0}, b[64] = {0}, zero[64] = {0};
    cr_assert_eq(cp.ops->random(cp.self, a, sizeof(a)), 0);
    cr_assert_eq(cp.ops->random(cp.self, b, sizeof(b)), 0);
    cr_assert_arr_neq(a, zero, 64);
    cr_assert_arr_neq(a, b, 64);
    cr_assert_eq(cp.ops->random(cp.self, a, 0), 0);
}

Test(cp, instances_are_independent_and_destroy_zeroes)
{
    struct cp other;
    cr_assert_eq(cp_default_create(&other), 0);
    cr_assert_not_null(other.ops->name);
    cr_assert_neq(other.self, cp.self);
    uint8_t x[32], p1[65], p2[65];
    hex(R6979_X, x, 32);
    cr_assert_eq(other.ops->p256_public(other.self, x, p1), 0);
    cr_assert_eq(cp.ops->p256_public(cp.self, x, p2), 0);
    cr_assert_arr_eq(p1, p2, 65);
    cp_destroy(&other);
    cr_assert_null(other.ops);
    cr_assert_null(other.self);
    cp_destroy(&other); /* twice is harmless */
}
