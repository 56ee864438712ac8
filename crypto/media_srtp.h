/* SPDX-License-Identifier: MIT */
/*
 * media_srtp: SRTP and SRTCP of one peer connection, on libsrtp2.
 *
 * Two libsrtp sessions per connection (outbound keyed with our keying
 * material, inbound with the peer's), from the DTLS-SRTP exporter output
 * (RFC 5764 4.2: client key, server key, client salt, server salt) or from
 * explicit master keys. Suites: SRTP_AES128_CM_HMAC_SHA1_80 and
 * SRTP_AEAD_AES_128_GCM (RFC 7714). Packets are protected in place in a
 * caller buffer with room for the trailer. libsrtp allocates its session
 * state in media_srtp_init (connection set-up, not per packet). One
 * connection per thread at a time; media_srtp_global_init once per process.
 */
#ifndef SWARMGEN_CRYPTO_MEDIA_SRTP_H
#define SWARMGEN_CRYPTO_MEDIA_SRTP_H

#include <stdbool.h>
#include <stdint.h>

#include <srtp2/srtp.h>

enum media_suite {
    MEDIA_AES128_CM_SHA1_80 = 1, /* DTLS-SRTP profile 0x0001 */
    MEDIA_AEAD_AES_128_GCM = 7,  /* DTLS-SRTP profile 0x0007 */
};

#define MEDIA_MAX_TRAILER 32 /* bytes protect may add (SRTP_MAX_TRAILER_LEN + SRTCP index) */

struct media_counters {
    uint64_t protected_rtp, unprotected_rtp, protected_rtcp, unprotected_rtcp;
    uint64_t auth_failures, replays, other_failures;
};

struct media_srtp {
    srtp_t tx, rx;
    enum media_suite suite;
    struct media_counters c;
};

/* Initialises libsrtp2. Returns 0 or -EIO. */
int media_srtp_global_init(void);

/* Master key || master salt lengths of a suite (30 or 28 bytes). */
int media_key_len(enum media_suite s);

/* Sets up both directions: `local` keys what we send, `remote` what we
 * receive (each master key || master salt, media_key_len bytes). Returns 0,
 * -EINVAL or -ENOMEM. */
int media_srtp_init(struct media_srtp *m, enum media_suite suite, const uint8_t *local,
                    const uint8_t *remote);

/* Splits DTLS-SRTP keying material (RFC 5764 4.2) into local and remote
 * master keys for our role. */
void media_srtp_split_keying(enum media_suite suite, const uint8_t *material, bool is_client,
                             uint8_t *local, uint8_t *remote);

/* In-place protection of an RTP/RTCP packet of *len bytes in a buffer of
 * `cap`; *len grows by the trailer. Return 0 or a negative errno (-ENOSPC
 * when cap is too small). */
int media_protect_rtp(struct media_srtp *m, uint8_t *pkt, int *len, int cap);
int media_protect_rtcp(struct media_srtp *m, uint8_t *pkt, int *len, int cap);

/* In-place verification and decryption; *len shrinks. Returns 0, -EACCES
 * (authentication failure), -EALREADY (replay) or -EBADMSG; counted. */
int media_unprotect_rtp(struct media_srtp *m, uint8_t *pkt, int *len);
int media_unprotect_rtcp(struct media_srtp *m, uint8_t *pkt, int *len);

/* Releases both sessions. Safe twice. */
void media_srtp_free(struct media_srtp *m);

#endif
