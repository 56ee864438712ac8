/* SPDX-License-Identifier: MIT */
/*
 * srtp_session: the profiles, the key schedule and the packet transforms
 * of srtp_session.h. AES (CM keystream, GCM, the PRF) is crypto/aes_gcm.h;
 * SHA-1 is OpenSSL's low-level SHA1_Update / SHA1_Final (deprecated in
 * 3.0 but allocation-free, SHA-NI on CPUs that have it), resumed per
 * packet from chaining values computed at key set-up.
 */
#define OPENSSL_API_COMPAT 0x10101000L /* SHA1_Init / SHA1_Update / SHA1_Final */

#include "srtp_session.h"

#include <errno.h>
#include <string.h>

#include <openssl/sha.h>

#include "srtp_session_internal.h"
#include "wire.h"

#define RTP_HEADER  12
#define RTCP_HEADER 8
#define SRTCP_E     0x80000000u
#define HMAC_KEY    20 /* n_a, RFC 3711 §8.2 */
#define CM_IV       16

/* What each profile is made of. */
struct profile_info {
    uint8_t key_len, salt_len, rtp_tag, rtcp_tag;
    bool aead;
};

static const struct profile_info *profile_of(enum srtps_profile p)
{
    static const struct profile_info cm80 = {16, 14, 10, 10, false}, cm32 = {16, 14, 4, 10, false},
                                     gcm128 = {16, 12, 16, 16, true}, gcm256 = {32, 12, 16, 16, true};
    switch (p) {
    case SRTPS_AES128_CM_SHA1_80:
        return &cm80;
    case SRTPS_AES128_CM_SHA1_32:
        return &cm32;
    case SRTPS_AEAD_AES_128_GCM:
        return &gcm128;
    case SRTPS_AEAD_AES_256_GCM:
        return &gcm256;
    default:
        return NULL;
    }
}

size_t srtps_master_len(enum srtps_profile profile)
{
    const struct profile_info *pi = profile_of(profile);
    return pi ? (size_t)pi->key_len + pi->salt_len : 0;
}

size_t srtps_keying_len(enum srtps_profile profile)
{
    return 2 * srtps_master_len(profile);
}

/* ---- AES-CM ---- */

/* buf ^= AES-CM keystream (RFC 3711 §4.1.1) from the counter block iv,
 * whose last 16 bits count blocks modulo 2^16. aes_ctr_xor counts in the
 * last 32 bits, so a run that would carry out of the 16 is split where it
 * wraps (never for a packet: 2^16 blocks are 1 MiB). */
static void cm_xor(const struct aes_gcm_key *k, const uint8_t iv[CM_IV], uint8_t *buf, size_t n)
{
    uint8_t ctr[CM_IV];
    memcpy(ctr, iv, CM_IV);
    for (;;) {
        size_t room = (size_t)(65536 - (unsigned)wire_get16(ctr + 14)) * 16;
        if (n <= room) {
            aes_ctr_xor(k, ctr, buf, n, buf);
            return;
        }
        aes_ctr_xor(k, ctr, buf, room, buf);
        buf += room;
        n -= room;
        ctr[14] = ctr[15] = 0;
    }
}

int srtps_aes_cm_xor(const uint8_t *key, const uint8_t *iv, uint8_t *buf, size_t n)
{
    if (n > (size_t)1 << 20)
        return -EINVAL;
    struct aes_gcm_key k;
    aes_gcm_init(&k, key, 16, -1);
    cm_xor(&k, iv, buf, n);
    aes_gcm_wipe(&k);
    return 0;
}

/* The PRF of RFC 3711 §4.3.3 under an expanded master key: x = key_id XOR
 * master salt with key_id = label || 48-bit index (0: kdr is 0), aligned
 * on the right of the 14-byte salt field; a 12-byte salt fills its first
 * 12 bytes (RFC 7714 §11, libsrtp2). */
static void prf(const struct aes_gcm_key *mk, const uint8_t *salt, size_t salt_len, uint8_t label,
                uint8_t *out, size_t n)
{
    uint8_t iv[CM_IV] = {0};
    memcpy(iv, salt, salt_len);
    iv[7] ^= label;
    memset(out, 0, n);
    cm_xor(mk, iv, out, n);
}

