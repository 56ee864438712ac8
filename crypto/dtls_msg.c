/* SPDX-License-Identifier: MIT */
/* Handshake message bodies: written from the endpoint's state (the same
 * bytes every time a flight is sent again), read with every length checked
 * against its container. */
#include <errno.h>
#include <string.h>

#include "dtls_internal.h"
#include "dtls_rd.h"

/* ---- reading: dtls_rd.h ---- */

/* ---- what we offer, in Chrome's order ---- */

static const struct {
    uint16_t id;
    uint8_t bit;
} suite_order[] = {
    {SUITE_ECDHE_ECDSA_AES_128_GCM, DTLS_OFFER_AES_128_GCM},
    {SUITE_ECDHE_ECDSA_AES_256_GCM, DTLS_OFFER_AES_256_GCM},
    {SUITE_ECDHE_ECDSA_CHACHA20, DTLS_OFFER_CHACHA20},
};

static const struct {
    uint16_t id;
    uint8_t bit;
} group_order[] = {{CP_GROUP_X25519, DTLS_OFFER_X25519}, {CP_GROUP_SECP256R1, DTLS_OFFER_P256}};

/* libwebrtc's order with every profile enabled */
static const struct {
    uint16_t id;
    uint8_t bit;
} srtp_order[] = {
    {0x0008, DTLS_SRTP_AEAD_AES_256_GCM},
    {0x0007, DTLS_SRTP_AEAD_AES_128_GCM},
    {0x0002, DTLS_SRTP_AES128_CM_SHA1_32},
    {0x0001, DTLS_SRTP_AES128_CM_SHA1_80},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool suite_offered(uint8_t mask, unsigned id)
{
    for (size_t i = 0; i < N_OF(suite_order); i++)
        if (suite_order[i].id == id)
            return (mask & suite_order[i].bit) != 0;
    return false;
}

static bool group_offered(uint8_t mask, unsigned id)
{
    for (size_t i = 0; i < N_OF(group_order); i++)
        if (group_order[i].id == id)
            return (mask & group_order[i].bit) != 0;
    return false;
}

static bool srtp_offered(uint8_t mask, unsigned id)
{
    for (size_t i = 0; i < N_OF(srtp_order); i++)
        if (srtp_order[i].id == id)
            return (mask & srtp_order[i].bit) != 0;
    return false;
}

/* ---- writing ---- */

static uint8_t *put_ext(uint8_t *p, uint16_t type, const uint8_t *data, uint16_t len)
{
    wire_put16(p, type);
    wire_put16(p + 2, len);
    if (len)
        memcpy(p + 4, data, len);
    return p + 4 + len;
}

/* Our ClientHello extensions, each whole in ext[i] (len[i] bytes), in the
 * order the endpoint's ext_order seed shuffles them to (Chrome shuffles
 * its extensions per connection). */
static size_t client_extensions(const struct dtls_endpoint *e, uint8_t *out)
{
    uint8_t ext[6][40], d[32];
    size_t len[6], n = 0, k;
    len[n] = (size_t)(put_ext(ext[n], EXT_EXTENDED_MASTER_SECRET, NULL, 0) - ext[n]);
    n++;
    d[0] = 0;
    len[n] = (size_t)(put_ext(ext[n], EXT_RENEGOTIATION_INFO, d, 1) - ext[n]);
    n++;
    k = 2;
    for (size_t i = 0; i < N_OF(group_order); i++)
        if (e->groups & group_order[i].bit)
            wire_put16(d + k, group_order[i].id), k += 2;
    wire_put16(d, (uint16_t)(k - 2));
    len[n] = (size_t)(put_ext(ext[n], EXT_SUPPORTED_GROUPS, d, (uint16_t)k) - ext[n]);
    n++;
    d[0] = 1, d[1] = 0; /* uncompressed */
    len[n] = (size_t)(put_ext(ext[n], EXT_EC_POINT_FORMATS, d, 2) - ext[n]);
    n++;
    wire_put16(d, 2);
    wire_put16(d + 2, SIG_ECDSA_SECP256R1_SHA256);
    len[n] = (size_t)(put_ext(ext[n], EXT_SIGNATURE_ALGORITHMS, d, 4) - ext[n]);
    n++;
    if (e->srtp_offer) {
        k = 2;
        for (size_t i = 0; i < N_OF(srtp_order); i++)
            if (e->srtp_offer & srtp_order[i].bit)
                wire_put16(d + k, srtp_order[i].id), k += 2;
        wire_put16(d, (uint16_t)(k - 2));
        d[k++] = 0; /* no MKI */
        len[n] = (size_t)(put_ext(ext[n], EXT_USE_SRTP, d, (uint16_t)k) - ext[n]);
        n++;
    }
    /* Fisher-Yates driven by a small generator on the seed */
    uint8_t order[6];
    for (size_t i = 0; i < n; i++)
        order[i] = (uint8_t)i;
    uint32_t s = e->ext_order * 2654435761u + 1;
    for (size_t i = n - 1; i > 0; i--) {
        s = s * 1103515245u + 12345u;
        size_t j = (s >> 16) % (i + 1);
        uint8_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + off, ext[order[i]], len[order[i]]);
        off += len[order[i]];
    }
    return off;
}

