/* SPDX-License-Identifier: MIT */
/*
 * Our SRTP/SRTCP (crypto/srtp_session.c) against the RFCs and against
 * libsrtp2, an implementation we did not write: the RFC 3711 B.3 key
 * derivation and B.2 AES-CM keystream reproduced, the RFC 6188 AES-256
 * PRF and the 12-byte-salt PRF of RFC 7714 §11 (values from `openssl enc
 * -aes-*-ctr`); the RFC 7714 §16 SRTP and §17 SRTCP vectors of
 * AEAD_AES_128_GCM and AEAD_AES_256_GCM, both ways, on every AES path the
 * CPU has. For all four profiles and every AES path, thousands of random
 * RTP packets (CSRCs, header extensions, sizes up to 1,200 bytes of
 * payload, lost packets) and random RTCP packets protected by ours and by
 * libsrtp2 (through crypto/media_srtp.h for _80 and AES-128-GCM, a policy
 * of our own for the others) are byte for byte equal, across a sequence
 * number wrap (ROC 0 -> 1), and what one protects the other's receiver
 * opens, delivered reordered and with duplicates, both receivers giving
 * the same result for every packet. Then replays, the window's edge,
 * refusals that leave the window alone, every bit of a packet changed,
 * every truncation, a wrong SSRC, no room for the tag, no heap use, and
 * the size of a session.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>
#include <srtp2/srtp.h>

#include "libsrtp_peer.h"
#include "media_srtp.h"
#include "srtp_session.h"
#include "srtp_session_internal.h"

#define BUF 1600

static const enum srtps_profile all_profiles[] = {SRTPS_AES128_CM_SHA1_80, SRTPS_AES128_CM_SHA1_32,
                                                  SRTPS_AEAD_AES_128_GCM, SRTPS_AEAD_AES_256_GCM};
#define N_PROFILES (sizeof(all_profiles) / sizeof(all_profiles[0]))

/* srtps_unprotect_rtp/_rtcp as the errno of the reason the session
 * counted: 0, -EBADMSG (malformed), -EALREADY (replays), -EACCES
 * (auth_failures) or -ENOENT (foreign_ssrc), checking that the engine
 * result agrees (ENGINE_IN_IGNORED for another SSRC only) and that a
 * refusal moved exactly one counter. */
static int unprotect_as_errno(struct srtps_session *s, bool rtcp, uint8_t *p, size_t *len)
{
    struct srtps_counters b = *srtps_counters(s);
    enum engine_input r = rtcp ? srtps_unprotect_rtcp(s, p, len) : srtps_unprotect_rtp(s, p, len);
    const struct srtps_counters *a = srtps_counters(s);
    uint64_t moved = (a->malformed - b.malformed) + (a->replays - b.replays) +
                     (a->auth_failures - b.auth_failures) + (a->foreign_ssrc - b.foreign_ssrc);
    if (r == ENGINE_IN_ACCEPTED) {
        cr_assert_eq(moved, 0);
        return 0;
    }
    cr_assert_eq(moved, 1, "a refusal counts one reason");
    cr_assert_eq(r, a->foreign_ssrc != b.foreign_ssrc ? ENGINE_IN_IGNORED : ENGINE_IN_MALFORMED);
    if (a->malformed != b.malformed)
        return -EBADMSG;
    if (a->replays != b.replays)
        return -EALREADY;
    if (a->auth_failures != b.auth_failures)
        return -EACCES;
    return -ENOENT;
}

static int unprotect_rtp(struct srtps_session *s, uint8_t *p, size_t *len)
{
    return unprotect_as_errno(s, false, p, len);
}

static int unprotect_rtcp(struct srtps_session *s, uint8_t *p, size_t *len)
{
    return unprotect_as_errno(s, true, p, len);
}

static bool is_aead(enum srtps_profile p)
{
    return p == SRTPS_AEAD_AES_128_GCM || p == SRTPS_AEAD_AES_256_GCM;
}

static size_t rtp_tag(enum srtps_profile p)
{
    return is_aead(p) ? 16 : p == SRTPS_AES128_CM_SHA1_32 ? 4 : 10;
}

static size_t rtcp_trailer(enum srtps_profile p)
{
    return is_aead(p) ? 20 : 14;
}

static void hex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (*h == ' ' || *h == '\n')
            h++;
        unsigned v;
        sscanf(h, "%2x", &v);
        h += 2;
        out[i] = (uint8_t)v;
    }
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill(uint64_t *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(r);
}

/* ---- libsrtp2 as the other implementation ---- */

struct lib {
    bool via_media; /* _80 and AES-128-GCM through media_srtp.h, the others on a policy of our own */
    struct media_srtp m;
    srtp_t tx, rx;
};

static void lib_global(void)
{
    static bool ready; /* libsrtp2 refuses a second srtp_init */
    if (!ready)
        cr_assert_eq(media_srtp_global_init(), 0);
    ready = true;
}

static void lib_init(struct lib *l, enum srtps_profile p, const uint8_t *local,
                     const uint8_t *remote)
{
    lib_global();
    memset(l, 0, sizeof(*l));
    if (p == SRTPS_AES128_CM_SHA1_80 || p == SRTPS_AEAD_AES_128_GCM) {
        l->via_media = true;
        cr_assert_eq(media_srtp_init(&l->m,
                                     p == SRTPS_AES128_CM_SHA1_80 ? MEDIA_AES128_CM_SHA1_80
                                                                  : MEDIA_AEAD_AES_128_GCM,
                                     local, remote),
                     0);
        return;
    }
    cr_assert_eq(libsrtp_session(&l->tx, p, local, true), srtp_err_status_ok);
    cr_assert_eq(libsrtp_session(&l->rx, p, remote, false), srtp_err_status_ok);
}

static void lib_free(struct lib *l)
{
    if (l->via_media) {
        media_srtp_free(&l->m);
        return;
    }
    srtp_dealloc(l->tx);
    srtp_dealloc(l->rx);
}

static int lib_status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
        return -EACCES;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return -EALREADY;
    default:
        return -EBADMSG;
    }
}

static int lib_op(struct lib *l, bool rtcp, bool protect, uint8_t *p, size_t *len)
{
    int n = (int)*len, rc;
    if (l->via_media) {
        if (protect)
            rc =
                rtcp ? media_protect_rtcp(&l->m, p, &n, BUF) : media_protect_rtp(&l->m, p, &n, BUF);
        else
            rc = rtcp ? media_unprotect_rtcp(&l->m, p, &n) : media_unprotect_rtp(&l->m, p, &n);
    } else if (protect) {
        rc = lib_status(rtcp ? srtp_protect_rtcp(l->tx, p, &n) : srtp_protect(l->tx, p, &n));
    } else {
        rc = lib_status(rtcp ? srtp_unprotect_rtcp(l->rx, p, &n) : srtp_unprotect(l->rx, p, &n));
    }
    *len = (size_t)n;
    return rc;
}

static int ours_op(struct srtps_session *s, bool rtcp, bool protect, uint8_t *p, size_t *len)
{
    if (protect)
        return rtcp ? srtps_protect_rtcp(s, p, len, BUF) : srtps_protect_rtp(s, p, len, BUF);
    return rtcp ? unprotect_rtcp(s, p, len) : unprotect_rtp(s, p, len);
}

/* ---- packets ---- */

/* A random RTP packet: P, X, M, CC, PT random, CSRCs, a header extension
 * of 0..6 words, 0..1,200 bytes of payload. */
