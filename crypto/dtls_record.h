/* SPDX-License-Identifier: MIT */
/*
 * dtls_record: our DTLS 1.2 record layer, for the handshake and for
 * application data after it, and the DTLS 1.3 record protection
 * (RFC 9147 §4, the end of this header: stateless calls for the 1.3
 * handshake, and the same struct dtls_record in the 1.3 form after it).
 * It owns every sequence number of a connection: epoch 0 (the handshake
 * in the clear, dtls_record_plain) and epoch 1 (sealed,
 * dtls_record_seal), so a record sent again (a repeated Finished) never
 * shares a key and a sequence number with another. The handshake engine
 * (dtls.h) installs the epoch-1 keys with dtls_record_set_keys; after the
 * handshake only this small state stays.
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
    DTLS_CT_ACK = 26, /* DTLS 1.3 (RFC 9147 §7), inside protected records only */
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
    DTLS_ALERT_MISSING_EXTENSION = 109,
    DTLS_ALERT_UNSUPPORTED_EXTENSION = 110,
    DTLS_ALERT_CERTIFICATE_REQUIRED = 116,
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
    DTLS_REC_CID = -11,        /* DTLS 1.3 unified header with a connection id (never negotiated);
                                * counted under malformed */
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
#define DTLS_RECORD_KEYS_MAX 1152
struct dtls_record_keys {
    _Alignas(64) unsigned char opaque[DTLS_RECORD_KEYS_MAX];
};

/* Bytes of a key area on this CPU: a 128-byte header (the suite and
 * version, which records use the keys, the two IVs, the two DTLS 1.3
 * record-number keys) and one slot per direction, each large enough for
 * the largest suite's key (AES-256-GCM) expanded for this CPU's AES path
 * (aes_gcm_key_size_max(32)). 896 with AES-NI, 1,152 with VAES; never
 * more than DTLS_RECORD_KEYS_MAX. Thread-safe. */
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
 * DTLS_RECORD_OVERHEAD_*; len + DTLS13_OVERHEAD in the 1.3 form, see
 * dtls_record_set_keys13), -ENOSPC when cap is too small, -EMSGSIZE (len >
 * 2^14), -EPIPE after our close_notify or any fatal alert, -ENOKEY before
 * the keys, or -EOVERFLOW (2^48 records sealed). On error nothing is
 * counted and the sequence number is not used. */
int dtls_record_seal(struct dtls_record *r, uint8_t type, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap);

/* Bytes of a sealed record before its ciphertext with the keys in r: the
 * header and, for AES-GCM, the explicit nonce (21), or 13 (ChaCha20); in
 * the 1.3 form DTLS13_HEADER (5), and the record is one byte longer than
 * prefix + plaintext + tag (the inner type byte). */
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
 * with their type, for the caller to pass on. In the 1.3 form (see
 * dtls_record_set_keys13) cap must also hold the inner type byte and any
 * padding: the ciphertext length less the tag. */
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

/* ---- DTLS 1.3 records (RFC 9147 §4) ------------------------------------
 *
 * Protected records use the unified header. We send 0x2c | (epoch & 3)
 * (0b001CSLEE: no connection id, a 16-bit sequence number, the length
 * present), the 16-bit sequence number encrypted (record-number
 * encryption, §4.2.3), then the 16-bit length of what follows. We read
 * every form but the connection id: S=0 an 8-bit sequence number, L=0
 * the record runs to the end of the datagram. The AEAD seals
 * DTLSInnerPlaintext (content || its real type || zero padding; we pad
 * with nothing) under the header as sent but with the sequence number in
 * the clear as additional data, the nonce being the 12-byte IV XOR the
 * 64-bit sequence number (left-padded). The record-number mask comes from
 * the first 16 ciphertext bytes: AES-ECB under the sn key (AES suites),
 * or the ChaCha20 block function keyed by it, counter sample[0..3]
 * (little endian), nonce sample[4..15]. Unprotected records (epoch 0)
 * stay DTLSPlaintext (dtls_record_plain, version 0xfefd).
 *
 * The functions below are stateless (keys given raw, per call: the
 * handshake's epoch-2 records); dtls_record_set_keys13 makes a struct
 * dtls_record seal and open 1.3 records at epoch 3. Same time model,
 * memory and thread rules as the rest of this header: no clock, no
 * allocation, caller buffers; reentrant. */
