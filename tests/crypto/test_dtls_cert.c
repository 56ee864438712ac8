/* SPDX-License-Identifier: MIT */
/* dtls_cert: our certificates read and verified by mbedTLS, OpenSSL and the
 * openssl command; certificates made by mbedTLS and OpenSSL read by our
 * walker; other keys refused as unsupported; malformed DER (every
 * truncation, hand-made flaws, random byte flips) refused without a crash;
 * the fingerprint and its SDP text; the cost of making a certificate. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dtls_cert.h"

static struct cp cp;

static void setup(void)
{
    cr_assert_eq(cp_default_create(&cp), 0);
}

static void teardown(void)
{
    cp_destroy(&cp);
}

TestSuite(dtls_cert, .init = setup, .fini = teardown);

/* dtls_cert_public_key on an exactly sized heap copy, so that a read past
 * len lands outside the allocation (and in front of a sanitizer). */
static int parse_exact(const uint8_t *der, size_t len, uint8_t *pub)
{
    uint8_t *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, der, len);
    int rc = dtls_cert_public_key(copy, len, pub);
    free(copy);
    return rc;
}

/* ---- OpenSSL -------------------------------------------------------------- */

static EVP_PKEY *ossl_key(const char *kind)
{
    EVP_PKEY *k = NULL;
    if (strcmp(kind, "RSA") == 0)
        k = EVP_RSA_gen(2048);
    else if (strcmp(kind, "ED25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        k = EVP_EC_gen(kind);
    cr_assert_not_null(k, "OpenSSL key %s", kind);
    return k;
}

/* The public key as OpenSSL encodes it (for EC: the point, in the key's
 * conversion form). Returns its length. */
static size_t ossl_pub(const EVP_PKEY *k, uint8_t *out, size_t cap)
{
    size_t len = 0;
    cr_assert_eq(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, out, cap, &len), 1);
    return len;
}

/* A self-signed certificate of k made by OpenSSL: version (0 for v1, 2 for
 * v3), with a few ordinary extensions when ext. Returns its DER length. */
static size_t ossl_cert(EVP_PKEY *k, long version, bool ext, uint8_t *out, size_t cap)
{
    X509 *x = X509_new();
    cr_assert_not_null(x);
    cr_assert_eq(X509_set_version(x, version), 1);
    cr_assert_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
    X509_NAME *name = X509_get_subject_name(x);
    cr_assert_eq(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"test",
                                            -1, -1, 0),
                 1);
    cr_assert_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"peer",
                                            -1, -1, 0),
                 1);
    cr_assert_eq(X509_set_issuer_name(x, name), 1);
    cr_assert_eq(X509_set_pubkey(x, k), 1);
    if (ext) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        const char *exts[][2] = {{"basicConstraints", "critical,CA:FALSE"},
                                 {"subjectKeyIdentifier", "hash"},
                                 {"keyUsage", "digitalSignature"},
                                 {"subjectAltName", "DNS:peer.example"}};
        for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
            X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
            cr_assert_not_null(e, "extension %s", exts[i][0]);
            cr_assert_eq(X509_add_ext(x, e, -1), 1);
            X509_EXTENSION_free(e);
        }
    }
    const EVP_MD *md = EVP_PKEY_is_a(k, "ED25519") ? NULL : EVP_sha256();
    cr_assert_gt(X509_sign(x, k, md), 0);
    int len = i2d_X509(x, NULL);
    cr_assert(len > 0 && (size_t)len <= cap);
    unsigned char *p = out;
    cr_assert_eq(i2d_X509(x, &p), len);
    X509_free(x);
    return (size_t)len;
}

static X509 *ossl_parse(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    cr_assert_not_null(x, "OpenSSL parses the certificate");
    cr_assert_eq(p, der + len, "OpenSSL reads exactly the DER");
    return x;
}

/* ---- mbedTLS -------------------------------------------------------------- */

struct mbed_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static void mbed_rng_init(struct mbed_rng *r)
{
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    cr_assert_eq(mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                       (const unsigned char *)"dtls_cert", 9),
                 0);
}

static void mbed_rng_free(struct mbed_rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

/* The 65-byte uncompressed point of an mbedTLS EC key. */
static void mbed_point(mbedtls_pk_context *pk, uint8_t *out)
{
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    size_t len = 0;
    cr_assert_eq(mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &len,
                                                out, 65),
                 0);
    cr_assert_eq(len, 65);
}

/* A self-signed P-256 certificate made the way the old mbedTLS handshake
 * made ours (mbedtls_x509write_crt), with basicConstraints and a subject
 * key identifier when ext. Returns its DER length; the key's point in pub. */