static size_t gen_rtp(uint64_t *r, uint8_t *p, uint16_t seq, uint32_t ssrc)
{
    uint64_t v = rnd(r);
    unsigned cc = (v & 3) ? 0 : (unsigned)(v >> 2 & 15);
    bool x = v >> 6 & 1;
    p[0] = (uint8_t)(0x80 | (v >> 7 & 1) << 5 | x << 4 | cc);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    fill(r, p + 4, 4);
    p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8),
    p[11] = (uint8_t)ssrc;
    size_t n = 12;
    fill(r, p + n, 4 * cc);
    n += 4 * cc;
    if (x) {
        unsigned words = (unsigned)(rnd(r) % 7);
        p[n] = 0xbe, p[n + 1] = 0xde, p[n + 2] = 0, p[n + 3] = (uint8_t)words;
        fill(r, p + n + 4, 4 * words);
        n += 4 + 4 * words;
    }
    size_t payload = (size_t)(rnd(r) % 1201);
    fill(r, p + n, payload);
    return n + payload;
}

/* A random RTCP compound packet of 8..1,200 bytes from `ssrc`. */
static size_t gen_rtcp(uint64_t *r, uint8_t *p, uint32_t ssrc)
{
    size_t n = 8 + (size_t)(rnd(r) % 1193);
    fill(r, p, n);
    p[0] = (uint8_t)(0x80 | (p[0] & 0x1f));
    p[1] = (uint8_t)(200 + p[1] % 5);
    p[4] = (uint8_t)(ssrc >> 24), p[5] = (uint8_t)(ssrc >> 16), p[6] = (uint8_t)(ssrc >> 8),
    p[7] = (uint8_t)ssrc;
    return n;
}

/* The test's own reading of an RTP header length (0: does not fit). */
static size_t hdr_len(const uint8_t *p, size_t len)
{
    if (len < 12 || p[0] >> 6 != 2)
        return 0;
    size_t h = 12 + 4 * (size_t)(p[0] & 15);
    if (p[0] & 0x10) {
        if (h + 4 > len)
            return 0;
        h += 4 + 4 * (size_t)(p[h + 2] << 8 | p[h + 3]);
    }
    return h <= len ? h : 0;
}

/* ---- vectors ---- */

Test(srtp_session, rfc3711_b3_key_derivation)
{
    uint8_t mk[16], ms[14], want[94], got[94];
    hex("E1F97A0D3E018BE0D64FA32C06DE4139", mk, 16);
    hex("0EC675AD498AFEEBB6960B3AABE6", ms, 14);
    hex("C61E7A93744F39EE10734AFE3FF7A087", want, 16);
    cr_assert_eq(srtps_derive(mk, 16, ms, 14, 0, got, 16), 0);
    cr_assert_arr_eq(got, want, 16, "cipher key");
    hex("30CBBC08863D8C85D49DB34A9AE1", want, 14);
    srtps_derive(mk, 16, ms, 14, 2, got, 14);
    cr_assert_arr_eq(got, want, 14, "cipher salt");
    hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
        "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
        "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2",
        want, 94);
    srtps_derive(mk, 16, ms, 14, 1, got, 94);
    cr_assert_arr_eq(got, want, 94, "auth key (all 94 bytes of B.3)");
    cr_assert_eq(srtps_derive(mk, 24, ms, 14, 0, got, 16), -EINVAL, "AES-192 is no SRTP key");
    cr_assert_eq(srtps_derive(mk, 16, ms, 15, 0, got, 16), -EINVAL);
}

/* RFC 6188 §7.2: the AES-256 PRF (14-byte salt). */
Test(srtp_session, rfc6188_aes256_key_derivation)
{
    uint8_t mk[32], ms[14], want[32], got[32];
    hex("F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6", mk, 32);
    hex("3B04803DE51EE7C96423AB5B78D2", ms, 14);
    hex("5BA1064E30EC51613CAD926C5A28EF731EC7FB397F70A960653CAF06554CD8C4", want, 32);
    cr_assert_eq(srtps_derive(mk, 32, ms, 14, 0, got, 32), 0);
    cr_assert_arr_eq(got, want, 32, "cipher key");
    hex("FA31791685CA444A9E07C6C64E93", want, 14);
    srtps_derive(mk, 32, ms, 14, 2, got, 14);
    cr_assert_arr_eq(got, want, 14, "cipher salt");
    hex("FD9C32D39ED5FBB5A9DC96B30818454D1313DC05", want, 20);
    srtps_derive(mk, 32, ms, 14, 1, got, 20);
    cr_assert_arr_eq(got, want, 20, "auth key");
}

/* RFC 7714 §11: the AES-CM PRF with a 12-byte master salt, which fills the
 * first 12 bytes of the 14 (libsrtp2's reading; the end-to-end tests
 * below prove it byte for byte). Expected values from `openssl enc
 * -aes-128-ctr` / `-aes-256-ctr` on zeros with IV = salt || 00 00 with the
 * label XORed into byte 7, then 00 00. */
Test(srtp_session, rfc7714_12_byte_salt_key_derivation)
{
    uint8_t k128[16], k256[32], salt[12], want[32], got[32];
    hex("000102030405060708090a0b0c0d0e0f", k128, 16);
    hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k256, 32);
    hex("a0a1a2a3a4a5a6a7a8a9aaab", salt, 12);
    const struct {
        size_t key_len;
        uint8_t label;
        size_t n;
        const char *hex;
    } v[] = {
        {16, 0, 16, "077c6143cb221bc355ff23d5f984a16e"},
        {16, 2, 12, "9af3e95364ebac9c99c5a7c4"},
        {16, 3, 16, "615dcd9042600666f6fd4d9e4fe4519f"},
        {16, 5, 12, "fcca937b9112a500dac72269"},
        {32, 0, 32, "b7a435ce454463b760dc82c838468a115c699625af4b93a0f8220a2a6119c5d0"},
        {32, 2, 12, "944bd21c268a962cd09c674a"},
        {32, 3, 32, "3c90f52a0a13ff8a853397cadc245b9eac76b36edb4a6062bf624aa1174eebf2"},
        {32, 5, 12, "258c540cf38ddd40848ceaed"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        hex(v[i].hex, want, v[i].n);
        cr_assert_eq(srtps_derive(v[i].key_len == 16 ? k128 : k256, v[i].key_len, salt, 12,
                                  v[i].label, got, v[i].n),
                     0);
        cr_assert_arr_eq(got, want, v[i].n, "AES-%zu, label %u", 8 * v[i].key_len, v[i].label);
    }
}

Test(srtp_session, rfc3711_b2_aes_cm_keystream)
{
    static uint8_t ks[0xff02 * 16];
    uint8_t key[16], iv[16], want[16];
    hex("2B7E151628AED2A6ABF7158809CF4F3C", key, 16);
    hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv, 16);
    memset(ks, 0, sizeof(ks));
    cr_assert_eq(srtps_aes_cm_xor(key, iv, ks, sizeof(ks)), 0);
    const struct {
        unsigned block;
        const char *hex;
    } v[] = {
        {0, "E03EAD0935C95E80E166B16DD92B4EB4"},      {1, "D23513162B02D0F72A43A2FE4A5F97AB"},
        {2, "41E95B3BB0A2E8DD477901E4FCA894C0"},      {0xfeff, "EC8CDF7398607CB0F2D21675EA9EA1E4"},
        {0xff00, "362B7C3C6773516318A077D7FC5073AE"}, {0xff01, "6A2CC3787889374FBEB4C81B17BA6C44"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        hex(v[i].hex, want, 16);
        cr_assert_arr_eq(ks + 16 * (size_t)v[i].block, want, 16, "block %#x", v[i].block);
    }
    /* a partial last block is the prefix of the full one */
    uint8_t part[21] = {0};
    srtps_aes_cm_xor(key, iv, part, sizeof(part));
    cr_assert_arr_eq(part, ks, sizeof(part));
    cr_assert_eq(srtps_aes_cm_xor(key, iv, ks, ((size_t)1 << 20) + 1), -EINVAL);
    /* the block counter is 16 bits: from ff01 it wraps to 0000 without
     * carrying into byte 13 */
    uint8_t wrap[4 * 16] = {0};
    iv[14] = 0xff, iv[15] = 0xfe;
    srtps_aes_cm_xor(key, iv, wrap, sizeof(wrap));
    cr_assert_arr_eq(wrap + 32, ks, 32, "blocks 0 and 1 after the wrap");
    iv[15] = 0x01, iv[14] = 0xff;
    memset(wrap, 0, sizeof(wrap));
    srtps_aes_cm_xor(key, iv, wrap, 16);
    cr_assert_arr_eq(wrap, ks + 16 * 0xff01, 16, "starting mid-way");
}

