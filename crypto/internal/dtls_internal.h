/* SPDX-License-Identifier: MIT */
/*
 * dtls_internal: the handshake endpoint's state and the helpers its three
 * files share (dtls.c: the state machine; dtls_msg.c: writing and reading
 * handshake message bodies; dtls_flight.c: flights out, fragments in).
 * Tests may include it; nothing else should.
 */
#ifndef SWARMGEN_CRYPTO_DTLS_INTERNAL_H
#define SWARMGEN_CRYPTO_DTLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls.h"
#include "tls13_keys.h"
#include "wire.h"

/* Handshake message types (RFC 5246 §7.4, RFC 6347 §4.3.2, RFC 5077). */
enum dtls_hs_type {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_HELLO_VERIFY_REQUEST = 3,
    HS_NEW_SESSION_TICKET = 4,
    HS_CERTIFICATE = 11,
    HS_SERVER_KEY_EXCHANGE = 12,
    HS_CERTIFICATE_REQUEST = 13,
    HS_SERVER_HELLO_DONE = 14,
    HS_CERTIFICATE_VERIFY = 15,
    HS_CLIENT_KEY_EXCHANGE = 16,
    HS_FINISHED = 20,
    HS_ENCRYPTED_EXTENSIONS = 8,  /* DTLS 1.3 (RFC 8446 §4.3.1) */
    HS_KEY_UPDATE = 24,
    HS_MESSAGE_HASH = 254,        /* RFC 8446 §4.4.1: ClientHello1 after a HelloRetryRequest */
};

/* Suite code points (RFC 5289, RFC 7905) and the extension types we read. */
#define SUITE_ECDHE_ECDSA_AES_128_GCM 0xc02b
#define SUITE_ECDHE_ECDSA_AES_256_GCM 0xc02c
#define SUITE_ECDHE_ECDSA_CHACHA20 0xcca9
#define SUITE_EMPTY_RENEGOTIATION_SCSV 0x00ff
#define EXT_SUPPORTED_GROUPS 0x000a
#define EXT_EC_POINT_FORMATS 0x000b
#define EXT_SIGNATURE_ALGORITHMS 0x000d
#define EXT_USE_SRTP 0x000e
#define EXT_EXTENDED_MASTER_SECRET 0x0017
#define EXT_SUPPORTED_VERSIONS 0x002b
#define EXT_RENEGOTIATION_INFO 0xff01
#define EXT_COOKIE 0x002c
#define EXT_KEY_SHARE 0x0033
#define SUITE13_AES_128_GCM 0x1301      /* TLS_AES_128_GCM_SHA256 */
#define SUITE13_AES_256_GCM 0x1302      /* TLS_AES_256_GCM_SHA384 */
#define SUITE13_CHACHA20 0x1303         /* TLS_CHACHA20_POLY1305_SHA256 */
#define ACK_MAX 8           /* record numbers an ACK of ours lists; our flight's records we track (at most 16) */
#define SIG_ECDSA_SECP256R1_SHA256 0x0403
#define CERT_TYPE_ECDSA_SIGN 64

#define HS_HEADER 12       /* type, length, message_seq, fragment_offset, fragment_length */
#define VERIFY_DATA 12
#define COOKIE_MAX 255     /* DTLS 1.2 HelloVerifyRequest cookie (RFC 6347 §4.2.1) */
#define COOKIE_OURS 16     /* what our server sends */
#define REASM_MSGS 6       /* messages held at once: a whole flight */
#define REASM_RANGES 4     /* disjoint fragment ranges per message */
#define FLIGHT_ITEMS 6
#define MSG_MAX 1400       /* the longest handshake body we write (a ClientHello, a Certificate) */
#define EARLY_MAX 96       /* an epoch-1 Finished record: 13 + 8 + 12 + 12 + 16 bytes, with room */
#define SIG_ECDSA_SECP384R1_SHA384 0x0503

