/* SPDX-License-Identifier: MIT */
/*
 * srtp_session: our SRTP and SRTCP (RFC 3711) for one peer connection,
 * both directions, all state in one fixed-size struct and no allocation
 * at all, in place of libsrtp2 (crypto/media_srtp.h), whose sessions take
 * tens of KB of heap each.
 *
 * Suites: the AES-CM / HMAC-SHA1 profiles that DTLS-SRTP negotiates with
 * mbedTLS 2.28: SRTP_AES128_CM_HMAC_SHA1_80 (profile 1) and
 * SRTP_AES128_CM_HMAC_SHA1_32 (profile 2; a 4-byte SRTP tag, SRTCP keeps
 * its 10-byte tag, RFC 5764 §4.1.2). No MKI. Key derivation rate 0.
 *
 * Session keys come from a 16-byte master key and 14-byte master salt per
 * direction by the AES-CM PRF (RFC 3711 §4.3, labels 0..5). Encryption is
 * AES-CM (§4.1.1) on mbedTLS's AES block function (AES-NI when the CPU has
 * it); authentication is HMAC-SHA1 (§4.2.1) on mbedTLS's SHA-1 with the
 * inner and outer padded-key states computed once, so a packet costs two
 * SHA-1 finishes. The SRTP AES round keys are kept expanded (176 bytes a
 * direction); the SRTCP ones are kept as the 16-byte key and expanded on
 * the stack for each RTCP packet (RTCP is a few packets a second), which
 * keeps struct srtps_session at 760 bytes.
 *
 * One outbound and one inbound SSRC per session: each is set with
 * srtps_set_ssrc or learned from the first packet protected (outbound) or
 * the first packet that authenticates (inbound); RTP and RTCP of a
 * direction share it (RTCP: the sender SSRC, bytes 4..7). Packets of
 * another SSRC are refused (-ENOENT, counted inbound).
 *
 * Sender: the packet index is estimated from the sequence number as on the
 * receiver (RFC 3711 §3.3.1), so the ROC increments when the sequence
 * number wraps; protecting an index that was already protected is refused
 * (-EALREADY: a keystream would be used twice), as libsrtp2 does. The
 * SRTCP index starts at 1 and increments per packet (libsrtp2's choice,
 * kept so that outputs are byte for byte libsrtp2's). Receiver: index
 * estimation with ROC tracking and a 64-packet replay window (§3.3.2) for
 * SRTP, another on the 31-bit SRTCP index; both are checked before
 * authentication and moved only by packets that authenticate.
 *
 * Time model: none; SRTP carries no time and nothing here reads a clock.
 * Sans-I/O: packets are protected and unprotected in place in caller
 * buffers. A struct srtps_session holds no pointers and may be copied or
 * moved between calls. One session is used by one thread at a time;
 * different sessions are independent. mbedTLS builds its AES tables on the
 * first key set-up of the process (a race if two threads do that first
 * set-up at once): make one srtps_init before starting lcores.
 */
#ifndef SWARMGEN_CRYPTO_SRTP_SESSION_H
#define SWARMGEN_CRYPTO_SRTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum srtps_profile {
    SRTPS_AES128_CM_SHA1_80 = 1, /* DTLS-SRTP profile 0x0001 */
    SRTPS_AES128_CM_SHA1_32 = 2, /* DTLS-SRTP profile 0x0002 */
};

#define SRTPS_KEY_LEN         16 /* master (and session) key */
#define SRTPS_SALT_LEN        14 /* master (and session) salt */
#define SRTPS_MASTER_LEN      30 /* master key || master salt */
#define SRTPS_KEYING_LEN      60 /* DTLS-SRTP exporter output, RFC 5764 §4.2 */
#define SRTPS_RTP_MAX_TRAILER 10 /* bytes srtps_protect_rtp may add */
#define SRTPS_RTCP_TRAILER    14 /* E || SRTCP index (4) + 10-byte tag */
#define SRTPS_REPLAY_WINDOW   64
#define SRTPS_MAX_SRTCP_INDEX 0x7fffffffu

/* Per-session counters, written only by the thread using the session.
 * Refusals are counted on the receiving side only; protect's refusals are
 * the caller's to handle. Every refused unprotect call counts exactly one
 * of auth_failures, replays, malformed, foreign_ssrc. */
struct srtps_counters {
    uint64_t protected_rtp, unprotected_rtp, protected_rtcp, unprotected_rtcp;
    uint64_t auth_failures; /* tag mismatch (-EACCES) */
    uint64_t replays;       /* already accepted, or behind the window (-EALREADY) */
    uint64_t malformed;     /* truncated or not RTP/RTCP version 2 (-EBADMSG) */
    uint64_t foreign_ssrc;  /* not the session's inbound SSRC (-ENOENT) */
};

/* HMAC-SHA1 of one key: SHA-1 states after the 64-byte key^ipad and
 * key^opad blocks. */
struct srtps_hmac {
    uint32_t inner[5], outer[5];
};

/* Replay state: `top` the highest index accepted (or protected), bit i of
 * `seen` set when index top - i was; seen == 0 until the first packet. */
struct srtps_replay {
    uint64_t top;
    uint64_t seen;
};

