/* SPDX-License-Identifier: MIT */
/* DTLS 1.3 handshake message bodies (RFC 9147 over RFC 8446 §4): the
 * ClientHello extensions 1.3 adds, ServerHello and HelloRetryRequest,
 * EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify
 * and Finished, written from the endpoint's state (the same bytes every
 * time a flight is sent again) and read with every length checked. */
#include <errno.h>
#include <string.h>

#include "dtls_internal.h"
#include "dtls_rd.h"

/* RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random */
const uint8_t dtls13_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* 1.3 suites in Chrome's order and the offer bit each stands for. */
static const struct {
    uint16_t id;
    uint8_t bit;
} suites13[] = {
    {SUITE13_AES_128_GCM, DTLS_OFFER_AES_128_GCM},
    {SUITE13_AES_256_GCM, DTLS_OFFER_AES_256_GCM},
    {SUITE13_CHACHA20, DTLS_OFFER_CHACHA20},
};

bool dtls13_suite_offered(uint8_t mask, unsigned id)
{
    for (size_t i = 0; i < sizeof(suites13) / sizeof(suites13[0]); i++)
        if (suites13[i].id == id)
            return (mask & suites13[i].bit) != 0;
    return false;
}

size_t dtls13_write_suites(const struct dtls_endpoint *e, uint8_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof(suites13) / sizeof(suites13[0]); i++)
        if (e->suites & suites13[i].bit)
            wire_put16(p + n, suites13[i].id), n += 2;
    return n;
}

static bool group_ok(const struct dtls_endpoint *e, unsigned g)
{
    return (g == CP_GROUP_X25519 && (e->groups & DTLS_OFFER_X25519)) ||
           (g == CP_GROUP_SECP256R1 && (e->groups & DTLS_OFFER_P256));
}

static uint8_t *ext_head(uint8_t *p, uint16_t type, size_t len)
{
    wire_put16(p, type);
    wire_put16(p + 2, (uint16_t)len);
    return p + 4;
}

size_t dtls13_client_extensions(const struct dtls_endpoint *e, uint8_t *out, bool cookie_only)
{
    uint8_t *p = out;
    if (!cookie_only) {
        /* supported_versions: 1.3 first, as Chrome */
        size_t nv = (e->versions & DTLS_OFFER_V12) ? 2 : 1;
        p = ext_head(p, EXT_SUPPORTED_VERSIONS, 1 + 2 * nv);
        *p++ = (uint8_t)(2 * nv);
        wire_put16(p, DTLS_V13), p += 2;
        if (nv == 2)
            wire_put16(p, DTLS_V12), p += 2;
        /* key_share: our one share */
        size_t pl = cp_pub_len((enum cp_group)e->group);
        p = ext_head(p, EXT_KEY_SHARE, 2 + 4 + pl);
        wire_put16(p, (uint16_t)(4 + pl));
        wire_put16(p + 2, e->group);
        wire_put16(p + 4, (uint16_t)pl);
        memcpy(p + 6, e->eph_pub, pl);
        p += 6 + pl;
    }
    if (e->version == DTLS_V13 && e->cookie_len) {
        p = ext_head(p, EXT_COOKIE, 2u + e->cookie_len);
        wire_put16(p, e->cookie_len);
        memcpy(p + 2, e->cookie, e->cookie_len);
        p += 2 + e->cookie_len;
    }
    return (size_t)(p - out);
}

static size_t write_server_hello(const struct dtls_endpoint *e, uint8_t *o, bool hrr)
{
    uint8_t *p = o;
    wire_put16(p, DTLS_V12); /* legacy_version */
    memcpy(p + 2, hrr ? dtls13_hrr_random : e->server_random, 32);
    p += 34;
    *p++ = e->t.sid_len;
    memcpy(p, e->t.sid, e->t.sid_len);
    p += e->t.sid_len;
    wire_put16(p, e->suite_id);
    p += 2;
    *p++ = 0;
    uint8_t *el = p;
    p += 2;
    p = ext_head(p, EXT_SUPPORTED_VERSIONS, 2);
    wire_put16(p, DTLS_V13), p += 2;
    if (!hrr) {
        size_t pl = cp_pub_len((enum cp_group)e->group);
        p = ext_head(p, EXT_KEY_SHARE, 4 + pl);
        wire_put16(p, e->group);
        wire_put16(p + 2, (uint16_t)pl);
        memcpy(p + 4, e->eph_pub, pl);
        p += 4 + pl;
    } else {
        if (e->t.hrr_group) {
            p = ext_head(p, EXT_KEY_SHARE, 2);
            wire_put16(p, e->group), p += 2;
        }
        if (e->cookie_len) {
            p = ext_head(p, EXT_COOKIE, 2u + e->cookie_len);
            wire_put16(p, e->cookie_len);
            memcpy(p + 2, e->cookie, e->cookie_len);
            p += 2 + e->cookie_len;
        }
    }
    wire_put16(el, (uint16_t)(p - el - 2));
    return (size_t)(p - o);
}