int srtps_derive(const uint8_t *master_key, size_t key_len, const uint8_t *master_salt,
                 size_t salt_len, uint8_t label, uint8_t *out, size_t n)
{
    if ((key_len != 16 && key_len != 32) || salt_len > SRTPS_SALT_MAX || n > (size_t)1 << 20)
        return -EINVAL;
    struct aes_gcm_key mk;
    aes_gcm_init(&mk, master_key, key_len, -1);
    prf(&mk, master_salt, salt_len, label, out, n);
    aes_gcm_wipe(&mk);
    return 0;
}

/* ---- HMAC-SHA1 ---- */

/* The SHA-1 chaining values after one 64-byte block of key ^ pad. */
static void hmac_half(uint32_t state[5], const uint8_t key[HMAC_KEY], uint8_t pad)
{
    uint8_t block[SHA_CBLOCK];
    memset(block, pad, sizeof(block));
    for (int i = 0; i < HMAC_KEY; i++)
        block[i] ^= key[i];
    SHA_CTX c;
    SHA1_Init(&c);
    SHA1_Update(&c, block, sizeof(block));
    state[0] = c.h0, state[1] = c.h1, state[2] = c.h2, state[3] = c.h3, state[4] = c.h4;
    explicit_bzero(&c, sizeof(c));
    explicit_bzero(block, sizeof(block));
}

static void hmac_init(struct srtps_hmac *h, const uint8_t key[HMAC_KEY])
{
    hmac_half(h->inner, key, 0x36);
    hmac_half(h->outer, key, 0x5c);
}

/* A SHA-1 context resumed after its first 64-byte block (the fields of
 * SHA_CTX are public in <openssl/sha.h>). */
static void sha1_resume(SHA_CTX *c, const uint32_t state[5])
{
    c->h0 = state[0], c->h1 = state[1], c->h2 = state[2], c->h3 = state[3], c->h4 = state[4];
    c->Nl = 8 * SHA_CBLOCK;
    c->Nh = 0;
    c->num = 0;
}

/* HMAC-SHA1(a || b) into mac[20]. */
static void hmac(const struct srtps_hmac *h, const uint8_t *a, size_t alen, const uint8_t *b,
                 size_t blen, uint8_t mac[SHA_DIGEST_LENGTH])
{
    SHA_CTX c;
    sha1_resume(&c, h->inner);
    SHA1_Update(&c, a, alen);
    if (blen)
        SHA1_Update(&c, b, blen);
    SHA1_Final(mac, &c);
    sha1_resume(&c, h->outer);
    SHA1_Update(&c, mac, SHA_DIGEST_LENGTH);
    SHA1_Final(mac, &c);
}

static bool tag_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

/* ---- keys ---- */

/* The IV of a packet: the session salt (14 bytes AES-CM, 12 AEAD) XOR the
 * SSRC in the 4 bytes before the last 6 and the 48-bit index in the last
 * 6; AES-CM adds two zero bytes of block counter. That is RFC 3711
 * §4.1.1's (salt << 16) XOR (SSRC << 64) XOR (index << 16) and RFC 7714
 * §8.1's salt XOR 00 00 || SSRC || ROC || SEQ, and, with the 31-bit SRTCP
 * index as the index, §9.1's salt XOR 00 00 || SSRC || 00 00 || 0 ||
 * index. */
static void make_iv(uint8_t *iv, const uint8_t *salt, size_t salt_len, uint32_t ssrc,
                    uint64_t index)
{
    memcpy(iv, salt, salt_len);
    uint8_t *s = iv + salt_len - 10, *x = iv + salt_len - 6;
    for (int i = 0; i < 4; i++)
        s[i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; i++)
        x[i] ^= (uint8_t)(index >> (40 - 8 * i));
    if (salt_len == 14)
        iv[14] = iv[15] = 0;
}

/* The session keys of one master key into *d and *rtp_key (the MKI is the
 * caller's to set). */
