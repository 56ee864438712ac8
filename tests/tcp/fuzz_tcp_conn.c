/* SPDX-License-Identifier: MIT */
/* Fuzz target: the input path of the TCP client engine. A connection is
 * opened and established by a scripted SYN-ACK, then every record of the
 * input (tests/common/fuzz_input.h) is a segment from the server; its
 * flags byte steers: bit 0 fixes the ports and bit 1 the checksum (so
 * the fuzzer gets past them), bit 2 runs the timer, bit 3 queues data,
 * bit 4 closes, bit 5 aborts. Every transmitted segment must verify. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "tcp_conn.h"
#include "wire.h"

#define CLI 0xc6120001u
#define SRV 0xc613fffeu

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct tcp_conn *c, uint64_t now)
{
    uint8_t out[1600];
    size_t n;
    while ((n = tcp_poll_transmit(c, out, sizeof(out), now)) != 0)
        if (n < 20 || tcp_checksum(CLI, SRV, out, n) != 0)
            abort();
    struct tcp_ev ev;
    while (tcp_poll_event(c, &ev) != TCP_EV_NONE)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(8) uint8_t mem[1 << 14];
    struct tcp_config cfg = {.local_ip = CLI, .remote_ip = SRV, .local_port = 40000, .remote_port = 3478,
                             .isn = 1000, .sndbuf = 4096};
    struct tcp_conn *c = tcp_init(mem, &cfg);
    uint64_t now = 1;
    tcp_connect(c, now);
    drain(c, now);
    uint8_t seg[1600];
    memset(seg, 0, 24);
    wire_put16(seg, 3478);
    wire_put16(seg + 2, 40000);
    wire_put32(seg + 4, 5000);
    wire_put32(seg + 8, 1001);
    seg[12] = 6 << 4;
    seg[13] = 0x12;
    wire_put16(seg + 14, 4000);
    seg[20] = 2, seg[21] = 4;
    wire_put16(seg + 22, 1200);
    wire_put16(seg + 16, tcp_checksum(SRV, CLI, seg, 24));
    const uint8_t *d;
    size_t dn;
    tcp_handle_input(c, seg, 24, now, &d, &dn);
    drain(c, now);
    size_t off = 0, len;
    uint8_t flags;
    while (fuzz_next(data, size, &off, seg, sizeof(seg), &len, &flags)) {
        now += 1000000;
        if ((flags & 1) && len >= 4) {
            wire_put16(seg, 3478);
            wire_put16(seg + 2, 40000);
        }
        if ((flags & 2) && len >= 20) {
            wire_put16(seg + 16, 0);
            wire_put16(seg + 16, tcp_checksum(SRV, CLI, seg, len));
        }
        if (tcp_handle_input(c, seg, len, now, &d, &dn) == ENGINE_IN_ACCEPTED && dn) {
            volatile uint8_t sink = d[0] ^ d[dn - 1]; /* the data is inside the segment */
            (void)sink;
            if (d < seg || d + dn > seg + len)
                abort();
        }
        if (flags & 4) {
            now = tcp_next_timeout(c) == UINT64_MAX ? now : tcp_next_timeout(c);
            tcp_handle_timeout(c, now);
        }
        if (flags & 8)
            tcp_send(c, seg, len % 2000, now);
        if (flags & 16)
            tcp_close(c, now);
        if (flags & 32)
            tcp_abort(c, now);
        drain(c, now);
        if (tcp_send_space(c) > 4096)
            abort();
    }
    return 0;
}
