/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the WHIP server's reading of a request head
 * (ctl_signal_parse_head: request line, headers, Content-Length, route) on
 * arbitrary bytes, in a buffer of exactly their size plus the terminator
 * the server keeps, so that a read past them is ASan's to catch. Every
 * refusal is one of the statuses the server answers, with a reason on one
 * line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    const char *why = NULL;
    int st = ctl_signal_parse_head(in, size, &why);
    if (st > 0) {
        if (st != 400 && st != 404 && st != 411 && st != 413)
            __builtin_trap();
        if (!why || !*why || strchr(why, '\n'))
            __builtin_trap(); /* a refusal says why, on one line */
    } else if (st != 0 && st != -1) {
        __builtin_trap();
    }
    free(in);
    return 0;
}