static void key_direction(const struct profile_info *pi, struct srtps_keyset *d,
                          struct aes_gcm_key *rtp_key, const uint8_t *master, int impl)
{
    const uint8_t *ms = master + pi->key_len;
    struct aes_gcm_key mk;
    uint8_t k[SRTPS_KEY_MAX], a[HMAC_KEY];
    memset(d, 0, sizeof(*d));
    aes_gcm_init(&mk, master, pi->key_len, impl);
    prf(&mk, ms, pi->salt_len, 0, k, pi->key_len);
    aes_gcm_init(rtp_key, k, pi->key_len, impl);
    prf(&mk, ms, pi->salt_len, 2, d->rtp_salt, pi->salt_len);
    prf(&mk, ms, pi->salt_len, 3, d->rtcp_key, pi->key_len);
    prf(&mk, ms, pi->salt_len, 5, d->rtcp_salt, pi->salt_len);
    if (!pi->aead) {
        prf(&mk, ms, pi->salt_len, 1, a, sizeof(a));
        hmac_init(&d->rtp_auth, a);
        prf(&mk, ms, pi->salt_len, 4, a, sizeof(a));
        hmac_init(&d->rtcp_auth, a);
    }
    aes_gcm_wipe(&mk);
    explicit_bzero(k, sizeof(k));
    explicit_bzero(a, sizeof(a));
}

int srtps_init_impl(struct srtps_session *ses, enum srtps_profile profile, const uint8_t *local,
                    const uint8_t *remote, int aes_impl)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    memset(s, 0, sizeof(*s));
    const struct profile_info *pi = profile_of(profile);
    if (!pi || aes_impl < -1 || aes_impl >= AES_IMPL_COUNT)
        return -EINVAL;
    int impl = aes_impl == -1 ? (int)aes_impl_best() : aes_impl;
    if (!aes_impl_supported(impl))
        return -ENOTSUP;
    s->profile = profile;
    s->rtp_tag_len = pi->rtp_tag;
    s->rtcp_tag_len = pi->rtcp_tag;
    s->aes_impl = (uint8_t)impl;
    key_direction(pi, &s->tx.k, &s->tx_key, local, impl);
    key_direction(pi, &s->rx.k, &s->rx_key, remote, impl);
    return 0;
}

/* ---- MKI and key rotation ---- */

/* HMAC-SHA256 (RFC 2104) of a || b || c under a key of at most 64 bytes. */
static void hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *a, size_t alen,
                        const uint8_t *b, size_t blen, const uint8_t *c, size_t clen,
                        uint8_t out[SHA256_DIGEST_LENGTH])
{
    uint8_t pad[SHA256_CBLOCK];
    SHA256_CTX x;
    memset(pad, 0x36, sizeof(pad));
    for (size_t i = 0; i < klen; i++)
        pad[i] ^= key[i];
    SHA256_Init(&x);
    SHA256_Update(&x, pad, sizeof(pad));
    SHA256_Update(&x, a, alen);
    SHA256_Update(&x, b, blen);
    SHA256_Update(&x, c, clen);
    SHA256_Final(out, &x);
    memset(pad, 0x5c, sizeof(pad));
    for (size_t i = 0; i < klen; i++)
        pad[i] ^= key[i];
    SHA256_Init(&x);
    SHA256_Update(&x, pad, sizeof(pad));
    SHA256_Update(&x, out, SHA256_DIGEST_LENGTH);
    SHA256_Final(out, &x);
    explicit_bzero(pad, sizeof(pad));
    explicit_bzero(&x, sizeof(x));
}

int srtps_next_master(enum srtps_profile profile, const uint8_t *prev, uint32_t gen, uint8_t *out)
{
    static const char label[] = "swarmgen srtp rekey";
    size_t len = srtps_master_len(profile);
    if (!len)
        return -EINVAL;
    uint8_t prk[SRTPS_MASTER_MAX], info[sizeof(label) - 1 + 4 + 1], t[2][SHA256_DIGEST_LENGTH];
    memcpy(prk, prev, len);
    memcpy(info, label, sizeof(label) - 1);
    wire_put32(info + sizeof(label) - 1, gen);
    info[sizeof(info) - 1] = 1; /* T(1) = HMAC(PRK, info || 0x01) */
    hmac_sha256(prk, len, info, sizeof(info), NULL, 0, NULL, 0, t[0]);
    info[sizeof(info) - 1] = 2; /* T(2) = HMAC(PRK, T(1) || info || 0x02) */
    hmac_sha256(prk, len, t[0], sizeof(t[0]), info, sizeof(info) - 1, info + sizeof(info) - 1, 1,
                t[1]);
    memcpy(out, t, len);
    explicit_bzero(prk, sizeof(prk));
    explicit_bzero(t, sizeof(t));
    return 0;
}

