/* SPDX-License-Identifier: MIT */
/*
 * Public-key and hash primitives, per library, side by side: what one
 * DTLS 1.2 handshake pays for each primitive through OpenSSL 3's EVP layer,
 * OpenSSL's low-level API (EC_KEY, ECDSA_do_*, SHA256_*), libsodium,
 * nettle/hogweed, mbedTLS 2.28, and through our default provider
 * (crypto/cp.h), which is what the DTLS engine pays.
 *
 * Every ECDSA verify and ECDH derive starts from the peer's raw 65-byte
 * point, as a handshake does (the point arrives in a certificate or a key
 * exchange message), so the cost of turning it into the library's key
 * object is counted; ECDSA signatures are DER in and out. Private keys are
 * raw 32-byte scalars loaded per call where the library allows it (as the
 * provider interface does); "cached key" rows show the same operation on a
 * key object made once. Each case is calibrated to about 20 ms per round;
 * all cases run once per round in turn, so libraries see the same machine
 * state; the figures are medians of REPS rounds (default 7). Every result
 * is checked once before timing (a wrong answer aborts). allocs/op counts
 * the heap allocations (malloc, calloc, realloc) one operation makes, all
 * freed again before it returns.
 *
 *   build-release/bench/crypto/pk_bench [REPS]
 *
 * Then the public-key cost of one full handshake, both ends on one core
 * (ECDHE + ECDSA P-256 with mutual authentication as WebRTC does: two key
 * pairs, two signatures, two verifies, two derives), through cp_default,
 * and the handshakes per second per core that leaves as an upper bound.
 */
#define OPENSSL_API_COMPAT 0x10101000L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdh.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <sodium.h>

#include <nettle/bignum.h>
#include <nettle/curve25519.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "bench.h"
#include "cp.h"
#include "dtls_prf.h"

#define MAX_REPS 101

/* Heap allocations of the whole process, counted by replacing malloc,
 * calloc and realloc (glibc allows it; the libraries' own calls bind to
 * these): the allocations per operation column. The bench is one thread. */
static unsigned long n_allocs;
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n)
{
    n_allocs++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    n_allocs++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    n_allocs += p == NULL || n > 0;
    return __libc_realloc(p, n);
}

/* The fixed DER prefix of a P-256 SubjectPublicKeyInfo (RFC 5480) before
 * the 65-byte point. */
static const uint8_t spki_p256_prefix[26] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

/* Everything the cases share: inputs made once, the libraries' reusable
 * objects, and output buffers. */
struct pk {
    struct cp cp;
    /* inputs */
    uint8_t priv[32], pub[65], peer_priv[32], peer_pub[65]; /* P-256 */
    uint8_t digest[32], sig[CP_ECDSA_SIG_MAX];
    size_t sig_len;
    uint8_t spki[91];
    uint8_t xpriv[32], xpeer[32]; /* X25519 */
    uint8_t msg[1024], key[32];
    /* outputs */
    uint8_t out[128], out2[128];
    size_t out_len;
    /* OpenSSL */
    EC_GROUP *group;
    EC_KEY *ec_sign, *ec_verify, *ec_dh, *ec_gen;
    EC_POINT *ec_pt;
    BN_CTX *bn;
    EVP_PKEY *evp_own;    /* our P-256 key (sign, derive) */
    EVP_PKEY_CTX *evp_ec; /* "EC" context for fromdata */
    EVP_PKEY_CTX *evp_ecgen, *evp_xgen;
    EVP_MD *sha256_md, *sha384_md;
    EVP_MD_CTX *md_ctx;
    HMAC_CTX *hmac_ctx;
    EVP_MAC_CTX *mac_ctx;
    /* nettle */
    const struct ecc_curve *n256;
    struct ecc_point n_pub, n_r;
    struct ecc_scalar n_key;
    mpz_t z1, z2;
    struct dsa_signature n_sig;
    /* mbedTLS */
    mbedtls_ecp_group m256, m25519;
    mbedtls_ecp_point mq, xq;   /* P-256 and X25519 objects kept apart: mbedTLS */
    mbedtls_mpi md, mz, xd, xz; /* refuses Curve25519 keygen into a used P-256 pair */
    mbedtls_ecdsa_context mecdsa;
    const mbedtls_md_info_t *msha256;
};

static void fail(const char *what)
{
    fprintf(stderr, "pk_bench: %s failed\n", what);
    exit(1);
}

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail(what);                                                                            \
    } while (0)

static int mbed_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
    return 0;
}

static void nettle_rng(void *ctx, size_t len, uint8_t *out)
{
    (void)ctx;
    randombytes_buf(out, len);
}

/* ---- OpenSSL EVP helpers ---------------------------------------------------- */

/* An EVP_PKEY of the P-256 public point pub (65 bytes) by EVP_PKEY_fromdata. */
static EVP_PKEY *evp_pub_fromdata(struct pk *b, const uint8_t *pub)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, 65),
        OSSL_PARAM_END,
    };
    EVP_PKEY *pk = NULL;
    if (EVP_PKEY_fromdata_init(b->evp_ec) != 1 ||
        EVP_PKEY_fromdata(b->evp_ec, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        return NULL;
    return pk;
}

/* An EVP_PKEY of the P-256 key pair (priv, pub) by EVP_PKEY_fromdata. */
static EVP_PKEY *evp_keypair_fromdata(struct pk *b, const uint8_t *priv, const uint8_t *pub)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *d = BN_bin2bn(priv, 32, NULL);
    EVP_PKEY *pk = NULL;
    OSSL_PARAM *params = NULL;
    if (bld && d &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(b->evp_ec) == 1)
        EVP_PKEY_fromdata(b->evp_ec, &pk, EVP_PKEY_KEYPAIR, params);
    OSSL_PARAM_free(params);
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

static int evp_verify_with(EVP_PKEY *pk, struct pk *b)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    int ok = c && EVP_PKEY_verify_init(c) == 1 &&
             EVP_PKEY_verify(c, b->sig, b->sig_len, b->digest, 32) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}

