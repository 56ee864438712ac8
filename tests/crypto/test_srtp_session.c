/* SPDX-License-Identifier: MIT */
/*
 * Our SRTP/SRTCP (crypto/srtp_session.c) against the RFC and against
 * libsrtp2, an implementation we did not write: the RFC 3711 B.3 key
 * derivation and B.2 AES-CM keystream reproduced; for both profiles,
 * thousands of random RTP packets (CSRCs, header extensions, sizes up to
 * 1,200 bytes of payload, lost packets) and random RTCP packets protected
 * by ours and by libsrtp2 (through crypto/media_srtp.h for _80, its own
 * policy for _32) are byte for byte equal, across a sequence number wrap
 * (ROC 0 -> 1), and what one protects the other's receiver opens, delivered
 * reordered and with duplicates, both receivers giving the same result for
 * every packet. Then replays, the window's edge, refusals that leave the
 * window alone, every bit of a packet changed, every truncation, a wrong
 * SSRC, no room for the tag, no heap use, and the size of a session.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>
#include <srtp2/srtp.h>

#include "media_srtp.h"
#include "srtp_session.h"

#define BUF 1600

static void hex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
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
    bool via_media; /* _80 through media_srtp.h, _32 on a libsrtp2 policy of our own */
    struct media_srtp m;
    srtp_t tx, rx;
};

static void lib_session(srtp_t *s, enum srtps_profile p, const uint8_t *key, bool outbound)
{
    srtp_policy_t pol;
    memset(&pol, 0, sizeof(pol));
    if (p == SRTPS_AES128_CM_SHA1_32)
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
    else
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp); /* RFC 5764 4.1.2 */
    pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    pol.key = (unsigned char *)key;
    pol.window_size = 128;
    cr_assert_eq(srtp_create(s, &pol), srtp_err_status_ok);
}

static void lib_init(struct lib *l, enum srtps_profile p, const uint8_t *local,
                     const uint8_t *remote)
{
    static bool ready; /* libsrtp2 refuses a second srtp_init */
    if (!ready)
        cr_assert_eq(media_srtp_global_init(), 0);
    ready = true;
    memset(l, 0, sizeof(*l));
    if (p == SRTPS_AES128_CM_SHA1_80) {
        l->via_media = true;
        cr_assert_eq(media_srtp_init(&l->m, MEDIA_AES128_CM_SHA1_80, local, remote), 0);
        return;
    }
    lib_session(&l->tx, p, local, true);
    lib_session(&l->rx, p, remote, false);
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
    return rtcp ? srtps_unprotect_rtcp(s, p, len) : srtps_unprotect_rtp(s, p, len);
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
    srtps_derive(mk, ms, 0, got, 16);
    cr_assert_arr_eq(got, want, 16, "cipher key");
    hex("30CBBC08863D8C85D49DB34A9AE1", want, 14);
    srtps_derive(mk, ms, 2, got, 14);
    cr_assert_arr_eq(got, want, 14, "cipher salt");
    hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
        "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
        "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2",
        want, 94);
    srtps_derive(mk, ms, 1, got, 94);
    cr_assert_arr_eq(got, want, 94, "auth key (all 94 bytes of B.3)");
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
}

Test(srtp_session, dtls_srtp_keying_split_matches_media_srtp)
{
    uint8_t km[60], a[30], b[30], ma[30], mb[30];
    for (int i = 0; i < 60; i++)
        km[i] = (uint8_t)(i * 3 + 1);
    for (int client = 0; client < 2; client++) {
        srtps_split_keying(km, client, a, b);
        media_srtp_split_keying(MEDIA_AES128_CM_SHA1_80, km, client, ma, mb);
        cr_assert_arr_eq(a, ma, 30);
        cr_assert_arr_eq(b, mb, 30);
        /* client_write_key at 0, server's at 16, client salt at 32, server's at 46 */
        cr_assert_eq(a[0], km[client ? 0 : 16]);
        cr_assert_eq(a[16], km[client ? 32 : 46]);
        cr_assert_eq(b[29], km[client ? 59 : 45]);
    }
}

