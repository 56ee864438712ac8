/* SPDX-License-Identifier: MIT */
/* STUN codec against the RFC 5769 test vectors, and malformed input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "stun.h"

/* RFC 5769 2.1: sample request (short-term credential) */
static const uint8_t req[] =
    "\x00\x01\x00\x58\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae"
    "\x80\x22\x00\x10" "STUN test client"
    "\x00\x24\x00\x04\x6e\x00\x01\xff"
    "\x80\x29\x00\x08\x93\x2f\xf9\xb1\x51\x26\x3b\x36"
    "\x00\x06\x00\x09\x65\x76\x74\x6a\x3a\x68\x36\x76\x59\x20\x20\x20"
    "\x00\x08\x00\x14\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56\x78\x1e\xf2\xb5\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2"
    "\x80\x28\x00\x04\xe5\x7a\x3b\xcf";

/* RFC 5769 2.2: sample IPv4 response */
static const uint8_t resp4[] =
    "\x01\x01\x00\x3c\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae"
    "\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20"
    "\x00\x20\x00\x08\x00\x01\xa1\x47\xe1\x12\xa6\x43"
    "\x00\x08\x00\x14\x2b\x91\xf5\x99\xfd\x9e\x90\xc3\x8c\x74\x89\xf9\x2a\xf9\xba\x53\xf0\x6b\xe7\xd7"
    "\x80\x28\x00\x04\xc0\x7d\x4c\x96";

/* RFC 5769 2.3: sample IPv6 response */
static const uint8_t resp6[] =
    "\x01\x01\x00\x48\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae"
    "\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20"
    "\x00\x20\x00\x14\x00\x02\xa1\x47\x01\x13\xa9\xfa\xa5\xd3\xf1\x79\xbc\x25\xf4\xb5\xbe\xd2\xb9\xd9"
    "\x00\x08\x00\x14\xa3\x82\x95\x4e\x4b\xe6\x7b\xf1\x17\x84\xc9\x7c\x82\x92\xc2\x75\xbf\xe3\xed\x41"
    "\x80\x28\x00\x04\xc8\xfb\x0b\x4c";

static const char pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

Test(stun, rfc5769_request_parses_and_verifies)
{
    struct stun_msg m;
    cr_assert(stun_is_stun(req, sizeof(req) - 1));
    cr_assert_eq(stun_parse(req, sizeof(req) - 1, &m), 0);
    cr_assert_eq(m.type, STUN_BINDING_REQUEST);
    cr_assert_eq(m.username_len, 9);
    cr_assert_eq(memcmp(m.username, "evtj:h6vY", 9), 0);
    cr_assert(m.has_priority);
    cr_assert_eq(m.priority, 0x6e0001ff);
    cr_assert(m.has_controlled && !m.has_controlling);
    cr_assert_eq(m.tiebreaker, 0x932ff9b151263b36ull);
    cr_assert_eq(stun_check_integrity(req, sizeof(req) - 1, &m, (const uint8_t *)pwd, strlen(pwd)), 0);
    cr_assert_eq(stun_check_fingerprint(req, sizeof(req) - 1, &m), 0);
    cr_assert_eq(stun_check_integrity(req, sizeof(req) - 1, &m, (const uint8_t *)"wrong", 5), -EACCES);
}

Test(stun, rfc5769_request_is_rebuilt_byte_for_byte)
{
    uint8_t buf[256];
    struct stun_writer w;
    stun_begin(&w, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
    w.pad = 0x20; /* the vectors pad with spaces */
    stun_put_bytes(&w, STUN_ATTR_SOFTWARE, "STUN test client", 16);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 0x6e0001ff);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLED, 0x932ff9b151263b36ull);
    stun_put_bytes(&w, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
    stun_put_integrity(&w, (const uint8_t *)pwd, strlen(pwd));
    stun_put_fingerprint(&w);
    cr_assert_eq(stun_end(&w), (int)sizeof(req) - 1);
    cr_assert_eq(memcmp(buf, req, sizeof(req) - 1), 0);
}