static size_t write_client_hello(const struct dtls_endpoint *e, uint8_t *o)
{
    uint8_t *p = o;
    wire_put16(p, DTLS_V12);
    memcpy(p + 2, e->client_random, 32);
    p += 34;
    *p++ = 0; /* no session id: no resumption */
    uint8_t legacy_cookie = dtls_is13(e) ? 0 : e->cookie_len; /* 1.3: the cookie is an extension */
    *p++ = legacy_cookie;
    memcpy(p, e->cookie, legacy_cookie);
    p += legacy_cookie;
    uint8_t *sl = p;
    p += 2;
    if (e->versions & DTLS_OFFER_V13)
        p += dtls13_write_suites(e, p);
    if (e->versions & DTLS_OFFER_V12)
        for (size_t i = 0; i < N_OF(suite_order); i++)
            if (e->suites & suite_order[i].bit)
                wire_put16(p, suite_order[i].id), p += 2;
    wire_put16(sl, (uint16_t)(p - sl - 2));
    *p++ = 1;
    *p++ = 0; /* null compression */
    size_t el = client_extensions(e, p + 2);
    if (e->versions & DTLS_OFFER_V13)
        el += dtls13_client_extensions(e, p + 2 + el, false);
    wire_put16(p, (uint16_t)el);
    p += 2 + el;
    return (size_t)(p - o);
}

static size_t write_server_hello(const struct dtls_endpoint *e, uint8_t *o)
{
    uint8_t *p = o;
    wire_put16(p, DTLS_V12);
    memcpy(p + 2, e->server_random, 32);
    p += 34;
    *p++ = 0; /* no session id: we resume nothing */
    wire_put16(p, e->suite_id);
    p += 2;
    *p++ = 0;
    uint8_t *el = p;
    p += 2;
    uint8_t d[8];
    if (e->ems)
        p = put_ext(p, EXT_EXTENDED_MASTER_SECRET, NULL, 0);
    if (e->ri) {
        d[0] = 0;
        p = put_ext(p, EXT_RENEGOTIATION_INFO, d, 1);
    }
    if (e->point_formats) {
        d[0] = 1, d[1] = 0;
        p = put_ext(p, EXT_EC_POINT_FORMATS, d, 2);
    }
    if (e->srtp_profile) {
        wire_put16(d, 2);
        wire_put16(d + 2, e->srtp_profile);
        d[4] = 0;
        p = put_ext(p, EXT_USE_SRTP, d, 5);
    }
    if (p == el + 2)
        return (size_t)(el - o); /* no extensions: no extensions block */
    wire_put16(el, (uint16_t)(p - el - 2));
    return (size_t)(p - o);
}

