/* SPDX-License-Identifier: MIT */
#include "stun.h"

#include <errno.h>
#include <string.h>

#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>

#include "wire.h"

bool stun_is_stun(const uint8_t *buf, size_t len)
{
    return len >= STUN_HDR_LEN && buf[0] < 4 && wire_get32(buf + 4) == STUN_MAGIC;
}

uint32_t stun_crc32(const uint8_t *p, size_t n)
{
    /* bitwise: a few hundred bytes per check; no table, no global state */
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return crc ^ 0xffffffffu;
}

/* An XOR-encoded address value (RFC 8489 14.2): family 1 with 8 bytes or
 * family 2 with 20. Returns 0 or -EPROTO. */
static int get_xor_address(const uint8_t *v, uint16_t l, const uint8_t *tid, struct stun_addr *a)
{
    if (l < 4)
        return -EPROTO;
    uint8_t fam = v[1];
    if (!((fam == 1 && l == 8) || (fam == 2 && l == 20)))
        return -EPROTO;
    a->family = fam == 1 ? 4 : 6;
    a->port = (uint16_t)(wire_get16(v + 2) ^ (STUN_MAGIC >> 16));
    uint8_t key[16];
    wire_put32(key, STUN_MAGIC);
    memcpy(key + 4, tid, 12);
    memset(a->ip, 0, sizeof(a->ip)); /* an IPv4 address after an IPv6 one keeps none of its bytes */
    for (int i = 0; i < (fam == 1 ? 4 : 16); i++)
        a->ip[i] = v[4 + i] ^ key[i];
    return 0;
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->integrity_off = m->fingerprint_off = -1;
    if (!stun_is_stun(buf, len))
        return -EBADMSG;
    m->type = wire_get16(buf);
    m->length = wire_get16(buf + 2);
    if (m->length % 4 || (size_t)m->length + STUN_HDR_LEN != len)
        return -EBADMSG;
    m->tid = buf + 8;
    size_t off = STUN_HDR_LEN;
    while (off < len) {
        if (len - off < 4)
            return -EPROTO;
        uint16_t t = wire_get16(buf + off), l = wire_get16(buf + off + 2);
        size_t padded = ((size_t)l + 3) & ~(size_t)3;
        if (padded > len - off - 4)
            return -EPROTO;
        if (m->fingerprint_off >= 0)
            return -EPROTO; /* nothing may follow FINGERPRINT */
        const uint8_t *v = buf + off + 4;
        if (m->integrity_off >= 0 && t != STUN_ATTR_FINGERPRINT) {
            /* attributes after MESSAGE-INTEGRITY are ignored (RFC 8489 14.5) */
        } else {
            switch (t) {
            case STUN_ATTR_USERNAME:
                if (l > 513)
                    return -EPROTO;
                m->username = v;
                m->username_len = l;
                break;
            case STUN_ATTR_SOFTWARE:
                m->software = v;
                m->software_len = l;
                break;
            case STUN_ATTR_PRIORITY:
                if (l != 4)
                    return -EPROTO;
                m->has_priority = true;
                m->priority = wire_get32(v);
                break;
            case STUN_ATTR_USE_CANDIDATE:
                if (l != 0)
                    return -EPROTO;
                m->use_candidate = true;
                break;
            case STUN_ATTR_ICE_CONTROLLED:
            case STUN_ATTR_ICE_CONTROLLING:
                if (l != 8)
                    return -EPROTO;
                if (t == STUN_ATTR_ICE_CONTROLLED)
                    m->has_controlled = true;
                else
                    m->has_controlling = true;
                m->tiebreaker = (uint64_t)wire_get32(v) << 32 | wire_get32(v + 4);
                break;
            case STUN_ATTR_ERROR_CODE:
                if (l < 4 || (v[2] & 0x7) < 3 || (v[2] & 0x7) > 6 || v[3] > 99)
                    return -EPROTO;
                m->error_code = (uint16_t)((v[2] & 0x7) * 100 + v[3]);
                break;
            case STUN_ATTR_XOR_MAPPED_ADDRESS:
                if (get_xor_address(v, l, m->tid, &m->xor_mapped) < 0)
                    return -EPROTO;
                break;
            case STUN_ATTR_XOR_RELAYED_ADDRESS:
                if (get_xor_address(v, l, m->tid, &m->xor_relayed) < 0)
                    return -EPROTO;
                break;
            case STUN_ATTR_XOR_PEER_ADDRESS: {
                struct stun_addr a;
                if (get_xor_address(v, l, m->tid, &a) < 0)
                    return -EPROTO;
                if (!m->xor_peer.family) /* CreatePermission may carry several */
                    m->xor_peer = a;
                break;
            }
            case STUN_ATTR_LIFETIME:
                if (l != 4)
                    return -EPROTO;
                m->has_lifetime = true;
                m->lifetime = wire_get32(v);
                break;
            case STUN_ATTR_CHANNEL_NUMBER:
                if (l != 4)
                    return -EPROTO;
                m->channel = wire_get16(v);
                break;
            case STUN_ATTR_REALM:
            case STUN_ATTR_NONCE:
                if (l > 763) /* RFC 8489 14.9, 14.10: fewer than 128 characters */
                    return -EPROTO;
                if (t == STUN_ATTR_REALM) {
                    m->realm = v;
                    m->realm_len = l;
                } else {
                    m->nonce = v;
                    m->nonce_len = l;
                }
                break;
            case STUN_ATTR_DATA:
                m->has_data = true;
                m->data = v;
                m->data_len = l;
                break;
            case STUN_ATTR_REQUESTED_TRANSPORT:
                if (l != 4)
                    return -EPROTO;
                break;
            case STUN_ATTR_MESSAGE_INTEGRITY:
                if (l != 20)
                    return -EPROTO;
                m->integrity_off = (int32_t)off;
                break;
            case STUN_ATTR_FINGERPRINT:
                if (l != 4)
                    return -EPROTO;
                m->fingerprint_off = (int32_t)off;
                break;
            default:
                if (t < 0x8000)
                    m->unknown_required++;
            }
        }
        off += 4 + padded;
    }
    return 0;
}