static void check_response(const uint8_t *v, size_t len, const struct stun_addr *want)
{
    struct stun_msg m;
    cr_assert_eq(stun_parse(v, len, &m), 0);
    cr_assert_eq(m.type, STUN_BINDING_SUCCESS);
    cr_assert_eq(m.xor_mapped.family, want->family);
    cr_assert_eq(m.xor_mapped.port, want->port);
    cr_assert_eq(memcmp(m.xor_mapped.ip, want->ip, want->family == 4 ? 4 : 16), 0);
    cr_assert_eq(stun_check_integrity(v, len, &m, (const uint8_t *)pwd, strlen(pwd)), 0);
    cr_assert_eq(stun_check_fingerprint(v, len, &m), 0);
    /* and rebuilt byte for byte */
    uint8_t buf[256];
    struct stun_writer w;
    stun_begin(&w, buf, sizeof(buf), STUN_BINDING_SUCCESS, tid);
    w.pad = 0x20;
    stun_put_bytes(&w, STUN_ATTR_SOFTWARE, "test vector", 11);
    stun_put_xor_address(&w, want);
    stun_put_integrity(&w, (const uint8_t *)pwd, strlen(pwd));
    stun_put_fingerprint(&w);
    cr_assert_eq(stun_end(&w), (int)len);
    cr_assert_eq(memcmp(buf, v, len), 0);
}

Test(stun, rfc5769_ipv4_response)
{
    struct stun_addr a = {4, 32853, {192, 0, 2, 1}};
    check_response(resp4, sizeof(resp4) - 1, &a);
}

Test(stun, rfc5769_ipv6_response)
{
    struct stun_addr a = {6, 32853, {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11,
                                     0x22, 0x33, 0x44, 0x55, 0x66, 0x77}};
    check_response(resp6, sizeof(resp6) - 1, &a);
}

Test(stun, errors_and_ice_attributes_round_trip)
{
    uint8_t buf[256];
    struct stun_writer w;
    stun_begin(&w, buf, sizeof(buf), STUN_BINDING_ERROR, tid);
    stun_put_error(&w, 487, "Role Conflict");
    stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, 42);
    stun_put_integrity(&w, (const uint8_t *)"k", 1);
    stun_put_fingerprint(&w);
    int n = stun_end(&w);
    cr_assert_gt(n, 0);
    struct stun_msg m;
    cr_assert_eq(stun_parse(buf, (size_t)n, &m), 0);
    cr_assert_eq(m.error_code, 487);
    cr_assert(m.use_candidate && m.has_controlling);
    cr_assert_eq(m.tiebreaker, 42);
    cr_assert_eq(stun_check_integrity(buf, (size_t)n, &m, (const uint8_t *)"k", 1), 0);
    cr_assert_eq(stun_check_fingerprint(buf, (size_t)n, &m), 0);
    /* too small a buffer is an error, not an overflow */
    stun_begin(&w, buf, 30, STUN_BINDING_REQUEST, tid);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, 1);
    stun_put_fingerprint(&w);
    cr_assert_eq(stun_end(&w), -ENOSPC);
}

Test(stun, malformed_input_is_rejected)
{
    uint8_t b[sizeof(req)];
    struct stun_msg m;
    size_t n = sizeof(req) - 1;
    /* every truncation */
    for (size_t k = 0; k < n; k++)
        cr_assert_lt(stun_parse(req, k, &m), 0, "accepted a %zu-byte prefix", k);
    /* not STUN: cookie, top bits, odd length */
    memcpy(b, req, n);
    b[4] ^= 1;
    cr_assert_eq(stun_parse(b, n, &m), -EBADMSG);
    memcpy(b, req, n);
    b[0] = 0x40;
    cr_assert_eq(stun_parse(b, n, &m), -EBADMSG);
    /* an attribute length running past the end */
    memcpy(b, req, n);
    b[22] = 0x7f;
    cr_assert_eq(stun_parse(b, n, &m), -EPROTO);
    /* tampering breaks integrity and fingerprint */
    memcpy(b, req, n);
    b[30] ^= 0x01; /* inside SOFTWARE */
    cr_assert_eq(stun_parse(b, n, &m), 0);
    cr_assert_eq(stun_check_integrity(b, n, &m, (const uint8_t *)pwd, strlen(pwd)), -EACCES);
    cr_assert_eq(stun_check_fingerprint(b, n, &m), -EACCES);
    /* PRIORITY with a wrong length */
    memcpy(b, req, n);
    b[43] = 3;
    cr_assert_eq(stun_parse(b, n, &m), -EPROTO);
}

