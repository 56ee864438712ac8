/* SPDX-License-Identifier: MIT */
/* CRC32c: RFC 3720 B.4 vectors, hardware against software, agreement with
 * usrsctp's own checksum, sealing and verifying. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <usrsctp.h>

#include "sctp_crc32c.h"

static void vectors(uint32_t (*f)(const void *, size_t))
{
    uint8_t b[32];
    memset(b, 0, 32);
    cr_assert_eq(f(b, 32), 0x8a9136aau, "32 zero bytes");
    memset(b, 0xff, 32);
    cr_assert_eq(f(b, 32), 0x62a8ab43u, "32 0xff bytes");
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    cr_assert_eq(f(b, 32), 0x46dd794eu, "incrementing");
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    cr_assert_eq(f(b, 32), 0x113fdb5cu, "decrementing");
    cr_assert_eq(f("123456789", 9), 0xe3069283u, "the check value");
}

Test(crc32c, rfc3720_vectors_software)
{
    vectors(sctp_crc32c_sw);
}

Test(crc32c, rfc3720_vectors_hardware)
{
    if (!__builtin_cpu_supports("sse4.2"))
        cr_skip_test("no SSE4.2");
    vectors(sctp_crc32c_hw);
    vectors(sctp_crc32c);
}

Test(crc32c, hardware_equals_software_on_every_length_and_alignment)
{
    if (!__builtin_cpu_supports("sse4.2"))
        cr_skip_test("no SSE4.2");
    uint8_t buf[1300];
    uint64_t s = 99;
    for (size_t i = 0; i < sizeof(buf); i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(s >> 56);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += 37)
            cr_assert_eq(sctp_crc32c_hw(buf + off, len), sctp_crc32c_sw(buf + off, len),
                         "off %zu len %zu", off, len);
}

Test(crc32c, seal_and_check_a_packet)
{
    /* an SCTP common header (ports 5000/5000, verification tag) and an
     * INIT-like chunk; the checksum goes in little-endian */
    uint8_t pkt[32] = {0x13, 0x88, 0x13, 0x88, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0,
                       1, 0, 0, 20, 1, 2, 3, 4, 0, 0, 0x10, 0, 0, 4, 0, 4, 5, 6, 7, 8};
    sctp_crc32c_seal(pkt, sizeof(pkt));
    uint8_t z[32];
    memcpy(z, pkt, 32);
    memset(z + 8, 0, 4);
    uint32_t c = sctp_crc32c_sw(z, 32);
    cr_assert_eq(pkt[8] | pkt[9] << 8 | pkt[10] << 16 | (uint32_t)pkt[11] << 24, c);
    cr_assert(sctp_crc32c_ok(pkt, sizeof(pkt)));
    pkt[20] ^= 1;
    cr_assert(!sctp_crc32c_ok(pkt, sizeof(pkt)), "a flipped bit passes");
    cr_assert(!sctp_crc32c_ok(pkt, 11), "shorter than a header");
}

Test(crc32c, agrees_with_usrsctp_on_random_packets)
{
    /* usrsctp's exported checksum (the stack browsers' ancestors use) */
    uint8_t buf[1200];
    uint64_t s = 7;
    for (int round = 0; round < 200; round++) {
        size_t len = 12 + (size_t)(round * 97) % (sizeof(buf) - 12);
        for (size_t i = 0; i < len; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            buf[i] = (uint8_t)(s >> 56);
        }
        memset(buf + 8, 0, 4);
        uint32_t theirs = usrsctp_crc32c(buf, len);
        cr_assert_eq(sctp_crc32c(buf, len), theirs, "len %zu", len);
        sctp_crc32c_seal(buf, len);
        uint32_t stored = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 |
                          (uint32_t)buf[11] << 24;
        cr_assert_eq(stored, theirs, "sealed field, len %zu", len);
        cr_assert(sctp_crc32c_ok(buf, len));
    }
}