/* ECParameters and ECPoint of ServerKeyExchange (RFC 8422 §5.4), what
 * its signature covers after the two randoms. */
static size_t ske_params(const struct dtls_endpoint *e, uint8_t *p)
{
    size_t pl = cp_pub_len((enum cp_group)e->group);
    p[0] = 3; /* named_curve */
    wire_put16(p + 1, e->group);
    p[3] = (uint8_t)pl;
    memcpy(p + 4, e->eph_pub, pl);
    return 4 + pl;
}

size_t dtls_ske_params(const struct dtls_endpoint *e, uint8_t *out)
{
    return ske_params(e, out);
}

uint8_t dtls_item_type(enum dtls_item it)
{
    static const uint8_t t[] = {
        [IT_CLIENT_HELLO] = HS_CLIENT_HELLO,
        [IT_HELLO_VERIFY] = HS_HELLO_VERIFY_REQUEST,
        [IT_SERVER_HELLO] = HS_SERVER_HELLO,
        [IT_CERTIFICATE] = HS_CERTIFICATE,
        [IT_SERVER_KEY_EXCHANGE] = HS_SERVER_KEY_EXCHANGE,
        [IT_CERTIFICATE_REQUEST] = HS_CERTIFICATE_REQUEST,
        [IT_SERVER_HELLO_DONE] = HS_SERVER_HELLO_DONE,
        [IT_CLIENT_KEY_EXCHANGE] = HS_CLIENT_KEY_EXCHANGE,
        [IT_CERTIFICATE_VERIFY] = HS_CERTIFICATE_VERIFY,
        [IT_CHANGE_CIPHER_SPEC] = 0,
        [IT_FINISHED] = HS_FINISHED,
        [IT13_SERVER_HELLO] = HS_SERVER_HELLO,
        [IT13_HELLO_RETRY] = HS_SERVER_HELLO,
        [IT13_ENCRYPTED_EXTENSIONS] = HS_ENCRYPTED_EXTENSIONS,
        [IT13_CERTIFICATE_REQUEST] = HS_CERTIFICATE_REQUEST,
        [IT13_CERTIFICATE] = HS_CERTIFICATE,
        [IT13_CERTIFICATE_VERIFY] = HS_CERTIFICATE_VERIFY,
        [IT13_FINISHED] = HS_FINISHED,
        [IT13_KEY_UPDATE] = HS_KEY_UPDATE,
    };
    return (unsigned)it < N_OF(t) ? t[it] : 0;
}

size_t dtls_msg_write(const struct dtls_endpoint *e, enum dtls_item it, uint8_t *o)
{
    switch (it) {
    case IT_CLIENT_HELLO:
        return write_client_hello(e, o);
    case IT_HELLO_VERIFY:
        wire_put16(o, DTLS_V10); /* RFC 6347 §4.2.1: 1.0 whatever will be negotiated */
        o[2] = e->cookie_len;
        memcpy(o + 3, e->cookie, e->cookie_len);
        return 3u + e->cookie_len;
    case IT_SERVER_HELLO:
        return write_server_hello(e, o);
    case IT_CERTIFICATE:
        wire_put24(o, e->cert->der_len + 3u);
        wire_put24(o + 3, e->cert->der_len);
        memcpy(o + 6, e->cert->der, e->cert->der_len);
        return 6u + e->cert->der_len;
    case IT_SERVER_KEY_EXCHANGE: {
        size_t n = ske_params(e, o);
        wire_put16(o + n, SIG_ECDSA_SECP256R1_SHA256);
        wire_put16(o + n + 2, e->sig_len);
        memcpy(o + n + 4, e->sig, e->sig_len);
        return n + 4 + e->sig_len;
    }
    case IT_CERTIFICATE_REQUEST:
        o[0] = 1;
        o[1] = CERT_TYPE_ECDSA_SIGN;
        wire_put16(o + 2, 2);
        wire_put16(o + 4, SIG_ECDSA_SECP256R1_SHA256);
        wire_put16(o + 6, 0); /* no certificate authorities */
        return 8;
    case IT_SERVER_HELLO_DONE:
        return 0;
    case IT_CLIENT_KEY_EXCHANGE: {
        size_t pl = cp_pub_len((enum cp_group)e->group);
        o[0] = (uint8_t)pl;
        memcpy(o + 1, e->eph_pub, pl);
        return 1 + pl;
    }
    case IT_CERTIFICATE_VERIFY:
        wire_put16(o, SIG_ECDSA_SECP256R1_SHA256);
        wire_put16(o + 2, e->sig_len);
        memcpy(o + 4, e->sig, e->sig_len);
        return 4u + e->sig_len;
    case IT_FINISHED:
        memcpy(o, e->finished, VERIFY_DATA);
        return VERIFY_DATA;
    case IT_CHANGE_CIPHER_SPEC:
        break;
    default:
        return dtls13_msg_write(e, it, o);
    }
    return 0;
}

