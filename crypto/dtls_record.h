/* SPDX-License-Identifier: MIT */
/*
 * dtls_record: our DTLS 1.2 record layer, for the handshake and for
 * application data after it. It owns every sequence number of a
 * connection: epoch 0 (the handshake in the clear, dtls_record_plain)
 * and epoch 1 (sealed, dtls_record_seal), so a record sent again (a
 * repeated Finished) never shares a key and a sequence number with
 * another. The handshake engine (dtls.h) installs the epoch-1 keys with
 * dtls_record_set_keys; after the handshake only this small state stays.
 *
 * Memory: three caller-owned parts. struct dtls_record (DTLS_RECORD_SIZE,
 * one cache line) holds what changes per record: sequence numbers, the
 * replay window, the suite, flags, and where its keys and counters are.
 * The keys live in a key area (struct dtls_record_keys,
 * dtls_record_keys_size() bytes) that stores them by direction,
 * client_write and server_write, as expanded key schedules: the two
 * records of one connection (its client end and its server end, in one
 * process) may share one area. The first to install its keys writes them;
 * the second checks that what it derived is byte for byte what is stored
 * (the expanded keys and the IVs) and then uses the stored ones, or is
 * refused (-EKEYREJECTED) with nothing overwritten, so that its handshake
 * fails: sharing never hides a key mismatch. A record alone (tests,
 * external peers, benchmarks) gets an area of its own. The counters
 * (struct dtls_record_counters) are a block the caller gives too, which
 * any number of records used by one thread may share: they then sum.
 *
 * Suites: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 and _AES_256_GCM_SHA384
 * (RFC 5288: 4-byte implicit salt + 8-byte explicit nonce, sent as
 * epoch||sequence) and TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
 * (RFC 7905: 12-byte IV XOR the padded epoch||sequence, no explicit
 * nonce). Additional data: epoch, sequence, type, version, plaintext
 * length (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1). A 64-record sliding
 * anti-replay window (RFC 6347 §4.1.2.6), updated only by records that
 * authenticate. Alerts: parsed and sealed; close_notify both ways, a fatal
 * alert ends the connection.
 *
 * AES-GCM is ours (aes_gcm.h: VAES/AVX-512, AES-NI or portable, chosen
 * by the CPU), its expanded key in the key area (only the prefix the path
 * reads: aes_gcm_key_size); ChaCha20-Poly1305 is libsodium's IETF
 * construction (RFC 8439), the fastest per record here
 * (bench/crypto/aead_bench, docs/aead.md), keyed per call.
 *
 * Time model: none. Records carry no time; nothing here reads a clock or
 * takes `now`. Sans-I/O: seal and open work on caller buffers. No
 * allocation. A struct dtls_record may be copied or moved between calls
 * (it points at its key area and counters; they must not move while it
 * does). A record layer, its key area and its counters are used by one
 * thread at a time; records sharing a key area or counters must be on the
 * same thread. Records with nothing in common are independent.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_RECORD_H
#define SWARMGEN_CRYPTO_DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aes_gcm.h" /* enum aes_impl, for dtls_record_init_keys_impl */

#define DTLS_RECORD_HEADER 13
#define DTLS_RECORD_OVERHEAD_GCM (DTLS_RECORD_HEADER + 8 + 16)
#define DTLS_RECORD_OVERHEAD_CHACHA (DTLS_RECORD_HEADER + 16)
#define DTLS_RECORD_MAX_PLAINTEXT 16384
#define DTLS_RECORD_WINDOW 64
#define DTLS_KEY_BLOCK_MAX 88 /* 2 x (32-byte key + 12-byte IV), ChaCha20 */
#define DTLS_V12 0xfefd
#define DTLS_V13 0xfefc
#define DTLS_V10 0xfeff

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
    DTLS_ALERT_BAD_CERTIFICATE = 42,
    DTLS_ALERT_UNSUPPORTED_CERTIFICATE = 43,
    DTLS_ALERT_ILLEGAL_PARAMETER = 47,
    DTLS_ALERT_DECODE_ERROR = 50,
    DTLS_ALERT_DECRYPT_ERROR = 51,
    DTLS_ALERT_PROTOCOL_VERSION = 70,
    DTLS_ALERT_INTERNAL_ERROR = 80,
    DTLS_ALERT_UNSUPPORTED_EXTENSION = 110,
};

enum dtls_suite { DTLS_SUITE_NONE = 0, DTLS_SUITE_AES_128_GCM = 1, DTLS_SUITE_CHACHA20_POLY1305 = 2, DTLS_SUITE_AES_256_GCM = 3 };

/* Why dtls_record_open refused a record (negative results, one counter
 * each). The record is dropped; the connection goes on unless it says so. */