enum dtls_state {
    ST_CLIENT_HELLO,     /* client: ClientHello out, waiting for HelloVerifyRequest or ServerHello */
    ST_CLIENT_CERT,      /* client: the server's Certificate */
    ST_CLIENT_SKE,       /* client: ServerKeyExchange */
    ST_CLIENT_CR,        /* client: CertificateRequest or ServerHelloDone */
    ST_CLIENT_DONE,      /* client: ServerHelloDone (after a CertificateRequest) */
    ST_CLIENT_FINISHED,  /* client: flight 5 out, waiting for the server's Finished */
    ST_SERVER_HELLO,     /* server: waiting for a ClientHello (with our cookie) */
    ST_SERVER_CERT,      /* server: the client's Certificate */
    ST_SERVER_CKE,       /* server: ClientKeyExchange */
    ST_SERVER_CV,        /* server: CertificateVerify */
    ST_SERVER_FINISHED,  /* server: the client's Finished */
    ST_CONNECTED,
    ST_FAILED,
    /* DTLS 1.3 (dtls13.c) */
    ST13_CLIENT_EE,      /* client: EncryptedExtensions */
    ST13_CLIENT_CR,      /* client: CertificateRequest or Certificate */
    ST13_CLIENT_CERT,    /* client: Certificate (after a CertificateRequest) */
    ST13_CLIENT_CV,      /* client: CertificateVerify */
    ST13_CLIENT_FINISHED, /* client: the server's Finished */
    ST13_SERVER_CERT,    /* server: the client's Certificate */
    ST13_SERVER_CV,      /* server: its CertificateVerify */
    ST13_SERVER_FINISHED, /* server: its Finished */
};

/* What a flight holds, in order. */
enum dtls_item {
    IT_CLIENT_HELLO, IT_HELLO_VERIFY, IT_SERVER_HELLO, IT_CERTIFICATE, IT_SERVER_KEY_EXCHANGE,
    IT_CERTIFICATE_REQUEST, IT_SERVER_HELLO_DONE, IT_CLIENT_KEY_EXCHANGE, IT_CERTIFICATE_VERIFY,
    IT_CHANGE_CIPHER_SPEC, IT_FINISHED,
    /* DTLS 1.3: IT13_SERVER_HELLO in the clear (a HelloRetryRequest too), the rest at epoch 2 */
    IT13_SERVER_HELLO, IT13_HELLO_RETRY, IT13_ENCRYPTED_EXTENSIONS, IT13_CERTIFICATE_REQUEST, IT13_CERTIFICATE,
    IT13_CERTIFICATE_VERIFY, IT13_FINISHED,
    IT13_KEY_UPDATE, /* post-handshake, sealed by the record layer at our write epoch */
};

/* The DTLS 1.3 part of an endpoint (dtls13.c). Its secret schedule runs
 * in the 1.2 fields it does not need: the handshake secret, then the
 * master secret, in `master`; the ECDHE secret in `premaster`; a
 * HelloRetryRequest cookie in `cookie`. */
struct dtls13 {
    uint8_t c_ts[TLS13_HASH_MAX];       /* client handshake traffic secret, then application */
    uint8_t s_ts[TLS13_HASH_MAX];       /* server handshake traffic secret, then application */
    uint8_t exporter[TLS13_HASH_MAX];   /* exporter_master_secret */
    uint8_t finished[TLS13_HASH_MAX];   /* our verify_data */
    struct dtls13_keys w, r;            /* epoch 2, ours and the peer's (r: then the peer's previous epoch) */
    uint16_t ack_epoch;                 /* the epoch of the record numbers in t_in.ack (0: 2) */
    uint32_t ku_after;                  /* records of a write epoch before a KeyUpdate of ours;
                                         * UINT32_MAX never (dtls_config.key_update_after) */
    uint64_t w_seq;                     /* next epoch-2 record number we send */
    uint8_t n_ack, fl_n;                /* records in .ack; our flight's records this transmission */
    uint16_t fl_acked;                  /* bit i: record fl_first + i acknowledged */
    bool ack_pending;                   /* an ACK record to send (epoch 3) */
    bool await_ack;                     /* our final flight is out and not yet acknowledged */
    bool hrr;                           /* a HelloRetryRequest went (server) or came (client) */
    bool hrr_group;                     /* server: ours asked for another group (e->group) */
    bool peer_auth;                     /* client: the server asked for our certificate */
    uint8_t sid_len;
    uint8_t sid[32];                    /* server: the client's legacy_session_id, echoed */
    uint8_t cr_ctx_len;                 /* client: the CertificateRequest's context, echoed */
    uint8_t cr_ctx[8];
    uint8_t hl;                         /* hash length of the suite */
};

/* KeyUpdate (RFC 9147 §8) after the handshake, in the room of the
 * hellos' cookie (not written again once connected). c_ts and s_ts hold
 * the current application traffic secrets; t.r the raw keys of the
 * peer's previous epoch (old_epoch; 2 until its first KeyUpdate), t_in's
 * window theirs. */