static bool mki_fits(const struct srtps_session_impl *s, uint32_t mki)
{
    return s->mki_len >= 4 || mki >> (8 * s->mki_len) == 0;
}

int srtps_set_mki(struct srtps_session *ses, size_t mki_len, uint32_t tx_mki, uint32_t rx_mki)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    if (mki_len > SRTPS_MKI_MAX || !profile_of(s->profile))
        return -EINVAL;
    uint8_t old = s->mki_len;
    s->mki_len = (uint8_t)mki_len;
    if (!mki_fits(s, tx_mki) || !mki_fits(s, rx_mki)) {
        s->mki_len = old;
        return -EINVAL;
    }
    s->tx.k.mki = mki_len ? tx_mki : 0;
    s->rx.k.mki = mki_len ? rx_mki : 0;
    return 0;
}

int srtps_rekey_tx(struct srtps_session *ses, const uint8_t *master, uint32_t mki)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    const struct profile_info *pi = profile_of(s->profile);
    if (!pi || !s->mki_len || !mki_fits(s, mki))
        return -EINVAL;
    key_direction(pi, &s->tx.k, &s->tx_key, master, s->aes_impl);
    s->tx.k.mki = mki;
    s->c.rekeys++;
    return 0;
}

int srtps_add_rx_key(struct srtps_session *ses, const uint8_t *master, uint32_t mki)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    const struct profile_info *pi = profile_of(s->profile);
    if (!pi || !s->mki_len || !mki_fits(s, mki))
        return -EINVAL;
    if (mki == s->rx.k.mki)
        return -EEXIST;
    key_direction(pi, &s->rx_alt, &s->rx_alt_key, master, s->aes_impl);
    s->rx_alt.mki = mki;
    s->alt = SRTPS_ALT_NEXT;
    return 0;
}

void srtps_end_rx_grace(struct srtps_session *ses)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    if (s->alt != SRTPS_ALT_PREV)
        return;
    aes_gcm_wipe(&s->rx_alt_key);
    explicit_bzero(&s->rx_alt, sizeof(s->rx_alt));
    s->alt = SRTPS_ALT_EMPTY;
}

static uint32_t mki_get(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void mki_put(uint8_t *p, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* The inbound key a packet names: without MKI the current one; with it
 * the key whose MKI matches, current or second slot; NULL for an unknown
 * MKI. *alt tells which. */
static const struct srtps_keyset *rx_keys(const struct srtps_session_impl *s, const uint8_t *mki,
                                          const struct aes_gcm_key **k, bool *alt)
{
    *alt = false;
    *k = &s->rx_key;
    if (!s->mki_len)
        return &s->rx.k;
    uint32_t v = mki_get(mki, s->mki_len);
    if (v == s->rx.k.mki)
        return &s->rx.k;
    if (s->alt != SRTPS_ALT_EMPTY && v == s->rx_alt.mki) {
        *alt = true;
        *k = &s->rx_alt_key;
        return &s->rx_alt;
    }
    return NULL;
}

/* A packet under the second slot's key authenticated: the next key
 * becomes current (the current one the previous), or it was the previous
 * key, still in its grace window. */
static void rx_alt_used(struct srtps_session_impl *s)
{
    if (s->alt == SRTPS_ALT_PREV) {
        s->c.rx_prev_key++;
        return;
    }
    struct aes_gcm_key tk;
    struct srtps_keyset tks;
    memcpy(&tk, &s->rx_key, sizeof(tk));
    memcpy(&s->rx_key, &s->rx_alt_key, sizeof(tk));
    memcpy(&s->rx_alt_key, &tk, sizeof(tk));
    tks = s->rx.k;
    s->rx.k = s->rx_alt;
    s->rx_alt = tks;
    explicit_bzero(&tk, sizeof(tk));
    explicit_bzero(&tks, sizeof(tks));
    s->alt = SRTPS_ALT_PREV;
    s->c.rekeys_seen++;
}

int srtps_init(struct srtps_session *s, enum srtps_profile profile, const uint8_t *local,
               const uint8_t *remote)
{
    return srtps_init_impl(s, profile, local, remote, -1);
}

int srtps_split_keying(enum srtps_profile profile, const uint8_t *km, bool is_client,
                       uint8_t *local, uint8_t *remote)
{
    const struct profile_info *pi = profile_of(profile);
    if (!pi)
        return -EINVAL;
    size_t kl = pi->key_len, sl = pi->salt_len;
    const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl, *ss = km + 2 * kl + sl;
    memcpy(local, is_client ? ck : sk, kl);
    memcpy(local + kl, is_client ? cs : ss, sl);
    memcpy(remote, is_client ? sk : ck, kl);
    memcpy(remote + kl, is_client ? ss : cs, sl);
    return 0;
}

int srtps_set_ssrc(struct srtps_session *ses, bool outbound, uint32_t ssrc)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    struct srtps_direction *d = outbound ? &s->tx : &s->rx;
    if (d->ssrc_known)
        return -EBUSY;
    d->ssrc = ssrc;
    d->ssrc_known = true;
    return 0;
}

enum srtps_profile srtps_profile_of(const struct srtps_session *ses)
{
    return srtps_cimpl(ses)->profile;
}

const struct srtps_counters *srtps_counters(const struct srtps_session *ses)
{
    const struct srtps_session_impl *s = srtps_cimpl(ses);
    return &s->c;
}

void srtps_clear(struct srtps_session *ses)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    aes_gcm_wipe(&s->tx_key);
    aes_gcm_wipe(&s->rx_key);
    aes_gcm_wipe(&s->rx_alt_key);
    explicit_bzero(&s->tx, sizeof(s->tx));
    explicit_bzero(&s->rx, sizeof(s->rx));
    explicit_bzero(&s->rx_alt, sizeof(s->rx_alt));
    s->alt = SRTPS_ALT_EMPTY;
}