int stun_long_term_key(const char *user, const uint8_t *realm, size_t realm_len, const char *pass,
                       uint8_t key[16])
{
    mbedtls_md5_context c;
    mbedtls_md5_init(&c);
    int rc = mbedtls_md5_starts_ret(&c);
    rc |= mbedtls_md5_update_ret(&c, (const uint8_t *)user, strlen(user));
    rc |= mbedtls_md5_update_ret(&c, (const uint8_t *)":", 1);
    rc |= mbedtls_md5_update_ret(&c, realm, realm_len);
    rc |= mbedtls_md5_update_ret(&c, (const uint8_t *)":", 1);
    rc |= mbedtls_md5_update_ret(&c, (const uint8_t *)pass, strlen(pass));
    rc |= mbedtls_md5_finish_ret(&c, key);
    mbedtls_md5_free(&c);
    return rc ? -EIO : 0;
}

/* HMAC-SHA1 (RFC 2104) over a || b, on mbedTLS's SHA-1 with stack contexts:
 * mbedtls_md_setup() would allocate on every message. */
static int hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen, uint8_t out[20])
{
    uint8_t k[64] = {0}, pad[64], inner[20];
    if (key_len > 64) {
        if (mbedtls_sha1_ret(key, key_len, k) != 0)
            return -EIO;
    } else {
        memcpy(k, key, key_len);
    }
    mbedtls_sha1_context c;
    mbedtls_sha1_init(&c);
    int rc = 0;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    rc |= mbedtls_sha1_starts_ret(&c);
    rc |= mbedtls_sha1_update_ret(&c, pad, 64);
    rc |= mbedtls_sha1_update_ret(&c, a, alen);
    if (blen)
        rc |= mbedtls_sha1_update_ret(&c, b, blen);
    rc |= mbedtls_sha1_finish_ret(&c, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    rc |= mbedtls_sha1_starts_ret(&c);
    rc |= mbedtls_sha1_update_ret(&c, pad, 64);
    rc |= mbedtls_sha1_update_ret(&c, inner, 20);
    rc |= mbedtls_sha1_finish_ret(&c, out);
    mbedtls_sha1_free(&c);
    return rc ? -EIO : 0;
}

/* HMAC over the message up to `mi_off` with the length field set as if the
 * message ended right after MESSAGE-INTEGRITY. */
static int integrity(const uint8_t *buf, size_t mi_off, const uint8_t *key, size_t key_len,
                     uint8_t out[20])
{
    uint8_t hdr[STUN_HDR_LEN];
    memcpy(hdr, buf, STUN_HDR_LEN);
    wire_put16(hdr + 2, (uint16_t)(mi_off + 24 - STUN_HDR_LEN));
    return hmac_sha1(key, key_len, hdr, STUN_HDR_LEN, buf + STUN_HDR_LEN, mi_off - STUN_HDR_LEN, out);
}

int stun_check_integrity(const uint8_t *buf, size_t len, const struct stun_msg *m,
                         const uint8_t *key, size_t key_len)
{
    if (m->integrity_off < 0 || (size_t)m->integrity_off + 24 > len)
        return -ENOENT;
    uint8_t mac[20];
    if (integrity(buf, (size_t)m->integrity_off, key, key_len, mac) < 0)
        return -EIO;
    uint8_t diff = 0;
    for (int i = 0; i < 20; i++)
        diff |= mac[i] ^ buf[m->integrity_off + 4 + i];
    return diff ? -EACCES : 0;
}

int stun_check_fingerprint(const uint8_t *buf, size_t len, const struct stun_msg *m)
{
    if (m->fingerprint_off < 0 || (size_t)m->fingerprint_off + 8 > len)
        return -ENOENT;
    /* the length field already covers FINGERPRINT: it is the last attribute */
    uint32_t want = stun_crc32(buf, (size_t)m->fingerprint_off) ^ 0x5354554eu;
    return wire_get32(buf + m->fingerprint_off + 4) == want ? 0 : -EACCES;
}

void stun_begin(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t type, const uint8_t tid[12])
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->pad = 0; /* as stun.h says: set it after stun_begin for other padding */
    w->err = cap < STUN_HDR_LEN;
    if (w->err)
        return;
    wire_put16(buf, type);
    wire_put16(buf + 2, 0);
    wire_put32(buf + 4, STUN_MAGIC);
    memcpy(buf + 8, tid, 12);
    w->len = STUN_HDR_LEN;
}