static int evp_sign_with(EVP_PKEY *pk, struct pk *b)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    b->out_len = CP_ECDSA_SIG_MAX;
    int ok = c && EVP_PKEY_sign_init(c) == 1 &&
             EVP_PKEY_sign(c, b->out, &b->out_len, b->digest, 32) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}

static int evp_derive_with(EVP_PKEY *own, EVP_PKEY *peer, uint8_t *out)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(own, NULL);
    size_t n = 32;
    int ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, peer) == 1 &&
             EVP_PKEY_derive(c, out, &n) == 1 && n == 32;
    EVP_PKEY_CTX_free(c);
    return ok;
}

/* ---- the cases: one operation each ------------------------------------------ */

/* P-256 keygen: a fresh private scalar and its 65-byte public point, raw */

static int keygen_evp(struct pk *b)
{
    EVP_PKEY *pk = NULL;
    size_t n = 0;
    BIGNUM *d = NULL;
    int ok = EVP_PKEY_keygen(b->evp_ecgen, &pk) == 1 &&
             EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, b->out, 65, &n) == 1 &&
             n == 65 && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
             BN_bn2binpad(d, b->out2, 32) == 32;
    BN_clear_free(d);
    EVP_PKEY_free(pk);
    return ok;
}

static int keygen_ossl(struct pk *b)
{
    return EC_KEY_generate_key(b->ec_gen) == 1 &&
           EC_POINT_point2oct(b->group, EC_KEY_get0_public_key(b->ec_gen),
                              POINT_CONVERSION_UNCOMPRESSED, b->out, 65, b->bn) == 65 &&
           EC_KEY_priv2oct(b->ec_gen, b->out2, 32) == 32;
}

static int keygen_nettle(struct pk *b)
{
    ecdsa_generate_keypair(&b->n_pub, &b->n_key, NULL, nettle_rng);
    ecc_point_get(&b->n_pub, b->z1, b->z2);
    b->out[0] = 4;
    nettle_mpz_get_str_256(32, b->out + 1, b->z1);
    nettle_mpz_get_str_256(32, b->out + 33, b->z2);
    ecc_scalar_get(&b->n_key, b->z1);
    nettle_mpz_get_str_256(32, b->out2, b->z1);
    return 1;
}

static int keygen_mbed(struct pk *b)
{
    size_t n = 0;
    return mbedtls_ecp_gen_keypair(&b->m256, &b->md, &b->mq, mbed_rng, NULL) == 0 &&
           mbedtls_ecp_point_write_binary(&b->m256, &b->mq, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, b->out,
                                          65) == 0 &&
           n == 65 && mbedtls_mpi_write_binary(&b->md, b->out2, 32) == 0;
}

static int keygen_cp(struct pk *b)
{
    return b->cp.ops->ecdh_keygen(b->cp.self, CP_GROUP_SECP256R1, b->out2, b->out) == 0;
}

/* ECDSA P-256 sign: DER out */

static int sign_evp_cached(struct pk *b)
{
    return evp_sign_with(b->evp_own, b);
}

static int sign_evp_raw(struct pk *b)
{
    EVP_PKEY *pk = evp_keypair_fromdata(b, b->priv, b->pub);
    int ok = pk && evp_sign_with(pk, b);
    EVP_PKEY_free(pk);
    return ok;
}

static int sign_ossl(struct pk *b)
{
    unsigned int n = CP_ECDSA_SIG_MAX;
    int ok = EC_KEY_oct2priv(b->ec_sign, b->priv, 32) == 1 &&
             ECDSA_sign(0, b->digest, 32, b->out, &n, b->ec_sign) == 1;
    b->out_len = n;
    return ok;
}

/* nettle has no DER: the two integers are written out by hand */
static size_t der_put_int(uint8_t *p, const mpz_t v)
{
    uint8_t raw[33];
    raw[0] = 0;
    nettle_mpz_get_str_256(32, raw + 1, v);
    size_t i = 1;
    while (i < 32 && raw[i] == 0 && !(raw[i + 1] & 0x80))
        i++;
    if (raw[i] & 0x80)
        i--;
    p[0] = 2;
    p[1] = (uint8_t)(33 - i);
    memcpy(p + 2, raw + i, 33 - i);
    return 2 + 33 - i;
}

static int sign_nettle(struct pk *b)
{
    nettle_mpz_set_str_256_u(b->z1, 32, b->priv);
    if (!ecc_scalar_set(&b->n_key, b->z1))
        return 0;
    ecdsa_sign(&b->n_key, NULL, nettle_rng, 32, b->digest, &b->n_sig);
    size_t n = der_put_int(b->out + 2, b->n_sig.r);
    n += der_put_int(b->out + 2 + n, b->n_sig.s);
    b->out[0] = 0x30;
    b->out[1] = (uint8_t)n;
    b->out_len = n + 2;
    return 1;
}

static int sign_mbed(struct pk *b)
{
    return mbedtls_mpi_read_binary(&b->mecdsa.d, b->priv, 32) == 0 &&
           mbedtls_ecdsa_write_signature(&b->mecdsa, MBEDTLS_MD_SHA256, b->digest, 32, b->out,
                                         &b->out_len, mbed_rng, NULL) == 0;
}

static int sign_cp(struct pk *b)
{
    return b->cp.ops->ecdsa_p256_sign(b->cp.self, b->priv, b->digest, b->out, &b->out_len) == 0;
}

/* P-256 public key load alone: 65 bytes to the library's checked key */

static int load_evp_fromdata(struct pk *b)
{
    EVP_PKEY *pk = evp_pub_fromdata(b, b->pub);
    EVP_PKEY_free(pk);
    return pk != NULL;
}

static int load_evp_d2i(struct pk *b)
{
    const unsigned char *p = b->spki;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, sizeof(b->spki));
    EVP_PKEY_free(pk);
    return pk != NULL;
}