/* ---- replay and index ---- */

/* Replay window (RFC 3711 §3.3.2). */
static int window_check(const struct srtps_replay *w, uint64_t index)
{
    if (!w->seen || index > w->top)
        return 0;
    uint64_t back = w->top - index;
    if (back >= SRTPS_REPLAY_WINDOW || (w->seen >> back & 1))
        return -EALREADY;
    return 0;
}

static void window_add(struct srtps_replay *w, uint64_t index)
{
    if (!w->seen) {
        w->top = index;
        w->seen = 1;
    } else if (index > w->top) {
        uint64_t ahead = index - w->top;
        w->seen = ahead >= SRTPS_REPLAY_WINDOW ? 1 : w->seen << ahead | 1;
        w->top = index;
    } else {
        w->seen |= (uint64_t)1 << (w->top - index);
    }
}

/* RFC 3711 §3.3.1 (Appendix A): the index of SEQ given the highest index
 * so far. A guess of ROC - 1 at ROC 0 is taken as ROC 0 (a jump forward),
 * as libsrtp2 does; the first packet has ROC 0. */
static uint64_t estimate_index(const struct srtps_replay *w, uint16_t seq)
{
    if (!w->seen)
        return seq;
    uint64_t roc = w->top >> 16;
    unsigned sl = (unsigned)(w->top & 0xffff);
    if (sl < 32768) {
        if ((unsigned)seq > sl + 32768 && roc > 0)
            roc--;
    } else if (sl - 32768 > (unsigned)seq) {
        roc++;
    }
    return roc << 16 | seq;
}

/* Length of the RTP header (fixed part, CSRCs, extension) if it is a
 * version 2 header that fits in len bytes; 0 otherwise. */
static size_t rtp_header_len(const uint8_t *p, size_t len)
{
    if (len < RTP_HEADER || (p[0] >> 6) != 2)
        return 0;
    size_t h = RTP_HEADER + 4 * (size_t)(p[0] & 0x0f);
    if (p[0] & 0x10) {
        if (h + 4 > len)
            return 0;
        h += 4 + 4 * (size_t)wire_get16(p + h + 2);
    }
    return h <= len ? h : 0;
}

static int ssrc_check(const struct srtps_direction *d, uint32_t ssrc)
{
    return d->ssrc_known && d->ssrc != ssrc ? -ENOENT : 0;
}

