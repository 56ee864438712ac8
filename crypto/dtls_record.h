/* SPDX-License-Identifier: MIT */
/*
 * dtls_record: our DTLS 1.2 record layer for application data once the
 * handshake is done, so that the mbedTLS context (tens of KiB) can be
 * released and an established connection keeps only this small state;
 * and the handshake slot pool that caps how many of those mbedTLS
 * contexts exist at once.
 *
 * Suites: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5288: 4-byte
 * implicit salt + 8-byte explicit nonce, sent as epoch||sequence) and
 * TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905: 12-byte IV XOR
 * the padded epoch||sequence, no explicit nonce). The key block is ours:
 * PRF(master, "key expansion", server_random + client_random) (RFC 5246
 * §6.3). Additional data: epoch, sequence, type, version, plaintext length
 * (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1). Epoch 1; sequence numbers carry
 * on from what mbedTLS used for the Finished messages. A 64-record sliding
 * anti-replay window (RFC 6347 §4.1.2.6), updated only by records that
 * authenticate. Alerts: parsed and sealed; close_notify both ways, a fatal
 * alert ends the connection.
 *
 * AES-128-GCM is GCM (NIST SP 800-38D) written here on mbedTLS's AES block
 * function (AES-NI when the CPU has it) and its carry-less multiply
 * (PCLMULQDQ) or a portable GHASH: mbedTLS's own GCM context allocates its
 * AES key schedule on the heap, ours lives in the struct. ChaCha20-Poly1305
 * is mbedTLS's chachapoly context, which does not allocate.
 *
 * Time model: none. Records carry no time; nothing here reads a clock or
 * takes `now`. Sans-I/O: seal and open work on caller buffers. No
 * allocation after dtls_hs_pool_init (which allocates once, at set-up).
 * A struct dtls_record may be copied or moved between calls. One record
 * layer per connection, used by one thread at a time; different record
 * layers are independent.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_RECORD_H
#define SWARMGEN_CRYPTO_DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/aes.h>
#include <mbedtls/chachapoly.h>

#include "dtls.h"

#define DTLS_RECORD_HEADER 13
#define DTLS_RECORD_OVERHEAD_GCM (DTLS_RECORD_HEADER + 8 + 16)
#define DTLS_RECORD_OVERHEAD_CHACHA (DTLS_RECORD_HEADER + 16)
#define DTLS_RECORD_MAX_PLAINTEXT 16384
#define DTLS_RECORD_WINDOW 64
#define DTLS_KEY_BLOCK_MAX 88 /* 2 x (32-byte key + 12-byte IV), ChaCha20 */

enum dtls_content_type {
    DTLS_CT_CHANGE_CIPHER_SPEC = 20,
    DTLS_CT_ALERT = 21,
    DTLS_CT_HANDSHAKE = 22,
    DTLS_CT_APPLICATION_DATA = 23,
};

enum dtls_alert_level { DTLS_ALERT_WARNING = 1, DTLS_ALERT_FATAL = 2 };

/* The alert descriptions we send or act upon (RFC 5246 §7.2). */
enum dtls_alert_desc {
    DTLS_ALERT_CLOSE_NOTIFY = 0,
    DTLS_ALERT_UNEXPECTED_MESSAGE = 10,
    DTLS_ALERT_BAD_RECORD_MAC = 20,
    DTLS_ALERT_HANDSHAKE_FAILURE = 40,
    DTLS_ALERT_DECODE_ERROR = 50,
    DTLS_ALERT_INTERNAL_ERROR = 80,
};

enum dtls_suite { DTLS_SUITE_AES_128_GCM = 1, DTLS_SUITE_CHACHA20_POLY1305 = 2 };

/* Why dtls_record_open refused a record (negative results, one counter
 * each). The record is dropped; the connection goes on unless it says so. */
