/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a peer connection endpoint (webrtc/pc) fed arbitrary
 * datagrams in every stage it can be in: fresh (ICE), and established
 * (records into DTLS, SCTP, DCEP) — a connected pair is built once, and
 * each input goes to a copy-free fresh endpoint and to the established one
 * (whose state then carries on, as a long-lived connection's would). The
 * input is a sequence of datagrams: 2-byte length, 1-byte first-byte
 * override flag, bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "pc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct side {
    struct pc pc;
    struct pc_setup su;
    struct dtls_record_keys keys;
    struct pc_counters cnt;
    void *amem, *pmem;
};

static struct dtls_cert certs[2];
static struct cp cp;
static struct dtls_hs_pool hs;
static struct side S[3];
static uint64_t now = 1000000000ull;
static bool ready;

static void make(int i, bool controlling, int peer)
{
    static const char *uf[2] = {"fzA1", "fzB2"}, *pw[2] = {"passwordA-passwordA-pa", "passwordB-passwordB-pb"};
    S[i].pmem = aligned_alloc(64, (sctp_pool_size(512, 1200) + 63) & ~(size_t)63);
    S[i].amem = aligned_alloc(64, sctp_assoc_size(16));
    struct pc_config c = {.controlling = controlling,
                             .local_ufrag = uf[i % 2], .local_pwd = pw[i % 2],
                             .remote_ufrag = uf[peer % 2], .remote_pwd = pw[peer % 2],
                             .peer = {4, 5000, {198, 18, 0, 9}}, .cert = &certs[i % 2],
                             .peer_fingerprint = certs[peer % 2].fingerprint, .cp = &cp, .hs = &hs, .sctp_mem = S[i].amem,
                             .sctp_pool = sctp_pool_init(S[i].pmem, 512, 1200), .seed = 5 + (uint64_t)i,
                             .setup = &S[i].su, .rec_keys = &S[i].keys, .counters = &S[i].cnt};
    dtls_record_keys_clear(&S[i].keys);
    memset(&S[i].cnt, 0, sizeof(S[i].cnt));
    if (pc_init(&S[i].pc, &c, now) != 0)
        abort();
}

static void drain(int i)
{
    static uint8_t buf[1 << 18];
    struct pc_ev ev = {.buf = buf, .cap = sizeof(buf)};
    while (pc_poll_event(&S[i].pc, &ev) != PC_EV_NONE)
        ;
}

static void setup(void)
{
    if (cp_default_create(&cp) != 0 || dtls_cert_generate(&certs[0], &cp) != 0 ||
        dtls_cert_generate(&certs[1], &cp) != 0)
        abort();
    dtls_hs_pool_init(&hs, 8);
    make(0, true, 1);
    make(1, false, 0);
    uint8_t d[1500];
    for (int k = 0; k < 2000 && pc_stage(&S[1].pc) != PC_UP; k++) {
        for (int i = 0; i < 2; i++) {
            size_t n;
            while ((n = pc_poll_transmit(&S[i].pc, d, sizeof(d), now)) > 0) {
                pc_handle_input(&S[1 - i].pc, d, n, now);
                drain(1 - i);
            }
            drain(i);
        }
        now += 1000000;
        pc_handle_timeout(&S[0].pc, now);
        pc_handle_timeout(&S[1].pc, now);
    }
    if (pc_stage(&S[1].pc) != PC_UP)
        abort();
    ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    make(2, false, 0); /* a fresh endpoint for this input */
    size_t off = 0;
    uint8_t d[2048], out[1500];
    size_t len;
    uint8_t first;
    while (fuzz_next(data, size, &off, d, sizeof(d), &len, &first)) {
        if (len && (first & 0x80)) /* steer the first byte into a demultiplexing range */
            d[0] = (uint8_t)((first & 1) ? (first & 3) : 20 + (first & 31));
        now += 1000;
        for (int i = 1; i <= 2; i++) {
            pc_handle_input(&S[i].pc, d, len, now);
            drain(i);
            while (pc_poll_transmit(&S[i].pc, out, sizeof(out), now) > 0)
                ;
            if (pc_next_timeout(&S[i].pc) <= now)
                pc_handle_timeout(&S[i].pc, now);
        }
    }
    pc_free(&S[2].pc);
    free(S[2].amem);
    free(S[2].pmem);
    return 0;
}