static size_t write_certificate(const struct dtls_endpoint *e, uint8_t *o)
{
    uint8_t *p = o;
    uint8_t cl = e->is_server ? 0 : e->t.cr_ctx_len;
    *p++ = cl;
    memcpy(p, e->t.cr_ctx, cl);
    p += cl;
    wire_put24(p, e->cert->der_len + 5u); /* one entry: cert_data, no extensions */
    wire_put24(p + 3, e->cert->der_len);
    memcpy(p + 6, e->cert->der, e->cert->der_len);
    p += 6 + e->cert->der_len;
    wire_put16(p, 0);
    return (size_t)(p + 2 - o);
}

size_t dtls13_msg_write(const struct dtls_endpoint *e, enum dtls_item it, uint8_t *o)
{
    uint8_t *p = o;
    switch (it) {
    case IT13_SERVER_HELLO:
        return write_server_hello(e, o, false);
    case IT13_HELLO_RETRY:
        return write_server_hello(e, o, true);
    case IT13_ENCRYPTED_EXTENSIONS:
        if (!e->srtp_profile) {
            wire_put16(p, 0);
            return 2;
        }
        wire_put16(p, 9);
        p = ext_head(p + 2, EXT_USE_SRTP, 5);
        wire_put16(p, 2);
        wire_put16(p + 2, e->srtp_profile);
        p[4] = 0; /* no MKI */
        return 11;
    case IT13_CERTIFICATE_REQUEST:
        p[0] = 0; /* empty certificate_request_context */
        wire_put16(p + 1, 8);
        p = ext_head(p + 3, EXT_SIGNATURE_ALGORITHMS, 4);
        wire_put16(p, 2);
        wire_put16(p + 2, SIG_ECDSA_SECP256R1_SHA256);
        return 11;
    case IT13_CERTIFICATE:
        return write_certificate(e, o);
    case IT13_CERTIFICATE_VERIFY:
        wire_put16(p, SIG_ECDSA_SECP256R1_SHA256);
        wire_put16(p + 2, e->sig_len);
        memcpy(p + 4, e->sig, e->sig_len);
        return 4u + e->sig_len;
    case IT13_FINISHED:
        memcpy(p, e->t.finished, e->t.hl);
        return e->t.hl;
    case IT13_KEY_UPDATE:
        p[0] = e->p.ku_request ? 1 : 0; /* KeyUpdateRequest (RFC 8446 §4.6.3) */
        return 1;
    default:
        return 0;
    }
}

/* ---- ClientHello (server) ---- */

#define SEEN(bit) (1u << (bit))

static int ch_key_share(const struct dtls_endpoint *e, struct rd *x, struct dtls13_client_hello *ch)
{
    unsigned ll = u16(x);
    if (ll != x->n)
        return DTLS_FAIL_DECODE;
    while (x->n) {
        unsigned g = u16(x), kl = u16(x);
        const uint8_t *k = take(x, kl);
        if (x->bad || kl == 0)
            return DTLS_FAIL_DECODE;
        if (!ch->share && group_ok(e, g) && kl == cp_pub_len((enum cp_group)g)) {
            ch->share = k;
            ch->share_len = (uint16_t)kl;
            ch->share_group = (uint16_t)g;
        }
    }
    return 0;
}