static int load_ossl(struct pk *b)
{
    return EC_KEY_oct2key(b->ec_verify, b->pub, 65, b->bn) == 1 &&
           EC_POINT_is_on_curve(b->group, EC_KEY_get0_public_key(b->ec_verify), b->bn) == 1;
}

static int load_nettle(struct pk *b)
{
    nettle_mpz_set_str_256_u(b->z1, 32, b->pub + 1);
    nettle_mpz_set_str_256_u(b->z2, 32, b->pub + 33);
    return ecc_point_set(&b->n_pub, b->z1, b->z2);
}

static int load_mbed(struct pk *b)
{
    return mbedtls_ecp_point_read_binary(&b->m256, &b->mq, b->pub, 65) == 0 &&
           mbedtls_ecp_check_pubkey(&b->m256, &b->mq) == 0;
}

/* ECDSA P-256 verify of a DER signature, the key loaded from raw bytes */

static int verify_evp_cached(struct pk *b)
{
    return evp_verify_with(b->evp_own, b);
}

static int verify_evp_fromdata(struct pk *b)
{
    EVP_PKEY *pk = evp_pub_fromdata(b, b->pub);
    int ok = pk && evp_verify_with(pk, b);
    EVP_PKEY_free(pk);
    return ok;
}

static int verify_evp_d2i(struct pk *b)
{
    const unsigned char *p = b->spki;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, sizeof(b->spki));
    int ok = pk && evp_verify_with(pk, b);
    EVP_PKEY_free(pk);
    return ok;
}

static int verify_ossl(struct pk *b)
{
    return load_ossl(b) &&
           ECDSA_verify(0, b->digest, 32, b->sig, (int)b->sig_len, b->ec_verify) == 1;
}

/* r and s of a DER signature made by us (well-formed by construction) */
static int der_get_sig(const uint8_t *p, size_t len, mpz_t r, mpz_t s)
{
    if (len < 8 || p[0] != 0x30 || p[2] != 2 || (size_t)p[3] + 6 > len || p[4 + p[3]] != 2)
        return 0;
    nettle_mpz_set_str_256_u(r, p[3], p + 4);
    nettle_mpz_set_str_256_u(s, p[5 + p[3]], p + 6 + p[3]);
    return 1;
}

static int verify_nettle(struct pk *b)
{
    return load_nettle(b) && der_get_sig(b->sig, b->sig_len, b->n_sig.r, b->n_sig.s) &&
           ecdsa_verify(&b->n_pub, 32, b->digest, &b->n_sig);
}

static int verify_mbed(struct pk *b)
{
    return mbedtls_ecp_point_read_binary(&b->mecdsa.grp, &b->mecdsa.Q, b->pub, 65) == 0 &&
           mbedtls_ecp_check_pubkey(&b->mecdsa.grp, &b->mecdsa.Q) == 0 &&
           mbedtls_ecdsa_read_signature(&b->mecdsa, b->digest, 32, b->sig, b->sig_len) == 0;
}

static int verify_cp(struct pk *b)
{
    return b->cp.ops->ecdsa_p256_verify(b->cp.self, b->pub, b->digest, b->sig, b->sig_len) == 0;
}

/* ECDH P-256: our raw private scalar with the peer's raw point */

static int ecdh_evp(struct pk *b)
{
    EVP_PKEY *peer = evp_pub_fromdata(b, b->peer_pub);
    int ok = peer && evp_derive_with(b->evp_own, peer, b->out);
    EVP_PKEY_free(peer);
    return ok;
}

static int ecdh_ossl(struct pk *b)
{
    return EC_KEY_oct2priv(b->ec_dh, b->priv, 32) == 1 &&
           EC_POINT_oct2point(b->group, b->ec_pt, b->peer_pub, 65, b->bn) == 1 &&
           ECDH_compute_key(b->out, 32, b->ec_pt, b->ec_dh, NULL) == 32;
}

static int ecdh_nettle(struct pk *b)
{
    nettle_mpz_set_str_256_u(b->z1, 32, b->peer_pub + 1);
    nettle_mpz_set_str_256_u(b->z2, 32, b->peer_pub + 33);
    if (!ecc_point_set(&b->n_pub, b->z1, b->z2))
        return 0;
    nettle_mpz_set_str_256_u(b->z1, 32, b->priv);
    if (!ecc_scalar_set(&b->n_key, b->z1))
        return 0;
    ecc_point_mul(&b->n_r, &b->n_key, &b->n_pub);
    ecc_point_get(&b->n_r, b->z1, NULL);
    nettle_mpz_get_str_256(32, b->out, b->z1);
    return 1;
}

static int ecdh_mbed(struct pk *b)
{
    return mbedtls_ecp_point_read_binary(&b->m256, &b->mq, b->peer_pub, 65) == 0 &&
           mbedtls_ecp_check_pubkey(&b->m256, &b->mq) == 0 &&
           mbedtls_mpi_read_binary(&b->md, b->priv, 32) == 0 &&
           mbedtls_ecdh_compute_shared(&b->m256, &b->mz, &b->mq, &b->md, mbed_rng, NULL) == 0 &&
           mbedtls_mpi_write_binary(&b->mz, b->out, 32) == 0;
}

static int ecdh_cp(struct pk *b)
{
    return b->cp.ops->ecdh_shared(b->cp.self, CP_GROUP_SECP256R1, b->priv, b->peer_pub, 65,
                                  b->out) == 0;
}

/* X25519 keygen: 32 random bytes and their public key */

static int xkeygen_evp(struct pk *b)
{
    EVP_PKEY *pk = NULL;
    size_t n1 = 32, n2 = 32;
    int ok = EVP_PKEY_keygen(b->evp_xgen, &pk) == 1 &&
             EVP_PKEY_get_raw_public_key(pk, b->out, &n1) == 1 &&
             EVP_PKEY_get_raw_private_key(pk, b->out2, &n2) == 1;
    EVP_PKEY_free(pk);
    return ok;
}