#define DTLS13_HEADER         5 /* what we send: 1 + 2 (seq) + 2 (len) */
#define DTLS13_OVERHEAD       (DTLS13_HEADER + 1 + 16)
#define DTLS13_MAX_CIPHERTEXT (DTLS_RECORD_MAX_PLAINTEXT + 256) /* RFC 9147 §4 / RFC 8446 §5.2 */

/* One direction's raw DTLS 1.3 keys: suite (enum dtls_suite), the AEAD
 * key (16 or 32 bytes used), the 12-byte IV and the record-number key
 * (as long as the AEAD key). */
struct dtls13_keys {
    uint8_t suite; /* enum dtls_suite */
    uint8_t key[32], iv[12], sn[32];
};

/* The record-number mask of a 16-byte sample (the first 16 ciphertext
 * bytes of a record) under k->sn: the first two bytes of AES-ECB(sn,
 * sample), or of the ChaCha20 keystream (counter sample[0..3] LE, nonce
 * sample[4..15]). Returns 0, or -ENOTSUP for another suite (-EIO if
 * libsodium fails to start). */
int dtls13_rn_mask(const struct dtls13_keys *k, const uint8_t sample[16], uint8_t mask[2]);

/* Seals one record with k: epoch (its low 2 bits go on the wire), seq
 * (< 2^48), inner content type, len bytes of content from in (in and out
 * may be the same memory only as in == out + DTLS13_HEADER: sealed in
 * place, the type byte written after the content). Returns the record
 * length (len + DTLS13_OVERHEAD), -ENOSPC when cap is too small,
 * -EMSGSIZE (len > 2^14), -EOVERFLOW (seq >= 2^48), -ENOTSUP (another
 * suite or no AES path). No state: the caller owns seq and must never
 * seal two records with one (keys, seq). */