Test(srtp_session, fits_in_768_bytes)
{
    printf("sizeof(struct srtps_session) = %zu bytes\n", sizeof(struct srtps_session));
    cr_assert_leq(sizeof(struct srtps_session), 768);
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

static void against_libsrtp(enum srtps_profile prof, uint64_t seed)
{
    uint64_t r = seed;
    uint8_t k1[30], k2[30];
    fill(&r, k1, 30);
    fill(&r, k2, 30);
    /* senders keyed with k1 (ours and libsrtp2), receivers of k1 (ours and libsrtp2) */
    static struct srtps_session otx, orx;
    struct lib ltx, lrx;
    cr_assert_eq(srtps_init(&otx, prof, k1, k2), 0);
    cr_assert_eq(srtps_init(&orx, prof, k2, k1), 0);
    lib_init(&ltx, prof, k1, k2);
    lib_init(&lrx, prof, k2, k1);
    static struct flow frtp, frtcp;
    memset(&frtp, 0, sizeof(frtp));
    memset(&frtcp, 0, sizeof(frtcp));
    frtcp.rtcp = true;
    const uint32_t ssrc = (uint32_t)rnd(&r);
    uint16_t seq = 65536 - 1200;
    int sent = 0, lost = 0, wrapped_at = -1;
    const size_t tag = prof == SRTPS_AES128_CM_SHA1_80 ? 10 : 4;
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
            cr_assert_eq(lm, p->plen + (rtcp ? 14 : tag));
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
    cr_assert_eq(otx.tx.rtp.top >> 16, 1, "sender ROC 1 after the wrap");
    cr_assert_eq(orx.rx.rtp.top >> 16, 1, "receiver ROC 1 after the wrap");
    cr_assert_eq(otx.c.protected_rtp, 3000);
    cr_assert_eq(otx.c.protected_rtcp, 300);
    cr_assert_eq(orx.c.unprotected_rtp, (uint64_t)frtp.delivered);
    cr_assert_eq(orx.c.unprotected_rtcp, (uint64_t)frtcp.delivered);
    cr_assert_eq(orx.c.replays, (uint64_t)(frtp.dups + frtcp.dups));
    cr_assert_eq(orx.c.auth_failures + orx.c.malformed + orx.c.foreign_ssrc, 0);
    cr_assert_gt(frtp.dups, 100);
    cr_assert_eq(frtp.delivered + frtcp.delivered + lost, 3300);
    cr_assert_eq(sent, 3000);
    lib_free(&ltx);
    lib_free(&lrx);
}

Test(srtp_session, byte_exact_with_libsrtp2_aes128_cm_sha1_80)
{
    against_libsrtp(SRTPS_AES128_CM_SHA1_80, 80);
}

Test(srtp_session, byte_exact_with_libsrtp2_aes128_cm_sha1_32)
{
    against_libsrtp(SRTPS_AES128_CM_SHA1_32, 32);
}

/* ---- refusals ---- */

static void keys(uint8_t a[30], uint8_t b[30])
{
    for (int i = 0; i < 30; i++)
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
    uint8_t a[30], b[30];
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
#define DELIVER(i) (memcpy(p, prot[i], len[i]), n = len[i], srtps_unprotect_rtp(&rx, p, &n))
    for (int i = 0; i <= 100; i++)
        if (i != 36 && i != 37 && i != 50)
            cr_assert_eq(DELIVER(i), 0, "seq %d", 1000 + i);
    cr_assert_eq(DELIVER(100), -EALREADY, "the newest again");
    cr_assert_eq(DELIVER(5), -EALREADY, "an old one again");
    cr_assert_eq(DELIVER(37), 0, "63 behind the newest, never seen");
    cr_assert_eq(DELIVER(36), -EALREADY, "64 behind: too old");
    cr_assert_eq(rx.c.replays, 3);
    /* a forged packet far ahead fails and does not move the window */
    memcpy(p, prot[190], len[190]);
    n = len[190];
    p[n - 1] ^= 0x40;
    cr_assert_eq(srtps_unprotect_rtp(&rx, p, &n), -EACCES);
    cr_assert_eq(n, len[190]);
    cr_assert_eq(DELIVER(50), 0, "50 behind the newest still accepted");
    cr_assert_eq(DELIVER(190), 0, "the genuine one afterwards");
    cr_assert_eq(DELIVER(120), -EALREADY, "70 behind now");
    cr_assert_eq(DELIVER(130), 0, "60 behind");
    cr_assert_eq(rx.c.auth_failures, 1);
    cr_assert_eq(rx.c.replays, 4);
    cr_assert_eq(rx.c.unprotected_rtp, 102);
#undef DELIVER
    /* the sender refuses to use an index twice */
    n = fixed_rtp(p, 1100, 0x1234, 60);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), -EALREADY);
    uint8_t want[BUF];
    cr_assert_eq(fixed_rtp(want, 1100, 0x1234, 60), n);
    cr_assert_arr_eq(p, want, n, "a refused protect wrote");
    /* SRTCP: index replay and the window's edge */
    static uint8_t rtcp[70][64];
    size_t rl[70];
    for (int i = 0; i < 70; i++) {
        memset(rtcp[i], i, 64);
        rtcp[i][0] = 0x81, rtcp[i][1] = 201, rtcp[i][4] = 0, rtcp[i][5] = 0, rtcp[i][6] = 0x12,
        rtcp[i][7] = 0x34;
        rl[i] = 40;
        cr_assert_eq(srtps_protect_rtcp(&tx, rtcp[i], &rl[i], 64), 0);
        cr_assert_eq(rtcp[i][43], i + 1, "SRTCP index %d", i + 1);
        cr_assert_eq(rtcp[i][40], 0x80, "E bit");
    }
