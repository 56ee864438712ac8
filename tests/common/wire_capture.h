/* SPDX-License-Identifier: MIT */
/*
 * wire_capture: what the protocol tests need to let Wireshark judge their
 * packets: a classic pcap file of Ethernet/IPv4/UDP frames between two
 * hosts (198.18.0.1 and 198.18.0.2, ports of the caller's choosing), a
 * dumpcap capture of an interface in the background, a directory for a
 * capture that tshark dissects through DTLS into SCTP (with the key log and
 * the Lua that hands DTLS's plaintext to the SCTP dissector), and a tshark
 * runner that counts output lines. Header-only.
 */
#ifndef SWARMGEN_TESTS_WIRE_CAPTURE_H
#define SWARMGEN_TESTS_WIRE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

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

/* The number a shell command prints first (-1 when it printed none or
 * could not run). */
static inline long wire_sh_number(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p && fscanf(p, "%ld", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* Lines tshark prints for `args` (-1 when it could not run). */
static inline long wire_tshark_lines(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "tshark %s 2>/dev/null | wc -l", args);
    return wire_sh_number(cmd);
}

/* Packets tshark shows of `filter` (a display filter) under `base` (-r FILE
 * and its options); -1 when it could not run. */
static inline long wire_tshark_count(const char *base, const char *filter)
{
    char args[1800];
    snprintf(args, sizeof(args), "%s -Y '%s'", base, filter);
    return wire_tshark_lines(args);
}

/* Starts `dumpcap -i iface -f filter` in the background, writing `path` for
 * `seconds` (killed after timeout_s whatever happens), and gives it 2 s to
 * start capturing. Returns its pid, or -1 when it could not be started. */
static inline int wire_dumpcap_start(const char *iface, const char *filter, int seconds, int timeout_s,
                                     const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "timeout %d dumpcap -q -i %s -f '%s' -a duration:%d -w %s >/dev/null 2>&1 & echo $!",
             timeout_s, iface, filter, seconds, path);
    int pid = (int)wire_sh_number(cmd);
    if (pid > 0)
        sleep(2);
    return pid;
}

/* Waits until the capture started by wire_dumpcap_start() has ended (its
 * file complete). */
static inline void wire_dumpcap_wait(int pid)
{
    while (kill(pid, 0) == 0)
        usleep(200000);
}

/* A capture for tshark to dissect through DTLS into SCTP, in a directory
 * of its own: the pcap, the NSS key log that decrypts it, and the Lua
 * script that gives the connections' UDP ports the SCTP dissector inside
 * DTLS (Wireshark 4.0 has no Decode-As from DTLS to SCTP); `base` is
 * tshark's options to read the capture with both (wire_tshark_count). */
struct wire_dissect {
    char dir[64], pcap[256], keylog[256], lua[256], base[1200];
};

/* Makes the directory /tmp/swarmgen-TAG-XXXXXX with the Lua script for
 * `ports` (a range, "49152-65535"); the capture is to be written to
 * DIR/PCAP_NAME and the key log to DIR/keylog. base: "-r PCAP -o
 * tls.keylog_file:KEYLOG -X lua_script:LUA -o sctp.checksum:CRC-32C OPTS"
 * (opts: more tshark options, "" for none). Returns 0 or -1. */
static inline int wire_dissect_init(struct wire_dissect *w, const char *tag, const char *pcap_name, const char *ports,
                                    const char *opts)
{
    snprintf(w->dir, sizeof(w->dir), "/tmp/swarmgen-%s-XXXXXX", tag);
    if (!mkdtemp(w->dir))
        return -1;
    snprintf(w->pcap, sizeof(w->pcap), "%s/%s", w->dir, pcap_name);
    snprintf(w->keylog, sizeof(w->keylog), "%s/keylog", w->dir);
    snprintf(w->lua, sizeof(w->lua), "%s/sctp_in_dtls.lua", w->dir);
    snprintf(w->base, sizeof(w->base), "-r %s -o tls.keylog_file:%s -X lua_script:%s -o sctp.checksum:CRC-32C %s",
             w->pcap, w->keylog, w->lua, opts);
    FILE *l = fopen(w->lua, "w");
    if (!l)
        return -1;
    fprintf(l, "local t = DissectorTable.get(\"dtls.port\")\nt:add(\"%s\", Dissector.get(\"sctp\"))\n", ports);
    return fclose(l) == 0 ? 0 : -1;
}

/* Removes the capture's directory and everything in it. Returns 0 or -1. */
static inline int wire_dissect_remove(const struct wire_dissect *w)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
