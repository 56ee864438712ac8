/* SPDX-License-Identifier: MIT */
/*
 * dtls_record_internal: the layout behind struct dtls_record
 * (DTLS_RECORD_SIZE bytes) and the header of a key area, for the record
 * layer itself (dtls_record.c), the handshake engine beside it in crypto/
 * (the suite its flights are sealed with, rewinding the record for a new
 * handshake) and the tests of both. Nothing outside crypto/ and its tests
 * includes it: callers read a record layer through dtls_record.h's
 * functions. The casts are free, so the engine's own reads stay as fast as
 * a field access.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_RECORD_INTERNAL_H
#define SWARMGEN_CRYPTO_DTLS_RECORD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aes_gcm.h"
#include "dtls_record.h"
#include "engine.h"

/* The directions of a key area, and the bit of the record of that role in
 * its `users`. */
enum { DTLS_DIR_CLIENT = 0, DTLS_DIR_SERVER = 1 };

/* The first DTLS_KEYS_HDR bytes of a key area (struct dtls_record_keys);
 * after them one slot per direction, client_write then server_write, each
 * dtls_record_keys_size()'s slot bytes: AES-GCM, the used prefix of our
 * expanded key (aes_gcm.h: round keys and powers of H for the path the
 * CPU has); ChaCha20-Poly1305, the 32-byte key (libsodium takes it as it
 * is, per call). */
#define DTLS_KEYS_HDR 128
struct dtls_record_keys_hdr {
    uint8_t suite;      /* enum dtls_suite of the keys held; DTLS_SUITE_NONE: empty */
    uint8_t users;      /* bit DTLS_DIR_*: the record of that role uses the keys */
    uint8_t iv[2][12];  /* per direction: 1.2 GCM 4-byte salt; 1.2 ChaCha20 and 1.3 12-byte IV */
    uint8_t v13;        /* the keys are DTLS 1.3 epoch-3 keys */
    uint8_t sn[2][32];  /* per direction, 1.3: the record-number key (16 or 32 B, 0-padded) */
};

/* One end's record layer: what changes per record, one cache line. Its
 * keys are read at byte offsets into its key area (two 16-bit offsets
 * instead of two pointers keep the line whole). */
struct dtls_record_impl {
    struct dtls_record_keys *keys;  /* the key area (the caller's) */
    struct dtls_record_counters *c; /* the counters (the caller's, maybe shared) */
    uint64_t w_seq0;                /* next epoch-0 sequence number to send */
    uint64_t w_seq;                 /* next epoch-1 sequence number to send */
    uint64_t r_top, r_window;       /* highest accepted; bit i = top - i accepted */
    uint16_t w_key, r_key;          /* offsets in *keys of the write and read key */
    uint8_t w_iv, r_iv;             /* offsets in *keys of their IV or salt */
    uint16_t epoch;                 /* 1.2: the epoch (1); 1.3: the write epoch in the low byte, the
                                     * read epoch in the high one (3 each, one more per KeyUpdate; only
                                     * their low two bits go on the wire: EPOCH13_W / _R) */
    uint8_t suite;                  /* enum dtls_suite; DTLS_SUITE_NONE before the keys */
    bool is_client;                 /* our role: the write key is client_write */
    bool closed;                    /* we sealed close_notify */
    bool peer_closed;               /* the peer's close_notify opened */
    bool failed;                    /* a fatal alert sealed or opened */
    uint8_t last_alert_level, last_alert_desc; /* the last alert opened */
    /* DTLS 1.3 records (dtls_record_set_keys13): the one test the 1.2 path pays */
    bool v13;
};

#define EPOCH13_W(r) ((r)->epoch & 0xffu)
#define EPOCH13_R(r) ((r)->epoch >> 8)

/* Back to epoch 0 without keys (sequence numbers from 0, the replay window
 * empty, no alert seen), releasing r's use of its key area (wiped when no
 * other record uses it); the key area, counters and role stay. The
 * handshake engine's dtls_init calls it for each new handshake;
 * dtls_record_free is the same. r must be set up by dtls_record_reset. */
void dtls_record_rewind(struct dtls_record *r);

ENGINE_STORAGE(struct dtls_record, struct dtls_record_impl, dtls_rec, dtls_crec)
_Static_assert(offsetof(struct dtls_record_impl, v13) == DTLS_RECORD_SIZE - 1,
               "the 1.3 flag is the record line's last (spare) byte");

/* ---- the DTLS 1.3 core (dtls13_record.c), for dtls_record.c ----------- */

/* One direction's 1.3 keys where they live: the AEAD key as the key area
 * keeps it (AES-GCM: our expanded key; ChaCha20: the 32 raw bytes), the
 * 12-byte IV and the raw record-number key (16 or 32 bytes, the AEAD
 * key's length). */
struct dtls13_dir {
    uint8_t suite; /* enum dtls_suite */
    const void *key;
    const uint8_t *iv;
    const uint8_t *sn;
};

/* A record whose header is read and whose sequence number is unmasked
 * and reconstructed, not yet authenticated. */
struct dtls13_rec {
    struct dtls13_hdr h;
    uint8_t aad[5];    /* the header as sent, sequence number in the clear */
    uint64_t seq;      /* reconstructed */
    const uint8_t *ct; /* ciphertext and tag: h.rec_len - h.hdr_len bytes */
    size_t ct_len;
};

/* The record-number mask of sample under the raw sn key of suite: 0 or
 * -ENOTSUP / -EIO. */
int dtls13_mask(uint8_t suite, const uint8_t *sn, const uint8_t sample[16], uint8_t mask[2]);

/* Seals one record with d (dtls13_seal's contract, d's keys). */
int dtls13_seal_dir(const struct dtls13_dir *d, uint16_t epoch, uint64_t seq, uint8_t type,
                    const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* The record of in whose header h is (dtls13_parse_header, returned 0):
 * checks its body's size, unmasks and reconstructs the sequence number
 * around next_seq into rec. 0, or DTLS_REC_TRUNCATED (body under 17),
 * DTLS_REC_TOO_BIG (ciphertext over 2^14 + 256), DTLS_REC_BAD_AUTH
 * (another suite). */
int dtls13_unmask(const struct dtls13_dir *d, const uint8_t *in, const struct dtls13_hdr *h,
                  uint64_t next_seq, struct dtls13_rec *rec);

/* Authenticates and decrypts rec into out (cap bytes), strips the
 * padding, sets *type. The content length, or DTLS_REC_TOO_BIG,
 * DTLS_REC_BAD_AUTH, DTLS_REC_BAD_TYPE (all zeros); out wiped on
 * refusal. */
int dtls13_decrypt(const struct dtls13_dir *d, const struct dtls13_rec *rec, uint8_t *type,
                   uint8_t *out, size_t cap);

/* dtls_record_open for a DTLS 1.3 record, also giving the record's
 * reconstructed sequence number (*seq, on success): the handshake engine
 * acknowledges the post-handshake messages it opens (RFC 9147 §7). */
int dtls_record_open_seq(struct dtls_record *r, const uint8_t *in, size_t len, size_t *used, uint8_t *type,
                         uint8_t *out, size_t cap, uint64_t *seq);

/* Whether r was set up by dtls_record_reset (has a key area and counters):
 * dtls_init refuses a record that was not, rather than use stray pointers.
 * (Zeroed memory reads as not set up; other garbage cannot be told.) */
static inline bool dtls_record_is_bound(const struct dtls_record *r)
{
    return dtls_crec(r)->keys != NULL && dtls_crec(r)->c != NULL;
}

#endif