/* ---- RFC 7714 §16 and §17 ---- */

/* The vectors give session keys: a session on any master key, then its
 * SRTP and SRTCP keys and salts of both directions replaced by the RFC's
 * (key 00 01 .. 0f or .. 1f, salt "Quid pro quo"). */
static void rfc7714_session(struct srtps_session *s, enum srtps_profile p, int impl)
{
    static const uint8_t zero[SRTPS_MASTER_MAX];
    uint8_t key[32], salt[12];
    size_t kl = p == SRTPS_AEAD_AES_256_GCM ? 32 : 16;
    hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key, kl);
    hex("517569642070726f2071756f", salt, 12);
    cr_assert_eq(srtps_init_impl(s, p, zero, zero, impl), 0);
    struct srtps_session_impl *si = srtps_impl(s);
    cr_assert_eq(aes_gcm_init(&si->tx_key, key, kl, impl), 0);
    cr_assert_eq(aes_gcm_init(&si->rx_key, key, kl, impl), 0);
    struct srtps_direction *d[2] = {&si->tx, &si->rx};
    for (int i = 0; i < 2; i++) {
        memcpy(d[i]->k.rtp_salt, salt, 12);
        memcpy(d[i]->k.rtcp_salt, salt, 12);
        memcpy(d[i]->k.rtcp_key, key, kl);
    }
}

#define RFC_RTP                                                                                    \
    "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 "  \
    "61727465 73207472 6573"
#define RFC_RTCP                                                                                   \
    "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef "  \
    "deadbeef deadbeef deadbeef"

static void rfc7714_rtp(enum srtps_profile p, const char *protected_hex)
{
    for (int impl = 0; impl < AES_IMPL_COUNT; impl++) {
        if (!aes_impl_supported(impl))
            continue;
        struct srtps_session s;
        rfc7714_session(&s, p, impl);
        uint8_t plain[38 + 12], want[38 + 12 + 16], pkt[BUF];
        hex(RFC_RTP, plain, sizeof(plain));
        hex(protected_hex, want, sizeof(want));
        memcpy(pkt, plain, sizeof(plain));
        size_t n = sizeof(plain);
        cr_assert_eq(srtps_protect_rtp(&s, pkt, &n, BUF), 0);
        cr_assert_eq(n, sizeof(want));
        cr_assert_arr_eq(pkt, want, n, "%s: SRTP protect differs from the RFC", aes_impl_name(impl));
        cr_assert_eq(unprotect_rtp(&s, pkt, &n), 0);
        cr_assert_eq(n, sizeof(plain));
        cr_assert_arr_eq(pkt, plain, n, "%s: SRTP unprotect", aes_impl_name(impl));
        n = sizeof(want);
        memcpy(pkt, want, n);
        cr_assert_eq(unprotect_rtp(&s, pkt, &n), -EALREADY);
    }
}

/* encrypted_hex: E = 1; tagged_hex: E = 0 (authenticated, not encrypted). */
static void rfc7714_rtcp(enum srtps_profile p, const char *encrypted_hex, const char *tagged_hex)
{
    for (int impl = 0; impl < AES_IMPL_COUNT; impl++) {
        if (!aes_impl_supported(impl))
            continue;
        struct srtps_session s;
        rfc7714_session(&s, p, impl);
        srtps_impl(&s)->tx.rtcp.top = 0x5d3; /* the next SRTCP index is the RFC's 0x5d4 */
        srtps_impl(&s)->tx.rtcp.seen = 1;
        uint8_t plain[52], want[72], tagged[72], pkt[BUF];
        hex(RFC_RTCP, plain, sizeof(plain));
        hex(encrypted_hex, want, sizeof(want));
        hex(tagged_hex, tagged, sizeof(tagged));
        memcpy(pkt, plain, sizeof(plain));
        size_t n = sizeof(plain);
        cr_assert_eq(srtps_protect_rtcp(&s, pkt, &n, BUF), 0);
        cr_assert_eq(n, sizeof(want));
        cr_assert_arr_eq(pkt, want, n, "%s: SRTCP protect differs from the RFC",
                         aes_impl_name(impl));
        cr_assert_eq(unprotect_rtcp(&s, pkt, &n), 0);
        cr_assert_eq(n, sizeof(plain));
        cr_assert_arr_eq(pkt, plain, n);
        /* E = 0: accepted as it is, once */
        struct srtps_session r;
        rfc7714_session(&r, p, impl);
        for (int round = 0; round < 2; round++) {
            memcpy(pkt, tagged, sizeof(tagged));
            n = sizeof(tagged);
            cr_assert_eq(unprotect_rtcp(&r, pkt, &n), round ? -EALREADY : 0);
            if (!round) {
                cr_assert_eq(n, sizeof(plain));
                cr_assert_arr_eq(pkt, plain, n, "E = 0: the packet as sent");
            }
        }
        /* E = 0 with a changed byte: refused, and the packet put back */
        rfc7714_session(&r, p, impl);
        memcpy(pkt, tagged, sizeof(tagged));
        pkt[20] ^= 1;
        n = sizeof(tagged);
        cr_assert_eq(unprotect_rtcp(&r, pkt, &n), -EACCES);
        pkt[20] ^= 1;
        cr_assert_arr_eq(pkt, tagged, sizeof(tagged), "a refused E = 0 packet was changed");
        cr_assert_eq(unprotect_rtcp(&r, pkt, &n), 0);
    }
}

/* §16.1: SRTP AEAD_AES_128_GCM; §17.1 and §17.3: SRTCP, with and without
 * encryption. */
Test(srtp_session, rfc7714_aead_aes_128_gcm_vectors)
{
    rfc7714_rtp(SRTPS_AEAD_AES_128_GCM,
                "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 "
                "0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce");
    rfc7714_rtcp(SRTPS_AEAD_AES_128_GCM,
                 "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d "
                 "c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 "
                 "45d9eade 800005d4",
                 "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 "
                 "deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 "
                 "125f62b3 000005d4");
}

/* §16.2: SRTP AEAD_AES_256_GCM; §17.2 and §17.4: SRTCP. */
Test(srtp_session, rfc7714_aead_aes_256_gcm_vectors)
{
    rfc7714_rtp(SRTPS_AEAD_AES_256_GCM,
                "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 "
                "9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13");
    rfc7714_rtcp(SRTPS_AEAD_AES_256_GCM,
                 "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 "
                 "a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c "
                 "b26ac3be 800005d4",
                 "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 "
                 "deadbeef deadbeef deadbeef deadbeef deadbeef 91db4afb feee5a97 8fab4393 "
                 "ed2615fe 000005d4");
}

