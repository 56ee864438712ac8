/* SPDX-License-Identifier: MIT */
/*
 * wire_capture: what the protocol tests need to let Wireshark judge their
 * packets: a classic pcap file of Ethernet/IPv4/UDP frames between two
 * hosts (198.18.0.1 and 198.18.0.2, ports of the caller's choosing) and a
 * tshark runner that counts output lines. Header-only.
 */
#ifndef SWARMGEN_TESTS_WIRE_CAPTURE_H
#define SWARMGEN_TESTS_WIRE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The pcap global header (microsecond timestamps, Ethernet). */
static inline void wire_pcap_begin(FILE *f)
{
    const uint32_t ghdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    fwrite(ghdr, sizeof(ghdr), 1, f);
}

/* One UDP datagram (payload up to 1,500 bytes) from host A (from_a) or B,
 * A on port_a, B on port_b, at ts_ns. IPv4 header checksum computed, UDP
 * checksum 0 (legal for IPv4). */
static inline void wire_pcap_udp(FILE *f, const uint8_t *payload, size_t len, bool from_a, uint16_t port_a,
                                 uint16_t port_b, uint64_t ts_ns)
{
    uint8_t fr[14 + 20 + 8 + 1500];
    if (len > 1500)
        len = 1500;
    memset(fr, 0, 42);
    memcpy(fr, from_a ? "\x02\x53\x47\x00\x00\x02\x02\x53\x47\x00\x00\x01"
                      : "\x02\x53\x47\x00\x00\x01\x02\x53\x47\x00\x00\x02", 12);
    fr[12] = 0x08;
    uint8_t *ip = fr + 14;
    ip[0] = 0x45;
    size_t tot = 28 + len;
    ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot, ip[8] = 64, ip[9] = 17;
    const uint8_t a[4] = {198, 18, 0, 1}, b[4] = {198, 18, 0, 2};
    memcpy(ip + 12, from_a ? a : b, 4);
    memcpy(ip + 16, from_a ? b : a, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8), ip[11] = (uint8_t)~sum;
    uint8_t *udp = ip + 20;
    uint16_t sp = from_a ? port_a : port_b, dp = from_a ? port_b : port_a;
    udp[0] = (uint8_t)(sp >> 8), udp[1] = (uint8_t)sp, udp[2] = (uint8_t)(dp >> 8), udp[3] = (uint8_t)dp;
    udp[4] = (uint8_t)((8 + len) >> 8), udp[5] = (uint8_t)(8 + len);
    memcpy(udp + 8, payload, len);
    uint32_t rec[4] = {(uint32_t)(ts_ns / 1000000000ull), (uint32_t)(ts_ns % 1000000000ull / 1000),
                       (uint32_t)(42 + len), (uint32_t)(42 + len)};
    fwrite(rec, sizeof(rec), 1, f);
    fwrite(fr, 42 + len, 1, f);
}

/* Lines tshark prints for `args` (-1 when it could not run). */
static inline long wire_tshark_lines(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "tshark %s 2>/dev/null | wc -l", args);
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p && fscanf(p, "%ld", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

#endif
