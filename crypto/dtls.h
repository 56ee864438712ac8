/* SPDX-License-Identifier: MIT */
/*
 * dtls: our DTLS 1.2 handshake engine (RFC 6347 over RFC 5246, ECDHE per
 * RFC 8422), client and server, as a WebRTC peer connection runs it:
 * mutual authentication by self-signed certificates checked against the
 * peer's SDP fingerprint (CertificateRequest, CertificateVerify), ECDHE
 * with X25519 or secp256r1, ECDSA P-256 with SHA-256, and the suites
 * TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, _AES_256_GCM_SHA384 and
 * _CHACHA20_POLY1305_SHA256; extended_master_secret (RFC 7627),
 * renegotiation_info (RFC 5746, initial handshake only), supported_groups,
 * ec_point_formats, signature_algorithms and use_srtp (RFC 5764) in any
 * order, unknown extensions, groups and suites in an offer skipped; the
 * keying-material exporter (RFC 5705) for DTLS-SRTP; HelloVerifyRequest
 * cookies in both roles (optional on the server: behind ICE libwebrtc
 * sends none). Our ClientHello is shaped like Chrome's: its suite, group
 * and SRTP-profile order, its extension set in a random order per
 * handshake, no session id and no session ticket.
 *
 * Flights (RFC 6347 §4.2.4): each flight is kept as what it takes to write
 * it again (randoms, our ephemeral key, our signature and Finished), not as
 * bytes, and written into the caller's buffer by dtls_poll_transmit,
 * fragmented to the configured MTU and packed several records to a
 * datagram. A flight is resent whole when its timer expires (the timer
 * doubles from rto_initial_ms up to rto_max_ms; the handshake fails when
 * the timer at rto_max_ms expires) and when the last message of the
 * peer's previous flight arrives again (the peer lacks ours). Messages in
 * are reassembled from fragments in any order, duplicates dropped, those
 * of a later flight held until their turn within DTLS_REASM_BYTES.
 *
 * Records: the engine writes and reads its records through the
 * connection's struct dtls_record (dtls_record.h), which owns every
 * sequence number, epoch 0 and epoch 1: a Finished sent again is sealed
 * with a sequence number never used before, the same as application data
 * after it. The engine installs the epoch-1 keys in it when it derives
 * them; once DTLS_EV_CONNECTED is out the connection seals and opens
 * application data with it directly.
 *
 * Sans-I/O: datagrams and `now` (ns) in; datagrams, events and the next
 * deadline out. No clock reads, no allocation: an endpoint lives in
 * caller memory of dtls_endpoint_size() bytes (at most 4 KiB, in a slot of
 * a dtls_hs_pool for the time of the handshake), keeps pointers to its
 * certificate, provider and record layer (all must outlive it and must
 * not move), and keeps no pointer into itself (it may be copied between
 * calls). No global state. One endpoint is used by one thread at a time.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_H
#define SWARMGEN_CRYPTO_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cp.h"
#include "dtls_cert.h"
#include "dtls_record.h"
#include "engine.h"

#define DTLS_MTU 1200           /* default datagram size of a flight */
#define DTLS_MTU_MIN 256        /* smallest MTU dtls_init accepts */
#define DTLS_REASM_BYTES 1984   /* handshake bytes held for reassembly at once */
#define DTLS_KEYING_MAX 88      /* DTLS-SRTP keying material, longest profile (AEAD_AES_256_GCM) */
#define DTLS_KEYLOG_LINE 200    /* an NSS key-log line with its newline and NUL */
#define DTLS_KEYLOG_MAX 1024    /* the key-log lines of one handshake: DTLS 1.2's one, or 1.3's five */
#define DTLS_COOKIE_SECRET 32

/* Suites, as offered (client) or accepted (server): a bit each. */
enum dtls_suite_bit {
    DTLS_OFFER_AES_128_GCM = 1 << 0,  /* TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xc02b) */
    DTLS_OFFER_AES_256_GCM = 1 << 1,  /* TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (0xc02c) */
    DTLS_OFFER_CHACHA20 = 1 << 2,     /* TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (0xcca9) */
    DTLS_OFFER_ALL_SUITES = 7,
};