/* ---- keying material and layout ---- */

Test(srtp_session, dtls_srtp_keying_split_matches_media_srtp)
{
    uint8_t km[SRTPS_KEYING_MAX], a[SRTPS_MASTER_MAX + 1], b[SRTPS_MASTER_MAX];
    uint8_t ma[SRTPS_MASTER_MAX], mb[SRTPS_MASTER_MAX];
    for (int i = 0; i < SRTPS_KEYING_MAX; i++)
        km[i] = (uint8_t)(i * 3 + 1);
    const struct {
        enum srtps_profile p;
        size_t key, salt, keying;
    } v[] = {{SRTPS_AES128_CM_SHA1_80, 16, 14, 60},
             {SRTPS_AES128_CM_SHA1_32, 16, 14, 60},
             {SRTPS_AEAD_AES_128_GCM, 16, 12, 56},
             {SRTPS_AEAD_AES_256_GCM, 32, 12, 88}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t kl = v[i].key, sl = v[i].salt;
        cr_assert_eq(srtps_master_len(v[i].p), kl + sl);
        cr_assert_eq(srtps_keying_len(v[i].p), v[i].keying);
        for (int client = 0; client < 2; client++) {
            memset(a, 0xee, sizeof(a));
            cr_assert_eq(srtps_split_keying(v[i].p, km, client, a, b), 0);
            /* client_write_key, server_write_key, client_write_salt, server_write_salt */
            cr_assert_arr_eq(a, km + (client ? 0 : kl), kl);
            cr_assert_arr_eq(a + kl, km + 2 * kl + (client ? 0 : sl), sl);
            cr_assert_arr_eq(b, km + (client ? kl : 0), kl);
            cr_assert_arr_eq(b + kl, km + 2 * kl + (client ? sl : 0), sl);
            cr_assert_eq(a[kl + sl], 0xee, "nothing written beyond the master key");
            if (v[i].p == SRTPS_AES128_CM_SHA1_80 || v[i].p == SRTPS_AEAD_AES_128_GCM) {
                media_srtp_split_keying(v[i].p == SRTPS_AES128_CM_SHA1_80 ? MEDIA_AES128_CM_SHA1_80
                                                                          : MEDIA_AEAD_AES_128_GCM,
                                        km, client, ma, mb);
                cr_assert_arr_eq(a, ma, kl + sl);
                cr_assert_arr_eq(b, mb, kl + sl);
            }
        }
    }
    cr_assert_eq(srtps_split_keying((enum srtps_profile)3, km, true, a, b), -EINVAL);
    cr_assert_eq(srtps_master_len((enum srtps_profile)0), 0);
    cr_assert_eq(srtps_keying_len((enum srtps_profile)9), 0);
}