static size_t mbed_cert(bool ext, uint8_t *out, size_t cap, uint8_t *pub)
{
    struct mbed_rng r;
    mbed_rng_init(&r);
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    cr_assert_eq(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    cr_assert_eq(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                                     mbedtls_ctr_drbg_random, &r.drbg),
                 0);
    mbed_point(&key, pub);
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &key);
    mbedtls_x509write_crt_set_issuer_key(&w, &key);
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    cr_assert_eq(mbedtls_mpi_lset(&serial, 0x5eed), 0);
    cr_assert_eq(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
    cr_assert_eq(mbedtls_x509write_crt_set_subject_name(&w, "CN=swarmgen"), 0);
    cr_assert_eq(mbedtls_x509write_crt_set_issuer_name(&w, "CN=swarmgen"), 0);
    cr_assert_eq(mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20991231235959"), 0);
    if (ext) {
        cr_assert_eq(mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1), 0);
        cr_assert_eq(mbedtls_x509write_crt_set_subject_key_identifier(&w), 0);
    }
    int len = mbedtls_x509write_crt_der(&w, out, cap, mbedtls_ctr_drbg_random, &r.drbg);
    cr_assert_gt(len, 0);
    memmove(out, out + cap - (size_t)len, (size_t)len); /* mbedTLS writes at the end */
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
    mbedtls_pk_free(&key);
    mbed_rng_free(&r);
    return (size_t)len;
}

/* ---- our certificates, read by others ------------------------------------ */

Test(dtls_cert, ours_verified_by_mbedtls)
{
    struct dtls_cert c;
    cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    cr_assert_eq(mbedtls_x509_crt_parse_der(&crt, c.der, c.der_len), 0);
    cr_assert_eq(crt.version, 3);
    cr_assert_eq(crt.sig_md, MBEDTLS_MD_SHA256);
    cr_assert_eq(crt.sig_pk, MBEDTLS_PK_ECDSA);
    cr_assert_eq(crt.serial.len, 16);
    cr_assert_lt(crt.serial.p[0], 0x80, "a positive serial");
    cr_assert_neq(crt.serial.p[0], 0, "the shortest form");
    char dn[64];
    cr_assert_gt(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject), 0);
    cr_assert_str_eq(dn, "CN=swarmgen");
    cr_assert_gt(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.issuer), 0);
    cr_assert_str_eq(dn, "CN=swarmgen");
    cr_assert(crt.valid_from.year == 2020 && crt.valid_from.mon == 1 && crt.valid_from.day == 1 &&
              crt.valid_from.hour == 0 && crt.valid_from.min == 0 && crt.valid_from.sec == 0);
    cr_assert(crt.valid_to.year == 2099 && crt.valid_to.mon == 12 && crt.valid_to.day == 31 &&
              crt.valid_to.hour == 23 && crt.valid_to.min == 59 && crt.valid_to.sec == 59);
    cr_assert_eq(mbedtls_pk_get_type(&crt.pk), MBEDTLS_PK_ECKEY);
    cr_assert_eq(mbedtls_pk_ec(crt.pk)->grp.id, MBEDTLS_ECP_DP_SECP256R1);
    uint8_t pub[65];
    mbed_point(&crt.pk, pub);
    cr_assert_arr_eq(pub, c.pub, 65);

    /* the self-signature: the TBS hash checked with the certificate's own key */
    uint8_t hash[32];
    cr_assert_eq(
        mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), crt.tbs.p, crt.tbs.len, hash), 0);
    cr_assert_eq(
        mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), crt.sig.p, crt.sig.len),
        0);
    /* and as its own trust anchor (mbedTLS trusts a listed self-signed leaf) */
    uint32_t flags = 0;
    cr_assert_eq(mbedtls_x509_crt_verify(&crt, &crt, NULL, NULL, &flags, NULL, NULL), 0,
                 "flags %#x", flags);
    /* a flipped signature bit no longer verifies */
    crt.sig.p[crt.sig.len - 1] ^= 1;
    cr_assert_neq(
        mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), crt.sig.p, crt.sig.len),
        0);
    mbedtls_x509_crt_free(&crt);
    dtls_cert_free(&c);
}

Test(dtls_cert, ours_verified_by_openssl)
{
    struct dtls_cert c;
    cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
    X509 *x = ossl_parse(c.der, c.der_len);
    cr_assert_eq(X509_get_version(x), X509_VERSION_3);
    cr_assert_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    cr_assert_eq(ASN1_STRING_type(sn), V_ASN1_INTEGER, "a positive serial");
    cr_assert_eq(ASN1_STRING_length(sn), 16);
    char cn[32];
    cr_assert_eq(
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)), 8);
    cr_assert_str_eq(cn, "swarmgen");
    cr_assert_eq(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
    cr_assert_eq(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
    const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
    cr_assert_eq(ASN1_STRING_type(nb), V_ASN1_UTCTIME);
    cr_assert_str_eq((const char *)ASN1_STRING_get0_data(nb), "200101000000Z");
    cr_assert_eq(ASN1_STRING_type(na), V_ASN1_GENERALIZEDTIME);
    cr_assert_str_eq((const char *)ASN1_STRING_get0_data(na), "20991231235959Z");

    EVP_PKEY *k = X509_get_pubkey(x);
    cr_assert_not_null(k);
    cr_assert(EVP_PKEY_is_a(k, "EC"));
    char group[32];
    cr_assert_eq(
        EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL),
        1);
    cr_assert_str_eq(group, "prime256v1");
    uint8_t pub[80];
    cr_assert_eq(ossl_pub(k, pub, sizeof(pub)), 65);
    cr_assert_arr_eq(pub, c.pub, 65, "X509_get_pubkey is our key");
    cr_assert_eq(X509_verify(x, k), 1, "the self-signature verifies");
    cr_assert_eq(X509_check_issued(x, x), X509_V_OK, "issued by itself");

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    cr_assert_eq(X509_digest(x, EVP_sha256(), md, &md_len), 1);
    cr_assert_eq(md_len, DTLS_FP_LEN);
    cr_assert_arr_eq(md, c.fingerprint, DTLS_FP_LEN,
                     "the fingerprint is OpenSSL's SHA-256 of the DER");

    /* the private key belongs to the certificate's key */
    uint8_t again[65];
    cr_assert_eq(cp.ops->p256_public(cp.self, c.priv, again), 0);
    cr_assert_arr_eq(again, c.pub, 65);
    EVP_PKEY_free(k);
    X509_free(x);
    dtls_cert_free(&c);
}

