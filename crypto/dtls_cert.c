/* SPDX-License-Identifier: MIT */
/*
 * Our self-signed certificate, written by a small forward DER writer, and
 * the walk to a peer certificate's P-256 key, a strict DER reader. The
 * encoding is X.690 DER (definite, shortest-form lengths), the structure
 * RFC 5280 §4.1, the EC key and signature RFC 5480 and RFC 5758 §3.2.
 */
#include "dtls_cert.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "wire.h"

enum der_tag {
    DER_INTEGER = 0x02,
    DER_BIT_STRING = 0x03,
    DER_OID = 0x06,
    DER_UTF8_STRING = 0x0c,
    DER_UTC_TIME = 0x17,
    DER_GENERALIZED_TIME = 0x18,
    DER_SEQUENCE = 0x30,
    DER_SET = 0x31,
    DER_CTX0 = 0xa0,      /* [0] EXPLICIT: the TBSCertificate's version */
    DER_CTX1_PRIM = 0x81, /* [1] IMPLICIT BIT STRING: issuerUniqueID */
    DER_CTX2_PRIM = 0x82, /* [2] IMPLICIT BIT STRING: subjectUniqueID */
    DER_CTX3 = 0xa3,      /* [3] EXPLICIT: extensions */
};

/* Object identifiers, contents octets only: ecdsa-with-SHA256
 * 1.2.840.10045.4.3.2, id-ecPublicKey 1.2.840.10045.2.1, prime256v1
 * 1.2.840.10045.3.1.7, id-at-commonName 2.5.4.3. */