#define DELIVER_RTCP(i) (memcpy(p, rtcp[i], rl[i]), n = rl[i], srtps_unprotect_rtcp(&rx, p, &n))
    for (int i = 1; i < 70; i++)
        cr_assert_eq(DELIVER_RTCP(i), 0);
    cr_assert_eq(DELIVER_RTCP(69), -EALREADY);
    cr_assert_eq(DELIVER_RTCP(0), -EALREADY, "index 1 is 69 behind");
    cr_assert_eq(rx.c.replays, 6);
    cr_assert_eq(rx.c.unprotected_rtcp, 69);
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

/* Every bit of a protected packet changed, one at a time, on a receiver
 * that has its SSRC fixed and nothing received yet: an authentication
 * failure, except where the header stops parsing (malformed) and in the
 * SSRC (another stream); the genuine packet is accepted afterwards. */
static void every_bit(enum srtps_profile prof, bool rtcp)
{
    uint8_t a[30], b[30];
    keys(a, b);
    struct srtps_session tx, rx;
    srtps_init(&tx, prof, a, b);
    srtps_init(&rx, prof, b, a);
    cr_assert_eq(srtps_set_ssrc(&rx, false, 0x1234), 0);
    uint8_t pkt[BUF], plain[BUF], p[BUF];
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
        size_t n = len;
        int want;
        size_t byte = bit / 8;
        bool header_ok = rtcp ? p[0] >> 6 == 2 : hdr_len(p, len - tag) != 0;
        if (!header_ok)
            want = -EBADMSG, counts[0]++;
        else if (byte >= (rtcp ? 4u : 8u) && byte < (rtcp ? 8u : 12u))
            want = -ENOENT, counts[1]++;
        else
            want = -EACCES, counts[2]++;
        int rc = rtcp ? srtps_unprotect_rtcp(&rx, p, &n) : srtps_unprotect_rtp(&rx, p, &n);
        cr_assert_eq(rc, want, "bit %zu (byte %zu): %d, expected %d", bit, byte, rc, want);
        cr_assert_eq(n, len);
    }
    cr_assert_eq(rx.c.malformed, (uint64_t)counts[0]);
    cr_assert_eq(rx.c.foreign_ssrc, (uint64_t)counts[1]);
    cr_assert_eq(rx.c.auth_failures, (uint64_t)counts[2]);
    cr_assert_eq(counts[1], 32);
    cr_assert_geq(counts[0], 2, "the version bits");
    cr_assert_gt(counts[2], 8 * (int)(len - 40), "payload and tag bits");
    size_t n = len;
    memcpy(p, pkt, len);
    cr_assert_eq(rtcp ? srtps_unprotect_rtcp(&rx, p, &n) : srtps_unprotect_rtp(&rx, p, &n), 0);
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

