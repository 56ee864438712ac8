/* SPDX-License-Identifier: MIT */
/* libFuzzer target: DTLS 1.3 records (dtls13_parse_header, dtls13_open
 * and the stateful record after dtls_record_set_keys13) on arbitrary
 * datagrams of several records, for every suite (the first byte
 * chooses): nothing reads out of bounds, every record the stateful
 * record sees is either opened or counted once as refused, and a record
 * sealed from the input opens again byte-exact with its type and number. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_record.h"
#include "dtls_record_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum dtls_suite suites[4] = {DTLS_SUITE_AES_128_GCM, DTLS_SUITE_CHACHA20_POLY1305,
                                              DTLS_SUITE_AES_256_GCM, DTLS_SUITE_AES_128_GCM};
    struct dtls13_keys k;
    memset(&k, 0, sizeof(k));
    k.suite = (uint8_t)suites[size ? data[0] & 3 : 0];
    for (int i = 0; i < 32; i++) {
        k.key[i] = (uint8_t)(i + 1);
        k.sn[i] = (uint8_t)(0x80 + i);
    }
    for (int i = 0; i < 12; i++)
        k.iv[i] = (uint8_t)(12 - i);
    uint64_t next = size > 2 ? (uint64_t)data[1] << 8 | data[2] : 0;

    static uint8_t out[DTLS13_MAX_CIPHERTEXT];
    /* stateless: header and open on every record of the datagram */
    size_t off = 0;
    while (off < size) {
        struct dtls13_hdr h;
        int rc = dtls13_parse_header(data + off, size - off, &h);
        if (rc == 0 && (h.rec_len > size - off || h.rec_len < h.hdr_len))
            abort();
        size_t used = 0;
        uint64_t seq = 0;
        uint8_t type;
        int n = dtls13_open(&k, data + off, size - off, next, &used, &seq, &type, out, sizeof(out));
        if (n > DTLS_RECORD_MAX_PLAINTEXT || used == 0 || used > size - off || seq >= 1ull << 48)
            abort();
        off += used;
    }

    /* stateful: the record opens the same datagram, every record counted */
    static struct dtls_record_keys keys[2];
    struct dtls_record_counters cnt[2] = {{0}};
    struct dtls_record r, w;
    dtls_record_keys_clear(&keys[0]);
    dtls_record_keys_clear(&keys[1]);
    dtls_record_reset(&r, &keys[0], &cnt[0], false);
    dtls_record_reset(&w, &keys[1], &cnt[1], true);
    if (dtls_record_set_keys13(&r, (enum dtls_suite)k.suite, k.key, k.iv, k.sn, k.key, k.iv,
                               k.sn) != 0 ||
        dtls_record_set_keys13(&w, (enum dtls_suite)k.suite, k.key, k.iv, k.sn, k.key, k.iv,
                               k.sn) != 0)
        abort();
    uint64_t calls = 0;
    off = 0;
    while (off < size) {
        calls++;
        size_t used = 0;
        uint8_t type;
        int n = dtls_record_open(&r, data + off, size - off, &used, &type, out, sizeof(out));
        if (n > DTLS_RECORD_MAX_PLAINTEXT || used == 0 || used > size - off)
            abort();
        off += used;
    }
    const struct dtls_record_counters *c = dtls_record_counters(&r);
    if (c->opened + c->truncated + c->bad_version + c->wrong_epoch + c->replayed + c->too_old +
            c->bad_auth + c->after_close + c->too_big + c->bad_type + c->malformed !=
        calls)
        abort();

    /* round trip: a record sealed from the input, by both forms */
    size_t len = size > 1200 ? 1200 : size;
    uint8_t rec[1300], back[1300];
    uint8_t want_type = size > 3 && (data[3] & 1) ? DTLS_CT_HANDSHAKE : DTLS_CT_APPLICATION_DATA;
    uint64_t seq = next + (size > 4 ? data[4] : 0);
    int n = dtls13_seal(&k, 3, seq, want_type, data, len, rec, sizeof(rec));
    size_t used;
    uint64_t got_seq = 0;
    uint8_t type = 0;
    if (n != (int)(len + DTLS13_OVERHEAD) ||
        dtls13_open(&k, rec, (size_t)n, next, &used, &got_seq, &type, back, sizeof(back)) !=
            (int)len ||
        used != (size_t)n || got_seq != seq || type != want_type || memcmp(back, data, len) != 0)
        abort();
    n = dtls_record_seal(&w, want_type, data, len, rec, sizeof(rec));
    dtls_record_free(&r);
    dtls_record_reset(&r, &keys[0], &cnt[0], false);
    if (dtls_record_set_keys13(&r, (enum dtls_suite)k.suite, k.key, k.iv, k.sn, k.key, k.iv,
                               k.sn) != 0)
        abort();
    if (n != (int)(len + DTLS13_OVERHEAD) ||
        dtls_record_open(&r, rec, (size_t)n, &used, &type, back, sizeof(back)) != (int)len ||
        type != want_type || memcmp(back, data, len) != 0)
        abort();
    dtls_record_free(&r);
    dtls_record_free(&w);
    return 0;
}