static const uint8_t oid_ecdsa_sha256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t oid_ec_public_key[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_prime256v1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_common_name[] = {0x55, 0x04, 0x03};

#define CERT_CN         "swarmgen"
#define CERT_CN_LEN     (sizeof(CERT_CN) - 1)
#define CERT_NOT_BEFORE "200101000000Z"   /* UTCTime: years up to 2049 (RFC 5280 §4.1.2.5) */
#define CERT_NOT_AFTER  "20991231235959Z" /* GeneralizedTime: 2050 and later */
#define CERT_SERIAL_LEN 16                /* 127 random bits: the top bit is cleared */

/* The largest certificate we write, element by element (tag, length,
 * contents), so that it is known to fit at compile time: 296 bytes, with a
 * 72-byte signature (most are 70 or 71). Every element has a one-byte
 * length but the TBSCertificate (0x81 and one byte) and the Certificate
 * (0x82 and two bytes). A Name is SEQUENCE { SET { SEQUENCE { OID,
 * UTF8String } } }. */
#define DER_NAME_LEN     (2 + 2 + 2 + (2 + 3) + (2 + CERT_CN_LEN))
#define DER_ALG_LEN      (2 + (2 + 8))             /* SEQ { OID } */
#define DER_VALIDITY_LEN (2 + (2 + 13) + (2 + 15)) /* SEQ { UTCTime, GeneralizedTime } */
#define DER_SPKI_LEN     (2 + (2 + (2 + 7) + (2 + 8)) + (2 + 1 + CP_P256_PUB_LEN))
#define DER_TBS_BODY                                                                               \
    (5 + (2 + CERT_SERIAL_LEN) + DER_ALG_LEN + DER_NAME_LEN + DER_VALIDITY_LEN + DER_NAME_LEN +    \
     DER_SPKI_LEN)
#define DER_CERT_BODY_MAX ((3 + DER_TBS_BODY) + DER_ALG_LEN + (2 + 1 + CP_ECDSA_SIG_MAX))
#define DER_CERT_MAX      (4 + DER_CERT_BODY_MAX)

static_assert(DER_CERT_MAX <= DTLS_CERT_DER_MAX, "our certificate must fit struct dtls_cert");
static_assert(DER_TBS_BODY >= 0x80 && DER_TBS_BODY <= 0xff && DER_CERT_BODY_MAX <= 0xffff &&
                  DER_SPKI_LEN - 2 < 0x80 && 1 + CP_ECDSA_SIG_MAX < 0x80,
              "the lengths counted above take the bytes counted");
static_assert(DTLS_CERT_DER_MAX <= UINT16_MAX, "der_len is 16 bits");
static_assert(sizeof("sha-256 ") - 1 + 3 * DTLS_FP_LEN == DTLS_FP_TEXT,
              "the text: prefix, two hex digits and a colon per byte but the last, and a NUL");

/* ------------------------------------------------------------------------
 * Writing. Elements are written front to back: an opened element gets a
 * one-byte length, and closing it moves its contents up by one or two
 * bytes when the length needs the long form (our certificate only has two
 * such elements, a few hundred bytes each).
 */

struct der_w {
    uint8_t *buf;
    size_t cap, len;
    bool overflow; /* set by the first write that did not fit; later writes do nothing */
};

static void w_bytes(struct der_w *w, const void *p, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

/* Opens an element with tag; returns where its contents start, for w_close. */
static size_t w_open(struct der_w *w, uint8_t tag)
{
    const uint8_t head[2] = {tag, 0};
    w_bytes(w, head, sizeof(head));
    return w->len;
}

/* Closes the element whose contents start at start: writes its length in
 * the shortest form (up to 65535 bytes). */
static void w_close(struct der_w *w, size_t start)
{
    if (w->overflow)
        return;
    size_t n = w->len - start;
    size_t extra = n < 0x80 ? 0 : n <= 0xff ? 1 : 2;
    if (n > 0xffff || extra > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    uint8_t *head = w->buf + start - 1; /* the placeholder after the tag */
    if (extra == 0) {
        head[0] = (uint8_t)n;
        return;
    }
    memmove(w->buf + start + extra, w->buf + start, n);
    head[0] = (uint8_t)(0x80 | extra);
    if (extra == 2) {
        wire_put16(head + 1, (uint16_t)n);
    } else {
        head[1] = (uint8_t)n;
    }
    w->len += extra;
}

/* A primitive element: tag and n bytes of contents. */
static void w_prim(struct der_w *w, uint8_t tag, const void *p, size_t n)
{
    size_t at = w_open(w, tag);
    w_bytes(w, p, n);
    w_close(w, at);
}

/* AlgorithmIdentifier with no parameters (as RFC 5758 §3.2 wants for
 * ecdsa-with-SHA256). */
static void w_alg(struct der_w *w, const uint8_t *oid, size_t oid_len)
{
    size_t alg = w_open(w, DER_SEQUENCE);
    w_prim(w, DER_OID, oid, oid_len);
    w_close(w, alg);
}

/* Name: one RDN, CN=cn as a UTF8String. */
static void w_name_cn(struct der_w *w, const char *cn, size_t cn_len)
{
    size_t name = w_open(w, DER_SEQUENCE); /* RDNSequence */
    size_t rdn = w_open(w, DER_SET);       /* RelativeDistinguishedName */
    size_t atv = w_open(w, DER_SEQUENCE);  /* AttributeTypeAndValue */
    w_prim(w, DER_OID, oid_common_name, sizeof(oid_common_name));
    w_prim(w, DER_UTF8_STRING, cn, cn_len);
    w_close(w, atv);
    w_close(w, rdn);
    w_close(w, name);
}

/* SubjectPublicKeyInfo: id-ecPublicKey on prime256v1, the uncompressed
 * point in a BIT STRING with no unused bits (RFC 5480 §2). */
static void w_spki_p256(struct der_w *w, const uint8_t *pub)
{
    static const uint8_t no_unused_bits = 0;
    size_t spki = w_open(w, DER_SEQUENCE);
    size_t alg = w_open(w, DER_SEQUENCE);
    w_prim(w, DER_OID, oid_ec_public_key, sizeof(oid_ec_public_key));
    w_prim(w, DER_OID, oid_prime256v1, sizeof(oid_prime256v1));
    w_close(w, alg);
    size_t key = w_open(w, DER_BIT_STRING);
    w_bytes(w, &no_unused_bits, 1);
    w_bytes(w, pub, CP_P256_PUB_LEN);
    w_close(w, key);
    w_close(w, spki);
}

/* TBSCertificate (RFC 5280 §4.1): v3, serial, ecdsa-with-SHA256,
 * CN=swarmgen as issuer and subject, 2020 to 2099, the P-256 key; no
 * extensions (WebRTC peers read none). */
static void w_tbs(struct der_w *w, const uint8_t *serial, const uint8_t *pub)
{
    static const uint8_t v3 = 2;
    size_t tbs = w_open(w, DER_SEQUENCE);
    size_t version = w_open(w, DER_CTX0);
    w_prim(w, DER_INTEGER, &v3, 1);
    w_close(w, version);
    w_prim(w, DER_INTEGER, serial, CERT_SERIAL_LEN);
    w_alg(w, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256));
    w_name_cn(w, CERT_CN, CERT_CN_LEN);
    size_t validity = w_open(w, DER_SEQUENCE);
    w_prim(w, DER_UTC_TIME, CERT_NOT_BEFORE, sizeof(CERT_NOT_BEFORE) - 1);
    w_prim(w, DER_GENERALIZED_TIME, CERT_NOT_AFTER, sizeof(CERT_NOT_AFTER) - 1);
    w_close(w, validity);
    w_name_cn(w, CERT_CN, CERT_CN_LEN);
    w_spki_p256(w, pub);
    w_close(w, tbs);
}

/* The certificate of c->pub signed with c->priv into c->der. 0, or a
 * negative errno from the provider (-EIO also for a signature longer than
 * the provider promised). */
static int write_cert(struct dtls_cert *c, const struct cp *cp, const uint8_t *serial)
{
    static const uint8_t no_unused_bits = 0;
    struct der_w w = {c->der, sizeof(c->der), 0, false};
    uint8_t digest[CP_SHA256_LEN], sig[CP_ECDSA_SIG_MAX];
    size_t sig_len = 0;

    size_t cert = w_open(&w, DER_SEQUENCE);
    size_t tbs_at = w.len;
    w_tbs(&w, serial, c->pub);
    if (w.overflow) /* cannot happen: DER_CERT_MAX bounds it */
        return -EIO;
    cp_hash_once(cp, CP_SHA256, c->der + tbs_at, w.len - tbs_at, digest);
    int rc = cp->ops->ecdsa_p256_sign(cp->self, c->priv, digest, sig, &sig_len);
    if (rc != 0)
        return rc;
    if (sig_len == 0 || sig_len > sizeof(sig))
        return -EIO;
    w_alg(&w, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256));
    size_t bits = w_open(&w, DER_BIT_STRING);
    w_bytes(&w, &no_unused_bits, 1);
    w_bytes(&w, sig, sig_len);
    w_close(&w, bits);
    w_close(&w, cert);
    if (w.overflow)
        return -EIO;
    c->der_len = (uint16_t)w.len;
    return 0;
}

int dtls_cert_generate(struct dtls_cert *c, const struct cp *cp)
{
    uint8_t serial[CERT_SERIAL_LEN];
    memset(c, 0, sizeof(*c));
    int rc = cp->ops->ecdh_keygen(cp->self, CP_GROUP_SECP256R1, c->priv, c->pub);
    if (rc == 0)
        rc = cp->ops->random(cp->self, serial, sizeof(serial));
    if (rc == 0) {
        /* positive, and DER's shortest form (no leading zero byte) */
        serial[0] &= 0x7f;
        if (serial[0] == 0)
            serial[0] = 1;
        rc = write_cert(c, cp, serial);
    }
    if (rc == 0)
        dtls_cert_fingerprint(cp, c->der, c->der_len, c->fingerprint);
    else
        explicit_bzero(c, sizeof(*c));
    return rc;
}

void dtls_cert_fingerprint(const struct cp *cp, const uint8_t *der, size_t len, uint8_t *fp)
{
    cp_hash_once(cp, CP_SHA256, der, len, fp);
}

void dtls_fingerprint_text(const uint8_t *fp, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char prefix[] = "sha-256 ";
    memcpy(out, prefix, sizeof(prefix) - 1);
    char *p = out + sizeof(prefix) - 1;
    for (size_t i = 0; i < DTLS_FP_LEN; i++) {
        if (i)
            *p++ = ':';
        *p++ = hex[fp[i] >> 4];
        *p++ = hex[fp[i] & 15];
    }
    *p = '\0';
}

void dtls_cert_free(struct dtls_cert *c)
{
    explicit_bzero(c->priv, sizeof(c->priv));
}

/* ------------------------------------------------------------------------
 * Reading. A der_r is what is left of a container; every element taken
 * from it is checked to lie inside it.
 */

struct der_r {
    const uint8_t *p;
    size_t n;
};

/* Takes the next element of r: its tag into *tag, its contents into *body.
 * 0; -EINVAL when r is empty or the element is not DER we read: a
 * high-tag-number tag, an indefinite length, a length of more than two
 * bytes or not in the shortest form, contents past the end of r. */
static int r_any(struct der_r *r, uint8_t *tag, struct der_r *body)
{
    if (r->n < 2 || (r->p[0] & 0x1f) == 0x1f)
        return -EINVAL;
    size_t len = r->p[1], head = 2;
    if (len & 0x80) {
        size_t k = len & 0x7f; /* 0 is BER's indefinite form */
        if (k == 0 || k > 2 || r->n < head + k)
            return -EINVAL;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | r->p[head + i];
        if (len < (k == 1 ? 0x80u : 0x100u))
            return -EINVAL;
        head += k;
    }
    if (len > r->n - head)
        return -EINVAL;
    *tag = r->p[0];
    body->p = r->p + head;
    body->n = len;
    r->p += head + len;
    r->n -= head + len;
    return 0;
}

/* r_any, and -EINVAL unless the element's tag is want. */
static int r_take(struct der_r *r, uint8_t want, struct der_r *body)
{
    uint8_t tag;
    if (r_any(r, &tag, body) != 0 || tag != want)
        return -EINVAL;
    return 0;
}

static bool r_is(const struct der_r *r, const uint8_t *p, size_t n)
{
    return r->n == n && memcmp(r->p, p, n) == 0;
}

/* SubjectPublicKeyInfo (RFC 5480 §2). 0 with *point at the 65-byte
 * uncompressed P-256 point; -EINVAL when malformed; -ENOTSUP for another
 * algorithm, another or an explicit curve, a compressed or hybrid point. */
static int spki_point(struct der_r spki, const uint8_t **point)
{
    struct der_r alg, oid, params = {0}, key;
    uint8_t params_tag = 0;
    if (r_take(&spki, DER_SEQUENCE, &alg) != 0 || r_take(&spki, DER_BIT_STRING, &key) != 0 ||
        spki.n)
        return -EINVAL;
    if (r_take(&alg, DER_OID, &oid) != 0 || oid.n == 0)
        return -EINVAL;
    bool has_params = alg.n != 0;
    if (has_params && (r_any(&alg, &params_tag, &params) != 0 || alg.n))
        return -EINVAL;
    if (key.n == 0 || key.p[0] != 0) /* keys are whole bytes: no unused bits */
        return -EINVAL;
    if (!r_is(&oid, oid_ec_public_key, sizeof(oid_ec_public_key)) || !has_params ||
        params_tag != DER_OID || !r_is(&params, oid_prime256v1, sizeof(oid_prime256v1)))
        return -ENOTSUP;
    const uint8_t *k = key.p + 1;
    size_t k_len = key.n - 1;
    if (k_len == CP_P256_PUB_LEN && k[0] == 0x04) {
        *point = k;
        return 0;
    }
    if ((k_len == 33 && (k[0] == 0x02 || k[0] == 0x03)) ||
        (k_len == CP_P256_PUB_LEN && (k[0] == 0x06 || k[0] == 0x07)))
        return -ENOTSUP;
    return -EINVAL;
}

int dtls_cert_public_key(const uint8_t *der, size_t len, uint8_t *pub)
{
    struct der_r in = {der, len}, cert, tbs, sig_alg, sig, skip, spki;

    /* Certificate: SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }, alone */
    if (r_take(&in, DER_SEQUENCE, &cert) != 0 || in.n)
        return -EINVAL;
    if (r_take(&cert, DER_SEQUENCE, &tbs) != 0 || r_take(&cert, DER_SEQUENCE, &sig_alg) != 0 ||
        r_take(&cert, DER_BIT_STRING, &sig) != 0 || sig.n == 0 || cert.n)
        return -EINVAL;

    /* TBSCertificate: [0] version (absent for v1), serialNumber, signature,
     * issuer, validity, subject, subjectPublicKeyInfo, ... */
    if (tbs.n && tbs.p[0] == DER_CTX0) {
        struct der_r version, v;
        if (r_take(&tbs, DER_CTX0, &version) != 0 || r_take(&version, DER_INTEGER, &v) != 0 ||
            version.n || v.n != 1 || v.p[0] > 2)
            return -EINVAL;
    }
    if (r_take(&tbs, DER_INTEGER, &skip) != 0 || skip.n == 0)
        return -EINVAL;
    for (int i = 0; i < 4; i++) /* signature, issuer, validity, subject */
        if (r_take(&tbs, DER_SEQUENCE, &skip) != 0)
            return -EINVAL;
    if (r_take(&tbs, DER_SEQUENCE, &spki) != 0)
        return -EINVAL;
    /* ... then only issuerUniqueID [1], subjectUniqueID [2], extensions [3],
     * each at most once and in that order */
    uint8_t last = 0;
    while (tbs.n) {
        uint8_t tag;
        if (r_any(&tbs, &tag, &skip) != 0)
            return -EINVAL;
        if ((tag != DER_CTX1_PRIM && tag != DER_CTX2_PRIM && tag != DER_CTX3) ||
            (tag & 0x1f) <= last)
            return -EINVAL;
        last = tag & 0x1f;
    }

    const uint8_t *point;
    int rc = spki_point(spki, &point);
    if (rc == 0)
        memcpy(pub, point, CP_P256_PUB_LEN);
    return rc;
}