/* Only the AEAD profiles have 16-byte tags (SRTP and SRTCP alike). */
static bool is_aead(const struct srtps_session_impl *s)
{
    return s->rtp_tag_len == AES_GCM_TAG;
}

static void accepted(struct srtps_direction *d, struct srtps_replay *w, uint64_t index,
                     uint32_t ssrc)
{
    window_add(w, index);
    d->ssrc = ssrc;
    d->ssrc_known = true;
}

/* ---- SRTP ---- */

/* Measured (bench/crypto/srtp_bench, release build, docs/srtp.md): protect
 * here + unprotect at the other end of one 1,200-byte packet, VAES path:
 * AEAD_AES_128_GCM 219 ns: about 190 ns the GCM seal and open, 30 ns the
 * header, index, window and IV. AES128_CM_HMAC_SHA1_80 1,605 ns: 2 x about
 * 700 ns the HMAC (OpenSSL's SHA-NI SHA-1, 32 ns a 64-byte block, bound
 * by the throughput of SHA1RNDS4: two messages interleaved gain nothing on
 * this CPU), 2 x 63 ns the AES-CM keystream, 80 ns the rest. */
int srtps_protect_rtp(struct srtps_session *ses, uint8_t *pkt, size_t *len, size_t cap)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    size_t n = *len, h = rtp_header_len(pkt, n), tag = s->rtp_tag_len, ml = s->mki_len;
    if (!h)
        return -EBADMSG;
    if (cap < n || cap - n < tag + ml)
        return -ENOSPC;
    struct srtps_direction *d = &s->tx;
    uint32_t ssrc = wire_get32(pkt + 8);
    int rc = ssrc_check(d, ssrc);
    if (rc)
        return rc;
    uint64_t index = estimate_index(&d->rtp, wire_get16(pkt + 2));
    if (index >> 48)
        return -EKEYEXPIRED;
    rc = window_check(&d->rtp, index);
    if (rc)
        return rc;
    if (is_aead(s)) {
        uint8_t iv[AES_GCM_IV];
        make_iv(iv, d->k.rtp_salt, AES_GCM_IV, ssrc, index);
        aes_gcm_seal(&s->tx_key, iv, pkt, h, pkt + h, n - h, pkt + h, pkt + n);
        mki_put(pkt + n + tag, ml, d->k.mki); /* payload || tag || MKI */
    } else {
        uint8_t iv[CM_IV], roc[4], mac[SHA_DIGEST_LENGTH];
        make_iv(iv, d->k.rtp_salt, 14, ssrc, index);
        cm_xor(&s->tx_key, iv, pkt + h, n - h);
        wire_put32(roc, (uint32_t)(index >> 16));
        hmac(&d->k.rtp_auth, pkt, n, roc, 4, mac);
        mki_put(pkt + n, ml, d->k.mki); /* payload || MKI || tag */
        memcpy(pkt + n + ml, mac, tag);
    }
    *len = n + tag + ml;
    accepted(d, &d->rtp, index, ssrc);
    s->c.protected_rtp++;
    return 0;
}