Test(dtls_cert, ours_printed_by_the_openssl_command)
{
    struct dtls_cert c;
    cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
    char path[] = "/tmp/dtls_cert_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, c.der, c.der_len), (ssize_t)c.der_len);
    close(fd);
    char cmd[128], text[8192];
    snprintf(cmd, sizeof(cmd),
             "openssl x509 -inform DER -noout -text -fingerprint -sha256 -in %s 2>&1", path);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    int status = pclose(f);
    unlink(path);
    cr_assert_eq(status, 0, "openssl x509: %s", text);
    const char *want[] = {"Version: 3 (0x2)",
                          "Signature Algorithm: ecdsa-with-SHA256",
                          "Issuer: CN = swarmgen",
                          "Subject: CN = swarmgen",
                          "Not Before: Jan  1 00:00:00 2020 GMT",
                          "Not After : Dec 31 23:59:59 2099 GMT",
                          "Public Key Algorithm: id-ecPublicKey",
                          "Public-Key: (256 bit)",
                          "ASN1 OID: prime256v1"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert_not_null(strstr(text, want[i]), "'%s' in:\n%s", want[i], text);
    /* the command's fingerprint line is ours after its own prefix */
    char fp[DTLS_FP_TEXT];
    dtls_fingerprint_text(c.fingerprint, fp);
    const char *line = strstr(text, "Fingerprint=");
    cr_assert_not_null(line, "%s", text);
    cr_assert_eq(strncmp(line + strlen("Fingerprint="), fp + strlen("sha-256 "), 95), 0, "%s vs %s",
                 line, fp);
    dtls_cert_free(&c);
}

/* ---- our certificates, by ourselves -------------------------------------- */

Test(dtls_cert, ours_read_back_and_bounded)
{
    size_t min = SIZE_MAX, max = 0;
    uint8_t first_serial[16] = {0};
    for (int i = 0; i < 200; i++) {
        struct dtls_cert c;
        cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
        uint8_t pub[65];
        cr_assert_eq(parse_exact(c.der, c.der_len, pub), 0);
        cr_assert_arr_eq(pub, c.pub, 65);
        uint8_t fp[32];
        cp_hash_once(&cp, CP_SHA256, c.der, c.der_len, fp);
        cr_assert_arr_eq(fp, c.fingerprint, 32);
        /* the serial sits right after 30 82 xx xx 30 81 xx a0 03 02 01 02 02 10 */
        cr_assert_eq(c.der[12], 0x02);
        cr_assert_eq(c.der[13], 16);
        cr_assert(c.der[14] != 0 && c.der[14] < 0x80, "positive, shortest form: %#x", c.der[14]);
        if (i == 0)
            memcpy(first_serial, c.der + 14, 16);
        else
            cr_assert_arr_neq(first_serial, c.der + 14, 16, "a fresh serial each time");
        min = c.der_len < min ? c.der_len : min;
        max = c.der_len > max ? c.der_len : max;
        dtls_cert_free(&c);
    }
    cr_assert_leq(max, 296, "at most 296 bytes (a 72-byte signature)");
    cr_assert_leq(max, DTLS_CERT_DER_MAX);
    cr_log_info("200 certificates: %zu to %zu bytes of DER", min, max);
}

Test(dtls_cert, each_certificate_its_own_key)
{
    struct dtls_cert a, b;
    cr_assert_eq(dtls_cert_generate(&a, &cp), 0);
    cr_assert_eq(dtls_cert_generate(&b, &cp), 0);
    cr_assert_arr_neq(a.priv, b.priv, 32);
    cr_assert_arr_neq(a.pub, b.pub, 65);
    cr_assert_arr_neq(a.fingerprint, b.fingerprint, 32);
    /* and the signature is made with it: check it with the provider too */
    uint8_t hash[32];
    size_t tbs_len = (size_t)(a.der[6] + 3); /* 30 82 xx xx | 30 81 LL ... */
    cr_assert_eq(a.der[4], 0x30);
    cr_assert_eq(a.der[5], 0x81);
    cp_hash_once(&cp, CP_SHA256, a.der + 4, tbs_len, hash);
    const uint8_t *sig_bits = a.der + 4 + tbs_len + 12; /* after the AlgorithmIdentifier */
    cr_assert_eq(sig_bits[0], 0x03);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, a.pub, hash, sig_bits + 3, sig_bits[1] - 1u),
                 0);
    cr_assert_eq(cp.ops->ecdsa_p256_verify(cp.self, b.pub, hash, sig_bits + 3, sig_bits[1] - 1u),
                 -EBADMSG);
    dtls_cert_free(&a);
    dtls_cert_free(&b);
}

