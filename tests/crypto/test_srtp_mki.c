/* SPDX-License-Identifier: MIT */
/*
 * The MKI and key rotation of our SRTP/SRTCP (crypto/srtp_session.h)
 * against libsrtp2 2.5 with MKI (srtp_policy_t.keys, srtp_protect_mki and
 * srtp_unprotect_mki, the _rtcp_ ones), an implementation we did not
 * write. For each of the four profiles, both directions of a pair of our
 * sessions, MKI lengths 4 (and 1, 2 for AES-CM): 600 RTP and 60 RTCP
 * packets protected by ours and by libsrtp2 with the same master keys
 * and MKIs are byte for byte equal across two key switches (generation 0
 * -> 1 -> 2), the MKI at libsrtp2's offset; each receiver (ours, keyed
 * with the current and next keys only, and libsrtp2 with all three) opens
 * the other's packets. Two packets under the old key held back past the
 * switch: the first opens under the previous key in its grace window, the
 * second, after srtps_end_rx_grace, is an authentication failure for us
 * (libsrtp2, holding every key, opens it). A packet whose MKI names no
 * key: an authentication failure for us, srtp_err_status_bad_mki for
 * libsrtp2. Every count checked: rekeys, rekeys seen, packets under the
 * previous key, auth failures. One gap is libsrtp2's: under
 * AES128_CM_SHA1_32 it cannot open SRTCP with MKI, its own included (it
 * looks for the MKI in front of a 4-byte tag, the SRTP one, where SRTCP's
 * is 10), so there only its protect output is compared with ours.
 * The key chain of --srtp-rekey (srtps_next_master) against OpenSSL's
 * HKDF-Expand (EVP_PKEY_HKDF, EXPAND_ONLY) for every profile.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <srtp2/srtp.h>

#include "libsrtp_peer.h"
#include "srtp_session.h"

#define BUF   1600
#define NPKT  600
#define NGEN  3
#define SWAP1 200 /* the sender switches to generation 1 at this packet */
#define SWAP2 400 /* and to generation 2 */

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

static void lib_ready(void)
{
    static bool ready;
    if (!ready)
        cr_assert_eq(srtp_init(), srtp_err_status_ok);
    ready = true;
}

static bool aead(enum srtps_profile p)
{
    return p == SRTPS_AEAD_AES_128_GCM || p == SRTPS_AEAD_AES_256_GCM;
}

static size_t gen_rtp(uint64_t *r, uint8_t *p, uint16_t seq, uint32_t ssrc)
{
    size_t n = 12 + 20 + rnd(r) % 300;
    fill(r, p, n);
    p[0] = 0x80;
    p[1] = 111;
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8),
    p[11] = (uint8_t)ssrc;
    return n;
}

static size_t gen_rtcp(uint64_t *r, uint8_t *p, uint32_t ssrc)
{
    size_t n = 28;
    fill(r, p, n);
    p[0] = 0x80;
    p[1] = 200;
    p[2] = 0, p[3] = 6;
    p[4] = (uint8_t)(ssrc >> 24), p[5] = (uint8_t)(ssrc >> 16), p[6] = (uint8_t)(ssrc >> 8),
    p[7] = (uint8_t)ssrc;
    return n;
}

static uint32_t mki_of(unsigned dir, unsigned g, unsigned mki_len)
{
    uint32_t v = 0x5a3c0000u | dir << 8 | g;
    return mki_len >= 4 ? v : v & ((1u << (8 * mki_len)) - 1);
}

/* The MKI bytes of a protected packet of length n, at libsrtp2's offset. */
static uint32_t mki_at(enum srtps_profile p, bool rtcp, const uint8_t *pkt, size_t n, unsigned ml)
{
    size_t tag = aead(p) ? 16 : rtcp || p == SRTPS_AES128_CM_SHA1_80 ? 10 : 4;
    const uint8_t *m = aead(p) ? pkt + n - ml : pkt + n - tag - ml;
    uint32_t v = 0;
    for (unsigned i = 0; i < ml; i++)
        v = v << 8 | m[i];
    return v;
}

struct held {
    uint8_t prot[BUF], plain[BUF];
    size_t len, plen;
};

/* Our receiver and libsrtp2's (when lib_reads) open the same packet to the
 * same plaintext, or (!ours_ok) ours refuses it and leaves it as it was. */