enum engine_input srtps_unprotect_rtp(struct srtps_session *ses, uint8_t *pkt, size_t *len)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    size_t tag = s->rtp_tag_len, n = *len, ml = s->mki_len;
    size_t h = n >= tag + ml ? rtp_header_len(pkt, n - tag - ml) : 0;
    if (!h) {
        s->c.malformed++;
        return ENGINE_IN_MALFORMED;
    }
    n -= tag + ml;
    bool aead = is_aead(s), alt;
    const struct aes_gcm_key *rk;
    /* the MKI: after the tag (AEAD), before it (AES-CM) */
    const struct srtps_keyset *ks = rx_keys(s, pkt + n + (aead ? tag : 0), &rk, &alt);
    const uint8_t *tagp = pkt + n + (aead ? 0 : ml);
    struct srtps_direction *d = &s->rx;
    uint32_t ssrc = wire_get32(pkt + 8);
    if (ssrc_check(d, ssrc)) {
        s->c.foreign_ssrc++;
        return ENGINE_IN_IGNORED;
    }
    uint64_t index = estimate_index(&d->rtp, wire_get16(pkt + 2));
    if (window_check(&d->rtp, index)) {
        s->c.replays++;
        return ENGINE_IN_MALFORMED;
    }
    if (!ks) { /* an MKI we hold no key for */
        s->c.auth_failures++;
        return ENGINE_IN_MALFORMED;
    }
    if (aead) {
        uint8_t iv[AES_GCM_IV];
        make_iv(iv, ks->rtp_salt, AES_GCM_IV, ssrc, index);
        if (aes_gcm_open(rk, iv, pkt, h, pkt + h, n - h, pkt + h, tagp) != 0) {
            s->c.auth_failures++;
            return ENGINE_IN_MALFORMED;
        }
    } else {
        uint8_t roc[4], mac[SHA_DIGEST_LENGTH], iv[CM_IV];
        wire_put32(roc, (uint32_t)(index >> 16));
        hmac(&ks->rtp_auth, pkt, n, roc, 4, mac);
        if (!tag_equal(mac, tagp, tag)) {
            s->c.auth_failures++;
            return ENGINE_IN_MALFORMED;
        }
        make_iv(iv, ks->rtp_salt, 14, ssrc, index);
        cm_xor(rk, iv, pkt + h, n - h);
    }
    if (alt)
        rx_alt_used(s);
    accepted(d, &d->rtp, index, ssrc);
    *len = n;
    s->c.unprotected_rtp++;
    return ENGINE_IN_ACCEPTED;
}

/* ---- SRTCP ---- */

static size_t rtcp_trailer(const struct srtps_session_impl *s)
{
    return 4 + (size_t)s->rtcp_tag_len + s->mki_len;
}

/* The SRTCP key of a key set, expanded on the caller's stack. */
static void rtcp_key(const struct srtps_session_impl *s, const struct srtps_keyset *d,
                     struct aes_gcm_key *k)
{
    aes_gcm_init(k, d->rtcp_key, s->profile == SRTPS_AEAD_AES_256_GCM ? 32 : 16, s->aes_impl);
}

int srtps_protect_rtcp(struct srtps_session *ses, uint8_t *pkt, size_t *len, size_t cap)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    size_t n = *len, trailer = rtcp_trailer(s);
    if (n < RTCP_HEADER || (pkt[0] >> 6) != 2)
        return -EBADMSG;
    if (cap < n || cap - n < trailer)
        return -ENOSPC;
    struct srtps_direction *d = &s->tx;
    uint32_t ssrc = wire_get32(pkt + 4);
    int rc = ssrc_check(d, ssrc);
    if (rc)
        return rc;
    if (d->rtcp.top >= SRTPS_MAX_SRTCP_INDEX)
        return -EKEYEXPIRED;
    uint32_t index = (uint32_t)d->rtcp.top + 1;
    struct aes_gcm_key k;
    size_t ml = s->mki_len;
    rtcp_key(s, &d->k, &k);
    if (is_aead(s)) { /* payload || tag || E,index || MKI */
        uint8_t iv[AES_GCM_IV], aad[RTCP_HEADER + 4];
        make_iv(iv, d->k.rtcp_salt, AES_GCM_IV, ssrc, index);
        memcpy(aad, pkt, RTCP_HEADER);
        wire_put32(aad + RTCP_HEADER, SRTCP_E | index);
        aes_gcm_seal(&k, iv, aad, sizeof(aad), pkt + RTCP_HEADER, n - RTCP_HEADER,
                     pkt + RTCP_HEADER, pkt + n);
        wire_put32(pkt + n + AES_GCM_TAG, SRTCP_E | index);
        mki_put(pkt + n + AES_GCM_TAG + 4, ml, d->k.mki);
    } else { /* payload || E,index || MKI || tag */
        uint8_t iv[CM_IV], mac[SHA_DIGEST_LENGTH];
        make_iv(iv, d->k.rtcp_salt, 14, ssrc, index);
        cm_xor(&k, iv, pkt + RTCP_HEADER, n - RTCP_HEADER);
        wire_put32(pkt + n, SRTCP_E | index);
        hmac(&d->k.rtcp_auth, pkt, n + 4, NULL, 0, mac);
        mki_put(pkt + n + 4, ml, d->k.mki);
        memcpy(pkt + n + 4 + ml, mac, s->rtcp_tag_len);
    }
    aes_gcm_wipe(&k);
    *len = n + trailer;
    accepted(d, &d->rtcp, index, ssrc);
    s->c.protected_rtcp++;
    return 0;
}