Test(dtls_cert, free_wipes_the_private_key)
{
    struct dtls_cert c;
    cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
    uint8_t zero[CP_P256_PRIV_LEN] = {0};
    cr_assert_arr_neq(c.priv, zero, sizeof(zero));
    dtls_cert_free(&c);
    cr_assert_arr_eq(c.priv, zero, sizeof(zero));
}

/* A provider that fails where told and otherwise passes to the default. */
enum fault { FAULT_KEYGEN, FAULT_RANDOM, FAULT_SIGN, FAULT_SIG_TOO_LONG };
struct faulty {
    struct cp inner;
    enum fault fault;
};

static int f_random(void *self, uint8_t *out, size_t len)
{
    struct faulty *f = self;
    return f->fault == FAULT_RANDOM ? -EIO : f->inner.ops->random(f->inner.self, out, len);
}

static void f_hash_init(void *self, struct cp_hash *h, enum cp_hash_alg alg)
{
    struct faulty *f = self;
    f->inner.ops->hash_init(f->inner.self, h, alg);
}

static void f_hash_update(void *self, struct cp_hash *h, const void *p, size_t len)
{
    struct faulty *f = self;
    f->inner.ops->hash_update(f->inner.self, h, p, len);
}

static void f_hash_final(void *self, struct cp_hash *h, uint8_t *out)
{
    struct faulty *f = self;
    f->inner.ops->hash_final(f->inner.self, h, out);
}

static int f_keygen(void *self, enum cp_group g, uint8_t *priv, uint8_t *pub)
{
    struct faulty *f = self;
    return f->fault == FAULT_KEYGEN ? -EIO : f->inner.ops->ecdh_keygen(f->inner.self, g, priv, pub);
}

static int f_sign(void *self, const uint8_t *priv, const uint8_t *digest, uint8_t *sig,
                  size_t *sig_len)
{
    struct faulty *f = self;
    if (f->fault == FAULT_SIGN)
        return -EINVAL;
    int rc = f->inner.ops->ecdsa_p256_sign(f->inner.self, priv, digest, sig, sig_len);
    if (f->fault == FAULT_SIG_TOO_LONG)
        *sig_len = CP_ECDSA_SIG_MAX + 1;
    return rc;
}

Test(dtls_cert, provider_failures_leave_nothing)
{
    static const struct cp_ops ops = {.name = "faulty",
                                      .random = f_random,
                                      .hash_init = f_hash_init,
                                      .hash_update = f_hash_update,
                                      .hash_final = f_hash_final,
                                      .ecdh_keygen = f_keygen,
                                      .ecdsa_p256_sign = f_sign};
    const struct {
        enum fault fault;
        int rc;
    } cases[] = {{FAULT_KEYGEN, -EIO},
                 {FAULT_RANDOM, -EIO},
                 {FAULT_SIGN, -EINVAL},
                 {FAULT_SIG_TOO_LONG, -EIO}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct faulty f = {cp, cases[i].fault};
        struct cp bad = {&ops, &f};
        struct dtls_cert c, zero;
        memset(&c, 0x5a, sizeof(c));
        memset(&zero, 0, sizeof(zero));
        cr_assert_eq(dtls_cert_generate(&c, &bad), cases[i].rc, "fault %zu", i);
        cr_assert_eq(memcmp(&c, &zero, sizeof(c)), 0, "fault %zu: the certificate is zeroed", i);
    }
}

/* ---- others' certificates, read by us ------------------------------------ */

Test(dtls_cert, mbedtls_certificates_read)
{
    for (int ext = 0; ext < 2; ext++) {
        uint8_t der[1024], want[65], pub[65];
        size_t len = mbed_cert(ext, der, sizeof(der), want);
        cr_assert_eq(parse_exact(der, len, pub), 0, "mbedTLS certificate, extensions %d", ext);
        cr_assert_arr_eq(pub, want, 65);
    }
}