Test(srtp_session, fixed_size_for_every_profile)
{
    printf("sizeof(struct srtps_session) = %zu bytes\n", sizeof(struct srtps_session));
    cr_assert_eq(sizeof(struct srtps_session), SRTPS_SESSION_SIZE);
    cr_assert_eq(sizeof(struct srtps_session), 2176, "34 cache lines");
    cr_assert_eq(alignof(struct srtps_session), 64);
    /* a copy is a working session: no pointers inside */
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    memset(a, 1, sizeof(a));
    memset(b, 2, sizeof(b));
    for (size_t i = 0; i < N_PROFILES; i++) {
        static struct srtps_session tx, rx, copy;
        srtps_init(&tx, all_profiles[i], a, b);
        srtps_init(&rx, all_profiles[i], b, a);
        memcpy(&copy, &tx, sizeof(tx));
        memset(&tx, 0xa5, sizeof(tx));
        uint8_t p[BUF] = {0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
        size_t n = 100;
        cr_assert_eq(srtps_protect_rtp(&copy, p, &n, BUF), 0);
        cr_assert_eq(unprotect_rtp(&rx, p, &n), 0);
        cr_assert_eq(n, 100);
    }
}

/* ---- against libsrtp2 ---- */

#define QCAP 16

struct pkt {
    uint8_t plain[BUF], prot[BUF];
    size_t plen, len;
};

struct flow {
    bool rtcp;
    struct pkt q[QCAP], hist[256]; /* pending delivery; delivered (for duplicates) */
    int nq, nhist;
    int delivered, dups;
};

/* Delivers the pending packets in a random order to both receivers, each
 * the other implementation's output, with a duplicate of an earlier packet
 * now and then; both must agree, and open to the plaintext. */
static void deliver(uint64_t *r, struct flow *f, struct srtps_session *ours, struct lib *lib,
                    bool flush)
{
    if (f->nq < QCAP && !flush)
        return;
    for (int i = f->nq - 1; i > 0; i--) {
        int j = (int)(rnd(r) % (uint64_t)(i + 1));
        struct pkt t = f->q[i];
        f->q[i] = f->q[j];
        f->q[j] = t;
    }
    for (int i = 0; i < f->nq; i++) {
        struct pkt *p = &f->q[i];
        uint8_t a[BUF], b[BUF];
        size_t la = p->len, lb = p->len;
        memcpy(a, p->prot, p->len);
        memcpy(b, p->prot, p->len);
        cr_assert_eq(ours_op(ours, f->rtcp, false, a, &la), 0, "ours refused %s packet %d",
                     f->rtcp ? "RTCP" : "RTP", f->delivered);
        cr_assert_eq(lib_op(lib, f->rtcp, false, b, &lb), 0, "libsrtp2 refused ours");
        cr_assert_eq(la, p->plen);
        cr_assert_eq(lb, p->plen);
        cr_assert_arr_eq(a, p->plain, p->plen);
        cr_assert_arr_eq(b, p->plain, p->plen);
        f->hist[f->nhist++ % 256] = *p;
        f->delivered++;
        if (rnd(r) % 8 == 0) { /* a duplicate: just now, or up to 255 packets back */
            int back = (int)(rnd(r) % (uint64_t)(f->nhist < 256 ? f->nhist : 256));
            struct pkt *d = &f->hist[(f->nhist - 1 - back) % 256];
            la = lb = d->len;
            memcpy(a, d->prot, d->len);
            memcpy(b, d->prot, d->len);
            int ro = ours_op(ours, f->rtcp, false, a, &la),
                rl = lib_op(lib, f->rtcp, false, b, &lb);
            cr_assert_eq(ro, -EALREADY, "a duplicate %d back", back);
            cr_assert_eq(rl, -EALREADY);
            cr_assert_arr_eq(a, d->prot, d->len, "a refused packet was changed");
            f->dups++;
        }
    }
    f->nq = 0;
}

static void against_libsrtp_on(enum srtps_profile prof, uint64_t seed, int impl)
{
    uint64_t r = seed;
    uint8_t k1[SRTPS_MASTER_MAX], k2[SRTPS_MASTER_MAX];
    fill(&r, k1, sizeof(k1));
    fill(&r, k2, sizeof(k2));
    /* senders keyed with k1 (ours and libsrtp2), receivers of k1 (ours and libsrtp2) */
    static struct srtps_session otx, orx;
    struct lib ltx, lrx;
    cr_assert_eq(srtps_init_impl(&otx, prof, k1, k2, impl), 0);
    cr_assert_eq(srtps_init_impl(&orx, prof, k2, k1, impl), 0);
    lib_init(&ltx, prof, k1, k2);
    lib_init(&lrx, prof, k2, k1);
    static struct flow frtp, frtcp;
    memset(&frtp, 0, sizeof(frtp));
    memset(&frtcp, 0, sizeof(frtcp));
    frtcp.rtcp = true;
    const uint32_t ssrc = (uint32_t)rnd(&r);
    uint16_t seq = 65536 - 1200;
    int sent = 0, lost = 0, wrapped_at = -1;
    const size_t tag = rtp_tag(prof);
    for (int i = 0; i < 3000; i++) {
        for (int rtcp = 0; rtcp < 2; rtcp++) {
            if (rtcp && i % 10)
                continue;
            struct flow *f = rtcp ? &frtcp : &frtp;
            struct pkt *p = &f->q[f->nq];
            p->plen = rtcp ? gen_rtcp(&r, p->plain, ssrc) : gen_rtp(&r, p->plain, seq, ssrc);
            uint8_t mine[BUF], theirs[BUF];
            size_t lm = p->plen, lt = p->plen;
            memcpy(mine, p->plain, p->plen);
            memcpy(theirs, p->plain, p->plen);
            cr_assert_eq(ours_op(&otx, rtcp, true, mine, &lm), 0);
            cr_assert_eq(lib_op(&ltx, rtcp, true, theirs, &lt), 0);
            cr_assert_eq(lm, p->plen + (rtcp ? rtcp_trailer(prof) : tag));
            cr_assert_eq(lm, lt, "%s packet %d: lengths differ", rtcp ? "RTCP" : "RTP", i);
            cr_assert_arr_eq(mine, theirs, lm, "%s packet %d (seq %u) differs from libsrtp2",
                             rtcp ? "RTCP" : "RTP", i, seq);
            if (rnd(&r) % 20 == 0) { /* lost on the way */
                lost++;
                continue;
            }
            /* each receiver gets the other implementation's output */
            memcpy(p->prot, theirs, lt); /* = mine */
            p->len = lt;
            f->nq++;
            deliver(&r, f, &orx, &lrx, false);
        }
        sent++;
        uint16_t step = rnd(&r) % 10 == 0 ? 3 : 1; /* some sequence numbers never sent */
        if ((uint16_t)(seq + step) < seq)
            wrapped_at = i;
        seq = (uint16_t)(seq + step);
    }
    deliver(&r, &frtp, &orx, &lrx, true);
    deliver(&r, &frtcp, &orx, &lrx, true);
    cr_assert_gt(wrapped_at, 100, "the sequence number wrapped during the test");
    cr_assert_eq(srtps_cimpl(&otx)->tx.rtp.top >> 16, 1, "sender ROC 1 after the wrap");
    cr_assert_eq(srtps_cimpl(&orx)->rx.rtp.top >> 16, 1, "receiver ROC 1 after the wrap");
    cr_assert_eq(srtps_counters(&otx)->protected_rtp, 3000);
    cr_assert_eq(srtps_counters(&otx)->protected_rtcp, 300);
    cr_assert_eq(srtps_counters(&orx)->unprotected_rtp, (uint64_t)frtp.delivered);
    cr_assert_eq(srtps_counters(&orx)->unprotected_rtcp, (uint64_t)frtcp.delivered);
    cr_assert_eq(srtps_counters(&orx)->replays, (uint64_t)(frtp.dups + frtcp.dups));
    const struct srtps_counters *k = srtps_counters(&orx);
    cr_assert_eq(k->auth_failures + k->malformed + k->foreign_ssrc, 0);
    cr_assert_gt(frtp.dups, 100);
    cr_assert_eq(frtp.delivered + frtcp.delivered + lost, 3300);
    cr_assert_eq(sent, 3000);
    lib_free(&ltx);
    lib_free(&lrx);
}

/* On every AES path the CPU has (the keystream and GCM code differ per
 * path: vaes-avx512, aesni, portable). */
static void against_libsrtp(enum srtps_profile prof, uint64_t seed)
{
    int runs = 0;
    for (int impl = AES_IMPL_COUNT - 1; impl >= 0; impl--)
        if (aes_impl_supported(impl)) {
            against_libsrtp_on(prof, seed + (uint64_t)impl, impl);
            printf("profile %d: byte for byte libsrtp2's on %s\n", prof, aes_impl_name(impl));
            runs++;
        }
    cr_assert_geq(runs, 1);
}

Test(srtp_session, byte_exact_with_libsrtp2_aes128_cm_sha1_80)
{
    against_libsrtp(SRTPS_AES128_CM_SHA1_80, 80);
}

Test(srtp_session, byte_exact_with_libsrtp2_aes128_cm_sha1_32)
{
    against_libsrtp(SRTPS_AES128_CM_SHA1_32, 32);
}

Test(srtp_session, byte_exact_with_libsrtp2_aead_aes_128_gcm)
{
    against_libsrtp(SRTPS_AEAD_AES_128_GCM, 128);
}

Test(srtp_session, byte_exact_with_libsrtp2_aead_aes_256_gcm)
{
    against_libsrtp(SRTPS_AEAD_AES_256_GCM, 256);
}

/* ---- refusals ---- */

static void keys(uint8_t a[SRTPS_MASTER_MAX], uint8_t b[SRTPS_MASTER_MAX])
{
    for (int i = 0; i < SRTPS_MASTER_MAX; i++)
        a[i] = (uint8_t)(7 * i + 1), b[i] = (uint8_t)(0x40 + 3 * i);
}

static size_t fixed_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t payload)
{
    /* two CSRCs and a two-word header extension */
    static const uint8_t h[] = {0x92, 0x6f, 0,    0,    0, 1, 0xe2, 0x40, 0,    0,    0,
                                0,    1,    2,    3,    4, 5, 6,    7,    8,    0xbe, 0xde,
                                0,    2,    0x10, 0xaa, 0, 0, 0x21, 0xbb, 0xcc, 0};
    memcpy(p, h, sizeof(h));
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8),
    p[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload; i++)
        p[sizeof(h) + i] = (uint8_t)(i * 13 + seq);
    return sizeof(h) + payload;
}

static void replay_window(enum srtps_profile prof)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    static struct srtps_session tx, rx;
    srtps_init(&tx, prof, a, b);
    srtps_init(&rx, prof, b, a);
    static uint8_t prot[200][BUF];
    size_t len[200];
    for (int i = 0; i < 200; i++) {
        len[i] = fixed_rtp(prot[i], (uint16_t)(1000 + i), 0x1234, 60);
        cr_assert_eq(srtps_protect_rtp(&tx, prot[i], &len[i], BUF), 0);
    }
    uint8_t p[BUF];
    size_t n;
#define DELIVER(i) (memcpy(p, prot[i], len[i]), n = len[i], unprotect_rtp(&rx, p, &n))
    for (int i = 0; i <= 100; i++)
        if (i != 36 && i != 37 && i != 50)
            cr_assert_eq(DELIVER(i), 0, "seq %d", 1000 + i);
    cr_assert_eq(DELIVER(100), -EALREADY, "the newest again");
    cr_assert_eq(DELIVER(5), -EALREADY, "an old one again");
    cr_assert_eq(DELIVER(37), 0, "63 behind the newest, never seen");
    cr_assert_eq(DELIVER(36), -EALREADY, "64 behind: too old");
    cr_assert_eq(srtps_counters(&rx)->replays, 3);
    /* a forged packet far ahead fails and does not move the window */
    memcpy(p, prot[190], len[190]);
    n = len[190];
    p[n - 1] ^= 0x40;
    cr_assert_eq(unprotect_rtp(&rx, p, &n), -EACCES);
    cr_assert_eq(n, len[190]);
    cr_assert_eq(DELIVER(50), 0, "50 behind the newest still accepted");
    cr_assert_eq(DELIVER(190), 0, "the genuine one afterwards");
    cr_assert_eq(DELIVER(120), -EALREADY, "70 behind now");
    cr_assert_eq(DELIVER(130), 0, "60 behind");
    cr_assert_eq(srtps_counters(&rx)->auth_failures, 1);
    cr_assert_eq(srtps_counters(&rx)->replays, 4);
    cr_assert_eq(srtps_counters(&rx)->unprotected_rtp, 102);