/* AEAD SRTCP with E = 0 (RFC 7714 §9.2): the whole packet and then E ||
 * index are the additional data, nothing is encrypted. The additional
 * data must be contiguous, so E || index is moved over the tag for the
 * check and put back if it fails. */
static int rtcp_open_clear(const struct aes_gcm_key *k, const uint8_t *iv, uint8_t *pkt, size_t n)
{
    uint8_t tag[AES_GCM_TAG], e_index[4];
    memcpy(tag, pkt + n, AES_GCM_TAG);
    memcpy(e_index, pkt + n + AES_GCM_TAG, 4);
    memcpy(pkt + n, e_index, 4);
    int rc = aes_gcm_open(k, iv, pkt, n + 4, NULL, 0, NULL, tag);
    if (rc) {
        memcpy(pkt + n, tag, AES_GCM_TAG);
        memcpy(pkt + n + AES_GCM_TAG, e_index, 4);
    }
    return rc;
}

enum engine_input srtps_unprotect_rtcp(struct srtps_session *ses, uint8_t *pkt, size_t *len)
{
    struct srtps_session_impl *s = srtps_impl(ses);
    size_t n = *len, trailer = rtcp_trailer(s);
    if (n < RTCP_HEADER + trailer || (pkt[0] >> 6) != 2) {
        s->c.malformed++;
        return ENGINE_IN_MALFORMED;
    }
    n -= trailer;
    struct srtps_direction *d = &s->rx;
    uint32_t ssrc = wire_get32(pkt + 4);
    if (ssrc_check(d, ssrc)) {
        s->c.foreign_ssrc++;
        return ENGINE_IN_IGNORED;
    }
    bool aead = is_aead(s), alt;
    size_t ml = s->mki_len;
    uint32_t e_index = wire_get32(pkt + n + (aead ? AES_GCM_TAG : 0));
    uint32_t index = e_index & SRTPS_MAX_SRTCP_INDEX;
    if (window_check(&d->rtcp, index)) {
        s->c.replays++;
        return ENGINE_IN_MALFORMED;
    }
    const struct aes_gcm_key *unused;
    const struct srtps_keyset *ks =
        rx_keys(s, pkt + n + 4 + (aead ? AES_GCM_TAG : 0), &unused, &alt);
    if (!ks) { /* an MKI we hold no key for */
        s->c.auth_failures++;
        return ENGINE_IN_MALFORMED;
    }
    struct aes_gcm_key k;
    rtcp_key(s, ks, &k);
    int rc = 0;
    if (aead) {
        uint8_t iv[AES_GCM_IV], aad[RTCP_HEADER + 4];
        make_iv(iv, ks->rtcp_salt, AES_GCM_IV, ssrc, index);
        if (e_index & SRTCP_E) {
            memcpy(aad, pkt, RTCP_HEADER);
            wire_put32(aad + RTCP_HEADER, e_index);
            rc = aes_gcm_open(&k, iv, aad, sizeof(aad), pkt + RTCP_HEADER, n - RTCP_HEADER,
                              pkt + RTCP_HEADER, pkt + n);
        } else {
            rc = rtcp_open_clear(&k, iv, pkt, n);
        }
    } else {
        uint8_t mac[SHA_DIGEST_LENGTH];
        hmac(&ks->rtcp_auth, pkt, n + 4, NULL, 0, mac);
        if (!tag_equal(mac, pkt + n + 4 + ml, s->rtcp_tag_len)) {
            rc = -EACCES;
        } else if (e_index & SRTCP_E) {
            uint8_t iv[CM_IV];
            make_iv(iv, ks->rtcp_salt, 14, ssrc, index);
            cm_xor(&k, iv, pkt + RTCP_HEADER, n - RTCP_HEADER);
        }
    }
    aes_gcm_wipe(&k);
    if (rc) {
        s->c.auth_failures++;
        return ENGINE_IN_MALFORMED;
    }
    if (alt)
        rx_alt_used(s);
    accepted(d, &d->rtcp, index, ssrc);
    *len = n;
    s->c.unprotected_rtcp++;
    return ENGINE_IN_ACCEPTED;
}