struct dtls13_post {
    uint64_t ku_first, ku_last;         /* record numbers (w_epoch) our KeyUpdate's transmissions took */
    uint16_t w_epoch, r_epoch, old_epoch; /* ours, the peer's, that of t.r (0 before the keys) */
    bool ku_out;                        /* our KeyUpdate is out, not yet acknowledged */
    bool ku_request;                    /* it asks the peer to update too */
    bool ku_sealed;                     /* a transmission of it was sealed: ku_first..ku_last hold */
};

/* What 1.3 keeps where 1.2 keeps its early record (a server's epoch-1
 * record ahead of its keys, which 1.3 never holds). */
struct dtls13_in {
    uint64_t r_top, r_window;           /* epoch 2 in: highest + 1 seen, bit i = r_top - 1 - i seen */
    uint64_t fl_first;                  /* our flight's first epoch-2 record this transmission */
    uint64_t ack[ACK_MAX];              /* epoch-2 records of the peer's flight we took (to ACK) */
};
/* A handshake message being reassembled: fragments land at off + their
 * offset in the endpoint's reassembly bytes; ranges hold what arrived. */
struct dtls_reasm {
    bool used;
    uint8_t type, epoch, n_ranges;
    uint16_t seq, len, off;
    uint16_t range[REASM_RANGES][2]; /* [start, end) */
};

struct dtls_endpoint {
    /* configuration */
    const struct cp *cp;
    const struct dtls_cert *cert;
    struct dtls_record *rec;
    const uint8_t *cookie_secret;
    char *keylog;               /* 1.3: where the key-log lines go (NULL none) */
    uint8_t peer_fp[DTLS_FP_LEN];
    uint8_t client_id[32];
    uint8_t client_id_len;
    bool is_server, want_client_cert;
    uint8_t suites, groups, srtp_offer;
    uint8_t versions;           /* enum dtls_version_bit */
    uint16_t mtu;
    uint32_t rto_initial_ms, rto_max_ms;

    /* progress */
    uint8_t state;              /* enum dtls_state */
    uint8_t failure;            /* enum dtls_failure */
    int16_t fail_alert;         /* alert sent or received with the failure, -1 none */
    uint8_t events[2], n_events;
    uint64_t now;

    /* negotiated */
    uint16_t version;           /* DTLS_V12 or DTLS_V13 once chosen; 0 before */
    uint16_t suite_id;          /* SUITE_* */
    uint16_t group;             /* enum cp_group */
    uint16_t srtp_profile;
    bool ems, ri, point_formats; /* extensions the ClientHello had (server), the ServerHello echoed (client) */
    bool cert_requested;        /* client: the server asked for our certificate */
    uint8_t ext_order;          /* client: the seed of our extension order */

    /* handshake secrets and values */
    uint8_t client_random[32], server_random[32];
    uint8_t eph_priv[CP_P256_PRIV_LEN];
    uint8_t eph_pub[CP_PUB_MAX];
    uint8_t premaster[CP_ECDH_SHARED_LEN];
    uint8_t master[48];
    bool have_master;
    uint8_t peer_pub[CP_P256_PUB_LEN]; /* from the peer's certificate */
    uint8_t sig[CP_ECDSA_SIG_MAX];     /* ours, for ServerKeyExchange or CertificateVerify */
    uint8_t sig_len;
    uint8_t finished[VERIFY_DATA];     /* our verify_data */
    union {
        uint8_t cookie[COOKIE_MAX];    /* client: the server's; server: the one we sent */
        struct dtls13_post p;          /* DTLS 1.3 once connected (dtls13.c clears it) */
    };
    uint8_t cookie_len;

    /* transcript: SHA-256 always (CertificateVerify signs it), SHA-384
     * while the suite may need it for the PRF */
    struct cp_hash th256, th384;
    bool th384_on;

    /* messages in */
    uint16_t in_seq;            /* next message_seq we process */
    uint16_t peer_last;         /* last message_seq of the peer's previous flight */
    bool have_peer_last;
    uint16_t reasm_used;
    struct dtls_reasm reasm[REASM_MSGS];

