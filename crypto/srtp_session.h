/* SPDX-License-Identifier: MIT */
/*
 * srtp_session: our SRTP and SRTCP (RFC 3711, RFC 7714) for one peer
 * connection, both directions, all state in one fixed-size struct and no
 * allocation at all, in place of libsrtp2 (crypto/media_srtp.h), whose
 * sessions take tens of KB of heap each.
 *
 * Profiles: the four that DTLS-SRTP negotiates (RFC 5764, RFC 7714), each
 * enum value its DTLS-SRTP profile number:
 *   SRTP_AES128_CM_HMAC_SHA1_80 (1)  AES-128-CM, HMAC-SHA1, 10-byte tag
 *   SRTP_AES128_CM_HMAC_SHA1_32 (2)  the same, a 4-byte SRTP tag (SRTCP
 *                                    keeps its 10-byte tag, RFC 5764 §4.1.2)
 *   SRTP_AEAD_AES_128_GCM (7)        AES-128-GCM, 16-byte tag (RFC 7714)
 *   SRTP_AEAD_AES_256_GCM (8)        AES-256-GCM, 16-byte tag (RFC 7714)
 * Key derivation rate 0. MKI (RFC 3711 §3.1, §8.1): off by default; with
 * srtps_set_mki every packet carries the MKI of the master key that
 * protected it (1..4 bytes), placed where libsrtp2 2.5 places it: AES-CM
 * SRTP payload || MKI || tag, SRTCP payload || E,index || MKI || tag;
 * AEAD SRTP payload || tag || MKI, SRTCP payload || tag || E,index || MKI.
 * The MKI is not authenticated (RFC 3711 §3.1, RFC 7714 §8.1, §9.1).
 * Rotation: the sender switches at once (srtps_rekey_tx); the receiver
 * holds two inbound master keys, its current one and a second slot that
 * is either the next key (srtps_add_rx_key, not yet seen) or, once a
 * packet under that next key authenticates and it becomes current, the
 * previous key, still accepted until the caller ends its grace window
 * (srtps_end_rx_grace, or installing the next key). The index, ROC and
 * replay windows of a direction stay across a switch (one crypto context
 * per SSRC), as in libsrtp2.
 *
 * Keys: per direction a master key (16 or 32 bytes) and master salt (14
 * bytes for AES-CM, 12 for AEAD), from which the AES-CM PRF (RFC 3711 §4.3,
 * labels 0..5; RFC 7714 §11 for the AEAD profiles, the 12-byte salt in
 * the first 12 of the PRF's 14 bytes, as libsrtp2 does) derives the
 * session keys. AES-CM (§4.1.1) and AES-GCM both run on crypto/aes_gcm.h
 * (VAES/AVX-512, AES-NI or portable, chosen per key from the CPU);
 * HMAC-SHA1 (§4.2.1) on OpenSSL's SHA-1 (SHA-NI where the CPU has it), with
 * the inner and outer padded-key states computed once, so a packet costs
 * its bytes of SHA-1 plus one block. The SRTP key of each direction is
 * kept expanded (512 bytes, struct aes_gcm_key); the SRTCP key is kept as
 * its 16 or 32 bytes and expanded on the stack for each RTCP packet (RTCP
 * is a few packets a second). struct srtps_session is 2,176 bytes (34
 * cache lines) for every profile, 64-byte aligned.
 *
 * AEAD (RFC 7714): the 12-byte IV is the session salt XOR 00 00 || SSRC ||
 * ROC || SEQ (§8.1); the RTP header (CSRCs and extension included) is the
 * additional data and the payload is encrypted, the 16-byte tag appended.
 * SRTCP (§9): IV salt XOR 00 00 || SSRC || 00 00 || 0 || index, additional
 * data the first 8 bytes and E || SRTCP index (§17), the payload after the
 * first 8 bytes encrypted, then the tag, then E || index. An SRTCP packet
 * received with E = 0 is authenticated as a whole (all of it additional
 * data) and accepted as it is; we always send E = 1.
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
 * (-EALREADY: a keystream or a GCM IV would be used twice), as libsrtp2
 * does. The SRTCP index starts at 1 and increments per packet (libsrtp2's
 * choice, kept so that outputs are byte for byte libsrtp2's). Receiver:
 * index estimation with ROC tracking and a 64-packet replay window
 * (§3.3.2) for SRTP, another on the 31-bit SRTCP index; both are checked
 * before authentication and moved only by packets that authenticate.
 *
 * Time model: none; SRTP carries no time and nothing here reads a clock.
 * Sans-I/O: packets are protected and unprotected in place in caller
 * buffers. A struct srtps_session holds no pointers and may be copied or
 * moved between calls (to 64-byte aligned memory). One session is used by
 * one thread at a time; different sessions are independent and every
 * function is reentrant.
 */