static void deliver(struct srtps_session *rx, srtp_t lrx, bool rtcp, const uint8_t *prot,
                    size_t len, const uint8_t *plain, size_t plen, bool ours_ok, bool lib_reads)
{
    uint8_t a[BUF], b[BUF];
    size_t la = len;
    int lb = (int)len;
    memcpy(a, prot, len);
    memcpy(b, prot, len);
    enum engine_input r = rtcp ? srtps_unprotect_rtcp(rx, a, &la) : srtps_unprotect_rtp(rx, a, &la);
    if (lib_reads) {
        srtp_err_status_t st =
            rtcp ? srtp_unprotect_rtcp_mki(lrx, b, &lb, 1) : srtp_unprotect_mki(lrx, b, &lb, 1);
        cr_assert_eq(st, srtp_err_status_ok, "libsrtp2 refused ours: %d (%s, %zu bytes)", st,
                     rtcp ? "SRTCP" : "SRTP", len);
        cr_assert_eq((size_t)lb, plen);
        cr_assert_arr_eq(b, plain, plen);
    }
    if (!ours_ok) {
        cr_assert_eq(r, ENGINE_IN_MALFORMED);
        cr_assert_arr_eq(a, prot, len, "a refused packet is left as it was (AES-CM)");
        return;
    }
    cr_assert_eq(r, ENGINE_IN_ACCEPTED, "ours refused libsrtp2's %s", rtcp ? "SRTCP" : "SRTP");
    cr_assert_eq(la, plen);
    cr_assert_arr_eq(a, plain, plen);
}

/* One direction: `tx` sends under keys[0..2] (switching at SWAP1 and
 * SWAP2), `rx` receives; libsrtp2 sends and receives the same. */
static void flow(enum srtps_profile p, unsigned ml, unsigned dir, struct srtps_session *tx,
                 struct srtps_session *rx, uint8_t keys[NGEN][SRTPS_MASTER_MAX], uint64_t *r)
{
    const uint8_t *kp[NGEN] = {keys[0], keys[1], keys[2]};
    uint32_t mki[NGEN];
    for (unsigned g = 0; g < NGEN; g++)
        mki[g] = mki_of(dir, g, ml);
    srtp_t ltx, lrx;
    /* libsrtp2 2.5 looks for the MKI of an SRTCP packet in front of a tag
     * of the SRTP tag's length (srtp_get_session_keys): 4 bytes under
     * AES128_CM_SHA1_32, whose SRTCP tag is 10. It cannot read its own
     * SRTCP with MKI there (srtp_err_status_bad_mki); its protect output
     * is still compared with ours byte for byte. */
    const bool lib_reads_srtcp = p != SRTPS_AES128_CM_SHA1_32;
    cr_assert_eq(libsrtp_session_mki(&ltx, p, kp, mki, NGEN, ml, true), srtp_err_status_ok);
    cr_assert_eq(libsrtp_session_mki(&lrx, p, kp, mki, NGEN, ml, false), srtp_err_status_ok);
    cr_assert_eq(srtps_add_rx_key(rx, keys[1], mki[1]), 0);
    struct srtps_counters t0 = *srtps_counters(tx), r0 = *srtps_counters(rx);
    const uint32_t ssrc = (uint32_t)rnd(r) | 1;
    uint16_t seq = (uint16_t)(rnd(r) & 0x7fff);
    static struct held hold[2];
    int nheld = 0, rtp_in = 0, rtcp_in = 0;
    for (int i = 0; i < NPKT; i++, seq++) {
        unsigned g = i < SWAP1 ? 0 : i < SWAP2 ? 1 : 2;
        if (i == SWAP1 || i == SWAP2)
            cr_assert_eq(srtps_rekey_tx(tx, keys[g], mki[g]), 0);
        for (int rtcp = 0; rtcp < 2; rtcp++) {
            if (rtcp && i % 10)
                continue;
            uint8_t plain[BUF], mine[BUF], theirs[BUF];
            size_t plen = rtcp ? gen_rtcp(r, plain, ssrc) : gen_rtp(r, plain, seq, ssrc), lm = plen;
            int lt = (int)plen;
            memcpy(mine, plain, plen);
            memcpy(theirs, plain, plen);
            cr_assert_eq(rtcp ? srtps_protect_rtcp(tx, mine, &lm, BUF)
                              : srtps_protect_rtp(tx, mine, &lm, BUF),
                         0);
            srtp_err_status_t st = rtcp ? srtp_protect_rtcp_mki(ltx, theirs, &lt, 1, g)
                                        : srtp_protect_mki(ltx, theirs, &lt, 1, g);
            cr_assert_eq(st, srtp_err_status_ok);
            cr_assert_eq(lm, (size_t)lt, "%s %d: lengths", rtcp ? "SRTCP" : "SRTP", i);
            cr_assert_arr_eq(mine, theirs, lm, "%s packet %d (generation %u) differs from libsrtp2",
                             rtcp ? "SRTCP" : "SRTP", i, g);
            cr_assert_eq(mki_at(p, rtcp, mine, lm, ml), mki[g], "the MKI at libsrtp2's offset");
            if (!rtcp && (i == SWAP1 - 2 || i == SWAP1 - 1)) { /* held back past the switch */
                struct held *h = &hold[nheld++];
                memcpy(h->prot, mine, lm), h->len = lm;
                memcpy(h->plain, plain, plen), h->plen = plen;
                continue;
            }
            if (rtcp && i == 10) { /* an MKI that names no key (before the packet: not a replay) */
                uint8_t bad[BUF];
                memcpy(bad, theirs, lm);
                size_t at = aead(p) ? lm - 1 : lm - 10 - 1, lb = lm;
                bad[at] ^= 0x80;
                int lbi = (int)lm;
                cr_assert_eq(srtps_unprotect_rtcp(rx, bad, &lb), ENGINE_IN_MALFORMED);
                if (lib_reads_srtcp)
                    cr_assert_eq(srtp_unprotect_rtcp_mki(lrx, bad, &lbi, 1),
                                 srtp_err_status_bad_mki);
            }
            deliver(rx, lrx, rtcp, mine, lm, plain, plen, true, lib_reads_srtcp || !rtcp);
            rtcp ? rtcp_in++ : rtp_in++;
        }
        if (i == SWAP1 + 5) {
            cr_assert_eq(srtps_counters(rx)->rekeys_seen, r0.rekeys_seen + 1,
                         "the receiver switched");
            /* the previous key, in its grace window */
            deliver(rx, lrx, false, hold[0].prot, hold[0].len, hold[0].plain, hold[0].plen, true,
                    true);
            rtp_in++;
            srtps_end_rx_grace(rx);
            /* the grace window is over: the old MKI is unknown to us */
            deliver(rx, lrx, false, hold[1].prot, hold[1].len, hold[1].plain, hold[1].plen, false,
                    true);
            cr_assert_eq(srtps_add_rx_key(rx, keys[2], mki[2]), 0);
            cr_assert_eq(srtps_add_rx_key(rx, keys[1], mki[1]), -EEXIST, "generation 1 is current");
            cr_assert_eq(srtps_add_rx_key(rx, keys[2], mki[2]), 0, "replacing a pending next key");
        }
    }
    const struct srtps_counters *t = srtps_counters(tx), *k = srtps_counters(rx);
    cr_assert_eq(t->rekeys - t0.rekeys, 2);
    cr_assert_eq(t->protected_rtp - t0.protected_rtp, NPKT);
    cr_assert_eq(t->protected_rtcp - t0.protected_rtcp, NPKT / 10);
    cr_assert_eq(k->rekeys_seen - r0.rekeys_seen, 2);
    cr_assert_eq(k->rx_prev_key - r0.rx_prev_key, 1);
    cr_assert_eq(k->unprotected_rtp - r0.unprotected_rtp, (uint64_t)rtp_in);
    cr_assert_eq(rtp_in, NPKT - 1);
    cr_assert_eq(k->unprotected_rtcp - r0.unprotected_rtcp, (uint64_t)rtcp_in);
    cr_assert_eq(k->auth_failures - r0.auth_failures, 2,
                 "the MKI naming no key, the one past its grace");
    cr_assert_eq(k->replays + k->malformed + k->foreign_ssrc - r0.replays - r0.malformed -
                     r0.foreign_ssrc,
                 0);
    srtp_dealloc(ltx);
    srtp_dealloc(lrx);
}