/* Protocol versions, as offered (client) or accepted (server): a bit each.
 * A client offering both sends supported_versions with 1.3 first, as
 * Chrome does, and the server picks; a server accepting both takes 1.3
 * when the ClientHello offers it. */
enum dtls_version_bit { DTLS_OFFER_V12 = 1 << 0, DTLS_OFFER_V13 = 1 << 1, DTLS_OFFER_ALL_VERSIONS = 3 };

/* Groups: a bit each. */
enum dtls_group_bit { DTLS_OFFER_X25519 = 1 << 0, DTLS_OFFER_P256 = 1 << 1, DTLS_OFFER_ALL_GROUPS = 3 };

/* DTLS-SRTP protection profiles (RFC 5764, RFC 7714): a bit each. */
enum dtls_srtp_bit {
    DTLS_SRTP_AES128_CM_SHA1_80 = 1 << 0, /* 0x0001 */
    DTLS_SRTP_AES128_CM_SHA1_32 = 1 << 1, /* 0x0002 */
    DTLS_SRTP_AEAD_AES_128_GCM = 1 << 2,  /* 0x0007 */
    DTLS_SRTP_AEAD_AES_256_GCM = 1 << 3,  /* 0x0008 */
    DTLS_SRTP_ALL = 15,
};


/* Why a handshake failed (dtls_failure). */
#define DTLS_FAILURES(X)                                                                      \
    X(NONE, "none")                                                                           \
    X(TIMEOUT, "timeout")                   /* the last retransmission went unanswered */     \
    X(PEER_ALERT, "peer_alert")             /* the peer sent a fatal alert (or close) */      \
    X(DECODE, "decode")                     /* a malformed handshake message */               \
    X(TOO_BIG, "too_big")                   /* a handshake message over DTLS_REASM_BYTES */   \
    X(UNEXPECTED, "unexpected")             /* a message out of the handshake's order */      \
    X(VERSION, "version")                   /* the peer does not speak DTLS 1.2 */            \
    X(NO_SHARED_SUITE, "no_shared_suite")   /* nothing in common: suite, group or sig alg */  \
    X(UNSUPPORTED_EXT, "unsupported_ext")   /* a ServerHello extension we did not offer */    \
    X(FINGERPRINT, "fingerprint")           /* certificate does not match the SDP fingerprint */ \
    X(BAD_CERT, "bad_certificate")          /* certificate missing or not P-256 */            \
    X(BAD_SIGNATURE, "bad_signature")       /* ServerKeyExchange or CertificateVerify */      \
    X(BAD_FINISHED, "bad_finished")         /* the peer's Finished does not verify */         \
    X(BAD_KEY_SHARE, "bad_key_share")       /* the peer's ECDHE point is not valid */         \
    X(CRYPTO, "crypto")                     /* the provider failed */                         \
    X(DOWNGRADE, "downgrade")               /* 1.3 offered, 1.2 chosen with the RFC 8446 §4.1.3 sentinel */
#define DTLS_FAIL_ENUM(n, s) DTLS_FAIL_##n,
enum dtls_failure { DTLS_FAILURES(DTLS_FAIL_ENUM) DTLS_FAIL_COUNT };
#undef DTLS_FAIL_ENUM

enum dtls_event_type {
    DTLS_EV_NONE,
    DTLS_EV_CONNECTED, /* keys in the record layer, the exporter ready (once) */
    DTLS_EV_FAILED,    /* the handshake failed (once): ev.failure says why */
};

struct dtls_ev {
    enum dtls_event_type type;
    enum dtls_failure failure; /* DTLS_EV_FAILED: why (as dtls_failure()); else DTLS_FAIL_NONE */
};