#undef DELIVER
    /* the sender refuses to use an index twice */
    n = fixed_rtp(p, 1100, 0x1234, 60);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), -EALREADY);
    uint8_t want[BUF];
    cr_assert_eq(fixed_rtp(want, 1100, 0x1234, 60), n);
    cr_assert_arr_eq(p, want, n, "a refused protect wrote");
    /* SRTCP: index replay and the window's edge */
    static uint8_t rtcp[70][64];
    size_t rl[70], tr = rtcp_trailer(prof);
    for (int i = 0; i < 70; i++) {
        memset(rtcp[i], i, 64);
        rtcp[i][0] = 0x81, rtcp[i][1] = 201, rtcp[i][4] = 0, rtcp[i][5] = 0, rtcp[i][6] = 0x12,
        rtcp[i][7] = 0x34;
        rl[i] = 40;
        cr_assert_eq(srtps_protect_rtcp(&tx, rtcp[i], &rl[i], 64), 0);
        cr_assert_eq(rl[i], 40 + tr);
        size_t at = is_aead(prof) ? 40 + 16 : 40; /* E || index: after the tag, or before it */
        cr_assert_eq(rtcp[i][at + 3], i + 1, "SRTCP index %d", i + 1);
        cr_assert_eq(rtcp[i][at], 0x80, "E bit");
    }
#define DELIVER_RTCP(i) (memcpy(p, rtcp[i], rl[i]), n = rl[i], unprotect_rtcp(&rx, p, &n))
    for (int i = 1; i < 70; i++)
        cr_assert_eq(DELIVER_RTCP(i), 0);
    cr_assert_eq(DELIVER_RTCP(69), -EALREADY);
    cr_assert_eq(DELIVER_RTCP(0), -EALREADY, "index 1 is 69 behind");
    cr_assert_eq(srtps_counters(&rx)->replays, 6);
    cr_assert_eq(srtps_counters(&rx)->unprotected_rtcp, 69);
#undef DELIVER_RTCP
}

Test(srtp_session, replay_window_sha1_80)
{
    replay_window(SRTPS_AES128_CM_SHA1_80);
}

Test(srtp_session, replay_window_sha1_32)
{
    replay_window(SRTPS_AES128_CM_SHA1_32);
}

Test(srtp_session, replay_window_aead_aes_128_gcm)
{
    replay_window(SRTPS_AEAD_AES_128_GCM);
}

Test(srtp_session, replay_window_aead_aes_256_gcm)
{
    replay_window(SRTPS_AEAD_AES_256_GCM);
}

/* Every bit of a protected packet changed, one at a time, on a receiver
 * that has its SSRC fixed and nothing received yet: an authentication
 * failure, except where the header stops parsing (malformed) and in the
 * SSRC (another stream); the genuine packet is accepted afterwards. A
 * refusal changes nothing but, on an AEAD authentication failure, zeroes
 * the encrypted part. */
static void every_bit(enum srtps_profile prof, bool rtcp)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    struct srtps_session tx, rx;
    srtps_init(&tx, prof, a, b);
    srtps_init(&rx, prof, b, a);
    cr_assert_eq(srtps_set_ssrc(&rx, false, 0x1234), 0);
    uint8_t pkt[BUF], plain[BUF], p[BUF], before[BUF];
    size_t len, plen;
    if (rtcp) {
        plen = 48;
        for (size_t i = 0; i < plen; i++)
            pkt[i] = (uint8_t)(i * 5);
        pkt[0] = 0x81, pkt[1] = 200, pkt[4] = 0, pkt[5] = 0, pkt[6] = 0x12, pkt[7] = 0x34;
    } else {
        plen = fixed_rtp(pkt, 4242, 0x1234, 90);
    }
    memcpy(plain, pkt, plen);
    len = plen;
    cr_assert_eq(
        rtcp ? srtps_protect_rtcp(&tx, pkt, &len, BUF) : srtps_protect_rtp(&tx, pkt, &len, BUF), 0);
    size_t tag = len - plen;
    int counts[3] = {0, 0, 0};
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(p, pkt, len);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memcpy(before, p, len);
        size_t n = len;
        int want;
        size_t byte = bit / 8;
        size_t h = rtcp ? 8 : hdr_len(p, len - tag);
        bool header_ok = rtcp ? p[0] >> 6 == 2 : h != 0;
        if (!header_ok)
            want = -EBADMSG, counts[0]++;
        else if (byte >= (rtcp ? 4u : 8u) && byte < (rtcp ? 8u : 12u))
            want = -ENOENT, counts[1]++;
        else
            want = -EACCES, counts[2]++;
        int rc = rtcp ? unprotect_rtcp(&rx, p, &n) : unprotect_rtp(&rx, p, &n);
        cr_assert_eq(rc, want, "bit %zu (byte %zu): %d, expected %d", bit, byte, rc, want);
        cr_assert_eq(n, len);
        /* the encrypted part: [h, len - tag), when E is set for SRTCP */
        bool e = !rtcp || (before[len - 4] & 0x80);
        for (size_t i = 0; i < len; i++) {
            bool zeroed = is_aead(prof) && rc == -EACCES && e && i >= h && i < len - tag;
            cr_assert_eq(p[i], zeroed ? 0 : before[i], "bit %zu: byte %zu after the refusal", bit,
                         i);
        }
    }
    cr_assert_eq(srtps_counters(&rx)->malformed, (uint64_t)counts[0]);
    cr_assert_eq(srtps_counters(&rx)->foreign_ssrc, (uint64_t)counts[1]);
    cr_assert_eq(srtps_counters(&rx)->auth_failures, (uint64_t)counts[2]);
    cr_assert_eq(counts[1], 32);
    cr_assert_geq(counts[0], 2, "the version bits");
    cr_assert_gt(counts[2], 8 * (int)(len - 40), "payload and tag bits");
    size_t n = len;
    memcpy(p, pkt, len);
    cr_assert_eq(rtcp ? unprotect_rtcp(&rx, p, &n) : unprotect_rtp(&rx, p, &n), 0);
    cr_assert_eq(n, plen);
    cr_assert_arr_eq(p, plain, plen);
}

Test(srtp_session, every_changed_bit_refused_rtp_80)
{
    every_bit(SRTPS_AES128_CM_SHA1_80, false);
}

Test(srtp_session, every_changed_bit_refused_rtp_32)
{
    every_bit(SRTPS_AES128_CM_SHA1_32, false);
}

Test(srtp_session, every_changed_bit_refused_rtp_aead)
{
    every_bit(SRTPS_AEAD_AES_128_GCM, false);
    every_bit(SRTPS_AEAD_AES_256_GCM, false);
}

Test(srtp_session, every_changed_bit_refused_rtcp)
{
    for (size_t i = 0; i < N_PROFILES; i++)
        every_bit(all_profiles[i], true);
}

/* Every truncation of a protected packet is refused: malformed while the
 * header and the tag do not fit, an authentication failure after. */