/* ---- ClientHello (server) ---- */

#define SEEN(bit) (1u << (bit))

/* What the ClientHello walk has picked so far, before the last checks. */
struct ch_pick {
    unsigned version;
    uint16_t suite, group, srtp;
    unsigned seen; /* SEEN(bit) for each known extension met */
    bool versions_sent, null_comp;
};

/* The fixed fields: version, random, session id, cookie, and the suite and
 * compression lists as readers of their own. 0 or the failure. */
static int ch_fixed_fields(struct rd *r, struct dtls_client_hello *ch, struct ch_pick *pk,
                           struct rd *suites, struct rd *comp, int *alert)
{
    pk->version = u16(r);
    ch->random = take(r, 32);
    unsigned sid = u8(r);
    if (sid > 32)
        return DTLS_FAIL_DECODE;
    take(r, sid);
    ch->cookie_len = (uint8_t)u8(r);
    ch->cookie = take(r, ch->cookie_len);
    unsigned sl = u16(r);
    *suites = sub(r, sl);
    unsigned cl = u8(r);
    *comp = sub(r, cl);
    if (r->bad || sl < 2 || sl % 2 || cl < 1)
        return DTLS_FAIL_DECODE;
    if (pk->version >> 8 != 0xfe) {
        *alert = DTLS_ALERT_PROTOCOL_VERSION;
        return DTLS_FAIL_VERSION;
    }
    return 0;
}

/* The suite: the client's first that we take (BoringSSL's default); the
 * renegotiation SCSV counts as renegotiation_info. */
static void ch_cipher_suites(const struct dtls_endpoint *e, struct rd *suites, struct dtls_client_hello *ch,
                             struct ch_pick *pk)
{
    while (suites->n) {
        unsigned s = u16(suites);
        if (s == SUITE_EMPTY_RENEGOTIATION_SCSV)
            ch->ri = true;
        else if (!pk->suite && suite_offered(e->suites, s))
            pk->suite = (uint16_t)s;
    }
}

/* ec_point_formats (either side): it must list uncompressed. 0 or the
 * failure. */
static int ext_point_formats(struct rd *x, int *alert)
{
    unsigned fl = u8(x);
    if (fl < 1 || fl != x->n)
        return DTLS_FAIL_DECODE;
    bool unc = false;
    while (x->n)
        unc |= u8(x) == 0;
    if (!unc) {
        *alert = DTLS_ALERT_ILLEGAL_PARAMETER;
        return DTLS_FAIL_NO_SHARED_SUITE;
    }
    return 0;
}

/* supported_groups and ec_point_formats: the key exchange group (the
 * client's first that we take) and whether P-256 is listed. 0 or the
 * failure. */