static void both_directions(enum srtps_profile p, unsigned ml, uint64_t seed)
{
    lib_ready();
    uint64_t r = seed;
    static uint8_t ka[NGEN][SRTPS_MASTER_MAX], kb[NGEN][SRTPS_MASTER_MAX];
    fill(&r, &ka[0][0], sizeof(ka));
    fill(&r, &kb[0][0], sizeof(kb));
    static struct srtps_session a, b;
    cr_assert_eq(srtps_init(&a, p, ka[0], kb[0]), 0);
    cr_assert_eq(srtps_init(&b, p, kb[0], ka[0]), 0);
    cr_assert_eq(srtps_set_mki(&a, ml, mki_of(0, 0, ml), mki_of(1, 0, ml)), 0);
    cr_assert_eq(srtps_set_mki(&b, ml, mki_of(1, 0, ml), mki_of(0, 0, ml)), 0);
    flow(p, ml, 0, &a, &b, ka, &r); /* a -> b */
    flow(p, ml, 1, &b, &a, kb, &r); /* b -> a */
    srtps_clear(&a);
    srtps_clear(&b);
}

Test(srtp_mki, aes128_cm_sha1_80_against_libsrtp)
{
    both_directions(SRTPS_AES128_CM_SHA1_80, 4, 1);
    both_directions(SRTPS_AES128_CM_SHA1_80, 1, 2);
    both_directions(SRTPS_AES128_CM_SHA1_80, 2, 3);
}