#ifndef SWARMGEN_CRYPTO_SRTP_SESSION_H
#define SWARMGEN_CRYPTO_SRTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aes_gcm.h" /* enum aes_impl, for srtps_init_impl */
#include "engine.h"

/* The DTLS-SRTP protection profile numbers (RFC 5764 §4.1.2, RFC 7714
 * §14.2): pass the negotiated one (dtls_srtp_profile) as it is. */
enum srtps_profile {
    SRTPS_AES128_CM_SHA1_80 = 1, /* DTLS-SRTP profile 0x0001 */
    SRTPS_AES128_CM_SHA1_32 = 2, /* DTLS-SRTP profile 0x0002 */
    SRTPS_AEAD_AES_128_GCM = 7,  /* DTLS-SRTP profile 0x0007 */
    SRTPS_AEAD_AES_256_GCM = 8,  /* DTLS-SRTP profile 0x0008 */
};

#define SRTPS_KEY_MAX             32 /* master (and session) key: 16, or 32 for AEAD_AES_256_GCM */
#define SRTPS_SALT_MAX            14 /* master (and session) salt: 14 AES-CM, 12 AEAD */
#define SRTPS_MASTER_MAX          44 /* master key || master salt, longest profile */
#define SRTPS_KEYING_MAX          88 /* DTLS-SRTP exporter output, longest profile (RFC 5764 §4.2) */
#define SRTPS_MKI_MAX             4  /* MKI bytes per packet at most (srtps_set_mki) */
#define SRTPS_RTP_MAX_TRAILER     20 /* bytes srtps_protect_rtp may add (10, 4 or 16, + MKI) */
#define SRTPS_RTCP_MAX_TRAILER    24 /* bytes srtps_protect_rtcp may add (14 or 20, + MKI) */
#define SRTPS_REPLAY_WINDOW       64
#define SRTPS_MAX_SRTCP_INDEX     0x7fffffffu
#define SRTPS_SESSION_SIZE        2176 /* sizeof(struct srtps_session), every profile */

/* Per-session counters, written only by the thread using the session.
 * Refusals are counted on the receiving side only; protect's refusals are
 * the caller's to handle. Every refused unprotect call counts exactly one
 * of auth_failures, replays, malformed, foreign_ssrc. With MKI, every
 * accepted packet is under the current inbound key or under the previous
 * one (rx_prev_key counts those), and an unknown MKI is an auth_failure. */
struct srtps_counters {
    uint64_t protected_rtp, unprotected_rtp, protected_rtcp, unprotected_rtcp;
    uint64_t auth_failures; /* tag mismatch (ENGINE_IN_MALFORMED) */
    uint64_t replays;       /* already accepted, or behind the window (ENGINE_IN_MALFORMED) */
    uint64_t malformed;     /* truncated or not RTP/RTCP version 2 (ENGINE_IN_MALFORMED) */
    uint64_t foreign_ssrc;  /* not the session's inbound SSRC (ENGINE_IN_IGNORED) */
    uint64_t rekeys;        /* outbound key switches (srtps_rekey_tx) */
    uint64_t rekeys_seen;   /* inbound switches: a packet under the next key authenticated */
    uint64_t rx_prev_key;   /* SRTP and SRTCP packets accepted under the previous inbound key */
};

/* One session, both directions: SRTPS_SESSION_SIZE bytes of caller
 * memory, 64-byte aligned (it holds two expanded AES keys), its layout
 * private to crypto/ (srtp_session_internal.h); read it through
 * srtps_counters. */
struct srtps_session {
    _Alignas(64) unsigned char opaque[SRTPS_SESSION_SIZE];
};

/* The length of master key || master salt of a profile: 30 (AES-CM), 28
 * (AEAD_AES_128_GCM) or 44 (AEAD_AES_256_GCM); 0 for an unknown profile.
 * Thread-safe. */
size_t srtps_master_len(enum srtps_profile profile);

/* The length of the DTLS-SRTP keying material of a profile (RFC 5764
 * §4.2: 2 x (key + salt)): 60, 60, 56 or 88 bytes; 0 for an unknown
 * profile. Equal to dtls_srtp_keying_len for the same number.
 * Thread-safe. */
size_t srtps_keying_len(enum srtps_profile profile);

/* Keys a session: `local` keys what we send, `remote` what we receive,
 * each master key || master salt (srtps_master_len(profile) bytes, read
 * only during the call). Both SSRCs are left to be learned and every
 * counter is zero. Returns 0, or -EINVAL for an unknown profile (the
 * session is then zeroed). No allocation; the caller owns `s`. Costs
 * 0.9-1.0 us (AEAD) or 1.5 us (AES-CM: four more SHA-1 blocks) on the
 * VAES path: four key expansions and the PRF. Reentrant. */