/* Reserves an attribute of `len` value bytes; returns its value pointer. */
static uint8_t *attr(struct stun_writer *w, uint16_t type, uint16_t len)
{
    size_t padded = ((size_t)len + 3) & ~(size_t)3;
    if (w->err || w->cap - w->len < 4 + padded) {
        w->err = true;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    wire_put16(p, type);
    wire_put16(p + 2, len);
    memset(p + 4 + len, w->pad, padded - len);
    w->len += 4 + padded;
    wire_put16(w->buf + 2, (uint16_t)(w->len - STUN_HDR_LEN));
    return p + 4;
}

void stun_put_bytes(struct stun_writer *w, uint16_t type, const void *v, uint16_t len)
{
    uint8_t *p = attr(w, type, len);
    if (p && len)
        memcpy(p, v, len);
}

void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v)
{
    uint8_t *p = attr(w, type, 4);
    if (p)
        wire_put32(p, v);
}

void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v)
{
    uint8_t *p = attr(w, type, 8);
    if (p) {
        wire_put32(p, (uint32_t)(v >> 32));
        wire_put32(p + 4, (uint32_t)v);
    }
}

void stun_put_flag(struct stun_writer *w, uint16_t type)
{
    attr(w, type, 0);
}

void stun_put_xor_address(struct stun_writer *w, const struct stun_addr *a)
{
    stun_put_xor_address_as(w, STUN_ATTR_XOR_MAPPED_ADDRESS, a);
}

void stun_put_xor_address_as(struct stun_writer *w, uint16_t type, const struct stun_addr *a)
{
    bool v4 = a->family == 4;
    uint8_t *p = attr(w, type, v4 ? 8 : 20);
    if (!p)
        return;
    p[0] = 0;
    p[1] = v4 ? 1 : 2;
    wire_put16(p + 2, (uint16_t)(a->port ^ (STUN_MAGIC >> 16)));
    uint8_t key[16];
    wire_put32(key, STUN_MAGIC);
    memcpy(key + 4, w->buf + 8, 12);
    for (int i = 0; i < (v4 ? 4 : 16); i++)
        p[4 + i] = a->ip[i] ^ key[i];
}

void stun_put_error(struct stun_writer *w, uint16_t code, const char *reason)
{
    size_t rl = strlen(reason);
    if (rl > 127)
        rl = 127;
    uint8_t *p = attr(w, STUN_ATTR_ERROR_CODE, (uint16_t)(4 + rl));
    if (!p)
        return;
    p[0] = p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    memcpy(p + 4, reason, rl);
}

void stun_put_integrity(struct stun_writer *w, const uint8_t *key, size_t key_len)
{
    size_t mi_off = w->len;
    uint8_t *p = attr(w, STUN_ATTR_MESSAGE_INTEGRITY, 20);
    if (p && integrity(w->buf, mi_off, key, key_len, p) < 0)
        w->err = true;
}

void stun_put_fingerprint(struct stun_writer *w)
{
    size_t off = w->len;
    uint8_t *p = attr(w, STUN_ATTR_FINGERPRINT, 4);
    if (p)
        wire_put32(p, stun_crc32(w->buf, off) ^ 0x5354554eu);
}

int stun_end(struct stun_writer *w)
{
    return w->err ? -ENOSPC : (int)w->len;
}