enum dtls_record_error {
    DTLS_REC_TRUNCATED = -1,   /* shorter than its header or its own length, or than nonce + tag */
    DTLS_REC_BAD_VERSION = -2, /* not DTLS 1.2 (0xfefd) */
    DTLS_REC_WRONG_EPOCH = -3, /* not epoch 1 (a handshake retransmission, or stale) */
    DTLS_REC_REPLAY = -4,      /* a sequence number already accepted */
    DTLS_REC_TOO_OLD = -5,     /* left of the 64-record window */
    DTLS_REC_BAD_AUTH = -6,    /* the AEAD tag does not verify */
    DTLS_REC_CLOSED = -7,      /* the peer closed or the connection failed earlier */
    DTLS_REC_TOO_BIG = -8,     /* plaintext larger than the caller's buffer or 2^14 */
    DTLS_REC_BAD_TYPE = -9,    /* unknown content type */
    DTLS_REC_BAD_ALERT = -10,  /* authenticated alert that is not 2 bytes of level 1 or 2 */
};

/* Written only by the thread that owns the record layer; a reader on
 * another thread sees each field torn-free but not a consistent set. */
struct dtls_record_counters {
    uint64_t sealed, opened;
    /* refusals by dtls_record_open, one per enum dtls_record_error */
    uint64_t truncated, bad_version, wrong_epoch, replayed, too_old, bad_auth, after_close, too_big,
        bad_type, malformed;
    uint32_t alerts_in, alerts_out;
};

/* One direction's key. GCM: the AES key schedule (mbedTLS's, in place),
 * the hash key H = AES_K(0^128); ChaCha20-Poly1305: mbedTLS's context. */
struct dtls_record_key {
    union {
        struct {
            mbedtls_aes_context aes;
            uint8_t h[16];
        } gcm;
        mbedtls_chachapoly_context cp;
    } u;
    uint8_t iv[12]; /* GCM: 4-byte salt; ChaCha20: 12-byte IV */
    uint8_t rk_off; /* where mbedTLS's round keys start in aes.buf (re-pointed after a move) */
};

struct dtls_record {
    struct dtls_record_key w, r; /* write and read */
    uint64_t w_seq;              /* next sequence number to send */
    uint64_t r_top, r_window;    /* highest accepted; bit i = top - i accepted */
    uint16_t epoch;
    uint8_t suite;               /* enum dtls_suite */
    bool clmul;                  /* GHASH by PCLMULQDQ (else portable); tests may clear it */
    bool closed, peer_closed, failed;
    uint8_t last_alert_level, last_alert_desc; /* the last alert opened */
    struct dtls_record_counters c;
};

/* The AEAD key block of a finished handshake by the TLS PRF (RFC 5246
 * §6.3: client write key, server write key, client IV, server IV; no MAC
 * keys with AEAD suites), from the master secret and randoms the endpoint
 * exported. `kb` needs DTLS_KEY_BLOCK_MAX bytes; *suite, *key_len and
 * *iv_len say how to read it. Reads e only. Returns 0, -EINVAL when e has
 * no master secret yet, -ENOTSUP for a suite we do not carry, or -EIO. */
int dtls_record_key_block(const struct dtls_endpoint *e, uint8_t *kb, enum dtls_suite *suite,
                          unsigned *key_len, unsigned *iv_len);

/* Sets r up from a finished handshake (e connected): our key block,
 * e's role (which half is ours to write), and mbedTLS's epoch-1 sequence
 * state, so our first record follows the Finished message and the replay
 * window continues; dtls_free(e) may follow at once. Reads e only; r is
 * overwritten. Returns 0, -EINVAL when the handshake is not finished or
 * mbedTLS is not at epoch 1, -ENOTSUP for a suite we do not carry, or
 * -EIO. */
int dtls_record_init_from(struct dtls_record *r, const struct dtls_endpoint *e);

/* For a caller that keeps e after dtls_record_init_from to answer the
 * peer's retransmitted final flight (RFC 6347 §4.2.4): mbedTLS's resent
 * Finished takes epoch-1 sequence numbers we may already have used, or
 * will use, so move our next sequence number past mbedTLS's, and our
 * replay state up to what mbedTLS accepted since. Call after every
 * datagram handed to e once r is in use. Returns 0, or -EINVAL when e is
 * not at epoch 1. */
int dtls_record_resync(struct dtls_record *r, const struct dtls_endpoint *e);

/* Keys given directly (tests, benchmarks, the fuzz target): key 16 (GCM)
 * or 32 (ChaCha20) bytes, iv 4 or 12 bytes, per direction; epoch 1, the
 * first record written with sequence number w_seq, none read yet.
 * Returns 0, -ENOTSUP for another suite, or -EIO. */