Test(srtp_session, every_changed_bit_refused_rtcp)
{
    every_bit(SRTPS_AES128_CM_SHA1_80, true);
    every_bit(SRTPS_AES128_CM_SHA1_32, true);
}

/* Every truncation of a protected packet is refused: malformed while the
 * header and the tag do not fit, an authentication failure after. */
Test(srtp_session, every_truncation_refused)
{
    uint8_t a[30], b[30];
    keys(a, b);
    for (int prof = 1; prof <= 2; prof++) {
        struct srtps_session tx, rx;
        srtps_init(&tx, (enum srtps_profile)prof, a, b);
        srtps_init(&rx, (enum srtps_profile)prof, b, a);
        uint8_t pkt[BUF], p[BUF];
        size_t len = fixed_rtp(pkt, 9, 0x1234, 40), hdr = 32, tag = prof == 1 ? 10 : 4;
        cr_assert_eq(srtps_protect_rtp(&tx, pkt, &len, BUF), 0);
        for (size_t n = 0; n < len; n++) {
            size_t m = n;
            memcpy(p, pkt, n);
            int want = n < hdr + tag ? -EBADMSG : -EACCES;
            cr_assert_eq(srtps_unprotect_rtp(&rx, p, &m), want, "RTP cut to %zu of %zu", n, len);
            cr_assert_eq(m, n);
        }
        cr_assert_eq(rx.c.malformed, hdr + tag);
        cr_assert_eq(rx.c.auth_failures, len - hdr - tag);
        uint8_t rtcp[64] = {0x80, 201, 0, 1, 0, 0, 0x12, 0x34};
        size_t rl = 8;
        cr_assert_eq(srtps_protect_rtcp(&tx, rtcp, &rl, sizeof(rtcp)), 0, "an RTCP header alone");
        cr_assert_eq(rl, 22);
        for (size_t n = 0; n < rl; n++) {
            size_t m = n;
            memcpy(p, rtcp, n);
            cr_assert_eq(srtps_unprotect_rtcp(&rx, p, &m), -EBADMSG, "RTCP cut to %zu", n);
        }
        memcpy(p, rtcp, rl);
        cr_assert_eq(srtps_unprotect_rtcp(&rx, p, &rl), 0);
        cr_assert_eq(rl, 8);
        cr_assert_eq(rx.c.malformed, hdr + tag + 22);
        cr_assert_eq(rx.c.unprotected_rtcp, 1);
    }
}

Test(srtp_session, malformed_headers_refused)
{
    uint8_t a[30], b[30];
    keys(a, b);
    struct srtps_session s;
    srtps_init(&s, SRTPS_AES128_CM_SHA1_80, a, b);
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
    cr_assert_eq(n, 42);
    uint8_t rtcp[32] = {0x40, 200};
    size_t rl = 8;
    cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, sizeof(rtcp)), -EBADMSG, "RTCP version 1");
    rl = 7;
    rtcp[0] = 0x80;
    cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, sizeof(rtcp)), -EBADMSG, "7 bytes");
    cr_assert_eq(srtps_init(&s, (enum srtps_profile)7, a, b), -EINVAL);
}