static int ch_ext13(const struct dtls_endpoint *e, unsigned type, struct rd *x, struct dtls13_client_hello *ch,
                    unsigned *seen)
{
    static const uint16_t known[] = {EXT_SUPPORTED_VERSIONS, EXT_KEY_SHARE, EXT_SUPPORTED_GROUPS,
                                     EXT_SIGNATURE_ALGORITHMS, EXT_USE_SRTP, EXT_COOKIE};
    unsigned bit = 31;
    for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i] == type)
            bit = i;
    if (bit == 31)
        return 0;
    if (*seen & SEEN(bit))
        return DTLS_FAIL_DECODE;
    *seen |= SEEN(bit);
    switch (type) {
    case EXT_SUPPORTED_VERSIONS: {
        unsigned vl = u8(x);
        if (vl % 2 || vl != x->n)
            return DTLS_FAIL_DECODE;
        while (x->n)
            ch->offers13 |= u16(x) == DTLS_V13;
        return 0;
    }
    case EXT_KEY_SHARE:
        return ch_key_share(e, x, ch);
    case EXT_SUPPORTED_GROUPS: {
        unsigned gl = u16(x);
        if (gl % 2 || gl != x->n)
            return DTLS_FAIL_DECODE;
        while (x->n) {
            unsigned g = u16(x);
            ch->p256_ok |= g == CP_GROUP_SECP256R1;
            if (!ch->hrr_group && group_ok(e, g))
                ch->hrr_group = (uint16_t)g;
        }
        return 0;
    }
    case EXT_SIGNATURE_ALGORITHMS: {
        unsigned al = u16(x);
        if (al % 2 || al != x->n)
            return DTLS_FAIL_DECODE;
        while (x->n)
            ch->sig_ok |= u16(x) == SIG_ECDSA_SECP256R1_SHA256;
        return 0;
    }
    case EXT_USE_SRTP: {
        unsigned pl = u16(x);
        if (pl % 2 || pl + 1 > x->n)
            return DTLS_FAIL_DECODE;
        struct rd pr = sub(x, pl);
        unsigned mki = u8(x);
        take(x, mki);
        if (x->bad || x->n)
            return DTLS_FAIL_DECODE;
        /* the client's first profile that we offer (the 1.2 path's rule) */
        static const struct {
            uint16_t id;
            uint8_t bit;
        } prof[] = {{0x0008, DTLS_SRTP_AEAD_AES_256_GCM},
                    {0x0007, DTLS_SRTP_AEAD_AES_128_GCM},
                    {0x0002, DTLS_SRTP_AES128_CM_SHA1_32},
                    {0x0001, DTLS_SRTP_AES128_CM_SHA1_80}};
        while (pr.n) {
            unsigned id = u16(&pr);
            for (size_t i = 0; i < 4 && !ch->srtp; i++)
                if (prof[i].id == id && (e->srtp_offer & prof[i].bit))
                    ch->srtp = (uint16_t)id;
        }
        return 0;
    }
    default: { /* EXT_COOKIE */
        unsigned cl = u16(x);
        ch->cookie = take(x, cl);
        ch->cookie_len = (uint16_t)cl;
        return x->bad || x->n || cl == 0 ? DTLS_FAIL_DECODE : 0;
    }
    }
}