static int xkeygen_sodium(struct pk *b)
{
    randombytes_buf(b->out2, 32);
    return crypto_scalarmult_curve25519_base(b->out, b->out2) == 0;
}

static int xkeygen_nettle(struct pk *b)
{
    randombytes_buf(b->out2, 32);
    curve25519_mul_g(b->out, b->out2);
    return 1;
}

static int xkeygen_mbed(struct pk *b)
{
    size_t n = 0;
    return mbedtls_ecp_gen_keypair(&b->m25519, &b->xd, &b->xq, mbed_rng, NULL) == 0 &&
           mbedtls_ecp_point_write_binary(&b->m25519, &b->xq, MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
                                          b->out, 32) == 0 &&
           mbedtls_mpi_write_binary_le(&b->xd, b->out2, 32) == 0;
}

static int xkeygen_cp(struct pk *b)
{
    return b->cp.ops->ecdh_keygen(b->cp.self, CP_GROUP_X25519, b->out2, b->out) == 0;
}

/* X25519 derive: raw private key, raw peer key, the all-zero output refused */

static int nonzero32(const uint8_t *p)
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= p[i];
    return acc != 0;
}

static int xderive_evp(struct pk *b)
{
    EVP_PKEY *own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, b->xpriv, 32);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, b->xpeer, 32);
    int ok = own && peer && evp_derive_with(own, peer, b->out);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(own);
    return ok;
}

static int xderive_sodium(struct pk *b)
{
    return crypto_scalarmult_curve25519(b->out, b->xpriv, b->xpeer) == 0;
}

static int xderive_nettle(struct pk *b)
{
    curve25519_mul(b->out, b->xpriv, b->xpeer);
    return nonzero32(b->out);
}

static int xderive_mbed(struct pk *b)
{
    uint8_t k[32];
    memcpy(k, b->xpriv, 32);
    k[0] &= 248; /* mbedTLS wants the scalar clamped already */
    k[31] = (uint8_t)((k[31] & 127) | 64);
    return mbedtls_mpi_read_binary_le(&b->xd, k, 32) == 0 &&
           mbedtls_ecp_point_read_binary(&b->m25519, &b->xq, b->xpeer, 32) == 0 &&
           mbedtls_ecdh_compute_shared(&b->m25519, &b->xz, &b->xq, &b->xd, mbed_rng, NULL) == 0 &&
           mbedtls_mpi_write_binary_le(&b->xz, b->out, 32) == 0 && nonzero32(b->out);
}

static int xderive_cp(struct pk *b)
{
    return b->cp.ops->ecdh_shared(b->cp.self, CP_GROUP_X25519, b->xpriv, b->xpeer, 32, b->out) == 0;
}

/* SHA-256 and HMAC-SHA256 of 64 bytes and 1 KiB: two variants of each
 * function, by a macro over the length */

#define HASH_CASES(N)                                                                              \
    static int sha_evp_oneshot_##N(struct pk *b)                                                   \
    {                                                                                              \
        return EVP_Digest(b->msg, N, b->out, NULL, EVP_sha256(), NULL) == 1;                       \
    }                                                                                              \
    static int sha_evp_ctx_##N(struct pk *b)                                                       \
    {                                                                                              \
        return EVP_DigestInit_ex(b->md_ctx, b->sha256_md, NULL) == 1 &&                            \
               EVP_DigestUpdate(b->md_ctx, b->msg, N) == 1 &&                                      \
               EVP_DigestFinal_ex(b->md_ctx, b->out, NULL) == 1;                                   \
    }                                                                                              \
    static int sha_ossl_##N(struct pk *b)                                                          \
    {                                                                                              \
        SHA256_CTX c;                                                                              \
        return SHA256_Init(&c) == 1 && SHA256_Update(&c, b->msg, N) == 1 &&                        \
               SHA256_Final(b->out, &c) == 1;                                                      \
    }                                                                                              \
    static int sha_sodium_##N(struct pk *b)                                                        \
    {                                                                                              \
        return crypto_hash_sha256(b->out, b->msg, N) == 0;                                         \
    }                                                                                              \
    static int sha_nettle_##N(struct pk *b)                                                        \
    {                                                                                              \
        struct sha256_ctx c;                                                                       \
        sha256_init(&c);                                                                           \
        sha256_update(&c, N, b->msg);                                                              \
        sha256_digest(&c, 32, b->out);                                                             \
        return 1;                                                                                  \
    }                                                                                              \
    static int sha_mbed_##N(struct pk *b)                                                          \
    {                                                                                              \
        return mbedtls_sha256_ret(b->msg, N, b->out, 0) == 0;                                      \
    }                                                                                              \
    static int sha_cp_##N(struct pk *b)                                                            \
    {                                                                                              \
        cp_hash_once(&b->cp, CP_SHA256, b->msg, N, b->out);                                        \
        return 1;                                                                                  \
    }                                                                                              \
    static int hmac_evp_oneshot_##N(struct pk *b)                                                  \
    {                                                                                              \
        unsigned int n = 32;                                                                       \
        return HMAC(EVP_sha256(), b->key, 32, b->msg, N, b->out, &n) != NULL;                      \
    }                                                                                              \
    static int hmac_evp_mac_##N(struct pk *b)                                                      \
    {                                                                                              \
        size_t n = 0;                                                                              \
        return EVP_MAC_init(b->mac_ctx, b->key, 32, NULL) == 1 &&                                  \
               EVP_MAC_update(b->mac_ctx, b->msg, N) == 1 &&                                       \
               EVP_MAC_final(b->mac_ctx, b->out, &n, 32) == 1;                                     \
    }                                                                                              \
    static int hmac_ossl_##N(struct pk *b)                                                         \
    {                                                                                              \
        unsigned int n = 32;                                                                       \
        return HMAC_Init_ex(b->hmac_ctx, b->key, 32, EVP_sha256(), NULL) == 1 &&                   \
               HMAC_Update(b->hmac_ctx, b->msg, N) == 1 &&                                         \
               HMAC_Final(b->hmac_ctx, b->out, &n) == 1;                                           \
    }                                                                                              \
    static int hmac_sodium_##N(struct pk *b)                                                       \
    {                                                                                              \
        return crypto_auth_hmacsha256(b->out, b->msg, N, b->key) == 0;                             \
    }                                                                                              \
    static int hmac_nettle_##N(struct pk *b)                                                       \
    {                                                                                              \
        struct hmac_sha256_ctx c;                                                                  \
        hmac_sha256_set_key(&c, 32, b->key);                                                       \
        hmac_sha256_update(&c, N, b->msg);                                                         \
        hmac_sha256_digest(&c, 32, b->out);                                                        \
        return 1;                                                                                  \
    }                                                                                              \
    static int hmac_mbed_##N(struct pk *b)                                                         \
    {                                                                                              \
        return mbedtls_md_hmac(b->msha256, b->key, 32, b->msg, N, b->out) == 0;                    \
    }                                                                                              \
    static int hmac_cp_##N(struct pk *b)                                                           \
    {                                                                                              \
        dtls_hmac(&b->cp, CP_SHA256, b->key, 32, b->msg, N, b->out);                               \
        return 1;                                                                                  \
    }

