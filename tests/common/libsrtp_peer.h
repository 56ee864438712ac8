/* SPDX-License-Identifier: MIT */
/*
 * libsrtp_peer: Debian's libsrtp2 keyed for one of the four DTLS-SRTP
 * profiles of crypto/srtp_session.h, the implementation we did not write
 * that our SRTP is checked against (tests/crypto/test_srtp_session.c) and
 * timed beside (bench/crypto/srtp_bench.c). One srtp_t per direction, any
 * SSRC, a replay window of 128. The caller has run srtp_init() once.
 * Header-only; tests and benchmarks only.
 */
#ifndef SWARMGEN_TESTS_LIBSRTP_PEER_H
#define SWARMGEN_TESTS_LIBSRTP_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "srtp_session.h"

/* The libsrtp2 crypto policy of profile p for SRTP or, with rtcp, SRTCP
 * (SRTCP of AES128_CM_SHA1_32 keeps the 80-bit tag: RFC 5764 4.1.2). */
static inline void libsrtp_policy(srtp_crypto_policy_t *c, enum srtps_profile p, bool rtcp)
{
    if (p == SRTPS_AEAD_AES_128_GCM)
        srtp_crypto_policy_set_aes_gcm_128_16_auth(c);
    else if (p == SRTPS_AEAD_AES_256_GCM)
        srtp_crypto_policy_set_aes_gcm_256_16_auth(c);
    else if (p == SRTPS_AES128_CM_SHA1_32 && !rtcp)
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(c);
    else
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(c);
}

/* A libsrtp2 session of profile p into *s: the sender's (outbound) or the
 * receiver's of one direction, keyed with `key` (master key || master
 * salt, srtps_master_len(p) bytes, as srtps_init takes them; libsrtp2
 * copies it). Returns
 * srtp_create's status: srtp_err_status_ok, or the reason it refused
 * (then *s is not set). */
static inline srtp_err_status_t libsrtp_session(srtp_t *s, enum srtps_profile p,
                                                const uint8_t *key, bool outbound)
{
    srtp_policy_t pol;
    memset(&pol, 0, sizeof(pol));
    libsrtp_policy(&pol.rtp, p, false);
    libsrtp_policy(&pol.rtcp, p, true);
    pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    pol.key = (unsigned char *)key;
    pol.window_size = 128;
    return srtp_create(s, &pol);
}

/* As libsrtp_session, with n master keys (n <= SRTP_MAX_NUM_MASTER_KEYS):
 * keys[i] (master key || master salt) identified by the MKI mki[i],
 * written big-endian in mki_len bytes (1..4) as srtps_set_mki writes it.
 * Packets then go through srtp_protect_mki / srtp_unprotect_mki (and the
 * _rtcp_ ones) with use_mki set and the key's index. */
static inline srtp_err_status_t libsrtp_session_mki(srtp_t *s, enum srtps_profile p,
                                                    const uint8_t *const *keys, const uint32_t *mki,
                                                    unsigned n, unsigned mki_len, bool outbound)
{
    srtp_master_key_t mk[SRTP_MAX_NUM_MASTER_KEYS], *mkp[SRTP_MAX_NUM_MASTER_KEYS];
    unsigned char ids[SRTP_MAX_NUM_MASTER_KEYS][4];
    srtp_policy_t pol;
    memset(&pol, 0, sizeof(pol));
    libsrtp_policy(&pol.rtp, p, false);
    libsrtp_policy(&pol.rtcp, p, true);
    pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    for (unsigned i = 0; i < n && i < SRTP_MAX_NUM_MASTER_KEYS; i++) {
        for (unsigned b = 0; b < mki_len; b++)
            ids[i][b] = (unsigned char)(mki[i] >> (8 * (mki_len - 1 - b)));
        mk[i].key = (unsigned char *)keys[i];
        mk[i].mki_id = ids[i];
        mk[i].mki_size = mki_len;
        mkp[i] = &mk[i];
    }
    pol.keys = mkp;
    pol.num_master_keys = n;
    pol.window_size = 128;
    return srtp_create(s, &pol); /* copies the keys and MKIs */
}

#endif