static int ch_ext_key_exchange(const struct dtls_endpoint *e, unsigned type, struct rd *x,
                               struct dtls_client_hello *ch, struct ch_pick *pk, int *alert)
{
    if (type == EXT_EC_POINT_FORMATS) {
        int f = ext_point_formats(x, alert);
        if (f == 0)
            ch->point_formats = true;
        return f;
    }
    unsigned gl = u16(x);
    if (gl % 2 || gl != x->n)
        return DTLS_FAIL_DECODE;
    ch->groups_sent = true;
    while (x->n) {
        unsigned g = u16(x);
        ch->p256_ok |= g == CP_GROUP_SECP256R1;
        if (!pk->group && group_offered(e->groups, g))
            pk->group = (uint16_t)g;
    }
    return 0;
}

/* signature_algorithms: whether ECDSA P-256 SHA-256 is listed. 0 or the
 * failure. */
static int ch_ext_signature_algorithms(struct rd *x, struct dtls_client_hello *ch)
{
    unsigned al = u16(x);
    if (al % 2 || al != x->n)
        return DTLS_FAIL_DECODE;
    while (x->n)
        ch->sig_ok |= u16(x) == SIG_ECDSA_SECP256R1_SHA256;
    return 0;
}

/* use_srtp: the client's first profile that we offer (the MKI skipped).
 * 0 or the failure. */
static int ch_ext_use_srtp(const struct dtls_endpoint *e, struct rd *x, struct ch_pick *pk)
{
    unsigned pl = u16(x);
    if (pl % 2 || pl + 1 > x->n)
        return DTLS_FAIL_DECODE;
    struct rd pr = sub(x, pl);
    unsigned mki = u8(x);
    take(x, mki);
    if (x->bad || x->n)
        return DTLS_FAIL_DECODE;
    while (pr.n) {
        unsigned p = u16(&pr);
        if (!pk->srtp && srtp_offered(e->srtp_offer, p))
            pk->srtp = (uint16_t)p;
    }
    return 0;
}

/* extended_master_secret, renegotiation_info and supported_versions: the
 * session flags and whether DTLS 1.2 is listed. 0 or the failure. */
static int ch_ext_session(unsigned type, struct rd *x, struct dtls_client_hello *ch, struct ch_pick *pk,
                          int *alert)
{
    switch (type) {
    case EXT_EXTENDED_MASTER_SECRET:
        if (x->n != 0)
            return DTLS_FAIL_DECODE;
        ch->ems = true;
        return 0;
    case EXT_RENEGOTIATION_INFO:
        /* initial handshake: an empty renegotiated_connection */
        if (x->n != 1 || u8(x) != 0) {
            *alert = DTLS_ALERT_HANDSHAKE_FAILURE;
            return DTLS_FAIL_DECODE;
        }
        ch->ri = true;
        return 0;
    default: { /* EXT_SUPPORTED_VERSIONS */
        unsigned vl = u8(x);
        if (vl % 2 || vl != x->n)
            return DTLS_FAIL_DECODE;
        pk->versions_sent = true;
        while (x->n)
            ch->versions_ok |= u16(x) == DTLS_V12;
        return 0;
    }
    }
}

/* The bit that marks an extension we read as met, or 31 for the others. */
static unsigned ch_ext_bit(unsigned type)
{
    switch (type) {
    case EXT_SUPPORTED_GROUPS:
        return 0;
    case EXT_EC_POINT_FORMATS:
        return 1;
    case EXT_SIGNATURE_ALGORITHMS:
        return 2;
    case EXT_USE_SRTP:
        return 3;
    case EXT_EXTENDED_MASTER_SECRET:
        return 4;
    case EXT_RENEGOTIATION_INFO:
        return 5;
    case EXT_SUPPORTED_VERSIONS:
        return 6;
    default:
        return 31;
    }
}

/* One extension: refused if met before, read by its group, ignored if
 * unknown (RFC 5246 §7.4.1.4). 0 or the failure. */