HASH_CASES(64)
HASH_CASES(1024)

/* SHA-384 of 1 KiB (the PRF and transcript hash of the *_SHA384 suites) */

static int sha384_evp_ctx(struct pk *b)
{
    return EVP_DigestInit_ex(b->md_ctx, b->sha384_md, NULL) == 1 &&
           EVP_DigestUpdate(b->md_ctx, b->msg, 1024) == 1 &&
           EVP_DigestFinal_ex(b->md_ctx, b->out, NULL) == 1;
}

static int sha384_ossl(struct pk *b)
{
    SHA512_CTX c;
    return SHA384_Init(&c) == 1 && SHA384_Update(&c, b->msg, 1024) == 1 &&
           SHA384_Final(b->out, &c) == 1;
}

static int sha384_nettle(struct pk *b)
{
    struct sha384_ctx c;
    sha384_init(&c);
    sha384_update(&c, 1024, b->msg);
    sha384_digest(&c, 48, b->out);
    return 1;
}

static int sha384_mbed(struct pk *b)
{
    return mbedtls_sha512_ret(b->msg, 1024, b->out, 1) == 0;
}

static int sha384_cp(struct pk *b)
{
    cp_hash_once(&b->cp, CP_SHA384, b->msg, 1024, b->out);
    return 1;
}

/* 32 random bytes */

static int rand_ossl(struct pk *b)
{
    return RAND_bytes(b->out, 32) == 1;
}

static int rand_ossl_priv(struct pk *b)
{
    return RAND_priv_bytes(b->out, 32) == 1;
}

static int rand_sodium(struct pk *b)
{
    randombytes_buf(b->out, 32);
    return 1;
}

static int rand_cp(struct pk *b)
{
    return b->cp.ops->random(b->cp.self, b->out, 32) == 0;
}

/* ---- the table ------------------------------------------------------------ */

struct bcase {
    const char *prim, *lib;
    int (*op)(struct pk *b);
    /* checks the output of one op against the expected answer, or NULL */
    int (*check)(struct pk *b);
    long iters;
    double allocs; /* heap allocations per operation */
    double ns[MAX_REPS];
};

/* expected outputs, computed once with cp_default before the cases run */
static uint8_t want_ecdh[32], want_x25519[32], want_sha64[32], want_sha1k[32], want_hmac64[32],
    want_hmac1k[32], want_sha384[48];

static int check_keygen_p256(struct pk *b)
{
    uint8_t pub[65];
    return b->cp.ops->p256_public(b->cp.self, b->out2, pub) == 0 && memcmp(pub, b->out, 65) == 0;
}

static int check_sig(struct pk *b)
{
    return b->cp.ops->ecdsa_p256_verify(b->cp.self, b->pub, b->digest, b->out, b->out_len) == 0;
}

static int check_xkeygen(struct pk *b)
{
    static const uint8_t nine[32] = {9};
    uint8_t pub[32];
    return crypto_scalarmult_curve25519(pub, b->out2, nine) == 0 && memcmp(pub, b->out, 32) == 0;
}

static int check_ecdh(struct pk *b)
{
    return memcmp(b->out, want_ecdh, 32) == 0;
}

static int check_x25519(struct pk *b)
{
    return memcmp(b->out, want_x25519, 32) == 0;
}

static int check_sha64(struct pk *b)
{
    return memcmp(b->out, want_sha64, 32) == 0;
}

static int check_sha1k(struct pk *b)
{
    return memcmp(b->out, want_sha1k, 32) == 0;
}

static int check_sha384(struct pk *b)
{
    return memcmp(b->out, want_sha384, 48) == 0;
}

static int check_hmac64(struct pk *b)
{
    return memcmp(b->out, want_hmac64, 32) == 0;
}

static int check_hmac1k(struct pk *b)
{
    return memcmp(b->out, want_hmac1k, 32) == 0;
}