struct dtls_counters {
    uint32_t datagrams_in, datagrams_out, records_in, records_out;
    uint32_t records_dropped;  /* unreadable, wrong epoch or type, not authenticated */
    uint32_t records_held;     /* epoch-1 records kept until their keys came */
    uint32_t fragments_dup;    /* handshake bytes we had already */
    uint32_t fragments_held;   /* fragments of a later message, kept for their turn */
    uint32_t fragments_dropped; /* no room to hold them, or too far ahead */
    uint32_t flights_sent, retransmit_timeouts, retransmits_on_repeat;
    uint32_t cookies_sent, cookies_bad;
    uint32_t alerts_in, alerts_out;
    uint32_t acks_in, acks_out;      /* DTLS 1.3 ACK records */
    uint32_t key_updates_out;        /* DTLS 1.3: our KeyUpdates acknowledged (write epoch moved on) */
    uint32_t key_updates_in;         /* DTLS 1.3: the peer's KeyUpdates taken (read epoch moved on) */
};

struct dtls_config {
    bool is_server;
    const struct cp *cp;               /* provider; outlives the endpoint */
    const struct dtls_cert *cert;      /* ours; outlives the endpoint */
    const uint8_t *peer_fingerprint;   /* 32 bytes from the peer's SDP (SHA-256 of its certificate) */
    struct dtls_record *rec;           /* the connection's record layer, set up by dtls_record_reset for
                                          this role (its key area, counters); dtls_init rewinds it */
    /* server: HelloVerifyRequest cookies are HMAC-SHA256(secret, client_id
     * || client random); NULL secret: no HelloVerifyRequest */
    const uint8_t *cookie_secret;      /* DTLS_COOKIE_SECRET bytes */
    const uint8_t *client_id;          /* the client's transport address bytes */
    uint8_t client_id_len;             /* up to 32 */
    bool no_client_cert;               /* server: do not ask for the client's certificate (not WebRTC) */
    uint8_t suites;                    /* enum dtls_suite_bit; 0: all */
    uint8_t groups;                    /* enum dtls_group_bit; 0: all. A client must have P-256: its
                                        * supported_groups also names the curves it takes for the
                                        * server's certificate (RFC 8422 §4), which is P-256 */
    uint8_t srtp;                      /* enum dtls_srtp_bit offered/accepted; 0: no use_srtp */
    uint16_t mtu;                      /* 0: DTLS_MTU */
    uint32_t rto_initial_ms, rto_max_ms; /* 0: 500 / 8000 */
    uint8_t versions;                  /* enum dtls_version_bit; 0: DTLS_OFFER_V12 (1.2 only) */
    char *keylog;                      /* DTLS 1.3, when not NULL: DTLS_KEYLOG_MAX bytes where the handshake
                                        * writes its NSS key-log lines as it derives each secret (they are
                                        * gone from the endpoint by the end): CLIENT_/SERVER_HANDSHAKE_
                                        * TRAFFIC_SECRET, CLIENT_/SERVER_TRAFFIC_SECRET_0, EXPORTER_SECRET,
                                        * each "LABEL <client random> <secret>\n", NUL-terminated; it must
                                        * outlive the handshake. 1.2 logs through dtls_keylog_line */
    uint64_t key_update_after;         /* DTLS 1.3: a KeyUpdate of ours once this many records were sealed
                                        * in our write epoch; 0: the suite's default (AES-GCM 2^24, under
                                        * RFC 8446 §5.5's 2^24.5; ChaCha20-Poly1305 never: its limit is
                                        * past the 2^48 sequence numbers); UINT64_MAX never (so is any value
                                        * from 2^32 - 1 up: the endpoint keeps the limit in 32 bits) */
};

struct dtls_endpoint; /* opaque, dtls_endpoint_size() bytes, 8-byte aligned */

/* Bytes an endpoint takes (at most 4096). */
size_t dtls_endpoint_size(void);

/* Sets an endpoint up in e (dtls_endpoint_size() bytes) and resets
 * cfg->rec to epoch 0. A client composes its ClientHello (ready for
 * dtls_poll_transmit); a server waits for one. Returns 0, -EINVAL (a
 * missing pointer, an MTU below DTLS_MTU_MIN, an empty suite or group
 * set, a client group set without P-256) or a negative errno from the
 * provider. */
int dtls_init(struct dtls_endpoint *e, const struct dtls_config *cfg, uint64_t now);