static int ch_extension(const struct dtls_endpoint *e, unsigned type, struct rd *x,
                        struct dtls_client_hello *ch, struct ch_pick *pk, int *alert)
{
    unsigned bit = ch_ext_bit(type);
    if (bit == 31)
        return 0;
    if (pk->seen & SEEN(bit))
        return DTLS_FAIL_DECODE; /* RFC 5246 §7.4.1.4: one of each */
    pk->seen |= SEEN(bit);
    int f;
    switch (type) {
    case EXT_SUPPORTED_GROUPS:
    case EXT_EC_POINT_FORMATS:
        f = ch_ext_key_exchange(e, type, x, ch, pk, alert);
        break;
    case EXT_SIGNATURE_ALGORITHMS:
        f = ch_ext_signature_algorithms(x, ch);
        break;
    case EXT_USE_SRTP:
        f = ch_ext_use_srtp(e, x, pk);
        break;
    default:
        f = ch_ext_session(type, x, ch, pk, alert);
        break;
    }
    if (f == 0 && x->bad)
        f = DTLS_FAIL_DECODE;
    return f;
}

/* The extensions block, if any: its length, then each extension in turn.
 * 0 or the failure. */
static int ch_extensions(const struct dtls_endpoint *e, struct rd *r, struct dtls_client_hello *ch,
                         struct ch_pick *pk, int *alert)
{
    if (!r->n)
        return 0;
    unsigned el = u16(r);
    if (el != r->n)
        return DTLS_FAIL_DECODE;
    while (r->n) {
        unsigned type = u16(r), xl = u16(r);
        struct rd x = sub(r, xl);
        if (r->bad)
            return DTLS_FAIL_DECODE;
        int f = ch_extension(e, type, &x, ch, pk, alert);
        if (f != 0)
            return f;
    }
    return 0;
}

/* What the whole hello says: a version we speak, null compression, and a
 * suite, group and signature we share (the group ours to pick if none was
 * listed). 0 or the failure. */
static int ch_agree(const struct dtls_endpoint *e, struct dtls_client_hello *ch, struct ch_pick *pk,
                    int *alert)
{
    /* DTLS versions count down: 0xfeff is 1.0, 0xfefd 1.2, 0xfefc 1.3 */
    if (!pk->versions_sent)
        ch->versions_ok = pk->version <= DTLS_V12;
    if (!ch->versions_ok) {
        *alert = DTLS_ALERT_PROTOCOL_VERSION;
        return DTLS_FAIL_VERSION;
    }
    if (!pk->null_comp) {
        *alert = DTLS_ALERT_ILLEGAL_PARAMETER;
        return DTLS_FAIL_DECODE;
    }
    if (!ch->groups_sent) /* RFC 8422 §4: the server picks */
        pk->group = group_offered(e->groups, CP_GROUP_SECP256R1) ? CP_GROUP_SECP256R1 : CP_GROUP_X25519;
    /* RFC 8422 §4: the curves listed bind the certificate too, and ours
     * is a P-256 key */
    if (!pk->suite || !pk->group || !ch->sig_ok || (ch->groups_sent && !ch->p256_ok)) {
        *alert = DTLS_ALERT_HANDSHAKE_FAILURE;
        return DTLS_FAIL_NO_SHARED_SUITE;
    }
    return 0;
}

int dtls_parse_client_hello(const struct dtls_endpoint *e, const uint8_t *b, size_t len,
                            struct dtls_client_hello *ch, int *alert)
{
    memset(ch, 0, sizeof(*ch));
    *alert = DTLS_ALERT_DECODE_ERROR;
    struct rd r = {b, len, false}, suites, comp;
    struct ch_pick pk = {0};
    int f = ch_fixed_fields(&r, ch, &pk, &suites, &comp, alert);
    if (f != 0)
        return f;
    while (comp.n) /* null compression listed */
        pk.null_comp |= u8(&comp) == 0;
    ch_cipher_suites(e, &suites, ch, &pk);
    f = ch_extensions(e, &r, ch, &pk, alert);
    if (f != 0)
        return f;
    if (r.bad)
        return DTLS_FAIL_DECODE;
    f = ch_agree(e, ch, &pk, alert);
    if (f != 0)
        return f;
    ch->suite_id = pk.suite;
    ch->group = pk.group;
    ch->srtp_profile = pk.srtp;
    *alert = -1;
    return 0;
}