int srtps_init(struct srtps_session *s, enum srtps_profile profile, const uint8_t *local,
               const uint8_t *remote);

/* As srtps_init, with every AES key of the session on the path `aes_impl`
 * (enum aes_impl; -1 for the fastest the CPU has): for tests and
 * benchmarks that compare paths. Returns 0; -EINVAL for an unknown profile
 * or an aes_impl outside -1 and enum aes_impl; -ENOTSUP when the CPU lacks
 * that path. The session is zeroed on failure. */
int srtps_init_impl(struct srtps_session *s, enum srtps_profile profile, const uint8_t *local,
                    const uint8_t *remote, int aes_impl);

/* Splits DTLS-SRTP keying material of a profile (RFC 5764 §4.2:
 * client_write_key, server_write_key, client_write_salt,
 * server_write_salt; srtps_keying_len(profile) bytes) into the local and
 * remote master keys of our role, each srtps_master_len(profile) bytes
 * (at most SRTPS_MASTER_MAX), written to caller buffers. Returns 0, or
 * -EINVAL for an unknown profile (nothing written). For the AES-CM
 * profiles the layout of media_srtp_split_keying. Reentrant. */
int srtps_split_keying(enum srtps_profile profile, const uint8_t *material, bool is_client,
                       uint8_t *local, uint8_t *remote);

/* Fixes the SSRC of one direction (outbound: what protect accepts;
 * inbound: what unprotect accepts) instead of learning it from the first
 * packet. Returns 0, or -EBUSY once that direction has an SSRC (set or
 * learned). */
int srtps_set_ssrc(struct srtps_session *s, bool outbound, uint32_t ssrc);

/* Turns on the MKI for the keys srtps_init installed: mki_len bytes (1 to
 * SRTPS_MKI_MAX; 0 turns it off) on every packet, `tx_mki` identifying
 * the outbound master key and `rx_mki` the inbound one (each must fit in
 * mki_len bytes). Returns 0, or -EINVAL (nothing changed). */
int srtps_set_mki(struct srtps_session *s, size_t mki_len, uint32_t tx_mki, uint32_t rx_mki);

/* Switches the outbound direction to a new master key (master key ||
 * master salt, srtps_master_len bytes, read during the call) with MKI
 * `mki`: every later packet is protected under it. The index continues.
 * Counts c.rekeys. Returns 0; -EINVAL without MKI on, or for an MKI that
 * does not fit in mki_len bytes. Costs one key schedule (about 1 us). */
int srtps_rekey_tx(struct srtps_session *s, const uint8_t *master, uint32_t mki);

/* Installs the next inbound master key with MKI `mki` into the second
 * slot, ending the grace window of whatever it held (the previous key).
 * The first packet under it that authenticates makes it current (counted
 * in c.rekeys_seen) and the old current key the previous one. Returns 0;
 * -EINVAL without MKI on or for an MKI that does not fit; -EEXIST when
 * `mki` is the current inbound key's. */
int srtps_add_rx_key(struct srtps_session *s, const uint8_t *master, uint32_t mki);

/* The master key || master salt of key generation `gen` (>= 1) from the
 * previous generation's, `prev` (srtps_master_len(profile) bytes; the
 * DTLS-SRTP one for generation 1): HKDF-Expand (RFC 5869 §2.3) with
 * HMAC-SHA256, PRK = prev, info = "swarmgen srtp rekey" || gen as 4
 * bytes big-endian, L = srtps_master_len(profile). Both ends of a
 * connection compute the same chain from what DTLS-SRTP exported; a
 * generation does not reveal the earlier ones. out may be prev. Returns
 * 0, or -EINVAL for an unknown profile. No allocation (OpenSSL's SHA-256
 * block functions). */
int srtps_next_master(enum srtps_profile profile, const uint8_t *prev, uint32_t gen, uint8_t *out);

/* Ends the grace window: the previous inbound key (if the second slot
 * holds one) is erased, and its MKI is unknown from now on. A pending next
 * key stays. Safe at any time. */
void srtps_end_rx_grace(struct srtps_session *s);

/* Protects the RTP packet pkt[0..*len) in place in a buffer of `cap`
 * bytes: the payload after the header (CSRCs and header extension
 * included in the header) is encrypted and the tag (rtp_tag_len bytes: 10,
 * 4 or 16) is appended; *len grows by it. Returns 0; -EBADMSG if pkt is
 * not an RTP version 2 packet whose header fits in *len; -ENOSPC if cap <
 * *len + tag; -ENOENT for an SSRC other than the session's outbound one;
 * -EALREADY for an index already protected (or too far behind to tell);
 * -EKEYEXPIRED after 2^48 packets. Nothing is written on failure.
 * Cost with the unprotect at the other end (bench/crypto/srtp_bench,
 * docs/srtp.md; VAES path): 1,200 bytes 219 ns (AEAD_AES_128_GCM), 254 ns
 * (AEAD_AES_256_GCM), 1.6 us (AES-CM + HMAC-SHA1, 1.4 us of it SHA-1);
 * 160 bytes 95, 104 and 478 ns. */