/* One datagram that demultiplexed as DTLS (RFC 7983: first byte 20..63).
 * Every record in it is read: epoch 0 in the clear, epoch 1 through the
 * record layer once its keys are in (a server keeps one epoch-1 record
 * that comes before them, as a client's Finished overtaking its
 * ClientKeyExchange does, and reads it when they are in). Returns (engine.h)
 * ENGINE_IN_ACCEPTED when a record in it was the handshake's (a duplicate
 * fragment included: dropped quietly and counted in fragments_dup);
 * ENGINE_IN_IGNORED when none was (application data, garbage, records
 * that are not whole or do not open: counted in records_dropped; the
 * caller may count the datagram as foreign), and after DTLS_EV_FAILED or,
 * on a client, DTLS_EV_CONNECTED; ENGINE_IN_FATAL when it failed the
 * handshake (DTLS_EV_FAILED follows, dtls_failure says why, and an alert
 * is queued for dtls_poll_transmit). Never ENGINE_IN_MALFORMED: a
 * malformed record or message is either not the handshake's or fails it.
 * After DTLS_EV_CONNECTED a server still answers a repeated final flight
 * of the client. */
enum engine_input dtls_handle_input(struct dtls_endpoint *e, const uint8_t *d, size_t len, uint64_t now);

/* Resends the flight when its timer has expired, fails the handshake
 * (DTLS_FAIL_TIMEOUT) when the last one has. A `now` older than the
 * latest seen is ignored. */
void dtls_handle_timeout(struct dtls_endpoint *e, uint64_t now);

/* The next datagram to send into buf (cap bytes, at least the MTU): its
 * length, or 0 when nothing is due. */
size_t dtls_poll_transmit(struct dtls_endpoint *e, uint8_t *buf, size_t cap, uint64_t now);

/* The next event into *ev: DTLS_EV_CONNECTED once, or DTLS_EV_FAILED
 * once. Returns its type (DTLS_EV_NONE when none). */
enum dtls_event_type dtls_poll_event(struct dtls_endpoint *e, struct dtls_ev *ev);

/* The next deadline (ns): `now` while datagrams are due, the flight timer,
 * or UINT64_MAX. */
uint64_t dtls_next_timeout(const struct dtls_endpoint *e);

/* ---- after DTLS_EV_CONNECTED ---- */

/* DTLS 1.3: the body of an ACK record (RFC 9147 §7) the connection's
 * record layer opened at epoch 3 while the endpoint is still held: the
 * records of our final flight it lists are acknowledged. Returns 1 when it
 * was well-formed, 0 when not. */
int dtls_handle_ack(struct dtls_endpoint *e, const uint8_t *body, size_t len);

/* DTLS 1.3, after DTLS_EV_CONNECTED while the endpoint is kept: opens
 * the first protected record of in (len bytes, *used as
 * dtls_record_open's) for the connection. Records of the current read
 * epoch go through the record layer, those of the previous one (late
 * after the peer's KeyUpdate) through the keys the endpoint keeps for it,
 * with their own replay window; epoch-2 records go to the handshake (a
 * repeated final flight). Post-handshake messages are taken here: a
 * KeyUpdate (acknowledged, the read keys moved on, answered with ours
 * when it asks), an ACK (of our KeyUpdate: the write keys move on), as is
 * the answer owed on dtls_poll_transmit. Returns the content length with
 * *type: DTLS_CT_APPLICATION_DATA and DTLS_CT_ALERT are the caller's
 * (alerts acted upon by the record layer as usual); DTLS_CT_HANDSHAKE and
 * DTLS_CT_ACK were the endpoint's. Negative: refused (enum
 * dtls_record_error, counted by the record layer or in records_dropped).
 * -ENOTSUP for 1.2 or before the keys. */
int dtls_open_record(struct dtls_endpoint *e, const uint8_t *in, size_t len, size_t *used, uint8_t *type,
                     uint8_t *out, size_t cap, uint64_t now);

/* DTLS 1.3, after DTLS_EV_CONNECTED: sends a KeyUpdate (RFC 8446 §4.6.3,
 * RFC 9147 §8) through dtls_poll_transmit, request_peer asking the peer
 * to update its keys too, sent again on the flight timer until
 * acknowledged; our write keys move to the next epoch when the ACK comes.
 * Also done on its own once key_update_after records were sealed.
 * Returns 0, -EBUSY (one is out and not yet acknowledged, or our final
 * flight is), -ENOTSUP (not a connected 1.3 endpoint). */