/* RFC 5769 2.4: sample request with long-term authentication. The
 * password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep,
 * which the caller applies; the username is the UTF-8 of
 * <U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>. */
static const uint8_t req_lt[] =
    "\x00\x01\x00\x60\x21\x12\xa4\x42\x78\xad\x34\x33\xc6\xad\x72\xc0\x29\xda\x41\x2e"
    "\x00\x06\x00\x12\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9\x00\x00"
    "\x00\x15\x00\x1c" "f//499k954d6OL34oL9FSTvy64sA"
    "\x00\x14\x00\x0b" "example.org\x00"
    "\x00\x08\x00\x14\xf6\x70\x24\x65\x6d\xd6\x4a\x3e\x02\xb8\xe0\x71\x2e\x85\xc9\xa2\x8c\xa8\x96\x66";

Test(stun, rfc5769_long_term_request_verifies_with_the_md5_key)
{
    struct stun_msg m;
    cr_assert_eq(stun_parse(req_lt, sizeof(req_lt) - 1, &m), 0);
    cr_assert_eq(m.realm_len, 11);
    cr_assert_eq(memcmp(m.realm, "example.org", 11), 0);
    cr_assert_eq(m.nonce_len, 28);
    cr_assert_eq(memcmp(m.nonce, "f//499k954d6OL34oL9FSTvy64sA", 28), 0);
    cr_assert_eq(m.username_len, 18);
    char user[19];
    memcpy(user, m.username, 18);
    user[18] = 0;
    uint8_t key[16];
    cr_assert_eq(stun_long_term_key(user, m.realm, m.realm_len, "TheMatrIX", key), 0);
    cr_assert_eq(stun_check_integrity(req_lt, sizeof(req_lt) - 1, &m, key, sizeof(key)), 0);
    cr_assert_eq(stun_long_term_key(user, m.realm, m.realm_len, "TheMatrix", key), 0);
    cr_assert_eq(stun_check_integrity(req_lt, sizeof(req_lt) - 1, &m, key, sizeof(key)), -EACCES);
}

Test(stun, turn_attributes_parse)
{
    uint8_t buf[256], t12[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    struct stun_writer w;
    struct stun_addr relayed = {.family = 4, .port = 50000, .ip = {10, 0, 0, 9}};
    struct stun_addr peer = {.family = 6, .port = 3478, .ip = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    stun_begin(&w, buf, sizeof(buf), STUN_CLASS_SUCCESS | STUN_METHOD_ALLOCATE, t12);
    stun_put_xor_address_as(&w, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
    stun_put_xor_address_as(&w, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
    stun_put_u32(&w, STUN_ATTR_LIFETIME, 600);
    stun_put_u32(&w, STUN_ATTR_CHANNEL_NUMBER, 0x40010000u);
    stun_put_bytes(&w, STUN_ATTR_DATA, "hello", 5);
    int n = stun_end(&w);
    cr_assert_gt(n, 0);
    struct stun_msg m;
    cr_assert_eq(stun_parse(buf, (size_t)n, &m), 0);
    cr_assert_eq(m.unknown_required, 0);
    cr_assert_eq(m.xor_relayed.port, 50000);
    cr_assert_eq(memcmp(m.xor_relayed.ip, relayed.ip, 4), 0);
    cr_assert_eq(m.xor_peer.family, 6);
    cr_assert_eq(memcmp(m.xor_peer.ip, peer.ip, 16), 0);
    cr_assert(m.has_lifetime);
    cr_assert_eq(m.lifetime, 600);
    cr_assert_eq(m.channel, 0x4001);
    cr_assert(m.has_data);
    cr_assert_eq(m.data_len, 5);
    cr_assert_eq(memcmp(m.data, "hello", 5), 0);
    buf[STUN_HDR_LEN + 1] = 0x16; /* XOR-RELAYED-ADDRESS: its length field to 0x0016 */
    buf[STUN_HDR_LEN + 3] = 0x05;
    cr_assert_lt(stun_parse(buf, (size_t)n, &m), 0);
}
