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
#include <stdint.h>

#include "aes_gcm.h"
#include "dtls_record.h"
#include "engine.h"

/* The directions of a key area, and the bit of the record of that role in
 * its `users`. */
enum { DTLS_DIR_CLIENT = 0, DTLS_DIR_SERVER = 1 };

/* The first 64 bytes of a key area (struct dtls_record_keys); after them
 * one slot per direction, client_write then server_write, each
 * dtls_record_keys_size()'s slot bytes: AES-GCM, the used prefix of our
 * expanded key (aes_gcm.h: round keys and powers of H for the path the
 * CPU has); ChaCha20-Poly1305, the 32-byte key (libsodium takes it as it
 * is, per call). */
struct dtls_record_keys_hdr {
    uint8_t suite;      /* enum dtls_suite of the keys held; DTLS_SUITE_NONE: empty */
    uint8_t users;      /* bit DTLS_DIR_*: the record of that role uses the keys */
    uint8_t iv[2][12];  /* per direction: GCM 4-byte salt; ChaCha20 12-byte IV */
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
    uint16_t epoch;
    uint8_t suite;                  /* enum dtls_suite; DTLS_SUITE_NONE before the keys */
    bool is_client;                 /* our role: the write key is client_write */
    bool closed;                    /* we sealed close_notify */
    bool peer_closed;               /* the peer's close_notify opened */
    bool failed;                    /* a fatal alert sealed or opened */
    uint8_t last_alert_level, last_alert_desc; /* the last alert opened */
};

/* Back to epoch 0 without keys (sequence numbers from 0, the replay window
 * empty, no alert seen), releasing r's use of its key area (wiped when no
 * other record uses it); the key area, counters and role stay. The
 * handshake engine's dtls_init calls it for each new handshake;
 * dtls_record_free is the same. r must be set up by dtls_record_reset. */
void dtls_record_rewind(struct dtls_record *r);

ENGINE_STORAGE(struct dtls_record, struct dtls_record_impl, dtls_rec, dtls_crec)

/* Whether r was set up by dtls_record_reset (has a key area and counters):
 * dtls_init refuses a record that was not, rather than use stray pointers.
 * (Zeroed memory reads as not set up; other garbage cannot be told.) */
static inline bool dtls_record_is_bound(const struct dtls_record *r)
{
    return dtls_crec(r)->keys != NULL && dtls_crec(r)->c != NULL;
}

#endif