int dtls_key_update(struct dtls_endpoint *e, bool request_peer, uint64_t now);

/* DTLS 1.3: our write epoch and the peer's (3 after the handshake, one
 * more per KeyUpdate); 0 for 1.2 or before the keys. */
uint16_t dtls_write_epoch(const struct dtls_endpoint *e);
uint16_t dtls_read_epoch(const struct dtls_endpoint *e);

/* DTLS 1.3: whether our final flight (a client's Finished) is still sent
 * again on its timer, waiting for the peer's ACK. False for 1.2 and once
 * acknowledged (or given up at the longest timer). */
bool dtls_awaiting_ack(const struct dtls_endpoint *e);

/* The negotiated protocol version: DTLS_V12 (0xfefd) or DTLS_V13
 * (0xfefc, dtls_record.h) once the ServerHello chose it; 0 before. */
uint16_t dtls_version(const struct dtls_endpoint *e);

/* The negotiated suite (enum dtls_suite), group (enum cp_group) and
 * DTLS-SRTP profile (IANA value, 0 when none); 0 before the handshake
 * chose them. */
enum dtls_suite dtls_suite(const struct dtls_endpoint *e);
enum cp_group dtls_group(const struct dtls_endpoint *e);
uint16_t dtls_srtp_profile(const struct dtls_endpoint *e);

/* The keying-material length of a DTLS-SRTP profile (RFC 5764 §4.2:
 * 2 x (key + salt)): 60, 56 or 88, 0 for an unknown profile. */
size_t dtls_srtp_keying_len(uint16_t profile);

/* RFC 5705 exporter without context: PRF(master, label, client_random +
 * server_random) into out (len bytes, at most 255). Returns 0, or -EINVAL
 * before the master secret exists. For DTLS-SRTP: label
 * "EXTRACTOR-dtls_srtp", dtls_srtp_keying_len(profile) bytes. */
int dtls_export_keying(const struct dtls_endpoint *e, const char *label, uint8_t *out, size_t len);

/* The NSS key-log line "CLIENT_RANDOM <client random> <master secret>\n"
 * into out (DTLS_KEYLOG_LINE bytes). Returns 0 or -ENOENT before the
 * master secret exists. */
int dtls_keylog_line(const struct dtls_endpoint *e, char *out);

/* Why the handshake failed (DTLS_FAIL_NONE while it has not), its name,
 * and the alert description sent or received with it (-1 when none). */
enum dtls_failure dtls_failure(const struct dtls_endpoint *e);
const char *dtls_failure_name(enum dtls_failure f);
int dtls_failure_alert(const struct dtls_endpoint *e);

/* The endpoint's counters. */
const struct dtls_counters *dtls_counters(const struct dtls_endpoint *e);

/* Whether the handshake completed, or failed. */
bool dtls_connected(const struct dtls_endpoint *e);
bool dtls_failed(const struct dtls_endpoint *e);

/* Wipes the secrets; e may be set up again with dtls_init. */
void dtls_free(struct dtls_endpoint *e);

/* ---- a cap on concurrent handshakes ---------------------------------- */

/* A fixed pool of handshake endpoints that connections borrow for the
 * handshake and give back once their keys are in their record layer:
 * handshake memory is n × dtls_endpoint_size() whatever the number of
 * connections. Slots are addressed by 32-bit index. One thread per pool
 * (a per-lcore pool); no locking. */
struct dtls_hs_pool {
    uint8_t *slots;            /* n × stride bytes */
    size_t stride;
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

/* Gives slot i back (its secrets wiped). Returns 0, or -EINVAL (counted in
 * bad_releases) when i is out of range or not handed out. */
int dtls_hs_pool_release(struct dtls_hs_pool *p, uint32_t i);

/* Slots handed out now. */
uint32_t dtls_hs_pool_in_use(const struct dtls_hs_pool *p);

/* Frees the pool's memory. */
void dtls_hs_pool_destroy(struct dtls_hs_pool *p);

#endif
