/* SPDX-License-Identifier: MIT */
#include "sctp_crc32c.h"

#include <stdbool.h>
#include <string.h>

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

/* Raw updates: no initial value, no final XOR. */
static uint32_t update_sw(uint32_t crc, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (POLY & (0u - (crc & 1)));
    }
    return crc;
}

__attribute__((target("sse4.2"))) static uint32_t update_hw(uint32_t crc32, const uint8_t *p,
                                                            size_t len)
{
    uint64_t crc = crc32;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        crc = __builtin_ia32_crc32di(crc, v);
        p += 8;
        len -= 8;
    }
    uint32_t c = (uint32_t)crc;
    while (len--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}

static bool have_hw(void)
{
#if defined(__x86_64__)
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

static uint32_t update(uint32_t crc, const uint8_t *p, size_t len)
{
    return have_hw() ? update_hw(crc, p, len) : update_sw(crc, p, len);
}

uint32_t sctp_crc32c_sw(const void *data, size_t len)
{
    return ~update_sw(~0u, data, len);
}

uint32_t sctp_crc32c_hw(const void *data, size_t len)
{
    return ~update_hw(~0u, data, len);
}

uint32_t sctp_crc32c(const void *data, size_t len)
{
    return ~update(~0u, data, len);
}

/* The packet's CRC with its checksum field taken as zero, without a copy. */
static uint32_t packet_crc(const uint8_t *pkt, size_t len)
{
    static const uint8_t zero[4] = {0};
    uint32_t c = update(~0u, pkt, 8);
    c = update(c, zero, 4);
    return ~update(c, pkt + 12, len - 12);
}

void sctp_crc32c_seal(uint8_t *pkt, size_t len)
{
    uint32_t c = packet_crc(pkt, len);
    pkt[8] = (uint8_t)c;
    pkt[9] = (uint8_t)(c >> 8);
    pkt[10] = (uint8_t)(c >> 16);
    pkt[11] = (uint8_t)(c >> 24);
}

int sctp_crc32c_ok(const uint8_t *pkt, size_t len)
{
    if (len < 12)
        return 0;
    uint32_t want = (uint32_t)pkt[8] | (uint32_t)pkt[9] << 8 | (uint32_t)pkt[10] << 16 |
                    (uint32_t)pkt[11] << 24;
    return packet_crc(pkt, len) == want;
}
