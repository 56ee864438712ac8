/* SPDX-License-Identifier: MIT */
/*
 * stun: the STUN message codec (RFC 8489) for ICE connectivity checks and
 * TURN (RFC 8656: the attributes of Allocate, Refresh, CreatePermission,
 * ChannelBind and the Send/Data indications; long-term credentials).
 *
 * Parsing never copies: struct stun_msg points into the caller's buffer.
 * Writing goes into a caller buffer. MESSAGE-INTEGRITY is HMAC-SHA1 (on mbedTLS SHA-1,
 * stack contexts, no allocation) with the ICE short-term password as key; FINGERPRINT is CRC-32
 * XOR 0x5354554e. No allocation, no clock, no global state: every function
 * is thread-safe on distinct buffers.
 */
#ifndef SWARMGEN_CRYPTO_STUN_H
#define SWARMGEN_CRYPTO_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_MAGIC 0x2112a442u
#define STUN_HDR_LEN 20u

/* Message types used by ICE (method Binding). */
#define STUN_BINDING_REQUEST 0x0001u
#define STUN_BINDING_INDICATION 0x0011u
#define STUN_BINDING_SUCCESS 0x0101u
#define STUN_BINDING_ERROR 0x0111u

/* TURN methods (RFC 8656 §17); a message type is the method with the class
 * bits: STUN_CLASS_* | method. */
#define STUN_METHOD_ALLOCATE 0x003u
#define STUN_METHOD_REFRESH 0x004u
#define STUN_METHOD_SEND 0x006u
#define STUN_METHOD_DATA 0x007u
#define STUN_METHOD_CREATE_PERMISSION 0x008u
#define STUN_METHOD_CHANNEL_BIND 0x009u
#define STUN_CLASS_REQUEST 0x0000u
#define STUN_CLASS_INDICATION 0x0010u
#define STUN_CLASS_SUCCESS 0x0100u
#define STUN_CLASS_ERROR 0x0110u
#define STUN_CLASS_MASK 0x0110u

enum stun_attr_type {
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_CHANNEL_NUMBER = 0x000c,
    STUN_ATTR_LIFETIME = 0x000d,
    STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    STUN_ATTR_DATA = 0x0013,
    STUN_ATTR_REALM = 0x0014,
    STUN_ATTR_NONCE = 0x0015,
    STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    STUN_ATTR_PRIORITY = 0x0024,
    STUN_ATTR_USE_CANDIDATE = 0x0025,
    STUN_ATTR_SOFTWARE = 0x8022,
    STUN_ATTR_FINGERPRINT = 0x8028,
    STUN_ATTR_ICE_CONTROLLED = 0x8029,
    STUN_ATTR_ICE_CONTROLLING = 0x802a,
};

struct stun_addr {
    uint8_t family; /* 4 or 6; 0 when absent */
    uint16_t port;
    uint8_t ip[16]; /* network order; 4 bytes used for IPv4 */
};

/* A parsed message; pointers refer to the parsed buffer. */
struct stun_msg {
    uint16_t type;
    uint16_t length;            /* of the attributes */
    const uint8_t *tid;         /* 12 bytes */
    const uint8_t *username;
    uint16_t username_len;
    const uint8_t *software;
    uint16_t software_len;
    bool has_priority, use_candidate, has_controlling, has_controlled;
    uint32_t priority;
    uint64_t tiebreaker;        /* of ICE-CONTROLLING or ICE-CONTROLLED */
    uint16_t error_code;        /* 0 when absent, else class*100+number */
    struct stun_addr xor_mapped;
    /* TURN (RFC 8656) */
    const uint8_t *realm, *nonce, *data;
    uint16_t realm_len, nonce_len, data_len;
    bool has_lifetime, has_data;
    uint32_t lifetime;          /* seconds */
    uint16_t channel;           /* CHANNEL-NUMBER, 0 when absent */
    struct stun_addr xor_relayed, xor_peer; /* the first XOR-PEER-ADDRESS */
    int32_t integrity_off;      /* offset of the MESSAGE-INTEGRITY attribute, -1 if absent */
    int32_t fingerprint_off;    /* offset of FINGERPRINT, -1 if absent */
    uint16_t unknown_required;  /* comprehension-required attributes we do not know */
};

/* True when the first bytes look like STUN (RFC 7983: first byte 0..3,
 * the magic cookie). Cheap; for demultiplexing. */
bool stun_is_stun(const uint8_t *buf, size_t len);

/* Parses a message. Returns 0, -EBADMSG (not STUN: cookie, top bits or
 * length) or -EPROTO (malformed attributes: truncated, bad lengths,
 * attributes after FINGERPRINT, bad address family). */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m);

/* Verifies MESSAGE-INTEGRITY with `key`. Returns 0, -ENOENT (absent) or
 * -EACCES (mismatch). */
int stun_check_integrity(const uint8_t *buf, size_t len, const struct stun_msg *m,
                         const uint8_t *key, size_t key_len);

/* Verifies FINGERPRINT. Returns 0, -ENOENT or -EACCES. */
int stun_check_fingerprint(const uint8_t *buf, size_t len, const struct stun_msg *m);

/* The long-term credential key (RFC 8489 §9.2.2, MD5 algorithm):
 * MD5(username ":" realm ":" password), the strings taken as given (the
 * caller applies OpaqueString/SASLprep if it needs to). Returns 0 or -EIO. */
int stun_long_term_key(const char *user, const uint8_t *realm, size_t realm_len, const char *pass,
                       uint8_t key[16]);

/* CRC-32 (ISO-HDLC, as FINGERPRINT uses before its XOR). */
uint32_t stun_crc32(const uint8_t *p, size_t n);

/* Writer into a caller buffer; on overflow `err` is set and later calls do
 * nothing. `pad` is the value of padding bytes (0 by default; RFC 5769's
 * vectors use 0x20). */
struct stun_writer {
    uint8_t *buf;
    size_t cap, len;
    uint8_t pad;
    bool err;
};

void stun_begin(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t type, const uint8_t tid[12]);
void stun_put_bytes(struct stun_writer *w, uint16_t type, const void *v, uint16_t len);
void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v);
void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v);
void stun_put_flag(struct stun_writer *w, uint16_t type); /* empty attribute (USE-CANDIDATE) */
void stun_put_xor_address(struct stun_writer *w, const struct stun_addr *a);
/* An XOR-encoded address under another type (XOR-PEER-ADDRESS, ...). */
void stun_put_xor_address_as(struct stun_writer *w, uint16_t type, const struct stun_addr *a);
void stun_put_error(struct stun_writer *w, uint16_t code, const char *reason);
/* MESSAGE-INTEGRITY over everything so far (length field adjusted). */
void stun_put_integrity(struct stun_writer *w, const uint8_t *key, size_t key_len);
void stun_put_fingerprint(struct stun_writer *w);
/* Returns the message length, or -ENOSPC when it did not fit. */
int stun_end(struct stun_writer *w);

#endif
