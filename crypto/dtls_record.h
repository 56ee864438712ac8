/* SPDX-License-Identifier: MIT */
/*
 * dtls_record: our DTLS 1.2 record layer for application data once the
 * handshake is done, so that the mbedTLS context (tens of KiB) can be
 * released and an established connection keeps only this small state.
 *
 * Suites: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5288: 4-byte
 * implicit salt + 8-byte explicit nonce, sent as epoch||sequence) and
 * TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905: 12-byte IV XOR
 * the padded epoch||sequence, no explicit nonce). Additional data: epoch,
 * sequence, type, version, plaintext length (RFC 5246 §6.2.3.3, RFC 6347
 * §4.1.2.1). Epoch 1; sequence numbers carry on from what mbedTLS used for
 * the Finished messages. A 64-record sliding anti-replay window (RFC 6347
 * §4.1.2.6), updated only by records that authenticate. Alerts: parsed and
 * sealed; close_notify both ways, a fatal alert ends the connection.
 *
 * Sans-I/O, no clock, no allocation; seal and open work on caller buffers.
 * One record layer per connection, used by one thread at a time.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_RECORD_H
#define SWARMGEN_CRYPTO_DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>

#include "dtls.h"

#define DTLS_RECORD_HEADER 13
#define DTLS_RECORD_OVERHEAD_GCM (DTLS_RECORD_HEADER + 8 + 16)
#define DTLS_RECORD_OVERHEAD_CHACHA (DTLS_RECORD_HEADER + 16)

enum dtls_content_type {
    DTLS_CT_CHANGE_CIPHER_SPEC = 20,
    DTLS_CT_ALERT = 21,
    DTLS_CT_HANDSHAKE = 22,
    DTLS_CT_APPLICATION_DATA = 23,
};

enum dtls_suite { DTLS_SUITE_AES_128_GCM = 1, DTLS_SUITE_CHACHA20_POLY1305 = 2 };

/* Why dtls_record_open refused a record (negative results). */
enum dtls_record_error {
    DTLS_REC_TRUNCATED = -1,   /* shorter than its header or its own length */
    DTLS_REC_BAD_VERSION = -2, /* not DTLS 1.2 (0xfefd) */
    DTLS_REC_WRONG_EPOCH = -3, /* not epoch 1 (a handshake retransmission, or stale) */
    DTLS_REC_REPLAY = -4,      /* a sequence number already accepted */
    DTLS_REC_TOO_OLD = -5,     /* left of the 64-record window */
    DTLS_REC_BAD_AUTH = -6,    /* the AEAD tag does not verify */
    DTLS_REC_CLOSED = -7,      /* the connection was closed or failed */
    DTLS_REC_TOO_BIG = -8,     /* plaintext larger than the caller's buffer or 2^14 */
    DTLS_REC_BAD_TYPE = -9,    /* unknown content type */
};

struct dtls_record_counters {
    uint64_t sealed, opened;
    uint64_t truncated, bad_version, wrong_epoch, replayed, too_old, bad_auth, too_big, bad_type;
    uint32_t alerts_in, alerts_out;
};

struct dtls_record {
    union {
        mbedtls_gcm_context gcm;
        mbedtls_chachapoly_context cp;
    } w, r;                    /* write and read keys */
    uint8_t w_iv[12], r_iv[12]; /* GCM: 4-byte salt; ChaCha20: 12-byte IV */
    uint64_t w_seq;            /* next sequence number to send */
    uint64_t r_top, r_window;  /* highest accepted, bit i = top - i seen */
    uint16_t epoch;
    uint8_t suite;             /* enum dtls_suite */
    bool closed, peer_closed, failed;
    uint8_t last_alert_level, last_alert_desc;
    struct dtls_record_counters c;
};

/* Takes the keys of a finished handshake (dtls_endpoint connected) and the
 * sequence state mbedTLS reached, so dtls_free(e) may follow at once.
 * Returns 0, -EINVAL when the handshake is not finished, -ENOTSUP for a
 * suite we do not carry, or a negative mbedTLS error. */
int dtls_record_init_from(struct dtls_record *r, const struct dtls_endpoint *e);

/* Keys given directly (tests, benchmarks): key 16 (GCM) or 32 (ChaCha20)
 * bytes, iv 4 or 12 bytes, per direction; sequence numbers from 0/none. */
int dtls_record_init_keys(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                          const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv,
                          uint64_t w_seq);

/* Seals `len` bytes of `type` into out (cap bytes): header, nonce,
 * ciphertext, tag. Returns the record length, -ENOSPC, -EMSGSIZE (len
 * > 2^14), -EPIPE (closed), or -EOVERFLOW (sequence numbers exhausted). */
int dtls_record_seal(struct dtls_record *r, uint8_t type, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap);

/* Opens the first record of `in` (a datagram may hold several: `*used`
 * tells how many bytes this one took). The plaintext goes to out (cap
 * bytes), its type to *type. Returns the plaintext length, or a negative
 * enum dtls_record_error (counted). An alert is also acted upon:
 * close_notify sets peer_closed, a fatal alert sets failed. */
int dtls_record_open(struct dtls_record *r, const uint8_t *in, size_t len, size_t *used,
                     uint8_t *type, uint8_t *out, size_t cap);

/* Seals an alert (level 1 warning / 2 fatal, description). close_notify
 * is (1, 0); after it nothing more is sealed. Returns as dtls_record_seal. */
int dtls_record_alert(struct dtls_record *r, uint8_t level, uint8_t desc, uint8_t *out, size_t cap);

void dtls_record_free(struct dtls_record *r);

/* ---- a cap on concurrent handshakes ---------------------------------- */

/* A fixed pool of handshake endpoints (tens of KiB each, mbedTLS state)
 * that connections borrow for the handshake and return once their keys
 * are in a dtls_record: handshake memory is slots × sizeof(struct
 * dtls_endpoint) whatever the number of connections. */
struct dtls_hs_pool {
    struct dtls_endpoint *slots;
    uint32_t *free_list;
    uint32_t n, n_free, high_water;
    uint64_t refused;          /* acquire calls that found no slot */
};

/* Allocates n slots (at set-up). Returns 0 or -ENOMEM / -EINVAL. */
int dtls_hs_pool_init(struct dtls_hs_pool *p, uint32_t n);
/* A free slot's index, or -EAGAIN when all are in use (counted). */
int64_t dtls_hs_pool_acquire(struct dtls_hs_pool *p);
struct dtls_endpoint *dtls_hs_pool_slot(struct dtls_hs_pool *p, uint32_t i);
/* Gives slot i back (dtls_free it first). */
void dtls_hs_pool_release(struct dtls_hs_pool *p, uint32_t i);
void dtls_hs_pool_destroy(struct dtls_hs_pool *p);

#endif
