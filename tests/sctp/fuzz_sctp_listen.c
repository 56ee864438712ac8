/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: SCTP association set-up on the listening side with a
 * shared pool (sctp_assoc.c, sctp_rx.c: INIT, INIT ACK, COOKIE ECHO,
 * COOKIE ACK, the RFC 9260 §5.2 collisions). Two listeners L0 and L1,
 * fresh and closed for every input (they only wait, as a side that does
 * not connect does), draw on one pool of NBUF buffers; a real client C
 * with its own pool talks to them, so valid INITs, cookies and tags flow
 * and the fuzzer steers their order, loss, corruption and collisions.
 *
 * Input: records as tests/common/fuzz_input.h reads them. The flags byte:
 *   bits 0-1  0: the record's bytes as a packet to the listener (bit 2:
 *                with its verification tag, bit 3: with a valid CRC32c);
 *             1: C's next packet to the listener, the record's bytes
 *                XORed over it (an empty record delivers it intact; when
 *                C has nothing to send the record is skipped);
 *             2: the listener's next packet to C, XORed the same way;
 *             3: control: bit 2 the listener connects too (collision),
 *                bit 3 C connects; then time moves and timers run
 *   bits 4-6  time moves by that many × 100 ms before the record
 *   bit 7     which listener: L0 or L1
 * Ports are always 5000/5000 so packets pass the port check.
 *
 * Checked after every input: the shared pool balances (every buffer free
 * or held by one listener: on a list or as its cookie, heartbeat echo,
 * received-TSN map, deferred reset or INIT-ACK to build), and so does C's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "sctp_crc32c.h"
#include "sctp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NBUF 64

static uint8_t *lmem[2], *cmem, *shared_pool, *cpool;
static size_t asz, psz;
static struct sctp_config cfg;

static uint32_t held(const struct sctp_assoc *a)
{
    uint32_t n = 0;
    uint32_t lists[] = {a->snd_head, a->rx_head, a->ready_head, a->sack_q_head};
    for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
        for (uint32_t i = lists[k]; i != SCTP_NIL && n <= NBUF; i = pbuf(a->pool, i)->next)
            n++;
    uint32_t singles[] = {a->cookie_buf, a->hb_ack_buf, a->rcv_map, a->in_reset_buf, a->ia_buf};
    for (size_t k = 0; k < sizeof(singles) / sizeof(singles[0]); k++)
        n += singles[k] != SCTP_NIL;
    return n;
}

static void drain_events(struct sctp_assoc *a)
{
    static uint8_t ev_buf[1 << 16];
    struct sctp_ev ev = {.buf = ev_buf, .cap = sizeof(ev_buf)};
    while (sctp_poll_event(a, &ev) != SCTP_EV_NONE)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cmem) {
        sctp_config_default(&cfg);
        cfg.n_streams = 4;
        asz = sctp_assoc_size_cfg(&cfg);
        psz = (sctp_pool_size(NBUF, 1200) + 63) & ~(size_t)63;
        for (int i = 0; i < 2; i++)
            lmem[i] = aligned_alloc(64, asz);
        cmem = aligned_alloc(64, asz);
        shared_pool = aligned_alloc(64, psz);
        cpool = aligned_alloc(64, psz);
        if (!lmem[0] || !lmem[1] || !cmem || !shared_pool || !cpool)
            abort();
    }
    uint64_t t = 1000000000ull;
    struct sctp_pool *sp = sctp_pool_init(shared_pool, NBUF, 1200);
    struct sctp_assoc *L[2], *C;
    for (int i = 0; i < 2; i++) {
        cfg.seed = 11 + (uint64_t)i;
        cfg.dtls_client = false;
        L[i] = sctp_assoc_init(lmem[i], &cfg, sp, t);
    }
    cfg.seed = 7;
    cfg.dtls_client = true;
    C = sctp_assoc_init(cmem, &cfg, sctp_pool_init(cpool, NBUF, 1200), t);
    if (!L[0] || !L[1] || !C)
        abort();
    sctp_connect(C, t);

    uint8_t rec[2048], pkt[2048];
    size_t off = 0, len;
    uint8_t flags;
    while (fuzz_next(data, size, &off, rec, sizeof(rec), &len, &flags)) {
        struct sctp_assoc *l = L[flags >> 7];
        t += (uint64_t)((flags >> 4) & 7) * 100000000ull;
        switch (flags & 3) {
        case 0:
            if (len >= 12) {
                wire_put16(rec, 5000);
                wire_put16(rec + 2, 5000);
                if (flags & 4)
                    wire_put32(rec + 4, l->my_vtag);
                if (flags & 8)
                    sctp_crc32c_seal(rec, len);
            }
            sctp_handle_input(l, rec, len, t);
            break;
        case 1:
        case 2: {
            struct sctp_assoc *from = (flags & 3) == 1 ? C : l, *to = (flags & 3) == 1 ? l : C;
            size_t n = sctp_poll_transmit(from, pkt, sizeof(pkt), t);
            if (n == 0)
                break;
            for (size_t i = 0; i < len && i < n; i++)
                pkt[i] ^= rec[i];
            sctp_handle_input(to, pkt, n, t);
            break;
        }
        case 3:
            if (flags & 4)
                sctp_connect(l, t);
            if (flags & 8)
                sctp_connect(C, t);
            for (int i = 0; i < 2; i++)
                if (sctp_next_timeout(L[i]) <= t)
                    sctp_handle_timeout(L[i], t);
            if (sctp_next_timeout(C) <= t)
                sctp_handle_timeout(C, t);
            break;
        }
        drain_events(L[0]);
        drain_events(L[1]);
        drain_events(C);
    }
    if (held(L[0]) + held(L[1]) + sctp_pool_free_count(sp) != NBUF)
        abort();
    if (held(C) + sctp_pool_free_count(C->pool) != NBUF)
        abort();
    return 0;
}
