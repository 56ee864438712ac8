/* SPDX-License-Identifier: MIT */
/*
 * srtp_session_internal: the layout behind struct srtps_session
 * (SRTPS_SESSION_SIZE bytes), for srtp_session.c and its tests. Nothing
 * outside crypto/ and its tests includes it: callers read a session
 * through srtp_session.h's functions.
 */
#ifndef SWARMGEN_CRYPTO_SRTP_SESSION_INTERNAL_H
#define SWARMGEN_CRYPTO_SRTP_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "aes_gcm.h"
#include "srtp_session.h"

/* HMAC-SHA1 of one key: SHA-1 chaining values after the 64-byte key^ipad
 * and key^opad blocks (AES-CM profiles only). */
struct srtps_hmac {
    uint32_t inner[5], outer[5];
};

/* Replay state: `top` the highest index accepted (or protected), bit i of
 * `seen` set when index top - i was; seen == 0 until the first packet. */
struct srtps_replay {
    uint64_t top;
    uint64_t seen;
};

/* The session keys of one master key of one direction but its expanded
 * SRTP key, which struct srtps_session_impl keeps apart so that the
 * 512-byte keys pack without padding; `mki` is the master key's MKI (its
 * low mki_len bytes on the wire, big-endian; 0 without MKI). */
struct srtps_keyset {
    struct srtps_hmac rtp_auth;        /* AES-CM profiles */
    struct srtps_hmac rtcp_auth;       /* AES-CM profiles */
    uint8_t rtcp_key[SRTPS_KEY_MAX];   /* unexpanded: 16 or 32 bytes used */
    uint8_t rtp_salt[SRTPS_SALT_MAX];  /* 14 (AES-CM) or 12 (AEAD) bytes used */
    uint8_t rtcp_salt[SRTPS_SALT_MAX];
    uint32_t mki;
};

/* The keys and state of one direction (what we send, or what we receive):
 * the current key set, and the index and replay state, which stay across a
 * key switch (one crypto context per SSRC, RFC 3711 §3.2.1; libsrtp2
 * keeps one replay database per stream for all its master keys too). */
struct srtps_direction {
    struct srtps_keyset k;
    struct srtps_replay rtp;  /* SRTP index: ROC << 16 | SEQ */
    struct srtps_replay rtcp; /* SRTCP index */
    uint32_t ssrc;
    bool ssrc_known;
};

/* What the second inbound key slot (rx_alt_key, rx_alt) holds. */
enum srtps_alt {
    SRTPS_ALT_EMPTY = 0,
    SRTPS_ALT_NEXT, /* installed by srtps_add_rx_key, not yet seen */
    SRTPS_ALT_PREV, /* the key the peer left, kept for the grace window */
};

struct srtps_session_impl {
    struct aes_gcm_key tx_key, rx_key; /* SRTP session keys, expanded */
    struct aes_gcm_key rx_alt_key;     /* the second inbound key (MKI only) */
    struct srtps_direction tx, rx;
    struct srtps_keyset rx_alt;
    struct srtps_counters c;
    enum srtps_profile profile;
    uint8_t rtp_tag_len;  /* 10, 4 or 16 */
    uint8_t rtcp_tag_len; /* 10 or 16 */
    uint8_t aes_impl;     /* enum aes_impl of both keys, and of each SRTCP key */
    uint8_t mki_len;      /* 0 (no MKI) .. SRTPS_MKI_MAX */
    uint8_t alt;          /* enum srtps_alt */
};

ENGINE_STORAGE(struct srtps_session, struct srtps_session_impl, srtps_impl, srtps_cimpl)

#endif