/* ---- ServerHello (client) ---- */

int dtls_parse_server_hello(struct dtls_endpoint *e, const uint8_t *b, size_t len, int *alert)
{
    *alert = DTLS_ALERT_DECODE_ERROR;
    struct rd r = {b, len, false};
    unsigned version = u16(&r);
    const uint8_t *random = take(&r, 32);
    unsigned sid = u8(&r);
    if (sid > 32)
        return DTLS_FAIL_DECODE;
    take(&r, sid);
    unsigned suite = u16(&r), comp = u8(&r);
    if (r.bad)
        return DTLS_FAIL_DECODE;
    if (version != DTLS_V12) {
        *alert = DTLS_ALERT_PROTOCOL_VERSION;
        return DTLS_FAIL_VERSION;
    }
    if (!suite_offered(e->suites, suite) || comp != 0) {
        *alert = DTLS_ALERT_ILLEGAL_PARAMETER;
        return DTLS_FAIL_NO_SHARED_SUITE;
    }
    memcpy(e->server_random, random, 32);
    e->suite_id = (uint16_t)suite;
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
            unsigned bit = type == EXT_EXTENDED_MASTER_SECRET ? 0
                           : type == EXT_RENEGOTIATION_INFO   ? 1
                           : type == EXT_EC_POINT_FORMATS     ? 2
                           : type == EXT_USE_SRTP             ? 3
                                                              : 4;
            if (seen & SEEN(bit))
                return DTLS_FAIL_DECODE;
            seen |= SEEN(bit);
            switch (type) {
            case EXT_EXTENDED_MASTER_SECRET:
                if (xl != 0)
                    return DTLS_FAIL_DECODE;
                e->ems = true;
                break;
            case EXT_RENEGOTIATION_INFO:
                if (xl != 1 || u8(&x) != 0) {
                    *alert = DTLS_ALERT_HANDSHAKE_FAILURE;
                    return DTLS_FAIL_DECODE;
                }
                e->ri = true;
                break;
            case EXT_EC_POINT_FORMATS: {
                int f = ext_point_formats(&x, alert);
                if (f != 0)
                    return f;
                break;
            }
            case EXT_USE_SRTP: {
                unsigned pl = u16(&x), p = u16(&x), mki = u8(&x);
                take(&x, mki);
                if (x.bad || x.n || pl != 2)
                    return DTLS_FAIL_DECODE;
                if (!srtp_offered(e->srtp_offer, p)) {
                    *alert = DTLS_ALERT_ILLEGAL_PARAMETER;
                    return DTLS_FAIL_NO_SHARED_SUITE;
                }
                e->srtp_profile = (uint16_t)p;
                break;
            }
            default:
                /* RFC 5246 §7.4.1.4: nothing we did not ask for */
                *alert = DTLS_ALERT_UNSUPPORTED_EXTENSION;
                return DTLS_FAIL_UNSUPPORTED_EXT;
            }
        }
    }
    *alert = -1;
    return 0;
}

int dtls_parse_hello_verify(struct dtls_endpoint *e, const uint8_t *b, size_t len, int *alert)
{
    *alert = DTLS_ALERT_DECODE_ERROR;
    struct rd r = {b, len, false};
    unsigned version = u16(&r), cl = u8(&r);
    const uint8_t *cookie = take(&r, cl);
    if (r.bad || r.n || cl == 0)
        return DTLS_FAIL_DECODE;
    if (version >> 8 != 0xfe) {
        *alert = DTLS_ALERT_PROTOCOL_VERSION;
        return DTLS_FAIL_VERSION;
    }
    memcpy(e->cookie, cookie, cl);
    e->cookie_len = (uint8_t)cl;
    *alert = -1;
    return 0;
}