#define C(prim, lib, op, check)                                                                    \
    {                                                                                              \
        prim, lib, op, check, 0, 0,                                                                \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

static struct bcase cases[] = {
    C("P-256 keygen", "OpenSSL EVP", keygen_evp, check_keygen_p256),
    C("P-256 keygen", "OpenSSL low-level", keygen_ossl, check_keygen_p256),
    C("P-256 keygen", "nettle", keygen_nettle, check_keygen_p256),
    C("P-256 keygen", "mbedTLS", keygen_mbed, check_keygen_p256),
    C("P-256 keygen", "cp_default", keygen_cp, check_keygen_p256),
    C("ECDSA P-256 sign", "OpenSSL EVP, cached key", sign_evp_cached, check_sig),
    C("ECDSA P-256 sign", "OpenSSL EVP, key from raw", sign_evp_raw, check_sig),
    C("ECDSA P-256 sign", "OpenSSL low-level", sign_ossl, check_sig),
    C("ECDSA P-256 sign", "nettle", sign_nettle, check_sig),
    C("ECDSA P-256 sign", "mbedTLS", sign_mbed, check_sig),
    C("ECDSA P-256 sign", "cp_default", sign_cp, check_sig),
    C("P-256 pubkey load", "OpenSSL EVP fromdata", load_evp_fromdata, NULL),
    C("P-256 pubkey load", "OpenSSL EVP d2i_PUBKEY", load_evp_d2i, NULL),
    C("P-256 pubkey load", "OpenSSL low-level", load_ossl, NULL),
    C("P-256 pubkey load", "nettle", load_nettle, NULL),
    C("P-256 pubkey load", "mbedTLS", load_mbed, NULL),
    C("ECDSA P-256 verify", "OpenSSL EVP, cached key", verify_evp_cached, NULL),
    C("ECDSA P-256 verify", "OpenSSL EVP fromdata", verify_evp_fromdata, NULL),
    C("ECDSA P-256 verify", "OpenSSL EVP d2i_PUBKEY", verify_evp_d2i, NULL),
    C("ECDSA P-256 verify", "OpenSSL low-level", verify_ossl, NULL),
    C("ECDSA P-256 verify", "nettle", verify_nettle, NULL),
    C("ECDSA P-256 verify", "mbedTLS", verify_mbed, NULL),
    C("ECDSA P-256 verify", "cp_default", verify_cp, NULL),
    C("ECDH P-256 derive", "OpenSSL EVP", ecdh_evp, check_ecdh),
    C("ECDH P-256 derive", "OpenSSL low-level", ecdh_ossl, check_ecdh),
    C("ECDH P-256 derive", "nettle", ecdh_nettle, check_ecdh),
    C("ECDH P-256 derive", "mbedTLS", ecdh_mbed, check_ecdh),
    C("ECDH P-256 derive", "cp_default", ecdh_cp, check_ecdh),
    C("X25519 keygen", "OpenSSL EVP", xkeygen_evp, check_xkeygen),
    C("X25519 keygen", "libsodium", xkeygen_sodium, check_xkeygen),
    C("X25519 keygen", "nettle", xkeygen_nettle, check_xkeygen),
    C("X25519 keygen", "mbedTLS", xkeygen_mbed, check_xkeygen),
    C("X25519 keygen", "cp_default", xkeygen_cp, check_xkeygen),
    C("X25519 derive", "OpenSSL EVP", xderive_evp, check_x25519),
    C("X25519 derive", "libsodium", xderive_sodium, check_x25519),
    C("X25519 derive", "nettle", xderive_nettle, check_x25519),
    C("X25519 derive", "mbedTLS", xderive_mbed, check_x25519),
    C("X25519 derive", "cp_default", xderive_cp, check_x25519),
    C("SHA-256 64 B", "OpenSSL EVP_Digest", sha_evp_oneshot_64, check_sha64),
    C("SHA-256 64 B", "OpenSSL EVP, reused ctx", sha_evp_ctx_64, check_sha64),
    C("SHA-256 64 B", "OpenSSL low-level", sha_ossl_64, check_sha64),
    C("SHA-256 64 B", "libsodium", sha_sodium_64, check_sha64),
    C("SHA-256 64 B", "nettle", sha_nettle_64, check_sha64),
    C("SHA-256 64 B", "mbedTLS", sha_mbed_64, check_sha64),
    C("SHA-256 64 B", "cp_default", sha_cp_64, check_sha64),
    C("SHA-256 1 KiB", "OpenSSL EVP_Digest", sha_evp_oneshot_1024, check_sha1k),
    C("SHA-256 1 KiB", "OpenSSL EVP, reused ctx", sha_evp_ctx_1024, check_sha1k),
    C("SHA-256 1 KiB", "OpenSSL low-level", sha_ossl_1024, check_sha1k),
    C("SHA-256 1 KiB", "libsodium", sha_sodium_1024, check_sha1k),
    C("SHA-256 1 KiB", "nettle", sha_nettle_1024, check_sha1k),
    C("SHA-256 1 KiB", "mbedTLS", sha_mbed_1024, check_sha1k),
    C("SHA-256 1 KiB", "cp_default", sha_cp_1024, check_sha1k),
    C("SHA-384 1 KiB", "OpenSSL EVP, reused ctx", sha384_evp_ctx, check_sha384),
    C("SHA-384 1 KiB", "OpenSSL low-level", sha384_ossl, check_sha384),
    C("SHA-384 1 KiB", "nettle", sha384_nettle, check_sha384),
    C("SHA-384 1 KiB", "mbedTLS", sha384_mbed, check_sha384),
    C("SHA-384 1 KiB", "cp_default", sha384_cp, check_sha384),
    C("HMAC-SHA256 64 B", "OpenSSL HMAC()", hmac_evp_oneshot_64, check_hmac64),
    C("HMAC-SHA256 64 B", "OpenSSL EVP_MAC, reused ctx", hmac_evp_mac_64, check_hmac64),
    C("HMAC-SHA256 64 B", "OpenSSL HMAC_CTX, reused", hmac_ossl_64, check_hmac64),
    C("HMAC-SHA256 64 B", "libsodium", hmac_sodium_64, check_hmac64),
    C("HMAC-SHA256 64 B", "nettle", hmac_nettle_64, check_hmac64),
    C("HMAC-SHA256 64 B", "mbedTLS", hmac_mbed_64, check_hmac64),
    C("HMAC-SHA256 64 B", "cp_default (dtls_hmac)", hmac_cp_64, check_hmac64),
    C("HMAC-SHA256 1 KiB", "OpenSSL HMAC()", hmac_evp_oneshot_1024, check_hmac1k),
    C("HMAC-SHA256 1 KiB", "OpenSSL EVP_MAC, reused ctx", hmac_evp_mac_1024, check_hmac1k),
    C("HMAC-SHA256 1 KiB", "OpenSSL HMAC_CTX, reused", hmac_ossl_1024, check_hmac1k),
    C("HMAC-SHA256 1 KiB", "libsodium", hmac_sodium_1024, check_hmac1k),
    C("HMAC-SHA256 1 KiB", "nettle", hmac_nettle_1024, check_hmac1k),
    C("HMAC-SHA256 1 KiB", "mbedTLS", hmac_mbed_1024, check_hmac1k),
    C("HMAC-SHA256 1 KiB", "cp_default (dtls_hmac)", hmac_cp_1024, check_hmac1k),
    C("random 32 B", "OpenSSL RAND_bytes", rand_ossl, NULL),
    C("random 32 B", "OpenSSL RAND_priv_bytes", rand_ossl_priv, NULL),
    C("random 32 B", "libsodium", rand_sodium, NULL),
    C("random 32 B", "cp_default", rand_cp, NULL),
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- set-up ----------------------------------------------------------------- */

static void setup(struct pk *b)
{
    CHECK(cp_default_create(&b->cp) == 0, "cp_default_create");
    const struct cp_ops *o = b->cp.ops;
    CHECK(o->ecdh_keygen(b->cp.self, CP_GROUP_SECP256R1, b->priv, b->pub) == 0, "keygen");
    CHECK(o->ecdh_keygen(b->cp.self, CP_GROUP_SECP256R1, b->peer_priv, b->peer_pub) == 0, "keygen");
    CHECK(o->ecdh_shared(b->cp.self, CP_GROUP_SECP256R1, b->priv, b->peer_pub, 65, want_ecdh) == 0,
          "ecdh");
    uint8_t xpub[32];
    CHECK(o->ecdh_keygen(b->cp.self, CP_GROUP_X25519, b->xpriv, xpub) == 0, "x25519 keygen");
    CHECK(o->ecdh_keygen(b->cp.self, CP_GROUP_X25519, b->out2, b->xpeer) == 0, "x25519 keygen");
    CHECK(o->ecdh_shared(b->cp.self, CP_GROUP_X25519, b->xpriv, b->xpeer, 32, want_x25519) == 0,
          "x25519");
    for (size_t i = 0; i < sizeof(b->msg); i++)
        b->msg[i] = (uint8_t)(i * 7 + 1);
    memset(b->key, 0x0b, sizeof(b->key));
    cp_hash_once(&b->cp, CP_SHA256, "pk_bench", 8, b->digest);
    CHECK(o->ecdsa_p256_sign(b->cp.self, b->priv, b->digest, b->sig, &b->sig_len) == 0, "sign");
    memcpy(b->spki, spki_p256_prefix, 26);
    memcpy(b->spki + 26, b->pub, 65);
    /* expected hash outputs from libsodium (cp_default is among the cases) */
    crypto_hash_sha256(want_sha64, b->msg, 64);
    crypto_hash_sha256(want_sha1k, b->msg, 1024);
    crypto_auth_hmacsha256(want_hmac64, b->msg, 64, b->key);
    crypto_auth_hmacsha256(want_hmac1k, b->msg, 1024, b->key);
    SHA384(b->msg, 1024, want_sha384); /* cp_default's SHA-384 is FIPS-checked in test_cp */

    /* OpenSSL */
    b->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    b->bn = BN_CTX_new();
    CHECK(b->group && b->bn, "EC_GROUP");
    EC_KEY **keys[4] = {&b->ec_sign, &b->ec_verify, &b->ec_dh, &b->ec_gen};
    for (int i = 0; i < 4; i++) {
        *keys[i] = EC_KEY_new();
        CHECK(*keys[i] && EC_KEY_set_group(*keys[i], b->group) == 1, "EC_KEY");
    }
    b->ec_pt = EC_POINT_new(b->group);
    b->evp_ec = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    CHECK(b->ec_pt && b->evp_ec, "EVP_PKEY_CTX EC");
    b->evp_own = evp_keypair_fromdata(b, b->priv, b->pub);
    CHECK(b->evp_own, "EVP key pair");
    b->evp_ecgen = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    CHECK(b->evp_ecgen && EVP_PKEY_keygen_init(b->evp_ecgen) == 1 &&
              EVP_PKEY_CTX_set_group_name(b->evp_ecgen, "prime256v1") == 1,
          "EVP EC keygen");
    b->evp_xgen = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
    CHECK(b->evp_xgen && EVP_PKEY_keygen_init(b->evp_xgen) == 1, "EVP X25519 keygen");
    b->sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    b->sha384_md = EVP_MD_fetch(NULL, "SHA384", NULL);
    b->md_ctx = EVP_MD_CTX_new();
    b->hmac_ctx = HMAC_CTX_new();
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    b->mac_ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    OSSL_PARAM mp[] = {OSSL_PARAM_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_END};
    CHECK(b->sha256_md && b->sha384_md && b->md_ctx && b->hmac_ctx && b->mac_ctx &&
              EVP_MAC_CTX_set_params(b->mac_ctx, mp) == 1,
          "EVP hash objects");

    /* nettle */
    b->n256 = nettle_get_secp_256r1();
    ecc_point_init(&b->n_pub, b->n256);
    ecc_point_init(&b->n_r, b->n256);
    ecc_scalar_init(&b->n_key, b->n256);
    mpz_init(b->z1);
    mpz_init(b->z2);
    dsa_signature_init(&b->n_sig);

    /* mbedTLS */
    mbedtls_ecp_group_init(&b->m256);
    mbedtls_ecp_group_init(&b->m25519);
    mbedtls_ecp_point_init(&b->mq);
    mbedtls_ecp_point_init(&b->xq);
    mbedtls_mpi_init(&b->md);
    mbedtls_mpi_init(&b->mz);
    mbedtls_mpi_init(&b->xd);
    mbedtls_mpi_init(&b->xz);
    mbedtls_ecdsa_init(&b->mecdsa);
    CHECK(mbedtls_ecp_group_load(&b->m256, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
              mbedtls_ecp_group_load(&b->m25519, MBEDTLS_ECP_DP_CURVE25519) == 0 &&
              mbedtls_ecp_group_load(&b->mecdsa.grp, MBEDTLS_ECP_DP_SECP256R1) == 0,
          "mbedTLS groups");
    b->msha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    CHECK(b->msha256 != NULL, "mbedTLS SHA-256");
}

static void teardown(struct pk *b)
{
    mbedtls_ecdsa_free(&b->mecdsa);
    mbedtls_mpi_free(&b->xz);
    mbedtls_mpi_free(&b->xd);
    mbedtls_mpi_free(&b->mz);
    mbedtls_mpi_free(&b->md);
    mbedtls_ecp_point_free(&b->xq);
    mbedtls_ecp_point_free(&b->mq);
    mbedtls_ecp_group_free(&b->m25519);
    mbedtls_ecp_group_free(&b->m256);
    dsa_signature_clear(&b->n_sig);
    mpz_clear(b->z2);
    mpz_clear(b->z1);
    ecc_scalar_clear(&b->n_key);
    ecc_point_clear(&b->n_r);
    ecc_point_clear(&b->n_pub);
    EVP_MAC_CTX_free(b->mac_ctx);
    HMAC_CTX_free(b->hmac_ctx);
    EVP_MD_CTX_free(b->md_ctx);
    EVP_MD_free(b->sha384_md);
    EVP_MD_free(b->sha256_md);
    EVP_PKEY_CTX_free(b->evp_xgen);
    EVP_PKEY_CTX_free(b->evp_ecgen);
    EVP_PKEY_free(b->evp_own);
    EVP_PKEY_CTX_free(b->evp_ec);
    EC_POINT_free(b->ec_pt);
    EC_KEY_free(b->ec_gen);
    EC_KEY_free(b->ec_dh);
    EC_KEY_free(b->ec_verify);
    EC_KEY_free(b->ec_sign);
    BN_CTX_free(b->bn);
    EC_GROUP_free(b->group);
    cp_destroy(&b->cp);
}

/* ---- running and printing --------------------------------------------------- */

/* ns per op of iters calls of c */
static double run(struct pk *b, struct bcase *c, long iters)
{
    double t0 = bench_now_ns();
    for (long i = 0; i < iters; i++)
        if (!c->op(b))
            fail(c->prim);
    return (bench_now_ns() - t0) / (double)iters;
}

/* the median ns/op of the cp_default row of prim */
static double cp_median(const char *prim)
{
    for (size_t i = 0; i < N_CASES; i++)
        if (strcmp(cases[i].prim, prim) == 0 && strcmp(cases[i].lib, "cp_default") == 0)
            return cases[i].ns[0];
    return 0;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1 || reps > MAX_REPS || sodium_init() < 0) {
        fprintf(stderr, "usage: pk_bench [REPS 1..%d]\n", MAX_REPS);
        return 2;
    }
    static struct pk b;
    setup(&b);
    /* check each case's answer once, then calibrate to about 20 ms a round */
    for (size_t i = 0; i < N_CASES; i++) {
        struct bcase *c = &cases[i];
        if (!c->op(&b) || (c->check && !c->check(&b))) {
            fprintf(stderr, "pk_bench: %s / %s gave a wrong answer\n", c->prim, c->lib);
            return 1;
        }
        unsigned long a0 = n_allocs;
        double ns = run(&b, c, 3);
        c->allocs = (double)(n_allocs - a0) / 3;
        c->iters = (long)(20e6 / ns);
        if (c->iters < 3)
            c->iters = 3;
    }
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < N_CASES; i++)
            cases[i].ns[r] = run(&b, &cases[i], cases[i].iters);

    printf("pk_bench: medians of %d rounds, about 20 ms per case per round\n\n", reps);
    printf("%-20s %-30s %10s %10s %9s\n", "primitive", "library", "ns/op", "ops/s", "allocs/op");
    const char *last = "";
    for (size_t i = 0; i < N_CASES; i++) {
        struct bcase *c = &cases[i];
        double med = bench_median(c->ns, reps);
        c->ns[0] = med; /* keep the median where cp_median finds it */
        if (strcmp(last, c->prim) != 0 && i > 0)
            printf("\n");
        last = c->prim;
        printf("%-20s %-30s %10.0f %10.0f %9.1f\n", c->prim, c->lib, med, 1e9 / med, c->allocs);
    }
    double keygen = cp_median("P-256 keygen"), sign = cp_median("ECDSA P-256 sign"),
           verify = cp_median("ECDSA P-256 verify"), ecdh = cp_median("ECDH P-256 derive"),
           xkeygen = cp_median("X25519 keygen"), xderive = cp_median("X25519 derive");
    double hs_p256 = 2 * (keygen + sign + verify + ecdh),
           hs_x25519 = 2 * (xkeygen + sign + verify + xderive);
    printf("\none full handshake, both ends on one core, public-key operations through cp_default\n"
           "(2 keygen + 2 ECDSA sign + 2 ECDSA verify + 2 derive; hashes, PRF, records and the\n"
           "state machines come on top):\n");
    printf("  ECDHE P-256:  %8.1f us  -> at most %6.0f handshakes/s per core\n", hs_p256 / 1e3,
           1e9 / hs_p256);
    printf("  ECDHE X25519: %8.1f us  -> at most %6.0f handshakes/s per core\n", hs_x25519 / 1e3,
           1e9 / hs_x25519);
    teardown(&b);
    return 0;
}