int srtps_protect_rtp(struct srtps_session *s, uint8_t *pkt, size_t *len, size_t cap);

/* Authenticates, checks for replay and decrypts the SRTP packet
 * pkt[0..*len) in place; *len shrinks by the tag. Returns, as every
 * engine's handle_input (engine.h): ENGINE_IN_ACCEPTED; ENGINE_IN_IGNORED
 * for another SSRC than the inbound one (counted in foreign_ssrc: another
 * stream's packet); ENGINE_IN_MALFORMED when refused, the reason counted
 * in exactly one of malformed (truncated, not version 2, header beyond
 * the packet, no room for the tag), replays (already accepted, or behind
 * the 64-packet window) and auth_failures (the tag does not verify).
 * Never ENGINE_IN_FATAL. A refusal leaves *len and the replay state
 * unchanged, and pkt too, but for an authentication failure on the AEAD
 * profiles: the encrypted payload is then zeroed (GCM decrypts while it
 * authenticates; no unauthenticated plaintext is handed out). */
enum engine_input srtps_unprotect_rtp(struct srtps_session *s, uint8_t *pkt, size_t *len);

/* Protects the RTCP compound packet pkt[0..*len) in place: everything
 * after the first 8 bytes is encrypted; AES-CM appends E=1 || SRTCP index
 * and the 10-byte tag (14 bytes), AEAD the 16-byte tag and E=1 || SRTCP
 * index (20 bytes); *len grows by that. Returns 0; -EBADMSG if shorter
 * than 8 bytes or not version 2; -ENOSPC if cap is short of the trailer;
 * -ENOENT for a sender SSRC other than the outbound one; -EKEYEXPIRED
 * after 2^31 - 1 packets. Nothing is written on failure. Expands the
 * SRTCP key on the stack for the call: with the unprotect at the other
 * end, 80 bytes cost 0.4 us (AEAD) or 0.7 us (AES-CM). */
int srtps_protect_rtcp(struct srtps_session *s, uint8_t *pkt, size_t *len, size_t cap);

/* Authenticates, checks for replay and decrypts (when E is set) the SRTCP
 * packet pkt[0..*len) in place; *len shrinks by the trailer (14 or 20
 * bytes). Returns and counts as srtps_unprotect_rtp (an AEAD
 * authentication failure with E set zeroes the encrypted part; with E
 * clear nothing changes); malformed below 8 bytes plus the trailer. */
enum engine_input srtps_unprotect_rtcp(struct srtps_session *s, uint8_t *pkt, size_t *len);

/* The profile the session was keyed for (0 before srtps_init). */
enum srtps_profile srtps_profile_of(const struct srtps_session *s);

/* The session's counters (a pointer into s, valid as long as s). */
const struct srtps_counters *srtps_counters(const struct srtps_session *s);

/* Erases every key of the session (the counters stay readable). Safe
 * twice; the session must be keyed again before use. */
void srtps_clear(struct srtps_session *s);

/* The primitives, exposed for tests and for callers that need them on a
 * slow path. Each expands its AES key on the stack for the call. */

/* RFC 3711 §4.3.1 with key_derivation_rate 0 (RFC 6188 for 256-bit keys,
 * RFC 7714 §11 for 12-byte salts): writes n bytes of session key material
 * for `label` (0..5: SRTP key, auth key, salt; SRTCP the same) from a
 * master key of key_len bytes (16 or 32) and a master salt of salt_len
 * bytes (at most 14; a shorter salt is padded with zeros on the right).
 * Returns 0, or -EINVAL for another key length, a longer salt or n beyond
 * 2^20 (nothing written). */
int srtps_derive(const uint8_t *master_key, size_t key_len, const uint8_t *master_salt,
                 size_t salt_len, uint8_t label, uint8_t *out, size_t n);

/* XORs n bytes of AES-CM keystream (RFC 3711 §4.1.1) under the AES-128
 * `key` into buf: block j is AES(iv with j added to its last 16 bits,
 * modulo 2^16). n must be at most 2^20 bytes; returns 0 or -EINVAL beyond
 * that (buf untouched). */
int srtps_aes_cm_xor(const uint8_t *key, const uint8_t *iv, uint8_t *buf, size_t n);

#endif