    /* our flight out */
    uint16_t out_seq;           /* next message_seq we give a message */
    uint8_t items[FLIGHT_ITEMS], n_items;
    uint16_t item_seq[FLIGHT_ITEMS];
    uint8_t tx_item;            /* where poll_transmit goes on */
    uint16_t tx_off;
    bool tx_pending, alert_pending, ccs_sent;
    uint8_t alert_desc;
    uint64_t t_retx;            /* UINT64_MAX: no timer */
    uint32_t rto_ms;

    struct dtls_counters c;

    /* one epoch-1 record that came before its keys (a Finished ahead of
     * the ClientKeyExchange it follows), read once they are in */
    union {
        uint8_t early[EARLY_MAX];
        struct dtls13_in t_in;
    };
    uint8_t early_len;

    struct dtls13 t;

    uint8_t reasm_buf[DTLS_REASM_BYTES];
};

/* ---- dtls.c ---- */

/* Ends the handshake: failure f, alert desc sent to the peer (< 0: none). */
void dtls_fail(struct dtls_endpoint *e, enum dtls_failure f, int alert);
/* Ends the handshake for an ECDH shared-secret error rc: a bad peer key
 * (-EINVAL: bad_key_share, illegal_parameter) or the provider (crypto,
 * internal_error). Returns -EPROTO. */
int dtls_fail_ecdh(struct dtls_endpoint *e, int rc);
/* Hashes one whole handshake message (canonical DTLS header + body) into
 * the transcript. */
void dtls_transcript(struct dtls_endpoint *e, uint8_t type, uint16_t seq, const uint8_t *body, size_t len);
/* Handles the next complete message in order (type, body); returns 0, or
 * -EPROTO after dtls_fail. */
int dtls_on_message(struct dtls_endpoint *e, uint8_t type, uint8_t epoch, const uint8_t *body, size_t len);
/* The last message of the peer's previous flight came again: resend ours. */
void dtls_on_repeat(struct dtls_endpoint *e);

/* ---- dtls_msg.c: bodies out ---- */

/* Writes the body of a flight item into out (MSG_MAX bytes); its length. */
size_t dtls_msg_write(const struct dtls_endpoint *e, enum dtls_item it, uint8_t *out);
/* The handshake type of a flight item (0 for change_cipher_spec). */
uint8_t dtls_item_type(enum dtls_item it);

/* ---- dtls_msg.c: bodies in ---- */

struct dtls_client_hello {
    const uint8_t *random, *cookie;
    uint8_t cookie_len;
    uint16_t suite_id, group, srtp_profile;
    bool ems, ri, point_formats, sig_ok, groups_sent, p256_ok, versions_ok;
};

/* Reads a ClientHello and picks what we take from it (with e's
 * configuration). Returns 0 or the failure (enum dtls_failure) with *alert. */
int dtls_parse_client_hello(const struct dtls_endpoint *e, const uint8_t *b, size_t len,
                            struct dtls_client_hello *ch, int *alert);

/* Reads a ServerHello into e (version, random, suite, extensions) checked
 * against our offer. Returns 0 or the failure with *alert. */
int dtls_parse_server_hello(struct dtls_endpoint *e, const uint8_t *b, size_t len, int *alert);

/* Reads a HelloVerifyRequest's cookie into e. Returns 0 or the failure. */
int dtls_parse_hello_verify(struct dtls_endpoint *e, const uint8_t *b, size_t len, int *alert);

/* Reads a Certificate message (v13: the TLS 1.3 form, a context and each
 * entry's extensions): the first certificate's DER (not copied).
 * Returns 0 or the failure (BAD_CERT for an empty list). */
int dtls_parse_certificate(const uint8_t *b, size_t len, bool v13, const uint8_t **der, size_t *der_len, int *alert);

/* ServerKeyExchange: the group, the peer's point, how many bytes the
 * signed params take, the signature and its algorithm. 0, -EINVAL
 * (malformed) or -ENOTSUP (not a named curve). */
int dtls_parse_ske(const uint8_t *b, size_t len, uint16_t *group, const uint8_t **pub, size_t *pub_len,
                   size_t *params_len, const uint8_t **sig, size_t *sig_len, unsigned *sig_alg);