Test(srtp_mki, aes128_cm_sha1_32_against_libsrtp)
{
    both_directions(SRTPS_AES128_CM_SHA1_32, 4, 4);
}

Test(srtp_mki, aead_aes_128_gcm_against_libsrtp)
{
    both_directions(SRTPS_AEAD_AES_128_GCM, 4, 5);
}

Test(srtp_mki, aead_aes_256_gcm_against_libsrtp)
{
    both_directions(SRTPS_AEAD_AES_256_GCM, 4, 6);
}

Test(srtp_mki, refusals)
{
    static struct srtps_session s;
    uint8_t k[SRTPS_MASTER_MAX] = {1};
    cr_assert_eq(srtps_init(&s, SRTPS_AES128_CM_SHA1_80, k, k), 0);
    cr_assert_eq(srtps_rekey_tx(&s, k, 1), -EINVAL, "no MKI on");
    cr_assert_eq(srtps_add_rx_key(&s, k, 1), -EINVAL, "no MKI on");
    cr_assert_eq(srtps_set_mki(&s, 5, 0, 0), -EINVAL);
    cr_assert_eq(srtps_set_mki(&s, 1, 256, 0), -EINVAL, "does not fit in one byte");
    cr_assert_eq(srtps_set_mki(&s, 1, 7, 9), 0);
    cr_assert_eq(srtps_rekey_tx(&s, k, 300), -EINVAL);
    cr_assert_eq(srtps_add_rx_key(&s, k, 9), -EEXIST);
    /* a packet too short for the MKI and the tag is malformed */
    uint8_t pkt[BUF] = {0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5};
    size_t n = 12 + 10;
    cr_assert_eq(srtps_unprotect_rtp(&s, pkt, &n), ENGINE_IN_MALFORMED);
    cr_assert_eq(srtps_counters(&s)->malformed, 1);
    /* the trailer grows by the MKI, and protect wants room for it */
    n = 100;
    cr_assert_eq(srtps_protect_rtp(&s, pkt, &n, 110), -ENOSPC);
    cr_assert_eq(srtps_protect_rtp(&s, pkt, &n, 111), 0);
    cr_assert_eq(n, 111);
    cr_assert_eq(pkt[100], 7, "payload || MKI || tag");
}

/* srtps_next_master is HKDF-Expand(SHA-256, PRK = previous master key ||
 * salt, info = "swarmgen srtp rekey" || gen, L = master length): checked
 * against OpenSSL's HKDF, generation after generation. */
Test(srtp_mki, next_master_is_hkdf_expand_sha256)
{
    static const enum srtps_profile ps[] = {SRTPS_AES128_CM_SHA1_80, SRTPS_AES128_CM_SHA1_32,
                                            SRTPS_AEAD_AES_128_GCM, SRTPS_AEAD_AES_256_GCM};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        size_t len = srtps_master_len(ps[i]);
        uint8_t ours[SRTPS_MASTER_MAX], theirs[SRTPS_MASTER_MAX];
        uint64_t r = 40 + i;
        fill(&r, ours, len);
        memcpy(theirs, ours, len);
        for (uint32_t g = 1; g <= 5; g++) {
            uint8_t info[19 + 4] = "swarmgen srtp rekey";
            info[19] = (uint8_t)(g >> 24), info[20] = (uint8_t)(g >> 16),
            info[21] = (uint8_t)(g >> 8), info[22] = (uint8_t)g;
            uint8_t out[SRTPS_MASTER_MAX];
            size_t outlen = len;
            EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
            cr_assert_not_null(c);
            cr_assert_eq(EVP_PKEY_derive_init(c), 1);
            cr_assert_eq(EVP_PKEY_CTX_hkdf_mode(c, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY), 1);
            cr_assert_eq(EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()), 1);
            cr_assert_eq(EVP_PKEY_CTX_set1_hkdf_key(c, theirs, (int)len), 1);
            cr_assert_eq(EVP_PKEY_CTX_add1_hkdf_info(c, info, (int)sizeof(info)), 1);
            cr_assert_eq(EVP_PKEY_derive(c, out, &outlen), 1);
            EVP_PKEY_CTX_free(c);
            cr_assert_eq(outlen, len);
            memcpy(theirs, out, len);
            cr_assert_eq(srtps_next_master(ps[i], ours, g, ours), 0);
            cr_assert_arr_eq(ours, theirs, len, "profile %d generation %u", ps[i], g);
        }
    }
    uint8_t k[SRTPS_MASTER_MAX] = {0};
    cr_assert_eq(srtps_next_master((enum srtps_profile)3, k, 1, k), -EINVAL);
}