Test(srtp_session, no_room_for_the_trailer)
{
    uint8_t a[30], b[30];
    keys(a, b);
    for (int prof = 1; prof <= 2; prof++) {
        struct srtps_session s;
        srtps_init(&s, (enum srtps_profile)prof, a, b);
        uint8_t p[BUF], want[BUF];
        size_t n = fixed_rtp(p, 5, 1, 100), tag = prof == 1 ? 10 : 4;
        memcpy(want, p, n);
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, n + tag - 1), -ENOSPC);
        cr_assert_eq(n, 132);
        cr_assert_arr_eq(p, want, n);
        cr_assert_eq(srtps_protect_rtp(&s, p, &n, n + tag), 0);
        uint8_t rtcp[64] = {0x80, 201, 0, 1, 0, 0, 0, 1};
        size_t rl = 8;
        cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, 21), -ENOSPC);
        cr_assert_eq(rl, 8);
        cr_assert_eq(srtps_protect_rtcp(&s, rtcp, &rl, 22), 0);
        cr_assert_eq(s.c.protected_rtp, 1);
        cr_assert_eq(s.c.protected_rtcp, 1);
    }
}

Test(srtp_session, one_ssrc_each_way)
{
    uint8_t a[30], b[30];
    keys(a, b);
    struct srtps_session tx, tx2, rx;
    srtps_init(&tx, SRTPS_AES128_CM_SHA1_80, a, b);
    srtps_init(&tx2, SRTPS_AES128_CM_SHA1_80, a, b); /* the same keys, another SSRC */
    srtps_init(&rx, SRTPS_AES128_CM_SHA1_80, b, a);
    uint8_t p[BUF], q[BUF];
    size_t n = fixed_rtp(p, 10, 0xaaaa, 50), m = fixed_rtp(q, 11, 0xbbbb, 50);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), 0);
    cr_assert_eq(srtps_protect_rtp(&tx2, q, &m, BUF), 0);
    /* an unauthenticated packet does not teach the receiver its SSRC */
    uint8_t f[BUF];
    size_t fl = m;
    memcpy(f, q, m);
    f[40] ^= 1;
    cr_assert_eq(srtps_unprotect_rtp(&rx, f, &fl), -EACCES);
    cr_assert_eq(srtps_unprotect_rtp(&rx, p, &n), 0, "the first authenticated packet");
    cr_assert_eq(rx.rx.ssrc, 0xaaaa);
    size_t m0 = m;
    cr_assert_eq(srtps_unprotect_rtp(&rx, q, &m), -ENOENT, "another SSRC, genuine");
    cr_assert_eq(m, m0);
    cr_assert_eq(rx.c.foreign_ssrc, 1);
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
    cr_assert_eq(srtps_unprotect_rtcp(&rx, rtcp, &rl), 0);
    /* RTCP of another SSRC on the receiver */
    uint8_t rtcp2[64] = {0x80, 201, 0, 1, 0, 0, 0xbb, 0xbb};
    rl = 8;
    cr_assert_eq(srtps_protect_rtcp(&tx2, rtcp2, &rl, sizeof(rtcp2)), 0);
    cr_assert_eq(srtps_unprotect_rtcp(&rx, rtcp2, &rl), -ENOENT);
    cr_assert_eq(rx.c.foreign_ssrc, 2);
    /* fixed before the first packet */
    struct srtps_session rx2;
    srtps_init(&rx2, SRTPS_AES128_CM_SHA1_80, b, a);
    cr_assert_eq(srtps_set_ssrc(&rx2, false, 0xbbbb), 0);
    cr_assert_eq(srtps_set_ssrc(&rx2, false, 0xbbbb), -EBUSY);
    n = fixed_rtp(p, 13, 0xaaaa, 50);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), 0);
    cr_assert_eq(srtps_unprotect_rtp(&rx2, p, &n), -ENOENT);
    struct srtps_session tx3;
    srtps_init(&tx3, SRTPS_AES128_CM_SHA1_80, a, b);
    cr_assert_eq(srtps_set_ssrc(&tx3, true, 0xdddd), 0);
    n = fixed_rtp(p, 13, 0xaaaa, 50);
    cr_assert_eq(srtps_protect_rtp(&tx3, p, &n, BUF), -ENOENT);
}

