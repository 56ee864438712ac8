/* SPDX-License-Identifier: MIT */
/*
 * turn_fake: a scripted TURN server side for the TURN client's unit test
 * and fuzz target: it reads the client's request and writes the answer a
 * server would (a 401 challenge, a signed success, an error), so a client
 * can be brought to any stage without a socket.
 */
#ifndef SWARMGEN_TESTS_TURN_FAKE_H
#define SWARMGEN_TESTS_TURN_FAKE_H

#include <string.h>

#include "stun.h"
#include "turn.h"

#define FAKE_REALM "fake.realm"
#define FAKE_NONCE "0123456789abcdef"

/* Answers request req (len bytes) into out: code 0 a success signed with
 * key (XOR-RELAYED/MAPPED-ADDRESS and LIFETIME for an Allocate), else an
 * error with REALM and NONCE (nonce given, or FAKE_NONCE). Returns the
 * answer's length, or -1 when req does not parse. */
static inline int fake_answer(const uint8_t *req, size_t len, uint16_t code, const uint8_t key[16],
                              const char *nonce, uint8_t *out, size_t cap)
{
    struct stun_msg m;
    if (stun_parse(req, len, &m) < 0)
        return -1;
    uint16_t method = m.type & 0x3eef;
    struct stun_writer w;
    stun_begin(&w, out, cap, (uint16_t)((code ? STUN_CLASS_ERROR : STUN_CLASS_SUCCESS) | method), m.tid);
    if (code) {
        stun_put_error(&w, code, code == 401 ? "Unauthorized" : "Error");
        stun_put_bytes(&w, STUN_ATTR_REALM, FAKE_REALM, sizeof(FAKE_REALM) - 1);
        const char *n = nonce ? nonce : FAKE_NONCE;
        stun_put_bytes(&w, STUN_ATTR_NONCE, n, (uint16_t)strlen(n));
    } else {
        if (method == STUN_METHOD_ALLOCATE) {
            struct stun_addr relayed = {.family = 4, .port = 49152, .ip = {192, 0, 2, 1}};
            struct stun_addr mapped = {.family = 4, .port = 40000, .ip = {198, 51, 100, 7}};
            stun_put_xor_address_as(&w, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
            stun_put_xor_address(&w, &mapped);
        }
        if (method == STUN_METHOD_ALLOCATE || method == STUN_METHOD_REFRESH)
            stun_put_u32(&w, STUN_ATTR_LIFETIME, m.has_lifetime && m.lifetime == 0 ? 0 : 600);
        stun_put_integrity(&w, key, 16);
    }
    return stun_end(&w);
}

#endif