Test(dtls_cert, openssl_certificates_read)
{
    EVP_PKEY *k = ossl_key("P-256");
    uint8_t want[80];
    cr_assert_eq(ossl_pub(k, want, sizeof(want)), 65);
    const struct {
        long version;
        bool ext;
    } cases[] = {{2, true}, {2, false}, {0, false}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t der[2048], pub[65];
        size_t len = ossl_cert(k, cases[i].version, cases[i].ext, der, sizeof(der));
        cr_assert_eq(parse_exact(der, len, pub), 0, "OpenSSL certificate v%ld, extensions %d",
                     cases[i].version + 1, cases[i].ext);
        cr_assert_arr_eq(pub, want, 65);
    }
    EVP_PKEY_free(k);
}

Test(dtls_cert, other_keys_unsupported)
{
    const char *kinds[] = {"RSA", "P-384", "P-521", "ED25519", "secp256k1"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        EVP_PKEY *k = ossl_key(kinds[i]);
        uint8_t der[2048], pub[65];
        memset(pub, 0xaa, sizeof(pub));
        size_t len = ossl_cert(k, 2, true, der, sizeof(der));
        cr_assert_eq(parse_exact(der, len, pub), -ENOTSUP, "%s", kinds[i]);
        for (size_t j = 0; j < sizeof(pub); j++)
            cr_assert_eq(pub[j], 0xaa, "%s: pub untouched", kinds[i]);
        EVP_PKEY_free(k);
    }
    /* P-256, but the point compressed, or the curve spelt out explicitly */
    const char *params[][2] = {{OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED},
                               {OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_EXPLICIT}};
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY *k = ossl_key("P-256");
        cr_assert_eq(EVP_PKEY_set_utf8_string_param(k, params[i][0], params[i][1]), 1);
        uint8_t der[2048], pub[65];
        size_t len = ossl_cert(k, 2, false, der, sizeof(der));
        cr_assert_eq(parse_exact(der, len, pub), -ENOTSUP, "P-256 with %s=%s", params[i][0],
                     params[i][1]);
        EVP_PKEY_free(k);
    }
}

/* ---- malformed DER -------------------------------------------------------- */

/* Every prefix of der refused as malformed, and der with a byte more. */
static void every_truncation(const uint8_t *der, size_t len, const char *what)
{
    uint8_t pub[65];
    for (size_t n = 0; n < len; n++)
        cr_assert_eq(parse_exact(der, n, pub), -EINVAL, "%s cut to %zu of %zu bytes", what, n, len);
    uint8_t longer[4096];
    cr_assert_lt(len, sizeof(longer));
    memcpy(longer, der, len);
    longer[len] = 0;
    cr_assert_eq(parse_exact(longer, len + 1, pub), -EINVAL, "%s with a byte after it", what);
}

Test(dtls_cert, every_truncation_malformed)
{
    struct dtls_cert c;
    cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
    every_truncation(c.der, c.der_len, "ours");
    uint8_t der[2048], pub[65];
    size_t len = mbed_cert(true, der, sizeof(der), pub);
    every_truncation(der, len, "mbedTLS's");
    const char *kinds[] = {"P-256", "RSA"};
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY *k = ossl_key(kinds[i]);
        len = ossl_cert(k, 2, true, der, sizeof(der));
        every_truncation(der, len, kinds[i]);
        EVP_PKEY_free(k);
    }
    dtls_cert_free(&c);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(dtls_cert, random_byte_flips_survived)
{
    struct dtls_cert c;
    cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
    EVP_PKEY *k = ossl_key("P-256");
    uint8_t other[2048];
    size_t other_len = ossl_cert(k, 2, true, other, sizeof(other));
    EVP_PKEY_free(k);
    const struct {
        const uint8_t *der;
        size_t len;
    } base[] = {{c.der, c.der_len}, {other, other_len}};
    uint64_t seed = 0x9e3779b97f4a7c15u;
    unsigned count[3] = {0}; /* read, malformed, unsupported */
    for (int i = 0; i < 100000; i++) {
        uint8_t der[2048], pub[65];
        size_t len = base[i & 1].len;
        memcpy(der, base[i & 1].der, len);
        int flips = 1 + (int)(xorshift(&seed) % 4);
        for (int f = 0; f < flips; f++) {
            uint64_t r = xorshift(&seed);
            der[r % len] ^= (uint8_t)(1 + (r >> 32) % 255);
        }
        int rc = parse_exact(der, len, pub);
        cr_assert(rc == 0 || rc == -EINVAL || rc == -ENOTSUP, "rc %d", rc);
        count[rc == 0 ? 0 : rc == -EINVAL ? 1 : 2]++;
    }
    cr_log_info("100000 flipped certificates: %u read, %u malformed, %u unsupported", count[0],
                count[1], count[2]);
    dtls_cert_free(&c);
}

/* Hand-made certificates: each part a whole TLV, so that one can be made
 * wrong at a time. The signature is not checked by the walker, so any
 * bytes do. */
struct blob {
    uint8_t b[1024];
    size_t n;
};