/* Keyed the wrong way round (both ends sending with the same keys), or
 * with another profile's tag length, nothing opens. */
Test(srtp_session, wrong_keys_and_profile_refused)
{
    uint8_t a[30], b[30];
    keys(a, b);
    struct srtps_session tx, wrong, p32;
    srtps_init(&tx, SRTPS_AES128_CM_SHA1_80, a, b);
    srtps_init(&wrong, SRTPS_AES128_CM_SHA1_80, a, b);
    srtps_init(&p32, SRTPS_AES128_CM_SHA1_32, b, a);
    uint8_t p[BUF], q[BUF];
    size_t n = fixed_rtp(p, 1, 1, 80);
    cr_assert_eq(srtps_protect_rtp(&tx, p, &n, BUF), 0);
    memcpy(q, p, n);
    size_t m = n;
    cr_assert_eq(srtps_unprotect_rtp(&wrong, p, &n), -EACCES);
    cr_assert_eq(srtps_unprotect_rtp(&p32, q, &m), -EACCES);
}

Test(srtp_session, no_heap_and_clear)
{
    uint8_t a[30], b[30], p[BUF];
    keys(a, b);
    static struct srtps_session x, y;
    int bad = 0;
    srtps_init(&x, SRTPS_AES128_CM_SHA1_80, a,
               b); /* mbedTLS's first AES set-up builds its tables */
    struct mallinfo2 m0 = mallinfo2();
    srtps_init(&x, SRTPS_AES128_CM_SHA1_80, a, b);
    srtps_init(&y, SRTPS_AES128_CM_SHA1_80, b, a);
    for (int i = 0; i < 1000; i++) {
        size_t n = fixed_rtp(p, (uint16_t)i, 7, (size_t)i % 1200);
        bad += srtps_protect_rtp(&x, p, &n, BUF) != 0;
        bad += srtps_unprotect_rtp(&y, p, &n) != 0;
        n = 40;
        memset(p, 0, n);
        p[0] = 0x80, p[7] = 7;
        bad += srtps_protect_rtcp(&x, p, &n, BUF) != 0;
        bad += srtps_unprotect_rtcp(&y, p, &n) != 0;
    }
    struct mallinfo2 m1 = mallinfo2();
    cr_assert_eq(bad, 0);
    cr_assert_eq(m1.uordblks, m0.uordblks, "heap in use changed by %zd bytes",
                 (ssize_t)(m1.uordblks - m0.uordblks));
    cr_assert_eq(y.c.unprotected_rtp, 1000);
    srtps_clear(&y);
    srtps_clear(&y);
    static const struct srtps_direction zero;
    cr_assert_eq(memcmp(&y.rx, &zero, sizeof(zero)), 0, "keys erased");
    cr_assert_eq(y.c.unprotected_rtcp, 1000, "counters kept");
}

/* An SRTCP packet with E = 0 (sent unencrypted, RFC 3711 §3.4), built
 * here from the B.3-checked PRF (label 4) and mbedTLS's own HMAC, is
 * accepted and left as it is; with E set it would have been decrypted. */
Test(srtp_session, unencrypted_srtcp_accepted_as_is)
{
    uint8_t a[30], b[30];
    keys(a, b);
    struct srtps_session rx;
    srtps_init(&rx, SRTPS_AES128_CM_SHA1_80, b, a);
    uint8_t ka[20], p[64], want[64];
    srtps_derive(a, a + 16, 4, ka, sizeof(ka));
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
    cr_assert_eq(srtps_unprotect_rtcp(&rx, p, &n), 0);
    cr_assert_eq(n, 40);
    cr_assert_arr_eq(p, want, 40, "E = 0: not decrypted");
    cr_assert_eq(rx.rx.rtcp.top, 9);
    /* E set, on an index not seen yet, with that tag: E is authenticated */
    p[40] = 0x80, p[43] = 10;
    memcpy(p + 44, mac, 10);
    n = 54;
    cr_assert_eq(srtps_unprotect_rtcp(&rx, p, &n), -EACCES);
}
