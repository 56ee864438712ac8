/* SPDX-License-Identifier: MIT */
/* libFuzzer target: our DTLS record layer's open path on arbitrary
 * datagrams (several records each), for both suites; a record we seal from
 * the input must open again byte-exact. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const uint8_t iv[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
    enum dtls_suite suite = size && (data[0] & 1) ? DTLS_SUITE_CHACHA20_POLY1305 : DTLS_SUITE_AES_128_GCM;
    struct dtls_record r;
    if (dtls_record_init_keys(&r, suite, key, iv, key, iv, 0) != 0)
        abort();
    uint8_t out[16384 + 64];
    size_t off = 0;
    while (off < size) {
        size_t used = 0;
        uint8_t type;
        int n = dtls_record_open(&r, data + off, size - off, &used, &type, out, sizeof(out));
        if (n > (int)sizeof(out) || used == 0 || used > size - off)
            abort();
        off += used;
    }
    /* round trip through a fresh pair with the same keys */
    struct dtls_record a, b;
    dtls_record_init_keys(&a, suite, key, iv, key, iv, 5);
    dtls_record_init_keys(&b, suite, key, iv, key, iv, 0);
    size_t len = size > 1200 ? 1200 : size;
    uint8_t rec[1300], back[1300];
    int n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, data, len, rec, sizeof(rec));
    size_t used;
    uint8_t type;
    if (n < 0 || dtls_record_open(&b, rec, (size_t)n, &used, &type, back, sizeof(back)) != (int)len ||
        memcmp(back, data, len) != 0)
        abort();
    dtls_record_free(&r);
    dtls_record_free(&a);
    dtls_record_free(&b);
    return 0;
}