static void put(struct blob *o, const void *p, size_t n)
{
    cr_assert_leq(n, sizeof(o->b) - o->n);
    if (n)
        memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_byte(struct blob *o, uint8_t v)
{
    put(o, &v, 1);
}

/* tag, the shortest length, body */
static void put_tlv(struct blob *o, uint8_t tag, const void *body, size_t n)
{
    put_byte(o, tag);
    if (n >= 0x100) {
        put_byte(o, 0x82);
        put_byte(o, (uint8_t)(n >> 8));
    } else if (n >= 0x80) {
        put_byte(o, 0x81);
    }
    put_byte(o, (uint8_t)n);
    put(o, body, n);
}

static struct blob tlv(uint8_t tag, const void *body, size_t n)
{
    struct blob o = {.n = 0};
    put_tlv(&o, tag, body, n);
    return o;
}

static const uint8_t ec_oid[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t p256_oid[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t p384_oid[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t rsa_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

/* SubjectPublicKeyInfo: algorithm oid, then params (a whole TLV, or none
 * when NULL), then a BIT STRING of unused, key. */
static struct blob spki(const uint8_t *oid, size_t oid_len, const struct blob *params,
                        uint8_t unused, const uint8_t *key, size_t key_len)
{
    struct blob alg = tlv(0x06, oid, oid_len), bits = {.n = 0}, body = {.n = 0};
    if (params)
        put(&alg, params->b, params->n);
    alg = tlv(0x30, alg.b, alg.n);
    put_byte(&bits, unused);
    put(&bits, key, key_len);
    bits = tlv(0x03, bits.b, bits.n);
    put(&body, alg.b, alg.n);
    put(&body, bits.b, bits.n);
    return tlv(0x30, body.b, body.n);
}

struct parts {
    struct blob version, serial, sig_alg, issuer, validity, subject, spki, tbs_tail;
    struct blob outer_alg, sig, cert_tail;
};

static uint8_t point[65];

static void parts_default(struct parts *p)
{
    memset(p, 0, sizeof(*p));
    point[0] = 0x04;
    for (int i = 1; i < 65; i++)
        point[i] = (uint8_t)(i * 7);
    static const uint8_t v3[] = {0x02, 0x01, 0x02};
    static const uint8_t ecdsa_sha256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x04, 0x03, 0x02};
    static const char name[] = "\x31\x0b\x30\x09\x06\x03\x55\x04\x03\x0c\x02"
                               "hi"; /* SET { SEQUENCE { id-at-commonName, UTF8String } } */
    static const char validity[] = "\x17\x0d"
                                   "200101000000Z"
                                   "\x17\x0d"
                                   "300101000000Z";
    static const uint8_t serial[] = {0x01, 0x02, 0x03};
    static const uint8_t sig[] = {0x00, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    p->version = tlv(0xa0, v3, sizeof(v3));
    p->serial = tlv(0x02, serial, sizeof(serial));
    p->sig_alg = tlv(0x30, ecdsa_sha256, sizeof(ecdsa_sha256));
    p->issuer = tlv(0x30, name, sizeof(name) - 1);
    p->validity = tlv(0x30, validity, sizeof(validity) - 1);
    p->subject = p->issuer;
    struct blob curve = tlv(0x06, p256_oid, sizeof(p256_oid));
    p->spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, point, sizeof(point));
    p->outer_alg = p->sig_alg;
    p->sig = tlv(0x03, sig, sizeof(sig));
}

/* The certificate of parts p into out; its length. */
static size_t parts_cert(const struct parts *p, struct blob *out)
{
    struct blob tbs = {.n = 0}, body = {.n = 0};
    const struct blob *t[] = {&p->version,  &p->serial,  &p->sig_alg, &p->issuer,
                              &p->validity, &p->subject, &p->spki,    &p->tbs_tail};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        put(&tbs, t[i]->b, t[i]->n);
    put_tlv(&body, 0x30, tbs.b, tbs.n);
    put(&body, p->outer_alg.b, p->outer_alg.n);
    put(&body, p->sig.b, p->sig.n);
    put(&body, p->cert_tail.b, p->cert_tail.n);
    *out = tlv(0x30, body.b, body.n);
    return out->n;
}

static int parts_parse(const struct parts *p, uint8_t *pub)
{
    struct blob der;
    parts_cert(p, &der);
    return parse_exact(der.b, der.n, pub);
}

Test(dtls_cert, handmade_certificates)
{
    struct parts p;
    uint8_t pub[65];
    static const uint8_t raw_byte = 0x00;

    parts_default(&p);
    cr_assert_eq(parts_parse(&p, pub), 0);
    cr_assert_arr_eq(pub, point, 65);

    /* v1: no version */
    parts_default(&p);
    p.version.n = 0;
    cr_assert_eq(parts_parse(&p, pub), 0);

    /* unique ids and extensions, in order, each once */
    parts_default(&p);
    {
        struct blob ids = tlv(0x81, "\x00\x01", 2), sid = tlv(0x82, "\x00\x02", 2),
                    ext = tlv(0xa3, "\x30\x00", 2);
        put(&p.tbs_tail, ids.b, ids.n);
        put(&p.tbs_tail, sid.b, sid.n);
        put(&p.tbs_tail, ext.b, ext.n);
        cr_assert_eq(parts_parse(&p, pub), 0);
        p.tbs_tail.n = 0; /* out of order */
        put(&p.tbs_tail, ext.b, ext.n);
        put(&p.tbs_tail, ids.b, ids.n);
        cr_assert_eq(parts_parse(&p, pub), -EINVAL);
        p.tbs_tail.n = 0; /* twice */
        put(&p.tbs_tail, ext.b, ext.n);
        put(&p.tbs_tail, ext.b, ext.n);
        cr_assert_eq(parts_parse(&p, pub), -EINVAL);
        p.tbs_tail = tlv(0xa4, "\x30\x00", 2); /* a [4] */
        cr_assert_eq(parts_parse(&p, pub), -EINVAL);
        p.tbs_tail = tlv(0x04, "x", 1); /* an OCTET STRING */
        cr_assert_eq(parts_parse(&p, pub), -EINVAL);
        p.tbs_tail.n = 0; /* a high tag number */
        put(&p.tbs_tail, "\xbf\x1f\x01\x00", 4);
        cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    }

    /* a big subject: two-byte lengths in the subject, TBS and certificate */
    parts_default(&p);
    {
        uint8_t cn[400];
        memset(cn, 'a', sizeof(cn));
        struct blob atv = {.n = 0}, set, seq;
        put(&atv, "\x06\x03\x55\x04\x03", 5);
        put_tlv(&atv, 0x0c, cn, sizeof(cn));
        seq = tlv(0x30, atv.b, atv.n);
        set = tlv(0x31, seq.b, seq.n);
        p.subject = tlv(0x30, set.b, set.n);
        cr_assert_eq(p.subject.b[1], 0x82);
        cr_assert_eq(parts_parse(&p, pub), 0);
        cr_assert_arr_eq(pub, point, 65);
    }

    /* versions */
    parts_default(&p);
    p.version = tlv(0xa0, "\x02\x01\x03", 3); /* v4 */
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    p.version = tlv(0xa0, "\x02\x01\x02\x05\x00", 5); /* something after the INTEGER */
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    p.version = tlv(0xa0, "\x04\x01\x02", 3); /* not an INTEGER */
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);

    /* serials */
    parts_default(&p);
    p.serial = tlv(0x02, NULL, 0);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    p.serial = tlv(0x04, "\x01", 1);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);

    /* lengths: long form not the shortest, three length bytes, indefinite */
    parts_default(&p);
    p.serial.n = 0;
    put(&p.serial, "\x02\x81\x01\x01", 4);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    p.serial.n = 0;
    put(&p.serial, "\x02\x82\x00\x01\x01", 5);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    p.serial.n = 0;
    put(&p.serial, "\x02\x83\x00\x00\x01\x01", 6);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    parts_default(&p);
    p.validity.b[1] = 0x80; /* indefinite, with an end-of-contents after it */
    put(&p.validity, "\x00\x00", 2);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    {
        struct blob der;
        parts_default(&p);
        parts_cert(&p, &der);
        cr_assert_eq(der.b[1], 0x81);
        /* the certificate itself indefinite: 30 80 <body> 00 00 */
        struct blob indef = {.n = 0};
        put(&indef, "\x30\x80", 2);
        put(&indef, der.b + 3, der.n - 3);
        put(&indef, "\x00\x00", 2);
        cr_assert_eq(parse_exact(indef.b, indef.n, pub), -EINVAL);
    }

    /* a part missing, or one claiming more than its container holds */
    parts_default(&p);
    p.issuer.n = 0;
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    parts_default(&p);
    p.spki.b[1]++;
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    parts_default(&p);
    p.spki.b[3]++; /* the AlgorithmIdentifier reaches into the BIT STRING */
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);

    /* trailing bytes inside the SEQUENCEs walked */
    parts_default(&p);
    p.cert_tail = tlv(0x05, NULL, 0);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    parts_default(&p);
    {
        struct blob body = {.n = 0};
        put(&body, p.spki.b + 2, p.spki.n - 2);
        put(&body, "\x05\x00", 2);
        p.spki = tlv(0x30, body.b, body.n);
        cr_assert_eq(parts_parse(&p, pub), -EINVAL, "after the key");
        struct blob curve = tlv(0x06, p256_oid, sizeof(p256_oid));
        put(&curve, "\x05\x00", 2);
        p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, point, sizeof(point));
        cr_assert_eq(parts_parse(&p, pub), -EINVAL, "after the curve");
    }

    /* the signature: not a BIT STRING, empty */
    parts_default(&p);
    p.sig.b[0] = 0x04;
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    p.sig = tlv(0x03, NULL, 0);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL);
    p.sig = tlv(0x03, &raw_byte, 1);
    cr_assert_eq(parts_parse(&p, pub), 0, "an empty signature is still DER");

    /* keys: malformed */
    struct blob curve = tlv(0x06, p256_oid, sizeof(p256_oid));
    parts_default(&p);
    p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 1, point, sizeof(point));
    cr_assert_eq(parts_parse(&p, pub), -EINVAL, "unused bits");
    p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, point, 64);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL, "a point a byte short");
    p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, NULL, 0);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL, "no point");
    {
        uint8_t odd[65];
        memcpy(odd, point, sizeof(odd));
        odd[0] = 0x05;
        p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, odd, sizeof(odd));
        cr_assert_eq(parts_parse(&p, pub), -EINVAL, "no such point form");
        /* keys: well-formed but not ours to read */
        odd[0] = 0x06;
        p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, odd, sizeof(odd));
        cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "hybrid point");
        odd[0] = 0x02;
        p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, odd, 33);
        cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "compressed point");
        odd[0] = 0x03;
        p.spki = spki(ec_oid, sizeof(ec_oid), &curve, 0, odd, 33);
        cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "compressed point");
    }
    struct blob null = tlv(0x05, NULL, 0), p384 = tlv(0x06, p384_oid, sizeof(p384_oid)),
                explicit = tlv(0x30, "\x02\x01\x01", 3);
    p.spki = spki(ec_oid, sizeof(ec_oid), NULL, 0, point, sizeof(point));
    cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "no curve");
    p.spki = spki(ec_oid, sizeof(ec_oid), &null, 0, point, sizeof(point));
    cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "a NULL curve");
    p.spki = spki(ec_oid, sizeof(ec_oid), &p384, 0, point, sizeof(point));
    cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "P-384");
    p.spki = spki(ec_oid, sizeof(ec_oid), &explicit, 0, point, sizeof(point));
    cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "an explicit curve");
    p.spki = spki(rsa_oid, sizeof(rsa_oid), &null, 0, point, sizeof(point));
    cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "RSA");
    p.spki = spki(p256_oid, sizeof(p256_oid), &curve, 0, point, sizeof(point));
    cr_assert_eq(parts_parse(&p, pub), -ENOTSUP, "the curve's OID as the algorithm");
    /* malformed wins over unsupported */
    p.spki = spki(rsa_oid, sizeof(rsa_oid), &null, 0, point, sizeof(point));
    p.cert_tail = tlv(0x05, NULL, 0);
    cr_assert_eq(parts_parse(&p, pub), -EINVAL, "RSA, then trailing bytes");

    /* nothing, and headers alone */
    cr_assert_eq(dtls_cert_public_key(NULL, 0, pub), -EINVAL);
    cr_assert_eq(parse_exact((const uint8_t *)"\x30", 1, pub), -EINVAL);
    cr_assert_eq(parse_exact((const uint8_t *)"\x30\x00", 2, pub), -EINVAL);
    cr_assert_eq(parse_exact((const uint8_t *)"\x30\x82\xff", 3, pub), -EINVAL);
}

