/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a peer connection endpoint (webrtc/pc) fed arbitrary
 * datagrams in every stage it can be in: fresh (ICE), and established
 * (records into DTLS, SCTP, DCEP) — two connected pairs are built once,
 * one over DTLS 1.2 and one over DTLS 1.3 (its records in the unified
 * header, RFC 9147 §4), and each input goes to a copy-free fresh endpoint
 * and to the server of each established pair (whose state then carries
 * on, as a long-lived connection's would). The
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
static struct side S[5]; /* 0-1: the 1.2 pair, 2: fresh, 3-4: the 1.3 pair */
static uint64_t now = 1000000000ull;
static bool ready;

static void make(int i, bool controlling, int peer, uint8_t versions)
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
                             .setup = &S[i].su, .rec_keys = &S[i].keys, .counters = &S[i].cnt,
                             .dtls_versions = versions};
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
    make(0, true, 1, DTLS_OFFER_V12);
    make(1, false, 0, DTLS_OFFER_V12);
    make(3, true, 4, DTLS_OFFER_ALL_VERSIONS);
    make(4, false, 3, DTLS_OFFER_ALL_VERSIONS);
    uint8_t d[1500];
    for (int a = 0; a <= 3; a += 3) {
        for (int k = 0; k < 2000 && pc_stage(&S[a + 1].pc) != PC_UP; k++) {
            for (int i = a; i < a + 2; i++) {
                int peer = a + (a + 1 - i);
                size_t n;
                while ((n = pc_poll_transmit(&S[i].pc, d, sizeof(d), now)) > 0) {
                    pc_handle_input(&S[peer].pc, d, n, now);
                    drain(peer);
                }
                drain(i);
            }
            now += 1000000;
            pc_handle_timeout(&S[a].pc, now);
            pc_handle_timeout(&S[a + 1].pc, now);
        }
        if (pc_stage(&S[a + 1].pc) != PC_UP)
            abort();
    }
    if (pc_dtls_version(&S[1].pc) != DTLS_V12 || pc_dtls_version(&S[4].pc) != DTLS_V13)
        abort();
    ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    make(2, false, 0, DTLS_OFFER_ALL_VERSIONS); /* a fresh endpoint for this input */
    size_t off = 0;
    uint8_t d[2048], out[1500];
    size_t len;
    uint8_t first;
    while (fuzz_next(data, size, &off, d, sizeof(d), &len, &first)) {
        if (len && (first & 0x80)) /* steer the first byte into a demultiplexing range */
            d[0] = (uint8_t)((first & 1) ? (first & 3) : 20 + (first & 31));
        now += 1000;
        static const int to[] = {1, 2, 4};
        for (int k = 0; k < 3; k++) {
            int i = to[k];
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
