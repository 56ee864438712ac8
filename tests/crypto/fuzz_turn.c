/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the TURN client's input path (crypto/turn.h). A client
 * with two peers (one on a channel) is brought to TURN_ALLOCATED once by a
 * scripted server (turn_fake.h); each input is a copy of it fed records
 * (tests/common/fuzz_input.h): 2-byte length, a flags byte, the bytes.
 * Flags: bit 0 puts the outstanding request's transaction id into a STUN
 * record, bit 1 replaces the record by the scripted server's answer to the
 * outstanding request (error code from the first two bytes, 0: a signed
 * success), bits 2-6 move the clock on by that many minutes, bit 7 runs
 * the deadline. After each record everything due is drained and data is
 * framed for every peer; each record is also split as a TCP stream would be
 * (turn_stream_frame).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "turn.h"
#include "turn_fake.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t base[4096] __attribute__((aligned(64))), work[4096] __attribute__((aligned(64)));
static uint8_t key[16], last[TURN_REQ_MAX];
static size_t last_len;
static uint64_t t0 = 1000000000ull;

static void drain(struct turn_client *t, uint64_t now)
{
    size_t n;
    uint8_t buf[TURN_REQ_MAX];
    while ((n = turn_poll_transmit(t, buf, sizeof(buf), now)) > 0) {
        memcpy(last, buf, n);
        last_len = n;
    }
    struct turn_ev ev;
    while (turn_poll_event(t, &ev) != TURN_EV_NONE)
        ;
}

static void answer(struct turn_client *t, uint16_t code, uint64_t now)
{
    uint8_t ans[512];
    struct turn_rx rx;
    int n = fake_answer(last, last_len, code, key, NULL, ans, sizeof(ans));
    if (n > 0)
        turn_handle_input(t, ans, (size_t)n, now, &rx);
    drain(t, now);
}

static void setup(void)
{
    struct turn_config c = {.user = "fz", .pass = "pw", .lifetime_s = 600, .seed = 1, .max_peers = 2};
    struct turn_client *t = turn_init(base, &c);
    stun_long_term_key("fz", (const uint8_t *)FAKE_REALM, sizeof(FAKE_REALM) - 1, "pw", key);
    struct stun_addr a = {.family = 4, .port = 5000, .ip = {10, 0, 0, 1}};
    struct stun_addr b = {.family = 4, .port = 5001, .ip = {10, 0, 0, 2}};
    turn_add_peer(t, &a, true, t0);
    turn_add_peer(t, &b, false, t0);
    turn_allocate(t, t0);
    drain(t, t0);
    answer(t, 401, t0); /* challenge */
    answer(t, 0, t0);   /* allocated */
    answer(t, 0, t0);   /* permissions */
    answer(t, 0, t0);   /* channel */
    if (turn_state(t) != TURN_ALLOCATED || !turn_peer_channel(t, 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!key[0] && !key[1])
        setup();
    memcpy(work, base, turn_size(2));
    struct turn_client *t = (struct turn_client *)(void *)work;
    uint64_t now = t0;
    size_t off = 0, len;
    uint8_t pkt[2048], flags, out[2100];
    last_len = 0;
    while (fuzz_next(data, size, &off, pkt, sizeof(pkt), &len, &flags)) {
        now += (uint64_t)((flags >> 2) & 0x1f) * 60000000000ull;
        int m = turn_stream_frame(pkt, len); /* over TCP: a whole message is 4-aligned and inside */
        if (m > (int)len || (m > 0 && (m & 3)))
            abort();
        if ((flags & 2) && last_len) {
            answer(t, len >= 2 ? wire_get16(pkt) % 700 : 0, now);
        } else {
            if ((flags & 1) && len >= 20 && last_len >= 20)
                memcpy(pkt + 8, last + 8, 12);
            struct turn_rx rx;
            turn_handle_input(t, pkt, len, now, &rx);
            if (rx.peer >= 0 && (rx.len > len || rx.data < pkt || rx.data + rx.len > pkt + len))
                abort(); /* the data must lie within the datagram */
        }
        if (flags & 0x80) {
            uint64_t d = turn_next_timeout(t);
            turn_handle_timeout(t, d == UINT64_MAX ? now : d);
            if (d != UINT64_MAX && d > now)
                now = d;
        }
        drain(t, now);
        for (int p = 0; p < 2; p++)
            turn_wrap(t, p, pkt, len < 1400 ? len : 1400, out, sizeof(out));
    }
    return 0;
}