Test(srtp_session, every_truncation_refused)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    for (size_t pi = 0; pi < N_PROFILES; pi++) {
        enum srtps_profile prof = all_profiles[pi];
        struct srtps_session tx, rx;
        srtps_init(&tx, prof, a, b);
        srtps_init(&rx, prof, b, a);
        uint8_t pkt[BUF], p[BUF];
        size_t len = fixed_rtp(pkt, 9, 0x1234, 40), hdr = 32, tag = rtp_tag(prof);
        cr_assert_eq(srtps_protect_rtp(&tx, pkt, &len, BUF), 0);
        for (size_t n = 0; n < len; n++) {
            size_t m = n;
            memcpy(p, pkt, n);
            int want = n < hdr + tag ? -EBADMSG : -EACCES;
            cr_assert_eq(unprotect_rtp(&rx, p, &m), want, "RTP cut to %zu of %zu", n, len);
            cr_assert_eq(m, n);
        }
        cr_assert_eq(srtps_counters(&rx)->malformed, hdr + tag);
        cr_assert_eq(srtps_counters(&rx)->auth_failures, len - hdr - tag);
        uint8_t rtcp[64] = {0x80, 201, 0, 1, 0, 0, 0x12, 0x34};
        size_t rl = 8, tr = rtcp_trailer(prof);
        cr_assert_eq(srtps_protect_rtcp(&tx, rtcp, &rl, sizeof(rtcp)), 0, "an RTCP header alone");
        cr_assert_eq(rl, 8 + tr);
        for (size_t n = 0; n < rl; n++) {
            size_t m = n;
            memcpy(p, rtcp, n);
            cr_assert_eq(unprotect_rtcp(&rx, p, &m), -EBADMSG, "RTCP cut to %zu", n);
        }
        memcpy(p, rtcp, rl);
        cr_assert_eq(unprotect_rtcp(&rx, p, &rl), 0);
        cr_assert_eq(rl, 8);
        cr_assert_eq(srtps_counters(&rx)->malformed, hdr + tag + 8 + tr);
        cr_assert_eq(srtps_counters(&rx)->unprotected_rtcp, 1);
    }
}

Test(srtp_session, malformed_headers_refused)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    for (size_t pi = 0; pi < N_PROFILES; pi++) {
        struct srtps_session s;
        srtps_init(&s, all_profiles[pi], a, b);
        uint8_t p[BUF];
        size_t n = fixed_rtp(p, 1, 1, 0); /* 32 bytes of header, no payload */
        p[0] = 0x52;                      /* version 1 */
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, BUF), -EBADMSG);
        p[0] = 0x9f; /* 15 CSRCs: 72 bytes of header in 32 */
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, BUF), -EBADMSG);
        p[0] = 0x92;
        p[23] = 3; /* the extension claims 3 words, 2 are there */
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, BUF), -EBADMSG);
        p[23] = 2;
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, BUF), 0, "a header and no payload");
        cr_assert_eq(n, 32 + rtp_tag(all_profiles[pi]));
        uint8_t rtcp[32] = {0x40, 200};
        size_t rl = 8;
        cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, sizeof(rtcp)), -EBADMSG, "RTCP version 1");
        rl = 7;
        rtcp[0] = 0x80;
        cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, sizeof(rtcp)), -EBADMSG, "7 bytes");
    }
    struct srtps_session s;
    const int unknown[] = {0, 3, 4, 5, 6, 9};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        cr_assert_eq(srtps_init(&s, (enum srtps_profile)unknown[i], a, b), -EINVAL, "profile %d",
                     unknown[i]);
    cr_assert_eq(srtps_init_impl(&s, SRTPS_AEAD_AES_128_GCM, a, b, AES_IMPL_COUNT), -EINVAL);
    cr_assert_eq(srtps_init_impl(&s, SRTPS_AEAD_AES_128_GCM, a, b, -2), -EINVAL);
}

Test(srtp_session, no_room_for_the_trailer)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    for (size_t pi = 0; pi < N_PROFILES; pi++) {
        enum srtps_profile prof = all_profiles[pi];
        struct srtps_session s;
        srtps_init(&s, prof, a, b);
        uint8_t p[BUF], want[BUF];
        size_t n = fixed_rtp(p, 5, 1, 100), tag = rtp_tag(prof), tr = rtcp_trailer(prof);
        cr_assert_leq(tag, SRTPS_RTP_MAX_TRAILER);
        cr_assert_leq(tr, SRTPS_RTCP_MAX_TRAILER);
        memcpy(want, p, n);
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, n + tag - 1), -ENOSPC);
        cr_assert_eq(n, 132);
        cr_assert_arr_eq(p, want, n);
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, n + tag), 0);
        uint8_t rtcp[64] = {0x80, 201, 0, 1, 0, 0, 0, 1};
        size_t rl = 8;
        cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, 8 + tr - 1), -ENOSPC);
        cr_assert_eq(rl, 8);
        cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, 8 + tr), 0);
        cr_assert_eq(srtps_counters(&s)->protected_rtp, 1);
        cr_assert_eq(srtps_counters(&s)->protected_rtcp, 1);
    }
}

static void one_ssrc_each_way(enum srtps_profile prof)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    struct srtps_session tx, tx2, rx;
    srtps_init(&tx, prof, a, b);
    srtps_init(&tx2, prof, a, b); /* the same keys, another SSRC */
    srtps_init(&rx, prof, b, a);
    uint8_t p[BUF], q[BUF];
    size_t n = fixed_rtp(p, 10, 0xaaaa, 50), m = fixed_rtp(q, 11, 0xbbbb, 50);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), 0);
    cr_assert_eq(srtps_protect_rtp(&tx2, q, &m, BUF), 0);
    /* an unauthenticated packet does not teach the receiver its SSRC */
    uint8_t f[BUF];
    size_t fl = m;
    memcpy(f, q, m);
    f[40] ^= 1;
    cr_assert_eq(unprotect_rtp(&rx, f, &fl), -EACCES);
    cr_assert_eq(unprotect_rtp(&rx, p, &n), 0, "the first authenticated packet");
    cr_assert_eq(srtps_cimpl(&rx)->rx.ssrc, 0xaaaa);
    size_t m0 = m;
    cr_assert_eq(unprotect_rtp(&rx, q, &m), -ENOENT, "another SSRC, genuine");
    cr_assert_eq(m, m0);
    cr_assert_eq(srtps_counters(&rx)->foreign_ssrc, 1);
    cr_assert_eq(srtps_set_ssrc(&rx, false, 0xbbbb), -EBUSY);
    /* outbound: the SSRC of the first packet protected */
    n = fixed_rtp(p, 12, 0xcccc, 50);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), -ENOENT);
    uint8_t rtcp[64] = {0x80, 201, 0, 1, 0, 0, 0xcc, 0xcc};
    size_t rl = 8;
    cr_assert_eq(srtps_protect_rtcp(&tx, rtcp, &rl, sizeof(rtcp)), -ENOENT,
                 "RTCP from another SSRC");
    rtcp[6] = rtcp[7] = 0xaa;
    cr_assert_eq(srtps_protect_rtcp(&tx, rtcp, &rl, sizeof(rtcp)), 0);
    cr_assert_eq(unprotect_rtcp(&rx, rtcp, &rl), 0);
    /* RTCP of another SSRC on the receiver */
    uint8_t rtcp2[64] = {0x80, 201, 0, 1, 0, 0, 0xbb, 0xbb};
    rl = 8;
    cr_assert_eq(srtps_protect_rtcp(&tx2, rtcp2, &rl, sizeof(rtcp2)), 0);
    cr_assert_eq(unprotect_rtcp(&rx, rtcp2, &rl), -ENOENT);
    cr_assert_eq(srtps_counters(&rx)->foreign_ssrc, 2);
    /* fixed before the first packet */
    struct srtps_session rx2;
    srtps_init(&rx2, prof, b, a);
    cr_assert_eq(srtps_set_ssrc(&rx2, false, 0xbbbb), 0);
    cr_assert_eq(srtps_set_ssrc(&rx2, false, 0xbbbb), -EBUSY);
    n = fixed_rtp(p, 13, 0xaaaa, 50);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), 0);
    cr_assert_eq(unprotect_rtp(&rx2, p, &n), -ENOENT);
    struct srtps_session tx3;
    srtps_init(&tx3, prof, a, b);
    cr_assert_eq(srtps_set_ssrc(&tx3, true, 0xdddd), 0);
    n = fixed_rtp(p, 13, 0xaaaa, 50);
    cr_assert_eq(srtps_protect_rtp(&tx3, p, &n, BUF), -ENOENT);
}

