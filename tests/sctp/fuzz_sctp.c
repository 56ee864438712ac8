/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the SCTP packet handler. An established association
 * (DataChannels on, a channel open, data in flight both ways) is built
 * once; each input is a copy of it fed a sequence of packets: 2-byte
 * length, 1 flag byte (bit 0: give it our verification tag, bit 1: seal a
 * valid CRC32c, so the chunk parsers are reached), then the bytes. After
 * each packet everything it owes is drained; the pool must balance: every
 * buffer free, on a list, or one the association holds alone (the cookie,
 * the heartbeat to echo, the received-TSN map, a deferred reset, the
 * INIT-ACK to build).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "sctp_crc32c.h"
#include "sctp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NBUF 256

static uint8_t *amem[2], *pmem[2], *acopy, *pcopy;
static size_t asz, psz;
static struct sctp_assoc *A[2];
static uint64_t now = 1000000000ull;

static void pump(void)
{
    uint8_t pkt[1500], ev_buf[1 << 16];
    struct sctp_ev ev = {.buf = ev_buf, .cap = sizeof(ev_buf)};
    for (int round = 0; round < 200; round++) {
        int moved = 0;
        for (int i = 0; i < 2; i++) {
            size_t n;
            while ((n = sctp_poll_transmit(A[i], pkt, sizeof(pkt), now)) > 0) {
                sctp_handle_input(A[1 - i], pkt, n, now);
                moved = 1;
            }
            while (sctp_poll_event(A[i], &ev) != SCTP_EV_NONE)
                moved = 1;
        }
        if (!moved) {
            now += 50000000ull;
            sctp_handle_timeout(A[0], now);
            sctp_handle_timeout(A[1], now);
        }
    }
}

static void setup(void)
{
    struct sctp_config c;
    sctp_config_default(&c);
    asz = sctp_assoc_size(c.n_streams);
    psz = sctp_pool_size(NBUF, 1200);
    for (int i = 0; i < 2; i++) {
        amem[i] = aligned_alloc(64, asz);
        pmem[i] = aligned_alloc(64, (psz + 63) & ~(size_t)63);
        c.seed = (uint64_t)i + 1;
        c.dtls_client = i == 0;
        c.max_buffers = i == 1 ? 64 : 0; /* the fuzzed side runs into its share of the pool */
        A[i] = sctp_assoc_init(amem[i], &c, sctp_pool_init(pmem[i], NBUF, 1200), now);
    }
    acopy = aligned_alloc(64, asz);
    pcopy = aligned_alloc(64, (psz + 63) & ~(size_t)63);
    sctp_connect(A[0], now);
    pump();
    struct sctp_dc_opts o = {.type = SCTP_DC_RELIABLE, .label = "f", .label_len = 1};
    sctp_dc_open(A[0], &o, now);
    pump();
    uint8_t m[3000];
    memset(m, 7, sizeof(m));
    sctp_dc_send(A[0], 0, m, sizeof(m), true, now); /* left in flight */
    uint8_t pkt[1500];
    sctp_poll_transmit(A[0], pkt, sizeof(pkt), now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!A[0])
        setup();
    /* a fresh copy of side 1 for every input (the pool points are relative) */
    memcpy(acopy, amem[1], asz);
    memcpy(pcopy, pmem[1], psz);
    struct sctp_assoc *a = (struct sctp_assoc *)(void *)acopy;
    a->pool = (struct sctp_pool *)(void *)pcopy;
    uint64_t t = now;
    uint8_t pkt[2048], out[1500], ev_buf[1 << 18];
    struct sctp_ev ev = {.buf = ev_buf, .cap = sizeof(ev_buf)};
    size_t off = 0;
    size_t len;
    uint8_t flags;
    while (fuzz_next(data, size, &off, pkt, sizeof(pkt), &len, &flags)) {
        if (len >= 12) {
            wire_put16(pkt, 5000);
            wire_put16(pkt + 2, 5000);
            if (flags & 1)
                wire_put32(pkt + 4, a->my_vtag);
            if (flags & 2)
                sctp_crc32c_seal(pkt, len);
        }
        t += (uint64_t)(flags >> 2) * 10000000ull;
        sctp_handle_input(a, pkt, len, t);
        if (flags & 0x80)
            sctp_handle_timeout(a, sctp_next_timeout(a) == UINT64_MAX ? t : sctp_next_timeout(a));
        while (sctp_poll_transmit(a, out, sizeof(out), t) > 0)
            ;
        while (sctp_poll_event(a, &ev) != SCTP_EV_NONE)
            ;
    }
    /* every buffer is accounted for: free, or on one of the lists */
    uint32_t held = 0;
    uint32_t lists[] = {a->snd_head, a->rx_head, a->ready_head, a->sack_q_head};
    for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
        for (uint32_t i = lists[k]; i != SCTP_NIL && held <= NBUF; i = pbuf(a->pool, i)->next)
            held++;
    uint32_t singles[] = {a->cookie_buf, a->hb_ack_buf, a->rcv_map, a->in_reset_buf, a->ia_buf};
    for (size_t k = 0; k < sizeof(singles) / sizeof(singles[0]); k++)
        held += singles[k] != SCTP_NIL;
    if (held + sctp_pool_free_count(a->pool) != NBUF)
        abort();
    /* the DATA buffers it counts against its share are those it holds */
    uint32_t rx_data = 0;
    uint32_t rx_lists[] = {a->rx_head, a->ready_head};
    for (size_t k = 0; k < 2; k++)
        for (uint32_t i = rx_lists[k]; i != SCTP_NIL; i = pbuf(a->pool, i)->next)
            rx_data += pbuf(a->pool, i)->kind == BK_DATA;
    if (rx_data != a->rx_bufs || a->rx_bufs > a->max_rx_bufs)
        abort();
    return 0;
}