/* ---- fingerprints --------------------------------------------------------- */

Test(dtls_cert, fingerprint_text)
{
    uint8_t fp[DTLS_FP_LEN];
    char text[DTLS_FP_TEXT + 8];
    memset(text, 'x', sizeof(text));
    dtls_cert_fingerprint(&cp, (const uint8_t *)"abc", 3, fp); /* FIPS 180-2's SHA-256 example */
    dtls_fingerprint_text(fp, text);
    cr_assert_str_eq(text, "sha-256 "
                           "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:"
                           "9C:B4:10:FF:61:F2:00:15:AD");
    cr_assert_eq(strlen(text) + 1, DTLS_FP_TEXT);
    cr_assert_eq(text[DTLS_FP_TEXT], 'x', "nothing written past DTLS_FP_TEXT");
    for (int i = 0; i < DTLS_FP_LEN; i++)
        fp[i] = (uint8_t)(i * 0x11 + 0x0a);
    dtls_fingerprint_text(fp, text);
    cr_assert_str_eq(text, "sha-256 "
                           "0A:1B:2C:3D:4E:5F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:80:"
                           "91:A2:B3:C4:D5:E6:F7:08:19");
}

/* ---- cost ----------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

Test(dtls_cert, generation_cost)
{
    enum { N = 2000, M = 200000 };
    struct dtls_cert c;
    double t0 = now_s();
    for (int i = 0; i < N; i++)
        cr_assert_eq(dtls_cert_generate(&c, &cp), 0);
    double gen = (now_s() - t0) / N;
    uint8_t pub[65];
    int bad = 0;
    t0 = now_s();
    for (int i = 0; i < M; i++)
        bad |= dtls_cert_public_key(c.der, c.der_len, pub);
    double parse = (now_s() - t0) / M;
    cr_assert_eq(bad, 0);
    uint8_t der[1024];
    t0 = now_s();
    for (int i = 0; i < 50; i++)
        mbed_cert(false, der, sizeof(der), pub);
    double mbed = (now_s() - t0) / 50;
    cr_log_info("dtls_cert_generate %.1f us, dtls_cert_public_key %.0f ns, mbedTLS x509write_crt "
                "with its key %.1f us",
                gen * 1e6, parse * 1e9, mbed * 1e6);
    dtls_cert_free(&c);
}