enum dtls_record_error {
    DTLS_REC_TRUNCATED = -1,   /* shorter than its header or its own length, or than nonce + tag */
    DTLS_REC_BAD_VERSION = -2, /* not DTLS 1.2 (0xfefd) */
    DTLS_REC_WRONG_EPOCH = -3, /* not epoch 1, or no keys yet */
    DTLS_REC_REPLAY = -4,      /* a sequence number already accepted */
    DTLS_REC_TOO_OLD = -5,     /* left of the 64-record window */
    DTLS_REC_BAD_AUTH = -6,    /* the AEAD tag does not verify */
    DTLS_REC_CLOSED = -7,      /* the peer closed or the connection failed earlier */
    DTLS_REC_TOO_BIG = -8,     /* plaintext larger than the caller's buffer or 2^14 */
    DTLS_REC_BAD_TYPE = -9,    /* unknown content type */
    DTLS_REC_BAD_ALERT = -10,  /* authenticated alert that is not 2 bytes of level 1 or 2 */
};

/* The caller's block (dtls_record_reset), written only by the thread that
 * uses its records, never zeroed by them: the caller zeroes it. Several
 * records may share one (per worker): the fields then sum. A reader on
 * another thread sees each field torn-free but not a consistent set. */
struct dtls_record_counters {
    uint64_t sealed, opened;
    /* refusals by dtls_record_open, one per enum dtls_record_error */
    uint64_t truncated, bad_version, wrong_epoch, replayed, too_old, bad_auth, after_close, too_big,
        bad_type, malformed;
    uint32_t alerts_in, alerts_out;
};

/* One end of a connection's record layer: DTLS_RECORD_SIZE bytes of
 * caller memory (one cache line, by value in the caller's struct, 64-byte
 * aligned), its layout private to crypto/ (dtls_record_internal.h); read
 * it through the functions below. */
#define DTLS_RECORD_SIZE 64
struct dtls_record {
    _Alignas(64) unsigned char opaque[DTLS_RECORD_SIZE];
};

/* A key area: the epoch-1 keys of one connection by direction
 * (client_write, server_write), expanded, with their IVs or salts.
 * dtls_record_keys_size() bytes of caller memory, 64-byte aligned, zeroed
 * or cleared by dtls_record_keys_clear before its first use; held by value
 * it is DTLS_RECORD_KEYS_MAX bytes, enough on any CPU. Its layout is
 * private to dtls_record.c: nothing else reads or writes it. */
#define DTLS_RECORD_KEYS_MAX 1088
struct dtls_record_keys {
    _Alignas(64) unsigned char opaque[DTLS_RECORD_KEYS_MAX];
};

/* Bytes of a key area on this CPU: a 64-byte header (the suite, which
 * records use the keys, the two IVs) and one slot per direction, each
 * large enough for the largest suite's key (AES-256-GCM) expanded for this
 * CPU's AES path (aes_gcm_key_size_max(32)). 832 with AES-NI, 1,088 with
 * VAES; never more than DTLS_RECORD_KEYS_MAX. Thread-safe. */
size_t dtls_record_keys_size(void);

/* Empties a key area (dtls_record_keys_size() bytes zeroed, in a way the
 * compiler keeps): before its first use when the memory is not zeroed
 * already, and before a new attempt of its connection, so that the new
 * keys are written and not checked against the old ones. No record may be
 * using it: each is set up again (dtls_record_reset, or dtls_init for a
 * handshake) before it installs keys. */
void dtls_record_keys_clear(struct dtls_record_keys *k);

/* Sets r up: epoch 0, no keys, every sequence number from 0, and binds it
 * to the key area keys (installs write there: see dtls_record_set_keys),
 * the counters block counters (added to, never zeroed) and its role:
 * is_client true for the client end of the connection (its write key is
 * client_write), false for the server end. keys and counters are the
 * caller's and must outlive r's use; neither is touched here. r's earlier
 * contents are not read: any memory will do (so a record that holds keys
 * lets go of them with dtls_record_free first, or its key area is
 * cleared). */
void dtls_record_reset(struct dtls_record *r, struct dtls_record_keys *keys,
                       struct dtls_record_counters *counters, bool is_client);