int dtls_parse_certificate(const uint8_t *b, size_t len, bool v13, const uint8_t **der, size_t *der_len, int *alert)
{
    *alert = DTLS_ALERT_DECODE_ERROR;
    struct rd r = {b, len, false};
    if (v13) /* RFC 8446 §4.4.2: certificate_request_context first */
        take(&r, u8(&r));
    uint32_t ll = u24(&r);
    if (r.bad || ll != r.n)
        return DTLS_FAIL_DECODE;
    if (ll == 0) {
        /* RFC 5246 §7.4.6, RFC 8446 §4.4.2.4: no certificate */
        *alert = v13 ? DTLS_ALERT_CERTIFICATE_REQUIRED : DTLS_ALERT_HANDSHAKE_FAILURE;
        return DTLS_FAIL_BAD_CERT;
    }
    *der = NULL;
    while (r.n) {
        uint32_t cl = u24(&r);
        const uint8_t *c = take(&r, cl);
        if (v13) /* each entry's extensions */
            take(&r, u16(&r));
        if (r.bad || cl == 0)
            return DTLS_FAIL_DECODE;
        if (!*der) {
            *der = c;
            *der_len = cl;
        }
    }
    *alert = -1;
    return 0;
}

int dtls_parse_ske(const uint8_t *b, size_t len, uint16_t *group, const uint8_t **pub, size_t *pub_len,
                   size_t *params_len, const uint8_t **sig, size_t *sig_len, unsigned *sig_alg)
{
    struct rd r = {b, len, false};
    unsigned ct = u8(&r);
    *group = (uint16_t)u16(&r);
    unsigned pl = u8(&r);
    *pub = take(&r, pl);
    *pub_len = pl;
    *params_len = len - r.n;
    *sig_alg = u16(&r);
    unsigned sl = u16(&r);
    *sig = take(&r, sl);
    *sig_len = sl;
    if (r.bad || r.n || pl == 0 || sl == 0)
        return -EINVAL;
    return ct == 3 ? 0 : -ENOTSUP;
}

int dtls_parse_cert_request(const uint8_t *b, size_t len, bool *ecdsa_ok)
{
    struct rd r = {b, len, false};
    unsigned tl = u8(&r);
    struct rd t = sub(&r, tl);
    unsigned al = u16(&r);
    struct rd a = sub(&r, al);
    unsigned cal = u16(&r);
    take(&r, cal);
    if (r.bad || r.n || tl == 0 || al % 2)
        return -EINVAL;
    bool type_ok = false, alg_ok = false;
    while (t.n)
        type_ok |= u8(&t) == CERT_TYPE_ECDSA_SIGN;
    while (a.n)
        alg_ok |= u16(&a) == SIG_ECDSA_SECP256R1_SHA256;
    *ecdsa_ok = type_ok && alg_ok;
    return 0;
}

int dtls_parse_cke(const uint8_t *b, size_t len, const uint8_t **pub, size_t *pub_len)
{
    struct rd r = {b, len, false};
    unsigned pl = u8(&r);
    *pub = take(&r, pl);
    *pub_len = pl;
    return r.bad || r.n || pl == 0 ? -EINVAL : 0;
}

int dtls_parse_cert_verify(const uint8_t *b, size_t len, unsigned *sig_alg, const uint8_t **sig, size_t *sig_len)
{
    struct rd r = {b, len, false};
    *sig_alg = u16(&r);
    unsigned sl = u16(&r);
    *sig = take(&r, sl);
    *sig_len = sl;
    return r.bad || r.n || sl == 0 ? -EINVAL : 0;
}

int dtls_parse_ticket(const uint8_t *b, size_t len)
{
    struct rd r = {b, len, false};
    take(&r, 4); /* lifetime hint */
    unsigned tl = u16(&r);
    take(&r, tl);
    return r.bad || r.n ? -EINVAL : 0;
}