int dtls13_parse_client_hello(const struct dtls_endpoint *e, const uint8_t *b, size_t len,
                              struct dtls13_client_hello *ch, int *alert)
{
    memset(ch, 0, sizeof(*ch));
    *alert = DTLS_ALERT_DECODE_ERROR;
    struct rd r = {b, len, false};
    u16(&r); /* legacy_version */
    ch->random = take(&r, 32);
    unsigned sl = u8(&r);
    ch->sid = take(&r, sl);
    ch->sid_len = (uint8_t)sl;
    unsigned cl = u8(&r);
    take(&r, cl); /* legacy_cookie */
    unsigned nl = u16(&r);
    struct rd suites = sub(&r, nl);
    unsigned ml = u8(&r);
    struct rd comp = sub(&r, ml);
    if (r.bad || sl > 32 || nl < 2 || nl % 2 || ml < 1)
        return DTLS_FAIL_DECODE;
    while (suites.n) {
        unsigned s = u16(&suites);
        if (!ch->suite && dtls13_suite_offered(e->suites, s))
            ch->suite = (uint16_t)s;
    }
    bool null_comp = false;
    while (comp.n)
        null_comp |= u8(&comp) == 0;
    unsigned seen = 0;
    if (r.n) {
        unsigned el = u16(&r);
        if (el != r.n)
            return DTLS_FAIL_DECODE;
        while (r.n) {
            unsigned type = u16(&r), xl = u16(&r);
            struct rd x = sub(&r, xl);
            if (r.bad)
                return DTLS_FAIL_DECODE;
            int f = ch_ext13(e, type, &x, ch, &seen);
            if (f == 0 && x.bad)
                f = DTLS_FAIL_DECODE;
            if (f != 0)
                return f;
        }
    }
    if (!ch->offers13) {
        *alert = -1;
        return 0;
    }
    if (!null_comp) {
        *alert = DTLS_ALERT_ILLEGAL_PARAMETER;
        return DTLS_FAIL_DECODE;
    }
    /* a share we take, or a group both take to ask for; our certificate
     * is P-256 and signs ECDSA with SHA-256 */
    if (!ch->suite || (!ch->share && !ch->hrr_group) || !ch->sig_ok) {
        *alert = DTLS_ALERT_HANDSHAKE_FAILURE;
        return DTLS_FAIL_NO_SHARED_SUITE;
    }
    *alert = -1;
    return 0;
}

/* ---- ServerHello (client) ---- */

int dtls13_parse_server_hello(const struct dtls_endpoint *e, const uint8_t *b, size_t len,
                              struct dtls13_server_hello *sh, int *alert)
{
    memset(sh, 0, sizeof(*sh));
    *alert = DTLS_ALERT_DECODE_ERROR;
    struct rd r = {b, len, false};
    sh->version = (uint16_t)u16(&r);
    sh->random = take(&r, 32);
    unsigned sl = u8(&r);
    take(&r, sl);
    sh->suite = (uint16_t)u16(&r);
    unsigned comp = u8(&r);
    if (r.bad || sl > 32)
        return DTLS_FAIL_DECODE;
    sh->hrr = memcmp(sh->random, dtls13_hrr_random, 32) == 0;
    unsigned seen = 0;
    if (r.n) {
        unsigned el = u16(&r);
        if (el != r.n)
            return DTLS_FAIL_DECODE;
        /* supported_versions first: it tells how to read the rest */
        struct rd scan = r;
        while (scan.n) {
            unsigned type = u16(&scan), xl = u16(&scan);
            struct rd x = sub(&scan, xl);
            if (scan.bad)
                return DTLS_FAIL_DECODE;
            if (type == EXT_SUPPORTED_VERSIONS) {
                unsigned v = u16(&x);
                if (x.bad || x.n)
                    return DTLS_FAIL_DECODE;
                sh->is13 = v == DTLS_V13;
                if (!sh->is13) {
                    *alert = DTLS_ALERT_ILLEGAL_PARAMETER; /* 1.2 does not say so this way */
                    return DTLS_FAIL_VERSION;
                }
            }
        }
        if (!sh->is13)
            return 0; /* a 1.2 ServerHello: the 1.2 path reads it */
        while (r.n) {
            unsigned type = u16(&r), xl = u16(&r);
            struct rd x = sub(&r, xl);
            unsigned bit = type == EXT_SUPPORTED_VERSIONS ? 0 : type == EXT_KEY_SHARE ? 1 : type == EXT_COOKIE ? 2 : 3;
            if (bit == 3 || (seen & SEEN(bit))) {
                *alert = bit == 3 ? DTLS_ALERT_UNSUPPORTED_EXTENSION : DTLS_ALERT_DECODE_ERROR;
                return bit == 3 ? DTLS_FAIL_UNSUPPORTED_EXT : DTLS_FAIL_DECODE;
            }
            seen |= SEEN(bit);
            if (type == EXT_KEY_SHARE) {
                sh->group = (uint16_t)u16(&x);
                if (!sh->hrr) {
                    unsigned kl = u16(&x);
                    sh->share = take(&x, kl);
                    sh->share_len = (uint16_t)kl;
                }
            } else if (type == EXT_COOKIE) {
                if (!sh->hrr) {
                    *alert = DTLS_ALERT_UNSUPPORTED_EXTENSION;
                    return DTLS_FAIL_UNSUPPORTED_EXT;
                }
                unsigned cl = u16(&x);
                sh->cookie = take(&x, cl);
                sh->cookie_len = (uint16_t)cl;
                if (cl == 0 || cl > COOKIE_MAX)
                    return DTLS_FAIL_DECODE;
            } else {
                u16(&x);
            }
            if (x.bad || x.n)
                return DTLS_FAIL_DECODE;
        }
    }
    if (!sh->is13)
        return 0;
    if (sh->version != DTLS_V12 || comp != 0 || sl != 0 || !dtls13_suite_offered(e->suites, sh->suite)) {
        *alert = DTLS_ALERT_ILLEGAL_PARAMETER;
        return DTLS_FAIL_NO_SHARED_SUITE;
    }
    if (!sh->hrr && !sh->share) {
        *alert = DTLS_ALERT_MISSING_EXTENSION;
        return DTLS_FAIL_NO_SHARED_SUITE;
    }
    *alert = -1;
    return 0;
}

