/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a DTLS server endpoint fed arbitrary datagrams (split at
 * 0xff bytes into several), then its timers run; it must fail or wait,
 * never crash, and only ever queue datagrams within the MTU. */
#include <stdint.h>
#include <string.h>

#include "dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dtls_cert cert;
    static int ready;
    if (!ready) {
        if (dtls_cert_generate(&cert, 3) != 0)
            __builtin_trap();
        ready = 1;
    }
    static struct dtls_endpoint e;
    static const uint8_t id[] = "198.18.0.9:1";
    struct dtls_config cfg = {true, &cert, cert.fingerprint, 5, id, sizeof(id) - 1, 0, 0};
    if (dtls_init(&e, &cfg, 0) != 0)
        __builtin_trap();
    size_t start = 0;
    uint64_t now = 0;
    uint8_t out[DTLS_MTU];
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == 0xff) {
            if (i > start)
                dtls_handle_input(&e, data + start, i - start, now);
            start = i + 1;
            now += 1000000;
            int n;
            while ((n = dtls_poll_transmit(&e, out, sizeof(out))) > 0)
                if (n > DTLS_MTU)
                    __builtin_trap();
        }
    }
    dtls_handle_timeout(&e, now + 60000000000ull);
    while (dtls_poll_transmit(&e, out, sizeof(out)) > 0)
        ;
    dtls_free(&e);
    return 0;
}