Test(srtp_session, one_ssrc_each_way)
{
    for (size_t pi = 0; pi < N_PROFILES; pi++)
        one_ssrc_each_way(all_profiles[pi]);
}

/* Keyed the wrong way round (both ends sending with the same keys), or
 * with another profile, nothing opens. */
Test(srtp_session, wrong_keys_and_profile_refused)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    for (size_t pi = 0; pi < N_PROFILES; pi++) {
        enum srtps_profile prof = all_profiles[pi];
        struct srtps_session tx, wrong;
        srtps_init(&tx, prof, a, b);
        srtps_init(&wrong, prof, a, b);
        uint8_t p[BUF], q[BUF];
        size_t n = fixed_rtp(p, 1, 1, 80);
        cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), 0);
        memcpy(q, p, n);
        cr_assert_eq(unprotect_rtp(&wrong, q, &n), -EACCES);
        for (size_t oi = 0; oi < N_PROFILES; oi++) {
            if (oi == pi)
                continue;
            struct srtps_session other;
            srtps_init(&other, all_profiles[oi], b, a);
            size_t m = n;
            memcpy(q, p, n);
            int rc = unprotect_rtp(&other, q, &m);
            cr_assert(rc == -EACCES || rc == -EBADMSG, "profile %d opened by %d: %d", prof,
                      all_profiles[oi], rc);
        }
    }
}

Test(srtp_session, no_heap_and_clear)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX], p[BUF];
    keys(a, b);
    static struct srtps_session x, y;
    for (size_t pi = 0; pi < N_PROFILES; pi++) {
        enum srtps_profile prof = all_profiles[pi];
        int bad = 0;
        srtps_init(&x, prof, a, b); /* anything a library sets up once, before counting */
        struct mallinfo2 m0 = mallinfo2();
        srtps_init(&x, prof, a, b);
        srtps_init(&y, prof, b, a);
        for (int i = 0; i < 1000; i++) {
            size_t n = fixed_rtp(p, (uint16_t)i, 7, (size_t)i % 1200);
            bad += srtps_protect_rtp(&x, p, &n, BUF) != 0;
            bad += unprotect_rtp(&y, p, &n) != 0;
            n = 40;
            memset(p, 0, n);
            p[0] = 0x80, p[7] = 7;
            bad += srtps_protect_rtcp(&x, p, &n, BUF) != 0;
            bad += unprotect_rtcp(&y, p, &n) != 0;
        }
        struct mallinfo2 m1 = mallinfo2();
        cr_assert_eq(bad, 0);
        cr_assert_eq(m1.uordblks, m0.uordblks, "heap in use changed by %zd bytes",
                     (ssize_t)(m1.uordblks - m0.uordblks));
        cr_assert_eq(srtps_counters(&y)->unprotected_rtp, 1000);
        srtps_clear(&y);
        srtps_clear(&y);
        static const struct srtps_direction zero;
        static const struct aes_gcm_key zero_key;
        cr_assert_eq(memcmp(&srtps_cimpl(&y)->rx, &zero, sizeof(zero)), 0, "keys erased");
        cr_assert_eq(memcmp(&srtps_cimpl(&y)->tx, &zero, sizeof(zero)), 0, "keys erased");
        cr_assert_eq(memcmp(&srtps_cimpl(&y)->rx_key, &zero_key, sizeof(zero_key)), 0, "keys erased");
        cr_assert_eq(memcmp(&srtps_cimpl(&y)->tx_key, &zero_key, sizeof(zero_key)), 0, "keys erased");
        cr_assert_eq(srtps_counters(&y)->unprotected_rtcp, 1000, "counters kept");
    }
}

/* An SRTCP packet with E = 0 (sent unencrypted, RFC 3711 §3.4), built
 * here from the B.3-checked PRF (label 4) and mbedTLS's own HMAC, is
 * accepted and left as it is; with E set it would have been decrypted.
 * (The AEAD profiles: the RFC 7714 §17.3/§17.4 tests above.) */
Test(srtp_session, unencrypted_srtcp_accepted_as_is)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    struct srtps_session rx;
    srtps_init(&rx, SRTPS_AES128_CM_SHA1_80, b, a);
    uint8_t ka[20], p[64], want[64];
    cr_assert_eq(srtps_derive(a, 16, a + 16, 14, 4, ka, sizeof(ka)), 0);
    for (int i = 0; i < 40; i++)
        p[i] = (uint8_t)(i * 11);
    p[0] = 0x81, p[1] = 201, p[4] = 0, p[5] = 0, p[6] = 0x12, p[7] = 0x34;
    memcpy(want, p, 40);
    p[40] = 0, p[41] = 0, p[42] = 0, p[43] = 9; /* E = 0, index 9 */
    uint8_t mac[20];
    cr_assert_eq(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), ka, 20, p, 44, mac),
                 0);
    memcpy(p + 44, mac, 10);
    size_t n = 54;
    cr_assert_eq(unprotect_rtcp(&rx, p, &n), 0);
    cr_assert_eq(n, 40);
    cr_assert_arr_eq(p, want, 40, "E = 0: not decrypted");
    cr_assert_eq(srtps_cimpl(&rx)->rx.rtcp.top, 9);
    /* E set, on an index not seen yet, with that tag: E is authenticated */
    p[40] = 0x80, p[43] = 10;
    memcpy(p + 44, mac, 10);
    n = 54;
    cr_assert_eq(unprotect_rtcp(&rx, p, &n), -EACCES);
}

/* The HMAC-SHA1 tag of an SRTP packet, for every length from 0 to 300
 * bytes of payload (every position of the SHA-1 padding), is mbedTLS's
 * HMAC over packet || ROC with the PRF's auth key (label 1). */
Test(srtp_session, hmac_sha1_matches_mbedtls_at_every_length)
{
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX];
    keys(a, b);
    uint8_t ka[20];
    cr_assert_eq(srtps_derive(a, 16, a + 16, 14, 1, ka, sizeof(ka)), 0);
    struct srtps_session tx;
    srtps_init(&tx, SRTPS_AES128_CM_SHA1_80, a, b);
    for (size_t payload = 0; payload <= 300; payload++) {
        uint8_t p[BUF], m[BUF + 4], mac[20];
        size_t n = fixed_rtp(p, (uint16_t)(payload + 1), 0x77, payload);
        cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), 0);
        memcpy(m, p, n - 10);
        memset(m + n - 10, 0, 4); /* ROC 0 */
        cr_assert_eq(
            mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), ka, 20, m, n - 10 + 4, mac),
            0);
        cr_assert_arr_eq(p + n - 10, mac, 10, "payload %zu", payload);
    }
}