/* ---- after the hellos ---- */

int dtls13_parse_ee(const struct dtls_endpoint *e, const uint8_t *b, size_t len, uint16_t *srtp, int *alert)
{
    *alert = DTLS_ALERT_DECODE_ERROR;
    *srtp = 0;
    struct rd r = {b, len, false};
    unsigned el = u16(&r);
    if (r.bad || el != r.n)
        return DTLS_FAIL_DECODE;
    bool seen_srtp = false;
    while (r.n) {
        unsigned type = u16(&r), xl = u16(&r);
        struct rd x = sub(&r, xl);
        if (r.bad)
            return DTLS_FAIL_DECODE;
        if (type != EXT_USE_SRTP)
            continue; /* supported_groups and the like: nothing for us */
        if (seen_srtp)
            return DTLS_FAIL_DECODE;
        seen_srtp = true;
        unsigned pl = u16(&x), p = u16(&x), mki = u8(&x);
        take(&x, mki);
        if (x.bad || x.n || pl != 2)
            return DTLS_FAIL_DECODE;
        static const uint16_t ids[] = {0x0001, 0x0002, 0x0007, 0x0008};
        static const uint8_t bits[] = {DTLS_SRTP_AES128_CM_SHA1_80, DTLS_SRTP_AES128_CM_SHA1_32,
                                       DTLS_SRTP_AEAD_AES_128_GCM, DTLS_SRTP_AEAD_AES_256_GCM};
        bool ok = false;
        for (size_t i = 0; i < 4; i++)
            ok |= ids[i] == p && (e->srtp_offer & bits[i]);
        if (!ok) {
            *alert = DTLS_ALERT_ILLEGAL_PARAMETER;
            return DTLS_FAIL_NO_SHARED_SUITE;
        }
        *srtp = (uint16_t)p;
    }
    *alert = -1;
    return 0;
}

int dtls13_parse_cr(struct dtls_endpoint *e, const uint8_t *b, size_t len, int *alert)
{
    *alert = DTLS_ALERT_DECODE_ERROR;
    struct rd r = {b, len, false};
    unsigned cl = u8(&r);
    const uint8_t *ctx = take(&r, cl);
    unsigned el = u16(&r);
    if (r.bad || el != r.n || cl > sizeof(e->t.cr_ctx))
        return DTLS_FAIL_DECODE;
    bool sig_ok = false;
    while (r.n) {
        unsigned type = u16(&r), xl = u16(&r);
        struct rd x = sub(&r, xl);
        if (r.bad)
            return DTLS_FAIL_DECODE;
        if (type != EXT_SIGNATURE_ALGORITHMS)
            continue;
        unsigned al = u16(&x);
        if (al % 2 || al != x.n)
            return DTLS_FAIL_DECODE;
        while (x.n)
            sig_ok |= u16(&x) == SIG_ECDSA_SECP256R1_SHA256;
    }
    if (!sig_ok) {
        *alert = DTLS_ALERT_HANDSHAKE_FAILURE;
        return DTLS_FAIL_NO_SHARED_SUITE;
    }
    memcpy(e->t.cr_ctx, ctx, cl);
    e->t.cr_ctx_len = (uint8_t)cl;
    *alert = -1;
    return 0;
}