int dtls_record_init_keys(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                          const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv,
                          uint64_t w_seq);

/* Seals `len` bytes of content `type` into out (cap bytes): header,
 * explicit nonce (GCM), ciphertext, tag; in and out must not overlap.
 * Returns the record length (len + DTLS_RECORD_OVERHEAD_*), -ENOSPC when
 * cap is too small, -EMSGSIZE (len > 2^14), -EPIPE after our
 * close_notify or any fatal alert, or -EOVERFLOW (2^48 records sealed).
 * On error nothing is counted and the sequence number is not used. */
int dtls_record_seal(struct dtls_record *r, uint8_t type, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap);

/* Opens the first record of `in` (len bytes; a datagram may hold several:
 * *used tells how many bytes this one took, also on refusal, so the caller
 * can step to the next). The plaintext goes to out (cap bytes; out must
 * not overlap in), its content type to *type. Returns the plaintext
 * length (>= 0), or a negative enum dtls_record_error, counted; out holds
 * nothing on refusal. An alert is acted upon: close_notify sets
 * peer_closed, a fatal alert sets failed; either way later records are
 * refused with DTLS_REC_CLOSED. Handshake and change_cipher_spec records
 * at epoch 1 (a peer repeating its final flight) are opened and returned
 * with their type, for the caller to pass on. */
int dtls_record_open(struct dtls_record *r, const uint8_t *in, size_t len, size_t *used,
                     uint8_t *type, uint8_t *out, size_t cap);

/* Seals an alert (enum dtls_alert_level, enum dtls_alert_desc). After a
 * close_notify or a fatal alert nothing more is sealed. Returns as
 * dtls_record_seal. */
int dtls_record_alert(struct dtls_record *r, uint8_t level, uint8_t desc, uint8_t *out, size_t cap);

/* Seals our close_notify (a warning alert, RFC 5246 §7.2.1). Returns as
 * dtls_record_seal. */
int dtls_record_close(struct dtls_record *r, uint8_t *out, size_t cap);

/* Wipes the keys. r may be set up again afterwards. */
void dtls_record_free(struct dtls_record *r);

/* ---- a cap on concurrent handshakes ---------------------------------- */

/* A fixed pool of handshake endpoints (tens of KiB each, plus mbedTLS's
 * heap while the handshake runs) that connections borrow for the
 * handshake and return once their keys are in a dtls_record: handshake
 * memory is n × sizeof(struct dtls_endpoint) whatever the number of
 * connections. Slots are addressed by 32-bit index. One thread per pool
 * (a per-lcore pool); no locking. */
struct dtls_hs_pool {
    struct dtls_endpoint *slots;
    uint32_t *free_list;
    uint64_t *busy;            /* bit i: slot i handed out */
    uint32_t n, n_free, high_water;
    uint64_t refused;          /* acquire calls that found no slot */
    uint64_t bad_releases;     /* release of a slot not handed out */
};

/* Allocates n slots (at set-up; the only allocation here). Returns 0,
 * -EINVAL (n is 0 or above 2^24) or -ENOMEM. */
int dtls_hs_pool_init(struct dtls_hs_pool *p, uint32_t n);

/* Hands out a free slot. Returns its index (0 .. n-1), or -EAGAIN when
 * all are in use (counted in refused): the caller retries later. */
int64_t dtls_hs_pool_acquire(struct dtls_hs_pool *p);

/* The endpoint of slot i (owned by the pool), or NULL when i >= n. */
struct dtls_endpoint *dtls_hs_pool_slot(struct dtls_hs_pool *p, uint32_t i);

/* Gives slot i back; dtls_free its endpoint first. Returns 0, or -EINVAL
 * (counted in bad_releases) when i is out of range or not handed out. */
int dtls_hs_pool_release(struct dtls_hs_pool *p, uint32_t i);

/* Slots handed out now. */
uint32_t dtls_hs_pool_in_use(const struct dtls_hs_pool *p);

/* Frees the pool's memory (its endpoints must be dtls_free'd already). */
void dtls_hs_pool_destroy(struct dtls_hs_pool *p);

#endif
