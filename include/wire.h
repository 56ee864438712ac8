/* SPDX-License-Identifier: MIT */
/*
 * wire: big-endian (network byte order) loads and stores of 16, 24, 32,
 * 48 and 64 bits at any alignment, the one copy every parser and writer
 * of the engines uses (STUN, DTLS records and handshake messages, SCTP,
 * RTP/RTCP, SRTP, GCM's length block, SCTP's SHA-256). 24 bits are DTLS
 * handshake lengths and offsets, 48 bits DTLS record sequence numbers.
 *
 * Each is a memcpy and a byte swap: gcc and clang make it one load or
 * store and a bswap (or a movbe), what the shift-and-or copies it
 * replaces compiled to, with no alignment or aliasing assumption. The
 * caller checks the length; nothing here reads or writes past p + width.
 * Pure functions: reentrant, no state.
 */
#ifndef SWARMGEN_WIRE_H
#define SWARMGEN_WIRE_H

#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__)
#error "wire.h needs __BYTE_ORDER__ (gcc or clang)"
#elif __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WIRE_BE16(x) __builtin_bswap16(x)
#define WIRE_BE32(x) __builtin_bswap32(x)
#define WIRE_BE64(x) __builtin_bswap64(x)
#else
#define WIRE_BE16(x) (x)
#define WIRE_BE32(x) (x)
#define WIRE_BE64(x) (x)
#endif

static inline uint16_t wire_get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return WIRE_BE16(v);
}

static inline uint32_t wire_get24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | wire_get16(p + 1);
}

static inline uint32_t wire_get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return WIRE_BE32(v);
}

static inline uint64_t wire_get48(const uint8_t *p)
{
    return (uint64_t)wire_get16(p) << 32 | wire_get32(p + 2);
}

static inline uint64_t wire_get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return WIRE_BE64(v);
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
    v = WIRE_BE16(v);
    memcpy(p, &v, sizeof(v));
}

/* The low 24 bits of v. */
static inline void wire_put24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    wire_put16(p + 1, (uint16_t)v);
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
    v = WIRE_BE32(v);
    memcpy(p, &v, sizeof(v));
}

/* The low 48 bits of v. */
static inline void wire_put48(uint8_t *p, uint64_t v)
{
    wire_put16(p, (uint16_t)(v >> 32));
    wire_put32(p + 2, (uint32_t)v);
}

static inline void wire_put64(uint8_t *p, uint64_t v)
{
    v = WIRE_BE64(v);
    memcpy(p, &v, sizeof(v));
}

#endif
