/* SPDX-License-Identifier: MIT */
/* libFuzzer target: our SRTP/SRTCP unprotect paths on arbitrary bytes, for
 * all four profiles. The first byte chooses RTP or RTCP (bit 0), the
 * profile (bits 1-2) and a byte to change (the rest); the other bytes are
 * handed to unprotect as they are (nothing may open them: the keys are not
 * the fuzzer's), then the same bytes, as a plaintext, are protected by a
 * peer, must be refused with one byte changed, and must open again
 * byte-exact, once. Every call is counted exactly once, and a refusal
 * leaves the packet alone but for an AEAD authentication failure under a
 * key the receiver holds, which zeroes the encrypted part. With bit 7 of
 * the first byte, both ends use a 4-byte MKI: the receiver holds two keys
 * (its first, and a next one), the sender switches to that next key
 * before it protects, so the genuine packet opens under the second slot
 * and the receiver counts one switch; a changed MKI byte names no key. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srtp_session.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum srtps_profile profiles[4] = {SRTPS_AES128_CM_SHA1_80, SRTPS_AES128_CM_SHA1_32,
                                               SRTPS_AEAD_AES_128_GCM, SRTPS_AEAD_AES_256_GCM};

static uint64_t refusals(const struct srtps_counters *c)
{
    return c->auth_failures + c->replays + c->malformed + c->foreign_ssrc;
}

/* The fuzzer's own reading of an RTP header length (0: does not fit). */
static size_t hdr_len(const uint8_t *p, size_t len)
{
    if (len < 12 || p[0] >> 6 != 2)
        return 0;
    size_t h = 12 + 4 * (size_t)(p[0] & 15);
    if (p[0] & 0x10) {
        if (h + 4 > len)
            return 0;
        h += 4 + 4 * (size_t)wire_get16(p + h + 2);
    }
    return h <= len ? h : 0;
}

#define MKI_LEN   4
#define MKI_FIRST 0x01020304u
#define MKI_NEXT  0x01020305u

/* Whether an AEAD packet in[0..n) names a key the receiver holds (its
 * MKI, the last MKI_LEN bytes, is one of the two; always without MKI). */
static bool known_mki(size_t ml, const uint8_t *in, size_t n)
{
    if (!ml)
        return true;
    uint32_t v = wire_get32(in + n - ml);
    return v == MKI_FIRST || v == MKI_NEXT;
}

/* What a refused unprotect of in[0..n) must leave: in itself, or for an
 * AEAD authentication failure under a key held, in with its encrypted
 * part zeroed. */
static void refused_image(bool aead, bool rtcp, bool auth_failed, size_t ml, const uint8_t *in,
                          size_t n, uint8_t *out)
{
    memcpy(out, in, n);
    if (!aead || !auth_failed || !known_mki(ml, in, n))
        return;
    if (rtcp) {
        if (n >= 28 + ml && (in[n - 4 - ml] & 0x80))
            memset(out + 8, 0, n - 28 - ml);
        return;
    }
    size_t h = hdr_len(in, n - 16 - ml);
    memset(out + h, 0, n - 16 - ml - h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536 + 64], copy[65536 + 64], want[65536 + 64], bad[65536 + 64];
    if (size < 1 || size > 65536)
        return 0;
    bool rtcp = data[0] & 1;
    enum srtps_profile prof = profiles[data[0] >> 1 & 3];
    bool aead = prof == SRTPS_AEAD_AES_128_GCM || prof == SRTPS_AEAD_AES_256_GCM;
    unsigned change = data[0] >> 3 & 15;
    size_t ml = data[0] & 0x80 ? MKI_LEN : 0;
    data++, size--;
    uint8_t a[SRTPS_MASTER_MAX], b[SRTPS_MASTER_MAX], c[SRTPS_MASTER_MAX];
    for (int i = 0; i < SRTPS_MASTER_MAX; i++)
        a[i] = (uint8_t)(i + 1), b[i] = (uint8_t)(0x80 + i), c[i] = (uint8_t)(0x40 + i);
    static struct srtps_session tx, rx;
    if (srtps_init(&tx, prof, a, b) || srtps_init(&rx, prof, b, a))
        abort();
    if (ml && (srtps_set_mki(&tx, ml, MKI_FIRST, 0) || srtps_set_mki(&rx, ml, 0, MKI_FIRST) ||
               srtps_add_rx_key(&rx, c, MKI_NEXT) || srtps_rekey_tx(&tx, c, MKI_NEXT)))
        abort();
    /* arbitrary bytes: refused (a fresh receiver has seen nothing, so
     * not as a replay), counted once, untouched */
    const struct srtps_counters *k = srtps_counters(&rx);
    memcpy(buf, data, size);
    size_t n = size;
    enum engine_input r = rtcp ? srtps_unprotect_rtcp(&rx, buf, &n) : srtps_unprotect_rtp(&rx, buf, &n);
    if (r == ENGINE_IN_ACCEPTED || refusals(k) != 1 || n != size)
        abort();
    if ((r == ENGINE_IN_IGNORED) != (k->foreign_ssrc == 1))
        abort();
    refused_image(aead, rtcp, k->auth_failures == 1, ml, data, size, want);
    if (memcmp(buf, want, size) != 0)
        abort();
    /* the same bytes protected by the peer */
    memcpy(buf, data, size);
    n = size;
    int rc = rtcp ? srtps_protect_rtcp(&tx, buf, &n, sizeof(buf))
                  : srtps_protect_rtp(&tx, buf, &n, sizeof(buf));
    if (rc != 0)
        return 0; /* not an RTP/RTCP packet of version 2 */
    memcpy(copy, buf, n);
    /* with one byte changed: refused, counted, the window unmoved */
    size_t m = n, at = (change * 131u + size) % n;
    memcpy(bad, copy, n);
    bad[at] ^= (uint8_t)(1u << (change & 7));
    memcpy(buf, bad, n);
    uint64_t auth = k->auth_failures;
    r = rtcp ? srtps_unprotect_rtcp(&rx, buf, &m) : srtps_unprotect_rtp(&rx, buf, &m);
    if (r == ENGINE_IN_ACCEPTED || refusals(k) != 2 || m != n)
        abort();
    refused_image(aead, rtcp, k->auth_failures != auth, ml, bad, n, want);
    if (memcmp(buf, want, n) != 0)
        abort();
    /* the genuine packet opens */
    memcpy(buf, copy, n);
    m = n;
    r = rtcp ? srtps_unprotect_rtcp(&rx, buf, &m) : srtps_unprotect_rtp(&rx, buf, &m);
    if (r != ENGINE_IN_ACCEPTED || m != size || memcmp(buf, data, size) != 0)
        abort();
    if (k->rekeys_seen != (ml ? 1u : 0u) || k->rx_prev_key != 0)
        abort();
    /* and once only */
    m = n;
    r = rtcp ? srtps_unprotect_rtcp(&rx, copy, &m) : srtps_unprotect_rtp(&rx, copy, &m);
    if (r != ENGINE_IN_MALFORMED || refusals(k) != 3 || k->replays != 1)
        abort();
    return 0;
}