/* Installs the epoch-1 keys (key 16, 32 or 32 bytes for AES-128-GCM,
 * AES-256-GCM, ChaCha20; iv 4, 4 or 12 bytes), per direction from r's
 * side (w: what r seals with, r: what it opens with; the record maps them
 * onto client_write and server_write by its role); the epoch-0 write
 * sequence carries on, epoch 1 starts at 0 with an empty replay window.
 * r must be set up by dtls_record_reset. When no other record uses r's key
 * area the keys are expanded into it (replacing r's own earlier ones);
 * when the other end's record already installed keys there, r's are
 * expanded on the stack, compared with the stored ones (suite, both
 * expanded keys and IVs) and r then uses the stored ones. Returns 0,
 * -ENOTSUP for another suite (or an AES path the CPU lacks), -EIO, or
 * -EKEYREJECTED when the stored keys differ from r's (another suite,
 * another key, another AES path): nothing in the area changed, r has no
 * keys and its handshake fails. */
int dtls_record_set_keys(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key, const uint8_t *w_iv,
                         const uint8_t *r_key, const uint8_t *r_iv);

/* Writes an epoch-0 record in the clear: header (type, version, epoch 0,
 * the next epoch-0 sequence number, length) and body. Returns the record
 * length (len + 13), -ENOSPC when cap is too small, or -EMSGSIZE. */
int dtls_record_plain(struct dtls_record *r, uint8_t type, uint16_t version, const uint8_t *body, size_t len,
                      uint8_t *out, size_t cap);

/* Keys given directly (tests, benchmarks, the fuzz target): as
 * dtls_record_set_keys on r (set up by dtls_record_reset), the first
 * epoch-1 record written with sequence number w_seq, none read yet.
 * dtls_record_init_keys_impl forces an AES path (enum aes_impl, -1 the
 * best; -ENOTSUP when the CPU lacks it) so that tests can set the paths
 * against each other; two records sharing a key area must use the same
 * path (else -EKEYREJECTED). Returns as dtls_record_set_keys. */
int dtls_record_init_keys(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                          const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv,
                          uint64_t w_seq);
int dtls_record_init_keys_impl(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                               const uint8_t *w_iv, const uint8_t *r_key, const uint8_t *r_iv, uint64_t w_seq,
                               int impl);

/* Seals `len` bytes of content `type` into out (cap bytes): header,
 * explicit nonce (GCM), ciphertext, tag. in and out must not overlap, or
 * in must be exactly out + dtls_record_prefix(r): then the record is
 * sealed in place (the caller wrote the plaintext where the ciphertext
 * goes, saving a copy). Returns the record length (len +
 * DTLS_RECORD_OVERHEAD_*), -ENOSPC when cap is too small, -EMSGSIZE (len >
 * 2^14), -EPIPE after our close_notify or any fatal alert, -ENOKEY before
 * the keys, or -EOVERFLOW (2^48 records sealed). On error nothing is
 * counted and the sequence number is not used. */
int dtls_record_seal(struct dtls_record *r, uint8_t type, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap);

/* Bytes of a sealed record before its ciphertext with the keys in r: the
 * header and, for AES-GCM, the explicit nonce (21), or 13 (ChaCha20). */
size_t dtls_record_prefix(const struct dtls_record *r);

/* Opens the first record of `in` (len bytes; a datagram may hold several:
 * *used tells how many bytes this one took, also on refusal, so the caller
 * can step to the next). The plaintext goes to out (cap bytes; out must
 * not overlap in), its content type to *type. Returns the plaintext
 * length (>= 0), or a negative enum dtls_record_error, counted; out holds
 * nothing on refusal. An alert is acted upon: after the peer's
 * close_notify or a fatal alert (dtls_record_can_open turns false) later
 * records are refused with DTLS_REC_CLOSED. Handshake and change_cipher_spec records
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

/* Lets go of the keys: r goes back to epoch 0 without keys (bound to the
 * same key area, counters and role, so a handshake or
 * dtls_record_set_keys may use it again), and the key area is wiped when
 * no other record uses it. */
void dtls_record_free(struct dtls_record *r);

/* ---- state ---------------------------------------------------------- */

/* True while dtls_record_seal can seal: the keys are in and neither our
 * close_notify nor a fatal alert (sent or received) ended the connection.
 * A caller checks it before pulling a packet it could not send. */
bool dtls_record_can_seal(const struct dtls_record *r);

/* Asks the CPU to bring in the record's key area, its header and the
 * key that dtls_record_open (open true) or dtls_record_seal uses, ahead
 * of the call (see sctp_prefetch). The record itself must be in the
 * cache already or on its way: its pointer to the key area is read. */
void dtls_record_prefetch(const struct dtls_record *r, bool open);

/* True while dtls_record_open still opens records: neither the peer's
 * close_notify nor a fatal alert (sent or received) ended the connection.
 * After an alert record was opened, false tells that it ended it. */
bool dtls_record_can_open(const struct dtls_record *r);

/* The counters block r adds to (the one given to dtls_record_reset: a
 * sum over every record sharing it). */
const struct dtls_record_counters *dtls_record_counters(const struct dtls_record *r);

#endif