/* The keys and state of one direction (what we send, or what we receive). */
struct srtps_direction {
    uint32_t rtp_rk[44]; /* AES-128 encryption round keys, mbedTLS's layout */
    struct srtps_hmac rtp_auth;
    struct srtps_hmac rtcp_auth;
    struct srtps_replay rtp;  /* SRTP index: ROC << 16 | SEQ */
    struct srtps_replay rtcp; /* SRTCP index */
    uint8_t rtcp_key[SRTPS_KEY_LEN];
    uint8_t rtp_salt[SRTPS_SALT_LEN];
    uint8_t rtcp_salt[SRTPS_SALT_LEN];
    uint32_t ssrc;
    bool ssrc_known;
};

struct srtps_session {
    struct srtps_direction tx, rx;
    struct srtps_counters c;
    enum srtps_profile profile;
    uint8_t rtp_tag_len; /* 10 or 4; the SRTCP tag is always 10 */
};

/* Keys a session: `local` keys what we send, `remote` what we receive,
 * each master key || master salt (SRTPS_MASTER_LEN bytes, read only during
 * the call). Both SSRCs are left to be learned and every counter is zero.
 * Returns 0, or -EINVAL for an unknown profile (the session is then
 * zeroed). No allocation; the caller owns `s`. */
int srtps_init(struct srtps_session *s, enum srtps_profile profile, const uint8_t *local,
               const uint8_t *remote);

/* Splits DTLS-SRTP keying material (RFC 5764 §4.2: client_write_key,
 * server_write_key, client_write_salt, server_write_salt, SRTPS_KEYING_LEN
 * bytes) into the local and remote master keys of our role, each
 * SRTPS_MASTER_LEN bytes, written to caller buffers. The layout of
 * media_srtp_split_keying for the AES-CM suites. */
void srtps_split_keying(const uint8_t *material, bool is_client, uint8_t *local, uint8_t *remote);

/* Fixes the SSRC of one direction (outbound: what protect accepts;
 * inbound: what unprotect accepts) instead of learning it from the first
 * packet. Returns 0, or -EBUSY once that direction has an SSRC (set or
 * learned). */
int srtps_set_ssrc(struct srtps_session *s, bool outbound, uint32_t ssrc);

/* Protects the RTP packet pkt[0..*len) in place in a buffer of `cap`
 * bytes: the payload after the header (CSRCs and header extension
 * included in the header) is encrypted and the tag (rtp_tag_len bytes) is
 * appended; *len grows by it. Returns 0; -EBADMSG if pkt is not an RTP
 * version 2 packet whose header fits in *len; -ENOSPC if cap < *len +
 * tag; -ENOENT for an SSRC other than the session's outbound one;
 * -EALREADY for an index already protected (or too far behind to tell);
 * -EKEYEXPIRED after 2^48 packets. Nothing is written on failure. */
int srtps_protect_rtp(struct srtps_session *s, uint8_t *pkt, size_t *len, size_t cap);

/* Authenticates, checks for replay and decrypts the SRTP packet
 * pkt[0..*len) in place; *len shrinks by the tag. Returns 0; -EBADMSG
 * (malformed or truncated: not version 2, header beyond the packet, no
 * room for the tag); -ENOENT (another SSRC than the inbound one); -EALREADY
 * (replay, or behind the 64-packet window); -EACCES (authentication
 * failure). Each failure is counted and leaves pkt, *len and the replay
 * state unchanged. */
int srtps_unprotect_rtp(struct srtps_session *s, uint8_t *pkt, size_t *len);

/* Protects the RTCP compound packet pkt[0..*len) in place: everything
 * after the first 8 bytes is encrypted, E=1 || SRTCP index and the 10-byte
 * tag are appended (*len grows by SRTPS_RTCP_TRAILER). Returns 0; -EBADMSG
 * if shorter than 8 bytes or not version 2; -ENOSPC if cap < *len + 14;
 * -ENOENT for a sender SSRC other than the outbound one; -EKEYEXPIRED
 * after 2^31 - 1 packets. Nothing is written on failure. */
int srtps_protect_rtcp(struct srtps_session *s, uint8_t *pkt, size_t *len, size_t cap);

/* Authenticates, checks for replay and decrypts (when E is set) the SRTCP
 * packet pkt[0..*len) in place; *len shrinks by SRTPS_RTCP_TRAILER.
 * Returns and counts as srtps_unprotect_rtp; -EBADMSG below 8 + 14
 * bytes. */
int srtps_unprotect_rtcp(struct srtps_session *s, uint8_t *pkt, size_t *len);

/* Erases every key of the session (the counters stay readable). Safe
 * twice; the session must be keyed again before use. */
void srtps_clear(struct srtps_session *s);

/* The primitives, exposed for tests and for callers that need them on a
 * slow path. Both set up an AES key on the stack for each call. */

/* RFC 3711 §4.3.1 with key_derivation_rate 0: writes n bytes of session
 * key material for `label` (0..5: SRTP key, auth key, salt; SRTCP the
 * same) from a master key and a master salt. */
void srtps_derive(const uint8_t *master_key, const uint8_t *master_salt, uint8_t label,
                  uint8_t *out, size_t n);

/* XORs n bytes of AES-CM keystream (RFC 3711 §4.1.1) under `key` into
 * buf: block j is AES(iv with j added to its last 16 bits, modulo 2^16).
 * n must be at most 2^20 bytes; returns 0 or -EINVAL beyond that. */
int srtps_aes_cm_xor(const uint8_t *key, const uint8_t *iv, uint8_t *buf, size_t n);

#endif