/* CertificateRequest: whether it takes an ECDSA P-256 SHA-256 certificate. 0 or -EINVAL. */
int dtls_parse_cert_request(const uint8_t *b, size_t len, bool *ecdsa_ok);
/* ClientKeyExchange (ECDHE): the client's point. 0 or -EINVAL. */
int dtls_parse_cke(const uint8_t *b, size_t len, const uint8_t **pub, size_t *pub_len);
/* CertificateVerify: algorithm and signature. 0 or -EINVAL. */
int dtls_parse_cert_verify(const uint8_t *b, size_t len, unsigned *sig_alg, const uint8_t **sig, size_t *sig_len);
/* NewSessionTicket (RFC 5077): well-formed or -EINVAL; its content is ignored. */
int dtls_parse_ticket(const uint8_t *b, size_t len);
/* The signed part of our ServerKeyExchange (curve type, group, point). */
size_t dtls_ske_params(const struct dtls_endpoint *e, uint8_t *out);

/* ---- dtls.c, for dtls13.c ---- */

/* The transcript so far under alg into out, the running hash left as it
 * is; its length. */
size_t dtls_transcript_hash(const struct dtls_endpoint *e, enum cp_hash_alg alg, uint8_t *out);
/* Both running transcripts from empty. */
void dtls_transcript_reset(struct dtls_endpoint *e);
/* The server's HelloVerifyRequest / HelloRetryRequest cookie for a client random. */
void dtls_cookie_of(const struct dtls_endpoint *e, const uint8_t *random, uint8_t *out);
/* The peer's certificate DER checked against the SDP fingerprint, its key taken. 0 or -EPROTO (failed). */
int dtls_check_peer_cert(struct dtls_endpoint *e, const uint8_t *der, size_t dl);
/* Constant-time comparison. */
bool dtls_same(const uint8_t *a, const uint8_t *b, size_t n);
/* Writes zeros the compiler keeps. */
void dtls_wipe(void *p, size_t n);
/* Queues the event (CONNECTED or FAILED). */
void dtls_event(struct dtls_endpoint *e, enum dtls_event_type ev);

/* ---- dtls13.c, dtls13_msg.c: DTLS 1.3 ---- */

/* Whether the engine speaks 1.3 with this peer (chosen, or tentatively
 * after a HelloRetryRequest). */
static inline bool dtls_is13(const struct dtls_endpoint *e)
{
    return e->version == DTLS_V13;
}
/* Server: a ClientHello that offers 1.3 while we accept it: the whole 1.3
 * server handshake from here. Returns 1 when it offers 1.3 (handled: 0 or
 * -EPROTO in *rc), 0 when the 1.2 path should read it. */
int dtls13_server_hello_in(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len, int *rc);
/* Client: a ServerHello (or HelloRetryRequest) that chose 1.3. Returns 1 when
 * it did (handled: *rc as above), 0 when the 1.2 path reads it (after the
 * downgrade check: *rc -EPROTO when the sentinel says 1.2 was forced). */
int dtls13_client_server_hello(struct dtls_endpoint *e, uint16_t seq, const uint8_t *b, size_t len, int *rc);
/* A message of the 1.3 handshake after the hellos. 0 or -EPROTO. */
int dtls13_on_message(struct dtls_endpoint *e, uint8_t type, uint8_t epoch, uint16_t seq, const uint8_t *b,
                      size_t len);
/* A protected record (unified header) of a datagram during the handshake.
 * 1 taken, 0 not, -EPROTO failed. */
int dtls13_record_in(struct dtls_endpoint *e, const uint8_t *r, size_t rl);
/* The client's key share for its first ClientHello (1.3 offered). 0 or the provider's error. */
int dtls13_client_init(struct dtls_endpoint *e);
/* The peer repeated its flight: 1.3 answers (a server with an ACK once done). True when handled. */
bool dtls13_on_repeat(struct dtls_endpoint *e);
/* An ACK record's body (epoch 3 or 2). 1 taken, 0 not. */
int dtls13_ack_in(struct dtls_endpoint *e, const uint8_t *b, size_t len);
/* After the handshake (dtls_open_record, dtls_key_update): one record
 * of the connection opened at the epoch it names; our KeyUpdate started
 * (0, -EBUSY, -ENOTSUP); whether the write epoch reached its limit with
 * no update under way. */
int dtls13_open_record(struct dtls_endpoint *e, const uint8_t *in, size_t len, size_t *used, uint8_t *type,
                       uint8_t *out, size_t cap);
int dtls13_key_update(struct dtls_endpoint *e, bool request);
bool dtls13_key_update_due(const struct dtls_endpoint *e);
#define DTLS13_KU_AFTER_GCM (1ull << 24) /* under AES-GCM's 2^24.5 records (RFC 8446 §5.5) */
/* Writes our pending ACK record into buf; its length or 0. */
size_t dtls13_ack_out(struct dtls_endpoint *e, uint8_t *buf, size_t cap);
/* Seals one epoch-2 record of our flight (a handshake fragment or an
 * alert) with the next epoch-2 record number. Returns as dtls13_seal. */
