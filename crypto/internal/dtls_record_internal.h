/* SPDX-License-Identifier: MIT */
/*
 * dtls_record_internal: the layout behind struct dtls_record
 * (DTLS_RECORD_SIZE bytes), for the record layer itself (dtls_record.c),
 * the handshake engine beside it in crypto/ (the suite its flights are
 * sealed with) and the tests of both. Nothing outside crypto/ and its tests
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

/* One direction's key. AES-GCM: our expanded key (aes_gcm.h: round keys
 * and powers of H for the path the CPU has); ChaCha20-Poly1305: the 32-byte
 * key (libsodium's ChaCha20-Poly1305 takes it as it is, per call). */
struct dtls_record_key {
    union {
        struct aes_gcm_key gcm;
        uint8_t chacha[32];
    } u;
    uint8_t iv[12]; /* GCM: 4-byte salt; ChaCha20: 12-byte IV */
};

struct dtls_record_impl {
    struct dtls_record_key w, r; /* write and read */
    uint64_t w_seq0;             /* next epoch-0 sequence number to send */
    uint64_t w_seq;              /* next epoch-1 sequence number to send */
    uint64_t r_top, r_window;    /* highest accepted; bit i = top - i accepted */
    uint16_t epoch;
    uint8_t suite;               /* enum dtls_suite; DTLS_SUITE_NONE before the keys */
    bool closed;                 /* we sealed close_notify */
    bool peer_closed;            /* the peer's close_notify opened */
    bool failed;                 /* a fatal alert sealed or opened */
    uint8_t last_alert_level, last_alert_desc; /* the last alert opened */
    struct dtls_record_counters c;
};

ENGINE_STORAGE(struct dtls_record, struct dtls_record_impl, dtls_rec, dtls_crec)

#endif
