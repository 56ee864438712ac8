/* SPDX-License-Identifier: MIT */
/* libFuzzer target: our DTLS record layer's open path on arbitrary
 * datagrams (several records each), for every suite and every AES path the
 * CPU has (the first byte chooses); every refusal must be counted, and a
 * record we seal from the input must open again byte-exact. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_record.h"
#include "dtls_record_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const uint8_t iv[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
    static const enum dtls_suite suites[4] = {DTLS_SUITE_AES_128_GCM, DTLS_SUITE_CHACHA20_POLY1305,
                                              DTLS_SUITE_AES_256_GCM, DTLS_SUITE_AES_128_GCM};
    enum dtls_suite suite = suites[size ? data[0] & 3 : 0];
    int impl = size ? (data[0] >> 2) % AES_IMPL_COUNT : -1;
    if (!aes_impl_supported(impl))
        impl = -1;
    /* each record alone: its own key area and counters */
    static struct dtls_record_keys keys[3];
    struct dtls_record_counters cnt[3] = {{0}};
    struct dtls_record r, a, b;
    for (int i = 0; i < 3; i++)
        dtls_record_keys_clear(&keys[i]);
    dtls_record_reset(&r, &keys[0], &cnt[0], false);
    dtls_record_reset(&a, &keys[1], &cnt[1], true);
    dtls_record_reset(&b, &keys[2], &cnt[2], false);
    if (dtls_record_init_keys_impl(&r, suite, key, iv, key, iv, 0, impl) != 0)
        abort();
    uint8_t out[16384 + 64];
    size_t off = 0;
    uint64_t calls = 0;
    while (off < size) {
        calls++;
        size_t used = 0;
        uint8_t type;
        int n = dtls_record_open(&r, data + off, size - off, &used, &type, out, sizeof(out));
        if (n > (int)sizeof(out) || used == 0 || used > size - off)
            abort();
        off += used;
    }
    const struct dtls_record_counters *c = dtls_record_counters(&r);
    if (c->opened + c->truncated + c->bad_version + c->wrong_epoch + c->replayed + c->too_old + c->bad_auth +
            c->after_close + c->too_big + c->bad_type + c->malformed != calls)
        abort(); /* every record is either opened or counted once as refused */
    /* round trip through a fresh pair with the same keys */
    dtls_record_init_keys_impl(&a, suite, key, iv, key, iv, 5, impl);
    dtls_record_init_keys(&b, suite, key, iv, key, iv, 0);
    size_t len = size > 1200 ? 1200 : size;
    uint8_t rec[1300], back[1300];
    /* the content type from the input too, so authenticated alerts (well
     * formed or not) reach the alert code */
    uint8_t want_type = (uint8_t)(DTLS_CT_CHANGE_CIPHER_SPEC + (size > 1 ? data[1] & 3 : 3));
    int n = dtls_record_seal(&a, want_type, data, len, rec, sizeof(rec));
    size_t used;
    uint8_t type = 0;
    int got = n < 0 ? n : dtls_record_open(&b, rec, (size_t)n, &used, &type, back, sizeof(back));
    bool good_alert = len == 2 && (data[0] == 1 || data[0] == 2);
    if (want_type == DTLS_CT_ALERT && !good_alert) {
        if (got != DTLS_REC_BAD_ALERT || dtls_record_counters(&b)->malformed != 1)
            abort();
    } else if (got != (int)len || type != want_type || memcmp(back, data, len) != 0) {
        abort();
    }
    const struct dtls_record_impl *bi = dtls_crec(&b);
    if (want_type == DTLS_CT_ALERT && good_alert &&
        (bi->peer_closed != (data[1] == 0) || bi->failed != (data[1] != 0 && data[0] == 2)))
        abort();
    dtls_record_free(&r);
    dtls_record_free(&a);
    dtls_record_free(&b);
    return 0;
}