int dtls13_seal_flight_record(struct dtls_endpoint *e, uint8_t type, const uint8_t *in, size_t len, uint8_t *out,
                              size_t cap);
/* A transmission of our flight starts: the records it seals are tracked for ACKs. */
void dtls13_flight_start(struct dtls_endpoint *e);
/* Exporter and keys after the handshake. */
int dtls13_export(const struct dtls_endpoint *e, const char *label, uint8_t *out, size_t len);

/* dtls13_msg.c: bodies of 1.3 messages out, and their readers */
extern const uint8_t dtls13_hrr_random[32];
/* Whether a 1.3 suite id is one of the suite bits in mask. */
bool dtls13_suite_offered(uint8_t mask, unsigned id);
/* Our 1.3 suites (2 bytes each) at p; their length in bytes. */
size_t dtls13_write_suites(const struct dtls_endpoint *e, uint8_t *p);
size_t dtls13_msg_write(const struct dtls_endpoint *e, enum dtls_item it, uint8_t *out);
/* The 1.3 ClientHello extensions we add (supported_versions, key_share,
 * the HRR cookie), whole, at out; their length. */
size_t dtls13_client_extensions(const struct dtls_endpoint *e, uint8_t *out, bool cookie_only);

struct dtls13_client_hello {
    const uint8_t *random, *sid, *share, *cookie;
    uint8_t sid_len;
    uint16_t suite, share_group, hrr_group; /* hrr_group: a group both take when no share fits */
    uint16_t share_len, cookie_len, srtp;
    bool offers13, sig_ok, p256_ok;
};
/* Reads a ClientHello for 1.3. 0 with ch->offers13 false when it does not
 * offer 1.3; 0 or the failure (enum dtls_failure, *alert) when it does. */
int dtls13_parse_client_hello(const struct dtls_endpoint *e, const uint8_t *b, size_t len,
                              struct dtls13_client_hello *ch, int *alert);

struct dtls13_server_hello {
    const uint8_t *random, *share, *cookie;
    uint16_t version, suite, group, share_len, cookie_len;
    bool hrr, is13;
};
/* Reads a ServerHello / HelloRetryRequest: whether it chose 1.3 and what. 0 or the failure. */
int dtls13_parse_server_hello(const struct dtls_endpoint *e, const uint8_t *b, size_t len,
                              struct dtls13_server_hello *sh, int *alert);
/* EncryptedExtensions: the SRTP profile chosen (0 none). 0 or the failure. */
int dtls13_parse_ee(const struct dtls_endpoint *e, const uint8_t *b, size_t len, uint16_t *srtp, int *alert);
/* CertificateRequest: its context (copied into e->t), whether it takes ECDSA P-256 SHA-256. 0 or the failure. */
int dtls13_parse_cr(struct dtls_endpoint *e, const uint8_t *b, size_t len, int *alert);

/* ---- dtls_flight.c ---- */

/* A new flight: empty, nothing being sent. */
void dtls_flight_begin(struct dtls_endpoint *e);
/* Appends an item: a handshake message gets the next message_seq and goes
 * into the transcript now (its body written from e's state, which must
 * hold what it needs). */
void dtls_flight_add(struct dtls_endpoint *e, enum dtls_item it);
/* Starts sending the flight; arms the retransmission timer when `timer`
 * (at the initial RTO), else stops it. */
void dtls_flight_send(struct dtls_endpoint *e, bool timer);
/* Writes the next datagram of what is due (an alert, or the flight from
 * where it stopped) into buf; its length or 0. */
size_t dtls_flight_datagram(struct dtls_endpoint *e, uint8_t *buf, size_t cap);
/* Takes one handshake record body (epoch 0 in the clear or opened) apart
 * into fragments and processes whatever is complete in order. Returns 1
 * when a fragment was the handshake's (new, held, or one we had), 0 when
 * none was (a malformed record, discarded whole; fragments no state
 * takes), or -EPROTO (the handshake failed). */
int dtls_fragments_in(struct dtls_endpoint *e, uint8_t epoch, const uint8_t *b, size_t len);
/* Drops every held message (a new flight from the peer starts). */
void dtls_reasm_reset(struct dtls_endpoint *e);

#endif