int dtls13_seal(const struct dtls13_keys *k, uint16_t epoch, uint64_t seq, uint8_t type,
                const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* The unified header of the first record of in (len bytes; its first byte
 * must be 0x20..0x3f). */
struct dtls13_hdr {
    uint8_t epoch_bits; /* the epoch's 2 low bits */
    uint8_t seq_len;    /* 1 or 2: bytes of (encrypted) sequence number */
    uint8_t hdr_len;    /* bytes before the ciphertext: 1 + seq_len (+ 2 with the length) */
    bool cid;           /* a connection id follows the first byte (never ours: refused) */
    size_t rec_len;     /* header + body: the length field's, or to the end of in (L = 0) */
};
/* Returns 0; DTLS_REC_BAD_VERSION when the first byte is not a unified
 * header (0x20..0x3f); DTLS_REC_CID with a connection id (h->cid true,
 * h->rec_len = len: its length is unknown); DTLS_REC_TRUNCATED when in is
 * shorter than the header or than the length it announces (h->rec_len =
 * len then). Nothing is decrypted: the sequence number is still masked. */
int dtls13_parse_header(const uint8_t *in, size_t len, struct dtls13_hdr *h);

/* Opens the first record of in (len bytes) with k: *used = its length
 * (also on refusal, so that the caller steps to the next one; the rest
 * of the datagram when its header cannot be read); the sequence number
 * unmasked and reconstructed as the value closest to next_seq (the next
 * one the caller expects, §4.2.2; never past 2^48 - 1) into *seq; the
 * content into out (cap bytes; out must not overlap in; cap must hold
 * the content with its type byte and padding: the ciphertext less the
 * 16-byte tag), its inner type into *type. The epoch bits are not
 * checked: the caller chose k by them (dtls13_parse_header). Returns the
 * content length (>= 0), or a negative enum dtls_record_error:
 * DTLS_REC_BAD_VERSION / _CID / _TRUNCATED as dtls13_parse_header (also
 * a body under 17 bytes: no 16-byte sample and tag), DTLS_REC_TOO_BIG
 * (inner plaintext over cap, ciphertext over 2^14 + 256 or content over
 * 2^14), DTLS_REC_BAD_AUTH (the tag does not verify, or another suite),
 * DTLS_REC_BAD_TYPE (an all-zero inner plaintext). out holds nothing on
 * refusal. No replay check (the caller's); nothing counted. */
int dtls13_open(const struct dtls13_keys *k, const uint8_t *in, size_t len, uint64_t next_seq,
                size_t *used, uint64_t *seq, uint8_t *type, uint8_t *out, size_t cap);

/* The stateful record after a DTLS 1.3 handshake: installs the epoch-3
 * (application traffic) keys per direction from r's side, as
 * dtls_record_set_keys (w: what r seals with, r: what it opens with):
 * AEAD key (16, 32, 32 bytes), 12-byte IV and record-number key (as long
 * as the AEAD key) each. The key area keeps them (the sn keys and IVs in
 * its header) and is shared, checked byte for byte (suite, version, both
 * expanded keys, IVs and sn keys), exactly as in 1.2. Then
 * dtls_record_seal/_open/_alert/_close/_prefix work in the 1.3 form:
 * epoch 3, the unified header, the inner type, record-number encryption,
 * the 64-record replay window on the reconstructed sequence number
 * (starting at 0), alerts sealed as inner type 21. dtls_record_open
 * returns application data, and handshake (22) and ack (26) records
 * with their type for the caller (post-handshake messages, ACKs), acts on
 * alerts, refuses other epochs (a DTLSPlaintext record or other epoch
 * bits) with DTLS_REC_WRONG_EPOCH and a connection id with DTLS_REC_CID.
 * dtls_record_prefix is DTLS13_HEADER (sealing in place writes the inner
 * type byte after the plaintext: leave one byte more room). The epoch-0
 * write sequence carries on. Returns as dtls_record_set_keys (-ENOTSUP,
 * -EIO, -EKEYREJECTED). */
int dtls_record_set_keys13(struct dtls_record *r, enum dtls_suite suite, const uint8_t *w_key,
                           const uint8_t *w_iv, const uint8_t *w_sn, const uint8_t *r_key,
                           const uint8_t *r_iv, const uint8_t *r_sn);

/* DTLS 1.3 KeyUpdate (RFC 9147 §8, RFC 8446 §4.6.3): the next epoch's
 * keys for one direction of r (set up by dtls_record_set_keys13): write
 * true, the keys r seals with from now on (its write epoch one more,
 * write sequence numbers from 0); write false, the keys it opens with (its
 * read epoch one more, the replay window empty: records of the previous
 * epoch are refused with DTLS_REC_WRONG_EPOCH and left to the caller,
 * which keeps that epoch's keys for late records). Key, IV and
 * record-number key as dtls_record_set_keys13's. In a key area shared
 * with the other end's record, a direction's slot is written only by the
 * record that writes with it: the reader moves its read epoch on and
 * leaves the slot, which the writer replaces once the update is
 * acknowledged, i.e. after the reader moved on (until then the old
 * epoch's records are the caller's to open). Returns 0, -ENOKEY (not 1.3
 * keys), -ENOTSUP / -EIO as dtls_record_set_keys. */
int dtls_record_rekey13(struct dtls_record *r, bool write, const uint8_t *key, const uint8_t *iv,
                        const uint8_t *sn);

/* The sequence number dtls_record_seal gives the next record of the
 * current write epoch (records sealed in it so far). */
uint64_t dtls_record_write_seq(const struct dtls_record *r);

/* DTLS 1.3: the low two bits of r's write (write true) or read epoch, as
 * the unified header carries them. */
unsigned dtls_record_epoch_bits(const struct dtls_record *r, bool write);

/* DTLS_V12 or DTLS_V13: the form of r's records once keys are in (0
 * before). */
uint16_t dtls_record_version(const struct dtls_record *r);

#endif
